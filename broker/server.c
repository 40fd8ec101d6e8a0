/* broker/server.c: the broker's life (open, start, stop), the request
 * workers and their dispatch by API key, the timer thread, and the two
 * cluster-level APIs: ApiVersions and Metadata. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker_int.h"

void bk_log(char level, const char *id, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char line[1024];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c [%s] %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		level, id, line);
}

void bk_kick(broker_t *b)
{
	pthread_mutex_lock(&b->park_mu);
	b->kick = true;
	pthread_cond_signal(&b->park_cond);
	pthread_mutex_unlock(&b->park_mu);
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                  */

void bk_resp_begin(const bk_req_t *q, proto_buf_t *out)
{
	proto_resp_hdr_t h = {.correlation_id = q->hdr.correlation_id};

	proto_buf_init(out);
	proto_resp_hdr_encode(out, q->hdr.api_key, q->hdr.api_version, &h);
}

void bk_resp_send(const bk_req_t *q, proto_buf_t *out)
{
	tern_err_t err;

	if (out->oom) {
		bk_log('E', "resp", "%s v%d: could not encode the response (out of memory)",
		       proto_api_name(q->hdr.api_key), q->hdr.api_version);
		proto_server_drop(q->msg);
	} else {
		err = proto_server_reply(q->srv, q->msg, out->p, out->len);
		if (err)
			bk_log('W', "resp", "%s: reply not sent: %s",
			       proto_api_name(q->hdr.api_key), tern_strerror(err));
	}
	proto_buf_free(out);
}

