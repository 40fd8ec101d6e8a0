/* The io_uring wrapper of log/ (see uring.h): batched submission with
 * linked operations, short-I/O continuation, per-thread rings for readers,
 * and two test-only hooks: error injection, and the durability trace
 * (durable_trace.h: every fsync of log/ passes here). */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/durable_trace.h"
#include "log/log.h"
#include "log/uring.h"

struct log_ring {
	struct io_uring ring;
	unsigned entries;
};

/* Per-op progress of one log__ring_run() call. */
enum { OP_PENDING, OP_OK, OP_FAILED };

/* A single read or write larger than this is split by the kernel anyway. */
#define IO_CHUNK_MAX (1u << 30)

/* Guards against a kernel that keeps answering "try again". */
#define RUN_MAX_ROUNDS 100000

/* ------------------------------------------------------------------------ */
/* Error injection                                                            */

#ifdef TERN_FAULT_INJECTION
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned fault_ops;
static int fault_err;
static long fault_skip, fault_count;

tern_err_t log_fault_inject(unsigned ops, int err, long skip, long count)
{
	if (err <= 0)
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&fault_lock);
	fault_ops = ops;
	fault_err = err;
	fault_skip = skip < 0 ? 0 : skip;
	fault_count = count;
	pthread_mutex_unlock(&fault_lock);
	return TERN_OK;
}

void log_fault_clear(void)
{
	pthread_mutex_lock(&fault_lock);
	fault_ops = 0;
	pthread_mutex_unlock(&fault_lock);
}

/* The errno an operation of this type must fail with, or 0. */
static int fault_hit(int type)
{
	unsigned bit = type == LOG_IO_READ    ? LOG_FAULT_READ
		       : type == LOG_IO_WRITE ? LOG_FAULT_WRITE
					      : LOG_FAULT_FSYNC;
	int err = 0;

	pthread_mutex_lock(&fault_lock);
	if (fault_ops & bit) {
		if (fault_skip > 0) {
			fault_skip--;
		} else if (fault_count != 0) {
			err = fault_err;
			if (fault_count > 0 && --fault_count == 0)
				fault_ops = 0;
		}
	}
	pthread_mutex_unlock(&fault_lock);
	return err;
}
#else
tern_err_t log_fault_inject(unsigned ops, int err, long skip, long count)
{
	return TERN_ERR__UNSUPPORTED;
}

void log_fault_clear(void)
{
}

static int fault_hit(int type)
{
	return 0;
}
#endif

static const struct {
	const char *name;
	int err;
} fault_errnos[] = {{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT}};

static const struct {
	const char *name;
	unsigned op;
} fault_ops_names[] = {
    {"read", LOG_FAULT_READ}, {"write", LOG_FAULT_WRITE}, {"fsync", LOG_FAULT_FSYNC}};

static tern_err_t spec_error(char *why, size_t whylen, const char *fmt, const char *what)
{
	if (why && whylen)
		snprintf(why, whylen, fmt, what);
	return TERN_ERR__INVALID_ARG;
}

/* "read,fsync" into a mask; 0 when a name is unknown. */
static unsigned parse_ops(const char *s)
{
	unsigned ops = 0;

	while (*s) {
		size_t n = strcspn(s, ","), i;

		for (i = 0; i < sizeof fault_ops_names / sizeof fault_ops_names[0]; i++)
			if (strlen(fault_ops_names[i].name) == n &&
			    strncmp(s, fault_ops_names[i].name, n) == 0)
				break;
		if (i == sizeof fault_ops_names / sizeof fault_ops_names[0])
			return 0;
		ops |= fault_ops_names[i].op;
		s += n;
		if (*s == ',')
			s++;
	}
	return ops;
}

static int parse_errno(const char *s)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof fault_errnos / sizeof fault_errnos[0]; i++)
		if (strcmp(s, fault_errnos[i].name) == 0)
			return fault_errnos[i].err;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v <= 0 || v > 4095 ? 0 : (int)v;
}

