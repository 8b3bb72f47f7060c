/* Type objects seen in the heap, interned to small indexes, with the facts
 * the heap walk needs per object (size rule, flags) and a display name in
 * `module.qualname` form (builtins bare). Types are few (thousands) while
 * objects are millions, so everything per type is computed once here. */
#ifndef CH_PY_TYPES_H
#define CH_PY_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/base/index_hash.h"

struct ch_python;

/* Py_TPFLAGS_* bits that coreheap tests. They are ABI constants of the
 * public headers (object.h), identical in 3.8-3.13. Version-dependent
 * flags live in the layout table (PREHEADER_FLAGS). */
#define CH_TPFLAGS_HEAPTYPE (1UL << 9)
#define CH_TPFLAGS_HAVE_GC (1UL << 14)
#define CH_TPFLAGS_TYPE_SUBCLASS (1UL << 31) /* on a metatype: its instances are types */

struct ch_py_type {
	uint64_t addr;
	uint64_t flags;       /* tp_flags */
	int64_t basicsize;
	int64_t itemsize;
	uint32_t name;        /* offset into ch_py_types.names */
	uint8_t presize;      /* bytes before the object: GC head + pre-header words */
	bool valid;           /* false: the type object itself was unreadable */
	bool finalizer;       /* tp_finalize or the legacy tp_del is set (__del__) */
};

struct ch_py_types {
	struct ch_py_type *v;
	size_t n, cap;
	struct ch_index_hash index; /* type address -> index into v */
	char *names;
	size_t names_len, names_cap;
};

void ch_py_types_init(struct ch_py_types *t);
void ch_py_types_deinit(struct ch_py_types *t);

/* Index of the type at addr, reading and naming it on first sight.
 * Never fails except for memory exhaustion: an unreadable type object gets
 * an entry with valid == false and a name like "<unreadable type 0x...>". */
struct ch_error *ch_py_type_intern(struct ch_python *py, uint64_t addr, uint32_t *index);

static inline const char *ch_py_type_name(const struct ch_py_types *t, uint32_t index)
{
	return t->names + t->v[index].name;
}

/* Is there an object at addr? Its ob_type must be a type already seen on
 * a GC list, or read as a type object (its own type has
 * Py_TPFLAGS_TYPE_SUBCLASS), which random words rarely satisfy. On success
 * *type is the type object's address. */
bool ch_py_object_plausible(struct ch_python *py, uint64_t addr, uint64_t *type);

/* Shallow size of an object of this type (header, items, GC head and
 * pre-header), given its ob_size word (ignored for fixed-size types). */
uint64_t ch_py_type_object_size(const struct ch_py_type *type, int64_t ob_size);

#endif
