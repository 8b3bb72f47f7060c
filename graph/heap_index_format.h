/* The heap index's file format, shared by its writer and loader
 * (graph/heap_index.c) and its checks (graph/heap_index_check.c): the
 * header's words, the payload's sections in file order, their sizes from
 * the header's counts, the checksum, and the check of a mapped file.
 * Private to those two files. */
#ifndef CH_HEAP_INDEX_FORMAT_H
#define CH_HEAP_INDEX_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/heap_index.h"

/* Native byte order and sizes (the tool runs on x86_64 only); bump
 * CH_INDEX_VERSION whenever the layout or the meaning of a field changes:
 * an old index is then stale, never misread. Format 5 added the address
 * table (H_SLOTS, S_SLOTS), the GC replay's state (S_REPLAY) and the
 * dominator tree (H_DOMS..H_BASE_SUM, S_IDOM, S_ORDER); format 6 the memory
 * figures (H_MEM, H_MEM_OWNED, S_MEM, S_OWNED: graph/memory_brief.h);
 * format 7 the rest of the memory figures a snapshot keeps and `diff`
 * compares (more words in S_MEM, a pymalloc flag); format 8 sizes and
 * refcounts in 32 bits, the values that do not fit kept apart (H_WIDE,
 * S_WIDE: graph/wide_values.h), and a fuller address table, tagged;
 * format 9 the roots (H_ROOTS, H_NROOTS, S_ROOTS, S_ROOT_SET) and the
 * shortest-path search from them (H_PATHS..H_PATH_ROOTS, S_PARENT, S_VIA,
 * S_RANK: graph/paths.h), once computed; format 10 a checksum per section
 * (struct header's sums) in place of one over the whole payload, so that a
 * command verifies only the sections it uses; format 11 the sums of every
 * section's blocks (S_BLOCKS), so that a command verifies a block of a big
 * section only when it first reads it (graph/heap_index_lazy.h); format
 * 12 every object's retained bytes and count beside the tree (S_RETAINED,
 * S_RETCOUNT) and the tree's reachable and unreachable bytes (H_DOM_BYTES,
 * H_DOM_UNBYTES), so that a command takes them as they are instead of
 * summing them up the tree again; format 13 the counts of the conservative
 * scan of `anomalies` (H_SCAN, H_SCAN_INPUTS, S_MAYBE: ch_roots_scan_memory),
 * once computed, so that a later run skips the scan; format 14 the
 * retainers by type beside the tree (H_TYPEROWS, S_TYPEROWS: struct
 * ch_heap_index_typerow), so that `top --by type`, `snapshot` and `report`
 * take them as they are instead of walking the whole tree again; format 15
 * the tree's flame graph (graph/flame.h) beside it (H_FLAME..H_FLAME_NROOTS,
 * S_FLNAMES, S_FLFRAMES: struct ch_heap_index_flame_name and _frame), so
 * that `top --format folded` and `report` take it instead of walking the
 * whole tree and search again. */
#define CH_INDEX_MAGIC "CHINDEX\0"
#define CH_INDEX_VERSION 15u

/* H_SLOTS: slots of the address table (readers/base/index_hash.h), as the
 * build left it: 0 for no objects, else a power of two at most 4/5 full
 * (format 8: each slot's tag bits above index+1). H_DOMS: objects the
 * stored idom covers (0: no tree, else H_OBJECTS); H_DOM_REACH: length of the stored preorder; H_DOM_ROOTS: hash of the
 * root set the tree was built from; H_DOM_BYTES, H_DOM_UNBYTES: the bytes
 * of the objects in the tree and of the others (struct ch_dominators'
 * reachable_bytes and unreachable_bytes), 0 without a tree.
 * H_MEM: 1 when the memory figures are kept (0: not yet); H_MEM_OWNED:
 * their owned chunks. H_WIDE: the sizes and refcounts marked wide in
 * their columns (struct ch_wide_rec each). H_ROOTS: 1 when the roots
 * are kept (0: not yet), H_NROOTS: how many (struct ch_heap_index_root each, in
 * priority order, and the root set's object per root). H_PATHS: objects
 * the stored search covers (0: none, else H_OBJECTS); H_PATH_REACH: the
 * objects it reached; H_PATH_ROOTS: the hash of the root set and tiers it
 * started from (ch_heap_index_paths_hash). H_SCAN: objects the stored
 * scan counts cover (0: none, else H_OBJECTS); H_SCAN_INPUTS: the hash of
 * what the scan added to (ch_roots_scan_inputs), 0 without counts.
 * H_TYPEROWS: the retainers-by-type rows stored with the tree (one per
 * type with an object in it; 0 without a tree: a tree always has its
 * rows, so no flag says whether they are there). H_FLAME: 1 when the
 * tree's flame graph is kept (0: not yet; only with the tree and the
 * search, as it is built from both, and dropped whenever either is
 * replaced); H_FLAME_NAMES, H_FLAME_FRAMES: its names and frames;
 * H_FLAME_ROOTS: the hash of the root set and tiers of the search it was
 * built from (ch_heap_index_paths_hash), H_FLAME_NROOTS: how many roots
 * that set had (a name's root is below it). */
