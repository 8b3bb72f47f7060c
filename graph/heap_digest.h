/* A heap reduced to the figures that can be compared across dumps: the
 * runtime, the collector's state, objects and bytes per type (by name, per
 * generation, and how many are garbage), the unreachable totals and the
 * cycle shapes. Built from an analysed core (ch_heap_digest_build) or read
 * back from a snapshot file (reports/snapshot_read.h); `snapshot` writes
 * exactly this, `diff` compares two of them and `--fail-if` evaluates over
 * one or two of them, so a core and its own snapshot give the same answers.
 *
 * Rows are keyed by type *name*, not by type object: type indexes differ
 * from one process to the next, names do not. Two type objects with the
 * same name (a class defined twice) share one row. Strings live in one
 * pool (offsets), so a digest is a handful of allocations whatever the
 * number of types, and outlives the core it came from. */
#ifndef CH_HEAP_DIGEST_H
#define CH_HEAP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/memory_digest.h"
#include "graph/type_histogram.h"
#include "readers/base/diag.h"
#include "readers/cpython/python.h"

/* Cycle shapes kept, largest by bytes first: the tail of a pathological heap
 * (thousands of distinct shapes) would make snapshots large and says little. */
#define CH_DIGEST_MAX_GROUPS 1000

struct ch_analysis;

struct ch_digest_type {
	uint32_t name;                   /* pool offset */
	uint64_t count, bytes;
	uint64_t gen[CH_HIST_GENS];
	uint64_t unreachable, unreachable_bytes; /* of count/bytes, the garbage */
};

struct ch_digest_shape_type {
	uint32_t name;                   /* pool offset */
	uint32_t count;                  /* members of this type in one component */
};

struct ch_digest_group {
	uint32_t key;                    /* pool offset: "name*n;...|edge|..." with types by name; matches shapes across dumps */
	uint64_t count, objects, bytes;
	bool finalizers;
	uint32_t first_type, ntypes;     /* into shape_types, sorted by name */
	uint32_t first_edge, nedges;     /* into edges (pool offsets), sorted */
};

/* A container and how much it holds, keyed by its path from the roots
 * (graph/suspects.h): what `diff` matches across dumps for its growth
 * suspects. Addresses differ from one process to the next; paths do not. */
struct ch_digest_container {
	uint32_t path, type;             /* pool offsets */
	uint64_t elements, retained;
};

/* A row of the exactness verdict (graph/exactness.h), by type name: the
 * objects of that type whose references were not read exactly, and why. */
struct ch_digest_conservative {
	uint32_t type, reason;           /* pool offsets */
	uint64_t objects;
};

struct ch_heap_digest {
	char *pool;                      /* NUL-terminated strings, addressed by offset */
	size_t pool_len, pool_cap;
	/* runtime */
	uint32_t version, executable;    /* pool offsets ("" when unknown) */
	int64_t pid;                     /* -1 when the core has no NT_PRPSINFO */
	int signal;
	struct ch_gc_state gc;           /* addresses and list heads are zero */
	uint64_t frozen;
	struct ch_type_row totals;       /* .type unused */
	uint64_t unreachable, unreachable_bytes, cycles;
	uint64_t freed_with, freed_with_bytes, acyclic, acyclic_bytes;
	struct ch_digest_type *types;    /* sorted by name (strcmp) */
	size_t ntypes;
	struct ch_digest_group *groups;  /* by bytes descending, then key; at most CH_DIGEST_MAX_GROUPS */
	size_t ngroups;
	uint64_t groups_total;           /* shapes before the cut */
	struct ch_digest_shape_type *shape_types;
	size_t nshape_types;
	uint32_t *edges;
	size_t nedges;
	struct ch_digest_container *containers; /* by retained descending, at most CH_CONTAINERS_MAX */
	size_t ncontainers;
	bool has_containers;             /* false: the source did not record them (an older snapshot) */
	struct ch_memory_digest memory;  /* .present false: no memory figures (an older snapshot) */
	/* Whether the unreachable figures are exact (every GC object's
	 * references read exactly) or a lower bound; conservative lists why.
	 * exact_known false: the source did not record it (an older snapshot). */
	bool exact_known, exact;
	struct ch_digest_conservative *conservative; /* by objects descending, as the analysis sorted them */
	size_t nconservative;
	/* Names of the class objects on the heap, with or without instances
	 * (pool offsets, unsorted, unique): a core knows a class it has no
	 * instance of, so --fail-if "type('app.Leak').count > 0" is not an
	 * unknown name there. Not written in snapshots (empty when read back). */
	uint32_t *type_objects;
	size_t ntype_objects;
	struct ch_diag diag;             /* partial flag and warnings of the source */
};

