/* Command-line options shared by the subcommands, and the per-command
 * extras they may accept. */
#ifndef CH_OPTIONS_H
#define CH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/type_histogram.h"
#include "readers/process.h"

enum {
	CH_OPT_TOP = 1 << 0,
	CH_OPT_SORT = 1 << 1,
	CH_OPT_GENERATION = 1 << 2,
	CH_OPT_LOCALS = 1 << 3,
	CH_OPT_LIMIT = 1 << 4,
	CH_OPT_ADDR = 1 << 5,   /* a second positional argument, ADDR, after CORE (referents) */
	CH_OPT_TYPE = 1 << 6,   /* --type NAME, required (find) */
	CH_OPT_SUBCLASSES = 1 << 7,
	CH_OPT_MIN_BYTES = 1 << 8,
};

struct ch_cli_command {
	const char *name;
	const char *summary;
	const char *usage;    /* full --help text after the usage line */
	unsigned extras;      /* CH_OPT_* this command accepts */
	int (*run)(const struct ch_cli_command *cmd, int argc, char **argv);
};

struct ch_cli_opts {
	const char *core;
	uint64_t addr;        /* CH_OPT_ADDR commands: the argument after CORE, parsed */
	const char *output;   /* -o FILE, NULL for stdout */
	bool json, quiet;
	bool locals;          /* --locals (stacks) */
	struct ch_process_options process;
	size_t top;
	size_t limit;         /* --limit N (0: no limit) */
	enum ch_hist_sort sort;
	int generation;       /* -1 all, else CH_GEN_* */
	const char *type_name; /* --type NAME (find) */
	bool subclasses;      /* --subclasses (find) */
	size_t min_bytes;     /* --min-bytes N (find; 0: no minimum) */
};

/* Parses argv (argv[0] is the command name). Returns -1 after printing
 * --help (exit 0), 0 on success, CH_EXIT_USAGE after printing a usage error. */
int ch_cli_parse(const struct ch_cli_command *cmd, int argc, char **argv, struct ch_cli_opts *o);


/* "coreheap CMD: message" + hint, returns CH_EXIT_USAGE. */
int ch_cli_usage_error(const struct ch_cli_command *cmd, const char *fmt, ...);

#endif
