/* tests/controller/test_zk.c: the ZooKeeper side of the controller
 * (controller/zk.c) against a real ZooKeeper server: registration,
 * election with the controller epoch, the metadata store, hand-over when a
 * controller closes or its session expires, and the fencing of a deposed
 * controller's writes.
 *
 * One server serves the whole run (started in main, killed with SIGKILL
 * when the run ends, even after failures; PR_SET_PDEATHSIG kills it should
 * this process die first); every case works under a chroot of its own, so
 * that the cases do not see each other's nodes. The server is
 *   java -cp zookeeper.jar:zookeeper-jute.jar:slf4j-api.jar
 *        org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg
 * (the minimal classpath, from /usr/share/java: libzookeeper-java and its
 * libslf4j-java dependency; slf4j-simple.jar is added when present so that
 * the server's log lands in zk.log). TERN_ZK_CLASSPATH overrides it. No
 * java or no jars: skipped (77), a failure under TERN_REQUIRE_FEATURES=1. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "broker/config.h"
#include "common/clock.h"
#include "controller/controller.h"
#include "tclient.h"
#include "testutil.h"
#include "zkserver.h"

#define SESSION_MS 2000	 /* the session timeout of the brokers here */
#define WAIT_MS	   20000 /* deadline of every wait for a condition */

/* ------------------------------------------------------------------------ */
/* The server                                                                 */

static tt_zk_t zk = {.pid = -1};
static pid_t zk_owner; /* the process that started it (not a forked case) */
static int zk_port;

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd, port;

	if (getenv("TERN_TEST_IN_NS"))
		return 2181; /* a network of our own */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("free_port");
		exit(1);
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void zk_stop(void)
{
	char *dir = zk.dir;

	if (getpid() != zk_owner)
		return;
	zk.dir = NULL;
	tt_zk_stop(&zk);
	if (dir) {
		tt_rmtree(dir);
		free(dir);
	}
}

/* Starts the server (tests/zkserver.h) and waits until it answers srvr;
 * skips without java or the jars, exits on failure (this runs before the
 * Check runner). */
static void zk_start(void)
{
	char *dir;

	tt_zk_require();
	dir = tt_mkdtemp("zk");
	zk_port = free_port();
	zk_owner = getpid();
	atexit(zk_stop); /* also on exits before the runner ends */
	/* 60 s: a JVM on a busy 2-core machine. */
	if (tt_zk_start(&zk, dir, zk_port, 60000) != 0) {
		free(dir);
		exit(1);
	}
	free(dir);
}

/* ------------------------------------------------------------------------ */
/* Per case                                                                   */

static char conn[128]; /* 127.0.0.1:PORT/t<pid>_<n>: a chroot per case */
static char errbuf[256];
static broker_config_t bcfg;
static ctl_config_t ccfg;

static void setup(void)
{
	static int ncase; /* with CK_FORK=no, all cases share one pid */

	snprintf(conn, sizeof conn, "127.0.0.1:%d/t%d_%d", zk_port, (int)getpid(), ++ncase);
	ck_assert_int_eq(tern_conf_init(&broker_config_table, &bcfg, errbuf, sizeof errbuf),
			 TERN_OK);
	ccfg.controller_id = 1;
	ccfg.session_timeout_ms = SESSION_MS;
	ccfg.heartbeat_interval_ms = 500;
	ccfg.broker = &bcfg;
}

static void teardown(void)
{
	tern_conf_free(&broker_config_table, &bcfg);
}

static int64_t deadline(void)
{
	return tern_mono_ms() + WAIT_MS;
}

static void brief_pause(void)
{
	poll(NULL, 0, 20);
}

static ctl_zk_t *zk_open(int32_t id)
{
	char url[64];
	ctl_zk_t *z = NULL;
	tern_err_t e;

	snprintf(url, sizeof url, "tcp://127.0.0.1:%d", 9700 + id);
	errbuf[0] = '\0';
	e = ctl_zk_open(conn, SESSION_MS, id, url, &z, errbuf, sizeof errbuf);
	ck_assert_msg(e == TERN_OK, "ctl_zk_open %d: %s (%s)", id, tern_strerror(e), errbuf);
	return z;
}

