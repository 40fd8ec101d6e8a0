/* tests/proto/test_msg_admin.c: the admin and group API codecs of
 * proto/msg_admin.h: round trips of every message at every pinned version,
 * Kafka defaults for absent fields, true minimum element sizes, bytes from
 * other Kafka clients' test suites, and seeded truncations and mutations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "testutil.h"

/* ck_assert writes to Check's pipe on every call: in loops over thousands
 * of messages, test first and fail only on a mismatch. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)

/* ------------------------------------------------------------------------ */
/* Random messages                                                            */

/* Elements of the one array a minimal message makes long (see
 * minimal_element_sizes). */
#define MIN_N 40

typedef struct gen {
	uint64_t s;
	proto_arena_t *arena;
	/* Absent fields get random values too, to show that encoders skip
	 * them. Random numbers are drawn the same way in both modes, so a
	 * junk message equals the plain one in every field the version has. */
	bool junk;
	/* >= 0: a minimal message: empty strings, and arrays of one element
	 * up to the minimal-th array drawn, min_n elements there, none after,
	 * so that the minimal-th array's elements all have their smallest
	 * encoding. */
	int minimal;
	int32_t min_n;
	int arrays; /* arrays drawn so far */
} gen_t;

static void gen_init(gen_t *g, uint64_t seed, proto_arena_t *arena)
{
	g->s = seed ? seed : 1;
	g->arena = arena;
	g->junk = false;
	g->minimal = -1;
	g->min_n = MIN_N;
	g->arrays = 0;
}

static uint32_t rn(gen_t *g, uint32_t n)
{
	return (uint32_t)(tt_rand(&g->s) % n);
}

static int8_t r8(gen_t *g)
{
	return (int8_t)tt_rand(&g->s);
}

static int16_t r16(gen_t *g)
{
	return (int16_t)tt_rand(&g->s);
}

static int32_t r32(gen_t *g)
{
	return (int32_t)tt_rand(&g->s);
}

static int64_t r64(gen_t *g)
{
	return (int64_t)tt_rand(&g->s);
}

static bool rb(gen_t *g)
{
	return tt_rand(&g->s) & 1;
}

static const char pool[] = "abcdefghijklmnopqrstuvwxyz0123456789.-_ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* A view into pool, sometimes null where the field allows it. */
static proto_str_t rstr(gen_t *g, bool nullable)
{
	uint32_t len = rn(g, 13), off = rn(g, (uint32_t)(sizeof pool - 13));
	bool null = nullable && rn(g, 5) == 0;

	if (g->minimal >= 0)
		return PROTO_STR("");
	return null ? PROTO_NULL_STR : (proto_str_t){pool + off, (int32_t)len};
}

/* An array's count, -1 (null) sometimes where the array allows it. */
static int32_t rcount(gen_t *g, bool nullable)
{
	int32_t n = (int32_t)rn(g, 4);
	bool null = nullable && rn(g, 6) == 0;
	int i;

	if (g->minimal >= 0) {
		i = g->arrays++;
		return i < g->minimal ? 1 : i == g->minimal ? g->min_n : 0;
	}
	return null ? -1 : n;
}

static void *ralloc(gen_t *g, int32_t n, size_t size)
{
	void *p;

	if (n <= 0)
		return NULL;
	p = proto_arena_alloc(g->arena, (size_t)n, size);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* A field the version has gets the value drawn; an absent one gets
 * Kafka's default (unless junk). The value is drawn either way. */
#define VF(g, present, dflt, draw)                                                                 \
	({                                                                                         \
		__typeof__(draw) vf_ = (draw);                                                     \
		((present) || (g)->junk) ? vf_ : (dflt);                                           \
	})

static const int32_t *ri32s(gen_t *g, int32_t *count)
{
	int32_t *a;

	*count = rcount(g, false);
	a = ralloc(g, *count, sizeof *a);
	for (int32_t i = 0; i < *count; i++)
		a[i] = r32(g);
	return a;
}

static const proto_str_t *rstrs(gen_t *g, bool nullable, int32_t *count)
{
	proto_str_t *a;

	*count = rcount(g, nullable);
	a = ralloc(g, *count, sizeof *a);
	for (int32_t i = 0; i < *count; i++)
		a[i] = rstr(g, false);
	return a;
}

static const proto_config_kv_t *rkvs(gen_t *g, int32_t *count)
{
	proto_config_kv_t *a;

	*count = rcount(g, false);
	a = ralloc(g, *count, sizeof *a);
	for (int32_t i = 0; i < *count; i++) {
		a[i].name = rstr(g, false);
		a[i].value = rstr(g, true);
	}
	return a;
}

static const proto_topic_partition_ids_t *rtopic_ids(gen_t *g, bool nullable, int32_t *count)
{
	proto_topic_partition_ids_t *a;

	*count = rcount(g, nullable);
	a = ralloc(g, *count, sizeof *a);
	for (int32_t i = 0; i < *count; i++) {
		a[i].topic = rstr(g, false);
		a[i].partitions = ri32s(g, &a[i].partitions_count);
	}
	return a;
}

/* ------------------------------------------------------------------------ */
/* Field-by-field comparison                                                  */

static bool str_same(proto_str_t a, proto_str_t b)
{
	if (a.len < 0 || b.len < 0)
		return a.len == b.len;
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, (size_t)a.len) == 0);
}

#define CHECK_STR(a, b) CHECK(str_same((a), (b)))

static void cmp_i32s(const int32_t *a, int32_t an, const int32_t *b, int32_t bn)
{
	CHECK(an == bn);
	for (int32_t i = 0; i < an; i++)
		CHECK(a[i] == b[i]);
}

static void cmp_strs(const proto_str_t *a, int32_t an, const proto_str_t *b, int32_t bn)
{
	CHECK(an == bn);
	for (int32_t i = 0; i < an; i++)
		CHECK_STR(a[i], b[i]);
}

static void cmp_kvs(const proto_config_kv_t *a, int32_t an, const proto_config_kv_t *b, int32_t bn)
{
	CHECK(an == bn);
	for (int32_t i = 0; i < an; i++) {
		CHECK_STR(a[i].name, b[i].name);
		CHECK_STR(a[i].value, b[i].value);
	}
}

static void cmp_topic_ids(const proto_topic_partition_ids_t *a, int32_t an,
			  const proto_topic_partition_ids_t *b, int32_t bn)
{
	CHECK(an == bn);
	for (int32_t i = 0; i < an; i++) {
		CHECK_STR(a[i].topic, b[i].topic);
		cmp_i32s(a[i].partitions, a[i].partitions_count, b[i].partitions,
			 b[i].partitions_count);
	}
}

/* ------------------------------------------------------------------------ */
/* Per message: a random instance for a version, and a full comparison        */

static void fill_create_topics_req(gen_t *g, int16_t v, proto_create_topics_req_t *m)
{
	proto_create_topics_topic_t *t;

	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_create_topics_assignment_t *as;

		t[i].name = rstr(g, false);
		t[i].num_partitions = r32(g);
		t[i].replication_factor = r16(g);
		t[i].assignments_count = rcount(g, false);
		t[i].assignments = as = ralloc(g, t[i].assignments_count, sizeof *as);
		for (int32_t j = 0; j < t[i].assignments_count; j++) {
			as[j].partition_index = r32(g);
			as[j].broker_ids = ri32s(g, &as[j].broker_ids_count);
		}
		t[i].configs = rkvs(g, &t[i].configs_count);
	}
	m->timeout_ms = r32(g);
	m->validate_only = VF(g, v >= 1, false, rb(g));
}

static void cmp_create_topics_req(const proto_create_topics_req_t *a,
				  const proto_create_topics_req_t *b)
{
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_create_topics_topic_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->num_partitions == y->num_partitions);
		CHECK(x->replication_factor == y->replication_factor);
		CHECK(x->assignments_count == y->assignments_count);
		for (int32_t j = 0; j < x->assignments_count; j++) {
			CHECK(x->assignments[j].partition_index ==
			      y->assignments[j].partition_index);
			cmp_i32s(x->assignments[j].broker_ids, x->assignments[j].broker_ids_count,
				 y->assignments[j].broker_ids, y->assignments[j].broker_ids_count);
		}
		cmp_kvs(x->configs, x->configs_count, y->configs, y->configs_count);
	}
	CHECK(a->timeout_ms == b->timeout_ms);
	CHECK(a->validate_only == b->validate_only);
}

static void fill_create_topics_resp(gen_t *g, int16_t v, proto_create_topics_resp_t *m)
{
	proto_create_topics_result_t *t;

	m->throttle_time_ms = VF(g, v >= 2, 0, r32(g));
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		t[i].name = rstr(g, false);
		t[i].error_code = r16(g);
		t[i].error_message = VF(g, v >= 1, PROTO_STR(""), rstr(g, true));
	}
}

static void cmp_create_topics_resp(const proto_create_topics_resp_t *a,
				   const proto_create_topics_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		CHECK_STR(a->topics[i].name, b->topics[i].name);
		CHECK(a->topics[i].error_code == b->topics[i].error_code);
		CHECK_STR(a->topics[i].error_message, b->topics[i].error_message);
	}
}

static void fill_delete_topics_req(gen_t *g, int16_t v, proto_delete_topics_req_t *m)
{
	m->topic_names = rstrs(g, false, &m->topic_names_count);
	m->timeout_ms = r32(g);
}

static void cmp_delete_topics_req(const proto_delete_topics_req_t *a,
				  const proto_delete_topics_req_t *b)
{
	cmp_strs(a->topic_names, a->topic_names_count, b->topic_names, b->topic_names_count);
	CHECK(a->timeout_ms == b->timeout_ms);
}

static void fill_delete_topics_resp(gen_t *g, int16_t v, proto_delete_topics_resp_t *m)
{
	proto_delete_topics_result_t *t;

	m->throttle_time_ms = VF(g, v >= 1, 0, r32(g));
	m->responses_count = rcount(g, false);
	m->responses = t = ralloc(g, m->responses_count, sizeof *t);
	for (int32_t i = 0; i < m->responses_count; i++) {
		t[i].name = rstr(g, false);
		t[i].error_code = r16(g);
	}
}

static void cmp_delete_topics_resp(const proto_delete_topics_resp_t *a,
				   const proto_delete_topics_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->responses_count == b->responses_count);
	for (int32_t i = 0; i < a->responses_count; i++) {
		CHECK_STR(a->responses[i].name, b->responses[i].name);
		CHECK(a->responses[i].error_code == b->responses[i].error_code);
	}
}

static void fill_describe_configs_req(gen_t *g, int16_t v, proto_describe_configs_req_t *m)
{
	proto_describe_configs_resource_t *res;

	m->resources_count = rcount(g, false);
	m->resources = res = ralloc(g, m->resources_count, sizeof *res);
	for (int32_t i = 0; i < m->resources_count; i++) {
		res[i].resource_type = r8(g);
		res[i].resource_name = rstr(g, false);
		res[i].configuration_keys = rstrs(g, true, &res[i].configuration_keys_count);
	}
	m->include_synonyms = VF(g, v >= 1, false, rb(g));
}

static void cmp_describe_configs_req(const proto_describe_configs_req_t *a,
				     const proto_describe_configs_req_t *b)
{
	CHECK(a->resources_count == b->resources_count);
	for (int32_t i = 0; i < a->resources_count; i++) {
		const proto_describe_configs_resource_t *x = &a->resources[i],
							*y = &b->resources[i];

		CHECK(x->resource_type == y->resource_type);
		CHECK_STR(x->resource_name, y->resource_name);
		cmp_strs(x->configuration_keys, x->configuration_keys_count, y->configuration_keys,
			 y->configuration_keys_count);
	}
	CHECK(a->include_synonyms == b->include_synonyms);
}

