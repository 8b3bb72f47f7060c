#include "commands.h"
#include "graph/edges.h"
#include "graph/heap.h"
#include "graph/type_histogram.h"
#include "reports/report.h"
#include "session.h"

static int run_types(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_heap heap;
	struct ch_edges edges;
	struct ch_type_histogram hist;
	struct ch_error *err = ch_heap_build(&heap, s.py, ch_progress_update, &s.progress);
	/* Following references finds the untracked objects and the buffers
	 * each object owns (full shallow sizes). */
	if (!err && (err = ch_edges_build(&edges, &heap, ch_progress_update, &s.progress)))
		ch_heap_deinit(&heap);
	if (err) {
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	err = ch_type_histogram_build(&hist, &heap, s.opts.generation, s.opts.sort, s.opts.top);
	if (err) {
		ch_edges_deinit(&edges);
		ch_heap_deinit(&heap);
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	json_t *doc = NULL;
	if (s.opts.json)
		doc = ch_report_types_json(s.py, &hist);
	else
		ch_report_types_text(s.out, s.py, &hist, s.opts.generation);
	static const struct ch_ndjson_rows rows[] = {{"types", "type"}};
	code = ch_session_finish_rows(&s, doc, rows, 1, "types");
	ch_type_histogram_deinit(&hist);
	ch_edges_deinit(&edges);
	ch_heap_deinit(&heap);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_types = {
	.name = "types",
	.summary = "One row per type: count, bytes (full shallow size) and count per generation.\n\n"
		   "Untracked objects (str, int, ...) are found through references, not on a GC list.\n\n"
		   "Options:\n"
		   "  --top N              only the first N rows (TOTAL still covers every type)\n"
		   "  --sort count|bytes   order of the rows (default count)\n"
		   "  --generation G       only objects in generation 0, 1, 2, permanent or untracked\n"
		   "  --format ndjson      one record per line: each type, then the totals\n\n"
		   "Examples:\n"
		   "  coreheap types core.1234 --top 20 --sort bytes\n"
		   "  coreheap types core.1234 --generation 2 --json -o gen2.json\n",
	.usage = "types [options] CORE",
	.extras = CH_OPT_TOP | CH_OPT_SORT | CH_OPT_GENERATION | CH_OPT_NDJSON,
	.run = run_types,
};
