#include "top.h"

#include <stdlib.h>
#include <string.h>

#include "graph/gc_replay.h"
#include "graph/paths.h"
#include "readers/cpython/python.h"

struct cand {
	uint64_t retained, addr;
	uint32_t object;
};

/* Bigger retained first, then lower address: a total order. */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* heap[0] is the worst of the kept candidates (a min-heap in cand_cmp's order). */
static void sift_down(struct cand *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < n && cand_cmp(&h[l], &h[w]) > 0)
			w = l;
		if (r < n && cand_cmp(&h[r], &h[w]) > 0)
			w = r;
		if (w == i)
			return;
		struct cand tmp = h[i];
		h[i] = h[w];
		h[w] = tmp;
		i = w;
	}
}

static void sift_up(struct cand *h, size_t i)
{
	while (i) {
		size_t up = (i - 1) / 2;
		if (cand_cmp(&h[i], &h[up]) <= 0)
			return;
		struct cand tmp = h[i];
		h[i] = h[up];
		h[up] = tmp;
		i = up;
	}
}

struct ch_error *ch_top_objects(struct ch_top *t, const struct ch_dominators *d, const struct ch_heap *heap,
				size_t limit)
{
	size_t keep = limit && limit < d->nreachable ? limit : d->nreachable;
	struct cand *h = malloc((keep ? keep : 1) * sizeof(*h));
	t->objects = malloc((keep ? keep : 1) * sizeof(*t->objects));
	if (!h || !t->objects) {
		free(h);
		free(t->objects);
		t->objects = NULL;
		return &ch_error_nomem;
	}
	size_t n = 0;
	/* The reachable objects in object order (the arrays read in sequence;
	 * the order is total, so which come first changes nothing); one
	 * retaining less than the worst kept is passed over unread. An object
	 * is in the tree when it retains itself (a count of 0 otherwise), so
	 * idom is read only for the objects listed. */
	for (size_t i = 0; i < d->nobjects && keep; i++) {
		uint32_t o = (uint32_t)i;
		if (d->retained_count[o] == 0 || (n == keep && d->retained[o] < h[0].retained))
			continue;
		struct cand c = {d->retained[o], heap->objects.addr[o], o};
		if (n < keep) {
			h[n] = c;
			sift_up(h, n++);
		} else if (cand_cmp(&c, &h[0]) < 0) {
			h[0] = c;
			sift_down(h, n, 0);
		}
	}
	qsort(h, n, sizeof(*h), cand_cmp);
	for (size_t i = 0; i < n; i++)
		t->objects[i] = h[i].object;
	t->nobjects = n;
	free(h);
	return NULL;
}

static const struct ch_py_types *sort_types; /* qsort has no context argument */

static int row_cmp(const void *a, const void *b)
{
	const struct ch_top_type *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return strcmp(ch_py_type_name(sort_types, x->type), ch_py_type_name(sort_types, y->type));
}

/* The dominator tree as children lists: node 0 is the super-root, node
 * o + 1 is object o. Walked depth first with an explicit stack; active[T]
 * counts the objects of type T on the current tree path, so an object
 * whose type is not active on entry is the topmost of its type there. */
static struct ch_error *accumulate_topmost(struct ch_top_type *rows, const struct ch_dominators *d,
					   const struct ch_heap *heap, size_t ntypes)
{
	size_t n = d->nobjects, N = d->nreachable;
	uint32_t *off = calloc(n + 2, sizeof(uint32_t));
	uint32_t *kids = malloc((N ? N : 1) * sizeof(uint32_t));
	uint32_t *stack = malloc((N + 1) * sizeof(uint32_t));
	uint32_t *cursor = malloc((N + 1) * sizeof(uint32_t));
	uint32_t *active = calloc(ntypes ? ntypes : 1, sizeof(uint32_t));
	if (!off || !kids || !stack || !cursor || !active) {
		free(off);
		free(kids);
		free(stack);
		free(cursor);
		free(active);
		return &ch_error_nomem;
	}
#define NODE(o) (d->idom[o] == CH_DOM_ROOT ? 0 : (size_t)d->idom[o] + 1)
	for (size_t i = 0; i < N; i++)
		off[NODE(d->order[i])]++;
	for (size_t k = 1; k <= n + 1; k++)
		off[k] += off[k - 1]; /* inclusive: off[k] is the end of node k's run */
	for (size_t i = N; i-- > 0;)
		kids[--off[NODE(d->order[i])]] = d->order[i];
#undef NODE
	/* off[k] is now the start of node k's run, and off[k + 1] its end. */
	size_t sp = 0;
	stack[sp] = 0;
	cursor[sp] = off[0];
	sp++;
	while (sp) {
		uint32_t node = stack[sp - 1], c = cursor[sp - 1];
		if (c == off[node + 1]) {
			if (node && heap->objects.type[node - 1] < ntypes)
				active[heap->objects.type[node - 1]]--;
			sp--;
			continue;
		}
		cursor[sp - 1] = c + 1;
		uint32_t o = kids[c], ty = heap->objects.type[o];
		if (ty < ntypes) {
			if (!active[ty]) {
				rows[ty].retained += d->retained[o];
				rows[ty].retained_objects += d->retained_count[o];
			}
			active[ty]++;
		}
		stack[sp] = o + 1;
		cursor[sp] = off[o + 1];
		sp++;
	}
	free(off);
	free(kids);
	free(stack);
	free(cursor);
	free(active);
	return NULL;
}

