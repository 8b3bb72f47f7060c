/* Built-in layout tables: the whole py_layout field table of one CPython
 * build, as text, for interpreters whose DWARF is not at hand.
 *
 * The tables are data files (readers/cpython/layouts/<version>.layout) written by
 * `coreheap layout --dump` from debug builds (scripts/gen_layouts.sh) and
 * compiled in verbatim by cmake/embed_tables.cmake; nothing here or there
 * spells an offset. The text format, one item a line:
 *   # comment
 *   format 1
 *   version 3.11.7          the micro version the table was generated from
 *   version_source ...      how the dump found it (Py_Version, --version)
 *   file NAME               basename of the ELF the DWARF came from
 *   build_id HEX            its build-id
 *   FIELD_NAME VALUE        one per py_layout field, VALUE a decimal or "absent"
 * The same writer produces `layout --dump` output, so a fresh dump of the
 * same build is byte-identical to the committed table. */
#ifndef CH_PY_LAYOUT_TABLE_H
#define CH_PY_LAYOUT_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "readers/base/error.h"
#include "readers/cpython/py_layout.h"
#include "readers/cpython/py_version.h"

/* One embedded table (generated array, see cmake/embed_tables.cmake). */
struct ch_py_layout_table {
	const char *version; /* "3.11.7", from the file name */
	const char *source;  /* "built-in table 3.11.7" */
	const char *text;    /* the file's contents */
};
extern const struct ch_py_layout_table ch_py_layout_tables[];
extern const size_t ch_py_layout_ntables;

/* What a dump records besides the fields. */
struct ch_py_layout_header {
	const char *version;        /* "3.11.7" */
	const char *version_source; /* "Py_Version", "--version" */
	const char *file;           /* basename */
	const char *build_id;       /* hex, "" when the file has none */
	const char *generator;      /* the command line that made it */
	const char *comment;        /* the header's comment lines; NULL: the built-in tables' */
};

/* Write layout in the table format. */
void ch_py_layout_write(FILE *out, const struct ch_py_layout *layout, const struct ch_py_layout_header *h);

/* Parse a table's text into layout (every field absent unless listed).
 * CH_ERR_INPUT for a malformed line or a field name this build does not
 * know (the table is stale: regenerate it). */
struct ch_error *ch_py_layout_parse(struct ch_py_layout *layout, const char *text, const char *source);

/* The embedded table generated from exactly this version, or NULL. */
const struct ch_py_layout_table *ch_py_layout_table_exact(const char *version);

/* Fill layout from the built-in table for v: the table of the same micro
 * version, else of the nearest lower micro of the same minor, else the
 * nearest higher (layout->table_exact tells which). CH_ERR_UNSUPPORTED
 * when no table has v's minor version. */
struct ch_error *ch_py_layout_from_table(struct ch_py_layout *layout, const struct ch_py_version *v);

/* "3.8.18, 3.9.18, ..." into buf. */
void ch_py_layout_table_list(char *buf, size_t size);

#endif
