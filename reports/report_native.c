#include <inttypes.h>
#include <string.h>

#include "report.h"

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path;
}

static void native_line(FILE *out, const struct ch_native_frame *f)
{
	if (f->function[0])
		fprintf(out, "  C   %s+0x%" PRIx64, f->function, f->offset);
	else
		fprintf(out, "  C   ??? 0x%" PRIx64, f->pc);
	fprintf(out, " in %s", f->module ? base_name(f->module) : "(no mapped file)");
	if (f->file[0])
		fprintf(out, " (%s:%d)", f->file, f->line);
	fputc('\n', out);
}

void ch_report_mixed_thread_text(FILE *out, const struct ch_py_stacks *st, const struct ch_thread_mixed *t,
				 bool crashed, size_t max_frames)
{
	if (t->py) {
		ch_report_thread_header(out, t->py);
		fprintf(out, "%s:\n", t->py->nframes ? "" : " (no Python frames)");
	} else {
		fprintf(out, "Thread %d (no Python thread state)%s:\n", t->tid, crashed ? ", received the fatal signal" : "");
	}
	for (size_t k = 0; k < t->nframes && (!max_frames || k < max_frames); k++) {
		const struct ch_mixed_frame *m = &t->frames[k];
		if (!m->python) {
			native_line(out, &t->native.frames[m->index]);
			continue;
		}
		const struct ch_py_frame *f = &st->frames[m->index];
		const struct ch_py_code *c = &st->codes[f->code];
		if (f->line >= 0)
			fprintf(out, "  Py  %s (%s:%d)\n", c->function, c->file, f->line);
		else
			fprintf(out, "  Py  %s (%s)\n", c->function, c->file);
	}
	if (max_frames && t->nframes > max_frames)
		fprintf(out, "  ... %zu outer frames\n", t->nframes - max_frames);
	if (t->native.stopped[0])
		fprintf(out, "  (%s)\n", t->native.stopped);
	if (t->note[0])
		fprintf(out, "  (note: %s)\n", t->note);
}

json_t *ch_report_mixed_thread_json(const struct ch_py_stacks *st, const struct ch_thread_mixed *t, bool crashed,
				    size_t max_frames)
{
	json_t *o = json_object();
	char buf[24];
	json_object_set_new(o, "tid", json_integer(t->tid));
	json_object_set_new(o, "python", json_boolean(t->py != NULL));
	json_object_set_new(o, "crashed", json_boolean(crashed));
	json_t *frames = json_array();
	for (size_t k = 0; k < t->nframes && (!max_frames || k < max_frames); k++) {
		const struct ch_mixed_frame *m = &t->frames[k];
		json_t *fo = json_object();
		if (m->python) {
			const struct ch_py_frame *f = &st->frames[m->index];
			const struct ch_py_code *c = &st->codes[f->code];
			json_object_set_new(fo, "kind", ch_json_text("python"));
			json_object_set_new(fo, "function", ch_json_text(c->function));
			json_object_set_new(fo, "file", ch_json_text(c->file));
			json_object_set_new(fo, "line", f->line >= 0 ? json_integer(f->line) : json_null());
		} else {
			const struct ch_native_frame *f = &t->native.frames[m->index];
			json_object_set_new(fo, "kind", ch_json_text("native"));
			json_object_set_new(fo, "function", f->function[0] ? ch_json_text(f->function) : json_null());
			json_object_set_new(fo, "offset", f->function[0] ? json_integer((json_int_t)f->offset) : json_null());
			json_object_set_new(fo, "library", f->module ? ch_json_text(f->module) : json_null());
			snprintf(buf, sizeof(buf), "0x%" PRIx64, f->pc);
			json_object_set_new(fo, "pc", ch_json_text(buf));
			json_object_set_new(fo, "file", f->file[0] ? ch_json_text(f->file) : json_null());
			json_object_set_new(fo, "line", f->file[0] ? json_integer(f->line) : json_null());
		}
		json_array_append_new(frames, fo);
	}
	json_object_set_new(o, "frames", frames);
	json_object_set_new(o, "stopped", t->native.stopped[0] ? ch_json_text(t->native.stopped) : json_null());
	json_object_set_new(o, "note", t->note[0] ? ch_json_text(t->note) : json_null());
	return o;
}
