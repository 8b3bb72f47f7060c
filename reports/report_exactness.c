/* The exactness verdict (graph/exactness.h) in every analysis report:
 * JSON "exact" and "conservative_types"; in text, a plain paragraph when
 * the result is not exact, saying the unreachable figure is a lower bound. */
#include <inttypes.h>

#include "graph/exactness.h"
#include "readers/cpython/py_refs.h"
#include "reports/report.h"

void ch_report_exactness_add(json_t *doc, const struct ch_python *py, const struct ch_exactness *x)
{
	json_t *types = json_array();
	for (size_t i = 0; i < x->ntypes; i++)
		json_array_append_new(types, json_pack("{s:s, s:I, s:s}", "type", ch_py_type_name(&py->types, x->types[i].type),
						       "objects", (json_int_t)x->types[i].objects, "reason",
						       x->types[i].reason));
	json_object_set_new(doc, "exact", json_boolean(ch_exactness_exact(x)));
	json_object_set_new(doc, "conservative_types", types);
}

void ch_report_exactness_text(FILE *out, const struct ch_python *py, const struct ch_exactness *x)
{
	if (ch_exactness_exact(x))
		return;
	fprintf(out,
		"\nNOT EXACT: %zu object%s of %zu type%s kept %s references conservatively (their own tp_traverse\n"
		"could not be run), so what they hold counts as referenced from outside: the unreachable figure is\n"
		"a lower bound.\n",
		x->nobjects, x->nobjects == 1 ? "" : "s", x->ntypes, x->ntypes == 1 ? "" : "s",
		x->nobjects == 1 ? "its" : "their");
	for (size_t i = 0; i < x->ntypes; i++)
		fprintf(out, "  %-36s %10" PRIu64 "  %s\n", ch_py_type_name(&py->types, x->types[i].type),
			x->types[i].objects, x->types[i].reason);
}

static const char *target_type(const struct ch_python *py, const struct ch_traverse_mismatch *m)
{
	return m->target_type == UINT32_MAX ? "(not an object)" : ch_py_type_name(&py->types, m->target_type);
}

void ch_report_traverse_verify_add(json_t *doc, const struct ch_python *py, const struct ch_traverse_verify *v)
{
	json_t *list = json_array();
	for (size_t i = 0; i < v->n; i++) {
		const struct ch_traverse_mismatch *m = &v->v[i];
		char obj[24], tgt[24];
		snprintf(obj, sizeof(obj), "0x%" PRIx64, m->object);
		snprintf(tgt, sizeof(tgt), "0x%" PRIx64, m->target);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "object", obj, "type",
						      ch_py_type_name(&py->types, m->type), "target", tgt, "target_type",
						      target_type(py, m), "emulated", (int)m->emulated,
						      "modelled", (int)m->modelled));
	}
	json_object_set_new(doc, "traverse_mismatches", list);
	json_object_set_new(doc, "traverse_verified", json_pack("{s:I, s:I}", "objects", (json_int_t)v->objects,
								"unverified", (json_int_t)v->unverified));
}

void ch_report_traverse_verify_text(FILE *out, const struct ch_python *py, const struct ch_traverse_verify *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct ch_traverse_mismatch *m = &v->v[i];
		fprintf(out,
			"traverse mismatch: 0x%" PRIx64 " (%s) -> 0x%" PRIx64 " (%s): tp_traverse visits it %u times, "
			"coreheap's reader %u\n",
			m->object, ch_py_type_name(&py->types, m->type), m->target, target_type(py, m), m->emulated,
			m->modelled);
	}
	fprintf(out, "--verify-traverse: %" PRIu64 " objects of modelled types compared with their emulated tp_traverse, "
		     "%zu differences, %" PRIu64 " not checked (emulation failed)\n",
		v->objects, v->n, v->unverified);
}
