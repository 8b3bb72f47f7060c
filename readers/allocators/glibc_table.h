/* Built-in tables of glibc malloc's layout, for a core whose libc has no
 * debug file installed: readers/allocators/glibc_tables/<build-id>.glibc,
 * each generated from one libc build's debug file (libc6-dbg) by
 * `coreheap layout --glibc DEBUGFILE` (scripts/gen_glibc_tables.sh) and
 * compiled in as text (cmake/embed_tables.cmake). A table is used
 * only for the libc whose build-id it names: never guessed for another. */
#ifndef CH_GLIBC_TABLE_H
#define CH_GLIBC_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "readers/base/error.h"

struct ch_glibc_table {
	const char *build_id; /* hex */
	const char *text;
};

extern const struct ch_glibc_table ch_glibc_tables[];
extern const size_t ch_glibc_ntables;

/* Writes the table of the libc whose debug file is at debug_path (DWARF and
 * .symtab). version: the glibc version ("2.36"), recorded as given. */
struct ch_error *ch_glibc_table_dump(const char *debug_path, const char *version, FILE *out);

#endif
