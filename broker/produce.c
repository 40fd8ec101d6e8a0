/* broker/produce.c: Produce (v3-8) and InitProducerId. Every batch is
 * validated deeply before it is appended; the answer comes when the
 * partition's isr/ state machine acknowledges the records (acks=1: the
 * leader's append complete under flush.policy; acks=all: the HWM covers
 * them), from whichever thread sees that happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker_int.h"

/* A produce request being answered. remaining counts the partitions not
 * yet answered plus one for the handler itself, so that the response goes
 * out exactly once, after the handler is done with the request and every
 * partition has its answer. */
typedef struct bk_preq {
	broker_t *b;
	proto_server_t *srv;
	proto_srv_msg_t *msg;
	proto_req_hdr_t hdr;
	int64_t t0_us;
	int16_t acks;
	proto_arena_t *arena;
	proto_produce_resp_topic_t *rt;
	int32_t nt;
	struct bk_pslot *slots;
	atomic_int remaining;
} bk_preq_t;

struct bk_pslot {
	bk_preq_t *req;
	proto_produce_resp_partition_t *out;
	char why[192];
};

static void preq_finish(bk_preq_t *r)
{
	bk_req_t q = {.b = r->b, .srv = r->srv, .msg = r->msg, .hdr = r->hdr};
	proto_produce_resp_t m = {.topics = r->rt, .topics_count = r->nt};
	proto_buf_t out;

	/* Even acks=0 is answered: nanomsg is request/reply, and a client's
	 * connection is free again only once its request has an answer. It
	 * goes out as soon as the batches are queued (Kafka's TCP listener
	 * sends none; docs/protocol.md). */
	bk_resp_begin(&q, &out);
	proto_produce_resp_encode(&out, r->hdr.api_version, &m);
	bk_resp_send(&q, &out);
	metrics_histogram_observe(r->b->stats.produce_latency, bk_seconds_since(r->t0_us));
	proto_arena_free(r->arena);
	free(r->arena);
	free(r->slots);
	free(r);
}

/* Answers one partition of a produce request: err, and on success the base
 * offset of its records. Each slot is answered once; the last answer sends
 * the response. Any thread; p->mu of the slot's partition may be held. */
static void pslot_answer(struct bk_pslot *s, tern_err_t err, int64_t base_offset)
{
	bk_preq_t *r = s->req;

	if (err < 0 && err != TERN_ERR_UNKNOWN_SERVER_ERROR) {
		bk_log('E', "produce", "%s", tern_strerror(err));
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	}
	s->out->error_code = (int16_t)err;
	if (err) {
		s->out->base_offset = -1;
		s->out->log_append_time_ms = -1;
		if (s->why[0])
			s->out->error_message = proto_str(s->why);
	} else if (base_offset >= 0) {
		s->out->base_offset = base_offset;
	}
	if (atomic_fetch_sub(&r->remaining, 1) == 1)
		preq_finish(r);
}

