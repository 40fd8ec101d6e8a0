/* bench/bench.h (private to bench/): the subcommands of tern-bench, one
 * entry point each, called by main.c with argv[0] the subcommand's name. */
#ifndef TERN_BENCH_H
#define TERN_BENCH_H

/* `tern-bench log`: the storage engine's append and read throughput beside
 * plain-syscall baselines. Returns the process exit status. */
int bench_log_main(int argc, char **argv);

#endif
