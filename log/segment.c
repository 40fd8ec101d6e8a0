/* Segment files: <base>.log with its sparse .index and .timeindex; creating,
 * sealing, loading and rebuilding them, and scanning batches. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

/* Reads during a scan go in windows of this size (or one whole batch). */
#define SCAN_WINDOW (1u << 20)

void log__seg_path(char *buf, size_t len, const char *dir, int64_t base, const char *ext)
{
	snprintf(buf, len, "%s/%020lld%s", dir, (long long)base, ext);
}

log_segment_t *log__seg_alloc(int64_t base)
{
	log_segment_t *seg = calloc(1, sizeof *seg);

	if (!seg)
		return NULL;
	seg->base = base;
	seg->end = base;
	seg->max_ts = -1;
	seg->max_ts_offset = -1;
	seg->pmax_ts = -1;
	seg->pmax_ts_offset = -1;
	seg->tidx_last_ts = -1;
	seg->fd = seg->fd_idx = seg->fd_tidx = -1;
	seg->refs = 1;
	return seg;
}

void log__seg_unlink(const char *dir, int64_t base)
{
	static const char *const ext[] = {".log", ".index", ".timeindex"};
	char path[4096];

	for (size_t i = 0; i < 3; i++) {
		log__seg_path(path, sizeof path, dir, base, ext[i]);
		unlink(path);
	}
}

bool log__seg_tail_batch(void *opaque, const log_batch_hdr_t *h, uint64_t pos)
{
	log_segment_t *seg = opaque;

	if (h->max_timestamp > seg->pmax_ts) {
		seg->pmax_ts = seg->max_ts = h->max_timestamp;
		seg->pmax_ts_offset = seg->max_ts_offset = log_batch_last_offset(h);
	}
	return true;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void log__seg_free(log_segment_t *seg)
{
	if (!seg)
		return;
	close_fd(&seg->fd);
	close_fd(&seg->fd_idx);
	close_fd(&seg->fd_tidx);
	free(seg->idx);
	free(seg->tidx);
	free(seg);
}

static tern_err_t grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return TERN_OK;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return TERN_ERR__NOMEM;
	*arr = p;
	*cap = ncap;
	return TERN_OK;
}

tern_err_t log__seg_push_idx(log_segment_t *seg, uint32_t rel, uint32_t pos)
{
	if (grow((void **)&seg->idx, &seg->idx_cap, seg->idx_n + 1, sizeof *seg->idx))
		return TERN_ERR__NOMEM;
	seg->idx[seg->idx_n].rel = rel;
	seg->idx[seg->idx_n].pos = pos;
	seg->idx_n++;
	return TERN_OK;
}

tern_err_t log__seg_push_tidx(log_segment_t *seg, int64_t ts, uint32_t rel)
{
	if (grow((void **)&seg->tidx, &seg->tidx_cap, seg->tidx_n + 1, sizeof *seg->tidx))
		return TERN_ERR__NOMEM;
	seg->tidx[seg->tidx_n].ts = ts;
	seg->tidx[seg->tidx_n].rel = rel;
	seg->tidx_n++;
	return TERN_OK;
}

void log__seg_index_rule(log_segment_t *seg, const log_batch_hdr_t *h, uint64_t pos,
			 int32_t interval, log_index_entry_t *idx, bool *add_idx,
			 log_tindex_entry_t *tidx, bool *add_tidx)
{
	*add_idx = *add_tidx = false;
	if (h->max_timestamp > seg->pmax_ts) {
		seg->pmax_ts = h->max_timestamp;
		seg->pmax_ts_offset = log_batch_last_offset(h);
	}
	if (seg->bytes_since_idx >= (uint64_t)interval) {
		idx->rel = (uint32_t)(h->base_offset - seg->base);
		idx->pos = (uint32_t)pos;
		*add_idx = true;
		if (seg->pmax_ts > seg->tidx_last_ts) {
			tidx->ts = seg->pmax_ts;
			tidx->rel = (uint32_t)(seg->pmax_ts_offset - seg->base);
			seg->tidx_last_ts = seg->pmax_ts;
			*add_tidx = true;
		}
		seg->bytes_since_idx = 0;
	}
	seg->bytes_since_idx += log_batch_size(h);
}

