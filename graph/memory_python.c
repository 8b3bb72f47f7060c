/* Python objects in the memory breakdown (graph/memory.h states the
 * ownership rule): where each object lives, which chunks objects own, and
 * what is left unowned. */
#include "graph/memory.h"

#include <stdlib.h>
#include <string.h>

#include "graph/heap.h"
#include "readers/base/bytes.h"
#include "readers/cpython/py_refs.h"
#include "readers/cpython/py_types.h"

#define MAX_OWNER_CANDIDATES 4
#define MAX_SCANNED_BODY (64ull << 20)

enum chunk_role { ROLE_NONE, ROLE_OBJECT, ROLE_BUFFER, ROLE_OWNED };

/* Objects whose body points at a chunk's user start. */
struct candidates {
	uint32_t obj[MAX_OWNER_CANDIDATES];
	uint8_t n;
	bool overflow;
};

struct ctx {
	struct ch_python *py;
	const struct ch_object_table *objs;
	struct ch_memory *m;
	uint8_t *role;          /* per chunk */
	struct candidates *cand; /* per chunk */
	uint64_t *arenas;       /* pymalloc arena starts, sorted */
	size_t narenas;
	/* The last arena search: addresses [arena_from, arena_to] have the same
	 * last arena starting at or below them (arena_k - 1; none when 0). */
	uint64_t arena_from, arena_to;
	size_t arena_k;
	struct ch_glibc_chunk_cursor chunk_cur; /* the last chunk lookup's */
};

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static bool live(uint8_t kind)
{
	return kind == CH_CHUNK_IN_USE || kind == CH_CHUNK_MMAPPED;
}

