#include "gc_replay.h"

#include <stdlib.h>
#include <string.h>

static inline bool collectable(const struct ch_object_table *o, uint32_t i)
{
	return o->gen[i] <= 2;
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
			/* Saturating: a damaged core's refcount may already be INT64_MIN. */
			if (ch_label_traversed(e->labels[k]) && collectable(o, e->targets[k]) &&
			    refs[e->targets[k]] > INT64_MIN)
				refs[e->targets[k]]--;
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
			if (ch_label_traversed(e->labels[k]) && collectable(o, t) && r->state[t] != CH_REPLAY_ALIVE) {
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
			if (o->gen[t] != CH_GEN_UNTRACKED || r->state[t] == CH_REPLAY_FREED_WITH ||
			    ch_label_kind(e->labels[k]) == CH_REF_CONSERVATIVE)
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

void ch_gc_replay_deinit(struct ch_gc_replay *r)
{
	free(r->state);
	memset(r, 0, sizeof(*r));
}
