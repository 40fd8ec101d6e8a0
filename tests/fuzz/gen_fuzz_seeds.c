/* tests/fuzz/gen_fuzz_seeds.c: writes the seed corpora of the libFuzzer
 * targets (tests/data/README.md): small valid inputs that the fuzzers
 * mutate. Built with the tests, run by hand, its output committed:
 *     build/tests/fuzz/gen_fuzz_seeds tests/data/fuzz
 * writes <dir>/frame/, <dir>/batch/ and <dir>/segment/ (which must exist).
 *
 * frame/: one request frame (no length prefix) per API key and version
 * Tern speaks, with an empty body (every field zero, every array empty),
 * and a few frames with content: a Produce carrying a batch, a Fetch, a
 * Metadata naming topics, a CreateTopics with assignments and configs, an
 * AlterPartition, and request headers followed by Fetch and
 * BrokerHeartbeat response bodies (fuzz_frame decodes bodies both ways).
 * batch/: RecordBatch v2 built by Tern's builder, uncompressed and zstd, and
 * a zstd batch whose frame declares a 4 MiB window.
 * segment/: segment files: batches at contiguous offsets with rising leader
 * epochs, and the same with a torn tail or garbage after it, or with every
 * CRC field 0 (fuzz_segment then computes the CRCs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fuzz_codecs.h"
#include "log/log.h"

static const char *dir;

__attribute__((noreturn)) static void die(const char *what)
{
	fprintf(stderr, "gen_fuzz_seeds: %s\n", what);
	exit(1);
}

static void save(const char *sub, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(buf, 1, len, f) != len) || fclose(f) != 0)
		die(path);
	printf("%s: %zu bytes\n", path, len);
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                    */

/* A batch of n records "value-<first + i>", one header on every other. */
static uint8_t *batch(int codec, int n, int first, int64_t ts, size_t *len)
{
	log_header_t h = {"trace", 5, "abc", 3};
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;

	log_builder_opts_default(&o);
	o.codec = codec;
	if (log_batch_builder_new(&o, &b))
		die("log_batch_builder_new");
	for (int i = 0; i < n; i++) {
		char key[32], val[32];
		int kl = snprintf(key, sizeof key, "k%d", first + i);
		int vl = snprintf(val, sizeof val, "value-%d", first + i);

		if (log_batch_builder_add(b, ts + i, i % 3 == 2 ? NULL : key,
					  i % 3 == 2 ? 0 : (size_t)kl, val, (size_t)vl,
					  i % 2 ? &h : NULL, i % 2 ? 1 : 0))
			die("log_batch_builder_add");
	}
	if (log_batch_builder_finish(b, &buf, len))
		die("log_batch_builder_finish");
	log_batch_builder_free(b);
	return buf;
}

/* An idempotent batch (producer id, epoch and sequence set). */
static uint8_t *idempotent_batch(size_t *len)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;

	log_builder_opts_default(&o);
	o.producer_id = 4000;
	o.producer_epoch = 2;
	o.base_sequence = 17;
	if (log_batch_builder_new(&o, &b) ||
	    log_batch_builder_add(b, 1700000000000, "id", 2, "once", 4, NULL, 0) ||
	    log_batch_builder_add(b, 1700000000005, "id", 2, "twice", 5, NULL, 0) ||
	    log_batch_builder_finish(b, &buf, len))
		die("building the idempotent batch");
	log_batch_builder_free(b);
	return buf;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The records of a small uncompressed batch in one zstd frame that
 * declares a 4 MiB window and no content size, as a streaming compressor
 * with a large window writes it: zstd allocates the declared window to
 * inflate it, so under a smaller decompression cap it must be refused. */
