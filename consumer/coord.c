/* consumer/coord.c: the group coordinator: found with FindCoordinator v2 on
 * a bootstrap server, then OffsetCommit v7 and OffsetFetch v5 on a
 * connection to it. A coordinator that moved or is loading is found again
 * and the request retried with backoff until the caller's deadline.
 *
 * Called from the fetcher thread (stored offsets, automatic and
 * asynchronous commits) and from the application thread (synchronous
 * commits, committed()), never with c->lock held; coord_lock serialises
 * them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/consumer_int.h"

void cons_coord_free(tern_consumer_t *c)
{
	if (c->coord_pool)
		proto_pool_close(c->coord_pool);
	c->coord_pool = NULL;
	free(c->coord_url);
	c->coord_url = NULL;
	c->coord_id = -1;
}

/* Whether err means "ask FindCoordinator again". */
static bool coord_moved(tern_err_t err)
{
	return err == TERN_ERR_NOT_COORDINATOR || err == TERN_ERR_COORDINATOR_NOT_AVAILABLE ||
	       err == TERN_ERR_NETWORK_EXCEPTION || err == TERN_ERR_REQUEST_TIMED_OUT;
}

/* Finds the coordinator and opens a pool to it. Locks: coord_lock held. */
static tern_err_t coord_find(tern_consumer_t *c)
{
	proto_find_coordinator_req_t m = {proto_str(c->cfg->group_id), PROTO_COORDINATOR_GROUP};
	proto_find_coordinator_resp_t fr;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	uint8_t *resp = NULL;
	size_t len;
	char host[256], url[300], why[200];
	tern_err_t err;

	if (c->coord_pool)
		return TERN_OK;
	cons_req_header(c, &b, PROTO_API_FIND_COORDINATOR, CONS_FIND_COORD_VERSION);
	proto_find_coordinator_req_encode(&b, CONS_FIND_COORD_VERSION, &m);
	if (b.oom) {
		proto_buf_free(&b);
		return TERN_ERR__NOMEM;
	}
	err = cons_bootstrap_call(c, &b, &resp, &len);
	proto_buf_free(&b);
	if (err)
		return err;
	proto_limits_default(&lim);
	err = cons_resp_open(&r, &a, &lim, resp, len, PROTO_API_FIND_COORDINATOR,
			     CONS_FIND_COORD_VERSION);
	if (!err)
		err = proto_find_coordinator_resp_decode(&r, CONS_FIND_COORD_VERSION, &fr);
	if (!err)
		err = (tern_err_t)fr.error_code;
	if (!err) {
		proto_str_copy(fr.host, host, sizeof(host));
		snprintf(url, sizeof(url), "tcp://%s:%d", host, fr.port);
		err = proto_pool_new(url, 1, &c->topts, &c->coord_pool, why, sizeof(why));
		if (err) {
			cons_log(c, TERN_LOG_WARNING, "COORD", "coordinator %d at %s: %s",
				 fr.node_id, url, why);
		} else {
			c->coord_id = fr.node_id;
			c->coord_url = strdup(url);
			cons_log(c, TERN_LOG_DEBUG, "COORD", "group %s: coordinator %d at %s",
				 c->cfg->group_id, fr.node_id, url);
		}
	} else {
		cons_log(c, TERN_LOG_INFO, "COORD", "FindCoordinator for group %s: %s",
			 c->cfg->group_id, tern_err_name(err));
	}
	proto_arena_free(&a);
	proto_msg_free(resp);
	return err;
}

/* Sends b to the coordinator and decodes the response header; *resp and
 * *a are the caller's to free on success. Retries through coordinator
 * moves until deadline_ms. Locks: coord_lock held. */
