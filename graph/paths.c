#include "paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/heap.h"
#include "graph/referrers.h"
#include "graph/roots.h"
#include "readers/cpython/python.h"

#define UNRANKED UINT32_MAX

struct ch_error *ch_paths_search(struct ch_paths *p, const struct ch_edges *e, size_t nobjects,
				 const uint32_t *root_objects, const uint8_t *tiers, size_t nroots,
				 const bool *blocked)
{
	memset(p, 0, sizeof(*p));
	if (nobjects >= CH_PATH_ROOT)
		return ch_error_new(CH_ERR_NOMEM, "too many objects for the path search");
	size_t sz = (nobjects ? nobjects : 1) * sizeof(uint32_t);
	p->parent = malloc(sz);
	p->via = malloc(sz);
	p->rank = malloc(sz);
	uint32_t *queue = malloc(sz);
	if (!p->parent || !p->via || !p->rank || !queue) {
		free(queue);
		ch_paths_deinit(p);
		return &ch_error_nomem;
	}
	p->nobjects = nobjects;
	/* via too: the search may be kept in the heap index, whose bytes must
	 * not depend on what malloc handed out. */
	memset(p->parent, 0xFF, nobjects * sizeof(uint32_t));
	memset(p->via, 0xFF, nobjects * sizeof(uint32_t));
	memset(p->rank, 0xFF, nobjects * sizeof(uint32_t));
	uint32_t qn = 0, q = 0;
	for (size_t r = 0; r < nroots;) {
		/* Seed one tier's roots, then drain the queue. */
		size_t end = r + 1;
		while (tiers && end < nroots && tiers[end] == tiers[r])
			end++;
		if (!tiers)
			end = nroots;
		for (; r < end; r++) {
			uint32_t o = root_objects[r];
			if (o >= nobjects || p->parent[o] != CH_NO_OBJECT || (blocked && blocked[o]))
				continue;
			p->parent[o] = CH_PATH_ROOT;
			p->via[o] = (uint32_t)r;
			p->rank[o] = qn;
			queue[qn++] = o;
		}
		for (; q < qn; q++) {
			uint32_t v = queue[q];
			for (uint32_t c = e->offsets[v]; c < e->offsets[v + 1]; c++) {
				uint32_t w = e->targets[c];
				if (w >= nobjects || p->parent[w] != CH_NO_OBJECT || !ch_label_owns(e->labels[c]) ||
				    (blocked && blocked[w]))
					continue;
				p->parent[w] = v;
				p->via[w] = c;
				p->rank[w] = qn;
				queue[qn++] = w;
			}
		}
	}
	p->nreached = qn;
	free(queue);
	return NULL;
}

/* A stored search's arrays, used in place, into p. */
static void stored_take(struct ch_paths *p, const uint32_t *parent, const uint32_t *via, const uint32_t *rank,
			size_t nreached, size_t nobjects, struct ch_shared_map *backing)
{
	p->parent = (uint32_t *)parent;
	p->via = (uint32_t *)via;
	p->rank = (uint32_t *)rank;
	p->nobjects = nobjects;
	p->nreached = nreached;
	p->borrowed = true;
	p->backing = ch_shared_map_hold(backing);
}

/* Object o's parent link in a stored search (o reached): a root's object
 * named by its root, or a parent ranked before o whose owning edge via
 * leads to o. The one condition both checks below apply. */
static bool link_ok(const uint32_t *parent, const uint32_t *via, const uint32_t *rank, size_t nobjects,
		    const struct ch_edges *e, const uint32_t *roots, size_t nroots, uint32_t o)
{
	uint32_t up = parent[o], c = via[o];
	if (up == CH_PATH_ROOT)
		return c < nroots && roots[c] == o;
	return up < nobjects && rank[up] < rank[o] && c >= e->offsets[up] && c < e->offsets[up + 1] &&
	       e->targets[c] == o && ch_label_owns(e->labels[c]);
}

