/* log/checkpoint.c: durable replacement of small files, and Kafka's
 * checkpoint text format (shared with the leader-epoch checkpoint) with the
 * offset checkpoints built on it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/checkpoint_int.h"
#include "log/log.h"
#include "log/uring.h"

/* Kafka's limit on a topic name (Topic.MAX_NAME_LENGTH). */
#define TOPIC_MAX_LEN 249

/* The directory that holds path, as a new string: rename() makes the new
 * name durable only once that directory is fsynced. */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Callers serialise replacements of one path: two at once would share the
 * temp file. A temp file left by a crash is simply overwritten. */
tern_err_t log_durable_replace(const char *path, const void *data, size_t len)
{
	char *tmp = NULL, *dir = NULL;
	int fd = -1, dfd = -1;
	bool tmp_exists = false;
	tern_err_t err = TERN_OK;
	ssize_t wrote;
	int rc;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		err = TERN_ERR__NOMEM;
		goto out;
	}
	dir = parent_dir(path);
	if (!dir) {
		err = TERN_ERR__NOMEM;
		goto out;
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = tern_err_errno(errno);
		goto out;
	}
	tmp_exists = true;

	if (len > 0) {
		wrote = log__pwrite(fd, data, len, 0);
		if (wrote < 0) {
			err = tern_err_errno((int)-wrote);
			goto out;
		}
		if ((size_t)wrote != len) {
			err = tern_err_errno(EIO);
			goto out;
		}
	}
	/* A full fsync, not fdatasync: the file is new, its size and inode
	 * must be on disk before the rename publishes it. */
	rc = log__fsync(fd, false);
	if (rc < 0) {
		err = tern_err_errno(-rc);
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		err = tern_err_errno(errno);
		goto out;
	}

	if (rename(tmp, path) < 0) {
		err = tern_err_errno(errno);
		goto out;
	}
	tmp_exists = false;

	/* Until the directory is fsynced, a crash may bring back the old
	 * name; the caller must not act as if the new content were durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = tern_err_errno(errno);
		goto out;
	}
	rc = log__fsync(dfd, false);
	if (rc < 0)
		err = tern_err_errno(-rc);

out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp_exists)
		unlink(tmp);
	free(tmp);
	free(dir);
	return err;
}

/* ------------------------------------------------------------------------ */
/* The checkpoint text format                                                 */

/* Cuts the line that starts at t->pos. The caller has checked that the file
 * ends with '\n', so every line has one. */
static void take_line(log__ckpt_text_t *t, const char **line, size_t *len)
{
	const char *s = t->buf + t->pos;
	const char *nl = memchr(s, '\n', t->len - t->pos);

	*line = s;
	*len = (size_t)(nl - s);
	t->pos += *len + 1;
	t->lineno++;
}

