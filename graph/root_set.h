/* The roots `path` and `top` start from, taken from graph/roots.h in its
 * priority order, with two refinements that keep conservative words from
 * passing for owners:
 *
 *   - a root found by a conservative scan (frame_other, thread, c_global:
 *     any aligned word that happens to point at an object, live or stale)
 *     is kept only when the object's refcount exceeds the references that
 *     certainly own a count (roots.refs): a fully explained refcount leaves
 *     no count for the word to own, so the word is stale or borrowed and
 *     must not cut the object loose from its real owner (a list whose one
 *     count is its Holder's stays dominated by the Holder);
 *   - tiers: the Python-level roots (modules, sys, builtins, frame locals
 *     and globals) are searched to exhaustion before the internal ones
 *     (the rest of frames, thread states, static objects, C data), and
 *     those before the external holders, so a chain from sys.modules is
 *     preferred over a shorter one from a C pointer;
 *   - a frame's globals that are the __dict__ of a module sys.modules
 *     holds are that module's, not the frame's: the frame_globals root is
 *     left out, so paths read sys.modules['__main__'] .__dict__ ['CACHE']
 *     and the module, not an idle thread's frame, retains its globals. */
#ifndef CH_ROOT_SET_H
#define CH_ROOT_SET_H

#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"
#include "graph/object_table.h"
#include "graph/roots.h"

struct ch_root_set {
	uint32_t *objects; /* per root of the ch_roots (same indexes): its object, or CH_NO_OBJECT when left out */
	uint8_t *tiers;    /* per root: 0 Python-level, 1 internal, 2 external; nondecreasing */
	size_t n;          /* == roots->n */
	size_t dropped;    /* conservative roots left out */
	size_t module_globals; /* frame_globals roots left out for their module */
};

/* e: the edges, to find each module's __dict__ (NULL: keep every frame_globals root).
 * Roots taken from the heap index (r->set) give their stored objects
 * (dropped and module_globals are then 0: not kept). */
struct ch_error *ch_root_set_build(struct ch_root_set *s, const struct ch_roots *r, const struct ch_object_table *o,
				   const struct ch_edges *e);
void ch_root_set_deinit(struct ch_root_set *s);

/* The index of the module root whose module's __dict__ is dict, or
 * UINT32_MAX (the module roots come first, in sys.modules order). */
uint32_t ch_roots_module_of_dict(const struct ch_roots *r, const struct ch_edges *e, uint32_t dict);

struct ch_analysis;
struct ch_dominators;
/* The dominator tree of a's graph under the root set of r: what `top` and
 * the snapshot's retainers are computed from. Taken from the heap index
 * when it holds the tree of this very root set, with its retained sizes
 * as stored (their ranges checked by the load); walks: the caller walks
 * the tree (its preorder, or idom chains with no bound but the object
 * count), so whether the stored one is a tree is checked first (one that
 * is not is said, computed again and replaced). A caller that reads the
 * sums and follows idom a bounded number of steps passes false. */
struct ch_error *ch_root_set_dominators(struct ch_dominators *d, const struct ch_analysis *a, const struct ch_roots *r,
				       bool walks);

/* The tree the heap index holds for the root set of r, checked as a tree
 * (a damaged one is said and not taken), in d with *found; else d zeroed,
 * *found false: never computed here (`top --native` sums the tree again
 * over other sizes, ch_dominators_resum, so it must not keep one). */
struct ch_error *ch_root_set_stored_tree(struct ch_dominators *d, bool *found, const struct ch_analysis *a,
					 const struct ch_roots *r);

struct ch_top;
/* The retainers by type (graph/top.h, ch_top_types) of d, a tree
 * ch_root_set_dominators gave: the rows the heap index keeps beside it
 * when d is its stored tree (their ranges checked by the load; d is not
 * walked), else computed over d. */
struct ch_error *ch_root_set_top_types(struct ch_top *t, const struct ch_dominators *d, const struct ch_analysis *a);
/* The dominator tree of a's graph under the root set of r and its
 * retainers by type, for a caller that walks the tree for nothing else:
 * a tree from the index is taken without the check of its shape when the
 * index holds its rows (ch_root_set_dominators' walks false), else as
 * ch_root_set_dominators(walks) and ch_top_types. */
struct ch_error *ch_root_set_types(struct ch_top *t, struct ch_dominators *d, const struct ch_analysis *a,
				   const struct ch_roots *r);

struct ch_flame;
struct ch_paths;
/* graph/root_set_flame.c: the flame graph (graph/flame.h) of the dominator
 * tree under the root set of r, for `top --format folded` and `report`.
 * ch_root_set_flame_stored: the heap index's, when it keeps the flame of
 * this very root set (and search tiers): true when f is filled from it
 * (its ranges checked by the load; neither the tree nor the search is
 * read); false otherwise, or with *err set when memory ran out.
 * ch_root_set_flame_build: ch_flame_build over d and p (the tree and the
 * search of r's root set, from ch_root_set_dominators and
 * ch_root_set_paths), kept in the index when it holds that tree and that
 * search (once per process; a failure is a warning): ch_flame_build,
 * then ch_root_set_flame_keep (for a caller that frees the tree and the
 * search before the index is rewritten). ch_root_set_flame:
 * the stored one, else built over the tree (checked whole, as it is
 * walked) and the search. */
bool ch_root_set_flame_stored(struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *r,
			      struct ch_error **err);
struct ch_error *ch_root_set_flame_build(struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *r,
					 const struct ch_dominators *d, const struct ch_paths *p);
void ch_root_set_flame_keep(const struct ch_analysis *a, const struct ch_roots *r, const struct ch_flame *f);
struct ch_error *ch_root_set_flame(struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *r);

struct ch_heap_index_root;
/* r's roots as the heap index keeps them (*out: r->n records, freed by the caller). */
struct ch_error *ch_root_set_records(const struct ch_roots *r, struct ch_heap_index_root **out);

struct ch_paths;
/* The shortest-path search (graph/paths.h) of a's graph from the root set
 * of r, tier by tier: what `path` and `top`'s root column read. Taken
 * from the heap index when it holds the search from this very root set
 * (checked, ch_paths_from_stored: a damaged one is said, searched again
 * and replaced), else searched and kept there with r's roots when they
 * were found in silence (once per process; a failure is a warning). */
struct ch_error *ch_root_set_paths(struct ch_paths *p, const struct ch_analysis *a, const struct ch_roots *r);
/* The same for a few chains only (`suspects`): a stored search is taken
 * with its counts checked and each chain checked as it is walked
 * (ch_paths_from_stored_chains, ch_paths_to, ch_paths_root_of_checked); a
 * chain found damaged is then a CH_ERR_INPUT error of that walk, after
 * which ch_root_set_paths checks the whole search (and says what is
 * wrong). */
struct ch_error *ch_root_set_paths_chains(struct ch_paths *p, const struct ch_analysis *a, const struct ch_roots *r);
/* walk(p, arg) over the search taken by chains (ch_root_set_paths_chains),
 * and when it finds a chain damaged (CH_ERR_INPUT) once more over the
 * search checked whole: for a command that reads a few chains (`path`,
 * `top`'s root column). walk must start its results afresh each call. */
typedef struct ch_error *(*ch_paths_walk_fn)(const struct ch_paths *p, void *arg);
struct ch_error *ch_root_set_paths_walk(const struct ch_analysis *a, const struct ch_roots *r, ch_paths_walk_fn walk,
					void *arg);

#endif
