/* proto/msg_cluster.h: request and response bodies of the inter-broker
 * control messages, Tern's own API keys from 1000 up (KAFKA-REFERENCE.md
 * §5): BrokerRegistration, BrokerHeartbeat, AlterPartition,
 * AllocateProducerIds and ReplicaHealth, which brokers send to the
 * controller, and DescribePartitions and DescribeCluster, which admin
 * clients send to brokers; docs/protocol.md, "Inter-broker messages", says
 * what each is for.
 *
 * Every one has version 0 only, never flexible: INT16, INT32, INT64,
 * STRING and NULLABLE_STRING with int16 lengths, ARRAY with an int32 count
 * (-1 null only where a field says so), BOOLEAN as one byte. Where Kafka
 * has a message of the same purpose (AlterPartition v3, key 56;
 * AllocateProducerIds, key 67) the fields follow its shape, with topic
 * names instead of topic ids and no throttle time.
 *
 * Decoders (..._decode) follow msg_admin.h: they return 0 and fill *out,
 * or an error and leave *out untouched: TERN_ERR_UNSUPPORTED_VERSION for a
 * version other than 0 (the reader is then stopped with that error),
 * TERN_ERR_INVALID_REQUEST for malformed bytes, TERN_ERR__NOMEM when the
 * arena refuses. Strings are borrowed views into the frame and arrays live
 * in the reader's arena: the message is valid while both are. Counts are
 * checked against the bytes left before anything is allocated. A decoder
 * leaves r after the body and accepts bytes after it.
 *
 * Booleans: unlike the Kafka APIs' decoders (proto_rd_bool, strict 0/1),
 * these read any non-zero byte as true, as Kafka's generated code does;
 * encoders write 0 or 1. A body with a boolean byte other than 0 or 1 is
 * therefore accepted but does not encode back to the same bytes.
 *
 * Arena use: every decoder here, responses included, stays within
 * PROTO_ARENA_FACTOR (msg_data.h) arena bytes per frame byte. The tightest
 * case is a BrokerHeartbeat response's topic configs: a config with empty
 * name and null value is 4 bytes on the wire and 32 in memory, exactly the
 * factor. A BrokerHeartbeat response carrying the whole cluster image can
 * be large, so whoever decodes one sizes its arena from the frame as the
 * clients do (len * PROTO_ARENA_FACTOR + 4096) rather than from a fixed
 * cap, and its limits must allow the frame (max_frame) and one topic's
 * partitions (max_array).
 *
 * Encoders (..._encode): append the body to b, borrowing the message. For
 * a version other than 0 the encoder writes nothing and marks b as failed
 * (b->oom), as msg_admin.h's encoders do. A null (-1) count where the
 * field is not nullable is written as an empty array; an array pointer may
 * be NULL when its count is <= 0. */
#ifndef TERN_PROTO_MSG_CLUSTER_H
#define TERN_PROTO_MSG_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/msg_admin.h"
#include "proto/wire.h"

/* ------------------------------------------------------------------------ */
/* BrokerRegistration (key 1000), version 0                                   */

/* A broker announces itself to the controller when it starts. */
typedef struct proto_broker_registration_req {
	int32_t broker_id;
	/* Random per process start: a retry from the same incarnation gets
	 * the same broker epoch back, a new process a new one. */
	int64_t incarnation_id;
	proto_str_t host;
	int32_t port;
	/* The broker found its clean-shutdown marker, or never ran before. */
	bool clean_shutdown;
} proto_broker_registration_req_t;

typedef struct proto_broker_registration_resp {
	int16_t error_code;
	int64_t broker_epoch;
	int32_t heartbeat_interval_ms;
	int32_t session_timeout_ms;
	proto_str_t cluster_id; /* nullable */
} proto_broker_registration_resp_t;

tern_err_t proto_broker_registration_req_decode(proto_reader_t *r, int16_t version,
						proto_broker_registration_req_t *out);
void proto_broker_registration_req_encode(proto_buf_t *b, int16_t version,
					  const proto_broker_registration_req_t *m);
tern_err_t proto_broker_registration_resp_decode(proto_reader_t *r, int16_t version,
						 proto_broker_registration_resp_t *out);
void proto_broker_registration_resp_encode(proto_buf_t *b, int16_t version,
					   const proto_broker_registration_resp_t *m);

/* ------------------------------------------------------------------------ */
/* BrokerHeartbeat (key 1001), version 0                                      */

