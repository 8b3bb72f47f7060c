#include "referrers.h"

#include <stdlib.h>
#include <string.h>

struct ch_error *ch_referrers_find(struct ch_referrers *r, const struct ch_edges *e, size_t nobjects,
				   uint32_t target)
{
	memset(r, 0, sizeof(*r));
	size_t cap = 0, nedges = nobjects ? e->offsets[nobjects] : 0;
	/* The targets scanned in runs of 64 without a branch per edge (the
	 * compiler vectorizes the test), a run with a hit then edge by edge;
	 * each hit's source found in the offsets. */
	for (size_t run = 0; run < nedges; run += 64) {
		size_t end = nedges - run < 64 ? nedges : run + 64;
		uint32_t any = 0;
		for (size_t k = run; k < end; k++)
			any |= (uint32_t)(e->targets[k] == target);
		for (size_t k = run; any && k < end; k++) {
			if (e->targets[k] != target)
				continue;
			if (r->n == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				size_t *ne = realloc(r->edges, ncap * sizeof(*ne));
				if (ne)
					r->edges = ne;
				uint32_t *ns = ne ? realloc(r->sources, ncap * sizeof(*ns)) : NULL;
				if (!ns) {
					ch_referrers_deinit(r);
					return &ch_error_nomem;
				}
				r->sources = ns;
				cap = ncap;
			}
			r->edges[r->n] = k;
			r->sources[r->n] = (uint32_t)ch_edges_source(e, nobjects, k);
			r->n++;
		}
	}
	return NULL;
}

void ch_referrers_deinit(struct ch_referrers *r)
{
	free(r->edges);
	free(r->sources);
	memset(r, 0, sizeof(*r));
}