static void noop_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	(void)ctx;
}

/* A plain client of the test's own (on conn's chroot), or on the session
 * cid (to expire that session by closing this handle). */
static zhandle_t *raw_open(const clientid_t *cid)
{
	zhandle_t *zh = zookeeper_init(conn, noop_watcher, SESSION_MS, cid, NULL, 0);
	int64_t dl = deadline();

	ck_assert_ptr_nonnull(zh);
	while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
		ck_assert_msg(tern_mono_ms() < dl, "no raw ZooKeeper session");
		brief_pause();
	}
	return zh;
}

/* The data of path as a string ("" for none); false when it is absent. */
static bool raw_get(zhandle_t *zh, const char *path, char *buf, int cap, struct Stat *st)
{
	int len = cap - 1;
	int rc = zoo_get(zh, path, 0, buf, &len, st);

	if (rc == ZNONODE)
		return false;
	ck_assert_msg(rc == ZOK, "zoo_get %s: %s", path, zerror(rc));
	buf[len > 0 ? len : 0] = '\0';
	return true;
}

static bool has_broker(ctl_zk_t *z, int32_t id)
{
	int32_t *ids = NULL;
	size_t n = 0;
	bool found = false;

	ck_assert_int_eq(ctl_zk_brokers(z, &ids, &n), TERN_OK);
	for (size_t i = 0; i < n; i++)
		found |= ids[i] == id;
	free(ids);
	return found;
}

static ctl_store_t *store_of(ctl_zk_t *z)
{
	ctl_store_t *s = NULL;

	ck_assert_int_eq(ctl_zk_store_new(z, &s), TERN_OK);
	return s;
}

/* The text the store holds; NULL when none. */
static char *load_text(ctl_store_t *s)
{
	char *text = NULL;
	size_t len = 0;
	tern_err_t e = s->load(s, &text, &len, errbuf, sizeof errbuf);

	ck_assert_msg(e == TERN_OK, "load: %s (%s)", tern_strerror(e), errbuf);
	if (text)
		ck_assert_uint_eq(strlen(text), len);
	return text;
}

/* Elects z, retrying (with a deadline) while another still holds
 * /controller; returns the epoch. */
