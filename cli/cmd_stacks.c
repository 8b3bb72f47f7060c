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
		   "Options:\n"
		   "  --locals             also each frame's local variables (short renderings)\n\n"
		   "Examples:\n"
		   "  coreheap stacks core.1234\n"
		   "  coreheap stacks core.1234 --locals --json | jq '.threads[] | select(.crashed)'\n",
	.usage = "stacks [options] CORE",
	.extras = CH_OPT_LOCALS,
	.run = run_stacks,
};
