#include "heap_digest.h"

#include "graph/dominators.h"
#include "graph/paths.h"
#include "graph/root_set.h"
#include "graph/suspects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/analysis.h"

void ch_heap_digest_init(struct ch_heap_digest *d)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	ch_diag_init(&d->diag);
}

void ch_heap_digest_deinit(struct ch_heap_digest *d)
{
	free(d->pool);
	free(d->types);
	free(d->groups);
	free(d->shape_types);
	free(d->edges);
	free(d->containers);
	free(d->conservative);
	free(d->type_objects);
	ch_diag_deinit(&d->diag);
	memset(d, 0, sizeof(*d));
}

/* Grow *v (of *cap elements of size elem) to hold need elements. */
static struct ch_error *grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return NULL;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem)
		return &ch_error_nomem;
	void *p = realloc(*v, ncap * elem);
	if (!p)
		return &ch_error_nomem;
	*v = p;
	*cap = ncap;
	return NULL;
}

struct ch_error *ch_digest_str_add(struct ch_heap_digest *d, const char *s, uint32_t *off)
{
	size_t n = strlen(s) + 1;
	if (d->pool_len + n > UINT32_MAX)
		return ch_error_new(CH_ERR_NOMEM, "heap digest: more than 4 GiB of names");
	struct ch_error *err = grow((void **)&d->pool, &d->pool_cap, d->pool_len + n, 1);
	if (err)
		return err;
	memcpy(d->pool + d->pool_len, s, n);
	*off = (uint32_t)d->pool_len;
	d->pool_len += n;
	return NULL;
}

/* The builders below grow by doubling from the current length: the
 * capacity is the next power of two at or above the length (16 minimum),
 * so no separate capacity field is needed. */
static size_t cap_of(size_t n)
{
	size_t c = 16;
	while (c < n)
		c *= 2;
	return n ? c : 0;
}

#define DIGEST_APPEND(arr, n, val)                                                        \
	do {                                                                              \
		size_t cap_ = cap_of(n);                                                  \
		struct ch_error *e_ = grow((void **)&(arr), &cap_, (n) + 1, sizeof(*(arr))); \
		if (e_)                                                                   \
			return e_;                                                        \
		(arr)[(n)++] = (val);                                                     \
	} while (0)

struct ch_error *ch_digest_type_add(struct ch_heap_digest *d, const struct ch_digest_type *t)
{
	DIGEST_APPEND(d->types, d->ntypes, *t);
	return NULL;
}

struct ch_error *ch_digest_group_add(struct ch_heap_digest *d, const struct ch_digest_group *g)
{
	DIGEST_APPEND(d->groups, d->ngroups, *g);
	return NULL;
}

struct ch_error *ch_digest_shape_type_add(struct ch_heap_digest *d, uint32_t name, uint32_t count)
{
	struct ch_digest_shape_type t = {name, count};
	DIGEST_APPEND(d->shape_types, d->nshape_types, t);
	return NULL;
}

struct ch_error *ch_digest_edge_add(struct ch_heap_digest *d, uint32_t edge)
{
	DIGEST_APPEND(d->edges, d->nedges, edge);
	return NULL;
}

struct ch_error *ch_digest_container_add(struct ch_heap_digest *d, const struct ch_digest_container *c)
{
	DIGEST_APPEND(d->containers, d->ncontainers, *c);
	d->has_containers = true;
	return NULL;
}

struct ch_error *ch_digest_conservative_add(struct ch_heap_digest *d, const struct ch_digest_conservative *c)
{
	DIGEST_APPEND(d->conservative, d->nconservative, *c);
	d->exact_known = true;
	d->exact = false;
	return NULL;
}

/* The analysis's exactness verdict, by type name. */
static struct ch_error *add_exactness(struct ch_heap_digest *d, const struct ch_python *py, const struct ch_exactness *x)
{
	d->exact_known = true;
	d->exact = ch_exactness_exact(x);
	for (size_t i = 0; i < x->ntypes; i++) {
		struct ch_digest_conservative c = {0, 0, x->types[i].objects};
		struct ch_error *err = ch_digest_str_add(d, ch_py_type_name(&py->types, x->types[i].type), &c.type);
		if (!err)
			err = ch_digest_str_add(d, x->types[i].reason, &c.reason);
		if (!err)
			err = ch_digest_conservative_add(d, &c);
		if (err)
			return err;
	}
	return NULL;
}

/* The containers found, written to the digest with their paths. */
struct containers {
	struct ch_heap_digest *d;
	const struct ch_analysis *a;
	const struct ch_roots *roots;
	const struct ch_container *v;
	size_t n;
};

/* Every container's chain checked first (when p is taken by chains), so
 * that a damage shows before anything is written: ch_root_set_paths_walk
 * may call this again over the search checked whole. */
