#include "session.h"
#include "session_heap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/roots.h"
#include "graph/heap_digest.h"
#include "graph/memory_brief.h"
#include "graph/memory_digest.h"
#include "reports/report.h"
#include "reports/report_table.h"

static int report_error(struct ch_error *err)
{
	fprintf(stderr, "coreheap: error: %s\n", err->message);
	int code = ch_exit_code_for(err);
	ch_error_free(err);
	return code;
}

/* The width text tables fit in: COLUMNS when set (a positive number), else
 * the terminal's when standard output is one, else none (a pipe or a file
 * gets whole rows). */
static size_t output_width(bool to_file)
{
	const char *cols = getenv("COLUMNS");
	if (cols && *cols) {
		char *end;
		unsigned long v = strtoul(cols, &end, 10);
		if (!*end && v > 0 && v < 100000)
			return v;
	}
	struct winsize ws;
	if (!to_file && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

int ch_session_parse(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv,
		     enum ch_gate_scope scope, bool *done)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->needs = cmd->index_needs ? cmd->index_needs : CH_NEED_ALL;
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
	ch_report_set_width(output_width(s->opts.output != NULL));
	ch_progress_init(&s->progress, s->opts.quiet);
	s->opts.process.progress = ch_progress_update_bytes;
	s->opts.process.progress_arg = &s->progress;
	return 0;
}

/* Opens the core and the runtime in it. When the runtime cannot be read,
 * the error is restated as the core's damage where that explains it
 * (ch_process_explain), the truncation is named as a warning, and, with
 * lenient, a failure the core's damage explains (or an unreadable address)
 * leaves the session open without a runtime: s->py NULL, the reason in
 * s->own_diag as a partial-result warning. */
static int begin(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv, bool lenient,
		 bool *done)
{
	int r = ch_session_parse(s, cmd, argc, argv, CH_GATE_HEAP, done);
	if (*done)
		return r;
	struct ch_error *err = ch_process_open(s->opts.core, &s->opts.process, &s->proc);
	if (err) {
		*done = true;
		ch_session_end(s);
		return report_error(err);
	}
	err = ch_python_open(s->proc, &s->py);
	if (!err) {
		s->py->redact = s->opts.redact;
		s->py->verify_traverse = s->opts.verify_traverse;
		return ch_session_open_output(s, done);
	}
	bool explained;
	bool fault = err->kind == CH_ERR_FAULT;
	char why[sizeof(err->message)];
	snprintf(why, sizeof(why), "%s", err->message);
	err = ch_process_explain(s->proc, err, &explained);
	char cut[512];
	bool truncated = ch_core_truncation_text(s->proc->core, false, cut, sizeof(cut));
	if (lenient && (explained || fault)) {
		ch_diag_init(&s->own_diag);
		s->diag = &s->own_diag;
		if (truncated)
			ch_diag_warn(s->diag, "%s", cut);
		ch_diag_partial(s->diag, "the Python runtime could not be read, so only the process is described (%s)",
				truncated ? why : err->message);
		ch_error_free(err);
		return ch_session_open_output(s, done);
	}
	if (truncated && !s->opts.quiet)
		fprintf(stderr, "coreheap: warning: %s\n", cut);
	*done = true;
	ch_session_end(s);
	return report_error(err);
}

int ch_session_begin(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv, bool *done)
{
	return begin(s, cmd, argc, argv, false, done);
}

int ch_session_begin_process(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv,
			     bool *done)
{
	return begin(s, cmd, argc, argv, true, done);
}

int ch_session_open_output(struct ch_session *s, bool *done)
{
	s->out = stdout;
	if (s->opts.output) {
		const char *inputs[] = {s->opts.core, s->opts.second, s->opts.process.exe};
		int code = ch_output_file_open(&s->output, s->opts.output, inputs, sizeof(inputs) / sizeof(inputs[0]));
		if (code) {
			*done = true;
			s->out = NULL;
			ch_session_end(s);
			return code;
		}
		s->out = s->output.f;
	}
	if (s->needs & CH_NEED_LAZY) {
		FILE *mem = open_memstream(&s->lazy_buf, &s->lazy_len);
		if (mem) {
			s->lazy_out = s->out;
			s->out = mem;
		}
	}
	return 0;
}

/* The report kept in memory, written where it goes. */
static bool lazy_flush(struct ch_session *s)
{
	if (!s->lazy_out)
		return true;
	bool ok = fclose(s->out) == 0;
	s->out = s->lazy_out;
	s->lazy_out = NULL;
	if (ok && s->lazy_len && fwrite(s->lazy_buf, 1, s->lazy_len, s->out) != s->lazy_len)
		ok = false;
	free(s->lazy_buf);
	s->lazy_buf = NULL;
	return ok;
}

int ch_session_begin_analysis(struct ch_session *s, struct ch_analysis *a, const struct ch_cli_command *cmd,
			      int argc, char **argv, bool *done)
{
	int code = ch_session_begin(s, cmd, argc, argv, done);
	if (*done)
		return code;
	struct ch_error *err = ch_session_analyse(s, a);
	if (err) {
		*done = true;
		code = ch_session_fail(s, err);
		ch_session_end(s);
		return code;
	}
	s->exactness = &a->edges.exactness;
	return code;
}

struct ch_error *ch_session_analyse(struct ch_session *s, struct ch_analysis *a)
{
	memset(a, 0, sizeof(*a));
	if (!s->needs) /* a session set up by hand (diff's sides) */
		s->needs = CH_NEED_ALL;
	struct ch_error *err = ch_session_heap_build(s, &a->heap, &a->edges, &a->replay, CH_INDEX_AUTO, NULL);
	if (!err)
		err = ch_analysis_complete_for(a, s->needs);
	if (!err && s->index_ref.path[0])
		a->index = &s->index_ref;
	return err;
}

/* The memory figures of an analysed heap for a snapshot or a diff side
 * (graph/memory_digest.h): from its heap index when that holds them, else
 * built (and added to the index, as show and summary do). As summary's
 * memory line, the breakdown's own warnings stay out of the exit code
 * (`coreheap memory` reports them) and only mark the figures partial; when
 * it cannot be built, md->present is false and warn says why. */
static void memory_digest(const struct ch_analysis *a, struct ch_memory_digest *md, struct ch_diag *warn)
{
	struct ch_memory_held held;
	struct ch_error *err = ch_memory_held_get(&held, &a->heap, a->index);
	if (err) {
		md->present = false;
		ch_diag_warn(warn, "no memory figures: %s", err->message);
		ch_error_free(err);
		return;
	}
	ch_memory_digest_build(md, &held.b);
	ch_memory_held_deinit(&held);
}

struct ch_error *ch_session_digest(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				   struct ch_heap_digest *d, struct ch_diag *warn)
{
	struct ch_error *err = ch_heap_digest_build(d, s->py, a);
	size_t copied = s->py->diag.n;
	if (!err) /* the containers, by path: what diff's growth suspects match */
		err = ch_heap_digest_add_containers(d, a, roots, (s->needs & CH_NEED_LAZY) != 0);
	if (!err)
		memory_digest(a, &d->memory, warn ? warn : &d->diag);
	/* Without warn, d->diag is the side's only voice: what the runtime
	 * said since the digest copied its warnings (an index the tree or the
	 * figures could not be added to) goes there too. */
	for (size_t i = copied; !err && !warn && i < s->py->diag.n; i++)
		ch_diag_warn(&d->diag, "%s", s->py->diag.messages[i]);
	return err;
}

static int begin_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r, const struct ch_cli_command *cmd,
		       int argc, char **argv, bool *done, bool counted)
{
	int code = ch_session_begin_analysis(s, a, cmd, argc, argv, done);
	if (*done)
		return code;
	struct ch_error *err = counted ? ch_roots_find(r, a) : ch_roots_get(r, a);
	if (err) {
		*done = true;
		code = ch_session_fail(s, err);
		ch_analysis_deinit(a);
		ch_session_end(s);
	}
	return code;
}

