#include "diff.h"

#include <stdlib.h>
#include <string.h>

int64_t ch_diff_delta(uint64_t a, uint64_t b)
{
	if (b >= a)
		return b - a > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(b - a);
	return a - b > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(a - b);
}

const char *ch_diff_status_name(enum ch_diff_status s)
{
	static const char *const names[] = {"new", "grown", "shrunk", "gone"};
	return (unsigned)s < 4 ? names[s] : "?";
}

const char *ch_diff_gc_field_name(enum ch_diff_gc_field f)
{
	static const char *const names[CH_DIFF_GC_NFIELDS] = {"enabled",    "debug",   "thresholds", "counts",
								"collecting", "garbage", "frozen"};
	return (unsigned)f < CH_DIFF_GC_NFIELDS ? names[f] : "?";
}

/* Fills the deltas and status; false when nothing changed. */
static bool row_fill(struct ch_diff_row *r)
{
	r->count_delta = ch_diff_delta(r->count_a, r->count_b);
	r->bytes_delta = ch_diff_delta(r->bytes_a, r->bytes_b);
	if (!r->count_delta && !r->bytes_delta)
		return false;
	if (!r->count_a)
		r->status = CH_DIFF_NEW;
	else if (!r->count_b)
		r->status = CH_DIFF_GONE;
	else if (r->count_delta > 0 || (!r->count_delta && r->bytes_delta > 0))
		r->status = CH_DIFF_GROWN;
	else
		r->status = CH_DIFF_SHRUNK;
	return true;
}

static int row_cmp(const void *x, const void *y)
{
	const struct ch_diff_row *a = x, *b = y;
	if (a->bytes_delta != b->bytes_delta)
		return a->bytes_delta > b->bytes_delta ? -1 : 1;
	if (a->count_delta != b->count_delta)
		return a->count_delta > b->count_delta ? -1 : 1;
	return strcmp(a->name, b->name);
}

static struct ch_error *diff_types(struct ch_diff *d)
{
	const struct ch_heap_digest *A = d->a, *B = d->b;
	size_t cap = A->ntypes + B->ntypes;
	d->types = malloc((cap ? cap : 1) * sizeof(*d->types));
	if (!d->types)
		return &ch_error_nomem;
	size_t i = 0, j = 0;
	while (i < A->ntypes || j < B->ntypes) {
		const struct ch_digest_type *ta = i < A->ntypes ? &A->types[i] : NULL;
		const struct ch_digest_type *tb = j < B->ntypes ? &B->types[j] : NULL;
		int c = !ta ? 1 : !tb ? -1 : strcmp(ch_digest_str(A, ta->name), ch_digest_str(B, tb->name));
		struct ch_diff_row r = {0};
		if (c <= 0) {
			r.name = ch_digest_str(A, ta->name);
			r.count_a = ta->count;
			r.bytes_a = ta->bytes;
			i++;
		}
		if (c >= 0) {
			r.name = ch_digest_str(B, tb->name);
			r.count_b = tb->count;
			r.bytes_b = tb->bytes;
			j++;
		}
		if (row_fill(&r)) {
			d->nstatus[r.status]++;
			d->types[d->ntypes++] = r;
		}
	}
	qsort(d->types, d->ntypes, sizeof(*d->types), row_cmp);
	return NULL;
}

/* Shapes are kept by bytes (the digest's order), so they are matched by
 * key through a sorted copy of B's keys. */
struct key_ref {
	const char *key;
	const struct ch_digest_group *g;
};

static int key_ref_cmp(const void *x, const void *y)
{
	return strcmp(((const struct key_ref *)x)->key, ((const struct key_ref *)y)->key);
}

