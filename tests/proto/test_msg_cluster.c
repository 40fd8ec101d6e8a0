/* tests/proto/test_msg_cluster.c: the inter-broker control message codecs
 * of proto/msg_cluster.h: round trips with several elements and null
 * arrays, hand-written golden bytes, true minimum element sizes, every
 * truncation, negative counts, the heartbeat image's null rule, and seeded
 * random mutations. */
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
/* Random messages (the generator of test_msg_admin.c, without versions)      */

/* Elements of the one array a minimal message makes long. */
#define MIN_N 40

typedef struct gen {
	uint64_t s;
	proto_arena_t *arena;
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
	g->minimal = -1;
	g->min_n = MIN_N;
	g->arrays = 0;
}

static uint32_t rn(gen_t *g, uint32_t n)
{
	return (uint32_t)(tt_rand(&g->s) % n);
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

/* An array's count (up to 4: several elements), -1 (null) sometimes where
 * the array allows it. */
static int32_t rcount(gen_t *g, bool nullable)
{
	int32_t n = (int32_t)rn(g, 5);
	bool null = nullable && rn(g, 4) == 0;
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

static const int32_t *ri32s(gen_t *g, int32_t *count)
{
	int32_t *a;

	*count = rcount(g, false);
	a = ralloc(g, *count, sizeof *a);
	for (int32_t i = 0; i < *count; i++)
		a[i] = r32(g);
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

static void cmp_kvs(const proto_config_kv_t *a, int32_t an, const proto_config_kv_t *b, int32_t bn)
{
	CHECK(an == bn);
	for (int32_t i = 0; i < an; i++) {
		CHECK_STR(a[i].name, b[i].name);
		CHECK_STR(a[i].value, b[i].value);
	}
}

/* ------------------------------------------------------------------------ */
/* Per message: a random instance and a full comparison                       */

static void fill_broker_registration_req(gen_t *g, proto_broker_registration_req_t *m)
{
	m->broker_id = r32(g);
	m->incarnation_id = r64(g);
	m->host = rstr(g, false);
	m->port = r32(g);
	m->clean_shutdown = rb(g);
}

static void cmp_broker_registration_req(const proto_broker_registration_req_t *a,
					const proto_broker_registration_req_t *b)
{
	CHECK(a->broker_id == b->broker_id);
	CHECK(a->incarnation_id == b->incarnation_id);
	CHECK_STR(a->host, b->host);
	CHECK(a->port == b->port);
	CHECK(a->clean_shutdown == b->clean_shutdown);
}

static void fill_broker_registration_resp(gen_t *g, proto_broker_registration_resp_t *m)
{
	m->error_code = r16(g);
	m->broker_epoch = r64(g);
	m->heartbeat_interval_ms = r32(g);
	m->session_timeout_ms = r32(g);
	m->cluster_id = rstr(g, true);
}

static void cmp_broker_registration_resp(const proto_broker_registration_resp_t *a,
					 const proto_broker_registration_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->broker_epoch == b->broker_epoch);
	CHECK(a->heartbeat_interval_ms == b->heartbeat_interval_ms);
	CHECK(a->session_timeout_ms == b->session_timeout_ms);
	CHECK_STR(a->cluster_id, b->cluster_id);
}

static void fill_broker_heartbeat_req(gen_t *g, proto_broker_heartbeat_req_t *m)
{
	m->broker_id = r32(g);
	m->broker_epoch = r64(g);
	m->want_shutdown = rb(g);
	m->known_metadata_version = r64(g);
	m->max_wait_ms = r32(g);
}

static void cmp_broker_heartbeat_req(const proto_broker_heartbeat_req_t *a,
				     const proto_broker_heartbeat_req_t *b)
{
	CHECK(a->broker_id == b->broker_id);
	CHECK(a->broker_epoch == b->broker_epoch);
	CHECK(a->want_shutdown == b->want_shutdown);
	CHECK(a->known_metadata_version == b->known_metadata_version);
	CHECK(a->max_wait_ms == b->max_wait_ms);
}

static void fill_heartbeat_partition(gen_t *g, proto_broker_heartbeat_partition_t *p)
{
	p->partition_index = r32(g);
	p->leader_id = r32(g);
	p->leader_epoch = r32(g);
	p->partition_epoch = r32(g);
	p->replicas = ri32s(g, &p->replicas_count);
	p->isr = ri32s(g, &p->isr_count);
	p->eligible_leader_replicas = ri32s(g, &p->eligible_leader_replicas_count);
	p->corrupt_replicas = ri32s(g, &p->corrupt_replicas_count);
	p->recovering = rb(g);
}

static void fill_broker_heartbeat_resp(gen_t *g, proto_broker_heartbeat_resp_t *m)
{
	proto_broker_heartbeat_broker_t *br;
	proto_broker_heartbeat_topic_t *t;

	m->error_code = r16(g);
	m->is_fenced = rb(g);
	m->shutdown_done = rb(g);
	m->controller_id = r32(g);
	m->metadata_version = r64(g);
	m->brokers_count = rcount(g, true);
	m->brokers = br = ralloc(g, m->brokers_count, sizeof *br);
	for (int32_t i = 0; i < m->brokers_count; i++) {
		br[i].broker_id = r32(g);
		br[i].host = rstr(g, false);
		br[i].port = r32(g);
		br[i].broker_epoch = r64(g);
		br[i].alive = rb(g);
		br[i].shutting_down = rb(g);
	}
	/* Both null (the image is unchanged) or both present. */
	m->topics_count = rcount(g, true);
	if (m->brokers_count < 0)
		m->topics_count = -1;
	else if (m->topics_count < 0)
		m->topics_count = 0;
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_broker_heartbeat_partition_t *p;

		t[i].name = rstr(g, false);
		t[i].internal = rb(g);
		t[i].configs = rkvs(g, &t[i].configs_count);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++)
			fill_heartbeat_partition(g, &p[j]);
	}
}

static void cmp_broker_heartbeat_resp(const proto_broker_heartbeat_resp_t *a,
				      const proto_broker_heartbeat_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->is_fenced == b->is_fenced);
	CHECK(a->shutdown_done == b->shutdown_done);
	CHECK(a->controller_id == b->controller_id);
	CHECK(a->metadata_version == b->metadata_version);
	CHECK(a->brokers_count == b->brokers_count);
	for (int32_t i = 0; i < a->brokers_count; i++) {
		const proto_broker_heartbeat_broker_t *x = &a->brokers[i], *y = &b->brokers[i];

		CHECK(x->broker_id == y->broker_id);
		CHECK_STR(x->host, y->host);
		CHECK(x->port == y->port);
		CHECK(x->broker_epoch == y->broker_epoch);
		CHECK(x->alive == y->alive);
		CHECK(x->shutting_down == y->shutting_down);
	}
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_broker_heartbeat_topic_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->internal == y->internal);
		cmp_kvs(x->configs, x->configs_count, y->configs, y->configs_count);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			const proto_broker_heartbeat_partition_t *p = &x->partitions[j],
								 *q = &y->partitions[j];

			CHECK(p->partition_index == q->partition_index);
			CHECK(p->leader_id == q->leader_id);
			CHECK(p->leader_epoch == q->leader_epoch);
			CHECK(p->partition_epoch == q->partition_epoch);
			cmp_i32s(p->replicas, p->replicas_count, q->replicas, q->replicas_count);
			cmp_i32s(p->isr, p->isr_count, q->isr, q->isr_count);
			cmp_i32s(p->eligible_leader_replicas, p->eligible_leader_replicas_count,
				 q->eligible_leader_replicas, q->eligible_leader_replicas_count);
			cmp_i32s(p->corrupt_replicas, p->corrupt_replicas_count,
				 q->corrupt_replicas, q->corrupt_replicas_count);
			CHECK(p->recovering == q->recovering);
		}
	}
}

