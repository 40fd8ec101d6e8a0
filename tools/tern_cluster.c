/* tools/tern_cluster.c: `tern-cluster`, a local Tern cluster in one command: a
 * controller-only ternd (or, with --zookeeper, a ZooKeeper server) and N
 * brokers on 127.0.0.1, started detached, with their layout in
 * DIR/cluster.conf and a pid file and a log per process
 * (docs/operations.md). It only ever signals the pids of its own pid files,
 * and only while they still run ternd on that process's data directory (or
 * java on that ZooKeeper's zoo.cfg). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/cli.h"

#define PROG "tern-cluster"

#define DEFAULT_DIR	  "./tern-cluster"
#define DEFAULT_BASE_PORT 9700
#define DEFAULT_TIMEOUT_S 30
#define MAX_BROKERS	  99
/* The controller's id: above every broker's (1..MAX_BROKERS). */
#define CONTROLLER_ID 100
#define MAX_CONFIGS   64
/* How often the waits look again; they end on a condition or a deadline. */
#define POLL_US 20000
/* Lines of a process's log shown when it fails. */
#define TAIL_LINES 20
/* Where the ZooKeeper server's jars are (libzookeeper-java) unless
 * TERN_ZK_CLASSPATH names them. */
#define ZK_JARS "/usr/share/java"

/* Settings tern-cluster gives each process itself: --config may not
 * override them, or the processes would no longer match cluster.conf. */
static const char *const reserved_keys[] = {
    "process.roles",	    "broker.id",	  "log.dirs",	      "listeners",
    "advertised.listeners", "controller.connect", "metrics.listener", "metadata.store",
    "zookeeper.connect",
};

/* A cluster's layout, as cluster.conf keeps it. Process index 0 is the
 * controller, or the ZooKeeper server when zookeeper is set; 1..nbrokers
 * are the brokers (index i is broker id i). */
typedef struct cluster {
	char *dir; /* absolute */
	long nbrokers;
	long base_port;		    /* broker i listens on base_port + i - 1 */
	long controller_port;	    /* process 0's port (the controller's or ZooKeeper's): P+N */
	bool zookeeper;		    /* metadata.store=zookeeper */
	char *configs[MAX_CONFIGS]; /* "key=value", passed as --key=value */
	size_t nconfigs;
} cluster_t;

/* What a pid file's process is doing now. */
typedef enum proc_state {
	PS_GONE,    /* no pid file, or its process no longer runs ternd here */
	PS_RUNNING, /* alive (sleeping or running) */
	PS_STOPPED, /* stopped by SIGSTOP */
} proc_state_t;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reaps whichever of this process's children have exited: the processes
 * `up` or `start` started and that died, which would otherwise stay
 * zombies until tern-cluster exits. */
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* ------------------------------------------------------------------------ */
/* Layout                                                                     */

static void cluster_free(cluster_t *c)
{
	free(c->dir);
	for (size_t i = 0; i < c->nconfigs; i++)
		free(c->configs[i]);
	memset(c, 0, sizeof *c);
}

static long proc_port(const cluster_t *c, long i)
{
	return i == 0 ? c->controller_port : c->base_port + i - 1;
}

static long proc_id(long i)
{
	return i == 0 ? CONTROLLER_ID : i;
}

/* "the controller", "ZooKeeper" or "broker N", for messages. */
static const char *proc_label(const cluster_t *c, long i, char *buf, size_t len)
{
	if (i == 0)
		snprintf(buf, len, c->zookeeper ? "ZooKeeper" : "the controller");
	else
		snprintf(buf, len, "broker %ld", i);
	return buf;
}

/* Whether process i is the ZooKeeper server. */
static bool is_zk(const cluster_t *c, long i)
{
	return i == 0 && c->zookeeper;
}

/* DIR/controller/NAME, DIR/zookeeper/NAME or DIR/I/NAME; an empty name
 * gives the directory. */
static void proc_path(const cluster_t *c, long i, const char *name, char *buf, size_t len)
{
	if (i == 0)
		snprintf(buf, len, "%s/%s%s%s", c->dir, c->zookeeper ? "zookeeper" : "controller",
			 *name ? "/" : "", name);
	else
		snprintf(buf, len, "%s/%ld%s%s", c->dir, i, *name ? "/" : "", name);
}

/* A ternd's listener, or ZooKeeper's connect string. */
static void proc_url(const cluster_t *c, long i, char *buf, size_t len)
{
	snprintf(buf, len, "%s127.0.0.1:%ld", is_zk(c, i) ? "" : "tcp://", proc_port(c, i));
}

/* Process i's pid file and log, in its directory. */
static const char *pid_name(const cluster_t *c, long i)
{
	return is_zk(c, i) ? "zk.pid" : "ternd.pid";
}

static const char *log_name(const cluster_t *c, long i)
{
	return is_zk(c, i) ? "zk.log" : "ternd.log";
}

/* The brokers' listeners, comma-separated; the caller frees it. */
static char *bootstrap_of(const cluster_t *c)
{
	size_t len = (size_t)c->nbrokers * 32 + 1;
	char *s = malloc(len), url[64];

	if (!s)
		return NULL;
	s[0] = '\0';
	for (long i = 1; i <= c->nbrokers; i++) {
		proc_url(c, i, url, sizeof url);
		if (i > 1)
			strcat(s, ",");
		strcat(s, url);
	}
	return s;
}

/* Writes path through a temporary file and a rename, so that a reader
 * sees the old contents or the new, never half of them. */
static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	size_t len = strlen(text);
	int fd, rc = -1;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static int save_layout(const cluster_t *c)
{
	char path[PATH_MAX], *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int rc;

	if (!f)
		return -1;
	fprintf(f,
		"# The layout of a local Tern cluster, written by `tern-cluster up` and\n"
		"# read by its other commands (docs/operations.md).\n"
		"brokers=%ld\nbase.port=%ld\n",
		c->nbrokers, c->base_port);
	if (c->zookeeper)
		fprintf(f, "metadata.store=zookeeper\nzookeeper.port=%ld\n", c->controller_port);
	else
		fprintf(f, "controller.port=%ld\ncontroller.id=%d\n", c->controller_port,
			CONTROLLER_ID);
	for (size_t i = 0; i < c->nconfigs; i++)
		fprintf(f, "config=%s\n", c->configs[i]);
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	snprintf(path, sizeof path, "%s/cluster.conf", c->dir);
	rc = write_file(path, text);
	free(text);
	return rc;
}

/* DIR made absolute (it must exist); NULL after reporting why not. */
static char *abs_dir(const char *cmd, const char *dir)
{
	char *abs = realpath(dir, NULL);

	if (!abs)
		cli_error(cmd, "%s: %s", dir, strerror(errno));
	return abs;
}

/* Reads DIR/cluster.conf into c; false after reporting why not (no
 * cluster there, or a file this version cannot read). */
