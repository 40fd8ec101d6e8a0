/* tern/admin.h: libtern's admin client: topics (create, delete, list,
 * describe with offsets and the partition's mode), topic configs (describe,
 * change single keys), the cluster (brokers, controller, offline
 * partitions) and leader elections. What the `tern` CLI's topic, cluster
 * and elect commands are built on.
 *
 *	tern_conf_t *conf = tern_conf_new();
 *	tern_conf_set(conf, "bootstrap.servers", "tcp://127.0.0.1:9700", err, sizeof(err));
 *	tern_admin_t *a = tern_admin_new(conf, err, sizeof(err));
 *	tern_admin_create_topic(a, "events", 3, -1, NULL, 0, err, sizeof(err));
 *	tern_admin_destroy(a);
 *
 * The admin client reads these keys of tern/conf.h: bootstrap.servers,
 * client.id, request.timeout.ms (the deadline of each request),
 * socket.connection.setup.timeout.ms (how long an unreachable broker is
 * waited for) and retry.backoff.ms (reconnect backoff). Every call is
 * synchronous; one thread at a time may use an admin client. Nothing here
 * prints: a call returns a tern_err_t and, on error, one human-readable
 * line in (errstr, errlen) that says what went wrong (the broker's own
 * message when it sent one). */
#ifndef TERN_ADMIN_H
#define TERN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/conf.h"
#include "tern/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_admin tern_admin_t;

/* Starts an admin client. Nothing is sent yet, so an unreachable broker is
 * only noticed by the first call. On success the client owns conf; on
 * error the caller keeps it and errstr says why (TERN_ERR__NOMEM, or a
 * bad bootstrap.servers from nanomsg). */
tern_admin_t *tern_admin_new(tern_conf_t *conf, char *errstr, size_t errlen);

/* Closes every connection and frees the client and its conf. NULL is fine. */
void tern_admin_destroy(tern_admin_t *a);

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

/* A topic config given at creation: name and value, both borrowed. */
typedef struct tern_admin_config {
	const char *name;
	const char *value;
} tern_admin_config_t;

/* Creates a topic on the controller. partitions and replication_factor
 * -1 take the broker's num.partitions and default.replication.factor.
 * Errors are the broker's: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, ...; and
 * NETWORK_EXCEPTION / REQUEST_TIMED_OUT when no broker answered. */
tern_err_t tern_admin_create_topic(tern_admin_t *a, const char *name, int32_t partitions,
				   int16_t replication_factor, const tern_admin_config_t *configs,
				   size_t nconfigs, char *errstr, size_t errlen);

/* Deletes a topic and its data. UNKNOWN_TOPIC_OR_PARTITION when there is no
 * such topic; INVALID_REQUEST for an internal topic. */
tern_err_t tern_admin_delete_topic(tern_admin_t *a, const char *name, char *errstr, size_t errlen);

/* One topic of tern_admin_list_topics(). */
typedef struct tern_topic_summary {
	char *name;
	int32_t partitions;
	int32_t replication_factor; /* replicas of partition 0; -1 without partitions */
	bool internal;		    /* __consumer_offsets */
} tern_topic_summary_t;

typedef struct tern_topic_list {
	tern_topic_summary_t *topics; /* sorted by name */
	size_t n;
} tern_topic_list_t;

/* Every topic of the cluster. On success *out gets the list, owned by the
 * caller (tern_topic_list_destroy()). */
tern_err_t tern_admin_list_topics(tern_admin_t *a, tern_topic_list_t **out, char *errstr,
				  size_t errlen);
void tern_topic_list_destroy(tern_topic_list_t *l);

/* A partition's mode (DESIGN.md decision 9), the first that matches:
 * offline (no leader); floor (ISR below the effective min.insync, that is
 * min(min.insync.replicas, replicas): acks=all is refused and the HWM does
 * not move); recovery (after an unclean election, until a second replica
 * joins the ISR); degraded (ISR below replicas); target (ISR = replicas).
 * The partition's leader reports its mode (DescribePartitions); only when
 * the leader does not answer it is computed from Metadata, and recovery,
 * which Metadata does not carry, is then never reported. */
