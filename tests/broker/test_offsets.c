/* tests/broker/test_offsets.c: committed offsets in a real ternd: the
 * group-to-partition hash against Java's, FindCoordinator, OffsetCommit and
 * OffsetFetch across kill -9 and SIGTERM restarts, many groups, bad
 * requests, the bounded growth of __consumer_offsets, and libtern's
 * consumer resuming at its group's committed offset. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "log/log.h"
#include "tclient.h"
#include "tern/consumer.h"
#include "testutil.h"

static tc_broker_t br;
static tc_conn_t conn;

static void up_with(const char *a, const char *b2)
{
	tc_broker_init(&br, "offsets");
	if (a)
		br.extra[br.nextra++] = (char *)a;
	if (b2)
		br.extra[br.nextra++] = (char *)b2;
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
}

static void up(void)
{
	up_with(NULL, NULL);
}

static void down(void)
{
	if (conn.pool)
		tc_close(&conn);
	tc_broker_fini(&br);
}

static void restart(bool hard)
{
	tc_close(&conn);
	if (hard)
		tc_broker_kill(&br);
	else
		ck_assert_int_eq(tc_broker_term(&br), 0);
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
}

/* FindCoordinator v2; returns the error, *port the coordinator's port. */
static int16_t find_coordinator(const char *key, int8_t type, int32_t *node, int32_t *port)
{
	proto_find_coordinator_req_t req = {proto_str(key), type};
	proto_find_coordinator_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;
	int16_t err;

	proto_buf_init(&body);
	proto_find_coordinator_req_encode(&body, 2, &req);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_FIND_COORDINATOR, 2, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_find_coordinator_resp_decode(&r.r, 2, &resp), 0);
	err = resp.error_code;
	*node = resp.node_id;
	*port = resp.port;
	tc_resp_free(&r);
	return err;
}

/* Commits offs[i] for partitions parts[i] of topic (n of them) at v7 with
 * leader epoch 7 and metadata meta; errs[i] gets each partition's error. */
static void commit_gen(const char *group, int32_t generation, const char *topic,
		       const int32_t *parts, const int64_t *offs, int n, const char *meta,
		       int16_t *errs)
{
	proto_offset_commit_partition_t p[16];
	proto_offset_commit_topic_t t = {proto_str(topic), p, n};
	proto_offset_commit_req_t req = {
	    .group_id = proto_str(group),
	    .generation_id = generation,
	    .member_id = PROTO_STR(""),
	    .group_instance_id = PROTO_NULL_STR,
	    .retention_time_ms = -1,
	    .topics = &t,
	    .topics_count = 1,
	};
	proto_offset_commit_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;

	ck_assert_int_le(n, 16);
	for (int i = 0; i < n; i++)
		p[i] = (proto_offset_commit_partition_t){parts[i], offs[i], 7, proto_str(meta)};
	proto_buf_init(&body);
	proto_offset_commit_req_encode(&body, 7, &req);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_OFFSET_COMMIT, 7, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_offset_commit_resp_decode(&r.r, 7, &resp), 0);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_int_eq(resp.topics[0].partitions_count, n);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(resp.topics[0].partitions[i].partition_index, parts[i]);
		errs[i] = resp.topics[0].partitions[i].error_code;
	}
	tc_resp_free(&r);
}

static void commit(const char *group, const char *topic, const int32_t *parts, const int64_t *offs,
		   int n, const char *meta, int16_t *errs)
{
	commit_gen(group, -1, topic, parts, offs, n, meta, errs);
}

/* Commits one offset and expects success. */
static void commit1(const char *group, const char *topic, int32_t part, int64_t off)
{
	int16_t e;

	commit(group, topic, &part, &off, 1, "m", &e);
	ck_assert_int_eq(e, 0);
}

/* OffsetFetch at version v of one partition (or every partition the group
 * has when topic is NULL, v2+). Returns the group's error; fills up to max
 * results (topic copied into names[i] when asked). */
