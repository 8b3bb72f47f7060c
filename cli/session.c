#include "session.h"

#include <errno.h>
#include <string.h>

#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/roots.h"
#include "reports/report.h"

static int report_error(struct ch_error *err)
{
	fprintf(stderr, "coreheap: error: %s\n", err->message);
	int code = ch_exit_code_for(err);
	ch_error_free(err);
	return code;
}

int ch_session_begin(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv, bool *done)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	*done = false;
	int r = ch_cli_parse(cmd, argc, argv, &s->opts);
	if (r != 0) {
		*done = true;
		return r < 0 ? CH_EXIT_OK : r;
	}
	ch_progress_init(&s->progress, s->opts.quiet);
	struct ch_error *err = ch_process_open(s->opts.core, &s->opts.process, &s->proc);
	if (!err)
		err = ch_python_open(s->proc, &s->py);
	if (err) {
		*done = true;
		ch_session_end(s);
		return report_error(err);
	}
	s->out = stdout;
	if (s->opts.output) {
		s->out = fopen(s->opts.output, "w");
		if (!s->out) {
			*done = true;
			fprintf(stderr, "coreheap: error: %s: %s\n", s->opts.output, strerror(errno));
			s->out = NULL;
			ch_session_end(s);
			return CH_EXIT_INPUT;
		}
	}
	return 0;
}

int ch_session_begin_analysis(struct ch_session *s, struct ch_analysis *a, const struct ch_cli_command *cmd,
			      int argc, char **argv, bool *done)
{
	int code = ch_session_begin(s, cmd, argc, argv, done);
	if (*done)
		return code;
	struct ch_error *err = ch_analysis_run(a, s->py, ch_progress_update, &s->progress);
	if (err) {
		*done = true;
		code = ch_session_fail(s, err);
		ch_session_end(s);
	}
	return code;
}

int ch_session_begin_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r,
			   const struct ch_cli_command *cmd, int argc, char **argv, bool *done)
{
	int code = ch_session_begin_analysis(s, a, cmd, argc, argv, done);
	if (*done)
		return code;
	struct ch_error *err = ch_roots_find(r, a);
	if (err) {
		*done = true;
		code = ch_session_fail(s, err);
		ch_analysis_deinit(a);
		ch_session_end(s);
	}
	return code;
}

int ch_session_fail(struct ch_session *s, struct ch_error *err)
{
	ch_progress_done(&s->progress);
	return report_error(err);
}

int ch_session_finish(struct ch_session *s, json_t *doc)
{
	ch_progress_done(&s->progress);
	int code = CH_EXIT_OK;
	if (doc) {
		if (ch_report_write_json(s->out, doc, &s->py->diag) != 0)
			code = CH_EXIT_INTERNAL;
		json_decref(doc);
	}
	if (fflush(s->out) != 0 || ferror(s->out)) {
		fprintf(stderr, "coreheap: error: writing the report failed\n");
		code = CH_EXIT_INTERNAL;
	}
	if (!s->opts.quiet || s->py->diag.partial)
		ch_report_warnings(stderr, &s->py->diag);
	if (code == CH_EXIT_OK && s->py->diag.partial)
		code = CH_EXIT_PARTIAL;
	return code;
}

void ch_session_end(struct ch_session *s)
{
	if (s->out && s->out != stdout)
		fclose(s->out);
	ch_python_close(s->py);
	ch_process_close(s->proc);
	memset(s, 0, sizeof(*s));
}
