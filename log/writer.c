/* The io_uring writer threads. Each owns one ring and serves the logs
 * assigned to it in rounds: take every log's queued chunks, write them all
 * in one submission, then fdatasync every log that needs it in a second
 * one (group commit: all appends queued during the previous round share
 * one fsync), then complete the appends.
 *
 * Under flush.policy=async an append is complete once written, and the
 * periodic fdatasync (every flush.ms) runs on the writer's flusher thread,
 * not in a round: a second's worth of writes can take a hundred
 * milliseconds to sync, and appends arriving meanwhile would wait for it
 * (measured: p99 of acks=1 at 300k records/s 4x that without the flush). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log_int.h"

#define WRITER_RING_ENTRIES 256
#define WRITER_IDLE_MS	    1000

/* A periodic fdatasync of an async log handed to the flusher. */
typedef struct flush_job {
	struct flush_job *next;
	log_t *l;	/* l->flush_inflight is set until the job is done */
	int fd;		/* a dup of the active segment's fd, owned */
	int64_t target; /* the log's LEO when its writes were done */
} flush_job_t;

struct log_writer {
	pthread_t th;
	log_ring_t *ring;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* work kicked, stop, round finished */
	log_t **logs;
	size_t nlogs, cap;
	bool stop, kicked, in_round;
	int64_t next_wake_ms; /* monotonic: earliest async flush due */

	pthread_t fth;	    /* the flusher */
	pthread_cond_t fcv; /* a job queued, or fstop */
	flush_job_t *jobs;  /* under mu, FIFO: the oldest first */
	bool fstop;
};

/* What one round does for one log. */
typedef struct work {
	log_t *l;
	log_chunk_t *chunks;
	int fd, fd_idx, fd_tidx;
	size_t op_first, op_n; /* its write ops */
	bool sync;
	int64_t sync_target;
	bool bg_sync;	/* async flush due: the flusher syncs after the writes */
	tern_err_t err; /* the I/O error this round hit, if any */
	/* Completions decided this round, fired once no lock is held. */
	log_waiter_t *done;
	tern_err_t *done_err;
	size_t ndone, done_cap;
} work_t;

void log__chunk_free(log_dir_t *d, log_chunk_t *c)
{
	if (c->cap == LOG_CHUNK_BYTES)
		log__buf_put(d, c->buf);
	else
		free(c->buf);
	free(c->idx);
	free(c->tidx);
	free(c->enc);
	free(c);
}

/* Encodes a chunk's index entries for the files. */
static tern_err_t chunk_encode(log_chunk_t *c)
{
	size_t ilen = (size_t)c->idx_n * LOG_INDEX_ENTRY_SIZE;
	size_t tlen = (size_t)c->tidx_n * LOG_TINDEX_ENTRY_SIZE;

	if ((!ilen && !tlen) || c->enc)
		return TERN_OK;
	c->enc = malloc(ilen + tlen);
	if (!c->enc)
		return TERN_ERR__NOMEM;
	for (uint32_t i = 0; i < c->idx_n; i++)
		log__idx_encode(c->enc + (size_t)i * LOG_INDEX_ENTRY_SIZE, &c->idx[i]);
	for (uint32_t i = 0; i < c->tidx_n; i++)
		log__tidx_encode(c->enc + ilen + (size_t)i * LOG_TINDEX_ENTRY_SIZE, &c->tidx[i]);
	return TERN_OK;
}

static bool flush_due(const log_t *l, int64_t now)
{
	if (l->flush_req)
		return true;
	if (l->durable >= l->leo || l->flush_inflight)
		return false;
	if (l->cfg.flush_policy == LOG_FLUSH_SYNC)
		return true;
	return now - l->last_flush_mono_ms >= l->cfg.flush_ms;
}

/* Undoes the chunks of a failed write (and every one queued after it):
 * cuts the file back to the last whole batch written, restores the index
 * counters, and resets the next offset. Called with l->mu held. */
