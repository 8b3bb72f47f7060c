#include "findings.h"

#include "graph/exactness.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

static void add(struct ch_findings *f, const char *code, const char *fmt, ...)
{
	if (f->n >= CH_MAX_FINDINGS)
		return;
	struct ch_finding *x = &f->v[f->n++];
	x->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
}

void ch_findings_collect(struct ch_findings *f, const struct ch_python *py, const struct ch_gc_replay *r,
			 const struct ch_exactness *x)
{
	const struct ch_gc_state *g = &py->gc;
	const char *least = ch_exactness_exact(x) ? "" : "at least ";
	f->n = 0;
	if (!ch_exactness_exact(x))
		add(f, "not_exact",
		    "The references of %zu object%s of %zu type%s could not be read from their own tp_traverse and were "
		    "read conservatively: unreachable counts are lower bounds (see conservative_types).",
		    x->nobjects, x->nobjects == 1 ? "" : "s", x->ntypes, x->ntypes == 1 ? "" : "s");
	if (!g->enabled && r->unreachable)
		add(f, "gc_disabled_with_garbage",
		    "The garbage collector is disabled and %s%" PRIu64 " unreachable objects (%" PRIu64
		    " bytes) are waiting for a collection that will not run.",
		    least, r->unreachable, r->unreachable_bytes);
	else if (!g->enabled)
		add(f, "gc_disabled", "The garbage collector is disabled (gc.disable()); reference cycles are never freed.");
	if (g->ngenerations > 0 && g->thresholds[0] > 0 &&
	    (int64_t)g->counts[0] > (int64_t)CH_FINDING_GEN0_FACTOR * g->thresholds[0])
		add(f, "gen0_far_past_threshold",
		    "Generation 0 holds %d new allocations, %d times its threshold of %d: no collection has run for a long time.",
		    g->counts[0], g->counts[0] / g->thresholds[0], g->thresholds[0]);
	if (g->garbage > 0)
		add(f, "gc_garbage_not_empty",
		    "gc.garbage holds %" PRId64 " objects: they stay alive until the program clears it%s.", g->garbage,
		    g->debug & 32 ? " (gc.DEBUG_SAVEALL is set, so every collection adds to it)" : "");
	if (g->collecting)
		add(f, "collection_in_progress",
		    "The process died during a garbage collection; objects being collected were on lists coreheap cannot see.");
	if (g->enabled && r->unreachable)
		add(f, "garbage_pending",
		    "%s%" PRIu64 " unreachable objects (%" PRIu64 " bytes) would be freed by the next full collection.",
		    least, r->unreachable, r->unreachable_bytes);
}
