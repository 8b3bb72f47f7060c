#include "object_table.h"

#include <stdlib.h>
#include <string.h>

#include "readers/base/huge_pages.h"

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
	free(t->idle_slots);
	ch_wide_deinit(&t->wide_size);
	ch_wide_deinit(&t->wide_refcnt);
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
	ch_huge_pages_advise(t->addr, ncap * sizeof(*t->addr)); /* read at random by address lookups */
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
	/* Looked up unsettled after all: settled here rather than answered
	 * from an empty table. Only a command that runs on one thread leaves
	 * its table unsettled (ch_analysis_complete_for settles it before any
	 * step that uses threads), and t is the analysis' own, never const. */
	if (__builtin_expect(t->idle_slots != NULL, 0))
		ch_objects_index_settle((struct ch_object_table *)t);
	return ch_index_hash_find(&t->index, t->addr, sizeof(*t->addr), addr);
}

struct ch_error *ch_objects_set_size(struct ch_object_table *t, size_t i, uint64_t size)
{
	if (size < CH_SIZE_WIDE) {
		t->size[i] = (uint32_t)size;
		return NULL;
	}
	t->size[i] = CH_SIZE_WIDE;
	return ch_wide_set(&t->wide_size, (uint32_t)i, size);
}

static struct ch_error *set_refcnt(struct ch_object_table *t, size_t i, int64_t refcnt)
{
	if (refcnt > INT32_MIN && refcnt <= INT32_MAX) {
		t->refcnt[i] = (int32_t)refcnt;
		return NULL;
	}
	t->refcnt[i] = CH_REFCNT_WIDE;
	return ch_wide_set(&t->wide_refcnt, (uint32_t)i, (uint64_t)refcnt);
}

static struct ch_error *store(struct ch_object_table *t, size_t i, uint64_t addr, uint32_t type, int64_t refcnt,
			      uint64_t size, uint8_t gen, uint8_t flags)
{
	t->addr[i] = addr;
	t->type[i] = type;
	t->gen[i] = gen;
	t->flags[i] = flags;
	t->interp[i] = 0;
	struct ch_error *err = ch_objects_set_size(t, i, size);
	return err ? err : set_refcnt(t, i, refcnt);
}

struct ch_error *ch_objects_add(struct ch_object_table *t, uint64_t addr, uint32_t type, int64_t refcnt,
				uint64_t size, uint8_t gen, uint8_t flags, uint32_t *index, bool *added)
{
	struct ch_error *err;
	ch_objects_index_settle(t);
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
	if ((err = store(t, i, addr, type, refcnt, size, gen, flags)))
		return err;
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
	uint64_t wide = (uint64_t)(t->wide_size.nslots + t->wide_refcnt.nslots) * (sizeof(uint32_t) + sizeof(uint64_t));
	uint64_t slots = (uint64_t)(t->index.nslots + t->idle_nslots) * sizeof(*t->index.slots);
	return (uint64_t)t->cap * per + slots + wide;
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
	return store(t, t->n++, addr, type, refcnt, size, gen, flags);
}

#define CH_INDEX_RUN 64

