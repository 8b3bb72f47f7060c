/* libFuzzer target: the tp_traverse sandbox (readers/emulator). The input
 * is a type's traverse code and the object it is called on: random bytes
 * run as x86_64 code through ch_emu_open / ch_emu_run, as the reference
 * reader runs a C type's tp_traverse from a core.
 *
 * One input, in order (zero-padded when it ends early):
 *   u8  which of the calls below start where (entry offsets)
 *   256 bytes: the object (and what it points at) at OBJ
 *   the rest (up to a page): the code page at CODE, executable
 * Three calls per input in one batch: traverse(OBJ) from two entry points
 * and a third that fetches from the object's page (never code). A C
 * library builtin (strlen) is answered at one code address, as for a
 * resolved GOT entry. The sandbox runs with small budgets (blocks, visits,
 * mapped bytes) so a loop ends fast.
 *
 * One engine serves every input (opening Unicorn costs more than most
 * runs): ch_emu_forget drops what the previous input mapped and
 * translated, and LLVMFuzzerInitialize checks that it does (new code at
 * the same address must run as the new code), so a run depends on its
 * own input only.
 *
 * Checked beyond the sanitizers: nothing the sandbox may not change is
 * changed (the code, object and TLS bytes are compared with the input
 * after the run: a write must fail the call, never land), every call ends
 * with a known status, a call that failed has no visits, one that
 * succeeded has at most visit_cap, and fetching from the object's page is
 * never allowed. Seeds (make_seeds.py): the hand-assembled functions of
 * tests/unit/test_emulator.c (two visits, a loop, a write, a syscall, an
 * AVX2 load, a stack-canary read, a far read, a builtin call, a jump to the
 * stack).
 *
 * Unicorn 2.0.1 calls abort() on some code it cannot translate (a jmp far
 * with a register operand, "tcg fatal error"): coreheap runs the engine in
 * a child process for that (ch_emu_config.isolate, test_emulator checks
 * it). This target runs it in-process, so that libFuzzer sees the
 * coverage of the sandbox's hooks: an abort inside ch_emu_run is caught
 * here (a SIGABRT handler that jumps back), counted, and the engine is
 * closed and replaced by a fresh one (closing one left mid-translation is
 * clean under ASan: 300 aborts in a row, steady memory; kept open, each
 * held 3.5 MB and a corpus holding such code ran into the RSS limit). The
 * seed `jmpf_reg` is that code. Any other abort, the checks below
 * included, is libFuzzer's as before. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/emulator/emulator.h"

#define CODE 0x400000ull
#define OBJ 0x600000ull
#define TLS 0x700000ull
#define PAGE 4096u
#define OBJ_BYTES 256u
#define VISIT_CAP 64u

static uint8_t code[PAGE], obj[PAGE], tls[PAGE];
static uint8_t code_in[PAGE], obj_in[PAGE], tls_in[PAGE];
static struct ch_address_space as;
static struct ch_emu *emu;

static size_t ndead; /* engines replaced after an abort */
static sigjmp_buf engine_abort;
static volatile sig_atomic_t in_engine;
static struct sigaction fuzzer_abrt;
static bool abrt_installed;

static void on_abort(int sig, siginfo_t *info, void *uctx)
{
	if (in_engine) {
		in_engine = 0;
		siglongjmp(engine_abort, 1);
	}
	if (fuzzer_abrt.sa_flags & SA_SIGINFO)
		fuzzer_abrt.sa_sigaction(sig, info, uctx);
	else if (fuzzer_abrt.sa_handler != SIG_DFL && fuzzer_abrt.sa_handler != SIG_IGN)
		fuzzer_abrt.sa_handler(sig);
	/* else abort() goes on to the default action */
}

/* After libFuzzer installed its own handlers (they run for every abort
 * but the engine's). */
static void install_abort_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_abort;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGABRT, &sa, &fuzzer_abrt) != 0)
		abort();
	abrt_installed = true;
}

static struct ch_emu *open_engine(void)
{
	const struct ch_emu_region regions[] = {{OBJ, OBJ + PAGE, false}, {CODE, CODE + PAGE, true}, {TLS, TLS + PAGE, false}};
	const struct ch_emu_builtin strlen_at = {CODE + 0x800, CH_EMU_STRLEN};
	struct ch_emu_config cfg = {
		.as = &as, .regions = regions, .nregions = 3, .fs_base = TLS, .block_budget = 4096,
		.visit_cap = VISIT_CAP, .map_cap = 1u << 20, .builtins = &strlen_at, .nbuiltins = 1,
	};
	struct ch_emu *e = NULL;
	if (ch_emu_open(&cfg, &e))
		abort();
	return e;
}

