#include <inttypes.h>

#include "graph/cycles.h"
#include "graph/findings.h"
#include "graph/gc_replay.h"
#include "graph/suspects.h"
#include "report.h"
#include "report_table.h"

#define CH_SUMMARY_GROUPS 5
#define CH_SUMMARY_FRAMES 5
#define CH_SUMMARY_NATIVE_FRAMES 24
#define CH_SUMMARY_SUSPECTS 5
#define CH_SUMMARY_NEXT 3

static const char *const gen_keys[CH_HIST_GENS] = {"0", "1", "2", "permanent", "untracked"};

json_t *ch_report_summary_json(const struct ch_python *py, const struct ch_type_histogram *types,
			       const struct ch_gc_replay *r, const struct ch_cycles *c, const struct ch_findings *f,
			       const struct ch_py_stacks *st, const struct ch_py_thread_stack *crashed,
			       const struct ch_thread_mixed *native, const struct ch_report_suspects *sus)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "gc", ch_report_gc_json(&py->gc, py->frozen));
	json_t *totals = json_object();
	json_object_set_new(totals, "count", json_integer((json_int_t)types->totals.count));
	json_object_set_new(totals, "bytes", json_integer((json_int_t)types->totals.bytes));
	json_t *g = json_object();
	for (int i = 0; i < CH_HIST_GENS; i++)
		json_object_set_new(g, gen_keys[i], json_integer((json_int_t)types->totals.gen[i]));
	json_object_set_new(totals, "generations", g);
	json_object_set_new(doc, "totals", totals);
	json_object_set_new(doc, "top_types", ch_report_type_rows_json(py, types));
	json_t *u = json_object();
	json_object_set_new(u, "objects", json_integer((json_int_t)r->unreachable));
	json_object_set_new(u, "bytes", json_integer((json_int_t)r->unreachable_bytes));
	json_object_set_new(u, "cycles", json_integer((json_int_t)c->components));
	json_object_set_new(doc, "unreachable", u);
	json_t *fw = json_object();
	json_object_set_new(fw, "objects", json_integer((json_int_t)r->freed_with));
	json_object_set_new(fw, "bytes", json_integer((json_int_t)r->freed_with_bytes));
	json_object_set_new(doc, "freed_with", fw);
	if (sus) {
		struct ch_report_suspects head = *sus;
		head.limit = CH_SUMMARY_SUSPECTS;
		json_object_set_new(doc, "suspects", ch_report_suspects_array(py, &head));
	} else {
		json_object_set_new(doc, "suspects", json_null());
	}
	json_object_set_new(doc, "groups", ch_report_cycle_groups_json(py, c, CH_SUMMARY_GROUPS));
	json_t *fs = json_array();
	for (size_t i = 0; i < f->n; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "code", ch_json_text(f->v[i].code));
		json_object_set_new(x, "text", ch_json_text(f->v[i].text));
		json_array_append_new(fs, x);
	}
	json_object_set_new(doc, "findings", fs);
	json_object_set_new(doc, "crashed_thread",
			    crashed ? ch_report_thread_json(st, crashed, false, CH_SUMMARY_FRAMES) : json_null());
	json_object_set_new(doc, "crashed_thread_native",
			    native ? ch_report_mixed_thread_json(st, native, true, CH_SUMMARY_NATIVE_FRAMES) : json_null());
	return doc;
}

void ch_report_summary_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *types,
			    const struct ch_gc_replay *r, const struct ch_cycles *c, const struct ch_findings *f,
			    const struct ch_py_stacks *st, const struct ch_py_thread_stack *crashed,
			    const struct ch_thread_mixed *native, const struct ch_report_suspects *sus)
{
	const struct ch_gc_state *g = &py->gc;
	const struct ch_type_row *t = &types->totals;
	fprintf(out, "CPython %s, pid %d, %zu thread(s)\n", py->version.text, py->proc->core->pid, py->nthreads);
	fprintf(out, "gc %s; generation counts", g->enabled ? "enabled" : "DISABLED");
	for (int i = 0; i < g->ngenerations; i++)
		fprintf(out, " %d/%d", g->counts[i], g->thresholds[i]);
	fprintf(out, " (count/threshold)%s\n", g->collecting ? "; COLLECTING" : "");
	fprintf(out, "heap: %" PRIu64 " objects, %" PRIu64 " bytes: gen0 %" PRIu64 ", gen1 %" PRIu64 ", gen2 %" PRIu64
		     ", permanent %" PRIu64 ", untracked %" PRIu64 "\n",
		t->count, t->bytes, t->gen[0], t->gen[1], t->gen[2], t->gen[CH_GEN_PERMANENT], t->gen[CH_GEN_UNTRACKED]);
	fprintf(out, "garbage: %" PRIu64 " unreachable objects, %" PRIu64 " bytes, in %" PRIu64 " cycles; %" PRIu64
		     " more objects (%" PRIu64 " bytes) freed with them\n\n",
		r->unreachable, r->unreachable_bytes, c->components, r->freed_with, r->freed_with_bytes);
	if (sus) {
		struct ch_report_suspects head = *sus;
		head.limit = CH_SUMMARY_SUSPECTS;
		fprintf(out, "suspects (coreheap suspects lists all, with evidence and paths):\n");
		ch_report_suspects_titles(out, py, &head);
		fputc('\n', out);
	}
	if (native) {
		fprintf(out, "crashed: ");
		ch_report_mixed_thread_text(out, st, native, true, CH_SUMMARY_NATIVE_FRAMES);
		fputc('\n', out);
	} else if (crashed) {
		fprintf(out, "crashed: ");
		ch_report_thread_text(out, st, crashed, false, CH_SUMMARY_FRAMES);
		fputc('\n', out);
	}
	fprintf(out, "top types by bytes:\n");
	static const char *const head[] = {"TYPE", "OBJECTS", "BYTES"};
	struct ch_table tt;
	ch_table_init(&tt, 3, head, "lrr", CH_FLEX(0), "  ");
	for (size_t i = 0; i < types->n; i++) {
		ch_table_cell(&tt, "%s", ch_py_type_name(&py->types, types->rows[i].type));
		ch_table_count(&tt, types->rows[i].count);
		ch_table_bytes(&tt, types->rows[i].bytes);
	}
	ch_table_print(out, &tt);
	if (c->ngroups) {
		fprintf(out, "\nlargest cycle shapes:\n");
		ch_report_cycle_groups_text(out, py, c, CH_SUMMARY_GROUPS);
	}
	if (f->n) {
		fprintf(out, "\nfindings:\n");
		for (size_t i = 0; i < f->n; i++)
			fprintf(out, "  - %s\n", f->v[i].text);
	}
	if (sus && sus->s->n) {
		struct ch_report_suspects head = *sus;
		head.limit = CH_SUMMARY_NEXT;
		fprintf(out, "\nnext:\n");
		ch_report_suspects_next(out, &head);
	}
}
