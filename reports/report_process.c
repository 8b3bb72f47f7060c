/* What `info` says about the process and its core whether or not the
 * Python runtime in it could be read: the executable, pid, command line,
 * signal, OS threads, and how much of the core is missing. */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "readers/cpython/py_threads.h"

json_t *ch_report_process_json(const struct ch_process *proc)
{
	const struct ch_core_file *core = proc->core;
	const struct ch_module *main = ch_process_main_module((struct ch_process *)proc);
	json_t *o = json_object();
	json_object_set_new(o, "executable", main ? ch_json_text(main->path) : json_null());
	json_object_set_new(o, "pid", core->have_psinfo ? json_integer(core->pid) : json_null());
	json_object_set_new(o, "command", core->have_psinfo ? ch_json_text(core->fname) : json_null());
	json_object_set_new(o, "arguments", core->have_psinfo ? ch_json_text(core->psargs) : json_null());
	json_object_set_new(o, "signal", json_integer(core->signo));
	json_object_set_new(o, "os_threads", json_integer((json_int_t)core->nthreads));
	return o;
}

json_t *ch_report_core_json(const struct ch_core_file *core)
{
	json_t *cf = json_object();
	json_object_set_new(cf, "path", ch_json_text(core->path));
	json_object_set_new(cf, "machine", ch_json_text(core->arch->name));
	json_object_set_new(cf, "compression", ch_json_text(ch_core_compression_name(core->compression)));
	json_object_set_new(cf, "size", json_integer((json_int_t)core->size));
	json_object_set_new(cf, "expected_size", json_integer((json_int_t)core->expected_size));
	json_object_set_new(cf, "truncated", json_boolean(core->truncated));
	json_object_set_new(cf, "missing_bytes",
			    json_integer(core->expected_size > core->size ? (json_int_t)(core->expected_size - core->size) : 0));
	json_object_set_new(cf, "notes_cut", json_boolean(core->notes_cut));
	const char *src = ch_core_mapping_source_name(core->mapping_source);
	json_object_set_new(cf, "mapping_source", src ? ch_json_text(src) : json_null());
	json_object_set_new(cf, "mapped_files", json_integer((json_int_t)ch_core_mapped_files(core)));
	json_object_set_new(cf, "mapping_problem",
			    core->mapping_problem[0] ? ch_json_text(core->mapping_problem) : json_null());
	return cf;
}

/* thread_state: the Python thread state of each OS thread, NULL when the
 * runtime was not read (then "python" is null: unknown, not false). */
json_t *ch_report_core_threads_json(const struct ch_core_file *core, const struct ch_python *py)
{
	json_t *threads = json_array();
	long crashed = ch_core_crashed_thread(core);
	for (size_t i = 0; i < core->nthreads; i++) {
		const struct ch_core_thread *t = &core->threads[i];
		const struct ch_py_thread *p = py ? ch_python_thread_for(py, t) : NULL;
		json_t *o = json_object();
		char buf[24];
		json_object_set_new(o, "tid", json_integer(t->tid));
		json_object_set_new(o, "python", py ? json_boolean(p != NULL) : json_null());
		snprintf(buf, sizeof(buf), "0x%" PRIx64, p ? p->tstate : 0);
		json_object_set_new(o, "thread_state", p ? ch_json_text(buf) : json_null());
		json_object_set_new(o, "crashed", json_boolean((long)i == crashed));
		json_object_set_new(o, "signal", json_integer(t->cursig));
		json_array_append_new(threads, o);
	}
	return threads;
}

json_t *ch_report_info_process_json(const struct ch_process *proc)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", json_null());
	json_object_set_new(doc, "process", ch_report_process_json(proc));
	json_object_set_new(doc, "core", ch_report_core_json(proc->core));
	json_object_set_new(doc, "layout", json_null());
	json_object_set_new(doc, "gc", json_null());
	json_object_set_new(doc, "threads", ch_report_core_threads_json(proc->core, NULL));
	json_object_set_new(doc, "python_threads", json_null());
	return doc;
}

void ch_report_core_text(FILE *out, const struct ch_process *proc)
{
	const struct ch_core_file *core = proc->core;
	const struct ch_module *main = ch_process_main_module((struct ch_process *)proc);
	fprintf(out, "core:         %s", core->path);
	if (core->have_psinfo)
		fprintf(out, " (pid %d, %s)", core->pid, core->fname);
	if (core->signo)
		fprintf(out, ", killed by signal %d", core->signo);
	if (core->arch->machine != EM_X86_64)
		fprintf(out, "\n              an %s core", core->arch->name);
	if (core->compression != CH_CORE_PLAIN)
		fprintf(out, "\n              %s-compressed; read from a %.1f MiB decompressed copy",
			ch_core_compression_name(core->compression), core->size / 1048576.0);
	if (core->truncated && core->expected_size > core->size)
		fprintf(out, "\n              TRUNCATED: %.1f MiB of %.1f MiB (%" PRIu64 " of %" PRIu64 " bytes) present",
			core->size / 1048576.0, core->expected_size / 1048576.0, (uint64_t)core->size, core->expected_size);
	else if (core->truncated)
		fprintf(out, "\n              TRUNCATED or damaged: the note list ends early");
	fprintf(out, "\nexecutable:   %s\n", main ? main->path : "(unknown)");
	if (core->mapping_source == CH_MAPPINGS_NT_FILE)
		fprintf(out, "mapped files: %zu, from the NT_FILE note\n", ch_core_mapped_files(core));
	else if (core->mapping_source == CH_MAPPINGS_LINK_MAP)
		fprintf(out, "mapped files: %zu, from the r_debug link map (the core has no NT_FILE note)%s%s\n",
			ch_core_mapped_files(core), core->mapping_problem[0] ? "; " : "", core->mapping_problem);
	else
		fprintf(out, "mapped files: NONE: no NT_FILE note, and no r_debug link map (%s)\n",
			core->mapping_problem[0] ? core->mapping_problem : "not looked for");
	if (core->have_psinfo && core->psargs[0])
		fprintf(out, "command line: %s\n", core->psargs);
}

void ch_report_info_process_text(FILE *out, const struct ch_process *proc)
{
	const struct ch_core_file *core = proc->core;
	ch_report_core_text(out, proc);
	fprintf(out, "python:       (runtime unreadable: see the warnings)\n");
	long crashed = ch_core_crashed_thread(core);
	fprintf(out, "threads:      %zu OS threads\n", core->nthreads);
	for (size_t i = 0; i < core->nthreads; i++)
		fprintf(out, "  tid %-8d signal %d%s\n", core->threads[i].tid, core->threads[i].cursig,
			(long)i == crashed ? "  <- received the fatal signal" : "");
}