static tern_err_t open_file(const char *path, int flags, int *fd, char *errstr, size_t errlen)
{
	*fd = open(path, flags | O_CLOEXEC, 0644);
	if (*fd < 0) {
		int e = errno;

		if (errstr)
			snprintf(errstr, errlen, "open %s: %s", path, strerror(e));
		return tern_err_errno(e);
	}
	return TERN_OK;
}

/* Preallocates an active index file (sparse: Kafka's setLength). */
static tern_err_t prealloc(int fd, int32_t index_bytes, uint32_t entry_size)
{
	off_t len = (off_t)(index_bytes / entry_size) * entry_size;

	if (ftruncate(fd, len) < 0)
		return tern_err_errno(errno);
	return TERN_OK;
}

static tern_err_t open_index_files(const char *dir, log_segment_t *seg, int flags, char *errstr,
				   size_t errlen)
{
	char path[4096];
	tern_err_t err;

	log__seg_path(path, sizeof path, dir, seg->base, ".index");
	err = open_file(path, flags, &seg->fd_idx, errstr, errlen);
	if (err)
		return err;
	log__seg_path(path, sizeof path, dir, seg->base, ".timeindex");
	return open_file(path, flags, &seg->fd_tidx, errstr, errlen);
}

tern_err_t log__seg_create(const char *dir, log_segment_t *seg, int32_t index_bytes, char *errstr,
			   size_t errlen)
{
	char path[4096];
	tern_err_t err;

	log__seg_path(path, sizeof path, dir, seg->base, ".log");
	err = open_file(path, O_RDWR | O_CREAT | O_TRUNC, &seg->fd, errstr, errlen);
	if (err)
		return err;
	err = open_index_files(dir, seg, O_RDWR | O_CREAT | O_TRUNC, errstr, errlen);
	if (!err)
		err = prealloc(seg->fd_idx, index_bytes, LOG_INDEX_ENTRY_SIZE);
	if (!err)
		err = prealloc(seg->fd_tidx, index_bytes, LOG_TINDEX_ENTRY_SIZE);
	if (err) {
		if (errstr && !*errstr)
			snprintf(errstr, errlen, "preallocating the indexes of %s: %s", path,
				 tern_strerror(err));
		close_fd(&seg->fd);
		close_fd(&seg->fd_idx);
		close_fd(&seg->fd_tidx);
		return err;
	}
	seg->active = true;
	seg->idx_loaded = true;
	return TERN_OK;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void log__idx_encode(uint8_t *out, const log_index_entry_t *e)
{
	put_be32(out, e->rel);
	put_be32(out + 4, e->pos);
}

void log__tidx_encode(uint8_t *out, const log_tindex_entry_t *e)
{
	put_be32(out, (uint32_t)((uint64_t)e->ts >> 32));
	put_be32(out + 4, (uint32_t)e->ts);
	put_be32(out + 8, e->rel);
}

/* Writes every in-memory entry of both indexes from slot 0. */
static tern_err_t write_indexes(log_segment_t *seg)
{
	size_t ilen = (size_t)seg->idx_n * LOG_INDEX_ENTRY_SIZE;
	size_t tlen = (size_t)seg->tidx_n * LOG_TINDEX_ENTRY_SIZE;
	uint8_t *buf = malloc(ilen + tlen + 1);
	tern_err_t err = TERN_OK;
	ssize_t rc;

	if (!buf)
		return TERN_ERR__NOMEM;
	for (uint32_t i = 0; i < seg->idx_n; i++)
		log__idx_encode(buf + (size_t)i * LOG_INDEX_ENTRY_SIZE, &seg->idx[i]);
	for (uint32_t i = 0; i < seg->tidx_n; i++)
		log__tidx_encode(buf + ilen + (size_t)i * LOG_TINDEX_ENTRY_SIZE, &seg->tidx[i]);
	rc = log__pwrite(seg->fd_idx, buf, ilen, 0);
	if (rc >= 0)
		rc = log__pwrite(seg->fd_tidx, buf + ilen, tlen, 0);
	if (rc < 0)
		err = tern_err_errno((int)-rc);
	free(buf);
	seg->idx_next = seg->idx_n;
	seg->tidx_next = seg->tidx_n;
	return err;
}

tern_err_t log__seg_seal(log_segment_t *seg)
{
	tern_err_t err = TERN_OK;
	int rc;

	/* A last time-index entry for the largest timestamp, as Kafka does on
	 * roll, so that a closed segment's newest record time is its last
	 * entry. */
	if (seg->max_ts > seg->tidx_last_ts && seg->max_ts >= 0) {
		log_tindex_entry_t e = {.ts = seg->max_ts,
					.rel = (uint32_t)(seg->max_ts_offset - seg->base)};
		uint8_t b[LOG_TINDEX_ENTRY_SIZE];
		ssize_t wr;

		log__tidx_encode(b, &e);
		wr = log__pwrite(seg->fd_tidx, b, sizeof b,
				 (off_t)seg->tidx_n * LOG_TINDEX_ENTRY_SIZE);
		if (wr < 0 && wr != -ENOSPC && wr != -EDQUOT)
			return tern_err_errno((int)-wr);
		/* On a full disk the segment closes without it: the entry is a
		 * hint, and lookups by time scan from the previous one. */
		if (wr >= 0 && log__seg_push_tidx(seg, e.ts, e.rel) == TERN_OK) {
			seg->tidx_last_ts = e.ts;
			seg->tidx_next = seg->tidx_n;
		}
	}
	if (ftruncate(seg->fd_idx, (off_t)seg->idx_n * LOG_INDEX_ENTRY_SIZE) < 0 ||
	    ftruncate(seg->fd_tidx, (off_t)seg->tidx_n * LOG_TINDEX_ENTRY_SIZE) < 0)
		return tern_err_errno(errno);
	rc = log__fsync(seg->fd, true);
	if (!rc)
		rc = log__fsync(seg->fd_idx, true);
	if (!rc)
		rc = log__fsync(seg->fd_tidx, true);
	if (rc)
		err = tern_err_errno(-rc);
	if (!err) {
		close_fd(&seg->fd_idx);
		close_fd(&seg->fd_tidx);
		seg->active = false;
	}
	return err;
}

/* Reads an index file, keeping the longest sane prefix: entries strictly
 * increasing and inside the segment (a preallocated tail reads as zeros,
 * which stop it). */
static tern_err_t load_index(const char *path, log_segment_t *seg)
{
	struct stat st;
	uint8_t *buf = NULL;
	tern_err_t err = TERN_OK;
	ssize_t rc;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TERN_OK : tern_err_errno(errno);
	if (fstat(fd, &st) < 0) {
		err = tern_err_errno(errno);
		goto out;
	}
	if (st.st_size <= 0)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	rc = log__pread(fd, buf, (size_t)st.st_size, 0);
	if (rc < 0) {
		err = tern_err_errno((int)-rc);
		goto out;
	}
	for (size_t off = 0; off + LOG_INDEX_ENTRY_SIZE <= (size_t)rc;
	     off += LOG_INDEX_ENTRY_SIZE) {
		uint32_t rel = get_be32(buf + off), pos = get_be32(buf + off + 4);

		if (pos >= seg->size || (uint64_t)rel >= (uint64_t)(seg->end - seg->base))
			break;
		if (seg->idx_n &&
		    (rel <= seg->idx[seg->idx_n - 1].rel || pos <= seg->idx[seg->idx_n - 1].pos))
			break;
		if (seg->idx_n == 0 && pos == 0)
			break; /* the first batch never has an entry */
		if (log__seg_push_idx(seg, rel, pos)) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
	}
out:
	free(buf);
	close(fd);
	return err;
}

static tern_err_t load_tindex(const char *path, log_segment_t *seg)
{
	struct stat st;
	uint8_t *buf = NULL;
	tern_err_t err = TERN_OK;
	ssize_t rc;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TERN_OK : tern_err_errno(errno);
	if (fstat(fd, &st) < 0) {
		err = tern_err_errno(errno);
		goto out;
	}
	if (st.st_size <= 0)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	rc = log__pread(fd, buf, (size_t)st.st_size, 0);
	if (rc < 0) {
		err = tern_err_errno((int)-rc);
		goto out;
	}
	for (size_t off = 0; off + LOG_TINDEX_ENTRY_SIZE <= (size_t)rc;
	     off += LOG_TINDEX_ENTRY_SIZE) {
		int64_t ts =
		    (int64_t)((uint64_t)get_be32(buf + off) << 32 | get_be32(buf + off + 4));
		uint32_t rel = get_be32(buf + off + 8);

		if ((uint64_t)rel >= (uint64_t)(seg->end - seg->base))
			break;
		if (seg->tidx_n && ts <= seg->tidx[seg->tidx_n - 1].ts)
			break;
		if (seg->tidx_n == 0 && ts == 0 && rel == 0)
			break;
		if (log__seg_push_tidx(seg, ts, rel)) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
	}
	if (seg->tidx_n) {
		seg->tidx_last_ts = seg->tidx[seg->tidx_n - 1].ts;
		if (seg->tidx_last_ts > seg->max_ts) {
			seg->max_ts = seg->pmax_ts = seg->tidx_last_ts;
			seg->max_ts_offset = seg->pmax_ts_offset =
			    seg->base + seg->tidx[seg->tidx_n - 1].rel;
		}
	}
out:
	free(buf);
	close(fd);
	return err;
}

tern_err_t log__seg_load_index(const char *dir, log_segment_t *seg)
{
	char path[4096];
	tern_err_t err;

	seg->idx_n = seg->tidx_n = 0;
	log__seg_path(path, sizeof path, dir, seg->base, ".index");
	err = load_index(path, seg);
	if (err)
		return err;
	log__seg_path(path, sizeof path, dir, seg->base, ".timeindex");
	err = load_tindex(path, seg);
	if (!err)
		seg->idx_loaded = true;
	return err;
}

uint64_t log__seg_lookup(const log_segment_t *seg, int64_t offset)
{
	uint32_t lo = 0, hi = seg->idx_n;
	int64_t rel = offset - seg->base;

	/* The last entry with rel <= offset's: its batch starts at or before
	 * the batch that holds offset. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if ((int64_t)seg->idx[mid].rel <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? seg->idx[lo - 1].pos : 0;
}

tern_err_t log__seg_scan(int fd, uint64_t pos, int64_t expect, uint64_t file_size,
			 log_scan_batch_fn *fn, void *opaque, log_scan_t *out)
{
	log_validate_opts_t vo = {.deep = false};
	uint8_t *w = NULL;
	size_t wcap = 0, wlen = 0;
	uint64_t wpos = 0;
	tern_err_t err = TERN_OK;

	memset(out, 0, sizeof *out);
	out->valid_size = pos;
	out->end = expect;
	while (pos < file_size) {
		log_batch_hdr_t h;
		uint64_t need = LOG_BATCH_HEADER_SIZE, size;
		tern_err_t verr;
		int pass;

		/* Two passes: the header first, then the whole batch. */
		for (pass = 0; pass < 2; pass++) {
			if (pos + need > file_size) {
				snprintf(out->why, sizeof out->why,
					 "partial batch at position %llu (%llu bytes left)",
					 (unsigned long long)pos,
					 (unsigned long long)(file_size - pos));
				goto stop;
			}
			if (pos < wpos || pos + need > wpos + wlen) {
				size_t want = need > SCAN_WINDOW ? (size_t)need : SCAN_WINDOW;
				ssize_t rc;

				if (want > file_size - pos)
					want = (size_t)(file_size - pos);
				if (want > wcap) {
					uint8_t *nw = realloc(w, want);

					if (!nw) {
						err = TERN_ERR__NOMEM;
						goto out;
					}
					w = nw;
					wcap = want;
				}
				rc = log__pread(fd, w, want, (off_t)pos);
				if (rc < 0) {
					err = tern_err_errno((int)-rc);
					goto out;
				}
				wpos = pos;
				wlen = (size_t)rc;
				if (pos + need > wpos + wlen) {
					snprintf(out->why, sizeof out->why,
						 "file shorter than expected at position %llu",
						 (unsigned long long)pos);
					goto stop;
				}
			}
			if (pass == 0) {
				if (log_batch_hdr_parse(w + (pos - wpos), wlen - (pos - wpos),
							&h)) {
					snprintf(out->why, sizeof out->why,
						 "bad batch header at position %llu",
						 (unsigned long long)pos);
					goto stop;
				}
				need = log_batch_size(&h);
			}
		}
		size = need;
		verr = log_batch_validate(w + (pos - wpos), (size_t)size, &vo, &h, out->why,
					  sizeof out->why);
		if (verr)
			goto stop;
		if (expect >= 0 && h.base_offset != expect) {
			snprintf(out->why, sizeof out->why,
				 "batch at position %llu has base offset %lld, expected %lld",
				 (unsigned long long)pos, (long long)h.base_offset,
				 (long long)expect);
			goto stop;
		}
		if (fn && !fn(opaque, &h, pos))
			goto out;
		pos += size;
		expect = log_batch_last_offset(&h) + 1;
		out->valid_size = pos;
		out->end = expect;
	}
	goto out;
stop:
	out->stopped_early = true;
out:
	free(w);
	return err;
}

