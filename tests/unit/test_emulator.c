/* The tp_traverse sandbox (readers/emulator) over a hand-built address
 * space: one page of hand-assembled x86_64 code (bytes below, from GNU as;
 * the source is in the comments), one page of "heap" and one of TLS.
 * Each hostile function must end in its own failure reason, within the
 * budget, and must not disturb the calls batched around it. */
#include "check.h"

#include <stdlib.h>
#include <time.h>

#include "readers/emulator/emulator.h"

#define CODE 0x400000ull
#define HEAP 0x600000ull
#define TLS 0x700000ull
#define PAGE 4096

enum { F_TWO = 0x00, F_LOOP = 0x2d, F_WRITE = 0x2f, F_SYSCALL = 0x35, F_AVX2 = 0x3f, F_CANARY = 0x46, F_FAR = 0x58,
       F_CALLB = 0x62, F_JMP_STACK = 0x78, F_JMPF_REG = 0x7a };

static const uint8_t code_bytes[] = {
	/* two: visit [rdi+0x10] then [rdi+0x18], skipping NULLs, as Py_VISIT does
	 *   push rbx; push rbp; sub rsp,8; mov rbx,rdi; mov rbp,rsi
	 *   mov rdi,[rbx+0x10]; test rdi,rdi; je 1f; call rbp; test eax,eax; jne 2f
	 * 1: mov rdi,[rbx+0x18]; test rdi,rdi; je 2f; call rbp
	 * 2: add rsp,8; pop rbp; pop rbx; ret */
	0x53, 0x55, 0x48, 0x83, 0xec, 0x08, 0x48, 0x89, 0xfb, 0x48, 0x89, 0xf5, 0x48, 0x8b, 0x7b, 0x10,
	0x48, 0x85, 0xff, 0x74, 0x06, 0xff, 0xd5, 0x85, 0xc0, 0x75, 0x0b, 0x48, 0x8b, 0x7b, 0x18, 0x48,
	0x85, 0xff, 0x74, 0x02, 0xff, 0xd5, 0x48, 0x83, 0xc4, 0x08, 0x5d, 0x5b, 0xc3,
	/* loop: jmp loop */
	0xeb, 0xfe,
	/* write: mov [rdi],rdi; xor eax,eax; ret */
	0x48, 0x89, 0x3f, 0x31, 0xc0, 0xc3,
	/* syscall: mov eax,39 (getpid); syscall; xor eax,eax; ret */
	0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x31, 0xc0, 0xc3,
	/* avx2: vmovdqu ymm0,[rdi]; xor eax,eax; ret */
	0xc5, 0xfe, 0x6f, 0x07, 0x31, 0xc0, 0xc3,
	/* canary: mov rax,fs:0x28; mov rdi,[rdi+0x10]; call rsi; xor eax,eax; ret */
	0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x7f, 0x10, 0xff, 0xd6, 0x31,
	0xc0, 0xc3,
	/* far: mov rax,[rdi+0x10000000]; xor eax,eax; ret */
	0x48, 0x8b, 0x87, 0x00, 0x00, 0x00, 0x10, 0x31, 0xc0, 0xc3,
	/* callb: the avx2 function, answered as a strlen builtin in one sandbox, then visit its result:
	 *   push rbx; mov rbx,rsi; mov rax,0x40003f; call rax; mov rdi,rax; call rbx; xor eax,eax; pop rbx; ret */
	0x53, 0x48, 0x89, 0xf3, 0x48, 0xc7, 0xc0, 0x3f, 0x00, 0x40, 0x00, 0xff, 0xd0, 0x48, 0x89, 0xc7,
	0xff, 0xd3, 0x31, 0xc0, 0x5b, 0xc3,
	/* jmp_stack: jmp rsp (code placed on the stack: never run) */
	0xff, 0xe4,
	/* jmpf_reg: rex.W jmp far with a register operand (ff /5, mod 3), which
	 * has no encoding: Unicorn 2.0.1 aborts the process translating it
	 * ("tcg fatal error"; found by fuzz_emu) */
	0x48, 0xff, 0xec,
};