static void fill_alter_partition_req(gen_t *g, proto_alter_partition_req_t *m)
{
	proto_alter_partition_topic_t *t;

	m->broker_id = r32(g);
	m->broker_epoch = r64(g);
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_alter_partition_partition_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			proto_alter_partition_broker_state_t *isr;

			p[j].partition_index = r32(g);
			p[j].leader_epoch = r32(g);
			p[j].partition_epoch = r32(g);
			p[j].new_isr_count = rcount(g, false);
			p[j].new_isr = isr = ralloc(g, p[j].new_isr_count, sizeof *isr);
			for (int32_t k = 0; k < p[j].new_isr_count; k++) {
				isr[k].broker_id = r32(g);
				isr[k].broker_epoch = r64(g);
			}
		}
	}
}

static void cmp_alter_partition_req(const proto_alter_partition_req_t *a,
				    const proto_alter_partition_req_t *b)
{
	CHECK(a->broker_id == b->broker_id);
	CHECK(a->broker_epoch == b->broker_epoch);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_alter_partition_topic_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			const proto_alter_partition_partition_t *p = &x->partitions[j],
								*q = &y->partitions[j];

			CHECK(p->partition_index == q->partition_index);
			CHECK(p->leader_epoch == q->leader_epoch);
			CHECK(p->partition_epoch == q->partition_epoch);
			CHECK(p->new_isr_count == q->new_isr_count);
			for (int32_t k = 0; k < p->new_isr_count; k++) {
				CHECK(p->new_isr[k].broker_id == q->new_isr[k].broker_id);
				CHECK(p->new_isr[k].broker_epoch == q->new_isr[k].broker_epoch);
			}
		}
	}
}

static void fill_alter_partition_resp(gen_t *g, proto_alter_partition_resp_t *m)
{
	proto_alter_partition_topic_result_t *t;

	m->error_code = r16(g);
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_alter_partition_partition_result_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			p[j].partition_index = r32(g);
			p[j].error_code = r16(g);
			p[j].leader_id = r32(g);
			p[j].leader_epoch = r32(g);
			p[j].partition_epoch = r32(g);
			p[j].isr = ri32s(g, &p[j].isr_count);
		}
	}
}

static void cmp_alter_partition_resp(const proto_alter_partition_resp_t *a,
				     const proto_alter_partition_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_alter_partition_topic_result_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			const proto_alter_partition_partition_result_t *p = &x->partitions[j],
								       *q = &y->partitions[j];

			CHECK(p->partition_index == q->partition_index);
			CHECK(p->error_code == q->error_code);
			CHECK(p->leader_id == q->leader_id);
			CHECK(p->leader_epoch == q->leader_epoch);
			CHECK(p->partition_epoch == q->partition_epoch);
			cmp_i32s(p->isr, p->isr_count, q->isr, q->isr_count);
		}
	}
}

static void fill_allocate_producer_ids_req(gen_t *g, proto_allocate_producer_ids_req_t *m)
{
	m->broker_id = r32(g);
	m->broker_epoch = r64(g);
}

static void cmp_allocate_producer_ids_req(const proto_allocate_producer_ids_req_t *a,
					  const proto_allocate_producer_ids_req_t *b)
{
	CHECK(a->broker_id == b->broker_id);
	CHECK(a->broker_epoch == b->broker_epoch);
}

static void fill_allocate_producer_ids_resp(gen_t *g, proto_allocate_producer_ids_resp_t *m)
{
	m->error_code = r16(g);
	m->producer_id_start = r64(g);
	m->producer_id_len = r32(g);
}

static void cmp_allocate_producer_ids_resp(const proto_allocate_producer_ids_resp_t *a,
					   const proto_allocate_producer_ids_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->producer_id_start == b->producer_id_start);
	CHECK(a->producer_id_len == b->producer_id_len);
}

static void fill_replica_health_req(gen_t *g, proto_replica_health_req_t *m)
{
	proto_replica_health_topic_t *t;

	m->broker_id = r32(g);
	m->broker_epoch = r64(g);
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_replica_health_partition_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			p[j].partition_index = r32(g);
			p[j].corrupt = rb(g);
		}
	}
}

static void cmp_replica_health_req(const proto_replica_health_req_t *a,
				   const proto_replica_health_req_t *b)
{
	CHECK(a->broker_id == b->broker_id);
	CHECK(a->broker_epoch == b->broker_epoch);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_replica_health_topic_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			CHECK(x->partitions[j].partition_index == y->partitions[j].partition_index);
			CHECK(x->partitions[j].corrupt == y->partitions[j].corrupt);
		}
	}
}

static void fill_replica_health_resp(gen_t *g, proto_replica_health_resp_t *m)
{
	proto_replica_health_topic_result_t *t;

	m->error_code = r16(g);
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_replica_health_partition_result_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			p[j].partition_index = r32(g);
			p[j].error_code = r16(g);
		}
	}
}

static void cmp_replica_health_resp(const proto_replica_health_resp_t *a,
				    const proto_replica_health_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_replica_health_topic_result_t *x = &a->topics[i], *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			CHECK(x->partitions[j].partition_index == y->partitions[j].partition_index);
			CHECK(x->partitions[j].error_code == y->partitions[j].error_code);
		}
	}
}

static void fill_describe_partitions_req(gen_t *g, proto_describe_partitions_req_t *m)
{
	proto_describe_partitions_topic_t *t;

	m->topics_count = rcount(g, true);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		int32_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, true);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++)
			p[j] = r32(g);
	}
}

static void cmp_describe_partitions_req(const proto_describe_partitions_req_t *a,
					const proto_describe_partitions_req_t *b)
{
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		CHECK_STR(a->topics[i].name, b->topics[i].name);
		cmp_i32s(a->topics[i].partitions, a->topics[i].partitions_count,
			 b->topics[i].partitions, b->topics[i].partitions_count);
	}
}

static void fill_describe_partitions_resp(gen_t *g, proto_describe_partitions_resp_t *m)
{
	proto_describe_partitions_topic_result_t *t;

	m->error_code = r16(g);
	m->topics_count = rcount(g, false);
	m->topics = t = ralloc(g, m->topics_count, sizeof *t);
	for (int32_t i = 0; i < m->topics_count; i++) {
		proto_describe_partitions_partition_t *p;

		t[i].name = rstr(g, false);
		t[i].partitions_count = rcount(g, false);
		t[i].partitions = p = ralloc(g, t[i].partitions_count, sizeof *p);
		for (int32_t j = 0; j < t[i].partitions_count; j++) {
			proto_describe_partitions_replica_t *rep;

			p[j].partition_index = r32(g);
			p[j].error_code = r16(g);
			p[j].leader_id = r32(g);
			p[j].leader_epoch = r32(g);
			p[j].isr = ri32s(g, &p[j].isr_count);
			p[j].log_start_offset = r64(g);
			p[j].high_watermark = r64(g);
			p[j].log_end_offset = r64(g);
			p[j].mode = (int8_t)r16(g);
			p[j].replicas_count = rcount(g, false);
			p[j].replicas = rep = ralloc(g, p[j].replicas_count, sizeof *rep);
			for (int32_t k = 0; k < p[j].replicas_count; k++) {
				rep[k].broker_id = r32(g);
				rep[k].log_end_offset = r64(g);
				rep[k].lag = r64(g);
				rep[k].caught_up_ms_ago = r64(g);
			}
		}
	}
}

