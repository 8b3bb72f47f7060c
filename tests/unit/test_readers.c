/* Unit tests of the readers on small ELF images built in memory:
 * ch_core_parse (good, truncated at every byte, hostile headers and notes),
 * ch_process_open on such cores written to temporary files, the address
 * space (ch_as_*), chain walks (ch_chain_*), and ch_elf_open on the test
 * binary itself. Run it under ASan+UBSan (CH_SANITIZE=ON): buffers handed
 * to the parsers are allocated at their exact size so that any read past
 * the end is caught. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "readers/process/address_space.h"
#include "readers/base/chain.h"
#include "readers/process/core_file.h"
#include "readers/process/elf_file.h"
#include "readers/base/error.h"
#include "readers/process/process.h"

/* ------------------------------------------------------------------ */
/* A growable byte buffer and little-endian writers.                   */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < b->n + more)
		ncap *= 2;
	uint8_t *p = realloc(b->p, ncap);
	if (!p) {
		fprintf(stderr, "test_readers: out of memory\n");
		exit(2);
	}
	memset(p + b->cap, 0, ncap - b->cap);
	b->p = p;
	b->cap = ncap;
}

static size_t put(struct buf *b, const void *d, size_t n)
{
	buf_reserve(b, n);
	size_t at = b->n;
	if (d)
		memcpy(b->p + at, d, n);
	else
		memset(b->p + at, 0, n);
	b->n += n;
	return at;
}

static size_t put_u32(struct buf *b, uint32_t v)
{
	return put(b, &v, 4);
}

static size_t put_u64(struct buf *b, uint64_t v)
{
	return put(b, &v, 8);
}

static void put_align(struct buf *b, size_t a)
{
	while (b->n % a)
		put(b, NULL, 1);
}

static void set_u16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void set_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void set_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* One ELF note; returns the offset of its header. */
static size_t put_note(struct buf *b, const char *name, uint32_t type, const void *desc, uint32_t descsz,
		       size_t *desc_off)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t at = put_u32(b, namesz);
	put_u32(b, descsz);
	put_u32(b, type);
	put(b, name, namesz);
	put_align(b, 4);
	size_t d = put(b, desc, descsz);
	put_align(b, 4);
	if (desc_off)
		*desc_off = d;
	return at;
}

/* ------------------------------------------------------------------ */
/* A small x86_64 core.                                                */

#define T1_TID 1001
#define T1_FS 0x7f1122334400ULL
#define T1_RIP 0x401234ULL
#define T2_TID 1002
#define T2_FS 0x7f5566778800ULL
#define EXE_BASE 0x400000ULL
#define DATA_BASE 0x600000ULL
#define LIB_BASE 0x7f0000000000ULL
#define STACK_BASE 0x7ffff000ULL
#define EXE_PATH "/nonexistent/coreheap-test/bin/python"
#define LIB_PATH "/nonexistent/coreheap-test/lib/libfoo.so.1"
#define DATA_STR "hello, core"

enum { PRSTATUS_SIZE = 336, PRSTATUS_REGS = 112, PRPSINFO_SIZE = 136 };

static const uint8_t fake_build_id[20] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
					  0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff};

struct seg_spec {
	uint64_t vaddr, memsz;
	const uint8_t *data; /* filesz bytes, or NULL for zeros */
	uint64_t filesz;
	uint32_t flags;
};

struct core_image {
	struct buf b;
	size_t phoff, phnum;
	size_t notes_off, notes_size;
	size_t prstatus1_note, prpsinfo_note, file_note, prstatus2_note; /* note header offsets */
	size_t file_desc, file_descsz;
	size_t seg_data_off[8];
	size_t nseg;
};

struct core_opts {
	const char *exe_path;          /* NT_FILE path of the executable mapping */
	const uint8_t *exe_page;       /* bytes dumped at EXE_BASE (NULL: a fake ELF header page) */
	uint64_t exe_page_size;
	uint64_t exe_map_size;         /* NT_FILE size of the executable mapping */
};

/* A fake executable first page: ELF header, PT_LOAD + PT_NOTE, and a
 * GNU build-id note, all at link-time address 0. */
static void make_fake_exe_page(uint8_t *page, size_t size)
{
	memset(page, 0, size);
	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	memcpy(page, &eh, sizeof(eh));
	size_t note_at = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	Elf64_Phdr ph[2] = {{0}};
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X;
	ph[0].p_filesz = ph[0].p_memsz = size;
	ph[0].p_align = 4096;
	ph[1].p_type = PT_NOTE;
	ph[1].p_flags = PF_R;
	ph[1].p_offset = ph[1].p_vaddr = note_at;
	ph[1].p_filesz = ph[1].p_memsz = 12 + 4 + sizeof(fake_build_id);
	ph[1].p_align = 4;
	memcpy(page + sizeof(eh), ph, sizeof(ph));
	uint8_t *n = page + note_at;
	set_u32(n, 4);
	set_u32(n + 4, sizeof(fake_build_id));
	set_u32(n + 8, NT_GNU_BUILD_ID);
	memcpy(n + 12, "GNU", 4);
	memcpy(n + 16, fake_build_id, sizeof(fake_build_id));
}

static void build_core(struct core_image *ci, const struct core_opts *o)
{
	memset(ci, 0, sizeof(*ci));
	struct buf *b = &ci->b;
	static uint8_t fake_page[0x100];
	make_fake_exe_page(fake_page, sizeof(fake_page));
	const char *exe_path = o && o->exe_path ? o->exe_path : EXE_PATH;
	const uint8_t *exe_page = o && o->exe_page ? o->exe_page : fake_page;
	uint64_t exe_page_size = o && o->exe_page ? o->exe_page_size : sizeof(fake_page);
	uint64_t exe_map_size = o && o->exe_map_size ? o->exe_map_size : 0x1000;

	static uint8_t data_seg[0x200];
	for (size_t i = 0; i < sizeof(data_seg); i++)
		data_seg[i] = (uint8_t)(i * 7 + 3);
	memcpy(data_seg + 0x40, DATA_STR, sizeof(DATA_STR));
	static uint8_t stack_seg[0x80];
	for (size_t i = 0; i < sizeof(stack_seg); i++)
		stack_seg[i] = (uint8_t)(0xa0 ^ i);

	struct seg_spec segs[] = {
		{EXE_BASE, exe_map_size, exe_page, exe_page_size, PF_R | PF_X},
		{DATA_BASE, sizeof(data_seg), data_seg, sizeof(data_seg), PF_R | PF_W},
		{LIB_BASE, 0x2000, NULL, 0, PF_R}, /* the kernel skipped it */
		{STACK_BASE, 0x100, stack_seg, sizeof(stack_seg), PF_R | PF_W}, /* partly dumped */
	};
	size_t nseg = sizeof(segs) / sizeof(segs[0]);
	ci->nseg = nseg;
	ci->phnum = 1 + nseg;

	/* ELF header, program headers (filled in below) */
	put(b, NULL, sizeof(Elf64_Ehdr));
	ci->phoff = put(b, NULL, ci->phnum * sizeof(Elf64_Phdr));

	/* Notes, in the kernel's order. */
	ci->notes_off = b->n;
	uint8_t prs[PRSTATUS_SIZE] = {0};
	set_u16(prs + 12, SIGSEGV);
	set_u32(prs + 32, T1_TID);
	set_u64(prs + PRSTATUS_REGS + 8 * 21, T1_FS);
	set_u64(prs + PRSTATUS_REGS + 8 * 16, T1_RIP);
	set_u64(prs + PRSTATUS_REGS + 8 * 19, STACK_BASE + 0x40);
	set_u64(prs + PRSTATUS_REGS + 8 * 4, STACK_BASE + 0x60);
	ci->prstatus1_note = put_note(b, "CORE", NT_PRSTATUS, prs, sizeof(prs), NULL);

	uint8_t psi[PRPSINFO_SIZE] = {0};
	set_u32(psi + 24, T1_TID);
	memcpy(psi + 40, "python3.12", 10);
	memcpy(psi + 56, "python3 -c pass", 15);
	ci->prpsinfo_note = put_note(b, "CORE", NT_PRPSINFO, psi, sizeof(psi), NULL);

	uint8_t si[128] = {0};
	set_u32(si, SIGSEGV);
	put_note(b, "CORE", NT_SIGINFO, si, sizeof(si), NULL);

	uint64_t auxv[] = {AT_PHDR, EXE_BASE + 0x40, AT_ENTRY, EXE_BASE + 0x80, AT_BASE, LIB_BASE,
			   AT_EXECFN, STACK_BASE + 0x10, AT_NULL, 0};
	put_note(b, "CORE", NT_AUXV, auxv, sizeof(auxv), NULL);

	struct buf f = {0};
	put_u64(&f, 3);
	put_u64(&f, 4096);
	put_u64(&f, EXE_BASE);
	put_u64(&f, EXE_BASE + exe_map_size);
	put_u64(&f, 0);
	put_u64(&f, LIB_BASE);
	put_u64(&f, LIB_BASE + 0x1000);
	put_u64(&f, 0);
	put_u64(&f, LIB_BASE + 0x1000);
	put_u64(&f, LIB_BASE + 0x2000);
	put_u64(&f, 2);
	put(&f, exe_path, strlen(exe_path) + 1);
	put(&f, LIB_PATH, strlen(LIB_PATH) + 1);
	put(&f, LIB_PATH, strlen(LIB_PATH) + 1);
	ci->file_descsz = f.n;
	ci->file_note = put_note(b, "CORE", NT_FILE, f.p, (uint32_t)f.n, &ci->file_desc);
	free(f.p);

	/* A note coreheap ignores, with a name it does not know. */
	put_note(b, "LINUX", 0x202 /* NT_X86_XSTATE */, "xstate!", 8, NULL);

	set_u16(prs + 12, 0);
	set_u32(prs + 32, T2_TID);
	set_u64(prs + PRSTATUS_REGS + 8 * 21, T2_FS);
	ci->prstatus2_note = put_note(b, "CORE", NT_PRSTATUS, prs, sizeof(prs), NULL);
	ci->notes_size = b->n - ci->notes_off;

	/* Segment data, in order, so the last byte of the file is segment data. */
	for (size_t i = 0; i < nseg; i++)
		ci->seg_data_off[i] = segs[i].filesz ? put(b, segs[i].data, segs[i].filesz) : b->n;

	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = ci->phoff;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)ci->phnum;
	memcpy(b->p, &eh, sizeof(eh));

	Elf64_Phdr ph = {0};
	ph.p_type = PT_NOTE;
	ph.p_offset = ci->notes_off;
	ph.p_filesz = ci->notes_size;
	memcpy(b->p + ci->phoff, &ph, sizeof(ph));
	for (size_t i = 0; i < nseg; i++) {
		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_flags = segs[i].flags;
		ph.p_offset = ci->seg_data_off[i];
		ph.p_vaddr = segs[i].vaddr;
		ph.p_filesz = segs[i].filesz;
		ph.p_memsz = segs[i].memsz;
		ph.p_align = 4096;
		memcpy(b->p + ci->phoff + (1 + i) * sizeof(Elf64_Phdr), &ph, sizeof(ph));
	}
}

