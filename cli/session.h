/* What every subcommand does around its own work: parse options, open the
 * core and the Python runtime in it, write the report where asked, print
 * warnings, and turn the outcome into the exit code. */
#ifndef CH_SESSION_H
#define CH_SESSION_H

#include <jansson.h>
#include <stdio.h>

#include "graph/gate.h"
#include "graph/heap_index.h"
#include "options.h"
#include "output_file.h"
#include "progress.h"
#include "readers/cpython/python.h"
#include "reports/report.h"

struct ch_session {
	const struct ch_cli_command *cmd;
	struct ch_cli_opts opts;
	struct ch_process *proc;
	struct ch_python *py;
	struct ch_progress progress;
	FILE *out;                  /* stdout, or output.f with -o */
	struct ch_output_file output;
	/* Where warnings and the partial flag come from: NULL for py->diag.
	 * Commands without a core of their own (diff) point it at theirs. */
	struct ch_diag *diag;
	/* The warnings of a session without a runtime (ch_session_begin_process). */
	struct ch_diag own_diag;
	/* The --fail-if expressions, parsed (and so checked) with the options,
	 * before any core is opened. */
	struct ch_gate *gates[CH_MAX_FAIL_IF];
	size_t ngates;
	/* The analysed heap's exactness verdict, set by ch_session_begin_analysis:
	 * ch_session_finish adds it to the document or the text report. */
	const struct ch_exactness *exactness;
	/* The heap index the session's heap came from or went to (set by
	 * ch_session_heap_build; path empty: none): ch_session_begin_analysis
	 * ties the analysis to it, so a dominator tree is kept there. */
	struct ch_heap_index_ref index_ref;
	/* What the command uses of the analysed heap (CH_NEED_*, from its
	 * index_needs; everything by default): a load from the index verifies
	 * only that, the pipeline runs only the stages named. A load may widen
	 * it (a stored result missing). */
	uint32_t needs;
	/* A command whose index is read lazily (CH_NEED_LAZY) writes its report
	 * here, in memory, until it finishes (out then goes to lazy_out): a
	 * block of the index failing mid-command restarts it from the core
	 * with nothing written (cli/session_heap.c). */
	FILE *lazy_out;
	char *lazy_buf;
	size_t lazy_len;
};

/* The command line as main got it, for a command restarted from the core
 * when a block of its heap index fails (cli/session_heap.c). */
void ch_session_set_argv(char **argv);

/* Returns 0 when the session is ready; otherwise the exit code to return
 * (after printing the reason). --help yields CH_EXIT_OK with nothing open. */
int ch_session_begin(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv, bool *done);

/* ch_session_begin for `info`: when the runtime cannot be read because the
 * core is truncated or damaged (or an address it needs is unreadable), the
 * session still opens, with s->py NULL and the reason as a partial-result
 * warning, so the process-level facts (pid, signal, threads, executable,
 * the truncation) can be reported. Other failures end it as there. */
int ch_session_begin_process(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv,
			     bool *done);

/* The two halves of ch_session_begin for commands whose inputs are not
 * one core (diff): parse the options and the --fail-if expressions (over
 * scope), then, once the inputs are read, open the output. Same return
 * convention as ch_session_begin. */
struct ch_analysis;

int ch_session_parse(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv,
		     enum ch_gate_scope scope, bool *done);
int ch_session_open_output(struct ch_session *s, bool *done);

/* ch_session_begin, then the whole-heap pipeline (graph/analysis.h), which
 * cycles, summary, find and referrers all start from. On any failure the
 * error is reported, the session ended and *done set; the return value is
 * then the exit code. */
int ch_session_begin_analysis(struct ch_session *s, struct ch_analysis *a, const struct ch_cli_command *cmd,
			      int argc, char **argv, bool *done);

/* The whole-heap pipeline over the session's core alone (what
 * ch_session_begin_analysis runs once the core is open): the heap and
 * edges from its index when a sound one exists, else from the core and
 * indexed when due (cli/session_heap.h), then the rest of graph/analysis.h,
 * tied to that index. On failure a holds nothing. */
struct ch_error *ch_session_analyse(struct ch_session *s, struct ch_analysis *a);

struct ch_roots;

/* ch_session_begin_analysis, then the heap's roots (graph/roots.h), which
 * path, top, roots and the others start from: from the heap index when it
 * holds them, without the reference counts (ch_roots_get). Same failure
 * contract. */
int ch_session_begin_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r,
			   const struct ch_cli_command *cmd, int argc, char **argv, bool *done);
/* The same with the reference counts (refs and maybe: ch_roots_find), for anomalies. */
int ch_session_begin_counted_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r,
				   const struct ch_cli_command *cmd, int argc, char **argv, bool *done);

/* Report a fatal error of the command's own work; returns the exit code. */
int ch_session_fail(struct ch_session *s, struct ch_error *err);

/* Write a JSON document (consumed) or, when doc is NULL, assume the text
 * report was already written to s->out. Prints warnings; returns the exit
 * code (CH_EXIT_PARTIAL when the diagnostics say so). */
int ch_session_finish(struct ch_session *s, json_t *doc);
/* ch_session_finish for commands with --format ndjson: then the arrays
 * named in rows go one element per line and the rest of the document last,
 * tagged with record (reports/report.h); otherwise as ch_session_finish. */
int ch_session_finish_rows(struct ch_session *s, json_t *doc, const struct ch_ndjson_rows *rows, size_t nrows,
			   const char *record);

/* Evaluates the --fail-if expressions over env after the report is out.
 * Each one that holds is named on stderr with the values it saw; then the
 * result is CH_EXIT_CONDITION, unless code is already a failure worse than
 * a partial result. Without --fail-if, returns code. */
int ch_session_gate(struct ch_session *s, const struct ch_gate_env *env, int code);
/* Before the report: a condition naming a type that exists in none of
 * env's heaps is a usage error (one line on stderr, with the name it may
 * have meant). Returns 0, or CH_EXIT_USAGE after printing. */
int ch_session_gate_check(struct ch_session *s, const struct ch_gate_env *env);
/* For summary and cycles: the digest of the session's analysed heap,
 * built only when there are conditions (d is zeroed otherwise), and
 * checked by ch_session_gate_check, before the report is written.
 * Returns 0, or the exit code (reason printed; d is then released). */
int ch_session_gate_prepare(struct ch_session *s, struct ch_analysis *a, struct ch_heap_digest *d);
/* ch_session_gate over that digest, which it releases. */
int ch_session_gate_analysis(struct ch_session *s, struct ch_heap_digest *d, int code);

/* Marks diag partial when a read needed bytes past the cut of proc's
 * truncated core (ch_session_finish does it for the session's core). */
void ch_session_note_lost(struct ch_diag *diag, const struct ch_process *proc);

/* What `snapshot` stores and `diff` compares of the session's analysed
 * heap, roots found: the digest (graph/heap_digest.h, the runtime's
 * warnings so far copied in), its containers by path and its memory
 * figures (from the heap index when it holds them), whose own warning goes
 * to warn (NULL: d->diag, which then also gets what the runtime said after
 * the digest copied its warnings). */
struct ch_heap_digest;
struct ch_error *ch_session_digest(struct ch_session *s, struct ch_analysis *a, const struct ch_roots *roots,
				   struct ch_heap_digest *d, struct ch_diag *warn);

void ch_session_end(struct ch_session *s);

#endif