/* The wait callback of a produced batch (bk_wait_cb). */
static void pslot_acked(void *arg, tern_err_t err, int64_t base_offset)
{
	pslot_answer(arg, err, base_offset);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* message.timestamp.type=LogAppendTime: a copy of the batch with the
 * broker's clock as MaxTimestamp, attribute bit 3 set and the CRC redone
 * (KAFKA-REFERENCE.md §1). */
static uint8_t *stamp_append_time(const uint8_t *batch, size_t len, int16_t attributes,
				  int64_t now_ms)
{
	uint8_t *c = malloc(len);

	if (!c)
		return NULL;
	memcpy(c, batch, len);
	put_be16(c + 21, (uint16_t)(attributes | LOG_ATTR_LOG_APPEND_TIME));
	put_be64(c + 35, (uint64_t)now_ms);
	put_be32(c + LOG_BATCH_OFF_CRC,
		 log_crc32c(0, c + LOG_BATCH_CRC_START, len - LOG_BATCH_CRC_START));
	return c;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks one partition's records against the topic and returns the error
 * to answer, with a reason in s->why. */
static tern_err_t check_batch(const bk_topic_t *t, proto_bytes_t rec, log_batch_hdr_t *h,
			      struct bk_pslot *s)
{
	log_validate_opts_t vo = {.deep = true,
				  .max_batch_bytes = (size_t)t->cfg.max_message_bytes};
	tern_err_t err;
	int codec;

	if (rec.len <= 0) {
		snprintf(s->why, sizeof s->why, "no record batch");
		return TERN_ERR_INVALID_RECORD;
	}
	err = log_batch_validate(rec.p, (size_t)rec.len, &vo, h, s->why, sizeof s->why);
	if (err)
		return err;
	if (log_batch_size(h) != (size_t)rec.len) {
		snprintf(s->why, sizeof s->why,
			 "exactly one record batch per partition is allowed");
		return TERN_ERR_INVALID_RECORD;
	}
	codec = log_batch_codec(h);
	if ((t->cfg.compression_type == BROKER_COMPRESSION_ZSTD && codec != LOG_CODEC_ZSTD) ||
	    (t->cfg.compression_type == BROKER_COMPRESSION_UNCOMPRESSED &&
	     codec != LOG_CODEC_NONE)) {
		snprintf(s->why, sizeof s->why, "topic %s takes only %s batches (compression.type)",
			 t->name,
			 t->cfg.compression_type == BROKER_COMPRESSION_ZSTD ? "zstd"
									    : "uncompressed");
		return TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	}
	if (h->attributes & (LOG_ATTR_TRANSACTIONAL | LOG_ATTR_CONTROL)) {
		snprintf(s->why, sizeof s->why,
			 "transactional and control batches are not supported");
		return TERN_ERR_INVALID_RECORD;
	}
	return TERN_OK;
}

/* Validates, appends and registers the wait of one partition; answers the
 * slot itself on every path that ends here. topics_lock held (read). */
static void produce_one(bk_preq_t *r, struct bk_pslot *s, proto_str_t topic,
			const proto_produce_req_partition_t *rp, int32_t timeout_ms)
{
	broker_t *b = r->b;
	bk_part_t *p = bk_part_find(b, topic, rp->index);
	bool idem;
	log_batch_hdr_t h;
	log_append_info_t info;
	const uint8_t *buf;
	uint8_t *stamped = NULL;
	int64_t dup_base;
	tern_err_t err;

	if (!p) {
		pslot_answer(s, bk_part_missing(b, topic, rp->index), -1);
		return;
	}
	if (p->topic->internal) {
		/* Only the broker writes __consumer_offsets (Kafka refuses
		 * such produce requests the same way). */
		snprintf(s->why, sizeof s->why, "%s is internal: only the broker writes it",
			 p->topic->name);
		pslot_answer(s, TERN_ERR_INVALID_TOPIC_EXCEPTION, -1);
		return;
	}
	err = check_batch(p->topic, rp->records, &h, s);
	if (err) {
		pslot_answer(s, err, -1);
		return;
	}
	idem = h.producer_id >= 0;
	buf = rp->records.p;
	if (p->topic->cfg.message_timestamp_type == BROKER_TIMESTAMP_LOG_APPEND_TIME) {
		int64_t now = wall_ms();

		stamped = stamp_append_time(buf, (size_t)rp->records.len, h.attributes, now);
		if (!stamped) {
			pslot_answer(s, TERN_ERR__NOMEM, -1);
			return;
		}
		buf = stamped;
		s->out->log_append_time_ms = now;
	}

	s->out->log_start_offset = log_start_offset(p->log);
	err =
	    bk_part_append(b, p, buf, (size_t)rp->records.len, r->acks, proto_now_ms() + timeout_ms,
			   idem ? &h : NULL, pslot_acked, s, &info, &dup_base);
	free(stamped);
	/* An exact repeat gets the offsets of the original (KIP-98). */
	if (err || dup_base >= 0)
		pslot_answer(s, err, dup_base);
	else if (r->acks == 0)
		pslot_answer(s, TERN_OK, info.base_offset);
}

void bk_handle_produce(bk_req_t *q)
{
	proto_produce_req_t req;
	proto_produce_resp_partition_t *rp;
	bk_preq_t *r;
	int32_t n = 0, k = 0;
	bool acks_ok;

	if (proto_produce_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topics_count; i++)
		n += req.topics[i].partitions_count;
	r = calloc(1, sizeof *r);
	rp = proto_arena_alloc(q->arena, n > 0 ? (size_t)n : 1, sizeof *rp);
	if (r) {
		r->rt = proto_arena_alloc(
		    q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1, sizeof *r->rt);
		r->slots = calloc(n > 0 ? (size_t)n : 1, sizeof *r->slots);
	}
	if (!r || !rp || !r->rt || !r->slots) {
		if (r)
			free(r->slots);
		free(r);
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	r->b = q->b;
	r->srv = q->srv;
	r->msg = q->msg;
	r->hdr = q->hdr;
	r->t0_us = q->t0_us;
	r->acks = req.acks;
	r->arena = q->arena;
	r->nt = req.topics_count;
	q->arena = NULL;
	atomic_init(&r->remaining, n + 1);
	acks_ok = req.acks == -1 || req.acks == 0 || req.acks == 1;

	pthread_rwlock_rdlock(&r->b->topics_lock);
	for (int32_t i = 0; i < req.topics_count; i++) {
		const proto_produce_req_topic_t *t = &req.topics[i];

		r->rt[i].name = t->name;
		r->rt[i].partitions = &rp[k];
		r->rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++, k++) {
			struct bk_pslot *s = &r->slots[k];

			s->req = r;
			s->out = &rp[k];
			rp[k].index = t->partitions[j].index;
			rp[k].base_offset = -1;
			rp[k].log_append_time_ms = -1;
			rp[k].log_start_offset = -1;
			rp[k].error_message = PROTO_NULL_STR;
			if (!acks_ok)
				pslot_answer(s, TERN_ERR_INVALID_REQUIRED_ACKS, -1);
			else
				produce_one(r, s, t->name, &t->partitions[j], req.timeout_ms);
		}
	}
	pthread_rwlock_unlock(&r->b->topics_lock);
	if (atomic_fetch_sub(&r->remaining, 1) == 1)
		preq_finish(r);
}

/* ------------------------------------------------------------------------ */
/* InitProducerId                                                             */

void bk_handle_init_producer_id(bk_req_t *q)
{
	broker_t *b = q->b;
	proto_init_producer_id_req_t req;
	proto_init_producer_id_resp_t m = {.producer_id = -1, .producer_epoch = -1};
	proto_buf_t out;
	tern_err_t err = TERN_OK;

	if (proto_init_producer_id_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	if (req.transactional_id.len >= 0) {
		/* Transactions are not served: only idempotent producers. */
		m.error_code = TERN_ERR_INVALID_REQUEST;
		goto reply;
	}
	/* Ids come in blocks from the controller, which records each block
	 * before handing it out: no id is given out twice in the cluster,
	 * across restarts too. */
	pthread_mutex_lock(&b->pid_mu);
	if (b->next_pid >= b->pid_limit) {
		int64_t start;
		int32_t len;

		err = bk_cluster_producer_ids(b, &start, &len);
		if (!err) {
			b->next_pid = start;
			b->pid_limit = start + len;
		}
	}
	if (!err) {
		m.producer_id = b->next_pid++;
		m.producer_epoch = 0;
	}
	pthread_mutex_unlock(&b->pid_mu);
	if (err) {
		bk_log('E', "pid", "no producer id block from the controller: %s",
		       tern_strerror(err));
		m.error_code = TERN_ERR_COORDINATOR_NOT_AVAILABLE;
	}
reply:
	bk_resp_begin(q, &out);
	proto_init_producer_id_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}
