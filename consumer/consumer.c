/* consumer/consumer.c: the application side of the consumer: start and
 * close, assign and subscribe, poll from the prefetch queue, seek and
 * position, commits and committed offsets. The fetcher thread
 * (fetcher.c) does the fetching; coord.c talks to the group coordinator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/consumer_int.h"

void cons_log(const tern_consumer_t *c, int level, const char *id, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!c->conf->log_cb || level > c->cfg->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->conf->log_cb(c->conf->log_opaque, level, id, line);
}

/* ------------------------------------------------------------------------ */
/* Queue and partitions                                                       */

void cons_queue_push(tern_consumer_t *c, cons_msg_t *m)
{
	m->next = NULL;
	if (c->qtail)
		c->qtail->next = m;
	else
		c->qhead = m;
	c->qtail = m;
	c->qbytes += m->size;
	c->qcount++;
	if (m->part && m->m.err == TERN_OK)
		m->part->nqueued++;
	pthread_cond_broadcast(&c->ready);
}

void cons_queue_stats(tern_consumer_t *c, size_t *bytes, size_t *count)
{
	pthread_mutex_lock(&c->lock);
	*bytes = c->qbytes;
	*count = c->qcount;
	pthread_mutex_unlock(&c->lock);
}

cons_msg_t *cons_event_new(cons_part_t *part, tern_err_t err, int64_t offset)
{
	size_t tlen = part ? strlen(part->topic) + 1 : 0;
	cons_msg_t *m = calloc(1, sizeof(*m) + tlen);

	if (!m)
		return NULL;
	m->size = sizeof(*m) + tlen;
	m->part = part;
	m->version = part ? part->version : 0;
	m->m.err = err;
	m->m.partition = part ? part->id : -1;
	m->m.offset = offset;
	m->m.timestamp = -1;
	m->m.leader_epoch = -1;
	if (part) {
		memcpy(m + 1, part->topic, tlen);
		m->m.topic = (const char *)(m + 1);
	}
	return m;
}

void cons_part_fail(tern_consumer_t *c, cons_part_t *part, tern_err_t err, int64_t offset)
{
	cons_msg_t *m = cons_event_new(part, err, offset);

	part->state = CONS_P_PAUSED;
	cons_log(c, TERN_LOG_WARNING, "PAUSED", "%s [%d] at offset %lld: %s, waiting for a seek",
		 part->topic, part->id, (long long)offset, tern_err_name(err));
	if (m)
		cons_queue_push(c, m);
}

cons_part_t *cons_part_find(tern_consumer_t *c, const char *topic, int32_t id)
{
	cons_part_t *p;

	for (p = c->parts; p; p = p->next)
		if (p->id == id && strcmp(p->topic, topic) == 0)
			return p;
	return NULL;
}

cons_part_t *cons_part_add(tern_consumer_t *c, const char *topic, int32_t id, int64_t want)
{
	cons_part_t *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->topic = strdup(topic);
	if (!p->topic) {
		free(p);
		return NULL;
	}
	p->id = id;
	p->committed = -1;
	p->leader = -1;
	p->leader_epoch = -1;
	p->hwm = -1;
	p->eof_reported = -1;
	cons_part_move(c, p, want);
	p->next = c->parts;
	c->parts = p;
	c->metadata_wanted = true;
	pthread_cond_signal(&c->wake);
	return p;
}

/* Drops the queued records and events of part. Locks: lock held. */
static void queue_purge(tern_consumer_t *c, cons_part_t *part)
{
	cons_msg_t **pp = &c->qhead, *m;

	c->qtail = NULL;
	while ((m = *pp)) {
		if (m->part == part) {
			*pp = m->next;
			c->qbytes -= m->size;
			c->qcount--;
			free(m);
			continue;
		}
		c->qtail = m;
		pp = &m->next;
	}
	part->nqueued = 0;
}

