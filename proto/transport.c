/* The nanomsg transport (see transport.h): a raw REP socket per server, and
 * pools of raw REQ sockets with at most one request outstanding each. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/tcp.h>

#include "common/clock.h"
#include "proto/transport.h"

/* What a raw REQ socket must put in the SP header itself: one 32-bit
 * request id, big-endian, whose top bit marks the bottom of the backtrace
 * stack. */
#define SP_ID_BYTES  4
#define SP_ID_BOTTOM 0x80000000u

/* The longest backtrace a server keeps. nanomsg's raw REP accepts at most
 * NN_MAXTTL (8) hops and puts its 4-byte pipe key in front: 36 bytes. */
#define SP_HDR_MAX 64

/* The smallest request: a Kafka request header up to its correlation id. */
#define REQ_MIN_BYTES 8

/* A control buffer holding one SP_HDR cmsg: the cmsg header, a size_t
 * length, then the header bytes. nn_recvmsg() writes it first in the
 * buffer, and writes nothing at all when it does not fit. */
typedef union sp_ctl {
	struct nn_cmsghdr align;
	uint8_t bytes[NN_CMSG_SPACE(sizeof(size_t) + SP_HDR_MAX)];
} sp_ctl_t;

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Fills c with an SP_HDR cmsg carrying hdr[0..len) (len <= SP_HDR_MAX) and
 * returns the msg_controllen to send it with. */
static size_t sp_ctl_put(sp_ctl_t *c, const uint8_t *hdr, size_t len)
{
	struct nn_cmsghdr *h = &c->align;

	memset(c, 0, sizeof *c);
	h->cmsg_len = NN_CMSG_LEN(sizeof(size_t) + len);
	h->cmsg_level = PROTO_SP;
	h->cmsg_type = SP_HDR;
	memcpy(NN_CMSG_DATA(h), &len, sizeof len);
	memcpy(NN_CMSG_DATA(h) + sizeof len, hdr, len);
	return NN_CMSG_SPACE(sizeof(size_t) + len);
}

/* Reads the SP header out of a control buffer that was zeroed before
 * nn_recvmsg() filled it: false when there is none or it is malformed. Only
 * the first cmsg is looked at (nanomsg puts SP_HDR there; walking further
 * with NN_CMSG_NXTHDR over a zero cmsg_len would never end). */
static bool sp_ctl_get(const sp_ctl_t *c, uint8_t hdr[SP_HDR_MAX], size_t *len)
{
	const struct nn_cmsghdr *h = &c->align;
	size_t n;

	if (h->cmsg_level != PROTO_SP || h->cmsg_type != SP_HDR ||
	    h->cmsg_len < NN_CMSG_LEN(sizeof(size_t)) || h->cmsg_len > sizeof *c)
		return false;
	memcpy(&n, NN_CMSG_DATA(h), sizeof n);
	if (n > SP_HDR_MAX || h->cmsg_len < NN_CMSG_LEN(sizeof(size_t) + n))
		return false;
	memcpy(hdr, NN_CMSG_DATA(h) + sizeof n, n);
	*len = n;
	return true;
}

/* Writes "what: nanomsg's text for e" to errstr and returns e as an error. */
static tern_err_t nn_fail(int e, char *errstr, size_t errlen, const char *what)
{
	if (errstr && errlen)
		snprintf(errstr, errlen, "%s: %s", what, nn_strerror(e));
	return tern_err_errno(e);
}

static tern_err_t opts_fail(char *errstr, size_t errlen, const char *what)
{
	if (errstr && errlen)
		snprintf(errstr, errlen, "invalid transport option: %s", what);
	return TERN_ERR__INVALID_ARG;
}

/* ------------------------------------------------------------------------ */
/* Options and time                                                           */

void proto_transport_opts_default(proto_transport_opts_t *o)
{
	o->max_request_bytes = 100u << 20;
	o->max_response_bytes = 100u << 20;
	o->sndbuf_bytes = 4 << 20;
	o->rcvbuf_bytes = 4 << 20;
	o->reconnect_backoff_ms = 50;
	o->reconnect_backoff_max_ms = 1000;
	o->connect_timeout_ms = 10000;
	o->request_timeout_ms = 30000;
	o->broken_check_ms = 20;
}

