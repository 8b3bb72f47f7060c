/* The few memory figures later commands print (summary's memory line,
 * suspects' native-memory suspects, show's "native" line, the figures a
 * snapshot keeps and diff compares: graph/memory_digest.h), reduced from a
 * built breakdown (graph/memory.h) so that the heap index can keep them
 * (graph/heap_index.h) and those commands need not walk glibc's heap
 * again. owned points into the breakdown it came from or into the mapped
 * index (backing holds it); it is sorted by chunk address. */
#ifndef CH_MEMORY_BRIEF_H
#define CH_MEMORY_BRIEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/memory.h"

/* The scalar figures, one 64-bit word each (as the index stores them). */
enum ch_memb_word {
	CH_MEMB_FLAGS,          /* CH_MEMB_GLIBC_FOUND | CH_MEMB_PYTHON_DONE | CH_MEMB_PARTIAL | CH_MEMB_PYMALLOC_FOUND */
	CH_MEMB_VIRTUAL,        /* the mappings' virtual total */
	CH_MEMB_ARENA,          /* glibc's mallinfo2.arena */
	CH_MEMB_MMAPPED,        /* glibc's mmapped bytes */
	CH_MEMB_FREE_CHUNKS,    /* free chunks in tcaches and bins, every arena */
	CH_MEMB_UNREF_BYTES,    /* in-use chunks nothing points at */
	CH_MEMB_UNREF_CHUNKS,
	CH_MEMB_LEAK_SIZE,      /* the largest leak group (0 when none) */
	CH_MEMB_LEAK_CHUNKS,
	CH_MEMB_LEAK_FIRST,
	CH_MEMB_PY_BYTES,       /* Python objects' full sizes */
	CH_MEMB_OWNED_BYTES,    /* native memory owned by objects */
	CH_MEMB_UNOWNED_UNREF,  /* unowned unreferenced bytes */
	CH_MEMB_EXPLAINED,      /* the explained share, a double's bits */
	/* Format 7: the rest of what a snapshot keeps and `diff` compares
	 * (graph/memory_digest.h), so that they need not walk glibc's heap
	 * either. */
	CH_MEMB_DUMPED,         /* the mappings' bytes in the core */
	CH_MEMB_MI_ORDBLKS,     /* glibc's mallinfo2, arena aside (CH_MEMB_ARENA) */
	CH_MEMB_MI_SMBLKS,
	CH_MEMB_MI_HBLKS,
	CH_MEMB_MI_HBLKHD,
	CH_MEMB_MI_USMBLKS,
	CH_MEMB_MI_FSMBLKS,
	CH_MEMB_MI_UORDBLKS,
	CH_MEMB_MI_FORDBLKS,
	CH_MEMB_MI_KEEPCOST,
	CH_MEMB_PROGRAM_IN_USE, /* glibc: the program's view */
	CH_MEMB_PROGRAM_FREE,
	CH_MEMB_TCACHE_BYTES,
	CH_MEMB_GLIBC_ARENAS,
	CH_MEMB_PM_ARENAS,      /* pymalloc's totals */
	CH_MEMB_PM_BLOCKS,
	CH_MEMB_PM_BYTES,
	CH_MEMB_PM_AVAILABLE,
	CH_MEMB_PM_UNUSED_POOLS,
	CH_MEMB_PM_TOTAL,
	CH_MEMB_OWNED_CHUNKS,   /* native memory owned by objects, and not */
	CH_MEMB_UNOWNED_BYTES,
	CH_MEMB_UNOWNED_CHUNKS,
	CH_MEMB_UNOWNED_ANCHORED,
	CH_MEMB_ANCHORED,       /* in-use chunks something points at */
	CH_MEMB_BYTES,          /* then one word per enum ch_mem_category */
	CH_MEMB_WORDS = CH_MEMB_BYTES + CH_MEM_CATEGORIES
};

#define CH_MEMB_GLIBC_FOUND 1u
#define CH_MEMB_PYTHON_DONE 2u
#define CH_MEMB_PARTIAL 4u
#define CH_MEMB_PYMALLOC_FOUND 8u
#define CH_MEMB_FLAGS_ALL 15u

struct ch_memory_brief {
	uint64_t w[CH_MEMB_WORDS];
	const struct ch_mem_owned_chunk *owned;
	size_t nowned;
};

/* From a built breakdown; partial: whether its walk was partial. */
void ch_memory_brief_of(const struct ch_memory *m, bool partial, struct ch_memory_brief *b);

static inline bool ch_memory_brief_flag(const struct ch_memory_brief *b, uint64_t flag)
{
	return (b->w[CH_MEMB_FLAGS] & flag) != 0;
}

double ch_memory_brief_explained(const struct ch_memory_brief *b);

/* The figures of one command: from the heap index when it holds them,
 * else from a breakdown built here (kept in m until the deinit). */
struct ch_memory_held {
	struct ch_memory_brief b;
	struct ch_memory m;
	bool built;
};

/* Sets h->b for heap (its process and runtime): from ix (may be NULL)
 * when that is the heap's index and holds the figures, else built, then
 * added to ix for the next command (a failure to add is a warning). The
 * build's warnings stay out of the runtime's (`coreheap memory` reports
 * them); its error is returned, h then holds nothing to deinit. */
struct ch_heap_index_ref;
struct ch_error *ch_memory_held_get(struct ch_memory_held *h, const struct ch_heap *heap,
				    struct ch_heap_index_ref *ix);
void ch_memory_held_deinit(struct ch_memory_held *h);

#endif
