/* The index file: the object table and the edges of an analysed heap,
 * written once so that later commands on the same core load them instead
 * of walking the whole heap again (Eclipse MAT keeps its parse in index
 * files the same way).
 *
 * An index is input like a core: a stale one (another core, another
 * coreheap, other files used to read it), a damaged one (checksum, counts,
 * indexes out of range) or a foreign one is refused with the reason and
 * the heap is built from the core as if there were none. The caller owns
 * the key: whatever could change the analysis must be hashed into it.
 *
 * The warnings the build left in the runtime's diagnostics (and whether it
 * made the result partial, and reads past a truncated core's cut) are
 * stored too and replayed on load, so a loaded heap is reported exactly
 * as the build reported it. */
#ifndef CH_HEAP_INDEX_H
#define CH_HEAP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"
#include "graph/heap.h"
#include "graph/memory_brief.h"
#include "readers/base/error.h"

/* What the caller hashes: the core's identity, the coreheap binary, the
 * files and options the reading used. Equal keys mean "same analysis". */
struct ch_heap_index_key {
	uint64_t v[4];
};

/* The runtime's diagnostics before the build, to tell the build's own
 * warnings from those of opening the core. */
struct ch_heap_index_mark {
	size_t messages, dropped, lost_reads;
	bool partial;
};

void ch_heap_index_mark_take(const struct ch_python *py, struct ch_heap_index_mark *m);

struct ch_gc_replay;

/* Writes heap and edges (built after mark was taken) and the GC replay
 * over them to path, through a temporary file in the same directory
 * renamed into place: a reader never sees half an index. */
struct ch_error *ch_heap_index_write(const char *path, const struct ch_heap_index_key *key,
				     const struct ch_heap *heap, const struct ch_edges *edges,
				     const struct ch_gc_replay *replay, const struct ch_heap_index_mark *mark);

/* The dominator tree an index holds (format 5; graph/dominators.h): each
 * object's immediate dominator and the reachable objects in DFS preorder,
 * and (format 12) each object's retained bytes and count and the tree's
 * reachable and unreachable bytes, and (format 14) its retainers by type
 * and (format 15) its flame graph, pointing into the mapped file (backing
 * holds it). The load has checked every entry's range (a retained count
 * of 1 to nobjects and retained bytes at least the object's size in the
 * tree, 0 and 0 off it); whether they form a tree is checked where the
 * tree is walked (ch_dominators_from_tree). roots is the hash of the root
 * set it was built from (ch_heap_index_roots_hash): a tree is only used
 * for the same roots. idom NULL: the index holds no tree. */
/* One retainers-by-type row as the index keeps it (format 14; struct
 * ch_top_type of graph/top.h, its padding a zero word so that two writes
 * of the same rows are the same bytes). */
struct ch_heap_index_typerow {
	uint32_t type, pad;
	uint64_t objects, shallow, retained, retained_objects;
};

/* The tree's flame graph as the index keeps it (format 15; struct
 * ch_flame_name and ch_flame_frame of graph/flame.h without their hash
 * keys, which only the build's lookups use; padding zero words so that
 * two writes of the same flame are the same bytes). */
struct ch_heap_index_flame_name {
	uint32_t edge, root, type; /* UINT32_MAX: no edge, no root */
	uint8_t star, pad[3];
};

struct ch_heap_index_flame_frame {
	uint32_t parent, name, depth, pad; /* parent: an earlier frame, or CH_FLAME_TOP */
	uint64_t self, total, objects;
};

struct ch_heap_index_doms {
	const uint32_t *idom, *order;
	const uint64_t *retained;
	const uint32_t *retained_count;
	/* The retainers by type of this tree (format 14): every row of
	 * ch_top_types before its sort, in type order, their ranges checked by
	 * the load (ch_heap_index_typerows_check); there with every tree. */
	const struct ch_heap_index_typerow *typerows;
	size_t ntyperows;
	/* This tree's flame graph (format 15), when kept (flame): its names
	 * and frames, their ranges checked by the load
	 * (ch_heap_index_flame_check); built over the search from the root set
	 * and tiers hashed as flame_roots (ch_heap_index_paths_hash), of
	 * flame_nroots roots. */
	bool flame;
	const struct ch_heap_index_flame_name *flame_names;
	const struct ch_heap_index_flame_frame *flame_frames;
	size_t flame_nnames, flame_nframes, flame_nroots;
	uint64_t flame_roots;
	size_t nobjects, nreach;
	uint64_t reachable_bytes, unreachable_bytes;
	uint64_t roots;
	struct ch_shared_map *backing;
};