static void cmp_describe_partitions_resp(const proto_describe_partitions_resp_t *a,
					 const proto_describe_partitions_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->topics_count == b->topics_count);
	for (int32_t i = 0; i < a->topics_count; i++) {
		const proto_describe_partitions_topic_result_t *x = &a->topics[i],
							       *y = &b->topics[i];

		CHECK_STR(x->name, y->name);
		CHECK(x->partitions_count == y->partitions_count);
		for (int32_t j = 0; j < x->partitions_count; j++) {
			const proto_describe_partitions_partition_t *p = &x->partitions[j],
								    *q = &y->partitions[j];

			CHECK(p->partition_index == q->partition_index);
			CHECK(p->error_code == q->error_code);
			CHECK(p->leader_id == q->leader_id);
			CHECK(p->leader_epoch == q->leader_epoch);
			cmp_i32s(p->isr, p->isr_count, q->isr, q->isr_count);
			CHECK(p->log_start_offset == q->log_start_offset);
			CHECK(p->high_watermark == q->high_watermark);
			CHECK(p->log_end_offset == q->log_end_offset);
			CHECK(p->mode == q->mode);
			CHECK(p->replicas_count == q->replicas_count);
			for (int32_t k = 0; k < p->replicas_count; k++) {
				CHECK(p->replicas[k].broker_id == q->replicas[k].broker_id);
				CHECK(p->replicas[k].log_end_offset ==
				      q->replicas[k].log_end_offset);
				CHECK(p->replicas[k].lag == q->replicas[k].lag);
				CHECK(p->replicas[k].caught_up_ms_ago ==
				      q->replicas[k].caught_up_ms_ago);
			}
		}
	}
}

static void fill_describe_cluster_req(gen_t *g, proto_describe_cluster_req_t *m)
{
	(void)g;
	(void)m;
}

static void cmp_describe_cluster_req(const proto_describe_cluster_req_t *a,
				     const proto_describe_cluster_req_t *b)
{
	(void)a;
	(void)b;
}

static void fill_describe_cluster_resp(gen_t *g, proto_describe_cluster_resp_t *m)
{
	proto_describe_cluster_broker_t *br;
	proto_describe_cluster_partition_t *p;

	m->error_code = r16(g);
	m->controller_id = r32(g);
	m->brokers_count = rcount(g, false);
	m->brokers = br = ralloc(g, m->brokers_count, sizeof *br);
	for (int32_t i = 0; i < m->brokers_count; i++) {
		br[i].broker_id = r32(g);
		br[i].host = rstr(g, false);
		br[i].port = r32(g);
		br[i].alive = rb(g);
		br[i].shutting_down = rb(g);
		br[i].broker_epoch = r64(g);
	}
	m->partitions_offline_count = rcount(g, false);
	m->partitions_offline = p = ralloc(g, m->partitions_offline_count, sizeof *p);
	for (int32_t i = 0; i < m->partitions_offline_count; i++) {
		p[i].topic = rstr(g, false);
		p[i].partition = r32(g);
	}
}

static void cmp_describe_cluster_resp(const proto_describe_cluster_resp_t *a,
				      const proto_describe_cluster_resp_t *b)
{
	CHECK(a->error_code == b->error_code);
	CHECK(a->controller_id == b->controller_id);
	CHECK(a->brokers_count == b->brokers_count);
	for (int32_t i = 0; i < a->brokers_count; i++) {
		const proto_describe_cluster_broker_t *x = &a->brokers[i], *y = &b->brokers[i];

		CHECK(x->broker_id == y->broker_id);
		CHECK_STR(x->host, y->host);
		CHECK(x->port == y->port);
		CHECK(x->alive == y->alive);
		CHECK(x->shutting_down == y->shutting_down);
		CHECK(x->broker_epoch == y->broker_epoch);
	}
	CHECK(a->partitions_offline_count == b->partitions_offline_count);
	for (int32_t i = 0; i < a->partitions_offline_count; i++) {
		CHECK_STR(a->partitions_offline[i].topic, b->partitions_offline[i].topic);
		CHECK(a->partitions_offline[i].partition == b->partitions_offline[i].partition);
	}
}

/* ------------------------------------------------------------------------ */
/* The table of messages                                                      */

typedef union anymsg {
	proto_broker_registration_req_t broker_registration_req;
	proto_broker_registration_resp_t broker_registration_resp;
	proto_broker_heartbeat_req_t broker_heartbeat_req;
	proto_broker_heartbeat_resp_t broker_heartbeat_resp;
	proto_alter_partition_req_t alter_partition_req;
	proto_alter_partition_resp_t alter_partition_resp;
	proto_allocate_producer_ids_req_t allocate_producer_ids_req;
	proto_allocate_producer_ids_resp_t allocate_producer_ids_resp;
	proto_replica_health_req_t replica_health_req;
	proto_replica_health_resp_t replica_health_resp;
	proto_describe_partitions_req_t describe_partitions_req;
	proto_describe_partitions_resp_t describe_partitions_resp;
	proto_describe_cluster_req_t describe_cluster_req;
	proto_describe_cluster_resp_t describe_cluster_resp;
} anymsg_t;

typedef struct kind {
	const char *name;
	int16_t key;
	/* Bit i set: the i-th array a minimal message draws may be null. */
	unsigned nullable_arrays;
	tern_err_t (*decode)(proto_reader_t *r, int16_t v, anymsg_t *m);
	void (*encode)(proto_buf_t *b, int16_t v, const anymsg_t *m);
	void (*fill)(gen_t *g, anymsg_t *m);
	void (*cmp)(const anymsg_t *a, const anymsg_t *b);
} kind_t;

/* Adapters from the union to message T. */
#define ADAPT(T)                                                                                   \
	static tern_err_t dec_##T(proto_reader_t *r, int16_t v, anymsg_t *m)                       \
	{                                                                                          \
		return proto_##T##_decode(r, v, &m->T);                                            \
	}                                                                                          \
	static void enc_##T(proto_buf_t *b, int16_t v, const anymsg_t *m)                          \
	{                                                                                          \
		proto_##T##_encode(b, v, &m->T);                                                   \
	}                                                                                          \
	static void fill_any_##T(gen_t *g, anymsg_t *m)                                            \
	{                                                                                          \
		fill_##T(g, &m->T);                                                                \
	}                                                                                          \
	static void cmp_any_##T(const anymsg_t *a, const anymsg_t *b)                              \
	{                                                                                          \
		cmp_##T(&a->T, &b->T);                                                             \
	}

ADAPT(broker_registration_req)
ADAPT(broker_registration_resp)
ADAPT(broker_heartbeat_req)
ADAPT(broker_heartbeat_resp)
ADAPT(alter_partition_req)
ADAPT(alter_partition_resp)
ADAPT(allocate_producer_ids_req)
ADAPT(allocate_producer_ids_resp)
ADAPT(replica_health_req)
ADAPT(replica_health_resp)
ADAPT(describe_partitions_req)
ADAPT(describe_partitions_resp)
ADAPT(describe_cluster_req)
ADAPT(describe_cluster_resp)

#define KIND(T, key, nullable)                                                                     \
	{                                                                                          \
#T, key, nullable, dec_##T, enc_##T, fill_any_##T, cmp_any_##T                     \
	}

static const kind_t kinds[] = {
    KIND(broker_registration_req, PROTO_API_BROKER_REGISTRATION, 0),
    KIND(broker_registration_resp, PROTO_API_BROKER_REGISTRATION, 0),
    KIND(broker_heartbeat_req, PROTO_API_BROKER_HEARTBEAT, 0),
    /* brokers and topics, the first two arrays drawn */
    KIND(broker_heartbeat_resp, PROTO_API_BROKER_HEARTBEAT, 0x3),
    KIND(alter_partition_req, PROTO_API_ALTER_PARTITION, 0),
    KIND(alter_partition_resp, PROTO_API_ALTER_PARTITION, 0),
    KIND(allocate_producer_ids_req, PROTO_API_ALLOCATE_PRODUCER_IDS, 0),
    KIND(allocate_producer_ids_resp, PROTO_API_ALLOCATE_PRODUCER_IDS, 0),
    KIND(replica_health_req, PROTO_API_REPLICA_HEALTH, 0),
    KIND(replica_health_resp, PROTO_API_REPLICA_HEALTH, 0),
    /* topics and each topic's partitions may be null */
    KIND(describe_partitions_req, PROTO_API_DESCRIBE_PARTITIONS, 0x3),
    KIND(describe_partitions_resp, PROTO_API_DESCRIBE_PARTITIONS, 0),
    KIND(describe_cluster_req, PROTO_API_DESCRIBE_CLUSTER, 0),
    KIND(describe_cluster_resp, PROTO_API_DESCRIBE_CLUSTER, 0),
};

