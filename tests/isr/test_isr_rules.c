/* tests/isr/test_isr_rules.c: each rule of KAFKA-REFERENCE.md §3 on its
 * own, table-driven where the rule is a table: fences, the two-step
 * caught-up rule, the HWM, ISR expansion and shrink, AlterPartition
 * answers, produce answers, KIP-207, reconciliation, out-of-range, and the
 * controller (AlterPartition checks, removals, elections, modes). */
#include <stdio.h>
#include <string.h>

#include "isr/isr.h"
#include "log/log.h"
#include "testutil.h"

#define T0	  1000000 /* the start of time: far from 0 on purpose */
#define LAG	  1000
#define BEPOCH(i) (100 + (i)) /* broker epoch of replica i */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */

static isr_set_t set_of(unsigned mask)
{
	isr_set_t s = {0};

	for (int32_t i = 0; i < ISR_MAX_REPLICAS; i++)
		if (mask & (1u << i))
			s.id[s.n++] = i;
	return s;
}

static unsigned mask_of(const isr_set_t *s)
{
	unsigned m = 0;

	for (int32_t i = 0; i < s->n; i++)
		m |= 1u << s->id[i];
	return m;
}

static isr_config_t cfg_make(int32_t min_insync, isr_flush_policy_t flush)
{
	isr_config_t c;

	isr_config_default(&c);
	c.min_insync = min_insync;
	c.flush = flush;
	c.lag_time_max_ms = LAG;
	return c;
}

static isr_leader_and_isr_t state_make(int32_t leader, int32_t le, int32_t pe, int32_t nrep,
				       unsigned isr)
{
	isr_leader_and_isr_t st;

	memset(&st, 0, sizeof st);
	st.leader = leader;
	st.leader_epoch = le;
	st.partition_epoch = pe;
	st.nreplicas = nrep;
	for (int32_t i = 0; i < nrep; i++)
		st.replicas[i] = i;
	st.isr = set_of(isr);
	return st;
}

static isr_health_t healthy(int32_t id)
{
	isr_health_t h = {.alive = true, .broker_epoch = BEPOCH(id)};

	return h;
}

static void all_healthy(isr_partition_t *p)
{
	isr_decisions_t d;

	for (int32_t i = 0; i < p->nreplicas; i++) {
		isr_health_t h = healthy(i);

		ck_assert_int_eq(isr_set_health(p, i, &h, T0, &d), TERN_OK);
	}
}

/* Replica 0 leads epoch 1 (partition epoch 1) of nrep replicas with the
 * ISR isr, its log at leo (all durable), HWM hwm; everyone healthy. */
static void lead(isr_partition_t *p, const isr_config_t *cfg, int32_t nrep, unsigned isr,
		 int64_t leo, int64_t hwm)
{
	isr_leader_and_isr_t st = state_make(0, 1, 1, nrep, isr);
	isr_decisions_t d;

	ck_assert_int_eq(isr_partition_init(p, 0, cfg, leo, leo, hwm), TERN_OK);
	ck_assert_int_eq(isr_become_leader(p, &st, leo, leo, T0, &d), TERN_OK);
	ck_assert(d.assign_epoch);
	ck_assert_int_eq(d.epoch, 1);
	ck_assert_int_eq(d.epoch_start, leo);
	all_healthy(p);
}

static tern_err_t fetch(isr_partition_t *p, int32_t id, int64_t offset, int64_t now,
			isr_decisions_t *d)
{
	return isr_follower_fetch(p, id, p->leader_epoch, offset, BEPOCH(id), now, d);
}

static void append(isr_partition_t *p, int64_t leo, int64_t now)
{
	isr_decisions_t d;

	ck_assert_int_eq(isr_local_append(p, leo, now, &d), TERN_OK);
	if (p->cfg.flush == ISR_FLUSH_SYNC)
		ck_assert_int_eq(isr_durable_advance(p, leo, now, &d), TERN_OK);
}

static void check_valid(const isr_partition_t *p)
{
	char why[256] = "";

	ck_assert_msg(isr_partition_validate(p, why, sizeof why) == TERN_OK, "%s", why);
}

/* ------------------------------------------------------------------------ */
/* Fences                                                                     */

typedef struct fence_case {
	const char *name;
	isr_role_t role;
	int32_t epoch;
	bool require_leader;
	tern_err_t want;
} fence_case_t;

static const fence_case_t fence_cases[] = {
    {"leader, same epoch", ISR_ROLE_LEADER, 5, true, TERN_OK},
    {"leader, older epoch: fenced", ISR_ROLE_LEADER, 4, true, TERN_ERR_FENCED_LEADER_EPOCH},
    {"leader, newer epoch: unknown", ISR_ROLE_LEADER, 6, true, TERN_ERR_UNKNOWN_LEADER_EPOCH},
    {"leader, no epoch sent", ISR_ROLE_LEADER, ISR_NO_EPOCH, true, TERN_OK},
    {"follower asked to lead", ISR_ROLE_FOLLOWER, 5, true, TERN_ERR_NOT_LEADER_OR_FOLLOWER},
    {"follower, any replica will do", ISR_ROLE_FOLLOWER, 5, false, TERN_OK},
    {"follower, older epoch: the fence first", ISR_ROLE_FOLLOWER, 4, true,
     TERN_ERR_FENCED_LEADER_EPOCH},
    {"follower, newer epoch", ISR_ROLE_FOLLOWER, 6, false, TERN_ERR_UNKNOWN_LEADER_EPOCH},
    {"no state yet", ISR_ROLE_NONE, 5, false, TERN_ERR_NOT_LEADER_OR_FOLLOWER},
};

START_TEST(test_fences)
{
	const fence_case_t *c = &fence_cases[_i];
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_leader_and_isr_t st = state_make(c->role == ISR_ROLE_LEADER ? 0 : 1, 5, 7, 3, 0x7);
	isr_partition_t p;
	isr_decisions_t d;
	int64_t off;

	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 10, 10, 10), TERN_OK);
	if (c->role == ISR_ROLE_LEADER)
		ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0, &d), TERN_OK);
	else if (c->role == ISR_ROLE_FOLLOWER)
		ck_assert_int_eq(isr_become_follower(&p, &st, 10, 10, &d), TERN_OK);
	ck_assert_msg(isr_check_epoch(&p, c->epoch, c->require_leader) == c->want, "%s: got %s",
		      c->name, tern_err_name(isr_check_epoch(&p, c->epoch, c->require_leader)));
	/* Fetch and ListOffsets go through the same fence. */
	if (c->require_leader) {
		tern_err_t want = c->want;

		ck_assert_int_eq(isr_list_latest(&p, c->epoch, &off), want);
		if (want == TERN_OK)
			want = TERN_ERR_UNKNOWN_LEADER_EPOCH; /* replica 9 is not a replica */
		ck_assert_int_eq(isr_follower_fetch(&p, 9, c->epoch, 0, 1, T0, &d), want);
	}
	isr_partition_fini(&p);
}
END_TEST

/* A stale state is refused, the same state again changes nothing, and one
 * leader epoch cannot have two leaders. */
START_TEST(test_state_order)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_leader_and_isr_t st = state_make(0, 3, 5, 3, 0x7);
	isr_partition_t p;
	isr_decisions_t d;

	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 10, 10, 0), TERN_OK);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0, &d), TERN_OK);
	ck_assert(d.assign_epoch);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0, &d), TERN_OK);
	ck_assert(!d.assign_epoch);
	st.partition_epoch = 4;
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0, &d),
			 TERN_ERR_INVALID_UPDATE_VERSION);
	st = state_make(0, 2, 9, 3, 0x7);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0, &d), TERN_ERR_FENCED_LEADER_EPOCH);
	st = state_make(1, 3, 6, 3, 0x7);
	ck_assert_int_eq(isr_become_follower(&p, &st, 10, 10, &d), TERN_ERR__INVALID_ARG);
	/* Malformed: the leader outside its ISR; self not a replica. */
	st = state_make(0, 4, 6, 3, 0x6);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0, &d), TERN_ERR__INVALID_ARG);
	st = state_make(1, 4, 6, 3, 0x7);
	st.replicas[0] = 7;
	ck_assert_int_eq(isr_become_follower(&p, &st, 10, 10, &d), TERN_ERR__INVALID_ARG);
	/* Same leader epoch, newer partition epoch: the ISR changes, the epoch
	 * does not start again. */
	st = state_make(0, 3, 6, 3, 0x3);
	ck_assert_int_eq(isr_become_leader(&p, &st, 12, 12, T0, &d), TERN_OK);
	ck_assert(!d.assign_epoch);
	ck_assert_uint_eq(mask_of(&p.isr), 0x3);
	ck_assert_int_eq(p.epoch_start, 10);
	check_valid(&p);
	isr_partition_fini(&p);
}
END_TEST

/* A new leader's HWM starts at its follower HWM, but never above what it
 * has acknowledged itself: under sync an unclean leader's follower HWM may
 * cover records it never fsynced. */
