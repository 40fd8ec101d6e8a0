/* tests/fault/scenarios.c: the scenarios of TESTING.md as rows of one table,
 * each with the body that injects its faults (scenario.h). Partition 0's
 * leader is the usual target; the workload writes to every partition. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "powercut.h"
#include "scenario.h"
#include "scenarios_crash.h"
#include "scenarios_env.h"

#define P0 0

static int fail(char *why, size_t whylen, const char *what, const char *detail)
{
	snprintf(why, whylen, "%s: %s", what, detail);
	return -1;
}

/* 1. No fault: the workload alone, for the whole duration. */
static int baseline(sc_ctx_t *x, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	sc_sleep(x, x->duration_s * 1000);
	return 0;
}

/* 2 and 3: the leader of partition 0 stopped with sig, restarted, five
 * times. */
static int bounce(sc_ctx_t *x, int sig, char *why, size_t whylen)
{
	for (int i = 0; i < 5; i++) {
		char err[512];
		int32_t id;

		if (sc_wait_full(x, why, whylen) < 0 ||
		    (id = sc_wait_leader(x, P0, why, whylen)) < 0)
			return -1;
		sc_fault(x, "%s to broker %d, the leader of partition 0 (%d of 5)",
			 sig == SIGKILL ? "kill -9" : "SIGTERM", id, i + 1);
		if (fc_kill(x->c, id, sig) < 0)
			return fail(why, whylen, "stopping the leader", strerror(errno));
		if (sc_wait(x, P0, sc_leader_not, &id, SC_CLAIM_MS, why, whylen) < 0)
			return -1;
		sc_sleep(x, sc_gap_ms(x, 5) / 2);
		if (fc_restart(x->c, id, 0, err, sizeof err) < 0)
			return fail(why, whylen, "restarting the old leader", err);
		sc_heal(x, "broker %d restarted", id);
		sc_sleep(x, sc_gap_ms(x, 5) / 2);
	}
	return 0;
}

static int clean_bounce(sc_ctx_t *x, char *why, size_t whylen)
{
	return bounce(x, SIGTERM, why, whylen);
}

static int hard_bounce(sc_ctx_t *x, char *why, size_t whylen)
{
	return bounce(x, SIGKILL, why, whylen);
}

/* 4. A follower cut off for most of the run: the ISR shrinks without it,
 * then grows back once it is healed. */
