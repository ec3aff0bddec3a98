// The `gan` command's subcommands. Each parses its own arguments and returns the process exit
// status: 0 success, 2 usage or config errors, 1 runtime failures. Errors are printed by the
// subcommand as one line "gan CMD: error: ...".
#pragma once

int gan_cmd_train(int argc, char **argv);
int gan_cmd_sample(int argc, char **argv);
int gan_cmd_info(int argc, char **argv);
int gan_cmd_bench(int argc, char **argv);
int gan_cmd_eval(int argc, char **argv);
int gan_cmd_report(int argc, char **argv);
int gan_cmd_runs(int argc, char **argv);

// Prints "gan CMD: error: MSG" to stderr and returns err->code.
struct gan_err;
int gan_cli_fail(const char *cmd, const struct gan_err *err);