enum { H_KEY = 0, H_OBJECTS = 4, H_EDGES, H_TYPES, H_XOBJECTS, H_XTYPES, H_NAMES, H_MESSAGES, H_STRINGS,
       H_LISTS, H_DANGLING = H_LISTS + 4, H_UNDUMPED, H_UNREADABLE, H_DROPPED, H_LOST, H_FLAGS, H_INTERPS, H_SLOTS,
       H_DOMS, H_DOM_REACH, H_DOM_ROOTS, H_MEM, H_MEM_OWNED, H_WIDE,
       H_ROOTS, H_NROOTS, H_PATHS, H_PATH_REACH, H_PATH_ROOTS, H_DOM_BYTES, H_DOM_UNBYTES, H_SCAN, H_SCAN_INPUTS, H_TYPEROWS,
       H_FLAME, H_FLAME_NAMES, H_FLAME_FRAMES, H_FLAME_ROOTS, H_FLAME_NROOTS, H_PAYLOAD, H_CHECKSUM, H_WORDS };

#define H_FLAG_PARTIAL 1u

/* The tree's (with the retained sizes: S_RETAINED, one uint64_t per
 * object, S_RETCOUNT, one uint32_t, the retainers by type: S_TYPEROWS,
 * H_TYPEROWS records, and its flame graph: S_FLNAMES, S_FLFRAMES), the memory figures', the roots' and
 * the paths' sections and the scan's counts (S_MAYBE, one uint32_t per
 * object) come last (S_BASE: the count before them), so that adding any of them
 * copies the rest as it is. S_BLOCKS, last of all: the checksum of every
 * block (CH_INDEX_BLOCK) of every section before it, section by section
 * in file order, each section's blocks in order (one uint64_t each); it is
 * covered by its own sum in the header, and each section's sum is the fold
 * of its blocks' (ch_heap_index_fold), so a block is verified on its own. */
enum { S_ADDR, S_SIZE, S_REFCNT, S_TYPE, S_GEN, S_FLAGS, S_INTERP, S_OFFSETS, S_TARGETS, S_LABELS, S_TYPES, S_XOBJECTS,
       S_XTYPES, S_NAMES, S_MESSAGES, S_STRINGS, S_REPLAY, S_SLOTS, S_WIDE, S_BASE, S_IDOM = S_BASE, S_ORDER,
       S_RETAINED, S_RETCOUNT, S_TYPEROWS, S_FLNAMES, S_FLFRAMES, S_MEM, S_OWNED,
       S_ROOTS, S_ROOT_SET, S_PARENT, S_VIA, S_RANK, S_MAYBE, S_BLOCKS, S_COUNT };

/* H_CHECKSUM covers the header's words before it and sums; sums[s] is
 * section s's checksum (ch_heap_index_section_sum), so that each section
 * is verified on its own, when a command uses it. */
struct header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t w[H_WORDS];
	uint64_t sums[S_COUNT];
};

/* One exactness row as stored. */
struct xtype_rec {
	uint32_t type;
	uint32_t reason; /* offset into the strings */
	uint64_t objects;
};

/* One root as stored: struct ch_heap_index_root (graph/heap_index.h). */
_Static_assert(sizeof(struct ch_heap_index_root) == 24, "a root is stored as it is");

/* The payload's sections in file order; both the writer and the loader
 * walk this list, so they cannot disagree about the layout. */
