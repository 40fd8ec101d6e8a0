/* broker/replica.c: replica fetchers (KAFKA-REFERENCE.md §3; DESIGN.md
 * decision 6). One thread per leader broker fetches, in one Fetch (v11,
 * with the current leader epoch), every partition this broker follows on
 * that leader, at most one Fetch in flight. Before fetching a partition
 * whose leader epoch changed it reconciles its log through
 * OffsetForLeaderEpoch and truncates where isr/ says; a fetch offset out of
 * the leader's range is handled as isr_follower_out_of_range() says. Under
 * flush.policy=sync a follower fsyncs what it appended (group commit)
 * before its next fetch, whose offset is then its durable log end. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "common/clock.h"

#define REPLICA_MAX_WAIT_MS 500	       /* replica.fetch.wait.max.ms */
#define REPLICA_MAX_BYTES   (16 << 20) /* one Fetch */
#define REPLICA_PART_BYTES  (1 << 20)  /* replica.fetch.max.bytes */
#define REPLICA_BACKOFF_MS  100	       /* after an error */
#define REPLICA_CALL_MS	    10000
#define REPLICA_MAX_ROUNDS  64 /* OffsetForLeaderEpoch rounds of one reconciliation */

typedef struct fetcher {
	struct fetcher *next;
	broker_t *b;
	int32_t leader;
	char url[300];
	proto_pool_t *pool;
	pthread_t thread;
	bk_errlog_t append_errlog; /* failed appends of fetched records */
} fetcher_t;

struct bk_fetchers {
	pthread_mutex_t mu; /* guards list and kick */
	pthread_cond_t cond;
	bool kick;
	atomic_bool stop;
	fetcher_t *list;
};

/* One partition to fetch, as collected under topics_lock. */
typedef struct target {
	char *topic;
	int32_t partition;
	int32_t leader_epoch;
	int64_t fetch_offset;
	int64_t log_start;
	bool reconcile;
} target_t;

int64_t bk_replica_client_epoch(proto_str_t client_id)
{
	char buf[64], *end;
	const char *dash;
	long long e;

	if (client_id.len <= 14 || !proto_str_copy(client_id, buf, sizeof buf) ||
	    strncmp(buf, "ternd-replica-", 14) != 0)
		return ISR_NO_BROKER_EPOCH;
	dash = strrchr(buf + 14, '-');
	if (!dash)
		return ISR_NO_BROKER_EPOCH;
	e = strtoll(dash + 1, &end, 10);
	return *end || end == dash + 1 || e < 0 ? ISR_NO_BROKER_EPOCH : (int64_t)e;
}

/* ------------------------------------------------------------------------ */
/* Calls to the leader                                                        */

/* One request to the leader: header v1 with the replica client id, then
 * the body in body (freed). The response body is left in r. */
