/* The partition log: appends (queued for the writer threads), rolls,
 * truncation, retention and the leader epochs. Opening and closing live in
 * open.c, reads in read.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log_int.h"

void log__fail(log_t *l, tern_err_t err, const char *fmt, ...)
{
	va_list ap;

	if (l->failed)
		return;
	l->failed = err ? err : TERN_ERR_KAFKA_STORAGE_ERROR;
	va_start(ap, fmt);
	vsnprintf(l->failure, sizeof l->failure, fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&l->cv);
}

void log__epoch_path(const log_t *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", l->path, LOG_EPOCH_FILE);
}

tern_err_t log__persist_epochs(log_t *l)
{
	char path[4096];

	log__epoch_path(l, path, sizeof path);
	return log_epoch_cache_write(&l->epochs, path);
}

tern_err_t log__push_segment(log_t *l, log_segment_t *seg)
{
	if (l->nsegs == l->segs_cap) {
		size_t ncap = l->segs_cap ? l->segs_cap * 2 : 8;
		log_segment_t **n = realloc(l->segs, ncap * sizeof *n);

		if (!n)
			return TERN_ERR__NOMEM;
		l->segs = n;
		l->segs_cap = ncap;
	}
	l->segs[l->nsegs++] = seg;
	return TERN_OK;
}

void log__drop_segment(log_t *l, size_t i)
{
	log_segment_t *seg = l->segs[i];

	log__seg_unlink(l->path, seg->base);
	memmove(&l->segs[i], &l->segs[i + 1], (l->nsegs - i - 1) * sizeof *l->segs);
	l->nsegs--;
	seg->deleted = true;
	log__seg_unref(l->dir, seg);
}

/* ------------------------------------------------------------------------ */
/* Exclusive operations: roll, truncation, close                             */

void log__begin_exclusive(log_t *l)
{
	while (l->busy)
		pthread_cond_wait(&l->cv, &l->mu);
	l->busy = true;
	while (l->pend_head || l->inflight || l->flush_inflight) {
		log__writer_kick(l->writer);
		pthread_cond_wait(&l->cv, &l->mu);
	}
}

void log__end_exclusive(log_t *l)
{
	l->busy = false;
	pthread_cond_broadcast(&l->cv);
}

/* Closes the active segment and starts a new one at the log end. Called
 * with l->mu held, inside log__begin_exclusive(). */
static tern_err_t roll(log_t *l)
{
	log_segment_t *old = log__active(l), *seg;
	char errstr[300] = "";
	tern_err_t err;
	int rc;

	err = log__seg_seal(old);
	if (err) {
		log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: closing segment %020lld: %s",
			  l->name, (long long)old->base, tern_strerror(err));
		return l->failed;
	}
	l->durable = l->leo;
	seg = log__seg_alloc(l->leo);
	if (!seg)
		err = TERN_ERR__NOMEM;
	if (!err)
		err = log__seg_create(l->path, seg, l->cfg.segment_index_bytes, errstr,
				      sizeof errstr);
	if (!err) {
		rc = log__fsync_dir(l->path);
		if (rc) {
			/* As with any failed fsync, nothing unsynced is trusted. */
			log__seg_free(seg);
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
				  "%s: fsync of the directory after creating segment %020lld: %s",
				  l->name, (long long)l->leo, strerror(-rc));
			return l->failed;
		}
	}
	if (!err)
		err = log__push_segment(l, seg);
	if (err) {
		/* Keep appending to the old segment (a full disk, say). */
		if (seg) {
			log__seg_unlink(l->path, seg->base);
			log__seg_free(seg);
		}
		if (log__seg_open_active(l->path, old, l->cfg.segment_index_bytes, NULL, 0))
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
				  "%s: cannot reopen segment %020lld after a failed roll", l->name,
				  (long long)old->base);
		return err;
	}
	seg->created_ms = log__now_ms(l->dir);
	l->recovery_point = seg->base;
	log__seg_lru_add(l->dir, old);
	return TERN_OK;
}