#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

static proto_limits_t limits;

static void setup(void)
{
	proto_limits_default(&limits);
}

static const kind_t *kind_of(const char *name)
{
	for (int i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	ck_abort_msg("no kind %s", name);
	return NULL;
}

/* Encodes m into b (reset first) and checks that nothing failed. */
static void encode(const kind_t *k, const anymsg_t *m, proto_buf_t *b)
{
	proto_buf_reset(b);
	k->encode(b, 0, m);
	ck_assert_msg(!b->oom, "%s: encode failed", k->name);
}

/* Decodes len bytes at version 0 into out with arena a; returns the error
 * and, through consumed, how many bytes the body took. */
static tern_err_t decode(const kind_t *k, const uint8_t *p, size_t len, proto_arena_t *a,
			 anymsg_t *out, size_t *consumed)
{
	proto_reader_t r;
	tern_err_t err;

	proto_reader_init(&r, p, len, &limits, a);
	err = k->decode(&r, 0, out);
	CHECK(err == r.err);
	*consumed = len - proto_rd_left(&r);
	return err;
}

static tern_err_t decode_bytes(const char *kind, const uint8_t *p, size_t len, proto_arena_t *a)
{
	anymsg_t m;
	size_t used;

	return decode(kind_of(kind), p, len, a, &m, &used);
}

/* Encode, decode, compare field by field, and encode again to the same
 * bytes; the decoder's arena stays within PROTO_ARENA_FACTOR, responses
 * included (msg_cluster.h). */
static void round_trip(const kind_t *k, const anymsg_t *m)
{
	proto_buf_t b1, b2;
	proto_arena_t a;
	anymsg_t got;
	size_t used;

	proto_buf_init(&b1);
	proto_buf_init(&b2);
	proto_arena_init(&a, 0);
	encode(k, m, &b1);
	ck_assert_msg(decode(k, b1.p, b1.len, &a, &got, &used) == TERN_OK, "%s", k->name);
	ck_assert_msg(used == b1.len, "%s: took %zu of %zu bytes", k->name, used, b1.len);
	ck_assert_msg(a.used <= (size_t)PROTO_ARENA_FACTOR * b1.len, "%s: arena %zu for %zu bytes",
		      k->name, a.used, b1.len);
	k->cmp(m, &got);
	encode(k, &got, &b2);
	CHECK(b1.len == b2.len && (b1.len == 0 || memcmp(b1.p, b2.p, b1.len) == 0));
	proto_arena_free(&a);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                                */

START_TEST(keys_are_version_0_never_flexible)
{
	static const struct {
		int16_t key;
		const char *name;
	} names[] = {
	    {PROTO_API_BROKER_REGISTRATION, "BrokerRegistration"},
	    {PROTO_API_BROKER_HEARTBEAT, "BrokerHeartbeat"},
	    {PROTO_API_ALTER_PARTITION, "AlterPartition"},
	    {PROTO_API_ALLOCATE_PRODUCER_IDS, "AllocateProducerIds"},
	    {PROTO_API_REPLICA_HEALTH, "ReplicaHealth"},
	    {PROTO_API_DESCRIBE_PARTITIONS, "DescribePartitions"},
	    {PROTO_API_DESCRIBE_CLUSTER, "DescribeCluster"},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const proto_api_info_t *info = proto_api_info(names[i].key);

		ck_assert_int_eq(names[i].key, 1000 + (int)i);
		ck_assert_ptr_nonnull(info);
		ck_assert_int_eq(info->min_version, 0);
		ck_assert_int_eq(info->max_version, 0);
		ck_assert_str_eq(info->name, names[i].name);
		ck_assert(!proto_api_is_flexible(names[i].key, 0));
		ck_assert(!proto_api_is_flexible(names[i].key, INT16_MAX - 1));
	}
}
END_TEST

/* The request header of a Tern key is v1 (no tagged fields), and a v1
 * response header answers it. */
START_TEST(headers_are_non_flexible)
{
	proto_req_hdr_t h = {PROTO_API_BROKER_HEARTBEAT, 0, 7, PROTO_STR("b1")}, got;
	proto_resp_hdr_t rh = {7};
	proto_reader_t r;
	proto_buf_t b;

	proto_buf_init(&b);
	proto_req_hdr_encode(&b, &h);
	ck_assert_uint_eq(b.len, 2 + 2 + 4 + 2 + 2);
	proto_reader_init(&r, b.p, b.len, &limits, NULL);
	ck_assert_int_eq(proto_req_hdr_decode(&r, &got), TERN_OK);
	ck_assert_int_eq(got.api_key, PROTO_API_BROKER_HEARTBEAT);
	ck_assert_uint_eq(proto_rd_left(&r), 0);
	proto_buf_reset(&b);
	proto_resp_hdr_encode(&b, PROTO_API_BROKER_HEARTBEAT, 0, &rh);
	ck_assert_uint_eq(b.len, 4);
	proto_buf_free(&b);
}
END_TEST

START_TEST(round_trip_random_messages)
{
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int n = 0; n < 300; n++) {
			proto_arena_t a;
			anymsg_t m;
			gen_t g;

			proto_arena_init(&a, 0);
			gen_init(&g, 0xc1a5000u + (uint64_t)i * 1000 + (uint64_t)n, &a);
			memset(&m, 0, sizeof m);
			k->fill(&g, &m);
			round_trip(k, &m);
			proto_arena_free(&a);
		}
	}
}
END_TEST

/* A heartbeat response with several brokers and topics, and one with the
 * image unchanged (both arrays null); a request with several topics. */
START_TEST(round_trip_written_out)
{
	static const int32_t r3[] = {1, 2, 3}, r2[] = {2, 3}, r1[] = {3};
	static const proto_config_kv_t cfg[] = {
	    {PROTO_STR("cleanup.policy"), PROTO_STR("compact")},
	    {PROTO_STR("retention.ms"), PROTO_NULL_STR},
	};
	const proto_broker_heartbeat_broker_t brokers[] = {
	    {1, PROTO_STR("10.0.0.1"), 9092, 100, true, false},
	    {2, PROTO_STR("10.0.0.2"), 9092, 101, true, true},
	    {3, PROTO_STR(""), 0, 7, false, false},
	};
	const proto_broker_heartbeat_partition_t parts[] = {
	    {0, 1, 4, 9, r3, 3, r3, 3, NULL, 0, NULL, 0, false},
	    {1, 2, 5, 10, r3, 3, r2, 2, r2, 2, r1, 1, true},
	    {2, -1, 6, 11, r3, 3, NULL, 0, NULL, 0, r3, 3, false},
	};
	const proto_broker_heartbeat_topic_t topics[] = {
	    {PROTO_STR("orders"), false, cfg, 2, parts, 3},
	    {PROTO_STR("__consumer_offsets"), true, NULL, 0, parts + 1, 2},
	};
	const proto_alter_partition_broker_state_t isr[] = {{1, 100}, {2, 101}};
	const proto_alter_partition_partition_t ap[] = {{0, 4, 9, isr, 2}, {1, 5, 10, isr, 1}};
	const proto_alter_partition_topic_t at[] = {{PROTO_STR("a"), ap, 2},
						    {PROTO_STR("b"), ap, 1}};
	anymsg_t m;

	memset(&m, 0, sizeof m);
	m.broker_heartbeat_resp =
	    (proto_broker_heartbeat_resp_t){0, false, false, 1, 42, brokers, 3, topics, 2};
	round_trip(kind_of("broker_heartbeat_resp"), &m);
	m.broker_heartbeat_resp =
	    (proto_broker_heartbeat_resp_t){0, true, true, 1, 42, NULL, -1, NULL, -1};
	round_trip(kind_of("broker_heartbeat_resp"), &m);
	/* Present but empty is not null: a cluster with no brokers known. */
	m.broker_heartbeat_resp =
	    (proto_broker_heartbeat_resp_t){0, false, false, -1, 0, NULL, 0, NULL, 0};
	round_trip(kind_of("broker_heartbeat_resp"), &m);
	m.alter_partition_req = (proto_alter_partition_req_t){1, 100, at, 2};
	round_trip(kind_of("alter_partition_req"), &m);
}
END_TEST