int ch_session_begin_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r,
			   const struct ch_cli_command *cmd, int argc, char **argv, bool *done)
{
	return begin_roots(s, a, r, cmd, argc, argv, done, false);
}

int ch_session_begin_counted_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r,
				   const struct ch_cli_command *cmd, int argc, char **argv, bool *done)
{
	return begin_roots(s, a, r, cmd, argc, argv, done, true);
}

int ch_session_fail(struct ch_session *s, struct ch_error *err)
{
	ch_progress_done(&s->progress);
	bool explained;
	if (s->proc)
		err = ch_process_explain(s->proc, err, &explained);
	return report_error(err);
}

void ch_session_note_lost(struct ch_diag *diag, const struct ch_process *proc)
{
	if (proc->as.lost_reads && !diag->partial)
		ch_diag_partial(diag, "%zu read(s) needed memory past the cut of the truncated core: the result lacks what "
				"was there", proc->as.lost_reads);
}

int ch_session_finish_rows(struct ch_session *s, json_t *doc, const struct ch_ndjson_rows *rows, size_t nrows,
			   const char *record)
{
	ch_progress_done(&s->progress);
	struct ch_diag *diag = s->diag ? s->diag : &s->py->diag;
	/* Whatever the command read, an answer that needed bytes the core's
	 * truncation lost is not the whole answer. */
	if (s->proc)
		ch_session_note_lost(diag, s->proc);
	/* The link map stood in for NT_FILE but ended early (a loop, an entry
	 * not in the core): objects after that point are unknown. */
	if (s->proc && s->proc->core->mapping_source == CH_MAPPINGS_LINK_MAP && s->proc->core->mapping_problem[0])
		ch_diag_warn(diag, "mapped files from the r_debug link map (the core has no NT_FILE note): %s",
			     s->proc->core->mapping_problem);
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
	if (!lazy_flush(s) || fflush(s->out) != 0 || ferror(s->out)) {
		fprintf(stderr, "coreheap: error: writing the report failed\n");
		code = CH_EXIT_INTERNAL;
	}
	if (s->output.f) {
		/* The report is complete: it replaces the file -o names only now. */
		bool keep = code != CH_EXIT_INTERNAL;
		if (!ch_output_file_close(&s->output, keep) && keep)
			code = CH_EXIT_INTERNAL;
		s->out = stdout;
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

int ch_session_gate_check(struct ch_session *s, const struct ch_gate_env *env)
{
	for (size_t i = 0; i < s->ngates; i++) {
		const char *similar, *name = ch_gate_unknown_type(s->gates[i], env, &similar);
		if (!name)
			continue;
		ch_progress_done(&s->progress);
		/* One line: the name is what the user typed, the suggestion a
		 * type name read from the input. */
		fprintf(stderr, "coreheap %s: --fail-if names no type '%s' of %s (%s)%s%s%s\n", s->cmd->name, name,
			env->diff ? "either input" : "the heap", ch_gate_text(s->gates[i]), similar ? "; did you mean '" : "", similar ? similar : "", similar ? "'?" : "");
		return CH_EXIT_USAGE;
	}
	return 0;
}

int ch_session_gate_prepare(struct ch_session *s, struct ch_analysis *a, struct ch_heap_digest *d)
{
	memset(d, 0, sizeof(*d));
	if (!s->ngates)
		return 0;
	struct ch_error *err = ch_heap_digest_build(d, s->py, a);
	if (err)
		return ch_session_fail(s, err);
	struct ch_gate_env env = {.heap = d};
	int code = ch_session_gate_check(s, &env);
	if (code)
		ch_heap_digest_deinit(d);
	return code;
}

int ch_session_gate_analysis(struct ch_session *s, struct ch_heap_digest *d, int code)
{
	if (!s->ngates)
		return code;
	struct ch_gate_env env = {.heap = d};
	code = ch_session_gate(s, &env, code);
	ch_heap_digest_deinit(d);
	return code;
}

void ch_session_end(struct ch_session *s)
{
	for (size_t i = 0; i < s->ngates; i++)
		ch_gate_free(s->gates[i]);
	if (s->lazy_out) { /* not finished: nothing is written */
		fclose(s->out);
		free(s->lazy_buf);
	}
	if (s->output.f)
		ch_output_file_close(&s->output, false); /* not finished: the old file stays */
	ch_python_close(s->py);
	ch_process_close(s->proc);
	if (s->diag == &s->own_diag)
		ch_diag_deinit(&s->own_diag);
	ch_heap_index_ref_deinit(&s->index_ref);
	memset(s, 0, sizeof(*s));
}
