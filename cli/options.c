#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit_codes.h"

static const char common_help[] =
	"Common options (before or after CORE):\n"
	"  --json               machine-readable output (= --format json; schema in docs/json.md)\n"
	"  --format FMT         text (default), json, or ndjson / folded where the command lists it\n"
	"                       (ndjson: docs/gating.md)\n"
	"  --redact             show str/bytes contents only as their type and length (docs/privacy.md)\n"
	"  -o, --output FILE    write the report to FILE instead of standard output (never over an input;\n"
	"                       FILE changes only when the report is complete)\n"
	"  --exe PATH           interpreter binary to use instead of the path recorded in the core (an\n"
	"                       error when it is not ELF or not the build the core ran)\n"
	"  --sysroot DIR        prefix every file path recorded in the core with DIR (cores from another\n"
	"                       machine)\n"
	"  --lib-search-path DIR  look for any mapped file (libpython, the executable, ...) by its base name\n"
	"                       in DIR when it is not at its recorded path, or was replaced or deleted there\n"
	"                       (\"... (deleted)\"); repeatable, tried in order; a file is used only when its\n"
	"                       build-id matches the core's (like gdb's solib-search-path)\n"
	"  --debug-dir DIR      where separate debug files live (default /usr/lib/debug; looked up as\n"
	"                       DIR/.build-id/xx/rest.debug, then by .gnu_debuglink; when none is found and\n"
	"                       DEBUGINFOD_URLS is set, fetched by build-id from those debuginfod servers\n"
	"                       into the shared debuginfod client cache; docs/debug-info.md)\n"
	"  --no-index           neither read nor write the heap index beside the core (docs/index.md)\n"
	"  -q, --quiet          no progress line and no warnings on standard error\n"
	"  -h, --help           this help\n\n"
	"CORE may be compressed (zstd, as systemd-coredump stores it, lz4, xz or gzip) or '-' for\n"
	"standard input; either is decompressed or copied once into a temporary file ($TMPDIR).\n"
	"Text tables show counts with thousands separators and sizes in B/KiB/MiB/GiB, and fit the width\n"
	"in COLUMNS, else the terminal's (a pipe or a file gets whole rows): long type names, paths and\n"
	"labels are elided in the middle (\"_frozen...Loader\"). JSON is never shortened.\n"
	"A progress line appears on standard error only when it is a terminal and the work takes more\n"
	"than a second. Exit codes: 0 ok, 1 a --fail-if condition held, 2 usage, 3 unreadable input,\n"
	"4 unsupported input, 5 partial result, 6 internal (docs/bad-input.md).\n";

int ch_cli_usage_error(const struct ch_cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "coreheap %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'coreheap %s --help'.\n", cmd->name);
	return CH_EXIT_USAGE;
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || s[0] == '-' || v > (1ULL << 32))
		return false;
	*out = (size_t)v;
	return true;
}

/* ADDR as a non-zero number (0x... or decimal). */
static bool parse_addr(const char *s, uint64_t *addr)
{
	char *end;
	errno = 0;
	*addr = strtoull(s, &end, 0);
	return !errno && !*end && *s && s[0] != '-' && *addr;
}

