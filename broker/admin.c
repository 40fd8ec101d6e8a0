/* broker/admin.c: the topic APIs: CreateTopics, DeleteTopics,
 * DescribeConfigs, AlterConfigs (replaces every override) and
 * IncrementalAlterConfigs (SET and DELETE of single keys). Changes take the
 * topics lock for writing and reach the open logs and state machines at
 * once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

/* Most partitions one CreateTopics may ask for on this broker: each is a
 * directory and open files, and a hostile count must not exhaust them. */
#define BK_MAX_PARTITIONS 10000

/* A NUL-terminated copy of s in the request's arena (NULL on failure or
 * for a null string). */
static char *arena_str(bk_req_t *q, proto_str_t s)
{
	char *c;

	if (s.len < 0)
		return NULL;
	c = proto_arena_alloc(q->arena, (size_t)s.len + 1, 1);
	if (c)
		memcpy(c, s.s, (size_t)s.len);
	return c;
}

/* A message for the response, kept in the arena (null when msg is NULL). */
static proto_str_t arena_msg(bk_req_t *q, const char *msg)
{
	char *c;

	if (!msg || !*msg)
		return PROTO_NULL_STR;
	c = proto_arena_alloc(q->arena, strlen(msg) + 1, 1);
	if (!c)
		return PROTO_NULL_STR;
	memcpy(c, msg, strlen(msg));
	return proto_str(c);
}

/* Config pairs from the wire as tern_conf_kv_t (strings in the arena).
 * Returns INVALID_CONFIG for a null value or a value with a line break,
 * INVALID_REQUEST for a key given twice, with why filled. */
static tern_err_t wire_configs(bk_req_t *q, const proto_config_kv_t *in, int32_t n,
			       tern_conf_kv_t **out, char *why, size_t whylen)
{
	tern_conf_kv_t *kv = proto_arena_alloc(q->arena, n > 0 ? (size_t)n : 1, sizeof *kv);

	if (!kv)
		return TERN_ERR__NOMEM;
	for (int32_t i = 0; i < n; i++) {
		kv[i].key = arena_str(q, in[i].name);
		kv[i].value = arena_str(q, in[i].value);
		if (!kv[i].key) {
			snprintf(why, whylen, "a config without a name");
			return TERN_ERR_INVALID_CONFIG;
		}
		if (!kv[i].value) {
			snprintf(why, whylen, "%s: a null value is not allowed for topic configs",
				 kv[i].key);
			return TERN_ERR_INVALID_CONFIG;
		}
		if (strpbrk(kv[i].value, "\r\n")) {
			snprintf(why, whylen, "%s: the value holds a line break", kv[i].key);
			return TERN_ERR_INVALID_CONFIG;
		}
		for (int32_t j = 0; j < i; j++) {
			if (strcmp(kv[j].key, kv[i].key) == 0) {
				snprintf(why, whylen, "%s is given more than once", kv[i].key);
				return TERN_ERR_INVALID_REQUEST;
			}
		}
	}
	*out = kv;
	return TERN_OK;
}

