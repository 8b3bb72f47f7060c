/* Where the memory went: every byte of the dumped address space assigned to
 * exactly one category (`coreheap memory`). The mappings (readers/process/
 * mappings.h) give the coarse kinds; inside anonymous memory, the heaps of
 * glibc malloc (readers/allocators/glibc_malloc.h) are split by what the
 * chunk walk found, pymalloc's arenas (readers/cpython/py_obmalloc.h) by
 * its own statistics, and what no allocator claims stays "other anonymous".
 * The breakdown rows add up to the total virtual size by construction; a
 * claim that falls outside the mapped memory is reported, not counted.
 *
 * Native references: every in-use malloc chunk is either anchored (some
 * word of live memory points into it: writable file data, the live part of
 * a thread stack, another in-use chunk, any other anonymous memory) or
 * unreferenced (no such word: a native leak suspect). The scan is
 * conservative: a stale word in memory it cannot tell is free (pymalloc's
 * free blocks) anchors a chunk, so a leak may hide but an anchored chunk is
 * never reported as leaked; free chunks and dead stack below the stack
 * pointer are not scanned. */
#ifndef CH_MEMORY_H
#define CH_MEMORY_H

#include <stdint.h>

#include "graph/findings.h"
#include "readers/allocators/glibc_malloc.h"
#include "readers/cpython/py_obmalloc.h"
#include "readers/base/diag.h"
#include "readers/process/mappings.h"
#include "readers/process/process.h"

enum ch_mem_category {
	CH_MEM_FILE_CODE,
	CH_MEM_FILE_DATA,
	CH_MEM_STACKS,
	CH_MEM_NO_ACCESS,
	CH_MEM_GLIBC_IN_USE,
	CH_MEM_GLIBC_TCACHE,
	CH_MEM_GLIBC_FASTBINS,
	CH_MEM_GLIBC_UNSORTED,
	CH_MEM_GLIBC_SMALL,
	CH_MEM_GLIBC_LARGE,
	CH_MEM_GLIBC_TOP,
	CH_MEM_GLIBC_OVERHEAD,
	CH_MEM_GLIBC_RESERVE,
	CH_MEM_GLIBC_MMAPPED,
	CH_MEM_PYMALLOC_USED,
	CH_MEM_PYMALLOC_FREE,
	CH_MEM_PYMALLOC_OVERHEAD,
	CH_MEM_OTHER_ANON,
	CH_MEM_CATEGORIES
};

/* The category's name as the report prints it ("glibc: in use chunks"). */
const char *ch_mem_category_name(enum ch_mem_category c);

/* Where the first word pointing into an anchored chunk lies. */
enum ch_mem_anchor {
	CH_ANCHOR_FILE_DATA, /* a mapped file's writable data (globals, statics) */
	CH_ANCHOR_STACK,     /* the live part of a thread stack */
	CH_ANCHOR_CHUNK,     /* another in-use malloc chunk */
	CH_ANCHOR_PYMALLOC,  /* a pymalloc arena (Python objects, small buffers) */
	CH_ANCHOR_OTHER,     /* other anonymous memory */
	CH_ANCHOR_KINDS
};

const char *ch_mem_anchor_name(enum ch_mem_anchor a);

/* Unreferenced chunks of one size. */
struct ch_mem_leak_group {
	uint64_t size;    /* chunk size */
	uint64_t chunks;
	uint64_t first;   /* address of the lowest such chunk's user data */
};

/* Native memory owned by Python objects of one type (inferred). */
struct ch_mem_owned_type {
	uint32_t type;    /* ch_py_types index */
	uint64_t objects, chunks, bytes;
};

/* One owned chunk, for the listing. */
struct ch_mem_owned_chunk {
	uint64_t user;    /* chunk user address (what the object points at) */
	uint64_t bytes;   /* chunk size */
	uint64_t object;  /* the owning object's address */
	uint32_t type;
};