static size_t count_newlines(const char *s, size_t len)
{
	size_t n = 0;
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static tern_err_t corrupt_file(const char *path, const char *why, char *errstr, size_t errlen)
{
	if (errstr && errlen > 0)
		snprintf(errstr, errlen, "%s: %s", path, why);
	return TERN_ERR__CORRUPT;
}

tern_err_t log__ckpt_load(const char *path, log__ckpt_text_t *t, char *errstr, size_t errlen)
{
	log__ckpt_text_t r = {.path = path};
	struct stat st;
	const char *line;
	size_t len, nlines;
	int64_t v;
	ssize_t got;
	tern_err_t err = TERN_OK;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return tern_err_errno(errno);
		*t = r;
		return TERN_OK;
	}
	if (fstat(fd, &st) < 0) {
		err = tern_err_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = corrupt_file(path, "not a regular file", errstr, errlen);
		goto out;
	}
	if (st.st_size > (off_t)LOG__CKPT_MAX_FILE_BYTES) {
		err = corrupt_file(path, "larger than any checkpoint Tern writes", errstr, errlen);
		goto out;
	}
	r.buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!r.buf) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	got = log__pread(fd, r.buf, (size_t)st.st_size, 0);
	if (got < 0) {
		err = tern_err_errno((int)-got);
		goto out;
	}
	r.len = (size_t)got;
	if (r.len == 0)
		goto out;

	nlines = count_newlines(r.buf, r.len);
	if (r.buf[r.len - 1] != '\n') {
		/* Our writer always ends the file with a newline: a last line
		 * without one was cut short. */
		const char *nl = memrchr(r.buf, '\n', r.len);
		size_t start = nl ? (size_t)(nl - r.buf) + 1 : 0;

		r.lineno = nlines + 1;
		err = log__ckpt_bad_line(&r, r.buf + start, r.len - start,
					 "no newline at the end of the file", errstr, errlen);
		goto out;
	}

	take_line(&r, &line, &len);
	if (!log__ckpt_int(line, len, 0, 0, &v)) {
		err = log__ckpt_bad_line(&r, line, len, "unsupported version (expected 0)", errstr,
					 errlen);
		goto out;
	}
	if (nlines < 2) {
		err = log__ckpt_bad_line(&r, line, len, "no count line after the version", errstr,
					 errlen);
		goto out;
	}
	take_line(&r, &line, &len);
	if (!log__ckpt_int(line, len, 0, INT32_MAX, &v)) {
		err = log__ckpt_bad_line(&r, line, len, "invalid entry count", errstr, errlen);
		goto out;
	}
	r.n = nlines - 2;
	if ((uint64_t)v != r.n) {
		char why[96];

		snprintf(why, sizeof why, "the count is %lld but the file has %zu entries",
			 (long long)v, r.n);
		err = log__ckpt_bad_line(&r, line, len, why, errstr, errlen);
		goto out;
	}

out:
	close(fd);
	if (err != TERN_OK) {
		free(r.buf);
		return err;
	}
	*t = r;
	return TERN_OK;
}

bool log__ckpt_next(log__ckpt_text_t *t, const char **line, size_t *len)
{
	if (t->pos >= t->len)
		return false;
	take_line(t, line, len);
	return true;
}

void log__ckpt_unload(log__ckpt_text_t *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->pos = t->n = 0;
}