/* Copies opts (or the defaults when NULL) into o and checks them. */
static tern_err_t opts_take(proto_transport_opts_t *o, const proto_transport_opts_t *opts,
			    char *errstr, size_t errlen)
{
	const size_t max_msg = (size_t)INT_MAX - SP_HDR_MAX;

	if (opts)
		*o = *opts;
	else
		proto_transport_opts_default(o);
	if (o->max_request_bytes < REQ_MIN_BYTES || o->max_request_bytes > max_msg)
		return opts_fail(errstr, errlen, "max_request_bytes out of [8, INT_MAX - 64]");
	if (o->max_response_bytes > max_msg)
		return opts_fail(errstr, errlen, "max_response_bytes above INT_MAX - 64");
	if (o->sndbuf_bytes <= 0 || o->rcvbuf_bytes <= 0)
		return opts_fail(errstr, errlen, "socket buffers must be positive");
	if (o->reconnect_backoff_ms <= 0 || o->reconnect_backoff_max_ms < 0)
		return opts_fail(errstr, errlen, "reconnect backoff must be positive");
	if (o->connect_timeout_ms <= 0 || o->request_timeout_ms <= 0 || o->broken_check_ms <= 0)
		return opts_fail(errstr, errlen, "timeouts must be positive");
	return TERN_OK;
}

int64_t proto_now_ms(void)
{
	return tern_mono_ms();
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Milliseconds from now to until, as an nn_poll() timeout. */
static int poll_timeout(int64_t now, int64_t until)
{
	if (until <= now)
		return 0;
	return until - now > INT_MAX ? INT_MAX : (int)(until - now);
}

/* Waits until s may be ready for events or until until_ms (-1: without
 * end). Returns 0 (look again), _TIMED_OUT once until_ms has passed, or
 * the error of nn_poll(). */
static tern_err_t sock_wait(int s, short events, int64_t until_ms)
{
	struct nn_pollfd pfd = {.fd = s, .events = events};
	int64_t now = proto_now_ms();
	int timeout = -1;

	if (until_ms >= 0) {
		if (now >= until_ms)
			return TERN_ERR__TIMED_OUT;
		timeout = poll_timeout(now, until_ms);
	}
	if (nn_poll(&pfd, 1, timeout) < 0 && errno != EINTR)
		return tern_err_errno(errno);
	return TERN_OK;
}

void proto_msg_free(void *msg)
{
	if (msg)
		nn_freemsg(msg);
}

/* The options every socket gets: socket buffers, the largest message it
 * takes in (payload plus the one request id of a direct peer's SP header:
 * nanomsg counts the header against NN_RCVMAXSIZE), and TCP_NODELAY. NN_TCP_NODELAY is a
 * transport option that nanomsg copies onto each TCP connection when it is
 * made, so it must be set before nn_bind()/nn_connect(); raw sockets take
 * it like cooked ones. */
static tern_err_t sock_setup(int s, const proto_transport_opts_t *o, size_t max_payload,
			     char *errstr, size_t errlen)
{
	int rcvmax = (int)(max_payload + SP_ID_BYTES);
	int one = 1;

	if (nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDBUF, &o->sndbuf_bytes, sizeof(int)) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVBUF, &o->rcvbuf_bytes, sizeof(int)) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &rcvmax, sizeof rcvmax) < 0 ||
	    nn_setsockopt(s, NN_TCP, NN_TCP_NODELAY, &one, sizeof one) < 0)
		return nn_fail(errno, errstr, errlen, "nn_setsockopt");
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Server                                                                     */

struct proto_server {
	int sock; /* the raw REP socket, owned */
};

struct proto_srv_msg {
	void *body; /* the request: a nanomsg message, owned */
	size_t len;
	/* The backtrace: nanomsg's pipe key, any hops, then the request id
	 * (top bit set). hdr_len >= 8 and a multiple of 4. */
	size_t hdr_len;
	uint8_t hdr[SP_HDR_MAX];
};

