/* proto/msg_admin.h: request and response bodies of the admin and group
 * APIs: CreateTopics 0-4, DeleteTopics 0-3, DescribeConfigs 0-2,
 * AlterConfigs 0-1, IncrementalAlterConfigs 0, FindCoordinator 0-2,
 * OffsetCommit 2-7, OffsetFetch 1-5, InitProducerId 0-1, ElectLeaders 0-1.
 *
 * Every pinned version of these APIs is non-flexible, so there are no
 * compact forms and no tagged fields here. Field names follow Kafka's
 * schemas (clients/src/main/resources/common/message/). A field a version
 * lacks gets Kafka's default on decode (noted at the field) and is not
 * written on encode.
 *
 * Decoders (..._decode): read one body of the given version from r. They
 * return 0 and fill *out, or an error and leave *out untouched:
 * TERN_ERR_UNSUPPORTED_VERSION for a version Tern does not speak (the
 * reader is then stopped with that error), TERN_ERR_INVALID_REQUEST for
 * malformed bytes, TERN_ERR__NOMEM when the arena refuses. Strings are
 * borrowed views into the frame and arrays live in the reader's arena: the
 * message is valid while both are. Counts are checked against the bytes
 * left before anything is allocated. A decoder leaves r after the body
 * and accepts bytes after it, as msg_data.h's decoders do.
 *
 * Arena use: every request decoder here stays within PROTO_ARENA_FACTOR
 * (msg_data.h) arena bytes per frame byte, so the broker's capped arena
 * never refuses a valid request. Among responses, which clients decode,
 * CreateTopics v0 is the exception: a result is 4 bytes on the wire and
 * 40 in memory, up to 10 arena bytes per frame byte.
 *
 * Encoders (..._encode): append the body to b, borrowing the message. The
 * version must be one Tern speaks (proto_api_supported); for any other the
 * encoder writes nothing and marks b as failed (b->oom), which the caller
 * checks once at the end as for any write. A null array (count -1) or
 * null string is written as null where the version allows it and as empty
 * where it does not; an array pointer may be NULL when its count is <= 0. */
#ifndef TERN_PROTO_MSG_ADMIN_H
#define TERN_PROTO_MSG_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/wire.h"

/* Resource types of the config APIs (Kafka's ConfigResource.Type). */
enum proto_resource_type {
	PROTO_RESOURCE_UNKNOWN = 0,
	PROTO_RESOURCE_TOPIC = 2,
	PROTO_RESOURCE_BROKER = 4,
	PROTO_RESOURCE_BROKER_LOGGER = 8,
};

/* Where a described config value comes from (DescribeConfigs v1+). */
enum proto_config_source {
	PROTO_CONFIG_SOURCE_UNKNOWN = 0,
	PROTO_CONFIG_SOURCE_TOPIC = 1,
	PROTO_CONFIG_SOURCE_DYNAMIC_BROKER = 2,
	PROTO_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3,
	PROTO_CONFIG_SOURCE_STATIC_BROKER = 4,
	PROTO_CONFIG_SOURCE_DEFAULT = 5,
	PROTO_CONFIG_SOURCE_DYNAMIC_BROKER_LOGGER = 6,
};

/* IncrementalAlterConfigs operations. APPEND and SUBTRACT apply to list
 * configs only. */
enum proto_config_op {
	PROTO_CONFIG_OP_SET = 0,
	PROTO_CONFIG_OP_DELETE = 1,
	PROTO_CONFIG_OP_APPEND = 2,
	PROTO_CONFIG_OP_SUBTRACT = 3,
};

/* FindCoordinator key types (v1+). */
enum proto_coordinator_type {
	PROTO_COORDINATOR_GROUP = 0,
	PROTO_COORDINATOR_TRANSACTION = 1,
};

/* ElectLeaders election types (v1+). */
enum proto_election_type {
	PROTO_ELECTION_PREFERRED = 0,
	PROTO_ELECTION_UNCLEAN = 1,
};

/* The codecs check the framing of these values, not their meaning: an
 * unknown resource type, operation, key type or election type decodes as
 * sent, and the handler answers it with Kafka's error. */

/* A config name and its value (null: no value), as CreateTopics and
 * AlterConfigs carry them. */
