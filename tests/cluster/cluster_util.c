/* tests/cluster/cluster_util.c: controller (or ZooKeeper) and brokers as
 * real processes for the cluster suite (see cluster_util.h). */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "cluster_util.h"
#include "log/log.h"
#include "tclient.h"
#include "tern/admin.h"
#include "testutil.h"

/* The directory every cluster of this run lives in (cu_root_init). */
static char *root;

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

int cu_mult(void)
{
	const char *s = getenv("CK_TIMEOUT_MULTIPLIER");
	int m = s ? atoi(s) : 1;

	return m < 1 ? 1 : m;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void proc_reap(cu_proc_t *p)
{
	if (p->pid <= 0)
		return;
	killpg(p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->pid = -1;
	p->stopped = false;
}

/* Prints the last lines of a process's stderr, for a failed test's log. */
static void print_tail(const cu_proc_t *p, int lines)
{
	FILE *f = fopen(p->err, "r");
	char **ring;
	char buf[1024];
	int k = 0;

	if (!f)
		return;
	ring = calloc((size_t)lines, sizeof *ring);
	if (!ring) {
		fclose(f);
		return;
	}
	while (fgets(buf, sizeof buf, f)) {
		free(ring[k % lines]);
		ring[k % lines] = strdup(buf);
		k++;
	}
	fclose(f);
	fprintf(stderr, "---- last lines of %s ----\n", p->err);
	for (int i = k > lines ? k - lines : 0; i < k; i++)
		fputs(ring[i % lines] ? ring[i % lines] : "", stderr);
	for (int i = 0; i < lines; i++)
		free(ring[i]);
	free(ring);
}

static void proc_init(cu_cluster_t *c, cu_proc_t *p, int32_t id)
{
	memset(p, 0, sizeof *p);
	p->id = id;
	p->pid = -1;
	snprintf(p->url, sizeof p->url, "tcp://127.0.0.1:%d", free_port());
	if (id == CU_CONTROLLER_ID)
		ck_assert_int_ge(asprintf(&p->dir, "%s/c", c->dir), 0);
	else
		ck_assert_int_ge(asprintf(&p->dir, "%s/%d", c->dir, id), 0);
	ck_assert_int_ge(asprintf(&p->out, "%s.out", p->dir), 0);
	ck_assert_int_ge(asprintf(&p->err, "%s.err", p->dir), 0);
}

void cu_init(cu_cluster_t *c, int n, const char *tag)
{
	ck_assert_int_le(n, CU_MAX_BROKERS);
	memset(c, 0, sizeof *c);
	c->n = n;
	c->session_ms = 1500;
	c->heartbeat_ms = 100;
	c->lag_ms = 1500;
	ck_assert_msg(root != NULL, "cu_root_init was not called");
	ck_assert_int_ge(asprintf(&c->dir, "%s/%s-XXXXXX", root, tag), 0);
	ck_assert_ptr_nonnull(mkdtemp(c->dir));
	c->zk.pid = -1;
	proc_init(c, &c->ctl, CU_CONTROLLER_ID);
	for (int i = 0; i < n; i++) {
		proc_init(c, &c->br[i], i + 1);
		if (i)
			strcat(c->bootstrap, ",");
		strcat(c->bootstrap, c->br[i].url);
	}
}

static bool file_has(const char *path, const char *needle)
{
	char *text;
	FILE *f = fopen(path, "r");
	bool has;
	size_t len = 0;

	if (!f)
		return false;
	text = calloc(1, 1 << 16);
	if (!text) {
		fclose(f);
		return false;
	}
	len = fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	text[len] = '\0';
	has = strstr(text, needle) != NULL;
	free(text);
	return has;
}

/* Appends pid to the cluster directory's pids file, which
 * cu_reap_leftovers reads when the test process died without cu_fini. */
static void note_cluster_pid(const char *cdir, pid_t pid)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/pids", cdir);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
}

static void note_pid(const cu_proc_t *p, pid_t pid)
{
	char path[1024], *slash;

	snprintf(path, sizeof path, "%s", p->dir);
	slash = strrchr(path, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	note_cluster_pid(path, pid);
}

/* ------------------------------------------------------------------------ */
/* The metadata                                                               */

static void zk_quiet_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	(void)ctx;
}

/* The handle reading ZooKeeper, connected (opened on first use). */
static zhandle_t *zk_handle(cu_cluster_t *c)
{
	char hosts[64];
	int64_t deadline;

	if (c->zh && zoo_state(c->zh) == ZOO_CONNECTED_STATE)
		return c->zh;
	if (!c->zh) {
		snprintf(hosts, sizeof hosts, "127.0.0.1:%d", c->zk.port);
		zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
		c->zh = zookeeper_init(hosts, zk_quiet_watcher, 30000, NULL, NULL, 0);
		ck_assert_msg(c->zh != NULL, "zookeeper_init %s: %s", hosts, strerror(errno));
	}
	deadline = now_ms() + 30000LL * cu_mult();
	while (zoo_state(c->zh) != ZOO_CONNECTED_STATE) {
		ck_assert_msg(now_ms() < deadline, "no ZooKeeper session within 30 s");
		sleep_ms(10);
	}
	return c->zh;
}

/* A ZooKeeper node's data, NUL-terminated and malloc()ed; NULL when the
 * node does not exist. */
static char *zk_read(cu_cluster_t *c, const char *path)
{
	int cap = 1 << 20, len = cap - 1, rc;
	char *buf = malloc((size_t)cap);

	ck_assert_ptr_nonnull(buf);
	rc = zoo_get(zk_handle(c), path, 0, buf, &len, NULL);
	if (rc == ZNONODE) {
		free(buf);
		return NULL;
	}
	ck_assert_msg(rc == ZOK, "zoo_get %s: %s", path, zerror(rc));
	buf[len < 0 ? 0 : len] = '\0';
	return buf;
}

/* The controller's committed metadata as text (its file, or /tern/metadata
 * under ZooKeeper), malloc()ed; NULL when there is none yet. */
static char *metadata_text(cu_cluster_t *c)
{
	char path[512];
	FILE *f;
	char *text;
	size_t n;

	if (c->zookeeper)
		return zk_read(c, "/tern/metadata");
	snprintf(path, sizeof path, "%s/tern-controller", c->ctl.dir);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	text = malloc(1 << 22);
	ck_assert_ptr_nonnull(text);
	n = fread(text, 1, (1 << 22) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

/* The text's lines as a stream (for fgets), or NULL when there is none. */
static FILE *metadata_open(cu_cluster_t *c, char **text)
{
	FILE *f;

	*text = metadata_text(c);
	if (!*text)
		return NULL;
	f = fmemopen(*text, strlen(*text), "r");
	ck_assert_ptr_nonnull(f);
	return f;
}

static void metadata_close(FILE *f, char *text)
{
	if (f)
		fclose(f);
	free(text);
}

int32_t cu_zk_controller(cu_cluster_t *c)
{
	char *data = zk_read(c, "/controller"), *p;
	int32_t id = -1;

	if (data && (p = strstr(data, "\"brokerid\":")))
		id = (int32_t)strtol(p + strlen("\"brokerid\":"), NULL, 10);
	free(data);
	return id;
}

/* Forks and execs ternd with args (NULL-terminated) in its own process
 * group, output to p's files; waits until it says it listens. */
static void proc_spawn(cu_proc_t *p, char *const *args)
{
	const char *exe = getenv("TERND");
	int64_t deadline;
	pid_t pid;

	ck_assert_msg(exe != NULL, "TERND is not set");
	ck_assert_int_le(p->pid, 0);
	unlink(p->out);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[40];
		int k = 0, fd;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		fd = open(p->err, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		argv[k++] = (char *)exe;
		for (; *args && k < 39; args++)
			argv[k++] = *args;
		argv[k] = NULL;
		execv(exe, argv);
		_exit(127);
	}
	setpgid(pid, pid);
	p->pid = pid;
	p->stopped = false;
	p->starts++;
	note_pid(p, pid);
	deadline = now_ms() + 30000LL * cu_mult();
	while (!file_has(p->out, "listening on")) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			p->pid = -1;
			print_tail(p, 20);
			ck_abort_msg("ternd %d exited before listening (status 0x%x); see %s",
				     p->id, st, p->err);
		}
		ck_assert_msg(now_ms() < deadline, "ternd %d did not listen within 30 s", p->id);
		sleep_ms(10);
	}
}

/* The broker epoch the controller's file holds for id, -1 if none. */
static int64_t registered_epoch(cu_cluster_t *c, int32_t id)
{
	char line[1024], *text;
	FILE *f = metadata_open(c, &text);
	int64_t epoch = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		int bid;
		int64_t inc, ep;

		if (sscanf(line, "broker %d %" SCNd64 " %" SCNd64, &bid, &inc, &ep) == 3 &&
		    bid == id)
			epoch = ep;
	}
	metadata_close(f, text);
	return epoch;
}

