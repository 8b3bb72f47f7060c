#include "heap.h"

#include <string.h>

#include "readers/py_gc.h"
#include "readers/python.h"

struct build_ctx {
	struct ch_heap *heap;
	struct ch_error *err;
	ch_progress_fn progress;
	void *progress_arg;
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
	bool added;
	c->err = ch_objects_add(&c->heap->objects, o->addr, type, o->refcnt, size, (uint8_t)generation,
				o->finalized ? CH_OBJ_FINALIZED : 0, NULL, &added);
	if (c->err)
		return CH_GC_VISIT_ABORT;
	if (!added)
		return CH_GC_VISIT_SEEN;
	if (c->progress && (c->heap->objects.n & 0xFFFF) == 0)
		c->progress(c->progress_arg, "walking GC lists", c->heap->objects.n);
	return 0;
}

struct ch_error *ch_heap_build(struct ch_heap *heap, struct ch_python *py, ch_progress_fn progress, void *progress_arg)
{
	memset(heap, 0, sizeof(*heap));
	heap->py = py;
	ch_objects_init(&heap->objects);
	struct build_ctx c = {heap, NULL, progress, progress_arg};
	uint64_t limit = ch_python_object_limit(py);
	int lists[CH_GC_MAX_GENERATIONS + 1], nlists = 0;
	for (int g = 0; g < py->gc.ngenerations; g++)
		lists[nlists++] = g;
	lists[nlists++] = CH_GC_PERMANENT;
	for (int i = 0; i < nlists; i++) {
		uint64_t count;
		struct ch_error *err = ch_py_gc_walk(py, lists[i], limit, add_object, &c, &count);
		if (err) {
			ch_error_free(err);
			err = c.err;
			c.err = NULL;
			ch_heap_deinit(heap);
			return err ? err : ch_error_new(CH_ERR_NOMEM, "GC walk aborted");
		}
		heap->list_counts[lists[i] == CH_GC_PERMANENT ? 3 : lists[i]] = count;
	}
	return NULL;
}

void ch_heap_deinit(struct ch_heap *heap)
{
	ch_objects_deinit(&heap->objects);
}
