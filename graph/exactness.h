/* The exactness verdict of an analysed heap, computed once while the
 * edges are built and rendered by every report that depends on it
 * (cycles, summary, top, path, anomalies, ...; reports/report_exactness.c).
 *
 * An object is inexact when its type is a GC type coreheap does not model
 * and its own tp_traverse could not be emulated: its references were read
 * conservatively and are invisible to the GC replay, so whatever it holds
 * counts as held from outside and the unreachable figure is a lower bound.
 * Non-GC types are not counted: the collector cannot see through them
 * either, so the replay still matches gc.collect(). */
#ifndef CH_EXACTNESS_H
#define CH_EXACTNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_conservative_type {
	uint32_t type;       /* ch_py_types index */
	uint64_t objects;
	const char *reason;  /* first reason seen for the type (owned by the runtime layer) */
};

struct ch_exactness {
	uint32_t *objects;   /* indices of inexact objects, ascending */
	size_t nobjects, capobjects;
	struct ch_conservative_type *types;
	size_t ntypes, captypes;
};

static inline bool ch_exactness_exact(const struct ch_exactness *x)
{
	return x->nobjects == 0;
}

/* Record object index obj (indices arrive in ascending order). */
struct ch_error *ch_exactness_note(struct ch_exactness *x, uint32_t obj, uint32_t type, const char *reason);
bool ch_exactness_object_exact(const struct ch_exactness *x, uint32_t obj);
/* Sort the per-type rows by object count, largest first. */
void ch_exactness_finish(struct ch_exactness *x);
void ch_exactness_deinit(struct ch_exactness *x);

/* An inexact object with a conservative word pointing at target (the
 * lowest index), or UINT32_MAX: why `path` finds no root for an object the
 * GC replay counts as reachable. Scans only the inexact objects' edges. */
struct ch_edges;
uint32_t ch_exactness_conservative_holder(const struct ch_exactness *x, const struct ch_edges *e, uint32_t target);

#endif
