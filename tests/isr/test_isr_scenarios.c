/* tests/isr/test_isr_scenarios.c: the classic replication failures of
 * Kafka's history, replayed step by step on a simulated cluster driven
 * through isr/, each showing the rule that stops it (docs/replication.md
 * tells the stories). After every scenario, and at the points that
 * matter, cl_check() verifies the safety invariants. */
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "testutil.h"

#define LAG 1000

static isr_config_t cfg_make(int32_t min_insync, isr_flush_policy_t flush, bool unclean, bool elr)
{
	isr_config_t c;

	isr_config_default(&c);
	c.min_insync = min_insync;
	c.flush = flush;
	c.lag_time_max_ms = LAG;
	c.unclean_election = unclean;
	c.eligible_leader_replicas = elr;
	return c;
}

static void check(cluster_t *cl)
{
	if (!cl_check(cl)) {
		cl_dump(cl);
		ck_abort_msg("invariant: %s", cl->err);
	}
}

/* AlterPartition requests and answers, then metadata, everywhere. */
static void settle(cluster_t *cl)
{
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < cl->n; i++)
			cl_deliver_alter(cl, i);
		for (int i = 0; i < cl->n; i++)
			cl_deliver_alter_resp(cl, i);
		cl_deliver_all(cl);
	}
}

/* Every follower in followers (a bit mask) fetches, rounds times, with the
 * ISR changes settled in between. */
static void fetch_rounds(cluster_t *cl, unsigned followers, int rounds)
{
	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < cl->n; i++)
			if (followers & (1u << i))
				cl_fetch(cl, i, 1000, false);
		settle(cl);
	}
}

static uint64_t produce(cluster_t *cl, int id, int16_t acks)
{
	uint64_t v = 0;

	ck_assert_int_eq(cl_produce(cl, id, acks, 60000, &v), TERN_OK);
	return v;
}

/* Time passes in steps of step ms, up to total; followers keep fetching. */
static void pass_time(cluster_t *cl, int64_t total, int64_t step, unsigned followers)
{
	for (int64_t t = 0; t < total; t += step) {
		cl_advance(cl, step);
		fetch_rounds(cl, followers, 1);
	}
}

static int64_t acked_count(const cluster_t *cl)
{
	return (int64_t)cl->nacked;
}

static bool holds_all_acked(const cluster_t *cl, int id)
{
	for (size_t i = 0; i < cl->nacked; i++)
		if (!cl_has(cl, id, cl->acked[i].offset, cl->acked[i].value))
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */

/* KIP-101. B has both records but its HWM (1) lags the leader's (2): the
 * answer that would have told it 2 was lost when B restarted. Old Kafka
 * truncated B to its HWM on restart, dropping offset 1; A then died, B was
 * elected and the acknowledged record was gone. B now asks A where epoch 1
 * ends and keeps everything A has. */
START_TEST(test_kip101_hwm_truncation)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC, false, false);
	cluster_t cl;
	uint64_t v2;

	cl_init(&cl, 2, &cfg);
	produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x2, 2);
	v2 = produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, true), TERN_OK); /* the answer is lost */
	ck_assert_int_eq(cl.node[0].p.hwm, 2);
	ck_assert_int_eq(acked_count(&cl), 2);
	cl_flush(&cl, 1);
	ck_assert_int_eq(cl.node[1].p.hwm, 1);
	check(&cl);

	/* B restarts at once (its session never expires); under sync it
	 * keeps its ISR place. Its HWM checkpoint says 1. */
	cl_crash(&cl, 1, -1, false);
	cl_restart(&cl, 1);
	ck_assert_int_eq(cl.node[1].p.hwm, 1);
	ck_assert_uint_eq(cl.ctl.isr.n, 2);
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
	ck_assert(cl_has(&cl, 1, 1, v2)); /* truncating to the HWM would have dropped it */

	cl_crash(&cl, 0, -1, true);
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_leader(&cl), 1);
	ck_assert(holds_all_acked(&cl, 1));
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* KIP-279. Leaders change twice in quick succession: B (epoch 2) wrote
 * offset 1, which A never saw; A, elected for epoch 3, holds epoch 1 there.
 * Asked about epoch 2, old Kafka's A answered with the start of its next
 * epoch (2), so B kept its epoch-2 record next to A's epoch-1 record at the
 * same offset. A now answers with its largest epoch <= 2 (epoch 1, ending
 * at 2); B lacks nothing of epoch 1 but ends it at 1, and truncates there. */
