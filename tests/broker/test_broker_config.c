/* tests/broker/test_broker_config.c: the broker and topic tables of ternd:
 * defaults (Kafka's where Kafka has the key), the checks of single values and
 * across keys, a topic's settings from broker defaults and overrides down to
 * its log_config_t, and docs/configuration.md against tern-config-doc. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"
#include "testutil.h"

static broker_config_t b;
static char err[256];

static void setup_broker(void)
{
	err[0] = '\0';
	ck_assert_int_eq(tern_conf_init(&broker_config_table, &b, err, sizeof err), TERN_OK);
}

static void teardown_broker(void)
{
	tern_conf_free(&broker_config_table, &b);
}

static void set_ok(const char *key, const char *value)
{
	tern_err_t e = tern_conf_table_set(&broker_config_table, &b, key, value, err, sizeof err);

	ck_assert_msg(e == TERN_OK, "%s=%s: %s", key, value, err);
}

static void set_fails(const char *key, const char *value, const char *want)
{
	tern_err_t e;

	err[0] = '\0';
	e = tern_conf_table_set(&broker_config_table, &b, key, value, err, sizeof err);
	ck_assert_msg(e == TERN_ERR_INVALID_CONFIG, "%s=%s gave %d", key, value, e);
	ck_assert_str_eq(err, want);
}

static void validate_fails(const char *want)
{
	err[0] = '\0';
	ck_assert_int_eq(broker_config_validate(&b, err, sizeof err), TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, want);
}

static void validate_ok(void)
{
	tern_err_t e = broker_config_validate(&b, err, sizeof err);

	ck_assert_msg(e == TERN_OK, "%s", err);
}

/* ------------------------------------------------------------------------ */
/* Defaults                                                                   */

typedef struct want_default {
	const char *key;
	const char *value;
} want_default_t;

/* Kafka's defaults (3.x ZooKeeper-mode broker; a key Kafka derives from an
 * .hours key is written in the unit of ours: log.roll.hours=168 is
 * 604800000 ms). */
static const want_default_t kafka_defaults[] = {
    {"num.partitions", "1"},
    {"default.replication.factor", "1"},
    {"min.insync.replicas", "1"},
    {"auto.create.topics.enable", "true"},
    {"unclean.leader.election.enable", "false"},
    {"replica.lag.time.max.ms", "30000"},
    {"compression.type", "producer"},
    {"log.message.timestamp.type", "CreateTime"},
    {"log.segment.bytes", "1073741824"},
    {"log.roll.ms", "604800000"},
    {"log.retention.ms", "604800000"},
    {"log.retention.bytes", "-1"},
    {"log.retention.check.interval.ms", "300000"},
    {"log.index.interval.bytes", "4096"},
    {"log.index.size.max.bytes", "10485760"},
    {"message.max.bytes", "1048588"},
    {"socket.request.max.bytes", "104857600"},
    {"offsets.topic.num.partitions", "50"},
    {"offsets.topic.replication.factor", "3"},
    {"offsets.topic.segment.bytes", "104857600"},
    {"offset.metadata.max.bytes", "4096"},
    {"offsets.commit.timeout.ms", "5000"},
    {"offsets.retention.minutes", "10080"},
    {"zookeeper.connect", ""},
    {"zookeeper.session.timeout.ms", "18000"},
    {"broker.session.timeout.ms", "9000"},
    {"leader.replication.throttled.rate", "9223372036854775807"},
    {"advertised.listeners", ""},
};

/* Keys that are Tern's, or whose Kafka default Tern does not keep
 * (docs/configuration.md lists why). */
static const want_default_t tern_defaults[] = {
    {"broker.id", "0"},
    {"listeners", "tcp://127.0.0.1:9700"},
    {"process.roles", "broker,controller"},
    {"metadata.store", "embedded"},
    {"controller.connect", ""},
    {"broker.heartbeat.interval.ms", "500"},
    {"log.dirs", "./tern-data"},
    {"num.io.threads", "2"},
    {"log.writer.threads", "1"},
    {"log.max.open.files", "1024"},
    {"log.flush.policy", "sync"},
    {"log.flush.interval.ms", "1000"},
    {"eligible.leader.replicas.enable", "false"},
    {"metrics.listener", "http://127.0.0.1:9701"},
    {"debug", ""},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_defaults(const want_default_t *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *s = NULL;

		ck_assert_msg(tern_conf_table_get(&broker_config_table, &b, w[i].key, &s) ==
				  TERN_OK,
			      "no key %s", w[i].key);
		ck_assert_msg(strcmp(s, w[i].value) == 0, "%s defaults to '%s', want '%s'",
			      w[i].key, s, w[i].value);
		free(s);
	}
}