/* The encoding of a minimal message whose which-th array has n elements;
 * false when the message has no which-th array. */
static bool encode_minimal(const kind_t *k, int which, int32_t n, proto_buf_t *b)
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
	k->fill(&g, &m);
	has = g.arrays > which;
	if (has && n == MIN_N)
		round_trip(k, &m);
	if (has)
		encode(k, &m, b);
	proto_arena_free(&a);
	return has;
}

/* Where the which-th array's count lies in full (MIN_N elements), found as
 * the int32 whose low byte differs from the encoding with one more. */
static size_t count_at(const proto_buf_t *full, const proto_buf_t *more)
{
	size_t at = 0;

	while (at < full->len && full->p[at] == more->p[at])
		at++;
	CHECK(at >= 3 && at < full->len);
	at -= 3;
	CHECK(full->p[at] == 0 && full->p[at + 1] == 0 && full->p[at + 2] == 0 &&
	      full->p[at + 3] == MIN_N);
	return at;
}

static void put32(uint8_t *p, uint32_t x)
{
	for (int j = 0; j < 4; j++)
		p[j] = (uint8_t)(x >> (24 - 8 * j));
}

static size_t arena_used_by(const kind_t *k, const uint8_t *p, size_t len, tern_err_t want)
{
	proto_arena_t a;
	anymsg_t out;
	size_t used, bytes;

	proto_arena_init(&a, 0);
	CHECK(decode(k, p, len, &a, &out, &used) == want);
	bytes = a.used;
	proto_arena_free(&a);
	return bytes;
}

/* Each decoder checks an array's count against the bytes left times the
 * smallest encoding of one element: MIN_N smallest elements at the end of
 * a frame decode (round_trip in encode_minimal, within the arena factor),
 * and one element more than the bytes left could hold is refused before
 * anything is allocated for the array. Every array takes its turn. */
START_TEST(minimal_element_sizes)
{
	proto_buf_t full, more, none;

	proto_buf_init(&full);
	proto_buf_init(&more);
	proto_buf_init(&none);
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int which = 0; encode_minimal(k, which, MIN_N, &full); which++) {
			size_t at, min, left, zero_used;
			uint32_t n;

			encode_minimal(k, which, MIN_N + 1, &more);
			encode_minimal(k, which, 0, &none);
			min = more.len - full.len;
			at = count_at(&full, &more);
			left = full.len - at - 4;
			n = (uint32_t)(left / min + 1);
			put32(full.p + at, n);
			zero_used = arena_used_by(k, none.p, none.len, TERN_OK);
			if (arena_used_by(k, full.p, full.len, TERN_ERR_INVALID_REQUEST) >
			    zero_used)
				ck_abort_msg("%s array %d: %u elements of %zu bytes "
					     "allocated with %zu bytes left",
					     k->name, which, n, min, left);
		}
	}
	proto_buf_free(&full);
	proto_buf_free(&more);
	proto_buf_free(&none);
}
END_TEST

/* A negative count is refused wherever it stands, -1 included where the
 * array is not nullable, and nothing is allocated for it. */
START_TEST(negative_counts_are_refused)
{
	static const uint32_t bad[] = {0xffffffffu, 0xfffffffeu, 0x80000000u, 0xffffff00u};
	proto_buf_t full, more;

	proto_buf_init(&full);
	proto_buf_init(&more);
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int which = 0; encode_minimal(k, which, MIN_N, &full); which++) {
			size_t at;

			encode_minimal(k, which, MIN_N + 1, &more);
			at = count_at(&full, &more);
			for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
				proto_arena_t a;
				anymsg_t out;
				size_t used;
				tern_err_t err;
				uint8_t *p;

				if (bad[j] == 0xffffffffu && (k->nullable_arrays >> which & 1))
					continue;
				p = malloc(full.len);
				ck_assert_ptr_nonnull(p);
				memcpy(p, full.p, full.len);
				put32(p + at, bad[j]);
				proto_arena_init(&a, 0);
				err = decode(k, p, full.len, &a, &out, &used);
				ck_assert_msg(err == TERN_ERR_INVALID_REQUEST,
					      "%s array %d count %d: %s", k->name, which,
					      (int32_t)bad[j], tern_err_name(err));
				proto_arena_free(&a);
				free(p);
			}
		}
	}
	proto_buf_free(&full);
	proto_buf_free(&more);
}
END_TEST

/* Every field is required, so every proper prefix of a valid body is
 * refused, and *out is left alone. */
START_TEST(every_truncation_fails)
{
	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (int n = 0; n < 8; n++) {
			proto_arena_t a;
			proto_buf_t b;
			anymsg_t m, out, untouched;
			size_t used;
			gen_t g;

			proto_arena_init(&a, 0);
			proto_buf_init(&b);
			memset(&m, 0, sizeof m);
			gen_init(&g, 0x9e3779b9u + (uint64_t)i * 100 + (uint64_t)n, &a);
			k->fill(&g, &m);
			encode(k, &m, &b);
			memset(&untouched, 0xa5, sizeof untouched);
			for (size_t len = 0; len < b.len; len++) {
				/* Exactly len bytes, so that ASan sees any overread. */
				uint8_t *exact = malloc(len ? len : 1);
				proto_arena_t da;

				ck_assert_ptr_nonnull(exact);
				if (len)
					memcpy(exact, b.p, len);
				proto_arena_init(&da, 0);
				memcpy(&out, &untouched, sizeof out);
				CHECK(decode(k, exact, len, &da, &out, &used) ==
				      TERN_ERR_INVALID_REQUEST);
				CHECK(memcmp(&out, &untouched, sizeof out) == 0);
				proto_arena_free(&da);
				free(exact);
			}
			proto_buf_free(&b);
			proto_arena_free(&a);
		}
	}
}
END_TEST

START_TEST(other_versions_are_refused)
{
	static const int16_t bad[] = {1, -1, 2, INT16_MAX};

	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];

		for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			static const uint8_t zeros[64];
			anymsg_t m, out, untouched;
			proto_arena_t a;
			proto_reader_t r;
			proto_buf_t b;

			proto_arena_init(&a, 0);
			memset(&untouched, 0x5a, sizeof untouched);
			memcpy(&out, &untouched, sizeof out);
			proto_reader_init(&r, zeros, sizeof zeros, &limits, &a);
			ck_assert_int_eq(k->decode(&r, bad[j], &out), TERN_ERR_UNSUPPORTED_VERSION);
			ck_assert_int_eq(r.err, TERN_ERR_UNSUPPORTED_VERSION);
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
/* Golden bytes, written out by hand from the field list in docs/protocol.md  */

#define STR_IS(s, lit) ck_assert_msg(proto_str_eq((s), (lit)), "%s is not \"%s\"", #s, (lit))

/* Checks that b holds exactly want, naming the first byte that differs. */
static void bytes_are(const proto_buf_t *b, const uint8_t *want, size_t len)
{
	ck_assert(!b->oom);
	for (size_t i = 0; i < len && i < b->len; i++)
		ck_assert_msg(b->p[i] == want[i], "byte %zu is 0x%02x, not 0x%02x", i, b->p[i],
			      want[i]);
	ck_assert_uint_eq(b->len, len);
}

/* Decodes a golden body (all of it) and checks that encoding the result
 * gives the same bytes back. */
