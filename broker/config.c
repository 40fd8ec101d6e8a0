/* The broker and topic configuration tables of ternd, the checks across keys,
 * the resolution of a topic's effective settings, and docs/configuration.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"

/* ------------------------------------------------------------------------ */
/* Value checks                                                               */

/* HOST:PORT with a non-empty host (a [v6] address keeps its brackets) and a
 * port in 1..65535; len bytes of s. */
static bool check_hostport(const char *s, size_t len, char *why, size_t whylen)
{
	const char *colon = NULL, *p;
	long port = 0;

	for (p = s; p < s + len; p++)
		if (*p == ':')
			colon = p;
	if (!colon || colon == s) {
		snprintf(why, whylen, "expected HOST:PORT");
		return false;
	}
	if (colon == s + len - 1 || colon + 1 + 5 < s + len) {
		snprintf(why, whylen, "expected a port number after the last ':'");
		return false;
	}
	for (p = colon + 1; p < s + len; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(why, whylen, "expected a port number after the last ':'");
			return false;
		}
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(why, whylen, "port %ld is not in 1..65535", port);
		return false;
	}
	return true;
}

/* scheme://HOST:PORT and nothing more. */
static bool check_url(const char *scheme, const char *s, char *why, size_t whylen)
{
	size_t n = strlen(scheme);

	if (strncmp(s, scheme, n) != 0 || strncmp(s + n, "://", 3) != 0 || strchr(s + n + 3, '/')) {
		snprintf(why, whylen, "expected %s://HOST:PORT", scheme);
		return false;
	}
	return check_hostport(s + n + 3, strlen(s + n + 3), why, whylen);
}

/* Whether the host of a checked tcp://HOST:PORT binds every interface. */
static bool is_wildcard(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	size_t len = (size_t)(strrchr(host, ':') - host);

	return (len == 1 && host[0] == '*') || (len == 7 && !strncmp(host, "0.0.0.0", 7)) ||
	       (len == 4 && !strncmp(host, "[::]", 4));
}

static bool check_listener(const char *s, char *why, size_t whylen)
{
	return check_url("tcp", s, why, whylen);
}

/* An address others connect to: a listener that names one host. */
static bool check_address(const char *s, char *why, size_t whylen)
{
	if (!check_listener(s, why, whylen))
		return false;
	if (is_wildcard(s)) {
		snprintf(why, whylen, "others cannot connect to every interface; name one host");
		return false;
	}
	return true;
}

/* http://HOST:PORT, where port 0 picks a free port; empty: none. */
static bool check_http(const char *s, char *why, size_t whylen)
{
	char copy[300];
	size_t n = strlen(s);

	if (n == 0)
		return true;
	if (n >= 2 && n < sizeof copy && strcmp(s + n - 2, ":0") == 0) {
		memcpy(copy, s, n + 1);
		copy[n - 1] = '1';
		return check_url("http", copy, why, whylen);
	}
	return check_url("http", s, why, whylen);
}

/* ZooKeeper's connect string: host:port[,host:port...][/chroot]. */
static bool check_zk_connect(const char *s, char *why, size_t whylen)
{
	const char *end = strchr(s, '/'), *p = s;

	if (!end)
		end = s + strlen(s);
	else if (end[1] == '\0' || end[strlen(end) - 1] == '/') {
		snprintf(why, whylen, "the chroot path must not end with '/'");
		return false;
	}
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *item_end = comma ? comma : end;

		if (!check_hostport(p, (size_t)(item_end - p), why, whylen)) {
			snprintf(why, whylen, "expected HOST:PORT[,HOST:PORT...][/chroot]");
			return false;
		}
		if (!comma)
			return true;
		p = comma + 1;
	}
}

/* ------------------------------------------------------------------------ */
/* The tables                                                                 */

static const tern_conf_enum_t flush_policies[] = {
    {"sync", LOG_FLUSH_SYNC},
    {"async", LOG_FLUSH_ASYNC},
    {NULL, 0},
};

static const tern_conf_enum_t compression_types[] = {
    {"producer", BROKER_COMPRESSION_PRODUCER},
    {"zstd", BROKER_COMPRESSION_ZSTD},
    {"uncompressed", BROKER_COMPRESSION_UNCOMPRESSED},
    {NULL, 0},
};

