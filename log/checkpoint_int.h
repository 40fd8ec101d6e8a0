/* log/checkpoint_int.h (private to log/): the text format that Kafka's
 * checkpoint files share ("<version>\n<count>\n" then one entry a line), so
 * that the offset checkpoints and the leader-epoch checkpoint are read and
 * written by one piece of code (checkpoint.c). */
#ifndef TERN_LOG_CHECKPOINT_INT_H
#define TERN_LOG_CHECKPOINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

/* Largest checkpoint file read: a bound on what a corrupt file can make us
 * allocate. 100 000 partitions take about 4 MiB in an offset checkpoint. */
#define LOG__CKPT_MAX_FILE_BYTES (64u << 20)

/* A checkpoint file read whole, its header checked, positioned on the first
 * entry line.
 * Invariant: the file is version 0, its count line equals n, and every entry
 * line ends with '\n'. */
typedef struct log__ckpt_text {
	const char *path; /* borrowed, for messages */
	char *buf;	  /* the whole file (malloc()ed) */
	size_t len;
	size_t pos;    /* start of the next entry line */
	size_t n;      /* entry lines */
	size_t lineno; /* 1-based number of the line last returned */
} log__ckpt_text_t;

/* Reads path and checks its version, its count line against the number of
 * entry lines, and that every line is terminated. A missing or empty file has
 * no entries (Kafka creates its checkpoint files empty). Errors: _CORRUPT with
 * the file, line and reason in errstr; an errno error for the I/O. On error
 * *t needs no freeing. */
tern_err_t log__ckpt_load(const char *path, log__ckpt_text_t *t, char *errstr, size_t errlen);

/* The next entry line (without its '\n', not NUL-terminated): false after
 * the last. */
bool log__ckpt_next(log__ckpt_text_t *t, const char **line, size_t *len);

void log__ckpt_unload(log__ckpt_text_t *t);

/* Returns _CORRUPT after writing "<path>:<line>: <why>: '<line text>'" to
 * errstr (non-printable bytes shown as '?', long lines clipped). */
tern_err_t log__ckpt_bad_line(const log__ckpt_text_t *t, const char *line, size_t len,
			      const char *why, char *errstr, size_t errlen);

/* One field of a line: borrowed, not NUL-terminated. */
typedef struct log__ckpt_span {
	const char *s;
	size_t len;
} log__ckpt_span_t;

/* Splits line[0..len) into exactly nf non-empty fields separated by single
 * spaces. False otherwise, so that missing, extra, empty fields and doubled,
 * leading or trailing spaces are all malformed. */
bool log__ckpt_split(const char *line, size_t len, log__ckpt_span_t *f, size_t nf);

/* Parses a whole field as a decimal integer in [min, max] ('-' allowed only
 * when min < 0, no '+', no spaces). */
bool log__ckpt_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

/* Formats entry i into buf[0..cap) and returns the bytes written, newline
 * included (as snprintf), or -1 when the entry cannot be written. */
typedef int(log__ckpt_fmt_fn)(const void *opaque, size_t i, char *buf, size_t cap);

/* Writes a version-0 checkpoint of n entries to path through
 * log_durable_replace(); line_max bounds one formatted entry line with its
 * NUL. Errors: _INVALID_ARG when fmt refuses an entry or n does not fit
 * Kafka's int count, _NOMEM, or the replace's error. */
tern_err_t log__ckpt_write(const char *path, size_t n, size_t line_max, log__ckpt_fmt_fn *fmt,
			   const void *opaque);

#endif