START_TEST(test_kip279_fast_leader_changes)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC, false, true);
	cluster_t cl;
	uint64_t v2, v3;

	cl_init(&cl, 2, &cfg);
	produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x2, 2);
	v2 = produce(&cl, 0, 1); /* A only */
	cl_flush(&cl, 0);

	cl_crash(&cl, 0, -1, true); /* B leads epoch 2 */
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_leader(&cl), 1);
	ck_assert_int_eq(cl.ctl.leader_epoch, 2);
	v3 = produce(&cl, 1, 1); /* B only, at offset 1 */
	cl_flush(&cl, 1);
	ck_assert(cl_has(&cl, 1, 1, v3));

	cl_restart(&cl, 0);
	cl_crash(&cl, 1, -1, true); /* A leads epoch 3, from the ELR */
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_leader(&cl), 0);
	ck_assert_int_eq(cl.ctl.leader_epoch, 3);
	ck_assert(cl_has(&cl, 0, 1, v2));

	cl_restart(&cl, 1);
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
	ck_assert(cl_has(&cl, 1, 1, v2));
	ck_assert_int_eq(cl.node[1].len, 2);
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* KAFKA-7128. A new leader's HWM (7) lags the old leader's (10): records
 * 7..9 were acknowledged. C, at 7, has reached the new leader's HWM; had it
 * joined the ISR there, and the new leader died, C would have been elected
 * without 7..9. C joins only once it reaches the epoch start (10). */
START_TEST(test_kafka7128_expand_before_epoch_start)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC, false, false);
	cluster_t cl;
	int64_t latest;

	cl_init(&cl, 3, &cfg);
	for (int i = 0; i < 4; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x6, 2);
	ck_assert_int_eq(cl.node[0].p.hwm, 4);
	for (int i = 0; i < 6; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	ck_assert_int_eq(cl_fetch(&cl, 2, 3, false), TERN_OK); /* C gets 4..6 */
	ck_assert_int_eq(cl_fetch(&cl, 2, 0, false), TERN_OK); /* and says so */
	fetch_rounds(&cl, 0x2, 2);
	ck_assert_int_eq(cl.node[0].p.hwm, 7);
	/* C stops; B keeps fetching; C leaves the ISR; the HWM reaches 10. B
	 * never hears of it: its answers are lost. */
	for (int t = 0; t < 4; t++) {
		cl_advance(&cl, LAG / 2 + 1);
		cl_fetch(&cl, 1, 100, true);
		settle(&cl);
	}
	ck_assert_uint_eq(cl.ctl.isr.n, 2);
	ck_assert_int_eq(cl.node[0].p.hwm, 10);
	ck_assert_int_eq(acked_count(&cl), 10);
	ck_assert_int_eq(cl.node[1].p.hwm, 7);

	cl_crash(&cl, 0, -1, true); /* B leads epoch 2 from offset 10 */
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_leader(&cl), 1);
	ck_assert_int_eq(cl.node[1].p.epoch_start, 10);
	ck_assert_int_eq(isr_list_latest(&cl.node[1].p, 2, &latest), TERN_ERR_OFFSET_NOT_AVAILABLE);
	ck_assert_int_eq(cl_fetch(&cl, 2, 2, false), TERN_OK); /* C at 7, gets 7..8 */
	ck_assert_int_eq(cl_fetch(&cl, 2, 0, false), TERN_OK); /* C at 9 >= HWM 7 */
	ck_assert(!cl.node[1].alter_out);		       /* below the epoch start */

	/* Had C joined, this would lose 7..9: B dies. C is no ISR member, so
	 * the partition waits for B. */
	cl_crash(&cl, 1, -1, true);
	ck_assert_int_eq(cl.ctl.leader, ISR_NO_LEADER);
	ck_assert_int_eq(isr_ctl_mode(&cl.ctl), ISR_MODE_OFFLINE);
	cl_restart(&cl, 1);
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_leader(&cl), 1);
	ck_assert(holds_all_acked(&cl, 1));
	fetch_rounds(&cl, 0x5, 4);
	ck_assert(isr_set_contains(&cl.ctl.isr, 2));
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* DESIGN.md decision 10. The leader loses its unsynced tail (5..9, which B
 * already copied) and restarts before the controller notices. Resuming
 * epoch 1, it would write other records at 5..9 under the same epoch; B,
 * asking about epoch 1, would hear "it ends at 10" and keep its own 5..9.
 * The restart gives it epoch 2, so epoch 1 ends at 5 and B truncates. */
