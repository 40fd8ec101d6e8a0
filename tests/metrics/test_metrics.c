/* tests/metrics/test_metrics.c: the metrics registry of metrics/metrics.h:
 * the exact text each metric type renders to, escaping, cumulative
 * histogram buckets, series made and removed on demand, scrape hooks, exact
 * sums under concurrent updates, and the HTTP endpoint over a plain socket. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "testutil.h"

static metrics_registry_t *reg;

static void setup_reg(void)
{
	ck_assert_int_eq(metrics_registry_new(&reg), TERN_OK);
}

static void teardown_reg(void)
{
	metrics_registry_free(reg);
	reg = NULL;
}

/* The registry rendered, in a malloc()ed string. */
static char *render(void)
{
	metrics_buf_t b = METRICS_BUF_INIT;

	ck_assert_int_eq(metrics_render(reg, &b), TERN_OK);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(strlen(b.data), b.len);
	return b.data;
}

static void assert_render(const char *want)
{
	char *got = render();

	ck_assert_str_eq(got, want);
	free(got);
}

/* ------------------------------------------------------------------------ */
/* Rendering of each type                                                     */

START_TEST(test_empty_registry_renders_nothing)
{
	assert_render("");
}
END_TEST

START_TEST(test_counter_renders_help_type_and_value)
{
	metrics_counter_t *c;

	ck_assert_int_eq(metrics_counter_new(reg, "tern_isr_shrinks_total", "ISR shrinks.", &c),
			 TERN_OK);
	assert_render("# HELP tern_isr_shrinks_total ISR shrinks.\n"
		      "# TYPE tern_isr_shrinks_total counter\n"
		      "tern_isr_shrinks_total 0\n");
	metrics_counter_inc(c);
	metrics_counter_add(c, 41);
	ck_assert_uint_eq(metrics_counter_value(c), 42);
	metrics_counter_add(c, UINT64_MAX - 42);
	assert_render("# HELP tern_isr_shrinks_total ISR shrinks.\n"
		      "# TYPE tern_isr_shrinks_total counter\n"
		      "tern_isr_shrinks_total 18446744073709551615\n");
	metrics_counter_set(c, 7);
	ck_assert_uint_eq(metrics_counter_value(c), 7);
}
END_TEST

START_TEST(test_labelled_counter_series_in_creation_order)
{
	metrics_family_t *f;
	metrics_counter_t *produce, *fetch, *again;

	ck_assert_int_eq(metrics_counter_family(reg, "tern_requests_total", "Requests.",
						(const char *[]){"api", "result", NULL}, &f),
			 TERN_OK);
	/* No series yet: the family is left out altogether. */
	assert_render("");
	ck_assert_int_eq(metrics_counter_get(f, (const char *[]){"produce", "ok"}, &produce),
			 TERN_OK);
	ck_assert_int_eq(metrics_counter_get(f, (const char *[]){"fetch", "ok"}, &fetch), TERN_OK);
	ck_assert_int_eq(metrics_counter_get(f, (const char *[]){"produce", "ok"}, &again),
			 TERN_OK);
	ck_assert_ptr_eq(produce, again);
	ck_assert_ptr_ne(produce, fetch);
	metrics_counter_add(produce, 3);
	metrics_counter_inc(fetch);
	assert_render("# HELP tern_requests_total Requests.\n"
		      "# TYPE tern_requests_total counter\n"
		      "tern_requests_total{api=\"produce\",result=\"ok\"} 3\n"
		      "tern_requests_total{api=\"fetch\",result=\"ok\"} 1\n");
}
END_TEST

