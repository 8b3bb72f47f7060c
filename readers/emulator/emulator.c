/* The engine: one Unicorn x86_64 instance per core, every hook installed
 * before the first run (code translated before a hook exists never calls
 * it), and batches of calls per uc_emu_start.
 *
 * A batch runs the stub page's driver, `call rax; jmp driver`: the host
 * hooks the instruction after the call, checks the call that just returned
 * (stack balanced, eax 0) and loads the next call's registers, or rax =
 * sentinel after the last, so `call rax` ends the run on the `until`
 * address. A call that fails stops the run; the host records why and
 * starts again at the next call. Success is judged by the hook and by RIP,
 * never by uc_emu_start's return code (uc_emu_stop makes it return OK). */
#include "readers/emulator/emu_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_EMU_DEFAULT_BLOCKS (4u << 20)
#define CH_EMU_DEFAULT_VISITS (4u << 20)
#define CH_EMU_DEFAULT_MAP_CAP (1ull << 30)
#define CH_EMU_DEFAULT_BATCH_VISITS (8u << 20) /* 64 MiB of visits per run */

bool ch_emu_stop(struct ch_emu *emu, enum ch_emu_status s, uint64_t detail)
{
	if (emu->stop == CH_EMU_OK) {
		emu->stop = (uint8_t)s;
		emu->stop_detail = detail;
	}
	uc_emu_stop(emu->uc);
	return false;
}

static uint64_t reg(struct ch_emu *emu, int r)
{
	uint64_t v = 0;
	uc_reg_read(emu->uc, r, &v);
	return v;
}

/* Load calls[emu->cur]'s registers, skipping (and failing) calls whose
 * entry is not vouched-for code; rax = sentinel when none is left. */
static void begin_call(struct ch_emu *emu)
{
	uint64_t target = emu->synth + CH_EMU_OFF_SENTINEL;
	while (emu->cur < emu->ncalls) {
		struct ch_emu_call *c = &emu->calls[emu->cur];
		const struct ch_emu_region *r = ch_emu_region_find(emu, c->func);
		c->first = (uint32_t)emu->nvisits;
		c->nvisits = 0;
		if (r && r->exec) {
			target = c->func;
			uc_reg_write(emu->uc, UC_X86_REG_RDI, &c->arg0);
			break;
		}
		c->status = CH_EMU_FETCH;
		c->detail = c->rip = c->func;
		emu->stats.failed++;
		emu->cur++;
	}
	emu->finished = emu->cur >= emu->ncalls;
	uint64_t visit = emu->synth + CH_EMU_OFF_VISIT, zero = 0;
	uc_reg_write(emu->uc, UC_X86_REG_RAX, &target);
	uc_reg_write(emu->uc, UC_X86_REG_RSI, &visit);
	uc_reg_write(emu->uc, UC_X86_REG_RDX, &zero);
	uc_reg_write(emu->uc, UC_X86_REG_RSP, &emu->stack_top);
	emu->blocks = 0;
}

static void on_after(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	(void)uc, (void)addr, (void)size;
	struct ch_emu *emu = ud;
	if (emu->cur >= emu->ncalls)
		return;
	struct ch_emu_call *c = &emu->calls[emu->cur];
	uint64_t rsp = reg(emu, UC_X86_REG_RSP), rax = reg(emu, UC_X86_REG_RAX);
	emu->stats.calls++;
	if (rsp != emu->stack_top || (uint32_t)rax != 0) {
		c->status = CH_EMU_BAD_RETURN;
		c->detail = rsp != emu->stack_top ? rsp : rax;
		c->rip = addr;
		emu->nvisits = c->first;
		emu->stats.failed++;
	} else {
		c->status = CH_EMU_OK;
		c->nvisits = (uint32_t)(emu->nvisits - c->first);
	}
	emu->cur++;
	if (emu->nvisits >= emu->batch_visits && emu->cur < emu->ncalls) {
		/* bounded memory: the caller runs the rest in another batch */
		emu->batch_full = true;
		uc_emu_stop(emu->uc);
		return;
	}
	begin_call(emu);
}

