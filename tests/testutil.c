/* Shared helpers of the Check suites; see testutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

int tt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
