/* Block-by-block verification of a heap index's big sections on first
 * read (graph/heap_index_lazy.h): the pages of those sections mapped
 * without access, a fault handler verifying the blocks a fault lands in. */
#include "graph/heap_index_lazy.h"
#include "graph/heap_index_format.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "readers/base/shared_map.h"

/* One block of a lazily checked section: where it lies in the file. */
struct lazy_block {
	size_t start, end;
	int s;
	size_t k; /* its number in its section */
};

/* The process's lazy index: the handler's state. map is what the command
 * reads (its lazy pages without access until verified); raw, the same file
 * mapped again, readable, is what the checks read. done[b]: block b passed. */
static struct {
	char *map;
	const char *raw;
	size_t len;
	uint64_t w[H_WORDS];
	struct section raw_sec[S_COUNT];
	const uint64_t *table;
	size_t table_first[S_COUNT]; /* each section's first entry in the table */
	size_t block_first[S_COUNT]; /* ... and in blocks, for the lazy ones */
	struct lazy_block *blocks;
	size_t nblocks;
	uint8_t *done;
	size_t page;
	uint64_t mask; /* the sections read lazily (CH_SEC(S_*)) */
	struct ch_shared_map *keep; /* the map's hold, released only by ch_index_lazy_end */
	char lock;
	bool active;
	ch_index_lazy_fail_fn fail;
	void *fail_arg;
	struct sigaction old;
} L;

void ch_index_lazy_on_fail(ch_index_lazy_fail_fn fn, void *arg)
{
	L.fail = fn;
	L.fail_arg = arg;
}

void ch_index_lazy_keep(struct ch_shared_map *m)
{
	L.keep = m;
}

void ch_index_lazy_end(void)
{
	if (!L.active || !L.keep || L.keep->refs != 1)
		return;
	sigaction(SIGSEGV, &L.old, NULL);
	L.active = false;
	munmap((void *)L.raw, L.len);
	free(L.blocks);
	free(L.done);
	ch_shared_map_release(L.keep);
	L.keep = NULL;
	L.blocks = NULL;
	L.done = NULL;
	L.nblocks = 0;
	L.map = NULL;
	L.raw = NULL;
}

bool ch_index_lazy_available(void)
{
	return !L.active && L.fail;
}

#define LAZY(s) ((L.mask >> (s)) & 1u)

/* Block k of section s: its sum against the table. */
static bool block_sum_ok(int s, size_t k)
{
	return ch_heap_index_block_sum((const char *)L.raw_sec[s].data + k * CH_INDEX_BLOCK,
				       ch_heap_index_block_len(L.raw_sec[s].bytes, k)) == L.table[L.table_first[s] + k];
}

/* Verifies block b (with the blocks its range checks read beside it: the
 * paths' three columns go together); false when it fails. */
static bool block_verify(size_t b)
{
	int s = L.blocks[b].s;
	size_t k = L.blocks[b].k;
	int group[3] = {s, -1, -1};
	if (s == S_PARENT || s == S_VIA || s == S_RANK) {
		group[0] = S_PARENT;
		group[1] = S_VIA;
		group[2] = S_RANK;
	}
	for (int g = 0; g < 3 && group[g] >= 0; g++)
		if (!block_sum_ok(group[g], k))
			return false;
	int c = group[0];
	size_t elem = ch_heap_index_block_elem(c);
	uint64_t count = 0;
	if (elem) {
		size_t lo = k * CH_INDEX_BLOCK, hi = lo + CH_INDEX_BLOCK;
		if (hi > L.raw_sec[c].bytes)
			hi = L.raw_sec[c].bytes;
		if (ch_heap_index_block_check(L.w, L.raw_sec, c, lo / elem, hi / elem, &count))
			return false;
	}
	for (int g = 0; g < 3 && group[g] >= 0; g++)
		L.done[L.block_first[group[g]] + k] = 1;
	return true;
}

