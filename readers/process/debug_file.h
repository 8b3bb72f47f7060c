/* Where the DWARF of an ELF module lives: in the file itself, or in a
 * separate debug file found the way gdb finds one:
 *   1. by build-id:   DEBUGDIR/.build-id/xx/rest.debug
 *   2. by .gnu_debuglink NAME: beside the file (DIR/NAME), in DIR/.debug/NAME,
 *      and under the debug directory (DEBUGDIR/DIR/NAME), where DIR is the
 *      file's directory (on disk for the first two, as recorded in the core
 *      for the third, so --sysroot and --debug-dir compose).
 * A candidate is used only if it has .debug_info and its build-id equals the
 * module's (when both have one); a debuglink candidate must also match the
 * CRC32 the link records. A candidate that fails a check is refused with a
 * message naming both ids (or CRCs); when no candidate is usable the error
 * says what was refused, else where it looked.
 *   3. when none was found and DEBUGINFOD_URLS is set: fetched by build-id
 *      from a debuginfod server into the shared client cache (debuginfod.h). */
#ifndef CH_DEBUG_FILE_H
#define CH_DEBUG_FILE_H

#include <stdint.h>

#include "readers/process/elf_file.h"
#include "readers/base/error.h"

enum ch_debug_method {
	CH_DEBUG_EMBEDDED,  /* .debug_info in the module's own file */
	CH_DEBUG_BUILD_ID,  /* DEBUGDIR/.build-id/xx/rest.debug */
	CH_DEBUG_LINK,      /* .gnu_debuglink */
	CH_DEBUG_DEBUGINFOD, /* fetched by build-id from DEBUGINFOD_URLS (debuginfod.h), when none of the above */
};

struct ch_debug_file {
	enum ch_debug_method method;
	char *path;         /* the file holding the DWARF (owned) */
};

/* ef: the module's file; recorded_path: its path as the core names it (for
 * DEBUGDIR/DIR/NAME); debug_dir: e.g. /usr/lib/debug.
 * Errors: CH_ERR_UNSUPPORTED when nothing was found (the message lists
 * where it looked), CH_ERR_INPUT when a candidate was refused (mismatched
 * build-id or CRC, or unreadable). */
struct ch_error *ch_debug_file_find(const struct ch_elf_file *ef, const char *recorded_path, const char *debug_dir,
				    struct ch_debug_file *out);
void ch_debug_file_deinit(struct ch_debug_file *df);

/* "embedded", "build-id", "debuglink", "debuginfod". */
const char *ch_debug_method_name(enum ch_debug_method m);

/* CRC32 (the .gnu_debuglink one, zlib's polynomial) of a whole file. */
struct ch_error *ch_debug_file_crc32(const char *path, uint32_t *crc);

#endif