void cu_use_zookeeper(cu_cluster_t *c, int session_ms)
{
	char why[640];

	ck_assert_msg(tt_zk_available(why, sizeof why), "%s", why);
	c->zookeeper = true;
	c->zk_session_ms = session_ms;
	c->zk.pid = -1;
	c->zk.port = free_port();
	ck_assert_int_ge(asprintf(&c->zk.dir, "%s/zk", c->dir), 0);
}

void cu_start(cu_cluster_t *c)
{
	char a[5][256];
	char *args[8];

	if (c->zookeeper) {
		char *dir = strdup(c->zk.dir);

		ck_assert_ptr_nonnull(dir);
		ck_assert_msg(tt_zk_start(&c->zk, dir, c->zk.port, 60000 * cu_mult()) == 0,
			      "ZooKeeper did not start (its log is above)");
		free(dir);
		note_cluster_pid(c->dir, c->zk.pid);
		for (int i = 1; i <= c->n; i++)
			cu_broker_start(c, i);
		return;
	}

	snprintf(a[0], sizeof a[0], "--log.dirs=%s", c->ctl.dir);
	snprintf(a[1], sizeof a[1], "--listeners=%s", c->ctl.url);
	snprintf(a[2], sizeof a[2], "--broker.session.timeout.ms=%d", c->session_ms);
	snprintf(a[3], sizeof a[3], "--broker.heartbeat.interval.ms=%d", c->heartbeat_ms);
	args[0] = "--process.roles=controller";
	args[1] = "--broker.id=100";
	args[2] = a[0];
	args[3] = a[1];
	args[4] = a[2];
	args[5] = a[3];
	args[6] = "--metrics.listener=";
	args[7] = NULL;
	proc_spawn(&c->ctl, args);
	for (int i = 1; i <= c->n; i++)
		cu_broker_start(c, i);
}