static uint8_t *phdr(struct core_image *ci, size_t i)
{
	return ci->b.p + ci->phoff + i * sizeof(Elf64_Phdr);
}

/* An exact-size heap copy of the first n bytes, so ASan sees overreads. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		exit(2);
	if (n)
		memcpy(c, p, n);
	return c;
}

/* Parse a copy of the image (optionally with size n) and free the copy. */
static struct ch_error *parse_copy(const uint8_t *p, size_t n, struct ch_core_file **out, uint8_t **copy)
{
	*copy = exact_copy(p, n);
	return ch_core_parse(*copy, n, "test-core", out);
}

static char tmp_dir[1024];

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "test_readers: cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

/* ------------------------------------------------------------------ */
/* ch_core_parse                                                       */

static void test_core_good(void)
{
	struct core_image ci;
	build_core(&ci, NULL);
	struct ch_core_file *c;
	uint8_t *copy;
	if (!CHECK_OK(parse_copy(ci.b.p, ci.b.n, &c, &copy))) {
		free(copy);
		free(ci.b.p);
		return;
	}
	CHECK(!c->truncated);
	CHECK_EQ_U64(c->size, ci.b.n);
	CHECK_EQ_U64(c->nthreads, 2);
	if (c->nthreads == 2) {
		CHECK_EQ_U64(c->threads[0].tid, T1_TID);
		CHECK_EQ_U64(c->threads[0].tp, T1_FS);
		CHECK_EQ_U64(c->threads[0].pc, T1_RIP);
		CHECK_EQ_U64(c->threads[0].sp, STACK_BASE + 0x40);
		CHECK_EQ_U64(c->threads[0].fp, STACK_BASE + 0x60);
		CHECK_EQ_U64(c->threads[0].cursig, SIGSEGV);
		CHECK_EQ_U64(c->threads[1].tid, T2_TID);
		CHECK_EQ_U64(c->threads[1].tp, T2_FS);
		CHECK_EQ_U64(c->threads[1].cursig, 0);
	}
	CHECK(c->have_psinfo);
	CHECK_EQ_U64(c->pid, T1_TID);
	CHECK_STR(c->fname, "python3.12");
	CHECK_STR(c->psargs, "python3 -c pass");
	CHECK_EQ_U64(c->signo, SIGSEGV);
	CHECK_EQ_U64(c->at_phdr, EXE_BASE + 0x40);
	CHECK_EQ_U64(c->at_entry, EXE_BASE + 0x80);
	CHECK_EQ_U64(c->at_base, LIB_BASE);
	CHECK_EQ_U64(c->at_execfn, STACK_BASE + 0x10);
	CHECK_EQ_U64(c->nmappings, 3);
	if (c->nmappings == 3) {
		CHECK_STR(c->mappings[0].path, EXE_PATH);
		CHECK_EQ_U64(c->mappings[0].start, EXE_BASE);
		CHECK_EQ_U64(c->mappings[0].end, EXE_BASE + 0x1000);
		CHECK_EQ_U64(c->mappings[0].file_offset, 0);
		CHECK_STR(c->mappings[1].path, LIB_PATH);
		CHECK_EQ_U64(c->mappings[1].start, LIB_BASE);
		CHECK_EQ_U64(c->mappings[1].end, LIB_BASE + 0x1000);
		CHECK_EQ_U64(c->mappings[1].file_offset, 0);
		CHECK_STR(c->mappings[2].path, LIB_PATH);
		CHECK_EQ_U64(c->mappings[2].start, LIB_BASE + 0x1000);
		CHECK_EQ_U64(c->mappings[2].end, LIB_BASE + 0x2000);
		CHECK_EQ_U64(c->mappings[2].file_offset, 2 * 4096);
	}
	CHECK_EQ_U64(c->nsegments, 4);
	if (c->nsegments == 4) {
		CHECK_EQ_U64(c->segments[0].vaddr, EXE_BASE);
		CHECK_EQ_U64(c->segments[0].filesz, 0x100);
		CHECK_EQ_U64(c->segments[0].present, 0x100);
		CHECK_EQ_U64(c->segments[0].offset, ci.seg_data_off[0]);
		CHECK_EQ_U64(c->segments[0].flags, PF_R | PF_X);
		CHECK_EQ_U64(c->segments[1].vaddr, DATA_BASE);
		CHECK_EQ_U64(c->segments[1].flags, PF_R | PF_W);
		CHECK(memcmp(c->data + c->segments[1].offset + 0x40, DATA_STR, sizeof(DATA_STR)) == 0);
		CHECK_EQ_U64(c->segments[2].filesz, 0);
		CHECK_EQ_U64(c->segments[2].present, 0);
		CHECK_EQ_U64(c->segments[2].memsz, 0x2000);
		CHECK_EQ_U64(c->segments[3].memsz, 0x100);
		CHECK_EQ_U64(c->segments[3].filesz, 0x80);
		CHECK_EQ_U64(c->segments[3].present, 0x80);
	}
	ch_core_close(c);
	free(copy);
	free(ci.b.p);
}

/* Invariants every successfully parsed core must satisfy. */
static int core_invariants(const struct ch_core_file *c, size_t size)
{
	int ok = 1;
	for (size_t i = 0; i < c->nsegments; i++) {
		const struct ch_core_segment *s = &c->segments[i];
		ok &= s->present <= s->filesz && s->filesz <= s->memsz;
		ok &= s->present == 0 || (s->offset <= size && s->present <= size - s->offset);
	}
	for (size_t i = 0; i < c->nmappings; i++) {
		const char *p = c->mappings[i].path;
		ok &= (const uint8_t *)p >= c->data && (const uint8_t *)p < c->data + size;
		ok &= strlen(p) < size; /* NUL inside the buffer (ASan checks the read) */
		ok &= c->mappings[i].start <= c->mappings[i].end;
	}
	return ok;
}

/* Every cut of the core from 0 bytes to its full size: an error before the
 * program headers are complete, a parse with `truncated` after, and the
 * notes that are whole are parsed right. Each cut is also opened as a file
 * by ch_process_open and every segment byte is read through the address
 * space, which must fault exactly past what the file holds. */
