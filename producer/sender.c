/* producer/sender.c: the producer's sender thread: metadata, the producer
 * id, closing batches whose linger.ms passed, Produce requests over the
 * brokers' connection pools (a partition's requests one at a time on one
 * connection, DESIGN.md decision 4), responses, retries with backoff until
 * delivery.timeout.ms, and the idempotence bookkeeping.
 *
 * Everything here runs on the sender thread. It holds p->lock except
 * while it waits on the network or runs delivery callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/producer_int.h"

#define PROD_METADATA_VERSION 8
#define PROD_PRODUCE_VERSION  8
#define PROD_INITPID_VERSION  1

static void wr_be64(uint8_t *p, int64_t v)
{
	for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
		p[i] = (uint8_t)v;
}

static void wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes the producer id, epoch and base sequence into a closed batch and
 * recomputes its CRC (those fields are inside it); done once, at the
 * first send, so that every retry resends the same bytes. */
static void batch_stamp(prod_batch_t *b, int64_t pid, int16_t epoch, int32_t seq)
{
	uint8_t *h = b->buf;

	wr_be64(h + 43, pid);
	h[51] = (uint8_t)((uint16_t)epoch >> 8);
	h[52] = (uint8_t)epoch;
	wr_be32(h + 53, (uint32_t)seq);
	wr_be32(h + LOG_BATCH_OFF_CRC,
		log_crc32c(0, h + LOG_BATCH_CRC_START, b->len - LOG_BATCH_CRC_START));
	b->base_seq = seq;
	b->producer_id = pid;
}

static uint64_t part_key(const prod_part_t *part)
{
	const char *n = part->topic->name;

	return (uint64_t)(uint32_t)prod_murmur2(n, strlen(n)) << 32 | (uint32_t)part->id;
}

/* Takes the head batch off part's queue. */
static prod_batch_t *part_pop(prod_part_t *part)
{
	prod_batch_t *b = part->queue;

	part->queue = b->next;
	if (!part->queue)
		part->tail = NULL;
	b->next = NULL;
	return b;
}

/* Fails every record of the producer with err: open batches, queues (in
 * flight included: the caller abandons the requests). */
static void fail_all(tern_producer_t *p, tern_err_t err)
{
	prod_topic_t *t;
	int64_t now = proto_now_ms();

	for (t = p->topics; t; t = t->next)
		for (int32_t i = 0; i < t->nparts; i++) {
			prod_part_t *part = t->parts[i];

			if (prod_part_close_open(p, part, now) != TERN_OK) {
				/* No memory for a batch: the records still
				 * need their callbacks, one batch each. */
				prod_batch_t *b = calloc(1, sizeof(*b));

				if (b) {
					b->part = part;
					b->msgs = part->open_msgs;
					b->n = part->nopen;
					b->mem = part->open_mem;
					part->open_msgs = NULL;
					part->nopen = part->open_cap = part->open_mem = 0;
					prod_batch_done(p, b, err, -1, -1);
				}
			}
			while (part->queue)
				prod_batch_done(p, part_pop(part), err, -1, -1);
			part->inflight = false;
		}
}

