/* Finding main_arena, mp_ and the TLS offset of `tcache` without libc's
 * symbols: for a libc build that has neither a debug file nor a built-in
 * table. The struct layouts still come from a table, one generated for
 * another build of the same glibc version (glibc_table.h): malloc's
 * structs change between versions, not between rebuilds of one. The
 * addresses are what differs, and they are found by shape:
 *
 *  main_arena  in libc's writable data (.data/.bss, read from the core): a
 *              malloc_state whose lock word is 0-2, flags only the low
 *              bits, fastbin heads 0 or chunk-aligned, top chunk-aligned
 *              and not the initial (unused) top, bins either self-linked
 *              pairs (empty: fd == bk == the bin's own address) or pairs of
 *              chunk-aligned pointers, at least MIN_EMPTY_BINS of them
 *              empty, system_mem non-zero; its `next` ring returns to it
 *              within MAX_RING steps, every other arena on it named by the
 *              heap_info at the start of its HEAP_MAX_SIZE-aligned heap.
 *  mp_         a word of libc's writable data equal to the start of the
 *              brk heap (mp_.sbrk_base), which is checked by walking the
 *              chunks from there: each size a multiple of 16 and at least
 *              32, ending exactly on the arena's top chunk, the run from
 *              that start to the end of top within a page or two of
 *              main_arena.system_mem, mp_'s mmap counters plausible. The
 *              lowest such start wins (see find_mp).
 *  tcache      the resolved GOT slot of one R_X86_64_TPOFF64 relocation: the
 *              one whose offset, added to every thread's fs_base, reads
 *              either 0 (no tcache yet) or the user address of an in-use
 *              chunk of exactly the size glibc gives the tcache struct, and
 *              does so for at least one thread.
 *
 * Only a unique, verified answer is taken: two candidates for any of the
 * three is "not found" (or, for tcache, no tcache) with the reason. The
 * scan is bounded: at most SCAN_MAX bytes of libc's data, MAX_WALKS chunk
 * walks, each at most as many steps as 32-byte chunks fit its span. */
#include "glibc_internal.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/base/chain.h"

#define SCAN_MAX (8u << 20)
#define MIN_EMPTY_BINS 16
#define MAX_RING 4096
#define MAX_WALKS 16
#define MIN_CHUNK 32u

/* libc's writable segments, copied from the core (unreadable pages zero:
 * no arena or pointer matches a zero page). */
struct rw {
	uint64_t start[4], len[4];
	uint8_t *buf[4];
	size_t n;
};

static void rw_free(struct rw *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->buf[i]);
}

static struct ch_error *rw_read(struct ch_glibc_ctx *c, const struct ch_module *mod, const struct ch_elf_file *ef,
				struct rw *w)
{
	memset(w, 0, sizeof(*w));
	uint64_t total = 0;
	for (size_t i = 0; i < ef->nsegments && w->n < 4; i++) {
		const struct ch_elf_segment *s = &ef->segments[i];
		if (!(s->flags & PF_W) || !s->memsz || s->memsz > SCAN_MAX - total)
			continue;
		uint64_t start = (s->vaddr + mod->bias) & ~(uint64_t)(CH_GLIBC_PAGE - 1);
		uint64_t end = ch_align_up(s->vaddr + mod->bias + s->memsz, CH_GLIBC_PAGE);
		uint8_t *b = calloc(1, end - start);
		if (!b)
			return ch_error_new(CH_ERR_NOMEM, "out of memory for libc's data");
		for (uint64_t p = start; p < end; p += CH_GLIBC_PAGE) {
			const uint8_t *src = ch_as_peek(c->as, p, CH_GLIBC_PAGE);
			if (src)
				memcpy(b + (p - start), src, CH_GLIBC_PAGE);
		}
		w->start[w->n] = start;
		w->len[w->n] = end - start;
		w->buf[w->n++] = b;
		total += end - start;
	}
	return NULL;
}

static bool rd(struct ch_glibc_ctx *c, uint64_t addr, uint64_t *v)
{
	const uint8_t *b = ch_as_peek(c->as, addr, 8);
	if (b) {
		*v = ch_le64(b);
		return true;
	}
	struct ch_error *err = ch_as_read_u64(c->as, addr, v);
	ch_error_free(err);
	return !err;
}

