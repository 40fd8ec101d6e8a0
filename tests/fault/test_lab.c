/* tests/fault/test_lab.c: the lab (lab.h) does what the fault harness
 * relies on: hosts reach each other, each network nemesis really cuts,
 * drops or delays and its heal really restores, the private tmpfs fills at
 * its size, and lab_free leaves no process behind. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "tclient.h"
#include "testutil.h"

#define ECHO_PORT 7000

static char why[512];

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int mult(void)
{
	const char *s = getenv("CK_TIMEOUT_MULTIPLIER");
	int m = s ? atoi(s) : 1;

	return m < 1 ? 1 : m;
}

/* ---- the client: a forked child that enters a host ---- */

enum {
	ECHO_OK,
	ECHO_CONNECT_TIMEOUT,
	ECHO_CONNECT_ERROR,
	ECHO_IO_ERROR,
	ECHO_IO_TIMEOUT,
	ECHO_MISMATCH,
	ECHO_NO_ENTER
};

typedef struct echo_result {
	int rc;		/* ECHO_* */
	int err;	/* errno of a failure */
	int64_t rtt_us; /* first byte sent to last byte back */
} echo_result_t;

/* Connects to addr:ECHO_PORT (at most conn_ms), sends len bytes and reads
 * them back (at most io_ms), writing and reading at once so that no buffer
 * fills. Runs in the child. */
static echo_result_t echo_once(const char *addr, int conn_ms, int io_ms, size_t len, uint64_t seed)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
	echo_result_t r = {ECHO_OK, 0, 0};
	char *out = malloc(len), *in = malloc(len);
	size_t sent = 0, got = 0;
	int fd = -1, soerr = 0;
	socklen_t sl = sizeof soerr;
	struct pollfd p;
	int64_t t0, deadline;

	if (!out || !in)
		abort();
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(tt_rand(&seed) >> 56);
	inet_pton(AF_INET, addr, &a.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		r = (echo_result_t){ECHO_CONNECT_ERROR, errno, 0};
		goto out;
	}
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, conn_ms) == 0) {
		r.rc = ECHO_CONNECT_TIMEOUT;
		goto out;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		r = (echo_result_t){ECHO_CONNECT_ERROR, soerr, 0};
		goto out;
	}
	t0 = now_us();
	deadline = t0 + (int64_t)io_ms * 1000;
	while (got < len) {
		int64_t left = deadline - now_us();
		ssize_t n;

		if (left <= 0) {
			r.rc = ECHO_IO_TIMEOUT;
			goto out;
		}
		p = (struct pollfd){.fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0)};
		if (poll(&p, 1, (int)(left / 1000) + 1) <= 0)
			continue;
		if (sent < len && (p.revents & POLLOUT)) {
			n = send(fd, out + sent, len - sent, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				r = (echo_result_t){ECHO_IO_ERROR, errno, 0};
				goto out;
			}
			sent += n > 0 ? (size_t)n : 0;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, in + got, len - got, 0);
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				r = (echo_result_t){ECHO_IO_ERROR, n == 0 ? 0 : errno, 0};
				goto out;
			}
			got += n > 0 ? (size_t)n : 0;
		}
	}
	r.rtt_us = now_us() - t0;
	if (memcmp(in, out, len) != 0)
		r.rc = ECHO_MISMATCH;
out:
	close(fd);
	free(in);
	free(out);
	return r;
}

/* One echo from host `from` to addr, in a forked child that lab_enter()s
 * `from` (the test process stays where it is). */
