/* Decoders and encoders of the data-path messages, written field by field
 * from Kafka's schemas; see msg_data.h for the rules they share. */
#include <limits.h>

#include "proto/api.h"
#include "proto/msg_data.h"

/* The minimum wire size of each array element, per version: the sum of the
 * smallest encodings of its fields (an empty string is 2 bytes, an empty
 * or null array 4, null bytes 4, a flexible element's empty tagged-field
 * section 1). proto_rd_array_len() refuses a count that the bytes left
 * could not hold at this size, which is what bounds the arena. */

/* Fails the reader unless Tern speaks version of key. */
static bool version_ok(proto_reader_t *r, int16_t key, int16_t version)
{
	if (proto_api_supported(key, version))
		return true;
	proto_rd_fail(r, TERN_ERR_UNSUPPORTED_VERSION);
	return false;
}

/* Marks b as failed unless Tern speaks version of key (see msg_data.h). */
static bool enc_ok(proto_buf_t *b, int16_t key, int16_t version)
{
	if (proto_api_supported(key, version))
		return true;
	b->oom = true;
	return false;
}

/* Reads an array's count and allocates its elements; *count is 0 after an
 * error, so loops over it do nothing, and -1 for a null (nullable) array. */
static void *rd_array(proto_reader_t *r, bool flex, bool nullable, size_t min_elem, size_t size,
		      int32_t *count)
{
	int32_t n = flex ? proto_rd_carray_len(r, min_elem, nullable)
			 : proto_rd_array_len(r, min_elem, nullable);
	void *p = proto_rd_alloc(r, n, size);

	*count = r->err ? 0 : n;
	return p;
}

/* A non-nullable array's count: a null one is written empty. */
static int32_t len_nn(int32_t n)
{
	return n < 0 ? 0 : n;
}

/* An [int32] array. */
static const int32_t *rd_i32_array(proto_reader_t *r, int32_t *count)
{
	int32_t *a = rd_array(r, false, false, 4, sizeof *a, count);

	for (int32_t i = 0; i < *count && !r->err; i++)
		a[i] = proto_rd_i32(r);
	return a;
}

static void wr_i32_array(proto_buf_t *b, const int32_t *a, int32_t count)
{
	count = len_nn(count);
	proto_wr_array_len(b, count);
	for (int32_t i = 0; i < count; i++)
		proto_wr_i32(b, a[i]);
}

/* Copies the decoded message out on success; returns the reader's error. */
#define FINISH(r, out, m)                                                                          \
	do {                                                                                       \
		if (!(r)->err)                                                                     \
			*(out) = (m);                                                              \
		return (r)->err;                                                                   \
	} while (0)

/* ------------------------------------------------------------------------ */
/* ApiVersions                                                                */

tern_err_t proto_api_versions_req_decode(proto_reader_t *r, int16_t v,
					 proto_api_versions_req_t *out)
{
	proto_api_versions_req_t m = {PROTO_STR(""), PROTO_STR("")};

	if (!version_ok(r, PROTO_API_API_VERSIONS, v))
		return r->err;
	if (v >= 3) {
		m.client_software_name = proto_rd_cstring(r);
		m.client_software_version = proto_rd_cstring(r);
		proto_rd_tagged_fields(r);
	}
	FINISH(r, out, m);
}

void proto_api_versions_req_encode(proto_buf_t *b, int16_t v, const proto_api_versions_req_t *m)
{
	if (!enc_ok(b, PROTO_API_API_VERSIONS, v))
		return;
	if (v >= 3) {
		proto_wr_cstring(b, m->client_software_name);
		proto_wr_cstring(b, m->client_software_version);
		proto_wr_tagged_fields(b);
	}
}