static void load(const uint8_t *in, size_t size)
{
	memset(obj, 0, sizeof(obj));
	size_t k = size < OBJ_BYTES ? size : OBJ_BYTES;
	memcpy(obj + 0x100, in, k);
	in += k;
	size -= k;
	memset(code, 0xcc, sizeof(code)); /* int3 past the input */
	memcpy(code, in, size < PAGE ? size : PAGE);
	memset(tls, 0, sizeof(tls));
	tls[0x28] = 0x5a; /* a stack canary */
	memcpy(code_in, code, PAGE);
	memcpy(obj_in, obj, PAGE);
	memcpy(tls_in, tls, PAGE);
	ch_emu_forget(emu);
}

static uint8_t run_one(uint64_t func)
{
	struct ch_emu_call c = {.func = func, .arg0 = OBJ + 0x100};
	struct ch_error *err = ch_emu_run(emu, &c, 1);
	if (err)
		abort();
	return c.status;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ch_as_init(&as);
	if (ch_as_add(&as, CODE, CODE + PAGE, code, CH_AS_FILE, false) || ch_as_add(&as, OBJ, OBJ + PAGE, obj, CH_AS_CORE, true) ||
	    ch_as_add(&as, TLS, TLS + PAGE, tls, CH_AS_CORE, true))
		abort();
	emu = open_engine();
	/* ch_emu_forget must make new bytes at an address the code that runs:
	 * `xor eax,eax; ret` succeeds, then `mov [rdi],rdi` at the same place
	 * must fail as a write. */
	static const uint8_t ok[] = {0x31, 0xc0, 0xc3}, wr[] = {0x48, 0x89, 0x3f, 0x31, 0xc0, 0xc3};
	uint8_t in[OBJ_BYTES + sizeof(wr)] = {0};
	memcpy(in + OBJ_BYTES, ok, sizeof(ok));
	load(in, OBJ_BYTES + sizeof(ok));
	if (run_one(CODE) != CH_EMU_OK)
		abort();
	memcpy(in + OBJ_BYTES, wr, sizeof(wr));
	load(in, sizeof(in));
	if (run_one(CODE) != CH_EMU_WRITE)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = in[0];
	load(in + 1, size - 1);
	struct ch_emu_call calls[3] = {
		{.func = CODE, .arg0 = OBJ + 0x100},
		{.func = CODE + (sel & 0x3f), .arg0 = OBJ + 0x100 + (sel >> 6) * 8},
		{.func = OBJ + 0x100, .arg0 = OBJ + 0x100},
	};
	if (!abrt_installed)
		install_abort_handler();
	if (sigsetjmp(engine_abort, 1)) {
		/* The engine aborted: what coreheap's worker contains. */
		ch_emu_close(emu);
		ndead++;
		if (ndead <= 3 || ndead % 100 == 0)
			fprintf(stderr, "fuzz_emu: Unicorn aborted on this input (contained; engine %zu replaced)\n", ndead);
		emu = open_engine();
		return 0;
	}
	in_engine = 1;
	struct ch_error *err = ch_emu_run(emu, calls, 3);
	in_engine = 0;
	if (!err) {
		for (size_t i = 0; i < 3; i++) {
			const struct ch_emu_call *c = &calls[i];
			if (c->status >= CH_EMU_STATUS_COUNT)
				abort();
			if (c->status != CH_EMU_OK && c->nvisits != 0)
				abort();
			if (c->status == CH_EMU_OK && c->nvisits > VISIT_CAP)
				abort();
			char buf[160];
			ch_emu_call_describe(c, buf, sizeof(buf));
		}
		if (calls[2].status != CH_EMU_FETCH)
			abort(); /* data run as code */
	}
	ch_error_free(err);
	if (memcmp(code, code_in, PAGE) || memcmp(obj, obj_in, PAGE) || memcmp(tls, tls_in, PAGE))
		abort(); /* the sandbox changed the dumped process's bytes */
	return 0;
}