static echo_result_t echo_from(lab_t *l, int from, const char *addr, int conn_ms, int io_ms,
			       size_t len)
{
	echo_result_t r = {ECHO_NO_ENTER, 0, 0};
	uint64_t seed = tt_seed() + (uint64_t)len;
	int pfd[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		if (lab_enter(l, from, why, sizeof why) == 0)
			r = echo_once(addr, conn_ms, io_ms, len, seed);
		if (write(pfd[1], &r, sizeof r) != sizeof r)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	/* The child bounds itself by conn_ms + io_ms. */
	ck_assert_int_eq(read(pfd[0], &r, sizeof r), sizeof r);
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(r.rc != ECHO_NO_ENTER, "the client could not enter host %d", from);
	return r;
}

/* Retries echo_from until it succeeds or timeout_ms passes (a server
 * starting, a heal taking effect); fails the test then. */
static echo_result_t echo_eventually(lab_t *l, int from, const char *addr, size_t len,
				     int timeout_ms)
{
	int64_t deadline = now_us() + (int64_t)timeout_ms * mult() * 1000;
	echo_result_t r;

	do {
		r = echo_from(l, from, addr, 1000, 10000 * mult(), len);
		if (r.rc == ECHO_OK)
			return r;
		if (r.rc == ECHO_CONNECT_ERROR) { /* refused: not listening yet */
			struct timespec ts = {0, 20 * 1000000L};

			nanosleep(&ts, NULL);
		}
	} while (now_us() < deadline);
	ck_abort_msg("no echo from host %d to %s within %d ms: rc %d err %s", from, addr,
		     timeout_ms, r.rc, strerror(r.err));
	return r;
}

static char *tmpdir;

static pid_t start_echo(lab_t *l, int host)
{
	char port[16], out[512], err[512];
	char *argv[] = {(char *)getenv("LAB_ECHO"), (char *)lab_addr(l, host), port, NULL};
	pid_t pid;

	ck_assert_msg(argv[0] != NULL, "LAB_ECHO (the echo server's path) is not set");
	snprintf(port, sizeof port, "%d", ECHO_PORT);
	snprintf(out, sizeof out, "%s/echo%d.out", tmpdir, host);
	snprintf(err, sizeof err, "%s/echo%d.err", tmpdir, host);
	pid = lab_spawn(l, host, argv, NULL, out, err, NULL, 0, why, sizeof why);
	ck_assert_msg(pid > 0, "lab_spawn: %s", why);
	return pid;
}

static lab_t *new_lab(int n)
{
	lab_t *l = lab_new(n, why, sizeof why);

	ck_assert_msg(l != NULL, "lab_new: %s", why);
	tmpdir = tt_mkdtemp("lab");
	return l;
}

static void free_lab(lab_t *l)
{
	lab_free(l);
	tt_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* ---- the cases ---- */

START_TEST(hosts_reach_each_other_and_run_commands)
{
	lab_t *l = new_lab(2);
	char *sh_exit[] = {"/bin/sh", "-c", "exit 3", NULL};
	char *sleep10[] = {"/bin/sleep", "10", NULL};
	char *nothing[] = {"/nonexistent/program", NULL};
	char *addr[] = {"/bin/sh", "-c", "PATH=/usr/sbin:/sbin:$PATH; ip -4 addr show dev eth0",
			NULL};
	char out[512], *text;
	echo_result_t r;

	ck_assert_str_eq(lab_addr(l, 0), "10.77.0.10");
	ck_assert_str_eq(lab_addr(l, 1), "10.77.0.11");
	ck_assert_ptr_null(lab_addr(l, 2));
	start_echo(l, 0);
	r = echo_eventually(l, 1, lab_addr(l, 0), 4096, 10000);
	ck_assert_int_eq(r.rc, ECHO_OK);

	snprintf(out, sizeof out, "%s/ip.out", tmpdir);
	ck_assert_int_eq(lab_run(l, 1, addr, out, 10000 * mult(), why, sizeof why), 0);
	text = tt_read_text(out);
	ck_assert_msg(strstr(text, "inet 10.77.0.11/24") != NULL, "host 1's eth0: %s", text);
	free(text);
	ck_assert_int_eq(lab_run(l, 0, sh_exit, NULL, 10000 * mult(), why, sizeof why), 3);
	ck_assert_int_eq(lab_run(l, 0, sleep10, NULL, 200, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "killed after") != NULL, "%s", why);
	ck_assert_int_eq(lab_spawn(l, 0, nothing, NULL, NULL, NULL, NULL, 0, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "exec") != NULL, "%s", why);
	ck_assert_int_eq(lab_enter(l, 2, why, sizeof why), -1);
	free_lab(l);
}
END_TEST

START_TEST(bad_sizes_are_refused)
{
	ck_assert_ptr_null(lab_new(0, why, sizeof why));
	ck_assert_ptr_null(lab_new(LAB_MAX_HOSTS + 1, why, sizeof why));
}
END_TEST

START_TEST(partition_cuts_both_ways_and_heal_restores)
{
	lab_t *l = new_lab(3);
	echo_result_t r;

	start_echo(l, 0);
	start_echo(l, 1);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	echo_eventually(l, 0, lab_addr(l, 1), 100, 10000);
	ck_assert_msg(lab_partition(l, 0, 1, why, sizeof why) == 0, "%s", why);
	r = echo_from(l, 1, lab_addr(l, 0), 1000, 1000, 100);
	ck_assert_int_eq(r.rc, ECHO_CONNECT_TIMEOUT);
	r = echo_from(l, 0, lab_addr(l, 1), 1000, 1000, 100);
	ck_assert_int_eq(r.rc, ECHO_CONNECT_TIMEOUT);
	/* Only that pair is cut. */
	echo_eventually(l, 2, lab_addr(l, 0), 100, 10000);
	echo_eventually(l, 2, lab_addr(l, 1), 100, 10000);
	ck_assert_int_eq(lab_partition(l, 1, 1, why, sizeof why), -1);

	ck_assert_msg(lab_heal_partition(l, 0, 1, why, sizeof why) == 0, "%s", why);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	echo_eventually(l, 0, lab_addr(l, 1), 100, 10000);
	/* Healing what is not in force is fine. */
	ck_assert_msg(lab_heal_partition(l, 0, 1, why, sizeof why) == 0, "%s", why);

	/* lab_heal on one side removes the partition on both. */
	ck_assert_msg(lab_partition(l, 1, 2, why, sizeof why) == 0, "%s", why);
	r = echo_from(l, 2, lab_addr(l, 1), 1000, 1000, 100);
	ck_assert_int_eq(r.rc, ECHO_CONNECT_TIMEOUT);
	ck_assert_msg(lab_heal(l, 1, why, sizeof why) == 0, "%s", why);
	echo_eventually(l, 2, lab_addr(l, 1), 100, 10000);
	free_lab(l);
}
END_TEST

START_TEST(loss_100_blocks_and_0_restores)
{
	lab_t *l = new_lab(2);
	echo_result_t r;

	start_echo(l, 0);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	ck_assert_msg(lab_loss(l, 1, 100, why, sizeof why) == 0, "%s", why);
	r = echo_from(l, 1, lab_addr(l, 0), 1000, 1000, 100);
	ck_assert_int_eq(r.rc, ECHO_CONNECT_TIMEOUT);
	/* Incoming packets are dropped too. */
	r = echo_from(l, 0, lab_addr(l, 1), 1000, 1000, 100);
	ck_assert_int_eq(r.rc, ECHO_CONNECT_TIMEOUT);
	ck_assert_msg(lab_loss(l, 1, 0, why, sizeof why) == 0, "%s", why);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);

	ck_assert_int_eq(lab_loss(l, 1, 101, why, sizeof why), -1);
	ck_assert_msg(lab_loss(l, 1, 100, why, sizeof why) == 0, "%s", why);
	r = echo_from(l, 1, lab_addr(l, 0), 1000, 1000, 100);
	ck_assert_int_eq(r.rc, ECHO_CONNECT_TIMEOUT);
	ck_assert_msg(lab_heal_all(l, why, sizeof why) == 0, "%s", why);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	free_lab(l);
}
END_TEST

START_TEST(delay_holds_every_byte_each_way)
{
	lab_t *l = new_lab(2);
	echo_result_t r;

	start_echo(l, 0);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	ck_assert_msg(lab_delay(l, 1, 200, why, sizeof why) == 0, "%s", why);
	/* 200 ms there and 200 ms back: the round trip cannot be shorter. */
	r = echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	ck_assert_msg(r.rtt_us >= 400000, "round trip %lld us under a 200 ms delay",
		      (long long)r.rtt_us);
	/* More than the proxy queues at once, in both directions: every byte
	 * arrives, in order. */
	r = echo_from(l, 1, lab_addr(l, 0), 1000, 60000 * mult(), 1 << 20);
	ck_assert_msg(r.rc == ECHO_OK, "1 MiB through the proxy: rc %d (%s)", r.rc,
		      strerror(r.err));
	/* A new delay replaces the old one. */
	ck_assert_msg(lab_delay(l, 1, 300, why, sizeof why) == 0, "%s", why);
	r = echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	ck_assert_msg(r.rtt_us >= 600000, "round trip %lld us under a 300 ms delay",
		      (long long)r.rtt_us);
	ck_assert_msg(lab_heal(l, 1, why, sizeof why) == 0, "%s", why);
	echo_eventually(l, 1, lab_addr(l, 0), 100, 10000);
	free_lab(l);
}
END_TEST

START_TEST(private_tmpfs_fills_at_its_size)
{
	const size_t size = 1 << 20;
	lab_t *l = new_lab(1);
	char *sleep60[] = {"/bin/sleep", "60", NULL};
	char mnt[512], file[600], outside[600], buf[65536];
	size_t total = 0;
	int fd, err = 0;
	pid_t pid;

	snprintf(mnt, sizeof mnt, "%s/data", tmpdir);
	pid = lab_spawn(l, 0, sleep60, NULL, NULL, NULL, mnt, size, why, sizeof why);
	ck_assert_msg(pid > 0, "lab_spawn: %s", why);
	snprintf(file, sizeof file, "/proc/%d/root%s/fill", (int)pid, mnt);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(fd >= 0, "%s: %s", file, strerror(errno));
	memset(buf, 0xab, sizeof buf);
	for (int i = 0; i < 64; i++) { /* 4 MiB at most: the tmpfs must stop it */
		ssize_t n = write(fd, buf, sizeof buf);

		if (n < 0) {
			err = errno;
			break;
		}
		total += (size_t)n;
	}
	close(fd);
	ck_assert_msg(err == ENOSPC, "writing %s: %s after %zu bytes", file, strerror(err), total);
	ck_assert_uint_le(total, size);
	ck_assert_uint_ge(total, size / 2);
	/* The tmpfs is the child's alone. */
	snprintf(outside, sizeof outside, "%s/fill", mnt);
	ck_assert_int_eq(access(outside, F_OK), -1);
	free_lab(l);
}
END_TEST

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static bool gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

START_TEST(free_leaves_no_process_behind)
{
	char *sleep60[] = {"/bin/sleep", "60", NULL};
	int threads = count_threads();
	pid_t pids[LAB_MAX_HOSTS + 3];
	int n = 0;
	lab_t *l = new_lab(3);

	for (int i = -1; i < lab_hosts(l); i++)
		pids[n++] = lab_holder(l, i);
	pids[n++] = lab_spawn(l, 1, sleep60, NULL, NULL, NULL, NULL, 0, why, sizeof why);
	pids[n++] = start_echo(l, 2);
	ck_assert_msg(lab_delay(l, 0, 100, why, sizeof why) == 0, "%s", why);
	ck_assert_msg(lab_partition(l, 0, 1, why, sizeof why) == 0, "%s", why);
	ck_assert_int_gt(count_threads(), threads);
	for (int i = 0; i < n; i++)
		ck_assert_msg(pids[i] > 0 && !gone(pids[i]), "process %d is not running", i);
	free_lab(l);
	for (int i = 0; i < n; i++)
		ck_assert_msg(gone(pids[i]), "pid %d outlived lab_free", (int)pids[i]);
	ck_assert_int_eq(count_threads(), threads);
}
END_TEST

/* Without namespaces: hosts on 127.77.0.x reach each other, commands run,
 * and every network nemesis and a private tmpfs are refused with a reason
 * while the heals succeed. Runs without root too. */
START_TEST(loopback_lab_runs_hosts_and_refuses_network_faults)
{
	lab_t *l = lab_new_loopback(2, why, sizeof why);
	char *sh_exit[] = {"/bin/sh", "-c", "exit 3", NULL};
	char *sleep1[] = {"/bin/sleep", "1", NULL};
	echo_result_t r;

	ck_assert_msg(l != NULL, "lab_new_loopback: %s", why);
	ck_assert_ptr_null(lab_new_loopback(0, why, sizeof why));
	tmpdir = tt_mkdtemp("lab");
	ck_assert(lab_is_loopback(l));
	ck_assert_str_eq(lab_addr(l, 0), "127.77.0.10");
	ck_assert_str_eq(lab_addr(l, 1), "127.77.0.11");
	ck_assert_int_eq(lab_holder(l, 0), -1);
	start_echo(l, 0);
	r = echo_eventually(l, 1, lab_addr(l, 0), 4096, 10000);
	ck_assert_int_eq(r.rc, ECHO_OK);
	ck_assert_int_eq(lab_run(l, 1, sh_exit, NULL, 10000 * mult(), why, sizeof why), 3);

	ck_assert_int_eq(lab_partition(l, 0, 1, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "network namespaces") != NULL, "%s", why);
	ck_assert_int_eq(lab_loss(l, 1, 10, why, sizeof why), -1);
	ck_assert_int_eq(lab_delay(l, 1, 50, why, sizeof why), -1);
	ck_assert_int_eq(lab_spawn(l, 0, sleep1, NULL, NULL, NULL, "/tmp/tern-lab-tmpfs", 1 << 20,
				   why, sizeof why),
			 -1);
	ck_assert_msg(strstr(why, "mount namespace") != NULL, "%s", why);
	ck_assert_int_eq(lab_heal_all(l, why, sizeof why), 0);
	/* Still reachable: nothing was applied. */
	r = echo_eventually(l, 1, lab_addr(l, 0), 64, 10000);
	ck_assert_int_eq(r.rc, ECHO_OK);
	free_lab(l);
}
END_TEST

static Suite *lab_suite(bool netns)
{
	Suite *s = suite_create("lab");
	TCase *tl = tcase_create("loopback");
	TCase *tc = tcase_create("lab");

	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, loopback_lab_runs_hosts_and_refuses_network_faults);
	suite_add_tcase(s, tl);
	if (!netns)
		return s;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_sizes_are_refused);
	tcase_add_test(tc, hosts_reach_each_other_and_run_commands);
	tcase_add_test(tc, partition_cuts_both_ways_and_heal_restores);
	tcase_add_test(tc, loss_100_blocks_and_0_restores);
	tcase_add_test(tc, delay_holds_every_byte_each_way);
	tcase_add_test(tc, private_tmpfs_fills_at_its_size);
	tcase_add_test(tc, free_leaves_no_process_behind);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	char reason[512];
	bool netns;
	int rc;

	tc_enter_namespace(argc, argv);
	netns = lab_available(reason, sizeof reason);
	tt_seed();
	rc = tt_run(lab_suite(netns));
	if (rc == EXIT_SUCCESS && !netns)
		tt_skip(reason); /* the loopback case passed; the rest could not run */
	return rc;
}