tern_err_t proto_api_versions_resp_decode(proto_reader_t *r, int16_t v,
					  proto_api_versions_resp_t *out)
{
	proto_api_versions_resp_t m = {0};
	bool flex = v >= 3;
	proto_api_version_t *k;

	if (!version_ok(r, PROTO_API_API_VERSIONS, v))
		return r->err;
	m.error_code = proto_rd_i16(r);
	k = rd_array(r, flex, false, flex ? 7 : 6, sizeof *k, &m.api_keys_count);
	for (int32_t i = 0; i < m.api_keys_count && !r->err; i++) {
		k[i].api_key = proto_rd_i16(r);
		k[i].min_version = proto_rd_i16(r);
		k[i].max_version = proto_rd_i16(r);
		if (flex)
			proto_rd_tagged_fields(r);
	}
	m.api_keys = k;
	if (v >= 1)
		m.throttle_time_ms = proto_rd_i32(r);
	if (flex)
		proto_rd_tagged_fields(r);
	FINISH(r, out, m);
}

void proto_api_versions_resp_encode(proto_buf_t *b, int16_t v, const proto_api_versions_resp_t *m)
{
	bool flex = v >= 3;
	int32_t n = len_nn(m->api_keys_count);

	if (!enc_ok(b, PROTO_API_API_VERSIONS, v))
		return;
	proto_wr_i16(b, m->error_code);
	if (flex)
		proto_wr_carray_len(b, n);
	else
		proto_wr_array_len(b, n);
	for (int32_t i = 0; i < n; i++) {
		proto_wr_i16(b, m->api_keys[i].api_key);
		proto_wr_i16(b, m->api_keys[i].min_version);
		proto_wr_i16(b, m->api_keys[i].max_version);
		if (flex)
			proto_wr_tagged_fields(b);
	}
	if (v >= 1)
		proto_wr_i32(b, m->throttle_time_ms);
	if (flex)
		proto_wr_tagged_fields(b);
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                   */

tern_err_t proto_metadata_req_decode(proto_reader_t *r, int16_t v, proto_metadata_req_t *out)
{
	proto_metadata_req_t m = {.allow_auto_topic_creation = true};
	proto_str_t *t;

	if (!version_ok(r, PROTO_API_METADATA, v))
		return r->err;
	t = rd_array(r, false, true, 2, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++)
		t[i] = proto_rd_string(r);
	m.topics = t;
	if (v >= 4)
		m.allow_auto_topic_creation = proto_rd_bool(r);
	if (v >= 8) {
		m.include_cluster_authorized_operations = proto_rd_bool(r);
		m.include_topic_authorized_operations = proto_rd_bool(r);
	}
	FINISH(r, out, m);
}

void proto_metadata_req_encode(proto_buf_t *b, int16_t v, const proto_metadata_req_t *m)
{
	if (!enc_ok(b, PROTO_API_METADATA, v))
		return;
	proto_wr_array_len(b, m->topics_count);
	for (int32_t i = 0; i < m->topics_count; i++)
		proto_wr_string(b, m->topics[i]);
	if (v >= 4)
		proto_wr_bool(b, m->allow_auto_topic_creation);
	if (v >= 8) {
		proto_wr_bool(b, m->include_cluster_authorized_operations);
		proto_wr_bool(b, m->include_topic_authorized_operations);
	}
}

static void rd_metadata_partitions(proto_reader_t *r, int16_t v, proto_metadata_topic_t *t)
{
	/* error, index, leader, replicas, isr; leader epoch v7+, offline v5+ */
	size_t min = 2 + 4 + 4 + 4 + 4 + (v >= 7 ? 4 : 0) + (v >= 5 ? 4 : 0);
	proto_metadata_partition_t *p =
	    rd_array(r, false, false, min, sizeof *p, &t->partitions_count);

	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].error_code = proto_rd_i16(r);
		p[i].partition_index = proto_rd_i32(r);
		p[i].leader_id = proto_rd_i32(r);
		p[i].leader_epoch = v >= 7 ? proto_rd_i32(r) : -1;
		p[i].replica_nodes = rd_i32_array(r, &p[i].replica_nodes_count);
		p[i].isr_nodes = rd_i32_array(r, &p[i].isr_nodes_count);
		if (v >= 5)
			p[i].offline_replicas = rd_i32_array(r, &p[i].offline_replicas_count);
	}
	t->partitions = p;
}