static const tern_conf_enum_t timestamp_types[] = {
    {"CreateTime", BROKER_TIMESTAMP_CREATE_TIME},
    {"LogAppendTime", BROKER_TIMESTAMP_LOG_APPEND_TIME},
    {NULL, 0},
};

static const tern_conf_enum_t metadata_stores[] = {
    {"embedded", BROKER_METADATA_EMBEDDED},
    {"zookeeper", BROKER_METADATA_ZOOKEEPER},
    {NULL, 0},
};

static const tern_conf_enum_t roles[] = {{"broker", 0}, {"controller", 0}, {NULL, 0}};

static const tern_conf_enum_t debug_contexts[] = {
    {"log", 0}, {"isr", 0}, {"net", 0}, {"proto", 0}, {"ctrl", 0}, {"all", 0}, {NULL, 0},
};

/* The heads of the rows that a broker key and the topic key that inherits it
 * share: type, default, range and unit are one definition for both. */
#define ROW_RETENTION_MS(st, f, key)                                                               \
	TERN_CONF_INT64(st, f, key, "604800000", -1, INT64_MAX), .unit = TERN_CONF_UNIT_MS
#define ROW_RETENTION_BYTES(st, f, key)                                                            \
	TERN_CONF_INT64(st, f, key, "-1", -1, INT64_MAX), .unit = TERN_CONF_UNIT_BYTES
#define ROW_SEGMENT_BYTES(st, f, key)                                                              \
	TERN_CONF_INT32(st, f, key, "1073741824", 14, INT32_MAX), .unit = TERN_CONF_UNIT_BYTES
#define ROW_SEGMENT_MS(st, f, key)                                                                 \
	TERN_CONF_INT64(st, f, key, "604800000", 1, INT64_MAX), .unit = TERN_CONF_UNIT_MS
#define ROW_INDEX_BYTES(st, f, key)                                                                \
	TERN_CONF_INT32(st, f, key, "10485760", 4, INT32_MAX), .unit = TERN_CONF_UNIT_BYTES
#define ROW_INDEX_INTERVAL(st, f, key)                                                             \
	TERN_CONF_INT32(st, f, key, "4096", 0, INT32_MAX), .unit = TERN_CONF_UNIT_BYTES
#define ROW_FLUSH_POLICY(st, f, key) TERN_CONF_ENUM(st, f, key, "sync", flush_policies)
#define ROW_FLUSH_MS(st, f, key)                                                                   \
	TERN_CONF_INT64(st, f, key, "1000", 1, INT64_MAX), .unit = TERN_CONF_UNIT_MS
/* A batch needs its 61-byte header: a smaller cap would refuse every one. */
#define ROW_MAX_MESSAGE(st, f, key)                                                                \
	TERN_CONF_INT32(st, f, key, "1048588", LOG_BATCH_HEADER_SIZE, INT32_MAX),                  \
	    .unit = TERN_CONF_UNIT_BYTES
#define ROW_COMPRESSION(st, f, key)    TERN_CONF_ENUM(st, f, key, "producer", compression_types)
#define ROW_TIMESTAMP_TYPE(st, f, key) TERN_CONF_ENUM(st, f, key, "CreateTime", timestamp_types)
#define ROW_MIN_ISR(st, f, key)	       TERN_CONF_INT32(st, f, key, "1", 1, INT32_MAX)
#define ROW_UNCLEAN(st, f, key)	       TERN_CONF_BOOL(st, f, key, "false")
#define ROW_ELR(st, f, key)	       TERN_CONF_BOOL(st, f, key, "false")

#define B broker_config_t

