/* libFuzzer target: the --fail-if expression language (graph/gate.h).
 * Each input is an expression (bytes up to the first NUL); it is parsed in
 * both scopes and, where it parses, evaluated over two small heaps and
 * their diff, with a short `why` buffer so the rendering of figures is
 * truncated too. Seeds: the expressions of docs/gating.md and of the unit
 * tests (make_seeds.py extracts them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/diff.h"
#include "graph/gate.h"
#include "graph/heap_digest.h"

static struct ch_heap_digest A, B;
static struct ch_diff D;

static void must(struct ch_error *err)
{
	if (err)
		abort(); /* a harness failure, not a finding */
}

/* A heap with a few types; scale changes the counts between A and B. */
static void make_heap(struct ch_heap_digest *d, uint64_t scale)
{
	static const char *const names[] = {"dict", "app.Session", "list", "Leak \xc3\xa9"};
	ch_heap_digest_init(d);
	must(ch_digest_str_add(d, "3.12.1", &d->version));
	must(ch_digest_str_add(d, "/usr/bin/python3", &d->executable));
	d->gc.enabled = scale > 1;
	d->gc.ngenerations = 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ch_digest_type t = {.count = (i + 1) * scale, .bytes = (i + 1) * scale * 48};
		t.gen[2] = t.count;
		t.unreachable = i == 3 ? scale : 0;
		must(ch_digest_str_add(d, names[i], &t.name));
		d->totals.count += t.count;
		d->totals.bytes += t.bytes;
		d->unreachable += t.unreachable;
		must(ch_digest_type_add(d, &t));
	}
	must(ch_digest_finish(d));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_heap(&A, 1);
	make_heap(&B, 7);
	must(ch_diff_compute(&D, &A, &B));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (int scope = CH_GATE_HEAP; scope <= CH_GATE_DIFF; scope++) {
		struct ch_gate *g = NULL;
		struct ch_error *err = ch_gate_parse(text, (enum ch_gate_scope)scope, &g);
		if (err) {
			ch_error_free(err);
			continue;
		}
		struct ch_gate_env env = scope == CH_GATE_DIFF ? (struct ch_gate_env){.a = &A, .b = &B, .diff = &D}
							       : (struct ch_gate_env){.heap = &B};
		char why[48];
		(void)ch_gate_eval(g, &env, why, sizeof(why));
		(void)ch_gate_text(g);
		ch_gate_free(g);
	}
	free(text);
	return 0;
}
