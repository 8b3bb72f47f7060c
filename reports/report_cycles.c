#include <inttypes.h>

#include "graph/analysis.h"
#include "graph/cycles.h"
#include "graph/gc_replay.h"
#include "report.h"
#include "report_table.h"

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

json_t *ch_report_cycle_groups_json(const struct ch_python *py, const struct ch_cycles *c, size_t limit)
{
	json_t *groups = json_array();
	for (size_t g = 0; g < c->ngroups && (!limit || g < limit); g++) {
		const struct ch_cycle_group *gr = &c->groups[g];
		json_t *o = json_object();
		json_object_set_new(o, "count", json_integer((json_int_t)gr->count));
		json_object_set_new(o, "objects", json_integer((json_int_t)gr->objects));
		json_object_set_new(o, "bytes", json_integer((json_int_t)gr->bytes));
		json_object_set_new(o, "held_objects", json_integer((json_int_t)gr->held_objects));
		json_object_set_new(o, "held_bytes", json_integer((json_int_t)gr->held_bytes));
		json_object_set_new(o, "total_bytes", json_integer((json_int_t)(gr->bytes + gr->held_bytes)));
		json_t *ts = json_array();
		for (size_t t = 0; t < gr->ntypes; t++) {
			json_t *x = json_object();
			json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, gr->types[t].type)));
			json_object_set_new(x, "count", json_integer(gr->types[t].count));
			json_array_append_new(ts, x);
		}
		json_object_set_new(o, "types", ts);
		json_t *es = json_array();
		for (size_t x = 0; x < gr->nedges; x++)
			json_array_append_new(es, ch_json_text(gr->edges[x]));
		json_object_set_new(o, "edges", es);
		json_object_set_new(o, "finalizers", json_boolean(gr->finalizers));
		json_t *ss = json_array();
		for (size_t x = 0; x < gr->nsamples; x++)
			json_array_append_new(ss, hex(gr->samples[x]));
		json_object_set_new(o, "samples", ss);
		json_array_append_new(groups, o);
	}
	return groups;
}

json_t *ch_report_cycles_json(const struct ch_python *py, const struct ch_type_histogram *u,
			      const struct ch_analysis *a, size_t limit)
{
	const struct ch_gc_replay *r = &a->replay;
	const struct ch_cycles *c = &a->cycles;
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *unr = json_object();
	json_object_set_new(unr, "objects", json_integer((json_int_t)r->unreachable));
	json_object_set_new(unr, "bytes", json_integer((json_int_t)r->unreachable_bytes));
	json_object_set_new(unr, "types", ch_report_type_counts_json(py, u));
	json_object_set_new(doc, "unreachable", unr);
	json_t *fw = json_object();
	json_object_set_new(fw, "objects", json_integer((json_int_t)r->freed_with));
	json_object_set_new(fw, "bytes", json_integer((json_int_t)r->freed_with_bytes));
	json_object_set_new(doc, "freed_with", fw);
	json_t *ac = json_object();
	json_object_set_new(ac, "objects", json_integer((json_int_t)c->acyclic));
	json_object_set_new(ac, "bytes", json_integer((json_int_t)c->acyclic_bytes));
	json_object_set_new(doc, "acyclic", ac);
	json_object_set_new(doc, "components", json_integer((json_int_t)c->components));
	json_object_set_new(doc, "groups", ch_report_cycle_groups_json(py, c, limit));
	json_object_set_new(doc, "groups_total", json_integer((json_int_t)c->ngroups));
	json_t *g = json_object();
	json_object_set_new(g, "objects", json_integer((json_int_t)a->heap.objects.n));
	json_object_set_new(g, "edges", json_integer((json_int_t)a->edges.nedges));
	json_object_set_new(g, "dangling", json_integer((json_int_t)a->edges.dangling));
	json_object_set_new(g, "undumped", json_integer((json_int_t)a->edges.undumped));
	json_object_set_new(g, "object_table_bytes", json_integer((json_int_t)ch_objects_memory(&a->heap.objects)));
	json_object_set_new(g, "edge_bytes", json_integer((json_int_t)ch_edges_memory(&a->edges, a->heap.objects.n)));
	json_object_set_new(doc, "graph", g);
	return doc;
}