START_TEST(test_defaults_are_kafkas)
{
	assert_defaults(kafka_defaults, N(kafka_defaults));
}
END_TEST

START_TEST(test_defaults_of_terns_own_keys)
{
	assert_defaults(tern_defaults, N(tern_defaults));
	ck_assert_int_eq(b.log_flush_policy, LOG_FLUSH_SYNC);
	ck_assert_int_eq(b.metadata_store, BROKER_METADATA_EMBEDDED);
	ck_assert_int_eq(b.compression_type, BROKER_COMPRESSION_PRODUCER);
	ck_assert_int_eq(b.log_message_timestamp_type, BROKER_TIMESTAMP_CREATE_TIME);
}
END_TEST

/* A new key must state its default in one of the two lists above. */
START_TEST(test_every_key_has_a_checked_default)
{
	size_t i, k, seen;

	for (i = 0; i < broker_config_table.n; i++) {
		const char *name = broker_config_table.entries[i].name;

		seen = 0;
		for (k = 0; k < N(kafka_defaults); k++)
			seen += strcmp(kafka_defaults[k].key, name) == 0;
		for (k = 0; k < N(tern_defaults); k++)
			seen += strcmp(tern_defaults[k].key, name) == 0;
		ck_assert_msg(seen == 1, "%s is listed %zu times in the default lists", name, seen);
	}
	ck_assert_uint_eq(N(kafka_defaults) + N(tern_defaults), broker_config_table.n);
}
END_TEST