tern_err_t proto_server_new(const char *url, const proto_transport_opts_t *opts,
			    proto_server_t **out, char *errstr, size_t errlen)
{
	proto_transport_opts_t o;
	proto_server_t *srv = NULL;
	tern_err_t err;
	int s;

	err = opts_take(&o, opts, errstr, errlen);
	if (err)
		return err;
	s = nn_socket(AF_SP_RAW, NN_REP);
	if (s < 0)
		return nn_fail(errno, errstr, errlen, "nn_socket(AF_SP_RAW, NN_REP)");
	err = sock_setup(s, &o, o.max_request_bytes, errstr, errlen);
	if (err)
		goto fail;
	if (nn_bind(s, url) < 0) {
		int e = errno;

		if (errstr && errlen)
			snprintf(errstr, errlen, "cannot listen on %s: %s", url, nn_strerror(e));
		err = tern_err_errno(e);
		goto fail;
	}
	srv = malloc(sizeof *srv);
	if (!srv) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	srv->sock = s;
	*out = srv;
	return TERN_OK;
fail:
	nn_close(s);
	return err;
}

tern_err_t proto_server_recv(proto_server_t *srv, int timeout_ms, proto_srv_msg_t **out)
{
	int64_t until = timeout_ms < 0 ? -1 : proto_now_ms() + timeout_ms;

	for (;;) {
		void *body = NULL;
		struct nn_iovec iov = {.iov_base = &body, .iov_len = NN_MSG};
		sp_ctl_t ctl;
		struct nn_msghdr mh = {.msg_iov = &iov,
				       .msg_iovlen = 1,
				       .msg_control = &ctl,
				       .msg_controllen = sizeof ctl};
		proto_srv_msg_t *m;
		tern_err_t err;
		int rc;

		memset(&ctl, 0, sizeof ctl);
		rc = nn_recvmsg(srv->sock, &mh, NN_DONTWAIT);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return tern_err_errno(errno);
			err = sock_wait(srv->sock, NN_POLLIN, until);
			if (err)
				return err;
			continue;
		}
		m = malloc(sizeof *m);
		if (!m) {
			nn_freemsg(body);
			return TERN_ERR__NOMEM;
		}
		if (!sp_ctl_get(&ctl, m->hdr, &m->hdr_len) || m->hdr_len < 2 * SP_ID_BYTES ||
		    m->hdr_len % SP_ID_BYTES != 0) {
			/* Nothing to answer it with: nanomsg's raw REP always
			 * hands one out, so this is not a request of ours. */
			free(m);
			nn_freemsg(body);
			continue;
		}
		m->body = body;
		m->len = (size_t)rc;
		*out = m;
		return TERN_OK;
	}
}

const uint8_t *proto_srv_msg_data(const proto_srv_msg_t *msg, size_t *len)
{
	*len = msg->len;
	return msg->body;
}

int32_t proto_srv_msg_request_id(const proto_srv_msg_t *msg)
{
	return (int32_t)(get_be32(msg->hdr + msg->hdr_len - SP_ID_BYTES) & ~SP_ID_BOTTOM);
}

void proto_server_drop(proto_srv_msg_t *msg)
{
	if (!msg)
		return;
	nn_freemsg(msg->body);
	free(msg);
}

/* Pieces of a reply that fit on the stack; longer lists are allocated. */
#define REPLY_IOV_STACK 16

tern_err_t proto_server_replyv(proto_server_t *srv, proto_srv_msg_t *msg, const proto_iov_t *iov,
			       size_t n)
{
	struct nn_iovec stack[REPLY_IOV_STACK], *niov = stack;
	sp_ctl_t ctl;
	struct nn_msghdr mh = {.msg_control = &ctl};
	size_t total = 0;
	tern_err_t err = TERN_OK;

	for (size_t i = 0; i < n; i++) {
		if (iov[i].len > (size_t)INT_MAX - SP_HDR_MAX - total) {
			err = TERN_ERR_MESSAGE_TOO_LARGE;
			goto out;
		}
		total += iov[i].len;
	}
	if (n > REPLY_IOV_STACK) {
		if (n > INT_MAX) {
			err = TERN_ERR_MESSAGE_TOO_LARGE;
			goto out;
		}
		niov = malloc(n * sizeof *niov);
		if (!niov) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		niov[i].iov_base = (void *)iov[i].base;
		niov[i].iov_len = iov[i].len;
	}
	mh.msg_iov = niov;
	mh.msg_iovlen = (int)n;
	mh.msg_controllen = sp_ctl_put(&ctl, msg->hdr, msg->hdr_len);
	/* A raw REP socket never blocks a send: it drops what it cannot send. */
	while (nn_sendmsg(srv->sock, &mh, NN_DONTWAIT) < 0) {
		if (errno != EINTR) {
			err = tern_err_errno(errno);
			break;
		}
	}
	if (niov != stack)
		free(niov);
out:
	proto_server_drop(msg);
	return err;
}

