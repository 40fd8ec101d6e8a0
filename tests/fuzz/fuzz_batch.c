/* tests/fuzz/fuzz_batch.c: libFuzzer target for the RecordBatch v2 codec of
 * log/ (TESTING.md scenario 18): log_batch_validate() as the broker runs it
 * on Produce (deep) and on a replica's fetch and segment recovery
 * (shallow), and the record iterator that readers use, zstd included.
 *
 * The input is one batch (or the start of the bytes a fetch returned). It
 * is checked as it is and again with its CRC-32C recomputed, so that the
 * fuzzer reaches the record decoding behind the CRC. Checked beyond "no
 * crash, no leak, no hang" (ASan+UBSan):
 *   - deep validation passes exactly when shallow validation passes and the
 *     iterator yields RecordsCount records at offsets base, base + 1, ...;
 *   - every record's bytes lie inside the batch (uncompressed) or add up to
 *     at most the decompression cap (zstd), and a batch whose records hold
 *     more than a smaller cap is refused under that cap;
 *   - a zstd frame that declares a window larger than the cap is refused
 *     (zstd would allocate the window);
 *   - a valid batch rebuilt with the builder from its records is valid and
 *     holds the same records.
 * tools/fuzz runs it with a malloc limit, so that no allocation past the
 * decompression cap goes unnoticed.
 *
 * Built only with clang and -Dfuzz=true (tests/fuzz/meson.build); the
 * corpus is tests/data/fuzz/batch/, and fuzz_replay runs it in every build. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ZSTD_getFrameHeader: the window a frame declares. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "log/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decompression caps: the one everything runs under, and a smaller one
 * that a batch holding more must fail. */
#define CAP	  (256u << 10)
#define SMALL_CAP 4096u

/* Records kept for the rebuild; a batch with more is not rebuilt. */
#define MAX_KEEP 64

