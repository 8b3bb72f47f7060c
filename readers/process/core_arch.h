/* The machines whose cores coreheap reads, and what differs between them in
 * a core: the register set in NT_PRSTATUS (struct elf_prstatus ends in the
 * architecture's user_regs_struct / user_pt_regs), which of those registers
 * are the program counter, stack pointer, frame pointer and thread pointer,
 * and the DWARF register numbering unwinders use. Everything else in a core
 * (the notes' other fields, auxv, PT_LOAD) is the same on both: LP64
 * little-endian ELF64 Linux.
 *
 * These are kernel and psABI constants, fixed since each port, so they are
 * tables here, not DWARF. */
#ifndef CH_CORE_ARCH_H
#define CH_CORE_ARCH_H

#include <stdint.h>

/* The most general registers of any machine below (aarch64: x0-x30, sp,
 * pc, pstate). */
#define CH_CORE_NREGS 34

/* A register index meaning "not among the prstatus registers". */
#define CH_CORE_NO_REG 0xff

struct ch_core_arch {
	uint16_t machine;      /* e_machine: EM_X86_64, EM_AARCH64 */
	const char *name;      /* "x86_64", "aarch64" */
	uint32_t prstatus_size; /* sizeof(struct elf_prstatus) */
	uint8_t nregs;         /* registers in pr_reg, each 8 bytes */
	uint8_t pc, sp, fp;    /* their indexes in pr_reg */
	uint8_t tp;            /* thread pointer's index, or CH_CORE_NO_REG (aarch64: NT_ARM_TLS note) */
	uint8_t ndwarf;        /* DWARF registers 0..ndwarf-1 are in pr_reg ... */
	const uint8_t *dwarf;  /* ... at these indexes */
	/* The bits of a code address that can hold a pointer authentication
	 * code when the core has no NT_ARM_PAC_MASK (qemu-user's have none):
	 * aarch64 user addresses are below 2^48 with 4 KiB pages and 48-bit
	 * VAs, Linux's default; 0 on machines without it. */
	uint64_t default_pac_mask;
};

/* The description of machine e_machine, or NULL when coreheap cannot read
 * its cores. */
const struct ch_core_arch *ch_core_arch_find(uint16_t machine);

/* The name of any e_machine value, for messages ("machine 40"); into buf. */
const char *ch_core_machine_name(uint16_t machine, char *buf, unsigned size);

#endif
