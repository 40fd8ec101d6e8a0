/* controller/zk.c: the ZooKeeper side of the controller (metadata.store=
 * zookeeper, DESIGN.md decision 7): the session, broker registration,
 * controller election fenced by /controller_epoch, and the metadata store
 * whose every write checks that epoch. See controller.h for the nodes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "common/clock.h"
#include "controller/controller.h"

#define ZK_CONTROLLER "/controller"
#define ZK_EPOCH      "/controller_epoch"
#define ZK_IDS	      "/brokers/ids"
#define ZK_METADATA   "/tern/metadata"

/* How often the keeper thread looks at the session when nothing wakes it
 * (a registration that must be retried). */
#define ZK_KEEP_MS 250
/* Rounds of a read-modify-write that lost a race before giving up. */
#define ZK_ATTEMPTS 8

/* One session, given to the library as its watcher context: state and
 * lost_ms are written by the watcher (the library's completion thread)
 * with z->ev_mu held. */
typedef struct zk_sess {
	ctl_zk_t *z;
	int state;	 /* the latest session state reported; 0 before any */
	int64_t lost_ms; /* since when it has not been connected; -1 while connected */
} zk_sess_t;

/* Invariants: zh and sess change together, only in the keeper thread (and
 * in open and close, before and after it runs), with both mu and ev_mu
 * held, so that either lock keeps them stable; every zoo_* call on zh is
 * made with mu held. controller implies reign > 0, ctl_session is the
 * session that won the reign, epoch_version the version of
 * /controller_epoch its election set. A new reign gets a new reign number
 * (stores are bound to one). Lock order: mu, then ev_mu. */
struct ctl_zk {
	pthread_mutex_t mu;    /* serialises the calls; guards all but the ev_ state */
	pthread_mutex_t ev_mu; /* guards every zk_sess_t's fields and stop */
	pthread_cond_t ev_cv;  /* broadcast on session events, a new session, stop */
	zhandle_t *zh;
	zk_sess_t *sess;
	char *connect;
	int32_t timeout_ms;
	int32_t id;
	char *url;
	char reg_path[64];
	bool registered;
	bool controller;
	int64_t ctl_session;
	int64_t epoch;
	int32_t epoch_version;
	uint64_t reign;
	bool stop;
	bool keeper_started;
	pthread_t keeper;
	char err[256];
};

/* The metadata store: bound to the reign current at its creation (0: none,
 * load only). Borrows z. */
typedef struct zk_store {
	ctl_store_t ops;
	ctl_zk_t *z;
	uint64_t reign;
} zk_store_t;

static pthread_once_t zk_log_once = PTHREAD_ONCE_INIT;

/* The C library logs to stderr (at INFO by default, and every few ms while
 * a server refuses connections); library code of Tern never prints: the
 * calls return errors and ctl_zk_last_error() tells the detail. Level 0
 * switches its log off. */
static void zk_log_init(void)
{
	zoo_set_debug_level((ZooLogLevel)0);
}

/* Kafka's error for a ZooKeeper return code; the message goes to buf. */
static tern_err_t zk_map(int rc, const char *what, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "ZooKeeper %s %s: %s", what, path, zerror(rc));
	if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED ||
	    rc == ZINVALIDSTATE || rc == ZCLOSING || rc == ZSESSIONMOVED)
		return TERN_ERR_NETWORK_EXCEPTION;
	if (rc == ZBADARGUMENTS)
		return TERN_ERR__INVALID_ARG;
	if (rc == ZMARSHALLINGERROR)
		return TERN_ERR__NOMEM;
	return TERN_ERR_UNKNOWN_SERVER_ERROR;
}

/* z->mu held. */
static tern_err_t zk_fail(ctl_zk_t *z, int rc, const char *what, const char *path)
{
	return zk_map(rc, what, path, z->err, sizeof z->err);
}

static void zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	zk_sess_t *s = ctx;

	(void)zh;
	(void)path;
	if (type != ZOO_SESSION_EVENT || !s)
		return;
	pthread_mutex_lock(&s->z->ev_mu);
	s->state = state;
	if (state == ZOO_CONNECTED_STATE)
		s->lost_ms = -1;
	else if (s->lost_ms < 0)
		s->lost_ms = tern_mono_ms();
	pthread_cond_broadcast(&s->z->ev_cv);
	pthread_mutex_unlock(&s->z->ev_mu);
}

