/* tests/zkserver.c: a ZooKeeper server for tests (see zkserver.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "zkserver.h"

#define JARS "/usr/share/java"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The java binary on PATH, in a static buffer; NULL when there is none. */
static const char *find_java(void)
{
	static char buf[4096];
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;

	if (!path || !(dirs = strdup(path)))
		return NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof buf, "%s/java", d);
		if (access(buf, X_OK) == 0) {
			free(dirs);
			return buf;
		}
	}
	free(dirs);
	return NULL;
}

/* The server's classpath in a static buffer; NULL with why when a jar is
 * missing. */
static const char *classpath(char *why, size_t len)
{
	static const char *const need[] = {"zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar"};
	static char cp[4096];
	const char *env = getenv("TERN_ZK_CLASSPATH");
	char path[512];
	size_t n = 0;

	if (env && *env)
		return env;
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		snprintf(path, sizeof path, JARS "/%s", need[i]);
		if (access(path, R_OK) != 0) {
			snprintf(why, len,
				 "%s missing: the ZooKeeper server needs libzookeeper-java "
				 "(tools/setup)",
				 path);
			return NULL;
		}
		n += (size_t)snprintf(cp + n, sizeof cp - n, "%s%s", n ? ":" : "", path);
	}
	if (access(JARS "/slf4j-simple.jar", R_OK) == 0)
		snprintf(cp + n, sizeof cp - n, ":" JARS "/slf4j-simple.jar");
	return cp;
}

bool tt_zk_available(char *why, size_t len)
{
	if (!find_java()) {
		snprintf(why, len,
			 "no java on PATH: the ZooKeeper server needs default-jre-headless "
			 "(tools/setup)");
		return false;
	}
	return classpath(why, len) != NULL;
}

void tt_zk_require(void)
{
	char why[640];

	if (!tt_zk_available(why, sizeof why))
		tt_skip(why);
}

bool tt_zk_ready_at(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	char buf[1024];
	size_t n = 0;
	ssize_t r;
	int fd;
	bool ok = false;

	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr && *addr ? addr : "127.0.0.1", &a.sin_addr) != 1)
		return false;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "srvr", 4) == 4) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		while (n < sizeof buf - 1 && poll(&p, 1, 2000) == 1 &&
		       (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
			n += (size_t)r;
		buf[n] = '\0';
		ok = strstr(buf, "Mode:") != NULL;
	}
	close(fd);
	return ok;
}

bool tt_zk_ready(int port)
{
	return tt_zk_ready_at("127.0.0.1", port);
}

void tt_zk_dump_log(const tt_zk_t *z)
{
	char path[1024], line[1024];
	FILE *f;

	if (!z->dir)
		return;
	snprintf(path, sizeof path, "%s/zk.log", z->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	while (fgets(line, sizeof line, f))
		fputs(line, stderr);
	fclose(f);
}

/* The default tt_zk_spawn_fn: a fork of this process. */
static pid_t fork_spawn(void *arg, char *const argv[], const char *log_path, char *why,
			size_t whylen)
{
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

int tt_zk_start_at(tt_zk_t *z, const char *dir, const char *addr, int port, int deadline_ms,
		   tt_zk_spawn_fn spawn, void *spawn_arg, char *why, size_t whylen)
{
	const char *java = find_java(), *cp;
	char cfg[1024], log[1024], data[1024];
	char *argv[] = {NULL,
			"-Xmx256m",
			"-XX:+UseSerialGC",
			"-XX:TieredStopAtLevel=1",
			"-cp",
			NULL,
			"org.apache.zookeeper.server.ZooKeeperServerMain",
			cfg,
			NULL};
	int64_t deadline;
	FILE *f;

	z->pid = -1;
	z->port = port;
	snprintf(z->addr, sizeof z->addr, "%s", addr && *addr ? addr : "127.0.0.1");
	if (!z->dir || strcmp(z->dir, dir) != 0) {
		char *copy = strdup(dir);

		free(z->dir);
		z->dir = copy;
	}
	if (!java) {
		snprintf(why, whylen, "no java on PATH");
		return -1;
	}
	cp = classpath(why, whylen);
	if (!cp)
		return -1;
	if (!z->dir) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	snprintf(cfg, sizeof cfg, "%s/zoo.cfg", dir);
	snprintf(log, sizeof log, "%s/zk.log", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	mkdir(dir, 0755);
	mkdir(data, 0755);
	f = fopen(cfg, "w");
	if (!f) {
		snprintf(why, whylen, "%s: %s", cfg, strerror(errno));
		return -1;
	}
	/* maxSessionTimeout: the default (20 ticks, 10 s) would cut longer
	 * sessions asked for by a test. */
	fprintf(f,
		"tickTime=500\n"
		"clientPortAddress=%s\n"
		"clientPort=%d\n"
		"dataDir=%s\n"
		"maxSessionTimeout=60000\n"
		"admin.enableServer=false\n"
		"4lw.commands.whitelist=srvr\n",
		z->addr, port, data);
	if (fclose(f) != 0) {
		snprintf(why, whylen, "%s: %s", cfg, strerror(errno));
		return -1;
	}
	argv[0] = (char *)java;
	argv[5] = (char *)cp;
	z->pid = (spawn ? spawn : fork_spawn)(spawn_arg, argv, log, why, whylen);
	if (z->pid < 0) {
		z->pid = -1;
		return -1;
	}
	deadline = mono_ms() + deadline_ms;
	while (!tt_zk_ready_at(z->addr, port)) {
		int st;

		if (waitpid(z->pid, &st, WNOHANG) == z->pid) {
			z->pid = -1;
			snprintf(why, whylen, "the ZooKeeper server exited (status %d); see %s", st,
				 log);
			return -1;
		}
		if (mono_ms() > deadline) {
			snprintf(why, whylen,
				 "the ZooKeeper server did not answer srvr at %s:%d within %d ms; "
				 "see %s",
				 z->addr, port, deadline_ms, log);
			tt_zk_stop(z);
			return -1;
		}
		poll(NULL, 0, 50);
	}
	return 0;
}

int tt_zk_start(tt_zk_t *z, const char *dir, int port, int deadline_ms)
{
	char why[1024];

	if (tt_zk_start_at(z, dir, "127.0.0.1", port, deadline_ms, NULL, NULL, why, sizeof why) ==
	    0)
		return 0;
	fprintf(stderr, "cannot start ZooKeeper: %s\n", why);
	tt_zk_dump_log(z);
	return -1;
}

void tt_zk_stop(tt_zk_t *z)
{
	if (z->pid <= 0)
		return;
	killpg(z->pid, SIGKILL);
	kill(z->pid, SIGKILL);
	while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
		;
	z->pid = -1;
}

void tt_zk_fini(tt_zk_t *z)
{
	tt_zk_stop(z);
	free(z->dir);
	z->dir = NULL;
}
