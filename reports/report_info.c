#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "readers/cpython/py_threads.h"

static json_t *int_array(const int *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

json_t *ch_report_gc_json(const struct ch_gc_state *g, uint64_t frozen)
{
	json_t *o = json_object();
	json_object_set_new(o, "enabled", json_boolean(g->enabled));
	json_object_set_new(o, "debug", json_integer(g->debug));
	json_object_set_new(o, "thresholds", int_array(g->thresholds, g->ngenerations));
	json_object_set_new(o, "counts", int_array(g->counts, g->ngenerations));
	json_object_set_new(o, "collecting", json_boolean(g->collecting));
	json_object_set_new(o, "garbage", g->garbage >= 0 ? json_integer(g->garbage) : json_null());
	json_object_set_new(o, "frozen", json_integer((json_int_t)frozen));
	json_object_set_new(o, "long_lived_total", g->long_lived_total >= 0 ? json_integer(g->long_lived_total) : json_null());
	json_object_set_new(o, "long_lived_pending",
			    g->long_lived_pending >= 0 ? json_integer(g->long_lived_pending) : json_null());
	json_t *stats = json_array();
	for (int i = 0; g->have_stats && i < g->ngenerations; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "collections", json_integer(g->stats[i].collections));
		json_object_set_new(s, "collected", json_integer(g->stats[i].collected));
		json_object_set_new(s, "uncollectable", json_integer(g->stats[i].uncollectable));
		json_array_append_new(stats, s);
	}
	json_object_set_new(o, "stats", stats);
	return o;
}

/* The layout cache's part (readers/cpython/py_layout_cache.h); null when
 * it had none (a built-in table, DWARF without a build-id). */
static json_t *cache_json(const struct ch_py_layout_cache *c)
{
	const char *state = ch_py_layout_cache_state_name(c->state);
	if (!state)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "state", ch_json_text(state));
	json_object_set_new(o, "file", c->path[0] ? ch_json_text(c->path) : json_null());
	json_object_set_new(o, "ignored", c->ignored[0] ? ch_json_text(c->ignored) : json_null());
	json_object_set_new(o, "problem", c->problem[0] ? ch_json_text(c->problem) : json_null());
	return o;
}

/* Where the layout came from and how it was checked (docs/json.md, `info --json`). */
static json_t *layout_json(const struct ch_python *py)
{
	const struct ch_py_layout *l = &py->layout;
	json_t *o = json_object(), *runtime = json_array();
	json_object_set_new(o, "kind", ch_json_text(l->builtin ? "builtin" : "dwarf"));
	json_object_set_new(o, "dwarf_file", l->builtin ? json_null() : ch_json_text(l->source));
	json_object_set_new(o, "table", l->builtin ? ch_json_text(l->table) : json_null());
	json_object_set_new(o, "table_exact", l->builtin ? json_boolean(l->table_exact) : json_null());
	json_object_set_new(o, "dwarf_problem", l->dwarf_problem ? ch_json_text(l->dwarf_problem) : json_null());
	json_object_set_new(o, "debug_offsets", ch_json_text(l->runtime_offsets ? l->runtime_offsets : "absent"));
	json_object_set_new(o, "debug_offsets_checked", json_integer(l->runtime_checked));
	json_object_set_new(o, "debug_offsets_disagreements", json_integer(l->runtime_disagreed));
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		if (l->origin[i] == CH_PY_FROM_RUNTIME)
			json_array_append_new(runtime, ch_json_text(ch_py_field_name((enum ch_py_field)i)));
	json_object_set_new(o, "from_runtime", runtime);
	json_object_set_new(o, "self_checks_passed", json_integer(l->self_checks));
	json_object_set_new(o, "cache", cache_json(&py->layout_cache));
	return o;
}