static const char *zk_state_name(int st)
{
	if (st == ZOO_EXPIRED_SESSION_STATE)
		return "session expired";
	if (st == ZOO_AUTH_FAILED_STATE)
		return "authentication failed";
	if (st == ZOO_CONNECTING_STATE || st == ZOO_ASSOCIATING_STATE || st == 0)
		return "no server answered";
	return "not connected";
}

/* Opens a session on hosts and waits until it is connected, deadline_ms
 * passes, it fails, or z is stopping. No lock held. */
static tern_err_t sess_open(ctl_zk_t *z, const char *hosts, int64_t deadline_ms, zhandle_t **zhp,
			    zk_sess_t **sp, char *errstr, size_t errlen)
{
	zk_sess_t *s = calloc(1, sizeof *s);
	zhandle_t *zh;
	int st;

	if (!s)
		return TERN_ERR__NOMEM;
	s->z = z;
	s->lost_ms = tern_mono_ms();
	errno = 0;
	zh = zookeeper_init(hosts, zk_watcher, z->timeout_ms, NULL, s, 0);
	if (!zh) {
		int e = errno ? errno : EIO;

		snprintf(errstr, errlen, "ZooKeeper %s: %s", hosts, strerror(e));
		free(s);
		return e == EINVAL ? TERN_ERR__INVALID_ARG : tern_err_errno(e);
	}
	pthread_mutex_lock(&z->ev_mu);
	for (;;) {
		st = s->state;
		if (st == ZOO_CONNECTED_STATE || st == ZOO_EXPIRED_SESSION_STATE ||
		    st == ZOO_AUTH_FAILED_STATE || z->stop)
			break;
		if (tern_cond_wait_until(&z->ev_cv, &z->ev_mu, deadline_ms) == ETIMEDOUT)
			break;
	}
	st = s->state;
	pthread_mutex_unlock(&z->ev_mu);
	if (st != ZOO_CONNECTED_STATE) {
		snprintf(errstr, errlen, "no ZooKeeper session with %s: %s", hosts,
			 zk_state_name(st));
		zookeeper_close(zh);
		free(s);
		return TERN_ERR__TIMED_OUT;
	}
	*zhp = zh;
	*sp = s;
	return TERN_OK;
}

/* z->mu held. */
static bool zk_connected(ctl_zk_t *z)
{
	return zoo_state(z->zh) == ZOO_CONNECTED_STATE;
}

/* This session's id; 0 when none. z->mu held. */
static int64_t zk_me(ctl_zk_t *z)
{
	const clientid_t *cid = zoo_client_id(z->zh);

	return cid ? cid->client_id : 0;
}

/* Waits (z->mu not held) until the session is connected or deadline_ms. */
static void zk_wait_connected(ctl_zk_t *z, int64_t deadline_ms)
{
	pthread_mutex_lock(&z->ev_mu);
	while (zoo_state(z->zh) != ZOO_CONNECTED_STATE && !z->stop)
		if (tern_cond_wait_until(&z->ev_cv, &z->ev_mu, deadline_ms) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&z->ev_mu);
}

static int zk_create_persistent(zhandle_t *zh, const char *path)
{
	int rc = zoo_create(zh, path, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);

	return rc == ZNODEEXISTS ? ZOK : rc;
}

/* Creates the chroot of connect ("hosts/a/b") and its parents, through a
 * session of its own without the chroot. */
static tern_err_t zk_make_chroot(ctl_zk_t *z, const char *connect, int64_t deadline_ms,
				 char *errstr, size_t errlen)
{
	const char *root = strchr(connect, '/');
	char *hosts = NULL, *path = NULL;
	zhandle_t *zh = NULL;
	zk_sess_t *s = NULL;
	tern_err_t err = TERN_OK;

	if (!root || !root[1])
		return TERN_OK;
	hosts = strndup(connect, (size_t)(root - connect));
	path = strdup(root);
	if (!hosts || !path) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	err = sess_open(z, hosts, deadline_ms, &zh, &s, errstr, errlen);
	if (err)
		goto out;
	for (char *p = path + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			int rc;

			*p = '\0';
			rc = zk_create_persistent(zh, path);
			*p = c;
			if (rc != ZOK) {
				err = zk_map(rc, "create", path, errstr, errlen);
				goto out;
			}
			if (!c)
				break;
		}
	}