static tern_err_t leader_call(fetcher_t *f, int16_t key, int16_t version, proto_buf_t *body,
			      uint8_t **resp, proto_reader_t *r, proto_arena_t *arena,
			      proto_limits_t *lim)
{
	static atomic_uint_fast32_t corr = 1;
	broker_t *b = f->b;
	char cid[64];
	proto_req_hdr_t h = {.api_key = key, .api_version = version};
	proto_resp_hdr_t rh;
	proto_buf_t buf;
	size_t len = 0;
	tern_err_t err;

	*resp = NULL;
	snprintf(cid, sizeof cid, "ternd-replica-%d-%" PRId64, b->cfg->broker_id, b->link.epoch);
	h.correlation_id = (int32_t)(atomic_fetch_add(&corr, 1) & 0x7fffffff);
	h.client_id = proto_str(cid);
	proto_buf_init(&buf);
	proto_req_hdr_encode(&buf, &h);
	proto_wr_raw(&buf, body->p, body->len);
	proto_buf_free(body);
	if (buf.oom) {
		proto_buf_free(&buf);
		return TERN_ERR__NOMEM;
	}
	err = proto_conn_call(proto_pool_conn(f->pool, 0), buf.p, buf.len,
			      proto_now_ms() + REPLICA_CALL_MS, resp, &len);
	proto_buf_free(&buf);
	if (err)
		return err;
	proto_limits_default(lim);
	lim->max_frame = len;
	proto_arena_init(arena, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(r, *resp, len, lim, arena);
	return proto_resp_hdr_decode(r, key, version, &rh);
}

static void call_free(uint8_t *resp, proto_arena_t *arena)
{
	if (resp) {
		proto_msg_free(resp);
		proto_arena_free(arena);
	}
}

/* ------------------------------------------------------------------------ */
/* Follower-side changes to a partition                                       */

/* The partition t names, if this broker still follows it on f's leader at
 * t's leader epoch. topics_lock held. */
static bk_part_t *still_following(fetcher_t *f, const target_t *t)
{
	bk_part_t *p = bk_part_find(f->b, proto_str(t->topic), t->partition);

	if (!p)
		return NULL;
	pthread_mutex_lock(&p->mu);
	if (p->isr.role != ISR_ROLE_FOLLOWER || p->isr.leader != f->leader ||
	    p->isr.leader_epoch != t->leader_epoch)
		p = (pthread_mutex_unlock(&p->mu), NULL);
	else
		pthread_mutex_unlock(&p->mu);
	return p;
}

/* Tells isr/ the log's ends (and the leader's HWM, or ISR_UNKNOWN_OFFSET). */
static void progress(broker_t *b, bk_part_t *p, int64_t leader_hwm)
{
	isr_decisions_t d;
	int64_t durable = log_durable_end_offset(p->log);
	int64_t leo = log_end_offset(p->log);

	pthread_mutex_lock(&p->mu);
	if (durable > leo)
		durable = leo;
	if (isr_follower_progress(&p->isr, leo, durable, leader_hwm, &d) == TERN_OK)
		bk_part_apply(b, p, &d);
	pthread_mutex_unlock(&p->mu);
}

/* Cuts p's log at offset (nothing when at or above the LEO). */
static tern_err_t truncate_to(broker_t *b, bk_part_t *p, int64_t offset)
{
	int64_t leo = log_end_offset(p->log), end = leo;
	tern_err_t err = TERN_OK;

	if (offset >= leo)
		return TERN_OK;
	pthread_mutex_lock(&p->append_mu);
	err = log_truncate(p->log, offset, &end);
	pthread_mutex_unlock(&p->append_mu);
	pthread_mutex_lock(&p->mu);
	bk_idem_forget_from(&p->idem, err ? offset : end);
	pthread_mutex_unlock(&p->mu);
	if (err) {
		bk_log('E', "truncate", "%s-%d: truncating to %" PRId64 ": %s", p->topic->name,
		       p->index, offset, tern_strerror(err));
		return err;
	}
	bk_log('I', "truncate",
	       "%s-%d: truncated from %" PRId64 " to %" PRId64 " to match the leader",
	       p->topic->name, p->index, leo, end);
	progress(b, p, ISR_UNKNOWN_OFFSET);
	return TERN_OK;
}

/* A follower keeps the producers' state as the leader does (Kafka's
 * ProducerStateManager on every replica): the snapshots written at its
 * segment rolls must hold it, since a leadership or a restart starts from
 * the newest one and scans only the batches after it. A stale one made the
 * next leader refuse a producer's next batch as out of sequence. */
static void record_producers(bk_part_t *p, const uint8_t *data, size_t len)
{
	size_t off = 0;

	pthread_mutex_lock(&p->mu);
	while (off < len) {
		log_batch_hdr_t h;

		if (log_batch_hdr_parse(data + off, len - off, &h) != TERN_OK)
			break;
		if (h.producer_id >= 0 && h.base_sequence >= 0 &&
		    bk_idem_record(&p->idem, &h, h.base_offset) != TERN_OK)
			bk_log('W', "idem", "%s-%d: producer %lld not recorded (out of memory)",
			       p->topic->name, p->index, (long long)h.producer_id);
		off += log_batch_size(&h);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Appends the leader's batches at our LEO: whole batches, CRC-checked,
 * those that end below the LEO skipped. Waits for their fsync under sync.
 * topics_lock held (read). */
static tern_err_t append_fetched(broker_t *b, bk_part_t *p, const uint8_t *data, size_t len)
{
	log_validate_opts_t vo = {.deep = false};
	int64_t leo = log_end_offset(p->log);
	size_t off = 0, start = 0;
	log_append_info_t info;
	char why[256];
	tern_err_t err;

	/* Leaders send whole batches; a trailing partial one (Kafka may send
	 * one) is left for the next fetch. */
	while (off < len) {
		log_batch_hdr_t h;

		if (len - off < LOG_BATCH_HEADER_SIZE ||
		    log_batch_hdr_parse(data + off, len - off, &h) != TERN_OK ||
		    log_batch_size(&h) > len - off)
			break;
		err = log_batch_validate(data + off, len - off, &vo, &h, why, sizeof why);
		if (err) {
			bk_log('E', "replica", "%s-%d: batch at %" PRId64 " from the leader: %s",
			       p->topic->name, p->index, h.base_offset, why);
			return TERN_ERR_CORRUPT_MESSAGE;
		}
		if (log_batch_last_offset(&h) < leo)
			start = off + log_batch_size(&h);
		off += log_batch_size(&h);
	}
	if (off <= start)
		return TERN_OK;
	pthread_mutex_lock(&p->append_mu);
	err = log_append(p->log, data + start, off - start, 0, 0, &info, NULL, NULL);
	pthread_mutex_unlock(&p->append_mu);
	if (err)
		return err;
	record_producers(p, data + start, off - start);
	metrics_counter_add(b->stats.repl_in, off - start);
	if (p->isr.cfg.flush == ISR_FLUSH_SYNC)
		err = log_wait_durable(p->log, info.last_offset + 1, REPLICA_CALL_MS);
	else
		err = log_wait_end(p->log, info.last_offset + 1, REPLICA_CALL_MS);
	if (err && log_end_offset(p->log) <= info.base_offset) {
		/* Rolled back (a full disk): they are not in the log. */
		pthread_mutex_lock(&p->mu);
		bk_idem_forget_from(&p->idem, info.base_offset);
		pthread_mutex_unlock(&p->mu);
	}
	return err;
}

/* ------------------------------------------------------------------------ */
/* Reconciliation                                                             */

/* Asks the leader for the end of epoch asked: OffsetForLeaderEpoch v3. */
static tern_err_t ask_epoch(fetcher_t *f, const target_t *t, int32_t asked, int32_t *epoch,
			    int64_t *end)
{
	proto_ofle_req_partition_t rp = {.partition = t->partition,
					 .current_leader_epoch = t->leader_epoch,
					 .leader_epoch = asked};
	proto_ofle_req_topic_t rt = {
	    .topic = proto_str(t->topic), .partitions = &rp, .partitions_count = 1};
	proto_ofle_req_t req = {
	    .replica_id = f->b->cfg->broker_id, .topics = &rt, .topics_count = 1};
	proto_ofle_resp_t m;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t body;
	uint8_t *resp;
	tern_err_t err;

	proto_buf_init(&body);
	proto_ofle_req_encode(&body, 3, &req);
	err = leader_call(f, PROTO_API_OFFSET_FOR_LEADER_EPOCH, 3, &body, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_ofle_resp_decode(&r, 3, &m);
	if (!err && (m.topics_count != 1 || m.topics[0].partitions_count != 1))
		err = TERN_ERR_INVALID_REQUEST;
	if (!err) {
		err = (tern_err_t)m.topics[0].partitions[0].error_code;
		*epoch = m.topics[0].partitions[0].leader_epoch;
		*end = m.topics[0].partitions[0].end_offset;
	}
	call_free(resp, &arena);
	return err;
}

/* Reconciles one partition's log with the leader (isr_reconcile_*), then
 * lets it fetch. An error leaves it to reconcile again later. */
static void reconcile(fetcher_t *f, const target_t *t)
{
	broker_t *b = f->b;
	isr_reconcile_t rc;
	int32_t asked = -1;
	tern_err_t err = TERN_OK;

	for (int round = 0; round < REPLICA_MAX_ROUNDS && !err; round++) {
		log_epoch_entry_t *cache = NULL;
		size_t n = 0;
		int64_t leo;
		bk_part_t *p;

		pthread_rwlock_rdlock(&b->topics_lock);
		p = still_following(f, t);
		if (!p) {
			pthread_rwlock_unlock(&b->topics_lock);
			return;
		}
		err = log_epochs(p->log, &cache, &n);
		leo = log_end_offset(p->log);
		if (!err && round == 0) {
			err = isr_reconcile_begin((const isr_epoch_entry_t *)cache, n, leo, &rc);
		} else if (!err) {
			int32_t e = -1;
			int64_t end = -1;

			/* The ask goes out without the lock held. */
			pthread_rwlock_unlock(&b->topics_lock);
			err = ask_epoch(f, t, asked, &e, &end);
			pthread_rwlock_rdlock(&b->topics_lock);
			p = still_following(f, t);
			if (!p) {
				pthread_rwlock_unlock(&b->topics_lock);
				free(cache);
				return;
			}
			if (!err)
				err = isr_reconcile_step((const isr_epoch_entry_t *)cache, n, leo,
							 asked, e, end, &rc);
		}
		free(cache);
		if (!err)
			err = truncate_to(b, p, rc.truncate_to);
		if (!err && rc.done) {
			pthread_mutex_lock(&p->mu);
			if (p->isr.leader_epoch == t->leader_epoch)
				p->reconcile = false;
			pthread_mutex_unlock(&p->mu);
			pthread_rwlock_unlock(&b->topics_lock);
			return;
		}
		asked = rc.ask_epoch;
		pthread_rwlock_unlock(&b->topics_lock);
	}
	if (err && err != TERN_ERR_UNKNOWN_LEADER_EPOCH && err != TERN_ERR_FENCED_LEADER_EPOCH &&
	    err != TERN_ERR_NOT_LEADER_OR_FOLLOWER)
		bk_log('W', "replica", "%s-%d: reconciling with leader %d: %s", t->topic,
		       t->partition, f->leader, tern_strerror(err));
}

/* ------------------------------------------------------------------------ */
/* Out of range                                                               */

/* The leader's log start and LEO for t (ListOffsets as a replica). */
static tern_err_t leader_range(fetcher_t *f, const target_t *t, int64_t *start, int64_t *leo)
{
	proto_list_offsets_req_partition_t rp[2] = {
	    {.partition_index = t->partition,
	     .current_leader_epoch = t->leader_epoch,
	     .timestamp = -2},
	    {.partition_index = t->partition,
	     .current_leader_epoch = t->leader_epoch,
	     .timestamp = -1},
	};
	proto_list_offsets_req_topic_t rt[2] = {
	    {.name = proto_str(t->topic), .partitions = &rp[0], .partitions_count = 1},
	    {.name = proto_str(t->topic), .partitions = &rp[1], .partitions_count = 1},
	};
	proto_list_offsets_req_t req = {
	    .replica_id = f->b->cfg->broker_id, .topics = rt, .topics_count = 2};
	proto_list_offsets_resp_t m;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t body;
	uint8_t *resp;
	tern_err_t err;

	proto_buf_init(&body);
	proto_list_offsets_req_encode(&body, 5, &req);
	err = leader_call(f, PROTO_API_LIST_OFFSETS, 5, &body, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_list_offsets_resp_decode(&r, 5, &m);
	if (!err && (m.topics_count != 2 || m.topics[0].partitions_count != 1 ||
		     m.topics[1].partitions_count != 1))
		err = TERN_ERR_INVALID_REQUEST;
	if (!err)
		err = (tern_err_t)m.topics[0].partitions[0].error_code;
	if (!err)
		err = (tern_err_t)m.topics[1].partitions[0].error_code;
	if (!err) {
		*start = m.topics[0].partitions[0].offset;
		*leo = m.topics[1].partitions[0].offset;
	}
	call_free(resp, &arena);
	return err;
}

static void out_of_range(fetcher_t *f, const target_t *t)
{
	broker_t *b = f->b;
	int64_t start = 0, leo = 0, restart = 0;
	isr_oor_action_t act;
	bk_part_t *p;
	tern_err_t err;

	err = leader_range(f, t, &start, &leo);
	if (!err)
		err = isr_follower_out_of_range(t->fetch_offset, start, leo, &act, &restart);
	if (err) {
		bk_log('W', "replica", "%s-%d: offset %" PRId64 " out of the leader's range: %s",
		       t->topic, t->partition, t->fetch_offset, tern_strerror(err));
		return;
	}
	pthread_rwlock_rdlock(&b->topics_lock);
	p = still_following(f, t);
	if (p && act == ISR_OOR_RECONCILE) {
		pthread_mutex_lock(&p->mu);
		p->reconcile = true;
		pthread_mutex_unlock(&p->mu);
	} else if (p && act == ISR_OOR_RESTART_AT) {
		pthread_mutex_lock(&p->append_mu);
		err = log_truncate_fully(p->log, restart);
		pthread_mutex_unlock(&p->append_mu);
		pthread_mutex_lock(&p->mu);
		bk_idem_forget_from(&p->idem, restart);
		pthread_mutex_unlock(&p->mu);
		bk_log(err ? 'E' : 'I', "truncate",
		       "%s-%d: below the leader's log start %" PRId64 ": log emptied to start "
		       "there%s%s",
		       t->topic, t->partition, start, err ? ": " : "",
		       err ? tern_strerror(err) : "");
		if (!err)
			progress(b, p, ISR_UNKNOWN_OFFSET);
	}
	pthread_rwlock_unlock(&b->topics_lock);
}

/* ------------------------------------------------------------------------ */
/* Fetching                                                                   */

static void targets_free(target_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].topic);
	free(v);
}

/* The partitions this broker follows on f's leader, and the leader's
 * address (f->url, the pool remade when it moved). */
static size_t collect(fetcher_t *f, target_t **out)
{
	broker_t *b = f->b;
	target_t *v = NULL;
	size_t n = 0, cap = 0;
	char url[300] = "";

	pthread_rwlock_rdlock(&b->topics_lock);
	for (size_t i = 0; i < b->npeers; i++)
		if (b->peers[i].id == f->leader && b->peers[i].alive)
			snprintf(url, sizeof url, "tcp://%s:%d", b->peers[i].host,
				 b->peers[i].port);
	for (size_t i = 0; url[0] && i < b->ntopics; i++) {
		bk_topic_t *t = b->topics[i];

		for (int32_t j = 0; j < t->npart; j++) {
			bk_part_t *p = t->parts[j];
			target_t *x;

			if (!p)
				continue;
			pthread_mutex_lock(&p->mu);
			/* A corrupt log fetches again only once repaired. */
			if (p->isr.role != ISR_ROLE_FOLLOWER || p->isr.leader != f->leader ||
			    p->corrupt_reported) {
				pthread_mutex_unlock(&p->mu);
				continue;
			}
			if (n == cap) {
				target_t *w = realloc(v, (cap ? cap * 2 : 16) * sizeof *w);

				if (!w) {
					pthread_mutex_unlock(&p->mu);
					break;
				}
				v = w;
				cap = cap ? cap * 2 : 16;
			}
			x = &v[n];
			x->topic = strdup(t->name);
			x->partition = j;
			x->leader_epoch = p->isr.leader_epoch;
			x->reconcile = p->reconcile;
			x->fetch_offset = isr_acked_leo(&p->isr);
			pthread_mutex_unlock(&p->mu);
			x->log_start = log_start_offset(p->log);
			if (x->topic)
				n++;
		}
	}
	pthread_rwlock_unlock(&b->topics_lock);
	if (url[0] && strcmp(url, f->url) != 0) {
		char why[256];

		if (f->pool)
			proto_pool_close(f->pool);
		f->pool = NULL;
		if (proto_pool_new(url, 1, NULL, &f->pool, why, sizeof why) != TERN_OK)
			bk_log('W', "replica", "connecting to leader %d at %s: %s", f->leader, url,
			       why);
		else
			snprintf(f->url, sizeof f->url, "%s", url);
	}
	if (!url[0] || !f->pool) {
		targets_free(v, n);
		n = 0;
		v = NULL;
	}
	*out = v;
	return n;
}

/* A full disk fails every fetch the same way, several times a second:
 * one line per fetcher per BK_ERRLOG_MS. */
static void log_append_error(fetcher_t *f, const target_t *t, tern_err_t err)
{
	long skipped = 0;

	if (bk_errlog_due(&f->append_errlog, proto_now_ms(), &skipped))
		bk_log('E', "replica",
		       "%s-%d: appending fetched records: %s (%ld more since the last report)",
		       t->topic, t->partition, tern_strerror(err), skipped);
}

/* One Fetch for every target not waiting to reconcile; applies what comes
 * back. Returns false when the leader could not be asked. */
static bool fetch_once(fetcher_t *f, target_t *v, size_t n)
{
	broker_t *b = f->b;
	proto_fetch_req_t req = {.replica_id = b->cfg->broker_id,
				 .max_wait_ms = REPLICA_MAX_WAIT_MS,
				 .min_bytes = 1,
				 .max_bytes = REPLICA_MAX_BYTES,
				 .session_epoch = -1,
				 .rack_id = PROTO_STR("")};
	proto_fetch_req_topic_t *rt = calloc(n, sizeof *rt);
	proto_fetch_req_partition_t *rp = calloc(n, sizeof *rp);
	size_t *which = calloc(n, sizeof *which);
	proto_fetch_resp_t m;
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_buf_t body;
	uint8_t *resp = NULL;
	size_t k = 0;
	tern_err_t err;
	bool append_failed = false;

	if (!rt || !rp || !which) {
		free(rt);
		free(rp);
		free(which);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].reconcile)
			continue;
		rp[k].partition = v[i].partition;
		rp[k].current_leader_epoch = v[i].leader_epoch;
		rp[k].fetch_offset = v[i].fetch_offset;
		rp[k].log_start_offset = v[i].log_start;
		rp[k].partition_max_bytes = REPLICA_PART_BYTES;
		rt[k].topic = proto_str(v[i].topic);
		rt[k].partitions = &rp[k];
		rt[k].partitions_count = 1;
		which[k++] = i;
	}
	if (k == 0) {
		free(rt);
		free(rp);
		free(which);
		return true;
	}
	req.topics = rt;
	req.topics_count = (int32_t)k;
	proto_buf_init(&body);
	proto_fetch_req_encode(&body, 11, &req);
	err = leader_call(f, PROTO_API_FETCH, 11, &body, &resp, &r, &arena, &lim);
	if (!err)
		err = proto_fetch_resp_decode(&r, 11, &m);
	if (!err && m.error_code)
		err = (tern_err_t)m.error_code;
	for (int32_t i = 0; !err && i < m.topics_count; i++) {
		for (int32_t j = 0; j < m.topics[i].partitions_count; j++) {
			const proto_fetch_resp_partition_t *pr = &m.topics[i].partitions[j];
			const target_t *t = NULL;
			tern_err_t perr = (tern_err_t)pr->error_code;
			bk_part_t *p;

			for (size_t x = 0; x < k && !t; x++)
				if (proto_str_eq(m.topics[i].topic, v[which[x]].topic) &&
				    v[which[x]].partition == pr->partition_index)
					t = &v[which[x]];
			if (!t)
				continue;
			if (perr == TERN_ERR_OFFSET_OUT_OF_RANGE) {
				out_of_range(f, t);
				continue;
			}
			if (perr)
				continue; /* a new image will tell (fenced, not leader) */
			pthread_rwlock_rdlock(&b->topics_lock);
			p = still_following(f, t);
			if (p && pr->records.len > 0) {
				perr = append_fetched(b, p, pr->records.p, (size_t)pr->records.len);
				if (perr) {
					/* The same fetch would fail the same way
					 * at once (a full disk): back off. */
					append_failed = true;
					log_append_error(f, t, perr);
					if (log_is_failed(p->log))
						bk_part_storage_failed(b, p);
				}
			}
			if (p)
				progress(b, p, pr->high_watermark);
			pthread_rwlock_unlock(&b->topics_lock);
		}
	}
	call_free(resp, &arena);
	free(rt);
	free(rp);
	free(which);
	if (err && err != TERN_ERR__TIMED_OUT)
		bk_log('W', "replica", "fetching from leader %d: %s", f->leader,
		       tern_strerror(err));
	return !err && !append_failed;
}

static void *fetcher_main(void *arg)
{
	fetcher_t *f = arg;
	bk_fetchers_t *fs = f->b->fetchers;

	while (!atomic_load(&fs->stop)) {
		target_t *v = NULL;
		size_t n = collect(f, &v);
		bool ok = true, any_reconcile = false;

		for (size_t i = 0; i < n && !atomic_load(&fs->stop); i++) {
			if (v[i].reconcile) {
				reconcile(f, &v[i]);
				any_reconcile = true;
			}
		}
		if (n && !any_reconcile)
			ok = fetch_once(f, v, n);
		targets_free(v, n);
		if (n && ok && !any_reconcile)
			continue;
		if (any_reconcile && ok)
			continue;
		/* Nothing to fetch, or the leader failed: wait for a kick. */
		pthread_mutex_lock(&fs->mu);
		if (!fs->kick && !atomic_load(&fs->stop))
			tern_cond_wait_until(&fs->cond, &fs->mu,
					     proto_now_ms() + (n ? REPLICA_BACKOFF_MS : 500));
		fs->kick = false;
		pthread_mutex_unlock(&fs->mu);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life                                                                       */

static bk_fetchers_t *fetchers_get(broker_t *b)
{
	bk_fetchers_t *fs = b->fetchers;

	if (fs)
		return fs;
	fs = calloc(1, sizeof *fs);
	if (!fs)
		return NULL;
	pthread_mutex_init(&fs->mu, NULL);
	tern_cond_init_mono(&fs->cond);
	atomic_init(&fs->stop, false);
	b->fetchers = fs;
	return fs;
}

void bk_replica_update(broker_t *b)
{
	int32_t self = b->cfg->broker_id;
	bk_fetchers_t *fs;

	for (size_t i = 0; i < b->ntopics; i++) {
		bk_topic_t *t = b->topics[i];

		for (int32_t j = 0; j < t->npart; j++) {
			bk_part_t *p = t->parts[j];
			int32_t leader;
			fetcher_t *f;

			if (!p || p->isr.role != ISR_ROLE_FOLLOWER)
				continue;
			leader = p->isr.leader;
			if (leader < 0 || leader == self)
				continue;
			fs = fetchers_get(b);
			if (!fs)
				return;
			pthread_mutex_lock(&fs->mu);
			for (f = fs->list; f && f->leader != leader; f = f->next)
				;
			if (!f && !atomic_load(&fs->stop) && (f = calloc(1, sizeof *f))) {
				f->b = b;
				f->leader = leader;
				if (pthread_create(&f->thread, NULL, fetcher_main, f) == 0) {
					f->next = fs->list;
					fs->list = f;
					bk_log('I', "replica", "fetching from leader %d", leader);
				} else {
					free(f);
				}
			}
			pthread_mutex_unlock(&fs->mu);
		}
	}
	bk_replica_kick(b);
}

void bk_replica_kick(broker_t *b)
{
	bk_fetchers_t *fs = b->fetchers;

	if (!fs)
		return;
	pthread_mutex_lock(&fs->mu);
	fs->kick = true;
	pthread_cond_broadcast(&fs->cond);
	pthread_mutex_unlock(&fs->mu);
}

void bk_replica_stop(broker_t *b)
{
	bk_fetchers_t *fs = b->fetchers;
	fetcher_t *f;

	if (!fs)
		return;
	atomic_store(&fs->stop, true);
	bk_replica_kick(b);
	pthread_mutex_lock(&fs->mu);
	f = fs->list;
	fs->list = NULL;
	pthread_mutex_unlock(&fs->mu);
	while (f) {
		fetcher_t *next = f->next;

		pthread_join(f->thread, NULL);
		if (f->pool)
			proto_pool_close(f->pool);
		free(f);
		f = next;
	}
	pthread_cond_destroy(&fs->cond);
	pthread_mutex_destroy(&fs->mu);
	free(fs);
	b->fetchers = NULL;
}
