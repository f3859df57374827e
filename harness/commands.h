/* commands.h: the lcx subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit code: 0 success,
 * 1 a negative verdict (a failed check), 2 bad input or any error. */
#ifndef LCX_COMMANDS_H
#define LCX_COMMANDS_H

int lcx_cmd_gen(int argc, char **argv);
int lcx_cmd_run(int argc, char **argv);
int lcx_cmd_complete(int argc, char **argv);
int lcx_cmd_probe(int argc, char **argv);
int lcx_cmd_report(int argc, char **argv);
int lcx_cmd_check(int argc, char **argv);
int lcx_cmd_score(int argc, char **argv);
int lcx_cmd_serve(int argc, char **argv);
int lcx_cmd_sweep(int argc, char **argv);
int lcx_cmd_tasks(int argc, char **argv);
int lcx_cmd_tokenize(int argc, char **argv);
int lcx_cmd_train(int argc, char **argv);

#endif