tern_err_t proto_metadata_resp_decode(proto_reader_t *r, int16_t v, proto_metadata_resp_t *out)
{
	proto_metadata_resp_t m = {
	    .cluster_id = PROTO_NULL_STR,
	    .cluster_authorized_operations = INT32_MIN,
	};
	proto_metadata_broker_t *br;
	proto_metadata_topic_t *t;

	if (!version_ok(r, PROTO_API_METADATA, v))
		return r->err;
	if (v >= 3)
		m.throttle_time_ms = proto_rd_i32(r);
	/* node id, host, port, rack */
	br = rd_array(r, false, false, 4 + 2 + 4 + 2, sizeof *br, &m.brokers_count);
	for (int32_t i = 0; i < m.brokers_count && !r->err; i++) {
		br[i].node_id = proto_rd_i32(r);
		br[i].host = proto_rd_string(r);
		br[i].port = proto_rd_i32(r);
		br[i].rack = proto_rd_nstring(r);
	}
	m.brokers = br;
	if (v >= 2)
		m.cluster_id = proto_rd_nstring(r);
	m.controller_id = proto_rd_i32(r);
	/* error, name, internal, partitions; authorized operations v8+ */
	t = rd_array(r, false, false, 2 + 2 + 1 + 4 + (v >= 8 ? 4 : 0), sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		t[i].error_code = proto_rd_i16(r);
		t[i].name = proto_rd_string(r);
		t[i].is_internal = proto_rd_bool(r);
		rd_metadata_partitions(r, v, &t[i]);
		t[i].topic_authorized_operations = v >= 8 ? proto_rd_i32(r) : INT32_MIN;
	}
	m.topics = t;
	if (v >= 8)
		m.cluster_authorized_operations = proto_rd_i32(r);
	FINISH(r, out, m);
}

void proto_metadata_resp_encode(proto_buf_t *b, int16_t v, const proto_metadata_resp_t *m)
{
	int32_t nb = len_nn(m->brokers_count), nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_METADATA, v))
		return;
	if (v >= 3)
		proto_wr_i32(b, m->throttle_time_ms);
	proto_wr_array_len(b, nb);
	for (int32_t i = 0; i < nb; i++) {
		const proto_metadata_broker_t *br = &m->brokers[i];

		proto_wr_i32(b, br->node_id);
		proto_wr_string(b, br->host);
		proto_wr_i32(b, br->port);
		proto_wr_nstring(b, br->rack);
	}
	if (v >= 2)
		proto_wr_nstring(b, m->cluster_id);
	proto_wr_i32(b, m->controller_id);
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_metadata_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_i16(b, t->error_code);
		proto_wr_string(b, t->name);
		proto_wr_bool(b, t->is_internal);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			const proto_metadata_partition_t *p = &t->partitions[j];

			proto_wr_i16(b, p->error_code);
			proto_wr_i32(b, p->partition_index);
			proto_wr_i32(b, p->leader_id);
			if (v >= 7)
				proto_wr_i32(b, p->leader_epoch);
			wr_i32_array(b, p->replica_nodes, p->replica_nodes_count);
			wr_i32_array(b, p->isr_nodes, p->isr_nodes_count);
			if (v >= 5)
				wr_i32_array(b, p->offline_replicas, p->offline_replicas_count);
		}
		if (v >= 8)
			proto_wr_i32(b, t->topic_authorized_operations);
	}
	if (v >= 8)
		proto_wr_i32(b, m->cluster_authorized_operations);
}

/* ------------------------------------------------------------------------ */
/* Produce                                                                    */

tern_err_t proto_produce_req_decode(proto_reader_t *r, int16_t v, proto_produce_req_t *out)
{
	proto_produce_req_t m = {0};
	proto_produce_req_topic_t *t;

	if (!version_ok(r, PROTO_API_PRODUCE, v))
		return r->err;
	m.transactional_id = proto_rd_nstring(r);
	m.acks = proto_rd_i16(r);
	m.timeout_ms = proto_rd_i32(r);
	/* name, partitions */
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		proto_produce_req_partition_t *p;

		t[i].name = proto_rd_string(r);
		/* index, records */
		p = rd_array(r, false, false, 4 + 4, sizeof *p, &t[i].partitions_count);
		for (int32_t j = 0; j < t[i].partitions_count && !r->err; j++) {
			p[j].index = proto_rd_i32(r);
			p[j].records = proto_rd_nbytes(r);
		}
		t[i].partitions = p;
	}
	m.topics = t;
	FINISH(r, out, m);
}

