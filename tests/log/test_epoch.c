/* tests/log/test_epoch.c: the leader-epoch cache against the cases of
 * Kafka's LeaderEpochFileCacheTest, and its checkpoint file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Table-driven cases                                                         */

enum op { END = 0, ASSIGN, TRUNC_END, TRUNC_START };

/* One call: ASSIGN(a = epoch, b = start offset), TRUNC_END(b), TRUNC_START(b),
 * and the return value it must give. */
typedef struct step {
	enum op op;
	int32_t a;
	int64_t b;
	bool changed;
} step_t;

/* endOffsetFor(epoch, leo) must give (want_epoch, want_end). */
typedef struct query {
	int32_t epoch;
	int64_t leo;
	int32_t want_epoch;
	int64_t want_end;
} query_t;

#define MAXN 12
#define U LOG_UNDEFINED_EPOCH
#define UO LOG_UNDEFINED_OFFSET

typedef struct epoch_case {
	const char *name;
	step_t steps[MAXN];
	log_epoch_entry_t want[MAXN]; /* the cache afterwards */
	size_t nwant;
	query_t q[MAXN];
	size_t nq;
} epoch_case_t;

#define A(e, o, c) {ASSIGN, (e), (o), (c)}
#define TE(o, c) {TRUNC_END, 0, (o), (c)}
#define TS(o, c) {TRUNC_START, 0, (o), (c)}
#define E(e, o) {(e), (o)}
#define Q(e, leo, we, wo) {(e), (leo), (we), (wo)}
#define ENTRIES(...)                                                                               \
	.want = {__VA_ARGS__},                                                                     \
	.nwant = sizeof((log_epoch_entry_t[]){__VA_ARGS__}) / sizeof(log_epoch_entry_t)
#define NO_ENTRIES .nwant = 0
#define QUERIES(...) .q = {__VA_ARGS__}, .nq = sizeof((query_t[]){__VA_ARGS__}) / sizeof(query_t)

