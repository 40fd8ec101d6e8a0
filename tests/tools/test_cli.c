/* Check suite of the `tern` CLI's broker commands: starts a real ternd
 * (TERND) and runs the built `tern` binary (TERN_BIN) against it: topic
 * create, list (and its partition filters), describe (text and JSON, live
 * values from the leader), alter (checked with libtern's DescribeConfigs),
 * delete; produce with --print-acks from a file; cluster status; elect;
 * the errors of a missing partition, a bad topic name and a broker that is
 * not there. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tclient.h"
#include "tern/admin.h"
#include "testutil.h"

static tc_broker_t br;
static char *out; /* stdout and stderr of the last run of tern */
static char *err;

static void up(void)
{
	tc_broker_init(&br, "cli");
	tc_broker_start(&br);
}

static void down(void)
{
	tc_broker_fini(&br);
	free(out);
	free(err);
	out = err = NULL;
}

/* Runs TERN_BIN with args (NULL-terminated) and standard input from
 * in_path (NULL: /dev/null); its stdout and stderr end up in out and err.
 * Returns its exit status. */
static int run_tern_in(const char *in_path, const char *const *args)
{
	return tt_run_prog(br.dir, in_path, getenv("TERN_BIN"), args, 60, &out, &err);
}

#define TERN(...)	   run_tern_in(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define TERN_IN(path, ...) run_tern_in(path, (const char *const[]){__VA_ARGS__, NULL})

#define ck_assert_out_has(s) ck_assert_msg(strstr(out, s) != NULL, "no '%s' in:\n%s", s, out)
#define ck_assert_err_has(s) ck_assert_msg(strstr(err, s) != NULL, "no '%s' in stderr:\n%s", s, err)
#define ck_assert_ok(rc)     ck_assert_msg((rc) == 0, "exit %d; stderr:\n%s", rc, err)

/* One partition object of `tern topic describe --format json`, read with
 * sscanf against the exact key order of the shape. */
typedef struct jpart {
	int partition, leader, epoch, replica, isr, rs_id;
	long long start, hwm, leo, lag; /* the leader's replica state */
	char mode[16];
} jpart_t;

static void json_partition(const char *json, int idx, jpart_t *p)
{
	const char *at = json;
	int n = 0;

	for (int i = 0; i <= idx; i++) {
		at = strstr(i ? at + 1 : at, "{\"partition\":");
		ck_assert_msg(at != NULL, "no partition %d in:\n%s", idx, json);
	}
	n = sscanf(at,
		   "{\"partition\":%d,\"leader\":%d,\"leader_epoch\":%d,\"replicas\":[%d],"
		   "\"isr\":[%d],\"log_start_offset\":%lld,\"high_watermark\":%lld,"
		   "\"mode\":\"%15[a-z]\",\"replica_states\":[{\"id\":%d,"
		   "\"log_end_offset\":%lld,\"lag\":%lld}]}",
		   &p->partition, &p->leader, &p->epoch, &p->replica, &p->isr, &p->start, &p->hwm,
		   p->mode, &p->rs_id, &p->leo, &p->lag);
	ck_assert_msg(n == 11, "partition %d: only %d fields read from:\n%s", idx, n, at);
}

/* The value of key in the topic's configs, through libtern's admin client
 * (NULL: none; the caller frees it); *source gets its source. */
static char *config_of(const char *topic, const char *key, tern_config_source_t *source)
{
	tern_conf_t *conf = tern_conf_new();
	tern_config_list_t *l = NULL;
	tern_admin_t *a;
	char why[512], *v = NULL;

	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(tern_conf_set(conf, "bootstrap.servers", br.url, why, sizeof why), 0);
	a = tern_admin_new(conf, why, sizeof why);
	ck_assert_msg(a != NULL, "%s", why);
	ck_assert_msg(tern_admin_describe_configs(a, TERN_RESOURCE_TOPIC, topic, &l, why,
						  sizeof why) == TERN_OK,
		      "%s", why);
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->entries[i].name, key) != 0)
			continue;
		v = l->entries[i].value ? strdup(l->entries[i].value) : NULL;
		*source = l->entries[i].source;
	}
	tern_config_list_destroy(l);
	tern_admin_destroy(a);
	return v;
}

static void ck_config(const char *topic, const char *key, const char *want,
		      tern_config_source_t want_source)
{
	tern_config_source_t src = TERN_CONFIG_SOURCE_UNKNOWN;
	char *v = config_of(topic, key, &src);

	ck_assert_msg(v && strcmp(v, want) == 0, "%s: '%s', not '%s'", key, v ? v : "(none)", want);
	ck_assert_msg(src == want_source, "%s: source %s, not %s", key,
		      tern_config_source_name(src), tern_config_source_name(want_source));
	free(v);
}

