/* log/snapshot.c: <offset>.snapshot files, a log user's state saved as of
 * an offset (the broker's idempotent producers), kept consistent with the
 * log's offsets through truncation, retention and recovery (log.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

#define SNAP_EXT	 ".snapshot"
#define SNAP_HDR	 18 /* magic 4, version 2, offset 8, length 4 */
#define SNAP_MAGIC	 "TSNP"
#define SNAP_NAME_DIGITS 20

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void snap_path(char *buf, size_t len, const char *dir, int64_t offset)
{
	log__seg_path(buf, len, dir, offset, SNAP_EXT);
}

/* The offset a snapshot file's name gives, or -1 when name is not one. */
static int64_t name_offset(const char *name)
{
	int64_t v = 0;

	if (strlen(name) != SNAP_NAME_DIGITS + strlen(SNAP_EXT) ||
	    strcmp(name + SNAP_NAME_DIGITS, SNAP_EXT) != 0)
		return -1;
	for (int i = 0; i < SNAP_NAME_DIGITS; i++) {
		int d = name[i] - '0';

		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	return v;
}

static int cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

tern_err_t log__snap_list_dir(const char *dir, int64_t **offsets, size_t *n)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	int64_t *v = NULL;
	size_t cnt = 0, cap = 0;

	if (!dh)
		return tern_err_errno(errno);
	while ((de = readdir(dh))) {
		int64_t off = name_offset(de->d_name);

		if (off < 0)
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *nv = realloc(v, ncap * sizeof *nv);

			if (!nv) {
				free(v);
				closedir(dh);
				return TERN_ERR__NOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = off;
	}
	closedir(dh);
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, cmp_desc);
	*offsets = v;
	*n = cnt;
	return TERN_OK;
}

tern_err_t log__snap_prune(const char *dir, int64_t lo, int64_t hi, size_t keep)
{
	int64_t *offs = NULL;
	size_t n = 0, kept = 0;
	bool removed = false;
	tern_err_t err;
	int rc;

	err = log__snap_list_dir(dir, &offs, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		char path[4096];

		if (offs[i] >= lo && offs[i] <= hi && kept < keep) {
			kept++;
			continue;
		}
		snap_path(path, sizeof path, dir, offs[i]);
		if (unlink(path) < 0 && errno != ENOENT && !err)
			err = tern_err_errno(errno);
		removed = true;
	}
	free(offs);
	if (removed) {
		/* A snapshot that came back after a crash could describe bytes
		 * that were cut and written again. */
		rc = log__fsync_dir(dir);
		if (rc && !err)
			err = tern_err_errno(-rc);
	}
	return err;
}

void log_set_roll_cb(log_t *l, log_roll_cb *cb, void *opaque)
{
	pthread_mutex_lock(&l->mu);
	l->roll_cb = cb;
	l->roll_opaque = opaque;
	pthread_mutex_unlock(&l->mu);
}

tern_err_t log_snapshot_write(log_t *l, int64_t offset, const void *payload, size_t len)
{
	uint8_t *buf = NULL;
	char path[4096];
	tern_err_t err = TERN_OK;
	size_t total;

	if (len > LOG_SNAPSHOT_MAX_BYTES - LOG_SNAPSHOT_OVERHEAD)
		return TERN_ERR__INVALID_ARG;
	total = len + LOG_SNAPSHOT_OVERHEAD;
	buf = malloc(total);
	if (!buf)
		return TERN_ERR__NOMEM;
	memcpy(buf, SNAP_MAGIC, 4);
	put_be16(buf + 4, LOG_SNAPSHOT_VERSION);
	put_be64(buf + 6, (uint64_t)offset);
	put_be32(buf + 14, (uint32_t)len);
	if (len)
		memcpy(buf + SNAP_HDR, payload, len);
	put_be32(buf + SNAP_HDR + len, log_crc32c(0, buf, SNAP_HDR + len));

	pthread_mutex_lock(&l->snap_mu);
	pthread_mutex_lock(&l->mu);
	if (l->failed)
		err = TERN_ERR_KAFKA_STORAGE_ERROR;
	else if (offset < l->start || offset > l->leo)
		err = TERN_ERR_OFFSET_OUT_OF_RANGE;
	pthread_mutex_unlock(&l->mu);
	/* Truncation and retention take snap_mu first: the range checked here
	 * holds until the file is in place. */
	if (!err) {
		snap_path(path, sizeof path, l->path, offset);
		err = log_durable_replace(path, buf, total);
	}
	if (!err)
		err = log__snap_prune(l->path, INT64_MIN, INT64_MAX, LOG_SNAPSHOTS_KEPT);
	pthread_mutex_unlock(&l->snap_mu);
	free(buf);
	return err;
}

