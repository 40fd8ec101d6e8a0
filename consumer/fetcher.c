/* consumer/fetcher.c: the consumer's fetcher thread: metadata (leaders,
 * leader epochs, the partitions of subscribed topics), start offsets
 * (committed offsets, ListOffsets v5 for the log start and the high-water
 * mark), one long-polling Fetch v11 per leader at a time, the checks and
 * decoding of the returned batches into the prefetch queue, and the
 * errors: NOT_LEADER/FENCED refresh metadata, OFFSET_OUT_OF_RANGE applies
 * auto.offset.reset, retriable errors back off. Automatic and asynchronous
 * commits are sent from here too.
 *
 * Everything here runs on the fetcher thread. It holds c->lock except
 * while it waits on the network or decodes records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer_int.h"

/* The longest the fetcher sleeps with nothing to fetch, and the slice in
 * which it looks at the stop flag while a Fetch is out. */
#define CONS_IDLE_MS  100
#define CONS_SLICE_MS 20

void cons_req_header(tern_consumer_t *c, proto_buf_t *b, int16_t key, int16_t ver)
{
	proto_req_hdr_t h = {
	    .api_key = key,
	    .api_version = ver,
	    .client_id = proto_str(c->cfg->client_id),
	};

	pthread_mutex_lock(&c->lock);
	h.correlation_id = ++c->corr & 0x7fffffff;
	pthread_mutex_unlock(&c->lock);
	proto_buf_init(b);
	proto_req_hdr_encode(b, &h);
}

tern_err_t cons_resp_open(proto_reader_t *r, proto_arena_t *a, const proto_limits_t *lim,
			  const uint8_t *resp, size_t len, int16_t key, int16_t ver)
{
	proto_resp_hdr_t rh;

	proto_arena_init(a, len * PROTO_ARENA_FACTOR + 4096);
	proto_reader_init(r, resp, len, lim, a);
	return proto_resp_hdr_decode(r, key, ver, &rh);
}

tern_err_t cons_bootstrap_call(tern_consumer_t *c, const proto_buf_t *b, uint8_t **resp,
			       size_t *len)
{
	size_t n = c->cfg->bootstrap_servers.n;
	size_t i;
	tern_err_t err;

	pthread_mutex_lock(&c->lock);
	i = c->bootstrap_next % n;
	pthread_mutex_unlock(&c->lock);
	err = proto_conn_call(proto_pool_conn(c->bootstrap[i], 0), b->p, b->len,
			      PROTO_DEADLINE_DEFAULT, resp, len);
	if (err) {
		cons_log(c, TERN_LOG_WARNING, "BOOTSTRAP", "%s: %s", c->cfg->bootstrap_servers.v[i],
			 tern_err_name(err));
		pthread_mutex_lock(&c->lock);
		c->bootstrap_next++;
		pthread_mutex_unlock(&c->lock);
	}
	return err;
}

/* ------------------------------------------------------------------------ */
/* Brokers                                                                    */

void cons_brokers_free(tern_consumer_t *c)
{
	while (c->brokers) {
		cons_broker_t *b = c->brokers;

		c->brokers = b->next;
		if (b->pool)
			proto_pool_close(b->pool);
		free(b->url);
		free(b);
	}
}

static cons_broker_t *broker_find(tern_consumer_t *c, int32_t id)
{
	cons_broker_t *b;

	for (b = c->brokers; b; b = b->next)
		if (b->id == id)
			return b;
	return NULL;
}

/* Learns a broker's address; one that moved gets a new pool (nothing is
 * in flight on it: metadata is only asked between fetch rounds). */
static void broker_learn(tern_consumer_t *c, const proto_metadata_broker_t *mb)
{
	char url[300], host[256];
	cons_broker_t *b = broker_find(c, mb->node_id);

	proto_str_copy(mb->host, host, sizeof(host));
	snprintf(url, sizeof(url), "tcp://%s:%d", host, mb->port);
	if (b && b->url && strcmp(b->url, url) == 0)
		return;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return;
		b->id = mb->node_id;
		b->next = c->brokers;
		c->brokers = b;
	}
	if (b->pool)
		proto_pool_close(b->pool);
	b->pool = NULL;
	free(b->url);
	b->url = strdup(url);
}

