/* tests/fault/fcluster.c: a Tern cluster under ZooKeeper inside a lab, with
 * its process nemeses and its state queries (see fcluster.h). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "fcluster.h"
#include "tern/admin.h"
#include "zkserver.h"

#define FC_ZK_HOST    0
#define FC_ZK_PORT    2181
#define FC_PORT	      9092
#define FC_FILLER     "fc-filler"
#define FC_MAX_ARGS   64
#define FC_POLL_MS    50
#define FC_METADATA   "/tern/metadata"
#define FC_CONTROLLER "/controller"
/* ZooKeeper's node size limit bounds the metadata. */
#define FC_ZNODE_MAX (1 << 20)

/* One broker. Invariants: pid > 0 while an incarnation is ours and not yet
 * reaped (lab_forget is called when it is reaped); stopped only while
 * pid > 0; mnt > 0 exactly when the cluster has tmpfs_bytes > 0 and the
 * mount namespace holding this broker's tmpfs exists (it outlives every
 * incarnation, so that a restart keeps the data). */
typedef struct fc_broker {
	int32_t id;
	pid_t pid;
	pid_t mnt;
	bool stopped;
	char dir[PATH_MAX];  /* DIR/i */
	char data[PATH_MAX]; /* DIR/i/data, log.dirs */
	char log[PATH_MAX];  /* DIR/i/ternd.log */
	char url[64];	     /* tcp://lab_addr(i):9092 */
} fc_broker_t;

struct fc_cluster {
	fc_opts_t o;	   /* every string in it is a copy (extra points at extra_copy) */
	char **extra_copy; /* NULL-ended, malloc()ed */
	lab_t *lab;
	tt_zk_t zk;
	zhandle_t *zh;	     /* the harness's ZooKeeper session, opened on first use */
	FILE *zk_log;	     /* where the ZooKeeper client library writes (DIR/zk-client.log) */
	char zk_connect[64]; /* lab_addr(0):2181 */
	int nb;		     /* brokers 1..nb, br[id - 1] */
	fc_broker_t br[FC_MAX_BROKERS];
	char bootstrap[FC_MAX_BROKERS * 64];
};

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* CK_TIMEOUT_MULTIPLIER (at least 1) stretches the deadlines the cluster
 * sets itself (start, registration, topic creation); fc_wait's is the
 * caller's. */
static int mult(void)
{
	const char *s = getenv("CK_TIMEOUT_MULTIPLIER");
	int m = s ? atoi(s) : 1;

	return m < 1 ? 1 : m;
}

void fc_opts_default(fc_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->brokers = 3;
	o->ternd = getenv("TERND");
	o->zk_session_ms = 3000;
	o->session_ms = 3000;
	o->replica_lag_ms = 3000;
	o->flush_policy = "sync";
}

static fc_broker_t *broker(fc_cluster_t *c, int32_t id)
{
	return c && id >= 1 && id <= c->nb ? &c->br[id - 1] : NULL;
}

static const fc_broker_t *cbroker(const fc_cluster_t *c, int32_t id)
{
	return c && id >= 1 && id <= c->nb ? &c->br[id - 1] : NULL;
}

lab_t *fc_lab(fc_cluster_t *c)
{
	return c->lab;
}

int fc_client_host(const fc_cluster_t *c)
{
	return c->nb + 1;
}

int fc_broker_host(const fc_cluster_t *c, int32_t id)
{
	(void)c;
	return id;
}

const char *fc_bootstrap(const fc_cluster_t *c)
{
	return c->bootstrap;
}

const char *fc_broker_dir(const fc_cluster_t *c, int32_t id)
{
	const fc_broker_t *b = cbroker(c, id);

	return b ? b->dir : NULL;
}

pid_t fc_pid(const fc_cluster_t *c, int32_t id)
{
	const fc_broker_t *b = cbroker(c, id);

	return b && b->pid > 0 ? b->pid : -1;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                      */

static int mkdir_p(const char *path, char *why, size_t whylen)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return fail(why, whylen, "path too long: %s", path);
	for (char *p = buf + 1;; p++) {
		char ch = *p;

		if (ch != '/' && ch != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return fail(why, whylen, "mkdir %s: %s", buf, strerror(errno));
		*p = ch;
		if (!ch)
			return 0;
	}
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Whether path holds needle at or after offset from (reads at most 1 MiB). */
static bool file_has_after(const char *path, off_t from, const char *needle)
{
	enum { CAP = 1 << 20 };
	char *buf;
	ssize_t n;
	bool has;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	buf = malloc(CAP + 1);
	if (!buf) {
		close(fd);
		return false;
	}
	n = pread(fd, buf, CAP, from);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	has = strstr(buf, needle) != NULL;
	free(buf);
	return has;
}

/* The libfaketime that faketime(1) preloads (the multi-threaded one:
 * ternd has threads), in a static buffer; NULL when it is not installed. */
static const char *faketime_lib(void)
{
	static const char *const patterns[] = {
	    "/usr/lib/*/faketime/libfaketimeMT.so.1",
	    "/usr/lib*/faketime/libfaketimeMT.so.1",
	};
	static char path[PATH_MAX];

	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		glob_t g;
		bool found = glob(patterns[i], 0, NULL, &g) == 0 && g.gl_pathc > 0;

		if (found)
			snprintf(path, sizeof path, "%s", g.gl_pathv[0]);
		globfree(&g);
		if (found)
			return path;
	}
	return NULL;
}

bool fc_skew_available(char *why, size_t whylen)
{
	if (faketime_lib())
		return true;
	fail(why, whylen,
	     "no libfaketimeMT.so.1: clock skew needs the faketime package (tools/setup)");
	return false;
}

/* ------------------------------------------------------------------------ */
/* ZooKeeper                                                                  */

static pid_t zk_spawn(void *arg, char *const argv[], const char *log_path, char *why, size_t whylen)
{
	fc_cluster_t *c = arg;

	return lab_spawn(c->lab, FC_ZK_HOST, argv, NULL, log_path, log_path, NULL, 0, why, whylen);
}

static void zk_quiet_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	(void)ctx;
}