typedef struct proto_config_kv {
	proto_str_t name;
	proto_str_t value; /* nullable */
} proto_config_kv_t;

/* A topic and some of its partitions (OffsetFetch, ElectLeaders). */
typedef struct proto_topic_partition_ids {
	proto_str_t topic;
	const int32_t *partitions;
	int32_t partitions_count;
} proto_topic_partition_ids_t;

/* ------------------------------------------------------------------------ */
/* CreateTopics (key 19), versions 0-4                                        */

typedef struct proto_create_topics_assignment {
	int32_t partition_index;
	const int32_t *broker_ids;
	int32_t broker_ids_count;
} proto_create_topics_assignment_t;

typedef struct proto_create_topics_topic {
	proto_str_t name;
	int32_t num_partitions;	    /* -1: from the assignments, or the default */
	int16_t replication_factor; /* -1: likewise */
	const proto_create_topics_assignment_t *assignments; /* empty: automatic */
	int32_t assignments_count;
	const proto_config_kv_t *configs;
	int32_t configs_count;
} proto_create_topics_topic_t;

typedef struct proto_create_topics_req {
	const proto_create_topics_topic_t *topics;
	int32_t topics_count;
	int32_t timeout_ms;
	bool validate_only; /* v1+; false before */
} proto_create_topics_req_t;

typedef struct proto_create_topics_result {
	proto_str_t name;
	int16_t error_code;
	proto_str_t error_message; /* v1+, nullable; "" before (Kafka's default) */
} proto_create_topics_result_t;

typedef struct proto_create_topics_resp {
	int32_t throttle_time_ms; /* v2+; 0 before */
	const proto_create_topics_result_t *topics;
	int32_t topics_count;
} proto_create_topics_resp_t;

tern_err_t proto_create_topics_req_decode(proto_reader_t *r, int16_t version,
					  proto_create_topics_req_t *out);
void proto_create_topics_req_encode(proto_buf_t *b, int16_t version,
				    const proto_create_topics_req_t *m);
tern_err_t proto_create_topics_resp_decode(proto_reader_t *r, int16_t version,
					   proto_create_topics_resp_t *out);
void proto_create_topics_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_create_topics_resp_t *m);

/* ------------------------------------------------------------------------ */
/* DeleteTopics (key 20), versions 0-3                                        */

typedef struct proto_delete_topics_req {
	const proto_str_t *topic_names;
	int32_t topic_names_count;
	int32_t timeout_ms;
} proto_delete_topics_req_t;

typedef struct proto_delete_topics_result {
	proto_str_t name;
	int16_t error_code;
} proto_delete_topics_result_t;

typedef struct proto_delete_topics_resp {
	int32_t throttle_time_ms; /* v1+; 0 before */
	const proto_delete_topics_result_t *responses;
	int32_t responses_count;
} proto_delete_topics_resp_t;

tern_err_t proto_delete_topics_req_decode(proto_reader_t *r, int16_t version,
					  proto_delete_topics_req_t *out);
void proto_delete_topics_req_encode(proto_buf_t *b, int16_t version,
				    const proto_delete_topics_req_t *m);
tern_err_t proto_delete_topics_resp_decode(proto_reader_t *r, int16_t version,
					   proto_delete_topics_resp_t *out);
void proto_delete_topics_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_delete_topics_resp_t *m);

/* ------------------------------------------------------------------------ */
/* DescribeConfigs (key 32), versions 0-2                                     */

/* The documentation fields (IncludeDocumentation, ConfigType,
 * Documentation) arrive in v3, above the pinned range, so they have no
 * place here. */

typedef struct proto_describe_configs_resource {
	int8_t resource_type; /* enum proto_resource_type */
	proto_str_t resource_name;
	const proto_str_t *configuration_keys; /* count -1 (null): every key */
	int32_t configuration_keys_count;
} proto_describe_configs_resource_t;

typedef struct proto_describe_configs_req {
	const proto_describe_configs_resource_t *resources;
	int32_t resources_count;
	bool include_synonyms; /* v1+; false before */
} proto_describe_configs_req_t;

