/* producer/conf.c: the producer's configuration table (Kafka's and
 * librdkafka's names and defaults), the tern_conf_* API of tern/conf.h, and
 * the checks across keys made when a producer starts. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/producer_int.h"

/* tcp://HOST:PORT, a port in 1..65535 and nothing after it. */
static bool check_server(const char *s, char *why, size_t whylen)
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
	 .flags = TERN_CONF_NONEMPTY, .check = check_server, .importance = TERN_CONF_HIGH,
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
	{TERN_CONF_INT32(ST, connection_setup_timeout_ms, "socket.connection.setup.timeout.ms",
			 "10000", 1, INT32_MAX),
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

tern_conf_t *tern_conf_new(void)
{
	tern_conf_t *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (tern_conf_init(&prod_config_table, &c->prod, NULL, 0) != TERN_OK) {
		free(c);
		return NULL;
	}
	return c;
}

tern_err_t tern_conf_set(tern_conf_t *conf, const char *key, const char *value, char *errstr,
			 size_t errlen)
{
	tern_err_t err;

	if (!conf || !key || !value) {
		if (errstr && errlen)
			snprintf(errstr, errlen, "tern_conf_set: NULL argument");
		return TERN_ERR__INVALID_ARG;
	}
	err = tern_conf_table_set(&prod_config_table, &conf->prod, key, value, errstr, errlen);
	if (err == TERN_OK && strcmp(key, "enable.idempotence") == 0)
		conf->idempotence_set = true;
	return err;
}

tern_err_t tern_conf_get(const tern_conf_t *conf, const char *key, char **out)
{
	if (!conf || !key || !out)
		return TERN_ERR__INVALID_ARG;
	if (!tern_conf_find(&prod_config_table, key))
		return TERN_ERR_INVALID_CONFIG;
	return tern_conf_table_get(&prod_config_table, &conf->prod, key, out);
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
	free(conf);
}

tern_err_t prod_config_resolve(const tern_conf_t *c, bool *idempotent, char *errstr, size_t errlen,
			       char *why_off, size_t whylen)
{
	const prod_config_t *p = &c->prod;
	bool idem = p->enable_idempotence;

	snprintf(why_off, whylen, "%s", "");
	if (idem) {
		const char *conflict = NULL;

		if (p->acks != -1)
			conflict = "acks must be all";
		else if (p->retries == 0)
			conflict = "retries must be above 0";
		else if (p->max_in_flight > 5)
			conflict = "max.in.flight.requests.per.connection must be at most 5";
		if (conflict && c->idempotence_set) {
			snprintf(errstr, errlen, "enable.idempotence=true: %s", conflict);
			return TERN_ERR_INVALID_CONFIG;
		}
		if (conflict) {
			/* Kafka's rule (KIP-679): a default that other keys
			 * contradict gives way to them. */
			snprintf(why_off, whylen, "idempotence off: %s for it", conflict);
			idem = false;
		}
	}
	if ((int64_t)p->delivery_timeout_ms < (int64_t)p->linger_ms + p->request_timeout_ms) {
		snprintf(errstr, errlen,
			 "delivery.timeout.ms (%d) must be at least linger.ms + request.timeout.ms (%lld)",
			 p->delivery_timeout_ms,
			 (long long)((int64_t)p->linger_ms + p->request_timeout_ms));
		return TERN_ERR_INVALID_CONFIG;
	}
	if (p->batch_size > p->message_max_bytes) {
		snprintf(errstr, errlen, "batch.size (%d) must not exceed message.max.bytes (%d)",
			 p->batch_size, p->message_max_bytes);
		return TERN_ERR_INVALID_CONFIG;
	}
	if (p->buffer_memory < p->message_max_bytes) {
		snprintf(errstr, errlen, "buffer.memory (%lld) must be at least message.max.bytes (%d)",
			 (long long)p->buffer_memory, p->message_max_bytes);
		return TERN_ERR_INVALID_CONFIG;
	}
	*idempotent = idem;
	return TERN_OK;
}
