/* Layer readers/allocators: the C allocator's heap in a core, as glibc's
 * malloc left it. Finds libc among the process's modules, takes the layout
 * of malloc's own structures (malloc_state, malloc_par, heap_info,
 * tcache_perthread_struct, malloc_chunk) from libc's DWARF (libc6-dbg,
 * found by build-id like the interpreter's debug file), walks the main
 * arena and every thread arena (their heaps through heap_info), every chunk
 * of them, the bins, fastbins and each thread's tcache, finds the mmapped
 * chunks, and computes mallinfo2() the way glibc does (int_mallinfo over
 * the arena ring), so the figures compare one to one with the process's own.
 * Without the debug file, a built-in table generated from it
 * (glibc_table.h) serves the same libc build, matched by build-id. With
 * neither, a table of another build of the same glibc version gives the
 * layouts and main_arena, mp_ and the tcache slot are found by their shape
 * in libc's data, verified by a chunk walk (glibc_scan.c).
 * The environment variable CH_GLIBC_SOURCE (tests, and checking the
 * fallbacks against a core whose libc does have debug info) skips the
 * debug file ("table") or the debug file and the build-id table ("scan").
 * Does not: know that the process ran Python (pymalloc lives in
 * readers/cpython), decide what a chunk is for, or guess a layout: with
 * no debug file and no table of that glibc version it says so and reports
 * nothing of glibc.
 * Invariant: every list and chunk walk is bounded and loop-checked
 * (readers/base/chain.h); damage (a chunk header that leaves its heap, a
 * bin that loops or points outside the arena) stops that walk, is recorded
 * in the caller's struct ch_diag and marks the result partial, never hangs
 * or guesses. Includes only readers/base and readers/process. */
#ifndef CH_GLIBC_MALLOC_H
#define CH_GLIBC_MALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/diag.h"
#include "readers/base/error.h"
#include "readers/process/process.h"

/* What the walk made of one chunk. A chunk glibc marks in use may still be
 * free for the program: tcache entries and (before 2.43) fastbin chunks. */
enum ch_glibc_chunk_kind {
	CH_CHUNK_IN_USE,   /* allocated by the program (or by libc: its tcache struct) */
	CH_CHUNK_TCACHE,   /* in a thread's tcache */
	CH_CHUNK_FASTBIN,  /* in a fastbin */
	CH_CHUNK_UNSORTED, /* in bin 1 */
	CH_CHUNK_SMALL,    /* in bins 2-63 */
	CH_CHUNK_LARGE,    /* in bins 64-126 */
	CH_CHUNK_FREE_UNBINNED, /* free by its neighbour's PREV_INUSE bit but in no bin: corruption */
	CH_CHUNK_FENCEPOST,     /* the 16-byte chunk closing an old thread heap */
	CH_CHUNK_MMAPPED,  /* its own mapping (no arena) */
	CH_CHUNK_KINDS
};

const char *ch_glibc_chunk_kind_name(enum ch_glibc_chunk_kind k);

/* One chunk: compact, one row per chunk (no per-chunk malloc). */
struct ch_glibc_chunk {
	uint64_t addr;  /* chunk header; user data at addr + 16 */
	uint64_t size;  /* chunksize (mmapped: the whole mapping) */
	uint16_t arena; /* index into arenas[], UINT16_MAX for mmapped chunks */
	uint8_t kind;   /* enum ch_glibc_chunk_kind */
};

/* One heap of an arena: the main arena's brk run, or a thread heap. */
struct ch_glibc_heap {
	uint64_t start, end; /* bytes the arena uses: [start, end) */
	uint64_t reserve_end; /* end of the mapping reserved for it (thread heaps: start + HEAP_MAX_SIZE) */
	uint64_t chunk_bytes; /* of [start, end): bytes in chunks (top included) */
	uint16_t arena;
};

struct ch_glibc_arena {
	uint64_t addr;
	bool main;
	uint64_t system_mem;
	uint64_t top, top_size;
	/* From the chunk walk, by kind (top apart). */
	uint64_t chunks[CH_CHUNK_KINDS], bytes[CH_CHUNK_KINDS];
	/* From the bins, the way int_mallinfo counts (the top chunk apart). */
	uint64_t binned_chunks, binned_bytes, fast_chunks, fast_bytes;
	uint64_t overhead; /* heap headers, malloc_state, alignment, end-of-heap headers */
	bool walk_complete;
};

/* mallinfo2() as glibc computes it. */
struct ch_mallinfo2 {
	uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};

/* The bucket index over chunks[] (glibc_lookup.c explains it): runs of
 * chunks no more than a gap apart, each with its own bucket width. */
struct ch_glibc_chunk_run {
	uint64_t base;         /* address of the run's first chunk; runs ascend */
	uint32_t first_bucket; /* its entries: buckets[first_bucket ... first_bucket + nbuckets] */
	uint32_t nbuckets;     /* buckets of 2^shift bytes from base, the run's last chunk in the last */
	uint32_t end;          /* one past the run's last chunk in chunks[] */
	uint8_t shift;
};

/* A bit per hashed key (glibc_lookup.c): no bit, no chunk has that key;
 * a bit, maybe one does. The memory commands look up words that mostly
 * point at no chunk (into pymalloc's arenas, between chunks): a bit read
 * from a table that stays in the cache turns most of them away before a
 * search. */
struct ch_glibc_chunk_filter {
	uint64_t *bits; /* NULL: none, every key maybe */
	uint8_t shift;  /* 64 - log2(bits): a key's bit is (key * CH_GLIBC_FILTER_MUL) >> shift */
};

#define CH_GLIBC_FILTER_MUL 0x9e3779b97f4a7c15ull
#define CH_GLIBC_SPAN_SHIFT 16 /* spans' key: an address's 64 KiB granule */

