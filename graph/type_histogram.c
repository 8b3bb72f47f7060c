#include "type_histogram.h"

#include <stdint.h>
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

/* Up to this many accumulators (types x queries) are kept REPLICAS times
 * over, object i adding into copy i % REPLICAS: a run of objects of one
 * type then adds into REPLICAS places in turn instead of waiting on each
 * add to the same counter. Above it (a huge type table) one copy. */
#define REPLICAS 4 /* a power of two */
#define REPLICATED_MAX (1u << 16)

/* Per query and type while counting: count is the sum of gen. */
struct acc {
	uint64_t bytes;
	uint64_t gen[CH_HIST_GENS];
};

static bool query_takes(const struct ch_hist_query *q, const struct ch_object_table *o, size_t i)
{
	return (q->generation < 0 || o->gen[i] == q->generation) && (!q->select || q->select[i] == q->value) &&
	       (q->interp < 0 || o->interp[i] == q->interp);
}

/* Rows of the types with objects from the replicas of one query's
 * accumulators, sorted and cut as q says. */
static struct ch_error *finish(struct ch_type_histogram *h, const struct ch_hist_query *q, const struct acc *acc,
			       size_t replicas, const struct ch_py_types *types)
{
	memset(h, 0, sizeof(*h));
	size_t nt = types->n;
	struct ch_type_row *rows = calloc(nt ? nt : 1, sizeof(*rows));
	if (!rows)
		return &ch_error_nomem;
	size_t n = 0;
	for (size_t t = 0; t < nt; t++) {
		struct ch_type_row r = {.type = (uint32_t)t};
		for (size_t c = 0; c < replicas; c++) {
			const struct acc *a = &acc[c * nt + t];
			r.bytes += a->bytes;
			for (int g = 0; g < CH_HIST_GENS; g++) {
				r.gen[g] += a->gen[g];
				r.count += a->gen[g];
			}
		}
		if (!r.count)
			continue;
		h->totals.count += r.count;
		h->totals.bytes += r.bytes;
		for (int g = 0; g < CH_HIST_GENS; g++)
			h->totals.gen[g] += r.gen[g];
		rows[n++] = r;
	}
	g_sort.sort = q->sort;
	g_sort.types = types;
	qsort(rows, n, sizeof(*rows), row_cmp);
	h->rows = rows;
	h->ntypes = n;
	h->n = q->top && q->top < n ? q->top : n;
	return NULL;
}

struct ch_error *ch_type_histogram_build_many(struct ch_type_histogram *h, const struct ch_hist_query *q, size_t n,
					      const struct ch_heap *heap)
{
	memset(h, 0, n * sizeof(*h));
	const struct ch_py_types *types = &heap->py->types;
	const struct ch_object_table *o = &heap->objects;
	size_t nt = types->n ? types->n : 1;
	size_t replicas = n && nt <= REPLICATED_MAX / n ? REPLICAS : 1;
	size_t per_query = replicas * nt;
	if (n && per_query > SIZE_MAX / sizeof(struct acc) / n)
		return &ch_error_nomem;
	struct acc *acc = calloc(n ? n * per_query : 1, sizeof(*acc));
	if (!acc)
		return &ch_error_nomem;
	for (size_t i = 0; i < o->n; i++) {
		uint32_t t = o->type[i];
		if (t >= types->n)
			continue;
		uint8_t g = o->gen[i] < CH_HIST_GENS ? o->gen[i] : CH_GEN_UNTRACKED;
		uint64_t size = ch_objects_size(o, i);
		size_t at = (i & (replicas - 1)) * nt + t; /* replicas: 1 or REPLICAS, a power of two */
		for (size_t j = 0; j < n; j++, at += per_query) {
			if (!query_takes(&q[j], o, i))
				continue;
			acc[at].bytes += size;
			acc[at].gen[g]++;
		}
	}
	struct ch_error *err = NULL;
	for (size_t j = 0; j < n && !err; j++)
		err = finish(&h[j], &q[j], acc + j * per_query, replicas, types);
	free(acc);
	if (err)
		for (size_t j = 0; j < n; j++)
			ch_type_histogram_deinit(&h[j]);
	return err;
}

struct ch_error *ch_type_histogram_build(struct ch_type_histogram *h, const struct ch_heap *heap, int generation,
					 enum ch_hist_sort sort, size_t top)
{
	struct ch_hist_query q = {generation, NULL, 0, -1, sort, top};
	return ch_type_histogram_build_many(h, &q, 1, heap);
}

struct ch_error *ch_type_histogram_build_selected(struct ch_type_histogram *h, const struct ch_heap *heap,
						  const uint8_t *select, uint8_t value, enum ch_hist_sort sort,
						  size_t top)
{
	struct ch_hist_query q = {-1, select, value, -1, sort, top};
	return ch_type_histogram_build_many(h, &q, 1, heap);
}

struct ch_error *ch_type_histogram_build_interp(struct ch_type_histogram *h, const struct ch_heap *heap, int interp,
						int generation, const uint8_t *select, uint8_t value,
						enum ch_hist_sort sort, size_t top)
{
	struct ch_hist_query q = {generation, select, value, interp, sort, top};
	return ch_type_histogram_build_many(h, &q, 1, heap);
}

void ch_type_histogram_deinit(struct ch_type_histogram *h)
{
	free(h->rows);
	memset(h, 0, sizeof(*h));
}