static void set_fatal(tern_producer_t *p, tern_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_fatal(tern_producer_t *p, tern_err_t err, const char *fmt, ...)
{
	va_list ap;

	if (p->fatal)
		return;
	p->fatal = err;
	va_start(ap, fmt);
	vsnprintf(p->fatal_why, sizeof(p->fatal_why), fmt, ap);
	va_end(ap);
	prod_log(p, TERN_LOG_ERR, "FATAL", "%s", p->fatal_why);
	pthread_cond_broadcast(&p->space);
}

/* ------------------------------------------------------------------------ */
/* Requests on the bootstrap connections (metadata, producer id)             */

/* Sends one request on a bootstrap server and waits for its answer, with
 * the lock dropped. On success *resp is the response (proto_msg_free). */
static tern_err_t bootstrap_call(tern_producer_t *p, const proto_buf_t *req, uint8_t **resp,
				 size_t *resp_len)
{
	size_t n = p->cfg->bootstrap_servers.n;
	size_t i = p->bootstrap_next % n;
	tern_err_t err;

	pthread_mutex_unlock(&p->lock);
	err = proto_conn_call(proto_pool_conn(p->bootstrap[i], 0), req->p, req->len,
			      PROTO_DEADLINE_DEFAULT, resp, resp_len);
	pthread_mutex_lock(&p->lock);
	if (err) {
		prod_log(p, TERN_LOG_WARNING, "BOOTSTRAP", "%s: %s", p->cfg->bootstrap_servers.v[i],
			 tern_err_name(err));
		p->bootstrap_next++;
	}
	return err;
}

static void req_header(tern_producer_t *p, proto_buf_t *b, int16_t key, int16_t ver)
{
	proto_req_hdr_t h = {
	    .api_key = key,
	    .api_version = ver,
	    .correlation_id = ++p->corr & 0x7fffffff,
	    .client_id = proto_str(p->cfg->client_id),
	};

	proto_buf_init(b);
	proto_req_hdr_encode(b, &h);
}

/* Decodes the response header of a request made by req_header. */
static tern_err_t resp_open(proto_reader_t *r, proto_arena_t *a, const proto_limits_t *lim,
			    const uint8_t *resp, size_t len, int16_t key, int16_t ver)
{
	proto_resp_hdr_t rh;

	proto_arena_init(a, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(r, resp, len, lim, a);
	return proto_resp_hdr_decode(r, key, ver, &rh);
}

static prod_broker_t *broker_find(tern_producer_t *p, int32_t id)
{
	prod_broker_t *b;

	for (b = p->brokers; b; b = b->next)
		if (b->id == id)
			return b;
	return NULL;
}

static void broker_learn(tern_producer_t *p, const proto_metadata_broker_t *mb)
{
	char url[300], host[256];
	prod_broker_t *b = broker_find(p, mb->node_id);

	proto_str_copy(mb->host, host, sizeof(host));
	snprintf(url, sizeof(url), "tcp://%s:%d", host, mb->port);
	if (b && strcmp(b->url, url) == 0)
		return;
	if (b) {
		size_t i, n = b->pool ? proto_pool_size(b->pool) : 0;

		/* A broker that moved: its old connections go once idle. */
		for (i = 0; i < n; i++)
			if (b->busy[i])
				return;
		if (b->pool)
			proto_pool_close(b->pool);
		b->pool = NULL;
		free(b->url);
		b->url = NULL;
	} else {
		b = calloc(1, sizeof(*b));
		if (!b)
			return;
		b->id = mb->node_id;
		b->next = p->brokers;
		p->brokers = b;
	}
	b->url = strdup(url);
}

/* Opens b's pool on first use. */
static bool broker_ready(tern_producer_t *p, prod_broker_t *b)
{
	char why[200];
	size_t n = (size_t)p->cfg->max_in_flight;

	if (b->pool)
		return true;
	if (!b->url)
		return false;
	free(b->busy);
	b->busy = calloc(n, sizeof(*b->busy));
	if (!b->busy)
		return false;
	if (proto_pool_new(b->url, n, &p->topts, &b->pool, why, sizeof(why)) != TERN_OK) {
		prod_log(p, TERN_LOG_WARNING, "CONNECT", "broker %d at %s: %s", b->id, b->url, why);
		return false;
	}
	return true;
}

static void do_metadata(tern_producer_t *p, int64_t now)
{
	proto_str_t *names = NULL;
	proto_metadata_req_t m = {0};
	proto_metadata_resp_t mr;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	prod_topic_t *t;
	uint8_t *resp = NULL;
	size_t len, n = 0, i;
	tern_err_t err;

	p->metadata_next_ms = now + (p->cfg->retry_backoff_ms > 0 ? p->cfg->retry_backoff_ms : 1);
	for (t = p->topics; t; t = t->next)
		n++;
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return;
	/* The names are copied: a topic's name lives as long as the producer. */
	for (i = 0, t = p->topics; t; t = t->next)
		names[i++] = proto_str(t->name);
	m.topics = names;
	m.topics_count = (int32_t)n;
	m.allow_auto_topic_creation = true;
	req_header(p, &b, PROTO_API_METADATA, PROD_METADATA_VERSION);
	proto_metadata_req_encode(&b, PROD_METADATA_VERSION, &m);
	free(names);
	if (b.oom) {
		proto_buf_free(&b);
		return;
	}
	err = bootstrap_call(p, &b, &resp, &len);
	proto_buf_free(&b);
	/* The backoff counts from the answer: a call that waited out the
	 * connection timeouts would otherwise leave metadata_next_ms already
	 * past, and the sender would ask again at once, forever, without ever
	 * reaching expire() while no broker answers. */
	p->metadata_next_ms =
	    proto_now_ms() + (p->cfg->retry_backoff_ms > 0 ? p->cfg->retry_backoff_ms : 1);
	if (err)
		return;
	proto_limits_default(&lim);
	err = resp_open(&r, &a, &lim, resp, len, PROTO_API_METADATA, PROD_METADATA_VERSION);
	if (!err)
		err = proto_metadata_resp_decode(&r, PROD_METADATA_VERSION, &mr);
	if (err) {
		prod_log(p, TERN_LOG_WARNING, "METADATA", "bad Metadata response: %s",
			 tern_err_name(err));
		goto out;
	}
	for (i = 0; i < (size_t)mr.brokers_count; i++)
		broker_learn(p, &mr.brokers[i]);
	p->metadata_wanted = false;
	p->metadata_last_ms = now;
	for (i = 0; i < (size_t)mr.topics_count; i++) {
		const proto_metadata_topic_t *mt = &mr.topics[i];
		char name[256];

		proto_str_copy(mt->name, name, sizeof(name));
		t = prod_topic_find(p, name);
		if (!t)
			continue;
		if (mt->error_code || mt->partitions_count <= 0) {
			t->err = mt->error_code ? (tern_err_t)mt->error_code
						: TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			p->metadata_wanted = true;
			prod_log(p, TERN_LOG_INFO, "METADATA", "topic %s: %s", name,
				 tern_err_name(t->err));
			continue;
		}
		if (prod_topic_set_partitions(p, t, mt->partitions_count) != TERN_OK)
			continue;
		t->err = TERN_OK;
		for (int32_t k = 0; k < mt->partitions_count; k++) {
			const proto_metadata_partition_t *mp = &mt->partitions[k];

			if (mp->partition_index < 0 || mp->partition_index >= t->nparts)
				continue;
			t->parts[mp->partition_index]->leader =
			    mp->error_code == TERN_ERR_LEADER_NOT_AVAILABLE ? -1 : mp->leader_id;
			if (mp->leader_id < 0)
				p->metadata_wanted = true;
		}
	}
	pthread_cond_broadcast(&p->space);
out:
	proto_arena_free(&a);
	proto_msg_free(resp);
}

/* Resets the idempotence state after a new producer id: sequences restart
 * at 0 and batches already stamped with the old id are stamped again at
 * their next send (Kafka does the same after an epoch bump). */
static void reset_sequences(tern_producer_t *p)
{
	prod_topic_t *t;
	prod_batch_t *b;

	for (t = p->topics; t; t = t->next)
		for (int32_t i = 0; i < t->nparts; i++) {
			t->parts[i]->next_seq = 0;
			for (b = t->parts[i]->queue; b; b = b->next)
				b->base_seq = -1;
		}
}

static void do_init_pid(tern_producer_t *p, int64_t now)
{
	proto_init_producer_id_req_t m = {PROTO_NULL_STR, -1};
	proto_init_producer_id_resp_t ir;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	uint8_t *resp = NULL;
	size_t len;
	tern_err_t err;

	/* Its own backoff, only after a failure: sharing the metadata's
	 * would hold the first InitProducerId for retry.backoff.ms after the
	 * first Metadata answer, and every new topic's Metadata as long again
	 * after it. */
	p->pid_next_ms = now + (p->cfg->retry_backoff_ms > 0 ? p->cfg->retry_backoff_ms : 1);
	req_header(p, &b, PROTO_API_INIT_PRODUCER_ID, PROD_INITPID_VERSION);
	proto_init_producer_id_req_encode(&b, PROD_INITPID_VERSION, &m);
	if (b.oom) {
		proto_buf_free(&b);
		return;
	}
	err = bootstrap_call(p, &b, &resp, &len);
	proto_buf_free(&b);
	if (err)
		return;
	proto_limits_default(&lim);
	err = resp_open(&r, &a, &lim, resp, len, PROTO_API_INIT_PRODUCER_ID, PROD_INITPID_VERSION);
	if (!err)
		err = proto_init_producer_id_resp_decode(&r, PROD_INITPID_VERSION, &ir);
	if (!err)
		err = (tern_err_t)ir.error_code;
	if (err == TERN_OK) {
		p->pid_next_ms = 0;
		p->producer_id = ir.producer_id;
		p->producer_epoch = ir.producer_epoch;
		p->pid_wanted = false;
		reset_sequences(p);
		prod_log(p, TERN_LOG_INFO, "PID", "producer id %lld epoch %d",
			 (long long)ir.producer_id, ir.producer_epoch);
	} else if (!tern_err_is_retriable(err) && err != TERN_ERR_INVALID_REQUEST) {
		set_fatal(p, err, "InitProducerId failed: %s", tern_err_name(err));
	} else {
		prod_log(p, TERN_LOG_WARNING, "PID", "InitProducerId: %s", tern_err_name(err));
	}
	proto_arena_free(&a);
	proto_msg_free(resp);
}

/* ------------------------------------------------------------------------ */
/* Produce                                                                    */

static int64_t backoff_ms(const tern_producer_t *p)
{
	return p->cfg->retry_backoff_ms;
}

/* The head batch of part failed with err (the request is over). Retries
 * it when it may be, else ends it. maybe_persisted: the broker may have
 * written it (timeout, broken connection). */
static void head_failed(tern_producer_t *p, prod_part_t *part, tern_err_t err, int64_t now,
			bool maybe_persisted)
{
	prod_batch_t *b = part->queue;
	const char *tname = part->topic->name;

	part->inflight = false;
	if (!b)
		return;
	if (maybe_persisted)
		b->maybe_persisted = true;
	if (p->idempotent &&
	    (err == TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER ||
	     err == TERN_ERR_INVALID_PRODUCER_EPOCH || err == TERN_ERR_UNKNOWN_PRODUCER_ID)) {
		/* Only a partition's head batch is ever in flight, so this is
		 * librdkafka's head-of-line case: the broker's sequence state
		 * and ours disagree, and no retry can be sure to write the
		 * records once and in order. Fatal, as librdkafka makes it. */
		prod_batch_done(p, part_pop(part), err, -1, -1);
		set_fatal(p, err, "%s [%d]: Produce with base sequence %d failed: %s", tname,
			  part->id, b->base_seq, tern_err_name(err));
		fail_all(p, TERN_ERR__FATAL);
		return;
	}
	if (tern_err_is_retriable(err) && b->attempts <= p->cfg->retries && now < b->deadline_ms) {
		b->retry_at_ms = now + backoff_ms(p);
		/* Every retriable error asks for metadata, a timeout too: a
		 * leader that died before the controller moved its partitions
		 * looks like one, and without new metadata every retry would
		 * go to it until metadata.max.age.ms (Kafka's client refreshes
		 * after a timeout's disconnect as well). */
		p->metadata_wanted = true;
		prod_log(p, TERN_LOG_INFO, "RETRY", "%s [%d]: %s, send %d of the batch in %d ms",
			 tname, part->id, tern_err_name(err), b->attempts + 1,
			 p->cfg->retry_backoff_ms);
		return;
	}
	if (tern_err_is_retriable(err) && now >= b->deadline_ms)
		err = TERN_ERR__MSG_TIMED_OUT;
	part_pop(part);
	if (p->idempotent && b->base_seq >= 0) {
		if (b->maybe_persisted)
			p->pid_wanted = true; /* its sequence's fate is unknown */
		else
			part->next_seq = b->base_seq; /* never written: reuse it */
	}
	prod_log(p, TERN_LOG_WARNING, "FAIL", "%s [%d]: %zu records failed: %s", tname, part->id,
		 b->n, tern_err_name(err));
	prod_batch_done(p, b, err, -1, -1);
}

/* Ends batches whose delivery.timeout.ms passed while queued. */
static void expire(tern_producer_t *p, int64_t now, int64_t *wake)
{
	prod_topic_t *t;

	for (t = p->topics; t; t = t->next)
		for (int32_t i = 0; i < t->nparts; i++) {
			prod_part_t *part = t->parts[i];
			prod_batch_t **pp =
			    part->inflight && part->queue ? &part->queue->next : &part->queue;
			prod_batch_t *prev = part->inflight ? part->queue : NULL;

			while (*pp) {
				prod_batch_t *b = *pp;

				if (now < b->deadline_ms) {
					if (b->deadline_ms < *wake)
						*wake = b->deadline_ms;
					prev = b;
					pp = &b->next;
					continue;
				}
				*pp = b->next;
				if (part->tail == b)
					part->tail = prev;
				if (p->idempotent && b->base_seq >= 0) {
					if (b->maybe_persisted)
						p->pid_wanted = true;
					else
						part->next_seq = b->base_seq;
				}
				prod_batch_done(p, b, TERN_ERR__MSG_TIMED_OUT, -1, -1);
			}
		}
}

typedef struct send_group {
	prod_broker_t *broker;
	size_t conn;
	prod_part_t **parts;
	size_t n, cap;
	size_t bytes;
} send_group_t;

static int cmp_part_topic(const void *a, const void *b)
{
	const prod_part_t *x = *(prod_part_t *const *)a, *y = *(prod_part_t *const *)b;

	return strcmp(x->topic->name, y->topic->name);
}

/* Builds and sends one Produce request for g's head batches. */
static void send_group(tern_producer_t *p, send_group_t *g, int64_t now)
{
	proto_produce_req_topic_t *topics = NULL;
	proto_produce_req_partition_t *parts = NULL;
	proto_produce_req_t m = {0};
	proto_conn_t *conn = proto_pool_conn(g->broker->pool, g->conn);
	proto_buf_t b;
	prod_req_t *req;
	size_t i, nt = 0;
	int32_t corr;
	tern_err_t err = TERN_ERR__NOMEM;

	qsort(g->parts, g->n, sizeof(*g->parts), cmp_part_topic);
	topics = calloc(g->n, sizeof(*topics));
	parts = calloc(g->n, sizeof(*parts));
	if (!topics || !parts)
		goto fail;
	for (i = 0; i < g->n; i++) {
		prod_part_t *part = g->parts[i];
		prod_batch_t *hb = part->queue;

		if (p->idempotent && (hb->base_seq < 0 || hb->producer_id != p->producer_id)) {
			batch_stamp(hb, p->producer_id, p->producer_epoch, part->next_seq);
			part->next_seq += (int32_t)hb->n;
		}
		hb->attempts++;
		part->inflight = true;
		parts[i].index = part->id;
		parts[i].records = (proto_bytes_t){hb->buf, (int32_t)hb->len};
		if (i == 0 || g->parts[i - 1]->topic != part->topic) {
			topics[nt].name = proto_str(part->topic->name);
			topics[nt].partitions = &parts[i];
			nt++;
		}
		topics[nt - 1].partitions_count++;
	}
	m.transactional_id = PROTO_NULL_STR;
	m.acks = (int16_t)p->cfg->acks;
	m.timeout_ms = p->cfg->request_timeout_ms;
	m.topics = topics;
	m.topics_count = (int32_t)nt;
	req_header(p, &b, PROTO_API_PRODUCE, PROD_PRODUCE_VERSION);
	corr = p->corr & 0x7fffffff;
	proto_produce_req_encode(&b, PROD_PRODUCE_VERSION, &m);
	free(topics);
	free(parts);
	topics = NULL;
	parts = NULL;
	if (b.oom) {
		proto_buf_free(&b);
		goto fail;
	}
	if (p->nreqs == p->reqs_cap) {
		size_t cap = p->reqs_cap ? 2 * p->reqs_cap : 16;
		prod_req_t *r = realloc(p->reqs, cap * sizeof(*r));

		if (!r) {
			proto_buf_free(&b);
			goto fail;
		}
		p->reqs = r;
		p->reqs_cap = cap;
	}
	g->broker->busy[g->conn] = true;
	/* A connection that is down makes the send wait for it: unlocked.
	 * The head batches stay put meanwhile (inflight). */
	pthread_mutex_unlock(&p->lock);
	err = proto_conn_send(conn, b.p, b.len, now + p->cfg->request_timeout_ms);
	pthread_mutex_lock(&p->lock);
	proto_buf_free(&b);
	if (err) {
		g->broker->busy[g->conn] = false;
		prod_log(p, TERN_LOG_INFO, "SEND", "broker %d: %s", g->broker->id,
			 tern_err_name(err));
		for (i = 0; i < g->n; i++) {
			g->parts[i]->queue->attempts--;
			head_failed(p, g->parts[i], err, now, false);
		}
		return;
	}
	req = &p->reqs[p->nreqs++];
	req->broker = g->broker;
	req->conn = g->conn;
	req->corr = corr;
	req->parts = g->parts;
	req->nparts = g->n;
	req->expect_reply = p->cfg->acks != 0;
	g->parts = NULL;
	if (!req->expect_reply) {
		/* acks=0: sent is all there is to know. */
		for (i = 0; i < req->nparts; i++) {
			req->parts[i]->inflight = false;
			prod_batch_done(p, part_pop(req->parts[i]), TERN_OK, -1, -1);
		}
	}
	return;
fail:
	free(topics);
	free(parts);
	for (i = 0; i < g->n; i++)
		head_failed(p, g->parts[i], err, now, false);
}

/* Closes the open batches whose linger.ms passed (all of them while a
 * flush waits or at destroy). */
static void close_due(tern_producer_t *p, int64_t now, int64_t *wake)
{
	prod_topic_t *t;

	for (t = p->topics; t; t = t->next)
		for (int32_t k = 0; k < t->nparts; k++) {
			prod_part_t *part = t->parts[k];
			int64_t due = part->open_since_ms + p->cfg->linger_ms;

			if (part->nopen == 0)
				continue;
			if (p->flushing || p->stopping || now >= due)
				prod_part_close_open(p, part, now);
			else if (due < *wake)
				*wake = due;
		}
}

/* Takes b, which failed to seal, off its partition's queue and ends it. */
static void seal_failed(tern_producer_t *p, prod_batch_t *b, tern_err_t err)
{
	prod_part_t *part = b->part;
	prod_batch_t **pp = &part->queue, *prev = NULL;

	while (*pp && *pp != b) {
		prev = *pp;
		pp = &prev->next;
	}
	if (!*pp)
		return;
	*pp = b->next;
	if (part->tail == b)
		part->tail = prev;
	prod_log(p, TERN_LOG_WARNING, "FAIL", "%s [%d]: %zu records failed: %s", part->topic->name,
		 part->id, b->n, tern_err_name(err));
	prod_batch_done(p, b, err, -1, -1);
}

/* Seals every closed batch that is not yet: compresses its records and
 * fills its header and CRC (log_batch_builder_finish), with p->lock
 * dropped so that tern_produce() goes on meanwhile. That is safe because
 * only this thread reads or writes a queued batch's builder, buf and len
 * and only this thread takes batches off a queue or frees them; other
 * threads only append to the queues. Returns true when it sealed any. */
static bool seal_batches(tern_producer_t *p)
{
	typedef struct {
		prod_batch_t *b;
		uint8_t *buf;
		size_t len;
		tern_err_t err;
	} seal_t;
	seal_t *v = NULL;
	size_t n = 0, cap = 0, i;
	prod_topic_t *t;

	for (t = p->topics; t; t = t->next)
		for (int32_t k = 0; k < t->nparts; k++)
			for (prod_batch_t *b = t->parts[k]->queue; b; b = b->next) {
				if (!b->builder)
					continue;
				if (n == cap) {
					size_t nc = cap ? 2 * cap : 8;
					seal_t *nv = realloc(v, nc * sizeof(*nv));

					if (!nv) {
						/* Next round; seal what we have. */
						goto collected;
					}
					v = nv;
					cap = nc;
				}
				v[n++] = (seal_t){.b = b};
			}
collected:
	if (n == 0) {
		free(v);
		return false;
	}
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < n; i++)
		v[i].err = log_batch_builder_finish(v[i].b->builder, &v[i].buf, &v[i].len);
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < n; i++) {
		prod_batch_t *b = v[i].b;

		if (v[i].err) {
			/* The builder still holds the records: freed with b. */
			seal_failed(p, b, v[i].err);
			continue;
		}
		b->buf = v[i].buf;
		b->len = v[i].len;
		prod_builder_give(p, b->builder);
		b->builder = NULL;
	}
	free(v);
	return true;
}

