/* coreheap's per-user cache folder, shared by what it keeps between runs:
 * heap indexes of cores in read-only folders (cli/session_heap.c) and
 * struct layouts read from DWARF, by build-id
 * (readers/cpython/py_layout_cache.h). */
#ifndef CH_CACHE_DIR_H
#define CH_CACHE_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* "$XDG_CACHE_HOME/coreheap" when that variable is an absolute path, else
 * "$HOME/.cache/coreheap" (the XDG default). False, with out empty, when
 * neither variable is usable or the name does not fit in n bytes. */
bool ch_cache_dir(char *out, size_t n);

/* Create dir and any missing parents (mode 0700, `mkdir -p`). True when
 * dir is a folder afterwards. */
bool ch_cache_make_dir(const char *dir);

#endif
