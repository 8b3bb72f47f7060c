#include "type_histogram.h"

#include <stdlib.h>
#include <string.h>

#include "readers/cpython/python.h"

struct sort_ctx {
	enum ch_hist_sort sort;
	const struct ch_py_types *types;
};

static struct sort_ctx g_sort; /* qsort has no context argument in C11 */

static int row_cmp(const void *a, const void *b)
{
	const struct ch_type_row *x = a, *y = b;
	uint64_t kx = g_sort.sort == CH_SORT_BYTES ? x->bytes : x->count;
	uint64_t ky = g_sort.sort == CH_SORT_BYTES ? y->bytes : y->count;
	if (kx != ky)
		return kx > ky ? -1 : 1;
	/* Ties in name order, so output is stable across runs. */
	return strcmp(ch_py_type_name(g_sort.types, x->type), ch_py_type_name(g_sort.types, y->type));
}

static struct ch_error *build(struct ch_type_histogram *h, const struct ch_heap *heap, int generation,
			      const uint8_t *select, uint8_t value, int interp, enum ch_hist_sort sort, size_t top)
{
	memset(h, 0, sizeof(*h));
	const struct ch_py_types *types = &heap->py->types;
	struct ch_type_row *rows = calloc(types->n ? types->n : 1, sizeof(*rows));
	if (!rows)
		return &ch_error_nomem;
	const struct ch_object_table *o = &heap->objects;
	for (size_t i = 0; i < o->n; i++) {
		if ((generation >= 0 && o->gen[i] != generation) || (select && select[i] != value) ||
		    (interp >= 0 && o->interp[i] != interp))
			continue;
		struct ch_type_row *r = &rows[o->type[i]];
		r->count++;
		r->bytes += ch_objects_size(o, i);
		r->gen[o->gen[i] < CH_HIST_GENS ? o->gen[i] : CH_GEN_UNTRACKED]++;
	}
	size_t n = 0;
	for (size_t t = 0; t < types->n; t++) {
		if (!rows[t].count)
			continue;
		rows[t].type = (uint32_t)t;
		h->totals.count += rows[t].count;
		h->totals.bytes += rows[t].bytes;
		for (int g = 0; g < CH_HIST_GENS; g++)
			h->totals.gen[g] += rows[t].gen[g];
		rows[n++] = rows[t];
	}
	g_sort.sort = sort;
	g_sort.types = types;
	qsort(rows, n, sizeof(*rows), row_cmp);
	h->rows = rows;
	h->ntypes = n;
	h->n = top && top < n ? top : n;
	return NULL;
}

struct ch_error *ch_type_histogram_build(struct ch_type_histogram *h, const struct ch_heap *heap, int generation,
					 enum ch_hist_sort sort, size_t top)
{
	return build(h, heap, generation, NULL, 0, -1, sort, top);
}

struct ch_error *ch_type_histogram_build_selected(struct ch_type_histogram *h, const struct ch_heap *heap,
						  const uint8_t *select, uint8_t value, enum ch_hist_sort sort,
						  size_t top)
{
	return build(h, heap, -1, select, value, -1, sort, top);
}

struct ch_error *ch_type_histogram_build_interp(struct ch_type_histogram *h, const struct ch_heap *heap, int interp,
						int generation, const uint8_t *select, uint8_t value,
						enum ch_hist_sort sort, size_t top)
{
	return build(h, heap, generation, select, value, interp, sort, top);
}

void ch_type_histogram_deinit(struct ch_type_histogram *h)
{
	free(h->rows);
	memset(h, 0, sizeof(*h));
}
