/* All objects of a heap in compact parallel arrays, with address lookup by
 * open addressing. Millions of objects: no per-object allocation, about
 * 40 bytes per object including the hash slots.
 *
 * Index i names the same object in every array; indexes are stable once
 * assigned (the table only grows), so later phases (edges, SCCs,
 * dominators) can store uint32 indexes instead of addresses. */
#ifndef CH_OBJECT_TABLE_H
#define CH_OBJECT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/base/index_hash.h"
#include "readers/base/shared_map.h"

#define CH_NO_OBJECT CH_INDEX_NONE

/* Generation codes stored per object. */
enum {
	CH_GEN_PERMANENT = 3,
	CH_GEN_UNTRACKED = 4, /* found through references, not on a GC list */
};

/* Per-object flag bits. */
enum {
	CH_OBJ_FINALIZED = 1 << 0, /* tp_finalize already ran */
};

struct ch_object_table {
	uint64_t *addr;
	uint64_t *size;   /* shallow size in bytes */
	int64_t *refcnt;
	uint32_t *type;   /* index into ch_py_types */
	uint8_t *gen;     /* 0..2, CH_GEN_PERMANENT, CH_GEN_UNTRACKED */
	uint8_t *flags;
	/* Index into ch_python.interps of the interpreter whose GC list holds
	 * the object (0 = main); an untracked object takes the interpreter of
	 * the object it was first found through. */
	uint8_t *interp;
	size_t n, cap;
	struct ch_index_hash index; /* addr -> object index */
	/* Set when the arrays above (and the address table, when it is
	 * borrowed) point into a loaded heap index (graph/heap_index.h): they
	 * are then released with it, and copied out before the table grows. */
	struct ch_shared_map *backing;
};

void ch_objects_init(struct ch_object_table *t);
void ch_objects_deinit(struct ch_object_table *t);

/* Add an object. If addr is already present nothing is added, *index is
 * the existing entry and *added is false. */
struct ch_error *ch_objects_add(struct ch_object_table *t, uint64_t addr, uint32_t type, int64_t refcnt,
				uint64_t size, uint8_t gen, uint8_t flags, uint32_t *index, bool *added);

/* Give back the unused capacity once no more objects will be added
 * (failure to shrink is harmless and ignored). */
void ch_objects_trim(struct ch_object_table *t);

/* Bytes the table holds for its n objects (arrays at their capacity, hash slots). */
uint64_t ch_objects_memory(const struct ch_object_table *t);

/* Bulk loading: append without touching the address index, then build the
 * index once (pre-sized, slots prefetched in runs). Used when the source
 * already guarantees each address once (a GC list whose back links were
 * checked); ch_objects_index_build still drops any duplicate it meets and
 * reports how many through *dropped. */
struct ch_error *ch_objects_append(struct ch_object_table *t, uint64_t addr, uint32_t type, int64_t refcnt,
				   uint64_t size, uint8_t gen, uint8_t flags);
/* Objects added by either call start in interpreter 0; the caller sets
 * t->interp[i] when it knows better. */
struct ch_error *ch_objects_index_build(struct ch_object_table *t, uint64_t *dropped);

/* Index of the object at addr, or CH_NO_OBJECT. */
uint32_t ch_objects_find(const struct ch_object_table *t, uint64_t addr);

#endif
