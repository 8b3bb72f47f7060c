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
 * list is as safe as a bushy tree. Scratch is at most nine uint32 arrays
 * over the reachable objects plus one predecessor array over their edges
 * at once, all freed before the results are allocated; no per-object
 * allocation. Objects no root reaches (GC garbage, objects only
 * a cycle keeps) get no dominator and are left out of retained sizes. */
#ifndef CH_DOMINATORS_H
#define CH_DOMINATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"
#include "graph/object_table.h"
#include "readers/base/shared_map.h"

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
	/* Set by ch_dominators_from_tree: idom, order, retained and
	 * retained_count are not d's own but a stored tree's, held through
	 * backing (a heap index's mapped file) when that is not NULL; they are
	 * never freed or written. */
	bool borrowed;
	struct ch_shared_map *backing;
};

/* Builds the tree over objects [0, nobjects) of the CSR edges e, with
 * ch_objects_size(sizes, i) the full shallow size of object i and roots[0..nroots) the
 * children of the super-root (duplicates allowed, order irrelevant). */
struct ch_error *ch_dominators_build(struct ch_dominators *d, const struct ch_edges *e, const struct ch_object_table *sizes,
				     size_t nobjects, const uint32_t *roots, size_t nroots);
/* A tree computed before (a heap index's), with its sums: idom and order
 * as ch_dominators_build left them, retained and retained_count over every
 * object, and the reachable and unreachable bytes, for the same edges,
 * sizes and roots. */
struct ch_dominators_stored {
	const uint32_t *idom, *order;
	const uint64_t *retained;
	const uint32_t *retained_count;
	size_t nreach;
	uint64_t reachable_bytes, unreachable_bytes;
};

/* d from the stored tree s over nobjects objects, its arrays used in place
 * (held through backing; may be NULL: then they must outlive d), nothing
 * summed again. The tree is input: with check_tree, unless every entry of
 * order is a distinct object whose idom is CH_DOM_ROOT or an object
 * earlier in order (so the tree has no cycle and every object comes after
 * its dominator), and every object not in order has idom CH_NO_OBJECT,
 * the result is a CH_ERR_INPUT error saying why. Without it, d is only as
 * sound as the load's range checks make it (every idom an object,
 * CH_DOM_ROOT or CH_NO_OBJECT, every order entry an object): for a caller
 * that neither walks the preorder nor follows idom chains without a bound
 * (ch_root_set_dominators' walks). */
struct ch_error *ch_dominators_from_tree(struct ch_dominators *d, const struct ch_dominators_stored *s, size_t nobjects,
					 bool check_tree, struct ch_shared_map *backing);
/* d: tree's idom, preorder and retained counts copied (d owns them),
 * its retained sizes and byte totals summed again over sizes instead of
 * the tree's own (`top --native`: the same graph, each object weighing
 * the native memory it owns too, so the tree itself does not change).
 * tree must be a checked tree (ch_dominators_from_tree's check_tree, or
 * built here): the sums walk its preorder. */
struct ch_error *ch_dominators_resum(struct ch_dominators *d, const struct ch_dominators *tree,
				     const struct ch_object_table *sizes);
void ch_dominators_deinit(struct ch_dominators *d);

#endif