static struct ch_error *write_containers(const struct ch_paths *p, void *arg)
{
	const struct containers *c = arg;
	struct ch_error *err = NULL;
	for (size_t i = 0; i < c->n && !err && p->chains; i++) {
		uint32_t root;
		err = ch_paths_root_of_checked(p, c->v[i].object, &root);
	}
	char path[1024];
	for (size_t i = 0; i < c->n && !err; i++) {
		struct ch_digest_container dc = {.elements = c->v[i].elements, .retained = c->v[i].retained};
		ch_object_path_text(c->a, c->roots, p, c->v[i].object, path, sizeof(path));
		if (!(err = ch_digest_str_add(c->d, path, &dc.path)) &&
		    !(err = ch_digest_str_add(c->d, ch_py_type_name(&c->a->heap.py->types,
								     c->a->heap.objects.type[c->v[i].object]),
					      &dc.type)))
			err = ch_digest_container_add(c->d, &dc);
	}
	return err;
}

struct ch_error *ch_heap_digest_add_containers(struct ch_heap_digest *d, const struct ch_analysis *a,
					       const struct ch_roots *roots, bool chains)
{
	/* The containers' finder reads the tree's sums and idom one step
	 * (whom an element's dominator is): nothing walks the tree, so a
	 * stored one is taken without the check of its shape. The paths
	 * written are the containers' chains: with chains, a stored search is
	 * checked only along them (as `summary` reads them), a damage found
	 * making it checked whole (said, searched again and replaced) before
	 * any path is written. */
	struct ch_dominators dom = {0};
	struct containers c = {d, a, roots, NULL, 0};
	struct ch_container *v = NULL;
	struct ch_error *err = ch_root_set_dominators(&dom, a, roots, false);
	if (!err)
		err = ch_containers_find(&v, &c.n, a, &dom);
	c.v = v;
	d->has_containers = true;
	if (!err && chains) {
		err = ch_root_set_paths_walk(a, roots, write_containers, &c);
	} else if (!err) {
		struct ch_paths p = {0};
		if (!(err = ch_root_set_paths(&p, a, roots)))
			err = write_containers(&p, &c);
		ch_paths_deinit(&p);
	}
	free(v);
	ch_dominators_deinit(&dom);
	return err;
}

/* Sorting: qsort has no context argument, so rows are sorted through
 * (bytes, name pointer, position) triples and then permuted. bytes is
 * compared first, descending; it is 0 for a sort by name alone. The
 * position breaks the remaining ties, so the order never depends on qsort. */
struct sort_key {
	uint64_t bytes;
	const char *s;
	size_t i;
};

static int sort_key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	int c = strcmp(x->s, y->s);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sorts n elements of size elem at base by key_at(element), which fills
 * the bytes and name offset of the key. */
static struct ch_error *sort_rows(const struct ch_heap_digest *d, void *base, size_t n, size_t elem,
				  void (*key_at)(const void *, uint64_t *, uint32_t *))
{
	if (n < 2)
		return NULL;
	struct sort_key *v = malloc(n * sizeof(*v));
	char *tmp = malloc(n * elem);
	if (!v || !tmp) {
		free(v);
		free(tmp);
		return &ch_error_nomem;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t name;
		key_at((char *)base + i * elem, &v[i].bytes, &name);
		v[i].s = ch_digest_str(d, name);
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), sort_key_cmp);
	for (size_t i = 0; i < n; i++)
		memcpy(tmp + i * elem, (char *)base + v[i].i * elem, elem);
	memcpy(base, tmp, n * elem);
	free(v);
	free(tmp);
	return NULL;
}

static void type_key(const void *p, uint64_t *bytes, uint32_t *name)
{
	*bytes = 0;
	*name = ((const struct ch_digest_type *)p)->name;
}

static void shape_type_key(const void *p, uint64_t *bytes, uint32_t *name)
{
	*bytes = 0;
	*name = ((const struct ch_digest_shape_type *)p)->name;
}

static void edge_key(const void *p, uint64_t *bytes, uint32_t *name)
{
	*bytes = 0;
	*name = *(const uint32_t *)p;
}

static void group_key(const void *p, uint64_t *bytes, uint32_t *name)
{
	*bytes = 0;
	*name = ((const struct ch_digest_group *)p)->key;
}

static void group_bytes_key(const void *p, uint64_t *bytes, uint32_t *name)
{
	*bytes = ((const struct ch_digest_group *)p)->bytes;
	*name = ((const struct ch_digest_group *)p)->key;
}

