/* A data directory: its lock, its offset checkpoints and clean-shutdown
 * marker, its writer threads, and the open segment files under an LRU cap. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log_int.h"

int64_t log__now_ms(log_dir_t *d)
{
	struct timespec ts;

	if (d->opts.clock_ms)
		return d->opts.clock_ms(d->opts.clock_opaque);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log__set_err(char *errstr, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errstr || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, errlen, fmt, ap);
	va_end(ap);
}

int log__fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = log__fsync(fd, false);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Checkpoint values                                                          */

log_dir_entry_t *log__dir_entry(log_dir_t *d, const char *name, bool create)
{
	for (size_t i = 0; i < d->nentries; i++)
		if (strcmp(d->entries[i].name, name) == 0)
			return &d->entries[i];
	if (!create || strlen(name) >= sizeof d->entries[0].name)
		return NULL;
	if (d->nentries == d->entries_cap) {
		size_t ncap = d->entries_cap ? d->entries_cap * 2 : 16;
		log_dir_entry_t *n = realloc(d->entries, ncap * sizeof *n);

		if (!n)
			return NULL;
		d->entries = n;
		d->entries_cap = ncap;
	}
	memset(&d->entries[d->nentries], 0, sizeof d->entries[0]);
	snprintf(d->entries[d->nentries].name, sizeof d->entries[0].name, "%s", name);
	return &d->entries[d->nentries++];
}

enum { CK_HWM, CK_RECOVERY, CK_START };
static const char *const ckpt_files[] = {LOG_CKPT_HWM, LOG_CKPT_RECOVERY, LOG_CKPT_START};

static tern_err_t read_checkpoints(log_dir_t *d, char *errstr, size_t errlen)
{
	for (int k = 0; k < 3; k++) {
		log_ckpt_entry_t *e = NULL;
		size_t n = 0;
		char path[4096];
		tern_err_t err;

		snprintf(path, sizeof path, "%s/%s", d->path, ckpt_files[k]);
		err = log_ckpt_read(path, &e, &n, errstr, errlen);
		if (err)
			return err;
		for (size_t i = 0; i < n; i++) {
			char name[300];
			log_dir_entry_t *de;

			snprintf(name, sizeof name, "%s-%d", e[i].topic, e[i].partition);
			de = log__dir_entry(d, name, true);
			if (!de) {
				free(e);
				return TERN_ERR__NOMEM;
			}
			if (k == CK_HWM) {
				de->hwm = e[i].offset;
				de->has_hwm = true;
			} else if (k == CK_RECOVERY) {
				de->recovery_point = e[i].offset;
				de->has_recovery = true;
			} else {
				de->start = e[i].offset;
				de->has_start = true;
			}
		}
		free(e);
	}
	return TERN_OK;
}

/* Copies an open log's offsets into its entry. d->mu held. */
static void record(log_dir_t *d, log_t *l)
{
	log_dir_entry_t *e = log__dir_entry(d, l->name, true);

	if (!e)
		return;
	pthread_mutex_lock(&l->mu);
	e->hwm = l->hwm;
	e->recovery_point = l->recovery_point;
	e->start = l->start;
	e->has_hwm = e->has_recovery = e->has_start = true;
	pthread_mutex_unlock(&l->mu);
}

static tern_err_t write_checkpoints(log_dir_t *d)
{
	log_ckpt_entry_t *e = calloc(d->nentries ? d->nentries : 1, sizeof *e);
	tern_err_t err = TERN_OK;

	if (!e)
		return TERN_ERR__NOMEM;
	for (int k = 0; k < 3 && !err; k++) {
		size_t n = 0;
		char path[4096];

		for (size_t i = 0; i < d->nentries; i++) {
			const log_dir_entry_t *de = &d->entries[i];
			const char *dash = strrchr(de->name, '-');
			bool has = k == CK_HWM	      ? de->has_hwm
				   : k == CK_RECOVERY ? de->has_recovery
						      : de->has_start;

			if (!has || !dash || (size_t)(dash - de->name) >= sizeof e[n].topic)
				continue;
			memcpy(e[n].topic, de->name, (size_t)(dash - de->name));
			e[n].topic[dash - de->name] = 0;
			e[n].partition = (int32_t)strtol(dash + 1, NULL, 10);
			e[n].offset = k == CK_HWM	 ? de->hwm
				      : k == CK_RECOVERY ? de->recovery_point
							 : de->start;
			n++;
		}
		snprintf(path, sizeof path, "%s/%s", d->path, ckpt_files[k]);
		err = log_ckpt_write(path, e, n);
	}
	free(e);
	return err;
}