typedef enum tern_partition_mode {
	TERN_MODE_OFFLINE = 0,
	TERN_MODE_FLOOR = 1,
	TERN_MODE_RECOVERY = 2,
	TERN_MODE_DEGRADED = 3,
	TERN_MODE_TARGET = 4,
} tern_partition_mode_t;

/* "offline", "floor", "recovery", "degraded", "target" ("unknown" for
 * anything else; never NULL). */
const char *tern_partition_mode_name(tern_partition_mode_t m);

/* One replica's progress as the partition's leader sees it
 * (DescribePartitions): a follower's log end offset is the fetch offset of
 * its latest fetch (its fsynced end under flush.policy=sync), its lag the
 * leader's acknowledged log end offset minus that; the leader's own lag is
 * 0. Before a follower's first fetch in the current leader epoch they are
 * -1, unknown. When the leader does not speak DescribePartitions only its
 * own LEO is known (ListOffsets latest as a debugging client, replica id
 * -2), and followers' values are -1. */
typedef struct tern_replica_state {
	int32_t id;
	int64_t log_end_offset;	  /* -1: unknown */
	int64_t lag;		  /* the leader's LEO minus this replica's; -1: unknown */
	int64_t caught_up_ms_ago; /* since it last had all the leader had; -1: never/unknown */
} tern_replica_state_t;

typedef struct tern_partition_info {
	int32_t partition;
	tern_err_t err;	      /* the partition's Metadata error (LEADER_NOT_AVAILABLE, ...) */
	int32_t leader;	      /* -1: none */
	int32_t leader_epoch; /* -1: unknown */
	int32_t *replicas;
	size_t nreplicas;
	int32_t *isr;
	size_t nisr;
	int32_t *offline_replicas;
	size_t noffline_replicas;
	/* From ListOffsets at the leader (earliest, latest); -1 when the
	 * leader could not say, offsets_err then says why. */
	int64_t log_start_offset;
	int64_t high_watermark;
	tern_err_t offsets_err;
	tern_partition_mode_t mode;
	tern_replica_state_t *replica_states; /* one per replica, in replicas' order */
	/* The leader answered DescribePartitions: leader_epoch, isr,
	 * log_start_offset, high_watermark, log_end_offset, mode and the
	 * replica states are its state machine's, not computed here. */
	bool live;
	int64_t log_end_offset; /* the leader's LEO; -1: unknown */
} tern_partition_info_t;

typedef struct tern_topic_info {
	char *name;
	bool internal;
	int32_t min_insync_replicas;	   /* the topic's min.insync.replicas; -1: unknown */
	tern_partition_info_t *partitions; /* by partition number */
	size_t npartitions;
} tern_topic_info_t;

/* Describes one topic: Metadata (leaders, replicas), the topic's
 * min.insync.replicas (DescribeConfigs), and from each partition's leader
 * (DescribePartitions, one request per leader) its live state: leader
 * epoch, ISR, log start, HWM, log end, mode and every replica's progress.
 * A leader that answers UNSUPPORTED_VERSION (an older broker) or not at
 * all gets ListOffsets instead (log start, HWM, its own LEO) and the mode
 * is computed from Metadata (live false). A topic that does not exist is
 * UNKNOWN_TOPIC_OR_PARTITION (it is never auto-created). An unreachable
 * leader is not an error of the call: its partitions get -1 offsets and
 * offsets_err. On success *out is owned by the caller
 * (tern_topic_info_destroy()). */
tern_err_t tern_admin_describe_topic(tern_admin_t *a, const char *name, tern_topic_info_t **out,
				     char *errstr, size_t errlen);
void tern_topic_info_destroy(tern_topic_info_t *t);

typedef struct tern_topic_info_list {
	tern_topic_info_t **topics; /* sorted by name */
	size_t n;
} tern_topic_info_list_t;

