/* Check suite 'fault': the checker (checker.h) on hand-written histories,
 * one per figure, clean and violating; on a seeded random history built
 * from a model log whose figures are known by construction; and on ten
 * million events (TERN_TEST_SCALE scales it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checker.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Table-driven histories                                                    */

enum { E_END, E_AT, E_ACK, E_FAIL, E_RD, E_DR, E_SK, E_MK };

typedef struct ev {
	int kind;
	int64_t t;
	int32_t session, part;
	int64_t off;
	const char *value;
	int mark;
} ev_t;

#define DRAIN 99
#define AT(t, v)                                                                                   \
	{                                                                                          \
		E_AT, t, 0, 0, 0, v, 0                                                             \
	}
#define ACK(t, p, o, v)                                                                            \
	{                                                                                          \
		E_ACK, t, 0, p, o, v, 0                                                            \
	}
#define FAIL(t, v)                                                                                 \
	{                                                                                          \
		E_FAIL, t, 0, 0, 0, v, 0                                                           \
	}
#define RD(t, s, p, o, v)                                                                          \
	{                                                                                          \
		E_RD, t, s, p, o, v, 0                                                             \
	}
#define DR(t, p, o, v)                                                                             \
	{                                                                                          \
		E_DR, t, DRAIN, p, o, v, 0                                                         \
	}
#define SK(t, s, p, o)                                                                             \
	{                                                                                          \
		E_SK, t, s, p, o, NULL, 0                                                          \
	}
#define MK(t, m)                                                                                   \
	{                                                                                          \
		E_MK, t, 0, 0, 0, NULL, m                                                          \
	}
#define END                                                                                        \
	{                                                                                          \
		E_END, 0, 0, 0, 0, NULL, 0                                                         \
	}

/* Expected figures; -2 in a time: not checked. */
typedef struct want {
	long acked, lost, dup, incons, nonmono, unclean;
	int64_t unavail, unavail_start, elect, shrink, expand;
} want_t;

typedef struct hcase {
	const char *name;
	ev_t ev[24];
	want_t want;
} hcase_t;

#define NT -2 /* time not checked */

