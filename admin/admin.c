/* admin/admin.c: libtern's admin client (tern/admin.h): synchronous admin
 * requests over proto/'s transport, sent to a bootstrap server (Metadata),
 * the controller (topic and config changes) or a partition's leader
 * (ListOffsets), with the answers copied into plain C structs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "tern/admin.h"

#define ADMIN_METADATA_VERSION	   8
#define ADMIN_CREATE_VERSION	   4
#define ADMIN_DELETE_VERSION	   3
#define ADMIN_DESCRIBE_CFG_VERSION 2
#define ADMIN_INC_ALTER_VERSION	   0
#define ADMIN_LIST_OFFSETS_VERSION 5
#define ADMIN_API_VERSIONS_VERSION 0
#define ADMIN_ELECT_VERSION	   1

/* A broker learnt from Metadata; its pool is opened on first use. */
typedef struct admin_broker {
	int32_t id;
	char *url;	    /* tcp://HOST:PORT */
	proto_pool_t *pool; /* NULL until used */
	struct admin_broker *next;
} admin_broker_t;

/* The client. Invariant: boot[i] is connected to servers[i]; brokers holds
 * every broker of the last Metadata answer (and older ones, which keep
 * their pools until destroy). */
struct tern_admin {
	tern_conf_t *conf;
	char *client_id;
	char **servers; /* bootstrap.servers, split */
	size_t nservers;
	proto_pool_t **boot;
	size_t next_boot; /* the server to ask first: the last that answered */
	admin_broker_t *brokers;
	int32_t controller_id; /* -1: not known yet */
	proto_transport_opts_t topts;
	int32_t corr;
};

/* A response being read: the frame, and the arena its arrays live in. */
typedef struct admin_resp {
	uint8_t *frame;
	proto_reader_t r;
	proto_arena_t arena;
	proto_limits_t lim;
} admin_resp_t;

__attribute__((format(printf, 3, 4))) static void seterr(char *errstr, size_t errlen,
							 const char *fmt, ...)
{
	va_list ap;

	if (!errstr || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, errlen, fmt, ap);
	va_end(ap);
}

static char *dupview(proto_str_t s)
{
	char *p;

	if (s.len < 0)
		return NULL;
	p = malloc((size_t)s.len + 1);
	if (p)
		proto_str_copy(s, p, (size_t)s.len + 1);
	return p;
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                             */

/* The integer value of key in conf (every key read here has a default). */
static int conf_int(const tern_conf_t *conf, const char *key, int def)
{
	char *v = NULL, *end;
	long n;

	if (tern_conf_get(conf, key, &v) != TERN_OK)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 0 || n > INT32_MAX)
		n = def;
	free(v);
	return (int)n;
}

/* Splits bootstrap.servers (checked by tern_conf_set) into a->servers. */
static tern_err_t split_servers(tern_admin_t *a)
{
	char *list = NULL, *save = NULL, *tok;
	tern_err_t err = TERN_OK;

	if (tern_conf_get(a->conf, "bootstrap.servers", &list) != TERN_OK || !list)
		return TERN_ERR__NOMEM;
	a->servers = calloc(strlen(list) / 2 + 1, sizeof(*a->servers));
	if (!a->servers) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		a->servers[a->nservers] = strdup(tok);
		if (!a->servers[a->nservers]) {
			err = TERN_ERR__NOMEM;
			goto out;
		}
		a->nservers++;
	}
	if (a->nservers == 0)
		err = TERN_ERR__INVALID_ARG;
out:
	free(list);
	return err;
}

