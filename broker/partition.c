/* broker/partition.c: topics and this broker's replicas of their
 * partitions: their logs, their isr/ state machines, the produce requests
 * waiting on them, and how the cluster image (from the controller) creates,
 * changes and deletes them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

/* ------------------------------------------------------------------------ */
/* Lookup                                                                     */

bk_topic_t *bk_topic_find(broker_t *b, const char *name, size_t len)
{
	for (size_t i = 0; i < b->ntopics; i++) {
		bk_topic_t *t = b->topics[i];

		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t;
	}
	return NULL;
}

tern_err_t bk_part_missing(broker_t *b, proto_str_t topic, int32_t partition)
{
	bk_topic_t *t = topic.len < 0 ? NULL : bk_topic_find(b, topic.s, (size_t)topic.len);

	return t && partition >= 0 && partition < t->npart ? TERN_ERR_NOT_LEADER_OR_FOLLOWER
							   : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

bk_part_t *bk_part_find(broker_t *b, proto_str_t topic, int32_t partition)
{
	bk_topic_t *t;

	if (topic.len < 0)
		return NULL;
	t = bk_topic_find(b, topic.s, (size_t)topic.len);
	if (!t || partition < 0 || partition >= t->npart)
		return NULL;
	return t->parts[partition];
}

void bk_isr_config(const broker_t *b, const broker_topic_config_t *t, isr_config_t *out)
{
	isr_config_default(out);
	out->min_insync = t->min_insync_replicas;
	out->lag_time_max_ms = b->cfg->replica_lag_time_max_ms;
	out->flush = t->flush_policy == LOG_FLUSH_ASYNC ? ISR_FLUSH_ASYNC : ISR_FLUSH_SYNC;
	out->unclean_election = t->unclean_leader_election_enable;
	out->eligible_leader_replicas = t->eligible_leader_replicas_enable;
}

/* ------------------------------------------------------------------------ */
/* Produce waits and isr/ decisions                                          */

static void wait_remove(bk_part_t *p, size_t i)
{
	p->waits[i] = p->waits[--p->nwaits];
}

/* Removes wait i and then answers it (its callback may not look at waits). */
static void wait_answer(bk_part_t *p, size_t i, tern_err_t err)
{
	bk_wait_t w = p->waits[i];

	wait_remove(p, i);
	w.done(w.arg, err, w.base_offset);
}

static bk_wait_t *wait_find(bk_part_t *p, uint64_t token, size_t *idx)
{
	for (size_t i = 0; i < p->nwaits; i++) {
		if (p->waits[i].token == token) {
			*idx = i;
			return &p->waits[i];
		}
	}
	return NULL;
}

void bk_part_apply(broker_t *b, bk_part_t *p, const isr_decisions_t *d)
{
	if (d->assign_epoch) {
		tern_err_t err = log_assign_epoch(p->log, d->epoch, d->epoch_start);

		if (err)
			bk_log('E', "epoch", "%s-%d: recording leader epoch %d: %s", p->topic->name,
			       p->index, d->epoch, tern_strerror(err));
	}
	if (d->hwm_changed) {
		log_set_hwm(p->log, d->hwm);
		bk_kick(b);
	}
	if (d->reconcile) {
		/* A new leader epoch: the follower's fetcher reconciles its log
		 * with the leader before it fetches again. */
		p->reconcile = true;
		bk_replica_kick(b);
	}
	if (d->alter)
		bk_cluster_alter(b, p, &d->alter_req);
	for (size_t i = 0; i < d->ndone; i++) {
		size_t idx;
		bk_wait_t *w = wait_find(p, d->done[i].token, &idx);

		/* A wait answered earlier (a failed append) is gone: isr/ still
		 * held its token, and its late answer is dropped here. */
		if (!w)
			continue;
		wait_answer(p, idx, d->done[i].err);
	}
}

bool bk_part_mark_corrupt(bk_part_t *p)
{
	bool first;

	pthread_mutex_lock(&p->mu);
	first = !p->corrupt_reported;
	p->corrupt_reported = true;
	pthread_mutex_unlock(&p->mu);
	return first;
}

void bk_part_storage_failed(broker_t *b, bk_part_t *p)
{
	bool first;

	/* Corrupt data found by a read: reported, then cut away by
	 * part_repair once another replica leads. */
	if (log_is_repairable(p->log)) {
		if (bk_part_mark_corrupt(p))
			bk_cluster_health(b, p, true);
		return;
	}
	pthread_mutex_lock(&p->mu);
	first = !p->offline;
	p->offline = p->corrupt_reported = true;
	pthread_mutex_unlock(&p->mu);
	if (!first)
		return;
	bk_log('E', "health",
	       "%s-%d: the log failed (%s): this replica is offline until the broker restarts",
	       p->topic->name, p->index, log_failure(p->log));
	bk_cluster_health(b, p, true);
}

void bk_part_fail_waits(bk_part_t *p, tern_err_t err)
{
	while (p->nwaits)
		wait_answer(p, 0, err);
}

/* Hands the waits whose records isr/ now counts in its LEO over to
 * isr_produce_wait(). p->mu held. */
static void waits_to_isr(broker_t *b, bk_part_t *p)
{
	isr_decisions_t d;

	for (size_t i = 0; i < p->nwaits;) {
		bk_wait_t *w = &p->waits[i];
		tern_err_t err;

		if (w->in_isr || w->end_offset > p->isr.leo) {
			i++;
			continue;
		}
		w->in_isr = true;
		err =
		    isr_produce_wait(&p->isr, w->acks, w->end_offset, w->deadline_ms, w->token, &d);
		if (err) {
			wait_answer(p, i, err);
			continue;
		}
		/* May answer w itself (moving another wait into slot i). */
		bk_part_apply(b, p, &d);
		i = 0;
	}
}

/* Feeds the log's current ends to isr/. Reads the durable end first: it
 * never passes the LEO read after it. p->mu held. */
static void sync_log_ends(broker_t *b, bk_part_t *p, int64_t now)
{
	int64_t durable = log_durable_end_offset(p->log);
	int64_t leo = log_end_offset(p->log);
	isr_decisions_t d;

	if (leo > p->isr.leo && isr_local_append(&p->isr, leo, now, &d) == TERN_OK)
		bk_part_apply(b, p, &d);
	if (durable > p->isr.durable_leo && durable <= p->isr.leo &&
	    isr_durable_advance(&p->isr, durable, now, &d) == TERN_OK)
		bk_part_apply(b, p, &d);
	waits_to_isr(b, p);
}

/* Adds a wait for w->end_offset (w->in_isr false) and catches up with the
 * log's ends, which may answer it at once. p->mu held. */
static tern_err_t part_add_wait(broker_t *b, bk_part_t *p, const bk_wait_t *w)
{
	if (p->nwaits == p->wcap) {
		size_t cap = p->wcap ? p->wcap * 2 : 8;
		bk_wait_t *v = realloc(p->waits, cap * sizeof *v);

		if (!v)
			return TERN_ERR__NOMEM;
		p->waits = v;
		p->wcap = cap;
	}
	p->waits[p->nwaits++] = *w;
	/* The append may have completed already: catch up with the log. */
	sync_log_ends(b, p, proto_now_ms());
	return TERN_OK;
}

/* bk_part_append() with p->append_mu held, which keeps the offsets in the
 * order of the checks. */
static tern_err_t append_locked(broker_t *b, bk_part_t *p, const uint8_t *buf, size_t len,
				int16_t acks, int64_t deadline_ms, const log_batch_hdr_t *idem,
				bk_wait_cb *done, void *arg, log_append_info_t *info,
				int64_t *dup_base)
{
	bk_idem_verdict_t verdict = BK_IDEM_APPEND;
	bk_idem_batch_t dup;
	uint64_t fails;
	int32_t epoch;
	tern_err_t err;

	*dup_base = -1;
	pthread_mutex_lock(&p->mu);
	fails = p->append_fails;
	err = isr_produce_check(&p->isr, acks);
	if (!err && idem)
		verdict = bk_idem_check(&p->idem, idem, &dup, &err);
	epoch = p->isr.leader_epoch;
	if (!err && verdict == BK_IDEM_DUPLICATE && acks != 0) {
		/* A repeat of a batch this log holds waits for what the
		 * original's acks would have waited for (Kafka's delayed
		 * produce does the same): the original may not be replicated
		 * yet. Without this a leader paused with the first attempt
		 * unread in its socket appended it on waking, then answered the
		 * producer's retry at once: acks=all acknowledged what no
		 * follower had, and the next leader never held it. */
		bk_wait_t w = {
		    .token = atomic_fetch_add(&b->token_seq, 1),
		    .base_offset = dup.base_offset,
		    .end_offset = dup.last_offset + 1,
		    .deadline_ms = deadline_ms,
		    .acks = acks,
		    .done = done,
		    .arg = arg,
		};

		err = part_add_wait(b, p, &w);
		pthread_mutex_unlock(&p->mu);
		return err;
	}
	pthread_mutex_unlock(&p->mu);
	if (!err && verdict == BK_IDEM_DUPLICATE)
		*dup_base = dup.base_offset;
	if (err || verdict != BK_IDEM_APPEND)
		return err;
	err =
	    log_append(p->log, buf, len, epoch, LOG_APPEND_ASSIGN_OFFSETS, info, bk_append_done, p);
	if (err)
		return err;
	pthread_mutex_lock(&p->mu);
	if (p->append_fails != fails) {
		/* An append failed since this one was checked, perhaps this
		 * one (rolled back with everything queued after the failure)
		 * before it had a wait for bk_append_done to fail: nothing is
		 * recorded or waited for, and the producer retries. Its records
		 * may have been written after all: a retry then writes them
		 * twice, which is no loss. */
		if (acks != 0)
			done(arg, TERN_ERR_KAFKA_STORAGE_ERROR, info->base_offset);
		pthread_mutex_unlock(&p->mu);
		return TERN_OK;
	}
	if (idem && bk_idem_record(&p->idem, idem, info->base_offset) != TERN_OK)
		bk_log('W', "idem", "%s-%d: producer %lld not recorded (out of memory)",
		       p->topic->name, p->index, (long long)idem->producer_id);
	if (acks != 0) {
		bk_wait_t w = {
		    .token = atomic_fetch_add(&b->token_seq, 1),
		    .base_offset = info->base_offset,
		    .end_offset = info->last_offset + 1,
		    .deadline_ms = deadline_ms,
		    .acks = acks,
		    .done = done,
		    .arg = arg,
		};

		/* The records are in the log: a wait that cannot be kept is
		 * answered, since the caller must not answer twice. */
		if (part_add_wait(b, p, &w) != TERN_OK)
			done(arg, TERN_ERR__NOMEM, info->base_offset);
	}
	pthread_mutex_unlock(&p->mu);
	return TERN_OK;
}

tern_err_t bk_part_append(broker_t *b, bk_part_t *p, const uint8_t *buf, size_t len, int16_t acks,
			  int64_t deadline_ms, const log_batch_hdr_t *idem, bk_wait_cb *done,
			  void *arg, log_append_info_t *info, int64_t *dup_base)
{
	tern_err_t err;

	pthread_mutex_lock(&p->append_mu);
	err = append_locked(b, p, buf, len, acks, deadline_ms, idem, done, arg, info, dup_base);
	pthread_mutex_unlock(&p->append_mu);
	return err;
}

tern_err_t bk_part_append_locked(broker_t *b, bk_part_t *p, const uint8_t *buf, size_t len,
				 int16_t acks, int64_t deadline_ms, bk_wait_cb *done, void *arg,
				 log_append_info_t *info)
{
	int64_t dup_base;

	return append_locked(b, p, buf, len, acks, deadline_ms, NULL, done, arg, info, &dup_base);
}

void bk_append_done(void *opaque, tern_err_t err, int64_t base_offset, int64_t last_offset)
{
	bk_part_t *p = opaque;
	bool full = false, room = false;

	pthread_mutex_lock(&p->mu);
	if (err) {
		/* The log failed: this append and every later one fail the same
		 * way, so none of the waiting requests can succeed here. */
		bk_log('E', "append",
		       "%s-%d: append of offsets %" PRId64 "..%" PRId64 " failed: %s",
		       p->topic->name, p->index, base_offset, last_offset, tern_strerror(err));
		bk_part_fail_waits(p, TERN_ERR_KAFKA_STORAGE_ERROR);
		/* What the failure rolled back must not answer a retry. */
		p->append_fails++;
		bk_idem_forget_from(&p->idem, base_offset);
		/* A leader that cannot write gives up leadership rather than
		 * fail every produce until the disk has room (Kafka takes the
		 * log directory offline; here it comes back by catching up). */
		if ((err == tern_err_errno(ENOSPC) || err == tern_err_errno(EDQUOT)) &&
		    p->isr.role == ISR_ROLE_LEADER && !p->full_reported && !p->corrupt_reported)
			full = p->full_reported = true;
	} else {
		if (p->full_reported && p->isr.role == ISR_ROLE_LEADER) {
			p->full_reported = false;
			room = true;
		}
		sync_log_ends(p->broker, p, proto_now_ms());
		/* Followers' long polls wait for the LEO, not only the HWM. */
		if (p->isr.nreplicas > 1)
			bk_kick(p->broker);
	}
	pthread_mutex_unlock(&p->mu);
	if (full || room)
		bk_cluster_health_full(p->broker, p, full);
	/* An I/O error (not a full disk) fails the log for good: leadership
	 * and the ISR must move on without this replica. */
	if (err && log_is_failed(p->log))
		bk_part_storage_failed(p->broker, p);
}

/* A replica reported corrupt that no longer leads cuts its log at the
 * first bad batch (log_repair), reports itself healthy, and reconciles
 * with its leader before it fetches what it cut. */
static void part_repair(broker_t *b, bk_part_t *p)
{
	int64_t end = -1;
	tern_err_t err;
	isr_decisions_t d;

	pthread_mutex_lock(&p->append_mu);
	err = log_repair(p->log, &end);
	pthread_mutex_unlock(&p->append_mu);
	if (err) {
		/* Not corrupt data but a failing disk: no use trying again. */
		pthread_mutex_lock(&p->mu);
		p->offline = true;
		pthread_mutex_unlock(&p->mu);
		bk_log('E', "health",
		       "%s-%d: the log cannot be repaired: %s (%s): this replica is offline until "
		       "the broker restarts",
		       p->topic->name, p->index, tern_strerror(err), log_failure(p->log));
		return;
	}
	bk_log('I', "truncate", "%s-%d: corrupt tail cut: the log now ends at %" PRId64,
	       p->topic->name, p->index, end);
	pthread_mutex_lock(&p->mu);
	bk_idem_forget_from(&p->idem, end);
	p->corrupt_reported = false;
	p->reconcile = true;
	if (p->isr.role == ISR_ROLE_FOLLOWER &&
	    isr_follower_progress(&p->isr, log_end_offset(p->log), log_durable_end_offset(p->log),
				  ISR_UNKNOWN_OFFSET, &d) == TERN_OK)
		bk_part_apply(b, p, &d);
	pthread_mutex_unlock(&p->mu);
	bk_cluster_health(b, p, false);
	bk_replica_kick(b);
}

void bk_part_tick(broker_t *b, bk_part_t *p, int64_t now)
{
	isr_decisions_t d;
	bool repair, unfull;

	pthread_mutex_lock(&p->mu);
	repair = p->corrupt_reported && !p->offline && p->isr.role != ISR_ROLE_LEADER;
	unfull = p->full_reported && p->isr.role != ISR_ROLE_LEADER;
	if (unfull)
		p->full_reported = false;
	/* Found corrupt meanwhile: its repair says when it is healthy. */
	unfull = unfull && !p->corrupt_reported;
	pthread_mutex_unlock(&p->mu);
	if (unfull)
		bk_cluster_health_full(b, p, false);
	if (repair)
		part_repair(b, p);
	pthread_mutex_lock(&p->mu);
	if (isr_tick(&p->isr, now, &d) == TERN_OK)
		bk_part_apply(b, p, &d);
	for (size_t i = 0; i < p->nwaits;) {
		bk_wait_t *w = &p->waits[i];

		if (!w->in_isr && w->deadline_ms <= now) {
			wait_answer(p, i, TERN_ERR_REQUEST_TIMED_OUT);
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&p->mu);
}

/* ------------------------------------------------------------------------ */
/* Partitions                                                                 */

static void part_free(bk_part_t *p)
{
	if (!p)
		return;
	isr_partition_fini(&p->isr);
	bk_idem_free(&p->idem);
	free(p->waits);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->append_mu);
	free(p);
}

/* Opens this broker's replica of partition i of t: its log, its state
 * machine (no role until the image gives one) and its producer state. */
static tern_err_t part_open(broker_t *b, bk_topic_t *t, int32_t i, char *why, size_t whylen)
{
	int32_t self = b->cfg->broker_id;
	isr_config_t icfg;
	log_config_t lc;
	char name[300];
	bk_part_t *p;
	tern_err_t err;

	if (whylen)
		why[0] = '\0';
	p = calloc(1, sizeof *p);
	if (!p)
		return TERN_ERR__NOMEM;
	p->broker = b;
	p->topic = t;
	p->index = i;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->append_mu, NULL);
	snprintf(name, sizeof name, "%s-%d", t->name, i);
	broker_topic_log_config(&t->cfg, &lc);
	err = log_open(b->dir, name, &lc, &p->log, why, whylen);
	if (err)
		goto fail;
	bk_isr_config(b, &t->cfg, &icfg);
	err = isr_partition_init(&p->isr, self, &icfg, log_end_offset(p->log),
				 log_durable_end_offset(p->log), log_hwm(p->log));
	if (err) {
		snprintf(why, whylen, "%s: replication state: %s", name, tern_strerror(err));
		goto fail_log;
	}
	err = bk_idem_rebuild(&p->idem, p->log, name, NULL, why, whylen);
	if (err) {
		if (!why[0])
			snprintf(why, whylen, "%s: %s", name, tern_strerror(err));
		goto fail_isr;
	}
	/* Producer state is snapshotted at every segment roll. */
	log_set_roll_cb(p->log, bk_idem_roll, p);
	t->parts[i] = p;
	return TERN_OK;
fail_isr:
	isr_partition_fini(&p->isr);
fail_log:
	log_close(p->log);
fail:
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->append_mu);
	bk_idem_free(&p->idem);
	free(p);
	return err;
}

