/* Codecs of the inter-broker control messages (Tern's API keys 1000 up).
 * See msg_cluster.h. */
#include <string.h>

#include "proto/msg_cluster.h"
#include "proto/msg_int.h"

/* ------------------------------------------------------------------------ */
/* Shared pieces (more in msg_int.h)                                          */

/* Kafka reads any non-zero byte as true (msg_cluster.h). */
static bool rd_bool(proto_reader_t *r)
{
	return proto_rd_i8(r) != 0;
}

/* The smallest encoding of a [name, [partition]] topic element. */
#define TOPIC_MIN (SZ_STR + SZ_ARR)

/* ------------------------------------------------------------------------ */
/* BrokerRegistration                                                         */

tern_err_t proto_broker_registration_req_decode(proto_reader_t *r, int16_t version,
						proto_broker_registration_req_t *out)
{
	proto_broker_registration_req_t m = {0};

	if (!rd_version(r, PROTO_API_BROKER_REGISTRATION, version))
		return r->err;
	m.broker_id = proto_rd_i32(r);
	m.incarnation_id = proto_rd_i64(r);
	m.host = proto_rd_string(r);
	m.port = proto_rd_i32(r);
	m.clean_shutdown = rd_bool(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_broker_registration_req_encode(proto_buf_t *b, int16_t version,
					  const proto_broker_registration_req_t *m)
{
	if (!wr_version(b, PROTO_API_BROKER_REGISTRATION, version))
		return;
	proto_wr_i32(b, m->broker_id);
	proto_wr_i64(b, m->incarnation_id);
	proto_wr_string(b, m->host);
	proto_wr_i32(b, m->port);
	proto_wr_bool(b, m->clean_shutdown);
}

tern_err_t proto_broker_registration_resp_decode(proto_reader_t *r, int16_t version,
						 proto_broker_registration_resp_t *out)
{
	proto_broker_registration_resp_t m = {0};

	if (!rd_version(r, PROTO_API_BROKER_REGISTRATION, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	m.broker_epoch = proto_rd_i64(r);
	m.heartbeat_interval_ms = proto_rd_i32(r);
	m.session_timeout_ms = proto_rd_i32(r);
	m.cluster_id = proto_rd_nstring(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_broker_registration_resp_encode(proto_buf_t *b, int16_t version,
					   const proto_broker_registration_resp_t *m)
{
	if (!wr_version(b, PROTO_API_BROKER_REGISTRATION, version))
		return;
	proto_wr_i16(b, m->error_code);
	proto_wr_i64(b, m->broker_epoch);
	proto_wr_i32(b, m->heartbeat_interval_ms);
	proto_wr_i32(b, m->session_timeout_ms);
	proto_wr_nstring(b, m->cluster_id);
}

/* ------------------------------------------------------------------------ */
/* BrokerHeartbeat                                                            */

tern_err_t proto_broker_heartbeat_req_decode(proto_reader_t *r, int16_t version,
					     proto_broker_heartbeat_req_t *out)
{
	proto_broker_heartbeat_req_t m = {0};

	if (!rd_version(r, PROTO_API_BROKER_HEARTBEAT, version))
		return r->err;
	m.broker_id = proto_rd_i32(r);
	m.broker_epoch = proto_rd_i64(r);
	m.want_shutdown = rd_bool(r);
	m.known_metadata_version = proto_rd_i64(r);
	m.max_wait_ms = proto_rd_i32(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_broker_heartbeat_req_encode(proto_buf_t *b, int16_t version,
				       const proto_broker_heartbeat_req_t *m)
{
	if (!wr_version(b, PROTO_API_BROKER_HEARTBEAT, version))
		return;
	proto_wr_i32(b, m->broker_id);
	proto_wr_i64(b, m->broker_epoch);
	proto_wr_bool(b, m->want_shutdown);
	proto_wr_i64(b, m->known_metadata_version);
	proto_wr_i32(b, m->max_wait_ms);
}

/* broker_id, host, port, broker_epoch, alive, shutting_down */
#define HB_BROKER_MIN (SZ_I32 + SZ_STR + SZ_I32 + SZ_I64 + 2 * SZ_BOOL)
/* four int32s, four arrays, recovering */
#define HB_PARTITION_MIN (4 * SZ_I32 + 4 * SZ_ARR + SZ_BOOL)
/* name, internal, configs, partitions */
#define HB_TOPIC_MIN (SZ_STR + SZ_BOOL + 2 * SZ_ARR)

static void rd_heartbeat_partition(proto_reader_t *r, proto_broker_heartbeat_partition_t *p)
{
	p->partition_index = proto_rd_i32(r);
	p->leader_id = proto_rd_i32(r);
	p->leader_epoch = proto_rd_i32(r);
	p->partition_epoch = proto_rd_i32(r);
	p->replicas = rd_i32_array(r, &p->replicas_count);
	p->isr = rd_i32_array(r, &p->isr_count);
	p->eligible_leader_replicas = rd_i32_array(r, &p->eligible_leader_replicas_count);
	p->corrupt_replicas = rd_i32_array(r, &p->corrupt_replicas_count);
	p->recovering = rd_bool(r);
}

static void rd_heartbeat_topic(proto_reader_t *r, proto_broker_heartbeat_topic_t *t)
{
	proto_broker_heartbeat_partition_t *parts;

	t->name = proto_rd_string(r);
	t->internal = rd_bool(r);
	t->configs = rd_config_kvs(r, &t->configs_count);
	parts = rd_array(r, HB_PARTITION_MIN, false, sizeof *parts, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++)
		rd_heartbeat_partition(r, &parts[i]);
	t->partitions = parts;
}

tern_err_t proto_broker_heartbeat_resp_decode(proto_reader_t *r, int16_t version,
					      proto_broker_heartbeat_resp_t *out)
{
	proto_broker_heartbeat_resp_t m = {0};
	proto_broker_heartbeat_broker_t *brokers;
	proto_broker_heartbeat_topic_t *topics;

	if (!rd_version(r, PROTO_API_BROKER_HEARTBEAT, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	m.is_fenced = rd_bool(r);
	m.shutdown_done = rd_bool(r);
	m.controller_id = proto_rd_i32(r);
	m.metadata_version = proto_rd_i64(r);
	brokers = rd_array(r, HB_BROKER_MIN, true, sizeof *brokers, &m.brokers_count);
	for (int32_t i = 0; i < m.brokers_count && !r->err; i++) {
		brokers[i].broker_id = proto_rd_i32(r);
		brokers[i].host = proto_rd_string(r);
		brokers[i].port = proto_rd_i32(r);
		brokers[i].broker_epoch = proto_rd_i64(r);
		brokers[i].alive = rd_bool(r);
		brokers[i].shutting_down = rd_bool(r);
	}
	m.brokers = brokers;
	topics = rd_array(r, HB_TOPIC_MIN, true, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_heartbeat_topic(r, &topics[i]);
	m.topics = topics;
	/* The image comes whole or not at all. */
	if (!r->err && (m.brokers_count < 0) != (m.topics_count < 0))
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

static void wr_heartbeat_partition(proto_buf_t *b, const proto_broker_heartbeat_partition_t *p)
{
	proto_wr_i32(b, p->partition_index);
	proto_wr_i32(b, p->leader_id);
	proto_wr_i32(b, p->leader_epoch);
	proto_wr_i32(b, p->partition_epoch);
	wr_i32_array(b, p->replicas, p->replicas_count);
	wr_i32_array(b, p->isr, p->isr_count);
	wr_i32_array(b, p->eligible_leader_replicas, p->eligible_leader_replicas_count);
	wr_i32_array(b, p->corrupt_replicas, p->corrupt_replicas_count);
	proto_wr_bool(b, p->recovering);
}

void proto_broker_heartbeat_resp_encode(proto_buf_t *b, int16_t version,
					const proto_broker_heartbeat_resp_t *m)
{
	if (!wr_version(b, PROTO_API_BROKER_HEARTBEAT, version))
		return;
	/* One null and one not is a bug of the caller: no decoder takes it. */
	if ((m->brokers_count < 0) != (m->topics_count < 0)) {
		b->oom = true;
		return;
	}
	proto_wr_i16(b, m->error_code);
	proto_wr_bool(b, m->is_fenced);
	proto_wr_bool(b, m->shutdown_done);
	proto_wr_i32(b, m->controller_id);
	proto_wr_i64(b, m->metadata_version);
	wr_count(b, m->brokers_count, true);
	for (int32_t i = 0; i < m->brokers_count; i++) {
		const proto_broker_heartbeat_broker_t *br = &m->brokers[i];

		proto_wr_i32(b, br->broker_id);
		proto_wr_string(b, br->host);
		proto_wr_i32(b, br->port);
		proto_wr_i64(b, br->broker_epoch);
		proto_wr_bool(b, br->alive);
		proto_wr_bool(b, br->shutting_down);
	}
	wr_count(b, m->topics_count, true);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_broker_heartbeat_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		proto_wr_bool(b, t->internal);
		wr_config_kvs(b, t->configs, t->configs_count);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++)
			wr_heartbeat_partition(b, &t->partitions[j]);
	}
}

/* ------------------------------------------------------------------------ */
/* AlterPartition                                                             */

static void rd_alter_partition_topic(proto_reader_t *r, proto_alter_partition_topic_t *t)
{
	proto_alter_partition_partition_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, 3 * SZ_I32 + SZ_ARR, false, sizeof *p, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		proto_alter_partition_broker_state_t *isr;

		p[i].partition_index = proto_rd_i32(r);
		p[i].leader_epoch = proto_rd_i32(r);
		p[i].partition_epoch = proto_rd_i32(r);
		isr = rd_array(r, SZ_I32 + SZ_I64, false, sizeof *isr, &p[i].new_isr_count);
		for (int32_t j = 0; j < p[i].new_isr_count && !r->err; j++) {
			isr[j].broker_id = proto_rd_i32(r);
			isr[j].broker_epoch = proto_rd_i64(r);
		}
		p[i].new_isr = isr;
	}
	t->partitions = p;
}

tern_err_t proto_alter_partition_req_decode(proto_reader_t *r, int16_t version,
					    proto_alter_partition_req_t *out)
{
	proto_alter_partition_req_t m = {0};
	proto_alter_partition_topic_t *topics;

	if (!rd_version(r, PROTO_API_ALTER_PARTITION, version))
		return r->err;
	m.broker_id = proto_rd_i32(r);
	m.broker_epoch = proto_rd_i64(r);
	topics = rd_array(r, TOPIC_MIN, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_alter_partition_topic(r, &topics[i]);
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_alter_partition_req_encode(proto_buf_t *b, int16_t version,
				      const proto_alter_partition_req_t *m)
{
	if (!wr_version(b, PROTO_API_ALTER_PARTITION, version))
		return;
	proto_wr_i32(b, m->broker_id);
	proto_wr_i64(b, m->broker_epoch);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_alter_partition_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_alter_partition_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i32(b, p->leader_epoch);
			proto_wr_i32(b, p->partition_epoch);
			wr_count(b, p->new_isr_count, false);
			for (int32_t k = 0; k < p->new_isr_count; k++) {
				proto_wr_i32(b, p->new_isr[k].broker_id);
				proto_wr_i64(b, p->new_isr[k].broker_epoch);
			}
		}
	}
}

static void rd_alter_partition_topic_result(proto_reader_t *r,
					    proto_alter_partition_topic_result_t *t)
{
	proto_alter_partition_partition_result_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, SZ_I32 + SZ_I16 + 3 * SZ_I32 + SZ_ARR, false, sizeof *p,
		     &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition_index = proto_rd_i32(r);
		p[i].error_code = proto_rd_i16(r);
		p[i].leader_id = proto_rd_i32(r);
		p[i].leader_epoch = proto_rd_i32(r);
		p[i].partition_epoch = proto_rd_i32(r);
		p[i].isr = rd_i32_array(r, &p[i].isr_count);
	}
	t->partitions = p;
}

tern_err_t proto_alter_partition_resp_decode(proto_reader_t *r, int16_t version,
					     proto_alter_partition_resp_t *out)
{
	proto_alter_partition_resp_t m = {0};
	proto_alter_partition_topic_result_t *topics;

	if (!rd_version(r, PROTO_API_ALTER_PARTITION, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	topics = rd_array(r, TOPIC_MIN, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_alter_partition_topic_result(r, &topics[i]);
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_alter_partition_resp_encode(proto_buf_t *b, int16_t version,
				       const proto_alter_partition_resp_t *m)
{
	if (!wr_version(b, PROTO_API_ALTER_PARTITION, version))
		return;
	proto_wr_i16(b, m->error_code);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_alter_partition_topic_result_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_alter_partition_partition_result_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i16(b, p->error_code);
			proto_wr_i32(b, p->leader_id);
			proto_wr_i32(b, p->leader_epoch);
			proto_wr_i32(b, p->partition_epoch);
			wr_i32_array(b, p->isr, p->isr_count);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* AllocateProducerIds                                                        */

tern_err_t proto_allocate_producer_ids_req_decode(proto_reader_t *r, int16_t version,
						  proto_allocate_producer_ids_req_t *out)
{
	proto_allocate_producer_ids_req_t m = {0};

	if (!rd_version(r, PROTO_API_ALLOCATE_PRODUCER_IDS, version))
		return r->err;
	m.broker_id = proto_rd_i32(r);
	m.broker_epoch = proto_rd_i64(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_allocate_producer_ids_req_encode(proto_buf_t *b, int16_t version,
					    const proto_allocate_producer_ids_req_t *m)
{
	if (!wr_version(b, PROTO_API_ALLOCATE_PRODUCER_IDS, version))
		return;
	proto_wr_i32(b, m->broker_id);
	proto_wr_i64(b, m->broker_epoch);
}

tern_err_t proto_allocate_producer_ids_resp_decode(proto_reader_t *r, int16_t version,
						   proto_allocate_producer_ids_resp_t *out)
{
	proto_allocate_producer_ids_resp_t m = {0};

	if (!rd_version(r, PROTO_API_ALLOCATE_PRODUCER_IDS, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	m.producer_id_start = proto_rd_i64(r);
	m.producer_id_len = proto_rd_i32(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_allocate_producer_ids_resp_encode(proto_buf_t *b, int16_t version,
					     const proto_allocate_producer_ids_resp_t *m)
{
	if (!wr_version(b, PROTO_API_ALLOCATE_PRODUCER_IDS, version))
		return;
	proto_wr_i16(b, m->error_code);
	proto_wr_i64(b, m->producer_id_start);
	proto_wr_i32(b, m->producer_id_len);
}

/* ------------------------------------------------------------------------ */
/* ReplicaHealth                                                              */

static void rd_replica_health_topic(proto_reader_t *r, proto_replica_health_topic_t *t)
{
	proto_replica_health_partition_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, SZ_I32 + SZ_BOOL, false, sizeof *p, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition_index = proto_rd_i32(r);
		p[i].corrupt = rd_bool(r);
	}
	t->partitions = p;
}

tern_err_t proto_replica_health_req_decode(proto_reader_t *r, int16_t version,
					   proto_replica_health_req_t *out)
{
	proto_replica_health_req_t m = {0};
	proto_replica_health_topic_t *topics;

	if (!rd_version(r, PROTO_API_REPLICA_HEALTH, version))
		return r->err;
	m.broker_id = proto_rd_i32(r);
	m.broker_epoch = proto_rd_i64(r);
	topics = rd_array(r, TOPIC_MIN, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_replica_health_topic(r, &topics[i]);
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_replica_health_req_encode(proto_buf_t *b, int16_t version,
				     const proto_replica_health_req_t *m)
{
	if (!wr_version(b, PROTO_API_REPLICA_HEALTH, version))
		return;
	proto_wr_i32(b, m->broker_id);
	proto_wr_i64(b, m->broker_epoch);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_replica_health_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			proto_wr_i32(b, t->partitions[j].partition_index);
			proto_wr_bool(b, t->partitions[j].corrupt);
		}
	}
}

static void rd_replica_health_topic_result(proto_reader_t *r,
					   proto_replica_health_topic_result_t *t)
{
	proto_replica_health_partition_result_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, SZ_I32 + SZ_I16, false, sizeof *p, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition_index = proto_rd_i32(r);
		p[i].error_code = proto_rd_i16(r);
	}
	t->partitions = p;
}

tern_err_t proto_replica_health_resp_decode(proto_reader_t *r, int16_t version,
					    proto_replica_health_resp_t *out)
{
	proto_replica_health_resp_t m = {0};
	proto_replica_health_topic_result_t *topics;

	if (!rd_version(r, PROTO_API_REPLICA_HEALTH, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	topics = rd_array(r, TOPIC_MIN, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_replica_health_topic_result(r, &topics[i]);
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_replica_health_resp_encode(proto_buf_t *b, int16_t version,
				      const proto_replica_health_resp_t *m)
{
	if (!wr_version(b, PROTO_API_REPLICA_HEALTH, version))
		return;
	proto_wr_i16(b, m->error_code);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_replica_health_topic_result_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			proto_wr_i32(b, t->partitions[j].partition_index);
			proto_wr_i16(b, t->partitions[j].error_code);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* DescribePartitions                                                         */

/* A nullable array of int32. */
static int32_t *rd_i32_narray(proto_reader_t *r, int32_t *count)
{
	int32_t *a = rd_array(r, SZ_I32, true, sizeof *a, count);

	for (int32_t i = 0; i < *count && !r->err; i++)
		a[i] = proto_rd_i32(r);
	return a;
}

tern_err_t proto_describe_partitions_req_decode(proto_reader_t *r, int16_t version,
						proto_describe_partitions_req_t *out)
{
	proto_describe_partitions_req_t m = {0};
	proto_describe_partitions_topic_t *topics;

	if (!rd_version(r, PROTO_API_DESCRIBE_PARTITIONS, version))
		return r->err;
	topics = rd_array(r, TOPIC_MIN, true, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		topics[i].name = proto_rd_string(r);
		topics[i].partitions = rd_i32_narray(r, &topics[i].partitions_count);
	}
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_describe_partitions_req_encode(proto_buf_t *b, int16_t version,
					  const proto_describe_partitions_req_t *m)
{
	if (!wr_version(b, PROTO_API_DESCRIBE_PARTITIONS, version))
		return;
	wr_count(b, m->topics_count, true);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_describe_partitions_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, true);
		for (int32_t j = 0; j < t->partitions_count; j++)
			proto_wr_i32(b, t->partitions[j]);
	}
}

/* broker_id, log_end_offset, lag, caught_up_ms_ago */
#define DP_REPLICA_MIN (SZ_I32 + 3 * SZ_I64)
/* partition_index, error_code, leader_id, leader_epoch, isr,
 * log_start_offset, high_watermark, log_end_offset, mode, replicas */
#define DP_PARTITION_MIN (SZ_I32 + SZ_I16 + 2 * SZ_I32 + SZ_ARR + 3 * SZ_I64 + 1 + SZ_ARR)

static void rd_describe_partitions_partition(proto_reader_t *r,
					     proto_describe_partitions_partition_t *p)
{
	proto_describe_partitions_replica_t *rep;

	p->partition_index = proto_rd_i32(r);
	p->error_code = proto_rd_i16(r);
	p->leader_id = proto_rd_i32(r);
	p->leader_epoch = proto_rd_i32(r);
	p->isr = rd_i32_array(r, &p->isr_count);
	p->log_start_offset = proto_rd_i64(r);
	p->high_watermark = proto_rd_i64(r);
	p->log_end_offset = proto_rd_i64(r);
	p->mode = proto_rd_i8(r);
	rep = rd_array(r, DP_REPLICA_MIN, false, sizeof *rep, &p->replicas_count);
	for (int32_t i = 0; i < p->replicas_count && !r->err; i++) {
		rep[i].broker_id = proto_rd_i32(r);
		rep[i].log_end_offset = proto_rd_i64(r);
		rep[i].lag = proto_rd_i64(r);
		rep[i].caught_up_ms_ago = proto_rd_i64(r);
	}
	p->replicas = rep;
}

tern_err_t proto_describe_partitions_resp_decode(proto_reader_t *r, int16_t version,
						 proto_describe_partitions_resp_t *out)
{
	proto_describe_partitions_resp_t m = {0};
	proto_describe_partitions_topic_result_t *topics;

	if (!rd_version(r, PROTO_API_DESCRIBE_PARTITIONS, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	topics = rd_array(r, TOPIC_MIN, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		proto_describe_partitions_partition_t *p;

		topics[i].name = proto_rd_string(r);
		p = rd_array(r, DP_PARTITION_MIN, false, sizeof *p, &topics[i].partitions_count);
		for (int32_t j = 0; j < topics[i].partitions_count && !r->err; j++)
			rd_describe_partitions_partition(r, &p[j]);
		topics[i].partitions = p;
	}
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_describe_partitions_resp_encode(proto_buf_t *b, int16_t version,
					   const proto_describe_partitions_resp_t *m)
{
	if (!wr_version(b, PROTO_API_DESCRIBE_PARTITIONS, version))
		return;
	proto_wr_i16(b, m->error_code);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_describe_partitions_topic_result_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_describe_partitions_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i16(b, p->error_code);
			proto_wr_i32(b, p->leader_id);
			proto_wr_i32(b, p->leader_epoch);
			wr_i32_array(b, p->isr, p->isr_count);
			proto_wr_i64(b, p->log_start_offset);
			proto_wr_i64(b, p->high_watermark);
			proto_wr_i64(b, p->log_end_offset);
			proto_wr_i8(b, p->mode);
			wr_count(b, p->replicas_count, false);
			for (int32_t k = 0; k < p->replicas_count; k++) {
				proto_wr_i32(b, p->replicas[k].broker_id);
				proto_wr_i64(b, p->replicas[k].log_end_offset);
				proto_wr_i64(b, p->replicas[k].lag);
				proto_wr_i64(b, p->replicas[k].caught_up_ms_ago);
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* DescribeCluster                                                            */

tern_err_t proto_describe_cluster_req_decode(proto_reader_t *r, int16_t version,
					     proto_describe_cluster_req_t *out)
{
	if (!rd_version(r, PROTO_API_DESCRIBE_CLUSTER, version))
		return r->err;
	memset(out, 0, sizeof *out);
	return TERN_OK;
}

void proto_describe_cluster_req_encode(proto_buf_t *b, int16_t version,
				       const proto_describe_cluster_req_t *m)
{
	(void)m;
	wr_version(b, PROTO_API_DESCRIBE_CLUSTER, version);
}

/* broker_id, host, port, alive, shutting_down, broker_epoch */
#define DC_BROKER_MIN (SZ_I32 + SZ_STR + SZ_I32 + 2 * SZ_BOOL + SZ_I64)

tern_err_t proto_describe_cluster_resp_decode(proto_reader_t *r, int16_t version,
					      proto_describe_cluster_resp_t *out)
{
	proto_describe_cluster_resp_t m = {0};
	proto_describe_cluster_broker_t *brokers;
	proto_describe_cluster_partition_t *parts;

	if (!rd_version(r, PROTO_API_DESCRIBE_CLUSTER, version))
		return r->err;
	m.error_code = proto_rd_i16(r);
	m.controller_id = proto_rd_i32(r);
	brokers = rd_array(r, DC_BROKER_MIN, false, sizeof *brokers, &m.brokers_count);
	for (int32_t i = 0; i < m.brokers_count && !r->err; i++) {
		brokers[i].broker_id = proto_rd_i32(r);
		brokers[i].host = proto_rd_string(r);
		brokers[i].port = proto_rd_i32(r);
		brokers[i].alive = rd_bool(r);
		brokers[i].shutting_down = rd_bool(r);
		brokers[i].broker_epoch = proto_rd_i64(r);
	}
	m.brokers = brokers;
	parts = rd_array(r, SZ_STR + SZ_I32, false, sizeof *parts, &m.partitions_offline_count);
	for (int32_t i = 0; i < m.partitions_offline_count && !r->err; i++) {
		parts[i].topic = proto_rd_string(r);
		parts[i].partition = proto_rd_i32(r);
	}
	m.partitions_offline = parts;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_describe_cluster_resp_encode(proto_buf_t *b, int16_t version,
					const proto_describe_cluster_resp_t *m)
{
	if (!wr_version(b, PROTO_API_DESCRIBE_CLUSTER, version))
		return;
	proto_wr_i16(b, m->error_code);
	proto_wr_i32(b, m->controller_id);
	wr_count(b, m->brokers_count, false);
	for (int32_t i = 0; i < m->brokers_count; i++) {
		const proto_describe_cluster_broker_t *br = &m->brokers[i];

		proto_wr_i32(b, br->broker_id);
		proto_wr_string(b, br->host);
		proto_wr_i32(b, br->port);
		proto_wr_bool(b, br->alive);
		proto_wr_bool(b, br->shutting_down);
		proto_wr_i64(b, br->broker_epoch);
	}
	wr_count(b, m->partitions_offline_count, false);
	for (int32_t i = 0; i < m->partitions_offline_count; i++) {
		proto_wr_string(b, m->partitions_offline[i].topic);
		proto_wr_i32(b, m->partitions_offline[i].partition);
	}
}
