/* `roots` and `anomalies`: the heap's roots and what does not add up. */
#include <inttypes.h>

#include "graph/anomalies.h"
#include "graph/roots.h"
#include "report.h"
#include "report_table.h"

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

static json_t *root_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r, size_t i)
{
	const struct ch_object_table *t = &a->heap.objects;
	uint32_t o = r->items[i].object;
	char label[512];
	ch_root_label_text(r, a, i, label, sizeof(label));
	json_t *x = json_object();
	json_object_set_new(x, "kind", ch_json_text(ch_root_kind_name((enum ch_root_kind)r->items[i].kind)));
	json_object_set_new(x, "label", ch_json_text(label));
	json_object_set_new(x, "address", hex(t->addr[o]));
	json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, t->type[o])));
	return x;
}

json_t *ch_report_roots_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			     size_t limit)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *counts = json_object();
	for (int k = 0; k < CH_ROOT_NKINDS; k++)
		json_object_set_new(counts, ch_root_kind_name((enum ch_root_kind)k), json_integer((json_int_t)r->count[k]));
	json_object_set_new(doc, "counts", counts);
	json_t *list = json_array();
	for (size_t i = 0; i < r->n && (!limit || i < limit); i++)
		json_array_append_new(list, root_json(py, a, r, i));
	json_object_set_new(doc, "roots", list);
	json_object_set_new(doc, "total", json_integer((json_int_t)r->n));
	return doc;
}

void ch_report_roots_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			  size_t limit)
{
	const struct ch_object_table *t = &a->heap.objects;
	char n[32];
	ch_report_count(r->n, n, sizeof(n));
	fprintf(out, "%s roots:", n);
	for (int k = 0; k < CH_ROOT_NKINDS; k++) {
		ch_report_count(r->count[k], n, sizeof(n));
		fprintf(out, "%s %s %s", k ? "," : "", n, ch_root_kind_name((enum ch_root_kind)k));
	}
	fprintf(out, "\n");
	static const char *const head[] = {"ROOT", "OBJECT", "TYPE"};
	struct ch_table tab;
	ch_table_init(&tab, 3, head, "lll", CH_FLEX(0) | CH_FLEX(2), "  ");
	size_t i;
	for (i = 0; i < r->n && (!limit || i < limit); i++) {
		char label[512];
		uint32_t o = r->items[i].object;
		ch_root_label_text(r, a, i, label, sizeof(label));
		ch_table_cell(&tab, "%s", label);
		ch_table_cell(&tab, "0x%" PRIx64, t->addr[o]);
		ch_table_cell(&tab, "%s", ch_py_type_name(&py->types, t->type[o]));
	}
	ch_table_print(out, &tab);
	if (i < r->n) {
		char more[32];
		ch_report_count(r->n - i, more, sizeof(more));
		fprintf(out, "  ... %s more (--limit 0 shows all)\n", more);
	}
}

static json_t *groups_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_anomaly_group *g,
			   size_t n, bool leak, size_t limit)
{
	const struct ch_object_table *t = &a->heap.objects;
	json_t *list = json_array();
	for (size_t i = 0; i < n && (!limit || i < limit); i++) {
		json_t *x = json_object();
		json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, g[i].type)));
		json_object_set_new(x, "objects", json_integer((json_int_t)g[i].objects));
		json_object_set_new(x, "bytes", json_integer((json_int_t)g[i].bytes));
		if (leak) {
			json_object_set_new(x, "unexplained_refs", json_integer((json_int_t)g[i].unexplained));
			json_object_set_new(x, "kept_objects", json_integer((json_int_t)g[i].kept_objects));
			json_object_set_new(x, "kept_bytes", json_integer((json_int_t)g[i].kept_bytes));
		}
		json_object_set_new(x, "example", hex(t->addr[g[i].first]));
		json_array_append_new(list, x);
	}
	return list;
}

static json_t *objects_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			    const uint32_t *objs, size_t n, size_t limit)
{
	const struct ch_object_table *t = &a->heap.objects;
	json_t *list = json_array();
	for (size_t i = 0; i < n && (!limit || i < limit); i++) {
		uint32_t o = objs[i];
		json_t *x = json_object();
		json_object_set_new(x, "address", hex(t->addr[o]));
		json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, t->type[o])));
		json_object_set_new(x, "refcount", json_integer((json_int_t)ch_objects_refcnt(t, o)));
		json_object_set_new(x, "references_found", json_integer((json_int_t)r->refs[o]));
		json_object_set_new(x, "possible_references", json_integer((json_int_t)r->maybe[o]));
		json_object_set_new(x, "size", json_integer((json_int_t)ch_objects_size(t, o)));
		json_array_append_new(list, x);
	}
	return list;
}

