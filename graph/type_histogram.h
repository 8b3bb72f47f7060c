/* Objects and bytes per type and per generation: the answer to "what is on
 * the heap". Rows are indexed by type; queries sort and cut them. */
#ifndef CH_TYPE_HISTOGRAM_H
#define CH_TYPE_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "graph/heap.h"

#define CH_HIST_GENS 5 /* 0, 1, 2, permanent, untracked (CH_GEN_*) */

struct ch_type_row {
	uint32_t type;            /* index into ch_py_types */
	uint64_t count, bytes;
	uint64_t gen[CH_HIST_GENS];
};

enum ch_hist_sort { CH_SORT_COUNT, CH_SORT_BYTES };

struct ch_type_histogram {
	struct ch_type_row *rows; /* only types with objects, sorted */
	size_t n;
	size_t ntypes;             /* rows before the --top cut */
	struct ch_type_row totals; /* over all rows, before any --top cut */
};

/* generation: -1 for all, else a CH_GEN code; only objects in it count.
 * top: 0 for all rows. */
struct ch_error *ch_type_histogram_build(struct ch_type_histogram *h, const struct ch_heap *heap, int generation,
					 enum ch_hist_sort sort, size_t top);
/* Only objects i with select[i] == value count (e.g. the replay's states). */
struct ch_error *ch_type_histogram_build_selected(struct ch_type_histogram *h, const struct ch_heap *heap,
						  const uint8_t *select, uint8_t value, enum ch_hist_sort sort,
						  size_t top);
/* Only objects of interpreter index interp (ch_object_table.interp), with
 * the generation (-1: all) and select (NULL: all) filters above. */
struct ch_error *ch_type_histogram_build_interp(struct ch_type_histogram *h, const struct ch_heap *heap, int interp,
						int generation, const uint8_t *select, uint8_t value,
						enum ch_hist_sort sort, size_t top);
/* One histogram's filters, as the calls above take them. */
struct ch_hist_query {
	int generation;        /* -1: all */
	const uint8_t *select; /* NULL: all; else only objects i with select[i] == value */
	uint8_t value;
	int interp;            /* -1: all */
	enum ch_hist_sort sort;
	size_t top;
};
/* h[j] for q[j], j < n, all in one pass over the objects (each filled as
 * the calls above would; on failure none is left to free). */
struct ch_error *ch_type_histogram_build_many(struct ch_type_histogram *h, const struct ch_hist_query *q, size_t n,
					      const struct ch_heap *heap);
void ch_type_histogram_deinit(struct ch_type_histogram *h);

#endif
