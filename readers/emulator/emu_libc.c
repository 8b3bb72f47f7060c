/* C library string functions answered by the host (see enum
 * ch_emu_libc_fn): found through the process's relocations, computed from
 * the same read-only bytes the emulated code would have read.
 *
 * Finding them: a module calls memcmp through its GOT (a JUMP_SLOT entry
 * for calls through the PLT, GLOB_DAT for -fno-plt); the dumped GOT holds
 * the address the dynamic linker chose (the AVX2 variant), or, before a
 * lazy binding, the module's own PLT stub: either way the address the
 * code jumps to. Only modules whose file matched its build-id are read. */
#include "readers/emulator/emu_internal.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "readers/process/process.h"

#define CH_EMU_SCAN_MAX (1u << 20) /* bytes a builtin may scan */

static const struct {
	const char *name;
	uint8_t fn;
} libc_names[] = {
	{"memcmp", CH_EMU_MEMCMP},   {"bcmp", CH_EMU_MEMCMP},         {"__memcmpeq", CH_EMU_MEMCMP},
	{"strcmp", CH_EMU_STRCMP},   {"strncmp", CH_EMU_STRNCMP},     {"strlen", CH_EMU_STRLEN},
	{"strnlen", CH_EMU_STRNLEN}, {"strchr", CH_EMU_STRCHR},       {"strchrnul", CH_EMU_STRCHRNUL},
	{"strrchr", CH_EMU_STRRCHR}, {"memchr", CH_EMU_MEMCHR},       {"rawmemchr", CH_EMU_RAWMEMCHR},
};

static int libc_fn(const char *name)
{
	for (size_t i = 0; i < sizeof(libc_names) / sizeof(libc_names[0]); i++)
		if (strcmp(name, libc_names[i].name) == 0)
			return libc_names[i].fn;
	return -1;
}

static struct ch_error *add_builtin(struct ch_emu_builtin **v, size_t *n, size_t *cap, uint64_t addr, uint8_t fn)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].addr == addr)
			return NULL;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct ch_emu_builtin *p = realloc(*v, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		*v = p;
		*cap = ncap;
	}
	(*v)[*n].addr = addr;
	(*v)[*n].fn = fn;
	(*n)++;
	return NULL;
}

static struct ch_error *scan_relocations(struct ch_process *proc, struct ch_module *mod, const char *section,
					 struct ch_emu_builtin **v, size_t *n, size_t *cap)
{
	struct ch_elf_file *ef = mod->elf;
	uint64_t a, rsz, ssz, strsz;
	const uint8_t *rela, *syms, *strs;
	struct ch_error *err = ch_elf_section(ef, section, &a, &rsz, &rela);
	if (!err)
		err = ch_elf_section(ef, ".dynsym", &a, &ssz, &syms);
	if (!err)
		err = ch_elf_section(ef, ".dynstr", &a, &strsz, &strs);
	if (err) {
		/* An absent section: nothing of this kind to find. */
		ch_error_free(err);
		return NULL;
	}
	if (!rela || !syms || !strs)
		return NULL;
	for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= rsz; off += sizeof(Elf64_Rela)) {
		Elf64_Rela r;
		memcpy(&r, rela + off, sizeof(r));
		uint32_t type = (uint32_t)ELF64_R_TYPE(r.r_info), si = (uint32_t)ELF64_R_SYM(r.r_info);
		if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !si ||
		    (uint64_t)(si + 1) * sizeof(Elf64_Sym) > ssz)
			continue;
		Elf64_Sym s;
		memcpy(&s, syms + (uint64_t)si * sizeof(Elf64_Sym), sizeof(s));
		if (s.st_name >= strsz || !memchr(strs + s.st_name, 0, strsz - s.st_name))
			continue;
		int fn = libc_fn((const char *)strs + s.st_name);
		uint64_t target;
		if (fn < 0)
			continue;
		err = ch_as_read_u64(&proc->as, r.r_offset + mod->bias, &target);
		if (err) {
			ch_error_free(err);
			continue;
		}
		if (target && (err = add_builtin(v, n, cap, target, (uint8_t)fn)))
			return err;
	}
	return NULL;
}

struct ch_error *ch_emu_find_builtins(struct ch_process *proc, struct ch_emu_builtin **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	for (size_t j = 0; j < proc->nmodules; j++) {
		struct ch_module *mod = &proc->modules[j];
		if (mod->status != CH_MODULE_OK)
			continue;
		struct ch_error *err = scan_relocations(proc, mod, ".rela.plt", out, n, &cap);
		if (!err)
			err = scan_relocations(proc, mod, ".rela.dyn", out, n, &cap);
		if (err) {
			free(*out);
			*out = NULL;
			*n = 0;
			return err;
		}
	}
	return NULL;
}