typedef struct fetched {
	char topic[64];
	int32_t partition;
	int64_t offset;
	int32_t epoch;
	char meta[64];
	int16_t err;
} fetched_t;

static int16_t offset_fetch(int16_t v, const char *group, const char *topic, int32_t part,
			    fetched_t *out, int max, int *n)
{
	proto_topic_partition_ids_t t = {proto_str(topic), &part, 1};
	proto_offset_fetch_req_t req = {proto_str(group), topic ? &t : NULL, topic ? 1 : -1};
	proto_offset_fetch_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;
	int16_t err;

	*n = 0;
	proto_buf_init(&body);
	proto_offset_fetch_req_encode(&body, v, &req);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_OFFSET_FETCH, v, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_offset_fetch_resp_decode(&r.r, v, &resp), 0);
	for (int i = 0; i < resp.topics_count; i++) {
		for (int j = 0; j < resp.topics[i].partitions_count && *n < max; j++) {
			const proto_offset_fetch_partition_t *p = &resp.topics[i].partitions[j];
			fetched_t *f = &out[(*n)++];

			proto_str_copy(resp.topics[i].name, f->topic, sizeof f->topic);
			f->partition = p->partition_index;
			f->offset = p->committed_offset;
			f->epoch = p->committed_leader_epoch;
			proto_str_copy(p->metadata, f->meta, sizeof f->meta);
			f->err = p->error_code;
		}
	}
	err = resp.error_code;
	tc_resp_free(&r);
	return err;
}

/* The committed offset of one partition (v5), -1 when none. */
static int64_t committed(const char *group, const char *topic, int32_t part)
{
	fetched_t f;
	int n;

	ck_assert_int_eq(offset_fetch(5, group, topic, part, &f, 1, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(f.err, 0);
	return f.offset;
}

START_TEST(group_hash_is_javas_string_hashcode)
{
	static const struct {
		const char *s;
		int32_t hash, part50;
	} cases[] = {
	    /* Values from Java's String.hashCode (UTF-16 code units, U+FFFD
	     * for malformed UTF-8) and Kafka's Utils.abs(h) % 50. */
	    {"", 0, 0},
	    {"hello", 99162322, 22},
	    {"abc", 96354, 4},
	    {"polygenelubricants", INT32_MIN, 0}, /* abs(INT_MIN) is 0 */
	    {"my-group", -1906497762, 12},
	    {"console-consumer-12345", 158455506, 6},
	    {"\xc3\xa9", 233, 33},
	    {"\xf0\x9f\x98\x80", 1772899, 49}, /* a surrogate pair */
	    {"caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac", 547597587, 37},
	    {"\xff", 65533, 33},
	    {"a\xe0\x80\142", 67898561, 11}, /* \142 is b */
	    {"x\xf0\x9f\x98", 69253, 3},     /* truncated: one U+FFFD */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].s);

		ck_assert_int_eq(bk_java_string_hash(cases[i].s, len), cases[i].hash);
		ck_assert_int_eq(bk_offsets_partition_for(cases[i].s, len, 50), cases[i].part50);
	}
}
END_TEST