static void golden(const kind_t *k, const uint8_t *p, size_t len, proto_arena_t *a, anymsg_t *out)
{
	proto_buf_t b;
	size_t used;

	ck_assert_msg(decode(k, p, len, a, out, &used) == TERN_OK, "%s", k->name);
	ck_assert_uint_eq(used, len);
	proto_buf_init(&b);
	encode(k, out, &b);
	bytes_are(&b, p, len);
	proto_buf_free(&b);
}

/* clang-format off */
static const uint8_t registration_req[] = {
	0, 0, 0, 3,				/* broker_id 3 */
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* incarnation_id */
	0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', /* host */
	0, 0, 0x23, 0x84,			/* port 9092 */
	1,					/* clean_shutdown */
};
static const uint8_t registration_resp[] = {
	0, 0,					/* error_code */
	0, 0, 0, 0, 0, 0, 0, 12,		/* broker_epoch 12 */
	0, 0, 0x07, 0xd0,			/* heartbeat_interval_ms 2000 */
	0, 0, 0x46, 0x50,			/* session_timeout_ms 18000 */
	0xff, 0xff,				/* cluster_id null */
};
/* clang-format on */

START_TEST(golden_broker_registration)
{
	const kind_t *req = kind_of("broker_registration_req");
	const kind_t *resp = kind_of("broker_registration_resp");
	anymsg_t m, got;
	proto_arena_t a;
	proto_buf_t b;

	memset(&m, 0, sizeof m);
	m.broker_registration_req = (proto_broker_registration_req_t){
	    3, (int64_t)0x0123456789abcdefULL, PROTO_STR("localhost"), 9092, true};
	proto_buf_init(&b);
	encode(req, &m, &b);
	bytes_are(&b, registration_req, sizeof registration_req);
	m.broker_registration_resp =
	    (proto_broker_registration_resp_t){0, 12, 2000, 18000, PROTO_NULL_STR};
	encode(resp, &m, &b);
	bytes_are(&b, registration_resp, sizeof registration_resp);
	proto_buf_free(&b);

	proto_arena_init(&a, 0);
	golden(req, registration_req, sizeof registration_req, &a, &got);
	ck_assert_int_eq(got.broker_registration_req.broker_id, 3);
	ck_assert(got.broker_registration_req.incarnation_id == (int64_t)0x0123456789abcdefULL);
	STR_IS(got.broker_registration_req.host, "localhost");
	ck_assert_int_eq(got.broker_registration_req.port, 9092);
	ck_assert(got.broker_registration_req.clean_shutdown);
	golden(resp, registration_resp, sizeof registration_resp, &a, &got);
	ck_assert_int_eq(got.broker_registration_resp.error_code, 0);
	ck_assert(got.broker_registration_resp.broker_epoch == 12);
	ck_assert_int_eq(got.broker_registration_resp.heartbeat_interval_ms, 2000);
	ck_assert_int_eq(got.broker_registration_resp.session_timeout_ms, 18000);
	ck_assert_int_eq(got.broker_registration_resp.cluster_id.len, -1);
	proto_arena_free(&a);
}
END_TEST

/* clang-format off */
static const uint8_t alter_partition_resp[] = {
	0, 0,					/* error_code */
	0, 0, 0, 1,				/* 1 topic */
	0, 6, 'o', 'r', 'd', 'e', 'r', 's',	/* name */
	0, 0, 0, 2,				/* 2 partitions */
	0, 0, 0, 0,				/* partition_index 0 */
	0, 0,					/* error_code */
	0, 0, 0, 1,				/* leader_id 1 */
	0, 0, 0, 5,				/* leader_epoch 5 */
	0, 0, 0, 7,				/* partition_epoch 7 */
	0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2,	/* isr [1, 2] */
	0, 0, 0, 1,				/* partition_index 1 */
	0, 95,					/* INVALID_UPDATE_VERSION */
	0xff, 0xff, 0xff, 0xff,			/* leader_id -1 */
	0, 0, 0, 6,				/* leader_epoch 6 */
	0, 0, 0x01, 0x00,			/* partition_epoch 256 */
	0, 0, 0, 0,				/* isr [] */
};
/* clang-format on */

START_TEST(golden_alter_partition_resp)
{
	const kind_t *k = kind_of("alter_partition_resp");
	static const int32_t isr[] = {1, 2};
	const proto_alter_partition_partition_result_t parts[] = {
	    {0, 0, 1, 5, 7, isr, 2},
	    {1, TERN_ERR_INVALID_UPDATE_VERSION, -1, 6, 256, NULL, 0},
	};
	const proto_alter_partition_topic_result_t topic = {PROTO_STR("orders"), parts, 2};
	const proto_alter_partition_resp_t *r;
	anymsg_t m, got;
	proto_arena_t a;
	proto_buf_t b;

	memset(&m, 0, sizeof m);
	m.alter_partition_resp = (proto_alter_partition_resp_t){0, &topic, 1};
	proto_buf_init(&b);
	encode(k, &m, &b);
	bytes_are(&b, alter_partition_resp, sizeof alter_partition_resp);
	proto_buf_free(&b);

	proto_arena_init(&a, 0);
	golden(k, alter_partition_resp, sizeof alter_partition_resp, &a, &got);
	r = &got.alter_partition_resp;
	ck_assert_int_eq(r->error_code, 0);
	ck_assert_int_eq(r->topics_count, 1);
	STR_IS(r->topics[0].name, "orders");
	ck_assert_int_eq(r->topics[0].partitions_count, 2);
	ck_assert_int_eq(r->topics[0].partitions[0].partition_index, 0);
	ck_assert_int_eq(r->topics[0].partitions[0].leader_id, 1);
	ck_assert_int_eq(r->topics[0].partitions[0].leader_epoch, 5);
	ck_assert_int_eq(r->topics[0].partitions[0].partition_epoch, 7);
	ck_assert_int_eq(r->topics[0].partitions[0].isr_count, 2);
	ck_assert_int_eq(r->topics[0].partitions[0].isr[0], 1);
	ck_assert_int_eq(r->topics[0].partitions[0].isr[1], 2);
	ck_assert_int_eq(r->topics[0].partitions[1].error_code, TERN_ERR_INVALID_UPDATE_VERSION);
	ck_assert_int_eq(r->topics[0].partitions[1].leader_id, -1);
	ck_assert_int_eq(r->topics[0].partitions[1].partition_epoch, 256);
	ck_assert_int_eq(r->topics[0].partitions[1].isr_count, 0);
	proto_arena_free(&a);
}
END_TEST

/* clang-format off */
static const uint8_t heartbeat_req[] = {
	0, 0, 0, 2,				/* broker_id 2 */
	0, 0, 0, 0, 0, 0, 0, 12,		/* broker_epoch 12 */
	0,					/* want_shutdown */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* known_metadata_version -1 */
	0, 0, 0x01, 0xf4,			/* max_wait_ms 500 */
};
static const uint8_t heartbeat_resp_unchanged[] = {
	0, 0,					/* error_code */
	0,					/* is_fenced */
	0,					/* shutdown_done */
	0, 0, 0, 1,				/* controller_id 1 */
	0, 0, 0, 0, 0, 0, 0, 41,		/* metadata_version 41 */
	0xff, 0xff, 0xff, 0xff,			/* brokers null */
	0xff, 0xff, 0xff, 0xff,			/* topics null */
};
/* clang-format on */

