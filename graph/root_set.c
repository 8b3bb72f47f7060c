#include "root_set.h"

#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/exactness.h"
#include "graph/heap_index.h"
#include "graph/paths.h"
#include "graph/top.h"
#include "readers/cpython/python.h"

#include <stdlib.h>
#include <string.h>

static uint8_t tier_of(enum ch_root_kind k)
{
	if (k <= CH_ROOT_FRAME_GLOBALS)
		return 0;
	return k == CH_ROOT_EXTERNAL ? 2 : 1;
}

static bool conservative(enum ch_root_kind k)
{
	return k == CH_ROOT_FRAME_OTHER || k == CH_ROOT_THREAD || k == CH_ROOT_C_GLOBAL;
}

uint32_t ch_roots_module_of_dict(const struct ch_roots *r, const struct ch_edges *e, uint32_t dict)
{
	for (size_t i = 0; i < r->n && r->items[i].kind == CH_ROOT_MODULE; i++) {
		uint32_t m = r->items[i].object;
		if (m == CH_NO_OBJECT)
			continue;
		for (uint32_t k = e->offsets[m]; k < e->offsets[m + 1]; k++) {
			uint32_t l = e->labels[k], p = ch_label_payload(l);
			if (e->targets[k] == dict && ch_label_kind(l) == CH_REF_FIELD && p < e->nnames &&
			    strcmp(e->names[p], "__dict__") == 0)
				return (uint32_t)i;
		}
	}
	return UINT32_MAX;
}

struct ch_error *ch_root_set_build(struct ch_root_set *s, const struct ch_roots *r, const struct ch_object_table *o,
				   const struct ch_edges *e)
{
	memset(s, 0, sizeof(*s));
	s->objects = malloc((r->n ? r->n : 1) * sizeof(*s->objects));
	s->tiers = malloc(r->n ? r->n : 1);
	if (!s->objects || !s->tiers) {
		ch_root_set_deinit(s);
		return &ch_error_nomem;
	}
	s->n = r->n;
	for (size_t i = 0; r->set && i < r->n; i++) {
		s->tiers[i] = tier_of((enum ch_root_kind)r->items[i].kind);
		s->objects[i] = r->set[i];
	}
	for (size_t i = 0; !r->set && i < r->n; i++) {
		const struct ch_root *root = &r->items[i];
		uint32_t obj = root->object;
		s->tiers[i] = tier_of((enum ch_root_kind)root->kind);
		if (obj < o->n && conservative((enum ch_root_kind)root->kind) && r->refs &&
		    ch_objects_refcnt(o, obj) <= (int64_t)r->refs[obj]) {
			obj = CH_NO_OBJECT;
			s->dropped++;
		}
		if (e && obj < o->n && root->kind == CH_ROOT_FRAME_GLOBALS &&
		    ch_roots_module_of_dict(r, e, obj) != UINT32_MAX) {
			obj = CH_NO_OBJECT;
			s->module_globals++;
		}
		s->objects[i] = obj;
	}
	return NULL;
}

void ch_root_set_deinit(struct ch_root_set *s)
{
	free(s->objects);
	free(s->tiers);
	memset(s, 0, sizeof(*s));
}

/* The tree the heap index holds, when it was built for this very root
 * set over this very heap: true when d is filled from it. A stored tree
 * that is not a tree (checked when walks) is said and not used. */
static bool stored_dominators(struct ch_dominators *d, const struct ch_analysis *a, uint64_t roots_hash, bool walks,
			      struct ch_error **err)
{
	struct ch_heap_index_ref *ix = a->index;
	const struct ch_heap_index_doms *s = &ix->doms;
	if (!s->idom || s->roots != roots_hash || s->nobjects != a->heap.objects.n)
		return false;
	struct ch_dominators_stored t = {s->idom,  s->order, s->retained, s->retained_count, s->nreach,
					 s->reachable_bytes, s->unreachable_bytes};
	*err = ch_dominators_from_tree(d, &t, a->heap.objects.n, walks, s->backing);
	if (*err && (*err)->kind == CH_ERR_INPUT) {
		ch_diag_warn(&a->heap.py->diag, "the heap index %s's dominator tree was not used: damaged; %s", ix->path,
			     (*err)->message);
		ch_error_free(*err);
		*err = NULL;
		return false;
	}
	return true;
}

/* The retainers by type of d (a tree just built) as the heap index keeps
 * them (*out malloc'd, *n of them). */
