/* log/durable_trace.h (private to log/): the test-only durability trace.
 * When the environment variable TERN_TEST_DURABLE_LOG names a file (and the
 * build has -Dfault_injection=true), every fsync and fdatasync that log/
 * runs (they all go through log__ring_run: segment, index and checkpoint
 * files, log_durable_replace and so the controller's metadata file and the
 * producer snapshots, directories) appends one line to that file once it
 * has succeeded. The power-loss nemesis (tests/fault/powercut.h) reads it
 * to cut a killed broker's files back to what was durable.
 *
 * Format: text, one record per line, fields separated by one space. Paths
 * and names have every byte <= 0x20, 0x7f and '\' written as \xHH (two hex
 * digits). An id is "<ino>:<birth>", birth being the inode's birth time in
 * nanoseconds from statx (0 where the file system does not report one): the
 * pair tells a file from a later one that reuses its inode number.
 *
 *   S <pid>
 *	A process opened the trace. It starts a new run: the seq of later lines
 *	counts from 1 again, and every line of a run comes after every line of
 *	the runs before it.
 *   F <seq> <path> <id> <size>
 *	An fsync or fdatasync of the regular file <id> (at <path> when it was
 *	submitted) completed, and covered its first <size> bytes: its length
 *	when the fsync was submitted (taken before submitting, so it never
 *	counts bytes written concurrently with the fsync).
 *   D <seq> <dirpath> <id> <n> <name> <id> ... (n name/id pairs)
 *	An fsync of the directory <dirpath> (itself <id>) completed; it held
 *	these n entries (not "." and "..") when the fsync was submitted.
 *
 * <seq> orders the snapshots of one run: it is taken when the length or
 * the listing is read, before submitting, so of two fsyncs of one file the
 * one with the larger (run, seq) saw the later state, whatever order they
 * completed in. Lines are written with one write() each on an O_APPEND
 * descriptor (no buffering: a kill -9 loses none written), so lines of
 * several threads never interleave; a file not listed by any D line of its
 * directory was never made durable there. When the variable is unset the
 * trace costs one check per log__ring_run call. */
#ifndef TERN_LOG_DURABLE_TRACE_H
#define TERN_LOG_DURABLE_TRACE_H

#include <stdbool.h>
#include <sys/types.h>

#define LOG_DTRACE_ENV "TERN_TEST_DURABLE_LOG"

#ifdef TERN_FAULT_INJECTION
/* Whether TERN_TEST_DURABLE_LOG is set (read once per process). */
bool log__dtrace_on(void);

/* Before an fsync of fd is submitted: the line that will record it (the
 * length, or the directory's listing, read now), malloc()ed, or NULL when
 * it cannot be built (no memory, fd gone): that fsync then goes
 * unrecorded, which only makes a power cut harsher. min_size raises the
 * length recorded for a file: writes linked before the fsync in the same
 * submission end there. */
char *log__dtrace_before(int fd, off_t min_size);

/* After the fsync succeeded: appends the line to the trace. Frees line
 * (NULL is fine). Any thread; never blocks on other threads. */
void log__dtrace_emit(char *line);
#else
static inline bool log__dtrace_on(void)
{
	return false;
}
static inline char *log__dtrace_before(int fd, off_t min_size)
{
	(void)fd;
	(void)min_size;
	return (char *)0;
}
static inline void log__dtrace_emit(char *line)
{
	(void)line;
}
#endif

#endif
