#include <inttypes.h>

#include "report.h"

json_t *ch_report_thread_json(const struct ch_py_stacks *st, const struct ch_py_thread_stack *ts, bool with_locals,
			      size_t max_frames)
{
	json_t *o = json_object();
	json_object_set_new(o, "tid", ts->tid >= 0 ? json_integer(ts->tid) : json_null());
	json_object_set_new(o, "name", ts->has_name ? ch_json_text(ts->name) : json_null());
	json_object_set_new(o, "gil", ts->gil < 0 ? json_null() : json_boolean(ts->gil));
	json_object_set_new(o, "crashed", json_boolean(ts->crashed));
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, ts->thread->tstate);
	json_object_set_new(o, "thread_state", ch_json_text(buf));
	json_t *frames = json_array();
	for (size_t i = 0; i < ts->nframes && (!max_frames || i < max_frames); i++) {
		const struct ch_py_frame *f = &st->frames[ts->first_frame + i];
		const struct ch_py_code *c = &st->codes[f->code];
		json_t *fo = json_object();
		json_object_set_new(fo, "function", ch_json_text(c->function));
		json_object_set_new(fo, "file", ch_json_text(c->file));
		json_object_set_new(fo, "line", f->line >= 0 ? json_integer(f->line) : json_null());
		if (with_locals) {
			json_t *locals = json_object();
			for (size_t k = 0; k < f->nlocals; k++) {
				const struct ch_py_local *l = &st->locals[f->locals_first + k];
				ch_json_set_text_key(locals, l->name, ch_json_text(l->value));
			}
			json_object_set_new(fo, "locals", locals);
		}
		json_array_append_new(frames, fo);
	}
	json_object_set_new(o, "frames", frames);
	return o;
}

void ch_report_thread_header(FILE *out, const struct ch_py_thread_stack *ts)
{
	if (ts->tid >= 0)
		fprintf(out, "Thread %d", ts->tid);
	else
		fprintf(out, "Thread (no OS thread, state 0x%" PRIx64 ")", ts->thread->tstate);
	if (ts->has_name)
		fprintf(out, " \"%s\"", ts->name);
	if (ts->gil > 0)
		fprintf(out, ", holds the GIL");
	if (ts->crashed)
		fprintf(out, ", received the fatal signal");
}

void ch_report_thread_text(FILE *out, const struct ch_py_stacks *st, const struct ch_py_thread_stack *ts,
			   bool with_locals, size_t max_frames)
{
	ch_report_thread_header(out, ts);
	fprintf(out, "%s\n", ts->nframes ? ":" : ": no Python frames");
	for (size_t k = 0; k < ts->nframes && (!max_frames || k < max_frames); k++) {
		const struct ch_py_frame *f = &st->frames[ts->first_frame + k];
		const struct ch_py_code *c = &st->codes[f->code];
		if (f->line >= 0)
			fprintf(out, "  %s (%s:%d)\n", c->function, c->file, f->line);
		else
			fprintf(out, "  %s (%s)\n", c->function, c->file);
		for (size_t j = 0; with_locals && j < f->nlocals; j++) {
			const struct ch_py_local *l = &st->locals[f->locals_first + j];
			fprintf(out, "      %s = %s\n", l->name, l->value);
		}
	}
	if (max_frames && ts->nframes > max_frames)
		fprintf(out, "  ... %zu outer frames\n", ts->nframes - max_frames);
}

json_t *ch_report_stacks_json(const struct ch_python *py, const struct ch_py_stacks *st, bool with_locals)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *threads = json_array();
	for (size_t i = 0; i < st->nthreads; i++)
		json_array_append_new(threads, ch_report_thread_json(st, &st->threads[i], with_locals, 0));
	json_object_set_new(doc, "threads", threads);
	return doc;
}

void ch_report_stacks_text(FILE *out, const struct ch_python *py, const struct ch_py_stacks *st, bool with_locals)
{
	fprintf(out, "CPython %s, %zu Python thread%s (innermost frame first)\n", py->version.text, st->nthreads,
		st->nthreads == 1 ? "" : "s");
	for (size_t i = 0; i < st->nthreads; i++) {
		const struct ch_py_thread_stack *ts = &st->threads[i];
		fputc('\n', out);
		ch_report_thread_text(out, st, ts, with_locals, 0);
	}
}