typedef struct proto_describe_configs_synonym {
	proto_str_t name;
	proto_str_t value; /* nullable */
	int8_t source;	   /* enum proto_config_source */
} proto_describe_configs_synonym_t;

typedef struct proto_describe_configs_entry {
	proto_str_t name;
	proto_str_t value; /* nullable */
	bool read_only;
	bool is_default; /* v0 only; false after */
	/* v1+; -1 in v0, where Kafka leaves the source to the reader of
	 * is_default and the resource type */
	int8_t config_source;
	bool is_sensitive;
	const proto_describe_configs_synonym_t *synonyms; /* v1+; empty before */
	int32_t synonyms_count;
} proto_describe_configs_entry_t;

typedef struct proto_describe_configs_result {
	int16_t error_code;
	proto_str_t error_message; /* nullable */
	int8_t resource_type;
	proto_str_t resource_name;
	const proto_describe_configs_entry_t *configs;
	int32_t configs_count;
} proto_describe_configs_result_t;

typedef struct proto_describe_configs_resp {
	int32_t throttle_time_ms;
	const proto_describe_configs_result_t *results;
	int32_t results_count;
} proto_describe_configs_resp_t;

tern_err_t proto_describe_configs_req_decode(proto_reader_t *r, int16_t version,
					     proto_describe_configs_req_t *out);
void proto_describe_configs_req_encode(proto_buf_t *b, int16_t version,
				       const proto_describe_configs_req_t *m);
tern_err_t proto_describe_configs_resp_decode(proto_reader_t *r, int16_t version,
					      proto_describe_configs_resp_t *out);
void proto_describe_configs_resp_encode(proto_buf_t *b, int16_t version,
					const proto_describe_configs_resp_t *m);

/* ------------------------------------------------------------------------ */
/* AlterConfigs (key 33), versions 0-1                                        */

/* AlterConfigs replaces every override of a resource with the configs
 * given; IncrementalAlterConfigs below changes only the keys it names. */

typedef struct proto_alter_configs_resource {
	int8_t resource_type;
	proto_str_t resource_name;
	const proto_config_kv_t *configs;
	int32_t configs_count;
} proto_alter_configs_resource_t;

typedef struct proto_alter_configs_req {
	const proto_alter_configs_resource_t *resources;
	int32_t resources_count;
	bool validate_only;
} proto_alter_configs_req_t;

/* One resource's outcome; IncrementalAlterConfigs answers in the same
 * shape. */
typedef struct proto_alter_configs_result {
	int16_t error_code;
	proto_str_t error_message; /* nullable */
	int8_t resource_type;
	proto_str_t resource_name;
} proto_alter_configs_result_t;

typedef struct proto_alter_configs_resp {
	int32_t throttle_time_ms;
	const proto_alter_configs_result_t *responses;
	int32_t responses_count;
} proto_alter_configs_resp_t;

tern_err_t proto_alter_configs_req_decode(proto_reader_t *r, int16_t version,
					  proto_alter_configs_req_t *out);
void proto_alter_configs_req_encode(proto_buf_t *b, int16_t version,
				    const proto_alter_configs_req_t *m);
tern_err_t proto_alter_configs_resp_decode(proto_reader_t *r, int16_t version,
					   proto_alter_configs_resp_t *out);
void proto_alter_configs_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_alter_configs_resp_t *m);

/* ------------------------------------------------------------------------ */
/* IncrementalAlterConfigs (key 44), version 0                                */

typedef struct proto_incremental_alter_config {
	proto_str_t name;
	int8_t config_operation; /* enum proto_config_op */
	proto_str_t value;	 /* nullable */
} proto_incremental_alter_config_t;

typedef struct proto_incremental_alter_configs_resource {
	int8_t resource_type;
	proto_str_t resource_name;
	const proto_incremental_alter_config_t *configs;
	int32_t configs_count;
} proto_incremental_alter_configs_resource_t;

typedef struct proto_incremental_alter_configs_req {
	const proto_incremental_alter_configs_resource_t *resources;
	int32_t resources_count;
	bool validate_only;
} proto_incremental_alter_configs_req_t;

typedef proto_alter_configs_resp_t proto_incremental_alter_configs_resp_t;