static struct ch_error *merge_types(struct ch_heap_digest *d)
{
	struct ch_error *err = sort_rows(d, d->types, d->ntypes, sizeof(*d->types), type_key);
	if (err)
		return err;
	size_t n = 0;
	for (size_t i = 0; i < d->ntypes; i++) {
		struct ch_digest_type *t = &d->types[i];
		if (n && strcmp(ch_digest_str(d, d->types[n - 1].name), ch_digest_str(d, t->name)) == 0) {
			struct ch_digest_type *p = &d->types[n - 1];
			p->count += t->count;
			p->bytes += t->bytes;
			for (int g = 0; g < CH_HIST_GENS; g++)
				p->gen[g] += t->gen[g];
			p->unreachable += t->unreachable;
			p->unreachable_bytes += t->unreachable_bytes;
		} else {
			d->types[n++] = *t;
		}
	}
	d->ntypes = n;
	return NULL;
}

/* Sorts a group's member types and edges by name (merging member types of
 * equal names) and pools its key. */
static struct ch_error *key_group(struct ch_heap_digest *d, struct ch_digest_group *g)
{
	struct ch_digest_shape_type *st = d->shape_types + g->first_type;
	struct ch_error *err = sort_rows(d, st, g->ntypes, sizeof(*st), shape_type_key);
	if (!err)
		err = sort_rows(d, d->edges + g->first_edge, g->nedges, sizeof(uint32_t), edge_key);
	if (err)
		return err;
	uint32_t n = 0;
	for (uint32_t i = 0; i < g->ntypes; i++) {
		if (n && strcmp(ch_digest_str(d, st[n - 1].name), ch_digest_str(d, st[i].name)) == 0)
			st[n - 1].count += st[i].count;
		else
			st[n++] = st[i];
	}
	g->ntypes = n;
	/* The key is built in the pool's tail: measure, reserve, write. */
	size_t len = 1;
	for (uint32_t i = 0; i < g->ntypes; i++)
		len += strlen(ch_digest_str(d, st[i].name)) + 12;
	for (uint32_t i = 0; i < g->nedges; i++)
		len += strlen(ch_digest_str(d, d->edges[g->first_edge + i])) + 1;
	char *key = malloc(len);
	if (!key)
		return &ch_error_nomem;
	size_t at = 0;
	for (uint32_t i = 0; i < g->ntypes; i++)
		at += (size_t)snprintf(key + at, len - at, "%s*%u;", ch_digest_str(d, st[i].name), st[i].count);
	for (uint32_t i = 0; i < g->nedges; i++)
		at += (size_t)snprintf(key + at, len - at, "|%s", ch_digest_str(d, d->edges[g->first_edge + i]));
	key[at] = '\0';
	err = ch_digest_str_add(d, key, &g->key);
	free(key);
	return err;
}

static struct ch_error *merge_groups(struct ch_heap_digest *d)
{
	for (size_t i = 0; i < d->ngroups; i++) {
		struct ch_error *err = key_group(d, &d->groups[i]);
		if (err)
			return err;
	}
	struct ch_error *err = sort_rows(d, d->groups, d->ngroups, sizeof(*d->groups), group_key);
	if (err)
		return err;
	size_t n = 0;
	for (size_t i = 0; i < d->ngroups; i++) {
		struct ch_digest_group *g = &d->groups[i];
		if (n && strcmp(ch_digest_str(d, d->groups[n - 1].key), ch_digest_str(d, g->key)) == 0) {
			struct ch_digest_group *p = &d->groups[n - 1];
			p->count += g->count;
			p->objects += g->objects;
			p->bytes += g->bytes;
			p->finalizers |= g->finalizers;
		} else {
			d->groups[n++] = *g;
		}
	}
	d->ngroups = n;
	if (d->groups_total < n)
		d->groups_total = n;
	err = sort_rows(d, d->groups, n, sizeof(*d->groups), group_bytes_key);
	if (err)
		return err;
	if (d->ngroups > CH_DIGEST_MAX_GROUPS)
		d->ngroups = CH_DIGEST_MAX_GROUPS;
	return NULL;
}

struct ch_error *ch_digest_finish(struct ch_heap_digest *d)
{
	struct ch_error *err = merge_types(d);
	return err ? err : merge_groups(d);
}