static uint8_t code[PAGE], heap[PAGE], tls[PAGE];

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static struct ch_emu *open_sandbox(struct ch_address_space *as, bool with_builtin, uint32_t batch_visits, bool isolate)
{
	memcpy(code, code_bytes, sizeof(code_bytes));
	memset(heap, 0, sizeof(heap));
	/* object A at HEAP+0x100: fields 0x10, 0x18 point at B and C */
	put64(heap + 0x110, HEAP + 0x200);
	put64(heap + 0x118, HEAP + 0x300);
	/* object B: first field NULL, second points at A */
	put64(heap + 0x218, HEAP + 0x100);
	put64(tls + 0x28, 0x1234567812345678ull);
	memcpy(heap + 0x400, "hello", 6);
	heap[PAGE - 2] = heap[PAGE - 1] = (uint8_t)'z'; /* a string the core cuts short */
	ch_as_init(as);
	CHECK_OK(ch_as_add(as, CODE, CODE + PAGE, code, CH_AS_FILE, false));
	CHECK_OK(ch_as_add(as, HEAP, HEAP + PAGE, heap, CH_AS_CORE, true));
	CHECK_OK(ch_as_add(as, TLS, TLS + PAGE, tls, CH_AS_CORE, true));
	const struct ch_emu_region regions[] = {
		{HEAP, HEAP + PAGE, false},
		{CODE, CODE + PAGE, true},
		{TLS, TLS + PAGE, false},
	};
	const struct ch_emu_builtin strlen_at_avx2 = {CODE + F_AVX2, CH_EMU_STRLEN};
	struct ch_emu_config cfg = {
		.as = as, .regions = regions, .nregions = 3, .fs_base = TLS, .block_budget = 20000, .visit_cap = 64,
		.builtins = &strlen_at_avx2, .nbuiltins = with_builtin ? 1 : 0, .batch_visits = batch_visits,
		.isolate = isolate,
	};
	struct ch_emu *emu = NULL;
	CHECK_OK(ch_emu_open(&cfg, &emu));
	return emu;
}

static uint8_t run_one(struct ch_emu *emu, uint64_t func, uint64_t obj, struct ch_emu_call *out)
{
	struct ch_emu_call c = {.func = func, .arg0 = obj};
	CHECK_OK(ch_emu_run(emu, &c, 1));
	if (out)
		*out = c;
	return c.status;
}

static void test_single_calls(struct ch_emu *emu)
{
	struct ch_emu_call c;
	CHECK_EQ_U64(run_one(emu, CODE + F_TWO, HEAP + 0x100, &c), CH_EMU_OK);
	if (CHECK_EQ_U64(c.nvisits, 2)) {
		CHECK_EQ_U64(ch_emu_visits(emu)[c.first], HEAP + 0x200);
		CHECK_EQ_U64(ch_emu_visits(emu)[c.first + 1], HEAP + 0x300);
	}
	CHECK_EQ_U64(run_one(emu, CODE + F_TWO, HEAP + 0x200, &c), CH_EMU_OK);
	CHECK_EQ_U64(c.nvisits, 1);
	CHECK_EQ_U64(run_one(emu, CODE + F_CANARY, HEAP + 0x100, &c), CH_EMU_OK);
	CHECK_EQ_U64(c.nvisits, 1);

	clock_t t0 = clock();
	CHECK_EQ_U64(run_one(emu, CODE + F_LOOP, HEAP + 0x100, &c), CH_EMU_BUDGET);
	CHECK((clock() - t0) / (double)CLOCKS_PER_SEC < 5.0);
	CHECK_EQ_U64(run_one(emu, CODE + F_WRITE, HEAP + 0x100, &c), CH_EMU_WRITE);
	CHECK_EQ_U64(c.detail, HEAP + 0x100);
	CHECK(heap[0x100] == 0); /* the host's bytes are untouched */
	CHECK_EQ_U64(run_one(emu, CODE + F_SYSCALL, HEAP + 0x100, &c), CH_EMU_SYSCALL);
	CHECK_EQ_U64(run_one(emu, CODE + F_JMP_STACK, HEAP + 0x100, &c), CH_EMU_FETCH);
	/* tp_traverse pointing at heap data: never executed */
	CHECK_EQ_U64(run_one(emu, HEAP + 0x100, HEAP + 0x100, &c), CH_EMU_FETCH);
	CHECK_EQ_U64(run_one(emu, 0x4, HEAP + 0x100, &c), CH_EMU_FETCH);
	CHECK_EQ_U64(run_one(emu, CODE + F_AVX2, HEAP + 0x100, &c), CH_EMU_INVALID_INSN);
	CHECK_EQ_U64(run_one(emu, CODE + F_FAR, HEAP + 0x100, &c), CH_EMU_UNREADABLE);
	CHECK_EQ_U64(c.detail, HEAP + 0x100 + 0x10000000);
	char buf[160];
	ch_emu_call_describe(&c, buf, sizeof(buf));
	CHECK(strstr(buf, "0x10600100") != NULL);
	/* a traverse that jumps into the middle of code then falls off: data as code */
	CHECK_EQ_U64(run_one(emu, CODE + 0x1000 - 2, HEAP + 0x100, &c), CH_EMU_FETCH);
}

