#include "report_html.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "graph/analysis.h"
#include "graph/flame.h"
#include "graph/suspects.h"
#include "graph/top.h"

/* The icicle keeps frames weighing at least 1/FLAME_DETAIL of the
 * reachable heap (narrower ones are not visible anyway), at most
 * FLAME_MAX_FRAMES of them, parents first. */
#define FLAME_DETAIL 2000
#define FLAME_MAX_FRAMES 6000
#define HTML_CYCLES 20
#define NAME_TEXT 256

static json_t *flame_json(const struct ch_report_suspects *s, const struct ch_flame *f)
{
	json_t *o = json_object(), *frames = json_array();
	int32_t *emitted = malloc((f->nframes ? f->nframes : 1) * sizeof(*emitted));
	size_t n = 0;
	char name[NAME_TEXT];
	for (size_t k = 0; emitted && k < f->nframes && n < FLAME_MAX_FRAMES; k++) {
		const struct ch_flame_frame *x = &f->frames[k];
		emitted[k] = -1;
		int32_t parent = x->parent == CH_FLAME_TOP ? -1 : emitted[x->parent];
		if ((x->parent != CH_FLAME_TOP && parent < 0) || x->total * FLAME_DETAIL < f->total)
			continue;
		ch_flame_name_text(f, s->a, s->roots, x->name, name, sizeof(name));
		json_t *row = json_array();
		json_array_append_new(row, json_integer(parent));
		json_array_append_new(row, ch_json_text(name));
		json_array_append_new(row, json_integer((json_int_t)x->total));
		json_array_append_new(row, json_integer((json_int_t)x->self));
		json_array_append_new(row, json_integer((json_int_t)x->objects));
		json_array_append_new(frames, row);
		emitted[k] = (int32_t)n++;
	}
	free(emitted);
	json_object_set_new(o, "total", json_integer((json_int_t)f->total));
	json_object_set_new(o, "frames", frames);
	return o;
}

/* Every type with its count and bytes (all objects) and its retained
 * bytes (`top --by type`; 0 for a type with no reachable object). */
static json_t *types_json(const struct ch_python *py, const struct ch_report_html *r)
{
	uint64_t *retained = calloc(py->types.n ? py->types.n : 1, sizeof(*retained));
	for (size_t i = 0; retained && i < r->retained->ntypes; i++)
		retained[r->retained->types[i].type] = r->retained->types[i].retained;
	json_t *rows = json_array();
	for (size_t i = 0; i < r->types->n; i++) {
		const struct ch_type_row *t = &r->types->rows[i];
		json_t *o = json_object();
		json_object_set_new(o, "type", ch_json_text(ch_py_type_name(&py->types, t->type)));
		json_object_set_new(o, "count", json_integer((json_int_t)t->count));
		json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
		json_object_set_new(o, "retained", json_integer(retained ? (json_int_t)retained[t->type] : 0));
		json_array_append_new(rows, o);
	}
	free(retained);
	return rows;
}

json_t *ch_report_html_data(const struct ch_python *py, const struct ch_report_html *r)
{
	const struct ch_report_suspects *s = r->sus;
	const struct ch_analysis *a = s->a;
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "core", ch_json_text(s->core));
	json_object_set_new(doc, "summary", ch_report_summary_json(py, r->top_types, &a->replay, &a->cycles, s->f, r->stacks,
								   r->crashed, NULL, s));
	json_object_set_new(doc, "suspects", ch_report_suspects_array(py, s));
	json_object_set_new(doc, "flame", flame_json(s, r->flame));
	json_object_set_new(doc, "types", types_json(py, r));
	json_object_set_new(doc, "cycles", ch_report_cycle_groups_json(py, &a->cycles, HTML_CYCLES));
	json_object_set_new(doc, "stacks", ch_report_stacks_json(py, r->stacks, false));
	return doc;
}

int ch_report_html(FILE *out, const struct ch_python *py, const struct ch_report_html *r)
{
	json_t *doc = ch_report_html_data(py, r);
	/* JSON_ESCAPE_SLASH: no "</script>" can close the data element early. */
	char *data = doc ? json_dumps(doc, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
	json_decref(doc);
	if (!data)
		return -1;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		     "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
		     "<title>coreheap report: CPython %s, pid %d</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		py->version.text, py->proc->core->pid, ch_report_html_css);
	fputs("<h1>coreheap report</h1>\n<div id=\"summary\"></div>\n<pre id=\"errors\"></pre>\n"
	      "<h2>Suspects</h2>\n<ol id=\"suspects\"></ol>\n"
	      "<h2>What keeps the heap alive</h2>\n"
	      "<p class=\"muted\">The dominator tree by retained bytes: a frame's width is what freeing its objects "
	      "would free. Hover for the path and sizes, click to zoom, double-click or click the top bar to reset.</p>\n"
	      "<svg id=\"icicle\" xmlns=\"http://www.w3.org/2000/svg\" preserveAspectRatio=\"none\"></svg>\n"
	      "<div id=\"hover\" class=\"mono\"></div>\n"
	      "<h2>Types</h2>\n<p><input id=\"type-filter\" placeholder=\"filter types\" size=\"40\"> "
	      "<span id=\"type-count\" class=\"muted\"></span></p>\n"
	      "<table id=\"types\"><thead><tr><th data-key=\"type\">type</th><th data-key=\"count\">objects</th>"
	      "<th data-key=\"bytes\">bytes</th><th data-key=\"retained\">retained</th></tr></thead><tbody></tbody></table>\n"
	      "<h2>Garbage cycles</h2>\n<div id=\"cycles\"></div>\n"
	      "<h2>Thread stacks</h2>\n<div id=\"stacks\"></div>\n"
	      "<script type=\"application/json\" id=\"coreheap-data\">",
	      out);
	fputs(data, out);
	free(data);
	fprintf(out, "</script>\n<script>\n%s</script>\n</body>\n</html>\n", ch_report_html_js);
	return ferror(out) ? -1 : 0;
}