out:
	if (zh)
		zookeeper_close(zh);
	free(s);
	free(hosts);
	free(path);
	return err;
}

/* Registers this broker: creates its ephemeral node, or finds it this
 * session's already (a retry after a lost connection). ZNODEEXISTS when
 * another session holds it. z->mu held. */
static int zk_register(ctl_zk_t *z)
{
	struct Stat st;
	int rc;

	rc = zoo_create(z->zh, z->reg_path, z->url, (int)strlen(z->url), &ZOO_OPEN_ACL_UNSAFE,
			ZOO_EPHEMERAL, NULL, 0);
	if (rc == ZNODEEXISTS) {
		rc = zoo_exists(z->zh, z->reg_path, 0, &st);
		if (rc == ZOK)
			rc = st.ephemeralOwner == zk_me(z) ? ZOK : ZNODEEXISTS;
		else if (rc == ZNONODE)
			rc = ZNODEEXISTS; /* gone meanwhile: the next try creates it */
	}
	if (rc == ZOK)
		z->registered = true;
	else
		zk_fail(z, rc, "register", z->reg_path);
	return rc;
}

/* Prepares a new session: the persistent paths, then the registration.
 * z->mu held. */
static int zk_setup(ctl_zk_t *z)
{
	static const char *const paths[] = {"/brokers", ZK_IDS, "/tern"};
	int rc;

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		rc = zk_create_persistent(z->zh, paths[i]);
		if (rc != ZOK) {
			zk_fail(z, rc, "create", paths[i]);
			return rc;
		}
	}
	return zk_register(z);
}

/* Replaces an expired session by a new one and registers again. The
 * keeper thread; no lock held. */
static void zk_renew(ctl_zk_t *z)
{
	char errstr[256];
	zhandle_t *nzh = NULL, *ozh;
	zk_sess_t *ns = NULL, *os;
	tern_err_t err;

	err = sess_open(z, z->connect, tern_mono_ms() + 2 * (int64_t)z->timeout_ms, &nzh, &ns,
			errstr, sizeof errstr);
	pthread_mutex_lock(&z->mu);
	if (err) {
		snprintf(z->err, sizeof z->err, "%s", errstr);
		pthread_mutex_unlock(&z->mu);
		return;
	}
	pthread_mutex_lock(&z->ev_mu);
	ozh = z->zh;
	os = z->sess;
	z->zh = nzh;
	z->sess = ns;
	pthread_cond_broadcast(&z->ev_cv);
	pthread_mutex_unlock(&z->ev_mu);
	/* The reign ended with the session that held /controller. */
	z->controller = false;
	z->registered = false;
	zk_setup(z); /* on failure the keeper retries the registration */
	pthread_mutex_unlock(&z->mu);
	zookeeper_close(ozh);
	free(os);
}

/* The keeper thread: renews an expired session, retries a registration
 * that failed. */
static void *zk_keeper(void *arg)
{
	ctl_zk_t *z = arg;

	for (;;) {
		bool stop, expired;
		int st;

		pthread_mutex_lock(&z->ev_mu);
		if (!z->stop)
			tern_cond_wait_until(&z->ev_cv, &z->ev_mu, tern_mono_ms() + ZK_KEEP_MS);
		stop = z->stop;
		st = zoo_state(z->zh);
		expired = st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE ||
			  z->sess->state == ZOO_EXPIRED_SESSION_STATE;
		pthread_mutex_unlock(&z->ev_mu);
		if (stop)
			break;
		if (expired) {
			zk_renew(z);
			continue;
		}
		pthread_mutex_lock(&z->mu);
		if (!z->registered && zk_connected(z))
			zk_setup(z);
		pthread_mutex_unlock(&z->mu);
	}
	return NULL;
}

static void zk_free(ctl_zk_t *z)
{
	if (z->zh)
		zookeeper_close(z->zh);
	free(z->sess);
	free(z->connect);
	free(z->url);
	pthread_cond_destroy(&z->ev_cv);
	pthread_mutex_destroy(&z->ev_mu);
	pthread_mutex_destroy(&z->mu);
	free(z);
}