/* The Kafka test each case mirrors is named where there is one. */
static const epoch_case_t cases[] = {
	{"shouldAddEpochAndMessageOffsetToCache", {A(2, 10, true)}, ENTRIES(E(2, 10)),
	 QUERIES(Q(2, 11, 2, 11))},
	{"shouldReturnLogEndOffsetIfLatestEpochRequested", {A(2, 11, true), A(2, 12, false)},
	 ENTRIES(E(2, 11)), QUERIES(Q(2, 14, 2, 14))},
	{"shouldReturnUndefinedOffsetIfUndefinedEpochRequested", {A(2, 11, true), A(3, 12, true)},
	 ENTRIES(E(2, 11), E(3, 12)), QUERIES(Q(U, 0, U, UO))},
	{"shouldNotOverwriteLogEndOffsetForALeaderEpochOnceItHasBeenAssigned",
	 {A(2, 9, true), A(2, 10, false)}, ENTRIES(E(2, 9))},
	{"shouldEnforceMonotonicallyIncreasingStartOffsets (new epoch at the same offset)",
	 {A(2, 9, true), A(3, 9, true)}, ENTRIES(E(3, 9))},
	{"shouldNotOverwriteOffsetForALeaderEpochOnceItHasBeenAssigned",
	 {A(2, 6, true), A(2, 10, false)}, ENTRIES(E(2, 6))},
	{"shouldReturnUnsupportedIfNoEpochRecorded", {{END}}, NO_ENTRIES, QUERIES(Q(0, 0, U, UO))},
	{"shouldReturnUnsupportedIfNoEpochRecordedAndUndefinedEpochRequested", {{END}}, NO_ENTRIES,
	 QUERIES(Q(U, 73, U, UO))},
	{"shouldReturnFirstEpochIfRequestedEpochLessThanFirstEpoch (echoes the requested epoch)",
	 {A(5, 11, true), A(6, 12, true), A(7, 13, true)}, ENTRIES(E(5, 11), E(6, 12), E(7, 13)),
	 QUERIES(Q(4, 0, 4, 11))},
	{"shouldTruncateIfMatchingEpochButEarlierStartingOffset",
	 {A(5, 11, true), A(6, 12, true), A(7, 13, true), A(7, 12, true)},
	 ENTRIES(E(5, 11), E(7, 12)), QUERIES(Q(5, 0, 5, 12), Q(6, 0, 5, 12))},
	{"shouldGetFirstOffsetOfSubsequentEpochWhenOffsetRequestedForPreviousEpoch",
	 {A(1, 11, true), A(1, 12, false), A(2, 13, true), A(2, 14, false), A(3, 15, true),
	  A(3, 16, false)},
	 ENTRIES(E(1, 11), E(2, 13), E(3, 15)), QUERIES(Q(2, 17, 2, 15))},
	/* KIP-279: a follower asks for an epoch this leader never had; the
	 * answer is the leader's largest epoch below it, ending where the
	 * leader's next epoch starts. */
	{"shouldReturnNextAvailableEpochIfThereIsNoExactEpochForTheOneRequested (KIP-279)",
	 {A(0, 10, true), A(2, 13, true), A(4, 17, true)}, ENTRIES(E(0, 10), E(2, 13), E(4, 17)),
	 QUERIES(Q(1, 0, 0, 13), Q(2, 0, 2, 17), Q(3, 0, 2, 17))},
	{"shouldNotUpdateEpochAndStartOffsetIfItDidNotChange", {A(2, 6, true), A(2, 7, false)},
	 ENTRIES(E(2, 6))},
	{"shouldReturnInvalidOffsetIfEpochIsRequestedWhichIsNotCurrentlyTracked", {A(2, 100, true)},
	 ENTRIES(E(2, 100)), QUERIES(Q(3, 100, U, UO))},
	{"shouldSupportEpochsThatDoNotStartFromZero", {A(2, 6, true)}, ENTRIES(E(2, 6)),
	 QUERIES(Q(2, 7, 2, 7))},
	{"shouldEnforceMonotonicallyIncreasingEpochs (a lower epoch truncates)",
	 {A(1, 5, true), A(2, 6, true), A(1, 7, true)}, ENTRIES(E(1, 7)),
	 QUERIES(Q(1, 8, 1, 8), Q(2, 8, U, UO))},
	{"shouldEnforceOffsetsIncreaseMonotonically (a lower offset truncates)",
	 {A(2, 6, true), A(3, 5, true)}, ENTRIES(E(3, 5))},
	{"lower epoch between two entries drops the later ones",
	 {A(1, 0, true), A(3, 10, true), A(2, 5, true)}, ENTRIES(E(1, 0), E(2, 5)),
	 QUERIES(Q(1, 7, 1, 5), Q(2, 7, 2, 7), Q(3, 7, U, UO))},
	{"shouldIncreaseAndTrackEpochsAsLeadersChangeManyTimes",
	 {A(0, 0, true), A(1, 0, true), A(2, 5, true)}, ENTRIES(E(1, 0), E(2, 5)),
	 QUERIES(Q(2, 10, 2, 10), Q(1, 10, 1, 5), Q(0, 10, 0, 0))},
	{"shouldIncreaseAndTrackEpochsAsFollowerReceivesManyMessages",
	 {A(0, 0, true), A(0, 1, false), A(0, 2, false), A(1, 3, true), A(1, 4, false),
	  A(1, 5, false), A(2, 6, true), A(2, 7, false), A(2, 8, false)},
	 ENTRIES(E(0, 0), E(1, 3), E(2, 6)),
	 QUERIES(Q(2, 9, 2, 9), Q(0, 9, 0, 3), Q(1, 9, 1, 6))},
	{"negative epoch or offset is ignored (Kafka throws)",
	 {A(2, 6, true), A(-1, 7, false), A(3, -1, false)}, ENTRIES(E(2, 6))},
	{"shouldDropEntriesOnEpochBoundaryWhenRemovingLatestEntries",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TE(8, true)}, ENTRIES(E(2, 6))},
	{"shouldDropEntriesBetweenEpochBoundaryWhenRemovingNewest",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TE(9, true)}, ENTRIES(E(2, 6), E(3, 8))},
	{"truncate from end past the latest start leaves the cache",
	 {A(2, 6, true), A(3, 8, true), TE(12, false)}, ENTRIES(E(2, 6), E(3, 8))},
	{"testPreviousEpoch: truncate from end drops the newest two",
	 {A(2, 10, true), A(4, 15, true), A(10, 20, true), TE(18, true)},
	 ENTRIES(E(2, 10), E(4, 15))},
	{"shouldNotResetEpochHistoryTailIfUndefinedPassed",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TE(UO, false)},
	 ENTRIES(E(2, 6), E(3, 8), E(4, 11))},
	{"shouldPreserveResetOffsetOnClearEarliestIfOneExists",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(8, true)}, ENTRIES(E(3, 8), E(4, 11))},
	{"shouldNotClearAnythingIfOffsetTooEarly",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(1, false)},
	 ENTRIES(E(2, 6), E(3, 8), E(4, 11))},
	{"shouldNotClearAnythingIfOffsetIsFirstOffset",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(6, false)},
	 ENTRIES(E(2, 6), E(3, 8), E(4, 11))},
	{"shouldRetainLatestEpochOnClearAllEarliest",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(11, true)}, ENTRIES(E(4, 11))},
	{"shouldUpdateOffsetBetweenEpochBoundariesOnClearEarliest",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(9, true)}, ENTRIES(E(3, 9), E(4, 11))},
	{"shouldUpdateOffsetBetweenFirstTwoEpochBoundariesOnClearEarliest",
	 {A(0, 0, true), A(1, 7, true), A(2, 10, true), TS(5, true)},
	 ENTRIES(E(0, 5), E(1, 7), E(2, 10))},
	{"shouldRetainLatestEpochOnClearAllEarliestAndUpdateItsOffset",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(15, true)}, ENTRIES(E(4, 15)),
	 QUERIES(Q(3, 20, 3, 15), Q(4, 20, 4, 20))},
	{"shouldNotResetEpochHistoryHeadIfUndefinedPassed",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TS(UO, false)},
	 ENTRIES(E(2, 6), E(3, 8), E(4, 11))},
	{"shouldFetchEndOffsetOfEmptyCache", {{END}}, NO_ENTRIES, QUERIES(Q(7, 0, U, UO))},
	{"shouldClearEarliestOnEmptyCache / shouldClearLatestOnEmptyCache",
	 {TS(7, false), TE(7, false)}, NO_ENTRIES},
	{"shouldWriteCheckpointOnTruncation (both ends)",
	 {A(2, 6, true), A(3, 8, true), A(4, 11, true), TE(11, true), TS(8, true)},
	 ENTRIES(E(3, 8)), QUERIES(Q(3, 9, 3, 9))},
	{"assign after truncation from end continues the history",
	 {A(1, 0, true), A(2, 10, true), TE(10, true), A(3, 7, true)}, ENTRIES(E(1, 0), E(3, 7)),
	 QUERIES(Q(2, 9, 1, 7), Q(1, 9, 1, 7), Q(3, 9, 3, 9))},
};

