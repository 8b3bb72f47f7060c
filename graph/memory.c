/* The memory breakdown: mappings, then the allocators' claims inside them. */
#include "graph/memory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ch_mem_category_name(enum ch_mem_category c)
{
	static const char *const names[CH_MEM_CATEGORIES] = {
		[CH_MEM_FILE_CODE] = "files: code and read-only data",
		[CH_MEM_FILE_DATA] = "files: writable data",
		[CH_MEM_STACKS] = "thread stacks",
		[CH_MEM_NO_ACCESS] = "no access (guard pages, reserved)",
		[CH_MEM_GLIBC_IN_USE] = "glibc: in use chunks",
		[CH_MEM_GLIBC_TCACHE] = "glibc: free in tcache",
		[CH_MEM_GLIBC_FASTBINS] = "glibc: free in fastbins",
		[CH_MEM_GLIBC_UNSORTED] = "glibc: free in unsorted bin",
		[CH_MEM_GLIBC_SMALL] = "glibc: free in small bins",
		[CH_MEM_GLIBC_LARGE] = "glibc: free in large bins",
		[CH_MEM_GLIBC_TOP] = "glibc: top chunks (free)",
		[CH_MEM_GLIBC_OVERHEAD] = "glibc: arena headers and alignment",
		[CH_MEM_GLIBC_RESERVE] = "glibc: thread heap reserve (unused)",
		[CH_MEM_GLIBC_MMAPPED] = "glibc: mmapped chunks",
		[CH_MEM_PYMALLOC_USED] = "pymalloc: blocks in use",
		[CH_MEM_PYMALLOC_FREE] = "pymalloc: free blocks and empty pools",
		[CH_MEM_PYMALLOC_OVERHEAD] = "pymalloc: pool headers, quantization, alignment",
		[CH_MEM_OTHER_ANON] = "other anonymous memory",
	};
	return (unsigned)c < CH_MEM_CATEGORIES ? names[c] : "?";
}

const char *ch_mem_anchor_name(enum ch_mem_anchor a)
{
	static const char *const names[CH_ANCHOR_KINDS] = {
		[CH_ANCHOR_FILE_DATA] = "file_data", [CH_ANCHOR_STACK] = "stacks", [CH_ANCHOR_CHUNK] = "chunks",
		[CH_ANCHOR_PYMALLOC] = "pymalloc", [CH_ANCHOR_OTHER] = "other",
	};
	return (unsigned)a < CH_ANCHOR_KINDS ? names[a] : "?";
}

/* A range an allocator claims; CH_MEM_GLIBC_IN_USE marks a glibc heap and
 * CH_MEM_PYMALLOC_USED a pymalloc arena, each split afterwards by the
 * allocator's own sums. */
struct claim {
	uint64_t start, end;
	enum ch_mem_category cat;
};