START_TEST(test_gauge_values_integers_doubles_and_specials)
{
	metrics_family_t *f;
	metrics_gauge_t *a, *b, *c, *d, *e;

	ck_assert_int_eq(
	    metrics_gauge_family(reg, "g", "A gauge.", (const char *[]){"k", NULL}, &f), TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"int"}, &a), TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"neg"}, &b), TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"frac"}, &c), TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"inf"}, &d), TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"nan"}, &e), TERN_OK);
	metrics_gauge_set_int(a, 1234567890123);
	metrics_gauge_set_int(b, -5);
	metrics_gauge_set(c, 0.1);
	metrics_gauge_add(c, 0.15);
	metrics_gauge_set(d, -INFINITY);
	metrics_gauge_set(e, NAN);
	ck_assert(metrics_gauge_value(b) == -5.0);
	assert_render("# HELP g A gauge.\n"
		      "# TYPE g gauge\n"
		      "g{k=\"int\"} 1234567890123\n"
		      "g{k=\"neg\"} -5\n"
		      "g{k=\"frac\"} 0.25\n"
		      "g{k=\"inf\"} -Inf\n"
		      "g{k=\"nan\"} NaN\n");
}
END_TEST

static double seven_halves(void *arg)
{
	int *calls = arg;

	(*calls)++;
	return 3.5;
}

START_TEST(test_gauge_function_runs_at_each_render)
{
	metrics_gauge_t *g;
	int calls = 0;
	char *out;

	ck_assert_int_eq(metrics_gauge_new(reg, "tern_offline_partitions", "Offline.", &g),
			 TERN_OK);
	metrics_gauge_set(g, 1);
	metrics_gauge_set_fn(g, seven_halves, &calls);
	out = render();
	ck_assert_ptr_nonnull(strstr(out, "\ntern_offline_partitions 3.5\n"));
	free(out);
	out = render();
	free(out);
	ck_assert_int_eq(calls, 2);
	metrics_gauge_set_fn(g, NULL, NULL);
	out = render();
	ck_assert_ptr_nonnull(strstr(out, "\ntern_offline_partitions 1\n"));
	free(out);
	ck_assert_int_eq(calls, 2);
}
END_TEST

START_TEST(test_histogram_buckets_are_cumulative)
{
	static const double bounds[] = {1, 2.5, 5};
	metrics_histogram_t *h;

	ck_assert_int_eq(metrics_histogram_new(reg, "h_seconds", "Latency.", bounds, 3, &h),
			 TERN_OK);
	assert_render("# HELP h_seconds Latency.\n"
		      "# TYPE h_seconds histogram\n"
		      "h_seconds_bucket{le=\"1\"} 0\n"
		      "h_seconds_bucket{le=\"2.5\"} 0\n"
		      "h_seconds_bucket{le=\"5\"} 0\n"
		      "h_seconds_bucket{le=\"+Inf\"} 0\n"
		      "h_seconds_sum 0\n"
		      "h_seconds_count 0\n");
	/* A value equal to a bound counts in that bound's bucket (le). */
	metrics_histogram_observe(h, 0.5);
	metrics_histogram_observe(h, 1);
	metrics_histogram_observe(h, 1);
	metrics_histogram_observe(h, 3);
	metrics_histogram_observe(h, 100);
	assert_render("# HELP h_seconds Latency.\n"
		      "# TYPE h_seconds histogram\n"
		      "h_seconds_bucket{le=\"1\"} 3\n"
		      "h_seconds_bucket{le=\"2.5\"} 3\n"
		      "h_seconds_bucket{le=\"5\"} 4\n"
		      "h_seconds_bucket{le=\"+Inf\"} 5\n"
		      "h_seconds_sum 105.5\n"
		      "h_seconds_count 5\n");
}
END_TEST

