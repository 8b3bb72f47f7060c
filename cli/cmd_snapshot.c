#include "commands.h"
#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/heap_digest.h"
#include "graph/root_set.h"
#include "graph/roots.h"
#include "graph/top.h"
#include "reports/snapshot_read.h"
#include "reports/report.h"
#include "session.h"

static int run_snapshot(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_heap_digest d;
	struct ch_dominators dom = {0};
	struct ch_top top = {0};
	struct ch_error *err = ch_session_digest(&s, &a, &roots, &d, &s.py->diag);
	/* The retainers by type: names, so they compare across dumps. */
	if (!err)
		err = ch_root_set_types(&top, &dom, &a, &roots);
	if (err) {
		code = ch_session_fail(&s, err);
		ch_top_deinit(&top);
		ch_dominators_deinit(&dom);
		ch_roots_deinit(&roots);
		ch_analysis_deinit(&a);
		ch_session_end(&s);
		return code;
	}
	json_t *doc = ch_report_snapshot_json(s.py, &d);
	json_object_set_new(doc, "retainers", ch_report_retainers_json(s.py, &top, CH_SNAPSHOT_RETAINERS));
	ch_top_deinit(&top);
	ch_dominators_deinit(&dom);
	ch_roots_deinit(&roots);
	s.exactness = NULL; /* a snapshot is a stored digest, not a report */
	ch_analysis_deinit(&a);
	/* Written compact, not through ch_session_finish's indented JSON. */
	if (ch_report_write_snapshot(s.out, doc, &s.py->diag) != 0)
		code = CH_EXIT_INTERNAL;
	json_decref(doc);
	int fcode = ch_session_finish(&s, NULL);
	if (code == CH_EXIT_OK)
		code = fcode;
	ch_heap_digest_deinit(&d);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_snapshot = {
	.name = "snapshot",
	.summary = "A compact JSON digest of the heap for pipelines to store and `diff` to compare.\n\n"
		   "The runtime, the collector's state, objects and bytes per type (and per generation), the\n"
		   "unreachable garbage by type and its cycle shapes (at most the 1000 largest), the 100 biggest\n"
		   "retainers by type (as `top --by type`), the 200 biggest containers by their path from the\n"
		   "roots (what `diff` matches for its growth suspects), and the memory figures of `coreheap memory`\n"
		   "(breakdown rows, mallinfo2, pymalloc, native owned/unowned). No per-object data, so a snapshot\n"
		   "is kilobytes (about 100 bytes per type) whatever the number of objects. It is one line of JSON\n"
		   "with a \"schema\" version, keys in a fixed order and types sorted by name, so two snapshots of\n"
		   "the same core are byte-identical. The schema and its versioning: docs/snapshots.md.\n\n"
		   "Examples:\n"
		   "  coreheap snapshot core.1234 -o heap-1234.json\n"
		   "  coreheap diff heap-1234.json core.5678\n",
	.usage = "snapshot [options] CORE",
	.extras = 0,
	.run = run_snapshot,
};
