/* metrics/metrics.h: Prometheus metrics for Tern's processes, the one public
 * header of metrics/: a registry of counters, gauges and histograms, its
 * rendering in the text exposition format 0.0.4, and an HTTP endpoint
 * (libmicrohttpd) that serves GET /metrics.
 *
 * How it is meant to be used
 * --------------------------
 * One registry per process (ternd, or a controller-only process), made at
 * start-up and freed after metrics_http_stop(). Each module registers its
 * families once, keeps the pointers it gets back, and updates them on its
 * hot paths: counter increments and histogram observations are a few
 * relaxed atomic operations and never lock. Series with labels are created
 * on demand (metrics_counter_get() and friends lock the registry: call them
 * when a partition or follower appears, not per request) and removed when
 * their object goes away (metrics_family_remove()).
 *
 * Values that live under the broker's own locks (how many partitions are in
 * each mode, follower lag) are best computed at scrape time: a scrape hook
 * (metrics_registry_add_hook()) runs before each rendering, without the
 * registry lock, and may take the broker's locks and set gauges, or create
 * and remove series.
 *
 * The names planned for ternd (seconds and bytes as Prometheus wants them;
 * counters end in _total):
 *
 *   tern_partitions{mode="offline|floor|recovery|degraded|target"}   gauge
 *   tern_under_replicated_partitions                                 gauge
 *   tern_under_min_isr_partitions                                    gauge
 *   tern_offline_partitions                                          gauge
 *   tern_isr_shrinks_total, tern_isr_expands_total                   counter
 *   tern_unclean_elections_total, tern_leader_elections_total        counter
 *   tern_follower_lag_offsets{topic,partition,replica}               gauge
 *   tern_follower_lag_seconds{topic,partition,replica}               gauge
 *   tern_replication_bytes_in_total, tern_replication_bytes_out_total counter
 *   tern_request_latency_seconds{api="produce|fetch"}                histogram
 *   tern_fsync_latency_seconds                                       histogram
 *
 * For example:
 *
 *	metrics_registry_t *reg;
 *	metrics_family_t *lag;
 *	metrics_gauge_t *g;
 *	metrics_histogram_t *fsync;
 *
 *	metrics_registry_new(&reg);
 *	metrics_histogram_new(reg, "tern_fsync_latency_seconds",
 *			      "Time an fsync of a segment took.", NULL, 0, &fsync);
 *	metrics_gauge_family(reg, "tern_follower_lag_offsets",
 *			     "Offsets a follower is behind the leader.",
 *			     (const char *[]){"topic", "partition", "replica", NULL}, &lag);
 *	metrics_gauge_get(lag, (const char *[]){"orders", "3", "2"}, &g);
 *	metrics_gauge_set(g, 42);
 *	metrics_histogram_observe(fsync, 0.0002);
 *	metrics_http_start(reg, "127.0.0.1:9701", &srv, errstr, sizeof errstr);
 *	...
 *	metrics_family_remove(lag, (const char *[]){"orders", "3", NULL});
 *	metrics_http_stop(srv);
 *	metrics_registry_free(reg);
 *
 * Library code: nothing here prints. Errors come back as tern_err_t, with a
 * human-readable reason in (errstr, errlen) where a caller passes one. */
#ifndef TERN_METRICS_H
#define TERN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct metrics_registry metrics_registry_t;
typedef struct metrics_family metrics_family_t;
typedef struct metrics_counter metrics_counter_t;
typedef struct metrics_gauge metrics_gauge_t;
typedef struct metrics_histogram metrics_histogram_t;
typedef struct metrics_http metrics_http_t;

/* Most label names a family may have, and most bucket bounds (not counting
 * +Inf) a histogram may have. */
#define METRICS_MAX_LABELS  8
#define METRICS_MAX_BUCKETS 64

/* ------------------------------------------------------------------------ */
/* Registry                                                                   */

/* A new, empty registry in *out. _NOMEM. */
tern_err_t metrics_registry_new(metrics_registry_t **out);

/* Frees the registry with every family and series in it; every pointer it
 * handed out dies with it. No other thread may use it any more, and no
 * metrics_http_t may serve it (stop those first). NULL: nothing. */
