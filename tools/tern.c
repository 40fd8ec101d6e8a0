/* tools/tern.c: the `tern` CLI: `tern <command> [args]`, dispatched through
 * a table of commands; each command parses its own options. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"

/* Every command of `tern`, in the order `tern --help` lists them. */
static const cli_command_t *const commands[] = {
    &cli_topic_command,	  &cli_produce_command, &cli_consume_command,
    &cli_cluster_command, &cli_elect_command,	&cli_dump_log_command,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("usage: tern <command> [options] [args]\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n"
	      "Run 'tern <command> --help' for a command's options.\n",
	      f);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nRun 'tern --help' for the list of commands.\n", stderr);
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (name[0] == '-')
		return usage_error("unknown option '%s' (options go after the command)", name);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i]->name) == 0)
			return commands[i]->run(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", name);
}
