/* One file of coreheap's cache folder (cache_dir.h) that holds what an
 * earlier run derived from a file named by its build-id (struct layouts
 * read from DWARF: readers/cpython/py_layout_cache.h,
 * readers/allocators/glibc_locate.c). Text, three lines then a body:
 *   MAGIC                 what the file is, with its format number
 *   key HEX16             the writer's key (its version and field set):
 *                         another key is another coreheap's file
 *   checksum HEX16        FNV-1a (fnv.h) of the body
 * A cache file is input: read with a size bound, refused when any header
 * line differs, the checksum does not match, or the last line has no
 * newline; the caller then checks the body in full. Writes go to a
 * temporary name renamed into place, so a reader never sees half a file.
 * CH_LAYOUT_CACHE=off turns every such cache off. */
#ifndef CH_CACHE_FILE_H
#define CH_CACHE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies are tables of a few hundred short lines. */
#define CH_CACHE_FILE_MAX (256u << 10)

/* "<cache dir>/<sub>/<build_id><ext>" into out. False when the cache is off
 * (*off set), build_id is not lowercase hex, or there is no cache folder. */
bool ch_cache_file_path(const char *sub, const char *build_id, const char *ext, char *out, size_t n, bool *off);

/* The file's text (malloc'd; free it) with *body pointing at the body,
 * when the header is magic and key and the checksum matches; else NULL and
 * why says what was wrong (empty when there is no such file). */
char *ch_cache_file_read(const char *path, const char *magic, uint64_t key, const char **body, char *why, size_t wmax);

/* Writes magic, key, the checksum and body (len bytes), creating the
 * folder. False with the reason in problem. */
bool ch_cache_file_write(const char *path, const char *magic, uint64_t key, const char *body, size_t len, char *problem,
			 size_t pmax);

/* Line helpers for checking a body: the next line of *s (without its
 * newline; false at the end or at a last line without one), and whether a
 * line is exactly "key value". */
bool ch_cache_file_line(const char **s, const char **line, size_t *len);
bool ch_cache_file_line_is(const char *line, size_t len, const char *key, const char *value);

#endif