START_TEST(commit_then_fetch_survives_kill9_and_sigterm)
{
	int32_t parts[3] = {0, 1, 2}, node, port;
	int64_t offs[3] = {10, 20, 30};
	int16_t errs[3];
	fetched_t f[8];
	int n;
	proto_str_t name = PROTO_STR(BK_OFFSETS_TOPIC);
	proto_metadata_req_t mreq = {.topics = &name, .topics_count = 1};
	proto_metadata_resp_t mresp;
	proto_buf_t body;
	tc_resp_t r;

	ck_assert_int_eq(tc_create_topic(&conn, "t", 3, NULL, 0), 0);
	ck_assert_int_eq(find_coordinator("g1", PROTO_COORDINATOR_GROUP, &node, &port), 0);
	ck_assert_int_eq(node, 0);
	ck_assert_int_eq(port, atoi(strrchr(br.url, ':') + 1));
	/* Nothing committed yet: -1 and no error. */
	ck_assert_int_eq(committed("g1", "t", 0), -1);

	commit("g1", "t", parts, offs, 3, "meta-1", errs);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(errs[i], 0);
	ck_assert_int_eq(offset_fetch(5, "g1", "t", 1, f, 8, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(f[0].offset, 20);
	ck_assert_int_eq(f[0].epoch, 7);
	ck_assert_str_eq(f[0].meta, "meta-1");
	/* v1 has no leader epoch; v4 neither. */
	ck_assert_int_eq(offset_fetch(1, "g1", "t", 2, f, 8, &n), 0);
	ck_assert_int_eq(f[0].offset, 30);
	ck_assert_int_eq(offset_fetch(4, "g1", "t", 2, f, 8, &n), 0);
	ck_assert_int_eq(f[0].epoch, -1);

	/* The internal topic exists now and says so. */
	proto_buf_init(&body);
	proto_metadata_req_encode(&body, 8, &mreq);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_METADATA, 8, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_metadata_resp_decode(&r.r, 8, &mresp), 0);
	ck_assert_int_eq(mresp.topics[0].error_code, 0);
	ck_assert(mresp.topics[0].is_internal);
	ck_assert_int_eq(mresp.topics[0].partitions_count, 50);
	tc_resp_free(&r);

	restart(true);
	ck_assert_int_eq(committed("g1", "t", 0), 10);
	ck_assert_int_eq(committed("g1", "t", 1), 20);
	ck_assert_int_eq(committed("g1", "t", 2), 30);
	commit1("g1", "t", 1, 21);

	restart(false);
	ck_assert_int_eq(committed("g1", "t", 1), 21);
	/* v2+ with null topics: every partition the group has, in order. */
	ck_assert_int_eq(offset_fetch(5, "g1", NULL, 0, f, 8, &n), 0);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(f[i].topic, "t");
		ck_assert_int_eq(f[i].partition, i);
	}
	ck_assert_int_eq(f[1].offset, 21);
	ck_assert_int_eq(offset_fetch(5, "nobody", NULL, 0, f, 8, &n), 0);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(many_groups_spread_over_partitions_and_survive_a_crash)
{
	enum { NG = 120 };
	bool used[50] = {false};
	int nused = 0;
	char g[32];

	ck_assert_int_eq(tc_create_topic(&conn, "t", 2, NULL, 0), 0);
	for (int i = 0; i < NG; i++) {
		snprintf(g, sizeof g, "group-%d", i);
		commit1(g, "t", i % 2, 1000 + i);
		used[bk_offsets_partition_for(g, strlen(g), 50)] = true;
	}
	for (int i = 0; i < 50; i++)
		nused += used[i];
	ck_assert_int_gt(nused, 40);
	restart(true);
	for (int i = 0; i < NG; i++) {
		snprintf(g, sizeof g, "group-%d", i);
		ck_assert_int_eq(committed(g, "t", i % 2), 1000 + i);
		ck_assert_int_eq(committed(g, "t", 1 - i % 2), -1);
	}
}
END_TEST

START_TEST(bad_group_unknown_partition_and_big_metadata_are_refused)
{
	int32_t parts[3] = {0, 5, 1}, node, port;
	int64_t offs[3] = {1, 2, 3};
	int16_t errs[3];
	char big[5000];
	fetched_t f;
	int n;
	size_t len;
	uint8_t *b;
	int64_t base;

	ck_assert_int_eq(tc_create_topic(&conn, "t", 2, NULL, 0), 0);
	ck_assert_int_eq(find_coordinator("", PROTO_COORDINATOR_GROUP, &node, &port),
			 TERN_ERR_INVALID_GROUP_ID);
	ck_assert_int_eq(find_coordinator("tx", PROTO_COORDINATOR_TRANSACTION, &node, &port),
			 TERN_ERR_INVALID_REQUEST);
	commit("", "t", parts, offs, 1, "", errs);
	ck_assert_int_eq(errs[0], TERN_ERR_INVALID_GROUP_ID);
	ck_assert_int_eq(offset_fetch(5, "", "t", 0, &f, 1, &n), TERN_ERR_INVALID_GROUP_ID);
	ck_assert_int_eq(offset_fetch(1, "", "t", 0, &f, 1, &n), 0);
	ck_assert_int_eq(f.err, TERN_ERR_INVALID_GROUP_ID);

	/* Per partition: the unknown one fails, the others commit. */
	commit("g", "t", parts, offs, 3, "", errs);
	ck_assert_int_eq(errs[0], 0);
	ck_assert_int_eq(errs[1], TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(errs[2], 0);
	ck_assert_int_eq(committed("g", "t", 1), 3);
	commit("g", "nope", parts, offs, 1, "", errs);
	ck_assert_int_eq(errs[0], TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	commit("g", "t", parts, offs, 1, big, errs);
	ck_assert_int_eq(errs[0], TERN_ERR_OFFSET_METADATA_TOO_LARGE);
	ck_assert_int_eq(committed("g", "t", 0), 1);

	/* No group membership yet: a generation is one this broker never gave. */
	commit_gen("g", 3, "t", parts, offs, 1, "", errs);
	ck_assert_int_eq(errs[0], TERN_ERR_ILLEGAL_GENERATION);

	/* Only the broker writes the internal topic. */
	b = tc_batch(1, "x", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, BK_OFFSETS_TOPIC, 0, 1, b, len, &base),
			 TERN_ERR_INVALID_TOPIC_EXCEPTION);
	free(b);
}
END_TEST

/* Bytes of the .log files of partition part of __consumer_offsets, and
 * the lowest segment base offset (*first). */
static int64_t offsets_log_bytes(int32_t part, int64_t *first)
{
	char path[512];
	DIR *d;
	struct dirent *e;
	int64_t total = 0;

	snprintf(path, sizeof path, "%s/data/%s-%d", br.dir, BK_OFFSETS_TOPIC, part);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	*first = INT64_MAX;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char f[800];
		struct stat st;

		if (l < 5 || strcmp(e->d_name + l - 4, ".log") != 0)
			continue;
		snprintf(f, sizeof f, "%s/%s", path, e->d_name);
		ck_assert_int_eq(stat(f, &st), 0);
		total += st.st_size;
		if (strtoll(e->d_name, NULL, 10) < *first)
			*first = strtoll(e->d_name, NULL, 10);
	}
	closedir(d);
	return total;
}

START_TEST(offsets_log_stays_bounded_and_keeps_every_latest_commit)
{
	enum { NG = 12, ROUNDS = 150, SEG = 16384 };
	char g[32];
	int64_t first, bytes = 0, deadline;

	ck_assert_int_eq(tc_create_topic(&conn, "t", 4, NULL, 0), 0);
	/* ~1,800 commits of ~150 bytes: about 17 segments without cleaning. */
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < NG; i++) {
			snprintf(g, sizeof g, "grp-%d", i);
			commit1(g, "t", i % 4, (int64_t)r * 100 + i);
		}
	}
	/* The cleaner runs behind the commits: give it a moment. */
	deadline = proto_now_ms() + 20000;
	do {
		int64_t b0, b1;

		b0 = offsets_log_bytes(0, &first);
		b1 = offsets_log_bytes(1, &first);
		bytes = b0 > b1 ? b0 : b1;
		if (bytes <= 3 * SEG)
			break;
		usleep(100000);
	} while (proto_now_ms() < deadline);
	ck_assert_msg(bytes <= 3 * SEG, "an offsets partition holds %lld bytes", (long long)bytes);
	offsets_log_bytes(0, &first);
	ck_assert_int_gt(first, 0);

	restart(true);
	for (int i = 0; i < NG; i++) {
		snprintf(g, sizeof g, "grp-%d", i);
		ck_assert_int_eq(committed(g, "t", i % 4), (int64_t)(ROUNDS - 1) * 100 + i);
	}
	commit1("grp-0", "t", 0, 424242);
	restart(false);
	ck_assert_int_eq(committed("grp-0", "t", 0), 424242);
	for (int i = 1; i < NG; i++) {
		snprintf(g, sizeof g, "grp-%d", i);
		ck_assert_int_eq(committed(g, "t", i % 4), (int64_t)(ROUNDS - 1) * 100 + i);
	}
}
END_TEST

