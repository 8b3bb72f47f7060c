#include <string.h>

#include "commands.h"
#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/diff.h"
#include "graph/heap_digest.h"
#include "graph/heap_index_lazy.h"
#include "graph/roots.h"
#include "reports/snapshot_read.h"
#include "reports/report.h"
#include "session.h"

/* One side of the diff as a digest: a snapshot is read; a core is opened
 * in a session of its own (the command's options, that core), analysed as
 * `snapshot` analyses it, from its heap index when a sound one exists
 * (docs/index.md), digested and closed again, so two large cores are never
 * in memory at once. */
static struct ch_error *load_side(struct ch_session *s, const char *path, struct ch_heap_digest *d,
				  struct ch_diff_side *side)
{
	side->source = path;
	if (ch_snapshot_sniff(path)) {
		side->kind = "snapshot";
		return ch_snapshot_read(path, d);
	}
	side->kind = "core";
	struct ch_session one = {.cmd = s->cmd, .opts = s->opts, .progress = s->progress, .needs = s->needs};
	one.opts.core = path;
	struct ch_analysis a;
	struct ch_error *err = ch_process_open(path, &one.opts.process, &one.proc);
	if (!err)
		err = ch_python_open(one.proc, &one.py);
	if (!err && !(err = ch_session_analyse(&one, &a))) {
		struct ch_roots roots;
		if (!(err = ch_roots_get(&roots, &a))) {
			err = ch_session_digest(&one, &a, &roots, d, NULL);
			ch_roots_deinit(&roots);
		}
		ch_analysis_deinit(&a);
	}
	/* As ch_session_finish does for one core: what needed bytes past a
	 * truncated core's cut is partial, and a failure the cut explains is
	 * reported as the cut. */
	if (!err)
		ch_session_note_lost(&d->diag, one.proc);
	bool explained;
	if (err && one.proc)
		err = ch_process_explain(one.proc, err, &explained);
	s->progress = one.progress;
	ch_session_end(&one);
	/* This side's index read lazily is done with: the other side's can
	 * be read so too, and this one's pages are let go. */
	ch_index_lazy_end();
	return err;
}

/* The diff's warnings: each side's, named by side. */
static void merge_diag(struct ch_diag *out, const struct ch_heap_digest *a, const struct ch_heap_digest *b)
{
	ch_diag_init(out);
	const struct ch_heap_digest *sides[2] = {a, b};
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < sides[i]->diag.n; k++)
			ch_diag_warn(out, "%c: %s", "AB"[i], sides[i]->diag.messages[k]);
		out->dropped += sides[i]->diag.dropped;
		out->partial |= sides[i]->diag.partial;
	}
}

