#include "commands.h"
#include "graph/analysis.h"
#include "graph/interp_split.h"
#include "graph/heap_digest.h"
#include "graph/type_histogram.h"
#include "reports/report.h"
#include "session.h"

static int run_cycles(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	bool done;
	int code = ch_session_begin_analysis(&s, &a, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_type_histogram unreachable = {0};
	struct ch_heap_digest digest;
	/* The garbage by type and the interpreters' split in one pass. */
	struct ch_hist_query garbage = {-1, a.replay.state, CH_REPLAY_UNREACHABLE, -1, CH_SORT_BYTES, 0};
	struct ch_interp_split split = {0};
	struct ch_error *err =
		ch_interp_split_build(&split, &a.heap, -1, &a.replay, CH_SORT_BYTES, 0, &garbage, &unreachable);
	if (!err && (code = ch_session_gate_prepare(&s, &a, &digest))) {
		/* reported */
	} else if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_cycles_json(s.py, &unreachable, &a, s.opts.limit);
		if (doc)
			json_object_set_new(doc, "interpreters", ch_report_interps_json(s.py, &split, false));
		if (!s.opts.json) {
			ch_report_cycles_text(s.out, s.py, &unreachable, &a, s.opts.limit);
			ch_report_interps_text(s.out, s.py, &split, 0);
		}
		static const struct ch_ndjson_rows rows[] = {{"groups", "group"}, {"unreachable.types", "unreachable_type"}};
		code = ch_session_finish_rows(&s, doc, rows, 2, "cycles");
		code = ch_session_gate_analysis(&s, &digest, code);
	}
	ch_interp_split_deinit(&split);
	ch_type_histogram_deinit(&unreachable);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_cycles = {
	.name = "cycles",
	.summary = "The garbage a full gc.collect() would free, grouped by the shape of its reference cycles.\n\n"
		   "Computed by replaying the collector: every tracked object in generations 0-2 starts with its\n"
		   "reference count; each reference the type's own tp_traverse visits, from another such object, is\n"
		   "subtracted; objects left above zero are held from outside, and everything they reach is alive.\n"
		   "The rest is garbage. References the collector cannot see (fields a tp_traverse skips, words\n"
		   "found by a conservative scan of an unknown C type) are not subtracted, so, as in CPython, they\n"
		   "keep their targets alive. Frozen objects are outside the collection, as in CPython.\n\n"
		   "References of C types coreheap does not model come from their own tp_traverse, run in\n"
		   "an emulator; where that fails the report says NOT EXACT (JSON \"exact\": false,\n"
		   "\"conservative_types\") and the unreachable figure is a lower bound.\n\n"
		   "The garbage is split into strongly connected components and grouped by shape: the member types\n"
		   "plus the labelled edges that close the cycle, e.g.\n"
		   "  12 x  (24 objects, 1152 bytes)\n"
		   "      types: mymod.Cycle x2\n"
		   "      mymod.Cycle.peer -> mymod.Cycle\n"
		   "An instance's __dict__ is folded into its owner, so edges read as attributes. Groups whose\n"
		   "members have __del__/tp_finalize are marked. Also reported: untracked objects that only the\n"
		   "garbage keeps alive (\"freed with them\") and garbage that is not on a cycle but hangs off one.\n\n"
		   "With sub-interpreters (3.9+) each interpreter's heap is replayed on its own, as each collects\n"
		   "its own lists (a reference from another interpreter counts as from outside); a section per\n"
		   "interpreter gives its garbage (JSON \"interpreters\").\n\n"
		   "Options:\n"
		   "  --limit N            show the N largest cycle shapes by bytes (default 20, 0 for all)\n"
		   "  --fail-if EXPR       exit 1 if EXPR holds, e.g. 'unreachable.bytes > 1MB' (repeatable;\n"
		   "                       docs/gating.md lists the figures)\n"
		   "  --format ndjson      one record per line: each shape, each garbage type, then the rest\n"
		   "  --verify-traverse    developer check: also run the tp_traverse of every object of a\n"
		   "                       type coreheap models, in the emulator, and report each target\n"
		   "                       counted differently (text lines; JSON traverse_mismatches);\n"
		   "                       exit 1 when there is any difference\n\n"
		   "Examples:\n"
		   "  coreheap cycles core.1234\n"
		   "  coreheap cycles core.1234 --json --limit 0 | jq '.groups[0].edges'\n"
		   "  coreheap cycles core.1234 --fail-if 'unreachable.cycles > 0'\n"
		   "  coreheap cycles core.1234 --fail-if \"unreachable('app.Request').count > 0\"\n",
	.usage = "cycles [options] CORE",
	.extras = CH_OPT_LIMIT | CH_OPT_FAIL_IF | CH_OPT_NDJSON | CH_OPT_VERIFY,
	.run = run_cycles,
	/* The whole graph and the GC replay (and, for --fail-if, the digest
	 * of them), not the stored tree, search, roots or memory figures; no
	 * address is looked up after the replay. */
	.index_needs = CH_NEED_ADDR | CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_GEN | CH_NEED_FLAGS | CH_NEED_INTERP |
		       CH_NEED_OFFSETS | CH_NEED_TARGETS | CH_NEED_LABELS | CH_NEED_REPLAY | CH_NEED_CYCLES |
		       CH_NEED_NO_LOOKUP,
};