START_TEST(test_new_leader_hwm_capped)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_leader_and_isr_t st = state_make(0, 1, 1, 3, 0x3);
	isr_partition_t p;
	isr_decisions_t d;

	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 10, 6, 9), TERN_OK);
	ck_assert_int_eq(p.hwm, 9);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 6, T0, &d), TERN_OK);
	ck_assert(d.hwm_changed);
	ck_assert_int_eq(p.hwm, 6);
	check_valid(&p);
	isr_partition_fini(&p);
	/* Under async the plain LEO is what counts: nothing to cap. */
	cfg.flush = ISR_FLUSH_ASYNC;
	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 10, 6, 9), TERN_OK);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 6, T0, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 9);
	isr_partition_fini(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Follower progress: the two-step caught-up rule (KAFKA-4485)               */

typedef struct cu_step {
	int64_t append_to; /* > 0: the leader's LEO first becomes this */
	int64_t fetch_at;  /* then follower 1 fetches at this offset */
	int64_t t;	   /* at T0 + t */
	int64_t want_lcu;  /* lastCaughtUpTime afterwards, relative to T0 */
} cu_step_t;

/* Replica.updateFetchStateOrThrow, step by step. */
static const cu_step_t cu_steps[] = {
    {0, 0, 10, 10},	/* at the leader's LEO: caught up now */
    {5, 0, 20, 10},	/* behind, but at the LEO of the previous fetch (0): then */
    {0, 5, 30, 30},	/* at the LEO again */
    {8, 5, 40, 30},	/* reached the previous fetch's LEO (5): as of then, 30 */
    {12, 8, 50, 40},	/* reached the previous fetch's LEO (8): as of then, 40 */
    {0, 9, 60, 40},	/* missed the previous fetch's LEO (12): unchanged */
    {0, 12, 70, 70},	/* caught up */
    {20, 12, 1069, 70}, /* reached the LEO as of the previous fetch: as of 70 */
};

START_TEST(test_two_step_caught_up)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_ASYNC);
	isr_partition_t p;
	isr_decisions_t d;

	lead(&p, &cfg, 2, 0x3, 0, 0);
	ck_assert_int_eq(p.r[1].last_caught_up_ms, T0); /* ISR member at election */
	for (size_t i = 0; i < sizeof cu_steps / sizeof cu_steps[0]; i++) {
		const cu_step_t *s = &cu_steps[i];

		if (s->append_to)
			append(&p, s->append_to, T0 + s->t);
		ck_assert_int_eq(fetch(&p, 1, s->fetch_at, T0 + s->t, &d), TERN_OK);
		ck_assert_msg(p.r[1].last_caught_up_ms == T0 + s->want_lcu,
			      "step %zu: lastCaughtUp %lld, want %lld", i,
			      (long long)(p.r[1].last_caught_up_ms - T0), (long long)s->want_lcu);
	}
	/* Caught up until lastCaughtUp + lag, not after: the shrink check runs
	 * every lag / 2. */
	ck_assert_int_eq(isr_tick(&p, T0 + 70 + LAG, &d), TERN_OK);
	ck_assert(!d.alter);
	ck_assert_int_eq(isr_tick(&p, T0 + 70 + LAG + LAG / 2, &d), TERN_OK);
	ck_assert(d.alter);
	ck_assert_uint_eq(mask_of(&d.alter_req.isr), 0x1);
	isr_partition_fini(&p);
}
END_TEST

/* Non-ISR replicas start as "never" caught up (a sentinel, not 0: with a
 * clock near 0, 0 would look recent), and their LEO as unknown. */
START_TEST(test_never_is_not_zero)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_ASYNC);
	isr_leader_and_isr_t st = state_make(0, 1, 1, 3, 0x3);
	isr_partition_t p;
	isr_decisions_t d;
	int64_t off, ms;

	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 5, 5, 5), TERN_OK);
	ck_assert_int_eq(isr_become_leader(&p, &st, 5, 5, 10, &d), TERN_OK);
	all_healthy(&p);
	ck_assert_int_eq(p.r[2].last_caught_up_ms, ISR_TIME_NEVER);
	ck_assert_int_eq(p.r[2].leo, ISR_UNKNOWN_OFFSET);
	ck_assert_int_eq(p.r[1].last_caught_up_ms, 10);
	ck_assert_int_eq(isr_follower_lag(&p, 2, 20, &off, &ms), TERN_OK);
	ck_assert_int_eq(off, ISR_UNKNOWN_OFFSET);
	ck_assert_int_eq(ms, ISR_UNKNOWN_OFFSET);
	ck_assert_int_eq(isr_follower_lag(&p, 1, 20, &off, &ms), TERN_OK);
	ck_assert_int_eq(ms, 10);
	ck_assert_int_eq(isr_follower_lag(&p, 0, 20, &off, &ms), TERN_ERR__INVALID_ARG);
	/* Replica 2 fetches behind the leader at time 20: not caught up, so
	 * it cannot hold the HWM back, and it is not proposed. */
	ck_assert_int_eq(isr_follower_fetch(&p, 2, 1, 3, BEPOCH(2), 20, &d), TERN_OK);
	ck_assert(!d.alter);
	ck_assert_int_eq(p.r[2].last_caught_up_ms, ISR_TIME_NEVER);
	isr_partition_fini(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The HWM                                                                    */

/* Strict min-ISR (KAFKA-15583): with the committed ISR below the effective
 * min.insync the HWM does not move, even when every replica has the data;
 * a pending expansion is not enough, its commit is. */
START_TEST(test_hwm_strict_min_isr)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_ASYNC);
	isr_partition_t p;
	isr_decisions_t d;
	isr_set_t s;
	uint64_t id;

	lead(&p, &cfg, 3, 0x1, 0, 0);
	ck_assert_int_eq(isr_partition_mode(&p), ISR_MODE_FLOOR);
	ck_assert_int_eq(isr_produce_check(&p, -1), TERN_ERR_NOT_ENOUGH_REPLICAS);
	ck_assert_int_eq(isr_produce_check(&p, 1), TERN_OK);
	append(&p, 10, T0 + 1);
	ck_assert_int_eq(p.hwm, 0);
	ck_assert_int_eq(fetch(&p, 1, 10, T0 + 2, &d), TERN_OK);
	ck_assert(d.alter); /* 1 joins: pending */
	id = d.alter_req.id;
	ck_assert_int_eq(fetch(&p, 2, 10, T0 + 3, &d), TERN_OK);
	ck_assert(!d.alter); /* one change in flight */
	ck_assert_uint_eq(mask_of(&p.max_isr), 0x3);
	ck_assert_int_eq(p.hwm, 0);
	s = set_of(0x3);
	ck_assert_int_eq(isr_alter_committed(&p, id, 1, 2, &s, T0 + 4, &d), TERN_OK);
	ck_assert(d.hwm_changed);
	ck_assert_int_eq(p.hwm, 10);
	ck_assert_int_eq(isr_partition_mode(&p), ISR_MODE_DEGRADED);
	isr_partition_fini(&p);
}
END_TEST

/* min.insync above the replication factor counts as the replication factor
 * (Kafka's effectiveMinIsr), for the HWM and for acks=all alike. */
START_TEST(test_hwm_effective_min)
{
	isr_config_t cfg = cfg_make(3, ISR_FLUSH_ASYNC);
	isr_partition_t p;
	isr_decisions_t d;

	lead(&p, &cfg, 2, 0x3, 0, 0);
	ck_assert_int_eq(isr_effective_min_insync(&p), 2);
	ck_assert_int_eq(isr_produce_check(&p, -1), TERN_OK);
	append(&p, 4, T0 + 1);
	ck_assert_int_eq(fetch(&p, 1, 4, T0 + 2, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 4);
	ck_assert_int_eq(isr_partition_mode(&p), ISR_MODE_TARGET);
	isr_partition_fini(&p);
}
END_TEST

typedef struct hwm_case {
	const char *name;
	isr_flush_policy_t flush;
	unsigned isr;
	int64_t leo, durable;
	int64_t f1, f2;	    /* follower fetch offsets (-1: none) */
	bool f2_ineligible; /* replica 2's broker is shutting down */
	int64_t want;
} hwm_case_t;

/* Leader 0 with LEO leo (durable), replicas 1 and 2 fetch (in that order,
 * at T0 + 1) at f1/f2. min.insync 1. */
static const hwm_case_t hwm_cases[] = {
    {"the ISR's smallest LEO", ISR_FLUSH_ASYNC, 0x7, 10, 10, 7, 9, false, 7},
    {"an unknown LEO holds it", ISR_FLUSH_ASYNC, 0x7, 10, 10, 10, -1, false, 0},
    {"a caught-up non-member holds it", ISR_FLUSH_ASYNC, 0x3, 10, 10, 10, 10, false, 10},
    {"a lagging non-member does not", ISR_FLUSH_ASYNC, 0x3, 10, 10, 10, 4, false, 10},
    {"sync: the leader's durable end", ISR_FLUSH_SYNC, 0x7, 10, 6, 10, 10, false, 6},
    {"async: the leader's plain end", ISR_FLUSH_ASYNC, 0x7, 10, 6, 10, 10, false, 10},
    {"sync: follower's durable past the leader's", ISR_FLUSH_SYNC, 0x3, 10, 6, 8, -1, false, 6},
};

START_TEST(test_hwm_candidate)
{
	const hwm_case_t *c = &hwm_cases[_i];
	isr_config_t cfg = cfg_make(1, c->flush);
	isr_leader_and_isr_t st = state_make(0, 1, 1, 3, c->isr);
	isr_partition_t p;
	isr_decisions_t d;

	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, c->leo, c->durable, 0), TERN_OK);
	ck_assert_int_eq(isr_become_leader(&p, &st, c->leo, c->durable, T0, &d), TERN_OK);
	all_healthy(&p);
	if (c->f1 >= 0)
		ck_assert_int_eq(fetch(&p, 1, c->f1, T0 + 1, &d), TERN_OK);
	if (c->f2 >= 0)
		ck_assert_int_eq(fetch(&p, 2, c->f2, T0 + 1, &d), TERN_OK);
	ck_assert_msg(p.hwm == c->want, "%s: HWM %lld, want %lld", c->name, (long long)p.hwm,
		      (long long)c->want);
	check_valid(&p);
	isr_partition_fini(&p);
}
END_TEST

