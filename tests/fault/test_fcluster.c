/* tests/fault/test_fcluster.c: the fault cluster (fcluster.h) really does
 * what the scenarios rely on: three brokers under ZooKeeper in a lab elect
 * a leader with an ISR of three; kill -9 of the leader brings a new leader
 * at a higher epoch and the restarted broker rejoins the ISR; a paused
 * follower leaves the ISR and comes back; a broker restarted with its wall
 * clock 300 s ahead rejoins; a broker's private tmpfs fills to the last
 * byte, empties again and keeps its data across a restart. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fcluster.h"
#include "tclient.h"
#include "testutil.h"
#include "zkserver.h"

#define TOPIC "fc"

static char why[1024];

static int mult(void)
{
	const char *s = getenv("CK_TIMEOUT_MULTIPLIER");
	int m = s ? atoi(s) : 1;

	return m < 1 ? 1 : m;
}

/* TESTING.md: a claim about time allows ten times the configured timeout. */
static int deadline_ms(const fc_opts_t *o)
{
	return (10 * o->zk_session_ms + 10000) * mult();
}

static fc_cluster_t *start(fc_opts_t *o, char **dir)
{
	fc_cluster_t *c;

	*dir = tt_mkdtemp("fcluster");
	o->dir = *dir;
	c = fc_start(o, why, sizeof why);
	ck_assert_msg(c != NULL, "fc_start: %s", why);
	return c;
}

static void finish(fc_cluster_t *c, char *dir)
{
	fc_stop(c);
	if (!getenv("TERN_KEEP_DIRS"))
		tt_rmtree(dir);
	free(dir);
}

static fc_partition_state_t state(fc_cluster_t *c)
{
	fc_partition_state_t st;

	ck_assert_msg(fc_partition_state(c, TOPIC, 0, &st, why, sizeof why) == 0, "%s", why);
	return st;
}

static bool in_isr(const fc_partition_state_t *st, int32_t id)
{
	for (int i = 0; i < st->nisr; i++)
		if (st->isr[i] == id)
			return true;
	return false;
}

struct leader_arg {
	int32_t not_leader, epoch_gt;
};

static bool new_leader(const fc_partition_state_t *st, void *arg)
{
	const struct leader_arg *a = arg;

	return st->leader >= 0 && st->leader != a->not_leader && st->leader_epoch > a->epoch_gt;
}

static bool isr_of_3(const fc_partition_state_t *st, void *arg)
{
	(void)arg;
	return st->leader >= 0 && st->nisr == 3;
}

static bool isr_without(const fc_partition_state_t *st, void *arg)
{
	return st->leader >= 0 && !in_isr(st, *(int32_t *)arg);
}

static void wait_for(fc_cluster_t *c, const fc_opts_t *o,
		     bool (*pred)(const fc_partition_state_t *, void *), void *arg,
		     const char *what)
{
	ck_assert_msg(fc_wait(c, TOPIC, 0, pred, arg, deadline_ms(o), why, sizeof why) == 0,
		      "%s: %s", what, why);
}

static void create_topic(fc_cluster_t *c)
{
	static const char *const configs[] = {"min.insync.replicas=2", NULL};
	fc_partition_state_t st;

	ck_assert_msg(fc_create_topic(c, TOPIC, 1, 3, configs, why, sizeof why) == 0, "%s", why);
	st = state(c);
	ck_assert_int_ge(st.leader, 1);
	ck_assert_int_le(st.leader, 3);
	ck_assert_int_ge(st.leader_epoch, 0);
	ck_assert(!st.recovering);
	ck_assert_msg(st.nisr == 3, "ISR of %d after creation", st.nisr);
	ck_assert(in_isr(&st, 1) && in_isr(&st, 2) && in_isr(&st, 3));
}

/* A member of the ISR other than the leader. */
static int32_t a_follower(const fc_partition_state_t *st)
{
	for (int i = 0; i < st->nisr; i++)
		if (st->isr[i] != st->leader)
			return st->isr[i];
	ck_abort_msg("no follower in the ISR");
	return -1;
}

/* Whether /proc/pid/maps maps a file whose path holds needle. */
static bool maps_has(pid_t pid, const char *needle)
{
	char path[64], line[1024];
	bool has = false;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!has && fgets(line, sizeof line, f))
		has = strstr(line, needle) != NULL;
	fclose(f);
	return has;
}

/* The wall-clock time of the last timestamped line of broker id's log
 * ("2026-01-02T03:04:05.678Z ..."), -1 when there is none. */
static time_t last_log_time(fc_cluster_t *c, int32_t id)
{
	char path[1100], line[2048];
	time_t t = -1;
	FILE *f;

	snprintf(path, sizeof path, "%s/ternd.log", fc_broker_dir(c, id));
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		struct tm tm = {0};
		const char *end = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);

		if (end && (*end == '.' || *end == 'Z'))
			t = timegm(&tm);
	}
	fclose(f);
	return t;
}

