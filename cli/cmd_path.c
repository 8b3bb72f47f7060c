/* `coreheap path CORE ADDR [--all N]`: the shortest chain of references
 * from a root to one object (why is it alive?). */
#include <inttypes.h>
#include <stdlib.h>

#include "commands.h"
#include "graph/analysis.h"
#include "graph/paths.h"
#include "graph/root_set.h"
#include "graph/roots.h"
#include "reports/report.h"
#include "session.h"

static struct ch_error *compute(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				uint32_t target, struct ch_path_set *set)
{
	ch_progress_update(&s->progress, "shortest paths", 0);
	struct ch_paths p;
	struct ch_error *err = ch_root_set_paths(&p, a, roots);
	if (err)
		return err;
	err = ch_paths_to(set, &p, &a->edges, &a->heap, target, s->opts.all);
	ch_paths_deinit(&p);
	return err;
}

static int run_path(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_path_set set = {0};
	struct ch_error *err;
	uint32_t target = ch_objects_find(&a.heap.objects, s.opts.addr);
	if (target == CH_NO_OBJECT)
		err = ch_error_new(CH_ERR_INPUT, "0x%" PRIx64 " is not the address of an object in the heap graph",
				   s.opts.addr);
	else
		err = compute(&s, &a, &roots, target, &set);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_path_json(s.py, &a, &roots, target, &set);
		else
			ch_report_path_text(s.out, s.py, &a, &roots, target, &set);
		code = ch_session_finish(&s, doc);
	}
	ch_path_set_deinit(&set);
	ch_roots_deinit(&roots);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_path = {
	.name = "path",
	.summary = "The shortest chain of references from a root to the object at ADDR (why is it alive?).\n\n"
		   "One hop per line in Python terms, from the root (sys.modules['app'], a frame's local,\n"
		   "a C global, an object held from outside the heap graph, ...) to the object:\n"
		   "  sys.modules['app']  .__dict__  ['CACHE']  [17]  .session  .request\n"
		   "each with the object's type and address. The search is breadth first, in tiers:\n"
		   "from all Python-level roots at once (modules, sys, builtins, frame locals and\n"
		   "globals), then from the internal ones (frame internals, thread states, static\n"
		   "objects, C data), then from external holders; within a tier, among equally short\n"
		   "chains the higher-priority root wins. A conservatively found word is no root when\n"
		   "the object's refcount is fully explained by certain references. Weak references\n"
		   "are not followed. An instance's __dict__ hop is folded: obj .__dict__ ['x'] reads\n"
		   "obj .x.\n\n"
		   "--all N lists up to N shortest chains, one per direct referrer of the object: the\n"
		   "referrers some root reaches, in the order the search reached them (shortest first),\n"
		   "each with its own shortest chain plus its reference to the object; a referrer whose\n"
		   "chain passes through the object itself is skipped.\n\n"
		   "An object no root reaches has no chain: the report says so (it is garbage a\n"
		   "collection would free, or held only by such garbage) and the exit code is 0.\n\n"
		   "Options:\n"
		   "  --all N              show up to N chains through different referrers (default 1)\n\n"
		   "Examples:\n"
		   "  coreheap path core.1234 0x7f0123456780\n"
		   "  coreheap path core.1234 0x7f0123456780 --all 5 --json | jq '.paths[].hops[].label'\n",
	.usage = "path [options] CORE ADDR",
	.extras = CH_OPT_ADDR | CH_OPT_ALL,
	.run = run_path,
};