tern_err_t log_fault_inject_spec(const char *spec, char *why, size_t whylen)
{
	char ops_s[64], err_s[32], extra[2];
	long skip = 0, count = -1;
	unsigned ops;
	int err, n;

	if (why && whylen)
		why[0] = '\0';
	while (*spec == ' ' || *spec == '\t' || *spec == '\n')
		spec++;
	if (strncmp(spec, "clear", 5) == 0 && strspn(spec + 5, " \t\n") == strlen(spec + 5)) {
#ifdef TERN_FAULT_INJECTION
		log_fault_clear();
		return TERN_OK;
#else
		return TERN_ERR__UNSUPPORTED;
#endif
	}
	n = sscanf(spec, "%63s %31s %ld %ld %1s", ops_s, err_s, &skip, &count, extra);
	if (n < 2 || n > 4)
		return spec_error(why, whylen,
				  "disk fault '%s': want \"clear\" or \"OPS ERRNO [SKIP [COUNT]]\"",
				  spec);
	if (!(ops = parse_ops(ops_s)))
		return spec_error(
		    why, whylen,
		    "disk fault operations '%s': want read, write, fsync, comma-separated", ops_s);
	if (!(err = parse_errno(err_s)))
		return spec_error(
		    why, whylen,
		    "disk fault errno '%s': want EIO, ENOSPC, EROFS, EDQUOT or a number", err_s);
	if (skip < 0)
		return spec_error(why, whylen, "disk fault '%s': SKIP must be >= 0", spec);
	return log_fault_inject(ops, err, skip, count);
}

/* ------------------------------------------------------------------------ */
/* Rings                                                                      */

tern_err_t log__ring_new(unsigned entries, log_ring_t **out, char *errstr, size_t errlen)
{
	log_ring_t *r = calloc(1, sizeof *r);
	int rc;

	if (!r)
		return TERN_ERR__NOMEM;
	rc = io_uring_queue_init(entries, &r->ring, 0);
	if (rc < 0) {
		free(r);
		if (errstr)
			snprintf(errstr, errlen, "io_uring_queue_init(%u): %s%s", entries,
				 strerror(-rc),
				 rc == -EPERM ? " (is kernel.io_uring_disabled set?)" : "");
		return TERN_ERR__UNSUPPORTED;
	}
	r->entries = entries;
	*out = r;
	return TERN_OK;
}

void log__ring_free(log_ring_t *r)
{
	if (!r)
		return;
	io_uring_queue_exit(&r->ring);
	free(r);
}

static void prep(struct io_uring_sqe *sqe, log_io_t *op, size_t done)
{
	size_t left = op->len - done;
	unsigned n = left > IO_CHUNK_MAX ? IO_CHUNK_MAX : (unsigned)left;

	switch (op->type) {
	case LOG_IO_READ:
		io_uring_prep_read(sqe, op->fd, (char *)op->buf + done, n, op->off + (off_t)done);
		break;
	case LOG_IO_WRITE:
		io_uring_prep_write(sqe, op->fd, (const char *)op->buf + done, n,
				    op->off + (off_t)done);
		break;
	case LOG_IO_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, 0);
		break;
	default:
		io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
		break;
	}
}

/* The last index of the chain that starts at i. */
static size_t chain_end(const log_io_t *ops, size_t n, size_t i)
{
	while (i + 1 < n && ops[i].link)
		i++;
	return i;
}

/* Marks ops (from, to] of a chain as failed behind a failed link. */
static void cancel_rest(log_io_t *ops, unsigned char *st, size_t from, size_t to)
{
	for (size_t k = from + 1; k <= to; k++) {
		if (st[k] == OP_PENDING) {
			st[k] = OP_FAILED;
			ops[k].res = -ECANCELED;
		}
	}
}

/* One completion: updates the op's progress and state. A -ECANCELED is a
 * link broken by a short or failed predecessor: the op stays pending and
 * the next round resubmits it, or the chain pass fails it. */
static void complete(log_io_t *op, unsigned char *st, size_t *done, int res)
{
	if (res == -ECANCELED || res == -EINTR || res == -EAGAIN)
		return;
	if (res < 0) {
		*st = OP_FAILED;
		op->res = res;
		return;
	}
	if (op->type == LOG_IO_FSYNC || op->type == LOG_IO_FDATASYNC) {
		*st = OP_OK;
		return;
	}
	if (res == 0 && op->len > *done) {
		if (op->type == LOG_IO_READ) {
			*st = OP_OK; /* end of file */
		} else {
			*st = OP_FAILED; /* a write that moves nothing would spin */
			op->res = -EIO;
		}
		return;
	}
	*done += (size_t)res;
	if (*done >= op->len)
		*st = OP_OK;
}

