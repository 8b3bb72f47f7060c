/* `roots` and `anomalies`: the heap's roots and what does not add up. */
#include <inttypes.h>

#include "graph/anomalies.h"
#include "graph/roots.h"
#include "report.h"

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
	fprintf(out, "%zu roots:", r->n);
	for (int k = 0; k < CH_ROOT_NKINDS; k++)
		fprintf(out, "%s %zu %s", k ? "," : "", r->count[k], ch_root_kind_name((enum ch_root_kind)k));
	fprintf(out, "\n");
	size_t i;
	for (i = 0; i < r->n && (!limit || i < limit); i++) {
		char label[512];
		uint32_t o = r->items[i].object;
		ch_root_label_text(r, a, i, label, sizeof(label));
		fprintf(out, "  %-60s -> 0x%" PRIx64 " %s\n", label, t->addr[o], ch_py_type_name(&py->types, t->type[o]));
	}
	if (i < r->n)
		fprintf(out, "  ... %zu more (--limit 0 shows all)\n", r->n - i);
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
		json_object_set_new(x, "refcount", json_integer((json_int_t)t->refcnt[o]));
		json_object_set_new(x, "references_found", json_integer((json_int_t)r->refs[o]));
		json_object_set_new(x, "possible_references", json_integer((json_int_t)r->maybe[o]));
		json_object_set_new(x, "size", json_integer((json_int_t)t->size[o]));
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
	fprintf(out, "%zu objects: %" PRIu64 " reachable from roots, %" PRIu64 " unreachable (GC garbage) and %" PRIu64
		     " freed with them, %" PRIu64 " held only by leaked references, %" PRIu64 " other unreached\n",
		t->n, an->reachable, an->unreachable, an->garbage - an->unreachable, an->leaked_kept, an->other);
	fprintf(out, "\nrefcount lower than the references found (a refcounting bug; freeing will corrupt the heap): %zu\n",
		an->nlow);
	size_t i;
	for (i = 0; i < an->nlow && (!limit || i < limit); i++) {
		uint32_t o = an->low[i];
		fprintf(out, "  0x%-14" PRIx64 " %-30s refcount %" PRId64 ", %" PRIu32 " references found\n", t->addr[o],
			ch_py_type_name(&py->types, t->type[o]), t->refcnt[o], r->refs[o]);
	}
	if (i < an->nlow)
		fprintf(out, "  ... %zu more (--limit 0 shows all)\n", an->nlow - i);
	fprintf(out, "\nunreachable from every root, not garbage, refcount unexplained (a reference leak): %zu\n",
		an->nleaked);
	if (an->nleak_groups)
		fprintf(out, "  %9s %12s %10s %12s  %s\n", "objects", "bytes", "kept objs", "kept bytes", "type (example)");
	for (i = 0; i < an->nleak_groups && (!limit || i < limit); i++) {
		const struct ch_anomaly_group *g = &an->leak_groups[i];
		fprintf(out, "  %9" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64 "  %s (0x%" PRIx64 ")\n", g->objects,
			g->bytes, g->kept_objects, g->kept_bytes, ch_py_type_name(&py->types, g->type), t->addr[g->first]);
	}
	if (i < an->nleak_groups)
		fprintf(out, "  ... %zu more types (--limit 0 shows all)\n", an->nleak_groups - i);
}