static bool roll_needed(const log_t *l, size_t len, int64_t count, int64_t now)
{
	const log_segment_t *seg = log__active(l);
	uint64_t idx_cap = (uint64_t)l->cfg.segment_index_bytes / LOG_INDEX_ENTRY_SIZE;
	uint64_t tidx_cap = (uint64_t)l->cfg.segment_index_bytes / LOG_TINDEX_ENTRY_SIZE;

	if (seg->pend_size == 0)
		return false;
	return seg->pend_size + len > (uint64_t)l->cfg.segment_bytes ||
	       seg->pend_size + len > UINT32_MAX || now - seg->created_ms >= l->cfg.segment_ms ||
	       seg->idx_next + 1 >= idx_cap || seg->tidx_next + 2 >= tidx_cap ||
	       l->next + count - seg->base > INT32_MAX;
}

/* ------------------------------------------------------------------------ */
/* Appends                                                                    */

/* Walks the caller's bytes: whole batches, sizes within limits, offsets
 * contiguous (followers). Counts offsets and finds the largest timestamp. */
static tern_err_t check_batches(const log_t *l, const uint8_t *buf, size_t len, bool assign,
				int64_t expect, int64_t *count, int64_t *max_ts)
{
	size_t p = 0;

	*count = 0;
	*max_ts = -1;
	if (len == 0)
		return TERN_ERR_CORRUPT_MESSAGE;
	while (p < len) {
		log_batch_hdr_t h;
		size_t size;

		if (log_batch_hdr_parse(buf + p, len - p, &h))
			return TERN_ERR_CORRUPT_MESSAGE;
		size = log_batch_size(&h);
		if (size > len - p || h.magic != LOG_BATCH_MAGIC || h.last_offset_delta < 0)
			return TERN_ERR_CORRUPT_MESSAGE;
		if (size > (size_t)l->cfg.max_batch_bytes)
			return TERN_ERR_MESSAGE_TOO_LARGE;
		if (!assign) {
			if (h.base_offset != expect)
				return TERN_ERR_OFFSET_OUT_OF_RANGE;
			expect = log_batch_last_offset(&h) + 1;
		}
		*count += (int64_t)h.last_offset_delta + 1;
		if (h.max_timestamp > *max_ts)
			*max_ts = h.max_timestamp;
		p += size;
	}
	return TERN_OK;
}

static log_chunk_t *chunk_for(log_t *l, size_t len)
{
	log_segment_t *seg = log__active(l);
	log_chunk_t *c = l->pend_tail;

	if (c && c->cap - c->len >= len)
		return c;
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->cap = len > LOG_CHUNK_BYTES ? len : LOG_CHUNK_BYTES;
	c->buf = c->cap == LOG_CHUNK_BYTES ? log__buf_get(l->dir) : malloc(c->cap);
	if (!c->buf) {
		free(c);
		return NULL;
	}
	c->pos = seg->pend_size;
	c->idx_first = seg->idx_next;
	c->tidx_first = seg->tidx_next;
	c->max_ts = c->max_ts_offset = -1;
	c->snap_bytes_since_idx = seg->bytes_since_idx;
	c->snap_pmax_ts = seg->pmax_ts;
	c->snap_pmax_ts_offset = seg->pmax_ts_offset;
	c->snap_tidx_last_ts = seg->tidx_last_ts;
	if (l->pend_tail)
		l->pend_tail->next = c;
	else
		l->pend_head = c;
	l->pend_tail = c;
	return c;
}

static tern_err_t chunk_push_idx(log_chunk_t *c, const log_index_entry_t *e)
{
	if (c->idx_n == c->idx_cap) {
		uint32_t ncap = c->idx_cap ? c->idx_cap * 2 : 16;
		log_index_entry_t *n = realloc(c->idx, ncap * sizeof *n);

		if (!n)
			return TERN_ERR__NOMEM;
		c->idx = n;
		c->idx_cap = ncap;
	}
	c->idx[c->idx_n++] = *e;
	return TERN_OK;
}

