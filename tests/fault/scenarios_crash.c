/* tests/fault/scenarios_crash.c: scenarios 6, 8, 10 and 11 of TESTING.md
 * (scenarios_crash.h). Partition 0's leader is the target; the workload
 * writes to every partition, and the runner (scenario.c) heals, drains and
 * checks after each body. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "powercut.h"
#include "scenarios_crash.h"
#include "tern/admin.h"
#include "tern/conf.h"

#define P0 0

static int fail(char *why, size_t whylen, const char *what, const char *detail)
{
	snprintf(why, whylen, "%s: %s", what, detail);
	return -1;
}

/* Drops (cut) or lets through again every packet between broker id's host
 * and each host that is not the clients' host: ZooKeeper and the other
 * brokers. */
static int cut_off_but_clients(sc_ctx_t *x, int32_t id, bool cut, char *why, size_t whylen)
{
	lab_t *l = fc_lab(x->c);
	int host = fc_broker_host(x->c, id);

	for (int h = 0; h < lab_hosts(l); h++) {
		if (h == host || h == fc_client_host(x->c))
			continue;
		if ((cut ? lab_partition(l, host, h, why, whylen)
			 : lab_heal_partition(l, host, h, why, whylen)) < 0)
			return -1;
	}
	return 0;
}

/* Kills broker id (kill -9) and cuts its data directory back to what its
 * trace says was durable (the row's .power keeps the trace). */
static int power_loss(sc_ctx_t *x, int32_t id, pc_counts_t *pc, char *why, size_t whylen)
{
	char dir[1100], trace[1100], err[512];

	if (fc_running(x->c, id) && fc_kill(x->c, id, SIGKILL) < 0)
		return fail(why, whylen, "killing a broker", strerror(errno));
	snprintf(dir, sizeof dir, "%s/data", fc_broker_dir(x->c, id));
	snprintf(trace, sizeof trace, "%s/durable.log", fc_broker_dir(x->c, id));
	if (pc_cut_counted(dir, trace, pc, err, sizeof err) < 0)
		return fail(why, whylen, "the power cut", err);
	sc_say(x, "broker %d cut: %ld files removed, %ld truncated, %llu bytes gone", id,
	       pc->files_removed, pc->files_truncated, (unsigned long long)pc->bytes_cut);
	return 0;
}

static int restart(sc_ctx_t *x, int32_t id, char *why, size_t whylen)
{
	char err[512];

	if (fc_restart(x->c, id, 0, err, sizeof err) < 0) {
		char what[64];

		snprintf(what, sizeof what, "restarting broker %d", id);
		return fail(why, whylen, what, err);
	}
	return 0;
}

