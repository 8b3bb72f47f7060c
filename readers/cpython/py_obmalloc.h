/* pymalloc's own accounting, as sys._debugmallocstats() prints it: every
 * arena of every interpreter's object allocator (3.12+: main's and those of
 * sub-interpreters with their own; the figures add up over them), every
 * carved pool by size class (blocks in use, blocks still free), the arena
 * counters, and the bytes lost to pool headers, quantization and arena
 * alignment.
 *
 * Lives in readers/cpython (not readers/allocators) because every offset it
 * uses comes from the CPython layout table (pool_header, arena_object,
 * _obmalloc_state) and its state is reached from the interpreter (3.12+)
 * or from statics of libpython (3.8-3.11, by symbol). The walk is bounded
 * by maxarenas and by each arena's size; damage is a partial result. */
#ifndef CH_PY_OBMALLOC_H
#define CH_PY_OBMALLOC_H

#include "readers/cpython/python.h"

#define CH_PYMALLOC_CLASSES 32 /* SMALL_REQUEST_THRESHOLD 512 / ALIGNMENT 16, 3.8-3.15 */

struct ch_pymalloc_class {
	uint64_t size, pools, blocks, avail;
};

struct ch_pymalloc {
	bool found;
	char why_not[256];
	uint64_t arena_size, pool_size, pool_overhead;
	uint64_t narenas, ntimes_allocated, highwater;
	uint64_t numfreepools, arena_alignment;
	struct ch_pymalloc_class classes[CH_PYMALLOC_CLASSES];
	uint64_t pools, blocks, allocated_bytes, available_bytes, unused_pool_bytes, pool_header_bytes,
		quantization, total;
	uint64_t sparse_pools;         /* used pools with less than 10 % of their blocks in use */
	bool have_map;                 /* 3.10+: the radix tree's node counts */
	uint64_t map_mid, map_bot;
	uint64_t *arena_addrs;         /* each arena's address (its ARENA_SIZE bytes are pymalloc's) */
	size_t narena_addrs;
};

/* Reads the pymalloc state of every interpreter. When main's cannot be located
 * (no symbols for 3.8-3.11 statics, no layout fields), found is false with
 * the reason; damage goes to diag. Errors only for NOMEM. */
struct ch_error *ch_py_obmalloc_read(struct ch_python *py, struct ch_diag *diag, struct ch_pymalloc *out);
void ch_py_obmalloc_deinit(struct ch_pymalloc *pm);

#endif
