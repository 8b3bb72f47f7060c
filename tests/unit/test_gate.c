/* --fail-if expressions (graph/gate.h) over hand-built digests, and the
 * digest/diff machinery under them: every operator, both spellings of the
 * logical ones, precedence, units, strings, the a./b. sides, the figures of
 * each scope, and malformed expressions (usage errors naming a column). */
#include "check.h"
#include "graph/diff.h"
#include "graph/gate.h"
#include "graph/heap_digest.h"

/* A digest with the given rows (name, count, bytes, unreachable count). */
struct row {
	const char *name;
	uint64_t count, bytes, unreachable;
};

static void make(struct ch_heap_digest *d, const struct row *rows, size_t n, bool enabled, int threshold0)
{
	ch_heap_digest_init(d);
	CHECK_OK(ch_digest_str_add(d, "3.12.1", &d->version));
	CHECK_OK(ch_digest_str_add(d, "/usr/bin/python3", &d->executable));
	d->pid = 42;
	d->gc.enabled = enabled;
	d->gc.ngenerations = 3;
	d->gc.thresholds[0] = threshold0;
	d->gc.thresholds[1] = d->gc.thresholds[2] = 10;
	d->gc.garbage = 0;
	/* Rows added in reverse, and one name twice, to exercise the sort and merge. */
	for (size_t i = n; i-- > 0;) {
		struct ch_digest_type t = {.count = rows[i].count, .bytes = rows[i].bytes,
					   .unreachable = rows[i].unreachable};
		t.gen[2] = rows[i].count;
		CHECK_OK(ch_digest_str_add(d, rows[i].name, &t.name));
		d->totals.count += t.count;
		d->totals.bytes += t.bytes;
		d->totals.gen[2] += t.count;
		d->unreachable += t.unreachable;
		d->unreachable_bytes += t.unreachable * 10;
		if (t.count > 1) {
			struct ch_digest_type half = t;
			half.count = t.count / 2;
			half.bytes = t.bytes / 2;
			half.unreachable = t.unreachable / 2;
			t.count -= half.count;
			t.bytes -= half.bytes;
			t.unreachable -= half.unreachable;
			CHECK_OK(ch_digest_type_add(d, &half));
		}
		CHECK_OK(ch_digest_type_add(d, &t));
	}
	CHECK_OK(ch_digest_finish(d));
}

static const struct row rows_a[] = {
	{"app.Session", 100, 4800, 0}, {"dict", 50, 5000, 0}, {"app.Gone", 3, 30, 0}, {"app.Temp", 10, 100, 0},
};
static const struct row rows_b[] = {
	{"app.Session", 400, 19200, 0}, {"dict", 50, 5000, 0}, {"app.Leak", 200, 9600, 200}, {"app.Temp", 4, 40, 0},
};

static struct ch_heap_digest A, B;
static struct ch_diff D;

/* 1 held, 0 did not, -1 parse error. */
static int run(const char *expr, enum ch_gate_scope scope)
{
	struct ch_gate *g;
	struct ch_error *err = ch_gate_parse(expr, scope, &g);
	if (err) {
		ch_error_free(err);
		return -1;
	}
	struct ch_gate_env env = scope == CH_GATE_DIFF ? (struct ch_gate_env){.a = &A, .b = &B, .diff = &D}
						       : (struct ch_gate_env){.heap = &B};
	char why[256];
	int r = ch_gate_eval(g, &env, why, sizeof(why));
	ch_gate_free(g);
	return r;
}

#define HOLDS(e) CHECK(run((e), CH_GATE_HEAP) == 1)
#define FAILS(e) CHECK(run((e), CH_GATE_HEAP) == 0)
#define DHOLDS(e) CHECK(run((e), CH_GATE_DIFF) == 1)
#define DFAILS(e) CHECK(run((e), CH_GATE_DIFF) == 0)
#define BAD(e, scope) CHECK(run((e), (scope)) == -1)