START_TEST(crash_pause_and_skew)
{
	fc_opts_t o;
	fc_partition_state_t st;
	struct leader_arg la;
	int32_t leader, ctl, f;
	char *dir;
	fc_cluster_t *c;

	fc_opts_default(&o);
	c = start(&o, &dir);
	ck_assert_str_eq(fc_bootstrap(c), "tcp://10.77.0.11:9092,tcp://10.77.0.12:9092,"
					  "tcp://10.77.0.13:9092");
	ck_assert_int_eq(fc_client_host(c), 4);
	for (int32_t id = 1; id <= 3; id++)
		ck_assert(fc_running(c, id));
	ctl = fc_controller(c);
	ck_assert_msg(ctl >= 1 && ctl <= 3, "controller %d", ctl);
	/* Without a private tmpfs there is no disk to fill. */
	ck_assert_int_eq(fc_fill_disk(c, 1, why, sizeof why), -1);
	ck_assert_int_eq(fc_partition_state(c, "no-such-topic", 0, &st, why, sizeof why), -1);

	create_topic(c);
	st = state(c);
	leader = st.leader;

	/* kill -9 the leader: a new one at a higher epoch; it comes back. */
	ck_assert_int_eq(fc_kill(c, leader, SIGKILL), 0);
	ck_assert(!fc_running(c, leader));
	la = (struct leader_arg){leader, st.leader_epoch};
	wait_for(c, &o, new_leader, &la, "a new leader after kill -9");
	ck_assert_msg(fc_restart(c, leader, 0, why, sizeof why) == 0, "%s", why);
	ck_assert(fc_running(c, leader));
	wait_for(c, &o, isr_of_3, NULL, "the ISR of 3 after the restart");
	st = state(c);
	ck_assert(in_isr(&st, leader));
	ck_assert_int_gt(st.leader_epoch, la.epoch_gt);

	/* A paused follower leaves the ISR and comes back after SIGCONT. */
	f = a_follower(&st);
	ck_assert_int_eq(fc_kill(c, f, SIGSTOP), 0);
	wait_for(c, &o, isr_without, &f, "the paused follower out of the ISR");
	ck_assert(fc_running(c, f));
	ck_assert_int_eq(fc_kill(c, f, SIGCONT), 0);
	wait_for(c, &o, isr_of_3, NULL, "the ISR of 3 after SIGCONT");

	/* A broker with its wall clock 300 s ahead rejoins. */
	st = state(c);
	f = a_follower(&st);
	ck_assert_int_eq(fc_kill(c, f, SIGKILL), 0);
	ck_assert_msg(fc_restart(c, f, 300, why, sizeof why) == 0, "%s", why);
	ck_assert_msg(maps_has(fc_pid(c, f), "libfaketime"), "broker %d runs without libfaketime",
		      f);
	wait_for(c, &o, isr_of_3, NULL, "the ISR of 3 with a skewed broker");
	/* What it logs since its restart is 300 s ahead (allowing 100 s for
	 * the line's age and a slow machine). */
	ck_assert_msg(last_log_time(c, f) > time(NULL) + 200,
		      "broker %d's last log line is at %lld, now is %lld", f,
		      (long long)last_log_time(c, f), (long long)time(NULL));

	/* A controlled shutdown ends the process. */
	ck_assert_int_eq(fc_kill(c, f, SIGTERM), 0);
	ck_assert(!fc_running(c, f));
	ck_assert_int_eq(fc_pid(c, f), -1);
	finish(c, dir);
}
END_TEST

/* Waits until path exists (a replica's directory appears once the broker
 * has learnt of the partition). */
static void wait_exists(const char *path)
{
	struct stat sb;

	for (int i = 0; stat(path, &sb) != 0; i++) {
		ck_assert_msg(i < 300 * mult(), "%s: %s", path, strerror(errno));
		usleep(100000);
	}
}

/* Free bytes of the tmpfs at path. */
static unsigned long long avail(const char *path)
{
	struct statvfs sv;

	ck_assert_msg(statvfs(path, &sv) == 0, "statvfs %s: %s", path, strerror(errno));
	return (unsigned long long)sv.f_bavail * sv.f_frsize;
}

