/* Refcount bugs and reference leaks (see anomalies.h). Two breadth-first
 * passes over the CSR edges with one byte of state and one queue slot per
 * object; no recursion. */
#include "graph/anomalies.h"

#include <stdlib.h>
#include <string.h>

#include "readers/cpython/python.h"

enum { UNSEEN = 0, REACHED = 1, GARBAGE = 2, LEAK_HELD = 3 };

/* Breadth-first from the queued objects through owning edges, into
 * objects whose state is `from`, marking them `to`. Calls back for each
 * newly marked object with the group of the object it was reached from. */
struct bfs {
	const struct ch_analysis *a;
	uint8_t *state;
	uint32_t *queue;
	uint32_t *group; /* LEAK pass: group index per queued object, else NULL */
	size_t head, tail;
};

static void bfs_run(struct bfs *b, uint8_t from, uint8_t to, struct ch_anomalies *an)
{
	const struct ch_edges *e = &b->a->edges;
	const struct ch_object_table *t = &b->a->heap.objects;
	while (b->head < b->tail) {
		uint32_t u = b->queue[b->head++];
		for (uint32_t k = e->offsets[u]; k < e->offsets[u + 1]; k++) {
			uint32_t v = e->targets[k];
			if (b->state[v] != from || !ch_label_owns(e->labels[k]))
				continue;
			b->state[v] = to;
			b->queue[b->tail++] = v;
			if (b->group) {
				uint32_t g = b->group[u];
				b->group[v] = g;
				an->leak_groups[g].kept_objects++;
				an->leak_groups[g].kept_bytes += ch_objects_size(t, v);
			}
		}
	}
}

static int cmp_groups(const void *x, const void *y)
{
	const struct ch_anomaly_group *a = x, *b = y;
	uint64_t ba = a->bytes + a->kept_bytes, bb = b->bytes + b->kept_bytes;
	if (ba != bb)
		return ba > bb ? -1 : 1;
	if (a->objects != b->objects)
		return a->objects > b->objects ? -1 : 1;
	return a->type < b->type ? -1 : a->type > b->type;
}

/* Groups of `objs` by type; *slot_of maps a type to its group (scratch,
 * all UINT32_MAX on entry and on return). */
static struct ch_error *group_by_type(const struct ch_object_table *t, const uint32_t *objs, size_t n, uint32_t *slot_of,
				      struct ch_anomaly_group **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (!n)
		return NULL;
	struct ch_anomaly_group *g = calloc(n, sizeof(*g));
	if (!g)
		return &ch_error_nomem;
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t o = objs[i], ty = t->type[o];
		if (slot_of[ty] == UINT32_MAX) {
			slot_of[ty] = (uint32_t)ng;
			g[ng++] = (struct ch_anomaly_group){.type = ty, .first = o};
		}
		g[slot_of[ty]].objects++;
		g[slot_of[ty]].bytes += ch_objects_size(t, o);
	}
	for (size_t i = 0; i < ng; i++)
		slot_of[g[i].type] = UINT32_MAX;
	*out = g;
	*nout = ng;
	return NULL;
}

struct ch_error *ch_anomalies_find(struct ch_anomalies *an, const struct ch_analysis *a, const struct ch_roots *r)
{
	memset(an, 0, sizeof(*an));
	const struct ch_object_table *t = &a->heap.objects;
	const struct ch_python *py = a->heap.py;
	size_t n = t->n, ntypes = py->types.n;
	struct bfs b = {.a = a};
	b.state = calloc(n ? n : 1, 1);
	b.queue = malloc((n ? n : 1) * sizeof(uint32_t));
	uint32_t *slot_of = malloc((ntypes ? ntypes : 1) * sizeof(uint32_t));
	an->low = malloc((n ? n : 1) * sizeof(uint32_t));
	an->leaked = malloc((n ? n : 1) * sizeof(uint32_t));
	struct ch_error *err = NULL;
	if (!b.state || !b.queue || !slot_of || !an->low || !an->leaked) {
		err = &ch_error_nomem;
		goto out;
	}
	memset(slot_of, 0xff, (ntypes ? ntypes : 1) * sizeof(uint32_t));

