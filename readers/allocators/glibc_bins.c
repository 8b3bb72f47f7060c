/* Free lists of glibc malloc: the bins and fastbins of each arena, counted
 * the way int_mallinfo counts them, and each thread's tcache. A list entry
 * must be a chunk the heap walk found; anything else (a pointer outside the
 * heaps, misaligned, a loop) stops that list with a warning, and the figures
 * are flagged partial.
 *
 * Safe-linking (glibc 2.32+): the singly linked lists (fastbins, tcache)
 * store next as (address of the field >> 12) XOR pointer; list heads are
 * stored plain, and so are the doubly linked bins. */
#include "glibc_internal.h"

#include <stdio.h>
#include <string.h>

#include "readers/base/chain.h"

#define MAX_TCACHE_ENTRIES 65536

static bool rd(struct ch_glibc_ctx *c, uint64_t addr, uint64_t *v)
{
	struct ch_error *err = ch_as_read_u64(c->as, addr, v);
	if (!err)
		return true;
	ch_error_free(err);
	return false;
}

static bool safe_linking(const struct ch_glibc_heapstate *st)
{
	unsigned major = 0, minor = 0;
	if (sscanf(st->version, "%u.%u", &major, &minor) != 2)
		return true; /* every glibc with a libc6-dbg of this layout has it */
	return major > 2 || (major == 2 && minor >= 32);
}

static enum ch_glibc_chunk_kind bin_kind(size_t i)
{
	return i == 1 ? CH_CHUNK_UNSORTED : i < 64 ? CH_CHUNK_SMALL : CH_CHUNK_LARGE;
}

/* Marks the chunk at p as kind when the walk found it as expected. */
static bool claim(struct ch_glibc_ctx *c, uint64_t p, enum ch_glibc_chunk_kind kind, enum ch_glibc_chunk_kind was,
		  const char *list)
{
	struct ch_glibc_chunk *ch = ch_glibc_chunk_exact(c->st, p);
	if (!ch) {
		ch_diag_partial(c->diag, "glibc: %s: %#llx is not a chunk of any heap; rest of the list not walked", list,
				(unsigned long long)p);
		return false;
	}
	if (ch->kind == kind) {
		ch_diag_partial(c->diag, "glibc: %s loops: chunk %#llx is reached twice; rest of the list not walked", list,
				(unsigned long long)p);
		return false;
	}
	if (ch->kind != was) {
		ch_diag_partial(c->diag, "glibc: %s: chunk %#llx is listed but is %s", list, (unsigned long long)p,
				ch_glibc_chunk_kind_name((enum ch_glibc_chunk_kind)ch->kind));
		return false;
	}
	ch->kind = (uint8_t)kind;
	return true;
}

struct ch_error *ch_glibc_walk_bins(struct ch_glibc_ctx *c, size_t ai)
{
	struct ch_glibc_arena *a = &c->st->arenas[ai];
	const struct ch_glibc_layout *L = &c->lay;
	size_t limit = (size_t)(c->st->nchunks + 16);
	char what[96];
	for (size_t i = 1; i <= L->nbins / 2; i++) {
		uint64_t bin = a->addr + L->ms_bins + (i - 1) * 16 - L->mc_fd;
		snprintf(what, sizeof(what), "arena %#llx bin %zu", (unsigned long long)a->addr, i);
		uint64_t p;
		if (!rd(c, bin + L->mc_bk, &p)) {
			ch_diag_partial(c->diag, "glibc: %s is not in the core", what);
			return NULL;
		}
		struct ch_chain chain;
		ch_chain_init(&chain, limit);
		while (p != bin) {
			enum ch_chain_step s = ch_chain_step(&chain, p);
			if (s != CH_CHAIN_OK) {
				ch_diag_partial(c->diag, "glibc: %s %s; figures from it are partial", what,
						s == CH_CHAIN_LOOP ? "loops" : "is longer than the heap has chunks");
				break;
			}
			if (p % CH_GLIBC_ALIGN || !claim(c, p, bin_kind(i), CH_CHUNK_FREE_UNBINNED, what))
				break;
			struct ch_glibc_chunk *ch = ch_glibc_chunk_exact(c->st, p);
			a->binned_chunks++;
			a->binned_bytes += ch->size;
			if (!rd(c, p + L->mc_bk, &p)) {
				ch_diag_partial(c->diag, "glibc: %s: link at %#llx not in the core", what,
						(unsigned long long)p);
				break;
			}
		}
	}
	if (!L->has_fastbins)
		return NULL;
	bool mangled = safe_linking(c->st);
	for (size_t i = 0; i < L->nfastbins; i++) {
		snprintf(what, sizeof(what), "arena %#llx fastbin %zu", (unsigned long long)a->addr, i);
		uint64_t p;
		if (!rd(c, a->addr + L->ms_fastbins + 8 * i, &p)) {
			ch_diag_partial(c->diag, "glibc: %s is not in the core", what);
			return NULL;
		}
		struct ch_chain chain;
		ch_chain_init(&chain, limit);
		while (p) {
			enum ch_chain_step s = ch_chain_step(&chain, p);
			if (s != CH_CHAIN_OK) {
				ch_diag_partial(c->diag, "glibc: %s %s", what, s == CH_CHAIN_LOOP ? "loops" : "is too long");
				break;
			}
			if (p % CH_GLIBC_ALIGN || !claim(c, p, CH_CHUNK_FASTBIN, CH_CHUNK_IN_USE, what))
				break;
			struct ch_glibc_chunk *ch = ch_glibc_chunk_exact(c->st, p);
			a->fast_chunks++;
			a->fast_bytes += ch->size;
			uint64_t v;
			if (!rd(c, p + L->mc_fd, &v)) {
				ch_diag_partial(c->diag, "glibc: %s: link of %#llx not in the core", what, (unsigned long long)p);
				break;
			}
			p = mangled ? v ^ ((p + L->mc_fd) >> 12) : v;
		}
	}
	return NULL;
}

