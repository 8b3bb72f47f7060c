#include <string.h>

#include "commands.h"
#include "graph/analysis.h"
#include "graph/interp_split.h"
#include "graph/findings.h"
#include "graph/native_stacks.h"
#include "graph/roots.h"
#include "graph/suspects.h"
#include "graph/type_histogram.h"
#include "readers/cpython/py_frames.h"
#include "readers/cpython/py_threads.h"
#include "graph/memory_brief.h"
#include "reports/report.h"
#include "reports/report_memory.h"
#include "session.h"

#define CH_SUMMARY_TOP_TYPES 10

/* The native and Python frames of the thread that received the fatal
 * signal. An unwinder that cannot start is a warning, not a failure. */
static struct ch_error *crashed_native(struct ch_session *s, const struct ch_py_stacks *st, struct ch_mixed_stacks *out)
{
	long i = ch_core_crashed_thread(s->proc->core);
	if (i < 0)
		return NULL;
	struct ch_native *native;
	struct ch_error *err = ch_native_open(s->proc, &native);
	if (err) {
		bool nomem = err == &ch_error_nomem;
		if (!nomem)
			ch_diag_warn(&s->py->diag, "no native frames: %s", err->message);
		ch_error_free(err);
		return nomem ? &ch_error_nomem : NULL;
	}
	err = ch_mixed_stacks_build(native, s->proc, st, s->proc->core->threads[i].tid, out);
	ch_native_close(native);
	return err;
}

static int run_summary(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_type_histogram types = {0};
	struct ch_py_stacks stacks = {0};
	struct ch_interp_split split = {0};
	/* The top types and the interpreters' split in one pass. */
	struct ch_hist_query whole = {-1, NULL, 0, -1, CH_SORT_BYTES,
				      s.opts.limit_given ? s.opts.limit : CH_SUMMARY_TOP_TYPES};
	struct ch_error *err = ch_interp_split_build(&split, &a.heap, -1, &a.replay, CH_SORT_BYTES,
						     CH_SUMMARY_TOP_TYPES, &whole, &types);
	/* The crashed thread's stack, when the frames can be read at all;
	 * the triage screen is still worth printing without it. */
	const struct ch_py_thread_stack *crashed = NULL;
	if (!err) {
		struct ch_error *serr = ch_py_stacks_read(s.py, false, &stacks);
		if (serr) {
			ch_diag_warn(&s.py->diag, "no stacks: %s", serr->message);
			ch_error_free(serr);
			memset(&stacks, 0, sizeof(stacks));
		}
		for (size_t i = 0; i < stacks.nthreads; i++)
			if (stacks.threads[i].crashed)
				crashed = &stacks.threads[i];
	}
	/* Its native frames too, when they can be unwound (a warning if not). */
	struct ch_mixed_stacks native = {0};
	if (!err)
		err = crashed_native(&s, &stacks, &native);
	/* The memory line (and the memory suspects): its own warnings stay
	 * out of summary's exit code (`coreheap memory` reports them); it
	 * says when partial. */
	struct ch_memory_held mem;
	struct ch_error *merr = err ? NULL : ch_memory_held_get(&mem, &a.heap, a.index);
	if (merr) {
		ch_diag_warn(&s.py->diag, "no memory line: %s", merr->message);
		ch_error_free(merr);
	}
	bool have_mem = !err && !merr;
	/* The suspects head the screen (graph/suspects.h). */
	struct ch_suspects_run run;
	bool have_suspects = false;
	if (!err) {
		ch_progress_update(&s.progress, "suspects", 0);
		err = ch_suspects_run_chains(&run, &a, &roots, have_mem ? &mem.b : NULL);
		have_suspects = !err;
	}
	struct ch_heap_digest digest;
	if (err) {
		code = ch_session_fail(&s, err);
	} else if ((code = ch_session_gate_prepare(&s, &a, &digest))) {
		/* reported */
	} else {
		const struct ch_thread_mixed *cn = native.nthreads ? &native.threads[0] : NULL;
		struct ch_report_suspects sus = {&a, &roots, &run.d, &run.s, &run.f, s.opts.core, 0};
		json_t *doc = NULL;
		if (s.opts.json) {
			doc = ch_report_summary_json(s.py, &types, &a.replay, &a.cycles, &run.f, &stacks, crashed, cn, &sus);
			if (have_mem && doc)
				json_object_set_new(doc, "memory", ch_report_memory_brief_json(&mem.b));
			if (doc)
				json_object_set_new(doc, "interpreters", ch_report_interps_json(s.py, &split, true));
		} else {
			ch_report_summary_text(s.out, s.py, &types, &a.replay, &a.cycles, &run.f, &stacks, crashed, cn, &sus);
			if (have_mem)
				ch_report_memory_line(s.out, &mem.b);
			ch_report_interps_text(s.out, s.py, &split, 5);
		}
		code = ch_session_finish(&s, doc);
		code = ch_session_gate_analysis(&s, &digest, code);
	}
	if (have_mem)
		ch_memory_held_deinit(&mem);
	ch_mixed_stacks_deinit(&native);
	if (have_suspects)
		ch_suspects_run_deinit(&run);
	ch_py_stacks_deinit(&stacks);
	ch_type_histogram_deinit(&types);
	ch_interp_split_deinit(&split);
	ch_roots_deinit(&roots);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_summary = {
	.name = "summary",
	.summary = "One screen for triage: suspects, runtime, GC state, heap totals, top types, garbage, cycles.\n\n"
		   "Shows the runtime, the collector's state, heap totals by generation, the garbage (the unreachable\n"
		   "objects a full collection frees, and separately the untracked objects freed with them), the five\n"
		   "first leak suspects (as `coreheap suspects` ranks them), the ten types with the most bytes, the\n"
		   "five largest cycle shapes, the innermost frames of the thread that received the fatal signal, and\n"
		   "last the commands to run next on the biggest suspects. Findings in plain words where the state\n"
		   "calls for them: the collector disabled while garbage accumulates, generation 0 more than ten\n"
		   "times past its threshold, objects left in gc.garbage, a collection in progress at the time of\n"
		   "the dump.\n\n"
		   "With sub-interpreters (3.9+) a last section gives each interpreter's objects, top types and\n"
		   "garbage (JSON \"interpreters\").\n\n"
		   "Options:\n"
		   "  --fail-if EXPR       exit 1 if EXPR holds, e.g. 'unreachable.bytes > 1MB' or\n"
		   "                       'gc.enabled == false' (repeatable; any figure of the heap: docs/gating.md)\n"
		   "  --limit N            list the N biggest types (default 10, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap summary core.1234\n"
		   "  coreheap summary core.1234 --json | jq .findings\n"
		   "  coreheap summary core.1234 --fail-if 'unreachable.bytes > 1MB' --fail-if 'not gc.enabled'\n",
	.usage = "summary [options] CORE",
	.extras = CH_OPT_FAIL_IF | CH_OPT_LIMIT,
	.run = run_summary,
	/* Everything; what it reads whole is verified at the load (the
	 * retained sizes among it), the rest (addresses and the address
	 * table, flags, interpreters, labels: the suspects' and their chains';
	 * the dominator tree's idom and preorder: the candidates' and a few
	 * steps up) block by block as it reads it. */
	.index_needs = CH_NEED_ALL | CH_NEED_LAZY,
	.index_eager = CH_NEED_ALL & ~(CH_NEED_ADDR | CH_NEED_FLAGS | CH_NEED_INTERP | CH_NEED_LABELS | CH_NEED_DOMS |
				       CH_NEED_SCAN),
};
