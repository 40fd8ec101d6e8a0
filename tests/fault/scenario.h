/* tests/fault/scenario.h: what a fault scenario of tern-chaos is made of
 * (TESTING.md, "Scenarios"): a cluster under ZooKeeper in a lab
 * (fcluster.h), a workload recording into a checker history (workload.h,
 * checker.h), and the steps of the scenario between the workload's start and
 * its drain. The runner (scenario.c) does the common part; each scenario is a
 * row of the table in scenarios.c with a body that injects its faults.
 *
 * One thread drives a run: the body calls the cluster's functions and waits
 * only through sc_sleep()/sc_wait*(), which poll the committed partition
 * state every SC_POLL_MS and put leader changes and ISR shrinks and
 * expansions on the history's timeline (the checker's times to elect, to
 * shrink and to re-expand come from those marks). Unclean elections are
 * counted at the end from the controllers' logs ("[election] ... UNCLEAN"),
 * which no poll can miss. */
#ifndef TERN_TESTS_FAULT_SCENARIO_H
#define TERN_TESTS_FAULT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "checker.h"
#include "fcluster.h"
#include "workload.h"

#define SC_MAX_PARTS 8
#define SC_POLL_MS   100
#define SC_TOPIC     "chaos"

typedef struct sc_ctx {
	fc_cluster_t *c;
	wl_t *wl;
	chk_history_t *h;
	int partitions;
	int brokers;
	int duration_s; /* how long the scenario's main phase should last */
	uint64_t rng;	/* the run's random state (from its seed) */
	const char *dir;
	FILE *out; /* progress lines */
	int64_t t0_ms;
	/* The last committed state seen of each partition (have[i] once read). */
	fc_partition_state_t last[SC_MAX_PARTS];
	bool have[SC_MAX_PARTS];
	/* What the body found wrong beyond the checker's figures (first one). */
	char violation[512];
} sc_ctx_t;

/* A scenario: its number in TESTING.md, a name for the command line, what
 * it does, and how its cluster and topic are set up. */
typedef struct scenario {
	int number;
	const char *name;
	const char *what;
	const char *flush_policy; /* "sync" or "async" */
	bool unclean;		  /* unclean.leader.election.enable */
	bool elr;		  /* eligible leader replicas */
	bool power;		  /* brokers keep a durable-positions trace */
	size_t tmpfs_bytes;	  /* > 0: data directories on private tmpfs */
	bool may_lose;		  /* lost, inconsistent offsets, unclean: reported, not held */
	bool network;		  /* uses partitions, loss or delay: needs network namespaces */
	int (*body)(sc_ctx_t *x, char *why, size_t whylen); /* 0, or -1 with why */
	/* ---- scenarios_env.c ---- */
	/* More topic configs ("key=value", NULL-ended; NULL: none). */
	const char *const *topic_configs;
	/* ---- end scenarios_env.c ---- */
} scenario_t;

/* ---- scenarios_env.c ---- */
/* What a body returns, with the reason in why, when this machine lacks
 * what it needs (libfaketime, ...): the run then ends with 77. */
#define SC_SKIP 77
/* ---- end scenarios_env.c ---- */

/* The table (scenarios.c). */
extern const scenario_t sc_table[];
extern const size_t sc_count;
const scenario_t *sc_find(const char *name);

typedef struct sc_run_opts {
	int duration_s; /* 0: the scenario's default */
	uint64_t seed;
	const char *dir; /* NULL: a new directory under $TMPDIR */
	bool keep;	 /* keep the directory even when the run passes */
	bool json;	 /* the JSON line ends the output */
	FILE *out;
} sc_run_opts_t;

/* Runs one scenario from a fresh cluster to the checker's verdict; prints
 * its progress and figures to o->out. 0 when it passed, 1 when it failed
 * (a figure or the body's own check), 2 when it could not run (then 77 when
 * the machine lacks what it needs: no root, no namespaces, no ZooKeeper). */
int sc_run(const scenario_t *s, const sc_run_opts_t *o);

/* ---- for bodies ---- */

/* A progress line, "[  12.3 s] ...". */
void sc_say(sc_ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a violation found by the body (the first is kept) and says it. */
void sc_violation(sc_ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A fault starts / is healed: a mark on the timeline and a line. */
void sc_fault(sc_ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_heal(sc_ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads every partition's committed state once and marks what changed. */
void sc_poll(sc_ctx_t *x);
/* Sleeps ms, polling. */
void sc_sleep(sc_ctx_t *x, int ms);
/* Polls until pred holds for partition part (or, with part < 0, for every
 * partition), at most timeout_ms: 0, or -1 with the last state in why. */
int sc_wait(sc_ctx_t *x, int32_t part, bool (*pred)(const fc_partition_state_t *st, void *arg),
	    void *arg, int timeout_ms, char *why, size_t whylen);
/* Polls until n more records than now are acknowledged: 0, or -1. */
int sc_wait_acks(sc_ctx_t *x, long n, int timeout_ms, char *why, size_t whylen);

/* Predicates for sc_wait. */
bool sc_has_leader(const fc_partition_state_t *st, void *arg);	   /* any */
bool sc_leader_not(const fc_partition_state_t *st, void *id);	   /* int32_t * */
bool sc_leader_gone(const fc_partition_state_t *st, void *id);	   /* int32_t *: other or none */
bool sc_isr_full(const fc_partition_state_t *st, void *brokers);   /* int * */
bool sc_isr_size_at_most(const fc_partition_state_t *st, void *n); /* int * */
bool sc_isr_lacks(const fc_partition_state_t *st, void *id);	   /* int32_t * */
bool sc_offline(const fc_partition_state_t *st, void *arg);	   /* no leader */

/* The session timeouts of fcluster.h's defaults, and ten times them for
 * what "within the session timeout" claims (TESTING.md). */
#define SC_SESSION_MS 3000
#define SC_CLAIM_MS   (10 * SC_SESSION_MS)

/* Waits until every partition has its whole ISR (2 x SC_CLAIM_MS). */
int sc_wait_full(sc_ctx_t *x, char *why, size_t whylen);
/* Partition part's leader, waiting for one (SC_CLAIM_MS); -1 on timeout. */
int32_t sc_wait_leader(sc_ctx_t *x, int32_t part, char *why, size_t whylen);
/* The time between faults: the duration spread over n of them, >= 1 s. */
int sc_gap_ms(sc_ctx_t *x, int n);
/* Cuts broker id off from every other host (brokers, ZooKeeper, clients),
 * or heals that. */
int sc_isolate(sc_ctx_t *x, int32_t id, bool cut, char *why, size_t whylen);

/* The directory of broker id's replica of part (under a private tmpfs,
 * through the running broker's /proc/PID/root): 0, or -1 when too long. */
int sc_part_dir(sc_ctx_t *x, int32_t id, int32_t part, char *buf, size_t len);

/* Partition part's leader as last polled (-1: none). */
int32_t sc_leader(sc_ctx_t *x, int32_t part);
/* A broker of partition part's replicas other than the ones given (the
 * lowest id), -1 when none. */
int32_t sc_other(sc_ctx_t *x, int32_t not1, int32_t not2);
/* Random integer in [0, n). */
uint64_t sc_rand(sc_ctx_t *x, uint64_t n);

#endif
