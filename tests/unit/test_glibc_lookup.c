/* The glibc chunk lookups through the bucket index give, for every address,
 * what a plain scan of the sorted table gives: chunk_at the last chunk
 * starting at or below the address when it contains it, starting_at the
 * first chunk starting exactly there; so do the cursors that keep the last
 * lookup's interval. Tables: a dense heap with gaps, far
 * apart mmapped chunks, chunks that overlap or share an address (a hostile
 * core), addresses at both ends of the 64-bit space, one chunk, none. */
#include <stdlib.h>

#include "check.h"
#include "readers/allocators/glibc_internal.h"

#define MAXN 6000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const struct ch_glibc_chunk *scan_at(const struct ch_glibc_heapstate *st, uint64_t a)
{
	const struct ch_glibc_chunk *last = NULL;
	for (size_t i = 0; i < st->nchunks && st->chunks[i].addr <= a; i++)
		last = &st->chunks[i];
	return last && a - last->addr < last->size ? last : NULL;
}

static const struct ch_glibc_chunk *scan_starting_at(const struct ch_glibc_heapstate *st, uint64_t a)
{
	for (size_t i = 0; i < st->nchunks; i++)
		if (st->chunks[i].addr == a)
			return &st->chunks[i];
	return NULL;
}

static unsigned long mismatches;
static struct ch_glibc_chunk_cursor cur_at, cur_start; /* carried from one address to the next */

static void check_addr(const struct ch_glibc_heapstate *st, uint64_t a)
{
	struct ch_glibc_heapstate plain = *st;
	plain.index = (struct ch_glibc_chunk_index){0};
	const struct ch_glibc_chunk *at = ch_glibc_chunk_at(st, a), *start = ch_glibc_chunk_starting_at(st, a);
	if (at != scan_at(st, a) || start != scan_starting_at(st, a) || at != ch_glibc_chunk_at(&plain, a) ||
	    start != ch_glibc_chunk_starting_at(&plain, a) || at != ch_glibc_cursor_at(st, &cur_at, a) ||
	    start != ch_glibc_cursor_starting_at(st, &cur_start, a)) {
		if (mismatches++ < 5)
			fprintf(stderr, "    mismatch at 0x%" PRIx64 "\n", a);
	}
}

/* Sort, index, then probe every chunk's edges, the ends of the address
 * space and random addresses near chunks and anywhere. */
static void check_table(const char *what, struct ch_glibc_heapstate *st)
{
	ch_glibc_sort_chunks(st);
	struct ch_error *err = ch_glibc_chunk_index_build(st);
	CHECK(err == NULL);
	ch_error_free(err);
	CHECK(st->nchunks == 0 || st->index.runs != NULL);
	ch_glibc_cursor_init(st, &cur_at);
	ch_glibc_cursor_init(st, &cur_start);
	mismatches = 0;
	static const uint64_t ends[] = {0, 1, 15, 16, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 16, 1ull << 63};
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		check_addr(st, ends[i]);
	for (size_t i = 0; i < st->nchunks; i++) {
		const struct ch_glibc_chunk *c = &st->chunks[i];
		const uint64_t edges[] = {c->addr - 1, c->addr, c->addr + 1, c->addr + 16, c->addr + c->size - 1,
					  c->addr + c->size, c->addr + c->size + 1, c->addr + c->size / 2};
		for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
			check_addr(st, edges[e]);
	}
	for (size_t i = 0; i < 20000; i++) {
		uint64_t a = rnd();
		if (st->nchunks && i % 2)
			a = st->chunks[a % st->nchunks].addr + (rnd() % 4096) - 2048;
		check_addr(st, a);
		for (int k = 0; k < 3; k++) /* near the one before: the cursors keep their interval */
			check_addr(st, a + 16 * (uint64_t)(rnd() % 8));
	}
	if (!CHECK(mismatches == 0))
		fprintf(stderr, "    %s: %lu addresses differ\n", what, mismatches);
	ch_glibc_chunk_index_free(st);
}

static void add(struct ch_glibc_heapstate *st, uint64_t addr, uint64_t size)
{
	if (st->nchunks < MAXN)
		st->chunks[st->nchunks++] = (struct ch_glibc_chunk){.addr = addr, .size = size};
}

int main(void)
{
	struct ch_glibc_heapstate st = {0};
	st.chunks = calloc(MAXN, sizeof(*st.chunks));
	if (!CHECK(st.chunks != NULL))
		return CHECK_SUMMARY("test_glibc_lookup");

	check_table("empty", &st);

	add(&st, 0x1000, 0x20);
	check_table("one chunk", &st);

	/* A heap of touching chunks with a few free gaps, then mmapped chunks
	 * far above it and a thread heap between. */
	st.nchunks = 0;
	uint64_t a = 0x555555560000ull;
	for (int i = 0; i < 3000; i++) {
		uint64_t size = 16 * (2 + rnd() % 40);
		add(&st, a, size);
		a += size + (i % 500 == 0 ? 0x300000 : 0);
	}
	a = 0x7f0000000000ull;
	for (int i = 0; i < 1000; i++) {
		uint64_t size = 16 * (2 + rnd() % 200);
		add(&st, a, size);
		a += size;
	}
	for (int i = 0; i < 20; i++)
		add(&st, 0x7ff000000000ull + (uint64_t)i * 0x10000000ull, 0x21000);
	check_table("heaps and mmapped chunks", &st);

	/* Hostile: overlapping chunks, shared addresses, a chunk covering
	 * others, sizes wrapping past the top, chunks at 0 and at the top. */
	st.nchunks = 0;
	add(&st, 0, 0x40);
	for (int i = 0; i < 2000; i++) {
		uint64_t at = 0x10000 + 16 * (rnd() % 4000);
		add(&st, at, 16 * (1 + rnd() % 64));
	}
	add(&st, 0x10000, 0x100000);
	add(&st, 0x10000, 0x10);
	add(&st, 0x20000, 0);
	add(&st, UINT64_MAX - 0x1f, 0x40);
	add(&st, UINT64_MAX, UINT64_MAX);
	add(&st, 1ull << 62, UINT64_MAX);
	check_table("overlapping and duplicate chunks", &st);

	/* Random addresses over the whole space: every chunk its own run. */
	st.nchunks = 0;
	for (int i = 0; i < 3000; i++)
		add(&st, rnd() & ~(uint64_t)15, 16 * (1 + rnd() % 8));
	check_table("scattered chunks", &st);

	/* Chunks at most one gap apart: one wide run. */
	st.nchunks = 0;
	a = 0x400000;
	for (int i = 0; i < 3000; i++) {
		add(&st, a, 32);
		a += (rnd() % 2) ? 32 : (1u << 20);
	}
	check_table("sparse run", &st);

	free(st.chunks);
	return CHECK_SUMMARY("test_glibc_lookup");
}