static void fill_describe_configs_entry(gen_t *g, int16_t v, proto_describe_configs_entry_t *e)
{
	proto_describe_configs_synonym_t *syn;
	int32_t n;

	e->name = rstr(g, false);
	e->value = rstr(g, true);
	e->read_only = rb(g);
	e->is_default = VF(g, v == 0, false, rb(g));
	e->config_source = VF(g, v >= 1, -1, r8(g));
	e->is_sensitive = rb(g);
	n = rcount(g, false);
	syn = ralloc(g, n, sizeof *syn);
	for (int32_t i = 0; i < n; i++) {
		syn[i].name = rstr(g, false);
		syn[i].value = rstr(g, true);
		syn[i].source = r8(g);
	}
	e->synonyms = VF(g, v >= 1, NULL, syn);
	e->synonyms_count = VF(g, v >= 1, 0, n);
}

static void fill_describe_configs_resp(gen_t *g, int16_t v, proto_describe_configs_resp_t *m)
{
	proto_describe_configs_result_t *res;

	m->throttle_time_ms = r32(g);
	m->results_count = rcount(g, false);
	m->results = res = ralloc(g, m->results_count, sizeof *res);
	for (int32_t i = 0; i < m->results_count; i++) {
		proto_describe_configs_entry_t *c;

		res[i].error_code = r16(g);
		res[i].error_message = rstr(g, true);
		res[i].resource_type = r8(g);
		res[i].resource_name = rstr(g, false);
		res[i].configs_count = rcount(g, false);
		res[i].configs = c = ralloc(g, res[i].configs_count, sizeof *c);
		for (int32_t j = 0; j < res[i].configs_count; j++)
			fill_describe_configs_entry(g, v, &c[j]);
	}
}

static void cmp_describe_configs_entry(const proto_describe_configs_entry_t *x,
				       const proto_describe_configs_entry_t *y)
{
	CHECK_STR(x->name, y->name);
	CHECK_STR(x->value, y->value);
	CHECK(x->read_only == y->read_only);
	CHECK(x->is_default == y->is_default);
	CHECK(x->config_source == y->config_source);
	CHECK(x->is_sensitive == y->is_sensitive);
	CHECK(x->synonyms_count == y->synonyms_count);
	for (int32_t i = 0; i < x->synonyms_count; i++) {
		CHECK_STR(x->synonyms[i].name, y->synonyms[i].name);
		CHECK_STR(x->synonyms[i].value, y->synonyms[i].value);
		CHECK(x->synonyms[i].source == y->synonyms[i].source);
	}
}

static void cmp_describe_configs_resp(const proto_describe_configs_resp_t *a,
				      const proto_describe_configs_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->results_count == b->results_count);
	for (int32_t i = 0; i < a->results_count; i++) {
		const proto_describe_configs_result_t *x = &a->results[i], *y = &b->results[i];

		CHECK(x->error_code == y->error_code);
		CHECK_STR(x->error_message, y->error_message);
		CHECK(x->resource_type == y->resource_type);
		CHECK_STR(x->resource_name, y->resource_name);
		CHECK(x->configs_count == y->configs_count);
		for (int32_t j = 0; j < x->configs_count; j++)
			cmp_describe_configs_entry(&x->configs[j], &y->configs[j]);
	}
}

static void fill_alter_configs_req(gen_t *g, int16_t v, proto_alter_configs_req_t *m)
{
	proto_alter_configs_resource_t *res;

	m->resources_count = rcount(g, false);
	m->resources = res = ralloc(g, m->resources_count, sizeof *res);
	for (int32_t i = 0; i < m->resources_count; i++) {
		res[i].resource_type = r8(g);
		res[i].resource_name = rstr(g, false);
		res[i].configs = rkvs(g, &res[i].configs_count);
	}
	m->validate_only = rb(g);
}

static void cmp_alter_configs_req(const proto_alter_configs_req_t *a,
				  const proto_alter_configs_req_t *b)
{
	CHECK(a->resources_count == b->resources_count);
	for (int32_t i = 0; i < a->resources_count; i++) {
		const proto_alter_configs_resource_t *x = &a->resources[i], *y = &b->resources[i];

		CHECK(x->resource_type == y->resource_type);
		CHECK_STR(x->resource_name, y->resource_name);
		cmp_kvs(x->configs, x->configs_count, y->configs, y->configs_count);
	}
	CHECK(a->validate_only == b->validate_only);
}

/* Also IncrementalAlterConfigs' response, which has the same shape. */
static void fill_alter_configs_resp(gen_t *g, int16_t v, proto_alter_configs_resp_t *m)
{
	proto_alter_configs_result_t *res;

	m->throttle_time_ms = r32(g);
	m->responses_count = rcount(g, false);
	m->responses = res = ralloc(g, m->responses_count, sizeof *res);
	for (int32_t i = 0; i < m->responses_count; i++) {
		res[i].error_code = r16(g);
		res[i].error_message = rstr(g, true);
		res[i].resource_type = r8(g);
		res[i].resource_name = rstr(g, false);
	}
}

static void cmp_alter_configs_resp(const proto_alter_configs_resp_t *a,
				   const proto_alter_configs_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->responses_count == b->responses_count);
	for (int32_t i = 0; i < a->responses_count; i++) {
		const proto_alter_configs_result_t *x = &a->responses[i], *y = &b->responses[i];

		CHECK(x->error_code == y->error_code);
		CHECK_STR(x->error_message, y->error_message);
		CHECK(x->resource_type == y->resource_type);
		CHECK_STR(x->resource_name, y->resource_name);
	}
}

static void fill_incremental_alter_configs_req(gen_t *g, int16_t v,
					       proto_incremental_alter_configs_req_t *m)
{
	proto_incremental_alter_configs_resource_t *res;

	m->resources_count = rcount(g, false);
	m->resources = res = ralloc(g, m->resources_count, sizeof *res);
	for (int32_t i = 0; i < m->resources_count; i++) {
		proto_incremental_alter_config_t *c;

		res[i].resource_type = r8(g);
		res[i].resource_name = rstr(g, false);
		res[i].configs_count = rcount(g, false);
		res[i].configs = c = ralloc(g, res[i].configs_count, sizeof *c);
		for (int32_t j = 0; j < res[i].configs_count; j++) {
			c[j].name = rstr(g, false);
			c[j].config_operation = r8(g);
			c[j].value = rstr(g, true);
		}
	}
	m->validate_only = rb(g);
}

static void cmp_incremental_alter_configs_req(const proto_incremental_alter_configs_req_t *a,
					      const proto_incremental_alter_configs_req_t *b)
{
	CHECK(a->resources_count == b->resources_count);
	for (int32_t i = 0; i < a->resources_count; i++) {
		const proto_incremental_alter_configs_resource_t *x = &a->resources[i],
								 *y = &b->resources[i];

		CHECK(x->resource_type == y->resource_type);
		CHECK_STR(x->resource_name, y->resource_name);
		CHECK(x->configs_count == y->configs_count);
		for (int32_t j = 0; j < x->configs_count; j++) {
			CHECK_STR(x->configs[j].name, y->configs[j].name);
			CHECK(x->configs[j].config_operation == y->configs[j].config_operation);
			CHECK_STR(x->configs[j].value, y->configs[j].value);
		}
	}
	CHECK(a->validate_only == b->validate_only);
}

static void fill_find_coordinator_req(gen_t *g, int16_t v, proto_find_coordinator_req_t *m)
{
	m->key = rstr(g, false);
	m->key_type = VF(g, v >= 1, PROTO_COORDINATOR_GROUP, r8(g));
}

static void cmp_find_coordinator_req(const proto_find_coordinator_req_t *a,
				     const proto_find_coordinator_req_t *b)
{
	CHECK_STR(a->key, b->key);
	CHECK(a->key_type == b->key_type);
}

static void fill_find_coordinator_resp(gen_t *g, int16_t v, proto_find_coordinator_resp_t *m)
{
	m->throttle_time_ms = VF(g, v >= 1, 0, r32(g));
	m->error_code = r16(g);
	m->error_message = VF(g, v >= 1, PROTO_STR(""), rstr(g, true));
	m->node_id = r32(g);
	m->host = rstr(g, false);
	m->port = r32(g);
}

static void cmp_find_coordinator_resp(const proto_find_coordinator_resp_t *a,
				      const proto_find_coordinator_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->error_code == b->error_code);
	CHECK_STR(a->error_message, b->error_message);
	CHECK(a->node_id == b->node_id);
	CHECK_STR(a->host, b->host);
	CHECK(a->port == b->port);
}

static void fill_offset_commit_req(gen_t *g, int16_t v, proto_offset_commit_req_t *m)
{
	proto_offset_commit_topic_t *t;

	m->group_id = rstr(g, false);
	m->generation_id = r32(g);
	m->member_id = rstr(g, false);
	m->group_instance_id = VF(g, v >= 7, PROTO_NULL_STR, rstr(g, true));
	m->retention_time_ms = VF(g, v <= 4, -1, r64(g));
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_offset_commit_partition_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			p[j].partition_index = r32(g);
			p[j].committed_offset = r64(g);
			p[j].committed_leader_epoch = VF(g, v >= 6, -1, r32(g));
			p[j].committed_metadata = rstr(g, true);
		}
	}
}

static void cmp_offset_commit_req(const proto_offset_commit_req_t *a,
				  const proto_offset_commit_req_t *b)
{
	CHECK_STR(a->group_id, b->group_id);
	CHECK(a->generation_id == b->generation_id);
	CHECK_STR(a->member_id, b->member_id);
	CHECK_STR(a->group_instance_id, b->group_instance_id);
	CHECK(a->retention_time_ms == b->retention_time_ms);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_offset_commit_topic_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			const proto_offset_commit_partition_t *p = &x->partitions[j],
							      *q = &y->partitions[j];

			CHECK(p->partition_index == q->partition_index);
			CHECK(p->committed_offset == q->committed_offset);
			CHECK(p->committed_leader_epoch == q->committed_leader_epoch);
			CHECK_STR(p->committed_metadata, q->committed_metadata);
		}
	}
}

static void fill_offset_commit_resp(gen_t *g, int16_t v, proto_offset_commit_resp_t *m)
{
	proto_offset_commit_topic_result_t *t;

	m->throttle_time_ms = VF(g, v >= 3, 0, r32(g));
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_offset_commit_partition_result_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			p[j].partition_index = r32(g);
			p[j].error_code = r16(g);
		}
	}
}

static void cmp_offset_commit_resp(const proto_offset_commit_resp_t *a,
				   const proto_offset_commit_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_offset_commit_topic_result_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			CHECK(x->partitions[j].partition_index == y->partitions[j].partition_index);
			CHECK(x->partitions[j].error_code == y->partitions[j].error_code);
		}
	}
}

static void fill_offset_fetch_req(gen_t *g, int16_t v, proto_offset_fetch_req_t *m)
{
	m->group_id = rstr(g, false);
	m->topics = rtopic_ids(g, v >= 2, &m->topics_count);
}

static void cmp_offset_fetch_req(const proto_offset_fetch_req_t *a,
				 const proto_offset_fetch_req_t *b)
{
	CHECK_STR(a->group_id, b->group_id);
	cmp_topic_ids(a->topics, a->topics_count, b->topics, b->topics_count);
}