cu_proc_t *cu_broker(cu_cluster_t *c, int32_t id)
{
	ck_assert_msg(id >= 1 && id <= c->n, "no broker %d", id);
	return &c->br[id - 1];
}

void cu_broker_start(cu_cluster_t *c, int32_t id)
{
	cu_proc_t *p = cu_broker(c, id);
	char a[9][256];
	char *args[24];
	int k = 0, na = 7;
	int64_t before = registered_epoch(c, id), deadline;

	snprintf(a[0], sizeof a[0], "--broker.id=%d", id);
	snprintf(a[1], sizeof a[1], "--log.dirs=%s", p->dir);
	snprintf(a[2], sizeof a[2], "--listeners=%s", p->url);
	snprintf(a[3], sizeof a[3], "--controller.connect=%s", c->ctl.url);
	snprintf(a[4], sizeof a[4], "--broker.session.timeout.ms=%d", c->session_ms);
	snprintf(a[5], sizeof a[5], "--broker.heartbeat.interval.ms=%d", c->heartbeat_ms);
	snprintf(a[6], sizeof a[6], "--replica.lag.time.max.ms=%d", c->lag_ms);
	if (c->zookeeper) {
		/* Every broker may become the controller: no process.roles,
		 * no controller.connect. */
		snprintf(a[3], sizeof a[3], "--metadata.store=zookeeper");
		snprintf(a[7], sizeof a[7], "--zookeeper.connect=127.0.0.1:%d", c->zk.port);
		snprintf(a[8], sizeof a[8], "--zookeeper.session.timeout.ms=%d", c->zk_session_ms);
		na = 9;
	} else {
		args[k++] = "--process.roles=broker";
	}
	for (int i = 0; i < na; i++)
		args[k++] = a[i];
	args[k++] = "--metrics.listener=";
	for (int i = 0; i < c->nextra; i++)
		args[k++] = (char *)c->extra[i];
	args[k] = NULL;
	proc_spawn(p, args);
	/* A restarted broker waits for its old session to expire before the
	 * controller takes its registration. */
	deadline = now_ms() + (int64_t)(20 * c->session_ms + 10000) * cu_mult();
	while (registered_epoch(c, id) == before || registered_epoch(c, id) < 0) {
		ck_assert_msg(now_ms() < deadline, "broker %d did not register in time", id);
		ck_assert_msg(waitpid(p->pid, NULL, WNOHANG) == 0, "broker %d exited", id);
		sleep_ms(10);
	}
}

