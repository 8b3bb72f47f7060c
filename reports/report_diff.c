#include <inttypes.h>
#include <string.h>

#include "graph/diff.h"
#include "report.h"
#include "report_table.h"

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *side_json(const struct ch_diff_side *s, const struct ch_heap_digest *h)
{
	json_t *o = json_object();
	json_object_set_new(o, "source", ch_json_text(s->source));
	json_object_set_new(o, "kind", ch_json_text(s->kind));
	json_object_set_new(o, "version", ch_json_text(ch_digest_str(h, h->version)));
	json_object_set_new(o, "pid", h->pid >= 0 ? json_integer(h->pid) : json_null());
	json_object_set_new(o, "partial", json_boolean(h->diag.partial));
	/* null: an older snapshot that did not record the verdict */
	json_object_set_new(o, "exact", h->exact_known ? json_boolean(h->exact) : json_null());
	json_object_set_new(o, "conservative_types", h->exact_known ? ch_report_digest_conservative_json(h) : json_null());
	return o;
}

/* Both sides' figures are exact (and say so): the deltas of unreachable
 * objects are then exact too. */
static bool both_exact(const struct ch_diff *d)
{
	return d->a->exact_known && d->a->exact && d->b->exact_known && d->b->exact;
}

/* {"<name>_a": a, "<name>_b": b, "<name>_delta": b - a} into o. */
static void triple(json_t *o, const char *name, uint64_t a, uint64_t b)
{
	char key[48];
	snprintf(key, sizeof(key), "%s_a", name);
	json_object_set_new(o, key, u64(a));
	snprintf(key, sizeof(key), "%s_b", name);
	json_object_set_new(o, key, u64(b));
	snprintf(key, sizeof(key), "%s_delta", name);
	json_object_set_new(o, key, json_integer(ch_diff_delta(a, b)));
}

static json_t *row_json(const struct ch_diff_row *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "count_a", u64(r->count_a));
	json_object_set_new(o, "count_b", u64(r->count_b));
	json_object_set_new(o, "count_delta", json_integer(r->count_delta));
	json_object_set_new(o, "bytes_a", u64(r->bytes_a));
	json_object_set_new(o, "bytes_b", u64(r->bytes_b));
	json_object_set_new(o, "bytes_delta", json_integer(r->bytes_delta));
	json_object_set_new(o, "status", ch_json_text(ch_diff_status_name(r->status)));
	return o;
}

json_t *ch_report_diff_json(const struct ch_diff *d, const struct ch_diff_side *a, const struct ch_diff_side *b,
			    size_t limit)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "a", side_json(a, d->a));
	json_object_set_new(doc, "b", side_json(b, d->b));
	json_t *totals = json_object();
	triple(totals, "count", d->a->totals.count, d->b->totals.count);
	triple(totals, "bytes", d->a->totals.bytes, d->b->totals.bytes);
	json_object_set_new(doc, "totals", totals);
	json_t *types = json_array();
	for (size_t i = 0; i < d->ntypes && (!limit || i < limit); i++) {
		json_t *o = json_object();
		json_object_set_new(o, "type", ch_json_text(d->types[i].name));
		json_t *r = row_json(&d->types[i]);
		json_object_update(o, r);
		json_decref(r);
		json_array_append_new(types, o);
	}
	json_object_set_new(doc, "types", types);
	json_t *gc = json_object();
	json_object_set_new(gc, "a", ch_report_gc_json(&d->a->gc, d->a->frozen));
	json_object_set_new(gc, "b", ch_report_gc_json(&d->b->gc, d->b->frozen));
	json_t *changed = json_array();
	for (int f = 0; f < CH_DIFF_GC_NFIELDS; f++)
		if (d->gc_changed & (1u << f))
			json_array_append_new(changed, ch_json_text(ch_diff_gc_field_name(f)));
	json_object_set_new(gc, "changed", changed);
	json_object_set_new(doc, "gc", gc);
	json_t *u = json_object();
	triple(u, "objects", d->a->unreachable, d->b->unreachable);
	triple(u, "bytes", d->a->unreachable_bytes, d->b->unreachable_bytes);
	triple(u, "cycles", d->a->cycles, d->b->cycles);
	json_object_set_new(doc, "unreachable", u);
	json_t *groups = json_array();
	for (size_t i = 0; i < d->ngroups && (!limit || i < limit); i++) {
		const struct ch_diff_row *r = &d->groups[i];
		json_t *o = r->gb ? ch_report_digest_group_json(d->b, r->gb) : ch_report_digest_group_json(d->a, r->ga);
		json_t *x = row_json(r);
		json_object_update(o, x);
		json_decref(x);
		json_array_append_new(groups, o);
	}
	json_object_set_new(doc, "groups", groups);
	if (d->growth_known) {
		json_t *gs = json_array();
		for (size_t i = 0; i < d->ngrowth; i++) {
			const struct ch_diff_growth *g = &d->growth[i];
			json_t *x = json_object();
			json_object_set_new(x, "path", ch_json_text(g->path));
			json_object_set_new(x, "type", ch_json_text(g->type));
			json_object_set_new(x, "new", json_boolean(g->new_in_b));
			json_object_set_new(x, "elements_a", json_integer((json_int_t)g->elements_a));
			json_object_set_new(x, "elements_b", json_integer((json_int_t)g->elements_b));
			json_object_set_new(x, "elements_delta", json_integer(g->elements_delta));
			json_object_set_new(x, "retained_a", json_integer((json_int_t)g->retained_a));
			json_object_set_new(x, "retained_b", json_integer((json_int_t)g->retained_b));
			json_object_set_new(x, "retained_delta", json_integer(g->retained_delta));
			json_array_append_new(gs, x);
		}
		json_object_set_new(doc, "growth", gs);
	} else {
		json_object_set_new(doc, "growth", json_null());
	}
	json_object_set_new(doc, "memory", ch_report_diff_memory_json(d));
	json_object_set_new(doc, "exact", json_boolean(both_exact(d)));
	return doc;
}

