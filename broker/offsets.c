/* broker/offsets.c: committed offsets, kept as Kafka keeps them: records of
 * the internal topic __consumer_offsets (a group lives on partition
 * abs(hashCode(group id)) % partitions), appended through the produce path
 * and answered once the HWM covers them; a cache rebuilt from those
 * partitions at start answers OffsetFetch; a cleaner thread keeps each
 * partition bounded. FindCoordinator, OffsetCommit and OffsetFetch. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker_int.h"

/* Kafka's record versions (group-coordinator's OffsetCommitKey/Value):
 * keys 0 and 1 are offset commits, 2 group metadata; value 3 is the last
 * non-flexible layout, the one with the leader epoch. */
#define OFF_KEY_VERSION	  1
#define OFF_VALUE_VERSION 3

/* A snapshot batch is closed once it holds this many bytes. */
#define OFF_SNAPSHOT_BATCH (256 * 1024)

/* How often the cleaner looks at the partitions when nobody wakes it. */
#define OFF_CLEAN_INTERVAL_MS 1000

/* ------------------------------------------------------------------------ */
/* Group to partition                                                         */

/* Decodes one code point of UTF-8 at s (len > 0 bytes) as Java's decoder
 * does: a malformed sequence becomes U+FFFD, consuming its maximal valid
 * prefix (at least one byte). Returns the bytes consumed. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t need, i;
	uint32_t v;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*cp = 0xfffd;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

int32_t bk_java_string_hash(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t h = 0;
	size_t i = 0;

	/* Java's String.hashCode: s[0]*31^(n-1) + ... over UTF-16 code units,
	 * in int arithmetic (wrapping). */
	while (i < len) {
		uint32_t cp;

		i += utf8_next(u + i, len - i, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			h = h * 31 + (0xd800 + (cp >> 10));
			h = h * 31 + (0xdc00 + (cp & 0x3ff));
		} else {
			h = h * 31 + cp;
		}
	}
	return (int32_t)h;
}

int32_t bk_offsets_partition_for(const char *group, size_t len, int32_t npart)
{
	int32_t h = bk_java_string_hash(group, len);

	/* Kafka's Utils.abs: INT_MIN maps to 0, not to itself. */
	h = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
	return h % npart;
}

/* ------------------------------------------------------------------------ */
/* The cache                                                                  */

/* A committed offset. */
typedef struct off_entry {
	char *topic; /* malloc()ed */
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata; /* malloc()ed, never NULL (Kafka stores null as "") */
	int64_t commit_ts;
	int64_t log_offset; /* the record's offset in its offsets partition */
} off_entry_t;

/* A group's offsets, sorted by (topic, partition). */
typedef struct off_group {
	struct off_group *next; /* hash chain */
	char *id;		/* malloc()ed, NUL-terminated; ids hold no NUL */
	size_t idlen;
	off_entry_t *e;
	size_t n, cap;
} off_group_t;

/* The cache of one offsets partition: what its log says, up to its HWM.
 * Invariant: a key's entry is the one of the highest log offset applied
 * for it, so that acknowledgements applied out of order, and a replay of
 * the log, give the same result. Guarded by mu, which is taken inside the
 * partition's mu (the commit callback) and never the other way round. */
typedef struct off_shard {
	pthread_mutex_t mu;
	off_group_t **bucket;
	size_t nbucket, ngroups;
	/* The last snapshot's size: written by the cleaner, read by workers. */
	_Atomic int64_t live_bytes;
} off_shard_t;

struct bk_offsets {
	int32_t n; /* partitions of __consumer_offsets */
	off_shard_t *shards;
	pthread_t cleaner;
	bool cleaner_started;
	pthread_mutex_t mu; /* guards stop and kick */
	pthread_cond_t cond;
	bool stop, kick;
};

static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void group_free(off_group_t *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->e[i].topic);
		free(g->e[i].metadata);
	}
	free(g->e);
	free(g->id);
	free(g);
}

static tern_err_t shard_init(off_shard_t *s)
{
	pthread_mutex_init(&s->mu, NULL);
	s->nbucket = 64;
	s->bucket = calloc(s->nbucket, sizeof *s->bucket);
	return s->bucket ? TERN_OK : TERN_ERR__NOMEM;
}

static void shard_fini(off_shard_t *s)
{
	for (size_t i = 0; s->bucket && i < s->nbucket; i++) {
		while (s->bucket[i]) {
			off_group_t *g = s->bucket[i];

			s->bucket[i] = g->next;
			group_free(g);
		}
	}
	free(s->bucket);
	pthread_mutex_destroy(&s->mu);
}

/* Forgets every group of s (a leadership that ended). */
static void shard_reset(off_shard_t *s)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nbucket; i++) {
		while (s->bucket[i]) {
			off_group_t *g = s->bucket[i];

			s->bucket[i] = g->next;
			group_free(g);
		}
	}
	s->ngroups = 0;
	pthread_mutex_unlock(&s->mu);
}

static off_group_t *group_find(off_shard_t *s, const char *id, size_t len)
{
	off_group_t *g = s->bucket[fnv1a(id, len) % s->nbucket];

	for (; g; g = g->next)
		if (g->idlen == len && memcmp(g->id, id, len) == 0)
			return g;
	return NULL;
}

/* Doubles the buckets when groups outnumber them; a failed allocation only
 * leaves the chains longer. */
