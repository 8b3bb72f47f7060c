/* The layout cache: what ch_py_layout_from_dwarf read from one interpreter
 * build's DWARF, kept by build-id so that the next command on any core of
 * that build skips the DWARF (a fifth of a second on libpython 3.12, most of
 * a command that works from a heap index).
 *
 * One file per build: <cache dir>/layouts/<build-id>.layout (cache dir:
 * readers/base/cache_dir.h; the envelope: readers/base/cache_file.h):
 *   coreheap layout cache 1       the cache format
 *   key HEX16                     this coreheap's field set (CH_VERSION and
 *                                 ch_py_layout_schema_hash)
 *   checksum HEX16                FNV-1a of everything after this line
 *   <a layout table>              ch_py_layout_write's format, every field
 *                                 listed once, build_id and version lines
 *                                 naming the build
 * The file is input like a core: read with a size bound, parsed in full,
 * and used only when the format, key, checksum, build-id and version match
 * and every field is listed exactly once; anything else is ignored (and the
 * file rewritten from DWARF). Its values then go through the same runtime
 * checks as DWARF's (_Py_DebugOffsets, self-checks). A layout is written
 * only after a successful read of DWARF whose file and module carry the same
 * build-id, to a temporary name renamed into place; a failure to write is
 * noted (`info`), never fatal.
 *
 * CH_LAYOUT_CACHE=off neither reads nor writes the cache. */
#ifndef CH_PY_LAYOUT_CACHE_H
#define CH_PY_LAYOUT_CACHE_H

#include <limits.h>
#include <stdbool.h>

#include "readers/cpython/py_layout.h"

enum ch_py_layout_cache_state {
	CH_PY_CACHE_NONE = 0, /* not used: a built-in table, DWARF without a build-id, no cache folder */
	CH_PY_CACHE_OFF,      /* CH_LAYOUT_CACHE=off */
	CH_PY_CACHE_READ,     /* the layout is the cache file's */
	CH_PY_CACHE_WRITTEN,  /* read from DWARF and saved in the cache file */
	CH_PY_CACHE_UNWRITTEN, /* read from DWARF; saving it failed (problem says why) */
};

/* One run's use of the cache (`info` reports it). */
struct ch_py_layout_cache {
	enum ch_py_layout_cache_state state;
	char path[PATH_MAX];  /* the cache file ("" with NONE and OFF) */
	char problem[256];    /* UNWRITTEN: why; READ/WRITTEN: "" */
	char ignored[256];    /* why an existing file was not used ("" if none was there or it was used) */
};

/* What names the build a layout belongs to. */
struct ch_py_layout_cache_id {
	const char *build_id;       /* hex, of the DWARF file (= the module's) */
	const char *version;        /* "3.12.1" */
	const char *version_source; /* how the version was found (recorded only) */
	const char *file;           /* the DWARF file's path (recorded as its basename) */
};

/* Where the layout of build `id` is cached: sets c->state (NONE, OFF, or
 * NONE with an empty path when there is no cache folder) and c->path.
 * True when the cache may be used. */
bool ch_py_layout_cache_locate(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id);

/* The cached layout of id into layout, as ch_py_layout_from_dwarf would
 * have filled it (source = id->file, origins DWARF). False when there is
 * no usable file (c->ignored says why when one was there). */
bool ch_py_layout_cache_load(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id,
			     struct ch_py_layout *layout);

/* Save layout (fresh from DWARF) as id's; sets c->state to WRITTEN or
 * UNWRITTEN. */
void ch_py_layout_cache_store(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id,
			      const struct ch_py_layout *layout);

/* "read", "written", "not written", "off", or NULL (NONE): for JSON. */
const char *ch_py_layout_cache_state_name(enum ch_py_layout_cache_state s);

#endif