	/* 1. Everything the (non-external) roots reach. */
	for (size_t i = 0; i < r->n; i++) {
		uint32_t o = r->items[i].object;
		if (r->items[i].kind != CH_ROOT_EXTERNAL && b.state[o] == UNSEEN) {
			b.state[o] = REACHED;
			b.queue[b.tail++] = o;
		}
	}
	bfs_run(&b, UNSEEN, REACHED, an);

	/* 2. The rest: the collector's garbage, or leak roots. */
	for (size_t i = 0; i < n; i++) {
		if (b.state[i] == REACHED) {
			an->reachable++;
			an->reachable_bytes += ch_objects_size(t, i);
		} else if (a->replay.state &&
			   ch_replay_is_garbage(a->replay.state[i])) {
			b.state[i] = GARBAGE;
			an->garbage++;
			an->garbage_bytes += ch_objects_size(t, i);
			if (a->replay.state[i] == CH_REPLAY_UNREACHABLE) {
				an->unreachable++;
				an->unreachable_bytes += ch_objects_size(t, i);
			}
		} else if (!ch_py_refcnt_immortal(&py->layout, ch_objects_refcnt(t, i)) && ch_objects_refcnt(t, i) > 0 &&
			   (uint64_t)ch_objects_refcnt(t, i) > (uint64_t)r->refs[i] + r->maybe[i]) {
			an->leaked[an->nleaked++] = (uint32_t)i;
		}
		/* Types are left out: static and heap types alike are pointed
		 * at by tp_base fields that take no count in some versions
		 * (static subtypes, structseq types), so their refcounts do not
		 * add up even in a healthy process. */
		int64_t rc = ch_objects_refcnt(t, i);
		if (!ch_py_refcnt_immortal(&py->layout, rc) && rc < (int64_t)r->refs[i] && !(py->types.v[t->type[i]].flags & CH_TPFLAGS_TYPE_SUBCLASS))
			an->low[an->nlow++] = (uint32_t)i;
	}
	if ((err = group_by_type(t, an->low, an->nlow, slot_of, &an->low_groups, &an->nlow_groups)) ||
	    (err = group_by_type(t, an->leaked, an->nleaked, slot_of, &an->leak_groups, &an->nleak_groups)))
		goto out;

	/* 3. What only the leak roots keep: breadth-first from them through
	 * objects nothing else reached, credited to the first leak group to
	 * reach each. */
	if (an->nleaked) {
		b.group = malloc((n ? n : 1) * sizeof(uint32_t));
		if (!b.group) {
			err = &ch_error_nomem;
			goto out;
		}
		for (size_t g = 0; g < an->nleak_groups; g++)
			slot_of[an->leak_groups[g].type] = (uint32_t)g;
		b.head = b.tail = 0;
		for (size_t i = 0; i < an->nleaked; i++) {
			uint32_t o = an->leaked[i], g = slot_of[t->type[o]];
			b.state[o] = LEAK_HELD;
			b.group[o] = g;
			b.queue[b.tail++] = o;
			an->leak_groups[g].unexplained += (uint64_t)ch_objects_refcnt(t, o) - r->refs[o] - r->maybe[o];
		}
		for (size_t g = 0; g < an->nleak_groups; g++)
			slot_of[an->leak_groups[g].type] = UINT32_MAX;
		bfs_run(&b, UNSEEN, LEAK_HELD, an);
		free(b.group);
		b.group = NULL;
		for (size_t g = 0; g < an->nleak_groups; g++) {
			an->leaked_kept += an->leak_groups[g].objects + an->leak_groups[g].kept_objects;
			an->leaked_kept_bytes += an->leak_groups[g].bytes + an->leak_groups[g].kept_bytes;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (b.state[i] == UNSEEN) {
			an->other++;
			an->other_bytes += ch_objects_size(t, i);
		}
	if (an->nlow_groups)
		qsort(an->low_groups, an->nlow_groups, sizeof(*an->low_groups), cmp_groups);
	if (an->nleak_groups)
		qsort(an->leak_groups, an->nleak_groups, sizeof(*an->leak_groups), cmp_groups);
out:
	free(b.state);
	free(b.queue);
	free(slot_of);
	if (err)
		ch_anomalies_deinit(an);
	return err;
}

void ch_anomalies_deinit(struct ch_anomalies *an)
{
	free(an->low);
	free(an->leaked);
	free(an->low_groups);
	free(an->leak_groups);
	memset(an, 0, sizeof(*an));
}
