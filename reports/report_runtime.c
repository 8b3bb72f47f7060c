#include <inttypes.h>

#include "report.h"

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

json_t *ch_report_runtime_json(const struct ch_python *py)
{
	const struct ch_module *main = ch_process_main_module(py->proc);
	json_t *r = json_object();
	json_object_set_new(r, "name", ch_json_text("cpython"));
	json_object_set_new(r, "version", ch_json_text(py->version.text));
	json_object_set_new(r, "version_source", ch_json_text(py->version.method));
	json_object_set_new(r, "executable", main ? ch_json_text(main->path) : json_null());
	json_object_set_new(r, "library", ch_json_text(py->module->path));
	json_object_set_new(r, "runtime_address", py->runtime ? hex(py->runtime) : json_null());
	json_object_set_new(r, "main_interpreter", hex(py->main_interp));
	json_object_set_new(r, "interpreter_count", json_integer((json_int_t)(py->ninterps ? py->ninterps : 1)));
	json_object_set_new(r, "layout_source", ch_json_text(py->layout.source ? py->layout.source : ""));
	/* How the DWARF file was found; a built-in table has none (null). */
	json_object_set_new(r, "layout_method",
			    py->layout.builtin ? json_null() : ch_json_text(ch_debug_method_name(py->dwarf_method)));
	json_object_set_new(r, "pid", py->proc->core->have_psinfo ? json_integer(py->proc->core->pid) : json_null());
	json_object_set_new(r, "signal", json_integer(py->proc->core->signo));
	return r;
}

void ch_report_json_status(json_t *doc, const struct ch_diag *diag)
{
	json_object_set_new(doc, "partial", json_boolean(diag->partial));
	json_t *w = json_array();
	for (size_t i = 0; i < diag->n; i++)
		json_array_append_new(w, ch_json_text(diag->messages[i]));
	json_object_set_new(doc, "warnings", w);
}

int ch_report_write_json(FILE *out, json_t *doc, const struct ch_diag *diag)
{
	ch_report_json_status(doc, diag);
	int r = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (r == 0 && fputc('\n', out) == EOF)
		r = -1;
	return r;
}

void ch_report_warnings(FILE *err, const struct ch_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++)
		fprintf(err, "coreheap: warning: %s\n", diag->messages[i]);
	if (diag->dropped)
		fprintf(err, "coreheap: warning: %zu more warnings not shown\n", diag->dropped);
	if (diag->partial)
		fprintf(err, "coreheap: result is partial: some of the dump could not be read\n");
}
