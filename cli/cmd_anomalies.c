/* `coreheap anomalies CORE`: refcount bugs and reference leaks. */
#include "commands.h"
#include "graph/anomalies.h"
#include "reports/report.h"
#include "session.h"

static int run_anomalies(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots r;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &r, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_anomalies an;
	ch_roots_scan_memory(&r, &a);
	struct ch_error *err = ch_anomalies_find(&an, &a, &r);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_anomalies_json(s.py, &a, &r, &an, s.opts.limit);
		else
			ch_report_anomalies_text(s.out, s.py, &a, &r, &an, s.opts.limit);
		code = ch_session_finish(&s, doc);
		ch_anomalies_deinit(&an);
	}
	ch_roots_deinit(&r);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_anomalies = {
	.name = "anomalies",
	.summary = "Objects whose reference counts do not add up.\n\n"
		   "Refcount bugs: objects whose refcount is lower than the references found to them\n"
		   "(edges from other objects and frame slots); the next release of one of those\n"
		   "references frees a live object.\n"
		   "Leaks: objects no root reaches (see `coreheap roots`), that the collector would\n"
		   "not free, and whose refcount is larger than every reference found, certain or\n"
		   "possible: a count held by something outside the heap that nothing in the process\n"
		   "can reach, the signature of a C extension's missing Py_DECREF. Grouped by type,\n"
		   "with what only they keep alive.\n\n"
		   "Options:\n"
		   "  --limit N            show the first N objects and types (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap anomalies core.1234\n"
		   "  coreheap anomalies core.1234 --json | jq '.leaks.by_type'\n",
	.usage = "anomalies [options] CORE",
	.extras = CH_OPT_LIMIT,
	.run = run_anomalies,
};
