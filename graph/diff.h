/* What changed between two heaps (A, the earlier, and B): per type name the
 * count and byte deltas, per cycle shape the same, the collector's state
 * field by field, and the garbage totals. Both sides are digests
 * (graph/heap_digest.h), whose rows are sorted by name, so the comparison is
 * one merge pass: linear in the number of types, whatever the heap size. */
#ifndef CH_DIFF_H
#define CH_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "graph/heap_digest.h"

enum ch_diff_status {
	CH_DIFF_NEW,    /* absent from A */
	CH_DIFF_GROWN,  /* more objects in B (or as many, and more bytes) */
	CH_DIFF_SHRUNK, /* fewer objects in B (or as many, and fewer bytes) */
	CH_DIFF_GONE,   /* absent from B */
};

/* One changed type or shape. Unchanged ones are not listed. */
struct ch_diff_row {
	const char *name;       /* type name or shape key, borrowed from a digest */
	const struct ch_digest_group *ga, *gb; /* shapes only: the group on each side, or NULL */
	uint64_t count_a, count_b, bytes_a, bytes_b;
	int64_t count_delta, bytes_delta;
	enum ch_diff_status status;
};

/* GC state fields compared; bit i of ch_diff.gc_changed is field i. */
enum ch_diff_gc_field {
	CH_DIFF_GC_ENABLED,
	CH_DIFF_GC_DEBUG,
	CH_DIFF_GC_THRESHOLDS,
	CH_DIFF_GC_COUNTS,
	CH_DIFF_GC_COLLECTING,
	CH_DIFF_GC_GARBAGE,
	CH_DIFF_GC_FROZEN,
	CH_DIFF_GC_NFIELDS,
};

/* A container that grew from A to B, matched by its path from the roots
 * (ch_digest_container), as Eclipse MAT's comparison does: the growth
 * suspects. */
struct ch_diff_growth {
	const char *path, *type;  /* borrowed from B's digest */
	uint64_t elements_a, elements_b, retained_a, retained_b; /* _a 0 when A has no container there */
	int64_t elements_delta, retained_delta;
	bool new_in_b;            /* no container at that path in A */
};

/* One memory figure (graph/memory_digest.h) on both sides, matched by
 * name; a figure one side lacks (glibc not found there) has has_a or has_b
 * false and no delta. */
struct ch_diff_memory_row {
	const char *name;           /* borrowed from a digest */
	bool has_a, has_b;
	uint64_t a, b;
	int64_t delta;              /* b - a when both sides have it, else 0 */
};

struct ch_diff {
	const struct ch_heap_digest *a, *b;
	struct ch_diff_row *types;  /* by bytes_delta descending, then count_delta descending, then name */
	size_t ntypes;
	size_t nstatus[4];          /* types per ch_diff_status */
	struct ch_diff_row *groups; /* shapes, in the same order */
	size_t ngroups;
	unsigned gc_changed;        /* bit per ch_diff_gc_field */
	int64_t count_delta, bytes_delta;          /* heap totals */
	int64_t unreachable_delta, unreachable_bytes_delta;
	/* Containers of B whose elements or retained bytes grew, by retained
	 * delta descending, then elements delta, then path; only when both
	 * digests recorded containers (growth_known). */
	struct ch_diff_growth *growth;
	size_t ngrowth;
	bool growth_known;
	/* The memory figures: A's in order, then those only B has; only when
	 * both sides recorded memory figures (memory_known). */
	struct ch_diff_memory_row memory[2 * CH_MEMD_MAX];
	size_t nmemory;
	bool memory_known;
};

/* Borrows a and b: they must outlive d. */
struct ch_error *ch_diff_compute(struct ch_diff *d, const struct ch_heap_digest *a, const struct ch_heap_digest *b);
void ch_diff_deinit(struct ch_diff *d);

/* True when nothing at all changed (the diff of a heap with itself). */
bool ch_diff_empty(const struct ch_diff *d);

/* "new", "grown", "shrunk", "gone". */
const char *ch_diff_status_name(enum ch_diff_status s);
/* "enabled", "debug", "thresholds", "counts", "collecting", "garbage", "frozen". */
const char *ch_diff_gc_field_name(enum ch_diff_gc_field f);

/* b - a as a signed 64-bit value, saturated. */
int64_t ch_diff_delta(uint64_t a, uint64_t b);

#endif
