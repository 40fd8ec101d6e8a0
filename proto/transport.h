/* proto/transport.h: the nanomsg transport of Tern's requests and responses
 * (DESIGN.md decision 4): one raw REP socket per listener on the server, a
 * pool of raw REQ sockets per broker on the client, at most one request
 * outstanding per connection, deadlines on every request.
 *
 * Why the shape is what it is (measured, and read in nanomsg 1.1.5's
 * sources; docs/protocol.md "Transport" has the longer story):
 *   - a raw REP socket silently drops a reply when the connection it goes to
 *     is still sending the previous reply, and nn_sendmsg() still reports
 *     success; with one request outstanding per connection there is never a
 *     previous reply in flight, so nothing is dropped;
 *   - a cooked REQ socket re-sends unanswered requests: the client uses raw
 *     REQ sockets and writes the SP header (the request id) itself;
 *   - a message above the receiver's NN_RCVMAXSIZE breaks the connection and
 *     the receiver never sees it, so the sender refuses it first;
 *   - nanomsg never reports a disconnect: a waiting request watches the
 *     socket's NN_STAT_BROKEN_CONNECTIONS and fails early when it rises;
 *   - waiting on many connections at once is nn_poll() over their sockets
 *     (proto_conn_poll()), not a thread per connection.
 *
 * Library code: nothing here prints. Errors come back as tern_err_t, with a
 * human-readable reason in (errstr, errlen) where a caller passes one.
 *
 * Every socket of the process counts against nanomsg's limit of 512 sockets
 * (nn_socket() fails with EMFILE beyond it). nanomsg starts its worker
 * threads with the first socket: a process that forks must create its
 * sockets after the fork. */
#ifndef TERN_PROTO_TRANSPORT_H
#define TERN_PROTO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"
#include "tern/errors.h"

/* ------------------------------------------------------------------------ */
/* Options                                                                    */

typedef struct proto_transport_opts {
	/* socket.request.max.bytes: the largest request, in bytes of the Kafka
	 * request (header and body), that a server accepts and that a client
	 * sends. The server's NN_RCVMAXSIZE is this plus the 4-byte SP header;
	 * a client refuses a larger request with MESSAGE_TOO_LARGE. A client
	 * whose limit is above its server's sends requests the server cannot
	 * take: the server breaks the connection and the client sees
	 * NETWORK_EXCEPTION, so keep the client's at most the broker's. */
	size_t max_request_bytes;
	/* The largest response a client accepts (its NN_RCVMAXSIZE, plus the
	 * SP header). A larger response breaks the connection: the request
	 * fails with NETWORK_EXCEPTION. */
	size_t max_response_bytes;
	/* NN_SNDBUF / NN_RCVBUF: nanomsg passes them to SO_SNDBUF / SO_RCVBUF,
	 * which the kernel caps at net.core.wmem_max / rmem_max. */
	int sndbuf_bytes;
	int rcvbuf_bytes;
	/* NN_RECONNECT_IVL / NN_RECONNECT_IVL_MAX: a client reconnects after
	 * reconnect_backoff_ms, doubling up to reconnect_backoff_max_ms (Kafka's
	 * reconnect.backoff.ms and reconnect.backoff.max.ms). */
	int reconnect_backoff_ms;
	int reconnect_backoff_max_ms;
	/* A request that finds its connection down waits at most this long for
	 * it (socket.connection.setup.timeout.ms), then fails with
	 * NETWORK_EXCEPTION without having been sent; it fails so at once when
	 * an attempt is refused meanwhile (nanomsg's NN_STAT_CONNECT_ERRORS
	 * rose: nobody listens there). */
	int connect_timeout_ms;
	/* request.timeout.ms: the deadline of a request sent with
	 * PROTO_DEADLINE_DEFAULT. */
	int request_timeout_ms;
	/* How often a waiting request looks at its socket's broken-connection
	 * count: the longest a broken connection goes unnoticed. */
	int broken_check_ms;
} proto_transport_opts_t;

/* 100 MiB requests and responses, 4 MiB socket buffers, reconnect backoff
 * 50 ms doubling to 1 s, 10 s connect timeout, 30 s request timeout,
 * broken connections noticed within 20 ms. */
void proto_transport_opts_default(proto_transport_opts_t *o);

/* The clock of every deadline here: CLOCK_MONOTONIC in milliseconds. */
int64_t proto_now_ms(void);

/* A deadline argument that means "now + opts.request_timeout_ms". */
#define PROTO_DEADLINE_DEFAULT 0

/* Frees a message the transport handed out (a response); NULL is fine. */
void proto_msg_free(void *msg);