/* The malloc_state shape at p (addr in the process), from its bytes alone. */
static bool arena_shape(const struct ch_glibc_layout *L, const uint8_t *p, uint64_t addr)
{
	if (L->ms_flags < 4 || L->mc_fd > L->ms_bins + CH_GLIBC_ALIGN)
		return false;
	uint32_t mutex = ch_le32(p), flags = ch_le32(p + L->ms_flags);
	uint64_t top = ch_le64(p + L->ms_top), next = ch_le64(p + L->ms_next), sysmem = ch_le64(p + L->ms_system_mem);
	if (mutex > 2 || flags > 7 || !top || top % CH_GLIBC_ALIGN || !next || next % 8 || !sysmem ||
	    sysmem >= (1ull << 47))
		return false;
	if (top == addr + L->ms_bins - L->mc_fd)
		return false; /* initial_top: malloc never used this arena */
	for (uint64_t i = 0; L->has_fastbins && i < L->nfastbins; i++)
		if (ch_le64(p + L->ms_fastbins + 8 * i) % CH_GLIBC_ALIGN)
			return false;
	size_t empty = 0;
	for (uint64_t i = 0; i + 1 < L->nbins; i += 2) {
		uint64_t fd = ch_le64(p + L->ms_bins + 8 * i), bk = ch_le64(p + L->ms_bins + 8 * i + 8);
		uint64_t self = addr + L->ms_bins + 8 * i - L->mc_fd;
		if (fd == self && bk == self)
			empty++;
		else if (!fd || !bk || fd % CH_GLIBC_ALIGN || bk % CH_GLIBC_ALIGN)
			return false;
	}
	return empty >= MIN_EMPTY_BINS;
}

/* The next ring from a returns to a; each other arena has its heap_info. */
static bool ring_ok(struct ch_glibc_ctx *c, uint64_t a, uint64_t next)
{
	struct ch_chain chain;
	ch_chain_init(&chain, MAX_RING);
	for (uint64_t x = next; x != a;) {
		uint64_t ar_ptr, nx;
		if (ch_chain_step(&chain, x) != CH_CHAIN_OK || !rd(c, (x & ~(CH_GLIBC_HEAP_MAX - 1)) + c->lay.hi_ar_ptr, &ar_ptr) ||
		    ar_ptr != x || !rd(c, x + c->lay.ms_next, &nx))
			return false;
		x = nx;
	}
	return true;
}

/* The chunks from the first at or above start run exactly onto top. */
static bool walk_to_top(struct ch_glibc_ctx *c, uint64_t start, uint64_t top)
{
	uint64_t p = ch_align_up(start, CH_GLIBC_ALIGN);
	for (uint64_t steps = (top - start) / MIN_CHUNK + 1; p < top && steps; steps--) {
		uint64_t size;
		if (!rd(c, p + c->lay.mc_size, &size))
			return false;
		uint64_t cs = size & ~(uint64_t)CH_GLIBC_SIZE_BITS;
		if (cs < MIN_CHUNK || cs % CH_GLIBC_ALIGN || cs > top - p || (size & (CH_GLIBC_IS_MMAPPED | CH_GLIBC_NON_MAIN_ARENA)))
			return false;
		p += cs;
	}
	return p == top;
}

struct found {
	uint64_t arena, mp, base;
	size_t narenas, nmps; /* nmps: candidates sharing the lowest base */
};

/* mp_'s counters of mmapped chunks are plausible: a count far below 2^32
 * and a byte total of whole pages. */
static bool mp_counters_ok(struct ch_glibc_ctx *c, uint64_t mp)
{
	uint64_t n = 0, bytes;
	uint8_t b[8] = {0};
	struct ch_error *err = ch_as_read(c->as, mp + c->lay.mp_n_mmaps, b, c->lay.mp_n_mmaps_size < 8 ? c->lay.mp_n_mmaps_size : 8);
	ch_error_free(err);
	if (err || !rd(c, mp + c->lay.mp_mmapped_mem, &bytes))
		return false;
	memcpy(&n, b, sizeof(b));
	return n < (1u << 24) && bytes % CH_GLIBC_PAGE == 0 && (n == 0) == (bytes == 0);
}

/* For one arena candidate: the mp_ candidates whose sbrk_base starts a
 * chunk run that ends on top. A run that starts on any chunk of the heap
 * walks to top as well, so the lowest such start is the heap's: the brk
 * heap begins at sbrk_base and no chunk lies below it. */
static void find_mp(struct ch_glibc_ctx *c, const struct rw *w, uint64_t arena, const uint8_t *ap, struct found *f,
		    size_t *walks)
{
	const struct ch_glibc_layout *L = &c->lay;
	uint64_t top = ch_le64(ap + L->ms_top), sysmem = ch_le64(ap + L->ms_system_mem), top_size;
	if (!rd(c, top + L->mc_size, &top_size))
		return;
	uint64_t top_end = top + (top_size & ~(uint64_t)CH_GLIBC_SIZE_BITS);
	const struct ch_as_range *r = ch_as_find(c->as, top);
	if (!r || !r->writable || top_end > r->end || top_end < top)
		return;
	for (size_t s = 0; s < w->n; s++)
		for (uint64_t o = L->mp_sbrk_base; o + 8 <= w->len[s]; o += 8) {
			uint64_t base = ch_le64(w->buf[s] + o), mp = w->start[s] + o - L->mp_sbrk_base;
			if (base < r->start || base > top || base % CH_GLIBC_ALIGN || (f->nmps && base > f->base) ||
			    (mp + L->mp_sbrk_base >= arena && mp < arena + L->ms_sizeof))
				continue;
			uint64_t span = top_end - base;
			if (span > sysmem + 2 * CH_GLIBC_PAGE || sysmem > span + 2 * CH_GLIBC_PAGE || !mp_counters_ok(c, mp))
				continue;
			if (f->nmps && base == f->base) {
				f->nmps += f->mp != mp;
				continue;
			}
			if (*walks >= MAX_WALKS)
				return;
			(*walks)++;
			if (!walk_to_top(c, base, top))
				continue;
			f->base = base;
			f->mp = mp;
			f->nmps = 1;
		}
}