/* malloc()ed copies of n pairs (a topic's overrides own theirs). */
static tern_err_t kv_dup(const tern_conf_kv_t *in, size_t n, tern_conf_kv_t **out)
{
	tern_conf_kv_t *kv = calloc(n ? n : 1, sizeof *kv);

	if (!kv)
		return TERN_ERR__NOMEM;
	for (size_t i = 0; i < n; i++) {
		kv[i].key = strdup(in[i].key);
		kv[i].value = strdup(in[i].value);
		if (!kv[i].key || !kv[i].value) {
			bk_overrides_free(kv, n);
			return TERN_ERR__NOMEM;
		}
	}
	*out = kv;
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* CreateTopics                                                               */

/* Checks one topic of a CreateTopics request and, unless validate_only,
 * creates it. topics_lock held for writing. */
static tern_err_t create_one(bk_req_t *q, const proto_create_topics_req_t *req, int32_t idx,
			     char *why, size_t whylen)
{
	broker_t *b = q->b;
	const proto_create_topics_topic_t *ct = &req->topics[idx];
	int32_t self = b->cfg->broker_id, npart;
	int32_t rf;
	broker_topic_config_t tc;
	tern_conf_kv_t *kv;
	char *name;
	tern_err_t err;

	if (ct->name.len < 0 ||
	    !broker_topic_name_valid(ct->name.s, (size_t)ct->name.len, why, whylen)) {
		if (ct->name.len < 0)
			snprintf(why, whylen, "the topic name is null");
		return TERN_ERR_INVALID_TOPIC_EXCEPTION;
	}
	for (int32_t j = 0; j < req->topics_count; j++) {
		const proto_str_t *o = &req->topics[j].name;

		if (j != idx && o->len == ct->name.len &&
		    memcmp(o->s, ct->name.s, (size_t)o->len) == 0) {
			snprintf(why, whylen, "the topic is named more than once in the request");
			return TERN_ERR_INVALID_REQUEST;
		}
	}
	name = arena_str(q, ct->name);
	if (!name)
		return TERN_ERR__NOMEM;
	if (bk_topic_find(b, name, strlen(name))) {
		snprintf(why, whylen, "Topic '%s' already exists.", name);
		return TERN_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (strcmp(name, BK_OFFSETS_TOPIC) == 0) {
		snprintf(why, whylen, "%s is internal: the broker creates it", name);
		return TERN_ERR_INVALID_REQUEST;
	}
	if (ct->assignments_count > 0) {
		if (ct->num_partitions != -1 || ct->replication_factor != -1) {
			snprintf(why, whylen,
				 "give either the partition count and replication factor or the "
				 "replica assignments, not both");
			return TERN_ERR_INVALID_REQUEST;
		}
		npart = ct->assignments_count;
		rf = ct->assignments[0].broker_ids_count;
		for (int32_t i = 0; i < npart; i++) {
			const proto_create_topics_assignment_t *a = &ct->assignments[i];
			bool seen = false;

			for (int32_t j = 0; j < i; j++)
				seen |= ct->assignments[j].partition_index == a->partition_index;
			if (a->partition_index < 0 || a->partition_index >= npart || seen) {
				snprintf(why, whylen,
					 "partitions of the assignment must be 0..%d, each once",
					 npart - 1);
				return TERN_ERR_INVALID_REPLICA_ASSIGNMENT;
			}
			if (a->broker_ids_count != 1 || a->broker_ids[0] != self) {
				snprintf(why, whylen,
					 "partition %d: the only broker is %d, with one replica",
					 a->partition_index, self);
				return TERN_ERR_INVALID_REPLICA_ASSIGNMENT;
			}
		}
	} else {
		npart = ct->num_partitions == -1 ? b->cfg->num_partitions : ct->num_partitions;
		rf = ct->replication_factor == -1 ? b->cfg->default_replication_factor
						  : ct->replication_factor;
	}
	if (npart < 1 || npart > BK_MAX_PARTITIONS) {
		snprintf(why, whylen, "%d partitions: give 1 to %d", npart, BK_MAX_PARTITIONS);
		return TERN_ERR_INVALID_PARTITIONS;
	}
	if (rf < 1) {
		snprintf(why, whylen, "replication factor %d: it must be at least 1", rf);
		return TERN_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (rf > 1) {
		snprintf(why, whylen, "Replication factor: %d larger than available brokers: 1.",
			 rf);
		return TERN_ERR_INVALID_REPLICATION_FACTOR;
	}
	err = wire_configs(q, ct->configs, ct->configs_count, &kv, why, whylen);
	if (!err)
		err = broker_topic_resolve(b->cfg, kv, (size_t)ct->configs_count, &tc, why, whylen);
	if (err || req->validate_only)
		return err;
	return bk_topic_create(b, name, npart, (int16_t)rf, kv, (size_t)ct->configs_count, false,
			       why, whylen);
}

void bk_handle_create_topics(bk_req_t *q)
{
	proto_create_topics_req_t req;
	proto_create_topics_resp_t m = {0};
	proto_create_topics_result_t *res;
	proto_buf_t out;

	if (proto_create_topics_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
				sizeof *res);
	if (!res) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_wrlock(&q->b->topics_lock);
	for (int32_t i = 0; i < req.topics_count; i++) {
		char why[512] = "";
		tern_err_t err = create_one(q, &req, i, why, sizeof why);

		res[i].name = req.topics[i].name;
		if (err < 0 && err != TERN_ERR_UNKNOWN_SERVER_ERROR) {
			bk_log('E', "topic", "creating a topic: %s (%s)", tern_strerror(err), why);
			err = TERN_ERR_UNKNOWN_SERVER_ERROR;
		}
		res[i].error_code = (int16_t)err;
		res[i].error_message =
		    err ? arena_msg(q, why[0] ? why : tern_strerror(err)) : PROTO_NULL_STR;
	}
	pthread_rwlock_unlock(&q->b->topics_lock);
	m.topics = res;
	m.topics_count = req.topics_count;
	bk_resp_begin(q, &out);
	proto_create_topics_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* DeleteTopics                                                               */

void bk_handle_delete_topics(bk_req_t *q)
{
	broker_t *b = q->b;
	proto_delete_topics_req_t req;
	proto_delete_topics_resp_t m = {0};
	proto_delete_topics_result_t *res;
	proto_buf_t out;

	if (proto_delete_topics_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(
	    q->arena, req.topic_names_count > 0 ? (size_t)req.topic_names_count : 1, sizeof *res);
	if (!res) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_wrlock(&b->topics_lock);
	for (int32_t i = 0; i < req.topic_names_count; i++) {
		proto_str_t s = req.topic_names[i];
		bk_topic_t *t = s.len < 0 ? NULL : bk_topic_find(b, s.s, (size_t)s.len);
		tern_err_t err;

		res[i].name = s;
		if (!t)
			err = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		else if (t->internal)
			err = TERN_ERR_INVALID_REQUEST;
		else
			err = bk_topic_delete(b, t);
		if (err < 0 && err != TERN_ERR_UNKNOWN_SERVER_ERROR) {
			bk_log('E', "topic", "deleting a topic: %s", tern_strerror(err));
			err = TERN_ERR_UNKNOWN_SERVER_ERROR;
		}
		res[i].error_code = (int16_t)err;
	}
	pthread_rwlock_unlock(&b->topics_lock);
	m.responses = res;
	m.responses_count = req.topic_names_count;
	bk_resp_begin(q, &out);
	proto_delete_topics_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* DescribeConfigs                                                            */

static bool key_wanted(const proto_describe_configs_resource_t *r, const char *key)
{
	if (r->configuration_keys_count < 0)
		return true;
	for (int32_t i = 0; i < r->configuration_keys_count; i++)
		if (proto_str_eq(r->configuration_keys[i], key))
			return true;
	return false;
}

static bool overridden(const bk_topic_t *t, const char *key)
{
	for (size_t i = 0; i < t->noverrides; i++)
		if (strcmp(t->overrides[i].key, key) == 0)
			return true;
	return false;
}

/* The source of a topic key that the topic does not override: the broker's
 * setting when it differs from the table's default. */
static int8_t inherited_source(const broker_t *b, const tern_conf_entry_t *e)
{
	const tern_conf_entry_t *be = tern_conf_find(&broker_config_table, e->inherit);
	char *v = NULL;
	int8_t src = PROTO_CONFIG_SOURCE_DEFAULT;

	if (be && tern_conf_format(be, b->cfg, &v) == TERN_OK && strcmp(v, be->def) != 0)
		src = PROTO_CONFIG_SOURCE_STATIC_BROKER;
	free(v);
	return src;
}

/* Fills res with the entries of one resource. topics_lock held. */
static void describe_resource(bk_req_t *q, const proto_describe_configs_resource_t *r,
			      proto_describe_configs_result_t *res)
{
	broker_t *b = q->b;
	const tern_conf_table_t *tab;
	const void *obj;
	bk_topic_t *t = NULL;
	proto_describe_configs_entry_t *ent;
	int32_t n = 0;
	char idbuf[16];

	res->resource_type = r->resource_type;
	res->resource_name = r->resource_name;
	res->error_message = PROTO_NULL_STR;
	if (r->resource_type == PROTO_RESOURCE_TOPIC) {
		t = r->resource_name.len < 0
			? NULL
			: bk_topic_find(b, r->resource_name.s, (size_t)r->resource_name.len);
		if (!t) {
			res->error_code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			return;
		}
		tab = &broker_topic_table;
		obj = &t->cfg;
	} else if (r->resource_type == PROTO_RESOURCE_BROKER) {
		snprintf(idbuf, sizeof idbuf, "%d", b->cfg->broker_id);
		if (r->resource_name.len > 0 && !proto_str_eq(r->resource_name, idbuf)) {
			res->error_code = TERN_ERR_INVALID_REQUEST;
			res->error_message = arena_msg(q, "no such broker");
			return;
		}
		tab = &broker_config_table;
		obj = b->cfg;
	} else {
		res->error_code = TERN_ERR_INVALID_REQUEST;
		res->error_message = arena_msg(q, "only topic and broker resources have configs");
		return;
	}
	ent = proto_arena_alloc(q->arena, tab->n, sizeof *ent);
	if (!ent) {
		res->error_code = TERN_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (size_t i = 0; i < tab->n; i++) {
		const tern_conf_entry_t *e = &tab->entries[i];
		proto_describe_configs_entry_t *d = &ent[n];
		char *v = NULL;

		if (!key_wanted(r, e->name) || tern_conf_format(e, obj, &v) != TERN_OK)
			continue;
		d->name = proto_str(e->name);
		d->value = arena_msg(q, v);
		if (d->value.len < 0)
			d->value = PROTO_STR("");
		free(v);
		if (t) {
			bool own = overridden(t, e->name);

			d->read_only = false;
			d->is_default = !own;
			d->config_source = own ? PROTO_CONFIG_SOURCE_TOPIC : inherited_source(b, e);
		} else {
			d->read_only = true;
			d->is_default = false;
			d->config_source = PROTO_CONFIG_SOURCE_STATIC_BROKER;
		}
		if (q->hdr.api_version == 0)
			d->config_source = -1;
		n++;
	}
	res->configs = ent;
	res->configs_count = n;
}

void bk_handle_describe_configs(bk_req_t *q)
{
	proto_describe_configs_req_t req;
	proto_describe_configs_resp_t m = {0};
	proto_describe_configs_result_t *res;
	proto_buf_t out;

	if (proto_describe_configs_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.resources_count > 0 ? (size_t)req.resources_count : 1,
				sizeof *res);
	if (!res) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_rdlock(&q->b->topics_lock);
	for (int32_t i = 0; i < req.resources_count; i++)
		describe_resource(q, &req.resources[i], &res[i]);
	m.results = res;
	m.results_count = req.resources_count;
	bk_resp_begin(q, &out);
	proto_describe_configs_resp_encode(&out, q->hdr.api_version, &m);
	pthread_rwlock_unlock(&q->b->topics_lock);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* AlterConfigs and IncrementalAlterConfigs                                   */

/* The topic an alter names, or an error for the result. */
static tern_err_t alter_target(bk_req_t *q, int8_t type, proto_str_t name, bk_topic_t **out,
			       char *why, size_t whylen)
{
	bk_topic_t *t;

	if (type == PROTO_RESOURCE_BROKER) {
		snprintf(
		    why, whylen,
		    "broker settings change only with a restart (ternd --config or --key=value)");
		return TERN_ERR_INVALID_REQUEST;
	}
	if (type != PROTO_RESOURCE_TOPIC) {
		snprintf(why, whylen, "only topic configs can be altered");
		return TERN_ERR_INVALID_REQUEST;
	}
	t = name.len < 0 ? NULL : bk_topic_find(q->b, name.s, (size_t)name.len);
	if (!t)
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	*out = t;
	return TERN_OK;
}

/* Checks the new overrides of t and, unless validate_only, applies them. */
static tern_err_t alter_apply(bk_req_t *q, bk_topic_t *t, const tern_conf_kv_t *kv, size_t n,
			      bool validate_only, char *why, size_t whylen)
{
	broker_topic_config_t tc;
	tern_conf_kv_t *own;
	tern_err_t err;

	err = broker_topic_resolve(q->b->cfg, kv, n, &tc, why, whylen);
	if (err || validate_only)
		return err;
	err = kv_dup(kv, n, &own);
	if (err)
		return err;
	err = bk_topic_set_overrides(q->b, t, own, n, why, whylen);
	if (err)
		bk_overrides_free(own, n);
	return err;
}

static void alter_result(bk_req_t *q, proto_alter_configs_result_t *res, int8_t type,
			 proto_str_t name, tern_err_t err, const char *why)
{
	if (err < 0 && err != TERN_ERR_UNKNOWN_SERVER_ERROR) {
		bk_log('E', "config", "altering configs: %s (%s)", tern_strerror(err), why);
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	}
	res->resource_type = type;
	res->resource_name = name;
	res->error_code = (int16_t)err;
	res->error_message = err ? arena_msg(q, why[0] ? why : tern_strerror(err)) : PROTO_NULL_STR;
}

static void alter_reply(bk_req_t *q, proto_alter_configs_result_t *res, int32_t n)
{
	proto_alter_configs_resp_t m = {.responses = res, .responses_count = n};
	proto_buf_t out;

	bk_resp_begin(q, &out);
	if (q->hdr.api_key == PROTO_API_ALTER_CONFIGS)
		proto_alter_configs_resp_encode(&out, q->hdr.api_version, &m);
	else
		proto_incremental_alter_configs_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}

void bk_handle_alter_configs(bk_req_t *q)
{
	proto_alter_configs_req_t req;
	proto_alter_configs_result_t *res;

	if (proto_alter_configs_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.resources_count > 0 ? (size_t)req.resources_count : 1,
				sizeof *res);
	if (!res) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_wrlock(&q->b->topics_lock);
	for (int32_t i = 0; i < req.resources_count; i++) {
		const proto_alter_configs_resource_t *r = &req.resources[i];
		char why[512] = "";
		tern_conf_kv_t *kv = NULL;
		bk_topic_t *t = NULL;
		tern_err_t err;

		err = alter_target(q, r->resource_type, r->resource_name, &t, why, sizeof why);
		if (!err)
			err = wire_configs(q, r->configs, r->configs_count, &kv, why, sizeof why);
		if (!err)
			err = alter_apply(q, t, kv, (size_t)r->configs_count, req.validate_only,
					  why, sizeof why);
		alter_result(q, &res[i], r->resource_type, r->resource_name, err, why);
	}
	pthread_rwlock_unlock(&q->b->topics_lock);
	alter_reply(q, res, req.resources_count);
}

/* The overrides of t after the operations of r, in the arena. */
static tern_err_t incremental_overrides(bk_req_t *q, const bk_topic_t *t,
					const proto_incremental_alter_configs_resource_t *r,
					tern_conf_kv_t **out, size_t *nout, char *why,
					size_t whylen)
{
	size_t cap = t->noverrides + (size_t)r->configs_count, n = t->noverrides;
	tern_conf_kv_t *kv = proto_arena_alloc(q->arena, cap ? cap : 1, sizeof *kv);

	if (!kv)
		return TERN_ERR__NOMEM;
	memcpy(kv, t->overrides, n * sizeof *kv);
	for (int32_t i = 0; i < r->configs_count; i++) {
		const proto_incremental_alter_config_t *c = &r->configs[i];
		char *key = arena_str(q, c->name), *value = arena_str(q, c->value);
		size_t j;

		if (!key || !tern_conf_find(&broker_topic_table, key)) {
			snprintf(why, whylen, "unknown topic config '%s'", key ? key : "(null)");
			return TERN_ERR_INVALID_CONFIG;
		}
		for (j = 0; j < n && strcmp(kv[j].key, key) != 0; j++)
			;
		switch (c->config_operation) {
		case PROTO_CONFIG_OP_SET:
			if (!value || strpbrk(value, "\r\n")) {
				snprintf(why, whylen, "%s: SET needs a value on one line", key);
				return TERN_ERR_INVALID_CONFIG;
			}
			if (j == n)
				kv[n++].key = key;
			kv[j].value = value;
			break;
		case PROTO_CONFIG_OP_DELETE:
			if (j < n) {
				memmove(&kv[j], &kv[j + 1], (n - j - 1) * sizeof *kv);
				n--;
			}
			break;
		case PROTO_CONFIG_OP_APPEND:
		case PROTO_CONFIG_OP_SUBTRACT:
			snprintf(why, whylen, "%s is not a list: only SET and DELETE apply", key);
			return TERN_ERR_INVALID_CONFIG;
		default:
			snprintf(why, whylen, "unknown config operation %d", c->config_operation);
			return TERN_ERR_INVALID_REQUEST;
		}
	}
	*out = kv;
	*nout = n;
	return TERN_OK;
}

void bk_handle_incremental_alter_configs(bk_req_t *q)
{
	proto_incremental_alter_configs_req_t req;
	proto_alter_configs_result_t *res;

	if (proto_incremental_alter_configs_req_decode(&q->rd, q->hdr.api_version, &req) !=
	    TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.resources_count > 0 ? (size_t)req.resources_count : 1,
				sizeof *res);
	if (!res) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	pthread_rwlock_wrlock(&q->b->topics_lock);
	for (int32_t i = 0; i < req.resources_count; i++) {
		const proto_incremental_alter_configs_resource_t *r = &req.resources[i];
		char why[512] = "";
		tern_conf_kv_t *kv = NULL;
		bk_topic_t *t = NULL;
		size_t n = 0;
		tern_err_t err;

		err = alter_target(q, r->resource_type, r->resource_name, &t, why, sizeof why);
		if (!err)
			err = incremental_overrides(q, t, r, &kv, &n, why, sizeof why);
		if (!err)
			err = alter_apply(q, t, kv, n, req.validate_only, why, sizeof why);
		alter_result(q, &res[i], r->resource_type, r->resource_name, err, why);
	}
	pthread_rwlock_unlock(&q->b->topics_lock);
	alter_reply(q, res, req.resources_count);
}