static void layout_text(FILE *out, const struct ch_python *py)
{
	const struct ch_py_layout *l = &py->layout;
	char buf[4 * 4096 + 1];
	const char *source = ch_text_safe(l->source, buf, sizeof(buf));
	if (!l->builtin)
		fprintf(out, "layouts:      DWARF of %s (%s)\n", source,
			py->dwarf_method == CH_DEBUG_EMBEDDED  ? "embedded in the file"
			: py->dwarf_method == CH_DEBUG_BUILD_ID ? "separate debug file, found by build-id"
			: py->dwarf_method == CH_DEBUG_DEBUGINFOD ? "separate debug file, fetched from debuginfod by build-id"
								: "separate debug file, found by .gnu_debuglink");
	else if (l->table_exact)
		fprintf(out, "layouts:      %s (%s)\n", source, l->dwarf_problem ? l->dwarf_problem : "no DWARF");
	else
		fprintf(out, "layouts:      %s, nearest to %s (%s)\n", source, py->version.text,
			l->dwarf_problem ? l->dwarf_problem : "no DWARF");
	const struct ch_py_layout_cache *c = &py->layout_cache;
	if (c->state == CH_PY_CACHE_READ)
		fprintf(out, "              read from the layout cache (by build-id): %s\n", ch_text_safe(c->path, buf, sizeof(buf)));
	else if (c->state == CH_PY_CACHE_UNWRITTEN)
		fprintf(out, "              layout cache not written: %s\n", ch_text_safe(c->problem, buf, sizeof(buf)));
	if (l->runtime_offsets && strcmp(l->runtime_offsets, "checked") == 0)
		fprintf(out, "              _PyRuntime.debug_offsets: %d fields compared, %d disagreed (runtime's value used)\n",
			l->runtime_checked, l->runtime_disagreed);
	else if (l->runtime_offsets && strcmp(l->runtime_offsets, "unusable") == 0)
		fprintf(out, "              _PyRuntime.debug_offsets: unusable, not compared\n");
	fprintf(out, "              self-checks: %d passed\n", l->self_checks);
}

json_t *ch_report_info_json(const struct ch_python *py)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "process", ch_report_process_json(py->proc));
	json_object_set_new(doc, "core", ch_report_core_json(py->proc->core));
	json_object_set_new(doc, "layout", layout_json(py));
	json_object_set_new(doc, "gc", ch_report_gc_json(&py->gc, py->frozen));
	json_object_set_new(doc, "threads", ch_report_core_threads_json(py->proc->core, py));
	json_object_set_new(doc, "python_threads", json_integer((json_int_t)py->nthreads));
	return doc;
}

void ch_report_info_text(FILE *out, const struct ch_python *py)
{
	const struct ch_core_file *core = py->proc->core;
	const struct ch_gc_state *g = &py->gc;
	ch_report_core_text(out, py->proc);
	fprintf(out, "python:       CPython %s (from %s)\n", py->version.text, py->version.method);
	if (py->runtime)
		fprintf(out, "runtime:      _PyRuntime at 0x%" PRIx64 " in %s\n", py->runtime, py->module->path);
	else
		fprintf(out, "runtime:      no _PyRuntime (before 3.7: static variables of %s)\n", py->module->path);
	layout_text(out, py);
	long crashed = ch_core_crashed_thread(core);
	fprintf(out, "threads:      %zu OS threads, %zu Python thread states\n", core->nthreads, py->nthreads);
	for (size_t i = 0; i < core->nthreads; i++) {
		const struct ch_core_thread *t = &core->threads[i];
		const struct ch_py_thread *p = ch_python_thread_for(py, t);
		fprintf(out, "  tid %-8d %s%s\n", t->tid, p ? "python" : "native",
			(long)i == crashed ? "  <- received the fatal signal" : "");
	}
	if (py->ninterps > 1) {
		fprintf(out, "interpreters: %zu: main (id %" PRId64 ") and sub-interpreter%s", py->ninterps, py->interps[0].id,
			py->ninterps == 2 ? "" : "s");
		for (size_t i = 1; i < py->ninterps; i++)
			fprintf(out, "%s %" PRId64, i == 1 ? "" : ",", py->interps[i].id);
		fprintf(out, "; the gc lines are the main interpreter's\n");
	}
	fprintf(out, "gc:           %s, debug flags %d%s\n", g->enabled ? "enabled" : "DISABLED", g->debug,
		g->collecting ? ", COLLECTION IN PROGRESS" : "");
	fprintf(out, "  generation  threshold  count");
	if (g->have_stats)
		fprintf(out, "  collections  collected  uncollectable");
	fputc('\n', out);
	for (int i = 0; i < g->ngenerations; i++) {
		fprintf(out, "  %-10d  %9d  %5d", i, g->thresholds[i], g->counts[i]);
		if (g->have_stats)
			fprintf(out, "  %11" PRId64 "  %9" PRId64 "  %13" PRId64, g->stats[i].collections,
				g->stats[i].collected, g->stats[i].uncollectable);
		fputc('\n', out);
	}
	if (g->heads[CH_GC_PERMANENT])
		fprintf(out, "  frozen (permanent generation): %" PRIu64 " objects\n", py->frozen);
	else
		fprintf(out, "  no permanent generation (gc.freeze() is 3.7+)\n");
	if (g->garbage >= 0)
		fprintf(out, "  gc.garbage: %" PRId64 " objects\n", g->garbage);
	if (g->long_lived_total >= 0)
		fprintf(out, "  long-lived: %" PRId64 " total, %" PRId64 " pending\n", g->long_lived_total, g->long_lived_pending);
}
