/* tests/fault/replicas.c: see replicas.h. */
#include "replicas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"

#define SEG_NAME_LEN 24 /* 20 digits + ".log" */

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Grows *v (of *cap elements of size sz) to hold n + 1. */
static bool grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return true;
	ncap = *cap ? 2 * *cap : 64;
	nv = realloc(*v, ncap * sz);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

int rp_segments(const char *dir, int64_t **bases, size_t *n, char *why, size_t whylen)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int64_t *v = NULL;
	size_t nv = 0, cap = 0;

	*bases = NULL;
	*n = 0;
	if (!d)
		return fail(why, whylen, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		char *end;
		long long b;

		if (strlen(e->d_name) != SEG_NAME_LEN || strcmp(e->d_name + 20, ".log") != 0)
			continue;
		b = strtoll(e->d_name, &end, 10);
		if (end != e->d_name + 20)
			continue;
		if (!grow((void **)&v, &cap, nv, sizeof *v)) {
			closedir(d);
			free(v);
			return fail(why, whylen, "out of memory");
		}
		v[nv++] = b;
	}
	closedir(d);
	qsort(v, nv, sizeof *v, cmp_i64);
	*bases = v;
	*n = nv;
	return 0;
}

/* Appends the whole batches of one segment file to *v. */
static int read_segment(const char *path, rp_batch_t **v, size_t *nv, size_t *cap, char *why,
			size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	uint8_t *buf = NULL;
	size_t len, got = 0, pos = 0;

	if (fd < 0) /* removed since listed (retention, truncation): skip */
		return errno == ENOENT ? 0 : fail(why, whylen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	}
	len = (size_t)sb.st_size;
	if (len && !(buf = malloc(len))) {
		close(fd);
		return fail(why, whylen, "out of memory");
	}
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* truncated meanwhile: what was read */
		got += (size_t)r;
	}
	close(fd);
	while (pos + LOG_BATCH_LOG_OVERHEAD <= got) {
		log_batch_hdr_t h;

		if (log_batch_hdr_parse(buf + pos, got - pos, &h) != TERN_OK ||
		    log_batch_size(&h) > got - pos)
			break;
		if (!grow((void **)v, cap, *nv, sizeof **v)) {
			free(buf);
			return fail(why, whylen, "out of memory");
		}
		(*v)[(*nv)++] = (rp_batch_t){.base_offset = h.base_offset,
					     .last_offset = log_batch_last_offset(&h),
					     .leader_epoch = h.leader_epoch,
					     .length = h.length,
					     .crc = h.crc};
		pos += log_batch_size(&h);
	}
	free(buf);
	return 0;
}

int rp_read(const char *dir, rp_batch_t **out, size_t *n, char *why, size_t whylen)
{
	int64_t *bases;
	size_t nb, nv = 0, cap = 0;
	rp_batch_t *v = NULL;

	*out = NULL;
	*n = 0;
	if (rp_segments(dir, &bases, &nb, why, whylen) < 0)
		return -1;
	for (size_t i = 0; i < nb; i++) {
		char path[4200];

		if (snprintf(path, sizeof path, "%s/%020" PRId64 ".log", dir, bases[i]) >=
		    (int)sizeof path) {
			free(bases);
			free(v);
			return fail(why, whylen, "%s: path too long", dir);
		}
		if (read_segment(path, &v, &nv, &cap, why, whylen) < 0) {
			free(bases);
			free(v);
			return -1;
		}
	}
	free(bases);
	*out = v;
	*n = nv;
	return 0;
}

static bool same(const rp_batch_t *x, const rp_batch_t *y)
{
	return x->base_offset == y->base_offset && x->last_offset == y->last_offset &&
	       x->leader_epoch == y->leader_epoch && x->length == y->length && x->crc == y->crc;
}

rp_cmp_t rp_compare(const rp_batch_t *a, size_t na, const rp_batch_t *b, size_t nb, char *why,
		    size_t whylen)
{
	size_t i;

	if (why && whylen)
		why[0] = '\0';
	for (i = 0; i < na && i < nb; i++) {
		const rp_batch_t *x = &a[i], *y = &b[i];

		if (same(x, y))
			continue;
		fail(why, whylen,
		     "batch %zu: [%" PRId64 "..%" PRId64 "] epoch %" PRId32 " crc %08" PRIx32
		     " vs [%" PRId64 "..%" PRId64 "] epoch %" PRId32 " crc %08" PRIx32,
		     i, x->base_offset, x->last_offset, x->leader_epoch, x->crc, y->base_offset,
		     y->last_offset, y->leader_epoch, y->crc);
		return RP_DIFFER;
	}
	if (na == nb)
		return RP_SAME;
	fail(why, whylen, "%zu batches (to %" PRId64 ") vs %zu (to %" PRId64 ")", na,
	     na ? a[na - 1].last_offset : -1, nb, nb ? b[nb - 1].last_offset : -1);
	return RP_PREFIX;
}