const struct ch_digest_type *ch_digest_type_find(const struct ch_heap_digest *d, const char *name)
{
	size_t lo = 0, hi = d->ntypes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ch_digest_str(d, d->types[mid].name), name);
		if (c == 0)
			return &d->types[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct ch_error *add_groups(struct ch_heap_digest *d, const struct ch_python *py, const struct ch_cycles *c)
{
	struct ch_error *err = NULL;
	for (size_t i = 0; i < c->ngroups && !err; i++) {
		const struct ch_cycle_group *cg = &c->groups[i];
		struct ch_digest_group g = {
			.count = cg->count, .objects = cg->objects, .bytes = cg->bytes, .finalizers = cg->finalizers,
			.first_type = (uint32_t)d->nshape_types, .ntypes = (uint32_t)cg->ntypes,
			.first_edge = (uint32_t)d->nedges, .nedges = (uint32_t)cg->nedges,
		};
		for (size_t t = 0; t < cg->ntypes && !err; t++) {
			uint32_t name;
			err = ch_digest_str_add(d, ch_py_type_name(&py->types, cg->types[t].type), &name);
			if (!err)
				err = ch_digest_shape_type_add(d, name, cg->types[t].count);
		}
		for (size_t x = 0; x < cg->nedges && !err; x++) {
			uint32_t edge;
			err = ch_digest_str_add(d, cg->edges[x], &edge);
			if (!err)
				err = ch_digest_edge_add(d, edge);
		}
		if (!err)
			err = ch_digest_group_add(d, &g);
	}
	return err;
}

static struct ch_error *add_types(struct ch_heap_digest *d, const struct ch_python *py, const struct ch_analysis *a)
{
	/* Every object and the unreachable garbage, in one pass over the heap. */
	const struct ch_hist_query q[2] = {{-1, NULL, 0, -1, CH_SORT_COUNT, 0},
					   {-1, a->replay.state, CH_REPLAY_UNREACHABLE, -1, CH_SORT_COUNT, 0}};
	struct ch_type_histogram h[2];
	struct ch_error *err = ch_type_histogram_build_many(h, q, 2, &a->heap);
	if (err)
		return err;
	const struct ch_type_histogram all = h[0], garbage = h[1];
	/* Rows of the garbage histogram by type index, to join the two. */
	uint32_t *garbage_row = malloc((py->types.n ? py->types.n : 1) * sizeof(*garbage_row));
	if (!garbage_row)
		err = &ch_error_nomem;
	for (size_t t = 0; !err && t < py->types.n; t++)
		garbage_row[t] = UINT32_MAX;
	for (size_t i = 0; !err && i < garbage.n; i++)
		garbage_row[garbage.rows[i].type] = (uint32_t)i;
	for (size_t i = 0; !err && i < all.n; i++) {
		const struct ch_type_row *r = &all.rows[i];
		struct ch_digest_type t = {.count = r->count, .bytes = r->bytes};
		memcpy(t.gen, r->gen, sizeof(t.gen));
		if (garbage_row[r->type] != UINT32_MAX) {
			t.unreachable = garbage.rows[garbage_row[r->type]].count;
			t.unreachable_bytes = garbage.rows[garbage_row[r->type]].bytes;
		}
		err = ch_digest_str_add(d, ch_py_type_name(&py->types, r->type), &t.name);
		if (!err)
			err = ch_digest_type_add(d, &t);
	}
	d->totals = all.totals;
	free(garbage_row);
	ch_type_histogram_deinit(&h[1]);
	ch_type_histogram_deinit(&h[0]);
	return err;
}

struct ch_error *ch_heap_digest_build(struct ch_heap_digest *d, struct ch_python *py, const struct ch_analysis *a)
{
	ch_heap_digest_init(d);
	const struct ch_module *main = ch_process_main_module(py->proc);
	struct ch_error *err = ch_digest_str_add(d, py->version.text, &d->version);
	if (!err)
		err = ch_digest_str_add(d, main && main->path ? main->path : "", &d->executable);
	d->pid = py->proc->core->have_psinfo ? py->proc->core->pid : -1;
	d->signal = py->proc->core->signo;
	d->gc = py->gc;
	d->gc.address = 0;
	memset(d->gc.heads, 0, sizeof(d->gc.heads));
	d->frozen = py->frozen;
	d->unreachable = a->replay.unreachable;
	d->unreachable_bytes = a->replay.unreachable_bytes;
	d->freed_with = a->replay.freed_with;
	d->freed_with_bytes = a->replay.freed_with_bytes;
	d->cycles = a->cycles.components;
	d->acyclic = a->cycles.acyclic;
	d->acyclic_bytes = a->cycles.acyclic_bytes;
	if (!err)
		err = add_types(d, py, a);
	if (!err)
		err = add_groups(d, py, &a->cycles);
	if (!err)
		err = add_exactness(d, py, &a->edges.exactness);
	if (!err)
		err = ch_digest_finish(d);
	if (!err)
		err = ch_heap_digest_add_type_objects(d, py, a);
	if (err) {
		ch_heap_digest_deinit(d);
		return err;
	}
	for (size_t i = 0; i < py->diag.n; i++)
		ch_diag_warn(&d->diag, "%s", py->diag.messages[i]);
	d->diag.dropped += py->diag.dropped;
	d->diag.partial = py->diag.partial;
	return NULL;
}