/* tern_admin_describe_topic() of every topic of the cluster, internal ones
 * included, with one DescribePartitions request per leader for all of
 * them. What `tern topic list --under-replicated` filters. On success *out
 * is owned by the caller (tern_topic_info_list_destroy()). */
tern_err_t tern_admin_describe_topics(tern_admin_t *a, tern_topic_info_list_t **out, char *errstr,
				      size_t errlen);
void tern_topic_info_list_destroy(tern_topic_info_list_t *l);

/* ------------------------------------------------------------------------ */
/* Configs                                                                    */

/* Kafka's ConfigResource types. */
typedef enum tern_resource_type {
	TERN_RESOURCE_TOPIC = 2,
	TERN_RESOURCE_BROKER = 4,
} tern_resource_type_t;

/* Where a config's value comes from (Kafka's ConfigSource). */
typedef enum tern_config_source {
	TERN_CONFIG_SOURCE_UNKNOWN = 0,
	TERN_CONFIG_SOURCE_TOPIC = 1, /* the topic's own override */
	TERN_CONFIG_SOURCE_DYNAMIC_BROKER = 2,
	TERN_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3,
	TERN_CONFIG_SOURCE_STATIC_BROKER = 4, /* the broker's setting */
	TERN_CONFIG_SOURCE_DEFAULT = 5,	      /* the built-in default */
} tern_config_source_t;

/* "topic", "dynamic_broker", "dynamic_default_broker", "static_broker",
 * "default", "unknown" (never NULL). */
const char *tern_config_source_name(tern_config_source_t s);

typedef struct tern_config_entry {
	char *name;
	char *value; /* NULL: no value */
	tern_config_source_t source;
	bool read_only;
	bool sensitive;
} tern_config_entry_t;

typedef struct tern_config_list {
	tern_config_entry_t *entries; /* in the broker's order */
	size_t n;
} tern_config_list_t;

/* Every config of a topic (type TOPIC, name the topic) or of a broker (type
 * BROKER, name its id as text) with its effective value and source. On
 * success *out is owned by the caller (tern_config_list_destroy()). */
tern_err_t tern_admin_describe_configs(tern_admin_t *a, tern_resource_type_t type, const char *name,
				       tern_config_list_t **out, char *errstr, size_t errlen);
void tern_config_list_destroy(tern_config_list_t *l);

/* The value of name in l (borrowed), or NULL when l has no such key or it
 * has no value. */
const char *tern_config_list_get(const tern_config_list_t *l, const char *name);

typedef enum tern_alter_op {
	TERN_ALTER_SET = 0,    /* override the key with value */
	TERN_ALTER_DELETE = 1, /* drop the override: back to the broker's value */
} tern_alter_op_t;

/* One change: the op, the key and (SET only) the value, borrowed. */
typedef struct tern_admin_alter {
	tern_alter_op_t op;
	const char *name;
	const char *value;
} tern_admin_alter_t;

/* Changes the keys named in alters[0..n) of a topic and no other
 * (IncrementalAlterConfigs), all or none. Errors: UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_CONFIG (an unknown key or a bad value: errstr has the broker's
 * message), _INVALID_ARG (n == 0, a SET without value). */
tern_err_t tern_admin_alter_configs(tern_admin_t *a, const char *topic,
				    const tern_admin_alter_t *alters, size_t n, char *errstr,
				    size_t errlen);

/* ------------------------------------------------------------------------ */
/* Cluster                                                                    */

typedef struct tern_broker_info {
	int32_t id;
	char *host;
	int32_t port;
	char *rack; /* NULL: none */
	/* It answered an ApiVersions request within the connection timeout.
	 * Metadata lists the brokers registered with the controller; this says
	 * whether this client can reach each of them now. */
	bool alive;
} tern_broker_info_t;

typedef struct tern_cluster_info {
	char *cluster_id;	     /* NULL: the broker gave none */
	int32_t controller_id;	     /* -1: none known */
	tern_broker_info_t *brokers; /* by id */
	size_t nbrokers;
} tern_cluster_info_t;

