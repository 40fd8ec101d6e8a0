/* controller/handle.c: the requests the controller answers: the
 * inter-broker messages (proto/msg_cluster.h) and, through admin.c, the
 * admin APIs brokers forward. One frame in, one frame out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller_int.h"

bool ctl_handles(int16_t api_key)
{
	switch (api_key) {
	case PROTO_API_BROKER_REGISTRATION:
	case PROTO_API_BROKER_HEARTBEAT:
	case PROTO_API_ALTER_PARTITION:
	case PROTO_API_ALLOCATE_PRODUCER_IDS:
	case PROTO_API_REPLICA_HEALTH:
	case PROTO_API_CREATE_TOPICS:
	case PROTO_API_DELETE_TOPICS:
	case PROTO_API_ALTER_CONFIGS:
	case PROTO_API_INCREMENTAL_ALTER_CONFIGS:
	case PROTO_API_ELECT_LEADERS:
		return true;
	default:
		return false;
	}
}

void ctl__reply_error(ctl_req_t *q, tern_err_t err)
{
	proto_wr_i16(q->out, (int16_t)err);
}

/* A NUL-terminated copy of s in the arena, or NULL (null, too long). */
static char *arena_cstr(ctl_req_t *q, proto_str_t s)
{
	char *p;

	if (s.len < 0)
		return NULL;
	p = proto_arena_alloc(q->arena, (size_t)s.len + 1, 1);
	if (p)
		memcpy(p, s.s, (size_t)s.len);
	return p;
}

/* ------------------------------------------------------------------------ */
/* Registration, heartbeats and the image                                     */