tern_err_t proto_incremental_alter_configs_req_decode(proto_reader_t *r, int16_t version,
						      proto_incremental_alter_configs_req_t *out);
void proto_incremental_alter_configs_req_encode(proto_buf_t *b, int16_t version,
						const proto_incremental_alter_configs_req_t *m);
tern_err_t proto_incremental_alter_configs_resp_decode(proto_reader_t *r, int16_t version,
						       proto_incremental_alter_configs_resp_t *out);
void proto_incremental_alter_configs_resp_encode(proto_buf_t *b, int16_t version,
						 const proto_incremental_alter_configs_resp_t *m);

/* ------------------------------------------------------------------------ */
/* FindCoordinator (key 10), versions 0-2                                     */

typedef struct proto_find_coordinator_req {
	proto_str_t key; /* a group id, or a transactional id */
	int8_t key_type; /* v1+, enum proto_coordinator_type; GROUP before */
} proto_find_coordinator_req_t;

typedef struct proto_find_coordinator_resp {
	int32_t throttle_time_ms; /* v1+; 0 before */
	int16_t error_code;
	proto_str_t error_message; /* v1+, nullable; "" before (Kafka's default) */
	int32_t node_id;
	proto_str_t host;
	int32_t port;
} proto_find_coordinator_resp_t;

tern_err_t proto_find_coordinator_req_decode(proto_reader_t *r, int16_t version,
					     proto_find_coordinator_req_t *out);
void proto_find_coordinator_req_encode(proto_buf_t *b, int16_t version,
				       const proto_find_coordinator_req_t *m);
tern_err_t proto_find_coordinator_resp_decode(proto_reader_t *r, int16_t version,
					      proto_find_coordinator_resp_t *out);
void proto_find_coordinator_resp_encode(proto_buf_t *b, int16_t version,
					const proto_find_coordinator_resp_t *m);

/* ------------------------------------------------------------------------ */
/* OffsetCommit (key 8), versions 2-7                                         */

typedef struct proto_offset_commit_partition {
	int32_t partition_index;
	int64_t committed_offset;
	int32_t committed_leader_epoch; /* v6+; -1 before */
	proto_str_t committed_metadata; /* nullable */
} proto_offset_commit_partition_t;

typedef struct proto_offset_commit_topic {
	proto_str_t name;
	const proto_offset_commit_partition_t *partitions;
	int32_t partitions_count;
} proto_offset_commit_topic_t;

typedef struct proto_offset_commit_req {
	proto_str_t group_id;
	int32_t generation_id; /* -1: a commit from outside any generation */
	proto_str_t member_id;
	proto_str_t group_instance_id; /* v7+, nullable; null before */
	int64_t retention_time_ms;     /* v2-4; -1 (the broker's retention) after */
	const proto_offset_commit_topic_t *topics;
	int32_t topics_count;
} proto_offset_commit_req_t;

typedef struct proto_offset_commit_partition_result {
	int32_t partition_index;
	int16_t error_code;
} proto_offset_commit_partition_result_t;

typedef struct proto_offset_commit_topic_result {
	proto_str_t name;
	const proto_offset_commit_partition_result_t *partitions;
	int32_t partitions_count;
} proto_offset_commit_topic_result_t;

typedef struct proto_offset_commit_resp {
	int32_t throttle_time_ms; /* v3+; 0 before */
	const proto_offset_commit_topic_result_t *topics;
	int32_t topics_count;
} proto_offset_commit_resp_t;

tern_err_t proto_offset_commit_req_decode(proto_reader_t *r, int16_t version,
					  proto_offset_commit_req_t *out);
void proto_offset_commit_req_encode(proto_buf_t *b, int16_t version,
				    const proto_offset_commit_req_t *m);
tern_err_t proto_offset_commit_resp_decode(proto_reader_t *r, int16_t version,
					   proto_offset_commit_resp_t *out);
void proto_offset_commit_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_offset_commit_resp_t *m);

/* ------------------------------------------------------------------------ */
/* OffsetFetch (key 9), versions 1-5                                          */

typedef struct proto_offset_fetch_req {
	proto_str_t group_id;
	/* count -1 (null, v2+): every topic the group has offsets for */
	const proto_topic_partition_ids_t *topics;
	int32_t topics_count;
} proto_offset_fetch_req_t;