START_TEST(golden_broker_heartbeat)
{
	const kind_t *req = kind_of("broker_heartbeat_req");
	const kind_t *resp = kind_of("broker_heartbeat_resp");
	uint8_t half[sizeof heartbeat_resp_unchanged + 4];
	anymsg_t got;
	proto_arena_t a;

	proto_arena_init(&a, 0);
	golden(req, heartbeat_req, sizeof heartbeat_req, &a, &got);
	ck_assert_int_eq(got.broker_heartbeat_req.broker_id, 2);
	ck_assert(got.broker_heartbeat_req.broker_epoch == 12);
	ck_assert(!got.broker_heartbeat_req.want_shutdown);
	ck_assert(got.broker_heartbeat_req.known_metadata_version == -1);
	ck_assert_int_eq(got.broker_heartbeat_req.max_wait_ms, 500);
	golden(resp, heartbeat_resp_unchanged, sizeof heartbeat_resp_unchanged, &a, &got);
	ck_assert_int_eq(got.broker_heartbeat_resp.controller_id, 1);
	ck_assert(got.broker_heartbeat_resp.metadata_version == 41);
	ck_assert_int_eq(got.broker_heartbeat_resp.brokers_count, -1);
	ck_assert_int_eq(got.broker_heartbeat_resp.topics_count, -1);

	/* Brokers null, topics empty; then brokers empty, topics null. */
	memcpy(half, heartbeat_resp_unchanged, sizeof heartbeat_resp_unchanged);
	memset(half + 20, 0, 4);
	ck_assert_int_eq(decode_bytes("broker_heartbeat_resp", half, 24, &a),
			 TERN_ERR_INVALID_REQUEST);
	memcpy(half, heartbeat_resp_unchanged, sizeof heartbeat_resp_unchanged);
	memset(half + 16, 0, 4);
	ck_assert_int_eq(decode_bytes("broker_heartbeat_resp", half, 24, &a),
			 TERN_ERR_INVALID_REQUEST);
	/* Both empty is a (small) image. */
	memset(half + 20, 0, 4);
	ck_assert_int_eq(decode_bytes("broker_heartbeat_resp", half, 24, &a), TERN_OK);
	proto_arena_free(&a);
}
END_TEST

/* clang-format off */
static const uint8_t allocate_resp[] = {
	0, 0,					/* error_code */
	0, 0, 0, 0, 0, 0, 0x03, 0xe8,		/* producer_id_start 1000 */
	0, 0, 0x03, 0xe8,			/* producer_id_len 1000 */
};
static const uint8_t replica_health_req[] = {
	0, 0, 0, 2,				/* broker_id 2 */
	0, 0, 0, 0, 0, 0, 0, 12,		/* broker_epoch 12 */
	0, 0, 0, 1,				/* 1 topic */
	0, 1, 't',
	0, 0, 0, 2,				/* 2 partitions */
	0, 0, 0, 0, 1,				/* 0 corrupt */
	0, 0, 0, 3, 0,				/* 3 healthy again */
};
/* clang-format on */

START_TEST(golden_allocate_and_replica_health)
{
	anymsg_t got;
	proto_arena_t a;

	proto_arena_init(&a, 0);
	golden(kind_of("allocate_producer_ids_resp"), allocate_resp, sizeof allocate_resp, &a,
	       &got);
	ck_assert(got.allocate_producer_ids_resp.producer_id_start == 1000);
	ck_assert_int_eq(got.allocate_producer_ids_resp.producer_id_len, 1000);
	golden(kind_of("replica_health_req"), replica_health_req, sizeof replica_health_req, &a,
	       &got);
	ck_assert_int_eq(got.replica_health_req.topics_count, 1);
	STR_IS(got.replica_health_req.topics[0].name, "t");
	ck_assert_int_eq(got.replica_health_req.topics[0].partitions_count, 2);
	ck_assert(got.replica_health_req.topics[0].partitions[0].corrupt);
	ck_assert_int_eq(got.replica_health_req.topics[0].partitions[1].partition_index, 3);
	ck_assert(!got.replica_health_req.topics[0].partitions[1].corrupt);
	proto_arena_free(&a);
}
END_TEST

/* clang-format off */
static const uint8_t describe_partitions_req[] = {
	0, 0, 0, 2,				/* 2 topics */
	0, 1, 'a',
	0, 0, 0, 2,  0, 0, 0, 0,  0, 0, 0, 3,	/* partitions 0 and 3 */
	0, 1, 'b',
	0xff, 0xff, 0xff, 0xff,			/* every partition */
};
static const uint8_t describe_partitions_resp[] = {
	0, 0,					/* error_code */
	0, 0, 0, 1,				/* 1 topic */
	0, 1, 'a',
	0, 0, 0, 2,				/* 2 partitions */
	0, 0, 0, 0,				/* partition 0 */
	0, 0,					/* error_code */
	0, 0, 0, 1,				/* leader 1 */
	0, 0, 0, 4,				/* leader_epoch 4 */
	0, 0, 0, 1,  0, 0, 0, 1,		/* isr [1] */
	0, 0, 0, 0, 0, 0, 0, 0,			/* log_start_offset 0 */
	0, 0, 0, 0, 0, 0, 0, 10,		/* high_watermark 10 */
	0, 0, 0, 0, 0, 0, 0, 12,		/* log_end_offset 12 */
	1,					/* mode floor */
	0, 0, 0, 2,				/* 2 replicas */
	0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 12,
	0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 2,  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0, 0, 0, 3,				/* partition 3 */
	0, 6,					/* NOT_LEADER_OR_FOLLOWER */
	0xff, 0xff, 0xff, 0xff,  0xff, 0xff, 0xff, 0xff,
	0, 0, 0, 0,				/* isr [] */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0,					/* mode offline */
	0, 0, 0, 0,				/* replicas [] */
};
static const uint8_t describe_cluster_resp[] = {
	0, 0,					/* error_code */
	0, 0, 0, 0,				/* controller 0 */
	0, 0, 0, 2,				/* 2 brokers */
	0, 0, 0, 1,  0, 2, 'h', '1',  0, 0, 0x25, 0xe4,  1, 0,
	0, 0, 0, 0, 0, 0, 0, 5,
	0, 0, 0, 2,  0, 2, 'h', '2',  0, 0, 0x25, 0xe5,  0, 1,
	0, 0, 0, 0, 0, 0, 0, 6,
	0, 0, 0, 1,				/* 1 offline partition */
	0, 1, 't',  0, 0, 0, 7,
};
/* clang-format on */