int ch_cli_parse(const struct ch_cli_command *cmd, int argc, char **argv, struct ch_cli_opts *o)
{
	enum { OPT_JSON = 256, OPT_EXE, OPT_SYSROOT, OPT_DEBUG_DIR, OPT_LIB_SEARCH, OPT_TOP, OPT_SORT, OPT_GENERATION, OPT_LOCALS, OPT_LIMIT,
	       OPT_TYPE, OPT_SUBCLASSES, OPT_MIN_BYTES, OPT_FORMAT, OPT_REDACT, OPT_DEPTH, OPT_ALL, OPT_BY, OPT_FAIL_IF,
	       OPT_NATIVE, OPT_VERIFY, OPT_TREE, OPT_NO_INDEX };
	/* not static: --all is a flag for the commands that take CH_OPT_EVERY */
	struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"output", required_argument, NULL, 'o'},
		{"exe", required_argument, NULL, OPT_EXE},
		{"sysroot", required_argument, NULL, OPT_SYSROOT},
		{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
		{"lib-search-path", required_argument, NULL, OPT_LIB_SEARCH},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"top", required_argument, NULL, OPT_TOP},
		{"sort", required_argument, NULL, OPT_SORT},
		{"generation", required_argument, NULL, OPT_GENERATION},
		{"locals", no_argument, NULL, OPT_LOCALS},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"type", required_argument, NULL, OPT_TYPE},
		{"subclasses", no_argument, NULL, OPT_SUBCLASSES},
		{"min-bytes", required_argument, NULL, OPT_MIN_BYTES},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"redact", no_argument, NULL, OPT_REDACT},
		{"depth", required_argument, NULL, OPT_DEPTH},
		{"all", required_argument, NULL, OPT_ALL},
		{"by", required_argument, NULL, OPT_BY},
		{"fail-if", required_argument, NULL, OPT_FAIL_IF},
		{"native", no_argument, NULL, OPT_NATIVE},
		{"verify-traverse", no_argument, NULL, OPT_VERIFY},
		{"tree", no_argument, NULL, OPT_TREE},
		{"no-index", no_argument, NULL, OPT_NO_INDEX},
		{NULL, 0, NULL, 0},
	};
	for (struct option *lo = longopts; lo->name; lo++)
		if (lo->val == OPT_ALL && (cmd->extras & CH_OPT_EVERY))
			lo->has_arg = no_argument;
	memset(o, 0, sizeof(*o));
	o->generation = -1;
	o->limit = (cmd->extras & CH_OPT_LIMIT_ALL) ? 0 : 20;
	o->sort = CH_SORT_COUNT;
	o->depth = 2;
	o->all = 1;
	o->by = CH_TOP_BY_OBJECT;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: coreheap %s\n\n%s\n%s", cmd->usage, cmd->summary, common_help);
			return -1;
		case 'o':
			o->output = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_JSON:
			o->format = CH_FORMAT_JSON;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->format = CH_FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = CH_FORMAT_JSON;
			else if (strcmp(optarg, "ndjson") == 0 && (cmd->extras & CH_OPT_NDJSON))
				o->format = CH_FORMAT_NDJSON;
			else if (strcmp(optarg, "folded") == 0 && (cmd->extras & CH_OPT_FOLDED))
				o->format = CH_FORMAT_FOLDED;
			else if (strcmp(optarg, "ndjson") == 0 || strcmp(optarg, "folded") == 0)
				return ch_cli_usage_error(cmd, "--format %s is not available for this command (text or json)", optarg);
			else
				return ch_cli_usage_error(cmd, "--format takes text, json, ndjson or folded, not '%s'", optarg);
			break;
		case OPT_REDACT:
			o->redact = true;
			break;
		case OPT_NO_INDEX:
			o->no_index = true;
			break;
		case OPT_DEPTH:
			if (!(cmd->extras & CH_OPT_DEPTH))
				return ch_cli_usage_error(cmd, "--depth is not an option of this command");
			if (!parse_size(optarg, &o->depth))
				return ch_cli_usage_error(cmd, "--depth takes a non-negative number, not '%s'", optarg);
			break;
		case OPT_ALL:
			if (cmd->extras & CH_OPT_EVERY) {
				o->every = true;
				break;
			}
			if (!(cmd->extras & CH_OPT_ALL))
				return ch_cli_usage_error(cmd, "--all is not an option of this command");
			if (!parse_size(optarg, &o->all) || o->all == 0)
				return ch_cli_usage_error(cmd, "--all takes a positive number, not '%s'", optarg);
			break;
		case OPT_TREE:
			if (!(cmd->extras & CH_OPT_TREE))
				return ch_cli_usage_error(cmd, "--tree is not an option of this command");
			o->tree = true;
			break;
		case OPT_BY:
			if (!(cmd->extras & CH_OPT_BY))
				return ch_cli_usage_error(cmd, "--by is not an option of this command");
			if (strcmp(optarg, "object") == 0)
				o->by = CH_TOP_BY_OBJECT;
			else if (strcmp(optarg, "type") == 0)
				o->by = CH_TOP_BY_TYPE;
			else
				return ch_cli_usage_error(cmd, "--by takes 'object' or 'type', not '%s'", optarg);
			break;
		case OPT_VERIFY:
			if (!(cmd->extras & CH_OPT_VERIFY))
				return ch_cli_usage_error(cmd, "--verify-traverse is not an option of this command");
			o->verify_traverse = true;
			break;
		case OPT_FAIL_IF:
			if (!(cmd->extras & CH_OPT_FAIL_IF))
				return ch_cli_usage_error(cmd, "--fail-if is not an option of this command");
			if (o->nfail_if == CH_MAX_FAIL_IF)
				return ch_cli_usage_error(cmd, "at most %d --fail-if conditions", CH_MAX_FAIL_IF);
			o->fail_if[o->nfail_if++] = optarg;
			break;
		case OPT_EXE:
			o->process.exe = optarg;
			break;
		case OPT_SYSROOT:
			o->process.sysroot = optarg;
			break;
		case OPT_DEBUG_DIR:
			o->process.debug_dir = optarg;
			break;
		case OPT_LIB_SEARCH:
			if (o->process.nlib_search == CH_MAX_LIB_SEARCH)
				return ch_cli_usage_error(cmd, "at most %d --lib-search-path directories", CH_MAX_LIB_SEARCH);
			if (!*optarg)
				return ch_cli_usage_error(cmd, "--lib-search-path takes a directory");
			o->process.lib_search[o->process.nlib_search++] = optarg;
			break;
		case OPT_LIMIT:
		case OPT_TOP:
			/* One option for every listing: --top is its older name
			 * where a command took that (types). */
			if (!(cmd->extras & CH_OPT_LIMIT) || (c == OPT_TOP && !(cmd->extras & CH_OPT_TOP)))
				return ch_cli_usage_error(cmd, "%s is not an option of this command",
							  c == OPT_TOP ? "--top" : "--limit");
			if (!parse_size(optarg, &o->limit))
				return ch_cli_usage_error(cmd, "%s takes a non-negative number (0 for all rows), not '%s'",
							  c == OPT_TOP ? "--top" : "--limit", optarg);
			o->limit_given = true;
			break;
		case OPT_SORT:
			if (!(cmd->extras & CH_OPT_SORT))
				return ch_cli_usage_error(cmd, "--sort is not an option of this command");
			if (strcmp(optarg, "count") == 0)
				o->sort = CH_SORT_COUNT;
			else if (strcmp(optarg, "bytes") == 0)
				o->sort = CH_SORT_BYTES;
			else
				return ch_cli_usage_error(cmd, "--sort takes 'count' or 'bytes', not '%s'", optarg);
			break;
		case OPT_GENERATION:
			if (!(cmd->extras & CH_OPT_GENERATION))
				return ch_cli_usage_error(cmd, "--generation is not an option of this command");
			if (strcmp(optarg, "0") == 0 || strcmp(optarg, "1") == 0 || strcmp(optarg, "2") == 0)
				o->generation = optarg[0] - '0';
			else if (strcmp(optarg, "permanent") == 0 || strcmp(optarg, "frozen") == 0)
				o->generation = CH_GEN_PERMANENT;
			else if (strcmp(optarg, "untracked") == 0)
				o->generation = CH_GEN_UNTRACKED;
			else
				return ch_cli_usage_error(cmd, "--generation takes 0, 1, 2, permanent or untracked, not '%s'", optarg);
			break;
		case OPT_NATIVE:
			if (!(cmd->extras & CH_OPT_NATIVE))
				return ch_cli_usage_error(cmd, "--native is not an option of this command");
			o->native = true;
			break;
		case OPT_LOCALS:
			if (!(cmd->extras & CH_OPT_LOCALS))
				return ch_cli_usage_error(cmd, "--locals is not an option of this command");
			o->locals = true;
			break;
		case OPT_TYPE:
			if (!(cmd->extras & CH_OPT_TYPE))
				return ch_cli_usage_error(cmd, "--type is not an option of this command");
			if (!*optarg)
				return ch_cli_usage_error(cmd, "--type takes a type name such as mymod.Node");
			o->type_name = optarg;
			break;
		case OPT_SUBCLASSES:
			if (!(cmd->extras & CH_OPT_SUBCLASSES))
				return ch_cli_usage_error(cmd, "--subclasses is not an option of this command");
			o->subclasses = true;
			break;
		case OPT_MIN_BYTES:
			if (!(cmd->extras & CH_OPT_MIN_BYTES))
				return ch_cli_usage_error(cmd, "--min-bytes is not an option of this command");
			if (!parse_size(optarg, &o->min_bytes))
				return ch_cli_usage_error(cmd, "--min-bytes takes a non-negative number, not '%s'", optarg);
			break;
		case ':':
			return ch_cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		default:
			return ch_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ch_cli_usage_error(cmd, "missing CORE argument");
	o->core = argv[optind++];
	if (cmd->extras & CH_OPT_ADDR) {
		if (optind >= argc)
			return ch_cli_usage_error(cmd, "missing ADDR argument");
		do {
			const char *a = argv[optind++];
			/* Checked here, before the core is opened: a usage error. */
			if (o->naddrs == CH_MAX_ADDRS)
				return ch_cli_usage_error(cmd, "at most %d addresses", CH_MAX_ADDRS);
			if (!parse_addr(a, &o->addrs[o->naddrs++]))
				return ch_cli_usage_error(cmd, "ADDR must be a non-zero address such as 0x7f12345678, not '%s'", a);
		} while ((cmd->extras & CH_OPT_ADDRS) && optind < argc);
		o->addr = o->addrs[0];
	}
	if (cmd->extras & CH_OPT_SECOND) {
		if (optind >= argc)
			return ch_cli_usage_error(cmd, "missing second argument");
		o->second = argv[optind++];
	}
	if (optind < argc)
		return ch_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	o->json = o->format == CH_FORMAT_JSON || o->format == CH_FORMAT_NDJSON;
	if ((cmd->extras & CH_OPT_TYPE) && !o->type_name)
		return ch_cli_usage_error(cmd, "missing --type NAME");
	return 0;
}