json_t *ch_report_anomalies_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
				 const struct ch_anomalies *an, size_t limit)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *heap = json_object();
	json_object_set_new(heap, "objects", json_integer((json_int_t)a->heap.objects.n));
	json_object_set_new(heap, "reachable", json_integer((json_int_t)an->reachable));
	json_object_set_new(heap, "reachable_bytes", json_integer((json_int_t)an->reachable_bytes));
	json_object_set_new(heap, "garbage", json_integer((json_int_t)an->garbage));
	json_object_set_new(heap, "garbage_bytes", json_integer((json_int_t)an->garbage_bytes));
	json_object_set_new(heap, "unreachable", json_integer((json_int_t)an->unreachable));
	json_object_set_new(heap, "unreachable_bytes", json_integer((json_int_t)an->unreachable_bytes));
	json_object_set_new(heap, "freed_with", json_integer((json_int_t)(an->garbage - an->unreachable)));
	json_object_set_new(heap, "freed_with_bytes", json_integer((json_int_t)(an->garbage_bytes - an->unreachable_bytes)));
	json_object_set_new(heap, "leaked", json_integer((json_int_t)an->leaked_kept));
	json_object_set_new(heap, "leaked_bytes", json_integer((json_int_t)an->leaked_kept_bytes));
	json_object_set_new(heap, "other_unreached", json_integer((json_int_t)an->other));
	json_object_set_new(heap, "other_unreached_bytes", json_integer((json_int_t)an->other_bytes));
	json_object_set_new(doc, "heap", heap);
	json_t *rc = json_object();
	json_object_set_new(rc, "objects", json_integer((json_int_t)an->nlow));
	json_object_set_new(rc, "by_type", groups_json(py, a, an->low_groups, an->nlow_groups, false, limit));
	json_object_set_new(rc, "list", objects_json(py, a, r, an->low, an->nlow, limit));
	json_object_set_new(doc, "refcount_too_low", rc);
	json_t *lk = json_object();
	json_object_set_new(lk, "objects", json_integer((json_int_t)an->nleaked));
	json_object_set_new(lk, "by_type", groups_json(py, a, an->leak_groups, an->nleak_groups, true, limit));
	json_object_set_new(lk, "list", objects_json(py, a, r, an->leaked, an->nleaked, limit));
	json_object_set_new(doc, "leaks", lk);
	return doc;
}

void ch_report_anomalies_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			      const struct ch_anomalies *an, size_t limit)
{
	const struct ch_object_table *t = &a->heap.objects;
	char n[6][32];
	ch_report_count(t->n, n[0], sizeof(n[0]));
	ch_report_count(an->reachable, n[1], sizeof(n[1]));
	ch_report_count(an->unreachable, n[2], sizeof(n[2]));
	ch_report_count(an->garbage - an->unreachable, n[3], sizeof(n[3]));
	ch_report_count(an->leaked_kept, n[4], sizeof(n[4]));
	ch_report_count(an->other, n[5], sizeof(n[5]));
	fprintf(out, "%s objects: %s reachable from roots, %s unreachable (GC garbage) and %s freed with them, %s held "
		     "only by leaked references, %s other unreached\n", n[0], n[1], n[2], n[3], n[4], n[5]);
	ch_report_count(an->nlow, n[0], sizeof(n[0]));
	fprintf(out, "\nrefcount lower than the references found (a refcounting bug; freeing will corrupt the heap): %s\n",
		n[0]);
	static const char *const low_head[] = {"OBJECT", "TYPE", "REFCOUNT", "REFERENCES FOUND"};
	struct ch_table low;
	ch_table_init(&low, 4, low_head, "llrr", CH_FLEX(1), "  ");
	size_t i;
	for (i = 0; i < an->nlow && (!limit || i < limit); i++) {
		uint32_t o = an->low[i];
		ch_table_cell(&low, "0x%" PRIx64, t->addr[o]);
		ch_table_cell(&low, "%s", ch_py_type_name(&py->types, t->type[o]));
		ch_table_cell(&low, "%" PRId64, ch_objects_refcnt(t, o));
		ch_table_count(&low, r->refs[o]);
	}
	if (an->nlow)
		ch_table_print(out, &low);
	else
		ch_table_deinit(&low);
	if (i < an->nlow) {
		ch_report_count(an->nlow - i, n[0], sizeof(n[0]));
		fprintf(out, "  ... %s more (--limit 0 shows all)\n", n[0]);
	}
	ch_report_count(an->nleaked, n[0], sizeof(n[0]));
	fprintf(out, "\nunreachable from every root, not garbage, refcount unexplained (a reference leak): %s\n", n[0]);
	static const char *const leak_head[] = {"OBJECTS", "BYTES", "KEPT OBJS", "KEPT BYTES", "TYPE (EXAMPLE)"};
	struct ch_table leak;
	ch_table_init(&leak, 5, leak_head, "rrrrl", CH_FLEX(4), "  ");
	for (i = 0; i < an->nleak_groups && (!limit || i < limit); i++) {
		const struct ch_anomaly_group *g = &an->leak_groups[i];
		ch_table_count(&leak, g->objects);
		ch_table_bytes(&leak, g->bytes);
		ch_table_count(&leak, g->kept_objects);
		ch_table_bytes(&leak, g->kept_bytes);
		ch_table_cell(&leak, "%s (0x%" PRIx64 ")", ch_py_type_name(&py->types, g->type), t->addr[g->first]);
	}
	if (an->nleak_groups)
		ch_table_print(out, &leak);
	else
		ch_table_deinit(&leak);
	if (i < an->nleak_groups) {
		ch_report_count(an->nleak_groups - i, n[0], sizeof(n[0]));
		fprintf(out, "  ... %s more types (--limit 0 shows all)\n", n[0]);
	}
}
