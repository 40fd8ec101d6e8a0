/* tests/consumer/test_examples.c: runs examples/produce and
 * examples/consume (built against libtern.so, as users build them) against
 * the fake broker: every record produced is printed once by the consumer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_broker.h"
#include "testutil.h"

#define URL "tcp://127.0.0.1:19751"
#define N   300

static const char *produce_exe, *consume_exe;

START_TEST(produce_then_consume_examples_round_trip)
{
	fake_broker_t *fb = fb_start(URL, "events", 2);
	char *dir = tt_mkdtemp("examples"), *out = NULL, *err = NULL, *line, *save;
	static char seen[N];
	int lines = 0;

	ck_assert_ptr_nonnull(fb);
	ck_assert_int_eq(tt_run_prog(dir, NULL, produce_exe,
				     (const char *const[]){URL, "events", "300", NULL}, 60, &out,
				     &err),
			 0);
	ck_assert_int_eq(tt_run_prog(dir, NULL, consume_exe,
				     (const char *const[]){URL, "events", "example-group", NULL},
				     60, &out, &err),
			 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int part, i;
		long long off;

		ck_assert_int_eq(sscanf(line, "%d %lld message-%d", &part, &off, &i), 3);
		ck_assert(i >= 0 && i < N && !seen[i]);
		seen[i] = 1;
		lines++;
	}
	free(out);
	free(err);
	ck_assert_int_eq(lines, N);
	/* The group's offsets were committed at close (enable.auto.commit). */
	ck_assert_int_eq(
	    fb_committed(fb, "example-group", 0) + fb_committed(fb, "example-group", 1), N);
	tt_rmtree(dir);
	free(dir);
	fb_stop(fb);
}
END_TEST

/* The README shows examples/produce.c whole: the copy there must be the
 * program this suite builds and runs. */
START_TEST(readme_shows_the_tested_example)
{
	char *readme = tt_read_text(tt_data_path("../../README.md"));
	char *example = tt_read_text(tt_data_path("../../examples/produce.c"));
	size_t elen = strlen(example);
	char *start, *end;

	start = strstr(readme, "```c\n");
	ck_assert_msg(start != NULL, "README.md has no C example block");
	start += 5;
	end = strstr(start, "```");
	ck_assert_ptr_nonnull(end);
	ck_assert_msg((size_t)(end - start) == elen && memcmp(start, example, elen) == 0,
		      "README.md's example differs from examples/produce.c: copy it over");
	free(readme);
	free(example);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("examples");
	TCase *tc = tcase_create("fake_broker");

	if (argc != 3) {
		fprintf(stderr, "usage: %s PRODUCE_EXE CONSUME_EXE\n", argv[0]);
		return 2;
	}
	produce_exe = argv[1];
	consume_exe = argv[2];
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, produce_then_consume_examples_round_trip);
	tcase_add_test(tc, readme_shows_the_tested_example);
	suite_add_tcase(s, tc);
	return tt_run(s);
}