struct section {
	void *data;   /* writer: source; loader: where it lies in the map */
	size_t bytes; /* unpadded */
};



static inline size_t ch_heap_index_pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Writes len bytes at data to fd at its current offset, padded with
 * zeros to a multiple of 8; false on a failed write (errno says why). */
bool ch_heap_index_write_all(int fd, const void *data, size_t len);

/* A new file beside path, to be renamed over it (*tmp, malloc'd, its
 * name; *out open for writing): an index is never written in place. */
struct ch_error *ch_heap_index_tmp_create(const char *path, char **tmp, int *out);

/* Closes out and renames tmp over path when all was written (ok), else
 * removes it; frees tmp. */
struct ch_error *ch_heap_index_tmp_finish(const char *path, char *tmp, int out, bool ok);

/* Section sizes from the header counts; false when they overflow. */
bool ch_heap_index_section_sizes(const uint64_t *w, size_t *bytes);

/* A section's checksum is summed by blocks of CH_INDEX_BLOCK bytes (the
 * last one shorter), each block's sum folded into the section's in order:
 * so two threads can each sum some of the blocks and agree with a writer
 * that sums them one after the other. */
#define CH_INDEX_BLOCK ((size_t)1 << 20)

/* The checksum of section s (len bytes at data, unpadded). */
uint64_t ch_heap_index_section_sum(int s, const void *data, size_t len);

/* The number of blocks of a section of len bytes. */
static inline size_t ch_heap_index_nblocks(size_t len)
{
	return (len + CH_INDEX_BLOCK - 1) / CH_INDEX_BLOCK;
}

/* The length of block k of a section of len bytes (the last may be short). */
static inline size_t ch_heap_index_block_len(size_t len, size_t k)
{
	size_t off = k * CH_INDEX_BLOCK;
	return len - off < CH_INDEX_BLOCK ? len - off : CH_INDEX_BLOCK;
}

/* The checksum of one block (len bytes at data, at most CH_INDEX_BLOCK). */
uint64_t ch_heap_index_block_sum(const void *data, size_t len);

/* Section s's checksum (len bytes) from its blocks' sums, in order. */
uint64_t ch_heap_index_fold(int s, size_t len, const uint64_t *blocks);

/* Fills the block table (bytes[S_BLOCKS] / 8 entries) from the sections
 * at data[s] (s < S_BLOCKS) and sets sums[s] for every section, S_BLOCKS
 * included. from: the sections below it take their blocks' sums from
 * old_table (laid out for old_bytes) instead of summing their data. */
void ch_heap_index_sum_all(const void *const *data, const size_t *bytes, int from, const uint64_t *old_table,
			   const size_t *old_bytes, uint64_t *table, uint64_t *sums);

/* The range checks of elements lo..hi of section s (its entries against
 * the header's counts; sec: where every section lies), as a load makes
 * them: nonzero when one fails. count gets what they count (filled slots,
 * wide marks, reached objects) for the checks over a whole section. */
uint32_t ch_heap_index_block_check(const uint64_t *w, const struct section *sec, int s, size_t lo, size_t hi,
				   uint64_t *count);

/* The element size of the sections range-checked by elements (0: none). */
size_t ch_heap_index_block_elem(int s);

/* The header's own checksum (H_CHECKSUM) over its words and section sums. */
uint64_t ch_heap_index_header_sum(const struct header *h);

/* The sections each CH_NEED_* (graph/heap_index.h) stands for, as a mask
 * of CH_SEC(S_*); the small sections (type table, names, strings, warnings,
 * exactness rows, memory figures, roots) are in every mask. */
uint64_t ch_heap_index_need_sections(uint32_t needs);

/* A set of sections as a mask (1 << S_*): 64 bits, S_COUNT being more
 * than 32 since format 14. */
#define CH_SEC(s) ((uint64_t)1 << (s))
_Static_assert(S_COUNT <= 64, "a mask of sections fits 64 bits");

/* The range checks of the stored retainers by type (S_TYPEROWS, n rows,
 * against the header's counts w): NULL when they pass, else what is
 * wrong. Rows in increasing type order (so no type twice), each type in
 * the type table, each with 1 to H_DOM_REACH objects whose shallow bytes
 * are at most what the row retains, which is at most the tree's bytes
 * (H_DOM_BYTES: no two topmost objects of a type overlap), and its
 * retained objects from its objects to the tree's; the objects of all
 * rows are the tree's (H_DOM_REACH), their shallow bytes its bytes. So a
 * row is never what no tree could give, whatever reads it. */
