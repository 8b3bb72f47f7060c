/* The references into one object ("who holds it"): one pass over the CSR
 * edges of the whole-heap graph, keeping every edge whose target is the
 * object. No second graph and no recursion. */
#ifndef CH_REFERRERS_H
#define CH_REFERRERS_H

#include <stddef.h>
#include <stdint.h>

#include "graph/edges.h"

/* Edge k = edges[i] goes from object sources[i] to the target; entries are
 * in CSR order (source index, then the source's own edge order). A source
 * holding the target several times (twice in a list, as key and value)
 * appears once per edge. */
struct ch_referrers {
	size_t *edges;
	uint32_t *sources;
	size_t n;
};

struct ch_error *ch_referrers_find(struct ch_referrers *r, const struct ch_edges *e, size_t nobjects,
				   uint32_t target);
void ch_referrers_deinit(struct ch_referrers *r);

#endif
