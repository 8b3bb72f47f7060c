#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ch_progress_init(struct ch_progress *p, bool quiet)
{
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->shown = false;
	p->start = now();
}

void ch_progress_update(void *arg, const char *phase, uint64_t done)
{
	struct ch_progress *p = arg;
	if (!p || !p->enabled || now() - p->start < 1.0)
		return;
	fprintf(stderr, "\r\033[Kcoreheap: %s: %" PRIu64 " objects", phase, done);
	fflush(stderr);
	p->shown = true;
}

void ch_progress_update_bytes(void *arg, const char *phase, uint64_t done)
{
	struct ch_progress *p = arg;
	if (!p || !p->enabled || now() - p->start < 1.0)
		return;
	fprintf(stderr, "\r\033[Kcoreheap: %s: %" PRIu64 " MiB", phase, done >> 20);
	fflush(stderr);
	p->shown = true;
}

void ch_progress_done(struct ch_progress *p)
{
	if (p->shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	p->shown = false;
}