START_TEST(test_histogram_labels_come_before_le)
{
	static const double bounds[] = {0.25, INFINITY};
	metrics_family_t *f;
	metrics_histogram_t *p, *q;

	/* A last +Inf bound is the implicit one, not a second +Inf bucket. */
	ck_assert_int_eq(metrics_histogram_family(reg, "tern_request_latency_seconds",
						  "Request latency.", (const char *[]){"api", NULL},
						  bounds, 2, &f),
			 TERN_OK);
	ck_assert_int_eq(metrics_histogram_get(f, (const char *[]){"produce"}, &p), TERN_OK);
	ck_assert_int_eq(metrics_histogram_get(f, (const char *[]){"fetch"}, &q), TERN_OK);
	metrics_histogram_observe(p, 0.125);
	metrics_histogram_observe(q, 0.5);
	assert_render("# HELP tern_request_latency_seconds Request latency.\n"
		      "# TYPE tern_request_latency_seconds histogram\n"
		      "tern_request_latency_seconds_bucket{api=\"produce\",le=\"0.25\"} 1\n"
		      "tern_request_latency_seconds_bucket{api=\"produce\",le=\"+Inf\"} 1\n"
		      "tern_request_latency_seconds_sum{api=\"produce\"} 0.125\n"
		      "tern_request_latency_seconds_count{api=\"produce\"} 1\n"
		      "tern_request_latency_seconds_bucket{api=\"fetch\",le=\"0.25\"} 0\n"
		      "tern_request_latency_seconds_bucket{api=\"fetch\",le=\"+Inf\"} 1\n"
		      "tern_request_latency_seconds_sum{api=\"fetch\"} 0.5\n"
		      "tern_request_latency_seconds_count{api=\"fetch\"} 1\n");
}
END_TEST

START_TEST(test_histogram_default_buckets_are_seconds)
{
	static const char *const les[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
					  "0.01",   "0.025",   "0.05",	 "0.1",	  "0.25",   "0.5",
					  "1",	    "2.5",     "5",	 "+Inf"};
	metrics_histogram_t *h;
	char *out, *p, line[128];
	size_t i;

	ck_assert_uint_eq(metrics_default_nbuckets, 15);
	ck_assert_int_eq(
	    metrics_histogram_new(reg, "tern_fsync_latency_seconds", "Fsyncs.", NULL, 0, &h),
	    TERN_OK);
	metrics_histogram_observe(h, 0.0002); /* le=0.00025 */
	metrics_histogram_observe(h, 0.003);  /* le=0.005 */
	metrics_histogram_observe(h, 7);      /* +Inf */
	out = render();
	p = strstr(out, "# TYPE tern_fsync_latency_seconds histogram\n");
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '\n') + 1;
	for (i = 0; i < sizeof les / sizeof les[0]; i++) {
		int n = i < 1 ? 0 : i < 5 ? 1 : i < 15 ? 2 : 3;

		snprintf(line, sizeof line, "tern_fsync_latency_seconds_bucket{le=\"%s\"} %d\n",
			 les[i], n);
		ck_assert_msg(!strncmp(p, line, strlen(line)), "want %s got %.80s", line, p);
		p += strlen(line);
	}
	ck_assert_ptr_nonnull(strstr(p, "tern_fsync_latency_seconds_count 3\n"));
	free(out);
}
END_TEST

START_TEST(test_label_values_and_help_are_escaped)
{
	metrics_family_t *f;
	metrics_gauge_t *g;

	ck_assert_int_eq(metrics_gauge_family(reg, "tern_follower_lag_offsets",
					      "Lag \"offsets\" with a \\ and\na newline.",
					      (const char *[]){"topic", "partition", NULL}, &f),
			 TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"a\\b\"c\nd", "0"}, &g), TERN_OK);
	metrics_gauge_set_int(g, 9);
	/* In HELP only backslash and newline are escaped; in a label value
	 * the double quote too. */
	assert_render("# HELP tern_follower_lag_offsets Lag \"offsets\" with a \\\\ and\\na "
		      "newline.\n"
		      "# TYPE tern_follower_lag_offsets gauge\n"
		      "tern_follower_lag_offsets{topic=\"a\\\\b\\\"c\\nd\",partition=\"0\"} 9\n");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Families and series                                                        */