static uint8_t *big_window_batch(size_t *len)
{
	size_t plen, n;
	uint8_t *plain = batch(LOG_CODEC_NONE, 3, 0, 1700000000000, &plen);
	size_t bound = ZSTD_compressBound(plen);
	uint8_t *out = malloc(LOG_BATCH_HEADER_SIZE + bound);
	ZSTD_CCtx *cc = ZSTD_createCCtx();

	if (!out || !cc || ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 22)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0)))
		die("zstd setup");
	/* Streamed: a size known up front would shrink the window. */
	ZSTD_inBuffer in = {plain + LOG_BATCH_HEADER_SIZE, plen - LOG_BATCH_HEADER_SIZE, 0};
	ZSTD_outBuffer ob = {out + LOG_BATCH_HEADER_SIZE, bound, 0};

	if (ZSTD_isError(ZSTD_compressStream2(cc, &ob, &in, ZSTD_e_continue)) || in.pos != in.size)
		die("zstd");
	in = (ZSTD_inBuffer){NULL, 0, 0};
	if (ZSTD_compressStream2(cc, &ob, &in, ZSTD_e_end) != 0)
		die("zstd end");
	n = ob.pos;
	memcpy(out, plain, LOG_BATCH_HEADER_SIZE);
	*len = LOG_BATCH_HEADER_SIZE + n;
	put_be32(out + LOG_BATCH_OFF_LENGTH, (uint32_t)(*len - LOG_BATCH_LOG_OVERHEAD));
	out[22] = (uint8_t)((out[22] & ~LOG_ATTR_CODEC_MASK) | LOG_CODEC_ZSTD);
	put_be32(out + LOG_BATCH_OFF_CRC,
		 log_crc32c(0, out + LOG_BATCH_CRC_START, *len - LOG_BATCH_CRC_START));
	ZSTD_freeCCtx(cc);
	free(plain);
	return out;
}

static void gen_batches(void)
{
	uint8_t *b;
	size_t len;

	b = batch(LOG_CODEC_NONE, 3, 0, 1700000000000, &len);
	save("batch", "plain-3.bin", b, len);
	free(b);
	b = batch(LOG_CODEC_NONE, 1, 0, 0, &len);
	save("batch", "plain-1.bin", b, len);
	free(b);
	b = batch(LOG_CODEC_ZSTD, 3, 0, 1700000000000, &len);
	save("batch", "zstd-3.bin", b, len);
	free(b);
	b = batch(LOG_CODEC_ZSTD, 40, 0, 1700000000000, &len);
	save("batch", "zstd-40.bin", b, len);
	free(b);
	b = idempotent_batch(&len);
	save("batch", "idempotent.bin", b, len);
	free(b);
	b = big_window_batch(&len);
	save("batch", "regress-zstd-window-4mib.bin", b, len);
	free(b);
}

/* ------------------------------------------------------------------------ */
/* Segments                                                                   */

typedef struct seg {
	uint8_t *p;
	size_t len, cap;
	int64_t next; /* offset of the next batch */
} seg_t;