static int run_diff(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_parse(&s, cmd, argc, argv, CH_GATE_DIFF, &done);
	if (done)
		return code;
	struct ch_heap_digest a, b;
	struct ch_diff_side sa, sb;
	ch_heap_digest_init(&a);
	ch_heap_digest_init(&b);
	struct ch_error *err = load_side(&s, s.opts.core, &a, &sa);
	if (!err)
		err = load_side(&s, s.opts.second, &b, &sb);
	if (err) {
		ch_heap_digest_deinit(&a);
		ch_heap_digest_deinit(&b);
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	struct ch_diag diag;
	merge_diag(&diag, &a, &b);
	s.diag = &diag;
	struct ch_diff d;
	struct ch_gate_env check = {.a = &a, .b = &b, .diff = &d};
	code = ch_session_gate_check(&s, &check);
	if (code)
		ch_session_end(&s);
	else
		code = ch_session_open_output(&s, &done);
	done = done || code;
	if (!done) {
		err = ch_diff_compute(&d, &a, &b);
		if (err) {
			code = ch_session_fail(&s, err);
		} else {
			static const struct ch_ndjson_rows rows[] = {{"types", "type"}, {"groups", "group"}};
			json_t *doc = NULL;
			if (s.opts.json)
				doc = ch_report_diff_json(&d, &sa, &sb, s.opts.limit);
			else
				ch_report_diff_text(s.out, &d, &sa, &sb, s.opts.limit);
			code = ch_session_finish_rows(&s, doc, rows, 2, "diff");
			struct ch_gate_env env = {.a = &a, .b = &b, .diff = &d};
			code = ch_session_gate(&s, &env, code);
			ch_diff_deinit(&d);
		}
		ch_session_end(&s);
	}
	ch_diag_deinit(&diag);
	ch_heap_digest_deinit(&a);
	ch_heap_digest_deinit(&b);
	return code;
}

const struct ch_cli_command ch_cmd_diff = {
	.name = "diff",
	.summary = "What changed between two heaps: per-type count and byte deltas, GC state, garbage.\n\n"
		   "A is the earlier heap, B the later. Each side is a core or a snapshot (`coreheap snapshot`),\n"
		   "told apart by content (a snapshot is JSON, a core is ELF), so a pipeline can diff the snapshot\n"
		   "it stored last week against today's core. Reports the change of the heap's totals, of the\n"
		   "unreachable garbage (objects, bytes, cycles), of the collector's state field by field (enabled,\n"
		   "debug, thresholds, counts, collecting, garbage, frozen), and one row per type whose count or\n"
		   "bytes changed: new (absent from A), grown, shrunk, gone (absent from B), sorted by growth in\n"
		   "bytes (then count, then name); cycle shapes likewise. Types are matched by name\n"
		   "(module.qualname), so two dumps of the same program line up although every address differs. A\n"
		   "core diffed with its own snapshot has no differences. When either side's figures are not exact\n"
		   "(references of some objects read conservatively: see `cycles`), each side's verdict is said,\n"
		   "with its types and reasons, and the unreachable deltas are no more exact than that side.\n\n"
		   "Memory: the figures of `coreheap memory` that changed, each with A, B and B - A: the breakdown\n"
		   "rows, glibc's mallinfo2 and the program's view, pymalloc's arenas and bytes, native memory\n"
		   "owned by objects and not (anchored, unreferenced). A snapshot written before coreheap recorded\n"
		   "memory has none: the memory comparison is then said to be unavailable.\n\n"
		   "Growth suspects: the containers (any object directly holding at least 16 elements it alone\n"
		   "keeps, as `suspects` counts them; the 200 retaining the most on each side) are matched by their\n"
		   "path from the roots (sys.modules['app'].CACHE), not by address, as Eclipse MAT's comparison\n"
		   "does; those whose element count or retained bytes grew are listed first, by retained growth.\n"
		   "A snapshot made before coreheap recorded containers has none: no growth is then listed.\n\n"
		   "Options:\n"
		   "  --fail-if EXPR       exit 1 if EXPR holds, e.g. \"growth('app.Session').count > 100\"\n"
		   "                       (repeatable; unqualified figures are B's, a.X and b.X name a side;\n"
		   "                       docs/gating.md lists the figures)\n"
		   "  --format ndjson      one record per line: each type, each shape, then the rest\n"
		   "  --limit N            list the first N type rows and cycle shapes (default all; the counts\n"
		   "                       and --fail-if cover all)\n\n"
		   "Examples:\n"
		   "  coreheap snapshot core.1001 -o monday.json\n"
		   "  coreheap diff monday.json core.2002 --fail-if \"growth('app.Session').count > 100\"\n"
		   "  coreheap diff before.json after.json --json | jq '.types[:5]'\n"
		   "  coreheap diff before.json after.json --fail-if 'unreachable.bytes_delta > 1MB'\n",
	.usage = "diff [options] A B",
	.extras = CH_OPT_FAIL_IF | CH_OPT_NDJSON | CH_OPT_SECOND | CH_OPT_LIMIT | CH_OPT_LIMIT_ALL,
	.run = run_diff,
	/* Each core side's index: everything but the scan counts, which a
	 * digest never reads. What it reads whole (the columns the type
	 * histogram counts, the edge offsets the containers' finder reads
	 * for every object, the GC replay; the retained sizes, as always) is
	 * verified at the load on two threads, the rest (the addresses and
	 * address table, flags, edges, the tree's idom and preorder and the
	 * search: the garbage's, the containers' and their chains') block by
	 * block as read; each side's lazy read ends with the side
	 * (ch_index_lazy_end), so the second side's index is read so too. */
	.index_needs = (CH_NEED_ALL & ~CH_NEED_SCAN) | CH_NEED_LAZY,
	.index_eager = CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_GEN | CH_NEED_INTERP | CH_NEED_OFFSETS | CH_NEED_REPLAY |
		       CH_NEED_DOMS,
};