/* The memory figures an index holds (format 6; graph/memory_brief.h),
 * their owned chunks pointing into the mapped file (backing holds it).
 * The load has checked their flags and the owned chunks' types. */
struct ch_heap_index_mem {
	bool have;
	struct ch_memory_brief b;
	struct ch_shared_map *backing;
};

/* One root as the index keeps it (graph/roots.h, struct ch_root, packed
 * without padding so that two writes of the same roots are the same bytes). */
struct ch_heap_index_root {
	uint32_t object, name, frame;
	uint8_t kind, pad[3];
	uint64_t where;
};

/* The roots an index holds (format 9): the roots in priority order and the
 * root set's object of each (graph/root_set.h: the root's object, or
 * CH_NO_OBJECT when left out), pointing into the mapped file (backing
 * holds it). The load has checked every object, name and kind's range, the
 * kinds' order and that each set entry is its root's object or none; the
 * frame and thread indexes are checked against the frames read again
 * where they are used (ch_roots_find). have false: none kept. */
struct ch_heap_index_roots {
	bool have;
	const struct ch_heap_index_root *recs;
	const uint32_t *set;
	size_t n;
	struct ch_shared_map *backing;
};

/* The shortest-path search an index holds (format 9; graph/paths.h): each
 * object's parent, edge (or root) and breadth-first rank, pointing into
 * the mapped file (backing holds it). The load has checked every entry's
 * range; whether they form the search's tree (each parent ranked before
 * its child, each edge from the parent to the child) is checked where it
 * is used (ch_paths_from_stored). roots: ch_heap_index_paths_hash of the
 * root set the search started from. parent NULL: none kept. */
struct ch_heap_index_paths {
	const uint32_t *parent, *via, *rank;
	size_t nobjects, nreached;
	uint64_t roots;
	struct ch_shared_map *backing;
};

/* The counts of the conservative scan an index holds (format 13;
 * graph/roots.h, ch_roots_scan_memory): every object's `maybe` count after
 * the scan, pointing into the mapped file (backing holds it). Any count is
 * valid; the load has checked the section's size and checksum. inputs:
 * the hash of what the scan added to (ch_roots_scan_inputs): the counts
 * are only used for the same. maybe NULL: none kept. */
struct ch_heap_index_scan {
	const uint32_t *maybe;
	size_t nobjects;
	uint64_t inputs;
	struct ch_shared_map *backing;
};

/* An analysis' tie to the index its heap came from or went to: where a
 * dominator tree, the memory figures, the roots or the paths computed
 * later are added (path empty: no index). */
struct ch_heap_index_ref {
	char path[4096];
	struct ch_heap_index_key key;
	size_t nobjects, nedges;       /* the heap the index holds */
	struct ch_heap_index_doms doms; /* the stored tree, if any */
	bool added;                     /* this process already tried to add a tree */
	bool flame_added;               /* ... or a flame graph */
	bool holds_tree;                /* the file holds the tree this process used */
	struct ch_heap_index_mem mem;   /* the stored memory figures, if any */
	bool mem_added;                 /* this process already tried to add them */
	struct ch_heap_index_roots roots; /* the stored roots, if any */
	struct ch_heap_index_paths paths; /* the stored shortest-path search, if any */
	bool paths_added;                 /* this process already tried to add the paths (and roots) */
	bool paths_failed;                /* ... and could not (said in a warning) */
	struct ch_heap_index_scan scan;   /* the stored scan counts, if any */
	bool scan_added;                  /* this process already tried to add them */
	bool scan_failed;                 /* ... and could not (said in a warning) */
	struct ch_heap_index_stage *stage; /* NULL, or the adds are gathered there and written once */
};

void ch_heap_index_ref_deinit(struct ch_heap_index_ref *r);

/* Whether ix (may be NULL) is an index loaded or written for the heap of
 * nobjects objects and nedges edges: what its stored results are for. */
static inline bool ch_heap_index_is_of(const struct ch_heap_index_ref *ix, size_t nobjects, size_t nedges)
{
	return ix && ix->path[0] && ix->nobjects == nobjects && ix->nedges == nedges;
}

/* A staged tail (`coreheap index`): from ch_heap_index_stage_begin on, the
 * ch_heap_index_add_* calls on r check the file and each result as they
 * do without one, but put the sections they add in a spool (an unlinked
 * file beside the index, in the page cache rather than in memory) instead
 * of rewriting the index; ch_heap_index_stage_commit then writes the
 * index once, through a temporary file renamed into place, with every
 * result staged. Until then the file is as it was: a crash leaves it. */
struct ch_heap_index_stage;

