/* The DWARF reader's string arena and its hash maps of (key bytes,
 * namespace) -> 64-bit value: the type index, resolved names, the member
 * cache and the enumerators all use them (dwarf_internal.h). */
#include "readers/process/dwarf_internal.h"

#include <stdlib.h>
#include <string.h>

char *ch_dw_arena_copy(struct ch_arena *a, const char *s, size_t len)
{
	struct ch_arena_block *b = a->head;
	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > 65536 ? len + 1 : 65536;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

void ch_dw_arena_free(struct ch_arena *a)
{
	while (a->head) {
		struct ch_arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

static uint32_t map_hash(const char *key, size_t len, uint32_t ns)
{
	uint32_t h = 2166136261u ^ ns;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
}

struct ch_map_slot *ch_dw_map_find(const struct ch_map *m, const char *key, size_t len, uint32_t ns)
{
	if (!m->cap || len > UINT32_MAX)
		return NULL;
	uint32_t h = map_hash(key, len, ns);
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct ch_map_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && s->len == len && s->ns == ns && memcmp(s->key, key, len) == 0)
			return s;
	}
}

static bool map_grow(struct ch_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 256;
	struct ch_map_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return false;
	for (size_t i = 0; i < m->cap; i++) {
		struct ch_map_slot *s = &m->slots[i];
		if (!s->key)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return true;
}

/* Insert a new key (the caller has checked it is absent); the key is copied
 * into the arena. Returns NULL on allocation failure. */
struct ch_map_slot *ch_dw_map_insert(struct ch_map *m, struct ch_arena *arena, const char *key,
				     size_t len, uint32_t ns, uint64_t value)
{
	if (len > UINT32_MAX)
		return NULL;
	if ((m->count + 1) * 4 > m->cap * 3 && !map_grow(m))
		return NULL;
	char *copy = ch_dw_arena_copy(arena, key, len);
	if (!copy)
		return NULL;
	uint32_t h = map_hash(key, len, ns);
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = (struct ch_map_slot){copy, (uint32_t)len, h, ns, value};
	m->count++;
	return &m->slots[i];
}