static void fill_offset_fetch_resp(gen_t *g, int16_t v, proto_offset_fetch_resp_t *m)
{
	proto_offset_fetch_topic_t *t;

	m->throttle_time_ms = VF(g, v >= 3, 0, r32(g));
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_offset_fetch_partition_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			p[j].partition_index = r32(g);
			p[j].committed_offset = r64(g);
			p[j].committed_leader_epoch = VF(g, v >= 5, -1, r32(g));
			p[j].metadata = rstr(g, true);
			p[j].error_code = r16(g);
		}
	}
	m->error_code = VF(g, v >= 2, 0, r16(g));
}

static void cmp_offset_fetch_resp(const proto_offset_fetch_resp_t *a,
				  const proto_offset_fetch_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_offset_fetch_topic_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			const proto_offset_fetch_partition_t *p = &x->partitions[j],
							     *q = &y->partitions[j];

			CHECK(p->partition_index == q->partition_index);
			CHECK(p->committed_offset == q->committed_offset);
			CHECK(p->committed_leader_epoch == q->committed_leader_epoch);
			CHECK_STR(p->metadata, q->metadata);
			CHECK(p->error_code == q->error_code);
		}
	}
	CHECK(a->error_code == b->error_code);
}

static void fill_init_producer_id_req(gen_t *g, int16_t v, proto_init_producer_id_req_t *m)
{
	m->transactional_id = rstr(g, true);
	m->transaction_timeout_ms = r32(g);
}

static void cmp_init_producer_id_req(const proto_init_producer_id_req_t *a,
				     const proto_init_producer_id_req_t *b)
{
	CHECK_STR(a->transactional_id, b->transactional_id);
	CHECK(a->transaction_timeout_ms == b->transaction_timeout_ms);
}

static void fill_init_producer_id_resp(gen_t *g, int16_t v, proto_init_producer_id_resp_t *m)
{
	m->throttle_time_ms = r32(g);
	m->error_code = r16(g);
	m->producer_id = r64(g);
	m->producer_epoch = r16(g);
}

static void cmp_init_producer_id_resp(const proto_init_producer_id_resp_t *a,
				      const proto_init_producer_id_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->error_code == b->error_code);
	CHECK(a->producer_id == b->producer_id);
	CHECK(a->producer_epoch == b->producer_epoch);
}

static void fill_elect_leaders_req(gen_t *g, int16_t v, proto_elect_leaders_req_t *m)
{
	m->election_type = VF(g, v >= 1, PROTO_ELECTION_PREFERRED, r8(g));
	m->topic_partitions = rtopic_ids(g, true, &m->topic_partitions_count);
	m->timeout_ms = r32(g);
}

static void cmp_elect_leaders_req(const proto_elect_leaders_req_t *a,
				  const proto_elect_leaders_req_t *b)
{
	CHECK(a->election_type == b->election_type);
	cmp_topic_ids(a->topic_partitions, a->topic_partitions_count, b->topic_partitions,
		      b->topic_partitions_count);
	CHECK(a->timeout_ms == b->timeout_ms);
}

static void fill_elect_leaders_resp(gen_t *g, int16_t v, proto_elect_leaders_resp_t *m)
{
	proto_elect_leaders_topic_result_t *t;

	m->throttle_time_ms = r32(g);
	m->error_code = VF(g, v >= 1, 0, r16(g));
	m->replica_election_results_count = rcount(g, false);
	m->replica_election_results = t = ralloc(g, m->replica_election_results_count, sizeof *t);
	for (int32_t i = 0; i < m->replica_election_results_count; i++) {
		proto_elect_leaders_partition_result_t *p;

		t[i].topic = rstr(g, false);
		t[i].partition_results_count = rcount(g, false);
		t[i].partition_results = p = ralloc(g, t[i].partition_results_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partition_results_count; j++) {
			p[j].partition_id = r32(g);
			p[j].error_code = r16(g);
			p[j].error_message = rstr(g, true);
		}
	}
}

static void cmp_elect_leaders_resp(const proto_elect_leaders_resp_t *a,
				   const proto_elect_leaders_resp_t *b)
{
	CHECK(a->throttle_time_ms == b->throttle_time_ms);
	CHECK(a->error_code == b->error_code);
	CHECK(a->replica_election_results_count == b->replica_election_results_count);
	for (int32_t i = 0; i < a->replica_election_results_count; i++) {
		const proto_elect_leaders_topic_result_t *x = &a->replica_election_results[i],
							 *y = &b->replica_election_results[i];

		CHECK_STR(x->topic, y->topic);
		CHECK(x->partition_results_count == y->partition_results_count);
		for (int32_t j = 0; j < x->partition_results_count; j++) {
			const proto_elect_leaders_partition_result_t *p = &x->partition_results[j],
								     *q = &y->partition_results[j];

			CHECK(p->partition_id == q->partition_id);
			CHECK(p->error_code == q->error_code);
			CHECK_STR(p->error_message, q->error_message);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The table of messages                                                      */

typedef union anymsg {
	proto_create_topics_req_t create_topics_req;
	proto_create_topics_resp_t create_topics_resp;
	proto_delete_topics_req_t delete_topics_req;
	proto_delete_topics_resp_t delete_topics_resp;
	proto_describe_configs_req_t describe_configs_req;
	proto_describe_configs_resp_t describe_configs_resp;
	proto_alter_configs_req_t alter_configs_req;
	proto_alter_configs_resp_t alter_configs_resp;
	proto_incremental_alter_configs_req_t incremental_alter_configs_req;
	proto_incremental_alter_configs_resp_t incremental_alter_configs_resp;
	proto_find_coordinator_req_t find_coordinator_req;
	proto_find_coordinator_resp_t find_coordinator_resp;
	proto_offset_commit_req_t offset_commit_req;
	proto_offset_commit_resp_t offset_commit_resp;
	proto_offset_fetch_req_t offset_fetch_req;
	proto_offset_fetch_resp_t offset_fetch_resp;
	proto_init_producer_id_req_t init_producer_id_req;
	proto_init_producer_id_resp_t init_producer_id_resp;
	proto_elect_leaders_req_t elect_leaders_req;
	proto_elect_leaders_resp_t elect_leaders_resp;
} anymsg_t;

typedef struct kind {
	const char *name;
	int16_t key;
	int16_t lo, hi; /* the pinned versions (KAFKA-REFERENCE.md §5) */
	int factor;	/* arena bytes per frame byte the decoder may use */
	tern_err_t (*decode)(proto_reader_t *r, int16_t v, anymsg_t *m);
	void (*encode)(proto_buf_t *b, int16_t v, const anymsg_t *m);
	void (*fill)(gen_t *g, int16_t v, anymsg_t *m);
	void (*cmp)(const anymsg_t *a, const anymsg_t *b);
} kind_t;

/* Adapters from the union to message T; F names its fill and cmp. */
#define ADAPT(T, F)                                                                                \
	static tern_err_t dec_##T(proto_reader_t *r, int16_t v, anymsg_t *m)                       \
	{                                                                                          \
		return proto_##T##_decode(r, v, &m->T);                                            \
	}                                                                                          \
	static void enc_##T(proto_buf_t *b, int16_t v, const anymsg_t *m)                          \
	{                                                                                          \
		proto_##T##_encode(b, v, &m->T);                                                   \
	}                                                                                          \
	static void fill_any_##T(gen_t *g, int16_t v, anymsg_t *m)                                 \
	{                                                                                          \
		fill_##F(g, v, &m->T);                                                             \
	}                                                                                          \
	static void cmp_any_##T(const anymsg_t *a, const anymsg_t *b)                              \
	{                                                                                          \
		cmp_##F(&a->T, &b->T);                                                             \
	}

ADAPT(create_topics_req, create_topics_req)
ADAPT(create_topics_resp, create_topics_resp)
ADAPT(delete_topics_req, delete_topics_req)
ADAPT(delete_topics_resp, delete_topics_resp)
ADAPT(describe_configs_req, describe_configs_req)
ADAPT(describe_configs_resp, describe_configs_resp)
ADAPT(alter_configs_req, alter_configs_req)
ADAPT(alter_configs_resp, alter_configs_resp)
ADAPT(incremental_alter_configs_req, incremental_alter_configs_req)
ADAPT(incremental_alter_configs_resp, alter_configs_resp)
ADAPT(find_coordinator_req, find_coordinator_req)
ADAPT(find_coordinator_resp, find_coordinator_resp)
ADAPT(offset_commit_req, offset_commit_req)
ADAPT(offset_commit_resp, offset_commit_resp)
ADAPT(offset_fetch_req, offset_fetch_req)
ADAPT(offset_fetch_resp, offset_fetch_resp)
ADAPT(init_producer_id_req, init_producer_id_req)
ADAPT(init_producer_id_resp, init_producer_id_resp)
ADAPT(elect_leaders_req, elect_leaders_req)
ADAPT(elect_leaders_resp, elect_leaders_resp)

#define KIND(T, key, lo, hi, factor)                                                               \
	{                                                                                          \
#T, key, lo, hi, factor, dec_##T, enc_##T, fill_any_##T, cmp_any_##T               \
	}

static const kind_t kinds[] = {
    KIND(create_topics_req, PROTO_API_CREATE_TOPICS, 0, 4, PROTO_ARENA_FACTOR),
    /* 40 bytes in memory for a 4-byte v0 result (msg_admin.h). */
    KIND(create_topics_resp, PROTO_API_CREATE_TOPICS, 0, 4, 10),
    KIND(delete_topics_req, PROTO_API_DELETE_TOPICS, 0, 3, PROTO_ARENA_FACTOR),
    KIND(delete_topics_resp, PROTO_API_DELETE_TOPICS, 0, 3, PROTO_ARENA_FACTOR),
    KIND(describe_configs_req, PROTO_API_DESCRIBE_CONFIGS, 0, 2, PROTO_ARENA_FACTOR),
    KIND(describe_configs_resp, PROTO_API_DESCRIBE_CONFIGS, 0, 2, PROTO_ARENA_FACTOR),
    KIND(alter_configs_req, PROTO_API_ALTER_CONFIGS, 0, 1, PROTO_ARENA_FACTOR),
    KIND(alter_configs_resp, PROTO_API_ALTER_CONFIGS, 0, 1, PROTO_ARENA_FACTOR),
    KIND(incremental_alter_configs_req, PROTO_API_INCREMENTAL_ALTER_CONFIGS, 0, 0,
	 PROTO_ARENA_FACTOR),
    KIND(incremental_alter_configs_resp, PROTO_API_INCREMENTAL_ALTER_CONFIGS, 0, 0,
	 PROTO_ARENA_FACTOR),
    KIND(find_coordinator_req, PROTO_API_FIND_COORDINATOR, 0, 2, PROTO_ARENA_FACTOR),
    KIND(find_coordinator_resp, PROTO_API_FIND_COORDINATOR, 0, 2, PROTO_ARENA_FACTOR),
    KIND(offset_commit_req, PROTO_API_OFFSET_COMMIT, 2, 7, PROTO_ARENA_FACTOR),
    KIND(offset_commit_resp, PROTO_API_OFFSET_COMMIT, 2, 7, PROTO_ARENA_FACTOR),
    KIND(offset_fetch_req, PROTO_API_OFFSET_FETCH, 1, 5, PROTO_ARENA_FACTOR),
    KIND(offset_fetch_resp, PROTO_API_OFFSET_FETCH, 1, 5, PROTO_ARENA_FACTOR),
    KIND(init_producer_id_req, PROTO_API_INIT_PRODUCER_ID, 0, 1, PROTO_ARENA_FACTOR),
    KIND(init_producer_id_resp, PROTO_API_INIT_PRODUCER_ID, 0, 1, PROTO_ARENA_FACTOR),
    KIND(elect_leaders_req, PROTO_API_ELECT_LEADERS, 0, 1, PROTO_ARENA_FACTOR),
    KIND(elect_leaders_resp, PROTO_API_ELECT_LEADERS, 0, 1, PROTO_ARENA_FACTOR),
};

#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

static proto_limits_t limits;

static void setup(void)
{
	proto_limits_default(&limits);
}

/* Encodes m at v into b (reset first) and checks that nothing failed. */
static void encode(const kind_t *k, int16_t v, const anymsg_t *m, proto_buf_t *b)
{
	proto_buf_reset(b);
	k->encode(b, v, m);
	ck_assert_msg(!b->oom, "%s v%d: encode failed", k->name, v);
}

/* Decodes len bytes at v into out with arena a; returns the error and,
 * through consumed, how many bytes the body took. */
static tern_err_t decode(const kind_t *k, int16_t v, const uint8_t *p, size_t len, proto_arena_t *a,
			 anymsg_t *out, size_t *consumed)
{
	proto_reader_t r;
	tern_err_t err;

	proto_reader_init(&r, p, len, &limits, a);
	err = k->decode(&r, v, out);
	CHECK(err == r.err);
	*consumed = len - proto_rd_left(&r);
	return err;
}

/* Encode, decode, compare field by field, and encode again to the same
 * bytes; the decoder's arena stays within the kind's factor. */
static void round_trip(const kind_t *k, int16_t v, const anymsg_t *m)
{
	proto_buf_t b1, b2;
	proto_arena_t a;
	anymsg_t got;
	size_t used;

	proto_buf_init(&b1);
	proto_buf_init(&b2);
	proto_arena_init(&a, 0);
	encode(k, v, m, &b1);
	ck_assert_msg(decode(k, v, b1.p, b1.len, &a, &got, &used) == TERN_OK, "%s v%d", k->name, v);
	ck_assert_msg(used == b1.len, "%s v%d: took %zu of %zu bytes", k->name, v, used, b1.len);
	ck_assert_msg(a.used <= (size_t)k->factor * b1.len, "%s v%d: arena %zu for %zu bytes",
		      k->name, v, a.used, b1.len);
	k->cmp(m, &got);
	encode(k, v, &got, &b2);
	CHECK(b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0);
	proto_arena_free(&a);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                                */

START_TEST(versions_are_the_pinned_ones)
{
	for (int i = 0; i < NKINDS; i++) {
		const proto_api_info_t *info = proto_api_info(kinds[i].key);

		ck_assert_ptr_nonnull(info);
		ck_assert_int_eq(info->min_version, kinds[i].lo);
		ck_assert_int_eq(info->max_version, kinds[i].hi);
		/* Every pinned version is non-flexible: no compact forms here. */
		ck_assert(!proto_api_is_flexible(kinds[i].key, kinds[i].hi));
	}
}
END_TEST

START_TEST(round_trip_every_version)
{
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int16_t v = k->lo; v <= k->hi; v++) {
			for (int n = 0; n < 200; n++) {
				proto_arena_t a;
				anymsg_t m;
				gen_t g;

				proto_arena_init(&a, 0);
				gen_init(&g,
					 0x5eed0000u + (uint64_t)i * 1000 + (uint64_t)v * 100 +
					     (uint64_t)n,
					 &a);
				memset(&m, 0, sizeof m);
				k->fill(&g, v, &m);
				round_trip(k, v, &m);
				proto_arena_free(&a);
			}
		}
	}
}
END_TEST

/* A message whose absent fields hold junk encodes to the same bytes as one
 * that holds Kafka's defaults there: encoders skip what a version lacks. */
START_TEST(absent_fields_are_not_written)
{
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int16_t v = k->lo; v <= k->hi; v++) {
			for (int n = 0; n < 50; n++) {
				uint64_t seed = 0xab5e0000u + (uint64_t)i * 1000 +
						(uint64_t)v * 100 + (uint64_t)n;
				proto_buf_t plain, junk;
				proto_arena_t a;
				anymsg_t m1, m2;
				gen_t g;

				proto_arena_init(&a, 0);
				proto_buf_init(&plain);
				proto_buf_init(&junk);
				memset(&m1, 0, sizeof m1);
				memset(&m2, 0, sizeof m2);
				gen_init(&g, seed, &a);
				k->fill(&g, v, &m1);
				gen_init(&g, seed, &a);
				g.junk = true;
				k->fill(&g, v, &m2);
				encode(k, v, &m1, &plain);
				encode(k, v, &m2, &junk);
				CHECK(plain.len == junk.len &&
				      memcmp(plain.p, junk.p, plain.len) == 0);
				proto_buf_free(&plain);
				proto_buf_free(&junk);
				proto_arena_free(&a);
			}
		}
	}
}
END_TEST