static struct ch_error *typerows_make(const struct ch_dominators *d, const struct ch_heap *heap,
				      struct ch_heap_index_typerow **out, size_t *n)
{
	struct ch_top_type *rows;
	struct ch_error *err = ch_top_type_rows(&rows, n, d, heap);
	if (err)
		return err;
	struct ch_heap_index_typerow *recs = malloc((*n ? *n : 1) * sizeof(*recs));
	for (size_t i = 0; recs && i < *n; i++)
		recs[i] = (struct ch_heap_index_typerow){rows[i].type, 0, rows[i].objects, rows[i].shallow,
							 rows[i].retained, rows[i].retained_objects};
	free(rows);
	*out = recs;
	return recs ? NULL : &ch_error_nomem;
}

/* d just built, kept in the index with its retainers by type (a failure
 * to keep it is a warning, never the command's failure). */
static void keep_dominators(const struct ch_analysis *a, uint64_t roots_hash, const struct ch_dominators *d)
{
	struct ch_heap_index_ref *ix = a->index;
	struct ch_heap_index_typerow *rows = NULL;
	size_t nrows = 0;
	ix->added = true;
	struct ch_error *werr = typerows_make(d, &a->heap, &rows, &nrows);
	if (!werr)
		werr = ch_heap_index_add_dominators(ix, roots_hash, d, rows, nrows);
	free(rows);
	if (werr) {
		ch_diag_warn(&a->heap.py->diag, "no dominator tree added to the heap index: %s", werr->message);
		ch_error_free(werr);
	}
	ix->holds_tree = !werr;
}

struct ch_error *ch_root_set_dominators(struct ch_dominators *d, const struct ch_analysis *a, const struct ch_roots *r,
				       bool walks)
{
	struct ch_root_set rs;
	struct ch_error *err = ch_root_set_build(&rs, r, &a->heap.objects, &a->edges);
	if (err)
		return err;
	struct ch_heap_index_ref *ix = a->index;
	bool indexed = ch_heap_index_is_of(ix, a->heap.objects.n, a->edges.nedges);
	uint64_t rh = indexed ? ch_heap_index_roots_hash(rs.objects, rs.n) : 0;
	if (indexed && stored_dominators(d, a, rh, walks, &err)) {
		ix->holds_tree = !err;
		ch_root_set_deinit(&rs);
		return err;
	}
	err = ch_dominators_build(d, &a->edges, &a->heap.objects, a->heap.objects.n, rs.objects, r->n);
	ch_root_set_deinit(&rs);
	/* Kept for the next command, once per process (a failure to keep it
	 * is a warning, never the command's failure). */
	if (!err && indexed && !ix->added)
		keep_dominators(a, rh, d);
	return err;
}

struct ch_error *ch_root_set_stored_tree(struct ch_dominators *d, bool *found, const struct ch_analysis *a,
					 const struct ch_roots *r)
{
	memset(d, 0, sizeof(*d));
	*found = false;
	struct ch_heap_index_ref *ix = a->index;
	if (!ch_heap_index_is_of(ix, a->heap.objects.n, a->edges.nedges) || !ix->doms.idom)
		return NULL;
	struct ch_root_set rs;
	struct ch_error *err = ch_root_set_build(&rs, r, &a->heap.objects, &a->edges);
	if (err)
		return err;
	*found = stored_dominators(d, a, ch_heap_index_roots_hash(rs.objects, rs.n), true, &err) && !err;
	ch_root_set_deinit(&rs);
	return err;
}

struct ch_error *ch_root_set_top_types(struct ch_top *t, const struct ch_dominators *d, const struct ch_analysis *a)
{
	const struct ch_heap_index_ref *ix = a->index;
	if (!ix || !ix->doms.idom || d->idom != ix->doms.idom)
		return ch_top_types(t, d, &a->heap);
	/* d is the index's tree (taken for this root set): its rows with it. */
	const struct ch_heap_index_doms *s = &ix->doms;
	struct ch_top_type *rows = malloc((s->ntyperows ? s->ntyperows : 1) * sizeof(*rows));
	if (!rows)
		return &ch_error_nomem;
	for (size_t i = 0; i < s->ntyperows; i++) {
		const struct ch_heap_index_typerow *x = &s->typerows[i];
		rows[i] = (struct ch_top_type){x->type, x->objects, x->shallow, x->retained, x->retained_objects};
	}
	ch_top_types_sort(t, rows, s->ntyperows, &a->heap);
	return NULL;
}

struct ch_error *ch_root_set_types(struct ch_top *t, struct ch_dominators *d, const struct ch_analysis *a,
				   const struct ch_roots *r)
{
	/* An index's tree comes with its rows: taken without the check of its
	 * shape, since nothing walks it then. */
	bool rows = a->index && a->index->doms.idom;
	struct ch_error *err = ch_root_set_dominators(d, a, r, !rows);
	return err ? err : ch_root_set_top_types(t, d, a);
}

/* The search the heap index holds, when it started from this very root
 * set: true when p is filled from it. A stored search that is not the
 * search's tree is said and not used. */