static inline bool ch_glibc_filter_maybe(const struct ch_glibc_chunk_filter *f, uint64_t key)
{
	if (!f->bits)
		return true;
	uint64_t h = (key * CH_GLIBC_FILTER_MUL) >> f->shift;
	return (f->bits[h >> 6] >> (h & 63)) & 1;
}

struct ch_glibc_chunk_index {
	struct ch_glibc_chunk_run *runs; /* NULL: not built, lookups search the whole table */
	size_t nruns;
	uint32_t *buckets; /* per bucket: the first chunk at or above its start */
	struct ch_glibc_chunk_filter starts; /* key: a chunk's address >> 4 */
	struct ch_glibc_chunk_filter spans;  /* key: every granule a chunk's bytes touch */
};

struct ch_glibc_heapstate {
	bool found;               /* glibc malloc's state was located and read */
	char why_not[512];        /* when !found: why (no libc, no debug info, other allocator) */
	char libc_path[256];
	char layout_source[16];   /* "dwarf" (libc's debug file) or "builtin" (a table: this build's, or for
				   * a shape scan another build's of the same version) */
	char arena_found_by[16];  /* how main_arena was found: "debug info", "table", "shape scan", "not found" */
	char layout_table[136];   /* shape scan: the build-id of the table whose layout was used */
	char debug_path[512];     /* the debug file, when the layout came from it */
	char version[32];         /* "2.36" when the file says so, else "" */

	struct ch_glibc_arena *arenas;
	size_t narenas;
	struct ch_glibc_heap *heaps;
	size_t nheaps;
	struct ch_glibc_chunk *chunks; /* sorted by address, mmapped chunks included */
	size_t nchunks;
	struct ch_glibc_chunk_index index; /* over chunks[] once final; sorting drops it */

	uint64_t mmapped_chunks, mmapped_bytes; /* found by the page scan */
	uint64_t mp_n_mmaps, mp_mmapped_mem;    /* glibc's own counters */
	uint64_t tcache_chunks, tcache_bytes;
	size_t tcaches_found, threads;          /* thread tcaches read / threads in the core */
	bool tcache_located;                    /* the per-thread tcache pointers were found */

	struct ch_mallinfo2 mallinfo2;          /* glibc's view: tcache chunks in use */
	/* The program's view: tcache and fastbin chunks counted free. */
	uint64_t program_in_use, program_free;
};

/* Reads glibc malloc's state. Damage is recorded in diag (partial); when
 * glibc's state cannot be located at all, out->found is false with the
 * reason in out->why_not and NULL is returned. Errors only for NOMEM. */
struct ch_error *ch_glibc_read(struct ch_process *proc, struct ch_diag *diag, struct ch_glibc_heapstate *out);
void ch_glibc_deinit(struct ch_glibc_heapstate *st);

/* The chunk whose header is at a, or NULL. */
const struct ch_glibc_chunk *ch_glibc_chunk_starting_at(const struct ch_glibc_heapstate *st, uint64_t a);
/* The chunk whose [addr, addr + size) contains a, or NULL: of chunks that
 * overlap (a damaged heap), only the last starting at or below a counts. */
const struct ch_glibc_chunk *ch_glibc_chunk_at(const struct ch_glibc_heapstate *st, uint64_t a);
/* For a run of lookups: the chunk chunk_at considers for a (the last starting
 * at or below it, or NULL), and the addresses [*from, *to] (a among them)
 * that have the same one. */
const struct ch_glibc_chunk *ch_glibc_chunk_candidate(const struct ch_glibc_heapstate *st, uint64_t a,
						   uint64_t *from, uint64_t *to);

/* The last lookup's interval and candidate, for callers whose addresses
 * often fall near the one before (a scan of memory, objects in address
 * order): the answers are chunk_at's and chunk_starting_at's exactly. */
struct ch_glibc_chunk_cursor {
	uint64_t from, to; /* inclusive; init makes it valid */
	const struct ch_glibc_chunk *cand;
};

static inline void ch_glibc_cursor_init(const struct ch_glibc_heapstate *st, struct ch_glibc_chunk_cursor *cur)
{
	cur->cand = ch_glibc_chunk_candidate(st, 0, &cur->from, &cur->to);
}

static inline void ch_glibc_cursor_move(const struct ch_glibc_heapstate *st, struct ch_glibc_chunk_cursor *cur,
					uint64_t a)
{
	if (a - cur->from > cur->to - cur->from)
		cur->cand = ch_glibc_chunk_candidate(st, a, &cur->from, &cur->to);
}

static inline const struct ch_glibc_chunk *ch_glibc_cursor_at(const struct ch_glibc_heapstate *st,
							       struct ch_glibc_chunk_cursor *cur, uint64_t a)
{
	if (a - cur->from > cur->to - cur->from && !ch_glibc_filter_maybe(&st->index.spans, a >> CH_GLIBC_SPAN_SHIFT))
		return NULL; /* no chunk's bytes touch a's granule */
	ch_glibc_cursor_move(st, cur, a);
	return cur->cand && a - cur->cand->addr < cur->cand->size ? cur->cand : NULL;
}

/* In (from, to] no chunk starts; at from the first of those starting there. */
static inline const struct ch_glibc_chunk *ch_glibc_cursor_starting_at(const struct ch_glibc_heapstate *st,
									struct ch_glibc_chunk_cursor *cur, uint64_t a)
{
	if (a - cur->from > cur->to - cur->from && !ch_glibc_filter_maybe(&st->index.starts, a >> 4))
		return NULL; /* no chunk starts at a */
	ch_glibc_cursor_move(st, cur, a);
	return cur->cand && a == cur->from ? ch_glibc_chunk_starting_at(st, a) : NULL;
}

#endif
