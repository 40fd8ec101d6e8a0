/* Opening a partition log (loading or recovering its segments) and
 * closing or deleting it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

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
	if (cnt > 1)
		qsort(b, cnt, sizeof *b, cmp_i64);
	*bases = b;
	*n = cnt;
	return TERN_OK;
}

static tern_err_t load_clean_tail(log_t *l, log_segment_t *seg, uint64_t file_size)
{
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
	err = log__seg_scan(seg->fd, pos, expect, file_size, log__seg_tail_batch, seg, &scan);
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

		if (!seg || log__push_segment(l, seg)) {
			log__seg_free(seg);
			return TERN_ERR__NOMEM;
		}
		if (bases[i] <= recovery_point)
			r = i;
	}
	if (clean)
		r = nb - 1;
	else
		log_epoch_cache_truncate_from_end(&l->epochs, l->segs[r]->base);

	/* One file open at a time: the closed segments' descriptors are the
	 * LRU's to open later, so a log of many segments opens within
	 * max_open_files. */
	for (size_t i = 0; i < l->nsegs; i++) {
		log_segment_t *seg = l->segs[i];
		bool last = i == l->nsegs - 1;
		char path[4096];
		struct stat st;
		log_scan_t scan;

		log__seg_path(path, sizeof path, l->path, seg->base, ".log");
		if (i < r) {
			/* Trusted: below the recovery point. */
			if (stat(path, &st) < 0)
				goto sys_fail;
			seg->size = seg->pend_size = (uint64_t)st.st_size;
			seg->end = l->segs[i + 1]->base;
			continue;
		}
		seg->fd = open(path, O_RDWR | O_CLOEXEC);
		if (seg->fd < 0 || fstat(seg->fd, &st) < 0)
			goto sys_fail;
		if (clean && last) {
			err = load_clean_tail(l, seg, (uint64_t)st.st_size);
			if (err != TERN_ERR__CORRUPT)
				break;
			err = TERN_OK;
		}
		err =
		    log__seg_recover(l->path, seg, l->cfg.index_interval_bytes, &l->epochs, &scan);
		if (err) {
			log__set_err(errstr, errlen, "%s: recovering segment %020lld: %s", l->name,
				     (long long)seg->base, tern_strerror(err));
			return err;
		}
		/* Everything after the first invalid byte goes, later segments
		 * included; so does a segment that does not continue its
		 * predecessor's offsets. */
		if (!last && (scan.stopped_early || scan.end != l->segs[i + 1]->base)) {
			while (l->nsegs > i + 1)
				log__drop_segment(l, l->nsegs - 1);
			last = true;
		}
		if (!last) {
			err = log__seg_write_closed_indexes(l->path, seg);
			if (err) {
				log__set_err(
				    errstr, errlen,
				    "%s: writing the rebuilt indexes of segment %020lld: %s",
				    l->name, (long long)seg->base, tern_strerror(err));
				return err;
			}
			close(seg->fd);
			seg->fd = -1;
		}
	}
	return err;
sys_fail:
	err = tern_err_errno(errno);
	log__set_err(errstr, errlen, "%s: opening a segment: %s", l->name, strerror(errno));
	return err;
}

