/* Reads of the partition log: whole batches from the segment that holds
 * an offset, every one CRC-checked, and lookups by timestamp. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log_int.h"

/* A read asks for max_bytes plus this much, to cover the batches between
 * the index entry and the requested offset without a second read. */
#define READ_SLACK (16u << 10)
/* One read brings in at most this much (beyond a larger first batch). */
#define READ_MAX (64u << 20)
/* ------------------------------------------------------------------------ */
/* Reads                                                                      */

/* The segment that holds offset (start <= offset < leo). */
static size_t find_segment(const log_t *l, int64_t offset)
{
	size_t lo = 0, hi = l->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->segs[mid]->base <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

/* Takes a reference on the segment that holds offset with its file open,
 * its indexes loaded, and the readable size at the time. l->mu held. */
static tern_err_t pin_segment(log_t *l, int64_t offset, log_segment_t **out, uint64_t *size)
{
	log_segment_t *seg = l->segs[find_segment(l, offset)];
	char path[4096];
	tern_err_t err;

	if (!seg->idx_loaded) {
		err = log__seg_load_index(l->path, seg);
		if (err)
			return err;
	}
	log__seg_path(path, sizeof path, l->path, seg->base, ".log");
	err = log__seg_acquire(l->dir, path, seg);
	if (err)
		return err;
	*out = seg;
	*size = seg->size;
	return TERN_OK;
}

/* A read window over one segment file. */
typedef struct window {
	int fd;
	uint64_t limit; /* readable size of the segment */
	uint8_t *buf;
	size_t cap;
	uint64_t pos; /* file position of buf[0] */
	size_t len;
} window_t;

/* Makes [at, at + n) available in the window, reading want bytes (at least
 * n, at most what the segment holds) from at when it is not. */
static tern_err_t window_need(window_t *w, uint64_t at, size_t n, size_t want)
{
	ssize_t rc;

	if (at >= w->pos && at + n <= w->pos + w->len)
		return TERN_OK;
	if (at + n > w->limit)
		return TERN_ERR__CORRUPT;
	if (want < n)
		want = n;
	if (want > w->limit - at)
		want = (size_t)(w->limit - at);
	if (want > w->cap) {
		uint8_t *nb = realloc(w->buf, want);

		if (!nb)
			return TERN_ERR__NOMEM;
		w->buf = nb;
		w->cap = want;
	}
	rc = log__pread(w->fd, w->buf, want, (off_t)at);
	if (rc < 0)
		return tern_err_errno((int)-rc);
	w->pos = at;
	w->len = (size_t)rc;
	return (size_t)rc >= n ? TERN_OK : TERN_ERR__CORRUPT;
}

/* The log fails at a read. at is the offset where the bad batch should
 * start when the bytes were read but are wrong (corruption: the log can be
 * repaired by cutting there), -1 for an I/O error. */
static tern_err_t read_failed(log_t *l, log_segment_t *seg, tern_err_t err, uint64_t pos,
			      int64_t at, const char *what, char *errstr, size_t errlen)
{
	pthread_mutex_lock(&l->mu);
	if (!l->failed)
		l->corrupt_at = err == TERN_ERR__CORRUPT || err == TERN_ERR_CORRUPT_MESSAGE ||
					err == TERN_ERR_INVALID_RECORD ||
					err == TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE
				    ? at
				    : -1;
	log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
		  "%s: segment %020lld.log: %s at file position %llu: %s", l->name,
		  (long long)seg->base, what, (unsigned long long)pos, tern_strerror(err));
	log__set_err(errstr, errlen, "%s", l->failure);
	pthread_mutex_unlock(&l->mu);
	return TERN_ERR_KAFKA_STORAGE_ERROR;
}

