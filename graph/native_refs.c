/* Which in-use malloc chunks anything points at (graph/memory.h states the
 * rule). One linear pass over the dumped writable memory; each word that
 * falls inside some chunk's user bytes marks that chunk (looked up in the
 * address-sorted chunk table through its index, the last answer kept),
 * unless the word lies in the chunk itself or in memory that is free (a
 * free chunk, dead stack). */
#include "graph/memory.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"

#define CH_GLIBC_PAGE_SIZE 4096 /* scan granularity for telling pymalloc arenas apart */

#define STACK_RED_ZONE 128

static bool live_kind(uint8_t k)
{
	return k == CH_CHUNK_IN_USE || k == CH_CHUNK_MMAPPED;
}

/* Where the first word found pointing into a chunk lies (refd[] holds it + 1). */
static void scan_range(const struct ch_glibc_heapstate *g, const uint8_t *data, uint64_t start, uint64_t end,
		       uint8_t *refd, enum ch_mem_anchor where)
{
	const struct ch_glibc_chunk *chunks = g->chunks;
	const size_t n = g->nchunks;
	if (!n)
		return;
	const uint64_t lo = chunks[0].addr, hi = chunks[n - 1].addr + chunks[n - 1].size;
	/* ci: the first chunk that ends after x */
	size_t ci = 0;
	{
		size_t l = 0, h = n;
		while (l < h) {
			size_t mid = l + (h - l) / 2;
			if (chunks[mid].addr + chunks[mid].size <= start)
				l = mid + 1;
			else
				h = mid;
		}
		ci = l;
	}
	/* ci and here hold for every x below next: chunk ci's end (as the
	 * sum wraps: the test that moves ci on) and, while x has not reached
	 * chunk ci, its start. */
	const struct ch_glibc_chunk *here = NULL;
	uint64_t next = 0;
	/* Most words that pass the range test point between chunks, often into
	 * the same gap as the word before. */
	struct ch_glibc_chunk_cursor cur;
	ch_glibc_cursor_init(g, &cur);
	for (uint64_t x = start; x + 8 <= end; x += 8) {
		if (x >= next) {
			while (ci < n && chunks[ci].addr + chunks[ci].size <= x)
				ci++;
			here = ci < n && chunks[ci].addr <= x ? &chunks[ci] : NULL;
			if (ci == n)
				next = UINT64_MAX;
			else {
				next = chunks[ci].addr + chunks[ci].size;
				if (!here && chunks[ci].addr < next)
					next = chunks[ci].addr;
			}
		}
		if (here && !live_kind(here->kind) && here->kind != CH_CHUNK_FENCEPOST) {
			uint64_t skip = here->addr + here->size;
			x = (skip > x ? ch_align_up(skip, 8) : x + 8) - 8;
			continue;
		}
		uint64_t w = ch_le64(data + (x - start));
		if (w < lo || w >= hi)
			continue;
		const struct ch_glibc_chunk *t = ch_glibc_cursor_at(g, &cur, w);
		if (!t || t == here || !live_kind(t->kind) || w < t->addr + 16 || refd[t - chunks])
			continue;
		refd[t - chunks] = (uint8_t)(1 + (here ? CH_ANCHOR_CHUNK : where));
	}
}

static int group_cmp(const void *x, const void *y)
{
	const struct ch_mem_leak_group *a = x, *b = y;
	uint64_t ta = a->size * a->chunks, tb = b->size * b->chunks;
	if (ta != tb)
		return ta > tb ? -1 : 1;
	return a->size > b->size ? -1 : a->size < b->size;
}

