#include "find.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

/* Does the tp_mro tuple of type index t hold a type named name? (The MRO
 * starts with the type itself.) Returns false with *readable false when the
 * tuple cannot be read. */
static struct ch_error *mro_has(struct ch_python *py, uint32_t t, const char *name, bool *has, bool *readable)
{
	*has = false;
	*readable = false;
	uint64_t mro, n;
	struct ch_error *err = ch_py_read_u64(py, py->types.v[t].addr, CH_PY_TP_MRO, &mro);
	if (!err && mro)
		err = ch_py_read_u64(py, mro, CH_PY_VAR_SIZE, &n);
	if (err || !mro || !ch_py_has(&py->layout, CH_PY_TUPLE_ITEMS) || (int64_t)n < 1 || n > CH_MRO_MAX) {
		ch_error_free(err);
		return NULL;
	}
	uint64_t items = mro + (uint64_t)ch_py_off(py, CH_PY_TUPLE_ITEMS);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t base;
		uint32_t bt;
		if ((err = ch_as_read_u64(&py->proc->as, items + 8 * i, &base))) {
			ch_error_free(err);
			return NULL;
		}
		if ((err = ch_py_type_intern(py, base, &bt)))
			return err; /* out of memory */
		if (strcmp(ch_py_type_name(&py->types, bt), name) == 0)
			*has = true;
	}
	*readable = true;
	return NULL;
}

static const struct ch_object_table *g_objs; /* qsort has no context argument in C11 */

static int by_size_then_addr(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (ch_objects_size(g_objs, x) != ch_objects_size(g_objs, y))
		return ch_objects_size(g_objs, x) > ch_objects_size(g_objs, y) ? -1 : 1;
	return g_objs->addr[x] < g_objs->addr[y] ? -1 : g_objs->addr[x] > g_objs->addr[y];
}

struct ch_error *ch_find_by_type(struct ch_find_result *r, struct ch_heap *heap, const char *name, bool subclasses,
				 uint64_t min_bytes)
{
	memset(r, 0, sizeof(*r));
	struct ch_python *py = heap->py;
	const struct ch_object_table *o = &heap->objects;
	size_t ntypes = py->types.n; /* types of heap objects: mro_has may intern more */
	uint8_t *match = calloc(ntypes ? ntypes : 1, 1);
	size_t *count = calloc(ntypes ? ntypes : 1, sizeof(*count));
	struct ch_error *err = NULL;
	if (!match || !count) {
		err = &ch_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < o->n; i++)
		count[o->type[i]]++;
	for (uint32_t t = 0; t < ntypes; t++) {
		if (!count[t])
			continue;
		match[t] = strcmp(ch_py_type_name(&py->types, t), name) == 0;
		if (match[t] || !subclasses)
			continue;
		bool has, readable;
		if ((err = mro_has(py, t, name, &has, &readable)))
			goto out;
		match[t] = has;
		if (!readable)
			ch_diag_partial(&py->diag, "the MRO of type %s at 0x%" PRIx64 " is unreadable: its %zu objects are "
				       "not checked as subclasses", ch_py_type_name(&py->types, t), py->types.v[t].addr,
				       count[t]);
	}
	size_t total = 0;
	for (uint32_t t = 0; t < ntypes; t++) {
		if (match[t]) {
			r->types_matched++;
			total += count[t];
		}
	}
	if (!r->types_matched) {
		const char *want = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
		for (uint32_t t = 0; t < ntypes && r->nsimilar < CH_FIND_SIMILAR_MAX; t++) {
			const char *tn = ch_py_type_name(&py->types, t), *last = strrchr(tn, '.') ? strrchr(tn, '.') + 1 : tn;
			if (count[t] && strcasecmp(last, want) == 0)
				r->similar[r->nsimilar++] = t;
		}
	}
	r->objects = malloc((total ? total : 1) * sizeof(*r->objects));
	if (!r->objects) {
		err = &ch_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < o->n; i++)
		if (match[o->type[i]] && ch_objects_size(o, i) >= min_bytes)
			r->objects[r->n++] = (uint32_t)i;
	g_objs = o;
	qsort(r->objects, r->n, sizeof(*r->objects), by_size_then_addr);
out:
	free(match);
	free(count);
	if (err)
		ch_find_result_deinit(r);
	return err;
}

void ch_find_result_deinit(struct ch_find_result *r)
{
	free(r->objects);
	memset(r, 0, sizeof(*r));
}
