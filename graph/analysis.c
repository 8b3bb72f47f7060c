#include "analysis.h"

#include <string.h>

struct ch_error *ch_analysis_run(struct ch_analysis *a, struct ch_python *py, ch_progress_fn progress, void *arg)
{
	memset(a, 0, sizeof(*a));
	struct ch_error *err = ch_heap_build(&a->heap, py, progress, arg);
	if (err)
		return err;
	err = ch_edges_build(&a->edges, &a->heap, progress, arg);
	if (err) {
		ch_heap_deinit(&a->heap);
		return err;
	}
	return ch_analysis_complete(a);
}

struct ch_error *ch_analysis_complete(struct ch_analysis *a)
{
	return ch_analysis_complete_for(a, CH_NEED_ALL);
}

struct ch_error *ch_analysis_complete_for(struct ch_analysis *a, uint32_t needs)
{
	memset(&a->cycles, 0, sizeof(a->cycles));
	bool replay = needs & (CH_NEED_REPLAY | CH_NEED_CYCLES);
	bool lend = !(needs & CH_NEED_OWN_SCRATCH);
	struct ch_error *err = a->replay.state || !replay ? NULL : ch_gc_replay_run(&a->replay, &a->heap, &a->edges, lend);
	if (!err && (needs & CH_NEED_CYCLES))
		err = ch_cycles_find(&a->cycles, &a->heap, &a->edges, &a->replay);
	if (!err && !(needs & CH_NEED_NO_LOOKUP))
		ch_objects_index_settle(&a->heap.objects);
	if (err)
		ch_analysis_deinit(a);
	return err;
}

void ch_analysis_deinit(struct ch_analysis *a)
{
	ch_cycles_deinit(&a->cycles);
	ch_gc_replay_deinit(&a->replay);
	ch_edges_deinit(&a->edges);
	ch_heap_deinit(&a->heap);
}
