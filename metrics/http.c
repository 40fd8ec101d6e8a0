/* The metrics endpoint: a libmicrohttpd daemon with its own polling thread
 * that renders the registry for GET /metrics. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "metrics/metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Few and short connections: a scraper or two and a curl now and then. */
#define CONNECTION_LIMIT     32
#define CONNECTION_TIMEOUT_S 10

/* The reg pointer is borrowed; d owns the listening socket and the thread. */
struct metrics_http {
	struct MHD_Daemon *d;
	metrics_registry_t *reg;
	uint16_t port;
	/* libmicrohttpd's last message while starting (it reports why a bind
	 * failed only through its logger); ignored once started. */
	atomic_bool started;
	char why[256];
};

/* libmicrohttpd's logger: keeps the message of a failed start, drops the
 * rest (library code never prints). Called on the starting thread, later on
 * the daemon's. */
static void http_log(void *cls, const char *fmt, va_list ap)
{
	metrics_http_t *s = cls;
	size_t n;

	if (atomic_load(&s->started))
		return;
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	n = strlen(s->why);
	while (n > 0 && (s->why[n - 1] == '\n' || s->why[n - 1] == '.'))
		s->why[--n] = '\0';
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, void *body, size_t len,
			     enum MHD_ResponseMemoryMode mode, const char *ctype, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
	    (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text,
				  const char *allow)
{
	return reply(c, status, (void *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8", allow);
}

/* The access handler, on the daemon's thread. It answers on its first call
 * for a request: a scrape has no body, and any body sent is not read. */
static enum MHD_Result http_handle(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	metrics_http_t *s = cls;
	metrics_buf_t b = METRICS_BUF_INIT;

	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "Not found: try /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed\n",
				  "GET, HEAD");
	if (metrics_render(s->reg, &b) != TERN_OK) {
		metrics_buf_free(&b);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n", NULL);
	}
	/* The response frees b.data with free(). */
	return reply(c, MHD_HTTP_OK, b.data, b.len, MHD_RESPMEM_MUST_FREE, CONTENT_TYPE, NULL);
}

/* Splits "[http://]HOST:PORT" into host (brackets of an IPv6 address
 * dropped; NULL for a wildcard) and port. */
static tern_err_t parse_addr(const char *addr, char *host, size_t hostlen, char *port,
			     size_t portlen, bool *wildcard, char *errstr, size_t errlen)
{
	const char *colon, *h, *hend, *p;
	size_t n;

	if (!addr)
		goto bad;
	if (!strncmp(addr, "http://", 7))
		addr += 7;
	colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1] || strlen(colon + 1) > 5)
		goto bad;
	for (p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			goto bad;
	if (atoi(colon + 1) > 65535)
		goto bad;
	h = addr;
	hend = colon;
	if (*h == '[') {
		if (hend[-1] != ']' || hend - h < 3)
			goto bad;
		h++;
		hend--;
	}
	n = (size_t)(hend - h);
	if (n + 1 > hostlen || memchr(h, '/', n) || memchr(h, '[', n) || memchr(h, ']', n))
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	*wildcard = !strcmp(host, "*");
	return TERN_OK;
bad:
	if (errstr && errlen)
		snprintf(errstr, errlen, "metrics address '%s': expected [http://]HOST:PORT",
			 addr ? addr : "(null)");
	return TERN_ERR__INVALID_ARG;
}

tern_err_t metrics_http_start(metrics_registry_t *r, const char *addr, metrics_http_t **out,
			      char *errstr, size_t errlen)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char host[256], port[8];
	const union MHD_DaemonInfo *info;
	metrics_http_t *s = NULL;
	unsigned int flags;
	bool wildcard;
	tern_err_t err;
	int rc;

	err = parse_addr(addr, host, sizeof host, port, sizeof port, &wildcard, errstr, errlen);
	if (err)
		goto fail;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(wildcard ? NULL : host, port, &hints, &ai);
	if (wildcard && rc == 0) {
		/* "*" means every IPv4 interface, like 0.0.0.0. */
		freeaddrinfo(ai);
		ai = NULL;
		hints.ai_family = AF_INET;
		rc = getaddrinfo(NULL, port, &hints, &ai);
	}
	if (rc != 0) {
		if (errstr && errlen)
			snprintf(errstr, errlen, "metrics address '%s': %s", addr,
				 gai_strerror(rc));
		err = TERN_ERR__INVALID_ARG;
		goto fail;
	}

	s = calloc(1, sizeof *s);
	if (!s) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	s->reg = r;
	/* MHD_USE_AUTO picks epoll (else poll): the default select() fails
	 * once the socket's descriptor passes FD_SETSIZE, as it soon does in
	 * a broker with thousands of segment files open. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger must come first to hear about every failure. */
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, http_handle, s, MHD_OPTION_EXTERNAL_LOGGER,
				http_log, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
				MHD_OPTION_END);
	if (!s->d) {
		int e = errno;

		if (errstr && errlen)
			snprintf(errstr, errlen, "metrics endpoint on %s: %s", addr,
				 s->why[0] ? s->why : "libmicrohttpd could not start");
		/* libmicrohttpd reports why only as text; errno usually still
		 * holds the bind's error, and the text names it otherwise. */
		if (e != EADDRINUSE && e != EACCES && e != EADDRNOTAVAIL)
			e = strstr(s->why, "in use")		 ? EADDRINUSE
			    : strstr(s->why, "ermission denied") ? EACCES
			    : strstr(s->why, "annot assign")	 ? EADDRNOTAVAIL
								 : 0;
		err = e ? tern_err_errno(e) : TERN_ERR__INVALID_ARG;
		goto fail;
	}
	atomic_store(&s->started, true);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	freeaddrinfo(ai);
	*out = s;
	return TERN_OK;
fail:
	if (ai)
		freeaddrinfo(ai);
	free(s);
	return err;
}

uint16_t metrics_http_port(const metrics_http_t *s)
{
	return s ? s->port : 0;
}

void metrics_http_stop(metrics_http_t *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
