/* Reading CPython str and dict objects: just enough to name things (type
 * qualnames, __module__, version strings). Values are copied out of the
 * dump; nothing is trusted beyond the bounds checks of the address space. */
#ifndef CH_PY_STR_H
#define CH_PY_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

/* UTF-8 copy of the str at addr into buf (always NUL-terminated; longer
 * strings are cut at max-1 bytes on a character boundary and *truncated is
 * set; lone surrogates, valid in a str but not in UTF-8, are written \udXXX). CH_ERR_FAULT/CH_ERR_INPUT if it is unreadable or not a str. */
struct ch_error *ch_py_str_read(struct ch_python *py, uint64_t addr, char *buf, size_t max, bool *truncated);

/* A C string of the dump (tp_name, a member name) at addr into buf, like
 * ch_as_read_cstr, made valid UTF-8: bytes that are not are escaped as
 * \xHH, and the damage is a warning naming `what` that marks the result
 * partial. */
struct ch_error *ch_py_cstr_read(struct ch_python *py, uint64_t addr, const char *what, char *buf, size_t max,
				 bool *truncated);

/* Where a str's characters are: length in code points, bytes per code
 * point (1, 2, 4: PEP 393 kind) and the address of character 0. */
struct ch_py_str_info {
	uint64_t length;
	unsigned kind;
	uint64_t data;
};
struct ch_error *ch_py_str_info(struct ch_python *py, uint64_t addr, struct ch_py_str_info *out);
/* Code points [start, start+n) of a str (the caller keeps start+n <= length). */
struct ch_error *ch_py_str_chars(struct ch_python *py, const struct ch_py_str_info *s, uint64_t start, uint32_t *out,
				 size_t n);
/* UTF-8 of one code point into out (4 bytes room); above U+10FFFF gives
 * U+FFFD, surrogates are encoded as they are (3 bytes). Returns the length. */
size_t ch_utf8_put(char *out, uint32_t c);

/* Calls fn for each live (key, value) entry of the dict at addr, in entry
 * order, until fn returns non-zero (which is returned). Bounded by the
 * keys table's own size, which is itself bounded. */
typedef int (*ch_py_dict_visit_fn)(void *arg, uint64_t key, uint64_t value);
struct ch_error *ch_py_dict_foreach(struct ch_python *py, uint64_t addr, ch_py_dict_visit_fn fn, void *arg,
				    int *stopped_with);

/* Where a dict's entries are and how to read them, in every version's
 * terms (shared by the name lookups here and py_refs, so there is one dict
 * reader). Entry i's key is at entries + i*entry_size + key_off; its value
 * there too, or at values + 8*i for a split table. */
struct ch_py_dict_view {
	uint64_t keys;        /* the PyDictKeysObject */
	uint64_t entries;     /* address of entry 0 */
	uint64_t entry_size;
	int64_t key_off, value_off;
	uint64_t nentries;
	uint64_t size;        /* slots in the hash index (dk_size / 1 << dk_log2_size) */
	uint64_t index_bytes; /* bytes of the index array */
	bool general;         /* 3.11+: dk_kind == DICT_KEYS_GENERAL; <=3.10: always true
				 (the caller decides from dk_lookup) */
	uint64_t values_obj;  /* ma_values as stored (PyDictValues *), or 0 */
	uint64_t values;      /* split-table values array (address of value 0), or 0 */
};

/* Fills v for the dict (or dict subclass) at addr; entry counts are
 * checked against the table size, itself bounded. */
struct ch_error *ch_py_dict_view(struct ch_python *py, uint64_t addr, struct ch_py_dict_view *v);
/* The same for a bare keys table (a type's ht_cached_keys) and the values
 * array stored with it (ma_values / an instance's values, or 0). */
struct ch_error *ch_py_dict_keys_view(struct ch_python *py, uint64_t keys, uint64_t values, struct ch_py_dict_view *v);

/* 3.13+: whether the view's split values are an instance's inline values
 * (PyDictValues.embedded: a __dict__ materialized over them, which the
 * instance owns and the dict only points at). False before 3.13. */
struct ch_error *ch_py_dict_values_embedded(struct ch_python *py, const struct ch_py_dict_view *v, bool *embedded);

/* Key and value of entry i of a view (the value from the split values
 * array when there is one). Either may be 0 (a deleted or empty entry). */
struct ch_error *ch_py_dict_entry(struct ch_python *py, const struct ch_py_dict_view *v, uint64_t i, uint64_t *key,
				  uint64_t *value);

/* Value stored under a str key equal to `key`, or CH_ERR_NOT_FOUND. */
struct ch_error *ch_py_dict_get_str(struct ch_python *py, uint64_t dict, const char *key, uint64_t *value);

#endif