static void rollback(log_t *l, log_chunk_t *failed, tern_err_t err)
{
	log_segment_t *seg = l->segs[l->nsegs - 1];
	log_chunk_t *c, *n;

	if (ftruncate(seg->fd, (off_t)seg->size) < 0)
		log__fail(l, tern_err_errno(errno),
			  "segment %020lld: cannot cut a failed write back to %llu bytes: %s",
			  (long long)seg->base, (unsigned long long)seg->size, strerror(errno));
	seg->pend_size = seg->size;
	seg->bytes_since_idx = failed->snap_bytes_since_idx;
	seg->pmax_ts = failed->snap_pmax_ts;
	seg->pmax_ts_offset = failed->snap_pmax_ts_offset;
	seg->tidx_last_ts = failed->snap_tidx_last_ts;
	seg->idx_next = seg->idx_n;
	seg->tidx_next = seg->tidx_n;
	for (c = l->pend_head; c; c = n) {
		n = c->next;
		l->pend_bytes -= c->len;
		log__chunk_free(l->dir, c);
	}
	l->pend_head = l->pend_tail = NULL;
	if (l->next > l->leo) {
		l->rolled_to = l->next;
		l->rolled_err = err;
	}
	l->next = l->leo;
	if (log_epoch_cache_truncate_from_end(&l->epochs, l->leo))
		log__persist_epochs(l);
}

static bool done_push(work_t *wk, const log_waiter_t *w, tern_err_t err)
{
	if (wk->ndone == wk->done_cap) {
		size_t ncap = wk->done_cap ? wk->done_cap * 2 : 16;
		log_waiter_t *nd = realloc(wk->done, ncap * sizeof *nd);
		tern_err_t *ne;

		if (!nd)
			return false;
		wk->done = nd;
		ne = realloc(wk->done_err, ncap * sizeof *ne);
		if (!ne)
			return false;
		wk->done_err = ne;
		wk->done_cap = ncap;
	}
	wk->done[wk->ndone] = *w;
	wk->done_err[wk->ndone] = err;
	wk->ndone++;
	return true;
}

/* Moves the completions that the log's state decides into wk: appends the
 * log has reached under its policy succeed; with err, those a failure
 * undid fail with it: every one beyond the log end after a rollback, or all
 * that are left once the log has failed. Called with l->mu held, in the
 * same critical section as the rollback, so that an append made after it
 * is never failed by it. (Should memory run out, the rest stay queued for
 * a later round.) */
static void collect(log_t *l, work_t *wk, tern_err_t err)
{
	int64_t reached = l->cfg.flush_policy == LOG_FLUSH_SYNC ? l->durable : l->leo;

	while (l->w_len) {
		log_waiter_t *w = &l->waiters[l->w_head];

		if (w->end > reached && !(err && l->failed))
			break;
		if (!done_push(wk, w, w->end <= reached ? TERN_OK : err))
			return;
		l->w_head = (l->w_head + 1) % l->w_cap;
		l->w_len--;
	}
	if (!err)
		return;
	/* The undone suffix, newest last so they fire in offset order. */
	size_t k = l->w_len;

	while (k && l->waiters[(l->w_head + k - 1) % l->w_cap].end > l->leo)
		k--;
	for (size_t i = k; i < l->w_len; i++)
		if (!done_push(wk, &l->waiters[(l->w_head + i) % l->w_cap], err))
			return;
	l->w_len = k;
}

/* Fires wk's completions. Called without locks. */
static void fire(work_t *wk)
{
	for (size_t i = 0; i < wk->ndone; i++)
		wk->done[i].cb(wk->done[i].opaque, wk->done_err[i], wk->done[i].base,
			       wk->done[i].end - 1);
	free(wk->done);
	free(wk->done_err);
	wk->done = NULL;
	wk->done_err = NULL;
	wk->ndone = wk->done_cap = 0;
}

static void finish_log(work_t *wk)
{
	log_t *l = wk->l;

	pthread_mutex_lock(&l->mu);
	l->inflight = false;
	collect(l, wk, l->failed ? (wk->err ? wk->err : l->failed) : TERN_OK);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	fire(wk);
}

