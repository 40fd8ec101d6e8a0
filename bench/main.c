/* bench/main.c: tern-bench, Tern's benchmarks; dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tern-bench log [--dir DIR] [--mib N] [--json] [--quick]\n"
		   "       tern-bench produce --topic T --num-records N --record-size S [...]\n"
		   "       tern-bench consume --topic T --messages N [-b URL] [--json]\n"
		   "       tern-bench e2e --topic T --num-records N --record-size S [-b URL] "
		   "[--json]\n"
		   "       tern-bench SUBCOMMAND --help\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "log") == 0)
		return bench_log_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "produce") == 0)
		return bench_produce_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "consume") == 0)
		return bench_consume_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "e2e") == 0)
		return bench_e2e_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "tern-bench: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