void proto_produce_req_encode(proto_buf_t *b, int16_t v, const proto_produce_req_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_PRODUCE, v))
		return;
	proto_wr_nstring(b, m->transactional_id);
	proto_wr_i16(b, m->acks);
	proto_wr_i32(b, m->timeout_ms);
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_produce_req_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->name);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			proto_wr_i32(b, t->partitions[j].index);
			proto_wr_nbytes(b, t->partitions[j].records);
		}
	}
}

static void rd_produce_resp_partitions(proto_reader_t *r, int16_t v, proto_produce_resp_topic_t *t)
{
	/* index, error, base offset, append time; start offset v5+; record
	 * errors and error message v8+ */
	size_t min = 4 + 2 + 8 + 8 + (v >= 5 ? 8 : 0) + (v >= 8 ? 4 + 2 : 0);
	proto_produce_resp_partition_t *p =
	    rd_array(r, false, false, min, sizeof *p, &t->partitions_count);

	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].index = proto_rd_i32(r);
		p[i].error_code = proto_rd_i16(r);
		p[i].base_offset = proto_rd_i64(r);
		p[i].log_append_time_ms = proto_rd_i64(r);
		p[i].log_start_offset = v >= 5 ? proto_rd_i64(r) : -1;
		p[i].error_message = PROTO_NULL_STR;
		if (v >= 8) {
			proto_produce_record_error_t *e;

			/* batch index, message */
			e = rd_array(r, false, false, 4 + 2, sizeof *e, &p[i].record_errors_count);
			for (int32_t j = 0; j < p[i].record_errors_count && !r->err; j++) {
				e[j].batch_index = proto_rd_i32(r);
				e[j].message = proto_rd_nstring(r);
			}
			p[i].record_errors = e;
			p[i].error_message = proto_rd_nstring(r);
		}
	}
	t->partitions = p;
}

tern_err_t proto_produce_resp_decode(proto_reader_t *r, int16_t v, proto_produce_resp_t *out)
{
	proto_produce_resp_t m = {0};
	proto_produce_resp_topic_t *t;

	if (!version_ok(r, PROTO_API_PRODUCE, v))
		return r->err;
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		t[i].name = proto_rd_string(r);
		rd_produce_resp_partitions(r, v, &t[i]);
	}
	m.topics = t;
	m.throttle_time_ms = proto_rd_i32(r);
	FINISH(r, out, m);
}

void proto_produce_resp_encode(proto_buf_t *b, int16_t v, const proto_produce_resp_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_PRODUCE, v))
		return;
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_produce_resp_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->name);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			const proto_produce_resp_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->index);
			proto_wr_i16(b, p->error_code);
			proto_wr_i64(b, p->base_offset);
			proto_wr_i64(b, p->log_append_time_ms);
			if (v >= 5)
				proto_wr_i64(b, p->log_start_offset);
			if (v >= 8) {
				int32_t ne = len_nn(p->record_errors_count);

				proto_wr_array_len(b, ne);
				for (int32_t k = 0; k < ne; k++) {
					proto_wr_i32(b, p->record_errors[k].batch_index);
					proto_wr_nstring(b, p->record_errors[k].message);
				}
				proto_wr_nstring(b, p->error_message);
			}
		}
	}
	proto_wr_i32(b, m->throttle_time_ms);
}

/* ------------------------------------------------------------------------ */
/* Fetch                                                                      */

static void rd_fetch_req_partitions(proto_reader_t *r, int16_t v, proto_fetch_req_topic_t *t)
{
	/* partition, fetch offset, max bytes; leader epoch v9+; log start v5+ */
	size_t min = 4 + 8 + 4 + (v >= 9 ? 4 : 0) + (v >= 5 ? 8 : 0);
	proto_fetch_req_partition_t *p =
	    rd_array(r, false, false, min, sizeof *p, &t->partitions_count);

	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		p[i].partition = proto_rd_i32(r);
		p[i].current_leader_epoch = v >= 9 ? proto_rd_i32(r) : -1;
		p[i].fetch_offset = proto_rd_i64(r);
		p[i].log_start_offset = v >= 5 ? proto_rd_i64(r) : -1;
		p[i].partition_max_bytes = proto_rd_i32(r);
	}
	t->partitions = p;
}