/* Closes (or deletes) a partition's log after answering its waits. The
 * log's close waits for its pending appends, whose callbacks answer the
 * produce requests they complete. */
static tern_err_t part_close(bk_part_t *p, bool delete)
{
	tern_err_t err;

	if (delete) {
		pthread_mutex_lock(&p->mu);
		bk_part_fail_waits(p, TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		pthread_mutex_unlock(&p->mu);
	}
	err = delete ? log_delete(p->log) : log_close(p->log);
	pthread_mutex_lock(&p->mu);
	/* Whatever is still waiting cannot be acknowledged by this broker. */
	bk_part_fail_waits(p, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	pthread_mutex_unlock(&p->mu);
	part_free(p);
	return err;
}

/* What the image says of replica id's broker. */
static void peer_health(const broker_t *b, const bk_pstate_t *ps, int32_t id, isr_health_t *h)
{
	memset(h, 0, sizeof *h);
	h->broker_epoch = ISR_NO_BROKER_EPOCH;
	for (size_t i = 0; i < b->npeers; i++) {
		if (b->peers[i].id == id) {
			h->alive = b->peers[i].alive;
			h->shutting_down = b->peers[i].shutting_down;
			h->broker_epoch = b->peers[i].epoch;
		}
	}
	for (int32_t i = 0; i < ps->ncorrupt; i++)
		if (ps->corrupt[i] == id)
			h->corrupt = true;
}

/* Gives p its state from the image: leader or follower at the image's
 * epochs, and the health of every replica. A state older than what p
 * knows (FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION) changes nothing.
 * topics_lock held for writing. */
static void part_apply_state(broker_t *b, bk_part_t *p, const bk_pstate_t *ps)
{
	int32_t self = b->cfg->broker_id;
	int64_t now = proto_now_ms();
	bool was_leader;
	isr_decisions_t d;
	tern_err_t err;

	pthread_mutex_lock(&p->mu);
	was_leader = p->isr.role == ISR_ROLE_LEADER;
	if (ps->st.leader == self)
		err = isr_become_leader(&p->isr, &ps->st, log_end_offset(p->log),
					log_durable_end_offset(p->log), now, &d);
	else
		err = isr_become_follower(&p->isr, &ps->st, log_end_offset(p->log),
					  log_durable_end_offset(p->log), &d);
	if (!err) {
		bk_part_apply(b, p, &d);
		if (ps->st.leader == self && !was_leader && p->isr.leader_epoch > 0)
			bk_log('I', "leader", "%s-%d: leader at epoch %d", p->topic->name, p->index,
			       p->isr.leader_epoch);
	} else if (err != TERN_ERR_FENCED_LEADER_EPOCH && err != TERN_ERR_INVALID_UPDATE_VERSION) {
		bk_log('W', "state", "%s-%d: state of leader epoch %d not applied: %s",
		       p->topic->name, p->index, ps->st.leader_epoch, tern_strerror(err));
	}
	for (int32_t i = 0; i < p->isr.nreplicas; i++) {
		isr_health_t h;

		peer_health(b, ps, p->isr.replicas[i], &h);
		if (isr_set_health(&p->isr, p->isr.replicas[i], &h, now, &d) == TERN_OK)
			bk_part_apply(b, p, &d);
	}
	pthread_mutex_unlock(&p->mu);
	if (was_leader != (p->isr.role == ISR_ROLE_LEADER))
		bk_offsets_leadership(b, p, !was_leader);
	/* A new leader's producer state comes from its log (the appends it
	 * took as a follower were not checked). */
	if (ps->st.leader == self && !was_leader && p->isr.role == ISR_ROLE_LEADER) {
		char why[256], name[300];

		snprintf(name, sizeof name, "%s-%d", p->topic->name, p->index);
		pthread_mutex_lock(&p->append_mu);
		pthread_mutex_lock(&p->mu);
		if (bk_idem_rebuild(&p->idem, p->log, name, NULL, why, sizeof why) != TERN_OK)
			bk_log('E', "idem", "%s-%d: producer state not rebuilt: %s", p->topic->name,
			       p->index, why);
		pthread_mutex_unlock(&p->mu);
		pthread_mutex_unlock(&p->append_mu);
	}
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

void bk_overrides_free(tern_conf_kv_t *ov, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)ov[i].key);
		free((char *)ov[i].value);
	}
	free(ov);
}

