/* broker/cluster.c: the broker's link to the controller (DESIGN.md decision
 * 7): registration, heartbeats that bring the cluster image, ISR changes
 * (AlterPartition), producer-id blocks, and the admin requests forwarded
 * to the controller. The controller runs in this process (ternd --dev,
 * process.roles with "controller") or elsewhere (controller.connect); the
 * messages are the same frames either way. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "common/clock.h"

#define BK_CTL_TIMEOUT_MS 10000 /* one call to the controller */

/* ------------------------------------------------------------------------ */
/* Calls                                                                      */

/* Starts a request frame of (key, version) to the controller in buf:
 * header v1. */
static void call_begin(broker_t *b, proto_buf_t *buf, int16_t key, int16_t version)
{
	char cid[64];
	proto_req_hdr_t h = {.api_key = key, .api_version = version};

	snprintf(cid, sizeof cid, "ternd-%d", b->cfg->broker_id);
	h.correlation_id = (int32_t)(atomic_fetch_add(&b->link.corr, 1) & 0x7fffffff);
	h.client_id = proto_str(cid);
	proto_buf_init(buf);
	proto_req_hdr_encode(buf, &h);
}

/* Sends a whole request frame (header and body) to the controller, here
 * or elsewhere, and returns its response frame (malloc()ed: free()). */
static tern_err_t call_raw(broker_t *b, const uint8_t *req, size_t len, uint8_t **resp,
			   size_t *resp_len)
{
	/* A controller that died does not answer: the link notices within
	 * part of a session (a new one may be elected meanwhile). Never
	 * below 3 s: a request that ends without its answer costs the
	 * connection, and the reconnect (backoff up to 1 s) must fit in the
	 * next request's deadline, or a slow moment becomes a lasting one. */
	int64_t wait = b->cfg->broker_session_timeout_ms / 2;

	uint8_t *r = NULL;
	tern_err_t err;

	*resp = NULL;
	pthread_rwlock_rdlock(&b->link.ctl_lock);
	if (b->ctl) {
		err = ctl_handle(b->ctl, req, len, proto_now_ms(), resp, resp_len);
		pthread_rwlock_unlock(&b->link.ctl_lock);
		return err;
	}
	if (!b->link.pool) {
		pthread_rwlock_unlock(&b->link.ctl_lock);
		return TERN_ERR_NOT_CONTROLLER;
	}
	if (wait < 3000)
		wait = 3000;
	if (wait > BK_CTL_TIMEOUT_MS)
		wait = BK_CTL_TIMEOUT_MS;
	err = proto_conn_call(proto_pool_conn(b->link.pool, 0), req, len, proto_now_ms() + wait, &r,
			      resp_len);
	pthread_rwlock_unlock(&b->link.ctl_lock);
	if (err)
		return err;
	*resp = malloc(*resp_len ? *resp_len : 1);
	if (*resp)
		memcpy(*resp, r, *resp_len);
	proto_msg_free(r);
	return *resp ? TERN_OK : TERN_ERR__NOMEM;
}

static void resp_free(broker_t *b, uint8_t *resp)
{
	(void)b;
	free(resp);
}

tern_err_t bk_ctl_local_handle(broker_t *b, const uint8_t *req, size_t len, uint8_t **resp,
			       size_t *resp_len)
{
	tern_err_t err = TERN_ERR_NOT_CONTROLLER;

	*resp = NULL;
	pthread_rwlock_rdlock(&b->link.ctl_lock);
	if (b->ctl)
		err = ctl_handle(b->ctl, req, len, proto_now_ms(), resp, resp_len);
	pthread_rwlock_unlock(&b->link.ctl_lock);
	return err;
}

void bk_ctl_local_tick(broker_t *b, int64_t now_ms)
{
	if (!b->link.inited)
		return;
	pthread_rwlock_rdlock(&b->link.ctl_lock);
	if (b->ctl)
		ctl_tick(b->ctl, now_ms);
	pthread_rwlock_unlock(&b->link.ctl_lock);
}

bool bk_ctl_local_stats(broker_t *b, ctl_stats_t *out)
{
	bool here = false;

	if (!b->link.inited)
		return false;
	pthread_rwlock_rdlock(&b->link.ctl_lock);
	if (b->ctl) {
		ctl_get_stats(b->ctl, out);
		here = true;
	}
	pthread_rwlock_unlock(&b->link.ctl_lock);
	return here;
}