static void shard_grow(off_shard_t *s)
{
	size_t n = s->nbucket * 2;
	off_group_t **v;

	if (s->ngroups <= s->nbucket || !(v = calloc(n, sizeof *v)))
		return;
	for (size_t i = 0; i < s->nbucket; i++) {
		while (s->bucket[i]) {
			off_group_t *g = s->bucket[i];
			size_t k = fnv1a(g->id, g->idlen) % n;

			s->bucket[i] = g->next;
			g->next = v[k];
			v[k] = g;
		}
	}
	free(s->bucket);
	s->bucket = v;
	s->nbucket = n;
}

static void group_remove(off_shard_t *s, off_group_t *g)
{
	off_group_t **pp = &s->bucket[fnv1a(g->id, g->idlen) % s->nbucket];

	while (*pp != g)
		pp = &(*pp)->next;
	*pp = g->next;
	s->ngroups--;
	group_free(g);
}

/* Binary search for (topic, partition): true when found at *at, else *at
 * is where it would go. */
static bool entry_find(const off_group_t *g, proto_str_t topic, int32_t partition, size_t *at)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const off_entry_t *e = &g->e[mid];
		size_t tl = strlen(e->topic);
		size_t n = tl < (size_t)topic.len ? tl : (size_t)topic.len;
		int c = memcmp(e->topic, topic.s, n);

		if (c == 0)
			c = tl < (size_t)topic.len ? -1 : tl > (size_t)topic.len ? 1 : 0;
		if (c == 0)
			c = e->partition < partition ? -1 : e->partition > partition ? 1 : 0;
		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return false;
}

/* One record of an offsets partition, decoded. */
typedef struct off_rec {
	proto_str_t group, topic;
	int32_t partition;
	bool tombstone;
	int64_t offset;
	int32_t leader_epoch;
	proto_str_t metadata;
	int64_t commit_ts;
} off_rec_t;

/* Applies r, found at log_offset, to s. s->mu held (or s private). */
static tern_err_t shard_apply(off_shard_t *s, const off_rec_t *r, int64_t log_offset)
{
	off_group_t *g = group_find(s, r->group.s, (size_t)r->group.len);
	off_entry_t *e;
	char *topic = NULL, *meta = NULL;
	size_t at;
	bool found;

	if (!g && r->tombstone)
		return TERN_OK;
	if (!g) {
		size_t k;

		g = calloc(1, sizeof *g);
		if (!g || !(g->id = strndup(r->group.s, (size_t)r->group.len))) {
			free(g);
			return TERN_ERR__NOMEM;
		}
		g->idlen = (size_t)r->group.len;
		k = fnv1a(g->id, g->idlen) % s->nbucket;
		g->next = s->bucket[k];
		s->bucket[k] = g;
		s->ngroups++;
		shard_grow(s);
	}
	found = entry_find(g, r->topic, r->partition, &at);
	if (found && g->e[at].log_offset > log_offset)
		return TERN_OK;
	if (r->tombstone) {
		if (found) {
			free(g->e[at].topic);
			free(g->e[at].metadata);
			memmove(&g->e[at], &g->e[at + 1], (g->n - at - 1) * sizeof *g->e);
			g->n--;
		}
		if (g->n == 0)
			group_remove(s, g);
		return TERN_OK;
	}
	meta = strndup(r->metadata.len > 0 ? r->metadata.s : "",
		       r->metadata.len > 0 ? (size_t)r->metadata.len : 0);
	if (!found)
		topic = strndup(r->topic.s, (size_t)r->topic.len);
	if (!meta || (!found && !topic)) {
		free(meta);
		free(topic);
		return TERN_ERR__NOMEM;
	}
	if (!found) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 4;
			off_entry_t *v = realloc(g->e, cap * sizeof *v);

			if (!v) {
				free(meta);
				free(topic);
				return TERN_ERR__NOMEM;
			}
			g->e = v;
			g->cap = cap;
		}
		memmove(&g->e[at + 1], &g->e[at], (g->n - at) * sizeof *g->e);
		g->n++;
		g->e[at].topic = topic;
		g->e[at].partition = r->partition;
	} else {
		free(g->e[at].metadata);
	}
	e = &g->e[at];
	e->offset = r->offset;
	e->leader_epoch = r->leader_epoch;
	e->metadata = meta;
	e->commit_ts = r->commit_ts;
	e->log_offset = log_offset;
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                    */

/* Encodes r's key and value (none for a tombstone) into kb and vb. */
static void rec_encode(const off_rec_t *r, proto_buf_t *kb, proto_buf_t *vb)
{
	proto_wr_i16(kb, OFF_KEY_VERSION);
	proto_wr_string(kb, r->group);
	proto_wr_string(kb, r->topic);
	proto_wr_i32(kb, r->partition);
	if (r->tombstone)
		return;
	proto_wr_i16(vb, OFF_VALUE_VERSION);
	proto_wr_i64(vb, r->offset);
	proto_wr_i32(vb, r->leader_epoch);
	proto_wr_string(vb, r->metadata);
	proto_wr_i64(vb, r->commit_ts);
}

/* Decodes a record of an offsets partition. TERN_ERR__END for a record
 * that is not an offset commit (group metadata), INVALID_RECORD for bytes
 * that are not Kafka's layout. */