/* A caught-up follower outside the ISR holds the HWM back only while it is
 * eligible; a pending expansion counts at once, a pending shrink only once
 * committed. */
START_TEST(test_hwm_maximal_isr)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_ASYNC);
	isr_partition_t p;
	isr_decisions_t d;
	isr_health_t h = healthy(2);
	isr_set_t s;

	lead(&p, &cfg, 3, 0x3, 10, 0);
	ck_assert_int_eq(fetch(&p, 1, 10, T0 + 1, &d), TERN_OK);
	ck_assert_int_eq(fetch(&p, 2, 10, T0 + 1, &d), TERN_OK); /* joins: pending */
	ck_assert(d.alter);
	ck_assert_uint_eq(mask_of(&p.max_isr), 0x7);
	append(&p, 20, T0 + 2);
	ck_assert_int_eq(fetch(&p, 1, 20, T0 + 3, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 10); /* 2, pending, still at 10 */
	/* The controller refuses the expansion: 2 no longer counts as in the
	 * ISR, but it is still caught up and eligible, so it still holds. */
	ck_assert_int_eq(
	    isr_alter_rejected(&p, d.alter_req.id, TERN_ERR_OPERATION_NOT_ATTEMPTED, T0 + 4, &d),
	    TERN_ERR__STATE);
	ck_assert_int_eq(
	    isr_alter_rejected(&p, p.pending.id, TERN_ERR_OPERATION_NOT_ATTEMPTED, T0 + 4, &d),
	    TERN_OK);
	ck_assert_uint_eq(mask_of(&p.max_isr), 0x3);
	ck_assert_int_eq(p.hwm, 10);
	/* 2 begins a controlled shutdown: not eligible: the HWM moves. */
	h.shutting_down = true;
	ck_assert_int_eq(isr_set_health(&p, 2, &h, T0 + 5, &d), TERN_OK);
	ck_assert(d.hwm_changed);
	ck_assert_int_eq(p.hwm, 20);
	/* A pending shrink does not count: 1 stops fetching (the leader
	 * appends, so 1 no longer has its LEO), the tick proposes dropping
	 * it, and until the commit the HWM waits for 1. 1 was last caught up
	 * at T0 + 3: still so at T0 + 3 + LAG; the next check is lag / 2
	 * later. */
	append(&p, 30, T0 + 6);
	ck_assert_int_eq(isr_tick(&p, T0 + 3 + LAG, &d), TERN_OK);
	ck_assert(!d.alter);
	ck_assert_int_eq(isr_tick(&p, T0 + 3 + LAG + 1, &d), TERN_OK);
	ck_assert(!d.alter); /* not due */
	ck_assert_int_eq(isr_tick(&p, T0 + 3 + LAG + LAG / 2, &d), TERN_OK);
	ck_assert(d.alter);
	ck_assert_uint_eq(mask_of(&d.alter_req.isr), 0x1);
	ck_assert_uint_eq(mask_of(&p.max_isr), 0x3);
	ck_assert_int_eq(p.hwm, 20);
	s = set_of(0x1);
	ck_assert_int_eq(isr_alter_committed(&p, p.pending.id, 1, 3, &s, T0 + 2 * LAG, &d),
			 TERN_OK);
	ck_assert_int_eq(p.hwm, 30);
	check_valid(&p);
	isr_partition_fini(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ISR expansion                                                              */

typedef struct expand_case {
	const char *name;
	int64_t fetch_at;
	int64_t broker_epoch; /* what the fetch names */
	isr_health_t health;  /* replica 1's */
	bool want;
} expand_case_t;

/* A new leader with LEO 10 whose HWM is 5 (its follower HWM lagged): its
 * epoch starts at 10, and ISR member 2 (not fetched yet) holds the HWM at
 * 5. Replica 1 (not in the ISR) fetches. */
static const expand_case_t expand_cases[] = {
    {"at the HWM only (KAFKA-7128)", 7, BEPOCH(1), {true, false, false, BEPOCH(1)}, false},
    {"at the epoch start", 10, BEPOCH(1), {true, false, false, BEPOCH(1)}, true},
    {"below the HWM", 4, BEPOCH(1), {true, false, false, BEPOCH(1)}, false},
    {"broker dead", 10, BEPOCH(1), {false, false, false, BEPOCH(1)}, false},
    {"shutting down", 10, BEPOCH(1), {true, true, false, BEPOCH(1)}, false},
    {"corrupt", 10, BEPOCH(1), {true, false, true, BEPOCH(1)}, false},
    {"fetch names a newer epoch than metadata",
     10,
     BEPOCH(1) + 1,
     {true, false, false, BEPOCH(1)},
     false},
    {"broker epoch unknown", 10, BEPOCH(1), {true, false, false, ISR_NO_BROKER_EPOCH}, false},
};

START_TEST(test_expand)
{
	const expand_case_t *c = &expand_cases[_i];
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_partition_t p;
	isr_decisions_t d;

	lead(&p, &cfg, 3, 0x5, 10, 5);
	ck_assert_int_eq(p.epoch_start, 10);
	ck_assert_int_eq(p.hwm, 5);
	ck_assert_int_eq(isr_set_health(&p, 1, &c->health, T0, &d), TERN_OK);
	ck_assert_int_eq(isr_follower_fetch(&p, 1, 1, c->fetch_at, c->broker_epoch, T0 + 1, &d),
			 TERN_OK);
	ck_assert_msg(d.alter == c->want, "%s", c->name);
	if (c->want) {
		ck_assert_uint_eq(mask_of(&d.alter_req.isr), 0x7);
		ck_assert_int_eq(d.alter_req.leader_epoch, 1);
		ck_assert_int_eq(d.alter_req.partition_epoch, 1);
		ck_assert_int_eq(d.alter_req.broker_epoch[0], BEPOCH(0));
		ck_assert_int_eq(d.alter_req.broker_epoch[1], BEPOCH(1));
		/* 2 has not fetched in this epoch: no epoch to vouch for. */
		ck_assert_int_eq(d.alter_req.broker_epoch[2], ISR_NO_BROKER_EPOCH);
		ck_assert_uint_eq(mask_of(&p.max_isr), 0x7);
	}
	isr_partition_fini(&p);
}
END_TEST

/* A fetch naming an older broker epoch than the registration is from
 * before a restart: refused, and nothing recorded. */
START_TEST(test_stale_broker_epoch)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_partition_t p;
	isr_decisions_t d;

	lead(&p, &cfg, 2, 0x3, 10, 0);
	ck_assert_int_eq(isr_follower_fetch(&p, 1, 1, 10, BEPOCH(1) - 1, T0 + 1, &d),
			 TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(p.r[1].leo, ISR_UNKNOWN_OFFSET);
	ck_assert_int_eq(isr_follower_fetch(&p, 1, 1, 11, BEPOCH(1), T0 + 1, &d),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(isr_follower_fetch(&p, 1, 1, 10, BEPOCH(1), T0 + 1, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 10);
	isr_partition_fini(&p);
}
END_TEST

/* AlterPartition answers: stale answers are ignored, a stale proposal
 * waits for new metadata, a lost one is sent again. */
START_TEST(test_alter_answers)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_leader_and_isr_t st;
	isr_partition_t p;
	isr_decisions_t d;
	isr_set_t s = set_of(0x3);
	uint64_t id;

	lead(&p, &cfg, 3, 0x1, 10, 10);
	ck_assert_int_eq(fetch(&p, 1, 10, T0 + 1, &d), TERN_OK);
	ck_assert(d.alter);
	id = d.alter_req.id;
	/* Lost on the way: send the same proposal again. */
	ck_assert_int_eq(isr_alter_rejected(&p, id, TERN_ERR_REQUEST_TIMED_OUT, T0 + 2, &d),
			 TERN_OK);
	ck_assert(d.alter);
	ck_assert_uint_eq(d.alter_req.id, id);
	/* Stale: wait for new metadata; no new proposal meanwhile. */
	ck_assert_int_eq(isr_alter_rejected(&p, id, TERN_ERR_INVALID_UPDATE_VERSION, T0 + 3, &d),
			 TERN_OK);
	ck_assert(p.alter_stuck && p.alter_inflight);
	ck_assert_int_eq(fetch(&p, 2, 10, T0 + 4, &d), TERN_OK);
	ck_assert(!d.alter);
	/* Answers for another proposal, or older than what p knows. */
	ck_assert_int_eq(isr_alter_committed(&p, id + 1, 1, 2, &s, T0 + 5, &d), TERN_ERR__STATE);
	ck_assert_int_eq(isr_alter_committed(&p, id, 0, 2, &s, T0 + 5, &d),
			 TERN_ERR_FENCED_LEADER_EPOCH);
	ck_assert_int_eq(isr_alter_committed(&p, id, 1, 0, &s, T0 + 5, &d),
			 TERN_ERR_INVALID_UPDATE_VERSION);
	s = set_of(0x2);
	ck_assert_int_eq(isr_alter_committed(&p, id, 1, 2, &s, T0 + 5, &d), TERN_ERR__INVALID_ARG);
	/* New metadata (the controller removed nobody, but moved on): the
	 * stuck proposal is gone and the leader proposes again. */
	st = state_make(0, 1, 4, 3, 0x1);
	ck_assert_int_eq(isr_become_leader(&p, &st, 10, 10, T0 + 6, &d), TERN_OK);
	ck_assert(!p.alter_inflight && !p.alter_stuck);
	ck_assert_int_eq(fetch(&p, 2, 10, T0 + 7, &d), TERN_OK);
	ck_assert(d.alter);
	ck_assert_int_eq(d.alter_req.partition_epoch, 4);
	ck_assert_uint_eq(mask_of(&d.alter_req.isr), 0x5);
	/* An answer from the controller for a proposal that metadata already
	 * replaced is not taken for the new one. */
	s = set_of(0x3);
	ck_assert_int_eq(isr_alter_committed(&p, id, 1, 5, &s, T0 + 8, &d), TERN_ERR__STATE);
	s = set_of(0x5);
	ck_assert_int_eq(isr_alter_committed(&p, p.pending.id, 1, 5, &s, T0 + 8, &d), TERN_OK);
	ck_assert_int_eq(p.counters.alters_committed, 1);
	check_valid(&p);
	isr_partition_fini(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Produce                                                                    */

START_TEST(test_produce_answers)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC);
	isr_partition_t p;
	isr_decisions_t d;
	isr_set_t s;

	lead(&p, &cfg, 3, 0x3, 0, 0);
	ck_assert_int_eq(isr_produce_check(&p, 2), TERN_ERR_INVALID_REQUIRED_ACKS);
	ck_assert_int_eq(isr_produce_check(&p, -2), TERN_ERR_INVALID_REQUIRED_ACKS);
	ck_assert_int_eq(isr_produce_check(&p, -1), TERN_OK);
	/* acks=1 under sync: once the leader's append is fsynced. */
	ck_assert_int_eq(isr_local_append(&p, 3, T0, &d), TERN_OK);
	ck_assert_int_eq(isr_produce_wait(&p, 1, 3, T0 + 100, 11, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 0);
	ck_assert_int_eq(isr_durable_advance(&p, 3, T0, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 1);
	ck_assert_uint_eq(d.done[0].token, 11);
	ck_assert_int_eq(d.done[0].err, TERN_OK);
	/* acks=0: nothing to answer. */
	ck_assert_int_eq(isr_produce_wait(&p, 0, 3, T0 + 100, 12, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 0);
	/* acks=all: at the HWM, registered in any order. */
	append(&p, 6, T0);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 6, T0 + 100, 14, &d), TERN_OK);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 3, T0 + 100, 13, &d), TERN_OK);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 7, T0, 99, &d), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(fetch(&p, 1, 3, T0 + 1, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 1);
	ck_assert_uint_eq(d.done[0].token, 13);
	ck_assert_int_eq(fetch(&p, 1, 6, T0 + 2, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 1);
	ck_assert_uint_eq(d.done[0].token, 14);
	ck_assert_int_eq(d.done[0].err, TERN_OK);
	/* Timeout: 1 stops fetching; the waiter's deadline passes. */
	append(&p, 8, T0 + 3);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 8, T0 + 50, 15, &d), TERN_OK);
	ck_assert_int_eq(isr_tick(&p, T0 + 49, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 0);
	ck_assert_int_eq(isr_tick(&p, T0 + 50, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 1);
	ck_assert_int_eq(d.done[0].err, TERN_ERR_REQUEST_TIMED_OUT);
	/* 20: the ISR shrinks below min.insync, and a waiter is registered
	 * only after the HWM had passed its offset (a broker that registers
	 * after its append completed): the data is in, the guarantee is not. */
	append(&p, 9, T0 + 60);
	ck_assert_int_eq(fetch(&p, 1, 9, T0 + 61, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 9);
	append(&p, 10, T0 + 62);
	ck_assert_int_eq(isr_tick(&p, T0 + 61 + 2 * LAG, &d), TERN_OK);
	ck_assert(d.alter);
	s = set_of(0x1);
	ck_assert_int_eq(isr_alter_committed(&p, d.alter_req.id, 1, 2, &s, T0 + 62 + 2 * LAG, &d),
			 TERN_OK);
	ck_assert_int_eq(isr_produce_check(&p, -1), TERN_ERR_NOT_ENOUGH_REPLICAS);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 9, T0 + 5 * LAG, 16, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, 1);
	ck_assert_int_eq(d.done[0].err, TERN_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
	ck_assert_int_eq(p.counters.acks_all_after_append, 1);
	/* Leadership ends: every waiter is answered NOT_LEADER_OR_FOLLOWER. */
	ck_assert_int_eq(isr_local_append(&p, 11, T0 + 3 * LAG, &d), TERN_OK);
	ck_assert_int_eq(isr_produce_wait(&p, 1, 11, T0 + 5 * LAG, 17, &d), TERN_OK);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 11, T0 + 5 * LAG, 18, &d), TERN_OK);
	{
		isr_leader_and_isr_t st = state_make(1, 2, 5, 3, 0x3);

		ck_assert_int_eq(isr_become_follower(&p, &st, 11, 10, &d), TERN_OK);
	}
	ck_assert(d.reconcile);
	ck_assert_uint_eq(d.ndone, 2);
	ck_assert_int_eq(d.done[0].err, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(d.done[1].err, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(isr_produce_check(&p, 1), TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(isr_produce_wait(&p, -1, 11, T0, 19, &d), TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	check_valid(&p);
	isr_partition_fini(&p);
}
END_TEST

/* Many waiters: they are answered in offset order whatever the order of
 * registration, and the completion list grows with them. */
START_TEST(test_many_waiters)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_ASYNC);
	isr_partition_t p;
	isr_decisions_t d;
	const int n = 1000;

	lead(&p, &cfg, 2, 0x3, 0, 0);
	append(&p, n, T0);
	for (int i = n; i >= 1; i--)
		ck_assert_int_eq(isr_produce_wait(&p, -1, i, T0 + 10, (uint64_t)i, &d), TERN_OK);
	ck_assert_int_eq(fetch(&p, 1, n / 2, T0 + 1, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, (size_t)n / 2);
	for (size_t i = 0; i < d.ndone; i++)
		ck_assert_uint_eq(d.done[i].token, i + 1);
	ck_assert_int_eq(isr_tick(&p, T0 + 10, &d), TERN_OK);
	ck_assert_uint_eq(d.ndone, (size_t)n / 2);
	ck_assert_int_eq(p.counters.acks_timed_out, n / 2);
	isr_partition_fini(&p);
}
END_TEST

/* KIP-207: a new leader whose HWM is below its epoch start answers
 * ListOffsets "latest" with OFFSET_NOT_AVAILABLE until it catches up. */
START_TEST(test_list_latest_kip207)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_partition_t p;
	isr_decisions_t d;
	int64_t off = -5;

	lead(&p, &cfg, 2, 0x3, 10, 6);
	ck_assert_int_eq(isr_list_latest(&p, 1, &off), TERN_ERR_OFFSET_NOT_AVAILABLE);
	ck_assert_int_eq(off, -5);
	ck_assert_int_eq(fetch(&p, 1, 8, T0 + 1, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 8);
	ck_assert_int_eq(isr_list_latest(&p, 1, &off), TERN_ERR_OFFSET_NOT_AVAILABLE);
	ck_assert_int_eq(fetch(&p, 1, 10, T0 + 2, &d), TERN_OK);
	ck_assert_int_eq(isr_list_latest(&p, ISR_NO_EPOCH, &off), TERN_OK);
	ck_assert_int_eq(off, 10);
	ck_assert_int_eq(isr_list_latest(&p, 0, &off), TERN_ERR_FENCED_LEADER_EPOCH);
	isr_partition_fini(&p);
}
END_TEST

/* A follower's HWM is min(leader's HWM, own LEO), after truncation too. */
START_TEST(test_follower_hwm)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_leader_and_isr_t st = state_make(1, 1, 1, 2, 0x3);
	isr_partition_t p;
	isr_decisions_t d;

	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 5, 5, 3), TERN_OK);
	ck_assert_int_eq(isr_become_follower(&p, &st, 5, 5, &d), TERN_OK);
	ck_assert(d.reconcile);
	ck_assert_int_eq(isr_follower_progress(&p, 8, 8, 7, &d), TERN_OK);
	ck_assert(d.hwm_changed);
	ck_assert_int_eq(p.hwm, 7);
	ck_assert_int_eq(isr_follower_progress(&p, 9, 9, 12, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 9);
	ck_assert_int_eq(isr_follower_progress(&p, 6, 6, ISR_UNKNOWN_OFFSET, &d), TERN_OK);
	ck_assert_int_eq(p.hwm, 6);
	ck_assert_int_eq(isr_follower_progress(&p, 6, 7, 5, &d), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(isr_local_append(&p, 9, T0, &d), TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	check_valid(&p);
	isr_partition_fini(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reconciliation                                                             */

#define MAXE 6

typedef struct rec_case {
	const char *name;
	isr_epoch_entry_t cache[MAXE];
	size_t n;
	int64_t leo;
	int32_t asked, le; /* the question and the leader's answer */
	int64_t lend;
	tern_err_t want_err;
	bool done;
	int64_t truncate_to;
	int32_t ask;
} rec_case_t;

#define E(e, o)                                                                                    \
	{                                                                                          \
		(e), (o)                                                                           \
	}

static const rec_case_t rec_cases[] = {
    {"same latest epoch, leader longer",
     {E(1, 0), E(3, 10)},
     2,
     15,
     3,
     3,
     20,
     TERN_OK,
     true,
     15,
     ISR_NO_EPOCH},
    {"same latest epoch, leader shorter",
     {E(1, 0), E(3, 10)},
     2,
     15,
     3,
     3,
     12,
     TERN_OK,
     true,
     12,
     ISR_NO_EPOCH},
    {"leader never had epoch 3 (KIP-279)",
     {E(1, 0), E(3, 10)},
     2,
     15,
     3,
     2,
     12,
     TERN_OK,
     false,
     10,
     1},
    {"older epoch: min of both ends",
     {E(1, 0), E(3, 10)},
     2,
     10,
     1,
     1,
     8,
     TERN_OK,
     true,
     8,
     ISR_NO_EPOCH},
    {"older epoch, leader's runs on",
     {E(1, 0), E(3, 10)},
     2,
     10,
     1,
     1,
     14,
     TERN_OK,
     true,
     10,
     ISR_NO_EPOCH},
    {"every epoch here unknown there", {E(4, 5)}, 1, 9, 4, 2, 7, TERN_OK, true, 5, ISR_NO_EPOCH},
    {"echoed epoch below the leader's log start",
     {E(2, 4)},
     1,
     6,
     2,
     2,
     10,
     TERN_OK,
     true,
     6,
     ISR_NO_EPOCH},
    {"leader knows no epoch <= ours",
     {E(1, 0)},
     1,
     5,
     1,
     -1,
     -1,
     TERN_ERR_UNKNOWN_LEADER_EPOCH,
     false,
     0,
     0},
    {"answer newer than the question",
     {E(1, 0)},
     1,
     5,
     1,
     2,
     5,
     TERN_ERR__INVALID_ARG,
     false,
     0,
     0},
    {"negative end", {E(1, 0)}, 1, 5, 1, 1, -3, TERN_ERR__INVALID_ARG, false, 0, 0},
    {"epochs out of order", {E(3, 0), E(2, 4)}, 2, 5, 2, 2, 5, TERN_ERR__INVALID_ARG, false, 0, 0},
    {"nothing asked from an empty cache",
     {E(0, 0)},
     0,
     0,
     1,
     1,
     0,
     TERN_ERR__INVALID_ARG,
     false,
     0,
     0},
};

START_TEST(test_reconcile_step)
{
	const rec_case_t *c = &rec_cases[_i];
	isr_reconcile_t r = {0};
	tern_err_t err = isr_reconcile_step(c->cache, c->n, c->leo, c->asked, c->le, c->lend, &r);

	ck_assert_msg(err == c->want_err, "%s: %s", c->name, tern_err_name(err));
	if (err != TERN_OK)
		return;
	ck_assert_msg(r.done == c->done && r.truncate_to == c->truncate_to,
		      "%s: done %d truncate %lld", c->name, r.done, (long long)r.truncate_to);
	if (!r.done)
		ck_assert_int_eq(r.ask_epoch, c->ask);
}
END_TEST

typedef struct loop_case {
	const char *name;
	isr_epoch_entry_t fcache[MAXE]; /* follower */
	size_t fn;
	int64_t fleo;
	isr_epoch_entry_t lcache[MAXE]; /* leader */
	size_t ln;
	int64_t lleo;
	int64_t lstart; /* leader's log start (its cache truncated from there) */
	int64_t want;	/* where the follower ends up */
	int rounds;	/* OffsetForLeaderEpoch requests sent */
} loop_case_t;

/* Whole reconciliations against a leader whose answers come from log/'s
 * epoch cache (Kafka's LeaderEpochFileCache.endOffsetFor). */
static const loop_case_t loop_cases[] = {
    /* KIP-101: the follower's HWM (1) lags; truncating to it would drop
     * offset 1, committed on the leader. The epoch says keep it. */
    {"KIP-101: keep what the leader has", {E(1, 0)}, 1, 2, {E(1, 0)}, 1, 2, 0, 2, 1},
    /* KIP-279: the follower wrote offset 1 in epoch 2, which the leader
     * (elected for epoch 3) never saw; the leader holds epoch 1 there. */
    {"KIP-279: drop an epoch the leader never had",
     {E(1, 0), E(2, 1)},
     2,
     2,
     {E(1, 0), E(3, 2)},
     2,
     3,
     0,
     1,
     1},
    {"KIP-279: two unknown epochs in a row",
     {E(1, 0), E(2, 5), E(4, 8)},
     3,
     12,
     {E(1, 0), E(3, 6), E(5, 9)},
     3,
     15,
     0,
     5,
     2},
    {"same epoch, follower ahead",
     {E(1, 0), E(2, 5)},
     2,
     12,
     {E(1, 0), E(2, 5), E(3, 9)},
     3,
     20,
     0,
     9,
     1},
    {"follower behind", {E(1, 0)}, 1, 3, {E(1, 0), E(2, 5)}, 2, 9, 0, 3, 1},
    {"empty follower: nothing to ask", {E(0, 0)}, 0, 0, {E(1, 0)}, 1, 9, 0, 0, 0},
    {"leader's log start past the follower",
     {E(1, 0), E(2, 4)},
     2,
     6,
     {E(1, 0), E(3, 10)},
     2,
     12,
     10,
     6,
     1},
};

START_TEST(test_reconcile_loop)
{
	const loop_case_t *c = &loop_cases[_i];
	isr_epoch_entry_t f[MAXE];
	log_epoch_cache_t lc;
	isr_reconcile_t r;
	size_t fn = c->fn;
	int64_t fleo = c->fleo;
	int rounds = 0;

	memcpy(f, c->fcache, sizeof f);
	log_epoch_cache_init(&lc);
	for (size_t i = 0; i < c->ln; i++)
		log_epoch_cache_assign(&lc, c->lcache[i].epoch, c->lcache[i].start_offset);
	if (c->lstart > 0)
		log_epoch_cache_truncate_from_start(&lc, c->lstart);
	ck_assert_int_eq(isr_reconcile_begin(f, fn, fleo, &r), TERN_OK);
	while (!r.done) {
		int32_t le;
		int64_t lend;

		ck_assert_int_lt(rounds++, 10);
		log_epoch_cache_end_offset(&lc, r.ask_epoch, c->lleo, &le, &lend);
		ck_assert_int_eq(isr_reconcile_step(f, fn, fleo, r.ask_epoch, le, lend, &r),
				 TERN_OK);
		/* Truncate the follower: its log, then its cache. */
		if (r.truncate_to < fleo)
			fleo = r.truncate_to;
		while (fn > 0 && f[fn - 1].start_offset >= fleo)
			fn--;
		if (!r.done)
			ck_assert_int_eq(isr_reconcile_begin(f, fn, fleo, &r), TERN_OK);
	}
	ck_assert_msg(fleo == c->want, "%s: ends at %lld, want %lld", c->name, (long long)fleo,
		      (long long)c->want);
	ck_assert_int_eq(rounds, c->rounds);
	log_epoch_cache_free(&lc);
}
END_TEST

typedef struct oor_case {
	int64_t fetch, start, leo;
	tern_err_t err;
	isr_oor_action_t action;
	int64_t restart;
} oor_case_t;

static const oor_case_t oor_cases[] = {
    {3, 10, 20, TERN_OK, ISR_OOR_RESTART_AT, 10}, {25, 10, 20, TERN_OK, ISR_OOR_RECONCILE, 0},
    {15, 10, 20, TERN_OK, ISR_OOR_RETRY, 0},	  {20, 10, 20, TERN_OK, ISR_OOR_RETRY, 0},
    {10, 10, 20, TERN_OK, ISR_OOR_RETRY, 0},	  {5, 20, 10, TERN_ERR__INVALID_ARG, 0, 0},
    {-1, 0, 10, TERN_ERR__INVALID_ARG, 0, 0},
};

START_TEST(test_out_of_range)
{
	const oor_case_t *c = &oor_cases[_i];
	isr_oor_action_t a;
	int64_t at = 0;

	ck_assert_int_eq(isr_follower_out_of_range(c->fetch, c->start, c->leo, &a, &at), c->err);
	if (c->err != TERN_OK)
		return;
	ck_assert_int_eq(a, c->action);
	if (a == ISR_OOR_RESTART_AT)
		ck_assert_int_eq(at, c->restart);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The controller                                                             */

/* Three replicas, all registered (broker epochs BEPOCH(i)), replica 0 leads
 * epoch 1. */
static void ctl_up(isr_ctl_t *c, const isr_config_t *cfg, int32_t n)
{
	int32_t replicas[ISR_MAX_REPLICAS];
	isr_ctl_result_t r;

	for (int32_t i = 0; i < n; i++)
		replicas[i] = i;
	ck_assert_int_eq(isr_ctl_init(c, cfg, replicas, n), TERN_OK);
	ck_assert_int_eq(isr_ctl_mode(c), ISR_MODE_OFFLINE);
	for (int32_t i = 0; i < n; i++)
		ck_assert_int_eq(isr_ctl_register(c, i, BEPOCH(i), true, &r), TERN_OK);
	ck_assert_int_eq(c->leader, 0);
	ck_assert_int_eq(c->leader_epoch, 1);
}

static void ctl_valid(const isr_ctl_t *c)
{
	char why[256] = "";

	ck_assert_msg(isr_ctl_validate(c, why, sizeof why) == TERN_OK, "%s", why);
}

static isr_alter_t alter_make(int32_t leader, int32_t le, int32_t pe, unsigned isr)
{
	isr_alter_t a;

	memset(&a, 0, sizeof a);
	a.id = 1;
	a.leader = leader;
	a.leader_epoch = le;
	a.partition_epoch = pe;
	a.isr = set_of(isr);
	for (int32_t i = 0; i < a.isr.n; i++)
		a.broker_epoch[i] = BEPOCH(a.isr.id[i]);
	return a;
}

#define NOE                                                                                        \
	{                                                                                          \
		ISR_NO_BROKER_EPOCH, ISR_NO_BROKER_EPOCH, ISR_NO_BROKER_EPOCH                      \
	}

typedef struct ctl_alter_case {
	const char *name;
	isr_alter_t req;
	int shut; /* replica shutting down first, -1: none */
	tern_err_t want;
} ctl_alter_case_t;

/* The controller at leader 0, leader epoch 1, partition epoch 1, ISR {0,1,2}
 * after a first shrink to {0,1}. */
static const ctl_alter_case_t ctl_alter_cases[] = {
    {"accepted", {1, 0, 1, 2, {2, {0, 2}}, {BEPOCH(0), BEPOCH(2)}}, -1, TERN_OK},
    {"older leader epoch", {1, 0, 0, 2, {2, {0, 2}}, NOE}, -1, TERN_ERR_FENCED_LEADER_EPOCH},
    {"older partition epoch", {1, 0, 1, 1, {2, {0, 2}}, NOE}, -1, TERN_ERR_INVALID_UPDATE_VERSION},
    {"newer epochs: a stale controller",
     {1, 0, 1, 3, {2, {0, 2}}, NOE},
     -1,
     TERN_ERR_NOT_CONTROLLER},
    {"not from the leader", {1, 1, 1, 2, {2, {0, 1}}, NOE}, -1, TERN_ERR_INVALID_REQUEST},
    {"ISR without the leader", {1, 0, 1, 2, {1, {1}}, NOE}, -1, TERN_ERR_INVALID_REQUEST},
    {"ISR outside the replicas", {1, 0, 1, 2, {2, {0, 7}}, NOE}, -1, TERN_ERR_INVALID_REQUEST},
    {"adding a shutting-down broker",
     {1, 0, 1, 2, {3, {0, 1, 2}}, NOE},
     2,
     TERN_ERR_OPERATION_NOT_ATTEMPTED},
    {"broker epoch from before a restart (KIP-903)",
     {1, 0, 1, 2, {3, {0, 1, 2}}, {BEPOCH(0), BEPOCH(1), BEPOCH(2) - 1}},
     -1,
     TERN_ERR_OPERATION_NOT_ATTEMPTED},
    {"the same ISR: nothing to do", {1, 0, 1, 2, {2, {0, 1}}, NOE}, -1, TERN_OK},
};

START_TEST(test_ctl_alter)
{
	const ctl_alter_case_t *c = &ctl_alter_cases[_i];
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_alter_t shrink = alter_make(0, 1, 0, 0x3);
	isr_ctl_result_t r;
	isr_ctl_t ctl;
	tern_err_t err;
	int32_t pe;

	ctl_up(&ctl, &cfg, 3);
	ck_assert_int_eq(ctl.partition_epoch, 1);
	shrink.partition_epoch = 1;
	ck_assert_int_eq(isr_ctl_alter(&ctl, &shrink, &r), TERN_OK);
	ck_assert(r.changed);
	ck_assert_int_eq(ctl.partition_epoch, 2);
	ck_assert_int_eq(ctl.leader_epoch, 1);
	if (c->shut >= 0) {
		ck_assert_int_eq(isr_ctl_shutdown(&ctl, c->shut, &r), TERN_OK);
		ck_assert(!r.changed); /* not in the ISR: nothing to change */
	}
	pe = ctl.partition_epoch;
	err = isr_ctl_alter(&ctl, &c->req, &r);
	ck_assert_msg(err == c->want, "%s: %s", c->name, tern_err_name(err));
	if (err != TERN_OK || mask_of(&c->req.isr) == mask_of(&shrink.isr)) {
		ck_assert(!r.changed);
		ck_assert_int_eq(ctl.partition_epoch, pe);
	} else {
		ck_assert(r.changed);
		ck_assert_int_eq(ctl.partition_epoch, pe + 1);
		ck_assert_uint_eq(mask_of(&ctl.isr), mask_of(&c->req.isr));
	}
	ck_assert_int_eq(ctl.leader_epoch, 1);
	ctl_valid(&ctl);
}
END_TEST

/* Dead, shutting-down and corrupt brokers leave the ISR at once; a leader
 * among them is replaced; the last member stays (without ELR). */
START_TEST(test_ctl_removals)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC);
	isr_ctl_result_t r;
	isr_ctl_t ctl;

	ctl_up(&ctl, &cfg, 3);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_TARGET);
	ck_assert_int_eq(isr_ctl_fence(&ctl, 2, &r), TERN_OK);
	ck_assert(r.changed && !r.elected);
	ck_assert_uint_eq(mask_of(&ctl.isr), 0x3);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_DEGRADED);
	ck_assert_int_eq(isr_ctl_shutdown(&ctl, 0, &r), TERN_OK);
	ck_assert(r.changed && r.elected && !r.unclean);
	ck_assert_int_eq(ctl.leader, 1);
	ck_assert_int_eq(ctl.leader_epoch, 2);
	ck_assert_uint_eq(mask_of(&ctl.isr), 0x2);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_FLOOR);
	/* The last member: it stays in the ISR, the partition goes offline,
	 * and the leader epoch moves on (fencing the old leader). */
	ck_assert_int_eq(isr_ctl_set_corrupt(&ctl, 1, true, &r), TERN_OK);
	ck_assert(r.elected);
	ck_assert_int_eq(ctl.leader, ISR_NO_LEADER);
	ck_assert_int_eq(ctl.leader_epoch, 3);
	ck_assert_uint_eq(mask_of(&ctl.isr), 0x2);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_OFFLINE);
	/* 2 comes back: not in the ISR, so not electable cleanly. */
	ck_assert_int_eq(isr_ctl_register(&ctl, 2, BEPOCH(2) + 10, true, &r), TERN_OK);
	ck_assert_int_eq(ctl.leader, ISR_NO_LEADER);
	/* 1 is healthy again: elected. */
	ck_assert_int_eq(isr_ctl_set_corrupt(&ctl, 1, false, &r), TERN_OK);
	ck_assert(r.elected);
	ck_assert_int_eq(ctl.leader, 1);
	ck_assert_int_eq(ctl.leader_epoch, 4);
	ctl_valid(&ctl);
	/* Corrupt again, then restarted (its disk replaced): the new
	 * incarnation is healthy until it says otherwise, and is elected. */
	ck_assert_int_eq(isr_ctl_set_corrupt(&ctl, 1, true, &r), TERN_OK);
	ck_assert_int_eq(ctl.leader, ISR_NO_LEADER);
	ck_assert_int_eq(isr_ctl_register(&ctl, 1, BEPOCH(1) + 10, true, &r), TERN_OK);
	ck_assert(r.changed && r.elected);
	ck_assert_int_eq(ctl.leader, 1);
	ck_assert(!ctl.health[1].corrupt);
	/* The same incarnation registering again changes nothing. */
	ck_assert_int_eq(isr_ctl_set_corrupt(&ctl, 1, true, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_register(&ctl, 1, BEPOCH(1) + 10, true, &r), TERN_OK);
	ck_assert(ctl.health[1].corrupt);
	ck_assert_int_eq(ctl.leader, ISR_NO_LEADER);
	ctl_valid(&ctl);
	ck_assert_int_eq(isr_ctl_fence(&ctl, 9, &r), TERN_ERR__INVALID_ARG);
}
END_TEST

typedef struct elect_case {
	const char *name;
	bool unclean, elr;
	unsigned dead;	   /* brokers fenced, in order of their bits, after the ISR shrank */
	unsigned isr;	   /* ISR committed before the failures */
	int32_t want;	   /* leader afterwards */
	unsigned want_isr; /* ISR afterwards */
	bool want_unclean, want_elr;
	isr_mode_t mode;
} elect_case_t;

/* Four replicas, min.insync 2; the leader (0) commits a shrink to isr,
 * then the brokers in dead are fenced in increasing id order. */
static const elect_case_t elect_cases[] = {
    {"clean: first ISR member in assignment order", false, false, 0x1, 0xf, 1, 0xe, false, false,
     ISR_MODE_DEGRADED},
    {"clean, skipping a dead member", false, false, 0x3, 0xf, 2, 0xc, false, false,
     ISR_MODE_DEGRADED},
    {"no ISR member left, no unclean: offline", false, false, 0x3, 0x3, ISR_NO_LEADER, 0x2, false,
     false, ISR_MODE_OFFLINE},
    {"unclean: first live replica", true, false, 0x3, 0x3, 2, 0x4, true, false, ISR_MODE_FLOOR},
    {"ELR: a member that left below min.insync", false, true, 0x1, 0x3, 1, 0x2, false, false,
     ISR_MODE_FLOOR},
    {"ELR: the ISR lost its last member", false, true, 0x1, 0x1, 1, 0x2, false, true,
     ISR_MODE_FLOOR},
    {"ELR before unclean", true, true, 0x1, 0x1, 1, 0x2, false, true, ISR_MODE_FLOOR},
    {"ELR: members that left below min.insync, in order", false, true, 0x3, 0x1, 2, 0x4, false,
     true, ISR_MODE_FLOOR},
    {"ELR: nobody left alive", false, true, 0xf, 0x1, ISR_NO_LEADER, 0x0, false, false,
     ISR_MODE_OFFLINE},
};

START_TEST(test_ctl_elections)
{
	const elect_case_t *c = &elect_cases[_i];
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_SYNC);
	isr_ctl_result_t r;
	isr_alter_t a;
	isr_ctl_t ctl;
	uint64_t unclean_before;

	cfg.unclean_election = c->unclean;
	cfg.eligible_leader_replicas = c->elr;
	ctl_up(&ctl, &cfg, 4);
	if (c->isr != 0xf) {
		a = alter_make(0, 1, ctl.partition_epoch, c->isr);
		ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	}
	unclean_before = ctl.unclean_elections;
	for (int32_t i = 0; i < 4; i++)
		if (c->dead & (1u << i))
			ck_assert_int_eq(isr_ctl_fence(&ctl, i, &r), TERN_OK);
	ck_assert_msg(ctl.leader == c->want, "%s: leader %d", c->name, ctl.leader);
	ck_assert_msg(mask_of(&ctl.isr) == c->want_isr, "%s: ISR %x", c->name, mask_of(&ctl.isr));
	ck_assert_int_eq(r.unclean, c->want_unclean);
	ck_assert_int_eq(r.from_elr, c->want_elr);
	ck_assert_int_eq(ctl.unclean_elections, unclean_before + (c->want_unclean ? 1 : 0));
	ck_assert_int_eq(ctl.recovering, c->want_unclean);
	ck_assert_int_eq(isr_ctl_mode(&ctl), c->mode);
	ctl_valid(&ctl);
}
END_TEST

/* Eligible leader replicas (KIP-966): who joins, who leaves. */
START_TEST(test_ctl_elr)
{
	isr_config_t cfg = cfg_make(2, ISR_FLUSH_ASYNC);
	isr_ctl_result_t r;
	isr_alter_t a;
	isr_ctl_t ctl;

	cfg.eligible_leader_replicas = true;
	ctl_up(&ctl, &cfg, 3);
	/* {0,1,2} -> {0,1}: still at min.insync: no ELR. */
	a = alter_make(0, 1, ctl.partition_epoch, 0x3);
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert_int_eq(ctl.elr.n, 0);
	/* {0,1} -> {0}: below: 1 joins the ELR (2 left while it was fine). */
	a = alter_make(0, 1, ctl.partition_epoch, 0x1);
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert_uint_eq(mask_of(&ctl.elr), 0x2);
	/* 1 restarts uncleanly under async: out of the ELR. */
	ck_assert_int_eq(isr_ctl_register(&ctl, 1, BEPOCH(1) + 10, false, &r), TERN_OK);
	ck_assert(r.changed);
	ck_assert_int_eq(ctl.elr.n, 0);
	/* Back to {0,1} -> the ELR empties whatever it held. */
	a = alter_make(0, 1, ctl.partition_epoch, 0x3);
	a.broker_epoch[1] = BEPOCH(1) + 10;
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	a = alter_make(0, 1, ctl.partition_epoch, 0x1);
	a.broker_epoch[0] = ISR_NO_BROKER_EPOCH;
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert_uint_eq(mask_of(&ctl.elr), 0x2);
	/* A corrupt replica leaves the ELR and never returns to it. */
	ck_assert_int_eq(isr_ctl_set_corrupt(&ctl, 1, true, &r), TERN_OK);
	ck_assert_int_eq(ctl.elr.n, 0);
	ck_assert_int_eq(isr_ctl_set_corrupt(&ctl, 1, false, &r), TERN_OK);
	ck_assert_int_eq(ctl.elr.n, 0);
	/* Switching the option off empties the ELR. */
	a = alter_make(0, 1, ctl.partition_epoch, 0x3);
	a.broker_epoch[1] = ISR_NO_BROKER_EPOCH;
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	a = alter_make(0, 1, ctl.partition_epoch, 0x1);
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert_uint_eq(mask_of(&ctl.elr), 0x2);
	cfg.eligible_leader_replicas = false;
	ck_assert_int_eq(isr_ctl_set_config(&ctl, &cfg, &r), TERN_OK);
	ck_assert(r.changed);
	ck_assert_int_eq(ctl.elr.n, 0);
	ctl_valid(&ctl);
}
END_TEST

/* DESIGN.md decision 10: a restart of the leader always starts a new leader
 * epoch, even when it is elected again; under async a restart without the
 * clean-shutdown marker leaves the ISR first, under sync it keeps it. */
START_TEST(test_ctl_restart)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_ctl_result_t r;
	isr_ctl_t ctl;

	ctl_up(&ctl, &cfg, 3);
	ck_assert_int_eq(isr_ctl_register(&ctl, 0, BEPOCH(0) + 1, false, &r), TERN_OK);
	ck_assert(r.elected);
	ck_assert_int_eq(ctl.leader, 0);
	ck_assert_int_eq(ctl.leader_epoch, 2);
	ck_assert_uint_eq(mask_of(&ctl.isr), 0x7);
	/* The same epoch again is an unfence, not a restart. */
	ck_assert_int_eq(isr_ctl_register(&ctl, 0, BEPOCH(0) + 1, false, &r), TERN_OK);
	ck_assert(!r.changed);
	ck_assert_int_eq(isr_ctl_register(&ctl, 0, BEPOCH(0), true, &r),
			 TERN_ERR_STALE_BROKER_EPOCH);
	/* Async: the restarted leader leaves the ISR, another leads. */
	cfg.flush = ISR_FLUSH_ASYNC;
	ck_assert_int_eq(isr_ctl_set_config(&ctl, &cfg, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_register(&ctl, 0, BEPOCH(0) + 2, false, &r), TERN_OK);
	ck_assert(r.elected);
	ck_assert_int_eq(ctl.leader, 1);
	ck_assert_int_eq(ctl.leader_epoch, 3);
	ck_assert_uint_eq(mask_of(&ctl.isr), 0x6);
	/* A clean restart keeps its place. */
	ck_assert_int_eq(isr_ctl_register(&ctl, 2, BEPOCH(2) + 2, true, &r), TERN_OK);
	ck_assert(!r.changed);
	/* Even the last member leaves: the partition goes offline. */
	ck_assert_int_eq(isr_ctl_fence(&ctl, 2, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_register(&ctl, 1, BEPOCH(1) + 2, false, &r), TERN_OK);
	ck_assert_int_eq(ctl.isr.n, 0);
	ck_assert_int_eq(ctl.leader, ISR_NO_LEADER);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_OFFLINE);
	ctl_valid(&ctl);
}
END_TEST

/* Operator elections: preferred and forced unclean. */
START_TEST(test_ctl_elect_admin)
{
	isr_config_t cfg = cfg_make(1, ISR_FLUSH_SYNC);
	isr_ctl_result_t r;
	isr_alter_t a;
	isr_ctl_t ctl;

	ctl_up(&ctl, &cfg, 3);
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_PREFERRED, &r),
			 TERN_ERR_ELECTION_NOT_NEEDED);
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_UNCLEAN, &r), TERN_ERR_ELECTION_NOT_NEEDED);
	ck_assert_int_eq(isr_ctl_shutdown(&ctl, 0, &r), TERN_OK);
	ck_assert_int_eq(ctl.leader, 1);
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_PREFERRED, &r),
			 TERN_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	ck_assert_int_eq(isr_ctl_register(&ctl, 0, BEPOCH(0) + 1, true, &r), TERN_OK);
	/* Back, but not in the ISR yet. */
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_PREFERRED, &r),
			 TERN_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	a = alter_make(1, 2, ctl.partition_epoch, 0x7);
	a.broker_epoch[0] = BEPOCH(0) + 1;
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_PREFERRED, &r), TERN_OK);
	ck_assert(r.elected);
	ck_assert_int_eq(ctl.leader, 0);
	ck_assert_int_eq(ctl.leader_epoch, 3);
	/* Forced unclean: only when offline, and only with a live replica. */
	a = alter_make(0, 3, ctl.partition_epoch, 0x1);
	a.broker_epoch[0] = ISR_NO_BROKER_EPOCH;
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_fence(&ctl, 0, &r), TERN_OK);
	ck_assert_int_eq(ctl.leader, ISR_NO_LEADER);
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_UNCLEAN, &r), TERN_OK);
	ck_assert(r.unclean);
	ck_assert_int_eq(ctl.leader, 1);
	ck_assert_uint_eq(mask_of(&ctl.isr), 0x2);
	ck_assert(ctl.recovering);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_RECOVERY);
	ck_assert_int_eq(ctl.unclean_elections, 1);
	/* Recovery ends when a second replica joins. */
	a = alter_make(1, ctl.leader_epoch, ctl.partition_epoch, 0x6);
	ck_assert_int_eq(isr_ctl_alter(&ctl, &a, &r), TERN_OK);
	ck_assert(!ctl.recovering);
	ck_assert_int_eq(isr_ctl_mode(&ctl), ISR_MODE_DEGRADED);
	ck_assert_int_eq(isr_ctl_fence(&ctl, 1, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_fence(&ctl, 2, &r), TERN_OK);
	ck_assert_int_eq(isr_ctl_elect(&ctl, ISR_ELECT_UNCLEAN, &r),
			 TERN_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE);
	ctl_valid(&ctl);
}
END_TEST

