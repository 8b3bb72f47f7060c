/* What a full gc.collect() would find unreachable, computed the way the
 * collector computes it (update_refs / subtract_refs / move_unreachable):
 *
 *   gc_refs = refcount, for every object in generations 0-2;
 *   for every traversed edge between two such objects, decrement the
 *   target's gc_refs; objects left with gc_refs > 0 are referenced from
 *   outside the collected set; everything reachable from them through
 *   traversed edges is alive; the rest is unreachable.
 *
 * Frozen (permanent) and untracked objects are outside the collected set,
 * as in CPython, so their references are never subtracted. Edges marked
 * not traversed (fields a tp_traverse skips, conservative scans) are not
 * subtracted either, which keeps their targets alive exactly as CPython's
 * blindness to them does.
 *
 * Each interpreter's heap is replayed on its own, as each interpreter's
 * collector runs on its own lists (3.9+): edges between objects of two
 * interpreters count as references from outside (ch_object_table.interp). */
#ifndef CH_GC_REPLAY_H
#define CH_GC_REPLAY_H

#include <stdint.h>

#include "graph/edges.h"
#include "graph/heap.h"

struct ch_gc_replay {
	uint8_t *state;        /* per object: CH_REPLAY_* */
	uint64_t unreachable, unreachable_bytes;
	uint64_t freed_with, freed_with_bytes;
};

enum {
	CH_REPLAY_OUTSIDE = 0,     /* not collectable (permanent, untracked) and not freed with the garbage */
	CH_REPLAY_ALIVE = 1,
	CH_REPLAY_UNREACHABLE = 2, /* tracked garbage */
	CH_REPLAY_FREED_WITH = 3,  /* untracked, held only by the garbage */
};

/* Whether a verdict is garbage: what a full collection would free. */
static inline bool ch_replay_is_garbage(uint8_t state)
{
	return state == CH_REPLAY_UNREACHABLE || state == CH_REPLAY_FREED_WITH;
}

/* The heap is not changed. With lend, its address table is lent out as
 * the replay's scratch (ch_objects_index_lend) and given back unsettled:
 * ch_objects_index_settle before looking an address up. Without, the
 * replay allocates 4 bytes per object of its own for the time it runs,
 * and the table stays as it was: for a caller whose memory peak comes
 * later and that looks addresses up after (top). */
struct ch_error *ch_gc_replay_run(struct ch_gc_replay *r, struct ch_heap *heap, const struct ch_edges *e, bool lend);
/* The same result from a state computed before (a heap index's): copied,
 * and the counts summed again from it. Every entry must be a CH_REPLAY_*
 * value (the caller has checked). */
struct ch_error *ch_gc_replay_from_state(struct ch_gc_replay *r, const struct ch_heap *heap, const uint8_t *state);
void ch_gc_replay_deinit(struct ch_gc_replay *r);

#endif