START_TEST(topic_create_list_describe_alter_delete)
{
	tern_config_source_t seg0_src, ret0_src;
	char *seg0, *ret0;
	jpart_t p;

	ck_assert_ok(TERN("topic", "create", "orders", "--partitions", "3", "--replication-factor",
			  "1", "--config", "retention.ms=86400000", "--config",
			  "flush.policy=async", "-b", br.url));
	ck_assert_out_has("Created topic orders.");
	ck_assert_int_eq(TERN("topic", "create", "orders", "-b", br.url), 1);
	ck_assert_err_has("TOPIC_ALREADY_EXISTS");
	ck_assert_err_has("tern topic delete");
	ck_assert_int_eq(TERN("topic", "create", "bad", "--replication-factor", "3", "-b", br.url),
			 1);
	ck_assert_err_has("INVALID_REPLICATION_FACTOR");
	ck_assert_int_eq(TERN("topic", "create", "x", "--partitions", "zero", "-b", br.url), 2);
	ck_assert_err_has("--partitions 'zero'");

	/* list: one name per line, internal topics included; JSON objects. */
	ck_assert_ok(TERN("topic", "list", "--bootstrap", br.url));
	ck_assert_msg(strncmp(out, "orders\n", 7) == 0 || strstr(out, "\norders\n"),
		      "no line 'orders' in:\n%s", out);
	ck_assert_ok(TERN("topic", "list", "--format", "json", "-b", br.url));
	ck_assert_out_has("{\"topics\":[");
	ck_assert_out_has("{\"topic\":\"orders\",\"partitions\":3,\"replication_factor\":1,"
			  "\"internal\":false}");

	/* describe, text then JSON. */
	ck_assert_ok(TERN("topic", "describe", "orders", "-b", br.url));
	ck_assert_out_has("Topic: orders\tPartitions: 3\tReplicationFactor: 1");
	ck_assert_out_has("flush.policy=async");
	ck_assert_out_has("retention.ms=86400000");
	ck_assert_out_has("\tPartition: 2\t");
	ck_assert_out_has("Mode: target");
	ck_assert_out_has("ReplicaStates: 0:leo=0,lag=0");
	ck_assert_ok(TERN("topic", "describe", "orders", "--format", "json", "-b", br.url));
	ck_assert_msg(strncmp(out, "{\"topic\":\"orders\",\"partitions\":[", 32) == 0, "%s", out);
	for (int i = 0; i < 3; i++) {
		json_partition(out, i, &p);
		ck_assert_int_eq(p.partition, i);
		ck_assert_int_ge(p.leader, 0);
		ck_assert_int_eq(p.replica, p.leader);
		ck_assert_int_eq(p.isr, p.leader);
		ck_assert_int_eq(p.rs_id, p.leader);
		ck_assert_int_ge(p.epoch, 0);
		ck_assert_int_eq(p.start, 0);
		ck_assert_int_eq(p.hwm, 0);
		ck_assert_int_eq(p.leo, 0);
		ck_assert_int_eq(p.lag, 0);
		ck_assert_str_eq(p.mode, "target");
	}
	ck_assert_msg(strstr(out, "{\"partition\":3") == NULL, "a fourth partition:\n%s", out);
	ck_assert_int_eq(TERN("topic", "describe", "nosuch", "-b", br.url), 1);
	ck_assert_err_has("UNKNOWN_TOPIC_OR_PARTITION");

	/* alter changes only the keys it names; a deleted override goes back
	 * to what the broker gave before. */
	seg0 = config_of("orders", "segment.bytes", &seg0_src);
	ck_assert_ptr_nonnull(seg0);
	ck_assert_int_ne(seg0_src, TERN_CONFIG_SOURCE_TOPIC);
	ck_assert_ok(
	    TERN("topic", "alter", "orders", "--delete-config", "retention.ms", "-b", br.url));
	ret0 = config_of("orders", "retention.ms", &ret0_src);
	ck_assert_ptr_nonnull(ret0);
	ck_assert_int_ne(ret0_src, TERN_CONFIG_SOURCE_TOPIC);
	ck_config("orders", "flush.policy", "async", TERN_CONFIG_SOURCE_TOPIC);
	ck_config("orders", "segment.bytes", seg0, seg0_src);
	ck_assert_ok(TERN("topic", "alter", "orders", "--config", "retention.ms=1000", "--config",
			  "segment.bytes=2000000", "-b", br.url));
	ck_config("orders", "retention.ms", "1000", TERN_CONFIG_SOURCE_TOPIC);
	ck_config("orders", "segment.bytes", "2000000", TERN_CONFIG_SOURCE_TOPIC);
	ck_config("orders", "flush.policy", "async", TERN_CONFIG_SOURCE_TOPIC);
	ck_assert_ok(
	    TERN("topic", "alter", "orders", "--delete-config", "retention.ms", "-b", br.url));
	ck_config("orders", "retention.ms", ret0, ret0_src);
	ck_config("orders", "segment.bytes", "2000000", TERN_CONFIG_SOURCE_TOPIC);
	ck_config("orders", "flush.policy", "async", TERN_CONFIG_SOURCE_TOPIC);
	ck_assert_int_eq(TERN("topic", "alter", "orders", "--config", "nosuch.key=1", "-b", br.url),
			 1);
	ck_assert_err_has("INVALID_CONFIG");
	ck_assert_err_has("nosuch.key");
	ck_config("orders", "segment.bytes", "2000000", TERN_CONFIG_SOURCE_TOPIC);
	ck_assert_int_eq(TERN("topic", "alter", "orders", "-b", br.url), 2);
	ck_assert_err_has("nothing to change");
	free(seg0);
	free(ret0);

	/* delete, then list no longer names it. */
	ck_assert_ok(TERN("topic", "delete", "orders", "-b", br.url));
	ck_assert_out_has("Deleted topic orders.");
	ck_assert_ok(TERN("topic", "list", "-b", br.url));
	ck_assert_msg(strstr(out, "orders") == NULL, "orders still listed:\n%s", out);
	ck_assert_int_eq(TERN("topic", "delete", "orders", "-b", br.url), 1);
	ck_assert_err_has("UNKNOWN_TOPIC_OR_PARTITION");
}
END_TEST

