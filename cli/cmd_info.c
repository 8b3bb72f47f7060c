#include "commands.h"
#include "reports/report.h"
#include "session.h"

static int run_info(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	json_t *doc = NULL;
	if (s.opts.json)
		doc = ch_report_info_json(s.py);
	else
		ch_report_info_text(s.out, s.py);
	code = ch_session_finish(&s, doc);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_info = {
	.name = "info",
	.summary = "Executable, Python version, threads and garbage-collector state of the dumped process.\n\n"
		   "Examples:\n"
		   "  coreheap info core.1234\n"
		   "  coreheap info --json core.1234 | jq .gc\n"
		   "  coreheap info --sysroot /srv/crashhost core.1234\n",
	.usage = "info [options] CORE",
	.extras = 0,
	.run = run_info,
};