void metrics_registry_free(metrics_registry_t *r);

/* A function run at the start of every metrics_render() (so of every
 * scrape), to refresh gauges from state kept under its owner's locks.
 *
 * Hooks run in the order they were added, on the scraping thread, one scrape
 * at a time, without the registry lock: a hook may set values and create or
 * remove series, but must not call metrics_render(),
 * metrics_registry_add_hook() or metrics_registry_remove_hook(). */
typedef void (*metrics_hook_fn)(metrics_registry_t *r, void *arg);

/* Adds a hook. _NOMEM. Must not be called from a hook. */
tern_err_t metrics_registry_add_hook(metrics_registry_t *r, metrics_hook_fn fn, void *arg);

/* Removes the hook added with the same fn and arg; once this returns it is
 * not running and never runs again, so arg may be freed. _INVALID_ARG when
 * there is no such hook. Must not be called from a hook. */
tern_err_t metrics_registry_remove_hook(metrics_registry_t *r, metrics_hook_fn fn, void *arg);

/* ------------------------------------------------------------------------ */
/* Families and series                                                        */

/* A family is one metric name with its help text, type and label names; a
 * series is one set of label values of it. Families live as long as the
 * registry.
 *
 * name must match [a-zA-Z_:][a-zA-Z0-9_:]*; label names [a-zA-Z_][a-zA-Z0-9_]*,
 * distinct, not starting with "__", and not "le" in a histogram. help is any
 * text (escaped on output). labels is a NULL-terminated array of label names,
 * or NULL for none. The strings are copied.
 *
 * Registering a name again with the same type, label names (and buckets)
 * returns the family that exists, so that two modules may share one; with
 * anything different it fails with _INVALID_ARG, as do invalid names.
 * _NOMEM. Registration locks the registry: call it at start-up, from any
 * thread. */
tern_err_t metrics_counter_family(metrics_registry_t *r, const char *name, const char *help,
				  const char *const *labels, metrics_family_t **out);
tern_err_t metrics_gauge_family(metrics_registry_t *r, const char *name, const char *help,
				const char *const *labels, metrics_family_t **out);

/* A histogram family with bucket upper bounds bounds[0..nbounds), finite and
 * strictly increasing (a last +Inf is allowed and ignored; the +Inf bucket
 * is always there). bounds NULL: metrics_default_buckets. */
tern_err_t metrics_histogram_family(metrics_registry_t *r, const char *name, const char *help,
				    const char *const *labels, const double *bounds, size_t nbounds,
				    metrics_family_t **out);

/* Latency buckets in seconds, 100 µs to 5 s:
 * 0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 */
extern const double metrics_default_buckets[];
extern const size_t metrics_default_nbuckets;

/* The series of family f with label values values[0..nlabels) (as many as
 * the family has label names; NULL when it has none), created at zero on
 * first use. The pointer stays valid until the series is removed or the
 * registry freed. _INVALID_ARG when f is of another type or a value is
 * NULL; _NOMEM. Locks the registry: look a series up once and keep it. */
tern_err_t metrics_counter_get(metrics_family_t *f, const char *const *values,
			       metrics_counter_t **out);
tern_err_t metrics_gauge_get(metrics_family_t *f, const char *const *values, metrics_gauge_t **out);
tern_err_t metrics_histogram_get(metrics_family_t *f, const char *const *values,
				 metrics_histogram_t **out);

/* Registers a family without labels and returns its one series: the usual
 * way to make a plain counter, gauge or histogram. Errors as above. */
tern_err_t metrics_counter_new(metrics_registry_t *r, const char *name, const char *help,
			       metrics_counter_t **out);
tern_err_t metrics_gauge_new(metrics_registry_t *r, const char *name, const char *help,
			     metrics_gauge_t **out);
tern_err_t metrics_histogram_new(metrics_registry_t *r, const char *name, const char *help,
				 const double *bounds, size_t nbounds, metrics_histogram_t **out);

/* Removes and frees every series of f whose label values match values,
 * where a NULL entry matches any value (values NULL: every series), and
 * returns how many went. For example (topic, partition, NULL) removes the
 * lag series of every replica of a deleted partition. The caller makes sure
 * that no thread still uses a pointer to a removed series. Locks the
 * registry. */
