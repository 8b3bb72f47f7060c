/* The table of type objects seen in the heap, interned to small indexes:
 * plain data (facts per type and a display name in `module.qualname`
 * form, builtins bare), filled by py_types.c. Types are few (thousands)
 * while objects are millions, so everything per type is computed once.
 * This file reads no memory: the runtime (python.h) owns a table without
 * depending on the code that fills it. */
#ifndef CH_PY_TYPE_TABLE_H
#define CH_PY_TYPE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/base/index_hash.h"

/* Py_TPFLAGS_* bits that coreheap tests. They are ABI constants of the
 * public headers (object.h), identical in 3.8-3.13. Version-dependent
 * flags live in the layout table (PREHEADER_FLAGS). */
#define CH_TPFLAGS_HEAPTYPE (1UL << 9)
#define CH_TPFLAGS_HAVE_GC (1UL << 14)
#define CH_TPFLAGS_TYPE_SUBCLASS (1UL << 31) /* on a metatype: its instances are types */
#define CH_TPFLAGS_BASE_EXC_SUBCLASS (1UL << 30) /* instances are exceptions (BaseException and subclasses) */

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

static inline const char *ch_py_type_name(const struct ch_py_types *t, uint32_t index)
{
	return t->names + t->v[index].name;
}

#endif