static tern_err_t coord_call(tern_consumer_t *c, const proto_buf_t *b, int16_t key, int16_t ver,
			     int64_t deadline_ms, uint8_t **resp, proto_reader_t *r,
			     proto_arena_t *a, const proto_limits_t *lim)
{
	tern_err_t err;
	size_t len;

	for (;;) {
		err = coord_find(c);
		if (!err) {
			err = proto_conn_call(proto_pool_conn(c->coord_pool, 0), b->p, b->len,
					      deadline_ms, resp, &len);
			if (!err) {
				err = cons_resp_open(r, a, lim, *resp, len, key, ver);
				if (!err)
					return TERN_OK;
				proto_arena_free(a);
				proto_msg_free(*resp);
				*resp = NULL;
				return err;
			}
			cons_coord_free(c);
		}
		if (!coord_moved(err) && !tern_err_is_retriable(err))
			return err;
		if (proto_now_ms() + c->cfg->retry_backoff_ms >= deadline_ms)
			return err;
		usleep((useconds_t)c->cfg->retry_backoff_ms * 1000);
	}
}

/* Groups items by topic into the request's topic and partition arrays. */
static tern_err_t commit_once(tern_consumer_t *c, const cons_commit_item_t *items, size_t n,
			      int64_t deadline_ms, tern_err_t *perr)
{
	proto_offset_commit_topic_t *topics = calloc(n, sizeof(*topics));
	proto_offset_commit_partition_t *parts = calloc(n, sizeof(*parts));
	proto_offset_commit_req_t m = {0};
	proto_offset_commit_resp_t cr;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	uint8_t *resp = NULL;
	size_t nt = 0, i, k, at = 0;
	tern_err_t err;

	*perr = TERN_OK;
	if (!topics || !parts) {
		free(topics);
		free(parts);
		return TERN_ERR__NOMEM;
	}
	/* Partitions of one topic sit together in parts[]. */
	for (i = 0; i < n; i++) {
		const char *t = items[i].part->topic;

		for (k = 0; k < nt; k++)
			if (proto_str_eq(topics[k].name, t))
				break;
		if (k < nt)
			continue;
		topics[nt].name = proto_str(t);
		topics[nt].partitions = &parts[at];
		for (size_t j = i; j < n; j++) {
			if (strcmp(items[j].part->topic, t) != 0)
				continue;
			parts[at++] = (proto_offset_commit_partition_t){
			    .partition_index = items[j].part->id,
			    .committed_offset = items[j].offset,
			    .committed_leader_epoch = items[j].leader_epoch,
			    .committed_metadata = PROTO_STR(""),
			};
			topics[nt].partitions_count++;
		}
		nt++;
	}
	m.group_id = proto_str(c->cfg->group_id);
	m.generation_id = -1;
	m.member_id = PROTO_STR("");
	m.group_instance_id = PROTO_NULL_STR;
	m.retention_time_ms = -1;
	m.topics = topics;
	m.topics_count = (int32_t)nt;
	cons_req_header(c, &b, PROTO_API_OFFSET_COMMIT, CONS_OFFSET_COMMIT_VERSION);
	proto_offset_commit_req_encode(&b, CONS_OFFSET_COMMIT_VERSION, &m);
	free(topics);
	free(parts);
	if (b.oom) {
		proto_buf_free(&b);
		return TERN_ERR__NOMEM;
	}
	proto_limits_default(&lim);
	err = coord_call(c, &b, PROTO_API_OFFSET_COMMIT, CONS_OFFSET_COMMIT_VERSION, deadline_ms,
			 &resp, &r, &a, &lim);
	proto_buf_free(&b);
	if (err)
		return err;
	err = proto_offset_commit_resp_decode(&r, CONS_OFFSET_COMMIT_VERSION, &cr);
	for (i = 0; !err && i < (size_t)cr.topics_count; i++)
		for (k = 0; k < (size_t)cr.topics[i].partitions_count; k++)
			if (cr.topics[i].partitions[k].error_code && !*perr)
				*perr = (tern_err_t)cr.topics[i].partitions[k].error_code;
	proto_arena_free(&a);
	proto_msg_free(resp);
	return err;
}

