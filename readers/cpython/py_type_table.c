#include "readers/cpython/py_type_table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The index hash reads each type's key at the start of its entry. */
_Static_assert(offsetof(struct ch_py_type, addr) == 0, "addr must lead struct ch_py_type");

void ch_py_types_init(struct ch_py_types *t)
{
	memset(t, 0, sizeof(*t));
}

void ch_py_types_deinit(struct ch_py_types *t)
{
	free(t->v);
	ch_index_hash_deinit(&t->index);
	free(t->names);
	memset(t, 0, sizeof(*t));
}
