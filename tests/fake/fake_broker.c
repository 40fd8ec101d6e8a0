/* tests/fake/fake_broker.c: see fake_broker.h. One thread serves the
 * socket and the parked long-poll Fetch requests; the log, the sequence
 * state, the committed offsets and the scripts are under a mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fake_broker.h"
#include "log/log.h"
#include "proto/proto.h"

#define FB_MAX_PARTS   16
#define FB_MAX_SCRIPT  32
#define FB_MAX_COMMITS 64
#define FB_MAX_PENDING 16
#define FB_MAX_API     64

/* One stored batch: its bytes with the base offset written in. */
typedef struct fb_batch {
	uint8_t *buf;
	size_t len;
	int64_t base, last, max_ts;
} fb_batch_t;

typedef struct fb_part {
	char **vals;	/* a copy of every record's value, in offset order */
	int64_t n, cap; /* n is the log end (= HWM) */
	fb_batch_t *batches;
	size_t nb, capb;
	int64_t log_start;
	bool fault; /* a one-shot fetch fault is scripted */
	fb_fetch_fault_t fault_kind;
	int16_t fault_err;
	/* Idempotence: the last batch of the one producer id. */
	int64_t pid;
	int32_t next_seq; /* expected next sequence */
	int32_t last_base_seq;
	int64_t last_base_off;
} fb_part_t;

struct fake_broker {
	char url[128];
	char topic[128];
	int32_t nparts;
	proto_server_t *srv;
	pthread_t th;
	pthread_mutex_t mu;
	volatile bool stop;
	fb_part_t parts[FB_MAX_PARTS];
	int nproduce;
	int script_at[FB_MAX_SCRIPT];
	fb_fault_t script_fault[FB_MAX_SCRIPT];
	int16_t script_err[FB_MAX_SCRIPT];
	int nscript;
	int last_codec;
	bool stalled;
	int64_t next_pid;
	int32_t epoch;
	int requests[FB_MAX_API];
	struct {
		char group[64];
		int32_t part;
		int64_t offset;
	} commits[FB_MAX_COMMITS];
	int ncommits;
	/* Fetch requests parked until data arrives or their wait ends. */
	struct fb_pending {
		proto_srv_msg_t *msg;
		proto_arena_t arena;
		proto_fetch_req_t q;
		int16_t version;
		int32_t corr;
		int64_t deadline;
	} pending[FB_MAX_PENDING];
	int npending;
};

void fb_script(fake_broker_t *fb, int nth, fb_fault_t fault, int16_t err)
{
	pthread_mutex_lock(&fb->mu);
	fb->script_at[fb->nscript] = fb->nproduce + nth;
	fb->script_fault[fb->nscript] = fault;
	fb->script_err[fb->nscript] = err;
	fb->nscript++;
	pthread_mutex_unlock(&fb->mu);
}

static fb_fault_t script_take(fake_broker_t *fb, int16_t *err)
{
	for (int i = 0; i < fb->nscript; i++)
		if (fb->script_at[i] == fb->nproduce) {
			*err = fb->script_err[i];
			return fb->script_fault[i];
		}
	return FB_NONE;
}

static void fb_log_append(fb_part_t *p, const uint8_t *batch, size_t len, int32_t *count)
{
	log_batch_iter_t *it;
	log_record_t rec;

	*count = 0;
	if (log_batch_iter_new(batch, len, 0, &it) != TERN_OK)
		return;
	while (log_batch_iter_next(it, &rec) == TERN_OK) {
		char *v = malloc((size_t)(rec.value_len > 0 ? rec.value_len : 0) + 1);

		memcpy(v, rec.value ? (const char *)rec.value : "",
		       (size_t)(rec.value_len > 0 ? rec.value_len : 0));
		v[rec.value_len > 0 ? rec.value_len : 0] = 0;
		if (p->n == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 256;
			p->vals = realloc(p->vals, (size_t)p->cap * sizeof(*p->vals));
		}
		p->vals[p->n++] = v;
		(*count)++;
	}
	log_batch_iter_free(it);
}

