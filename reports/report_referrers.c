#include <inttypes.h>

#include "graph/analysis.h"
#include "graph/referrers.h"
#include "report.h"
#include "report_table.h"

#define LABEL_MAX 160

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

static const char *type_of(const struct ch_python *py, const struct ch_object_table *o, uint32_t i)
{
	return ch_py_type_name(&py->types, o->type[i]);
}

json_t *ch_report_referrers_json(const struct ch_python *py, const struct ch_analysis *a, uint32_t target,
				 const struct ch_referrers *r, size_t limit)
{
	const struct ch_object_table *o = &a->heap.objects;
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *obj = json_object();
	json_object_set_new(obj, "address", hex(o->addr[target]));
	json_object_set_new(obj, "type", ch_json_text(type_of(py, o, target)));
	json_object_set_new(obj, "size", json_integer((json_int_t)ch_objects_size(o, target)));
	json_object_set_new(obj, "refcount", json_integer((json_int_t)ch_objects_refcnt(o, target)));
	json_object_set_new(doc, "object", obj);
	json_t *list = json_array();
	for (size_t i = 0; i < r->n && (!limit || i < limit); i++) {
		char label[LABEL_MAX];
		ch_edges_label_text(&a->edges, &a->heap, r->edges[i], label, sizeof(label));
		json_t *x = json_object();
		json_object_set_new(x, "address", hex(o->addr[r->sources[i]]));
		json_object_set_new(x, "type", ch_json_text(type_of(py, o, r->sources[i])));
		json_object_set_new(x, "label", ch_json_text(label));
		json_object_set_new(x, "traversed", json_boolean(ch_label_traversed(a->edges.labels[r->edges[i]])));
		json_array_append_new(list, x);
	}
	json_object_set_new(doc, "referrers", list);
	json_object_set_new(doc, "total", json_integer((json_int_t)r->n));
	return doc;
}

void ch_report_referrers_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, uint32_t target,
			      const struct ch_referrers *r, size_t limit)
{
	const struct ch_object_table *o = &a->heap.objects;
	char size[32], n[32];
	ch_report_human_bytes(ch_objects_size(o, target), size, sizeof(size));
	ch_report_count(r->n, n, sizeof(n));
	fprintf(out, "object 0x%" PRIx64 " type %s size %s refcount %" PRId64 "\n", o->addr[target],
		type_of(py, o, target), size, ch_objects_refcnt(o, target));
	fprintf(out, "%s reference%s into it from the heap graph%s\n", n, r->n == 1 ? "" : "s", r->n ? ":" : "");
	static const char *const head[] = {"FROM", "TYPE", "TRAVERSED", "REFERENCE"};
	struct ch_table t;
	ch_table_init(&t, 4, head, "llll", CH_FLEX(1) | CH_FLEX(3), "  ");
	size_t i;
	for (i = 0; i < r->n && (!limit || i < limit); i++) {
		char label[LABEL_MAX];
		ch_edges_label_text(&a->edges, &a->heap, r->edges[i], label, sizeof(label));
		ch_table_cell(&t, "0x%" PRIx64, o->addr[r->sources[i]]);
		ch_table_cell(&t, "%s", type_of(py, o, r->sources[i]));
		ch_table_cell(&t, "%s", ch_label_traversed(a->edges.labels[r->edges[i]]) ? "traversed" : "-");
		ch_table_cell(&t, "%s", label);
	}
	if (r->n)
		ch_table_print(out, &t);
	else
		ch_table_deinit(&t);
	if (i < r->n) {
		char more[32];
		ch_report_count(r->n - i, more, sizeof(more));
		fprintf(out, "  ... %s more (--limit 0 shows all)\n", more);
	}
}