tern_err_t cons_commit_items(tern_consumer_t *c, cons_commit_item_t *items, size_t n,
			     int64_t deadline_ms)
{
	tern_err_t err, perr = TERN_OK;
	size_t i;

	pthread_mutex_lock(&c->coord_lock);
	for (;;) {
		err = commit_once(c, items, n, deadline_ms, &perr);
		if (!err)
			err = perr;
		if (coord_moved(err))
			cons_coord_free(c);
		if (!err || !tern_err_is_retriable(err) ||
		    proto_now_ms() + c->cfg->retry_backoff_ms >= deadline_ms)
			break;
		usleep((useconds_t)c->cfg->retry_backoff_ms * 1000);
	}
	pthread_mutex_unlock(&c->coord_lock);
	if (err) {
		cons_log(c, TERN_LOG_WARNING, "COMMIT", "commit of %zu partitions failed: %s", n,
			 tern_err_name(err));
		return err;
	}
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++)
		items[i].part->committed = items[i].offset;
	pthread_mutex_unlock(&c->lock);
	return TERN_OK;
}

static tern_err_t fetch_committed_once(tern_consumer_t *c, const char *const *topics,
				       const int32_t *ids, size_t n, int64_t deadline_ms,
				       int64_t *out)
{
	proto_topic_partition_ids_t *ts = calloc(n, sizeof(*ts));
	int32_t *pids = calloc(n, sizeof(*pids));
	proto_offset_fetch_req_t m = {0};
	proto_offset_fetch_resp_t fr;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	uint8_t *resp = NULL;
	size_t nt = 0, at = 0, i, k;
	tern_err_t err;

	if (!ts || !pids) {
		free(ts);
		free(pids);
		return TERN_ERR__NOMEM;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < nt; k++)
			if (proto_str_eq(ts[k].topic, topics[i]))
				break;
		if (k < nt)
			continue;
		ts[nt].topic = proto_str(topics[i]);
		ts[nt].partitions = &pids[at];
		for (size_t j = i; j < n; j++)
			if (strcmp(topics[j], topics[i]) == 0) {
				pids[at++] = ids[j];
				ts[nt].partitions_count++;
			}
		nt++;
	}
	m.group_id = proto_str(c->cfg->group_id);
	m.topics = ts;
	m.topics_count = (int32_t)nt;
	cons_req_header(c, &b, PROTO_API_OFFSET_FETCH, CONS_OFFSET_FETCH_VERSION);
	proto_offset_fetch_req_encode(&b, CONS_OFFSET_FETCH_VERSION, &m);
	free(ts);
	free(pids);
	if (b.oom) {
		proto_buf_free(&b);
		return TERN_ERR__NOMEM;
	}
	proto_limits_default(&lim);
	err = coord_call(c, &b, PROTO_API_OFFSET_FETCH, CONS_OFFSET_FETCH_VERSION, deadline_ms,
			 &resp, &r, &a, &lim);
	proto_buf_free(&b);
	if (err)
		return err;
	err = proto_offset_fetch_resp_decode(&r, CONS_OFFSET_FETCH_VERSION, &fr);
	if (!err)
		err = (tern_err_t)fr.error_code;
	for (i = 0; i < n; i++)
		out[i] = -1;
	for (i = 0; !err && i < (size_t)fr.topics_count; i++) {
		const proto_offset_fetch_topic_t *t = &fr.topics[i];

		for (k = 0; !err && k < (size_t)t->partitions_count; k++) {
			const proto_offset_fetch_partition_t *p = &t->partitions[k];

			if (p->error_code) {
				err = (tern_err_t)p->error_code;
				break;
			}
			for (size_t j = 0; j < n; j++)
				if (ids[j] == p->partition_index &&
				    proto_str_eq(t->name, topics[j]))
					out[j] = p->committed_offset;
		}
	}
	proto_arena_free(&a);
	proto_msg_free(resp);
	return err;
}

tern_err_t cons_fetch_committed(tern_consumer_t *c, const char *const *topics, const int32_t *ids,
				size_t n, int64_t deadline_ms, int64_t *out)
{
	tern_err_t err;

	pthread_mutex_lock(&c->coord_lock);
	for (;;) {
		err = fetch_committed_once(c, topics, ids, n, deadline_ms, out);
		if (coord_moved(err))
			cons_coord_free(c);
		if (!err || !tern_err_is_retriable(err) ||
		    proto_now_ms() + c->cfg->retry_backoff_ms >= deadline_ms)
			break;
		usleep((useconds_t)c->cfg->retry_backoff_ms * 1000);
	}
	pthread_mutex_unlock(&c->coord_lock);
	return err;
}