tern_err_t proto_server_reply(proto_server_t *srv, proto_srv_msg_t *msg, const void *bytes,
			      size_t len)
{
	proto_iov_t one = {.base = bytes, .len = len};

	return proto_server_replyv(srv, msg, &one, 1);
}

void proto_server_close(proto_server_t *srv)
{
	if (!srv)
		return;
	nn_close(srv->sock);
	free(srv);
}

/* ------------------------------------------------------------------------ */
/* Client connections                                                        */

typedef enum conn_state {
	CONN_IDLE,    /* no request */
	CONN_WAITING, /* a request is outstanding */
	CONN_DONE,    /* its outcome is in result (and resp) */
} conn_state_t;

/* Invariants: st == CONN_IDLE whenever !held; sock >= 0 in CONN_WAITING;
 * resp != NULL only in CONN_DONE with result 0. Whoever set held (a call,
 * or a successful send) is the holder and alone touches the fields below
 * it until it clears it. */
struct proto_conn {
	proto_pool_t *pool; /* the pool it belongs to (borrowed) */
	pthread_mutex_t mu;
	pthread_cond_t freed; /* signalled when held is cleared */
	bool held;	      /* under mu */

	int sock; /* the raw REQ socket, owned; -1 when it must be opened again */
	conn_state_t st;
	uint32_t req_id;      /* SP request id of the outstanding request */
	int64_t deadline;     /* proto_now_ms() clock */
	uint64_t broken_base; /* NN_STAT_BROKEN_CONNECTIONS when it was sent */
	tern_err_t result;
	uint8_t *resp; /* nanomsg message, owned */
	size_t resp_len;
};

struct proto_pool {
	char *url; /* owned */
	proto_transport_opts_t opts;
	size_t n;
	proto_conn_t conns[]; /* n of them */
};

/* Takes conn for one request: waits until deadline_ms when wait is set
 * (REQUEST_TIMED_OUT when it stays held), else returns _STATE at once.
 * Locks: takes mu. */
static tern_err_t conn_acquire(proto_conn_t *c, bool wait, int64_t deadline_ms)
{
	struct timespec ts = {.tv_sec = deadline_ms / 1000,
			      .tv_nsec = (long)(deadline_ms % 1000) * 1000000};
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&c->mu);
	while (c->held) {
		if (!wait) {
			err = TERN_ERR__STATE;
			break;
		}
		if (pthread_cond_timedwait(&c->freed, &c->mu, &ts) == ETIMEDOUT && c->held) {
			err = TERN_ERR_REQUEST_TIMED_OUT;
			break;
		}
	}
	if (!err)
		c->held = true;
	pthread_mutex_unlock(&c->mu);
	return err;
}

/* Gives conn up. Locks: takes mu. */
static void conn_release(proto_conn_t *c)
{
	c->st = CONN_IDLE;
	pthread_mutex_lock(&c->mu);
	c->held = false;
	pthread_cond_signal(&c->freed);
	pthread_mutex_unlock(&c->mu);
}

static void conn_finish(proto_conn_t *c, tern_err_t result, void *resp, size_t len)
{
	c->st = CONN_DONE;
	c->result = result;
	c->resp = resp;
	c->resp_len = len;
}

/* Hands the outcome to the caller and releases conn. */
static tern_err_t conn_deliver(proto_conn_t *c, uint8_t **resp, size_t *resp_len)
{
	tern_err_t err = c->result;

	if (!err) {
		*resp = c->resp;
		*resp_len = c->resp_len;
	}
	c->resp = NULL;
	conn_release(c);
	return err;
}

/* Opens a raw REQ socket with p's options, connecting to p's URL in the
 * background; on success *out gets it. */
