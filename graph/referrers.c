#include "referrers.h"

#include <stdlib.h>
#include <string.h>

struct ch_error *ch_referrers_find(struct ch_referrers *r, const struct ch_edges *e, size_t nobjects,
				   uint32_t target)
{
	memset(r, 0, sizeof(*r));
	size_t cap = 0;
	for (size_t i = 0; i < nobjects; i++) {
		for (size_t k = e->offsets[i]; k < e->offsets[i + 1]; k++) {
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
			r->sources[r->n] = (uint32_t)i;
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
