#include "memory_brief.h"

#include <string.h>

#include "graph/heap.h"
#include "graph/heap_index.h"
#include "readers/cpython/python.h"

void ch_memory_brief_of(const struct ch_memory *m, bool partial, struct ch_memory_brief *b)
{
	memset(b, 0, sizeof(*b));
	const struct ch_glibc_heapstate *g = &m->glibc;
	uint64_t *w = b->w;
	w[CH_MEMB_FLAGS] = (g->found ? CH_MEMB_GLIBC_FOUND : 0) | (m->python.done ? CH_MEMB_PYTHON_DONE : 0) |
			   (partial ? CH_MEMB_PARTIAL : 0) | (m->pymalloc.found ? CH_MEMB_PYMALLOC_FOUND : 0);
	w[CH_MEMB_VIRTUAL] = m->maps.virtual_total;
	w[CH_MEMB_DUMPED] = m->maps.dumped_total;
	const struct ch_mallinfo2 *mi = &g->mallinfo2;
	w[CH_MEMB_ARENA] = mi->arena;
	w[CH_MEMB_MI_ORDBLKS] = mi->ordblks;
	w[CH_MEMB_MI_SMBLKS] = mi->smblks;
	w[CH_MEMB_MI_HBLKS] = mi->hblks;
	w[CH_MEMB_MI_HBLKHD] = mi->hblkhd;
	w[CH_MEMB_MI_USMBLKS] = mi->usmblks;
	w[CH_MEMB_MI_FSMBLKS] = mi->fsmblks;
	w[CH_MEMB_MI_UORDBLKS] = mi->uordblks;
	w[CH_MEMB_MI_FORDBLKS] = mi->fordblks;
	w[CH_MEMB_MI_KEEPCOST] = mi->keepcost;
	w[CH_MEMB_PROGRAM_IN_USE] = g->program_in_use;
	w[CH_MEMB_PROGRAM_FREE] = g->program_free;
	w[CH_MEMB_TCACHE_BYTES] = g->tcache_bytes;
	w[CH_MEMB_GLIBC_ARENAS] = g->narenas;
	const struct ch_pymalloc *pm = &m->pymalloc;
	w[CH_MEMB_PM_ARENAS] = pm->narenas;
	w[CH_MEMB_PM_BLOCKS] = pm->blocks;
	w[CH_MEMB_PM_BYTES] = pm->allocated_bytes;
	w[CH_MEMB_PM_AVAILABLE] = pm->available_bytes;
	w[CH_MEMB_PM_UNUSED_POOLS] = pm->unused_pool_bytes;
	w[CH_MEMB_PM_TOTAL] = pm->total;
	w[CH_MEMB_OWNED_CHUNKS] = m->python.owned_chunks;
	w[CH_MEMB_UNOWNED_BYTES] = m->python.unowned_bytes;
	w[CH_MEMB_UNOWNED_CHUNKS] = m->python.unowned_chunks;
	w[CH_MEMB_UNOWNED_ANCHORED] = m->python.unowned_anchored_bytes;
	w[CH_MEMB_ANCHORED] = m->anchored_bytes;
	w[CH_MEMB_MMAPPED] = g->mmapped_bytes;
	for (size_t i = 0; i < g->narenas; i++)
		for (int k = CH_CHUNK_TCACHE; k <= CH_CHUNK_LARGE; k++)
			w[CH_MEMB_FREE_CHUNKS] += g->arenas[i].chunks[k];
	w[CH_MEMB_UNREF_BYTES] = m->unreferenced_bytes;
	w[CH_MEMB_UNREF_CHUNKS] = m->unreferenced_chunks;
	if (m->nleaks) {
		w[CH_MEMB_LEAK_SIZE] = m->leaks[0].size;
		w[CH_MEMB_LEAK_CHUNKS] = m->leaks[0].chunks;
		w[CH_MEMB_LEAK_FIRST] = m->leaks[0].first;
	}
	w[CH_MEMB_PY_BYTES] = m->python.bytes;
	w[CH_MEMB_OWNED_BYTES] = m->python.owned_bytes;
	w[CH_MEMB_UNOWNED_UNREF] = m->python.unowned_unreferenced_bytes;
	memcpy(&w[CH_MEMB_EXPLAINED], &m->python.explained, sizeof(double));
	for (int c = 0; c < CH_MEM_CATEGORIES; c++)
		w[CH_MEMB_BYTES + c] = m->bytes[c];
	b->owned = m->python.owned;
	b->nowned = m->python.nowned;
}

double ch_memory_brief_explained(const struct ch_memory_brief *b)
{
	double d;
	memcpy(&d, &b->w[CH_MEMB_EXPLAINED], sizeof(d));
	return d;
}

struct ch_error *ch_memory_held_get(struct ch_memory_held *h, const struct ch_heap *heap,
				    struct ch_heap_index_ref *ix)
{
	memset(h, 0, sizeof(*h));
	bool indexed = ix && ix->path[0] && ix->nobjects == heap->objects.n;
	if (indexed && ix->mem.have) {
		h->b = ix->mem.b;
		return NULL;
	}
	struct ch_python *py = heap->py;
	struct ch_diag mdiag;
	ch_diag_init(&mdiag);
	struct ch_error *err = ch_memory_build(py->proc, py, heap, &mdiag, &h->m);
	if (!err) {
		h->built = true;
		/* Each owned chunk rewritten whole, so that its padding is zero: the
		 * index holds the same bytes whichever command wrote it. */
		for (size_t i = 0; i < h->m.python.nowned; i++) {
			struct ch_mem_owned_chunk c;
			memset(&c, 0, sizeof(c));
			c.user = h->m.python.owned[i].user;
			c.bytes = h->m.python.owned[i].bytes;
			c.object = h->m.python.owned[i].object;
			c.type = h->m.python.owned[i].type;
			memcpy(&h->m.python.owned[i], &c, sizeof(c));
		}
		ch_memory_brief_of(&h->m, mdiag.partial, &h->b);
	}
	ch_diag_deinit(&mdiag);
	/* Kept for the next command, once per process. */
	if (!err && indexed && !ix->mem_added) {
		ix->mem_added = true;
		struct ch_error *werr = ch_heap_index_add_memory(ix, &h->b);
		if (werr) {
			ch_diag_warn(&py->diag, "no memory figures added to the heap index: %s", werr->message);
			ch_error_free(werr);
		}
	}
	return err;
}

void ch_memory_held_deinit(struct ch_memory_held *h)
{
	if (h->built)
		ch_memory_deinit(&h->m);
	memset(h, 0, sizeof(*h));
}