static int64_t elect_eventually(ctl_zk_t *z)
{
	int64_t epoch = -1, dl = deadline();
	tern_err_t e;

	while ((e = ctl_zk_elect(z, &epoch)) == TERN_ERR_NOT_CONTROLLER ||
	       e == TERN_ERR_NETWORK_EXCEPTION) {
		ck_assert_msg(tern_mono_ms() < dl, "no election within %d ms", WAIT_MS);
		brief_pause();
	}
	ck_assert_msg(e == TERN_OK, "elect: %s", tern_strerror(e));
	return epoch;
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                      */

START_TEST(test_register_elect_and_name_the_controller)
{
	ctl_zk_t *z1 = zk_open(1), *z2 = zk_open(2);
	int64_t epoch = -1;
	char url[128];

	ck_assert(has_broker(z1, 1) && has_broker(z1, 2));
	ck_assert(has_broker(z2, 1) && has_broker(z2, 2));
	ck_assert_int_eq(ctl_zk_controller(z2, url, sizeof url), -1);

	ck_assert_int_eq(ctl_zk_elect(z1, &epoch), TERN_OK);
	ck_assert_int_eq(epoch, 1);
	ck_assert(ctl_zk_is_controller(z1));
	ck_assert_int_eq(ctl_zk_epoch(z1), 1);
	ck_assert_int_eq(ctl_zk_elect(z2, &epoch), TERN_ERR_NOT_CONTROLLER);
	ck_assert(!ctl_zk_is_controller(z2));
	ck_assert_int_eq(ctl_zk_epoch(z2), -1);
	ck_assert_int_eq(ctl_zk_controller(z2, url, sizeof url), 1);
	ck_assert_str_eq(url, "tcp://127.0.0.1:9701");
	ck_assert_int_eq(ctl_zk_controller(z1, NULL, 0), 1);

	/* Electing again while controller keeps the reign and its epoch. */
	epoch = -1;
	ck_assert_int_eq(ctl_zk_elect(z1, &epoch), TERN_OK);
	ck_assert_int_eq(epoch, 1);

	ctl_zk_close(z2);
	ctl_zk_close(z1);
}
END_TEST

START_TEST(test_metadata_store_and_hand_over_on_close)
{
	ctl_zk_t *z1 = zk_open(1), *z2 = zk_open(2);
	ctl_store_t *s2 = store_of(z2);
	zhandle_t *raw = raw_open(NULL);
	int64_t epoch = -1, bep = -1;
	char why[256], *text, buf[4096], url[128];
	ctl_t *c = NULL;

	/* An empty store: a new cluster. */
	text = load_text(s2);
	ck_assert_ptr_null(text);

	ck_assert_int_eq(ctl_zk_elect(z1, &epoch), TERN_OK);
	ck_assert_int_eq(epoch, 1);
	ck_assert_int_eq(ctl_open(&ccfg, store_of(z1), tern_mono_ms(), &c, errbuf, sizeof errbuf),
			 TERN_OK);
	ck_assert_int_eq(ctl_register(c, 1, 11, "127.0.0.1", 9701, true, tern_mono_ms(), &bep),
			 TERN_OK);
	ck_assert_int_eq(
	    ctl_create_topic(c, "orders", 2, 1, NULL, 0, false, false, why, sizeof why), TERN_OK);

	/* The text is in /tern/metadata, and broker 2's store reads it. */
	ck_assert(raw_get(raw, "/tern/metadata", buf, sizeof buf, NULL));
	ck_assert_ptr_nonnull(strstr(buf, "topic orders 2 1"));
	text = load_text(s2);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, buf);
	free(text);
	ctl_close(c); /* closes broker 1's store */

	/* Broker 1 goes: its session ends at once, and 2 takes over. */
	ctl_zk_close(z1);
	ck_assert(!has_broker(z2, 1));
	epoch = elect_eventually(z2);
	ck_assert_int_eq(epoch, 2);
	ck_assert_int_eq(ctl_zk_controller(z2, url, sizeof url), 2);
	ck_assert_str_eq(url, "tcp://127.0.0.1:9702");
	ck_assert(raw_get(raw, "/controller_epoch", buf, sizeof buf, NULL));
	ck_assert_str_eq(buf, "2");

	/* The new controller starts from the stored state and writes on. */
	c = NULL;
	ck_assert_int_eq(ctl_open(&ccfg, store_of(z2), tern_mono_ms(), &c, errbuf, sizeof errbuf),
			 TERN_OK);
	ck_assert_int_eq(ctl_register(c, 2, 22, "127.0.0.1", 9702, true, tern_mono_ms(), &bep),
			 TERN_OK);
	ck_assert_int_eq(
	    ctl_create_topic(c, "orders", 1, 1, NULL, 0, false, false, why, sizeof why),
	    TERN_ERR_TOPIC_ALREADY_EXISTS);
	ck_assert_int_eq(
	    ctl_create_topic(c, "payments", 1, 1, NULL, 0, false, false, why, sizeof why), TERN_OK);
	ck_assert(raw_get(raw, "/tern/metadata", buf, sizeof buf, NULL));
	ck_assert_ptr_nonnull(strstr(buf, "topic orders 2 1"));
	ck_assert_ptr_nonnull(strstr(buf, "topic payments 1 1"));
	ctl_close(c);

	s2->close(s2);
	zookeeper_close(raw);
	ctl_zk_close(z2);
}
END_TEST

/* Another client deletes /controller behind broker 1's back, and broker 2
 * wins the next election: broker 1 still believes it is controller, but
 * ZooKeeper refuses its write (the epoch check of the multi). */
