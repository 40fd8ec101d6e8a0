/* tools/cli.h: what the commands of the `tern` CLI share: the command table
 * entry, exit statuses, error reporting, option parsing, the printing of
 * record bytes as text or JSON, and the connection to brokers (-b) of the
 * commands that talk to them. Private to tools/. */
#ifndef TERN_TOOLS_CLI_H
#define TERN_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/admin.h"

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

/* The program that names itself in messages: "tern" unless main() of
 * another tool built from these helpers (tern-cluster) sets it first. */
extern const char *cli_program;

/* Prints "<program> <cmd>: <message>" and a newline on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "<program> <cmd>: <message>" and where to find the command's usage on
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

/* ------------------------------------------------------------------------ */
/* Commands that talk to brokers                                              */

#define CLI_DEFAULT_BOOTSTRAP "tcp://127.0.0.1:9700"

/* How long a command waits for a broker to accept its connection before
 * it says the broker cannot be reached (socket.connection.setup.timeout.ms;
 * libtern's default of 10 s is long for a command typed by hand). */
#define CLI_CONNECT_TIMEOUT_MS "5000"

/* The lines every such command's --help ends with. */
#define CLI_BOOTSTRAP_HELP                                                                         \
	"  -b, --bootstrap URL[,URL...]  brokers to ask first (default " CLI_DEFAULT_BOOTSTRAP     \
	")\n"                                                                                      \
	"  -h, --help                    print this help\n"

/* A conf whose bootstrap.servers is bootstrap (a comma-separated list of
 * tcp://HOST:PORT), with the CLI's connection timeout; NULL after
 * reporting what is wrong, with the exit status in *status (CLI_EXIT_USAGE
 * for a bad bootstrap). The caller owns the conf. */
tern_conf_t *cli_conf_new(const char *cmd, const char *bootstrap, int *status);

/* An admin client for bootstrap; NULL after reporting why not, with the
 * exit status in *status. The caller owns it (tern_admin_destroy()). */
tern_admin_t *cli_admin_new(const char *cmd, const char *bootstrap, int *status);

/* Reports a failed libtern call: "tern <cmd>: <errstr>" and, on a second
 * line, what to do about err (start a broker, list the topics, ...). */
void cli_report(const char *cmd, tern_err_t err, const char *errstr, const char *bootstrap);

/* Parses a whole decimal number in [min, max] into *out; false when s is
 * not one. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/* The commands. */
extern const cli_command_t cli_topic_command;
extern const cli_command_t cli_produce_command;
extern const cli_command_t cli_consume_command;
extern const cli_command_t cli_cluster_command;
extern const cli_command_t cli_dump_log_command;
extern const cli_command_t cli_elect_command;

#endif