__attribute__((noreturn)) static void broken(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_batch: %s%s%s\n", what, why && *why ? ": " : "", why ? why : "");
	abort();
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool is_validate_err(tern_err_t err)
{
	return err == TERN_ERR_CORRUPT_MESSAGE || err == TERN_ERR_MESSAGE_TOO_LARGE ||
	       err == TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE || err == TERN_ERR_INVALID_RECORD;
}

/* Whether [p, p + n) lies inside [lo, hi). */
static bool inside(const uint8_t *p, int64_t n, const uint8_t *lo, const uint8_t *hi)
{
	return n <= 0 || (p && p >= lo && p <= hi && n <= hi - p);
}

/* What the iterator made of a batch. */
typedef struct walk {
	tern_err_t open_err; /* log_batch_iter_new() */
	tern_err_t end_err;  /* the last log_batch_iter_next(): _END when all went well */
	int32_t nrecs;
	bool offsets_in_order; /* base, base + 1, ... */
	uint64_t payload;      /* key, value and header bytes */
} walk_t;

/* One record copied for the rebuild. */
typedef struct kept {
	int64_t ts;
	uint8_t *key, *value;
	int32_t key_len, value_len;
	log_header_t *hdrs;
	uint8_t **hdr_bufs;
	uint32_t nh;
} kept_t;

static uint8_t *dup_bytes(const uint8_t *p, int32_t n)
{
	uint8_t *d = malloc(n > 0 ? (size_t)n : 1);

	if (!d)
		abort();
	if (n > 0)
		memcpy(d, p, (size_t)n);
	return d;
}

static void keep(kept_t *k, const log_record_t *rec)
{
	memset(k, 0, sizeof *k);
	k->ts = rec->timestamp;
	k->key_len = rec->key_len;
	k->value_len = rec->value_len;
	k->key = rec->key_len >= 0 ? dup_bytes(rec->key, rec->key_len) : NULL;
	k->value = rec->value_len >= 0 ? dup_bytes(rec->value, rec->value_len) : NULL;
	k->nh = rec->nheaders;
	if (!k->nh)
		return;
	k->hdrs = calloc(k->nh, sizeof *k->hdrs);
	k->hdr_bufs = calloc(2 * (size_t)k->nh, sizeof *k->hdr_bufs);
	if (!k->hdrs || !k->hdr_bufs)
		abort();
	for (uint32_t i = 0; i < k->nh; i++) {
		const log_header_view_t *v = &rec->headers[i];

		k->hdr_bufs[2 * i] = dup_bytes(v->key, v->key_len);
		k->hdrs[i].key = (const char *)k->hdr_bufs[2 * i];
		k->hdrs[i].key_len = (size_t)v->key_len;
		if (v->value_len >= 0) {
			k->hdr_bufs[2 * i + 1] = dup_bytes(v->value, v->value_len);
			k->hdrs[i].value = k->hdr_bufs[2 * i + 1];
			k->hdrs[i].value_len = (size_t)v->value_len;
		}
	}
}

static void unkeep(kept_t *k)
{
	free(k->key);
	free(k->value);
	for (uint32_t i = 0; i < 2 * k->nh; i++)
		free(k->hdr_bufs[i]);
	free(k->hdr_bufs);
	free(k->hdrs);
}

static bool same_bytes(const uint8_t *a, int32_t alen, const uint8_t *b, int32_t blen)
{
	return alen == blen && (alen <= 0 || memcmp(a, b, (size_t)alen) == 0);
}

static bool same_record(const kept_t *k, const log_record_t *rec)
{
	if (k->ts != rec->timestamp || !same_bytes(k->key, k->key_len, rec->key, rec->key_len) ||
	    !same_bytes(k->value, k->value_len, rec->value, rec->value_len) ||
	    k->nh != rec->nheaders)
		return false;
	for (uint32_t i = 0; i < k->nh; i++) {
		const log_header_view_t *v = &rec->headers[i];

		if (!same_bytes(k->hdr_bufs[2 * i], (int32_t)k->hdrs[i].key_len, v->key,
				v->key_len) ||
		    !same_bytes(k->hdr_bufs[2 * i + 1],
				k->hdrs[i].value ? (int32_t)k->hdrs[i].value_len : -1, v->value,
				v->value_len))
			return false;
	}
	return true;
}

/* Runs the iterator over buf and checks each record against the batch's
 * bounds; keeps up to MAX_KEEP records in keepv (NULL: none). */
static void iterate(const uint8_t *buf, size_t len, walk_t *w, kept_t *keepv, int32_t *nkept)
{
	log_batch_iter_t *it = NULL;
	log_batch_hdr_t h;
	log_record_t rec;
	bool zstd;

	memset(w, 0, sizeof *w);
	w->offsets_in_order = true;
	w->open_err = log_batch_iter_new(buf, len, CAP, &it);
	if (w->open_err) {
		if (!is_validate_err(w->open_err))
			broken("log_batch_iter_new returned an unexpected error",
			       tern_err_name(w->open_err));
		return;
	}
	if (log_batch_hdr_parse(buf, len, &h) != TERN_OK || log_batch_size(&h) > len)
		broken("the iterator opened a batch whose header does not parse", NULL);
	zstd = log_batch_codec(&h) == LOG_CODEC_ZSTD;
	for (;;) {
		w->end_err = log_batch_iter_next(it, &rec);
		if (w->end_err != TERN_OK)
			break;
		if (w->nrecs == h.records_count)
			broken("the iterator returned more records than RecordsCount", NULL);
		if (rec.offset != (int64_t)((uint64_t)h.base_offset + (uint64_t)w->nrecs))
			w->offsets_in_order = false;
		w->payload += (uint64_t)(rec.key_len > 0 ? rec.key_len : 0) +
			      (uint64_t)(rec.value_len > 0 ? rec.value_len : 0);
		for (uint32_t i = 0; i < rec.nheaders; i++) {
			const log_header_view_t *v = &rec.headers[i];

			w->payload += (uint64_t)(v->key_len > 0 ? v->key_len : 0) +
				      (uint64_t)(v->value_len > 0 ? v->value_len : 0);
			if (v->key_len < 0 || v->value_len < -1 ||
			    (!zstd &&
			     (!inside(v->key, v->key_len, buf, buf + log_batch_size(&h)) ||
			      !inside(v->value, v->value_len, buf, buf + log_batch_size(&h)))))
				broken("a record header lies outside its batch", NULL);
		}
		if (rec.key_len < -1 || rec.value_len < -1 ||
		    (!zstd && (!inside(rec.key, rec.key_len, buf, buf + log_batch_size(&h)) ||
			       !inside(rec.value, rec.value_len, buf, buf + log_batch_size(&h)))))
			broken("a record lies outside its batch", NULL);
		if (zstd && w->payload > CAP)
			broken("a zstd batch inflated past the decompression cap", NULL);
		if (keepv && w->nrecs < MAX_KEEP)
			keep(&keepv[(*nkept)++], &rec);
		w->nrecs++;
	}
	if (w->end_err != TERN_ERR__END && w->end_err != TERN_ERR_INVALID_RECORD)
		broken("log_batch_iter_next returned an unexpected error",
		       tern_err_name(w->end_err));
	if (w->end_err == TERN_ERR__END && w->nrecs != h.records_count)
		broken("the iterator ended before RecordsCount records", NULL);
	log_batch_iter_free(it);
}

/* A zstd batch that iterates declares no window larger than the cap: zstd
 * allocates the declared window, so a larger one would be an allocation
 * past the cap. */
static void check_window(const uint8_t *buf, size_t len)
{
	log_batch_hdr_t h;
	ZSTD_frameHeader zh;

	if (log_batch_hdr_parse(buf, len, &h) != TERN_OK || log_batch_codec(&h) != LOG_CODEC_ZSTD)
		return;
	if (ZSTD_getFrameHeader(&zh, buf + LOG_BATCH_HEADER_SIZE,
				log_batch_size(&h) - LOG_BATCH_HEADER_SIZE) == 0 &&
	    zh.windowSize > CAP)
		broken("a zstd frame with a window larger than the cap was inflated", NULL);
}

/* A valid batch's records, written again by the builder, make a valid batch
 * with the same records. */
static void rebuild(const log_batch_hdr_t *h, const kept_t *kv, int32_t n)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	log_batch_iter_t *it;
	log_record_t rec;
	uint8_t *buf;
	size_t len;
	char why[256];

	if (h->attributes & LOG_ATTR_LOG_APPEND_TIME)
		return; /* the records' timestamps are not their own */
	log_builder_opts_default(&o);
	o.codec = log_batch_codec(h);
	if (log_batch_builder_new(&o, &b) != TERN_OK)
		broken("log_batch_builder_new failed", NULL);
	for (int32_t i = 0; i < n; i++)
		if (log_batch_builder_add(
			b, kv[i].ts, kv[i].key, kv[i].key ? (size_t)kv[i].key_len : 0, kv[i].value,
			kv[i].value ? (size_t)kv[i].value_len : 0, kv[i].hdrs, kv[i].nh) != TERN_OK)
			broken("the builder refused a record of a valid batch", NULL);
	if (log_batch_builder_finish(b, &buf, &len) != TERN_OK)
		broken("the builder could not finish", NULL);
	log_batch_builder_free(b);
	if (log_batch_validate(buf, len, &(log_validate_opts_t){.deep = true}, NULL, why,
			       sizeof why) != TERN_OK)
		broken("a rebuilt batch is invalid", why);
	if (log_batch_iter_new(buf, len, 0, &it) != TERN_OK)
		broken("a rebuilt batch does not iterate", NULL);
	for (int32_t i = 0; i < n; i++)
		if (log_batch_iter_next(it, &rec) != TERN_OK || !same_record(&kv[i], &rec))
			broken("a rebuilt batch holds other records", NULL);
	if (log_batch_iter_next(it, &rec) != TERN_ERR__END)
		broken("a rebuilt batch holds more records", NULL);
	log_batch_iter_free(it);
	free(buf);
}

