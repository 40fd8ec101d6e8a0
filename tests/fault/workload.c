/* tests/fault/workload.c: producers, consumers and the final drain of the
 * fault harness (workload.h), recording into a checker history. */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/admin.h"
#include "tern/consumer.h"
#include "tern/producer.h"

#define WL_DRAIN_SESSION 1000 /* drain sessions: 1000, 1001, ... */
#define WL_HWM_STABLE_MS 2000 /* a HWM below an acked offset, unchanged this long, is final */

typedef struct wl_prod {
	wl_t *w;
	int idx;
	pthread_t th;
	bool running; /* th was started and not yet joined */
	tern_producer_t *p;
} wl_prod_t;

typedef struct wl_cons {
	wl_t *w;
	int idx; /* also its session */
	pthread_t th;
	bool running;
	tern_consumer_t *c;
} wl_cons_t;

/* One record in flight: the delivery callback's opaque (freed there, or
 * by the producer thread when tern_produce refuses it). */
typedef struct wl_rec {
	wl_prod_t *pp;
	long n;
	int64_t t_ms; /* when it was attempted (scenarios_env.c: ack latency) */
} wl_rec_t;

/* ---- scenarios_env.c: acknowledgement latency ---- */
/* Buckets of 10 ms below 1 s, then of 1 s up to 120 s (the last one
 * holds everything slower). */
#define WL_LAT_BUCKETS (100 + 120)

static int lat_bucket(int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		return (int)(ms / 10);
	return ms / 1000 < 119 ? 100 + (int)(ms / 1000) : WL_LAT_BUCKETS - 1;
}

/* A bucket's upper bound, ms. */
static int64_t lat_bound(int b)
{
	return b < 100 ? (int64_t)(b + 1) * 10 : (int64_t)(b - 99) * 1000;
}
/* ---- end scenarios_env.c ---- */

/* mu guards h, max_off, hist_err, thread_err and the sessions counter;
 * acked_cv is signalled (under mu) on every acknowledgement. Counters are
 * atomics so progress reads take no lock. Events are appended with the
 * time read under mu, so the history is in time order. */
struct wl {
	wl_opts_t o; /* strings point at the copies below */
	char *bootstrap, *topic, *log_path;
	chk_history_t *h;
	pthread_mutex_t mu;
	pthread_cond_t acked_cv;
	atomic_bool stop_prod, stop_cons;
	atomic_long attempted, acked, failed, reads;
	int64_t *max_off;     /* per partition: the highest acknowledged offset, -1 */
	bool hist_err;	      /* an append failed (out of memory) */
	char thread_err[256]; /* the first error a thread met, "" */
	int drains;
	long lat[WL_LAT_BUCKETS]; /* acks by latency since the last reset, under mu */
	wl_prod_t prod[WL_MAX_THREADS];
	wl_cons_t cons[WL_MAX_THREADS];
};

int64_t wl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Called with mu held: an append's outcome. */
static void hist_check(wl_t *w, tern_err_t err)
{
	if (err)
		w->hist_err = true;
}

/* Called with mu held. */
static void thread_error(wl_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void thread_error(wl_t *w, const char *fmt, ...)
{
	va_list ap;

	if (w->thread_err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->thread_err, sizeof w->thread_err, fmt, ap);
	va_end(ap);
}

void wl_opts_default(wl_opts_t *o)
{
	*o = (wl_opts_t){.partitions = 3,
			 .producers = 2,
			 .consumers = 2,
			 .rate = 100,
			 .buffer_memory = 1000000,
			 .request_timeout_ms = 5000,
			 .delivery_timeout_ms = 120000};
}

static size_t value_of(const wl_t *w, int producer, long n, char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap, "s%" PRIu64 "-p%d-%ld", w->o.seed, producer, n);
}

/* libtern's log lines, with the history's clock, appended to log_path.
 * Called from libtern's threads. */
static void on_log(void *opaque, int level, const char *id, const char *line)
{
	FILE *f = fopen(opaque, "a");

	if (f) {
		fprintf(f, "%" PRId64 " %d %s %s\n", wl_now_ms(), level, id, line);
		fclose(f);
	}
}