START_TEST(test_same_epoch_restart)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC, false, false);
	isr_epoch_entry_t view[1] = {{1, 0}};
	isr_reconcile_t r;
	cluster_t cl;
	uint64_t x[5];

	cl_init(&cl, 2, &cfg);
	for (int i = 0; i < 5; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x2, 2);
	for (int i = 0; i < 5; i++)
		produce(&cl, 0, 1); /* not yet fsynced: not answered */
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
	ck_assert_int_eq(cl.node[1].len, 10);

	cl_crash(&cl, 0, 0, false); /* power loss: 5..9 gone */
	ck_assert_int_eq(cl.node[0].len, 5);
	cl_restart(&cl, 0);
	ck_assert_int_eq(cl.ctl.leader, 0);
	ck_assert_int_eq(cl.ctl.leader_epoch, 2);
	for (int i = 0; i < 5; i++)
		x[i] = produce(&cl, 0, -1);
	cl_flush(&cl, 0);

	/* What the same epoch would have told B: keep 5..9. */
	ck_assert_int_eq(isr_reconcile_step(view, 1, 10, 1, 1, 10, &r), TERN_OK);
	ck_assert(r.done);
	ck_assert_int_eq(r.truncate_to, 10);

	cl_deliver_all(&cl);
	fetch_rounds(&cl, 0x2, 3);
	for (int i = 0; i < 5; i++)
		ck_assert(cl_has(&cl, 1, 5 + i, x[i]));
	ck_assert_int_eq(cl.node[0].p.hwm, 10);
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* TESTING.md #11, "last replica standing", async. The ISR shrinks to the
 * leader alone (its acks=all writes are refused from then on: 19), then the
 * leader loses power and everything it never fsynced. */
static void last_replica_standing(cluster_t *cl, bool elr, bool unclean)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_ASYNC, unclean, elr);

	cl_init(cl, 3, &cfg);
	for (int i = 0; i < 5; i++)
		produce(cl, 0, -1);
	fetch_rounds(cl, 0x6, 2);
	for (int i = 0; i < 3; i++)
		produce(cl, 0, -1);
	pass_time(cl, 2 * LAG, LAG / 4, 0x2); /* C stops fetching: dropped */
	ck_assert_uint_eq(cl->ctl.isr.n, 2);
	ck_assert_int_eq(acked_count(cl), 8);
	produce(cl, 0, 1);
	pass_time(cl, 2 * LAG, LAG / 4, 0); /* B stops too: dropped */
	ck_assert_uint_eq(cl->ctl.isr.n, 1);
	ck_assert_int_eq(isr_ctl_mode(&cl->ctl), ISR_MODE_FLOOR);
	ck_assert_int_eq(cl_produce(cl, 0, -1, 1000, NULL), TERN_ERR_NOT_ENOUGH_REPLICAS);
	ck_assert_int_eq(cl->ctl.elr.n, elr ? 1 : 0);
	check(cl);
	cl_crash(cl, 0, 0, true);
	ck_assert_int_eq(cl->node[0].len, 0);
}

START_TEST(test_last_replica_standing_elr)
{
	cluster_t cl;

	last_replica_standing(&cl, true, false);
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_leader(&cl), 1); /* from the ELR: clean */
	ck_assert_int_eq(cl.unclean, false);
	ck_assert(holds_all_acked(&cl, 1));
	cl_restart(&cl, 0); /* unclean, async: not eligible, follows */
	fetch_rounds(&cl, 0x5, 4);
	ck_assert(holds_all_acked(&cl, 0));
	check(&cl);
	cl_fini(&cl);
}
END_TEST

