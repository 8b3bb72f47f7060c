/* What every subcommand does around its own work: parse options, open the
 * core and the Python runtime in it, write the report where asked, print
 * warnings, and turn the outcome into the exit code. */
#ifndef CH_SESSION_H
#define CH_SESSION_H

#include <jansson.h>
#include <stdio.h>

#include "options.h"
#include "progress.h"
#include "readers/python.h"

struct ch_session {
	const struct ch_cli_command *cmd;
	struct ch_cli_opts opts;
	struct ch_process *proc;
	struct ch_python *py;
	struct ch_progress progress;
	FILE *out;
};

/* Returns 0 when the session is ready; otherwise the exit code to return
 * (after printing the reason). --help yields CH_EXIT_OK with nothing open. */
int ch_session_begin(struct ch_session *s, const struct ch_cli_command *cmd, int argc, char **argv, bool *done);

struct ch_analysis;

/* ch_session_begin, then the whole-heap pipeline (graph/analysis.h), which
 * cycles, summary, find and referrers all start from. On any failure the
 * error is reported, the session ended and *done set; the return value is
 * then the exit code. */
int ch_session_begin_analysis(struct ch_session *s, struct ch_analysis *a, const struct ch_cli_command *cmd,
			      int argc, char **argv, bool *done);

struct ch_roots;

/* ch_session_begin_analysis, then the heap's roots (graph/roots.h), which
 * path, top, roots and anomalies start from. Same failure contract. */
int ch_session_begin_roots(struct ch_session *s, struct ch_analysis *a, struct ch_roots *r,
			   const struct ch_cli_command *cmd, int argc, char **argv, bool *done);

/* Report a fatal error of the command's own work; returns the exit code. */
int ch_session_fail(struct ch_session *s, struct ch_error *err);

/* Write a JSON document (consumed) or, when doc is NULL, assume the text
 * report was already written to s->out. Prints warnings; returns the exit
 * code (CH_EXIT_PARTIAL when the diagnostics say so). */
int ch_session_finish(struct ch_session *s, json_t *doc);

void ch_session_end(struct ch_session *s);

#endif