void bk_reply_error(const bk_req_t *q, tern_err_t err)
{
	proto_buf_t out;

	bk_resp_begin(q, &out);
	proto_wr_i16(&out, (int16_t)err);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* ApiVersions and Metadata                                                   */

static void api_versions_reply(const bk_req_t *q, int16_t version, tern_err_t code)
{
	proto_api_version_t keys[64];
	proto_api_versions_resp_t m = {.error_code = (int16_t)code, .api_keys = keys};
	size_t n, i;
	const proto_api_info_t *t = proto_api_table(&n);
	proto_resp_hdr_t h = {.correlation_id = q->hdr.correlation_id};
	proto_buf_t out;

	for (i = 0; i < n && i < 64; i++) {
		keys[i].api_key = t[i].key;
		keys[i].min_version = t[i].min_version;
		keys[i].max_version = t[i].max_version;
	}
	m.api_keys_count = (int32_t)i;
	proto_buf_init(&out);
	proto_resp_hdr_encode(&out, PROTO_API_API_VERSIONS, version, &h);
	proto_api_versions_resp_encode(&out, version, &m);
	bk_resp_send(q, &out);
}

static void handle_api_versions(bk_req_t *q)
{
	proto_api_versions_req_t req;

	if (proto_api_versions_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK)
		api_versions_reply(q, q->hdr.api_version, TERN_ERR_INVALID_REQUEST);
	else
		api_versions_reply(q, q->hdr.api_version, TERN_OK);
}

/* host and port of a checked tcp://HOST:PORT (into host, hostlen). */
static void split_url(const char *url, char *host, size_t hostlen, int32_t *port)
{
	const char *h = strstr(url, "://");
	const char *colon;

	h = h ? h + 3 : url;
	colon = strrchr(h, ':');
	if (!colon) {
		snprintf(host, hostlen, "%s", h);
		*port = 0;
		return;
	}
	snprintf(host, hostlen, "%.*s", (int)(colon - h), h);
	*port = (int32_t)strtol(colon + 1, NULL, 10);
}

void bk_self_address(const broker_t *b, char *host, size_t hostlen, int32_t *port)
{
	const char *addr =
	    b->cfg->advertised_listeners.n ? b->cfg->advertised_listeners.v[0] : b->listeners[0];

	split_url(addr, host, hostlen, port);
}

/* Metadata of topic t into mt (arrays from the request's arena), from the
 * latest cluster image. topics_lock held. */
static void describe_topic(bk_req_t *q, bk_topic_t *t, proto_metadata_topic_t *mt)
{
	proto_metadata_partition_t *mp = proto_arena_alloc(q->arena, (size_t)t->npart, sizeof *mp);

	mt->name = proto_str(t->name);
	mt->is_internal = t->internal;
	mt->topic_authorized_operations = INT32_MIN;
	if (!mp) {
		mt->error_code = TERN_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (int32_t i = 0; i < t->npart; i++) {
		const isr_leader_and_isr_t *st = &t->state[i].st;
		int32_t *off = proto_arena_alloc(q->arena, ISR_MAX_REPLICAS, sizeof *off);
		int32_t noff = 0;

		mp[i].partition_index = i;
		mp[i].leader_id = st->leader;
		mp[i].leader_epoch = st->leader_epoch;
		mp[i].replica_nodes = st->replicas;
		mp[i].replica_nodes_count = st->nreplicas;
		mp[i].isr_nodes = st->isr.id;
		mp[i].isr_nodes_count = st->isr.n;
		/* Replicas whose broker is not alive (Metadata v5+). */
		for (int32_t k = 0; off && k < st->nreplicas; k++) {
			bool alive = false;

			for (size_t j = 0; j < q->b->npeers; j++)
				if (q->b->peers[j].id == st->replicas[k])
					alive = q->b->peers[j].alive;
			if (!alive)
				off[noff++] = st->replicas[k];
		}
		mp[i].offline_replicas = off;
		mp[i].offline_replicas_count = off ? noff : 0;
		if (st->leader == ISR_NO_LEADER)
			mp[i].error_code = TERN_ERR_LEADER_NOT_AVAILABLE;
	}
	mt->partitions = mp;
	mt->partitions_count = t->npart;
}

void bk_handle_metadata(bk_req_t *q)
{
	broker_t *b = q->b;
	proto_metadata_req_t req;
	proto_metadata_resp_t m = {0};
	proto_metadata_broker_t self = {0};
	proto_metadata_topic_t *mt;
	proto_metadata_broker_t *brokers;
	char host[256], why[256];
	int32_t i, n;
	tern_err_t err;
	proto_buf_t out;

	if (proto_metadata_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	/* Topics asked for by name that do not exist are created with the
	 * defaults when both the broker and the client allow it. */
	if (req.topics_count > 0 && req.allow_auto_topic_creation &&
	    b->cfg->auto_create_topics_enable) {
		for (i = 0; i < req.topics_count; i++) {
			proto_str_t s = req.topics[i];
			char name[256];
			bool exists;

			if (s.len < 0 || s.len > 249 ||
			    !broker_topic_name_valid(s.s, (size_t)s.len, why, sizeof why) ||
			    proto_str_eq(s, BK_OFFSETS_TOPIC))
				continue;
			pthread_rwlock_rdlock(&b->topics_lock);
			exists = bk_topic_find(b, s.s, (size_t)s.len) != NULL;
			pthread_rwlock_unlock(&b->topics_lock);
			if (exists)
				continue;
			proto_str_copy(s, name, sizeof name);
			err = bk_cluster_create_topic(b, name, -1, -1, NULL, 0, why, sizeof why);
			if (err && err != TERN_ERR_TOPIC_ALREADY_EXISTS)
				bk_log('W', "topic", "auto-creating %s: %s (%s)", name,
				       tern_strerror(err), why);
		}
	}

	pthread_rwlock_rdlock(&b->topics_lock);
	bk_self_address(b, host, sizeof host, &self.port);
	self.node_id = b->cfg->broker_id;
	self.host = proto_str(host);
	self.rack = PROTO_NULL_STR;
	/* The live brokers of the image (this one always: it answers). */
	brokers = proto_arena_alloc(q->arena, b->npeers + 1, sizeof *brokers);
	m.brokers = brokers ? brokers : &self;
	m.brokers_count = 1;
	if (brokers) {
		brokers[0] = self;
		for (size_t j = 0; j < b->npeers; j++) {
			const bk_peer_t *pe = &b->peers[j];

			if (!pe->alive || pe->id == self.node_id)
				continue;
			brokers[m.brokers_count].node_id = pe->id;
			brokers[m.brokers_count].host = proto_str(pe->host);
			brokers[m.brokers_count].port = pe->port;
			brokers[m.brokers_count].rack = PROTO_NULL_STR;
			m.brokers_count++;
		}
	}
	m.cluster_id = proto_str(b->cluster_id);
	/* As in KRaft mode, clients are told this broker is the controller:
	 * it forwards what the controller answers (docs/broker.md). */
	m.controller_id = b->cfg->broker_id;
	m.cluster_authorized_operations = INT32_MIN;
	n = req.topics_count < 0 ? (int32_t)b->ntopics : req.topics_count;
	mt = proto_arena_alloc(q->arena, n > 0 ? (size_t)n : 1, sizeof *mt);
	if (!mt) {
		pthread_rwlock_unlock(&b->topics_lock);
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (i = 0; i < n; i++) {
		bk_topic_t *t;

		if (req.topics_count < 0) {
			describe_topic(q, b->topics[i], &mt[i]);
			continue;
		}
		mt[i].name = req.topics[i];
		mt[i].topic_authorized_operations = INT32_MIN;
		t = req.topics[i].len < 0
			? NULL
			: bk_topic_find(b, req.topics[i].s, (size_t)req.topics[i].len);
		if (t)
			describe_topic(q, t, &mt[i]);
		else if (req.topics[i].len < 0 ||
			 !broker_topic_name_valid(req.topics[i].s, (size_t)req.topics[i].len, why,
						  sizeof why))
			mt[i].error_code = TERN_ERR_INVALID_TOPIC_EXCEPTION;
		else
			mt[i].error_code = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	m.topics = mt;
	m.topics_count = n;
	bk_resp_begin(q, &out);
	proto_metadata_resp_encode(&out, q->hdr.api_version, &m);
	pthread_rwlock_unlock(&b->topics_lock);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                    */

typedef struct worker_arg {
	broker_t *b;
	proto_server_t *srv;
} worker_arg_t;

static void dispatch(bk_req_t *q)
{
	switch (q->hdr.api_key) {
	case PROTO_API_API_VERSIONS:
		handle_api_versions(q);
		break;
	case PROTO_API_METADATA:
		bk_handle_metadata(q);
		break;
	case PROTO_API_CREATE_TOPICS:
		bk_handle_create_topics(q);
		break;
	case PROTO_API_DELETE_TOPICS:
		bk_handle_delete_topics(q);
		break;
	case PROTO_API_DESCRIBE_CONFIGS:
		bk_handle_describe_configs(q);
		break;
	case PROTO_API_ALTER_CONFIGS:
		bk_handle_alter_configs(q);
		break;
	case PROTO_API_INCREMENTAL_ALTER_CONFIGS:
		bk_handle_incremental_alter_configs(q);
		break;
	case PROTO_API_PRODUCE:
		bk_handle_produce(q);
		break;
	case PROTO_API_FETCH:
		bk_handle_fetch(q);
		break;
	case PROTO_API_LIST_OFFSETS:
		bk_handle_list_offsets(q);
		break;
	case PROTO_API_INIT_PRODUCER_ID:
		bk_handle_init_producer_id(q);
		break;
	case PROTO_API_FIND_COORDINATOR:
		bk_handle_find_coordinator(q);
		break;
	case PROTO_API_OFFSET_COMMIT:
		bk_handle_offset_commit(q);
		break;
	case PROTO_API_OFFSET_FETCH:
		bk_handle_offset_fetch(q);
		break;
	case PROTO_API_ELECT_LEADERS:
		bk_handle_elect_leaders(q);
		break;
	case PROTO_API_OFFSET_FOR_LEADER_EPOCH:
		bk_handle_offset_for_leader_epoch(q);
		break;
	case PROTO_API_DESCRIBE_PARTITIONS:
		bk_handle_describe_partitions(q);
		break;
	case PROTO_API_DESCRIBE_CLUSTER:
		bk_handle_describe_cluster(q);
		break;
	default:
		if (ctl_handles(q->hdr.api_key) && bk_ctl_is_local(q->b)) {
			/* A broker elsewhere asks the controller in this process. */
			bk_serve_controller(q);
			break;
		}
		bk_reply_error(q, TERN_ERR_UNSUPPORTED_VERSION);
		break;
	}
}

void bk_serve_controller(bk_req_t *q)
{
	const uint8_t *data;
	uint8_t *resp = NULL;
	size_t len, rlen = 0;
	tern_err_t err;

	data = proto_srv_msg_data(q->msg, &len);
	err = bk_ctl_local_handle(q->b, data, len, &resp, &rlen);
	if (err || !resp) {
		proto_server_drop(q->msg);
		free(resp);
		return;
	}
	err = proto_server_reply(q->srv, q->msg, resp, rlen);
	if (err)
		bk_log('W', "resp", "%s: reply not sent: %s", proto_api_name(q->hdr.api_key),
		       tern_strerror(err));
	free(resp);
}

static void serve_one(broker_t *b, proto_server_t *srv, proto_srv_msg_t *msg)
{
	proto_limits_t lim;
	proto_arena_t *arena;
	bk_req_t q = {.b = b, .srv = srv, .msg = msg, .lim = &lim, .t0_us = bk_now_us()};
	const uint8_t *data;
	size_t len;
	tern_err_t err;

	data = proto_srv_msg_data(msg, &len);
	proto_limits_default(&lim);
	lim.max_frame = (size_t)b->cfg->socket_request_max_bytes;
	arena = malloc(sizeof *arena);
	if (!arena) {
		proto_server_drop(msg);
		return;
	}
	proto_arena_init(arena, len * PROTO_ARENA_FACTOR + 4096);
	q.arena = arena;
	proto_reader_init(&q.rd, data, len, &lim, arena);
	err = proto_req_hdr_decode(&q.rd, &q.hdr);
	if (err == TERN_ERR_INVALID_REQUEST ||
	    (err == TERN_OK && q.hdr.correlation_id != proto_srv_msg_request_id(msg))) {
		/* Not a request (no header to answer, or one that disagrees
		 * with its frame): nothing can be answered. The client's
		 * deadline ends its wait. */
		bk_log('W', "req", "dropped a malformed request of %zu bytes", len);
		proto_server_drop(msg);
	} else if (err == TERN_ERR_UNSUPPORTED_VERSION) {
		if (q.hdr.api_key == PROTO_API_API_VERSIONS)
			api_versions_reply(&q, 0, TERN_ERR_UNSUPPORTED_VERSION);
		else
			bk_reply_error(&q, TERN_ERR_UNSUPPORTED_VERSION);
	} else if (err) {
		bk_reply_error(&q, TERN_ERR_INVALID_REQUEST);
	} else {
		dispatch(&q);
	}
	if (q.arena) {
		proto_arena_free(q.arena);
		free(q.arena);
	}
}

static void *worker_main(void *arg)
{
	worker_arg_t *w = arg;
	broker_t *b = w->b;

	while (!atomic_load(&b->stopping)) {
		proto_srv_msg_t *msg;
		tern_err_t err = proto_server_recv(w->srv, 100, &msg);

		if (err == TERN_ERR__TIMED_OUT)
			continue;
		if (err) {
			bk_log('E', "recv", "receiving a request: %s", tern_strerror(err));
			usleep(10000);
			continue;
		}
		serve_one(b, w->srv, msg);
	}
	free(w);
	return NULL;
}

/* The timer: produce timeouts (isr_tick) and long polls. */
static void *timer_main(void *arg)
{
	broker_t *b = arg;
	int64_t next_tick = proto_now_ms() + BK_TICK_MS;

	while (!atomic_load(&b->stopping)) {
		struct timespec ts;
		int64_t now;

		pthread_mutex_lock(&b->park_mu);
		if (!b->kick) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += BK_TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&b->park_cond, &b->park_mu, &ts);
		}
		b->kick = false;
		pthread_mutex_unlock(&b->park_mu);
		now = proto_now_ms();
		if (now >= next_tick) {
			next_tick = now + BK_TICK_MS;
			/* Broker sessions end on the controller's clock. */
			bk_ctl_local_tick(b, now);
			pthread_rwlock_rdlock(&b->topics_lock);
			for (size_t i = 0; i < b->ntopics; i++)
				for (int32_t j = 0; j < b->topics[i]->npart; j++)
					if (b->topics[i]->parts[j])
						bk_part_tick(b, b->topics[i]->parts[j], now);
			pthread_rwlock_unlock(&b->topics_lock);
		}
		bk_fetch_retry_parked(b, false);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life                                                                       */

bool broker_is_controller_only(const broker_t *b)
{
	for (size_t i = 0; i < b->cfg->process_roles.n; i++)
		if (strcmp(b->cfg->process_roles.v[i], "broker") == 0)
			return false;
	return true;
}

const char *broker_data_dir(const broker_t *b)
{
	return b->data_dir;
}

size_t broker_listener_count(const broker_t *b)
{
	return b->nservers;
}

const char *broker_listener(const broker_t *b, size_t i)
{
	return i < b->nservers ? b->listeners[i] : NULL;
}

static void broker_free(broker_t *b)
{
	for (size_t i = 0; i < b->nservers; i++) {
		if (b->servers[i])
			proto_server_close(b->servers[i]);
		free(b->listeners[i]);
	}
	free(b->servers);
	free(b->listeners);
	free(b->workers);
	free(b->data_dir);
	free(b->peers);
	bk_stats_close(b);
	bk_offsets_free(b);
	pthread_rwlock_destroy(&b->topics_lock);
	pthread_mutex_destroy(&b->pid_mu);
	pthread_mutex_destroy(&b->throttle_mu);
	pthread_mutex_destroy(&b->park_mu);
	pthread_cond_destroy(&b->park_cond);
	free(b);
}

tern_err_t broker_open(const broker_config_t *cfg, broker_t **out, char *errstr, size_t errlen)
{
	proto_transport_opts_t topts;
	log_dir_opts_t dopts = {0};
	broker_t *b;
	tern_err_t err;
	size_t i;

	if (cfg->log_dirs.n != 1) {
		snprintf(errstr, errlen,
			 "log.dirs: %zu directories given; this broker uses exactly one",
			 cfg->log_dirs.n);
		return TERN_ERR_INVALID_CONFIG;
	}
	b = calloc(1, sizeof *b);
	if (!b)
		return TERN_ERR__NOMEM;
	b->cfg = cfg;
	pthread_rwlock_init(&b->topics_lock, NULL);
	pthread_mutex_init(&b->pid_mu, NULL);
	pthread_mutex_init(&b->throttle_mu, NULL);
	pthread_mutex_init(&b->park_mu, NULL);
	pthread_cond_init(&b->park_cond, NULL);
	atomic_init(&b->stopping, false);
	atomic_init(&b->token_seq, 1);

	if (mkdir(cfg->log_dirs.v[0], 0755) != 0 && errno != EEXIST) {
		snprintf(errstr, errlen, "log.dirs: cannot create %s: %s", cfg->log_dirs.v[0],
			 strerror(errno));
		err = tern_err_errno(errno);
		goto fail;
	}
	b->data_dir = realpath(cfg->log_dirs.v[0], NULL);
	if (!b->data_dir) {
		snprintf(errstr, errlen, "log.dirs: %s: %s", cfg->log_dirs.v[0], strerror(errno));
		err = TERN_ERR__NOMEM;
		goto fail;
	}
	err = bk_stats_open(b, errstr, errlen);
	if (err)
		goto fail;
	bk_stats_fsync_hook(b, &dopts);
	dopts.path = b->data_dir;
	dopts.writer_threads = cfg->log_writer_threads;
	dopts.max_open_files = cfg->log_max_open_files;
	err = log_dir_open(&dopts, &b->dir, errstr, errlen);
	if (err)
		goto fail;

	proto_transport_opts_default(&topts);
	topts.max_request_bytes = (size_t)cfg->socket_request_max_bytes;
	b->nservers = cfg->listeners.n;
	b->servers = calloc(b->nservers, sizeof *b->servers);
	b->listeners = calloc(b->nservers, sizeof *b->listeners);
	if (!b->servers || !b->listeners) {
		err = TERN_ERR__NOMEM;
		goto fail_dir;
	}
	for (i = 0; i < b->nservers; i++) {
		b->listeners[i] = strdup(cfg->listeners.v[i]);
		if (!b->listeners[i]) {
			err = TERN_ERR__NOMEM;
			goto fail_dir;
		}
		err = proto_server_new(cfg->listeners.v[i], &topts, &b->servers[i], errstr, errlen);
		if (err)
			goto fail_dir;
	}
	/* Listening (so a port in use stops start-up before anything
	 * else), but serving only once the cluster image is here. */
	err = bk_cluster_open(b, errstr, errlen);
	if (!err)
		err = bk_offsets_open(b, errstr, errlen);
	if (err)
		goto fail_dir;
	bk_stats_serve(b);
	*out = b;
	return TERN_OK;

fail_dir:
	/* Closing (not abandoning) keeps what recovery did, and marks the
	 * directory clean only if every log closed. */
	bk_replica_stop(b);
	bk_topics_close(b);
	bk_cluster_close(b);
	log_dir_close(b->dir);
fail:
	broker_free(b);
	return err;
}

tern_err_t broker_start(broker_t *b)
{
	size_t per = (size_t)b->cfg->num_io_threads;
	tern_err_t err;
	int rc;

	b->workers = calloc(per * b->nservers, sizeof *b->workers);
	if (!b->workers)
		return TERN_ERR__NOMEM;
	rc = pthread_create(&b->timer, NULL, timer_main, b);
	if (rc)
		return tern_err_errno(rc);
	b->timer_started = true;
	err = bk_offsets_start(b);
	if (!err)
		err = bk_cluster_start(b);
	if (err)
		return err;
	for (size_t s = 0; s < b->nservers; s++) {
		for (size_t i = 0; i < per; i++) {
			worker_arg_t *w = malloc(sizeof *w);

			if (!w)
				return TERN_ERR__NOMEM;
			w->b = b;
			w->srv = b->servers[s];
			rc = pthread_create(&b->workers[b->nworkers], NULL, worker_main, w);
			if (rc) {
				free(w);
				return tern_err_errno(rc);
			}
			b->nworkers++;
		}
	}
	return TERN_OK;
}

tern_err_t broker_stop(broker_t *b)
{
	tern_err_t err, e;

	/* Leadership moves off this broker while it still serves. */
	bk_cluster_shutdown(b);
	bk_replica_stop(b);
	atomic_store(&b->stopping, true);
	for (size_t i = 0; i < b->nworkers; i++)
		pthread_join(b->workers[i], NULL);
	/* The cleaner may be waiting for a snapshot's acknowledgement, which
	 * the timer times out: it stops first. */
	bk_offsets_stop(b);
	bk_kick(b);
	if (b->timer_started)
		pthread_join(b->timer, NULL);
	/* Long polls are answered now with what they have; produce requests
	 * once their appends are durable (log_close waits for them). */
	bk_fetch_retry_parked(b, true);
	pthread_rwlock_wrlock(&b->topics_lock);
	err = bk_topics_close(b);
	pthread_rwlock_unlock(&b->topics_lock);
	bk_cluster_close(b);
	e = log_dir_close(b->dir);
	if (e && !err)
		err = e;
	broker_free(b);
	return err;
}
