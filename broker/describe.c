/* broker/describe.c: DescribePartitions (the live state of the partitions
 * this broker leads, from their state machines) and DescribeCluster (the
 * brokers and offline partitions of this broker's latest image): what
 * `tern topic describe`, `tern topic list --under-replicated` and `tern
 * cluster status` show. */
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

/* ------------------------------------------------------------------------ */
/* DescribePartitions                                                         */

/* The arrays one partition's answer points into. */
typedef struct dp_slot {
	int32_t isr[ISR_MAX_REPLICAS];
	proto_describe_partitions_replica_t rep[ISR_MAX_REPLICAS];
} dp_slot_t;

/* The answer being built. The arrays are malloc()ed rather than taken from
 * the request's arena: a request for every partition is a few bytes, its
 * answer as large as the broker's share of the cluster. */
typedef struct dp_out {
	proto_describe_partitions_topic_result_t *topics;
	int32_t ntopics;
	proto_describe_partitions_partition_t *parts;
	dp_slot_t *slots;
	size_t nparts, cap;
} dp_out_t;

/* A partition that carries only an error. */
static void dp_error(proto_describe_partitions_partition_t *r, int32_t index, tern_err_t err)
{
	memset(r, 0, sizeof *r);
	r->partition_index = index;
	r->error_code = (int16_t)err;
	r->leader_id = -1;
	r->leader_epoch = -1;
	r->log_start_offset = -1;
	r->high_watermark = -1;
	r->log_end_offset = -1;
	r->mode = ISR_MODE_OFFLINE;
}

/* Fills r from p's state machine when this broker leads p, else with
 * NOT_LEADER_OR_FOLLOWER; true when it leads. Takes p->mu; topics_lock
 * held (read). */
