/* tests/fuzz/fuzz_frame.c: libFuzzer target for the broker's request
 * decoding (TESTING.md scenario 18). The input is one request frame as the
 * transport hands it to a worker (no 4-byte length prefix); it goes through
 * proto_req_hdr_decode() and then the body decoder of the API key and
 * version the header names, with the limits and the arena cap the broker
 * uses (broker/server.c serve_one). Every key of proto_api_table() is
 * covered, Tern's inter-broker keys 1000-1006 included.
 *
 * Checked beyond "no crash, no leak, no hang" (ASan+UBSan):
 *   - a decoder returns only OK, INVALID_REQUEST or _NOMEM, and never
 *     hands out more arena than its cap;
 *   - a request the capped arena refuses does not decode under any arena
 *     (msg_data.h: PROTO_ARENA_FACTOR bytes per frame byte are enough for
 *     every valid request);
 *   - encode(decode(x)) decodes again and encodes to the same bytes;
 *   - the header encodes and decodes back to the same fields.
 * The body is also decoded as a response of the same key and version (the
 * broker decodes the controller's and the leaders' responses, the clients
 * every response), with the same round trip, and a Fetch response is
 * encoded both whole and as the broker's gather list, which must agree.
 *
 * Built only with clang and -Dfuzz=true (tests/fuzz/meson.build); the
 * corpus is tests/data/fuzz/frame/, and fuzz_replay runs it in every build. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_codecs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property: print it and abort, so that libFuzzer saves the input. */
__attribute__((noreturn)) static void broken(const char *what, int16_t key, int16_t version)
{
	fprintf(stderr, "fuzz_frame: %s (%s v%d)\n", what, proto_api_name(key), version);
	abort();
}

/* Every API the broker speaks has a codec here. */
static void check_table(void)
{
	static int done;
	const proto_api_info_t *t;
	size_t n;

	if (done)
		return;
	t = proto_api_table(&n);
	for (size_t i = 0; i < n; i++)
		if (!codec_of(t[i].key))
			broken("no codec in fuzz_frame for an API of proto_api_table()", t[i].key,
			       t[i].min_version);
	done = 1;
}

/* The arena the broker gives a frame of len bytes. */
static size_t arena_cap(size_t len)
{
	return len * PROTO_ARENA_FACTOR + 4096;
}

/* Decodes body[0..len) with dec under an arena of cap bytes (0: none) and
 * checks what only the decoder can break; the arena is the caller's to
 * free. */
static tern_err_t decode(dec_fn *dec, const uint8_t *body, size_t len, int16_t key, int16_t version,
			 size_t cap, proto_arena_t *arena, msg_t *out)
{
	proto_limits_t lim;
	proto_reader_t r;
	tern_err_t err;

	proto_limits_default(&lim);
	proto_arena_init(arena, cap);
	/* An empty encoding has no buffer; NULL + 0 is undefined in C. */
	proto_reader_init(&r, body ? body : (const uint8_t *)"", len, &lim, arena);
	memset(out, 0, sizeof *out);
	err = dec(&r, version, out);
	if (err != TERN_OK && err != TERN_ERR_INVALID_REQUEST && err != TERN_ERR__NOMEM)
		broken("a decoder returned an unexpected error", key, version);
	if (err != r.err)
		broken("a decoder's result differs from its reader's error", key, version);
	if (cap && arena->used > cap)
		broken("the arena handed out more than its cap", key, version);
	if (r.p > r.end)
		broken("the reader went past the end of the frame", key, version);
	return err;
}

/* encode(m) decodes again and encodes to the same bytes. */
static void round_trip(dec_fn *dec, enc_fn *enc, const msg_t *m, int16_t key, int16_t version)
{
	proto_buf_t b1, b2;
	proto_arena_t arena;
	msg_t again;

	proto_buf_init(&b1);
	proto_buf_init(&b2);
	enc(&b1, version, m);
	if (b1.oom)
		broken("a decoded message does not encode", key, version);
	if (decode(dec, b1.p, b1.len, key, version, 0, &arena, &again) != TERN_OK)
		broken("an encoded message does not decode", key, version);
	enc(&b2, version, &again);
	if (b2.oom || b2.len != b1.len || (b1.len && memcmp(b1.p, b2.p, b1.len) != 0))
		broken("encode(decode(encode(m))) differs from encode(m)", key, version);
	proto_arena_free(&arena);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
}

/* A Fetch response sent as the broker's gather list is the same bytes as
 * the one encoded whole. */
