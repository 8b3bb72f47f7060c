#include <inttypes.h>
#include <string.h>

#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/roots.h"
#include "graph/top.h"
#include "report.h"
#include "report_table.h"

#define ROOT_LABEL_MAX 200

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

static size_t rows_shown(const struct ch_report_top *r)
{
	size_t n = r->by_type ? r->t->ntypes : r->t->nobjects;
	return r->limit && r->limit < n ? r->limit : n;
}

static json_t *count_bytes(uint64_t objects, uint64_t bytes)
{
	json_t *o = json_object();
	json_object_set_new(o, "objects", json_integer((json_int_t)objects));
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	return o;
}

static json_t *totals_json(const struct ch_report_top *r)
{
	const struct ch_dominators *d = r->d;
	json_t *t = json_object();
	json_object_set_new(t, "heap", count_bytes(d->nobjects, d->reachable_bytes + d->unreachable_bytes));
	json_object_set_new(t, "reachable", count_bytes(d->nreachable, d->reachable_bytes));
	struct ch_unreached u;
	ch_unreached_split(&u, d, &r->a->heap, &r->a->replay);
	json_object_set_new(t, "not_reached", count_bytes(u.objects, u.bytes));
	json_object_set_new(t, "unreachable", count_bytes(u.unreachable, u.unreachable_bytes));
	json_object_set_new(t, "freed_with", count_bytes(u.freed_with, u.freed_with_bytes));
	json_object_set_new(t, "other_unreached", count_bytes(u.other, u.other_bytes));
	json_object_set_new(t, "roots", json_integer((json_int_t)r->roots->n));
	return t;
}

static json_t *type_row_json(const struct ch_python *py, const struct ch_top_type *row)
{
	json_t *x = json_object();
	json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, row->type)));
	json_object_set_new(x, "objects", json_integer((json_int_t)row->objects));
	json_object_set_new(x, "shallow", json_integer((json_int_t)row->shallow));
	json_object_set_new(x, "retained", json_integer((json_int_t)row->retained));
	json_object_set_new(x, "retained_objects", json_integer((json_int_t)row->retained_objects));
	return x;
}

json_t *ch_report_retainers_json(const struct ch_python *py, const struct ch_top *t, size_t limit)
{
	json_t *list = json_array();
	for (size_t i = 0; i < t->ntypes && (!limit || i < limit); i++)
		json_array_append_new(list, type_row_json(py, &t->types[i]));
	return list;
}

json_t *ch_report_top_json(const struct ch_python *py, const struct ch_report_top *r)
{
	const struct ch_object_table *o = &r->a->heap.objects;
	const struct ch_dominators *d = r->d;
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "by", ch_json_text(r->by_type ? "type" : "object"));
	json_object_set_new(doc, "totals", totals_json(r));
	json_t *list = json_array();
	size_t shown = rows_shown(r);
	for (size_t i = 0; i < shown; i++) {
		json_t *x = json_object();
		if (r->by_type) {
			json_decref(x);
			x = type_row_json(py, &r->t->types[i]);
		} else {
			uint32_t k = r->t->objects[i], ri = r->t->object_roots[i];
			json_object_set_new(x, "address", hex(o->addr[k]));
			json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, o->type[k])));
			json_object_set_new(x, "size", json_integer((json_int_t)ch_objects_size(o, k)));
			json_object_set_new(x, "retained", json_integer((json_int_t)d->retained[k]));
			json_object_set_new(x, "retained_objects", json_integer((json_int_t)d->retained_count[k]));
			json_object_set_new(x, "dominator", d->idom[k] == CH_DOM_ROOT ? json_null() : hex(o->addr[d->idom[k]]));
			if (ri < r->roots->n) {
				char label[ROOT_LABEL_MAX];
				ch_root_label_text(r->roots, r->a, ri, label, sizeof(label));
				json_t *root = json_object();
				json_object_set_new(root, "kind", ch_json_text(ch_root_kind_name(r->roots->items[ri].kind)));
				json_object_set_new(root, "label", ch_json_text(label));
				json_object_set_new(x, "root", root);
			} else {
				json_object_set_new(x, "root", json_null());
			}
		}
		json_array_append_new(list, x);
	}
	json_object_set_new(doc, r->by_type ? "types" : "objects", list);
	json_object_set_new(doc, "total", json_integer((json_int_t)(r->by_type ? r->t->ntypes : d->nreachable)));
	return doc;
}

