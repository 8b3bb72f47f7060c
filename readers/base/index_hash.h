/* Address -> index lookup by open addressing over keys that live in the
 * caller's own array (objects, types, code objects). The table holds only
 * index+1 per slot (0 = empty), so it costs 4 bytes per slot and never
 * duplicates the keys. Keys are read through (base, stride): the address
 * field of element i is at base + i*stride. Entries are never removed.
 *
 * Slots are filled up to 4/5 (5 to 10 bytes per entry). At that load a
 * probe meets several slots, and reading each one's key would be a cache
 * miss: the bits of a slot above index+1 (which is below nslots) hold a
 * tag, the key's hash bits that did not choose its home slot, so a probe
 * reads only the key whose tag matches (a mismatch 1 time in 2^(32 -
 * log2 nslots)). */
#ifndef CH_INDEX_HASH_H
#define CH_INDEX_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/error.h"
#include "readers/base/huge_pages.h"

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

/* Heap addresses are 16-byte aligned: drop those bits, then mix; the low
 * log2(nslots) bits of the result pick the home slot, the others are the
 * tag. */
static inline uint32_t ch_index_mix(uint64_t key)
{
	return (uint32_t)(((key >> 4) * 0x9E3779B97F4A7C15ULL) >> 32);
}

static inline size_t ch_index_slot(uint64_t key, size_t nslots)
{
	return ch_index_mix(key) & (nslots - 1);
}

/* The tag bits of a slot in a table of nslots (a power of two, at most 2^32). */
static inline uint32_t ch_index_tag_mask(size_t nslots)
{
	return (uint32_t)~(nslots - 1);
}

/* index+1 of the entry a slot value names, 0 for an empty slot. */
static inline uint32_t ch_index_hash_entry(const struct ch_index_hash *h, uint32_t v)
{
	return v & ~ch_index_tag_mask(h->nslots);
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
	uint32_t m = ch_index_mix(key), tags = ch_index_tag_mask(h->nslots), tag = m & tags;
	/* At most nslots probes: a table loaded from an index is checked block
	 * by block, so nothing proves it has an empty slot to end a probe. */
	size_t left = h->nslots;
	for (size_t s = m & (h->nslots - 1); h->slots[s] && left; s = (s + 1) & (h->nslots - 1), left--)
		if ((h->slots[s] & tags) == tag && ch_index_key(base, stride, (h->slots[s] & ~tags) - 1) == key)
			return (h->slots[s] & ~tags) - 1;
	return CH_INDEX_NONE;
}

/* For a prefetch ahead of ch_index_hash_find: within max probes, the slot
 * value that lookup would stop at first, an entry whose tag matches key's
 * (ch_index_hash_entry: its index+1, the key likely there) or 0 for an
 * empty slot (key absent); CH_INDEX_NONE when the probes run out first. */
static inline uint32_t ch_index_hash_guess(const struct ch_index_hash *h, uint64_t key, int max)
{
	uint32_t m = ch_index_mix(key), tags = ch_index_tag_mask(h->nslots), v;
	size_t s = m & (h->nslots - 1);
	for (int probe = 0; probe < max; probe++, s = (s + 1) & (h->nslots - 1))
		if (!(v = h->slots[s]) || (v & tags) == (m & tags))
			return v;
	return CH_INDEX_NONE;
}

/* Whether n entries fit nslots: at most 4/5 full (so index+1 < nslots). */
static inline bool ch_index_hash_fits(size_t n, size_t nslots)
{
	return n <= nslots / 5 * 4 + nslots % 5 * 4 / 5;
}

/* Make room for n entries (call before adding entry n-1). */
static inline struct ch_error *ch_index_hash_reserve(struct ch_index_hash *h, const void *base, size_t stride,
						     size_t n)
{
	if (h->nslots && ch_index_hash_fits(n, h->nslots))
		return NULL;
	size_t nslots = h->nslots ? h->nslots : 1024;
	while (!ch_index_hash_fits(n, nslots))
		nslots *= 2;
	if (nslots > ((size_t)1 << 32))
		return ch_error_new(CH_ERR_NOMEM, "index table too large");
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return &ch_error_nomem;
	ch_huge_pages_advise(slots, nslots * sizeof(*slots)); /* probed at random */
	uint32_t old_tags = ch_index_tag_mask(h->nslots), tags = ch_index_tag_mask(nslots);
	for (size_t s = 0; s < h->nslots; s++) {
		if (!h->slots[s])
			continue;
		uint32_t e = h->slots[s] & ~old_tags, m = ch_index_mix(ch_index_key(base, stride, e - 1));
		size_t t = m & (nslots - 1);
		while (slots[t])
			t = (t + 1) & (nslots - 1);
		slots[t] = e | (m & tags);
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
	uint32_t m = ch_index_mix(key), tags = ch_index_tag_mask(h->nslots), tag = m & tags;
	size_t s = m & (h->nslots - 1);
	for (; h->slots[s]; s = (s + 1) & (h->nslots - 1))
		if ((h->slots[s] & tags) == tag && ch_index_key(base, stride, (h->slots[s] & ~tags) - 1) == key)
			return (h->slots[s] & ~tags) - 1;
	h->slots[s] = (new_index + 1) | tag;
	return CH_INDEX_NONE;
}

/* Record that element `index` (whose key is already stored at base) has
 * `key`. The caller has checked it is absent and reserved room. */
static inline void ch_index_hash_insert(struct ch_index_hash *h, uint64_t key, uint32_t index)
{
	uint32_t m = ch_index_mix(key);
	size_t s = m & (h->nslots - 1);
	while (h->slots[s])
		s = (s + 1) & (h->nslots - 1);
	h->slots[s] = (index + 1) | (m & ch_index_tag_mask(h->nslots));
}

#endif