typedef struct mode_case {
	bool leader;
	int32_t isr, min, nrep;
	bool recovering;
	isr_mode_t want;
} mode_case_t;

/* DESIGN.md decision 9: the first mode that matches. */
static const mode_case_t mode_cases[] = {
    {false, 3, 2, 3, false, ISR_MODE_OFFLINE}, {true, 1, 2, 3, true, ISR_MODE_FLOOR},
    {true, 1, 2, 3, false, ISR_MODE_FLOOR},    {true, 1, 1, 3, true, ISR_MODE_RECOVERY},
    {true, 2, 2, 3, false, ISR_MODE_DEGRADED}, {true, 3, 2, 3, false, ISR_MODE_TARGET},
    {true, 2, 5, 2, false, ISR_MODE_TARGET},   {true, 1, 5, 2, false, ISR_MODE_FLOOR},
};

START_TEST(test_modes)
{
	const mode_case_t *c = &mode_cases[_i];
	isr_config_t cfg = cfg_make(c->min, ISR_FLUSH_SYNC);
	isr_leader_and_isr_t st =
	    state_make(c->leader ? 0 : ISR_NO_LEADER, 1, 1, c->nrep, (1u << c->isr) - 1);
	isr_partition_t p;
	isr_decisions_t d;

	st.recovering = c->recovering;
	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 0, 0, 0), TERN_OK);
	ck_assert_int_eq(isr_partition_mode(&p), ISR_MODE_OFFLINE);
	if (c->leader)
		ck_assert_int_eq(isr_become_leader(&p, &st, 0, 0, T0, &d), TERN_OK);
	else
		ck_assert_int_eq(isr_become_follower(&p, &st, 0, 0, &d), TERN_OK);
	ck_assert_msg(isr_partition_mode(&p) == c->want, "case %d: %s, want %s", _i,
		      isr_mode_name(isr_partition_mode(&p)), isr_mode_name(c->want));
	isr_partition_fini(&p);
}
END_TEST

