/* isr/partition.c: one replica's replication state machine (leader or
 * follower): follower progress, the HWM, ISR shrink and expansion, acks
 * waiters and the leader-epoch fences. KAFKA-REFERENCE.md §3 gives the
 * rules; docs/replication.md the incidents behind them. */
#include <stdlib.h>
#include <string.h>

#include "isr/isr_int.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */

static void decisions_reset(const isr_partition_t *p, isr_decisions_t *d)
{
	memset(d, 0, sizeof *d);
	d->done = p->done;
}

int64_t isr_acked_leo(const isr_partition_t *p)
{
	return p->cfg.flush == ISR_FLUSH_SYNC ? p->durable_leo : p->leo;
}

int32_t isr_effective_min_insync(const isr_partition_t *p)
{
	return isr__effective_min(p->cfg.min_insync, p->nreplicas);
}

static isr_replica_t *replica(isr_partition_t *p, int32_t id)
{
	int i = isr__index(p->replicas, p->nreplicas, id);

	return i < 0 ? NULL : &p->r[i];
}

static void progress_reset(isr_replica_t *r)
{
	r->leo = ISR_UNKNOWN_OFFSET;
	r->last_fetch_ms = ISR_TIME_NEVER;
	r->last_fetch_leader_leo = ISR_UNKNOWN_OFFSET;
	r->last_caught_up_ms = ISR_TIME_NEVER;
	r->fetch_broker_epoch = ISR_NO_BROKER_EPOCH;
}

/* Eligible to join the ISR (and so to hold the HWM back while caught up):
 * its broker is alive, not shutting down, not corrupt, and its latest fetch
 * named the broker epoch of its current registration. A fetch from before a
 * restart names the old epoch: what it reported may be gone (KIP-903). */
static bool eligible(const isr_replica_t *r)
{
	const isr_health_t *h = &r->health;

	return h->alive && !h->shutting_down && !h->corrupt &&
	       h->broker_epoch != ISR_NO_BROKER_EPOCH && r->fetch_broker_epoch == h->broker_epoch;
}

/* Caught up (Replica.isCaughtUp): it has the leader's acknowledged LEO, or
 * it had it within the last lag_time_max_ms. Kafka compares the LEOs for
 * equality; under sync a follower's durable LEO may pass the leader's
 * durable LEO (the leader fsyncs its own appends later than it serves them),
 * and such a follower is certainly caught up, hence ">=". Under async a
 * follower's LEO never passes the leader's (isr_follower_fetch refuses it),
 * so ">=" is Kafka's "==". */
static bool caught_up(const isr_partition_t *p, const isr_replica_t *r, int64_t now)
{
	if (r->leo != ISR_UNKNOWN_OFFSET && r->leo >= isr_acked_leo(p))
		return true;
	if (r->last_caught_up_ms == ISR_TIME_NEVER)
		return false;
	return now - r->last_caught_up_ms <= p->cfg.lag_time_max_ms;
}

static int64_t shrink_interval(const isr_partition_t *p)
{
	int64_t half = p->cfg.lag_time_max_ms / 2;

	return half > 0 ? half : 1;
}

/* ------------------------------------------------------------------------ */
/* Waiters                                                                    */

static size_t waitq_len(const isr_waitq_t *q)
{
	return q->tail - q->head;
}

static void waitq_free(isr_waitq_t *q)
{
	free(q->w);
	memset(q, 0, sizeof *q);
}

/* Room for one more waiter at the tail. */
static tern_err_t waitq_reserve(isr_waitq_t *q)
{
	isr_waiter_t *w;
	size_t cap;

	if (q->tail < q->cap)
		return TERN_OK;
	if (q->head > 0) {
		memmove(q->w, q->w + q->head, waitq_len(q) * sizeof *q->w);
		q->tail -= q->head;
		q->head = 0;
		return TERN_OK;
	}
	cap = q->cap ? q->cap * 2 : 16;
	w = reallocarray(q->w, cap, sizeof *w);
	if (!w)
		return TERN_ERR__NOMEM;
	q->w = w;
	q->cap = cap;
	return TERN_OK;
}

/* Inserts w keeping the queue sorted by offset, after equal offsets. The
 * broker registers waiters in append order, so the loop rarely moves
 * anything. Room must have been reserved. */
static void waitq_insert(isr_waitq_t *q, const isr_waiter_t *w)
{
	size_t i = q->tail;

	while (i > q->head && q->w[i - 1].offset > w->offset) {
		q->w[i] = q->w[i - 1];
		i--;
	}
	q->w[i] = *w;
	q->tail++;
}

