/* libFuzzer target: the glibc malloc walker (readers/allocators) over a
 * synthetic process whose memory comes from the input. The layout is one
 * of the built-in tables (readers/allocators/glibc_tables, picked by the
 * first byte; each parsed once, at start), so the walk is the one ch_glibc_read runs after locating
 * libc: ch_glibc_read_located (arenas, heaps, chunks, bins, fastbins,
 * tcache, mmapped chunks, mallinfo2).
 *
 * One input, in order (each part zero-padded when the input ends early):
 *   u8  table index and flags (bit 7: the tcache offset is known)
 *   8   the thread's TLS word the tcache pointer is read from
 *   D   libc's data from &mp_ to the end of main_arena (D from the table)
 *   u16 n, then n bytes: the brk heap at HEAP
 *   u16 n, then n bytes: a thread heap at THEAP (HEAP_MAX-aligned)
 *   the rest: anonymous writable memory at MMAP (mmapped chunks)
 * Each memory part is also a segment of the fake core (PF_R | PF_W), so
 * the mmapped-chunk scan sees them. Seeds: make_seeds.py lays out a main
 * arena with a few chunks, a bin, a fastbin, a tcache entry, a thread
 * arena and an mmapped chunk, from the same table text.
 *
 * Checked beyond the sanitizers: every chunk lies in memory the walk was
 * given or in an mmapped run, chunks are sorted, and the lookups agree. */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "readers/allocators/glibc_internal.h"
#include "readers/allocators/glibc_table.h"

#define LIBC_BASE 0x7f0000000000ull
#define HEAP 0x555500000000ull
#define THEAP 0x7e0000000000ull /* a multiple of CH_GLIBC_HEAP_MAX */
#define MMAP 0x7d0000000000ull
#define TLS 0x7c0000000000ull
#define TPOFF 0x100ull
#define PART_MAX 65536u

static uint8_t tls[8], data[PART_MAX], heap[PART_MAX], theap[PART_MAX], mmapped[PART_MAX];

/* Up to n bytes of the input into buf (zero-padded); advances the input. */
static void take(const uint8_t **p, size_t *left, uint8_t *buf, size_t n)
{
	size_t k = *left < n ? *left : n;
	memset(buf, 0, n);
	memcpy(buf, *p, k);
	*p += k;
	*left -= k;
}

static size_t take_len(const uint8_t **p, size_t *left)
{
	uint8_t b[2];
	take(p, left, b, 2);
	return (size_t)(b[0] | b[1] << 8);
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

#define MAX_TABLES 16

/* Each built-in table parsed once (it does not depend on the input). */
static struct ch_glibc_layout layouts[MAX_TABLES];
static char versions[MAX_TABLES][32];
static size_t ntables;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t k = 0; k < ch_glibc_ntables && k < MAX_TABLES; k++) {
		const struct ch_glibc_table *t = &ch_glibc_tables[k];
		uint8_t id[64];
		size_t idlen = strlen(t->build_id) / 2;
		for (size_t i = 0; i < idlen && i < sizeof(id); i++)
			id[i] = (uint8_t)(hexval(t->build_id[2 * i]) << 4 | hexval(t->build_id[2 * i + 1]));
		if (ch_glibc_table_find(id, idlen, &layouts[k], versions[k], sizeof(versions[k])))
			abort(); /* the tables are compiled in: each must parse */
		ntables++;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (size < 1 || ntables == 0)
		return 0;
	const uint8_t *p = in + 1;
	size_t left = size - 1;
	size_t k = (in[0] & 0x7f) % ntables;
	struct ch_glibc_heapstate st;
	memset(&st, 0, sizeof(st));
	snprintf(st.version, sizeof(st.version), "%s", versions[k]);
	struct ch_glibc_ctx c = {0};
	c.lay = layouts[k];
	struct ch_error *err;
	uint64_t mp = LIBC_BASE + c.lay.sym_mp, main_arena = LIBC_BASE + c.lay.sym_main_arena;
	if (main_arena < mp || main_arena + c.lay.ms_sizeof - mp > PART_MAX)
		abort(); /* the harness's assumption about the tables */
	size_t dlen = (size_t)(main_arena + c.lay.ms_sizeof - mp);

	take(&p, &left, tls, sizeof(tls));
	take(&p, &left, data, dlen);
	size_t hlen = take_len(&p, &left);
	take(&p, &left, heap, hlen);
	size_t tlen = take_len(&p, &left);
	take(&p, &left, theap, tlen);
	size_t mlen = left < PART_MAX ? left : PART_MAX;
	take(&p, &left, mmapped, mlen);

	struct ch_core_segment segs[] = {
		{.vaddr = mp, .memsz = dlen, .filesz = dlen, .present = dlen, .flags = PF_R | PF_W},
		{.vaddr = HEAP, .memsz = hlen, .filesz = hlen, .present = hlen, .flags = PF_R | PF_W},
		{.vaddr = THEAP, .memsz = tlen, .filesz = tlen, .present = tlen, .flags = PF_R | PF_W},
		{.vaddr = MMAP, .memsz = mlen, .filesz = mlen, .present = mlen, .flags = PF_R | PF_W},
	};
	struct ch_core_thread thread = {.tid = 1, .tp = TLS + TPOFF, .sp = TLS};
	struct ch_core_file core = {.path = "fuzz-glibc", .arch = ch_core_arch_find(EM_X86_64), .segments = segs,
				    .nsegments = 4, .threads = &thread, .nthreads = 1};
	struct ch_process proc = {.core = &core};
	ch_as_init(&proc.as);
	uint8_t *bytes[] = {data, heap, theap, mmapped};
	for (size_t i = 0; i < 4; i++)
		if (segs[i].memsz)
			ch_error_free(ch_as_add(&proc.as, segs[i].vaddr, segs[i].vaddr + segs[i].memsz, bytes[i], CH_AS_CORE,
						true));
	ch_error_free(ch_as_add(&proc.as, TLS, TLS + sizeof(tls), tls, CH_AS_CORE, true));

	struct ch_diag diag;
	ch_diag_init(&diag);
	st.found = true;
	c.proc = &proc;
	c.as = &proc.as;
	c.diag = &diag;
	c.st = &st;
	c.main_arena = main_arena;
	c.mp = mp;
	c.tcache_tpoff = (uint64_t)0 - TPOFF;
	c.have_tcache_tpoff = (in[0] & 0x80) != 0;
	c.from_table = true;
	err = ch_glibc_read_located(&c);
	if (!err) {
		for (size_t i = 0; i < st.nchunks; i++) {
			const struct ch_glibc_chunk *ch = &st.chunks[i];
			if (i && st.chunks[i - 1].addr > ch->addr)
				abort(); /* sorted by address */
			if (ch->size == 0 || ch->kind >= CH_CHUNK_KINDS || ch_glibc_chunk_starting_at(&st, ch->addr) == NULL)
				abort();
			const struct ch_as_range *r = ch_as_find(&proc.as, ch->addr);
			if (!r || r->source != CH_AS_CORE)
				abort(); /* a chunk where the walk was given no memory */
		}
		(void)ch_glibc_chunk_at(&st, HEAP + 0x40);
		(void)ch_glibc_chunk_at(&st, 0);
		(void)ch_glibc_chunk_at(&st, UINT64_MAX);
		ch_glibc_deinit(&st);
	}
	ch_error_free(err);
	ch_fuzz_print_diag("glibc", &diag);
	ch_diag_deinit(&diag);
	ch_as_deinit(&proc.as);
	return 0;
}