tern_err_t proto_fetch_req_decode(proto_reader_t *r, int16_t v, proto_fetch_req_t *out)
{
	proto_fetch_req_t m = {.session_epoch = -1, .rack_id = PROTO_STR("")};
	proto_fetch_req_topic_t *t;

	if (!version_ok(r, PROTO_API_FETCH, v))
		return r->err;
	m.replica_id = proto_rd_i32(r);
	m.max_wait_ms = proto_rd_i32(r);
	m.min_bytes = proto_rd_i32(r);
	m.max_bytes = proto_rd_i32(r);
	m.isolation_level = proto_rd_i8(r);
	if (v >= 7) {
		m.session_id = proto_rd_i32(r);
		m.session_epoch = proto_rd_i32(r);
	}
	/* topic, partitions */
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		t[i].topic = proto_rd_string(r);
		rd_fetch_req_partitions(r, v, &t[i]);
	}
	m.topics = t;
	if (v >= 7) {
		proto_fetch_forgotten_topic_t *f;

		/* topic, partitions */
		f = rd_array(r, false, false, 2 + 4, sizeof *f, &m.forgotten_topics_count);
		for (int32_t i = 0; i < m.forgotten_topics_count && !r->err; i++) {
			f[i].topic = proto_rd_string(r);
			f[i].partitions = rd_i32_array(r, &f[i].partitions_count);
		}
		m.forgotten_topics = f;
	}
	if (v >= 11)
		m.rack_id = proto_rd_string(r);
	FINISH(r, out, m);
}

void proto_fetch_req_encode(proto_buf_t *b, int16_t v, const proto_fetch_req_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_FETCH, v))
		return;
	proto_wr_i32(b, m->replica_id);
	proto_wr_i32(b, m->max_wait_ms);
	proto_wr_i32(b, m->min_bytes);
	proto_wr_i32(b, m->max_bytes);
	proto_wr_i8(b, m->isolation_level);
	if (v >= 7) {
		proto_wr_i32(b, m->session_id);
		proto_wr_i32(b, m->session_epoch);
	}
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_fetch_req_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->topic);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			const proto_fetch_req_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition);
			if (v >= 9)
				proto_wr_i32(b, p->current_leader_epoch);
			proto_wr_i64(b, p->fetch_offset);
			if (v >= 5)
				proto_wr_i64(b, p->log_start_offset);
			proto_wr_i32(b, p->partition_max_bytes);
		}
	}
	if (v >= 7) {
		int32_t nf = len_nn(m->forgotten_topics_count);

		proto_wr_array_len(b, nf);
		for (int32_t i = 0; i < nf; i++) {
			proto_wr_string(b, m->forgotten_topics[i].topic);
			wr_i32_array(b, m->forgotten_topics[i].partitions,
				     m->forgotten_topics[i].partitions_count);
		}
	}
	if (v >= 11)
		proto_wr_string(b, m->rack_id);
}

static void rd_fetch_resp_partitions(proto_reader_t *r, int16_t v, proto_fetch_resp_topic_t *t)
{
	/* index, error, hwm, lso, aborted, records; log start v5+; preferred
	 * read replica v11+ */
	size_t min = 4 + 2 + 8 + 8 + 4 + 4 + (v >= 5 ? 8 : 0) + (v >= 11 ? 4 : 0);
	proto_fetch_resp_partition_t *p =
	    rd_array(r, false, false, min, sizeof *p, &t->partitions_count);

	for (int32_t i = 0; i < t->partitions_count && !r->err; i++) {
		proto_fetch_aborted_txn_t *a;

		p[i].partition_index = proto_rd_i32(r);
		p[i].error_code = proto_rd_i16(r);
		p[i].high_watermark = proto_rd_i64(r);
		p[i].last_stable_offset = proto_rd_i64(r);
		p[i].log_start_offset = v >= 5 ? proto_rd_i64(r) : -1;
		/* producer id, first offset */
		a = rd_array(r, false, true, 8 + 8, sizeof *a, &p[i].aborted_transactions_count);
		for (int32_t j = 0; j < p[i].aborted_transactions_count && !r->err; j++) {
			a[j].producer_id = proto_rd_i64(r);
			a[j].first_offset = proto_rd_i64(r);
		}
		p[i].aborted_transactions = a;
		p[i].preferred_read_replica = v >= 11 ? proto_rd_i32(r) : -1;
		p[i].records = proto_rd_nbytes(r);
	}
	t->partitions = p;
}