/* Starts staging the adds on r (r->stage). */
struct ch_error *ch_heap_index_stage_begin(struct ch_heap_index_ref *r);

/* Writes the index with every result staged (nothing when none was) and
 * ends the staging; on an error the file is as it was and none of the
 * staged results is in it. */
struct ch_error *ch_heap_index_stage_commit(struct ch_heap_index_ref *r);

/* Ends the staging without writing (the staged results are dropped). */
void ch_heap_index_stage_drop(struct ch_heap_index_ref *r);

/* The hash of a root set (n object indexes, in order) a tree is keyed by. */
uint64_t ch_heap_index_roots_hash(const uint32_t *roots, size_t n);

struct ch_dominators;
/* Rewrites the index at r->path with the dominator tree d (idom over every
 * object, order the reachable objects in preorder, the retained sizes and
 * counts, the reachable and unreachable bytes) and its retainers by type
 * (nrows rows, in type order) in place of the ones it held, if any: the
 * rest is copied as it is, through a temporary file renamed into place.
 * The file must still be the index of r (same key and counts); otherwise
 * nothing is written and an error says why. */
struct ch_error *ch_heap_index_add_dominators(const struct ch_heap_index_ref *r, uint64_t roots_hash,
					      const struct ch_dominators *d, const struct ch_heap_index_typerow *rows,
					      size_t nrows);

/* Rewrites the index at r->path with the flame graph of its tree (nnames
 * names and nframes frames as the index keeps them, built over the tree
 * of the root set hashed as dom_roots and the search of the root set and
 * tiers hashed as path_roots, nroots roots) in place of the one it held,
 * as ch_heap_index_add_dominators does. The file must hold that tree and
 * that search (a flame is kept only beside what it was built from, and
 * dropped whenever either is replaced); otherwise nothing is written and
 * an error says why. */
struct ch_error *ch_heap_index_add_flame(const struct ch_heap_index_ref *r, uint64_t dom_roots, uint64_t path_roots,
					 size_t nroots, const struct ch_heap_index_flame_name *names, size_t nnames,
					 const struct ch_heap_index_flame_frame *frames, size_t nframes);

/* The hash of a root set and its tiers (graph/root_set.h) a stored
 * shortest-path search is keyed by. */
uint64_t ch_heap_index_paths_hash(const uint32_t *roots, const uint8_t *tiers, size_t n);

/* Rewrites the index at r->path with the shortest-path search (parent,
 * via and rank over every object, nreached of them reached, from the root
 * set hashed as roots_hash) and, when recs is not NULL, the roots (nroots
 * records and the root set's object of each), in place of those it held,
 * as ch_heap_index_add_dominators does. parent NULL: the roots alone,
 * the search it held kept. */
struct ch_error *ch_heap_index_add_paths(const struct ch_heap_index_ref *r, const struct ch_heap_index_root *recs,
					 const uint32_t *set, size_t nroots, uint64_t roots_hash, const uint32_t *parent,
					 const uint32_t *via, const uint32_t *rank, size_t nreached);

/* Rewrites the index at r->path with the scan's counts (maybe, one per
 * object, after a scan that added to what inputs hashes) in place of
 * those it held, if any, as ch_heap_index_add_dominators does. */
struct ch_error *ch_heap_index_add_scan(const struct ch_heap_index_ref *r, uint64_t inputs, const uint32_t *maybe);

/* Rewrites the index at r->path with the memory figures mem in place of
 * those it held, if any, as ch_heap_index_add_dominators does. */
struct ch_error *ch_heap_index_add_memory(const struct ch_heap_index_ref *r, const struct ch_memory_brief *mem);

enum ch_heap_index_outcome {
	CH_HEAP_INDEX_LOADED,
	CH_HEAP_INDEX_ABSENT,  /* no file at path */
	CH_HEAP_INDEX_STALE,   /* a sound index of something else (why says what) */
	CH_HEAP_INDEX_DAMAGED, /* not a sound index (why says what) */
};

/* What a command uses of a loaded heap (struct ch_cli_command's
 * index_needs): the columns, the stored results and the pipeline's
 * stages. A load verifies only the sections these need and leaves the
 * other columns NULL (a use nobody declared crashes, in tests, instead of
 * reading bytes nobody checked). 0 or CH_NEED_ALL: everything. */