static bool load_layout(const char *cmd, const char *dir, cluster_t *c)
{
	char path[PATH_MAX], line[1024];
	bool ok = true;
	FILE *f;
	long id = CONTROLLER_ID;

	memset(c, 0, sizeof *c);
	snprintf(path, sizeof path, "%s/cluster.conf", dir);
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			cli_error(cmd,
				  "no cluster in %s (no cluster.conf there); start one with "
				  "'" PROG " up --brokers 3 --dir %s', or name its directory with "
				  "--dir",
				  dir, dir);
		else
			cli_error(cmd, "%s: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof line, f)) {
		char *eq, *val;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			ok = false;
			break;
		}
		*eq = '\0';
		val = eq + 1;
		if (strcmp(line, "brokers") == 0)
			ok = cli_parse_long(val, 1, MAX_BROKERS, &c->nbrokers);
		else if (strcmp(line, "base.port") == 0)
			ok = cli_parse_long(val, 1, 65535, &c->base_port);
		else if (strcmp(line, "controller.port") == 0)
			ok = cli_parse_long(val, 1, 65535, &c->controller_port);
		else if (strcmp(line, "zookeeper.port") == 0)
			ok = cli_parse_long(val, 1, 65535, &c->controller_port);
		else if (strcmp(line, "metadata.store") == 0)
			ok = (c->zookeeper = strcmp(val, "zookeeper") == 0);
		else if (strcmp(line, "controller.id") == 0)
			ok = cli_parse_long(val, 0, INT32_MAX, &id) && id == CONTROLLER_ID;
		else if (strcmp(line, "config") == 0 && c->nconfigs < MAX_CONFIGS)
			ok = (c->configs[c->nconfigs++] = strdup(val)) != NULL;
		else
			ok = false;
	}
	fclose(f);
	if (ok && (!c->nbrokers || !c->base_port || !c->controller_port))
		ok = false;
	if (ok)
		ok = (c->dir = abs_dir(cmd, dir)) != NULL;
	else
		cli_error(cmd,
			  "%s is not a layout this tern-cluster can read; remove the directory "
			  "or start a new cluster elsewhere with --dir",
			  path);
	if (!ok)
		cluster_free(c);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Processes                                                                  */

/* The pid in process i's pid file; 0 when there is none. */
static pid_t read_pid(const cluster_t *c, long i)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	long pid;
	int fd;

	proc_path(c, i, pid_name(c, i), path, sizeof path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return cli_parse_long(buf, 1, INT32_MAX, &pid) ? (pid_t)pid : 0;
}

static int write_pid(const cluster_t *c, long i, pid_t pid)
{
	char path[PATH_MAX], text[32];

	proc_path(c, i, pid_name(c, i), path, sizeof path);
	snprintf(text, sizeof text, "%ld\n", (long)pid);
	return write_file(path, text);
}

static void remove_pid(const cluster_t *c, long i)
{
	char path[PATH_MAX];

	proc_path(c, i, pid_name(c, i), path, sizeof path);
	unlink(path);
}

/* What pid is doing, if it is still process i of this cluster: its
 * command line runs a ternd with this process's data directory, or java
 * with this ZooKeeper's zoo.cfg (so that a pid the kernel has given to
 * another program, or to a process of another cluster, is never taken for
 * it), and it is no zombie. */
static proc_state_t pid_state(const cluster_t *c, long i, pid_t pid)
{
	char path[64], cmdline[8192], want[PATH_MAX + 16], data[PATH_MAX], stat[512], *p;
	bool ours = false;
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
		return PS_GONE;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PS_GONE;
	n = read(fd, cmdline, sizeof cmdline - 1);
	close(fd);
	if (n <= 0) /* a zombie has no command line */
		return PS_GONE;
	cmdline[n] = '\0';
	if (is_zk(c, i)) {
		proc_path(c, i, "zoo.cfg", want, sizeof want);
	} else {
		proc_path(c, i, "", data, sizeof data);
		snprintf(want, sizeof want, "--log.dirs=%s", data);
	}
	p = strrchr(cmdline, '/');
	if (!strstr(p ? p : cmdline, is_zk(c, i) ? "java" : "ternd"))
		return PS_GONE;
	for (p = cmdline; p < cmdline + n; p += strlen(p) + 1)
		if (strcmp(p, want) == 0)
			ours = true;
	if (!ours)
		return PS_GONE;
	/* /proc/PID/stat: "pid (comm) S ...": the state follows the last ')'. */
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PS_GONE;
	n = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (n <= 0)
		return PS_GONE;
	stat[n] = '\0';
	p = strrchr(stat, ')');
	if (!p || !p[1] || !p[2])
		return PS_GONE;
	switch (p[2]) {
	case 'Z':
	case 'X':
	case 'x':
		return PS_GONE;
	case 'T':
	case 't':
		return PS_STOPPED;
	default:
		return PS_RUNNING;
	}
}

/* Process i's pid when it is running (or stopped) now, else 0. */
static pid_t live_pid(const cluster_t *c, long i, proc_state_t *state)
{
	pid_t pid = read_pid(c, i);
	proc_state_t s = pid_state(c, i, pid);

	if (state)
		*state = s;
	return s == PS_GONE ? 0 : pid;
}

/* The ternd next to this program: in the same directory once installed,
 * in ../broker/ in the build tree; else the first on PATH. NULL after
 * reporting that there is none. The caller frees it. */
static char *find_ternd(const char *cmd)
{
	static const char *const beside[] = {"ternd", "../broker/ternd"};
	char self[PATH_MAX], cand[PATH_MAX + 32];
	const char *path = getenv("PATH");
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		for (size_t k = 0; k < sizeof beside / sizeof beside[0]; k++) {
			snprintf(cand, sizeof cand, "%s/%s", self, beside[k]);
			if (access(cand, X_OK) == 0)
				return realpath(cand, NULL);
		}
	}
	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(cand, sizeof cand, "%.*s/ternd", (int)len, len ? path : ".");
		if (access(cand, X_OK) == 0)
			return realpath(cand, NULL);
		path += len + (path[len] == ':');
	}
	cli_error(
	    cmd,
	    "cannot find ternd: it is neither next to tern-cluster (%s) nor on PATH; build it "
	    "(ninja -C build) or install it (meson install -C build)",
	    n > 0 ? self : "?");
	return NULL;
}

/* A process being started: what the waits watch. */
typedef struct start {
	long i;
	pid_t pid;	/* 0: not started, or gone */
	off_t log_from; /* its log's size before this start: older lines are not its */
	bool listening;
	int status; /* its wait status once it has exited */
} start_t;

/* The java on PATH; NULL after reporting that there is none. The
 * caller frees it. */
static char *find_java(const char *cmd)
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX + 8];

	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(cand, sizeof cand, "%.*s/java", (int)len, len ? path : ".");
		if (access(cand, X_OK) == 0)
			return strdup(cand);
		path += len + (path[len] == ':');
	}
	cli_error(cmd, "--zookeeper needs java on PATH to run the ZooKeeper server; install "
		       "default-jre-headless (tools/setup)");
	return NULL;
}

/* The ZooKeeper server's classpath (TERN_ZK_CLASSPATH, else the jars of
 * libzookeeper-java), in a static buffer; NULL after reporting a missing
 * jar. */
static const char *zk_classpath(const char *cmd)
{
	static const char *const need[] = {"zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar"};
	static char cp[4096];
	const char *env = getenv("TERN_ZK_CLASSPATH");
	char path[PATH_MAX];
	size_t n = 0;

	if (env && *env)
		return env;
	for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
		snprintf(path, sizeof path, ZK_JARS "/%s", need[k]);
		if (access(path, R_OK) != 0) {
			cli_error(cmd,
				  "--zookeeper: %s is missing; install libzookeeper-java "
				  "(tools/setup), or name the server's jars in TERN_ZK_CLASSPATH",
				  path);
			return NULL;
		}
		n += (size_t)snprintf(cp + n, sizeof cp - n, "%s%s", n ? ":" : "", path);
	}
	/* With an slf4j binding the server's log lands in zk.log. */
	if (access(ZK_JARS "/slf4j-simple.jar", R_OK) == 0)
		snprintf(cp + n, sizeof cp - n, ":" ZK_JARS "/slf4j-simple.jar");
	return cp;
}

