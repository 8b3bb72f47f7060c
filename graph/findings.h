/* Plain-words findings for triage (`coreheap summary`): conditions of the
 * collector's state and of the garbage that a person should be told about.
 * Each finding has a stable machine-readable code and a sentence. */
#ifndef CH_FINDINGS_H
#define CH_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "graph/gc_replay.h"
#include "readers/cpython/python.h"

#define CH_MAX_FINDINGS 8

struct ch_finding {
	const char *code;   /* e.g. "gc_disabled_with_garbage" */
	char text[256];
};

struct ch_findings {
	struct ch_finding v[CH_MAX_FINDINGS];
	size_t n;
};

/* Generation 0 this many times past its threshold is worth saying. */
#define CH_FINDING_GEN0_FACTOR 10

/* x: the heap's exactness verdict; when not exact the unreachable counts
 * are said to be lower bounds ("at least"), and a finding names why. */
struct ch_exactness;
void ch_findings_collect(struct ch_findings *f, const struct ch_python *py, const struct ch_gc_replay *r,
			 const struct ch_exactness *x);

#endif
