/* The flame graph (graph/flame.h) of the dominator tree under a root set,
 * and the heap index's copy of it (format 15): taken from the index when
 * it keeps the flame of this very root set, else built over the tree and
 * the search and kept there beside them. */
#include "root_set.h"

#include <stdlib.h>
#include <string.h>

#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/flame.h"
#include "graph/heap_index.h"
#include "graph/paths.h"
#include "readers/cpython/python.h"

/* The hashes the index keys a tree (*dom) and a search (*paths) by, for
 * r's root set; false when a holds no index of this heap. */
static bool flame_keys(const struct ch_analysis *a, const struct ch_roots *r, uint64_t *dom, uint64_t *paths,
		       struct ch_error **err)
{
	const struct ch_heap_index_ref *ix = a->index;
	*err = NULL;
	if (!ch_heap_index_is_of(ix, a->heap.objects.n, a->edges.nedges))
		return false;
	struct ch_root_set rs;
	if ((*err = ch_root_set_build(&rs, r, &a->heap.objects, &a->edges)))
		return false;
	*dom = ch_heap_index_roots_hash(rs.objects, rs.n);
	*paths = ch_heap_index_paths_hash(rs.objects, rs.tiers, rs.n);
	ch_root_set_deinit(&rs);
	return true;
}

bool ch_root_set_flame_stored(struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *r,
			      struct ch_error **err)
{
	memset(f, 0, sizeof(*f));
	uint64_t dom, paths;
	if (!flame_keys(a, r, &dom, &paths, err))
		return false;
	const struct ch_heap_index_doms *s = &a->index->doms;
	if (!s->idom || !s->flame || s->nobjects != a->heap.objects.n || s->roots != dom || s->flame_roots != paths ||
	    s->flame_nroots != r->n)
		return false;
	/* Copied (a few thousand frames): the renderers read the build's
	 * structs; the hash tables stay empty, as nothing looks a frame up. */
	f->names = malloc((s->flame_nnames ? s->flame_nnames : 1) * sizeof(*f->names));
	f->frames = malloc((s->flame_nframes ? s->flame_nframes : 1) * sizeof(*f->frames));
	if (!f->names || !f->frames) {
		ch_flame_deinit(f);
		*err = &ch_error_nomem;
		return false;
	}
	for (size_t i = 0; i < s->flame_nnames; i++) {
		const struct ch_heap_index_flame_name *x = &s->flame_names[i];
		f->names[i] = (struct ch_flame_name){0, x->edge, x->root, x->type, x->star};
	}
	for (size_t k = 0; k < s->flame_nframes; k++) {
		const struct ch_heap_index_flame_frame *x = &s->flame_frames[k];
		f->frames[k] = (struct ch_flame_frame){.parent = x->parent, .name = x->name, .depth = x->depth,
						       .self = x->self, .total = x->total, .objects = x->objects};
	}
	f->nnames = f->names_cap = s->flame_nnames;
	f->nframes = f->frames_cap = s->flame_nframes;
	f->total = s->reachable_bytes; /* the frames' self bytes add up to it (checked by the load) */
	return true;
}

/* f as the index keeps it (*names and *frames malloc'd). */
static struct ch_error *flame_records(const struct ch_flame *f, struct ch_heap_index_flame_name **names,
				      struct ch_heap_index_flame_frame **frames)
{
	*names = calloc(f->nnames ? f->nnames : 1, sizeof(**names));
	*frames = calloc(f->nframes ? f->nframes : 1, sizeof(**frames));
	if (!*names || !*frames)
		return &ch_error_nomem;
	for (size_t i = 0; i < f->nnames; i++) {
		const struct ch_flame_name *x = &f->names[i];
		(*names)[i] = (struct ch_heap_index_flame_name){x->edge, x->root, x->type, x->star, {0}};
	}
	for (size_t k = 0; k < f->nframes; k++) {
		const struct ch_flame_frame *x = &f->frames[k];
		(*frames)[k] = (struct ch_heap_index_flame_frame){x->parent, x->name, x->depth, 0, x->self, x->total,
								  x->objects};
	}
	return NULL;
}

void ch_root_set_flame_keep(const struct ch_analysis *a, const struct ch_roots *r, const struct ch_flame *f)
{
	struct ch_heap_index_ref *ix = a->index;
	uint64_t dom, paths;
	struct ch_error *err = NULL;
	if (!ix || !flame_keys(a, r, &dom, &paths, &err)) {
		ch_error_free(err); /* out of memory: nothing kept, nothing said */
		return;
	}
	/* Only beside the tree and search it was built over: the tree this
	 * process used is the file's, and so is the search (stored for these
	 * roots, or added by this process). */
	bool search = (ix->paths.parent && ix->paths.roots == paths) || ix->paths_added;
	if (ix->flame_added || !ix->holds_tree || !search || ix->paths_failed)
		return;
	ix->flame_added = true;
	struct ch_heap_index_flame_name *names = NULL;
	struct ch_heap_index_flame_frame *frames = NULL;
	err = flame_records(f, &names, &frames);
	if (!err)
		err = ch_heap_index_add_flame(ix, dom, paths, r->n, names, f->nnames, frames, f->nframes);
	free(names);
	free(frames);
	if (err) {
		ch_diag_warn(&a->heap.py->diag, "no flame graph added to the heap index: %s", err->message);
		ch_error_free(err);
	}
}

struct ch_error *ch_root_set_flame_build(struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *r,
					 const struct ch_dominators *d, const struct ch_paths *p)
{
	struct ch_error *err = ch_flame_build(f, a, d, p);
	if (!err)
		ch_root_set_flame_keep(a, r, f);
	return err;
}

struct ch_error *ch_root_set_flame(struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *r)
{
	struct ch_error *err;
	if (ch_root_set_flame_stored(f, a, r, &err) || err)
		return err;
	struct ch_dominators d = {0};
	struct ch_paths p = {0};
	err = ch_root_set_dominators(&d, a, r, true);
	if (!err)
		err = ch_root_set_paths(&p, a, r);
	if (!err)
		err = ch_root_set_flame_build(f, a, r, &d, &p);
	ch_paths_deinit(&p);
	ch_dominators_deinit(&d);
	return err;
}
