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

/* What compute walks the search for. */
struct path_walk {
	const struct ch_analysis *a;
	uint32_t target;
	size_t all;
	struct ch_path_set *set;
};

static struct ch_error *walk_to(const struct ch_paths *p, void *arg)
{
	struct path_walk *w = arg;
	return ch_paths_to(w->set, p, &w->a->edges, &w->a->heap, w->target, w->all);
}

static struct ch_error *compute(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				uint32_t target, struct ch_path_set *set)
{
	ch_progress_update(&s->progress, "shortest paths", 0);
	/* A stored search is checked along the chains walked only. */
	struct path_walk w = {a, target, s->opts.all, set};
	return ch_root_set_paths_walk(a, roots, walk_to, &w);
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
		   "One hop per line in Python terms, each with the object's type and address:\n"
		   "  path 1 (5 references from a module root):\n"
		   "    sys.modules['app']  module 0x7f...\n"
		   "      .__dict__         dict 0x7f...\n"
		   "      ['CACHE']         list 0x7f...\n"
		   "      [17]              app.Item 0x7f...\n"
		   "      .session          app.Session 0x7f...\n"
		   "      .request          app.Request 0x7f...\n\n"
		   "The roots are those of `coreheap roots`, in its priority order, with two refinements. A root\n"
		   "found by a conservative scan (frame_other, thread, c_global: a word that merely points at the\n"
		   "object, possibly stale) is left out when the object's refcount is fully explained by references\n"
		   "that certainly own a count: such a word owns nothing. And the search runs in three tiers: the\n"
		   "Python-level roots (modules, sys, builtins, frame locals and globals) first, to exhaustion, then\n"
		   "the internal ones (the rest of frames, thread states, static objects, C data), then the external\n"
		   "holders; so a chain from sys.modules is preferred over a shorter one from a C pointer. Within a\n"
		   "tier the search is breadth first from all its roots at once, seeded in priority order, so among\n"
		   "equally short chains the higher-priority root wins. Weak references are not followed. An\n"
		   "instance's __dict__ hop is folded: obj .__dict__ ['x'] reads obj .x (3.6-3.10; on 3.11+ the\n"
		   "attribute is already .x); a module's dict stays visible.\n\n"
		   "--all N lists up to N chains, one per direct referrer of the object: the referrers some root\n"
		   "reaches, in the order the search reached them (so the first chain is the shortest; ties go to\n"
		   "the higher-priority root, then to the order of references), each with its own shortest chain\n"
		   "plus its first reference to the object; a referrer whose chain passes through the object itself\n"
		   "is skipped; weak referrers are not referrers. An object that is itself a root has that root\n"
		   "(zero references) as its first chain.\n\n"
		   "An object no root reaches has no chain: the report says so and why (garbage the next collection\n"
		   "would free, or held only by objects no root reaches), and the exit code is 0. An address that is\n"
		   "not an object is a one-line error (exit 3).\n\n"
		   "Options:\n"
		   "  --all N              show up to N chains through different referrers (default 1)\n\n"
		   "Examples:\n"
		   "  coreheap path core.1234 0x7f0123456780\n"
		   "  coreheap path core.1234 0x7f0123456780 --all 5 --json | jq '.paths[].chain'\n",
	.usage = "path [options] CORE ADDR",
	.extras = CH_OPT_ADDR | CH_OPT_ALL,
	.run = run_path,
	/* The target's row and replay verdict, the edges and labels along the
	 * chains and into the target (and what finding the roots again reads:
	 * addresses, sizes, refcounts, edges), the stored roots and search
	 * (without them, everything: the search is made); not the cycles. */
	.index_needs = CH_NEED_ADDR | CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_OFFSETS | CH_NEED_TARGETS | CH_NEED_LABELS |
		       CH_NEED_REPLAY | CH_NEED_PATHS | CH_NEED_LAZY,
};