/* Fires, before the round's fsyncs, the completions an async log's
 * writes decided (those at or below its LEO); finish_log() does the rest.
 * Nothing when the round failed the log: finish_log() fails them in
 * order. */
static void early_finish(work_t *wk)
{
	log_t *l = wk->l;

	pthread_mutex_lock(&l->mu);
	if (!l->failed && !wk->err)
		collect(l, wk, TERN_OK);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	fire(wk);
}

/* Hands an async log's due fdatasync to the flusher: its target is the
 * LEO now that the round's writes are done. Without a dup of the fd (out
 * of descriptors or memory) the flush stays due for a later round. */
static void flush_dispatch(log_writer_t *w, work_t *wk)
{
	log_t *l = wk->l;
	flush_job_t *j = calloc(1, sizeof *j), **tail;

	if (!j)
		return;
	pthread_mutex_lock(&l->mu);
	if (l->failed || wk->err || l->flush_inflight ||
	    (j->fd = fcntl(wk->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		pthread_mutex_unlock(&l->mu);
		free(j);
		return;
	}
	j->l = l;
	j->target = l->leo;
	l->flush_inflight = true;
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_lock(&w->mu);
	for (tail = &w->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	pthread_cond_signal(&w->fcv);
	pthread_mutex_unlock(&w->mu);
}

/* Runs one job: the fdatasync, then the log's durable end (or its failure:
 * after a failed fsync nothing since the last good one can be trusted).
 * No exclusive operation (truncation, roll, close) runs meanwhile: they
 * wait for flush_inflight. */
static void flush_run(flush_job_t *j)
{
	log_t *l = j->l;
	int rc = log__fsync(j->fd, true);

	pthread_mutex_lock(&l->mu);
	if (rc < 0)
		log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
			  "%s: fdatasync failed after offset %lld: %s", l->name,
			  (long long)l->durable, strerror(-rc));
	else if (j->target > l->durable)
		l->durable = j->target;
	l->last_flush_mono_ms = tern_mono_ms();
	l->flush_inflight = false;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	close(j->fd);
	free(j);
}

static void *flusher_main(void *arg)
{
	log_writer_t *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		flush_job_t *j = w->jobs;

		if (!j) {
			if (w->fstop)
				break;
			pthread_cond_wait(&w->fcv, &w->mu);
			continue;
		}
		w->jobs = j->next;
		pthread_mutex_unlock(&w->mu);
		flush_run(j);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Gives a work's chunks back to the log's queue, untouched (a round that
 * could not run them). */
static void requeue(work_t *wk)
{
	log_t *l = wk->l;
	log_chunk_t *tail = wk->chunks;

	pthread_mutex_lock(&l->mu);
	if (tail) {
		while (tail->next)
			tail = tail->next;
		tail->next = l->pend_head;
		if (!l->pend_head)
			l->pend_tail = tail;
		l->pend_head = wk->chunks;
		wk->chunks = NULL;
	}
	l->inflight = false;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* Applies the results of a log's writes: advances the log end chunk by
 * chunk until the first failure. */
static void apply_writes(work_t *wk, const log_io_t *ops)
{
	log_t *l = wk->l;
	log_segment_t *seg;
	size_t op = wk->op_first;
	log_chunk_t *c = wk->chunks, *n;

	pthread_mutex_lock(&l->mu);
	seg = l->segs[l->nsegs - 1];
	for (; c; c = n) {
		ssize_t bad = 0;
		size_t nops = 1 + (c->idx_n ? 1 : 0) + (c->tidx_n ? 1 : 0);

		n = c->next;
		for (size_t k = 0; k < nops; k++)
			if (ops[op + k].res < 0 && !bad)
				bad = ops[op + k].res;
		op += nops;
		if (bad) {
			int e = (int)-bad;

			wk->err = tern_err_errno(e);
			/* The failed chunk and the ones after it go back to
			 * the queue's head so that rollback frees them all. */
			c->next = n;
			{
				log_chunk_t *tail = c;

				while (tail->next)
					tail = tail->next;
				tail->next = l->pend_head;
				if (!l->pend_head)
					l->pend_tail = tail;
				l->pend_head = c;
			}
			rollback(l, c, wk->err);
			if (e != ENOSPC && e != EDQUOT)
				log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
					  "segment %020lld of %s: write failed at offset %lld: %s",
					  (long long)seg->base, l->name, (long long)l->leo,
					  strerror(e));
			collect(l, wk, wk->err);
			break;
		}
		for (uint32_t i = 0; i < c->idx_n; i++)
			log__seg_push_idx(seg, c->idx[i].rel, c->idx[i].pos);
		for (uint32_t i = 0; i < c->tidx_n; i++)
			log__seg_push_tidx(seg, c->tidx[i].ts, c->tidx[i].rel);
		if (c->max_ts > seg->max_ts) {
			seg->max_ts = c->max_ts;
			seg->max_ts_offset = c->max_ts_offset;
		}
		seg->size = c->seg_size_after;
		seg->end = c->end;
		l->leo = c->end;
		l->pend_bytes -= c->len;
		log__chunk_free(l->dir, c);
	}
	wk->chunks = NULL;
	/* After a full disk what was written still gets its fsync. */
	wk->sync = wk->sync && !l->failed;
	wk->sync_target = l->leo;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void apply_sync(work_t *wk, const log_io_t *op, int64_t now)
{
	log_t *l = wk->l;

	pthread_mutex_lock(&l->mu);
	if (op->res < 0) {
		wk->err = tern_err_errno((int)-op->res);
		/* After a failed fsync the kernel may have dropped the dirty
		 * pages: nothing since the last good fsync can be trusted. */
		log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
			  "%s: fdatasync failed after offset %lld: %s", l->name,
			  (long long)l->durable, strerror((int)-op->res));
	} else {
		if (wk->sync_target > l->durable)
			l->durable = wk->sync_target;
		l->flush_req = false;
		l->last_flush_mono_ms = now;
	}
	pthread_mutex_unlock(&l->mu);
}

/* One round over the writer's logs. */
static void round_run(log_writer_t *w, log_t **logs, size_t nlogs)
{
	work_t *wk = calloc(nlogs ? nlogs : 1, sizeof *wk);
	log_io_t *ops = NULL;
	size_t nwk = 0, nops = 0, cap = 0;
	int64_t now = tern_mono_ms(), next_wake = now + WRITER_IDLE_MS;

	if (!wk)
		return;
	for (size_t i = 0; i < nlogs; i++) {
		log_t *l = logs[i];
		work_t *k = &wk[nwk];
		log_segment_t *seg;

		pthread_mutex_lock(&l->mu);
		if (l->failed) {
			/* Nothing more reaches a failed log: undo its queue and
			 * fail every append still waiting. */
			if (l->pend_head)
				rollback(l, l->pend_head, l->failed);
			if (l->w_len) {
				k->l = l;
				l->inflight = true;
				nwk++;
			}
			pthread_mutex_unlock(&l->mu);
			continue;
		}
		if (!l->pend_head && !flush_due(l, now)) {
			if (l->cfg.flush_policy == LOG_FLUSH_ASYNC && l->durable < l->leo &&
			    !l->flush_inflight &&
			    l->last_flush_mono_ms + l->cfg.flush_ms < next_wake)
				next_wake = l->last_flush_mono_ms + l->cfg.flush_ms;
			pthread_mutex_unlock(&l->mu);
			continue;
		}
		k->sync = l->cfg.flush_policy == LOG_FLUSH_SYNC || flush_due(l, now);
		k->sync_target = l->leo;
		if (k->sync && l->cfg.flush_policy != LOG_FLUSH_SYNC && !l->flush_req) {
			k->sync = false;
			k->bg_sync = true;
		}
		/* An async log written now and not synced is due later. */
		if (!k->sync && !k->bg_sync && !l->flush_inflight &&
		    l->last_flush_mono_ms + l->cfg.flush_ms < next_wake)
			next_wake = l->last_flush_mono_ms + l->cfg.flush_ms;
		seg = l->segs[l->nsegs - 1];
		k->l = l;
		k->chunks = l->pend_head;
		l->pend_head = l->pend_tail = NULL;
		l->inflight = true;
		k->fd = seg->fd;
		k->fd_idx = seg->fd_idx;
		k->fd_tidx = seg->fd_tidx;
		pthread_mutex_unlock(&l->mu);
		nwk++;
	}

	/* Phase 1: every chunk's data and index entries, one submission. */
	for (size_t i = 0; i < nwk; i++) {
		work_t *k = &wk[i];

		k->op_first = nops;
		for (log_chunk_t *c = k->chunks; c; c = c->next) {
			size_t ilen = (size_t)c->idx_n * LOG_INDEX_ENTRY_SIZE;

			if (nops + 3 > cap) {
				size_t ncap = cap ? cap * 2 : 64;
				log_io_t *nop = realloc(ops, ncap * sizeof *ops);

				if (!nop)
					goto short_of_memory;
				ops = nop;
				cap = ncap;
			}
			if (chunk_encode(c))
				goto short_of_memory;
			ops[nops++] = (log_io_t){.type = LOG_IO_WRITE,
						 .fd = k->fd,
						 .buf = c->buf,
						 .len = c->len,
						 .off = (off_t)c->pos};
			if (c->idx_n)
				ops[nops++] =
				    (log_io_t){.type = LOG_IO_WRITE,
					       .fd = k->fd_idx,
					       .buf = c->enc,
					       .len = ilen,
					       .off = (off_t)c->idx_first * LOG_INDEX_ENTRY_SIZE};
			if (c->tidx_n)
				ops[nops++] =
				    (log_io_t){.type = LOG_IO_WRITE,
					       .fd = k->fd_tidx,
					       .buf = c->enc + ilen,
					       .len = (size_t)c->tidx_n * LOG_TINDEX_ENTRY_SIZE,
					       .off = (off_t)c->tidx_first * LOG_TINDEX_ENTRY_SIZE};
		}
		k->op_n = nops - k->op_first;
		continue;
	short_of_memory:
		/* Leave this log and the rest for the next round. */
		nops = k->op_first;
		for (size_t j = i; j < nwk; j++)
			requeue(&wk[j]);
		nwk = i;
		break;
	}
	if (nops)
		log__ring_run(w->ring, ops, nops);
	for (size_t i = 0; i < nwk; i++)
		if (wk[i].chunks)
			apply_writes(&wk[i], ops);

	/* Appends to async logs are complete once written: answer them now,
	 * not after the fsyncs below (a periodic fdatasync of a second's
	 * writes would otherwise hold every one of them: it made the p99 of
	 * acks=1 at 300k records/s 4x longer). */
	for (size_t i = 0; i < nwk; i++) {
		if (wk[i].l->cfg.flush_policy != LOG_FLUSH_SYNC)
			early_finish(&wk[i]);
		if (wk[i].bg_sync)
			flush_dispatch(w, &wk[i]);
	}

	/* Phase 2: one fdatasync per log that needs one. */
	nops = 0;
	if (cap < nwk) {
		log_io_t *nop = realloc(ops, nwk * sizeof *ops);

		if (!nop) {
			for (size_t i = 0; i < nwk; i++)
				wk[i].sync = false; /* retried next round */
		} else {
			ops = nop;
			cap = nwk;
		}
	}
	for (size_t i = 0; i < nwk; i++) {
		if (!wk[i].sync)
			continue;
		ops[nops++] = (log_io_t){.type = LOG_IO_FDATASYNC, .fd = wk[i].fd};
		wk[i].op_first = nops - 1;
	}
	if (nops) {
		const log_dir_opts_t *o = &wk[0].l->dir->opts;
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		log__ring_run(w->ring, ops, nops);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (o->fsync_observer)
			o->fsync_observer(o->observer_opaque,
					  (double)(t1.tv_sec - t0.tv_sec) +
					      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		now = tern_mono_ms();
		for (size_t i = 0; i < nwk; i++)
			if (wk[i].sync)
				apply_sync(&wk[i], &ops[wk[i].op_first], now);
	}
	for (size_t i = 0; i < nwk; i++)
		finish_log(&wk[i]);

	free(ops);
	free(wk);
	pthread_mutex_lock(&w->mu);
	if (next_wake < w->next_wake_ms || !w->next_wake_ms)
		w->next_wake_ms = next_wake;
	pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg)
{
	log_writer_t *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		log_t **logs;
		size_t n;

		if (!w->kicked) {
			tern_cond_wait_until(&w->cv, &w->mu,
					     w->next_wake_ms ? w->next_wake_ms
							     : tern_mono_ms() + WRITER_IDLE_MS);
			if (w->stop)
				break;
		}
		w->kicked = false;
		w->next_wake_ms = 0;
		n = w->nlogs;
		logs = malloc((n ? n : 1) * sizeof *logs);
		if (!logs)
			continue;
		if (n)
			memcpy(logs, w->logs, n * sizeof *logs);
		w->in_round = true;
		pthread_mutex_unlock(&w->mu);

		round_run(w, logs, n);
		free(logs);

		pthread_mutex_lock(&w->mu);
		w->in_round = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

tern_err_t log__writer_new(log_writer_t **out, char *errstr, size_t errlen)
{
	log_writer_t *w = calloc(1, sizeof *w);
	tern_err_t err;

	if (!w)
		return TERN_ERR__NOMEM;
	err = log__ring_new(WRITER_RING_ENTRIES, &w->ring, errstr, errlen);
	if (err) {
		free(w);
		return err;
	}
	pthread_mutex_init(&w->mu, NULL);
	tern_cond_init_mono(&w->cv);
	pthread_cond_init(&w->fcv, NULL);
	if (pthread_create(&w->fth, NULL, flusher_main, w) != 0) {
		err = TERN_ERR__NOMEM;
	} else if (pthread_create(&w->th, NULL, writer_main, w) != 0) {
		pthread_mutex_lock(&w->mu);
		w->fstop = true;
		pthread_cond_signal(&w->fcv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->fth, NULL);
		err = TERN_ERR__NOMEM;
	}
	if (err) {
		log__ring_free(w->ring);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		pthread_cond_destroy(&w->fcv);
		free(w);
		if (errstr)
			snprintf(errstr, errlen, "cannot start a writer thread");
		return err;
	}
	*out = w;
	return TERN_OK;
}

void log__writer_stop(log_writer_t *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	/* The flusher finishes the jobs queued (none once every log closed:
	 * closing waits for them), then stops. */
	pthread_mutex_lock(&w->mu);
	w->fstop = true;
	pthread_cond_signal(&w->fcv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->fth, NULL);
	log__ring_free(w->ring);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->fcv);
	free(w->logs);
	free(w);
}

void log__writer_add(log_writer_t *w, log_t *l)
{
	pthread_mutex_lock(&w->mu);
	if (w->nlogs == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		log_t **n = realloc(w->logs, ncap * sizeof *n);

		if (!n)
			abort(); /* a handful of pointers: out of memory here is fatal */
		w->logs = n;
		w->cap = ncap;
	}
	w->logs[w->nlogs++] = l;
	pthread_mutex_unlock(&w->mu);
}

void log__writer_remove(log_writer_t *w, log_t *l)
{
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->nlogs; i++) {
		if (w->logs[i] == l) {
			w->logs[i] = w->logs[--w->nlogs];
			break;
		}
	}
	/* The round in progress may still hold l: wait it out. */
	while (w->in_round)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void log__writer_kick(log_writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	w->kicked = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}
