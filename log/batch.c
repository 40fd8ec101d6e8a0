/* log/batch.c: the RecordBatch v2 codec (KAFKA-REFERENCE.md §1): header
 * parsing, validation, the builder and the record iterator.
 *
 * Batches come from clients and from disk, so nothing here trusts a length:
 * every one is checked against the bytes that remain before it is used, and
 * decompression is capped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "log.h"
#include "common/varint.h"

/* The smallest record body: attributes, and one byte each for the timestamp
 * delta, offset delta, key length, value length and header count. */
#define REC_MIN_BODY 6

/* Room a record's length varint and body may take: the batch's Length field
 * is an int32 and counts the 49 header bytes after it too. */
#define BATCH_MAX_LENGTH INT32_MAX

#define DEFAULT_ZSTD_LEVEL 1

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* Offsets and timestamps add a base and a delta that both come from the
 * wire: add them modulo 2^64, as Java does, rather than overflow. */
static int64_t add_wrap(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

__attribute__((format(printf, 4, 5))) static tern_err_t fail(char *why, size_t whylen,
							     tern_err_t err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ------------------------------------------------------------------------ */
/* Header                                                                     */

tern_err_t log_batch_hdr_parse(const uint8_t *buf, size_t len, log_batch_hdr_t *out)
{
	log_batch_hdr_t h;

	if (!buf || len < LOG_BATCH_HEADER_SIZE)
		return TERN_ERR_CORRUPT_MESSAGE;
	h.base_offset = (int64_t)get_be64(buf);
	h.length = (int32_t)get_be32(buf + 8);
	h.leader_epoch = (int32_t)get_be32(buf + 12);
	h.magic = (int8_t)buf[16];
	h.crc = get_be32(buf + 17);
	h.attributes = (int16_t)get_be16(buf + 21);
	h.last_offset_delta = (int32_t)get_be32(buf + 23);
	h.base_timestamp = (int64_t)get_be64(buf + 27);
	h.max_timestamp = (int64_t)get_be64(buf + 35);
	h.producer_id = (int64_t)get_be64(buf + 43);
	h.producer_epoch = (int16_t)get_be16(buf + 51);
	h.base_sequence = (int32_t)get_be32(buf + 53);
	h.records_count = (int32_t)get_be32(buf + 57);
	if (h.length < LOG_BATCH_HEADER_SIZE - LOG_BATCH_LOG_OVERHEAD)
		return TERN_ERR_CORRUPT_MESSAGE;
	*out = h;
	return TERN_OK;
}

void log_batch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
	put_be64(batch + LOG_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void log_batch_set_leader_epoch(uint8_t *batch, int32_t leader_epoch)
{
	put_be32(batch + LOG_BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch);
}

/* The checks that the iterator and validation share: a header that parses,
 * magic 2, the whole batch inside len, a codec Tern reads, and a record count
 * that LastOffsetDelta agrees with. */
static tern_err_t check_frame(const uint8_t *buf, size_t len, log_batch_hdr_t *h, char *why,
			      size_t whylen)
{
	int codec;

	if (!buf || len < LOG_BATCH_HEADER_SIZE)
		return fail(why, whylen, TERN_ERR_CORRUPT_MESSAGE,
			    "%zu bytes, shorter than a batch header (%d)", buf ? len : 0,
			    LOG_BATCH_HEADER_SIZE);
	if (buf[LOG_BATCH_OFF_MAGIC] != LOG_BATCH_MAGIC)
		return fail(why, whylen, TERN_ERR_CORRUPT_MESSAGE, "magic %d, not %d",
			    (int8_t)buf[LOG_BATCH_OFF_MAGIC], LOG_BATCH_MAGIC);
	if (log_batch_hdr_parse(buf, len, h) != TERN_OK)
		return fail(why, whylen, TERN_ERR_CORRUPT_MESSAGE,
			    "length field %d is shorter than the header",
			    (int32_t)get_be32(buf + LOG_BATCH_OFF_LENGTH));
	if (log_batch_size(h) > len)
		return fail(why, whylen, TERN_ERR_CORRUPT_MESSAGE,
			    "batch of %zu bytes truncated to %zu", log_batch_size(h), len);
	codec = log_batch_codec(h);
	if (codec != LOG_CODEC_NONE && codec != LOG_CODEC_ZSTD)
		return fail(why, whylen, TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE,
			    "compression codec %d (Tern reads none and zstd)", codec);
	if (h->records_count <= 0)
		return fail(why, whylen, TERN_ERR_INVALID_RECORD, "record count %d",
			    h->records_count);
	if (h->last_offset_delta != h->records_count - 1)
		return fail(why, whylen, TERN_ERR_INVALID_RECORD,
			    "LastOffsetDelta %d with %d records", h->last_offset_delta,
			    h->records_count);
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Iterator                                                                   */

/* Invariant: p <= end, both inside the batch (uncompressed) or ubuf; left
 * records remain to be read, index have been read. */
struct log_batch_iter {
	log_batch_hdr_t hdr;
	const uint8_t *p, *end;
	int32_t left, index;
	uint8_t *ubuf;	       /* decompressed records of a zstd batch */
	log_header_view_t *hv; /* headers of the current record */
	uint32_t hv_cap;
};

/* The largest window (log2) a frame may declare under cap: the smallest
 * power of two that holds cap bytes, within zstd's 2^10 and its default
 * limit of 2^27. zstd sizes its buffer by the window a frame declares, not
 * by what the frame holds, so without this a frame of a few bytes could
 * make it allocate 2^27 bytes whatever the cap. */
static int window_log_max(size_t cap)
{
	int log = 10;

	while (log < 27 && ((size_t)1 << log) < cap)
		log++;
	return log;
}

/* Inflates the zstd frame(s) src[0..srclen) into a malloc()ed *out of at
 * most cap bytes. The declared content size only sizes the first buffer: the
 * output grows by doubling up to cap + 1 bytes, and filling that last byte
 * proves the frame inflates past the cap, whatever its header says. A frame
 * whose window is larger than the cap allows is refused (window_log_max). */
static tern_err_t zstd_inflate(const uint8_t *src, size_t srclen, size_t cap, uint8_t **out,
			       size_t *outlen, char *why, size_t whylen)
{
	unsigned long long fcs = ZSTD_getFrameContentSize(src, srclen);
	ZSTD_inBuffer in = {src, srclen, 0};
	ZSTD_outBuffer ob = {NULL, 0, 0};
	ZSTD_DCtx *dctx = NULL;
	size_t limit = cap + 1;
	tern_err_t err;

	if (fcs == ZSTD_CONTENTSIZE_ERROR) {
		err = fail(why, whylen, TERN_ERR_INVALID_RECORD, "records are not a zstd frame");
		goto out;
	}
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs > cap) {
		err = fail(why, whylen, TERN_ERR_INVALID_RECORD,
			   "zstd frame declares %llu bytes, more than the cap of %zu", fcs, cap);
		goto out;
	}
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN)
		ob.size = (size_t)fcs + 1;
	else
		ob.size = srclen > limit / 4 ? limit : (srclen * 4 > 65536 ? srclen * 4 : 65536);
	if (ob.size > limit)
		ob.size = limit;
	ob.dst = malloc(ob.size);
	dctx = ZSTD_createDCtx();
	if (!ob.dst || !dctx) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, window_log_max(cap)))) {
		err = TERN_ERR__INVALID_ARG;
		goto out;
	}
	for (;;) {
		size_t r = ZSTD_decompressStream(dctx, &ob, &in);

		if (ZSTD_isError(r)) {
			err = fail(why, whylen, TERN_ERR_INVALID_RECORD, "zstd: %s",
				   ZSTD_getErrorName(r));
			goto out;
		}
		/* r == 0: a frame is complete; more input is a further frame. */
		if (r == 0 && in.pos == in.size)
			break;
		if (ob.pos == ob.size) {
			size_t nsize = ob.size > limit / 2 ? limit : ob.size * 2;
			void *n;

			if (ob.size == limit)
				break;
			n = realloc(ob.dst, nsize);
			if (!n) {
				err = TERN_ERR__NOMEM;
				goto out;
			}
			ob.dst = n;
			ob.size = nsize;
		} else if (in.pos == in.size) {
			err = fail(why, whylen, TERN_ERR_INVALID_RECORD, "zstd frame truncated");
			goto out;
		}
	}
	if (ob.pos > cap) {
		err = fail(why, whylen, TERN_ERR_INVALID_RECORD,
			   "zstd records inflate past the cap of %zu bytes", cap);
		goto out;
	}
	*out = ob.dst;
	*outlen = ob.pos;
	ob.dst = NULL;
	err = TERN_OK;
