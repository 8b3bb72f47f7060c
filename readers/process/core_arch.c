#include "readers/process/core_arch.h"

#include <elf.h>
#include <stdio.h>

/* x86_64 user_regs_struct: r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8,
 * rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base,
 * gs_base, ds, es, fs, gs. DWARF numbers 0-16 (System V psABI: rax, rdx,
 * rcx, rbx, rsi, rdi, rbp, rsp, r8-r15, rip) as indexes into it. */
static const uint8_t x86_64_dwarf[17] = {10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16};

/* aarch64 user_pt_regs: x0-x30, sp, pc, pstate. DWARF numbers 0-30 are
 * x0-x30 and 31 is sp (AAPCS64 DWARF supplement); the pc has no DWARF
 * number (libdwfl takes it apart). x29 is the frame pointer. */
static const uint8_t aarch64_dwarf[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
					  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* struct elf_prstatus: 112 bytes of common fields (siginfo, cursig,
 * sigpend, sighold, pids, four timevals), pr_reg, then pr_fpvalid padded
 * to 8: 112 + 27 * 8 + 8 = 336 and 112 + 34 * 8 + 8 = 392. */
static const struct ch_core_arch arches[] = {
	{EM_X86_64, "x86_64", 336, 27, 16, 19, 4, 21, 17, x86_64_dwarf, 0},
	{EM_AARCH64, "aarch64", 392, 34, 32, 31, 29, CH_CORE_NO_REG, 32, aarch64_dwarf, 0xffff000000000000ull},
};

const struct ch_core_arch *ch_core_arch_find(uint16_t machine)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (arches[i].machine == machine)
			return &arches[i];
	return NULL;
}

const char *ch_core_machine_name(uint16_t machine, char *buf, unsigned size)
{
	const struct ch_core_arch *a = ch_core_arch_find(machine);
	if (a)
		return a->name;
	switch (machine) {
	case EM_386: return "i386";
	case EM_ARM: return "32-bit arm";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390x";
	case EM_RISCV: return "riscv";
	default: break;
	}
	snprintf(buf, size, "machine %u", machine);
	return buf;
}