static int claim_cmp(const void *x, const void *y)
{
	const struct claim *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

static struct ch_error *collect_claims(const struct ch_glibc_heapstate *g, const struct ch_pymalloc *pm,
				       struct claim **out, size_t *n)
{
	size_t cap = 2 * g->nheaps + (size_t)g->mmapped_chunks + pm->narena_addrs + 1;
	struct claim *c = calloc(cap, sizeof(*c));
	if (!c)
		return ch_error_new(CH_ERR_NOMEM, "out of memory for %zu claims", cap);
	size_t k = 0;
	for (size_t i = 0; i < g->nheaps; i++) {
		c[k++] = (struct claim){g->heaps[i].start, g->heaps[i].end, CH_MEM_GLIBC_IN_USE};
		if (g->heaps[i].reserve_end > g->heaps[i].end)
			c[k++] = (struct claim){g->heaps[i].end, g->heaps[i].reserve_end, CH_MEM_GLIBC_RESERVE};
	}
	for (size_t i = 0; i < g->nchunks && k < cap; i++)
		if (g->chunks[i].kind == CH_CHUNK_MMAPPED)
			c[k++] = (struct claim){g->chunks[i].addr, g->chunks[i].addr + g->chunks[i].size, CH_MEM_GLIBC_MMAPPED};
	for (size_t i = 0; i < pm->narena_addrs && k < cap; i++)
		c[k++] = (struct claim){pm->arena_addrs[i], pm->arena_addrs[i] + pm->arena_size, CH_MEM_PYMALLOC_USED};
	qsort(c, k, sizeof(*c), claim_cmp);
	*out = c;
	*n = k;
	return NULL;
}

static enum ch_mem_category base_category(enum ch_mapping_kind k)
{
	switch (k) {
	case CH_MAP_FILE_CODE: return CH_MEM_FILE_CODE;
	case CH_MAP_FILE_DATA: return CH_MEM_FILE_DATA;
	case CH_MAP_STACK: return CH_MEM_STACKS;
	case CH_MAP_NO_ACCESS: return CH_MEM_NO_ACCESS;
	default: return CH_MEM_OTHER_ANON;
	}
}

/* The heap bytes split by the chunk walk; overhead is what chunks do not
 * cover, so the parts add up to heap_bytes. */
static void split_heaps(struct ch_memory *m, uint64_t heap_bytes, struct ch_diag *diag)
{
	static const struct {
		enum ch_glibc_chunk_kind kind;
		enum ch_mem_category cat;
	} map[] = {
		{CH_CHUNK_IN_USE, CH_MEM_GLIBC_IN_USE},   {CH_CHUNK_FENCEPOST, CH_MEM_GLIBC_IN_USE},
		{CH_CHUNK_TCACHE, CH_MEM_GLIBC_TCACHE},   {CH_CHUNK_FASTBIN, CH_MEM_GLIBC_FASTBINS},
		{CH_CHUNK_UNSORTED, CH_MEM_GLIBC_UNSORTED}, {CH_CHUNK_FREE_UNBINNED, CH_MEM_GLIBC_UNSORTED},
		{CH_CHUNK_SMALL, CH_MEM_GLIBC_SMALL},     {CH_CHUNK_LARGE, CH_MEM_GLIBC_LARGE},
	};
	uint64_t sum = 0;
	for (size_t i = 0; i < m->glibc.narenas; i++) {
		const struct ch_glibc_arena *a = &m->glibc.arenas[i];
		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
			m->bytes[map[k].cat] += a->bytes[map[k].kind];
			sum += a->bytes[map[k].kind];
		}
		bool walked = false;
		for (size_t h = 0; h < m->glibc.nheaps; h++)
			walked |= m->glibc.heaps[h].arena == i;
		if (walked) {
			m->bytes[CH_MEM_GLIBC_TOP] += a->top_size;
			sum += a->top_size;
		}
	}
	if (sum <= heap_bytes) {
		m->bytes[CH_MEM_GLIBC_OVERHEAD] = heap_bytes - sum;
		return;
	}
	ch_diag_partial(diag, "memory: glibc's chunks (%llu bytes) exceed the mapped heap bytes (%llu): counted as in use up to the heaps' size",
			(unsigned long long)sum, (unsigned long long)heap_bytes);
	uint64_t excess = sum - heap_bytes;
	uint64_t *iu = &m->bytes[CH_MEM_GLIBC_IN_USE];
	*iu = *iu > excess ? *iu - excess : 0;
}

/* pymalloc's arenas split by its statistics; overhead takes the rest. */
static void split_arenas(struct ch_memory *m, uint64_t arena_bytes, struct ch_diag *diag)
{
	const struct ch_pymalloc *pm = &m->pymalloc;
	uint64_t used = pm->allocated_bytes, free_bytes = pm->available_bytes + pm->unused_pool_bytes;
	if (used + free_bytes > arena_bytes) {
		ch_diag_partial(diag, "memory: pymalloc's blocks (%llu bytes) exceed its mapped arenas (%llu)",
				(unsigned long long)(used + free_bytes), (unsigned long long)arena_bytes);
		free_bytes = used < arena_bytes ? arena_bytes - used : 0;
		used = used < arena_bytes ? used : arena_bytes;
	}
	m->bytes[CH_MEM_PYMALLOC_USED] = used;
	m->bytes[CH_MEM_PYMALLOC_FREE] = free_bytes;
	m->bytes[CH_MEM_PYMALLOC_OVERHEAD] = arena_bytes - used - free_bytes;
}