static tern_err_t rec_decode(const log_record_t *lr, off_rec_t *r)
{
	proto_limits_t lim;
	proto_reader_t rd;
	int16_t v;

	if (!lr->key || lr->key_len < 2)
		return TERN_ERR_INVALID_RECORD;
	proto_limits_default(&lim);
	proto_reader_init(&rd, lr->key, (size_t)lr->key_len, &lim, NULL);
	v = proto_rd_i16(&rd);
	if (v == 2)
		return TERN_ERR__END;
	if (v != 0 && v != 1)
		return TERN_ERR_INVALID_RECORD;
	r->group = proto_rd_string(&rd);
	r->topic = proto_rd_string(&rd);
	r->partition = proto_rd_i32(&rd);
	if (rd.err || r->group.len < 0 || r->topic.len < 0)
		return TERN_ERR_INVALID_RECORD;
	r->tombstone = lr->value == NULL;
	r->leader_epoch = -1;
	if (r->tombstone)
		return TERN_OK;
	proto_reader_init(&rd, lr->value, (size_t)lr->value_len, &lim, NULL);
	v = proto_rd_i16(&rd);
	if (v < 0 || v > 3)
		return TERN_ERR_INVALID_RECORD;
	r->offset = proto_rd_i64(&rd);
	if (v >= 3)
		r->leader_epoch = proto_rd_i32(&rd);
	r->metadata = proto_rd_string(&rd);
	r->commit_ts = proto_rd_i64(&rd);
	/* Version 1's expire timestamp follows; nothing here uses it. */
	return rd.err || r->metadata.len < 0 ? TERN_ERR_INVALID_RECORD : TERN_OK;
}

/* Adds r to the builder as one record stamped ts. */
static tern_err_t rec_add(log_batch_builder_t *bb, const off_rec_t *r, int64_t ts)
{
	proto_buf_t kb, vb;
	tern_err_t err;

	proto_buf_init(&kb);
	proto_buf_init(&vb);
	rec_encode(r, &kb, &vb);
	if (kb.oom || vb.oom)
		err = TERN_ERR__NOMEM;
	else
		err = log_batch_builder_add(bb, ts, kb.p, kb.len, r->tombstone ? NULL : vb.p,
					    vb.len, NULL, 0);
	proto_buf_free(&kb);
	proto_buf_free(&vb);
	return err;
}

/* Replays the records of l in [from, upper) into s. */
static tern_err_t shard_load(off_shard_t *s, log_t *l, const char *name, int64_t from,
			     int64_t upper, char *errstr, size_t errlen)
{
	int64_t next = from;
	tern_err_t err = TERN_OK;

	while (next < upper && !err) {
		log_read_result_t rr;
		size_t pos = 0;

		err = log_read(l, next, 1 << 20, upper, &rr, errstr, errlen);
		if (err || rr.len == 0) {
			free(err ? NULL : rr.buf);
			break;
		}
		while (pos < rr.len && !err) {
			log_batch_hdr_t h;
			log_batch_iter_t *it;
			log_record_t lr;

			err = log_batch_hdr_parse(rr.data + pos, rr.len - pos, &h);
			if (!err)
				err = log_batch_iter_new(rr.data + pos, log_batch_size(&h), 0, &it);
			if (err)
				break;
			while (!err && (err = log_batch_iter_next(it, &lr)) == TERN_OK) {
				off_rec_t r;
				tern_err_t e;

				if (lr.offset < from || lr.offset >= upper)
					continue;
				e = rec_decode(&lr, &r);
				if (e == TERN_ERR_INVALID_RECORD)
					bk_log('W', "offsets",
					       "%s: offset %" PRId64 " is not an "
					       "offset commit record; skipped",
					       name, lr.offset);
				else if (e == TERN_OK)
					err = shard_apply(s, &r, lr.offset);
			}
			log_batch_iter_free(it);
			if (err == TERN_ERR__END)
				err = TERN_OK;
			pos += log_batch_size(&h);
		}
		next = rr.next_offset;
		free(rr.buf);
	}
	if (err && errstr[0] == '\0')
		snprintf(errstr, errlen, "%s: reading committed offsets: %s", name,
			 tern_strerror(err));
	return err;
}

/* Loads a partition this broker now leads: every record of its log, to its
 * LEO (what a leader holds is what will be committed: Kafka's coordinator
 * loads to the log end too). */
static tern_err_t shard_load_all(off_shard_t *s, bk_part_t *p, char *errstr, size_t errlen)
{
	char name[300];

	snprintf(name, sizeof name, "%s-%d", p->topic->name, p->index);
	errstr[0] = '\0';
	return shard_load(s, p->log, name, log_start_offset(p->log), log_end_offset(p->log), errstr,
			  errlen);
}

/* ------------------------------------------------------------------------ */
/* The offsets topic                                                          */

static tern_err_t offsets_topic_create(broker_t *b, char *why, size_t whylen)
{
	char seg[24];
	tern_conf_kv_t ov[3] = {
	    {"segment.bytes", seg},
	    /* Never delete a segment by age or size: the cleaner keeps the
	     * partitions bounded without dropping a group's last commit. */
	    {"retention.ms", "-1"},
	    {"retention.bytes", "-1"},
	};
	int32_t rf = 0; /* min(offsets.topic.replication.factor, live brokers) */

	pthread_rwlock_rdlock(&b->topics_lock);
	for (size_t i = 0; i < b->npeers; i++)
		rf += b->peers[i].alive;
	pthread_rwlock_unlock(&b->topics_lock);
	if (rf < 1)
		rf = 1;
	if (b->cfg->offsets_topic_replication_factor < rf)
		rf = b->cfg->offsets_topic_replication_factor;
	snprintf(seg, sizeof seg, "%d", b->cfg->offsets_topic_segment_bytes);
	return bk_cluster_create_topic(b, BK_OFFSETS_TOPIC, b->offsets->n, rf, ov, 3, why, whylen);
}

/* The offsets topic, created on first use, with topics_lock held for
 * reading on success (an internal topic is never deleted). */
