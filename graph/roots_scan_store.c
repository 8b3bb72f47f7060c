/* The conservative scan's counts kept in the heap index (format 13) and
 * taken from it instead of scanning again (graph/roots.h,
 * ch_roots_scan_memory_kept). */
#include "graph/roots.h"

#include <string.h>

#include "graph/heap_index.h"
#include "readers/cpython/python.h"

uint64_t ch_roots_scan_inputs(const struct ch_roots *r, size_t n)
{
	/* The counts the scan adds to (which hold the roots found: frames,
	 * thread states, C data), and the thread states whose data stacks'
	 * dead part it skips. The core, the object table and the types are
	 * the index's key. */
	uint64_t h = ch_heap_index_hash(0x7363616eULL ^ n, r->maybe, n * sizeof(*r->maybe));
	h = ch_heap_index_hash(h, &r->stacks.nthreads, sizeof(r->stacks.nthreads));
	for (size_t i = 0; i < r->stacks.nthreads; i++)
		h = ch_heap_index_hash(h, &r->stacks.threads[i].thread->tstate, sizeof(uint64_t));
	return h;
}

void ch_roots_scan_memory_kept(struct ch_roots *r, struct ch_analysis *a)
{
	struct ch_heap_index_ref *ix = a->index;
	size_t n = a->heap.objects.n;
	bool indexed = r->maybe && ch_heap_index_is_of(ix, n, a->edges.nedges);
	if (!indexed) {
		ch_roots_scan_memory(r, a);
		return;
	}
	uint64_t inputs = ch_roots_scan_inputs(r, n);
	if (ix->scan.maybe && ix->scan.nobjects == n && ix->scan.inputs == inputs) {
		memcpy(r->maybe, ix->scan.maybe, n * sizeof(*r->maybe));
		return;
	}
	ch_roots_scan_memory(r, a);
	/* Kept for the next run, once per process (a failure to keep them
	 * is a warning, never the command's failure). */
	if (ix->scan_added)
		return;
	ix->scan_added = true;
	struct ch_error *werr = ch_heap_index_add_scan(ix, inputs, r->maybe);
	ix->scan_failed = werr != NULL;
	if (werr) {
		ch_diag_warn(&a->heap.py->diag, "no scan counts added to the heap index: %s", werr->message);
		ch_error_free(werr);
	}
}