tern_err_t ctl_zk_open(const char *connect, int32_t session_timeout_ms, int32_t broker_id,
		       const char *url, ctl_zk_t **out, char *errstr, size_t errlen)
{
	int64_t start = tern_mono_ms(), reg_deadline;
	ctl_zk_t *z;
	tern_err_t err;
	int rc;

	if (!connect || !*connect || session_timeout_ms <= 0 || broker_id < 0 || !url ||
	    strlen(url) > 1024) {
		snprintf(errstr, errlen, "ZooKeeper: bad connect string, timeout, id or url");
		return TERN_ERR__INVALID_ARG;
	}
	pthread_once(&zk_log_once, zk_log_init);
	z = calloc(1, sizeof *z);
	if (!z)
		return TERN_ERR__NOMEM;
	pthread_mutex_init(&z->mu, NULL);
	pthread_mutex_init(&z->ev_mu, NULL);
	tern_cond_init_mono(&z->ev_cv);
	z->timeout_ms = session_timeout_ms;
	z->id = broker_id;
	z->epoch = -1;
	snprintf(z->reg_path, sizeof z->reg_path, ZK_IDS "/%d", (int)broker_id);
	z->connect = strdup(connect);
	z->url = strdup(url);
	if (!z->connect || !z->url) {
		zk_free(z);
		return TERN_ERR__NOMEM;
	}
	err = zk_make_chroot(z, connect, start + 2 * (int64_t)session_timeout_ms, errstr, errlen);
	if (!err)
		err = sess_open(z, connect, start + 2 * (int64_t)session_timeout_ms, &z->zh,
				&z->sess, errstr, errlen);
	if (err) {
		zk_free(z);
		return err;
	}
	/* A broker that restarts finds its previous session's node until that
	 * session expires: wait for it, within three session timeouts. */
	reg_deadline = start + 3 * (int64_t)session_timeout_ms;
	pthread_mutex_lock(&z->mu);
	while ((rc = zk_setup(z)) == ZNODEEXISTS && tern_mono_ms() < reg_deadline) {
		pthread_mutex_unlock(&z->mu);
		pthread_mutex_lock(&z->ev_mu);
		tern_cond_wait_until(&z->ev_cv, &z->ev_mu, tern_mono_ms() + 100);
		pthread_mutex_unlock(&z->ev_mu);
		pthread_mutex_lock(&z->mu);
	}
	if (rc != ZOK) {
		err = rc == ZNODEEXISTS ? TERN_ERR_DUPLICATE_BROKER_REGISTRATION
					: zk_fail(z, rc, "register", z->reg_path);
		if (rc == ZNODEEXISTS)
			snprintf(errstr, errlen, "ZooKeeper: %s is held by another session",
				 z->reg_path);
		else
			snprintf(errstr, errlen, "%s", z->err);
		pthread_mutex_unlock(&z->mu);
		zk_free(z);
		return err;
	}
	pthread_mutex_unlock(&z->mu);
	rc = pthread_create(&z->keeper, NULL, zk_keeper, z);
	if (rc) {
		snprintf(errstr, errlen, "ZooKeeper: pthread_create: %s", strerror(rc));
		zk_free(z);
		return tern_err_errno(rc);
	}
	z->keeper_started = true;
	*out = z;
	return TERN_OK;
}

void ctl_zk_close(ctl_zk_t *z)
{
	struct Stat st;

	if (!z)
		return;
	pthread_mutex_lock(&z->ev_mu);
	z->stop = true;
	pthread_cond_broadcast(&z->ev_cv);
	pthread_mutex_unlock(&z->ev_mu);
	if (z->keeper_started)
		pthread_join(z->keeper, NULL);
	/* Resign at once rather than leave the others to wait for the end of
	 * the session (zookeeper_close ends it too, but say it plainly). */
	pthread_mutex_lock(&z->mu);
	if (z->controller && zk_connected(z) && zoo_exists(z->zh, ZK_CONTROLLER, 0, &st) == ZOK &&
	    st.ephemeralOwner == z->ctl_session)
		zoo_delete(z->zh, ZK_CONTROLLER, st.version);
	z->controller = false;
	pthread_mutex_unlock(&z->mu);
	zk_free(z);
}

