/* tests/log/gen_codec_data.c: writes the broken batches under tests/data that
 * test_codec replays (tests/data/README.md lists them). Built with the tests,
 * run by hand once, its output committed:
 *     build/tests/log/gen_codec_data tests/data */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "log/log.h"

#define BOMB_BYTES (4u << 20) /* inflated size of the zstd bombs */

__attribute__((noreturn)) static void die(const char *what)
{
	fprintf(stderr, "gen_codec_data: %s\n", what);
	exit(1);
}

static const char *dir;

static void save(const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die(path);
	printf("%s: %zu bytes\n", path, len);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void fix_crc(uint8_t *b, size_t len)
{
	put_be32(b + LOG_BATCH_OFF_CRC,
	         log_crc32c(0, b + LOG_BATCH_CRC_START, len - LOG_BATCH_CRC_START));
}

/* A valid uncompressed batch of three records, a header on the second. */
static uint8_t *valid_batch(size_t *len)
{
	log_header_t h = {"trace", 5, "abc", 3};
	log_batch_builder_t *b;
	uint8_t *buf;

	if (log_batch_builder_new(NULL, &b) ||
	    log_batch_builder_add(b, 1700000000000, "k0", 2, "value-0", 7, NULL, 0) ||
	    log_batch_builder_add(b, 1700000000001, "k1", 2, "value-1", 7, &h, 1) ||
	    log_batch_builder_add(b, 1700000000002, NULL, 0, "value-2", 7, NULL, 0) ||
	    log_batch_builder_finish(b, &buf, len))
		die("building the valid batch");
	log_batch_builder_free(b);
	return buf;
}

/* Writes a one-record zstd batch whose records section is frame: the header
 * of a real one-record zstd batch, with Length and CRC redone. */
static void save_zstd_batch(const char *name, const uint8_t *frame, size_t flen)
{
	size_t len = LOG_BATCH_HEADER_SIZE + flen, tlen;
	log_batch_builder_t *bl;
	log_builder_opts_t o;
	uint8_t *tmpl, *b;

	log_builder_opts_default(&o);
	o.codec = LOG_CODEC_ZSTD;
	if (log_batch_builder_new(&o, &bl) ||
	    log_batch_builder_add(bl, 1700000000000, NULL, 0, "x", 1, NULL, 0) ||
	    log_batch_builder_finish(bl, &tmpl, &tlen))
		die("building the zstd template");
	log_batch_builder_free(bl);
	b = malloc(len);
	if (!b)
		die("malloc");
	memcpy(b, tmpl, LOG_BATCH_HEADER_SIZE);
	memcpy(b + LOG_BATCH_HEADER_SIZE, frame, flen);
	put_be32(b + LOG_BATCH_OFF_LENGTH, (uint32_t)(len - LOG_BATCH_LOG_OVERHEAD));
	fix_crc(b, len);
	save(name, b, len);
	free(b);
	free(tmpl);
}

/* The records section of a one-record batch whose value is BOMB_BYTES zero
 * bytes, as the builder would lay it out, for compressing by hand. */
static uint8_t *bomb_records(size_t *len)
{
	log_batch_builder_t *b;
	uint8_t *batch, *zeros = calloc(1, BOMB_BYTES), *recs;
	size_t blen;

	if (!zeros || log_batch_builder_new(NULL, &b) ||
	    log_batch_builder_add(b, 1700000000000, NULL, 0, zeros, BOMB_BYTES, NULL, 0) ||
	    log_batch_builder_finish(b, &batch, &blen))
		die("building the bomb records");
	log_batch_builder_free(b);
	*len = blen - LOG_BATCH_HEADER_SIZE;
	recs = malloc(*len);
	if (!recs)
		die("malloc");
	memcpy(recs, batch + LOG_BATCH_HEADER_SIZE, *len);
	free(batch);
	free(zeros);
	return recs;
}

static size_t compress(ZSTD_CCtx *c, uint8_t *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t r = ZSTD_compress2(c, dst, cap, src, n);

	if (ZSTD_isError(r))
		die(ZSTD_getErrorName(r));
	return r;
}

/* Rewrites the Frame_Content_Size of a zstd frame to claim fcs bytes
 * (RFC 8878 §3.1.1.1); the field must be 4 bytes wide. */
static void frame_lie(uint8_t *f, uint32_t fcs)
{
	static const size_t did_size[4] = {0, 1, 2, 4};
	uint8_t fhd = f[4];
	bool single = fhd & 0x20;
	size_t off = 5 + (single ? 0 : 1) + did_size[fhd & 3];

	if ((fhd >> 6) != 2)
		die("bomb frame has no 4-byte content size");
	f[off] = (uint8_t)fcs;
	f[off + 1] = (uint8_t)(fcs >> 8);
	f[off + 2] = (uint8_t)(fcs >> 16);
	f[off + 3] = (uint8_t)(fcs >> 24);
}

int main(int argc, char **argv)
{
	size_t len, rlen, cap, flen;
	uint8_t *good, *b, *recs, *frame;
	ZSTD_CCtx *c;

	if (argc != 2) {
		fprintf(stderr, "usage: %s tests/data\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	good = valid_batch(&len);
	b = malloc(len);
	if (!b)
		die("malloc");
	save("codec-valid.bin", good, len);

	/* One bit flipped inside the CRC-covered records. */
	memcpy(b, good, len);
	b[len - 10] ^= 0x10;
	save("codec-crc-bitflip.bin", b, len);

	/* Cut short: the Length field promises 7 more bytes. */
	save("codec-truncated.bin", good, len - 7);

	/* Length one byte short: the CRC then covers one byte less. */
	memcpy(b, good, len);
	put_be32(b + LOG_BATCH_OFF_LENGTH, (uint32_t)(len - LOG_BATCH_LOG_OVERHEAD - 1));
	save("codec-bad-length.bin", b, len);

	/* Magic 1 (a v1 message set's). */
	memcpy(b, good, len);
	b[LOG_BATCH_OFF_MAGIC] = 1;
	save("codec-bad-magic.bin", b, len);

	/* RecordsCount 4 for three records, CRC recomputed: LastOffsetDelta
	 * (2) disagrees, which even a shallow check sees. */
	memcpy(b, good, len);
	put_be32(b + 57, 4);
	fix_crc(b, len);
	save("codec-lying-count.bin", b, len);

	/* RecordsCount 4 and LastOffsetDelta 3 for three records, CRC
	 * recomputed: a consistent header that only decoding the records
	 * exposes. */
	put_be32(b + 23, 3);
	fix_crc(b, len);
	save("codec-lying-count-and-delta.bin", b, len);

	/* The first record's length varint 2 bigger, CRC recomputed. */
	memcpy(b, good, len);
	b[LOG_BATCH_HEADER_SIZE] += 4; /* zigzag: +4 encodes +2 */
	fix_crc(b, len);
	save("codec-bad-record-length.bin", b, len);

	/* Codec gzip, CRC recomputed. */
	memcpy(b, good, len);
	b[22] = (uint8_t)((b[22] & ~LOG_ATTR_CODEC_MASK) | LOG_CODEC_GZIP);
	fix_crc(b, len);
	save("codec-gzip.bin", b, len);

	/* zstd bombs: BOMB_BYTES of records from a frame of a few hundred
	 * bytes; one declares its size, one does not, one claims 100 bytes. */
	recs = bomb_records(&rlen);
	cap = ZSTD_compressBound(rlen);
	frame = malloc(cap);
	c = ZSTD_createCCtx();
	if (!frame || !c)
		die("zstd");
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
	flen = compress(c, frame, cap, recs, rlen);
	save_zstd_batch("codec-zstd-bomb.bin", frame, flen);
	frame_lie(frame, 100);
	save_zstd_batch("codec-zstd-lying-size.bin", frame, flen);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	flen = compress(c, frame, cap, recs, rlen);
	save_zstd_batch("codec-zstd-bomb-nosize.bin", frame, flen);

	ZSTD_freeCCtx(c);
	free(frame);
	free(recs);
	free(b);
	free(good);
	return 0;
}