/* Appends one batch with the broker's idempotence rules; returns the error
 * code and the base offset. */
static int16_t append_batch(fake_broker_t *fb, int32_t idx, const uint8_t *b, size_t len,
			    int64_t *base)
{
	fb_part_t *p = &fb->parts[idx];
	log_batch_hdr_t h;
	int32_t count;

	if (log_batch_validate(b, len, &(log_validate_opts_t){.deep = true}, &h, NULL, 0))
		return TERN_ERR_CORRUPT_MESSAGE;
	fb->last_codec = log_batch_codec(&h);
	if (h.producer_id >= 0) {
		if (h.producer_id != p->pid) {
			p->pid = h.producer_id;
			p->next_seq = 0;
			p->last_base_seq = -1;
		}
		if (h.base_sequence == p->last_base_seq) {
			*base = p->last_base_off; /* an exact repeat */
			return 0;
		}
		if (h.base_sequence != p->next_seq)
			return TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
		p->last_base_seq = h.base_sequence;
		p->last_base_off = p->n;
		p->next_seq = h.base_sequence + h.records_count;
	}
	*base = p->n;
	if (p->nb == p->capb) {
		p->capb = p->capb ? 2 * p->capb : 64;
		p->batches = realloc(p->batches, p->capb * sizeof(*p->batches));
	}
	p->batches[p->nb] =
	    (fb_batch_t){malloc(len), len, p->n, p->n + h.last_offset_delta, h.max_timestamp};
	memcpy(p->batches[p->nb].buf, b, len);
	log_batch_set_base_offset(p->batches[p->nb].buf, p->n);
	log_batch_set_leader_epoch(p->batches[p->nb].buf, fb->epoch);
	p->nb++;
	fb_log_append(p, b, len, &count);
	return 0;
}

static void reply(fake_broker_t *fb, proto_srv_msg_t *msg, proto_buf_t *b)
{
	proto_server_reply(fb->srv, msg, b->p, b->len);
	proto_buf_free(b);
}

/* The epoch check of a request's current leader epoch. */
static int16_t epoch_check(fake_broker_t *fb, int32_t cur)
{
	if (cur < 0 || cur == fb->epoch)
		return 0;
	return cur < fb->epoch ? TERN_ERR_FENCED_LEADER_EPOCH : TERN_ERR_UNKNOWN_LEADER_EPOCH;
}

/* Builds the answer of a parked Fetch into b (after the response header).
 * Returns whether it has anything to say (data or an error); with force the
 * answer is written anyway. Pieces of records are malloc()ed into
 * bufs[0..*nbufs) for the caller to free after the reply. Locks: fb->mu. */