struct ch_error *ch_paths_from_stored(struct ch_paths *p, const uint32_t *parent, const uint32_t *via,
				      const uint32_t *rank, size_t nreached, const struct ch_edges *e, size_t nobjects,
				      const uint32_t *root_objects, size_t nroots, struct ch_shared_map *backing)
{
	memset(p, 0, sizeof(*p));
	if (nobjects >= CH_PATH_ROOT || nreached > nobjects || e->nedges > UINT32_MAX)
		return ch_error_new(CH_ERR_INPUT, "the shortest paths' counts are out of range");
	/* One bit per rank: each used once. */
	uint64_t *used = calloc(nreached / 64 + 1, sizeof(uint64_t));
	if (!used)
		return &ch_error_nomem;
	const char *bad = NULL;
	size_t reached = 0;
	for (size_t o = 0; o < nobjects && !bad; o++) {
		uint32_t up = parent[o], k = rank[o], c = via[o];
		if (up == CH_NO_OBJECT) {
			if (k != UNRANKED || c != CH_PATH_NO_EDGE)
				bad = "an unreached object has a rank or an edge";
			continue;
		}
		if (k >= nreached || (used[k / 64] >> (k % 64) & 1))
			bad = "a rank is out of range or used twice";
		else if (!link_ok(parent, via, rank, nobjects, e, root_objects, nroots, (uint32_t)o))
			bad = "an object's parent or edge does not lead to it";
		else
			used[k / 64] |= (uint64_t)1 << (k % 64);
		reached++;
	}
	free(used);
	if (!bad && reached != nreached)
		bad = "the shortest paths do not reach as many objects as they say";
	if (bad)
		return ch_error_new(CH_ERR_INPUT, "%s", bad);
	stored_take(p, parent, via, rank, nreached, nobjects, backing);
	return NULL;
}

struct ch_error *ch_paths_from_stored_chains(struct ch_paths *p, const uint32_t *parent, const uint32_t *via,
					     const uint32_t *rank, size_t nreached, const struct ch_edges *e,
					     size_t nobjects, const uint32_t *root_objects, size_t nroots,
					     struct ch_shared_map *backing)
{
	memset(p, 0, sizeof(*p));
	if (nobjects >= CH_PATH_ROOT || nreached > nobjects || e->nedges > UINT32_MAX)
		return ch_error_new(CH_ERR_INPUT, "the shortest paths' counts are out of range");
	p->roots = malloc((nroots ? nroots : 1) * sizeof(*p->roots));
	if (!p->roots)
		return &ch_error_nomem;
	if (nroots)
		memcpy(p->roots, root_objects, nroots * sizeof(*p->roots));
	p->nroots = nroots;
	p->chains = true;
	p->edges = e;
	stored_take(p, parent, via, rank, nreached, nobjects, backing);
	return NULL;
}

/* One step of a chain of a search taken by chains: x's parent link is
 * the search's (as ch_paths_from_stored checks it for every object). */
static bool chain_step_ok(const struct ch_paths *p, uint32_t x)
{
	if (p->parent[x] == CH_NO_OBJECT || p->rank[x] >= p->nreached)
		return false;
	return link_ok(p->parent, p->via, p->rank, p->nobjects, p->edges, p->roots, p->nroots, x);
}

void ch_paths_deinit(struct ch_paths *p)
{
	free(p->roots);
	ch_shared_map_release(p->backing);
	if (!p->borrowed) {
		free(p->parent);
		free(p->via);
		free(p->rank);
	}
	memset(p, 0, sizeof(*p));
}

uint32_t ch_paths_root_of(const struct ch_paths *p, uint32_t o)
{
	/* Parents strictly decrease in rank, so nobjects steps always suffice. */
	for (size_t steps = 0; o < p->nobjects && steps <= p->nobjects; steps++) {
		uint32_t up = p->parent[o];
		if (up == CH_PATH_ROOT)
			return p->via[o];
		o = up;
	}
	return UINT32_MAX;
}

struct ch_error *ch_paths_reached_checked(const struct ch_paths *p, uint32_t o, bool *reached)
{
	*reached = o < p->nobjects && p->parent[o] != CH_NO_OBJECT;
	uint32_t root;
	return *reached && p->chains ? ch_paths_root_of_checked(p, o, &root) : NULL;
}