tern_err_t log_snapshot_list(log_t *l, int64_t **offsets, size_t *n)
{
	int64_t *v = NULL, start, leo;
	size_t cnt = 0, k = 0;
	tern_err_t err;

	pthread_mutex_lock(&l->snap_mu);
	pthread_mutex_lock(&l->mu);
	start = l->start;
	leo = l->leo;
	pthread_mutex_unlock(&l->mu);
	err = log__snap_list_dir(l->path, &v, &cnt);
	pthread_mutex_unlock(&l->snap_mu);
	if (err)
		return err;
	for (size_t i = 0; i < cnt; i++)
		if (v[i] >= start && v[i] <= leo)
			v[k++] = v[i];
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*offsets = v;
	*n = k;
	return TERN_OK;
}

tern_err_t log_snapshot_decode(const uint8_t *buf, size_t len, int64_t *offset,
			       const uint8_t **payload, size_t *plen, char *why, size_t whylen)
{
	uint32_t n, crc;

	if (len < LOG_SNAPSHOT_OVERHEAD) {
		log__set_err(why, whylen, "%zu bytes, less than a snapshot's header and CRC", len);
		return TERN_ERR__CORRUPT;
	}
	if (memcmp(buf, SNAP_MAGIC, 4) != 0) {
		log__set_err(why, whylen, "not a snapshot (no %s magic)", SNAP_MAGIC);
		return TERN_ERR__CORRUPT;
	}
	if ((buf[4] << 8 | buf[5]) != LOG_SNAPSHOT_VERSION) {
		log__set_err(why, whylen, "snapshot version %d, not %d", buf[4] << 8 | buf[5],
			     LOG_SNAPSHOT_VERSION);
		return TERN_ERR__CORRUPT;
	}
	n = get_be32(buf + 14);
	if ((uint64_t)n + LOG_SNAPSHOT_OVERHEAD != len) {
		log__set_err(why, whylen, "payload length %u does not match the file's %zu bytes",
			     n, len);
		return TERN_ERR__CORRUPT;
	}
	crc = get_be32(buf + SNAP_HDR + n);
	if (crc != log_crc32c(0, buf, SNAP_HDR + n)) {
		log__set_err(why, whylen, "CRC mismatch (stored 0x%08x)", crc);
		return TERN_ERR__CORRUPT;
	}
	if ((int64_t)get_be64(buf + 6) < 0) {
		log__set_err(why, whylen, "negative offset");
		return TERN_ERR__CORRUPT;
	}
	*offset = (int64_t)get_be64(buf + 6);
	*payload = buf + SNAP_HDR;
	*plen = n;
	return TERN_OK;
}

/* Reads a whole file of at most LOG_SNAPSHOT_MAX_BYTES. */
static tern_err_t read_file(const char *path, uint8_t **out, size_t *len, char *errstr,
			    size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf = NULL;
	struct stat st;
	size_t got = 0, size;
	tern_err_t err = TERN_OK;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err = tern_err_errno(errno);
		log__set_err(errstr, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > LOG_SNAPSHOT_MAX_BYTES) {
		log__set_err(errstr, errlen, "%s: %lld bytes, more than a snapshot may hold", path,
			     (long long)st.st_size);
		err = TERN_ERR__CORRUPT;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	while (got < size) {
		ssize_t r = log__pread(fd, buf + got, size - got, (off_t)got);

		if (r < 0) {
			err = tern_err_errno((int)-r);
			log__set_err(errstr, errlen, "%s: %s", path, strerror((int)-r));
			goto out;
		}
		if (r == 0)
			break; /* shrank under us: the decode sees the short file */
		got += (size_t)r;
	}
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

tern_err_t log_snapshot_read(log_t *l, int64_t offset, uint8_t **payload, size_t *len, char *errstr,
			     size_t errlen)
{
	uint8_t *buf = NULL, *copy = NULL;
	const uint8_t *p;
	char path[4096], why[200];
	size_t flen = 0, plen;
	int64_t at;
	tern_err_t err;

	snap_path(path, sizeof path, l->path, offset);
	pthread_mutex_lock(&l->snap_mu);
	err = read_file(path, &buf, &flen, errstr, errlen);
	pthread_mutex_unlock(&l->snap_mu);
	if (err)
		return err;
	err = log_snapshot_decode(buf, flen, &at, &p, &plen, why, sizeof why);
	if (!err && at != offset) {
		snprintf(why, sizeof why, "it holds the state at offset %lld", (long long)at);
		err = TERN_ERR__CORRUPT;
	}
	if (err) {
		log__set_err(errstr, errlen, "%s: %s", path, why);
		goto out;
	}
	if (plen) {
		copy = malloc(plen);
		if (!copy) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
		memcpy(copy, p, plen);
	}
	*payload = copy;
	*len = plen;
out:
	free(buf);
	return err;
}

tern_err_t log_snapshot_delete(log_t *l, int64_t offset)
{
	char path[4096];
	tern_err_t err = TERN_OK;
	int rc;

	snap_path(path, sizeof path, l->path, offset);
	pthread_mutex_lock(&l->snap_mu);
	if (unlink(path) < 0) {
		if (errno != ENOENT)
			err = tern_err_errno(errno);
	} else if ((rc = log__fsync_dir(l->path)) != 0) {
		err = tern_err_errno(-rc);
	}
	pthread_mutex_unlock(&l->snap_mu);
	return err;
}
