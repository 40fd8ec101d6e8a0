/* tests/isr/test_isr_sim.c: randomized runs of a 3-5 broker cluster driven
 * only through isr/ (tests/isr/cluster.c): appends with every acks,
 * fetches, fsyncs, crashes that lose unsynced tails or not, restarts,
 * controlled shutdowns, brokers cut off from the controller (zombies),
 * corrupt replicas, ISR changes delivered late, clean and unclean
 * elections, time. After every step the invariants of KAFKA-REFERENCE.md
 * §3 are checked (cl_check): the leader is in the ISR; every offset below
 * the HWM is identical on the leader and every live ISR member; the HWM
 * never decreases within a leader epoch; and, as long as no unclean
 * election happened, every acknowledged and every committed record is on
 * the leader.
 *
 * TERN_SEED replays a run; TERN_TEST_SCALE scales the number of runs. */
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "testutil.h"

typedef struct sim_kind {
	const char *name;
	int flush;   /* ISR_FLUSH_*, or -1 for either */
	int unclean; /* 0, 1, or -1 for either */
} sim_kind_t;

typedef struct sim_stats {
	long runs, steps, acked, elections, unclean_runs, answers_20, timeouts, refused_19;
} sim_stats_t;

static uint64_t rnd(uint64_t *s, uint64_t n)
{
	return tt_rand(s) % n;
}

/* A node chosen at random among those for which ok() holds, or -1. */
static int pick(const cluster_t *cl, uint64_t *rng, bool (*ok)(const cluster_t *, int))
{
	int cand[CL_MAX_NODES], n = 0;

	for (int i = 0; i < cl->n; i++)
		if (ok(cl, i))
			cand[n++] = i;
	return n ? cand[rnd(rng, (uint64_t)n)] : -1;
}

static bool is_up(const cluster_t *cl, int i)
{
	return cl->node[i].up;
}

static bool is_down(const cluster_t *cl, int i)
{
	return !cl->node[i].up;
}

static bool is_reachable(const cluster_t *cl, int i)
{
	return cl->node[i].up && !cl->node[i].isolated;
}

static bool is_isolated(const cluster_t *cl, int i)
{
	return cl->node[i].up && cl->node[i].isolated;
}

static bool thinks_leader(const cluster_t *cl, int i)
{
	return cl->node[i].up && cl->node[i].p.role == ISR_ROLE_LEADER;
}

/* Alive at the controller but down or cut off: its session will expire. */
static bool fenceable(const cluster_t *cl, int i)
{
	return cl->ctl.health[i].alive && (!cl->node[i].up || cl->node[i].isolated);
}

/* A replica may be found corrupt unless it is the only copy the ISR
 * vouches for (that loss no replication protocol can undo). */
static bool corruptible(const cluster_t *cl, int i)
{
	const isr_set_t *isr = &cl->ctl.isr;

	if (!is_reachable(cl, i))
		return false;
	return !(isr->n == 1 && isr->id[0] == i);
}

static void ev_produce(cluster_t *cl, uint64_t *rng)
{
	int16_t acks = (int16_t)(rnd(rng, 10) < 6 ? -1 : rnd(rng, 3) ? 1 : 0);
	/* Mostly to a broker that believes it leads (zombies included),
	 * sometimes to anyone (clients with stale metadata). */
	int i = rnd(rng, 5) ? pick(cl, rng, thinks_leader) : pick(cl, rng, is_up);

	if (i >= 0)
		cl_produce(cl, i, acks, 1000 + (int64_t)rnd(rng, 4000), NULL);
}

static void ev_fetch(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_up);

	if (i >= 0)
		cl_fetch(cl, i, 1 + (int)rnd(rng, 8), rnd(rng, 20) == 0);
}

static void ev_deliver(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_up);

	if (i >= 0)
		cl_deliver(cl, i);
}