static void up_small_offsets(void)
{
	/* Two offsets partitions so that every group's commits pile up. */
	up_with("--offsets.topic.segment.bytes=16384", "--offsets.topic.num.partitions=2");
}

/* A consumer of group g on partition 0 of topic c from its stored offset. */
static tern_consumer_t *group_consumer(const char *g)
{
	tern_conf_t *conf = tern_conf_new();
	tern_consumer_t *c;
	char err[256];

	ck_assert_int_eq(tern_conf_set(conf, "bootstrap.servers", br.url, err, sizeof err), 0);
	ck_assert_int_eq(tern_conf_set(conf, "group.id", g, err, sizeof err), 0);
	ck_assert_int_eq(tern_conf_set(conf, "enable.auto.commit", "false", err, sizeof err), 0);
	ck_assert_int_eq(tern_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err), 0);
	c = tern_consumer_new(conf, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(tern_consumer_assign(c, "c", 0, TERN_OFFSET_STORED), 0);
	return c;
}

/* The next record's offset (fails the test on anything but a record). */
static int64_t next_offset(tern_consumer_t *c)
{
	tern_message_t *m = NULL;
	int64_t off;

	ck_assert_int_eq(tern_consumer_poll(c, 30000, &m), 0);
	off = m->offset;
	tern_message_destroy(m);
	return off;
}