#define CH_DIFF_GROWTH_SHOWN 10

static void side_text(FILE *out, const char *label, const struct ch_diff_side *s, const struct ch_heap_digest *h)
{
	fprintf(out, "%s: %s (%s, CPython %s", label, s->source, s->kind, ch_digest_str(h, h->version));
	if (h->pid >= 0)
		fprintf(out, ", pid %" PRId64, h->pid);
	fprintf(out, "%s)\n", h->diag.partial ? ", PARTIAL" : "");
}

/* Why a side's figures may not be exact, after the side lines. */
static void side_exactness_text(FILE *out, const char *label, const struct ch_heap_digest *h)
{
	if (!h->exact_known) {
		fprintf(out, "%s: exactness not recorded (a snapshot from an earlier coreheap): its unreachable figures may be "
			     "a lower bound\n", label);
		return;
	}
	if (h->exact)
		return;
	uint64_t n = 0;
	for (size_t i = 0; i < h->nconservative; i++)
		n += h->conservative[i].objects;
	fprintf(out, "%s: NOT EXACT: %" PRIu64 " object%s of %zu type%s kept %s references conservatively: its unreachable "
		     "figures are a lower bound, and so is any change in them.\n",
		label, n, n == 1 ? "" : "s", h->nconservative, h->nconservative == 1 ? "" : "s", n == 1 ? "its" : "their");
	for (size_t i = 0; i < h->nconservative; i++)
		fprintf(out, "  %-36s %10" PRIu64 "  %s\n", ch_digest_str(h, h->conservative[i].type),
			h->conservative[i].objects, ch_digest_str(h, h->conservative[i].reason));
}

static void change_text(FILE *out, uint64_t a, uint64_t b, const char *unit)
{
	char ca[32], cb[32], cd[32];
	int64_t delta = ch_diff_delta(a, b);
	ch_report_count(a, ca, sizeof(ca));
	ch_report_count(b, cb, sizeof(cb));
	ch_report_count(delta < 0 ? (uint64_t)0 - (uint64_t)delta : (uint64_t)delta, cd, sizeof(cd));
	fprintf(out, "%s -> %s %s (%s%s)", ca, cb, unit, delta < 0 ? "-" : "+", cd);
}

static void gens_text(FILE *out, const int *v, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? "/" : "", v[i]);
}

static void gc_text(FILE *out, const struct ch_diff *d)
{
	const struct ch_gc_state *a = &d->a->gc, *b = &d->b->gc;
	if (!d->gc_changed) {
		fprintf(out, "gc:          unchanged (%s)\n", b->enabled ? "enabled" : "DISABLED");
		return;
	}
	const char *lead = "gc:          ";
	for (int f = 0; f < CH_DIFF_GC_NFIELDS; f++) {
		if (!(d->gc_changed & (1u << f)))
			continue;
		fprintf(out, "%s%s: ", lead, ch_diff_gc_field_name(f));
		lead = "             ";
		switch (f) {
		case CH_DIFF_GC_ENABLED:
			fprintf(out, "%s -> %s", a->enabled ? "true" : "false", b->enabled ? "true" : "false");
			break;
		case CH_DIFF_GC_COLLECTING:
			fprintf(out, "%s -> %s", a->collecting ? "true" : "false", b->collecting ? "true" : "false");
			break;
		case CH_DIFF_GC_DEBUG:
			fprintf(out, "%d -> %d", a->debug, b->debug);
			break;
		case CH_DIFF_GC_GARBAGE:
			fprintf(out, "%" PRId64 " -> %" PRId64, a->garbage, b->garbage);
			break;
		case CH_DIFF_GC_FROZEN:
			fprintf(out, "%" PRIu64 " -> %" PRIu64, d->a->frozen, d->b->frozen);
			break;
		case CH_DIFF_GC_THRESHOLDS:
		case CH_DIFF_GC_COUNTS:
			gens_text(out, f == CH_DIFF_GC_COUNTS ? a->counts : a->thresholds, a->ngenerations);
			fprintf(out, " -> ");
			gens_text(out, f == CH_DIFF_GC_COUNTS ? b->counts : b->thresholds, b->ngenerations);
			break;
		}
		fputc('\n', out);
	}
}

