/* Codecs of the admin and group APIs' bodies, field for field after
 * Kafka's message schemas. See msg_admin.h. */
#include "proto/msg_admin.h"
#include "proto/msg_int.h"

/* ------------------------------------------------------------------------ */
/* Shared pieces (more in msg_int.h)                                          */

static proto_str_t *rd_str_array(proto_reader_t *r, bool nullable, int32_t *count)
{
	proto_str_t *a = rd_array(r, SZ_STR, nullable, sizeof *a, count);

	for (int32_t i = 0; i < *count && !r->err; i++)
		a[i] = proto_rd_string(r);
	return a;
}

static void wr_str_array(proto_buf_t *b, const proto_str_t *a, int32_t n, bool nullable)
{
	wr_count(b, n, nullable);
	for (int32_t i = 0; i < n; i++)
		proto_wr_string(b, a[i]);
}

/* [topic, [partition]] (OffsetFetch and ElectLeaders requests). */
static proto_topic_partition_ids_t *rd_topic_ids(proto_reader_t *r, bool nullable, int32_t *count)
{
	proto_topic_partition_ids_t *a = rd_array(r, SZ_STR + SZ_ARR, nullable, sizeof *a, count);

	for (int32_t i = 0; i < *count && !r->err; i++) {
		a[i].topic = proto_rd_string(r);
		a[i].partitions = rd_i32_array(r, &a[i].partitions_count);
	}
	return a;
}

static void wr_topic_ids(proto_buf_t *b, const proto_topic_partition_ids_t *a, int32_t n,
			 bool nullable)
{
	wr_count(b, n, nullable);
	for (int32_t i = 0; i < n; i++) {
		proto_wr_string(b, a[i].topic);
		wr_i32_array(b, a[i].partitions, a[i].partitions_count);
	}
}

/* ------------------------------------------------------------------------ */
/* CreateTopics                                                               */

static void rd_create_topic(proto_reader_t *r, proto_create_topics_topic_t *t)
{
	proto_create_topics_assignment_t *as;

	t->name = proto_rd_string(r);
	t->num_partitions = proto_rd_i32(r);
	t->replication_factor = proto_rd_i16(r);
	as = rd_array(r, SZ_I32 + SZ_ARR, false, sizeof *as, &t->assignments_count);
	for (int32_t i = 0; i < t->assignments_count && !r->err; i++) {
		as[i].partition_index = proto_rd_i32(r);
		as[i].broker_ids = rd_i32_array(r, &as[i].broker_ids_count);
	}
	t->assignments = as;
	t->configs = rd_config_kvs(r, &t->configs_count);
}