/* Writes the ZooKeeper server's DIR/zookeeper/zoo.cfg; false after
 * reporting why not. */
static bool write_zoo_cfg(const char *cmd, const cluster_t *c)
{
	char path[PATH_MAX], data[PATH_MAX], *text = NULL;
	int rc;

	proc_path(c, 0, "data", data, sizeof data);
	proc_path(c, 0, "zoo.cfg", path, sizeof path);
	if (mkdir(data, 0755) != 0 && errno != EEXIST) {
		cli_error(cmd, "cannot create %s: %s", data, strerror(errno));
		return false;
	}
	/* tickTime 500: sessions down to 1 s (2 ticks). maxSessionTimeout:
	 * ZooKeeper's default of 20 ticks (10 s) would cut the brokers'
	 * default zookeeper.session.timeout.ms of 18 s. */
	if (asprintf(&text,
		     "# Written by tern-cluster at each start of ZooKeeper (docs/operations.md).\n"
		     "tickTime=500\n"
		     "dataDir=%s\n"
		     "clientPortAddress=127.0.0.1\n"
		     "clientPort=%ld\n"
		     "maxSessionTimeout=120000\n"
		     "admin.enableServer=false\n"
		     "4lw.commands.whitelist=srvr\n",
		     data, c->controller_port) < 0) {
		cli_error(cmd, "out of memory");
		return false;
	}
	rc = write_file(path, text);
	free(text);
	if (rc != 0)
		cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
	return rc == 0;
}

/* Whether a ZooKeeper server answers "srvr" on 127.0.0.1:port now (its
 * answer names its mode once it serves). */
static bool zk_answers(long port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char buf[1024];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "srvr", 4) == 4) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		while (n < sizeof buf - 1 && poll(&p, 1, 1000) == 1 &&
		       (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
			n += (size_t)r;
		buf[n] = '\0';
		ok = strstr(buf, "Mode:") != NULL;
	}
	close(fd);
	return ok;
}

/* Starts process i detached: its own session, stdin from /dev/null, its
 * output appended to its log; writes its pid file. exe is ternd, or java
 * for the ZooKeeper server. false after reporting why it could not be
 * started. */
