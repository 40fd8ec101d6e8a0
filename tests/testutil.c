/* Shared helpers of the Check suites; see testutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

long tt_scale(long n)
{
	const char *s = getenv("TERN_TEST_SCALE");
	double f = s ? strtod(s, NULL) : 1.0;
	long v;

	if (!(f > 0))
		f = 1.0;
	v = (long)((double)n * f);
	return v < 1 ? 1 : v;
}

uint64_t tt_seed(void)
{
	static uint64_t seed;
	static int done;
	const char *s;

	if (done)
		return seed;
	s = getenv("TERN_SEED");
	if (s && *s) {
		seed = strtoull(s, NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed =
		    (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
	}
	if (seed == 0)
		seed = 1;
	done = 1;
	fprintf(stderr, "TERN_SEED=%llu\n", (unsigned long long)seed);
	return seed;
}

uint64_t tt_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void tt_skip(const char *reason)
{
	const char *req = getenv("TERN_REQUIRE_FEATURES");

	if (req && strcmp(req, "1") == 0) {
		fprintf(stderr, "FAIL (TERN_REQUIRE_FEATURES=1): %s\n", reason);
		exit(1);
	}
	fprintf(stderr, "SKIP: %s\n", reason);
	exit(TT_SKIP_STATUS);
}

void tt_require_io_uring(void)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(4, &ring, 0);
	char why[160];

	if (rc == 0) {
		io_uring_queue_exit(&ring);
		return;
	}
	snprintf(why, sizeof why, "the kernel refuses io_uring: io_uring_queue_init: %s",
		 strerror(-rc));
	tt_skip(why);
}

char *tt_mkdtemp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (asprintf(&path, "%s/tern-%s-XXXXXX", tmp, tag) < 0)
		abort();
	if (!mkdtemp(path)) {
		fprintf(stderr, "mkdtemp %s: %s\n", path, strerror(errno));
		abort();
	}
	return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void tt_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tt_data_path(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("TERN_TEST_DATA");

	snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests/data", name);
	return buf;
}

uint8_t *tt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

char *tt_read_text(const char *path)
{
	size_t len;
	uint8_t *buf = tt_read_file(path, &len);
	char *s = realloc(buf, len + 1);

	ck_assert_ptr_nonnull(s);
	s[len] = '\0';
	return s;
}

int tt_run_prog(const char *dir, const char *in_path, const char *prog, const char *const *args,
		int timeout_s, char **out, char **err)
{
	char *argv[64], *opath, *epath;
	size_t n = 0;
	pid_t pid;
	int st;

	ck_assert_ptr_nonnull(prog);
	argv[n++] = (char *)prog;
	for (; *args; args++) {
		ck_assert_uint_lt(n, sizeof argv / sizeof argv[0] - 1);
		argv[n++] = (char *)*args;
	}
	argv[n] = NULL;

	ck_assert_int_ge(asprintf(&opath, "%s/prog.out", dir), 0);
	ck_assert_int_ge(asprintf(&epath, "%s/prog.err", dir), 0);
	pid = fork();
	if (pid == 0) {
		int fi = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
		int fo = open(opath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int fe = open(epath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fi < 0 || fo < 0 || fe < 0 || dup2(fi, STDIN_FILENO) < 0 ||
		    dup2(fo, STDOUT_FILENO) < 0 || dup2(fe, STDERR_FILENO) < 0)
			_exit(126);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm((unsigned)timeout_s);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	free(*out);
	free(*err);
	*out = tt_read_text(opath);
	*err = tt_read_text(epath);
	free(opath);
	free(epath);
	ck_assert_msg(WIFEXITED(st), "%s killed by signal %d; stderr:\n%s", argv[0], WTERMSIG(st),
		      *err);
	ck_assert_msg(WEXITSTATUS(st) != 126 && WEXITSTATUS(st) != 127, "cannot run %s", argv[0]);
	return WEXITSTATUS(st);
}

int tt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
