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

/* Counting is a group-by: one pass over the objects adds each into the
 * cell of its (interpreter, selected or not, generation, type), then
 * each query sums the cells its filters take. The cost per object is
 * then the same for one query or many. Interpreter buckets: one per
 * interpreter a query names, one for every other; generation buckets:
 * 0..4 (CH_GEN_*) and one for a byte out of that range (counted as
 * untracked in the rows, as no --generation value names it). */
#define GEN_BUCKETS (CH_HIST_GENS + 1)
#define CELLS_MAX (1u << 22) /* cells per pass; queries beyond go to another pass */

struct cell {
	uint64_t count, bytes;
};

/* One pass: queries q[0..n); those with a selection all have this one. */
struct pass {
	const struct ch_hist_query *q;
	size_t n;
	const uint8_t *select; /* NULL while no query has one */
	uint8_t value;
	uint16_t bucket[256]; /* interpreter index -> its bucket, UINT16_MAX: the others' */
	size_t nbuckets;     /* interpreters named + 1 (the others) */
};

static size_t cells_of(size_t nbuckets, size_t nt)
{
	return nbuckets * 2 * GEN_BUCKETS * nt;
}

/* Takes q into p when its selection (if any) is p's and the cells stay
 * in bounds; the first query is always taken. */
static bool pass_take(struct pass *p, const struct ch_hist_query *q, size_t nt)
{
	if (q->select && p->select && (q->select != p->select || q->value != p->value))
		return false;
	/* A new bucket unless q takes all interpreters, none, or one named already. */
	bool have = q->interp < 0 || q->interp > 255 || p->bucket[q->interp] != UINT16_MAX;
	if (p->n && !have && cells_of(p->nbuckets + 1, nt) > CELLS_MAX)
		return false;
	if (!have) {
		p->bucket[q->interp] = (uint16_t)(p->nbuckets - 1);
		p->nbuckets++;
	}
	if (q->select && !p->select) {
		p->select = q->select;
		p->value = q->value;
	}
	p->n++;
	return true;
}

static void pass_start(struct pass *p, const struct ch_hist_query *q)
{
	memset(p, 0, sizeof(*p));
	p->q = q;
	p->nbuckets = 1;
	memset(p->bucket, 0xFF, sizeof(p->bucket));
}

/* The bucket of interpreter index v: the "others" one unless named. */
static inline size_t bucket_of(const struct pass *p, uint8_t v)
{
	return p->bucket[v] == UINT16_MAX ? p->nbuckets - 1 : p->bucket[v];
}

/* The rows query q takes from the cells, sorted and cut as q says. */
static struct ch_error *finish(struct ch_type_histogram *h, const struct pass *p, const struct ch_hist_query *q,
			       const struct cell *cells, const struct ch_py_types *types)
{
	memset(h, 0, sizeof(*h));
	size_t nt = types->n;
	struct ch_type_row *rows = calloc(nt ? nt : 1, sizeof(*rows));
	if (!rows)
		return &ch_error_nomem;
	size_t n = 0;
	/* The interpreter buckets q takes: all, its own, or none (an index
	 * no object can have). Selected objects are in sel 1, the rest in 0. */
	size_t b0 = 0, b1 = p->nbuckets;
	if (q->interp > 255)
		b1 = 0;
	else if (q->interp >= 0)
		b0 = bucket_of(p, (uint8_t)q->interp), b1 = b0 + 1;
	for (size_t t = 0; t < nt; t++) {
		struct ch_type_row r = {.type = (uint32_t)t};
		for (size_t b = b0; b < b1; b++) {
			for (size_t sel = q->select ? 1 : 0; sel < 2; sel++)
				for (size_t g = 0; g < GEN_BUCKETS; g++) {
					if (q->generation >= 0 && (size_t)q->generation != g)
						continue;
					const struct cell *c = &cells[((b * 2 + sel) * GEN_BUCKETS + g) * nt + t];
					r.count += c->count;
					r.bytes += c->bytes;
					r.gen[g < CH_HIST_GENS ? g : CH_GEN_UNTRACKED] += c->count;
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

/* Counts the objects into p's cells and fills h[0..p->n). */
static struct ch_error *run_pass(struct ch_type_histogram *h, const struct pass *p, const struct ch_heap *heap)
{
	const struct ch_py_types *types = &heap->py->types;
	const struct ch_object_table *o = &heap->objects;
	size_t nt = types->n;
	struct cell *cells = calloc(nt ? cells_of(p->nbuckets, nt) : 1, sizeof(*cells));
	if (!cells)
		return &ch_error_nomem;
	const uint8_t *select = p->select, value = p->value;
	for (size_t i = 0; i < o->n; i++) {
		uint32_t t = o->type[i];
		if (t >= nt)
			continue;
		size_t g = o->gen[i] < CH_HIST_GENS ? o->gen[i] : CH_HIST_GENS;
		size_t sel = select ? select[i] == value : 0;
		struct cell *c = &cells[((bucket_of(p, o->interp[i]) * 2 + sel) * GEN_BUCKETS + g) * nt + t];
		c->count++;
		c->bytes += ch_objects_size(o, i);
	}
	struct ch_error *err = NULL;
	for (size_t j = 0; j < p->n && !err; j++)
		err = finish(&h[j], p, &p->q[j], cells, types);
	free(cells);
	return err;
}

struct ch_error *ch_type_histogram_build_many(struct ch_type_histogram *h, const struct ch_hist_query *q, size_t n,
					      const struct ch_heap *heap)
{
	memset(h, 0, n * sizeof(*h));
	size_t nt = heap->py->types.n;
	struct ch_error *err = NULL;
	struct pass p;
	for (size_t j = 0; j < n && !err;) {
		pass_start(&p, &q[j]);
		while (j + p.n < n && pass_take(&p, &q[j + p.n], nt))
			;
		err = run_pass(h + j, &p, heap);
		j += p.n;
	}
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
