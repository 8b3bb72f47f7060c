#include "commands.h"
#include "graph/native_stacks.h"
#include "readers/cpython/py_frames.h"
#include "readers/cpython/py_threads.h"
#include "reports/report.h"
#include "session.h"

static bool crashed_tid(const struct ch_core_file *core, int32_t tid)
{
	long i = ch_core_crashed_thread(core);
	return i >= 0 && core->threads[i].tid == tid;
}

/* --native: every OS thread's C frames with the Python frames put in. */
static struct ch_error *native_report(struct ch_session *s, const struct ch_py_stacks *st, json_t *doc)
{
	struct ch_native *native;
	struct ch_error *err = ch_native_open(s->proc, &native);
	if (err)
		return err;
	struct ch_mixed_stacks m;
	err = ch_mixed_stacks_build(native, s->proc, st, -1, &m);
	if (!err) {
		const struct ch_core_file *core = s->proc->core;
		json_t *arr = doc ? json_array() : NULL;
		if (!doc)
			fprintf(s->out, "\nNative and Python frames of %zu OS thread%s (innermost first; C = native, Py = Python):\n",
				m.nthreads, m.nthreads == 1 ? "" : "s");
		for (size_t i = 0; i < m.nthreads; i++) {
			bool crashed = crashed_tid(core, m.threads[i].tid);
			if (arr) {
				json_array_append_new(arr, ch_report_mixed_thread_json(st, &m.threads[i], crashed, 0));
			} else {
				fputc('\n', s->out);
				ch_report_mixed_thread_text(s->out, st, &m.threads[i], crashed, 0);
			}
		}
		if (arr)
			json_object_set_new(doc, "native_threads", arr);
		ch_mixed_stacks_deinit(&m);
	}
	ch_native_close(native);
	return err;
}

static int run_stacks(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_py_stacks st;
	struct ch_error *err = ch_py_stacks_read(s.py, s.opts.locals, &st);
	if (err) {
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	json_t *doc = NULL;
	if (s.opts.json)
		doc = ch_report_stacks_json(s.py, &st, s.opts.locals);
	else if (!s.opts.native)
		ch_report_stacks_text(s.out, s.py, &st, s.opts.locals);
	else
		fprintf(s.out, "CPython %s\n", s.py->version.text);
	if (s.opts.native && (err = native_report(&s, &st, doc))) {
		json_decref(doc);
		ch_py_stacks_deinit(&st);
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	code = ch_session_finish(&s, doc);
	ch_py_stacks_deinit(&st);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_stacks = {
	.name = "stacks",
	.summary = "Python stack of every thread: function, file and line, innermost frame first.\n\n"
		   "Every Python thread of every interpreter, with its Python frames: function (co_qualname on\n"
		   "3.11+, co_name before), file and line (as frame.f_lineno would give it, decoded from the\n"
		   "version's line table). For each thread: the OS thread id it runs on (matched to the core's\n"
		   "NT_PRSTATUS entries as `info` does), whether it holds the GIL (3.6\n"
		   "_PyThreadState_Current, 3.7-3.11 _PyRuntime.gilstate.tstate_current; 3.12+ the interpreter's\n"
		   "GIL last_holder while it is locked), whether it received the fatal signal, and its threading name. The frames are those\n"
		   "sys._current_frames() would show: running generators and coroutines appear in the chain where\n"
		   "they were resumed; entry/shim frames and frames that have not started are skipped. A thread\n"
		   "without Python frames is listed as such.\n\n"
		   "--locals adds each frame's local variables with a short rendering: ints in decimal (any size),\n"
		   "strs as repr (cut after 64 characters, then ...), floats as repr, None/True/False,\n"
		   "lists/tuples/dicts/bytes as <list len=3>; functools.lru_cache wrappers, re.Pattern, _io file\n"
		   "objects and numpy arrays as show's one line (coreheap show --help); anything else as\n"
		   "<type at 0x...>. On 3.6-3.10 these\n"
		   "are the fast locals (co_varnames); on 3.11+ every local, cell and free variable (cells shown by\n"
		   "their contents). With --redact str and bytes locals are shown as their type and length; thread\n"
		   "names are not redacted yet (docs/privacy.md).\n\n"
		   "--native adds every OS thread's C stack, unwound from the core's registers with the call\n"
		   "frame information of the mapped files (elfutils libdwfl): function+offset and library, and\n"
		   "file:line where debug info has it (separate debug files as for layouts, --debug-dir too). Each\n"
		   "C frame of the eval loop (_PyEval_EvalFrameDefault) is replaced by the Python frames it was\n"
		   "running, as pystack --native shows them; a disagreement between the two stacks is noted. In\n"
		   "text, the interleaved stacks replace the Python-only ones; in JSON they are added as\n"
		   "\"native_threads\". Needs libdw.so.1 at run time (exit 4 without it).\n\n"
		   "Options:\n"
		   "  --locals             also each frame's local variables (short renderings)\n"
		   "  --native             interleave each thread's native (C) frames with its Python frames\n\n"
		   "Examples:\n"
		   "  coreheap stacks core.1234\n"
		   "  coreheap stacks core.1234 --native\n"
		   "  coreheap stacks core.1234 --locals --json | jq '.threads[] | select(.crashed)'\n",
	.usage = "stacks [options] CORE",
	.extras = CH_OPT_LOCALS | CH_OPT_NATIVE,
	.run = run_stacks,
};