const char *ch_heap_index_typerows_check(const uint64_t *w, const struct ch_heap_index_typerow *rows, uint64_t n);

/* The range checks of the stored flame graph (graph/heap_index_flame.c:
 * H_FLAME_NAMES names, H_FLAME_FRAMES frames, against the header's counts
 * w): NULL when they pass, else what is wrong. Each name's edge an edge
 * or none, its root one of the H_FLAME_NROOTS roots or none (a root's name
 * has no edge and no star), its type in the type table, its star 0 or 1;
 * each frame's parent an earlier frame or the top, its depth its
 * parent's plus 1 (1 under the top) and at most CH_FLAME_MAX_DEPTH, its
 * name a name, at least one object; each frame's total its self bytes
 * plus its children's totals (summed again here, bottom-up), the frames'
 * self bytes and objects those of the tree (H_DOM_BYTES, H_DOM_REACH), as
 * are the top frames' totals. So whatever renders a frame (the folded
 * lines, the icicle, a name's label through its edge) reads in range and
 * no frame is what no tree could give. */
const char *ch_heap_index_flame_check(const uint64_t *w, const struct ch_heap_index_flame_name *names,
				      const struct ch_heap_index_flame_frame *frames);

/* The header and payload of an index in memory, checked: the outcome is
 * LOADED when the header is sound, key (when given) matches and every
 * section in the mask want (1 << S_*) passes its checksum and range checks;
 * those sections are then set, the others left NULL, so that a use of a
 * section nobody asked for crashes instead of reading unverified bytes.
 * check_sum false skips the checksums (fuzzing only: it lets mutants
 * reach the structural checks). */
/* lazy (a mask of sections, only those of CH_INDEX_LAZY_SECTIONS) are
 * set but not verified here: the caller verifies their blocks as they are
 * read (graph/heap_index_lazy.h), and the checks over a whole section
 * (counts) are left out for them. */
enum ch_heap_index_outcome ch_heap_index_verify(const void *data, size_t size, const struct ch_heap_index_key *key,
						bool check_sum, uint64_t want, uint64_t lazy, struct section *sec,
						char *why, size_t why_len);

/* The sections a command may verify block by block as it reads them: the
 * per-object and per-edge columns and the big stored results (the scan's
 * counts: so that top and summary, which never read them, do not pay for
 * them; anomalies verifies them at the load). */
#define CH_INDEX_LAZY_SECTIONS                                                                                        \
	(CH_SEC(S_ADDR) | CH_SEC(S_SIZE) | CH_SEC(S_REFCNT) | CH_SEC(S_TYPE) | CH_SEC(S_GEN) | CH_SEC(S_FLAGS) |       \
	 CH_SEC(S_INTERP) | CH_SEC(S_OFFSETS) | CH_SEC(S_TARGETS) | CH_SEC(S_LABELS) | CH_SEC(S_REPLAY) |              \
	 CH_SEC(S_SLOTS) | CH_SEC(S_IDOM) | CH_SEC(S_ORDER) | CH_SEC(S_PARENT) | CH_SEC(S_VIA) | CH_SEC(S_RANK) |       \
	 CH_SEC(S_MAYBE))

/* Starts reading the index mapped at map (len bytes of the file fd, the
 * header w already checked and its other sections verified) lazily: the
 * sections of lazy (1 << S_*, within CH_INDEX_LAZY_SECTIONS) verified
 * block by block on first read (graph/heap_index_lazy.h). false (why says why) when it cannot, or
 * when a block it verifies at once fails. */
bool ch_index_lazy_start(void *map, size_t len, int fd, const uint64_t *w, uint64_t lazy, char *why, size_t why_len);

/* The lazily read map's hold, kept until the process ends (a fault may
 * come at any time before). */
struct ch_shared_map;
void ch_index_lazy_keep(struct ch_shared_map *m);

/* Whether an index can be read lazily now: none is yet in this process,
 * and a hook is set that can restart the command if a block fails. */
bool ch_index_lazy_available(void);

#endif