static void test_digest_and_diff(void)
{
	CHECK_EQ_U64(A.ntypes, 4);
	CHECK_STR(ch_digest_str(&A, A.types[0].name), "app.Gone");
	CHECK_STR(ch_digest_str(&A, A.types[3].name), "dict");
	const struct ch_digest_type *s = ch_digest_type_find(&B, "app.Session");
	CHECK(s && s->count == 400 && s->bytes == 19200);
	CHECK(ch_digest_type_find(&B, "app.Gone") == NULL);
	CHECK_EQ_U64(D.ntypes, 4); /* Session grown, Leak new, Temp shrunk, Gone gone; dict unchanged */
	CHECK_STR(D.types[0].name, "app.Session");
	CHECK(D.types[0].status == CH_DIFF_GROWN && D.types[0].count_delta == 300 && D.types[0].bytes_delta == 14400);
	CHECK_STR(D.types[1].name, "app.Leak");
	CHECK(D.types[1].status == CH_DIFF_NEW && D.types[1].count_a == 0);
	CHECK_STR(D.types[2].name, "app.Gone");
	CHECK(D.types[2].status == CH_DIFF_GONE && D.types[2].count_delta == -3);
	CHECK_STR(D.types[3].name, "app.Temp");
	CHECK(D.types[3].status == CH_DIFF_SHRUNK && D.types[3].bytes_delta == -60);
	CHECK(D.gc_changed == ((1u << CH_DIFF_GC_ENABLED) | (1u << CH_DIFF_GC_THRESHOLDS)));
	CHECK(!ch_diff_empty(&D));
	struct ch_diff self;
	CHECK_OK(ch_diff_compute(&self, &B, &B));
	CHECK(ch_diff_empty(&self));
	ch_diff_deinit(&self);
}

static void test_operators(void)
{
	/* B: Session 400, Leak 200 (all unreachable), Temp 4, dict 50; gc disabled, threshold0 1000 */
	HOLDS("type('app.Session').count == 400");
	FAILS("type('app.Session').count == 401");
	HOLDS("type('app.Session').count != 401");
	FAILS("type('app.Session').count != 400");
	HOLDS("type('app.Session').count < 401");
	FAILS("type('app.Session').count < 400");
	HOLDS("type('app.Session').count <= 400");
	FAILS("type('app.Session').count <= 399");
	HOLDS("type('app.Session').count > 399");
	FAILS("type('app.Session').count > 400");
	HOLDS("type('app.Session').count >= 400");
	FAILS("type('app.Session').count >= 401");
	HOLDS("400 == type('app.Session').count");
	HOLDS("type('app.Missing').count == 0");
	HOLDS("gc.enabled == false");
	FAILS("gc.enabled");
	HOLDS("not gc.enabled");
	HOLDS("!gc.enabled");
	HOLDS("!(gc.enabled)");
	FAILS("not not gc.enabled");
	HOLDS("gc.enabled != true");
	HOLDS("gc.threshold0 == 1000 and unreachable.objects == 200");
	FAILS("gc.threshold0 == 1000 and unreachable.objects == 201");
	HOLDS("gc.threshold0 == 1000 && unreachable.objects == 200");
	HOLDS("gc.threshold0 == 1 or unreachable.objects == 200");
	FAILS("gc.threshold0 == 1 or unreachable.objects == 1");
	HOLDS("gc.threshold0 == 1 || unreachable.objects == 200");
	/* and binds tighter than or; parentheses override */
	HOLDS("true or false and false");
	FAILS("(true or false) and false");
	HOLDS("not false and true");
	/* units */
	HOLDS("unreachable('app.Leak').count == 200 and unreachable.bytes == 2000");
	HOLDS("unreachable.bytes == 2K");
	HOLDS("unreachable.bytes == 2KB");
	HOLDS("unreachable.bytes == 2kb");
	HOLDS("2000 < 2KiB and 2KiB == 2048");
	HOLDS("1MB == 1000000 and 1MiB == 1048576 and 1M == 1000000");
	HOLDS("1GB == 1000000000 and 1GiB == 1073741824 and 1G == 1GB");
	HOLDS("1.5MB == 1500000 and 0.5KiB == 512");
	HOLDS("-1 < 0 and -1KB == -1000 and - 2 == -2");
	/* strings and other figures */
	HOLDS("runtime.version == '3.12.1'");
	HOLDS("runtime.version != \"3.11.0\"");
	HOLDS("runtime.pid == 42 and partial == false");
	HOLDS("totals.count == 654 and totals.types == 4 and totals.gen2 == 654");
	HOLDS("type('app.Leak').bytes == 9600");
	HOLDS("unreachable('app.Session').bytes == 0");
}