static void topic_free(bk_topic_t *t)
{
	if (!t)
		return;
	free(t->name);
	bk_overrides_free(t->overrides, t->noverrides);
	free(t->state);
	free(t->parts);
	free(t);
}

static bk_topic_t *topic_new(proto_str_t name, int32_t npart, bool internal)
{
	bk_topic_t *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->name = strndup(name.s, (size_t)name.len);
	t->npart = npart;
	t->internal = internal;
	t->state = calloc((size_t)npart, sizeof *t->state);
	t->parts = calloc((size_t)npart, sizeof *t->parts);
	if (!t->name || !t->state || !t->parts) {
		topic_free(t);
		return NULL;
	}
	return t;
}

static tern_err_t topics_add(broker_t *b, bk_topic_t *t)
{
	if (b->ntopics == b->tcap) {
		size_t cap = b->tcap ? b->tcap * 2 : 16;
		bk_topic_t **v = realloc(b->topics, cap * sizeof *v);

		if (!v)
			return TERN_ERR__NOMEM;
		b->topics = v;
		b->tcap = cap;
	}
	b->topics[b->ntopics++] = t;
	return TERN_OK;
}

static void topics_remove(broker_t *b, bk_topic_t *t)
{
	for (size_t i = 0; i < b->ntopics; i++) {
		if (b->topics[i] == t) {
			memmove(&b->topics[i], &b->topics[i + 1],
				(b->ntopics - i - 1) * sizeof b->topics[0]);
			b->ntopics--;
			return;
		}
	}
}