/* One thread's tcache at tc: every list, each entry a chunk of the heaps. */
static void walk_one_tcache(struct ch_glibc_ctx *c, uint64_t tc, int32_t tid)
{
	const struct ch_glibc_layout *L = &c->lay;
	bool mangled = safe_linking(c->st);
	char what[96];
	for (size_t i = 0; i < L->tc_nbins; i++) {
		snprintf(what, sizeof(what), "thread %d tcache bin %zu", (int)tid, i);
		uint64_t e, count = 0;
		if (!rd(c, tc + L->tc_entries + 8 * i, &e)) {
			ch_diag_partial(c->diag, "glibc: %s: the tcache at %#llx is not in the core", what,
					(unsigned long long)tc);
			return;
		}
		struct ch_chain chain;
		ch_chain_init(&chain, MAX_TCACHE_ENTRIES);
		while (e) {
			enum ch_chain_step s = ch_chain_step(&chain, e);
			if (s != CH_CHAIN_OK) {
				ch_diag_partial(c->diag, "glibc: %s %s", what, s == CH_CHAIN_LOOP ? "loops" : "is too long");
				break;
			}
			uint64_t p = e - L->mc_user;
			if (e % CH_GLIBC_ALIGN || !claim(c, p, CH_CHUNK_TCACHE, CH_CHUNK_IN_USE, what))
				break;
			struct ch_glibc_chunk *ch = ch_glibc_chunk_exact(c->st, p);
			c->st->tcache_chunks++;
			c->st->tcache_bytes += ch->size;
			count++;
			uint64_t v;
			if (!rd(c, e + L->te_next, &v)) {
				ch_diag_partial(c->diag, "glibc: %s: link of %#llx not in the core", what, (unsigned long long)e);
				break;
			}
			e = mangled ? v ^ ((e + L->te_next) >> 12) : v;
		}
		if (!L->tc_counts_are_room) {
			uint8_t buf[4] = {0};
			struct ch_error *err = ch_as_read(c->as, tc + L->tc_counts + i * L->tc_count_size, buf, L->tc_count_size);
			uint64_t n = L->tc_count_size == 1 ? buf[0] : L->tc_count_size == 2 ? (uint64_t)(buf[0] | buf[1] << 8)
											: (uint64_t)buf[0] | (uint64_t)buf[1] << 8 | (uint64_t)buf[2] << 16 | (uint64_t)buf[3] << 24;
			if (!err && n != count)
				ch_diag_warn(c->diag, "glibc: %s holds %llu chunks but counts %llu", what,
					     (unsigned long long)count, (unsigned long long)n);
			ch_error_free(err);
		}
	}
}

struct ch_error *ch_glibc_walk_tcaches(struct ch_glibc_ctx *c)
{
	struct ch_core_file *core = c->proc->core;
	c->st->threads = core->nthreads;
	if (!c->have_tcache_tpoff)
		return NULL;
	c->st->tcache_located = true;
	for (size_t t = 0; t < core->nthreads; t++) {
		uint64_t tc;
		if (!rd(c, core->threads[t].tp + c->tcache_tpoff, &tc)) {
			ch_diag_warn(c->diag, "glibc: thread %d: its tcache pointer is not in the core",
				     (int)core->threads[t].tid);
			continue;
		}
		c->st->tcaches_found++;
		if (tc)
			walk_one_tcache(c, tc, core->threads[t].tid);
	}
	return NULL;
}