static int size_addr_cmp(const void *x, const void *y)
{
	const struct ch_mem_leak_group *a = x, *b = y;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* Unreferenced chunks: their addresses, and groups by size (sort, then
 * merge runs: n log n however many sizes there are). */
static struct ch_error *group_leaks(struct ch_memory *m, const uint8_t *refd)
{
	const struct ch_glibc_heapstate *g = &m->glibc;
	size_t n = (size_t)m->unreferenced_chunks;
	m->leak_addrs = malloc((n ? n : 1) * sizeof(uint64_t));
	m->leaks = calloc(n ? n : 1, sizeof(*m->leaks));
	if (!m->leak_addrs || !m->leaks)
		return ch_error_new(CH_ERR_NOMEM, "out of memory for leak groups");
	for (size_t i = 0; i < g->nchunks; i++) {
		if (!live_kind(g->chunks[i].kind) || refd[i])
			continue;
		uint64_t user = g->chunks[i].addr + 16;
		m->leak_addrs[m->nleak_addrs] = user;
		m->leaks[m->nleak_addrs] = (struct ch_mem_leak_group){.size = g->chunks[i].size, .chunks = 1, .first = user};
		m->nleak_addrs++;
	}
	qsort(m->leaks, m->nleak_addrs, sizeof(*m->leaks), size_addr_cmp);
	size_t k = 0;
	for (size_t i = 0; i < m->nleak_addrs; i++) {
		if (k && m->leaks[k - 1].size == m->leaks[i].size)
			m->leaks[k - 1].chunks++;
		else
			m->leaks[k++] = m->leaks[i];
	}
	m->nleaks = k;
	qsort(m->leaks, m->nleaks, sizeof(*m->leaks), group_cmp);
	return NULL;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* The anchor kind of the words of one dumped range: by its mapping, or
 * pymalloc's when it is one of pymalloc's arenas (sorted starts). */
static enum ch_mem_anchor anchor_of(const struct ch_mapping *row, const uint64_t *arenas, size_t n, uint64_t size,
				    uint64_t a)
{
	if (row->kind == CH_MAP_FILE_DATA || row->kind == CH_MAP_FILE_CODE)
		return CH_ANCHOR_FILE_DATA;
	if (row->kind == CH_MAP_STACK)
		return CH_ANCHOR_STACK;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (arenas[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && a - arenas[lo - 1] < size ? CH_ANCHOR_PYMALLOC : CH_ANCHOR_OTHER;
}

struct ch_error *ch_memory_native_refs(struct ch_address_space *as, const struct ch_core_file *core,
				       struct ch_memory *m)
{
	const struct ch_glibc_heapstate *g = &m->glibc;
	uint8_t *refd = calloc(g->nchunks ? g->nchunks : 1, 1);
	size_t narenas = m->pymalloc.found ? m->pymalloc.narena_addrs : 0;
	uint64_t *arenas = malloc((narenas ? narenas : 1) * sizeof(uint64_t));
	if (!refd || !arenas) {
		free(refd);
		free(arenas);
		return ch_error_new(CH_ERR_NOMEM, "out of memory for %zu chunk marks", g->nchunks);
	}
	if (narenas) {
		memcpy(arenas, m->pymalloc.arena_addrs, narenas * sizeof(uint64_t));
		qsort(arenas, narenas, sizeof(uint64_t), u64_cmp);
	}
	for (size_t r = 0; r < m->maps.n; r++) {
		const struct ch_mapping *row = &m->maps.rows[r];
		if (!(row->flags & PF_W) || !row->dumped)
			continue;
		uint64_t start = row->start, end = row->start + row->dumped;
		if (row->kind == CH_MAP_STACK)
			for (size_t t = 0; t < core->nthreads; t++)
				if (core->threads[t].tid == row->stack_tid && core->threads[t].sp >= start + STACK_RED_ZONE)
					start = (core->threads[t].sp - STACK_RED_ZONE) & ~7ull;
		for (uint64_t a = start; a < end;) {
			const struct ch_as_range *rg = ch_as_find(as, a);
			if (!rg)
				break;
			uint64_t e = rg->end < end ? rg->end : end;
			/* pymalloc arenas are whole mappings' parts: split at arena size */
			while (rg->data && a < e) {
				uint64_t step = e;
				enum ch_mem_anchor where = anchor_of(row, arenas, narenas, m->pymalloc.arena_size, a);
				if (narenas && m->pymalloc.arena_size) {
					uint64_t next = (a / CH_GLIBC_PAGE_SIZE + 1) * CH_GLIBC_PAGE_SIZE;
					step = next < e ? next : e;
				}
				scan_range(g, rg->data + (a - rg->start), a, step, refd, where);
				a = step;
			}
			a = e;
		}
	}
	for (size_t i = 0; i < g->nchunks; i++) {
		if (!live_kind(g->chunks[i].kind))
			continue;
		if (refd[i]) {
			m->anchored_chunks++;
			m->anchored_bytes += g->chunks[i].size;
			m->anchored_from[refd[i] - 1] += g->chunks[i].size;
		} else {
			m->unreferenced_chunks++;
			m->unreferenced_bytes += g->chunks[i].size;
		}
	}
	free(arenas);
	m->chunk_refd = refd;
	return group_leaks(m, refd);
}