/* A TPOFF64 slot value whose per-thread pointers are all 0 or tcache structs. */
static bool tpoff_ok(struct ch_glibc_ctx *c, uint64_t off)
{
	const struct ch_glibc_layout *L = &c->lay;
	uint64_t want = ch_align_up(L->tc_entries + 8 * L->tc_nbins + 8, CH_GLIBC_ALIGN);
	size_t good = 0;
	for (size_t t = 0; t < c->proc->core->nthreads; t++) {
		uint64_t tc, size;
		if (!rd(c, c->proc->core->threads[t].tp + off, &tc) || !tc)
			continue; /* a thread whose TLS is not in the core says nothing */
		if (tc % CH_GLIBC_ALIGN || !rd(c, tc - L->mc_user + L->mc_size, &size) ||
		    (size & ~(uint64_t)CH_GLIBC_SIZE_BITS) != want)
			return false;
		good++;
	}
	return good > 0;
}

static void find_tcache(struct ch_glibc_ctx *c, const struct ch_module *mod, struct ch_elf_file *ef)
{
	uint64_t addr, size;
	const uint8_t *bytes;
	struct ch_error *err = ch_elf_section(ef, ".rela.dyn", &addr, &size, &bytes);
	if (err || !bytes) {
		ch_error_free(err);
		return;
	}
	size_t n = 0;
	uint64_t found = 0;
	for (uint64_t off = 0; off + 24 <= size && n < 2; off += 24) {
		uint64_t r_offset = ch_le64(bytes + off), r_info = ch_le64(bytes + off + 8), v;
		if (ELF64_R_TYPE(r_info) != R_X86_64_TPOFF64 || !rd(c, r_offset + mod->bias, &v) || !tpoff_ok(c, v))
			continue;
		if (n && v == found)
			continue;
		found = v;
		n++;
	}
	if (n == 1) {
		c->tcache_tpoff = found;
		c->have_tcache_tpoff = true;
	} else if (n > 1) {
		ch_diag_warn(c->diag, "glibc (shape scan): two TLS slots look like the tcache pointer; tcache not read");
	}
}

bool ch_glibc_scan(struct ch_glibc_ctx *c, const struct ch_module *mod, struct ch_elf_file *ef, char *why,
		   size_t max)
{
	const struct ch_glibc_layout *L = &c->lay;
	if (L->ms_bins + 8 * L->nbins > L->ms_sizeof || L->ms_fastbins + 8 * L->nfastbins > L->ms_sizeof ||
	    L->ms_top + 8 > L->ms_sizeof || L->ms_next + 8 > L->ms_sizeof || L->ms_system_mem + 8 > L->ms_sizeof ||
	    L->ms_flags + 4 > L->ms_sizeof || L->ms_sizeof > 65536) {
		snprintf(why, max, "the table's malloc_state layout is not usable for a shape scan");
		return false;
	}
	struct rw w;
	struct ch_error *err = rw_read(c, mod, ef, &w);
	if (err) {
		snprintf(why, max, "%s", err->message);
		ch_error_free(err);
		rw_free(&w);
		return false;
	}
	struct found f = {0};
	size_t walks = 0, shapes = 0;
	for (size_t s = 0; s < w.n; s++)
		for (uint64_t o = 0; o + L->ms_sizeof <= w.len[s]; o += 8) {
			const uint8_t *p = w.buf[s] + o;
			uint64_t a = w.start[s] + o;
			if (!arena_shape(L, p, a) || !ring_ok(c, a, ch_le64(p + L->ms_next)))
				continue;
			shapes++;
			struct found g = {0};
			find_mp(c, &w, a, p, &g, &walks);
			if (g.nmps != 1)
				continue;
			f.arena = a;
			f.mp = g.mp;
			f.narenas++;
		}
	rw_free(&w);
	if (f.narenas != 1) {
		snprintf(why, max,
			 f.narenas ? "the shape scan found %zu verified main_arena candidates in libc's data; none taken"
				   : "the shape scan found no verified main_arena in libc's data (%zu malloc_state shapes, none whose brk heap walks to its top chunk)",
			 f.narenas ? f.narenas : shapes);
		return false;
	}
	c->main_arena = f.arena;
	c->mp = f.mp;
	find_tcache(c, mod, ef);
	return true;
}