tern_err_t proto_fetch_resp_decode(proto_reader_t *r, int16_t v, proto_fetch_resp_t *out)
{
	proto_fetch_resp_t m = {0};
	proto_fetch_resp_topic_t *t;

	if (!version_ok(r, PROTO_API_FETCH, v))
		return r->err;
	m.throttle_time_ms = proto_rd_i32(r);
	if (v >= 7) {
		m.error_code = proto_rd_i16(r);
		m.session_id = proto_rd_i32(r);
	}
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		t[i].topic = proto_rd_string(r);
		rd_fetch_resp_partitions(r, v, &t[i]);
	}
	m.topics = t;
	FINISH(r, out, m);
}

/* Where an iov-encoding stands: iov[0..n) are the pieces so far, buffer
 * pieces at even indexes and records at odd ones. Because b may move while
 * it grows, a buffer piece holds only where it ends in b (in len, base
 * NULL) until the encoding is complete; it starts where the one before it
 * ended. */
typedef struct iov_state {
	proto_iov_t *iov;
	size_t n;
} iov_state_t;

/* Writes records, as a piece of their own when st is not NULL. */
static void wr_fetch_records(proto_buf_t *b, proto_bytes_t rec, iov_state_t *st)
{
	if (!st || rec.len <= 0) {
		proto_wr_nbytes(b, rec);
		return;
	}
	proto_wr_i32(b, rec.len);
	st->iov[st->n++] = (proto_iov_t){NULL, b->len};
	st->iov[st->n++] = (proto_iov_t){rec.p, (size_t)rec.len};
}

static void wr_fetch_resp(proto_buf_t *b, int16_t v, const proto_fetch_resp_t *m, iov_state_t *st)
{
	int32_t nt = len_nn(m->topics_count);

	proto_wr_i32(b, m->throttle_time_ms);
	if (v >= 7) {
		proto_wr_i16(b, m->error_code);
		proto_wr_i32(b, m->session_id);
	}
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_fetch_resp_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->topic);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			const proto_fetch_resp_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i16(b, p->error_code);
			proto_wr_i64(b, p->high_watermark);
			proto_wr_i64(b, p->last_stable_offset);
			if (v >= 5)
				proto_wr_i64(b, p->log_start_offset);
			proto_wr_array_len(b, p->aborted_transactions_count);
			for (int32_t k = 0; k < p->aborted_transactions_count; k++) {
				proto_wr_i64(b, p->aborted_transactions[k].producer_id);
				proto_wr_i64(b, p->aborted_transactions[k].first_offset);
			}
			if (v >= 11)
				proto_wr_i32(b, p->preferred_read_replica);
			wr_fetch_records(b, p->records, st);
		}
	}
}

void proto_fetch_resp_encode(proto_buf_t *b, int16_t v, const proto_fetch_resp_t *m)
{
	if (!enc_ok(b, PROTO_API_FETCH, v))
		return;
	wr_fetch_resp(b, v, m, NULL);
}

size_t proto_fetch_resp_iov_max(const proto_fetch_resp_t *m)
{
	size_t n = 1;

	for (int32_t i = 0; i < m->topics_count; i++)
		for (int32_t j = 0; j < m->topics[i].partitions_count; j++)
			if (m->topics[i].partitions[j].records.len > 0)
				n += 2;
	return n;
}

