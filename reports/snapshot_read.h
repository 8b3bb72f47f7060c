/* Snapshot files: the JSON document `coreheap snapshot` writes (the heap's
 * digest, graph/heap_digest.h; schema in docs/snapshots.md), read back so
 * that `diff` can compare it with a core or another snapshot. A snapshot
 * is input like a core: every field is checked, and a malformed one is a
 * one-line error naming it. Keys a reader does not know are ignored, so
 * optional keys (e.g. "retainers") can be added without a schema change;
 * a snapshot whose "schema" is newer than CH_SNAPSHOT_SCHEMA is refused. */
#ifndef CH_SNAPSHOT_FILE_H
#define CH_SNAPSHOT_FILE_H

#include <stdbool.h>

#include <jansson.h>

#include "graph/heap_digest.h"
#include "readers/base/error.h"

#define CH_SNAPSHOT_SCHEMA 1
#define CH_SNAPSHOT_KIND "coreheap-snapshot"
/* Type rows of "retainers" a snapshot keeps (biggest retained first). */
#define CH_SNAPSHOT_RETAINERS 100

/* True when the file starts (after white space) with '{': a snapshot, not
 * a core. Anything else, unreadable files included, is left to the core
 * reader, whose errors say what is wrong. */
bool ch_snapshot_sniff(const char *path);

/* Reads and checks a snapshot into d (initialised here). Errors:
 * CH_ERR_INPUT for malformed files, CH_ERR_UNSUPPORTED for a newer schema. */
struct ch_error *ch_snapshot_read(const char *path, struct ch_heap_digest *d);

/* The optional "memory" object of a parsed snapshot (snapshot_memory.c);
 * md->present stays false when the key is absent or null. */
struct ch_error *ch_snapshot_read_memory(const char *path, json_t *doc, struct ch_memory_digest *md);

#endif