typedef struct proto_offset_fetch_partition {
	int32_t partition_index;
	int64_t committed_offset;	/* -1: none committed */
	int32_t committed_leader_epoch; /* v5+; -1 before */
	proto_str_t metadata;		/* nullable */
	int16_t error_code;
} proto_offset_fetch_partition_t;

typedef struct proto_offset_fetch_topic {
	proto_str_t name;
	const proto_offset_fetch_partition_t *partitions;
	int32_t partitions_count;
} proto_offset_fetch_topic_t;

typedef struct proto_offset_fetch_resp {
	int32_t throttle_time_ms; /* v3+; 0 before */
	const proto_offset_fetch_topic_t *topics;
	int32_t topics_count;
	int16_t error_code; /* v2+, group or coordinator errors; 0 before */
} proto_offset_fetch_resp_t;

tern_err_t proto_offset_fetch_req_decode(proto_reader_t *r, int16_t version,
					 proto_offset_fetch_req_t *out);
void proto_offset_fetch_req_encode(proto_buf_t *b, int16_t version,
				   const proto_offset_fetch_req_t *m);
tern_err_t proto_offset_fetch_resp_decode(proto_reader_t *r, int16_t version,
					  proto_offset_fetch_resp_t *out);
void proto_offset_fetch_resp_encode(proto_buf_t *b, int16_t version,
				    const proto_offset_fetch_resp_t *m);

/* ------------------------------------------------------------------------ */
/* InitProducerId (key 22), versions 0-1                                      */

typedef struct proto_init_producer_id_req {
	proto_str_t transactional_id; /* nullable: null for an idempotent producer */
	int32_t transaction_timeout_ms;
} proto_init_producer_id_req_t;

typedef struct proto_init_producer_id_resp {
	int32_t throttle_time_ms;
	int16_t error_code;
	int64_t producer_id;
	int16_t producer_epoch;
} proto_init_producer_id_resp_t;

tern_err_t proto_init_producer_id_req_decode(proto_reader_t *r, int16_t version,
					     proto_init_producer_id_req_t *out);
void proto_init_producer_id_req_encode(proto_buf_t *b, int16_t version,
				       const proto_init_producer_id_req_t *m);
tern_err_t proto_init_producer_id_resp_decode(proto_reader_t *r, int16_t version,
					      proto_init_producer_id_resp_t *out);
void proto_init_producer_id_resp_encode(proto_buf_t *b, int16_t version,
					const proto_init_producer_id_resp_t *m);

/* ------------------------------------------------------------------------ */
/* ElectLeaders (key 43), versions 0-1                                        */

typedef struct proto_elect_leaders_req {
	int8_t election_type; /* v1+, enum proto_election_type; PREFERRED before */
	/* count -1 (null): every partition */
	const proto_topic_partition_ids_t *topic_partitions;
	int32_t topic_partitions_count;
	int32_t timeout_ms;
} proto_elect_leaders_req_t;

typedef struct proto_elect_leaders_partition_result {
	int32_t partition_id;
	int16_t error_code;
	proto_str_t error_message; /* nullable */
} proto_elect_leaders_partition_result_t;

typedef struct proto_elect_leaders_topic_result {
	proto_str_t topic;
	const proto_elect_leaders_partition_result_t *partition_results;
	int32_t partition_results_count;
} proto_elect_leaders_topic_result_t;

typedef struct proto_elect_leaders_resp {
	int32_t throttle_time_ms;
	int16_t error_code; /* v1+; 0 before */
	const proto_elect_leaders_topic_result_t *replica_election_results;
	int32_t replica_election_results_count;
} proto_elect_leaders_resp_t;

tern_err_t proto_elect_leaders_req_decode(proto_reader_t *r, int16_t version,
					  proto_elect_leaders_req_t *out);
void proto_elect_leaders_req_encode(proto_buf_t *b, int16_t version,
				    const proto_elect_leaders_req_t *m);
tern_err_t proto_elect_leaders_resp_decode(proto_reader_t *r, int16_t version,
					   proto_elect_leaders_resp_t *out);
void proto_elect_leaders_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_elect_leaders_resp_t *m);

#endif