/* The default configuration of ternd --dev passes the checks across keys. */
START_TEST(test_defaults_validate)
{
	validate_ok();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The tables themselves                                                      */

static void assert_sane(const tern_conf_table_t *t)
{
	size_t i, k;

	for (i = 0; i < t->n; i++) {
		const tern_conf_entry_t *e = &t->entries[i];
		size_t len = strlen(e->doc);

		for (k = 0; k < i; k++)
			ck_assert_msg(strcmp(t->entries[k].name, e->name) != 0, "%s twice",
				      e->name);
		ck_assert_msg(len > 10 && e->doc[len - 1] == '.' && !strchr(e->doc, '\n') &&
				  !strchr(e->doc, '`'),
			      "%s: the doc is one plain sentence", e->name);
		ck_assert_msg(strspn(e->name, "abcdefghijklmnopqrstuvwxyz.") == strlen(e->name),
			      "%s: a key is lower case with dots", e->name);
		if (e->type == TERN_CONF_T_INT32)
			ck_assert(e->min >= INT32_MIN && e->max <= INT32_MAX && e->min <= e->max);
	}
}

START_TEST(test_tables_are_sane)
{
	assert_sane(&broker_config_table);
	assert_sane(&broker_topic_table);
}
END_TEST

/* Every topic key inherits a dynamic broker key with the same type, default,
 * range and values, so that any broker value fits the topic key. */
START_TEST(test_topic_keys_mirror_broker_keys)
{
	size_t i;

	for (i = 0; i < broker_topic_table.n; i++) {
		const tern_conf_entry_t *t = &broker_topic_table.entries[i], *be;

		ck_assert_msg(t->inherit, "%s inherits no broker key", t->name);
		be = tern_conf_find(&broker_config_table, t->inherit);
		ck_assert_msg(be, "%s inherits unknown %s", t->name, t->inherit);
		ck_assert_msg(t->type == be->type && strcmp(t->def, be->def) == 0 &&
				  t->min == be->min && t->max == be->max &&
				  t->values == be->values && t->unit == be->unit,
			      "%s and %s differ", t->name, be->name);
		ck_assert_msg(t->flags & TERN_CONF_DYNAMIC, "%s is not dynamic", t->name);
		ck_assert_msg(be->flags & TERN_CONF_DYNAMIC, "%s is not dynamic", be->name);
		/* broker_topic_config_t owns no memory (config.h says so). */
		ck_assert(t->type != TERN_CONF_T_STRING && t->type != TERN_CONF_T_LIST);
	}
}
END_TEST

START_TEST(test_help_names_every_key)
{
	char *help = NULL, opt[96];
	size_t i;

	ck_assert_int_eq(tern_conf_help(&broker_config_table, &help), TERN_OK);
	for (i = 0; i < broker_config_table.n; i++) {
		snprintf(opt, sizeof opt, "  --%s=", broker_config_table.entries[i].name);
		ck_assert_msg(strstr(help, opt), "--help lacks %s", opt);
	}
	ck_assert_ptr_nonnull(
	    strstr(help, "  --log.flush.policy=sync|async (default sync; dynamic)\n"));
	ck_assert_ptr_nonnull(strstr(help,
				     "  --log.segment.bytes=BYTES (default 1073741824 = 1 GiB; "
				     "[14,...]; dynamic)\n"));
	free(help);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Values                                                                     */

START_TEST(test_listener_values)
{
	set_ok("listeners", "tcp://127.0.0.1:9700, tcp://*:9800");
	ck_assert_uint_eq(b.listeners.n, 2);
	ck_assert_str_eq(b.listeners.v[1], "tcp://*:9800");
	set_ok("listeners", "tcp://[::1]:9700");
	set_fails("listeners", "", "listeners: must not be empty");
	set_fails("listeners", "http://h:1", "listeners: 'http://h:1': expected tcp://HOST:PORT");
	set_fails("listeners", "127.0.0.1:9700",
		  "listeners: '127.0.0.1:9700': expected tcp://HOST:PORT");
	set_fails("listeners", "tcp://h", "listeners: 'tcp://h': expected HOST:PORT");
	set_fails("listeners", "tcp://:9700", "listeners: 'tcp://:9700': expected HOST:PORT");
	set_fails("listeners", "tcp://h:",
		  "listeners: 'tcp://h:': expected a port number after "
		  "the last ':'");
	set_fails("listeners", "tcp://h:97x0",
		  "listeners: 'tcp://h:97x0': expected a port number "
		  "after the last ':'");
	set_fails("listeners", "tcp://h:0", "listeners: 'tcp://h:0': port 0 is not in 1..65535");
	set_fails("listeners", "tcp://h:65536",
		  "listeners: 'tcp://h:65536': port 65536 is not in 1..65535");
	set_fails("listeners", "tcp://h:9700/x",
		  "listeners: 'tcp://h:9700/x': expected tcp://HOST:PORT");
	set_fails("advertised.listeners", "tcp://*:9700",
		  "advertised.listeners: 'tcp://*:9700': others cannot connect to every "
		  "interface; name one host");
	set_fails("controller.connect", "tcp://0.0.0.0:9710",
		  "controller.connect: 'tcp://0.0.0.0:9710': others cannot connect to every "
		  "interface; name one host");
	set_ok("controller.connect", "tcp://10.0.0.1:9710");
	set_ok("metrics.listener", "");
	set_ok("metrics.listener", "http://0.0.0.0:9701");
	set_fails("metrics.listener", "tcp://h:1",
		  "metrics.listener: 'tcp://h:1': expected http://HOST:PORT");
}
END_TEST

START_TEST(test_zookeeper_connect_values)
{
	set_ok("zookeeper.connect", "zk1:2181");
	set_ok("zookeeper.connect", "zk1:2181,zk2:2181,10.0.0.3:2182/tern");
	ck_assert_str_eq(b.zookeeper_connect, "zk1:2181,zk2:2181,10.0.0.3:2182/tern");
	set_fails("zookeeper.connect", "zk1",
		  "zookeeper.connect: 'zk1': expected HOST:PORT[,HOST:PORT...][/chroot]");
	set_fails("zookeeper.connect", "zk1:2181,,zk2:2181",
		  "zookeeper.connect: 'zk1:2181,,zk2:2181': expected "
		  "HOST:PORT[,HOST:PORT...][/chroot]");
	set_fails("zookeeper.connect", "zk1:2181/",
		  "zookeeper.connect: 'zk1:2181/': the chroot path must not end with '/'");
	set_fails("zookeeper.connect", "zk1:2181/tern/",
		  "zookeeper.connect: 'zk1:2181/tern/': the chroot path must not end with '/'");
}
END_TEST

START_TEST(test_enum_and_list_values)
{
	set_ok("log.flush.policy", "async");
	ck_assert_int_eq(b.log_flush_policy, LOG_FLUSH_ASYNC);
	set_fails("log.flush.policy", "fast", "log.flush.policy: 'fast' is not one of sync, async");
	set_ok("compression.type", "zstd");
	ck_assert_int_eq(b.compression_type, BROKER_COMPRESSION_ZSTD);
	set_ok("compression.type", "uncompressed");
	ck_assert_int_eq(b.compression_type, BROKER_COMPRESSION_UNCOMPRESSED);
	/* Decision 2: no codec but zstd is ever stored or produced. */
	set_fails("compression.type", "gzip",
		  "compression.type: 'gzip' is not one of producer, zstd, uncompressed");
	set_ok("metadata.store", "zookeeper");
	ck_assert_int_eq(b.metadata_store, BROKER_METADATA_ZOOKEEPER);
	set_ok("log.message.timestamp.type", "LogAppendTime");
	ck_assert_int_eq(b.log_message_timestamp_type, BROKER_TIMESTAMP_LOG_APPEND_TIME);
	set_ok("debug", "log,isr,net,proto,ctrl");
	ck_assert_uint_eq(b.debug.n, 5);
	set_fails("debug", "log,disk",
		  "debug: 'disk' is not one of log, isr, net, proto, ctrl, all");
	set_fails("process.roles", "broker,leader",
		  "process.roles: 'leader' is not one of broker, controller");
	set_fails("process.roles", "", "process.roles: must not be empty");
	set_fails("num.partitions", "-3", "num.partitions: -3 is below the minimum 1");
	set_fails("message.max.bytes", "60", "message.max.bytes: 60 is below the minimum 61");
	set_fails("log.dirs", "", "log.dirs: must not be empty");
	set_fails("foo.bar", "1", "unknown key 'foo.bar'");
	/* A topic key is not a broker key. */
	set_fails("retention.ms", "1", "unknown key 'retention.ms'");
}
END_TEST

START_TEST(test_only_dynamic_keys_change_at_run_time)
{
	ck_assert_int_eq(
	    tern_conf_alter(&broker_config_table, &b, "log.retention.ms", "1000", err, sizeof err),
	    TERN_OK);
	ck_assert_int_eq(b.log_retention_ms, 1000);
	ck_assert_int_eq(tern_conf_alter(&broker_config_table, &b, "debug", "isr", err, sizeof err),
			 TERN_OK);
	ck_assert_int_eq(
	    tern_conf_alter(&broker_config_table, &b, "log.dirs", "/srv/tern", err, sizeof err),
	    TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "log.dirs cannot change at run time; restart with the new value");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Checks across keys                                                         */

START_TEST(test_validate_metadata_store)
{
	set_ok("metadata.store", "zookeeper");
	validate_fails("metadata.store=zookeeper needs zookeeper.connect");
	set_ok("zookeeper.connect", "127.0.0.1:2181");
	validate_ok();
	/* Under ZooKeeper a broker finds the controller there. */
	set_ok("process.roles", "broker");
	validate_ok();
}
END_TEST

START_TEST(test_validate_controller_connect)
{
	set_ok("process.roles", "broker");
	validate_fails("process.roles without controller needs controller.connect, the address of "
		       "the embedded controller");
	set_ok("controller.connect", "tcp://127.0.0.1:9710");
	validate_ok();
	set_ok("process.roles", "controller");
	validate_ok();
}
END_TEST

START_TEST(test_validate_advertised_listeners)
{
	set_ok("listeners", "tcp://*:9700");
	validate_fails("listeners: tcp://*:9700 binds every interface; set advertised.listeners to "
		       "addresses others can reach");
	set_ok("listeners", "tcp://[::]:9700");
	validate_fails("listeners: tcp://[::]:9700 binds every interface; set "
		       "advertised.listeners to addresses others can reach");
	set_ok("advertised.listeners", "tcp://broker1.example:9700");
	validate_ok();
	set_ok("listeners", "tcp://*:9700,tcp://127.0.0.1:9800");
	validate_fails("advertised.listeners: 1 given for 2 listeners; give one address for each "
		       "listener");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

START_TEST(test_topic_defaults_from_broker_defaults)
{
	broker_topic_config_t t;
	log_config_t lc;

	ck_assert_int_eq(broker_topic_resolve(&b, NULL, 0, &t, err, sizeof err), TERN_OK);
	ck_assert_int_eq(t.retention_ms, 604800000);
	ck_assert_int_eq(t.retention_bytes, -1);
	ck_assert_int_eq(t.segment_bytes, 1073741824);
	ck_assert_int_eq(t.segment_ms, 604800000);
	ck_assert_int_eq(t.segment_index_bytes, 10485760);
	ck_assert_int_eq(t.index_interval_bytes, 4096);
	ck_assert_int_eq(t.flush_policy, LOG_FLUSH_SYNC);
	ck_assert_int_eq(t.flush_ms, 1000);
	ck_assert_int_eq(t.max_message_bytes, 1048588);
	ck_assert_int_eq(t.compression_type, BROKER_COMPRESSION_PRODUCER);
	ck_assert_int_eq(t.message_timestamp_type, BROKER_TIMESTAMP_CREATE_TIME);
	ck_assert_int_eq(t.min_insync_replicas, 1);
	ck_assert(!t.unclean_leader_election_enable);
	ck_assert(!t.eligible_leader_replicas_enable);

	broker_topic_log_config(&t, &lc);
	ck_assert_int_eq(lc.segment_bytes, 1LL << 30);
	ck_assert_int_eq(lc.segment_ms, 7LL * 24 * 3600 * 1000);
	ck_assert_int_eq(lc.retention_bytes, -1);
	ck_assert_int_eq(lc.retention_ms, 7LL * 24 * 3600 * 1000);
	ck_assert_int_eq(lc.index_interval_bytes, 4096);
	ck_assert_int_eq(lc.segment_index_bytes, 10 << 20);
	ck_assert_int_eq(lc.flush_policy, LOG_FLUSH_SYNC);
	ck_assert_int_eq(lc.flush_ms, 1000);
	ck_assert_int_eq(lc.max_batch_bytes, 1048588);
}
END_TEST

/* A topic without overrides follows the broker's current values. */
START_TEST(test_topic_follows_broker_settings)
{
	broker_topic_config_t t;
	log_config_t lc;

	set_ok("log.retention.ms", "3600000");
	set_ok("log.retention.bytes", "1073741824");
	set_ok("log.segment.bytes", "1048576");
	set_ok("log.roll.ms", "60000");
	set_ok("log.index.size.max.bytes", "4096");
	set_ok("log.index.interval.bytes", "0");
	set_ok("log.flush.policy", "async");
	set_ok("log.flush.interval.ms", "250");
	set_ok("message.max.bytes", "2097152");
	set_ok("compression.type", "zstd");
	set_ok("log.message.timestamp.type", "LogAppendTime");
	set_ok("min.insync.replicas", "2");
	set_ok("unclean.leader.election.enable", "true");
	set_ok("eligible.leader.replicas.enable", "true");
	ck_assert_int_eq(broker_topic_resolve(&b, NULL, 0, &t, err, sizeof err), TERN_OK);
	ck_assert_int_eq(t.compression_type, BROKER_COMPRESSION_ZSTD);
	ck_assert_int_eq(t.message_timestamp_type, BROKER_TIMESTAMP_LOG_APPEND_TIME);
	ck_assert_int_eq(t.min_insync_replicas, 2);
	ck_assert(t.unclean_leader_election_enable);
	ck_assert(t.eligible_leader_replicas_enable);
	broker_topic_log_config(&t, &lc);
	ck_assert_int_eq(lc.retention_ms, 3600000);
	ck_assert_int_eq(lc.retention_bytes, 1073741824);
	ck_assert_int_eq(lc.segment_bytes, 1048576);
	ck_assert_int_eq(lc.segment_ms, 60000);
	ck_assert_int_eq(lc.segment_index_bytes, 4096);
	ck_assert_int_eq(lc.index_interval_bytes, 0);
	ck_assert_int_eq(lc.flush_policy, LOG_FLUSH_ASYNC);
	ck_assert_int_eq(lc.flush_ms, 250);
	ck_assert_int_eq(lc.max_batch_bytes, 2097152);
}
END_TEST

START_TEST(test_topic_overrides_win)
{
	static const tern_conf_kv_t over[] = {
	    {"retention.ms", "1000"},	     {"flush.policy", "async"},
	    {"segment.bytes", "65536"},	     {"max.message.bytes", "500000"},
	    {"min.insync.replicas", "2"},    {"compression.type", "uncompressed"},
	    {"retention.ms", " 2000 "},	     {"unclean.leader.election.enable", "true"},
	    {"segment.ms", "5000"},	     {"flush.ms", "10"},
	    {"segment.index.bytes", "1024"}, {"index.interval.bytes", "128"},
	    {"retention.bytes", "4096"},     {"message.timestamp.type", "LogAppendTime"},
	};
	broker_topic_config_t t;
	log_config_t lc;

	set_ok("log.retention.ms", "99999");
	ck_assert_int_eq(broker_topic_resolve(&b, over, N(over), &t, err, sizeof err), TERN_OK);
	ck_assert_int_eq(t.min_insync_replicas, 2);
	ck_assert_int_eq(t.compression_type, BROKER_COMPRESSION_UNCOMPRESSED);
	ck_assert(t.unclean_leader_election_enable);
	ck_assert_int_eq(t.message_timestamp_type, BROKER_TIMESTAMP_LOG_APPEND_TIME);
	/* Not overridden: still the broker's. */
	ck_assert(!t.eligible_leader_replicas_enable);
	broker_topic_log_config(&t, &lc);
	ck_assert_int_eq(lc.retention_ms, 2000); /* the later override */
	ck_assert_int_eq(lc.retention_bytes, 4096);
	ck_assert_int_eq(lc.flush_policy, LOG_FLUSH_ASYNC);
	ck_assert_int_eq(lc.flush_ms, 10);
	ck_assert_int_eq(lc.segment_bytes, 65536);
	ck_assert_int_eq(lc.segment_ms, 5000);
	ck_assert_int_eq(lc.segment_index_bytes, 1024);
	ck_assert_int_eq(lc.index_interval_bytes, 128);
	ck_assert_int_eq(lc.max_batch_bytes, 500000);
}
END_TEST

/* A bad override names its key and leaves *out alone. */
START_TEST(test_topic_override_errors)
{
	static const tern_conf_kv_t below[] = {{"retention.ms", "1"}, {"retention.ms", "-2"}};
	static const tern_conf_kv_t broker_key[] = {{"log.retention.ms", "1"}};
	static const tern_conf_kv_t codec[] = {{"compression.type", "gzip"}};
	broker_topic_config_t t, before;

	memset(&t, 0xA5, sizeof t);
	memcpy(&before, &t, sizeof t);
	ck_assert_int_eq(broker_topic_resolve(&b, below, N(below), &t, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "retention.ms: -2 is below the minimum -1");
	ck_assert_int_eq(broker_topic_resolve(&b, broker_key, 1, &t, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "unknown key 'log.retention.ms'");
	ck_assert_int_eq(broker_topic_resolve(&b, codec, 1, &t, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err,
			 "compression.type: 'gzip' is not one of producer, zstd, uncompressed");
	ck_assert(memcmp(&t, &before, sizeof t) == 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files and docs                                                             */

START_TEST(test_server_properties_file)
{
	char *dir = tt_mkdtemp("brokercfg"), *path;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/server.properties", dir), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# A broker of a three-node cluster.\n"
	      "broker.id=2\n"
	      "listeners=tcp://0.0.0.0:9700\n"
	      "advertised.listeners=tcp://10.0.0.2:9700\n"
	      "log.dirs=/srv/tern/a,/srv/tern/b\n"
	      "\n"
	      "############################# Replication #############################\n"
	      "default.replication.factor=3\n"
	      "min.insync.replicas=2\n"
	      "metadata.store=zookeeper\n"
	      "zookeeper.connect=10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/tern\n"
	      "process.roles=broker\n"
	      "log.flush.policy=async\n",
	      f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(tern_conf_load_file(&broker_config_table, &b, path, err, sizeof err),
			 TERN_OK);
	validate_ok();
	ck_assert_int_eq(b.broker_id, 2);
	ck_assert_uint_eq(b.log_dirs.n, 2);
	ck_assert_str_eq(b.log_dirs.v[1], "/srv/tern/b");
	ck_assert_int_eq(b.default_replication_factor, 3);
	ck_assert_int_eq(b.min_insync_replicas, 2);
	ck_assert_int_eq(b.metadata_store, BROKER_METADATA_ZOOKEEPER);
	ck_assert_int_eq(b.log_flush_policy, LOG_FLUSH_ASYNC);

	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("log.segment.bytes=1GiB\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(tern_conf_load_file(&broker_config_table, &b, path, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, ":14: log.segment.bytes: '1GiB' is not an integer"));
	free(path);
	tt_rmtree(dir);
	free(dir);
}
END_TEST

/* Runs cmd and returns what it printed (malloc()ed). */
static char *run_capture(const char *cmd, size_t *len)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t cap = 0, n;

	ck_assert_msg(p != NULL, "popen %s: %s", cmd, strerror(errno));
	*len = 0;
	do {
		if (*len + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		n = fread(buf + *len, 1, cap - *len, p);
		*len += n;
	} while (n > 0);
	ck_assert_msg(pclose(p) == 0, "%s failed", cmd);
	return buf;
}

/* docs/configuration.md is what tern-config-doc prints: a table changed
 * without regenerating the file fails here. */
START_TEST(test_doc_is_current)
{
	const char *doc_path = getenv("TERN_CONFIG_DOC");
	const char *gen = getenv("TERN_CONFIG_DOC_GEN");
	char *doc = NULL, *printed, *cmd;
	uint8_t *committed;
	size_t committed_len, printed_len;

	ck_assert_msg(doc_path && gen, "meson sets TERN_CONFIG_DOC and TERN_CONFIG_DOC_GEN");
	ck_assert_int_eq(broker_config_doc(&doc), TERN_OK);
	ck_assert_int_ge(asprintf(&cmd, "'%s'", gen), 0);
	printed = run_capture(cmd, &printed_len);
	free(cmd);
	ck_assert_msg(printed_len == strlen(doc) && memcmp(printed, doc, printed_len) == 0,
		      "tern-config-doc prints something else than broker_config_doc()");
	committed = tt_read_file(doc_path, &committed_len);
	ck_assert_msg(committed_len == printed_len && memcmp(committed, printed, printed_len) == 0,
		      "%s is stale: run `ninja -C <builddir> config-doc` and commit it", doc_path);
	free(committed);
	free(printed);
	free(doc);
}
END_TEST

static Suite *broker_config_suite(void)
{
	Suite *s = suite_create("broker_config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_broker, teardown_broker);
	tcase_add_test(tc, test_defaults_are_kafkas);
	tcase_add_test(tc, test_defaults_of_terns_own_keys);
	tcase_add_test(tc, test_every_key_has_a_checked_default);
	tcase_add_test(tc, test_defaults_validate);
	tcase_add_test(tc, test_tables_are_sane);
	tcase_add_test(tc, test_topic_keys_mirror_broker_keys);
	tcase_add_test(tc, test_help_names_every_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_broker, teardown_broker);
	tcase_add_test(tc, test_listener_values);
	tcase_add_test(tc, test_zookeeper_connect_values);
	tcase_add_test(tc, test_enum_and_list_values);
	tcase_add_test(tc, test_only_dynamic_keys_change_at_run_time);
	tcase_add_test(tc, test_validate_metadata_store);
	tcase_add_test(tc, test_validate_controller_connect);
	tcase_add_test(tc, test_validate_advertised_listeners);
	suite_add_tcase(s, tc);

	tc = tcase_create("topics");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_broker, teardown_broker);
	tcase_add_test(tc, test_topic_defaults_from_broker_defaults);
	tcase_add_test(tc, test_topic_follows_broker_settings);
	tcase_add_test(tc, test_topic_overrides_win);
	tcase_add_test(tc, test_topic_override_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup_broker, teardown_broker);
	tcase_add_test(tc, test_server_properties_file);
	tcase_add_test(tc, test_doc_is_current);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(broker_config_suite());
}
