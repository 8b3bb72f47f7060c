/* Type names of a heap digest as the user may type them: which are known
 * (a class with or without instances), and what a mistyped one likely
 * meant. --fail-if uses both, so that a condition on a type that exists
 * in no input is an error rather than a condition on zero objects. */
#include "heap_digest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "graph/analysis.h"
#include "readers/base/edit_distance.h"
#include "readers/cpython/py_types.h"

/* Class objects are few next to the objects (thousands): a linear
 * duplicate check per new name is cheap enough and keeps this allocation-light. */
static bool recorded(const struct ch_heap_digest *d, const char *name)
{
	for (size_t i = 0; i < d->ntype_objects; i++)
		if (strcmp(ch_digest_str(d, d->type_objects[i]), name) == 0)
			return true;
	return false;
}

struct ch_error *ch_heap_digest_add_type_objects(struct ch_heap_digest *d, struct ch_python *py,
						 const struct ch_analysis *a)
{
	const struct ch_object_table *o = &a->heap.objects;
	size_t cap = 0;
	for (size_t i = 0; i < o->n; i++) {
		/* An object is a class when its own type is a metatype. */
		if (!(py->types.v[o->type[i]].flags & CH_TPFLAGS_TYPE_SUBCLASS))
			continue;
		uint32_t t;
		struct ch_error *err = ch_py_type_intern(py, o->addr[i], &t);
		if (err)
			return err;
		if (!py->types.v[t].valid)
			continue;
		const char *name = ch_py_type_name(&py->types, t);
		if (ch_digest_type_find(d, name) || recorded(d, name))
			continue;
		if (d->ntype_objects == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint32_t *v = realloc(d->type_objects, ncap * sizeof(*v));
			if (!v)
				return &ch_error_nomem;
			d->type_objects = v;
			cap = ncap;
		}
		uint32_t off;
		if ((err = ch_digest_str_add(d, name, &off)))
			return err;
		d->type_objects[d->ntype_objects++] = off;
	}
	return NULL;
}

bool ch_digest_type_known(const struct ch_heap_digest *d, const char *name)
{
	return ch_digest_type_find(d, name) || recorded(d, name);
}

static const char *last_part(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot ? dot + 1 : name;
}

/* How close a known name is to what was typed: 0 same last component
 * ignoring case, 1-2 edits, 3 not close. */
static size_t closeness(const char *known, const char *typed)
{
	if (strcasecmp(last_part(known), last_part(typed)) == 0)
		return 0;
	return ch_edit_distance(known, typed, 3);
}

const char *ch_digest_type_similar(const struct ch_heap_digest *d, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;
	uint64_t best_n = 0;
	for (size_t i = 0; i < d->ntypes; i++) {
		const char *tn = ch_digest_str(d, d->types[i].name);
		size_t c = closeness(tn, name);
		if (c < best_d || (c == best_d && c < 3 && d->types[i].count > best_n)) {
			best = tn;
			best_d = c;
			best_n = d->types[i].count;
		}
	}
	for (size_t i = 0; i < d->ntype_objects; i++) {
		const char *tn = ch_digest_str(d, d->type_objects[i]);
		size_t c = closeness(tn, name);
		if (c < best_d) {
			best = tn;
			best_d = c;
			best_n = 0;
		}
	}
	return best;
}