static void test_diff_figures(void)
{
	DHOLDS("growth('app.Session').count == 300");
	DHOLDS("growth('app.Session').bytes == 14400");
	DHOLDS("growth('app.Gone').count == -3");
	DHOLDS("growth('app.Leak').count > 100");
	DHOLDS("growth('app.Nothing').count == 0");
	DHOLDS("growth('dict').bytes == 0");
	DHOLDS("growth.count == 491 and growth.bytes == 23910");
	DHOLDS("unreachable.objects_delta == 200 and unreachable.bytes_delta == 2000");
	DHOLDS("types.new == 1 and types.grown == 1 and types.shrunk == 1 and types.gone == 1");
	DHOLDS("a.gc.enabled and not b.gc.enabled");
	DHOLDS("gc.enabled == false"); /* unqualified: B */
	DHOLDS("a.gc.threshold0 != b.gc.threshold0");
	DHOLDS("a.type('app.Session').count == 100 and b.type('app.Session').count == 400");
	DFAILS("growth('app.Session').count > 300");
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"", "   ", "x", "gc", "gc.", "gc.enabled ==", "== 1", "unreachable.bites > 1", "1 > 2 > 3",
		"gc.enabled > true", "runtime.version < 'a'", "runtime.version == 1", "gc.enabled == 1",
		"type(x).count > 1", "type('x') > 1", "type('x').count", "type('x'.count > 1", "type().count > 1",
		"10XB > 1", "1.5 > 1", "(gc.enabled", "gc.enabled)", "'abc", "totals.count", "gc.enabled = false",
		"not 5", "gc.enabled and 5", "5 or gc.enabled", "gc.enabled &", "gc.enabled |", "gc.enabled @ 1",
		"99999999999999999999 > 1", "10000000000GB > 1", "growth('a').count > 1", "a.gc.enabled",
		"unreachable.bytes_delta > 0", "types.new > 0", "true true", "--1 > 0", "1 - 1 > 0",
		"((((((((((((((((((((((((((((((((((true))))))))))))))))))))))))))))))))))",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(run(bad[i], CH_GATE_HEAP) == -1))
			fprintf(stderr, "    accepted: %s\n", bad[i]);
	BAD("a.growth('x').count > 1", CH_GATE_DIFF);
	BAD("c.gc.enabled", CH_GATE_DIFF);
	BAD("a.", CH_GATE_DIFF);
	struct ch_gate *g;
	struct ch_error *err = ch_gate_parse("gc.enabled >= 1", CH_GATE_HEAP, &g);
	if (CHECK(err && err->kind == CH_ERR_USAGE))
		CHECK(strstr(err->message, "column") != NULL);
	ch_error_free(err);
}

static void test_explanation(void)
{
	struct ch_gate *g;
	if (!CHECK_OK(ch_gate_parse("growth('app.Session').count > 100 and growth('app.Session').count < 1K",
				     CH_GATE_DIFF, &g)))
		return;
	struct ch_gate_env env = {.a = &A, .b = &B, .diff = &D};
	char why[256];
	CHECK(ch_gate_eval(g, &env, why, sizeof(why)));
	CHECK_STR(why, "growth('app.Session').count = 300");
	CHECK_STR(ch_gate_text(g), "growth('app.Session').count > 100 and growth('app.Session').count < 1K");
	ch_gate_free(g);
}

int main(void)
{
	make(&A, rows_a, 4, true, 700);
	make(&B, rows_b, 4, false, 1000);
	CHECK_OK(ch_diff_compute(&D, &A, &B));
	test_digest_and_diff();
	test_operators();
	test_diff_figures();
	test_malformed();
	test_explanation();
	ch_diff_deinit(&D);
	ch_heap_digest_deinit(&A);
	ch_heap_digest_deinit(&B);
	return CHECK_SUMMARY("test_gate");
}
