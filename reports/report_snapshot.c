#include "graph/heap_digest.h"
#include "reports/snapshot_read.h"
#include "report.h"

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *gens_json(const uint64_t gen[CH_HIST_GENS])
{
	json_t *a = json_array();
	for (int i = 0; i < CH_HIST_GENS; i++)
		json_array_append_new(a, u64(gen[i]));
	return a;
}

static json_t *pair(uint64_t objects, uint64_t bytes)
{
	json_t *o = json_object();
	json_object_set_new(o, "objects", u64(objects));
	json_object_set_new(o, "bytes", u64(bytes));
	return o;
}

json_t *ch_report_digest_group_json(const struct ch_heap_digest *d, const struct ch_digest_group *g)
{
	json_t *ts = json_array();
	for (uint32_t i = 0; i < g->ntypes; i++) {
		const struct ch_digest_shape_type *st = &d->shape_types[g->first_type + i];
		json_t *x = json_object();
		json_object_set_new(x, "type", ch_json_text(ch_digest_str(d, st->name)));
		json_object_set_new(x, "count", json_integer(st->count));
		json_array_append_new(ts, x);
	}
	json_t *es = json_array();
	for (uint32_t i = 0; i < g->nedges; i++)
		json_array_append_new(es, ch_json_text(ch_digest_str(d, d->edges[g->first_edge + i])));
	json_t *o = json_object();
	json_object_set_new(o, "types", ts);
	json_object_set_new(o, "edges", es);
	return o;
}

json_t *ch_report_snapshot_json(const struct ch_python *py, const struct ch_heap_digest *d)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "schema", json_integer(CH_SNAPSHOT_SCHEMA));
	json_object_set_new(doc, "kind", ch_json_text(CH_SNAPSHOT_KIND));
	json_object_set_new(doc, "coreheap", ch_json_text(CH_VERSION));
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "gc", ch_report_gc_json(&d->gc, d->frozen));
	json_t *totals = json_object();
	json_object_set_new(totals, "count", u64(d->totals.count));
	json_object_set_new(totals, "bytes", u64(d->totals.bytes));
	json_object_set_new(totals, "gen", gens_json(d->totals.gen));
	json_object_set_new(totals, "types", u64(d->ntypes));
	json_object_set_new(doc, "totals", totals);
	json_t *types = json_array(), *garbage = json_array();
	for (size_t i = 0; i < d->ntypes; i++) {
		const struct ch_digest_type *t = &d->types[i];
		json_t *x = json_object();
		json_object_set_new(x, "type", ch_json_text(ch_digest_str(d, t->name)));
		json_object_set_new(x, "count", u64(t->count));
		json_object_set_new(x, "bytes", u64(t->bytes));
		json_object_set_new(x, "gen", gens_json(t->gen));
		json_array_append_new(types, x);
		if (!t->unreachable)
			continue;
		x = json_object();
		json_object_set_new(x, "type", ch_json_text(ch_digest_str(d, t->name)));
		json_object_set_new(x, "count", u64(t->unreachable));
		json_object_set_new(x, "bytes", u64(t->unreachable_bytes));
		json_array_append_new(garbage, x);
	}
	json_object_set_new(doc, "types", types);
	json_t *u = pair(d->unreachable, d->unreachable_bytes);
	json_object_set_new(u, "cycles", u64(d->cycles));
	json_object_set_new(u, "types", garbage);
	json_object_set_new(doc, "unreachable", u);
	json_object_set_new(doc, "freed_with", pair(d->freed_with, d->freed_with_bytes));
	json_object_set_new(doc, "acyclic", pair(d->acyclic, d->acyclic_bytes));
	json_t *groups = json_array();
	for (size_t i = 0; i < d->ngroups; i++) {
		const struct ch_digest_group *g = &d->groups[i];
		json_t *x = json_object();
		json_object_set_new(x, "count", u64(g->count));
		json_object_set_new(x, "objects", u64(g->objects));
		json_object_set_new(x, "bytes", u64(g->bytes));
		json_object_set_new(x, "finalizers", json_boolean(g->finalizers));
		json_t *shape = ch_report_digest_group_json(d, g);
		json_object_update(x, shape);
		json_decref(shape);
		json_array_append_new(groups, x);
	}
	json_object_set_new(doc, "groups", groups);
	json_object_set_new(doc, "groups_total", u64(d->groups_total));
	if (d->has_containers) {
		json_t *cs = json_array();
		for (size_t i = 0; i < d->ncontainers; i++) {
			const struct ch_digest_container *c = &d->containers[i];
			json_t *x = json_object();
			json_object_set_new(x, "path", ch_json_text(ch_digest_str(d, c->path)));
			json_object_set_new(x, "type", ch_json_text(ch_digest_str(d, c->type)));
			json_object_set_new(x, "elements", u64(c->elements));
			json_object_set_new(x, "retained", u64(c->retained));
			json_array_append_new(cs, x);
		}
		json_object_set_new(doc, "containers", cs);
	}
	if (d->memory.present)
		json_object_set_new(doc, "memory", ch_report_memory_digest_json(&d->memory));
	if (d->exact_known) {
		json_object_set_new(doc, "exact", json_boolean(d->exact));
		json_object_set_new(doc, "conservative_types", ch_report_digest_conservative_json(d));
	}
	return doc;
}

json_t *ch_report_digest_conservative_json(const struct ch_heap_digest *d)
{
	json_t *cs = json_array();
	for (size_t i = 0; i < d->nconservative; i++) {
		const struct ch_digest_conservative *c = &d->conservative[i];
		json_t *x = json_object();
		json_object_set_new(x, "type", ch_json_text(ch_digest_str(d, c->type)));
		json_object_set_new(x, "objects", u64(c->objects));
		json_object_set_new(x, "reason", ch_json_text(ch_digest_str(d, c->reason)));
		json_array_append_new(cs, x);
	}
	return cs;
}

int ch_report_write_snapshot(FILE *out, json_t *doc, const struct ch_diag *diag)
{
	ch_report_json_status(doc, diag);
	int r = json_dumpf(doc, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (r == 0 && fputc('\n', out) == EOF)
		r = -1;
	return r;
}
