/* `find`: the objects of one type, by its display name (module.qualname as
 * `types` prints it), optionally with the instances of its subclasses. */
#ifndef CH_FIND_H
#define CH_FIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/heap.h"

#define CH_MRO_MAX 256 /* tp_mro entries read per type */

/* objects: indexes into heap->objects, largest size first, ties by address.
 * types_matched: how many interned types matched the name (0: the name is
 * not the name of any type with objects on the heap). */
#define CH_FIND_SIMILAR_MAX 5

struct ch_find_result {
	uint32_t *objects;
	size_t n;
	size_t types_matched;
	/* When no type matched: types with objects whose last name component
	 * is the name's, ignoring case (`Request` -> `__main__.Request`). */
	uint32_t similar[CH_FIND_SIMILAR_MAX];
	size_t nsimilar;
};

/* Types whose tp_mro cannot be read match on their own name only; each such
 * type that has objects adds a warning to py->diag. */
struct ch_error *ch_find_by_type(struct ch_find_result *r, struct ch_heap *heap, const char *name, bool subclasses,
				 uint64_t min_bytes);
void ch_find_result_deinit(struct ch_find_result *r);

#endif
