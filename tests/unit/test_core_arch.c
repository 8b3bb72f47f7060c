/* Unit tests of the per-machine parts of a core (readers/process/core_arch.h):
 * an aarch64 core built in memory with the kernel's layouts (392-byte
 * NT_PRSTATUS with user_pt_regs, NT_ARM_TLS and NT_ARM_PAC_MASK after its
 * thread's prstatus),
 * its registers as ch_core_parse reads them, every truncation of it, and
 * the machine tables' own consistency. The images are heap copies of their
 * exact size so that ASan sees any read past the end. */
#include <elf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "readers/process/core_arch.h"
#include "readers/process/core_file.h"

enum {
	PRSTATUS_SIZE = 392, /* aarch64: 112 + 34 * 8 + 8 */
	PRSTATUS_REGS = 112,
	NOTE_PRSTATUS = 12 + 8 + PRSTATUS_SIZE,
	NOTE_TLS = 12 + 8 + 16,
	NOTE_PAC = 12 + 8 + 16,
	NOTES = 2 * NOTE_PRSTATUS + NOTE_TLS + NOTE_PAC,
	NOTES_AT = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr),
	LOAD_AT = (NOTES_AT + NOTES + 15) / 16 * 16,
	LOAD_SIZE = 64,
	IMAGE = LOAD_AT + LOAD_SIZE,
};

#define TID1 4242
#define TID2 4243
#define SP1 0x7ffffff000ULL
#define PC1 0x5500801234ULL
#define FP1 0x7ffffff080ULL
#define LR1 0x5500805678ULL
#define TLS1 0x7fb7ff0740ULL
#define PAC1 0x007f000000000000ULL /* insn_mask of a 48-bit VA kernel with TBI for data only */

static void set_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void set_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void set_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A note at p: header, name padded to 8, then desc (filled by the caller). */
static uint8_t *note(uint8_t *p, const char *name, uint32_t type, uint32_t descsz)
{
	set_u32(p, (uint32_t)strlen(name) + 1);
	set_u32(p + 4, descsz);
	set_u32(p + 8, type);
	memcpy(p + 12, name, strlen(name) + 1);
	return p + 20;
}

static void build(uint8_t *img)
{
	memset(img, 0, IMAGE);
	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_AARCH64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	memcpy(img, &eh, sizeof(eh));
	Elf64_Phdr ph[2] = {{0}};
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = NOTES_AT;
	ph[0].p_filesz = NOTES;
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W;
	ph[1].p_offset = LOAD_AT;
	ph[1].p_vaddr = SP1 - 32;
	ph[1].p_filesz = ph[1].p_memsz = LOAD_SIZE;
	memcpy(img + sizeof(eh), ph, sizeof(ph));

	uint8_t *p = img + NOTES_AT;
	uint8_t *d = note(p, "CORE", NT_PRSTATUS, PRSTATUS_SIZE);
	set_u16(d + 12, SIGABRT);
	set_u32(d + 32, TID1);
	for (int i = 0; i < 29; i++)
		set_u64(d + PRSTATUS_REGS + 8 * i, 0x1000 + (uint64_t)i); /* x0-x28 */
	set_u64(d + PRSTATUS_REGS + 8 * 29, FP1);
	set_u64(d + PRSTATUS_REGS + 8 * 30, LR1);
	set_u64(d + PRSTATUS_REGS + 8 * 31, SP1);
	set_u64(d + PRSTATUS_REGS + 8 * 32, PC1);
	set_u64(d + PRSTATUS_REGS + 8 * 33, 0x60000000); /* pstate */
	p += NOTE_PRSTATUS;
	d = note(p, "LINUX", 0x401 /* NT_ARM_TLS */, 16);
	set_u64(d, TLS1);
	p += NOTE_TLS;
	d = note(p, "LINUX", 0x406 /* NT_ARM_PAC_MASK */, 16);
	set_u64(d, 0x00ff000000000000ULL); /* data_mask */
	set_u64(d + 8, PAC1);              /* insn_mask */
	p += NOTE_PAC;
	/* A second thread whose NT_ARM_TLS is missing (as in qemu-user cores). */
	d = note(p, "CORE", NT_PRSTATUS, PRSTATUS_SIZE);
	set_u32(d + 32, TID2);
	set_u64(d + PRSTATUS_REGS + 8 * 31, SP1 + 8);
}