static size_t ring_run(log_ring_t *r, log_io_t *ops, size_t n)
{
	unsigned char st_small[64];
	size_t done_small[64];
	unsigned char *st = st_small;
	size_t *done = done_small;
	size_t failed = 0;
	int rounds = 0;

	if (n > 64) {
		st = malloc(n);
		done = malloc(n * sizeof *done);
		if (!st || !done) {
			free(st);
			free(done);
			for (size_t i = 0; i < n; i++)
				ops[i].res = -ENOMEM;
			return n;
		}
	}
	for (size_t i = 0; i < n; i++) {
		st[i] = OP_PENDING;
		done[i] = 0;
		ops[i].res = 0;
	}

	for (;;) {
		unsigned queued = 0;

		for (size_t i = 0; i < n && queued < r->entries;) {
			size_t e = chain_end(ops, n, i), j = i;

			while (j <= e && st[j] == OP_OK)
				j++;
			if (j > e || st[j] != OP_PENDING) {
				i = e + 1;
				continue;
			}
			/* Submit j..j+cnt-1 of the chain, linked; what does not fit
			 * in the ring waits for its predecessor to finish. */
			size_t cnt = e - j + 1;

			if (cnt > r->entries - queued)
				cnt = r->entries - queued;
			for (size_t k = j; k < j + cnt; k++) {
				int err = done[k] ? 0 : fault_hit(ops[k].type);

				if (err) {
					st[k] = OP_FAILED;
					ops[k].res = -err;
					cancel_rest(ops, st, k, e);
					cnt = k - j;
					break;
				}
			}
			for (size_t k = j; k < j + cnt; k++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

				prep(sqe, &ops[k], done[k]);
				io_uring_sqe_set_data64(sqe, k);
				if (k + 1 < j + cnt)
					sqe->flags |= IOSQE_IO_LINK;
				queued++;
			}
			i = e + 1;
		}
		if (queued == 0)
			break;
		if (++rounds > RUN_MAX_ROUNDS) {
			/* Should never happen; fail rather than spin. */
			for (size_t i = 0; i < n; i++)
				if (st[i] == OP_PENDING) {
					st[i] = OP_FAILED;
					ops[i].res = -EIO;
				}
			break;
		}

		int rc = io_uring_submit_and_wait(&r->ring, queued);
		if (rc < 0 && rc != -EINTR) {
			/* The kernel took nothing: fail what was queued. */
			io_uring_cq_advance(&r->ring, io_uring_cq_ready(&r->ring));
			for (size_t i = 0; i < n; i++)
				if (st[i] == OP_PENDING) {
					st[i] = OP_FAILED;
					ops[i].res = rc;
				}
			break;
		}
		for (unsigned got = 0; got < queued; got++) {
			struct io_uring_cqe *cqe;
			int wrc = io_uring_wait_cqe(&r->ring, &cqe);

			if (wrc == -EINTR) {
				got--;
				continue;
			}
			if (wrc < 0)
				break;
			size_t k = (size_t)io_uring_cqe_get_data64(cqe);
			complete(&ops[k], &st[k], &done[k], cqe->res);
			io_uring_cqe_seen(&r->ring, cqe);
		}
		/* A hard failure cancels the rest of its chain for good. */
		for (size_t i = 0; i < n;) {
			size_t e = chain_end(ops, n, i);

			for (size_t k = i; k <= e; k++)
				if (st[k] == OP_FAILED) {
					cancel_rest(ops, st, k, e);
					break;
				}
			i = e + 1;
		}
	}

	for (size_t i = 0; i < n; i++) {
		if (st[i] == OP_FAILED) {
			failed++;
		} else if (ops[i].type == LOG_IO_READ || ops[i].type == LOG_IO_WRITE) {
			ops[i].res = (ssize_t)done[i];
		}
	}
	if (st != st_small) {
		free(st);
		free(done);
	}
	return failed;
}

