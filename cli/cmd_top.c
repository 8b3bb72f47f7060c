/* `coreheap top CORE [--by object|type]`: the biggest retainers, from the
 * dominator tree over the roots (what freeing one object would free). */
#include <stdlib.h>

#include "commands.h"
#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/memory.h"
#include "graph/flame.h"
#include "graph/paths.h"
#include "graph/root_set.h"
#include "graph/roots.h"
#include "graph/top.h"
#include "reports/report.h"
#include "session.h"

static struct ch_error *object_roots(const struct ch_paths *p, void *t)
{
	return ch_top_objects_roots(t, p);
}

/* d is filled already when `top --native` summed the stored tree again. */
static struct ch_error *compute(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				struct ch_dominators *d, struct ch_top *t)
{
	ch_progress_update(&s->progress, "dominator tree", 0);
	bool have = d->idom != NULL;
	if (s->opts.by == CH_TOP_BY_TYPE)
		return have ? ch_root_set_top_types(t, d, a) : ch_root_set_types(t, d, a, roots);
	struct ch_error *err = have ? NULL : ch_root_set_dominators(d, a, roots, false);
	if (err)
		return err;
	if ((err = ch_top_objects(t, d, &a->heap, s->opts.limit)))
		return err;
	/* The root each listed object's shortest path starts from, along
	 * those chains only. */
	return ch_root_set_paths_walk(a, roots, object_roots, t);
}

/* --native: each object's size grows by the native memory it owns
 * (graph/memory.h), before the dominator tree sums sizes. The graph is
 * the same, so a tree the index holds is summed again over the new sizes
 * into d (taken before the sizes change); else d stays empty and the
 * tree is built. Either way nothing more of the index is used or added
 * to: its sums and rows are over the sizes without native memory. */
static struct ch_error *add_native(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				   struct ch_dominators *d)
{
	struct ch_dominators stored;
	bool found;
	struct ch_error *err = ch_root_set_stored_tree(&stored, &found, a, roots);
	struct ch_diag mdiag;
	ch_diag_init(&mdiag);
	struct ch_memory mem;
	if (!err && !(err = ch_memory_build(s->proc, s->py, &a->heap, &mdiag, &mem))) {
		if (!mem.glibc.found)
			ch_diag_warn(&s->py->diag, "--native: glibc malloc not read (%s): no native bytes", mem.glibc.why_not);
		for (size_t i = 0; i < mdiag.n; i++)
			ch_diag_warn(&s->py->diag, "--native: %s", mdiag.messages[i]);
		if (mdiag.partial)
			s->py->diag.partial = true;
		err = ch_memory_add_native_sizes(&mem, &a->heap.objects);
		ch_memory_deinit(&mem);
	}
	if (!err && found)
		err = ch_dominators_resum(d, &stored, &a->heap.objects);
	a->index = NULL; /* sizes with native memory: not the tree the index keeps */
	ch_dominators_deinit(&stored);
	ch_diag_deinit(&mdiag);
	return err;
}

/* --format folded: the dominator tree as a flame graph (the index's, when
 * it keeps it: neither the tree nor the search is read then). */
static int folded(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots)
{
	struct ch_flame f = {0};
	ch_progress_update(&s->progress, "dominator tree", 0);
	struct ch_error *err = ch_root_set_flame(&f, a, roots);
	int code;
	if (err) {
		code = ch_session_fail(s, err);
	} else {
		(void)ch_report_flame_folded(s->out, &f, a, roots); /* a write error: ch_session_finish reports it */
		code = ch_session_finish(s, NULL);
	}
	ch_flame_deinit(&f);
	return code;
}