static void ev_alter(cluster_t *cl, uint64_t *rng)
{
	cl_deliver_alter(cl, (int)rnd(rng, (uint64_t)cl->n));
}

static void ev_alter_resp(cluster_t *cl, uint64_t *rng)
{
	cl_deliver_alter_resp(cl, (int)rnd(rng, (uint64_t)cl->n));
}

static void ev_flush(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_up);

	if (i >= 0)
		cl_flush(cl, i);
}

static void ev_time(cluster_t *cl, uint64_t *rng)
{
	cl_advance(cl, 1 + (int64_t)rnd(rng, 400));
}

/* A crash that keeps everything written (the process died, the page cache
 * survived), nothing unsynced (power loss) or part of it; the controller
 * notices at once or only when the broker registers again. */
static void ev_crash(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_up);
	int64_t keep;

	if (i < 0)
		return;
	switch (rnd(rng, 4)) {
	case 0:
	case 1:
		keep = -1;
		break;
	case 2:
		keep = 0;
		break;
	default:
		keep = (int64_t)rnd(rng, (uint64_t)(cl->node[i].len - cl->node[i].durable + 1));
	}
	cl_crash(cl, i, keep, rnd(rng, 10) < 7);
}

static void ev_restart(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_down);

	if (i >= 0)
		cl_restart(cl, i);
}

static void ev_fence(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, fenceable);

	if (i >= 0)
		cl_fence(cl, i);
}

static void ev_shutdown(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_reachable);

	if (i >= 0)
		cl_shutdown(cl, i);
}

static void ev_isolate(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_reachable);

	if (i >= 0)
		cl_isolate(cl, i);
}

static void ev_heal(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, is_isolated);

	if (i >= 0)
		cl_heal(cl, i);
}

static void ev_corrupt(cluster_t *cl, uint64_t *rng)
{
	int i = pick(cl, rng, corruptible);

	if (i >= 0)
		cl_corrupt(cl, i, (int64_t)rnd(rng, (uint64_t)cl->node[i].len + 1));
}

static void ev_elect_preferred(cluster_t *cl, uint64_t *rng)
{
	cl_elect(cl, ISR_ELECT_PREFERRED);
}

static void ev_elect_unclean(cluster_t *cl, uint64_t *rng)
{
	if (cl->cfg.unclean_election)
		cl_elect(cl, ISR_ELECT_UNCLEAN);
}

/* Everything in flight arrives. */
static void ev_quiet(cluster_t *cl, uint64_t *rng)
{
	for (int i = 0; i < cl->n; i++) {
		cl_deliver_alter(cl, i);
		cl_deliver_alter_resp(cl, i);
	}
	cl_deliver_all(cl);
}

/* Events and their weights (per 1000 steps). */
static const struct {
	int weight;
	void (*run)(cluster_t *cl, uint64_t *rng);
} events[] = {
    {230, ev_produce},	 {361, ev_fetch}, {70, ev_deliver},	   {50, ev_alter},
    {50, ev_alter_resp}, {60, ev_flush},  {70, ev_time},	   {8, ev_crash},
    {25, ev_restart},	 {12, ev_fence},  {4, ev_shutdown},	   {4, ev_isolate},
    {20, ev_heal},	 {3, ev_corrupt}, {8, ev_elect_preferred}, {5, ev_elect_unclean},
    {20, ev_quiet},
};

static void step(cluster_t *cl, uint64_t *rng)
{
	int r = (int)rnd(rng, 1000);

	for (size_t k = 0; k < sizeof events / sizeof events[0]; k++) {
		if (r < events[k].weight) {
			events[k].run(cl, rng);
			return;
		}
		r -= events[k].weight;
	}
}

static void fail_run(cluster_t *cl, uint64_t seed, long run, long s, const char *kind)
{
	cl_dump(cl);
	ck_abort_msg("%s: TERN_SEED=%llu run %ld step %ld: %s", kind, (unsigned long long)seed, run,
		     s, cl->err);
}

