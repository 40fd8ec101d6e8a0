/* tests/fault/test_powercut.c: the power-loss nemesis. The trace parser and
 * the cut on synthetic traces over real files, then a real ternd killed
 * with SIGKILL and cut back: under flush.policy=sync every acknowledged
 * record survives; under async the unsynced tail goes and what is left is
 * a clean prefix of what was acknowledged. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "powercut.h"
#include "proto/proto.h"
#include "tclient.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Synthetic traces                                                           */

static char *root;

static void setup_root(void)
{
	char buf[4096];

	root = tt_mkdtemp("powercut");
	ck_assert_ptr_nonnull(realpath(root, buf));
	free(root);
	root = strdup(buf);
}

static void teardown_root(void)
{
	tt_rmtree(root);
	free(root);
	root = NULL;
}

/* root/rel, in one of 16 static buffers used in turn. */
static const char *at(const char *rel)
{
	static char buf[16][4096];
	static int k;

	k = (k + 1) % 16;
	snprintf(buf[k], sizeof buf[k], "%s%s%s", root, *rel ? "/" : "", rel);
	return buf[k];
}

static void mkfile(const char *rel, size_t n)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char c = 'x';

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(write(fd, &c, 1), 1);
	close(fd);
}

static void mkdir_rel(const char *rel)
{
	ck_assert_int_eq(mkdir(at(rel), 0755), 0);
}

/* "<ino>:<birth>" of root/rel, as the broker would write it. */
static const char *id(const char *rel)
{
	static char buf[16][64];
	static int k;
	struct statx sx;
	unsigned long long birth = 0;

	k = (k + 1) % 16;
	ck_assert_int_eq(
	    statx(AT_FDCWD, at(rel), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &sx), 0);
	if (sx.stx_mask & STATX_BTIME)
		birth =
		    (unsigned long long)sx.stx_btime.tv_sec * 1000000000ull + sx.stx_btime.tv_nsec;
	snprintf(buf[k], sizeof buf[k], "%llu:%llu", (unsigned long long)sx.stx_ino, birth);
	return buf[k];
}

static off_t size_of(const char *rel)
{
	struct stat st;

	ck_assert_int_eq(stat(at(rel), &st), 0);
	return st.st_size;
}

static bool exists(const char *rel)
{
	struct stat st;

	return lstat(at(rel), &st) == 0;
}

/* Writes text (lines ending '\n') to <root>.trace; the caller frees the path. */
static char *write_trace(const char *text)
{
	char *path;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s.trace", root), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	fclose(f);
	return path;
}

START_TEST(cut_keeps_only_what_the_last_fsyncs_covered)
{
	char text[8192], why[256];
	pc_counts_t n = {0};
	char *trace;

	mkfile("a", 25);    /* listed, fsynced at 10: cut to 10 */
	mkfile("b", 7);	    /* listed, never fsynced: cut to 0 */
	mkfile("c", 5);	    /* fsynced but never listed: removed */
	mkdir_rel("sub");   /* listed and fsynced */
	mkfile("sub/x", 8); /* listed, fsynced at 100: never extended */
	mkfile("sub/y", 3); /* not in sub's listing: removed */
	mkdir_rel("new");   /* not listed: removed with all inside */
	mkfile("new/z", 4);
	mkdir_rel("new/deeper");
	mkfile("new/deeper/w", 2);
	mkdir_rel("nosync"); /* listed, never fsynced itself: emptied */
	mkfile("nosync/q", 6);

	snprintf(text, sizeof text,
		 "S 42\n"
		 "F 1 %s %s 10\n"
		 "F 2 %s %s 5\n"
		 "F 3 %s %s 100\n"
		 "D 4 %s %s 1 x %s\n"
		 "D 5 %s %s 4 a %s b %s sub %s nosync %s\n",
		 at("a"), id("a"), at("c"), id("c"), at("sub/x"), id("sub/x"), at("sub"), id("sub"),
		 id("sub/x"), at(""), id(""), id("a"), id("b"), id("sub"), id("nosync"));
	trace = write_trace(text);
	ck_assert_msg(pc_cut_counted(root, trace, &n, why, sizeof why) == 0, "%s", why);

	ck_assert_int_eq(size_of("a"), 10);
	ck_assert_int_eq(size_of("b"), 0);
	ck_assert(!exists("c"));
	ck_assert_int_eq(size_of("sub/x"), 8);
	ck_assert(!exists("sub/y"));
	ck_assert(!exists("new"));
	ck_assert(exists("nosync"));
	ck_assert(!exists("nosync/q"));
	ck_assert_int_eq(n.files_removed, 5);	/* c, sub/y, new/z, new/deeper/w, nosync/q */
	ck_assert_int_eq(n.dirs_removed, 2);	/* new, new/deeper */
	ck_assert_int_eq(n.files_truncated, 2); /* a, b */
	ck_assert_int_eq(n.bytes_cut, 15 + 7 + 5 + 3 + 4 + 2 + 6);

	/* A second cut by the same trace finds nothing more to do. */
	ck_assert_msg(pc_cut_counted(root, trace, &n, why, sizeof why) == 0, "%s", why);
	ck_assert_int_eq(n.files_removed + n.dirs_removed + n.files_truncated, 0);
	ck_assert_int_eq(n.bytes_cut, 0);
	unlink(trace);
	free(trace);
}
END_TEST

