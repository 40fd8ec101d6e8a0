/* broker/partition.c: topics and the partitions this broker leads: their
 * logs, their isr/ state machines (one replica for now), the produce
 * requests waiting on them, and the embedded metadata file that lists them. */
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

bool broker_topic_name_valid(const char *name, size_t len, char *why, size_t whylen)
{
	if (len == 0) {
		snprintf(why, whylen, "the topic name is empty");
		return false;
	}
	if (len > 249) {
		snprintf(why, whylen,
			 "the topic name is %zu characters long; at most 249 are allowed", len);
		return false;
	}
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
		snprintf(why, whylen, "'.' and '..' are not topic names");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			snprintf(why, whylen,
				 "the topic name holds a character other than ASCII letters, "
				 "digits, '.', '_' and '-' (byte 0x%02x at %zu)",
				 (unsigned char)c, i);
			return false;
		}
	}
	return true;
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
	int32_t epoch;
	tern_err_t err;

	*dup_base = -1;
	pthread_mutex_lock(&p->mu);
	err = isr_produce_check(&p->isr, acks);
	if (!err && idem)
		verdict = bk_idem_check(&p->idem, idem, &dup, &err);
	epoch = p->isr.leader_epoch;
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

	pthread_mutex_lock(&p->mu);
	if (err) {
		/* The log failed: this append and every later one fail the same
		 * way, so none of the waiting requests can succeed here. */
		bk_log('E', "append",
		       "%s-%d: append of offsets %" PRId64 "..%" PRId64 " failed: %s",
		       p->topic->name, p->index, base_offset, last_offset, tern_strerror(err));
		bk_part_fail_waits(p, TERN_ERR_KAFKA_STORAGE_ERROR);
	} else {
		sync_log_ends(p->broker, p, proto_now_ms());
	}
	pthread_mutex_unlock(&p->mu);
}