tern_err_t log__ckpt_bad_line(const log__ckpt_text_t *t, const char *line, size_t len,
			      const char *why, char *errstr, size_t errlen)
{
	/* The line comes from disk: quote it, printable and short. */
	enum { CLIP = 80 };
	char shown[CLIP + 4];
	size_t i, n = len > CLIP ? CLIP : len;

	if (!errstr || errlen == 0)
		return TERN_ERR__CORRUPT;
	for (i = 0; i < n; i++)
		shown[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
	if (len > CLIP) {
		memcpy(shown + n, "...", 3);
		n += 3;
	}
	shown[n] = '\0';
	snprintf(errstr, errlen, "%s:%zu: %s: '%s'", t->path, t->lineno, why, shown);
	return TERN_ERR__CORRUPT;
}

bool log__ckpt_split(const char *line, size_t len, log__ckpt_span_t *f, size_t nf)
{
	const char *p = line, *end = line + len;
	size_t i;

	for (i = 0; i < nf; i++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *e = i + 1 < nf ? sp : end;

		/* Every field but the last ends at a space; the last one at the
		 * end of the line and holds no space. */
		if (!e || e == p || (i + 1 == nf && sp))
			return false;
		f[i].s = p;
		f[i].len = (size_t)(e - p);
		p = e + 1;
	}
	return true;
}

bool log__ckpt_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, lim = INT64_MAX;
	bool neg = false;
	size_t i = 0;
	int64_t r;

	if (len > 0 && s[0] == '-') {
		if (min >= 0)
			return false;
		neg = true;
		lim = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (!neg)
		r = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		r = INT64_MIN;
	else
		r = -(int64_t)v;
	if (r < min || r > max)
		return false;
	*out = r;
	return true;
}

tern_err_t log__ckpt_write(const char *path, size_t n, size_t line_max, log__ckpt_fmt_fn *fmt,
			   const void *opaque)
{
	/* "0\n" and a count of at most 10 digits with its newline. */
	const size_t header_max = 16;
	char *buf = NULL;
	size_t cap, len, i;
	tern_err_t err;
	int w;

	/* Kafka reads the count as an int. */
	if (n > INT32_MAX || n > (SIZE_MAX - header_max) / line_max)
		return TERN_ERR__INVALID_ARG;
	cap = header_max + n * line_max;
	buf = malloc(cap);
	if (!buf)
		return TERN_ERR__NOMEM;
	len = (size_t)snprintf(buf, cap, "0\n%zu\n", n);
	for (i = 0; i < n; i++) {
		w = fmt(opaque, i, buf + len, cap - len);
		if (w < 0 || (size_t)w >= cap - len) {
			err = TERN_ERR__INVALID_ARG;
			goto out;
		}
		len += (size_t)w;
	}
	err = log_durable_replace(path, buf, len);
out:
	free(buf);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Offset checkpoints                                                         */

/* Kafka's rule (Topic.validate): 1 to 249 of [a-zA-Z0-9._-], not "." or
 * "..". Anything else would also break the space-separated line. */
static bool topic_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TOPIC_MAX_LEN)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* topic, space, partition (10 digits), space, offset (19 digits), newline,
 * NUL. */
#define CKPT_LINE_MAX (TOPIC_MAX_LEN + 1 + 10 + 1 + 19 + 2)

/* Refuses what log_ckpt_read() would reject, so that a file we write can
 * always be read back. */
static int fmt_ckpt_entry(const void *opaque, size_t i, char *buf, size_t cap)
{
	const log_ckpt_entry_t *e = (const log_ckpt_entry_t *)opaque + i;
	const char *nul = memchr(e->topic, '\0', sizeof e->topic);

	if (!nul || !topic_valid(e->topic, (size_t)(nul - e->topic)) || e->partition < 0 ||
	    e->offset < 0)
		return -1;
	return snprintf(buf, cap, "%s %d %lld\n", e->topic, (int)e->partition,
			(long long)e->offset);
}

tern_err_t log_ckpt_write(const char *path, const log_ckpt_entry_t *e, size_t n)
{
	return log__ckpt_write(path, n, CKPT_LINE_MAX, fmt_ckpt_entry, e);
}

tern_err_t log_ckpt_read(const char *path, log_ckpt_entry_t **out, size_t *n, char *errstr,
			 size_t errlen)
{
	log__ckpt_text_t t;
	log__ckpt_span_t f[3];
	log_ckpt_entry_t *e = NULL;
	const char *line;
	size_t len, i = 0;
	int64_t part, off;
	tern_err_t err;

	err = log__ckpt_load(path, &t, errstr, errlen);
	if (err != TERN_OK)
		return err;
	/* The count was checked against the lines actually present, so a
	 * corrupt count cannot make us allocate more than the file holds. */
	e = calloc(t.n > 0 ? t.n : 1, sizeof *e);
	if (!e) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	while (log__ckpt_next(&t, &line, &len)) {
		const char *why = NULL;

		if (!log__ckpt_split(line, len, f, 3))
			why = "expected '<topic> <partition> <offset>'";
		else if (!topic_valid(f[0].s, f[0].len))
			why = "invalid topic name";
		else if (!log__ckpt_int(f[1].s, f[1].len, 0, INT32_MAX, &part))
			why = "invalid partition";
		else if (!log__ckpt_int(f[2].s, f[2].len, 0, INT64_MAX, &off))
			why = "invalid offset";
		if (why) {
			err = log__ckpt_bad_line(&t, line, len, why, errstr, errlen);
			goto out;
		}
		memcpy(e[i].topic, f[0].s, f[0].len);
		e[i].topic[f[0].len] = '\0';
		e[i].partition = (int32_t)part;
		e[i].offset = off;
		i++;
	}
	*out = e;
	*n = i;
	e = NULL;
out:
	free(e);
	log__ckpt_unload(&t);
	return err;
}