struct ch_error *ch_top_objects_roots(struct ch_top *t, const struct ch_paths *p)
{
	free(t->object_roots); /* a second call (the search checked whole) starts afresh */
	t->object_roots = malloc((t->nobjects ? t->nobjects : 1) * sizeof(uint32_t));
	if (!t->object_roots)
		return &ch_error_nomem;
	struct ch_error *err = NULL;
	for (size_t i = 0; i < t->nobjects && !err; i++)
		err = ch_paths_root_of_checked(p, t->objects[i], &t->object_roots[i]);
	return err;
}

struct ch_error *ch_top_type_rows(struct ch_top_type **out, size_t *nout, const struct ch_dominators *d,
				  const struct ch_heap *heap)
{
	size_t ntypes = heap->py->types.n;
	struct ch_top_type *rows = calloc(ntypes ? ntypes : 1, sizeof(*rows));
	*out = NULL;
	*nout = 0;
	if (!rows)
		return &ch_error_nomem;
	for (size_t i = 0; i < d->nreachable; i++) {
		uint32_t o = d->order[i], ty = heap->objects.type[o];
		if (ty >= ntypes)
			continue;
		rows[ty].objects++;
		rows[ty].shallow += ch_objects_size(&heap->objects, o);
	}
	struct ch_error *err = accumulate_topmost(rows, d, heap, ntypes);
	if (err) {
		free(rows);
		return err;
	}
	size_t m = 0;
	for (size_t ty = 0; ty < ntypes; ty++)
		if (rows[ty].objects) {
			rows[ty].type = (uint32_t)ty;
			rows[m++] = rows[ty];
		}
	*out = rows;
	*nout = m;
	return NULL;
}

void ch_top_types_sort(struct ch_top *t, struct ch_top_type *rows, size_t n, const struct ch_heap *heap)
{
	sort_types = &heap->py->types;
	qsort(rows, n, sizeof(*rows), row_cmp);
	t->types = rows;
	t->ntypes = n;
}

struct ch_error *ch_top_types(struct ch_top *t, const struct ch_dominators *d, const struct ch_heap *heap)
{
	struct ch_top_type *rows;
	size_t m;
	struct ch_error *err = ch_top_type_rows(&rows, &m, d, heap);
	if (!err)
		ch_top_types_sort(t, rows, m, heap);
	return err;
}

void ch_top_deinit(struct ch_top *t)
{
	free(t->objects);
	free(t->object_roots);
	free(t->types);
	memset(t, 0, sizeof(*t));
}

void ch_unreached_split(struct ch_unreached *u, const struct ch_dominators *d, const struct ch_heap *heap,
			const struct ch_gc_replay *r)
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < d->nobjects; i++) {
		if (d->retained_count[i] != 0) /* in the tree */
			continue;
		uint64_t b = ch_objects_size(&heap->objects, i);
		u->objects++;
		u->bytes += b;
		uint8_t st = r->state ? r->state[i] : CH_REPLAY_OUTSIDE;
		if (st == CH_REPLAY_UNREACHABLE) {
			u->unreachable++;
			u->unreachable_bytes += b;
		} else if (st == CH_REPLAY_FREED_WITH) {
			u->freed_with++;
			u->freed_with_bytes += b;
		} else {
			u->other++;
			u->other_bytes += b;
		}
	}
}