static tern_err_t req_socket_open(const proto_pool_t *p, int *out, char *errstr, size_t errlen)
{
	const proto_transport_opts_t *o = &p->opts;
	tern_err_t err;
	int s;

	s = nn_socket(AF_SP_RAW, NN_REQ);
	if (s < 0)
		return nn_fail(errno, errstr, errlen, "nn_socket(AF_SP_RAW, NN_REQ)");
	err = sock_setup(s, o, o->max_response_bytes, errstr, errlen);
	if (err)
		goto fail;
	if (nn_setsockopt(s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &o->reconnect_backoff_ms,
			  sizeof(int)) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &o->reconnect_backoff_max_ms,
			  sizeof(int)) < 0) {
		err = nn_fail(errno, errstr, errlen, "nn_setsockopt");
		goto fail;
	}
	if (nn_connect(s, p->url) < 0) {
		int e = errno;

		if (errstr && errlen)
			snprintf(errstr, errlen, "cannot connect to %s: %s", p->url,
				 nn_strerror(e));
		err = tern_err_errno(e);
		goto fail;
	}
	*out = s;
	return TERN_OK;
fail:
	nn_close(s);
	return err;
}

/* Replaces a held connection's socket by a new one after a request ended
 * without its response. Two reasons:
 *   - the server forgets the old connection, so a late reply dies there
 *     and can never meet our next request, and the server never holds two
 *     of our requests on one connection;
 *   - nanomsg 1.1.5 keeps a connecting socket's read-ahead buffer (2 KiB)
 *     across reconnections: bytes left unread when a connection broke (the
 *     rest of a message above NN_RCVMAXSIZE) are taken for the start of
 *     the next connection, which then breaks too, reconnection after
 *     reconnection. A new socket has a new buffer.
 * When the new socket cannot be made the next send tries again and says
 * why. */
static void conn_replace(proto_conn_t *c)
{
	if (c->sock >= 0)
		nn_close(c->sock);
	c->sock = -1;
	req_socket_open(c->pool, &c->sock, NULL, 0);
}

static tern_err_t check_request(const proto_pool_t *p, size_t len)
{
	if (len > p->opts.max_request_bytes)
		return TERN_ERR_MESSAGE_TOO_LARGE;
	if (len < REQ_MIN_BYTES)
		return TERN_ERR__INVALID_ARG;
	return TERN_OK;
}

static int64_t resolve_deadline(const proto_pool_t *p, int64_t deadline_ms)
{
	if (deadline_ms == PROTO_DEADLINE_DEFAULT)
		return proto_now_ms() + p->opts.request_timeout_ms;
	return deadline_ms;
}

/* Sends one checked request on a held, idle connection. A raw REQ socket
 * cannot send while it has no connection or while its connection is still
 * writing an earlier message; it then waits, for the connection no longer
 * than connect_timeout_ms. Nothing is sent when this fails. */
static tern_err_t conn_send_held(proto_conn_t *c, const void *req, size_t len, int64_t deadline)
{
	const proto_transport_opts_t *o = &c->pool->opts;
	uint32_t id = get_be32((const uint8_t *)req + 4) | SP_ID_BOTTOM;
	uint8_t hdr[SP_ID_BYTES];
	struct nn_iovec iov = {.iov_base = (void *)req, .iov_len = len};
	sp_ctl_t ctl;
	struct nn_msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl};
	int64_t start = proto_now_ms();
	uint64_t refused;

	if (start >= deadline)
		return TERN_ERR_REQUEST_TIMED_OUT;
	if (c->sock < 0) {
		tern_err_t err = req_socket_open(c->pool, &c->sock, NULL, 0);

		if (err)
			return err;
	}
	refused = nn_get_statistic(c->sock, NN_STAT_CONNECT_ERRORS);
	put_be32(hdr, id);
	mh.msg_controllen = sp_ctl_put(&ctl, hdr, sizeof hdr);
	for (;;) {
		uint64_t base = nn_get_statistic(c->sock, NN_STAT_BROKEN_CONNECTIONS);
		int64_t now, until;
		tern_err_t err;

		if (nn_sendmsg(c->sock, &mh, NN_DONTWAIT) >= 0) {
			c->st = CONN_WAITING;
			c->req_id = id;
			c->deadline = deadline;
			c->broken_base = base;
			return TERN_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return tern_err_errno(errno);
		now = proto_now_ms();
		if (now >= deadline)
			return TERN_ERR_REQUEST_TIMED_OUT;
		until = deadline;
		if (nn_get_statistic(c->sock, NN_STAT_CURRENT_CONNECTIONS) == 0) {
			/* A connection attempt failed since the send began (the
			 * peer refused it: nobody listens there, a dead broker):
			 * say so now rather than wait out the timeout, as a
			 * socket client would see ECONNREFUSED. */
			if (nn_get_statistic(c->sock, NN_STAT_CONNECT_ERRORS) != refused)
				return TERN_ERR_NETWORK_EXCEPTION;
			if (now - start >= o->connect_timeout_ms) {
				conn_replace(c);
				return TERN_ERR_NETWORK_EXCEPTION;
			}
			until = min64(until, start + o->connect_timeout_ms);
		}
		err = sock_wait(c->sock, NN_POLLOUT, min64(until, now + o->broken_check_ms));
		if (err && err != TERN_ERR__TIMED_OUT)
			return err;
	}
}