static bool in_set(const int32_t *ids, int n, int32_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* 6. The zombie leader: partition 0's leader loses ZooKeeper and the other
 * brokers but still reaches the clients. The controller fences it (a new
 * leader under a higher epoch); the producers may keep talking to it, and it
 * must acknowledge nothing: no follower fetches from it, so its HWM cannot
 * move, and whatever it appends diverges and is truncated after the heal.
 * An acknowledgement it gave would show as a lost record or an inconsistent
 * offset in the checker. Twice. */
int sc_zombie_leader(sc_ctx_t *x, char *why, size_t whylen)
{
	for (int i = 0; i < 2; i++) {
		int32_t old, now, epoch;
		long acked;

		if (sc_wait_full(x, why, whylen) < 0 ||
		    (old = sc_wait_leader(x, P0, why, whylen)) < 0)
			return -1;
		epoch = x->last[P0].leader_epoch;
		sc_fault(x,
			 "broker %d, the leader of partition 0 (epoch %d), cut off from "
			 "ZooKeeper and the brokers, not from the clients (%d of 2)",
			 old, epoch, i + 1);
		if (cut_off_but_clients(x, old, true, why, whylen) < 0)
			return -1;
		if (sc_wait(x, P0, sc_leader_not, &old, SC_CLAIM_MS, why, whylen) < 0) {
			sc_violation(x, "partition 0 got no leader other than the cut-off %d", old);
			return -1;
		}
		now = sc_leader(x, P0);
		if (x->last[P0].leader_epoch <= epoch) {
			sc_violation(x, "broker %d leads partition 0 under epoch %d, not above %d",
				     now, x->last[P0].leader_epoch, epoch);
			return -1;
		}
		sc_say(x, "broker %d fenced: broker %d leads partition 0 under epoch %d", old, now,
		       x->last[P0].leader_epoch);
		/* The zombie stays reachable by the clients for a while. */
		acked = wl_acked(x->wl);
		sc_sleep(x, sc_gap_ms(x, 2));
		sc_say(x, "%ld acknowledged (every partition) while broker %d was a zombie",
		       wl_acked(x->wl) - acked, old);
		if (cut_off_but_clients(x, old, false, why, whylen) < 0)
			return -1;
		sc_heal(x, "broker %d reconnected", old);
	}
	return sc_wait_full(x, why, whylen);
}

/* 8. Double failover: the leader killed, then the new leader killed as soon
 * as the poll sees it elected (its followers have likely not yet learnt the
 * HWM it inherited), both restarted; five times. */
int sc_double_failover(sc_ctx_t *x, char *why, size_t whylen)
{
	for (int i = 0; i < 5; i++) {
		int32_t first, second, a, b;

		if (sc_wait_full(x, why, whylen) < 0 ||
		    (first = sc_wait_leader(x, P0, why, whylen)) < 0)
			return -1;
		sc_fault(x, "kill -9 broker %d, the leader of partition 0 (%d of 5)", first, i + 1);
		if (fc_kill(x->c, first, SIGKILL) < 0)
			return fail(why, whylen, "killing the leader", strerror(errno));
		if (sc_wait(x, P0, sc_leader_not, &first, SC_CLAIM_MS, why, whylen) < 0)
			return -1;
		second = sc_leader(x, P0);
		sc_fault(x, "kill -9 broker %d, the new leader (epoch %d)", second,
			 x->last[P0].leader_epoch);
		if (fc_kill(x->c, second, SIGKILL) < 0)
			return fail(why, whylen, "killing the new leader", strerror(errno));
		/* The last broker standing leads if it was in the ISR; else the
		 * partition waits, offline, for the others. */
		if (sc_wait(x, P0, sc_leader_gone, &second, SC_CLAIM_MS, why, whylen) < 0)
			return -1;
		sc_sleep(x, sc_gap_ms(x, 5) / 2);
		/* Either may come back first. */
		a = sc_rand(x, 2) ? first : second;
		b = a == first ? second : first;
		if (restart(x, a, why, whylen) < 0 || restart(x, b, why, whylen) < 0)
			return -1;
		sc_heal(x, "brokers %d and %d restarted", a, b);
		sc_sleep(x, sc_gap_ms(x, 5) / 2);
	}
	return sc_wait_full(x, why, whylen);
}

/* 10. Everyone loses power: every broker killed at once and cut back to
 * what it had fsynced, then all restarted; twice. Under flush.policy=sync
 * every acknowledged record was fsynced by every ISR member, so nothing
 * may be lost; under async the loss is reported (the row's .may_lose). */
int sc_power_loss_all(sc_ctx_t *x, char *why, size_t whylen)
{
	for (int i = 0; i < 2; i++) {
		pc_counts_t pc;
		unsigned long long bytes = 0;

		if (sc_wait_full(x, why, whylen) < 0)
			return -1;
		sc_fault(x, "power loss on every broker (%d of 2)", i + 1);
		for (int32_t id = 1; id <= x->brokers; id++)
			if (fc_kill(x->c, id, SIGKILL) < 0)
				return fail(why, whylen, "killing a broker", strerror(errno));
		for (int32_t id = 1; id <= x->brokers; id++) {
			if (power_loss(x, id, &pc, why, whylen) < 0)
				return -1;
			bytes += pc.bytes_cut;
		}
		sc_say(x, "%llu bytes gone in all", bytes);
		for (int32_t id = 1; id <= x->brokers; id++)
			if (restart(x, id, why, whylen) < 0)
				return -1;
		sc_heal(x, "every broker restarted");
		if (sc_wait(x, -1, sc_has_leader, NULL, SC_CLAIM_MS, why, whylen) < 0)
			return -1;
		sc_sleep(x, sc_gap_ms(x, 2));
	}
	return sc_wait_full(x, why, whylen);
}

/* Sets one config of the scenario's topic. */
static int alter_topic(sc_ctx_t *x, const char *key, const char *value, char *why, size_t whylen)
{
	tern_admin_alter_t a = {.op = TERN_ALTER_SET, .name = key, .value = value};
	tern_conf_t *conf = tern_conf_new();
	tern_admin_t *adm = NULL;
	char err[512] = "";
	tern_err_t e;

	if (!conf)
		return fail(why, whylen, "altering the topic", "out of memory");
	if (tern_conf_set(conf, "bootstrap.servers", fc_bootstrap(x->c), err, sizeof err) !=
		TERN_OK ||
	    tern_conf_set(conf, "request.timeout.ms", "5000", err, sizeof err) != TERN_OK ||
	    !(adm = tern_admin_new(conf, err, sizeof err))) {
		tern_conf_destroy(conf);
		return fail(why, whylen, "an admin client", err);
	}
	e = tern_admin_alter_configs(adm, SC_TOPIC, &a, 1, err, sizeof err);
	tern_admin_destroy(adm);
	if (e != TERN_OK) {
		char d[600];

		snprintf(d, sizeof d, "%s (%s)", tern_strerror(e), err);
		return fail(why, whylen, "altering the topic", d);
	}
	return 0;
}

/* Polls for ms and records a violation if broker id leads partition 0 under
 * a leader epoch above epoch at any poll (the committed state may still
 * name it under its old epoch until the controller notices it died). */
static void never_leads(sc_ctx_t *x, int32_t id, int32_t epoch, int ms, const char *when)
{
	int64_t until = wl_now_ms() + ms;

	while (wl_now_ms() < until) {
		sc_sleep(x, SC_POLL_MS);
		if (x->have[P0] && x->last[P0].leader == id && x->last[P0].leader_epoch > epoch) {
			sc_violation(x, "broker %d leads partition 0 under epoch %d %s", id,
				     x->last[P0].leader_epoch, when);
			return;
		}
	}
}

/* 11. Last replica standing, under flush.policy=async with eligible leader
 * replicas (KIP-966). With min.insync.replicas 2 nothing is acknowledged
 * while the ISR is the leader alone, so the records at stake are those
 * committed before: the follower that leaves the ISR last (f1, when the ISR
 * goes from {leader, f1} below min.insync to {leader}) holds every one of
 * them and becomes an eligible leader replica; the one that left first (f2)
 * may lack those committed while the ISR was {leader, f1}. The followers
 * leave by SIGSTOP (their sessions expire), which works wherever the
 * controller is: cutting them off from the leader would cut them off from
 * the controller too when the leader is the controller. The leader then
 * loses power, its unsynced tail with it (fsyncs are made rare first, so
 * the tail holds committed records). Either it restarts first, alone, and
 * must not lead, or the followers continue first; then the rest returns.
 * f1 must lead, not the crashed leader nor f2, and nothing acknowledged may
 * be lost. */
int sc_last_replica_standing(sc_ctx_t *x, char *why, size_t whylen)
{
	int32_t leader, f1, f2, now, epoch;
	int one = 1;
	pc_counts_t pc;
	const fc_partition_state_t *st = &x->last[P0];
	bool leader_first = sc_rand(x, 2) == 0;

	/* Fsyncs every 10 minutes: what the leader wrote stays unsynced. */
	if (alter_topic(x, "flush.ms", "600000", why, whylen) < 0)
		return -1;
	sc_say(x, "flush.ms=600000 on topic %s", SC_TOPIC);
	if (sc_wait_full(x, why, whylen) < 0 || (leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	f2 = sc_other(x, leader, -1);
	f1 = sc_other(x, leader, f2);
	if (sc_rand(x, 2)) {
		int32_t t = f1;

		f1 = f2;
		f2 = t;
	}
	sc_fault(x, "SIGSTOP to broker %d, a follower of partition 0", f2);
	if (fc_kill(x->c, f2, SIGSTOP) < 0)
		return fail(why, whylen, "stopping a follower", strerror(errno));
	if (sc_wait(x, P0, sc_isr_lacks, &f2, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	/* Records committed by {leader, f1} alone, which f2 lacks. */
	if (sc_wait_acks(x, 50, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	sc_fault(x, "SIGSTOP to broker %d, the other follower", f1);
	if (fc_kill(x->c, f1, SIGSTOP) < 0)
		return fail(why, whylen, "stopping a follower", strerror(errno));
	if (sc_wait(x, P0, sc_isr_size_at_most, &one, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	if (!in_set(st->elr, st->nelr, f1) || in_set(st->elr, st->nelr, f2))
		sc_violation(x,
			     "partition 0's eligible leader replicas (%d of them) should hold "
			     "%d, the last to leave the ISR, and not %d",
			     st->nelr, f1, f2);
	else
		sc_say(x, "broker %d is an eligible leader replica of partition 0", f1);
	sc_sleep(x, 2000);
	epoch = st->leader_epoch;
	sc_fault(x, "power loss on broker %d, the leader, alone in the ISR", leader);
	if (power_loss(x, leader, &pc, why, whylen) < 0)
		return -1;
	if (leader_first) {
		if (restart(x, leader, why, whylen) < 0)
			return -1;
		sc_heal(x, "broker %d restarted with what it had fsynced, alone", leader);
		never_leads(x, leader, epoch, 2 * SC_SESSION_MS, "after losing its unsynced tail");
	}
	if (fc_kill(x->c, f1, SIGCONT) < 0 || fc_kill(x->c, f2, SIGCONT) < 0)
		return fail(why, whylen, "continuing the followers", strerror(errno));
	sc_heal(x, "SIGCONT to brokers %d and %d", f1, f2);
	if (!leader_first) {
		if (restart(x, leader, why, whylen) < 0)
			return -1;
		sc_heal(x, "broker %d restarted with what it had fsynced", leader);
	}
	if (sc_wait(x, P0, sc_leader_not, &leader, SC_CLAIM_MS, why, whylen) < 0) {
		sc_violation(x, "partition 0 has no leader but the crashed %d", leader);
		return -1;
	}
	now = sc_leader(x, P0);
	never_leads(x, leader, epoch, SC_SESSION_MS, "after losing its unsynced tail");
	if (now != f1)
		sc_violation(x, "broker %d leads partition 0, not %d, the eligible leader replica",
			     now, f1);
	else
		sc_say(x, "broker %d, the eligible leader replica, leads partition 0", now);
	return sc_wait_full(x, why, whylen);
}