/* Sends every partition's sealed head batch whose connection is free, one
 * request per connection. */
static void send_ready(tern_producer_t *p, int64_t now, int64_t *wake)
{
	send_group_t *groups = NULL;
	size_t ng = 0, cap = 0, i;
	prod_topic_t *t;

	for (t = p->topics; t; t = t->next)
		for (int32_t k = 0; k < t->nparts; k++) {
			prod_part_t *part = t->parts[k];
			prod_broker_t *br;
			prod_batch_t *hb;
			send_group_t *g = NULL;
			size_t conn;

			hb = part->queue;
			if (part->inflight || !hb)
				continue;
			if (hb->builder) {
				/* Closed while the others were being sealed. */
				*wake = now;
				continue;
			}
			if (now < hb->retry_at_ms) {
				if (hb->retry_at_ms < *wake)
					*wake = hb->retry_at_ms;
				continue;
			}
			if (p->idempotent && p->pid_wanted)
				continue;
			br = part->leader >= 0 ? broker_find(p, part->leader) : NULL;
			if (!br || !broker_ready(p, br)) {
				p->metadata_wanted = true;
				continue;
			}
			conn = proto_pool_index(br->pool, part_key(part));
			if (br->busy[conn])
				continue;
			for (i = 0; i < ng; i++)
				if (groups[i].broker == br && groups[i].conn == conn)
					g = &groups[i];
			if (g && g->bytes + hb->len > (size_t)p->cfg->message_max_bytes)
				continue;
			if (!g) {
				if (ng == cap) {
					size_t nc = cap ? 2 * cap : 8;
					send_group_t *ngs = realloc(groups, nc * sizeof(*ngs));

					if (!ngs)
						continue;
					groups = ngs;
					cap = nc;
				}
				g = &groups[ng++];
				*g = (send_group_t){.broker = br, .conn = conn};
			}
			if (g->n == g->cap) {
				size_t nc = g->cap ? 2 * g->cap : 8;
				prod_part_t **np = realloc(g->parts, nc * sizeof(*np));

				if (!np)
					continue;
				g->parts = np;
				g->cap = nc;
			}
			g->parts[g->n++] = part;
			g->bytes += hb->len;
		}
	for (i = 0; i < ng; i++) {
		if (groups[i].n)
			send_group(p, &groups[i], now);
		free(groups[i].parts);
	}
	free(groups);
}