bool bk_ctl_is_local(broker_t *b)
{
	bool here;

	if (!b->link.inited)
		return false;
	pthread_rwlock_rdlock(&b->link.ctl_lock);
	here = b->ctl != NULL;
	pthread_rwlock_unlock(&b->link.ctl_lock);
	return here;
}

/* One exchange: sends buf (freed), reads the response header of (key, 0)
 * and leaves r at the body. The caller frees *resp with resp_free and
 * then the arena. */
static tern_err_t call(broker_t *b, proto_buf_t *buf, int16_t key, int16_t version, uint8_t **resp,
		       proto_reader_t *r, proto_arena_t *arena, proto_limits_t *lim)
{
	proto_resp_hdr_t h;
	size_t len = 0;
	tern_err_t err;

	*resp = NULL;
	if (buf->oom) {
		proto_buf_free(buf);
		return TERN_ERR__NOMEM;
	}
	err = call_raw(b, buf->p, buf->len, resp, &len);
	proto_buf_free(buf);
	if (err)
		return err;
	if (!*resp)
		return TERN_ERR_NETWORK_EXCEPTION;
	proto_limits_default(lim);
	lim->max_frame = len;
	proto_arena_init(arena, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(r, *resp, len, lim, arena);
	return proto_resp_hdr_decode(r, key, version, &h);
}

/* ------------------------------------------------------------------------ */
/* Registration and heartbeats                                                */

static tern_err_t do_register(broker_t *b)
{
	proto_broker_registration_req_t req = {0};
	proto_broker_registration_resp_t m;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t buf;
	uint8_t *resp;
	char host[256];
	tern_err_t err;

	bk_self_address(b, host, sizeof host, &req.port);
	req.broker_id = b->cfg->broker_id;
	req.incarnation_id = b->link.incarnation;
	req.host = proto_str(host);
	/* Only the first registration of a process can follow an unclean
	 * stop: afterwards this process's log is what it acknowledged. */
	req.clean_shutdown = b->link.registered_once || log_dir_was_clean(b->dir);
	call_begin(b, &buf, PROTO_API_BROKER_REGISTRATION, 0);
	proto_broker_registration_req_encode(&buf, 0, &req);
	err = call(b, &buf, PROTO_API_BROKER_REGISTRATION, 0, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_broker_registration_resp_decode(&r, 0, &m);
	if (!err)
		err = (tern_err_t)m.error_code;
	if (!err) {
		b->link.epoch = m.broker_epoch;
		b->link.registered_once = true;
		if (m.heartbeat_interval_ms > 0)
			b->link.heartbeat_ms = m.heartbeat_interval_ms;
		if (m.cluster_id.len > 0)
			proto_str_copy(m.cluster_id, b->cluster_id, sizeof b->cluster_id);
	}
	if (resp) {
		resp_free(b, resp);
		proto_arena_free(&arena);
	}
	return err;
}

/* One heartbeat; applies the image it brings unless !apply (a stopping
 * broker keeps serving what it has until its logs close). */
static tern_err_t do_heartbeat(broker_t *b, bool want_shutdown, bool *shutdown_done, bool apply)
{
	proto_broker_heartbeat_req_t req = {0};
	proto_broker_heartbeat_resp_t m;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t buf;
	uint8_t *resp;
	uint64_t seq;
	tern_err_t err;

	req.broker_id = b->cfg->broker_id;
	req.broker_epoch = b->link.epoch;
	req.want_shutdown = want_shutdown;
	req.known_metadata_version = b->link.version;
	pthread_mutex_lock(&b->link.mu);
	seq = ++b->link.hb_sent;
	pthread_mutex_unlock(&b->link.mu);
	call_begin(b, &buf, PROTO_API_BROKER_HEARTBEAT, 0);
	proto_broker_heartbeat_req_encode(&buf, 0, &req);
	err = call(b, &buf, PROTO_API_BROKER_HEARTBEAT, 0, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_broker_heartbeat_resp_decode(&r, 0, &m);
	if (!err)
		err = (tern_err_t)m.error_code;
	if (!err && apply && m.brokers_count >= 0) {
		bk_image_apply(b, &m);
		b->link.version = m.metadata_version;
	}
	if (!err && shutdown_done)
		*shutdown_done = m.shutdown_done;
	if (resp) {
		resp_free(b, resp);
		proto_arena_free(&arena);
	}
	pthread_mutex_lock(&b->link.mu);
	if (!err && seq > b->link.hb_applied)
		b->link.hb_applied = seq;
	if (err)
		b->link.hb_failed = seq;
	pthread_cond_broadcast(&b->link.cond);
	pthread_mutex_unlock(&b->link.mu);
	return err;
}

/* ------------------------------------------------------------------------ */
/* AlterPartition                                                             */

void bk_cluster_alter(broker_t *b, bk_part_t *p, const isr_alter_t *a)
{
	bk_alter_t *x = calloc(1, sizeof *x);

	if (!x || !(x->topic = strdup(p->topic->name))) {
		free(x);
		bk_log('E', "isr", "%s-%d: ISR change not sent (out of memory)", p->topic->name,
		       p->index);
		return;
	}
	x->partition = p->index;
	x->alter = *a;
	pthread_mutex_lock(&b->link.mu);
	x->next = b->link.alters;
	b->link.alters = x;
	b->link.kick = true;
	pthread_cond_broadcast(&b->link.cond);
	pthread_mutex_unlock(&b->link.mu);
}

static void health_queue(broker_t *b, bk_part_t *p, bool corrupt)
{
	bk_alter_t *x = calloc(1, sizeof *x);

	if (!x || !(x->topic = strdup(p->topic->name))) {
		free(x);
		bk_log('E', "health", "%s-%d: replica health not reported (out of memory)",
		       p->topic->name, p->index);
		return;
	}
	x->partition = p->index;
	x->corrupt = corrupt;
	pthread_mutex_lock(&b->link.mu);
	x->next = b->link.health;
	b->link.health = x;
	b->link.kick = true;
	pthread_cond_broadcast(&b->link.cond);
	pthread_mutex_unlock(&b->link.mu);
}

void bk_cluster_health(broker_t *b, bk_part_t *p, bool corrupt)
{
	bk_log(corrupt ? 'E' : 'I', "health", "%s-%d: reporting the replica here %s",
	       p->topic->name, p->index,
	       corrupt ? "corrupt: it leaves the ISR until repaired" : "repaired");
	health_queue(b, p, corrupt);
}

void bk_cluster_health_full(broker_t *b, bk_part_t *p, bool full)
{
	bk_log(full ? 'E' : 'I', "health", "%s-%d: %s", p->topic->name, p->index,
	       full ? "the disk is full: the replica here gives up leadership and leaves the ISR"
		    : "the replica here no longer leads a full disk: it rejoins the ISR once "
		      "caught up");
	health_queue(b, p, full);
}

/* Sends the queued replica-health reports in one ReplicaHealth; those the
 * controller did not take (an error) are queued again. */
static void send_health(broker_t *b)
{
	proto_replica_health_req_t req = {0};
	proto_replica_health_resp_t m;
	proto_replica_health_topic_t *tv;
	proto_replica_health_partition_t *pv;
	bk_alter_t *list, *x, *again = NULL;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t buf;
	uint8_t *resp = NULL;
	size_t n = 0, i;
	tern_err_t err;

	pthread_mutex_lock(&b->link.mu);
	list = b->link.health;
	b->link.health = NULL;
	pthread_mutex_unlock(&b->link.mu);
	/* Oldest first: a corrupt report before the repaired one. */
	for (x = list, list = NULL; x;) {
		bk_alter_t *next = x->next;

		x->next = list;
		list = x;
		x = next;
		n++;
	}
	if (!n)
		return;
	tv = calloc(n, sizeof *tv);
	pv = calloc(n, sizeof *pv);
	err = tv && pv ? TERN_OK : TERN_ERR__NOMEM;
	for (x = list, i = 0; x && !err; x = x->next, i++) {
		tv[i].name = proto_str(x->topic);
		tv[i].partitions = &pv[i];
		tv[i].partitions_count = 1;
		pv[i].partition_index = x->partition;
		pv[i].corrupt = x->corrupt;
	}
	if (!err) {
		req.broker_id = b->cfg->broker_id;
		req.broker_epoch = b->link.epoch;
		req.topics = tv;
		req.topics_count = (int32_t)n;
		call_begin(b, &buf, PROTO_API_REPLICA_HEALTH, 0);
		proto_replica_health_req_encode(&buf, 0, &req);
		err = call(b, &buf, PROTO_API_REPLICA_HEALTH, 0, &resp, &r, &arena, &lim);
		if (!err)
			err = proto_replica_health_resp_decode(&r, 0, &m);
		if (!err)
			err = (tern_err_t)m.error_code;
	}
	while ((x = list)) {
		tern_err_t perr = err;

		list = x->next;
		for (int32_t t = 0; !err && t < m.topics_count; t++)
			for (int32_t j = 0; j < m.topics[t].partitions_count; j++)
				if (proto_str_eq(m.topics[t].name, x->topic) &&
				    m.topics[t].partitions[j].partition_index == x->partition)
					perr = (tern_err_t)m.topics[t].partitions[j].error_code;
		if (perr && perr != TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
			x->next = again;
			again = x;
		} else {
			free(x->topic);
			free(x);
		}
	}
	if (resp) {
		resp_free(b, resp);
		proto_arena_free(&arena);
	}
	free(tv);
	free(pv);
	if (again) {
		/* Not taken: the next round tries again (newest last). */
		pthread_mutex_lock(&b->link.mu);
		for (x = again; x->next; x = x->next)
			;
		x->next = b->link.health;
		b->link.health = again;
		pthread_mutex_unlock(&b->link.mu);
	}
}

/* The answer to one proposal, given to the partition's state machine. */
static void alter_answer(broker_t *b, const bk_alter_t *x, tern_err_t err,
			 const proto_alter_partition_partition_result_t *rp)
{
	bk_part_t *p;
	isr_decisions_t d;
	tern_err_t e;

	pthread_rwlock_rdlock(&b->topics_lock);
	p = bk_part_find(b, proto_str(x->topic), x->partition);
	if (p) {
		pthread_mutex_lock(&p->mu);
		if (!err) {
			isr_set_t isr = {0};

			for (int32_t i = 0; rp && i < rp->isr_count && i < ISR_MAX_REPLICAS; i++)
				isr.id[isr.n++] = rp->isr[i];
			int32_t before = p->isr.isr.n;

			e = isr_alter_committed(&p->isr, x->alter.id, rp->leader_epoch,
						rp->partition_epoch, &isr, proto_now_ms(), &d);
			if (!e) {
				bk_log('I', "isr", "%s-%d: ISR %s: %d member%s", x->topic,
				       x->partition,
				       isr.n < before	? "shrank"
				       : isr.n > before ? "expanded"
							: "confirmed",
				       isr.n, isr.n == 1 ? "" : "s");
				if (isr.n < before)
					metrics_counter_inc(b->stats.isr_shrinks);
				else if (isr.n > before)
					metrics_counter_inc(b->stats.isr_expands);
			}
		} else {
			e = isr_alter_rejected(&p->isr, x->alter.id, err, proto_now_ms(), &d);
			bk_log('W', "isr", "%s-%d: ISR change refused: %s", x->topic, x->partition,
			       tern_strerror(err));
		}
		if (!e)
			bk_part_apply(b, p, &d);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_rwlock_unlock(&b->topics_lock);
}

/* Sends every queued proposal in one AlterPartition. */
static void send_alters(broker_t *b)
{
	proto_alter_partition_req_t req = {0};
	proto_alter_partition_resp_t m;
	proto_alter_partition_topic_t *tv;
	proto_alter_partition_partition_t *pv;
	proto_alter_partition_broker_state_t *sv;
	bk_alter_t *list, *x;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t buf;
	uint8_t *resp = NULL;
	size_t n = 0, i;
	tern_err_t err;

	pthread_mutex_lock(&b->link.mu);
	list = b->link.alters;
	b->link.alters = NULL;
	pthread_mutex_unlock(&b->link.mu);
	for (x = list; x; x = x->next)
		n++;
	if (!n)
		return;
	tv = calloc(n, sizeof *tv);
	pv = calloc(n, sizeof *pv);
	sv = calloc(n * ISR_MAX_REPLICAS, sizeof *sv);
	err = tv && pv && sv ? TERN_OK : TERN_ERR__NOMEM;
	for (x = list, i = 0; x && !err; x = x->next, i++) {
		/* One topic entry per proposal: simple, and rare enough. */
		tv[i].name = proto_str(x->topic);
		tv[i].partitions = &pv[i];
		tv[i].partitions_count = 1;
		pv[i].partition_index = x->partition;
		pv[i].leader_epoch = x->alter.leader_epoch;
		pv[i].partition_epoch = x->alter.partition_epoch;
		pv[i].new_isr = &sv[i * ISR_MAX_REPLICAS];
		pv[i].new_isr_count = x->alter.isr.n;
		for (int32_t k = 0; k < x->alter.isr.n; k++) {
			sv[i * ISR_MAX_REPLICAS + k].broker_id = x->alter.isr.id[k];
			sv[i * ISR_MAX_REPLICAS + k].broker_epoch = x->alter.broker_epoch[k];
		}
	}
	if (!err) {
		req.broker_id = b->cfg->broker_id;
		req.broker_epoch = b->link.epoch;
		req.topics = tv;
		req.topics_count = (int32_t)n;
		call_begin(b, &buf, PROTO_API_ALTER_PARTITION, 0);
		proto_alter_partition_req_encode(&buf, 0, &req);
		err = call(b, &buf, PROTO_API_ALTER_PARTITION, 0, &resp, &r, &arena, &lim);
		if (!err)
			err = proto_alter_partition_resp_decode(&r, 0, &m);
		if (!err)
			err = (tern_err_t)m.error_code;
	}
	for (x = list, i = 0; x; x = x->next, i++) {
		const proto_alter_partition_partition_result_t *rp = NULL;

		/* Results name topic and partition; match them. */
		for (int32_t t = 0; !err && t < m.topics_count && !rp; t++)
			for (int32_t j = 0; j < m.topics[t].partitions_count && !rp; j++)
				if (proto_str_eq(m.topics[t].name, x->topic) &&
				    m.topics[t].partitions[j].partition_index == x->partition)
					rp = &m.topics[t].partitions[j];
		if (err || !rp)
			/* Not answered: a retriable error sends it again. */
			alter_answer(b, x,
				     err ? TERN_ERR_REQUEST_TIMED_OUT : TERN_ERR_NETWORK_EXCEPTION,
				     NULL);
		else
			alter_answer(b, x, (tern_err_t)rp->error_code, rp);
	}
	if (resp) {
		resp_free(b, resp);
		proto_arena_free(&arena);
	}
	while ((x = list)) {
		list = x->next;
		free(x->topic);
		free(x);
	}
	free(tv);
	free(pv);
	free(sv);
}

/* ------------------------------------------------------------------------ */
/* ZooKeeper: who is the controller                                          */

/* The controller this process runs (DESIGN.md decision 7) under ZooKeeper:
 * its store is fenced by the controller epoch of this reign. */
static tern_err_t zk_become_controller(broker_t *b, int64_t epoch)
{
	ctl_config_t cc = {
	    .controller_id = b->cfg->broker_id,
	    .session_timeout_ms = b->cfg->broker_session_timeout_ms,
	    .heartbeat_interval_ms = b->cfg->broker_heartbeat_interval_ms,
	    .broker = b->cfg,
	};
	ctl_store_t *store;
	ctl_t *c;
	char why[256];
	tern_err_t err;

	err = ctl_zk_store_new(b->link.zk, &store);
	if (err)
		return err;
	err = ctl_open(&cc, store, proto_now_ms(), &c, why, sizeof why);
	if (err) {
		store->close(store);
		bk_log('E', "ctl", "controller epoch %" PRId64 ": loading the metadata: %s", epoch,
		       why);
		return err;
	}
	pthread_rwlock_wrlock(&b->link.ctl_lock);
	b->ctl = c;
	if (b->link.pool)
		proto_pool_close(b->link.pool);
	b->link.pool = NULL;
	b->link.ctl_url[0] = '\0';
	pthread_rwlock_unlock(&b->link.ctl_lock);
	bk_log('I', "ctl", "this broker is the controller now (controller epoch %" PRId64 ")",
	       epoch);
	return TERN_OK;
}

/* One look at ZooKeeper: resigns a reign that ended, elects this broker
 * when there is no controller, or points the link at the one there is.
 * Returns whether a controller is known. */
static bool zk_step(broker_t *b)
{
	char url[300] = "";
	int32_t id;
	int64_t epoch;

	if (bk_ctl_is_local(b)) {
		ctl_t *old;

		if (ctl_zk_is_controller(b->link.zk))
			return true;
		pthread_rwlock_wrlock(&b->link.ctl_lock);
		old = b->ctl;
		b->ctl = NULL;
		pthread_rwlock_unlock(&b->link.ctl_lock);
		ctl_close(old);
		bk_log('W', "ctl", "this broker is no longer the controller");
	}
	id = ctl_zk_controller(b->link.zk, url, sizeof url);
	if (id < 0 || id == b->cfg->broker_id) {
		if (ctl_zk_elect(b->link.zk, &epoch) != TERN_OK)
			return false;
		return zk_become_controller(b, epoch) == TERN_OK;
	}
	if (!url[0])
		return false;
	if (strcmp(url, b->link.ctl_url) != 0) {
		proto_transport_opts_t o;
		proto_pool_t *pool, *old;
		char why[256];

		proto_transport_opts_default(&o);
		o.request_timeout_ms = BK_CTL_TIMEOUT_MS;
		if (proto_pool_new(url, 1, &o, &pool, why, sizeof why) != TERN_OK) {
			bk_log('W', "ctl", "controller %d at %s: %s", id, url, why);
			return false;
		}
		pthread_rwlock_wrlock(&b->link.ctl_lock);
		old = b->link.pool;
		b->link.pool = pool;
		snprintf(b->link.ctl_url, sizeof b->link.ctl_url, "%s", url);
		pthread_rwlock_unlock(&b->link.ctl_lock);
		if (old)
			proto_pool_close(old);
		bk_log('I', "ctl", "the controller is broker %d at %s", id, url);
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* The link thread                                                            */

static void *link_main(void *arg)
{
	broker_t *b = arg;

	while (!atomic_load(&b->link.stop)) {
		tern_err_t err;
		int64_t until;

		if (b->link.zk)
			zk_step(b);
		send_alters(b);
		send_health(b);
		err = do_heartbeat(b, false, NULL, true);
		if (err == TERN_ERR_STALE_BROKER_EPOCH) {
			bk_log('W', "ctl",
			       "the controller no longer knows this broker's epoch "
			       "%" PRId64 ": registering again",
			       b->link.epoch);
			err = do_register(b);
			if (err)
				bk_log('W', "ctl", "registering: %s", tern_strerror(err));
		} else if (err) {
			bk_log('W', "ctl", "heartbeat: %s", tern_strerror(err));
		}
		until = proto_now_ms() + b->link.heartbeat_ms;
		pthread_mutex_lock(&b->link.mu);
		while (!b->link.kick && !atomic_load(&b->link.stop) &&
		       tern_cond_wait_until(&b->link.cond, &b->link.mu, until) == 0)
			;
		b->link.kick = false;
		pthread_mutex_unlock(&b->link.mu);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life                                                                       */

static bool has_role(const broker_config_t *cfg, const char *role)
{
	for (size_t i = 0; i < cfg->process_roles.n; i++)
		if (strcmp(cfg->process_roles.v[i], role) == 0)
			return true;
	return false;
}

tern_err_t bk_cluster_open(broker_t *b, char *errstr, size_t errlen)
{
	int64_t deadline;
	struct timespec ts;
	tern_err_t err;

	pthread_mutex_init(&b->link.mu, NULL);
	tern_cond_init_mono(&b->link.cond);
	pthread_rwlock_init(&b->link.ctl_lock, NULL);
	b->link.inited = true;
	b->link.heartbeat_ms = b->cfg->broker_heartbeat_interval_ms;
	b->link.version = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	b->link.incarnation = ((int64_t)ts.tv_sec << 20) ^ ts.tv_nsec ^ ((int64_t)getpid() << 40);
	if (b->link.incarnation < 0)
		b->link.incarnation = -b->link.incarnation;
	if (b->cfg->metadata_store == BROKER_METADATA_ZOOKEEPER) {
		char host[256], url[300];
		int32_t port;
		int64_t until = proto_now_ms() + b->cfg->zookeeper_session_timeout_ms * 3;

		bk_self_address(b, host, sizeof host, &port);
		snprintf(url, sizeof url, "tcp://%s:%d", host, port);
		err = ctl_zk_open(b->cfg->zookeeper_connect, b->cfg->zookeeper_session_timeout_ms,
				  b->cfg->broker_id, url, &b->link.zk, errstr, errlen);
		if (err)
			return err;
		/* A controller (this broker or another) before anything else. */
		while (!zk_step(b) && proto_now_ms() < until)
			usleep(100000);
	} else if (has_role(b->cfg, "controller")) {
		ctl_config_t cc = {
		    .controller_id = b->cfg->broker_id,
		    .session_timeout_ms = b->cfg->broker_session_timeout_ms,
		    .heartbeat_interval_ms = b->cfg->broker_heartbeat_interval_ms,
		    .broker = b->cfg,
		};
		ctl_store_t *store;
		char *path;

		if (asprintf(&path, "%s/tern-controller", b->data_dir) < 0)
			return TERN_ERR__NOMEM;
		err = ctl_store_file_new(path, &store);
		free(path);
		if (err)
			return err;
		err = ctl_open(&cc, store, proto_now_ms(), &b->ctl, errstr, errlen);
		if (err) {
			store->close(store);
			return err;
		}
	} else {
		proto_transport_opts_t o;

		proto_transport_opts_default(&o);
		o.request_timeout_ms = BK_CTL_TIMEOUT_MS;
		err = proto_pool_new(b->cfg->controller_connect, 1, &o, &b->link.pool, errstr,
				     errlen);
		if (err)
			return err;
	}
	if (!has_role(b->cfg, "broker"))
		return TERN_OK;
	/* Register and take the first image before serving, so that the
	 * first clients see every topic. */
	deadline = proto_now_ms() + b->cfg->broker_session_timeout_ms * 3;
	for (;;) {
		err = do_register(b);
		if (!err)
			err = do_heartbeat(b, false, NULL, true);
		if (!err || proto_now_ms() >= deadline)
			break;
		usleep(200000);
	}
	if (err)
		snprintf(errstr, errlen,
			 "could not join the cluster through the controller%s%s: %s",
			 b->link.pool ? " at " : "",
			 b->link.pool
			     ? (b->link.ctl_url[0] ? b->link.ctl_url : b->cfg->controller_connect)
			     : "",
			 tern_strerror(err));
	return err;
}

tern_err_t bk_cluster_start(broker_t *b)
{
	int rc;

	if (!has_role(b->cfg, "broker"))
		return TERN_OK;
	rc = pthread_create(&b->link.thread, NULL, link_main, b);
	if (rc)
		return tern_err_errno(rc);
	b->link.started = true;
	return TERN_OK;
}

void bk_cluster_shutdown(broker_t *b)
{
	int64_t deadline = proto_now_ms() + b->cfg->broker_session_timeout_ms;
	bool done = false;

	if (b->link.started) {
		atomic_store(&b->link.stop, true);
		pthread_mutex_lock(&b->link.mu);
		pthread_cond_broadcast(&b->link.cond);
		pthread_mutex_unlock(&b->link.mu);
		pthread_join(b->link.thread, NULL);
		b->link.started = false;
		/* Controlled shutdown: leadership moves off this broker and it
		 * leaves every ISR before it stops serving. */
		while (!done && proto_now_ms() < deadline) {
			send_alters(b);
			if (do_heartbeat(b, true, &done, false) != TERN_OK)
				break;
			if (!done)
				usleep(50000);
		}
		if (done)
			bk_log('I', "ctl", "controlled shutdown done");
		else
			bk_log('W', "ctl", "controlled shutdown not confirmed by the controller");
	}
}

void bk_cluster_close(broker_t *b)
{
	bk_alter_t *x;

	if (!b->link.inited)
		return;
	while ((x = b->link.alters)) {
		b->link.alters = x->next;
		free(x->topic);
		free(x);
	}
	while ((x = b->link.health)) {
		b->link.health = x->next;
		free(x->topic);
		free(x);
	}
	if (b->link.pool)
		proto_pool_close(b->link.pool);
	b->link.pool = NULL;
	ctl_close(b->ctl);
	b->ctl = NULL;
	/* The session goes last: its ephemeral nodes (registration, the
	 * controller role) go with it. */
	ctl_zk_close(b->link.zk);
	b->link.zk = NULL;
	pthread_rwlock_destroy(&b->link.ctl_lock);
	pthread_cond_destroy(&b->link.cond);
	pthread_mutex_destroy(&b->link.mu);
	b->link.inited = false;
}

/* ------------------------------------------------------------------------ */
/* What the request handlers ask of the controller                            */

tern_err_t bk_cluster_sync(broker_t *b, int64_t deadline_ms)
{
	uint64_t target;
	tern_err_t err = TERN_OK;

	pthread_mutex_lock(&b->link.mu);
	/* A heartbeat sent from now on reflects every change made before. */
	target = b->link.hb_sent + 1;
	b->link.kick = true;
	pthread_cond_broadcast(&b->link.cond);
	while (b->link.hb_applied < target && b->link.hb_failed < target) {
		if (!b->link.started ||
		    tern_cond_wait_until(&b->link.cond, &b->link.mu, deadline_ms) != 0) {
			err = TERN_ERR_REQUEST_TIMED_OUT;
			break;
		}
	}
	pthread_mutex_unlock(&b->link.mu);
	return err;
}

tern_err_t bk_cluster_forward(broker_t *b, const uint8_t *req, size_t len, uint8_t **resp,
			      size_t *resp_len)
{
	tern_err_t err = call_raw(b, req, len, resp, resp_len);

	if (err)
		return err;
	if (!*resp)
		return TERN_ERR_NETWORK_EXCEPTION;
	bk_cluster_sync(b, proto_now_ms() + BK_CTL_TIMEOUT_MS);
	return TERN_OK;
}

tern_err_t bk_cluster_create_topic(broker_t *b, const char *name, int32_t npart, int32_t rf,
				   const tern_conf_kv_t *configs, size_t n, char *why,
				   size_t whylen)
{
	proto_create_topics_topic_t t = {0};
	proto_create_topics_req_t req = {0};
	proto_create_topics_resp_t m;
	proto_config_kv_t kv[32];
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t buf;
	uint8_t *resp = NULL;
	tern_err_t err;

	if (n > 32)
		return TERN_ERR__INVALID_ARG;
	for (size_t i = 0; i < n; i++) {
		kv[i].name = proto_str(configs[i].key);
		kv[i].value = proto_str(configs[i].value);
	}
	t.name = proto_str(name);
	t.num_partitions = npart;
	t.replication_factor = (int16_t)rf;
	t.configs = kv;
	t.configs_count = (int32_t)n;
	req.topics = &t;
	req.topics_count = 1;
	req.timeout_ms = BK_CTL_TIMEOUT_MS;
	call_begin(b, &buf, PROTO_API_CREATE_TOPICS, 4);
	proto_create_topics_req_encode(&buf, 4, &req);
	err = call(b, &buf, PROTO_API_CREATE_TOPICS, 4, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_create_topics_resp_decode(&r, 4, &m);
	if (!err && m.topics_count != 1)
		err = TERN_ERR_INVALID_REQUEST;
	if (!err) {
		err = (tern_err_t)m.topics[0].error_code;
		if (err && m.topics[0].error_message.len > 0)
			proto_str_copy(m.topics[0].error_message, why, whylen);
	}
	if (resp) {
		resp_free(b, resp);
		proto_arena_free(&arena);
		/* As a forwarded request: answered once the image shows it. */
		bk_cluster_sync(b, proto_now_ms() + BK_CTL_TIMEOUT_MS);
	}
	return err;
}

tern_err_t bk_cluster_producer_ids(broker_t *b, int64_t *start, int32_t *len)
{
	proto_allocate_producer_ids_req_t req = {.broker_id = b->cfg->broker_id};
	proto_allocate_producer_ids_resp_t m;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t buf;
	uint8_t *resp;
	tern_err_t err;

	req.broker_epoch = b->link.epoch;
	call_begin(b, &buf, PROTO_API_ALLOCATE_PRODUCER_IDS, 0);
	proto_allocate_producer_ids_req_encode(&buf, 0, &req);
	err = call(b, &buf, PROTO_API_ALLOCATE_PRODUCER_IDS, 0, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_allocate_producer_ids_resp_decode(&r, 0, &m);
	if (!err)
		err = (tern_err_t)m.error_code;
	if (!err && m.producer_id_len <= 0)
		err = TERN_ERR_UNKNOWN_SERVER_ERROR;
	if (!err) {
		*start = m.producer_id_start;
		*len = m.producer_id_len;
	}
	if (resp) {
		resp_free(b, resp);
		proto_arena_free(&arena);
	}
	return err;
}
