/* The arenas of glibc malloc and every chunk in their heaps.
 *
 * The ring of arenas starts at main_arena and follows malloc_state.next.
 * The main arena's heap is the brk run from mp_.sbrk_base to the end of its
 * top chunk; a thread arena's heaps are HEAP_MAX_SIZE-aligned mappings, the
 * newest the one holding top, older ones through heap_info.prev. A chunk is
 * free for the allocator when the next chunk's PREV_INUSE bit is clear;
 * which bin holds it is settled later (glibc_bins.c). */
#include "glibc_internal.h"

#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/base/chain.h"

#define MAX_ARENAS 4096
#define MAX_HEAPS_PER_ARENA 65536

struct ch_error *ch_glibc_push_chunk(struct ch_glibc_ctx *c, uint64_t addr, uint64_t size, uint16_t arena,
				     enum ch_glibc_chunk_kind kind)
{
	struct ch_glibc_heapstate *st = c->st;
	if (st->nchunks == c->chunks_cap) {
		size_t cap = c->chunks_cap ? c->chunks_cap * 2 : 4096;
		void *p = realloc(st->chunks, cap * sizeof(*st->chunks));
		if (!p)
			return ch_error_new(CH_ERR_NOMEM, "out of memory for %zu chunks", cap);
		st->chunks = p;
		c->chunks_cap = cap;
	}
	st->chunks[st->nchunks++] = (struct ch_glibc_chunk){.addr = addr, .size = size, .arena = arena, .kind = kind};
	return NULL;
}

static struct ch_error *push_heap(struct ch_glibc_ctx *c, const struct ch_glibc_heap *h)
{
	struct ch_glibc_heapstate *st = c->st;
	if (st->nheaps == c->heaps_cap) {
		size_t cap = c->heaps_cap ? c->heaps_cap * 2 : 16;
		void *p = realloc(st->heaps, cap * sizeof(*st->heaps));
		if (!p)
			return ch_error_new(CH_ERR_NOMEM, "out of memory for heaps");
		st->heaps = p;
		c->heaps_cap = cap;
	}
	st->heaps[st->nheaps++] = *h;
	return NULL;
}

static bool rd(struct ch_glibc_ctx *c, uint64_t addr, uint64_t *v)
{
	struct ch_error *err = ch_as_read_u64(c->as, addr, v);
	if (!err)
		return true;
	ch_error_free(err);
	return false;
}

/* Chunks of [start, end) of one heap; top ends the walk when inside it.
 * Returns the bytes covered by chunks (top included). */
