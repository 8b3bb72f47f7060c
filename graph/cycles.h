/* The garbage a full collection would free, split into strongly connected
 * components (iterative Tarjan over traversed edges between unreachable
 * objects) and grouped by shape: the multiset of member types plus the
 * labelled edges that close the cycle. A shape such as
 *   700 x  Request.session -> Session, Session.request -> Request
 * is the minimal example of a leak. An instance's __dict__ is folded into
 * its owner so that edges read as attributes (Request.session), not as
 * Request.__dict__ -> dict -> Session. */
#ifndef CH_CYCLES_H
#define CH_CYCLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"
#include "graph/gc_replay.h"
#include "graph/heap.h"

#define CH_CYCLE_SAMPLES 3

struct ch_shape_type {
	uint32_t type;       /* ch_py_types index */
	uint32_t count;      /* members of this type in one component */
};

struct ch_cycle_group {
	uint64_t count;      /* components of this shape */
	uint64_t objects, bytes;
	bool finalizers;     /* some member's type has tp_finalize or tp_del (__del__) */
	struct ch_shape_type *types;
	size_t ntypes;
	char **edges;        /* "Request.session -> Session", sorted */
	size_t nedges;
	uint64_t samples[CH_CYCLE_SAMPLES];
	size_t nsamples;
	char *key;           /* the shape, as one string: what groups components */
	/* Garbage on no cycle that these cycles keep alive: every garbage
	 * object (tracked or freed with it) off the cycles is given to the
	 * nearest cycle member that reaches it (one breadth-first search from
	 * all members at once, ties to the lower object index), so each is
	 * counted in exactly one group and the groups' totals add up. */
	uint64_t held_objects, held_bytes;
};

struct ch_cycles {
	struct ch_cycle_group *groups; /* sorted by bytes + held_bytes, descending */
	size_t ngroups;
	uint64_t components;           /* cyclic components among the garbage */
	uint64_t acyclic, acyclic_bytes; /* garbage not on a cycle (held by one) */
};

struct ch_error *ch_cycles_find(struct ch_cycles *c, const struct ch_heap *heap, const struct ch_edges *e,
				const struct ch_gc_replay *r);
void ch_cycles_deinit(struct ch_cycles *c);

#endif