/* "... N more" after a list cut by --limit. */
static void more_text(FILE *out, size_t n, size_t limit, const char *what)
{
	if (!limit || n <= limit)
		return;
	char more[32];
	ch_report_count(n - limit, more, sizeof(more));
	fprintf(out, "... %s more %s (--limit 0 shows all)\n", more, what);
}

void ch_report_diff_text(FILE *out, const struct ch_diff *d, const struct ch_diff_side *a, const struct ch_diff_side *b,
			 size_t limit)
{
	side_text(out, "A", a, d->a);
	side_text(out, "B", b, d->b);
	side_exactness_text(out, "A", d->a);
	side_exactness_text(out, "B", d->b);
	if (ch_diff_empty(d)) {
		fprintf(out, "no differences\n");
		if (!d->memory_known)
			ch_report_diff_memory_text(out, d);
		return;
	}
	fprintf(out, "heap:        ");
	change_text(out, d->a->totals.count, d->b->totals.count, "objects");
	fprintf(out, ", ");
	change_text(out, d->a->totals.bytes, d->b->totals.bytes, "bytes");
	fprintf(out, "\nunreachable: ");
	change_text(out, d->a->unreachable, d->b->unreachable, "objects");
	fprintf(out, ", ");
	change_text(out, d->a->unreachable_bytes, d->b->unreachable_bytes, "bytes");
	fputc('\n', out);
	if (d->ngrowth) {
		fprintf(out, "growing containers (matched by their path from the roots):\n");
		for (size_t i = 0; i < d->ngrowth && i < CH_DIFF_GROWTH_SHOWN; i++) {
			const struct ch_diff_growth *g = &d->growth[i];
			char ea[32], eb[32], hb[32], db[32];
			ch_report_count(g->elements_a, ea, sizeof(ea));
			ch_report_count(g->elements_b, eb, sizeof(eb));
			ch_report_human_bytes(g->retained_b, hb, sizeof(hb));
			int64_t dr = g->retained_delta;
			ch_report_human_bytes(dr < 0 ? (uint64_t)0 - (uint64_t)dr : (uint64_t)dr, db, sizeof(db));
			fprintf(out, "  %s (%s): %s%s -> %s elements, retaining %s (%s%s)\n", g->path, g->type,
				g->new_in_b ? "new, " : "", ea, eb, hb, dr < 0 ? "-" : "+", db);
		}
		if (d->ngrowth > CH_DIFF_GROWTH_SHOWN)
			fprintf(out, "  ... %zu more (--json lists all)\n", d->ngrowth - CH_DIFF_GROWTH_SHOWN);
	}
	gc_text(out, d);
	ch_report_diff_memory_text(out, d);
	fprintf(out, "types:       %zu new, %zu grown, %zu shrunk, %zu gone\n", d->nstatus[CH_DIFF_NEW],
		d->nstatus[CH_DIFF_GROWN], d->nstatus[CH_DIFF_SHRUNK], d->nstatus[CH_DIFF_GONE]);
	if (d->ntypes) {
		static const char *const head[] = {"STATUS", "TYPE", "COUNT A", "COUNT B", "COUNT +/-", "BYTES +/-"};
		struct ch_table t;
		ch_table_init(&t, 6, head, "llrrrr", CH_FLEX(1), NULL);
		for (size_t i = 0; i < d->ntypes && (!limit || i < limit); i++) {
			const struct ch_diff_row *r = &d->types[i];
			ch_table_cell(&t, "%s", ch_diff_status_name(r->status));
			ch_table_cell(&t, "%s", r->name);
			ch_table_count(&t, r->count_a);
			ch_table_count(&t, r->count_b);
			ch_table_delta(&t, r->count_delta);
			ch_table_bytes_delta(&t, r->bytes_delta);
		}
		fputc('\n', out);
		ch_table_print(out, &t);
		more_text(out, d->ntypes, limit, "types");
	}
	if (d->ngroups) {
		fprintf(out, "\ncycle shapes:\n");
		for (size_t i = 0; i < d->ngroups && (!limit || i < limit); i++) {
			const struct ch_diff_row *r = &d->groups[i];
			const struct ch_heap_digest *h = r->gb ? d->b : d->a;
			const struct ch_digest_group *g = r->gb ? r->gb : r->ga;
			fprintf(out, "%-7s %" PRIu64 " -> %" PRIu64 " x (%+" PRId64 ", %+" PRId64 " bytes)\n    types:",
				ch_diff_status_name(r->status), r->count_a, r->count_b, r->count_delta, r->bytes_delta);
			for (uint32_t t = 0; t < g->ntypes; t++) {
				const struct ch_digest_shape_type *st = &h->shape_types[g->first_type + t];
				fprintf(out, "%s %s x%u", t ? "," : "", ch_digest_str(h, st->name), st->count);
			}
			fputc('\n', out);
			for (uint32_t x = 0; x < g->nedges; x++)
				fprintf(out, "    %s\n", ch_digest_str(h, h->edges[g->first_edge + x]));
		}
		more_text(out, d->ngroups, limit, "shapes");
	}
}