START_TEST(golden_describe_partitions_and_cluster)
{
	const proto_describe_partitions_partition_t *p;
	proto_describe_cluster_req_t creq;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	anymsg_t got;

	proto_arena_init(&a, 0);
	golden(kind_of("describe_partitions_req"), describe_partitions_req,
	       sizeof describe_partitions_req, &a, &got);
	ck_assert_int_eq(got.describe_partitions_req.topics_count, 2);
	ck_assert_int_eq(got.describe_partitions_req.topics[0].partitions_count, 2);
	ck_assert_int_eq(got.describe_partitions_req.topics[0].partitions[1], 3);
	STR_IS(got.describe_partitions_req.topics[1].name, "b");
	ck_assert_int_eq(got.describe_partitions_req.topics[1].partitions_count, -1);

	golden(kind_of("describe_partitions_resp"), describe_partitions_resp,
	       sizeof describe_partitions_resp, &a, &got);
	ck_assert_int_eq(got.describe_partitions_resp.topics[0].partitions_count, 2);
	p = &got.describe_partitions_resp.topics[0].partitions[0];
	ck_assert_int_eq(p->leader_id, 1);
	ck_assert(p->high_watermark == 10 && p->log_end_offset == 12);
	ck_assert_int_eq(p->mode, 1);
	ck_assert_int_eq(p->replicas_count, 2);
	ck_assert(p->replicas[0].log_end_offset == 12 && p->replicas[0].lag == 0);
	ck_assert(p->replicas[1].log_end_offset == -1 && p->replicas[1].caught_up_ms_ago == -1);
	p = &got.describe_partitions_resp.topics[0].partitions[1];
	ck_assert_int_eq(p->error_code, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(p->replicas_count, 0);

	golden(kind_of("describe_cluster_resp"), describe_cluster_resp,
	       sizeof describe_cluster_resp, &a, &got);
	ck_assert_int_eq(got.describe_cluster_resp.controller_id, 0);
	ck_assert_int_eq(got.describe_cluster_resp.brokers_count, 2);
	ck_assert(got.describe_cluster_resp.brokers[0].alive);
	ck_assert(!got.describe_cluster_resp.brokers[1].alive);
	ck_assert(got.describe_cluster_resp.brokers[1].shutting_down);
	ck_assert_int_eq(got.describe_cluster_resp.brokers[1].port, 9701);
	STR_IS(got.describe_cluster_resp.partitions_offline[0].topic, "t");
	ck_assert_int_eq(got.describe_cluster_resp.partitions_offline[0].partition, 7);

	/* The request is an empty body: nothing written, nothing read. */
	proto_buf_init(&b);
	proto_describe_cluster_req_encode(&b, 0, &creq);
	ck_assert(!b.oom);
	ck_assert_uint_eq(b.len, 0);
	proto_reader_init(&r, b.p, 0, &limits, &a);
	ck_assert_int_eq(proto_describe_cluster_req_decode(&r, 0, &creq), TERN_OK);
	proto_buf_free(&b);
	proto_arena_free(&a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hostile and odd input                                                      */

/* Booleans read as Kafka reads them: any non-zero byte is true; encoders
 * write 1. */
START_TEST(nonzero_booleans_are_true)
{
	uint8_t p[sizeof registration_req];
	proto_arena_t a;
	proto_buf_t b;
	anymsg_t m;
	size_t used;

	memcpy(p, registration_req, sizeof p);
	proto_arena_init(&a, 0);
	proto_buf_init(&b);
	for (int v = 1; v < 256; v++) {
		p[sizeof p - 1] = (uint8_t)v;
		CHECK(decode(kind_of("broker_registration_req"), p, sizeof p, &a, &m, &used) ==
		      TERN_OK);
		CHECK(m.broker_registration_req.clean_shutdown);
		encode(kind_of("broker_registration_req"), &m, &b);
		bytes_are(&b, registration_req, sizeof registration_req);
	}
	proto_buf_free(&b);
	proto_arena_free(&a);
}
END_TEST

/* An encoder given a heartbeat image with one array null and the other not
 * writes nothing and marks its buffer failed. */
START_TEST(half_null_image_is_not_encoded)
{
	proto_broker_heartbeat_resp_t m = {0};
	proto_buf_t b;

	m.brokers_count = -1;
	proto_buf_init(&b);
	proto_broker_heartbeat_resp_encode(&b, 0, &m);
	ck_assert(b.oom);
	ck_assert_uint_eq(b.len, 0);
	proto_buf_free(&b);
	m.brokers_count = 0;
	m.topics_count = -1;
	proto_buf_init(&b);
	proto_broker_heartbeat_resp_encode(&b, 0, &m);
	ck_assert(b.oom);
	proto_buf_free(&b);
}
END_TEST

/* Counts no frame could hold are refused before anything is allocated, and
 * an arena that refuses gives _NOMEM. */
START_TEST(hostile_counts_allocate_nothing)
{
	/* clang-format off */
	static const uint8_t huge_topics[] = {
		0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 1,	/* broker 1, epoch 1 */
		0x7f, 0xff, 0xff, 0xff,			/* 2^31-1 topics */
		0, 0, 0, 0,
	};
	static const uint8_t nested_isr[] = {
		0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 1,				/* 1 topic */
		0, 1, 't',
		0, 0, 0, 1,				/* 1 partition */
		0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
		0x10, 0, 0, 0,				/* 2^28 ISR members */
		0, 0, 0, 0,
	};
	/* clang-format on */
	proto_arena_t a;

	proto_arena_init(&a, 0);
	ck_assert_int_eq(decode_bytes("alter_partition_req", huge_topics, sizeof huge_topics, &a),
			 TERN_ERR_INVALID_REQUEST);
	ck_assert_uint_eq(a.used, 0);
	/* The topic and its partition were allocated, the members not. */
	ck_assert_int_eq(decode_bytes("alter_partition_req", nested_isr, sizeof nested_isr, &a),
			 TERN_ERR_INVALID_REQUEST);
	ck_assert_uint_le(a.used, 256);
	proto_arena_free(&a);

	proto_arena_init(&a, 16);
	ck_assert_int_eq(decode_bytes("alter_partition_resp", alter_partition_resp,
				      sizeof alter_partition_resp, &a),
			 TERN_ERR__NOMEM);
	proto_arena_free(&a);
}
END_TEST

/* Mutates p[0..*len) in place (cap bytes of room) with 1-4 random edits:
 * truncations, bit flips, boundary values and near-limit counts written
 * over counts and lengths, random bytes, appended bytes (test_msg_admin.c's
 * mutator). */
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
				put32(p + at, x);
			break;
		case 4:
			if (*len)
				p[at] = (uint8_t)tt_rand(s);
			break;
		case 5:
			/* A count near what the bytes after it could hold. */
			x = (uint32_t)((*len - at) / (1 + tt_rand(s) % 8));
			if (at + 4 <= *len)
				put32(p + at, x);
			break;
		default:
			for (int n = (int)(tt_rand(s) % 8); n > 0 && *len < cap; n--)
				p[(*len)++] = (uint8_t)tt_rand(s);
			break;
		}
	}
}

/* Truncated and mutated bodies of every message: the decoder never reads
 * out of bounds (ASan), never crashes, returns OK or INVALID_REQUEST, and
 * whatever it accepts it reads exactly: encoding the result gives back the
 * bytes it consumed, except that a boolean byte other than 0 or 1 comes
 * back as 1, within the arena bound. TERN_SEED replays a run. */
START_TEST(random_truncation_and_mutation)
{
	uint64_t s = tt_seed();
	long rounds = tt_scale(1000);

	for (int i = 0; i < NKINDS; i++) {
		const kind_t *k = &kinds[i];
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
				k->fill(&g, &m);
				encode(k, &m, &b);
			}
			cap = b.len + 64;
			work = malloc(cap);
			ck_assert_ptr_nonnull(work);
			if (b.len)
				memcpy(work, b.p, b.len);
			len = b.len;
			mutate(&s, work, &len, cap);
			exact = malloc(len ? len : 1);
			ck_assert_ptr_nonnull(exact);
			memcpy(exact, work, len);
			proto_arena_init(&a, 0);
			err = decode(k, exact, len, &a, &out, &used);
			CHECK(err == TERN_OK || err == TERN_ERR_INVALID_REQUEST);
			/* At most the bound for what was read, plus one array per
			 * level of nesting (four at most here) bounded by the bytes
			 * left when it was counted. */
			CHECK(a.used <= 5 * (size_t)PROTO_ARENA_FACTOR * len);
			if (err == TERN_OK) {
				CHECK(a.used <= (size_t)PROTO_ARENA_FACTOR * used);
				encode(k, &out, &again);
				CHECK(again.len == used);
				for (size_t j = 0; j < used; j++)
					CHECK(again.p[j] == exact[j] ||
					      (again.p[j] == 1 && exact[j] > 1));
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
END_TEST

static Suite *msg_cluster_suite(void)
{
	Suite *s = suite_create("msg_cluster");
	TCase *tc;

	tc = tcase_create("round_trip");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, keys_are_version_0_never_flexible);
	tcase_add_test(tc, headers_are_non_flexible);
	tcase_add_test(tc, round_trip_random_messages);
	tcase_add_test(tc, round_trip_written_out);
	tcase_add_test(tc, minimal_element_sizes);
	tcase_add_test(tc, negative_counts_are_refused);
	tcase_add_test(tc, every_truncation_fails);
	tcase_add_test(tc, other_versions_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, golden_broker_registration);
	tcase_add_test(tc, golden_alter_partition_resp);
	tcase_add_test(tc, golden_broker_heartbeat);
	tcase_add_test(tc, golden_allocate_and_replica_health);
	tcase_add_test(tc, golden_describe_partitions_and_cluster);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 50);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, nonzero_booleans_are_true);
	tcase_add_test(tc, half_null_image_is_not_encoded);
	tcase_add_test(tc, hostile_counts_allocate_nothing);
	tcase_add_test(tc, random_truncation_and_mutation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(msg_cluster_suite());
}