START_TEST(produce_print_acks_prints_offsets_in_order)
{
	const long n = tt_scale(200);
	char *in, line[64];
	FILE *f;
	const char *at;
	jpart_t p;

	ck_assert_ok(TERN("topic", "create", "lines", "--partitions", "2", "-b", br.url));
	ck_assert_int_ge(asprintf(&in, "%s/lines.txt", br.dir), 0);
	f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	for (long i = 0; i < n; i++)
		fprintf(f, "line %ld with spaces\n", i);
	ck_assert_int_eq(fclose(f), 0);

	ck_assert_ok(
	    TERN_IN(in, "produce", "lines", "--partition", "1", "--print-acks", "-b", br.url));
	at = out;
	for (long i = 0; i < n; i++) {
		int len = snprintf(line, sizeof line, "1 %ld line %ld with spaces\n", i, i);

		ck_assert_msg(strncmp(at, line, (size_t)len) == 0,
			      "ack %ld: expected '%s' at:\n%.200s", i, line, at);
		at += len;
	}
	ck_assert_msg(*at == '\0', "more output than acks:\n%s", at);
	ck_assert_str_eq(err, "");

	/* The HWM moved by n on partition 1 only. */
	ck_assert_ok(TERN("topic", "describe", "lines", "--format", "json", "-b", br.url));
	json_partition(out, 0, &p);
	ck_assert_int_eq(p.hwm, 0);
	ck_assert_int_eq(p.leo, 0);
	json_partition(out, 1, &p);
	ck_assert_int_eq(p.hwm, n);
	/* The leader's LEO, lag 0: everything acknowledged is below the HWM. */
	ck_assert_int_eq(p.leo, n);
	ck_assert_int_eq(p.lag, 0);
	ck_assert_int_eq(p.rs_id, p.leader);

	/* Keys, acks=1 and -X: the line without a separator fails alone. */
	f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	fputs("k1:v1\nno separator\nk2:v2\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(TERN_IN(in, "produce", "lines", "--partition", "0", "--key-separator", ":",
				 "--acks", "1", "-X", "linger.ms=0", "--print-acks", "-b", br.url),
			 1);
	ck_assert_str_eq(out, "0 0 k1:v1\n0 1 k2:v2\n");
	ck_assert_err_has("no key separator ':': no separator");
	ck_assert_err_has("1 of 3 records failed");
	free(in);
}
END_TEST

