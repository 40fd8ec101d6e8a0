/* bench/bench.h (private to bench/): the subcommands of tern-bench, one
 * entry point each, called by main.c with argv[0] the subcommand's name. */
#ifndef TERN_BENCH_H
#define TERN_BENCH_H

/* `tern-bench log`: the storage engine's append and read throughput beside
 * plain-syscall baselines. Returns the process exit status. */
int bench_log_main(int argc, char **argv);

/* `tern-bench produce`, `consume` and `e2e` (client_bench.c): libtern's
 * producer and consumer against a running broker, in the form of Kafka's
 * perf tools. Each returns the process exit status. */
int bench_produce_main(int argc, char **argv);
int bench_consume_main(int argc, char **argv);
int bench_e2e_main(int argc, char **argv);

#endif