static int follower_cut_off(sc_ctx_t *x, char *why, size_t whylen)
{
	int32_t leader, f;

	if (sc_wait_full(x, why, whylen) < 0 || (leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	f = sc_other(x, leader, -1);
	sc_fault(x, "broker %d (a follower of partition 0) cut off from every host", f);
	if (sc_isolate(x, f, true, why, whylen) < 0)
		return -1;
	if (sc_wait(x, P0, sc_isr_lacks, &f, SC_CLAIM_MS, why, whylen) < 0) {
		sc_violation(x, "the ISR of partition 0 never dropped broker %d", f);
		return -1;
	}
	sc_sleep(x, x->duration_s * 1000);
	if (sc_isolate(x, f, false, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d reconnected", f);
	return sc_wait_full(x, why, whylen);
}

/* 5. The 2013 Kafka loss: both followers cut off, then the leader killed.
 * With min.insync.replicas=2 nothing may be acknowledged while the ISR is
 * the leader alone, and nothing acknowledged may be lost. */
static int kafka_2013(sc_ctx_t *x, char *why, size_t whylen)
{
	int32_t leader, f1, f2;
	int one = 1;
	long before, after;
	char err[512];

	if (sc_wait_full(x, why, whylen) < 0 || (leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	f1 = sc_other(x, leader, -1);
	f2 = sc_other(x, leader, f1);
	sc_fault(x, "both followers of partition 0 (brokers %d and %d) cut off", f1, f2);
	if (sc_isolate(x, f1, true, why, whylen) < 0 || sc_isolate(x, f2, true, why, whylen) < 0)
		return -1;
	if (sc_wait(x, P0, sc_isr_size_at_most, &one, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	/* Whatever was in flight when the ISR shrank has had its answer. */
	sc_sleep(x, 2000);
	before = wl_acked(x->wl);
	sc_sleep(x, x->duration_s * 1000 / 2);
	after = wl_acked(x->wl);
	/* Partitions 1 and 2 may have other leaders, with followers of their
	 * own cut off too: every partition's ISR is one broker, so nothing at
	 * all may be acknowledged. */
	if (after != before)
		sc_violation(x, "%ld records acknowledged while every ISR was one broker",
			     after - before);
	sc_fault(x, "kill -9 broker %d, the leader, alone in the ISR", leader);
	if (fc_kill(x->c, leader, SIGKILL) < 0)
		return fail(why, whylen, "killing the leader", strerror(errno));
	if (sc_isolate(x, f1, false, why, whylen) < 0 || sc_isolate(x, f2, false, why, whylen) < 0)
		return -1;
	sc_heal(x, "followers reconnected; the leader stays dead a while");
	sc_sleep(x, 3000);
	if (fc_restart(x->c, leader, 0, err, sizeof err) < 0)
		return fail(why, whylen, "restarting the old leader", err);
	sc_heal(x, "broker %d restarted", leader);
	return sc_wait_full(x, why, whylen);
}

/* 7. The leader paused past the session timeout, then continued: it must
 * acknowledge nothing under its old epoch and truncate what diverged. */
static int paused_leader(sc_ctx_t *x, char *why, size_t whylen)
{
	for (int i = 0; i < 2; i++) {
		int32_t id;

		if (sc_wait_full(x, why, whylen) < 0 ||
		    (id = sc_wait_leader(x, P0, why, whylen)) < 0)
			return -1;
		sc_fault(x, "SIGSTOP to broker %d, the leader of partition 0", id);
		if (fc_kill(x->c, id, SIGSTOP) < 0)
			return fail(why, whylen, "stopping the leader", strerror(errno));
		if (sc_wait(x, P0, sc_leader_not, &id, SC_CLAIM_MS, why, whylen) < 0)
			return -1;
		sc_sleep(x, sc_gap_ms(x, 2));
		if (fc_kill(x->c, id, SIGCONT) < 0)
			return fail(why, whylen, "continuing the old leader", strerror(errno));
		sc_heal(x, "SIGCONT to broker %d", id);
	}
	return sc_wait_full(x, why, whylen);
}

/* 9. One node loses power: kill -9, its files cut back to what it had made
 * durable, restart. It rejoins the ISR only once caught up. */
static int power_loss_one(sc_ctx_t *x, char *why, size_t whylen)
{
	for (int i = 0; i < 2; i++) {
		char dir[1100], trace[1100], err[512];
		pc_counts_t pc;
		int32_t id;

		if (sc_wait_full(x, why, whylen) < 0 ||
		    (id = sc_wait_leader(x, P0, why, whylen)) < 0)
			return -1;
		if (i == 1)
			id = sc_other(x, id, -1); /* a follower the second time */
		sc_fault(x, "power loss on broker %d", id);
		if (fc_kill(x->c, id, SIGKILL) < 0)
			return fail(why, whylen, "killing the broker", strerror(errno));
		snprintf(dir, sizeof dir, "%s/data", fc_broker_dir(x->c, id));
		snprintf(trace, sizeof trace, "%s/durable.log", fc_broker_dir(x->c, id));
		if (pc_cut_counted(dir, trace, &pc, err, sizeof err) < 0)
			return fail(why, whylen, "the power cut", err);
		sc_say(x, "cut: %ld files removed, %ld truncated, %llu bytes gone",
		       pc.files_removed, pc.files_truncated, (unsigned long long)pc.bytes_cut);
		sc_sleep(x, sc_gap_ms(x, 2) / 2);
		if (fc_restart(x->c, id, 0, err, sizeof err) < 0)
			return fail(why, whylen, "restarting the broker", err);
		sc_heal(x, "broker %d restarted", id);
		sc_sleep(x, sc_gap_ms(x, 2) / 2);
	}
	return sc_wait_full(x, why, whylen);
}

/* 12. The only ISR member dead, an out-of-sync replica alive. */
static int unclean_election(sc_ctx_t *x, bool unclean, char *why, size_t whylen)
{
	int32_t leader, f1, f2;
	int one = 1;
	char err[512];

	if (sc_wait_full(x, why, whylen) < 0 || (leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	f1 = sc_other(x, leader, -1);
	f2 = sc_other(x, leader, f1);
	/* f2 dies first; f1 falls out of the ISR (cut off), so the leader is
	 * the ISR alone; then the leader dies and f1 returns, out of sync. */
	sc_fault(x, "kill -9 broker %d; broker %d cut off", f2, f1);
	if (fc_kill(x->c, f2, SIGKILL) < 0)
		return fail(why, whylen, "killing a follower", strerror(errno));
	if (sc_isolate(x, f1, true, why, whylen) < 0)
		return -1;
	if (sc_wait(x, P0, sc_isr_size_at_most, &one, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	sc_fault(x, "kill -9 broker %d, the last ISR member", leader);
	if (fc_kill(x->c, leader, SIGKILL) < 0)
		return fail(why, whylen, "killing the leader", strerror(errno));
	if (sc_isolate(x, f1, false, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d (out of sync) reconnected", f1);
	/* The controller (perhaps after its own failover) fences the dead
	 * leader: a new leader, or none. */
	if (sc_wait(x, P0, sc_leader_gone, &leader, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	if (unclean) {
		if (sc_wait(x, P0, sc_has_leader, NULL, SC_CLAIM_MS, why, whylen) < 0) {
			sc_violation(x, "no unclean election with it enabled");
			return -1;
		}
		sc_say(x, "partition 0 elected broker %d uncleanly", sc_leader(x, P0));
	} else {
		sc_sleep(x, x->duration_s * 1000 / 2);
		if (sc_leader(x, P0) >= 0) {
			sc_violation(x, "partition 0 got leader %d with no ISR member alive",
				     sc_leader(x, P0));
			return -1;
		}
		sc_say(x, "partition 0 stayed offline, as it must");
	}
	if (fc_restart(x->c, leader, 0, err, sizeof err) < 0 ||
	    fc_restart(x->c, f2, 0, err, sizeof err) < 0)
		return fail(why, whylen, "restarting", err);
	sc_heal(x, "brokers %d and %d restarted", leader, f2);
	return sc_wait_full(x, why, whylen);
}

static int unclean_off(sc_ctx_t *x, char *why, size_t whylen)
{
	return unclean_election(x, false, why, whylen);
}

static int unclean_on(sc_ctx_t *x, char *why, size_t whylen)
{
	return unclean_election(x, true, why, whylen);
}

const scenario_t sc_table[] = {
    {1, "baseline", "no fault", "sync", .body = baseline},
    {2, "clean-bounce", "SIGTERM the leader x5", "sync", .body = clean_bounce},
    {3, "hard-bounce", "kill -9 the leader x5", "sync", .body = hard_bounce},
    {4, "follower-cut-off", "partition one follower from every host", "sync", .network = true,
     .body = follower_cut_off},
    {5, "kafka-2013", "cut off both followers, then kill the leader", "sync", .network = true,
     .body = kafka_2013},
    {7, "paused-leader", "SIGSTOP the leader past the session timeout, SIGCONT", "sync",
     .body = paused_leader},
    {9, "power-loss-one", "drop unsynced data on one node, restart", "sync", .power = true,
     .body = power_loss_one},
    {12, "unclean-off", "only ISR member dead, unclean election off", "sync", .network = true,
     .body = unclean_off},
    {12, "unclean-on", "only ISR member dead, unclean election on", "sync", .unclean = true,
     .may_lose = true, .network = true, .body = unclean_on},
    /* ---- scenarios_crash.c ---- */
    {6, "zombie-leader", "cut the leader off from ZooKeeper and the brokers, not the clients",
     "sync", .network = true, .body = sc_zombie_leader},
    {8, "double-failover", "kill the leader, then the new leader at once; restart both; x5", "sync",
     .body = sc_double_failover},
    {10, "power-loss-all-sync", "drop unsynced data on every node, restart all", "sync",
     .power = true, .body = sc_power_loss_all},
    {10, "power-loss-all-async", "drop unsynced data on every node, restart all", "async",
     .power = true, .unclean = true, .may_lose = true, .body = sc_power_loss_all},
    {11, "last-replica-standing", "ISR shrinks to the leader, which then loses power", "async",
     .elr = true, .power = true, .body = sc_last_replica_standing},
    /* ---- end scenarios_crash.c ---- */
    /* ---- scenarios_env.c ---- */
    {13, "disk-full", "fill a follower's disk, then the leader's; free each", "sync",
     .tmpfs_bytes = ENV_TMPFS_BYTES, .body = env_disk_full},
    {13, "disk-errors", "writes and fsyncs fail with EIO on a follower, then the leader", "sync",
     .body = env_disk_errors},
    {14, "corrupt-replica",
     "bit flip, then cut, in the leader's closed segment; a stopped one's cut", "sync",
     .topic_configs = env_small_segments, .body = env_corrupt_replica},
    {15, "clock-skew", "one broker restarted 300 s ahead, another 300 s behind", "sync",
     .body = env_clock_skew},
    {16, "slow-network", "50-100 ms delay and 5-10 % loss on a follower, then the leader", "sync",
     .network = true, .body = env_slow_network},
    {17, "soak", "a random mix of every nemesis, one at a time, for the duration", "sync",
     .network = true, .tmpfs_bytes = ENV_SOAK_TMPFS_BYTES, .topic_configs = env_small_segments,
     .body = env_soak},
    /* ---- end scenarios_env.c ---- */
};

const size_t sc_count = sizeof sc_table / sizeof sc_table[0];

const scenario_t *sc_find(const char *name)
{
	for (size_t i = 0; i < sc_count; i++)
		if (strcmp(sc_table[i].name, name) == 0)
			return &sc_table[i];
	return NULL;
}
