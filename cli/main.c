/* coreheap: post-mortem heap analysis of CPython core dumps. */
#include <stdio.h>
#include <string.h>

#include "ch_git_describe.h" /* generated: CH_GIT_DESCRIBE, cmake/git_describe.cmake */
#include <unistd.h>

#include "commands.h"
#include "session.h"
#include "readers/base/edit_distance.h"
#include "readers/native/native_unwind.h"

#if defined(__SANITIZE_ADDRESS__)
#define CH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CH_SANITIZED 1
#endif
#endif
#ifndef CH_SANITIZED
#define CH_SANITIZED 0
#endif
#include "exit_codes.h"

static const struct ch_cli_command *const commands[] = {
	&ch_cmd_info,
	&ch_cmd_summary,
	&ch_cmd_suspects,
	&ch_cmd_report,
	&ch_cmd_types,
	&ch_cmd_cycles,
	&ch_cmd_stacks,
	&ch_cmd_roots,
	&ch_cmd_top,
	&ch_cmd_path,
	&ch_cmd_referrers,
	&ch_cmd_referents,
	&ch_cmd_find,
	&ch_cmd_show,
	&ch_cmd_tasks,
	&ch_cmd_anomalies,
	&ch_cmd_memory,
	&ch_cmd_snapshot,
	&ch_cmd_index,
	&ch_cmd_diff,
	&ch_cmd_layout,
};

static void usage(FILE *out)
{
	fprintf(out, "usage: coreheap [--version] [--help] COMMAND [options] CORE\n\n"
		     "Reads an ELF core dump of a CPython 3.6-3.13, 3.14.5+ or 3.15 process (x86_64 or aarch64 Linux) with no debugger.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *s = commands[i]->summary;
		const char *nl = strchr(s, '\n');
		fprintf(out, "  %-10s %.*s\n", commands[i]->name, nl ? (int)(nl - s) : (int)strlen(s), s);
	}
	fprintf(out, "\nRun 'coreheap COMMAND --help' for a command's options and examples.\n"
		     "Exit codes: 0 ok, 1 a --fail-if condition held, 2 usage, 3 unreadable input, 4 unsupported input, 5 partial result, 6 internal.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CH_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CH_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		/* "coreheap X.Y.Z" first, then the build's git description if any. */
		if (CH_GIT_DESCRIBE[0])
			printf("coreheap %s (git %s)\n", CH_VERSION, CH_GIT_DESCRIBE);
		else
			printf("coreheap %s\n", CH_VERSION);
		return CH_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i]->name) == 0)
		{
			ch_session_set_argv(argv);
			int code = commands[i]->run(commands[i], argc - 1, argv + 1);
#if CH_SANITIZED
			/* See ch_native_libdw_loaded: skip the exit handlers of
			 * libdw's namespace (LeakSanitizer's check goes with them
			 * for such a run only). */
			if (ch_native_libdw_loaded()) {
				fflush(NULL);
				_exit(code);
			}
#endif
			return code;
		}
	/* The closest command (at most two edits, or one the word starts), if any. */
	const char *near = NULL;
	size_t best = 3;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		size_t d = strncmp(commands[i]->name, argv[1], strlen(argv[1])) == 0 && argv[1][0] ? 1 : ch_edit_distance(argv[1], commands[i]->name, 9);
		if (d < best) {
			best = d;
			near = commands[i]->name;
		}
	}
	if (near)
		fprintf(stderr, "coreheap: '%s' is not a command; did you mean '%s'? See 'coreheap --help'.\n", argv[1], near);
	else
		fprintf(stderr, "coreheap: '%s' is not a command. See 'coreheap --help'.\n", argv[1]);
	return CH_EXIT_USAGE;
}
