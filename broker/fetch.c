/* broker/fetch.c: Fetch (v4-11) with long polls, and ListOffsets (v1-5).
 * Consumers read only below the HWM; records go out without a copy of
 * ours (proto_fetch_resp_encode_iov, proto_server_replyv). A fetch that
 * finds less than min_bytes is parked and retried by the timer thread when
 * a HWM moves, until its max_wait passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

struct bk_fetch {
	bk_fetch_t *next;
	broker_t *b;
	proto_server_t *srv;
	proto_srv_msg_t *msg;
	proto_req_hdr_t hdr;
	int64_t t0_us;
	proto_arena_t *arena;
	proto_fetch_req_t req;
	int64_t deadline_ms;
};

/* A corrupt or failing log fails every read the same way, dozens a
 * millisecond while consumers retry: one line per partition per
 * BK_ERRLOG_MS. */
static void log_read_error(bk_part_t *p, const char *why)
{
	long skipped = 0;
	bool due;

	pthread_mutex_lock(&p->mu);
	due = bk_errlog_due(&p->read_errlog, proto_now_ms(), &skipped);
	pthread_mutex_unlock(&p->mu);
	if (due)
		bk_log('E', "fetch", "%s (%ld more since the last report)", why, skipped);
}

static void fetch_free(bk_fetch_t *f)
{
	proto_arena_free(f->arena);
	free(f->arena);
	free(f);
}

/* Reads one partition into rp, within limit bytes unless first. Returns
 * the bytes read (0 when none). topics_lock held (read). */