static const tern_conf_entry_t broker_entries[] = {
    {TERN_CONF_INT32(B, broker_id, "broker.id", "0", 0, INT32_MAX), .importance = TERN_CONF_HIGH,
     .doc = "Id of this broker, unique in the cluster (the default 0 suits a single ternd --dev)."},
    {TERN_CONF_LIST(B, process_roles, "process.roles", "broker,controller", roles),
     .flags = TERN_CONF_NONEMPTY, .importance = TERN_CONF_HIGH,
     .doc = "What this process is: a broker, the embedded controller, or both (as ternd --dev)."},
    {TERN_CONF_LIST(B, listeners, "listeners", "tcp://127.0.0.1:9700", NULL),
     .flags = TERN_CONF_NONEMPTY, .importance = TERN_CONF_HIGH, .check = check_listener,
     .doc = "Addresses the broker takes requests on, tcp://HOST:PORT; HOST * binds every "
	    "interface."},
    {TERN_CONF_LIST(B, advertised_listeners, "advertised.listeners", "", NULL),
     .importance = TERN_CONF_HIGH, .check = check_address,
     .doc = "Addresses given to clients and other brokers, one for each of listeners in the same "
	    "order; empty: listeners themselves."},
    {TERN_CONF_STRING(B, controller_connect, "controller.connect", ""),
     .importance = TERN_CONF_HIGH, .check = check_address,
     .doc = "The controller's listener, tcp://HOST:PORT, for a broker whose process.roles lacks "
	    "controller under the embedded store."},
    {TERN_CONF_INT32(B, broker_session_timeout_ms, "broker.session.timeout.ms", "9000", 100,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_HIGH,
     .doc = "A broker that sends the controller no heartbeat for this long is declared dead: it "
	    "leaves every ISR and the partitions it led elect new leaders."},
    {TERN_CONF_INT32(B, broker_heartbeat_interval_ms, "broker.heartbeat.interval.ms", "500", 10,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_MEDIUM,
     .doc = "How often a broker heartbeats to the controller; each heartbeat also brings the "
	    "metadata changes since the last one."},
    {TERN_CONF_ENUM(B, metadata_store, "metadata.store", "embedded", metadata_stores),
     .importance = TERN_CONF_HIGH,
     .doc = "Where the controller keeps cluster metadata: embedded (a file in its data "
	    "directory) or zookeeper (see zookeeper.connect)."},
    {TERN_CONF_STRING(B, zookeeper_connect, "zookeeper.connect", ""), .importance = TERN_CONF_HIGH,
     .check = check_zk_connect,
     .doc = "The ZooKeeper ensemble of metadata.store=zookeeper, "
	    "HOST:PORT[,HOST:PORT...][/chroot]."},
    {TERN_CONF_INT32(B, zookeeper_session_timeout_ms, "zookeeper.session.timeout.ms", "18000", 1,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_HIGH,
     .doc = "ZooKeeper session timeout: a broker silent for this long loses its registration "
	    "and, if it had it, the controller role."},
    {TERN_CONF_LIST(B, log_dirs, "log.dirs", "./tern-data", NULL), .flags = TERN_CONF_NONEMPTY,
     .importance = TERN_CONF_HIGH,
     .doc = "Data directories that hold the partition logs and their checkpoints."},
    {TERN_CONF_INT32(B, num_io_threads, "num.io.threads", "2", 1, 256),
     .importance = TERN_CONF_HIGH, .doc = "Threads that process requests, log reads included."},
    {TERN_CONF_INT32(B, log_writer_threads, "log.writer.threads", "1", 1, 64),
     .importance = TERN_CONF_MEDIUM,
     .doc = "io_uring writer threads of each data directory, each with its own ring."},
    {TERN_CONF_INT32(B, log_max_open_files, "log.max.open.files", "1024", 1, INT32_MAX),
     .importance = TERN_CONF_MEDIUM,
     .doc = "Segment files each data directory keeps open; the least recently used are closed "
	    "and reopened when needed."},
    {TERN_CONF_INT32(B, socket_request_max_bytes, "socket.request.max.bytes", "104857600", 1,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_HIGH,
     .doc = "Largest request the broker takes; a larger one breaks its connection."},
    {ROW_MAX_MESSAGE(B, message_max_bytes, "message.max.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "Largest record batch accepted, compressed, with its 12-byte log overhead."},
    {TERN_CONF_INT32(B, num_partitions, "num.partitions", "1", 1, INT32_MAX),
     .importance = TERN_CONF_MEDIUM,
     .doc = "Partitions of a topic created without a partition count, auto-created ones "
	    "included."},
    {TERN_CONF_INT32(B, default_replication_factor, "default.replication.factor", "1", 1,
		     INT32_MAX),
     .importance = TERN_CONF_MEDIUM,
     .doc = "Replicas of a topic created without a replication factor, auto-created ones "
	    "included."},
    {TERN_CONF_BOOL(B, auto_create_topics_enable, "auto.create.topics.enable", "true"),
     .importance = TERN_CONF_HIGH,
     .doc = "Create a topic when a client asks for the metadata of a topic that does not "
	    "exist."},
    {ROW_MIN_ISR(B, min_insync_replicas, "min.insync.replicas"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "Fewest in-sync replicas an acks=all write needs: with fewer, a partition refuses "
	    "such writes and its high-water mark stops."},
    {ROW_UNCLEAN(B, unclean_leader_election_enable, "unclean.leader.election.enable"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_HIGH,
     .doc = "Elect a replica from outside the ISR when no member of the ISR is left, losing "
	    "the records it lacks."},
    {ROW_ELR(B, eligible_leader_replicas_enable, "eligible.leader.replicas.enable"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .doc = "Keep replicas that left the ISR holding every committed record as eligible "
	    "leaders (Kafka's KIP-966)."},
    {TERN_CONF_INT64(B, replica_lag_time_max_ms, "replica.lag.time.max.ms", "30000", 1, INT64_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_HIGH,
     .doc = "A follower that has not caught up with the leader's log end for this long leaves "
	    "the ISR."},
    {TERN_CONF_INT64(B, leader_replication_throttled_rate, "leader.replication.throttled.rate",
		     "9223372036854775807", 1, INT64_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Bytes per second a leader serves, in all, to followers outside the ISR (catching "
	    "up from far behind), so that they do not starve its clients; followers in the ISR "
	    "are never throttled."},
    {ROW_COMPRESSION(B, compression_type, "compression.type"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "Codec of stored batches: producer keeps the producer's; zstd or uncompressed "
	    "refuses batches in another codec (never re-encoded)."},
    {ROW_TIMESTAMP_TYPE(B, log_message_timestamp_type, "log.message.timestamp.type"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .doc = "Timestamp of stored records: the producer's (CreateTime) or the broker's clock "
	    "at append (LogAppendTime)."},
    {ROW_SEGMENT_BYTES(B, log_segment_bytes, "log.segment.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "Largest size of a segment file: a log starts a new segment rather than pass it."},
    {ROW_SEGMENT_MS(B, log_roll_ms, "log.roll.ms"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "Age at which a log starts a new segment even if the active one is not full."},
    {ROW_RETENTION_MS(B, log_retention_ms, "log.retention.ms"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "How long a segment is kept after its newest record; -1 keeps segments for ever."},
    {ROW_RETENTION_BYTES(B, log_retention_bytes, "log.retention.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "Size a partition's log may reach before its oldest segments are deleted; -1: no "
	    "limit."},
    {TERN_CONF_INT64(B, log_retention_check_interval_ms, "log.retention.check.interval.ms",
		     "300000", 1, INT64_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_MEDIUM,
     .doc = "How often the broker looks for segments that retention deletes."},
    {ROW_FLUSH_POLICY(B, log_flush_policy, "log.flush.policy"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "When a write counts: sync once fsynced (group commit); async once in the page "
	    "cache, fsynced every log.flush.interval.ms."},
    {ROW_FLUSH_MS(B, log_flush_interval_ms, "log.flush.interval.ms"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH,
     .doc = "How often a log under log.flush.policy=async is fsynced."},
    {ROW_INDEX_INTERVAL(B, log_index_interval_bytes, "log.index.interval.bytes"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .doc = "Log bytes between two entries of the sparse offset and time indexes."},
    {ROW_INDEX_BYTES(B, log_index_size_max_bytes, "log.index.size.max.bytes"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .doc = "Preallocated size of the active segment's indexes; a full index starts a new "
	    "segment."},
    {TERN_CONF_INT32(B, offsets_topic_num_partitions, "offsets.topic.num.partitions", "50", 1,
		     INT32_MAX),
     .importance = TERN_CONF_HIGH,
     .doc = "Partitions of the __consumer_offsets topic, fixed once it exists."},
    {TERN_CONF_INT32(B, offsets_topic_replication_factor, "offsets.topic.replication.factor", "3",
		     1, INT16_MAX),
     .importance = TERN_CONF_HIGH,
     .doc = "Replicas of the __consumer_offsets topic: the topic is created with the smaller "
	    "of this and the number of brokers."},
    {TERN_CONF_INT32(B, offsets_topic_segment_bytes, "offsets.topic.segment.bytes", "104857600", 14,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_HIGH,
     .doc = "Segment size of the __consumer_offsets partitions, fixed once the topic exists; a "
	    "partition that outgrows two segments and its live offsets is rewritten as a "
	    "snapshot of its latest commits."},
    {TERN_CONF_INT32(B, offset_metadata_max_bytes, "offset.metadata.max.bytes", "4096", 0,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_HIGH,
     .doc = "Largest metadata string an offset commit may carry."},
    {TERN_CONF_INT32(B, offsets_commit_timeout_ms, "offsets.commit.timeout.ms", "5000", 1,
		     INT32_MAX),
     .unit = TERN_CONF_UNIT_MS, .importance = TERN_CONF_HIGH,
     .doc = "How long an offset commit waits for its records to be acknowledged by every "
	    "in-sync replica of the __consumer_offsets partition."},
    {TERN_CONF_INT32(B, offsets_retention_minutes, "offsets.retention.minutes", "10080", 1,
		     INT32_MAX),
     .importance = TERN_CONF_HIGH,
     .doc = "Minutes the committed offsets of a group without members are kept."},
    {TERN_CONF_STRING(B, metrics_listener, "metrics.listener", "http://127.0.0.1:9701"),
     .importance = TERN_CONF_MEDIUM, .check = check_http,
     .doc = "Address of the Prometheus metrics endpoint, http://HOST:PORT (port 0: any free "
	    "port, printed at start); empty: no endpoint. A port that cannot be bound is a "
	    "warning, not a failure."},
    {TERN_CONF_LIST(B, debug, "debug", "", debug_contexts), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_LOW, .doc = "Debug log contexts to switch on."},
};

#undef B
#define T broker_topic_config_t

static const tern_conf_entry_t topic_entries[] = {
    {ROW_RETENTION_MS(T, retention_ms, "retention.ms"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.retention.ms",
     .doc = "How long a segment is kept after its newest record; -1 keeps segments for ever."},
    {ROW_RETENTION_BYTES(T, retention_bytes, "retention.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.retention.bytes",
     .doc = "Size each partition's log may reach before its oldest segments are deleted; -1: "
	    "no limit."},
    {ROW_SEGMENT_BYTES(T, segment_bytes, "segment.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.segment.bytes",
     .doc = "Largest size of a segment file."},
    {ROW_SEGMENT_MS(T, segment_ms, "segment.ms"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.roll.ms",
     .doc = "Age at which a log starts a new segment even if the active one is not full."},
    {ROW_INDEX_BYTES(T, segment_index_bytes, "segment.index.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.index.size.max.bytes",
     .doc = "Preallocated size of the active segment's indexes."},
    {ROW_INDEX_INTERVAL(T, index_interval_bytes, "index.interval.bytes"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .inherit = "log.index.interval.bytes", .doc = "Log bytes between two index entries."},
    {ROW_FLUSH_POLICY(T, flush_policy, "flush.policy"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.flush.policy",
     .doc = "When a write counts: sync once fsynced; async once in the page cache, fsynced "
	    "every flush.ms."},
    {ROW_FLUSH_MS(T, flush_ms, "flush.ms"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "log.flush.interval.ms",
     .doc = "How often the topic's logs are fsynced under flush.policy=async."},
    {ROW_MAX_MESSAGE(T, max_message_bytes, "max.message.bytes"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "message.max.bytes",
     .doc = "Largest record batch accepted, compressed, with its 12-byte log overhead."},
    {ROW_COMPRESSION(T, compression_type, "compression.type"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "compression.type",
     .doc = "Codec of stored batches: producer keeps the producer's; zstd or uncompressed "
	    "refuses batches in another codec."},
    {ROW_TIMESTAMP_TYPE(T, message_timestamp_type, "message.timestamp.type"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .inherit = "log.message.timestamp.type",
     .doc = "Timestamp of stored records: the producer's (CreateTime) or the broker's at "
	    "append (LogAppendTime)."},
    {ROW_MIN_ISR(T, min_insync_replicas, "min.insync.replicas"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_MEDIUM, .inherit = "min.insync.replicas",
     .doc = "Fewest in-sync replicas an acks=all write needs."},
    {ROW_UNCLEAN(T, unclean_leader_election_enable, "unclean.leader.election.enable"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .inherit = "unclean.leader.election.enable",
     .doc = "Elect a replica from outside the ISR when no member of the ISR is left."},
    {ROW_ELR(T, eligible_leader_replicas_enable, "eligible.leader.replicas.enable"),
     .flags = TERN_CONF_DYNAMIC, .importance = TERN_CONF_MEDIUM,
     .inherit = "eligible.leader.replicas.enable",
     .doc = "Keep replicas that left the ISR holding every committed record as eligible "
	    "leaders."},
};

#undef T

const tern_conf_table_t broker_config_table = {
    .scope = "broker",
    .entries = broker_entries,
    .n = sizeof broker_entries / sizeof broker_entries[0],
    .size = sizeof(broker_config_t),
};

const tern_conf_table_t broker_topic_table = {
    .scope = "topic",
    .entries = topic_entries,
    .n = sizeof topic_entries / sizeof topic_entries[0],
    .size = sizeof(broker_topic_config_t),
};

/* ------------------------------------------------------------------------ */
/* Checks across keys, topics                                                 */

static bool has_item(const tern_conf_list_t *l, const char *item)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], item) == 0)
			return true;
	return false;
}

tern_err_t broker_config_validate(const broker_config_t *c, char *errstr, size_t errlen)
{
	size_t i;

	if (c->metadata_store == BROKER_METADATA_ZOOKEEPER && !*c->zookeeper_connect) {
		snprintf(errstr, errlen, "metadata.store=zookeeper needs zookeeper.connect");
		return TERN_ERR_INVALID_CONFIG;
	}
	if (c->metadata_store == BROKER_METADATA_EMBEDDED &&
	    !has_item(&c->process_roles, "controller") && !*c->controller_connect) {
		snprintf(errstr, errlen,
			 "process.roles without controller needs controller.connect, the address "
			 "of the embedded controller");
		return TERN_ERR_INVALID_CONFIG;
	}
	if (c->advertised_listeners.n == 0) {
		for (i = 0; i < c->listeners.n; i++) {
			if (is_wildcard(c->listeners.v[i])) {
				snprintf(errstr, errlen,
					 "listeners: %s binds every interface; set "
					 "advertised.listeners to addresses others can reach",
					 c->listeners.v[i]);
				return TERN_ERR_INVALID_CONFIG;
			}
		}
	} else if (c->advertised_listeners.n != c->listeners.n) {
		snprintf(errstr, errlen,
			 "advertised.listeners: %zu given for %zu listeners; give one address for "
			 "each listener",
			 c->advertised_listeners.n, c->listeners.n);
		return TERN_ERR_INVALID_CONFIG;
	}
	return TERN_OK;
}

tern_err_t broker_topic_resolve(const broker_config_t *b, const tern_conf_kv_t *overrides, size_t n,
				broker_topic_config_t *out, char *errstr, size_t errlen)
{
	broker_topic_config_t t;
	tern_err_t err;
	size_t i;

	err = tern_conf_init(&broker_topic_table, &t, errstr, errlen);
	if (err)
		return err;
	err = tern_conf_inherit(&broker_topic_table, &t, &broker_config_table, b, errstr, errlen);
	for (i = 0; i < n && !err; i++)
		err = tern_conf_table_set(&broker_topic_table, &t, overrides[i].key,
					  overrides[i].value, errstr, errlen);
	if (!err)
		*out = t;
	tern_conf_free(&broker_topic_table, &t);
	return err;
}

void broker_topic_log_config(const broker_topic_config_t *t, log_config_t *out)
{
	log_config_default(out);
	out->segment_bytes = t->segment_bytes;
	out->segment_ms = t->segment_ms;
	out->retention_bytes = t->retention_bytes;
	out->retention_ms = t->retention_ms;
	out->index_interval_bytes = t->index_interval_bytes;
	out->segment_index_bytes = t->segment_index_bytes;
	out->flush_policy = (log_flush_policy_t)t->flush_policy;
	out->flush_ms = t->flush_ms;
	out->max_batch_bytes = t->max_message_bytes;
}

/* ------------------------------------------------------------------------ */
/* docs/configuration.md                                                      */

static const char doc_head[] =
    "# Configuration\n"
    "\n"
    "<!-- Generated by tern-config-doc from the tables in broker/config.c; do not\n"
    "edit by hand. After changing a table, `ninja -C build config-doc` rewrites\n"
    "this file, and the test_broker_config suite fails until it is current. -->\n"
    "\n"
    "`ternd` reads its settings from a properties file (`ternd --config FILE`, in\n"
    "the format of Kafka's `server.properties`: `key=value` lines and `#`\n"
    "comments) and from its command line (`--key=value`, after the file). Values\n"
    "are written as in Kafka: plain integers (a key's unit is in its name:\n"
    "`.ms`, `.bytes`, `.minutes`), `true` or `false`, comma-separated lists.\n"
    "Keys that Kafka has keep Kafka's names and, except where listed below,\n"
    "Kafka's defaults. A *dynamic* key can change while the broker runs; the\n"
    "others take a restart.\n"
    "\n"
    "Defaults that differ from Kafka's:\n"
    "\n"
    "- `broker.id` is 0, not -1: Tern does not generate broker ids, and 0 suits\n"
    "  a single `ternd --dev`.\n"
    "- `listeners` is Tern's native listener, `tcp://127.0.0.1:9700`.\n"
    "- `num.io.threads` is 2, not 8, sized for a small machine.\n"
    "- `log.flush.policy` (Tern's) is `sync`: a write counts once fsynced.\n"
    "  `log.flush.interval.ms` is 1000: under `async` a log is fsynced every\n"
    "  second, where Kafka leaves flushing to the operating system.\n"
    "- `process.roles` is `broker,controller`, one process with the embedded\n"
    "  controller (Kafka's is empty, ZooKeeper mode).\n"
    "- `broker.heartbeat.interval.ms` is 500, not 2000: heartbeats also carry\n"
    "  metadata changes to the brokers, which should learn of them promptly.\n"
    "\n"
    "## Broker\n"
    "\n";

static const char doc_topic[] =
    "\n"
    "## Topic\n"
    "\n"
    "A topic key overrides, for one topic, the broker key named under *Default\n"
    "from*; it is set when the topic is created or altered. A topic without an\n"
    "override follows the broker key's current value. Every topic key is\n"
    "dynamic.\n"
    "\n";

tern_err_t broker_config_doc(char **out)
{
	char *broker = NULL, *topic = NULL, *doc;
	tern_err_t err;

	err = tern_conf_markdown(&broker_config_table, &broker);
	if (!err)
		err = tern_conf_markdown(&broker_topic_table, &topic);
	if (err)
		goto out;
	if (asprintf(&doc, "%s%s%s%s", doc_head, broker, doc_topic, topic) < 0) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	*out = doc;
out:
	free(broker);
	free(topic);
	return err;
}

bool broker_topic_name_valid(const char *name, size_t len, char *why, size_t whylen)
{
	if (len == 0) {
		snprintf(why, whylen, "the topic name is empty");
		return false;
	}
	if (len > 249) {
		snprintf(why, whylen,
			 "the topic name is %zu characters long; at most 249 are allowed", len);
		return false;
	}
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
		snprintf(why, whylen, "'.' and '..' are not topic names");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			snprintf(why, whylen,
				 "the topic name holds a character other than ASCII letters, "
				 "digits, '.', '_' and '-' (byte 0x%02x at %zu)",
				 (unsigned char)c, i);
			return false;
		}
	}
	return true;
}