/* Python objects by where they live, and what they own (memory_python.c).
 * Ownership: an in-use chunk whose user start is referenced from the body
 * of exactly one Python object (or from several, all but one of which
 * point at that one: numpy views and their base) is that object's. When
 * the object's full size (readers/cpython/py_size.c) already counts memory
 * beyond its own block, the chunk is one of its modelled buffers (list
 * item array, dict table, ...); otherwise it is native memory the type
 * does not model (numpy ndarray data), marked inferred. */
struct ch_mem_python {
	bool done;
	/* bytes: full sizes (own block, buffers, GC head and pre-header), split
	 * by where the object's own block lives */
	uint64_t objects, bytes, in_pymalloc, in_malloc, in_static, elsewhere;
	uint64_t object_chunks, object_chunk_bytes; /* chunks holding objects */
	uint64_t buffer_chunks, buffer_bytes;       /* modelled buffers in chunks */
	uint64_t owned_chunks, owned_bytes;         /* native, unmodelled */
	struct ch_mem_owned_type *owned_types;      /* largest first */
	size_t nowned_types;
	struct ch_mem_owned_chunk *owned;           /* by address */
	size_t nowned;
	uint64_t unowned_chunks, unowned_bytes, unowned_anchored_bytes, unowned_unreferenced_bytes;
	uint64_t unowned_unreferenced_chunks;
	uint64_t unowned_anchored_from[CH_ANCHOR_KINDS];
	double explained;                           /* see docs/memory.md */
};

struct ch_memory {
	struct ch_mappings maps;
	struct ch_glibc_heapstate glibc;
	struct ch_pymalloc pymalloc;    /* found false when there is no Python runtime */
	bool have_python;
	uint64_t bytes[CH_MEM_CATEGORIES];
	/* native references (in-use chunks, mmapped ones included) */
	uint64_t anchored_chunks, anchored_bytes, unreferenced_chunks, unreferenced_bytes;
	struct ch_mem_leak_group *leaks; /* by size, largest total first */
	size_t nleaks;
	uint64_t *leak_addrs;            /* user addresses of every unreferenced chunk, ascending */
	size_t nleak_addrs;
	uint64_t anchored_from[CH_ANCHOR_KINDS]; /* anchored bytes by where the first reference lies */
	uint8_t *chunk_refd;             /* per glibc chunk: 0 unreferenced, else 1 + enum ch_mem_anchor */
	struct ch_mem_python python;
	struct ch_findings findings;     /* plain-words conclusions (graph/findings.h), most important first */
};

struct ch_heap;

/* py may be NULL (not a Python process): the Python-level figures are then
 * absent; so are they when heap is NULL. heap: the objects with their full
 * sizes, i.e. after graph/edges.c ran over it. */
struct ch_error *ch_memory_build(struct ch_process *proc, struct ch_python *py, const struct ch_heap *heap,
				 struct ch_diag *diag, struct ch_memory *out);
void ch_memory_deinit(struct ch_memory *m);

/* top --native: adds to each owning object's size the native memory it owns
 * (the chunks of m->python.owned), so retained sizes include it. */
struct ch_object_table;
struct ch_error *ch_memory_add_native_sizes(const struct ch_memory *m, struct ch_object_table *objs);

/* The native reference scan (graph/native_refs.c), part of ch_memory_build:
 * sets the anchored/unreferenced figures and the leak groups, reading the
 * core's memory through as (its lookup cache the one thing written). */
struct ch_error *ch_memory_native_refs(struct ch_address_space *as, const struct ch_core_file *core,
				       struct ch_memory *m);
/* graph/memory_python.c, part of ch_memory_build. ready (when not NULL)
 * is called before the last step, which reads m->chunk_refd: it waits for
 * the native reference scan that sets it, false when the scan failed (the
 * step is then left out: the caller reports the scan's error). */
struct ch_error *ch_memory_python(struct ch_python *py, const struct ch_heap *heap, struct ch_memory *m,
				  bool (*ready)(void *), void *ready_arg);
/* graph/memory_findings.c: the plain-words findings, last step of ch_memory_build. */
struct ch_error *ch_memory_findings(struct ch_memory *m, const struct ch_python *py);

#endif