/* b's pool, opened on first use, or NULL. */
static proto_pool_t *broker_pool(tern_consumer_t *c, cons_broker_t *b)
{
	char why[200];

	if (b->pool || !b->url)
		return b->pool;
	if (proto_pool_new(b->url, 2, &c->topts, &b->pool, why, sizeof(why)) != TERN_OK)
		cons_log(c, TERN_LOG_WARNING, "CONNECT", "broker %d at %s: %s", b->id, b->url, why);
	return b->pool;
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                   */

/* Applies one topic of a Metadata response. Locks: lock held. */
static void metadata_topic(tern_consumer_t *c, const proto_metadata_topic_t *mt)
{
	char name[256];
	bool subscribed = false;
	cons_part_t *p;
	size_t i;

	proto_str_copy(mt->name, name, sizeof(name));
	if (mt->error_code || mt->partitions_count <= 0) {
		cons_log(c, TERN_LOG_INFO, "METADATA", "topic %s: %s", name,
			 tern_err_name(mt->error_code ? (tern_err_t)mt->error_code
						      : TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION));
		c->metadata_wanted = true;
		return;
	}
	for (i = 0; i < c->nsubs; i++)
		subscribed |= strcmp(c->subs[i], name) == 0;
	for (int32_t k = 0; k < mt->partitions_count; k++) {
		const proto_metadata_partition_t *mp = &mt->partitions[k];

		p = cons_part_find(c, name, mp->partition_index);
		if (!p && subscribed)
			p = cons_part_add(c, name, mp->partition_index, TERN_OFFSET_STORED);
		if (!p)
			continue;
		if (mp->error_code == TERN_ERR_LEADER_NOT_AVAILABLE || mp->leader_id < 0) {
			p->leader = -1;
			c->metadata_wanted = true;
		} else {
			p->leader = mp->leader_id;
			p->leader_epoch = mp->leader_epoch;
		}
	}
	/* Assigned partitions the topic does not have. */
	for (p = c->parts; p; p = p->next)
		if (strcmp(p->topic, name) == 0 && p->id >= mt->partitions_count &&
		    !p->missing_reported && p->state != CONS_P_PAUSED) {
			p->missing_reported = true;
			cons_part_fail(c, p, TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION, p->position);
		}
}

/* Asks for the metadata of every topic read. Locks: lock held; dropped
 * around the request. */
static void do_metadata(tern_consumer_t *c, int64_t now)
{
	proto_metadata_req_t m = {0};
	proto_metadata_resp_t mr;
	proto_str_t *names;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t b;
	cons_part_t *p;
	uint8_t *resp = NULL;
	size_t len, n = 0, i, cap = c->nsubs;
	tern_err_t err;

	c->metadata_next_ms = now + (c->cfg->retry_backoff_ms > 0 ? c->cfg->retry_backoff_ms : 1);
	for (p = c->parts; p; p = p->next)
		cap++;
	if (!cap)
		return;
	names = calloc(cap, sizeof(*names));
	if (!names)
		return;
	/* Names borrow the parts' and subscriptions' strings, which live as
	 * long as the consumer; the request is encoded before the lock goes. */
	for (i = 0; i < c->nsubs; i++)
		names[n++] = proto_str(c->subs[i]);
	for (p = c->parts; p; p = p->next) {
		for (i = 0; i < n; i++)
			if (proto_str_eq(names[i], p->topic))
				break;
		if (i == n)
			names[n++] = proto_str(p->topic);
	}
	m.topics = names;
	m.topics_count = (int32_t)n;
	m.allow_auto_topic_creation = false;
	pthread_mutex_unlock(&c->lock);
	cons_req_header(c, &b, PROTO_API_METADATA, CONS_METADATA_VERSION);
	proto_metadata_req_encode(&b, CONS_METADATA_VERSION, &m);
	free(names);
	err = b.oom ? TERN_ERR__NOMEM : cons_bootstrap_call(c, &b, &resp, &len);
	proto_buf_free(&b);
	pthread_mutex_lock(&c->lock);
	if (err)
		return;
	proto_limits_default(&lim);
	err = cons_resp_open(&r, &a, &lim, resp, len, PROTO_API_METADATA, CONS_METADATA_VERSION);
	if (!err)
		err = proto_metadata_resp_decode(&r, CONS_METADATA_VERSION, &mr);
	if (err) {
		cons_log(c, TERN_LOG_WARNING, "METADATA", "bad Metadata response: %s",
			 tern_err_name(err));
		goto out;
	}
	for (i = 0; i < (size_t)mr.brokers_count; i++)
		broker_learn(c, &mr.brokers[i]);
	c->metadata_wanted = false;
	c->metadata_last_ms = now;
	for (i = 0; i < (size_t)mr.topics_count; i++)
		metadata_topic(c, &mr.topics[i]);
out:
	proto_arena_free(&a);
	proto_msg_free(resp);
}

/* ------------------------------------------------------------------------ */
/* Start offsets                                                              */

/* The sentinel auto.offset.reset stands for, or 0 under "none". */
static int64_t reset_target(const tern_consumer_t *c)
{
	switch (c->cfg->auto_offset_reset) {
	case CONS_RESET_EARLIEST:
		return TERN_OFFSET_BEGINNING;
	case CONS_RESET_LATEST:
		return TERN_OFFSET_END;
	default:
		return 0;
	}
}

/* Resolves every partition waiting for its committed offset. Locks: lock
 * held; dropped around the request. */
static void resolve_stored(tern_consumer_t *c)
{
	const char **topics = NULL;
	cons_part_t **parts = NULL, *p;
	uint64_t *versions = NULL;
	int32_t *ids = NULL;
	int64_t *offs = NULL;
	size_t n = 0, cap = 0, i;
	tern_err_t err = TERN_OK;

	for (p = c->parts; p; p = p->next)
		cap += p->state == CONS_P_LOOKUP && p->want == TERN_OFFSET_STORED;
	if (!cap)
		return;
	parts = calloc(cap, sizeof(*parts));
	topics = calloc(cap, sizeof(*topics));
	ids = calloc(cap, sizeof(*ids));
	offs = calloc(cap, sizeof(*offs));
	versions = calloc(cap, sizeof(*versions));
	if (!parts || !topics || !ids || !offs || !versions)
		goto out;
	for (p = c->parts; p; p = p->next)
		if (p->state == CONS_P_LOOKUP && p->want == TERN_OFFSET_STORED) {
			parts[n] = p;
			topics[n] = p->topic;
			ids[n] = p->id;
			versions[n] = p->version;
			offs[n++] = -1;
		}
	if (c->cfg->group_id[0]) {
		pthread_mutex_unlock(&c->lock);
		err = cons_fetch_committed(c, topics, ids, n,
					   proto_now_ms() + c->cfg->request_timeout_ms, offs);
		pthread_mutex_lock(&c->lock);
	}
	for (i = 0; i < n; i++) {
		p = parts[i];
		if (p->version != versions[i] || p->state != CONS_P_LOOKUP)
			continue;
		if (err) {
			p->retry_at_ms = proto_now_ms() + c->cfg->retry_backoff_ms;
			continue;
		}
		if (offs[i] >= 0) {
			cons_log(c, TERN_LOG_DEBUG, "OFFSET", "%s [%d]: committed offset %lld",
				 p->topic, p->id, (long long)offs[i]);
			p->committed = offs[i];
			cons_part_move(c, p, offs[i]);
		} else if (reset_target(c)) {
			p->want = reset_target(c);
		} else {
			cons_part_fail(c, p, TERN_ERR__NO_OFFSET, TERN_OFFSET_INVALID);
		}
	}
	if (err)
		cons_log(c, TERN_LOG_WARNING, "OFFSET", "committed offsets of group %s: %s",
			 c->cfg->group_id, tern_err_name(err));
out:
	free(parts);
	free(topics);
	free(ids);
	free(offs);
	free(versions);
}

/* Whether a partition error means "find the leader again". */
static bool leader_moved(tern_err_t err)
{
	return err == TERN_ERR_NOT_LEADER_OR_FOLLOWER || err == TERN_ERR_FENCED_LEADER_EPOCH ||
	       err == TERN_ERR_UNKNOWN_LEADER_EPOCH || err == TERN_ERR_LEADER_NOT_AVAILABLE ||
	       err == TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION || err == TERN_ERR_REPLICA_NOT_AVAILABLE;
}

/* A retriable error of part: back off, and find its leader again when
 * that is what the error says. Locks: lock held. */
static void part_backoff(tern_consumer_t *c, cons_part_t *p, tern_err_t err, int64_t now)
{
	p->retry_at_ms = now + c->cfg->retry_backoff_ms;
	if (leader_moved(err) || err == TERN_ERR_NETWORK_EXCEPTION) {
		p->leader = -1;
		c->metadata_wanted = true;
	}
	cons_log(c, TERN_LOG_INFO, "RETRY", "%s [%d]: %s, again in %d ms", p->topic, p->id,
		 tern_err_name(err), c->cfg->retry_backoff_ms);
}

/* ListOffsets for every partition of broker b waiting for its log start or
 * end. Locks: lock held; dropped around the request. */
static void list_offsets(tern_consumer_t *c, cons_broker_t *b, int64_t now)
{
	proto_list_offsets_req_topic_t *ts = NULL;
	proto_list_offsets_req_partition_t *ps = NULL;
	proto_list_offsets_req_t m = {0};
	proto_list_offsets_resp_t lr;
	cons_part_t **parts = NULL, *p;
	uint64_t *versions = NULL;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	proto_buf_t q;
	proto_pool_t *pool;
	uint8_t *resp = NULL;
	size_t n = 0, nt = 0, i, k, len;
	tern_err_t err;

	for (p = c->parts; p; p = p->next)
		if (p->state == CONS_P_LOOKUP && p->want != TERN_OFFSET_STORED &&
		    p->leader == b->id && p->retry_at_ms <= now)
			n++;
	if (!n || !(pool = broker_pool(c, b)))
		return;
	ts = calloc(n, sizeof(*ts));
	ps = calloc(n, sizeof(*ps));
	parts = calloc(n, sizeof(*parts));
	versions = calloc(n, sizeof(*versions));
	if (!ts || !ps || !parts || !versions)
		goto out;
	n = 0;
	for (p = c->parts; p; p = p->next) {
		if (p->state != CONS_P_LOOKUP || p->want == TERN_OFFSET_STORED ||
		    p->leader != b->id || p->retry_at_ms > now)
			continue;
		parts[n] = p;
		versions[n++] = p->version;
	}
	/* One topic entry per topic, its partitions together in ps[]. */
	for (i = 0, k = 0; i < n; i++) {
		size_t t;

		for (t = 0; t < nt; t++)
			if (proto_str_eq(ts[t].name, parts[i]->topic))
				break;
		if (t < nt)
			continue;
		ts[nt].name = proto_str(parts[i]->topic);
		ts[nt].partitions = &ps[k];
		for (size_t j = i; j < n; j++)
			if (strcmp(parts[j]->topic, parts[i]->topic) == 0) {
				ps[k++] = (proto_list_offsets_req_partition_t){
				    parts[j]->id, parts[j]->leader_epoch, parts[j]->want};
				ts[nt].partitions_count++;
			}
		nt++;
	}
	m.replica_id = -1;
	m.topics = ts;
	m.topics_count = (int32_t)nt;
	pthread_mutex_unlock(&c->lock);
	cons_req_header(c, &q, PROTO_API_LIST_OFFSETS, CONS_LIST_OFFSETS_VERSION);
	proto_list_offsets_req_encode(&q, CONS_LIST_OFFSETS_VERSION, &m);
	err = q.oom ? TERN_ERR__NOMEM
		    : proto_conn_call(proto_pool_conn(pool, 1), q.p, q.len, PROTO_DEADLINE_DEFAULT,
				      &resp, &len);
	proto_buf_free(&q);
	if (!err) {
		proto_limits_default(&lim);
		err = cons_resp_open(&r, &a, &lim, resp, len, PROTO_API_LIST_OFFSETS,
				     CONS_LIST_OFFSETS_VERSION);
		if (!err)
			err = proto_list_offsets_resp_decode(&r, CONS_LIST_OFFSETS_VERSION, &lr);
		if (err)
			proto_arena_free(&a);
	}
	pthread_mutex_lock(&c->lock);
	now = proto_now_ms();
	if (err) {
		for (i = 0; i < n; i++)
			if (parts[i]->version == versions[i])
				part_backoff(c, parts[i], err, now);
		goto out;
	}
	for (i = 0; i < (size_t)lr.topics_count; i++)
		for (k = 0; k < (size_t)lr.topics[i].partitions_count; k++) {
			const proto_list_offsets_resp_partition_t *rp = &lr.topics[i].partitions[k];

			for (size_t j = 0; j < n; j++) {
				p = parts[j];
				if (p->id != rp->partition_index ||
				    !proto_str_eq(lr.topics[i].name, p->topic) ||
				    p->version != versions[j] || p->state != CONS_P_LOOKUP)
					continue;
				if (rp->error_code == 0 && rp->offset >= 0) {
					cons_log(c, TERN_LOG_DEBUG, "OFFSET", "%s [%d]: %s is %lld",
						 p->topic, p->id,
						 p->want == TERN_OFFSET_BEGINNING ? "log start"
										  : "end",
						 (long long)rp->offset);
					cons_part_move(c, p, rp->offset);
				} else if (tern_err_is_retriable((tern_err_t)rp->error_code)) {
					part_backoff(c, p, (tern_err_t)rp->error_code, now);
				} else {
					cons_part_fail(c, p,
						       rp->error_code
							   ? (tern_err_t)rp->error_code
							   : TERN_ERR_OFFSET_OUT_OF_RANGE,
						       TERN_OFFSET_INVALID);
				}
			}
		}
	proto_arena_free(&a);
out:
	proto_msg_free(resp);
	free(ts);
	free(ps);
	free(parts);
	free(versions);
}

/* ------------------------------------------------------------------------ */
/* Decoding fetched batches                                                   */

/* A message block for one record of part. NULL when memory is short. */
static cons_msg_t *record_msg(const cons_part_t *part, const log_batch_hdr_t *h,
			      const log_record_t *rec)
{
	size_t tlen = strlen(part->topic) + 1;
	size_t klen = rec->key_len > 0 ? (size_t)rec->key_len : 0;
	size_t vlen = rec->value_len > 0 ? (size_t)rec->value_len : 0;
	size_t size = sizeof(cons_msg_t) + tlen + klen + vlen + 2;
	tern_header_t *hs;
	cons_msg_t *m;
	char *at;
	uint32_t i;

	size += (size_t)rec->nheaders * sizeof(tern_header_t);
	for (i = 0; i < rec->nheaders; i++)
		size += (size_t)rec->headers[i].key_len + 1 +
			(rec->headers[i].value_len > 0 ? (size_t)rec->headers[i].value_len : 0);
	m = malloc(size);
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->size = size;
	hs = (tern_header_t *)(m + 1);
	at = (char *)(hs + rec->nheaders);
	m->m.topic = at;
	memcpy(at, part->topic, tlen);
	at += tlen;
	m->m.partition = part->id;
	m->m.offset = rec->offset;
	m->m.timestamp = rec->timestamp;
	m->m.log_append_time = (h->attributes & LOG_ATTR_LOG_APPEND_TIME) != 0;
	m->m.leader_epoch = h->leader_epoch;
	/* A null key or value stays NULL; an empty one points at a byte. */
	if (rec->key) {
		memcpy(at, rec->key, klen);
		m->m.key = at;
		m->m.key_len = klen;
		at += klen;
	}
	*at++ = 0;
	if (rec->value) {
		memcpy(at, rec->value, vlen);
		m->m.value = at;
		m->m.value_len = vlen;
		at += vlen;
	}
	*at++ = 0;
	for (i = 0; i < rec->nheaders; i++) {
		const log_header_view_t *hv = &rec->headers[i];

		hs[i] = (tern_header_t){0};
		memcpy(at, hv->key, (size_t)hv->key_len);
		hs[i].key = at;
		hs[i].key_len = (size_t)hv->key_len;
		at += hv->key_len;
		*at++ = 0;
		if (hv->value) {
			memcpy(at, hv->value, (size_t)hv->value_len);
			hs[i].value = at;
			hs[i].value_len = (size_t)hv->value_len;
			at += hv->value_len;
		}
	}
	m->m.headers = rec->nheaders ? hs : NULL;
	m->m.nheaders = rec->nheaders;
	return m;
}

/* The outcome of decoding one partition's records. */
typedef struct decoded {
	cons_msg_t *head, *tail;
	int64_t next;	    /* the offset after the last batch used */
	tern_err_t err;	    /* CORRUPT_MESSAGE, _NOMEM, or 0 */
	int64_t err_offset; /* where the bad batch starts */
} decoded_t;

/* Decodes whole batches of records[0..len) from offset from on: records
 * below from (inside the first batch) are skipped, control batches too;
 * a trailing partial batch (cut by the byte limits) is left for the next
 * Fetch. Runs without any lock: part's topic and id are immutable. */
static void decode_records(const tern_consumer_t *c, const cons_part_t *part,
			   const uint8_t *records, size_t len, int64_t from, decoded_t *d)
{
	log_validate_opts_t vo = {.deep = false};
	size_t at = 0;
	char why[160];

	*d = (decoded_t){.next = from};
	while (len - at >= LOG_BATCH_HEADER_SIZE) {
		const uint8_t *b = records + at;
		cons_msg_t *before;
		log_batch_hdr_t h;
		log_batch_iter_t *it = NULL;
		log_record_t rec;
		tern_err_t err;

		if (log_batch_hdr_parse(b, len - at, &h) != TERN_OK) {
			d->err = TERN_ERR_CORRUPT_MESSAGE;
			d->err_offset = d->next;
			return;
		}
		if (log_batch_size(&h) > len - at)
			break;
		if (c->cfg->check_crcs &&
		    log_batch_validate(b, len - at, &vo, &h, why, sizeof(why)) != TERN_OK) {
			cons_log(c, TERN_LOG_ERR, "CRC", "%s [%d] batch at offset %lld: %s",
				 part->topic, part->id, (long long)h.base_offset, why);
			d->err = TERN_ERR_CORRUPT_MESSAGE;
			d->err_offset = h.base_offset > d->next ? h.base_offset : d->next;
			return;
		}
		at += log_batch_size(&h);
		if (log_batch_last_offset(&h) < d->next)
			continue;
		if (h.attributes & LOG_ATTR_CONTROL) {
			d->next = log_batch_last_offset(&h) + 1;
			continue;
		}
		before = d->tail;
		err = log_batch_iter_new(b, log_batch_size(&h), 0, &it);
		while (!err && (err = log_batch_iter_next(it, &rec)) == TERN_OK) {
			cons_msg_t *m;

			if (rec.offset < d->next)
				continue;
			m = record_msg(part, &h, &rec);
			if (!m) {
				err = TERN_ERR__NOMEM;
				break;
			}
			if (d->tail)
				d->tail->next = m;
			else
				d->head = m;
			d->tail = m;
		}
		if (err != TERN_ERR__END) {
			cons_msg_t *x = before ? before->next : d->head;

			if (err != TERN_ERR__NOMEM)
				cons_log(c, TERN_LOG_ERR, "DECODE",
					 "%s [%d] batch at offset %lld: %s", part->topic, part->id,
					 (long long)h.base_offset, tern_err_name(err));
			log_batch_iter_free(it);
			/* None of a bad batch is delivered: drop what was
			 * decoded of it. */
			while (x) {
				cons_msg_t *next = x->next;

				free(x);
				x = next;
			}
			if (before)
				before->next = NULL;
			else
				d->head = NULL;
			d->tail = before;
			d->err = err == TERN_ERR__NOMEM ? err : TERN_ERR_CORRUPT_MESSAGE;
			d->err_offset = h.base_offset > d->next ? h.base_offset : d->next;
			return;
		}
		log_batch_iter_free(it);
		d->next = log_batch_last_offset(&h) + 1;
	}
}

/* ------------------------------------------------------------------------ */
/* Fetch                                                                      */

/* One partition in a Fetch request. */
typedef struct fetch_slot {
	cons_part_t *part;
	uint64_t version;
	int64_t offset;
} fetch_slot_t;

/* One Fetch request out to one broker. */
typedef struct fetch_req {
	cons_broker_t *broker;
	proto_conn_t *conn;
	fetch_slot_t *slots;
	size_t nslots;
	bool sent;
} fetch_req_t;

/* Builds and sends the Fetch of req (slots filled). Locks: none held. */
static tern_err_t fetch_send(tern_consumer_t *c, fetch_req_t *req, int32_t max_bytes,
			     int32_t part_max)
{
	proto_fetch_req_topic_t *ts = calloc(req->nslots, sizeof(*ts));
	proto_fetch_req_partition_t *ps = calloc(req->nslots, sizeof(*ps));
	proto_fetch_req_t m = {0};
	proto_buf_t b;
	size_t nt = 0, k = 0, i;
	tern_err_t err;

	if (!ts || !ps) {
		free(ts);
		free(ps);
		return TERN_ERR__NOMEM;
	}
	for (i = 0; i < req->nslots; i++) {
		const char *t = req->slots[i].part->topic;
		size_t x;

		for (x = 0; x < nt; x++)
			if (proto_str_eq(ts[x].topic, t))
				break;
		if (x < nt)
			continue;
		ts[nt].topic = proto_str(t);
		ts[nt].partitions = &ps[k];
		for (size_t j = i; j < req->nslots; j++) {
			const fetch_slot_t *s = &req->slots[j];

			if (strcmp(s->part->topic, t) != 0)
				continue;
			ps[k++] = (proto_fetch_req_partition_t){
			    .partition = s->part->id,
			    .current_leader_epoch = s->part->leader_epoch,
			    .fetch_offset = s->offset,
			    .log_start_offset = -1,
			    .partition_max_bytes = part_max,
			};
			ts[nt].partitions_count++;
		}
		nt++;
	}
	m.replica_id = -1;
	m.max_wait_ms = c->cfg->fetch_max_wait_ms;
	m.min_bytes = c->cfg->fetch_min_bytes;
	m.max_bytes = max_bytes;
	m.isolation_level = 0;
	m.session_id = 0;
	m.session_epoch = -1; /* a full fetch, no session (KIP-227) */
	m.topics = ts;
	m.topics_count = (int32_t)nt;
	m.rack_id = PROTO_STR("");
	cons_req_header(c, &b, PROTO_API_FETCH, CONS_FETCH_VERSION);
	proto_fetch_req_encode(&b, CONS_FETCH_VERSION, &m);
	free(ts);
	free(ps);
	if (b.oom) {
		proto_buf_free(&b);
		return TERN_ERR__NOMEM;
	}
	err = proto_conn_send(req->conn, b.p, b.len,
			      proto_now_ms() + c->cfg->fetch_max_wait_ms +
				  c->cfg->request_timeout_ms);
	proto_buf_free(&b);
	return err;
}

/* Applies one partition of a Fetch response. Locks: lock held; dropped
 * while the records are decoded. */
static void fetch_partition(tern_consumer_t *c, const fetch_slot_t *s,
			    const proto_fetch_resp_partition_t *rp)
{
	cons_part_t *p = s->part;
	tern_err_t err = (tern_err_t)rp->error_code;
	int64_t now = proto_now_ms();
	decoded_t d = {.next = s->offset};

	if (p->version != s->version || p->state != CONS_P_ACTIVE)
		return;
	if (err == TERN_ERR_OFFSET_OUT_OF_RANGE) {
		int64_t to = reset_target(c);

		if (!to) {
			cons_part_fail(c, p, err, s->offset);
			return;
		}
		cons_log(c, TERN_LOG_NOTICE, "RESET",
			 "%s [%d]: offset %lld out of range, auto.offset.reset to the %s", p->topic,
			 p->id, (long long)s->offset,
			 to == TERN_OFFSET_BEGINNING ? "log start" : "end");
		cons_part_move(c, p, to);
		return;
	}
	if (err) {
		if (tern_err_is_retriable(err))
			part_backoff(c, p, err, now);
		else
			cons_part_fail(c, p, err, s->offset);
		return;
	}
	p->hwm = rp->high_watermark;
	if (rp->records.len > 0) {
		pthread_mutex_unlock(&c->lock);
		decode_records(c, p, rp->records.p, (size_t)rp->records.len, s->offset, &d);
		pthread_mutex_lock(&c->lock);
	}
	if (p->version != s->version || p->state != CONS_P_ACTIVE) {
		while (d.head) {
			cons_msg_t *m = d.head;

			d.head = m->next;
			free(m);
		}
		return;
	}
	{
		size_t mem = 0;

		while (d.head) {
			cons_msg_t *m = d.head;

			d.head = m->next;
			m->part = p;
			m->version = p->version;
			mem += m->size;
			cons_queue_push(c, m);
		}
		/* How much memory a fetched byte became, for the size of the
		 * next request (fetch_round). */
		if (mem && rp->records.len > 0) {
			c->expand = (double)mem / (double)rp->records.len;
			if (c->expand < 1.0)
				c->expand = 1.0;
		}
	}
	p->fetch_offset = d.next;
	if (p->nqueued == 0)
		p->position = p->fetch_offset;
	if (d.err == TERN_ERR__NOMEM) {
		p->retry_at_ms = now + c->cfg->retry_backoff_ms;
	} else if (d.err) {
		/* The position stays at the bad batch: a seek resumes. */
		p->fetch_offset = d.err_offset;
		cons_part_fail(c, p, d.err, d.err_offset);
		return;
	}
	if (c->cfg->enable_partition_eof && p->hwm >= 0 && p->fetch_offset >= p->hwm &&
	    p->eof_reported != p->fetch_offset) {
		cons_msg_t *m = cons_event_new(p, TERN_ERR__PARTITION_EOF, p->fetch_offset);

		p->eof_reported = p->fetch_offset;
		if (m)
			cons_queue_push(c, m);
	}
}

/* Takes the outcome of req's Fetch. Locks: lock held; dropped around the
 * receive and the decoding. */
static void fetch_done(tern_consumer_t *c, fetch_req_t *req)
{
	proto_fetch_resp_t fr;
	proto_limits_t lim;
	proto_reader_t r;
	proto_arena_t a;
	uint8_t *resp = NULL;
	size_t len, i, k;
	tern_err_t err;

	pthread_mutex_unlock(&c->lock);
	err = proto_conn_recv(req->conn, &resp, &len);
	proto_limits_default(&lim);
	proto_arena_init(&a, 0);
	if (!err)
		err = cons_resp_open(&r, &a, &lim, resp, len, PROTO_API_FETCH, CONS_FETCH_VERSION);
	if (!err)
		err = proto_fetch_resp_decode(&r, CONS_FETCH_VERSION, &fr);
	if (!err)
		err = (tern_err_t)fr.error_code;
	pthread_mutex_lock(&c->lock);
	req->sent = false;
	for (i = 0; i < req->nslots; i++)
		req->slots[i].part->inflight = false;
	if (err) {
		int64_t now = proto_now_ms();

		cons_log(c, TERN_LOG_WARNING, "FETCH", "Fetch from broker %d: %s", req->broker->id,
			 tern_err_name(err));
		for (i = 0; i < req->nslots; i++)
			if (req->slots[i].part->version == req->slots[i].version)
				part_backoff(c, req->slots[i].part, err, now);
		goto out;
	}
	for (i = 0; i < (size_t)fr.topics_count; i++)
		for (k = 0; k < (size_t)fr.topics[i].partitions_count; k++) {
			const proto_fetch_resp_partition_t *rp = &fr.topics[i].partitions[k];

			for (size_t j = 0; j < req->nslots; j++) {
				const fetch_slot_t *s = &req->slots[j];

				if (s->part->id == rp->partition_index &&
				    proto_str_eq(fr.topics[i].topic, s->part->topic))
					fetch_partition(c, s, rp);
			}
		}
out:
	proto_arena_free(&a);
	proto_msg_free(resp);
}

/* Sends one Fetch per leader with fetchable partitions and takes every
 * answer. Returns false when there was nothing to fetch. Locks: lock
 * held; dropped while requests are out. */
static bool fetch_round(tern_consumer_t *c, int64_t now)
{
	fetch_req_t *reqs = NULL;
	proto_conn_t **conns = NULL;
	bool *ready = NULL;
	size_t nb = 0, nreq = 0, i, pending = 0;
	cons_broker_t *b;
	cons_part_t *p;
	int64_t room;
	int32_t max_bytes, part_max;
	bool any = false;

	room = (int64_t)c->queue_max - (int64_t)c->qbytes;
	if (room <= 0)
		return false;
	for (b = c->brokers; b; b = b->next)
		nb++;
	if (!nb)
		return false;
	reqs = calloc(nb, sizeof(*reqs));
	conns = calloc(nb, sizeof(*conns));
	ready = calloc(nb, sizeof(*ready));
	if (!reqs || !conns || !ready)
		goto out;
	for (b = c->brokers; b; b = b->next) {
		fetch_req_t *q = &reqs[nreq];
		size_t n = 0;
		proto_pool_t *pool;

		for (p = c->parts; p; p = p->next)
			n += p->state == CONS_P_ACTIVE && p->leader == b->id && !p->inflight &&
			     p->retry_at_ms <= now;
		if (!n || !(pool = broker_pool(c, b)))
			continue;
		q->slots = calloc(n, sizeof(*q->slots));
		if (!q->slots)
			continue;
		q->broker = b;
		q->conn = proto_pool_conn(pool, 0);
		for (p = c->parts; p; p = p->next)
			if (p->state == CONS_P_ACTIVE && p->leader == b->id && !p->inflight &&
			    p->retry_at_ms <= now) {
				q->slots[q->nslots++] =
				    (fetch_slot_t){p, p->version, p->fetch_offset};
				p->inflight = true;
			}
		nreq++;
	}
	if (!nreq)
		goto out;
	any = true;
	/* The queue's room is shared among the requests of this round, so
	 * that together they ask for no more than it holds once decoded: a
	 * fetched byte takes c->expand bytes in the queue (per-record
	 * overhead, decompression), as the last response showed. */
	room = (int64_t)((double)room / c->expand) / (int64_t)nreq;
	max_bytes = room < c->cfg->fetch_max_bytes ? (int32_t)room : c->cfg->fetch_max_bytes;
	part_max = max_bytes < c->cfg->max_partition_fetch_bytes
		       ? max_bytes
		       : c->cfg->max_partition_fetch_bytes;
	if (max_bytes < 1)
		max_bytes = part_max = 1;
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < nreq; i++) {
		tern_err_t err = fetch_send(c, &reqs[i], max_bytes, part_max);

		if (err) {
			pthread_mutex_lock(&c->lock);
			cons_log(c, TERN_LOG_WARNING, "FETCH", "Fetch to broker %d not sent: %s",
				 reqs[i].broker->id, tern_err_name(err));
			for (size_t j = 0; j < reqs[i].nslots; j++) {
				reqs[i].slots[j].part->inflight = false;
				part_backoff(c, reqs[i].slots[j].part, err, proto_now_ms());
			}
			pthread_mutex_unlock(&c->lock);
			continue;
		}
		reqs[i].sent = true;
		pending++;
	}
	/* Wait for every answer, a slice at a time so that close is not
	 * held up by a long poll: a request abandoned then dies with its
	 * pool. The broker list does not change while requests are out, so
	 * the brokers and their pools outlive every request of the round. */
	while (pending) {
		size_t n = 0, nready = 0;
		bool stop, all;

		pthread_mutex_lock(&c->lock);
		stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		for (i = 0; i < nreq; i++)
			if (reqs[i].sent)
				conns[n++] = reqs[i].conn;
		/* On a poll error every recv tells what happened. */
		all = proto_conn_poll(conns, n, proto_now_ms() + CONS_SLICE_MS, ready, &nready) !=
		      TERN_OK;
		pthread_mutex_lock(&c->lock);
		for (i = 0, n = 0; i < nreq; i++) {
			if (!reqs[i].sent)
				continue;
			if (ready[n++] || all) {
				fetch_done(c, &reqs[i]);
				pending--;
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < nreq; i++)
		for (size_t j = 0; reqs[i].sent && j < reqs[i].nslots; j++)
			reqs[i].slots[j].part->inflight = false;
out:
	for (i = 0; reqs && i < nb; i++)
		free(reqs[i].slots);
	free(reqs);
	free(conns);
	free(ready);
	return any;
}

/* Sends an asynchronous commit (asked: its callback runs even with nothing
 * to commit) or an automatic one. Locks: lock held; dropped around the
 * request. */
static void commit_async(tern_consumer_t *c, bool asked)
{
	cons_commit_item_t *items;
	tern_err_t err = TERN_OK;
	size_t n;

	items = cons_commit_snapshot(c, &n);
	if (n) {
		pthread_mutex_unlock(&c->lock);
		err = cons_commit_items(c, items, n, proto_now_ms() + c->cfg->request_timeout_ms);
		pthread_mutex_lock(&c->lock);
	}
	free(items);
	if (asked || n)
		cons_commit_result(c, err, n);
}

void *cons_fetcher_main(void *arg)
{
	tern_consumer_t *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		int64_t now = proto_now_ms();
		bool fetched;

		if ((c->metadata_wanted ||
		     now - c->metadata_last_ms >= c->cfg->metadata_max_age_ms) &&
		    now >= c->metadata_next_ms)
			do_metadata(c, now);
		if (c->stopping)
			break;
		if (c->commit_async) {
			c->commit_async = 0;
			commit_async(c, true);
		}
		if (c->cfg->enable_auto_commit && c->cfg->group_id[0] &&
		    now >= c->auto_commit_next_ms) {
			c->auto_commit_next_ms = now + c->cfg->auto_commit_interval_ms;
			commit_async(c, false);
		}
		resolve_stored(c);
		for (cons_broker_t *b = c->brokers; b && !c->stopping; b = b->next)
			list_offsets(c, b, proto_now_ms());
		if (c->stopping)
			break;
		fetched = fetch_round(c, proto_now_ms());
		if (!fetched && !c->stopping && !c->commit_async)
			tern_cond_wait_until(
			    &c->wake, &c->lock,
			    proto_now_ms() +
				(c->cfg->retry_backoff_ms < CONS_IDLE_MS
				     ? (c->cfg->retry_backoff_ms > 0 ? c->cfg->retry_backoff_ms : 1)
				     : CONS_IDLE_MS));
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}
