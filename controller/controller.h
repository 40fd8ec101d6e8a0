/* controller/controller.h: the controller of a Tern cluster, the one public
 * header of controller/ (DESIGN.md decision 7; KAFKA-REFERENCE.md §3).
 *
 * The controller owns the cluster metadata: which brokers are registered
 * and alive, which topics exist with which settings, and every partition's
 * replicas, leader, leader epoch, partition epoch and ISR (one isr_ctl_t
 * each: isr/ decides every election and ISR change, this module keeps the
 * records, the broker sessions and the store). Brokers talk to it with
 * Tern's inter-broker messages (proto/msg_cluster.h) and forward the admin
 * APIs to it (CreateTopics, DeleteTopics, AlterConfigs,
 * IncrementalAlterConfigs, ElectLeaders); ctl_handle() answers one such
 * frame, whether it came over the network or from the broker in the same
 * process (ternd --dev).
 *
 * Brokers learn the metadata from the answers to their heartbeats: every
 * change bumps the metadata version, and a heartbeat that names an older
 * version gets the whole image.
 *
 * Persistence goes through a ctl_store_t: every change is saved before it
 * is answered or shown to any broker. A failed save (a full disk; a deposed
 * controller under ZooKeeper) undoes the change: the controller reloads its
 * state from the store and answers the request with an error.
 *
 * Thread-safe: one mutex guards the whole state; no call blocks on the
 * network while holding it, only on the store. */
#ifndef TERN_CONTROLLER_H
#define TERN_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/config.h"
#include "isr/isr.h"
#include "proto/proto.h"
#include "tern/errors.h"

/* Where the controller keeps the metadata: the whole image as one text
 * (ctl_t's format, see controller.c), loaded once and replaced on every
 * change. save() must be atomic and durable before it returns, and must
 * refuse (TERN_ERR_NOT_CONTROLLER) once this process is no longer the
 * controller. load() gives *text = NULL for an empty store (a new cluster).
 * *text is malloc()ed; the caller frees it. */
typedef struct ctl_store {
	tern_err_t (*load)(struct ctl_store *s, char **text, size_t *len, char *errstr,
			   size_t errlen);
	tern_err_t (*save)(struct ctl_store *s, const char *text, size_t len);
	void (*close)(struct ctl_store *s);
} ctl_store_t;

/* The embedded store (metadata.store=embedded): the file `path`, replaced
 * atomically and durably (log_durable_replace). */
tern_err_t ctl_store_file_new(const char *path, ctl_store_t **out);

typedef struct ctl_config {
	int32_t controller_id;	    /* the broker id Metadata names as controller; -1 none */
	int32_t session_timeout_ms; /* broker.session.timeout.ms */
	int32_t heartbeat_interval_ms;
	/* Defaults of topics: num.partitions, default.replication.factor and
	 * the keys topic settings inherit. Borrowed for the ctl_t's life. */
	const broker_config_t *broker;
} ctl_config_t;

typedef struct ctl ctl_t;

/* Opens the controller on store (taking it over; closed by ctl_close) and
 * loads the state it holds. Brokers the store names count as registered
 * but unheard of: each must heartbeat (or register anew) within a session
 * timeout from now, or it is fenced. */
tern_err_t ctl_open(const ctl_config_t *cfg, ctl_store_t *store, int64_t now_ms, ctl_t **out,
		    char *errstr, size_t errlen);
void ctl_close(ctl_t *c);

/* The cluster id (generated with the first state). */
const char *ctl_cluster_id(const ctl_t *c);

/* The metadata version: bumped by every change; each controller starts
 * its count at the wall clock in microseconds, away from any version an
 * earlier controller's brokers may still hold. */
int64_t ctl_version(ctl_t *c);

/* Answers one request frame (request header + body) addressed to the
 * controller: the inter-broker keys 1000-1004 and the forwarded admin
 * APIs. *resp gets the response frame (header + body), malloc()ed, or
 * NULL when the request must be dropped (an unreadable header: the sender's
 * connection is then broken, as Kafka would close it). Never fails on what
 * the frame holds: bad bodies get Kafka's errors. */
tern_err_t ctl_handle(ctl_t *c, const uint8_t *req, size_t len, int64_t now_ms, uint8_t **resp,
		      size_t *resp_len);

/* Whether the controller answers api_key (the sets ctl_handle knows). */
bool ctl_handles(int16_t api_key);

/* Time passed: fences brokers whose session expired (each leaves every
 * ISR, and the partitions they led elect anew). */
void ctl_tick(ctl_t *c, int64_t now_ms);

/* ---- direct calls, used by ctl_handle and by tests ---- */