/* Under the durability trace (durable_trace.h), each fsync's line is built
 * before the batch is submitted and written once the fsync succeeded. A
 * write linked before an fsync of the same file in its chain completes
 * before the fsync runs, so the fsync covers up to its end too. */
static size_t ring_run_traced(log_ring_t *r, log_io_t *ops, size_t n)
{
	char **lines = calloc(n, sizeof *lines);
	size_t failed;

	for (size_t i = 0; lines && i < n; i++) {
		off_t end = 0;

		if (ops[i].type != LOG_IO_FSYNC && ops[i].type != LOG_IO_FDATASYNC)
			continue;
		for (size_t j = i; j > 0 && ops[j - 1].link; j--)
			if (ops[j - 1].type == LOG_IO_WRITE && ops[j - 1].fd == ops[i].fd &&
			    ops[j - 1].off + (off_t)ops[j - 1].len > end)
				end = ops[j - 1].off + (off_t)ops[j - 1].len;
		lines[i] = log__dtrace_before(ops[i].fd, end);
	}
	failed = ring_run(r, ops, n);
	for (size_t i = 0; lines && i < n; i++) {
		if (lines[i] && ops[i].res != 0) {
			free(lines[i]);
			lines[i] = NULL;
		}
		log__dtrace_emit(lines[i]);
	}
	free(lines);
	return failed;
}

size_t log__ring_run(log_ring_t *r, log_io_t *ops, size_t n)
{
	if (log__dtrace_on())
		return ring_run_traced(r, ops, n);
	return ring_run(r, ops, n);
}

/* ------------------------------------------------------------------------ */
/* Per-thread rings                                                           */

#define THREAD_RING_ENTRIES 16

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_ring_free(void *p)
{
	log__ring_free(p);
}

static void thread_key_init(void)
{
	pthread_key_create(&thread_key, thread_ring_free);
}

log_ring_t *log__ring_thread(void)
{
	log_ring_t *r;

	pthread_once(&thread_once, thread_key_init);
	r = pthread_getspecific(thread_key);
	if (r)
		return r;
	if (log__ring_new(THREAD_RING_ENTRIES, &r, NULL, 0) != TERN_OK)
		return NULL;
	pthread_setspecific(thread_key, r);
	return r;
}

static ssize_t run_one(int type, int fd, void *buf, size_t len, off_t off)
{
	log_ring_t *r = log__ring_thread();
	log_io_t op = {.type = type, .fd = fd, .buf = buf, .len = len, .off = off};

	if (!r)
		return -ENOSYS;
	log__ring_run(r, &op, 1);
	return op.res;
}

ssize_t log__pread(int fd, void *buf, size_t len, off_t off)
{
	return run_one(LOG_IO_READ, fd, buf, len, off);
}

ssize_t log__pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return run_one(LOG_IO_WRITE, fd, (void *)buf, len, off);
}

int log__fsync(int fd, bool datasync)
{
	return (int)run_one(datasync ? LOG_IO_FDATASYNC : LOG_IO_FSYNC, fd, NULL, 0, 0);
}

tern_err_t log__ring_probe(char *errstr, size_t errlen)
{
	static const int needed[] = {IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC};
	static const char *const names[] = {"IORING_OP_READ", "IORING_OP_WRITE", "IORING_OP_FSYNC"};
	struct io_uring_probe *probe;
	log_ring_t *r;
	tern_err_t err;

	err = log__ring_new(4, &r, errstr, errlen);
	if (err)
		return err;
	probe = io_uring_get_probe_ring(&r->ring);
	if (!probe) {
		log__ring_free(r);
		snprintf(errstr, errlen,
			 "io_uring: the kernel cannot report its operations (too old)");
		return TERN_ERR__UNSUPPORTED;
	}
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
		if (!io_uring_opcode_supported(probe, needed[i])) {
			snprintf(errstr, errlen, "io_uring: the kernel lacks %s", names[i]);
			err = TERN_ERR__UNSUPPORTED;
			break;
		}
	}
	io_uring_free_probe(probe);
	log__ring_free(r);
	return err;
}