struct ch_error *ch_objects_index_build(struct ch_object_table *t, uint64_t *dropped)
{
	*dropped = 0;
	ch_index_hash_deinit(&t->index);
	free(t->idle_slots);
	t->idle_slots = NULL;
	t->idle_nslots = 0;
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
			/* A wide value is set again under its new index. */
			if ((err = ch_objects_set_size(t, w, ch_objects_size(t, i))) ||
			    (err = set_refcnt(t, w, ch_objects_refcnt(t, i))))
				return err;
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

uint32_t *ch_objects_index_lend(struct ch_object_table *t, size_t *nslots)
{
	if (t->idle_slots) {
		uint32_t *slots = t->idle_slots;
		*nslots = t->idle_nslots;
		t->idle_slots = NULL;
		t->idle_nslots = 0;
		return slots;
	}
	if (t->index.borrowed || !t->index.slots || t->index.nslots < t->n)
		return NULL;
	uint32_t *slots = t->index.slots;
	*nslots = t->index.nslots;
	t->index.slots = NULL;
	t->index.nslots = 0;
	return slots;
}

void ch_objects_index_restore(struct ch_object_table *t, uint32_t *slots, size_t nslots)
{
	memset(slots, 0, nslots * sizeof(*slots));
	t->index.slots = slots;
	t->index.nslots = nslots;
	/* Every address was in the table once already: insert without the
	 * comparisons, home slots prefetched a run ahead. */
	for (size_t run = 0; run < t->n; run += CH_INDEX_RUN) {
		size_t end = run + CH_INDEX_RUN < t->n ? run + CH_INDEX_RUN : t->n;
		for (size_t i = run; i < end; i++)
			__builtin_prefetch(&slots[ch_index_slot(t->addr[i], nslots)]);
		for (size_t i = run; i < end; i++)
			ch_index_hash_insert(&t->index, t->addr[i], (uint32_t)i);
	}
}

void ch_objects_index_return(struct ch_object_table *t, uint32_t *slots, size_t nslots)
{
	t->idle_slots = slots;
	t->idle_nslots = nslots;
}

void ch_objects_index_settle(struct ch_object_table *t)
{
	uint32_t *slots = t->idle_slots;
	if (!slots)
		return;
	t->idle_slots = NULL;
	ch_objects_index_restore(t, slots, t->idle_nslots);
	t->idle_nslots = 0;
}

static int wide_cmp(const void *a, const void *b)
{
	const struct ch_wide_rec *x = a, *y = b;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* An entry is live while its column slot holds the mark (wide_values.h). */
struct ch_error *ch_objects_wide_records(const struct ch_object_table *t, struct ch_wide_rec **rec, size_t *n)
{
	const struct ch_wide *w[2] = {&t->wide_size, &t->wide_refcnt};
	*n = 0;
	*rec = malloc((w[0]->n + w[1]->n ? w[0]->n + w[1]->n : 1) * sizeof(**rec));
	if (!*rec)
		return &ch_error_nomem;
	for (uint32_t c = 0; c < 2; c++)
		for (size_t s = 0; s < w[c]->nslots; s++) {
			uint32_t i = w[c]->keys[s] - 1;
			if (!w[c]->keys[s] || i >= t->n ||
			    (c == 0 ? t->size[i] != CH_SIZE_WIDE : t->refcnt[i] != CH_REFCNT_WIDE))
				continue;
			(*rec)[(*n)++] = (struct ch_wide_rec){i, c, w[c]->vals[s]};
		}
	qsort(*rec, *n, sizeof(**rec), wide_cmp);
	return NULL;
}

const char *ch_objects_wide_check(const uint32_t *size, const int32_t *refcnt, size_t n, const struct ch_wide_rec *rec,
				  size_t nrec)
{
	size_t marked = 0;
	for (size_t i = 0; i < n; i++)
		marked += (size[i] == CH_SIZE_WIDE) + (refcnt[i] == CH_REFCNT_WIDE);
	return ch_objects_wide_check_records(size, refcnt, n, rec, nrec, marked);
}

const char *ch_objects_wide_check_records(const uint32_t *size, const int32_t *refcnt, size_t n,
					  const struct ch_wide_rec *rec, size_t nrec, size_t marked)
{
	for (size_t k = 0; k < nrec; k++) {
		if (rec[k].column > 1 || rec[k].index >= n || (k && wide_cmp(&rec[k - 1], &rec[k]) >= 0))
			return "the wide sizes and refcounts are out of range or order";
		if (rec[k].column == 0 ? size[rec[k].index] != CH_SIZE_WIDE : refcnt[rec[k].index] != CH_REFCNT_WIDE)
			return "a wide size or refcount is not marked in its column";
	}
	if (marked != nrec)
		return "a size or refcount marked wide has no value";
	return NULL;
}

struct ch_error *ch_objects_wide_load(struct ch_object_table *t, const struct ch_wide_rec *rec, size_t nrec)
{
	struct ch_error *err = NULL;
	for (size_t k = 0; k < nrec && !err; k++)
		err = ch_wide_set(rec[k].column ? &t->wide_refcnt : &t->wide_size, rec[k].index, rec[k].value);
	return err;
}
