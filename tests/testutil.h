/* tests/testutil.h: what every Check suite of Tern shares: the scale and
 * seed knobs, feature skips, temporary directories, test data paths. */
#ifndef TERN_TESTUTIL_H
#define TERN_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Exit status meson counts as "skipped". */
#define TT_SKIP_STATUS 77

/* TERN_TEST_SCALE (default 1.0; the ASan run uses 0.1) times n, at least 1. */
long tt_scale(long n);

/* The seed of this run: TERN_SEED when set, else one from the clock. It is
 * printed once so that a failure can be replayed. */
uint64_t tt_seed(void);

/* xorshift64* on a caller-held state. */
uint64_t tt_rand(uint64_t *state);

/* Exits the process with 77 and reason on stderr (meson: skipped); under
 * TERN_REQUIRE_FEATURES=1 exits 1 instead, so CI never takes a skip for a
 * pass. Call from main(), before the runner starts. */
void tt_skip(const char *reason) __attribute__((noreturn));

/* Skips (tt_skip) when the kernel refuses io_uring. */
void tt_require_io_uring(void);

/* A fresh directory under $TMPDIR (default /tmp); the caller frees the
 * string. tt_rmtree removes a tree. */
char *tt_mkdtemp(const char *tag);
void tt_rmtree(const char *path);

/* Path of a file under tests/data (TERN_TEST_DATA), in a static buffer. */
const char *tt_data_path(const char *name);

/* Reads a whole file into a malloc()ed buffer; aborts the test on error. */
uint8_t *tt_read_file(const char *path, size_t *len);

/* Reads a whole file as a NUL-terminated, malloc()ed string. */
char *tt_read_text(const char *path);

/* Runs the program prog with the arguments args (NULL-terminated, not
 * counting prog itself; at most 62), standard input from
 * in_path (NULL: /dev/null), standard output and error into files in dir
 * that are read back into *out and *err (malloc()ed; any previous strings
 * there are freed). The child dies with the test (PR_SET_PDEATHSIG), is
 * always reaped before anything is checked,
 * and an alarm of timeout_s seconds kills it should it hang. Fails the test
 * when the program cannot start or dies of a signal; returns its exit
 * status. */
int tt_run_prog(const char *dir, const char *in_path, const char *prog, const char *const *args,
		int timeout_s, char **out, char **err);

/* Runs the suite (forked cases, CK_ENV verbosity) and returns the exit
 * status for main(). */
int tt_run(Suite *s);

#endif
