/* What does not add up in a heap (`coreheap anomalies`):
 *
 *   refcount bugs  objects whose refcount is lower than the references
 *                  certainly found to them (ch_roots.refs): the next
 *                  Py_DECREF of one of those holders frees a live object;
 *   leaks          objects that no root reaches (roots other than
 *                  "external"), that the collector would not free
 *                  (not GC garbage), and whose refcount exceeds every
 *                  reference found, certain or possible: something
 *                  outside the heap holds a count and nothing in the
 *                  process can reach them. A C extension's missing
 *                  Py_DECREF looks exactly like this. What only they
 *                  keep alive is counted with them.
 *
 * Both are grouped by type, largest first. */
#ifndef CH_ANOMALIES_H
#define CH_ANOMALIES_H

#include <stddef.h>
#include <stdint.h>

#include "graph/roots.h"

struct ch_anomaly_group {
	uint32_t type;
	uint64_t objects, bytes;       /* the anomalous objects themselves */
	uint64_t kept_objects, kept_bytes; /* leaks: objects reachable only through these leaked ones */
	uint64_t unexplained;          /* leaks: refcount - references found, summed */
	uint32_t first;                /* index of one object (the first in table order) */
};

struct ch_anomalies {
	uint32_t *low;     /* refcount-bug objects, table order */
	size_t nlow;
	uint32_t *leaked;  /* leak roots, table order */
	size_t nleaked;
	struct ch_anomaly_group *low_groups, *leak_groups; /* by bytes (kept included), then count */
	size_t nlow_groups, nleak_groups;
	uint64_t reachable, reachable_bytes;     /* from the non-external roots */
	uint64_t garbage, garbage_bytes;         /* GC garbage: unreachable and freed with it */
	uint64_t unreachable, unreachable_bytes; /* the part of it a full collection finds (as `cycles` counts) */
	uint64_t leaked_kept, leaked_kept_bytes; /* leak roots and what they alone keep */
	uint64_t other, other_bytes;             /* unreached, neither garbage nor leak-held (the remainder) */
};

struct ch_error *ch_anomalies_find(struct ch_anomalies *an, const struct ch_analysis *a, const struct ch_roots *r);
void ch_anomalies_deinit(struct ch_anomalies *an);

#endif
