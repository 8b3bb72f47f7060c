#include "session.h"

#include <errno.h>
#include <string.h>

#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/roots.h"
#include "graph/heap_digest.h"
#include "reports/report.h"

static int report_error(struct ch_error *err)
{
	fprintf(stderr, "coreheap: error: %s\n", err->message);
	int code = ch_exit_code_for(err);
	ch_error_free(err);
	return code;
}

int ch_session_parse(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv,
		     enum ch_gate_scope scope, bool *done)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	*done = false;
	int r = ch_cli_parse(cmd, argc, argv, &s->opts);
	if (r != 0) {
		*done = true;
		return r < 0 ? CH_EXIT_OK : r;
	}
	for (size_t i = 0; i < s->opts.nfail_if; i++) {
		struct ch_error *err = ch_gate_parse(s->opts.fail_if[i], scope, &s->gates[s->ngates]);
		if (err) {
			*done = true;
			r = err->kind == CH_ERR_USAGE
				    ? ch_cli_usage_error(cmd, "--fail-if '%s': %s", s->opts.fail_if[i], err->message)
				    : report_error(ch_error_new(err->kind, "%s", err->message));
			ch_error_free(err);
			ch_session_end(s);
			return r;
		}
		s->ngates++;
	}
	ch_progress_init(&s->progress, s->opts.quiet);
	return 0;
}

int ch_session_begin(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv, bool *done)
{
	int r = ch_session_parse(s, cmd, argc, argv, CH_GATE_HEAP, done);
	if (*done)
		return r;
	struct ch_error *err = ch_process_open(s->opts.core, &s->opts.process, &s->proc);
	if (!err)
		err = ch_python_open(s->proc, &s->py);
	if (!err) {
		s->py->redact = s->opts.redact;
		s->py->verify_traverse = s->opts.verify_traverse;
	}
	if (err) {
		*done = true;
		ch_session_end(s);
		return report_error(err);
	}
	return ch_session_open_output(s, done);
}

int ch_session_open_output(struct ch_session *s, bool *done)
{
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
		return code;
	}
	s->exactness = &a->edges.exactness;
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

int ch_session_finish_rows(struct ch_session *s, json_t *doc, const struct ch_ndjson_rows *rows, size_t nrows,
			   const char *record)
{
	ch_progress_done(&s->progress);
	const struct ch_diag *diag = s->diag ? s->diag : &s->py->diag;
	int code = CH_EXIT_OK;
	if (s->exactness && doc)
		ch_report_exactness_add(doc, s->py, s->exactness);
	else if (s->exactness)
		ch_report_exactness_text(s->out, s->py, s->exactness);
	struct ch_traverse_verify verify = {0};
	if (s->opts.verify_traverse && s->py) {
		ch_py_refs_verify_result(s->py, &verify);
		if (doc)
			ch_report_traverse_verify_add(doc, s->py, &verify);
		else
			ch_report_traverse_verify_text(s->out, s->py, &verify);
	}
	if (doc) {
		int w = record && s->opts.format == CH_FORMAT_NDJSON
				? ch_report_write_ndjson(s->out, doc, rows, nrows, record, diag)
				: ch_report_write_json(s->out, doc, diag);
		if (w != 0)
			code = CH_EXIT_INTERNAL;
		json_decref(doc);
	}
	if (fflush(s->out) != 0 || ferror(s->out)) {
		fprintf(stderr, "coreheap: error: writing the report failed\n");
		code = CH_EXIT_INTERNAL;
	}
	if (!s->opts.quiet || diag->partial)
		ch_report_warnings(stderr, diag);
	if (code == CH_EXIT_OK && diag->partial)
		code = CH_EXIT_PARTIAL;
	/* --verify-traverse: a difference is a failed check, as --fail-if */
	if (verify.n && (code == CH_EXIT_OK || code == CH_EXIT_PARTIAL))
		code = CH_EXIT_CONDITION;
	return code;
}

int ch_session_finish(struct ch_session *s, json_t *doc)
{
	return ch_session_finish_rows(s, doc, NULL, 0, NULL);
}

int ch_session_gate(struct ch_session *s, const struct ch_gate_env *env, int code)
{
	bool held = false;
	for (size_t i = 0; i < s->ngates; i++) {
		char why[1024];
		if (ch_gate_eval(s->gates[i], env, why, sizeof(why))) {
			fprintf(stderr, "coreheap: --fail-if held: %s%s%s%s\n", ch_gate_text(s->gates[i]), *why ? " (" : "",
				why, *why ? ")" : "");
			held = true;
		}
	}
	if (held && (code == CH_EXIT_OK || code == CH_EXIT_PARTIAL))
		return CH_EXIT_CONDITION;
	return code;
}

int ch_session_gate_analysis(struct ch_session *s, const struct ch_analysis *a, int code)
{
	if (!s->ngates)
		return code;
	struct ch_heap_digest d;
	struct ch_error *err = ch_heap_digest_build(&d, s->py, a);
	if (err)
		return ch_session_fail(s, err);
	struct ch_gate_env env = {.heap = &d};
	code = ch_session_gate(s, &env, code);
	ch_heap_digest_deinit(&d);
	return code;
}

void ch_session_end(struct ch_session *s)
{
	for (size_t i = 0; i < s->ngates; i++)
		ch_gate_free(s->gates[i]);
	if (s->out && s->out != stdout)
		fclose(s->out);
	ch_python_close(s->py);
	ch_process_close(s->proc);
	memset(s, 0, sizeof(*s));
}
