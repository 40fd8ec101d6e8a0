/* broker/admin.c: the topic APIs. CreateTopics, DeleteTopics, AlterConfigs,
 * IncrementalAlterConfigs and ElectLeaders go to the controller (its
 * controller/admin.c answers them) and come back through the cluster
 * image; DescribeConfigs is answered here from the image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

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

/* ------------------------------------------------------------------------ */
/* The APIs that change topics: answered by the controller                   */

/* Hands the request, as it came, to the controller and its answer back to
 * the client once this broker's image shows the change. A controller that
 * cannot be reached gets the INT16 error alone (docs/broker.md). */
static void forward(bk_req_t *q)
{
	const uint8_t *data;
	uint8_t *resp = NULL;
	size_t len, rlen = 0;
	tern_err_t err;

	data = proto_srv_msg_data(q->msg, &len);
	err = bk_cluster_forward(q->b, data, len, &resp, &rlen);
	if (err) {
		bk_log('W', "ctl", "%s not forwarded to the controller: %s",
		       proto_api_name(q->hdr.api_key), tern_strerror(err));
		bk_reply_error(q, TERN_ERR_NOT_CONTROLLER);
		return;
	}
	err = proto_server_reply(q->srv, q->msg, resp, rlen);
	if (err)
		bk_log('W', "resp", "%s: reply not sent: %s", proto_api_name(q->hdr.api_key),
		       tern_strerror(err));
	free(resp);
}

/* CreateTopics: the internal topic is the brokers' to create. */
void bk_handle_create_topics(bk_req_t *q)
{
	proto_create_topics_req_t req;
	proto_create_topics_resp_t m = {0};
	proto_create_topics_result_t *res;
	proto_reader_t rd = q->rd;
	proto_buf_t out;
	bool internal = false;

	if (proto_create_topics_req_decode(&rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topics_count; i++)
		internal |= proto_str_eq(req.topics[i].name, BK_OFFSETS_TOPIC);
	if (!internal) {
		forward(q);
		return;
	}
	res = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
				sizeof *res);
	if (!res) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topics_count; i++) {
		res[i].name = req.topics[i].name;
		res[i].error_code = TERN_ERR_INVALID_REQUEST;
		res[i].error_message =
		    arena_msg(q, "the request names " BK_OFFSETS_TOPIC
				 ", which is internal: the broker creates it; nothing was created");
	}
	m.topics = res;
	m.topics_count = req.topics_count;
	bk_resp_begin(q, &out);
	proto_create_topics_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}

void bk_handle_delete_topics(bk_req_t *q)
{
	forward(q);
}

void bk_handle_alter_configs(bk_req_t *q)
{
	forward(q);
}

void bk_handle_incremental_alter_configs(bk_req_t *q)
{
	forward(q);
}

void bk_handle_elect_leaders(bk_req_t *q)
{
	forward(q);
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