/* The harness's session, connected; NULL with why when there is none
 * within 10 s. */
static zhandle_t *zk_handle(fc_cluster_t *c, char *why, size_t whylen)
{
	int64_t deadline;
	int state;

	if (c->zh && zoo_state(c->zh) == ZOO_EXPIRED_SESSION_STATE) {
		zookeeper_close(c->zh);
		c->zh = NULL;
	}
	if (!c->zh) {
		zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
		if (c->zk_log)
			zoo_set_log_stream(c->zk_log);
		c->zh = zookeeper_init(c->zk_connect, zk_quiet_watcher, 30000, NULL, NULL, 0);
		if (!c->zh) {
			fail(why, whylen, "zookeeper_init %s: %s", c->zk_connect, strerror(errno));
			return NULL;
		}
	}
	deadline = now_ms() + 10000LL * mult();
	while ((state = zoo_state(c->zh)) != ZOO_CONNECTED_STATE) {
		if (now_ms() > deadline) {
			fail(why, whylen, "no ZooKeeper session with %s within %d ms (state %d)",
			     c->zk_connect, 10000 * mult(), state);
			return NULL;
		}
		sleep_ms(10);
	}
	return c->zh;
}

/* A node's data, NUL-terminated and malloc()ed into *out (NULL when the
 * node does not exist). 0, or -1 with why. */
