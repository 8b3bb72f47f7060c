/* Finding a chunk by address in the address-sorted chunk table: the sort,
 * the bucket index built over it once the table is final, and the lookups.
 *
 * Every lookup is one of two bounds over chunks[].addr (the first chunk at
 * an address > a, or >= a); the index only narrows the range the binary
 * search runs over, so a result never depends on whether the index was
 * built. The table may hold chunks that overlap or share an address (a
 * hostile core can make the walk find them): the bounds are defined by the
 * sorted addresses alone, which is what keeps that case identical too.
 *
 * The index: the sorted chunks are cut into runs wherever two neighbouring
 * chunk addresses lie more than RUN_GAP apart (the main heap, a thread
 * heap, a lone mmapped chunk far above), so one far-away chunk does not
 * widen the buckets of a dense heap. Each run gets buckets of 2^shift bytes
 * from its first chunk's address, shift the smallest for which the run has
 * at most two buckets per chunk; bucket i holds the first chunk at an
 * address >= the bucket's start, and one entry past the last bucket holds
 * the run's end. A bound for an address in bucket i lies between entries i
 * and i + 1 (usually 0 to 2 chunks apart). Size: at most 2 * nchunks +
 * nruns bucket entries and nruns runs, no per-chunk allocation. */
#include <stdlib.h>

#include "glibc_internal.h"

#define RUN_GAP (1ull << 20)