static void test_core_truncated_everywhere(void)
{
	struct core_image ci;
	build_core(&ci, NULL);
	const size_t full = ci.b.n;
	const size_t headers_end = ci.phoff + ci.phnum * sizeof(Elf64_Phdr);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cut.core", tmp_dir);
	unsigned long bad_errors = 0, bad_parses = 0, bad_process = 0, bad_reads = 0;
	for (size_t k = 0; k <= full; k++) {
		struct ch_core_file *c;
		uint8_t *copy;
		struct ch_error *err = parse_copy(ci.b.p, k, &c, &copy);
		if (k < headers_end) {
			if (!err || err->kind != CH_ERR_INPUT) {
				bad_errors++;
				fprintf(stderr, "  cut at %zu: %s\n", k, err ? err->message : "parsed");
			}
			if (!err)
				ch_core_close(c);
			ch_error_free(err);
			free(copy);
		} else {
			if (err) {
				bad_parses++;
				fprintf(stderr, "  cut at %zu: %s\n", k, err->message);
				ch_error_free(err);
				free(copy);
				continue;
			}
			int ok = core_invariants(c, k);
			ok &= c->truncated == (k < full);
			ok &= c->nsegments == 4;
			/* a note counts only when all of it is there */
			size_t t1_end = ci.prstatus1_note + 12 + 8 + PRSTATUS_SIZE;
			size_t t2_end = ci.prstatus2_note + 12 + 8 + PRSTATUS_SIZE;
			ok &= c->nthreads == (k >= t2_end ? 2u : k >= t1_end ? 1u : 0u);
			if (c->nthreads >= 1)
				ok &= c->threads[0].tid == T1_TID && c->threads[0].tp == T1_FS;
			if (c->nthreads == 2)
				ok &= c->threads[1].tid == T2_TID && c->threads[1].tp == T2_FS;
			ok &= c->nmappings == (k >= ci.file_desc + ci.file_descsz ? 3u : 0u);
			if (c->nmappings == 3)
				ok &= strcmp(c->mappings[2].path, LIB_PATH) == 0;
			for (size_t i = 0; i < c->nsegments; i++) {
				uint64_t want = 0, off = ci.seg_data_off[i], fsz = c->segments[i].filesz;
				if (k > off)
					want = k - off < fsz ? k - off : fsz;
				ok &= c->segments[i].present == want;
			}
			if (!ok) {
				bad_parses++;
				fprintf(stderr, "  cut at %zu: parsed wrong (threads %zu mappings %zu truncated %d)\n", k,
					c->nthreads, c->nmappings, c->truncated);
			}
			/* Every byte of every segment through an address space. */
			struct ch_address_space as;
			ch_as_init(&as);
			for (size_t i = 0; i < c->nsegments; i++) {
				const struct ch_core_segment *s = &c->segments[i];
				if (s->present)
					ch_error_free(ch_as_add(&as, s->vaddr, s->vaddr + s->present, c->data + s->offset,
								CH_AS_CORE, false));
				ch_error_free(ch_as_add(&as, s->vaddr, s->vaddr + s->memsz, NULL, CH_AS_NONE, false));
			}
			for (size_t i = 0; i < c->nsegments; i++) {
				const struct ch_core_segment *s = &c->segments[i];
				for (uint64_t a = 0; a < s->memsz; a += 8) {
					uint64_t v;
					struct ch_error *e = ch_as_read_u64(&as, s->vaddr + a, &v);
					bool should = a + 8 <= s->present;
					if ((e == NULL) != should || (e && e->kind != CH_ERR_FAULT) ||
					    (!e && v != get_u64(c->data + s->offset + a)))
						bad_reads++;
					ch_error_free(e);
				}
			}
			ch_as_deinit(&as);
			ch_core_close(c);
			free(copy);
		}
		/* The same cut through ch_process_open (mmap'd file, modules). */
		write_file(path, ci.b.p, k);
		struct ch_process *proc;
		err = ch_process_open(path, NULL, &proc);
		/* Any cut after the headers opens: the notes before it stand. A
		 * read of a segment's first byte then fails when the cut lost it,
		 * and that failure is explained as the truncation, with its size. */
		bool want_ok = k >= headers_end;
		if ((err == NULL) != want_ok || (err && err->kind != CH_ERR_INPUT)) {
			bad_process++;
			fprintf(stderr, "  process open of cut at %zu: %s\n", k, err ? err->message : "ok");
		}
		if (!err && k < ci.seg_data_off[0] + 8) {
			uint64_t v;
			struct ch_error *e = ch_as_read_u64(&proc->as, proc->core->segments[0].vaddr, &v);
			bool explained = false;
			if (e)
				e = ch_process_explain(proc, e, &explained);
			if (!e || !explained || e->kind != CH_ERR_INPUT || !strstr(e->message, "truncated") ||
			    proc->core->expected_size <= k) {
				bad_process++;
				fprintf(stderr, "  cut at %zu: lost read not explained: %s\n", k, e ? e->message : "read ok");
			}
			ch_error_free(e);
		}
		if (!err) {
			for (size_t j = 0; j < proc->nmodules; j++) {
				struct ch_elf_file *ef;
				struct ch_error *e = ch_process_module_elf(&proc->modules[j], &ef);
				if (!e || e->kind != CH_ERR_INPUT)
					bad_process++;
				ch_error_free(e);
			}
			ch_process_close(proc);
		}
		ch_error_free(err);
	}
	unlink(path);
	CHECK(full > 1000);
	CHECK_EQ_U64(bad_errors, 0);
	CHECK_EQ_U64(bad_parses, 0);
	CHECK_EQ_U64(bad_reads, 0);
	CHECK_EQ_U64(bad_process, 0);
	free(ci.b.p);
}

/* Parse a mutated copy; returns the error (caller checks and frees). */
static struct ch_error *parse_mutated(struct core_image *ci, struct ch_core_file **out, uint8_t **copy)
{
	return parse_copy(ci->b.p, ci->b.n, out, copy);
}

#define WITH_MUTATION(ci, stmt)          \
	do {                             \
		build_core(&(ci), NULL); \
		stmt;                    \
	} while (0)

static void expect_core_error(struct core_image *ci, enum ch_error_kind kind, const char *what)
{
	struct ch_core_file *c = NULL;
	uint8_t *copy;
	struct ch_error *err = parse_mutated(ci, &c, &copy);
	if (!check_record(err && err->kind == kind, __FILE__, __LINE__, what))
		fprintf(stderr, "    got %s\n", err ? err->message : "success");
	if (!err)
		ch_core_close(c);
	ch_error_free(err);
	free(copy);
	free(ci->b.p);
}

static void test_core_hostile_headers(void)
{
	struct core_image ci;

	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_phnum), 1000));
	expect_core_error(&ci, CH_ERR_INPUT, "phnum pointing past EOF");

	WITH_MUTATION(ci, set_u64(ci.b.p + offsetof(Elf64_Ehdr, e_phoff), ci.b.n - 8));
	expect_core_error(&ci, CH_ERR_INPUT, "phoff near EOF");

	WITH_MUTATION(ci, set_u64(ci.b.p + offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 16));
	expect_core_error(&ci, CH_ERR_INPUT, "phoff that overflows");

	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_phentsize), 32));
	expect_core_error(&ci, CH_ERR_INPUT, "wrong phentsize");

	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_phnum), PN_XNUM));
	expect_core_error(&ci, CH_ERR_UNSUPPORTED, "PN_XNUM");

	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_machine), EM_PPC64));
	expect_core_error(&ci, CH_ERR_UNSUPPORTED, "ppc64 core");

	/* x86_64's 336-byte NT_PRSTATUS where aarch64's 392 are due. */
	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_machine), EM_AARCH64));
	expect_core_error(&ci, CH_ERR_INPUT, "aarch64 header over x86_64 notes");

	WITH_MUTATION(ci, ci.b.p[EI_CLASS] = ELFCLASS32);
	expect_core_error(&ci, CH_ERR_UNSUPPORTED, "ELFCLASS32 core");

	WITH_MUTATION(ci, ci.b.p[EI_DATA] = ELFDATA2MSB);
	expect_core_error(&ci, CH_ERR_UNSUPPORTED, "big-endian core");

	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_type), ET_EXEC));
	expect_core_error(&ci, CH_ERR_INPUT, "ET_EXEC instead of ET_CORE");

	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_type), ET_DYN));
	expect_core_error(&ci, CH_ERR_INPUT, "ET_DYN instead of ET_CORE");

	WITH_MUTATION(ci, ci.b.p[1] = 'X');
	expect_core_error(&ci, CH_ERR_INPUT, "bad magic");

	/* No PT_LOAD at all: every program header but the note dropped. */
	WITH_MUTATION(ci, set_u16(ci.b.p + offsetof(Elf64_Ehdr, e_phnum), 1));
	expect_core_error(&ci, CH_ERR_INPUT, "core without PT_LOAD");

	/* A segment whose vaddr + memsz wraps. */
	WITH_MUTATION(ci, set_u64(phdr(&ci, 3) + offsetof(Elf64_Phdr, p_vaddr), UINT64_MAX - 0x10));
	expect_core_error(&ci, CH_ERR_INPUT, "segment wrapping the address space");

	/* A short NT_PRSTATUS is an error, not a read past the note. */
	WITH_MUTATION(ci, set_u32(ci.b.p + ci.prstatus1_note + 4, 100));
	{
		/* the note list now desyncs after the short note; only the error matters */
		expect_core_error(&ci, CH_ERR_INPUT, "short NT_PRSTATUS");
	}
}

static void test_core_hostile_segments(void)
{
	struct core_image ci;
	struct ch_core_file *c;
	uint8_t *copy;

	/* PT_LOAD offset past EOF, and filesz past EOF: kept, nothing present. */
	build_core(&ci, NULL);
	set_u64(phdr(&ci, 1) + offsetof(Elf64_Phdr, p_offset), ci.b.n + 4096);
	set_u64(phdr(&ci, 2) + offsetof(Elf64_Phdr, p_filesz), UINT64_MAX);
	set_u64(phdr(&ci, 2) + offsetof(Elf64_Phdr, p_memsz), UINT64_MAX - DATA_BASE);
	if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
		CHECK(c->truncated);
		CHECK_EQ_U64(c->segments[0].present, 0);
		CHECK_EQ_U64(c->segments[1].filesz, UINT64_MAX - DATA_BASE);
		CHECK_EQ_U64(c->segments[1].present, ci.b.n - ci.seg_data_off[1]);
		CHECK(core_invariants(c, ci.b.n));
		ch_core_close(c);
	}
	free(copy);
	free(ci.b.p);

	/* filesz > memsz is clamped to memsz. */
	build_core(&ci, NULL);
	set_u64(phdr(&ci, 1) + offsetof(Elf64_Phdr, p_memsz), 0x10);
	if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
		CHECK_EQ_U64(c->segments[0].filesz, 0x10);
		CHECK_EQ_U64(c->segments[0].present, 0x10);
		ch_core_close(c);
	}
	free(copy);
	free(ci.b.p);

	/* PT_NOTE offset past EOF: no notes, truncated, segments stand. */
	build_core(&ci, NULL);
	set_u64(phdr(&ci, 0) + offsetof(Elf64_Phdr, p_offset), UINT64_MAX - 3);
	if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
		CHECK(c->truncated);
		CHECK_EQ_U64(c->nthreads, 0);
		CHECK_EQ_U64(c->nmappings, 0);
		CHECK_EQ_U64(c->nsegments, 4);
		ch_core_close(c);
	}
	free(copy);
	free(ci.b.p);
}