START_TEST(test_config_checks)
{
	isr_config_t cfg;
	isr_partition_t p;
	isr_ctl_t ctl;
	int32_t dup[] = {1, 1};

	isr_config_default(&cfg);
	ck_assert_int_eq(cfg.lag_time_max_ms, 30000);
	ck_assert_int_eq(cfg.flush, ISR_FLUSH_SYNC);
	ck_assert(!cfg.unclean_election && !cfg.eligible_leader_replicas);
	ck_assert_int_eq(isr_config_check(&cfg), TERN_OK);
	cfg.min_insync = 0;
	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 0, 0, 0), TERN_ERR__INVALID_ARG);
	isr_config_default(&cfg);
	cfg.lag_time_max_ms = 0;
	ck_assert_int_eq(isr_config_check(&cfg), TERN_ERR__INVALID_ARG);
	isr_config_default(&cfg);
	ck_assert_int_eq(isr_partition_init(&p, 0, &cfg, 5, 6, 0), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(isr_ctl_init(&ctl, &cfg, dup, 2), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(isr_ctl_init(&ctl, &cfg, dup, 0), TERN_ERR__INVALID_ARG);
	ck_assert_str_eq(isr_mode_name(ISR_MODE_RECOVERY), "recovery");
}
END_TEST

/* ------------------------------------------------------------------------ */

#define NCASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *rules_suite(void)
{
	Suite *s = suite_create("isr rules");
	TCase *tc = tcase_create("replica");

	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_fences, 0, NCASES(fence_cases));
	tcase_add_test(tc, test_state_order);
	tcase_add_test(tc, test_new_leader_hwm_capped);
	tcase_add_test(tc, test_two_step_caught_up);
	tcase_add_test(tc, test_never_is_not_zero);
	tcase_add_test(tc, test_hwm_strict_min_isr);
	tcase_add_test(tc, test_hwm_effective_min);
	tcase_add_loop_test(tc, test_hwm_candidate, 0, NCASES(hwm_cases));
	tcase_add_test(tc, test_hwm_maximal_isr);
	tcase_add_loop_test(tc, test_expand, 0, NCASES(expand_cases));
	tcase_add_test(tc, test_stale_broker_epoch);
	tcase_add_test(tc, test_alter_answers);
	tcase_add_test(tc, test_produce_answers);
	tcase_add_test(tc, test_many_waiters);
	tcase_add_test(tc, test_list_latest_kip207);
	tcase_add_test(tc, test_follower_hwm);
	tcase_add_loop_test(tc, test_modes, 0, NCASES(mode_cases));
	tcase_add_test(tc, test_config_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("follower");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_reconcile_step, 0, NCASES(rec_cases));
	tcase_add_loop_test(tc, test_reconcile_loop, 0, NCASES(loop_cases));
	tcase_add_loop_test(tc, test_out_of_range, 0, NCASES(oor_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("controller");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_ctl_alter, 0, NCASES(ctl_alter_cases));
	tcase_add_test(tc, test_ctl_removals);
	tcase_add_loop_test(tc, test_ctl_elections, 0, NCASES(elect_cases));
	tcase_add_test(tc, test_ctl_elr);
	tcase_add_test(tc, test_ctl_restart);
	tcase_add_test(tc, test_ctl_elect_admin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(rules_suite());
}