/* The outcome of request req (removed from p->reqs by the caller). */
static void on_response(tern_producer_t *p, prod_req_t *req, tern_err_t err, uint8_t *resp,
			size_t len, int64_t now)
{
	proto_produce_resp_t pr;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	size_t i;

	req->broker->busy[req->conn] = false;
	/* After a fatal error every record has had its answer already. */
	if (!req->expect_reply || p->fatal)
		goto out_noarena;
	if (err) {
		prod_log(p, TERN_LOG_INFO, "RESPONSE", "broker %d: Produce: %s", req->broker->id,
			 tern_err_name(err));
		for (i = 0; i < req->nparts && !p->fatal; i++)
			head_failed(p, req->parts[i], err, now, true);
		goto out_noarena;
	}
	proto_limits_default(&lim);
	err = resp_open(&r, &a, &lim, resp, len, PROTO_API_PRODUCE, PROD_PRODUCE_VERSION);
	if (!err)
		err = proto_produce_resp_decode(&r, PROD_PRODUCE_VERSION, &pr);
	if (err) {
		prod_log(p, TERN_LOG_WARNING, "RESPONSE", "broker %d: bad Produce response: %s",
			 req->broker->id, tern_err_name(err));
		for (i = 0; i < req->nparts && !p->fatal; i++)
			head_failed(p, req->parts[i], TERN_ERR_NETWORK_EXCEPTION, now, true);
		goto out;
	}
	for (i = 0; i < req->nparts; i++) {
		prod_part_t *part = req->parts[i];
		const proto_produce_resp_partition_t *rp = NULL;

		if (!part->queue || p->fatal)
			continue;
		for (int32_t ti = 0; ti < pr.topics_count && !rp; ti++) {
			if (!proto_str_eq(pr.topics[ti].name, part->topic->name))
				continue;
			for (int32_t pi = 0; pi < pr.topics[ti].partitions_count; pi++)
				if (pr.topics[ti].partitions[pi].index == part->id)
					rp = &pr.topics[ti].partitions[pi];
		}
		if (!rp) {
			head_failed(p, part, TERN_ERR_NETWORK_EXCEPTION, now, true);
			continue;
		}
		if (rp->error_code == TERN_OK ||
		    rp->error_code == TERN_ERR_DUPLICATE_SEQUENCE_NUMBER) {
			/* DUPLICATE_SEQUENCE_NUMBER: written before, offsets
			 * unknown (librdkafka counts it as delivered). */
			bool dup = rp->error_code != TERN_OK;

			part->inflight = false;
			prod_batch_done(p, part_pop(part), TERN_OK, dup ? -1 : rp->base_offset,
					dup ? -1 : rp->log_append_time_ms);
		} else {
			head_failed(p, part, (tern_err_t)rp->error_code, now, false);
		}
	}
out:
	proto_arena_free(&a);
out_noarena:
	proto_msg_free(resp);
	free(req->parts);
}

