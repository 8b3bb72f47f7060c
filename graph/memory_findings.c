/* Plain-words findings of `coreheap memory` (and summary's memory line). */
#include "graph/memory.h"

#include <stdarg.h>
#include <stdio.h>

static void add(struct ch_memory *m, const char *code, const char *fmt, ...) CH_PRINTF(3, 4);

static void add(struct ch_memory *m, const char *code, const char *fmt, ...)
{
	struct ch_findings *f = &m->findings;
	if (f->n >= CH_MAX_FINDINGS)
		return;
	f->v[f->n].code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->v[f->n].text, sizeof(f->v[f->n].text), fmt, ap);
	va_end(ap);
	f->n++;
}

static const char *mib(uint64_t v, char *buf, size_t n)
{
	if (v >= 1ull << 30)
		snprintf(buf, n, "%.1f GiB", v / 1073741824.0);
	else if (v >= 1ull << 20)
		snprintf(buf, n, "%.1f MiB", v / 1048576.0);
	else
		snprintf(buf, n, "%.1f KiB", v / 1024.0);
	return buf;
}

struct ch_error *ch_memory_findings(struct ch_memory *m, const struct ch_python *py)
{
	char a[32], b[32];
	const struct ch_glibc_heapstate *g = &m->glibc;
	if (!g->found) {
		add(m, "glibc_unread", "glibc malloc was not read (%s): its memory is counted as other anonymous memory",
		    g->why_not);
	} else {
		uint64_t free_bytes = m->bytes[CH_MEM_GLIBC_TCACHE] + m->bytes[CH_MEM_GLIBC_FASTBINS] +
				      m->bytes[CH_MEM_GLIBC_UNSORTED] + m->bytes[CH_MEM_GLIBC_SMALL] +
				      m->bytes[CH_MEM_GLIBC_LARGE] + m->bytes[CH_MEM_GLIBC_TOP];
		uint64_t arena = g->mallinfo2.arena;
		if (arena && free_bytes * 10 >= arena)
			add(m, "glibc_free_memory",
			    "%.0f %% of glibc's arenas (%s of %s) is free memory inside them: fragmentation, not a leak; "
			    "malloc_trim(0) or another allocator would return some of it",
			    100.0 * (double)free_bytes / (double)arena, mib(free_bytes, a, sizeof(a)), mib(arena, b, sizeof(b)));
	}
	const struct ch_mem_python *p = &m->python;
	if (p->done && p->nowned_types && py) {
		const struct ch_mem_owned_type *t = &p->owned_types[0];
		add(m, "native_owned", "%s of malloc chunks belong to %llu %s objects (inferred: the type does not model its buffers)",
		    mib(t->bytes, a, sizeof(a)), (unsigned long long)t->objects, ch_py_type_name(&py->types, t->type));
	}
	if (g->found && m->unreferenced_chunks) {
		const struct ch_mem_leak_group *l = m->nleaks ? &m->leaks[0] : NULL;
		add(m, "native_unreferenced",
		    "%llu in-use malloc chunks (%s) that nothing points at: native leak suspects (largest group: %llu x %llu B)",
		    (unsigned long long)m->unreferenced_chunks, mib(m->unreferenced_bytes, a, sizeof(a)),
		    (unsigned long long)(l ? l->chunks : 0), (unsigned long long)(l ? l->size : 0));
	}
	const struct ch_pymalloc *pm = &m->pymalloc;
	if (pm->found && pm->total) {
		uint64_t idle = pm->available_bytes + pm->unused_pool_bytes;
		if (idle * 4 >= pm->total)
			add(m, "pymalloc_idle", "pymalloc holds %s in free blocks and empty pools (%.0f %% of its arenas)",
			    mib(idle, a, sizeof(a)), 100.0 * (double)idle / (double)pm->total);
		if (pm->pools && pm->sparse_pools * 4 >= pm->pools)
			add(m, "pymalloc_sparse_pools", "pymalloc holds %s in %llu pools less than 10 %% used",
			    mib(pm->sparse_pools * pm->pool_size, a, sizeof(a)), (unsigned long long)pm->sparse_pools);
	}
	if (m->bytes[CH_MEM_GLIBC_RESERVE])
		add(m, "thread_heap_reserve",
		    "%s of address space is reserved for thread arenas' heaps: virtual size, not memory in use",
		    mib(m->bytes[CH_MEM_GLIBC_RESERVE], a, sizeof(a)));
	if (p->done)
		add(m, "explained",
		    "Python objects, their buffers and the native memory they own explain %.0f %% of the memory the allocators hold in use",
		    100.0 * p->explained);
	return NULL;
}
