/* The per-interpreter split of types, cycles and summary (graph/interp_split.h):
 * JSON "interpreters": [...] next to the totals, and a text section that
 * is printed only when the process has sub-interpreters. */
#include <inttypes.h>

#include "graph/interp_split.h"
#include "report.h"

json_t *ch_report_interps_json(const struct ch_python *py, const struct ch_interp_split *s, bool with_types)
{
	json_t *arr = json_array();
	for (size_t k = 0; k < s->n; k++) {
		const struct ch_interp_part *p = &s->v[k];
		const struct ch_py_interp *in = p->index < py->ninterps ? &py->interps[p->index] : NULL;
		const struct ch_type_row *t = &p->types.totals;
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(in ? (json_int_t)in->id : 0));
		json_object_set_new(o, "main", json_boolean(p->index == 0));
		char addr[24];
		snprintf(addr, sizeof(addr), "0x%" PRIx64, in ? in->addr : py->main_interp);
		json_object_set_new(o, "address", ch_json_text(addr));
		json_object_set_new(o, "gc_lists_read", json_boolean(!in || in->own_gc));
		json_object_set_new(o, "shared_collector", json_boolean(in && in->shared_gc));
		json_object_set_new(o, "objects", json_integer((json_int_t)t->count));
		json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
		json_object_set_new(o, "gc_tracked", json_integer((json_int_t)(t->count - t->gen[CH_GEN_UNTRACKED])));
		json_object_set_new(o, "permanent", json_integer((json_int_t)t->gen[CH_GEN_PERMANENT]));
		if (with_types) /* rows as in types' own "types" */
			json_object_set_new(o, "types", ch_report_type_rows_json(py, &p->types));
		if (p->have_unreachable) {
			json_t *u = json_object();
			json_object_set_new(u, "objects", json_integer((json_int_t)p->unreachable.totals.count));
			json_object_set_new(u, "bytes", json_integer((json_int_t)p->unreachable.totals.bytes));
			json_object_set_new(u, "types", ch_report_type_counts_json(py, &p->unreachable)); /* as cycles' unreachable.types */
			json_object_set_new(o, "unreachable", u);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static void rows_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *h, size_t max)
{
	for (size_t i = 0; i < h->n && (!max || i < max); i++)
		fprintf(out, "    %-40s %10" PRIu64 " objects %12" PRIu64 " bytes\n",
			ch_py_type_name(&py->types, h->rows[i].type), h->rows[i].count, h->rows[i].bytes);
}

void ch_report_interps_text(FILE *out, const struct ch_python *py, const struct ch_interp_split *s, size_t max_rows)
{
	if (s->n < 2)
		return;
	bool shared = py->ninterps > 1 && py->interps[1].shared_gc;
	fprintf(out, "\nby interpreter (%zu; %s):\n", s->n,
		shared ? "one collector for the process" : "each has its own GC lists and collects them on its own");
	for (size_t k = 0; k < s->n; k++) {
		const struct ch_interp_part *p = &s->v[k];
		const struct ch_py_interp *in = p->index < py->ninterps ? &py->interps[p->index] : NULL;
		const struct ch_type_row *t = &p->types.totals;
		char hb[32];
		ch_report_human_bytes(t->bytes, hb, sizeof(hb));
		fprintf(out, "interpreter %" PRId64 "%s at 0x%" PRIx64 ": %" PRIu64 " objects (%" PRIu64 " GC-tracked), %s",
			in ? in->id : 0, p->index == 0 ? " (main)" : "", in ? in->addr : py->main_interp, t->count,
			t->count - t->gen[CH_GEN_UNTRACKED], hb);
		if (p->have_unreachable)
			fprintf(out, "; unreachable %" PRIu64 " objects, %" PRIu64 " bytes", p->unreachable.totals.count,
				p->unreachable.totals.bytes);
		fprintf(out, "%s\n", in && in->shared_gc ? " [one collector for the process (before 3.9): its objects are main's]"
				     : in && !in->own_gc ? " [GC lists not read]" : "");
		if (max_rows) {
			rows_text(out, py, &p->types, max_rows);
			if (p->have_unreachable && p->unreachable.n) {
				fprintf(out, "  unreachable:\n");
				rows_text(out, py, &p->unreachable, max_rows);
			}
		} else if (p->have_unreachable) {
			rows_text(out, py, &p->unreachable, 10);
		}
	}
}