/* The encoding of a minimal message whose which-th array has n elements;
 * false when the message has no which-th array. */
static bool encode_minimal(const kind_t *k, int16_t v, int which, int32_t n, proto_buf_t *b)
{
	proto_arena_t a;
	anymsg_t m;
	gen_t g;
	bool has;

	proto_arena_init(&a, 0);
	memset(&m, 0, sizeof m);
	gen_init(&g, 7, &a);
	g.minimal = which;
	g.min_n = n;
	k->fill(&g, v, &m);
	has = g.arrays > which;
	if (has && n == MIN_N)
		round_trip(k, v, &m);
	if (has)
		encode(k, v, &m, b);
	proto_arena_free(&a);
	return has;
}

static size_t arena_used_by(const kind_t *k, int16_t v, const uint8_t *p, size_t len,
			    tern_err_t want)
{
	proto_arena_t a;
	anymsg_t out;
	size_t used, bytes;

	proto_arena_init(&a, 0);
	CHECK(decode(k, v, p, len, &a, &out, &used) == want);
	bytes = a.used;
	proto_arena_free(&a);
	return bytes;
}

/* Each decoder checks an array's count against the bytes left times the
 * smallest encoding of one element. Neither overstated (MIN_N smallest
 * elements at the end of a frame decode) nor understated: one element
 * more than the bytes left could hold is refused before anything is
 * allocated for the array. The smallest element size is measured: it is
 * what one more element adds to the encoding. Every array of every
 * message takes its turn. */
START_TEST(minimal_element_sizes)
{
	proto_buf_t full, more, none;

	proto_buf_init(&full);
	proto_buf_init(&more);
	proto_buf_init(&none);
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int16_t v = k->lo; v <= k->hi; v++) {
			for (int which = 0; encode_minimal(k, v, which, MIN_N, &full); which++) {
				size_t at = 0, min, left, zero_used;
				uint32_t n;

				encode_minimal(k, v, which, MIN_N + 1, &more);
				encode_minimal(k, v, which, 0, &none);
				/* An array the version lacks is drawn but not written. */
				if (more.len == full.len)
					continue;
				min = more.len - full.len;
				/* The count is the int32 whose low byte differs. */
				while (at < full.len && full.p[at] == more.p[at])
					at++;
				CHECK(at >= 3 && at < full.len);
				at -= 3;
				CHECK(full.p[at] == 0 && full.p[at + 1] == 0 &&
				      full.p[at + 2] == 0 && full.p[at + 3] == MIN_N);
				left = full.len - at - 4;
				n = (uint32_t)(left / min + 1);
				full.p[at] = (uint8_t)(n >> 24);
				full.p[at + 1] = (uint8_t)(n >> 16);
				full.p[at + 2] = (uint8_t)(n >> 8);
				full.p[at + 3] = (uint8_t)n;
				zero_used = arena_used_by(k, v, none.p, none.len, TERN_OK);
				if (arena_used_by(k, v, full.p, full.len,
						  TERN_ERR_INVALID_REQUEST) > zero_used)
					ck_abort_msg("%s v%d array %d: %u elements of %zu bytes "
						     "allocated with %zu bytes left",
						     k->name, v, which, n, min, left);
			}
		}
	}
	proto_buf_free(&full);
	proto_buf_free(&more);
	proto_buf_free(&none);
}
END_TEST

/* Every field of these bodies is required, so every proper prefix of a
 * valid body is refused, and *out is left alone. */
START_TEST(every_proper_prefix_fails)
{
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int16_t v = k->lo; v <= k->hi; v++) {
			proto_arena_t a;
			proto_buf_t b;
			anymsg_t m, out, untouched;
			size_t used;
			gen_t g;

			proto_arena_init(&a, 0);
			proto_buf_init(&b);
			memset(&m, 0, sizeof m);
			gen_init(&g, 0x9e3779b9u + (uint64_t)i, &a);
			k->fill(&g, v, &m);
			encode(k, v, &m, &b);
			memset(&untouched, 0xa5, sizeof untouched);
			for (size_t len = 0; len < b.len; len++) {
				proto_arena_t da;

				proto_arena_init(&da, 0);
				memcpy(&out, &untouched, sizeof out);
				CHECK(decode(k, v, b.p, len, &da, &out, &used) ==
				      TERN_ERR_INVALID_REQUEST);
				CHECK(memcmp(&out, &untouched, sizeof out) == 0);
				proto_arena_free(&da);
			}
			proto_buf_free(&b);
			proto_arena_free(&a);
		}
	}
}
END_TEST

START_TEST(unsupported_versions_are_refused)
{
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];
		const int16_t bad[] = {(int16_t)(k->lo - 1), (int16_t)(k->hi + 1), -1, INT16_MAX};

		for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			static const uint8_t zeros[64];
			anymsg_t m, out, untouched;
			proto_arena_t a;
			proto_buf_t b;
			size_t used;

			if (bad[j] >= k->lo && bad[j] <= k->hi)
				continue;
			proto_arena_init(&a, 0);
			memset(&untouched, 0x5a, sizeof untouched);
			memcpy(&out, &untouched, sizeof out);
			ck_assert_int_eq(decode(k, bad[j], zeros, sizeof zeros, &a, &out, &used),
					 TERN_ERR_UNSUPPORTED_VERSION);
			ck_assert(memcmp(&out, &untouched, sizeof out) == 0);
			ck_assert_uint_eq(a.used, 0);

			memset(&m, 0, sizeof m);
			proto_buf_init(&b);
			k->encode(&b, bad[j], &m);
			ck_assert(b.oom);
			ck_assert_uint_eq(b.len, 0);
			proto_buf_free(&b);
			proto_arena_free(&a);
		}
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bytes from other clients' test suites                                      */

/* Decodes a golden body at v (all of it), and checks that encoding the
 * result gives the same bytes back. The views point into p and the arrays
 * into a, which the caller frees. */
static void golden(const kind_t *k, int16_t v, const uint8_t *p, size_t len, proto_arena_t *a,
		   anymsg_t *out)
{
	proto_buf_t b;
	size_t used;

	ck_assert_msg(decode(k, v, p, len, a, out, &used) == TERN_OK, "%s v%d", k->name, v);
	ck_assert_uint_eq(used, len);
	proto_buf_init(&b);
	encode(k, v, out, &b);
	ck_assert_uint_eq(b.len, len);
	ck_assert(memcmp(b.p, p, len) == 0);
	proto_buf_free(&b);
}