/* Waits for responses until until_ms and handles them. Locks: p->lock
 * held on entry and return, dropped while waiting. */
static void wait_responses(tern_producer_t *p, int64_t until_ms)
{
	size_t n = p->nreqs, i, nready = 0;
	proto_conn_t **conns = calloc(n, sizeof(*conns));
	bool *ready = calloc(n, sizeof(*ready));
	uint8_t **resps = calloc(n, sizeof(*resps));
	size_t *lens = calloc(n, sizeof(*lens));
	tern_err_t *errs = calloc(n, sizeof(*errs));
	tern_err_t err;
	int64_t now;

	if (!conns || !ready || !resps || !lens || !errs)
		goto out;
	for (i = 0; i < n; i++)
		conns[i] = proto_pool_conn(p->reqs[i].broker->pool, p->reqs[i].conn);
	pthread_mutex_unlock(&p->lock);
	err = proto_conn_poll(conns, n, until_ms, ready, &nready);
	if (err == TERN_OK)
		for (i = 0; i < n; i++)
			if (ready[i])
				errs[i] = proto_conn_recv(conns[i], &resps[i], &lens[i]);
	pthread_mutex_lock(&p->lock);
	if (err || !nready)
		goto out;
	now = proto_now_ms();
	/* Handle in order, then compact p->reqs. */
	for (i = 0; i < n; i++)
		if (ready[i])
			on_response(p, &p->reqs[i], errs[i], resps[i], lens[i], now);
	{
		size_t j = 0;

		for (i = 0; i < n; i++)
			if (!ready[i])
				p->reqs[j++] = p->reqs[i];
		p->nreqs = j;
	}
out:
	free(conns);
	free(ready);
	free(resps);
	free(lens);
	free(errs);
}