static void seg_raw(seg_t *s, const uint8_t *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
		if (!s->p)
			die("out of memory");
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

/* Appends a batch of n records at the segment's next offset with epoch. */
static void seg_batch(seg_t *s, int codec, int n, int32_t epoch)
{
	size_t len;
	uint8_t *b = batch(codec, n, (int)s->next, 1700000000000 + s->next * 10, &len);

	log_batch_set_base_offset(b, s->next);
	log_batch_set_leader_epoch(b, epoch);
	seg_raw(s, b, len);
	s->next += n;
	free(b);
}

/* Sets the CRC field of every batch in s to 0. */
static void zero_crcs(seg_t *s)
{
	size_t pos = 0;
	log_batch_hdr_t h;

	while (pos < s->len && log_batch_hdr_parse(s->p + pos, s->len - pos, &h) == TERN_OK) {
		memset(s->p + pos + LOG_BATCH_OFF_CRC, 0, 4);
		pos += log_batch_size(&h);
	}
}

static void gen_segments(void)
{
	static const uint8_t junk[] = "not a batch, just bytes after the last good one";
	seg_t s = {0}, c0;
	size_t whole;

	save("segment", "empty.log", NULL, 0);

	seg_batch(&s, LOG_CODEC_NONE, 3, 0);
	save("segment", "one-batch.log", s.p, s.len);
	seg_batch(&s, LOG_CODEC_ZSTD, 2, 1);
	seg_batch(&s, LOG_CODEC_NONE, 1, 1);
	seg_batch(&s, LOG_CODEC_ZSTD, 4, 3);
	save("segment", "epochs.log", s.p, s.len);
	whole = s.len;
	memcpy(&c0, &s, sizeof c0);
	c0.p = malloc(s.len);
	if (!c0.p)
		die("out of memory");
	memcpy(c0.p, s.p, s.len);
	zero_crcs(&c0);
	save("segment", "epochs-crc0.log", c0.p, c0.len);
	free(c0.p);
	save("segment", "torn-tail.log", s.p, whole - 9);
	seg_raw(&s, junk, sizeof junk - 1);
	save("segment", "junk-tail.log", s.p, s.len);

	/* Enough small batches for index entries every 128 bytes. */
	s.len = 0;
	s.next = 0;
	for (int i = 0; i < 24; i++)
		seg_batch(&s, i % 4 == 3 ? LOG_CODEC_ZSTD : LOG_CODEC_NONE, 1 + i % 3, i / 8);
	save("segment", "many.log", s.p, s.len);
	/* The same with every CRC 0: fuzz_segment computes those. */
	zero_crcs(&s);
	save("segment", "many-crc0.log", s.p, s.len);
	free(s.p);
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                     */

/* Writes header h followed by the body that enc makes of m. */
static void save_frame(const char *name, int16_t key, int16_t version, enc_fn *enc, const void *m)
{
	proto_req_hdr_t h = {key, version, 7, PROTO_STR("fuzz")};
	proto_buf_t b;

	proto_buf_init(&b);
	proto_req_hdr_encode(&b, &h);
	enc(&b, version, m);
	if (b.oom)
		die(name);
	save("frame", name, b.p, b.len);
	proto_buf_free(&b);
}

static void gen_empty_frames(void)
{
	const proto_api_info_t *t;
	size_t n;
	msg_t m;

	memset(&m, 0, sizeof m);
	t = proto_api_table(&n);
	for (size_t i = 0; i < n; i++) {
		const codec_t *c = codec_of(t[i].key);

		if (!c)
			die("an API without a codec in fuzz_codecs.h");
		for (int16_t v = t[i].min_version; v <= t[i].max_version; v++) {
			char name[96];

			snprintf(name, sizeof name, "%s-v%d.bin", t[i].name, v);
			save_frame(name, t[i].key, v, c->req_enc, &m);
		}
	}
}

static void gen_rich_frames(void)
{
	const codec_t *c;
	size_t blen;
	uint8_t *b = batch(LOG_CODEC_ZSTD, 3, 0, 1700000000000, &blen);

	/* Produce with a batch */
	proto_produce_req_partition_t pp = {0, {b, (int32_t)blen}};
	proto_produce_req_topic_t pt = {PROTO_STR("events"), &pp, 1};
	proto_produce_req_t pr = {PROTO_NULL_STR, -1, 30000, &pt, 1};

	c = codec_of(PROTO_API_PRODUCE);
	save_frame("rich-Produce-v3.bin", PROTO_API_PRODUCE, 3, c->req_enc, &pr);
	save_frame("rich-Produce-v8.bin", PROTO_API_PRODUCE, 8, c->req_enc, &pr);

	/* Fetch of two partitions, one forgotten */
	proto_fetch_req_partition_t fp[2] = {{0, 5, 100, 0, 1 << 20}, {1, -1, 0, -1, 4096}};
	proto_fetch_req_topic_t ft = {PROTO_STR("events"), fp, 2};
	int32_t gone = 3;
	proto_fetch_forgotten_topic_t ff = {PROTO_STR("old"), &gone, 1};
	proto_fetch_req_t fr = {-1, 500, 1, 1 << 20, 1, 9, 2, &ft, 1, &ff, 1, PROTO_STR("rack-a")};

	c = codec_of(PROTO_API_FETCH);
	save_frame("rich-Fetch-v4.bin", PROTO_API_FETCH, 4, c->req_enc, &fr);
	save_frame("rich-Fetch-v11.bin", PROTO_API_FETCH, 11, c->req_enc, &fr);

	/* A Fetch response body carrying the batch, behind a request header */
	proto_fetch_aborted_txn_t at = {4000, 12};
	proto_fetch_resp_partition_t rp = {0, 0, 3, 3, 0, &at, 1, -1, {b, (int32_t)blen}};
	proto_fetch_resp_topic_t rt = {PROTO_STR("events"), &rp, 1};
	proto_fetch_resp_t rs = {0, 0, 9, &rt, 1};

	save_frame("resp-Fetch-v11.bin", PROTO_API_FETCH, 11, c->resp_enc, &rs);

	/* Metadata naming topics */
	proto_str_t names[3] = {PROTO_STR("events"), PROTO_STR("__consumer_offsets"),
				PROTO_STR("")};
	proto_metadata_req_t mr = {names, 3, true, false, true};

	c = codec_of(PROTO_API_METADATA);
	save_frame("rich-Metadata-v8.bin", PROTO_API_METADATA, 8, c->req_enc, &mr);

	/* CreateTopics with an assignment and configs */
	int32_t brokers[3] = {1, 2, 3};
	proto_create_topics_assignment_t as = {0, brokers, 3};
	proto_config_kv_t kv[2] = {{PROTO_STR("min.insync.replicas"), PROTO_STR("2")},
				   {PROTO_STR("flush.policy"), PROTO_NULL_STR}};
	proto_create_topics_topic_t ct = {PROTO_STR("events"), -1, -1, &as, 1, kv, 2};
	proto_create_topics_req_t cr = {&ct, 1, 5000, true};

	c = codec_of(PROTO_API_CREATE_TOPICS);
	save_frame("rich-CreateTopics-v4.bin", PROTO_API_CREATE_TOPICS, 4, c->req_enc, &cr);

	/* AlterPartition */
	proto_alter_partition_broker_state_t isr[2] = {{1, 100}, {2, 200}};
	proto_alter_partition_partition_t ap = {0, 4, 7, isr, 2};
	proto_alter_partition_topic_t apt = {PROTO_STR("events"), &ap, 1};
	proto_alter_partition_req_t apr = {1, 100, &apt, 1};

	c = codec_of(PROTO_API_ALTER_PARTITION);
	save_frame("rich-AlterPartition-v0.bin", PROTO_API_ALTER_PARTITION, 0, c->req_enc, &apr);

	/* A BrokerHeartbeat response body with a cluster image */
	proto_broker_heartbeat_broker_t hb[2] = {
	    {1, PROTO_STR("10.0.0.1"), 9092, 100, true, false},
	    {2, PROTO_STR("10.0.0.2"), 9092, 200, true, false}};
	proto_broker_heartbeat_partition_t hp = {0, 1,	     4, 7,    brokers, 3,    brokers,
						 2, brokers, 1, NULL, 0,       false};
	proto_broker_heartbeat_topic_t ht = {PROTO_STR("events"), false, kv, 1, &hp, 1};
	proto_broker_heartbeat_resp_t hr = {0, false, false, 1, 42, hb, 2, &ht, 1};

	c = codec_of(PROTO_API_BROKER_HEARTBEAT);
	save_frame("resp-BrokerHeartbeat-v0.bin", PROTO_API_BROKER_HEARTBEAT, 0, c->resp_enc, &hr);
	free(b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_fuzz_seeds DIR (tests/data/fuzz)\n");
		return 2;
	}
	dir = argv[1];
	gen_batches();
	gen_segments();
	gen_empty_frames();
	gen_rich_frames();
	return 0;
}
