/* tests/fault/fcluster.h: a Tern cluster inside a lab (lab.h) for the fault
 * harness: host 0 runs a ZooKeeper server (TESTING.md: the fault suite runs
 * the brokers against ZooKeeper so that any broker, the controller's
 * included, may be faulted), hosts 1..n run broker i at
 * tcp://lab_addr(i):9092 with metadata.store=zookeeper, and the last host
 * (n + 1) is the clients' host. Each broker's data directory is DIR/i/data,
 * its output DIR/i/ternd.log (appended across restarts).
 *
 * Process nemeses: kill -9 and restart, SIGSTOP and SIGCONT, SIGTERM
 * (controlled shutdown), clock skew (the broker restarted under
 * `faketime --exclude-monotonic`), a full disk (data directory on a small
 * private tmpfs, filled by a file the harness writes through
 * /proc/PID/root; the tmpfs lives in a mount namespace that a sleeping
 * process holds and each incarnation of ternd joins through nsenter, so
 * that a restart keeps the data). The state queries read what the controller committed
 * (ZooKeeper /tern/metadata, through the ZooKeeper C client) and what the
 * brokers answer.
 *
 * The harness itself is a client: fc_start moves the calling thread into the
 * clients' host (lab_enter), so call it from the main thread before any
 * other thread exists (nanomsg's and ZooKeeper's threads then start there).
 * Like the lab, one thread at a time calls a cluster's functions.
 *
 * Library code: nothing prints; -1 with the reason in why on failure. */
#ifndef TERN_TESTS_FAULT_FCLUSTER_H
#define TERN_TESTS_FAULT_FCLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab.h"

#define FC_MAX_BROKERS 5

typedef struct fc_opts {
	int brokers;		  /* 3 */
	const char *dir;	  /* the run's directory (created) */
	const char *ternd;	  /* absolute path of ternd ($TERND by default) */
	int zk_session_ms;	  /* zookeeper.session.timeout.ms, 3000 */
	int session_ms;		  /* broker.session.timeout.ms, 3000 */
	int replica_lag_ms;	  /* replica.lag.time.max.ms, 3000 */
	const char *flush_policy; /* "sync" or "async" */
	const char *const *extra; /* more "key=value" for every broker, NULL-ended */
	size_t tmpfs_bytes;	  /* > 0: data directories on private tmpfs of this size */
	const char *durable_log;  /* non-NULL: a file name ("durable.log"); broker i
				   * gets TERN_TEST_DURABLE_LOG=DIR/i/NAME */
	bool loopback;		  /* a loopback lab (lab_new_loopback): no root needed,
				   * no network nemeses, no tmpfs */
} fc_opts_t;

/* Fills o with the defaults above. */
void fc_opts_default(fc_opts_t *o);

typedef struct fc_partition_state {
	int32_t leader; /* -1: none */
	int32_t leader_epoch;
	int32_t isr[FC_MAX_BROKERS];
	int nisr;
	int32_t elr[FC_MAX_BROKERS]; /* eligible leader replicas, if any */
	int nelr;
	bool recovering; /* elected uncleanly, still in mode recovery */
} fc_partition_state_t;

typedef struct fc_cluster fc_cluster_t;

/* Makes the lab (brokers + 2 hosts), enters the clients' host, starts
 * ZooKeeper (its files in DIR/zk) and the brokers, and waits until every
 * broker listens and is registered. */
fc_cluster_t *fc_start(const fc_opts_t *o, char *why, size_t whylen);
/* Stops everything (SIGKILL) and frees; keeps the files (but not what the
 * private tmpfs held). NULL is fine. */
void fc_stop(fc_cluster_t *c);

lab_t *fc_lab(fc_cluster_t *c);
int fc_client_host(const fc_cluster_t *c);
int fc_broker_host(const fc_cluster_t *c, int32_t id); /* = id */
/* "tcp://10.77.0.11:9092,..." */
const char *fc_bootstrap(const fc_cluster_t *c);
const char *fc_broker_dir(const fc_cluster_t *c, int32_t id); /* DIR/i */
/* The running incarnation's pid (ternd itself), -1 when none. Under a
 * private tmpfs its data directory is /proc/PID/root/DIR/i/data. */
pid_t fc_pid(const fc_cluster_t *c, int32_t id);

/* Creates a topic (through any live broker) and waits until every
 * partition has a leader. configs: "key=value" strings, NULL-ended. */
int fc_create_topic(fc_cluster_t *c, const char *topic, int partitions, int rf,
		    const char *const *configs, char *why, size_t whylen);

/* The committed state of topic-part (from ZooKeeper). */
int fc_partition_state(fc_cluster_t *c, const char *topic, int32_t part, fc_partition_state_t *st,
		       char *why, size_t whylen);
/* The broker holding /controller, -1 when none. */
int32_t fc_controller(fc_cluster_t *c);

/* Process nemeses on broker id. */
/* SIGKILL (and reaps), SIGTERM (continues a stopped broker, waits at most
 * 60 s for the exit, then SIGKILL: -1 with ETIMEDOUT), SIGSTOP, SIGCONT
 * (to its process group); -1 with errno otherwise. */
int fc_kill(fc_cluster_t *c, int32_t id, int sig);
bool fc_running(const fc_cluster_t *c, int32_t id);
/* Restarts a dead broker with its data and waits until it listens and has
 * registered anew; skew_s != 0: with libfaketime preloaded as by
 * `faketime --exclude-monotonic -f +Ns`, the wall clock moved by skew_s
 * seconds (monotonic clock untouched; not for an ASan build). */
int fc_restart(fc_cluster_t *c, int32_t id, int skew_s, char *why, size_t whylen);
/* Whether clock skew can be had (libfaketime installed); why not in why. */
bool fc_skew_available(char *why, size_t whylen);
/* Fills broker id's tmpfs (needs tmpfs_bytes > 0) to the last byte, or frees
 * what fc_fill_disk wrote. */
int fc_fill_disk(fc_cluster_t *c, int32_t id, char *why, size_t whylen);
int fc_free_disk(fc_cluster_t *c, int32_t id, char *why, size_t whylen);
/* Makes broker id's log I/O fail as spec says (log_fault_inject_spec() in
 * log/log.h: "write,fsync EIO", "read EIO 0 5", "clear"; ternd's
 * TERN_TEST_DISK_FAULTS, test builds), waiting (5 s) for its answer. The
 * faults end with "clear" or with the process: a restart has none. */
int fc_disk_errors(fc_cluster_t *c, int32_t id, const char *spec, char *why, size_t whylen);

/* Waits (at most timeout_ms) until pred(state, arg) holds for topic-part;
 * 0, or -1 with why (timeout: the last state in why). */
int fc_wait(fc_cluster_t *c, const char *topic, int32_t part,
	    bool (*pred)(const fc_partition_state_t *st, void *arg), void *arg, int timeout_ms,
	    char *why, size_t whylen);

#endif
