/* A session's object table and edges, from the heap index beside the core
 * when a sound one exists, else built from the core (cli/session_heap.c,
 * docs/index.md). */
#ifndef CH_SESSION_HEAP_H
#define CH_SESSION_HEAP_H

#include <limits.h>
#include <stdbool.h>

#include "graph/edges.h"
#include "graph/heap.h"
#include "session.h"

enum ch_index_use {
	CH_INDEX_AUTO,  /* load one if sound; write one for a big heap or in place of a stale one */
	CH_INDEX_WRITE, /* `coreheap index`: write one whatever the heap's size */
};

/* What happened to the index, for `coreheap index` to report. */
struct ch_index_report {
	bool loaded, written;
	char path[PATH_MAX];
};

struct ch_gc_replay;

/* Fills heap and edges for s->py, and replay (may be NULL) when the index
 * gave the GC replay or it was computed to write one (else it is zeroed:
 * ch_analysis_complete computes it). Problems with an index are warnings
 * and never the command's failure; the error returned is the build's own.
 * report may be NULL. */
struct ch_error *ch_session_heap_build(struct ch_session *s, struct ch_heap *heap, struct ch_edges *edges,
				       struct ch_gc_replay *replay, enum ch_index_use use,
				       struct ch_index_report *report);

#endif
