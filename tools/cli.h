/* tools/cli.h: what the commands of the `tern` CLI share: the command table
 * entry, exit statuses, error reporting, option parsing and the printing of
 * record bytes as text or JSON. Private to tools/. */
#ifndef TERN_TOOLS_CLI_H
#define TERN_TOOLS_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every command. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,  /* the command ran and failed (or found corruption) */
	CLI_EXIT_USAGE = 2, /* the command line is wrong; nothing was done */
};

/* One entry of the command table in tern.c. run() gets argv[0] = the
 * command's name, answers --help itself and returns an exit status. */
typedef struct cli_command {
	const char *name;
	const char *summary; /* one line for `tern --help` */
	int (*run)(int argc, char **argv);
} cli_command_t;

/* Prints "tern <cmd>: <message>" and a newline on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "tern <cmd>: <message>" and where to find the command's usage on
 * stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long() over argv (argv[0] is the command's name) with Tern's own
 * messages instead of getopt's: returns the next option's val, -1 after the
 * last option (optind is then the first operand), or -2 after reporting an
 * unknown option or a missing argument through cli_usage_error() (the
 * caller returns CLI_EXIT_USAGE). shortopts starts with ':', which makes
 * getopt tell a missing argument apart from an unknown option. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Prints bytes for people: null when p is NULL, else a double-quoted string
 * in which printable ASCII stands for itself, '"' and '\' are
 * backslash-escaped and every other byte is \xNN. */
void cli_put_text_bytes(FILE *f, const uint8_t *p, size_t len);

/* Prints bytes as a JSON value: null when p is NULL; a JSON string when the
 * bytes are valid UTF-8; otherwise {"base64":"..."} so that no byte is lost. */
void cli_put_json_bytes(FILE *f, const uint8_t *p, size_t len);

/* cli_put_json_bytes() for a NUL-terminated string. */
void cli_put_json_str(FILE *f, const char *s);

/* The commands. */
extern const cli_command_t cli_dump_log_command;

#endif