/* Room in p->done for every completion one call can produce: one per
 * waiter queued plus the one produce_wait may answer at once. Reserved
 * before a waiter is queued, so answering never needs memory. */
static tern_err_t done_reserve(isr_partition_t *p)
{
	size_t want = waitq_len(&p->acks_all) + waitq_len(&p->acks_one) + 1;
	isr_completion_t *c;

	if (want <= p->done_cap)
		return TERN_OK;
	c = reallocarray(p->done, want * 2, sizeof *c);
	if (!c)
		return TERN_ERR__NOMEM;
	p->done = c;
	p->done_cap = want * 2;
	return TERN_OK;
}

static void complete(isr_partition_t *p, isr_decisions_t *d, uint64_t token, tern_err_t err)
{
	p->done[d->ndone].token = token;
	p->done[d->ndone].err = err;
	d->ndone++;
	d->done = p->done;
	if (err == TERN_ERR_REQUEST_TIMED_OUT)
		p->counters.acks_timed_out++;
}

/* The answer to an acks=all request whose offset the HWM has reached:
 * success, unless the maximal ISR is by then below the effective
 * min.insync (Partition.checkEnoughReplicasReachOffset). With the strict
 * min-ISR rule the HWM moves only while the committed ISR, a subset of the
 * maximal one, is large enough, so the second answer comes only to a
 * waiter registered after the HWM had already passed it. */
static tern_err_t acks_all_result(isr_partition_t *p)
{
	if (p->max_isr.n >= isr_effective_min_insync(p)) {
		p->counters.acks_all_ok++;
		return TERN_OK;
	}
	p->counters.acks_all_after_append++;
	return TERN_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
}

static void complete_upto(isr_partition_t *p, isr_decisions_t *d)
{
	isr_waitq_t *q = &p->acks_all;
	int64_t acked = isr_acked_leo(p);

	while (q->head < q->tail && q->w[q->head].offset <= p->hwm) {
		complete(p, d, q->w[q->head].token, acks_all_result(p));
		q->head++;
	}
	q = &p->acks_one;
	while (q->head < q->tail && q->w[q->head].offset <= acked) {
		complete(p, d, q->w[q->head].token, TERN_OK);
		q->head++;
	}
}

static void expire(isr_partition_t *p, isr_waitq_t *q, int64_t now, isr_decisions_t *d)
{
	size_t out = q->head;

	for (size_t i = q->head; i < q->tail; i++) {
		if (q->w[i].deadline_ms <= now)
			complete(p, d, q->w[i].token, TERN_ERR_REQUEST_TIMED_OUT);
		else
			q->w[out++] = q->w[i];
	}
	q->tail = out;
}

static void fail_all(isr_partition_t *p, isr_waitq_t *q, tern_err_t err, isr_decisions_t *d)
{
	for (size_t i = q->head; i < q->tail; i++)
		complete(p, d, q->w[i].token, err);
	q->head = q->tail = 0;
}

/* ------------------------------------------------------------------------ */
/* HWM and ISR changes                                                        */

/* Partition.maybeIncrementLeaderHW. Strict min-ISR first (KAFKA-15583,
 * KIP-966): while the committed ISR is below the effective min.insync the
 * HWM stays, whatever the followers have, so that nothing becomes readable
 * with fewer copies than promised. Then the candidate is the smallest
 * acknowledged LEO among the leader, the maximal ISR, and the followers
 * that are caught up and eligible (they are about to join; not waiting for
 * them would let the HWM run away from a follower that can never catch up
 * with it). An unknown LEO (-1) holds the HWM back. */
static void hwm_update(isr_partition_t *p, int64_t now, isr_decisions_t *d)
{
	int64_t cand = isr_acked_leo(p);

	if (p->isr.n < isr_effective_min_insync(p))
		return;
	for (int32_t i = 0; i < p->nreplicas; i++) {
		const isr_replica_t *r = &p->r[i];

		if (r->id == p->self)
			continue;
		if (!isr_set_contains(&p->max_isr, r->id) && !(caught_up(p, r, now) && eligible(r)))
			continue;
		if (r->leo < cand)
			cand = r->leo;
	}
	if (cand > p->hwm) {
		p->hwm = cand;
		d->hwm_changed = true;
		d->hwm = cand;
	}
}

/* After every change on a leader: the HWM, then the waiters it frees. */
static void settle(isr_partition_t *p, int64_t now, isr_decisions_t *d)
{
	if (p->role != ISR_ROLE_LEADER)
		return;
	hwm_update(p, now, d);
	complete_upto(p, d);
}