START_TEST(test_remove_matches_with_wildcards)
{
	metrics_family_t *f;
	metrics_gauge_t *g;
	const char *const keys[][3] = {
	    {"orders", "0", "1"}, {"orders", "0", "2"}, {"orders", "1", "1"}, {"logs", "0", "1"}};
	size_t i;
	char *out;

	ck_assert_int_eq(
	    metrics_gauge_family(reg, "lag", "Lag.",
				 (const char *[]){"topic", "partition", "replica", NULL}, &f),
	    TERN_OK);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(metrics_gauge_get(f, keys[i], &g), TERN_OK);
		metrics_gauge_set_int(g, (int64_t)i);
	}
	/* The lag of every replica of the deleted partition orders-0. */
	ck_assert_uint_eq(metrics_family_remove(f, (const char *[]){"orders", "0", NULL}), 2);
	ck_assert_uint_eq(metrics_family_remove(f, (const char *[]){"orders", "0", NULL}), 0);
	assert_render("# HELP lag Lag.\n"
		      "# TYPE lag gauge\n"
		      "lag{topic=\"orders\",partition=\"1\",replica=\"1\"} 2\n"
		      "lag{topic=\"logs\",partition=\"0\",replica=\"1\"} 3\n");
	/* A removed series comes back at zero. */
	ck_assert_int_eq(metrics_gauge_get(f, keys[0], &g), TERN_OK);
	ck_assert(metrics_gauge_value(g) == 0);
	ck_assert_uint_eq(metrics_family_remove(f, NULL), 3);
	assert_render("");
	/* Many series exercise the hash table's growth; each is found again. */
	for (i = 0; i < 1000; i++) {
		char part[16];
		metrics_gauge_t *again;

		snprintf(part, sizeof part, "%zu", i);
		ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"t", part, "1"}, &g),
				 TERN_OK);
		metrics_gauge_set_int(g, (int64_t)i);
		ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"t", part, "1"}, &again),
				 TERN_OK);
		ck_assert_ptr_eq(g, again);
	}
	ck_assert_uint_eq(metrics_family_remove(f, (const char *[]){NULL, "500", NULL}), 1);
	out = render();
	ck_assert_ptr_null(strstr(out, "partition=\"500\""));
	ck_assert_ptr_nonnull(
	    strstr(out, "lag{topic=\"t\",partition=\"999\",replica=\"1\"} 999\n"));
	free(out);
}
END_TEST

