/* tests/log/test_checkpoint.c: log_durable_replace() and the offset
 * checkpoint files (replication-offset, recovery-point, log-start). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"
#include "testutil.h"

static char *dir;

static void setup_dir(void)
{
	dir = tt_mkdtemp("ckpt");
}

static void teardown_dir(void)
{
	tt_rmtree(dir);
	free(dir);
	dir = NULL;
}

static char *path_in_dir(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

static void put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void assert_file_is(const char *path, const char *want)
{
	size_t len;
	uint8_t *data = tt_read_file(path, &len);

	ck_assert_msg(len == strlen(want) && memcmp(data, want, len) == 0,
		      "%s holds \"%.*s\", want \"%s\"", path, (int)len, (char *)data, want);
	free(data);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Names in dir other than "." and "..". */
static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static log_ckpt_entry_t entry(const char *topic, int32_t partition, int64_t offset)
{
	log_ckpt_entry_t e;

	memset(&e, 0, sizeof e);
	snprintf(e.topic, sizeof e.topic, "%s", topic);
	e.partition = partition;
	e.offset = offset;
	return e;
}

/* ------------------------------------------------------------------------ */
/* log_durable_replace                                                        */

START_TEST(test_replace_creates_and_replaces_without_temp)
{
	char *path = path_in_dir("file");
	char *tmp = path_in_dir("file.tmp");

	ck_assert_int_eq(log_durable_replace(path, "first\n", 6), TERN_OK);
	assert_file_is(path, "first\n");
	ck_assert(!exists(tmp));

	ck_assert_int_eq(log_durable_replace(path, "second, longer\n", 15), TERN_OK);
	assert_file_is(path, "second, longer\n");
	ck_assert(!exists(tmp));

	/* Shorter content must not leave a tail of the old one. */
	ck_assert_int_eq(log_durable_replace(path, "3\n", 2), TERN_OK);
	assert_file_is(path, "3\n");

	ck_assert_int_eq(log_durable_replace(path, "", 0), TERN_OK);
	assert_file_is(path, "");
	ck_assert_int_eq(dir_entries(), 1);
	free(tmp);
	free(path);
}
END_TEST

/* A crash between creating the temp file and renaming it leaves the temp
 * behind; the next replace overwrites and consumes it. */
START_TEST(test_replace_overwrites_stale_temp)
{
	char *path = path_in_dir("file");
	char *tmp = path_in_dir("file.tmp");

	put_file(path, "old\n", 4);
	put_file(tmp, "stale garbage that is longer\n", 29);
	ck_assert_int_eq(log_durable_replace(path, "new\n", 4), TERN_OK);
	assert_file_is(path, "new\n");
	ck_assert(!exists(tmp));
	free(tmp);
	free(path);
}
END_TEST

START_TEST(test_replace_relative_path)
{
	char *cwd = getcwd(NULL, 0);

	ck_assert_ptr_nonnull(cwd);
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(log_durable_replace("plain", "x\n", 2), TERN_OK);
	assert_file_is("plain", "x\n");
	ck_assert(!exists("plain.tmp"));
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);
}
END_TEST

START_TEST(test_replace_missing_directory_fails_with_errno)
{
	char *path = path_in_dir("no-such-dir/file");
	tern_err_t err = log_durable_replace(path, "x\n", 2);

	ck_assert_int_eq(tern_err_to_errno(err), ENOENT);
	free(path);
}
END_TEST

/* An fsync failure of the temp file must leave the old content and no temp
 * file; a later replace works again. */
START_TEST(test_replace_fsync_eio_keeps_old_content)
{
	char *path = path_in_dir("file");
	char *tmp = path_in_dir("file.tmp");
	tern_err_t err;

	put_file(path, "old\n", 4);
	if (log_fault_inject(LOG_FAULT_FSYNC, EIO, 0, 1) != TERN_OK) {
		fprintf(stderr, "no fault injection in this build: fsync error case not run\n");
		goto out;
	}
	err = log_durable_replace(path, "new\n", 4);
	log_fault_clear();
	ck_assert_int_eq(err, tern_err_errno(EIO));
	assert_file_is(path, "old\n");
	ck_assert(!exists(tmp));

	ck_assert_int_eq(log_durable_replace(path, "new\n", 4), TERN_OK);
	assert_file_is(path, "new\n");
out:
	free(tmp);
	free(path);
}
END_TEST

