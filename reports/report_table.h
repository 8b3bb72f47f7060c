/* Text tables: cells are collected, then printed with every column as wide
 * as its widest cell, so numbers with thousands separators and human sizes
 * line up whatever their magnitude. Some columns may be flexible (a type
 * name, a path, a label): when the rows would be wider than the output
 * width (ch_report_width), the widest of them shrinks, its cells elided in
 * the middle ("foo...Bar"), until each row fits (or every flexible column
 * is down to 12). JSON reports never go through here. */
#ifndef CH_REPORT_TABLE_H
#define CH_REPORT_TABLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "readers/base/error.h"

#define CH_TABLE_MAX_COLS 12

/* The width text reports fit in: set once by the command line (COLUMNS,
 * else the terminal's width, else 0 = no limit, as for a pipe or a file). */
void ch_report_set_width(size_t width);
size_t ch_report_width(void);

/* Cells live in one growing buffer (offsets), rows in one growing array:
 * a table of a million rows is a handful of allocations. A table whose
 * allocation failed prints "(out of memory)" instead of rows. */
struct ch_table {
	size_t ncols;
	unsigned flex;               /* bit c: column c may be elided */
	const char *align;           /* per column 'l' or 'r' */
	const char *indent;
	char *text;                  /* NUL-terminated cells */
	size_t len, cap;
	size_t *cells;               /* offsets into text, ncols per row */
	size_t ncells, cells_cap;
	bool failed;
};

/* headers: ncols names (the first row); align: "lrr..." one letter per
 * column; flex: a mask of the elidable columns (CH_FLEX(c)), 0 for none. */
#define CH_FLEX(c) (1u << (c))
void ch_table_init(struct ch_table *t, size_t ncols, const char *const *headers, const char *align, unsigned flex,
		   const char *indent);
/* Appends one cell (rows fill left to right). */
void ch_table_cell(struct ch_table *t, const char *fmt, ...) CH_PRINTF(2, 3);
void ch_table_count(struct ch_table *t, uint64_t v);   /* 1,234,567 */
void ch_table_bytes(struct ch_table *t, uint64_t b);   /* 9,999 B / 12.3 KiB */
void ch_table_delta(struct ch_table *t, int64_t v);        /* +1,234 / -5 / 0 */
void ch_table_bytes_delta(struct ch_table *t, int64_t b);  /* +12.3 KiB / -512 B / 0 B */
/* Prints and releases the table. */
void ch_table_print(FILE *out, struct ch_table *t);
void ch_table_deinit(struct ch_table *t);

/* s elided in the middle to at most width display columns (UTF-8 code
 * points), into buf. */
const char *ch_report_elide(const char *s, size_t width, char *buf, size_t n);

#endif
