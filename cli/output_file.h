/* The report file of -o/--output, written so that no file is ever lost.
 *
 * A path that names one of the command's inputs (the same file, through a
 * link or not) is refused before anything is opened: truncating it would
 * destroy the core being read (and, the core being mmapped, crash the
 * reader). A regular file (or a new one) is written to a temporary file in
 * the same folder and renamed over the path only when the report was
 * written completely, so a failed run leaves any earlier report intact and
 * never a half-written one. Anything else (a FIFO, /dev/stdout, a
 * terminal) is opened as it is. */
#ifndef CH_OUTPUT_FILE_H
#define CH_OUTPUT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ch_output_file {
	FILE *f;
	const char *path;  /* as given */
	char *tmp;         /* temporary file renamed over path on commit; NULL when written in place */
};

/* Opens path for writing, refusing it when it is any of the ninputs files
 * in inputs (NULL entries are skipped). Returns 0, or the exit code after
 * printing a one-line error. */
int ch_output_file_open(struct ch_output_file *o, const char *path, const char *const *inputs, size_t ninputs);

/* Closes the file; keep: the report is complete, put it at its path;
 * otherwise the temporary file is removed. Returns false (after printing
 * why) when keeping failed. */
bool ch_output_file_close(struct ch_output_file *o, bool keep);

#endif
