/* client/client.h: what the two halves of libtern (producer/, consumer/)
 * share: the conf object of tern/conf.h, which holds one settings struct per
 * client scope, and the two declarative tables that fill them. A key of
 * tern_conf_set() goes to every scope that knows it (bootstrap.servers,
 * client.id, request.timeout.ms, ... are in both), so one conf can start a
 * producer and a consumer alike; each client reads its own struct. */
#ifndef TERN_CLIENT_CLIENT_H
#define TERN_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "tern/conf.h"

/* ------------------------------------------------------------------------ */
/* Producer scope                                                             */

enum prod_partitioner {
	PROD_PARTITIONER_MURMUR2_RANDOM = 0, /* Kafka's Java client: sticky for null keys */
	PROD_PARTITIONER_MURMUR2 = 1,	     /* librdkafka's: null keys hash as empty */
};

/* The producer's settings, filled from prod_config_table. */
typedef struct prod_config {
	tern_conf_list_t bootstrap_servers;
	int acks; /* -1, 0 or 1 */
	bool enable_idempotence;
	int32_t linger_ms;
	int32_t batch_size;
	int compression_type; /* LOG_CODEC_NONE or LOG_CODEC_ZSTD */
	int32_t compression_level;
	int64_t buffer_memory;
	int64_t max_block_ms;
	int32_t retries;
	int32_t retry_backoff_ms;
	int32_t delivery_timeout_ms;
	int32_t request_timeout_ms;
	int32_t max_in_flight;
	char *client_id;
	int32_t message_max_bytes;
	int partitioner;
	int32_t metadata_max_age_ms;
	int32_t connection_setup_timeout_ms;
	int32_t log_level;
} prod_config_t;

extern const tern_conf_table_t prod_config_table;

/* ------------------------------------------------------------------------ */
/* Consumer scope                                                             */

enum cons_reset {
	CONS_RESET_LATEST = 0,
	CONS_RESET_EARLIEST = 1,
	CONS_RESET_NONE = 2, /* surface OFFSET_OUT_OF_RANGE to the application */
};

/* The consumer's settings, filled from cons_config_table. */
typedef struct cons_config {
	tern_conf_list_t bootstrap_servers;
	char *group_id; /* "" for none */
	int auto_offset_reset;
	bool enable_auto_commit;
	int32_t auto_commit_interval_ms;
	int32_t fetch_min_bytes;
	int32_t fetch_max_wait_ms;
	int32_t fetch_max_bytes;
	int32_t max_partition_fetch_bytes;
	bool check_crcs;
	int32_t queued_max_kbytes;
	bool enable_partition_eof;
	char *client_id;
	int32_t request_timeout_ms;
	int32_t retry_backoff_ms;
	int32_t metadata_max_age_ms;
	int32_t connection_setup_timeout_ms;
	int32_t log_level;
} cons_config_t;

extern const tern_conf_table_t cons_config_table;

/* ------------------------------------------------------------------------ */
/* The conf object                                                            */

/* The public conf: one struct per scope, which producer keys were set
 * explicitly (Kafka disables idempotence quietly when it was not asked for
 * and other keys conflict with it), and the log callback. Invariant: a key
 * both tables know holds the same value in both structs. */
struct tern_conf {
	prod_config_t prod;
	cons_config_t cons;
	bool idempotence_set;
	tern_log_cb *log_cb;
	void *log_opaque;
};

/* tcp://HOST:PORT with a port in 1..65535: the check of every
 * bootstrap.servers item (a tern_conf_check_fn). */
bool client_check_server(const char *s, char *why, size_t whylen);

#endif