out:
	ZSTD_freeDCtx(dctx);
	free(ob.dst);
	return err;
}

static tern_err_t iter_init(log_batch_iter_t *it, const uint8_t *buf, size_t len, size_t cap,
			    char *why, size_t whylen)
{
	const uint8_t *recs;
	size_t nrecs;
	tern_err_t err;

	memset(it, 0, sizeof *it);
	err = check_frame(buf, len, &it->hdr, why, whylen);
	if (err)
		return err;
	recs = buf + LOG_BATCH_HEADER_SIZE;
	nrecs = log_batch_size(&it->hdr) - LOG_BATCH_HEADER_SIZE;
	if (log_batch_codec(&it->hdr) == LOG_CODEC_ZSTD) {
		/* Keep cap + 1 from overflowing whatever the caller passed. */
		if (cap == 0)
			cap = LOG_DEFAULT_MAX_UNCOMPRESSED;
		else if (cap > SIZE_MAX / 2)
			cap = SIZE_MAX / 2;
		err = zstd_inflate(recs, nrecs, cap, &it->ubuf, &nrecs, why, whylen);
		if (err)
			return err;
		recs = it->ubuf;
	}
	it->p = recs;
	it->end = recs + nrecs;
	it->left = it->hdr.records_count;
	return TERN_OK;
}