/* A heartbeat is also the long poll through which a broker learns of
 * metadata changes: the controller may hold it up to max_wait_ms while
 * metadata_version does not exceed known_metadata_version. */
typedef struct proto_broker_heartbeat_req {
	int32_t broker_id;
	int64_t broker_epoch;
	bool want_shutdown;
	int64_t known_metadata_version; /* -1: none yet */
	int32_t max_wait_ms;
} proto_broker_heartbeat_req_t;

/* One broker of the cluster image. */
typedef struct proto_broker_heartbeat_broker {
	int32_t broker_id;
	proto_str_t host;
	int32_t port;
	int64_t broker_epoch;
	bool alive;
	bool shutting_down;
} proto_broker_heartbeat_broker_t;

/* One partition of the cluster image. */
typedef struct proto_broker_heartbeat_partition {
	int32_t partition_index;
	int32_t leader_id;
	int32_t leader_epoch;
	int32_t partition_epoch;
	const int32_t *replicas;
	int32_t replicas_count;
	const int32_t *isr;
	int32_t isr_count;
	const int32_t *eligible_leader_replicas;
	int32_t eligible_leader_replicas_count;
	const int32_t *corrupt_replicas;
	int32_t corrupt_replicas_count;
	bool recovering;
} proto_broker_heartbeat_partition_t;

/* One topic of the cluster image. */
typedef struct proto_broker_heartbeat_topic {
	proto_str_t name;
	bool internal;
	const proto_config_kv_t *configs;
	int32_t configs_count;
	const proto_broker_heartbeat_partition_t *partitions;
	int32_t partitions_count;
} proto_broker_heartbeat_topic_t;

/* brokers and topics are the whole image at metadata_version, or both null
 * (count -1) when the image is the one the broker said it knows. One null
 * and the other not is refused: the decoder returns
 * TERN_ERR_INVALID_REQUEST, and the encoder writes nothing and marks b
 * failed, as for an unsupported version. */
typedef struct proto_broker_heartbeat_resp {
	int16_t error_code;
	bool is_fenced;
	bool shutdown_done;
	int32_t controller_id;
	int64_t metadata_version;
	const proto_broker_heartbeat_broker_t *brokers; /* nullable */
	int32_t brokers_count;
	const proto_broker_heartbeat_topic_t *topics; /* nullable */
	int32_t topics_count;
} proto_broker_heartbeat_resp_t;

tern_err_t proto_broker_heartbeat_req_decode(proto_reader_t *r, int16_t version,
					     proto_broker_heartbeat_req_t *out);
void proto_broker_heartbeat_req_encode(proto_buf_t *b, int16_t version,
				       const proto_broker_heartbeat_req_t *m);
tern_err_t proto_broker_heartbeat_resp_decode(proto_reader_t *r, int16_t version,
					      proto_broker_heartbeat_resp_t *out);
void proto_broker_heartbeat_resp_encode(proto_buf_t *b, int16_t version,
					const proto_broker_heartbeat_resp_t *m);

/* ------------------------------------------------------------------------ */
/* AlterPartition (key 1002), version 0: Kafka's key 56 v3 in Tern's shape    */

/* A partition leader asks the controller to change the ISR. */

/* A member of the proposed ISR with the epoch of the broker the leader saw
 * (Kafka's BrokerState), so that a restarted broker cannot rejoin on an
 * old registration. */
typedef struct proto_alter_partition_broker_state {
	int32_t broker_id;
	int64_t broker_epoch;
} proto_alter_partition_broker_state_t;

typedef struct proto_alter_partition_partition {
	int32_t partition_index;
	int32_t leader_epoch;
	int32_t partition_epoch;
	const proto_alter_partition_broker_state_t *new_isr;
	int32_t new_isr_count;
} proto_alter_partition_partition_t;

typedef struct proto_alter_partition_topic {
	proto_str_t name;
	const proto_alter_partition_partition_t *partitions;
	int32_t partitions_count;
} proto_alter_partition_topic_t;

typedef struct proto_alter_partition_req {
	int32_t broker_id;
	int64_t broker_epoch;
	const proto_alter_partition_topic_t *topics;
	int32_t topics_count;
} proto_alter_partition_req_t;

typedef struct proto_alter_partition_partition_result {
	int32_t partition_index;
	int16_t error_code;
	int32_t leader_id;
	int32_t leader_epoch;
	int32_t partition_epoch;
	const int32_t *isr;
	int32_t isr_count;
} proto_alter_partition_partition_result_t;