static void test_core_hostile_notes(void)
{
	struct core_image ci;
	struct ch_core_file *c;
	uint8_t *copy;
	static const uint32_t huge[] = {0xffffffffu, 0xfffffffdu, 0x80000000u, 0x7fffffffu, 0x10000u};

	/* Huge namesz or descsz in the first note: the list ends there. */
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		for (int field = 0; field < 2; field++) {
			build_core(&ci, NULL);
			set_u32(ci.b.p + ci.prstatus1_note + 4 * field, huge[i]);
			if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
				CHECK(c->truncated);
				CHECK_EQ_U64(c->nthreads, 0);
				CHECK_EQ_U64(c->nmappings, 0);
				CHECK(!c->have_psinfo);
				CHECK_EQ_U64(c->nsegments, 4);
				ch_core_close(c);
			}
			free(copy);
			free(ci.b.p);
		}
	}

	/* Huge descsz in the NT_FILE note: earlier notes stand. */
	build_core(&ci, NULL);
	set_u32(ci.b.p + ci.file_note + 4, 0xfffffff0u);
	if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
		CHECK(c->truncated);
		CHECK_EQ_U64(c->nthreads, 1);
		CHECK(c->have_psinfo);
		CHECK_EQ_U64(c->at_phdr, EXE_BASE + 0x40);
		CHECK_EQ_U64(c->nmappings, 0);
		ch_core_close(c);
	}
	free(copy);
	free(ci.b.p);

	/* A note whose name is not "CORE" is skipped and the list goes on. */
	build_core(&ci, NULL);
	memcpy(ci.b.p + ci.prpsinfo_note + 12, "CORX", 4);
	if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
		CHECK(!c->have_psinfo);
		CHECK_EQ_U64(c->nthreads, 2);
		CHECK_EQ_U64(c->nmappings, 3);
		CHECK(!c->truncated);
		ch_core_close(c);
	}
	free(copy);
	free(ci.b.p);

	/* Bogus NT_FILE counts. */
	static const uint64_t counts[] = {UINT64_MAX, UINT64_MAX / 24 + 1, 1ULL << 60, 1000, 5};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		build_core(&ci, NULL);
		set_u64(ci.b.p + ci.file_desc, counts[i]);
		expect_core_error(&ci, CH_ERR_INPUT, "NT_FILE count larger than the note");
	}
	/* A count whose entries fit but leave no room for the names. */
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc, (ci.file_descsz - 16) / 24);
	{
		struct ch_error *err = parse_mutated(&ci, &c, &copy);
		CHECK(err == NULL || err->kind == CH_ERR_INPUT);
		if (!err) {
			CHECK(core_invariants(c, ci.b.n));
			ch_core_close(c);
		}
		ch_error_free(err);
		free(copy);
		free(ci.b.p);
	}
	/* Four entries claimed (the fourth overlaps the names): no overread. */
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc, 4);
	{
		struct ch_error *err = parse_mutated(&ci, &c, &copy);
		CHECK(err == NULL || err->kind == CH_ERR_INPUT);
		if (!err) {
			CHECK(core_invariants(c, ci.b.n));
			ch_core_close(c);
		}
		ch_error_free(err);
		free(copy);
		free(ci.b.p);
	}
	/* Zero mappings is fine. */
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc, 0);
	if (CHECK_OK(parse_mutated(&ci, &c, &copy))) {
		CHECK_EQ_U64(c->nmappings, 0);
		ch_core_close(c);
	}
	free(copy);
	free(ci.b.p);
	/* Page size 0, page size absurd, end < start, page offset overflow. */
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc + 8, 0);
	expect_core_error(&ci, CH_ERR_INPUT, "NT_FILE page size 0");
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc + 8, 1ULL << 40);
	expect_core_error(&ci, CH_ERR_INPUT, "NT_FILE page size 2^40");
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc + 16 + 8, EXE_BASE - 1);
	expect_core_error(&ci, CH_ERR_INPUT, "NT_FILE end < start");
	build_core(&ci, NULL);
	set_u64(ci.b.p + ci.file_desc + 16 + 24 + 16, UINT64_MAX / 2);
	expect_core_error(&ci, CH_ERR_INPUT, "NT_FILE page offset overflow");
	/* Names without a terminating NUL. */
	build_core(&ci, NULL);
	memset(ci.b.p + ci.file_desc + 16 + 3 * 24, 'x', ci.file_descsz - 16 - 3 * 24);
	expect_core_error(&ci, CH_ERR_INPUT, "NT_FILE names without NUL");
	/* NT_FILE too short for its header. */
	build_core(&ci, NULL);
	set_u32(ci.b.p + ci.file_note + 4, 8);
	{
		struct ch_error *err = parse_mutated(&ci, &c, &copy);
		CHECK(err != NULL && err->kind == CH_ERR_INPUT);
		if (!err)
			ch_core_close(c);
		ch_error_free(err);
		free(copy);
		free(ci.b.p);
	}
	/* A short NT_PRPSINFO and a short NT_AUXV are ignored, not overread. */
	build_core(&ci, NULL);
	set_u32(ci.b.p + ci.prpsinfo_note + 4, 20);
	{
		struct ch_error *err = parse_mutated(&ci, &c, &copy);
		if (!err) {
			CHECK(!c->have_psinfo);
			ch_core_close(c);
		}
		ch_error_free(err);
		free(copy);
		free(ci.b.p);
	}
}

/* Random byte flips in the note area: whatever happens, no crash and the
 * invariants hold (the interesting part runs under ASan). */
static void test_core_fuzz_notes(void)
{
	struct core_image ci;
	build_core(&ci, NULL);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned long parsed = 0, failed = 0, broken = 0;
	for (int round = 0; round < 3000; round++) {
		uint8_t *copy = exact_copy(ci.b.p, ci.b.n);
		int flips = 1 + round % 4;
		for (int f = 0; f < flips; f++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = ci.notes_off + (size_t)((seed >> 33) % ci.notes_size);
			copy[at] = (uint8_t)(seed >> 17);
		}
		struct ch_core_file *c;
		struct ch_error *err = ch_core_parse(copy, ci.b.n, "fuzz", &c);
		if (err) {
			failed++;
			if (err->kind != CH_ERR_INPUT && err->kind != CH_ERR_UNSUPPORTED)
				broken++;
			ch_error_free(err);
		} else {
			parsed++;
			if (!core_invariants(c, ci.b.n))
				broken++;
			ch_core_close(c);
		}
		free(copy);
	}
	CHECK(parsed > 0);
	CHECK_EQ_U64(broken, 0);
	(void)failed;
	free(ci.b.p);
}

/* Random byte flips anywhere before the memory contents (ELF header,
 * program headers, notes, the fake executable's header page), opened all
 * the way through ch_process_open: modules, build-ids and the address
 * space must cope with whatever the headers claim. */
static void test_process_fuzz(void)
{
	struct core_image ci;
	build_core(&ci, NULL);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/fuzz.core", tmp_dir);
	uint64_t seed = 0x1234567;
	size_t span = ci.seg_data_off[0] + 0x100; /* headers, notes and the exe header page */
	unsigned long opened = 0, bad = 0;
	for (int round = 0; round < 600; round++) {
		uint8_t *copy = exact_copy(ci.b.p, ci.b.n);
		int flips = 1 + round % 6;
		for (int f = 0; f < flips; f++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)((seed >> 33) % span);
			/* mostly the program headers and notes, where the structure is */
			if (round % 3 && at < ci.phoff)
				at += ci.phoff;
			copy[at] = (uint8_t)(seed >> 13);
		}
		write_file(path, copy, ci.b.n);
		struct ch_process *proc;
		struct ch_error *err = ch_process_open(path, NULL, &proc);
		if (!err) {
			opened++;
			for (size_t j = 0; j < proc->nmodules; j++) {
				struct ch_elf_file *ef;
				ch_error_free(ch_process_module_elf(&proc->modules[j], &ef));
			}
			for (size_t i = 0; i < proc->as.nranges; i++) {
				uint64_t v;
				ch_error_free(ch_as_read_u64(&proc->as, proc->as.ranges[i].start, &v));
				ch_error_free(ch_as_read_u64(&proc->as, proc->as.ranges[i].end - 4, &v));
			}
			for (size_t i = 0; i + 1 < proc->as.nranges; i++)
				bad += proc->as.ranges[i].end > proc->as.ranges[i + 1].start;
			ch_process_close(proc);
		} else if (err->kind != CH_ERR_INPUT && err->kind != CH_ERR_UNSUPPORTED) {
			bad++;
			fprintf(stderr, "  fuzz round %d: unexpected error kind %d: %s\n", round, (int)err->kind,
				err->message);
		}
		ch_error_free(err);
		free(copy);
	}
	unlink(path);
	CHECK(opened > 0);
	CHECK_EQ_U64(bad, 0);
	free(ci.b.p);
}

/* ------------------------------------------------------------------ */
/* ch_process_open on hand-made cores                                  */

static void test_process_missing_files(void)
{
	struct core_image ci;
	build_core(&ci, NULL);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/missing.core", tmp_dir);
	write_file(path, ci.b.p, ci.b.n);
	struct ch_process *proc;
	if (CHECK_OK(ch_process_open(path, NULL, &proc))) {
		CHECK_EQ_U64(proc->nmodules, 2); /* the executable and libfoo */
		struct ch_module *exe = ch_process_main_module(proc);
		if (CHECK(exe != NULL)) {
			CHECK_STR(exe->path, EXE_PATH);
			CHECK_EQ_U64(exe->status, CH_MODULE_MISSING);
			CHECK_EQ_U64(exe->core_build_id_len, sizeof(fake_build_id));
			CHECK(memcmp(exe->core_build_id, fake_build_id, sizeof(fake_build_id)) == 0);
			struct ch_elf_file *ef;
			struct ch_error *err = ch_process_module_elf(exe, &ef);
			CHECK(err && err->kind == CH_ERR_INPUT && strstr(err->message, "--exe") &&
			      strstr(err->message, "--sysroot") && strstr(err->message, EXE_PATH));
			ch_error_free(err);
		}
		struct ch_module *lib = ch_process_find_module(proc, "libfoo");
		if (CHECK(lib != NULL)) {
			CHECK(!lib->is_main);
			CHECK_EQ_U64(lib->start, LIB_BASE);
			CHECK_EQ_U64(lib->end, LIB_BASE + 0x2000);
			CHECK_EQ_U64(lib->status, CH_MODULE_MISSING);
			CHECK_EQ_U64(lib->core_build_id_len, 0); /* its header page was not dumped */
		}
		CHECK(ch_process_find_module(proc, "libbar") == NULL);
		/* Dumped bytes read, undumped ones fault. */
		char s[64];
		bool trunc;
		CHECK_OK(ch_as_read_cstr(&proc->as, DATA_BASE + 0x40, s, sizeof(s), &trunc));
		CHECK_STR(s, DATA_STR);
		uint64_t v;
		CHECK_ERR(ch_as_read_u64(&proc->as, LIB_BASE + 8, &v), CH_ERR_FAULT);
		CHECK_ERR(ch_as_read_u64(&proc->as, STACK_BASE + 0x80, &v), CH_ERR_FAULT);
		CHECK_OK(ch_as_read_u64(&proc->as, STACK_BASE + 0x78, &v));
		CHECK_ERR(ch_as_read_u64(&proc->as, 0x10, &v), CH_ERR_FAULT);
		ch_process_close(proc);
	}
	/* With a sysroot the disk paths are prefixed (and still missing). */
	struct ch_process_options opts = {.sysroot = tmp_dir};
	if (CHECK_OK(ch_process_open(path, &opts, &proc))) {
		struct ch_module *exe = ch_process_main_module(proc);
		char want[PATH_MAX * 2];
		snprintf(want, sizeof(want), "%s%s", tmp_dir, EXE_PATH);
		if (CHECK(exe != NULL))
			CHECK_STR(exe->disk_path, want);
		ch_process_close(proc);
	}
	unlink(path);
	free(ci.b.p);
}