static struct ch_error *walk_heap(struct ch_glibc_ctx *c, size_t ai, struct ch_glibc_heap *h, uint64_t first,
				  bool main_heap)
{
	struct ch_glibc_arena *a = &c->st->arenas[ai];
	const uint64_t top = a->top;
	uint64_t p = first, covered = 0;
	while (p < h->end) {
		uint64_t size;
		const uint8_t *b = ch_as_peek(c->as, p + c->lay.mc_size, 8);
		if (b)
			size = ch_le64(b);
		else if (!rd(c, p + c->lay.mc_size, &size)) {
			ch_diag_partial(c->diag, "glibc: arena %#llx: chunk header at %#llx is not in the core; rest of the heap not walked",
					(unsigned long long)a->addr, (unsigned long long)p);
			a->walk_complete = false;
			break;
		}
		uint64_t cs = size & ~(uint64_t)CH_GLIBC_SIZE_BITS;
		if (p == top) {
			if (top + a->top_size != h->end) {
				ch_diag_partial(c->diag, "glibc: arena %#llx: top chunk %#llx (size %llu) does not end its heap at %#llx",
						(unsigned long long)a->addr, (unsigned long long)top,
						(unsigned long long)a->top_size, (unsigned long long)h->end);
				a->walk_complete = false;
			}
			covered += a->top_size;
			break;
		}
		if (!main_heap && cs == 0 && p + CH_GLIBC_ALIGN == h->end)
			break; /* the header closing an old thread heap */
		/* NON_MAIN_ARENA: never in the main heap; in a thread heap glibc
		 * sets it on the chunks it hands out, but a free chunk's header
		 * is rewritten without it (a split's remainder, a consolidated
		 * chunk), so it is checked on chunks in use only, below. */
		if (cs < CH_GLIBC_ALIGN || cs % CH_GLIBC_ALIGN || cs > h->end - p ||
		    (!main_heap && cs == CH_GLIBC_ALIGN && p + 2 * CH_GLIBC_ALIGN != h->end) ||
		    (main_heap && cs == CH_GLIBC_ALIGN) || (size & CH_GLIBC_IS_MMAPPED) ||
		    (main_heap && (size & CH_GLIBC_NON_MAIN_ARENA))) {
			ch_diag_partial(c->diag, "glibc: arena %#llx: corrupt chunk header at %#llx (size field %#llx); rest of the heap (%llu bytes) not walked",
					(unsigned long long)a->addr, (unsigned long long)p, (unsigned long long)size,
					(unsigned long long)(h->end - p));
			a->walk_complete = false;
			break;
		}
		enum ch_glibc_chunk_kind kind = CH_CHUNK_IN_USE;
		if (cs == CH_GLIBC_ALIGN) {
			kind = CH_CHUNK_FENCEPOST;
		} else {
			uint64_t next_size;
			if (p + cs >= h->end || !rd(c, p + cs + c->lay.mc_size, &next_size)) {
				ch_diag_partial(c->diag, "glibc: arena %#llx: chunk %#llx has no readable successor",
						(unsigned long long)a->addr, (unsigned long long)p);
				a->walk_complete = false;
				break;
			}
			if (!(next_size & CH_GLIBC_PREV_INUSE))
				kind = CH_CHUNK_FREE_UNBINNED; /* until a bin claims it */
			else if (!main_heap && !(size & CH_GLIBC_NON_MAIN_ARENA)) {
				ch_diag_partial(c->diag, "glibc: arena %#llx: chunk %#llx is in use but not marked as a thread "
							 "arena's (size field %#llx); rest of the heap (%llu bytes) not walked",
						(unsigned long long)a->addr, (unsigned long long)p, (unsigned long long)size,
						(unsigned long long)(h->end - p));
				a->walk_complete = false;
				break;
			}
		}
		struct ch_error *err = ch_glibc_push_chunk(c, p, cs, (uint16_t)ai, kind);
		if (err)
			return err;
		covered += cs;
		p += cs;
	}
	h->chunk_bytes = covered;
	return NULL;
}

static struct ch_error *push_arena(struct ch_glibc_ctx *c, uint64_t addr, struct ch_glibc_arena **out)
{
	struct ch_glibc_heapstate *st = c->st;
	if (st->narenas == c->arenas_cap) {
		size_t cap = c->arenas_cap ? c->arenas_cap * 2 : 8;
		void *p = realloc(st->arenas, cap * sizeof(*st->arenas));
		if (!p)
			return ch_error_new(CH_ERR_NOMEM, "out of memory for arenas");
		st->arenas = p;
		c->arenas_cap = cap;
	}
	struct ch_glibc_arena *a = &st->arenas[st->narenas++];
	memset(a, 0, sizeof(*a));
	a->addr = addr;
	a->main = addr == c->main_arena;
	a->walk_complete = true;
	*out = a;
	return NULL;
}

static struct ch_error *walk_main_heap(struct ch_glibc_ctx *c, size_t ai)
{
	struct ch_glibc_arena *a = &c->st->arenas[ai];
	uint64_t sbrk_base, flags = 0;
	if (!rd(c, c->mp + c->lay.mp_sbrk_base, &sbrk_base) || !rd(c, a->addr + c->lay.ms_flags, &flags)) {
		ch_diag_partial(c->diag, "glibc: mp_ or main_arena not in the core");
		a->walk_complete = false;
		return NULL;
	}
	if (sbrk_base == 0)
		return NULL; /* malloc never extended the brk heap */
	if (flags & CH_GLIBC_NONCONTIGUOUS) { /* brk failed and mmap took over */
		ch_diag_partial(c->diag, "glibc: the main arena is non-contiguous (brk failed at some point); only sbrk_base..top is walked");
		a->walk_complete = false;
	}
	struct ch_glibc_heap h = {.start = sbrk_base, .end = a->top + a->top_size, .arena = (uint16_t)ai};
	h.reserve_end = h.end;
	if (a->top < sbrk_base || h.end < a->top || h.end - sbrk_base > (1ull << 46)) {
		ch_diag_partial(c->diag, "glibc: main arena top %#llx is not above sbrk_base %#llx",
				(unsigned long long)a->top, (unsigned long long)sbrk_base);
		a->walk_complete = false;
		return NULL;
	}
	struct ch_error *err = walk_heap(c, ai, &h, ch_align_up(sbrk_base, CH_GLIBC_ALIGN), true);
	return err ? err : push_heap(c, &h);
}