typedef struct proto_alter_partition_topic_result {
	proto_str_t name;
	const proto_alter_partition_partition_result_t *partitions;
	int32_t partitions_count;
} proto_alter_partition_topic_result_t;

typedef struct proto_alter_partition_resp {
	int16_t error_code;
	const proto_alter_partition_topic_result_t *topics;
	int32_t topics_count;
} proto_alter_partition_resp_t;

tern_err_t proto_alter_partition_req_decode(proto_reader_t *r, int16_t version,
					    proto_alter_partition_req_t *out);
void proto_alter_partition_req_encode(proto_buf_t *b, int16_t version,
				      const proto_alter_partition_req_t *m);
tern_err_t proto_alter_partition_resp_decode(proto_reader_t *r, int16_t version,
					     proto_alter_partition_resp_t *out);
void proto_alter_partition_resp_encode(proto_buf_t *b, int16_t version,
				       const proto_alter_partition_resp_t *m);

/* ------------------------------------------------------------------------ */
/* AllocateProducerIds (key 1003), version 0: Kafka's key 67 in Tern's shape  */

/* A broker asks the controller for a block of producer ids to hand out in
 * InitProducerId answers. */
typedef struct proto_allocate_producer_ids_req {
	int32_t broker_id;
	int64_t broker_epoch;
} proto_allocate_producer_ids_req_t;

/* The block is [producer_id_start, producer_id_start + producer_id_len). */
typedef struct proto_allocate_producer_ids_resp {
	int16_t error_code;
	int64_t producer_id_start;
	int32_t producer_id_len;
} proto_allocate_producer_ids_resp_t;

tern_err_t proto_allocate_producer_ids_req_decode(proto_reader_t *r, int16_t version,
						  proto_allocate_producer_ids_req_t *out);
void proto_allocate_producer_ids_req_encode(proto_buf_t *b, int16_t version,
					    const proto_allocate_producer_ids_req_t *m);
tern_err_t proto_allocate_producer_ids_resp_decode(proto_reader_t *r, int16_t version,
						   proto_allocate_producer_ids_resp_t *out);
void proto_allocate_producer_ids_resp_encode(proto_buf_t *b, int16_t version,
					     const proto_allocate_producer_ids_resp_t *m);

/* ------------------------------------------------------------------------ */
/* ReplicaHealth (key 1004), version 0                                        */

/* A broker reports replicas it found corrupt (KAFKA_STORAGE_ERROR on read),
 * or healthy again once it has truncated the corrupt tail. */
typedef struct proto_replica_health_partition {
	int32_t partition_index;
	bool corrupt; /* false: healthy again */
} proto_replica_health_partition_t;

typedef struct proto_replica_health_topic {
	proto_str_t name;
	const proto_replica_health_partition_t *partitions;
	int32_t partitions_count;
} proto_replica_health_topic_t;

typedef struct proto_replica_health_req {
	int32_t broker_id;
	int64_t broker_epoch;
	const proto_replica_health_topic_t *topics;
	int32_t topics_count;
} proto_replica_health_req_t;

typedef struct proto_replica_health_partition_result {
	int32_t partition_index;
	int16_t error_code;
} proto_replica_health_partition_result_t;

typedef struct proto_replica_health_topic_result {
	proto_str_t name;
	const proto_replica_health_partition_result_t *partitions;
	int32_t partitions_count;
} proto_replica_health_topic_result_t;

typedef struct proto_replica_health_resp {
	int16_t error_code;
	const proto_replica_health_topic_result_t *topics;
	int32_t topics_count;
} proto_replica_health_resp_t;

tern_err_t proto_replica_health_req_decode(proto_reader_t *r, int16_t version,
					   proto_replica_health_req_t *out);
void proto_replica_health_req_encode(proto_buf_t *b, int16_t version,
				     const proto_replica_health_req_t *m);
tern_err_t proto_replica_health_resp_decode(proto_reader_t *r, int16_t version,
					    proto_replica_health_resp_t *out);
void proto_replica_health_resp_encode(proto_buf_t *b, int16_t version,
				      const proto_replica_health_resp_t *m);

/* ------------------------------------------------------------------------ */
/* DescribePartitions (key 1005), version 0                                   */

/* An admin client asks a partition's leader for the live state of the
 * partitions it leads: what the leader's state machine (isr_partition_t)
 * knows and Metadata does not carry: the HWM, every replica's LEO and lag,
 * the mode. */

