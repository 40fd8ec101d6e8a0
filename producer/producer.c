/* producer/producer.c: the application side of the producer: start and
 * stop, tern_produce() into per-partition batches (the accumulator),
 * buffer.memory accounting, flush, and the delivery of outcomes. The
 * sender thread (sender.c) does all the network I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "producer/producer_int.h"

/* A record's share of buffer.memory: its bytes plus the framing and
 * callback it needs (a record's varint framing is under 64 bytes). */
#define PROD_RECORD_OVERHEAD 64

int64_t prod_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void prod_log(const tern_producer_t *p, int level, const char *id, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!p->conf->log_cb || level > p->cfg->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->conf->log_cb(p->conf->log_opaque, level, id, line);
}

prod_topic_t *prod_topic_find(tern_producer_t *p, const char *name)
{
	prod_topic_t *t;

	for (t = p->topics; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

log_batch_builder_t *prod_builder_take(tern_producer_t *p)
{
	log_builder_opts_t o;
	log_batch_builder_t *bl;

	if (p->nspare > 0)
		return p->spare[--p->nspare];
	log_builder_opts_default(&o);
	o.codec = p->cfg->compression_type;
	o.zstd_level = p->cfg->compression_level < 0 ? 0 : p->cfg->compression_level;
	if (log_batch_builder_new(&o, &bl) != TERN_OK)
		return NULL;
	return bl;
}

void prod_builder_give(tern_producer_t *p, log_batch_builder_t *bl)
{
	if (p->nspare < PROD_SPARE_BUILDERS)
		p->spare[p->nspare++] = bl;
	else
		log_batch_builder_free(bl);
}

static prod_part_t *part_new(tern_producer_t *p, prod_topic_t *t, int32_t id)
{
	prod_part_t *part = calloc(1, sizeof(*part));

	if (!part)
		return NULL;
	part->builder = prod_builder_take(p);
	if (!part->builder) {
		free(part);
		return NULL;
	}
	part->topic = t;
	part->id = id;
	part->leader = -1;
	return part;
}

tern_err_t prod_topic_set_partitions(tern_producer_t *p, prod_topic_t *t, int32_t n)
{
	prod_part_t **parts;
	int32_t i;

	/* Partitions are only ever added (Kafka cannot remove them); a
	 * smaller count from a stale broker is ignored. */
	if (n <= t->nparts) {
		t->known = t->nparts > 0;
		return TERN_OK;
	}
	parts = realloc(t->parts, (size_t)n * sizeof(*parts));
	if (!parts)
		return TERN_ERR__NOMEM;
	t->parts = parts;
	for (i = t->nparts; i < n; i++) {
		parts[i] = part_new(p, t, i);
		if (!parts[i]) {
			t->nparts = i;
			t->known = i > 0;
			return TERN_ERR__NOMEM;
		}
	}
	t->nparts = n;
	t->known = true;
	return TERN_OK;
}

static prod_topic_t *topic_add(tern_producer_t *p, const char *name)
{
	prod_topic_t *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->name = strdup(name);
	if (!t->name) {
		free(t);
		return NULL;
	}
	t->sticky = -1;
	t->next = p->topics;
	p->topics = t;
	return t;
}

tern_err_t prod_part_close_open(tern_producer_t *p, prod_part_t *part, int64_t now)
{
	log_batch_builder_t *fresh;
	prod_batch_t *b;

	if (part->nopen == 0)
		return TERN_OK;
	b = calloc(1, sizeof(*b));
	if (!b)
		return TERN_ERR__NOMEM;
	fresh = prod_builder_take(p);
	if (!fresh) {
		free(b);
		return TERN_ERR__NOMEM;
	}
	b->builder = part->builder;
	part->builder = fresh;
	b->part = part;
	b->msgs = part->open_msgs;
	b->n = part->nopen;
	b->mem = part->open_mem;
	b->deadline_ms = part->open_since_ms + p->cfg->delivery_timeout_ms;
	b->base_seq = -1;
	b->producer_id = -1;
	b->retry_at_ms = now;
	part->open_msgs = NULL;
	part->nopen = part->open_cap = 0;
	part->open_mem = 0;
	if (part->tail)
		part->tail->next = b;
	else
		part->queue = b;
	part->tail = b;
	/* Sticky partitioning: a closed batch moves null keys elsewhere. */
	if (part->topic->sticky == part->id)
		part->topic->sticky = -1;
	return TERN_OK;
}

void prod_batch_done(tern_producer_t *p, prod_batch_t *b, tern_err_t err, int64_t base_offset,
		     int64_t log_append_time)
{
	b->err = err;
	b->base_offset = base_offset;
	b->append_time = log_append_time;
	b->next = NULL;
	if (p->done_tail)
		p->done_tail->next = b;
	else
		p->done = b;
	p->done_tail = b;
}

void prod_deliver_done(tern_producer_t *p)
{
	prod_batch_t *list = p->done, *b, *next;
	size_t nrec = 0;
	int64_t mem = 0;

	if (!list)
		return;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	for (b = list; b; b = next) {
		size_t i;

		next = b->next;
		for (i = 0; i < b->n; i++) {
			const prod_msg_t *m = &b->msgs[i];
			tern_delivery_t d = {
			    .err = b->err,
			    .topic = b->part->topic->name,
			    .partition = b->part->id,
			    .offset = -1,
			    .timestamp = m->timestamp,
			};

			if (!b->err && b->base_offset >= 0)
				d.offset = b->base_offset + (int64_t)i;
			if (!b->err && b->append_time >= 0)
				d.timestamp = b->append_time;
			if (m->cb)
				m->cb(m->opaque, &d);
		}
		nrec += b->n;
		mem += (int64_t)b->mem;
		log_batch_builder_free(b->builder); /* ended before it was sealed */
		free(b->buf);
		free(b->msgs);
		free(b);
	}
	pthread_mutex_lock(&p->lock);
	p->mem_used -= mem;
	p->outstanding -= nrec;
	pthread_cond_broadcast(&p->space);
	pthread_cond_broadcast(&p->idle);
}

tern_producer_t *tern_producer_new(tern_conf_t *conf, char *errstr, size_t errlen)
{
	tern_producer_t *p = NULL;
	char why_off[160];
	bool idem;
	size_t i;
	int rc;

	if (!conf) {
		snprintf(errstr, errlen, "tern_producer_new: no conf");
		return NULL;
	}
	if (prod_config_resolve(conf, &idem, errstr, errlen, why_off, sizeof(why_off)) != TERN_OK)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->conf = conf;
	p->cfg = &conf->prod;
	p->idempotent = idem;
	proto_transport_opts_default(&p->topts);
	p->topts.request_timeout_ms = p->cfg->request_timeout_ms;
	p->topts.connect_timeout_ms = p->cfg->connection_setup_timeout_ms;
	p->topts.max_request_bytes = (size_t)p->cfg->message_max_bytes + 65536;
	p->topts.reconnect_backoff_ms = p->cfg->retry_backoff_ms > 0 ? p->cfg->retry_backoff_ms : 1;
	if (p->topts.reconnect_backoff_max_ms < p->topts.reconnect_backoff_ms)
		p->topts.reconnect_backoff_max_ms = p->topts.reconnect_backoff_ms;
	p->producer_id = -1;
	p->producer_epoch = -1;
	p->pid_wanted = idem;
	p->metadata_wanted = true;
	p->rnd = (uint64_t)prod_wall_ms() ^ (uint64_t)(uintptr_t)p;
	if (why_off[0])
		prod_log(p, TERN_LOG_NOTICE, "CONFIG", "%s", why_off);

	p->bootstrap = calloc(p->cfg->bootstrap_servers.n, sizeof(*p->bootstrap));
	if (!p->bootstrap)
		goto nomem;
	for (i = 0; i < p->cfg->bootstrap_servers.n; i++) {
		if (proto_pool_new(p->cfg->bootstrap_servers.v[i], 1, &p->topts, &p->bootstrap[i],
				   errstr, errlen) != TERN_OK)
			goto fail;
	}
	if (pthread_mutex_init(&p->lock, NULL) || tern_cond_init_mono(&p->wake_sender) ||
	    tern_cond_init_mono(&p->space) || tern_cond_init_mono(&p->idle))
		goto nomem;
	rc = pthread_create(&p->thread, NULL, prod_sender_main, p);
	if (rc) {
		snprintf(errstr, errlen, "cannot start the sender thread: %s", strerror(rc));
		goto fail;
	}
	p->thread_started = true;
	prod_log(p, TERN_LOG_DEBUG, "START", "producer started (idempotence %s)",
		 idem ? "on" : "off");
	return p;
nomem:
	snprintf(errstr, errlen, "out of memory");
fail:
	if (p) {
		p->conf = NULL; /* the caller keeps it */
		tern_producer_destroy(p);
	}
	return NULL;
}

/* The partition for a record of t (known). Locks: p->lock held. */
static int32_t choose_partition(tern_producer_t *p, prod_topic_t *t, const void *key,
				size_t key_len)
{
	int32_t n = t->nparts, avail = 0, i, pick;

	if (key || p->cfg->partitioner == PROD_PARTITIONER_MURMUR2)
		return prod_key_partition(key ? key : "", key ? key_len : 0, n);
	if (t->sticky >= 0 && t->sticky < n)
		return t->sticky;
	/* A new sticky partition: a random one with a leader, other than
	 * the last when there is a choice (Kafka's StickyPartitionCache). */
	for (i = 0; i < n; i++)
		avail += t->parts[i]->leader >= 0;
	p->rnd ^= p->rnd << 13;
	p->rnd ^= p->rnd >> 7;
	p->rnd ^= p->rnd << 17;
	if (avail == 0) {
		pick = (int32_t)(p->rnd % (uint64_t)n);
	} else {
		int32_t k = (int32_t)(p->rnd % (uint64_t)avail);

		for (pick = 0; pick < n; pick++)
			if (t->parts[pick]->leader >= 0 && k-- == 0)
				break;
	}
	t->sticky = pick;
	return pick;
}

static bool on_sender_thread(const tern_producer_t *p)
{
	return p->thread_started && pthread_equal(pthread_self(), p->thread);
}

tern_err_t tern_produce(tern_producer_t *p, const char *topic, int32_t partition, const void *key,
			size_t key_len, const void *value, size_t value_len,
			const tern_header_t *headers, size_t nheaders, tern_delivery_cb *cb,
			void *opaque)
{
	log_header_t hstack[8], *hdrs = hstack;
	size_t need = key_len + value_len + PROD_RECORD_OVERHEAD, i;
	prod_topic_t *t;
	prod_part_t *part;
	int64_t deadline, now;
	bool closed = false;
	tern_err_t err = TERN_OK;

	if (!p || !topic || !*topic || partition < TERN_PARTITION_ANY || (nheaders && !headers) ||
	    (!key && key_len) || (!value && value_len))
		return TERN_ERR__INVALID_ARG;
	for (i = 0; i < nheaders; i++)
		need += headers[i].key_len + headers[i].value_len + 16;
	if (need > (size_t)p->cfg->message_max_bytes)
		return TERN_ERR_MESSAGE_TOO_LARGE;
	if (nheaders > sizeof(hstack) / sizeof(hstack[0])) {
		hdrs = malloc(nheaders * sizeof(*hdrs));
		if (!hdrs)
			return TERN_ERR__NOMEM;
	}
	for (i = 0; i < nheaders; i++) {
		hdrs[i].key = headers[i].key;
		hdrs[i].key_len = headers[i].key_len;
		hdrs[i].value = headers[i].value;
		hdrs[i].value_len = headers[i].value_len;
	}

	pthread_mutex_lock(&p->lock);
	t = prod_topic_find(p, topic);
	if (!t) {
		t = topic_add(p, topic);
		if (!t) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
		t->first_wanted_ms = proto_now_ms();
		/* A topic never asked about is asked about at once, whatever
		 * the backoff since the last Metadata answer (Kafka's
		 * requestUpdateForNewTopics): retry.backoff.ms is for
		 * failures, not for the first record of each topic. */
		p->metadata_next_ms = 0;
	}
	/* The clock is read only when a record must wait, opens a batch or
	 * closes one: a record that goes into an open batch needs none. */
	if (!t->known || p->mem_used + (int64_t)need > p->cfg->buffer_memory) {
		now = proto_now_ms();
		/* The sender thread never waits here: only it frees memory. */
		deadline = now + (on_sender_thread(p) ? 0 : p->cfg->max_block_ms);
	} else {
		now = deadline = -1;
	}
	for (;;) {
		if (p->fatal) {
			err = TERN_ERR__FATAL;
			goto out;
		}
		if (p->stopping) {
			err = TERN_ERR__DESTROY;
			goto out;
		}
		if (t->known)
			break;
		if (t->err && !tern_err_is_retriable(t->err)) {
			err = t->err;
			goto out;
		}
		if (now >= deadline) {
			err = t->err ? t->err : TERN_ERR__TIMED_OUT;
			prod_log(p, TERN_LOG_WARNING, "METADATA",
				 "topic %s not in metadata after %lld ms: %s", topic,
				 (long long)p->cfg->max_block_ms, tern_err_name(err));
			goto out;
		}
		p->metadata_wanted = true;
		pthread_cond_signal(&p->wake_sender);
		tern_cond_wait_until(&p->space, &p->lock, deadline);
		now = proto_now_ms();
	}
	if (partition >= t->nparts) {
		err = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		prod_log(p, TERN_LOG_WARNING, "PARTITION", "topic %s has %d partitions, not %d",
			 topic, t->nparts, partition + 1);
		goto out;
	}
	while (p->mem_used + (int64_t)need > p->cfg->buffer_memory) {
		if (p->fatal || p->stopping) {
			err = p->fatal ? TERN_ERR__FATAL : TERN_ERR__DESTROY;
			goto out;
		}
		if (now >= deadline) {
			err = TERN_ERR__QUEUE_FULL;
			prod_log(p, TERN_LOG_WARNING, "BUFFER",
				 "buffer.memory (%lld bytes) still full after max.block.ms (%lld)",
				 (long long)p->cfg->buffer_memory, (long long)p->cfg->max_block_ms);
			goto out;
		}
		tern_cond_wait_until(&p->space, &p->lock, deadline);
		now = proto_now_ms();
	}
	if (partition == TERN_PARTITION_ANY)
		partition = choose_partition(p, t, key, key_len);
	part = t->parts[partition];
	if (part->nopen > 0 &&
	    log_batch_builder_size(part->builder) + need > (size_t)p->cfg->batch_size) {
		if (now < 0)
			now = proto_now_ms();
		err = prod_part_close_open(p, part, now);
		if (err)
			goto out;
		closed = true;
	}
	if (part->nopen == part->open_cap) {
		size_t cap = part->open_cap ? 2 * part->open_cap : 64;
		prod_msg_t *m = realloc(part->open_msgs, cap * sizeof(*m));

		if (!m) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
		part->open_msgs = m;
		part->open_cap = cap;
	}
	{
		int64_t ts = prod_wall_ms();

		err = log_batch_builder_add(part->builder, ts, key, key_len, value, value_len, hdrs,
					    nheaders);
		if (err)
			goto out;
		part->open_msgs[part->nopen++] = (prod_msg_t){cb, opaque, ts};
	}
	if (part->nopen == 1)
		part->open_since_ms = now >= 0 ? now : (now = proto_now_ms());
	part->open_mem += need;
	p->mem_used += (int64_t)need;
	p->outstanding++;
	if (log_batch_builder_size(part->builder) >= (size_t)p->cfg->batch_size) {
		prod_part_close_open(p, part, now >= 0 ? now : proto_now_ms());
		closed = true;
	}
	/* The sender needs to know of a new open batch (its linger.ms) and of
	 * a closed one; another record in an open batch changes neither. */
	if (closed || part->nopen == 1)
		pthread_cond_signal(&p->wake_sender);
out:
	pthread_mutex_unlock(&p->lock);
	if (hdrs != hstack)
		free(hdrs);
	return err;
}

tern_err_t tern_producer_flush(tern_producer_t *p, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : proto_now_ms() + timeout_ms;
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&p->lock);
	p->flushing++;
	pthread_cond_signal(&p->wake_sender);
	while (p->outstanding > 0) {
		if (deadline >= 0 && proto_now_ms() >= deadline) {
			err = TERN_ERR__TIMED_OUT;
			break;
		}
		tern_cond_wait_until(&p->idle, &p->lock, deadline);
	}
	p->flushing--;
	pthread_mutex_unlock(&p->lock);
	return err;
}

size_t tern_producer_outstanding(tern_producer_t *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->outstanding;
	pthread_mutex_unlock(&p->lock);
	return n;
}

tern_err_t tern_producer_fatal_error(tern_producer_t *p, char *errstr, size_t errlen)
{
	tern_err_t err;

	pthread_mutex_lock(&p->lock);
	err = p->fatal;
	if (errstr && errlen)
		snprintf(errstr, errlen, "%s", err ? p->fatal_why : "");
	pthread_mutex_unlock(&p->lock);
	return err;
}

static void part_free(prod_part_t *part)
{
	log_batch_builder_free(part->builder);
	free(part->open_msgs);
	free(part);
}

void tern_producer_destroy(tern_producer_t *p)
{
	prod_topic_t *t, *tn;
	prod_broker_t *b, *bn;
	size_t i;

	if (!p)
		return;
	if (p->thread_started) {
		pthread_mutex_lock(&p->lock);
		p->stopping = true;
		pthread_cond_broadcast(&p->wake_sender);
		pthread_cond_broadcast(&p->space);
		pthread_mutex_unlock(&p->lock);
		/* The sender fails and calls back every record left. */
		pthread_join(p->thread, NULL);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake_sender);
		pthread_cond_destroy(&p->space);
		pthread_cond_destroy(&p->idle);
	}
	for (b = p->brokers; b; b = bn) {
		bn = b->next;
		if (b->pool)
			proto_pool_close(b->pool);
		free(b->busy);
		free(b->url);
		free(b);
	}
	if (p->bootstrap) {
		for (i = 0; p->cfg && i < p->cfg->bootstrap_servers.n; i++)
			if (p->bootstrap[i])
				proto_pool_close(p->bootstrap[i]);
		free(p->bootstrap);
	}
	for (t = p->topics; t; t = tn) {
		int32_t k;

		tn = t->next;
		for (k = 0; k < t->nparts; k++)
			part_free(t->parts[k]);
		free(t->parts);
		free(t->name);
		free(t);
	}
	while (p->nspare > 0)
		log_batch_builder_free(p->spare[--p->nspare]);
	free(p->reqs);
	tern_conf_destroy(p->conf);
	free(p);
}
