/* Walking the collector's generation lists: every GC-tracked object of the
 * main interpreter (or of any one interpreter), with the generation it sits in.
 *
 * The lists are circular and doubly linked through PyGC_Head. The walk
 * follows _gc_next with the low flag bits masked off and, outside a
 * collection, checks that each node's _gc_prev points back at the node it
 * came from: a torn or hostile list is caught at the first bad link and
 * reported as partial, never followed into garbage. The visitor detects
 * revisits (loops) by address. */
#ifndef CH_PY_GC_H
#define CH_PY_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

struct ch_gc_object {
	uint64_t addr;      /* the PyObject, after the GC head */
	uint64_t type;      /* ob_type */
	int64_t refcnt;
	int64_t ob_size;    /* the PyVarObject size word (meaningless for fixed-size types) */
	bool finalized;     /* tp_finalize already ran (_gc_prev bit 0) */
};

/* Return 0 to continue, CH_GC_VISIT_SEEN when the object was already seen
 * (a loop: the walk stops and the result is marked partial), or
 * CH_GC_VISIT_ABORT to stop with an error the visitor keeps. */
#define CH_GC_VISIT_SEEN 1
#define CH_GC_VISIT_ABORT 2
typedef int (*ch_gc_visit_fn)(void *arg, const struct ch_gc_object *obj, int generation);

/* Walk list `generation` (0..ngenerations-1, or CH_GC_PERMANENT). Damage is
 * recorded in py->diag and ends this list only. *count receives the number
 * of objects visited. Returns an error only when the visitor aborted. */
struct ch_error *ch_py_gc_walk(struct ch_python *py, int generation, uint64_t limit, ch_gc_visit_fn fn, void *arg,
			       uint64_t *count);
/* The same over the lists of one given GC state (a sub-interpreter's:
 * ch_python.interps[i].gc); ch_py_gc_walk walks the main one's. */
struct ch_gc_state;
struct ch_error *ch_py_gc_walk_state(struct ch_python *py, const struct ch_gc_state *gc, int generation,
				     uint64_t limit, ch_gc_visit_fn fn, void *arg, uint64_t *count);

#endif