static void iter_fini(log_batch_iter_t *it)
{
	free(it->ubuf);
	free(it->hv);
}

/* Reads a varint inside [*p, end) and advances *p. */
static bool take_varint(const uint8_t **p, const uint8_t *end, int32_t *v)
{
	int n = tern__varint_get(*p, (size_t)(end - *p), v);

	if (n <= 0)
		return false;
	*p += n;
	return true;
}

static bool take_varlong(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	int n = tern__varlong_get(*p, (size_t)(end - *p), v);

	if (n <= 0)
		return false;
	*p += n;
	return true;
}

/* Reads a length-prefixed byte string inside [*p, end): length -1 is null
 * (only where nullable), else that many bytes must remain. */
static bool take_bytes(const uint8_t **p, const uint8_t *end, bool nullable, const uint8_t **data,
		       int32_t *len)
{
	int32_t n;

	if (!take_varint(p, end, &n) || n < (nullable ? -1 : 0) || n > end - *p)
		return false;
	*len = n;
	*data = n < 0 ? NULL : *p;
	if (n > 0)
		*p += n;
	return true;
}

static tern_err_t iter_next(log_batch_iter_t *it, log_record_t *rec, char *why, size_t whylen)
{
	const uint8_t *p = it->p, *end;
	int32_t rlen, offset_delta, nh, idx = it->index;
	int64_t ts_delta;
	int8_t attributes;
	const uint8_t *key, *value;
	int32_t key_len, value_len;
	int n;

	if (it->left == 0) {
		if (p != it->end)
			return fail(why, whylen, TERN_ERR_INVALID_RECORD,
				    "%td bytes after the last of %d records", it->end - p,
				    it->hdr.records_count);
		return TERN_ERR__END;
	}
	if (p == it->end)
		return fail(why, whylen, TERN_ERR_INVALID_RECORD,
			    "records end after %d of the %d counted", idx, it->hdr.records_count);
	n = tern__varint_get(p, (size_t)(it->end - p), &rlen);
	if (n <= 0 || rlen < REC_MIN_BODY || rlen > it->end - p - n)
		return fail(why, whylen, TERN_ERR_INVALID_RECORD, "record %d: bad length", idx);
	p += n;
	end = p + rlen;
	attributes = (int8_t)*p++;
	if (!take_varlong(&p, end, &ts_delta) || !take_varint(&p, end, &offset_delta))
		return fail(why, whylen, TERN_ERR_INVALID_RECORD,
			    "record %d: bad timestamp or offset delta", idx);
	if (!take_bytes(&p, end, true, &key, &key_len))
		return fail(why, whylen, TERN_ERR_INVALID_RECORD, "record %d: bad key", idx);
	if (!take_bytes(&p, end, true, &value, &value_len))
		return fail(why, whylen, TERN_ERR_INVALID_RECORD, "record %d: bad value", idx);
	/* A header takes at least two bytes: bound the count by what remains
	 * before sizing the array by it. */
	if (!take_varint(&p, end, &nh) || nh < 0 || nh > (end - p) / 2)
		return fail(why, whylen, TERN_ERR_INVALID_RECORD, "record %d: bad header count",
			    idx);
	if ((uint32_t)nh > it->hv_cap) {
		log_header_view_t *hv = realloc(it->hv, (size_t)nh * sizeof *hv);

		if (!hv)
			return TERN_ERR__NOMEM;
		it->hv = hv;
		it->hv_cap = (uint32_t)nh;
	}
	for (int32_t i = 0; i < nh; i++) {
		log_header_view_t *h = &it->hv[i];

		if (!take_bytes(&p, end, false, &h->key, &h->key_len) ||
		    !take_bytes(&p, end, true, &h->value, &h->value_len))
			return fail(why, whylen, TERN_ERR_INVALID_RECORD,
				    "record %d: bad header %d", idx, i);
	}
	if (p != end)
		return fail(why, whylen, TERN_ERR_INVALID_RECORD,
			    "record %d: %td bytes past its fields", idx, end - p);

	rec->offset = add_wrap(it->hdr.base_offset, offset_delta);
	rec->timestamp = (it->hdr.attributes & LOG_ATTR_LOG_APPEND_TIME)
			     ? it->hdr.max_timestamp
			     : add_wrap(it->hdr.base_timestamp, ts_delta);
	rec->attributes = attributes;
	rec->key = key;
	rec->key_len = key_len;
	rec->value = value;
	rec->value_len = value_len;
	rec->headers = nh ? it->hv : NULL;
	rec->nheaders = (uint32_t)nh;
	it->p = end;
	it->left--;
	it->index++;
	return TERN_OK;
}

