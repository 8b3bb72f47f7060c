/* Process exit codes, documented in docs/bad-input.md ("Exit codes") and every --help. */
#ifndef CH_EXIT_CODES_H
#define CH_EXIT_CODES_H

#include "readers/base/error.h"

enum {
	CH_EXIT_OK = 0,
	CH_EXIT_CONDITION = 1,   /* a --fail-if condition held (reserved for gating) */
	CH_EXIT_USAGE = 2,       /* bad command line */
	CH_EXIT_INPUT = 3,       /* input unreadable: not ELF/core, truncated header, missing or mismatched file */
	CH_EXIT_UNSUPPORTED = 4, /* input readable but not analysable: not Python, unknown version, no debug info */
	CH_EXIT_PARTIAL = 5,     /* results printed, but some memory could not be read */
	CH_EXIT_INTERNAL = 6,    /* out of memory or an output write failed */
};

static inline int ch_exit_code_for(const struct ch_error *err)
{
	switch (err->kind) {
	case CH_ERR_USAGE:
		return CH_EXIT_USAGE;
	case CH_ERR_UNSUPPORTED:
		return CH_EXIT_UNSUPPORTED;
	case CH_ERR_NOMEM:
		return CH_EXIT_INTERNAL;
	case CH_ERR_INPUT:
	case CH_ERR_FAULT:
	case CH_ERR_NOT_FOUND:
	default:
		return CH_EXIT_INPUT;
	}
}

#endif