tern_err_t log_dir_checkpoint(log_dir_t *d)
{
	tern_err_t err;

	pthread_mutex_lock(&d->mu);
	for (log_t *l = d->logs; l; l = l->dir_next)
		record(d, l);
	err = write_checkpoints(d);
	pthread_mutex_unlock(&d->mu);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Open logs                                                                  */

void log__dir_mark_unclean(log_dir_t *d)
{
	pthread_mutex_lock(&d->mu);
	d->unclean = true;
	pthread_mutex_unlock(&d->mu);
}

void log__dir_register(log_dir_t *d, log_t *l)
{
	pthread_mutex_lock(&d->mu);
	l->writer = d->writers[d->next_writer];
	d->next_writer = (d->next_writer + 1) % d->nwriters;
	l->dir_next = d->logs;
	d->logs = l;
	pthread_mutex_unlock(&d->mu);
	log__writer_add(l->writer, l);
}

void log__dir_unregister(log_dir_t *d, log_t *l, bool rec)
{
	pthread_mutex_lock(&d->mu);
	for (log_t **p = &d->logs; *p; p = &(*p)->dir_next) {
		if (*p == l) {
			*p = l->dir_next;
			break;
		}
	}
	if (rec)
		record(d, l);
	pthread_mutex_unlock(&d->mu);
}

/* ------------------------------------------------------------------------ */
/* Segment references and the LRU of open files                              */

static void lru_unlink(log_dir_t *d, log_segment_t *seg)
{
	if (!seg->in_lru)
		return;
	if (seg->lru_prev)
		seg->lru_prev->lru_next = seg->lru_next;
	else
		d->lru_head = seg->lru_next;
	if (seg->lru_next)
		seg->lru_next->lru_prev = seg->lru_prev;
	else
		d->lru_tail = seg->lru_prev;
	seg->lru_prev = seg->lru_next = NULL;
	seg->in_lru = false;
	if (seg->fd >= 0)
		d->lru_open--;
}

static void lru_push_front(log_dir_t *d, log_segment_t *seg)
{
	seg->lru_prev = NULL;
	seg->lru_next = d->lru_head;
	if (d->lru_head)
		d->lru_head->lru_prev = seg;
	d->lru_head = seg;
	if (!d->lru_tail)
		d->lru_tail = seg;
	seg->in_lru = true;
	if (seg->fd >= 0)
		d->lru_open++;
}

/* Closes idle files from the cold end until the cap holds. fd_mu held. */
static void lru_evict(log_dir_t *d)
{
	log_segment_t *seg = d->lru_tail;

	while (seg && d->lru_open > d->opts.max_open_files) {
		log_segment_t *prev = seg->lru_prev;

		if (seg->refs == 1 && seg->fd >= 0) {
			/* Only the log's own reference: nobody reads it. */
			lru_unlink(d, seg);
			close(seg->fd);
			seg->fd = -1;
		}
		seg = prev;
	}
}

void log__seg_lru_add(log_dir_t *d, log_segment_t *seg)
{
	pthread_mutex_lock(&d->fd_mu);
	lru_unlink(d, seg);
	lru_push_front(d, seg);
	lru_evict(d);
	pthread_mutex_unlock(&d->fd_mu);
}

tern_err_t log__seg_acquire(log_dir_t *d, const char *logpath, log_segment_t *seg)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&d->fd_mu);
	if (seg->fd < 0) {
		if (!logpath) {
			err = TERN_ERR__STATE;
			goto out;
		}
		seg->fd = open(logpath, O_RDWR | O_CLOEXEC);
		if (seg->fd < 0) {
			err = tern_err_errno(errno);
			goto out;
		}
	}
	seg->refs++;
	if (!seg->active) {
		lru_unlink(d, seg);
		lru_push_front(d, seg);
		lru_evict(d);
	}
