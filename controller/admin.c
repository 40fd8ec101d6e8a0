/* controller/admin.c: the admin APIs brokers forward to the controller
 * (CreateTopics, DeleteTopics, AlterConfigs, IncrementalAlterConfigs,
 * ElectLeaders), with the checks and errors of broker/admin.c's
 * single-broker handlers, carried out by the controller's calls.
 *
 * Every handler here runs on the thread that called ctl_handle(), with
 * c->mu not held: each ctl_* call takes it, and the handlers take it only
 * briefly to read a topic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller_int.h"

/* Most partitions one CreateTopics may ask for: each is a directory and
 * open files on every replica, and a hostile count must not exhaust them
 * (broker/admin.c's BK_MAX_PARTITIONS). */
#define CTL_MAX_PARTITIONS 10000

/* The one internal topic. Brokers create it through CreateTopics (and
 * refuse a client's request for it before forwarding), so here it is
 * accepted and marked internal. The same name as broker/broker_int.h's
 * BK_OFFSETS_TOPIC, which is private to broker/. */
#define CTL_OFFSETS_TOPIC "__consumer_offsets"

/* A NUL-terminated copy of len bytes of s in the request's arena (NULL
 * when the arena refuses). */
static char *arena_copy(ctl_req_t *q, const char *s, size_t len)
{
	char *c = proto_arena_alloc(q->arena, len + 1, 1);

	if (c && len)
		memcpy(c, s, len);
	return c;
}

/* A NUL-terminated copy of s in the arena (NULL on failure or for a null
 * string). */
static char *arena_str(ctl_req_t *q, proto_str_t s)
{
	if (s.len < 0)
		return NULL;
	return arena_copy(q, s.s, (size_t)s.len);
}

/* A message for the response, kept in the arena (null when msg is NULL or
 * empty, or when the arena refuses). */
static proto_str_t arena_msg(ctl_req_t *q, const char *msg)
{
	char *c;

	if (!msg || !*msg)
		return PROTO_NULL_STR;
	c = arena_copy(q, msg, strlen(msg));
	return c ? proto_str(c) : PROTO_NULL_STR;
}

/* Kafka's error codes pass through; internal errors (negative) become
 * UNKNOWN_SERVER_ERROR, logged with what: the broker and its client learn
 * only that the controller failed. */
static tern_err_t wire_error(tern_err_t err, const char *what, const char *why)
{
	if (err < 0 && err != TERN_ERR_UNKNOWN_SERVER_ERROR) {
		fprintf(stderr, "controller: %s: %s%s%s%s\n", what, tern_strerror(err),
			why && *why ? " (" : "", why && *why ? why : "", why && *why ? ")" : "");
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	}
	return err;
}

/* Whether the topic exists now; internal (may be NULL) gets its flag.
 * Takes c->mu. */
static bool topic_exists(ctl_t *c, const char *name, bool *internal)
{
	ctl_topic_t *t;
	bool found;

	pthread_mutex_lock(&c->mu);
	t = ctl__topic(c, name);
	found = t != NULL;
	if (internal)
		*internal = t && t->internal;
	pthread_mutex_unlock(&c->mu);
	return found;
}

/* Config pairs from the wire as tern_conf_kv_t (strings in the arena).
 * Returns INVALID_CONFIG for a null value or a value with a line break,
 * INVALID_REQUEST for a key given twice, with why filled. */
