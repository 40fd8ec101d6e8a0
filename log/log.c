/* The partition log: opening and recovering it, appends (queued for the
 * writer threads), reads, truncation, retention and the leader epochs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log_int.h"

/* Queued appends are coalesced into chunks of up to this size. */
#define CHUNK_BYTES (1u << 20)
/* A read asks for max_bytes plus this much, to cover the batches between
 * the index entry and the requested offset without a second read. */
#define READ_SLACK (16u << 10)

void log_config_default(log_config_t *c)
{
	c->segment_bytes = 1LL << 30;
	c->segment_ms = 7LL * 24 * 3600 * 1000;
	c->retention_bytes = -1;
	c->retention_ms = 7LL * 24 * 3600 * 1000;
	c->index_interval_bytes = 4096;
	c->segment_index_bytes = 10 << 20;
	c->flush_policy = LOG_FLUSH_SYNC;
	c->flush_ms = 1000;
	c->max_batch_bytes = 1 << 20;
}

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

static void set_err(char *errstr, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errstr, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errstr || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, errlen, fmt, ap);
	va_end(ap);
}

static log_segment_t *active(const log_t *l)
{
	return l->segs[l->nsegs - 1];
}

static void epoch_path(const log_t *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", l->path, LOG_EPOCH_FILE);
}

static tern_err_t persist_epochs(log_t *l)
{
	char path[4096];

	epoch_path(l, path, sizeof path);
	return log_epoch_cache_write(&l->epochs, path);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = log__fsync(fd, false);
	close(fd);
	return rc;
}