/* The image's configs as owned pairs. */
static tern_err_t overrides_from(const proto_broker_heartbeat_topic_t *it, tern_conf_kv_t **out)
{
	size_t n = it->configs_count > 0 ? (size_t)it->configs_count : 0;
	tern_conf_kv_t *ov = calloc(n ? n : 1, sizeof *ov);

	if (!ov)
		return TERN_ERR__NOMEM;
	for (size_t i = 0; i < n; i++) {
		const proto_config_kv_t *c = &it->configs[i];

		ov[i].key = c->name.len >= 0 ? strndup(c->name.s, (size_t)c->name.len) : NULL;
		ov[i].value =
		    c->value.len >= 0 ? strndup(c->value.s, (size_t)c->value.len) : strdup("");
		if (!ov[i].key || !ov[i].value) {
			bk_overrides_free(ov, n);
			return TERN_ERR__NOMEM;
		}
	}
	*out = ov;
	return TERN_OK;
}

static bool overrides_equal(const bk_topic_t *t, const tern_conf_kv_t *ov, size_t n)
{
	if (t->noverrides != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t->overrides[i].key, ov[i].key) != 0 ||
		    strcmp(t->overrides[i].value, ov[i].value) != 0)
			return false;
	return true;
}

/* Gives t the overrides ov (taken) and applies them to its open logs and
 * state machines. */
