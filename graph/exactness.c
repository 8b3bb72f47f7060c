#include "graph/exactness.h"

#include "graph/edges.h"
#include "readers/base/sorted_u32.h"

#include <stdlib.h>
#include <string.h>

struct ch_error *ch_exactness_note(struct ch_exactness *x, uint32_t obj, uint32_t type, const char *reason)
{
	if (x->nobjects == x->capobjects) {
		size_t ncap = x->capobjects ? x->capobjects * 2 : 256;
		uint32_t *p = realloc(x->objects, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		x->objects = p;
		x->capobjects = ncap;
	}
	x->objects[x->nobjects++] = obj;
	/* Few types: a linear search, most recent first. */
	for (size_t i = x->ntypes; i-- > 0;)
		if (x->types[i].type == type) {
			x->types[i].objects++;
			return NULL;
		}
	if (x->ntypes == x->captypes) {
		size_t ncap = x->captypes ? x->captypes * 2 : 16;
		struct ch_conservative_type *p = realloc(x->types, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		x->types = p;
		x->captypes = ncap;
	}
	x->types[x->ntypes].type = type;
	x->types[x->ntypes].objects = 1;
	x->types[x->ntypes].reason = reason ? reason : "unknown";
	x->ntypes++;
	return NULL;
}

bool ch_exactness_object_exact(const struct ch_exactness *x, uint32_t obj)
{
	size_t lo = ch_u32_lower_bound(x->objects, x->nobjects, obj);
	return !(lo < x->nobjects && x->objects[lo] == obj);
}

static int by_count(const void *a, const void *b)
{
	const struct ch_conservative_type *x = a, *y = b;
	if (x->objects != y->objects)
		return x->objects > y->objects ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

void ch_exactness_finish(struct ch_exactness *x)
{
	if (x->ntypes > 1)
		qsort(x->types, x->ntypes, sizeof(*x->types), by_count);
}

void ch_exactness_deinit(struct ch_exactness *x)
{
	free(x->objects);
	free(x->types);
	memset(x, 0, sizeof(*x));
}

uint32_t ch_exactness_conservative_holder(const struct ch_exactness *x, const struct ch_edges *e, uint32_t target)
{
	for (size_t i = 0; i < x->nobjects; i++) {
		uint32_t src = x->objects[i];
		for (uint32_t k = e->offsets[src]; k < e->offsets[src + 1]; k++)
			if (e->targets[k] == target && ch_label_kind(e->labels[k]) == CH_REF_CONSERVATIVE)
				return src;
	}
	return UINT32_MAX;
}
