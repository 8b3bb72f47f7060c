/* `coreheap index CORE`: build the heap index beside the core now, so that
 * every later command starts from it (docs/index.md). */
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/edges.h"
#include "graph/flame.h"
#include "graph/heap.h"
#include "graph/memory_brief.h"
#include "graph/paths.h"
#include "graph/root_set.h"
#include "graph/roots.h"
#include "reports/report.h"
#include "session.h"
#include "session_heap.h"

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The flame graph of the tree d (`top --format folded` and `report`'s
 * icicle), built over it and the search p and kept beside them unless
 * the index keeps it already (part of the tree's results, as the
 * retainers by type are: not a line of its own). d and p are freed
 * first: the rewrite of the index's tail reads all of it. */
static struct ch_error *flame_step(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				   struct ch_dominators *d, struct ch_paths *p)
{
	ch_progress_update(&s->progress, "flame graph", 0);
	struct ch_flame f;
	struct ch_error *err;
	bool stored = ch_root_set_flame_stored(&f, a, roots, &err);
	if (!stored && !err)
		err = ch_flame_build(&f, a, d, p);
	ch_paths_deinit(p);
	ch_dominators_deinit(d);
	if (!stored && !err)
		ch_root_set_flame_keep(a, roots, &f);
	ch_flame_deinit(&f);
	return err;
}

/* The dominator tree, kept in the index too (what top, suspects and
 * summary start from), and the roots and the shortest paths from them
 * (what path, top, suspects and summary start from): each "stored" when
 * the index held it already, "added", or "not kept" (said in a warning;
 * the index itself stands). Roots found here rather than taken from the
 * index carry the reference counts the scan step starts from: they are
 * handed over in *counted (else it is zeroed). */
static void tree_step(struct ch_session *s, struct ch_analysis *a, const char **tree, const char **paths,
		      struct ch_roots *counted)
{
	bool had = s->index_ref.doms.idom != NULL, had_paths = s->index_ref.paths.parent != NULL;
	struct ch_roots roots;
	memset(counted, 0, sizeof(*counted));
	struct ch_dominators d = {0};
	struct ch_paths p = {0};
	struct ch_error *err = ch_analysis_complete(a);
	*tree = *paths = "not kept";
	if (err) {
		memset(a, 0, sizeof(*a)); /* freed by ch_analysis_complete */
	} else {
		a->index = &s->index_ref;
		if (!(err = ch_roots_get(&roots, a))) {
			/* The search first: its arrays are smaller than the tree's,
			 * and the first is held while the second is computed, for
			 * the flame graph (the lower peak of the two orders). */
			ch_progress_update(&s->progress, "shortest paths", 0);
			err = ch_root_set_paths(&p, a, &roots);
			if (!err) {
				ch_progress_update(&s->progress, "dominator tree", 0);
				err = ch_root_set_dominators(&d, a, &roots, true);
			}
			if (!err)
				err = flame_step(s, a, &roots, &d, &p);
			ch_paths_deinit(&p);
			ch_dominators_deinit(&d);
			if (!err && roots.maybe)
				*counted = roots;
			else
				ch_roots_deinit(&roots);
		}
	}
	if (err) {
		ch_diag_warn(&s->py->diag, "no dominator tree or shortest paths in the index: %s", err->message);
		ch_error_free(err);
		return;
	}
	if (s->index_ref.holds_tree)
		*tree = had && !s->index_ref.added ? "stored" : "added";
	/* Added unless a warning said it could not be. */
	if (had_paths && !s->index_ref.paths_added)
		*paths = "stored";
	else if (s->index_ref.paths_added && !s->index_ref.paths_failed)
		*paths = "added";
}

/* The memory figures show, summary and suspects print, kept in the index
 * too: "stored", "added", or "not kept" (glibc's heap could not be read:
 * `coreheap memory` says why; nothing to keep, not a warning here). */
static const char *memory_step(struct ch_session *s, struct ch_analysis *a)
{
	if (!a->heap.py)
		return "not kept"; /* the tree step failed and freed the analysis */
	ch_progress_update(&s->progress, "memory figures", 0);
	bool had = s->index_ref.mem.have;
	struct ch_memory_held h;
	struct ch_error *err = ch_memory_held_get(&h, &a->heap, &s->index_ref);
	if (err) {
		ch_error_free(err);
		return "not kept";
	}
	ch_memory_held_deinit(&h);
	return had ? "stored" : "added";
}

/* The conservative scan's counts anomalies starts from, kept in the index
 * too: "stored", "added", or "not kept" (said in a warning). r: the roots
 * with their counts when the tree step found them (taken over), else
 * found here. */
static const char *scan_step(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r)
{
	if (!a->heap.py || !a->index) {
		ch_roots_deinit(r);
		return "not kept"; /* the tree step failed and freed the analysis */
	}
	ch_progress_update(&s->progress, "scan counts", 0);
	bool had = s->index_ref.scan.maybe != NULL;
	struct ch_error *err = r->maybe ? NULL : ch_roots_find(r, a);
	if (err) {
		ch_diag_warn(&s->py->diag, "no scan counts in the index: %s", err->message);
		ch_error_free(err);
		return "not kept";
	}
	ch_roots_scan_memory_kept(r, a);
	ch_roots_deinit(r);
	if (!s->index_ref.scan_added)
		return had ? "stored" : "not kept";
	return s->index_ref.scan_failed ? "not kept" : "added";
}