static void topic_set_overrides(broker_t *b, bk_topic_t *t, tern_conf_kv_t *ov, size_t n)
{
	broker_topic_config_t cfg;
	isr_config_t icfg;
	log_config_t lc;
	char why[256];

	if (broker_topic_resolve(b->cfg, ov, n, &cfg, why, sizeof why) != TERN_OK) {
		/* The controller checked them against its settings; ours may
		 * differ. Keep the defaults rather than refuse the topic. */
		bk_log('W', "config", "topic %s: %s; using the broker defaults", t->name, why);
		broker_topic_resolve(b->cfg, NULL, 0, &cfg, why, sizeof why);
	}
	bk_overrides_free(t->overrides, t->noverrides);
	t->overrides = ov;
	t->noverrides = n;
	t->cfg = cfg;
	broker_topic_log_config(&cfg, &lc);
	bk_isr_config(b, &cfg, &icfg);
	for (int32_t i = 0; i < t->npart; i++) {
		bk_part_t *p = t->parts[i];
		isr_decisions_t d;

		if (!p)
			continue;
		log_set_config(p->log, &lc);
		pthread_mutex_lock(&p->mu);
		if (isr_set_config(&p->isr, &icfg, proto_now_ms(), &d) == TERN_OK)
			bk_part_apply(b, p, &d);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Deletes a topic here: its replicas' logs, then the topic. */
static void topic_delete(broker_t *b, bk_topic_t *t)
{
	for (int32_t i = 0; i < t->npart; i++) {
		tern_err_t err;

		if (!t->parts[i])
			continue;
		err = part_close(t->parts[i], true);
		t->parts[i] = NULL;
		if (err)
			bk_log('E', "topic", "%s-%d: deleting the log: %s", t->name, i,
			       tern_strerror(err));
	}
	topics_remove(b, t);
	bk_log('I', "topic", "deleted topic %s", t->name);
	topic_free(t);
}

static bool ids_contain(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void pstate_from(const proto_broker_heartbeat_partition_t *ip, bk_pstate_t *ps)
{
	memset(ps, 0, sizeof *ps);
	ps->st.leader = ip->leader_id;
	ps->st.leader_epoch = ip->leader_epoch;
	ps->st.partition_epoch = ip->partition_epoch;
	for (int32_t k = 0; k < ip->replicas_count && k < ISR_MAX_REPLICAS; k++)
		ps->st.replicas[ps->st.nreplicas++] = ip->replicas[k];
	for (int32_t k = 0; k < ip->isr_count && k < ISR_MAX_REPLICAS; k++)
		ps->st.isr.id[ps->st.isr.n++] = ip->isr[k];
	for (int32_t k = 0; k < ip->corrupt_replicas_count && k < ISR_MAX_REPLICAS; k++)
		ps->corrupt[ps->ncorrupt++] = ip->corrupt_replicas[k];
	ps->st.recovering = ip->recovering;
}

/* One topic of the image. */
static void image_topic(broker_t *b, const proto_broker_heartbeat_topic_t *it)
{
	int32_t self = b->cfg->broker_id;
	bk_topic_t *t = bk_topic_find(b, it->name.s, (size_t)it->name.len);
	tern_conf_kv_t *ov;
	size_t nov = it->configs_count > 0 ? (size_t)it->configs_count : 0;

	if (t && t->npart != it->partitions_count) {
		/* Not a change Tern makes: a topic deleted and created again
		 * between two images. */
		topic_delete(b, t);
		t = NULL;
	}
	if (!t) {
		t = topic_new(it->name, it->partitions_count, it->internal);
		if (!t || topics_add(b, t) != TERN_OK) {
			topic_free(t);
			bk_log('E', "topic", "topic %.*s not opened (out of memory)",
			       (int)it->name.len, it->name.s);
			return;
		}
		t->rf = it->partitions_count > 0 ? (int16_t)it->partitions[0].replicas_count : 1;
		bk_log('I', "topic", "topic %s: %d partitions", t->name, t->npart);
		/* A fresh topic gets its settings before any log opens. */
		t->noverrides = 0;
		if (overrides_from(it, &ov) == TERN_OK)
			topic_set_overrides(b, t, ov, nov);
	} else if (overrides_from(it, &ov) == TERN_OK) {
		if (overrides_equal(t, ov, nov))
			bk_overrides_free(ov, nov);
		else
			topic_set_overrides(b, t, ov, nov);
	}
	for (int32_t j = 0; j < it->partitions_count; j++) {
		const proto_broker_heartbeat_partition_t *ip = &it->partitions[j];
		bool mine = ids_contain(ip->replicas, ip->replicas_count, self);
		char why[512];

		if (ip->partition_index != j)
			continue;
		pstate_from(ip, &t->state[j]);
		if (mine && !t->parts[j] && part_open(b, t, j, why, sizeof why) != TERN_OK)
			bk_log('E', "replica", "%s-%d: replica not opened: %s", t->name, j, why);
		if (!mine && t->parts[j]) {
			part_close(t->parts[j], true);
			t->parts[j] = NULL;
			bk_log('I', "replica", "%s-%d: replica moved away; log deleted", t->name,
			       j);
		}
		if (t->parts[j])
			part_apply_state(b, t->parts[j], &t->state[j]);
	}
}

void bk_image_apply(broker_t *b, const proto_broker_heartbeat_resp_t *m)
{
	bk_peer_t *peers;

	peers = calloc(m->brokers_count > 0 ? (size_t)m->brokers_count : 1, sizeof *peers);
	if (!peers) {
		bk_log('E', "image", "cluster image not applied (out of memory)");
		return;
	}
	for (int32_t i = 0; i < m->brokers_count; i++) {
		const proto_broker_heartbeat_broker_t *ib = &m->brokers[i];

		peers[i].id = ib->broker_id;
		proto_str_copy(ib->host, peers[i].host, sizeof peers[i].host);
		peers[i].port = ib->port;
		peers[i].epoch = ib->broker_epoch;
		peers[i].alive = ib->alive;
		peers[i].shutting_down = ib->shutting_down;
	}
	pthread_rwlock_wrlock(&b->topics_lock);
	free(b->peers);
	b->peers = peers;
	b->npeers = (size_t)(m->brokers_count > 0 ? m->brokers_count : 0);
	b->controller_id = m->controller_id;
	/* Topics gone from the image go first: a name deleted and created
	 * again must not pick up the old logs. */
	for (size_t i = 0; i < b->ntopics;) {
		bk_topic_t *t = b->topics[i];
		bool listed = false;

		for (int32_t k = 0; k < m->topics_count && !listed; k++)
			listed = proto_str_eq(m->topics[k].name, t->name);
		if (listed)
			i++;
		else
			topic_delete(b, t);
	}
	for (int32_t k = 0; k < m->topics_count; k++)
		if (m->topics[k].name.len > 0 && m->topics[k].partitions_count > 0)
			image_topic(b, &m->topics[k]);
	bk_replica_update(b);
	pthread_rwlock_unlock(&b->topics_lock);
	bk_kick(b);
}

tern_err_t bk_topics_close(broker_t *b)
{
	tern_err_t err = TERN_OK, e;

	for (size_t i = 0; i < b->ntopics; i++) {
		bk_topic_t *t = b->topics[i];

		for (int32_t j = 0; j < t->npart; j++) {
			if (!t->parts[j])
				continue;
			e = part_close(t->parts[j], false);
			if (e && !err)
				err = e;
		}
		topic_free(t);
	}
	free(b->topics);
	b->topics = NULL;
	b->ntopics = b->tcap = 0;
	return err;
}