static void on_visit(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	(void)uc, (void)addr, (void)size;
	struct ch_emu *emu = ud;
	if (emu->cur >= emu->ncalls)
		return;
	if (emu->nvisits - emu->calls[emu->cur].first >= emu->visit_cap) {
		ch_emu_stop(emu, CH_EMU_VISITS, emu->visit_cap);
		return;
	}
	if (emu->nvisits == emu->capvisits) {
		size_t ncap = emu->capvisits * 2;
		uint64_t *p = realloc(emu->visits, ncap * sizeof(*p));
		if (!p) {
			ch_emu_stop(emu, CH_EMU_VISITS, emu->nvisits);
			return;
		}
		emu->visits = p;
		emu->capvisits = ncap;
	}
	emu->visits[emu->nvisits++] = reg(emu, UC_X86_REG_RDI);
}

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	(void)uc, (void)addr, (void)size;
	struct ch_emu *emu = ud;
	emu->stats.blocks++;
	if (++emu->blocks > emu->block_budget)
		ch_emu_stop(emu, CH_EMU_BUDGET, emu->block_budget);
}

static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
	(void)uc, (void)size, (void)value;
	struct ch_emu *emu = ud;
	if (type == UC_MEM_WRITE_UNMAPPED) {
		if (emu->stop == CH_EMU_OK) {
			emu->stop = CH_EMU_WRITE;
			emu->stop_detail = addr;
		}
		return false;
	}
	return ch_emu_map_lazily(emu, addr, type == UC_MEM_FETCH_UNMAPPED);
}

static bool on_prot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
	(void)uc, (void)size, (void)value;
	struct ch_emu *emu = ud;
	if (emu->stop == CH_EMU_OK) {
		emu->stop = type == UC_MEM_WRITE_PROT ? CH_EMU_WRITE
			    : type == UC_MEM_FETCH_PROT ? CH_EMU_FETCH
							: CH_EMU_UNREADABLE;
		emu->stop_detail = addr;
	}
	return false;
}

static bool on_invalid(uc_engine *uc, void *ud)
{
	struct ch_emu *emu = ud;
	if (emu->stop == CH_EMU_OK) {
		emu->stop = CH_EMU_INVALID_INSN;
		emu->stop_detail = reg(emu, UC_X86_REG_RIP);
	}
	(void)uc;
	return false;
}

static void on_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	(void)uc;
	ch_emu_stop(ud, CH_EMU_INTERRUPT, intno);
}

static void on_syscall(uc_engine *uc, void *ud)
{
	(void)uc;
	ch_emu_stop(ud, CH_EMU_SYSCALL, 0);
}

static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *ud)
{
	(void)uc, (void)size;
	ch_emu_stop(ud, CH_EMU_PORT_IO, port);
	return 0;
}

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *ud)
{
	(void)uc, (void)size, (void)value;
	ch_emu_stop(ud, CH_EMU_PORT_IO, port);
}

static uint64_t stack_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	(void)uc;
	struct ch_emu *emu = ud;
	uint64_t v = 0;
	if (size <= 8 && off <= CH_EMU_STACK - size)
		memcpy(&v, emu->stack + off, size);
	return v;
}

static void stack_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *ud)
{
	(void)uc;
	struct ch_emu *emu = ud;
	if (size <= 8 && off <= CH_EMU_STACK - size) {
		memcpy(emu->stack + off, &value, size);
		if (off < emu->stack_low)
			emu->stack_low = off;
	}
}