static int by_addr(const void *x, const void *y)
{
	const struct ch_glibc_chunk *a = x, *b = y;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

void ch_glibc_sort_chunks(struct ch_glibc_heapstate *st)
{
	ch_glibc_chunk_index_free(st); /* built over the old order */
	if (st->nchunks > 1)
		qsort(st->chunks, st->nchunks, sizeof(*st->chunks), by_addr);
}

void ch_glibc_chunk_index_free(struct ch_glibc_heapstate *st)
{
	free(st->index.runs);
	free(st->index.buckets);
	free(st->index.starts.bits);
	free(st->index.spans.bits);
	st->index = (struct ch_glibc_chunk_index){0};
}

/* The filters (struct ch_glibc_chunk_filter): at least FILTER_BITS_PER_KEY
 * bits per key, a power of two from 2^12 (one page) to 2^27 (16 MiB); more
 * keys than that would fill (spans over 2^24 granules: a terabyte of
 * chunks, or a size a hostile core made up) leave the filter off, which
 * only costs the search. */
#define FILTER_BITS_PER_KEY 16
#define FILTER_MIN_LOG 12
#define FILTER_MAX_LOG 27
#define SPAN_MAX_KEYS (1ull << 24)

static void filter_set(struct ch_glibc_chunk_filter *f, uint64_t key)
{
	uint64_t h = (key * CH_GLIBC_FILTER_MUL) >> f->shift;
	f->bits[h >> 6] |= 1ull << (h & 63);
}

static bool filter_alloc(struct ch_glibc_chunk_filter *f, uint64_t keys)
{
	unsigned log = FILTER_MIN_LOG;
	while (log < FILTER_MAX_LOG && (1ull << log) < keys * FILTER_BITS_PER_KEY)
		log++;
	f->shift = (uint8_t)(64 - log);
	f->bits = calloc((size_t)1 << (log - 6), sizeof(uint64_t));
	return f->bits != NULL;
}

/* The granules [first, last] chunk c's bytes touch; false when it has no
 * bytes (size 0) or they wrap past the top of the address space. */
static bool chunk_granules(const struct ch_glibc_chunk *c, uint64_t *first, uint64_t *last)
{
	if (!c->size || c->addr + (c->size - 1) < c->addr)
		return false;
	*first = c->addr >> CH_GLIBC_SPAN_SHIFT;
	*last = (c->addr + (c->size - 1)) >> CH_GLIBC_SPAN_SHIFT;
	return true;
}

/* The granules the chunks' bytes touch, set in f (or, f NULL, only
 * counted). Neighbours often share a granule: counted (and set) once per
 * run of chunks in ascending granules, an upper bound of the distinct
 * ones. UINT64_MAX when a chunk wraps (it touches every granule: no
 * filter); counting stops past SPAN_MAX_KEYS. */
static uint64_t span_keys(const struct ch_glibc_heapstate *st, struct ch_glibc_chunk_filter *f)
{
	uint64_t keys = 0, seen = 0, g0, g1;
	bool any = false;
	for (size_t i = 0; i < st->nchunks && (f || keys <= SPAN_MAX_KEYS); i++) {
		if (!chunk_granules(&st->chunks[i], &g0, &g1)) {
			if (st->chunks[i].size)
				return UINT64_MAX;
			continue;
		}
		if (any && g0 <= seen)
			g0 = seen + 1;
		if (g0 > g1)
			continue;
		keys += g1 - g0 + 1;
		for (uint64_t g = g0; f && g <= g1; g++)
			filter_set(f, g);
		seen = g1;
		any = true;
	}
	return keys;
}

static struct ch_error *filters_build(struct ch_glibc_heapstate *st)
{
	struct ch_glibc_chunk_index *ix = &st->index;
	if (!filter_alloc(&ix->starts, st->nchunks))
		return ch_error_new(CH_ERR_NOMEM, "out of memory for the filter of %zu chunks", st->nchunks);
	for (size_t i = 0; i < st->nchunks; i++)
		filter_set(&ix->starts, st->chunks[i].addr >> 4);
	uint64_t keys = span_keys(st, NULL);
	if (keys <= SPAN_MAX_KEYS && filter_alloc(&ix->spans, keys))
		(void)span_keys(st, &ix->spans);
	return NULL;
}

/* One run: chunks [first, end), addresses base ... last. */
static void index_run(struct ch_glibc_heapstate *st, size_t first, size_t end, size_t *nbuckets)
{
	struct ch_glibc_chunk_index *ix = &st->index;
	struct ch_glibc_chunk_run *r = &ix->runs[ix->nruns++];
	const uint64_t base = st->chunks[first].addr, span = st->chunks[end - 1].addr - base;
	const uint64_t most = 2 * (uint64_t)(end - first); /* end - first < 2^32 */
	unsigned shift = 0;
	while ((span >> shift) + 1 > most) /* ends by shift 63: span >> 63 <= 1 */
		shift++;
	*r = (struct ch_glibc_chunk_run){.base = base, .first_bucket = (uint32_t)*nbuckets,
					 .nbuckets = (uint32_t)((span >> shift) + 1), .end = (uint32_t)end,
					 .shift = (uint8_t)shift};
	uint32_t *b = ix->buckets + *nbuckets;
	size_t j = first;
	for (uint64_t i = 0; i < r->nbuckets; i++) {
		const uint64_t start = base + (i << shift); /* i << shift <= span: no overflow */
		while (j < end && st->chunks[j].addr < start)
			j++;
		b[i] = (uint32_t)j;
	}
	b[r->nbuckets] = (uint32_t)end;
	*nbuckets += r->nbuckets + 1;
}

struct ch_error *ch_glibc_chunk_index_build(struct ch_glibc_heapstate *st)
{
	ch_glibc_chunk_index_free(st);
	/* Entries are uint32_t (at most 3 * nchunks of them); a larger table is searched unindexed. */
	if (!st->nchunks || st->nchunks > UINT32_MAX / 4)
		return NULL;
	size_t nruns = 1;
	for (size_t i = 1; i < st->nchunks; i++)
		nruns += st->chunks[i].addr - st->chunks[i - 1].addr > RUN_GAP;
	struct ch_glibc_chunk_index *ix = &st->index;
	ix->runs = malloc(nruns * sizeof(*ix->runs));
	ix->buckets = malloc((2 * st->nchunks + nruns) * sizeof(*ix->buckets));
	if (!ix->runs || !ix->buckets) {
		ch_glibc_chunk_index_free(st);
		return ch_error_new(CH_ERR_NOMEM, "out of memory for the index of %zu chunks", st->nchunks);
	}
	size_t nbuckets = 0, first = 0;
	for (size_t i = 1; i <= st->nchunks; i++)
		if (i == st->nchunks || st->chunks[i].addr - st->chunks[i - 1].addr > RUN_GAP) {
			index_run(st, first, i, &nbuckets);
			first = i;
		}
	struct ch_error *err = filters_build(st);
	if (err)
		ch_glibc_chunk_index_free(st);
	return err;
}

/* The first chunk at an address > a (upper) or >= a (!upper): the whole
 * table's binary search, over only a bucket's range when indexed. Both
 * searches are written without a data-dependent branch (the compiler makes
 * the halving a conditional move): the words the memory commands look up
 * point all over, and a mispredicted branch per step cost more than the
 * steps. */
static inline size_t chunk_bound(const struct ch_glibc_heapstate *st, uint64_t a, bool upper)
{
	const struct ch_glibc_chunk_index *ix = &st->index;
	size_t lo = 0, n = st->nchunks;
	if (ix->nruns) {
		const struct ch_glibc_chunk_run *r = ix->runs; /* the last run starting at or below a */
		for (size_t m = ix->nruns; m > 1; m -= m / 2)
			r = r[m / 2].base <= a ? r + m / 2 : r;
		if (r->base > a)
			return 0;
		const uint64_t i = (a - r->base) >> r->shift;
		if (i >= r->nbuckets) /* past the run's last chunk, before the next run */
			return r->end;
		lo = ix->buckets[r->first_bucket + i];
		n = ix->buckets[r->first_bucket + i + 1] - lo;
	}
	if (n == 0)
		return lo;
	const struct ch_glibc_chunk *c = st->chunks + lo;
	for (; n > 1; n -= n / 2)
		c = (upper ? c[n / 2].addr <= a : c[n / 2].addr < a) ? c + n / 2 : c;
	return (size_t)(c - st->chunks) + (upper ? c->addr <= a : c->addr < a);
}

struct ch_glibc_chunk *ch_glibc_chunk_exact(struct ch_glibc_heapstate *st, uint64_t addr)
{
	size_t k = chunk_bound(st, addr, false);
	return k < st->nchunks && st->chunks[k].addr == addr ? &st->chunks[k] : NULL;
}

const struct ch_glibc_chunk *ch_glibc_chunk_starting_at(const struct ch_glibc_heapstate *st, uint64_t a)
{
	return ch_glibc_chunk_exact((struct ch_glibc_heapstate *)st, a);
}

const struct ch_glibc_chunk *ch_glibc_chunk_candidate(const struct ch_glibc_heapstate *st, uint64_t a,
						   uint64_t *from, uint64_t *to)
{
	size_t k = chunk_bound(st, a, true);
	*from = k ? st->chunks[k - 1].addr : 0;
	*to = k < st->nchunks ? st->chunks[k].addr - 1 : UINT64_MAX; /* chunks[k].addr > a >= *from */
	return k ? &st->chunks[k - 1] : NULL;
}

const struct ch_glibc_chunk *ch_glibc_chunk_at(const struct ch_glibc_heapstate *st, uint64_t a)
{
	uint64_t from, to;
	const struct ch_glibc_chunk *ch = ch_glibc_chunk_candidate(st, a, &from, &to);
	return ch && a - ch->addr < ch->size ? ch : NULL;
}
