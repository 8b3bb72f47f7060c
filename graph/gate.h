/* --fail-if: a small expression language over the figures coreheap
 * reports, so that a pipeline can fail a job on heap health. Grammar:
 *
 *   expr    := and { ("or" | "||") and }
 *   and     := unary { ("and" | "&&") unary }
 *   unary   := ("not" | "!") unary | compare
 *   compare := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand ]
 *   operand := NUMBER [UNIT] | "-" NUMBER [UNIT] | "true" | "false" | STRING
 *            | "(" expr ")" | figure
 *   figure  := [ ("a" | "b") "." ] NAME { "." NAME }
 *            | [ ("a" | "b") "." ] FUNC "(" STRING ")" "." NAME
 *
 * NUMBER is decimal, optionally with a fraction when a UNIT follows; UNIT
 * (any case) is K/KB = 1000, KiB = 1024, M/MB, MiB, G/GB, GiB. STRING is
 * '...' or "..." without escapes. Types are checked when parsing: numbers
 * compare with every operator, booleans and strings with == and != only, and
 * the whole expression must be a boolean. The figures (the table in gate.c,
 * documented in docs/gating.md) are those of one heap (summary, cycles)
 * or, for diff, of the two sides (a., b.; unqualified means b, the later
 * heap) and the changes between them (growth(...), *_delta, types.new...).
 * Everything wrong with an expression is found by ch_gate_parse, before any
 * core is opened; evaluation cannot fail. */
#ifndef CH_GATE_H
#define CH_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "graph/diff.h"
#include "graph/heap_digest.h"
#include "readers/base/error.h"

enum ch_gate_scope {
	CH_GATE_HEAP, /* one heap: summary, cycles */
	CH_GATE_DIFF, /* two heaps and their diff */
};

struct ch_gate;

/* A CH_ERR_USAGE error with the column of the problem when text is malformed. */
struct ch_error *ch_gate_parse(const char *text, enum ch_gate_scope scope, struct ch_gate **out);
void ch_gate_free(struct ch_gate *g);
const char *ch_gate_text(const struct ch_gate *g);

/* What an expression is evaluated over. CH_GATE_HEAP: heap only.
 * CH_GATE_DIFF: a, b and diff. */
struct ch_gate_env {
	const struct ch_heap_digest *heap;
	const struct ch_heap_digest *a, *b;
	const struct ch_diff *diff;
};

/* The first type name the expression names (type('T'), growth('T'), ...)
 * that is a type of no heap in env (CH_GATE_HEAP: heap; CH_GATE_DIFF:
 * neither a nor b), or NULL when all are known. *similar receives a known
 * name it may have meant, or NULL. A condition on such a name would
 * silently compare zero objects: the caller reports it as a usage error. */
const char *ch_gate_unknown_type(const struct ch_gate *g, const struct ch_gate_env *env, const char **similar);

/* Whether the condition holds. why receives the values of the figures the
 * expression names: "unreachable.bytes = 2048, gc.enabled = false". */
bool ch_gate_eval(const struct ch_gate *g, const struct ch_gate_env *env, char *why, size_t why_size);

#endif