/* ------------------------------------------------------------------------ */
/* Server: one raw REP socket bound to a listener URL                         */

typedef struct proto_server proto_server_t;

/* One received request and the SP header (backtrace) its reply must carry.
 * Owned by the caller of proto_server_recv() until it is passed to
 * proto_server_reply() or proto_server_drop(), which free it. */
typedef struct proto_srv_msg proto_srv_msg_t;

/* Opens a server bound to url ("tcp://127.0.0.1:9700"; the host of a
 * tcp:// URL is an IP address, an interface name or "*", and port 0 is not
 * allowed: nanomsg refuses it). opts may be NULL for the defaults. On
 * success *out gets the server, owned by the caller (proto_server_close()).
 * Errors: tern_err_errno(EADDRINUSE) when the port is taken,
 * tern_err_errno(EINVAL / ENODEV) for a URL nanomsg cannot bind,
 * _INVALID_ARG for bad options, other errno values from nanomsg; errstr
 * says which URL and why. */
tern_err_t proto_server_new(const char *url, const proto_transport_opts_t *opts,
			    proto_server_t **out, char *errstr, size_t errlen);

/* Waits up to timeout_ms (-1: without end) for the next request. On
 * success *out gets it (see proto_srv_msg_t for ownership). Returns
 * _TIMED_OUT when none came in time. Messages without a valid SP header
 * are dropped here.
 * Threads: any number of threads may receive at once. */
tern_err_t proto_server_recv(proto_server_t *srv, int timeout_ms, proto_srv_msg_t **out);

/* The request bytes of msg (borrowed: valid until msg is replied to or
 * dropped) and their length. */
const uint8_t *proto_srv_msg_data(const proto_srv_msg_t *msg, size_t *len);

/* The request id of msg without its top bit: the correlation id the client
 * put in the request header, which the handler may check against it. */
int32_t proto_srv_msg_request_id(const proto_srv_msg_t *msg);

/* Sends bytes[0..len) back on the connection msg came from, with msg's SP
 * header; the bytes are copied. Always consumes msg, whatever it returns.
 * A client that has gone (or, against the one-in-flight rule, a connection
 * still sending an earlier reply) makes nanomsg drop the reply silently:
 * success does not mean delivery. Errors: MESSAGE_TOO_LARGE above what
 * one nanomsg message can carry (INT_MAX bytes), errno values from nanomsg.
 * Threads: any thread, once per request, concurrently with receives. */
tern_err_t proto_server_reply(proto_server_t *srv, proto_srv_msg_t *msg, const void *bytes,
			      size_t len);

/* proto_server_reply() of the message made of iov[0..n) in order (what
 * proto_fetch_resp_encode_iov() produces): nanomsg gathers the pieces into
 * the one copy it makes. The pieces are borrowed for the call only. */
tern_err_t proto_server_replyv(proto_server_t *srv, proto_srv_msg_t *msg, const proto_iov_t *iov,
			       size_t n);

/* Frees msg without answering (acks=0, or a request the handler cannot
 * answer). Does not touch the server: it may be called after
 * proto_server_close(). */
void proto_server_drop(proto_srv_msg_t *msg);

/* Closes the socket (every connection to it breaks) and frees srv. No
 * other call on srv may be running or start; handles not yet answered can
 * only be dropped afterwards. */
void proto_server_close(proto_server_t *srv);

/* ------------------------------------------------------------------------ */
/* Client: a pool of raw REQ sockets to one broker                           */

/* One raw REQ socket connected to one broker, with at most one request
 * outstanding. A request's SP request id is the correlation id of its
 * Kafka request header (bytes 4..7, big-endian) with the top bit set; a
 * response whose id is not the outstanding one is discarded. After a
 * request ends without its response (timeout, broken connection, connect
 * timeout) the connection's socket is closed and a new one opened: its
 * late reply can then never meet the next request, the server never holds
 * two of our requests on one connection, and a nanomsg 1.1.5 bug that
 * feeds bytes left from a broken connection into the next one cannot bite
 * (docs/protocol.md, "Transport").
 *
 * Two ways to use a connection, which may be mixed:
 *   - proto_conn_call() from any number of threads: each call holds the
 *     connection for its whole exchange and callers take turns;
 *   - proto_conn_send(), then proto_conn_poll() over many connections and
 *     proto_conn_recv(): the thread whose send succeeded holds the
 *     connection until its recv returns (the producer's I/O thread waits
 *     on all its connections at once this way).
 * Requests for one key go through one connection one at a time, so a
 * thread that issues them in order has them processed in order. */