static bool stored_paths(struct ch_paths *p, const struct ch_analysis *a, const struct ch_root_set *rs, uint64_t hash,
			 bool chains, struct ch_error **err)
{
	struct ch_heap_index_ref *ix = a->index;
	const struct ch_heap_index_paths *s = &ix->paths;
	if (!s->parent || s->roots != hash || s->nobjects != a->heap.objects.n)
		return false;
	*err = chains ? ch_paths_from_stored_chains(p, s->parent, s->via, s->rank, s->nreached, &a->edges, s->nobjects,
						    rs->objects, rs->n, s->backing)
		      : ch_paths_from_stored(p, s->parent, s->via, s->rank, s->nreached, &a->edges, s->nobjects,
					     rs->objects, rs->n, s->backing);
	if (*err && (*err)->kind == CH_ERR_INPUT) {
		ch_diag_warn(&a->heap.py->diag, "the heap index %s's shortest paths were not used: damaged; %s", ix->path,
			     (*err)->message);
		ch_error_free(*err);
		*err = NULL;
		return false;
	}
	return true;
}

/* The search just made kept in the index, with the roots when they were
 * found here in silence (a failure is a warning, never the command's). */
static void keep_paths(const struct ch_analysis *a, const struct ch_roots *r, const struct ch_root_set *rs,
		       uint64_t hash, const struct ch_paths *p)
{
	struct ch_heap_index_ref *ix = a->index;
	ix->paths_added = true;
	struct ch_heap_index_root *recs = NULL;
	struct ch_error *werr = NULL;
	if (!r->set && r->quiet)
		werr = ch_root_set_records(r, &recs);
	if (!werr)
		werr = ch_heap_index_add_paths(ix, recs, rs->objects, rs->n, hash, p->parent, p->via, p->rank, p->nreached);
	free(recs);
	ix->paths_failed = werr != NULL;
	if (werr) {
		ch_diag_warn(&a->heap.py->diag, "no shortest paths added to the heap index: %s", werr->message);
		ch_error_free(werr);
	}
}

static struct ch_error *root_set_paths(struct ch_paths *p, const struct ch_analysis *a, const struct ch_roots *r,
				       bool chains)
{
	struct ch_root_set rs;
	struct ch_error *err = ch_root_set_build(&rs, r, &a->heap.objects, &a->edges);
	if (err)
		return err;
	struct ch_heap_index_ref *ix = a->index;
	bool indexed = ch_heap_index_is_of(ix, a->heap.objects.n, a->edges.nedges);
	uint64_t ph = indexed ? ch_heap_index_paths_hash(rs.objects, rs.tiers, rs.n) : 0;
	if (indexed && stored_paths(p, a, &rs, ph, chains, &err)) {
		ch_root_set_deinit(&rs);
		return err;
	}
	/* One verdict per object: on an exact heap, what the GC replay calls
	 * garbage is reached by no root in `path` either. */
	bool *garbage = NULL;
	if (ch_exactness_exact(&a->edges.exactness) && a->replay.state) {
		garbage = malloc(a->heap.objects.n ? a->heap.objects.n : 1);
		if (!garbage) {
			ch_root_set_deinit(&rs);
			return &ch_error_nomem;
		}
		for (size_t i = 0; i < a->heap.objects.n; i++)
			garbage[i] = ch_replay_is_garbage(a->replay.state[i]);
	}
	err = ch_paths_search(p, &a->edges, a->heap.objects.n, rs.objects, rs.tiers, r->n, garbage);
	free(garbage);
	if (!err && indexed && !ix->paths_added)
		keep_paths(a, r, &rs, ph, p);
	ch_root_set_deinit(&rs);
	return err;
}

struct ch_error *ch_root_set_paths(struct ch_paths *p, const struct ch_analysis *a, const struct ch_roots *r)
{
	return root_set_paths(p, a, r, false);
}

struct ch_error *ch_root_set_paths_chains(struct ch_paths *p, const struct ch_analysis *a, const struct ch_roots *r)
{
	return root_set_paths(p, a, r, true);
}

struct ch_error *ch_root_set_paths_walk(const struct ch_analysis *a, const struct ch_roots *r, ch_paths_walk_fn walk,
					void *arg)
{
	struct ch_paths p;
	struct ch_error *err = root_set_paths(&p, a, r, true);
	if (err)
		return err;
	err = walk(&p, arg);
	bool chains = p.chains;
	ch_paths_deinit(&p);
	if (!err || err->kind != CH_ERR_INPUT || !chains)
		return err;
	/* A chain found damaged: the whole search checked (said, searched
	 * again and replaced) and walked again. */
	ch_error_free(err);
	if ((err = root_set_paths(&p, a, r, false)))
		return err;
	err = walk(&p, arg);
	ch_paths_deinit(&p);
	return err;
}