START_TEST(test_replace_write_eio_keeps_old_content)
{
	char *path = path_in_dir("file");
	char *tmp = path_in_dir("file.tmp");
	tern_err_t err;

	put_file(path, "old\n", 4);
	if (log_fault_inject(LOG_FAULT_WRITE, EIO, 0, 1) != TERN_OK) {
		fprintf(stderr, "no fault injection in this build: write error case not run\n");
		goto out;
	}
	err = log_durable_replace(path, "new\n", 4);
	log_fault_clear();
	ck_assert_int_eq(err, tern_err_errno(EIO));
	assert_file_is(path, "old\n");
	ck_assert(!exists(tmp));
out:
	free(tmp);
	free(path);
}
END_TEST

/* When only the directory fsync fails, the rename has happened: the new
 * content is visible but not known durable, and the caller gets the error. */
START_TEST(test_replace_directory_fsync_eio_is_reported)
{
	char *path = path_in_dir("file");
	char *tmp = path_in_dir("file.tmp");
	tern_err_t err;

	put_file(path, "old\n", 4);
	if (log_fault_inject(LOG_FAULT_FSYNC, EIO, 1, 1) != TERN_OK) {
		fprintf(stderr, "no fault injection in this build: dir fsync case not run\n");
		goto out;
	}
	err = log_durable_replace(path, "new\n", 4);
	log_fault_clear();
	ck_assert_int_eq(err, tern_err_errno(EIO));
	assert_file_is(path, "new\n");
	ck_assert(!exists(tmp));
out:
	free(tmp);
	free(path);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Offset checkpoints                                                         */

START_TEST(test_ckpt_round_trip)
{
	char *path = path_in_dir("replication-offset-checkpoint");
	char long_topic[250];
	char errstr[256] = "";
	char *want;
	log_ckpt_entry_t in[3], *out = NULL;
	size_t n = 0, i;

	memset(long_topic, 'x', 249);
	long_topic[249] = '\0';
	in[0] = entry("topic-a", 0, 42);
	in[1] = entry("t.b_C9", 12, 0);
	in[2] = entry(long_topic, INT32_MAX, INT64_MAX);
	ck_assert_int_eq(log_ckpt_write(path, in, 3), TERN_OK);

	ck_assert_int_ge(asprintf(&want, "0\n3\ntopic-a 0 42\nt.b_C9 12 0\n%s 2147483647 "
					 "9223372036854775807\n",
				  long_topic),
			 0);
	assert_file_is(path, want);
	free(want);

	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(out[i].topic, in[i].topic);
		ck_assert_int_eq(out[i].partition, in[i].partition);
		ck_assert_int_eq(out[i].offset, in[i].offset);
	}
	free(out);
	ck_assert_int_eq(dir_entries(), 1);
	free(path);
}
END_TEST

START_TEST(test_ckpt_zero_entries)
{
	char *path = path_in_dir("recovery-point-offset-checkpoint");
	char errstr[256] = "";
	log_ckpt_entry_t *out = NULL;
	size_t n = 99;

	ck_assert_int_eq(log_ckpt_write(path, NULL, 0), TERN_OK);
	assert_file_is(path, "0\n0\n");
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(n, 0);
	free(out);
	free(path);
}
END_TEST

START_TEST(test_ckpt_missing_and_empty_file)
{
	char *path = path_in_dir("log-start-offset-checkpoint");
	char errstr[256] = "";
	log_ckpt_entry_t *out = NULL;
	size_t n = 99;

	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(n, 0);
	free(out);

	/* Kafka creates its checkpoint files empty. */
	put_file(path, "", 0);
	out = NULL;
	n = 99;
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(n, 0);
	free(out);
	free(path);
}
END_TEST