out:
	pthread_mutex_unlock(&d->fd_mu);
	return err;
}

static void seg_put(log_dir_t *d, log_segment_t *seg)
{
	if (--seg->refs == 0) {
		lru_unlink(d, seg);
		log__seg_free(seg);
	}
}

void log__seg_release(log_dir_t *d, log_segment_t *seg)
{
	if (!seg)
		return;
	pthread_mutex_lock(&d->fd_mu);
	seg_put(d, seg);
	pthread_mutex_unlock(&d->fd_mu);
}

void log__seg_ref(log_dir_t *d, log_segment_t *seg)
{
	pthread_mutex_lock(&d->fd_mu);
	seg->refs++;
	pthread_mutex_unlock(&d->fd_mu);
}

void log__seg_unref(log_dir_t *d, log_segment_t *seg)
{
	log__seg_release(d, seg);
}

tern_err_t log__seg_lru_take(log_dir_t *d, const char *logpath, log_segment_t *seg)
{
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&d->fd_mu);
	lru_unlink(d, seg);
	if (seg->fd < 0) {
		seg->fd = open(logpath, O_RDWR | O_CLOEXEC);
		if (seg->fd < 0)
			err = tern_err_errno(errno);
	}
	pthread_mutex_unlock(&d->fd_mu);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Chunk buffers                                                              */

uint8_t *log__buf_get(log_dir_t *d)
{
	uint8_t *buf = NULL;

	pthread_mutex_lock(&d->pool_mu);
	if (d->pool_n)
		buf = d->pool[--d->pool_n];
	pthread_mutex_unlock(&d->pool_mu);
	return buf ? buf : malloc(LOG_CHUNK_BYTES);
}

void log__buf_put(log_dir_t *d, uint8_t *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&d->pool_mu);
	if (d->pool_n < d->pool_cap) {
		d->pool[d->pool_n++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&d->pool_mu);
	free(buf);
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                             */

static tern_err_t mkdirs(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof buf)
		return TERN_ERR__INVALID_ARG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return tern_err_errno(errno);
		if (i < len)
			buf[i] = '/';
	}
	return TERN_OK;
}

static void dir_free(log_dir_t *d)
{
	for (int i = 0; i < d->nwriters; i++)
		log__writer_stop(d->writers[i]);
	free(d->writers);
	while (d->pool_n)
		free(d->pool[--d->pool_n]);
	free(d->pool);
	pthread_mutex_destroy(&d->pool_mu);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->fd_mu);
	free(d->entries);
	free(d->path);
	free(d);
}