static const char *op_name(enum op op)
{
	switch (op) {
	case ASSIGN:
		return "assign";
	case TRUNC_END:
		return "truncate_from_end";
	case TRUNC_START:
		return "truncate_from_start";
	default:
		return "?";
	}
}

START_TEST(test_epoch_cache_table)
{
	const epoch_case_t *tc = &cases[_i];
	log_epoch_cache_t c;
	size_t i;

	log_epoch_cache_init(&c);
	for (i = 0; i < MAXN && tc->steps[i].op != END; i++) {
		const step_t *s = &tc->steps[i];
		bool got = false;

		switch (s->op) {
		case ASSIGN:
			got = log_epoch_cache_assign(&c, s->a, s->b);
			break;
		case TRUNC_END:
			got = log_epoch_cache_truncate_from_end(&c, s->b);
			break;
		case TRUNC_START:
			got = log_epoch_cache_truncate_from_start(&c, s->b);
			break;
		default:
			break;
		}
		ck_assert_msg(got == s->changed, "%s: step %zu %s(%d, %lld) returned %d", tc->name,
			      i, op_name(s->op), (int)s->a, (long long)s->b, (int)got);
	}

	ck_assert_msg(c.n == tc->nwant, "%s: %zu entries, want %zu", tc->name, c.n, tc->nwant);
	for (i = 0; i < c.n; i++)
		ck_assert_msg(c.e[i].epoch == tc->want[i].epoch &&
				      c.e[i].start_offset == tc->want[i].start_offset,
			      "%s: entry %zu is (%d, %lld), want (%d, %lld)", tc->name, i,
			      (int)c.e[i].epoch, (long long)c.e[i].start_offset,
			      (int)tc->want[i].epoch, (long long)tc->want[i].start_offset);
	ck_assert_int_eq(log_epoch_cache_latest(&c),
			 tc->nwant ? tc->want[tc->nwant - 1].epoch : LOG_UNDEFINED_EPOCH);

	for (i = 0; i < tc->nq; i++) {
		const query_t *q = &tc->q[i];
		int32_t ep = -42;
		int64_t end = -42;

		log_epoch_cache_end_offset(&c, q->epoch, q->leo, &ep, &end);
		ck_assert_msg(ep == q->want_epoch && end == q->want_end,
			      "%s: end_offset(%d, leo %lld) = (%d, %lld), want (%d, %lld)",
			      tc->name, (int)q->epoch, (long long)q->leo, (int)ep, (long long)end,
			      (int)q->want_epoch, (long long)q->want_end);
	}
	log_epoch_cache_free(&c);
}
END_TEST