START_TEST(the_latest_snapshot_wins_not_the_latest_line)
{
	const char *text = "S 1\n"
			   "F 3 /d/f 7:100 12\n"
			   "F 2 /d/f 7:100 18\n" /* completed later, snapshot older */
			   "D 7 /d 1:1 0\n"
			   "D 6 /d 1:1 1 f 7:100\n"
			   "S 2\n"
			   "F 1 /d/f 7:100 16\n" /* a later run, whatever its seq */
			   "F 9 /d/g 8:0 5\n";
	pc_trace_t *t;
	char why[256];
	uint64_t sz = 0;
	const pc_dir_t *d;

	ck_assert_msg(pc_trace_parse(text, strlen(text), &t, why, sizeof why) == 0, "%s", why);
	ck_assert_int_eq(pc_trace_runs(t), 2);
	ck_assert(pc_trace_file_size(t, (pc_id_t){7, 100}, &sz));
	ck_assert_int_eq(sz, 16);
	d = pc_trace_dir(t, "/d");
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->seq, 7);
	ck_assert_int_eq(d->nents, 0);
	ck_assert_ptr_null(pc_trace_dir(t, "/e"));
	ck_assert_ptr_null(pc_trace_dir(t, "/"));
	pc_trace_free(t);

	/* Within one run the larger seq wins whatever the line order. */
	text = "S 1\nF 3 /d/f 7:100 12\nF 2 /d/f 7:100 18\n";
	ck_assert_msg(pc_trace_parse(text, strlen(text), &t, why, sizeof why) == 0, "%s", why);
	ck_assert(pc_trace_file_size(t, (pc_id_t){7, 100}, &sz));
	ck_assert_int_eq(sz, 12);
	pc_trace_free(t);
}
END_TEST

START_TEST(an_inode_number_reused_by_a_later_file_is_not_its_predecessor)
{
	const char *text = "S 1\nF 1 /d/f 7:100 12\nF 2 /d/g 8:0 5\n";
	pc_trace_t *t;
	char why[256];
	uint64_t sz = 0;

	ck_assert_msg(pc_trace_parse(text, strlen(text), &t, why, sizeof why) == 0, "%s", why);
	ck_assert(!pc_trace_file_size(t, (pc_id_t){7, 200}, &sz));
	ck_assert(pc_trace_file_size(t, (pc_id_t){7, 0}, &sz)); /* birth unknown */
	ck_assert_int_eq(sz, 12);
	ck_assert(pc_trace_file_size(t, (pc_id_t){8, 300}, &sz));
	ck_assert_int_eq(sz, 5);
	ck_assert(!pc_trace_file_size(t, (pc_id_t){9, 0}, &sz));
	pc_trace_free(t);
}
END_TEST

START_TEST(a_renamed_over_file_keeps_its_own_fsynced_length)
{
	char text[4096], why[256];
	pc_counts_t n = {0};
	char *trace;

	mkfile("ckpt", 30); /* the new inode, fsynced at 30 then renamed */
	mkfile("plain", 9); /* renamed over, never fsynced */
	mkdir_rel("d");	    /* a directory replaced by another one */
	mkfile("d/in", 1);
	snprintf(text, sizeof text,
		 "S 1\n"
		 "F 1 %s.tmp %s 30\n"
		 "D 2 %s %s 3 ckpt 999999999:1 plain 999999998:1 d 999999997:1\n",
		 at("ckpt"), id("ckpt"), at(""), id(""));
	trace = write_trace(text);
	ck_assert_msg(pc_cut_counted(root, trace, &n, why, sizeof why) == 0, "%s", why);
	ck_assert_int_eq(size_of("ckpt"), 30);
	ck_assert_int_eq(size_of("plain"), 0);
	ck_assert(!exists("d"));
	ck_assert_int_eq(n.files_truncated, 1);
	ck_assert_int_eq(n.files_removed, 1);
	ck_assert_int_eq(n.dirs_removed, 1);
	unlink(trace);
	free(trace);
}
END_TEST