/* Good calls between bad ones: every bad one fails alone, and the good
 * ones after it still get exactly their own visits. */
static void test_batch(struct ch_emu *emu)
{
	const uint64_t fn[] = {F_TWO, F_LOOP, F_TWO, F_WRITE, F_TWO, F_SYSCALL, F_AVX2, F_TWO, F_FAR, F_TWO};
	const uint8_t want[] = {CH_EMU_OK, CH_EMU_BUDGET, CH_EMU_OK, CH_EMU_WRITE, CH_EMU_OK,
				CH_EMU_SYSCALL, CH_EMU_INVALID_INSN, CH_EMU_OK, CH_EMU_UNREADABLE, CH_EMU_OK};
	struct ch_emu_call calls[10];
	for (size_t i = 0; i < 10; i++) {
		calls[i].func = CODE + fn[i];
		calls[i].arg0 = i % 4 == 2 ? HEAP + 0x200 : HEAP + 0x100;
	}
	CHECK_OK(ch_emu_run(emu, calls, 10));
	for (size_t i = 0; i < 10; i++) {
		CHECK_EQ_U64(calls[i].status, want[i]);
		if (want[i] != CH_EMU_OK) {
			CHECK_EQ_U64(calls[i].nvisits, 0);
			continue;
		}
		const uint64_t *v = ch_emu_visits(emu) + calls[i].first;
		if (calls[i].arg0 == HEAP + 0x200) {
			if (CHECK_EQ_U64(calls[i].nvisits, 1))
				CHECK_EQ_U64(v[0], HEAP + 0x100);
		} else if (CHECK_EQ_U64(calls[i].nvisits, 2)) {
			CHECK_EQ_U64(v[0], HEAP + 0x200);
			CHECK_EQ_U64(v[1], HEAP + 0x300);
		}
	}
}

