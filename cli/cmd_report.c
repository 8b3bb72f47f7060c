/* `coreheap report CORE -o heap.html`: the one-page HTML report
 * (reports/report_html.h). */
#include <string.h>

#include "commands.h"
#include "graph/analysis.h"
#include "graph/flame.h"
#include "graph/root_set.h"
#include "graph/roots.h"
#include "graph/suspects.h"
#include "graph/top.h"
#include "graph/type_histogram.h"
#include "readers/cpython/py_frames.h"
#include "reports/report.h"
#include "reports/report_html.h"
#include "session.h"

#define CH_REPORT_TOP_TYPES 10

/* What the page shows besides the suspects. */
struct page {
	struct ch_flame flame;
	struct ch_type_histogram types, top_types;
	struct ch_top retained;
	struct ch_py_stacks stacks;
};

/* flame: pg->flame holds the index's flame graph already. */
static struct ch_error *gather(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
			       struct ch_suspects_run *run, struct page *pg, bool flame)
{
	struct ch_error *err;
	if ((!flame && (err = ch_root_set_flame_build(&pg->flame, a, roots, &run->d, &run->p))) ||
	    (err = ch_type_histogram_build(&pg->types, &a->heap, -1, CH_SORT_BYTES, 0)) ||
	    (err = ch_type_histogram_build(&pg->top_types, &a->heap, -1, CH_SORT_BYTES, CH_REPORT_TOP_TYPES)) ||
	    (err = ch_root_set_top_types(&pg->retained, &run->d, a)))
		return err;
	/* The stacks are worth having, the page is worth writing without them. */
	struct ch_error *serr = ch_py_stacks_read(s->py, false, &pg->stacks);
	if (serr) {
		ch_diag_warn(&s->py->diag, "no stacks: %s", serr->message);
		ch_error_free(serr);
		memset(&pg->stacks, 0, sizeof(pg->stacks));
	}
	return NULL;
}

static int run_report(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	ch_progress_update(&s.progress, "report", 0);
	struct ch_suspects_run run;
	struct page pg;
	memset(&pg, 0, sizeof(pg));
	/* With the index's flame graph nothing else walks the tree or reads
	 * the whole search: the suspects are found as `suspects` finds them
	 * (the stored tree unchecked, the search along their chains). */
	struct ch_error *err = NULL;
	bool flame = ch_root_set_flame_stored(&pg.flame, &a, &roots, &err);
	bool have_run = false;
	if (!err) {
		err = flame ? ch_suspects_run_chains(&run, &a, &roots, NULL) : ch_suspects_run(&run, &a, &roots, NULL);
		have_run = !err;
	}
	if (!err)
		err = gather(&s, &a, &roots, &run, &pg, flame);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		const struct ch_py_thread_stack *crashed = NULL;
		for (size_t i = 0; i < pg.stacks.nthreads; i++)
			if (pg.stacks.threads[i].crashed)
				crashed = &pg.stacks.threads[i];
		struct ch_report_suspects sus = {&a, &roots, &run.d, &run.s, &run.f, s.opts.core, 0};
		struct ch_report_html r = {&sus, &pg.flame, &pg.types, &pg.retained, &pg.stacks, crashed, &pg.top_types};
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_html_data(s.py, &r);
		else
			(void)ch_report_html(s.out, s.py, &r); /* a write error: ch_session_finish reports it */
		code = ch_session_finish(&s, doc);
	}
	ch_py_stacks_deinit(&pg.stacks);
	ch_top_deinit(&pg.retained);
	ch_type_histogram_deinit(&pg.top_types);
	ch_type_histogram_deinit(&pg.types);
	ch_flame_deinit(&pg.flame);
	if (have_run)
		ch_suspects_run_deinit(&run);
	ch_roots_deinit(&roots);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_report = {
	.name = "report",
	.summary = "One self-contained HTML page: summary, suspects, a zoomable icicle, types, cycles, stacks.\n\n"
		   "Writes one HTML file that opens from file:// with no network and no external assets (a\n"
		   "Content-Security-Policy forbids any fetch): the summary and the findings; the leak suspects as\n"
		   "`coreheap suspects` lists them, with paths and next commands; an icicle of the dominator tree by\n"
		   "retained bytes (the frames of `top --format folded`, frames narrower than 0.05 % of the heap left\n"
		   "out), with the path and sizes on hover and click to zoom; every type with its objects, bytes and\n"
		   "retained bytes, sortable by any column and filterable by name (also from the page address:\n"
		   "heap.html#filter=Request); the garbage cycles with what they keep alive; the thread stacks\n"
		   "(without locals). The page's data is one JSON document inside it. Names from the heap are shown\n"
		   "as text, never interpreted as HTML. With --redact, str and bytes contents (dict keys in labels)\n"
		   "are left out as everywhere else (docs/privacy.md); thread names are not redacted. --json writes\n"
		   "the page's data instead of the page (docs/json.md).\n\n"
		   "Options:\n"
		   "  -o FILE              write the page to FILE (default: standard output)\n\n"
		   "Examples:\n"
		   "  coreheap report core.1234 -o heap.html\n"
		   "  coreheap report core.1234 --redact -o heap.html\n",
	.usage = "report [options] CORE",
	.extras = 0,
	.run = run_report,
};
