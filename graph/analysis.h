/* The whole-heap pipeline that cycles, summary (and later path, top, diff)
 * share: GC lists -> object table, references -> edges (discovering
 * untracked objects), GC replay -> unreachable set, SCCs -> cycle groups. */
#ifndef CH_ANALYSIS_H
#define CH_ANALYSIS_H

#include "graph/cycles.h"
#include "graph/edges.h"
#include "graph/gc_replay.h"
#include "graph/heap.h"
#include "graph/heap_index.h"

struct ch_analysis {
	struct ch_heap heap;
	struct ch_edges edges;
	struct ch_gc_replay replay;
	struct ch_cycles cycles;
	/* The heap index the heap came from or went to, where the dominator
	 * tree is kept once computed (graph/heap_index.h); NULL: none, or the
	 * sizes were changed since (top --native). Not owned. */
	struct ch_heap_index_ref *index;
};

struct ch_error *ch_analysis_run(struct ch_analysis *a, struct ch_python *py, ch_progress_fn progress, void *arg);
/* The rest of the pipeline over a->heap and a->edges already filled (built,
 * or loaded from an index), and a->replay when its state is set (from the
 * index), else zeroed; on failure the whole analysis is freed. */
struct ch_error *ch_analysis_complete(struct ch_analysis *a);
/* The same with only the stages needs (CH_NEED_REPLAY, CH_NEED_CYCLES:
 * graph/heap_index.h) asks for; the others are left zeroed. The address
 * table is settled at the end (ch_objects_find works) unless needs has
 * CH_NEED_NO_LOOKUP. */
struct ch_error *ch_analysis_complete_for(struct ch_analysis *a, uint32_t needs);
void ch_analysis_deinit(struct ch_analysis *a);

#endif