/* A conf with the bootstrap, the log callback and kv ("key", "value",
 * ..., NULL); NULL with why. */
static tern_conf_t *conf_new(wl_t *w, const char *const *kv, char *why, size_t whylen)
{
	tern_conf_t *conf = tern_conf_new();

	if (!conf) {
		why_set(why, whylen, "out of memory");
		return NULL;
	}
	if (w->log_path)
		tern_conf_set_log_cb(conf, on_log, w->log_path);
	if (tern_conf_set(conf, "bootstrap.servers", w->bootstrap, why, whylen))
		goto fail;
	for (; kv && kv[0]; kv += 2)
		if (tern_conf_set(conf, kv[0], kv[1], why, whylen))
			goto fail;
	return conf;
fail:
	tern_conf_destroy(conf);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Producers                                                                 */

/* On the producer's sender thread (or the destroying thread). */
static void on_delivery(void *opaque, const tern_delivery_t *d)
{
	wl_rec_t *rec = opaque;
	wl_t *w = rec->pp->w;
	char v[96];
	size_t n = value_of(w, rec->pp->idx, rec->n, v, sizeof v);

	pthread_mutex_lock(&w->mu);
	if (d->err == TERN_OK && d->partition >= 0 && d->partition < w->o.partitions &&
	    d->offset >= 0) {
		hist_check(w, chk_ack(w->h, wl_now_ms(), d->partition, d->offset, v, n));
		w->lat[lat_bucket(wl_now_ms() - rec->t_ms)]++;
		if (d->offset > w->max_off[d->partition])
			w->max_off[d->partition] = d->offset;
		atomic_fetch_add(&w->acked, 1);
		pthread_cond_broadcast(&w->acked_cv);
	} else {
		if (d->err == TERN_OK) /* an acknowledgement without a position */
			thread_error(w, "%s acknowledged at partition %" PRId32 " offset %" PRId64,
				     v, d->partition, d->offset);
		hist_check(w, chk_fail(w->h, wl_now_ms(), v, n, d->err ? d->err : TERN_ERR__STATE));
		atomic_fetch_add(&w->failed, 1);
	}
	pthread_mutex_unlock(&w->mu);
	free(rec);
}

/* Sleeps until due (monotonic ms) or the stop flag, in steps of 50 ms. */
static void pace(wl_t *w, int64_t due)
{
	for (int64_t now = wl_now_ms(); now < due && !atomic_load(&w->stop_prod);
	     now = wl_now_ms()) {
		int64_t ms = due - now < 50 ? due - now : 50;
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

		nanosleep(&ts, NULL);
	}
}

/* ---- scenarios_crash.c ---- */
static tern_producer_t *producer_new(wl_t *w, char *why, size_t whylen);

/* An idempotent producer goes fatal when the brokers lost records it had
 * acknowledged (its sequences and theirs disagree, as after a loss that
 * flush.policy=async or an unclean election allows; librdkafka does the
 * same): as an application would, the workload replaces it with a new one
 * (a new producer id) and goes on; the loss shows in the checker, and the
 * fatal error stays the first thread error (wl_stop). 0, or -1 when no new
 * producer could be made. */
static int replace_producer(wl_prod_t *pp)
{
	char why[256];
	tern_producer_t *np = producer_new(pp->w, why, sizeof why);

	if (!np)
		return -1;
	tern_producer_destroy(pp->p);
	pp->p = np;
	return 0;
}
/* ---- end scenarios_crash.c ---- */

static void *producer_main(void *arg)
{
	wl_prod_t *pp = arg;
	wl_t *w = pp->w;
	double step = 1000.0 / w->o.rate, due = (double)wl_now_ms();

	for (long n = 0; !atomic_load(&w->stop_prod); n++) {
		int32_t part = (int32_t)(n % w->o.partitions);
		wl_rec_t *rec;
		char v[96];
		size_t len;
		tern_err_t err;

		pace(w, (int64_t)due);
		if (atomic_load(&w->stop_prod))
			break;
		/* Behind by more than a second (a blocked produce): no burst. */
		due += step;
		if (due < (double)wl_now_ms() - 1000)
			due = (double)wl_now_ms();
		len = value_of(w, pp->idx, n, v, sizeof v);
		rec = malloc(sizeof *rec);
		pthread_mutex_lock(&w->mu);
		if (!rec) {
			w->hist_err = true;
			pthread_mutex_unlock(&w->mu);
			break;
		}
		hist_check(w, chk_attempt(w->h, wl_now_ms(), v, len));
		pthread_mutex_unlock(&w->mu);
		atomic_fetch_add(&w->attempted, 1);
		*rec = (wl_rec_t){pp, n, wl_now_ms()};
		err =
		    tern_produce(pp->p, w->topic, part, NULL, 0, v, len, NULL, 0, on_delivery, rec);
		if (err == TERN_OK)
			continue;
		free(rec);
		pthread_mutex_lock(&w->mu);
		hist_check(w, chk_fail(w->h, wl_now_ms(), v, len, err));
		if (err == TERN_ERR__FATAL)
			thread_error(w, "producer %d: %s", pp->idx, tern_err_name(err));
		pthread_mutex_unlock(&w->mu);
		atomic_fetch_add(&w->failed, 1);
		/* ---- scenarios_crash.c ---- */
		if (err == TERN_ERR__FATAL && replace_producer(pp) < 0)
			break;
		/* ---- end scenarios_crash.c ---- */
	}
	return NULL;
}

static tern_producer_t *producer_new(wl_t *w, char *why, size_t whylen)
{
	char bm[32], rt[32], dt[32];
	const char *kv[] = {"enable.idempotence",
			    "true",
			    "acks",
			    "all",
			    "linger.ms",
			    "5",
			    "buffer.memory",
			    bm,
			    "request.timeout.ms",
			    rt,
			    "delivery.timeout.ms",
			    dt,
			    "retry.backoff.ms",
			    "50",
			    "max.block.ms",
			    "2000",
			    NULL};
	tern_conf_t *conf;
	tern_producer_t *p;

	snprintf(bm, sizeof bm, "%ld", w->o.buffer_memory);
	snprintf(rt, sizeof rt, "%d", w->o.request_timeout_ms);
	snprintf(dt, sizeof dt, "%d", w->o.delivery_timeout_ms);
	conf = conf_new(w, kv, why, whylen);
	if (!conf)
		return NULL;
	p = tern_producer_new(conf, why, whylen);
	if (!p)
		tern_conf_destroy(conf);
	return p;
}

/* ------------------------------------------------------------------------ */
/* Consumers                                                                 */

static tern_consumer_t *consumer_new(wl_t *w, char *why, size_t whylen)
{
	char rt[32];
	const char *kv[] = {"auto.offset.reset",
			    "none",
			    "enable.auto.commit",
			    "false",
			    "request.timeout.ms",
			    rt,
			    "fetch.max.wait.ms",
			    "200",
			    NULL};
	tern_conf_t *conf;
	tern_consumer_t *c;

	snprintf(rt, sizeof rt, "%d", w->o.request_timeout_ms);
	conf = conf_new(w, kv, why, whylen);
	if (!conf)
		return NULL;
	c = tern_consumer_new(conf, why, whylen);
	if (!c)
		tern_conf_destroy(conf);
	return c;
}

/* Polls c once (at most timeout_ms) for session and records what came:
 * a read, or for a partition that waits for a seek, the seek (to the log
 * start after OFFSET_OUT_OF_RANGE or _NO_OFFSET, to the same offset after
 * CORRUPT_MESSAGE: the next leader may serve it). Returns poll's error. */
static tern_err_t poll_once(wl_t *w, tern_consumer_t *c, int32_t session, bool drain,
			    int timeout_ms)
{
	tern_message_t *m = NULL;
	tern_err_t err = tern_consumer_poll(c, timeout_ms, &m);
	int64_t to;

	if (err == TERN_OK) {
		pthread_mutex_lock(&w->mu);
		hist_check(w, chk_read(w->h, wl_now_ms(), session, drain, m->partition, m->offset,
				       m->value ? m->value : "", m->value ? m->value_len : 0));
		pthread_mutex_unlock(&w->mu);
		if (!drain)
			atomic_fetch_add(&w->reads, 1);
	} else if (m && m->partition >= 0 &&
		   (err == TERN_ERR_OFFSET_OUT_OF_RANGE || err == TERN_ERR__NO_OFFSET ||
		    err == TERN_ERR_CORRUPT_MESSAGE)) {
		to = err == TERN_ERR_CORRUPT_MESSAGE && m->offset >= 0 ? m->offset
								       : TERN_OFFSET_BEGINNING;
		pthread_mutex_lock(&w->mu);
		hist_check(w, chk_seek(w->h, wl_now_ms(), session, m->partition, to));
		pthread_mutex_unlock(&w->mu);
		tern_consumer_seek(c, w->topic, m->partition, to);
	}
	tern_message_destroy(m);
	return err;
}

static void *consumer_main(void *arg)
{
	wl_cons_t *cc = arg;
	wl_t *w = cc->w;

	while (!atomic_load(&w->stop_cons))
		if (poll_once(w, cc->c, cc->idx, false, 100) == TERN_ERR__CLOSED)
			break;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */

wl_t *wl_new(const wl_opts_t *o, chk_history_t *h, char *why, size_t whylen)
{
	pthread_condattr_t ca;
	wl_t *w;

	if (!o->bootstrap || !o->topic || o->partitions < 1 || o->producers < 1 ||
	    o->producers > WL_MAX_THREADS || o->consumers < 0 || o->consumers > WL_MAX_THREADS ||
	    o->rate < 1 || !h) {
		why_set(why, whylen, "workload options out of range");
		return NULL;
	}
	w = calloc(1, sizeof *w);
	if (!w)
		goto nomem;
	w->o = *o;
	w->h = h;
	w->bootstrap = strdup(o->bootstrap);
	w->topic = strdup(o->topic);
	w->log_path = o->log_path ? strdup(o->log_path) : NULL;
	w->max_off = malloc((size_t)o->partitions * sizeof *w->max_off);
	if (!w->bootstrap || !w->topic || (o->log_path && !w->log_path) || !w->max_off)
		goto nomem;
	w->o.bootstrap = w->bootstrap;
	w->o.topic = w->topic;
	w->o.log_path = w->log_path;
	for (int i = 0; i < o->partitions; i++)
		w->max_off[i] = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->acked_cv, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < WL_MAX_THREADS; i++) {
		w->prod[i] = (wl_prod_t){.w = w, .idx = i};
		w->cons[i] = (wl_cons_t){.w = w, .idx = i};
	}
	return w;
nomem:
	if (w) {
		free(w->bootstrap);
		free(w->topic);
		free(w->log_path);
		free(w->max_off);
		free(w);
	}
	why_set(why, whylen, "out of memory");
	return NULL;
}

int wl_start(wl_t *w, char *why, size_t whylen)
{
	/* Every client first, so that a configuration error starts nothing. */
	for (int i = 0; i < w->o.producers; i++) {
		w->prod[i].p = producer_new(w, why, whylen);
		if (!w->prod[i].p)
			return -1;
	}
	for (int i = 0; i < w->o.consumers; i++) {
		w->cons[i].c = consumer_new(w, why, whylen);
		if (!w->cons[i].c)
			return -1;
		for (int32_t part = i; part < w->o.partitions; part += w->o.consumers) {
			tern_err_t err = tern_consumer_assign(w->cons[i].c, w->topic, part,
							      TERN_OFFSET_BEGINNING);

			if (err) {
				why_set(why, whylen, "assign %s-%" PRId32 ": %s", w->topic, part,
					tern_err_name(err));
				return -1;
			}
		}
	}
	for (int i = 0; i < w->o.consumers; i++) {
		if (pthread_create(&w->cons[i].th, NULL, consumer_main, &w->cons[i])) {
			why_set(why, whylen, "pthread_create: %s", strerror(errno));
			return -1;
		}
		w->cons[i].running = true;
	}
	for (int i = 0; i < w->o.producers; i++) {
		if (pthread_create(&w->prod[i].th, NULL, producer_main, &w->prod[i])) {
			why_set(why, whylen, "pthread_create: %s", strerror(errno));
			return -1;
		}
		w->prod[i].running = true;
	}
	return 0;
}

int wl_stop(wl_t *w, int flush_ms, char *why, size_t whylen)
{
	char fatal[256] = "";
	int rc = 0;

	atomic_store(&w->stop_prod, true);
	for (int i = 0; i < WL_MAX_THREADS; i++) {
		wl_prod_t *pp = &w->prod[i];

		if (pp->running) {
			pthread_join(pp->th, NULL);
			pp->running = false;
		}
		if (!pp->p)
			continue;
		if (flush_ms >= 0 && tern_producer_flush(pp->p, flush_ms) != TERN_OK && rc == 0) {
			why_set(why, whylen, "producer %d: %zu records outstanding after %d ms", i,
				tern_producer_outstanding(pp->p), flush_ms);
			rc = -1;
		}
		if (tern_producer_fatal_error(pp->p, fatal, sizeof fatal) != TERN_OK && rc == 0) {
			why_set(why, whylen, "producer %d: fatal: %s", i, fatal);
			rc = -1;
		}
		tern_producer_destroy(pp->p);
		pp->p = NULL;
	}
	atomic_store(&w->stop_cons, true);
	for (int i = 0; i < WL_MAX_THREADS; i++) {
		wl_cons_t *cc = &w->cons[i];

		if (cc->running) {
			pthread_join(cc->th, NULL);
			cc->running = false;
		}
		tern_consumer_close(cc->c);
		cc->c = NULL;
	}
	pthread_mutex_lock(&w->mu);
	if (rc == 0 && w->hist_err) {
		why_set(why, whylen, "the history could not take every event (out of memory)");
		rc = -1;
	} else if (rc == 0 && w->thread_err[0]) {
		why_set(why, whylen, "%s", w->thread_err);
		rc = -1;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void wl_free(wl_t *w)
{
	if (!w)
		return;
	wl_stop(w, -1, NULL, 0);
	pthread_cond_destroy(&w->acked_cv);
	pthread_mutex_destroy(&w->mu);
	free(w->bootstrap);
	free(w->topic);
	free(w->log_path);
	free(w->max_off);
	free(w);
}

/* ------------------------------------------------------------------------ */
/* The drain                                                                 */

/* Fills end[] with every partition's HWM, asked until each covers the
 * highest acknowledged offset or has not moved for WL_HWM_STABLE_MS; -1
 * with why at the deadline. */
static int drain_ends(wl_t *w, int64_t *end, int64_t deadline, char *why, size_t whylen)
{
	int64_t last_change = wl_now_ms();
	tern_admin_t *a = NULL;
	tern_conf_t *conf;
	int rc = -1;

	for (int i = 0; i < w->o.partitions; i++)
		end[i] = -1;
	conf = conf_new(w, (const char *const[]){"request.timeout.ms", "3000", NULL}, why, whylen);
	if (!conf)
		return -1;
	a = tern_admin_new(conf, why, whylen);
	if (!a) {
		tern_conf_destroy(conf);
		return -1;
	}
	for (;;) {
		tern_topic_info_t *t = NULL;
		tern_err_t err = tern_admin_describe_topic(a, w->topic, &t, why, whylen);
		bool known = err == TERN_OK && t->npartitions >= (size_t)w->o.partitions;
		bool covered = known, moved = false;

		for (int i = 0; known && i < w->o.partitions; i++) {
			int64_t hwm = t->partitions[i].high_watermark;

			if (hwm < 0) {
				known = false;
				why_set(why, whylen, "partition %d: no high-water mark (%s)", i,
					tern_err_name(t->partitions[i].offsets_err));
				break;
			}
			if (hwm != end[i])
				moved = true;
			end[i] = hwm;
			pthread_mutex_lock(&w->mu);
			covered = covered && hwm > w->max_off[i];
			pthread_mutex_unlock(&w->mu);
		}
		tern_topic_info_destroy(t);
		if (known && moved)
			last_change = wl_now_ms();
		if (known && (covered || wl_now_ms() - last_change >= WL_HWM_STABLE_MS)) {
			rc = 0;
			break;
		}
		if (wl_now_ms() >= deadline) {
			if (known)
				why_set(why, whylen,
					"high-water marks still moving at the deadline");
			else if (err)
				why_set(why, whylen, "describe %s: %s", w->topic,
					tern_err_name(err));
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000}, NULL);
	}
	tern_admin_destroy(a);
	return rc;
}

int wl_drain(wl_t *w, int deadline_ms, char *why, size_t whylen)
{
	int64_t deadline = wl_now_ms() + deadline_ms, *end;
	tern_consumer_t *c = NULL;
	int32_t session;
	int rc = -1;

	end = calloc((size_t)w->o.partitions, sizeof *end);
	if (!end) {
		why_set(why, whylen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	session = WL_DRAIN_SESSION + w->drains++;
	pthread_mutex_unlock(&w->mu);
	if (drain_ends(w, end, deadline, why, whylen))
		goto out;
	c = consumer_new(w, why, whylen);
	if (!c)
		goto out;
	for (int32_t p = 0; p < w->o.partitions; p++) {
		tern_err_t err = tern_consumer_assign(c, w->topic, p, TERN_OFFSET_BEGINNING);

		if (err) {
			why_set(why, whylen, "assign %s-%" PRId32 ": %s", w->topic, p,
				tern_err_name(err));
			goto out;
		}
	}
	for (;;) {
		int32_t behind = -1;
		int64_t pos = TERN_OFFSET_INVALID;

		for (int32_t p = 0; p < w->o.partitions && behind < 0; p++) {
			if (tern_consumer_position(c, w->topic, p, &pos) != TERN_OK ||
			    pos == TERN_OFFSET_INVALID || pos < end[p])
				behind = p;
		}
		if (behind < 0) {
			rc = 0;
			break;
		}
		if (wl_now_ms() >= deadline) {
			why_set(why, whylen,
				"drain: partition %" PRId32 " at %" PRId64 " of %" PRId64
				" at the deadline",
				behind, pos, end[behind]);
			break;
		}
		if (poll_once(w, c, session, true, 100) == TERN_ERR__CLOSED) {
			why_set(why, whylen, "drain: consumer closed");
			break;
		}
	}
	pthread_mutex_lock(&w->mu);
	if (rc == 0 && w->hist_err) {
		why_set(why, whylen, "the history could not take every event (out of memory)");
		rc = -1;
	}
	pthread_mutex_unlock(&w->mu);
out:
	tern_consumer_close(c);
	free(end);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Marks and progress                                                        */

/* ---- scenarios_env.c ---- */
int64_t wl_ack_latency_ms(wl_t *w, double q, bool reset)
{
	long total = 0, seen = 0;
	int64_t ms = -1;

	pthread_mutex_lock(&w->mu);
	for (int b = 0; b < WL_LAT_BUCKETS; b++)
		total += w->lat[b];
	for (int b = 0; b < WL_LAT_BUCKETS && total > 0; b++) {
		seen += w->lat[b];
		if ((double)seen >= q * (double)total) {
			ms = lat_bound(b);
			break;
		}
	}
	if (reset)
		memset(w->lat, 0, sizeof w->lat);
	pthread_mutex_unlock(&w->mu);
	return ms;
}
/* ---- end scenarios_env.c ---- */

void wl_mark(wl_t *w, chk_mark_t mark)
{
	pthread_mutex_lock(&w->mu);
	hist_check(w, chk_mark(w->h, wl_now_ms(), mark));
	pthread_mutex_unlock(&w->mu);
}

long wl_acked(wl_t *w)
{
	return atomic_load(&w->acked);
}

long wl_failed(wl_t *w)
{
	return atomic_load(&w->failed);
}

long wl_attempted(wl_t *w)
{
	return atomic_load(&w->attempted);
}

long wl_reads(wl_t *w)
{
	return atomic_load(&w->reads);
}

int wl_wait_acked(wl_t *w, long n, int timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	while (atomic_load(&w->acked) < n && rc == 0)
		rc = pthread_cond_timedwait(&w->acked_cv, &w->mu, &ts);
	pthread_mutex_unlock(&w->mu);
	return atomic_load(&w->acked) >= n ? 0 : -1;
}
