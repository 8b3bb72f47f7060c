/* `coreheap suspects CORE`: what is most likely wrong in the heap, most
 * important first (graph/suspects.h). */
#include "commands.h"
#include "graph/analysis.h"
#include "graph/roots.h"
#include "graph/suspects.h"
#include "reports/report.h"
#include "session.h"

static int run_suspects(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	ch_progress_update(&s.progress, "suspects", 0);
	struct ch_suspects_run run;
	struct ch_error *err = ch_suspects_run_chains(&run, &a, &roots, NULL);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		struct ch_report_suspects r = {&a, &roots, &run.d, &run.s, &run.f, s.opts.core, s.opts.limit};
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_suspects_json(s.py, &r);
		else
			ch_report_suspects_text(s.out, s.py, &r);
		code = ch_session_finish(&s, doc);
		ch_suspects_run_deinit(&run);
	}
	ch_roots_deinit(&roots);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_suspects = {
	.name = "suspects",
	.summary = "Leak suspects: the few things most likely wrong, biggest first, each with a path and a next step.\n\n"
		   "Each suspect has a one-line title, the evidence in numbers, the path that keeps it alive from a\n"
		   "root (in Python terms: sys.modules['app'].CACHE) and the command to run next. Kinds:\n\n"
		   "  accumulation  a container (dict, list, set, deque, or any object with many references)\n"
		   "                that alone keeps at least 100 objects of one type alive, together at least\n"
		   "                2 % of the heap. The elements' plumbing (a callback's closure cell) is\n"
		   "                followed to what it keeps and merged over the elements:\n"
		   "                BUS (list) holds 3,000 x app.Request via [*].__closure__[0].cell_contents.\n"
		   "                Module and class namespaces and sys.modules are not suspects.\n"
		   "  retainer      Eclipse MAT's rule: an object retaining at least 10 % of the heap, taken at the\n"
		   "                deepest object where that holds (a local of a suspended generator is named);\n"
		   "                modules, namespaces, types and what an accumulation names are left out.\n"
		   "  cycle         garbage cycles of one shape (see `cycles`) whose members plus the garbage\n"
		   "                hanging off them reach 1 % of the heap: what the next collection frees.\n"
		   "  traceback     exceptions stored with their tracebacks (grouped by holder and type) that\n"
		   "                retain at least 1 % of the heap; the biggest local their frames keep is named.\n"
		   "  tasks         asyncio task leaks (`coreheap tasks`): done tasks still referenced (those whose\n"
		   "                exception was never retrieved named first), pending tasks that can never\n"
		   "                complete, tasks awaiting each other in a ring; every such finding.\n"
		   "  memory        memory Python objects do not explain (`coreheap memory`): in-use malloc chunks\n"
		   "                nothing points at (at least 32 KiB and 0.2 % of glibc's in-use memory), free\n"
		   "                memory between live chunks (at least 1 MiB and 25 % of glibc's arenas); their\n"
		   "                share is of the allocator's memory; listed after the heap's suspects.\n"
		   "  gc            the collector findings of `summary` (disabled with garbage, gc.garbage, ...).\n\n"
		   "Retained bytes come from the dominator tree that `top` uses (what freeing the object would free);\n"
		   "shares are of the whole heap, reachable and unreachable. --json gives\n"
		   "{\"suspects\": [{\"kind\", \"title\", \"bytes\", \"share\", \"count\", \"type\", \"path\", \"next\"}]} in the same\n"
		   "order (share is a fraction, path null when no root reaches the suspect).\n\n"
		   "Options:\n"
		   "  --limit N            show the N first suspects (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap suspects core.1234\n"
		   "  coreheap suspects core.1234 --json | jq -r '.suspects[].next'\n",
	.usage = "suspects [options] CORE",
	.extras = CH_OPT_LIMIT,
	.run = run_suspects,
	/* Everything; what it reads whole is verified at the load (the
	 * retained sizes among it), the rest (addresses and the address
	 * table, flags, interpreters, labels: the suspects' and their chains';
	 * the dominator tree's idom and preorder: the candidates' and a few
	 * steps up) block by block as it reads it. */
	.index_needs = CH_NEED_ALL | CH_NEED_LAZY,
	.index_eager = CH_NEED_ALL & ~(CH_NEED_ADDR | CH_NEED_FLAGS | CH_NEED_INTERP | CH_NEED_LABELS | CH_NEED_DOMS |
				       CH_NEED_SCAN),
};
