/* `coreheap memory`: the breakdown of graph/memory.h as text and JSON. */
#ifndef CH_REPORT_MEMORY_H
#define CH_REPORT_MEMORY_H

#include <jansson.h>
#include <stdio.h>

#include "graph/memory.h"

/* limit: unreferenced chunk addresses listed (0: all). */
json_t *ch_report_memory_json(const struct ch_memory *m, size_t limit);
void ch_report_memory_text(FILE *out, const struct ch_memory *m, size_t limit);

#endif
