/* `coreheap roots CORE`: what keeps the heap alive from outside the object
 * graph (module table, thread frames, static objects, C data, external
 * holders), in the priority order `path` uses. */
#include "commands.h"
#include "graph/roots.h"
#include "reports/report.h"
#include "session.h"

static int run_roots(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots r;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &r, cmd, argc, argv, &done);
	if (done)
		return code;
	json_t *doc = NULL;
	if (s.opts.json)
		doc = ch_report_roots_json(s.py, &a, &r, s.opts.limit);
	else
		ch_report_roots_text(s.out, s.py, &a, &r, s.opts.limit);
	code = ch_session_finish(&s, doc);
	ch_roots_deinit(&r);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_roots = {
	.name = "roots",
	.summary = "The heap's roots: what holds objects from outside the object graph.\n\n"
		   "In priority order (the order `path` prefers them): sys.modules entries, the\n"
		   "interpreter's sys and builtins dicts, each thread's frames innermost first (locals,\n"
		   "cells, globals, then value-stack words read conservatively), thread states, static\n"
		   "objects inside a mapped ELF file (static types, None), pointers in C data (writable\n"
		   "segments of mapped ELF files, interpreter states), and last the external holders:\n"
		   "objects whose refcount is larger than every reference found to them (held by C\n"
		   "code, the C stack, an extension's own memory, or leaked).\n\n"
		   "Options:\n"
		   "  --limit N            show the first N roots (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap roots core.1234\n"
		   "  coreheap roots core.1234 --json --limit 0 | jq '.counts'\n",
	.usage = "roots [options] CORE",
	.extras = CH_OPT_LIMIT,
	.run = run_roots,
};