START_TEST(test_last_replica_standing_no_elr)
{
	cluster_t cl;

	last_replica_standing(&cl, false, false);
	ck_assert_int_eq(cl.ctl.leader, ISR_NO_LEADER);
	cl_restart(&cl, 0); /* it lost its data: it leaves the ISR */
	ck_assert_int_eq(cl.ctl.isr.n, 0);
	ck_assert_int_eq(cl.ctl.leader, ISR_NO_LEADER);
	ck_assert_int_eq(isr_ctl_mode(&cl.ctl), ISR_MODE_OFFLINE);
	ck_assert(holds_all_acked(&cl, 1)); /* unavailable, not lost */
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* Unclean election allowed: the first live replica, 1, is elected at once;
 * counted, reported, and here it happens to hold what was acknowledged. */
START_TEST(test_last_replica_standing_unclean)
{
	cluster_t cl;

	last_replica_standing(&cl, false, true);
	ck_assert(cl.unclean);
	ck_assert_int_eq(cl.ctl.unclean_elections, 1);
	ck_assert_int_eq(cl.ctl.leader, 1);
	ck_assert(cl.ctl.recovering);
	cl_deliver_all(&cl);
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* KAFKA-4485. One small write every 100 ms, lag time 1 s: the follower
 * never fetches at the leader's LEO of the moment, since a new record lands
 * between its fetches. With only "fetch offset >= LEO now" it would never be
 * caught up and would leave the ISR every second; the two-step rule sees
 * that it had, each time, the LEO of its previous fetch. */
START_TEST(test_kafka4485_no_flapping)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_ASYNC, false, false);
	cluster_t cl;

	cl_init(&cl, 2, &cfg);
	for (int i = 0; i < 100; i++) {
		cl_advance(&cl, 100);
		produce(&cl, 0, 1);
		ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
		ck_assert_int_lt(cl.node[1].len - 1, cl.node[0].len); /* behind on each fetch */
		ck_assert(!cl.node[0].alter_out);
		ck_assert_int_ge(cl.node[0].p.r[1].last_caught_up_ms, cl.now - 200);
	}
	ck_assert_uint_eq(cl.node[0].p.counters.shrinks_proposed, 0);
	ck_assert_uint_eq(cl.node[0].p.isr.n, 2);
	/* A follower that really stops is dropped after the lag time. */
	pass_time(&cl, 2 * LAG, 100, 0);
	ck_assert_uint_eq(cl.ctl.isr.n, 1);
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* acks=all answers: 19 before anything is written, 7 when the HWM never
 * gets there, 20 when the ISR fell below min.insync by the time the HWM
 * passed the write, 6 when leadership ends first. */
START_TEST(test_acks_all_errors)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC, false, false);
	cluster_t cl;
	uint64_t v;
	int64_t len;

	cl_init(&cl, 3, &cfg);
	/* 7: B and C alive but silent. */
	ck_assert_int_eq(cl_produce(&cl, 0, -1, 500, NULL), TERN_OK);
	cl_flush(&cl, 0);
	cl_advance(&cl, 499);
	ck_assert_uint_eq(cl.n_7, 0);
	cl_advance(&cl, 1);
	ck_assert_uint_eq(cl.n_7, 1);
	fetch_rounds(&cl, 0x6, 2);
	/* 20: a write whose waiter is registered after the HWM passed it and
	 * the ISR shrank below min.insync. */
	ck_assert_int_eq(cl_produce(&cl, 0, 1, 500, &v), TERN_OK);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x6, 2);
	len = cl.node[0].len;
	ck_assert_int_eq(cl.node[0].p.hwm, len);
	cl_crash(&cl, 1, -1, true);
	cl_crash(&cl, 2, -1, true);
	cl_deliver_all(&cl);
	ck_assert_int_eq(cl_wait_late(&cl, 0, v, len, 500), TERN_OK);
	ck_assert_uint_eq(cl.n_20, 1);
	/* 19: nothing is written. */
	ck_assert_int_eq(cl_produce(&cl, 0, -1, 500, NULL), TERN_ERR_NOT_ENOUGH_REPLICAS);
	ck_assert_int_eq(cl.node[0].len, len);
	ck_assert_uint_eq(cl.n_19, 1);
	/* 6: pending when the leader steps down. */
	cl_restart(&cl, 1);
	fetch_rounds(&cl, 0x2, 3);
	ck_assert_int_eq(cl_produce(&cl, 0, -1, 5000, NULL), TERN_OK);
	cl_shutdown(&cl, 0);
	ck_assert_uint_eq(cl.n_6, 1);
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* TESTING.md #12. The only ISR member (the leader, min.insync 1) dies; an
 * out-of-sync replica is alive. Off: the partition stays offline until the
 * leader returns, and nothing is lost. On: the live replica leads at once,
 * the ISR is just it, the partition is recovering, the election is counted,
 * and the records it lacked are gone; the old leader truncates them when it
 * returns as a follower. */
