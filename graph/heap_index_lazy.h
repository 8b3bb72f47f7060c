/* Verifying a heap index's big sections block by block, as a command
 * first reads them, instead of all of them before it starts
 * (graph/heap_index_format.h: CH_INDEX_LAZY_SECTIONS, the block table).
 *
 * The one accessor of a lazily checked section is the memory itself: its
 * pages are mapped without access, and the first read of one faults into
 * a handler that verifies every block on the page's range (the block's sum
 * against the table, the range checks of its entries, on a second,
 * readable mapping of the same file), records them in a bitmap and opens
 * the pages. So no read, in any code, uses a byte of a block before that
 * block passed, and the code that reads the columns stays as it is.
 *
 * A block that fails cannot be taken back from a command half done: the
 * failure calls the hook the caller set (cli: discard the report, which is
 * kept in memory until the command ends, and run the command again from
 * the core, the index said damaged and replaced). One lazy index per
 * process (the handler's state is global). */
#ifndef CH_HEAP_INDEX_LAZY_H
#define CH_HEAP_INDEX_LAZY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ch_index_lazy;

/* Called, from the faulting thread (in a signal handler: only
 * async-signal-safe calls), with what failed; must not return. */
typedef void (*ch_index_lazy_fail_fn)(const char *why, void *arg);

/* Sets the hook a failed block calls (NULL: the process ends with an
 * internal error). */
void ch_index_lazy_on_fail(ch_index_lazy_fail_fn fn, void *arg);

/* Ends the process's lazy read once nothing but the read itself holds the
 * index's map (every table loaded from it released: a later read of its
 * closed pages would have no handler): the map and its second mapping
 * unmapped, the handler removed, so that another index can be read
 * lazily (`diff`'s second side) and the first one's pages no longer count
 * in the process. Nothing when no lazy read is going on or the map is
 * still held. */
void ch_index_lazy_end(void);

#endif