/* A line of a cycle group, elided in the middle to the output width. */
static void group_line(FILE *out, const char *text)
{
	char buf[1024];
	size_t w = ch_report_width();
	fprintf(out, "    %s\n", w > 4 ? ch_report_elide(text, w - 4, buf, sizeof(buf)) : text);
}

void ch_report_cycle_groups_text(FILE *out, const struct ch_python *py, const struct ch_cycles *c, size_t limit)
{
	for (size_t g = 0; g < c->ngroups && (!limit || g < limit); g++) {
		const struct ch_cycle_group *gr = &c->groups[g];
		char n[3][32], b[2][32];
		ch_report_count(gr->count, n[0], sizeof(n[0]));
		ch_report_count(gr->objects, n[1], sizeof(n[1]));
		ch_report_count(gr->held_objects, n[2], sizeof(n[2]));
		ch_report_human_bytes(gr->bytes, b[0], sizeof(b[0]));
		ch_report_human_bytes(gr->bytes + gr->held_bytes, b[1], sizeof(b[1]));
		fprintf(out, "%s x  (%s objects, %s; %s with the %s garbage objects they keep alive)%s\n", n[0], n[1],
			b[0], b[1], n[2], gr->finalizers ? "  [has finalizers]" : "");
		char line[1024];
		size_t at = (size_t)snprintf(line, sizeof(line), "types:");
		for (size_t t = 0; t < gr->ntypes && at < sizeof(line); t++)
			at += (size_t)snprintf(line + at, sizeof(line) - at, "%s %s x%u", t ? "," : "",
					       ch_py_type_name(&py->types, gr->types[t].type), gr->types[t].count);
		group_line(out, line);
		for (size_t x = 0; x < gr->nedges; x++)
			group_line(out, gr->edges[x]);
		fprintf(out, "    e.g.");
		for (size_t x = 0; x < gr->nsamples; x++)
			fprintf(out, " 0x%" PRIx64, gr->samples[x]);
		fputc('\n', out);
	}
}

void ch_report_cycles_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *u,
			   const struct ch_analysis *a, size_t limit)
{
	const struct ch_gc_replay *r = &a->replay;
	const struct ch_cycles *c = &a->cycles;
	char n[5][32], b[2][32];
	ch_report_count(r->unreachable, n[0], sizeof(n[0]));
	ch_report_human_bytes(r->unreachable_bytes, b[0], sizeof(b[0]));
	ch_report_count(r->freed_with, n[1], sizeof(n[1]));
	ch_report_human_bytes(r->freed_with_bytes, b[1], sizeof(b[1]));
	ch_report_count(c->components, n[2], sizeof(n[2]));
	ch_report_count(c->ngroups, n[3], sizeof(n[3]));
	ch_report_count(c->acyclic, n[4], sizeof(n[4]));
	fprintf(out, "unreachable (a full gc.collect() would free): %s objects, %s\n", n[0], b[0]);
	fprintf(out, "freed with them (untracked, held only by the garbage): %s objects, %s\n", n[1], b[1]);
	fprintf(out, "%s reference cycles in %s shapes; %s garbage objects hang off cycles\n\n", n[2], n[3], n[4]);
	if (u->n) {
		static const char *const head[] = {"GARBAGE TYPE", "OBJECTS", "BYTES"};
		struct ch_table t;
		ch_table_init(&t, 3, head, "lrr", CH_FLEX(0), "  ");
		for (size_t i = 0; i < u->n && i < 10; i++) {
			ch_table_cell(&t, "%s", ch_py_type_name(&py->types, u->rows[i].type));
			ch_table_count(&t, u->rows[i].count);
			ch_table_bytes(&t, u->rows[i].bytes);
		}
		ch_table_print(out, &t);
		fputc('\n', out);
	}
	ch_report_cycle_groups_text(out, py, c, limit);
	if (limit && c->ngroups > limit)
		fprintf(out, "(%zu more shapes; --limit 0 shows all)\n", c->ngroups - limit);
}
