/* Reading CPython str and dict objects: just enough to name things (type
 * qualnames, __module__, version strings). Values are copied out of the
 * dump; nothing is trusted beyond the bounds checks of the address space. */
#ifndef CH_PY_STR_H
#define CH_PY_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct ch_python;

/* UTF-8 copy of the str at addr into buf (always NUL-terminated; longer
 * strings are cut at max-1 bytes on a character boundary and *truncated is
 * set). CH_ERR_FAULT/CH_ERR_INPUT if it is unreadable or not a str. */
struct ch_error *ch_py_str_read(struct ch_python *py, uint64_t addr, char *buf, size_t max, bool *truncated);

/* Calls fn for each live (key, value) entry of the dict at addr, in entry
 * order, until fn returns non-zero (which is returned). Bounded by the
 * keys table's own size, which is itself bounded. */
typedef int (*ch_py_dict_visit_fn)(void *arg, uint64_t key, uint64_t value);
struct ch_error *ch_py_dict_foreach(struct ch_python *py, uint64_t addr, ch_py_dict_visit_fn fn, void *arg,
				    int *stopped_with);

/* Value stored under a str key equal to `key`, or CH_ERR_NOT_FOUND. */
struct ch_error *ch_py_dict_get_str(struct ch_python *py, uint64_t dict, const char *key, uint64_t *value);

#endif