/* Many epochs: the cache grows past its first allocation and the binary
 * search agrees with the rule on every epoch, present or missing. */
START_TEST(test_epoch_cache_many_epochs)
{
	log_epoch_cache_t c;
	int32_t e, ep;
	int64_t end;

	log_epoch_cache_init(&c);
	for (e = 0; e < 1000; e += 2)
		ck_assert(log_epoch_cache_assign(&c, e, (int64_t)e * 10));
	ck_assert_uint_eq(c.n, 500);
	for (e = 0; e < 998; e++) {
		int32_t floor_epoch = e - (e % 2);

		log_epoch_cache_end_offset(&c, e, 99999, &ep, &end);
		ck_assert_int_eq(ep, floor_epoch);
		ck_assert_int_eq(end, (int64_t)(floor_epoch + 2) * 10);
	}
	log_epoch_cache_end_offset(&c, 998, 99999, &ep, &end);
	ck_assert_int_eq(ep, 998);
	ck_assert_int_eq(end, 99999);
	log_epoch_cache_end_offset(&c, 999, 99999, &ep, &end);
	ck_assert_int_eq(ep, LOG_UNDEFINED_EPOCH);
	ck_assert_int_eq(end, LOG_UNDEFINED_OFFSET);
	log_epoch_cache_free(&c);
	ck_assert_ptr_null(c.e);
	ck_assert_uint_eq(c.n, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The checkpoint file                                                        */

static char *dir;

static void setup_dir(void)
{
	dir = tt_mkdtemp("epoch");
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

START_TEST(test_epoch_checkpoint_round_trip)
{
	static const char want[] = "0\n3\n2 6\n3 8\n2147483647 9223372036854775807\n";
	char *path = path_in_dir("leader-epoch-checkpoint");
	log_epoch_cache_t c, back;
	char errstr[256] = "";
	uint8_t *data;
	size_t len, i;

	log_epoch_cache_init(&c);
	log_epoch_cache_init(&back);
	log_epoch_cache_assign(&c, 2, 6);
	log_epoch_cache_assign(&c, 3, 8);
	log_epoch_cache_assign(&c, INT32_MAX, INT64_MAX);
	ck_assert_int_eq(log_epoch_cache_write(&c, path), TERN_OK);

	data = tt_read_file(path, &len);
	ck_assert_uint_eq(len, sizeof want - 1);
	ck_assert(memcmp(data, want, len) == 0);
	free(data);

	/* Read replaces whatever the cache held. */
	log_epoch_cache_assign(&back, 50, 500);
	ck_assert_int_eq(log_epoch_cache_read(&back, path, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(back.n, c.n);
	for (i = 0; i < c.n; i++) {
		ck_assert_int_eq(back.e[i].epoch, c.e[i].epoch);
		ck_assert_int_eq(back.e[i].start_offset, c.e[i].start_offset);
	}

	/* An empty cache writes "0\n0\n" and reads back empty. */
	log_epoch_cache_free(&c);
	ck_assert_int_eq(log_epoch_cache_write(&c, path), TERN_OK);
	data = tt_read_file(path, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert(memcmp(data, "0\n0\n", 4) == 0);
	free(data);
	ck_assert_int_eq(log_epoch_cache_read(&back, path, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(back.n, 0);

	log_epoch_cache_free(&back);
	free(path);
}
END_TEST

START_TEST(test_epoch_checkpoint_missing_and_empty_file)
{
	char *path = path_in_dir("leader-epoch-checkpoint");
	log_epoch_cache_t c;
	char errstr[256] = "";

	log_epoch_cache_init(&c);
	log_epoch_cache_assign(&c, 1, 1);
	ck_assert_int_eq(log_epoch_cache_read(&c, path, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(c.n, 0);

	/* Kafka creates its checkpoint files empty before the first write. */
	log_epoch_cache_assign(&c, 1, 1);
	put_file(path, "", 0);
	ck_assert_int_eq(log_epoch_cache_read(&c, path, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(c.n, 0);

	log_epoch_cache_free(&c);
	free(path);
}
END_TEST

/* Equal start offsets are legal in a file; loading goes through assign() as
 * in Kafka, which keeps the last epoch of the run. */
START_TEST(test_epoch_checkpoint_equal_offsets_load_like_kafka)
{
	static const char text[] = "0\n4\n1 5\n2 5\n3 5\n4 9\n";
	char *path = path_in_dir("leader-epoch-checkpoint");
	log_epoch_cache_t c;
	char errstr[256] = "";

	log_epoch_cache_init(&c);
	put_file(path, text, sizeof text - 1);
	ck_assert_int_eq(log_epoch_cache_read(&c, path, errstr, sizeof errstr), TERN_OK);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_int_eq(c.e[0].epoch, 3);
	ck_assert_int_eq(c.e[0].start_offset, 5);
	ck_assert_int_eq(c.e[1].epoch, 4);
	ck_assert_int_eq(c.e[1].start_offset, 9);
	log_epoch_cache_free(&c);
	free(path);
}
END_TEST

typedef struct bad_file {
	const char *what;
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *in_errstr; /* must appear in errstr */
} bad_file_t;

static const bad_file_t bad_files[] = {
	{"version 1", "1\n0\n", 0, ":1: unsupported version (expected 0): '1'"},
	{"version not a number", "v0\n0\n", 0, "'v0'"},
	{"empty version line", "\n0\n", 0, ":1: unsupported version"},
	{"no count line", "0\n", 0, ":1: no count line after the version: '0'"},
	{"count not a number", "0\nx\n", 0, ":2: invalid entry count: 'x'"},
	{"negative count", "0\n-1\n", 0, "'-1'"},
	{"count above the lines", "0\n2\n1 5\n", 0, ":2: the count is 2 but the file has 1 "},
	{"count below the lines", "0\n1\n1 5\n2 6\n", 0, "the count is 1 but the file has 2 "},
	{"last line cut short", "0\n2\n1 5\n2 6", 0,
	 ":4: no newline at the end of the file: '2 6'"},
	{"one field", "0\n1\n1\n", 0, ":3: expected '<epoch> <start offset>': '1'"},
	{"three fields", "0\n1\n1 5 7\n", 0, "'1 5 7'"},
	{"double space", "0\n1\n1  5\n", 0, "'1  5'"},
	{"leading space", "0\n1\n 1 5\n", 0, "' 1 5'"},
	{"trailing space", "0\n1\n1 5 \n", 0, "'1 5 '"},
	{"tab separator", "0\n1\n1\t5\n", 0, "'1?5'"},
	{"CRLF line", "0\n1\n1 5\r\n", 0, "invalid start offset: '1 5?'"},
	{"epoch not a number", "0\n1\nx 5\n", 0, ":3: invalid epoch: 'x 5'"},
	{"offset not a number", "0\n1\n1 5x\n", 0, ":3: invalid start offset: '1 5x'"},
	{"plus sign", "0\n1\n+1 5\n", 0, "invalid epoch: '+1 5'"},
	{"negative epoch", "0\n1\n-1 5\n", 0, "invalid epoch: '-1 5'"},
	{"negative offset", "0\n1\n1 -5\n", 0, "invalid start offset: '1 -5'"},
	{"epoch past int32", "0\n1\n2147483648 5\n", 0, "invalid epoch"},
	{"offset past int64", "0\n1\n1 9223372036854775808\n", 0, "invalid start offset"},
	{"embedded NUL", "0\n1\n1\0 5\n", 9, ":3: invalid epoch: '1? 5'"},
	{"epochs decrease", "0\n2\n2 5\n1 6\n", 0, ":4: epochs do not increase: '1 6'"},
	{"epochs repeat", "0\n2\n2 5\n2 6\n", 0, ":4: epochs do not increase: '2 6'"},
	{"offsets decrease", "0\n2\n1 6\n2 5\n", 0, ":4: start offsets decrease: '2 5'"},
};

START_TEST(test_epoch_checkpoint_rejects_malformed)
{
	const bad_file_t *b = &bad_files[_i];
	char *path = path_in_dir("leader-epoch-checkpoint");
	log_epoch_cache_t c;
	char errstr[256] = "";

	log_epoch_cache_init(&c);
	log_epoch_cache_assign(&c, 7, 70);
	put_file(path, b->text, b->len ? b->len : strlen(b->text));
	ck_assert_msg(log_epoch_cache_read(&c, path, errstr, sizeof errstr) == TERN_ERR__CORRUPT,
		      "%s: not rejected", b->what);
	ck_assert_msg(strstr(errstr, b->in_errstr) != NULL, "%s: errstr \"%s\" lacks \"%s\"",
		      b->what, errstr, b->in_errstr);
	ck_assert_msg(strncmp(errstr, path, strlen(path)) == 0, "%s: errstr \"%s\" lacks the path",
		      b->what, errstr);
	/* On error the cache keeps what it held. */
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(c.e[0].epoch, 7);
	ck_assert_int_eq(c.e[0].start_offset, 70);
	log_epoch_cache_free(&c);
	free(path);
}
END_TEST

static Suite *epoch_suite(void)
{
	Suite *s = suite_create("epoch");
	TCase *tc;

	tc = tcase_create("cache");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_epoch_cache_table, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_epoch_cache_many_epochs);
	suite_add_tcase(s, tc);

	tc = tcase_create("checkpoint");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_epoch_checkpoint_round_trip);
	tcase_add_test(tc, test_epoch_checkpoint_missing_and_empty_file);
	tcase_add_test(tc, test_epoch_checkpoint_equal_offsets_load_like_kafka);
	tcase_add_loop_test(tc, test_epoch_checkpoint_rejects_malformed, 0,
			    (int)(sizeof bad_files / sizeof bad_files[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	tt_require_io_uring();
	return tt_run(epoch_suite());
}