struct ch_error *ch_paths_root_of_checked(const struct ch_paths *p, uint32_t o, uint32_t *root)
{
	*root = UINT32_MAX;
	if (!p->chains || o >= p->nobjects || p->parent[o] == CH_NO_OBJECT) {
		*root = ch_paths_root_of(p, o);
		return NULL;
	}
	/* Ranks fall strictly along a checked chain, so it ends. */
	for (;;) {
		if (!chain_step_ok(p, o))
			return ch_error_new(CH_ERR_INPUT, "the stored shortest paths: an object's parent or edge does not "
							  "lead to it");
		if (p->parent[o] == CH_PATH_ROOT) {
			*root = p->via[o];
			return NULL;
		}
		o = p->parent[o];
	}
}

static bool is_field(const struct ch_edges *e, uint32_t k, const char *name)
{
	uint32_t l = e->labels[k];
	return ch_label_kind(l) == CH_REF_FIELD && ch_label_payload(l) < e->nnames &&
	       strcmp(e->names[ch_label_payload(l)], name) == 0;
}

static const char *type_name(const struct ch_heap *heap, uint32_t o)
{
	return ch_py_type_name(&heap->py->types, heap->objects.type[o]);
}

/* `owner .__dict__ ['x']` -> `owner .x` when the key is a str and the
 * owner is not a module (a module's dict stays visible, as in
 * sys.modules['app'] .__dict__ ['CACHE']). */
static void fold_dicts(struct ch_path *path, const struct ch_edges *e, const struct ch_heap *heap)
{
	size_t out = 1;
	for (size_t i = 1; i < path->nhops; i++) {
		struct ch_path_hop *h = &path->hops[i];
		if (i + 1 < path->nhops && is_field(e, h->edge, "__dict__") &&
		    strcmp(type_name(heap, path->hops[i - 1].object), "module") != 0) {
			uint32_t next = path->hops[i + 1].edge, l = e->labels[next], key = ch_label_payload(l);
			if (ch_label_kind(l) == CH_REF_DICT_VALUE && !(key & CH_LABEL_NAMED) && key < heap->objects.n &&
			    strcmp(type_name(heap, key), "str") == 0) {
				path->hops[i + 1].attr = true;
				continue; /* drop the dict hop */
			}
		}
		path->hops[out++] = *h;
	}
	path->nhops = out;
}

/* The shortest path to o, then (when extend) one more hop over edge
 * last_edge to target. *ok is false when an extended path would pass
 * through the target itself. */
static struct ch_error *path_build(struct ch_path *out, const struct ch_paths *p, uint32_t o, uint32_t target,
				   bool extend, uint32_t last_edge, bool *ok)
{
	*ok = false;
	size_t len = 1;
	uint32_t x = o;
	for (;;) {
		if (extend && x == target)
			return NULL;
		/* Ranks fall strictly along a checked chain, so it ends. */
		if (p->chains && !chain_step_ok(p, x))
			return ch_error_new(CH_ERR_INPUT, "the stored shortest paths: an object's parent or edge does not "
							  "lead to it");
		if (p->parent[x] == CH_PATH_ROOT)
			break;
		x = p->parent[x];
		if (++len > p->nobjects || x >= p->nobjects)
			return ch_error_new(CH_ERR_INPUT, "the path search's parent links do not end at a root");
	}
	size_t n = len + extend;
	struct ch_path_hop *hops = calloc(n, sizeof(*hops));
	if (!hops)
		return &ch_error_nomem;
	x = o;
	for (size_t i = len; i-- > 0;) {
		hops[i].object = x;
		if (p->parent[x] == CH_PATH_ROOT) {
			hops[i].edge = CH_PATH_NO_EDGE;
			out->root = p->via[x];
		} else {
			hops[i].edge = p->via[x];
			x = p->parent[x];
		}
	}
	if (extend) {
		hops[len].object = target;
		hops[len].edge = last_edge;
	}
	out->hops = hops;
	out->nhops = n;
	*ok = true;
	return NULL;
}