static bool spawn(const char *cmd, const cluster_t *c, const char *exe, long i, start_t *st)
{
	char data[PATH_MAX], logp[PATH_MAX], a_dirs[PATH_MAX + 16], a_id[32], a_lis[64], a_ctl[96],
	    label[32], cfg[PATH_MAX];
	char *argv[16 + MAX_CONFIGS];
	const char *cp;
	struct stat sb;
	size_t n = 0, nalloc = 0;
	pid_t pid;
	int logfd;

	proc_label(c, i, label, sizeof label);
	proc_path(c, i, "", data, sizeof data);
	proc_path(c, i, log_name(c, i), logp, sizeof logp);
	if (mkdir(data, 0755) != 0 && errno != EEXIST) {
		cli_error(cmd, "cannot create %s: %s", data, strerror(errno));
		return false;
	}
	argv[n++] = (char *)exe;
	if (is_zk(c, i)) {
		if (!(cp = zk_classpath(cmd)) || !write_zoo_cfg(cmd, c))
			return false;
		proc_path(c, i, "zoo.cfg", cfg, sizeof cfg);
		argv[n++] = "-Xmx256m";
		argv[n++] = "-XX:+UseSerialGC";
		argv[n++] = "-cp";
		argv[n++] = (char *)cp;
		argv[n++] = "org.apache.zookeeper.server.ZooKeeperServerMain";
		argv[n++] = cfg;
		argv[n] = NULL;
		goto start;
	}
	snprintf(a_dirs, sizeof a_dirs, "--log.dirs=%s", data);
	snprintf(a_id, sizeof a_id, "--broker.id=%ld", proc_id(i));
	snprintf(a_lis, sizeof a_lis, "--listeners=tcp://127.0.0.1:%ld", proc_port(c, i));
	if (c->zookeeper) {
		/* Under ZooKeeper every broker may become the controller: no
		 * process.roles, no controller.connect. */
		argv[n++] = "--metadata.store=zookeeper";
		snprintf(a_ctl, sizeof a_ctl, "--zookeeper.connect=127.0.0.1:%ld",
			 c->controller_port);
	} else {
		argv[n++] = i == 0 ? "--process.roles=controller" : "--process.roles=broker";
		snprintf(a_ctl, sizeof a_ctl, "--controller.connect=tcp://127.0.0.1:%ld",
			 c->controller_port);
	}
	argv[n++] = a_id;
	argv[n++] = a_dirs;
	argv[n++] = a_lis;
	if (i > 0)
		argv[n++] = a_ctl;
	/* The default metrics port (9701) would be a broker's; --config may
	 * not set it either, as every process would ask for the same port. */
	argv[n++] = "--metrics.listener=";
	nalloc = c->nconfigs;
	for (size_t k = 0; k < c->nconfigs; k++) {
		char *arg;

		if (asprintf(&arg, "--%s", c->configs[k]) < 0) {
			while (k-- > 0)
				free(argv[--n]);
			cli_error(cmd, "out of memory");
			return false;
		}
		argv[n++] = arg;
	}
	argv[n] = NULL;

start:
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		cli_error(cmd, "cannot open %s: %s", logp, strerror(errno));
		pid = -1;
		goto out;
	}
	dprintf(logfd, "tern-cluster: starting %s:", label);
	for (size_t k = 0; k < n; k++)
		dprintf(logfd, " %s", argv[k]);
	dprintf(logfd, "\n");
	st->log_from = fstat(logfd, &sb) == 0 ? sb.st_size : 0;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* A session of its own: no terminal's signals reach it, and it
		 * outlives tern-cluster. */
		setsid();
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
		    dup2(logfd, STDERR_FILENO) < 0)
			_exit(127);
		/* Whatever else is open here (the admin client's sockets) is
		 * not ternd's. */
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv(exe, argv);
		dprintf(STDERR_FILENO, "tern-cluster: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		cli_error(cmd, "cannot start %s: fork: %s", label, strerror(errno));
	close(logfd);
	if (pid > 0 && write_pid(c, i, pid) != 0) {
		cli_error(cmd, "cannot write the pid file of %s in %s: %s; stopping it", label,
			  data, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
out:
	for (size_t k = n - nalloc; k < n; k++)
		free(argv[k]);
	st->i = i;
	st->pid = pid > 0 ? pid : 0;
	st->listening = false;
	st->status = 0;
	return pid > 0;
}

/* Whether process i's log says, after byte from, that it listens. */
static bool log_says_listening(const cluster_t *c, long i, off_t from)
{
	char path[PATH_MAX], buf[4096];
	bool found = false;
	ssize_t n;
	int fd;

	proc_path(c, i, log_name(c, i), path, sizeof path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		found = strstr(buf, " listening on ") != NULL;
	}
	return found;
}

/* Prints the last lines of process i's log on stderr, indented. */
static void put_log_tail(const cluster_t *c, long i)
{
	char path[PATH_MAX], buf[8192], *p;
	ssize_t n;
	off_t size;
	int fd, lines = 0;

	proc_path(c, i, log_name(c, i), path, sizeof path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "  (no log: %s: %s)\n", path, strerror(errno));
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	n = size < 0 ? -1
		     : pread(fd, buf, sizeof buf - 1,
			     size > (off_t)sizeof buf - 1 ? size - (off_t)(sizeof buf - 1) : 0);
	close(fd);
	if (n <= 0) {
		fprintf(stderr, "  (%s is empty)\n", path);
		return;
	}
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	fprintf(stderr, "The last lines of %s:\n", path);
	while (*p) {
		size_t len = strcspn(p, "\n");

		fprintf(stderr, "  %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

/* Describes how a child of ours ended, from its wait status. */
static const char *exit_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d%s", WEXITSTATUS(status),
			 WEXITSTATUS(status) == 3 ? ": its port is in use" : "");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status %d", status);
	return buf;
}

/* Waits until every process of sts says in its log that it listens.
 * Returns the index in sts of one that exited first (its wait status in
 * sts[k].status), -2 when the deadline passed or a signal came, -1 when
 * all listen. Only children of this process can be watched. */
static int wait_listening(const cluster_t *c, start_t *sts, size_t n, int64_t deadline)
{
	for (;;) {
		bool all = true;

		for (size_t k = 0; k < n; k++) {
			start_t *s = &sts[k];
			int status;

			if (s->listening)
				continue;
			/* The log first: a process that listened and then died
			 * is caught by the next step's checks. ZooKeeper is
			 * ready when it answers. */
			if (is_zk(c, s->i) ? zk_answers(c->controller_port)
					   : log_says_listening(c, s->i, s->log_from)) {
				s->listening = true;
				continue;
			}
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				s->status = status;
				s->pid = 0;
				return (int)k;
			}
			all = false;
		}
		if (all)
			return -1;
		if (interrupted || now_ms() >= deadline)
			return -2;
		usleep(POLL_US);
	}
}

/* Sends SIGTERM to every running process of the set (indexes of c) but
 * ZooKeeper, which gets SIGKILL (it keeps its state on disk and a SIGTERM
 * would not hurry it), then waits for them to be gone; after the
 * deadline, SIGKILL, and a few seconds more. Removes the pid files of
 * those gone. Returns how many had to be killed with SIGKILL after the
 * deadline; *left gets how many still run after all that (they are
 * reported). */
static int stop_procs(const char *cmd, const cluster_t *c, const long *set, size_t n,
		      int64_t deadline, int *left)
{
	int killed = 0;
	bool hard = false;

	*left = 0;
	for (size_t k = 0; k < n; k++) {
		pid_t pid = live_pid(c, set[k], NULL);

		if (pid) {
			kill(pid, is_zk(c, set[k]) ? SIGKILL : SIGTERM);
			/* A stopped process acts on SIGTERM only once continued. */
			kill(pid, SIGCONT);
		} else {
			remove_pid(c, set[k]);
		}
	}
	for (;;) {
		bool any = false;

		reap();
		for (size_t k = 0; k < n; k++) {
			if (live_pid(c, set[k], NULL))
				any = true;
			else
				remove_pid(c, set[k]);
		}
		if (!any)
			return killed;
		if (now_ms() >= deadline) {
			if (hard)
				break;
			for (size_t k = 0; k < n; k++) {
				pid_t pid = live_pid(c, set[k], NULL);

				if (pid && kill(pid, SIGKILL) == 0)
					killed++;
			}
			hard = true;
			deadline = now_ms() + 5000;
		}
		usleep(POLL_US);
	}
	for (size_t k = 0; k < n; k++) {
		char label[32];
		pid_t pid = live_pid(c, set[k], NULL);

		if (pid) {
			cli_error(cmd, "%s (pid %ld) is still running after SIGKILL",
				  proc_label(c, set[k], label, sizeof label), (long)pid);
			(*left)++;
		}
	}
	return killed;
}

/* Stops the whole cluster: the brokers first, the controller or ZooKeeper
 * last, once the brokers are gone, so that the brokers can still tell it
 * they are leaving. */
static int stop_all(const char *cmd, const cluster_t *c, int timeout_s, int *killed)
{
	long set[MAX_BROKERS];
	int left = 0, l2 = 0;
	long ctl = 0;

	for (long i = 1; i <= c->nbrokers; i++)
		set[i - 1] = i;
	*killed =
	    stop_procs(cmd, c, set, (size_t)c->nbrokers, now_ms() + timeout_s * 1000LL, &left);
	*killed += stop_procs(cmd, c, &ctl, 1, now_ms() + timeout_s * 1000LL, &l2);
	return left + l2;
}

/* An admin client for bootstrap with timeouts for a cluster on this
 * machine: a process that does not answer within a few seconds is taken
 * to be down. NULL after reporting why. */
static tern_admin_t *local_admin(const char *cmd, const char *bootstrap)
{
	tern_conf_t *conf;
	tern_admin_t *a;
	char why[512];
	int status;

	conf = cli_conf_new(cmd, bootstrap, &status);
	if (!conf)
		return NULL;
	if (tern_conf_set(conf, "socket.connection.setup.timeout.ms", "1500", why, sizeof why) ||
	    tern_conf_set(conf, "request.timeout.ms", "3000", why, sizeof why) ||
	    tern_conf_set(conf, "client.id", PROG, why, sizeof why)) {
		cli_error(cmd, "%s", why);
		tern_conf_destroy(conf);
		return NULL;
	}
	a = tern_admin_new(conf, why, sizeof why);
	if (!a) {
		cli_error(cmd, "cannot start the admin client: %s", why);
		tern_conf_destroy(conf);
	}
	return a;
}

/* ------------------------------------------------------------------------ */
/* Options the commands share                                                 */

enum {
	OPT_DIR = 'd',
	OPT_HELP = 'h',
	OPT_TIMEOUT = 256,
	OPT_FORMAT,
	OPT_ZOOKEEPER,
};

#define DIR_HELP     "  -d, --dir DIR          the cluster's directory (default " DEFAULT_DIR ")\n"
#define TIMEOUT_HELP "      --timeout SECONDS  how long to wait for the processes (default 30)\n"
#define HELP_HELP    "  -h, --help             print this help\n"

static bool parse_timeout(const char *cmd, const char *s, int *out)
{
	long v;

	if (!cli_parse_long(s, 1, 3600, &v)) {
		cli_usage_error(cmd, "bad --timeout '%s': give whole seconds, 1 to 3600", s);
		return false;
	}
	*out = (int)v;
	return true;
}

/* Process 0's name on the command line. */
static const char *proc0_name(const cluster_t *c)
{
	return c->zookeeper ? "zookeeper" : "controller";
}

/* Takes the process operand of kill and start: a broker id, or
 * "controller" ("zookeeper" under ZooKeeper); -1 after reporting a bad
 * one. */
static long parse_proc(const char *cmd, const cluster_t *c, const char *s)
{
	long id;

	if (strcmp(s, proc0_name(c)) == 0)
		return 0;
	if (cli_parse_long(s, 1, c->nbrokers, &id))
		return id;
	cli_usage_error(cmd,
			"no process '%s' in this cluster: give a broker id, 1 to %ld, or "
			"'%s'%s",
			s, c->nbrokers, proc0_name(c),
			c->zookeeper && strcmp(s, "controller") == 0
			    ? " (under ZooKeeper the controller is one of the brokers: its log "
			      "says 'this broker is the controller now')"
			    : "");
	return -1;
}

/* ------------------------------------------------------------------------ */
/* up                                                                         */

static const char up_usage[] =
    "usage: tern-cluster up --brokers N [--dir DIR] [--base-port P] [--config KEY=VALUE]...\n"
    "                       [--zookeeper]\n"
    "\n"
    "Starts a local cluster: a controller-only ternd (id 100) and N brokers (ids\n"
    "1 to N), each in its own session, detached. Broker i listens on\n"
    "tcp://127.0.0.1:P+i-1 with its data, log (ternd.log) and pid file\n"
    "(ternd.pid) in DIR/i/; the controller listens on tcp://127.0.0.1:P+N with\n"
    "them in DIR/controller/. With --zookeeper, a ZooKeeper server on\n"
    "127.0.0.1:P+N (java; its zoo.cfg, data, zk.log and zk.pid in\n"
    "DIR/zookeeper/) takes the controller's place: the brokers keep their\n"
    "metadata in it and elect the controller among themselves. The layout is\n"
    "kept in DIR/cluster.conf for the\n"
    "other commands. Waits until every broker has registered with the\n"
    "controller, then prints the bootstrap list (every broker's URL, comma-\n"
    "separated) on stdout. When a process fails to start, prints its log's\n"
    "last lines, stops the others and exits 1. A stopped cluster's DIR starts\n"
    "again on its data.\n"
    "\n"
    "Options:\n"
    "  -n, --brokers N        how many brokers, 1 to 99 (required)\n" DIR_HELP
    "  -p, --base-port P      broker 1's port (default 9700); the cluster takes\n"
    "                         ports P to P+N\n"
    "  -c, --config KEY=VALUE a ternd setting for every process (docs/configuration.md),\n"
    "                         passed as --KEY=VALUE; repeatable\n"
    "      --zookeeper        a ZooKeeper server instead of the controller process\n"
    "                         (metadata.store=zookeeper; needs java and\n"
    "                         libzookeeper-java, or TERN_ZK_CLASSPATH)\n" TIMEOUT_HELP HELP_HELP;

static bool port_free(long port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	bool ok;

	if (fd < 0)
		return true; /* ternd will say */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* Checks one --config KEY=VALUE; false after reporting what is wrong. */
static bool config_ok(const char *cmd, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0;

	if (!eq || klen == 0 || kv[0] == '-') {
		cli_usage_error(cmd,
				"bad --config '%s': give KEY=VALUE, e.g. --config "
				"broker.session.timeout.ms=3000",
				kv);
		return false;
	}
	for (size_t k = 0; k < sizeof reserved_keys / sizeof reserved_keys[0]; k++)
		if (strlen(reserved_keys[k]) == klen && strncmp(kv, reserved_keys[k], klen) == 0) {
			cli_usage_error(cmd,
					"--config %.*s: tern-cluster sets %.*s itself for each "
					"process; leave it out",
					(int)klen, kv, (int)klen, kv);
			return false;
		}
	return true;
}

static int up(int argc, char **argv)
{
	static const char cmd[] = "up";
	static const struct option longopts[] = {
	    {"brokers", required_argument, NULL, 'n'},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"base-port", required_argument, NULL, 'p'},
	    {"config", required_argument, NULL, 'c'},
	    {"zookeeper", no_argument, NULL, OPT_ZOOKEEPER},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DIR;
	cluster_t c = {0};
	start_t sts[MAX_BROKERS + 1];
	size_t nsts = 0;
	tern_admin_t *a = NULL;
	char *ternd = NULL, *java = NULL, *boot = NULL, label[32], url[64];
	bool registered = false;
	int ch, timeout_s = DEFAULT_TIMEOUT_S, rc = CLI_EXIT_FAIL, k, killed;
	int64_t deadline;
	struct sigaction sa = {.sa_handler = on_signal};

	c.base_port = DEFAULT_BASE_PORT;
	while ((ch = cli_getopt(cmd, argc, argv, ":n:d:p:c:h", longopts)) != -1) {
		switch (ch) {
		case 'n':
			if (!cli_parse_long(optarg, 1, MAX_BROKERS, &c.nbrokers)) {
				rc = cli_usage_error(cmd, "bad --brokers '%s': give 1 to %d",
						     optarg, MAX_BROKERS);
				goto out;
			}
			break;
		case OPT_DIR:
			dir = optarg;
			break;
		case 'p':
			if (!cli_parse_long(optarg, 1, 65535, &c.base_port)) {
				rc = cli_usage_error(cmd,
						     "bad --base-port '%s': give a port, 1 "
						     "to 65535",
						     optarg);
				goto out;
			}
			break;
		case 'c':
			if (!config_ok(cmd, optarg)) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			if (c.nconfigs == MAX_CONFIGS) {
				rc = cli_usage_error(cmd, "at most %d --config settings",
						     MAX_CONFIGS);
				goto out;
			}
			if (!(c.configs[c.nconfigs] = strdup(optarg))) {
				cli_error(cmd, "out of memory");
				goto out;
			}
			c.nconfigs++;
			break;
		case OPT_ZOOKEEPER:
			c.zookeeper = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_timeout(cmd, optarg, &timeout_s)) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_HELP:
			fputs(up_usage, stdout);
			rc = CLI_EXIT_OK;
			goto out;
		default:
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (argc > optind) {
		rc =
		    cli_usage_error(cmd, "no operand expected; '%s' is one too many", argv[optind]);
		goto out;
	}
	if (!c.nbrokers) {
		rc = cli_usage_error(cmd, "say how many brokers with --brokers N (1 to %d)",
				     MAX_BROKERS);
		goto out;
	}
	if (c.base_port + c.nbrokers > 65535) {
		rc = cli_usage_error(cmd,
				     "ports %ld to %ld do not fit below 65536: choose a lower "
				     "--base-port",
				     c.base_port, c.base_port + c.nbrokers);
		goto out;
	}
	c.controller_port = c.base_port + c.nbrokers;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		cli_error(cmd, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!(c.dir = abs_dir(cmd, dir)))
		goto out;
	{
		/* Refuse a directory whose cluster still runs, whatever its
		 * layout: its pids are in its own cluster.conf's places. */
		cluster_t old;
		char path[PATH_MAX];

		snprintf(path, sizeof path, "%s/cluster.conf", c.dir);
		if (access(path, F_OK) == 0) {
			if (!load_layout(cmd, c.dir, &old))
				goto out;
			for (long i = 0; i <= old.nbrokers; i++) {
				pid_t pid = live_pid(&old, i, NULL);

				if (pid) {
					cli_error(cmd,
						  "a cluster is already running in %s (%s, pid "
						  "%ld); stop it with '" PROG " down --dir %s', "
						  "or choose another --dir",
						  c.dir, proc_label(&old, i, label, sizeof label),
						  (long)pid, dir);
					cluster_free(&old);
					goto out;
				}
			}
			cluster_free(&old);
		}
	}
	for (long i = 0; i <= c.nbrokers; i++)
		if (!port_free(proc_port(&c, i))) {
			cli_error(
			    cmd,
			    "port %ld (%s) is in use on 127.0.0.1; stop what listens there or "
			    "choose other ports with --base-port (the cluster takes P to P+%ld)",
			    proc_port(&c, i), proc_label(&c, i, label, sizeof label), c.nbrokers);
			goto out;
		}
	if (!(ternd = find_ternd(cmd)) || !(boot = bootstrap_of(&c)))
		goto out;
	if (c.zookeeper && (!(java = find_java(cmd)) || !zk_classpath(cmd)))
		goto out;
	if (save_layout(&c) != 0) {
		cli_error(cmd, "cannot write %s/cluster.conf: %s", c.dir, strerror(errno));
		goto out;
	}

	/* From here on, whatever was started is stopped again on failure,
	 * an interrupt (^C) included. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	deadline = now_ms() + timeout_s * 1000LL;
	for (long i = 0; i <= c.nbrokers; i++) {
		if (!spawn(cmd, &c, is_zk(&c, i) ? java : ternd, i, &sts[nsts]))
			goto fail;
		nsts++;
		/* A broker under ZooKeeper opens its session before it
		 * listens: ZooKeeper first, serving. */
		if (is_zk(&c, i) && (k = wait_listening(&c, sts, 1, deadline)) != -1)
			goto zk_failed;
	}
	k = wait_listening(&c, sts, nsts, deadline);
zk_failed:
	if (k >= 0) {
		char why[96];

		cli_error(cmd, "%s exited during start-up (%s)",
			  proc_label(&c, sts[k].i, label, sizeof label),
			  exit_text(sts[k].status, why, sizeof why));
		put_log_tail(&c, sts[k].i);
		goto fail;
	}
	if (k == -2)
		goto timeout;

	/* Every process listens: now wait until broker 1's metadata lists
	 * every broker, which it learns from the controller. */
	proc_url(&c, 1, url, sizeof url);
	if (!(a = local_admin(cmd, url)))
		goto fail;
	while (!interrupted && now_ms() < deadline) {
		tern_cluster_info_t *ci = NULL;
		char why[512];
		long seen = 0;

		if (tern_admin_cluster_info(a, &ci, why, sizeof why) == TERN_OK) {
			for (size_t j = 0; j < ci->nbrokers; j++)
				if (ci->brokers[j].id >= 1 && ci->brokers[j].id <= c.nbrokers)
					seen++;
			tern_cluster_info_destroy(ci);
		}
		if (seen == c.nbrokers) {
			registered = true;
			break;
		}
		for (size_t j = 0; j < nsts; j++) {
			int status;

			if (sts[j].pid > 0 && waitpid(sts[j].pid, &status, WNOHANG) == sts[j].pid) {
				char what[96];

				sts[j].pid = 0;
				cli_error(cmd, "%s exited during start-up (%s)",
					  proc_label(&c, sts[j].i, label, sizeof label),
					  exit_text(status, what, sizeof what));
				put_log_tail(&c, sts[j].i);
				goto fail;
			}
		}
		usleep(POLL_US * 5);
	}
	if (!registered)
		goto timeout;
	printf("%s\n", boot);
	fflush(stdout);
	fprintf(stderr,
		PROG ": %ld broker%s and %s are running in %s; '" PROG
		     " status --dir %s' shows them, '" PROG " down --dir %s' stops them\n",
		c.nbrokers, c.nbrokers > 1 ? "s" : "", c.zookeeper ? "ZooKeeper" : "a controller",
		c.dir, dir, dir);
	rc = CLI_EXIT_OK;
	goto out;

timeout:
	if (interrupted) {
		cli_error(cmd, "interrupted by signal %d; stopping what was started",
			  (int)interrupted);
		goto fail;
	}
	cli_error(cmd, "the cluster did not come up within %d s (--timeout)", timeout_s);
	for (size_t j = 0; j < nsts; j++) {
		if (sts[j].listening)
			continue;
		fprintf(stderr, "%s does not listen yet.\n",
			proc_label(&c, sts[j].i, label, sizeof label));
		put_log_tail(&c, sts[j].i);
	}
	if (nsts && sts[nsts - 1].listening && !registered)
		fprintf(stderr,
			"Every process listens, but broker 1 does not list all %ld "
			"brokers: see %s.\n",
			c.nbrokers,
			c.zookeeper ? "the brokers' logs (the controller is one of them), "
				      "DIR/i/ternd.log"
				    : "the controller's log, DIR/controller/ternd.log");
fail:
	tern_admin_destroy(a);
	a = NULL;
	if (stop_all(cmd, &c, 10, &killed) == 0)
		fprintf(stderr,
			PROG ": stopped the processes it had started; their data and logs "
			     "stay in %s\n",
			c.dir);
	rc = CLI_EXIT_FAIL;
out:
	tern_admin_destroy(a);
	free(ternd);
	free(java);
	free(boot);
	cluster_free(&c);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* status                                                                     */

static const char status_usage[] =
    "usage: tern-cluster status [--dir DIR] [--format text|json]\n"
    "\n"
    "Prints every process of the cluster (the controller or, with --zookeeper,\n"
    "the ZooKeeper server, then the brokers): its id, role, URL, pid, state\n"
    "(running, stopped by SIGSTOP, or not running) and, for a broker, whether\n"
    "the cluster lists it as registered and whether it answers, as the\n"
    "metadata of a running broker says (unknown when no broker runs), and\n"
    "which node is the controller (under ZooKeeper, one of the brokers). The\n"
    "json form is\n"
    "  {\"dir\", \"bootstrap\", \"controller\" (id or null), \"processes\":\n"
    "   [{\"id\", \"role\", \"url\", \"pid\", \"state\", \"running\", \"registered\",\n"
    "   \"alive\"}...]}\n"
    "with the controller process first (ZooKeeper: id null, role \"zookeeper\",\n"
    "url HOST:PORT). Exits 0 when every process runs, 1 when one\n"
    "does not (or there is no cluster in DIR).\n"
    "\n"
    "Options:\n" DIR_HELP "      --format text|json output format (default text)\n" HELP_HELP;

static const char *state_name(proc_state_t s)
{
	return s == PS_RUNNING ? "running" : s == PS_STOPPED ? "stopped" : "not running";
}

static int status(int argc, char **argv)
{
	static const char cmd[] = "status";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DIR;
	proc_state_t states[MAX_BROKERS + 1];
	pid_t pids[MAX_BROKERS + 1];
	/* For each broker: 1 listed by the metadata, 0 not, -1 unknown; and
	 * whether it answered. */
	int listed[MAX_BROKERS + 1], answers[MAX_BROKERS + 1];
	int32_t controller = -1; /* as the brokers' metadata says; -1: unknown */
	bool json = false, all = true;
	char *boot = NULL, *query = NULL, url[64];
	cluster_t c;
	size_t qlen = 0;
	int ch;

	while ((ch = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (ch) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") == 0)
				json = false;
			else
				return cli_usage_error(cmd, "unknown format '%s': use text or json",
						       optarg);
			break;
		case OPT_HELP:
			fputs(status_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc > optind)
		return cli_usage_error(cmd, "no operand expected; '%s' is one too many",
				       argv[optind]);
	if (!load_layout(cmd, dir, &c))
		return CLI_EXIT_FAIL;
	if (!(boot = bootstrap_of(&c)) || !(query = calloc(1, strlen(boot) + 1))) {
		cli_error(cmd, "out of memory");
		free(boot);
		cluster_free(&c);
		return CLI_EXIT_FAIL;
	}
	for (long i = 0; i <= c.nbrokers; i++) {
		pids[i] = live_pid(&c, i, &states[i]);
		listed[i] = answers[i] = -1;
		if (states[i] != PS_RUNNING)
			all = false;
		/* Ask only brokers that can answer: a stopped one would hold
		 * the request until it times out. */
		if (i > 0 && states[i] == PS_RUNNING) {
			proc_url(&c, i, url, sizeof url);
			qlen += (size_t)sprintf(query + qlen, "%s%s", qlen ? "," : "", url);
		}
	}
	if (qlen) {
		tern_admin_t *a = local_admin(cmd, query);
		tern_cluster_info_t *ci = NULL;
		char why[512];

		if (a && tern_admin_cluster_info(a, &ci, why, sizeof why) == TERN_OK) {
			tern_cluster_description_t *cd = NULL;

			for (long i = 1; i <= c.nbrokers; i++)
				listed[i] = answers[i] = 0;
			/* Metadata names the answering broker as controller
			 * (as KRaft does); DescribeCluster names the real one. */
			if (tern_admin_describe_cluster(a, &cd, why, sizeof why) == TERN_OK) {
				controller = cd->controller_id;
				tern_cluster_description_destroy(cd);
			}
			for (size_t j = 0; j < ci->nbrokers; j++) {
				int32_t id = ci->brokers[j].id;

				if (id >= 1 && id <= c.nbrokers) {
					listed[id] = 1;
					answers[id] = ci->brokers[j].alive;
				}
			}
			tern_cluster_info_destroy(ci);
		} else if (a) {
			fprintf(stderr, PROG " status: no running broker answered (%s)\n", why);
		}
		tern_admin_destroy(a);
	}

	if (json) {
		fputs("{\"dir\":", stdout);
		cli_put_json_str(stdout, c.dir);
		fputs(",\"bootstrap\":", stdout);
		cli_put_json_str(stdout, boot);
		fputs(",\"controller\":", stdout);
		if (controller >= 0)
			printf("%d", controller);
		else
			fputs("null", stdout);
		fputs(",\"processes\":[", stdout);
	} else {
		printf("Cluster: %s\nBootstrap: %s\n", c.dir, boot);
		if (controller < 0)
			printf("Controller: unknown\n");
		else if (c.zookeeper)
			printf("Controller: broker %d\n", controller);
		else
			printf("Controller: %d (the controller process)\n", controller);
		printf("%-10s  %-10s  %-22s  %-8s  %-11s  %-10s  %s\n", "ID", "ROLE", "URL", "PID",
		       "STATE", "REGISTERED", "ALIVE");
	}
	for (long i = 0; i <= c.nbrokers; i++) {
		static const char *const tri_json[] = {"null", "false", "true"};
		static const char *const tri_text[] = {"?", "no", "yes"};

		const char *role = i ? "broker" : c.zookeeper ? "zookeeper" : "controller";

		proc_url(&c, i, url, sizeof url);
		if (json) {
			if (is_zk(&c, i))
				printf("{\"id\":null");
			else
				printf("%s{\"id\":%ld", i ? "," : "", proc_id(i));
			printf(",\"role\":\"%s\",\"url\":\"%s\",\"pid\":", role, url);
			if (pids[i])
				printf("%ld", (long)pids[i]);
			else
				fputs("null", stdout);
			printf(",\"state\":\"%s\",\"running\":%s,\"registered\":%s,\"alive\":%s}",
			       state_name(states[i]), states[i] != PS_GONE ? "true" : "false",
			       i ? tri_json[listed[i] + 1] : "null",
			       i ? tri_json[answers[i] + 1] : "null");
		} else {
			char pid[24] = "-", id[16];

			if (pids[i])
				snprintf(pid, sizeof pid, "%ld", (long)pids[i]);
			snprintf(id, sizeof id, is_zk(&c, i) ? "-" : "%ld", proc_id(i));
			printf("%-10s  %-10s  %-22s  %-8s  %-11s  %-10s  %s\n", id, role, url, pid,
			       state_name(states[i]), i ? tri_text[listed[i] + 1] : "-",
			       i ? tri_text[answers[i] + 1] : "-");
		}
	}
	if (json)
		fputs("]}\n", stdout);
	free(boot);
	free(query);
	cluster_free(&c);
	return all ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ------------------------------------------------------------------------ */
/* down                                                                       */

static const char down_usage[] =
    "usage: tern-cluster down [--dir DIR] [--timeout SECONDS]\n"
    "\n"
    "Stops the cluster: SIGTERM to every broker, waits for them to exit, then\n"
    "the same for the controller (ZooKeeper gets SIGKILL once the brokers are\n"
    "gone); a process still running after the timeout gets SIGKILL. Removes the pid files; the "
    "data and logs stay, and 'up' on\n"
    "the same DIR starts the cluster again on them.\n"
    "\n"
    "Options:\n" DIR_HELP TIMEOUT_HELP HELP_HELP;

static int down(int argc, char **argv)
{
	static const char cmd[] = "down";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DIR;
	int ch, timeout_s = DEFAULT_TIMEOUT_S, killed, left, running = 0;
	cluster_t c;

	while ((ch = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (ch) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_TIMEOUT:
			if (!parse_timeout(cmd, optarg, &timeout_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_HELP:
			fputs(down_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc > optind)
		return cli_usage_error(cmd, "no operand expected; '%s' is one too many",
				       argv[optind]);
	if (!load_layout(cmd, dir, &c))
		return CLI_EXIT_FAIL;
	for (long i = 0; i <= c.nbrokers; i++)
		if (live_pid(&c, i, NULL))
			running++;
	left = stop_all(cmd, &c, timeout_s, &killed);
	if (left) {
		cli_error(cmd, "%d process%s still running", left, left > 1 ? "es are" : " is");
		cluster_free(&c);
		return CLI_EXIT_FAIL;
	}
	if (running == 0)
		printf("Nothing was running in %s.\n", c.dir);
	else
		printf("Stopped %d process%s%s; the data stays in %s.\n", running,
		       running > 1 ? "es" : "",
		       killed ? " (some only with SIGKILL: see their ternd.log)" : "", c.dir);
	cluster_free(&c);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* kill                                                                       */

static const char kill_usage[] =
    "usage: tern-cluster kill ID [--signal KILL|TERM|STOP|CONT] [--dir DIR]\n"
    "\n"
    "Sends a signal (default KILL) to one process of the cluster: broker ID (1\n"
    "to N), or 'controller' ('zookeeper' under --zookeeper). Waits until the signal has taken "
    "effect: the\n"
    "process is gone (KILL, TERM: its pid file is then removed), stopped (STOP)\n"
    "or running again (CONT). 'tern-cluster start ID' restarts a process that\n"
    "is gone.\n"
    "\n"
    "Options:\n"
    "  -s, --signal NAME      KILL, TERM, STOP or CONT (default KILL)\n" DIR_HELP TIMEOUT_HELP
	HELP_HELP;

static int kill_cmd(int argc, char **argv)
{
	static const char cmd[] = "kill";
	static const struct option longopts[] = {
	    {"signal", required_argument, NULL, 's'},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}};
	const char *dir = DEFAULT_DIR, *signame = "KILL";
	int ch, sig = SIGKILL, timeout_s = DEFAULT_TIMEOUT_S, rc = CLI_EXIT_FAIL;
	char label[32];
	proc_state_t st;
	int64_t deadline;
	cluster_t c;
	pid_t pid;
	long i;

	while ((ch = cli_getopt(cmd, argc, argv, ":s:d:h", longopts)) != -1) {
		switch (ch) {
		case 's': {
			const char *name = optarg;
			size_t k;

			if (strncasecmp(name, "SIG", 3) == 0)
				name += 3;
			for (k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
				if (strcasecmp(name, sigs[k].name) == 0)
					break;
			if (k == sizeof sigs / sizeof sigs[0])
				return cli_usage_error(cmd,
						       "unknown signal '%s': use KILL, TERM, "
						       "STOP or CONT",
						       optarg);
			sig = sigs[k].sig;
			signame = sigs[k].name;
			break;
		}
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_TIMEOUT:
			if (!parse_timeout(cmd, optarg, &timeout_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_HELP:
			fputs(kill_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd,
				       argc > optind ? "one process at a time; '%s' is one too "
						       "many"
						     : "say which process: a broker id or "
						       "'controller'%s",
				       argc > optind ? argv[optind + 1] : "");
	if (!load_layout(cmd, dir, &c))
		return CLI_EXIT_FAIL;
	i = parse_proc(cmd, &c, argv[optind]);
	if (i < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	proc_label(&c, i, label, sizeof label);
	pid = live_pid(&c, i, &st);
	if (!pid) {
		cli_error(cmd, "%s is not running; start it with '" PROG " start %s --dir %s'",
			  label, argv[optind], dir);
		goto out;
	}
	if (kill(pid, sig) != 0) {
		cli_error(cmd, "cannot signal %s (pid %ld): %s", label, (long)pid, strerror(errno));
		goto out;
	}
	deadline = now_ms() + timeout_s * 1000LL;
	for (;;) {
		st = pid_state(&c, i, pid);
		if (sig == SIGSTOP   ? st == PS_STOPPED
		    : sig == SIGCONT ? st == PS_RUNNING
				     : st == PS_GONE)
			break;
		if (st == PS_GONE) {
			cli_error(cmd, "%s (pid %ld) exited", label, (long)pid);
			remove_pid(&c, i);
			goto out;
		}
		if (now_ms() >= deadline) {
			cli_error(cmd, "%s (pid %ld) is still %s %d s after SIG%s (--timeout)",
				  label, (long)pid, state_name(st), timeout_s, signame);
			goto out;
		}
		usleep(POLL_US);
	}
	if (st == PS_GONE)
		remove_pid(&c, i);
	printf("Sent SIG%s to %s (pid %ld): %s.\n", signame, label, (long)pid,
	       st == PS_GONE ? "it is gone" : state_name(st));
	rc = CLI_EXIT_OK;
out:
	cluster_free(&c);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* start                                                                      */

static const char start_usage[] =
    "usage: tern-cluster start ID [--dir DIR] [--timeout SECONDS]\n"
    "\n"
    "Starts one process of the cluster again, broker ID (1 to N) or\n"
    "'controller' ('zookeeper' under --zookeeper), on its data and with the cluster's saved "
    "settings, and waits\n"
    "until it listens. When it exits instead, prints its log's last lines and\n"
    "exits 1.\n"
    "\n"
    "Options:\n" DIR_HELP TIMEOUT_HELP HELP_HELP;

static int start(int argc, char **argv)
{
	static const char cmd[] = "start";
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DIR;
	int ch, timeout_s = DEFAULT_TIMEOUT_S, rc = CLI_EXIT_FAIL, k, left;
	char *ternd = NULL, label[32], url[64];
	struct sigaction sa = {.sa_handler = on_signal};
	proc_state_t pst;
	start_t st;
	cluster_t c;
	pid_t pid;
	long i;

	while ((ch = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (ch) {
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_TIMEOUT:
			if (!parse_timeout(cmd, optarg, &timeout_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_HELP:
			fputs(start_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd,
				       argc > optind ? "one process at a time; '%s' is one too "
						       "many"
						     : "say which process: a broker id or "
						       "'controller'%s",
				       argc > optind ? argv[optind + 1] : "");
	if (!load_layout(cmd, dir, &c))
		return CLI_EXIT_FAIL;
	i = parse_proc(cmd, &c, argv[optind]);
	if (i < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	proc_label(&c, i, label, sizeof label);
	pid = live_pid(&c, i, &pst);
	if (pid && pst == PS_STOPPED) {
		cli_error(cmd,
			  "%s is already running (pid %ld), stopped by SIGSTOP; continue it with "
			  "'" PROG " kill %s --signal CONT --dir %s'",
			  label, (long)pid, argv[optind], dir);
		goto out;
	}
	if (pid) {
		cli_error(cmd,
			  "%s is already running (pid %ld); stop it first with '" PROG
			  " kill %s --signal TERM --dir %s'",
			  label, (long)pid, argv[optind], dir);
		goto out;
	}
	if (i > 0) {
		/* A broker registers with the controller (or opens its
		 * ZooKeeper session) before it listens: it would wait for the
		 * whole timeout. */
		proc_state_t cst;
		char l0[32];

		live_pid(&c, 0, &cst);
		proc_label(&c, 0, l0, sizeof l0);
		if (cst == PS_GONE) {
			cli_error(cmd,
				  "%s is not running, and a broker joins through it before it "
				  "listens; start it first with '" PROG " start %s --dir %s'",
				  l0, proc0_name(&c), dir);
			goto out;
		}
		if (cst == PS_STOPPED) {
			cli_error(cmd,
				  "%s is stopped (SIGSTOP), and a broker joins through it before "
				  "it listens; continue it first with '" PROG
				  " kill %s --signal CONT --dir %s'",
				  l0, proc0_name(&c), dir);
			goto out;
		}
	}
	if (!(ternd = is_zk(&c, i) ? find_java(cmd) : find_ternd(cmd)))
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!spawn(cmd, &c, ternd, i, &st))
		goto out;
	k = wait_listening(&c, &st, 1, now_ms() + timeout_s * 1000LL);
	if (k == 0) {
		char why[96];

		cli_error(cmd, "%s exited during start-up (%s)", label,
			  exit_text(st.status, why, sizeof why));
		remove_pid(&c, i);
		put_log_tail(&c, i);
		goto out;
	}
	if (k == -2) {
		if (interrupted)
			cli_error(cmd, "interrupted; stopping %s again", label);
		else
			cli_error(cmd, "%s does not listen after %d s (--timeout); stopping it",
				  label, timeout_s);
		put_log_tail(&c, i);
		stop_procs(cmd, &c, &i, 1, now_ms() + 10000, &left);
		goto out;
	}
	proc_url(&c, i, url, sizeof url);
	printf("Started %s (pid %ld), listening on %s.\n", label, (long)st.pid, url);
	rc = CLI_EXIT_OK;
out:
	free(ternd);
	cluster_free(&c);
	return rc;
}

/* ------------------------------------------------------------------------ */

static const cli_command_t commands[] = {
    {"up", "start a controller (or ZooKeeper) and N brokers on this machine", up},
    {"status", "every process of the cluster: pid, state, registration", status},
    {"down", "stop every process (brokers first); the data stays", down},
    {"kill", "signal one process (default SIGKILL)", kill_cmd},
    {"start", "start one process again on its data", start},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("usage: tern-cluster <command> [options]\n"
	      "\n"
	      "A local Tern cluster in one command: a controller (or, with up\n"
	      "--zookeeper, a ZooKeeper server) and N brokers on 127.0.0.1, their\n"
	      "data, logs and pid files under one directory\n"
	      "(default " DEFAULT_DIR ").\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Run 'tern-cluster <command> --help' for a command's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	cli_program = PROG;
	if (!name) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, PROG ": %s '%s'\nRun 'tern-cluster --help' for the list of commands.\n",
		name[0] == '-' ? "unknown option (options go after the command)"
			       : "unknown command",
		name);
	return CLI_EXIT_USAGE;
}