START_TEST(a_directory_recreated_since_its_fsync_is_not_trusted)
{
	char text[4096], why[256];
	char *trace;

	mkdir_rel("p");
	mkfile("p/f", 4);
	/* The root listing knows p as it is, but p's own listing is of an
	 * earlier directory at that path. */
	snprintf(text, sizeof text,
		 "S 1\n"
		 "F 1 %s %s 4\n"
		 "D 2 %s 123456789:5 1 f %s\n"
		 "D 3 %s %s 1 p %s\n",
		 at("p/f"), id("p/f"), at("p"), id("p/f"), at(""), id(""), id("p"));
	trace = write_trace(text);
	ck_assert_msg(pc_cut(root, trace, why, sizeof why) == 0, "%s", why);
	ck_assert(exists("p"));
	ck_assert(!exists("p/f"));
	unlink(trace);
	free(trace);
}
END_TEST

START_TEST(names_are_unescaped_and_bad_traces_are_refused)
{
	static const char *bad[] = {
	    "S 1\nF 1 /d/f 7:1\n",	      /* a field short */
	    "S 1\nF x /d/f 7:1 3\n",	      /* seq not a number */
	    "S 1\nF 1 /d/f 7 3\n",	      /* id without birth */
	    "S 1\nD 1 /d 1:1 2 a 2:2\n",      /* count larger than the pairs */
	    "S 1\nD 1 /d 1:1 1 a\\x2 2:2\n",  /* a short escape */
	    "S 1\nD 1 /d 1:1 1 a\\x00 2:2\n", /* an escaped NUL */
	    "S 1\nD 1 /d 1:1 1 a/b 2:2\n",    /* a name with a slash */
	    "S 1\nQ 1\n",		      /* an unknown record */
	    "S 1\n\n",			      /* an empty line */
	    "S 1\nF 1 /d/f 7:1 3 \n",	      /* a trailing space */
	};
	const char *good = "S 1\nD 4 /a\\x20dir 1:0 1 b\\x5cc\\x0a 2:0\nF 5 /x 3:0 9"; /* torn */
	const pc_dir_t *d;
	pc_trace_t *t;
	char why[256];
	uint64_t sz;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		ck_assert_msg(pc_trace_parse(bad[i], strlen(bad[i]), &t, why, sizeof why) == -1,
			      "accepted: %s", bad[i]);
		ck_assert_msg(strstr(why, "line 2") != NULL, "%s: %s", bad[i], why);
	}
	ck_assert_msg(pc_trace_parse(good, strlen(good), &t, why, sizeof why) == 0, "%s", why);
	d = pc_trace_dir(t, "/a dir");
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->nents, 1);
	ck_assert_str_eq(d->ents[0].name, "b\\c\n");
	ck_assert(!pc_trace_file_size(t, (pc_id_t){3, 0}, &sz)); /* the torn line */
	pc_trace_free(t);
}
END_TEST

START_TEST(a_trace_no_broker_opened_is_an_error)
{
	char why[256], *trace;

	mkfile("f", 3);
	trace = write_trace("");
	ck_assert_int_eq(pc_cut(root, trace, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "no broker") != NULL, "%s", why);
	ck_assert_int_eq(size_of("f"), 3);
	unlink(trace);
	ck_assert_int_eq(pc_cut(root, trace, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "no trace") != NULL, "%s", why);
	free(trace);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A real ternd                                                               */

#define TOPIC "pc"

static tc_broker_t br;

/* What the producer was told about record i. */
typedef struct acked {
	tern_err_t err;
	int64_t offset;
	bool done;
} acked_t;

static void on_delivery(void *opaque, const tern_delivery_t *d)
{
	acked_t *a = opaque;

	a->err = d->err;
	a->offset = d->offset;
	a->done = true;
}

static char *trace_path(void)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/durable.trace", br.dir), 0);
	return p;
}

