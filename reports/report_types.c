#include <inttypes.h>
#include <string.h>

#include "report.h"

static const char *const gen_keys[CH_HIST_GENS] = {"0", "1", "2", "permanent", "untracked"};

static json_t *row_json(const struct ch_type_row *r, const char *name)
{
	json_t *o = json_object();
	if (name)
		json_object_set_new(o, "type", ch_json_text(name));
	json_object_set_new(o, "count", json_integer((json_int_t)r->count));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_t *g = json_object();
	for (int i = 0; i < CH_HIST_GENS; i++)
		json_object_set_new(g, gen_keys[i], json_integer((json_int_t)r->gen[i]));
	json_object_set_new(o, "generations", g);
	return o;
}

json_t *ch_report_type_rows_json(const struct ch_python *py, const struct ch_type_histogram *h)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < h->n; i++)
		json_array_append_new(rows, row_json(&h->rows[i], ch_py_type_name(&py->types, h->rows[i].type)));
	return rows;
}

json_t *ch_report_type_counts_json(const struct ch_python *py, const struct ch_type_histogram *h)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < h->n; i++) {
		json_t *t = json_object();
		json_object_set_new(t, "type", ch_json_text(ch_py_type_name(&py->types, h->rows[i].type)));
		json_object_set_new(t, "count", json_integer((json_int_t)h->rows[i].count));
		json_object_set_new(t, "bytes", json_integer((json_int_t)h->rows[i].bytes));
		json_array_append_new(rows, t);
	}
	return rows;
}

json_t *ch_report_types_json(const struct ch_python *py, const struct ch_type_histogram *h)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "types", ch_report_type_rows_json(py, h));
	json_t *totals = row_json(&h->totals, NULL);
	json_object_set_new(totals, "types", json_integer((json_int_t)h->ntypes));
	json_object_set_new(doc, "totals", totals);
	return doc;
}

void ch_report_types_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *h, int generation)
{
	size_t w = 4;
	for (size_t i = 0; i < h->n; i++) {
		size_t l = strlen(ch_py_type_name(&py->types, h->rows[i].type));
		if (l > w)
			w = l;
	}
	if (w > 60)
		w = 60;
	fprintf(out, "%-*s %10s %12s %9s %9s %9s %9s %9s\n", (int)w, "TYPE", "COUNT", "BYTES", "GEN0", "GEN1", "GEN2",
		"PERMANENT", "UNTRACKED");
	for (size_t i = 0; i < h->n; i++) {
		const struct ch_type_row *r = &h->rows[i];
		fprintf(out, "%-*.*s %10" PRIu64 " %12" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
			(int)w, (int)w, ch_py_type_name(&py->types, r->type), r->count, r->bytes, r->gen[0], r->gen[1],
			r->gen[2], r->gen[CH_GEN_PERMANENT], r->gen[CH_GEN_UNTRACKED]);
	}
	const struct ch_type_row *t = &h->totals;
	char hb[32];
	ch_report_human_bytes(t->bytes, hb, sizeof(hb));
	fprintf(out, "%-*s %10" PRIu64 " %12" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
		(int)w, "TOTAL", t->count, t->bytes, t->gen[0], t->gen[1], t->gen[2], t->gen[CH_GEN_PERMANENT],
		t->gen[CH_GEN_UNTRACKED]);
	fprintf(out, "%" PRIu64 " objects (%" PRIu64 " GC-tracked)%s, %s, CPython %s%s\n", t->count,
		t->count - t->gen[CH_GEN_UNTRACKED],
		generation >= 0 ? " in the selected generation" : "", hb, py->version.text,
		h->n < h->ntypes ? " (rows cut by --top; TOTAL covers all types)" : "");
}