/* Proposes new_isr: at most one change is in flight (the caller checked).
 * The maximal ISR becomes committed ∪ proposed: an addition counts at once
 * (waiting for one more replica is always safe), a removal only once the
 * controller commits it (counting it early would let the HWM pass data the
 * removed replica lacks, and the controller may refuse the removal). */
static void propose(isr_partition_t *p, const isr_set_t *new_isr, isr_decisions_t *d)
{
	isr_alter_t *a = &p->pending;

	memset(a, 0, sizeof *a);
	a->id = ++p->next_alter_id;
	a->leader = p->self;
	a->leader_epoch = p->leader_epoch;
	a->partition_epoch = p->partition_epoch;
	a->isr = *new_isr;
	isr__set_order(&a->isr, p->replicas, p->nreplicas);
	for (int32_t i = 0; i < a->isr.n; i++) {
		const isr_replica_t *r = replica(p, a->isr.id[i]);

		a->broker_epoch[i] =
		    r->id == p->self ? r->health.broker_epoch : r->fetch_broker_epoch;
	}
	p->alter_inflight = true;
	p->alter_stuck = false;
	p->max_isr = p->isr;
	for (int32_t i = 0; i < a->isr.n; i++)
		isr__set_add(&p->max_isr, a->isr.id[i]);
	isr__set_order(&p->max_isr, p->replicas, p->nreplicas);
	d->alter = true;
	d->alter_req = *a;
}

/* Partition.maybeExpandIsr with KAFKA-7128: a follower joins once it has
 * the HWM *and* the start of this leader epoch. The HWM alone is not
 * enough: a new leader's HWM can lag the old leader's, so a follower at
 * the new leader's HWM may still lack records the old leader acknowledged,
 * and would lose them if elected. Everything below the epoch start is
 * everything the old leaders could have acknowledged. */
static void maybe_expand(isr_partition_t *p, const isr_replica_t *r, isr_decisions_t *d)
{
	isr_set_t next;

	if (p->alter_inflight || isr_set_contains(&p->isr, r->id) || !eligible(r))
		return;
	if (r->leo < p->hwm || r->leo < p->epoch_start)
		return;
	next = p->isr;
	isr__set_add(&next, r->id);
	p->counters.expands_proposed++;
	propose(p, &next, d);
}

/* Partition.maybeShrinkIsr: drop the ISR members that are not caught up.
 * Eligibility plays no part: dead and shutting-down brokers are the
 * controller's to remove, at once. */
static void maybe_shrink(isr_partition_t *p, int64_t now, isr_decisions_t *d)
{
	isr_set_t next = p->isr;

	if (p->alter_inflight)
		return;
	for (int32_t i = 0; i < p->isr.n; i++) {
		int32_t id = p->isr.id[i];

		if (id != p->self && !caught_up(p, replica(p, id), now))
			isr__set_remove(&next, id);
	}
	if (next.n == p->isr.n)
		return;
	p->counters.shrinks_proposed++;
	propose(p, &next, d);
}

/* ------------------------------------------------------------------------ */
/* Set-up and checks                                                          */

tern_err_t isr_partition_init(isr_partition_t *p, int32_t self, const isr_config_t *cfg,
			      int64_t leo, int64_t durable_leo, int64_t hwm)
{
	if (self < 0 || isr_config_check(cfg) != TERN_OK)
		return TERN_ERR__INVALID_ARG;
	if (leo < 0 || durable_leo < 0 || durable_leo > leo || hwm < 0)
		return TERN_ERR__INVALID_ARG;
	memset(p, 0, sizeof *p);
	p->self = self;
	p->cfg = *cfg;
	p->role = ISR_ROLE_NONE;
	p->leader = ISR_NO_LEADER;
	p->leader_epoch = ISR_NO_EPOCH;
	p->partition_epoch = -1;
	p->leo = leo;
	p->durable_leo = durable_leo;
	p->hwm = hwm < leo ? hwm : leo;
	p->leader_hwm = ISR_UNKNOWN_OFFSET;
	return TERN_OK;
}

void isr_partition_fini(isr_partition_t *p)
{
	waitq_free(&p->acks_all);
	waitq_free(&p->acks_one);
	free(p->done);
	p->done = NULL;
	p->done_cap = 0;
}