START_TEST(test_deposed_controller_cannot_write)
{
	ctl_zk_t *za = zk_open(1), *zb = zk_open(2);
	zhandle_t *raw = raw_open(NULL);
	ctl_store_t *sa, *sb;
	int64_t ea = -1, eb = -1;
	char buf[256], *text;

	ck_assert_int_eq(ctl_zk_elect(za, &ea), TERN_OK);
	sa = store_of(za);
	ck_assert_int_eq(sa->save(sa, "v1", 2), TERN_OK);
	ck_assert_int_eq(sa->save(sa, "v2", 2), TERN_OK); /* set, after create */

	ck_assert_int_eq(zoo_delete(raw, "/controller", -1), ZOK);
	ck_assert_int_eq(ctl_zk_elect(zb, &eb), TERN_OK);
	ck_assert_int_eq(eb, ea + 1);

	ck_assert_int_eq(sa->save(sa, "v3", 2), TERN_ERR_NOT_CONTROLLER);
	ck_assert(!ctl_zk_is_controller(za));
	ck_assert_int_eq(ctl_zk_epoch(za), -1);
	ck_assert(raw_get(raw, "/tern/metadata", buf, sizeof buf, NULL));
	ck_assert_str_eq(buf, "v2");

	/* The new controller writes; the old one's store stays refused. */
	sb = store_of(zb);
	ck_assert_int_eq(sb->save(sb, "v4", 2), TERN_OK);
	ck_assert_int_eq(sa->save(sa, "v5", 2), TERN_ERR_NOT_CONTROLLER);
	text = load_text(sa); /* loading needs no reign */
	ck_assert_str_eq(text, "v4");
	free(text);

	/* A store made while not controller only loads. */
	{
		ctl_store_t *s = store_of(za);

		ck_assert_int_eq(s->save(s, "v6", 2), TERN_ERR_NOT_CONTROLLER);
		s->close(s);
	}
	sa->close(sa);
	sb->close(sb);
	zookeeper_close(raw);
	ctl_zk_close(zb);
	ctl_zk_close(za);
}
END_TEST

/* Broker 1's session expires (closed from a second handle on the same
 * session, as ZooKeeper's own tests do): its registration and /controller
 * go, broker 2 takes over with the next epoch, broker 1's old store is
 * refused, and broker 1 comes back with a new session and registers again. */