/* What read would reject, write refuses, and the old file stays. */
START_TEST(test_ckpt_write_refuses_invalid_entries)
{
	static const struct {
		const char *topic;
		int32_t partition;
		int64_t offset;
	} bad[] = {
		{"", 0, 0},         {".", 0, 0},          {"..", 0, 0},   {"a b", 0, 0},
		{"a/b", 0, 0},      {"caf\xc3\xa9", 0, 0}, {"a\nb", 0, 0}, {"ok", -1, 0},
		{"ok", 0, -1},
	};
	char *path = path_in_dir("replication-offset-checkpoint");
	log_ckpt_entry_t e[2];
	size_t i;

	put_file(path, "0\n0\n", 4);
	e[0] = entry("fine", 0, 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e[1] = entry(bad[i].topic, bad[i].partition, bad[i].offset);
		ck_assert_msg(log_ckpt_write(path, e, 2) == TERN_ERR__INVALID_ARG,
			      "entry %zu accepted", i);
	}
	/* 250 characters, and a topic with no NUL in its 256 bytes. */
	memset(e[1].topic, 'x', 250);
	e[1].topic[250] = '\0';
	ck_assert_int_eq(log_ckpt_write(path, e, 2), TERN_ERR__INVALID_ARG);
	memset(e[1].topic, 'x', sizeof e[1].topic);
	ck_assert_int_eq(log_ckpt_write(path, e, 2), TERN_ERR__INVALID_ARG);

	assert_file_is(path, "0\n0\n");
	ck_assert_int_eq(dir_entries(), 1);
	free(path);
}
END_TEST

typedef struct bad_file {
	const char *what;
	const char *text;
	const char *in_errstr; /* must appear in errstr */
} bad_file_t;

#define X10 "xxxxxxxxxx"
#define X50 X10 X10 X10 X10 X10

static const bad_file_t bad_files[] = {
	{"version 1", "1\n0\n", ":1: unsupported version (expected 0): '1'"},
	{"version with a plus sign", "+0\n0\n", "'+0'"},
	{"no count line", "0\n", ":1: no count line after the version"},
	{"count not a number", "0\n1x\na 0 0\n", ":2: invalid entry count: '1x'"},
	{"count above the lines", "0\n2\na 0 0\n", ":2: the count is 2 but the file has 1 entries"},
	{"count below the lines", "0\n0\na 0 0\n", "the count is 0 but the file has 1 entries"},
	{"count past int32", "0\n2147483648\n", "invalid entry count"},
	{"last line cut short", "0\n1\na 0 0", ":3: no newline at the end of the file: 'a 0 0'"},
	{"two fields", "0\n1\na 0\n", ":3: expected '<topic> <partition> <offset>': 'a 0'"},
	{"four fields", "0\n1\na 0 0 0\n", "'a 0 0 0'"},
	{"double space", "0\n1\na  0 0\n", "'a  0 0'"},
	{"empty entry line", "0\n1\n\n", ":3: expected"},
	{"partition not a number", "0\n1\na x 0\n", ":3: invalid partition: 'a x 0'"},
	{"negative partition", "0\n1\na -1 0\n", "invalid partition"},
	{"partition past int32", "0\n1\na 2147483648 0\n", "invalid partition"},
	{"offset not a number", "0\n1\na 0 12b\n", ":3: invalid offset: 'a 0 12b'"},
	{"negative offset", "0\n1\na 0 -1\n", "invalid offset"},
	{"offset past int64", "0\n1\na 0 9223372036854775808\n", "invalid offset"},
	{"CRLF line", "0\n1\na 0 5\r\n", "invalid offset: 'a 0 5?'"},
	{"topic with a slash", "0\n1\na/b 0 0\n", ":3: invalid topic name: 'a/b 0 0'"},
	{"topic '.'", "0\n1\n. 0 0\n", "invalid topic name"},
	{"topic '..'", "0\n1\n.. 0 0\n", "invalid topic name"},
	{"topic not ASCII", "0\n1\ncaf\xc3\xa9 0 0\n", "invalid topic name: 'caf?? 0 0'"},
	{"topic of 250 characters", "0\n1\n" X50 X50 X50 X50 X50 " 0 0\n",
	 "invalid topic name: 'xxxxxxxx"},
};

START_TEST(test_ckpt_rejects_malformed)
{
	const bad_file_t *b = &bad_files[_i];
	char *path = path_in_dir("replication-offset-checkpoint");
	char errstr[256] = "";
	log_ckpt_entry_t *out = NULL;
	size_t n = 99;
	tern_err_t err;

	put_file(path, b->text, strlen(b->text));
	err = log_ckpt_read(path, &out, &n, errstr, sizeof errstr);
	ck_assert_msg(err == TERN_ERR__CORRUPT, "%s: got %s", b->what, tern_err_name(err));
	ck_assert_msg(strstr(errstr, b->in_errstr) != NULL, "%s: errstr \"%s\" lacks \"%s\"",
		      b->what, errstr, b->in_errstr);
	ck_assert_msg(strncmp(errstr, path, strlen(path)) == 0, "%s: errstr \"%s\" lacks the path",
		      b->what, errstr);
	/* Out-parameters are written only on success. */
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(n, 99);
	free(path);
}
END_TEST

