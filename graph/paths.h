/* Shortest paths from the roots (graph/roots.h) to objects: "why is it
 * alive", as a chain a Python programmer can read,
 *   sys.modules['app'] .__dict__ ['CACHE'] [17] .session .request
 *
 * One breadth-first search from all roots at once, seeded in the roots'
 * priority order, so among equally short paths the one from the
 * higher-priority root wins, and run tier by tier (graph/root_set.h), so
 * a Python-level root wins over an internal one whatever the lengths. Weak references keep nothing alive and are not followed. The
 * search is iterative with a queue and records one parent pointer (and the
 * edge taken) per object: three uint32 arrays over the objects. */
#ifndef CH_PATHS_H
#define CH_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"
#include "readers/base/shared_map.h"

#define CH_PATH_ROOT (UINT32_MAX - 1) /* parent of an object that is itself a root */
#define CH_PATH_NO_EDGE UINT32_MAX

struct ch_paths {
	uint32_t *parent; /* per object: previous object on its shortest path, CH_PATH_ROOT, or CH_NO_OBJECT (no root reaches it) */
	uint32_t *via;    /* per object: the edge parent -> object; for a root object, the index of its root; CH_PATH_NO_EDGE when unreached */
	uint32_t *rank;   /* per object: position in the breadth-first order (shortest first), UINT32_MAX when unreached */
	size_t nobjects, nreached;
	/* Set by ch_paths_from_stored: the arrays are a stored search's, held
	 * through backing (a heap index's mapped file) when that is not NULL;
	 * never freed or written. */
	bool borrowed;
	struct ch_shared_map *backing;
	/* Set by ch_paths_from_stored_chains: the search's shape was not
	 * checked as a whole; each chain is checked as it is walked, against
	 * edges and the root set's objects (roots, a copy of nroots). */
	bool chains;
	const struct ch_edges *edges;
	uint32_t *roots;
	size_t nroots;
};

/* root_objects[r] is the object of root r, in priority order
 * (CH_NO_OBJECT: skip it); tiers[r] (nondecreasing, or NULL for one
 * tier) splits the search: every object the roots of one tier reach is
 * reached from them before the next tier's roots are seeded. blocked
 * (NULL: none) marks objects the search never enters: the garbage of an
 * exact GC replay, which no root can truly hold (a conservative word or an
 * external root that reaches it is the garbage's own reference, read from
 * a container the collector cannot see). */
struct ch_error *ch_paths_search(struct ch_paths *p, const struct ch_edges *e, size_t nobjects,
				 const uint32_t *root_objects, const uint8_t *tiers, size_t nroots,
				 const bool *blocked);
/* The same search from arrays kept before (a heap index's): parent, via
 * and rank as ch_paths_search left them, for the same edges and root
 * objects. They are input: unless every reached object's parent is ranked
 * before it and its edge leads from that parent to it (an owning one), or
 * it is a root object and its root names it, every rank below nreached is
 * used once, and unreached objects have neither, the result is a
 * CH_ERR_INPUT error saying why. Used in place, held through backing (may
 * be NULL: then they must outlive p). */
struct ch_error *ch_paths_from_stored(struct ch_paths *p, const uint32_t *parent, const uint32_t *via,
				      const uint32_t *rank, size_t nreached, const struct ch_edges *e, size_t nobjects,
				      const uint32_t *root_objects, size_t nroots, struct ch_shared_map *backing);
/* The same, but only the counts are checked now: each chain ch_paths_to
 * walks is checked step by step (each parent ranked
 * before its child, so the walk ends; its edge leading from the parent to
 * the child, an owning one; the root naming the object), a chain that is
 * not the search's being a CH_ERR_INPUT error there. For a few chains on
 * a big heap (`path`); e must outlive p. */
struct ch_error *ch_paths_from_stored_chains(struct ch_paths *p, const uint32_t *parent, const uint32_t *via,
					     const uint32_t *rank, size_t nreached, const struct ch_edges *e,
					     size_t nobjects, const uint32_t *root_objects, size_t nroots,
					     struct ch_shared_map *backing);
void ch_paths_deinit(struct ch_paths *p);

/* The root whose search reached object o first (its shortest path's
 * start), or UINT32_MAX when no root reaches it. Walks o's parents. */
uint32_t ch_paths_root_of(const struct ch_paths *p, uint32_t o);

/* ch_paths_root_of into *root, and for a search taken by chains
 * (ch_paths_from_stored_chains) each step of o's chain checked as `path`
 * checks it: a step that fails is an error (CH_ERR_INPUT). */
struct ch_error *ch_paths_root_of_checked(const struct ch_paths *p, uint32_t o, uint32_t *root);

/* Whether some root reaches o, its chain checked likewise. */
struct ch_error *ch_paths_reached_checked(const struct ch_paths *p, uint32_t o, bool *reached);

struct ch_path_hop {
	uint32_t object;
	uint32_t edge;  /* the edge from the previous hop's object; CH_PATH_NO_EDGE on hop 0 (the root object) */
	bool attr;      /* a dict value read as an attribute: the owner's __dict__ hop was folded away,
			   so `obj .__dict__ ['x']` reads `obj .x` */
};

struct ch_path {
	uint32_t root;             /* index of the root the path starts from */
	struct ch_path_hop *hops;  /* hops[0] is the root's object, hops[nhops-1] the target */
	size_t nhops;
};

struct ch_path_set {
	struct ch_path *paths;
	size_t n;
};

struct ch_heap;

/* Up to max (>= 1) shortest paths to target, one per direct referrer:
 * the target's owning in-edges whose source some root reaches, sources
 * taken in breadth-first order (so the first path is the shortest; ties
 * go to the higher-priority root, then to CSR edge order), each source
 * once (its first edge to the target), and the path being the source's
 * own shortest path plus that edge. A source whose shortest path passes
 * through the target itself is skipped (that would be a cycle, not an
 * explanation). A target that is itself a root gets its root as the first
 * path (one hop). An unreached target gets no path. Instance __dict__
 * hops are folded (see ch_path_hop.attr; modules keep theirs). */
struct ch_error *ch_paths_to(struct ch_path_set *s, const struct ch_paths *p, const struct ch_edges *e,
			     const struct ch_heap *heap, uint32_t target, size_t max);
void ch_path_set_deinit(struct ch_path_set *s);

/* The text of a hop's edge: ch_edges_label_text, or ".x" for a folded
 * ['x']. Hop 0 has no edge; its text is the root's label (graph/roots.h). */
void ch_path_hop_label(const struct ch_edges *e, const struct ch_heap *heap, const struct ch_path_hop *h,
		       char *buf, size_t n);

#endif
