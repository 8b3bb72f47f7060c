/* The heap of a dumped Python process: every object coreheap found, in one
 * object table. Built in one pass over the collector's lists (the
 * generations, then the permanent generation); later phases add objects
 * discovered through references. */
#ifndef CH_HEAP_H
#define CH_HEAP_H

#include <stdint.h>

#include "graph/object_table.h"
#include "readers/base/error.h"

struct ch_python;

typedef void (*ch_progress_fn)(void *arg, const char *phase, uint64_t done);

struct ch_heap {
	struct ch_python *py;
	struct ch_object_table objects;
	uint64_t list_counts[4]; /* objects found per GC list: gens 0..2, permanent */
};

struct ch_error *ch_heap_build(struct ch_heap *heap, struct ch_python *py, ch_progress_fn progress, void *progress_arg);
void ch_heap_deinit(struct ch_heap *heap);

#endif
