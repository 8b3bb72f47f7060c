/* Type objects seen in the heap, read and named on first sight into the
 * type table (py_type_table.h), and the per-object facts derived from them:
 * is a word an object, what is an object's shallow size. */
#ifndef CH_PY_TYPES_H
#define CH_PY_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/cpython/py_type_table.h"

struct ch_python;

/* Index of the type at addr, reading and naming it on first sight.
 * Never fails except for memory exhaustion: an unreadable type object gets
 * an entry with valid == false and a name like "<unreadable type 0x...>". */
struct ch_error *ch_py_type_intern(struct ch_python *py, uint64_t addr, uint32_t *index);

/* Is there an object at addr? Its ob_type must be a type already seen on
 * a GC list, or read as a type object (its own type has
 * Py_TPFLAGS_TYPE_SUBCLASS), which random words rarely satisfy. On success
 * *type is the type object's address. */
bool ch_py_object_plausible(struct ch_python *py, uint64_t addr, uint64_t *type);

/* Shallow size of an object of this type (header, items, GC head and
 * pre-header), given its ob_size word (ignored for fixed-size types). */
uint64_t ch_py_type_object_size(const struct ch_py_type *type, int64_t ob_size);

#endif