/* "<topic>-<partition>" with a valid Kafka topic name. */
static bool parse_name(const char *name, char *topic, size_t tlen, int32_t *partition)
{
	const char *dash = strrchr(name, '-');
	char *end;
	long p;
	size_t n;

	if (!dash || dash == name || !dash[1])
		return false;
	n = (size_t)(dash - name);
	if (n >= tlen || n > 249)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	if ((n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	errno = 0;
	p = strtol(dash + 1, &end, 10);
	if (errno || *end || p < 0 || p > INT32_MAX)
		return false;
	memcpy(topic, name, n);
	topic[n] = 0;
	*partition = (int32_t)p;
	return true;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The base offsets of the segments in dir, sorted; stray temporary files
 * are removed. */
static tern_err_t list_segments(const char *path, int64_t **bases, size_t *n)
{
	DIR *dh = opendir(path);
	struct dirent *de;
	int64_t *b = NULL;
	size_t cnt = 0, cap = 0;

	if (!dh)
		return tern_err_errno(errno);
	while ((de = readdir(dh))) {
		const char *nm = de->d_name;
		size_t len = strlen(nm);
		char *end;
		long long v;

		if (len == 24 && strcmp(nm + 20, ".log") == 0) {
			errno = 0;
			v = strtoll(nm, &end, 10);
			if (errno || end != nm + 20 || v < 0)
				continue;
			if (cnt == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				int64_t *nb = realloc(b, ncap * sizeof *nb);

				if (!nb) {
					free(b);
					closedir(dh);
					return TERN_ERR__NOMEM;
				}
				b = nb;
				cap = ncap;
			}
			b[cnt++] = v;
		} else if (len > 4 && strcmp(nm + len - 4, ".tmp") == 0) {
			char p[4096];

			snprintf(p, sizeof p, "%s/%s", path, nm);
			unlink(p);
		}
	}
	closedir(dh);
	qsort(b, cnt, sizeof *b, cmp_i64);
	*bases = b;
	*n = cnt;
	return TERN_OK;
}

static void unlink_segment_files(const char *dir, int64_t base)
{
	static const char *const ext[] = {".log", ".index", ".timeindex"};
	char path[4096];

	for (size_t i = 0; i < 3; i++) {
		log__seg_path(path, sizeof path, dir, base, ext[i]);
		unlink(path);
	}
}

static tern_err_t push_segment(log_t *l, log_segment_t *seg)
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

/* Removes segs[i] from the log and its files from the disk; readers that
 * still hold it keep their reference. Called with l->mu held (or before
 * the log is shared). */
static void drop_segment(log_t *l, size_t i)
{
	log_segment_t *seg = l->segs[i];

	unlink_segment_files(l->path, seg->base);
	memmove(&l->segs[i], &l->segs[i + 1], (l->nsegs - i - 1) * sizeof *l->segs);
	l->nsegs--;
	seg->deleted = true;
	log__seg_unref(l->dir, seg);
}

/* After a clean stop: the active segment's indexes are trusted; find its
 * end by scanning from the last index entry, and cut anything invalid. */
struct tail_scan {
	log_segment_t *seg;
};

static bool tail_batch(void *opaque, const log_batch_hdr_t *h, uint64_t pos)
{
	log_segment_t *seg = ((struct tail_scan *)opaque)->seg;

	if (h->max_timestamp > seg->pmax_ts) {
		seg->pmax_ts = seg->max_ts = h->max_timestamp;
		seg->pmax_ts_offset = seg->max_ts_offset = log_batch_last_offset(h);
	}
	return true;
}

static tern_err_t load_clean_tail(log_t *l, log_segment_t *seg, uint64_t file_size)
{
	struct tail_scan ts = {.seg = seg};
	uint64_t pos = 0;
	int64_t expect = seg->base;
	log_scan_t scan;
	tern_err_t err;

	seg->size = file_size;
	seg->end = INT64_MAX; /* unknown until scanned: lets the index load */
	err = log__seg_load_index(l->path, seg);
	if (err)
		return err;
	if (seg->idx_n) {
		pos = seg->idx[seg->idx_n - 1].pos;
		expect = seg->base + seg->idx[seg->idx_n - 1].rel;
	}
	err = log__seg_scan(seg->fd, pos, expect, file_size, tail_batch, &ts, &scan);
	if (err)
		return err;
	if (scan.stopped_early) {
		/* Not the tail a clean stop leaves: recover the segment. */
		return TERN_ERR__CORRUPT;
	}
	seg->size = seg->pend_size = scan.valid_size;
	seg->end = scan.end;
	seg->bytes_since_idx = seg->size - pos;
	return TERN_OK;
}

/* Recovers or loads every segment found on disk. */
static tern_err_t load_segments(log_t *l, int64_t *bases, size_t nb, int64_t recovery_point,
				bool clean, char *errstr, size_t errlen)
{
	size_t r = 0; /* first segment to recover */
	tern_err_t err = TERN_OK;

	for (size_t i = 0; i < nb; i++) {
		log_segment_t *seg = log__seg_alloc(bases[i]);
		char path[4096];

		if (!seg || push_segment(l, seg)) {
			log__seg_free(seg);
			return TERN_ERR__NOMEM;
		}
		log__seg_path(path, sizeof path, l->path, bases[i], ".log");
		seg->fd = open(path, O_RDWR | O_CLOEXEC);
		if (seg->fd < 0) {
			set_err(errstr, errlen, "open %s: %s", path, strerror(errno));
			return tern_err_errno(errno);
		}
		if (bases[i] <= recovery_point)
			r = i;
	}
	if (clean)
		r = nb - 1;
	else
		log_epoch_cache_truncate_from_end(&l->epochs, l->segs[r]->base);

	for (size_t i = 0; i < l->nsegs; i++) {
		log_segment_t *seg = l->segs[i];
		bool last = i == l->nsegs - 1;
		struct stat st;
		log_scan_t scan;

		if (fstat(seg->fd, &st) < 0)
			return tern_err_errno(errno);
		if (i < r) {
			/* Trusted: below the recovery point. */
			seg->size = seg->pend_size = (uint64_t)st.st_size;
			seg->end = l->segs[i + 1]->base;
			continue;
		}
		if (clean && last) {
			err = load_clean_tail(l, seg, (uint64_t)st.st_size);
			if (err != TERN_ERR__CORRUPT)
				break;
			err = TERN_OK;
		}
		err =
		    log__seg_recover(l->path, seg, l->cfg.index_interval_bytes, &l->epochs, &scan);
		if (err) {
			set_err(errstr, errlen, "%s: recovering segment %020lld: %s", l->name,
				(long long)seg->base, tern_strerror(err));
			return err;
		}
		/* Everything after the first invalid byte goes, later segments
		 * included; so does a segment that does not continue its
		 * predecessor's offsets. */
		if (!last && (scan.stopped_early || scan.end != l->segs[i + 1]->base)) {
			while (l->nsegs > i + 1)
				drop_segment(l, l->nsegs - 1);
			last = true;
		}
		if (!last) {
			err = log__seg_write_closed_indexes(l->path, seg);
			if (err)
				return err;
		}
	}
	return TERN_OK;
}

tern_err_t log_open(log_dir_t *d, const char *name, const log_config_t *cfg, log_t **out,
		    char *errstr, size_t errlen)
{
	log_t *l = calloc(1, sizeof *l);
	log_dir_entry_t entry = {0}, *e;
	int64_t *bases = NULL;
	size_t nb = 0;
	bool created = false;
	char path[4096];
	tern_err_t err = TERN_OK;
	pthread_condattr_t ca;

	if (!l)
		return TERN_ERR__NOMEM;
	if (errstr && errlen)
		errstr[0] = 0;
	l->dir = d;
	l->cfg = *cfg;
	log_epoch_cache_init(&l->epochs);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!parse_name(name, l->topic, sizeof l->topic, &l->partition)) {
		set_err(errstr, errlen, "'%s' is not a partition name (<topic>-<partition>)", name);
		err = TERN_ERR_INVALID_TOPIC_EXCEPTION;
		goto fail;
	}
	l->name = strdup(name);
	if (asprintf(&l->path, "%s/%s", d->path, name) < 0 || !l->name) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	pthread_mutex_lock(&d->mu);
	e = log__dir_entry(d, name, false);
	if (e)
		entry = *e;
	for (log_t *o = d->logs; o; o = o->dir_next)
		if (strcmp(o->name, name) == 0)
			err = TERN_ERR__STATE;
	pthread_mutex_unlock(&d->mu);
	if (err == TERN_ERR__STATE) {
		set_err(errstr, errlen, "%s is already open", name);
		goto fail;
	}

	if (mkdir(l->path, 0755) == 0) {
		created = true;
	} else if (errno != EEXIST) {
		set_err(errstr, errlen, "mkdir %s: %s", l->path, strerror(errno));
		err = tern_err_errno(errno);
		goto fail;
	}
	epoch_path(l, path, sizeof path);
	err = log_epoch_cache_read(&l->epochs, path, errstr, errlen);
	if (err) {
		/* A bad epoch file is rebuilt from the batches. */
		log_epoch_cache_free(&l->epochs);
		log_epoch_cache_init(&l->epochs);
		entry.has_recovery = true;
		entry.recovery_point = 0;
		if (errstr && errlen)
			errstr[0] = 0;
	}
	err = list_segments(l->path, &bases, &nb);
	if (err) {
		set_err(errstr, errlen, "listing %s: %s", l->path, tern_strerror(err));
		goto fail;
	}
	if (nb == 0) {
		int64_t base = entry.has_start ? entry.start : 0;
		log_segment_t *seg = log__seg_alloc(base);
		int rc;

		if (!seg || push_segment(l, seg)) {
			log__seg_free(seg);
			err = TERN_ERR__NOMEM;
			goto fail;
		}
		err = log__seg_create(l->path, seg, l->cfg.segment_index_bytes, errstr, errlen);
		if (err)
			goto fail;
		/* The new files (and a new directory) count only once their
		 * directory entries are durable. */
		rc = fsync_path(l->path);
		if (!rc && created)
			rc = fsync_path(d->path);
		if (rc) {
			set_err(errstr, errlen, "fsync of %s: %s", l->path, strerror(-rc));
			err = tern_err_errno(-rc);
			goto fail;
		}
		log_epoch_cache_truncate_from_end(&l->epochs, base);
	} else {
		bool clean = d->was_clean && entry.has_recovery;
		int rc;

		err = load_segments(l, bases, nb, entry.has_recovery ? entry.recovery_point : 0,
				    clean, errstr, errlen);
		if (err)
			goto fail;
		err = log__seg_open_active(l->path, active(l), l->cfg.segment_index_bytes, errstr,
					   errlen);
		if (err)
			goto fail;
		/* What survived the stop is made durable before it counts. */
		rc = log__fsync(active(l)->fd, true);
		if (!rc)
			rc = fsync_path(l->path);
		if (rc) {
			set_err(errstr, errlen, "fsync of %s: %s", l->path, strerror(-rc));
			err = tern_err_errno(-rc);
			goto fail;
		}
		/* Closed segments give their descriptors to the LRU. */
		for (size_t i = 0; i + 1 < l->nsegs; i++) {
			close(l->segs[i]->fd);
			l->segs[i]->fd = -1;
		}
	}
	active(l)->created_ms = log__now_ms(d);
	l->leo = l->durable = l->next = active(l)->end;
	l->start = entry.has_start ? entry.start : l->segs[0]->base;
	if (l->start < l->segs[0]->base)
		l->start = l->segs[0]->base;
	if (l->start > l->leo)
		l->start = l->leo;
	l->hwm = entry.has_hwm ? entry.hwm : 0;
	if (l->hwm > l->leo)
		l->hwm = l->leo;
	l->recovery_point = active(l)->base;
	l->last_flush_mono_ms = log__mono_ms();
	if (log_epoch_cache_truncate_from_end(&l->epochs, l->leo) |
	    log_epoch_cache_truncate_from_start(&l->epochs, l->start)) {
		err = persist_epochs(l);
		if (err) {
			set_err(errstr, errlen, "%s: writing %s: %s", l->name, LOG_EPOCH_FILE,
				tern_strerror(err));
			goto fail;
		}
	}
	free(bases);
	log__dir_register(d, l);
	*out = l;
	return TERN_OK;
fail:
	free(bases);
	for (size_t i = 0; i < l->nsegs; i++)
		log__seg_free(l->segs[i]);
	free(l->segs);
	log_epoch_cache_free(&l->epochs);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->name);
	free(l->path);
	free(l);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Exclusive operations: roll, truncation, close                             */

/* Waits for other exclusive operations, then for the writer to finish
 * everything queued, and takes the log. Called and returns with l->mu
 * held. */
static void begin_exclusive(log_t *l)
{
	while (l->busy)
		pthread_cond_wait(&l->cv, &l->mu);
	l->busy = true;
	while (l->pend_head || l->inflight) {
		log__writer_kick(l->writer);
		pthread_cond_wait(&l->cv, &l->mu);
	}
}

static void end_exclusive(log_t *l)
{
	l->busy = false;
	pthread_cond_broadcast(&l->cv);
}

/* Closes the active segment and starts a new one at the log end. Called
 * with l->mu held, inside begin_exclusive(). */
static tern_err_t roll(log_t *l)
{
	log_segment_t *old = active(l), *seg;
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
		rc = fsync_path(l->path);
		if (rc)
			err = tern_err_errno(-rc);
	}
	if (!err)
		err = push_segment(l, seg);
	if (err) {
		/* Keep appending to the old segment (a full disk, say). */
		if (seg) {
			unlink_segment_files(l->path, seg->base);
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
	const log_segment_t *seg = active(l);
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
	log_segment_t *seg = active(l);
	log_chunk_t *c = l->pend_tail;

	if (c && c->cap - c->len >= len)
		return c;
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->cap = len > CHUNK_BYTES ? len : CHUNK_BYTES;
	c->buf = malloc(c->cap);
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

tern_err_t log_append(log_t *l, const uint8_t *buf, size_t len, int32_t leader_epoch,
		      unsigned flags, log_append_info_t *info, log_append_cb *cb, void *opaque)
{
	bool assign = flags & LOG_APPEND_ASSIGN_OFFSETS;
	size_t max_pending = l->dir->opts.max_pending_bytes;
	int64_t count, max_ts, base;
	log_segment_t *seg;
	log_chunk_t *c;
	bool epochs_changed = false;
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
		begin_exclusive(l);
		err = l->failed ? TERN_ERR_KAFKA_STORAGE_ERROR : roll(l);
		end_exclusive(l);
		if (err)
			goto out;
	}

	seg = active(l);
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
		if (h.leader_epoch >= 0 && h.leader_epoch > log_epoch_cache_latest(&l->epochs))
			epochs_changed |=
			    log_epoch_cache_assign(&l->epochs, h.leader_epoch, h.base_offset);
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
	if (epochs_changed) {
		tern_err_t perr = persist_epochs(l);

		if (perr)
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: writing %s: %s", l->name,
				  LOG_EPOCH_FILE, tern_strerror(perr));
	}
	if (info) {
		info->base_offset = base;
		info->last_offset = l->next - 1;
		info->max_timestamp = max_ts;
	}
	log__writer_kick(l->writer);
out:
	pthread_mutex_unlock(&l->mu);
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
	struct timespec dl;
	tern_err_t err = TERN_OK;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	if (timeout_ms >= 0) {
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&l->mu);
	while (*field < offset) {
		if (l->failed) {
			err = l->failed;
			break;
		}
		if (timeout_ms < 0) {
			pthread_cond_wait(&l->cv, &l->mu);
		} else if (pthread_cond_timedwait(&l->cv, &l->mu, &dl) == ETIMEDOUT &&
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

static tern_err_t read_failed(log_t *l, log_segment_t *seg, tern_err_t err, uint64_t pos,
			      const char *what, char *errstr, size_t errlen)
{
	pthread_mutex_lock(&l->mu);
	log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR,
		  "%s: segment %020lld.log: %s at file position %llu: %s", l->name,
		  (long long)seg->base, what, (unsigned long long)pos, tern_strerror(err));
	set_err(errstr, errlen, "%s", l->failure);
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
	size_t total = 0, want = max_bytes + READ_SLACK;
	int64_t expect, first_offset;
	tern_err_t err;
	char why[200];

	memset(out, 0, sizeof *out);
	out->first_offset = out->next_offset = offset;
	pthread_mutex_lock(&l->mu);
	if (l->failed) {
		set_err(errstr, errlen, "%s", l->failure);
		pthread_mutex_unlock(&l->mu);
		return TERN_ERR_KAFKA_STORAGE_ERROR;
	}
	if (offset < l->start || offset > l->leo) {
		set_err(errstr, errlen, "%s: offset %lld is outside [%lld, %lld]", l->name,
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
		set_err(errstr, errlen, "%s: opening the segment of offset %lld: %s", l->name,
			(long long)offset, tern_strerror(err));
		return TERN_ERR_KAFKA_STORAGE_ERROR;
	}
	w.fd = seg->fd;

	/* Skip to the batch that holds offset. */
	for (;;) {
		log_batch_hdr_t h;

		err = window_need(&w, cur, LOG_BATCH_HEADER_SIZE, want);
		if (!err)
			err = log_batch_hdr_parse(w.buf + (cur - w.pos), w.len - (cur - w.pos), &h);
		if (err) {
			err = read_failed(l, seg, err, cur, "unreadable batch header", errstr,
					  errlen);
			goto out;
		}
		if (log_batch_last_offset(&h) >= offset) {
			if (h.base_offset > offset) {
				err =
				    read_failed(l, seg, TERN_ERR__CORRUPT, cur,
						"offset missing from the segment", errstr, errlen);
				goto out;
			}
			if (log_batch_last_offset(&h) >= upper)
				goto out; /* nothing below upper */
			expect = first_offset = h.base_offset;
			break;
		}
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
			err = read_failed(l, seg, err, cur, "unreadable batch header", errstr,
					  errlen);
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
				err = read_failed(l, seg, err, cur, "short batch", errstr, errlen);
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
			err = read_failed(l, seg, err, cur, why, errstr, errlen);
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
	if (rr.len && log_batch_iter_new(rr.data, rr.len, 0, &it) == TERN_OK) {
		while (log_batch_iter_next(it, &rec) == TERN_OK) {
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
	struct tail_scan ts = {.seg = seg};
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
	err = log__seg_scan(seg->fd, pos, -1, seg->size, tail_batch, &ts, &scan);
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

tern_err_t log_truncate(log_t *l, int64_t offset, int64_t *new_end)
{
	tern_err_t err = TERN_OK;
	bool changed = false;

	pthread_mutex_lock(&l->mu);
	begin_exclusive(l);
	if (l->failed) {
		err = TERN_ERR_KAFKA_STORAGE_ERROR;
		goto out;
	}
	if (offset < l->start) {
		end_exclusive(l);
		pthread_mutex_unlock(&l->mu);
		return log_truncate_fully(l, offset);
	}
	if (offset < l->leo) {
		changed = true;
		while (l->nsegs > 1 && active(l)->base > offset)
			drop_segment(l, l->nsegs - 1);
		err = cut_segment(l, active(l), offset);
		if (err) {
			log__fail(l, TERN_ERR_KAFKA_STORAGE_ERROR, "%s: truncating to %lld: %s",
				  l->name, (long long)offset, tern_strerror(err));
			err = l->failed;
			goto out;
		}
		l->leo = l->next = active(l)->end;
		if (l->durable > l->leo)
			l->durable = l->leo;
		if (l->hwm > l->leo)
			l->hwm = l->leo;
		l->recovery_point = active(l)->base;
		active(l)->created_ms = log__now_ms(l->dir);
		if (log_epoch_cache_truncate_from_end(&l->epochs, l->leo))
			err = persist_epochs(l);
	}
	if (new_end)
		*new_end = l->leo;
out:
	end_exclusive(l);
	pthread_mutex_unlock(&l->mu);
	/* The recovery point moved back: record it before anything else can
	 * be appended over the cut, so that recovery never trusts old bytes. */
	if (!err && changed)
		err = log_dir_checkpoint(l->dir);
	return err;
}

tern_err_t log_truncate_fully(log_t *l, int64_t offset)
{
	log_segment_t *seg;
	char errstr[300];
	tern_err_t err;
	int rc;

	if (offset < 0)
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&l->mu);
	begin_exclusive(l);
	if (l->failed) {
		err = TERN_ERR_KAFKA_STORAGE_ERROR;
		goto out;
	}
	while (l->nsegs)
		drop_segment(l, l->nsegs - 1);
	seg = log__seg_alloc(offset);
	err = seg ? log__seg_create(l->path, seg, l->cfg.segment_index_bytes, errstr, sizeof errstr)
		  : TERN_ERR__NOMEM;
	if (!err) {
		rc = fsync_path(l->path);
		if (rc)
			err = tern_err_errno(-rc);
	}
	if (!err)
		err = push_segment(l, seg);
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
	err = persist_epochs(l);
out:
	end_exclusive(l);
	pthread_mutex_unlock(&l->mu);
	if (!err)
		err = log_dir_checkpoint(l->dir);
	return err;
}

/* Raises the log start to the first segment's base when retention left it
 * below, and trims the epoch cache. l->mu held. */
static tern_err_t start_moved(log_t *l)
{
	if (l->start < l->segs[0]->base)
		l->start = l->segs[0]->base;
	if (log_epoch_cache_truncate_from_start(&l->epochs, l->start))
		return persist_epochs(l);
	return TERN_OK;
}

tern_err_t log_advance_start(log_t *l, int64_t offset)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->mu);
	if (offset > l->leo) {
		err = TERN_ERR_OFFSET_OUT_OF_RANGE;
	} else if (offset > l->start) {
		l->start = offset;
		while (l->nsegs > 1 && l->segs[0]->end <= l->start)
			drop_segment(l, 0);
		err = start_moved(l);
	}
	pthread_mutex_unlock(&l->mu);
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
	int64_t now = log__now_ms(l->dir), total = 0;
	tern_err_t err;
	int cnt = 0;

	pthread_mutex_lock(&l->mu);
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
		drop_segment(l, 0);
		cnt++;
	}
	err = start_moved(l);
	pthread_mutex_unlock(&l->mu);
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

tern_err_t log_assign_epoch(log_t *l, int32_t epoch, int64_t start_offset)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->mu);
	if (log_epoch_cache_assign(&l->epochs, epoch, start_offset))
		err = persist_epochs(l);
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

/* ------------------------------------------------------------------------ */
/* Close                                                                      */

static void free_log(log_t *l)
{
	for (size_t i = 0; i < l->nsegs; i++)
		log__seg_unref(l->dir, l->segs[i]);
	free(l->segs);
	free(l->waiters);
	log_epoch_cache_free(&l->epochs);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->name);
	free(l->path);
	free(l);
}

/* Stops the log: waits for the writer to finish with it and takes it out
 * of the writer and the directory. With seal, makes the active segment
 * durable and its indexes exact, and records the log's offsets. */
static tern_err_t shut(log_t *l, bool seal)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&l->mu);
	begin_exclusive(l);
	l->closing = true;
	if (seal && !l->failed) {
		err = log__seg_seal(active(l));
		if (!err) {
			l->durable = l->leo;
			l->recovery_point = l->leo;
		}
	} else if (seal) {
		err = l->failed;
	}
	pthread_mutex_unlock(&l->mu);
	log__writer_remove(l->writer, l);
	log__dir_unregister(l->dir, l, seal && !err);
	if (seal && err) {
		/* Its files were not left as a clean stop leaves them. */
		pthread_mutex_lock(&l->dir->mu);
		l->dir->close_failed = true;
		pthread_mutex_unlock(&l->dir->mu);
	}
	return err;
}

tern_err_t log_close(log_t *l)
{
	tern_err_t err = shut(l, true);

	free_log(l);
	return err;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw);

tern_err_t log_delete(log_t *l)
{
	char *path = strdup(l->path);
	log_dir_t *d = l->dir;
	tern_err_t err = TERN_OK;
	int rc;

	shut(l, false);
	free_log(l);
	if (!path)
		return TERN_ERR__NOMEM;
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		err = tern_err_errno(errno);
	rc = fsync_path(d->path);
	if (!err && rc)
		err = tern_err_errno(-rc);
	free(path);
	return err;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

void log__abandon(log_t *l)
{
	log_chunk_t *c, *n;

	for (c = l->pend_head; c; c = n) {
		n = c->next;
		log__chunk_free(c);
	}
	free_log(l);
}