static void start_broker(const char *policy, const char *flush_ms)
{
	static char pol[64], ms[64];
	char *trace;

	tc_broker_init(&br, "powercut");
	trace = trace_path();
	setenv("TERN_TEST_DURABLE_LOG", trace, 1);
	free(trace);
	snprintf(pol, sizeof pol, "--log.flush.policy=%s", policy);
	snprintf(ms, sizeof ms, "--log.flush.interval.ms=%s", flush_ms);
	br.extra[br.nextra++] = pol;
	br.extra[br.nextra++] = ms;
	tc_broker_start(&br);
}

static void create_topic(void)
{
	tc_conn_t c;

	tc_connect(&c, br.url);
	ck_assert_int_eq(tc_create_topic(&c, TOPIC, 1, NULL, 0), 0);
	tc_close(&c);
}

/* Produces n records "<tag>-<i>" with acks=all; every one must be
 * acknowledged; a[i] gets its offset. */
static void produce(const char *tag, acked_t *a, int n)
{
	tern_conf_t *conf = tern_conf_new();
	tern_producer_t *p;
	char err[256], v[64];

	ck_assert_int_eq(tern_conf_set(conf, "bootstrap.servers", br.url, err, sizeof err), 0);
	ck_assert_int_eq(tern_conf_set(conf, "acks", "all", err, sizeof err), 0);
	ck_assert_int_eq(tern_conf_set(conf, "linger.ms", "5", err, sizeof err), 0);
	p = tern_producer_new(conf, err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	for (int i = 0; i < n; i++) {
		int len = snprintf(v, sizeof v, "%s-%d", tag, i);

		ck_assert_int_eq(
		    tern_produce(p, TOPIC, 0, NULL, 0, v, (size_t)len, NULL, 0, on_delivery, &a[i]),
		    0);
	}
	ck_assert_int_eq(tern_producer_flush(p, 20000), 0);
	tern_producer_destroy(p);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(a[i].done && a[i].err == 0, "record %s-%d: %s", tag, i,
			      tern_strerror(a[i].err));
		ck_assert_int_ge(a[i].offset, 0);
	}
}

/* Reads the partition from its start until the consumer reports its end
 * at or past min_end (deadline 15 s). vals[o] gets the value at offset o
 * (max of them); returns how many records were read. Every record must
 * come in offset order without a gap, and no error but the end may come. */
static int consume(char **vals, int max, int64_t min_end)
{
	tern_conf_t *conf = tern_conf_new();
	tern_consumer_t *c;
	int64_t deadline = proto_now_ms() + 15000;
	char err[256];
	int n = 0;

	ck_assert_int_eq(tern_conf_set(conf, "bootstrap.servers", br.url, err, sizeof err), 0);
	ck_assert_int_eq(tern_conf_set(conf, "enable.partition.eof", "true", err, sizeof err), 0);
	c = tern_consumer_new(conf, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_BEGINNING), 0);
	for (;;) {
		tern_message_t *m = NULL;
		tern_err_t e;

		ck_assert_msg(proto_now_ms() < deadline,
			      "read %d records, no end at %lld within 15 s", n, (long long)min_end);
		e = tern_consumer_poll(c, 1000, &m);
		if (e == TERN_ERR__TIMED_OUT)
			continue;
		if (e == TERN_ERR__PARTITION_EOF) {
			int64_t at_off = m->offset;

			tern_message_destroy(m);
			if (at_off >= min_end && at_off == n)
				break;
			continue;
		}
		ck_assert_msg(e == 0, "poll: %s", tern_strerror(e));
		ck_assert_msg(m->offset == n, "a gap: offset %lld after %d records",
			      (long long)m->offset, n);
		ck_assert_int_lt(n, max);
		vals[n] = strndup(m->value, m->value_len);
		n++;
		tern_message_destroy(m);
	}
	ck_assert_int_eq(tern_consumer_close(c), 0);
	return n;
}

/* Kills the broker, cuts its files back, and returns what the cut did. */
static pc_counts_t crash_and_cut(void)
{
	char data[4096], why[512], *trace = trace_path();
	pc_counts_t n = {0};

	tc_broker_kill(&br);
	snprintf(data, sizeof data, "%s/data", br.dir);
	ck_assert_msg(pc_cut_counted(data, trace, &n, why, sizeof why) == 0, "%s", why);
	free(trace);
	fprintf(
	    stderr, "power cut: %ld files removed, %ld dirs removed, %ld truncated, %llu bytes\n",
	    n.files_removed, n.dirs_removed, n.files_truncated, (unsigned long long)n.bytes_cut);
	return n;
}