void *prod_sender_main(void *arg)
{
	tern_producer_t *p = arg;
	size_t i;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		int64_t now = proto_now_ms(), wake = now + 100, cap;
		bool want_md =
		    p->metadata_wanted || now - p->metadata_last_ms >= p->cfg->metadata_max_age_ms;

		if (p->fatal) {
			fail_all(p, TERN_ERR__FATAL);
		} else if (want_md && now >= p->metadata_next_ms) {
			do_metadata(p, now);
			continue;
		} else if (p->idempotent && p->pid_wanted && p->nreqs == 0 &&
			   now >= p->pid_next_ms) {
			do_init_pid(p, now);
			continue;
		} else {
			expire(p, now, &wake);
			close_due(p, now, &wake);
			if (seal_batches(p))
				now = proto_now_ms();
			send_ready(p, now, &wake);
		}
		prod_deliver_done(p);
		if (p->stopping)
			break;
		if (want_md && p->metadata_next_ms < wake)
			wake = p->metadata_next_ms > now ? p->metadata_next_ms : now + 1;
		if (p->idempotent && p->pid_wanted && p->nreqs == 0 && p->pid_next_ms < wake)
			wake = p->pid_next_ms > now ? p->pid_next_ms : now + 1;
		if (p->nreqs > 0) {
			/* New records cannot wake a thread in nn_poll(): look
			 * again at least every few ms (or linger.ms if less). */
			cap = now + (p->cfg->linger_ms < 5
					 ? (p->cfg->linger_ms ? p->cfg->linger_ms : 1)
					 : 5);
			wait_responses(p, wake < cap ? wake : cap);
		} else if (wake > now) {
			struct timespec ts;
			int64_t add = wake - now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += add / 1000;
			ts.tv_nsec += (add % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->wake_sender, &p->lock, &ts);
		}
	}
	/* Destroy: every record left fails; requests in flight are abandoned
	 * (their connections close with the pools). */
	fail_all(p, TERN_ERR__DESTROY);
	for (i = 0; i < p->nreqs; i++)
		free(p->reqs[i].parts);
	p->nreqs = 0;
	prod_deliver_done(p);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}