tern_err_t log_read(log_t *l, int64_t offset, size_t max_bytes, int64_t upper,
		    log_read_result_t *out, char *errstr, size_t errlen)
{
	log_validate_opts_t vo = {.deep = false};
	log_segment_t *seg = NULL;
	window_t w = {.fd = -1};
	uint64_t cur = 0, first;
	size_t total = 0, want = (max_bytes > READ_MAX ? READ_MAX : max_bytes) + READ_SLACK;
	int64_t expect, first_offset;
	tern_err_t err;
	char why[200];

	memset(out, 0, sizeof *out);
	out->first_offset = out->next_offset = offset;
	pthread_mutex_lock(&l->mu);
	if (l->failed) {
		log__set_err(errstr, errlen, "%s", l->failure);
		pthread_mutex_unlock(&l->mu);
		return TERN_ERR_KAFKA_STORAGE_ERROR;
	}
	if (offset < l->start || offset > l->leo) {
		log__set_err(errstr, errlen, "%s: offset %lld is outside [%lld, %lld]", l->name,
			     (long long)offset, (long long)l->start, (long long)l->leo);
		pthread_mutex_unlock(&l->mu);
		return TERN_ERR_OFFSET_OUT_OF_RANGE;
	}
	if (offset == l->leo || offset >= upper) {
		pthread_mutex_unlock(&l->mu);
		return TERN_OK;
	}
	err = pin_segment(l, offset, &seg, &w.limit);
	if (!err)
		cur = log__seg_lookup(seg, offset);
	pthread_mutex_unlock(&l->mu);
	if (err) {
		log__set_err(errstr, errlen, "%s: opening the segment of offset %lld: %s", l->name,
			     (long long)offset, tern_strerror(err));
		return TERN_ERR_KAFKA_STORAGE_ERROR;
	}
	w.fd = seg->fd;

	/* Skip to the batch that holds offset (expect: where the next batch
	 * should start, as far as the index lets us know). */
	expect = -1;
	for (;;) {
		log_batch_hdr_t h;

		err = window_need(&w, cur, LOG_BATCH_HEADER_SIZE, want);
		if (!err)
			err = log_batch_hdr_parse(w.buf + (cur - w.pos), w.len - (cur - w.pos), &h);
		if (err) {
			err = read_failed(l, seg, err, cur, expect >= 0 ? expect : seg->base,
					  "unreadable batch header", errstr, errlen);
			goto out;
		}
		if (log_batch_last_offset(&h) >= offset) {
			if (h.base_offset > offset) {
				err =
				    read_failed(l, seg, TERN_ERR__CORRUPT, cur,
						expect >= 0 ? expect : seg->base,
						"offset missing from the segment", errstr, errlen);
				goto out;
			}
			if (log_batch_last_offset(&h) >= upper)
				goto out; /* nothing below upper */
			expect = first_offset = h.base_offset;
			break;
		}
		expect = log_batch_last_offset(&h) + 1;
		cur += log_batch_size(&h);
	}

	/* Whole batches from there, the first one always. */
	first = cur;
	while (cur < w.limit) {
		log_batch_hdr_t h;
		size_t size;

		if (total && (cur + LOG_BATCH_HEADER_SIZE > w.pos + w.len))
			break;
		err = window_need(&w, cur, LOG_BATCH_HEADER_SIZE, want);
		if (!err)
			err = log_batch_hdr_parse(w.buf + (cur - w.pos), w.len - (cur - w.pos), &h);
		if (err) {
			err = read_failed(l, seg, err, cur, expect, "unreadable batch header",
					  errstr, errlen);
			goto out;
		}
		size = log_batch_size(&h);
		if (total && (total + size > max_bytes || log_batch_last_offset(&h) >= upper ||
			      cur + size > w.pos + w.len))
			break;
		if (!total && cur + size > w.pos + w.len) {
			/* The first batch is larger than the window. */
			err = window_need(&w, cur, size, size);
			if (err) {
				err = read_failed(l, seg, err, cur, expect, "short batch", errstr,
						  errlen);
				goto out;
			}
			first = cur;
		}
		err = log_batch_validate(w.buf + (cur - w.pos), size, &vo, &h, why, sizeof why);
		if (!err && h.base_offset != expect)
			err = TERN_ERR__CORRUPT;
		if (err) {
			snprintf(why + strlen(why), sizeof why - strlen(why), " (offset %lld)",
				 (long long)expect);
			err = read_failed(l, seg, err, cur, expect, why, errstr, errlen);
			goto out;
		}
		expect = log_batch_last_offset(&h) + 1;
		total += size;
		cur += size;
	}
	out->buf = w.buf;
	out->data = w.buf + (first - w.pos);
	out->len = total;
	out->first_offset = first_offset;
	out->next_offset = expect;
	w.buf = NULL;
out:
	free(w.buf);
	log__seg_release(l->dir, seg);
	return err;
}