/* A broker registers (BrokerRegistration). A retry of the same incarnation
 * gets the same epoch back. A new incarnation while the old one's session
 * is live: DUPLICATE_BROKER_REGISTRATION (two processes with one id, or a
 * restart before the old session ended: retry later). Otherwise a new
 * broker epoch: a restart (DESIGN.md decision 10: every partition it led
 * elects anew; under async without a clean shutdown it leaves every ISR). */
tern_err_t ctl_register(ctl_t *c, int32_t id, int64_t incarnation, const char *host, int32_t port,
			bool clean_shutdown, int64_t now_ms, int64_t *epoch);

/* A heartbeat: STALE_BROKER_EPOCH when epoch is not the broker's current
 * registration (it must register again). Unfences a fenced broker, starts
 * its controlled shutdown when want_shutdown; *shutdown_done once it leads
 * nothing another replica could lead (it is then fenced at once, so that
 * it may register again as soon as it restarts). */
tern_err_t ctl_heartbeat(ctl_t *c, int32_t id, int64_t epoch, bool want_shutdown, int64_t now_ms,
			 bool *fenced, bool *shutdown_done);

/* Creates a topic: assigns npart partitions of rf replicas round-robin over
 * the live brokers (the first broker varied per topic), elects the first
 * replica of each, saves. npart/rf -1: the broker defaults. Errors with
 * Kafka's codes and a message in why: TOPIC_ALREADY_EXISTS,
 * INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR
 * (above the live brokers), INVALID_CONFIG. validate_only: check only. */
tern_err_t ctl_create_topic(ctl_t *c, const char *name, int32_t npart, int32_t rf,
			    const tern_conf_kv_t *configs, size_t nconfigs, bool internal,
			    bool validate_only, char *why, size_t whylen);

tern_err_t ctl_delete_topic(ctl_t *c, const char *name);

/* Replaces every override of a topic (AlterConfigs) with configs. */
tern_err_t ctl_set_topic_configs(ctl_t *c, const char *name, const tern_conf_kv_t *configs,
				 size_t nconfigs, bool validate_only, char *why, size_t whylen);

/* An ISR change from the leader (AlterPartition): see isr_ctl_alter. The
 * sender's broker epoch must be its registration's (STALE_BROKER_EPOCH).
 * *st gets the partition's state after the call (also on the errors that
 * tell the leader it is stale). */
tern_err_t ctl_alter_partition(ctl_t *c, int32_t broker_id, int64_t broker_epoch, const char *topic,
			       int32_t partition, const isr_alter_t *req, isr_leader_and_isr_t *st);

/* A broker reports one of its replicas corrupt, or healthy again. */
tern_err_t ctl_replica_health(ctl_t *c, int32_t broker_id, int64_t broker_epoch, const char *topic,
			      int32_t partition, bool corrupt);

/* An operator's election (ElectLeaders): see isr_ctl_elect. */
tern_err_t ctl_elect(ctl_t *c, const char *topic, int32_t partition, isr_election_t type);

/* A block of producer ids for broker_id: [*start, *start + *len). */
tern_err_t ctl_allocate_producer_ids(ctl_t *c, int32_t broker_id, int64_t broker_epoch,
				     int64_t *start, int32_t *len);

/* Figures for metrics: partitions without a leader, elections and unclean
 * elections since this controller opened. */
typedef struct ctl_stats {
	int64_t offline_partitions;
	uint64_t elections;
	uint64_t unclean_elections;
} ctl_stats_t;

void ctl_get_stats(ctl_t *c, ctl_stats_t *out);

/* The state of one partition, for tests and describe. _INVALID_ARG when
 * there is no such partition. */
tern_err_t ctl_partition_state(ctl_t *c, const char *topic, int32_t partition,
			       isr_leader_and_isr_t *st, isr_mode_t *mode);

/* ======================================================================== */
/* ZooKeeper (metadata.store=zookeeper; controller/zk.c)                    */
/*                                                                          */
/* One ZooKeeper session per broker process, with the nodes Kafka uses:    */
/*   /brokers/ids/<id>   ephemeral, data "tcp://HOST:PORT": registration   */
/*   /controller         ephemeral, data {"version":1,"brokerid":<id>,...} */
/*   /controller_epoch   persistent, the epoch as decimal text             */
/*   /tern/metadata      persistent, the controller's text (ctl_store_t)   */
/* A controller wins by creating /controller and bumping /controller_epoch */
/* in one multi(); every save it makes is a multi() that first checks the  */
/* version of /controller_epoch it set, so a deposed controller (a later   */
/* election bumped the epoch) can no longer write. A chroot in the connect */
/* string ("h1:p1,h2:p2/tern/prod") is created when missing.               */
/*                                                                          */
/* Thread-safe: every call may come from any thread; one mutex serialises  */
/* them (each holds it across its synchronous zoo_* calls, never while     */
/* waiting for a connection). A session that expires is replaced by a new  */
/* one in the background, and the registration made again; the controller */
/* role is lost with it. Calls made while the session is disconnected     */
/* fail fast (NETWORK_EXCEPTION) rather than wait, except the store's,     */
/* which wait up to the session timeout for the connection to return.     */
/* ======================================================================== */