typedef struct proto_conn proto_conn_t;

/* A fixed set of connections to one broker (max.in.flight.requests.per.
 * connection of them), created together and closed together. */
typedef struct proto_pool proto_pool_t;

/* Opens nconns (>= 1) sockets connected to url; connections are made in
 * the background and remade after a break, with the configured backoff.
 * opts may be NULL for the defaults. On success *out gets the pool, owned
 * by the caller (proto_pool_close()). Errors: _INVALID_ARG (nconns, opts),
 * errno values from nanomsg (a malformed URL is EINVAL; an unknown host is
 * not an error here, it only never connects); errstr says why. */
tern_err_t proto_pool_new(const char *url, size_t nconns, const proto_transport_opts_t *opts,
			  proto_pool_t **out, char *errstr, size_t errlen);

/* The number of connections of pool. Threads: any. */
size_t proto_pool_size(const proto_pool_t *pool);

/* The index of key's connection (a partition, say): a pure function of key
 * and the pool's size, so the same for the life of the pool and in every
 * pool of that size. Threads: any. */
size_t proto_pool_index(const proto_pool_t *pool, uint64_t key);

/* The connection for key: proto_pool_conn(pool, proto_pool_index(pool,
 * key)). Borrowed: valid until proto_pool_close(). Threads: any. */
proto_conn_t *proto_pool_get(proto_pool_t *pool, uint64_t key);

/* The i-th connection (i < proto_pool_size()). Borrowed. Threads: any. */
proto_conn_t *proto_pool_conn(proto_pool_t *pool, size_t i);

/* Closes every socket and frees pool. No call on it or on its connections
 * may be running or start; an outstanding request is abandoned. */
void proto_pool_close(proto_pool_t *pool);

/* Sends req[0..len) and waits for its response, all by deadline_ms
 * (proto_now_ms() clock; PROTO_DEADLINE_DEFAULT for the pool's request
 * timeout). On success *resp gets the response (owned by the caller: free
 * it with proto_msg_free()) and *resp_len its length.
 * Errors:
 *   - MESSAGE_TOO_LARGE: len above max_request_bytes, nothing sent;
 *   - _INVALID_ARG: len < 8, too short for a request header;
 *   - REQUEST_TIMED_OUT: the deadline passed (waiting for the connection to
 *     be free, for a connection, or for the response: it may or may not
 *     have been sent; proto_conn_send() tells the two apart);
 *   - NETWORK_EXCEPTION: no connection within connect_timeout_ms, or a
 *     connection attempt refused while waiting for one (not sent, in both
 *     cases), or the connection broke with the request outstanding (it may
 *     have been processed), or the response was above max_response_bytes;
 *   - errno values from nanomsg.
 * Threads: any; callers of one connection take turns. */
tern_err_t proto_conn_call(proto_conn_t *conn, const void *req, size_t len, int64_t deadline_ms,
			   uint8_t **resp, size_t *resp_len);

/* Sends req[0..len) (copied) with deadline_ms as proto_conn_call(). On
 * success the request is outstanding and the calling thread holds conn
 * until proto_conn_recv() returns its outcome. Errors as
 * proto_conn_call()'s, except that on every error here nothing was sent,
 * and _STATE: conn is held by another request (nothing waits for it).
 * Threads: any. */
tern_err_t proto_conn_send(proto_conn_t *conn, const void *req, size_t len, int64_t deadline_ms);

/* Waits for the outcome of conn's outstanding request: its response (as
 * proto_conn_call()), or REQUEST_TIMED_OUT at its deadline, or
 * NETWORK_EXCEPTION when the connection broke or the response was too
 * large. Either way the request is over and conn is free again. Returns
 * _STATE when conn has no outstanding request.
 * Threads: the holder only (the thread whose proto_conn_send() succeeded,
 * or one it handed the connection to). */
tern_err_t proto_conn_recv(proto_conn_t *conn, uint8_t **resp, size_t *resp_len);

/* Waits until at least one of conns[0..n) has an outcome ready (a
 * response, a broken connection or a passed deadline: proto_conn_recv()
 * will not block), or until until_ms. ready[i] (n entries) tells which;
 * *nready gets how many (0 when until_ms came first). Errors: _STATE when
 * one of conns has no outstanding request, _INVALID_ARG for n above
 * INT_MAX, _NOMEM, errno values from nanomsg.
 * Threads: the holder of every connection in conns (each one sent on and
 * not yet received). */
tern_err_t proto_conn_poll(proto_conn_t *const *conns, size_t n, int64_t until_ms, bool *ready,
			   size_t *nready);

#endif