/* One byte the emulated code could read: the synthetic stack from the
 * engine, anything else from the address space. */
static bool read_byte(struct ch_emu *emu, uint64_t a, uint8_t *b)
{
	const uint8_t *p = ch_emu_stack_at(emu, a, 1);
	if (!p && a >= emu->synth && a - emu->synth < 3 * CH_EMU_PAGE + CH_EMU_STACK)
		return false; /* the stub page or a guard page: not data */
	if (!p)
		p = ch_as_peek(emu->as, a, 1);
	if (!p)
		return false;
	*b = *p;
	return true;
}

/* The result of fn, or false with *bad the address that could not be read. */
static bool compute(struct ch_emu *emu, uint8_t fn, uint64_t a, uint64_t b, uint64_t n, uint64_t *res, uint64_t *bad)
{
	uint8_t x = 0, y = 0;
	uint64_t last = 0;
	bool found = false;
	const uint8_t c = (uint8_t)b;
	const bool bounded = fn == CH_EMU_MEMCMP || fn == CH_EMU_STRNCMP || fn == CH_EMU_STRNLEN || fn == CH_EMU_MEMCHR;
	for (uint64_t i = 0; i < CH_EMU_SCAN_MAX; i++) {
		if (bounded && i >= n) {
			*res = fn == CH_EMU_STRNLEN ? n : 0;
			return true;
		}
		if (!read_byte(emu, a + i, &x)) {
			*bad = a + i;
			return false;
		}
		switch (fn) {
		case CH_EMU_MEMCMP:
		case CH_EMU_STRCMP:
		case CH_EMU_STRNCMP:
			if (!read_byte(emu, b + i, &y)) {
				*bad = b + i;
				return false;
			}
			if (x != y || (fn != CH_EMU_MEMCMP && x == 0)) {
				*res = (uint64_t)(int64_t)((int)x - (int)y);
				return true;
			}
			break;
		case CH_EMU_STRLEN:
		case CH_EMU_STRNLEN:
			if (x == 0) {
				*res = i;
				return true;
			}
			break;
		case CH_EMU_STRCHR:
		case CH_EMU_STRCHRNUL:
		case CH_EMU_MEMCHR:
		case CH_EMU_RAWMEMCHR:
			if (x == c || (x == 0 && fn == CH_EMU_STRCHRNUL)) {
				*res = a + i;
				return true;
			}
			if (x == 0 && fn == CH_EMU_STRCHR) {
				*res = 0;
				return true;
			}
			break;
		case CH_EMU_STRRCHR:
			if (x == c) {
				last = a + i;
				found = true;
			}
			if (x == 0) {
				*res = found ? last : 0;
				return true;
			}
			break;
		default:
			*bad = a;
			return false;
		}
	}
	*bad = a + CH_EMU_SCAN_MAX;
	return false;
}

void ch_emu_on_builtin(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	(void)size;
	struct ch_emu *emu = ud;
	int fn = -1;
	for (size_t i = 0; i < emu->nbuiltins && fn < 0; i++)
		if (emu->builtins[i].addr == addr)
			fn = emu->builtins[i].fn;
	uint64_t rdi = 0, rsi = 0, rdx = 0, rsp = 0, ret = 0, res = 0, bad = 0;
	uc_reg_read(uc, UC_X86_REG_RDI, &rdi);
	uc_reg_read(uc, UC_X86_REG_RSI, &rsi);
	uc_reg_read(uc, UC_X86_REG_RDX, &rdx);
	uc_reg_read(uc, UC_X86_REG_RSP, &rsp);
	if (fn < 0 || !compute(emu, (uint8_t)fn, rdi, rsi, rdx, &res, &bad)) {
		ch_emu_stop(emu, CH_EMU_UNREADABLE, bad);
		return;
	}
	const uint8_t *top = ch_emu_stack_at(emu, rsp, 8);
	if (!top) {
		ch_emu_stop(emu, CH_EMU_UNREADABLE, rsp);
		return;
	}
	memcpy(&ret, top, 8);
	rsp += 8;
	uc_reg_write(uc, UC_X86_REG_RAX, &res);
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(uc, UC_X86_REG_RIP, &ret);
}