void ch_heap_digest_init(struct ch_heap_digest *d);
void ch_heap_digest_deinit(struct ch_heap_digest *d);

/* From an analysed heap (graph/analysis.h); py->diag is copied. */
struct ch_error *ch_heap_digest_build(struct ch_heap_digest *d, struct ch_python *py, const struct ch_analysis *a);

static inline const char *ch_digest_str(const struct ch_heap_digest *d, uint32_t off)
{
	return d->pool + off;
}

/* Pool a copy of s; *off receives its offset. */
struct ch_error *ch_digest_str_add(struct ch_heap_digest *d, const char *s, uint32_t *off);

/* Builders used by ch_heap_digest_build and the snapshot reader, so both
 * produce the same rows. ch_digest_finish sorts, merges rows of equal
 * names, computes the group keys and applies the group cut. */
struct ch_error *ch_digest_type_add(struct ch_heap_digest *d, const struct ch_digest_type *t);
struct ch_error *ch_digest_group_add(struct ch_heap_digest *d, const struct ch_digest_group *g);
struct ch_error *ch_digest_shape_type_add(struct ch_heap_digest *d, uint32_t name, uint32_t count);
struct ch_error *ch_digest_edge_add(struct ch_heap_digest *d, uint32_t edge);
struct ch_error *ch_digest_container_add(struct ch_heap_digest *d, const struct ch_digest_container *c);
/* A row of the verdict; sets exact_known and clears exact. */
struct ch_error *ch_digest_conservative_add(struct ch_heap_digest *d, const struct ch_digest_conservative *c);

struct ch_roots;
/* Records the containers of a's heap (ch_containers_find over the root
 * set of roots) with their paths; sets has_containers. A stored tree is
 * taken without the check of its shape (only its sums and one idom step
 * are read). chains: a stored search is checked only along the
 * containers' chains, step by step (ch_root_set_paths_walk), for a
 * command that reads its index lazily (`diff`); else it is checked whole
 * first (`snapshot`, which finds a damage anywhere in it). The
 * containers are the same. */
struct ch_error *ch_heap_digest_add_containers(struct ch_heap_digest *d, const struct ch_analysis *a,
					       const struct ch_roots *roots, bool chains);
struct ch_error *ch_digest_finish(struct ch_heap_digest *d);

/* Records the names of the class objects on a's heap (type_objects). */
struct ch_error *ch_heap_digest_add_type_objects(struct ch_heap_digest *d, struct ch_python *py,
						 const struct ch_analysis *a);

/* Does the name denote a type of this heap: one with objects, or a class
 * object recorded in type_objects? */
bool ch_digest_type_known(const struct ch_heap_digest *d, const char *name);

/* A known type name the user may have meant by name, or NULL: one whose
 * last component equals name's last component ignoring case (`Request` ->
 * `__main__.Request`), else one at most two edits away; of several, the
 * one with most objects. */
const char *ch_digest_type_similar(const struct ch_heap_digest *d, const char *name);

/* The row of a type name, or NULL (binary search). */
const struct ch_digest_type *ch_digest_type_find(const struct ch_heap_digest *d, const char *name);

#endif