struct ts_find {
	int64_t ts;
	int64_t base; /* base offset of the first batch with a timestamp >= ts */
};

static bool ts_batch(void *opaque, const log_batch_hdr_t *h, uint64_t pos)
{
	struct ts_find *f = opaque;

	if (h->max_timestamp >= f->ts) {
		f->base = h->base_offset;
		return false;
	}
	return true;
}

tern_err_t log_offset_for_timestamp(log_t *l, int64_t ts, int64_t *offset_out)
{
	struct ts_find f = {.ts = ts, .base = -1};
	log_segment_t *seg = NULL;
	log_read_result_t rr;
	log_batch_hdr_t h;
	log_batch_iter_t *it;
	log_record_t rec;
	log_scan_t scan;
	uint64_t size = 0, pos = 0;
	int64_t from = -1;
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->nsegs && from < 0; i++) {
		log_segment_t *s = l->segs[i];

		if (!s->idx_loaded && (err = log__seg_load_index(l->path, s)))
			break;
		if (s->max_ts < ts || s->end <= l->start)
			continue;
		/* Start after the last time-index entry older than ts: every
		 * record up to its offset is older. */
		from = s->base > l->start ? s->base : l->start;
		for (uint32_t k = 0; k < s->tidx_n && s->tidx[k].ts < ts; k++)
			if (s->base + s->tidx[k].rel > from)
				from = s->base + s->tidx[k].rel;
	}
	if (!err && from >= 0 && from < l->leo) {
		err = pin_segment(l, from, &seg, &size);
		if (!err)
			pos = log__seg_lookup(seg, from);
	}
	pthread_mutex_unlock(&l->mu);
	if (err)
		return TERN_ERR_KAFKA_STORAGE_ERROR;
	if (!seg)
		return TERN_ERR__END;
	err = log__seg_scan(seg->fd, pos, -1, size, ts_batch, &f, &scan);
	log__seg_release(l->dir, seg);
	if (err)
		return TERN_ERR_KAFKA_STORAGE_ERROR;
	if (f.base < 0)
		return TERN_ERR__END;

	/* Read the batch back through the checked path and find its first
	 * record at or after ts. */
	err = log_read(l, f.base, 1, INT64_MAX, &rr, NULL, 0);
	if (err)
		return err;
	err = TERN_ERR__END;
	if (rr.len && log_batch_hdr_parse(rr.data, rr.len, &h) == TERN_OK &&
	    log_batch_iter_new(rr.data, rr.len, 0, &it) == TERN_OK) {
		while (log_batch_iter_next(it, &rec) == TERN_OK) {
			/* Reads check CRCs, not the records' offset deltas: a
			 * record claiming an offset outside its batch (a batch
			 * written by a faulty leader, say) is no answer. */
			if (rec.offset < h.base_offset || rec.offset > log_batch_last_offset(&h))
				continue;
			if (rec.timestamp >= ts && rec.offset >= from) {
				*offset_out = rec.offset;
				err = TERN_OK;
				break;
			}
		}
		log_batch_iter_free(it);
	}
	free(rr.buf);
	return err;
}