static tern_err_t validate_waitq(const isr_waitq_t *q, int64_t above, const char *name, char *why,
				 size_t whylen)
{
	for (size_t i = q->head; i < q->tail; i++) {
		if (q->w[i].offset <= above)
			ISR__BROKEN("%s waiter at %lld not above %lld", name,
				    (long long)q->w[i].offset, (long long)above);
		if (i > q->head && q->w[i].offset < q->w[i - 1].offset)
			ISR__BROKEN("%s waiters out of order", name);
	}
	return TERN_OK;
}

tern_err_t isr_partition_validate(const isr_partition_t *p, char *why, size_t whylen)
{
	isr_set_t want;
	tern_err_t err;

	if (p->hwm < 0 || p->hwm > p->leo)
		ISR__BROKEN("hwm %lld outside [0, leo %lld]", (long long)p->hwm, (long long)p->leo);
	if (p->durable_leo < 0 || p->durable_leo > p->leo)
		ISR__BROKEN("durable %lld outside [0, leo %lld]", (long long)p->durable_leo,
			    (long long)p->leo);
	if (p->role == ISR_ROLE_NONE) {
		if (waitq_len(&p->acks_all) || waitq_len(&p->acks_one) || p->alter_inflight)
			ISR__BROKEN("no state yet, but waiters or an ISR change");
		return TERN_OK;
	}
	if (isr__check_replicas(p->replicas, p->nreplicas) != TERN_OK)
		ISR__BROKEN("bad replica list");
	if (isr__index(p->replicas, p->nreplicas, p->self) < 0)
		ISR__BROKEN("self %d not a replica", p->self);
	for (int32_t i = 0; i < p->nreplicas; i++)
		if (p->r[i].id != p->replicas[i])
			ISR__BROKEN("replica entry %d is %d, not %d", i, p->r[i].id,
				    p->replicas[i]);
	if (isr__check_set(&p->isr, p->replicas, p->nreplicas) != TERN_OK ||
	    isr__check_set(&p->max_isr, p->replicas, p->nreplicas) != TERN_OK)
		ISR__BROKEN("ISR outside the replicas");
	want = p->isr;
	if (p->alter_inflight)
		for (int32_t i = 0; i < p->pending.isr.n; i++)
			isr__set_add(&want, p->pending.isr.id[i]);
	if (!isr__set_equal(&want, &p->max_isr))
		ISR__BROKEN("maximal ISR is not committed ∪ pending");
	if (p->role != ISR_ROLE_LEADER) {
		if (waitq_len(&p->acks_all) || waitq_len(&p->acks_one) || p->alter_inflight)
			ISR__BROKEN("follower with waiters or an ISR change");
		return TERN_OK;
	}
	if (p->leader != p->self)
		ISR__BROKEN("leader role but leader is %d", p->leader);
	if (!isr_set_contains(&p->isr, p->self))
		ISR__BROKEN("leader %d not in its ISR", p->self);
	if (p->hwm > isr_acked_leo(p))
		ISR__BROKEN("leader's HWM %lld above its acknowledged LEO %lld", (long long)p->hwm,
			    (long long)isr_acked_leo(p));
	if (p->epoch_start < 0 || p->epoch_start > p->leo)
		ISR__BROKEN("epoch start %lld outside [0, leo]", (long long)p->epoch_start);
	err = validate_waitq(&p->acks_all, p->hwm, "acks=all", why, whylen);
	if (err == TERN_OK)
		err = validate_waitq(&p->acks_one, isr_acked_leo(p), "acks=1", why, whylen);
	return err;
}

isr_mode_t isr_partition_mode(const isr_partition_t *p)
{
	if (p->role == ISR_ROLE_NONE)
		return ISR_MODE_OFFLINE;
	return isr__mode(p->leader != ISR_NO_LEADER, p->isr.n, isr_effective_min_insync(p),
			 p->recovering, p->nreplicas);
}

/* ------------------------------------------------------------------------ */
/* State from the controller                                                  */

/* What both become_* check: a well-formed state, and whether it is older
 * than p's (an error), the same (*same), or newer. */