/* The brokers of the cluster, whether each answers, and the controller.
 * On success *out is owned by the caller (tern_cluster_info_destroy()). */
tern_err_t tern_admin_cluster_info(tern_admin_t *a, tern_cluster_info_t **out, char *errstr,
				   size_t errlen);
void tern_cluster_info_destroy(tern_cluster_info_t *c);

/* A broker as the controller knows it. */
typedef struct tern_cluster_broker {
	int32_t id;
	char *host;
	int32_t port;
	bool alive;	    /* registered, and its session with the controller is live */
	bool shutting_down; /* a controlled shutdown has begun */
	int64_t epoch;	    /* the broker epoch of its latest registration */
} tern_cluster_broker_t;

/* A partition of a topic, owned (results). */
typedef struct tern_partition_ref {
	char *topic;
	int32_t partition;
} tern_partition_ref_t;

typedef struct tern_cluster_description {
	char *cluster_id;		/* NULL: the broker gave none */
	int32_t controller_id;		/* the controller's broker id; -1: none known */
	tern_cluster_broker_t *brokers; /* every broker registered once, alive or not; by id */
	size_t nbrokers;
	tern_partition_ref_t *offline; /* partitions without a leader */
	size_t noffline;
} tern_cluster_description_t;

/* The cluster as a broker's latest image says (DescribeCluster, asked of a
 * bootstrap server): every broker the controller knows, dead ones
 * included, the controller's id (the real one, not the answering broker
 * that Metadata names) and the partitions without a leader. Unlike
 * tern_admin_cluster_info() nothing is probed: alive is the controller's
 * view. UNSUPPORTED_VERSION from a broker that does not speak
 * DescribeCluster. On success *out is owned by the caller
 * (tern_cluster_description_destroy()). */
tern_err_t tern_admin_describe_cluster(tern_admin_t *a, tern_cluster_description_t **out,
				       char *errstr, size_t errlen);
void tern_cluster_description_destroy(tern_cluster_description_t *c);

/* ------------------------------------------------------------------------ */
/* Leader elections                                                           */

/* Kafka's ElectionType. */
typedef enum tern_election_type {
	/* Move leadership back to each partition's preferred replica (the
	 * first of its replicas) when it is an eligible ISR member. */
	TERN_ELECTION_PREFERRED = 0,
	/* Elect a replica outside the ISR, only for a partition no ISR member
	 * can lead: records the old ISR acknowledged above the new leader's
	 * log end are lost. */
	TERN_ELECTION_UNCLEAN = 1,
} tern_election_type_t;

/* A partition of a topic, borrowed (arguments). */
typedef struct tern_topic_partition {
	const char *topic;
	int32_t partition;
} tern_topic_partition_t;

/* One partition's outcome: err 0 (a leader was elected),
 * ELECTION_NOT_NEEDED (the preferred replica leads already; for unclean:
 * the partition has a leader), PREFERRED_LEADER_NOT_AVAILABLE,
 * ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION, ... with
 * the controller's message (NULL: none). */
typedef struct tern_election_result {
	char *topic;
	int32_t partition;
	tern_err_t err;
	char *message;
} tern_election_result_t;

typedef struct tern_election_results {
	tern_election_result_t *results; /* in the controller's order */
	size_t n;
} tern_election_results_t;

/* Asks the controller for elections of type (ElectLeaders v1) of
 * partitions[0..n), or of every partition of the cluster when partitions
 * is NULL: then, as in Kafka, partitions that need no election are left
 * out of the results. The call fails only when the request as a whole
 * does (no controller, a top-level error); each partition's outcome is in
 * *out, owned by the caller (tern_election_results_destroy()). */
tern_err_t tern_admin_elect_leaders(tern_admin_t *a, tern_election_type_t type,
				    const tern_topic_partition_t *partitions, size_t n,
				    tern_election_results_t **out, char *errstr, size_t errlen);
void tern_election_results_destroy(tern_election_results_t *r);

#ifdef __cplusplus
}
#endif
#endif
