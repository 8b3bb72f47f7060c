/* glibc malloc's state in a core: the order of the walks and the figures
 * computed from them (mallinfo2() glibc's way, and the program's view). */
#include "glibc_internal.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ch_glibc_chunk_kind_name(enum ch_glibc_chunk_kind k)
{
	static const char *const names[CH_CHUNK_KINDS] = {
		[CH_CHUNK_IN_USE] = "in_use",     [CH_CHUNK_TCACHE] = "tcache",
		[CH_CHUNK_FASTBIN] = "fastbin",   [CH_CHUNK_UNSORTED] = "unsorted",
		[CH_CHUNK_SMALL] = "small_bins",  [CH_CHUNK_LARGE] = "large_bins",
		[CH_CHUNK_FREE_UNBINNED] = "free_unbinned", [CH_CHUNK_FENCEPOST] = "fencepost",
		[CH_CHUNK_MMAPPED] = "mmapped",
	};
	return (unsigned)k < CH_CHUNK_KINDS ? names[k] : "?";
}

static void other_allocator(struct ch_process *proc, struct ch_diag *diag)
{
	static const char *const names[] = {"libjemalloc", "libtcmalloc", "libmimalloc", "libhoard", "libtbbmalloc"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ch_process_find_module(proc, names[i]))
			ch_diag_warn(diag, "the process had %s mapped: memory it allocated is not glibc malloc's and is counted as "
					   "other anonymous memory", names[i]);
}

static void read_counters(struct ch_glibc_ctx *c)
{
	uint8_t buf[8] = {0};
	struct ch_error *err = ch_as_read(c->as, c->mp + c->lay.mp_n_mmaps, buf, c->lay.mp_n_mmaps_size);
	if (!err) {
		uint64_t v = 0;
		memcpy(&v, buf, c->lay.mp_n_mmaps_size < 8 ? c->lay.mp_n_mmaps_size : 8);
		c->st->mp_n_mmaps = v;
		err = ch_as_read_u64(c->as, c->mp + c->lay.mp_mmapped_mem, &c->st->mp_mmapped_mem);
	}
	if (err)
		ch_diag_partial(c->diag, "glibc: mp_ is not in the core: %s", err->message);
	ch_error_free(err);
}

/* Per-arena sums by kind, and mallinfo2 the way int_mallinfo adds them up. */
static void account(struct ch_glibc_heapstate *st)
{
	for (size_t i = 0; i < st->nchunks; i++) {
		const struct ch_glibc_chunk *ch = &st->chunks[i];
		if (ch->arena >= st->narenas)
			continue;
		st->arenas[ch->arena].chunks[ch->kind]++;
		st->arenas[ch->arena].bytes[ch->kind] += ch->size;
	}
	for (size_t h = 0; h < st->nheaps; h++) {
		const struct ch_glibc_heap *hp = &st->heaps[h];
		st->arenas[hp->arena].overhead += (hp->end - hp->start) - hp->chunk_bytes;
	}
	struct ch_mallinfo2 *m = &st->mallinfo2;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < st->narenas; i++) {
		const struct ch_glibc_arena *a = &st->arenas[i];
		uint64_t avail = a->top_size + a->fast_bytes + a->binned_bytes;
		m->smblks += a->fast_chunks;
		m->ordblks += 1 + a->binned_chunks;
		m->fordblks += avail;
		m->uordblks += a->system_mem - avail;
		m->arena += a->system_mem;
		m->fsmblks += a->fast_bytes;
		if (a->main)
			m->keepcost = a->top_size;
	}
	m->hblks = st->mp_n_mmaps;
	m->hblkhd = st->mp_mmapped_mem;
	st->program_free = m->fordblks + st->tcache_bytes;
	st->program_in_use = m->uordblks - st->tcache_bytes;
}

struct ch_error *ch_glibc_read(struct ch_process *proc, struct ch_diag *diag, struct ch_glibc_heapstate *out)
{
	memset(out, 0, sizeof(*out));
	struct ch_glibc_ctx c = {.proc = proc, .as = &proc->as, .diag = diag, .st = out};
	other_allocator(proc, diag);
	struct ch_error *err = ch_glibc_locate(&c);
	if (err || !out->found)
		return err;
	return ch_glibc_read_located(&c);
}

struct ch_error *ch_glibc_read_located(struct ch_glibc_ctx *c)
{
	struct ch_glibc_heapstate *out = c->st;
	struct ch_diag *diag = c->diag;
	read_counters(c);
	struct ch_error *err = ch_glibc_walk_arenas(c);
	if (!err) {
		ch_glibc_sort_chunks(out);
		for (size_t i = 0; i < out->narenas && !err; i++)
			err = ch_glibc_walk_bins(c, i);
	}
	for (size_t i = 0; !err && i < out->nchunks; i++)
		if (out->chunks[i].kind == CH_CHUNK_FREE_UNBINNED) {
			ch_diag_partial(diag, "glibc: chunk %#llx is free but in no bin",
					(unsigned long long)out->chunks[i].addr);
			break;
		}
	if (!err)
		err = ch_glibc_find_mmapped(c);
	if (!err) {
		ch_glibc_sort_chunks(out);
		err = ch_glibc_walk_tcaches(c);
	}
	/* The tcache's TLS slot is found through an x86_64 relocation only. */
	if (!err && !c->have_tcache_tpoff && c->proc->core->arch->machine != EM_X86_64)
		ch_diag_warn(diag, "glibc: the per-thread tcache pointers are not read on %s cores: tcache chunks are "
				   "counted in use, as glibc counts them", c->proc->core->arch->name);
	else if (!err && !c->have_tcache_tpoff)
		ch_diag_warn(diag, "glibc: the per-thread tcache pointers were not found (no TPOFF64 relocation for `tcache`): "
				   "tcache chunks are counted in use, as glibc counts them");
	if (!err)
		err = ch_glibc_chunk_index_build(out);
	if (!err)
		account(out);
	if (err)
		ch_glibc_deinit(out);
	return err;
}

void ch_glibc_deinit(struct ch_glibc_heapstate *st)
{
	free(st->arenas);
	free(st->heaps);
	free(st->chunks);
	ch_glibc_chunk_index_free(st);
	st->arenas = NULL;
	st->heaps = NULL;
	st->chunks = NULL;
	st->narenas = st->nheaps = st->nchunks = 0;
}