START_TEST(produce_to_a_missing_partition_or_bad_topic_fails_clearly)
{
	ck_assert_ok(TERN("topic", "create", "two", "--partitions", "2", "-b", br.url));
	ck_assert_int_eq(TERN("produce", "two", "--partition", "5", "-b", br.url), 1);
	ck_assert_err_has("topic 'two' has no partition 5: its partitions are 0 to 1");
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(TERN("produce", "bad/name", "-b", br.url), 1);
	ck_assert_err_has("INVALID_TOPIC_EXCEPTION");
	ck_assert_err_has("A topic name is 1 to 249 characters");
	ck_assert_int_eq(TERN("produce", "absent", "-b", br.url), 1);
	ck_assert_err_has("topic 'absent' does not exist");
	ck_assert_err_has("tern topic create absent");
	ck_assert_int_eq(TERN("produce", "two", "--acks", "2", "-b", br.url), 2);
	ck_assert_err_has("--acks '2': use all, 1 or 0");
	ck_assert_int_eq(TERN("produce", "two", "-X", "acks=2", "-b", br.url), 2);
	ck_assert_err_has("acks: '2' is not one of");
	ck_assert_int_eq(TERN("produce", "-b", br.url), 2);
	ck_assert_err_has("no TOPIC given");
}
END_TEST

/* Live values from the leader's state machine (DescribePartitions): after
 * producing, the leader's replica state is at the HWM with lag 0, and the
 * mode is the leader's; the filters of topic list match nothing on a
 * healthy single broker. */
START_TEST(describe_is_live_and_list_filters_match_nothing_healthy)
{
	const long n = tt_scale(50);
	char *in;
	FILE *f;
	jpart_t p;

	ck_assert_ok(TERN("topic", "create", "live", "--partitions", "2", "-b", br.url));
	ck_assert_int_ge(asprintf(&in, "%s/live.txt", br.dir), 0);
	f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	for (long i = 0; i < n; i++)
		fprintf(f, "r%ld\n", i);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ok(TERN_IN(in, "produce", "live", "--partition", "1", "-b", br.url));
	free(in);

	ck_assert_ok(TERN("topic", "describe", "live", "--format", "json", "-b", br.url));
	json_partition(out, 1, &p);
	ck_assert_str_eq(p.mode, "target");
	ck_assert_int_eq(p.hwm, n);
	ck_assert_int_eq(p.leo, p.hwm);
	ck_assert_int_eq(p.lag, 0);
	ck_assert_out_has("\"caught_up_ms_ago\":0");

	/* Healthy: no partition is listed, in text or JSON. */
	ck_assert_ok(TERN("topic", "list", "--under-replicated", "-b", br.url));
	ck_assert_str_eq(out, "");
	ck_assert_ok(TERN("topic", "list", "--under-min-isr", "--offline", "-b", br.url));
	ck_assert_str_eq(out, "");
	ck_assert_ok(TERN("topic", "list", "--under-replicated", "--format", "json", "-b", br.url));
	ck_assert_str_eq(out, "{\"partitions\":[]}\n");
	ck_assert_int_eq(TERN("topic", "describe", "live", "--offline", "-b", br.url), 2);
	ck_assert_err_has("unknown option '--offline'");
}
END_TEST

/* tern elect: nothing to do on a healthy topic, preferred or unclean. */
START_TEST(elect_on_a_healthy_topic_needs_no_election)
{
	ck_assert_ok(TERN("topic", "create", "calm", "--partitions", "2", "-b", br.url));
	ck_assert_ok(TERN("elect", "--preferred", "calm", "-b", br.url));
	ck_assert_out_has("calm 0: ELECTION_NOT_NEEDED");
	ck_assert_out_has("calm 1: ELECTION_NOT_NEEDED");
	ck_assert_ok(TERN("elect", "--preferred", "calm:1", "-b", br.url));
	ck_assert_out_has("calm 1: ELECTION_NOT_NEEDED");
	ck_assert_msg(strstr(out, "calm 0") == NULL, "%s", out);
	/* Every partition of the cluster: those that need nothing are left out. */
	ck_assert_ok(TERN("elect", "--preferred", "-b", br.url));
	ck_assert_out_has("No partition needed a preferred leader election");
	ck_assert_ok(TERN("elect", "--unclean", "calm:0", "-b", br.url));
	ck_assert_out_has("calm 0: ELECTION_NOT_NEEDED");
	ck_assert_out_has("nothing was lost");
	ck_assert_int_eq(TERN("elect", "--preferred", "calm:7", "-b", br.url), 1);
	ck_assert_out_has("calm 7: UNKNOWN_TOPIC_OR_PARTITION");
	ck_assert_int_eq(TERN("elect", "--preferred", "nosuch", "-b", br.url), 1);
	ck_assert_err_has("topic 'nosuch' does not exist");
	ck_assert_int_eq(TERN("elect", "--unclean", "calm", "-b", br.url), 2);
	ck_assert_err_has("--unclean");
	ck_assert_int_eq(TERN("elect", "calm", "-b", br.url), 2);
	ck_assert_err_has("give --preferred or --unclean");
	ck_assert_int_eq(TERN("elect", "--preferred", "calm:x", "-b", br.url), 2);
	ck_assert_err_has("TOPIC:PARTITION");
}
END_TEST