/* Many good calls in one run: measured, and every one correct. */
static void test_many(struct ch_emu *emu)
{
	const size_t n = 100000;
	struct ch_emu_call *calls = calloc(n, sizeof(*calls));
	if (!CHECK(calls != NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		calls[i].func = CODE + F_TWO;
		calls[i].arg0 = HEAP + 0x100;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_OK(ch_emu_run(emu, calls, n));
	clock_gettime(CLOCK_MONOTONIC, &b);
	size_t ok = 0;
	for (size_t i = 0; i < n; i++)
		ok += calls[i].status == CH_EMU_OK && calls[i].nvisits == 2;
	CHECK_EQ_U64(ok, n);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	struct ch_emu_stats st;
	ch_emu_get_stats(emu, &st);
	printf("batch of %zu calls: %.3f s, %.0f calls/s, %llu engine starts\n", n, s, (double)n / s,
	       (unsigned long long)st.starts);
	free(calls);
}

/* A C library function the sandbox answers itself (the AVX2 code is never
 * run): strlen of "hello" comes back as the visited value. Without the
 * builtin the same call fails on the AVX2 instruction. */
static void test_builtin(void)
{
	struct ch_address_space as;
	struct ch_emu *emu = open_sandbox(&as, true, 0, false);
	struct ch_emu_call c;
	if (emu) {
		CHECK_EQ_U64(run_one(emu, CODE + F_CALLB, HEAP + 0x400, &c), CH_EMU_OK);
		if (CHECK_EQ_U64(c.nvisits, 1))
			CHECK_EQ_U64(ch_emu_visits(emu)[c.first], 5);
		/* reading past what the core holds fails the call, not the host */
		CHECK_EQ_U64(run_one(emu, CODE + F_CALLB, HEAP + PAGE - 2, &c), CH_EMU_UNREADABLE);
		ch_emu_close(emu);
	}
	ch_as_deinit(&as);
	emu = open_sandbox(&as, false, 0, false);
	if (emu) {
		CHECK_EQ_U64(run_one(emu, CODE + F_CALLB, HEAP + 0x400, &c), CH_EMU_INVALID_INSN);
		ch_emu_close(emu);
	}
	ch_as_deinit(&as);
}

/* A batch whose visits reach the batch cap stops between calls: the calls
 * after stay NOT_RUN (the caller runs them again), the ones before are whole. */
static void test_batch_cap(void)
{
	struct ch_address_space as;
	struct ch_emu *emu = open_sandbox(&as, false, 3, false);
	struct ch_emu_call calls[4];
	for (size_t i = 0; emu && i < 4; i++) {
		calls[i].func = CODE + F_TWO;
		calls[i].arg0 = HEAP + 0x100;
	}
	if (emu && CHECK_OK(ch_emu_run(emu, calls, 4))) {
		CHECK_EQ_U64(calls[0].status, CH_EMU_OK);
		CHECK_EQ_U64(calls[1].status, CH_EMU_OK);
		CHECK_EQ_U64(calls[1].nvisits, 2);
		CHECK_EQ_U64(calls[2].status, CH_EMU_NOT_RUN);
		CHECK_EQ_U64(calls[3].status, CH_EMU_NOT_RUN);
		CHECK_OK(ch_emu_run(emu, calls + 2, 2));
		CHECK_EQ_U64(calls[2].status, CH_EMU_OK);
	}
	ch_emu_close(emu);
	ch_as_deinit(&as);
}

/* The engine in a child process (as coreheap runs it): the same answers,
 * and code that kills the engine fails its own call only, batch after
 * batch, until the restarts are used up. */
static void test_isolated(void)
{
	struct ch_address_space as;
	struct ch_emu *emu = open_sandbox(&as, false, 0, true);
	if (!emu)
		return;
	test_single_calls(emu);
	test_batch(emu);
	for (int round = 0; round < 5; round++) {
		struct ch_emu_call calls[3] = {
			{.func = CODE + F_TWO, .arg0 = HEAP + 0x100},
			{.func = CODE + F_JMPF_REG, .arg0 = HEAP + 0x100},
			{.func = CODE + F_TWO, .arg0 = HEAP + 0x100},
		};
		CHECK_OK(ch_emu_run(emu, calls, 3));
		CHECK_EQ_U64(calls[0].status, CH_EMU_OK);
		CHECK_EQ_U64(calls[2].status, CH_EMU_OK);
		/* An engine that no longer aborts says so as an invalid instruction. */
		CHECK(calls[1].status == CH_EMU_CRASHED || calls[1].status == CH_EMU_INVALID_INSN);
		CHECK_EQ_U64(calls[1].nvisits, 0);
		for (size_t i = 0; i < 3; i += 2)
			if (CHECK_EQ_U64(calls[i].nvisits, 2)) {
				const uint64_t *v = ch_emu_visits(emu) + calls[i].first;
				CHECK_EQ_U64(v[0], HEAP + 0x200);
				CHECK_EQ_U64(v[1], HEAP + 0x300);
			}
		char buf[160];
		ch_emu_call_describe(&calls[1], buf, sizeof(buf));
		if (round == 0)
			printf("test_emulator: isolated: the unencodable jmp far: %s\n", buf);
	}
	struct ch_emu_stats st;
	ch_emu_get_stats(emu, &st);
	CHECK(st.calls >= 15);
	ch_emu_close(emu);
	ch_as_deinit(&as);
}

int main(void)
{
	struct ch_address_space as;
	struct ch_emu *emu = open_sandbox(&as, false, 0, false);
	if (emu) {
		test_single_calls(emu);
		test_batch(emu);
		test_many(emu);
		ch_emu_close(emu);
	}
	ch_as_deinit(&as);
	test_builtin();
	test_batch_cap();
	test_isolated();
	return CHECK_SUMMARY("test_emulator");
}
