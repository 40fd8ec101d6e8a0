/* tests/controller/test_controller.c: the cluster controller driven through
 * its direct calls with explicit times (no sleeps): broker registrations,
 * sessions and fencing, topic creation and its checks, controlled shutdown,
 * leader restarts (DESIGN.md decision 10), AlterPartition, elections clean
 * and unclean, corrupt replicas, producer id blocks, and persistence through
 * an in-memory store (that can refuse saves) and the file store: reopening,
 * failed saves that undo a change, and corrupt metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/controller.h"
#include "testutil.h"

#define T0	1000000 /* the start of time: far from 0 on purpose */
#define SESSION 3000	/* broker.session.timeout.ms of these tests */
#define HB	500	/* heartbeat interval */
#define NB	3	/* brokers 1..NB */

/* ------------------------------------------------------------------------ */
/* An in-memory store                                                         */

/* The text of the latest save; fail makes save() refuse (as a deposed
 * controller's store does); saves counts the saves that succeeded. The test
 * owns it: ctl_close only counts the close. */
typedef struct mem_store {
	ctl_store_t ops;
	char *text;
	size_t len;
	bool fail;
	int saves;
	int closes;
} mem_store_t;

static tern_err_t mem_load(ctl_store_t *s, char **text, size_t *len, char *errstr, size_t errlen)
{
	mem_store_t *m = (mem_store_t *)s;

	(void)errstr;
	(void)errlen;
	*text = NULL;
	*len = 0;
	if (!m->text)
		return TERN_OK;
	*text = malloc(m->len + 1);
	ck_assert_ptr_nonnull(*text);
	memcpy(*text, m->text, m->len);
	(*text)[m->len] = '\0';
	*len = m->len;
	return TERN_OK;
}

static tern_err_t mem_save(ctl_store_t *s, const char *text, size_t len)
{
	mem_store_t *m = (mem_store_t *)s;

	if (m->fail)
		return TERN_ERR_NOT_CONTROLLER;
	free(m->text);
	m->text = malloc(len + 1);
	ck_assert_ptr_nonnull(m->text);
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	m->len = len;
	m->saves++;
	return TERN_OK;
}

static void mem_close(ctl_store_t *s)
{
	((mem_store_t *)s)->closes++;
}

static void mem_init(mem_store_t *m, const char *text)
{
	memset(m, 0, sizeof *m);
	m->ops.load = mem_load;
	m->ops.save = mem_save;
	m->ops.close = mem_close;
	if (text) {
		m->text = strdup(text);
		ck_assert_ptr_nonnull(m->text);
		m->len = strlen(text);
	}
}

static void mem_free(mem_store_t *m)
{
	free(m->text);
	m->text = NULL;
}

/* ------------------------------------------------------------------------ */
/* Fixture and helpers                                                        */

static broker_config_t bcfg;
static ctl_config_t ccfg;
static mem_store_t ms;
static ctl_t *c;
static int64_t ep[NB + 1]; /* broker epochs of brokers 1..NB */
static char why[256];

static void setup(void)
{
	char err[256];

	ck_assert_int_eq(tern_conf_init(&broker_config_table, &bcfg, err, sizeof err), TERN_OK);
	ccfg.controller_id = 1;
	ccfg.session_timeout_ms = SESSION;
	ccfg.heartbeat_interval_ms = HB;
	ccfg.broker = &bcfg;
	mem_init(&ms, NULL);
	c = NULL;
	memset(ep, 0, sizeof ep);
}

static void teardown(void)
{
	ctl_close(c);
	c = NULL;
	mem_free(&ms);
	tern_conf_free(&broker_config_table, &bcfg);
}

static ctl_t *open_on(ctl_store_t *store, int64_t now)
{
	char err[256] = "";
	ctl_t *x = NULL;
	tern_err_t e = ctl_open(&ccfg, store, now, &x, err, sizeof err);

	ck_assert_msg(e == TERN_OK, "ctl_open: %s (%s)", tern_strerror(e), err);
	return x;
}

static int64_t reg(int32_t id, int64_t incarnation, int64_t now)
{
	int64_t epoch = -1;
	tern_err_t e = ctl_register(c, id, incarnation, "127.0.0.1", 9092 + id, true, now, &epoch);

	ck_assert_msg(e == TERN_OK, "register %d: %s", id, tern_strerror(e));
	ck_assert_int_gt(epoch, 0);
	return epoch;
}

static void hb(int32_t id, int64_t epoch, int64_t now)
{
	bool fenced = true, done = true;
	tern_err_t e = ctl_heartbeat(c, id, epoch, false, now, &fenced, &done);

	ck_assert_msg(e == TERN_OK, "heartbeat %d: %s", id, tern_strerror(e));
	ck_assert(!fenced);
	ck_assert(!done);
}

/* Registers brokers 1..NB at now (incarnation 100 + id) into ep[]. */
static void reg_all(int64_t now)
{
	for (int32_t id = 1; id <= NB; id++)
		ep[id] = reg(id, 100 + id, now);
}

/* Heartbeats of every broker in mask (bit id) from `from` to `to` (every HB),
 * with a tick after each round. */
static void live(unsigned mask, int64_t from, int64_t to)
{
	for (int64_t t = from; t <= to; t += HB) {
		for (int32_t id = 1; id <= NB; id++)
			if (mask & (1u << id))
				hb(id, ep[id], t);
		ctl_tick(c, t);
	}
}

static void create(const char *name, int32_t npart, int32_t rf, const tern_conf_kv_t *kv, size_t n)
{
	tern_err_t e = ctl_create_topic(c, name, npart, rf, kv, n, false, false, why, sizeof why);

	ck_assert_msg(e == TERN_OK, "create %s: %s (%s)", name, tern_strerror(e), why);
}

static isr_leader_and_isr_t pstate(const char *topic, int32_t part, isr_mode_t *mode)
{
	isr_leader_and_isr_t st;
	tern_err_t e = ctl_partition_state(c, topic, part, &st, mode);

	ck_assert_msg(e == TERN_OK, "%s-%d: %s", topic, part, tern_strerror(e));
	return st;
}

/* pstate() for use inside an expression: the state in one of a few
 * rotating buffers. */
static const isr_leader_and_isr_t *pref(const char *topic, int32_t part)
{
	static isr_leader_and_isr_t buf[4];
	static unsigned next;
	isr_leader_and_isr_t *st = &buf[next++ % 4];

	*st = pstate(topic, part, NULL);
	return st;
}

static bool in_isr(const isr_leader_and_isr_t *st, int32_t id)
{
	return isr_set_contains(&st->isr, id);
}

static void same_state(const isr_leader_and_isr_t *a, const isr_leader_and_isr_t *b,
		       const char *what)
{
	ck_assert_msg(a->leader == b->leader, "%s: leader %d vs %d", what, a->leader, b->leader);
	ck_assert_msg(a->leader_epoch == b->leader_epoch, "%s: leader epoch %d vs %d", what,
		      a->leader_epoch, b->leader_epoch);
	ck_assert_msg(a->partition_epoch == b->partition_epoch, "%s: partition epoch %d vs %d",
		      what, a->partition_epoch, b->partition_epoch);
	ck_assert_int_eq(a->nreplicas, b->nreplicas);
	for (int32_t i = 0; i < a->nreplicas; i++)
		ck_assert_int_eq(a->replicas[i], b->replicas[i]);
	ck_assert_msg(a->isr.n == b->isr.n, "%s: ISR size %d vs %d", what, a->isr.n, b->isr.n);
	for (int32_t i = 0; i < a->isr.n; i++)
		ck_assert_msg(isr_set_contains(&b->isr, a->isr.id[i]), "%s: ISR differs", what);
	ck_assert_int_eq(a->recovering, b->recovering);
}

