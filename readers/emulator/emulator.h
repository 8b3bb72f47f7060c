/* A sandbox that runs a dumped process's own machine code, one function
 * call at a time, over the core's memory: coreheap uses it to call a type's
 * tp_traverse(obj, visit, arg) with a stub `visit` that records each
 * argument and returns 0, so the references of a C type nobody modelled
 * come from the code that defines them (x86_64 only, Unicorn 2).
 *
 * What it does: maps memory lazily (on the first access to it), read-only,
 * from the address space (core bytes, else the bytes of the checked file
 * the process had mapped); runs many calls per engine start; reports per
 * call the visited pointers or why the call failed. What it does not do:
 * decide whether a visited pointer is an object (the caller validates every
 * one), emulate system calls, I/O, interrupts or anything the process
 * would have asked of the kernel, or any instruction Unicorn cannot
 * (AVX2 among them): those stop the call.
 *
 * Invariant (a hostile core can make a call fail, never make coreheap
 * hang, write outside the sandbox or run outside it): code runs only from
 * regions marked executable, which the process layer grants only to
 * executable file-backed mappings whose file matched the dumped build-id,
 * plus the sandbox's own stub page; nothing is writable except the
 * synthetic stack; every call is bounded by a basic-block budget and a
 * visit cap, and the bytes mapped are capped; a call succeeds only when
 * its `ret` lands on the return address the sandbox pushed, with the stack
 * balanced and 0 returned. */
#ifndef CH_EMULATOR_H
#define CH_EMULATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/process/address_space.h"

struct ch_process;

/* A readable piece of the process: bytes come from the address space;
 * `exec` only for code the process layer vouches for (see emu_process.c). */
struct ch_emu_region {
	uint64_t start, end; /* page-aligned, [start, end) */
	bool exec;
};

/* Pure, read-only C library functions the sandbox answers itself instead of
 * running their code: the C library picks AVX2/EVEX variants at load time
 * (IFUNC), which the emulator cannot run, and CPython's traverses reach a
 * few of them (memcmp in structseq, strcmp in capsules). Each is keyed by
 * the address the process resolved it to (its GOT entry in the core). */
enum ch_emu_libc_fn {
	CH_EMU_MEMCMP, CH_EMU_STRCMP, CH_EMU_STRNCMP, CH_EMU_STRLEN, CH_EMU_STRNLEN,
	CH_EMU_STRCHR, CH_EMU_STRCHRNUL, CH_EMU_STRRCHR, CH_EMU_MEMCHR, CH_EMU_RAWMEMCHR,
	CH_EMU_LIBC_COUNT
};
struct ch_emu_builtin {
	uint64_t addr;
	uint8_t fn; /* enum ch_emu_libc_fn */
};

struct ch_emu_config {
	struct ch_address_space *as;
	const struct ch_emu_region *regions; /* copied; need not be sorted; overlapping ones are dropped */
	size_t nregions;
	uint64_t fs_base;      /* thread pointer for %fs accesses (stack canary); 0: none */
	uint64_t block_budget; /* basic blocks per call (0: default) */
	uint32_t visit_cap;    /* visits per call (0: default) */
	uint64_t map_cap;      /* bytes mapped at once (0: default); beyond it mappings are dropped between runs */
	uint32_t batch_visits; /* visits kept per ch_emu_run (0: default); calls after that stay CH_EMU_NOT_RUN */
	const struct ch_emu_builtin *builtins; /* copied */
	size_t nbuiltins;
	/* Run the engine in a child process (emu_worker.c), forked at the first
	 * run: Unicorn aborts the process on some damaged code, which must not
	 * end the caller. The child reads its copy of the address space, so
	 * bytes changed behind it afterwards are seen only after ch_emu_forget
	 * (which ends the child). */
	bool isolate;
};