/* Moves a held connection's request toward its outcome without blocking:
 * takes its response if one came (discarding replies to earlier requests),
 * else fails it when the connection broke or the deadline passed. Returns
 * whether the outcome is ready (st == CONN_DONE). */
static bool conn_step(proto_conn_t *c)
{
	if (c->st == CONN_DONE)
		return true;
	for (;;) {
		void *body = NULL;
		struct nn_iovec iov = {.iov_base = &body, .iov_len = NN_MSG};
		sp_ctl_t ctl;
		struct nn_msghdr mh = {.msg_iov = &iov,
				       .msg_iovlen = 1,
				       .msg_control = &ctl,
				       .msg_controllen = sizeof ctl};
		uint8_t hdr[SP_HDR_MAX];
		size_t hlen;
		int rc;

		memset(&ctl, 0, sizeof ctl);
		rc = nn_recvmsg(c->sock, &mh, NN_DONTWAIT);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_finish(c, tern_err_errno(errno), NULL, 0);
			return true;
		}
		if (sp_ctl_get(&ctl, hdr, &hlen) && hlen == SP_ID_BYTES &&
		    get_be32(hdr) == c->req_id) {
			conn_finish(c, TERN_OK, body, (size_t)rc);
			return true;
		}
		nn_freemsg(body);
	}
	if (nn_get_statistic(c->sock, NN_STAT_BROKEN_CONNECTIONS) != c->broken_base) {
		conn_replace(c);
		conn_finish(c, TERN_ERR_NETWORK_EXCEPTION, NULL, 0);
		return true;
	}
	if (proto_now_ms() >= c->deadline) {
		conn_replace(c);
		conn_finish(c, TERN_ERR_REQUEST_TIMED_OUT, NULL, 0);
		return true;
	}
	return false;
}

/* Waits for the outcome of a held connection's request and delivers it. */
static tern_err_t conn_recv_held(proto_conn_t *c, uint8_t **resp, size_t *resp_len)
{
	while (!conn_step(c)) {
		int64_t until = min64(c->deadline, proto_now_ms() + c->pool->opts.broken_check_ms);
		tern_err_t err = sock_wait(c->sock, NN_POLLIN, until);

		if (err && err != TERN_ERR__TIMED_OUT)
			conn_finish(c, err, NULL, 0);
	}
	return conn_deliver(c, resp, resp_len);
}

tern_err_t proto_conn_call(proto_conn_t *conn, const void *req, size_t len, int64_t deadline_ms,
			   uint8_t **resp, size_t *resp_len)
{
	int64_t deadline = resolve_deadline(conn->pool, deadline_ms);
	tern_err_t err;

	err = check_request(conn->pool, len);
	if (err)
		return err;
	err = conn_acquire(conn, true, deadline);
	if (err)
		return err;
	err = conn_send_held(conn, req, len, deadline);
	if (err) {
		conn_release(conn);
		return err;
	}
	return conn_recv_held(conn, resp, resp_len);
}

tern_err_t proto_conn_send(proto_conn_t *conn, const void *req, size_t len, int64_t deadline_ms)
{
	int64_t deadline = resolve_deadline(conn->pool, deadline_ms);
	tern_err_t err;

	err = check_request(conn->pool, len);
	if (err)
		return err;
	err = conn_acquire(conn, false, deadline);
	if (err)
		return err;
	err = conn_send_held(conn, req, len, deadline);
	if (err)
		conn_release(conn);
	return err;
}

tern_err_t proto_conn_recv(proto_conn_t *conn, uint8_t **resp, size_t *resp_len)
{
	if (conn->st == CONN_IDLE)
		return TERN_ERR__STATE;
	return conn_recv_held(conn, resp, resp_len);
}