/* An AlterPartition from st's leader based on st, proposing the ISR in
 * mask (bit id), naming no broker epochs. */
static isr_alter_t alter_of(const isr_leader_and_isr_t *st, unsigned mask)
{
	isr_alter_t a;

	memset(&a, 0, sizeof a);
	a.id = 1;
	a.leader = st->leader;
	a.leader_epoch = st->leader_epoch;
	a.partition_epoch = st->partition_epoch;
	for (int32_t id = 0; id < 32; id++)
		if (mask & (1u << id))
			a.isr.id[a.isr.n++] = id;
	for (int32_t i = 0; i < ISR_MAX_REPLICAS; i++)
		a.broker_epoch[i] = ISR_NO_BROKER_EPOCH;
	return a;
}

/* ------------------------------------------------------------------------ */
/* Registration and sessions                                                  */

START_TEST(test_register_epochs)
{
	int64_t e, again;
	int saves;

	c = open_on(&ms.ops, T0);
	ck_assert_str_ne(ctl_cluster_id(c), "");
	reg_all(T0);
	ck_assert_int_gt(ep[1], 0);
	ck_assert_int_gt(ep[2], ep[1]);
	ck_assert_int_gt(ep[3], ep[2]);

	/* A retry of the same incarnation: the same epoch, nothing saved. */
	saves = ms.saves;
	again = reg(2, 102, T0 + 10);
	ck_assert_int_eq(again, ep[2]);
	ck_assert_int_eq(ms.saves, saves);

	/* A new incarnation while the session is live. */
	e = -7;
	ck_assert_int_eq(ctl_register(c, 2, 202, "127.0.0.1", 9094, true, T0 + 100, &e),
			 TERN_ERR_DUPLICATE_BROKER_REGISTRATION);
	ck_assert_int_eq(e, -7);
	/* Heartbeats keep the session live past several timeouts. */
	live(1u << 1 | 1u << 2 | 1u << 3, T0 + HB, T0 + 3 * SESSION);
	ck_assert_int_eq(ctl_register(c, 2, 202, "127.0.0.1", 9094, true, T0 + 3 * SESSION, &e),
			 TERN_ERR_DUPLICATE_BROKER_REGISTRATION);

	/* Broker 2 goes silent; once its session ended it may come back as a
	 * new incarnation, with a new, larger epoch. */
	live(1u << 1 | 1u << 3, T0 + 3 * SESSION + HB, T0 + 4 * SESSION + HB);
	ctl_tick(c, T0 + 4 * SESSION + HB);
	e = reg(2, 202, T0 + 4 * SESSION + HB);
	ck_assert_int_gt(e, ep[3]);
	/* The old registration is gone: its heartbeat is stale. */
	{
		bool fenced, done;

		ck_assert_int_eq(
		    ctl_heartbeat(c, 2, ep[2], false, T0 + 4 * SESSION + HB, &fenced, &done),
		    TERN_ERR_STALE_BROKER_EPOCH);
	}
	hb(2, e, T0 + 4 * SESSION + 2 * HB);

	/* Malformed registrations. */
	ck_assert_int_eq(ctl_register(c, -1, 1, "h", 1, true, T0, &e), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(ctl_register(c, 9, 1, "a b", 1, true, T0, &e), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(ctl_register(c, 9, 1, "h", 70000, true, T0, &e), TERN_ERR_INVALID_REQUEST);
}
END_TEST

/* The session deadline counts from the last heartbeat, not from ticks: a
 * broker whose deadline passed may register anew even before a tick. */
START_TEST(test_register_after_deadline_without_tick)
{
	int64_t e;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	ck_assert_int_eq(ctl_register(c, 1, 201, "h", 1, true, T0 + SESSION - 1, &e),
			 TERN_ERR_DUPLICATE_BROKER_REGISTRATION);
	e = reg(1, 201, T0 + SESSION);
	ck_assert_int_gt(e, ep[3]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

START_TEST(test_create_topic_assignment)
{
	int leads[NB + 1] = {0};
	isr_leader_and_isr_t st, st2;
	isr_mode_t mode;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("orders", 6, 3, NULL, 0);
	for (int32_t p = 0; p < 6; p++) {
		st = pstate("orders", p, &mode);
		ck_assert_int_eq(st.nreplicas, 3);
		for (int32_t i = 0; i < 3; i++) {
			ck_assert(st.replicas[i] >= 1 && st.replicas[i] <= NB);
			for (int32_t j = 0; j < i; j++)
				ck_assert_int_ne(st.replicas[i], st.replicas[j]);
		}
		ck_assert_int_eq(st.leader, st.replicas[0]);
		ck_assert_int_ge(st.leader_epoch, 1);
		ck_assert_int_eq(st.isr.n, 3);
		for (int32_t i = 0; i < 3; i++)
			ck_assert(in_isr(&st, st.replicas[i]));
		ck_assert(!st.recovering);
		ck_assert_int_eq(mode, ISR_MODE_TARGET);
		leads[st.leader]++;
	}
	/* Round-robin: each broker leads two of six. */
	for (int32_t id = 1; id <= NB; id++)
		ck_assert_msg(leads[id] == 2, "broker %d leads %d", id, leads[id]);
	ck_assert_int_eq(ctl_partition_state(c, "orders", 6, &st, NULL), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(ctl_partition_state(c, "nope", 0, &st, NULL), TERN_ERR__INVALID_ARG);

	/* The next topic starts its round-robin elsewhere. */
	create("payments", 1, 3, NULL, 0);
	st = pstate("orders", 0, NULL);
	st2 = pstate("payments", 0, NULL);
	ck_assert_int_ne(st.leader, st2.leader);

	/* Defaults: num.partitions 1, default.replication.factor 1. */
	create("defaults", -1, -1, NULL, 0);
	st = pstate("defaults", 0, NULL);
	ck_assert_int_eq(st.nreplicas, 1);
	ck_assert_int_eq(ctl_partition_state(c, "defaults", 1, &st, NULL), TERN_ERR__INVALID_ARG);
}
END_TEST

START_TEST(test_create_topic_errors)
{
	static const tern_conf_kv_t bad_value[] = {{"min.insync.replicas", "abc"}};
	static const tern_conf_kv_t bad_key[] = {{"no.such.key", "1"}};
	static const tern_conf_kv_t good[] = {{"min.insync.replicas", "2"}};
	static const char *const bad_names[] = {"", ".", "..", "with space", "bad/name", "a*b"};
	isr_leader_and_isr_t st;
	int64_t v;
	int saves;
	tern_err_t e;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("exists", 1, 1, NULL, 0);
	v = ctl_version(c);
	saves = ms.saves;

	why[0] = '\0';
	e = ctl_create_topic(c, "t", 1, 4, NULL, 0, false, false, why, sizeof why);
	ck_assert_int_eq(e, TERN_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_str_ne(why, "");
	ck_assert_int_eq(ctl_create_topic(c, "t", 1, 0, NULL, 0, false, false, why, sizeof why),
			 TERN_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_int_eq(ctl_create_topic(c, "t", 0, 1, NULL, 0, false, false, why, sizeof why),
			 TERN_ERR_INVALID_PARTITIONS);
	why[0] = '\0';
	ck_assert_int_eq(
	    ctl_create_topic(c, "exists", 1, 1, NULL, 0, false, false, why, sizeof why),
	    TERN_ERR_TOPIC_ALREADY_EXISTS);
	ck_assert_str_ne(why, "");
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
		ck_assert_msg(ctl_create_topic(c, bad_names[i], 1, 1, NULL, 0, false, false, why,
					       sizeof why) == TERN_ERR_INVALID_TOPIC_EXCEPTION,
			      "name '%s'", bad_names[i]);
	why[0] = '\0';
	ck_assert_int_eq(
	    ctl_create_topic(c, "t", 1, 1, bad_value, 1, false, false, why, sizeof why),
	    TERN_ERR_INVALID_CONFIG);
	ck_assert_msg(strstr(why, "min.insync.replicas"), "why: %s", why);
	ck_assert_int_eq(ctl_create_topic(c, "t", 1, 1, bad_key, 1, false, false, why, sizeof why),
			 TERN_ERR_INVALID_CONFIG);
	/* validate_only: a topic that could be created is not. */
	ck_assert_int_eq(ctl_create_topic(c, "t", 3, 3, good, 1, false, true, why, sizeof why),
			 TERN_OK);
	/* ... and a bad one gets the same errors. */
	ck_assert_int_eq(ctl_create_topic(c, "t", 1, 4, NULL, 0, false, true, why, sizeof why),
			 TERN_ERR_INVALID_REPLICATION_FACTOR);

	/* None of this changed anything. */
	ck_assert_int_eq(ctl_version(c), v);
	ck_assert_int_eq(ms.saves, saves);
	ck_assert_int_eq(ctl_partition_state(c, "t", 0, &st, NULL), TERN_ERR__INVALID_ARG);

	/* A real change bumps the version and saves. */
	create("t", 3, 3, good, 1);
	ck_assert_int_gt(ctl_version(c), v);
	ck_assert_int_eq(ms.saves, saves + 1);

	/* Delete. */
	v = ctl_version(c);
	ck_assert_int_eq(ctl_delete_topic(c, "t"), TERN_OK);
	ck_assert_int_gt(ctl_version(c), v);
	ck_assert_int_eq(ctl_partition_state(c, "t", 0, &st, NULL), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(ctl_delete_topic(c, "t"), TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	create("t", 1, 2, NULL, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Heartbeats, fencing, restarts                                              */

START_TEST(test_fencing)
{
	isr_leader_and_isr_t before[6], st;
	int64_t v, now;
	int32_t solo = -1;
	bool fenced, done;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("t", 6, 3, NULL, 0);
	create("solo", 3, 1, NULL, 0); /* one partition on each broker */
	for (int32_t p = 0; p < 3; p++)
		if (pstate("solo", p, NULL).leader == 1)
			solo = p;
	ck_assert_int_ge(solo, 0);
	for (int32_t p = 0; p < 6; p++)
		before[p] = pstate("t", p, NULL);

	/* 2 and 3 heartbeat, 1 is silent: nothing happens before its deadline. */
	v = ctl_version(c);
	live(1u << 2 | 1u << 3, T0 + HB, T0 + SESSION - 1);
	ctl_tick(c, T0 + SESSION - 1);
	ck_assert_int_eq(ctl_version(c), v);
	for (int32_t p = 0; p < 6; p++)
		same_state(&before[p], pref("t", p), "live");

	/* Past it, 1 is fenced: out of every ISR, its partitions elect anew. */
	now = T0 + SESSION + 1;
	hb(2, ep[2], now);
	hb(3, ep[3], now);
	ctl_tick(c, now);
	ck_assert_int_gt(ctl_version(c), v);
	for (int32_t p = 0; p < 6; p++) {
		st = pstate("t", p, NULL);
		ck_assert_msg(!in_isr(&st, 1), "t-%d: 1 still in the ISR", p);
		ck_assert_int_eq(st.isr.n, 2);
		ck_assert_int_ne(st.leader, 1);
		ck_assert(in_isr(&st, st.leader));
		ck_assert_int_gt(st.partition_epoch, before[p].partition_epoch);
		if (before[p].leader == 1)
			ck_assert_int_gt(st.leader_epoch, before[p].leader_epoch);
		else
			ck_assert_int_eq(st.leader_epoch, before[p].leader_epoch);
	}
	/* Its single-replica partition is offline, the ISR keeps it. */
	st = pstate("solo", solo, NULL);
	ck_assert_int_eq(st.leader, ISR_NO_LEADER);
	ck_assert(in_isr(&st, 1));
	/* A second tick changes nothing. */
	v = ctl_version(c);
	ctl_tick(c, now + HB);
	ck_assert_int_eq(ctl_version(c), v);

	/* A heartbeat with a wrong epoch. */
	ck_assert_int_eq(ctl_heartbeat(c, 2, ep[2] + 100, false, now, &fenced, &done),
			 TERN_ERR_STALE_BROKER_EPOCH);
	ck_assert_int_eq(ctl_heartbeat(c, 2, ep[1], false, now, &fenced, &done),
			 TERN_ERR_STALE_BROKER_EPOCH);
	ck_assert_int_eq(ctl_heartbeat(c, 42, 1, false, now, &fenced, &done),
			 TERN_ERR_STALE_BROKER_EPOCH);

	/* 1 comes back with its registration: unfenced, its offline partition
	 * elects it; it is not back in the other ISRs (its leader adds it once
	 * it caught up). */
	{
		isr_leader_and_isr_t off = pstate("solo", solo, NULL);

		hb(1, ep[1], now + HB);
		st = pstate("solo", solo, NULL);
		ck_assert_int_eq(st.leader, 1);
		ck_assert_int_gt(st.leader_epoch, off.leader_epoch);
	}
	for (int32_t p = 0; p < 6; p++)
		ck_assert(!in_isr(pref("t", p), 1));
	/* ... and it is alive: all three can take a new rf-3 topic. */
	create("after", 1, 3, NULL, 0);
}
END_TEST

/* DESIGN.md decision 10: a leader that restarted (a new broker epoch) never
 * resumes its leader epoch. Here its session ended and a tick fenced it: its
 * single-replica partition went offline (a new leader epoch), and its
 * restart elects it in a newer one still. */
START_TEST(test_restart_new_leader_epoch)
{
	isr_leader_and_isr_t s0, s1, st;
	int32_t solo = -1;
	int64_t now = T0 + SESSION + HB, e;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("solo", 3, 1, NULL, 0);
	for (int32_t p = 0; p < 3; p++)
		if (pstate("solo", p, NULL).leader == 2)
			solo = p;
	ck_assert_int_ge(solo, 0);
	s0 = pstate("solo", solo, NULL);

	/* 2 is silent; 1 and 3 heartbeat. */
	live(1u << 1 | 1u << 3, T0 + HB, now);
	s1 = pstate("solo", solo, NULL);
	ck_assert_int_eq(s1.leader, ISR_NO_LEADER);
	ck_assert_int_gt(s1.leader_epoch, s0.leader_epoch);
	ck_assert(in_isr(&s1, 2));

	e = reg(2, 302, now);
	ck_assert_int_gt(e, ep[3]);
	st = pstate("solo", solo, NULL);
	ck_assert_int_eq(st.leader, 2);
	ck_assert_int_gt(st.leader_epoch, s1.leader_epoch);
	ck_assert_int_gt(st.partition_epoch, s1.partition_epoch);
}
END_TEST

/* The leader restarts while its partitions still name it (its session ended
 * moments ago; no tick yet): the same broker wins, with a new leader epoch. */
START_TEST(test_restart_same_leader_before_tick)
{
	isr_leader_and_isr_t before[3], st;
	int64_t now = T0 + SESSION, e;
	int led = 0;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("t", 3, 3, NULL, 0);
	for (int32_t p = 0; p < 3; p++)
		before[p] = pstate("t", p, NULL);
	/* No ticks, no heartbeats: at the deadline 1 may register anew. */
	e = reg(1, 201, now);
	ck_assert_int_gt(e, ep[3]);
	for (int32_t p = 0; p < 3; p++) {
		st = pstate("t", p, NULL);
		ck_assert_int_eq(st.leader, before[p].leader);
		if (before[p].leader == 1) {
			led++;
			ck_assert_int_gt(st.leader_epoch, before[p].leader_epoch);
		} else {
			ck_assert_int_eq(st.leader_epoch, before[p].leader_epoch);
		}
		/* Under sync (the default) it keeps its ISR place. */
		ck_assert(in_isr(&st, 1));
	}
	ck_assert_int_eq(led, 1);
}
END_TEST

START_TEST(test_controlled_shutdown)
{
	isr_leader_and_isr_t before[6], st;
	int32_t solo = -1;
	int64_t now = T0 + HB, e;
	bool fenced = true, done = false;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("t", 6, 3, NULL, 0);
	create("solo", 3, 1, NULL, 0);
	for (int32_t p = 0; p < 3; p++)
		if (pstate("solo", p, NULL).leader == 2)
			solo = p;
	ck_assert_int_ge(solo, 0);
	for (int32_t p = 0; p < 6; p++)
		before[p] = pstate("t", p, NULL);

	ck_assert_int_eq(ctl_heartbeat(c, 2, ep[2], true, now, &fenced, &done), TERN_OK);
	ck_assert(done);
	for (int32_t p = 0; p < 6; p++) {
		st = pstate("t", p, NULL);
		ck_assert_int_ne(st.leader, 2);
		ck_assert_msg(!in_isr(&st, 2), "t-%d: 2 still in the ISR", p);
		ck_assert_int_eq(st.isr.n, 2);
		if (before[p].leader == 2)
			ck_assert_int_gt(st.leader_epoch, before[p].leader_epoch);
		else
			ck_assert_int_eq(st.leader, before[p].leader);
	}
	/* Nobody else could lead its single-replica partition: offline. */
	st = pstate("solo", solo, NULL);
	ck_assert_int_eq(st.leader, ISR_NO_LEADER);

	/* It counts as gone: an rf-3 topic cannot be placed; a heartbeat from
	 * the old process says it is done. */
	ck_assert_int_eq(ctl_create_topic(c, "x", 1, 3, NULL, 0, false, false, why, sizeof why),
			 TERN_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_int_eq(ctl_heartbeat(c, 2, ep[2], false, now + 1, &fenced, &done), TERN_OK);
	ck_assert(done);
	/* Ticks do not fence it again. */
	{
		int64_t v = ctl_version(c);

		live(1u << 1 | 1u << 3, now + HB, now + 2 * SESSION);
		ck_assert_int_eq(ctl_version(c), v);
	}

	/* It may register again at once, as a new incarnation. */
	now += 2 * SESSION + 1;
	e = reg(2, 202, now);
	ck_assert_int_gt(e, ep[3]);
	hb(2, e, now + 1);
	st = pstate("solo", solo, NULL);
	ck_assert_int_eq(st.leader, 2);
	create("x", 1, 3, NULL, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* AlterPartition                                                             */

START_TEST(test_alter_partition)
{
	isr_leader_and_isr_t st, out, st2;
	isr_alter_t a;
	int32_t L, F1, F2;
	int64_t v;
	int saves;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("t", 1, 3, NULL, 0);
	st = pstate("t", 0, NULL);
	L = st.leader;
	F1 = st.replicas[1];
	F2 = st.replicas[2];

	/* Shrink to {L, F1}: accepted, the partition epoch bumps. */
	a = alter_of(&st, 1u << L | 1u << F1);
	v = ctl_version(c);
	saves = ms.saves;
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 0, &a, &out), TERN_OK);
	ck_assert_int_eq(out.partition_epoch, st.partition_epoch + 1);
	ck_assert_int_eq(out.leader_epoch, st.leader_epoch);
	ck_assert_int_eq(out.isr.n, 2);
	ck_assert(!in_isr(&out, F2));
	st2 = pstate("t", 0, NULL);
	same_state(&out, &st2, "after alter");
	ck_assert_int_gt(ctl_version(c), v);
	ck_assert_int_eq(ms.saves, saves + 1);

	/* The same proposal again, now based on a stale partition epoch. */
	memset(&out, 0, sizeof out);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 0, &a, &out),
			 TERN_ERR_INVALID_UPDATE_VERSION);
	same_state(&out, &st2, "stale answer");

	/* From a follower, in its own name. */
	st = st2;
	a = alter_of(&st, 1u << F1);
	a.leader = F1;
	ck_assert_int_eq(ctl_alter_partition(c, F1, ep[F1], "t", 0, &a, &out),
			 TERN_ERR_INVALID_REQUEST);
	/* From a follower, in the leader's name. */
	a = alter_of(&st, 1u << L);
	ck_assert_int_eq(ctl_alter_partition(c, F1, ep[F1], "t", 0, &a, &out),
			 TERN_ERR_INVALID_REQUEST);
	same_state(pref("t", 0), &st, "after refusals");

	/* A stale broker epoch of the sender. */
	a = alter_of(&st, 1u << L);
	memset(&out, 0, sizeof out);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L] + 100, "t", 0, &a, &out),
			 TERN_ERR_STALE_BROKER_EPOCH);
	same_state(&out, &st, "stale broker epoch answer");

	/* A member named with a broker epoch that is not its registration. */
	a = alter_of(&st, 1u << L | 1u << F1 | 1u << F2);
	for (int32_t i = 0; i < a.isr.n; i++)
		a.broker_epoch[i] = ep[a.isr.id[i]] + (a.isr.id[i] == F2 ? 1000 : 0);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 0, &a, &out),
			 TERN_ERR_OPERATION_NOT_ATTEMPTED);

	/* Unknown partition. */
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 1, &a, &out),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "nope", 0, &a, &out),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);

	/* F2 dies; proposing it back is refused (nothing applied). */
	live(1u << L | 1u << F1, T0 + HB, T0 + SESSION + HB);
	st = pstate("t", 0, NULL);
	a = alter_of(&st, 1u << L | 1u << F1 | 1u << F2);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 0, &a, &out),
			 TERN_ERR_OPERATION_NOT_ATTEMPTED);
	same_state(pref("t", 0), &st, "after dead member");

	/* A proposal of the current ISR: accepted, no new epoch. */
	a = alter_of(&st, 1u << L | 1u << F1);
	v = ctl_version(c);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 0, &a, &out), TERN_OK);
	ck_assert_int_eq(out.partition_epoch, st.partition_epoch);
	ck_assert_int_eq(ctl_version(c), v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Elections                                                                  */

/* Shrinks topic's partition 0 to its leader alone, then fences the leader
 * (the others keep heartbeating). Returns the old leader. */
static int32_t leave_only_out_of_sync(const char *topic, int64_t *now)
{
	isr_leader_and_isr_t st = pstate(topic, 0, NULL), out;
	isr_alter_t a = alter_of(&st, 1u << st.leader);
	int32_t L = st.leader;

	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], topic, 0, &a, &out), TERN_OK);
	ck_assert_int_eq(out.isr.n, 1);
	live(((1u << 1 | 1u << 2 | 1u << 3) & ~(1u << L)), *now + HB, *now + SESSION + HB);
	*now += SESSION + HB;
	return L;
}