static int run_top(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	if (s.opts.format == CH_FORMAT_FOLDED) {
		code = folded(&s, &a, &roots);
		ch_roots_deinit(&roots);
		ch_analysis_deinit(&a);
		ch_session_end(&s);
		return code;
	}
	struct ch_dominators d = {0};
	struct ch_top t = {0};
	struct ch_error *err = s.opts.native ? add_native(&s, &a, &roots, &d) : NULL;
	if (!err)
		err = compute(&s, &a, &roots, &d, &t);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		struct ch_report_top r = {&a, &roots, &d, &t, s.opts.by == CH_TOP_BY_TYPE, s.opts.limit};
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_top_json(s.py, &r);
		else
			ch_report_top_text(s.out, s.py, &r);
		code = ch_session_finish(&s, doc);
	}
	ch_top_deinit(&t);
	ch_dominators_deinit(&d);
	ch_roots_deinit(&roots);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_top = {
	.name = "top",
	.summary = "The biggest retainers: objects (or types) by retained size, what freeing them would free.\n\n"
		   "The retained size of an object is the sum of the full sizes of every object it dominates (every\n"
		   "chain of references from the roots to them passes through it), itself included. The roots are\n"
		   "those `path` starts from (conservative words that cannot own a count left out, as `coreheap path\n"
		   "--help` describes); a virtual root above them all is the top of the dominator tree, so an object\n"
		   "two roots reach is retained by neither. Weak references do not retain (as in Eclipse MAT).\n\n"
		   "--by object (default) lists single objects by retained size, each with its retained object\n"
		   "count, shallow size, and the root its shortest path starts from; the list is the whole heap's,\n"
		   "so nested retainers (a module, its dict, a list in it) appear one after another.\n\n"
		   "--by type groups per type the way MAT's dominator view \"group by class\" does: a row's retained\n"
		   "total adds up only the objects of that type no other object of the same type dominates, so\n"
		   "nothing is counted twice within a row (a 1000-node linked list counts once, at its head); rows\n"
		   "of different types overlap (a dict's row includes the lists it retains) and do not add up to the\n"
		   "heap.\n\n"
		   "The totals line gives the heap, the part the roots reach and the unreachable rest (garbage,\n"
		   "which retains nothing). Computed with the Lengauer-Tarjan algorithm (iterative, no recursion)\n"
		   "over the whole graph.\n\n"
		   "--format folded writes the dominator tree as folded stacks, the input of flamegraph.pl,\n"
		   "inferno and speedscope: one line \"frame;frame;frame BYTES\" per frame. A frame is how an object\n"
		   "is held by its immediate dominator plus its type, \"['CACHE'] (dict)\"; list indexes, set items\n"
		   "and the keys of dicts with more than 256 entries read as [*], so the elements of a container\n"
		   "merge into one frame. BYTES is the full size of the objects in that frame itself, so the lines\n"
		   "add up to the reachable bytes (the retained total of the roots) and each frame's width in a\n"
		   "flame graph is its retained size. Stacks deeper than 64 frames are cut there (the rest is\n"
		   "weighed in the 64th). --by and --limit do not apply.\n\n"
		   "Options:\n"
		   "  --by object|type     list single objects (default) or types\n"
		   "  --native             count the native memory objects own (malloc chunks whose start only\n"
		   "                       they point at, e.g. numpy array data; inferred, see `coreheap memory`)\n"
		   "                       in their size and so in retained sizes. Off by default: it reads\n"
		   "                       glibc's heap\n"
		   "  --limit N            show the N biggest (default 20, 0 for all)\n"
		   "  --format folded      folded stacks for flame graphs (see above)\n\n"
		   "Examples:\n"
		   "  coreheap top core.1234\n"
		   "  coreheap top core.1234 --by type --limit 10\n"
		   "  coreheap top core.1234 --json | jq '.objects[0]'\n"
		   "  coreheap top core.1234 --format folded | flamegraph.pl > heap.svg\n",
	.usage = "top [options] CORE",
	.extras = CH_OPT_BY | CH_OPT_LIMIT | CH_OPT_NATIVE | CH_OPT_FOLDED,
	.run = run_top,
	/* Everything; what it reads whole is verified at the load (the
	 * retained sizes among it), the rest (addresses and the address
	 * table, flags, interpreters, labels: the listed objects' and their
	 * chains'; the dominator tree's idom and preorder: the listed objects'
	 * dominators, none with --by type or --format folded from an index
	 * that keeps their rows or flame graph, all of it with --format folded
	 * otherwise) block by block as it reads it. The GC replay on its own
	 * scratch: the memory peak is the dominator tree's, and the address
	 * table is looked up after the replay (the roots). */
	.index_needs = CH_NEED_ALL | CH_NEED_LAZY | CH_NEED_OWN_SCRATCH,
	.index_eager = CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_GEN | CH_NEED_OFFSETS | CH_NEED_TARGETS | CH_NEED_REPLAY |
		       CH_NEED_PATHS,
};