/* The broker id in /controller's data ({"version":1,"brokerid":N,...});
 * -1 when unreadable. */
static int32_t zk_parse_brokerid(const char *data)
{
	const char *p = strstr(data, "\"brokerid\"");
	char *end;
	long v;

	if (!p)
		return -1;
	p += strlen("\"brokerid\"");
	while (*p == ' ' || *p == ':')
		p++;
	errno = 0;
	v = strtol(p, &end, 10);
	if (end == p || errno || v < 0 || v > INT32_MAX)
		return -1;
	return (int32_t)v;
}

int32_t ctl_zk_controller(ctl_zk_t *z, char *url, size_t urllen)
{
	char buf[256], path[64];
	struct Stat st;
	int blen = (int)sizeof buf - 1, rc;
	int32_t id = -1;

	if (url && urllen)
		url[0] = '\0';
	pthread_mutex_lock(&z->mu);
	if (!zk_connected(z)) {
		snprintf(z->err, sizeof z->err, "ZooKeeper: not connected");
		goto out;
	}
	rc = zoo_get(z->zh, ZK_CONTROLLER, 0, buf, &blen, &st);
	if (rc != ZOK) {
		if (rc == ZNONODE)
			z->controller = false;
		else
			zk_fail(z, rc, "get", ZK_CONTROLLER);
		goto out;
	}
	buf[blen > 0 ? blen : 0] = '\0';
	if (z->controller && st.ephemeralOwner != z->ctl_session)
		z->controller = false;
	id = zk_parse_brokerid(buf);
	if (id >= 0 && url && urllen > 1) {
		int ulen = urllen > 4096 ? 4095 : (int)urllen - 1;

		snprintf(path, sizeof path, ZK_IDS "/%d", (int)id);
		rc = zoo_get(z->zh, path, 0, url, &ulen, NULL);
		url[rc == ZOK && ulen > 0 ? ulen : 0] = '\0';
	}
out:
	pthread_mutex_unlock(&z->mu);
	return id;
}

/* Reads /controller_epoch: *have false when it does not exist. z->mu held. */
static int zk_read_epoch(ctl_zk_t *z, bool *have, int64_t *epoch, int32_t *version)
{
	char buf[32], *end;
	struct Stat st;
	int blen = (int)sizeof buf - 1;
	int rc = zoo_get(z->zh, ZK_EPOCH, 0, buf, &blen, &st);

	*have = false;
	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK)
		return rc;
	buf[blen > 0 ? blen : 0] = '\0';
	errno = 0;
	*epoch = strtoll(buf, &end, 10);
	if (end == buf || errno || *epoch < 0)
		return ZDATAINCONSISTENCY;
	*version = st.version;
	*have = true;
	return ZOK;
}

/* Starts a reign of this session at epoch/version. z->mu held. */
static void zk_reign(ctl_zk_t *z, int64_t epoch, int32_t version)
{
	z->controller = true;
	z->ctl_session = zk_me(z);
	z->epoch = epoch;
	z->epoch_version = version;
	z->reign++;
}