START_TEST(test_unclean_election)
{
	static const tern_conf_kv_t off[] = {{"unclean.leader.election.enable", "false"}};
	static const tern_conf_kv_t on[] = {{"unclean.leader.election.enable", "true"}};
	isr_leader_and_isr_t st, st2;
	isr_mode_t mode;
	int64_t now = T0;
	int32_t L;

	c = open_on(&ms.ops, T0);
	reg_all(T0);

	/* Off: the partition goes offline; the ISR keeps its last member. */
	create("off", 1, 3, off, 1);
	L = leave_only_out_of_sync("off", &now);
	st = pstate("off", 0, &mode);
	ck_assert_int_eq(st.leader, ISR_NO_LEADER);
	ck_assert_int_eq(mode, ISR_MODE_OFFLINE);
	ck_assert_int_eq(st.isr.n, 1);
	ck_assert(in_isr(&st, L));
	/* An operator's elections: the preferred replica (L) cannot lead;
	 * an unclean one picks a live out-of-sync replica. */
	if (st.replicas[0] == L)
		ck_assert_int_eq(ctl_elect(c, "off", 0, ISR_ELECT_PREFERRED),
				 TERN_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	ck_assert_int_eq(ctl_elect(c, "off", 0, ISR_ELECT_UNCLEAN), TERN_OK);
	st2 = pstate("off", 0, &mode);
	ck_assert_int_ne(st2.leader, ISR_NO_LEADER);
	ck_assert_int_ne(st2.leader, L);
	ck_assert_int_gt(st2.leader_epoch, st.leader_epoch);
	ck_assert_int_eq(st2.isr.n, 1);
	ck_assert(in_isr(&st2, st2.leader));
	ck_assert(st2.recovering);
	ck_assert_int_eq(mode, ISR_MODE_RECOVERY);
	ck_assert_int_eq(ctl_elect(c, "off", 0, ISR_ELECT_UNCLEAN), TERN_ERR_ELECTION_NOT_NEEDED);
	ck_assert_int_eq(ctl_elect(c, "nope", 0, ISR_ELECT_UNCLEAN),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);

	/* On: the election happens by itself. L is dead by now, so restart it
	 * first to have three live brokers. */
	ep[L] = reg(L, 500 + L, now);
	create("on", 1, 3, on, 1);
	L = leave_only_out_of_sync("on", &now);
	st = pstate("on", 0, &mode);
	ck_assert_int_ne(st.leader, ISR_NO_LEADER);
	ck_assert_int_ne(st.leader, L);
	ck_assert(st.recovering);
	ck_assert_int_eq(mode, ISR_MODE_RECOVERY);
}
END_TEST

/* Turning unclean election on for an offline partition elects at once;
 * with no live replica at all, an unclean election finds nobody. */
START_TEST(test_unclean_by_config)
{
	static const tern_conf_kv_t on[] = {{"unclean.leader.election.enable", "true"}};
	static const tern_conf_kv_t bad[] = {{"min.insync.replicas", "abc"}};
	isr_leader_and_isr_t st;
	isr_mode_t mode;
	int64_t now = T0, v;
	int32_t L, solo = -1;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("t", 1, 3, NULL, 0);
	create("solo", 3, 1, NULL, 0);
	L = leave_only_out_of_sync("t", &now);
	st = pstate("t", 0, NULL);
	ck_assert_int_eq(st.leader, ISR_NO_LEADER);

	v = ctl_version(c);
	ck_assert_int_eq(ctl_set_topic_configs(c, "t", bad, 1, false, why, sizeof why),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_int_eq(ctl_set_topic_configs(c, "nope", on, 1, false, why, sizeof why),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(ctl_set_topic_configs(c, "t", on, 1, true, why, sizeof why), TERN_OK);
	ck_assert_int_eq(ctl_version(c), v);
	ck_assert_int_eq(pstate("t", 0, NULL).leader, ISR_NO_LEADER);

	ck_assert_int_eq(ctl_set_topic_configs(c, "t", on, 1, false, why, sizeof why), TERN_OK);
	st = pstate("t", 0, &mode);
	ck_assert_int_ne(st.leader, ISR_NO_LEADER);
	ck_assert_int_ne(st.leader, L);
	ck_assert_int_eq(mode, ISR_MODE_RECOVERY);

	for (int32_t p = 0; p < 3; p++)
		if (pstate("solo", p, NULL).replicas[0] == L)
			solo = p;
	ck_assert_int_ge(solo, 0);
	ck_assert_int_eq(pstate("solo", solo, NULL).leader, ISR_NO_LEADER);
	ck_assert_int_eq(ctl_elect(c, "solo", solo, ISR_ELECT_UNCLEAN),
			 TERN_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE);
}
END_TEST

START_TEST(test_corrupt_replica)
{
	isr_leader_and_isr_t st, st2;
	isr_alter_t a;
	int32_t L, F1, F2;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("t", 1, 3, NULL, 0);
	st = pstate("t", 0, NULL);
	L = st.leader;
	F1 = st.replicas[1];
	F2 = st.replicas[2];

	ck_assert_int_eq(ctl_replica_health(c, F1, ep[F1] + 7, "t", 0, true),
			 TERN_ERR_STALE_BROKER_EPOCH);
	ck_assert_int_eq(ctl_replica_health(c, F1, ep[F1], "t", 5, true),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);

	/* A corrupt follower leaves the ISR. */
	ck_assert_int_eq(ctl_replica_health(c, F1, ep[F1], "t", 0, true), TERN_OK);
	st2 = pstate("t", 0, NULL);
	ck_assert(!in_isr(&st2, F1));
	ck_assert_int_eq(st2.leader, L);
	ck_assert_int_gt(st2.partition_epoch, st.partition_epoch);
	/* The leader cannot bring it back while corrupt. */
	a = alter_of(&st2, 1u << L | 1u << F1 | 1u << F2);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "t", 0, &a, &st),
			 TERN_ERR_OPERATION_NOT_ATTEMPTED);

	/* A corrupt leader gives up leadership to the other ISR member. */
	ck_assert_int_eq(ctl_replica_health(c, L, ep[L], "t", 0, true), TERN_OK);
	st = pstate("t", 0, NULL);
	ck_assert_int_eq(st.leader, F2);
	ck_assert(!in_isr(&st, L));
	ck_assert_int_gt(st.leader_epoch, st2.leader_epoch);

	/* F2 dies: the corrupt replicas are alive but can never lead, even
	 * uncleanly. */
	live(1u << L | 1u << F1, T0 + HB, T0 + SESSION + HB);
	st = pstate("t", 0, NULL);
	ck_assert_int_eq(st.leader, ISR_NO_LEADER);
	ck_assert_int_eq(ctl_elect(c, "t", 0, ISR_ELECT_UNCLEAN),
			 TERN_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE);

	/* Healthy again (after truncating): an unclean election may pick it. */
	ck_assert_int_eq(ctl_replica_health(c, F1, ep[F1], "t", 0, false), TERN_OK);
	ck_assert_int_eq(pstate("t", 0, NULL).leader, ISR_NO_LEADER);
	ck_assert_int_eq(ctl_elect(c, "t", 0, ISR_ELECT_UNCLEAN), TERN_OK);
	ck_assert_int_eq(pstate("t", 0, NULL).leader, F1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Producer ids                                                               */

typedef struct pid_block {
	int64_t start;
	int32_t len;
} pid_block_t;

static void no_overlap(const pid_block_t *b, int n)
{
	for (int i = 0; i < n; i++) {
		ck_assert_int_ge(b[i].start, 0);
		ck_assert_int_gt(b[i].len, 0);
		for (int j = 0; j < i; j++)
			ck_assert_msg(b[i].start >= b[j].start + b[j].len ||
					  b[j].start >= b[i].start + b[i].len,
				      "blocks %d and %d overlap", i, j);
	}
}

START_TEST(test_producer_ids)
{
	pid_block_t b[8];
	int n = 0;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	for (int i = 0; i < 4; i++, n++)
		ck_assert_int_eq(ctl_allocate_producer_ids(c, 1 + i % NB, ep[1 + i % NB],
							   &b[n].start, &b[n].len),
				 TERN_OK);
	ck_assert_int_eq(ctl_allocate_producer_ids(c, 1, ep[1] + 1, &b[n].start, &b[n].len),
			 TERN_ERR_STALE_BROKER_EPOCH);
	ck_assert_int_eq(ctl_allocate_producer_ids(c, 9, 1, &b[n].start, &b[n].len),
			 TERN_ERR_STALE_BROKER_EPOCH);
	no_overlap(b, n);

	/* Across a reopen. */
	ctl_close(c);
	c = open_on(&ms.ops, T0 + 10);
	for (int i = 0; i < 4; i++, n++)
		ck_assert_int_eq(ctl_allocate_producer_ids(c, 1 + i % NB, ep[1 + i % NB],
							   &b[n].start, &b[n].len),
				 TERN_OK);
	no_overlap(b, n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Persistence                                                                */

#define NT 3
static const char *const pnames[NT] = {"a", "b", "c"};
static const int32_t pparts[NT] = {6, 2, 1};

/* A cluster with history: three topics with overrides, an ISR change, a
 * controlled shutdown, a restart, producer ids. */
static void build_history(int64_t *now, pid_block_t *pid)
{
	static const tern_conf_kv_t a_cfg[] = {{"min.insync.replicas", "2"},
					       {"retention.ms", "60000"}};
	static const tern_conf_kv_t c_cfg[] = {{"unclean.leader.election.enable", "true"}};
	isr_leader_and_isr_t st, out;
	isr_alter_t al;
	bool fenced, done;

	reg_all(*now);
	create("a", 6, 3, a_cfg, 2);
	create("b", 2, 1, NULL, 0);
	create("c", 1, 3, c_cfg, 1);
	/* a-0 shrinks to its leader: under min.insync 2 that is the floor. */
	st = pstate("a", 0, NULL);
	al = alter_of(&st, 1u << st.leader);
	ck_assert_int_eq(ctl_alter_partition(c, st.leader, ep[st.leader], "a", 0, &al, &out),
			 TERN_OK);
	/* 3 shuts down and comes back as a new incarnation. */
	ck_assert_int_eq(ctl_heartbeat(c, 3, ep[3], true, *now + 1, &fenced, &done), TERN_OK);
	ck_assert(done);
	ep[3] = reg(3, 303, *now + 2);
	ck_assert_int_eq(ctl_allocate_producer_ids(c, 1, ep[1], &pid->start, &pid->len), TERN_OK);
	*now += 10;
}

static void snapshot(isr_leader_and_isr_t st[NT][6], isr_mode_t mode[NT][6])
{
	for (int t = 0; t < NT; t++)
		for (int32_t p = 0; p < pparts[t]; p++)
			st[t][p] = pstate(pnames[t], p, &mode[t][p]);
}

static void check_reopened(ctl_store_t *store, int64_t now, const pid_block_t *pid0)
{
	isr_leader_and_isr_t st[NT][6], st2[NT][6];
	isr_mode_t mode[NT][6], mode2[NT][6];
	char cluster[64];
	pid_block_t b[2] = {*pid0};
	int64_t e4, emax = 0;
	bool fenced3 = false;
	struct timespec ts;
	int64_t version;

	snapshot(st, mode);
	snprintf(cluster, sizeof cluster, "%s", ctl_cluster_id(c));
	ck_assert_int_eq(mode[0][0], ISR_MODE_FLOOR);
	ctl_close(c);

	/* A new controller's versions start at the wall clock in
	 * microseconds: above what an earlier one reached, unless it made a
	 * change every microsecond. */
	clock_gettime(CLOCK_REALTIME, &ts);
	version = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	c = open_on(store, now);
	ck_assert_str_eq(ctl_cluster_id(c), cluster);
	ck_assert_int_ge(ctl_version(c), version);
	ck_assert_int_lt(ctl_version(c), version + 60 * 1000000);
	snapshot(st2, mode2);
	for (int t = 0; t < NT; t++) {
		for (int32_t p = 0; p < pparts[t]; p++) {
			same_state(&st[t][p], &st2[t][p], pnames[t]);
			ck_assert_int_eq(mode[t][p], mode2[t][p]);
		}
	}
	ck_assert_int_eq(ctl_partition_state(c, "a", 6, &st2[0][0], NULL), TERN_ERR__INVALID_ARG);

	/* Loaded brokers are not alive until they heartbeat. */
	ck_assert_int_eq(ctl_create_topic(c, "d", 1, 1, NULL, 0, false, false, why, sizeof why),
			 TERN_ERR_INVALID_REPLICATION_FACTOR);
	/* A new broker's epoch is above every stored one. */
	for (int32_t id = 1; id <= NB; id++)
		emax = ep[id] > emax ? ep[id] : emax;
	e4 = reg(4, 404, now);
	ck_assert_int_gt(e4, emax);
	/* Stored registrations heartbeat with their stored epochs; 3 stays
	 * silent and is fenced at its deadline, a session timeout after the
	 * reopen: until then nothing changes. */
	hb(1, ep[1], now + 1);
	hb(2, ep[2], now + 1);
	{
		bool fenced, done;

		ck_assert_int_eq(ctl_heartbeat(c, 3, ep[3] - 1, false, now + 1, &fenced, &done),
				 TERN_ERR_STALE_BROKER_EPOCH);
	}
	ctl_tick(c, now + SESSION - 1);
	for (int t = 0; t < NT; t++)
		for (int32_t p = 0; p < pparts[t]; p++)
			same_state(&st[t][p], pref(pnames[t], p), "before the deadline");
	for (int64_t t = now + HB; t <= now + SESSION + HB; t += HB) {
		hb(1, ep[1], t);
		hb(2, ep[2], t);
		hb(4, e4, t);
		ctl_tick(c, t);
	}
	for (int t = 0; t < NT; t++) {
		for (int32_t p = 0; p < pparts[t]; p++) {
			isr_leader_and_isr_t s = pstate(pnames[t], p, NULL);

			ck_assert_int_ne(s.leader, 3);
			if (st[t][p].leader == 3 && s.isr.n == 1 && in_isr(&s, 3))
				ck_assert_int_eq(s.leader, ISR_NO_LEADER);
			else if (st[t][p].leader == 3)
				ck_assert_int_gt(s.leader_epoch, st[t][p].leader_epoch);
			if (s.isr.n > 1)
				ck_assert(!in_isr(&s, 3));
			if (strcmp(pnames[t], "b") == 0 && st[t][p].leader == 3)
				fenced3 = true;
		}
	}
	/* b's partition on 3 was led by 3 (it came back after its shutdown). */
	ck_assert(fenced3);

	/* The topic settings survived: min.insync 2 on a refuses nothing but
	 * shows as the floor above; a new rf-3 topic now fits (1, 2, 4). */
	create("d", 1, 3, NULL, 0);
	/* Producer ids continue past the stored ones. */
	ck_assert_int_eq(ctl_allocate_producer_ids(c, 1, ep[1], &b[1].start, &b[1].len), TERN_OK);
	no_overlap(b, 2);
	/* 3 registers again with a new epoch above all. */
	ck_assert_int_gt(reg(3, 333, now + SESSION + 2 * HB), e4);
}

START_TEST(test_persistence_mem)
{
	int64_t now = T0;
	pid_block_t pid;

	c = open_on(&ms.ops, T0);
	build_history(&now, &pid);
	check_reopened(&ms.ops, now + 100000, &pid);
	ck_assert_int_eq(ms.closes, 1);
}
END_TEST

START_TEST(test_persistence_file)
{
	char *dir = tt_mkdtemp("ctl");
	char path[4096];
	ctl_store_t *store = NULL;
	int64_t now = T0;
	pid_block_t pid;

	snprintf(path, sizeof path, "%s/controller.meta", dir);
	ck_assert_int_eq(ctl_store_file_new(path, &store), TERN_OK);
	c = open_on(store, T0);
	build_history(&now, &pid);
	ck_assert_int_eq(ctl_store_file_new(path, &store), TERN_OK);
	check_reopened(store, now + 100000, &pid);
	ctl_close(c);
	c = NULL;
	tt_rmtree(dir);
	free(dir);
}
END_TEST

/* The file store of a missing directory cannot save: the change fails and
 * is undone. */
START_TEST(test_file_store_unwritable)
{
	ctl_store_t *store = NULL;
	isr_leader_and_isr_t st;
	int64_t e;

	ck_assert_int_eq(ctl_store_file_new("/nonexistent-tern-dir/controller.meta", &store),
			 TERN_OK);
	c = open_on(store, T0);
	ck_assert_int_ne(ctl_register(c, 1, 1, "h", 1, true, T0, &e), TERN_OK);
	ck_assert_int_eq(ctl_create_topic(c, "t", 1, 1, NULL, 0, false, false, why, sizeof why),
			 TERN_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_int_eq(ctl_partition_state(c, "t", 0, &st, NULL), TERN_ERR__INVALID_ARG);
}
END_TEST

/* Everything of the current state as the test can see it, to compare with
 * another controller opened on the same stored text. */
static void same_as_stored(const char *const *topics, const int32_t *nparts, int n)
{
	mem_store_t copy;
	ctl_t *mine = c, *other;

	mem_init(&copy, ms.text);
	other = open_on(&copy.ops, T0);
	for (int t = 0; t < n; t++) {
		for (int32_t p = 0; p < nparts[t]; p++) {
			isr_leader_and_isr_t a, b;

			c = mine;
			a = pstate(topics[t], p, NULL);
			c = other;
			b = pstate(topics[t], p, NULL);
			same_state(&a, &b, topics[t]);
		}
	}
	c = mine;
	ctl_close(other);
	mem_free(&copy);
}

START_TEST(test_failed_save)
{
	static const char *const topics[] = {"a"};
	static const int32_t nparts[] = {3};
	static const tern_conf_kv_t min2[] = {{"min.insync.replicas", "2"}};
	isr_leader_and_isr_t before[3], st, out;
	isr_alter_t al;
	isr_mode_t mode;
	int64_t v, e, start;
	int32_t len, L;
	tern_err_t err;
	int saves;
	bool fenced, done;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("a", 3, 3, NULL, 0);
	for (int32_t p = 0; p < 3; p++)
		before[p] = pstate("a", p, NULL);
	v = ctl_version(c);
	saves = ms.saves;

	/* A topic whose save fails does not exist. */
	ms.fail = true;
	why[0] = '\0';
	err = ctl_create_topic(c, "b", 2, 3, NULL, 0, false, false, why, sizeof why);
	ck_assert_int_eq(err, TERN_ERR_NOT_CONTROLLER);
	ck_assert_str_ne(why, "");
	ck_assert_int_eq(ctl_partition_state(c, "b", 0, &st, NULL), TERN_ERR__INVALID_ARG);
	/* The version never goes back (brokers only ever move forward). */
	ck_assert_int_ge(ctl_version(c), v);
	ck_assert_int_eq(ms.saves, saves);
	for (int32_t p = 0; p < 3; p++)
		same_state(&before[p], pref("a", p), "a");

	/* Deletion, configs, AlterPartition, producer ids, registration: all
	 * undone. */
	ck_assert_int_eq(ctl_delete_topic(c, "a"), TERN_ERR_NOT_CONTROLLER);
	st = pstate("a", 0, NULL);
	ck_assert_int_eq(ctl_set_topic_configs(c, "a", min2, 1, false, why, sizeof why),
			 TERN_ERR_NOT_CONTROLLER);
	L = st.leader;
	al = alter_of(&st, 1u << L);
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "a", 0, &al, &out),
			 TERN_ERR_NOT_CONTROLLER);
	same_state(&out, &before[0], "answer of a failed alter");
	ck_assert_int_eq(ctl_allocate_producer_ids(c, 1, ep[1], &start, &len),
			 TERN_ERR_NOT_CONTROLLER);
	e = -5;
	ck_assert_int_ne(ctl_register(c, 4, 4, "h", 1, true, T0 + 1, &e), TERN_OK);
	ck_assert_int_eq(e, -5);
	ck_assert_int_eq(ms.saves, saves);
	for (int32_t p = 0; p < 3; p++)
		same_state(&before[p], pref("a", p), "a");
	same_as_stored(topics, nparts, 1);

	/* Saves work again: the controller carries on from the stored state,
	 * with its brokers still alive (the reload kept the sessions). */
	ms.fail = false;
	ck_assert_int_eq(ctl_alter_partition(c, L, ep[L], "a", 0, &al, &out), TERN_OK);
	ck_assert_int_eq(out.isr.n, 1);
	st = pstate("a", 0, &mode);
	ck_assert_int_eq(mode, ISR_MODE_DEGRADED); /* min.insync stayed 1 */
	ck_assert_int_eq(ctl_allocate_producer_ids(c, 1, ep[1], &start, &len), TERN_OK);
	create("b", 2, 3, NULL, 0);
	ck_assert_int_gt(ctl_version(c), v);
	/* 4 was never registered. */
	ck_assert_int_eq(ctl_heartbeat(c, 4, e, false, T0 + 2, &fenced, &done),
			 TERN_ERR_STALE_BROKER_EPOCH);

	/* A fence whose save fails is retried at the next tick; then every
	 * partition 1 led elects a live leader (not offline). */
	live(1u << 2 | 1u << 3, T0 + HB, T0 + SESSION - 1);
	ms.fail = true;
	hb(2, ep[2], T0 + SESSION + 1);
	hb(3, ep[3], T0 + SESSION + 1);
	ctl_tick(c, T0 + SESSION + 1);
	{
		static const char *const ab[] = {"a", "b"};
		static const int32_t abn[] = {3, 2};

		same_as_stored(ab, abn, 2);
	}
	ms.fail = false;
	hb(2, ep[2], T0 + SESSION + 2);
	hb(3, ep[3], T0 + SESSION + 2);
	ctl_tick(c, T0 + SESSION + 2);
	for (int32_t p = 0; p < 3; p++) {
		st = pstate("a", p, NULL);
		ck_assert_int_ne(st.leader, 1);
		ck_assert_msg(st.leader != ISR_NO_LEADER || (p == 0 && L == 1),
			      "a-%d offline after the fence", p);
	}
}
END_TEST

/* A heartbeat whose changes cannot be saved (an unfence that elects, a
 * controlled shutdown) fails and is undone; the broker's next heartbeat
 * does it again. */
START_TEST(test_failed_heartbeat)
{
	isr_leader_and_isr_t st;
	int32_t solo = -1;
	int64_t now = T0 + SESSION + HB;
	bool fenced = false, done = true;

	c = open_on(&ms.ops, T0);
	reg_all(T0);
	create("solo", 3, 1, NULL, 0);
	create("t", 3, 3, NULL, 0);
	for (int32_t p = 0; p < 3; p++)
		if (pstate("solo", p, NULL).leader == 1)
			solo = p;
	ck_assert_int_ge(solo, 0);
	live(1u << 2 | 1u << 3, T0 + HB, now);
	ck_assert_int_eq(pstate("solo", solo, NULL).leader, ISR_NO_LEADER);

	/* The unfence elects 1 on solo: the save fails. */
	ms.fail = true;
	ck_assert_int_eq(ctl_heartbeat(c, 1, ep[1], false, now + 1, &fenced, &done),
			 TERN_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(pstate("solo", solo, NULL).leader, ISR_NO_LEADER);
	ms.fail = false;
	hb(1, ep[1], now + 2);
	st = pstate("solo", solo, NULL);
	ck_assert_int_eq(st.leader, 1);

	/* A controlled shutdown of 2 whose save fails: nothing moved, and 2 is
	 * not done; its retry is. */
	ms.fail = true;
	ck_assert_int_eq(ctl_heartbeat(c, 2, ep[2], true, now + 3, &fenced, &done),
			 TERN_ERR_NOT_CONTROLLER);
	ck_assert(!done);
	for (int32_t p = 0; p < 3; p++)
		ck_assert(in_isr(pref("t", p), 2));
	ms.fail = false;
	ck_assert_int_eq(ctl_heartbeat(c, 2, ep[2], true, now + 4, &fenced, &done), TERN_OK);
	ck_assert(done);
	for (int32_t p = 0; p < 3; p++) {
		ck_assert(!in_isr(pref("t", p), 2));
		ck_assert_int_ne(pref("t", p)->leader, 2);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Corrupt metadata                                                           */

#define GOOD_HEAD                                                                                  \
	"tern-controller 1\n"                                                                      \
	"cluster-id tern-test\n"                                                                   \
	"next-broker-epoch 4\n"                                                                    \
	"next-producer-id 1000\n"                                                                  \
	"broker 1 101 1 127.0.0.1 9093\n"                                                          \
	"broker 2 102 2 127.0.0.1 9094\n"                                                          \
	"broker 3 103 3 127.0.0.1 9095\n"                                                          \
	"topic t 2 3 0\n"                                                                          \
	"config min.insync.replicas=2\n"                                                           \
	"part 0 1 1 1 0 0 R=1,2,3 I=1,2,3 E=\n"
#define GOOD_PART1 "part 1 2 1 1 0 0 R=2,3,1 I=2,3 E=\n"

static const struct {
	const char *text;
	const char *want; /* in the error message */
} bad_texts[] = {
    {"garbage\n", "line 1"},
    {"\x01\x02\x03", "line 1"},
    {"", "line 1"},
    {"tern-controller 2\n", "line 1"},
    {GOOD_HEAD "part 1 2 1\n", "line 11"},
    {GOOD_HEAD "part 1 2 1 1 0 0 R=2,3,1 I=2,3", "line 11"},
    {GOOD_HEAD "frobnicate 1\n" GOOD_PART1, "line 11"},
    {GOOD_HEAD, "lacks partitions"},
    {GOOD_HEAD "part 1 2 1 1 0 0 R=2,3,1 I=2,3,7 E=\n", "line 11"},
    {GOOD_HEAD "part 1 5 1 1 0 0 R=2,3,1 I=2,3 E=\n", "line 11"},
    {GOOD_HEAD "part 7 2 1 1 0 0 R=2,3,1 I=2,3 E=\n", "line 11"},
    {GOOD_HEAD "part 1 2 1 1 0 0 R=2,2,1 I=2 E=\n", "line 11"},
    {GOOD_HEAD GOOD_PART1 "topic t 1 1 0\n", "line 12"},
    {GOOD_HEAD GOOD_PART1 "topic u 1\n", "line 12"},
    {GOOD_HEAD GOOD_PART1 "broker 1 1 1 h 1\n", "line 12"},
    {GOOD_HEAD GOOD_PART1 "broker 4 1\n", "line 12"},
    {GOOD_HEAD GOOD_PART1 "topic u 1 1 0\nconfig min.insync.replicas=abc\n"
			  "part 0 1 1 1 0 0 R=1 I=1 E=\n",
     "line 14"},
};

START_TEST(test_corrupt_store)
{
	char err[256] = "";
	mem_store_t bad;
	ctl_t *x = NULL;
	tern_err_t e;

	/* The good text loads. */
	mem_init(&bad, GOOD_HEAD GOOD_PART1);
	c = open_on(&bad.ops, T0);
	ck_assert_str_eq(ctl_cluster_id(c), "tern-test");
	ck_assert_int_eq(pstate("t", 1, NULL).leader, 2);
	ctl_close(c);
	c = NULL;
	mem_free(&bad);

	mem_init(&bad, bad_texts[_i].text);
	e = ctl_open(&ccfg, &bad.ops, T0, &x, err, sizeof err);
	ck_assert_msg(e == TERN_ERR__CORRUPT, "text %d opened: %s", _i, tern_strerror(e));
	ck_assert_ptr_null(x);
	ck_assert_msg(strstr(err, bad_texts[_i].want), "text %d: error '%s' lacks '%s'", _i, err,
		      bad_texts[_i].want);
	mem_free(&bad);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *controller_suite(void)
{
	Suite *s = suite_create("controller");
	TCase *tc;

	tc = tcase_create("brokers");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register_epochs);
	tcase_add_test(tc, test_register_after_deadline_without_tick);
	tcase_add_test(tc, test_fencing);
	tcase_add_test(tc, test_restart_new_leader_epoch);
	tcase_add_test(tc, test_restart_same_leader_before_tick);
	tcase_add_test(tc, test_controlled_shutdown);
	suite_add_tcase(s, tc);

	tc = tcase_create("topics");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_topic_assignment);
	tcase_add_test(tc, test_create_topic_errors);
	tcase_add_test(tc, test_alter_partition);
	tcase_add_test(tc, test_unclean_election);
	tcase_add_test(tc, test_unclean_by_config);
	tcase_add_test(tc, test_corrupt_replica);
	tcase_add_test(tc, test_producer_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_persistence_mem);
	tcase_add_test(tc, test_persistence_file);
	tcase_add_test(tc, test_file_store_unwritable);
	tcase_add_test(tc, test_failed_save);
	tcase_add_test(tc, test_failed_heartbeat);
	tcase_add_loop_test(tc, test_corrupt_store, 0,
			    (int)(sizeof bad_texts / sizeof bad_texts[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(controller_suite());
}
