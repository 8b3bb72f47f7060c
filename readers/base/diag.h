/* Warnings collected while reading a dump, and whether the result is
 * partial. Analyses keep going past damage they can bound (a GC list that
 * leaves mapped memory, a type whose name is unreadable) and record it here;
 * the CLI prints the warnings and exits with the "partial" code. */
#ifndef CH_DIAG_H
#define CH_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

#define CH_DIAG_MAX 64 /* messages kept; more are counted in dropped */

struct ch_diag {
	char **messages;
	size_t n, cap;
	/* A hash of each kept message, as formatted before escaping: a
	 * repeated warning (a damaged list reports the same thing per entry)
	 * is found without comparing the text of every kept one. */
	uint32_t hash[CH_DIAG_MAX];
	size_t dropped; /* warnings beyond the cap, counted but not kept */
	bool partial;
};

void ch_diag_init(struct ch_diag *d);
void ch_diag_deinit(struct ch_diag *d);
void ch_diag_warn(struct ch_diag *d, const char *fmt, ...) CH_PRINTF(2, 3);
/* A warning that also marks the result partial. */
void ch_diag_partial(struct ch_diag *d, const char *fmt, ...) CH_PRINTF(2, 3);

#endif