static struct ch_error *breakdown(struct ch_memory *m, struct ch_diag *diag)
{
	struct claim *cl = NULL;
	size_t ncl = 0;
	struct ch_error *err = collect_claims(&m->glibc, &m->pymalloc, &cl, &ncl);
	if (err)
		return err;
	uint64_t arena_bytes = 0, heap_bytes = 0, claimed = 0, placed = 0, overlap = 0;
	for (size_t i = 0; i < ncl; i++) {
		if (i && cl[i].start < cl[i - 1].end) { /* claims overlap: the first one keeps the bytes */
			uint64_t cut = cl[i - 1].end < cl[i].end ? cl[i - 1].end : cl[i].end;
			overlap += cut - cl[i].start;
			cl[i].start = cut;
		}
		claimed += cl[i].end - cl[i].start;
	}
	if (overlap)
		ch_diag_warn(diag, "memory: allocator claims overlap by %llu bytes (counted once)", (unsigned long long)overlap);
	size_t first = 0;
	for (size_t r = 0; r < m->maps.n; r++) {
		const struct ch_mapping *row = &m->maps.rows[r];
		uint64_t covered = 0;
		while (first < ncl && cl[first].end <= row->start)
			first++;
		for (size_t i = first; i < ncl && cl[i].start < row->end; i++) {
			uint64_t s = cl[i].start > row->start ? cl[i].start : row->start;
			uint64_t e = cl[i].end < row->end ? cl[i].end : row->end;
			if (s >= e)
				continue;
			covered += e - s;
			if (cl[i].cat == CH_MEM_GLIBC_IN_USE)
				heap_bytes += e - s;
			else if (cl[i].cat == CH_MEM_PYMALLOC_USED)
				arena_bytes += e - s;
			else
				m->bytes[cl[i].cat] += e - s;
		}
		placed += covered;
		m->bytes[base_category(row->kind)] += (row->end - row->start) - covered;
	}
	if (placed != claimed)
		ch_diag_partial(diag, "memory: %llu bytes that glibc's heaps and chunks or pymalloc's arenas claim lie outside the mappings",
				(unsigned long long)(claimed - placed));
	free(cl);
	split_heaps(m, heap_bytes, diag);
	split_arenas(m, arena_bytes, diag);
	return NULL;
}

/* The native reference scan runs on a second thread while this one places
 * the Python objects (on the 10M bench core each is about a quarter of
 * `memory`'s time): both read the finished glibc, pymalloc and mapping
 * tables and write fields of the breakdown apart, until the objects' last
 * step, which waits for the scan's marks (chunk_refd); the scan looks
 * addresses up in its own copy of the address space (the sorted ranges
 * shared, which nothing changes meanwhile; its own lookup cache). An error
 * of the scan comes first, as when it ran first. */
struct refs_job {
	struct ch_address_space as;
	const struct ch_core_file *core;
	struct ch_memory *m;
	struct ch_error *err;
	pthread_t thread;
	bool running;
};

static void *refs_run(void *arg)
{
	struct refs_job *j = arg;
	j->err = ch_memory_native_refs(&j->as, j->core, j->m);
	return NULL;
}

/* Waits for the scan (once); true when it succeeded. */
static bool refs_ready(void *arg)
{
	struct refs_job *j = arg;
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
	return !j->err;
}

static struct ch_error *refs_and_python(struct ch_process *proc, struct ch_python *py, const struct ch_heap *heap,
					struct ch_memory *m)
{
	bool refs = m->glibc.found, python = py && heap;
	if (!refs || !python) {
		struct ch_error *err = refs ? ch_memory_native_refs(&proc->as, proc->core, m) : NULL;
		return !err && python ? ch_memory_python(py, heap, m, NULL, NULL) : err;
	}
	(void)ch_as_find(&proc->as, 0); /* the ranges sorted before the copy shares them */
	struct refs_job job = {.as = proc->as, .core = proc->core, .m = m};
	job.running = pthread_create(&job.thread, NULL, refs_run, &job) == 0;
	if (!job.running)
		refs_run(&job);
	struct ch_error *err = job.running || !job.err ? ch_memory_python(py, heap, m, refs_ready, &job) : NULL;
	if (!refs_ready(&job)) {
		ch_error_free(err);
		return job.err;
	}
	return err;
}

struct ch_error *ch_memory_build(struct ch_process *proc, struct ch_python *py, const struct ch_heap *heap,
				 struct ch_diag *diag, struct ch_memory *out)
{
	memset(out, 0, sizeof(*out));
	out->have_python = py != NULL;
	struct ch_error *err = ch_mappings_build(proc->core, &out->maps);
	if (!err)
		err = ch_glibc_read(proc, diag, &out->glibc);
	if (!err && py)
		err = ch_py_obmalloc_read(py, diag, &out->pymalloc);
	else if (!err)
		snprintf(out->pymalloc.why_not, sizeof(out->pymalloc.why_not), "no CPython runtime in the core");
	if (!err)
		err = breakdown(out, diag);
	if (!err)
		err = refs_and_python(proc, py, heap, out);
	if (!err)
		err = ch_memory_findings(out, py);
	if (err)
		ch_memory_deinit(out);
	return err;
}

void ch_memory_deinit(struct ch_memory *m)
{
	ch_mappings_deinit(&m->maps);
	ch_glibc_deinit(&m->glibc);
	ch_py_obmalloc_deinit(&m->pymalloc);
	free(m->leaks);
	free(m->leak_addrs);
	free(m->chunk_refd);
	free(m->python.owned_types);
	free(m->python.owned);
	memset(m, 0, sizeof(*m));
}
