#include "object_table.h"

#include <stdlib.h>
#include <string.h>

void ch_objects_init(struct ch_object_table *t)
{
	memset(t, 0, sizeof(*t));
}

void ch_objects_deinit(struct ch_object_table *t)
{
	free(t->addr);
	free(t->size);
	free(t->refcnt);
	free(t->type);
	free(t->gen);
	free(t->flags);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Objects are 16-byte aligned: drop those bits, then mix. */
static inline size_t slot_of(uint64_t addr, size_t mask)
{
	uint64_t h = (addr >> 4) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 32) & mask;
}

static struct ch_error *grow_arrays(struct ch_object_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 4096;
	if (ncap >= CH_NO_OBJECT)
		return ch_error_new(CH_ERR_NOMEM, "more than 4 billion objects");
#define GROW(field)                                                          \
	do {                                                                 \
		void *p = realloc(t->field, ncap * sizeof(*t->field));        \
		if (!p)                                                      \
			return &ch_error_nomem;                              \
		t->field = p;                                                \
	} while (0)
	GROW(addr);
	GROW(size);
	GROW(refcnt);
	GROW(type);
	GROW(gen);
	GROW(flags);
#undef GROW
	t->cap = ncap;
	return NULL;
}

static struct ch_error *rehash(struct ch_object_table *t, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return &ch_error_nomem;
	size_t mask = nslots - 1;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = slot_of(t->addr[i], mask);
		while (slots[h])
			h = (h + 1) & mask;
		slots[h] = (uint32_t)(i + 1);
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return NULL;
}

uint32_t ch_objects_find(const struct ch_object_table *t, uint64_t addr)
{
	if (!t->nslots)
		return CH_NO_OBJECT;
	size_t mask = t->nslots - 1;
	for (size_t h = slot_of(addr, mask); t->slots[h]; h = (h + 1) & mask)
		if (t->addr[t->slots[h] - 1] == addr)
			return t->slots[h] - 1;
	return CH_NO_OBJECT;
}

struct ch_error *ch_objects_add(struct ch_object_table *t, uint64_t addr, uint32_t type, int64_t refcnt,
				uint64_t size, uint8_t gen, uint8_t flags, uint32_t *index, bool *added)
{
	struct ch_error *err;
	if ((t->n + 1) * 2 > t->nslots && (err = rehash(t, t->nslots ? t->nslots * 2 : 8192)))
		return err;
	size_t mask = t->nslots - 1, h = slot_of(addr, mask);
	for (; t->slots[h]; h = (h + 1) & mask) {
		if (t->addr[t->slots[h] - 1] == addr) {
			if (index)
				*index = t->slots[h] - 1;
			if (added)
				*added = false;
			return NULL;
		}
	}
	if (t->n == t->cap && (err = grow_arrays(t)))
		return err;
	size_t i = t->n++;
	t->addr[i] = addr;
	t->size[i] = size;
	t->refcnt[i] = refcnt;
	t->type[i] = type;
	t->gen[i] = gen;
	t->flags[i] = flags;
	t->slots[h] = (uint32_t)(i + 1);
	if (index)
		*index = (uint32_t)i;
	if (added)
		*added = true;
	return NULL;
}