size_t proto_fetch_resp_encode_iov(proto_buf_t *b, int16_t v, const proto_fetch_resp_t *m,
				   proto_iov_t *iov)
{
	iov_state_t st = {iov, 0};
	size_t start = 0;

	if (!enc_ok(b, PROTO_API_FETCH, v))
		return 0;
	wr_fetch_resp(b, v, m, &st);
	if (b->oom)
		return 0;
	if (st.n == 0 || b->len > iov[st.n - 2].len)
		iov[st.n++] = (proto_iov_t){NULL, b->len};
	/* Now that b has stopped moving, turn the end offsets into ranges. */
	for (size_t i = 0; i < st.n; i += 2) {
		size_t end = iov[i].len;

		iov[i] = (proto_iov_t){b->p + start, end - start};
		start = end;
	}
	return st.n;
}

/* ------------------------------------------------------------------------ */
/* ListOffsets                                                                */

tern_err_t proto_list_offsets_req_decode(proto_reader_t *r, int16_t v,
					 proto_list_offsets_req_t *out)
{
	proto_list_offsets_req_t m = {0};
	proto_list_offsets_req_topic_t *t;
	/* index, timestamp; current leader epoch v4+ */
	size_t pmin = 4 + 8 + (v >= 4 ? 4 : 0);

	if (!version_ok(r, PROTO_API_LIST_OFFSETS, v))
		return r->err;
	m.replica_id = proto_rd_i32(r);
	if (v >= 2)
		m.isolation_level = proto_rd_i8(r);
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		proto_list_offsets_req_partition_t *p;

		t[i].name = proto_rd_string(r);
		p = rd_array(r, false, false, pmin, sizeof *p, &t[i].partitions_count);
		for (int32_t j = 0; j < t[i].partitions_count && !r->err; j++) {
			p[j].partition_index = proto_rd_i32(r);
			p[j].current_leader_epoch = v >= 4 ? proto_rd_i32(r) : -1;
			p[j].timestamp = proto_rd_i64(r);
		}
		t[i].partitions = p;
	}
	m.topics = t;
	FINISH(r, out, m);
}

void proto_list_offsets_req_encode(proto_buf_t *b, int16_t v, const proto_list_offsets_req_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_LIST_OFFSETS, v))
		return;
	proto_wr_i32(b, m->replica_id);
	if (v >= 2)
		proto_wr_i8(b, m->isolation_level);
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_list_offsets_req_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->name);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			proto_wr_i32(b, t->partitions[j].partition_index);
			if (v >= 4)
				proto_wr_i32(b, t->partitions[j].current_leader_epoch);
			proto_wr_i64(b, t->partitions[j].timestamp);
		}
	}
}

tern_err_t proto_list_offsets_resp_decode(proto_reader_t *r, int16_t v,
					  proto_list_offsets_resp_t *out)
{
	proto_list_offsets_resp_t m = {0};
	proto_list_offsets_resp_topic_t *t;
	/* index, error, timestamp, offset; leader epoch v4+ */
	size_t pmin = 4 + 2 + 8 + 8 + (v >= 4 ? 4 : 0);

	if (!version_ok(r, PROTO_API_LIST_OFFSETS, v))
		return r->err;
	if (v >= 2)
		m.throttle_time_ms = proto_rd_i32(r);
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		proto_list_offsets_resp_partition_t *p;

		t[i].name = proto_rd_string(r);
		p = rd_array(r, false, false, pmin, sizeof *p, &t[i].partitions_count);
		for (int32_t j = 0; j < t[i].partitions_count && !r->err; j++) {
			p[j].partition_index = proto_rd_i32(r);
			p[j].error_code = proto_rd_i16(r);
			p[j].timestamp = proto_rd_i64(r);
			p[j].offset = proto_rd_i64(r);
			p[j].leader_epoch = v >= 4 ? proto_rd_i32(r) : -1;
		}
		t[i].partitions = p;
	}
	m.topics = t;
	FINISH(r, out, m);
}

void proto_list_offsets_resp_encode(proto_buf_t *b, int16_t v, const proto_list_offsets_resp_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_LIST_OFFSETS, v))
		return;
	if (v >= 2)
		proto_wr_i32(b, m->throttle_time_ms);
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_list_offsets_resp_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->name);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			const proto_list_offsets_resp_partition_t *p = &t->partitions[j];

			proto_wr_i32(b, p->partition_index);
			proto_wr_i16(b, p->error_code);
			proto_wr_i64(b, p->timestamp);
			proto_wr_i64(b, p->offset);
			if (v >= 4)
				proto_wr_i32(b, p->leader_epoch);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* OffsetForLeaderEpoch                                                       */