static struct ch_error *walk_thread_heaps(struct ch_glibc_ctx *c, size_t ai)
{
	struct ch_glibc_arena *a = &c->st->arenas[ai];
	uint64_t hp = a->top & ~(CH_GLIBC_HEAP_MAX - 1);
	struct ch_chain chain;
	ch_chain_init(&chain, MAX_HEAPS_PER_ARENA);
	while (hp) {
		enum ch_chain_step s = ch_chain_step(&chain, hp);
		if (s != CH_CHAIN_OK) {
			ch_diag_partial(c->diag, "glibc: arena %#llx: its heap list %s", (unsigned long long)a->addr,
					s == CH_CHAIN_LOOP ? "loops" : "is too long");
			a->walk_complete = false;
			break;
		}
		uint64_t ar_ptr, prev, size;
		if (!rd(c, hp + c->lay.hi_ar_ptr, &ar_ptr) || !rd(c, hp + c->lay.hi_prev, &prev) ||
		    !rd(c, hp + c->lay.hi_size, &size) || ar_ptr != a->addr || size > CH_GLIBC_HEAP_MAX ||
		    size < c->lay.hi_sizeof || (prev & (CH_GLIBC_HEAP_MAX - 1))) {
			ch_diag_partial(c->diag, "glibc: arena %#llx: no valid heap_info at %#llx", (unsigned long long)a->addr,
					(unsigned long long)hp);
			a->walk_complete = false;
			break;
		}
		struct ch_glibc_heap h = {.start = hp, .end = hp + size, .reserve_end = hp + CH_GLIBC_HEAP_MAX,
					  .arena = (uint16_t)ai};
		uint64_t first = prev ? ch_align_up(hp + c->lay.hi_sizeof, CH_GLIBC_ALIGN)
				      : ch_align_up(a->addr + c->lay.ms_sizeof, CH_GLIBC_ALIGN);
		if (!prev && (a->addr < hp || a->addr >= h.end)) {
			ch_diag_partial(c->diag, "glibc: arena %#llx is not inside its first heap %#llx",
					(unsigned long long)a->addr, (unsigned long long)hp);
			a->walk_complete = false;
			break;
		}
		struct ch_error *err = walk_heap(c, ai, &h, first, false);
		if (!err)
			err = push_heap(c, &h);
		if (err)
			return err;
		hp = prev;
	}
	return NULL;
}

struct ch_error *ch_glibc_walk_arenas(struct ch_glibc_ctx *c)
{
	struct ch_chain chain;
	ch_chain_init(&chain, MAX_ARENAS);
	uint64_t addr = c->main_arena;
	do {
		enum ch_chain_step s = ch_chain_step(&chain, addr);
		if (s != CH_CHAIN_OK) {
			ch_diag_partial(c->diag, "glibc: the arena ring %s", s == CH_CHAIN_LOOP ? "loops without returning to main_arena" : "is too long");
			break;
		}
		uint64_t top, top_size, system_mem, next;
		if (!rd(c, addr + c->lay.ms_top, &top) || !rd(c, addr + c->lay.ms_system_mem, &system_mem) ||
		    !rd(c, addr + c->lay.ms_next, &next)) {
			ch_diag_partial(c->diag, "glibc: arena %#llx is not in the core", (unsigned long long)addr);
			break;
		}
		struct ch_glibc_arena *a = NULL;
		struct ch_error *err = push_arena(c, addr, &a);
		if (err)
			return err;
		a->system_mem = system_mem;
		a->top = top;
		if (top && rd(c, top + c->lay.mc_size, &top_size))
			a->top_size = top_size & ~(uint64_t)CH_GLIBC_SIZE_BITS;
		else if (top) {
			ch_diag_partial(c->diag, "glibc: arena %#llx: top chunk %#llx is not in the core",
					(unsigned long long)addr, (unsigned long long)top);
			a->walk_complete = false;
		}
		size_t ai = c->st->narenas - 1;
		if (top && a->walk_complete)
			err = a->main ? walk_main_heap(c, ai) : walk_thread_heaps(c, ai);
		if (err)
			return err;
		addr = next;
	} while (addr && addr != c->main_arena);
	return NULL;
}
