/* Check suite of `tern-cluster` (TERN_CLUSTER_BIN): a three-broker cluster
 * brought up in a scratch directory on free ports, its status, a topic with
 * three replicas produced to and consumed from with `tern` (TERN_BIN), one
 * broker killed and started again, and `down` leaving no process behind;
 * then the command-line errors. With TERN_CLUSTER_TEST_ZK=1 (a meson test
 * of its own, skipped without java or the ZooKeeper jars) the one case of
 * `up --zookeeper` instead: the controller's broker killed under an acks=all
 * topic. Whatever happens, the teardown stops every process the pid files
 * name. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tclient.h"
#include "testutil.h"
#include "zkserver.h"

#define NBROKERS 3

static char *root; /* scratch: the programs' output files, the line file */
static char *cdir; /* root/cluster: the cluster's directory */
static int base;   /* broker 1's port; the controller's is base + NBROKERS */
static char *out, *err;

/* ------------------------------------------------------------------------ */
/* Processes                                                                  */

/* Whether pid is a live process (not a zombie). Reaps it first when it is
 * a child of this process (the test is a subreaper: the brokers
 * tern-cluster leaves behind become its children). */
static bool pid_alive(pid_t pid)
{
	char path[64], stat[512], *p;
	ssize_t n;
	int fd;

	waitpid(pid, NULL, WNOHANG);
	if (kill(pid, 0) != 0)
		return false;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	p = strrchr(stat, ')');
	return p && p[1] && p[2] != 'Z' && p[2] != 'X';
}

/* The pid in process sub's pid file ("controller" or "1".."3"); 0 when
 * there is none. */
static pid_t pid_of(const char *sub)
{
	char path[512];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/ternd.pid", cdir, sub);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static const char *const subs[] = {"controller", "1", "2", "3"};

/* ZooKeeper's pid under --zookeeper (its pid file); 0 when none. */
static pid_t zk_pid_of(void)
{
	char path[512];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/zookeeper/zk.pid", cdir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* Whether pid's command line has the argument arg. */
static bool cmdline_has(pid_t pid, const char *arg)
{
	char path[64], buf[8192];
	bool found = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, arg) == 0)
			found = true;
	return found;
}

/* A base port such that base..base+NBROKERS are all free on 127.0.0.1
 * now (each bound once to make sure). */