static tern_err_t check_state(const isr_partition_t *p, const isr_leader_and_isr_t *st, int64_t leo,
			      int64_t durable_leo, bool *same)
{
	*same = false;
	if (isr__check_replicas(st->replicas, st->nreplicas) != TERN_OK ||
	    isr__index(st->replicas, st->nreplicas, p->self) < 0 ||
	    isr__check_set(&st->isr, st->replicas, st->nreplicas) != TERN_OK)
		return TERN_ERR__INVALID_ARG;
	if (st->leader != ISR_NO_LEADER && !isr_set_contains(&st->isr, st->leader))
		return TERN_ERR__INVALID_ARG;
	if (st->leader_epoch < 0 || st->partition_epoch < 0)
		return TERN_ERR__INVALID_ARG;
	if (leo < 0 || durable_leo < 0 || durable_leo > leo)
		return TERN_ERR__INVALID_ARG;
	if (st->leader_epoch < p->leader_epoch)
		return TERN_ERR_FENCED_LEADER_EPOCH;
	if (st->leader_epoch > p->leader_epoch)
		return TERN_OK;
	if (st->partition_epoch < p->partition_epoch)
		return TERN_ERR_INVALID_UPDATE_VERSION;
	/* One leader epoch has one leader. */
	if (st->leader != p->leader)
		return TERN_ERR__INVALID_ARG;
	*same = st->partition_epoch == p->partition_epoch;
	return TERN_OK;
}

/* Takes st's replicas and ISR. Health and progress follow each replica id
 * that stays; new replicas start unknown. An ISR change in flight is
 * dropped: the new state is newer than what it was based on, and the
 * controller refuses a proposal on an older partition epoch anyway. */
static void apply_state(isr_partition_t *p, const isr_leader_and_isr_t *st)
{
	isr_replica_t r[ISR_MAX_REPLICAS];

	for (int32_t i = 0; i < st->nreplicas; i++) {
		const isr_replica_t *old = replica(p, st->replicas[i]);

		if (old) {
			r[i] = *old;
		} else {
			memset(&r[i], 0, sizeof r[i]);
			r[i].id = st->replicas[i];
			r[i].health.broker_epoch = ISR_NO_BROKER_EPOCH;
			progress_reset(&r[i]);
		}
	}
	memcpy(p->r, r, (size_t)st->nreplicas * sizeof r[0]);
	memcpy(p->replicas, st->replicas, (size_t)st->nreplicas * sizeof st->replicas[0]);
	p->nreplicas = st->nreplicas;
	p->leader = st->leader;
	p->leader_epoch = st->leader_epoch;
	p->partition_epoch = st->partition_epoch;
	p->recovering = st->recovering;
	p->isr = st->isr;
	isr__set_order(&p->isr, p->replicas, p->nreplicas);
	p->max_isr = p->isr;
	p->alter_inflight = false;
	p->alter_stuck = false;
}

tern_err_t isr_become_leader(isr_partition_t *p, const isr_leader_and_isr_t *st, int64_t leo,
			     int64_t durable_leo, int64_t now_ms, isr_decisions_t *d)
{
	bool same, new_epoch;
	tern_err_t err;

	decisions_reset(p, d);
	if (st->leader != p->self)
		return TERN_ERR__INVALID_ARG;
	err = check_state(p, st, leo, durable_leo, &same);
	if (err != TERN_OK || same)
		return err;
	new_epoch = st->leader_epoch > p->leader_epoch;
	/* Within one epoch the leader's log only grows. */
	if (!new_epoch && leo < p->leo)
		return TERN_ERR__INVALID_ARG;
	apply_state(p, st);
	p->role = ISR_ROLE_LEADER;
	p->leo = leo;
	p->durable_leo = durable_leo;
	/* A leader's HWM never passes what it has acknowledged itself
	 * (decision 6: under sync, only fsynced records count). The HWM it
	 * brings from its follower days is min(old leader's HWM, its plain
	 * LEO): within that bound whenever it was in the ISR, since the old
	 * leader counted its fsynced fetch offsets, but not after an unclean
	 * election, where it may cover records held only in memory. */
	if (p->hwm > isr_acked_leo(p)) {
		p->hwm = isr_acked_leo(p);
		d->hwm_changed = true;
		d->hwm = p->hwm;
	}
	if (new_epoch) {
		/* Followers reconcile against this epoch's start: record it
		 * before anything is appended (KIP-101/279). Nothing a follower
		 * reported to an older leader counts; ISR members get a full
		 * lag time to fetch, the others count as never caught up. */
		p->epoch_start = leo;
		for (int32_t i = 0; i < p->nreplicas; i++) {
			isr_replica_t *r = &p->r[i];

			progress_reset(r);
			if (r->id != p->self && isr_set_contains(&p->isr, r->id))
				r->last_caught_up_ms = now_ms;
		}
		p->next_shrink_check_ms = now_ms + shrink_interval(p);
		d->assign_epoch = true;
		d->epoch = p->leader_epoch;
		d->epoch_start = leo;
	}
	settle(p, now_ms, d);
	return TERN_OK;
}