tern_err_t proto_create_topics_req_decode(proto_reader_t *r, int16_t version,
					  proto_create_topics_req_t *out)
{
	proto_create_topics_req_t m = {0};
	proto_create_topics_topic_t *topics;

	if (!rd_version(r, PROTO_API_CREATE_TOPICS, version))
		return r->err;
	topics = rd_array(r, SZ_STR + SZ_I32 + SZ_I16 + SZ_ARR + SZ_ARR, false, sizeof *topics,
			  &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_create_topic(r, &topics[i]);
	m.topics = topics;
	m.timeout_ms = proto_rd_i32(r);
	if (version >= 1)
		m.validate_only = proto_rd_bool(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_create_topics_req_encode(proto_buf_t *b, int16_t version,
				    const proto_create_topics_req_t *m)
{
	if (!wr_version(b, PROTO_API_CREATE_TOPICS, version))
		return;
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_create_topics_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		proto_wr_i32(b, t->num_partitions);
		proto_wr_i16(b, t->replication_factor);
		wr_count(b, t->assignments_count, false);
		for (int32_t j = 0; j < t->assignments_count; j++) {
			proto_wr_i32(b, t->assignments[j].partition_index);
			wr_i32_array(b, t->assignments[j].broker_ids,
				     t->assignments[j].broker_ids_count);
		}
		wr_config_kvs(b, t->configs, t->configs_count);
	}
	proto_wr_i32(b, m->timeout_ms);
	if (version >= 1)
		proto_wr_bool(b, m->validate_only);
}

tern_err_t proto_create_topics_resp_decode(proto_reader_t *r, int16_t version,
					   proto_create_topics_resp_t *out)
{
	proto_create_topics_resp_t m = {0};
	proto_create_topics_result_t *topics;

	if (!rd_version(r, PROTO_API_CREATE_TOPICS, version))
		return r->err;
	if (version >= 2)
		m.throttle_time_ms = proto_rd_i32(r);
	topics = rd_array(r, SZ_STR + SZ_I16 + (version >= 1 ? SZ_STR : 0), false, sizeof *topics,
			  &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		topics[i].name = proto_rd_string(r);
		topics[i].error_code = proto_rd_i16(r);
		topics[i].error_message = version >= 1 ? proto_rd_nstring(r) : PROTO_STR("");
	}
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_create_topics_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_create_topics_resp_t *m)
{
	if (!wr_version(b, PROTO_API_CREATE_TOPICS, version))
		return;
	if (version >= 2)
		proto_wr_i32(b, m->throttle_time_ms);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_wr_string(b, m->topics[i].name);
		proto_wr_i16(b, m->topics[i].error_code);
		if (version >= 1)
			proto_wr_nstring(b, m->topics[i].error_message);
	}
}

/* ------------------------------------------------------------------------ */
/* DeleteTopics                                                               */

tern_err_t proto_delete_topics_req_decode(proto_reader_t *r, int16_t version,
					  proto_delete_topics_req_t *out)
{
	proto_delete_topics_req_t m = {0};

	if (!rd_version(r, PROTO_API_DELETE_TOPICS, version))
		return r->err;
	m.topic_names = rd_str_array(r, false, &m.topic_names_count);
	m.timeout_ms = proto_rd_i32(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_delete_topics_req_encode(proto_buf_t *b, int16_t version,
				    const proto_delete_topics_req_t *m)
{
	if (!wr_version(b, PROTO_API_DELETE_TOPICS, version))
		return;
	wr_str_array(b, m->topic_names, m->topic_names_count, false);
	proto_wr_i32(b, m->timeout_ms);
}

tern_err_t proto_delete_topics_resp_decode(proto_reader_t *r, int16_t version,
					   proto_delete_topics_resp_t *out)
{
	proto_delete_topics_resp_t m = {0};
	proto_delete_topics_result_t *res;

	if (!rd_version(r, PROTO_API_DELETE_TOPICS, version))
		return r->err;
	if (version >= 1)
		m.throttle_time_ms = proto_rd_i32(r);
	res = rd_array(r, SZ_STR + SZ_I16, false, sizeof *res, &m.responses_count);
	for (int32_t i = 0; i < m.responses_count && !r->err; i++) {
		res[i].name = proto_rd_string(r);
		res[i].error_code = proto_rd_i16(r);
	}
	m.responses = res;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_delete_topics_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_delete_topics_resp_t *m)
{
	if (!wr_version(b, PROTO_API_DELETE_TOPICS, version))
		return;
	if (version >= 1)
		proto_wr_i32(b, m->throttle_time_ms);
	wr_count(b, m->responses_count, false);
	for (int32_t i = 0; i < m->responses_count; i++) {
		proto_wr_string(b, m->responses[i].name);
		proto_wr_i16(b, m->responses[i].error_code);
	}
}

/* ------------------------------------------------------------------------ */
/* DescribeConfigs                                                            */

tern_err_t proto_describe_configs_req_decode(proto_reader_t *r, int16_t version,
					     proto_describe_configs_req_t *out)
{
	proto_describe_configs_req_t m = {0};
	proto_describe_configs_resource_t *res;

	if (!rd_version(r, PROTO_API_DESCRIBE_CONFIGS, version))
		return r->err;
	res = rd_array(r, SZ_I8 + SZ_STR + SZ_ARR, false, sizeof *res, &m.resources_count);
	for (int32_t i = 0; i < m.resources_count && !r->err; i++) {
		res[i].resource_type = proto_rd_i8(r);
		res[i].resource_name = proto_rd_string(r);
		res[i].configuration_keys = rd_str_array(r, true, &res[i].configuration_keys_count);
	}
	m.resources = res;
	if (version >= 1)
		m.include_synonyms = proto_rd_bool(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_describe_configs_req_encode(proto_buf_t *b, int16_t version,
				       const proto_describe_configs_req_t *m)
{
	if (!wr_version(b, PROTO_API_DESCRIBE_CONFIGS, version))
		return;
	wr_count(b, m->resources_count, false);
	for (int32_t i = 0; i < m->resources_count; i++) {
		const proto_describe_configs_resource_t *res = &m->resources[i];

		proto_wr_i8(b, res->resource_type);
		proto_wr_string(b, res->resource_name);
		wr_str_array(b, res->configuration_keys, res->configuration_keys_count, true);
	}
	if (version >= 1)
		proto_wr_bool(b, m->include_synonyms);
}

static void rd_describe_configs_entry(proto_reader_t *r, int16_t version,
				      proto_describe_configs_entry_t *e)
{
	proto_describe_configs_synonym_t *syn;

	e->name = proto_rd_string(r);
	e->value = proto_rd_nstring(r);
	e->read_only = proto_rd_bool(r);
	if (version == 0)
		e->is_default = proto_rd_bool(r);
	e->config_source = version >= 1 ? proto_rd_i8(r) : -1;
	e->is_sensitive = proto_rd_bool(r);
	if (version == 0)
		return;
	syn = rd_array(r, SZ_STR + SZ_STR + SZ_I8, false, sizeof *syn, &e->synonyms_count);
	for (int32_t i = 0; i < e->synonyms_count && !r->err; i++) {
		syn[i].name = proto_rd_string(r);
		syn[i].value = proto_rd_nstring(r);
		syn[i].source = proto_rd_i8(r);
	}
	e->synonyms = syn;
}

static void rd_describe_configs_result(proto_reader_t *r, int16_t version,
				       proto_describe_configs_result_t *res)
{
	/* name, value, read_only, is_default (v0) or config_source (v1+),
	 * is_sensitive, and from v1 the synonyms' count. */
	size_t entry_min = SZ_STR + SZ_STR + 3 * SZ_BOOL + (version >= 1 ? SZ_ARR : 0);
	proto_describe_configs_entry_t *configs;

	res->error_code = proto_rd_i16(r);
	res->error_message = proto_rd_nstring(r);
	res->resource_type = proto_rd_i8(r);
	res->resource_name = proto_rd_string(r);
	configs = rd_array(r, entry_min, false, sizeof *configs, &res->configs_count);
	for (int32_t i = 0; i < res->configs_count && !r->err; i++)
		rd_describe_configs_entry(r, version, &configs[i]);
	res->configs = configs;
}

tern_err_t proto_describe_configs_resp_decode(proto_reader_t *r, int16_t version,
					      proto_describe_configs_resp_t *out)
{
	proto_describe_configs_resp_t m = {0};
	proto_describe_configs_result_t *results;

	if (!rd_version(r, PROTO_API_DESCRIBE_CONFIGS, version))
		return r->err;
	m.throttle_time_ms = proto_rd_i32(r);
	results = rd_array(r, SZ_I16 + SZ_STR + SZ_I8 + SZ_STR + SZ_ARR, false, sizeof *results,
			   &m.results_count);
	for (int32_t i = 0; i < m.results_count && !r->err; i++)
		rd_describe_configs_result(r, version, &results[i]);
	m.results = results;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

static void wr_describe_configs_entry(proto_buf_t *b, int16_t version,
				      const proto_describe_configs_entry_t *e)
{
	proto_wr_string(b, e->name);
	proto_wr_nstring(b, e->value);
	proto_wr_bool(b, e->read_only);
	if (version == 0)
		proto_wr_bool(b, e->is_default);
	else
		proto_wr_i8(b, e->config_source);
	proto_wr_bool(b, e->is_sensitive);
	if (version == 0)
		return;
	wr_count(b, e->synonyms_count, false);
	for (int32_t i = 0; i < e->synonyms_count; i++) {
		proto_wr_string(b, e->synonyms[i].name);
		proto_wr_nstring(b, e->synonyms[i].value);
		proto_wr_i8(b, e->synonyms[i].source);
	}
}

void proto_describe_configs_resp_encode(proto_buf_t *b, int16_t version,
					const proto_describe_configs_resp_t *m)
{
	if (!wr_version(b, PROTO_API_DESCRIBE_CONFIGS, version))
		return;
	proto_wr_i32(b, m->throttle_time_ms);
	wr_count(b, m->results_count, false);
	for (int32_t i = 0; i < m->results_count; i++) {
		const proto_describe_configs_result_t *res = &m->results[i];

		proto_wr_i16(b, res->error_code);
		proto_wr_nstring(b, res->error_message);
		proto_wr_i8(b, res->resource_type);
		proto_wr_string(b, res->resource_name);
		wr_count(b, res->configs_count, false);
		for (int32_t j = 0; j < res->configs_count; j++)
			wr_describe_configs_entry(b, version, &res->configs[j]);
	}
}

/* ------------------------------------------------------------------------ */
/* AlterConfigs and IncrementalAlterConfigs                                   */

#define ALTER_RESOURCE_MIN (SZ_I8 + SZ_STR + SZ_ARR)

tern_err_t proto_alter_configs_req_decode(proto_reader_t *r, int16_t version,
					  proto_alter_configs_req_t *out)
{
	proto_alter_configs_req_t m = {0};
	proto_alter_configs_resource_t *res;

	if (!rd_version(r, PROTO_API_ALTER_CONFIGS, version))
		return r->err;
	res = rd_array(r, ALTER_RESOURCE_MIN, false, sizeof *res, &m.resources_count);
	for (int32_t i = 0; i < m.resources_count && !r->err; i++) {
		res[i].resource_type = proto_rd_i8(r);
		res[i].resource_name = proto_rd_string(r);
		res[i].configs = rd_config_kvs(r, &res[i].configs_count);
	}
	m.resources = res;
	m.validate_only = proto_rd_bool(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_alter_configs_req_encode(proto_buf_t *b, int16_t version,
				    const proto_alter_configs_req_t *m)
{
	if (!wr_version(b, PROTO_API_ALTER_CONFIGS, version))
		return;
	wr_count(b, m->resources_count, false);
	for (int32_t i = 0; i < m->resources_count; i++) {
		proto_wr_i8(b, m->resources[i].resource_type);
		proto_wr_string(b, m->resources[i].resource_name);
		wr_config_kvs(b, m->resources[i].configs, m->resources[i].configs_count);
	}
	proto_wr_bool(b, m->validate_only);
}

/* The response body both config-changing APIs share in their pinned
 * versions. */
static tern_err_t alter_resp_decode(proto_reader_t *r, proto_alter_configs_resp_t *out)
{
	proto_alter_configs_resp_t m = {0};
	proto_alter_configs_result_t *res;

	m.throttle_time_ms = proto_rd_i32(r);
	res = rd_array(r, SZ_I16 + SZ_STR + SZ_I8 + SZ_STR, false, sizeof *res, &m.responses_count);
	for (int32_t i = 0; i < m.responses_count && !r->err; i++) {
		res[i].error_code = proto_rd_i16(r);
		res[i].error_message = proto_rd_nstring(r);
		res[i].resource_type = proto_rd_i8(r);
		res[i].resource_name = proto_rd_string(r);
	}
	m.responses = res;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

static void alter_resp_encode(proto_buf_t *b, const proto_alter_configs_resp_t *m)
{
	proto_wr_i32(b, m->throttle_time_ms);
	wr_count(b, m->responses_count, false);
	for (int32_t i = 0; i < m->responses_count; i++) {
		const proto_alter_configs_result_t *res = &m->responses[i];

		proto_wr_i16(b, res->error_code);
		proto_wr_nstring(b, res->error_message);
		proto_wr_i8(b, res->resource_type);
		proto_wr_string(b, res->resource_name);
	}
}

tern_err_t proto_alter_configs_resp_decode(proto_reader_t *r, int16_t version,
					   proto_alter_configs_resp_t *out)
{
	if (!rd_version(r, PROTO_API_ALTER_CONFIGS, version))
		return r->err;
	return alter_resp_decode(r, out);
}

void proto_alter_configs_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_alter_configs_resp_t *m)
{
	if (wr_version(b, PROTO_API_ALTER_CONFIGS, version))
		alter_resp_encode(b, m);
}

static void rd_incremental_resource(proto_reader_t *r,
				    proto_incremental_alter_configs_resource_t *res)
{
	proto_incremental_alter_config_t *c;

	res->resource_type = proto_rd_i8(r);
	res->resource_name = proto_rd_string(r);
	c = rd_array(r, SZ_STR + SZ_I8 + SZ_STR, false, sizeof *c, &res->configs_count);
	for (int32_t i = 0; i < res->configs_count && !r->err; i++) {
		c[i].name = proto_rd_string(r);
		c[i].config_operation = proto_rd_i8(r);
		c[i].value = proto_rd_nstring(r);
	}
	res->configs = c;
}

tern_err_t proto_incremental_alter_configs_req_decode(proto_reader_t *r, int16_t version,
						      proto_incremental_alter_configs_req_t *out)
{
	proto_incremental_alter_configs_req_t m = {0};
	proto_incremental_alter_configs_resource_t *res;

	if (!rd_version(r, PROTO_API_INCREMENTAL_ALTER_CONFIGS, version))
		return r->err;
	res = rd_array(r, ALTER_RESOURCE_MIN, false, sizeof *res, &m.resources_count);
	for (int32_t i = 0; i < m.resources_count && !r->err; i++)
		rd_incremental_resource(r, &res[i]);
	m.resources = res;
	m.validate_only = proto_rd_bool(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_incremental_alter_configs_req_encode(proto_buf_t *b, int16_t version,
						const proto_incremental_alter_configs_req_t *m)
{
	if (!wr_version(b, PROTO_API_INCREMENTAL_ALTER_CONFIGS, version))
		return;
	wr_count(b, m->resources_count, false);
	for (int32_t i = 0; i < m->resources_count; i++) {
		const proto_incremental_alter_configs_resource_t *res = &m->resources[i];

		proto_wr_i8(b, res->resource_type);
		proto_wr_string(b, res->resource_name);
		wr_count(b, res->configs_count, false);
		for (int32_t j = 0; j < res->configs_count; j++) {
			proto_wr_string(b, res->configs[j].name);
			proto_wr_i8(b, res->configs[j].config_operation);
			proto_wr_nstring(b, res->configs[j].value);
		}
	}
	proto_wr_bool(b, m->validate_only);
}

tern_err_t proto_incremental_alter_configs_resp_decode(proto_reader_t *r, int16_t version,
						       proto_incremental_alter_configs_resp_t *out)
{
	if (!rd_version(r, PROTO_API_INCREMENTAL_ALTER_CONFIGS, version))
		return r->err;
	return alter_resp_decode(r, out);
}

void proto_incremental_alter_configs_resp_encode(proto_buf_t *b, int16_t version,
						 const proto_incremental_alter_configs_resp_t *m)
{
	if (wr_version(b, PROTO_API_INCREMENTAL_ALTER_CONFIGS, version))
		alter_resp_encode(b, m);
}

/* ------------------------------------------------------------------------ */
/* FindCoordinator                                                            */

tern_err_t proto_find_coordinator_req_decode(proto_reader_t *r, int16_t version,
					     proto_find_coordinator_req_t *out)
{
	proto_find_coordinator_req_t m = {0};

	if (!rd_version(r, PROTO_API_FIND_COORDINATOR, version))
		return r->err;
	m.key = proto_rd_string(r);
	m.key_type = version >= 1 ? proto_rd_i8(r) : PROTO_COORDINATOR_GROUP;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_find_coordinator_req_encode(proto_buf_t *b, int16_t version,
				       const proto_find_coordinator_req_t *m)
{
	if (!wr_version(b, PROTO_API_FIND_COORDINATOR, version))
		return;
	proto_wr_string(b, m->key);
	if (version >= 1)
		proto_wr_i8(b, m->key_type);
}

tern_err_t proto_find_coordinator_resp_decode(proto_reader_t *r, int16_t version,
					      proto_find_coordinator_resp_t *out)
{
	proto_find_coordinator_resp_t m = {0};

	if (!rd_version(r, PROTO_API_FIND_COORDINATOR, version))
		return r->err;
	if (version >= 1)
		m.throttle_time_ms = proto_rd_i32(r);
	m.error_code = proto_rd_i16(r);
	m.error_message = version >= 1 ? proto_rd_nstring(r) : PROTO_STR("");
	m.node_id = proto_rd_i32(r);
	m.host = proto_rd_string(r);
	m.port = proto_rd_i32(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_find_coordinator_resp_encode(proto_buf_t *b, int16_t version,
					const proto_find_coordinator_resp_t *m)
{
	if (!wr_version(b, PROTO_API_FIND_COORDINATOR, version))
		return;
	if (version >= 1)
		proto_wr_i32(b, m->throttle_time_ms);
	proto_wr_i16(b, m->error_code);
	if (version >= 1)
		proto_wr_nstring(b, m->error_message);
	proto_wr_i32(b, m->node_id);
	proto_wr_string(b, m->host);
	proto_wr_i32(b, m->port);
}

/* ------------------------------------------------------------------------ */
/* OffsetCommit                                                               */

static void rd_offset_commit_topic(proto_reader_t *r, int16_t version,
				   proto_offset_commit_topic_t *t)
{
	size_t part_min = SZ_I32 + SZ_I64 + (version >= 6 ? SZ_I32 : 0) + SZ_STR;
	proto_offset_commit_partition_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, part_min, false, sizeof *p, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition_index = proto_rd_i32(r);
		p[i].committed_offset = proto_rd_i64(r);
		p[i].committed_leader_epoch = version >= 6 ? proto_rd_i32(r) : -1;
		p[i].committed_metadata = proto_rd_nstring(r);
	}
	t->partitions = p;
}

tern_err_t proto_offset_commit_req_decode(proto_reader_t *r, int16_t version,
					  proto_offset_commit_req_t *out)
{
	proto_offset_commit_req_t m = {0};
	proto_offset_commit_topic_t *topics;

	if (!rd_version(r, PROTO_API_OFFSET_COMMIT, version))
		return r->err;
	m.group_id = proto_rd_string(r);
	m.generation_id = proto_rd_i32(r);
	m.member_id = proto_rd_string(r);
	m.group_instance_id = version >= 7 ? proto_rd_nstring(r) : PROTO_NULL_STR;
	m.retention_time_ms = version <= 4 ? proto_rd_i64(r) : -1;
	topics = rd_array(r, SZ_STR + SZ_ARR, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_offset_commit_topic(r, version, &topics[i]);
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_offset_commit_req_encode(proto_buf_t *b, int16_t version,
				    const proto_offset_commit_req_t *m)
{
	if (!wr_version(b, PROTO_API_OFFSET_COMMIT, version))
		return;
	proto_wr_string(b, m->group_id);
	proto_wr_i32(b, m->generation_id);
	proto_wr_string(b, m->member_id);
	if (version >= 7)
		proto_wr_nstring(b, m->group_instance_id);
	if (version <= 4)
		proto_wr_i64(b, m->retention_time_ms);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_offset_commit_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_offset_commit_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i64(b, p->committed_offset);
			if (version >= 6)
				proto_wr_i32(b, p->committed_leader_epoch);
			proto_wr_nstring(b, p->committed_metadata);
		}
	}
}

static void rd_offset_commit_topic_result(proto_reader_t *r, proto_offset_commit_topic_result_t *t)
{
	proto_offset_commit_partition_result_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, SZ_I32 + SZ_I16, false, sizeof *p, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition_index = proto_rd_i32(r);
		p[i].error_code = proto_rd_i16(r);
	}
	t->partitions = p;
}

tern_err_t proto_offset_commit_resp_decode(proto_reader_t *r, int16_t version,
					   proto_offset_commit_resp_t *out)
{
	proto_offset_commit_resp_t m = {0};
	proto_offset_commit_topic_result_t *topics;

	if (!rd_version(r, PROTO_API_OFFSET_COMMIT, version))
		return r->err;
	if (version >= 3)
		m.throttle_time_ms = proto_rd_i32(r);
	topics = rd_array(r, SZ_STR + SZ_ARR, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_offset_commit_topic_result(r, &topics[i]);
	m.topics = topics;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_offset_commit_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_offset_commit_resp_t *m)
{
	if (!wr_version(b, PROTO_API_OFFSET_COMMIT, version))
		return;
	if (version >= 3)
		proto_wr_i32(b, m->throttle_time_ms);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_offset_commit_topic_result_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			proto_wr_i32(b, t->partitions[j].partition_index);
			proto_wr_i16(b, t->partitions[j].error_code);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* OffsetFetch                                                                */

tern_err_t proto_offset_fetch_req_decode(proto_reader_t *r, int16_t version,
					 proto_offset_fetch_req_t *out)
{
	proto_offset_fetch_req_t m = {0};

	if (!rd_version(r, PROTO_API_OFFSET_FETCH, version))
		return r->err;
	m.group_id = proto_rd_string(r);
	m.topics = rd_topic_ids(r, version >= 2, &m.topics_count);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_offset_fetch_req_encode(proto_buf_t *b, int16_t version,
				   const proto_offset_fetch_req_t *m)
{
	if (!wr_version(b, PROTO_API_OFFSET_FETCH, version))
		return;
	proto_wr_string(b, m->group_id);
	wr_topic_ids(b, m->topics, m->topics_count, version >= 2);
}

static void rd_offset_fetch_topic(proto_reader_t *r, int16_t version, proto_offset_fetch_topic_t *t)
{
	size_t part_min = SZ_I32 + SZ_I64 + (version >= 5 ? SZ_I32 : 0) + SZ_STR + SZ_I16;
	proto_offset_fetch_partition_t *p;

	t->name = proto_rd_string(r);
	p = rd_array(r, part_min, false, sizeof *p, &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition_index = proto_rd_i32(r);
		p[i].committed_offset = proto_rd_i64(r);
		p[i].committed_leader_epoch = version >= 5 ? proto_rd_i32(r) : -1;
		p[i].metadata = proto_rd_nstring(r);
		p[i].error_code = proto_rd_i16(r);
	}
	t->partitions = p;
}

tern_err_t proto_offset_fetch_resp_decode(proto_reader_t *r, int16_t version,
					  proto_offset_fetch_resp_t *out)
{
	proto_offset_fetch_resp_t m = {0};
	proto_offset_fetch_topic_t *topics;

	if (!rd_version(r, PROTO_API_OFFSET_FETCH, version))
		return r->err;
	if (version >= 3)
		m.throttle_time_ms = proto_rd_i32(r);
	topics = rd_array(r, SZ_STR + SZ_ARR, false, sizeof *topics, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		rd_offset_fetch_topic(r, version, &topics[i]);
	m.topics = topics;
	if (version >= 2)
		m.error_code = proto_rd_i16(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_offset_fetch_resp_encode(proto_buf_t *b, int16_t version,
				    const proto_offset_fetch_resp_t *m)
{
	if (!wr_version(b, PROTO_API_OFFSET_FETCH, version))
		return;
	if (version >= 3)
		proto_wr_i32(b, m->throttle_time_ms);
	wr_count(b, m->topics_count, false);
	for (int32_t i = 0; i < m->topics_count; i++) {
		const proto_offset_fetch_topic_t *t = &m->topics[i];

		proto_wr_string(b, t->name);
		wr_count(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const proto_offset_fetch_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i64(b, p->committed_offset);
			if (version >= 5)
				proto_wr_i32(b, p->committed_leader_epoch);
			proto_wr_nstring(b, p->metadata);
			proto_wr_i16(b, p->error_code);
		}
	}
	if (version >= 2)
		proto_wr_i16(b, m->error_code);
}

/* ------------------------------------------------------------------------ */
/* InitProducerId                                                             */

tern_err_t proto_init_producer_id_req_decode(proto_reader_t *r, int16_t version,
					     proto_init_producer_id_req_t *out)
{
	proto_init_producer_id_req_t m = {0};

	if (!rd_version(r, PROTO_API_INIT_PRODUCER_ID, version))
		return r->err;
	m.transactional_id = proto_rd_nstring(r);
	m.transaction_timeout_ms = proto_rd_i32(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_init_producer_id_req_encode(proto_buf_t *b, int16_t version,
				       const proto_init_producer_id_req_t *m)
{
	if (!wr_version(b, PROTO_API_INIT_PRODUCER_ID, version))
		return;
	proto_wr_nstring(b, m->transactional_id);
	proto_wr_i32(b, m->transaction_timeout_ms);
}

tern_err_t proto_init_producer_id_resp_decode(proto_reader_t *r, int16_t version,
					      proto_init_producer_id_resp_t *out)
{
	proto_init_producer_id_resp_t m = {0};

	if (!rd_version(r, PROTO_API_INIT_PRODUCER_ID, version))
		return r->err;
	m.throttle_time_ms = proto_rd_i32(r);
	m.error_code = proto_rd_i16(r);
	m.producer_id = proto_rd_i64(r);
	m.producer_epoch = proto_rd_i16(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_init_producer_id_resp_encode(proto_buf_t *b, int16_t version,
					const proto_init_producer_id_resp_t *m)
{
	if (!wr_version(b, PROTO_API_INIT_PRODUCER_ID, version))
		return;
	proto_wr_i32(b, m->throttle_time_ms);
	proto_wr_i16(b, m->error_code);
	proto_wr_i64(b, m->producer_id);
	proto_wr_i16(b, m->producer_epoch);
}

/* ------------------------------------------------------------------------ */
/* ElectLeaders                                                               */

tern_err_t proto_elect_leaders_req_decode(proto_reader_t *r, int16_t version,
					  proto_elect_leaders_req_t *out)
{
	proto_elect_leaders_req_t m = {0};

	if (!rd_version(r, PROTO_API_ELECT_LEADERS, version))
		return r->err;
	m.election_type = version >= 1 ? proto_rd_i8(r) : PROTO_ELECTION_PREFERRED;
	m.topic_partitions = rd_topic_ids(r, true, &m.topic_partitions_count);
	m.timeout_ms = proto_rd_i32(r);
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_elect_leaders_req_encode(proto_buf_t *b, int16_t version,
				    const proto_elect_leaders_req_t *m)
{
	if (!wr_version(b, PROTO_API_ELECT_LEADERS, version))
		return;
	if (version >= 1)
		proto_wr_i8(b, m->election_type);
	wr_topic_ids(b, m->topic_partitions, m->topic_partitions_count, true);
	proto_wr_i32(b, m->timeout_ms);
}

static void rd_elect_leaders_topic_result(proto_reader_t *r, proto_elect_leaders_topic_result_t *t)
{
	proto_elect_leaders_partition_result_t *p;

	t->topic = proto_rd_string(r);
	p = rd_array(r, SZ_I32 + SZ_I16 + SZ_STR, false, sizeof *p, &t->partition_results_count);
	for (int32_t i = 0; i < t->partition_results_count && !r->err; i++) {
		p[i].partition_id = proto_rd_i32(r);
		p[i].error_code = proto_rd_i16(r);
		p[i].error_message = proto_rd_nstring(r);
	}
	t->partition_results = p;
}

tern_err_t proto_elect_leaders_resp_decode(proto_reader_t *r, int16_t version,
					   proto_elect_leaders_resp_t *out)
{
	proto_elect_leaders_resp_t m = {0};
	proto_elect_leaders_topic_result_t *res;

	if (!rd_version(r, PROTO_API_ELECT_LEADERS, version))
		return r->err;
	m.throttle_time_ms = proto_rd_i32(r);
	if (version >= 1)
		m.error_code = proto_rd_i16(r);
	res = rd_array(r, SZ_STR + SZ_ARR, false, sizeof *res, &m.replica_election_results_count);
	for (int32_t i = 0; i < m.replica_election_results_count && !r->err; i++)
		rd_elect_leaders_topic_result(r, &res[i]);
	m.replica_election_results = res;
	if (r->err)
		return r->err;
	*out = m;
	return TERN_OK;
}

void proto_elect_leaders_resp_encode(proto_buf_t *b, int16_t version,
				     const proto_elect_leaders_resp_t *m)
{
	if (!wr_version(b, PROTO_API_ELECT_LEADERS, version))
		return;
	proto_wr_i32(b, m->throttle_time_ms);
	if (version >= 1)
		proto_wr_i16(b, m->error_code);
	wr_count(b, m->replica_election_results_count, false);
	for (int32_t i = 0; i < m->replica_election_results_count; i++) {
		const proto_elect_leaders_topic_result_t *t = &m->replica_election_results[i];

		proto_wr_string(b, t->topic);
		wr_count(b, t->partition_results_count, false);
		for (int32_t j = 0; j < t->partition_results_count; j++) {
			const proto_elect_leaders_partition_result_t *p = &t->partition_results[j];

			proto_wr_i32(b, p->partition_id);
			proto_wr_i16(b, p->error_code);
			proto_wr_nstring(b, p->error_message);
		}
	}
}
