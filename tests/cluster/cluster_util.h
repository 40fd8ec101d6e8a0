/* tests/cluster/cluster_util.h: a real cluster for the cluster suite: one
 * controller-only ternd (or, after cu_use_zookeeper, a ZooKeeper server with
 * brokers under metadata.store=zookeeper) and N brokers on free ports under
 * one tt_mkdtemp directory, each process in its own process group with its
 * output in files; kill, stop, cont, restart helpers; waits on the
 * controller's committed partition state (its metadata file, or the znode
 * /tern/metadata) with deadlines; and a reader of a replica's segment files
 * for comparing replicas batch by batch. */
#ifndef TERN_TESTS_CLUSTER_UTIL_H
#define TERN_TESTS_CLUSTER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zkserver.h"

#define CU_MAX_BROKERS	 5
#define CU_CONTROLLER_ID 100

/* One ternd process: the controller or a broker. */
typedef struct cu_proc {
	int32_t id;
	pid_t pid;    /* -1: not running */
	bool stopped; /* SIGSTOPped and not yet continued */
	char url[64]; /* its listener, the same across restarts */
	char *dir;    /* its data directory (log.dirs) */
	char *out;    /* standard output, truncated at each start */
	char *err;    /* standard error, appended across restarts */
	int starts;
} cu_proc_t;

typedef struct cu_cluster {
	char *dir;
	int n; /* brokers: ids 1..n, br[id - 1] */
	int session_ms;
	int heartbeat_ms;
	int lag_ms;
	const char *extra[8]; /* more --key=value for every broker (borrowed) */
	int nextra;
	cu_proc_t ctl; /* not started under ZooKeeper */
	cu_proc_t br[CU_MAX_BROKERS];
	bool zookeeper;	   /* metadata.store=zookeeper (cu_use_zookeeper) */
	int zk_session_ms; /* the brokers' zookeeper.session.timeout.ms */
	tt_zk_t zk;	   /* the server, in dir/zk */
	void *zh;	   /* a zhandle_t * reading the metadata, opened on first use */
	char bootstrap[CU_MAX_BROKERS * 64]; /* every broker's url, comma-separated */
} cu_cluster_t;

/* The directory of this run's clusters: call cu_root_init in main() before
 * the runner starts, cu_root_fini after it. A failed assertion ends a
 * forked Check test at once (_exit: no teardown, no atexit), so every
 * TCase holds one test and has cu_reap_leftovers as its unchecked
 * teardown, which runs in the runner: it kills the processes a failed test
 * left (they also die with it through PR_SET_PDEATHSIG, and with the pid
 * namespace), prints the tail of each one's log and removes the
 * directory (kept under TERN_KEEP_DIRS=1). */
void cu_root_init(void);
void cu_root_fini(void);
void cu_reap_leftovers(void);

/* Fills c for n brokers with short timeouts (session 1500 ms, heartbeat
 * 100 ms, replica lag 1500 ms), free ports and a fresh directory under the
 * root; the caller may change the timeouts and add extra before cu_start. */
void cu_init(cu_cluster_t *c, int n, const char *tag);
/* Makes c (after cu_init, before cu_start) a cluster under ZooKeeper: a
 * server on a free port instead of the controller process, brokers with
 * metadata.store=zookeeper and zookeeper.session.timeout.ms=session_ms.
 * Call tt_zk_require() in main() first: a forked case cannot skip. */
void cu_use_zookeeper(cu_cluster_t *c, int session_ms);
/* Under ZooKeeper: the broker /controller names, -1 when none. */
int32_t cu_zk_controller(cu_cluster_t *c);
/* Starts the controller (or ZooKeeper), then every broker, and waits until
 * each is listening and registered. */
void cu_start(cu_cluster_t *c);
/* Kills what still runs and removes the directory. */
void cu_fini(cu_cluster_t *c);

/* Broker id's process. */
cu_proc_t *cu_broker(cu_cluster_t *c, int32_t id);
/* Starts broker id (again) on its directory and listener and waits until it
 * listens and the controller has registered this incarnation. */