/* The first block that ends after off. */
static size_t block_at(size_t off)
{
	size_t lo = 0, hi = L.nblocks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (L.blocks[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Verifies every block on [lo, hi) (file offsets); false when one fails. */
static bool range_verify(size_t lo, size_t hi)
{
	for (size_t b = block_at(lo); b < L.nblocks && L.blocks[b].start < hi; b++)
		if (!L.done[b] && !block_verify(b))
			return false;
	return true;
}

/* Whether every block on [lo, hi) passed. */
static bool range_done(size_t lo, size_t hi)
{
	for (size_t b = block_at(lo); b < L.nblocks && L.blocks[b].start < hi; b++)
		if (!L.done[b])
			return false;
	return true;
}

static void fail(const char *why)
{
	if (L.fail)
		L.fail(why, L.fail_arg);
	static const char msg[] = "coreheap: error: the heap index is damaged (a block read late failed its check)\n";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	_exit(127); /* not reached: a lazy read starts only with a hook set */
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	uintptr_t a = (uintptr_t)si->si_addr, base = (uintptr_t)L.map;
	if (!L.active || si->si_code != SEGV_ACCERR || a < base || a >= base + L.len) {
		/* Not ours: the fault happens again under the handler before. */
		sigaction(sig, &L.old, NULL);
		return;
	}
	while (__atomic_test_and_set(&L.lock, __ATOMIC_ACQUIRE))
		;
	/* The blocks on the faulting page verified, then the pages they span
	 * opened, but for a first or last page another block shares that is
	 * not verified yet (it faults in turn): a page opens only when every
	 * byte on it passed. */
	size_t page = (a - base) & ~(L.page - 1), lo = page, hi = page + L.page;
	if (hi > L.len)
		hi = L.len;
	if (!range_verify(lo, hi))
		fail("a block read late failed its check");
	for (size_t b = block_at(page); b < L.nblocks && L.blocks[b].start < page + L.page; b++) {
		size_t bl = L.blocks[b].start & ~(L.page - 1), bh = (L.blocks[b].end + L.page - 1) & ~(L.page - 1);
		lo = bl < lo ? bl : lo;
		hi = bh > hi ? bh : hi;
	}
	if (hi > L.len)
		hi = L.len;
	if (lo < page && !range_done(lo, lo + L.page))
		lo += L.page;
	if (hi > page + L.page && !range_done(hi - L.page, hi))
		hi -= L.page;
	if (mprotect(L.map + lo, hi - lo, PROT_READ | PROT_WRITE) != 0)
		fail("a verified block could not be opened");
	__atomic_clear(&L.lock, __ATOMIC_RELEASE);
}

bool ch_index_lazy_start(void *map, size_t len, int fd, const uint64_t *w, uint64_t lazy, char *why, size_t why_len)
{
	if (L.active) {
		snprintf(why, why_len, "an index is already read lazily");
		return false;
	}
	if (!L.fail) {
		/* Nobody could take a late failure back: checked whole instead. */
		snprintf(why, why_len, "no way to restart the command");
		return false;
	}
	size_t bytes[S_COUNT], off[S_COUNT], at = sizeof(struct header), nb = 0, nt = 0;
	if (!ch_heap_index_section_sizes(w, bytes))
		return false;
	void *raw = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (raw == MAP_FAILED) {
		snprintf(why, why_len, "cannot map it twice");
		return false;
	}
	ch_index_lazy_fail_fn keep_fail = L.fail;
	void *keep_arg = L.fail_arg;
	memset(&L, 0, sizeof(L) - sizeof(L.old));
	L.fail = keep_fail;
	L.fail_arg = keep_arg;
	L.mask = lazy & CH_INDEX_LAZY_SECTIONS;
	L.map = map;
	L.raw = raw;
	L.len = len;
	L.page = (size_t)sysconf(_SC_PAGESIZE);
	memcpy(L.w, w, sizeof(L.w));
	for (int s = 0; s < S_COUNT; s++) {
		off[s] = at;
		L.raw_sec[s].data = (void *)(L.raw + at);
		L.raw_sec[s].bytes = bytes[s];
		at += ch_heap_index_pad8(bytes[s]);
		if (s < S_BLOCKS) {
			L.table_first[s] = nt;
			nt += ch_heap_index_nblocks(bytes[s]);
		}
		L.block_first[s] = nb;
		if (LAZY(s))
			nb += ch_heap_index_nblocks(bytes[s]);
	}
	L.table = L.raw_sec[S_BLOCKS].data;
	L.blocks = calloc(nb ? nb : 1, sizeof(*L.blocks));
	L.done = calloc(nb ? nb : 1, 1);
	if (!L.blocks || !L.done) {
		snprintf(why, why_len, "no memory to check it");
		goto fail;
	}
	for (int s = 0; s < S_COUNT; s++)
		for (size_t k = 0; LAZY(s) && k < ch_heap_index_nblocks(bytes[s]); k++) {
			size_t start = off[s] + k * CH_INDEX_BLOCK;
			L.blocks[L.nblocks++] =
				(struct lazy_block){start, start + ch_heap_index_block_len(bytes[s], k), s, k};
		}
	/* Each run of lazy sections in file order: every page it touches
	 * closed, those it shares with a section verified at the load too (a
	 * fault there verifies the lazy blocks on the page, then opens it). */
	for (int s = 0; s < S_COUNT;) {
		if (!LAZY(s)) {
			s++;
			continue;
		}
		int e = s;
		while (e + 1 < S_COUNT && LAZY(e + 1))
			e++;
		size_t lo = off[s] & ~(L.page - 1), hi = (off[e] + bytes[e] + L.page - 1) & ~(L.page - 1);
		if (hi > len)
			hi = len;
		if (hi > lo && mprotect((char *)map + lo, hi - lo, PROT_NONE) != 0) {
			snprintf(why, why_len, "cannot close its pages");
			goto fail;
		}
		s = e + 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &L.old) != 0) {
		snprintf(why, why_len, "cannot handle its faults");
		goto fail;
	}
	L.active = true;
	return true;
fail:
	mprotect(map, len, PROT_READ | PROT_WRITE);
	munmap(raw, len);
	free(L.blocks);
	free(L.done);
	L.blocks = NULL;
	L.done = NULL;
	L.nblocks = 0;
	return false;
}