void cons_part_move(tern_consumer_t *c, cons_part_t *part, int64_t offset)
{
	queue_purge(c, part);
	part->version++;
	part->retry_at_ms = 0;
	part->eof_reported = -1;
	if (offset >= 0) {
		part->state = CONS_P_ACTIVE;
		part->fetch_offset = part->position = offset;
	} else {
		part->state = CONS_P_LOOKUP;
		part->want = offset;
		part->position = TERN_OFFSET_INVALID;
	}
	pthread_cond_signal(&c->wake);
}

static bool offset_ok(int64_t o)
{
	return o >= 0 || o == TERN_OFFSET_BEGINNING || o == TERN_OFFSET_END ||
	       o == TERN_OFFSET_STORED;
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                             */

tern_consumer_t *tern_consumer_new(tern_conf_t *conf, char *errstr, size_t errlen)
{
	tern_consumer_t *c = NULL;
	size_t i;
	int rc;

	if (!conf) {
		snprintf(errstr, errlen, "tern_consumer_new: no conf");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->conf = conf;
	c->cfg = &conf->cons;
	c->coord_id = -1;
	/* Small records take about four times their wire size in the queue:
	 * a start that keeps the first responses inside the bound. */
	c->expand = 4.0;
	c->queue_max = (size_t)c->cfg->queued_max_kbytes * 1024;
	proto_transport_opts_default(&c->topts);
	/* A Fetch waits up to fetch.max.wait.ms at the broker: its deadline
	 * adds that to request.timeout.ms (fetcher.c), and a response may
	 * carry fetch.max.bytes plus one oversized first batch per partition. */
	c->topts.request_timeout_ms = c->cfg->request_timeout_ms;
	c->topts.connect_timeout_ms = c->cfg->connection_setup_timeout_ms;
	c->topts.reconnect_backoff_ms = c->cfg->retry_backoff_ms > 0 ? c->cfg->retry_backoff_ms : 1;
	if (c->topts.reconnect_backoff_max_ms < c->topts.reconnect_backoff_ms)
		c->topts.reconnect_backoff_max_ms = c->topts.reconnect_backoff_ms;
	c->auto_commit_next_ms = proto_now_ms() + c->cfg->auto_commit_interval_ms;
	if (pthread_mutex_init(&c->lock, NULL) || pthread_mutex_init(&c->coord_lock, NULL) ||
	    tern_cond_init_mono(&c->wake) || tern_cond_init_mono(&c->ready))
		goto nomem;
	c->bootstrap = calloc(c->cfg->bootstrap_servers.n, sizeof(*c->bootstrap));
	if (!c->bootstrap)
		goto nomem;
	for (i = 0; i < c->cfg->bootstrap_servers.n; i++)
		if (proto_pool_new(c->cfg->bootstrap_servers.v[i], 1, &c->topts, &c->bootstrap[i],
				   errstr, errlen) != TERN_OK)
			goto fail;
	rc = pthread_create(&c->thread, NULL, cons_fetcher_main, c);
	if (rc) {
		snprintf(errstr, errlen, "cannot start the fetcher thread: %s", strerror(rc));
		goto fail;
	}
	c->thread_started = true;
	return c;
nomem:
	snprintf(errstr, errlen, "out of memory");
fail:
	if (c) {
		c->conf = NULL; /* the caller keeps it */
		tern_consumer_close(c);
	}
	return NULL;
}

/* Runs the callbacks of finished asynchronous commits, with lock dropped.
 * Locks: lock held on entry and on return. */
static void run_commit_cbs(tern_consumer_t *c)
{
	while (c->results) {
		cons_commit_res_t *r = c->results;
		tern_commit_cb *cb = c->commit_cb;
		void *opaque = c->commit_opaque;

		c->results = r->next;
		if (!c->results)
			c->results_tail = NULL;
		pthread_mutex_unlock(&c->lock);
		if (cb)
			cb(opaque, r->err, r->n);
		free(r);
		pthread_mutex_lock(&c->lock);
	}
}

tern_err_t tern_consumer_close(tern_consumer_t *c)
{
	tern_err_t err = TERN_OK;
	cons_part_t *p;
	size_t i;

	if (!c)
		return TERN_OK;
	if (c->thread_started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_cond_broadcast(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
		c->thread_started = false;
		if (c->cfg->enable_auto_commit && c->cfg->group_id[0])
			err = tern_consumer_commit(c, true);
		pthread_mutex_lock(&c->lock);
		run_commit_cbs(c);
		pthread_mutex_unlock(&c->lock);
	}
	while (c->qhead) {
		cons_msg_t *m = c->qhead;

		c->qhead = m->next;
		free(m);
	}
	while ((p = c->parts)) {
		c->parts = p->next;
		free(p->topic);
		free(p);
	}
	for (i = 0; i < c->nsubs; i++)
		free(c->subs[i]);
	free(c->subs);
	cons_brokers_free(c);
	cons_coord_free(c);
	if (c->bootstrap) {
		for (i = 0; c->cfg && i < c->cfg->bootstrap_servers.n; i++)
			if (c->bootstrap[i])
				proto_pool_close(c->bootstrap[i]);
		free(c->bootstrap);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->coord_lock);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->ready);
	tern_conf_destroy(c->conf);
	free(c);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Assignment                                                                 */

tern_err_t tern_consumer_assign(tern_consumer_t *c, const char *topic, int32_t partition,
				int64_t offset)
{
	tern_err_t err = TERN_OK;
	cons_part_t *p;

	if (!c || !topic || !topic[0] || partition < 0 || !offset_ok(offset))
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&c->lock);
	if (c->nsubs) {
		err = TERN_ERR__STATE;
	} else if ((p = cons_part_find(c, topic, partition))) {
		cons_part_move(c, p, offset);
	} else if (!cons_part_add(c, topic, partition, offset)) {
		err = TERN_ERR__NOMEM;
	}
	if (!err)
		c->assigned = true;
	pthread_mutex_unlock(&c->lock);
	return err;
}

tern_err_t tern_consumer_subscribe(tern_consumer_t *c, const char *const *topics, size_t n)
{
	tern_err_t err = TERN_OK;
	char **subs;
	size_t i;

	if (!c || !topics || n == 0)
		return TERN_ERR__INVALID_ARG;
	for (i = 0; i < n; i++)
		if (!topics[i] || !topics[i][0])
			return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&c->lock);
	if (c->assigned) {
		err = TERN_ERR__STATE;
		goto out;
	}
	subs = realloc(c->subs, (c->nsubs + n) * sizeof(*subs));
	if (!subs) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	c->subs = subs;
	for (i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < c->nsubs; k++)
			if (strcmp(c->subs[k], topics[i]) == 0)
				break;
		if (k < c->nsubs)
			continue;
		c->subs[c->nsubs] = strdup(topics[i]);
		if (!c->subs[c->nsubs]) {
			err = TERN_ERR__NOMEM;
			break;
		}
		c->nsubs++;
	}
	c->metadata_wanted = true;
	pthread_cond_signal(&c->wake);
out:
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Poll                                                                       */

tern_err_t tern_consumer_poll(tern_consumer_t *c, int timeout_ms, tern_message_t **msg)
{
	int64_t deadline = timeout_ms < 0 ? -1 : proto_now_ms() + timeout_ms;
	tern_err_t err = TERN_ERR__TIMED_OUT;

	if (!c || !msg)
		return TERN_ERR__INVALID_ARG;
	*msg = NULL;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		cons_msg_t *m;

		run_commit_cbs(c);
		if (c->stopping) {
			err = TERN_ERR__CLOSED;
			break;
		}
		if ((m = c->qhead)) {
			c->qhead = m->next;
			if (!c->qhead)
				c->qtail = NULL;
			c->qbytes -= m->size;
			c->qcount--;
			m->next = NULL;
			if (m->part && m->m.err == TERN_OK) {
				m->part->nqueued--;
				m->part->position = m->m.offset + 1;
				/* A record ends the wait for more data: the
				 * fetcher may have held off for a full queue. */
				pthread_cond_signal(&c->wake);
			}
			*msg = &m->m;
			err = m->m.err;
			break;
		}
		if (deadline >= 0 && proto_now_ms() >= deadline)
			break;
		tern_cond_wait_until(&c->ready, &c->lock, deadline);
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

void tern_message_destroy(tern_message_t *msg)
{
	/* The message is the first member of its cons_msg_t block. */
	free(msg);
}

/* ------------------------------------------------------------------------ */
/* Seek, position                                                             */

tern_err_t tern_consumer_seek(tern_consumer_t *c, const char *topic, int32_t partition,
			      int64_t offset)
{
	cons_part_t *p;

	if (!c || !topic || !offset_ok(offset))
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&c->lock);
	p = cons_part_find(c, topic, partition);
	if (p)
		cons_part_move(c, p, offset);
	pthread_mutex_unlock(&c->lock);
	return p ? TERN_OK : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

tern_err_t tern_consumer_position(tern_consumer_t *c, const char *topic, int32_t partition,
				  int64_t *offset)
{
	cons_part_t *p;

	if (!c || !topic || !offset)
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&c->lock);
	p = cons_part_find(c, topic, partition);
	if (p)
		*offset = p->position;
	pthread_mutex_unlock(&c->lock);
	return p ? TERN_OK : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

/* ------------------------------------------------------------------------ */
/* Commits                                                                    */

cons_commit_item_t *cons_commit_snapshot(tern_consumer_t *c, size_t *n)
{
	cons_commit_item_t *items;
	cons_part_t *p;
	size_t k = 0, cap = 0;

	for (p = c->parts; p; p = p->next)
		cap++;
	*n = 0;
	if (!cap)
		return NULL;
	items = calloc(cap, sizeof(*items));
	if (!items)
		return NULL;
	for (p = c->parts; p; p = p->next)
		if (p->position >= 0 && p->position != p->committed)
			items[k++] = (cons_commit_item_t){p, p->position, p->leader_epoch};
	if (!k) {
		free(items);
		return NULL;
	}
	*n = k;
	return items;
}

void cons_commit_result(tern_consumer_t *c, tern_err_t err, size_t n)
{
	cons_commit_res_t *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->err = err;
	r->n = n;
	if (c->results_tail)
		c->results_tail->next = r;
	else
		c->results = r;
	c->results_tail = r;
	pthread_cond_broadcast(&c->ready);
}

tern_err_t tern_consumer_commit(tern_consumer_t *c, bool sync)
{
	cons_commit_item_t *items;
	tern_err_t err;
	size_t n;

	if (!c)
		return TERN_ERR__INVALID_ARG;
	if (!c->cfg->group_id[0])
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&c->lock);
	if (!sync) {
		c->commit_async++;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		return TERN_OK;
	}
	items = cons_commit_snapshot(c, &n);
	pthread_mutex_unlock(&c->lock);
	if (!n)
		return TERN_OK;
	err = cons_commit_items(c, items, n, proto_now_ms() + c->cfg->request_timeout_ms);
	free(items);
	return err;
}

void tern_consumer_set_commit_cb(tern_consumer_t *c, tern_commit_cb *cb, void *opaque)
{
	pthread_mutex_lock(&c->lock);
	c->commit_cb = cb;
	c->commit_opaque = opaque;
	pthread_mutex_unlock(&c->lock);
}

tern_err_t tern_consumer_committed(tern_consumer_t *c, const char *topic, int32_t partition,
				   int timeout_ms, int64_t *offset)
{
	int64_t off = -1;
	tern_err_t err;

	if (!c || !topic || partition < 0 || !offset || timeout_ms < 0)
		return TERN_ERR__INVALID_ARG;
	if (!c->cfg->group_id[0])
		return TERN_ERR__INVALID_ARG;
	err = cons_fetch_committed(c, &topic, &partition, 1, proto_now_ms() + timeout_ms, &off);
	if (err == TERN_OK)
		*offset = off >= 0 ? off : TERN_OFFSET_INVALID;
	return err;
}