static bool fetch_build(fake_broker_t *fb, struct fb_pending *pe, proto_buf_t *b, bool force,
			uint8_t **bufs, int *nbufs)
{
	const proto_fetch_req_t *q = &pe->q;
	proto_fetch_resp_topic_t rt[8];
	proto_fetch_resp_partition_t rp[8][FB_MAX_PARTS];
	int32_t total = 0, nt = 0;
	bool say = false;

	*nbufs = 0;
	for (int32_t ti = 0; ti < q->topics_count && ti < 8; ti++) {
		const proto_fetch_req_topic_t *qt = &q->topics[ti];
		bool known = proto_str_eq(qt->topic, fb->topic);

		rt[nt] = (proto_fetch_resp_topic_t){qt->topic, rp[nt], 0};
		for (int32_t pi = 0; pi < qt->partitions_count && pi < FB_MAX_PARTS; pi++) {
			const proto_fetch_req_partition_t *qp = &qt->partitions[pi];
			proto_fetch_resp_partition_t *o = &rp[nt][rt[nt].partitions_count++];
			fb_part_t *p;
			int16_t code = 0;
			size_t k, len = 0;
			uint8_t *buf;

			*o = (proto_fetch_resp_partition_t){.partition_index = qp->partition,
							    .high_watermark = -1,
							    .last_stable_offset = -1,
							    .log_start_offset = -1,
							    .aborted_transactions_count = -1,
							    .preferred_read_replica = -1,
							    .records = {NULL, -1}};
			if (!known || qp->partition < 0 || qp->partition >= fb->nparts) {
				o->error_code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				say = true;
				continue;
			}
			p = &fb->parts[qp->partition];
			o->high_watermark = o->last_stable_offset = p->n;
			o->log_start_offset = p->log_start;
			code = epoch_check(fb, qp->current_leader_epoch);
			if (!code && p->fault && p->fault_kind == FBF_ERROR) {
				p->fault = false;
				code = p->fault_err;
			}
			if (!code && (qp->fetch_offset < p->log_start || qp->fetch_offset > p->n))
				code = TERN_ERR_OFFSET_OUT_OF_RANGE;
			if (code) {
				o->error_code = code;
				say = true;
				continue;
			}
			for (k = 0; k < p->nb; k++)
				if (p->batches[k].last >= qp->fetch_offset &&
				    p->batches[k].last >= p->log_start)
					break;
			if (k == p->nb)
				continue;
			/* Whole batches up to the byte limits; the first one of
			 * the response always (KIP-74). */
			buf = NULL;
			for (; k < p->nb; k++) {
				size_t bl = p->batches[k].len;

				if (len && (len + bl > (size_t)qp->partition_max_bytes ||
					    total + (int32_t)(len + bl) > q->max_bytes))
					break;
				if (!len && total && total + (int32_t)bl > q->max_bytes)
					break;
				buf = realloc(buf, len + bl);
				memcpy(buf + len, p->batches[k].buf, bl);
				len += bl;
			}
			if (!len)
				continue;
			if (p->fault && p->fault_kind == FBF_CORRUPT) {
				p->fault = false;
				buf[30] ^= 0x01; /* BaseTimestamp: inside the CRC's range */
			}
			bufs[(*nbufs)++] = buf;
			o->records = (proto_bytes_t){buf, (int32_t)len};
			total += (int32_t)len;
			say = true;
		}
		nt++;
	}
	if (!say && !force)
		return false;
	proto_fetch_resp_encode(b, pe->version,
				&(proto_fetch_resp_t){.topics = rt, .topics_count = nt});
	return true;
}

/* Answers the parked fetches that have something to say or whose wait
 * ended. */
static void serve_pending(fake_broker_t *fb)
{
	int64_t now = proto_now_ms();

	pthread_mutex_lock(&fb->mu);
	for (int i = 0; i < fb->npending;) {
		struct fb_pending *pe = &fb->pending[i];
		uint8_t *bufs[8 * FB_MAX_PARTS];
		int nbufs = 0;
		proto_buf_t b;
		proto_resp_hdr_t rh = {pe->corr};

		proto_buf_init(&b);
		proto_resp_hdr_encode(&b, PROTO_API_FETCH, pe->version, &rh);
		if (!fetch_build(fb, pe, &b, now >= pe->deadline, bufs, &nbufs)) {
			proto_buf_free(&b);
			i++;
			continue;
		}
		if (fb->srv)
			proto_server_reply(fb->srv, pe->msg, b.p, b.len);
		else
			proto_server_drop(pe->msg);
		proto_buf_free(&b);
		for (int k = 0; k < nbufs; k++)
			free(bufs[k]);
		proto_arena_free(&pe->arena);
		fb->pending[i] = fb->pending[--fb->npending];
	}
	pthread_mutex_unlock(&fb->mu);
}