static tern_err_t chunk_push_tidx(log_chunk_t *c, const log_tindex_entry_t *e)
{
	if (c->tidx_n == c->tidx_cap) {
		uint32_t ncap = c->tidx_cap ? c->tidx_cap * 2 : 16;
		log_tindex_entry_t *n = realloc(c->tidx, ncap * sizeof *n);

		if (!n)
			return TERN_ERR__NOMEM;
		c->tidx = n;
		c->tidx_cap = ncap;
	}
	c->tidx[c->tidx_n++] = *e;
	return TERN_OK;
}

static tern_err_t push_waiter(log_t *l, int64_t base, int64_t end, log_append_cb *cb, void *opaque)
{
	if (l->w_len == l->w_cap) {
		size_t ncap = l->w_cap ? l->w_cap * 2 : 64;
		log_waiter_t *n = malloc(ncap * sizeof *n);

		if (!n)
			return TERN_ERR__NOMEM;
		for (size_t i = 0; i < l->w_len; i++)
			n[i] = l->waiters[(l->w_head + i) % l->w_cap];
		free(l->waiters);
		l->waiters = n;
		l->w_head = 0;
		l->w_cap = ncap;
	}
	l->waiters[(l->w_head + l->w_len) % l->w_cap] =
	    (log_waiter_t){.base = base, .end = end, .cb = cb, .opaque = opaque};
	l->w_len++;
	return TERN_OK;
}

/* Enters the leader epochs that buf's batches (checked) start at the log
 * end and writes the epoch file, before anything of the append is queued:
 * on a full disk (ENOSPC, EDQUOT) the cache is put back and the append
 * fails with that error, leaving the log usable; any other write failure
 * fails the log. l->mu held. */
static tern_err_t enter_epochs(log_t *l, const uint8_t *buf, size_t len, bool assign,
			       int32_t leader_epoch)
{
	log_epoch_entry_t *saved = NULL;
	size_t nsaved = l->epochs.n;
	bool changed = false;
	int64_t next = l->next;
	tern_err_t err;

	for (size_t p = 0; p < len;) {
		log_batch_hdr_t h;

		log_batch_hdr_parse(buf + p, len - p, &h);
		p += log_batch_size(&h);
		if (assign) {
			h.base_offset = next;
			if (leader_epoch >= 0)
				h.leader_epoch = leader_epoch;
		}
		next = log_batch_last_offset(&h) + 1;
		if (h.leader_epoch < 0 || h.leader_epoch <= log_epoch_cache_latest(&l->epochs))
			continue;
		if (!saved && nsaved) {
			saved = malloc(nsaved * sizeof *saved);
			if (!saved)
				return TERN_ERR__NOMEM;
			memcpy(saved, l->epochs.e, nsaved * sizeof *saved);
		}
		changed |= log_epoch_cache_assign(&l->epochs, h.leader_epoch, h.base_offset);
	}
	if (!changed) {
		free(saved);
		return TERN_OK;
	}
	err = log__persist_epochs(l);
	if (err == tern_err_errno(ENOSPC) || err == tern_err_errno(EDQUOT)) {
		/* assign() never shrinks the array: the saved entries fit. */
		if (nsaved)
			memcpy(l->epochs.e, saved, nsaved * sizeof *saved);
		l->epochs.n = nsaved;
	} else if (err) {
		log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: writing %s: %s", l->name,
			  LOG_EPOCH_FILE, tern_strerror(err));
		err = l->failed;
	}
	free(saved);
	return err;
}

