#include "interp_split.h"

#include <stdlib.h>
#include <string.h>

#include "readers/cpython/python.h"

struct ch_error *ch_interp_split_build(struct ch_interp_split *s, const struct ch_heap *heap, int generation,
				       const struct ch_gc_replay *replay, enum ch_hist_sort sort, size_t top)
{
	memset(s, 0, sizeof(*s));
	size_t n = heap->py->ninterps ? heap->py->ninterps : 1;
	s->v = calloc(n, sizeof(*s->v));
	if (!s->v)
		return &ch_error_nomem;
	for (size_t k = 0; k < n; k++) {
		struct ch_interp_part *p = &s->v[s->n++];
		p->index = k;
		struct ch_error *err =
			ch_type_histogram_build_interp(&p->types, heap, (int)k, generation, NULL, 0, sort, top);
		if (!err && replay) {
			err = ch_type_histogram_build_interp(&p->unreachable, heap, (int)k, -1, replay->state,
							     CH_REPLAY_UNREACHABLE, sort, top);
			p->have_unreachable = !err;
		}
		if (err) {
			ch_interp_split_deinit(s);
			return err;
		}
	}
	return NULL;
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