tern_err_t proto_conn_poll(proto_conn_t *const *conns, size_t n, int64_t until_ms, bool *ready,
			   size_t *nready)
{
	struct nn_pollfd *pfd;
	tern_err_t err = TERN_OK;

	for (size_t i = 0; i < n; i++)
		if (conns[i]->st == CONN_IDLE)
			return TERN_ERR__STATE;
	if (n > INT_MAX)
		return TERN_ERR__INVALID_ARG;
	pfd = calloc(n ? n : 1, sizeof *pfd);
	if (!pfd)
		return TERN_ERR__NOMEM;
	for (;;) {
		int64_t now = proto_now_ms(), wake = until_ms;
		size_t count = 0;
		int k = 0;

		for (size_t i = 0; i < n; i++) {
			ready[i] = conn_step(conns[i]);
			if (ready[i]) {
				count++;
				continue;
			}
			pfd[k].fd = conns[i]->sock;
			pfd[k].events = NN_POLLIN;
			k++;
			wake = min64(wake, conns[i]->deadline);
			wake = min64(wake, now + conns[i]->pool->opts.broken_check_ms);
		}
		if (count || now >= until_ms) {
			*nready = count;
			break;
		}
		if (nn_poll(pfd, k, poll_timeout(now, wake)) < 0 && errno != EINTR) {
			err = tern_err_errno(errno);
			break;
		}
	}
	free(pfd);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Pools                                                                      */

static void conn_close(proto_conn_t *c)
{
	if (c->sock >= 0)
		nn_close(c->sock);
	proto_msg_free(c->resp);
	pthread_cond_destroy(&c->freed);
	pthread_mutex_destroy(&c->mu);
}

static tern_err_t conn_open(proto_conn_t *c, proto_pool_t *p, char *errstr, size_t errlen)
{
	pthread_condattr_t ca;
	tern_err_t err;
	int s;

	err = req_socket_open(p, &s, errstr, errlen);
	if (err)
		return err;
	if (pthread_condattr_init(&ca) != 0) {
		nn_close(s);
		return TERN_ERR__NOMEM;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&c->freed, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		nn_close(s);
		return TERN_ERR__NOMEM;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&c->mu, NULL);
	c->pool = p;
	c->sock = s;
	c->held = false;
	c->st = CONN_IDLE;
	c->resp = NULL;
	return TERN_OK;
}

tern_err_t proto_pool_new(const char *url, size_t nconns, const proto_transport_opts_t *opts,
			  proto_pool_t **out, char *errstr, size_t errlen)
{
	proto_pool_t *p;
	tern_err_t err;
	size_t i;

	if (nconns == 0 || nconns > 512) {
		if (errstr && errlen)
			snprintf(errstr, errlen, "a pool needs 1 to 512 connections, not %zu",
				 nconns);
		return TERN_ERR__INVALID_ARG;
	}
	p = calloc(1, sizeof *p + nconns * sizeof p->conns[0]);
	if (!p)
		return TERN_ERR__NOMEM;
	err = opts_take(&p->opts, opts, errstr, errlen);
	if (err)
		goto fail;
	p->url = strdup(url);
	if (!p->url) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	for (i = 0; i < nconns; i++) {
		err = conn_open(&p->conns[i], p, errstr, errlen);
		if (err)
			goto fail;
		p->n = i + 1;
	}
	*out = p;
	return TERN_OK;
fail:
	proto_pool_close(p);
	return err;
}

size_t proto_pool_size(const proto_pool_t *pool)
{
	return pool->n;
}

size_t proto_pool_index(const proto_pool_t *pool, uint64_t key)
{
	/* splitmix64's finaliser, so that keys differing in high bits only
	 * (hashes of topic names beside partition numbers) still spread. */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return (size_t)(key % pool->n);
}

proto_conn_t *proto_pool_get(proto_pool_t *pool, uint64_t key)
{
	return &pool->conns[proto_pool_index(pool, key)];
}

proto_conn_t *proto_pool_conn(proto_pool_t *pool, size_t i)
{
	return &pool->conns[i];
}

void proto_pool_close(proto_pool_t *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < pool->n; i++)
		conn_close(&pool->conns[i]);
	free(pool->url);
	free(pool);
}
