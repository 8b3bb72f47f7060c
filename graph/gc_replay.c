#include "gc_replay.h"

#include "graph/roots.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline bool collectable(const struct ch_object_table *o, uint32_t i)
{
	return o->gen[i] <= 2;
}

/* gc_refs of a collected object after one more internal reference is
 * subtracted. A refcount read from a core may be anything (a corrupted
 * ob_refcnt near INT64_MIN, a negative one); the replay only asks whether
 * gc_refs stays > 0, and a value already at INT64_MIN is <= 0 whatever is
 * subtracted, so the decrement saturates there instead of overflowing.
 * Nothing is ever added (the count starts at the refcount and only goes
 * down, at most once per edge), so no upper bound is needed. */
/* CPython collects each interpreter's lists on their own (3.9+): an edge
 * from another interpreter's object is a reference from outside the
 * collected set, neither subtracted nor followed. */
static inline bool same_heap(const struct ch_object_table *o, uint32_t a, uint32_t b)
{
	return o->interp[a] == o->interp[b];
}

static inline int64_t refs_minus_one(int64_t v)
{
	return v == INT64_MIN ? v : v - 1;
}

struct ch_error *ch_gc_replay_run(struct ch_gc_replay *r, const struct ch_heap *heap, const struct ch_edges *e)
{
	memset(r, 0, sizeof(*r));
	const struct ch_object_table *o = &heap->objects;
	size_t n = o->n;
	int64_t *refs = malloc((n ? n : 1) * sizeof(*refs));
	uint32_t *queue = malloc((n ? n : 1) * sizeof(*queue));
	r->state = calloc(n ? n : 1, 1);
	if (!refs || !queue || !r->state) {
		free(refs);
		free(queue);
		ch_gc_replay_deinit(r);
		return &ch_error_nomem;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = collectable(o, (uint32_t)i) ? o->refcnt[i] : 0;
	for (size_t i = 0; i < n; i++) {
		if (!collectable(o, (uint32_t)i))
			continue;
		for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++)
			if (ch_label_traversed(e->labels[k]) && collectable(o, e->targets[k]) &&
			    same_heap(o, (uint32_t)i, e->targets[k]))
				refs[e->targets[k]] = refs_minus_one(refs[e->targets[k]]);
	}
	/* Breadth-first from the externally referenced objects; queue holds each
	 * object at most once (state is set when it is queued). */
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++)
		if (collectable(o, (uint32_t)i) && refs[i] > 0) {
			r->state[i] = CH_REPLAY_ALIVE;
			queue[tail++] = (uint32_t)i;
		}
	while (head < tail) {
		uint32_t i = queue[head++];
		for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++) {
			uint32_t t = e->targets[k];
			if (ch_label_traversed(e->labels[k]) && collectable(o, t) && r->state[t] != CH_REPLAY_ALIVE &&
			    same_heap(o, i, t)) {
				r->state[t] = CH_REPLAY_ALIVE;
				queue[tail++] = t;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (collectable(o, (uint32_t)i) && r->state[i] != CH_REPLAY_ALIVE) {
			r->state[i] = CH_REPLAY_UNREACHABLE;
			r->unreachable++;
			r->unreachable_bytes += o->size[i];
		}
	/* Untracked objects freed with the garbage: every reference to them
	 * comes from garbage (or from objects freed with it). refs[] is reused
	 * as "references from the dying"; a worklist handles chains such as a
	 * garbage dict holding an untracked tuple holding a str. */
	memset(refs, 0, n * sizeof(*refs));
	head = tail = 0;
	for (size_t i = 0; i < n; i++)
		if (r->state[i] == CH_REPLAY_UNREACHABLE)
			queue[tail++] = (uint32_t)i;
	while (head < tail) {
		uint32_t i = queue[head++];
		for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++) {
			uint32_t t = e->targets[k];
			/* Only references that own a count: a split table's shared key
			 * belongs to the class's keys object, not to each dict. */
			if (o->gen[t] != CH_GEN_UNTRACKED || r->state[t] == CH_REPLAY_FREED_WITH ||
			    !ch_label_counts(e->labels[k]))
				continue;
			if (++refs[t] == o->refcnt[t]) {
				r->state[t] = CH_REPLAY_FREED_WITH;
				r->freed_with++;
				r->freed_with_bytes += o->size[t];
				queue[tail++] = t;
			}
		}
	}
	free(refs);
	free(queue);
	return NULL;
}

struct ch_error *ch_gc_replay_from_state(struct ch_gc_replay *r, const struct ch_heap *heap, const uint8_t *state)
{
	const struct ch_object_table *o = &heap->objects;
	memset(r, 0, sizeof(*r));
	r->state = malloc(o->n ? o->n : 1);
	if (!r->state)
		return &ch_error_nomem;
	memcpy(r->state, state, o->n);
	for (size_t i = 0; i < o->n; i++) {
		if (state[i] == CH_REPLAY_UNREACHABLE) {
			r->unreachable++;
			r->unreachable_bytes += o->size[i];
		} else if (state[i] == CH_REPLAY_FREED_WITH) {
			r->freed_with++;
			r->freed_with_bytes += o->size[i];
		}
	}
	return NULL;
}

void ch_gc_replay_deinit(struct ch_gc_replay *r)
{
	free(r->state);
	memset(r, 0, sizeof(*r));
}