START_TEST(test_session_expiry)
{
	ctl_zk_t *za = zk_open(1), *zb = zk_open(2);
	zhandle_t *raw = raw_open(NULL), *clone;
	ctl_store_t *sa;
	clientid_t cid;
	int64_t ea = -1, eb, sid = 0, dl;
	struct Stat st;
	char buf[256], url[128];
	bool gone = false;
	int rc;

	ck_assert_int_eq(ctl_zk_elect(za, &ea), TERN_OK);
	sa = store_of(za);
	ck_assert_int_eq(sa->save(sa, "before", 6), TERN_OK);
	ck_assert(ctl_zk_session(za, &cid.client_id, cid.passwd));
	ck_assert(raw_get(raw, "/brokers/ids/1", buf, sizeof buf, &st));
	ck_assert_int_eq(st.ephemeralOwner, cid.client_id);
	ck_assert_str_eq(buf, "tcp://127.0.0.1:9701");

	clone = raw_open(&cid);
	ck_assert_int_eq(zookeeper_close(clone), ZOK);

	/* The old registration goes (it may come back at once, under the new
	 * session: then its owner differs). */
	dl = deadline();
	while (!gone) {
		rc = zoo_exists(raw, "/brokers/ids/1", 0, &st);
		ck_assert(rc == ZOK || rc == ZNONODE);
		gone = rc == ZNONODE || st.ephemeralOwner != cid.client_id;
		ck_assert_msg(gone || tern_mono_ms() < dl, "the expired registration stayed");
		if (!gone)
			brief_pause();
	}

	eb = elect_eventually(zb);
	ck_assert_int_eq(eb, ea + 1);
	/* Broker 1 may count itself controller until it learns of the expiry
	 * (at most a session timeout after losing the connection). */
	dl = deadline();
	while (ctl_zk_is_controller(za)) {
		ck_assert_msg(tern_mono_ms() < dl, "broker 1 kept the controller role");
		brief_pause();
	}
	ck_assert_int_eq(sa->save(sa, "after", 5), TERN_ERR_NOT_CONTROLLER);
	ck_assert(raw_get(raw, "/tern/metadata", buf, sizeof buf, NULL));
	ck_assert_str_eq(buf, "before");

	/* Broker 1 renews its session and registers again on its own. */
	dl = deadline();
	for (;;) {
		rc = zoo_exists(raw, "/brokers/ids/1", 0, &st);
		if (rc == ZOK && ctl_zk_session(za, &sid, buf) && sid != cid.client_id &&
		    st.ephemeralOwner == sid)
			break;
		ck_assert_msg(tern_mono_ms() < dl, "broker 1 did not register again");
		brief_pause();
	}
	ck_assert(has_broker(zb, 1));
	ck_assert_int_eq(ctl_zk_elect(za, &ea), TERN_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(ctl_zk_controller(za, url, sizeof url), 2);
	ck_assert_str_eq(url, "tcp://127.0.0.1:9702");

	sa->close(sa);
	zookeeper_close(raw);
	ctl_zk_close(zb);
	ctl_zk_close(za);
}
END_TEST

/* The controller's process dies (SIGKILL, no goodbye): its session ends
 * when ZooKeeper stops hearing from it, and another broker takes over
 * with the next epoch. */
START_TEST(test_killed_controller_hands_over)
{
	ctl_zk_t *zb;
	int64_t eb, dl;
	int fds[2];
	char one = 0;
	pid_t pid;

	/* Fork before this process has any ZooKeeper thread: a child forked
	 * beside running threads may inherit a lock held by one of them. */
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ctl_zk_t *za = NULL;
		int64_t ea = -1;

		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ctl_zk_open(conn, SESSION_MS, 1, "tcp://127.0.0.1:9701", &za, errbuf,
				sizeof errbuf) != TERN_OK ||
		    ctl_zk_elect(za, &ea) != TERN_OK || ea != 1)
			_exit(1);
		one = 1;
		if (write(fds[1], &one, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &one, 1), 1);
	close(fds[0]);
	zb = zk_open(2);
	ck_assert_int_eq(ctl_zk_controller(zb, NULL, 0), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);

	eb = elect_eventually(zb);
	ck_assert_int_eq(eb, 2);
	ck_assert_int_eq(ctl_zk_controller(zb, NULL, 0), 2);
	dl = deadline();
	while (has_broker(zb, 1)) {
		ck_assert_msg(tern_mono_ms() < dl, "the dead broker stayed registered");
		brief_pause();
	}
	ctl_zk_close(zb);
}
END_TEST

/* Every call may come from any thread: readers poll while the controller
 * writes, loses its session and another takes over (for ASan/TSan runs). */
typedef struct poller {
	ctl_zk_t *z;
	volatile int stop;
	long rounds;
} poller_t;

static void *poll_main(void *arg)
{
	poller_t *p = arg;
	char url[128], msg[256];
	int32_t *ids;
	size_t n;

	while (!p->stop) {
		ctl_zk_controller(p->z, url, sizeof url);
		ctl_zk_is_controller(p->z);
		ctl_zk_epoch(p->z);
		if (ctl_zk_brokers(p->z, &ids, &n) == TERN_OK)
			free(ids);
		ctl_zk_last_error(p->z, msg, sizeof msg);
		p->rounds++;
	}
	return NULL;
}

START_TEST(test_calls_from_many_threads)
{
	ctl_zk_t *za = zk_open(1), *zb = zk_open(2);
	poller_t p[4] = {{.z = za}, {.z = za}, {.z = zb}, {.z = zb}};
	pthread_t th[4];
	ctl_store_t *sa;
	clientid_t cid;
	zhandle_t *clone;
	int64_t ea = -1, dl;
	char text[32];

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, poll_main, &p[i]), 0);
	ck_assert_int_eq(ctl_zk_elect(za, &ea), TERN_OK);
	sa = store_of(za);
	for (int i = 0; i < 20; i++) {
		int n = snprintf(text, sizeof text, "v%d", i);

		ck_assert_int_eq(sa->save(sa, text, (size_t)n), TERN_OK);
	}
	ck_assert(ctl_zk_session(za, &cid.client_id, cid.passwd));
	clone = raw_open(&cid);
	zookeeper_close(clone);
	ck_assert_int_eq(elect_eventually(zb), ea + 1);
	dl = deadline();
	while (ctl_zk_is_controller(za)) {
		ck_assert_msg(tern_mono_ms() < dl, "broker 1 kept the controller role");
		brief_pause();
	}
	ck_assert_int_eq(sa->save(sa, "late", 4), TERN_ERR_NOT_CONTROLLER);
	for (int i = 0; i < 4; i++) {
		p[i].stop = 1;
		pthread_join(th[i], NULL);
		ck_assert_int_gt(p[i].rounds, 0);
	}
	sa->close(sa);
	ctl_zk_close(zb);
	ctl_zk_close(za);
}
END_TEST