/* An address for the synthetic area that no region touches. */
static bool place_synthetic(struct ch_emu *emu)
{
	const uint64_t span = 3 * CH_EMU_PAGE + CH_EMU_STACK;
	for (uint64_t base = 0x100000000000ull; base < 0x7f0000000000ull; base += 0x10000000000ull) {
		bool clear = true;
		for (size_t i = 0; i < emu->nregions && clear; i++)
			clear = emu->regions[i].end <= base || emu->regions[i].start >= base + span;
		if (clear) {
			emu->synth = base;
			return true;
		}
	}
	return false;
}

static struct ch_error *install(struct ch_emu *emu)
{
	static const uint8_t stub[] = {
		[CH_EMU_OFF_VISIT] = 0x31, 0xc0, 0xc3,          /* xor eax,eax ; ret */
		[CH_EMU_OFF_DRIVER] = 0xff, 0xd0,               /* call rax */
		[CH_EMU_OFF_AFTER] = 0xeb, 0xfc,                /* jmp driver */
		[CH_EMU_OFF_SENTINEL] = 0xf4,                   /* hlt */
	};
	uc_engine *uc = emu->uc;
	uint64_t s = emu->synth, stack = s + 2 * CH_EMU_PAGE;
	emu->stack_top = stack + CH_EMU_STACK - 256;
	uc_hook h;
	uc_err e;
	if ((e = uc_mem_map(uc, s, CH_EMU_PAGE, UC_PROT_READ | UC_PROT_EXEC)) ||
	    (e = uc_mem_write(uc, s, stub, sizeof(stub))) ||
	    (e = uc_mmio_map(uc, stack, CH_EMU_STACK, stack_read, emu, stack_write, emu)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)on_unmapped, emu, 1, 0)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_MEM_PROT, (void *)on_prot, emu, 1, 0)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, emu, 1, 0)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, emu, 1, 0)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_syscall, emu, 1, 0, UC_X86_INS_SYSCALL)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_syscall, emu, 1, 0, UC_X86_INS_SYSENTER)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_in, emu, 1, 0, UC_X86_INS_IN)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_out, emu, 1, 0, UC_X86_INS_OUT)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block, emu, 1, 0)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_visit, emu, s + CH_EMU_OFF_VISIT, s + CH_EMU_OFF_VISIT)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_after, emu, s + CH_EMU_OFF_AFTER, s + CH_EMU_OFF_AFTER)))
		return ch_error_new(CH_ERR_UNSUPPORTED, "emulator setup: %s", uc_strerror(e));
	for (size_t i = 0; i < emu->nbuiltins; i++) {
		uint64_t a = emu->builtins[i].addr;
		if ((e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)ch_emu_on_builtin, emu, a, a)))
			return ch_error_new(CH_ERR_UNSUPPORTED, "emulator setup: %s", uc_strerror(e));
	}
	return NULL;
}

struct ch_error *ch_emu_open(const struct ch_emu_config *cfg, struct ch_emu **out)
{
	*out = NULL;
	struct ch_emu *emu = calloc(1, sizeof(*emu));
	if (!emu)
		return &ch_error_nomem;
	emu->as = cfg->as;
	emu->isolate = cfg->isolate;
	emu->fs_base = cfg->fs_base;
	emu->block_budget = cfg->block_budget ? cfg->block_budget : CH_EMU_DEFAULT_BLOCKS;
	emu->visit_cap = cfg->visit_cap ? cfg->visit_cap : CH_EMU_DEFAULT_VISITS;
	emu->map_cap = cfg->map_cap ? cfg->map_cap : CH_EMU_DEFAULT_MAP_CAP;
	emu->batch_visits = cfg->batch_visits ? cfg->batch_visits : CH_EMU_DEFAULT_BATCH_VISITS;
	if (emu->map_cap < 2 * CH_EMU_CHUNK)
		emu->map_cap = 2 * CH_EMU_CHUNK;
	emu->capvisits = 4096;
	emu->visits = malloc(emu->capvisits * sizeof(*emu->visits));
	emu->chunk = malloc(CH_EMU_CHUNK);
	emu->stack = calloc(1, CH_EMU_STACK);
	emu->stack_low = CH_EMU_STACK;
	if (cfg->nbuiltins && (emu->builtins = malloc(cfg->nbuiltins * sizeof(*emu->builtins)))) {
		memcpy(emu->builtins, cfg->builtins, cfg->nbuiltins * sizeof(*emu->builtins));
		emu->nbuiltins = cfg->nbuiltins;
	}
	struct ch_error *err = emu->visits && emu->chunk && emu->stack ? ch_emu_regions_set(emu, cfg->regions, cfg->nregions)
							 : &ch_error_nomem;
	if (!err && !place_synthetic(emu))
		err = ch_error_new(CH_ERR_UNSUPPORTED, "emulator setup: no free address range for the stack");
	if (!err) {
		uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &emu->uc);
		if (e) {
			emu->uc = NULL;
			err = ch_error_new(CH_ERR_UNSUPPORTED, "emulator setup: %s", uc_strerror(e));
		}
	}
	if (!err)
		err = install(emu);
	if (err) {
		ch_emu_close(emu);
		return err;
	}
	*out = emu;
	return NULL;
}