static int zk_read(fc_cluster_t *c, const char *path, char **out, char *why, size_t whylen)
{
	int len = FC_ZNODE_MAX, rc;
	zhandle_t *zh = zk_handle(c, why, whylen);
	char *buf;

	*out = NULL;
	if (!zh)
		return -1;
	buf = malloc(FC_ZNODE_MAX + 1);
	if (!buf)
		return fail(why, whylen, "out of memory");
	rc = zoo_get(zh, path, 0, buf, &len, NULL);
	if (rc == ZNONODE) {
		free(buf);
		return 0;
	}
	if (rc != ZOK) {
		free(buf);
		return fail(why, whylen, "zoo_get %s: %s", path, zerror(rc));
	}
	buf[len < 0 ? 0 : len] = '\0';
	*out = buf;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The controller's metadata (controller/controller.c, "The text form"):    */
/*   broker ID INCARNATION EPOCH HOST PORT                                   */
/*   topic NAME PARTITIONS RF INTERNAL                                       */
/*   part INDEX LEADER LEADER_EPOCH PARTITION_EPOCH RECOVERING UNCLEAN      */
/*        R=ID,... I=ID,... E=ID,...                                          */

/* Parses "TAG=1,2,3" at s into ids; the count, or -1 when malformed or
 * longer than max. */
static int parse_set(const char *s, char tag, int32_t *ids, int max)
{
	int n = 0;

	if (s[0] != tag || s[1] != '=')
		return -1;
	s += 2;
	while (*s && *s != ' ' && *s != '\n') {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || v < 0 || v > INT32_MAX || n == max)
			return -1;
		ids[n++] = (int32_t)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* Finds topic-part in the metadata text; 1 found, 0 not there, -1
 * malformed (why). */
static int parse_part(const char *text, const char *topic, int32_t part, fc_partition_state_t *st,
		      char *why, size_t whylen)
{
	const char *line = text;
	bool in_topic = false;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		size_t tlen = strlen(topic);

		if (strncmp(line, "topic ", 6) == 0) {
			in_topic = strncmp(line + 6, topic, tlen) == 0 && line[6 + tlen] == ' ';
		} else if (in_topic && strncmp(line, "part ", 5) == 0) {
			int idx, leader, lepoch, pepoch, rec, consumed = 0;
			fc_partition_state_t s;
			const char *r, *i, *e;

			if (sscanf(line, "part %d %d %d %d %d %*s%n", &idx, &leader, &lepoch,
				   &pepoch, &rec, &consumed) != 5 ||
			    consumed == 0)
				return fail(why, whylen, "malformed metadata line: %.80s", line);
			if (idx != part)
				goto next;
			memset(&s, 0, sizeof s);
			s.leader = leader;
			s.leader_epoch = lepoch;
			s.recovering = rec != 0;
			r = strstr(line + consumed, " R=");
			i = strstr(line + consumed, " I=");
			e = strstr(line + consumed, " E=");
			if (!r || !i || (next && i > next) ||
			    (s.nisr = parse_set(i + 1, 'I', s.isr, FC_MAX_BROKERS)) < 0 ||
			    (e && (!next || e < next) &&
			     (s.nelr = parse_set(e + 1, 'E', s.elr, FC_MAX_BROKERS)) < 0))
				return fail(why, whylen, "malformed metadata line: %.80s", line);
			*st = s;
			return 1;
		}
	next:
		line = next ? next + 1 : NULL;
	}
	return 0;
}

/* The broker epoch the metadata holds for id, -1 when none. */
static int64_t parse_broker_epoch(const char *text, int32_t id)
{
	const char *line = text;

	while (line && *line) {
		int bid;
		int64_t inc, epoch;

		if (sscanf(line, "broker %d %" SCNd64 " %" SCNd64, &bid, &inc, &epoch) == 3 &&
		    bid == id)
			return epoch;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

/* The registered epoch of broker id; -1 when not registered, -2 when the
 * metadata could not be read (why). */
static int64_t registered_epoch(fc_cluster_t *c, int32_t id, char *why, size_t whylen)
{
	char *text;
	int64_t epoch;

	if (zk_read(c, FC_METADATA, &text, why, whylen) < 0)
		return -2;
	epoch = text ? parse_broker_epoch(text, id) : -1;
	free(text);
	return epoch;
}

int fc_partition_state(fc_cluster_t *c, const char *topic, int32_t part, fc_partition_state_t *st,
		       char *why, size_t whylen)
{
	char *text;
	int rc;

	if (zk_read(c, FC_METADATA, &text, why, whylen) < 0)
		return -1;
	if (!text)
		return fail(why, whylen, "no %s in ZooKeeper yet", FC_METADATA);
	rc = parse_part(text, topic, part, st, why, whylen);
	free(text);
	if (rc == 0)
		return fail(why, whylen, "%s-%d is not in the metadata", topic, part);
	return rc < 0 ? -1 : 0;
}

int32_t fc_controller(fc_cluster_t *c)
{
	char *data, *p, why[256];
	int32_t id = -1;

	if (zk_read(c, FC_CONTROLLER, &data, why, sizeof why) < 0 || !data)
		return -1;
	if ((p = strstr(data, "\"brokerid\":")))
		id = (int32_t)strtol(p + strlen("\"brokerid\":"), NULL, 10);
	free(data);
	return id;
}

static void state_text(const fc_partition_state_t *st, char *buf, size_t cap)
{
	size_t k;

	k = (size_t)snprintf(buf, cap, "leader %d epoch %d%s isr [", st->leader, st->leader_epoch,
			     st->recovering ? " recovering" : "");
	for (int i = 0; i < st->nisr && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? "," : "", st->isr[i]);
	if (k < cap)
		k += (size_t)snprintf(buf + k, cap - k, "] elr [");
	for (int i = 0; i < st->nelr && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? "," : "", st->elr[i]);
	if (k < cap)
		snprintf(buf + k, cap - k, "]");
}

int fc_wait(fc_cluster_t *c, const char *topic, int32_t part,
	    bool (*pred)(const fc_partition_state_t *st, void *arg), void *arg, int timeout_ms,
	    char *why, size_t whylen)
{
	int64_t deadline = now_ms() + timeout_ms;
	fc_partition_state_t st;
	char last[256] = "none read", err[256];
	bool have = false;

	for (;;) {
		if (fc_partition_state(c, topic, part, &st, err, sizeof err) == 0) {
			if (pred(&st, arg))
				return 0;
			state_text(&st, last, sizeof last);
			have = true;
		} else if (!have) {
			snprintf(last, sizeof last, "%s", err);
		}
		if (now_ms() > deadline)
			break;
		sleep_ms(FC_POLL_MS);
	}
	return fail(why, whylen, "%s-%d: not within %d ms; last state: %s", topic, part, timeout_ms,
		    last);
}

/* ------------------------------------------------------------------------ */
/* Brokers                                                                    */

static void reap(fc_cluster_t *c, fc_broker_t *b)
{
	if (b->pid <= 0)
		return;
	killpg(b->pid, SIGKILL);
	kill(b->pid, SIGKILL);
	while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
		;
	lab_forget(c->lab, b->pid);
	b->pid = -1;
	b->stopped = false;
}

/* Whether pid (a child not yet reaped) has exited; does not reap it. */
static bool exited(pid_t pid)
{
	siginfo_t si = {0};

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return true;
	return si.si_pid == pid;
}

bool fc_running(const fc_cluster_t *c, int32_t id)
{
	const fc_broker_t *b = cbroker(c, id);

	return b && b->pid > 0 && !exited(b->pid);
}

/* Starts the mount namespace holding b's private tmpfs (a sleeping process
 * with lab_spawn's private tmpfs on the data directory). */
static int start_mount_holder(fc_cluster_t *c, fc_broker_t *b, char *why, size_t whylen)
{
	char *argv[] = {"/bin/sleep", "infinity", NULL};

	b->mnt = lab_spawn(c->lab, fc_broker_host(c, b->id), argv, NULL, NULL, NULL, b->data,
			   c->o.tmpfs_bytes, why, whylen);
	return b->mnt > 0 ? 0 : -1;
}

/* The argument and environment strings of one incarnation. */
typedef struct fc_cmd {
	char *argv[FC_MAX_ARGS];
	const char *env[8];
	char s[24][PATH_MAX / 4 + 64];
	int nargv, nenv, ns;
} fc_cmd_t;

static char *cmd_str(fc_cmd_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats a string that lives as long as m; NULL when m is full or the
 * string too long. */
static char *cmd_str(fc_cmd_t *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->ns == (int)(sizeof m->s / sizeof m->s[0]))
		return NULL;
	va_start(ap, fmt);
	n = vsnprintf(m->s[m->ns], sizeof m->s[0], fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof m->s[0])
		return NULL;
	return m->s[m->ns++];
}

static bool cmd_arg(fc_cmd_t *m, char *arg)
{
	if (!arg || m->nargv == FC_MAX_ARGS - 1)
		return false;
	m->argv[m->nargv++] = arg;
	m->argv[m->nargv] = NULL;
	return true;
}

/* Builds ternd's command line and environment for broker b. Under a
 * private tmpfs, ternd runs through nsenter in the holder's mount
 * namespace (nsenter execs it: the pid stays ternd's). A skew preloads
 * libfaketime as `faketime -m --exclude-monotonic -f +Ns` does, without
 * faketime's own process (which forks ternd, so that the pid the harness
 * holds would not be ternd's, and leaves its shared memory behind after
 * kill -9). */
static int build_cmd(fc_cluster_t *c, fc_broker_t *b, int skew_s, fc_cmd_t *m, char *why,
		     size_t whylen)
{
	const fc_opts_t *o = &c->o;
	bool ok = true;

	memset(m, 0, sizeof *m);
	if (b->mnt > 0) {
		ok = cmd_arg(m, "/usr/bin/nsenter") &&
		     cmd_arg(m, cmd_str(m, "--mount=/proc/%d/ns/mnt", (int)b->mnt)) &&
		     cmd_arg(m, "--");
	}
	ok = ok && cmd_arg(m, (char *)o->ternd) &&
	     cmd_arg(m, cmd_str(m, "--broker.id=%d", b->id)) &&
	     cmd_arg(m, cmd_str(m, "--listeners=%s", b->url)) &&
	     cmd_arg(m, cmd_str(m, "--log.dirs=%s", b->data)) &&
	     cmd_arg(m, "--metadata.store=zookeeper") &&
	     cmd_arg(m, cmd_str(m, "--zookeeper.connect=%s", c->zk_connect)) &&
	     cmd_arg(m, cmd_str(m, "--zookeeper.session.timeout.ms=%d", o->zk_session_ms)) &&
	     cmd_arg(m, cmd_str(m, "--broker.session.timeout.ms=%d", o->session_ms)) &&
	     cmd_arg(m, cmd_str(m, "--broker.heartbeat.interval.ms=%d",
				o->session_ms / 10 > 10 ? o->session_ms / 10 : 10)) &&
	     cmd_arg(m, cmd_str(m, "--replica.lag.time.max.ms=%d", o->replica_lag_ms)) &&
	     cmd_arg(m, cmd_str(m, "--log.flush.policy=%s", o->flush_policy)) &&
	     cmd_arg(m, "--metrics.listener=");
	for (int i = 0; ok && o->extra && o->extra[i]; i++)
		ok = cmd_arg(m, cmd_str(m, "--%s", o->extra[i]));
	if (!ok)
		return fail(why, whylen, "broker %d: command line too long", b->id);
	m->env[m->nenv++] = cmd_str(m, "TERN_TEST_DISK_FAULTS=%s/disk-faults", b->dir);
	if (o->durable_log)
		m->env[m->nenv++] =
		    cmd_str(m, "TERN_TEST_DURABLE_LOG=%s/%s", b->dir, o->durable_log);
	if (skew_s) {
		const char *lib = faketime_lib();

		if (!lib)
			return fail(
			    why, whylen,
			    "broker %d: clock skew needs libfaketime (the faketime package)",
			    b->id);
		m->env[m->nenv++] = cmd_str(m, "LD_PRELOAD=%s", lib);
		m->env[m->nenv++] = cmd_str(m, "FAKETIME=%+ds", skew_s);
		m->env[m->nenv++] = "FAKETIME_DONT_FAKE_MONOTONIC=1";
		/* libfaketime 0.9.10 (Debian 12) converts the deadline of
		 * pthread_cond_timedwait on a CLOCK_MONOTONIC condition through
		 * its faked monotonic clock even when that clock is not faked,
		 * so every such wait times out at once (fixed upstream by
		 * libfaketime PR #503). Without the "forced monotonic fix" the
		 * deadline passes through unchanged, which is right when the
		 * monotonic clock is left alone; waits on CLOCK_REALTIME
		 * conditions are converted either way. */
		m->env[m->nenv++] = "FAKETIME_FORCE_MONOTONIC_FIX=0";
	}
	for (int i = 0; i < m->nenv; i++)
		if (!m->env[i])
			return fail(why, whylen, "broker %d: environment too long", b->id);
	m->env[m->nenv] = NULL;
	return 0;
}

/* Starts an incarnation of b; *log_from gets where its output begins in
 * the log. Does not wait. */
static int spawn_broker(fc_cluster_t *c, fc_broker_t *b, int skew_s, off_t *log_from, char *why,
			size_t whylen)
{
	fc_cmd_t *m;
	int rc = -1;

	if (c->o.tmpfs_bytes > 0 && b->mnt <= 0 && start_mount_holder(c, b, why, whylen) < 0)
		return -1;
	m = malloc(sizeof *m);
	if (!m)
		return fail(why, whylen, "out of memory");
	if (build_cmd(c, b, skew_s, m, why, whylen) < 0)
		goto out;
	*log_from = file_size(b->log);
	b->pid = lab_spawn(c->lab, fc_broker_host(c, b->id), m->argv, m->env, b->log, b->log, NULL,
			   0, why, whylen);
	b->stopped = false;
	rc = b->pid > 0 ? 0 : -1;
	if (rc < 0)
		b->pid = -1;
out:
	free(m);
	return rc;
}

/* Waits until b's incarnation says it listens and has registered with an
 * epoch other than before. */
static int wait_broker(fc_cluster_t *c, fc_broker_t *b, off_t log_from, int64_t before, char *why,
		       size_t whylen)
{
	int64_t deadline = now_ms() + (int64_t)(20 * c->o.zk_session_ms + 10000) * mult();
	bool listening = false;
	int64_t epoch = -1;

	for (;;) {
		if (b->pid <= 0 || exited(b->pid)) {
			reap(c, b);
			return fail(why, whylen, "broker %d exited before %s; see %s", b->id,
				    listening ? "registering" : "listening", b->log);
		}
		if (!listening)
			listening = file_has_after(b->log, log_from, "listening on");
		if (listening) {
			epoch = registered_epoch(c, b->id, why, whylen);
			if (epoch == -2)
				return -1;
			if (epoch >= 0 && epoch != before)
				return 0;
		}
		if (now_ms() > deadline)
			return fail(why, whylen,
				    "broker %d did not %s within %d ms (epoch %" PRId64
				    " before, %" PRId64 " now); see %s",
				    b->id, listening ? "register" : "listen",
				    (20 * c->o.zk_session_ms + 10000) * mult(), before, epoch,
				    b->log);
		sleep_ms(FC_POLL_MS);
	}
}

int fc_restart(fc_cluster_t *c, int32_t id, int skew_s, char *why, size_t whylen)
{
	fc_broker_t *b = broker(c, id);
	int64_t before;
	off_t from;

	if (!b)
		return fail(why, whylen, "no broker %d", id);
	if (b->pid > 0) {
		if (!exited(b->pid))
			return fail(why, whylen, "broker %d is running", id);
		reap(c, b);
	}
	before = registered_epoch(c, id, why, whylen);
	if (before == -2)
		return -1;
	if (spawn_broker(c, b, skew_s, &from, why, whylen) < 0)
		return -1;
	return wait_broker(c, b, from, before, why, whylen);
}

int fc_kill(fc_cluster_t *c, int32_t id, int sig)
{
	fc_broker_t *b = broker(c, id);
	int64_t deadline;

	if (!b || b->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	switch (sig) {
	case SIGKILL:
		reap(c, b);
		return 0;
	case SIGSTOP:
	case SIGCONT:
		if (killpg(b->pid, sig) < 0)
			return -1;
		b->stopped = sig == SIGSTOP;
		return 0;
	case SIGTERM:
		if (b->stopped && killpg(b->pid, SIGCONT) == 0)
			b->stopped = false;
		if (kill(b->pid, SIGTERM) < 0)
			return -1;
		deadline = now_ms() + 60000LL * mult();
		while (!exited(b->pid)) {
			if (now_ms() > deadline) {
				reap(c, b);
				errno = ETIMEDOUT;
				return -1;
			}
			sleep_ms(10);
		}
		reap(c, b);
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}

/* ------------------------------------------------------------------------ */
/* The disk                                                                   */

static int filler_path(fc_cluster_t *c, int32_t id, char *path, size_t cap, char *why,
		       size_t whylen)
{
	fc_broker_t *b = broker(c, id);

	if (!b)
		return fail(why, whylen, "no broker %d", id);
	if (b->mnt <= 0)
		return fail(why, whylen, "broker %d has no private tmpfs (tmpfs_bytes is 0)", id);
	if (snprintf(path, cap, "/proc/%d/root%s/" FC_FILLER, (int)b->mnt, b->data) >= (int)cap)
		return fail(why, whylen, "path too long");
	return 0;
}

int fc_fill_disk(fc_cluster_t *c, int32_t id, char *why, size_t whylen)
{
	static const char zeros[1 << 16];
	char path[PATH_MAX];
	size_t chunk = sizeof zeros, total = 0;
	int fd, rc = 0;

	if (filler_path(c, id, path, sizeof path, why, whylen) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	/* Down to single bytes once the big writes no longer fit, so that not a
	 * byte is left; bounded by the tmpfs's size. */
	while (chunk > 0) {
		ssize_t n = write(fd, zeros, chunk);

		if (n > 0) {
			total += (size_t)n;
			if (total > 2 * c->o.tmpfs_bytes + sizeof zeros) {
				rc = fail(why, whylen, "%s: wrote %zu bytes to a %zu-byte tmpfs",
					  path, total, c->o.tmpfs_bytes);
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != ENOSPC) {
			rc = fail(why, whylen, "%s: %s", path, strerror(errno));
			break;
		}
		chunk = chunk > 4096 ? 4096 : chunk > 1 ? 1 : 0;
	}
	close(fd);
	return rc;
}

int fc_free_disk(fc_cluster_t *c, int32_t id, char *why, size_t whylen)
{
	char path[PATH_MAX];

	if (filler_path(c, id, path, sizeof path, why, whylen) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	return 0;
}

int fc_disk_errors(fc_cluster_t *c, int32_t id, const char *spec, char *why, size_t whylen)
{
	fc_broker_t *b = broker(c, id);
	char path[PATH_MAX + 16], done[PATH_MAX + 32], answer[256] = "";
	int64_t deadline = now_ms() + 5000;
	FILE *f;

	if (!b || b->pid <= 0)
		return fail(why, whylen, "broker %d is not running", (int)id);
	snprintf(path, sizeof path, "%s/disk-faults", b->dir);
	snprintf(done, sizeof done, "%s.done", path);
	unlink(done);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", spec) < 0 || fclose(f) != 0)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	if (kill(b->pid, SIGUSR2) < 0)
		return fail(why, whylen, "broker %d: SIGUSR2: %s", (int)id, strerror(errno));
	while (!(f = fopen(done, "r"))) {
		if (now_ms() >= deadline)
			return fail(why, whylen, "broker %d did not answer disk faults '%s' in 5 s",
				    (int)id, spec);
		usleep(20 * 1000);
	}
	if (!fgets(answer, sizeof answer, f))
		answer[0] = '\0';
	fclose(f);
	answer[strcspn(answer, "\n")] = '\0';
	if (strcmp(answer, "ok") != 0)
		return fail(why, whylen, "broker %d: disk faults '%s': %s", (int)id, spec, answer);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

/* Whether every partition of the topic has a leader in the metadata. */
static int wait_leaders(fc_cluster_t *c, const char *topic, int partitions, int timeout_ms,
			char *why, size_t whylen)
{
	int64_t deadline = now_ms() + timeout_ms;
	fc_partition_state_t st;

	for (int32_t p = 0; p < partitions; p++) {
		char err[256] = "";

		while (fc_partition_state(c, topic, p, &st, err, sizeof err) != 0 ||
		       st.leader < 0) {
			if (now_ms() > deadline)
				return fail(why, whylen, "%s-%d: no leader within %d ms (%s)",
					    topic, p, timeout_ms, err[0] ? err : "leader -1");
			sleep_ms(FC_POLL_MS);
		}
	}
	return 0;
}

/* Waits until each partition's leader answers for it (DescribePartitions:
 * it has learnt that it leads). */
static int wait_live(tern_admin_t *a, const char *topic, int partitions, int timeout_ms, char *why,
		     size_t whylen)
{
	int64_t deadline = now_ms() + timeout_ms;
	char err[256] = "";

	for (;;) {
		tern_topic_info_t *t = NULL;
		bool live = false;

		if (tern_admin_describe_topic(a, topic, &t, err, sizeof err) == TERN_OK) {
			live = t->npartitions == (size_t)partitions;
			for (size_t i = 0; live && i < t->npartitions; i++)
				live = t->partitions[i].err == TERN_OK &&
				       t->partitions[i].leader >= 0 && t->partitions[i].live;
			if (!live)
				snprintf(err, sizeof err, "a leader does not answer yet");
			tern_topic_info_destroy(t);
		}
		if (live)
			return 0;
		if (now_ms() > deadline)
			return fail(why, whylen, "%s: leaders not serving within %d ms: %s", topic,
				    timeout_ms, err);
		sleep_ms(FC_POLL_MS);
	}
}

int fc_create_topic(fc_cluster_t *c, const char *topic, int partitions, int rf,
		    const char *const *configs, char *why, size_t whylen)
{
	enum { MAXCF = 16 };
	tern_admin_config_t cf[MAXCF];
	char kv[MAXCF][256], servers[sizeof c->bootstrap] = "";
	tern_conf_t *conf = NULL;
	tern_admin_t *a = NULL;
	size_t ncf = 0, k = 0;
	int timeout_ms = 30000 * mult(), rc = -1;
	tern_err_t err;

	for (; configs && configs[ncf]; ncf++) {
		char *eq;

		if (ncf == MAXCF)
			return fail(why, whylen, "more than %d configs", MAXCF);
		if (snprintf(kv[ncf], sizeof kv[ncf], "%s", configs[ncf]) >= (int)sizeof kv[ncf] ||
		    !(eq = strchr(kv[ncf], '=')))
			return fail(why, whylen, "bad config '%s' (key=value)", configs[ncf]);
		*eq = '\0';
		cf[ncf].name = kv[ncf];
		cf[ncf].value = eq + 1;
	}
	/* Through the brokers that can answer. */
	for (int i = 0; i < c->nb; i++)
		if (fc_running(c, c->br[i].id) && !c->br[i].stopped)
			k += (size_t)snprintf(servers + k, sizeof servers - k, "%s%s", k ? "," : "",
					      c->br[i].url);
	if (!k)
		return fail(why, whylen, "no broker is running");
	conf = tern_conf_new();
	if (!conf)
		return fail(why, whylen, "out of memory");
	if (tern_conf_set(conf, "bootstrap.servers", servers, why, whylen) != TERN_OK ||
	    tern_conf_set(conf, "request.timeout.ms", "5000", why, whylen) != TERN_OK)
		goto out;
	a = tern_admin_new(conf, why, whylen);
	if (!a)
		goto out;
	conf = NULL; /* the admin client owns it */
	err = tern_admin_create_topic(a, topic, partitions, (int16_t)rf, cf, ncf, why, whylen);
	if (err != TERN_OK) {
		char msg[256];

		snprintf(msg, sizeof msg, "%s", why);
		fail(why, whylen, "create %s: %s (%s)", topic, tern_strerror(err), msg);
		goto out;
	}
	if (wait_leaders(c, topic, partitions, timeout_ms, why, whylen) < 0 ||
	    wait_live(a, topic, partitions, timeout_ms, why, whylen) < 0)
		goto out;
	rc = 0;
out:
	tern_admin_destroy(a);
	tern_conf_destroy(conf);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The cluster                                                                */

/* Copies extra into c (c->o.extra then points at the copy). */
static int copy_extra(fc_cluster_t *c, const char *const *extra)
{
	size_t n = 0;

	c->o.extra = NULL;
	while (extra && extra[n])
		n++;
	c->extra_copy = calloc(n + 1, sizeof *c->extra_copy);
	if (!c->extra_copy)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(c->extra_copy[i] = strdup(extra[i])))
			return -1;
	c->o.extra = (const char *const *)c->extra_copy;
	return 0;
}

static int check_opts(const fc_opts_t *o, char *why, size_t whylen)
{
	if (o->brokers < 1 || o->brokers > FC_MAX_BROKERS || o->brokers + 2 > LAB_MAX_HOSTS)
		return fail(why, whylen, "%d brokers (1..%d)", o->brokers, FC_MAX_BROKERS);
	if (!o->dir || o->dir[0] != '/')
		return fail(why, whylen, "the run's directory must be an absolute path");
	if (!o->ternd || access(o->ternd, X_OK) != 0)
		return fail(why, whylen, "ternd '%s' is not executable (set TERND)",
			    o->ternd ? o->ternd : "(null)");
	if (o->ternd[0] != '/')
		return fail(why, whylen, "ternd '%s': an absolute path is needed", o->ternd);
	if (!o->flush_policy || strchr(o->flush_policy, ' '))
		return fail(why, whylen, "bad flush policy");
	if (o->zk_session_ms <= 0 || o->session_ms <= 0 || o->replica_lag_ms <= 0)
		return fail(why, whylen, "timeouts must be positive");
	if (o->durable_log && (!*o->durable_log || strchr(o->durable_log, '/')))
		return fail(why, whylen, "durable_log: a file name, not a path");
	if (o->tmpfs_bytes > 0 && access("/usr/bin/nsenter", X_OK) != 0)
		return fail(why, whylen, "a private tmpfs needs /usr/bin/nsenter (util-linux)");
	return 0;
}

fc_cluster_t *fc_start(const fc_opts_t *o, char *why, size_t whylen)
{
	fc_cluster_t *c;
	off_t from[FC_MAX_BROKERS];
	char path[PATH_MAX];
	size_t k = 0;

	if (check_opts(o, why, whylen) < 0)
		return NULL;
	c = calloc(1, sizeof *c);
	if (!c) {
		fail(why, whylen, "out of memory");
		return NULL;
	}
	c->o = *o;
	c->zk.pid = -1;
	c->nb = o->brokers;
	c->o.dir = strdup(o->dir);
	c->o.ternd = strdup(o->ternd);
	c->o.flush_policy = strdup(o->flush_policy);
	c->o.durable_log = o->durable_log ? strdup(o->durable_log) : NULL;
	if (copy_extra(c, o->extra) < 0 || (o->durable_log && !c->o.durable_log)) {
		fail(why, whylen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < FC_MAX_BROKERS; i++)
		c->br[i].pid = c->br[i].mnt = -1;
	if (!c->o.dir || !c->o.ternd || !c->o.flush_policy) {
		fail(why, whylen, "out of memory");
		goto fail;
	}
	if (mkdir_p(o->dir, why, whylen) < 0)
		goto fail;
	snprintf(path, sizeof path, "%s/zk-client.log", o->dir);
	c->zk_log = fopen(path, "ae");
	if (o->loopback && o->tmpfs_bytes > 0) {
		fail(why, whylen, "a private tmpfs (disk full) needs a mount namespace (root)");
		goto fail;
	}
	c->lab = o->loopback ? lab_new_loopback(c->nb + 2, why, whylen)
			     : lab_new(c->nb + 2, why, whylen);
	if (!c->lab)
		goto fail;
	snprintf(c->zk_connect, sizeof c->zk_connect, "%s:%d", lab_addr(c->lab, FC_ZK_HOST),
		 FC_ZK_PORT);
	for (int i = 0; i < c->nb; i++) {
		fc_broker_t *b = &c->br[i];
		int host = i + 1;

		b->id = i + 1;
		if (snprintf(b->dir, sizeof b->dir, "%s/%d", o->dir, b->id) >= (int)sizeof b->dir ||
		    snprintf(b->data, sizeof b->data, "%s/data", b->dir) >= (int)sizeof b->data ||
		    snprintf(b->log, sizeof b->log, "%s/ternd.log", b->dir) >= (int)sizeof b->log) {
			fail(why, whylen, "the run's directory's path is too long");
			goto fail;
		}
		snprintf(b->url, sizeof b->url, "tcp://%s:%d", lab_addr(c->lab, host), FC_PORT);
		k += (size_t)snprintf(c->bootstrap + k, sizeof c->bootstrap - k, "%s%s",
				      i ? "," : "", b->url);
		if (mkdir_p(b->data, why, whylen) < 0)
			goto fail;
	}
	/* The harness is a client: its queries (ZooKeeper, libtern) go out of
	 * the clients' host. */
	if (lab_enter(c->lab, fc_client_host(c), why, whylen) < 0)
		goto fail;
	snprintf(path, sizeof path, "%s/zk", o->dir);
	if (tt_zk_start_at(&c->zk, path, lab_addr(c->lab, FC_ZK_HOST), FC_ZK_PORT, 60000 * mult(),
			   zk_spawn, c, why, whylen) < 0)
		goto fail;
	/* Every broker starts at once; then each is waited for. */
	for (int i = 0; i < c->nb; i++)
		if (spawn_broker(c, &c->br[i], 0, &from[i], why, whylen) < 0)
			goto fail;
	for (int i = 0; i < c->nb; i++)
		if (wait_broker(c, &c->br[i], from[i], -1, why, whylen) < 0)
			goto fail;
	return c;
fail:
	fc_stop(c);
	return NULL;
}

void fc_stop(fc_cluster_t *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nb; i++) {
		fc_broker_t *b = &c->br[i];

		reap(c, b);
		if (b->mnt > 0) {
			killpg(b->mnt, SIGKILL);
			kill(b->mnt, SIGKILL);
			while (waitpid(b->mnt, NULL, 0) < 0 && errno == EINTR)
				;
			lab_forget(c->lab, b->mnt);
			b->mnt = -1;
		}
	}
	if (c->zh) {
		zookeeper_close(c->zh);
		c->zh = NULL;
	}
	if (c->zk_log) {
		zoo_set_log_stream(NULL);
		fclose(c->zk_log);
	}
	if (c->zk.pid > 0) {
		pid_t pid = c->zk.pid;

		tt_zk_stop(&c->zk);
		lab_forget(c->lab, pid);
	}
	free(c->zk.dir);
	lab_free(c->lab);
	free((char *)c->o.dir);
	free((char *)c->o.ternd);
	free((char *)c->o.flush_policy);
	free((char *)c->o.durable_log);
	for (size_t i = 0; c->extra_copy && c->extra_copy[i]; i++)
		free(c->extra_copy[i]);
	free(c->extra_copy);
	free(c);
}