static int free_base_port(void)
{
	uint64_t seed = tt_seed();

	for (int attempt = 0; attempt < 200; attempt++) {
		int b = 20000 + (int)(tt_rand(&seed) % 40000);
		bool ok = true;

		for (int p = b; ok && p <= b + NBROKERS; p++) {
			struct sockaddr_in a = {.sin_family = AF_INET,
						.sin_port = htons((uint16_t)p)};
			int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

			ck_assert_int_ge(fd, 0);
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
			close(fd);
		}
		if (ok)
			return b;
	}
	ck_abort_msg("no %d free consecutive ports on 127.0.0.1", NBROKERS + 1);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                   */

/* Unchecked: runs in the runner's process, so that its teardown runs even
 * when a case times out or crashes. */
static void setup(void)
{
	root = tt_mkdtemp("toolcluster");
	if (asprintf(&cdir, "%s/cluster", root) < 0)
		abort();
}

/* Stops whatever the case left running: `tern-cluster down`, then
 * SIGKILL to every pid of the pid files that still runs ternd here. No
 * Check assertion: this runs outside the case. */
static void teardown(void)
{
	pid_t pids[4], pid, zk = zk_pid_of();
	char arg[600];

	for (int i = 0; i < 4; i++)
		pids[i] = pid_of(subs[i]);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		alarm(60);
		execl(getenv("TERN_CLUSTER_BIN"), "tern-cluster", "down", "--dir", cdir,
		      "--timeout", "10", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	for (int i = 0; i < 4; i++) {
		snprintf(arg, sizeof arg, "--log.dirs=%s/%s", cdir, subs[i]);
		if (pids[i] > 0 && pid_alive(pids[i]) && cmdline_has(pids[i], arg)) {
			fprintf(stderr, "teardown: killing leftover ternd %s (pid %ld)\n", subs[i],
				(long)pids[i]);
			kill(pids[i], SIGKILL);
		}
	}
	snprintf(arg, sizeof arg, "%s/zookeeper/zoo.cfg", cdir);
	if (zk > 0 && pid_alive(zk) && cmdline_has(zk, arg)) {
		fprintf(stderr, "teardown: killing leftover ZooKeeper (pid %ld)\n", (long)zk);
		kill(zk, SIGKILL);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	tt_rmtree(root);
	free(root);
	free(cdir);
	free(out);
	free(err);
	root = cdir = out = err = NULL;
}

/* ------------------------------------------------------------------------ */
/* Running the tools                                                          */

static int run(const char *env, const char *in_path, const char *const *args)
{
	return tt_run_prog(root, in_path, getenv(env), args, 120, &out, &err);
}

#define CLUSTER(...)	   run("TERN_CLUSTER_BIN", NULL, (const char *const[]){__VA_ARGS__, NULL})
#define TERN_IN(path, ...) run("TERN_BIN", path, (const char *const[]){__VA_ARGS__, NULL})

#define ck_assert_out_has(s) ck_assert_msg(strstr(out, s) != NULL, "no '%s' in:\n%s", s, out)
#define ck_assert_err_has(s) ck_assert_msg(strstr(err, s) != NULL, "no '%s' in stderr:\n%s", s, err)
/* Runs rc once (it is a command) and fails with its stderr. */
#define ck_assert_ok(rc)                                                                           \
	do {                                                                                       \
		int rc_ = (rc);                                                                    \
		ck_assert_msg(rc_ == 0, "exit %d; stderr:\n%s", rc_, err);                         \
	} while (0)

/* The object of process id in `status --format json` (out), copied into
 * buf. */
static const char *proc_json(int id, char *buf, size_t len)
{
	char key[32];
	const char *at, *end;

	snprintf(key, sizeof key, "{\"id\":%d,", id);
	at = strstr(out, key);
	ck_assert_msg(at != NULL, "no process %d in:\n%s", id, out);
	end = strchr(at, '}');
	ck_assert_ptr_nonnull(end);
	ck_assert_uint_lt((size_t)(end - at), len);
	memcpy(buf, at, (size_t)(end - at + 1));
	buf[end - at + 1] = '\0';
	return buf;
}

#define ck_assert_proc(id, s)                                                                      \
	do {                                                                                       \
		char obj_[512];                                                                    \
		ck_assert_msg(strstr(proc_json(id, obj_, sizeof obj_), s) != NULL,                 \
			      "process %d: no '%s' in %s", id, s, obj_);                           \
	} while (0)

/* Runs `status --format json` until every broker is registered (each
 * broker learns the others through the controller's heartbeats), within
 * a generous deadline. */
static void wait_all_registered(void)
{
	time_t deadline = time(NULL) + 60;

	for (;;) {
		bool all;
		int rc = CLUSTER("status", "--dir", cdir, "--format", "json");

		ck_assert_ok(rc);
		all = true;
		for (int id = 1; id <= NBROKERS; id++) {
			char obj[512];

			if (!strstr(proc_json(id, obj, sizeof obj), "\"registered\":true"))
				all = false;
		}
		if (all)
			return;
		ck_assert_msg(time(NULL) < deadline, "brokers not all registered:\n%s", out);
		usleep(100000);
	}
}

/* ------------------------------------------------------------------------ */

START_TEST(up_status_topic_kill_start_down)
{
	char bootstrap[256], want[300], url[64], port[16], lines[600], arg[600];
	pid_t pids[4], pid2;
	FILE *f;

	/* Orphaned brokers become this process's children, to be reaped here
	 * rather than left as zombies. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	base = free_base_port();
	snprintf(port, sizeof port, "%d", base);
	snprintf(bootstrap, sizeof bootstrap,
		 "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", base, base + 1,
		 base + 2);

	/* up: the bootstrap list on stdout, and nothing else. A short session
	 * timeout makes the restarted broker's new registration quick. */
	ck_assert_ok(CLUSTER("up", "--brokers", "3", "--dir", cdir, "--base-port", port, "--config",
			     "broker.session.timeout.ms=2000", "--config",
			     "broker.heartbeat.interval.ms=100"));
	snprintf(want, sizeof want, "%s\n", bootstrap);
	ck_assert_str_eq(out, want);
	for (int i = 0; i < 4; i++) {
		pids[i] = pid_of(subs[i]);
		ck_assert_msg(pids[i] > 0 && pid_alive(pids[i]), "%s: no running pid", subs[i]);
		ck_assert(cmdline_has(pids[i], "--broker.session.timeout.ms=2000"));
		snprintf(arg, sizeof arg, "--log.dirs=%s/%s", cdir, subs[i]);
		ck_assert(cmdline_has(pids[i], arg));
	}
	ck_assert(cmdline_has(pids[0], "--process.roles=controller"));
	ck_assert(cmdline_has(pids[1], "--process.roles=broker"));
	ck_assert_int_eq(CLUSTER("up", "--brokers", "3", "--dir", cdir, "--base-port", port), 1);
	ck_assert_err_has("already running");

	/* status: the controller and three brokers, all running. */
	ck_assert_ok(CLUSTER("status", "--dir", cdir, "--format", "json"));
	ck_assert_out_has("\"processes\":[{\"id\":100,\"role\":\"controller\"");
	ck_assert_proc(100, "\"running\":true");
	snprintf(url, sizeof url, "\"url\":\"tcp://127.0.0.1:%d\"", base + NBROKERS);
	ck_assert_proc(100, url);
	ck_assert_out_has("\"controller\":100,");
	for (int id = 1; id <= NBROKERS; id++) {
		ck_assert_proc(id, "\"role\":\"broker\"");
		ck_assert_proc(id, "\"state\":\"running\"");
		ck_assert_proc(id, "\"running\":true");
		snprintf(url, sizeof url, "\"url\":\"tcp://127.0.0.1:%d\"", base + id - 1);
		ck_assert_proc(id, url);
	}
	wait_all_registered();

	/* A topic with three replicas, written and read through tern. */
	ck_assert_ok(TERN_IN(NULL, "topic", "create", "lines", "--partitions", "1",
			     "--replication-factor", "3", "-b", bootstrap));
	snprintf(lines, sizeof lines, "%s/lines.txt", root);
	f = fopen(lines, "w");
	ck_assert_ptr_nonnull(f);
	fputs("one\ntwo\nthree\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ok(TERN_IN(lines, "produce", "lines", "--print-acks", "-b", bootstrap));
	ck_assert_str_eq(out, "0 0 one\n0 1 two\n0 2 three\n");
	ck_assert_ok(TERN_IN(NULL, "consume", "lines", "--from-beginning", "--exit-at-end", "-b",
			     bootstrap));
	ck_assert_str_eq(out, "one\ntwo\nthree\n");
	ck_assert_ok(TERN_IN(NULL, "topic", "describe", "lines", "-b", bootstrap));
	ck_assert_out_has("Replicas: 1,2,3");

	/* kill 2: gone, and status says so (exit 1: not every process runs). */
	pid2 = pid_of("2");
	ck_assert_ok(CLUSTER("kill", "2", "--dir", cdir));
	ck_assert_out_has("SIGKILL");
	ck_assert(!pid_alive(pid2));
	ck_assert_int_eq(CLUSTER("status", "--dir", cdir, "--format", "json"), 1);
	ck_assert_proc(2, "\"running\":false");
	ck_assert_proc(2, "\"pid\":null");
	ck_assert_proc(1, "\"running\":true");
	ck_assert_proc(3, "\"running\":true");
	ck_assert_int_eq(CLUSTER("kill", "2", "--dir", cdir), 1);
	ck_assert_err_has("not running");

	/* start 2: back, listening, on its old data. */
	ck_assert_ok(CLUSTER("start", "2", "--dir", cdir));
	ck_assert_out_has("Started broker 2");
	ck_assert_int_gt(pid_of("2"), 0);
	ck_assert_int_ne(pid_of("2"), pid2);
	pids[2] = pid_of("2");
	ck_assert_ok(CLUSTER("status", "--dir", cdir, "--format", "json"));
	ck_assert_proc(2, "\"running\":true");
	ck_assert_int_eq(CLUSTER("start", "2", "--dir", cdir), 1);
	ck_assert_err_has("already running");
	wait_all_registered();
	ck_assert_ok(TERN_IN(NULL, "consume", "lines", "--from-beginning", "--exit-at-end", "-b",
			     bootstrap));
	ck_assert_str_eq(out, "one\ntwo\nthree\n");

	/* down: every process gone, no pid file left, the data kept. */
	ck_assert_ok(CLUSTER("down", "--dir", cdir));
	ck_assert_out_has("Stopped 4 processes");
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(!pid_alive(pids[i]), "%s (pid %ld) still runs", subs[i],
			      (long)pids[i]);
		ck_assert_int_eq(pid_of(subs[i]), 0);
	}
	snprintf(arg, sizeof arg, "%s/1/lines-0", cdir);
	ck_assert_int_eq(access(arg, F_OK), 0);
	ck_assert_int_eq(CLUSTER("status", "--dir", cdir, "--format", "json"), 1);
	for (int id = 1; id <= NBROKERS; id++)
		ck_assert_proc(id, "\"state\":\"not running\"");
	ck_assert_proc(100, "\"state\":\"not running\"");
}
END_TEST

START_TEST(command_line_errors)
{
	ck_assert_ok(CLUSTER("--help"));
	ck_assert_out_has("usage: tern-cluster <command>");
	for (size_t i = 0; i < 5; i++) {
		static const char *const cmds[] = {"up", "status", "down", "kill", "start"};
		char want[64];

		ck_assert_ok(CLUSTER(cmds[i], "--help"));
		snprintf(want, sizeof want, "usage: tern-cluster %s", cmds[i]);
		ck_assert_out_has(want);
	}
	ck_assert_int_eq(CLUSTER("nosuch"), 2);
	ck_assert_err_has("unknown command 'nosuch'");

	ck_assert_int_eq(CLUSTER("up", "--dir", cdir), 2);
	ck_assert_err_has("--brokers N");
	ck_assert_int_eq(CLUSTER("up", "--brokers", "0", "--dir", cdir), 2);
	ck_assert_err_has("bad --brokers '0'");
	ck_assert_int_eq(CLUSTER("up", "--zookeeper", "--dir", cdir), 2);
	ck_assert_err_has("--brokers N");
	ck_assert_int_eq(CLUSTER("up", "--brokers", "3", "--zookeeper", "--config",
				 "zookeeper.connect=127.0.0.1:2181"),
			 2);
	ck_assert_err_has("tern-cluster sets zookeeper.connect itself");
	ck_assert_int_eq(CLUSTER("up", "--brokers", "3", "--config", "listeners=tcp://x:1"), 2);
	ck_assert_err_has("tern-cluster sets listeners itself");
	ck_assert_int_eq(CLUSTER("up", "--brokers", "3", "--config", "novalue"), 2);
	ck_assert_err_has("give KEY=VALUE");
	ck_assert_int_eq(CLUSTER("up", "--brokers", "3", "--base-port", "65534"), 2);
	ck_assert_err_has("--base-port");
	ck_assert_int_eq(CLUSTER("up", "--bogus"), 2);
	ck_assert_err_has("unknown option '--bogus'");
	ck_assert_err_has("Run 'tern-cluster up --help'");

	/* Nothing was started or written by any of these. */
	ck_assert_int_eq(CLUSTER("status", "--dir", cdir), 1);
	ck_assert_err_has("no cluster in");
	ck_assert_err_has("tern-cluster up --brokers 3");
	ck_assert_int_eq(CLUSTER("down", "--dir", cdir), 1);
	ck_assert_err_has("no cluster in");
	ck_assert_int_eq(CLUSTER("kill", "1", "--signal", "HUP", "--dir", cdir), 2);
	ck_assert_err_has("unknown signal 'HUP'");
	ck_assert_int_eq(CLUSTER("start", "--dir", cdir), 2);
	ck_assert_err_has("say which process");
}
END_TEST

/* The broker whose log says last (by the lines' timestamps) that it
 * became the controller; 0 when none has. */
static int controller_in_logs(void)
{
	int found = 0;
	char path[600], line[1024];

	for (int id = 1; id <= NBROKERS; id++) {
		FILE *f;

		snprintf(path, sizeof path, "%s/%d/ternd.log", cdir, id);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* Timestamps lead each line: the latest wins. */
		while (fgets(line, sizeof line, f)) {
			static char best[64];

			if (!strstr(line, "this broker is the controller now"))
				continue;
			if (!found || strncmp(line, best, 24) > 0) {
				snprintf(best, sizeof best, "%.24s", line);
				found = id;
			}
		}
		fclose(f);
	}
	return found;
}

START_TEST(zookeeper_up_kill_the_controllers_broker_down)
{
	char bootstrap[256], want[300], port[16], lines[600], arg[600];
	pid_t pids[NBROKERS + 1], zk;
	int ctl, ctl2;
	time_t deadline;
	FILE *f;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	base = free_base_port();
	snprintf(port, sizeof port, "%d", base);
	snprintf(bootstrap, sizeof bootstrap,
		 "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", base, base + 1,
		 base + 2);

	/* up --zookeeper: ZooKeeper on P+N, then the brokers; the bootstrap
	 * list on stdout, and nothing else. */
	ck_assert_ok(CLUSTER("up", "--zookeeper", "--brokers", "3", "--dir", cdir, "--base-port",
			     port, "--config", "zookeeper.session.timeout.ms=2000", "--config",
			     "broker.session.timeout.ms=2000", "--config",
			     "broker.heartbeat.interval.ms=100"));
	snprintf(want, sizeof want, "%s\n", bootstrap);
	ck_assert_str_eq(out, want);
	zk = zk_pid_of();
	snprintf(arg, sizeof arg, "%s/zookeeper/zoo.cfg", cdir);
	ck_assert_msg(zk > 0 && pid_alive(zk) && cmdline_has(zk, arg), "no ZooKeeper running");
	ck_assert_int_eq(pid_of("controller"), 0);
	for (int id = 1; id <= NBROKERS; id++) {
		pids[id] = pid_of(subs[id]);
		ck_assert_msg(pids[id] > 0 && pid_alive(pids[id]), "broker %d: no running pid", id);
		ck_assert(cmdline_has(pids[id], "--metadata.store=zookeeper"));
		snprintf(arg, sizeof arg, "--zookeeper.connect=127.0.0.1:%d", base + NBROKERS);
		ck_assert(cmdline_has(pids[id], arg));
	}
	ck_assert_ok(CLUSTER("status", "--dir", cdir, "--format", "json"));
	snprintf(want, sizeof want,
		 "\"processes\":[{\"id\":null,\"role\":\"zookeeper\",\"url\":\"127.0.0.1:%d\","
		 "\"pid\":%ld,\"state\":\"running\"",
		 base + NBROKERS, (long)zk);
	ck_assert_out_has(want);
	wait_all_registered();

	/* A topic with three replicas, min.insync.replicas 2, written with
	 * acks=all. */
	ck_assert_ok(TERN_IN(NULL, "topic", "create", "lines", "--partitions", "1",
			     "--replication-factor", "3", "--config", "min.insync.replicas=2", "-b",
			     bootstrap));
	snprintf(lines, sizeof lines, "%s/lines.txt", root);
	f = fopen(lines, "w");
	ck_assert_ptr_nonnull(f);
	fputs("one\ntwo\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ok(
	    TERN_IN(lines, "produce", "lines", "--acks", "all", "--print-acks", "-b", bootstrap));
	ck_assert_str_eq(out, "0 0 one\n0 1 two\n");

	/* Kill the controller's broker: another takes over, and acks=all
	 * writes go on. */
	ctl = controller_in_logs();
	ck_assert_msg(ctl > 0, "no broker says it is the controller");
	/* status names it (as the brokers' metadata does). */
	ck_assert_ok(CLUSTER("status", "--dir", cdir, "--format", "json"));
	snprintf(want, sizeof want, "\"controller\":%d,", ctl);
	ck_assert_out_has(want);
	snprintf(arg, sizeof arg, "%d", ctl);
	ck_assert_ok(CLUSTER("kill", arg, "--dir", cdir));
	ck_assert(!pid_alive(pids[ctl]));
	deadline = time(NULL) + 60;
	while ((ctl2 = controller_in_logs()) == ctl || ctl2 == 0) {
		ck_assert_msg(time(NULL) < deadline, "no new controller after broker %d died", ctl);
		usleep(100000);
	}
	fprintf(stderr, "controller: broker %d, then broker %d\n", ctl, ctl2);
	f = fopen(lines, "w");
	ck_assert_ptr_nonnull(f);
	fputs("three\nfour\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ok(
	    TERN_IN(lines, "produce", "lines", "--acks", "all", "--print-acks", "-b", bootstrap));
	ck_assert_str_eq(out, "0 2 three\n0 3 four\n");
	ck_assert_ok(TERN_IN(NULL, "consume", "lines", "--from-beginning", "--exit-at-end", "-b",
			     bootstrap));
	ck_assert_str_eq(out, "one\ntwo\nthree\nfour\n");
	ck_assert_int_eq(CLUSTER("kill", "controller", "--dir", cdir), 2);
	ck_assert_err_has("'zookeeper'");

	/* down: the brokers, then ZooKeeper; nothing left running. */
	ck_assert_ok(CLUSTER("down", "--dir", cdir));
	ck_assert_out_has("Stopped 3 processes");
	ck_assert_msg(!pid_alive(zk), "ZooKeeper (pid %ld) still runs", (long)zk);
	ck_assert_int_eq(zk_pid_of(), 0);
	for (int id = 1; id <= NBROKERS; id++) {
		ck_assert_msg(!pid_alive(pids[id]), "broker %d (pid %ld) still runs", id,
			      (long)pids[id]);
		ck_assert_int_eq(pid_of(subs[id]), 0);
	}
}
END_TEST

static Suite *zk_suite(void)
{
	Suite *s = suite_create("tern-cluster-zookeeper");
	TCase *tc = tcase_create("zookeeper");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, zookeeper_up_kill_the_controllers_broker_down);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *cluster_suite(void)
{
	Suite *s = suite_create("tern-cluster");
	TCase *errors = tcase_create("errors"), *cluster = tcase_create("cluster");

	/* A tcase each: an unchecked fixture runs once per tcase, and each
	 * case needs a fresh directory. */
	tcase_add_unchecked_fixture(errors, setup, teardown);
	tcase_set_timeout(errors, 60);
	tcase_add_test(errors, command_line_errors);
	suite_add_tcase(s, errors);
	tcase_add_unchecked_fixture(cluster, setup, teardown);
	tcase_set_timeout(cluster, 150);
	tcase_add_test(cluster, up_status_topic_kill_start_down);
	suite_add_tcase(s, cluster);
	return s;
}

int main(int argc, char **argv)
{
	const char *zk = getenv("TERN_CLUSTER_TEST_ZK");

	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	if (zk && strcmp(zk, "1") == 0) {
		tt_zk_require();
		return tt_run(zk_suite());
	}
	return tt_run(cluster_suite());
}