static void handle_registration(ctl_req_t *q)
{
	proto_broker_registration_req_t req;
	proto_broker_registration_resp_t m = {0};
	char *host;
	tern_err_t err;

	if (proto_broker_registration_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	host = arena_cstr(q, req.host);
	err = host ? ctl_register(q->c, req.broker_id, req.incarnation_id, host, req.port,
				  req.clean_shutdown, q->now_ms, &m.broker_epoch)
		   : TERN_ERR_INVALID_REQUEST;
	if (err < 0)
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	m.error_code = (int16_t)err;
	m.heartbeat_interval_ms = q->c->cfg.heartbeat_interval_ms;
	m.session_timeout_ms = q->c->cfg.session_timeout_ms;
	m.cluster_id = proto_str(q->c->cluster_id);
	proto_broker_registration_resp_encode(q->out, q->hdr.api_version, &m);
}

static int32_t *ids_copy(ctl_req_t *q, const int32_t *ids, int32_t n)
{
	int32_t *v = proto_arena_alloc(q->arena, n > 0 ? (size_t)n : 1, sizeof *v);

	if (v && n > 0)
		memcpy(v, ids, (size_t)n * sizeof *v);
	return v;
}

/* The whole image into m, in the arena. c->mu held. */
static tern_err_t image_fill(ctl_req_t *q, proto_broker_heartbeat_resp_t *m)
{
	ctl_t *c = q->c;
	proto_broker_heartbeat_broker_t *bv;
	proto_broker_heartbeat_topic_t *tv;

	bv = proto_arena_alloc(q->arena, c->nbrokers ? c->nbrokers : 1, sizeof *bv);
	tv = proto_arena_alloc(q->arena, c->ntopics ? c->ntopics : 1, sizeof *tv);
	if (!bv || !tv)
		return TERN_ERR__NOMEM;
	for (size_t i = 0; i < c->nbrokers; i++) {
		const ctl_broker_t *br = &c->brokers[i];

		bv[i].broker_id = br->id;
		bv[i].host = proto_str(br->host);
		bv[i].port = br->port;
		bv[i].broker_epoch = br->epoch;
		bv[i].alive = br->alive && !br->left;
		bv[i].shutting_down = br->shutting_down;
	}
	for (size_t i = 0; i < c->ntopics; i++) {
		const ctl_topic_t *t = c->topics[i];
		proto_config_kv_t *cv;
		proto_broker_heartbeat_partition_t *pv;

		cv = proto_arena_alloc(q->arena, t->nconfigs ? t->nconfigs : 1, sizeof *cv);
		pv = proto_arena_alloc(q->arena, (size_t)t->npart, sizeof *pv);
		if (!cv || !pv)
			return TERN_ERR__NOMEM;
		for (size_t j = 0; j < t->nconfigs; j++) {
			cv[j].name = proto_str(t->configs[j].key);
			cv[j].value = proto_str(t->configs[j].value);
		}
		for (int32_t j = 0; j < t->npart; j++) {
			const isr_ctl_t *p = &t->parts[j];
			int32_t corrupt[ISR_MAX_REPLICAS], nc = 0;

			for (int32_t k = 0; k < p->nreplicas; k++)
				if (p->health[k].corrupt)
					corrupt[nc++] = p->replicas[k];
			pv[j].partition_index = j;
			pv[j].leader_id = p->leader;
			pv[j].leader_epoch = p->leader_epoch;
			pv[j].partition_epoch = p->partition_epoch;
			pv[j].replicas = ids_copy(q, p->replicas, p->nreplicas);
			pv[j].replicas_count = p->nreplicas;
			pv[j].isr = ids_copy(q, p->isr.id, p->isr.n);
			pv[j].isr_count = p->isr.n;
			pv[j].eligible_leader_replicas = ids_copy(q, p->elr.id, p->elr.n);
			pv[j].eligible_leader_replicas_count = p->elr.n;
			pv[j].corrupt_replicas = ids_copy(q, corrupt, nc);
			pv[j].corrupt_replicas_count = nc;
			pv[j].recovering = p->recovering;
			if (!pv[j].replicas || !pv[j].isr || !pv[j].eligible_leader_replicas ||
			    !pv[j].corrupt_replicas)
				return TERN_ERR__NOMEM;
		}
		tv[i].name = proto_str(t->name);
		tv[i].internal = t->internal;
		tv[i].configs = cv;
		tv[i].configs_count = (int32_t)t->nconfigs;
		tv[i].partitions = pv;
		tv[i].partitions_count = t->npart;
	}
	m->brokers = bv;
	m->brokers_count = (int32_t)c->nbrokers;
	m->topics = tv;
	m->topics_count = (int32_t)c->ntopics;
	return TERN_OK;
}

static void handle_heartbeat(ctl_req_t *q)
{
	ctl_t *c = q->c;
	proto_broker_heartbeat_req_t req;
	proto_broker_heartbeat_resp_t m = {
	    .controller_id = c->cfg.controller_id, .brokers_count = -1, .topics_count = -1};
	tern_err_t err;

	if (proto_broker_heartbeat_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	/* The image grows with the cluster, not with this small request:
	 * the arena's cap (for decoding) does not apply to it. */
	q->arena->cap = 0;
	err = ctl_heartbeat(c, req.broker_id, req.broker_epoch, req.want_shutdown, q->now_ms,
			    &m.is_fenced, &m.shutdown_done);
	if (err < 0)
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	m.error_code = (int16_t)err;
	/* The strings of the image point into the state: encode under the
	 * lock. */
	pthread_mutex_lock(&c->mu);
	if (c->broken)
		err = TERN_ERR_NOT_CONTROLLER;
	m.error_code = (int16_t)err;
	m.metadata_version = c->version;
	if (!err && req.known_metadata_version != c->version && image_fill(q, &m) != TERN_OK) {
		m.error_code = TERN_ERR_UNKNOWN_SERVER_ERROR;
		m.brokers = NULL;
		m.topics = NULL;
		m.brokers_count = m.topics_count = -1;
	}
	proto_broker_heartbeat_resp_encode(q->out, q->hdr.api_version, &m);
	pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------------------ */
/* AlterPartition, AllocateProducerIds, ReplicaHealth                         */

static void handle_alter_partition(ctl_req_t *q)
{
	proto_alter_partition_req_t req;
	proto_alter_partition_resp_t m = {0};
	proto_alter_partition_topic_result_t *rt;

	if (proto_alter_partition_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	rt = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
			       sizeof *rt);
	if (!rt) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topics_count; i++) {
		const proto_alter_partition_topic_t *t = &req.topics[i];
		proto_alter_partition_partition_result_t *rp;
		char *name = arena_cstr(q, t->name);

		rp = proto_arena_alloc(q->arena,
				       t->partitions_count > 0 ? (size_t)t->partitions_count : 1,
				       sizeof *rp);
		if (!rp) {
			ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
			return;
		}
		rt[i].name = t->name;
		rt[i].partitions = rp;
		rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_alter_partition_partition_t *pp = &t->partitions[j];
			isr_alter_t a = {0};
			isr_leader_and_isr_t st = {.leader = ISR_NO_LEADER};
			tern_err_t err = TERN_OK;

			a.leader = req.broker_id;
			a.leader_epoch = pp->leader_epoch;
			a.partition_epoch = pp->partition_epoch;
			if (pp->new_isr_count > ISR_MAX_REPLICAS)
				err = TERN_ERR_INVALID_REQUEST;
			for (int32_t k = 0; k < pp->new_isr_count && !err; k++) {
				a.isr.id[k] = pp->new_isr[k].broker_id;
				a.broker_epoch[k] = pp->new_isr[k].broker_epoch;
				a.isr.n = k + 1;
			}
			if (!err)
				err = name ? ctl_alter_partition(q->c, req.broker_id,
								 req.broker_epoch, name,
								 pp->partition_index, &a, &st)
					   : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			if (err < 0)
				err = TERN_ERR_UNKNOWN_SERVER_ERROR;
			rp[j].partition_index = pp->partition_index;
			rp[j].error_code = (int16_t)err;
			rp[j].leader_id = st.leader;
			rp[j].leader_epoch = st.leader_epoch;
			rp[j].partition_epoch = st.partition_epoch;
			rp[j].isr = ids_copy(q, st.isr.id, st.isr.n);
			rp[j].isr_count = rp[j].isr ? st.isr.n : 0;
		}
	}
	m.topics = rt;
	m.topics_count = req.topics_count;
	proto_alter_partition_resp_encode(q->out, q->hdr.api_version, &m);
}

static void handle_allocate_pids(ctl_req_t *q)
{
	proto_allocate_producer_ids_req_t req;
	proto_allocate_producer_ids_resp_t m = {0};
	tern_err_t err;

	if (proto_allocate_producer_ids_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	err = ctl_allocate_producer_ids(q->c, req.broker_id, req.broker_epoch, &m.producer_id_start,
					&m.producer_id_len);
	if (err < 0)
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	m.error_code = (int16_t)err;
	proto_allocate_producer_ids_resp_encode(q->out, q->hdr.api_version, &m);
}

static void handle_replica_health(ctl_req_t *q)
{
	proto_replica_health_req_t req;
	proto_replica_health_resp_t m = {0};
	proto_replica_health_topic_result_t *rt;

	if (proto_replica_health_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	rt = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
			       sizeof *rt);
	if (!rt) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topics_count; i++) {
		const proto_replica_health_topic_t *t = &req.topics[i];
		proto_replica_health_partition_result_t *rp;
		char *name = arena_cstr(q, t->name);

		rp = proto_arena_alloc(q->arena,
				       t->partitions_count > 0 ? (size_t)t->partitions_count : 1,
				       sizeof *rp);
		if (!rp) {
			ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
			return;
		}
		rt[i].name = t->name;
		rt[i].partitions = rp;
		rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_replica_health_partition_t *pp = &t->partitions[j];
			tern_err_t err =
			    name ? ctl_replica_health(q->c, req.broker_id, req.broker_epoch, name,
						      pp->partition_index, pp->corrupt)
				 : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;

			if (err < 0)
				err = TERN_ERR_UNKNOWN_SERVER_ERROR;
			rp[j].partition_index = pp->partition_index;
			rp[j].error_code = (int16_t)err;
		}
	}
	m.topics = rt;
	m.topics_count = req.topics_count;
	proto_replica_health_resp_encode(q->out, q->hdr.api_version, &m);
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                   */

static void dispatch(ctl_req_t *q)
{
	switch (q->hdr.api_key) {
	case PROTO_API_BROKER_REGISTRATION:
		handle_registration(q);
		break;
	case PROTO_API_BROKER_HEARTBEAT:
		handle_heartbeat(q);
		break;
	case PROTO_API_ALTER_PARTITION:
		handle_alter_partition(q);
		break;
	case PROTO_API_ALLOCATE_PRODUCER_IDS:
		handle_allocate_pids(q);
		break;
	case PROTO_API_REPLICA_HEALTH:
		handle_replica_health(q);
		break;
	case PROTO_API_CREATE_TOPICS:
		ctl__create_topics(q);
		break;
	case PROTO_API_DELETE_TOPICS:
		ctl__delete_topics(q);
		break;
	case PROTO_API_ALTER_CONFIGS:
		ctl__alter_configs(q);
		break;
	case PROTO_API_INCREMENTAL_ALTER_CONFIGS:
		ctl__incremental_alter_configs(q);
		break;
	case PROTO_API_ELECT_LEADERS:
		ctl__elect_leaders(q);
		break;
	default:
		ctl__reply_error(q, TERN_ERR_UNSUPPORTED_VERSION);
		break;
	}
}

tern_err_t ctl_handle(ctl_t *c, const uint8_t *req, size_t len, int64_t now_ms, uint8_t **resp,
		      size_t *resp_len)
{
	proto_limits_t lim;
	proto_arena_t arena;
	proto_buf_t out;
	proto_resp_hdr_t h = {0};
	ctl_req_t q = {.c = c, .arena = &arena, .now_ms = now_ms, .out = &out};
	tern_err_t err;

	*resp = NULL;
	*resp_len = 0;
	proto_limits_default(&lim);
	lim.max_frame = len;
	proto_arena_init(&arena, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(&q.rd, req, len, &lim, &arena);
	err = proto_req_hdr_decode(&q.rd, &q.hdr);
	if (err == TERN_ERR_INVALID_REQUEST) {
		proto_arena_free(&arena);
		return TERN_OK;
	}
	h.correlation_id = q.hdr.correlation_id;
	proto_buf_init(&out);
	proto_resp_hdr_encode(&out, q.hdr.api_key, q.hdr.api_version, &h);
	if (err)
		ctl__reply_error(
		    &q, err == TERN_ERR_UNSUPPORTED_VERSION ? err : TERN_ERR_INVALID_REQUEST);
	else if (!ctl_handles(q.hdr.api_key))
		ctl__reply_error(&q, TERN_ERR_UNSUPPORTED_VERSION);
	else
		dispatch(&q);
	proto_arena_free(&arena);
	if (out.oom) {
		proto_buf_free(&out);
		return TERN_ERR__NOMEM;
	}
	*resp = out.p;
	*resp_len = out.len;
	return TERN_OK;
}