static const kind_t *kind_of(const char *name)
{
	for (int i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	ck_abort_msg("no kind %s", name);
	return NULL;
}

#define STR_IS(s, lit) ck_assert_msg(proto_str_eq((s), (lit)), "%s is not \"%s\"", #s, (lit))
#define IS_NULL(s)     ck_assert_int_eq((s).len, -1)

/* Unless said otherwise the byte sequences below are from IBM/sarama at
 * commit bd98b3aec67780cf514f219ed0342c5c1d9e1b75 (the file and variable
 * are named at each), bodies without request or response headers. Where
 * Kafka's schema says versions are identical on the wire, one sequence is
 * decoded at each of them. */

/* create_topics_request_test.go: createTopicsRequestV0, and V1 which is V0
 * followed by validateOnly = true. */
/* clang-format off */
static const uint8_t create_topics_req_v0[] = {
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',		/* name */
	255, 255, 255, 255,			/* num_partitions -1 */
	255, 255,				/* replication_factor -1 */
	0, 0, 0, 1,				/* 1 assignment */
	0, 0, 0, 0,				/* partition_index 0 */
	0, 0, 0, 3,				/* 3 broker ids: 0, 1, 2 */
	0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2,
	0, 0, 0, 1,				/* 1 config */
	0, 12, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's',
	0, 2, '-', '1',
	0, 0, 0, 100,				/* timeout_ms */
	1,					/* validate_only (v1+) */
};
/* clang-format on */

static void check_create_topics_req(const proto_create_topics_req_t *m, bool validate_only)
{
	const proto_create_topics_topic_t *t = &m->topics[0];

	ck_assert_int_eq(m->topics_count, 1);
	STR_IS(t->name, "topic");
	ck_assert_int_eq(t->num_partitions, -1);
	ck_assert_int_eq(t->replication_factor, -1);
	ck_assert_int_eq(t->assignments_count, 1);
	ck_assert_int_eq(t->assignments[0].partition_index, 0);
	ck_assert_int_eq(t->assignments[0].broker_ids_count, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(t->assignments[0].broker_ids[i], i);
	ck_assert_int_eq(t->configs_count, 1);
	STR_IS(t->configs[0].name, "retention.ms");
	STR_IS(t->configs[0].value, "-1");
	ck_assert_int_eq(m->timeout_ms, 100);
	ck_assert(m->validate_only == validate_only);
}

/* create_topics_response_test.go: createTopicsResponseV2 (throttle, topic,
 * INVALID_REQUEST, "msg"); V0 and V1 are its tails. */
/* clang-format off */
static const uint8_t create_topics_resp_v2[] = {
	0, 0, 0, 100,				/* throttle_time_ms (v2+) */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 42,					/* INVALID_REQUEST */
	0, 3, 'm', 's', 'g',			/* error_message (v1+) */
};
/* clang-format on */

START_TEST(golden_create_topics)
{
	const kind_t *req = kind_of("create_topics_req"), *resp = kind_of("create_topics_resp");
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	golden(req, 0, create_topics_req_v0, sizeof create_topics_req_v0 - 1, &a, &m);
	check_create_topics_req(&m.create_topics_req, false);
	for (int16_t v = 1; v <= 4; v++) {
		golden(req, v, create_topics_req_v0, sizeof create_topics_req_v0, &a, &m);
		check_create_topics_req(&m.create_topics_req, true);
	}

	golden(resp, 0, create_topics_resp_v2 + 4, sizeof create_topics_resp_v2 - 9, &a, &m);
	ck_assert_int_eq(m.create_topics_resp.throttle_time_ms, 0);
	ck_assert_int_eq(m.create_topics_resp.topics_count, 1);
	STR_IS(m.create_topics_resp.topics[0].name, "topic");
	ck_assert_int_eq(m.create_topics_resp.topics[0].error_code, TERN_ERR_INVALID_REQUEST);
	/* Kafka's default for an absent string without "default" is "". */
	STR_IS(m.create_topics_resp.topics[0].error_message, "");
	golden(resp, 1, create_topics_resp_v2 + 4, sizeof create_topics_resp_v2 - 4, &a, &m);
	STR_IS(m.create_topics_resp.topics[0].error_message, "msg");
	for (int16_t v = 2; v <= 4; v++) {
		golden(resp, v, create_topics_resp_v2, sizeof create_topics_resp_v2, &a, &m);
		ck_assert_int_eq(m.create_topics_resp.throttle_time_ms, 100);
		ck_assert_int_eq(m.create_topics_resp.topics[0].error_code,
				 TERN_ERR_INVALID_REQUEST);
		STR_IS(m.create_topics_resp.topics[0].error_message, "msg");
	}
	proto_arena_free(&a);
}
END_TEST

/* delete_topics_request_test.go: deleteTopicsRequest (v0 and v1);
 * delete_topics_response_test.go: deleteTopicsResponseV1, whose tail is V0. */
/* clang-format off */
static const uint8_t delete_topics_req[] = {
	0, 0, 0, 2,				/* 2 names */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 5, 'o', 't', 'h', 'e', 'r',
	0, 0, 0, 100,				/* timeout_ms */
};
/* clang-format on */
/* clang-format off */
static const uint8_t delete_topics_resp_v1[] = {
	0, 0, 0, 100,				/* throttle_time_ms (v1+) */
	0, 0, 0, 1,				/* 1 response */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0,					/* error_code */
};
/* clang-format on */

START_TEST(golden_delete_topics)
{
	const kind_t *req = kind_of("delete_topics_req"), *resp = kind_of("delete_topics_resp");
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	for (int16_t v = 0; v <= 3; v++) {
		golden(req, v, delete_topics_req, sizeof delete_topics_req, &a, &m);
		ck_assert_int_eq(m.delete_topics_req.topic_names_count, 2);
		STR_IS(m.delete_topics_req.topic_names[0], "topic");
		STR_IS(m.delete_topics_req.topic_names[1], "other");
		ck_assert_int_eq(m.delete_topics_req.timeout_ms, 100);
	}
	golden(resp, 0, delete_topics_resp_v1 + 4, sizeof delete_topics_resp_v1 - 4, &a, &m);
	ck_assert_int_eq(m.delete_topics_resp.throttle_time_ms, 0);
	ck_assert_int_eq(m.delete_topics_resp.responses_count, 1);
	STR_IS(m.delete_topics_resp.responses[0].name, "topic");
	ck_assert_int_eq(m.delete_topics_resp.responses[0].error_code, 0);
	for (int16_t v = 1; v <= 3; v++) {
		golden(resp, v, delete_topics_resp_v1, sizeof delete_topics_resp_v1, &a, &m);
		ck_assert_int_eq(m.delete_topics_resp.throttle_time_ms, 100);
		STR_IS(m.delete_topics_resp.responses[0].name, "topic");
	}
	proto_arena_free(&a);
}
END_TEST

/* describe_configs_request_test.go: doubleDescribeConfigsRequest (v0) and
 * singleDescribeConfigsRequestAllConfigsv1 (null keys, IncludeSynonyms). */
/* clang-format off */
static const uint8_t describe_configs_req_double[] = {
	0, 0, 0, 2,				/* 2 resources */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
	0, 0, 0, 2,				/* 2 keys */
	0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
	0, 12, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's',
	2, 0, 3, 'b', 'a', 'r',			/* topic bar */
	0, 0, 0, 1,				/* 1 key */
	0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
};
/* clang-format on */
/* clang-format off */
static const uint8_t describe_configs_req_all_v1[] = {
	0, 0, 0, 1,				/* 1 resource */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
	255, 255, 255, 255,			/* null keys: all */
	1,					/* include_synonyms (v1+) */
};
/* clang-format on */

/* describe_configs_response_test.go: describeConfigsResponseWithDefaultv0
 * and describeConfigsResponseWithSynonymv1. */
/* clang-format off */
static const uint8_t describe_configs_resp_v0[] = {
	0, 0, 0, 0,				/* throttle_time_ms */
	0, 0, 0, 1,				/* 1 result */
	0, 0,					/* error_code */
	0, 0,					/* error_message "" */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
	0, 0, 0, 1,				/* 1 config */
	0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
	0, 4, '1', '0', '0', '0',
	0,					/* read_only */
	1,					/* is_default (v0 only) */
	0,					/* is_sensitive */
};
/* clang-format on */
/* clang-format off */
static const uint8_t describe_configs_resp_v1[] = {
	0, 0, 0, 0,				/* throttle_time_ms */
	0, 0, 0, 1,				/* 1 result */
	0, 0,					/* error_code */
	0, 0,					/* error_message "" */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
	0, 0, 0, 1,				/* 1 config */
	0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
	0, 4, '1', '0', '0', '0',
	0,					/* read_only */
	4,					/* config_source STATIC_BROKER (v1+) */
	0,					/* is_sensitive */
	0, 0, 0, 1,				/* 1 synonym (v1+) */
	0, 14, 'l', 'o', 'g', '.', 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
	0, 4, '1', '0', '0', '0',
	4,					/* source STATIC_BROKER */
};
/* clang-format on */

START_TEST(golden_describe_configs)
{
	const kind_t *req = kind_of("describe_configs_req");
	const kind_t *resp = kind_of("describe_configs_resp");
	const proto_describe_configs_entry_t *e;
	const proto_describe_configs_req_t *q;
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	golden(req, 0, describe_configs_req_double, sizeof describe_configs_req_double, &a, &m);
	q = &m.describe_configs_req;
	ck_assert_int_eq(q->resources_count, 2);
	ck_assert_int_eq(q->resources[0].resource_type, PROTO_RESOURCE_TOPIC);
	STR_IS(q->resources[0].resource_name, "foo");
	ck_assert_int_eq(q->resources[0].configuration_keys_count, 2);
	STR_IS(q->resources[0].configuration_keys[0], "segment.ms");
	STR_IS(q->resources[0].configuration_keys[1], "retention.ms");
	STR_IS(q->resources[1].resource_name, "bar");
	ck_assert_int_eq(q->resources[1].configuration_keys_count, 1);
	STR_IS(q->resources[1].configuration_keys[0], "segment.ms");
	ck_assert(!q->include_synonyms);
	for (int16_t v = 1; v <= 2; v++) {
		golden(req, v, describe_configs_req_all_v1, sizeof describe_configs_req_all_v1, &a,
		       &m);
		ck_assert_int_eq(q->resources_count, 1);
		ck_assert_int_eq(q->resources[0].configuration_keys_count, -1);
		ck_assert(q->include_synonyms);
	}

	golden(resp, 0, describe_configs_resp_v0, sizeof describe_configs_resp_v0, &a, &m);
	ck_assert_int_eq(m.describe_configs_resp.results_count, 1);
	ck_assert_int_eq(m.describe_configs_resp.results[0].error_code, 0);
	STR_IS(m.describe_configs_resp.results[0].error_message, "");
	ck_assert_int_eq(m.describe_configs_resp.results[0].resource_type, PROTO_RESOURCE_TOPIC);
	STR_IS(m.describe_configs_resp.results[0].resource_name, "foo");
	ck_assert_int_eq(m.describe_configs_resp.results[0].configs_count, 1);
	e = &m.describe_configs_resp.results[0].configs[0];
	STR_IS(e->name, "segment.ms");
	STR_IS(e->value, "1000");
	ck_assert(!e->read_only && e->is_default && !e->is_sensitive);
	ck_assert_int_eq(e->config_source, -1);
	ck_assert_int_eq(e->synonyms_count, 0);
	for (int16_t v = 1; v <= 2; v++) {
		golden(resp, v, describe_configs_resp_v1, sizeof describe_configs_resp_v1, &a, &m);
		e = &m.describe_configs_resp.results[0].configs[0];
		STR_IS(e->name, "segment.ms");
		ck_assert(!e->is_default);
		ck_assert_int_eq(e->config_source, PROTO_CONFIG_SOURCE_STATIC_BROKER);
		ck_assert_int_eq(e->synonyms_count, 1);
		STR_IS(e->synonyms[0].name, "log.segment.ms");
		STR_IS(e->synonyms[0].value, "1000");
		ck_assert_int_eq(e->synonyms[0].source, PROTO_CONFIG_SOURCE_STATIC_BROKER);
	}
	proto_arena_free(&a);
}
END_TEST

/* alter_configs_request_test.go: doubleAlterConfigsRequest;
 * alter_configs_response_test.go: alterResponsePopulated (v0 and v1). */
/* clang-format off */
static const uint8_t alter_configs_req_double[] = {
	0, 0, 0, 2,				/* 2 resources */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
	0, 0, 0, 1,				/* 1 config */
	0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
	0, 4, '1', '0', '0', '0',
	2, 0, 3, 'b', 'a', 'r',			/* topic bar */
	0, 0, 0, 1,				/* 1 config */
	0, 12, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's',
	0, 4, '1', '0', '0', '0',
	0,					/* validate_only */
};
/* clang-format on */
/* clang-format off */
static const uint8_t alter_configs_resp[] = {
	0, 0, 0, 0,				/* throttle_time_ms */
	0, 0, 0, 1,				/* 1 response */
	0, 0,					/* error_code */
	0, 0,					/* error_message "" */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
};
/* clang-format on */

static void check_alter_configs_resp(const proto_alter_configs_resp_t *m)
{
	ck_assert_int_eq(m->throttle_time_ms, 0);
	ck_assert_int_eq(m->responses_count, 1);
	ck_assert_int_eq(m->responses[0].error_code, 0);
	STR_IS(m->responses[0].error_message, "");
	ck_assert_int_eq(m->responses[0].resource_type, PROTO_RESOURCE_TOPIC);
	STR_IS(m->responses[0].resource_name, "foo");
}

START_TEST(golden_alter_configs)
{
	const kind_t *req = kind_of("alter_configs_req"), *resp = kind_of("alter_configs_resp");
	const proto_alter_configs_req_t *q;
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	for (int16_t v = 0; v <= 1; v++) {
		golden(req, v, alter_configs_req_double, sizeof alter_configs_req_double, &a, &m);
		q = &m.alter_configs_req;
		ck_assert_int_eq(q->resources_count, 2);
		ck_assert_int_eq(q->resources[0].resource_type, PROTO_RESOURCE_TOPIC);
		STR_IS(q->resources[0].resource_name, "foo");
		ck_assert_int_eq(q->resources[0].configs_count, 1);
		STR_IS(q->resources[0].configs[0].name, "segment.ms");
		STR_IS(q->resources[0].configs[0].value, "1000");
		STR_IS(q->resources[1].resource_name, "bar");
		STR_IS(q->resources[1].configs[0].name, "retention.ms");
		STR_IS(q->resources[1].configs[0].value, "1000");
		ck_assert(!q->validate_only);
		golden(resp, v, alter_configs_resp, sizeof alter_configs_resp, &a, &m);
		check_alter_configs_resp(&m.alter_configs_resp);
	}
	proto_arena_free(&a);
}
END_TEST

/* incremental_alter_configs_request_test.go:
 * doubleIncrementalAlterConfigsRequest (a SET and a DELETE);
 * incremental_alter_configs_response_test.go:
 * incrementalAlterResponsePopulated. */
/* clang-format off */
static const uint8_t incremental_alter_configs_req_double[] = {
	0, 0, 0, 2,				/* 2 resources */
	2, 0, 3, 'f', 'o', 'o',			/* topic foo */
	0, 0, 0, 1,				/* 1 config */
	0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's',
	0,					/* SET */
	0, 4, '1', '0', '0', '0',
	2, 0, 3, 'b', 'a', 'r',			/* topic bar */
	0, 0, 0, 1,				/* 1 config */
	0, 12, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's',
	1,					/* DELETE */
	0, 4, '1', '0', '0', '0',
	0,					/* validate_only */
};
/* clang-format on */

START_TEST(golden_incremental_alter_configs)
{
	const kind_t *req = kind_of("incremental_alter_configs_req");
	const kind_t *resp = kind_of("incremental_alter_configs_resp");
	const proto_incremental_alter_configs_req_t *q;
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	golden(req, 0, incremental_alter_configs_req_double,
	       sizeof incremental_alter_configs_req_double, &a, &m);
	q = &m.incremental_alter_configs_req;
	ck_assert_int_eq(q->resources_count, 2);
	STR_IS(q->resources[0].resource_name, "foo");
	ck_assert_int_eq(q->resources[0].configs_count, 1);
	STR_IS(q->resources[0].configs[0].name, "segment.ms");
	ck_assert_int_eq(q->resources[0].configs[0].config_operation, PROTO_CONFIG_OP_SET);
	STR_IS(q->resources[0].configs[0].value, "1000");
	STR_IS(q->resources[1].resource_name, "bar");
	STR_IS(q->resources[1].configs[0].name, "retention.ms");
	ck_assert_int_eq(q->resources[1].configs[0].config_operation, PROTO_CONFIG_OP_DELETE);
	ck_assert(!q->validate_only);
	golden(resp, 0, alter_configs_resp, sizeof alter_configs_resp, &a, &m);
	check_alter_configs_resp(&m.incremental_alter_configs_resp);
	proto_arena_free(&a);
}
END_TEST

/* find_coordinator_request_test.go: findCoordinatorRequestTransaction (v1);
 * find_coordinator_response_test.go: "version 0 - no error" and
 * "version 1 - error". */
/* clang-format off */
static const uint8_t find_coordinator_req_txn[] = {
	0, 13, 't', 'r', 'a', 'n', 's', 'a', 'c', 't', 'i', 'o', 'n', 'i', 'd',
	1,					/* key_type TRANSACTION (v1+) */
};
/* clang-format on */
/* clang-format off */
static const uint8_t find_coordinator_resp_v0[] = {
	0, 0,					/* error_code */
	0, 0, 0, 7,				/* node_id */
	0, 4, 'h', 'o', 's', 't',
	0, 0, 35, 132,				/* port 9092 */
};
/* clang-format on */
/* clang-format off */
static const uint8_t find_coordinator_resp_v1_error[] = {
	0, 0, 0, 100,				/* throttle_time_ms (v1+) */
	0, 15,					/* COORDINATOR_NOT_AVAILABLE */
	0, 6, 'k', 'a', 'b', 'o', 'o', 'm',	/* error_message (v1+) */
	255, 255, 255, 255,			/* node_id -1 */
	0, 0,					/* host "" */
	255, 255, 255, 255,			/* port -1 */
};
/* clang-format on */

START_TEST(golden_find_coordinator)
{
	const kind_t *req = kind_of("find_coordinator_req");
	const kind_t *resp = kind_of("find_coordinator_resp");
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	for (int16_t v = 1; v <= 2; v++) {
		golden(req, v, find_coordinator_req_txn, sizeof find_coordinator_req_txn, &a, &m);
		STR_IS(m.find_coordinator_req.key, "transactionid");
		ck_assert_int_eq(m.find_coordinator_req.key_type, PROTO_COORDINATOR_TRANSACTION);
	}
	/* v0 has no key type: the same key alone is a group lookup. */
	golden(req, 0, find_coordinator_req_txn, sizeof find_coordinator_req_txn - 1, &a, &m);
	ck_assert_int_eq(m.find_coordinator_req.key_type, PROTO_COORDINATOR_GROUP);

	golden(resp, 0, find_coordinator_resp_v0, sizeof find_coordinator_resp_v0, &a, &m);
	ck_assert_int_eq(m.find_coordinator_resp.throttle_time_ms, 0);
	ck_assert_int_eq(m.find_coordinator_resp.error_code, 0);
	STR_IS(m.find_coordinator_resp.error_message, "");
	ck_assert_int_eq(m.find_coordinator_resp.node_id, 7);
	STR_IS(m.find_coordinator_resp.host, "host");
	ck_assert_int_eq(m.find_coordinator_resp.port, 9092);
	for (int16_t v = 1; v <= 2; v++) {
		golden(resp, v, find_coordinator_resp_v1_error,
		       sizeof find_coordinator_resp_v1_error, &a, &m);
		ck_assert_int_eq(m.find_coordinator_resp.throttle_time_ms, 100);
		ck_assert_int_eq(m.find_coordinator_resp.error_code,
				 TERN_ERR_COORDINATOR_NOT_AVAILABLE);
		STR_IS(m.find_coordinator_resp.error_message, "kaboom");
		ck_assert_int_eq(m.find_coordinator_resp.node_id, -1);
		STR_IS(m.find_coordinator_resp.host, "");
		ck_assert_int_eq(m.find_coordinator_resp.port, -1);
	}
	proto_arena_free(&a);
}
END_TEST

/* offset_commit_request_test.go: offsetCommitRequestOneBlockV2 (v2-4 are
 * the same on the wire), offsetCommitRequestOneBlockV5, V6 and V7. */
/* clang-format off */
static const uint8_t offset_commit_req_v2[] = {
	0, 6, 'f', 'o', 'o', 'b', 'a', 'r',	/* group_id */
	0, 0, 0x11, 0x22,			/* generation_id */
	0, 4, 'c', 'o', 'n', 's',		/* member_id */
	0, 0, 0, 0, 0, 0, 0x44, 0x33,		/* retention_time_ms (v2-4) */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0x52, 0x21,			/* partition_index */
	0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef,	/* committed_offset */
	0, 8, 'm', 'e', 't', 'a', 'd', 'a', 't', 'a',
};
/* clang-format on */
/* clang-format off */
static const uint8_t offset_commit_req_v5[] = {
	0, 3, 'f', 'o', 'o',			/* group_id */
	0, 0, 0, 1,				/* generation_id */
	0, 3, 'm', 'i', 'd',			/* member_id */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0, 1,				/* partition_index */
	0, 0, 0, 0, 0, 0, 0, 2,			/* committed_offset */
	0, 4, 'm', 'e', 't', 'a',
};
/* clang-format on */
/* clang-format off */
static const uint8_t offset_commit_req_v6[] = {
	0, 3, 'f', 'o', 'o',			/* group_id */
	0, 0, 0, 1,				/* generation_id */
	0, 3, 'm', 'i', 'd',			/* member_id */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0, 1,				/* partition_index */
	0, 0, 0, 0, 0, 0, 0, 2,			/* committed_offset */
	0, 0, 0, 3,				/* committed_leader_epoch (v6+) */
	0, 4, 'm', 'e', 't', 'a',
};
/* clang-format on */
/* clang-format off */
static const uint8_t offset_commit_req_v7[] = {
	0, 3, 'f', 'o', 'o',			/* group_id */
	0, 0, 0, 1,				/* generation_id */
	0, 3, 'm', 'i', 'd',			/* member_id */
	0, 3, 'g', 'i', 'd',			/* group_instance_id (v7+) */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0, 1,				/* partition_index */
	0, 0, 0, 0, 0, 0, 0, 2,			/* committed_offset */
	0, 0, 0, 3,				/* committed_leader_epoch */
	0, 4, 'm', 'e', 't', 'a',
};
/* clang-format on */

/* offset_commit_response_test.go: noEmptyOffsetCommitResponseV3, whose tail
 * is noEmptyOffsetCommitResponseV0 (v0-2 are the same on the wire). */
/* clang-format off */
static const uint8_t offset_commit_resp_v3[] = {
	0, 0, 0, 100,				/* throttle_time_ms (v3+) */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0, 3,				/* partition_index */
	0, 0,					/* error_code */
};
/* clang-format on */

static void check_offset_commit_v5plus(const proto_offset_commit_req_t *q, int16_t v)
{
	const proto_offset_commit_partition_t *p = &q->topics[0].partitions[0];

	STR_IS(q->group_id, "foo");
	ck_assert_int_eq(q->generation_id, 1);
	STR_IS(q->member_id, "mid");
	if (v >= 7)
		STR_IS(q->group_instance_id, "gid");
	else
		IS_NULL(q->group_instance_id);
	ck_assert_int_eq(q->retention_time_ms, -1);
	ck_assert_int_eq(q->topics_count, 1);
	STR_IS(q->topics[0].name, "topic");
	ck_assert_int_eq(q->topics[0].partitions_count, 1);
	ck_assert_int_eq(p->partition_index, 1);
	ck_assert_int_eq(p->committed_offset, 2);
	ck_assert_int_eq(p->committed_leader_epoch, v >= 6 ? 3 : -1);
	STR_IS(p->committed_metadata, "meta");
}

START_TEST(golden_offset_commit)
{
	const kind_t *req = kind_of("offset_commit_req"), *resp = kind_of("offset_commit_resp");
	const proto_offset_commit_req_t *q;
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	for (int16_t v = 2; v <= 4; v++) {
		golden(req, v, offset_commit_req_v2, sizeof offset_commit_req_v2, &a, &m);
		q = &m.offset_commit_req;
		STR_IS(q->group_id, "foobar");
		ck_assert_int_eq(q->generation_id, 0x1122);
		STR_IS(q->member_id, "cons");
		IS_NULL(q->group_instance_id);
		ck_assert_int_eq(q->retention_time_ms, 0x4433);
		ck_assert_int_eq(q->topics_count, 1);
		STR_IS(q->topics[0].name, "topic");
		ck_assert_int_eq(q->topics[0].partitions_count, 1);
		ck_assert_int_eq(q->topics[0].partitions[0].partition_index, 0x5221);
		ck_assert_int_eq(q->topics[0].partitions[0].committed_offset, 0xdeadbeef);
		ck_assert_int_eq(q->topics[0].partitions[0].committed_leader_epoch, -1);
		STR_IS(q->topics[0].partitions[0].committed_metadata, "metadata");
	}
	golden(req, 5, offset_commit_req_v5, sizeof offset_commit_req_v5, &a, &m);
	check_offset_commit_v5plus(&m.offset_commit_req, 5);
	golden(req, 6, offset_commit_req_v6, sizeof offset_commit_req_v6, &a, &m);
	check_offset_commit_v5plus(&m.offset_commit_req, 6);
	golden(req, 7, offset_commit_req_v7, sizeof offset_commit_req_v7, &a, &m);
	check_offset_commit_v5plus(&m.offset_commit_req, 7);

	golden(resp, 2, offset_commit_resp_v3 + 4, sizeof offset_commit_resp_v3 - 4, &a, &m);
	ck_assert_int_eq(m.offset_commit_resp.throttle_time_ms, 0);
	for (int16_t v = 2; v <= 7; v++) {
		if (v >= 3) {
			golden(resp, v, offset_commit_resp_v3, sizeof offset_commit_resp_v3, &a,
			       &m);
			ck_assert_int_eq(m.offset_commit_resp.throttle_time_ms, 100);
		}
		ck_assert_int_eq(m.offset_commit_resp.topics_count, 1);
		STR_IS(m.offset_commit_resp.topics[0].name, "topic");
		ck_assert_int_eq(m.offset_commit_resp.topics[0].partitions_count, 1);
		ck_assert_int_eq(m.offset_commit_resp.topics[0].partitions[0].partition_index, 3);
		ck_assert_int_eq(m.offset_commit_resp.topics[0].partitions[0].error_code, 0);
	}
	proto_arena_free(&a);
}
END_TEST

/* offset_fetch_request_test.go: offsetFetchRequestOnePartition (v0-5 the
 * same) and offsetFetchRequestAllPartitions (null topics, v2+). */
/* clang-format off */
static const uint8_t offset_fetch_req_one[] = {
	0, 4, 'b', 'l', 'a', 'h',		/* group_id */
	0, 0, 0, 1,				/* 1 topic */
	0, 13, 't', 'o', 'p', 'i', 'c', 'T', 'h', 'e', 'F', 'i', 'r', 's', 't',
	0, 0, 0, 1,				/* 1 partition */
	0x4f, 0x4f, 0x4f, 0x4f,
};
/* clang-format on */
/* clang-format off */
static const uint8_t offset_fetch_req_all[] = {
	0, 4, 'b', 'l', 'a', 'h',		/* group_id */
	255, 255, 255, 255,			/* null topics: all (v2+) */
};
/* clang-format on */

/* offset_fetch_response_test.go: offsetFetchResponseV0NullMetadata (v0 and
 * v1 are the same), emptyOffsetFetchResponseV2 and emptyOffsetFetchResponseV3
 * (v3-4; v5 adds a field only to partitions, of which there are none). */
/* clang-format off */
static const uint8_t offset_fetch_resp_v1[] = {
	0, 0, 0, 1,				/* 1 topic */
	0, 1, 't',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0, 0,				/* partition_index */
	0, 0, 0, 0, 0, 0, 0, 0,			/* committed_offset */
	255, 255,				/* metadata null */
	0, 7,					/* REQUEST_TIMED_OUT */
};
/* clang-format on */
/* clang-format off */
static const uint8_t offset_fetch_resp_v2[] = {
	0, 0, 0, 0,				/* no topics */
	0, 42,					/* error_code (v2+) */
};
/* clang-format on */
/* clang-format off */
static const uint8_t offset_fetch_resp_v3[] = {
	0, 0, 0, 9,				/* throttle_time_ms (v3+) */
	0, 0, 0, 0,				/* no topics */
	0, 42,					/* error_code */
};
/* clang-format on */

START_TEST(golden_offset_fetch)
{
	const kind_t *req = kind_of("offset_fetch_req"), *resp = kind_of("offset_fetch_resp");
	const proto_offset_fetch_partition_t *p;
	proto_arena_t a;
	anymsg_t m;
	size_t used;

	proto_arena_init(&a, 0);
	for (int16_t v = 1; v <= 5; v++) {
		golden(req, v, offset_fetch_req_one, sizeof offset_fetch_req_one, &a, &m);
		STR_IS(m.offset_fetch_req.group_id, "blah");
		ck_assert_int_eq(m.offset_fetch_req.topics_count, 1);
		STR_IS(m.offset_fetch_req.topics[0].topic, "topicTheFirst");
		ck_assert_int_eq(m.offset_fetch_req.topics[0].partitions_count, 1);
		ck_assert_int_eq(m.offset_fetch_req.topics[0].partitions[0], 0x4f4f4f4f);
	}
	/* Null topics (all of them) exist from v2; v1 refuses the null. */
	ck_assert_int_eq(
	    decode(req, 1, offset_fetch_req_all, sizeof offset_fetch_req_all, &a, &m, &used),
	    TERN_ERR_INVALID_REQUEST);
	for (int16_t v = 2; v <= 5; v++) {
		golden(req, v, offset_fetch_req_all, sizeof offset_fetch_req_all, &a, &m);
		STR_IS(m.offset_fetch_req.group_id, "blah");
		ck_assert_int_eq(m.offset_fetch_req.topics_count, -1);
		ck_assert_ptr_null(m.offset_fetch_req.topics);
	}

	golden(resp, 1, offset_fetch_resp_v1, sizeof offset_fetch_resp_v1, &a, &m);
	ck_assert_int_eq(m.offset_fetch_resp.throttle_time_ms, 0);
	ck_assert_int_eq(m.offset_fetch_resp.topics_count, 1);
	STR_IS(m.offset_fetch_resp.topics[0].name, "t");
	ck_assert_int_eq(m.offset_fetch_resp.topics[0].partitions_count, 1);
	p = &m.offset_fetch_resp.topics[0].partitions[0];
	ck_assert_int_eq(p->partition_index, 0);
	ck_assert_int_eq(p->committed_offset, 0);
	ck_assert_int_eq(p->committed_leader_epoch, -1);
	IS_NULL(p->metadata);
	ck_assert_int_eq(p->error_code, TERN_ERR_REQUEST_TIMED_OUT);
	ck_assert_int_eq(m.offset_fetch_resp.error_code, 0);

	golden(resp, 2, offset_fetch_resp_v2, sizeof offset_fetch_resp_v2, &a, &m);
	ck_assert_int_eq(m.offset_fetch_resp.topics_count, 0);
	ck_assert_int_eq(m.offset_fetch_resp.error_code, TERN_ERR_INVALID_REQUEST);
	for (int16_t v = 3; v <= 5; v++) {
		golden(resp, v, offset_fetch_resp_v3, sizeof offset_fetch_resp_v3, &a, &m);
		ck_assert_int_eq(m.offset_fetch_resp.throttle_time_ms, 9);
		ck_assert_int_eq(m.offset_fetch_resp.topics_count, 0);
		ck_assert_int_eq(m.offset_fetch_resp.error_code, TERN_ERR_INVALID_REQUEST);
	}
	proto_arena_free(&a);
}
END_TEST

/* init_producer_id_request_test.go: initProducerIDRequestNull and
 * initProducerIDRequest; init_producer_id_response_test.go:
 * initProducerIDResponse and initProducerIDRequestError (a response,
 * despite its name). v0 and v1 are the same on the wire. */
/* clang-format off */
static const uint8_t init_pid_req_null[] = {
	255, 255,				/* transactional_id null */
	0, 0, 0, 100,				/* transaction_timeout_ms */
};
/* clang-format on */
/* clang-format off */
static const uint8_t init_pid_req_txn[] = {
	0, 3, 't', 'x', 'n',
	0, 0, 0, 100,
};
/* clang-format on */
/* clang-format off */
static const uint8_t init_pid_resp_ok[] = {
	0, 0, 0, 100,				/* throttle_time_ms */
	0, 0,					/* error_code */
	0, 0, 0, 0, 0, 0, 31, 64,		/* producer_id 8000 */
	0, 0,					/* producer_epoch */
};
/* clang-format on */
/* clang-format off */
static const uint8_t init_pid_resp_error[] = {
	0, 0, 0, 100,
	0, 51,					/* CONCURRENT_TRANSACTIONS */
	255, 255, 255, 255, 255, 255, 255, 255,	/* producer_id -1 */
	0, 0,
};
/* clang-format on */

START_TEST(golden_init_producer_id)
{
	const kind_t *req = kind_of("init_producer_id_req");
	const kind_t *resp = kind_of("init_producer_id_resp");
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	for (int16_t v = 0; v <= 1; v++) {
		golden(req, v, init_pid_req_null, sizeof init_pid_req_null, &a, &m);
		IS_NULL(m.init_producer_id_req.transactional_id);
		ck_assert_int_eq(m.init_producer_id_req.transaction_timeout_ms, 100);
		golden(req, v, init_pid_req_txn, sizeof init_pid_req_txn, &a, &m);
		STR_IS(m.init_producer_id_req.transactional_id, "txn");
		ck_assert_int_eq(m.init_producer_id_req.transaction_timeout_ms, 100);

		golden(resp, v, init_pid_resp_ok, sizeof init_pid_resp_ok, &a, &m);
		ck_assert_int_eq(m.init_producer_id_resp.throttle_time_ms, 100);
		ck_assert_int_eq(m.init_producer_id_resp.error_code, 0);
		ck_assert_int_eq(m.init_producer_id_resp.producer_id, 8000);
		ck_assert_int_eq(m.init_producer_id_resp.producer_epoch, 0);
		golden(resp, v, init_pid_resp_error, sizeof init_pid_resp_error, &a, &m);
		ck_assert_int_eq(m.init_producer_id_resp.error_code,
				 51); /* CONCURRENT_TRANSACTIONS */
		ck_assert_int_eq(m.init_producer_id_resp.producer_id, -1);
	}
	proto_arena_free(&a);
}
END_TEST

/* elect_leaders_request_test.go: electLeadersRequestOneTopicV1. Its tail
 * after the election type is the v0 layout of the same request. No public
 * suite we found has ElectLeaders responses below v2 (flexible). */
/* clang-format off */
static const uint8_t elect_leaders_req_v1[] = {
	0,					/* PREFERRED (v1+) */
	0, 0, 0, 1,				/* 1 topic */
	0, 5, 't', 'o', 'p', 'i', 'c',
	0, 0, 0, 1,				/* 1 partition */
	0, 0, 0, 0,
	0, 0, 39, 16,				/* timeout_ms 10000 */
};
/* clang-format on */

START_TEST(golden_elect_leaders)
{
	const kind_t *req = kind_of("elect_leaders_req");
	const proto_elect_leaders_req_t *q;
	proto_arena_t a;
	anymsg_t m;

	proto_arena_init(&a, 0);
	for (int16_t v = 0; v <= 1; v++) {
		size_t skip = v == 0 ? 1 : 0;

		golden(req, v, elect_leaders_req_v1 + skip, sizeof elect_leaders_req_v1 - skip, &a,
		       &m);
		q = &m.elect_leaders_req;
		ck_assert_int_eq(q->election_type, PROTO_ELECTION_PREFERRED);
		ck_assert_int_eq(q->topic_partitions_count, 1);
		STR_IS(q->topic_partitions[0].topic, "topic");
		ck_assert_int_eq(q->topic_partitions[0].partitions_count, 1);
		ck_assert_int_eq(q->topic_partitions[0].partitions[0], 0);
		ck_assert_int_eq(q->timeout_ms, 10000);
	}
	proto_arena_free(&a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hostile input                                                              */

static tern_err_t decode_bytes(const char *kind, int16_t v, const uint8_t *p, size_t len,
			       proto_arena_t *a)
{
	anymsg_t m;
	size_t used;

	return decode(kind_of(kind), v, p, len, a, &m, &used);
}

/* Counts no frame could hold are refused before anything is allocated. */
START_TEST(hostile_counts_allocate_nothing)
{
	static const uint8_t huge_names[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 100};
	static const uint8_t million_topics[64] = {0x00, 0x0f, 0x42, 0x40};
	static const uint8_t negative[] = {0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0};
	/* clang-format off */
	static const uint8_t nested_brokers[] = {
		0, 0, 0, 1,			/* 1 topic */
		0, 1, 't',
		0, 0, 0, 1,			/* num_partitions */
		0, 1,				/* replication_factor */
		0, 0, 0, 1,			/* 1 assignment */
		0, 0, 0, 0,			/* partition_index */
		0x10, 0, 0, 0,			/* 2^28 broker ids */
		0, 0,
	};
	/* clang-format on */
	proto_arena_t a;

	proto_arena_init(&a, 0);
	ck_assert_int_eq(decode_bytes("delete_topics_req", 0, huge_names, sizeof huge_names, &a),
			 TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(
	    decode_bytes("create_topics_req", 0, million_topics, sizeof million_topics, &a),
	    TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(decode_bytes("offset_commit_resp", 2, negative, sizeof negative, &a),
			 TERN_ERR_INVALID_REQUEST);
	/* -1 is null only where an array is nullable. */
	ck_assert_int_eq(decode_bytes("delete_topics_req", 0, negative + 4, 4, &a),
			 TERN_ERR_INVALID_REQUEST);
	ck_assert_uint_eq(a.used, 0);
	/* The topic and its assignment were allocated, the brokers not. */
	ck_assert_int_eq(
	    decode_bytes("create_topics_req", 0, nested_brokers, sizeof nested_brokers, &a),
	    TERN_ERR_INVALID_REQUEST);
	ck_assert_uint_le(a.used, 256);
	proto_arena_free(&a);
}
END_TEST

/* More elements than proto_limits_t allows are refused even when the
 * frame holds them. */
START_TEST(arrays_beyond_the_limit_are_refused)
{
	int32_t n = limits.max_array + 1;
	size_t len = 1 + 4 + 2 + 4 + (size_t)n * 4 + 4;
	uint8_t *p = calloc(1, len);
	proto_arena_t a;

	ck_assert_ptr_nonnull(p);
	/* ElectLeaders v1: PREFERRED, one topic "", n partitions, timeout. */
	p[4] = 1;
	p[7] = (uint8_t)(n >> 24);
	p[8] = (uint8_t)(n >> 16);
	p[9] = (uint8_t)(n >> 8);
	p[10] = (uint8_t)n;
	proto_arena_init(&a, 0);
	ck_assert_int_eq(decode_bytes("elect_leaders_req", 1, p, len, &a),
			 TERN_ERR_INVALID_REQUEST);
	proto_arena_free(&a);
	free(p);
}
END_TEST

START_TEST(strict_booleans_and_arena_cap)
{
	uint8_t bad_bool[sizeof create_topics_req_v0];
	proto_arena_t a;

	memcpy(bad_bool, create_topics_req_v0, sizeof bad_bool);
	bad_bool[sizeof bad_bool - 1] = 2;
	proto_arena_init(&a, 0);
	ck_assert_int_eq(decode_bytes("create_topics_req", 1, bad_bool, sizeof bad_bool, &a),
			 TERN_ERR_INVALID_REQUEST);
	proto_arena_free(&a);

	/* An arena that refuses gives _NOMEM, not a crash or a partial
	 * message. */
	proto_arena_init(&a, 16);
	ck_assert_int_eq(
	    decode_bytes("create_topics_req", 0, create_topics_req_v0, sizeof bad_bool - 1, &a),
	    TERN_ERR__NOMEM);
	proto_arena_free(&a);
}
END_TEST

/* Mutates p[0..*len) in place (cap bytes of room) with 1-4 random edits:
 * truncations, bit flips, boundary values and near-limit counts written
 * over counts and lengths, random bytes, appended bytes. */
static void mutate(uint64_t *s, uint8_t *p, size_t *len, size_t cap)
{
	static const uint32_t edge32[] = {0xffffffffu, 0x7fffffffu, 0x80000000u, 0,	     1,
					  2,	       0xfffffffeu, 0x00100001u, 0x0000ffffu};
	static const uint16_t edge16[] = {0xffff, 0x7fff, 0x8000, 0, 1, 0xfffe, 0x00ff};
	int edits = 1 + (int)(tt_rand(s) % 4);

	for (int i = 0; i < edits; i++) {
		size_t at = *len ? (size_t)(tt_rand(s) % *len) : 0;
		uint32_t x;

		switch (tt_rand(s) % 7) {
		case 0:
			*len = *len ? (size_t)(tt_rand(s) % *len) : 0;
			break;
		case 1:
			if (*len)
				p[at] ^= (uint8_t)(1u << (tt_rand(s) % 8));
			break;
		case 2:
			x = edge16[tt_rand(s) % (sizeof edge16 / sizeof edge16[0])];
			if (at + 2 <= *len) {
				p[at] = (uint8_t)(x >> 8);
				p[at + 1] = (uint8_t)x;
			}
			break;
		case 3:
			x = edge32[tt_rand(s) % (sizeof edge32 / sizeof edge32[0])];
			if (at + 4 <= *len)
				for (int j = 0; j < 4; j++)
					p[at + (size_t)j] = (uint8_t)(x >> (24 - 8 * j));
			break;
		case 4:
			if (*len)
				p[at] = (uint8_t)tt_rand(s);
			break;
		case 5:
			/* A count near what the bytes after it could hold, where
			 * an understated minimum element size would let the
			 * arena outgrow the frame. */
			x = (uint32_t)((*len - at) / (1 + tt_rand(s) % 8));
			if (at + 4 <= *len)
				for (int j = 0; j < 4; j++)
					p[at + (size_t)j] = (uint8_t)(x >> (24 - 8 * j));
			break;
		default:
			for (int n = (int)(tt_rand(s) % 8); n > 0 && *len < cap; n--)
				p[(*len)++] = (uint8_t)tt_rand(s);
			break;
		}
	}
}

/* Truncated and mutated bodies of every message at every version: the
 * decoder never reads out of bounds (ASan), never crashes, and whatever it
 * accepts it reads exactly: encoding the result gives back the bytes it
 * consumed, within the arena bound. TERN_SEED replays a run. */
START_TEST(random_truncation_and_mutation)
{
	uint64_t s = tt_seed();
	long rounds = tt_scale(400);

	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int16_t v = k->lo; v <= k->hi; v++) {
			proto_arena_t ga;
			proto_buf_t b, again;
			anymsg_t m;
			gen_t g;

			proto_arena_init(&ga, 0);
			proto_buf_init(&b);
			proto_buf_init(&again);
			for (long n = 0; n < rounds; n++) {
				size_t len, cap, used;
				uint8_t *work, *exact;
				proto_arena_t a;
				anymsg_t out;
				tern_err_t err;

				/* A fresh message every 16 rounds. */
				if (n % 16 == 0) {
					memset(&m, 0, sizeof m);
					gen_init(&g, tt_rand(&s), &ga);
					k->fill(&g, v, &m);
					encode(k, v, &m, &b);
				}
				cap = b.len + 64;
				work = malloc(cap);
				ck_assert_ptr_nonnull(work);
				memcpy(work, b.p, b.len);
				len = b.len;
				mutate(&s, work, &len, cap);
				/* Exactly len bytes, so that ASan sees any overread. */
				exact = malloc(len ? len : 1);
				ck_assert_ptr_nonnull(exact);
				memcpy(exact, work, len);
				proto_arena_init(&a, 0);
				err = decode(k, v, exact, len, &a, &out, &used);
				CHECK(err == TERN_OK || err == TERN_ERR_INVALID_REQUEST);
				/* Counts are checked against the bytes left, so even a
				 * refused frame has made the arena hold little: at most
				 * the bound for what was read, plus one array per level
				 * of nesting (three at most here) bounded by the bytes
				 * left when it was counted. */
				CHECK(a.used <= 4 * (size_t)k->factor * len);
				if (err == TERN_OK) {
					CHECK(a.used <= (size_t)k->factor * used);
					encode(k, v, &out, &again);
					CHECK(again.len == used &&
					      memcmp(again.p, exact, used) == 0);
				}
				proto_arena_free(&a);
				free(exact);
				free(work);
			}
			proto_buf_free(&again);
			proto_buf_free(&b);
			proto_arena_free(&ga);
		}
	}
}
END_TEST

static Suite *msg_admin_suite(void)
{
	Suite *s = suite_create("msg_admin");
	TCase *tc;

	tc = tcase_create("round_trip");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, versions_are_the_pinned_ones);
	tcase_add_test(tc, round_trip_every_version);
	tcase_add_test(tc, absent_fields_are_not_written);
	tcase_add_test(tc, minimal_element_sizes);
	tcase_add_test(tc, every_proper_prefix_fails);
	tcase_add_test(tc, unsupported_versions_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, golden_create_topics);
	tcase_add_test(tc, golden_delete_topics);
	tcase_add_test(tc, golden_describe_configs);
	tcase_add_test(tc, golden_alter_configs);
	tcase_add_test(tc, golden_incremental_alter_configs);
	tcase_add_test(tc, golden_find_coordinator);
	tcase_add_test(tc, golden_offset_commit);
	tcase_add_test(tc, golden_offset_fetch);
	tcase_add_test(tc, golden_init_producer_id);
	tcase_add_test(tc, golden_elect_leaders);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 50);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, hostile_counts_allocate_nothing);
	tcase_add_test(tc, arrays_beyond_the_limit_are_refused);
	tcase_add_test(tc, strict_booleans_and_arena_cap);
	tcase_add_test(tc, random_truncation_and_mutation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(msg_admin_suite());
}