void cu_broker_kill(cu_cluster_t *c, int32_t id)
{
	proc_reap(cu_broker(c, id));
}

void cu_broker_stop(cu_cluster_t *c, int32_t id)
{
	cu_proc_t *p = cu_broker(c, id);

	ck_assert_int_gt(p->pid, 0);
	ck_assert_int_eq(killpg(p->pid, SIGSTOP), 0);
	p->stopped = true;
}

void cu_broker_cont(cu_cluster_t *c, int32_t id)
{
	cu_proc_t *p = cu_broker(c, id);

	ck_assert_int_gt(p->pid, 0);
	ck_assert_int_eq(killpg(p->pid, SIGCONT), 0);
	p->stopped = false;
}

int cu_broker_term(cu_cluster_t *c, int32_t id)
{
	cu_proc_t *p = cu_broker(c, id);
	int64_t deadline = now_ms() + 60000LL * cu_mult();
	int st;

	ck_assert_int_gt(p->pid, 0);
	if (p->stopped)
		cu_broker_cont(c, id);
	kill(p->pid, SIGTERM);
	while (waitpid(p->pid, &st, WNOHANG) != p->pid) {
		if (now_ms() > deadline) {
			proc_reap(p);
			ck_abort_msg("broker %d did not stop within 60 s of SIGTERM", id);
		}
		sleep_ms(10);
	}
	p->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void proc_free(cu_proc_t *p)
{
	proc_reap(p);
	free(p->dir);
	free(p->out);
	free(p->err);
	p->dir = p->out = p->err = NULL;
}

void cu_fini(cu_cluster_t *c)
{
	if (!c->dir)
		return;
	for (int i = 0; i < c->n; i++)
		proc_reap(&c->br[i]);
	proc_reap(&c->ctl);
	if (c->zh) {
		zookeeper_close(c->zh);
		c->zh = NULL;
	}
	tt_zk_fini(&c->zk);
	for (int i = 0; i < c->n; i++)
		proc_free(&c->br[i]);
	proc_free(&c->ctl);
	tt_rmtree(c->dir);
	free(c->dir);
	c->dir = NULL;
}

/* ------------------------------------------------------------------------ */
/* The controller's state                                                     */

static int parse_ids(const char *s, int32_t *ids, int max)
{
	int n = 0;

	while (*s && *s != ' ' && *s != '\n' && n < max) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s)
			break;
		ids[n++] = (int32_t)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

bool cu_part_read(cu_cluster_t *c, const char *topic, int32_t part, cu_part_t *out)
{
	char line[1024], name[256], *text;
	FILE *f = metadata_open(c, &text);
	bool in_topic = false, found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof line, f)) {
		int idx, leader, lepoch, pepoch, rec;
		int64_t unclean;
		const char *s;

		if (sscanf(line, "topic %255s", name) == 1) {
			in_topic = strcmp(name, topic) == 0;
			continue;
		}
		if (!in_topic ||
		    sscanf(line, "part %d %d %d %d %d %" SCNd64, &idx, &leader, &lepoch, &pepoch,
			   &rec, &unclean) != 6 ||
		    idx != part)
			continue;
		memset(out, 0, sizeof *out);
		out->leader = leader;
		out->leader_epoch = lepoch;
		out->partition_epoch = pepoch;
		out->recovering = rec != 0;
		out->unclean = unclean;
		if ((s = strstr(line, " R=")))
			out->nreplicas = parse_ids(s + 3, out->replicas, CU_MAX_BROKERS);
		if ((s = strstr(line, " I=")))
			out->nisr = parse_ids(s + 3, out->isr, CU_MAX_BROKERS);
		found = true;
	}
	metadata_close(f, text);
	return found;
}