tern_err_t ctl_zk_elect(ctl_zk_t *z, int64_t *epoch)
{
	char data[128], epoch_text[32], pbuf[2][64];
	struct timespec now;
	tern_err_t err = TERN_ERR_UNKNOWN_SERVER_ERROR;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(data, sizeof data, "{\"version\":1,\"brokerid\":%d,\"timestamp\":\"%lld\"}",
		 (int)z->id, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	pthread_mutex_lock(&z->mu);
	if (!zk_connected(z)) {
		snprintf(z->err, sizeof z->err, "ZooKeeper: not connected");
		err = TERN_ERR_NETWORK_EXCEPTION;
		goto out;
	}
	for (int attempt = 0; attempt < ZK_ATTEMPTS; attempt++) {
		zoo_op_t ops[2];
		zoo_op_result_t res[2];
		struct Stat st, est;
		bool have;
		int64_t cur = 0;
		int32_t ver = 0;
		int rc = zk_read_epoch(z, &have, &cur, &ver);

		if (rc != ZOK) {
			err = zk_fail(z, rc, "get", ZK_EPOCH);
			goto out;
		}
		memset(res, 0, sizeof res);
		memset(&est, 0, sizeof est);
		zoo_create_op_init(&ops[0], ZK_CONTROLLER, data, (int)strlen(data),
				   &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, pbuf[0], sizeof pbuf[0]);
		snprintf(epoch_text, sizeof epoch_text, "%lld", (long long)(have ? cur + 1 : 1));
		if (have)
			zoo_set_op_init(&ops[1], ZK_EPOCH, epoch_text, (int)strlen(epoch_text), ver,
					&est);
		else
			zoo_create_op_init(&ops[1], ZK_EPOCH, epoch_text, (int)strlen(epoch_text),
					   &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, pbuf[1],
					   sizeof pbuf[1]);
		rc = zoo_multi(z->zh, 2, ops, res);
		if (rc == ZOK) {
			zk_reign(z, have ? cur + 1 : 1, have ? est.version : 0);
			*epoch = z->epoch;
			err = TERN_OK;
			goto out;
		}
		if (rc > ZAPIERROR) { /* a system error: the outcome is unknown */
			err = zk_fail(z, rc, "multi", ZK_CONTROLLER);
			goto out;
		}
		if (res[0].err == ZNODEEXISTS) {
			rc = zoo_exists(z->zh, ZK_CONTROLLER, 0, &st);
			if (rc == ZNONODE)
				continue; /* resigned meanwhile: try again */
			if (rc != ZOK) {
				err = zk_fail(z, rc, "exists", ZK_CONTROLLER);
				goto out;
			}
			if (st.ephemeralOwner != zk_me(z)) {
				z->controller = false;
				snprintf(z->err, sizeof z->err,
					 "ZooKeeper: %s is held by another broker", ZK_CONTROLLER);
				err = TERN_ERR_NOT_CONTROLLER;
				goto out;
			}
			/* This session holds /controller: it is controller already,
			 * or an election whose answer was lost went through (nobody
			 * else can have moved the epoch since: that takes
			 * /controller). */
			if (!z->controller || z->ctl_session != zk_me(z)) {
				rc = zk_read_epoch(z, &have, &cur, &ver);
				if (rc == ZOK && !have)
					rc = ZNONODE;
				if (rc != ZOK) {
					err = zk_fail(z, rc, "get", ZK_EPOCH);
					goto out;
				}
				zk_reign(z, cur, ver);
			}
			*epoch = z->epoch;
			err = TERN_OK;
			goto out;
		}
		if (res[1].err == ZBADVERSION || res[1].err == ZNODEEXISTS || res[1].err == ZNONODE)
			continue; /* the epoch moved between the read and the multi */
		err = zk_fail(z, rc, "multi", ZK_CONTROLLER);
		goto out;
	}
	snprintf(z->err, sizeof z->err, "ZooKeeper: %s kept changing during the election",
		 ZK_EPOCH);
	err = TERN_ERR_NOT_CONTROLLER;
out:
	pthread_mutex_unlock(&z->mu);
	return err;
}

bool ctl_zk_is_controller(ctl_zk_t *z)
{
	struct Stat st;
	bool yes;
	int rc;

	pthread_mutex_lock(&z->mu);
	if (!z->controller)
		goto out;
	if (z->ctl_session != zk_me(z)) {
		z->controller = false;
		goto out;
	}
	if (!zk_connected(z)) {
		int64_t lost, limit = zoo_recv_timeout(z->zh);

		pthread_mutex_lock(&z->ev_mu);
		lost = z->sess->lost_ms;
		pthread_mutex_unlock(&z->ev_mu);
		if (limit <= 0)
			limit = z->timeout_ms;
		if (zoo_state(z->zh) == ZOO_EXPIRED_SESSION_STATE ||
		    (lost >= 0 && tern_mono_ms() - lost > limit))
			z->controller = false;
		goto out;
	}
	rc = zoo_exists(z->zh, ZK_CONTROLLER, 0, &st);
	if (rc == ZNONODE || (rc == ZOK && st.ephemeralOwner != z->ctl_session))
		z->controller = false;
	else if (rc != ZOK)
		zk_fail(z, rc, "exists", ZK_CONTROLLER);
out:
	yes = z->controller;
	pthread_mutex_unlock(&z->mu);
	return yes;
}

int64_t ctl_zk_epoch(ctl_zk_t *z)
{
	int64_t e;

	pthread_mutex_lock(&z->mu);
	e = z->controller ? z->epoch : -1;
	pthread_mutex_unlock(&z->mu);
	return e;
}

tern_err_t ctl_zk_brokers(ctl_zk_t *z, int32_t **ids, size_t *n)
{
	struct String_vector sv = {0, NULL};
	int32_t *v = NULL;
	size_t k = 0;
	tern_err_t err = TERN_OK;
	int rc;

	pthread_mutex_lock(&z->mu);
	if (!zk_connected(z)) {
		snprintf(z->err, sizeof z->err, "ZooKeeper: not connected");
		err = TERN_ERR_NETWORK_EXCEPTION;
		goto out;
	}
	rc = zoo_get_children(z->zh, ZK_IDS, 0, &sv);
	if (rc != ZOK) {
		err = zk_fail(z, rc, "get_children", ZK_IDS);
		goto out;
	}
	if (sv.count > 0) {
		v = calloc((size_t)sv.count, sizeof *v);
		if (!v) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
	}
	for (int i = 0; i < sv.count; i++) {
		char *end;
		long id;

		errno = 0;
		id = strtol(sv.data[i], &end, 10);
		if (end == sv.data[i] || *end || errno || id < 0 || id > INT32_MAX)
			continue; /* not a broker's node */
		/* insertion sort: a cluster has few brokers */
		size_t j = k++;
		while (j > 0 && v[j - 1] > (int32_t)id) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = (int32_t)id;
	}
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*ids = v;
	*n = k;
	v = NULL;
out:
	free(v);
	deallocate_String_vector(&sv);
	pthread_mutex_unlock(&z->mu);
	return err;
}

void ctl_zk_last_error(ctl_zk_t *z, char *buf, size_t len)
{
	pthread_mutex_lock(&z->mu);
	snprintf(buf, len, "%s", z->err);
	pthread_mutex_unlock(&z->mu);
}

bool ctl_zk_session(ctl_zk_t *z, int64_t *id, char passwd[16])
{
	const clientid_t *cid;
	bool ok;

	pthread_mutex_lock(&z->mu);
	cid = zoo_client_id(z->zh);
	ok = cid && cid->client_id != 0;
	if (ok) {
		*id = cid->client_id;
		memcpy(passwd, cid->passwd, 16);
	}
	pthread_mutex_unlock(&z->mu);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* The store                                                                  */

static tern_err_t zk_store_load(ctl_store_t *s, char **text, size_t *len, char *errstr,
				size_t errlen)
{
	ctl_zk_t *z = ((zk_store_t *)s)->z;
	tern_err_t err = TERN_OK;
	char *buf = NULL;

	*text = NULL;
	*len = 0;
	zk_wait_connected(z, tern_mono_ms() + z->timeout_ms);
	pthread_mutex_lock(&z->mu);
	if (!zk_connected(z)) {
		snprintf(z->err, sizeof z->err, "ZooKeeper: not connected");
		err = TERN_ERR_NETWORK_EXCEPTION;
		goto out;
	}
	for (int attempt = 0; attempt < ZK_ATTEMPTS; attempt++) {
		struct Stat st, st2;
		int blen, rc = zoo_exists(z->zh, ZK_METADATA, 0, &st);

		if (rc == ZNONODE)
			goto out;
		if (rc != ZOK) {
			err = zk_fail(z, rc, "exists", ZK_METADATA);
			goto out;
		}
		buf = malloc((size_t)st.dataLength + 1);
		if (!buf) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
		blen = st.dataLength + 1;
		rc = zoo_get(z->zh, ZK_METADATA, 0, buf, &blen, &st2);
		if (rc == ZNONODE) {
			free(buf);
			buf = NULL;
			goto out;
		}
		if (rc != ZOK) {
			err = zk_fail(z, rc, "get", ZK_METADATA);
			goto out;
		}
		if (st2.dataLength != st.dataLength) { /* replaced in between */
			free(buf);
			buf = NULL;
			continue;
		}
		if (blen < 0)
			blen = 0; /* a node without data */
		buf[blen] = '\0';
		*text = buf;
		*len = (size_t)blen;
		buf = NULL;
		goto out;
	}
	snprintf(z->err, sizeof z->err, "ZooKeeper: %s kept changing while read", ZK_METADATA);
	err = TERN_ERR_UNKNOWN_SERVER_ERROR;
out:
	if (err)
		snprintf(errstr, errlen, "%s", z->err);
	free(buf);
	pthread_mutex_unlock(&z->mu);
	return err;
}

static tern_err_t zk_store_save(ctl_store_t *s, const char *text, size_t len)
{
	zk_store_t *zs = (zk_store_t *)s;
	ctl_zk_t *z = zs->z;
	tern_err_t err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	bool create = false;

	if (len > CTL_ZK_MAX_METADATA) {
		pthread_mutex_lock(&z->mu);
		snprintf(z->err, sizeof z->err,
			 "ZooKeeper: the metadata (%zu bytes) is above the %d bytes a node "
			 "holds (jute.maxbuffer)",
			 len, CTL_ZK_MAX_METADATA);
		pthread_mutex_unlock(&z->mu);
		return TERN_ERR_MESSAGE_TOO_LARGE;
	}
	zk_wait_connected(z, tern_mono_ms() + z->timeout_ms);
	pthread_mutex_lock(&z->mu);
	if (zs->reign == 0 || zs->reign != z->reign || !z->controller) {
		snprintf(z->err, sizeof z->err, "ZooKeeper: not controller (reign over)");
		err = TERN_ERR_NOT_CONTROLLER;
		goto out;
	}
	if (!zk_connected(z)) {
		snprintf(z->err, sizeof z->err, "ZooKeeper: not connected");
		err = TERN_ERR_NETWORK_EXCEPTION;
		goto out;
	}
	for (int attempt = 0; attempt < ZK_ATTEMPTS; attempt++) {
		zoo_op_t ops[2];
		zoo_op_result_t res[2];
		struct Stat st;
		char pbuf[64];
		int rc;

		memset(res, 0, sizeof res);
		zoo_check_op_init(&ops[0], ZK_EPOCH, z->epoch_version);
		if (create)
			zoo_create_op_init(&ops[1], ZK_METADATA, text, (int)len,
					   &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, pbuf, sizeof pbuf);
		else
			zoo_set_op_init(&ops[1], ZK_METADATA, text, (int)len, -1, &st);
		rc = zoo_multi(z->zh, 2, ops, res);
		if (rc == ZOK) {
			err = TERN_OK;
			goto out;
		}
		if (rc > ZAPIERROR) { /* a system error: the outcome is unknown */
			err = zk_fail(z, rc, "multi", ZK_METADATA);
			goto out;
		}
		if (res[0].err == ZBADVERSION || res[0].err == ZNONODE) {
			/* A later election moved the epoch: fenced. */
			z->controller = false;
			snprintf(z->err, sizeof z->err,
				 "ZooKeeper: %s moved past epoch %lld: not controller", ZK_EPOCH,
				 (long long)z->epoch);
			err = TERN_ERR_NOT_CONTROLLER;
			goto out;
		}
		if (res[1].err == ZNONODE && !create) {
			create = true;
			continue;
		}
		if (res[1].err == ZNODEEXISTS && create) {
			create = false;
			continue;
		}
		err = zk_fail(z, rc, "multi", ZK_METADATA);
		goto out;
	}
	snprintf(z->err, sizeof z->err, "ZooKeeper: %s kept appearing and vanishing", ZK_METADATA);
out:
	pthread_mutex_unlock(&z->mu);
	return err;
}

static void zk_store_close(ctl_store_t *s)
{
	free(s);
}

tern_err_t ctl_zk_store_new(ctl_zk_t *z, ctl_store_t **out)
{
	zk_store_t *zs = calloc(1, sizeof *zs);

	if (!zs)
		return TERN_ERR__NOMEM;
	zs->ops.load = zk_store_load;
	zs->ops.save = zk_store_save;
	zs->ops.close = zk_store_close;
	zs->z = z;
	pthread_mutex_lock(&z->mu);
	zs->reign = z->controller ? z->reign : 0;
	pthread_mutex_unlock(&z->mu);
	*out = &zs->ops;
	return TERN_OK;
}
