#include "heap.h"

#include <inttypes.h>
#include <string.h>

#include "readers/cpython/py_gc.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

/* Outside a collection the walk's back-link check already guarantees that
 * no object is visited twice (a revisit would need its predecessor to
 * repeat too, back to a list head), so objects are appended and indexed
 * once at the end: pre-sized and prefetched, far cheaper than hashing each
 * on arrival. During a collection the links are not trusted and every
 * object is looked up as it comes, which is what detects loops there. */
struct build_ctx {
	struct ch_heap *heap;
	bool bulk;
	struct ch_error *err;
	ch_progress_fn progress;
	void *progress_arg;
	uint8_t interp; /* index of the interpreter whose lists are walked */
};

static int add_object(void *arg, const struct ch_gc_object *o, int generation)
{
	struct build_ctx *c = arg;
	struct ch_python *py = c->heap->py;
	uint32_t type;
	if ((c->err = ch_py_type_intern(py, o->type, &type)))
		return CH_GC_VISIT_ABORT;
	const struct ch_py_type *ty = &py->types.v[type];
	uint64_t size = ty->valid ? ch_py_type_object_size(ty, o->ob_size) : 0;
	bool added = true;
	uint8_t flags = o->finalized ? CH_OBJ_FINALIZED : 0;
	if (c->bulk)
		c->err = ch_objects_append(&c->heap->objects, o->addr, type, o->refcnt, size, (uint8_t)generation, flags);
	else
		c->err = ch_objects_add(&c->heap->objects, o->addr, type, o->refcnt, size, (uint8_t)generation, flags,
					NULL, &added);
	if (c->err)
		return CH_GC_VISIT_ABORT;
	if (!added)
		return CH_GC_VISIT_SEEN;
	c->heap->objects.interp[c->heap->objects.n - 1] = c->interp;
	if (c->progress && (c->heap->objects.n & 0xFFFF) == 0)
		c->progress(c->progress_arg, "walking GC lists", c->heap->objects.n);
	return 0;
}

struct ch_error *ch_heap_build(struct ch_heap *heap, struct ch_python *py, ch_progress_fn progress, void *progress_arg)
{
	memset(heap, 0, sizeof(*heap));
	heap->py = py;
	ch_objects_init(&heap->objects);
	struct build_ctx c = {heap, !py->gc.collecting, NULL, progress, progress_arg, 0};
	uint64_t limit = ch_python_object_limit(py);
	for (size_t k = 0; k < py->ninterps; k++)
		if (py->interps[k].own_gc && py->interps[k].gc.collecting)
			c.bulk = false;
	/* One collector per interpreter (3.9+): each one's lists in turn. An
	 * object sits on one list only, so none is counted twice; immortal and
	 * static objects shared by all interpreters are on no list. */
	for (size_t k = 0; k < (py->ninterps ? py->ninterps : 1); k++) {
		const struct ch_gc_state *gc = py->ninterps ? &py->interps[k].gc : &py->gc;
		if (py->ninterps && !py->interps[k].own_gc)
			continue;
		c.interp = (uint8_t)k;
		int lists[CH_GC_MAX_GENERATIONS + 1], nlists = 0;
		for (int g = 0; g < gc->ngenerations; g++)
			lists[nlists++] = g;
		lists[nlists++] = CH_GC_PERMANENT;
		for (int i = 0; i < nlists; i++) {
			uint64_t count;
			struct ch_error *err = ch_py_gc_walk_state(py, gc, lists[i], limit, add_object, &c, &count);
			if (err) {
				ch_error_free(err);
				err = c.err;
				c.err = NULL;
				ch_heap_deinit(heap);
				return err ? err : ch_error_new(CH_ERR_NOMEM, "GC walk aborted");
			}
			heap->list_counts[lists[i] == CH_GC_PERMANENT ? 3 : lists[i]] += count;
		}
	}
	if (c.bulk) {
		uint64_t dropped;
		struct ch_error *err = ch_objects_index_build(&heap->objects, &dropped);
		if (err) {
			ch_heap_deinit(heap);
			return err;
		}
		if (dropped)
			ch_diag_partial(&py->diag, "%" PRIu64 " objects were found on more than one GC list; counted once",
					dropped);
	}
	return NULL;
}

void ch_heap_deinit(struct ch_heap *heap)
{
	ch_objects_deinit(&heap->objects);
}