tern_err_t log_append(log_t *l, const uint8_t *buf, size_t len, int32_t leader_epoch,
		      unsigned flags, log_append_info_t *info, log_append_cb *cb, void *opaque)
{
	bool assign = flags & LOG_APPEND_ASSIGN_OFFSETS;
	size_t max_pending = l->dir->opts.max_pending_bytes;
	int64_t count, max_ts, base;
	log_segment_t *seg;
	log_chunk_t *c;
	int64_t rolled = -1;
	log_roll_cb *roll_cb = NULL;
	void *roll_opaque = NULL;
	tern_err_t err;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		if (l->failed) {
			err = TERN_ERR_KAFKA_STORAGE_ERROR;
			goto out;
		}
		if (l->closing) {
			err = TERN_ERR__CLOSED;
			goto out;
		}
		if (l->busy || (l->pend_bytes && l->pend_bytes + len > max_pending)) {
			log__writer_kick(l->writer);
			pthread_cond_wait(&l->cv, &l->mu);
			continue;
		}
		err = check_batches(l, buf, len, assign, l->next, &count, &max_ts);
		if (err)
			goto out;
		if (!roll_needed(l, len, count, log__now_ms(l->dir)))
			break;
		log__begin_exclusive(l);
		err = l->failed ? TERN_ERR_KAFKA_STORAGE_ERROR : roll(l);
		log__end_exclusive(l);
		if (err)
			goto out;
		rolled = log__active(l)->base;
		roll_cb = l->roll_cb;
		roll_opaque = l->roll_opaque;
	}

	err = enter_epochs(l, buf, len, assign, leader_epoch);
	if (err)
		goto out;
	seg = log__active(l);
	c = chunk_for(l, len);
	if (!c) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	base = l->next;
	memcpy(c->buf + c->len, buf, len);
	for (size_t p = 0; p < len;) {
		uint8_t *b = c->buf + c->len + p;
		log_batch_hdr_t h;
		log_index_entry_t ie;
		log_tindex_entry_t te;
		bool ai, at;

		log_batch_hdr_parse(b, len - p, &h); /* checked above */
		if (assign) {
			log_batch_set_base_offset(b, l->next);
			h.base_offset = l->next;
			if (leader_epoch >= 0) {
				log_batch_set_leader_epoch(b, leader_epoch);
				h.leader_epoch = leader_epoch;
			}
		}
		log__seg_index_rule(seg, &h, c->pos + c->len + p, l->cfg.index_interval_bytes, &ie,
				    &ai, &te, &at);
		if ((ai && chunk_push_idx(c, &ie)) || (at && chunk_push_tidx(c, &te))) {
			/* Index entries are hints: a missing one only costs a
			 * longer scan, never correctness. */
			ai = at = false;
		}
		seg->idx_next += ai;
		seg->tidx_next += at;
		if (h.max_timestamp > c->max_ts) {
			c->max_ts = h.max_timestamp;
			c->max_ts_offset = log_batch_last_offset(&h);
		}
		l->next = log_batch_last_offset(&h) + 1;
		p += log_batch_size(&h);
	}
	c->len += len;
	c->end = l->next;
	c->seg_size_after = c->pos + c->len;
	seg->pend_size += len;
	l->pend_bytes += len;
	if (cb && push_waiter(l, base, l->next, cb, opaque)) {
		/* Without memory for the completion the caller learns of the
		 * append only through the offsets: say so now. */
		err = TERN_ERR__NOMEM;
	}
	if (info) {
		info->base_offset = base;
		info->last_offset = l->next - 1;
		info->max_timestamp = max_ts;
	}
	log__writer_kick(l->writer);
out:
	pthread_mutex_unlock(&l->mu);
	/* The roll happened whatever became of this append: the user's state
	 * as of the new base is still the one to save. */
	if (rolled >= 0 && roll_cb)
		roll_cb(roll_opaque, rolled);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Offsets and waiting                                                        */

#define LOCKED_GET(field)                                                                          \
	int64_t v;                                                                                 \
	pthread_mutex_lock((pthread_mutex_t *)&l->mu);                                             \
	v = l->field;                                                                              \
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);                                           \
	return v

int64_t log_start_offset(const log_t *l)
{
	LOCKED_GET(start);
}

int64_t log_end_offset(const log_t *l)
{
	LOCKED_GET(leo);
}

int64_t log_durable_end_offset(const log_t *l)
{
	LOCKED_GET(durable);
}

int64_t log_next_offset(const log_t *l)
{
	LOCKED_GET(next);
}

int64_t log_hwm(const log_t *l)
{
	LOCKED_GET(hwm);
}

void log_set_hwm(log_t *l, int64_t hwm)
{
	pthread_mutex_lock(&l->mu);
	l->hwm = hwm;
	pthread_mutex_unlock(&l->mu);
}

