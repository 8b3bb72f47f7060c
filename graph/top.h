/* The biggest retainers, from the dominator tree (graph/dominators.h):
 * single objects by retained size, and types aggregated the way Eclipse
 * MAT's dominator view "group by class" does.
 *
 * A type's retained total adds up the retained sizes of only those of its
 * objects that no other object of the same type dominates, so an object
 * is never counted twice within one row (a linked list of 1000 nodes is
 * the head's retained size, not 1000 overlapping sums). Rows of different
 * types do overlap (a dict's row includes the lists it retains, and the
 * list row counts them again), so the rows do not add up to the heap. */
#ifndef CH_TOP_H
#define CH_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "graph/dominators.h"
#include "graph/heap.h"

struct ch_top_type {
	uint32_t type;             /* ch_py_types index */
	uint64_t objects;          /* reachable objects of the type */
	uint64_t shallow;          /* their full shallow sizes */
	uint64_t retained;         /* retained by the objects no same-type object dominates */
	uint64_t retained_objects; /* objects those retain, themselves included */
};

struct ch_top {
	uint32_t *objects;         /* biggest retainers: retained size descending, then address */
	uint32_t *object_roots;    /* per listed object: the root its shortest path starts from, UINT32_MAX if none */
	size_t nobjects;
	struct ch_top_type *types; /* types with reachable objects: retained descending, then name */
	size_t ntypes;
};

/* The limit biggest retainers among the reachable objects (0: all). */
struct ch_error *ch_top_objects(struct ch_top *t, const struct ch_dominators *d, const struct ch_heap *heap,
				size_t limit);
struct ch_paths;
/* Fills object_roots from a path search (graph/paths.h). */
struct ch_error *ch_top_objects_roots(struct ch_top *t, const struct ch_paths *p);
/* Every type with a reachable object (the report applies its limit):
 * ch_top_type_rows, then ch_top_types_sort. Walks the whole tree. */
struct ch_error *ch_top_types(struct ch_top *t, const struct ch_dominators *d, const struct ch_heap *heap);
/* The rows of ch_top_types before their sort: one per type with a
 * reachable object, in type order (*out malloc'd, *nout of them): what a
 * heap index keeps beside its tree (graph/heap_index.h). */
struct ch_error *ch_top_type_rows(struct ch_top_type **out, size_t *nout, const struct ch_dominators *d,
				  const struct ch_heap *heap);
/* t's types: rows (n of them, in type order as ch_top_type_rows leaves
 * them, each type in heap's table; t takes them) sorted as ch_top_types
 * sorts them, so rows taken from an index give the same order. */
void ch_top_types_sort(struct ch_top *t, struct ch_top_type *rows, size_t n, const struct ch_heap *heap);
void ch_top_deinit(struct ch_top *t);

/* The objects no root reaches, split the one way every command names
 * them: unreachable (tracked garbage a full gc.collect() frees, as
 * `cycles` counts it), freed with it (untracked objects only the garbage
 * holds), and other (held by something no root reaches: a leaked
 * reference, a cycle the collector does not track). */
struct ch_gc_replay;
struct ch_unreached {
	uint64_t objects, bytes;                 /* all of them */
	uint64_t unreachable, unreachable_bytes;
	uint64_t freed_with, freed_with_bytes;
	uint64_t other, other_bytes;
};
void ch_unreached_split(struct ch_unreached *u, const struct ch_dominators *d, const struct ch_heap *heap,
			const struct ch_gc_replay *r);

#endif