struct rebuild {
	log_segment_t *seg;
	int32_t interval;
	log_epoch_cache_t *epochs;
	tern_err_t err;
};

static bool rebuild_batch(void *opaque, const log_batch_hdr_t *h, uint64_t pos)
{
	struct rebuild *rb = opaque;
	log_segment_t *seg = rb->seg;
	log_index_entry_t ie;
	log_tindex_entry_t te;
	bool ai, at;

	log__seg_index_rule(seg, h, pos, rb->interval, &ie, &ai, &te, &at);
	if (ai && log__seg_push_idx(seg, ie.rel, ie.pos))
		rb->err = TERN_ERR__NOMEM;
	if (at && log__seg_push_tidx(seg, te.ts, te.rel))
		rb->err = TERN_ERR__NOMEM;
	seg->max_ts = seg->pmax_ts;
	seg->max_ts_offset = seg->pmax_ts_offset;
	if (rb->epochs && h->leader_epoch >= 0)
		log_epoch_cache_assign(rb->epochs, h->leader_epoch, h->base_offset);
	return true;
}

tern_err_t log__seg_recover(const char *dir, log_segment_t *seg, int32_t index_interval,
			    log_epoch_cache_t *epochs, log_scan_t *scan)
{
	struct rebuild rb = {.seg = seg, .interval = index_interval, .epochs = epochs};
	struct stat st;
	tern_err_t err;

	if (fstat(seg->fd, &st) < 0)
		return tern_err_errno(errno);
	seg->idx_n = seg->tidx_n = 0;
	seg->bytes_since_idx = 0;
	seg->max_ts = seg->pmax_ts = seg->tidx_last_ts = -1;
	seg->max_ts_offset = seg->pmax_ts_offset = -1;
	err = log__seg_scan(seg->fd, 0, seg->base, (uint64_t)st.st_size, rebuild_batch, &rb, scan);
	if (!err)
		err = rb.err;
	if (err)
		return err;
	seg->size = seg->pend_size = scan->valid_size;
	seg->end = scan->end;
	seg->idx_loaded = true;
	if ((uint64_t)st.st_size > scan->valid_size) {
		/* Cut the invalid tail so that appends continue after the last
		 * valid batch and it can never be read. */
		if (ftruncate(seg->fd, (off_t)scan->valid_size) < 0)
			return tern_err_errno(errno);
		if (log__fsync(seg->fd, true) < 0)
			return TERN_ERR_KAFKA_STORAGE_ERROR;
	}
	return TERN_OK;
}