static tern_err_t wait_for(log_t *l, const int64_t *field, int64_t offset, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : tern_mono_ms() + timeout_ms;
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->mu);
	while (*field < offset) {
		if (l->failed) {
			err = l->failed;
			break;
		}
		/* The appends that were to reach offset were rolled back. */
		if (offset > l->next && offset <= l->rolled_to) {
			err = l->rolled_err ? l->rolled_err : TERN_ERR_KAFKA_STORAGE_ERROR;
			break;
		}
		if (tern_cond_wait_until(&l->cv, &l->mu, deadline) == ETIMEDOUT &&
		    *field < offset) {
			err = TERN_ERR__TIMED_OUT;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return err;
}

tern_err_t log_wait_end(log_t *l, int64_t offset, int timeout_ms)
{
	return wait_for(l, &l->leo, offset, timeout_ms);
}

tern_err_t log_wait_durable(log_t *l, int64_t offset, int timeout_ms)
{
	return wait_for(l, &l->durable, offset, timeout_ms);
}

tern_err_t log_flush(log_t *l)
{
	int64_t target;

	pthread_mutex_lock(&l->mu);
	target = l->next;
	l->flush_req = true;
	log__writer_kick(l->writer);
	pthread_mutex_unlock(&l->mu);
	return log_wait_durable(l, target, -1);
}
/* ------------------------------------------------------------------------ */
/* Truncation and retention                                                   */

struct cut_find {
	int64_t offset;
	uint64_t pos;
	int64_t base;
	bool found;
};

static bool cut_batch(void *opaque, const log_batch_hdr_t *h, uint64_t pos)
{
	struct cut_find *f = opaque;

	if (log_batch_last_offset(h) >= f->offset) {
		f->pos = pos;
		f->base = h->base_offset;
		f->found = true;
		return false;
	}
	return true;
}

/* Cuts segment seg (the last one left) at the first batch that holds an
 * offset >= offset, and makes it the active segment. l->mu held,
 * exclusive. */
static tern_err_t cut_segment(log_t *l, log_segment_t *seg, int64_t offset)
{
	struct cut_find f = {.offset = offset};
	char path[4096];
	log_scan_t scan;
	uint64_t pos;
	tern_err_t err;
	int rc;

	log__seg_path(path, sizeof path, l->path, seg->base, ".log");
	if (!seg->active) {
		if (!seg->idx_loaded && (err = log__seg_load_index(l->path, seg)))
			return err;
		err = log__seg_lru_take(l->dir, path, seg);
		if (err)
			return err;
	}
	pos = log__seg_lookup(seg, offset);
	err = log__seg_scan(seg->fd, pos, -1, seg->size, cut_batch, &f, &scan);
	if (!err && !f.found && scan.stopped_early) {
		/* Bad bytes before the cut (log_repair): keep only the valid
		 * prefix of the segment, read from its start. */
		err = log__seg_scan(seg->fd, 0, seg->base, seg->size, cut_batch, &f, &scan);
		if (!err && !f.found) {
			f.found = true;
			f.pos = scan.valid_size;
			f.base = scan.end;
		}
	}
	if (err)
		return err;
	if (f.found) {
		if (ftruncate(seg->fd, (off_t)f.pos) < 0)
			return tern_err_errno(errno);
		seg->size = seg->pend_size = f.pos;
		seg->end = f.base;
	}
	while (seg->idx_n && (seg->idx[seg->idx_n - 1].pos >= seg->size))
		seg->idx_n--;
	while (seg->tidx_n && seg->base + seg->tidx[seg->tidx_n - 1].rel >= seg->end)
		seg->tidx_n--;
	/* Recount the timestamps and the index cadence from the last entry. */
	seg->tidx_last_ts = seg->tidx_n ? seg->tidx[seg->tidx_n - 1].ts : -1;
	seg->max_ts = seg->pmax_ts = seg->tidx_last_ts;
	seg->max_ts_offset = seg->pmax_ts_offset =
	    seg->tidx_n ? seg->base + seg->tidx[seg->tidx_n - 1].rel : -1;
	pos = seg->idx_n ? seg->idx[seg->idx_n - 1].pos : 0;
	err = log__seg_scan(seg->fd, pos, -1, seg->size, log__seg_tail_batch, seg, &scan);
	if (err)
		return err;
	seg->bytes_since_idx = seg->size - pos;
	rc = log__fsync(seg->fd, true);
	if (rc)
		return tern_err_errno(-rc);
	if (seg->active) {
		/* Rewrite the index files so no stale entry survives. */
		close(seg->fd_idx);
		close(seg->fd_tidx);
		seg->fd_idx = seg->fd_tidx = -1;
	}
	return log__seg_open_active(l->path, seg, l->cfg.segment_index_bytes, NULL, 0);
}

static tern_err_t truncate_fully(log_t *l, int64_t offset);

tern_err_t log_truncate(log_t *l, int64_t offset, int64_t *new_end)
{
	tern_err_t err = TERN_OK;
	bool changed = false;

	pthread_mutex_lock(&l->snap_mu);
	pthread_mutex_lock(&l->mu);
	log__begin_exclusive(l);
	if (l->failed) {
		err = TERN_ERR_KAFKA_STORAGE_ERROR;
		goto out;
	}
	if (offset < l->start) {
		log__end_exclusive(l);
		pthread_mutex_unlock(&l->mu);
		err = truncate_fully(l, offset);
		pthread_mutex_unlock(&l->snap_mu);
		return err;
	}
	if (offset < l->leo) {
		changed = true;
		while (l->nsegs > 1 && log__active(l)->base > offset)
			log__drop_segment(l, l->nsegs - 1);
		err = cut_segment(l, log__active(l), offset);
		if (err) {
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: truncating to %lld: %s",
				  l->name, (long long)offset, tern_strerror(err));
			err = l->failed;
			goto out;
		}
		l->leo = l->next = log__active(l)->end;
		if (l->durable > l->leo)
			l->durable = l->leo;
		if (l->hwm > l->leo)
			l->hwm = l->leo;
		l->recovery_point = log__active(l)->base;
		log__active(l)->created_ms = log__now_ms(l->dir);
		/* A snapshot above the cut describes batches that are gone, and
		 * would be taken for the new ones written over them. */
		err = log__snap_prune(l->path, l->start, l->leo, SIZE_MAX);
		if (err) {
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
				  "%s: deleting the snapshots above %lld: %s", l->name,
				  (long long)l->leo, tern_strerror(err));
			err = l->failed;
			goto out;
		}
	}
	/* Always, as Kafka's truncateTo: a former leader may hold an epoch that
	 * starts at its log end with no record in it, which would answer
	 * OffsetForLeaderEpoch for an epoch the new leader never had. */
	if (log_epoch_cache_truncate_from_end(&l->epochs, offset < l->leo ? l->leo : offset))
		err = log__persist_epochs(l);
	if (new_end)
		*new_end = l->leo;