static struct key_ref *sorted_keys(const struct ch_heap_digest *h)
{
	struct key_ref *v = malloc((h->ngroups ? h->ngroups : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < h->ngroups; i++) {
		v[i].key = ch_digest_str(h, h->groups[i].key);
		v[i].g = &h->groups[i];
	}
	qsort(v, h->ngroups, sizeof(*v), key_ref_cmp);
	return v;
}

static struct ch_error *diff_groups(struct ch_diff *d)
{
	struct key_ref *ka = sorted_keys(d->a), *kb = sorted_keys(d->b);
	size_t cap = d->a->ngroups + d->b->ngroups;
	d->groups = malloc((cap ? cap : 1) * sizeof(*d->groups));
	if (!ka || !kb || !d->groups) {
		free(ka);
		free(kb);
		return &ch_error_nomem;
	}
	size_t i = 0, j = 0;
	while (i < d->a->ngroups || j < d->b->ngroups) {
		const struct key_ref *x = i < d->a->ngroups ? &ka[i] : NULL;
		const struct key_ref *y = j < d->b->ngroups ? &kb[j] : NULL;
		int c = !x ? 1 : !y ? -1 : strcmp(x->key, y->key);
		struct ch_diff_row r = {0};
		if (c <= 0) {
			r.name = x->key;
			r.ga = x->g;
			r.count_a = x->g->count;
			r.bytes_a = x->g->bytes;
			i++;
		}
		if (c >= 0) {
			r.name = y->key;
			r.gb = y->g;
			r.count_b = y->g->count;
			r.bytes_b = y->g->bytes;
			j++;
		}
		if (row_fill(&r))
			d->groups[d->ngroups++] = r;
	}
	qsort(d->groups, d->ngroups, sizeof(*d->groups), row_cmp);
	free(ka);
	free(kb);
	return NULL;
}

static unsigned diff_gc(const struct ch_heap_digest *A, const struct ch_heap_digest *B)
{
	const struct ch_gc_state *a = &A->gc, *b = &B->gc;
	unsigned m = 0;
	size_t n = (size_t)(a->ngenerations > 0 ? a->ngenerations : 0) * sizeof(int);
	bool same_gens = a->ngenerations == b->ngenerations && a->ngenerations <= CH_GC_MAX_GENERATIONS;
	if (a->enabled != b->enabled)
		m |= 1u << CH_DIFF_GC_ENABLED;
	if (a->debug != b->debug)
		m |= 1u << CH_DIFF_GC_DEBUG;
	if (!same_gens || memcmp(a->thresholds, b->thresholds, n) != 0)
		m |= 1u << CH_DIFF_GC_THRESHOLDS;
	if (!same_gens || memcmp(a->counts, b->counts, n) != 0)
		m |= 1u << CH_DIFF_GC_COUNTS;
	if (a->collecting != b->collecting)
		m |= 1u << CH_DIFF_GC_COLLECTING;
	if (a->garbage != b->garbage)
		m |= 1u << CH_DIFF_GC_GARBAGE;
	if (A->frozen != B->frozen)
		m |= 1u << CH_DIFF_GC_FROZEN;
	return m;
}

static int cmp_growth(const void *x_, const void *y_)
{
	const struct ch_diff_growth *x = x_, *y = y_;
	if (x->retained_delta != y->retained_delta)
		return x->retained_delta > y->retained_delta ? -1 : 1;
	if (x->elements_delta != y->elements_delta)
		return x->elements_delta > y->elements_delta ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* Containers matched by path: at most CH_CONTAINERS_MAX a side, so the
 * quadratic match is a few ten thousand comparisons. */
static struct ch_error *diff_growth(struct ch_diff *d)
{
	const struct ch_heap_digest *a = d->a, *b = d->b;
	d->growth_known = a->has_containers && b->has_containers;
	if (!d->growth_known || !b->ncontainers)
		return NULL;
	d->growth = calloc(b->ncontainers, sizeof(*d->growth));
	if (!d->growth)
		return &ch_error_nomem;
	for (size_t i = 0; i < b->ncontainers; i++) {
		const struct ch_digest_container *cb = &b->containers[i], *ca = NULL;
		const char *path = ch_digest_str(b, cb->path);
		for (size_t k = 0; k < a->ncontainers && !ca; k++)
			if (!strcmp(ch_digest_str(a, a->containers[k].path), path))
				ca = &a->containers[k];
		struct ch_diff_growth g = {
			.path = path, .type = ch_digest_str(b, cb->type), .elements_b = cb->elements,
			.retained_b = cb->retained, .elements_a = ca ? ca->elements : 0, .retained_a = ca ? ca->retained : 0,
			.new_in_b = !ca,
		};
		g.elements_delta = ch_diff_delta(g.elements_a, g.elements_b);
		g.retained_delta = ch_diff_delta(g.retained_a, g.retained_b);
		if (g.elements_delta > 0 || g.retained_delta > 0)
			d->growth[d->ngrowth++] = g;
	}
	if (d->ngrowth)
		qsort(d->growth, d->ngrowth, sizeof(*d->growth), cmp_growth);
	return NULL;
}

static void diff_memory(struct ch_diff *d)
{
	const struct ch_memory_digest *a = &d->a->memory, *b = &d->b->memory;
	d->memory_known = a->present && b->present;
	if (!d->memory_known)
		return;
	for (size_t i = 0; i < a->n; i++) {
		const struct ch_memd_figure *fb = ch_memory_digest_find(b, a->fig[i].name);
		struct ch_diff_memory_row r = {.name = a->fig[i].name, .has_a = true, .a = a->fig[i].value, .has_b = fb != NULL};
		if (fb) {
			r.b = fb->value;
			r.delta = ch_diff_delta(r.a, r.b);
		}
		d->memory[d->nmemory++] = r;
	}
	for (size_t i = 0; i < b->n; i++)
		if (!ch_memory_digest_find(a, b->fig[i].name))
			d->memory[d->nmemory++] = (struct ch_diff_memory_row){
				.name = b->fig[i].name, .has_b = true, .b = b->fig[i].value};
}

struct ch_error *ch_diff_compute(struct ch_diff *d, const struct ch_heap_digest *a, const struct ch_heap_digest *b)
{
	memset(d, 0, sizeof(*d));
	d->a = a;
	d->b = b;
	struct ch_error *err = diff_types(d);
	if (!err)
		err = diff_groups(d);
	if (!err)
		err = diff_growth(d);
	if (err) {
		ch_diff_deinit(d);
		return err;
	}
	d->gc_changed = diff_gc(a, b);
	diff_memory(d);
	d->count_delta = ch_diff_delta(a->totals.count, b->totals.count);
	d->bytes_delta = ch_diff_delta(a->totals.bytes, b->totals.bytes);
	d->unreachable_delta = ch_diff_delta(a->unreachable, b->unreachable);
	d->unreachable_bytes_delta = ch_diff_delta(a->unreachable_bytes, b->unreachable_bytes);
	return NULL;
}

void ch_diff_deinit(struct ch_diff *d)
{
	free(d->types);
	free(d->groups);
	free(d->growth);
	memset(d, 0, sizeof(*d));
}

bool ch_diff_empty(const struct ch_diff *d)
{
	for (size_t i = 0; i < d->nmemory; i++)
		if (d->memory[i].delta || d->memory[i].has_a != d->memory[i].has_b)
			return false;
	return !d->ntypes && !d->ngroups && !d->gc_changed && !d->count_delta && !d->bytes_delta &&
	       !d->unreachable_delta && !d->unreachable_bytes_delta;
}
