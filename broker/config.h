/* broker/config.h: the settings of ternd (the broker table) and of one topic
 * (the topic table), each one declarative table in config.c that fills a
 * typed struct; see common/config.h for the engine and docs/configuration.md
 * (generated from these tables) for every key. Keys carry Kafka's names
 * wherever Kafka has the setting. */
#ifndef TERN_BROKER_CONFIG_H
#define TERN_BROKER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "log/log.h"
#include "tern/errors.h"

/* compression.type (DESIGN.md decision 2): which codec a topic takes.
 * producer keeps whatever codec the producer used; the other two refuse a
 * batch with another codec (UNSUPPORTED_COMPRESSION_TYPE), never re-encode. */
enum broker_compression {
	BROKER_COMPRESSION_PRODUCER = 0,
	BROKER_COMPRESSION_ZSTD = 1,
	BROKER_COMPRESSION_UNCOMPRESSED = 2,
};

/* metadata.store (DESIGN.md decision 7). */
enum broker_metadata_store {
	BROKER_METADATA_EMBEDDED = 0,
	BROKER_METADATA_ZOOKEEPER = 1,
};

/* message.timestamp.type: Kafka's CreateTime (the producer's) or
 * LogAppendTime (the broker's clock at append). */
enum broker_timestamp_type {
	BROKER_TIMESTAMP_CREATE_TIME = 0,
	BROKER_TIMESTAMP_LOG_APPEND_TIME = 1,
};

/* The broker's settings (broker_config_table). Strings and lists belong to
 * the struct: fill it with tern_conf_init(&broker_config_table, ...), free it
 * with tern_conf_free(). Enum fields hold the values of the enums above (and
 * log_flush_policy_t for log_flush_policy). */
typedef struct broker_config {
	int32_t broker_id;
	tern_conf_list_t listeners;
	tern_conf_list_t advertised_listeners;
	tern_conf_list_t process_roles;
	int metadata_store;
	char *controller_connect;
	int32_t broker_session_timeout_ms;
	int32_t broker_heartbeat_interval_ms;
	char *zookeeper_connect;
	int32_t zookeeper_session_timeout_ms;
	tern_conf_list_t log_dirs;
	int32_t num_io_threads;
	int32_t log_writer_threads;
	int32_t log_max_open_files;
	int32_t socket_request_max_bytes;
	int32_t message_max_bytes;
	int32_t num_partitions;
	int32_t default_replication_factor;
	bool auto_create_topics_enable;
	int32_t min_insync_replicas;
	bool unclean_leader_election_enable;
	bool eligible_leader_replicas_enable;
	int64_t replica_lag_time_max_ms;
	int64_t leader_replication_throttled_rate;
	int compression_type;
	int log_message_timestamp_type;
	int32_t log_segment_bytes;
	int64_t log_roll_ms;
	int64_t log_retention_ms;
	int64_t log_retention_bytes;
	int64_t log_retention_check_interval_ms;
	int log_flush_policy;
	int64_t log_flush_interval_ms;
	int32_t log_index_interval_bytes;
	int32_t log_index_size_max_bytes;
	int32_t offsets_topic_num_partitions;
	int32_t offsets_topic_replication_factor;
	int32_t offsets_topic_segment_bytes;
	int32_t offset_metadata_max_bytes;
	int32_t offsets_commit_timeout_ms;
	int32_t offsets_retention_minutes;
	char *metrics_listener;
	tern_conf_list_t debug;
} broker_config_t;

/* The effective settings of one topic (broker_topic_table): every key takes
 * its default from a broker key (the entry's .inherit) unless the topic
 * overrides it. Holds no strings: no tern_conf_free() needed. */
typedef struct broker_topic_config {
	int64_t retention_ms;
	int64_t retention_bytes;
	int32_t segment_bytes;
	int64_t segment_ms;
	int32_t segment_index_bytes;
	int32_t index_interval_bytes;
	int flush_policy; /* log_flush_policy_t */
	int64_t flush_ms;
	int32_t max_message_bytes;
	int compression_type;
	int message_timestamp_type;
	int32_t min_insync_replicas;
	bool unclean_leader_election_enable;
	bool eligible_leader_replicas_enable;
} broker_topic_config_t;

extern const tern_conf_table_t broker_config_table;
extern const tern_conf_table_t broker_topic_table;

/* Checks what no single key can: metadata.store=zookeeper needs
 * zookeeper.connect; a broker without the controller role under the embedded
 * store needs controller.connect; listeners that bind every interface need
 * advertised.listeners, which, when set, pairs one address with each
 * listener. Run it once every key is set. */
tern_err_t broker_config_validate(const broker_config_t *c, char *errstr, size_t errlen);

/* The effective settings of a topic: the broker's current values of the keys
 * the topic keys inherit, then the topic's overrides (n of them; topic keys,
 * as given to CreateTopics or AlterConfigs) in order. *out is written only
 * on success; errors name the key (TERN_ERR_INVALID_CONFIG). */
tern_err_t broker_topic_resolve(const broker_config_t *b, const tern_conf_kv_t *overrides, size_t n,
				broker_topic_config_t *out, char *errstr, size_t errlen);

/* Kafka's rules for a topic name: 1 to 249 characters of [a-zA-Z0-9._-],
 * not "." or "..". On false, why says what is wrong. */
bool broker_topic_name_valid(const char *name, size_t len, char *why, size_t whylen);

/* The storage settings of a topic's partition logs. */
void broker_topic_log_config(const broker_topic_config_t *t, log_config_t *out);

/* docs/configuration.md: the broker and topic tables in Markdown, with the
 * text around them. *out is malloc()ed; the caller frees it. tern-config-doc
 * prints it and a test keeps the committed file equal to it. */
tern_err_t broker_config_doc(char **out);

#endif