enum ch_index_need {
	CH_NEED_ADDR = 1u << 0,    /* addresses and the address table (ch_objects_find) */
	CH_NEED_SIZES = 1u << 1,   /* sizes and refcounts, their wide values */
	CH_NEED_TYPE = 1u << 2,
	CH_NEED_GEN = 1u << 3,
	CH_NEED_FLAGS = 1u << 4,
	CH_NEED_INTERP = 1u << 5,
	CH_NEED_OFFSETS = 1u << 6, /* the edges' offsets per object */
	CH_NEED_TARGETS = 1u << 7,
	CH_NEED_LABELS = 1u << 8,
	CH_NEED_REPLAY = 1u << 9,  /* stage: the GC replay (its stored state) */
	CH_NEED_CYCLES = 1u << 10, /* stage: the cycle groups */
	CH_NEED_DOMS = 1u << 11,   /* the stored dominator tree */
	CH_NEED_PATHS = 1u << 12,  /* the stored roots and shortest-path search: without them, everything */
	CH_NEED_MEM = 1u << 13,    /* the stored memory figures: without them, everything */
	CH_NEED_SCAN = 1u << 14,   /* the stored counts of the conservative scan */
	CH_NEED_ALL = (1u << 15) - 1,
	/* Not a use: the big sections verified block by block as they are
	 * first read, not at the load (graph/heap_index_lazy.h): for a
	 * command that reads a small part of them and keeps its report until
	 * it ends (a failed block restarts it from the core). */
	CH_NEED_LAZY = 1u << 15,
	/* Not a use: the caller looks no address up once the pipeline has
	 * run (cycles), so the address table the GC replay borrows as scratch
	 * is not filled again (graph/object_table.h: an unsettled table). */
	CH_NEED_NO_LOOKUP = 1u << 16,
	/* Not a use: the GC replay allocates its scratch instead of borrowing
	 * the address table, which then needs no filling again: for a
	 * command that looks addresses up after it and whose memory peak
	 * comes later (top: the dominator tree). */
	CH_NEED_OWN_SCRATCH = 1u << 17,
};

/* Loads the index at path into heap and edges (for py, whose type table it
 * extends exactly as the build did) when its key equals key; *replay is
 * then the stored GC replay state (ch_gc_replay_from_state; it lies in the
 * mapped file, valid as long as heap), and its dominator tree, if it holds
 * one, goes into doms (may be NULL; released with ch_heap_index_ref_deinit
 * or ch_shared_map_release), its memory figures into mem, its roots into
 * roots, its shortest-path search into paths and its scan counts into scan
 * (may be NULL) likewise. Anything but LOADED leaves heap, edges and
 * doms empty, *replay NULL, and explains itself in why. A failure to
 * allocate is an error; everything wrong with the file is an outcome. */
/* *needs (CH_NEED_*) says what the caller uses: only those sections are
 * verified (with CH_NEED_LAZY, those of eager at the load and the others
 * as they are read: graph/heap_index_lazy.h) and set (*replay NULL, doms, paths and scan empty when not needed);
 * a load widens it to CH_NEED_ALL when a stored result it asks for is not
 * in the file (the command then computes it from everything). */
struct ch_error *ch_heap_index_load(const char *path, const struct ch_heap_index_key *key, struct ch_python *py,
				    uint32_t *needs, uint32_t eager, struct ch_heap *heap, struct ch_edges *edges, const uint8_t **replay,
				    struct ch_heap_index_doms *doms, struct ch_heap_index_mem *mem,
				    struct ch_heap_index_roots *roots, struct ch_heap_index_paths *paths,
				    struct ch_heap_index_scan *scan, enum ch_heap_index_outcome *outcome, char *why,
				    size_t why_len);

/* The checks a load makes before it uses anything, on an index in memory
 * (no runtime needed): LOADED means sound (the sections needs, CH_NEED_*,
 * asks for; 0: all), and its key equals key when key is given. check_sum
 * false skips the checksums, for fuzzing only (mutants then reach the
 * structural checks). doms (may be NULL) receives the
 * stored dominator tree of a LOADED index, pointing into data (backing
 * NULL), to check as ch_dominators_from_tree would; mem (may be NULL)
 * its memory figures, pointing into data; roots, paths and scan (may be
 * NULL) likewise. */
enum ch_heap_index_outcome ch_heap_index_check(const void *data, size_t size, const struct ch_heap_index_key *key,
					       bool check_sum, uint32_t needs, struct ch_heap_index_doms *doms,
					       struct ch_heap_index_mem *mem, struct ch_heap_index_roots *roots,
					       struct ch_heap_index_paths *paths, struct ch_heap_index_scan *scan, char *why,
					       size_t why_len);

/* A 64-bit hash of bytes, chained through seed (the key's building block). */
uint64_t ch_heap_index_hash(uint64_t seed, const void *data, size_t len);

#endif