static char self_exe[PATH_MAX];

static uint8_t *read_whole(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = {0};
	uint8_t tmp[65536];
	size_t got;
	while ((got = fread(tmp, 1, sizeof(tmp), f)) > 0)
		put(&b, tmp, got);
	fclose(f);
	*n = b.n;
	return b.p;
}

/* A core whose executable mapping is this test binary: the build-id in the
 * dumped header page matches the file, which then backs the undumped part
 * of the mapping; with one byte of the dumped build-id changed, the file is
 * refused with a message naming both ids. */
static void test_process_real_file(void)
{
	size_t exe_size;
	uint8_t *exe = read_whole(self_exe, &exe_size);
	if (!CHECK(exe != NULL && exe_size > 0x4000))
		return;
	struct ch_elf_file *ef;
	if (!CHECK_OK(ch_elf_open(self_exe, &ef))) {
		free(exe);
		return;
	}
	char id_hex[129];
	ch_build_id_hex(ef->build_id, ef->build_id_len, id_hex);
	uint8_t real_id[64];
	size_t real_len = ef->build_id_len;
	memcpy(real_id, ef->build_id, real_len);
	uint64_t base = ch_elf_base_vaddr(ef);
	ch_elf_close(ef);

	struct core_opts o = {.exe_path = self_exe, .exe_page = exe, .exe_page_size = 0x1000, .exe_map_size = 0x4000};
	struct core_image ci;
	build_core(&ci, &o);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/self.core", tmp_dir);
	write_file(path, ci.b.p, ci.b.n);
	struct ch_process *proc;
	if (CHECK_OK(ch_process_open(path, NULL, &proc))) {
		struct ch_module *m = ch_process_main_module(proc);
		if (CHECK(m != NULL)) {
			CHECK_EQ_U64(m->status, CH_MODULE_OK);
			CHECK_EQ_U64(m->bias, EXE_BASE - base);
			char core_hex[129];
			ch_build_id_hex(m->core_build_id, m->core_build_id_len, core_hex);
			CHECK_STR(core_hex, id_hex);
			struct ch_elf_file *mef;
			CHECK_OK(ch_process_module_elf(m, &mef));
			/* Bytes past the dumped page come from the file. */
			uint8_t got[16];
			CHECK_OK(ch_as_read(&proc->as, EXE_BASE + 0x2000, got, sizeof(got)));
			CHECK(memcmp(got, exe + 0x2000, sizeof(got)) == 0);
			/* A read spanning the core page and the file part. */
			CHECK_OK(ch_as_read(&proc->as, EXE_BASE + 0xff8, got, sizeof(got)));
			CHECK(memcmp(got, exe + 0xff8, sizeof(got)) == 0);
			const struct ch_as_range *r = ch_as_find(&proc->as, EXE_BASE + 0x10);
			CHECK(r && r->source == CH_AS_CORE);
			r = ch_as_find(&proc->as, EXE_BASE + 0x1010);
			CHECK(r && r->source == CH_AS_FILE);
		}
		ch_process_close(proc);
	}
	unlink(path);

	/* The same core cut in the middle of the dumped page: the lost half was
	 * dumped (the process may have changed it), so it must be unreadable,
	 * not silently replaced by the file's bytes; the part the kernel never
	 * dumped is still backed by the file. */
	write_file(path, ci.b.p, ci.seg_data_off[0] + 0x800);
	if (CHECK_OK(ch_process_open(path, NULL, &proc))) {
		CHECK(proc->core->truncated);
		struct ch_module *m = ch_process_main_module(proc);
		if (CHECK(m != NULL))
			CHECK_EQ_U64(m->status, CH_MODULE_OK);
		uint8_t got[16];
		CHECK_OK(ch_as_read(&proc->as, EXE_BASE + 0x7f0, got, sizeof(got) / 2));
		CHECK_ERR(ch_as_read(&proc->as, EXE_BASE + 0x7f8, got, sizeof(got)), CH_ERR_FAULT);
		CHECK_ERR(ch_as_read(&proc->as, EXE_BASE + 0xc00, got, 8), CH_ERR_FAULT);
		const struct ch_as_range *r = ch_as_find(&proc->as, EXE_BASE + 0x900);
		CHECK(r && r->data == NULL);
		CHECK_OK(ch_as_read(&proc->as, EXE_BASE + 0x2000, got, sizeof(got)));
		CHECK(memcmp(got, exe + 0x2000, sizeof(got)) == 0);
		ch_process_close(proc);
	}
	unlink(path);

	/* Flip one byte of the dumped build-id. */
	const uint8_t *id = NULL;
	size_t idlen = 0;
	uint8_t *page = ci.b.p + ci.seg_data_off[0];
	for (size_t off = 0; off + 4 <= 0x1000; off += 4) {
		if (ch_notes_find_build_id(page + off, 0x1000 - off, &id, &idlen) && idlen == real_len &&
		    memcmp(id, real_id, idlen) == 0)
			break;
		id = NULL;
	}
	if (CHECK(id != NULL)) {
		page[(id - page) + idlen - 1] ^= 0x5a;
		char bad_hex[129];
		ch_build_id_hex(id, idlen, bad_hex);
		write_file(path, ci.b.p, ci.b.n);
		if (CHECK_OK(ch_process_open(path, NULL, &proc))) {
			struct ch_module *m = ch_process_main_module(proc);
			if (CHECK(m != NULL)) {
				CHECK_EQ_U64(m->status, CH_MODULE_MISMATCH);
				struct ch_elf_file *mef;
				struct ch_error *err = ch_process_module_elf(m, &mef);
				CHECK(err && err->kind == CH_ERR_INPUT);
				CHECK(err && strstr(err->message, id_hex) && strstr(err->message, bad_hex));
				ch_error_free(err);
				/* The mismatched file does not back memory. */
				uint8_t got[8];
				CHECK_ERR(ch_as_read(&proc->as, EXE_BASE + 0x2000, got, sizeof(got)), CH_ERR_FAULT);
			}
			ch_process_close(proc);
		}
		unlink(path);
	}
	/* --exe overrides the recorded path of the main module; a file that
	 * cannot be it is an error naming both. */
	struct ch_process_options opts = {.exe = "/nonexistent/other-python"};
	write_file(path, ci.b.p, ci.b.n);
	struct ch_error *exe_err = ch_process_open(path, &opts, &proc);
	CHECK(exe_err && exe_err->kind == CH_ERR_INPUT && strstr(exe_err->message, "--exe /nonexistent/other-python") &&
	      strstr(exe_err->message, "executable"));
	if (!exe_err)
		ch_process_close(proc);
	ch_error_free(exe_err);
	unlink(path);
	free(ci.b.p);
	free(exe);
}

/* ------------------------------------------------------------------ */
/* Address space                                                       */