/* The value the producer sent at offset o, if one was acknowledged there. */
static const char *sent_at(const acked_t *a, int n, const char *tag, int64_t o, char *buf,
			   size_t len)
{
	for (int i = 0; i < n; i++)
		if (a[i].offset == o) {
			snprintf(buf, len, "%s-%d", tag, i);
			return buf;
		}
	return NULL;
}

START_TEST(sync_every_acknowledged_record_survives_a_power_cut)
{
	int n = (int)tt_scale(2000), got;
	acked_t *a = calloc((size_t)n, sizeof *a);
	char **vals = calloc((size_t)n + 1, sizeof *vals);
	int64_t end = 0;
	char buf[64];

	start_broker("sync", "1000");
	create_topic();
	produce("s", a, n);
	for (int i = 0; i < n; i++)
		if (a[i].offset + 1 > end)
			end = a[i].offset + 1;
	crash_and_cut();
	tc_broker_start(&br);
	got = consume(vals, n + 1, end);
	ck_assert_int_eq(got, end);
	for (int i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "s-%d", i);
		ck_assert_str_eq(vals[a[i].offset], buf);
	}
	for (int i = 0; i < got; i++)
		free(vals[i]);
	free(vals);
	free(a);
}
END_TEST

START_TEST(async_a_power_cut_leaves_a_clean_prefix)
{
	int n = (int)tt_scale(1000), got;
	acked_t *a1 = calloc((size_t)n, sizeof *a1), *a2 = calloc((size_t)n, sizeof *a2);
	char **vals = calloc(2 * (size_t)n + 1, sizeof *vals);
	pc_counts_t cut;
	char buf[64];

	/* Records made durable by a clean shutdown, then records written to
	 * the page cache only: flush.ms is far away. */
	start_broker("async", "600000");
	create_topic();
	produce("a", a1, n);
	ck_assert_int_eq(tc_broker_term(&br), 0);
	tc_broker_start(&br);
	produce("b", a2, n);
	cut = crash_and_cut();
	ck_assert_msg(cut.bytes_cut > 0, "the cut found nothing unsynced");
	tc_broker_start(&br);
	got = consume(vals, 2 * n + 1, n);
	ck_assert_int_ge(got, n);
	for (int o = 0; o < got; o++) {
		const char *want = sent_at(a1, n, "a", o, buf, sizeof buf);

		if (!want)
			want = sent_at(a2, n, "b", o, buf, sizeof buf);
		ck_assert_msg(want != NULL, "offset %d was never acknowledged", o);
		ck_assert_str_eq(vals[o], want);
	}
	fprintf(stderr, "async: %d of %d acknowledged records left after the cut\n", got, 2 * n);
	for (int i = 0; i < got; i++)
		free(vals[i]);
	free(vals);
	free(a1);
	free(a2);
}
END_TEST

static void teardown_broker(void)
{
	tc_broker_fini(&br);
}

static Suite *powercut_suite(void)
{
	Suite *s = suite_create("powercut");
	TCase *unit = tcase_create("trace");
	TCase *real = tcase_create("ternd");

	tcase_add_checked_fixture(unit, setup_root, teardown_root);
	tcase_set_timeout(unit, 10);
	tcase_add_test(unit, cut_keeps_only_what_the_last_fsyncs_covered);
	tcase_add_test(unit, the_latest_snapshot_wins_not_the_latest_line);
	tcase_add_test(unit, an_inode_number_reused_by_a_later_file_is_not_its_predecessor);
	tcase_add_test(unit, a_renamed_over_file_keeps_its_own_fsynced_length);
	tcase_add_test(unit, a_directory_recreated_since_its_fsync_is_not_trusted);
	tcase_add_test(unit, names_are_unescaped_and_bad_traces_are_refused);
	tcase_add_test(unit, a_trace_no_broker_opened_is_an_error);
	suite_add_tcase(s, unit);
	tcase_add_checked_fixture(real, NULL, teardown_broker);
	tcase_set_timeout(real, 60);
	tcase_add_test(real, sync_every_acknowledged_record_survives_a_power_cut);
	tcase_add_test(real, async_a_power_cut_leaves_a_clean_prefix);
	suite_add_tcase(s, real);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(powercut_suite());
}