typedef struct ctl_zk ctl_zk_t;

/* The largest metadata text the store writes: ZooKeeper refuses requests
 * above jute.maxbuffer (1 MiB - 1 by default) on the server. */
#define CTL_ZK_MAX_METADATA 1000000

/* Connects to connect ("host:port[,host:port...][/chroot]") with a session
 * of session_timeout_ms (the server bounds it to 2..20 ticks), waits for the
 * session (deadline: twice the session timeout), creates the persistent
 * paths and registers broker_id: the ephemeral /brokers/ids/<id> holding
 * url. When that node is held by another session (the previous life of
 * this broker, not yet expired), waits for it to go, up to three session
 * timeouts from the start: then DUPLICATE_BROKER_REGISTRATION. Errors:
 * _INVALID_ARG (bad arguments or connect string), _TIMED_OUT (no session),
 * NETWORK_EXCEPTION, with a message in errstr. */
tern_err_t ctl_zk_open(const char *connect, int32_t session_timeout_ms, int32_t broker_id,
		       const char *url, ctl_zk_t **out, char *errstr, size_t errlen);

/* Resigns if controller (deletes /controller when this session holds it)
 * and closes the session: its ephemeral nodes go at once. Stores made on z
 * must be closed first. NULL is a no-op. */
void ctl_zk_close(ctl_zk_t *z);

/* The current controller's broker id, and its registered url into url
 * (empty when it has none); -1 when there is no controller or ZooKeeper
 * cannot be asked now. Two reads; meant to be polled (each heartbeat). */
int32_t ctl_zk_controller(ctl_zk_t *z, char *url, size_t urllen);

/* Tries to become controller: in one multi(), creates the ephemeral
 * /controller naming this broker and sets /controller_epoch to one more
 * (version-checked; created at 1 when missing). TERN_OK with the new epoch
 * in *epoch, or the current one when this session is controller already;
 * NOT_CONTROLLER when another broker holds /controller;
 * NETWORK_EXCEPTION when disconnected. */
tern_err_t ctl_zk_elect(ctl_zk_t *z, int64_t *epoch);

/* Whether this process is controller: it won an election, its session
 * still holds /controller, and no save found the epoch moved. While
 * disconnected: true until the session timeout has passed since the
 * connection was lost (the server would have expired the session). One
 * read of /controller when connected. */
bool ctl_zk_is_controller(ctl_zk_t *z);

/* The epoch of the current reign; -1 when not controller. No I/O. */
int64_t ctl_zk_epoch(ctl_zk_t *z);

/* A ctl_store_t on /tern/metadata for ctl_open. load() reads the node
 * (NULL text when absent). save() is one multi(): check /controller_epoch
 * at the version this controller's election set, then set (or create)
 * /tern/metadata. The store belongs to the reign current when it is made:
 * make it after ctl_zk_elect succeeded. A store made while not controller
 * only loads. save() refuses with NOT_CONTROLLER when that reign is over
 * (this process lost /controller or its session, or the epoch moved: then
 * z stops being controller too), with MESSAGE_TOO_LARGE above
 * CTL_ZK_MAX_METADATA bytes (ctl_zk_last_error says so), and with
 * NETWORK_EXCEPTION when ZooKeeper cannot be reached within a session
 * timeout (the write may or may not have happened). The store borrows z:
 * close() frees only the store. */
tern_err_t ctl_zk_store_new(ctl_zk_t *z, ctl_store_t **out);

/* The ids of the brokers registered now (their ephemeral nodes exist),
 * ascending, in *ids (malloc()ed, NULL when *n is 0; the caller frees). */
tern_err_t ctl_zk_brokers(ctl_zk_t *z, int32_t **ids, size_t *n);

/* The message of the latest failure of a call on z (empty when none). */
void ctl_zk_last_error(ctl_zk_t *z, char *buf, size_t len);

/* This session's id and password (ZooKeeper's clientid_t), for tests that
 * expire the session by closing a second handle opened on it. false when
 * there is no session. */
bool ctl_zk_session(ctl_zk_t *z, int64_t *id, char passwd[16]);

#endif