static void fetch_iov(const msg_t *m, int16_t version)
{
	const proto_fetch_resp_t *f = (const proto_fetch_resp_t *)m;
	size_t max = proto_fetch_resp_iov_max(f), n, at = 0;
	proto_iov_t *iov = calloc(max ? max : 1, sizeof *iov);
	proto_buf_t whole, parts;

	if (!iov)
		abort();
	proto_buf_init(&whole);
	proto_buf_init(&parts);
	proto_fetch_resp_encode(&whole, version, f);
	n = proto_fetch_resp_encode_iov(&parts, version, f, iov);
	if (whole.oom || parts.oom || n == 0 || n > max)
		broken("a Fetch response does not encode as a gather list", PROTO_API_FETCH,
		       version);
	for (size_t i = 0; i < n; i++) {
		if (at + iov[i].len > whole.len ||
		    (iov[i].len && memcmp(whole.p + at, iov[i].base, iov[i].len) != 0))
			broken("the gather list differs from the whole Fetch response",
			       PROTO_API_FETCH, version);
		at += iov[i].len;
	}
	if (at != whole.len)
		broken("the gather list is shorter than the whole Fetch response", PROTO_API_FETCH,
		       version);
	proto_buf_free(&whole);
	proto_buf_free(&parts);
	free(iov);
}

static void check_header(const proto_req_hdr_t *h)
{
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_req_hdr_t back;
	proto_buf_t b;

	proto_buf_init(&b);
	proto_req_hdr_encode(&b, h);
	proto_limits_default(&lim);
	proto_arena_init(&arena, arena_cap(b.len));
	proto_reader_init(&r, b.p, b.len, &lim, &arena);
	if (b.oom || proto_req_hdr_decode(&r, &back) != TERN_OK || proto_rd_left(&r) != 0 ||
	    back.api_key != h->api_key || back.api_version != h->api_version ||
	    back.correlation_id != h->correlation_id || back.client_id.len != h->client_id.len ||
	    (h->client_id.len > 0 &&
	     memcmp(back.client_id.s, h->client_id.s, (size_t)h->client_id.len) != 0))
		broken("a request header does not encode and decode back", h->api_key,
		       h->api_version);
	proto_arena_free(&arena);
	proto_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	proto_limits_t lim;
	proto_arena_t arena;
	proto_reader_t r;
	proto_req_hdr_t h;
	const codec_t *c;
	const uint8_t *body;
	size_t blen;
	msg_t m;
	tern_err_t err;

	check_table();
	proto_limits_default(&lim);
	proto_arena_init(&arena, arena_cap(size));
	proto_reader_init(&r, data, size, &lim, &arena);
	err = proto_req_hdr_decode(&r, &h);
	proto_arena_free(&arena);
	if (err == TERN_ERR_INVALID_REQUEST)
		return 0; /* the broker drops it */
	if (err == TERN_ERR_UNSUPPORTED_VERSION) {
		if (proto_api_supported(h.api_key, h.api_version))
			broken("a supported version refused", h.api_key, h.api_version);
		return 0; /* the broker answers with the error alone */
	}
	if (err != TERN_OK || !proto_api_supported(h.api_key, h.api_version))
		broken("the header decoder accepted what it should not", h.api_key, h.api_version);
	check_header(&h);
	c = codec_of(h.api_key);
	body = r.p;
	blen = proto_rd_left(&r);

	/* The request, as the broker (or the controller) decodes it. */
	err = decode(c->req_dec, body, blen, h.api_key, h.api_version, arena_cap(size), &arena, &m);
	if (err == TERN_OK)
		round_trip(c->req_dec, c->req_enc, &m, h.api_key, h.api_version);
	proto_arena_free(&arena);
	if (err == TERN_ERR__NOMEM) {
		/* Refused by the cap: no arena may make it a valid request that
		 * needed more than the documented factor. */
		err = decode(c->req_dec, body, blen, h.api_key, h.api_version, 0, &arena, &m);
		if (err == TERN_OK)
			broken("the broker's arena cap refuses a valid request", h.api_key,
			       h.api_version);
		proto_arena_free(&arena);
	}

	/* The same bytes as a response body, as the clients decode it. */
	err =
	    decode(c->resp_dec, body, blen, h.api_key, h.api_version, arena_cap(blen), &arena, &m);
	if (err == TERN_OK) {
		round_trip(c->resp_dec, c->resp_enc, &m, h.api_key, h.api_version);
		if (h.api_key == PROTO_API_FETCH)
			fetch_iov(&m, h.api_version);
	}
	proto_arena_free(&arena);
	return 0;
}