tern_err_t log_open(log_dir_t *d, const char *name, const log_config_t *cfg, log_t **out,
		    char *errstr, size_t errlen)
{
	log_t *l = calloc(1, sizeof *l);

	if (l)
		l->corrupt_at = -1;
	log_dir_entry_t entry = {0}, *e;
	int64_t *bases = NULL;
	size_t nb = 0;
	bool created = false, epochs_bad = false, cut_end, cut_start;
	char path[4096];
	tern_err_t err = TERN_OK;

	if (!l)
		return TERN_ERR__NOMEM;
	if (errstr && errlen)
		errstr[0] = 0;
	l->dir = d;
	l->cfg = *cfg;
	log_epoch_cache_init(&l->epochs);
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->snap_mu, NULL);
	tern_cond_init_mono(&l->cv);
	if (!parse_name(name, l->topic, sizeof l->topic, &l->partition)) {
		log__set_err(errstr, errlen, "'%s' is not a partition name (<topic>-<partition>)",
			     name);
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
		log__set_err(errstr, errlen, "%s is already open", name);
		goto fail;
	}

	if (mkdir(l->path, 0755) == 0) {
		created = true;
	} else if (errno != EEXIST) {
		log__set_err(errstr, errlen, "mkdir %s: %s", l->path, strerror(errno));
		err = tern_err_errno(errno);
		goto fail;
	}
	log__epoch_path(l, path, sizeof path);
	err = log_epoch_cache_read(&l->epochs, path, errstr, errlen);
	if (err == TERN_ERR__CORRUPT) {
		/* A malformed epoch file is rebuilt from the batches of every
		 * segment: a full recovery, even after a clean stop. */
		log_epoch_cache_free(&l->epochs);
		log_epoch_cache_init(&l->epochs);
		entry.has_recovery = true;
		entry.recovery_point = 0;
		epochs_bad = true;
		if (errstr && errlen)
			errstr[0] = 0;
	} else if (err) {
		log__set_err(errstr, errlen, "%s: reading %s: %s", name, LOG_EPOCH_FILE,
			     tern_strerror(err));
		goto fail;
	}
	err = list_segments(l->path, &bases, &nb);
	if (err) {
		log__set_err(errstr, errlen, "listing %s: %s", l->path, tern_strerror(err));
		goto fail;
	}
	if (nb == 0) {
		int64_t base = entry.has_start ? entry.start : 0;
		log_segment_t *seg = log__seg_alloc(base);
		int rc;

		if (!seg || log__push_segment(l, seg)) {
			log__seg_free(seg);
			err = TERN_ERR__NOMEM;
			goto fail;
		}
		err = log__seg_create(l->path, seg, l->cfg.segment_index_bytes, errstr, errlen);
		if (err)
			goto fail;
		/* The new files (and a new directory) count only once their
		 * directory entries are durable. */
		rc = log__fsync_dir(l->path);
		if (!rc && created)
			rc = log__fsync_dir(d->path);
		if (rc) {
			log__set_err(errstr, errlen, "fsync of %s: %s", l->path, strerror(-rc));
			err = tern_err_errno(-rc);
			goto fail;
		}
		log_epoch_cache_truncate_from_end(&l->epochs, base);
	} else {
		bool clean = d->was_clean && entry.has_recovery && !epochs_bad;
		int rc;

		err = load_segments(l, bases, nb, entry.has_recovery ? entry.recovery_point : 0,
				    clean, errstr, errlen);
		if (err)
			goto fail;
		err = log__seg_open_active(l->path, log__active(l), l->cfg.segment_index_bytes,
					   errstr, errlen);
		if (err)
			goto fail;
		/* What survived the stop is made durable before it counts. */
		rc = log__fsync(log__active(l)->fd, true);
		if (!rc)
			rc = log__fsync_dir(l->path);
		if (rc) {
			log__set_err(errstr, errlen, "fsync of %s: %s", l->path, strerror(-rc));
			err = tern_err_errno(-rc);
			goto fail;
		}
	}
	log__active(l)->created_ms = log__now_ms(d);
	l->leo = l->durable = l->next = log__active(l)->end;
	l->start = entry.has_start ? entry.start : l->segs[0]->base;
	if (l->start < l->segs[0]->base)
		l->start = l->segs[0]->base;
	if (l->start > l->leo)
		l->start = l->leo;
	l->hwm = entry.has_hwm ? entry.hwm : 0;
	if (l->hwm > l->leo)
		l->hwm = l->leo;
	l->recovery_point = log__active(l)->base;
	l->last_flush_mono_ms = tern_mono_ms();
	/* Both trims run; either one changing the cache rewrites the file. */
	cut_end = log_epoch_cache_truncate_from_end(&l->epochs, l->leo);
	cut_start = log_epoch_cache_truncate_from_start(&l->epochs, l->start);
	if (cut_end || cut_start) {
		err = log__persist_epochs(l);
		if (err) {
			log__set_err(errstr, errlen, "%s: writing %s: %s", l->name, LOG_EPOCH_FILE,
				     tern_strerror(err));
			goto fail;
		}
	}
	/* Recovery may have cut the log below a snapshot, and retention may
	 * have moved the start past one before a crash kept it. */
	err = log__snap_prune(l->path, l->start, l->leo, SIZE_MAX);
	if (err) {
		log__set_err(errstr, errlen, "%s: deleting the snapshots outside [%lld, %lld]: %s",
			     l->name, (long long)l->start, (long long)l->leo, tern_strerror(err));
		goto fail;
	}
	free(bases);
	log__dir_register(d, l);
	*out = l;
	return TERN_OK;
fail:
	if (err != TERN_ERR_INVALID_TOPIC_EXCEPTION && err != TERN_ERR__STATE) {
		/* It may have been cut half way through recovery. */
		log__dir_mark_unclean(d);
		if (errstr && errlen && !errstr[0])
			log__set_err(errstr, errlen, "%s: %s", name, tern_strerror(err));
	}
	free(bases);
	for (size_t i = 0; i < l->nsegs; i++)
		log__seg_free(l->segs[i]);
	free(l->segs);
	log_epoch_cache_free(&l->epochs);
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->snap_mu);
	pthread_cond_destroy(&l->cv);
	free(l->name);
	free(l->path);
	free(l);
	return err;
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
	pthread_mutex_destroy(&l->snap_mu);
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
	log__begin_exclusive(l);
	l->closing = true;
	/* Every append gets its answer: the writer flushes what waits for an
	 * fsync, or fails it when the log has failed. */
	while (l->w_len) {
		l->flush_req = true;
		log__writer_kick(l->writer);
		pthread_cond_wait(&l->cv, &l->mu);
	}
	if (seal && !l->failed) {
		err = log__seg_seal(log__active(l));
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
	if (seal && err)
		log__dir_mark_unclean(l->dir); /* its files are not as a clean stop leaves them */
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
	rc = log__fsync_dir(d->path);
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
		log__chunk_free(l->dir, c);
	}
	free_log(l);
}