tern_err_t log_batch_iter_new(const uint8_t *buf, size_t len, size_t max_uncompressed,
			      log_batch_iter_t **out)
{
	log_batch_iter_t *it = malloc(sizeof *it);
	tern_err_t err;

	if (!it)
		return TERN_ERR__NOMEM;
	err = iter_init(it, buf, len, max_uncompressed, NULL, 0);
	if (err) {
		iter_fini(it);
		free(it);
		return err;
	}
	*out = it;
	return TERN_OK;
}

tern_err_t log_batch_iter_next(log_batch_iter_t *it, log_record_t *rec)
{
	return iter_next(it, rec, NULL, 0);
}

void log_batch_iter_free(log_batch_iter_t *it)
{
	if (!it)
		return;
	iter_fini(it);
	free(it);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                 */

/* Decodes every record: framing, count, and offset deltas 0, 1, 2, ... */
static tern_err_t validate_records(const uint8_t *buf, size_t len, size_t cap, char *why,
				   size_t whylen)
{
	log_batch_iter_t it;
	log_record_t rec;
	tern_err_t err;

	err = iter_init(&it, buf, len, cap, why, whylen);
	if (err)
		goto out;
	while ((err = iter_next(&it, &rec, why, whylen)) == TERN_OK) {
		int32_t i = it.index - 1;

		if (rec.offset != add_wrap(it.hdr.base_offset, i)) {
			err = fail(why, whylen, TERN_ERR_INVALID_RECORD,
				   "record %d has offset delta %d", i,
				   (int32_t)((uint64_t)rec.offset - (uint64_t)it.hdr.base_offset));
			goto out;
		}
	}
	if (err == TERN_ERR__END)
		err = TERN_OK;
out:
	iter_fini(&it);
	return err;
}

tern_err_t log_batch_validate(const uint8_t *buf, size_t len, const log_validate_opts_t *opts,
			      log_batch_hdr_t *hdr, char *why, size_t whylen)
{
	static const log_validate_opts_t defaults;
	log_batch_hdr_t h;
	uint32_t crc;
	tern_err_t err;

	if (!opts)
		opts = &defaults;
	if (why && whylen)
		why[0] = '\0';
	err = check_frame(buf, len, &h, why, whylen);
	if (err)
		return err;
	if (opts->max_batch_bytes && log_batch_size(&h) > opts->max_batch_bytes)
		return fail(why, whylen, TERN_ERR_MESSAGE_TOO_LARGE,
			    "batch of %zu bytes, more than the %zu allowed", log_batch_size(&h),
			    opts->max_batch_bytes);
	crc = log_crc32c(0, buf + LOG_BATCH_CRC_START, log_batch_size(&h) - LOG_BATCH_CRC_START);
	if (crc != h.crc)
		return fail(why, whylen, TERN_ERR_CORRUPT_MESSAGE,
			    "CRC-32C mismatch: header says %08x, data has %08x", h.crc, crc);
	if (opts->deep) {
		err = validate_records(buf, len, opts->max_uncompressed_bytes, why, whylen);
		if (err)
			return err;
	}
	if (hdr)
		*hdr = h;
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                    */

/* buf holds the batch being built uncompressed: LOG_BATCH_HEADER_SIZE bytes
 * left for the header, then the records. Invariant: len >= the header size;
 * either buf is NULL and cap 0 (before the first record, and after an
 * uncompressed finish handed buf to the caller) or len <= cap. */
struct log_batch_builder {
	log_builder_opts_t opts;
	uint8_t *buf;
	size_t len, cap;
	size_t hint; /* size of the last batch, to size the next buffer */
	int32_t count;
	int64_t base_ts, max_ts;
	ZSTD_CCtx *cctx; /* created at the first zstd batch, then reused */
};

void log_builder_opts_default(log_builder_opts_t *o)
{
	o->codec = LOG_CODEC_NONE;
	o->zstd_level = 0;
	o->producer_id = -1;
	o->producer_epoch = -1;
	o->base_sequence = -1;
	o->extra_attributes = 0;
}

tern_err_t log_batch_builder_new(const log_builder_opts_t *opts, log_batch_builder_t **out)
{
	log_batch_builder_t *b;

	if (opts && opts->codec != LOG_CODEC_NONE && opts->codec != LOG_CODEC_ZSTD)
		return TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	b = calloc(1, sizeof *b);
	if (!b)
		return TERN_ERR__NOMEM;
	if (opts)
		b->opts = *opts;
	else
		log_builder_opts_default(&b->opts);
	if (b->opts.zstd_level == 0)
		b->opts.zstd_level = DEFAULT_ZSTD_LEVEL;
	b->len = LOG_BATCH_HEADER_SIZE;
	*out = b;
	return TERN_OK;
}

/* Makes room for need more bytes. */
static tern_err_t builder_reserve(log_batch_builder_t *b, size_t need)
{
	size_t ncap = b->cap ? b->cap : (b->hint > 4096 ? b->hint : 4096);
	uint8_t *n;

	if (b->buf && b->cap - b->len >= need)
		return TERN_OK;
	while (ncap - b->len < need)
		ncap *= 2;
	n = realloc(b->buf, ncap);
	if (!n)
		return TERN_ERR__NOMEM;
	b->buf = n;
	b->cap = ncap;
	return TERN_OK;
}

/* Adds n bytes of a length-prefixed field to *size, refusing sizes that the
 * batch's int32 Length could not hold (so *size never overflows). */
static bool size_field(size_t *size, size_t n)
{
	if (n > BATCH_MAX_LENGTH)
		return false;
	*size += tern__varint_size((int32_t)n) + n;
	return *size <= BATCH_MAX_LENGTH;
}

static uint8_t *put_field(uint8_t *p, const void *data, size_t n)
{
	p += tern__varint_put(p, data ? (int32_t)n : -1);
	if (n)
		memcpy(p, data, n);
	return p + n;
}

tern_err_t log_batch_builder_add(log_batch_builder_t *b, int64_t timestamp_ms, const void *key,
				 size_t key_len, const void *value, size_t value_len,
				 const log_header_t *headers, size_t nheaders)
{
	int64_t base_ts = b->count ? b->base_ts : timestamp_ms;
	int64_t ts_delta = (int64_t)((uint64_t)timestamp_ms - (uint64_t)base_ts);
	size_t body, total;
	uint8_t *p;
	tern_err_t err;

	if ((!key && key_len) || (!value && value_len) || (!headers && nheaders))
		return TERN_ERR__INVALID_ARG;
	for (size_t i = 0; i < nheaders; i++)
		if (!headers[i].key || (!headers[i].value && headers[i].value_len))
			return TERN_ERR__INVALID_ARG;
	if (b->count == INT32_MAX || nheaders > BATCH_MAX_LENGTH)
		return TERN_ERR_MESSAGE_TOO_LARGE;

	body = 1 + tern__varlong_size(ts_delta) + tern__varint_size(b->count) +
	       tern__varint_size((int32_t)nheaders);
	if (!size_field(&body, key ? key_len : 0) || !size_field(&body, value ? value_len : 0))
		return TERN_ERR_MESSAGE_TOO_LARGE;
	for (size_t i = 0; i < nheaders; i++)
		if (!size_field(&body, headers[i].key_len) ||
		    !size_field(&body, headers[i].value ? headers[i].value_len : 0))
			return TERN_ERR_MESSAGE_TOO_LARGE;
	total = tern__varint_size((int32_t)body) + body;
	if (b->len + total - LOG_BATCH_LOG_OVERHEAD > BATCH_MAX_LENGTH)
		return TERN_ERR_MESSAGE_TOO_LARGE;
	err = builder_reserve(b, total);
	if (err)
		return err;

	p = b->buf + b->len;
	p += tern__varint_put(p, (int32_t)body);
	*p++ = 0; /* record attributes: unused in v2 */
	p += tern__varlong_put(p, ts_delta);
	p += tern__varint_put(p, b->count);
	p = put_field(p, key, key_len);
	p = put_field(p, value, value_len);
	p += tern__varint_put(p, (int32_t)nheaders);
	for (size_t i = 0; i < nheaders; i++) {
		p = put_field(p, headers[i].key, headers[i].key_len);
		p = put_field(p, headers[i].value, headers[i].value_len);
	}
	b->len += total;
	if (b->count == 0 || timestamp_ms > b->max_ts)
		b->max_ts = timestamp_ms;
	b->base_ts = base_ts;
	b->count++;
	return TERN_OK;
}

size_t log_batch_builder_count(const log_batch_builder_t *b)
{
	return (size_t)b->count;
}

size_t log_batch_builder_size(const log_batch_builder_t *b)
{
	return b->len;
}

/* Fills the header of the batch of len bytes at out and its CRC. */
static void builder_seal(const log_batch_builder_t *b, uint8_t *out, size_t len)
{
	int16_t attrs = (int16_t)((b->opts.extra_attributes & ~LOG_ATTR_CODEC_MASK) |
				  (b->opts.codec & LOG_ATTR_CODEC_MASK));

	put_be64(out + 0, 0);
	put_be32(out + 8, (uint32_t)(len - LOG_BATCH_LOG_OVERHEAD));
	put_be32(out + 12, (uint32_t)-1);
	out[16] = LOG_BATCH_MAGIC;
	put_be16(out + 21, (uint16_t)attrs);
	put_be32(out + 23, (uint32_t)(b->count - 1));
	put_be64(out + 27, (uint64_t)b->base_ts);
	put_be64(out + 35, (uint64_t)b->max_ts);
	put_be64(out + 43, (uint64_t)b->opts.producer_id);
	put_be16(out + 51, (uint16_t)b->opts.producer_epoch);
	put_be32(out + 53, (uint32_t)b->opts.base_sequence);
	put_be32(out + 57, (uint32_t)b->count);
	put_be32(out + LOG_BATCH_OFF_CRC,
		 log_crc32c(0, out + LOG_BATCH_CRC_START, len - LOG_BATCH_CRC_START));
}

/* Compresses the records of b into a new batch *out of *outlen bytes. */
static tern_err_t builder_compress(log_batch_builder_t *b, uint8_t **out, size_t *outlen)
{
	size_t nrecs = b->len - LOG_BATCH_HEADER_SIZE;
	size_t bound = ZSTD_compressBound(nrecs);
	uint8_t *buf = NULL;
	size_t n;
	tern_err_t err;

	if (!b->cctx && !(b->cctx = ZSTD_createCCtx())) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	buf = malloc(LOG_BATCH_HEADER_SIZE + bound);
	if (!buf) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	n = ZSTD_compressCCtx(b->cctx, buf + LOG_BATCH_HEADER_SIZE, bound,
			      b->buf + LOG_BATCH_HEADER_SIZE, nrecs, b->opts.zstd_level);
	if (ZSTD_isError(n)) {
		/* With a bound-sized output only a bad level or no memory fail. */
		err = TERN_ERR__INVALID_ARG;
		goto out;
	}
	if (n > BATCH_MAX_LENGTH - (LOG_BATCH_HEADER_SIZE - LOG_BATCH_LOG_OVERHEAD)) {
		err = TERN_ERR_MESSAGE_TOO_LARGE;
		goto out;
	}
	*outlen = LOG_BATCH_HEADER_SIZE + n;
	*out = buf;
	buf = NULL;
	err = TERN_OK;
out:
	free(buf);
	return err;
}

tern_err_t log_batch_builder_finish(log_batch_builder_t *b, uint8_t **buf, size_t *len)
{
	uint8_t *out, *shrunk;
	size_t outlen;
	tern_err_t err;

	if (b->count == 0)
		return TERN_ERR__INVALID_ARG;
	if (b->opts.codec == LOG_CODEC_ZSTD) {
		err = builder_compress(b, &out, &outlen);
		if (err)
			return err;
	} else {
		/* Hand over the buffer itself rather than copy it. */
		out = b->buf;
		outlen = b->len;
		b->buf = NULL;
		b->cap = 0;
	}
	builder_seal(b, out, outlen);
	shrunk = realloc(out, outlen);
	*buf = shrunk ? shrunk : out;
	*len = outlen;
	b->hint = b->len;
	b->len = LOG_BATCH_HEADER_SIZE;
	b->count = 0;
	return TERN_OK;
}

void log_batch_builder_free(log_batch_builder_t *b)
{
	if (!b)
		return;
	ZSTD_freeCCtx(b->cctx);
	free(b->buf);
	free(b);
}
