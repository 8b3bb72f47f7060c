#include "gc_replay.h"

#include "graph/roots.h"
#include "readers/base/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline bool collectable(const struct ch_object_table *o, uint32_t i)
{
	return o->gen[i] <= 2;
}

/* CPython collects each interpreter's lists on their own (3.9+): an edge
 * from another interpreter's object is a reference from outside the
 * collected set, neither subtracted nor followed. */
static inline bool same_heap(const struct ch_object_table *o, uint32_t a, uint32_t b)
{
	return o->interp[a] == o->interp[b];
}

/* The untracked objects freed with the garbage: those whose every counted
 * reference comes from garbage or from objects freed with it. dying[t]
 * counts such references to t; a newly freed object is pushed on *stack
 * (grown as needed: it only ever holds objects freed with the garbage,
 * usually few) and its own references are counted in turn, so chains such
 * as a garbage dict holding an untracked tuple holding a str are followed.
 * The order objects are released in does not matter: each reference is
 * counted once, and an object is freed when its count reaches its
 * refcount, whatever came first. */
struct release {
	uint32_t *dying, *stack;
	size_t n, cap;
};

static struct ch_error *release(struct ch_gc_replay *r, const struct ch_object_table *o, const struct ch_edges *e,
				struct release *w, uint32_t i)
{
	for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++) {
		uint32_t t = e->targets[k];
		/* Only references that own a count: a split table's shared key
		 * belongs to the class's keys object, not to each dict. */
		if (o->gen[t] != CH_GEN_UNTRACKED || r->state[t] == CH_REPLAY_FREED_WITH ||
		    !ch_label_counts(e->labels[k]))
			continue;
		if ((int64_t)++w->dying[t] != ch_objects_refcnt(o, t))
			continue;
		r->state[t] = CH_REPLAY_FREED_WITH;
		r->freed_with++;
		r->freed_with_bytes += ch_objects_size(o, t);
		struct ch_error *err = ch_grow((void **)&w->stack, &w->cap, w->n + 1, sizeof(*w->stack));
		if (err)
			return err;
		w->stack[w->n++] = t;
	}
	return NULL;
}

struct ch_error *ch_gc_replay_run(struct ch_gc_replay *r, struct ch_heap *heap, const struct ch_edges *e, bool lend)
{
	memset(r, 0, sizeof(*r));
	const struct ch_object_table *o = &heap->objects;
	size_t n = o->n;
	/* One uint32 per object, used three ways in turn (the replay's only
	 * heap-sized scratch besides state): the internal references of each
	 * collected object, then the queue of the breadth-first search, then
	 * the references from the dying (struct release). The address
	 * table's slots serve when asked to and the table can lend them: the
	 * replay looks no address up, and the memory peak of `cycles` is
	 * here. */
	size_t nslots = 0;
	uint32_t *lent = lend ? ch_objects_index_lend(&heap->objects, &nslots) : NULL;
	uint32_t *work = lent;
	if (work)
		memset(work, 0, n * sizeof(*work));
	else
		work = calloc(n ? n : 1, sizeof(*work));
	r->state = calloc(n ? n : 1, 1);
	if (!work || !r->state) {
		if (lent)
			ch_objects_index_return(&heap->objects, lent, nslots);
		else
			free(work);
		ch_gc_replay_deinit(r);
		return &ch_error_nomem;
	}
	/* gc_refs = refcount - internal references; the count is at most the
	 * number of edges (< 2^32), so it cannot wrap. Comparing refcount >
	 * count instead of subtracting also needs no care for a refcount read
	 * as anything (near INT64_MIN, negative). */
	for (size_t i = 0; i < n; i++) {
		if (!collectable(o, (uint32_t)i))
			continue;
		for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++)
			if (ch_label_traversed(e->labels[k]) && collectable(o, e->targets[k]) &&
			    same_heap(o, (uint32_t)i, e->targets[k]))
				work[e->targets[k]]++;
	}
	/* Breadth-first from the externally referenced objects (gc_refs > 0).
	 * The queue is written over the counts: entry tail <= i, whose count
	 * has been read already. It holds each object at most once (state is
	 * set when it is queued). */
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++)
		if (collectable(o, (uint32_t)i) && ch_objects_refcnt(o, i) > (int64_t)work[i]) {
			r->state[i] = CH_REPLAY_ALIVE;
			work[tail++] = (uint32_t)i;
		}
	while (head < tail) {
		uint32_t i = work[head++];
		for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++) {
			uint32_t t = e->targets[k];
			if (ch_label_traversed(e->labels[k]) && collectable(o, t) && r->state[t] != CH_REPLAY_ALIVE &&
			    same_heap(o, i, t)) {
				r->state[t] = CH_REPLAY_ALIVE;
				work[tail++] = t;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (collectable(o, (uint32_t)i) && r->state[i] != CH_REPLAY_ALIVE) {
			r->state[i] = CH_REPLAY_UNREACHABLE;
			r->unreachable++;
			r->unreachable_bytes += ch_objects_size(o, i);
		}
	memset(work, 0, n * sizeof(*work));
	struct release w = {work, NULL, 0, 0};
	struct ch_error *err = NULL;
	for (size_t i = 0; i < n && !err; i++) {
		if (r->state[i] != CH_REPLAY_UNREACHABLE)
			continue;
		err = release(r, o, e, &w, (uint32_t)i);
		while (!err && w.n)
			err = release(r, o, e, &w, w.stack[--w.n]);
	}
	if (lent) /* indexed again only when someone looks an address up */
		ch_objects_index_return(&heap->objects, lent, nslots);
	else
		free(work);
	free(w.stack);
	if (err)
		ch_gc_replay_deinit(r);
	return err;
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
			r->unreachable_bytes += ch_objects_size(o, i);
		} else if (state[i] == CH_REPLAY_FREED_WITH) {
			r->freed_with++;
			r->freed_with_bytes += ch_objects_size(o, i);
		}
	}
	return NULL;
}

void ch_gc_replay_deinit(struct ch_gc_replay *r)
{
	free(r->state);
	memset(r, 0, sizeof(*r));
}
