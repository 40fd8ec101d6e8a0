/* tests/producer/fake_broker.c: see fake_broker.h. One thread serves the
 * socket; the log, the sequence state and the script are under a mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fake_broker.h"
#include "log/log.h"
#include "proto/proto.h"

#define FB_MAX_PARTS  16
#define FB_MAX_SCRIPT 32

typedef struct fb_part {
	char **vals;
	int64_t n, cap;
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
	fb_log_append(p, b, len, &count);
	return 0;
}

static void reply(fake_broker_t *fb, proto_srv_msg_t *msg, proto_buf_t *b)
{
	proto_server_reply(fb->srv, msg, b->p, b->len);
	proto_buf_free(b);
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
	proto_buf_init(&b);
	proto_resp_hdr_encode(&b, h.api_key, h.api_version, &rh);
	if (h.api_key == PROTO_API_API_VERSIONS) {
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
			ps[i] = (proto_metadata_partition_t){0, i, 1, 0, &node, 1, &node, 1, NULL, 0};
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
				const proto_produce_req_partition_t *qp = &q.topics[ti].partitions[pi];
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
		proto_produce_resp_encode(&b, h.api_version,
					  &(proto_produce_resp_t){.topics = rt,
								  .topics_count = q.topics_count});
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

		if (!fb->srv || proto_server_recv(fb->srv, 50, &msg) != TERN_OK)
			continue;
		handle(fb, msg);
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
	for (int i = 0; i < FB_MAX_PARTS; i++) {
		for (int64_t k = 0; k < fb->parts[i].n; k++)
			free(fb->parts[i].vals[k]);
		free(fb->parts[i].vals);
	}
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