static const hcase_t cases[] = {
    {"clean",
     {AT(0, "a"), AT(1, "b"), ACK(2, 0, 0, "a"), ACK(3, 1, 0, "b"), RD(4, 1, 0, 0, "a"),
      RD(5, 1, 1, 0, "b"), DR(6, 0, 0, "a"), DR(7, 1, 0, "b"), END},
     {2, 0, 0, 0, 0, 0, 2, 0, -1, -1, -1}},
    {"lost: acked, never drained",
     {AT(0, "a"), AT(0, "b"), AT(0, "c"), ACK(1, 0, 0, "a"), ACK(1, 0, 1, "b"), ACK(1, 0, 2, "c"),
      DR(5, 0, 0, "a"), DR(5, 0, 2, "c"), END},
     {3, 1, 0, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"lost: read during the run, gone at the drain",
     {AT(0, "a"), ACK(1, 0, 0, "a"), RD(2, 1, 0, 0, "a"), END},
     {1, 1, 0, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"not lost: failed records need not be read",
     {AT(0, "a"), AT(0, "b"), ACK(1, 0, 0, "a"), FAIL(2, "b"), DR(3, 0, 0, "a"), END},
     {1, 0, 0, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"duplicate: one value at two offsets",
     {AT(0, "a"), AT(0, "b"), ACK(1, 0, 0, "a"), ACK(1, 0, 1, "b"), RD(2, 1, 0, 0, "a"),
      RD(2, 1, 0, 1, "b"), RD(2, 1, 0, 2, "b"), DR(3, 0, 0, "a"), DR(3, 0, 1, "b"),
      DR(3, 0, 2, "b"), END},
     {2, 0, 1, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"duplicate: across partitions and sessions",
     {AT(0, "a"), ACK(1, 0, 0, "a"), RD(2, 1, 0, 0, "a"), RD(2, 2, 1, 4, "a"), DR(3, 0, 0, "a"),
      END},
     {1, 0, 1, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"not a duplicate: one offset read twice",
     {AT(0, "a"), ACK(1, 0, 0, "a"), RD(2, 1, 0, 0, "a"), RD(2, 2, 0, 0, "a"), DR(3, 0, 0, "a"),
      DR(3, 0, 0, "a"), END},
     {1, 0, 0, 0, 1, 0, NT, NT, -1, -1, -1}},
    {"inconsistent: two values read at one offset",
     {AT(0, "a"), ACK(1, 0, 0, "a"), RD(2, 1, 0, 0, "a"), RD(2, 2, 0, 0, "z"), DR(3, 0, 0, "a"),
      END},
     {1, 0, 0, 1, 0, 0, NT, NT, -1, -1, -1}},
    {"inconsistent: read differs from the acknowledgement",
     {AT(0, "a"), AT(0, "b"), ACK(1, 0, 0, "a"), ACK(1, 0, 1, "b"), DR(3, 0, 0, "b"),
      DR(3, 0, 1, "a"), END},
     {2, 0, 0, 2, 0, 0, NT, NT, -1, -1, -1}},
    {"inconsistent: acked value read only at another offset",
     {AT(0, "a"), ACK(1, 0, 5, "a"), DR(3, 0, 6, "a"), END},
     {1, 0, 0, 1, 0, 0, NT, NT, -1, -1, -1}},
    {"inconsistent: read before its acknowledgement arrives",
     {AT(0, "a"), RD(1, 1, 0, 3, "a"), ACK(2, 0, 4, "a"), DR(3, 0, 3, "a"), END},
     {1, 0, 0, 1, 0, 0, NT, NT, -1, -1, -1}},
    {"inconsistent: one value acknowledged at two offsets",
     {AT(0, "a"), ACK(1, 0, 0, "a"), ACK(2, 0, 1, "a"), DR(3, 0, 0, "a"), END},
     {1, 0, 0, 1, 0, 0, NT, NT, -1, -1, -1}},
    {"non-monotonic: backwards",
     {RD(1, 1, 0, 0, "a"), RD(2, 1, 0, 1, "b"), RD(3, 1, 0, 2, "c"), RD(4, 1, 0, 1, "b"),
      RD(5, 1, 0, 3, "d"), END},
     {0, 0, 0, 0, 1, 0, NT, NT, -1, -1, -1}},
    {"non-monotonic: every read below the highest counts",
     {RD(1, 1, 0, 5, "a"), RD(2, 1, 0, 3, "b"), RD(3, 1, 0, 4, "c"), RD(4, 1, 0, 6, "d"), END},
     {0, 0, 0, 0, 2, 0, NT, NT, -1, -1, -1}},
    {"non-monotonic: the drain too",
     {DR(1, 0, 0, "a"), DR(2, 0, 1, "b"), DR(3, 0, 0, "a"), END},
     {0, 0, 0, 0, 1, 0, NT, NT, -1, -1, -1}},
    {"monotonic: explicit seeks back",
     {RD(1, 1, 0, 0, "a"), RD(2, 1, 0, 1, "b"), SK(3, 1, 0, 0), RD(4, 1, 0, 0, "a"),
      RD(5, 1, 0, 1, "b"), SK(6, 1, 0, -2), RD(7, 1, 0, 0, "a"), END},
     {0, 0, 0, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"non-monotonic: below a seek's target",
     {RD(1, 1, 0, 0, "a"), SK(2, 1, 0, 5), RD(3, 1, 0, 1, "b"), END},
     {0, 0, 0, 0, 1, 0, NT, NT, -1, -1, -1}},
    {"monotonic: partitions and sessions apart",
     {RD(1, 1, 0, 5, "a"), RD(2, 1, 1, 0, "x"), RD(3, 2, 0, 0, "y"), RD(4, 2, 0, 5, "a"), END},
     {0, 0, 0, 0, 0, 0, NT, NT, -1, -1, -1}},
    {"unclean elections counted",
     {MK(1, CHK_MARK_UNCLEAN), MK(2, CHK_MARK_LEADER), MK(3, CHK_MARK_UNCLEAN), END},
     {0, 0, 0, 0, 0, 2, NT, NT, -1, -1, -1}},
    {"unavailability: a slow acknowledgement",
     {AT(0, "a"), ACK(10, 0, 0, "a"), AT(20, "b"), ACK(1020, 0, 1, "b"), AT(1030, "c"),
      ACK(1040, 0, 2, "c"), DR(2000, 0, 0, "a"), DR(2000, 0, 1, "b"), DR(2000, 0, 2, "c"), END},
     {3, 0, 0, 0, 0, 0, 1000, 20, -1, -1, -1}},
    {"unavailability: ends with the last failure",
     {AT(0, "a"), ACK(5, 0, 0, "a"), AT(10, "b"), FAIL(3010, "b"), AT(3020, "c"),
      ACK(3025, 0, 1, "c"), DR(4000, 0, 0, "a"), DR(4000, 0, 1, "c"), END},
     {2, 0, 0, 0, 0, 0, 3000, 10, -1, -1, -1}},
    {"unavailability: open at the end of the history",
     {AT(0, "a"), ACK(5, 0, 0, "a"), AT(10, "b"), MK(5010, CHK_MARK_HEAL), DR(5010, 0, 0, "a"),
      END},
     {1, 0, 0, 0, 0, 0, 5000, 10, -1, -1, -1}},
    {"unavailability: between acknowledgements of overlapping attempts",
     {AT(0, "a"), AT(1, "b"), ACK(100, 0, 0, "a"), ACK(600, 0, 1, "b"), DR(700, 0, 0, "a"),
      DR(700, 0, 1, "b"), END},
     {2, 0, 0, 0, 0, 0, 500, 100, -1, -1, -1}},
    {"unavailability: idle time does not count",
     {AT(0, "a"), ACK(5, 0, 0, "a"), AT(9000, "b"), ACK(9010, 0, 1, "b"), DR(9100, 0, 0, "a"),
      DR(9100, 0, 1, "b"), END},
     {2, 0, 0, 0, 0, 0, 10, 9000, -1, -1, -1}},
    {"unavailability: appended out of time order",
     {AT(20, "b"), ACK(1020, 0, 1, "b"), AT(0, "a"), ACK(10, 0, 0, "a"), DR(2000, 0, 0, "a"),
      DR(2000, 0, 1, "b"), END},
     {2, 0, 0, 0, 0, 0, 1000, 20, -1, -1, -1}},
    {"fault times: elect, shrink, expand after the heal",
     {MK(500, CHK_MARK_LEADER), MK(1000, CHK_MARK_FAULT), MK(1300, CHK_MARK_ISR_SHRINK),
      MK(1500, CHK_MARK_LEADER), MK(2000, CHK_MARK_ISR_EXPAND), MK(4000, CHK_MARK_HEAL),
      MK(4700, CHK_MARK_ISR_EXPAND), END},
     {0, 0, 0, 0, 0, 0, NT, NT, 500, 300, 700}},
    {"fault times: the slowest of two faults, none elected after the second",
     {MK(1000, CHK_MARK_FAULT), MK(1100, CHK_MARK_LEADER), MK(1200, CHK_MARK_HEAL),
      MK(1250, CHK_MARK_ISR_EXPAND), MK(5000, CHK_MARK_FAULT), MK(5400, CHK_MARK_ISR_SHRINK), END},
     {0, 0, 0, 0, 0, 0, NT, NT, 100, 400, 50}},
};

static chk_history_t *build(const ev_t *ev)
{
	chk_history_t *h = chk_history_new();

	ck_assert_ptr_nonnull(h);
	for (; ev->kind != E_END; ev++) {
		size_t n = ev->value ? strlen(ev->value) : 0;
		tern_err_t err = TERN_OK;

		switch (ev->kind) {
		case E_AT:
			err = chk_attempt(h, ev->t, ev->value, n);
			break;
		case E_ACK:
			err = chk_ack(h, ev->t, ev->part, ev->off, ev->value, n);
			break;
		case E_FAIL:
			err = chk_fail(h, ev->t, ev->value, n, TERN_ERR__MSG_TIMED_OUT);
			break;
		case E_RD:
		case E_DR:
			err = chk_read(h, ev->t, ev->session, ev->kind == E_DR, ev->part, ev->off,
				       ev->value, n);
			break;
		case E_SK:
			err = chk_seek(h, ev->t, ev->session, ev->part, ev->off);
			break;
		case E_MK:
			err = chk_mark(h, ev->t, ev->mark);
			break;
		}
		ck_assert_int_eq(err, TERN_OK);
	}
	return h;
}

static void ck_time(const char *name, const char *what, int64_t got, int64_t want)
{
	if (want != NT)
		ck_assert_msg(got == want, "%s: %s %" PRId64 ", want %" PRId64, name, what, got,
			      want);
}

static void ck_figures(const char *name, const chk_report_t *r, const want_t *w)
{
	ck_assert_msg(r->acked == w->acked, "%s: acked %ld, want %ld", name, r->acked, w->acked);
	ck_assert_msg(r->lost == w->lost, "%s: lost %ld, want %ld", name, r->lost, w->lost);
	ck_assert_msg(r->duplicates == w->dup, "%s: duplicates %ld, want %ld", name, r->duplicates,
		      w->dup);
	ck_assert_msg(r->inconsistent_offsets == w->incons, "%s: inconsistent %ld, want %ld", name,
		      r->inconsistent_offsets, w->incons);
	ck_assert_msg(r->nonmonotonic == w->nonmono, "%s: non-monotonic %ld, want %ld", name,
		      r->nonmonotonic, w->nonmono);
	ck_assert_msg(r->unclean_elections == w->unclean, "%s: unclean %ld, want %ld", name,
		      r->unclean_elections, w->unclean);
	ck_time(name, "max unavailable", r->max_unavailable_ms, w->unavail);
	ck_time(name, "its start", r->max_unavailable_start_ms, w->unavail_start);
	ck_time(name, "time to elect", r->max_elect_ms, w->elect);
	ck_time(name, "time to shrink", r->max_shrink_ms, w->shrink);
	ck_time(name, "time to expand", r->max_expand_ms, w->expand);
}

START_TEST(each_figure_on_a_hand_written_history)
{
	const hcase_t *c = &cases[_i];
	chk_history_t *h = build(c->ev);
	chk_report_t r;
	chk_criteria_t strict = chk_criteria_strict();
	char why[1024];
	bool clean;

	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	ck_figures(c->name, &r, &c->want);
	/* The verdict follows the figures, and names the failing ones. */
	strict.min_acked = 0;
	clean = !c->want.lost && !c->want.dup && !c->want.incons && !c->want.nonmono &&
		!c->want.unclean;
	ck_assert_msg(chk_passes(&r, &strict, why, sizeof why) == clean, "%s: verdict: %s", c->name,
		      why);
	if (c->want.lost)
		ck_assert_ptr_nonnull(strstr(why, "lost"));
	if (c->want.incons)
		ck_assert_ptr_nonnull(strstr(why, "inconsistent_offsets"));
	/* Analysing twice gives the same figures. */
	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	ck_figures(c->name, &r, &c->want);
	chk_history_free(h);
}
END_TEST

START_TEST(leader_changes_and_isr_flaps_are_counted)
{
	/* Two flaps of one ISR and one leader change around a fault. */
	static const ev_t ev[] = {MK(1000, CHK_MARK_FAULT),	 MK(1100, CHK_MARK_ISR_SHRINK),
				  MK(1200, CHK_MARK_ISR_EXPAND), MK(1300, CHK_MARK_ISR_SHRINK),
				  MK(1400, CHK_MARK_LEADER),	 MK(1500, CHK_MARK_HEAL),
				  MK(1600, CHK_MARK_ISR_EXPAND), END};
	chk_history_t *h = build(ev);
	chk_report_t r;
	char buf[2048];

	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	ck_assert_int_eq(r.leader_changes, 1);
	ck_assert_int_eq(r.isr_shrinks, 2);
	ck_assert_int_eq(r.isr_expands, 2);
	ck_assert_int_eq(r.unclean_elections, 0);
	chk_json(&r, NULL, buf, sizeof buf);
	ck_assert_ptr_nonnull(
	    strstr(buf, "\"leader_changes\":1,\"isr_shrinks\":2,\"isr_expands\":2}"));
	chk_summary(&r, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "leader changes 1, ISR shrinks 2, ISR expansions 2"));
	chk_history_free(h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Verdicts, formats, arguments, forgetting                                   */

START_TEST(criteria_choose_which_figures_must_be_zero)
{
	static const ev_t ev[] = {
	    AT(0, "a"),	      ACK(1, 0, 0, "a"),       AT(2, "b"), ACK(3, 0, 1, "b"),
	    DR(4, 0, 0, "a"), MK(5, CHK_MARK_UNCLEAN), END};
	chk_history_t *h = build(ev);
	chk_criteria_t c = {0};
	chk_report_t r;
	char why[512];

	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	ck_assert_int_eq(r.lost, 1);
	ck_assert_int_eq(r.unclean_elections, 1);
	ck_assert(chk_passes(&r, &c, why, sizeof why));
	c.unclean_elections = true;
	ck_assert(!chk_passes(&r, &c, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "unclean_elections 1"));
	ck_assert_ptr_null(strstr(why, "lost"));
	c = (chk_criteria_t){.lost = true};
	ck_assert(!chk_passes(&r, &c, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "lost 1 (first: 'b' acknowledged at 0/1)"));
	c = (chk_criteria_t){.min_acked = 3};
	ck_assert(!chk_passes(&r, &c, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "acked 2 < 3"));
	chk_history_free(h);
}
END_TEST

START_TEST(json_line_and_summary_carry_the_figures)
{
	static const ev_t ev[] = {AT(1000, "a"),
				  ACK(1010, 0, 0, "a"),
				  AT(1020, "b"),
				  ACK(2520, 0, 1, "b"),
				  RD(2600, 1, 0, 1, "b"),
				  RD(2601, 1, 0, 0, "a"),
				  MK(3000, CHK_MARK_FAULT),
				  MK(3250, CHK_MARK_LEADER),
				  DR(4000, 0, 0, "a"),
				  DR(4001, 0, 1, "z"),
				  END};
	chk_history_t *h = build(ev);
	chk_criteria_t strict = chk_criteria_strict();
	chk_report_t r;
	char buf[2048], *mem = NULL;
	size_t memlen = 0;
	FILE *f;
	int n;

	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	n = chk_json(&r, &strict, buf, sizeof buf);
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_ptr_nonnull(strstr(buf,
				     "{\"acked\":2,\"lost\":1,\"duplicates\":0,"
				     "\"inconsistent_offsets\":1,\"nonmonotonic\":1,"
				     "\"unclean_elections\":0,\"max_unavailable_s\":1.500,"
				     "\"max_unavailable_start_s\":0.020,\"time_to_elect_s\":0.250,"
				     "\"time_to_shrink_s\":-1,\"time_to_expand_s\":-1,"
				     "\"faults\":1,"));
	ck_assert_ptr_nonnull(strstr(buf, ",\"pass\":false}"));
	/* A short buffer is cut but the needed length is returned. */
	ck_assert_int_eq(chk_json(&r, &strict, buf, 10), n);
	ck_assert_int_eq(strlen(buf), 9);
	ck_assert_int_eq(chk_json(&r, NULL, NULL, 0), n - (int)strlen(",\"pass\":false"));

	n = chk_summary(&r, buf, sizeof buf);
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_ptr_nonnull(strstr(buf, "lost 1, duplicates 0, inconsistent offsets 1"));
	ck_assert_ptr_nonnull(strstr(buf, "first lost: 'b' acknowledged at 0/1"));
	ck_assert_ptr_nonnull(strstr(buf, "first non-monotonic read: session 1 read 0/0"));
	ck_assert_ptr_nonnull(strstr(buf, "fault 1 at t+2.000 s: elect 0.250 s"));

	f = open_memstream(&mem, &memlen);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(chk_print(&r, &strict, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(mem, "checker: lost 1"));
	ck_assert_ptr_nonnull(strstr(mem, "\n{\"acked\":2,"));
	ck_assert_int_eq(mem[memlen - 1], '\n');
	free(mem);
	chk_history_free(h);
}
END_TEST

START_TEST(appends_refuse_numbers_out_of_range)
{
	chk_history_t *h = chk_history_new();
	const char *v;
	size_t len;

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(chk_ack(h, 0, 0, -1, "a", 1), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_ack(h, 0, -1, 0, "a", 1), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_ack(h, 0, 0, (int64_t)1 << 40, "a", 1), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_read(h, 0, -1, false, 0, 0, "a", 1), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_seek(h, 0, -3, 0, 0), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_mark(h, 0, 0), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_attempt(h, 0, NULL, 3), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(chk_nevents(h), 0);
	/* Values are interned: one id for equal bytes, embedded NULs kept. */
	ck_assert_int_eq(chk_attempt(h, 0, "x\0y", 3), TERN_OK);
	ck_assert_int_eq(chk_ack(h, 1, 0, 0, "x\0y", 3), TERN_OK);
	ck_assert_int_eq(chk_attempt(h, 2, "x", 1), TERN_OK);
	ck_assert_int_eq(chk_event(h, 0)->value, chk_event(h, 1)->value);
	ck_assert_int_ne(chk_event(h, 0)->value, chk_event(h, 2)->value);
	v = chk_value(h, chk_event(h, 1)->value, &len);
	ck_assert_int_eq(len, 3);
	ck_assert_mem_eq(v, "x\0y", 3);
	ck_assert_ptr_null(chk_event(h, 3));
	ck_assert_ptr_null(chk_value(h, 99, NULL));
	chk_history_free(h);
}
END_TEST

START_TEST(forgetting_a_drain_read_loses_its_record)
{
	static const ev_t ev[] = {
	    AT(0, "a"),	      ACK(1, 0, 0, "a"), AT(2, "b"), ACK(3, 0, 1, "b"),
	    DR(4, 0, 0, "a"), DR(5, 0, 1, "b"),	 END};
	chk_history_t *h = build(ev);
	chk_report_t r;

	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	ck_assert_int_eq(r.lost, 0);
	ck_assert_int_eq(r.drain_reads, 2);
	chk_forget(h, 5);
	ck_assert_int_eq(chk_event(h, 5)->kind, CHK_NONE);
	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	ck_assert_int_eq(r.lost, 1);
	ck_assert_int_eq(r.drain_reads, 1);
	ck_assert_int_eq(r.events, 5);
	chk_history_free(h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A random history from a model log                                          */

/* The model: per partition, the log (value numbers); value number k is
 * "s<seed>-p<k % 3>-<k>", or for rogue values "rogue-<k>". */
typedef struct model {
	long **log;
	long *len, *cap;
	int nparts;
} model_t;

static void log_append(model_t *m, int p, long v)
{
	if (m->len[p] == m->cap[p]) {
		m->cap[p] = m->cap[p] ? m->cap[p] * 2 : 1024;
		m->log[p] = realloc(m->log[p], (size_t)m->cap[p] * sizeof **m->log);
		ck_assert_ptr_nonnull(m->log[p]);
	}
	m->log[p][m->len[p]++] = v;
}

/* Appends fail the test without a checkpoint per call (each ck_assert
 * writes one, too slow for millions of events). */
#define OK(call)                                                                                   \
	do {                                                                                       \
		tern_err_t ok_err_ = (call);                                                       \
		if (ok_err_ != TERN_OK)                                                            \
			ck_abort_msg("%s: %s", #call, tern_err_name(ok_err_));                     \
	} while (0)

static size_t value_str(uint64_t seed, long k, char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap, "s%" PRIu64 "-p%ld-%ld", seed, k % 3, k);
}

START_TEST(random_history_from_a_model_log_gives_the_figures_built_in)
{
	const uint64_t seed = tt_seed();
	uint64_t rng = seed ? seed : 1;
	const long nrec = tt_scale(200000);
	model_t m = {0};
	chk_history_t *h = chk_history_new();
	chk_report_t r;
	char v[96];
	size_t n;
	long *ack_part, *ack_off;
	bool *lose;
	long want_acked = 0, want_dup = 0, want_incons = 0, want_nonmono = 0, want_lost = 0;
	long want_unclean, gap_rec;
	int64_t t = 1000, gap, gap_start = -1, t_fault, t_heal;

	ck_assert_ptr_nonnull(h);
	m.nparts = 1 + (int)(tt_rand(&rng) % 4);
	m.log = calloc((size_t)m.nparts, sizeof *m.log);
	m.len = calloc((size_t)m.nparts, sizeof *m.len);
	m.cap = calloc((size_t)m.nparts, sizeof *m.cap);
	ack_part = malloc((size_t)nrec * sizeof *ack_part);
	ack_off = malloc((size_t)nrec * sizeof *ack_off);
	lose = calloc((size_t)nrec, sizeof *lose);
	ck_assert(m.log && m.len && m.cap && ack_part && ack_off && lose);
	gap = 500 + (int64_t)(tt_rand(&rng) % 5000);
	gap_rec = (long)(tt_rand(&rng) % (uint64_t)nrec);

	/* Production: one record at a time; 1 in 50 fails (a third of those
	 * written all the same); record gap_rec waits gap ms for its ack. */
	for (long k = 0; k < nrec; k++) {
		int p = (int)(tt_rand(&rng) % (uint64_t)m.nparts);

		n = value_str(seed, k, v, sizeof v);
		OK(chk_attempt(h, t, v, n));
		ack_part[k] = -1;
		if (tt_rand(&rng) % 50 == 0 && k != gap_rec) {
			if (tt_rand(&rng) % 3 == 0)
				log_append(&m, p, k);
			OK(chk_fail(h, t + 1, v, n, TERN_ERR__MSG_TIMED_OUT));
			t += 2;
			continue;
		}
		ack_part[k] = p;
		ack_off[k] = m.len[p];
		log_append(&m, p, k);
		want_acked++;
		if (k == gap_rec) {
			gap_start = t;
			t += gap;
		} else {
			t += 1;
		}
		OK(chk_ack(h, t, p, ack_off[k], v, n));
		t += 1;
	}

	/* Duplicates: copies of a few acked values appended to the logs (at
	 * offsets no acknowledgement names). */
	for (long d = (long)(tt_rand(&rng) % 6); d > 0; d--) {
		long k = (long)(tt_rand(&rng) % (uint64_t)nrec);

		if (ack_part[k] < 0 || lose[k])
			continue;
		lose[k] = true; /* used: not picked again, nor lost below */
		log_append(&m, (int)(tt_rand(&rng) % (uint64_t)m.nparts), k);
		want_dup++;
	}
	memset(lose, 0, (size_t)nrec * sizeof *lose);

	/* Lost: a few acked records the drain skips (not the duplicated). */
	for (long d = (long)(tt_rand(&rng) % 6); d > 0; d--) {
		long k = (long)(tt_rand(&rng) % (uint64_t)nrec);
		bool copied = false;

		for (int p = 0; p < m.nparts; p++)
			for (long o = 0; o < m.len[p]; o++)
				copied = copied || (m.log[p][o] == k && o != ack_off[k]);
		if (ack_part[k] < 0 || lose[k] || copied)
			continue;
		lose[k] = true;
		want_lost++;
	}

	/* Consumers 1 and 2 read their partitions during the run (times
	 * interleaved with production: appended out of order), going back now
	 * and then, by an explicit seek (fine) or not (counted). */
	for (int p = 0; p < m.nparts; p++) {
		int32_t s = 1 + p % 2;
		int64_t tr = 1000 + (int64_t)(tt_rand(&rng) % 1000);

		for (long o = 0; o < m.len[p]; o++) {
			uint64_t dice = tt_rand(&rng) % 2000;

			n = value_str(seed, m.log[p][o], v, sizeof v);
			OK(chk_read(h, tr++, s, false, p, o, v, n));
			if (o > 0 && dice == 0) { /* back without a seek */
				long b =
				    o - 1 - (long)(tt_rand(&rng) % (uint64_t)(o < 100 ? o : 100));

				n = value_str(seed, m.log[p][b], v, sizeof v);
				OK(chk_read(h, tr++, s, false, p, b, v, n));
				want_nonmono++;
			} else if (o > 0 && dice == 1) { /* back by a seek: reread */
				long b =
				    o - 1 - (long)(tt_rand(&rng) % (uint64_t)(o < 100 ? o : 100));

				OK(chk_seek(h, tr++, s, p, b));
				for (long q = b; q <= o; q++) {
					n = value_str(seed, m.log[p][q], v, sizeof v);
					OK(chk_read(h, tr++, s, false, p, q, v, n));
				}
			}
		}
	}

	/* Inconsistent: rogue values read at distinct positions of the log,
	 * each by a session of its own. */
	for (long c = (long)(tt_rand(&rng) % 6), k = 0; c > 0; c--, k++) {
		int p = (int)(tt_rand(&rng) % (uint64_t)m.nparts);
		long o;

		if (m.len[p] == 0)
			continue;
		o = (long)(tt_rand(&rng) % (uint64_t)m.len[p]);
		if (m.log[p][o] < 0) /* already rogue */
			continue;
		m.log[p][o] = -1 - m.log[p][o];
		n = (size_t)snprintf(v, sizeof v, "rogue-%ld", k);
		OK(chk_read(h, t, 100 + (int32_t)k, false, p, o, v, n));
		want_incons++;
	}

	/* Marks: unclean elections and one fault with known times. */
	want_unclean = (long)(tt_rand(&rng) % 4);
	for (long u = 0; u < want_unclean; u++)
		OK(chk_mark(h, 2000 + u, CHK_MARK_UNCLEAN));
	t_fault = 1500 + (int64_t)(tt_rand(&rng) % 1000);
	t_heal = t_fault + 5000;
	OK(chk_mark(h, t_fault, CHK_MARK_FAULT));
	OK(chk_mark(h, t_fault + 123, CHK_MARK_ISR_SHRINK));
	OK(chk_mark(h, t_fault + 456, CHK_MARK_LEADER));
	OK(chk_mark(h, t_heal, CHK_MARK_HEAL));
	OK(chk_mark(h, t_heal + 789, CHK_MARK_ISR_EXPAND));

	/* The drain (session 50) reads every log but the lost records. */
	t += 10;
	for (int p = 0; p < m.nparts; p++) {
		for (long o = 0; o < m.len[p]; o++) {
			long k = m.log[p][o] < 0 ? -1 - m.log[p][o] : m.log[p][o];

			if (lose[k])
				continue;
			n = value_str(seed, k, v, sizeof v);
			OK(chk_read(h, t++, 50, true, p, o, v, n));
		}
	}

	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	fprintf(stderr,
		"model: %ld records, %d partitions, %ld events: want lost %ld dup %ld incons %ld "
		"nonmono %ld unclean %ld gap %" PRId64 "\n",
		nrec, m.nparts, r.events, want_lost, want_dup, want_incons, want_nonmono,
		want_unclean, gap);
	{
		want_t w = {want_acked,	  want_lost,	want_dup, want_incons,
			    want_nonmono, want_unclean, gap,	  gap_start,
			    456,	  123,		789};

		ck_figures("model", &r, &w);
	}
	ck_assert_int_eq(r.attempted, nrec);
	ck_assert_int_eq(r.failed, nrec - want_acked);
	for (int p = 0; p < m.nparts; p++)
		free(m.log[p]);
	free(m.log);
	free(m.len);
	free(m.cap);
	free(ack_part);
	free(ack_off);
	free(lose);
	chk_history_free(h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Ten million events                                                        */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(ten_million_events)
{
	const long nrec = tt_scale(2500000); /* four events each */
	chk_history_t *h = chk_history_new();
	chk_report_t r;
	char v[64];
	double t0, t1, t2;

	ck_assert_ptr_nonnull(h);
	t0 = now_s();
	for (long k = 0; k < nrec; k++) {
		size_t n = (size_t)snprintf(v, sizeof v, "s42-p%ld-%ld", k % 4, k);
		int32_t p = (int32_t)(k % 8);

		OK(chk_attempt(h, k, v, n));
		OK(chk_ack(h, k + 1, p, k / 8, v, n));
		OK(chk_read(h, k + 2, p % 3, false, p, k / 8, v, n));
		OK(chk_read(h, nrec + k, 9, true, p, k / 8, v, n));
	}
	t1 = now_s();
	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	t2 = now_s();
	fprintf(stderr, "%ld events: appended in %.2f s, analysed in %.2f s\n", r.events, t1 - t0,
		t2 - t1);
	ck_assert_int_eq(r.events, 4 * nrec);
	ck_assert_int_eq(r.acked, nrec);
	ck_assert_int_eq(r.lost + r.duplicates + r.inconsistent_offsets + r.nonmonotonic, 0);
	ck_assert_int_eq(r.max_unavailable_ms, 1);
	chk_history_free(h);
}
END_TEST

static Suite *checker_suite(void)
{
	Suite *s = suite_create("checker");
	TCase *tc = tcase_create("histories");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, each_figure_on_a_hand_written_history, 0,
			    (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, criteria_choose_which_figures_must_be_zero);
	tcase_add_test(tc, json_line_and_summary_carry_the_figures);
	tcase_add_test(tc, leader_changes_and_isr_flaps_are_counted);
	tcase_add_test(tc, appends_refuse_numbers_out_of_range);
	tcase_add_test(tc, forgetting_a_drain_read_loses_its_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, random_history_from_a_model_log_gives_the_figures_built_in);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 50);
	tcase_add_test(tc, ten_million_events);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	tt_seed();
	return tt_run(checker_suite());
}