static size_t read_part(bk_fetch_t *f, const proto_fetch_req_partition_t *fp, proto_str_t topic,
			proto_fetch_resp_partition_t *rp, size_t limit, bool first, uint8_t **keep)
{
	bk_part_t *p = bk_part_find(f->b, topic, fp->partition);
	int32_t cur = f->hdr.api_version >= 9 ? fp->current_leader_epoch : ISR_NO_EPOCH;
	int64_t upper;
	log_read_result_t rr;
	tern_err_t err;
	bool throttled = false;
	char why[256] = "";

	rp->partition_index = fp->partition;
	rp->high_watermark = -1;
	rp->last_stable_offset = -1;
	rp->log_start_offset = -1;
	rp->aborted_transactions_count = -1;
	rp->preferred_read_replica = -1;
	rp->records = (proto_bytes_t){NULL, -1};
	if (!p) {
		rp->error_code = (int16_t)bk_part_missing(f->b, topic, fp->partition);
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	if (f->req.replica_id >= 0) {
		/* A follower reads up to the LEO; its fetch is its progress. */
		isr_decisions_t d;

		err = isr_follower_fetch(
		    &p->isr, f->req.replica_id, fp->current_leader_epoch, fp->fetch_offset,
		    bk_replica_client_epoch(f->hdr.client_id), proto_now_ms(), &d);
		if (!err)
			bk_part_apply(f->b, p, &d);
		upper = INT64_MAX;
		throttled = !isr_set_contains(&p->isr.isr, f->req.replica_id);
	} else {
		err = isr_check_epoch(&p->isr, cur, true);
		upper = p->isr.hwm;
	}
	rp->high_watermark = p->isr.hwm;
	rp->last_stable_offset = p->isr.hwm;
	pthread_mutex_unlock(&p->mu);
	rp->log_start_offset = log_start_offset(p->log);
	if (err) {
		rp->error_code = (int16_t)err;
		return 0;
	}
	if (fp->partition_max_bytes < 0) {
		rp->error_code = TERN_ERR_INVALID_FETCH_SIZE;
		return 0;
	}
	if (throttled) {
		/* A follower catching up from outside the ISR gets what the
		 * replication budget allows, not the first-batch exception. */
		limit = bk_throttle_allow(f->b, limit);
		first = false;
	}
	if (!first && limit == 0)
		return 0;
	err = log_read(p->log, fp->fetch_offset, limit ? limit : 1, upper, &rr, why, sizeof why);
	if (err) {
		if (err == TERN_ERR_KAFKA_STORAGE_ERROR)
			log_read_error(p, why);
		if (err == TERN_ERR_KAFKA_STORAGE_ERROR && bk_part_mark_corrupt(p))
			bk_cluster_health(f->b, p, true);
		rp->error_code =
		    (int16_t)(err == TERN_ERR_OFFSET_OUT_OF_RANGE ? err
								  : TERN_ERR_KAFKA_STORAGE_ERROR);
		return 0;
	}
	if (rr.len == 0 || (!first && rr.len > limit)) {
		free(rr.buf);
		return 0;
	}
	rp->records = (proto_bytes_t){rr.data, (int32_t)rr.len};
	*keep = rr.buf;
	if (throttled)
		bk_throttle_used(f->b, rr.len);
	return rr.len;
}

/* Answers f if it has enough (or force): true when answered (f is then
 * the caller's to free). */
static bool fetch_try(bk_fetch_t *f, bool force)
{
	broker_t *b = f->b;
	const proto_fetch_req_t *req = &f->req;
	proto_fetch_resp_topic_t *rt = NULL;
	proto_fetch_resp_partition_t *rp = NULL;
	proto_fetch_resp_t m = {0};
	uint8_t **bufs = NULL;
	proto_iov_t *iov = NULL;
	size_t n = 0, k = 0, total = 0, left, niov;
	bool errors = false, answered = false;
	proto_buf_t out;
	bk_req_t q = {.b = b, .srv = f->srv, .msg = f->msg, .hdr = f->hdr};

	for (int32_t i = 0; i < req->topics_count; i++)
		n += (size_t)req->topics[i].partitions_count;
	rt = calloc(req->topics_count > 0 ? (size_t)req->topics_count : 1, sizeof *rt);
	rp = calloc(n ? n : 1, sizeof *rp);
	bufs = calloc(n ? n : 1, sizeof *bufs);
	if (!rt || !rp || !bufs) {
		force = true;
		errors = true;
		n = 0;
		goto send;
	}
	left = req->max_bytes > 0 ? (size_t)req->max_bytes : 0;
	pthread_rwlock_rdlock(&b->topics_lock);
	for (int32_t i = 0; i < req->topics_count; i++) {
		const proto_fetch_req_topic_t *t = &req->topics[i];

		rt[i].topic = t->topic;
		rt[i].partitions = &rp[k];
		rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++, k++) {
			const proto_fetch_req_partition_t *fp = &t->partitions[j];
			size_t limit =
			    fp->partition_max_bytes > 0 ? (size_t)fp->partition_max_bytes : 0;
			size_t got;

			if (limit > left)
				limit = left;
			/* KIP-74: the first batch of the response goes out
			 * whatever its size, so a consumer always progresses. */
			got = read_part(f, fp, t->topic, &rp[k], limit, total == 0, &bufs[k]);
			total += got;
			left = got >= left ? 0 : left - got;
			errors |= rp[k].error_code != 0;
		}
	}
	pthread_rwlock_unlock(&b->topics_lock);
	m.topics = rt;
	m.topics_count = req->topics_count;
	if (!force && !errors && total < (size_t)(req->min_bytes > 0 ? req->min_bytes : 0) &&
	    proto_now_ms() < f->deadline_ms)
		goto out;
send:
	answered = true;
	bk_resp_begin(&q, &out);
	niov = proto_fetch_resp_iov_max(&m);
	iov = calloc(niov ? niov : 1, sizeof *iov);
	niov = iov ? proto_fetch_resp_encode_iov(&out, f->hdr.api_version, &m, iov) : 0;
	if (niov == 0) {
		bk_log('E', "fetch", "could not encode a fetch response (out of memory)");
		proto_server_drop(f->msg);
	} else {
		tern_err_t err = proto_server_replyv(f->srv, f->msg, iov, niov);

		if (err)
			bk_log('W', "fetch", "reply not sent: %s", tern_strerror(err));
	}
	proto_buf_free(&out);
	if (req->replica_id < 0)
		metrics_histogram_observe(b->stats.fetch_latency, bk_seconds_since(f->t0_us));
	else
		metrics_counter_add(b->stats.repl_out, total);
out:
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
	free(iov);
	free(bufs);
	free(rp);
	free(rt);
	return answered;
}

