/* Check suite 'fault': the workload (workload.h) against a real 3-broker
 * loopback cluster (tests/cluster/cluster_util.h): two idempotent acks=all
 * producers and two consumers for about ten seconds, a kill -9 of a
 * partition leader in the middle and its restart, the drain, and the
 * checker's figures: nothing lost, duplicated or inconsistent. Then a
 * negative control on the same real history: one acknowledged record
 * removed from the drain reads must count as lost. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "cluster_util.h"
#include "tclient.h"
#include "testutil.h"
#include "workload.h"

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

static cu_cluster_t cl;

static void teardown(void)
{
	cu_fini(&cl);
}

/* Removes every drain read of the first acknowledged value; returns that
 * value (borrowed from h). */
static const char *forget_one_acked(chk_history_t *h)
{
	uint32_t v = UINT32_MAX;
	int forgotten = 0;

	for (size_t i = 0; i < chk_nevents(h) && v == UINT32_MAX; i++)
		if (chk_event(h, i)->kind == CHK_ACK)
			v = chk_event(h, i)->value;
	ck_assert_msg(v != UINT32_MAX, "no acknowledgement in the history");
	for (size_t i = 0; i < chk_nevents(h); i++) {
		const chk_event_t *e = chk_event(h, i);

		if (e->kind == CHK_READ && e->drain && e->value == v) {
			chk_forget(h, i);
			forgotten++;
		}
	}
	ck_assert_int_ge(forgotten, 1);
	return chk_value(h, v, NULL);
}

START_TEST(kill_9_of_a_leader_under_the_workload_loses_nothing)
{
	const int mult = cu_mult();
	chk_criteria_t strict = chk_criteria_strict();
	chk_history_t *h = chk_history_new();
	char why[1024], log_path[2048];
	chk_report_t r;
	cu_part_t st;
	wl_opts_t o;
	long per_5s, before;
	wl_t *w;

	ck_assert_ptr_nonnull(h);
	cu_init(&cl, 3, "wl");
	cu_start(&cl);
	cu_create_topic(&cl, "wl", 3, 3, KV("min.insync.replicas=2"), 1);

	wl_opts_default(&o);
	o.bootstrap = cl.bootstrap;
	o.topic = "wl";
	o.partitions = 3;
	o.producers = 2;
	o.consumers = 2;
	o.rate = 100;
	o.seed = tt_seed();
	snprintf(log_path, sizeof log_path, "%s/client.log", cl.dir);
	o.log_path = log_path;
	w = wl_new(&o, h, why, sizeof why);
	ck_assert_msg(w != NULL, "%s", why);
	ck_assert_msg(wl_start(w, why, sizeof why) == 0, "%s", why);

	/* About five seconds of records, then the fault. */
	per_5s = 5L * o.rate * o.producers;
	ck_assert_msg(wl_wait_acked(w, per_5s, 60000 * mult) == 0,
		      "%ld acknowledged of %ld attempted (%ld failed)", wl_acked(w),
		      wl_attempted(w), wl_failed(w));
	st = cu_wait_isr_size(&cl, "wl", 0, 3);
	fprintf(stderr, "kill -9 broker %d, leader of wl-0 (epoch %d), after %ld acks\n", st.leader,
		st.leader_epoch, wl_acked(w));
	wl_mark(w, CHK_MARK_FAULT);
	cu_broker_kill(&cl, st.leader);
	cu_wait_leader(&cl, "wl", 0, st.leader, st.leader_epoch);
	wl_mark(w, CHK_MARK_LEADER);
	cu_wait_isr_has(&cl, "wl", 0, st.leader, false);
	wl_mark(w, CHK_MARK_ISR_SHRINK);
	cu_broker_start(&cl, st.leader);
	wl_mark(w, CHK_MARK_HEAL);
	cu_wait_isr_size(&cl, "wl", 0, 3);
	wl_mark(w, CHK_MARK_ISR_EXPAND);

	/* About five seconds more, then stop, drain and check. */
	before = wl_acked(w);
	ck_assert_msg(wl_wait_acked(w, before + per_5s, 60000 * mult) == 0,
		      "%ld acknowledged after the restart, of %ld attempted (%ld failed)",
		      wl_acked(w) - before, wl_attempted(w), wl_failed(w));
	ck_assert_msg(wl_stop(w, 60000 * mult, why, sizeof why) == 0, "%s", why);
	ck_assert_msg(wl_drain(w, 60000 * mult, why, sizeof why) == 0, "%s", why);
	ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
	chk_print(&r, &strict, stderr);
	ck_assert_msg(chk_passes(&r, &strict, why, sizeof why), "%s", why);
	ck_assert_int_gt(r.acked, 2 * per_5s - 1);
	ck_assert_int_eq(r.lost, 0);
	ck_assert_int_eq(r.duplicates, 0);
	ck_assert_int_eq(r.inconsistent_offsets, 0);
	ck_assert_int_gt(r.drain_reads, 0);
	ck_assert_int_eq(r.nfaults, 1);

	/* The negative control: the checker fails on this real history. */
	{
		const char *v = forget_one_acked(h);

		ck_assert_int_eq(chk_analyse(h, &r), TERN_OK);
		ck_assert_int_eq(r.lost, 1);
		ck_assert_ptr_nonnull(strstr(r.ex_lost, v));
		ck_assert(!chk_passes(&r, &strict, why, sizeof why));
		fprintf(stderr, "negative control: %s\n", why);
	}
	wl_free(w);
	chk_history_free(h);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("workload");
	TCase *tc = tcase_create("kill_leader");
	int rc;

	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	tt_seed();
	cu_root_init();
	/* One test per TCase: the unchecked teardown reaps what a failed test
	 * left (cluster_util.h). */
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_unchecked_fixture(tc, NULL, cu_reap_leftovers);
	tcase_set_timeout(tc, 110);
	tcase_add_test(tc, kill_9_of_a_leader_under_the_workload_loses_nothing);
	suite_add_tcase(s, tc);
	rc = tt_run(s);
	cu_root_fini();
	return rc;
}
