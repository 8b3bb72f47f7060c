#include "commands.h"
#include "reports/report.h"
#include "session.h"

static int run_info(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin_process(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	json_t *doc = NULL;
	if (s.py && s.opts.json)
		doc = ch_report_info_json(s.py);
	else if (s.py)
		ch_report_info_text(s.out, s.py);
	else if (s.opts.json)
		doc = ch_report_info_process_json(s.proc);
	else
		ch_report_info_process_text(s.out, s.proc);
	code = ch_session_finish(&s, doc);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_info = {
	.name = "info",
	.summary = "Executable, Python version, threads and garbage-collector state of the dumped process.\n\n"
		   "Reports the executable and the Python version (and how it was found), where _PyRuntime is, the\n"
		   "OS threads of the core (which ones run Python, which received the fatal signal), and the\n"
		   "collector's state of the main interpreter: enabled, debug flags, per-generation thresholds,\n"
		   "counts and collection statistics, whether a collection was in progress, len(gc.garbage), the\n"
		   "permanent (frozen) generation's size, and the long-lived totals.\n\n"
		   "It also says where the struct layouts came from (the \"layouts:\" line: the DWARF file and how it\n"
		   "was found, or \"built-in table 3.11.7\" and why DWARF was not used), how many fields\n"
		   "_PyRuntime.debug_offsets confirmed (3.13+) and how many self-checks passed. Where debug info is\n"
		   "looked for and what the layout sources are: docs/debug-info.md.\n\n"
		   "A truncated core (cut by the core size limit, ulimit -c or systemd-coredump's ProcessSizeMax, or\n"
		   "by a full disk) is reported with how much of it is there (\"TRUNCATED: 20.0 MiB of 190.3 MiB\";\n"
		   "JSON core.size, core.expected_size, core.missing_bytes). When the cut (or damaged notes) took\n"
		   "the Python runtime itself, info still reports the process (executable, pid, signal, OS threads;\n"
		   "JSON \"runtime\", \"gc\", \"layout\" and \"python_threads\" are null) with the reason as a warning,\n"
		   "and exits 5 (partial); the other commands then fail with exit 3 naming the truncation.\n\n"
		   "The \"mapped files:\" line says where the list of the process's mapped files came from: the\n"
		   "core's NT_FILE note, or, for a core without one (qemu-user, old gcore), the dynamic linker's\n"
		   "r_debug link map found through the auxiliary vector (JSON core.mapping_source \"NT_FILE\" or\n"
		   "\"r_debug link map\", core.mapped_files); with neither it says why (core.mapping_problem) and\n"
		   "the runtime cannot be found (docs/support.md).\n\n"
		   "Examples:\n"
		   "  coreheap info core.1234\n"
		   "  coreheap info --json core.1234 | jq .gc\n"
		   "  coreheap info --sysroot /srv/crashhost core.1234\n",
	.usage = "info [options] CORE",
	.extras = 0,
	.run = run_info,
};
