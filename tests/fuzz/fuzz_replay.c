/* tests/fuzz/fuzz_replay.c: replays a fuzz target's corpus as a Check
 * suite, so that every build (gcc, ASan) runs the seeds and the
 * reproducers of past crashes through the same checks as the fuzzer.
 * Linked once per target with its fuzz_<target>.c; FUZZ_TARGET names the
 * corpus directory tests/data/fuzz/<target>/. One test per file: a target
 * that finds a broken property aborts, and Check reports that file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET must name the target (frame, batch, segment)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char **files;
static int nfiles;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of the corpus directory, sorted. */
static void list_corpus(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d) {
		fprintf(stderr, "fuzz_replay: cannot open %s\n", path);
		exit(1);
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		files = realloc(files, (size_t)(nfiles + 1) * sizeof *files);
		if (!files || asprintf(&files[nfiles], "%s/%s", path, de->d_name) < 0) {
			fprintf(stderr, "fuzz_replay: out of memory\n");
			exit(1);
		}
		nfiles++;
	}
	closedir(d);
	if (nfiles > 1)
		qsort(files, (size_t)nfiles, sizeof *files, cmp_str);
}

START_TEST(test_replay)
{
	size_t len;
	/* tt_read_file allocates exactly len bytes: ASan sees any read past. */
	uint8_t *buf = tt_read_file(files[_i], &len);

	fprintf(stderr, "%s (%zu bytes)\n", files[_i], len);
	ck_assert_int_eq(LLVMFuzzerTestOneInput(buf, len), 0);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_replay_" FUZZ_TARGET);
	TCase *tc = tcase_create("corpus");

	list_corpus(tt_data_path("fuzz/" FUZZ_TARGET));
	if (nfiles == 0) {
		fprintf(stderr, "fuzz_replay: the corpus of %s is empty\n", FUZZ_TARGET);
		return 1;
	}
	if (strcmp(FUZZ_TARGET, "segment") == 0)
		tt_require_io_uring();
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_replay, 0, nfiles);
	suite_add_tcase(s, tc);
	return tt_run(s);
}