void bk_handle_fetch(bk_req_t *q)
{
	bk_fetch_t *f;

	f = calloc(1, sizeof *f);
	if (!f) {
		proto_server_drop(q->msg);
		return;
	}
	if (proto_fetch_req_decode(&q->rd, q->hdr.api_version, &f->req) != TERN_OK) {
		free(f);
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	f->b = q->b;
	f->srv = q->srv;
	f->msg = q->msg;
	f->hdr = q->hdr;
	f->t0_us = q->t0_us;
	f->arena = q->arena;
	q->arena = NULL;
	f->deadline_ms = proto_now_ms() + (f->req.max_wait_ms > 0 ? f->req.max_wait_ms : 0);
	if (fetch_try(f, f->req.max_wait_ms <= 0 || atomic_load(&q->b->stopping))) {
		fetch_free(f);
		return;
	}
	pthread_mutex_lock(&q->b->park_mu);
	f->next = q->b->parked;
	q->b->parked = f;
	q->b->kick = true;
	pthread_cond_signal(&q->b->park_cond);
	pthread_mutex_unlock(&q->b->park_mu);
}

void bk_fetch_retry_parked(broker_t *b, bool force)
{
	bk_fetch_t *list, *keep = NULL, *f;

	pthread_mutex_lock(&b->park_mu);
	list = b->parked;
	b->parked = NULL;
	pthread_mutex_unlock(&b->park_mu);
	while ((f = list)) {
		list = f->next;
		if (fetch_try(f, force || proto_now_ms() >= f->deadline_ms)) {
			fetch_free(f);
		} else {
			f->next = keep;
			keep = f;
		}
	}
	if (!keep)
		return;
	pthread_mutex_lock(&b->park_mu);
	for (f = keep; f->next; f = f->next)
		;
	f->next = b->parked;
	b->parked = keep;
	pthread_mutex_unlock(&b->park_mu);
}

/* ------------------------------------------------------------------------ */
/* ListOffsets                                                                */

/* The timestamp of the record at offset (the first with a timestamp >= the
 * one asked for), or -1 when it cannot be read. */
static int64_t record_timestamp(log_t *l, int64_t offset)
{
	log_read_result_t rr;
	log_batch_iter_t *it;
	log_record_t rec;
	int64_t ts = -1;

	if (log_read(l, offset, 1, INT64_MAX, &rr, NULL, 0) != TERN_OK)
		return -1;
	if (rr.len && log_batch_iter_new(rr.data, rr.len, 0, &it) == TERN_OK) {
		while (log_batch_iter_next(it, &rec) == TERN_OK) {
			if (rec.offset == offset) {
				ts = rec.timestamp;
				break;
			}
		}
		log_batch_iter_free(it);
	}
	free(rr.buf);
	return ts;
}

static void list_one(broker_t *b, int16_t version, int32_t replica_id, proto_str_t topic,
		     const proto_list_offsets_req_partition_t *lp,
		     proto_list_offsets_resp_partition_t *out)
{
	bk_part_t *p = bk_part_find(b, topic, lp->partition_index);
	int32_t cur = version >= 4 ? lp->current_leader_epoch : ISR_NO_EPOCH;
	int64_t hwm, off = -1;
	tern_err_t err;

	out->partition_index = lp->partition_index;
	out->timestamp = -1;
	out->offset = -1;
	out->leader_epoch = -1;
	if (!p) {
		out->error_code = (int16_t)bk_part_missing(b, topic, lp->partition_index);
		return;
	}
	pthread_mutex_lock(&p->mu);
	err = isr_check_epoch(&p->isr, cur, true);
	/* Latest is the HWM for consumers (-1) and, as in Kafka, the LEO for a
	 * follower or a debugging client (-2: `tern topic describe`). */
	if (!err && lp->timestamp == -1 && replica_id != -1)
		off = log_end_offset(p->log);
	else if (!err && lp->timestamp == -1)
		err = isr_list_latest(&p->isr, cur, &off);
	hwm = p->isr.hwm;
	out->leader_epoch = p->isr.leader_epoch;
	pthread_mutex_unlock(&p->mu);
	if (err) {
		out->error_code = (int16_t)err;
		return;
	}
	if (lp->timestamp == -2) {
		off = log_start_offset(p->log);
	} else if (lp->timestamp >= 0) {
		err = log_offset_for_timestamp(p->log, lp->timestamp, &off);
		if (err == TERN_ERR__END || (!err && off >= hwm)) {
			off = -1;
		} else if (err) {
			out->error_code = TERN_ERR_KAFKA_STORAGE_ERROR;
			return;
		} else {
			out->timestamp = record_timestamp(p->log, off);
		}
	} else if (lp->timestamp != -1) {
		out->error_code = TERN_ERR_INVALID_REQUEST;
		return;
	}
	out->offset = off;
}

void bk_handle_list_offsets(bk_req_t *q)
{
	proto_list_offsets_req_t req;
	proto_list_offsets_resp_t m = {0};
	proto_list_offsets_resp_topic_t *rt;
	proto_buf_t out;

	if (proto_list_offsets_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	rt = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
			       sizeof *rt);
	if (!rt) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_rdlock(&q->b->topics_lock);
	for (int32_t i = 0; i < req.topics_count; i++) {
		const proto_list_offsets_req_topic_t *t = &req.topics[i];
		proto_list_offsets_resp_partition_t *rp = proto_arena_alloc(
		    q->arena, t->partitions_count > 0 ? (size_t)t->partitions_count : 1,
		    sizeof *rp);

		rt[i].name = t->name;
		if (!rp)
			continue;
		rt[i].partitions = rp;
		rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++)
			list_one(q->b, q->hdr.api_version, req.replica_id, t->name,
				 &t->partitions[j], &rp[j]);
	}
	pthread_rwlock_unlock(&q->b->topics_lock);
	m.topics = rt;
	m.topics_count = req.topics_count;
	bk_resp_begin(&*q, &out);
	proto_list_offsets_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* OffsetForLeaderEpoch                                                       */

/* The leader's answer for one partition (KIP-101, KIP-279): its largest
 * epoch <= the one asked and where that epoch ends here. */
static void ofle_one(broker_t *b, proto_str_t topic, const proto_ofle_req_partition_t *rq,
		     proto_ofle_resp_partition_t *out)
{
	bk_part_t *p = bk_part_find(b, topic, rq->partition);
	tern_err_t err;

	out->partition = rq->partition;
	out->leader_epoch = -1;
	out->end_offset = -1;
	if (!p) {
		out->error_code = (int16_t)bk_part_missing(b, topic, rq->partition);
		return;
	}
	pthread_mutex_lock(&p->mu);
	err = isr_check_epoch(&p->isr, rq->current_leader_epoch, true);
	pthread_mutex_unlock(&p->mu);
	if (err) {
		out->error_code = (int16_t)err;
		return;
	}
	log_end_offset_for_epoch(p->log, rq->leader_epoch, &out->leader_epoch, &out->end_offset);
}

void bk_handle_offset_for_leader_epoch(bk_req_t *q)
{
	proto_ofle_req_t req;
	proto_ofle_resp_t m = {0};
	proto_ofle_resp_topic_t *rt;
	proto_buf_t out;

	if (proto_ofle_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	rt = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
			       sizeof *rt);
	if (!rt) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_rdlock(&q->b->topics_lock);
	for (int32_t i = 0; i < req.topics_count; i++) {
		const proto_ofle_req_topic_t *t = &req.topics[i];
		proto_ofle_resp_partition_t *rp = proto_arena_alloc(
		    q->arena, t->partitions_count > 0 ? (size_t)t->partitions_count : 1,
		    sizeof *rp);

		rt[i].topic = t->topic;
		if (!rp)
			continue;
		rt[i].partitions = rp;
		rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++)
			ofle_one(q->b, t->topic, &t->partitions[j], &rp[j]);
	}
	m.topics = rt;
	m.topics_count = req.topics_count;
	bk_resp_begin(q, &out);
	proto_ofle_resp_encode(&out, q->hdr.api_version, &m);
	pthread_rwlock_unlock(&q->b->topics_lock);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* The replication budget of followers outside the ISR                       */

/* Refills the bucket (at most one second of the rate). throttle_mu held. */
static void throttle_refill(broker_t *b)
{
	int64_t now = proto_now_ms();
	double rate = (double)b->cfg->leader_replication_throttled_rate;

	if (b->throttle_ms == 0)
		b->throttle_tokens = rate;
	else
		b->throttle_tokens += rate * (double)(now - b->throttle_ms) / 1000.0;
	if (b->throttle_tokens > rate)
		b->throttle_tokens = rate;
	b->throttle_ms = now;
}

size_t bk_throttle_allow(broker_t *b, size_t want)
{
	size_t got;

	if (b->cfg->leader_replication_throttled_rate == INT64_MAX)
		return want;
	pthread_mutex_lock(&b->throttle_mu);
	throttle_refill(b);
	if (b->throttle_tokens <= 0)
		got = 0;
	else if ((double)want < b->throttle_tokens)
		got = want;
	else
		got = (size_t)b->throttle_tokens;
	pthread_mutex_unlock(&b->throttle_mu);
	return got;
}

void bk_throttle_used(broker_t *b, size_t n)
{
	if (b->cfg->leader_replication_throttled_rate == INT64_MAX)
		return;
	pthread_mutex_lock(&b->throttle_mu);
	b->throttle_tokens -= (double)n;
	pthread_mutex_unlock(&b->throttle_mu);
}