/* A topic and the partitions asked for; partitions null (count -1): every
 * partition of the topic this broker leads. */
typedef struct proto_describe_partitions_topic {
	proto_str_t name;
	const int32_t *partitions; /* nullable */
	int32_t partitions_count;
} proto_describe_partitions_topic_t;

/* topics null (count -1): every partition this broker leads. */
typedef struct proto_describe_partitions_req {
	const proto_describe_partitions_topic_t *topics; /* nullable */
	int32_t topics_count;
} proto_describe_partitions_req_t;

/* One replica as the leader sees it; -1 where it does not know. */
typedef struct proto_describe_partitions_replica {
	int32_t broker_id;
	int64_t log_end_offset;	  /* its acknowledged LEO (the leader's own: its LEO) */
	int64_t lag;		  /* offsets behind the leader's acknowledged LEO */
	int64_t caught_up_ms_ago; /* since it was last caught up; -1 never */
} proto_describe_partitions_replica_t;

/* The error is NOT_LEADER_OR_FOLLOWER for a partition this broker does not
 * lead, UNKNOWN_TOPIC_OR_PARTITION for one that does not exist; the other
 * fields are then -1, null or empty. */
typedef struct proto_describe_partitions_partition {
	int32_t partition_index;
	int16_t error_code;
	int32_t leader_id;
	int32_t leader_epoch;
	const int32_t *isr;
	int32_t isr_count;
	int64_t log_start_offset;
	int64_t high_watermark;
	int64_t log_end_offset;
	int8_t mode; /* isr_mode_t: 0 offline .. 4 target */
	const proto_describe_partitions_replica_t *replicas;
	int32_t replicas_count;
} proto_describe_partitions_partition_t;

typedef struct proto_describe_partitions_topic_result {
	proto_str_t name;
	const proto_describe_partitions_partition_t *partitions;
	int32_t partitions_count;
} proto_describe_partitions_topic_result_t;

typedef struct proto_describe_partitions_resp {
	int16_t error_code;
	const proto_describe_partitions_topic_result_t *topics;
	int32_t topics_count;
} proto_describe_partitions_resp_t;

tern_err_t proto_describe_partitions_req_decode(proto_reader_t *r, int16_t version,
						proto_describe_partitions_req_t *out);
void proto_describe_partitions_req_encode(proto_buf_t *b, int16_t version,
					  const proto_describe_partitions_req_t *m);
tern_err_t proto_describe_partitions_resp_decode(proto_reader_t *r, int16_t version,
						 proto_describe_partitions_resp_t *out);
void proto_describe_partitions_resp_encode(proto_buf_t *b, int16_t version,
					   const proto_describe_partitions_resp_t *m);

/* ------------------------------------------------------------------------ */
/* DescribeCluster (key 1006), version 0                                      */

/* An admin client asks any broker for the cluster as its latest image
 * says: every broker the controller knows, alive or not, the controller's
 * id and the partitions without a leader. The request has an empty body:
 * the decoder reads nothing, the encoder writes nothing. */
typedef struct proto_describe_cluster_req {
	char unused; /* C has no empty structs */
} proto_describe_cluster_req_t;

typedef struct proto_describe_cluster_broker {
	int32_t broker_id;
	proto_str_t host;
	int32_t port;
	bool alive; /* registered, and its session is live */
	bool shutting_down;
	int64_t broker_epoch;
} proto_describe_cluster_broker_t;

typedef struct proto_describe_cluster_partition {
	proto_str_t topic;
	int32_t partition;
} proto_describe_cluster_partition_t;

typedef struct proto_describe_cluster_resp {
	int16_t error_code;
	int32_t controller_id; /* -1: none known */
	const proto_describe_cluster_broker_t *brokers;
	int32_t brokers_count;
	const proto_describe_cluster_partition_t *partitions_offline;
	int32_t partitions_offline_count;
} proto_describe_cluster_resp_t;

tern_err_t proto_describe_cluster_req_decode(proto_reader_t *r, int16_t version,
					     proto_describe_cluster_req_t *out);
void proto_describe_cluster_req_encode(proto_buf_t *b, int16_t version,
				       const proto_describe_cluster_req_t *m);
tern_err_t proto_describe_cluster_resp_decode(proto_reader_t *r, int16_t version,
					      proto_describe_cluster_resp_t *out);
void proto_describe_cluster_resp_encode(proto_buf_t *b, int16_t version,
					const proto_describe_cluster_resp_t *m);

#endif