tern_err_t isr_become_follower(isr_partition_t *p, const isr_leader_and_isr_t *st, int64_t leo,
			       int64_t durable_leo, isr_decisions_t *d)
{
	bool same, new_epoch;
	tern_err_t err;
	int64_t hwm;

	decisions_reset(p, d);
	if (st->leader == p->self)
		return TERN_ERR__INVALID_ARG;
	err = check_state(p, st, leo, durable_leo, &same);
	if (err != TERN_OK || same)
		return err;
	new_epoch = st->leader_epoch > p->leader_epoch;
	/* Kafka answers the delayed produce requests of a former leader the
	 * same way: their records may or may not survive the new leader. */
	fail_all(p, &p->acks_all, TERN_ERR_NOT_LEADER_OR_FOLLOWER, d);
	fail_all(p, &p->acks_one, TERN_ERR_NOT_LEADER_OR_FOLLOWER, d);
	apply_state(p, st);
	p->role = ISR_ROLE_FOLLOWER;
	p->leo = leo;
	p->durable_leo = durable_leo;
	p->epoch_start = 0;
	if (new_epoch) {
		p->leader_hwm = ISR_UNKNOWN_OFFSET;
		d->reconcile = st->leader != ISR_NO_LEADER;
	}
	hwm = p->hwm < leo ? p->hwm : leo;
	if (hwm != p->hwm) {
		p->hwm = hwm;
		d->hwm_changed = true;
		d->hwm = hwm;
	}
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* The leader's log                                                           */

tern_err_t isr_local_append(isr_partition_t *p, int64_t leo, int64_t now_ms, isr_decisions_t *d)
{
	decisions_reset(p, d);
	if (p->role != ISR_ROLE_LEADER)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	if (leo < p->leo)
		return TERN_ERR__INVALID_ARG;
	p->leo = leo;
	settle(p, now_ms, d);
	return TERN_OK;
}

tern_err_t isr_durable_advance(isr_partition_t *p, int64_t durable_leo, int64_t now_ms,
			       isr_decisions_t *d)
{
	decisions_reset(p, d);
	if (durable_leo < p->durable_leo || durable_leo > p->leo)
		return TERN_ERR__INVALID_ARG;
	p->durable_leo = durable_leo;
	settle(p, now_ms, d);
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Followers                                                                  */

tern_err_t isr_follower_fetch(isr_partition_t *p, int32_t replica_id, int32_t current_leader_epoch,
			      int64_t fetch_offset, int64_t broker_epoch, int64_t now_ms,
			      isr_decisions_t *d)
{
	int64_t leader_end;
	isr_replica_t *r;
	tern_err_t err;

	decisions_reset(p, d);
	err = isr_check_epoch(p, current_leader_epoch, true);
	if (err != TERN_OK)
		return err;
	r = replica(p, replica_id);
	/* Partition.followerReplicaOrThrow: with a leader epoch in the
	 * request, an unknown replica is told to retry once metadata agrees. */
	if (!r || replica_id == p->self)
		return TERN_ERR_UNKNOWN_LEADER_EPOCH;
	if (fetch_offset < 0 || fetch_offset > p->leo)
		return TERN_ERR_OFFSET_OUT_OF_RANGE;
	/* Replica.updateFetchStateOrThrow: a fetch naming an older broker
	 * epoch than the registration is from before a restart. */
	if (broker_epoch != ISR_NO_BROKER_EPOCH && r->health.broker_epoch != ISR_NO_BROKER_EPOCH &&
	    broker_epoch < r->health.broker_epoch)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;

	/* The two-step caught-up rule (KAFKA-4485). A follower that keeps up
	 * with small, frequent appends never fetches at the leader's LEO of
	 * the moment, yet each fetch reaches the LEO the leader had at its
	 * previous fetch: it was caught up then. */
	leader_end = isr_acked_leo(p);
	if (fetch_offset >= leader_end) {
		if (now_ms > r->last_caught_up_ms)
			r->last_caught_up_ms = now_ms;
	} else if (r->last_fetch_ms != ISR_TIME_NEVER && fetch_offset >= r->last_fetch_leader_leo) {
		if (r->last_fetch_ms > r->last_caught_up_ms)
			r->last_caught_up_ms = r->last_fetch_ms;
	}
	r->leo = fetch_offset;
	r->last_fetch_ms = now_ms;
	r->last_fetch_leader_leo = leader_end;
	r->fetch_broker_epoch = broker_epoch;

	maybe_expand(p, r, d);
	settle(p, now_ms, d);
	return TERN_OK;
}

tern_err_t isr_follower_progress(isr_partition_t *p, int64_t leo, int64_t durable_leo,
				 int64_t leader_hwm, isr_decisions_t *d)
{
	int64_t hwm;

	decisions_reset(p, d);
	if (p->role != ISR_ROLE_FOLLOWER)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	if (leo < 0 || durable_leo < 0 || durable_leo > leo || leader_hwm < ISR_UNKNOWN_OFFSET)
		return TERN_ERR__INVALID_ARG;
	p->leo = leo;
	p->durable_leo = durable_leo;
	if (leader_hwm != ISR_UNKNOWN_OFFSET)
		p->leader_hwm = leader_hwm;
	/* min(leader's HWM, own LEO), as Kafka's follower does: it may move
	 * back after a truncation or under a new leader whose HWM lags. */
	hwm = p->leader_hwm == ISR_UNKNOWN_OFFSET ? p->hwm : p->leader_hwm;
	if (hwm > leo)
		hwm = leo;
	if (hwm != p->hwm) {
		p->hwm = hwm;
		d->hwm_changed = true;
		d->hwm = hwm;
	}
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* AlterPartition answers                                                     */

tern_err_t isr_alter_committed(isr_partition_t *p, uint64_t id, int32_t leader_epoch,
			       int32_t partition_epoch, const isr_set_t *isr, int64_t now_ms,
			       isr_decisions_t *d)
{
	decisions_reset(p, d);
	if (p->role != ISR_ROLE_LEADER || !p->alter_inflight || id != p->pending.id)
		return TERN_ERR__STATE;
	if (leader_epoch < p->leader_epoch)
		return TERN_ERR_FENCED_LEADER_EPOCH;
	if (leader_epoch > p->leader_epoch)
		return TERN_ERR_UNKNOWN_LEADER_EPOCH;
	if (partition_epoch < p->partition_epoch)
		return TERN_ERR_INVALID_UPDATE_VERSION;
	if (isr__check_set(isr, p->replicas, p->nreplicas) != TERN_OK ||
	    !isr_set_contains(isr, p->self))
		return TERN_ERR__INVALID_ARG;
	p->isr = *isr;
	isr__set_order(&p->isr, p->replicas, p->nreplicas);
	p->max_isr = p->isr;
	p->partition_epoch = partition_epoch;
	p->alter_inflight = false;
	p->alter_stuck = false;
	if (p->recovering && isr__recovered(p->isr.n, p->nreplicas))
		p->recovering = false;
	p->counters.alters_committed++;
	settle(p, now_ms, d);
	return TERN_OK;
}

tern_err_t isr_alter_rejected(isr_partition_t *p, uint64_t id, tern_err_t err, int64_t now_ms,
			      isr_decisions_t *d)
{
	decisions_reset(p, d);
	if (p->role != ISR_ROLE_LEADER || !p->alter_inflight || id != p->pending.id)
		return TERN_ERR__STATE;
	p->counters.alters_rejected++;
	switch (err) {
	case TERN_ERR_OPERATION_NOT_ATTEMPTED:
		/* The controller applied nothing: the committed ISR stands, and
		 * a pending expansion no longer holds the HWM back. */
		p->alter_inflight = false;
		p->max_isr = p->isr;
		settle(p, now_ms, d);
		return TERN_OK;
	case TERN_ERR_INVALID_UPDATE_VERSION:
	case TERN_ERR_FENCED_LEADER_EPOCH:
	case TERN_ERR_INVALID_REQUEST:
		p->alter_stuck = true;
		return TERN_OK;
	default:
		if (tern_err_is_retriable(err)) {
			d->alter = true;
			d->alter_req = p->pending;
		} else {
			p->alter_stuck = true;
		}
		return TERN_OK;
	}
}

/* ------------------------------------------------------------------------ */
/* Metadata, configuration, time                                              */

tern_err_t isr_set_health(isr_partition_t *p, int32_t id, const isr_health_t *h, int64_t now_ms,
			  isr_decisions_t *d)
{
	isr_replica_t *r;

	decisions_reset(p, d);
	r = replica(p, id);
	if (!r)
		return TERN_ERR__INVALID_ARG;
	r->health = *h;
	settle(p, now_ms, d);
	return TERN_OK;
}

tern_err_t isr_set_config(isr_partition_t *p, const isr_config_t *cfg, int64_t now_ms,
			  isr_decisions_t *d)
{
	decisions_reset(p, d);
	if (isr_config_check(cfg) != TERN_OK)
		return TERN_ERR__INVALID_ARG;
	p->cfg = *cfg;
	settle(p, now_ms, d);
	return TERN_OK;
}

tern_err_t isr_tick(isr_partition_t *p, int64_t now_ms, isr_decisions_t *d)
{
	decisions_reset(p, d);
	if (p->role == ISR_ROLE_LEADER && now_ms >= p->next_shrink_check_ms) {
		p->next_shrink_check_ms = now_ms + shrink_interval(p);
		maybe_shrink(p, now_ms, d);
	}
	/* The HWM first: a waiter whose offset is reached at this very tick
	 * is answered with success, not with a timeout. */
	settle(p, now_ms, d);
	expire(p, &p->acks_all, now_ms, d);
	expire(p, &p->acks_one, now_ms, d);
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Produce                                                                    */

static bool acks_valid(int16_t acks)
{
	return acks == -1 || acks == 0 || acks == 1;
}

tern_err_t isr_produce_check(const isr_partition_t *p, int16_t acks)
{
	if (!acks_valid(acks))
		return TERN_ERR_INVALID_REQUIRED_ACKS;
	if (p->role != ISR_ROLE_LEADER)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	if (acks == -1 && p->isr.n < isr_effective_min_insync(p))
		return TERN_ERR_NOT_ENOUGH_REPLICAS;
	return TERN_OK;
}

tern_err_t isr_produce_wait(isr_partition_t *p, int16_t acks, int64_t end_offset,
			    int64_t deadline_ms, uint64_t token, isr_decisions_t *d)
{
	isr_waiter_t w = {.token = token, .offset = end_offset, .deadline_ms = deadline_ms};
	isr_waitq_t *q;
	tern_err_t err;

	decisions_reset(p, d);
	if (!acks_valid(acks))
		return TERN_ERR_INVALID_REQUIRED_ACKS;
	if (p->role != ISR_ROLE_LEADER)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	if (end_offset < 1 || end_offset > p->leo)
		return TERN_ERR__INVALID_ARG;
	if (acks == 0)
		return TERN_OK;
	q = acks == -1 ? &p->acks_all : &p->acks_one;
	err = done_reserve(p);
	if (err == TERN_OK)
		err = waitq_reserve(q);
	if (err != TERN_OK)
		return err;
	if (acks == -1 && end_offset <= p->hwm)
		complete(p, d, token, acks_all_result(p));
	else if (acks == 1 && end_offset <= isr_acked_leo(p))
		complete(p, d, token, TERN_OK);
	else
		waitq_insert(q, &w);
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                    */

tern_err_t isr_check_epoch(const isr_partition_t *p, int32_t current_leader_epoch,
			   bool require_leader)
{
	if (p->role == ISR_ROLE_NONE)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	if (current_leader_epoch != ISR_NO_EPOCH) {
		if (current_leader_epoch < p->leader_epoch)
			return TERN_ERR_FENCED_LEADER_EPOCH;
		if (current_leader_epoch > p->leader_epoch)
			return TERN_ERR_UNKNOWN_LEADER_EPOCH;
	}
	if (require_leader && p->role != ISR_ROLE_LEADER)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	return TERN_OK;
}

tern_err_t isr_list_latest(const isr_partition_t *p, int32_t current_leader_epoch, int64_t *offset)
{
	tern_err_t err = isr_check_epoch(p, current_leader_epoch, true);

	if (err != TERN_OK)
		return err;
	if (p->hwm < p->epoch_start)
		return TERN_ERR_OFFSET_NOT_AVAILABLE;
	*offset = p->hwm;
	return TERN_OK;
}

tern_err_t isr_follower_lag(const isr_partition_t *p, int32_t id, int64_t now_ms, int64_t *offsets,
			    int64_t *ms)
{
	int i = isr__index(p->replicas, p->nreplicas, id);
	const isr_replica_t *r;
	int64_t acked = isr_acked_leo(p);

	if (p->role != ISR_ROLE_LEADER)
		return TERN_ERR_NOT_LEADER_OR_FOLLOWER;
	if (i < 0 || id == p->self)
		return TERN_ERR__INVALID_ARG;
	r = &p->r[i];
	if (r->leo == ISR_UNKNOWN_OFFSET)
		*offsets = ISR_UNKNOWN_OFFSET;
	else
		*offsets = r->leo < acked ? acked - r->leo : 0;
	if (r->last_caught_up_ms == ISR_TIME_NEVER)
		*ms = ISR_UNKNOWN_OFFSET;
	else
		*ms = now_ms > r->last_caught_up_ms ? now_ms - r->last_caught_up_ms : 0;
	return TERN_OK;
}