START_TEST(cluster_status_names_the_broker_and_the_controller)
{
	ck_assert_ok(TERN("cluster", "status", "-b", br.url));
	ck_assert_out_has("Controller: ");
	ck_assert_out_has("Alive: yes");
	ck_assert_out_has(br.url + 6); /* the address without tcp:// is in it */
	ck_assert_ok(TERN("cluster", "status", "--format", "json", "-b", br.url));
	ck_assert_out_has("\"controller\":");
	ck_assert_out_has("\"alive\":true");
	ck_assert_out_has("\"address\":\"tcp://");
	/* DescribeCluster: broker 0 alive, the controller's real id, no
	 * offline partitions. */
	ck_assert_out_has("\"controller\":0,");
	ck_assert_out_has("{\"id\":0,\"address\":");
	ck_assert_out_has("\"shutting_down\":false,\"broker_epoch\":");
	ck_assert_out_has("\"offline_partitions\":[]}");
}
END_TEST

START_TEST(a_broker_that_is_not_there_is_reported_within_a_deadline)
{
	const char *cmds[][6] = {
	    {"topic", "list", NULL}, {"topic", "create", "t", NULL}, {"cluster", "status", NULL},
	    {"produce", "t", NULL},  {"consume", "t", NULL},
	};
	tc_broker_t none;

	/* A listener nobody serves: a fresh port, no broker started. */
	tc_broker_init(&none, "cli-none");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		const char *args[8] = {0};
		int64_t t0 = proto_now_ms(), took;
		size_t k = 0;

		for (; cmds[i][k]; k++)
			args[k] = cmds[i][k];
		args[k++] = "-b";
		args[k++] = none.url;
		ck_assert_int_eq(run_tern_in(NULL, args), 1);
		took = proto_now_ms() - t0;
		ck_assert_msg(took < 20000, "%s %s took %" PRId64 " ms", cmds[i][0], cmds[i][1],
			      took);
		ck_assert_err_has("cannot reach");
		ck_assert_err_has(none.url);
		ck_assert_err_has("Is ternd running at");
	}
	tc_broker_fini(&none);
	ck_assert_int_eq(TERN("topic", "list", "-b", "localhost:9700"), 2);
	ck_assert_err_has("bad -b/--bootstrap");
	ck_assert_err_has("tcp://HOST:PORT");
}
END_TEST

START_TEST(every_command_answers_help)
{
	const char *cmds[][3] = {
	    {"topic", "create"}, {"topic", "list"},  {"topic", "describe"},
	    {"topic", "delete"}, {"topic", "alter"}, {"cluster", "status"},
	    {"produce", NULL},	 {"consume", NULL},  {"elect", NULL},
	};

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (cmds[i][1])
			ck_assert_ok(TERN(cmds[i][0], cmds[i][1], "--help"));
		else
			ck_assert_ok(TERN(cmds[i][0], "--help"));
		ck_assert_out_has("usage: tern ");
		ck_assert_out_has("--bootstrap");
	}
	ck_assert_ok(TERN("--help"));
	ck_assert_out_has("topic");
	ck_assert_out_has("produce");
	ck_assert_out_has("consume");
	ck_assert_out_has("cluster");
	ck_assert_out_has("elect");
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("ternd");

	tcase_add_checked_fixture(tc, up, down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, topic_create_list_describe_alter_delete);
	tcase_add_test(tc, produce_print_acks_prints_offsets_in_order);
	tcase_add_test(tc, produce_to_a_missing_partition_or_bad_topic_fails_clearly);
	tcase_add_test(tc, describe_is_live_and_list_filters_match_nothing_healthy);
	tcase_add_test(tc, elect_on_a_healthy_topic_needs_no_election);
	tcase_add_test(tc, cluster_status_names_the_broker_and_the_controller);
	tcase_add_test(tc, a_broker_that_is_not_there_is_reported_within_a_deadline);
	tcase_add_test(tc, every_command_answers_help);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(cli_suite());
}
