#include "commands.h"
#include "readers/cpython/py_frames.h"
#include "reports/report.h"
#include "session.h"

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
	else
		ch_report_stacks_text(s.out, s.py, &st, s.opts.locals);
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
		   "_PyThreadState_Current, 3.7-3.11 _PyRuntime.gilstate.tstate_current; 3.12+ the interpreter's GIL last_holder while it is locked),\n"
		   "whether it received the fatal signal, and its threading name. The frames are those\n"
		   "sys._current_frames() would show: running generators and coroutines appear in the chain where\n"
		   "they were resumed; entry/shim frames and frames that have not started are skipped. A thread\n"
		   "without Python frames is listed as such.\n\n"
		   "--locals adds each frame's local variables with a short rendering: ints in decimal (any size),\n"
		   "strs as repr (cut after 64 characters, then ...), floats as repr, None/True/False,\n"
		   "lists/tuples/dicts/bytes as <list len=3>, anything else as <type at 0x...>. On 3.6-3.10 these\n"
		   "are the fast locals (co_varnames); on 3.11+ every local, cell and free variable (cells shown by\n"
		   "their contents). With --redact str and bytes locals are shown as their type and length; thread\n"
		   "names are not redacted yet (docs/privacy.md).\n\n"
		   "Options:\n"
		   "  --locals             also each frame's local variables (short renderings)\n\n"
		   "Examples:\n"
		   "  coreheap stacks core.1234\n"
		   "  coreheap stacks core.1234 --locals --json | jq '.threads[] | select(.crashed)'\n",
	.usage = "stacks [options] CORE",
	.extras = CH_OPT_LOCALS,
	.run = run_stacks,
};