static void arena_find(struct ctx *c, uint64_t a)
{
	size_t lo = 0, hi = c->narenas;
	while (lo < hi) { /* first arena starting after a */
		size_t mid = lo + (hi - lo) / 2;
		if (c->arenas[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	c->arena_k = lo;
	c->arena_from = lo ? c->arenas[lo - 1] : 0;
	c->arena_to = lo < c->narenas ? c->arenas[lo] - 1 : UINT64_MAX;
}

/* Objects come in address order: most fall in the interval of the one
 * before, and the search runs when one leaves it. */
static bool in_pymalloc(struct ctx *c, uint64_t a)
{
	if (a - c->arena_from > c->arena_to - c->arena_from)
		arena_find(c, a);
	return c->arena_k > 0 && a - c->arena_from < c->m->pymalloc.arena_size;
}

static bool in_file(const struct ch_mappings *maps, uint64_t a)
{
	size_t lo = 0, hi = maps->n; /* PT_LOAD segments come in ascending order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (maps->rows[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || a >= maps->rows[lo - 1].end)
		return false;
	enum ch_mapping_kind k = maps->rows[lo - 1].kind;
	return k == CH_MAP_FILE_CODE || k == CH_MAP_FILE_DATA;
}

/* Where object i lives. */
static void locate(struct ctx *c, uint32_t i)
{
	struct ch_mem_python *p = &c->m->python;
	uint64_t a = c->objs->addr[i], size = ch_objects_size(c->objs, i);
	p->objects++;
	p->bytes += size;
	if (in_pymalloc(c, a)) {
		p->in_pymalloc += size;
		return;
	}
	const struct ch_glibc_chunk *ch = ch_glibc_cursor_at(&c->m->glibc, &c->chunk_cur, a);
	if (ch && live(ch->kind)) {
		p->in_malloc += size;
		size_t k = (size_t)(ch - c->m->glibc.chunks);
		if (c->role[k] != ROLE_OBJECT) {
			c->role[k] = ROLE_OBJECT;
			p->object_chunks++;
			p->object_chunk_bytes += ch->size;
		}
		return;
	}
	if (in_file(&c->m->maps, a))
		p->in_static += size;
	else
		p->elsewhere += size;
}

/* The object's own block: tp_basicsize plus its items (the table's size is
 * the full size after the analysis, buffers and pre-header included). */
static uint64_t own_size(const struct ctx *c, uint32_t i)
{
	uint32_t t = c->objs->type[i];
	if (t >= c->py->types.n || !c->py->types.v[t].valid)
		return 0;
	const struct ch_py_type *ty = &c->py->types.v[t];
	uint64_t ob_size = 0;
	if (ty->itemsize) {
		struct ch_error *err = ch_py_read_u64(c->py, c->objs->addr[i], CH_PY_VAR_SIZE, &ob_size);
		if (err) {
			ch_error_free(err);
			return 0;
		}
	}
	return ch_py_type_object_size(ty, (int64_t)ob_size);
}

/* Bytes of object i's body, past its header words, or NULL. */
static const uint8_t *body(const struct ctx *c, uint32_t i, uint64_t *len)
{
	uint64_t size = own_size(c, i);
	if (size <= 16 || size > MAX_SCANNED_BODY)
		return NULL;
	*len = size - 16;
	return ch_as_peek(&c->py->proc->as, c->objs->addr[i] + 16, (size_t)*len);
}

/* Objects come in the walk's order, not by address: each body read is a
 * cache miss unless asked for ahead (the range lookup is the one the read
 * makes; a byte that cannot be peeked is simply not fetched). */
#define BODY_AHEAD 32

static void prefetch_body(const struct ctx *c, uint32_t i)
{
	const uint8_t *p = ch_as_peek(&c->py->proc->as, c->objs->addr[i] + 16, 8);
	if (p) {
		__builtin_prefetch(p);
		__builtin_prefetch(p + 64);
	}
}

static void note_candidates(struct ctx *c, uint32_t i)
{
	const struct ch_glibc_heapstate *g = &c->m->glibc;
	uint64_t len;
	const uint8_t *b = body(c, i, &len);
	if (!b || !g->nchunks)
		return;
	const uint64_t lo = g->chunks[0].addr + 16, hi = g->chunks[g->nchunks - 1].addr + 16;
	for (uint64_t off = 0; off + 8 <= len; off += 8) {
		uint64_t w = ch_le64(b + off);
		if (w < lo || w > hi || w % 16)
			continue;
		const struct ch_glibc_chunk *ch = ch_glibc_cursor_starting_at(g, &c->chunk_cur, w - 16);
		if (!ch || !live(ch->kind))
			continue;
		struct candidates *cd = &c->cand[ch - g->chunks];
		bool seen = false;
		for (uint8_t k = 0; k < cd->n; k++)
			seen |= cd->obj[k] == i;
		if (seen)
			continue;
		if (cd->n < MAX_OWNER_CANDIDATES)
			cd->obj[cd->n++] = i;
		else
			cd->overflow = true;
	}
}

static bool points_at(const struct ctx *c, uint32_t from, uint64_t target)
{
	uint64_t len;
	const uint8_t *b = body(c, from, &len);
	for (uint64_t off = 0; b && off + 8 <= len; off += 8)
		if (ch_le64(b + off) == target)
			return true;
	return false;
}

/* The owner among the candidates, or CH_NO_OBJECT: the only one, or the one
 * every other candidate points at (a view and its base). */
static uint32_t owner_of(const struct ctx *c, const struct candidates *cd)
{
	if (cd->overflow || cd->n == 0)
		return CH_NO_OBJECT;
	if (cd->n == 1)
		return cd->obj[0];
	for (uint8_t x = 0; x < cd->n; x++) {
		bool all = true;
		for (uint8_t y = 0; y < cd->n && all; y++)
			if (y != x && !points_at(c, cd->obj[y], c->objs->addr[cd->obj[x]]))
				all = false;
		if (all)
			return cd->obj[x];
	}
	return CH_NO_OBJECT;
}

static int owned_type_cmp(const void *x, const void *y)
{
	const struct ch_mem_owned_type *a = x, *b = y;
	return a->bytes != b->bytes ? (a->bytes > b->bytes ? -1 : 1) : (a->type > b->type) - (a->type < b->type);
}

static struct ch_error *attribute(struct ctx *c)
{
	struct ch_mem_python *p = &c->m->python;
	const struct ch_glibc_heapstate *g = &c->m->glibc;
	size_t ntypes = c->py->types.n;
	struct ch_mem_owned_type *by_type = calloc(ntypes ? ntypes : 1, sizeof(*by_type));
	uint8_t *counted = calloc(c->objs->n / 8 + 1, 1);
	p->owned = malloc((g->nchunks ? g->nchunks : 1) * sizeof(*p->owned));
	if (!by_type || !counted || !p->owned) {
		free(by_type);
		free(counted);
		return ch_error_new(CH_ERR_NOMEM, "out of memory attributing chunks");
	}
	for (size_t k = 0; k < g->nchunks; k++) {
		if (c->role[k] != ROLE_NONE || !live(g->chunks[k].kind))
			continue;
		uint32_t o = owner_of(c, &c->cand[k]);
		if (o == CH_NO_OBJECT)
			continue;
		uint32_t t = c->objs->type[o];
		/* The table's size is the full size (graph/edges.c): more than the
		 * object's own block means coreheap models its buffers. */
		uint64_t own = own_size(c, o) + (t < ntypes ? c->py->types.v[t].presize : 0);
		if (ch_objects_size(c->objs, o) > own) {
			c->role[k] = ROLE_BUFFER;
			p->buffer_chunks++;
			p->buffer_bytes += g->chunks[k].size;
			continue;
		}
		c->role[k] = ROLE_OWNED;
		p->owned_chunks++;
		p->owned_bytes += g->chunks[k].size;
		p->owned[p->nowned++] = (struct ch_mem_owned_chunk){g->chunks[k].addr + 16, g->chunks[k].size,
								    c->objs->addr[o], t};
		if (t < ntypes) {
			by_type[t].type = t;
			by_type[t].chunks++;
			by_type[t].bytes += g->chunks[k].size;
			if (!(counted[o / 8] & (1u << (o % 8)))) {
				counted[o / 8] |= (uint8_t)(1u << (o % 8));
				by_type[t].objects++;
			}
		}
	}
	free(counted);
	size_t n = 0;
	for (size_t t = 0; t < ntypes; t++)
		if (by_type[t].chunks)
			by_type[n++] = by_type[t];
	qsort(by_type, n, sizeof(*by_type), owned_type_cmp);
	p->owned_types = by_type;
	p->nowned_types = n;
	return NULL;
}

static void unowned_and_explained(struct ctx *c)
{
	struct ch_mem_python *p = &c->m->python;
	const struct ch_glibc_heapstate *g = &c->m->glibc;
	uint64_t live_bytes = 0;
	for (size_t k = 0; k < g->nchunks; k++) {
		if (!live(g->chunks[k].kind))
			continue;
		live_bytes += g->chunks[k].size;
		if (c->role[k] != ROLE_NONE)
			continue;
		p->unowned_chunks++;
		p->unowned_bytes += g->chunks[k].size;
		if (c->m->chunk_refd && c->m->chunk_refd[k]) {
			p->unowned_anchored_bytes += g->chunks[k].size;
			p->unowned_anchored_from[c->m->chunk_refd[k] - 1] += g->chunks[k].size;
		} else {
			p->unowned_unreferenced_bytes += g->chunks[k].size;
			p->unowned_unreferenced_chunks++;
		}
	}
	uint64_t pym = c->m->pymalloc.found ? c->m->pymalloc.allocated_bytes : 0;
	uint64_t num = p->object_chunk_bytes + p->buffer_bytes + p->owned_bytes + pym, den = live_bytes + pym;
	p->explained = den ? (double)num / (double)den : 0.0;
}

struct ch_error *ch_memory_python(struct ch_python *py, const struct ch_heap *heap, struct ch_memory *m,
				  bool (*ready)(void *), void *ready_arg)
{
	const struct ch_object_table *objs = &heap->objects;
	size_t nch = m->glibc.nchunks;
	struct ctx c = {.py = py, .objs = objs, .m = m};
	c.role = calloc(nch ? nch : 1, 1);
	c.cand = calloc(nch ? nch : 1, sizeof(*c.cand));
	c.narenas = m->pymalloc.found ? m->pymalloc.narena_addrs : 0;
	c.arenas = malloc((c.narenas ? c.narenas : 1) * sizeof(uint64_t));
	struct ch_error *err = NULL;
	if (!c.role || !c.cand || !c.arenas) {
		err = ch_error_new(CH_ERR_NOMEM, "out of memory for the Python memory breakdown");
		goto out;
	}
	if (c.narenas) {
		memcpy(c.arenas, m->pymalloc.arena_addrs, c.narenas * sizeof(uint64_t));
		qsort(c.arenas, c.narenas, sizeof(uint64_t), u64_cmp);
	}
	arena_find(&c, 0);
	ch_glibc_cursor_init(&m->glibc, &c.chunk_cur);
	for (uint32_t i = 0; i < objs->n; i++)
		locate(&c, i);
	uint8_t *holds = calloc(py->types.n ? py->types.n : 1, 1); /* 0 unknown, 1 yes, 2 no */
	if (!holds) {
		err = ch_error_new(CH_ERR_NOMEM, "out of memory for the Python memory breakdown");
		goto out;
	}
	for (uint32_t i = 0; i < objs->n; i++) {
		if (objs->n - i > BODY_AHEAD)
			prefetch_body(&c, i + BODY_AHEAD);
		uint32_t t = objs->type[i];
		if (t < py->types.n && !holds[t])
			holds[t] = ch_py_type_holds_pointers(py, t) ? 1 : 2;
		if (t >= py->types.n || holds[t] == 1)
			note_candidates(&c, i);
	}
	free(holds);
	err = attribute(&c);
	if (!err && (!ready || ready(ready_arg))) {
		unowned_and_explained(&c);
		m->python.done = true;
	}
out:
	free(c.role);
	free(c.cand);
	free(c.arenas);
	return err;
}

struct ch_error *ch_memory_add_native_sizes(const struct ch_memory *m, struct ch_object_table *objs)
{
	struct ch_error *err = NULL;
	for (size_t i = 0; i < m->python.nowned && !err; i++) {
		uint32_t k = ch_objects_find(objs, m->python.owned[i].object);
		if (k != CH_NO_OBJECT)
			err = ch_objects_set_size(objs, k, ch_objects_size(objs, k) + m->python.owned[i].bytes);
	}
	return err;
}