bool cu_part_in_isr(const cu_part_t *p, int32_t id)
{
	for (int i = 0; i < p->nisr; i++)
		if (p->isr[i] == id)
			return true;
	return false;
}

static void part_text(const cu_part_t *p, char *buf, size_t cap)
{
	size_t k;

	k = (size_t)snprintf(buf, cap, "leader %d epoch %d partition epoch %d recovering %d isr [",
			     p->leader, p->leader_epoch, p->partition_epoch, p->recovering);
	for (int i = 0; i < p->nisr && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? "," : "", p->isr[i]);
	if (k < cap)
		snprintf(buf + k, cap - k, "]");
}

cu_part_t cu_wait_part(cu_cluster_t *c, const char *topic, int32_t part, cu_pred_t pred,
		       const void *arg, int deadline_ms, const char *what)
{
	int64_t deadline = now_ms() + (int64_t)deadline_ms * cu_mult();
	cu_part_t p = {.leader = -2};
	char buf[256];

	for (;;) {
		if (cu_part_read(c, topic, part, &p) && pred(&p, arg))
			return p;
		if (now_ms() > deadline)
			break;
		sleep_ms(20);
	}
	part_text(&p, buf, sizeof buf);
	ck_abort_msg("%s-%d: no %s within %d ms; last state: %s", topic, part, what,
		     deadline_ms * cu_mult(), buf);
	return p;
}

struct leader_arg {
	int32_t not_leader, epoch_gt;
};

static bool pred_leader(const cu_part_t *p, const void *arg)
{
	const struct leader_arg *a = arg;

	return p->leader >= 0 && p->leader != a->not_leader && p->leader_epoch > a->epoch_gt;
}

static int default_deadline(const cu_cluster_t *c)
{
	return 20 * c->session_ms + 10000;
}

cu_part_t cu_wait_leader(cu_cluster_t *c, const char *topic, int32_t part, int32_t not_leader,
			 int32_t epoch_gt)
{
	struct leader_arg a = {not_leader, epoch_gt};
	char what[128];

	snprintf(what, sizeof what, "leader other than %d with epoch > %d", not_leader, epoch_gt);
	return cu_wait_part(c, topic, part, pred_leader, &a, default_deadline(c), what);
}

static bool pred_isr_size(const cu_part_t *p, const void *arg)
{
	return p->leader >= 0 && p->nisr == *(const int *)arg;
}

cu_part_t cu_wait_isr_size(cu_cluster_t *c, const char *topic, int32_t part, int n)
{
	char what[64];

	snprintf(what, sizeof what, "ISR of size %d", n);
	return cu_wait_part(c, topic, part, pred_isr_size, &n, default_deadline(c), what);
}

struct has_arg {
	int32_t id;
	bool in;
};

static bool pred_isr_has(const cu_part_t *p, const void *arg)
{
	const struct has_arg *a = arg;

	return cu_part_in_isr(p, a->id) == a->in;
}

cu_part_t cu_wait_isr_has(cu_cluster_t *c, const char *topic, int32_t part, int32_t id, bool in)
{
	struct has_arg a = {id, in};
	char what[64];

	snprintf(what, sizeof what, "ISR %s %d", in ? "with" : "without", id);
	return cu_wait_part(c, topic, part, pred_isr_has, &a, default_deadline(c), what);
}

static bool pred_offline(const cu_part_t *p, const void *arg)
{
	(void)arg;
	return p->leader < 0;
}

cu_part_t cu_wait_offline(cu_cluster_t *c, const char *topic, int32_t part)
{
	return cu_wait_part(c, topic, part, pred_offline, NULL, default_deadline(c),
			    "offline state (no leader)");
}