out:
	log__end_exclusive(l);
	pthread_mutex_unlock(&l->mu);
	/* The recovery point moved back: record it before anything else can
	 * be appended over the cut, so that recovery never trusts old bytes. */
	if (!err && changed)
		err = log_dir_checkpoint(l->dir);
	pthread_mutex_unlock(&l->snap_mu);
	return err;
}

tern_err_t log_repair(log_t *l, int64_t *new_end)
{
	int64_t at;
	char failure[256];

	pthread_mutex_lock(&l->mu);
	at = l->corrupt_at;
	if (!l->failed || at < 0) {
		tern_err_t err = l->failed ? TERN_ERR_KAFKA_STORAGE_ERROR : TERN_OK;

		if (!err && new_end)
			*new_end = l->leo;
		pthread_mutex_unlock(&l->mu);
		return err;
	}
	snprintf(failure, sizeof failure, "%s", l->failure);
	/* Reads found bad bytes, not a broken disk: serve again once
	 * everything from the first bad batch on is gone. */
	l->failed = TERN_OK;
	l->failure[0] = '\0';
	l->corrupt_at = -1;
	pthread_mutex_unlock(&l->mu);
	if (at < log_start_offset(l))
		return log_truncate_fully(l, at);
	return log_truncate(l, at, new_end);
}

