/* A progress line on stderr, only when stderr is a terminal and the work
 * has taken more than a second; erased when done. */
#ifndef CH_PROGRESS_H
#define CH_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct ch_progress {
	bool enabled;
	bool shown;
	double start;
};

void ch_progress_init(struct ch_progress *p, bool quiet);
/* Matches ch_progress_fn. */
void ch_progress_update(void *p, const char *phase, uint64_t done);
/* The same for a count of bytes (a core being decompressed or copied). */
void ch_progress_update_bytes(void *p, const char *phase, uint64_t done);
void ch_progress_done(struct ch_progress *p);

#endif