void ch_emu_close(struct ch_emu *emu)
{
	if (!emu)
		return;
	ch_emu_worker_stop(emu);
	if (emu->uc)
		uc_close(emu->uc);
	free(emu->regions);
	free(emu->maps);
	free(emu->visits);
	free(emu->chunk);
	free(emu->stack);
	free(emu->builtins);
	free(emu);
}

static enum ch_emu_status status_of_uc_err(uc_err e)
{
	switch (e) {
	case UC_ERR_READ_UNMAPPED:
	case UC_ERR_READ_PROT:
	case UC_ERR_READ_UNALIGNED:
		return CH_EMU_UNREADABLE;
	case UC_ERR_FETCH_UNMAPPED:
	case UC_ERR_FETCH_PROT:
	case UC_ERR_FETCH_UNALIGNED:
		return CH_EMU_FETCH;
	case UC_ERR_WRITE_UNMAPPED:
	case UC_ERR_WRITE_PROT:
	case UC_ERR_WRITE_UNALIGNED:
		return CH_EMU_WRITE;
	case UC_ERR_INSN_INVALID:
		return CH_EMU_INVALID_INSN;
	case UC_ERR_EXCEPTION:
		return CH_EMU_INTERRUPT;
	default:
		return CH_EMU_ENGINE;
	}
}

struct ch_error *ch_emu_run(struct ch_emu *emu, struct ch_emu_call *calls, size_t n)
{
	return emu->isolate ? ch_emu_run_isolated(emu, calls, n) : ch_emu_run_here(emu, calls, n);
}

struct ch_error *ch_emu_run_here(struct ch_emu *emu, struct ch_emu_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		calls[i].status = CH_EMU_NOT_RUN;
		calls[i].detail = calls[i].rip = 0;
		calls[i].first = calls[i].nvisits = 0;
	}
	emu->calls = calls;
	emu->ncalls = n;
	emu->nvisits = 0;
	emu->batch_full = false;
	const uint64_t sentinel = emu->synth + CH_EMU_OFF_SENTINEL;
	size_t next = 0;
	while (next < n) {
		ch_emu_maybe_flush(emu);
		emu->cur = next;
		emu->stop = CH_EMU_OK;
		/* Segment bases once per start: writing them flushes translated
		 * code in Unicorn, and nothing the sandbox runs can change them. */
		uint64_t zero = 0;
		uc_reg_write(emu->uc, UC_X86_REG_FS_BASE, &emu->fs_base);
		uc_reg_write(emu->uc, UC_X86_REG_GS_BASE, &zero);
		begin_call(emu);
		if (emu->finished)
			break;
		uc_err e = uc_emu_start(emu->uc, emu->synth + CH_EMU_OFF_DRIVER, sentinel, 0, 0);
		emu->stats.starts++;
		uint64_t rip = reg(emu, UC_X86_REG_RIP);
		if (emu->batch_full || (emu->finished && rip == sentinel && e == UC_ERR_OK && emu->stop == CH_EMU_OK))
			break;
		if (emu->cur >= n)
			break;
		struct ch_emu_call *c = &emu->calls[emu->cur];
		if (emu->stop != CH_EMU_OK) {
			c->status = emu->stop;
			c->detail = emu->stop_detail;
		} else if (e != UC_ERR_OK) {
			c->status = (uint8_t)status_of_uc_err(e);
			c->detail = c->status == CH_EMU_ENGINE ? (uint64_t)e : rip;
		} else {
			c->status = CH_EMU_BAD_RETURN; /* hlt, or a jump to the sentinel */
			c->detail = rip;
		}
		c->rip = rip;
		emu->nvisits = c->first;
		c->nvisits = 0;
		emu->stats.calls++;
		emu->stats.failed++;
		next = emu->cur + 1;
	}
	emu->calls = NULL;
	emu->ncalls = 0;
	return NULL;
}

