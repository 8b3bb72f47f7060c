/* Command-line options shared by the subcommands, and the per-command
 * extras they may accept. */
#ifndef CH_OPTIONS_H
#define CH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/type_histogram.h"
#include "readers/process/process.h"

enum {
	CH_OPT_TOP = 1 << 0,    /* --top N, an older name of --limit N (types) */
	CH_OPT_SORT = 1 << 1,
	CH_OPT_GENERATION = 1 << 2,
	CH_OPT_LOCALS = 1 << 3,
	CH_OPT_LIMIT = 1 << 4,  /* --limit N: rows listed (default 20; see CH_OPT_LIMIT_ALL) */
	CH_OPT_ADDR = 1 << 5,   /* a second positional argument, ADDR, after CORE (referents) */
	CH_OPT_TYPE = 1 << 6,   /* --type NAME, required (find) */
	CH_OPT_SUBCLASSES = 1 << 7,
	CH_OPT_MIN_BYTES = 1 << 8,
	CH_OPT_DEPTH = 1 << 9,    /* --depth N (show) */
	CH_OPT_ALL = 1 << 10,     /* --all N (path) */
	CH_OPT_BY = 1 << 11,      /* --by type|object (top) */
	CH_OPT_FAIL_IF = 1 << 12, /* --fail-if EXPR, repeatable (diff, summary, cycles) */
	CH_OPT_NDJSON = 1 << 13,  /* --format ndjson is accepted (types, cycles, diff) */
	CH_OPT_SECOND = 1 << 14,  /* a second positional path after the first (diff A B) */
	CH_OPT_ADDRS = 1 << 15,   /* with CH_OPT_ADDR: more ADDRs may follow (show) */
	CH_OPT_NATIVE = 1 << 16,  /* --native: stacks: C frames too; types, top: native memory objects own */
	CH_OPT_VERIFY = 1 << 17,  /* --verify-traverse (referents, cycles) */
	CH_OPT_EVERY = 1 << 18,   /* --all without a number: every object of the kind (tasks: futures too) */
	CH_OPT_TREE = 1 << 19,    /* --tree (tasks) */
	CH_OPT_FOLDED = 1 << 20,  /* --format folded is accepted (top) */
	CH_OPT_LIMIT_ALL = 1 << 21, /* with CH_OPT_LIMIT: every row unless --limit is given */
};

#define CH_MAX_ADDRS 4096

/* Output formats: --json is --format json. */
enum ch_format { CH_FORMAT_TEXT, CH_FORMAT_JSON, CH_FORMAT_NDJSON, CH_FORMAT_FOLDED };

/* How `top` aggregates retained sizes. */
enum ch_top_by { CH_TOP_BY_OBJECT, CH_TOP_BY_TYPE };

#define CH_MAX_FAIL_IF 16

struct ch_cli_command {
	const char *name;
	const char *summary;
	const char *usage;    /* full --help text after the usage line */
	unsigned extras;      /* CH_OPT_* this command accepts */
	int (*run)(const struct ch_cli_command *cmd, int argc, char **argv);
	/* What it uses of an analysed heap (CH_NEED_*, graph/heap_index.h):
	 * a load from the index verifies only that. 0: everything. */
	uint32_t index_needs;
	/* With CH_NEED_LAZY: the uses (CH_NEED_*) whose sections the command
	 * reads whole, verified at the load on two threads; the others are
	 * verified block by block as they are read (0: all of them). */
	uint32_t index_eager;
};

struct ch_cli_opts {
	const char *core;
	uint64_t addr;        /* CH_OPT_ADDR commands: the argument after CORE, parsed */
	uint64_t addrs[CH_MAX_ADDRS]; /* CH_OPT_ADDRS: every ADDR given (addrs[0] == addr) */
	size_t naddrs;
	const char *output;   /* -o FILE, NULL for stdout */
	bool json, quiet;
	bool locals;          /* --locals (stacks) */
	struct ch_process_options process;
	size_t limit;         /* --limit N (or --top N): rows listed, 0 for all */
	bool limit_given;     /* --limit was on the command line (summary's own default) */
	enum ch_hist_sort sort;
	int generation;       /* -1 all, else CH_GEN_* */
	const char *type_name; /* --type NAME (find) */
	bool subclasses;      /* --subclasses (find) */
	size_t min_bytes;     /* --min-bytes N (find; 0: no minimum) */
	enum ch_format format; /* json is true exactly when format is json or ndjson */
	bool no_index;        /* --no-index: the heap is built from the core, no index read or written */
	bool redact;          /* --redact: str/bytes contents shown as their type and length only */
	bool verify_traverse; /* --verify-traverse: emulate modelled types too, report differences */
	size_t depth;         /* --depth N (show; default 2) */
	size_t all;           /* --all N (path; default 1) */
	bool every;           /* --all as a flag (CH_OPT_EVERY commands) */
	bool tree;            /* --tree (tasks) */
	enum ch_top_by by;    /* --by (top; default object) */
	const char *fail_if[CH_MAX_FAIL_IF]; /* --fail-if EXPR, in the order given */
	size_t nfail_if;
	const char *second;   /* CH_OPT_SECOND: the argument after the first (diff B) */
	bool native;          /* --native: stacks: C frames too; types, top: native memory objects own */
};

/* Parses argv (argv[0] is the command name). Returns -1 after printing
 * --help (exit 0), 0 on success, CH_EXIT_USAGE after printing a usage error. */
int ch_cli_parse(const struct ch_cli_command *cmd, int argc, char **argv, struct ch_cli_opts *o);


/* "coreheap CMD: message" + hint, returns CH_EXIT_USAGE. */
int ch_cli_usage_error(const struct ch_cli_command *cmd, const char *fmt, ...);

#endif
