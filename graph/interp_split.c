#include "interp_split.h"

#include <stdlib.h>
#include <string.h>

#include "readers/cpython/python.h"

struct ch_error *ch_interp_split_build(struct ch_interp_split *s, const struct ch_heap *heap, int generation,
				       const struct ch_gc_replay *replay, enum ch_hist_sort sort, size_t top,
				       const struct ch_hist_query *whole, struct ch_type_histogram *whole_out)
{
	memset(s, 0, sizeof(*s));
	size_t n = heap->py->ninterps ? heap->py->ninterps : 1;
	/* Queries: whole first (when asked), then per interpreter its types
	 * and, with a replay, its garbage. */
	size_t per = replay ? 2 : 1, first = whole ? 1 : 0, nq = first + n * per;
	s->v = calloc(n, sizeof(*s->v));
	struct ch_hist_query *q = calloc(nq, sizeof(*q));
	struct ch_type_histogram *h = calloc(nq, sizeof(*h));
	struct ch_error *err = s->v && q && h ? NULL : &ch_error_nomem;
	if (!err) {
		if (whole)
			q[0] = *whole;
		for (size_t k = 0; k < n; k++) {
			q[first + k * per] = (struct ch_hist_query){generation, NULL, 0, (int)k, sort, top};
			if (replay)
				q[first + k * per + 1] = (struct ch_hist_query){-1, replay->state, CH_REPLAY_UNREACHABLE,
										(int)k, sort, top};
		}
		err = ch_type_histogram_build_many(h, q, nq, heap);
	}
	if (!err) {
		if (whole)
			*whole_out = h[0];
		for (size_t k = 0; k < n; k++) {
			struct ch_interp_part *p = &s->v[s->n++];
			p->index = k;
			p->types = h[first + k * per];
			if (replay) {
				p->unreachable = h[first + k * per + 1];
				p->have_unreachable = true;
			}
		}
	}
	free(q);
	free(h);
	if (err)
		ch_interp_split_deinit(s);
	return err;
}

void ch_interp_split_deinit(struct ch_interp_split *s)
{
	for (size_t k = 0; k < s->n; k++) {
		ch_type_histogram_deinit(&s->v[k].types);
		ch_type_histogram_deinit(&s->v[k].unreachable);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