tern_err_t log_truncate_fully(log_t *l, int64_t offset)
{
	tern_err_t err;

	pthread_mutex_lock(&l->snap_mu);
	err = truncate_fully(l, offset);
	pthread_mutex_unlock(&l->snap_mu);
	return err;
}

/* log_truncate_fully() with l->snap_mu held. */
static tern_err_t truncate_fully(log_t *l, int64_t offset)
{
	log_segment_t *seg;
	char errstr[300];
	tern_err_t err;
	int rc;

	if (offset < 0)
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&l->mu);
	log__begin_exclusive(l);
	if (l->failed) {
		err = TERN_ERR_KAFKA_STORAGE_ERROR;
		goto out;
	}
	while (l->nsegs)
		log__drop_segment(l, l->nsegs - 1);
	/* No snapshot describes the new log (hi < lo: every one goes). */
	err = log__snap_prune(l->path, 0, -1, 0);
	if (err) {
		log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: deleting the snapshots: %s",
			  l->name, tern_strerror(err));
		err = l->failed;
		goto out;
	}
	seg = log__seg_alloc(offset);
	err = seg ? log__seg_create(l->path, seg, l->cfg.segment_index_bytes, errstr, sizeof errstr)
		  : TERN_ERR__NOMEM;
	if (!err) {
		rc = log__fsync_dir(l->path);
		if (rc) {
			/* As with any failed fsync, nothing unsynced is trusted. */
			log__seg_free(seg);
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
				  "%s: fsync of the directory after creating segment %020lld: %s",
				  l->name, (long long)l->leo, strerror(-rc));
			err = l->failed;
			goto out;
		}
	}
	if (!err)
		err = log__push_segment(l, seg);
	if (err) {
		log__seg_free(seg);
		log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: restarting the log at %lld: %s",
			  l->name, (long long)offset, tern_strerror(err));
		err = l->failed;
		goto out;
	}
	seg->created_ms = log__now_ms(l->dir);
	l->start = l->leo = l->durable = l->next = l->hwm = offset;
	l->recovery_point = offset;
	log_epoch_cache_free(&l->epochs);
	log_epoch_cache_init(&l->epochs);
	err = log__persist_epochs(l);
out:
	log__end_exclusive(l);
	pthread_mutex_unlock(&l->mu);
	if (!err)
		err = log_dir_checkpoint(l->dir);
	return err;
}

/* Raises the log start to the first segment's base when retention left it
 * below, trims the epoch cache and deletes the snapshots below the start
 * when it moved past old_start. l->mu and l->snap_mu held. */
static tern_err_t start_moved(log_t *l, int64_t old_start)
{
	if (l->start < l->segs[0]->base)
		l->start = l->segs[0]->base;
	/* Snapshots below the start can no longer be completed by a scan from
	 * their offset. A failure to delete one is harmless: the log never
	 * lists a snapshot below its start, and the next open retries. */
	if (l->start > old_start)
		log__snap_prune(l->path, l->start, INT64_MAX, SIZE_MAX);
	if (log_epoch_cache_truncate_from_start(&l->epochs, l->start))
		return log__persist_epochs(l);
	return TERN_OK;
}

tern_err_t log_advance_start(log_t *l, int64_t offset)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->snap_mu);
	pthread_mutex_lock(&l->mu);
	if (offset > l->leo) {
		err = TERN_ERR_OFFSET_OUT_OF_RANGE;
	} else if (offset > l->start) {
		int64_t old_start = l->start;

		l->start = offset;
		while (l->nsegs > 1 && l->segs[0]->end <= l->start)
			log__drop_segment(l, 0);
		err = start_moved(l, old_start);
	}
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_unlock(&l->snap_mu);
	return err;
}

/* The newest record time of a closed segment, or its file's mtime when
 * its records carry none (Kafka does the same). l->mu held. */