static void check(const uint8_t *buf, size_t len)
{
	log_validate_opts_t shallow = {.deep = false, .max_uncompressed_bytes = CAP};
	log_validate_opts_t deep = {.deep = true, .max_uncompressed_bytes = CAP};
	log_validate_opts_t small = {.deep = true, .max_uncompressed_bytes = SMALL_CAP};
	log_batch_hdr_t hs, hd;
	tern_err_t es, ed;
	kept_t kv[MAX_KEEP];
	int32_t nkept = 0;
	walk_t w;
	char why[256];

	es = log_batch_validate(buf, len, &shallow, &hs, why, sizeof why);
	if (es && !is_validate_err(es))
		broken("shallow validation returned an unexpected error", tern_err_name(es));
	ed = log_batch_validate(buf, len, &deep, &hd, why, sizeof why);
	if (ed && !is_validate_err(ed))
		broken("deep validation returned an unexpected error", tern_err_name(ed));
	if (!ed && es)
		broken("deep validation passed a batch that shallow validation refuses", NULL);
	iterate(buf, len, &w, ed ? NULL : kv, &nkept);
	if (!w.open_err)
		check_window(buf, len);
	if (!es) {
		bool all_good = !w.open_err && w.end_err == TERN_ERR__END && w.offsets_in_order;

		if (!ed != all_good)
			broken(ed ? "deep validation refused a batch that iterates cleanly"
				  : "deep validation passed a batch that does not iterate cleanly",
			       why);
		if (log_batch_size(&hs) > len)
			broken("validation passed a truncated batch", NULL);
	}
	if (!ed) {
		if (log_batch_codec(&hd) == LOG_CODEC_ZSTD && w.payload > SMALL_CAP &&
		    log_batch_validate(buf, len, &small, NULL, why, sizeof why) !=
			TERN_ERR_INVALID_RECORD)
			broken("a zstd batch holding more than the small cap passed under it",
			       NULL);
		if (w.nrecs <= MAX_KEEP)
			rebuild(&hd, kv, nkept);
	}
	for (int32_t i = 0; i < nkept; i++)
		unkeep(&kv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	log_batch_hdr_t h;
	size_t end;
	uint32_t crc;

	check(data, size);
	/* Again with the CRC made right, over the batch or what there is of it. */
	if (log_batch_hdr_parse(data, size, &h) != TERN_OK)
		return 0;
	end = log_batch_size(&h) < size ? log_batch_size(&h) : size;
	crc = log_crc32c(0, data + LOG_BATCH_CRC_START, end - LOG_BATCH_CRC_START);
	if (crc == h.crc)
		return 0;
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	put_be32(copy + LOG_BATCH_OFF_CRC, crc);
	check(copy, size);
	free(copy);
	return 0;
}
