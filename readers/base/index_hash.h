/* Address -> index lookup by open addressing over keys that live in the
 * caller's own array (objects, types, code objects). The table holds only
 * index+1 per slot (0 = empty), so it costs 8 bytes per entry at the
 * maximum load of 1/2 and never duplicates the keys. Keys are read through
 * (base, stride): the address field of element i is at base + i*stride.
 * Entries are never removed. */
#ifndef CH_INDEX_HASH_H
#define CH_INDEX_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/error.h"

#define CH_INDEX_NONE UINT32_MAX

struct ch_index_hash {
	uint32_t *slots;
	size_t nslots; /* 0 or a power of two */
	bool borrowed; /* slots are not the table's own (a mapped heap index's): never freed */
};

static inline uint64_t ch_index_key(const void *base, size_t stride, uint32_t i)
{
	uint64_t k;
	memcpy(&k, (const char *)base + (size_t)i * stride, sizeof(k));
	return k;
}

/* Heap addresses are 16-byte aligned: drop those bits, then mix. */
static inline size_t ch_index_slot(uint64_t key, size_t nslots)
{
	return (size_t)(((key >> 4) * 0x9E3779B97F4A7C15ULL) >> 32) & (nslots - 1);
}

static inline void ch_index_hash_deinit(struct ch_index_hash *h)
{
	if (!h->borrowed)
		free(h->slots);
	h->slots = NULL;
	h->nslots = 0;
	h->borrowed = false;
}

static inline uint32_t ch_index_hash_find(const struct ch_index_hash *h, const void *base, size_t stride, uint64_t key)
{
	if (!h->nslots)
		return CH_INDEX_NONE;
	for (size_t s = ch_index_slot(key, h->nslots); h->slots[s]; s = (s + 1) & (h->nslots - 1))
		if (ch_index_key(base, stride, h->slots[s] - 1) == key)
			return h->slots[s] - 1;
	return CH_INDEX_NONE;
}

/* Make room for n entries (call before adding entry n-1). */
static inline struct ch_error *ch_index_hash_reserve(struct ch_index_hash *h, const void *base, size_t stride,
						     size_t n)
{
	if (n * 2 <= h->nslots)
		return NULL;
	size_t nslots = h->nslots ? h->nslots : 1024;
	while (n * 2 > nslots)
		nslots *= 2;
	if (nslots > ((size_t)1 << 33))
		return ch_error_new(CH_ERR_NOMEM, "index table too large");
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return &ch_error_nomem;
	for (size_t s = 0; s < h->nslots; s++) {
		if (!h->slots[s])
			continue;
		size_t t = ch_index_slot(ch_index_key(base, stride, h->slots[s] - 1), nslots);
		while (slots[t])
			t = (t + 1) & (nslots - 1);
		slots[t] = h->slots[s];
	}
	if (!h->borrowed)
		free(h->slots);
	h->slots = slots;
	h->nslots = nslots;
	h->borrowed = false;
	return NULL;
}

/* One probe that either finds key (returns its index) or, when absent,
 * claims the empty slot for new_index and returns CH_INDEX_NONE. The caller
 * has reserved room for one more entry and must store the key at new_index
 * (before the next lookup). */
static inline uint32_t ch_index_hash_find_or_insert(struct ch_index_hash *h, const void *base, size_t stride,
						    uint64_t key, uint32_t new_index)
{
	size_t s = ch_index_slot(key, h->nslots);
	for (; h->slots[s]; s = (s + 1) & (h->nslots - 1))
		if (ch_index_key(base, stride, h->slots[s] - 1) == key)
			return h->slots[s] - 1;
	h->slots[s] = new_index + 1;
	return CH_INDEX_NONE;
}

/* Record that element `index` (whose key is already stored at base) has
 * `key`. The caller has checked it is absent and reserved room. */
static inline void ch_index_hash_insert(struct ch_index_hash *h, uint64_t key, uint32_t index)
{
	size_t s = ch_index_slot(key, h->nslots);
	while (h->slots[s])
		s = (s + 1) & (h->nslots - 1);
	h->slots[s] = index + 1;
}

#endif