/* Run run of kind k (index ki) under seed: its own stream of random
 * numbers, so that TERN_SEED replays any run. */
static void run_one(const sim_kind_t *k, int ki, uint64_t seed, long run, sim_stats_t *st)
{
	uint64_t rng = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(run + 1)) ^
		       (0xC2B2AE3D27D4EB4Full * (uint64_t)(ki + 1));
	isr_config_t cfg;
	cluster_t cl;
	long steps = 3000;
	int n;

	tt_rand(&rng);
	n = 3 + (int)rnd(&rng, 3);
	isr_config_default(&cfg);
	cfg.lag_time_max_ms = 1000;
	/* min.insync 1, 2 (most often, as TESTING.md's defaults) or 3. */
	cfg.min_insync = (int32_t)(rnd(&rng, 4) == 0 ? 1 : rnd(&rng, 3) ? 2 : 3);
	cfg.flush = k->flush >= 0 ? (isr_flush_policy_t)k->flush : (isr_flush_policy_t)rnd(&rng, 2);
	cfg.unclean_election = k->unclean >= 0 ? k->unclean == 1 : rnd(&rng, 2) == 1;
	cfg.eligible_leader_replicas = rnd(&rng, 2) == 1;
	cl_init(&cl, n, &cfg);
	cl_note(&cl, "run %ld: %d brokers, min.insync %d, %s, unclean %d, elr %d", run, n,
		cfg.min_insync, cfg.flush == ISR_FLUSH_SYNC ? "sync" : "async",
		cfg.unclean_election, cfg.eligible_leader_replicas);
	for (long s = 0; s < steps; s++) {
		step(&cl, &rng);
		if (!cl_check(&cl))
			fail_run(&cl, seed, run, s, k->name);
	}
	/* Heal: everyone back, everything delivered, time to catch up. */
	for (int i = 0; i < n; i++) {
		cl_restart(&cl, i);
		cl_heal(&cl, i);
	}
	for (long s = 0; s < 200; s++) {
		for (int i = 0; i < n; i++) {
			cl_fetch(&cl, i, 64, false);
			cl_deliver_alter(&cl, i);
			cl_deliver_alter_resp(&cl, i);
		}
		cl_deliver_all(&cl);
		cl_advance(&cl, 50);
		if (!cl_check(&cl))
			fail_run(&cl, seed, run, steps + s, k->name);
	}
	st->runs++;
	st->steps += steps;
	st->acked += (long)cl.nacked;
	st->elections += (long)cl.n_elections;
	st->unclean_runs += cl.unclean;
	st->answers_20 += (long)cl.n_20;
	st->timeouts += (long)cl.n_7;
	st->refused_19 += (long)cl.n_19;
	cl_fini(&cl);
}

static const sim_kind_t kinds[] = {
    {"sync, no unclean election", ISR_FLUSH_SYNC, 0},
    {"async, no unclean election", ISR_FLUSH_ASYNC, 0},
    {"unclean election allowed", -1, 1},
};

START_TEST(test_sim)
{
	const sim_kind_t *k = &kinds[_i];
	uint64_t seed = tt_seed();
	long runs = tt_scale(100);
	sim_stats_t st = {0};

	for (long run = 0; run < runs; run++)
		run_one(k, _i, seed, run, &st);
	fprintf(stderr,
		"sim (%s): %ld runs, %ld steps, %ld acks=all acknowledged, %ld elections, "
		"%ld runs with an unclean election, answers: %ld x 19, %ld x 20, %ld x 7\n",
		k->name, st.runs, st.steps, st.acked, st.elections, st.unclean_runs, st.refused_19,
		st.answers_20, st.timeouts);
	ck_assert_int_gt(st.acked, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("isr sim");
	TCase *tc = tcase_create("sim");

	tt_seed();
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_sim, 0, (int)(sizeof kinds / sizeof kinds[0]));
	suite_add_tcase(s, tc);
	return tt_run(s);
}
