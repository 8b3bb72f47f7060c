/* The dominator tree of the heap graph and the retained size of every
 * object: what would be freed if that one object went away.
 *
 * A virtual super-root sits above the roots (graph/roots.h): its children
 * are the root objects, so an object reachable from two roots is dominated
 * by the super-root alone. Object d dominates object o when every path
 * from the super-root to o passes through d; o's retained size is the sum
 * of the full shallow sizes of the objects it dominates, itself included.
 * Weak references (CH_REF_WEAK) keep nothing alive and are not edges here
 * (Eclipse MAT does the same).
 *
 * Lengauer-Tarjan, simple version (O(m log n)), with an explicit DFS stack
 * and iterative path compression: no recursion, so a million-long linked
 * list is as safe as a bushy tree. Scratch is a dozen uint32 arrays over
 * the reachable objects plus one predecessor array over their edges; no
 * per-object allocation. Objects no root reaches (GC garbage, objects only
 * a cycle keeps) get no dominator and are left out of retained sizes. */
#ifndef CH_DOMINATORS_H
#define CH_DOMINATORS_H

#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"

/* idom of an object whose only dominator is the virtual super-root (the
 * root objects, and objects reachable along disjoint paths from two). */
#define CH_DOM_ROOT (UINT32_MAX - 1)

struct ch_dominators {
	uint32_t *idom;           /* per object: immediate dominator, CH_DOM_ROOT, or CH_NO_OBJECT when unreachable */
	uint64_t *retained;       /* per object: retained bytes (0 when unreachable) */
	uint32_t *retained_count; /* per object: objects it dominates, itself included (0 when unreachable) */
	uint32_t *order;          /* the reachable objects in DFS preorder: every object comes after its idom */
	size_t nobjects, nreachable;
	uint64_t reachable_bytes, unreachable_bytes;
};

/* Builds the tree over objects [0, nobjects) of the CSR edges e, with
 * sizes[i] the full shallow size of object i and roots[0..nroots) the
 * children of the super-root (duplicates allowed, order irrelevant). */
struct ch_error *ch_dominators_build(struct ch_dominators *d, const struct ch_edges *e, const uint64_t *sizes,
				     size_t nobjects, const uint32_t *roots, size_t nroots);
void ch_dominators_deinit(struct ch_dominators *d);

#endif