START_TEST(test_registration_rules)
{
	metrics_family_t *f, *g;
	metrics_counter_t *c;
	static const double bad_order[] = {1, 1};
	static const double nan_bound[] = {NAN};

	ck_assert_int_eq(
	    metrics_counter_family(reg, "x_total", "X.", (const char *[]){"a", NULL}, &f), TERN_OK);
	/* The same name, type and labels: the same family. */
	ck_assert_int_eq(
	    metrics_counter_family(reg, "x_total", "Other help.", (const char *[]){"a", NULL}, &g),
	    TERN_OK);
	ck_assert_ptr_eq(f, g);
	/* Anything else under that name is refused. */
	ck_assert_int_eq(
	    metrics_gauge_family(reg, "x_total", "X.", (const char *[]){"a", NULL}, &g),
	    TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_family(reg, "x_total", "X.", NULL, &g),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(
	    metrics_counter_family(reg, "x_total", "X.", (const char *[]){"b", NULL}, &g),
	    TERN_ERR__INVALID_ARG);
	/* Invalid metric and label names. */
	ck_assert_int_eq(metrics_counter_new(reg, "", "", &c), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_new(reg, "9lives", "", &c), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_new(reg, "a-b", "", &c), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_new(reg, "ns:sub_total", "", &c), TERN_OK);
	ck_assert_int_eq(metrics_counter_family(reg, "y", "", (const char *[]){"a:b", NULL}, &g),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_family(reg, "y", "", (const char *[]){"__x", NULL}, &g),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_family(reg, "y", "", (const char *[]){"a", "a", NULL}, &g),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(
	    metrics_histogram_family(reg, "y", "", (const char *[]){"le", NULL}, NULL, 0, &g),
	    TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_histogram_family(reg, "y", "", NULL, bad_order, 2, &g),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_histogram_family(reg, "y", "", NULL, nan_bound, 1, &g),
			 TERN_ERR__INVALID_ARG);
	/* Series of the wrong type, or with a missing value. */
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"v"}, &(metrics_gauge_t *){NULL}),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_get(f, (const char *[]){NULL}, &c), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_counter_get(f, NULL, &c), TERN_ERR__INVALID_ARG);
	/* A NULL series is ignored by every update. */
	metrics_counter_inc(NULL);
	metrics_gauge_set(NULL, 1);
	metrics_histogram_observe(NULL, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hooks                                                                      */

typedef struct hook_state {
	metrics_gauge_t *g;
	int calls;
} hook_state_t;

static void refresh(metrics_registry_t *r, void *arg)
{
	hook_state_t *st = arg;
	metrics_family_t *f;
	metrics_gauge_t *g;

	st->calls++;
	metrics_gauge_set_int(st->g, st->calls * 10);
	/* A hook may create series: the registry is not locked. */
	ck_assert_int_eq(metrics_gauge_family(r, "tern_partitions", "Partitions by mode.",
					      (const char *[]){"mode", NULL}, &f),
			 TERN_OK);
	ck_assert_int_eq(metrics_gauge_get(f, (const char *[]){"target"}, &g), TERN_OK);
	metrics_gauge_set_int(g, st->calls);
}

START_TEST(test_hook_refreshes_gauges_before_render)
{
	hook_state_t st = {NULL, 0};

	ck_assert_int_eq(
	    metrics_gauge_new(reg, "tern_under_replicated_partitions", "Under-replicated.", &st.g),
	    TERN_OK);
	ck_assert_int_eq(metrics_registry_add_hook(reg, refresh, &st), TERN_OK);
	assert_render("# HELP tern_under_replicated_partitions Under-replicated.\n"
		      "# TYPE tern_under_replicated_partitions gauge\n"
		      "tern_under_replicated_partitions 10\n"
		      "# HELP tern_partitions Partitions by mode.\n"
		      "# TYPE tern_partitions gauge\n"
		      "tern_partitions{mode=\"target\"} 1\n");
	ck_assert_int_eq(metrics_registry_remove_hook(reg, refresh, &st), TERN_OK);
	ck_assert_int_eq(metrics_registry_remove_hook(reg, refresh, &st), TERN_ERR__INVALID_ARG);
	free(render());
	ck_assert_int_eq(st.calls, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Concurrency                                                                */

#define NTHREADS 4

typedef struct worker {
	metrics_counter_t *c;
	metrics_gauge_t *g;
	metrics_histogram_t *h;
	long n;
} worker_t;

static void *hammer(void *arg)
{
	worker_t *w = arg;

	for (long i = 0; i < w->n; i++) {
		metrics_counter_inc(w->c);
		metrics_gauge_add(w->g, 1);
		/* 0.5 and 2 are exact in binary: the sum is exact too. */
		metrics_histogram_observe(w->h, (i & 1) ? 2 : 0.5);
	}
	return NULL;
}

/* Renders while the workers run, so that readers and writers meet. */
static void *scrape_until(void *arg)
{
	atomic_int *stop = arg;

	while (!atomic_load(stop)) {
		metrics_buf_t b = METRICS_BUF_INIT;

		ck_assert_int_eq(metrics_render(reg, &b), TERN_OK);
		metrics_buf_free(&b);
	}
	return NULL;
}

START_TEST(test_concurrent_updates_sum_exactly)
{
	static const double bounds[] = {1};
	pthread_t t[NTHREADS], scraper;
	worker_t w;
	atomic_int stop = 0;
	long per = (tt_scale(200000) + 3) & ~3L; /* a multiple of 4 */
	char *out, want[256];
	int i;

	ck_assert_int_eq(metrics_counter_new(reg, "c_total", "C.", &w.c), TERN_OK);
	ck_assert_int_eq(metrics_gauge_new(reg, "g", "G.", &w.g), TERN_OK);
	ck_assert_int_eq(metrics_histogram_new(reg, "h", "H.", bounds, 1, &w.h), TERN_OK);
	w.n = per;
	ck_assert_int_eq(pthread_create(&scraper, NULL, scrape_until, &stop), 0);
	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(scraper, NULL);

	ck_assert_uint_eq(metrics_counter_value(w.c), (uint64_t)per * NTHREADS);
	ck_assert(metrics_gauge_value(w.g) == (double)per * NTHREADS);
	out = render();
	snprintf(want, sizeof want,
		 "h_bucket{le=\"1\"} %ld\nh_bucket{le=\"+Inf\"} %ld\nh_sum %ld\nh_count %ld\n",
		 per / 2 * NTHREADS, per * NTHREADS, per / 4 * 5 * NTHREADS, per * NTHREADS);
	ck_assert_msg(strstr(out, want), "want\n%s\nin\n%s", want, out);
	free(out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* HTTP endpoint                                                              */

typedef struct http_reply {
	int status;
	char *headers; /* the header block, lines ending in \r\n */
	char *body;
} http_reply_t;

static void http_reply_free(http_reply_t *r)
{
	free(r->headers);
	free(r->body);
}

/* One request to 127.0.0.1:port with Connection: close, read to EOF. The
 * receive timeout only keeps a broken server from hanging the test until
 * its tcase timeout; nothing depends on how long anything takes. */
static void http_request(uint16_t port, const char *method, const char *path, http_reply_t *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 20};
	char req[256], *resp = NULL, *hend;
	size_t len = 0, cap = 0;
	int fd, n;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	n = snprintf(req, sizeof req,
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", method,
		     path, port);
	ck_assert_int_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	for (;;) {
		ssize_t got;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			resp = realloc(resp, cap);
			ck_assert_ptr_nonnull(resp);
		}
		got = recv(fd, resp + len, cap - len - 1, 0);
		ck_assert_msg(got >= 0, "recv: %s", strerror(errno));
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	resp[len] = '\0';

	ck_assert_msg(sscanf(resp, "HTTP/1.%*d %d", &r->status) == 1, "bad reply: %s", resp);
	hend = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(hend);
	r->headers = strndup(resp, (size_t)(hend - resp) + 2);
	r->body = strdup(hend + 4);
	ck_assert_ptr_nonnull(r->headers);
	ck_assert_ptr_nonnull(r->body);
	free(resp);
}

/* The value of header name (case-insensitive), in a static buffer; NULL when
 * absent. */
static const char *http_header(const http_reply_t *r, const char *name)
{
	static char value[256];
	const char *line = strstr(r->headers, "\r\n");
	size_t n = strlen(name);

	while (line && line[2]) {
		line += 2;
		if (!strncasecmp(line, name, n) && line[n] == ':') {
			const char *v = line + n + 1, *end = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(value, sizeof value, "%.*s", (int)(end - v), v);
			return value;
		}
		line = strstr(line, "\r\n");
	}
	return NULL;
}

START_TEST(test_http_serves_metrics_and_404s_elsewhere)
{
	metrics_http_t *srv = NULL;
	metrics_counter_t *c;
	http_reply_t r = {0};
	char err[256] = "";
	uint16_t port;

	ck_assert_int_eq(metrics_counter_new(reg, "tern_leader_elections_total", "Elections.", &c),
			 TERN_OK);
	metrics_counter_add(c, 5);
	ck_assert_msg(metrics_http_start(reg, "127.0.0.1:0", &srv, err, sizeof err) == TERN_OK,
		      "%s", err);
	port = metrics_http_port(srv);
	ck_assert_uint_ne(port, 0);

	http_request(port, "GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(http_header(&r, "Content-Type"));
	ck_assert_str_eq(http_header(&r, "Content-Type"),
			 "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(r.body, "\ntern_leader_elections_total 5\n"));
	http_reply_free(&r);

	/* Each scrape renders afresh. */
	metrics_counter_inc(c);
	http_request(port, "GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\ntern_leader_elections_total 6\n"));
	http_reply_free(&r);

	http_request(port, "GET", "/other", &r);
	ck_assert_int_eq(r.status, 404);
	http_reply_free(&r);
	http_request(port, "GET", "/", &r);
	ck_assert_int_eq(r.status, 404);
	http_reply_free(&r);

	http_request(port, "DELETE", "/metrics", &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_ptr_nonnull(http_header(&r, "Allow"));
	http_reply_free(&r);

	metrics_http_stop(srv);
}
END_TEST

START_TEST(test_http_address_forms_and_errors)
{
	metrics_http_t *a = NULL, *b = NULL;
	char err[256] = "", addr[64];
	http_reply_t r = {0};

	/* The form of ternd's metrics.listener. */
	ck_assert_msg(metrics_http_start(reg, "http://127.0.0.1:0", &a, err, sizeof err) == TERN_OK,
		      "%s", err);
	http_request(metrics_http_port(a), "GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "");
	http_reply_free(&r);

	/* The port is taken. */
	snprintf(addr, sizeof addr, "127.0.0.1:%u", metrics_http_port(a));
	ck_assert_int_eq(metrics_http_start(reg, addr, &b, err, sizeof err),
			 tern_err_errno(EADDRINUSE));
	ck_assert_msg(strstr(err, addr), "%s", err);
	metrics_http_stop(a);

	ck_assert_int_eq(metrics_http_start(reg, "127.0.0.1", &b, err, sizeof err),
			 TERN_ERR__INVALID_ARG);
	ck_assert_ptr_nonnull(strstr(err, "HOST:PORT"));
	ck_assert_int_eq(metrics_http_start(reg, "127.0.0.1:99999", &b, NULL, 0),
			 TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_http_start(reg, ":9100", &b, NULL, 0), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(metrics_http_start(reg, "tcp://127.0.0.1:1", &b, NULL, 0),
			 TERN_ERR__INVALID_ARG);
	metrics_http_stop(NULL);
}
END_TEST

/* ternd keeps thousands of files open: the endpoint must not rely on
 * select(), whose sets end at FD_SETSIZE. */
START_TEST(test_http_works_with_descriptors_above_fd_setsize)
{
	struct rlimit rl;
	metrics_http_t *srv = NULL;
	http_reply_t r = {0};
	char err[256] = "";
	int fds[FD_SETSIZE + 16], n = 0;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < FD_SETSIZE + 64) {
		if (rl.rlim_max < FD_SETSIZE + 64) {
			fprintf(stderr, "RLIMIT_NOFILE hard limit %lu: case not run\n",
				(unsigned long)rl.rlim_max);
			return;
		}
		rl.rlim_cur = FD_SETSIZE + 64;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	/* Fill the descriptors below FD_SETSIZE. */
	for (;;) {
		int fd = dup(STDERR_FILENO);

		ck_assert_int_ge(fd, 0);
		fds[n++] = fd;
		if (fd > FD_SETSIZE)
			break;
	}
	ck_assert_msg(metrics_http_start(reg, "127.0.0.1:0", &srv, err, sizeof err) == TERN_OK,
		      "%s", err);
	http_request(metrics_http_port(srv), "GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	http_reply_free(&r);
	metrics_http_stop(srv);
	while (n > 0)
		close(fds[--n]);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc;

	tc = tcase_create("render");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_reg, teardown_reg);
	tcase_add_test(tc, test_empty_registry_renders_nothing);
	tcase_add_test(tc, test_counter_renders_help_type_and_value);
	tcase_add_test(tc, test_labelled_counter_series_in_creation_order);
	tcase_add_test(tc, test_gauge_values_integers_doubles_and_specials);
	tcase_add_test(tc, test_gauge_function_runs_at_each_render);
	tcase_add_test(tc, test_histogram_buckets_are_cumulative);
	tcase_add_test(tc, test_histogram_labels_come_before_le);
	tcase_add_test(tc, test_histogram_default_buckets_are_seconds);
	tcase_add_test(tc, test_label_values_and_help_are_escaped);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_reg, teardown_reg);
	tcase_add_test(tc, test_remove_matches_with_wildcards);
	tcase_add_test(tc, test_registration_rules);
	tcase_add_test(tc, test_hook_refreshes_gauges_before_render);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_reg, teardown_reg);
	tcase_add_test(tc, test_concurrent_updates_sum_exactly);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_reg, teardown_reg);
	tcase_add_test(tc, test_http_serves_metrics_and_404s_elsewhere);
	tcase_add_test(tc, test_http_address_forms_and_errors);
	tcase_add_test(tc, test_http_works_with_descriptors_above_fd_setsize);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(metrics_suite());
}
