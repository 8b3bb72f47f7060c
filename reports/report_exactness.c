/* The exactness verdict (graph/exactness.h) in every analysis report:
 * JSON "exact" and "conservative_types"; in text, a plain paragraph when
 * the result is not exact, saying the unreachable figure is a lower bound. */
#include <inttypes.h>

#include "graph/exactness.h"
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
		"\nNOT EXACT: %zu objects of %zu types kept their references conservatively (their own tp_traverse\n"
		"could not be run), so what they hold counts as referenced from outside: the unreachable figure is\n"
		"a lower bound.\n",
		x->nobjects, x->ntypes);
	for (size_t i = 0; i < x->ntypes; i++)
		fprintf(out, "  %-36s %10" PRIu64 "  %s\n", ch_py_type_name(&py->types, x->types[i].type),
			x->types[i].objects, x->types[i].reason);
}