size_t metrics_family_remove(metrics_family_t *f, const char *const *values);

/* ------------------------------------------------------------------------ */
/* Updates: lock-free, from any thread. A NULL series is ignored, so that
 * code may update metrics that nobody set up. */

void metrics_counter_inc(metrics_counter_t *c);
void metrics_counter_add(metrics_counter_t *c, uint64_t n);
/* For a counter mirrored from a count kept elsewhere (set at scrape time
 * from a hook); the value must never go down while the series lives. */
void metrics_counter_set(metrics_counter_t *c, uint64_t v);
uint64_t metrics_counter_value(const metrics_counter_t *c);

/* Gauges hold a double; integers up to 2^53 are exact and rendered without
 * an exponent. */
void metrics_gauge_set(metrics_gauge_t *g, double v);
void metrics_gauge_set_int(metrics_gauge_t *g, int64_t v);
void metrics_gauge_add(metrics_gauge_t *g, double delta);
double metrics_gauge_value(const metrics_gauge_t *g);

/* A gauge whose value fn(arg) computes at each rendering (fn NULL: back to
 * the value set). fn runs with the registry lock held: it must be quick,
 * must not call into the registry, and must not take a lock that any thread
 * holds while calling into the registry (use a hook for such values). The
 * caller keeps arg alive until the series is removed or fn replaced. */
void metrics_gauge_set_fn(metrics_gauge_t *g, double (*fn)(void *arg), void *arg);

/* Counts v (seconds for latencies) into its bucket: the first bound b with
 * v <= b, else +Inf; and adds v to the sum. */
void metrics_histogram_observe(metrics_histogram_t *h, double v);

/* ------------------------------------------------------------------------ */
/* Rendering                                                                  */

/* A growing text buffer. data is NUL-terminated (once anything was
 * written), malloc()ed and owned by the buffer. Start from METRICS_BUF_INIT;
 * set len to 0 to reuse; metrics_buf_free() releases it. */
typedef struct metrics_buf {
	char *data;
	size_t len, cap;
} metrics_buf_t;

#define METRICS_BUF_INIT                                                                           \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void metrics_buf_free(metrics_buf_t *b);

/* Runs the hooks, then appends every family with at least one series to
 * buf in the Prometheus text exposition format 0.0.4: families in
 * registration order, series in creation order, # HELP and # TYPE once per
 * family, label values escaped (\\, \", \n), histograms as cumulative
 * _bucket{le=...} series ending in +Inf, then _sum and _count. A histogram's
 * _count is its +Inf bucket; _sum, read apart from the buckets, may lag a
 * concurrent observation. On error (_NOMEM) buf is as it was.
 *
 * Any thread; scrapes are serialised (see metrics_hook_fn). Must not be
 * called from a hook or a gauge function. */
tern_err_t metrics_render(metrics_registry_t *r, metrics_buf_t *buf);

/* ------------------------------------------------------------------------ */
/* HTTP endpoint                                                              */

/* Serves r on addr, "HOST:PORT" or "http://HOST:PORT" (the form of ternd's
 * metrics.listener; an IPv6 host in brackets, "*" or "0.0.0.0" for every
 * IPv4 interface; port 0: any free port, see metrics_http_port()). A
 * libmicrohttpd thread answers GET (and HEAD) /metrics with 200 and
 * "text/plain; version=0.0.4; charset=utf-8", other paths with 404, other
 * methods on /metrics with 405. The server borrows r: stop the server before
 * freeing r. _INVALID_ARG for a malformed address, the errno value of a
 * failed bind (as tern_err_errno()), _NOMEM; the reason in errstr (may be
 * NULL). */
tern_err_t metrics_http_start(metrics_registry_t *r, const char *addr, metrics_http_t **out,
			      char *errstr, size_t errlen);

/* The port the server is bound to (the one picked when addr asked for 0). */
uint16_t metrics_http_port(const metrics_http_t *s);

/* Stops the server: closes its socket and connections, waits for its thread
 * and frees it. No scrape runs once this returns. NULL: nothing. Not from a
 * hook. */
void metrics_http_stop(metrics_http_t *s);

#ifdef __cplusplus
}
#endif
#endif