static int64_t committed_find(fake_broker_t *fb, const char *group, int32_t part)
{
	for (int i = 0; i < fb->ncommits; i++)
		if (fb->commits[i].part == part && strcmp(fb->commits[i].group, group) == 0)
			return fb->commits[i].offset;
	return -1;
}

static void committed_set(fake_broker_t *fb, const char *group, int32_t part, int64_t off)
{
	int i;

	for (i = 0; i < fb->ncommits; i++)
		if (fb->commits[i].part == part && strcmp(fb->commits[i].group, group) == 0)
			break;
	if (i == fb->ncommits) {
		if (fb->ncommits == FB_MAX_COMMITS)
			return;
		fb->ncommits++;
		snprintf(fb->commits[i].group, sizeof(fb->commits[i].group), "%s", group);
		fb->commits[i].part = part;
	}
	fb->commits[i].offset = off;
}

/* Fetch, ListOffsets and the group APIs. Returns false for other keys.
 * Takes msg (and, for a parked Fetch, the arena) in every case it
 * handles. */
static bool handle_consumer_api(fake_broker_t *fb, proto_srv_msg_t *msg, proto_reader_t *r,
				proto_arena_t *a, const proto_req_hdr_t *h, proto_buf_t *b)
{
	char group[64];

	if (h->api_key == PROTO_API_FETCH) {
		struct fb_pending *pe;

		pthread_mutex_lock(&fb->mu);
		if (fb->npending == FB_MAX_PENDING) {
			pthread_mutex_unlock(&fb->mu);
			proto_server_drop(msg);
			proto_buf_free(b);
			return true;
		}
		pe = &fb->pending[fb->npending];
		if (proto_fetch_req_decode(r, h->api_version, &pe->q)) {
			pthread_mutex_unlock(&fb->mu);
			proto_server_drop(msg);
			proto_buf_free(b);
			return true;
		}
		/* The request's views live in the message and the arena,
		 * which the parked entry now owns. */
		pe->msg = msg;
		pe->arena = *a;
		proto_arena_init(a, 0);
		pe->version = h->api_version;
		pe->corr = h->correlation_id;
		pe->deadline = proto_now_ms() + pe->q.max_wait_ms;
		fb->npending++;
		pthread_mutex_unlock(&fb->mu);
		proto_buf_free(b);
		serve_pending(fb);
		return true;
	}
	if (h->api_key == PROTO_API_LIST_OFFSETS) {
		proto_list_offsets_req_t q;
		proto_list_offsets_resp_topic_t rt[8];
		proto_list_offsets_resp_partition_t rp[8][FB_MAX_PARTS];

		if (proto_list_offsets_req_decode(r, h->api_version, &q))
			goto drop;
		pthread_mutex_lock(&fb->mu);
		for (int32_t ti = 0; ti < q.topics_count && ti < 8; ti++) {
			rt[ti] = (proto_list_offsets_resp_topic_t){q.topics[ti].name, rp[ti], 0};
			for (int32_t pi = 0;
			     pi < q.topics[ti].partitions_count && pi < FB_MAX_PARTS; pi++) {
				const proto_list_offsets_req_partition_t *qp =
				    &q.topics[ti].partitions[pi];
				proto_list_offsets_resp_partition_t *o = &rp[ti][pi];
				fb_part_t *p;

				rt[ti].partitions_count++;
				*o = (proto_list_offsets_resp_partition_t){qp->partition_index, 0,
									   -1, -1, fb->epoch};
				if (!proto_str_eq(q.topics[ti].name, fb->topic) ||
				    qp->partition_index < 0 || qp->partition_index >= fb->nparts) {
					o->error_code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
					continue;
				}
				p = &fb->parts[qp->partition_index];
				if ((o->error_code = epoch_check(fb, qp->current_leader_epoch)))
					continue;
				if (qp->timestamp == -2) {
					o->offset = p->log_start;
				} else if (qp->timestamp == -1) {
					o->offset = p->n;
				} else {
					for (size_t k = 0; k < p->nb; k++)
						if (p->batches[k].max_ts >= qp->timestamp &&
						    p->batches[k].last >= p->log_start) {
							o->offset = p->batches[k].base;
							o->timestamp = p->batches[k].max_ts;
							break;
						}
				}
			}
		}
		pthread_mutex_unlock(&fb->mu);
		proto_list_offsets_resp_encode(
		    b, h->api_version,
		    &(proto_list_offsets_resp_t){
			.topics = rt, .topics_count = q.topics_count < 8 ? q.topics_count : 8});
		reply(fb, msg, b);
		return true;
	}
	if (h->api_key == PROTO_API_FIND_COORDINATOR) {
		proto_find_coordinator_req_t q;
		char host[64];
		int port;

		if (proto_find_coordinator_req_decode(r, h->api_version, &q))
			goto drop;
		sscanf(fb->url, "tcp://%63[^:]:%d", host, &port);
		proto_find_coordinator_resp_encode(
		    b, h->api_version,
		    &(proto_find_coordinator_resp_t){.error_message = PROTO_NULL_STR,
						     .node_id = 1,
						     .host = proto_str(host),
						     .port = port});
		reply(fb, msg, b);
		return true;
	}
	if (h->api_key == PROTO_API_OFFSET_COMMIT) {
		proto_offset_commit_req_t q;
		proto_offset_commit_topic_result_t rt[8];
		proto_offset_commit_partition_result_t rp[8][FB_MAX_PARTS];

		if (proto_offset_commit_req_decode(r, h->api_version, &q))
			goto drop;
		proto_str_copy(q.group_id, group, sizeof(group));
		pthread_mutex_lock(&fb->mu);
		for (int32_t ti = 0; ti < q.topics_count && ti < 8; ti++) {
			rt[ti] = (proto_offset_commit_topic_result_t){q.topics[ti].name, rp[ti], 0};
			for (int32_t pi = 0;
			     pi < q.topics[ti].partitions_count && pi < FB_MAX_PARTS; pi++) {
				const proto_offset_commit_partition_t *qp =
				    &q.topics[ti].partitions[pi];

				rp[ti][pi] = (proto_offset_commit_partition_result_t){
				    qp->partition_index, 0};
				rt[ti].partitions_count++;
				if (proto_str_eq(q.topics[ti].name, fb->topic))
					committed_set(fb, group, qp->partition_index,
						      qp->committed_offset);
				else
					rp[ti][pi].error_code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			}
		}
		pthread_mutex_unlock(&fb->mu);
		proto_offset_commit_resp_encode(
		    b, h->api_version,
		    &(proto_offset_commit_resp_t){
			.topics = rt, .topics_count = q.topics_count < 8 ? q.topics_count : 8});
		reply(fb, msg, b);
		return true;
	}
	if (h->api_key == PROTO_API_OFFSET_FETCH) {
		proto_offset_fetch_req_t q;
		proto_offset_fetch_topic_t rt[8];
		proto_offset_fetch_partition_t rp[8][FB_MAX_PARTS];
		int32_t nt = 0;

		if (proto_offset_fetch_req_decode(r, h->api_version, &q))
			goto drop;
		proto_str_copy(q.group_id, group, sizeof(group));
		pthread_mutex_lock(&fb->mu);
		for (int32_t ti = 0; ti < q.topics_count && ti < 8; ti++, nt++) {
			rt[ti] = (proto_offset_fetch_topic_t){q.topics[ti].topic, rp[ti], 0};
			for (int32_t pi = 0;
			     pi < q.topics[ti].partitions_count && pi < FB_MAX_PARTS; pi++) {
				int32_t id = q.topics[ti].partitions[pi];

				rp[ti][pi] = (proto_offset_fetch_partition_t){
				    id,
				    proto_str_eq(q.topics[ti].topic, fb->topic)
					? committed_find(fb, group, id)
					: -1,
				    -1, PROTO_STR(""), 0};
				rt[ti].partitions_count++;
			}
		}
		pthread_mutex_unlock(&fb->mu);
		proto_offset_fetch_resp_encode(
		    b, h->api_version,
		    &(proto_offset_fetch_resp_t){.topics = rt, .topics_count = nt});
		reply(fb, msg, b);
		return true;
	}
	return false;
drop:
	proto_server_drop(msg);
	proto_buf_free(b);
	return true;
}

