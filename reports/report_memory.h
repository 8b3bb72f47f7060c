/* `coreheap memory`: the breakdown of graph/memory.h as text and JSON. */
#ifndef CH_REPORT_MEMORY_H
#define CH_REPORT_MEMORY_H

#include <jansson.h>
#include <stdio.h>

#include "graph/memory.h"
#include "graph/memory_brief.h"

/* limit: unreferenced chunk addresses listed (0: all). */
/* py (may be NULL) names the types of native.owned. */
json_t *ch_report_memory_json(const struct ch_memory *m, const struct ch_python *py, size_t limit);
void ch_report_memory_text(FILE *out, const struct ch_memory *m, const struct ch_python *py, size_t limit);

/* summary's memory line and its JSON: the breakdown condensed (from the
 * index or a build, graph/memory_brief.h). */
void ch_report_memory_line(FILE *out, const struct ch_memory_brief *m);
json_t *ch_report_memory_brief_json(const struct ch_memory_brief *m);

/* types --native: native memory owned by objects, per histogram row.
 * native_by_type is indexed by ch_py_types index. */
struct ch_type_histogram;
void ch_report_types_add_native(json_t *doc, const struct ch_type_histogram *h, const uint64_t *native_by_type,
				uint64_t total_owned);
void ch_report_types_native_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *h,
				 const uint64_t *native_by_type, uint64_t total_owned);

/* show ADDR: the native memory the object at object owns (report_show_native.c).
 * JSON {"bytes": N, "chunks": [{"address", "size", "inferred": true}]}, or
 * null when m is NULL, has no Python-level figures or glibc's state was not
 * read; text: one "native:" line when it owns some, nothing otherwise. */
json_t *ch_report_show_native_json(const struct ch_memory_brief *m, uint64_t object);
void ch_report_show_native_text(FILE *out, const struct ch_memory_brief *m, uint64_t object);

#endif
