/* The memory figures of one dump reduced to what compares across dumps:
 * named byte and count figures (the breakdown rows, glibc's mallinfo2 and
 * the program's view, pymalloc's totals, native owned/unowned), kept by
 * name so that a snapshot stores them, `diff` matches them across two
 * dumps, and a figure one side lacks (glibc not found there, a snapshot
 * written by an older coreheap) is shown as unknown rather than as zero.
 * A fixed array: there are a few dozen figures whatever the heap size. */
#ifndef CH_MEMORY_DIGEST_H
#define CH_MEMORY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

#define CH_MEMD_MAX 96
#define CH_MEMD_NAME 64

struct ch_memd_figure {
	char name[CH_MEMD_NAME]; /* "breakdown.glibc: in use chunks", "glibc.mallinfo2.uordblks", ... */
	uint64_t value;
};

struct ch_memory_digest {
	bool present;         /* false: the source had no memory figures (an older snapshot) */
	bool partial;         /* the memory walk was partial on this side */
	struct ch_memd_figure fig[CH_MEMD_MAX];
	size_t n;
};

struct ch_memory_brief;
/* From the figures of a breakdown (graph/memory_brief.h), built here or
 * kept in the heap index: the same figures either way. */
void ch_memory_digest_build(struct ch_memory_digest *md, const struct ch_memory_brief *b);
/* Appends one figure; CH_ERR_INPUT when the name is too long or the digest is full. */
struct ch_error *ch_memory_digest_add(struct ch_memory_digest *md, const char *name, uint64_t value);
/* The figure of that name, or NULL. */
const struct ch_memd_figure *ch_memory_digest_find(const struct ch_memory_digest *md, const char *name);

#endif