static void handle(fake_broker_t *fb, proto_srv_msg_t *msg)
{
	size_t len;
	const uint8_t *data = proto_srv_msg_data(msg, &len);
	proto_limits_t lim;
	proto_arena_t a;
	proto_reader_t r;
	proto_req_hdr_t h;
	proto_buf_t b;
	proto_resp_hdr_t rh;

	proto_limits_default(&lim);
	proto_arena_init(&a, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(&r, data, len, &lim, &a);
	if (proto_req_hdr_decode(&r, &h)) {
		proto_server_drop(msg);
		goto out;
	}
	rh.correlation_id = h.correlation_id;
	pthread_mutex_lock(&fb->mu);
	if (h.api_key >= 0 && h.api_key < FB_MAX_API)
		fb->requests[h.api_key]++;
	pthread_mutex_unlock(&fb->mu);
	proto_buf_init(&b);
	proto_resp_hdr_encode(&b, h.api_key, h.api_version, &rh);
	if (handle_consumer_api(fb, msg, &r, &a, &h, &b)) {
		goto out;
	} else if (h.api_key == PROTO_API_API_VERSIONS) {
		size_t n;
		const proto_api_info_t *t = proto_api_table(&n);
		proto_api_version_t v[32];
		proto_api_versions_resp_t m = {0};

		for (size_t i = 0; i < n && i < 32; i++)
			v[i] = (proto_api_version_t){t[i].key, t[i].min_version, t[i].max_version};
		m.api_keys = v;
		m.api_keys_count = (int32_t)(n < 32 ? n : 32);
		proto_api_versions_resp_encode(&b, h.api_version, &m);
		reply(fb, msg, &b);
	} else if (h.api_key == PROTO_API_METADATA) {
		proto_metadata_req_t q;
		proto_metadata_broker_t br = {0};
		proto_metadata_partition_t ps[FB_MAX_PARTS];
		proto_metadata_topic_t tp[8];
		int32_t node = 1, nt = 0;
		char host[64];
		int port;

		proto_metadata_req_decode(&r, h.api_version, &q);
		sscanf(fb->url, "tcp://%63[^:]:%d", host, &port);
		br = (proto_metadata_broker_t){1, proto_str(host), port, PROTO_NULL_STR};
		for (int32_t i = 0; i < fb->nparts; i++)
			ps[i] = (proto_metadata_partition_t){0, i,     1, fb->epoch, &node,
							     1, &node, 1, NULL,	     0};
		for (int32_t i = 0; i < q.topics_count && i < 8; i++) {
			tp[nt] = (proto_metadata_topic_t){.name = q.topics[i]};
			if (proto_str_eq(q.topics[i], fb->topic)) {
				tp[nt].partitions = ps;
				tp[nt].partitions_count = fb->nparts;
			} else {
				tp[nt].error_code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			}
			nt++;
		}
		proto_metadata_resp_encode(&b, h.api_version,
					   &(proto_metadata_resp_t){.brokers = &br,
								    .brokers_count = 1,
								    .cluster_id = PROTO_NULL_STR,
								    .controller_id = 1,
								    .topics = tp,
								    .topics_count = nt});
		reply(fb, msg, &b);
	} else if (h.api_key == PROTO_API_INIT_PRODUCER_ID) {
		proto_init_producer_id_resp_t m = {0};

		pthread_mutex_lock(&fb->mu);
		m.producer_id = fb->next_pid++;
		pthread_mutex_unlock(&fb->mu);
		m.producer_epoch = 0;
		proto_init_producer_id_resp_encode(&b, h.api_version, &m);
		reply(fb, msg, &b);
	} else if (h.api_key == PROTO_API_PRODUCE) {
		proto_produce_req_t q;
		proto_produce_resp_topic_t rt[8];
		proto_produce_resp_partition_t rp[8][FB_MAX_PARTS];
		fb_fault_t fault;
		int16_t ferr = 0;

		if (proto_produce_req_decode(&r, h.api_version, &q)) {
			proto_server_drop(msg);
			proto_buf_free(&b);
			goto out;
		}
		pthread_mutex_lock(&fb->mu);
		if (fb->stalled) {
			pthread_mutex_unlock(&fb->mu);
			proto_server_drop(msg);
			proto_buf_free(&b);
			goto out;
		}
		fault = script_take(fb, &ferr);
		fb->nproduce++;
		for (int32_t ti = 0; ti < q.topics_count && ti < 8; ti++) {
			rt[ti].name = q.topics[ti].name;
			rt[ti].partitions = rp[ti];
			rt[ti].partitions_count = q.topics[ti].partitions_count;
			for (int32_t pi = 0; pi < q.topics[ti].partitions_count; pi++) {
				const proto_produce_req_partition_t *qp =
				    &q.topics[ti].partitions[pi];
				proto_produce_resp_partition_t *o = &rp[ti][pi];
				int64_t base = -1;
				int16_t code = 0;

				*o = (proto_produce_resp_partition_t){.index = qp->index,
								      .log_append_time_ms = -1,
								      .log_start_offset = 0,
								      .error_message =
									  PROTO_NULL_STR};
				if (qp->index < 0 || qp->index >= fb->nparts)
					code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				else if (fault == FB_ERROR)
					code = ferr;
				else if (fault == FB_OUT_OF_ORDER)
					code = TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
				else
					code = append_batch(fb, qp->index, qp->records.p,
							    (size_t)qp->records.len, &base);
				if (!code && fault == FB_ERROR_APPEND)
					code = ferr;
				o->error_code = code;
				o->base_offset = code ? -1 : base;
			}
		}
		if (fault == FB_STALL)
			fb->stalled = true;
		pthread_mutex_unlock(&fb->mu);
		proto_produce_resp_encode(
		    &b, h.api_version,
		    &(proto_produce_resp_t){.topics = rt, .topics_count = q.topics_count});
		if (fault == FB_DROP_REPLY || fault == FB_STALL) {
			proto_server_drop(msg);
			proto_buf_free(&b);
		} else if (fault == FB_CLOSE) {
			proto_server_drop(msg);
			proto_buf_free(&b);
			proto_server_close(fb->srv);
			fb->srv = NULL;
			while (!fb->srv && !fb->stop)
				proto_server_new(fb->url, NULL, &fb->srv, NULL, 0);
		} else {
			reply(fb, msg, &b);
		}
	} else {
		proto_server_drop(msg);
		proto_buf_free(&b);
	}
out:
	proto_arena_free(&a);
}

static void *serve(void *arg)
{
	fake_broker_t *fb = arg;

	while (!fb->stop) {
		proto_srv_msg_t *msg;

		if (fb->srv && proto_server_recv(fb->srv, 5, &msg) == TERN_OK)
			handle(fb, msg);
		serve_pending(fb);
	}
	return NULL;
}

fake_broker_t *fb_start(const char *url, const char *topic, int32_t nparts)
{
	fake_broker_t *fb = calloc(1, sizeof(*fb));

	snprintf(fb->url, sizeof(fb->url), "%s", url);
	snprintf(fb->topic, sizeof(fb->topic), "%s", topic);
	fb->nparts = nparts;
	fb->next_pid = 1000;
	for (int i = 0; i < FB_MAX_PARTS; i++)
		fb->parts[i] = (fb_part_t){.pid = -1, .last_base_seq = -1};
	pthread_mutex_init(&fb->mu, NULL);
	if (proto_server_new(url, NULL, &fb->srv, NULL, 0) != TERN_OK) {
		free(fb);
		return NULL;
	}
	pthread_create(&fb->th, NULL, serve, fb);
	return fb;
}

void fb_stop(fake_broker_t *fb)
{
	fb->stop = true;
	pthread_join(fb->th, NULL);
	if (fb->srv)
		proto_server_close(fb->srv);
	for (int i = 0; i < fb->npending; i++) {
		proto_server_drop(fb->pending[i].msg);
		proto_arena_free(&fb->pending[i].arena);
	}
	for (int i = 0; i < FB_MAX_PARTS; i++) {
		for (int64_t k = 0; k < fb->parts[i].n; k++)
			free(fb->parts[i].vals[k]);
		free(fb->parts[i].vals);
		for (size_t k = 0; k < fb->parts[i].nb; k++)
			free(fb->parts[i].batches[k].buf);
		free(fb->parts[i].batches);
	}
	pthread_mutex_destroy(&fb->mu);
	free(fb);
}

char **fb_log(fake_broker_t *fb, int32_t part, int64_t *n)
{
	pthread_mutex_lock(&fb->mu);
	*n = fb->parts[part].n;
	pthread_mutex_unlock(&fb->mu);
	return fb->parts[part].vals;
}

int fb_produce_count(fake_broker_t *fb)
{
	int n;

	pthread_mutex_lock(&fb->mu);
	n = fb->nproduce;
	pthread_mutex_unlock(&fb->mu);
	return n;
}

int fb_last_codec(fake_broker_t *fb)
{
	return fb->last_codec;
}

int64_t fb_append(fake_broker_t *fb, int32_t part, const uint8_t *batch, size_t len)
{
	int64_t base = -1;

	pthread_mutex_lock(&fb->mu);
	if (append_batch(fb, part, batch, len, &base) != 0)
		base = -1;
	pthread_mutex_unlock(&fb->mu);
	return base;
}

int64_t fb_end_offset(fake_broker_t *fb, int32_t part)
{
	int64_t n;

	pthread_mutex_lock(&fb->mu);
	n = fb->parts[part].n;
	pthread_mutex_unlock(&fb->mu);
	return n;
}

void fb_set_log_start(fake_broker_t *fb, int32_t part, int64_t off)
{
	pthread_mutex_lock(&fb->mu);
	fb->parts[part].log_start = off;
	pthread_mutex_unlock(&fb->mu);
}

void fb_set_leader_epoch(fake_broker_t *fb, int32_t epoch)
{
	pthread_mutex_lock(&fb->mu);
	fb->epoch = epoch;
	pthread_mutex_unlock(&fb->mu);
}

void fb_fetch_fault(fake_broker_t *fb, int32_t part, fb_fetch_fault_t fault, int16_t err)
{
	pthread_mutex_lock(&fb->mu);
	fb->parts[part].fault = true;
	fb->parts[part].fault_kind = fault;
	fb->parts[part].fault_err = err;
	pthread_mutex_unlock(&fb->mu);
}

int64_t fb_committed(fake_broker_t *fb, const char *group, int32_t part)
{
	int64_t off;

	pthread_mutex_lock(&fb->mu);
	off = committed_find(fb, group, part);
	pthread_mutex_unlock(&fb->mu);
	return off;
}

int fb_request_count(fake_broker_t *fb, int16_t api_key)
{
	int n;

	pthread_mutex_lock(&fb->mu);
	n = api_key >= 0 && api_key < FB_MAX_API ? fb->requests[api_key] : 0;
	pthread_mutex_unlock(&fb->mu);
	return n;
}
