/* Separate debug files fetched from debuginfod servers by build-id, the way
 * gdb and systemd-coredump fetch them: through elfutils' libdebuginfod, so
 * DEBUGINFOD_URLS names the servers, and the files land in (and are later
 * served from) the client cache every debuginfod client shares
 * ($DEBUGINFOD_CACHE_PATH, else $XDG_CACHE_HOME/debuginfod_client, else
 * ~/.cache/debuginfod_client), with its expiry rules and DEBUGINFOD_TIMEOUT.
 * Used only when no local debug file was found. */
#ifndef CH_DEBUGINFOD_H
#define CH_DEBUGINFOD_H

#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

/* True when DEBUGINFOD_URLS names at least one server. */
int ch_debuginfod_enabled(void);

/* The path of the debug file for build-id id (in the client cache; a
 * malloc'd string, the caller frees it). CH_ERR_NOT_FOUND when the servers
 * have none or cannot be reached (the message says which and why). */
struct ch_error *ch_debuginfod_fetch(const uint8_t *id, size_t len, char **path);

#endif