static void test_as_basics(void)
{
	static uint8_t a[0x2000], b[0x3000], c[0x1000];
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)('A' + i % 26);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)('a' + i % 26);
	memset(c, 0, sizeof(c));
	memcpy(c + 0xff0, "0123456789abcdef", 16); /* no NUL at the end */

	struct ch_address_space as;
	ch_as_init(&as);
	CHECK_OK(ch_as_add(&as, 0x10000, 0x12000, a, CH_AS_CORE, true));
	/* Overlaps the first range: only [0x12000, 0x14000) is new. */
	CHECK_OK(ch_as_add(&as, 0x11000, 0x14000, b, CH_AS_FILE, false));
	/* Entirely inside: nothing new. */
	CHECK_OK(ch_as_add(&as, 0x10100, 0x10200, NULL, CH_AS_NONE, false));
	/* A hole [0x14000, 0x15000), then NULL data, then c. */
	CHECK_OK(ch_as_add(&as, 0x15000, 0x16000, NULL, CH_AS_NONE, false));
	CHECK_OK(ch_as_add(&as, 0x16000, 0x17000, c, CH_AS_CORE, false));
	/* Empty and reversed ranges are ignored. */
	CHECK_OK(ch_as_add(&as, 0x20000, 0x20000, a, CH_AS_CORE, false));
	CHECK_OK(ch_as_add(&as, 0x30000, 0x20000, a, CH_AS_CORE, false));

	const struct ch_as_range *r = ch_as_find(&as, 0x10150);
	CHECK(r && r->source == CH_AS_CORE && r->writable && r->start == 0x10000 && r->end == 0x12000);
	r = ch_as_find(&as, 0x11fff);
	CHECK(r && r->source == CH_AS_CORE);
	r = ch_as_find(&as, 0x12000);
	CHECK(r && r->source == CH_AS_FILE && r->start == 0x12000 && r->end == 0x14000 && !r->writable);
	/* The FILE piece starts at b + (0x12000 - 0x11000). */
	CHECK(r && r->data == b + 0x1000);
	r = ch_as_find(&as, 0x13fff);
	CHECK(r && r->source == CH_AS_FILE);
	CHECK(ch_as_find(&as, 0x14000) == NULL);
	CHECK(ch_as_find(&as, 0xffff) == NULL);
	CHECK(ch_as_find(&as, 0) == NULL);
	CHECK(ch_as_find(&as, UINT64_MAX) == NULL);
	r = ch_as_find(&as, 0x15000);
	CHECK(r && r->data == NULL && r->source == CH_AS_NONE);
	CHECK(ch_as_find(&as, 0x20000) == NULL);
	CHECK(ch_as_find(&as, 0x25000) == NULL);
	CHECK_EQ_U64(as.nranges, 4);

	/* Reads. */
	uint8_t out[64];
	CHECK_OK(ch_as_read(&as, 0x10000, out, 16));
	CHECK(memcmp(out, a, 16) == 0);
	/* spanning the two adjacent ranges (core then file) */
	CHECK_OK(ch_as_read(&as, 0x11ff8, out, 16));
	CHECK(memcmp(out, a + 0x1ff8, 8) == 0 && memcmp(out + 8, b + 0x1000, 8) == 0);
	CHECK(ch_as_peek(&as, 0x11ff8, 16) == NULL);
	CHECK(ch_as_peek(&as, 0x11ff8, 8) == a + 0x1ff8);
	CHECK(ch_as_peek(&as, 0x12000, 0x2000) == b + 0x1000);
	CHECK(ch_as_peek(&as, 0x12000, 0x2001) == NULL);
	CHECK(ch_as_peek(&as, 0x12000, SIZE_MAX) == NULL);
	uint64_t v;
	CHECK_OK(ch_as_read_u64(&as, 0x11ffc, &v));
	uint8_t want[8];
	memcpy(want, a + 0x1ffc, 4);
	memcpy(want + 4, b + 0x1000, 4);
	CHECK_EQ_U64(v, get_u64(want));
	uint32_t w;
	CHECK_OK(ch_as_read_u32(&as, 0x11ffe, &w));
	CHECK_OK(ch_as_read(&as, 0x10000, out, 0));
	/* holes and NULL data fault */
	CHECK_ERR(ch_as_read(&as, 0x14000, out, 1), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read(&as, 0x13ff8, out, 16), CH_ERR_FAULT); /* runs into the hole */
	CHECK_ERR(ch_as_read(&as, 0x15000, out, 8), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read(&as, 0x15ff8, out, 16), CH_ERR_FAULT); /* NULL data then data */
	CHECK_ERR(ch_as_read_u64(&as, 0x15ff8, &v), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read_u64(&as, 0x16ffc, &v), CH_ERR_FAULT); /* last 4 bytes then nothing */
	CHECK_ERR(ch_as_read_u32(&as, 0x16ffd, &w), CH_ERR_FAULT);
	CHECK_OK(ch_as_read_u32(&as, 0x16ffc, &w));
	CHECK_ERR(ch_as_read_u64(&as, 0, &v), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read_u64(&as, UINT64_MAX - 3, &v), CH_ERR_FAULT);
	CHECK(ch_as_peek(&as, 0x15000, 1) == NULL);

	/* C strings */
	char s[32];
	bool trunc = true;
	memcpy(a + 0x100, "type_name", 10);
	CHECK_OK(ch_as_read_cstr(&as, 0x10100, s, sizeof(s), &trunc));
	CHECK_STR(s, "type_name");
	CHECK(!trunc);
	/* longer than the buffer: truncated, NUL-terminated, max-1 bytes */
	CHECK_OK(ch_as_read_cstr(&as, 0x10000, s, 8, &trunc));
	CHECK(trunc);
	CHECK_EQ_U64(strlen(s), 7);
	CHECK(memcmp(s, a, 7) == 0);
	/* a string of exactly max-1 bytes fits and is not truncated */
	CHECK_OK(ch_as_read_cstr(&as, 0x10100, s, 10, &trunc));
	CHECK_STR(s, "type_name");
	CHECK(!trunc);
	CHECK_OK(ch_as_read_cstr(&as, 0x10100, s, 9, &trunc));
	CHECK_STR(s, "type_nam");
	CHECK(trunc);
	/* the empty string fits in a 1-byte buffer */
	CHECK_OK(ch_as_read_cstr(&as, 0x10109, s, 1, &trunc));
	CHECK_STR(s, "");
	CHECK(!trunc);
	CHECK_OK(ch_as_read_cstr(&as, 0x10100, s, 1, &trunc));
	CHECK_STR(s, "");
	CHECK(trunc);
	/* max 0 writes nothing */
	s[0] = 'z';
	CHECK_OK(ch_as_read_cstr(&as, 0x10100, s, 0, &trunc));
	CHECK(s[0] == 'z');
	/* truncated may be NULL */
	CHECK_OK(ch_as_read_cstr(&as, 0x10000, s, 8, NULL));
	/* a string that spans the core/file boundary */
	memcpy(a + 0x1ffc, "span", 4);
	b[0x1000] = 'n';
	b[0x1001] = '\0';
	CHECK_OK(ch_as_read_cstr(&as, 0x11ffc, s, sizeof(s), &trunc));
	CHECK_STR(s, "spann");
	CHECK(!trunc);
	/* runs into a hole / into NULL data: a fault, buf still terminated */
	memset(s, 'q', sizeof(s));
	CHECK_ERR(ch_as_read_cstr(&as, 0x16ff0, s, sizeof(s), &trunc), CH_ERR_FAULT);
	CHECK(memchr(s, '\0', sizeof(s)) != NULL);
	CHECK_ERR(ch_as_read_cstr(&as, 0x13ffe, s, sizeof(s), &trunc), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read_cstr(&as, 0x15000, s, sizeof(s), &trunc), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read_cstr(&as, 0x1, s, sizeof(s), &trunc), CH_ERR_FAULT);
	/* but a buffer that fills before the hole is just truncated */
	CHECK_OK(ch_as_read_cstr(&as, 0x16ff0, s, 17, &trunc));
	CHECK(trunc);
	CHECK_STR(s, "0123456789abcdef");

	ch_as_deinit(&as);
	CHECK(as.ranges == NULL && as.nranges == 0);
}