const uint64_t *ch_emu_visits(const struct ch_emu *emu)
{
	return emu->visits;
}

const char *ch_emu_status_name(enum ch_emu_status s)
{
	static const char *const names[CH_EMU_STATUS_COUNT] = {
		[CH_EMU_OK] = "ok",
		[CH_EMU_NOT_RUN] = "not run",
		[CH_EMU_UNREADABLE] = "read of memory the core does not hold",
		[CH_EMU_FETCH] = "code outside the checked executable mappings",
		[CH_EMU_WRITE] = "write to memory",
		[CH_EMU_SYSCALL] = "system call",
		[CH_EMU_INTERRUPT] = "interrupt or CPU exception",
		[CH_EMU_PORT_IO] = "port I/O",
		[CH_EMU_INVALID_INSN] = "instruction the emulator does not support",
		[CH_EMU_BUDGET] = "instruction budget exhausted",
		[CH_EMU_VISITS] = "too many visits",
		[CH_EMU_MAP_BUDGET] = "mapped-memory budget exhausted",
		[CH_EMU_BAD_RETURN] = "did not return normally",
		[CH_EMU_ENGINE] = "emulator error",
		[CH_EMU_CRASHED] = "the emulator crashed",
	};
	return s < CH_EMU_STATUS_COUNT && names[s] ? names[s] : "?";
}

void ch_emu_call_describe(const struct ch_emu_call *c, char *buf, size_t n)
{
	const char *what = ch_emu_status_name((enum ch_emu_status)c->status);
	switch (c->status) {
	case CH_EMU_UNREADABLE:
	case CH_EMU_FETCH:
	case CH_EMU_WRITE:
		if (c->detail == c->rip) /* a fetch: the address is where it stopped */
			snprintf(buf, n, "%s (0x%" PRIx64 ")", what, c->detail);
		else
			snprintf(buf, n, "%s (0x%" PRIx64 ", at 0x%" PRIx64 ")", what, c->detail, c->rip);
		break;
	case CH_EMU_INVALID_INSN:
	case CH_EMU_SYSCALL:
	case CH_EMU_PORT_IO:
	case CH_EMU_BUDGET:
		snprintf(buf, n, "%s (at 0x%" PRIx64 ")", what, c->rip);
		break;
	case CH_EMU_INTERRUPT:
		snprintf(buf, n, "%s %" PRIu64 " (at 0x%" PRIx64 ")", what, c->detail, c->rip);
		break;
	case CH_EMU_CRASHED:
		if (c->detail)
			snprintf(buf, n, "%s (signal %" PRIu64 ")", what, c->detail);
		else
			snprintf(buf, n, "%s (too often: not restarted)", what);
		break;
	default:
		snprintf(buf, n, "%s", what);
	}
}

void ch_emu_get_stats(const struct ch_emu *emu, struct ch_emu_stats *out)
{
	*out = emu->stats;
}