void bk_part_tick(broker_t *b, bk_part_t *p, int64_t now)
{
	isr_decisions_t d;

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

/* Opens partition i of t and makes this broker its leader at t->epochs[i]. */
static tern_err_t part_open(broker_t *b, bk_topic_t *t, int32_t i, char *why, size_t whylen)
{
	int32_t self = b->cfg->broker_id;
	isr_leader_and_isr_t st = {0};
	isr_health_t health = {.alive = true, .broker_epoch = 1};
	isr_decisions_t d;
	isr_config_t icfg;
	log_config_t lc;
	int64_t now = proto_now_ms();
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
	st.leader = self;
	st.leader_epoch = t->epochs[i];
	st.partition_epoch = 0;
	st.nreplicas = 1;
	st.replicas[0] = self;
	st.isr.n = 1;
	st.isr.id[0] = self;
	err = isr_become_leader(&p->isr, &st, log_end_offset(p->log),
				log_durable_end_offset(p->log), now, &d);
	if (!err) {
		bk_part_apply(b, p, &d);
		err = isr_set_health(&p->isr, self, &health, now, &d);
	}
	if (!err) {
		bk_part_apply(b, p, &d);
		err = bk_idem_rebuild(&p->idem, p->log, name, NULL, why, whylen);
	}
	if (!err)
		log_set_roll_cb(p->log, bk_idem_roll, p);
	if (err) {
		if (!why[0])
			snprintf(why, whylen, "%s: %s", name, tern_strerror(err));
		goto fail_isr;
	}
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
	free(t->epochs);
	free(t->parts);
	free(t);
}

static bk_topic_t *topic_new(const char *name, int32_t npart, int16_t rf, bool internal)
{
	bk_topic_t *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->name = strdup(name);
	t->npart = npart;
	t->rf = rf;
	t->internal = internal;
	t->epochs = calloc((size_t)npart, sizeof *t->epochs);
	t->parts = calloc((size_t)npart, sizeof *t->parts);
	if (!t->name || !t->epochs || !t->parts) {
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

/* Opens every partition of t; on failure closes those opened. */
static tern_err_t topic_open_parts(broker_t *b, bk_topic_t *t, bool delete_on_fail, char *why,
				   size_t whylen)
{
	tern_err_t err = TERN_OK;
	int32_t i;

	for (i = 0; i < t->npart && !err; i++)
		err = part_open(b, t, i, why, whylen);
	if (err) {
		for (int32_t j = 0; j < t->npart; j++) {
			if (t->parts[j])
				part_close(t->parts[j], delete_on_fail);
			t->parts[j] = NULL;
		}
	}
	return err;
}

static tern_err_t overrides_copy(const tern_conf_kv_t *in, size_t n, tern_conf_kv_t **out)
{
	tern_conf_kv_t *ov = calloc(n ? n : 1, sizeof *ov);

	if (!ov)
		return TERN_ERR__NOMEM;
	for (size_t i = 0; i < n; i++) {
		ov[i].key = strdup(in[i].key);
		ov[i].value = strdup(in[i].value);
		if (!ov[i].key || !ov[i].value) {
			bk_overrides_free(ov, n);
			return TERN_ERR__NOMEM;
		}
	}
	*out = ov;
	return TERN_OK;
}

tern_err_t bk_topic_create(broker_t *b, const char *name, int32_t npart, int16_t rf,
			   const tern_conf_kv_t *overrides, size_t noverrides, bool internal,
			   char *why, size_t whylen)
{
	bk_topic_t *t = topic_new(name, npart, rf, internal);
	tern_err_t err;

	if (!t)
		return TERN_ERR__NOMEM;
	err = broker_topic_resolve(b->cfg, overrides, noverrides, &t->cfg, why, whylen);
	if (!err)
		err = overrides_copy(overrides, noverrides, &t->overrides);
	if (err) {
		topic_free(t);
		return err;
	}
	t->noverrides = noverrides;
	err = topic_open_parts(b, t, true, why, whylen);
	if (err) {
		topic_free(t);
		return err;
	}
	err = topics_add(b, t);
	if (!err)
		err = bk_meta_save(b);
	if (err) {
		snprintf(why, whylen, "could not record topic %s: %s", name, tern_strerror(err));
		topics_remove(b, t);
		for (int32_t i = 0; i < t->npart; i++)
			part_close(t->parts[i], true);
		topic_free(t);
		return err;
	}
	bk_log('I', "topic", "created topic %s with %d partitions", name, npart);
	return TERN_OK;
}

tern_err_t bk_topic_delete(broker_t *b, bk_topic_t *t)
{
	tern_err_t err = TERN_OK, e;

	/* Logs first, then the metadata: a crash between the two leaves the
	 * topic listed with empty partitions, never a listed-as-gone topic whose
	 * old files a new topic of the same name would pick up. */
	for (int32_t i = 0; i < t->npart; i++) {
		e = part_close(t->parts[i], true);
		if (e && !err)
			err = e;
	}
	topics_remove(b, t);
	e = bk_meta_save(b);
	if (e && !err)
		err = e;
	bk_log('I', "topic", "deleted topic %s", t->name);
	topic_free(t);
	return err;
}

tern_err_t bk_topic_set_overrides(broker_t *b, bk_topic_t *t, tern_conf_kv_t *ov, size_t n,
				  char *why, size_t whylen)
{
	broker_topic_config_t cfg;
	isr_config_t icfg;
	log_config_t lc;
	tern_err_t err;

	err = broker_topic_resolve(b->cfg, ov, n, &cfg, why, whylen);
	if (err)
		return err;
	bk_overrides_free(t->overrides, t->noverrides);
	t->overrides = ov;
	t->noverrides = n;
	t->cfg = cfg;
	broker_topic_log_config(&cfg, &lc);
	bk_isr_config(b, &cfg, &icfg);
	for (int32_t i = 0; i < t->npart; i++) {
		bk_part_t *p = t->parts[i];
		isr_decisions_t d;

		log_set_config(p->log, &lc);
		pthread_mutex_lock(&p->mu);
		if (isr_set_config(&p->isr, &icfg, proto_now_ms(), &d) == TERN_OK)
			bk_part_apply(b, p, &d);
		pthread_mutex_unlock(&p->mu);
	}
	return bk_meta_save(b);
}

/* ------------------------------------------------------------------------ */
/* The metadata file                                                          */

/* Format, one record a line:
 *   tern-metadata 1
 *   cluster-id ID
 *   producer-id-limit N
 *   topic NAME PARTITIONS RF INTERNAL
 *   config KEY=VALUE           (the topic's overrides, in order)
 *   epochs E0 E1 ...           (each partition's leader epoch)
 * Topic names and config keys hold no blanks (both are checked), and values
 * no newline. */
tern_err_t bk_meta_save(broker_t *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	tern_err_t err;

	if (!f)
		return TERN_ERR__NOMEM;
	fprintf(f, "tern-metadata 1\ncluster-id %s\nproducer-id-limit %" PRId64 "\n", b->cluster_id,
		b->pid_limit);
	for (size_t i = 0; i < b->ntopics; i++) {
		bk_topic_t *t = b->topics[i];

		fprintf(f, "topic %s %d %d %d\n", t->name, t->npart, t->rf, t->internal ? 1 : 0);
		for (size_t j = 0; j < t->noverrides; j++)
			fprintf(f, "config %s=%s\n", t->overrides[j].key, t->overrides[j].value);
		fprintf(f, "epochs");
		for (int32_t j = 0; j < t->npart; j++)
			fprintf(f, " %d", t->epochs[j]);
		fprintf(f, "\n");
	}
	if (fclose(f) != 0) {
		free(text);
		return TERN_ERR__NOMEM;
	}
	err = log_durable_replace(b->meta_path, text, len);
	free(text);
	return err;
}

static tern_err_t meta_bad(const char *path, int line, const char *what, char *errstr,
			   size_t errlen)
{
	snprintf(errstr, errlen, "%s:%d: %s", path, line, what);
	return TERN_ERR__CORRUPT;
}

/* Parses the metadata file into b (topics without open partitions). A
 * missing file is a new broker. */
static tern_err_t meta_parse(broker_t *b, char *errstr, size_t errlen)
{
	FILE *f = fopen(b->meta_path, "r");
	bk_topic_t *t = NULL;
	char *line = NULL, *s;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	tern_err_t err = TERN_OK;

	if (!f) {
		if (errno == ENOENT)
			return TERN_OK;
		snprintf(errstr, errlen, "%s: %s", b->meta_path, strerror(errno));
		return tern_err_errno(errno);
	}
	while ((n = getline(&line, &cap, f)) >= 0 && !err) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "tern-metadata 1") != 0)
				err = meta_bad(b->meta_path, lineno, "not a Tern metadata file",
					       errstr, errlen);
		} else if (strncmp(line, "cluster-id ", 11) == 0) {
			snprintf(b->cluster_id, sizeof b->cluster_id, "%s", line + 11);
		} else if (sscanf(line, "producer-id-limit %" SCNd64, &b->pid_limit) == 1) {
			b->next_pid = b->pid_limit;
		} else if (strncmp(line, "topic ", 6) == 0) {
			char name[256];
			int npart, rf, internal;

			if (sscanf(line, "topic %255s %d %d %d", name, &npart, &rf, &internal) !=
				4 ||
			    npart < 1 || rf < 1 || rf > INT16_MAX) {
				err = meta_bad(b->meta_path, lineno, "malformed topic", errstr,
					       errlen);
				break;
			}
			t = topic_new(name, npart, (int16_t)rf, internal != 0);
			err = t ? topics_add(b, t) : TERN_ERR__NOMEM;
			if (err) {
				topic_free(t);
				t = NULL;
			}
		} else if (strncmp(line, "config ", 7) == 0 && t && (s = strchr(line + 7, '='))) {
			tern_conf_kv_t *v = realloc(t->overrides, (t->noverrides + 1) * sizeof *v);

			if (!v) {
				err = TERN_ERR__NOMEM;
				break;
			}
			t->overrides = v;
			*s = '\0';
			v[t->noverrides].key = strdup(line + 7);
			v[t->noverrides].value = strdup(s + 1);
			t->noverrides++;
			if (!v[t->noverrides - 1].key || !v[t->noverrides - 1].value)
				err = TERN_ERR__NOMEM;
		} else if (strncmp(line, "epochs", 6) == 0 && t) {
			char *p = line + 6, *end;

			for (int32_t i = 0; i < t->npart; i++) {
				long e = strtol(p, &end, 10);

				if (end == p || e < 0 || e >= INT32_MAX) {
					err = meta_bad(b->meta_path, lineno, "malformed epochs",
						       errstr, errlen);
					break;
				}
				t->epochs[i] = (int32_t)e;
				p = end;
			}
		} else if (n > 0) {
			err = meta_bad(b->meta_path, lineno, "unknown line", errstr, errlen);
		}
	}
	free(line);
	fclose(f);
	return err;
}

tern_err_t bk_meta_load(broker_t *b, char *errstr, size_t errlen)
{
	tern_err_t err = meta_parse(b, errstr, errlen);

	for (size_t i = 0; i < b->ntopics && !err; i++) {
		bk_topic_t *t = b->topics[i];

		err = broker_topic_resolve(b->cfg, t->overrides, t->noverrides, &t->cfg, errstr,
					   errlen);
		if (err)
			break;
		/* DESIGN.md decision 10: a restarted broker never resumes
		 * leadership; every partition it leads starts a new epoch. */
		for (int32_t j = 0; j < t->npart; j++)
			t->epochs[j]++;
		err = topic_open_parts(b, t, false, errstr, errlen);
	}
	if (!err) {
		/* Ids of the block handed out before the stop are never reused. */
		b->next_pid = b->pid_limit;
		err = bk_meta_save(b);
		if (err)
			snprintf(errstr, errlen, "%s: %s", b->meta_path, tern_strerror(err));
	}
	return err;
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
