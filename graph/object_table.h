/* All objects of a heap in compact parallel arrays, with address lookup by
 * open addressing. Millions of objects: no per-object allocation, about
 * 32 bytes per object including the hash slots.
 *
 * Index i names the same object in every array; indexes are stable once
 * assigned (the table only grows), so later phases (edges, SCCs,
 * dominators) can store uint32 indexes instead of addresses. */
#ifndef CH_OBJECT_TABLE_H
#define CH_OBJECT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/wide_values.h"
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

/* Marks of a size or refcount that does not fit its 32-bit column: the
 * value is in the table's wide_size or wide_refcnt (graph/wide_values.h).
 * Read them through ch_objects_size / ch_objects_refcnt, write them
 * through ch_objects_set_size. */
#define CH_SIZE_WIDE UINT32_MAX
#define CH_REFCNT_WIDE INT32_MIN

struct ch_object_table {
	uint64_t *addr;
	uint32_t *size;   /* shallow size in bytes, or CH_SIZE_WIDE */
	int32_t *refcnt;  /* or CH_REFCNT_WIDE */
	uint32_t *type;   /* index into ch_py_types */
	uint8_t *gen;     /* 0..2, CH_GEN_PERMANENT, CH_GEN_UNTRACKED */
	uint8_t *flags;
	/* Index into ch_python.interps of the interpreter whose GC list holds
	 * the object (0 = main); an untracked object takes the interpreter of
	 * the object it was first found through. */
	uint8_t *interp;
	size_t n, cap;
	struct ch_wide wide_size, wide_refcnt; /* the values marked wide, by object index */
	struct ch_index_hash index; /* addr -> object index */
	/* The address table's slots given back unfilled after a loan
	 * (ch_objects_index_return): while set, index is empty and every
	 * lookup must wait for ch_objects_index_settle. Refilling them costs
	 * a pass over every address, which a command that looks no address
	 * up after the GC replay (cycles) never pays. */
	uint32_t *idle_slots;
	size_t idle_nslots;
	/* Set when the arrays above (and the address table, when it is
	 * borrowed) point into a loaded heap index (graph/heap_index.h): they
	 * are then released with it, and copied out before the table grows. */
	struct ch_shared_map *backing;
};

static inline uint64_t ch_objects_size(const struct ch_object_table *t, size_t i)
{
	return t->size[i] != CH_SIZE_WIDE ? t->size[i] : ch_wide_get(&t->wide_size, (uint32_t)i);
}

static inline int64_t ch_objects_refcnt(const struct ch_object_table *t, size_t i)
{
	return t->refcnt[i] != CH_REFCNT_WIDE ? t->refcnt[i] : (int64_t)ch_wide_get(&t->wide_refcnt, (uint32_t)i);
}

/* Sets object i's size (a wide one goes into wide_size). */
struct ch_error *ch_objects_set_size(struct ch_object_table *t, size_t i, uint64_t size);

/* The wide values as a heap index stores them (graph/heap_index.c): a
 * size (column 0) or refcount (column 1) of the object at index, sorted
 * by column, then index, one per slot marked wide. */
struct ch_wide_rec {
	uint32_t index;
	uint32_t column;
	uint64_t value;
};

/* The table's live wide values as records, *rec malloc'd. */
struct ch_error *ch_objects_wide_records(const struct ch_object_table *t, struct ch_wide_rec **rec, size_t *n);
/* NULL when rec[0..nrec) are exactly the wide values columns size and
 * refcnt of n objects mark, in order; else what is wrong. */
const char *ch_objects_wide_check(const uint32_t *size, const int32_t *refcnt, size_t n, const struct ch_wide_rec *rec,
				  size_t nrec);
/* The same with the marks in the columns already counted (marked). */
const char *ch_objects_wide_check_records(const uint32_t *size, const int32_t *refcnt, size_t n,
					  const struct ch_wide_rec *rec, size_t nrec, size_t marked);
/* Sets the wide values of checked records. */
struct ch_error *ch_objects_wide_load(struct ch_object_table *t, const struct ch_wide_rec *rec, size_t nrec);

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

/* The address table's slots lent out as scratch of *nslots >= objects.n
 * uint32: a heap-sized pass that looks no address up (the GC replay)
 * writes over them instead of allocating its own. NULL when the table
 * cannot lend them (borrowed from a heap index, too small); else, until
 * ch_objects_index_restore or ch_objects_index_return, the table has no
 * address index (ch_objects_find must not be called) and must not grow.
 * Slots given back unsettled are lent again as they are. */
uint32_t *ch_objects_index_lend(struct ch_object_table *t, size_t *nslots);
/* Takes the lent slots back and indexes every object again. */
void ch_objects_index_restore(struct ch_object_table *t, uint32_t *slots, size_t nslots);
/* Takes the lent slots back without indexing: the table is unsettled
 * until ch_objects_index_settle (adding an object settles it first). */
void ch_objects_index_return(struct ch_object_table *t, uint32_t *slots, size_t nslots);
/* Indexes every object again if the table is unsettled; else nothing.
 * Not thread-safe: call it before any region that looks addresses up on
 * more than one thread. */
void ch_objects_index_settle(struct ch_object_table *t);

/* Index of the object at addr, or CH_NO_OBJECT. An unsettled table is
 * settled first (on the calling thread: see ch_objects_index_settle). */
uint32_t ch_objects_find(const struct ch_object_table *t, uint64_t addr);

/* A batch of lookups costs one cache miss each instead of two in a row
 * when it is prefetched in two rounds before the finds: first each
 * address's home slot, then (the slots now in cache) what each find will
 * read next. The second round returns the slot value the find will stop
 * at (ch_index_hash_guess: an entry's index+1 with its tag, 0 when the
 * address is absent, CH_INDEX_NONE when unsure) for callers that prefetch
 * something of their own for an absent address. Hints only: a find gives
 * the same answer with or without them. */
static inline void ch_objects_prefetch_slot(const struct ch_object_table *t, uint64_t addr)
{
	if (t->index.nslots)
		__builtin_prefetch(&t->index.slots[ch_index_slot(addr, t->index.nslots)]);
}

static inline uint32_t ch_objects_prefetch_entry(const struct ch_object_table *t, uint64_t addr)
{
	if (!t->index.nslots)
		return CH_INDEX_NONE;
	uint32_t v = ch_index_hash_guess(&t->index, addr, 8);
	if (v && v != CH_INDEX_NONE)
		__builtin_prefetch(&t->addr[ch_index_hash_entry(&t->index, v) - 1]);
	return v;
}

#endif
