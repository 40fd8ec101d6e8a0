/* The test-only durability trace of log/ (see durable_trace.h): builds a
 * line before each fsync is submitted and appends it once the fsync
 * succeeded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/durable_trace.h"

#ifdef TERN_FAULT_INJECTION

static pthread_once_t dt_once = PTHREAD_ONCE_INIT;
static int dt_fd = -1; /* the trace, O_APPEND; -1: tracing off */
/* Serialises taking a snapshot with numbering it, so that seq order is
 * the order in which lengths and listings were read. */
static pthread_mutex_t dt_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t dt_seq; /* under dt_mu: the last seq handed out */

/* One write() per line: O_APPEND makes each one land whole at the end. */
static void dt_write(const char *s, size_t len)
{
	ssize_t n;

	do
		n = write(dt_fd, s, len);
	while (n < 0 && errno == EINTR);
}

static void dt_init(void)
{
	const char *path = getenv(LOG_DTRACE_ENV);
	char line[64];
	int n;

	if (!path || !*path)
		return;
	dt_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (dt_fd < 0)
		return;
	n = snprintf(line, sizeof line, "S %ld\n", (long)getpid());
	dt_write(line, (size_t)n);
}

bool log__dtrace_on(void)
{
	pthread_once(&dt_once, dt_init);
	return dt_fd >= 0;
}

/* A growing line; on allocation failure it stays failed (p NULL). */
typedef struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			free(b->p);
			b->p = NULL;
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		b->failed = true;
	else
		sb_put(b, tmp, (size_t)n);
}

/* " <name>" with the bytes the format reserves escaped. */
static void sb_name(sbuf_t *b, const char *s)
{
	sb_put(b, " ", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == 0x7f || c == '\\')
			sb_printf(b, "\\x%02x", c);
		else
			sb_put(b, s, 1);
	}
}

/* " <ino>:<birth>" of what statx found. */
static void sb_id(sbuf_t *b, const struct statx *sx)
{
	uint64_t birth = 0;

	if (sx->stx_mask & STATX_BTIME)
		birth = (uint64_t)sx->stx_btime.tv_sec * 1000000000u + sx->stx_btime.tv_nsec;
	sb_printf(b, " %" PRIu64 ":%" PRIu64, (uint64_t)sx->stx_ino, birth);
}

/* The path fd was opened at, as the kernel knows it now. */
static bool fd_path(int fd, char *out, size_t outlen)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, out, outlen - 1);
	if (n < 0)
		return false;
	out[n] = '\0';
	return true;
}

/* The entries of the directory open at fd, each " <name> <id>", counted
 * into *n. Reads through its own descriptor: fd's offset is not ours. */
static bool list_dir(int fd, sbuf_t *b, size_t *n)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (dfd < 0)
		return false;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	*n = 0;
	while ((e = readdir(d)) != NULL) {
		struct statx sx;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* An entry removed since readdir saw it is not listed. */
		if (statx(dfd, e->d_name, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &sx) < 0)
			continue;
		sb_name(b, e->d_name);
		sb_id(b, &sx);
		(*n)++;
	}
	closedir(d);
	return true;
}

char *log__dtrace_before(int fd, off_t min_size)
{
	char path[4096];
	sbuf_t head = {0}, body = {0};
	struct statx sx;
	uint64_t seq;
	size_t n = 0;
	bool ok = true;

	if (!log__dtrace_on())
		return NULL;
	/* A file's path is only a hint (ids identify files); a directory's
	 * is what its listing is looked up by. */
	if (!fd_path(fd, path, sizeof path))
		strcpy(path, "?");
	pthread_mutex_lock(&dt_mu);
	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME | STATX_SIZE | STATX_TYPE, &sx) <
	    0) {
		ok = false;
	} else if (S_ISDIR(sx.stx_mode)) {
		ok = strcmp(path, "?") != 0 && list_dir(fd, &body, &n);
	} else if (!S_ISREG(sx.stx_mode)) {
		ok = false;
	}
	seq = ++dt_seq;
	pthread_mutex_unlock(&dt_mu);
	if (!ok) {
		free(body.p);
		return NULL;
	}

	if (S_ISDIR(sx.stx_mode)) {
		sb_printf(&head, "D %" PRIu64, seq);
		sb_name(&head, path);
		sb_id(&head, &sx);
		sb_printf(&head, " %zu", n);
		if (body.len)
			sb_put(&head, body.p, body.len);
	} else {
		uint64_t size = sx.stx_size;

		if (min_size > 0 && (uint64_t)min_size > size)
			size = (uint64_t)min_size;
		sb_printf(&head, "F %" PRIu64, seq);
		sb_name(&head, path);
		sb_id(&head, &sx);
		sb_printf(&head, " %" PRIu64, size);
	}
	sb_put(&head, "\n", 1);
	free(body.p);
	if (head.failed || body.failed) {
		free(head.p);
		return NULL;
	}
	return head.p;
}

void log__dtrace_emit(char *line)
{
	if (!line)
		return;
	if (dt_fd >= 0)
		dt_write(line, strlen(line));
	free(line);
}

#endif /* TERN_FAULT_INJECTION */
