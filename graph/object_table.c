#include "object_table.h"

#include <stdlib.h>
#include <string.h>

void ch_objects_init(struct ch_object_table *t)
{
	memset(t, 0, sizeof(*t));
}

void ch_objects_deinit(struct ch_object_table *t)
{
	if (t->backing) {
		ch_shared_map_release(t->backing);
	} else {
		free(t->addr);
		free(t->size);
		free(t->refcnt);
		free(t->type);
		free(t->gen);
		free(t->flags);
		free(t->interp);
	}
	ch_index_hash_deinit(&t->index);
	memset(t, 0, sizeof(*t));
}

static struct ch_error *grow_arrays(struct ch_object_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 4096;
	if (ncap >= CH_NO_OBJECT)
		return ch_error_new(CH_ERR_NOMEM, "more than 4 billion objects");
	/* Arrays in a mapped index are copied out first (realloc of NULL). */
	bool copy = t->backing != NULL;
#define GROW(field)                                                          \
	do {                                                                 \
		void *p = realloc(copy ? NULL : t->field, ncap * sizeof(*t->field)); \
		if (!p)                                                      \
			return &ch_error_nomem;                              \
		if (copy)                                                    \
			memcpy(p, t->field, t->n * sizeof(*t->field));       \
		t->field = p;                                                \
	} while (0)
	GROW(addr);
	GROW(size);
	GROW(refcnt);
	GROW(type);
	GROW(gen);
	GROW(flags);
	GROW(interp);
#undef GROW
	/* The address table may lie in the same map: copied out too. */
	if (copy && t->index.borrowed) {
		uint32_t *slots = malloc(t->index.nslots * sizeof(*slots));
		if (!slots)
			return &ch_error_nomem;
		memcpy(slots, t->index.slots, t->index.nslots * sizeof(*slots));
		t->index.slots = slots;
		t->index.borrowed = false;
	}
	if (copy) {
		ch_shared_map_release(t->backing);
		t->backing = NULL;
	}
	t->cap = ncap;
	return NULL;
}

uint32_t ch_objects_find(const struct ch_object_table *t, uint64_t addr)
{
	return ch_index_hash_find(&t->index, t->addr, sizeof(*t->addr), addr);
}

static void store(struct ch_object_table *t, size_t i, uint64_t addr, uint32_t type, int64_t refcnt, uint64_t size,
		  uint8_t gen, uint8_t flags)
{
	t->addr[i] = addr;
	t->size[i] = size;
	t->refcnt[i] = refcnt;
	t->type[i] = type;
	t->gen[i] = gen;
	t->flags[i] = flags;
	t->interp[i] = 0;
}

struct ch_error *ch_objects_add(struct ch_object_table *t, uint64_t addr, uint32_t type, int64_t refcnt,
				uint64_t size, uint8_t gen, uint8_t flags, uint32_t *index, bool *added)
{
	struct ch_error *err;
	if (t->n == t->cap && (err = grow_arrays(t)))
		return err;
	/* Room first, so that one probe finds the object or claims its slot.
	 * (A rehash reads keys 0..n-1 only, so the unwritten entry n is safe.) */
	if ((err = ch_index_hash_reserve(&t->index, t->addr, sizeof(*t->addr), t->n + 1)))
		return err;
	size_t i = t->n;
	uint32_t found = ch_index_hash_find_or_insert(&t->index, t->addr, sizeof(*t->addr), addr, (uint32_t)i);
	if (found != CH_NO_OBJECT) {
		if (index)
			*index = found;
		if (added)
			*added = false;
		return NULL;
	}
	t->n++;
	store(t, i, addr, type, refcnt, size, gen, flags);
	if (index)
		*index = (uint32_t)i;
	if (added)
		*added = true;
	return NULL;
}

uint64_t ch_objects_memory(const struct ch_object_table *t)
{
	uint64_t per = sizeof(*t->addr) + sizeof(*t->size) + sizeof(*t->refcnt) + sizeof(*t->type) + sizeof(*t->gen) +
		       sizeof(*t->flags) + sizeof(*t->interp);
	return (uint64_t)t->cap * per + (uint64_t)t->index.nslots * sizeof(*t->index.slots);
}

void ch_objects_trim(struct ch_object_table *t)
{
	if (t->n == t->cap || t->n == 0 || t->backing)
		return;
#define TRIM(field)                                                          \
	do {                                                                 \
		void *p = realloc(t->field, t->n * sizeof(*t->field));        \
		if (p)                                                       \
			t->field = p;                                        \
	} while (0)
	TRIM(addr);
	TRIM(size);
	TRIM(refcnt);
	TRIM(type);
	TRIM(gen);
	TRIM(flags);
	TRIM(interp);
#undef TRIM
	/* Every array holds at least n entries whether or not it shrank, so
	 * cap = n is true of all of them (a later add grows each again). */
	t->cap = t->n;
}

struct ch_error *ch_objects_append(struct ch_object_table *t, uint64_t addr, uint32_t type, int64_t refcnt,
				   uint64_t size, uint8_t gen, uint8_t flags)
{
	struct ch_error *err;
	if (t->n == t->cap && (err = grow_arrays(t)))
		return err;
	store(t, t->n++, addr, type, refcnt, size, gen, flags);
	return NULL;
}

#define CH_INDEX_RUN 64

struct ch_error *ch_objects_index_build(struct ch_object_table *t, uint64_t *dropped)
{
	*dropped = 0;
	ch_index_hash_deinit(&t->index);
	struct ch_error *err = ch_index_hash_reserve(&t->index, t->addr, sizeof(*t->addr), t->n);
	if (err)
		return err;
	size_t n = t->n, w = 0;
	for (size_t run = 0; run < n; run += CH_INDEX_RUN) {
		size_t end = run + CH_INDEX_RUN < n ? run + CH_INDEX_RUN : n;
		for (size_t i = run; i < end; i++)
			__builtin_prefetch(&t->index.slots[ch_index_slot(t->addr[i], t->index.nslots)]);
		for (size_t i = run; i < end; i++) {
			uint64_t a = t->addr[i];
			/* Compact as we go: entry i moves to w unless it repeats an
			 * address already indexed (keys below w are final). */
			if (w != i)
				t->addr[w] = a; /* (a backed table only when it repeats an address: a damaged index, on private pages) */
			if (ch_index_hash_find_or_insert(&t->index, t->addr, sizeof(*t->addr), a, (uint32_t)w) != CH_NO_OBJECT) {
				(*dropped)++;
				continue;
			}
			if (w == i) {
				w++;
				continue;
			}
			t->size[w] = t->size[i];
			t->refcnt[w] = t->refcnt[i];
			t->type[w] = t->type[i];
			t->gen[w] = t->gen[i];
			t->flags[w] = t->flags[i];
			t->interp[w] = t->interp[i];
			w++;
		}
	}
	t->n = w;
	return NULL;
}