START_TEST(disk_fills_and_empties_and_keeps_data)
{
	fc_opts_t o;
	fc_partition_state_t st;
	char *dir, data[1024], part[1100];
	int32_t f;
	fc_cluster_t *c;
	struct stat sb;

	fc_opts_default(&o);
	o.tmpfs_bytes = 16 << 20;
	c = start(&o, &dir);
	create_topic(c);
	st = state(c);
	f = a_follower(&st);

	snprintf(data, sizeof data, "/proc/%d/root%s/data", (int)fc_pid(c, f), fc_broker_dir(c, f));
	snprintf(part, sizeof part, "%s/" TOPIC "-0", data);
	wait_exists(part);
	/* The tmpfs is the broker's alone: the run's directory does not see it. */
	snprintf(part, sizeof part, "%s/data/" TOPIC "-0", fc_broker_dir(c, f));
	ck_assert_int_eq(stat(part, &sb), -1);
	ck_assert_uint_gt(avail(data), 0);
	ck_assert_uint_le(avail(data), o.tmpfs_bytes);

	ck_assert_msg(fc_fill_disk(c, f, why, sizeof why) == 0, "%s", why);
	ck_assert_uint_eq(avail(data), 0);
	ck_assert_msg(fc_free_disk(c, f, why, sizeof why) == 0, "%s", why);
	ck_assert_uint_gt(avail(data), o.tmpfs_bytes / 2);
	ck_assert_msg(fc_free_disk(c, f, why, sizeof why) == 0, "twice: %s", why);

	/* The data outlives the process. */
	ck_assert_int_eq(fc_kill(c, f, SIGKILL), 0);
	ck_assert_msg(fc_restart(c, f, 0, why, sizeof why) == 0, "%s", why);
	snprintf(data, sizeof data, "/proc/%d/root%s/data", (int)fc_pid(c, f), fc_broker_dir(c, f));
	snprintf(part, sizeof part, "%s/" TOPIC "-0", data);
	ck_assert_msg(stat(part, &sb) == 0, "after the restart, %s: %s", part, strerror(errno));
	wait_for(c, &o, isr_of_3, NULL, "the ISR of 3 after the restart on tmpfs");
	finish(c, dir);
}
END_TEST

/* A leader whose disk fails a write leaves the ISR and hands leadership
 * on (its log is offline until it restarts); a bad spec is refused with a
 * reason; after "clear" and a restart it rejoins. */
START_TEST(disk_errors_take_a_replica_offline)
{
	struct leader_arg la;
	fc_opts_t o;
	fc_partition_state_t st;
	char *dir, url[64];
	uint8_t *batch;
	size_t len;
	int64_t base;
	int16_t code;
	fc_cluster_t *c;
	tc_conn_t conn;
	int32_t l;

	fc_opts_default(&o);
	c = start(&o, &dir);
	create_topic(c);
	st = state(c);
	l = st.leader;

	ck_assert_int_eq(fc_disk_errors(c, l, "write EBADNAME", why, sizeof why), -1);
	ck_assert_msg(strstr(why, "errno 'EBADNAME'") != NULL, "%s", why);
	ck_assert_msg(fc_disk_errors(c, l, "write,fsync EIO", why, sizeof why) == 0, "%s", why);

	snprintf(url, sizeof url, "tcp://%s:9092", lab_addr(fc_lab(c), fc_broker_host(c, l)));
	tc_connect(&conn, url);
	batch = tc_batch(3, "eio", 0, -1, -1, -1, &len);
	code = tc_produce(&conn, TOPIC, 0, -1, batch, len, &base);
	ck_assert_msg(code == TERN_ERR_KAFKA_STORAGE_ERROR ||
			  code == TERN_ERR_NOT_LEADER_OR_FOLLOWER,
		      "produce to a leader whose writes fail: %d", code);
	free(batch);
	tc_close(&conn);
	la = (struct leader_arg){.not_leader = l, .epoch_gt = st.leader_epoch};
	wait_for(c, &o, new_leader, &la, "a new leader after the old one's disk failed");
	wait_for(c, &o, isr_without, &l, "the ISR without the replica whose disk failed");

	ck_assert_msg(fc_disk_errors(c, l, "clear", why, sizeof why) == 0, "%s", why);
	ck_assert_int_eq(fc_kill(c, l, SIGKILL), 0);
	ck_assert_msg(fc_restart(c, l, 0, why, sizeof why) == 0, "%s", why);
	wait_for(c, &o, isr_of_3, NULL, "the ISR of 3 after the restart");
	finish(c, dir);
}
END_TEST

static Suite *fcluster_suite(void)
{
	Suite *s = suite_create("fcluster");
	TCase *tc = tcase_create("nemeses");
	TCase *td = tcase_create("disk");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, crash_pause_and_skew);
	suite_add_tcase(s, tc);
	tcase_set_timeout(td, 120);
	tcase_add_test(td, disk_fills_and_empties_and_keeps_data);
	tcase_add_test(td, disk_errors_take_a_replica_offline);
	suite_add_tcase(s, td);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	if (!lab_available(why, sizeof why))
		tt_skip(why);
	if (!tt_zk_available(why, sizeof why))
		tt_skip(why);
	if (!fc_skew_available(why, sizeof why))
		tt_skip(why);
	if (!getenv("TERND"))
		tt_skip("TERND is not set");
	return tt_run(fcluster_suite());
}
