#include <inttypes.h>

#include "graph/find.h"
#include "graph/type_histogram.h"
#include "report.h"

static const char *const gen_keys[CH_HIST_GENS] = {"0", "1", "2", "permanent", "untracked"};

const char *ch_report_gen_key(unsigned gen)
{
	return gen < CH_HIST_GENS ? gen_keys[gen] : "?";
}

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

json_t *ch_report_find_json(const struct ch_python *py, const struct ch_heap *heap, const char *name,
			    const struct ch_find_result *r, size_t limit)
{
	const struct ch_object_table *o = &heap->objects;
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "type", ch_json_text(name));
	json_t *list = json_array();
	for (size_t i = 0; i < r->n && (!limit || i < limit); i++) {
		uint32_t k = r->objects[i];
		json_t *x = json_object();
		json_object_set_new(x, "address", hex(o->addr[k]));
		json_object_set_new(x, "type", ch_json_text(ch_py_type_name(&py->types, o->type[k])));
		json_object_set_new(x, "size", json_integer((json_int_t)ch_objects_size(o, k)));
		json_object_set_new(x, "generation", ch_json_text(ch_report_gen_key(o->gen[k])));
		json_array_append_new(list, x);
	}
	json_object_set_new(doc, "objects", list);
	json_object_set_new(doc, "total", json_integer((json_int_t)r->n));
	json_t *similar = json_array();
	for (size_t i = 0; i < r->nsimilar; i++)
		json_array_append_new(similar, ch_json_text(ch_py_type_name(&py->types, r->similar[i])));
	json_object_set_new(doc, "did_you_mean", similar);
	return doc;
}

void ch_report_find_text(FILE *out, const struct ch_python *py, const struct ch_heap *heap, const char *name,
			 const struct ch_find_result *r, size_t limit)
{
	const struct ch_object_table *o = &heap->objects;
	if (!r->types_matched) {
		fprintf(out, "no type named %s has objects on the heap", name);
		for (size_t i = 0; i < r->nsimilar; i++)
			fprintf(out, "%s%s", i ? " or " : "; did you mean ", ch_py_type_name(&py->types, r->similar[i]));
		fprintf(out, "%s\n", r->nsimilar ? "?" : "");
		return;
	}
	fprintf(out, "%zu object%s of %s%s\n", r->n, r->n == 1 ? "" : "s", name, r->n ? ":" : "");
	size_t i;
	for (i = 0; i < r->n && (!limit || i < limit); i++) {
		uint32_t k = r->objects[i];
		fprintf(out, "  0x%-14" PRIx64 " %10" PRIu64 " B  gen %-9s %s\n", o->addr[k], ch_objects_size(o, k),
			ch_report_gen_key(o->gen[k]), ch_py_type_name(&py->types, o->type[k]));
	}
	if (i < r->n)
		fprintf(out, "  ... %zu more (--limit 0 shows all)\n", r->n - i);
}