static void unclean_case(bool unclean)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC, unclean, false);
	cluster_t cl;

	cl_init(&cl, 3, &cfg);
	for (int i = 0; i < 3; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x6, 2);
	produce(&cl, 0, 1);
	cl_flush(&cl, 0);
	pass_time(&cl, 2 * LAG, LAG / 4, 0); /* B and C stop */
	ck_assert_uint_eq(cl.ctl.isr.n, 1);
	for (int i = 0; i < 4; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	ck_assert_int_eq(acked_count(&cl), 7);
	cl_crash(&cl, 0, -1, true);
	cl_deliver_all(&cl);
	if (!unclean) {
		ck_assert_int_eq(cl.ctl.leader, ISR_NO_LEADER);
		ck_assert_int_eq(isr_ctl_mode(&cl.ctl), ISR_MODE_OFFLINE);
		cl_restart(&cl, 0);
		ck_assert_int_eq(cl_leader(&cl), 0);
		ck_assert(holds_all_acked(&cl, 0));
		check(&cl);
		cl_fini(&cl);
		return;
	}
	ck_assert(cl.unclean);
	ck_assert_int_eq(cl_leader(&cl), 1);
	ck_assert_uint_eq(cl.ctl.isr.n, 1);
	ck_assert_int_eq(isr_ctl_mode(&cl.ctl), ISR_MODE_RECOVERY);
	ck_assert_uint_eq(cl.ctl.unclean_elections, 1);
	ck_assert(!holds_all_acked(&cl, 1)); /* the loss an unclean election risks */
	produce(&cl, 1, -1);
	cl_restart(&cl, 0);
	fetch_rounds(&cl, 0x5, 4);
	ck_assert_int_eq(cl.node[0].len, cl.node[1].len);
	for (int64_t o = 0; o < cl.node[1].len; o++)
		ck_assert(cl_has(&cl, 0, o, cl.node[1].log[o].value));
	ck_assert(!cl.ctl.recovering);
	check(&cl);
	cl_fini(&cl);
}

START_TEST(test_unclean_off)
{
	unclean_case(false);
}
END_TEST

START_TEST(test_unclean_on)
{
	unclean_case(true);
}
END_TEST

/* KAFKA-15583 / KIP-966: strict min-ISR. With the ISR at the leader alone
 * (min.insync 2) acks=1 writes still go in, but the HWM stays: consumers
 * must not read what a single power loss could take back. They become
 * readable once a second replica has them and is in the ISR. */
START_TEST(test_kafka15583_strict_min_isr)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_ASYNC, false, false);
	cluster_t cl;

	cl_init(&cl, 3, &cfg);
	cl_crash(&cl, 1, -1, true);
	cl_crash(&cl, 2, -1, true);
	cl_deliver_all(&cl);
	for (int i = 0; i < 5; i++)
		produce(&cl, 0, 1);
	ck_assert_int_eq(cl.node[0].p.hwm, 0);
	cl_restart(&cl, 1);
	cl_deliver_all(&cl); /* the leader learns 1's new registration */
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
	ck_assert_int_eq(cl_fetch(&cl, 1, 100, false), TERN_OK);
	ck_assert(cl.node[0].alter_out); /* 1 joins: pending */
	ck_assert_int_eq(cl.node[0].p.hwm, 0);
	settle(&cl);
	ck_assert_uint_eq(cl.ctl.isr.n, 2);
	ck_assert_int_eq(cl.node[0].p.hwm, 5);
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* TESTING.md #6, the zombie leader: cut off from the controller (not from
 * clients or from a follower with stale metadata), the old leader still
 * takes writes, but the new leader no longer fetches from it, so its HWM
 * cannot pass what the new leader has: acks=all writes time out. Its
 * AlterPartition is fenced; healed, it truncates what it wrote alone. */