/* A result said "added" that the index did not get after all. */
static void unstage(const char **state)
{
	if (strcmp(*state, "added") == 0)
		*state = "not kept";
}

static int run_index(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	if (s.opts.no_index || strcmp(s.opts.core, "-") == 0) {
		ch_session_end(&s);
		return ch_cli_usage_error(cmd, s.opts.no_index ? "--no-index contradicts the command"
							      : "an index is kept beside a core file, not standard input");
	}
	struct ch_analysis a = {0};
	struct ch_index_report rep;
	double t0 = seconds_now();
	struct ch_error *err = ch_session_heap_build(&s, &a.heap, &a.edges, &a.replay, CH_INDEX_WRITE, &rep);
	if (err) {
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	const char *tree = "not kept", *paths = "not kept";
	struct ch_roots counted = {0};
	/* Every result staged and the index written once with all of them
	 * (docs/index.md), rather than once per result. */
	struct ch_error *staged = rep.path[0] ? ch_heap_index_stage_begin(&s.index_ref) : NULL;
	ch_error_free(staged); /* out of memory: each result written as it comes */
	staged = NULL;
	if (rep.path[0])
		tree_step(&s, &a, &tree, &paths, &counted);
	const char *memory = rep.path[0] ? memory_step(&s, &a) : "not kept";
	const char *scan = "not kept";
	if (rep.path[0])
		scan = scan_step(&s, &a, &counted);
	if (rep.path[0])
		staged = ch_heap_index_stage_commit(&s.index_ref);
	if (staged) {
		ch_diag_warn(&s.py->diag, "nothing added to the heap index: %s", staged->message);
		ch_error_free(staged);
		unstage(&tree);
		unstage(&paths);
		unstage(&memory);
		unstage(&scan);
	}
	double secs = seconds_now() - t0;
	struct stat st;
	uint64_t bytes = rep.path[0] && stat(rep.path, &st) == 0 ? (uint64_t)st.st_size : 0;
	const char *state = rep.loaded ? "reused" : rep.written ? "written" : "not written";
	json_t *doc = NULL;
	if (s.opts.json) {
		doc = json_object();
		json_object_set_new(doc, "index", rep.path[0] ? ch_json_text(rep.path) : json_null());
		json_object_set_new(doc, "state", json_string(state));
		json_object_set_new(doc, "objects", json_integer((json_int_t)a.heap.objects.n));
		json_object_set_new(doc, "references", json_integer((json_int_t)a.edges.nedges));
		json_object_set_new(doc, "bytes", json_integer((json_int_t)bytes));
		json_object_set_new(doc, "dominators", json_string(tree));
		json_object_set_new(doc, "paths", json_string(paths));
		json_object_set_new(doc, "memory", json_string(memory));
		json_object_set_new(doc, "scan", json_string(scan));
		json_object_set_new(doc, "seconds", json_real(secs));
	} else if (rep.path[0]) {
		char safe[PATH_MAX + 64];
		fprintf(s.out, "index %s: %s\n", state, ch_text_safe(rep.path, safe, sizeof(safe)));
		fprintf(s.out, "  %zu objects, %zu references, %" PRIu64 " bytes, %.2f s\n", a.heap.objects.n,
			a.edges.nedges, bytes, secs);
		fprintf(s.out, "  dominator tree: %s\n", tree);
		fprintf(s.out, "  roots and shortest paths: %s\n", paths);
		fprintf(s.out, "  memory figures: %s\n", memory);
		fprintf(s.out, "  anomalies' scan counts: %s\n", scan);
	} else {
		fprintf(s.out, "index not written (see the warnings)\n");
	}
	ch_analysis_deinit(&a);
	code = ch_session_finish(&s, doc);
	if (code == CH_EXIT_OK && !rep.loaded && !rep.written)
		code = CH_EXIT_INPUT;
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_index = {
	.name = "index",
	.summary = "Analyse the heap once and keep the result in an index beside the core.\n\n"
		   "Every command that walks the heap (types, cycles, summary, top, path, ...) first looks for\n"
		   "CORE.chindex (or, when the core's folder is not writable, its entry under\n"
		   "$XDG_CACHE_HOME/coreheap/, default ~/.cache/coreheap/) and, when it was made from this very\n"
		   "core by this very coreheap with the same files and options, starts from it instead of\n"
		   "walking the core again. Commands write one themselves for heaps of a million objects or\n"
		   "more; this command writes one whatever the size, or says it is already there (reused).\n"
		   "It also keeps the dominator tree in it (what top, suspects and summary start from), the\n"
		   "roots and the shortest paths from them (what path, top, suspects and summary start from) and the\n"
		   "native memory figures (what show, summary and suspects print from glibc's heap) and the counts\n"
		   "of anomalies' scan of the process' memory, which otherwise the first command that computes them\n"
		   "adds.\n"
		   "A stale or damaged index is never trusted: it is reported and rebuilt. --no-index on any\n"
		   "command neither reads nor writes one. Format and rules: docs/index.md.\n\n"
		   "Examples:\n"
		   "  coreheap index core.1234\n"
		   "  coreheap index core.1234 --json | jq .seconds\n",
	.usage = "index [options] CORE",
	.extras = 0,
	.run = run_index,
};