static void test_aarch64_core(void)
{
	uint8_t *img = malloc(IMAGE);
	if (!CHECK(img != NULL))
		return;
	build(img);
	struct ch_core_file *c = NULL;
	if (CHECK_OK(ch_core_parse(img, IMAGE, "arm64-core", &c))) {
		CHECK_STR(c->arch->name, "aarch64");
		CHECK_EQ_U64(c->nthreads, 2);
		CHECK_EQ_U64(c->nsegments, 1);
		if (c->nthreads == 2) {
			const struct ch_core_thread *t = &c->threads[0];
			CHECK_EQ_U64(t->tid, TID1);
			CHECK_EQ_U64(t->cursig, SIGABRT);
			CHECK_EQ_U64(t->pc, PC1);
			CHECK_EQ_U64(t->sp, SP1);
			CHECK_EQ_U64(t->fp, FP1);
			CHECK_EQ_U64(t->tp, TLS1);
			CHECK_EQ_U64(t->nregs, 34);
			CHECK_EQ_U64(t->regs[0], 0x1000);
			CHECK_EQ_U64(t->regs[30], LR1);
			CHECK_EQ_U64(c->threads[1].tid, TID2);
			CHECK_EQ_U64(c->threads[1].sp, SP1 + 8);
			CHECK_EQ_U64(c->threads[1].tp, 0);
			CHECK_EQ_U64(t->pac_mask, PAC1);
			CHECK_EQ_U64(c->threads[1].pac_mask, c->arch->default_pac_mask);
			CHECK(c->arch->default_pac_mask != 0);
		}
		ch_core_close(c);
	}

	/* Every truncation: an error or a core, never a read past the end. */
	for (size_t n = 0; n < IMAGE; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		if (!cut)
			break;
		memcpy(cut, img, n);
		c = NULL;
		struct ch_error *err = ch_core_parse(cut, n, "cut", &c);
		if (!err && n > NOTES_AT && n < NOTES_AT + NOTES)
			CHECK(c->notes_cut);
		ch_error_free(err);
		ch_core_close(c);
		free(cut);
	}

	/* A prstatus of x86_64's size in an aarch64 core: refused by name. */
	set_u32(img + NOTES_AT + 4, 336);
	c = NULL;
	struct ch_error *err = ch_core_parse(img, IMAGE, "short", &c);
	CHECK(err && err->kind == CH_ERR_INPUT && strstr(err->message, "392") && strstr(err->message, "aarch64"));
	ch_error_free(err);
	ch_core_close(c);

	/* An unsupported machine is named. */
	build(img);
	set_u16(img + offsetof(Elf64_Ehdr, e_machine), EM_RISCV);
	c = NULL;
	err = ch_core_parse(img, IMAGE, "riscv", &c);
	CHECK(err && err->kind == CH_ERR_UNSUPPORTED && strstr(err->message, "riscv"));
	ch_error_free(err);
	ch_core_close(c);
	free(img);
}

/* The tables agree with themselves: the DWARF map names the stack pointer
 * where the prstatus index does, and every index is inside pr_reg. */
static void test_tables(void)
{
	const struct ch_core_arch *x = ch_core_arch_find(EM_X86_64), *a = ch_core_arch_find(EM_AARCH64);
	if (!CHECK(x && a))
		return;
	CHECK(ch_core_arch_find(EM_386) == NULL);
	CHECK_EQ_U64(x->dwarf[7], x->sp);  /* DWARF 7 is rsp */
	CHECK_EQ_U64(x->dwarf[16], x->pc); /* DWARF 16 is the return address column (rip) */
	CHECK_EQ_U64(a->dwarf[31], a->sp); /* DWARF 31 is sp */
	CHECK_EQ_U64(a->dwarf[29], a->fp);
	const struct ch_core_arch *all[] = {x, a};
	for (size_t k = 0; k < 2; k++) {
		const struct ch_core_arch *m = all[k];
		CHECK(m->nregs <= CH_CORE_NREGS && m->ndwarf <= CH_CORE_NREGS);
		CHECK_EQ_U64(m->prstatus_size, PRSTATUS_REGS + 8u * m->nregs + 8);
		CHECK(m->pc < m->nregs && m->sp < m->nregs && m->fp < m->nregs);
		CHECK(m->tp == CH_CORE_NO_REG || m->tp < m->nregs);
		for (size_t i = 0; i < m->ndwarf; i++)
			CHECK(m->dwarf[i] < m->nregs);
	}
	char buf[32];
	CHECK_STR(ch_core_machine_name(EM_AARCH64, buf, sizeof(buf)), "aarch64");
	CHECK_STR(ch_core_machine_name(4242, buf, sizeof(buf)), "machine 4242");
}

int main(void)
{
	test_aarch64_core();
	test_tables();
	return CHECK_SUMMARY("test_core_arch");
}