/* A second process with the same broker id cannot register while the
 * first one's session lives; once it is gone, the id is free at once. */
START_TEST(test_duplicate_broker_id)
{
	ctl_zk_t *za = zk_open(1), *dup = NULL;
	tern_err_t e;

	e = ctl_zk_open(conn, 1000, 1, "tcp://127.0.0.1:9999", &dup, errbuf, sizeof errbuf);
	ck_assert_int_eq(e, TERN_ERR_DUPLICATE_BROKER_REGISTRATION);
	ck_assert_ptr_null(dup);
	ck_assert_ptr_nonnull(strstr(errbuf, "/brokers/ids/1"));
	ctl_zk_close(za);
	za = zk_open(1);
	ctl_zk_close(za);
}
END_TEST

/* ZooKeeper nodes hold about 1 MB (jute.maxbuffer): the store writes up to
 * CTL_ZK_MAX_METADATA bytes and refuses more with a clear error. */
START_TEST(test_metadata_size_limit)
{
	ctl_zk_t *z = zk_open(1);
	ctl_store_t *s;
	int64_t epoch;
	size_t n = CTL_ZK_MAX_METADATA;
	char *big = malloc(n + 1), *text, msg[256];

	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < n + 1; i++)
		big[i] = (char)('a' + i % 26);
	ck_assert_int_eq(ctl_zk_elect(z, &epoch), TERN_OK);
	s = store_of(z);
	ck_assert_int_eq(s->save(s, big, n + 1), TERN_ERR_MESSAGE_TOO_LARGE);
	ctl_zk_last_error(z, msg, sizeof msg);
	ck_assert_ptr_nonnull(strstr(msg, "jute.maxbuffer"));
	ck_assert_int_eq(s->save(s, big, n), TERN_OK);
	text = load_text(s);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), n);
	ck_assert_int_eq(memcmp(text, big, n), 0);
	free(text);
	free(big);
	s->close(s);
	ctl_zk_close(z);
}
END_TEST

/* No server at the address: open gives up at its deadline. */
START_TEST(test_no_server)
{
	ctl_zk_t *z = NULL;
	char c[64];
	tern_err_t e;

	snprintf(c, sizeof c, "127.0.0.1:%d", getenv("TERN_TEST_IN_NS") ? 2182 : free_port());
	e = ctl_zk_open(c, 1000, 1, "tcp://127.0.0.1:9701", &z, errbuf, sizeof errbuf);
	ck_assert_int_eq(e, TERN_ERR__TIMED_OUT);
	ck_assert_ptr_null(z);
	ck_assert_ptr_nonnull(strstr(errbuf, "no ZooKeeper session"));
}
END_TEST

static Suite *zk_suite(void)
{
	Suite *s = suite_create("zookeeper");
	TCase *tc = tcase_create("zk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_register_elect_and_name_the_controller);
	tcase_add_test(tc, test_metadata_store_and_hand_over_on_close);
	tcase_add_test(tc, test_deposed_controller_cannot_write);
	tcase_add_test(tc, test_session_expiry);
	tcase_add_test(tc, test_killed_controller_hands_over);
	tcase_add_test(tc, test_calls_from_many_threads);
	tcase_add_test(tc, test_duplicate_broker_id);
	tcase_add_test(tc, test_metadata_size_limit);
	tcase_add_test(tc, test_no_server);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	int rc;

	tc_enter_namespace(argc, argv);
	zk_start();
	rc = tt_run(zk_suite());
	zk_stop();
	return rc;
}