START_TEST(test_zombie_leader)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC, false, false);
	cluster_t cl;
	int64_t before;

	cl_init(&cl, 3, &cfg);
	for (int i = 0; i < 3; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x6, 2);
	ck_assert_int_eq(acked_count(&cl), 3);

	cl_isolate(&cl, 0);
	cl_deliver(&cl, 1); /* B leads epoch 2; C has not heard */
	ck_assert_int_eq(cl_leader(&cl), 1);
	before = cl.node[0].p.hwm;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cl_produce(&cl, 0, -1, 500, NULL), TERN_OK);
	cl_flush(&cl, 0);
	ck_assert_int_eq(cl_fetch(&cl, 2, 100, false), TERN_OK); /* C, stale, fetches */
	ck_assert_int_eq(cl_fetch(&cl, 2, 100, false), TERN_OK);
	ck_assert_int_eq(cl.node[0].p.hwm, before); /* B holds it */
	pass_time(&cl, 2 * LAG, LAG / 4, 0);
	ck_assert_uint_eq(cl.n_7, 3);
	ck_assert_int_eq(acked_count(&cl), 3);
	/* C learns of epoch 2: the zombie refuses its fetch as from a newer
	 * epoch, and C goes to B. */
	cl_deliver(&cl, 2);
	ck_assert_int_eq(isr_check_epoch(&cl.node[0].p, cl.node[2].p.leader_epoch, true),
			 TERN_ERR_UNKNOWN_LEADER_EPOCH);
	cl_heal(&cl, 0);
	fetch_rounds(&cl, 0x5, 4);
	ck_assert_int_eq(cl.node[0].len, cl.node[1].len);
	ck_assert(holds_all_acked(&cl, 0));
	check(&cl);
	cl_fini(&cl);
}
END_TEST

/* TESTING.md #14: a corrupt replica leaves the ISR at once, is never
 * elected while corrupt, truncates to its last valid batch and catches up. */
START_TEST(test_corrupt_replica)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC, false, false);
	cluster_t cl;

	cl_init(&cl, 3, &cfg);
	for (int i = 0; i < 6; i++)
		produce(&cl, 0, -1);
	cl_flush(&cl, 0);
	fetch_rounds(&cl, 0x6, 2);
	cl_corrupt(&cl, 0, 2); /* the leader itself */
	ck_assert_int_ne(cl.ctl.leader, 0);
	ck_assert(!isr_set_contains(&cl.ctl.isr, 0));
	ck_assert_int_eq(cl.node[0].len, 2);
	check(&cl);
	fetch_rounds(&cl, 0x5, 4);
	ck_assert(isr_set_contains(&cl.ctl.isr, 0));
	ck_assert(holds_all_acked(&cl, 0));
	check(&cl);
	cl_fini(&cl);
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("isr scenarios");
	TCase *tc = tcase_create("scenarios");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_kip101_hwm_truncation);
	tcase_add_test(tc, test_kip279_fast_leader_changes);
	tcase_add_test(tc, test_kafka7128_expand_before_epoch_start);
	tcase_add_test(tc, test_same_epoch_restart);
	tcase_add_test(tc, test_last_replica_standing_elr);
	tcase_add_test(tc, test_last_replica_standing_no_elr);
	tcase_add_test(tc, test_last_replica_standing_unclean);
	tcase_add_test(tc, test_kafka4485_no_flapping);
	tcase_add_test(tc, test_acks_all_errors);
	tcase_add_test(tc, test_unclean_off);
	tcase_add_test(tc, test_unclean_on);
	tcase_add_test(tc, test_kafka15583_strict_min_isr);
	tcase_add_test(tc, test_zombie_leader);
	tcase_add_test(tc, test_corrupt_replica);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(scenario_suite());
}
