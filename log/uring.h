/* log/uring.h (private to log/): the io_uring wrapper through which every
 * read, write and fsync of a log file goes, with the test-only
 * error-injection hook (log_fault_inject in log.h).
 *
 * Opening, renaming, truncating and unlinking files stay plain system calls:
 * they are metadata operations, rare, and liburing 2.3 has no ftruncate. */
#ifndef TERN_LOG_URING_H
#define TERN_LOG_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tern/errors.h"

typedef struct log_ring log_ring_t;

enum log_io_type {
	LOG_IO_READ,
	LOG_IO_WRITE,
	LOG_IO_FSYNC,
	LOG_IO_FDATASYNC,
};

/* One operation of a log__ring_run() batch. */
typedef struct log_io {
	int type; /* enum log_io_type */
	int fd;
	void *buf; /* READ: filled; WRITE: read from (not modified) */
	size_t len;
	off_t off;
	/* The next operation of the batch runs only if this one succeeds
	 * in full (IOSQE_IO_LINK); when it fails the rest of the chain gets
	 * -ECANCELED. Used for write -> fdatasync. */
	bool link;
	/* Out: bytes moved (READ: fewer than len only at end of file), 0 for
	 * an fsync, or -errno. */
	ssize_t res;
} log_io_t;

/* A ring owned by one thread at a time (rings are not thread-safe). */
tern_err_t log__ring_new(unsigned entries, log_ring_t **out, char *errstr, size_t errlen);
void log__ring_free(log_ring_t *r);

/* Submits ops[0..n) in as few submissions as the ring allows and waits for
 * all of them; short reads and writes are resubmitted until whole (or end
 * of file for reads). Fills every res. Returns the number of operations that
 * failed (0 when all succeeded). */
size_t log__ring_run(log_ring_t *r, log_io_t *ops, size_t n);

/* The calling thread's own small ring, created on first use and freed when
 * the thread exits; NULL when the kernel refuses io_uring. */
log_ring_t *log__ring_thread(void);

/* One operation on the calling thread's ring. Whole reads and writes
 * (short I/O continued); they return the bytes moved (reads: fewer only at
 * end of file) or -errno; log__fsync returns 0 or -errno. */
ssize_t log__pread(int fd, void *buf, size_t len, off_t off);
ssize_t log__pwrite(int fd, const void *buf, size_t len, off_t off);
int log__fsync(int fd, bool datasync);

/* Checks once that the kernel gives us a ring (and that it can write and
 * fsync): _UNSUPPORTED with the reason otherwise. */
tern_err_t log__ring_probe(char *errstr, size_t errlen);

#endif
