/* `coreheap report`: one self-contained HTML page (no network, no external
 * assets) with the summary, the suspects, an icicle of the dominator tree,
 * the type table, the cycles and the thread stacks. The page's data is
 * one JSON document in a <script type="application/json"> element; the
 * style and the script (reports/report_html_assets.c) read it. */
#ifndef CH_REPORT_HTML_H
#define CH_REPORT_HTML_H

#include <stdio.h>

#include "report.h"

extern const char ch_report_html_css[];
extern const char ch_report_html_js[];

struct ch_flame;
struct ch_top;
struct ch_report_html {
	const struct ch_report_suspects *sus;   /* a, roots, d, the suspects, findings, core */
	const struct ch_flame *flame;
	const struct ch_type_histogram *types;  /* every type */
	const struct ch_top *retained;          /* ch_top_types: retained bytes per type */
	const struct ch_py_stacks *stacks;
	const struct ch_py_thread_stack *crashed;
	const struct ch_type_histogram *top_types; /* the summary's ten */
};

/* The page's data: {"runtime", "core", "summary" (as `summary --json`),
 * "suspects" (all, as `suspects --json`), "flame" {"total", "frames":
 * [[parent, name, total, self, objects]]}, "types" [{"type", "count",
 * "bytes", "retained"}], "cycles" (groups as `cycles --json`), "stacks"}:
 * what `report --json` writes. */
json_t *ch_report_html_data(const struct ch_python *py, const struct ch_report_html *r);
/* Writes the page; returns 0 or -1 on a write error. */
int ch_report_html(FILE *out, const struct ch_python *py, const struct ch_report_html *r);

#endif
