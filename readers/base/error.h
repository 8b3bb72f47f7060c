/* Layer readers/base: what every other layer and graph/ share. Errors as
 * values (this file), warnings and the partial flag (diag.h), unaligned
 * little-endian loads (bytes.h), bounded list walks (chain.h) and the
 * address -> index hash (index_hash.h).
 * Does not: read files or memory, or know about cores or Python.
 * Invariant: includes nothing of the project outside readers/base, so any
 * file may include it without an include running upward.
 *
 * Errors as values: every fallible function returns a struct ch_error * that is
 * NULL on success and otherwise owns a one-line message and a kind. The kind
 * decides the process exit code (cli/exit_codes.h), so callers never map
 * messages to codes by hand. */
#ifndef CH_ERROR_H
#define CH_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

enum ch_error_kind {
	CH_ERR_USAGE = 1,       /* bad command line */
	CH_ERR_INPUT,           /* a file is unreadable, malformed, truncated or mismatched */
	CH_ERR_UNSUPPORTED,     /* readable, but not something coreheap can analyse */
	CH_ERR_FAULT,           /* an address the core does not cover */
	CH_ERR_NOT_FOUND,       /* a symbol, type or member is absent (often recoverable) */
	CH_ERR_NOMEM,
};

struct ch_error {
	enum ch_error_kind kind;
	char message[512];
};

#if defined(__GNUC__)
#define CH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CH_PRINTF(a, b)
#endif

/* Never returns NULL: on allocation failure a static out-of-memory error is returned. */
struct ch_error *ch_error_new(enum ch_error_kind kind, const char *fmt, ...) CH_PRINTF(2, 3);
struct ch_error *ch_error_vnew(enum ch_error_kind kind, const char *fmt, va_list ap);
/* Prefix an error's message with context ("reading GC list: ..."); returns err. */
struct ch_error *ch_error_prefix(struct ch_error *err, const char *fmt, ...) CH_PRINTF(2, 3);
/* Safe on NULL and on the static out-of-memory error. */
void ch_error_free(struct ch_error *err);
/* For reads whose failure only means "not available": frees err and says
 * whether the call succeeded (err == NULL). */
bool ch_error_ok(struct ch_error *err);

extern struct ch_error ch_error_nomem;

#endif
