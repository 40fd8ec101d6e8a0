/* tests/fault/workload.h: the fault harness's workload (TESTING.md,
 * "Workload"): P producer threads, each with its own idempotent acks=all
 * libtern producer writing unique values "s<seed>-p<producer>-<n>"
 * round-robin over the topic's partitions at a bounded rate; C consumer
 * threads reading their share of the partitions from the log start; after
 * wl_stop, a final drain by a fresh consumer from the log start to the
 * high-water marks. Every attempt, acknowledgement, failure, read, seek and
 * the scenario's marks go into a checker history (checker.h) with the
 * monotonic time in ms, appended under one mutex with the time read under
 * it, so the history is in time order.
 *
 * Consumers use auto.offset.reset=none: when a partition waits for a seek
 * (OFFSET_OUT_OF_RANGE after a truncation, CORRUPT_MESSAGE), the workload
 * seeks to the log start and logs the seek, so only explicit seeks move a
 * position back.
 *
 * Library code: nothing prints (libtern's log lines go to log_path);
 * errors come back as -1 with the reason in (why, whylen). */
#ifndef TERN_TESTS_FAULT_WORKLOAD_H
#define TERN_TESTS_FAULT_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "checker.h"

#define WL_MAX_THREADS 16

typedef struct wl_opts {
	const char *bootstrap; /* "tcp://host:port,..." */
	const char *topic;     /* must exist */
	int partitions;	       /* the topic's partitions, N */
	int producers;	       /* P, 1..WL_MAX_THREADS */
	int consumers;	       /* C, 0..WL_MAX_THREADS: partition i goes to consumer i % C */
	int rate;	       /* records per second per producer */
	uint64_t seed;	       /* in the values */
	long buffer_memory;    /* buffer.memory of each producer */
	int request_timeout_ms;
	int delivery_timeout_ms;
	const char *log_path; /* libtern's log lines appended here; NULL: dropped */
} wl_opts_t;

/* Defaults: 3 partitions, 2 producers at 100 records/s, 2 consumers,
 * buffer.memory 1 MB, request.timeout.ms 5000, delivery.timeout.ms 120000;
 * bootstrap and topic must still be set. */
void wl_opts_default(wl_opts_t *o);

typedef struct wl wl_t;

/* A workload recording into h (borrowed: it must outlive the workload,
 * and nothing else may append to it while the workload runs; use
 * wl_mark()). Nothing starts yet. */
wl_t *wl_new(const wl_opts_t *o, chk_history_t *h, char *why, size_t whylen);

/* Creates the producers and consumers and starts their threads. On
 * failure what was started keeps running until wl_free(). */
int wl_start(wl_t *w, char *why, size_t whylen);

/* Stops producing, waits at most flush_ms (< 0: not at all) for every
 * outstanding record's callback (those left fail with _DESTROY, and may
 * have been written all the same), destroys the producers, then
 * stops the consumers. -1 when records were left outstanding, a producer
 * hit a fatal error or the history could not take an event. */
int wl_stop(wl_t *w, int flush_ms, char *why, size_t whylen);

/* After wl_stop: a fresh consumer reads every partition from the log start
 * to its high-water mark (asked again until it covers every acknowledged
 * offset, or stops moving) and records drain reads; retried within
 * deadline_ms while leaders move. -1 when some partition could not be
 * read to its end in time (the reads made are recorded all the same). */
int wl_drain(wl_t *w, int deadline_ms, char *why, size_t whylen);

/* A mark at the current time (any thread). */
void wl_mark(wl_t *w, chk_mark_t mark);

/* Progress, from any thread. */
long wl_acked(wl_t *w);
long wl_failed(wl_t *w);
long wl_attempted(wl_t *w);
long wl_reads(wl_t *w);

/* ---- scenarios_env.c ---- */
/* The q-quantile (0..1) of the time from attempt to acknowledgement of
 * the records acknowledged since the start or the last reset, as an upper
 * bound in ms (10 ms steps below 1 s, 1 s steps above; -1: none); reset
 * starts a new count. Any thread. */
int64_t wl_ack_latency_ms(wl_t *w, double q, bool reset);
/* ---- end scenarios_env.c ---- */

/* Waits until at least n records are acknowledged, at most timeout_ms;
 * 0, or -1 on timeout. */
int wl_wait_acked(wl_t *w, long n, int timeout_ms);

/* The monotonic clock the history uses, in ms. */
int64_t wl_now_ms(void);

/* Stops whatever still runs (as wl_stop with no flush) and frees. */
void wl_free(wl_t *w);

#endif