static int64_t segment_time(log_t *l, log_segment_t *seg)
{
	char path[4096];
	struct stat st;

	if (!seg->idx_loaded)
		log__seg_load_index(l->path, seg);
	if (seg->max_ts >= 0)
		return seg->max_ts;
	log__seg_path(path, sizeof path, l->path, seg->base, ".log");
	if (stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

tern_err_t log_retain(log_t *l, int64_t upper, int *deleted)
{
	int64_t now = log__now_ms(l->dir), total = 0, old_start;
	tern_err_t err;
	int cnt = 0;

	pthread_mutex_lock(&l->snap_mu);
	pthread_mutex_lock(&l->mu);
	old_start = l->start;
	for (size_t i = 0; i < l->nsegs; i++)
		total += (int64_t)l->segs[i]->size;
	while (l->nsegs > 1) {
		log_segment_t *seg = l->segs[0];
		bool by_size, by_time;
		int64_t t;

		if (seg->end > upper)
			break;
		by_size = l->cfg.retention_bytes >= 0 &&
			  total - (int64_t)seg->size >= l->cfg.retention_bytes;
		t = by_size || l->cfg.retention_ms < 0 ? -1 : segment_time(l, seg);
		by_time = t >= 0 && now - t > l->cfg.retention_ms;
		if (!by_size && !by_time)
			break;
		total -= (int64_t)seg->size;
		log__drop_segment(l, 0);
		cnt++;
	}
	err = start_moved(l, old_start);
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_unlock(&l->snap_mu);
	if (deleted)
		*deleted = cnt;
	return err;
}

int64_t log_size_bytes(const log_t *l)
{
	int64_t total = 0;

	pthread_mutex_lock((pthread_mutex_t *)&l->mu);
	for (size_t i = 0; i < l->nsegs; i++)
		total += (int64_t)l->segs[i]->size;
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
	return total;
}

int log_segment_count(const log_t *l)
{
	LOCKED_GET(nsegs);
}

/* ------------------------------------------------------------------------ */
/* Leader epochs, state, configuration                                       */

int32_t log_latest_epoch(log_t *l)
{
	int32_t e;

	pthread_mutex_lock(&l->mu);
	e = log_epoch_cache_latest(&l->epochs);
	pthread_mutex_unlock(&l->mu);
	return e;
}

void log_end_offset_for_epoch(log_t *l, int32_t epoch, int32_t *epoch_out, int64_t *end_out)
{
	pthread_mutex_lock(&l->mu);
	log_epoch_cache_end_offset(&l->epochs, epoch, l->leo, epoch_out, end_out);
	pthread_mutex_unlock(&l->mu);
}

tern_err_t log_epochs(log_t *l, log_epoch_entry_t **out, size_t *n)
{
	log_epoch_entry_t *v;

	pthread_mutex_lock(&l->mu);
	*n = l->epochs.n;
	v = malloc((*n ? *n : 1) * sizeof *v);
	if (v && *n)
		memcpy(v, l->epochs.e, *n * sizeof *v);
	pthread_mutex_unlock(&l->mu);
	if (!v)
		return TERN_ERR__NOMEM;
	*out = v;
	return TERN_OK;
}

tern_err_t log_assign_epoch(log_t *l, int32_t epoch, int64_t start_offset)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->mu);
	if (log_epoch_cache_assign(&l->epochs, epoch, start_offset))
		err = log__persist_epochs(l);
	pthread_mutex_unlock(&l->mu);
	return err;
}

bool log_is_failed(const log_t *l)
{
	bool f;

	pthread_mutex_lock((pthread_mutex_t *)&l->mu);
	f = l->failed != 0;
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
	return f;
}

bool log_is_repairable(const log_t *l)
{
	bool r;

	pthread_mutex_lock((pthread_mutex_t *)&l->mu);
	r = l->failed != 0 && l->corrupt_at >= 0;
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
	return r;
}

const char *log_failure(const log_t *l)
{
	/* Written once, before failed is set, and never again. */
	return l->failure;
}

void log_set_config(log_t *l, const log_config_t *cfg)
{
	pthread_mutex_lock(&l->mu);
	l->cfg = *cfg;
	pthread_mutex_unlock(&l->mu);
	log__writer_kick(l->writer);
}
