#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "report_table.h"

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
	static const char *const head[] = {"TYPE", "COUNT", "BYTES", "GEN0", "GEN1", "GEN2", "PERMANENT", "UNTRACKED"};
	struct ch_table t;
	ch_table_init(&t, 8, head, "lrrrrrrr", CH_FLEX(0), NULL);
	for (size_t i = 0; i <= h->n; i++) {
		const struct ch_type_row *r = i < h->n ? &h->rows[i] : &h->totals;
		ch_table_cell(&t, "%s", i < h->n ? ch_py_type_name(&py->types, r->type) : "TOTAL");
		ch_table_count(&t, r->count);
		ch_table_bytes(&t, r->bytes);
		for (int g = 0; g < CH_HIST_GENS; g++)
			ch_table_count(&t, r->gen[g]);
	}
	ch_table_print(out, &t);
	const struct ch_type_row *tot = &h->totals;
	char hb[32], n[32], tracked[32];
	ch_report_human_bytes(tot->bytes, hb, sizeof(hb));
	ch_report_count(tot->count, n, sizeof(n));
	ch_report_count(tot->count - tot->gen[CH_GEN_UNTRACKED], tracked, sizeof(tracked));
	fprintf(out, "%s objects (%s GC-tracked)%s, %s, CPython %s%s\n", n, tracked,
		generation >= 0 ? " in the selected generation" : "", hb, py->version.text,
		h->n < h->ntypes ? " (rows cut by --limit; TOTAL covers all types)" : "");
}