enum ch_emu_status {
	CH_EMU_OK,
	CH_EMU_NOT_RUN,        /* the batch stopped before this call (its visits filled the batch): run it again */
	CH_EMU_UNREADABLE,     /* read of memory the core does not hold (detail: address) */
	CH_EMU_FETCH,          /* fetch from memory that is not vouched-for code (detail: address) */
	CH_EMU_WRITE,          /* a write outside the stack (detail: address) */
	CH_EMU_SYSCALL,        /* syscall / sysenter */
	CH_EMU_INTERRUPT,      /* int n, int3, a CPU exception (detail: vector) */
	CH_EMU_PORT_IO,        /* in / out */
	CH_EMU_INVALID_INSN,   /* an instruction Unicorn does not emulate (detail: address) */
	CH_EMU_BUDGET,         /* block budget exhausted (a loop that does not end) */
	CH_EMU_VISITS,         /* visit cap exceeded */
	CH_EMU_MAP_BUDGET,     /* the mapped-bytes cap was reached within one batch */
	CH_EMU_BAD_RETURN,     /* returned elsewhere, with an unbalanced stack, or non-zero (detail: rax) */
	CH_EMU_ENGINE,         /* Unicorn reported an error it has no better name for (detail: uc_err) */
	CH_EMU_CRASHED,        /* isolate: the engine killed its process on this call (detail: signal; 0 when
				* too many did and no engine runs any more) */
	CH_EMU_STATUS_COUNT
};

/* One call func(arg0, visit_stub, 0). In: func, arg0. Out: the rest; the
 * visited pointers are ch_emu_visits()[first .. first + nvisits), valid
 * until the next ch_emu_run. A failed call has nvisits == 0. */
struct ch_emu_call {
	uint64_t func, arg0;
	uint8_t status;        /* enum ch_emu_status */
	uint64_t detail;       /* see the status */
	uint64_t rip;          /* where a failed call stopped */
	uint32_t first, nvisits;
};

struct ch_emu;

struct ch_error *ch_emu_open(const struct ch_emu_config *cfg, struct ch_emu **out);
void ch_emu_close(struct ch_emu *emu);

/* Run n calls, as many per engine start as go through. Returns an error
 * only when the engine itself fails (calls not run keep CH_EMU_NOT_RUN);
 * a call that misbehaves is a status, not an error. */
struct ch_error *ch_emu_run(struct ch_emu *emu, struct ch_emu_call *calls, size_t n);
const uint64_t *ch_emu_visits(const struct ch_emu *emu);

/* Forget every byte the sandbox copied from the address space (mappings,
 * the code translated from them) and clear its stack: the next run reads
 * memory afresh. For a caller that changes the bytes behind the address
 * space between runs (the fuzz target: one engine, a new input each run);
 * coreheap itself never does. With isolate, ends the child (the next run
 * forks one that sees the bytes as they are). */
void ch_emu_forget(struct ch_emu *emu);

/* "write to 0x7f..12 at 0x7f..a0": a short sentence for a warning. */
void ch_emu_call_describe(const struct ch_emu_call *call, char *buf, size_t n);
const char *ch_emu_status_name(enum ch_emu_status s);

/* Counters since open, for measurements and --verbose. */
struct ch_emu_stats {
	uint64_t calls, failed, starts, blocks, mapped_bytes, mappings, flushes;
};
void ch_emu_get_stats(const struct ch_emu *emu, struct ch_emu_stats *out);

/* The regions of a dumped process (readable PT_LOAD segments; executable
 * where the segment is PF_X and backed by a module whose file matched its
 * build-id) and its first thread's fs_base, then ch_emu_open. */
struct ch_error *ch_emu_open_process(struct ch_process *proc, struct ch_emu **out);

/* The C library functions of enum ch_emu_libc_fn as the process resolved
 * them: every module's JUMP_SLOT / GLOB_DAT relocation naming one, read
 * from the dumped GOT (emu_libc.c). *out is malloc'd. */
struct ch_error *ch_emu_find_builtins(struct ch_process *proc, struct ch_emu_builtin **out, size_t *n);

#endif
