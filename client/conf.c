/* client/conf.c: the conf object of tern/conf.h and the declarative
 * tables of its two scopes, the producer's and the consumer's (Kafka's and
 * librdkafka's names and defaults). tern_conf_set() offers a key to both;
 * the checks across keys are made by the client that takes the conf. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "log/log.h"

/* tcp://HOST:PORT, a port in 1..65535 and nothing after it. */
bool client_check_server(const char *s, char *why, size_t whylen)
{
	const char *host, *colon, *q;
	long port = 0;

	if (strncmp(s, "tcp://", 6) != 0) {
		snprintf(why, whylen, "'%s' is not tcp://HOST:PORT", s);
		return false;
	}
	host = s + 6;
	colon = strrchr(host, ':');
	if (!colon || colon == host || !colon[1] || strchr(host, '/')) {
		snprintf(why, whylen, "'%s' is not tcp://HOST:PORT", s);
		return false;
	}
	for (q = colon + 1; *q; q++) {
		if (*q < '0' || *q > '9' || port > 65535) {
			snprintf(why, whylen, "'%s' has no port number after the last ':'", s);
			return false;
		}
		port = port * 10 + (*q - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(why, whylen, "port %ld of '%s' is not in 1..65535", port, s);
		return false;
	}
	return true;
}

static const tern_conf_enum_t acks_values[] = {
    {"all", -1}, {"-1", -1}, {"1", 1}, {"0", 0}, {NULL, 0},
};

static const tern_conf_enum_t compression_values[] = {
    {"zstd", LOG_CODEC_ZSTD},
    {"none", LOG_CODEC_NONE},
    {"uncompressed", LOG_CODEC_NONE},
    {NULL, 0},
};

static const tern_conf_enum_t partitioner_values[] = {
    {"murmur2_random", PROD_PARTITIONER_MURMUR2_RANDOM},
    {"murmur2", PROD_PARTITIONER_MURMUR2},
    {NULL, 0},
};

#define ST prod_config_t

static const tern_conf_entry_t prod_entries[] = {
    {TERN_CONF_LIST(ST, bootstrap_servers, "bootstrap.servers", "tcp://127.0.0.1:9700", NULL),
     .flags = TERN_CONF_NONEMPTY, .check = client_check_server, .importance = TERN_CONF_HIGH,
     .doc = "Brokers to ask for metadata first, a comma-separated list of tcp://HOST:PORT."},
    {TERN_CONF_ENUM(ST, acks, "acks", "all", acks_values), .importance = TERN_CONF_HIGH,
     .doc = "Acknowledgements a write waits for: all (-1) every in-sync replica, 1 the "
	    "leader, 0 none (no offsets, no retries of what was lost)."},
    {TERN_CONF_BOOL(ST, enable_idempotence, "enable.idempotence", "true"),
     .importance = TERN_CONF_HIGH,
     .doc = "Write every record exactly once and in order per partition (producer id and "
	    "sequence numbers); needs acks=all, retries > 0 and "
	    "max.in.flight.requests.per.connection <= 5."},
    {TERN_CONF_INT32(ST, linger_ms, "linger.ms", "5", 0, 900000), .unit = TERN_CONF_UNIT_MS,
     .importance = TERN_CONF_MEDIUM,
     .doc = "How long a batch waits for more records before it is sent."},
    {TERN_CONF_INT32(ST, batch_size, "batch.size", "1000000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Largest batch of one partition, in uncompressed bytes (librdkafka's default: "
	    "one request is in flight per partition, so a batch carries what arrives "
	    "during a round trip)."},
    {TERN_CONF_ENUM(ST, compression_type, "compression.type", "zstd", compression_values),
     .importance = TERN_CONF_HIGH,
     .doc = "Codec of the batches the producer builds: zstd, or none (uncompressed)."},
    {TERN_CONF_INT32(ST, compression_level, "compression.level", "-1", -1, 22),
     .importance = TERN_CONF_LOW, .doc = "zstd level, -1 for the codec's default (1)."},
    {TERN_CONF_INT64(ST, buffer_memory, "buffer.memory", "33554432", 1024, INT64_MAX / 2),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_HIGH,
     .doc = "Memory for records not yet delivered; tern_produce() blocks when it is used up."},
    {TERN_CONF_INT64(ST, max_block_ms, "max.block.ms", "60000", 0, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_MEDIUM,
     .doc = "Longest tern_produce() blocks for memory or a topic's metadata before it fails."},
    {TERN_CONF_INT32(ST, retries, "retries", "2147483647", 0, INT32_MAX),
     .importance = TERN_CONF_HIGH,
     .doc = "Sends of a batch after the first on retriable errors (delivery.timeout.ms "
	    "bounds them too)."},
    {TERN_CONF_INT32(ST, retry_backoff_ms, "retry.backoff.ms", "100", 0, 3600000),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Wait before a batch is sent again, and between metadata requests."},
    {TERN_CONF_INT32(ST, delivery_timeout_ms, "delivery.timeout.ms", "120000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_MEDIUM,
     .doc = "Longest time from tern_produce() to the record's callback, retries included."},
    {TERN_CONF_INT32(ST, request_timeout_ms, "request.timeout.ms", "30000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_MEDIUM,
     .doc = "Longest wait for the answer to one request before it counts as failed."},
    {TERN_CONF_INT32(ST, max_in_flight, "max.in.flight.requests.per.connection", "5", 1, 1000),
     .importance = TERN_CONF_LOW,
     .doc = "Connections per broker, each with one request in flight; a partition's requests "
	    "all use one of them, one at a time."},
    {TERN_CONF_STRING(ST, client_id, "client.id", "tern"), .importance = TERN_CONF_MEDIUM,
     .doc = "Name sent with every request, for the broker's logs."},
    {TERN_CONF_INT32(ST, message_max_bytes, "message.max.bytes", "1000000", 1000, 1000000000),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Largest record, batch and request the producer sends."},
    {TERN_CONF_ENUM(ST, partitioner, "partitioner", "murmur2_random", partitioner_values),
     .importance = TERN_CONF_LOW,
     .doc = "murmur2_random: murmur2 of the key as Kafka's Java client, a sticky partition "
	    "for null keys; murmur2: null keys hash as an empty key."},
    {TERN_CONF_INT32(ST, metadata_max_age_ms, "metadata.max.age.ms", "300000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Metadata is refreshed at least this often, and at once after errors."},
    {TERN_CONF_INT32(ST, connection_setup_timeout_ms, "socket.connection.setup.timeout.ms", "10000",
		     1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Longest wait for a connection to a broker before a request fails unsent."},
    {TERN_CONF_INT32(ST, log_level, "log_level", "6", 0, 7), .importance = TERN_CONF_LOW,
     .doc = "Most verbose level (syslog numbers, 7 debug) handed to the log callback."},
};

#undef ST

const tern_conf_table_t prod_config_table = {
    .scope = "producer",
    .entries = prod_entries,
    .n = sizeof(prod_entries) / sizeof(prod_entries[0]),
    .size = sizeof(prod_config_t),
};

static const tern_conf_enum_t reset_values[] = {
    {"latest", CONS_RESET_LATEST},
    {"largest", CONS_RESET_LATEST},
    {"end", CONS_RESET_LATEST},
    {"earliest", CONS_RESET_EARLIEST},
    {"smallest", CONS_RESET_EARLIEST},
    {"beginning", CONS_RESET_EARLIEST},
    {"none", CONS_RESET_NONE},
    {"error", CONS_RESET_NONE},
    {NULL, 0},
};

#define ST cons_config_t

/* The keys both scopes know have the same defaults, ranges and checks in
 * both tables, so that a value one accepts the other accepts too. */
static const tern_conf_entry_t cons_entries[] = {
    {TERN_CONF_LIST(ST, bootstrap_servers, "bootstrap.servers", "tcp://127.0.0.1:9700", NULL),
     .flags = TERN_CONF_NONEMPTY, .check = client_check_server, .importance = TERN_CONF_HIGH,
     .doc = "Brokers to ask for metadata first, a comma-separated list of tcp://HOST:PORT."},
    {TERN_CONF_STRING(ST, group_id, "group.id", ""), .importance = TERN_CONF_HIGH,
     .doc = "Consumer group whose committed offsets the consumer reads and writes; empty: "
	    "none (commits are refused, stored offsets fall back to auto.offset.reset)."},
    {TERN_CONF_ENUM(ST, auto_offset_reset, "auto.offset.reset", "latest", reset_values),
     .importance = TERN_CONF_HIGH,
     .doc = "Where to start when there is no committed offset or the position is out of "
	    "range: latest (the high-water mark), earliest (the log start), or none (poll "
	    "returns OFFSET_OUT_OF_RANGE and the partition waits for a seek)."},
    {TERN_CONF_BOOL(ST, enable_auto_commit, "enable.auto.commit", "true"),
     .importance = TERN_CONF_MEDIUM,
     .doc = "Commit the positions of records already returned by poll every "
	    "auto.commit.interval.ms, and at close (needs group.id)."},
    {TERN_CONF_INT32(ST, auto_commit_interval_ms, "auto.commit.interval.ms", "5000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "How often positions are committed when enable.auto.commit is on."},
    {TERN_CONF_INT32(ST, fetch_min_bytes, "fetch.min.bytes", "1", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Bytes a Fetch waits for (up to fetch.max.wait.ms) before the broker answers."},
    {TERN_CONF_INT32(ST, fetch_max_wait_ms, "fetch.max.wait.ms", "500", 0, 300000),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Longest a Fetch waits at the broker for fetch.min.bytes (the long poll)."},
    {TERN_CONF_INT32(ST, fetch_max_bytes, "fetch.max.bytes", "52428800", 1024, 100000000),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Bytes one Fetch response may carry over all its partitions (the first batch is "
	    "returned even when larger)."},
    {TERN_CONF_INT32(ST, max_partition_fetch_bytes, "max.partition.fetch.bytes", "1048576", 1,
		     100000000),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Bytes one Fetch response may carry for one partition (the first batch is "
	    "returned even when larger)."},
    {TERN_CONF_BOOL(ST, check_crcs, "check.crcs", "true"), .importance = TERN_CONF_MEDIUM,
     .doc = "Verify the CRC-32C of every fetched batch; a mismatch is returned by poll as "
	    "CORRUPT_MESSAGE and none of the batch's records are delivered."},
    {TERN_CONF_INT32(ST, queued_max_kbytes, "queued.max.messages.kbytes", "65536", 1, 2097151),
     .importance = TERN_CONF_MEDIUM,
     .doc = "KiB of fetched records waiting for poll (librdkafka's key): no Fetch is sent "
	    "while the queue holds this much, and a Fetch asks for no more than the room left "
	    "(the broker's first batch excepted)."},
    {TERN_CONF_BOOL(ST, enable_partition_eof, "enable.partition.eof", "false"),
     .importance = TERN_CONF_LOW,
     .doc = "poll returns a _PARTITION_EOF event each time a partition's position reaches "
	    "its high-water mark."},
    {TERN_CONF_STRING(ST, client_id, "client.id", "tern"), .importance = TERN_CONF_MEDIUM,
     .doc = "Name sent with every request, for the broker's logs."},
    {TERN_CONF_INT32(ST, request_timeout_ms, "request.timeout.ms", "30000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_MEDIUM,
     .doc = "Longest wait for the answer to one request before it counts as failed."},
    {TERN_CONF_INT32(ST, retry_backoff_ms, "retry.backoff.ms", "100", 0, 3600000),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Wait before a request is sent again, and between metadata requests."},
    {TERN_CONF_INT32(ST, metadata_max_age_ms, "metadata.max.age.ms", "300000", 1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Metadata is refreshed at least this often, and at once after errors."},
    {TERN_CONF_INT32(ST, connection_setup_timeout_ms, "socket.connection.setup.timeout.ms", "10000",
		     1, INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_LOW,
     .doc = "Longest wait for a connection to a broker before a request fails unsent."},
    {TERN_CONF_INT32(ST, log_level, "log_level", "6", 0, 7), .importance = TERN_CONF_LOW,
     .doc = "Most verbose level (syslog numbers, 7 debug) handed to the log callback."},
};

#undef ST

const tern_conf_table_t cons_config_table = {
    .scope = "consumer",
    .entries = cons_entries,
    .n = sizeof(cons_entries) / sizeof(cons_entries[0]),
    .size = sizeof(cons_config_t),
};

tern_conf_t *tern_conf_new(void)
{
	tern_conf_t *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (tern_conf_init(&prod_config_table, &c->prod, NULL, 0) != TERN_OK) {
		free(c);
		return NULL;
	}
	if (tern_conf_init(&cons_config_table, &c->cons, NULL, 0) != TERN_OK) {
		tern_conf_free(&prod_config_table, &c->prod);
		free(c);
		return NULL;
	}
	return c;
}

tern_err_t tern_conf_set(tern_conf_t *conf, const char *key, const char *value, char *errstr,
			 size_t errlen)
{
	bool in_prod, in_cons;
	char *old = NULL;
	tern_err_t err;

	if (!conf || !key || !value) {
		if (errstr && errlen)
			snprintf(errstr, errlen, "tern_conf_set: NULL argument");
		return TERN_ERR__INVALID_ARG;
	}
	in_prod = tern_conf_find(&prod_config_table, key) != NULL;
	in_cons = tern_conf_find(&cons_config_table, key) != NULL;
	if (!in_prod)
		return tern_conf_table_set(&cons_config_table, &conf->cons, key, value, errstr,
					   errlen);
	if (in_cons) {
		/* Both scopes: keep the consumer's value to put back should
		 * the producer's table refuse what the consumer's took. */
		err = tern_conf_table_get(&cons_config_table, &conf->cons, key, &old);
		if (err)
			return err;
		err = tern_conf_table_set(&cons_config_table, &conf->cons, key, value, errstr,
					  errlen);
		if (err) {
			free(old);
			return err;
		}
	}
	err = tern_conf_table_set(&prod_config_table, &conf->prod, key, value, errstr, errlen);
	if (err && in_cons)
		tern_conf_table_set(&cons_config_table, &conf->cons, key, old, NULL, 0);
	free(old);
	if (err == TERN_OK && strcmp(key, "enable.idempotence") == 0)
		conf->idempotence_set = true;
	return err;
}

tern_err_t tern_conf_get(const tern_conf_t *conf, const char *key, char **out)
{
	if (!conf || !key || !out)
		return TERN_ERR__INVALID_ARG;
	if (tern_conf_find(&prod_config_table, key))
		return tern_conf_table_get(&prod_config_table, &conf->prod, key, out);
	if (tern_conf_find(&cons_config_table, key))
		return tern_conf_table_get(&cons_config_table, &conf->cons, key, out);
	return TERN_ERR_INVALID_CONFIG;
}

void tern_conf_set_log_cb(tern_conf_t *conf, tern_log_cb *cb, void *opaque)
{
	conf->log_cb = cb;
	conf->log_opaque = opaque;
}

void tern_conf_destroy(tern_conf_t *conf)
{
	if (!conf)
		return;
	tern_conf_free(&prod_config_table, &conf->prod);
	tern_conf_free(&cons_config_table, &conf->cons);
	free(conf);
}
