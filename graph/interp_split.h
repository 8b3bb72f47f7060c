/* The heap split by interpreter (3.9+ give each interpreter its own
 * collector and objects): per interpreter, its objects by type and, with a
 * replay, the garbage its own collection would free. One part per entry of
 * ch_python.interps, in that order (main first); objects are assigned by
 * ch_object_table.interp. */
#ifndef CH_INTERP_SPLIT_H
#define CH_INTERP_SPLIT_H

#include <stddef.h>

#include "graph/gc_replay.h"
#include "graph/heap.h"
#include "graph/type_histogram.h"

struct ch_interp_part {
	size_t index;                          /* into ch_python.interps */
	struct ch_type_histogram types;        /* its objects (generation filter applied) */
	bool have_unreachable;
	struct ch_type_histogram unreachable;  /* its garbage (replay given) */
};

struct ch_interp_split {
	struct ch_interp_part *v;
	size_t n;
};

/* generation: -1 for all (as ch_type_histogram_build); replay: NULL for no
 * garbage part; top: rows kept per part (0: all; totals cover all).
 * whole: NULL, or a histogram of the whole heap to build in the same pass
 * over the objects into *whole_out (left zeroed on failure). */
struct ch_error *ch_interp_split_build(struct ch_interp_split *s, const struct ch_heap *heap, int generation,
				       const struct ch_gc_replay *replay, enum ch_hist_sort sort, size_t top,
				       const struct ch_hist_query *whole, struct ch_type_histogram *whole_out);
void ch_interp_split_deinit(struct ch_interp_split *s);

#endif
