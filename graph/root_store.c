/* The roots taken from the heap index instead of found again
 * (graph/roots.h, ch_roots_get), and the records the index keeps them as
 * (graph/root_set.h, ch_root_set_records). */
#include "graph/roots.h"
#include "graph/root_set.h"

#include <stdlib.h>
#include <string.h>

#include "graph/heap_index.h"
#include "readers/cpython/python.h"

/* The stored roots into r (frames already read): false when one names a
 * frame or thread that was not read. */
static bool take(struct ch_roots *r, const struct ch_heap_index_roots *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct ch_heap_index_root *x = &s->recs[i];
		enum ch_root_kind k = (enum ch_root_kind)x->kind;
		bool framed = k == CH_ROOT_FRAME_LOCAL || k == CH_ROOT_FRAME_GLOBALS || k == CH_ROOT_FRAME_OTHER;
		if ((framed && x->frame >= r->stacks.nframes) || (k == CH_ROOT_THREAD && x->frame >= r->stacks.nthreads))
			return false;
		r->items[i] = (struct ch_root){
			.object = x->object, .kind = x->kind, .name = x->name, .frame = x->frame, .where = x->where};
		r->count[k]++;
	}
	r->n = s->n;
	r->set = s->set;
	return true;
}

struct ch_error *ch_roots_get(struct ch_roots *r, struct ch_analysis *a)
{
	const struct ch_heap_index_ref *ix = a->index;
	if (!ix || !ix->roots.have || ix->nobjects != a->heap.objects.n || ix->nedges != a->edges.nedges)
		return ch_roots_find(r, a);
	memset(r, 0, sizeof(*r));
	struct ch_python *py = a->heap.py;
	r->items = malloc((ix->roots.n ? ix->roots.n : 1) * sizeof(*r->items));
	if (!r->items)
		return &ch_error_nomem;
	r->cap = ix->roots.n;
	struct ch_error *err = ch_roots_read_stacks(r, py);
	if (err) {
		ch_roots_deinit(r);
		return err;
	}
	if (take(r, &ix->roots)) {
		r->quiet = true;
		return NULL;
	}
	/* Found again: the frames are read once more, and what reading them
	 * said is not said twice (the runtime's warnings keep one of each). */
	ch_roots_deinit(r);
	ch_diag_warn(&py->diag, "the heap index %s's roots were not used: damaged; a root names a frame or thread "
				"that was not read", ix->path);
	if ((err = ch_roots_find(r, a)) || !r->quiet || ix->paths_added)
		return err;
	/* Replaced by the roots found here (the rest of the file as it is),
	 * once per process; a failure is a warning, never the command's. */
	a->index->paths_added = true;
	struct ch_root_set rs;
	struct ch_heap_index_root *recs = NULL;
	struct ch_error *werr = ch_root_set_build(&rs, r, &a->heap.objects, &a->edges);
	if (!werr && !(werr = ch_root_set_records(r, &recs)))
		werr = ch_heap_index_add_paths(ix, recs, rs.objects, rs.n, 0, NULL, NULL, NULL, 0);
	ch_root_set_deinit(&rs);
	free(recs);
	if (werr) {
		ch_diag_warn(&py->diag, "no roots added to the heap index: %s", werr->message);
		ch_error_free(werr);
	}
	return NULL;
}

struct ch_error *ch_root_set_records(const struct ch_roots *r, struct ch_heap_index_root **out)
{
	*out = calloc(r->n ? r->n : 1, sizeof(**out));
	if (!*out)
		return &ch_error_nomem;
	for (size_t i = 0; i < r->n; i++) {
		const struct ch_root *x = &r->items[i];
		(*out)[i] = (struct ch_heap_index_root){
			.object = x->object, .name = x->name, .frame = x->frame, .kind = x->kind, .where = x->where};
	}
	return NULL;
}