tern_err_t log__seg_open_active(const char *dir, log_segment_t *seg, int32_t index_bytes,
				char *errstr, size_t errlen)
{
	tern_err_t err;

	err = open_index_files(dir, seg, O_RDWR | O_CREAT, errstr, errlen);
	if (!err)
		err = write_indexes(seg);
	if (!err)
		err = prealloc(seg->fd_idx, index_bytes, LOG_INDEX_ENTRY_SIZE);
	if (!err)
		err = prealloc(seg->fd_tidx, index_bytes, LOG_TINDEX_ENTRY_SIZE);
	if (err) {
		if (errstr && !*errstr)
			snprintf(errstr, errlen, "segment %020lld: indexes: %s",
				 (long long)seg->base, tern_strerror(err));
		close_fd(&seg->fd_idx);
		close_fd(&seg->fd_tidx);
		return err;
	}
	seg->active = true;
	return TERN_OK;
}

tern_err_t log__seg_write_closed_indexes(const char *dir, log_segment_t *seg)
{
	tern_err_t err;
	int rc;

	err = open_index_files(dir, seg, O_RDWR | O_CREAT | O_TRUNC, NULL, 0);
	if (!err)
		err = write_indexes(seg);
	if (!err) {
		rc = log__fsync(seg->fd_idx, true);
		if (!rc)
			rc = log__fsync(seg->fd_tidx, true);
		if (rc)
			err = tern_err_errno(-rc);
	}
	close_fd(&seg->fd_idx);
	close_fd(&seg->fd_tidx);
	return err;
}