tern_err_t log_dir_open(const log_dir_opts_t *o, log_dir_t **out, char *errstr, size_t errlen)
{
	log_dir_t *d = calloc(1, sizeof *d);
	char path[4096];
	tern_err_t err;
	int rc;

	if (!d)
		return TERN_ERR__NOMEM;
	if (errstr && errlen)
		errstr[0] = 0;
	d->lock_fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->fd_mu, NULL);
	pthread_mutex_init(&d->pool_mu, NULL);
	d->opts = *o;
	if (d->opts.writer_threads <= 0)
		d->opts.writer_threads = 1;
	if (d->opts.max_open_files <= 0)
		d->opts.max_open_files = 1024;
	if (!d->opts.max_pending_bytes)
		d->opts.max_pending_bytes = 64u << 20;
	/* Enough spare buffers for one log's full queue, at most 32 MiB. */
	d->pool_cap = d->opts.max_pending_bytes / LOG_CHUNK_BYTES + 1;
	if (d->pool_cap > 32)
		d->pool_cap = 32;
	d->pool = calloc(d->pool_cap, sizeof *d->pool);
	if (!d->pool) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	d->path = strdup(o->path);
	d->opts.path = d->path;
	if (!d->path) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	err = log__ring_probe(errstr, errlen);
	if (err)
		goto fail;
	err = mkdirs(d->path);
	if (err) {
		log__set_err(errstr, errlen, "cannot create data directory %s: %s", d->path,
			     tern_strerror(err));
		goto fail;
	}
	snprintf(path, sizeof path, "%s/%s", d->path, LOG_DIR_LOCK);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0 || flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		err = tern_err_errno(errno);
		log__set_err(errstr, errlen, "data directory %s is in use by another process (%s)",
			     d->path, strerror(errno));
		goto fail;
	}
	err = read_checkpoints(d, errstr, errlen);
	if (err)
		goto fail;
	/* From now on a stop without log_dir_close() counts as unclean. */
	snprintf(path, sizeof path, "%s/%s", d->path, LOG_CLEAN_MARKER);
	if (unlink(path) == 0) {
		d->was_clean = true;
		rc = log__fsync_dir(d->path);
		if (rc) {
			err = tern_err_errno(-rc);
			log__set_err(errstr, errlen, "fsync of %s: %s", d->path, strerror(-rc));
			goto fail;
		}
	}
	d->writers = calloc((size_t)d->opts.writer_threads, sizeof *d->writers);
	if (!d->writers) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	for (int i = 0; i < d->opts.writer_threads; i++) {
		err = log__writer_new(&d->writers[i], errstr, errlen);
		if (err)
			goto fail;
		d->nwriters++;
	}
	*out = d;
	return TERN_OK;
fail:
	dir_free(d);
	return err;
}

bool log_dir_was_clean(const log_dir_t *d)
{
	return d->was_clean;
}

tern_err_t log_dir_close(log_dir_t *d)
{
	tern_err_t err = TERN_OK, e;
	char path[4096];

	for (;;) {
		log_t *l;

		pthread_mutex_lock(&d->mu);
		l = d->logs;
		pthread_mutex_unlock(&d->mu);
		if (!l)
			break;
		e = log_close(l);
		if (e && !err)
			err = e;
	}
	e = log_dir_checkpoint(d);
	if (e && !err)
		err = e;
	if (!err && d->unclean)
		err = TERN_ERR_KAFKA_STORAGE_ERROR;
	if (!err) {
		snprintf(path, sizeof path, "%s/%s", d->path, LOG_CLEAN_MARKER);
		err = log_durable_replace(path, "", 0);
	}
	dir_free(d);
	return err;
}

void log_dir_abandon(log_dir_t *d)
{
	/* Writers first, so that nothing more reaches the disk. */
	for (int i = 0; i < d->nwriters; i++)
		log__writer_stop(d->writers[i]);
	d->nwriters = 0;
	while (d->logs) {
		log_t *l = d->logs;

		d->logs = l->dir_next;
		log__abandon(l);
	}
	dir_free(d);
}

tern_err_t log_dir_list(log_dir_t *d, char ***names, size_t *n)
{
	DIR *dh = opendir(d->path);
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	if (!dh)
		return tern_err_errno(errno);
	while ((de = readdir(dh))) {
		const char *dash = strrchr(de->d_name, '-');
		char path[4096];
		struct stat st;

		if (de->d_name[0] == '.' || !dash || !dash[1] ||
		    strspn(dash + 1, "0123456789") != strlen(dash + 1))
			continue;
		snprintf(path, sizeof path, "%s/%s", d->path, de->d_name);
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(v, ncap * sizeof *nv);

			if (!nv)
				goto nomem;
			v = nv;
			cap = ncap;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt])
			goto nomem;
		cnt++;
	}
	closedir(dh);
	*names = v;
	*n = cnt;
	return TERN_OK;
nomem:
	closedir(dh);
	log_dir_free_names(v, cnt);
	return TERN_ERR__NOMEM;
}

void log_dir_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
