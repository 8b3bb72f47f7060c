/* Shared by emulator.c (engine, hooks, batches) and emu_memory.c (lazy
 * read-only mapping). Not a public interface: use emulator.h. */
#ifndef CH_EMU_INTERNAL_H
#define CH_EMU_INTERNAL_H

#include <unicorn/unicorn.h>

#include "readers/emulator/emulator.h"

#define CH_EMU_PAGE 4096ull
#define CH_EMU_CHUNK (1ull << 20)  /* mapped at once when every page of it is readable */
#define CH_EMU_STACK (1ull << 20)  /* fixed; an overflow faults, it never grows */

/* The synthetic area, at an address no region touches:
 * [stub page][guard][stack ............][guard]. The stub page holds the
 * visit stub, the batch driver and the sentinel; it is R+X, never W. */
enum {
	CH_EMU_OFF_VISIT = 0x00,    /* xor eax,eax ; ret */
	CH_EMU_OFF_DRIVER = 0x10,   /* call rax */
	CH_EMU_OFF_AFTER = 0x12,    /* jmp driver: the host hooks here between calls */
	CH_EMU_OFF_SENTINEL = 0x20, /* hlt: reaching it ends the run */
};

/* One lazily mapped piece, kept so a flush can unmap it. */
struct ch_emu_mapping {
	uint64_t start, size;
};

struct ch_emu {
	uc_engine *uc;
	struct ch_address_space *as;
	struct ch_emu_region *regions; /* sorted, non-overlapping */
	size_t nregions;
	uint64_t fs_base, block_budget, map_cap;
	uint32_t visit_cap, batch_visits;
	uint64_t synth, stack_top;     /* synthetic area base; initial RSP + 8 */
	/* The stack's bytes, mapped as MMIO (callbacks into this buffer):
	 * Unicorn 2.0.1 keeps no dirty-page state, so every store to RAM
	 * checks for translated code to invalidate (page_collection_lock),
	 * which costs more than a callback. */
	uint8_t *stack;
	uint64_t stack_low;            /* lowest offset of stack written since the last forget (CH_EMU_STACK: none) */
	struct ch_emu_mapping *maps;
	size_t nmaps, capmaps;
	uint64_t mapped;               /* bytes currently mapped lazily */
	uint8_t *chunk;                /* CH_EMU_CHUNK bytes of staging */

	/* The batch in progress (valid during ch_emu_run only). */
	struct ch_emu_call *calls;
	size_t ncalls, cur;
	uint64_t blocks;               /* of the current call */
	uint8_t stop;                  /* enum ch_emu_status a hook stopped the call with, or OK */
	uint64_t stop_detail;
	bool finished;                 /* every call returned; the sentinel is next */
	bool batch_full;               /* visits of this batch reached batch_visits: the rest is not run */
	uint64_t *visits;
	size_t nvisits, capvisits;
	struct ch_emu_stats stats;
	struct ch_emu_builtin *builtins;
	size_t nbuiltins;

	/* ch_emu_config.isolate (emu_worker.c): the child that runs the engine,
	 * its socket, how many children died, and the counters of those that
	 * ended (the live one reports its own since its fork). */
	bool isolate;
	int worker_pid;   /* 0: none running */
	int worker_fd;
	uint32_t worker_crashes;
	struct ch_emu_stats dead_stats;
};

/* The stack's bytes at a sandbox address, or NULL outside the stack. */
static inline uint8_t *ch_emu_stack_at(struct ch_emu *emu, uint64_t a, size_t n)
{
	uint64_t base = emu->synth + 2 * CH_EMU_PAGE;
	return a >= base && a - base <= CH_EMU_STACK - n ? emu->stack + (a - base) : NULL;
}

/* Stop the run: the call in progress fails with s (the first reason wins). */
bool ch_emu_stop(struct ch_emu *emu, enum ch_emu_status s, uint64_t detail);

/* emu_libc.c: the hook at a builtin's address computes its result from
 * memory (never writing), sets rax and returns to the caller. */
void ch_emu_on_builtin(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);

/* emulator.c: a batch on this process's engine (ch_emu_run without isolate). */
struct ch_error *ch_emu_run_here(struct ch_emu *emu, struct ch_emu_call *calls, size_t n);
/* emu_worker.c: a batch on the worker's engine; ending the worker. */
struct ch_error *ch_emu_run_isolated(struct ch_emu *emu, struct ch_emu_call *calls, size_t n);
int ch_emu_worker_stop(struct ch_emu *emu);

/* emu_memory.c */
const struct ch_emu_region *ch_emu_region_find(const struct ch_emu *emu, uint64_t addr);
/* Map the piece around addr (read-only; R+X for exec regions). False, with
 * emu->stop set, when addr may not be mapped. */
bool ch_emu_map_lazily(struct ch_emu *emu, uint64_t addr, bool fetch);
/* Drop every lazy mapping once more than map_cap bytes are mapped (between runs). */
void ch_emu_maybe_flush(struct ch_emu *emu);
struct ch_error *ch_emu_regions_set(struct ch_emu *emu, const struct ch_emu_region *r, size_t n);

#endif
