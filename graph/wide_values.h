/* The values of a 32-bit per-object column (ch_object_table's sizes and
 * refcounts) that do not fit in it. The column then holds its mark and
 * the full value lives here, keyed by object index: objects of 4 GiB or
 * more, refcounts past 31 bits (3.14's immortal objects, a damaged core).
 * They are rare, so 4 bytes per object are saved for a small table.
 *
 * Open addressing over (index + 1) keys. Entries are never removed: an
 * entry counts only while the column's slot holds the mark, so writing a
 * narrow value over a wide one just leaves a dead entry, and an object
 * that moves to another index (ch_objects_index_build's compaction) is set
 * again there. The invariant the table keeps: for every slot holding the
 * mark, the entry for its index holds the value. */
#ifndef CH_WIDE_VALUES_H
#define CH_WIDE_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_wide {
	uint32_t *keys;  /* object index + 1; 0 = empty */
	uint64_t *vals;
	size_t n, nslots; /* nslots: 0 or a power of two, at least twice n */
};

/* The value of object i, 0 when it has none (never, while the invariant holds). */
uint64_t ch_wide_get(const struct ch_wide *w, uint32_t i);
/* Sets (adds or replaces) object i's value. */
struct ch_error *ch_wide_set(struct ch_wide *w, uint32_t i, uint64_t v);
void ch_wide_deinit(struct ch_wide *w);

#endif