static bool dp_fill(bk_part_t *p, int64_t now, proto_describe_partitions_partition_t *r,
		    dp_slot_t *slot)
{
	const isr_partition_t *s = &p->isr;

	pthread_mutex_lock(&p->mu);
	if (s->role != ISR_ROLE_LEADER) {
		pthread_mutex_unlock(&p->mu);
		dp_error(r, p->index, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
		return false;
	}
	memset(r, 0, sizeof *r);
	r->partition_index = p->index;
	r->leader_id = s->self;
	r->leader_epoch = s->leader_epoch;
	memcpy(slot->isr, s->isr.id, (size_t)s->isr.n * sizeof slot->isr[0]);
	r->isr = slot->isr;
	r->isr_count = s->isr.n;
	r->log_start_offset = log_start_offset(p->log);
	r->high_watermark = s->hwm;
	r->log_end_offset = s->leo;
	r->mode = (int8_t)isr_partition_mode(s);
	for (int32_t k = 0; k < s->nreplicas; k++) {
		proto_describe_partitions_replica_t *rep = &slot->rep[k];
		int64_t offs, ms;

		rep->broker_id = s->replicas[k];
		if (s->replicas[k] == s->self) {
			/* The leader's own: its LEO, nothing behind. */
			rep->log_end_offset = s->leo;
			rep->lag = 0;
			rep->caught_up_ms_ago = 0;
		} else if (isr_follower_lag(s, s->replicas[k], now, &offs, &ms) == TERN_OK) {
			rep->log_end_offset = s->r[k].leo;
			rep->lag = offs < 0 ? -1 : offs;
			rep->caught_up_ms_ago = ms < 0 ? -1 : ms;
		} else {
			rep->log_end_offset = rep->lag = rep->caught_up_ms_ago = -1;
		}
	}
	r->replicas = slot->rep;
	r->replicas_count = s->nreplicas;
	pthread_mutex_unlock(&p->mu);
	return true;
}

/* Room for n more partitions; false when out of memory. */
static bool dp_reserve(dp_out_t *o, size_t n)
{
	proto_describe_partitions_partition_t *parts;
	dp_slot_t *slots;
	size_t cap;

	if (o->nparts + n <= o->cap)
		return true;
	cap = o->cap ? o->cap : 16;
	while (cap < o->nparts + n)
		cap *= 2;
	parts = realloc(o->parts, cap * sizeof *parts);
	if (!parts)
		return false;
	o->parts = parts;
	slots = realloc(o->slots, cap * sizeof *slots);
	if (!slots)
		return false;
	o->slots = slots;
	o->cap = cap;
	return true;
}

/* The partitions and slots moved with each realloc: the pointers into
 * them are set once everything is collected. Topic i's partitions start at
 * first[i]; isr and replicas point into slot k for partition k. */
static void dp_link(dp_out_t *o, const size_t *first)
{
	for (int32_t i = 0; i < o->ntopics; i++)
		o->topics[i].partitions = o->parts + first[i];
	for (size_t k = 0; k < o->nparts; k++) {
		if (o->parts[k].isr_count > 0)
			o->parts[k].isr = o->slots[k].isr;
		if (o->parts[k].replicas_count > 0)
			o->parts[k].replicas = o->slots[k].rep;
	}
}

/* Adds partition j of t to the answer; with led_only, only when this
 * broker leads it (a request that named no partitions). topics_lock held
 * (read). */
static bool dp_add(broker_t *b, dp_out_t *o, bk_topic_t *t, int32_t j, bool led_only, int64_t now)
{
	proto_describe_partitions_partition_t r;
	dp_slot_t slot;
	bk_part_t *p = j >= 0 && j < t->npart ? t->parts[j] : NULL;
	bool leads = false;

	if (p)
		leads = dp_fill(p, now, &r, &slot);
	else
		dp_error(&r, j, bk_part_missing(b, proto_str(t->name), j));
	if (led_only && !leads)
		return true;
	if (!dp_reserve(o, 1))
		return false;
	o->parts[o->nparts] = r;
	o->slots[o->nparts] = slot;
	o->nparts++;
	return true;
}

void bk_handle_describe_partitions(bk_req_t *q)
{
	broker_t *b = q->b;
	proto_describe_partitions_req_t req;
	proto_describe_partitions_resp_t m = {0};
	dp_out_t o = {0};
	size_t *first = NULL;
	int64_t now = proto_now_ms();
	size_t ntopics;
	proto_buf_t out;

	if (proto_describe_partitions_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_rdlock(&b->topics_lock);
	ntopics = req.topics_count < 0 ? b->ntopics : (size_t)req.topics_count;
	o.topics = calloc(ntopics ? ntopics : 1, sizeof *o.topics);
	first = calloc(ntopics ? ntopics : 1, sizeof *first);
	if (!o.topics || !first)
		goto nomem;
	for (size_t i = 0; i < ntopics; i++) {
		const proto_describe_partitions_topic_t *rt =
		    req.topics_count < 0 ? NULL : &req.topics[i];
		proto_describe_partitions_topic_result_t *tr = &o.topics[o.ntopics];
		bk_topic_t *t;

		if (!rt) {
			t = b->topics[i];
		} else {
			t = rt->name.len < 0 ? NULL
					     : bk_topic_find(b, rt->name.s, (size_t)rt->name.len);
		}
		first[o.ntopics] = o.nparts;
		tr->name = t ? proto_str(t->name) : rt->name;
		if (!t) {
			/* One entry per partition named, or one with index -1
			 * when the request named none. */
			int32_t n = rt->partitions_count < 0 ? 1 : rt->partitions_count;

			if (!dp_reserve(&o, (size_t)n))
				goto nomem;
			for (int32_t j = 0; j < n; j++)
				dp_error(&o.parts[o.nparts++],
					 rt->partitions_count < 0 ? -1 : rt->partitions[j],
					 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		} else if (!rt || rt->partitions_count < 0) {
			for (int32_t j = 0; j < t->npart; j++)
				if (!dp_add(b, &o, t, j, true, now))
					goto nomem;
		} else {
			for (int32_t j = 0; j < rt->partitions_count; j++)
				if (!dp_add(b, &o, t, rt->partitions[j], false, now))
					goto nomem;
		}
		tr->partitions_count = (int32_t)(o.nparts - first[o.ntopics]);
		/* A topic of which this broker leads nothing is left out of an
		 * answer about every partition it leads. */
		if (!rt && tr->partitions_count == 0)
			continue;
		o.ntopics++;
	}
	dp_link(&o, first);
	m.topics = o.topics;
	m.topics_count = o.ntopics;
	goto reply;
nomem:
	bk_log('E', "describe", "DescribePartitions answered with no partitions (out of memory)");
	m.error_code = TERN_ERR_UNKNOWN_SERVER_ERROR;
	m.topics_count = 0;
reply:
	bk_resp_begin(q, &out);
	proto_describe_partitions_resp_encode(&out, q->hdr.api_version, &m);
	pthread_rwlock_unlock(&b->topics_lock);
	bk_resp_send(q, &out);
	free(first);
	free(o.topics);
	free(o.parts);
	free(o.slots);
}

/* ------------------------------------------------------------------------ */
/* DescribeCluster                                                            */

void bk_handle_describe_cluster(bk_req_t *q)
{
	broker_t *b = q->b;
	proto_describe_cluster_req_t req;
	proto_describe_cluster_resp_t m = {0};
	proto_describe_cluster_broker_t *brokers = NULL;
	proto_describe_cluster_partition_t *offline = NULL;
	size_t noffline = 0, n = 0;
	proto_buf_t out;

	if (proto_describe_cluster_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_rdlock(&b->topics_lock);
	for (size_t i = 0; i < b->ntopics; i++)
		for (int32_t j = 0; j < b->topics[i]->npart; j++)
			n += b->topics[i]->state[j].st.leader == ISR_NO_LEADER;
	brokers = calloc(b->npeers ? b->npeers : 1, sizeof *brokers);
	offline = calloc(n ? n : 1, sizeof *offline);
	if (!brokers || !offline) {
		bk_log('E', "describe", "DescribeCluster not answered (out of memory)");
		m.error_code = TERN_ERR_UNKNOWN_SERVER_ERROR;
		goto reply;
	}
	for (size_t i = 0; i < b->npeers; i++) {
		const bk_peer_t *pe = &b->peers[i];

		brokers[i].broker_id = pe->id;
		brokers[i].host = proto_str(pe->host);
		brokers[i].port = pe->port;
		brokers[i].alive = pe->alive;
		brokers[i].shutting_down = pe->shutting_down;
		brokers[i].broker_epoch = pe->epoch;
	}
	for (size_t i = 0; i < b->ntopics; i++)
		for (int32_t j = 0; j < b->topics[i]->npart; j++)
			if (b->topics[i]->state[j].st.leader == ISR_NO_LEADER)
				offline[noffline++] = (proto_describe_cluster_partition_t){
				    proto_str(b->topics[i]->name), j};
	m.brokers = brokers;
	m.brokers_count = (int32_t)b->npeers;
	m.partitions_offline = offline;
	m.partitions_offline_count = (int32_t)noffline;
	/* A process without an image (the controller alone) knows only that
	 * it is the controller. */
	m.controller_id = b->npeers ? b->controller_id : b->ctl ? b->cfg->broker_id : -1;
reply:
	bk_resp_begin(q, &out);
	proto_describe_cluster_resp_encode(&out, q->hdr.api_version, &m);
	pthread_rwlock_unlock(&b->topics_lock);
	bk_resp_send(q, &out);
	free(brokers);
	free(offline);
}