tern_err_t proto_ofle_req_decode(proto_reader_t *r, int16_t v, proto_ofle_req_t *out)
{
	proto_ofle_req_t m = {.replica_id = -2};
	proto_ofle_req_topic_t *t;

	if (!version_ok(r, PROTO_API_OFFSET_FOR_LEADER_EPOCH, v))
		return r->err;
	if (v >= 3)
		m.replica_id = proto_rd_i32(r);
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		proto_ofle_req_partition_t *p;

		t[i].topic = proto_rd_string(r);
		/* partition, current leader epoch, leader epoch */
		p = rd_array(r, false, false, 4 + 4 + 4, sizeof *p, &t[i].partitions_count);
		for (int32_t j = 0; j < t[i].partitions_count && !r->err; j++) {
			p[j].partition = proto_rd_i32(r);
			p[j].current_leader_epoch = proto_rd_i32(r);
			p[j].leader_epoch = proto_rd_i32(r);
		}
		t[i].partitions = p;
	}
	m.topics = t;
	FINISH(r, out, m);
}

void proto_ofle_req_encode(proto_buf_t *b, int16_t v, const proto_ofle_req_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_OFFSET_FOR_LEADER_EPOCH, v))
		return;
	if (v >= 3)
		proto_wr_i32(b, m->replica_id);
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_ofle_req_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->topic);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			proto_wr_i32(b, t->partitions[j].partition);
			proto_wr_i32(b, t->partitions[j].current_leader_epoch);
			proto_wr_i32(b, t->partitions[j].leader_epoch);
		}
	}
}

tern_err_t proto_ofle_resp_decode(proto_reader_t *r, int16_t v, proto_ofle_resp_t *out)
{
	proto_ofle_resp_t m = {0};
	proto_ofle_resp_topic_t *t;

	if (!version_ok(r, PROTO_API_OFFSET_FOR_LEADER_EPOCH, v))
		return r->err;
	m.throttle_time_ms = proto_rd_i32(r);
	t = rd_array(r, false, false, 2 + 4, sizeof *t, &m.topics_count);
	for (int32_t i = 0; i < m.topics_count && !r->err; i++) {
		proto_ofle_resp_partition_t *p;

		t[i].topic = proto_rd_string(r);
		/* error, partition, leader epoch, end offset */
		p = rd_array(r, false, false, 2 + 4 + 4 + 8, sizeof *p, &t[i].partitions_count);
		for (int32_t j = 0; j < t[i].partitions_count && !r->err; j++) {
			p[j].error_code = proto_rd_i16(r);
			p[j].partition = proto_rd_i32(r);
			p[j].leader_epoch = proto_rd_i32(r);
			p[j].end_offset = proto_rd_i64(r);
		}
		t[i].partitions = p;
	}
	m.topics = t;
	FINISH(r, out, m);
}

void proto_ofle_resp_encode(proto_buf_t *b, int16_t v, const proto_ofle_resp_t *m)
{
	int32_t nt = len_nn(m->topics_count);

	if (!enc_ok(b, PROTO_API_OFFSET_FOR_LEADER_EPOCH, v))
		return;
	proto_wr_i32(b, m->throttle_time_ms);
	proto_wr_array_len(b, nt);
	for (int32_t i = 0; i < nt; i++) {
		const proto_ofle_resp_topic_t *t = &m->topics[i];
		int32_t np = len_nn(t->partitions_count);

		proto_wr_string(b, t->topic);
		proto_wr_array_len(b, np);
		for (int32_t j = 0; j < np; j++) {
			const proto_ofle_resp_partition_t *p = &t->partitions[j];

			proto_wr_i16(b, p->error_code);
			proto_wr_i32(b, p->partition);
			proto_wr_i32(b, p->leader_epoch);
			proto_wr_i64(b, p->end_offset);
		}
	}
}