/* Ranges at the top of the address space: nothing wraps. */
static void test_as_wrap(void)
{
	static uint8_t top[0x1000];
	for (size_t i = 0; i < sizeof(top); i++)
		top[i] = (uint8_t)i;
	struct ch_address_space as;
	ch_as_init(&as);
	const uint64_t start = UINT64_MAX - 0xfff; /* [start, UINT64_MAX): 0xfff bytes */
	CHECK_OK(ch_as_add(&as, start, UINT64_MAX, top, CH_AS_CORE, false));
	CHECK_OK(ch_as_add(&as, 0, 0x1000, top, CH_AS_CORE, false));
	/* a range that would wrap is ignored */
	CHECK_OK(ch_as_add(&as, UINT64_MAX - 0x10, 0x10, top, CH_AS_FILE, false));
	CHECK_EQ_U64(as.nranges, 2);
	uint64_t v;
	CHECK_OK(ch_as_read_u64(&as, UINT64_MAX - 8, &v));
	CHECK_ERR(ch_as_read_u64(&as, UINT64_MAX - 7, &v), CH_ERR_FAULT);
	CHECK_ERR(ch_as_read_u64(&as, UINT64_MAX, &v), CH_ERR_FAULT);
	uint8_t buf[32];
	CHECK_ERR(ch_as_read(&as, UINT64_MAX - 4, buf, sizeof(buf)), CH_ERR_FAULT);
	CHECK(ch_as_peek(&as, UINT64_MAX - 4, 8) == NULL);
	CHECK(ch_as_peek(&as, UINT64_MAX - 4, 4) == top + 0xffb);
	CHECK(ch_as_find(&as, UINT64_MAX) == NULL);
	CHECK(ch_as_find(&as, UINT64_MAX - 1) != NULL);
	CHECK(ch_as_find(&as, 0) != NULL);
	char s[64];
	bool trunc;
	/* no NUL before the end of the address space */
	memset(top + 0xf00, 'x', 0xff);
	CHECK_ERR(ch_as_read_cstr(&as, UINT64_MAX - 0x10, s, sizeof(s), &trunc), CH_ERR_FAULT);
	top[0xffe] = '\0';
	CHECK_OK(ch_as_read_cstr(&as, UINT64_MAX - 0x10, s, sizeof(s), &trunc));
	CHECK_EQ_U64(strlen(s), 15);
	ch_as_deinit(&as);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Many random overlapping adds against a byte-level model: each address
 * belongs to the first add that covered it. */
static void test_as_random_overlaps(void)
{
	enum { SPACE = 8192, ADDS = 300, BASE = 0x100000 };
	static uint8_t src[ADDS][SPACE];
	static int owner[SPACE];
	uint64_t seed = 12345;
	unsigned long wrong = 0;
	for (int round = 0; round < 5; round++) {
		struct ch_address_space as;
		ch_as_init(&as);
		for (int i = 0; i < SPACE; i++)
			owner[i] = -1;
		for (int k = 0; k < ADDS; k++) {
			uint64_t s = lcg(&seed) % SPACE, len = 1 + lcg(&seed) % (k % 10 == 0 ? SPACE : 200);
			uint64_t e = s + len > SPACE ? SPACE : s + len;
			bool nul = lcg(&seed) % 5 == 0;
			memset(src[k], k & 0xff, SPACE);
			if (ch_as_add(&as, BASE + s, BASE + e, nul ? NULL : src[k], CH_AS_CORE, k & 1))
				wrong++;
			for (uint64_t a = s; a < e; a++)
				if (owner[a] == -1)
					owner[a] = nul ? -2 - k : k;
			/* interleave lookups so lazy sorting is exercised mid-way */
			if (k % 7 == 0) {
				uint64_t a = lcg(&seed) % SPACE;
				const struct ch_as_range *r = ch_as_find(&as, BASE + a);
				if ((r != NULL) != (owner[a] != -1))
					wrong++;
			}
		}
		for (int a = 0; a < SPACE; a++) {
			const struct ch_as_range *r = ch_as_find(&as, BASE + (uint64_t)a);
			int o = owner[a];
			if (o == -1) {
				wrong += r != NULL;
				continue;
			}
			if (!r) {
				wrong++;
				continue;
			}
			if (o <= -2) {
				wrong += r->data != NULL;
			} else {
				uint8_t byte;
				struct ch_error *e = ch_as_read(&as, BASE + (uint64_t)a, &byte, 1);
				wrong += e != NULL || byte != (uint8_t)(o & 0xff) || r->writable != (bool)(o & 1);
				ch_error_free(e);
			}
		}
		/* sorted and non-overlapping */
		for (size_t i = 0; i + 1 < as.nranges; i++)
			wrong += as.ranges[i].end > as.ranges[i + 1].start || as.ranges[i].start >= as.ranges[i].end;
		ch_as_deinit(&as);
	}
	CHECK_EQ_U64(wrong, 0);
}

/* The per-block range cache (address_space.h): ranges that share a 64 KiB
 * block, blocks that share a cache entry (32 MiB apart), lookups that
 * alternate between them, and ranges added after lookups that sort before
 * the ones already cached (their indexes move): every read still returns
 * the bytes of the range that holds the address, and a hole stays a hole. */
static void test_as_block_cache(void)
{
	static uint8_t a[0x100], b[0x100], c[0x100], d[0x100];
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	memset(c, 0xcc, sizeof(c));
	memset(d, 0xdd, sizeof(d));
	const uint64_t alias = (uint64_t)CH_AS_CACHE << CH_AS_CACHE_SHIFT; /* same cache entry */
	const uint64_t base = 0x7f0000000000ULL;
	struct ch_address_space as;
	ch_as_init(&as);
	CHECK_OK(ch_as_add(&as, base, base + 0x100, a, CH_AS_CORE, true));
	CHECK_OK(ch_as_add(&as, base + 0x200, base + 0x300, b, CH_AS_CORE, true)); /* same block, a hole between */
	CHECK_OK(ch_as_add(&as, base + alias, base + alias + 0x100, c, CH_AS_CORE, true));
	uint64_t v = 0;
	unsigned long wrong = 0;
	for (int round = 0; round < 4; round++) {
		wrong += ch_as_read_u64(&as, base + 8, &v) || v != 0xaaaaaaaaaaaaaaaaULL;
		wrong += ch_as_read_u64(&as, base + alias + 8, &v) || v != 0xccccccccccccccccULL;
		wrong += ch_as_read_u64(&as, base + 0x208, &v) || v != 0xbbbbbbbbbbbbbbbbULL;
		wrong += ch_as_peek(&as, base + 0x100, 8) != NULL; /* the hole */
		wrong += ch_as_peek(&as, base + 0xf8, 16) != NULL; /* runs off a into the hole */
		wrong += ch_as_peek(&as, base + alias + 0x10, 8) != c + 0x10;
		if (round == 1) /* lower than all: every cached index moves */
			CHECK_OK(ch_as_add(&as, base - 0x1000, base - 0xf00, d, CH_AS_CORE, true));
	}
	wrong += ch_as_read_u64(&as, base - 0x1000, &v) || v != 0xddddddddddddddddULL;
	struct ch_error *err = ch_as_read_u64(&as, base + 0x180, &v);
	wrong += err == NULL;
	ch_error_free(err);
	CHECK_EQ_U64(wrong, 0);
	ch_as_deinit(&as);
}

/* ------------------------------------------------------------------ */
/* Chains                                                              */

/* A list of `tail` distinct nodes followed by a loop of `loop` nodes. */
static uint64_t chain_node(size_t i, size_t tail, size_t loop)
{
	if (i >= tail)
		i = tail + (i - tail) % loop;
	return 0x7f0000001000ULL + 0x40 * i;
}

static void test_chain(void)
{
	unsigned long missed = 0, slow = 0, early = 0;
	for (size_t loop = 1; loop <= 50; loop++) {
		for (size_t tail = 0; tail <= 64; tail += (tail < 8 ? 1 : 7)) {
			struct ch_chain c;
			ch_chain_init(&c, 1000000);
			size_t i;
			enum ch_chain_step st = CH_CHAIN_OK;
			for (i = 0; i < 100000 && st == CH_CHAIN_OK; i++)
				st = ch_chain_step(&c, chain_node(i, tail, loop));
			if (st != CH_CHAIN_LOOP) {
				missed++;
				continue;
			}
			size_t steps = i; /* nodes visited, the repeated one included */
			if (steps <= tail + loop)
				early++; /* reported before any node could repeat */
			if (steps > 2 * (tail + loop) + 2 * loop + 2)
				slow++;
		}
	}
	CHECK_EQ_U64(missed, 0);
	CHECK_EQ_U64(early, 0);
	CHECK_EQ_U64(slow, 0);

	/* A long list without a loop is never reported as one. */
	struct ch_chain c;
	ch_chain_init(&c, 1u << 20);
	unsigned long false_loops = 0;
	for (uint64_t i = 0; i < 100000; i++)
		false_loops += ch_chain_step(&c, 0x1000 + 16 * i) != CH_CHAIN_OK;
	CHECK_EQ_U64(false_loops, 0);
	/* Node 0 is a node like any other. */
	ch_chain_init(&c, 10);
	CHECK(ch_chain_step(&c, 0) == CH_CHAIN_OK);
	CHECK(ch_chain_step(&c, 0) == CH_CHAIN_LOOP);

	/* The limit: exactly `limit` nodes pass. */
	for (size_t limit = 0; limit < 40; limit++) {
		ch_chain_init(&c, limit);
		size_t ok = 0;
		enum ch_chain_step st;
		while ((st = ch_chain_step(&c, 0x5000 + 8 * ok)) == CH_CHAIN_OK && ok < 1000)
			ok++;
		CHECK(st == CH_CHAIN_TOO_LONG && ok == limit);
	}
	/* A loop longer than the limit ends on the limit. */
	ch_chain_init(&c, 30);
	enum ch_chain_step st = CH_CHAIN_OK;
	size_t i;
	for (i = 0; i < 1000 && st == CH_CHAIN_OK; i++)
		st = ch_chain_step(&c, chain_node(i, 5, 40));
	CHECK(st == CH_CHAIN_TOO_LONG && i == 31);
}

/* ------------------------------------------------------------------ */
/* ELF files                                                           */

int ch_test_known_global = 0x5eed1234;
int ch_test_other_global = 0x600d;
int ch_test_bss_global;

static void test_elf_self(void)
{
	struct ch_elf_file *ef;
	if (!CHECK_OK(ch_elf_open("/proc/self/exe", &ef)))
		return;
	CHECK(ef->type == ET_DYN || ef->type == ET_EXEC);
	CHECK(ef->nsegments >= 2);

	/* build-id: present, and the same as the .note.gnu.build-id section says */
	CHECK(ef->build_id_len >= 8 && ef->build_id_len <= 64);
	const uint8_t *notes;
	uint64_t addr, size;
	if (CHECK_OK(ch_elf_section(ef, ".note.gnu.build-id", &addr, &size, &notes)) && CHECK(notes != NULL)) {
		const uint8_t *id;
		size_t len;
		CHECK(ch_notes_find_build_id(notes, (size_t)size, &id, &len));
		CHECK(len == ef->build_id_len && memcmp(id, ef->build_id, len) == 0);
	}
	char hex[129], manual[129];
	ch_build_id_hex(ef->build_id, ef->build_id_len, hex);
	for (size_t i = 0; i < ef->build_id_len; i++)
		snprintf(manual + 2 * i, 3, "%02x", ef->build_id[i]);
	manual[2 * ef->build_id_len] = '\0';
	CHECK_STR(hex, manual);
	CHECK_EQ_U64(strlen(hex), 2 * ef->build_id_len);

	/* symbols */
	uint64_t value, symsize, value2;
	if (CHECK_OK(ch_elf_symbol(ef, "ch_test_known_global", &value, &symsize))) {
		CHECK_EQ_U64(symsize, sizeof(int));
		uint64_t bias = (uint64_t)(uintptr_t)&ch_test_known_global - value;
		CHECK_EQ_U64(bias & 0xfff, 0);
		if (CHECK_OK(ch_elf_symbol(ef, "ch_test_other_global", &value2, NULL)))
			CHECK_EQ_U64(value2 + bias, (uint64_t)(uintptr_t)&ch_test_other_global);
		/* initialized data is in the file image */
		const uint8_t *p = ch_elf_vaddr_bytes(ef, value, 4);
		int init = 0;
		if (CHECK(p != NULL))
			memcpy(&init, p, 4);
		CHECK_EQ_U64(init, 0x5eed1234);
		/* .bss is not */
		if (CHECK_OK(ch_elf_symbol(ef, "ch_test_bss_global", &value2, NULL)))
			CHECK(ch_elf_vaddr_bytes(ef, value2, 4) == NULL);
		/* a mapping start minus the base vaddr is the same bias */
		CHECK((bias + ch_elf_base_vaddr(ef)) % 4096 == 0);
	}
	CHECK_ERR(ch_elf_symbol(ef, "ch_test_no_such_symbol_anywhere", &value, NULL), CH_ERR_NOT_FOUND);
	CHECK_ERR(ch_elf_section(ef, ".no_such_section", &addr, &size, &notes), CH_ERR_NOT_FOUND);
	CHECK(ch_elf_vaddr_bytes(ef, UINT64_MAX - 2, 4) == NULL);
	CHECK(ch_elf_vaddr_bytes(ef, 0, SIZE_MAX) == NULL);
	/* .bss has no bytes */
	const uint8_t *bss = (const uint8_t *)1;
	if (CHECK_OK(ch_elf_section(ef, ".bss", &addr, &size, &bss)))
		CHECK(bss == NULL);
	ch_elf_close(ef);

	ch_build_id_hex((const uint8_t *)"\x00\x01\xab\xff", 4, hex);
	CHECK_STR(hex, "0001abff");
	ch_build_id_hex(NULL, 0, hex);
	CHECK_STR(hex, "");
	static uint8_t long_id[70];
	memset(long_id, 0xee, sizeof(long_id));
	ch_build_id_hex(long_id, sizeof(long_id), hex);
	CHECK_EQ_U64(strlen(hex), 128);
}

static void test_elf_open_errors(void)
{
	struct ch_elf_file *ef = (struct ch_elf_file *)1;
	CHECK_ERR(ch_elf_open("/nonexistent/coreheap/file.so", &ef), CH_ERR_NOT_FOUND);
	CHECK(ef == NULL);
	CHECK_ERR(ch_elf_open(tmp_dir, &ef), CH_ERR_INPUT);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/text.so", tmp_dir);
	const char *text = "this is not an ELF file, only some text long enough to have a header\n";
	/* not ELF at all: CH_ERR_UNSUPPORTED (elf_file.h) */
	write_file(path, text, strlen(text));
	CHECK_ERR(ch_elf_open(path, &ef), CH_ERR_UNSUPPORTED);
	write_file(path, "", 0);
	CHECK_ERR(ch_elf_open(path, &ef), CH_ERR_UNSUPPORTED);

	/* A core is an ELF file too; ch_elf_open must cope. */
	struct core_image ci;
	build_core(&ci, NULL);
	write_file(path, ci.b.p, ci.b.n);
	struct ch_error *err = ch_elf_open(path, &ef);
	if (!err) {
		CHECK_EQ_U64(ef->type, ET_CORE);
		ch_elf_close(ef);
	}
	ch_error_free(err);
	free(ci.b.p);

	/* Truncated copies of this binary: an error or a usable file, never a crash. */
	size_t n;
	uint8_t *exe = read_whole(self_exe, &n);
	if (!CHECK(exe != NULL))
		return;
	size_t cuts[] = {0, 4, 63, 64, 65, 100, 0x100, 0x318, 0x1000, 0x4000, n / 3, n / 2, n - 0x100, n - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (cuts[i] > n)
			continue;
		write_file(path, exe, cuts[i]);
		err = ch_elf_open(path, &ef);
		CHECK(err == NULL || err->kind == CH_ERR_INPUT || err->kind == CH_ERR_UNSUPPORTED);
		if (!err) {
			uint64_t v, a, s;
			const uint8_t *bytes;
			ch_error_free(ch_elf_symbol(ef, "ch_test_known_global", &v, NULL));
			ch_error_free(ch_elf_section(ef, ".data", &a, &s, &bytes));
			(void)ch_elf_vaddr_bytes(ef, 0x100, 4);
			ch_elf_close(ef);
		}
		ch_error_free(err);
	}
	/* Wrong machine: an x86_64 header with e_machine changed. */
	uint8_t *copy = exact_copy(exe, n);
	set_u16(copy + offsetof(Elf64_Ehdr, e_machine), EM_PPC64);
	write_file(path, copy, n);
	CHECK_ERR(ch_elf_open(path, &ef), CH_ERR_UNSUPPORTED);
	/* A PT_LOAD whose filesz is absurd (and whose file offset is not its
	 * vaddr): lookups of addresses near the top must not wrap around into
	 * the file (UBSan flags the pointer overflow). */
	memcpy(copy, exe, n);
	Elf64_Ehdr eh;
	memcpy(&eh, copy, sizeof(eh));
	for (size_t i = 0; i < eh.e_phnum; i++) {
		uint8_t *ph = copy + eh.e_phoff + i * eh.e_phentsize;
		if (ph[0] == PT_LOAD) {
			set_u64(ph + offsetof(Elf64_Phdr, p_offset), 0x1000);
			set_u64(ph + offsetof(Elf64_Phdr, p_vaddr), 0);
			set_u64(ph + offsetof(Elf64_Phdr, p_filesz), UINT64_MAX - 0x10);
			set_u64(ph + offsetof(Elf64_Phdr, p_memsz), UINT64_MAX - 0x10);
			break;
		}
	}
	write_file(path, copy, n);
	if (CHECK_OK(ch_elf_open(path, &ef))) {
		const uint8_t *first = ef->data;
		unsigned long wrapped = 0;
		for (uint64_t k = 0; k < 64; k++) {
			uint64_t va = UINT64_MAX - 0x40 * k - 8;
			const uint8_t *p = ch_elf_vaddr_bytes(ef, va, 8);
			wrapped += p != NULL;
			va = UINT64_MAX >> k;
			p = ch_elf_vaddr_bytes(ef, va, 8);
			wrapped += p != NULL && (p < first || p + 8 > first + ef->size);
		}
		CHECK_EQ_U64(wrapped, 0);
		ch_elf_close(ef);
	}
	free(copy);
	free(exe);
	unlink(path);
}

static void put_bid_note(struct buf *b, uint32_t namesz, const char *name, uint32_t descsz, uint32_t type,
			 uint8_t fill)
{
	put_u32(b, namesz);
	put_u32(b, descsz);
	put_u32(b, type);
	put(b, name, namesz);
	put_align(b, 4);
	buf_reserve(b, descsz);
	memset(b->p + b->n, fill, descsz);
	b->n += descsz;
	put_align(b, 4);
}

static bool find_bid_exact(const struct buf *b, size_t n, const uint8_t **id, size_t *len)
{
	uint8_t *copy = exact_copy(b->p, n);
	const uint8_t *got = NULL;
	bool r = ch_notes_find_build_id(copy, n, &got, len);
	if (r && id) {
		/* the id must lie inside the buffer; report it relative to b */
		if (got < copy || got + *len > copy + n)
			r = false;
		*id = b->p + (got - copy);
	}
	free(copy);
	return r;
}

static void test_notes_find_build_id(void)
{
	const uint8_t *id;
	size_t len;
	struct buf b = {0};

	CHECK(!find_bid_exact(&b, 0, &id, &len));
	put_bid_note(&b, 4, "GNU", 20, NT_GNU_BUILD_ID, 0xab);
	CHECK(find_bid_exact(&b, b.n, &id, &len) && len == 20 && id == b.p + 16 && id[0] == 0xab);
	/* every cut of a valid note: found only when whole */
	for (size_t k = 0; k < b.n; k++)
		CHECK(!find_bid_exact(&b, k, &id, &len));
	free(b.p);

	/* after other notes (wrong type, wrong name, wrong namesz) */
	memset(&b, 0, sizeof(b));
	put_bid_note(&b, 4, "GNU", 16, 5 /* NT_GNU_PROPERTY_TYPE_0 */, 0x11);
	put_bid_note(&b, 4, "GNX", 20, NT_GNU_BUILD_ID, 0x22);
	put_bid_note(&b, 5, "GNU\0", 20, NT_GNU_BUILD_ID, 0x33);
	put_bid_note(&b, 0, "", 0, NT_GNU_BUILD_ID, 0);
	size_t good = b.n;
	put_bid_note(&b, 4, "GNU", 8, NT_GNU_BUILD_ID, 0x44);
	CHECK(find_bid_exact(&b, b.n, &id, &len) && len == 8 && id[0] == 0x44 && id == b.p + good + 16);
	free(b.p);

	/* descsz 0 and descsz > 64 are not build-ids */
	memset(&b, 0, sizeof(b));
	put_bid_note(&b, 4, "GNU", 0, NT_GNU_BUILD_ID, 0);
	put_bid_note(&b, 4, "GNU", 65, NT_GNU_BUILD_ID, 0x55);
	CHECK(!find_bid_exact(&b, b.n, &id, &len));
	put_bid_note(&b, 4, "GNU", 64, NT_GNU_BUILD_ID, 0x66);
	CHECK(find_bid_exact(&b, b.n, &id, &len) && len == 64 && id[63] == 0x66);
	free(b.p);

	/* huge namesz / descsz */
	static const uint32_t huge[] = {0xffffffffu, 0xfffffffdu, 0xfffffffcu, 0x80000000u, 1000};
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		for (int field = 0; field < 2; field++) {
			memset(&b, 0, sizeof(b));
			put_bid_note(&b, 4, "GNU", 20, NT_GNU_BUILD_ID, 0x77);
			set_u32(b.p + 4 * field, huge[i]);
			CHECK(!find_bid_exact(&b, b.n, &id, &len));
			free(b.p);
		}
	}
	/* a note header cut short, and garbage */
	uint8_t junk[11] = {4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0};
	CHECK(!ch_notes_find_build_id(junk, sizeof(junk), &id, &len));
	uint64_t seed = 99;
	unsigned long outside = 0;
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(lcg(&seed) % 80);
		memset(&b, 0, sizeof(b));
		buf_reserve(&b, n);
		for (size_t k = 0; k < n; k++)
			b.p[k] = (uint8_t)(k % 12 < 4 ? lcg(&seed) % 24 : lcg(&seed));
		b.n = n;
		if (n >= 12 && round % 3 == 0)
			set_u32(b.p + 8, NT_GNU_BUILD_ID);
		/* find_bid_exact checks that a found id lies inside the buffer */
		if (find_bid_exact(&b, n, &id, &len) && (len == 0 || len > 64))
			outside++;
		free(b.p);
	}
	CHECK_EQ_U64(outside, 0);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	ssize_t l = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (l <= 0) {
		fprintf(stderr, "test_readers: cannot read /proc/self/exe\n");
		return 2;
	}
	self_exe[l] = '\0';
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/coreheap-test-readers-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp_dir)) {
		fprintf(stderr, "test_readers: mkdtemp: %s\n", strerror(errno));
		return 2;
	}

	test_core_good();
	test_core_truncated_everywhere();
	test_core_hostile_headers();
	test_core_hostile_segments();
	test_core_hostile_notes();
	test_core_fuzz_notes();
	test_process_missing_files();
	test_process_fuzz();
	test_process_real_file();
	test_as_basics();
	test_as_wrap();
	test_as_random_overlaps();
	test_as_block_cache();
	test_chain();
	test_elf_self();
	test_elf_open_errors();
	test_notes_find_build_id();

	rmdir(tmp_dir);
	return CHECK_SUMMARY("test_readers");
}