void cu_broker_start(cu_cluster_t *c, int32_t id);
/* SIGKILL to its process group, then waitpid. */
void cu_broker_kill(cu_cluster_t *c, int32_t id);
/* SIGSTOP / SIGCONT to its process group. */
void cu_broker_stop(cu_cluster_t *c, int32_t id);
void cu_broker_cont(cu_cluster_t *c, int32_t id);
/* SIGTERM and waits (deadline) for its exit; returns the exit status. */
int cu_broker_term(cu_cluster_t *c, int32_t id);

/* The controller's committed state of one partition, read from its
 * metadata file (tern-controller in its data directory). */
typedef struct cu_part {
	int32_t leader; /* -1: none (offline) */
	int32_t leader_epoch;
	int32_t partition_epoch;
	bool recovering;
	int64_t unclean;
	int32_t replicas[CU_MAX_BROKERS];
	int nreplicas;
	int32_t isr[CU_MAX_BROKERS];
	int nisr;
} cu_part_t;

/* Reads the partition's state; false when the file or partition is not
 * there (yet). */
bool cu_part_read(cu_cluster_t *c, const char *topic, int32_t part, cu_part_t *out);
bool cu_part_in_isr(const cu_part_t *p, int32_t id);

/* Waits until pred holds for the partition's state (deadline: deadline_ms
 * times CK_TIMEOUT_MULTIPLIER), fails the test with what and the last state
 * otherwise; returns the state that satisfied it. */
typedef bool (*cu_pred_t)(const cu_part_t *p, const void *arg);
cu_part_t cu_wait_part(cu_cluster_t *c, const char *topic, int32_t part, cu_pred_t pred,
		       const void *arg, int deadline_ms, const char *what);

/* Common waits (deadline: 20 session timeouts). */
/* A leader other than not_leader (-1: any) with leader epoch > epoch_gt. */
cu_part_t cu_wait_leader(cu_cluster_t *c, const char *topic, int32_t part, int32_t not_leader,
			 int32_t epoch_gt);
/* The ISR has n members. */
cu_part_t cu_wait_isr_size(cu_cluster_t *c, const char *topic, int32_t part, int n);
/* id is (in == true) or is not in the ISR. */
cu_part_t cu_wait_isr_has(cu_cluster_t *c, const char *topic, int32_t part, int32_t id, bool in);
/* No leader. */
cu_part_t cu_wait_offline(cu_cluster_t *c, const char *topic, int32_t part);

/* Polls cond(arg) until it holds or the deadline (times
 * CK_TIMEOUT_MULTIPLIER) passes; fails the test with what then. */
void cu_wait_until(bool (*cond)(void *arg), void *arg, int deadline_ms, const char *what);

/* The multiplier of deadlines: CK_TIMEOUT_MULTIPLIER, at least 1. */
int cu_mult(void);

/* Creates a topic with rf replicas through broker via (the controller
 * assigns round-robin), configs as "key=value" strings, and waits until
 * the controller has a leader for every partition and every broker knows
 * it (Metadata). */
void cu_create_topic(cu_cluster_t *c, const char *topic, int32_t partitions, int16_t rf,
		     const char *const *configs, int nconfigs);

/* One batch of a replica's log as stored. */
typedef struct cu_batch {
	int64_t base_offset;
	int64_t last_offset;
	int32_t leader_epoch;
	uint32_t crc;
	int32_t length;
} cu_batch_t;

/* Reads every segment of topic-part in broker id's data directory, in
 * base-offset order, up to the first unreadable batch; every batch's CRC
 * is checked (a mismatch fails the test). *out is malloc()ed. */
void cu_read_replica(cu_cluster_t *c, int32_t id, const char *topic, int32_t part, cu_batch_t **out,
		     size_t *n);
/* Checks that the two replicas hold identical batches (offsets, size,
 * epoch, CRC) for every offset below hwm, and that both reach hwm. */
void cu_ck_same_below(cu_cluster_t *c, int32_t a, int32_t b, const char *topic, int32_t part,
		      int64_t hwm);

/* How many lines of process p's stderr contain needle. */
int cu_count_in_err(const cu_proc_t *p, const char *needle);

#endif