static tern_err_t offsets_topic(broker_t *b, bk_topic_t **out)
{
	bk_topic_t *t;
	char why[256];
	tern_err_t err;

	pthread_rwlock_rdlock(&b->topics_lock);
	t = bk_topic_find(b, BK_OFFSETS_TOPIC, strlen(BK_OFFSETS_TOPIC));
	if (!t) {
		pthread_rwlock_unlock(&b->topics_lock);
		err = offsets_topic_create(b, why, sizeof why);
		if (err && err != TERN_ERR_TOPIC_ALREADY_EXISTS) {
			bk_log('E', "offsets", "creating %s: %s (%s)", BK_OFFSETS_TOPIC,
			       tern_strerror(err), why);
			return TERN_ERR_COORDINATOR_NOT_AVAILABLE;
		}
		pthread_rwlock_rdlock(&b->topics_lock);
		t = bk_topic_find(b, BK_OFFSETS_TOPIC, strlen(BK_OFFSETS_TOPIC));
	}
	if (!t || t->npart != b->offsets->n) {
		pthread_rwlock_unlock(&b->topics_lock);
		return TERN_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	*out = t;
	return TERN_OK;
}

/* The partition of __consumer_offsets that holds group, when this broker
 * leads it (is the group's coordinator): returns with topics_lock held for
 * reading on success. NOT_COORDINATOR when another broker leads it. */
static tern_err_t group_part(broker_t *b, proto_str_t group, bk_part_t **out)
{
	int32_t i = bk_offsets_partition_for(group.s, (size_t)group.len, b->offsets->n);
	bk_topic_t *t;
	bk_part_t *p;
	bool leads;
	tern_err_t err = offsets_topic(b, &t);

	if (err)
		return err;
	p = t->parts[i];
	if (p) {
		pthread_mutex_lock(&p->mu);
		leads = p->isr.role == ISR_ROLE_LEADER;
		pthread_mutex_unlock(&p->mu);
	}
	if (!p || !leads) {
		pthread_rwlock_unlock(&b->topics_lock);
		return t->state[i].st.leader == ISR_NO_LEADER ? TERN_ERR_COORDINATOR_NOT_AVAILABLE
							      : TERN_ERR_NOT_COORDINATOR;
	}
	*out = p;
	return TERN_OK;
}

static bool group_valid(proto_str_t g)
{
	/* Kafka accepts "" for offset commits (old clients); Tern refuses it:
	 * an empty group id is always a client's mistake. */
	return g.len > 0;
}

/* ------------------------------------------------------------------------ */
/* FindCoordinator                                                            */

void bk_handle_find_coordinator(bk_req_t *q)
{
	broker_t *b = q->b;
	proto_find_coordinator_req_t req;
	proto_find_coordinator_resp_t m = {.node_id = -1, .host = PROTO_STR(""), .port = -1};
	char host[256];
	bk_topic_t *t;
	proto_buf_t out;
	tern_err_t err;

	if (proto_find_coordinator_req_decode(&q->rd, q->hdr.api_version, &req) != TERN_OK) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	if (req.key_type == PROTO_COORDINATOR_TRANSACTION) {
		m.error_code = TERN_ERR_INVALID_REQUEST;
		m.error_message = PROTO_STR("transactions are not supported");
	} else if (req.key_type != PROTO_COORDINATOR_GROUP) {
		m.error_code = TERN_ERR_INVALID_REQUEST;
		m.error_message = PROTO_STR("unknown coordinator key type");
	} else if (!group_valid(req.key)) {
		m.error_code = TERN_ERR_INVALID_GROUP_ID;
		m.error_message = PROTO_STR("the group id is empty");
	} else if ((err = offsets_topic(b, &t)) != TERN_OK) {
		m.error_code = (int16_t)err;
	} else {
		/* The coordinator is the leader of the group's partition, as
		 * the latest image names it. */
		int32_t i = bk_offsets_partition_for(req.key.s, (size_t)req.key.len, t->npart);
		int32_t leader = t->state[i].st.leader;

		m.error_code = TERN_ERR_COORDINATOR_NOT_AVAILABLE;
		if (leader == b->cfg->broker_id) {
			bk_self_address(b, host, sizeof host, &m.port);
			m.error_code = TERN_OK;
		}
		for (size_t j = 0; leader != b->cfg->broker_id && j < b->npeers; j++) {
			if (b->peers[j].id == leader && b->peers[j].alive) {
				snprintf(host, sizeof host, "%s", b->peers[j].host);
				m.port = b->peers[j].port;
				m.error_code = TERN_OK;
			}
		}
		pthread_rwlock_unlock(&b->topics_lock);
		if (!m.error_code) {
			m.node_id = leader;
			m.host = proto_str(host);
			m.error_message = PROTO_NULL_STR;
		} else {
			m.port = -1;
		}
	}
	bk_resp_begin(q, &out);
	proto_find_coordinator_resp_encode(&out, q->hdr.api_version, &m);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* OffsetCommit                                                               */

/* An offset commit waiting for its records. The response arrays live in
 * the request's arena, which the commit owns; in_batch marks the
 * partitions whose records were appended, in request order. */
typedef struct off_commit {
	broker_t *b;
	proto_server_t *srv;
	proto_srv_msg_t *msg;
	proto_req_hdr_t hdr;
	proto_arena_t *arena;
	proto_offset_commit_req_t req;
	proto_offset_commit_topic_result_t *rt;
	proto_offset_commit_partition_result_t *rp;
	bool *in_batch;
	int32_t np;
	int32_t shard;
	int64_t commit_ts;
} off_commit_t;

static void commit_finish(off_commit_t *c)
{
	bk_req_t q = {.b = c->b, .srv = c->srv, .msg = c->msg, .hdr = c->hdr};
	proto_offset_commit_resp_t m = {.topics = c->rt, .topics_count = c->req.topics_count};
	proto_buf_t out;

	bk_resp_begin(&q, &out);
	proto_offset_commit_resp_encode(&out, c->hdr.api_version, &m);
	bk_resp_send(&q, &out);
	proto_arena_free(c->arena);
	free(c->arena);
	free(c);
}

/* The record of partition j of topic t. */
static void commit_rec(const off_commit_t *c, const proto_offset_commit_topic_t *t, int32_t j,
		       off_rec_t *r)
{
	const proto_offset_commit_partition_t *pp = &t->partitions[j];

	*r = (off_rec_t){
	    .group = c->req.group_id,
	    .topic = t->name,
	    .partition = pp->partition_index,
	    .offset = pp->committed_offset,
	    .leader_epoch = pp->committed_leader_epoch,
	    .metadata = pp->committed_metadata.len > 0 ? pp->committed_metadata : PROTO_STR(""),
	    .commit_ts = c->commit_ts,
	};
}

/* Kafka's mapping of append errors to what a committer understands
 * (GroupMetadataManager.storeOffsets). */
static tern_err_t commit_error(tern_err_t err)
{
	switch (err) {
	case TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case TERN_ERR_NOT_ENOUGH_REPLICAS:
	case TERN_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return TERN_ERR_COORDINATOR_NOT_AVAILABLE;
	case TERN_ERR_NOT_LEADER_OR_FOLLOWER:
	case TERN_ERR_KAFKA_STORAGE_ERROR:
		return TERN_ERR_NOT_COORDINATOR;
	case TERN_ERR_MESSAGE_TOO_LARGE:
	case TERN_ERR_RECORD_LIST_TOO_LARGE:
	case TERN_ERR_INVALID_FETCH_SIZE:
		return TERN_ERR_INVALID_COMMIT_OFFSET_SIZE;
	default:
		return err < 0 ? TERN_ERR_UNKNOWN_SERVER_ERROR : err;
	}
}

/* The wait callback of a commit's batch (bk_wait_cb): on success the
 * cache takes the records at their log offsets, then the answer goes out.
 * The offsets partition's mu is held. */
static void commit_acked(void *arg, tern_err_t err, int64_t base_offset)
{
	off_commit_t *c = arg;
	off_shard_t *s = &c->b->offsets->shards[c->shard];
	int32_t k = 0, j, i, nrec = 0;

	if (!err)
		pthread_mutex_lock(&s->mu);
	for (i = 0; i < c->req.topics_count; i++) {
		const proto_offset_commit_topic_t *t = &c->req.topics[i];

		for (j = 0; j < t->partitions_count; j++, k++) {
			off_rec_t r;

			if (!c->in_batch[k])
				continue;
			if (err) {
				c->rp[k].error_code = (int16_t)commit_error(err);
				continue;
			}
			commit_rec(c, t, j, &r);
			if (shard_apply(s, &r, base_offset + nrec++) != TERN_OK)
				bk_log('E', "offsets",
				       "group %.*s: a committed offset is not "
				       "cached (out of memory); a restart reads it back",
				       (int)r.group.len, r.group.s);
		}
	}
	if (!err)
		pthread_mutex_unlock(&s->mu);
	commit_finish(c);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks every partition of c, puts the valid ones into bb and returns how
 * many. topics_lock held (read). */
static int32_t commit_check(off_commit_t *c, log_batch_builder_t *bb, tern_err_t group_err)
{
	broker_t *b = c->b;
	int32_t k = 0, n = 0;

	for (int32_t i = 0; i < c->req.topics_count; i++) {
		const proto_offset_commit_topic_t *t = &c->req.topics[i];

		c->rt[i].name = t->name;
		c->rt[i].partitions = &c->rp[k];
		c->rt[i].partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++, k++) {
			const proto_offset_commit_partition_t *pp = &t->partitions[j];
			tern_err_t err = group_err;
			off_rec_t r;

			c->rp[k].partition_index = pp->partition_index;
			if (!err && !bk_part_find(b, t->name, pp->partition_index) &&
			    bk_part_missing(b, t->name, pp->partition_index) ==
				TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION)
				err = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			if (!err && pp->committed_metadata.len > b->cfg->offset_metadata_max_bytes)
				err = TERN_ERR_OFFSET_METADATA_TOO_LARGE;
			if (!err) {
				commit_rec(c, t, j, &r);
				err = rec_add(bb, &r, c->commit_ts);
			}
			if (err < 0)
				err = TERN_ERR_UNKNOWN_SERVER_ERROR;
			c->rp[k].error_code = (int16_t)err;
			c->in_batch[k] = err == TERN_OK;
			n += err == TERN_OK;
		}
	}
	return n;
}

void bk_handle_offset_commit(bk_req_t *q)
{
	broker_t *b = q->b;
	off_commit_t *c = NULL;
	log_builder_opts_t bo;
	log_batch_builder_t *bb = NULL;
	log_append_info_t info;
	uint8_t *batch = NULL;
	size_t len;
	tern_err_t group_err = TERN_OK, err;
	bk_part_t *p = NULL;
	int64_t dup;
	int32_t np = 0;
	bool locked = false;

	c = calloc(1, sizeof *c);
	if (!c || proto_offset_commit_req_decode(&q->rd, q->hdr.api_version, &c->req) != TERN_OK) {
		free(c);
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	for (int32_t i = 0; i < c->req.topics_count; i++)
		np += c->req.topics[i].partitions_count;
	c->rt = proto_arena_alloc(
	    q->arena, c->req.topics_count > 0 ? (size_t)c->req.topics_count : 1, sizeof *c->rt);
	c->rp = proto_arena_alloc(q->arena, np > 0 ? (size_t)np : 1, sizeof *c->rp);
	c->in_batch = proto_arena_alloc(q->arena, np > 0 ? (size_t)np : 1, sizeof *c->in_batch);
	log_builder_opts_default(&bo);
	if (!c->rt || !c->rp || !c->in_batch || log_batch_builder_new(&bo, &bb) != TERN_OK) {
		free(c);
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	c->b = b;
	c->srv = q->srv;
	c->msg = q->msg;
	c->hdr = q->hdr;
	c->np = np;
	c->commit_ts = wall_ms();
	/* The commit answers later: it keeps the arena its strings live in. */
	c->arena = q->arena;
	q->arena = NULL;

	if (!group_valid(c->req.group_id)) {
		group_err = TERN_ERR_INVALID_GROUP_ID;
	} else if (c->req.generation_id >= 0) {
		/* No group membership is kept yet: only commits from outside
		 * any generation (as Kafka takes from a group it does not
		 * know) are accepted. */
		group_err = TERN_ERR_ILLEGAL_GENERATION;
	} else {
		group_err = group_part(b, c->req.group_id, &p);
		locked = group_err == TERN_OK;
	}
	if (!locked)
		pthread_rwlock_rdlock(&b->topics_lock);
	c->shard = p ? p->index : 0;
	if (commit_check(c, bb, group_err) == 0) {
		pthread_rwlock_unlock(&b->topics_lock);
		log_batch_builder_free(bb);
		commit_finish(c);
		return;
	}
	err = log_batch_builder_finish(bb, &batch, &len);
	log_batch_builder_free(bb);
	if (!err)
		err = bk_part_append(b, p, batch, len, -1,
				     proto_now_ms() + b->cfg->offsets_commit_timeout_ms, NULL,
				     commit_acked, c, &info, &dup);
	pthread_rwlock_unlock(&b->topics_lock);
	free(batch);
	if (err)
		commit_acked(c, err, -1);
	else
		bk_offsets_kick(b, p);
}

/* ------------------------------------------------------------------------ */
/* OffsetFetch                                                                */

/* Fills one partition's answer from g (may be NULL). s->mu held. */
static void fetch_fill(const off_group_t *g, proto_str_t topic, int32_t partition, int16_t version,
		       proto_offset_fetch_partition_t *out)
{
	size_t at;

	out->partition_index = partition;
	out->committed_offset = -1;
	out->committed_leader_epoch = -1;
	out->metadata = PROTO_STR("");
	out->error_code = 0;
	if (g && entry_find(g, topic, partition, &at)) {
		out->committed_offset = g->e[at].offset;
		out->committed_leader_epoch = version >= 5 ? g->e[at].leader_epoch : -1;
		out->metadata = proto_str(g->e[at].metadata);
	}
}

void bk_handle_offset_fetch(bk_req_t *q)
{
	broker_t *b = q->b;
	int16_t v = q->hdr.api_version;
	proto_offset_fetch_req_t req;
	proto_offset_fetch_resp_t m = {0};
	proto_offset_fetch_topic_t *rt = NULL;
	proto_offset_fetch_partition_t *rp = NULL;
	off_shard_t *s = NULL;
	const off_group_t *g = NULL;
	size_t nt = 0, np = 0, k = 0;
	proto_buf_t out;
	int16_t group_err = 0;
	bk_part_t *p;
	tern_err_t err;

	if (proto_offset_fetch_req_decode(&q->rd, v, &req) != TERN_OK ||
	    (req.topics_count < 0 && v < 2)) {
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	if (!group_valid(req.group_id)) {
		group_err = TERN_ERR_INVALID_GROUP_ID;
	} else if ((err = group_part(b, req.group_id, &p)) != TERN_OK) {
		/* The group's offsets are read where its partition is led. */
		group_err = (int16_t)err;
	} else {
		pthread_rwlock_unlock(&b->topics_lock);
		s = &b->offsets->shards[p->index];
		pthread_mutex_lock(&s->mu);
		g = group_find(s, req.group_id.s, (size_t)req.group_id.len);
	}
	/* Sizes: every partition asked for, or every one the group has. */
	if (req.topics_count >= 0) {
		nt = (size_t)req.topics_count;
		for (size_t i = 0; i < nt; i++)
			np += (size_t)req.topics[i].partitions_count;
	} else if (g) {
		np = g->n;
		for (size_t i = 0; i < g->n; i++)
			nt += i == 0 || strcmp(g->e[i].topic, g->e[i - 1].topic) != 0;
	}
	rt = proto_arena_alloc(q->arena, nt ? nt : 1, sizeof *rt);
	rp = proto_arena_alloc(q->arena, np ? np : 1, sizeof *rp);
	if (!rt || !rp) {
		if (s)
			pthread_mutex_unlock(&s->mu);
		bk_reply_error(q, TERN_ERR_INVALID_REQUEST);
		return;
	}
	if (req.topics_count >= 0) {
		for (size_t i = 0; i < nt; i++) {
			const proto_topic_partition_ids_t *t = &req.topics[i];

			rt[i].name = t->topic;
			rt[i].partitions = &rp[k];
			rt[i].partitions_count = t->partitions_count;
			for (int32_t j = 0; j < t->partitions_count; j++, k++) {
				fetch_fill(g, t->topic, t->partitions[j], v, &rp[k]);
				/* v1 has no top-level error: each partition carries it. */
				if (group_err && v < 2)
					rp[k].error_code = group_err;
			}
		}
	} else if (g) {
		size_t ti = 0;

		for (size_t i = 0; i < g->n; i++) {
			if (i > 0 && strcmp(g->e[i].topic, g->e[i - 1].topic) != 0)
				ti++;
			if (rt[ti].partitions_count == 0) {
				rt[ti].name = proto_str(g->e[i].topic);
				rt[ti].partitions = &rp[i];
			}
			rt[ti].partitions_count++;
			fetch_fill(g, rt[ti].name, g->e[i].partition, v, &rp[i]);
		}
	}
	m.topics = rt;
	m.topics_count = (int32_t)nt;
	m.error_code = group_err;
	bk_resp_begin(q, &out);
	proto_offset_fetch_resp_encode(&out, v, &m);
	/* The answer borrows the cache's strings until it is encoded. */
	if (s)
		pthread_mutex_unlock(&s->mu);
	bk_resp_send(q, &out);
}

/* ------------------------------------------------------------------------ */
/* Bounded growth: snapshots                                                  */

/* The snapshot's batches, acknowledged or not. */
typedef struct off_snap_wait {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int pending;
	tern_err_t err;
} off_snap_wait_t;

static void snap_acked(void *arg, tern_err_t err, int64_t base_offset)
{
	off_snap_wait_t *w = arg;

	(void)base_offset;
	pthread_mutex_lock(&w->mu);
	if (err && !w->err)
		w->err = err;
	w->pending--;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

/* Closes the builder's batch and appends it to p for acks=all, counted in
 * w. p->append_mu held. */
static tern_err_t snap_flush(broker_t *b, bk_part_t *p, log_batch_builder_t *bb, off_snap_wait_t *w,
			     int64_t *bytes)
{
	log_append_info_t info;
	uint8_t *batch;
	size_t len;
	tern_err_t err = log_batch_builder_finish(bb, &batch, &len);

	if (err)
		return err;
	pthread_mutex_lock(&w->mu);
	w->pending++;
	pthread_mutex_unlock(&w->mu);
	err = bk_part_append_locked(b, p, batch, len, -1,
				    proto_now_ms() + b->cfg->offsets_commit_timeout_ms, snap_acked,
				    w, &info);
	free(batch);
	if (err)
		snap_acked(w, err, -1);
	else
		*bytes += (int64_t)len;
	return err;
}

/* Appends the latest value of every key of snap to p, in batches of about
 * OFF_SNAPSHOT_BATCH bytes. p->append_mu held. *bytes gets their size. */
static tern_err_t snap_append(broker_t *b, bk_part_t *p, off_shard_t *snap, off_snap_wait_t *w,
			      int64_t *bytes)
{
	log_builder_opts_t bo;
	log_batch_builder_t *bb;
	tern_err_t err;

	log_builder_opts_default(&bo);
	err = log_batch_builder_new(&bo, &bb);
	if (err)
		return err;
	for (size_t i = 0; !err && i < snap->nbucket; i++) {
		for (off_group_t *g = snap->bucket[i]; !err && g; g = g->next) {
			for (size_t j = 0; !err && j < g->n; j++) {
				const off_entry_t *e = &g->e[j];
				off_rec_t r = {
				    .group = {g->id, (int32_t)g->idlen},
				    .topic = proto_str(e->topic),
				    .partition = e->partition,
				    .offset = e->offset,
				    .leader_epoch = e->leader_epoch,
				    .metadata = proto_str(e->metadata),
				    .commit_ts = e->commit_ts,
				};

				err = rec_add(bb, &r, e->commit_ts);
				if (!err && log_batch_builder_size(bb) >= OFF_SNAPSHOT_BATCH)
					err = snap_flush(b, p, bb, w, bytes);
			}
		}
	}
	if (!err && log_batch_builder_count(bb) > 0)
		err = snap_flush(b, p, bb, w, bytes);
	log_batch_builder_free(bb);
	return err;
}

/* Rewrites partition p: the latest value of every key below the log end
 * X is appended again at X, and once the HWM covers it the log start moves
 * to X, deleting the segments below. Every group's latest commit is then
 * either at or after X. append_mu is held from the read to the last
 * append, so that no commit can slip between X and the snapshot (it would
 * be older than the snapshot in the log but newer in fact). topics_lock
 * held (read). Cleaner thread. */
static tern_err_t compact(broker_t *b, bk_part_t *p, off_shard_t *s)
{
	off_shard_t snap = {0};
	off_snap_wait_t w = {.pending = 0};
	char name[300], why[256] = "";
	int64_t x, start, bytes = 0, hwm;
	tern_err_t err;

	snprintf(name, sizeof name, "%s-%d", p->topic->name, p->index);
	err = shard_init(&snap);
	if (err) {
		shard_fini(&snap);
		return err;
	}
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&p->append_mu);
	/* Appends already queued are written first: they are part of X. */
	err = log_wait_end(p->log, log_next_offset(p->log), b->cfg->offsets_commit_timeout_ms);
	x = log_end_offset(p->log);
	start = log_start_offset(p->log);
	if (!err)
		err = shard_load(&snap, p->log, name, start, x, why, sizeof why);
	if (!err)
		err = snap_append(b, p, &snap, &w, &bytes);
	pthread_mutex_unlock(&p->append_mu);

	pthread_mutex_lock(&w.mu);
	while (w.pending > 0)
		pthread_cond_wait(&w.cond, &w.mu);
	if (!err)
		err = w.err;
	pthread_mutex_unlock(&w.mu);
	if (!err) {
		pthread_mutex_lock(&p->mu);
		hwm = p->isr.hwm;
		pthread_mutex_unlock(&p->mu);
		/* An empty snapshot (nothing live) needs the HWM at X too. */
		if (hwm >= x)
			err = log_advance_start(p->log, x);
	}
	if (!err) {
		atomic_store(&s->live_bytes, bytes);
		bk_log('I', "offsets",
		       "%s: rewrote the latest offsets of %zu groups (%" PRId64
		       " bytes); log start %" PRId64 " -> %" PRId64 ", %d segments left",
		       name, snap.ngroups, bytes, start, x, log_segment_count(p->log));
	} else {
		bk_log('W', "offsets", "%s: snapshot not taken: %s%s%s", name, tern_strerror(err),
		       why[0] ? ": " : "", why);
	}
	shard_fini(&snap);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cond);
	return err;
}

/* Whether p has grown enough to rewrite: beyond two segments and twice
 * the live data of its last snapshot. After a rewrite a partition holds
 * at most the segment where the snapshot starts and the snapshot, so the
 * bound is never reached again right away. */
static bool needs_compaction(bk_part_t *p, off_shard_t *s)
{
	int64_t seg;
	bool leads;

	if (!p)
		return false;
	/* Only the leader compacts; followers copy what it writes. */
	pthread_mutex_lock(&p->mu);
	leads = p->isr.role == ISR_ROLE_LEADER;
	pthread_mutex_unlock(&p->mu);
	seg = p->topic->cfg.segment_bytes;
	return leads && log_segment_count(p->log) >= 2 &&
	       log_size_bytes(p->log) > 2 * seg + 2 * atomic_load(&s->live_bytes);
}

void bk_offsets_kick(broker_t *b, bk_part_t *p)
{
	bk_offsets_t *o = b->offsets;

	if (!needs_compaction(p, &o->shards[p->index]))
		return;
	pthread_mutex_lock(&o->mu);
	o->kick = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->mu);
}

static void *cleaner_main(void *arg)
{
	broker_t *b = arg;
	bk_offsets_t *o = b->offsets;

	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		struct timespec ts;

		if (!o->kick) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += OFF_CLEAN_INTERVAL_MS / 1000;
			pthread_cond_timedwait(&o->cond, &o->mu, &ts);
		}
		o->kick = false;
		pthread_mutex_unlock(&o->mu);
		pthread_rwlock_rdlock(&b->topics_lock);
		{
			bk_topic_t *t =
			    bk_topic_find(b, BK_OFFSETS_TOPIC, strlen(BK_OFFSETS_TOPIC));

			for (int32_t i = 0; t && i < t->npart; i++)
				if (needs_compaction(t->parts[i], &o->shards[i]))
					compact(b, t->parts[i], &o->shards[i]);
		}
		pthread_rwlock_unlock(&b->topics_lock);
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life                                                                       */

void bk_offsets_free(broker_t *b)
{
	bk_offsets_t *o = b->offsets;

	if (!o)
		return;
	for (int32_t i = 0; o->shards && i < o->n; i++)
		shard_fini(&o->shards[i]);
	free(o->shards);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cond);
	free(o);
	b->offsets = NULL;
}

tern_err_t bk_offsets_open(broker_t *b, char *errstr, size_t errlen)
{
	bk_topic_t *t = bk_topic_find(b, BK_OFFSETS_TOPIC, strlen(BK_OFFSETS_TOPIC));
	bk_offsets_t *o = calloc(1, sizeof *o);
	tern_err_t err = TERN_OK;

	if (!o)
		return TERN_ERR__NOMEM;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cond, NULL);
	b->offsets = o;
	/* The partition count is fixed once the topic exists. */
	o->n = t ? t->npart : b->cfg->offsets_topic_num_partitions;
	o->shards = calloc((size_t)o->n, sizeof *o->shards);
	if (!o->shards) {
		o->n = 0;
		return TERN_ERR__NOMEM;
	}
	for (int32_t i = 0; i < o->n && !err; i++)
		err = shard_init(&o->shards[i]);
	/* The partitions this broker leads now; later leadership changes come
	 * through bk_offsets_leadership(). */
	for (int32_t i = 0; t && i < t->npart && !err; i++) {
		bk_part_t *p = t->parts[i];

		if (p && p->isr.role == ISR_ROLE_LEADER)
			err = shard_load_all(&o->shards[i], p, errstr, errlen);
	}
	return err;
}

void bk_offsets_leadership(broker_t *b, bk_part_t *p, bool leader)
{
	bk_offsets_t *o = b->offsets;
	char why[256] = "";

	if (!o || !p->topic->internal || p->index >= o->n)
		return;
	shard_reset(&o->shards[p->index]);
	if (leader && shard_load_all(&o->shards[p->index], p, why, sizeof why) != TERN_OK)
		bk_log('E', "offsets", "%s (its groups' offsets may read as missing)", why);
	else if (leader)
		bk_log('I', "offsets", "%s-%d: coordinator here: committed offsets loaded",
		       p->topic->name, p->index);
}

tern_err_t bk_offsets_start(broker_t *b)
{
	int rc = pthread_create(&b->offsets->cleaner, NULL, cleaner_main, b);

	if (rc)
		return tern_err_errno(rc);
	b->offsets->cleaner_started = true;
	return TERN_OK;
}

void bk_offsets_stop(broker_t *b)
{
	bk_offsets_t *o = b->offsets;

	if (!o || !o->cleaner_started)
		return;
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->cleaner, NULL);
	o->cleaner_started = false;
}