static tern_err_t wire_configs(ctl_req_t *q, const proto_config_kv_t *in, int32_t n,
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

/* ------------------------------------------------------------------------ */
/* CreateTopics                                                               */

/* Checks one topic of a CreateTopics request and, unless validate_only,
 * creates it. ctl_create_topic checks again under c->mu what may change
 * meanwhile (the name is free, enough live brokers). */
static tern_err_t create_one(ctl_req_t *q, const proto_create_topics_req_t *req, int32_t idx,
			     char *why, size_t whylen)
{
	ctl_t *c = q->c;
	const proto_create_topics_topic_t *ct = &req->topics[idx];
	int32_t npart, rf;
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
	if (topic_exists(c, name, NULL)) {
		snprintf(why, whylen, "Topic '%s' already exists.", name);
		return TERN_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (ct->assignments_count > 0) {
		if (ct->num_partitions != -1 || ct->replication_factor != -1) {
			snprintf(why, whylen,
				 "give either the partition count and replication factor or the "
				 "replica assignments, not both");
			return TERN_ERR_INVALID_REQUEST;
		}
		snprintf(why, whylen,
			 "explicit replica assignments are not supported yet; give --partitions "
			 "and --replication-factor");
		return TERN_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	npart = ct->num_partitions == -1 ? c->cfg.broker->num_partitions : ct->num_partitions;
	rf = ct->replication_factor == -1 ? c->cfg.broker->default_replication_factor
					  : ct->replication_factor;
	if (npart < 1 || npart > CTL_MAX_PARTITIONS) {
		snprintf(why, whylen, "%d partitions: give 1 to %d", npart, CTL_MAX_PARTITIONS);
		return TERN_ERR_INVALID_PARTITIONS;
	}
	if (rf < 1) {
		snprintf(why, whylen, "replication factor %d: it must be at least 1", rf);
		return TERN_ERR_INVALID_REPLICATION_FACTOR;
	}
	/* The upper bound of rf (the live brokers) and the configs' values
	 * are ctl_create_topic's checks. */
	err = wire_configs(q, ct->configs, ct->configs_count, &kv, why, whylen);
	if (err)
		return err;
	return ctl_create_topic(c, name, npart, rf, kv, (size_t)ct->configs_count,
				strcmp(name, CTL_OFFSETS_TOPIC) == 0, req->validate_only, why,
				whylen);
}

void ctl__create_topics(ctl_req_t *q)
{
	proto_create_topics_req_t req;
	proto_create_topics_resp_t m = {0};
	proto_create_topics_result_t *res;

	if (proto_create_topics_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.topics_count > 0 ? (size_t)req.topics_count : 1,
				sizeof *res);
	if (!res) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topics_count; i++) {
		char why[512] = "";
		tern_err_t err = create_one(q, &req, i, why, sizeof why);

		err = wire_error(err, "[topic] creating a topic", why);
		res[i].name = req.topics[i].name;
		res[i].error_code = (int16_t)err;
		res[i].error_message =
		    err ? arena_msg(q, why[0] ? why : tern_strerror(err)) : PROTO_NULL_STR;
	}
	m.topics = res;
	m.topics_count = req.topics_count;
	proto_create_topics_resp_encode(q->out, q->hdr.api_version, &m);
}

/* ------------------------------------------------------------------------ */
/* DeleteTopics                                                               */

static tern_err_t delete_one(ctl_req_t *q, proto_str_t s)
{
	char *name;
	bool internal;

	if (s.len < 0)
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	name = arena_str(q, s);
	if (!name)
		return TERN_ERR__NOMEM;
	/* The check and the deletion take c->mu apart; only the broker-made
	 * __consumer_offsets is internal, and it is never deleted, so a
	 * topic cannot turn internal in between. */
	if (!topic_exists(q->c, name, &internal))
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (internal)
		return TERN_ERR_INVALID_REQUEST;
	return ctl_delete_topic(q->c, name);
}

void ctl__delete_topics(ctl_req_t *q)
{
	proto_delete_topics_req_t req;
	proto_delete_topics_resp_t m = {0};
	proto_delete_topics_result_t *res;

	if (proto_delete_topics_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(
	    q->arena, req.topic_names_count > 0 ? (size_t)req.topic_names_count : 1, sizeof *res);
	if (!res) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.topic_names_count; i++) {
		tern_err_t err = delete_one(q, req.topic_names[i]);

		res[i].name = req.topic_names[i];
		res[i].error_code = (int16_t)wire_error(err, "[topic] deleting a topic", NULL);
	}
	m.responses = res;
	m.responses_count = req.topic_names_count;
	proto_delete_topics_resp_encode(q->out, q->hdr.api_version, &m);
}

/* ------------------------------------------------------------------------ */
/* AlterConfigs and IncrementalAlterConfigs                                   */

/* The name of the topic an alter names (in the arena), or an error for the
 * result. */
static tern_err_t alter_target(ctl_req_t *q, int8_t type, proto_str_t name, char **out, char *why,
			       size_t whylen)
{
	char *s;

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
	if (name.len < 0)
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	s = arena_str(q, name);
	if (!s)
		return TERN_ERR__NOMEM;
	if (!topic_exists(q->c, s, NULL))
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	*out = s;
	return TERN_OK;
}

static void alter_result(ctl_req_t *q, proto_alter_configs_result_t *res, int8_t type,
			 proto_str_t name, tern_err_t err, const char *why)
{
	err = wire_error(err, "[config] altering configs", why);
	res->resource_type = type;
	res->resource_name = name;
	res->error_code = (int16_t)err;
	res->error_message = err ? arena_msg(q, why[0] ? why : tern_strerror(err)) : PROTO_NULL_STR;
}

static void alter_reply(ctl_req_t *q, proto_alter_configs_result_t *res, int32_t n)
{
	proto_alter_configs_resp_t m = {.responses = res, .responses_count = n};

	if (q->hdr.api_key == PROTO_API_ALTER_CONFIGS)
		proto_alter_configs_resp_encode(q->out, q->hdr.api_version, &m);
	else
		proto_incremental_alter_configs_resp_encode(q->out, q->hdr.api_version, &m);
}

void ctl__alter_configs(ctl_req_t *q)
{
	proto_alter_configs_req_t req;
	proto_alter_configs_result_t *res;

	if (proto_alter_configs_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.resources_count > 0 ? (size_t)req.resources_count : 1,
				sizeof *res);
	if (!res) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.resources_count; i++) {
		const proto_alter_configs_resource_t *r = &req.resources[i];
		char why[512] = "";
		tern_conf_kv_t *kv = NULL;
		char *name = NULL;
		tern_err_t err;

		err = alter_target(q, r->resource_type, r->resource_name, &name, why, sizeof why);
		if (!err)
			err = wire_configs(q, r->configs, r->configs_count, &kv, why, sizeof why);
		if (!err)
			err = ctl_set_topic_configs(q->c, name, kv, (size_t)r->configs_count,
						    req.validate_only, why, sizeof why);
		alter_result(q, &res[i], r->resource_type, r->resource_name, err, why);
	}
	alter_reply(q, res, req.resources_count);
}

/* The overrides of topic name now, copied into the arena with their
 * strings (the topic may change or go once c->mu is released), in an array
 * with room for extra more pairs. Takes c->mu. */
static tern_err_t current_overrides(ctl_req_t *q, const char *name, size_t extra,
				    tern_conf_kv_t **out, size_t *nout)
{
	ctl_t *c = q->c;
	tern_conf_kv_t *kv;
	ctl_topic_t *t;
	tern_err_t err = TERN_OK;
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	t = ctl__topic(c, name);
	if (!t) {
		err = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		goto out;
	}
	kv = proto_arena_alloc(q->arena, t->nconfigs + extra ? t->nconfigs + extra : 1, sizeof *kv);
	if (!kv) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	for (n = 0; n < t->nconfigs; n++) {
		kv[n].key = arena_copy(q, t->configs[n].key, strlen(t->configs[n].key));
		kv[n].value = arena_copy(q, t->configs[n].value, strlen(t->configs[n].value));
		if (!kv[n].key || !kv[n].value) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
	}
	*out = kv;
	*nout = n;
out:
	pthread_mutex_unlock(&c->mu);
	return err;
}

/* The overrides of topic name after the operations of r, in the arena. */
static tern_err_t incremental_overrides(ctl_req_t *q, const char *name,
					const proto_incremental_alter_configs_resource_t *r,
					tern_conf_kv_t **out, size_t *nout, char *why,
					size_t whylen)
{
	tern_conf_kv_t *kv;
	size_t n;
	tern_err_t err;

	err = current_overrides(q, name, r->configs_count > 0 ? (size_t)r->configs_count : 0, &kv,
				&n);
	if (err)
		return err;
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

void ctl__incremental_alter_configs(ctl_req_t *q)
{
	proto_incremental_alter_configs_req_t req;
	proto_alter_configs_result_t *res;

	if (proto_incremental_alter_configs_req_decode(&q->rd, q->hdr.api_version, &req) !=
	    TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	res = proto_arena_alloc(q->arena, req.resources_count > 0 ? (size_t)req.resources_count : 1,
				sizeof *res);
	if (!res) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < req.resources_count; i++) {
		const proto_incremental_alter_configs_resource_t *r = &req.resources[i];
		char why[512] = "";
		tern_conf_kv_t *kv = NULL;
		char *name = NULL;
		size_t n = 0;
		tern_err_t err;

		/* Read, change, write, with c->mu released in between: an
		 * alter of the same topic that commits in that window is
		 * overwritten (the last writer wins, as with two AlterConfigs).
		 * Accepted: config changes are an operator's, rare and
		 * retried by hand; a compare-and-set on the overrides would
		 * close the window. */
		err = alter_target(q, r->resource_type, r->resource_name, &name, why, sizeof why);
		if (!err)
			err = incremental_overrides(q, name, r, &kv, &n, why, sizeof why);
		if (!err)
			err = ctl_set_topic_configs(q->c, name, kv, n, req.validate_only, why,
						    sizeof why);
		alter_result(q, &res[i], r->resource_type, r->resource_name, err, why);
	}
	alter_reply(q, res, req.resources_count);
}

/* ------------------------------------------------------------------------ */
/* ElectLeaders                                                               */

/* Kafka's default messages (Errors.java), which its controller sends with
 * these codes. */
static const char *elect_msg(tern_err_t err)
{
	switch (err) {
	case TERN_ERR_ELECTION_NOT_NEEDED:
		return "Leader election not needed for topic partition.";
	case TERN_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
		return "The preferred leader was not available.";
	case TERN_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
		return "Eligible topic partition leaders are not available.";
	case TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION:
		return "This server does not host this topic-partition.";
	default:
		return tern_strerror(err);
	}
}

/* Elects a leader of one partition and fills res; returns the code given.
 * topic is NULL when the request named a null topic. */
static tern_err_t elect_one(ctl_req_t *q, const char *topic, int32_t part, isr_election_t type,
			    proto_elect_leaders_partition_result_t *res)
{
	char msg[512] = "";
	tern_err_t err;

	err = topic ? ctl_elect(q->c, topic, part, type) : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (err == TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
		/* Kafka's controller tells a missing topic from a missing
		 * partition. */
		if (topic && topic_exists(q->c, topic, NULL))
			snprintf(msg, sizeof msg, "No such partition as %s-%d", topic, part);
		else
			snprintf(msg, sizeof msg, "No such topic as %s", topic ? topic : "null");
	}
	err = wire_error(err, "[election] electing a leader", topic);
	res->partition_id = part;
	res->error_code = (int16_t)err;
	res->error_message = PROTO_NULL_STR;
	if (err) {
		res->error_message = arena_msg(q, msg);
		if (res->error_message.len < 0)
			res->error_message = proto_str(elect_msg(err));
	}
	return err;
}

/* Every topic's name (malloc()ed) and partition count, for an election of
 * every partition. Takes c->mu. */
static tern_err_t list_topics(ctl_t *c, char ***names, int32_t **nparts, int32_t *n)
{
	tern_err_t err = TERN_OK;
	char **nv;
	int32_t *pv;
	size_t i = 0;

	pthread_mutex_lock(&c->mu);
	nv = calloc(c->ntopics ? c->ntopics : 1, sizeof *nv);
	pv = calloc(c->ntopics ? c->ntopics : 1, sizeof *pv);
	if (!nv || !pv || c->ntopics > INT32_MAX) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	for (i = 0; i < c->ntopics; i++) {
		nv[i] = strdup(c->topics[i]->name);
		pv[i] = c->topics[i]->npart;
		if (!nv[i]) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&c->mu);
	if (err) {
		for (size_t j = 0; nv && j < i; j++)
			free(nv[j]);
		free(nv);
		free(pv);
		return err;
	}
	*names = nv;
	*nparts = pv;
	*n = (int32_t)i;
	return TERN_OK;
}

/* The results live in malloc()ed memory, not in the arena: an election of
 * every partition answers for the whole cluster, far more than the
 * arena's cap (a multiple of the request's size) allows. */
void ctl__elect_leaders(ctl_req_t *q)
{
	proto_elect_leaders_req_t req;
	proto_elect_leaders_resp_t m = {0};
	proto_elect_leaders_topic_result_t *tr = NULL;
	proto_elect_leaders_partition_result_t *pr = NULL;
	char **names = NULL; /* every partition: the topics, malloc()ed */
	int32_t *nparts = NULL;
	int32_t ntopics = 0, nnames = 0;
	char badtype[64] = "";
	isr_election_t type;
	size_t total = 0, used = 0;
	bool all;
	tern_err_t err;

	if (proto_elect_leaders_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		ctl__reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	all = req.topic_partitions_count < 0;
	type =
	    req.election_type == PROTO_ELECTION_UNCLEAN ? ISR_ELECT_UNCLEAN : ISR_ELECT_PREFERRED;
	if (req.election_type != PROTO_ELECTION_PREFERRED &&
	    req.election_type != PROTO_ELECTION_UNCLEAN) {
		/* As Kafka answers: the error at the top and on every
		 * partition named. */
		snprintf(badtype, sizeof badtype, "Unknown election type %d", req.election_type);
		m.error_code = TERN_ERR_INVALID_REQUEST;
		if (all)
			goto reply;
	}
	if (all) {
		err = list_topics(q->c, &names, &nparts, &nnames);
		if (err) {
			m.error_code = (int16_t)wire_error(err, "[election] listing topics", NULL);
			goto reply;
		}
		ntopics = nnames;
		for (int32_t i = 0; i < ntopics; i++)
			total += (size_t)nparts[i];
	} else {
		ntopics = req.topic_partitions_count;
		for (int32_t i = 0; i < ntopics; i++)
			if (req.topic_partitions[i].partitions_count > 0)
				total += (size_t)req.topic_partitions[i].partitions_count;
	}
	tr = calloc(ntopics ? (size_t)ntopics : 1, sizeof *tr);
	pr = calloc(total ? total : 1, sizeof *pr);
	if (!tr || !pr) {
		m.error_code = (int16_t)wire_error(TERN_ERR__NOMEM, "[election] results", NULL);
		ntopics = 0;
		goto reply;
	}
	for (int32_t i = 0; i < ntopics; i++) {
		const proto_topic_partition_ids_t *tp = all ? NULL : &req.topic_partitions[i];
		int32_t np = all ? nparts[i] : tp->partitions_count;
		const char *topic = all ? names[i] : arena_str(q, tp->topic);

		tr[i].topic = all ? proto_str(names[i]) : tp->topic;
		tr[i].partition_results = &pr[used];
		for (int32_t j = 0; j < np; j++) {
			int32_t part = all ? j : tp->partitions[j];
			proto_elect_leaders_partition_result_t *res = &pr[used];

			if (badtype[0]) {
				res->partition_id = part;
				res->error_code = TERN_ERR_INVALID_REQUEST;
				res->error_message = proto_str(badtype);
			} else if (!all && !topic && tp->topic.len >= 0) {
				/* The arena refused the name's copy. */
				res->partition_id = part;
				res->error_code = (int16_t)wire_error(
				    TERN_ERR__NOMEM, "[election] electing a leader", NULL);
				res->error_message = proto_str(elect_msg(res->error_code));
			} else if (elect_one(q, topic, part, type, res) ==
				       TERN_ERR_ELECTION_NOT_NEEDED &&
				   all) {
				/* Kafka leaves out, when electing every
				 * partition, those that have the leader
				 * wanted. */
				continue;
			}
			used++;
			tr[i].partition_results_count++;
		}
	}
reply:
	m.replica_election_results = tr;
	m.replica_election_results_count = ntopics;
	proto_elect_leaders_resp_encode(q->out, q->hdr.api_version, &m);
	for (int32_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(nparts);
	free(pr);
	free(tr);
}