struct ref {
	uint32_t rank, edge, source;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->edge < y->edge ? -1 : x->edge > y->edge;
}

static struct ch_error *add_path(struct ch_path_set *s, const struct ch_paths *p, const struct ch_edges *e,
				 const struct ch_heap *heap, uint32_t o, uint32_t target, uint32_t edge)
{
	struct ch_path path = {0};
	bool ok;
	struct ch_error *err = path_build(&path, p, o, target, edge != CH_PATH_NO_EDGE, edge, &ok);
	if (err || !ok)
		return err;
	fold_dicts(&path, e, heap);
	s->paths[s->n++] = path;
	return NULL;
}

struct ch_error *ch_paths_to(struct ch_path_set *s, const struct ch_paths *p, const struct ch_edges *e,
			     const struct ch_heap *heap, uint32_t target, size_t max)
{
	memset(s, 0, sizeof(*s));
	if (target >= p->nobjects || p->parent[target] == CH_NO_OBJECT)
		return NULL;
	if (max < 1)
		max = 1;
	s->paths = calloc(max, sizeof(*s->paths));
	if (!s->paths)
		return &ch_error_nomem;
	struct ch_error *err = NULL;
	if (p->parent[target] == CH_PATH_ROOT)
		err = add_path(s, p, e, heap, target, target, CH_PATH_NO_EDGE);
	if (err || s->n >= max)
		goto out;
	/* One path: the target's own. Its parent is the referrer the search
	 * reached first (any earlier one would have become the parent), over
	 * the first owning edge from it (the search takes edges in CSR order),
	 * and the parent's path cannot pass through the target (ranks fall
	 * along parents): what the referrers below would give, without
	 * scanning every edge for them. */
	if (max == 1) {
		err = add_path(s, p, e, heap, target, target, CH_PATH_NO_EDGE);
		goto out;
	}
	/* The referrers some root reaches, in breadth-first order. */
	struct ch_referrers r;
	if ((err = ch_referrers_find(&r, e, p->nobjects, target)))
		goto out;
	struct ref *refs = malloc((r.n ? r.n : 1) * sizeof(*refs));
	if (!refs) {
		ch_referrers_deinit(&r);
		err = &ch_error_nomem;
		goto out;
	}
	size_t nrefs = 0;
	for (size_t i = 0; i < r.n; i++) {
		uint32_t src = r.sources[i], k = (uint32_t)r.edges[i];
		if (p->rank[src] == UNRANKED || !ch_label_owns(e->labels[k]))
			continue;
		refs[nrefs++] = (struct ref){p->rank[src], k, src};
	}
	ch_referrers_deinit(&r);
	qsort(refs, nrefs, sizeof(*refs), cmp_ref);
	for (size_t i = 0; i < nrefs && s->n < max && !err; i++) {
		if (i && refs[i].source == refs[i - 1].source)
			continue;
		err = add_path(s, p, e, heap, refs[i].source, target, refs[i].edge);
	}
	free(refs);
out:
	if (err)
		ch_path_set_deinit(s);
	return err;
}

void ch_path_set_deinit(struct ch_path_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i].hops);
	free(s->paths);
	memset(s, 0, sizeof(*s));
}

void ch_path_hop_label(const struct ch_edges *e, const struct ch_heap *heap, const struct ch_path_hop *h,
		       char *buf, size_t n)
{
	if (h->edge == CH_PATH_NO_EDGE) {
		snprintf(buf, n, "%s", "");
		return;
	}
	ch_edges_label_text(e, heap, h->edge, buf, n);
	size_t len = strlen(buf);
	/* ['x'] -> .x */
	if (h->attr && len >= 4 && buf[0] == '[' && buf[1] == '\'' && buf[len - 1] == ']' && buf[len - 2] == '\'') {
		memmove(buf + 1, buf + 2, len - 4);
		buf[0] = '.';
		buf[len - 3] = '\0';
	}
}