void cu_wait_until(bool (*cond)(void *arg), void *arg, int deadline_ms, const char *what)
{
	int64_t deadline = now_ms() + (int64_t)deadline_ms * cu_mult();

	while (!cond(arg)) {
		ck_assert_msg(now_ms() < deadline, "no %s within %d ms", what,
			      deadline_ms * cu_mult());
		sleep_ms(20);
	}
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

void cu_create_topic(cu_cluster_t *c, const char *topic, int32_t partitions, int16_t rf,
		     const char *const *configs, int nconfigs)
{
	tern_admin_config_t cf[8];
	tern_conf_t *conf = tern_conf_new();
	tern_admin_t *a;
	char why[512];

	ck_assert_int_le(nconfigs, 8);
	for (int i = 0; i < nconfigs; i++) {
		static char kv[8][256];
		char *eq;

		snprintf(kv[i], sizeof kv[i], "%s", configs[i]);
		eq = strchr(kv[i], '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		cf[i].name = kv[i];
		cf[i].value = eq + 1;
	}
	ck_assert_ptr_nonnull(conf);
	ck_assert(tern_conf_set(conf, "bootstrap.servers", c->bootstrap, why, sizeof why) == 0);
	a = tern_admin_new(conf, why, sizeof why);
	ck_assert_msg(a != NULL, "%s", why);
	ck_assert_msg(tern_admin_create_topic(a, topic, partitions, rf, cf, (size_t)nconfigs, why,
					      sizeof why) == TERN_OK,
		      "create %s: %s", topic, why);
	tern_admin_destroy(a);
	for (int32_t p = 0; p < partitions; p++) {
		cu_part_t st = cu_wait_isr_size(c, topic, p, rf);
		cu_proc_t *l = cu_broker(c, st.leader);
		int64_t deadline = now_ms() + 30000LL * cu_mult();
		tc_conn_t conn;
		int n = 0;
		int64_t hwm;

		/* The leader answers once it has learnt that it leads. */
		tc_connect(&conn, l->url);
		while (tc_fetch(&conn, topic, p, 0, 0, 0, NULL, NULL, 0, &n, &hwm) != 0) {
			ck_assert_msg(now_ms() < deadline, "%s-%d: leader %d never served it",
				      topic, p, st.leader);
			sleep_ms(20);
		}
		tc_close(&conn);
	}
}

/* ------------------------------------------------------------------------ */
/* Replicas' files                                                            */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cu_read_replica(cu_cluster_t *c, int32_t id, const char *topic, int32_t part, cu_batch_t **out,
		     size_t *n)
{
	char dir[512];
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t nn = 0, cap = 0, nb = 0, bcap = 0;
	cu_batch_t *bs = NULL;

	snprintf(dir, sizeof dir, "%s/%s-%d", cu_broker(c, id)->dir, topic, part);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l != 24 || strcmp(e->d_name + 20, ".log") != 0)
			continue;
		if (nn == cap) {
			cap = cap ? 2 * cap : 8;
			names = realloc(names, cap * sizeof *names);
			ck_assert_ptr_nonnull(names);
		}
		names[nn++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof *names, by_name);
	for (size_t i = 0; i < nn; i++) {
		char path[1024];
		size_t len, pos = 0;
		uint8_t *buf;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		buf = tt_read_file(path, &len);
		while (pos + LOG_BATCH_LOG_OVERHEAD <= len) {
			log_validate_opts_t vo = {.deep = false};
			log_batch_hdr_t h;
			char why[128];

			if (log_batch_hdr_parse(buf + pos, len - pos, &h) != TERN_OK ||
			    log_batch_size(&h) > len - pos)
				break;
			ck_assert_msg(log_batch_validate(buf + pos, len - pos, &vo, &h, why,
							 sizeof why) == TERN_OK,
				      "broker %d %s at %zu: %s", id, path, pos, why);
			if (nb == bcap) {
				bcap = bcap ? 2 * bcap : 1024;
				bs = realloc(bs, bcap * sizeof *bs);
				ck_assert_ptr_nonnull(bs);
			}
			bs[nb++] = (cu_batch_t){.base_offset = h.base_offset,
						.last_offset = h.base_offset + h.last_offset_delta,
						.leader_epoch = h.leader_epoch,
						.crc = h.crc,
						.length = h.length};
			pos += log_batch_size(&h);
		}
		free(buf);
		free(names[i]);
	}
	free(names);
	*out = bs;
	*n = nb;
}

void cu_ck_same_below(cu_cluster_t *c, int32_t a, int32_t b, const char *topic, int32_t part,
		      int64_t hwm)
{
	cu_batch_t *x, *y;
	size_t nx, ny, i;

	cu_read_replica(c, a, topic, part, &x, &nx);
	cu_read_replica(c, b, topic, part, &y, &ny);
	for (i = 0; i < nx && i < ny && x[i].base_offset < hwm; i++) {
		ck_assert_msg(x[i].base_offset == y[i].base_offset &&
				  x[i].last_offset == y[i].last_offset &&
				  x[i].length == y[i].length &&
				  x[i].leader_epoch == y[i].leader_epoch && x[i].crc == y[i].crc,
			      "%s-%d batch %zu differs: broker %d [%" PRId64 "..%" PRId64
			      "] epoch %d crc %08x len %d; broker %d [%" PRId64 "..%" PRId64
			      "] epoch %d crc %08x len %d",
			      topic, part, i, a, x[i].base_offset, x[i].last_offset,
			      x[i].leader_epoch, x[i].crc, x[i].length, b, y[i].base_offset,
			      y[i].last_offset, y[i].leader_epoch, y[i].crc, y[i].length);
		if (i == 0)
			ck_assert_int_eq(x[i].base_offset, 0);
		else
			ck_assert_int_eq(x[i].base_offset, x[i - 1].last_offset + 1);
	}
	/* Both reach the HWM. */
	ck_assert_msg(hwm == 0 || (i > 0 && x[i - 1].last_offset + 1 >= hwm),
		      "%s-%d: replicas %d and %d agree only below %" PRId64 " (HWM %" PRId64
		      "; %zu and %zu batches)",
		      topic, part, a, b, i > 0 ? x[i - 1].last_offset + 1 : 0, hwm, nx, ny);
	free(x);
	free(y);
}

int cu_count_in_err(const cu_proc_t *p, const char *needle)
{
	FILE *f = fopen(p->err, "r");
	char line[4096];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Leftovers of failed tests                                                  */

void cu_root_init(void)
{
	root = tt_mkdtemp("cluster");
}

void cu_root_fini(void)
{
	cu_reap_leftovers();
	if (root && !getenv("TERN_KEEP_DIRS"))
		tt_rmtree(root);
	free(root);
	root = NULL;
}

/* Whether pid is still one of our ternd processes of directory dir. */
static bool ours(pid_t pid, const char *dir)
{
	char path[64], cmd[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(cmd, 1, sizeof cmd - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	return (strstr(cmd, "ternd") || strstr(cmd, "java")) && strstr(cmd, dir);
}

static void tail_file(const char *path, int lines)
{
	cu_proc_t p = {.id = -1};

	p.err = (char *)path;
	print_tail(&p, lines);
}

void cu_reap_leftovers(void)
{
	DIR *d;
	struct dirent *e;

	if (!root || !(d = opendir(root)))
		return;
	while ((e = readdir(d))) {
		char dir[1024], path[1100];
		FILE *f;
		int pid;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof dir, "%s/%s", root, e->d_name);
		snprintf(path, sizeof path, "%s/reaped", dir);
		if (access(path, F_OK) == 0)
			continue; /* kept (TERN_KEEP_DIRS) and reported before */
		snprintf(path, sizeof path, "%s/pids", dir);
		if ((f = fopen(path, "r"))) {
			while (fscanf(f, "%d", &pid) == 1)
				if (pid > 0 && ours(pid, dir)) {
					killpg(pid, SIGKILL);
					kill(pid, SIGKILL);
				}
			fclose(f);
		}
		/* Inside the test's pid namespace this process is init: reap
		 * what the dead test process left. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		fprintf(stderr, "==== logs of the failed test's cluster %s ====\n", dir);
		snprintf(path, sizeof path, "%s/c.err", dir);
		tail_file(path, 80);
		for (int i = 1; i <= CU_MAX_BROKERS; i++) {
			snprintf(path, sizeof path, "%s/%d.err", dir, i);
			tail_file(path, 40);
		}
		snprintf(path, sizeof path, "%s/zk/zk.log", dir);
		tail_file(path, 20);
		snprintf(path, sizeof path, "%s/producer.log", dir);
		tail_file(path, 40);
		if (getenv("TERN_KEEP_DIRS")) {
			snprintf(path, sizeof path, "%s/reaped", dir);
			if ((f = fopen(path, "w")))
				fclose(f);
			fprintf(stderr, "kept %s\n", dir);
		} else {
			tt_rmtree(dir);
		}
	}
	closedir(d);
}