static void totals_text(FILE *out, const struct ch_report_top *r)
{
	const struct ch_dominators *d = r->d;
	struct ch_unreached u;
	ch_unreached_split(&u, d, &r->a->heap, &r->a->replay);
	char n[7][32], hb[2][32];
	ch_report_count(d->nobjects, n[0], sizeof(n[0]));
	ch_report_human_bytes(d->reachable_bytes + d->unreachable_bytes, hb[0], sizeof(hb[0]));
	ch_report_count(r->roots->n, n[1], sizeof(n[1]));
	ch_report_count(d->nreachable, n[2], sizeof(n[2]));
	ch_report_human_bytes(d->reachable_bytes, hb[1], sizeof(hb[1]));
	ch_report_count(u.objects, n[3], sizeof(n[3]));
	ch_report_count(u.unreachable, n[4], sizeof(n[4]));
	ch_report_count(u.freed_with, n[5], sizeof(n[5]));
	ch_report_count(u.other, n[6], sizeof(n[6]));
	char ub[32];
	ch_report_human_bytes(u.bytes, ub, sizeof(ub));
	fprintf(out, "heap: %s objects, %s; reachable from %s roots: %s objects, %s\n", n[0], hb[0], n[1], n[2], hb[1]);
	fprintf(out, "not reached: %s objects, %s (unreachable garbage %s, freed with it %s, other %s)\n", n[3], ub, n[4],
		n[5], n[6]);
}

static void types_text(FILE *out, const struct ch_python *py, const struct ch_report_top *r, size_t shown)
{
	static const char *const head[] = {"TYPE", "OBJECTS", "SHALLOW", "RETAINED", "RET.OBJECTS"};
	struct ch_table t;
	ch_table_init(&t, 5, head, "lrrrr", CH_FLEX(0), NULL);
	for (size_t i = 0; i < shown; i++) {
		const struct ch_top_type *row = &r->t->types[i];
		ch_table_cell(&t, "%s", ch_py_type_name(&py->types, row->type));
		ch_table_count(&t, row->objects);
		ch_table_bytes(&t, row->shallow);
		ch_table_bytes(&t, row->retained);
		ch_table_count(&t, row->retained_objects);
	}
	ch_table_print(out, &t);
}

static void objects_text(FILE *out, const struct ch_python *py, const struct ch_report_top *r, size_t shown)
{
	static const char *const head[] = {"RETAINED", "OBJECTS", "SIZE", "ADDRESS", "TYPE", "ROOT"};
	const struct ch_object_table *o = &r->a->heap.objects;
	struct ch_table t;
	ch_table_init(&t, 6, head, "rrrlll", CH_FLEX(4) | CH_FLEX(5), NULL);
	for (size_t i = 0; i < shown; i++) {
		uint32_t k = r->t->objects[i], ri = r->t->object_roots[i];
		char label[ROOT_LABEL_MAX] = "-";
		if (ri < r->roots->n)
			ch_root_label_text(r->roots, r->a, ri, label, sizeof(label));
		ch_table_bytes(&t, r->d->retained[k]);
		ch_table_count(&t, r->d->retained_count[k]);
		ch_table_bytes(&t, ch_objects_size(o, k));
		ch_table_cell(&t, "0x%" PRIx64, o->addr[k]);
		ch_table_cell(&t, "%s", ch_py_type_name(&py->types, o->type[k]));
		ch_table_cell(&t, "%s", label);
	}
	ch_table_print(out, &t);
}

void ch_report_top_text(FILE *out, const struct ch_python *py, const struct ch_report_top *r)
{
	totals_text(out, r);
	size_t shown = rows_shown(r), total = r->by_type ? r->t->ntypes : r->d->nreachable;
	char ns[32], nt[32];
	ch_report_count(shown, ns, sizeof(ns));
	ch_report_count(total, nt, sizeof(nt));
	fprintf(out, "biggest retainers by %s (retained bytes; %s of %s):\n", r->by_type ? "type" : "object", ns, nt);
	if (r->by_type)
		types_text(out, py, r, shown);
	else
		objects_text(out, py, r, shown);
	if (shown < total)
	{
		char more[32];
		ch_report_count(total - shown, more, sizeof(more));
		fprintf(out, "... %s more (--limit 0 shows all)\n", more);
	}
}