/* errstr is cut to its size, never overrun, and may be NULL. */
START_TEST(test_ckpt_errstr_small_buffer)
{
	char *path = path_in_dir("replication-offset-checkpoint");
	char errstr[8];
	log_ckpt_entry_t *out = NULL;
	size_t n = 0;

	put_file(path, "7\n0\n", 4);
	memset(errstr, 'Z', sizeof errstr);
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_ERR__CORRUPT);
	ck_assert_uint_eq(strlen(errstr), sizeof errstr - 1);
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, NULL, 0), TERN_ERR__CORRUPT);
	free(path);
}
END_TEST

START_TEST(test_ckpt_oversized_file_rejected_before_reading)
{
	char *path = path_in_dir("replication-offset-checkpoint");
	char errstr[256] = "";
	log_ckpt_entry_t *out = NULL;
	size_t n = 0;
	int fd;

	/* Sparse: 65 MiB of nothing costs no disk. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 65 << 20), 0);
	close(fd);
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_ERR__CORRUPT);
	ck_assert_ptr_nonnull(strstr(errstr, "larger than"));
	free(path);
}
END_TEST

START_TEST(test_ckpt_directory_is_not_a_checkpoint)
{
	char *path = path_in_dir("replication-offset-checkpoint");
	char errstr[256] = "";
	log_ckpt_entry_t *out = NULL;
	size_t n = 0;

	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_ERR__CORRUPT);
	ck_assert_ptr_nonnull(strstr(errstr, "not a regular file"));
	free(path);
}
END_TEST

/* A checkpoint written by Kafka itself reads back. */
START_TEST(test_ckpt_reads_kafka_file)
{
	static const char text[] = "0\n2\n__consumer_offsets 17 1234\nmy.topic-v2 3 0\n";
	char *path = path_in_dir("replication-offset-checkpoint");
	char errstr[256] = "";
	log_ckpt_entry_t *out = NULL;
	size_t n = 0;

	put_file(path, text, sizeof text - 1);
	ck_assert_int_eq(log_ckpt_read(path, &out, &n, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0].topic, "__consumer_offsets");
	ck_assert_int_eq(out[0].partition, 17);
	ck_assert_int_eq(out[0].offset, 1234);
	ck_assert_str_eq(out[1].topic, "my.topic-v2");
	ck_assert_int_eq(out[1].partition, 3);
	ck_assert_int_eq(out[1].offset, 0);
	free(out);
	free(path);
}
END_TEST

static Suite *checkpoint_suite(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc;

	tc = tcase_create("durable_replace");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_replace_creates_and_replaces_without_temp);
	tcase_add_test(tc, test_replace_overwrites_stale_temp);
	tcase_add_test(tc, test_replace_relative_path);
	tcase_add_test(tc, test_replace_missing_directory_fails_with_errno);
	tcase_add_test(tc, test_replace_fsync_eio_keeps_old_content);
	tcase_add_test(tc, test_replace_write_eio_keeps_old_content);
	tcase_add_test(tc, test_replace_directory_fsync_eio_is_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("offset_checkpoint");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_ckpt_round_trip);
	tcase_add_test(tc, test_ckpt_zero_entries);
	tcase_add_test(tc, test_ckpt_missing_and_empty_file);
	tcase_add_test(tc, test_ckpt_write_refuses_invalid_entries);
	tcase_add_loop_test(tc, test_ckpt_rejects_malformed, 0,
			    (int)(sizeof bad_files / sizeof bad_files[0]));
	tcase_add_test(tc, test_ckpt_errstr_small_buffer);
	tcase_add_test(tc, test_ckpt_oversized_file_rejected_before_reading);
	tcase_add_test(tc, test_ckpt_directory_is_not_a_checkpoint);
	tcase_add_test(tc, test_ckpt_reads_kafka_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	tt_require_io_uring();
	return tt_run(checkpoint_suite());
}
