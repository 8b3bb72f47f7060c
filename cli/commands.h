/* One file per subcommand (cli/cmd_*.c), git builtin/ style. */
#ifndef CH_COMMANDS_H
#define CH_COMMANDS_H

#include "options.h"

extern const struct ch_cli_command ch_cmd_info;
extern const struct ch_cli_command ch_cmd_types;
extern const struct ch_cli_command ch_cmd_cycles;
extern const struct ch_cli_command ch_cmd_summary;
extern const struct ch_cli_command ch_cmd_stacks;
extern const struct ch_cli_command ch_cmd_referents;
extern const struct ch_cli_command ch_cmd_referrers;
extern const struct ch_cli_command ch_cmd_find;
extern const struct ch_cli_command ch_cmd_roots;
extern const struct ch_cli_command ch_cmd_anomalies;
extern const struct ch_cli_command ch_cmd_show;
extern const struct ch_cli_command ch_cmd_snapshot;
extern const struct ch_cli_command ch_cmd_diff;
extern const struct ch_cli_command ch_cmd_top;
extern const struct ch_cli_command ch_cmd_path;
extern const struct ch_cli_command ch_cmd_layout;
extern const struct ch_cli_command ch_cmd_memory;
extern const struct ch_cli_command ch_cmd_tasks;
extern const struct ch_cli_command ch_cmd_suspects;
extern const struct ch_cli_command ch_cmd_report;
extern const struct ch_cli_command ch_cmd_index;

#endif