START_TEST(libtern_consumer_resumes_at_its_committed_offset_after_a_restart)
{
	tern_consumer_t *c;
	int64_t base, off;
	size_t len;
	uint8_t *b;

	ck_assert_int_eq(tc_create_topic(&conn, "c", 1, NULL, 0), 0);
	b = tc_batch(100, "v", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "c", 0, -1, b, len, &base), 0);
	free(b);

	c = group_consumer("resume");
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(next_offset(c), i);
	ck_assert_int_eq(tern_consumer_commit(c, true), 0);
	ck_assert_int_eq(tern_consumer_committed(c, "c", 0, 30000, &off), 0);
	ck_assert_int_eq(off, 40);
	ck_assert_int_eq(tern_consumer_close(c), 0);

	restart(true);
	c = group_consumer("resume");
	ck_assert_int_eq(next_offset(c), 40);
	ck_assert_int_eq(next_offset(c), 41);
	ck_assert_int_eq(tern_consumer_commit(c, true), 0);
	ck_assert_int_eq(tern_consumer_close(c), 0);

	restart(false);
	c = group_consumer("resume");
	ck_assert_int_eq(next_offset(c), 42);
	ck_assert_int_eq(tern_consumer_close(c), 0);
	/* Another group starts from auto.offset.reset. */
	c = group_consumer("other");
	ck_assert_int_eq(next_offset(c), 0);
	ck_assert_int_eq(tern_consumer_close(c), 0);
}
END_TEST

static Suite *offsets_suite(void)
{
	Suite *s = suite_create("offsets");
	TCase *unit = tcase_create("hash");
	TCase *tc = tcase_create("ternd");
	TCase *small = tcase_create("bounded");

	tcase_add_test(unit, group_hash_is_javas_string_hashcode);
	suite_add_tcase(s, unit);
	tcase_add_checked_fixture(tc, up, down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, commit_then_fetch_survives_kill9_and_sigterm);
	tcase_add_test(tc, many_groups_spread_over_partitions_and_survive_a_crash);
	tcase_add_test(tc, bad_group_unknown_partition_and_big_metadata_are_refused);
	tcase_add_test(tc, libtern_consumer_resumes_at_its_committed_offset_after_a_restart);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(small, up_small_offsets, down);
	tcase_set_timeout(small, 240);
	tcase_add_test(small, offsets_log_stays_bounded_and_keeps_every_latest_commit);
	suite_add_tcase(s, small);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(offsets_suite());
}