tern_admin_t *tern_admin_new(tern_conf_t *conf, char *errstr, size_t errlen)
{
	tern_admin_t *a;
	tern_err_t err;

	if (!conf) {
		seterr(errstr, errlen, "tern_admin_new: no conf");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		seterr(errstr, errlen, "out of memory");
		return NULL;
	}
	a->conf = conf;
	a->controller_id = -1;
	proto_transport_opts_default(&a->topts);
	a->topts.request_timeout_ms = conf_int(conf, "request.timeout.ms", 30000);
	a->topts.connect_timeout_ms = conf_int(conf, "socket.connection.setup.timeout.ms", 10000);
	a->topts.reconnect_backoff_ms = conf_int(conf, "retry.backoff.ms", 100);
	if (a->topts.reconnect_backoff_ms < 1)
		a->topts.reconnect_backoff_ms = 1;
	if (a->topts.reconnect_backoff_max_ms < a->topts.reconnect_backoff_ms)
		a->topts.reconnect_backoff_max_ms = a->topts.reconnect_backoff_ms;
	if (tern_conf_get(conf, "client.id", &a->client_id) != TERN_OK) {
		a->client_id = NULL;
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	err = split_servers(a);
	if (err)
		goto fail;
	a->boot = calloc(a->nservers, sizeof(*a->boot));
	if (!a->boot) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	for (size_t i = 0; i < a->nservers; i++) {
		err = proto_pool_new(a->servers[i], 1, &a->topts, &a->boot[i], errstr, errlen);
		if (err) {
			a->conf = NULL; /* the caller keeps it */
			tern_admin_destroy(a);
			return NULL;
		}
	}
	return a;
fail:
	seterr(errstr, errlen, "%s",
	       err == TERN_ERR__NOMEM ? "out of memory" : "bootstrap.servers names no server");
	a->conf = NULL;
	tern_admin_destroy(a);
	return NULL;
}

void tern_admin_destroy(tern_admin_t *a)
{
	admin_broker_t *b, *next;

	if (!a)
		return;
	for (b = a->brokers; b; b = next) {
		next = b->next;
		if (b->pool)
			proto_pool_close(b->pool);
		free(b->url);
		free(b);
	}
	for (size_t i = 0; i < a->nservers; i++) {
		if (a->boot && a->boot[i])
			proto_pool_close(a->boot[i]);
		free(a->servers[i]);
	}
	free(a->boot);
	free(a->servers);
	free(a->client_id);
	tern_conf_destroy(a->conf);
	free(a);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                   */

static void req_begin(tern_admin_t *a, proto_buf_t *b, int16_t key, int16_t ver)
{
	proto_req_hdr_t h = {
	    .api_key = key,
	    .api_version = ver,
	    .correlation_id = (a->corr = (a->corr + 1) & 0x7fffffff),
	    .client_id = proto_str(a->client_id),
	};

	proto_buf_init(b);
	proto_req_hdr_encode(b, &h);
}

static void resp_free(admin_resp_t *resp)
{
	proto_arena_free(&resp->arena);
	proto_msg_free(resp->frame);
	resp->frame = NULL;
}

/* Sends req (a header and body from req_begin) on pool's connection and
 * opens its response: on success resp->r stands at the body. where names
 * the broker for messages. Frees req. */
static tern_err_t call_pool(tern_admin_t *a, proto_pool_t *pool, const char *where,
			    proto_buf_t *req, int16_t key, int16_t ver, admin_resp_t *resp,
			    char *errstr, size_t errlen)
{
	proto_resp_hdr_t rh;
	size_t len = 0;
	tern_err_t err;

	memset(resp, 0, sizeof(*resp));
	if (req->oom) {
		proto_buf_free(req);
		seterr(errstr, errlen, "out of memory");
		return TERN_ERR__NOMEM;
	}
	err = proto_conn_call(proto_pool_conn(pool, 0), req->p, req->len, PROTO_DEADLINE_DEFAULT,
			      &resp->frame, &len);
	proto_buf_free(req);
	if (err == TERN_ERR_NETWORK_EXCEPTION) {
		seterr(errstr, errlen,
		       "cannot reach %s: no connection within %d ms, or it broke (%s)", where,
		       a->topts.connect_timeout_ms, tern_err_name(err));
		return err;
	}
	if (err == TERN_ERR_REQUEST_TIMED_OUT) {
		seterr(errstr, errlen, "%s did not answer within %d ms (%s)", where,
		       a->topts.request_timeout_ms, tern_err_name(err));
		return err;
	}
	if (err) {
		seterr(errstr, errlen, "%s: %s (%s)", where, tern_strerror(err),
		       tern_err_name(err));
		return err;
	}
	proto_limits_default(&resp->lim);
	proto_arena_init(&resp->arena, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(&resp->r, resp->frame, len, &resp->lim, &resp->arena);
	err = proto_resp_hdr_decode(&resp->r, key, ver, &rh);
	if (err) {
		resp_free(resp);
		seterr(errstr, errlen, "%s sent a malformed %s response", where,
		       proto_api_name(key));
	}
	return err;
}

/* A response body that did not decode: a broker answers a request it does
 * not take with a bare error code (docs/broker.md, "Requests"). */
static tern_err_t bad_body(admin_resp_t *resp, tern_err_t err, int16_t key, char *errstr,
			   size_t errlen)
{
	resp_free(resp);
	seterr(errstr, errlen,
	       "the broker's %s response could not be read (%s): is it a "
	       "Tern broker of the same version?",
	       proto_api_name(key), tern_err_name(err));
	return err;
}

/* Sends req to a bootstrap server, trying each in turn (from the last that
 * answered) while they cannot be reached. Frees req. */
static tern_err_t call_any(tern_admin_t *a, proto_buf_t *req, int16_t key, int16_t ver,
			   admin_resp_t *resp, char *errstr, size_t errlen)
{
	tern_err_t err = TERN_ERR_NETWORK_EXCEPTION;
	char why[512] = "", first[512] = "";

	for (size_t k = 0; k < a->nservers; k++) {
		size_t i = (a->next_boot + k) % a->nservers;
		proto_buf_t copy;

		/* call_pool frees what it sends: each attempt sends a copy. */
		proto_buf_init(&copy);
		proto_wr_raw(&copy, req->p, req->len);
		err = call_pool(a, a->boot[i], a->servers[i], &copy, key, ver, resp, why,
				sizeof(why));
		if (err != TERN_ERR_NETWORK_EXCEPTION && err != TERN_ERR_REQUEST_TIMED_OUT) {
			a->next_boot = i;
			break;
		}
		if (k == 0)
			snprintf(first, sizeof(first), "%s", why);
	}
	proto_buf_free(req);
	if (err == TERN_ERR_NETWORK_EXCEPTION || err == TERN_ERR_REQUEST_TIMED_OUT) {
		if (a->nservers > 1)
			seterr(errstr, errlen, "none of the %zu bootstrap servers answered (%s)",
			       a->nservers, first);
		else
			seterr(errstr, errlen, "%s", first);
	} else if (err) {
		seterr(errstr, errlen, "%s", why);
	}
	return err;
}

static admin_broker_t *broker_find(tern_admin_t *a, int32_t id)
{
	for (admin_broker_t *b = a->brokers; b; b = b->next)
		if (b->id == id)
			return b;
	return NULL;
}

/* Sends req to broker id (learnt from Metadata). Frees req. */
static tern_err_t call_broker(tern_admin_t *a, int32_t id, proto_buf_t *req, int16_t key,
			      int16_t ver, admin_resp_t *resp, char *errstr, size_t errlen)
{
	admin_broker_t *b = broker_find(a, id);
	char where[320];
	tern_err_t err;

	if (!b) {
		proto_buf_free(req);
		seterr(errstr, errlen, "broker %d is not in the cluster's metadata", id);
		return TERN_ERR_BROKER_NOT_AVAILABLE;
	}
	if (!b->pool) {
		err = proto_pool_new(b->url, 1, &a->topts, &b->pool, errstr, errlen);
		if (err) {
			proto_buf_free(req);
			return err;
		}
	}
	snprintf(where, sizeof(where), "broker %d at %s", id, b->url);
	return call_pool(a, b->pool, where, req, key, ver, resp, errstr, errlen);
}

/* Remembers a broker of a Metadata answer. */
static tern_err_t broker_learn(tern_admin_t *a, const proto_metadata_broker_t *mb)
{
	admin_broker_t *b = broker_find(a, mb->node_id);
	char *url;

	if (asprintf(&url, "tcp://%.*s:%d", mb->host.len > 0 ? mb->host.len : 0,
		     mb->host.len > 0 ? mb->host.s : "", mb->port) < 0)
		return TERN_ERR__NOMEM;
	if (b && strcmp(b->url, url) == 0) {
		free(url);
		return TERN_OK;
	}
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			free(url);
			return TERN_ERR__NOMEM;
		}
		b->id = mb->node_id;
		b->next = a->brokers;
		a->brokers = b;
	}
	/* A broker that moved gets a new pool at its next use. */
	if (b->pool)
		proto_pool_close(b->pool);
	b->pool = NULL;
	free(b->url);
	b->url = url;
	return TERN_OK;
}

/* A Metadata request (never auto-creating) decoded into *md, which lives
 * in resp (the caller frees it with resp_free on success). Learns the
 * brokers and the controller. */
static tern_err_t metadata_req(tern_admin_t *a, const proto_metadata_req_t *m, admin_resp_t *resp,
			       proto_metadata_resp_t *md, char *errstr, size_t errlen)
{
	proto_buf_t b;
	tern_err_t err;

	req_begin(a, &b, PROTO_API_METADATA, ADMIN_METADATA_VERSION);
	proto_metadata_req_encode(&b, ADMIN_METADATA_VERSION, m);
	err = call_any(a, &b, PROTO_API_METADATA, ADMIN_METADATA_VERSION, resp, errstr, errlen);
	if (err)
		return err;
	err = proto_metadata_resp_decode(&resp->r, ADMIN_METADATA_VERSION, md);
	if (err)
		return bad_body(resp, err, PROTO_API_METADATA, errstr, errlen);
	for (int32_t i = 0; i < md->brokers_count; i++) {
		err = broker_learn(a, &md->brokers[i]);
		if (err) {
			resp_free(resp);
			seterr(errstr, errlen, "out of memory");
			return err;
		}
	}
	a->controller_id = md->controller_id;
	return TERN_OK;
}

/* Metadata of topic, or of no topic at all (NULL: brokers and controller
 * only). */
static tern_err_t metadata(tern_admin_t *a, const char *topic, admin_resp_t *resp,
			   proto_metadata_resp_t *md, char *errstr, size_t errlen)
{
	proto_str_t name = proto_str(topic);
	proto_metadata_req_t m = {
	    .topics = topic ? &name : NULL,
	    .topics_count = topic ? 1 : 0,
	};

	return metadata_req(a, &m, resp, md, errstr, errlen);
}

/* Metadata of every topic: a null topic list. */
static tern_err_t metadata_all(tern_admin_t *a, admin_resp_t *resp, proto_metadata_resp_t *md,
			       char *errstr, size_t errlen)
{
	proto_metadata_req_t m = {.topics_count = -1};

	return metadata_req(a, &m, resp, md, errstr, errlen);
}

/* Sends req to the controller, found through Metadata. Frees req. */
static tern_err_t call_controller(tern_admin_t *a, proto_buf_t *req, int16_t key, int16_t ver,
				  admin_resp_t *resp, char *errstr, size_t errlen)
{
	proto_metadata_resp_t md;
	admin_resp_t mresp;
	tern_err_t err;

	err = metadata(a, NULL, &mresp, &md, errstr, errlen);
	if (err) {
		proto_buf_free(req);
		return err;
	}
	resp_free(&mresp);
	if (a->controller_id < 0) {
		proto_buf_free(req);
		seterr(errstr, errlen, "the cluster has no controller at the moment: try again");
		return TERN_ERR_NOT_CONTROLLER;
	}
	return call_broker(a, a->controller_id, req, key, ver, resp, errstr, errlen);
}

/* The outcome of one result of the broker: err with its message (or the
 * error's description) after what. */
static tern_err_t result(int16_t code, proto_str_t msg, const char *what, char *errstr,
			 size_t errlen)
{
	tern_err_t err = (tern_err_t)code;

	if (!err)
		return TERN_OK;
	if (msg.len > 0)
		seterr(errstr, errlen, "%s: %.*s (%s)", what, msg.len, msg.s, tern_err_name(err));
	else
		seterr(errstr, errlen, "%s: %s (%s)", what, tern_strerror(err), tern_err_name(err));
	return err;
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

tern_err_t tern_admin_create_topic(tern_admin_t *a, const char *name, int32_t partitions,
				   int16_t replication_factor, const tern_admin_config_t *configs,
				   size_t nconfigs, char *errstr, size_t errlen)
{
	proto_config_kv_t *kv = NULL;
	proto_create_topics_topic_t t = {0};
	proto_create_topics_req_t m = {0};
	proto_create_topics_resp_t r;
	admin_resp_t resp;
	proto_buf_t b;
	char what[320];
	tern_err_t err;

	if (!a || !name || (nconfigs && !configs) || nconfigs > INT32_MAX) {
		seterr(errstr, errlen, "tern_admin_create_topic: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	if (nconfigs) {
		kv = calloc(nconfigs, sizeof(*kv));
		if (!kv) {
			seterr(errstr, errlen, "out of memory");
			return TERN_ERR__NOMEM;
		}
	}
	for (size_t i = 0; i < nconfigs; i++) {
		kv[i].name = proto_str(configs[i].name);
		kv[i].value = proto_str(configs[i].value);
	}
	t.name = proto_str(name);
	t.num_partitions = partitions;
	t.replication_factor = replication_factor;
	t.configs = kv;
	t.configs_count = (int32_t)nconfigs;
	m.topics = &t;
	m.topics_count = 1;
	m.timeout_ms = a->topts.request_timeout_ms;
	req_begin(a, &b, PROTO_API_CREATE_TOPICS, ADMIN_CREATE_VERSION);
	proto_create_topics_req_encode(&b, ADMIN_CREATE_VERSION, &m);
	free(kv);
	err = call_controller(a, &b, PROTO_API_CREATE_TOPICS, ADMIN_CREATE_VERSION, &resp, errstr,
			      errlen);
	if (err)
		return err;
	err = proto_create_topics_resp_decode(&resp.r, ADMIN_CREATE_VERSION, &r);
	if (err)
		return bad_body(&resp, err, PROTO_API_CREATE_TOPICS, errstr, errlen);
	snprintf(what, sizeof(what), "cannot create topic '%s'", name);
	if (r.topics_count != 1) {
		seterr(errstr, errlen, "%s: the broker answered for %d topics", what,
		       r.topics_count);
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		err =
		    result(r.topics[0].error_code, r.topics[0].error_message, what, errstr, errlen);
	}
	resp_free(&resp);
	return err;
}

tern_err_t tern_admin_delete_topic(tern_admin_t *a, const char *name, char *errstr, size_t errlen)
{
	proto_str_t n = proto_str(name);
	proto_delete_topics_req_t m = {.topic_names = &n, .topic_names_count = 1};
	proto_delete_topics_resp_t r;
	admin_resp_t resp;
	proto_buf_t b;
	char what[320];
	tern_err_t err;

	if (!a || !name) {
		seterr(errstr, errlen, "tern_admin_delete_topic: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	m.timeout_ms = a->topts.request_timeout_ms;
	req_begin(a, &b, PROTO_API_DELETE_TOPICS, ADMIN_DELETE_VERSION);
	proto_delete_topics_req_encode(&b, ADMIN_DELETE_VERSION, &m);
	err = call_controller(a, &b, PROTO_API_DELETE_TOPICS, ADMIN_DELETE_VERSION, &resp, errstr,
			      errlen);
	if (err)
		return err;
	err = proto_delete_topics_resp_decode(&resp.r, ADMIN_DELETE_VERSION, &r);
	if (err)
		return bad_body(&resp, err, PROTO_API_DELETE_TOPICS, errstr, errlen);
	snprintf(what, sizeof(what), "cannot delete topic '%s'", name);
	if (r.responses_count != 1) {
		seterr(errstr, errlen, "%s: the broker answered for %d topics", what,
		       r.responses_count);
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		err = result(r.responses[0].error_code, PROTO_NULL_STR, what, errstr, errlen);
	}
	resp_free(&resp);
	return err;
}

static int cmp_summary(const void *x, const void *y)
{
	return strcmp(((const tern_topic_summary_t *)x)->name,
		      ((const tern_topic_summary_t *)y)->name);
}

tern_err_t tern_admin_list_topics(tern_admin_t *a, tern_topic_list_t **out, char *errstr,
				  size_t errlen)
{
	proto_metadata_resp_t md;
	tern_topic_list_t *l = NULL;
	admin_resp_t resp;
	tern_err_t err;

	if (!a || !out) {
		seterr(errstr, errlen, "tern_admin_list_topics: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	err = metadata_all(a, &resp, &md, errstr, errlen);
	if (err)
		return err;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->topics = calloc((size_t)md.topics_count + 1, sizeof(*l->topics))))
		goto nomem;
	for (int32_t i = 0; i < md.topics_count; i++) {
		const proto_metadata_topic_t *mt = &md.topics[i];
		tern_topic_summary_t *s = &l->topics[l->n];

		if (mt->error_code)
			continue;
		s->name = dupview(mt->name);
		if (!s->name)
			goto nomem;
		s->partitions = mt->partitions_count;
		s->replication_factor =
		    mt->partitions_count > 0 ? mt->partitions[0].replica_nodes_count : -1;
		s->internal = mt->is_internal;
		l->n++;
	}
	qsort(l->topics, l->n, sizeof(*l->topics), cmp_summary);
	resp_free(&resp);
	*out = l;
	return TERN_OK;
nomem:
	resp_free(&resp);
	tern_topic_list_destroy(l);
	seterr(errstr, errlen, "out of memory");
	return TERN_ERR__NOMEM;
}

void tern_topic_list_destroy(tern_topic_list_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->topics[i].name);
	free(l->topics);
	free(l);
}

const char *tern_partition_mode_name(tern_partition_mode_t m)
{
	switch (m) {
	case TERN_MODE_OFFLINE:
		return "offline";
	case TERN_MODE_FLOOR:
		return "floor";
	case TERN_MODE_RECOVERY:
		return "recovery";
	case TERN_MODE_DEGRADED:
		return "degraded";
	case TERN_MODE_TARGET:
		return "target";
	}
	return "unknown";
}

/* The mode of decision 9 from what Metadata says (recovery excepted: see
 * tern/admin.h). min_insync -1 (unknown) counts as 1, the least any topic
 * has, so that an unknown setting never reports floor wrongly. */
static tern_partition_mode_t partition_mode(const tern_partition_info_t *p, int32_t min_insync)
{
	int32_t eff = min_insync < 1 ? 1 : min_insync;

	if (p->leader < 0)
		return TERN_MODE_OFFLINE;
	if ((size_t)eff > p->nreplicas)
		eff = (int32_t)p->nreplicas;
	if (p->nisr < (size_t)eff)
		return TERN_MODE_FLOOR;
	if (p->nisr < p->nreplicas)
		return TERN_MODE_DEGRADED;
	return TERN_MODE_TARGET;
}

/* The leader's own replica state from ListOffsets: its LEO, and lag 0 (lag
 * is the leader's LEO minus the replica's). Followers' LEOs are known only
 * to the leader's state machine (DescribePartitions): here they stay -1. */
static void set_leader_leo(tern_partition_info_t *p, int64_t leo)
{
	for (size_t k = 0; k < p->nreplicas; k++) {
		if (p->replica_states[k].id != p->leader)
			continue;
		p->replica_states[k].log_end_offset = leo;
		p->replica_states[k].lag = leo >= 0 ? 0 : -1;
	}
	p->log_end_offset = leo;
}

static int32_t *dup_ids(const int32_t *v, int32_t n, size_t *nout)
{
	int32_t *p = calloc(n > 0 ? (size_t)n : 1, sizeof(*p));

	if (p && n > 0)
		memcpy(p, v, (size_t)n * sizeof(*p));
	*nout = n > 0 ? (size_t)n : 0;
	return p;
}

/* One ListOffsets request at leader for the partitions of t it leads, at
 * timestamp (-2 earliest, -1 latest); each answer goes to the partition's
 * log_start_offset (earliest) or high_watermark (latest). A failed request
 * marks those partitions with its error. As debugging client (replica id
 * -2; leo), latest is the leader's LEO (Kafka's meaning): it goes to the
 * leader's replica state, whose lag is 0 by definition, and a failure
 * leaves it unknown. */
static void list_offsets(tern_admin_t *a, tern_topic_info_t *t, int32_t leader, int64_t timestamp,
			 bool leo)
{
	proto_list_offsets_req_partition_t *parts;
	proto_list_offsets_req_topic_t rt = {.name = proto_str(t->name)};
	proto_list_offsets_req_t m = {
	    .replica_id = leo ? -2 : -1, .topics = &rt, .topics_count = 1};
	proto_list_offsets_resp_t r;
	admin_resp_t resp;
	proto_buf_t b;
	char why[256];
	int32_t n = 0;
	tern_err_t err;

	parts = calloc(t->npartitions + 1, sizeof(*parts));
	if (!parts) {
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	for (size_t i = 0; i < t->npartitions; i++) {
		if (t->partitions[i].leader != leader)
			continue;
		parts[n].partition_index = t->partitions[i].partition;
		parts[n].current_leader_epoch = -1;
		parts[n].timestamp = timestamp;
		n++;
	}
	rt.partitions = parts;
	rt.partitions_count = n;
	req_begin(a, &b, PROTO_API_LIST_OFFSETS, ADMIN_LIST_OFFSETS_VERSION);
	proto_list_offsets_req_encode(&b, ADMIN_LIST_OFFSETS_VERSION, &m);
	free(parts);
	err = call_broker(a, leader, &b, PROTO_API_LIST_OFFSETS, ADMIN_LIST_OFFSETS_VERSION, &resp,
			  why, sizeof(why));
	if (err)
		goto fail;
	err = proto_list_offsets_resp_decode(&resp.r, ADMIN_LIST_OFFSETS_VERSION, &r);
	if (err) {
		bad_body(&resp, err, PROTO_API_LIST_OFFSETS, why, sizeof(why));
		goto fail;
	}
	for (int32_t i = 0; i < r.topics_count; i++) {
		if (!proto_str_eq(r.topics[i].name, t->name))
			continue;
		for (int32_t j = 0; j < r.topics[i].partitions_count; j++) {
			const proto_list_offsets_resp_partition_t *rp = &r.topics[i].partitions[j];

			for (size_t k = 0; k < t->npartitions; k++) {
				tern_partition_info_t *p = &t->partitions[k];

				if (p->partition != rp->partition_index || p->leader != leader)
					continue;
				if (leo) {
					set_leader_leo(p, rp->error_code ? -1 : rp->offset);
					continue;
				}
				if (rp->error_code)
					p->offsets_err = (tern_err_t)rp->error_code;
				else if (timestamp == -2)
					p->log_start_offset = rp->offset;
				else
					p->high_watermark = rp->offset;
			}
		}
	}
	resp_free(&resp);
	return;
fail:
	for (size_t k = 0; k < t->npartitions && !leo; k++)
		if (t->partitions[k].leader == leader)
			t->partitions[k].offsets_err = err;
}

/* The topic's min.insync.replicas, or -1 when the broker does not say. */
static int32_t topic_min_insync(tern_admin_t *a, const char *topic)
{
	tern_config_list_t *cl = NULL;
	const char *v;
	int32_t n = -1;
	char why[256];

	if (tern_admin_describe_configs(a, TERN_RESOURCE_TOPIC, topic, &cl, why, sizeof(why)))
		return -1;
	v = tern_config_list_get(cl, "min.insync.replicas");
	if (v)
		n = (int32_t)strtol(v, NULL, 10);
	tern_config_list_destroy(cl);
	return n > 0 ? n : -1;
}

/* A topic's info from its Metadata (partitions by number, offsets and
 * replica states unknown yet); NULL when out of memory. */
static tern_topic_info_t *topic_from_metadata(const proto_metadata_topic_t *mt)
{
	tern_topic_info_t *t = calloc(1, sizeof(*t));

	if (!t || !(t->name = dupview(mt->name)) ||
	    !(t->partitions = calloc((size_t)mt->partitions_count + 1, sizeof(*t->partitions))))
		goto nomem;
	t->internal = mt->is_internal;
	t->min_insync_replicas = -1;
	for (int32_t i = 0; i < mt->partitions_count; i++) {
		const proto_metadata_partition_t *mp = &mt->partitions[i];
		tern_partition_info_t *p = &t->partitions[t->npartitions++];

		p->partition = mp->partition_index;
		p->err = (tern_err_t)mp->error_code;
		p->leader = mp->leader_id;
		p->leader_epoch = mp->leader_epoch;
		p->log_start_offset = -1;
		p->high_watermark = -1;
		p->log_end_offset = -1;
		p->replicas = dup_ids(mp->replica_nodes, mp->replica_nodes_count, &p->nreplicas);
		p->isr = dup_ids(mp->isr_nodes, mp->isr_nodes_count, &p->nisr);
		p->offline_replicas = dup_ids(mp->offline_replicas, mp->offline_replicas_count,
					      &p->noffline_replicas);
		p->replica_states = calloc(p->nreplicas + 1, sizeof(*p->replica_states));
		if (!p->replicas || !p->isr || !p->offline_replicas || !p->replica_states)
			goto nomem;
		for (size_t k = 0; k < p->nreplicas; k++) {
			p->replica_states[k].id = p->replicas[k];
			p->replica_states[k].log_end_offset = -1;
			p->replica_states[k].lag = -1;
			p->replica_states[k].caught_up_ms_ago = -1;
		}
	}
	for (size_t i = 1; i < t->npartitions; i++)
		for (size_t j = i;
		     j > 0 && t->partitions[j - 1].partition > t->partitions[j].partition; j--) {
			tern_partition_info_t tmp = t->partitions[j];

			t->partitions[j] = t->partitions[j - 1];
			t->partitions[j - 1] = tmp;
		}
	return t;
nomem:
	tern_topic_info_destroy(t);
	return NULL;
}

/* Takes one partition's answer from its leader. */
static void take_live(tern_partition_info_t *p, const proto_describe_partitions_partition_t *r)
{
	int32_t *isr;

	if (r->error_code) {
		p->offsets_err = (tern_err_t)r->error_code;
		return;
	}
	isr = calloc(r->isr_count > 0 ? (size_t)r->isr_count : 1, sizeof(*isr));
	if (!isr) {
		p->offsets_err = TERN_ERR__NOMEM;
		return;
	}
	if (r->isr_count > 0)
		memcpy(isr, r->isr, (size_t)r->isr_count * sizeof(*isr));
	free(p->isr);
	p->isr = isr;
	p->nisr = r->isr_count > 0 ? (size_t)r->isr_count : 0;
	p->leader_epoch = r->leader_epoch;
	p->log_start_offset = r->log_start_offset;
	p->high_watermark = r->high_watermark;
	p->log_end_offset = r->log_end_offset;
	p->mode = r->mode >= TERN_MODE_OFFLINE && r->mode <= TERN_MODE_TARGET
		      ? (tern_partition_mode_t)r->mode
		      : TERN_MODE_OFFLINE;
	for (size_t k = 0; k < p->nreplicas; k++) {
		tern_replica_state_t *rs = &p->replica_states[k];

		for (int32_t j = 0; j < r->replicas_count; j++) {
			if (r->replicas[j].broker_id != rs->id)
				continue;
			rs->log_end_offset = r->replicas[j].log_end_offset;
			rs->lag = r->replicas[j].lag;
			rs->caught_up_ms_ago = r->replicas[j].caught_up_ms_ago;
		}
	}
	p->offsets_err = TERN_OK;
	p->live = true;
}

/* Asks leader for the live state of the partitions of topics[0..n) it
 * leads (DescribePartitions). Returns the error of the request as a whole
 * (the broker's bare error code for an API it does not speak): its
 * partitions are then left as they were. */
static tern_err_t describe_live(tern_admin_t *a, tern_topic_info_t **topics, size_t n,
				int32_t leader)
{
	proto_describe_partitions_topic_t *rt = NULL;
	int32_t *ids = NULL;
	proto_describe_partitions_req_t m = {0};
	proto_describe_partitions_resp_t r;
	admin_resp_t resp;
	proto_reader_t body;
	proto_buf_t b;
	size_t nids = 0, used = 0;
	char why[256];
	tern_err_t err;

	for (size_t i = 0; i < n; i++)
		nids += topics[i]->npartitions;
	rt = calloc(n + 1, sizeof(*rt));
	ids = calloc(nids + 1, sizeof(*ids));
	if (!rt || !ids) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		proto_describe_partitions_topic_t *x = &rt[m.topics_count];

		x->name = proto_str(topics[i]->name);
		x->partitions = ids + used;
		for (size_t k = 0; k < topics[i]->npartitions; k++)
			if (topics[i]->partitions[k].leader == leader)
				ids[used + (size_t)x->partitions_count++] =
				    topics[i]->partitions[k].partition;
		used += (size_t)x->partitions_count;
		if (x->partitions_count)
			m.topics_count++;
	}
	m.topics = rt;
	req_begin(a, &b, PROTO_API_DESCRIBE_PARTITIONS, 0);
	proto_describe_partitions_req_encode(&b, 0, &m);
	err = call_broker(a, leader, &b, PROTO_API_DESCRIBE_PARTITIONS, 0, &resp, why, sizeof(why));
	if (err)
		goto out;
	body = resp.r;
	err = proto_describe_partitions_resp_decode(&resp.r, 0, &r);
	if (err) {
		/* A broker answers a key it does not speak with the INT16
		 * error alone (docs/broker.md, "Requests"). */
		int16_t code = proto_rd_left(&body) == 2 ? proto_rd_i16(&body) : 0;

		err = code ? (tern_err_t)code : err;
		resp_free(&resp);
		goto out;
	}
	err = (tern_err_t)r.error_code;
	for (int32_t i = 0; !err && i < r.topics_count; i++) {
		const proto_describe_partitions_topic_result_t *tr = &r.topics[i];

		for (size_t j = 0; j < n; j++) {
			if (!proto_str_eq(tr->name, topics[j]->name))
				continue;
			for (int32_t k = 0; k < tr->partitions_count; k++)
				for (size_t x = 0; x < topics[j]->npartitions; x++)
					if (topics[j]->partitions[x].partition ==
						tr->partitions[k].partition_index &&
					    topics[j]->partitions[x].leader == leader)
						take_live(&topics[j]->partitions[x],
							  &tr->partitions[k]);
		}
	}
	resp_free(&resp);
out:
	free(rt);
	free(ids);
	return err;
}

/* Fills the offsets, states and modes of topics[0..n) (built from
 * Metadata): DescribePartitions at each leader, ListOffsets where a leader
 * does not answer it; then min.insync.replicas and the computed mode of
 * partitions no leader described. */
static void describe_offsets(tern_admin_t *a, tern_topic_info_t **topics, size_t n)
{
	int32_t *done = NULL;
	size_t ndone = 0, total = 0;

	for (size_t i = 0; i < n; i++)
		total += topics[i]->npartitions;
	done = calloc(total + 1, sizeof(*done));
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < topics[i]->npartitions; k++) {
			int32_t leader = topics[i]->partitions[k].leader;
			bool seen = false;

			if (leader < 0) {
				topics[i]->partitions[k].offsets_err =
				    TERN_ERR_LEADER_NOT_AVAILABLE;
				continue;
			}
			for (size_t j = 0; done && j < ndone; j++)
				seen |= done[j] == leader;
			if (seen)
				continue;
			if (done)
				done[ndone++] = leader;
			if (describe_live(a, topics, n, leader) == TERN_OK)
				continue;
			/* An older broker, or none there: what ListOffsets says. */
			for (size_t j = 0; j < n; j++) {
				bool leads = false;

				for (size_t x = 0; x < topics[j]->npartitions; x++)
					leads |= topics[j]->partitions[x].leader == leader;
				if (!leads)
					continue;
				list_offsets(a, topics[j], leader, -2, false);
				list_offsets(a, topics[j], leader, -1, false);
				list_offsets(a, topics[j], leader, -1, true);
			}
		}
	}
	free(done);
	for (size_t i = 0; i < n; i++) {
		tern_topic_info_t *t = topics[i];

		t->min_insync_replicas = topic_min_insync(a, t->name);
		for (size_t k = 0; k < t->npartitions; k++)
			if (!t->partitions[k].live)
				t->partitions[k].mode =
				    partition_mode(&t->partitions[k], t->min_insync_replicas);
	}
}

tern_err_t tern_admin_describe_topic(tern_admin_t *a, const char *name, tern_topic_info_t **out,
				     char *errstr, size_t errlen)
{
	const proto_metadata_topic_t *mt;
	proto_metadata_resp_t md;
	tern_topic_info_t *t = NULL;
	admin_resp_t resp;
	tern_err_t err;

	if (!a || !name || !out) {
		seterr(errstr, errlen, "tern_admin_describe_topic: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	err = metadata(a, name, &resp, &md, errstr, errlen);
	if (err)
		return err;
	if (md.topics_count != 1 || !proto_str_eq(md.topics[0].name, name)) {
		resp_free(&resp);
		seterr(errstr, errlen, "the broker's Metadata answer does not name topic '%s'",
		       name);
		return TERN_ERR_UNKNOWN_SERVER_ERROR;
	}
	mt = &md.topics[0];
	if (mt->error_code) {
		char what[320];

		snprintf(what, sizeof(what), "topic '%s'", name);
		err = result(mt->error_code, PROTO_NULL_STR, what, errstr, errlen);
		resp_free(&resp);
		return err;
	}
	t = topic_from_metadata(mt);
	resp_free(&resp);
	if (!t) {
		seterr(errstr, errlen, "out of memory");
		return TERN_ERR__NOMEM;
	}
	describe_offsets(a, &t, 1);
	*out = t;
	return TERN_OK;
}

static int cmp_info(const void *x, const void *y)
{
	return strcmp((*(tern_topic_info_t *const *)x)->name,
		      (*(tern_topic_info_t *const *)y)->name);
}

tern_err_t tern_admin_describe_topics(tern_admin_t *a, tern_topic_info_list_t **out, char *errstr,
				      size_t errlen)
{
	proto_metadata_resp_t md;
	tern_topic_info_list_t *l = NULL;
	admin_resp_t resp;
	tern_err_t err;

	if (!a || !out) {
		seterr(errstr, errlen, "tern_admin_describe_topics: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	err = metadata_all(a, &resp, &md, errstr, errlen);
	if (err)
		return err;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->topics = calloc((size_t)md.topics_count + 1, sizeof(*l->topics))))
		goto nomem;
	for (int32_t i = 0; i < md.topics_count; i++) {
		if (md.topics[i].error_code)
			continue;
		if (!(l->topics[l->n] = topic_from_metadata(&md.topics[i])))
			goto nomem;
		l->n++;
	}
	resp_free(&resp);
	qsort(l->topics, l->n, sizeof(*l->topics), cmp_info);
	describe_offsets(a, l->topics, l->n);
	*out = l;
	return TERN_OK;
nomem:
	resp_free(&resp);
	tern_topic_info_list_destroy(l);
	seterr(errstr, errlen, "out of memory");
	return TERN_ERR__NOMEM;
}

void tern_topic_info_list_destroy(tern_topic_info_list_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		tern_topic_info_destroy(l->topics[i]);
	free(l->topics);
	free(l);
}

void tern_topic_info_destroy(tern_topic_info_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->npartitions; i++) {
		free(t->partitions[i].replicas);
		free(t->partitions[i].isr);
		free(t->partitions[i].offline_replicas);
		free(t->partitions[i].replica_states);
	}
	free(t->partitions);
	free(t->name);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Configs                                                                    */

const char *tern_config_source_name(tern_config_source_t s)
{
	switch (s) {
	case TERN_CONFIG_SOURCE_TOPIC:
		return "topic";
	case TERN_CONFIG_SOURCE_DYNAMIC_BROKER:
		return "dynamic_broker";
	case TERN_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER:
		return "dynamic_default_broker";
	case TERN_CONFIG_SOURCE_STATIC_BROKER:
		return "static_broker";
	case TERN_CONFIG_SOURCE_DEFAULT:
		return "default";
	case TERN_CONFIG_SOURCE_UNKNOWN:
		break;
	}
	return "unknown";
}

tern_err_t tern_admin_describe_configs(tern_admin_t *a, tern_resource_type_t type, const char *name,
				       tern_config_list_t **out, char *errstr, size_t errlen)
{
	proto_describe_configs_resource_t res = {
	    .resource_type = (int8_t)type,
	    .resource_name = proto_str(name),
	    .configuration_keys_count = -1,
	};
	proto_describe_configs_req_t m = {.resources = &res, .resources_count = 1};
	const proto_describe_configs_result_t *rr;
	proto_describe_configs_resp_t r;
	tern_config_list_t *l = NULL;
	admin_resp_t resp;
	proto_buf_t b;
	char what[320];
	tern_err_t err;

	if (!a || !name || !out) {
		seterr(errstr, errlen, "tern_admin_describe_configs: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	req_begin(a, &b, PROTO_API_DESCRIBE_CONFIGS, ADMIN_DESCRIBE_CFG_VERSION);
	proto_describe_configs_req_encode(&b, ADMIN_DESCRIBE_CFG_VERSION, &m);
	err = call_controller(a, &b, PROTO_API_DESCRIBE_CONFIGS, ADMIN_DESCRIBE_CFG_VERSION, &resp,
			      errstr, errlen);
	if (err)
		return err;
	err = proto_describe_configs_resp_decode(&resp.r, ADMIN_DESCRIBE_CFG_VERSION, &r);
	if (err)
		return bad_body(&resp, err, PROTO_API_DESCRIBE_CONFIGS, errstr, errlen);
	snprintf(what, sizeof(what), "cannot describe the configs of %s '%s'",
		 type == TERN_RESOURCE_TOPIC ? "topic" : "broker", name);
	if (r.results_count != 1) {
		seterr(errstr, errlen, "%s: the broker answered for %d resources", what,
		       r.results_count);
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	rr = &r.results[0];
	err = result(rr->error_code, rr->error_message, what, errstr, errlen);
	if (err)
		goto out;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->entries = calloc((size_t)rr->configs_count + 1, sizeof(*l->entries))))
		goto nomem;
	for (int32_t i = 0; i < rr->configs_count; i++) {
		const proto_describe_configs_entry_t *e = &rr->configs[i];
		tern_config_entry_t *d = &l->entries[l->n];

		d->name = dupview(e->name);
		d->value = dupview(e->value);
		if (!d->name || (e->value.len >= 0 && !d->value)) {
			free(d->name);
			free(d->value);
			goto nomem;
		}
		d->source = e->config_source >= 0 ? (tern_config_source_t)e->config_source
						  : TERN_CONFIG_SOURCE_UNKNOWN;
		d->read_only = e->read_only;
		d->sensitive = e->is_sensitive;
		l->n++;
	}
	*out = l;
	l = NULL;
	goto out;
nomem:
	seterr(errstr, errlen, "out of memory");
	err = TERN_ERR__NOMEM;
out:
	tern_config_list_destroy(l);
	resp_free(&resp);
	return err;
}

void tern_config_list_destroy(tern_config_list_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->entries[i].name);
		free(l->entries[i].value);
	}
	free(l->entries);
	free(l);
}

const char *tern_config_list_get(const tern_config_list_t *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->entries[i].name, name) == 0)
			return l->entries[i].value;
	return NULL;
}

tern_err_t tern_admin_alter_configs(tern_admin_t *a, const char *topic,
				    const tern_admin_alter_t *alters, size_t n, char *errstr,
				    size_t errlen)
{
	proto_incremental_alter_config_t *cfg = NULL;
	proto_incremental_alter_configs_resource_t res = {
	    .resource_type = PROTO_RESOURCE_TOPIC,
	    .resource_name = proto_str(topic),
	};
	proto_incremental_alter_configs_req_t m = {.resources = &res, .resources_count = 1};
	proto_incremental_alter_configs_resp_t r;
	admin_resp_t resp;
	proto_buf_t b;
	char what[320];
	tern_err_t err;

	if (!a || !topic || !alters || n == 0 || n > INT32_MAX) {
		seterr(errstr, errlen,
		       "tern_admin_alter_configs: give a topic and at least one "
		       "change");
		return TERN_ERR__INVALID_ARG;
	}
	cfg = calloc(n, sizeof(*cfg));
	if (!cfg) {
		seterr(errstr, errlen, "out of memory");
		return TERN_ERR__NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!alters[i].name || (alters[i].op == TERN_ALTER_SET && !alters[i].value) ||
		    (alters[i].op != TERN_ALTER_SET && alters[i].op != TERN_ALTER_DELETE)) {
			free(cfg);
			seterr(errstr, errlen,
			       "change %zu: a SET needs a key and a value, a DELETE "
			       "a key",
			       i + 1);
			return TERN_ERR__INVALID_ARG;
		}
		cfg[i].name = proto_str(alters[i].name);
		cfg[i].config_operation = (int8_t)alters[i].op;
		cfg[i].value =
		    alters[i].op == TERN_ALTER_SET ? proto_str(alters[i].value) : PROTO_NULL_STR;
	}
	res.configs = cfg;
	res.configs_count = (int32_t)n;
	req_begin(a, &b, PROTO_API_INCREMENTAL_ALTER_CONFIGS, ADMIN_INC_ALTER_VERSION);
	proto_incremental_alter_configs_req_encode(&b, ADMIN_INC_ALTER_VERSION, &m);
	free(cfg);
	err = call_controller(a, &b, PROTO_API_INCREMENTAL_ALTER_CONFIGS, ADMIN_INC_ALTER_VERSION,
			      &resp, errstr, errlen);
	if (err)
		return err;
	err = proto_incremental_alter_configs_resp_decode(&resp.r, ADMIN_INC_ALTER_VERSION, &r);
	if (err)
		return bad_body(&resp, err, PROTO_API_INCREMENTAL_ALTER_CONFIGS, errstr, errlen);
	snprintf(what, sizeof(what), "cannot change the configs of topic '%s'", topic);
	if (r.responses_count != 1) {
		seterr(errstr, errlen, "%s: the broker answered for %d resources", what,
		       r.responses_count);
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		err = result(r.responses[0].error_code, r.responses[0].error_message, what, errstr,
			     errlen);
	}
	resp_free(&resp);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Cluster                                                                    */

/* Whether broker id answers an ApiVersions request. */
static bool broker_alive(tern_admin_t *a, int32_t id)
{
	proto_api_versions_req_t m = {0};
	admin_resp_t resp;
	proto_buf_t b;
	char why[256];

	req_begin(a, &b, PROTO_API_API_VERSIONS, ADMIN_API_VERSIONS_VERSION);
	proto_api_versions_req_encode(&b, ADMIN_API_VERSIONS_VERSION, &m);
	if (call_broker(a, id, &b, PROTO_API_API_VERSIONS, ADMIN_API_VERSIONS_VERSION, &resp, why,
			sizeof(why)) != TERN_OK)
		return false;
	resp_free(&resp);
	return true;
}

static int cmp_broker(const void *x, const void *y)
{
	int32_t a = ((const tern_broker_info_t *)x)->id, b = ((const tern_broker_info_t *)y)->id;

	return (a > b) - (a < b);
}

tern_err_t tern_admin_cluster_info(tern_admin_t *a, tern_cluster_info_t **out, char *errstr,
				   size_t errlen)
{
	proto_metadata_resp_t md;
	tern_cluster_info_t *c = NULL;
	admin_resp_t resp;
	tern_err_t err;

	if (!a || !out) {
		seterr(errstr, errlen, "tern_admin_cluster_info: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	err = metadata(a, NULL, &resp, &md, errstr, errlen);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->brokers = calloc((size_t)md.brokers_count + 1, sizeof(*c->brokers))))
		goto nomem;
	c->controller_id = md.controller_id;
	if (md.cluster_id.len >= 0 && !(c->cluster_id = dupview(md.cluster_id)))
		goto nomem;
	for (int32_t i = 0; i < md.brokers_count; i++) {
		const proto_metadata_broker_t *mb = &md.brokers[i];
		tern_broker_info_t *bi = &c->brokers[c->nbrokers];

		bi->id = mb->node_id;
		bi->port = mb->port;
		bi->host = dupview(mb->host);
		bi->rack = mb->rack.len >= 0 ? dupview(mb->rack) : NULL;
		if (!bi->host || (mb->rack.len >= 0 && !bi->rack)) {
			free(bi->host);
			free(bi->rack);
			goto nomem;
		}
		c->nbrokers++;
	}
	resp_free(&resp);
	qsort(c->brokers, c->nbrokers, sizeof(*c->brokers), cmp_broker);
	for (size_t i = 0; i < c->nbrokers; i++)
		c->brokers[i].alive = broker_alive(a, c->brokers[i].id);
	*out = c;
	return TERN_OK;
nomem:
	resp_free(&resp);
	tern_cluster_info_destroy(c);
	seterr(errstr, errlen, "out of memory");
	return TERN_ERR__NOMEM;
}

void tern_cluster_info_destroy(tern_cluster_info_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbrokers; i++) {
		free(c->brokers[i].host);
		free(c->brokers[i].rack);
	}
	free(c->brokers);
	free(c->cluster_id);
	free(c);
}

static int cmp_cluster_broker(const void *x, const void *y)
{
	int32_t a = ((const tern_cluster_broker_t *)x)->id,
		b = ((const tern_cluster_broker_t *)y)->id;

	return (a > b) - (a < b);
}

tern_err_t tern_admin_describe_cluster(tern_admin_t *a, tern_cluster_description_t **out,
				       char *errstr, size_t errlen)
{
	proto_describe_cluster_req_t m = {0};
	proto_describe_cluster_resp_t r;
	proto_metadata_resp_t md;
	tern_cluster_description_t *c = NULL;
	admin_resp_t resp;
	proto_reader_t body;
	proto_buf_t b;
	tern_err_t err;

	if (!a || !out) {
		seterr(errstr, errlen, "tern_admin_describe_cluster: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	/* The cluster id comes with Metadata. */
	err = metadata(a, NULL, &resp, &md, errstr, errlen);
	if (err)
		goto fail;
	if (md.cluster_id.len >= 0 && !(c->cluster_id = dupview(md.cluster_id))) {
		resp_free(&resp);
		goto nomem;
	}
	resp_free(&resp);
	req_begin(a, &b, PROTO_API_DESCRIBE_CLUSTER, 0);
	proto_describe_cluster_req_encode(&b, 0, &m);
	err = call_any(a, &b, PROTO_API_DESCRIBE_CLUSTER, 0, &resp, errstr, errlen);
	if (err)
		goto fail;
	body = resp.r;
	err = proto_describe_cluster_resp_decode(&resp.r, 0, &r);
	if (err) {
		int16_t code = proto_rd_left(&body) == 2 ? proto_rd_i16(&body) : 0;

		if (code) {
			resp_free(&resp);
			err = (tern_err_t)code;
			seterr(errstr, errlen,
			       "the broker does not answer DescribeCluster: %s (%s)",
			       tern_strerror(err), tern_err_name(err));
			goto fail;
		}
		bad_body(&resp, err, PROTO_API_DESCRIBE_CLUSTER, errstr, errlen);
		goto fail;
	}
	err = result(r.error_code, PROTO_NULL_STR, "cannot describe the cluster", errstr, errlen);
	if (err) {
		resp_free(&resp);
		goto fail;
	}
	c->controller_id = r.controller_id;
	c->brokers = calloc((size_t)r.brokers_count + 1, sizeof(*c->brokers));
	c->offline = calloc((size_t)r.partitions_offline_count + 1, sizeof(*c->offline));
	if (!c->brokers || !c->offline) {
		resp_free(&resp);
		goto nomem;
	}
	for (int32_t i = 0; i < r.brokers_count; i++) {
		tern_cluster_broker_t *d = &c->brokers[c->nbrokers];

		d->id = r.brokers[i].broker_id;
		d->port = r.brokers[i].port;
		d->alive = r.brokers[i].alive;
		d->shutting_down = r.brokers[i].shutting_down;
		d->epoch = r.brokers[i].broker_epoch;
		if (!(d->host = dupview(r.brokers[i].host))) {
			resp_free(&resp);
			goto nomem;
		}
		c->nbrokers++;
	}
	for (int32_t i = 0; i < r.partitions_offline_count; i++) {
		tern_partition_ref_t *d = &c->offline[c->noffline];

		d->partition = r.partitions_offline[i].partition;
		if (!(d->topic = dupview(r.partitions_offline[i].topic))) {
			resp_free(&resp);
			goto nomem;
		}
		c->noffline++;
	}
	resp_free(&resp);
	qsort(c->brokers, c->nbrokers, sizeof(*c->brokers), cmp_cluster_broker);
	*out = c;
	return TERN_OK;
nomem:
	seterr(errstr, errlen, "out of memory");
	err = TERN_ERR__NOMEM;
fail:
	tern_cluster_description_destroy(c);
	return err;
}

void tern_cluster_description_destroy(tern_cluster_description_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbrokers; i++)
		free(c->brokers[i].host);
	for (size_t i = 0; i < c->noffline; i++)
		free(c->offline[i].topic);
	free(c->brokers);
	free(c->offline);
	free(c->cluster_id);
	free(c);
}

/* ------------------------------------------------------------------------ */
/* Leader elections                                                           */

tern_err_t tern_admin_elect_leaders(tern_admin_t *a, tern_election_type_t type,
				    const tern_topic_partition_t *partitions, size_t n,
				    tern_election_results_t **out, char *errstr, size_t errlen)
{
	proto_topic_partition_ids_t *tp = NULL;
	int32_t *ids = NULL;
	proto_elect_leaders_req_t m = {.election_type = (int8_t)type, .topic_partitions_count = -1};
	proto_elect_leaders_resp_t r;
	tern_election_results_t *res = NULL;
	admin_resp_t resp;
	proto_buf_t b;
	size_t total = 0;
	tern_err_t err;

	if (!a || !out || (partitions && (n == 0 || n > INT32_MAX)) ||
	    (type != TERN_ELECTION_PREFERRED && type != TERN_ELECTION_UNCLEAN)) {
		seterr(errstr, errlen, "tern_admin_elect_leaders: bad argument");
		return TERN_ERR__INVALID_ARG;
	}
	if (partitions) {
		/* One element per topic, its partitions in the order given. */
		tp = calloc(n, sizeof(*tp));
		ids = calloc(n, sizeof(*ids));
		if (!tp || !ids)
			goto nomem;
		m.topic_partitions_count = 0;
		for (size_t i = 0; i < n; i++) {
			int32_t k;

			if (!partitions[i].topic) {
				free(tp);
				free(ids);
				seterr(errstr, errlen,
				       "tern_admin_elect_leaders: partition %zu has no topic",
				       i + 1);
				return TERN_ERR__INVALID_ARG;
			}
			for (k = 0; k < m.topic_partitions_count; k++)
				if (proto_str_eq(tp[k].topic, partitions[i].topic))
					break;
			if (k == m.topic_partitions_count) {
				tp[k].topic = proto_str(partitions[i].topic);
				m.topic_partitions_count++;
			}
		}
		/* ids grouped by topic, in the order the topics came. */
		for (int32_t k = 0; k < m.topic_partitions_count; k++) {
			tp[k].partitions = ids + total;
			for (size_t i = 0; i < n; i++)
				if (proto_str_eq(tp[k].topic, partitions[i].topic))
					ids[total + (size_t)tp[k].partitions_count++] =
					    partitions[i].partition;
			total += (size_t)tp[k].partitions_count;
		}
		m.topic_partitions = tp;
	}
	m.timeout_ms = a->topts.request_timeout_ms;
	req_begin(a, &b, PROTO_API_ELECT_LEADERS, ADMIN_ELECT_VERSION);
	proto_elect_leaders_req_encode(&b, ADMIN_ELECT_VERSION, &m);
	free(tp);
	free(ids);
	tp = NULL;
	ids = NULL;
	err = call_controller(a, &b, PROTO_API_ELECT_LEADERS, ADMIN_ELECT_VERSION, &resp, errstr,
			      errlen);
	if (err)
		return err;
	err = proto_elect_leaders_resp_decode(&resp.r, ADMIN_ELECT_VERSION, &r);
	if (err)
		return bad_body(&resp, err, PROTO_API_ELECT_LEADERS, errstr, errlen);
	err = result(r.error_code, PROTO_NULL_STR, "the controller refused the election", errstr,
		     errlen);
	if (err) {
		resp_free(&resp);
		return err;
	}
	total = 0;
	for (int32_t i = 0; i < r.replica_election_results_count; i++)
		if (r.replica_election_results[i].partition_results_count > 0)
			total += (size_t)r.replica_election_results[i].partition_results_count;
	res = calloc(1, sizeof(*res));
	if (!res || !(res->results = calloc(total + 1, sizeof(*res->results)))) {
		resp_free(&resp);
		goto nomem;
	}
	for (int32_t i = 0; i < r.replica_election_results_count; i++) {
		const proto_elect_leaders_topic_result_t *tr = &r.replica_election_results[i];

		for (int32_t j = 0; j < tr->partition_results_count; j++) {
			const proto_elect_leaders_partition_result_t *pr =
			    &tr->partition_results[j];
			tern_election_result_t *d = &res->results[res->n];

			d->partition = pr->partition_id;
			d->err = (tern_err_t)pr->error_code;
			d->topic = dupview(tr->topic);
			d->message = pr->error_message.len > 0 ? dupview(pr->error_message) : NULL;
			if (!d->topic || (pr->error_message.len > 0 && !d->message)) {
				free(d->topic);
				free(d->message);
				resp_free(&resp);
				goto nomem;
			}
			res->n++;
		}
	}
	resp_free(&resp);
	*out = res;
	return TERN_OK;
nomem:
	free(tp);
	free(ids);
	tern_election_results_destroy(res);
	seterr(errstr, errlen, "out of memory");
	return TERN_ERR__NOMEM;
}

void tern_election_results_destroy(tern_election_results_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->results[i].topic);
		free(r->results[i].message);
	}
	free(r->results);
	free(r);
}
