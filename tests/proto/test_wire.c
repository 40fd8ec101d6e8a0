/* tests/proto/test_wire.c: the primitive types of proto/wire.h: every
 * type written and read back, truncation at every byte, refused lengths
 * and counts, varint edge cases, the writer's failure mode and the arena
 * cap. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "testutil.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)

static proto_limits_t lim;
static proto_arena_t arena;

static void setup(void)
{
	proto_limits_default(&lim);
	proto_arena_init(&arena, 0);
}

static void teardown(void)
{
	proto_arena_free(&arena);
}

/* A reader over a malloc()ed copy of exactly len bytes, so that ASan
 * catches a read one byte past the end. The caller frees *copy. */
static void reader_over(proto_reader_t *r, const void *p, size_t len, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(*copy);
	if (len)
		memcpy(*copy, p, len);
	proto_reader_init(r, *copy, len, &lim, &arena);
}

static const uint8_t uuid_v[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
				   0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
static const uint8_t blob[3] = {0x00, 0xff, 0x7f};

/* Writes one of every type, extremes included, in a fixed order. */
static void write_all(proto_buf_t *b)
{
	proto_wr_i8(b, INT8_MIN);
	proto_wr_i8(b, INT8_MAX);
	proto_wr_i16(b, INT16_MIN);
	proto_wr_i16(b, -2);
	proto_wr_i32(b, INT32_MIN);
	proto_wr_i32(b, 0x01020304);
	proto_wr_i64(b, INT64_MIN);
	proto_wr_i64(b, INT64_MAX);
	proto_wr_u32(b, UINT32_MAX);
	proto_wr_bool(b, true);
	proto_wr_bool(b, false);
	proto_wr_varint(b, INT32_MIN);
	proto_wr_varint(b, -1);
	proto_wr_varlong(b, INT64_MAX);
	proto_wr_uvarint(b, UINT32_MAX);
	proto_wr_uuid(b, uuid_v);
	proto_wr_string(b, PROTO_STR("topic"));
	proto_wr_string(b, PROTO_STR(""));
	proto_wr_nstring(b, PROTO_NULL_STR);
	proto_wr_nstring(b, PROTO_STR("x"));
	proto_wr_cstring(b, PROTO_STR("compact"));
	proto_wr_ncstring(b, PROTO_NULL_STR);
	proto_wr_bytes(b, (proto_bytes_t){blob, 3});
	proto_wr_nbytes(b, (proto_bytes_t){NULL, -1});
	proto_wr_cbytes(b, (proto_bytes_t){blob, 2});
	proto_wr_ncbytes(b, (proto_bytes_t){NULL, -1});
	proto_wr_array_len(b, 0);
	proto_wr_array_len(b, -1);
	proto_wr_carray_len(b, 2);
	proto_wr_carray_len(b, -1);
	proto_wr_tagged_fields(b);
	/* what the arrays above stand for: two int8 elements */
	proto_wr_i8(b, 7);
	proto_wr_i8(b, 8);
}

static bool bytes_eq(proto_bytes_t v, const uint8_t *p, int32_t len)
{
	return v.len == len && (len <= 0 || memcmp(v.p, p, (size_t)len) == 0);
}

/* Reads what write_all() wrote; checks values only when check is set
 * (a truncated reader returns zeros after its error). */
static void read_all(proto_reader_t *r, bool check)
{
	uint8_t u[16];
	int8_t i8a = proto_rd_i8(r), i8b = proto_rd_i8(r);
	int16_t i16a = proto_rd_i16(r), i16b = proto_rd_i16(r);
	int32_t i32a = proto_rd_i32(r), i32b = proto_rd_i32(r);
	int64_t i64a = proto_rd_i64(r), i64b = proto_rd_i64(r);
	uint32_t u32 = proto_rd_u32(r);
	bool t = proto_rd_bool(r), f = proto_rd_bool(r);
	int32_t vi1 = proto_rd_varint(r), vi2 = proto_rd_varint(r);
	int64_t vl = proto_rd_varlong(r);
	uint32_t uv = proto_rd_uvarint(r);
	proto_str_t s1, s2, s3, s4, s5, s6;
	proto_bytes_t b1, b2, b3, b4;
	int32_t a1, a2, a3, a4;

	proto_rd_uuid(r, u);
	s1 = proto_rd_string(r);
	s2 = proto_rd_string(r);
	s3 = proto_rd_nstring(r);
	s4 = proto_rd_nstring(r);
	s5 = proto_rd_cstring(r);
	s6 = proto_rd_ncstring(r);
	b1 = proto_rd_bytes(r);
	b2 = proto_rd_nbytes(r);
	b3 = proto_rd_cbytes(r);
	b4 = proto_rd_ncbytes(r);
	a1 = proto_rd_array_len(r, 1, false);
	a2 = proto_rd_array_len(r, 1, true);
	a3 = proto_rd_carray_len(r, 1, false);
	a4 = proto_rd_carray_len(r, 1, true);
	proto_rd_tagged_fields(r);
	proto_rd_i8(r);
	proto_rd_i8(r);
	if (!check)
		return;
	CHECK(r->err == TERN_OK);
	CHECK(proto_rd_left(r) == 0);
	CHECK(i8a == INT8_MIN && i8b == INT8_MAX);
	CHECK(i16a == INT16_MIN && i16b == -2);
	CHECK(i32a == INT32_MIN && i32b == 0x01020304);
	CHECK(i64a == INT64_MIN && i64b == INT64_MAX);
	CHECK(u32 == UINT32_MAX);
	CHECK(t && !f);
	CHECK(vi1 == INT32_MIN && vi2 == -1);
	CHECK(vl == INT64_MAX);
	CHECK(uv == UINT32_MAX);
	CHECK(memcmp(u, uuid_v, 16) == 0);
	CHECK(proto_str_eq(s1, "topic"));
	CHECK(proto_str_eq(s2, "") && s2.len == 0);
	CHECK(s3.len == -1 && proto_str_eq(s3, NULL));
	CHECK(proto_str_eq(s4, "x"));
	CHECK(proto_str_eq(s5, "compact"));
	CHECK(s6.len == -1);
	CHECK(bytes_eq(b1, blob, 3));
	CHECK(b2.len == -1 && b2.p == NULL);
	CHECK(bytes_eq(b3, blob, 2));
	CHECK(b4.len == -1);
	CHECK(a1 == 0 && a2 == -1 && a3 == 2 && a4 == -1);
}

START_TEST(every_type_round_trips)
{
	proto_buf_t b;
	proto_reader_t r;
	uint8_t *copy;

	proto_buf_init(&b);
	write_all(&b);
	ck_assert(!b.oom);
	reader_over(&r, b.p, b.len, &copy);
	read_all(&r, true);
	free(copy);
	proto_buf_free(&b);
}
END_TEST

/* Every strict prefix of a valid sequence fails with INVALID_REQUEST and
 * reads nothing past its end (the copy is exactly that long). */
START_TEST(truncation_at_every_byte_fails)
{
	proto_buf_t b;

	proto_buf_init(&b);
	write_all(&b);
	for (size_t n = 0; n < b.len; n++) {
		proto_reader_t r;
		uint8_t *copy;

		reader_over(&r, b.p, n, &copy);
		read_all(&r, false);
		CHECK(r.err == TERN_ERR_INVALID_REQUEST);
		CHECK(proto_rd_left(&r) == 0);
		free(copy);
	}
	proto_buf_free(&b);
}
END_TEST

/* After the first error every read is a no-op returning zero or null. */
START_TEST(errors_are_sticky)
{
	static const uint8_t in[] = {0x00, 0x08, 'a', 0x00, 0x00, 0x00, 0x07};
	proto_reader_t r;
	uint8_t *copy;
	proto_str_t s;

	reader_over(&r, in, sizeof in, &copy);
	s = proto_rd_string(&r); /* length 8, only 5 bytes left... */
	ck_assert_int_eq(s.len, -1);
	ck_assert_int_eq(r.err, TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(proto_rd_i32(&r), 0); /* ...and the int32 behind is not read */
	ck_assert_int_eq(proto_rd_i8(&r), 0);
	ck_assert_int_eq(proto_rd_array_len(&r, 1, false), 0);
	ck_assert_ptr_null(proto_rd_alloc(&r, 1, 8));
	proto_rd_fail(&r, TERN_ERR__NOMEM); /* the first error wins */
	ck_assert_int_eq(r.err, TERN_ERR_INVALID_REQUEST);
	free(copy);
}
END_TEST

/* One length or count field followed by plenty of bytes. */
static tern_err_t read_one(const uint8_t *in, size_t len, int what, int32_t *out)
{
	proto_reader_t r;
	uint8_t *copy;
	tern_err_t err;

	reader_over(&r, in, len, &copy);
	switch (what) {
	case 0:
		*out = proto_rd_string(&r).len;
		break;
	case 1:
		*out = proto_rd_nstring(&r).len;
		break;
	case 2:
		*out = proto_rd_bytes(&r).len;
		break;
	case 3:
		*out = proto_rd_nbytes(&r).len;
		break;
	case 4:
		*out = proto_rd_array_len(&r, 4, false);
		break;
	case 5:
		*out = proto_rd_array_len(&r, 4, true);
		break;
	case 6:
		*out = proto_rd_cstring(&r).len;
		break;
	case 7:
		*out = proto_rd_ncstring(&r).len;
		break;
	case 8:
		*out = proto_rd_carray_len(&r, 4, false);
		break;
	default:
		*out = proto_rd_carray_len(&r, 4, true);
		break;
	}
	err = r.err;
	free(copy);
	return err;
}

START_TEST(negative_and_oversized_lengths_refused)
{
	uint8_t in[64] = {0};
	int32_t v;

	/* int16 -1: null where nullable, an error where not */
	in[0] = 0xff, in[1] = 0xff;
	ck_assert_int_eq(read_one(in, sizeof in, 0, &v), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(read_one(in, sizeof in, 1, &v), TERN_OK);
	ck_assert_int_eq(v, -1);
	/* int16 -2: never valid */
	in[1] = 0xfe;
	ck_assert_int_eq(read_one(in, sizeof in, 0, &v), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(read_one(in, sizeof in, 1, &v), TERN_ERR_INVALID_REQUEST);
	/* int32 -1 and INT32_MIN for bytes and arrays */
	memset(in, 0xff, 4);
	ck_assert_int_eq(read_one(in, sizeof in, 2, &v), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(read_one(in, sizeof in, 3, &v), TERN_OK);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(read_one(in, sizeof in, 4, &v), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(read_one(in, sizeof in, 5, &v), TERN_OK);
	ck_assert_int_eq(v, -1);
	in[0] = 0x80, in[1] = 0, in[2] = 0, in[3] = 0;
	for (int w = 2; w <= 5; w++)
		ck_assert_int_eq(read_one(in, sizeof in, w, &v), TERN_ERR_INVALID_REQUEST);
	/* lengths past the end: a string of 63 bytes with 62 left, bytes of
	 * INT32_MAX, a count of 16 4-byte elements with 60 bytes left */
	in[0] = 0, in[1] = 63;
	ck_assert_int_eq(read_one(in, sizeof in, 0, &v), TERN_ERR_INVALID_REQUEST);
	in[1] = 62;
	ck_assert_int_eq(read_one(in, sizeof in, 0, &v), TERN_OK);
	ck_assert_int_eq(v, 62);
	in[0] = 0x7f, in[1] = 0xff, in[2] = 0xff, in[3] = 0xff;
	ck_assert_int_eq(read_one(in, sizeof in, 2, &v), TERN_ERR_INVALID_REQUEST);
	in[0] = 0, in[1] = 0, in[2] = 0, in[3] = 16;
	ck_assert_int_eq(read_one(in, sizeof in, 4, &v), TERN_ERR_INVALID_REQUEST);
	in[3] = 15;
	ck_assert_int_eq(read_one(in, sizeof in, 4, &v), TERN_OK);
	ck_assert_int_eq(v, 15);
	/* compact: 0 is null, N+1 is N */
	in[0] = 0;
	ck_assert_int_eq(read_one(in, sizeof in, 6, &v), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(read_one(in, sizeof in, 7, &v), TERN_OK);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(read_one(in, sizeof in, 8, &v), TERN_ERR_INVALID_REQUEST);
	ck_assert_int_eq(read_one(in, sizeof in, 9, &v), TERN_OK);
	ck_assert_int_eq(v, -1);
	in[0] = 17; /* 16 elements of 4 bytes, 63 left */
	ck_assert_int_eq(read_one(in, sizeof in, 8, &v), TERN_ERR_INVALID_REQUEST);
	in[0] = 16;
	ck_assert_int_eq(read_one(in, sizeof in, 8, &v), TERN_OK);
	ck_assert_int_eq(v, 15);
	/* a compact length of UINT32_MAX - 1 must not wrap to something small */
	in[0] = 0xfe, in[1] = 0xff, in[2] = 0xff, in[3] = 0xff, in[4] = 0x0f;
	for (int w = 6; w <= 9; w++)
		ck_assert_int_eq(read_one(in, sizeof in, w, &v), TERN_ERR_INVALID_REQUEST);
}
END_TEST

START_TEST(limits_cap_strings_and_arrays)
{
	uint8_t in[64] = {0};
	int32_t v;

	lim.max_string = 10;
	lim.max_array = 3;
	in[1] = 11;
	ck_assert_int_eq(read_one(in, sizeof in, 0, &v), TERN_ERR_INVALID_REQUEST);
	in[1] = 10;
	ck_assert_int_eq(read_one(in, sizeof in, 0, &v), TERN_OK);
	in[0] = 12; /* compact 11 */
	ck_assert_int_eq(read_one(in, sizeof in, 6, &v), TERN_ERR_INVALID_REQUEST);
	memset(in, 0, 4);
	in[3] = 4;
	ck_assert_int_eq(read_one(in, sizeof in, 4, &v), TERN_ERR_INVALID_REQUEST);
	in[3] = 3;
	ck_assert_int_eq(read_one(in, sizeof in, 4, &v), TERN_OK);
}
END_TEST

START_TEST(bool_accepts_only_zero_and_one)
{
	static const uint8_t in[] = {2};
	proto_reader_t r;
	uint8_t *copy;

	reader_over(&r, in, 1, &copy);
	proto_rd_bool(&r);
	ck_assert_int_eq(r.err, TERN_ERR_INVALID_REQUEST);
	free(copy);
}
END_TEST

/* Decodes one varint-family value from in; returns the error. */
static tern_err_t rd_var(int kind, const uint8_t *in, size_t len, int64_t *v, size_t *used)
{
	proto_reader_t r;
	uint8_t *copy;
	tern_err_t err;

	reader_over(&r, in, len, &copy);
	if (kind == 0)
		*v = proto_rd_varint(&r);
	else if (kind == 1)
		*v = proto_rd_varlong(&r);
	else
		*v = proto_rd_uvarint(&r);
	*used = len - proto_rd_left(&r);
	err = r.err;
	free(copy);
	return err;
}

START_TEST(varint_edge_cases)
{
	static const int64_t vals[] = {0,	  1,	     -1,	  63,	     -64,
				       64,	  -65,	     INT32_MAX,	  INT32_MIN, INT64_MAX,
				       INT64_MIN, 1LL << 35, -(1LL << 35)};
	static const struct {
		uint32_t v;
		size_t len;
	} sizes[] = {{0, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3}, {UINT32_MAX, 5}};
	proto_buf_t b;
	int64_t v;
	size_t used;

	proto_buf_init(&b);
	/* zigzag round trips, int32 values through both forms */
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
			proto_buf_reset(&b);
			proto_wr_varint(&b, (int32_t)vals[i]);
			ck_assert_int_eq(rd_var(0, b.p, b.len, &v, &used), TERN_OK);
			ck_assert_int_eq(v, vals[i]);
			ck_assert_uint_eq(used, b.len);
		}
		proto_buf_reset(&b);
		proto_wr_varlong(&b, vals[i]);
		ck_assert_int_eq(rd_var(1, b.p, b.len, &v, &used), TERN_OK);
		ck_assert_int_eq(v, vals[i]);
		ck_assert_uint_eq(used, b.len);
	}
	/* unsigned sizes at the group boundaries */
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		proto_buf_reset(&b);
		proto_wr_uvarint(&b, sizes[i].v);
		ck_assert_uint_eq(b.len, sizes[i].len);
		ck_assert_int_eq(rd_var(2, b.p, b.len, &v, &used), TERN_OK);
		ck_assert_uint_eq((uint32_t)v, sizes[i].v);
	}
	/* zigzag: -1 is 1, 1 is 2 */
	proto_buf_reset(&b);
	proto_wr_varint(&b, -1);
	proto_wr_varint(&b, 1);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_uint_eq(b.p[0], 1);
	ck_assert_uint_eq(b.p[1], 2);
	proto_buf_free(&b);

	{
		/* a continuation bit on the last byte there is: truncated */
		static const uint8_t trunc[] = {0x80, 0x80};
		/* six bytes for an int32, eleven for an int64: too long */
		static const uint8_t long32[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
		static const uint8_t long64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
						 0x80, 0x80, 0x80, 0x80, 0x00};
		/* fifth byte carrying bits beyond 32 */
		static const uint8_t wide32[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
		/* tenth byte carrying bits beyond 64 */
		static const uint8_t wide64[] = {0xff, 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff, 0xff, 0x02};
		/* non-minimal but within the width: accepted, as Kafka does */
		static const uint8_t nonmin[] = {0x80, 0x80, 0x00};
		static const uint8_t max32[] = {0xff, 0xff, 0xff, 0xff, 0x0f};

		for (int k = 0; k < 3; k++) {
			ck_assert_int_eq(rd_var(k, trunc, sizeof trunc, &v, &used),
					 TERN_ERR_INVALID_REQUEST);
			ck_assert_int_eq(rd_var(k, trunc, 0, &v, &used), TERN_ERR_INVALID_REQUEST);
			ck_assert_int_eq(rd_var(k, nonmin, sizeof nonmin, &v, &used), TERN_OK);
			ck_assert_int_eq(v, 0);
			ck_assert_uint_eq(used, 3);
		}
		ck_assert_int_eq(rd_var(0, long32, sizeof long32, &v, &used),
				 TERN_ERR_INVALID_REQUEST);
		ck_assert_int_eq(rd_var(2, long32, sizeof long32, &v, &used),
				 TERN_ERR_INVALID_REQUEST);
		ck_assert_int_eq(rd_var(1, long64, sizeof long64, &v, &used),
				 TERN_ERR_INVALID_REQUEST);
		ck_assert_int_eq(rd_var(0, wide32, sizeof wide32, &v, &used),
				 TERN_ERR_INVALID_REQUEST);
		ck_assert_int_eq(rd_var(2, wide32, sizeof wide32, &v, &used),
				 TERN_ERR_INVALID_REQUEST);
		ck_assert_int_eq(rd_var(1, wide64, sizeof wide64, &v, &used),
				 TERN_ERR_INVALID_REQUEST);
		ck_assert_int_eq(rd_var(2, max32, sizeof max32, &v, &used), TERN_OK);
		ck_assert_uint_eq((uint32_t)v, UINT32_MAX);
		ck_assert_int_eq(rd_var(0, max32, sizeof max32, &v, &used), TERN_OK);
		ck_assert_int_eq(v, INT32_MIN);
	}
}
END_TEST

START_TEST(tagged_fields_are_skipped)
{
	/* two fields (tag 0, 2 bytes; tag 5, 0 bytes), then an int8 */
	static const uint8_t in[] = {0x02, 0x00, 0x02, 0xaa, 0xbb, 0x05, 0x00, 0x2a};
	proto_reader_t r;
	uint8_t *copy;

	reader_over(&r, in, sizeof in, &copy);
	proto_rd_tagged_fields(&r);
	ck_assert_int_eq(proto_rd_i8(&r), 0x2a);
	ck_assert_int_eq(r.err, TERN_OK);
	free(copy);
	/* every truncation fails */
	for (size_t n = 0; n < sizeof in - 1; n++) {
		reader_over(&r, in, n, &copy);
		proto_rd_tagged_fields(&r);
		ck_assert_int_eq(r.err, TERN_ERR_INVALID_REQUEST);
		free(copy);
	}
	{
		/* a field claiming more bytes than there are */
		static const uint8_t bad[] = {0x01, 0x00, 0x7f, 0x00};

		reader_over(&r, bad, sizeof bad, &copy);
		proto_rd_tagged_fields(&r);
		ck_assert_int_eq(r.err, TERN_ERR_INVALID_REQUEST);
		free(copy);
	}
}
END_TEST

START_TEST(arena_cap_is_enforced)
{
	proto_arena_t a;
	proto_reader_t r;
	uint8_t in[4] = {0};

	proto_arena_init(&a, 64);
	ck_assert_ptr_nonnull(proto_arena_alloc(&a, 2, 16));
	ck_assert_uint_eq(a.used, 32);
	/* 3 bytes round up to the alignment */
	ck_assert_ptr_nonnull(proto_arena_alloc(&a, 1, 3));
	ck_assert_uint_le(a.used, 64);
	ck_assert_ptr_null(proto_arena_alloc(&a, 1, 64));
	ck_assert_ptr_null(proto_arena_alloc(&a, SIZE_MAX / 2, 4)); /* overflow */
	ck_assert_ptr_null(proto_arena_alloc(&a, 0, 4));
	proto_arena_free(&a);
	ck_assert_uint_eq(a.used, 0);
	/* the memory is zeroed */
	{
		uint64_t *p = proto_arena_alloc(&a, 4, sizeof *p);

		ck_assert_ptr_nonnull(p);
		for (int i = 0; i < 4; i++)
			ck_assert_uint_eq(p[i], 0);
	}
	proto_arena_free(&a);

	/* through the reader: a refused allocation is a sticky _NOMEM */
	proto_arena_init(&a, 32);
	proto_reader_init(&r, in, sizeof in, &lim, &a);
	ck_assert_ptr_nonnull(proto_rd_alloc(&r, 2, 16));
	ck_assert_ptr_null(proto_rd_alloc(&r, 1, 1));
	ck_assert_int_eq(r.err, TERN_ERR__NOMEM);
	ck_assert_int_eq(proto_rd_i32(&r), 0);
	proto_arena_free(&a);

	/* many chunks are all freed (ASan's leak check) */
	proto_arena_init(&a, 0);
	for (int i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(proto_arena_alloc(&a, 1, 5000));
	proto_arena_free(&a);
}
END_TEST

START_TEST(writer_failure_is_sticky)
{
	proto_buf_t b;
	uint8_t *p;
	size_t len;

	proto_buf_init(&b);
	proto_wr_i32(&b, 0);
	proto_wr_i32(&b, 7);
	proto_wr_i32_at(&b, 0, 0x01020304);
	ck_assert_uint_eq(b.p[0], 1);
	ck_assert_uint_eq(b.p[3], 4);
	proto_wr_i32_at(&b, 5, 1); /* past the end: ignored */
	ck_assert_uint_eq(b.len, 8);
	ck_assert_ptr_null(proto_buf_extend(&b, SIZE_MAX));
	ck_assert(b.oom);
	proto_wr_i64(&b, 1);
	proto_wr_string(&b, PROTO_STR("x"));
	ck_assert_uint_eq(b.len, 8);
	proto_buf_reset(&b);
	ck_assert(!b.oom);
	proto_wr_i16(&b, 0x0102);
	p = proto_buf_take(&b, &len);
	ck_assert_uint_eq(len, 2);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(p[1], 2);
	free(p);
	/* a null view written where null is not allowed comes out empty */
	proto_buf_init(&b);
	proto_wr_string(&b, PROTO_NULL_STR);
	proto_wr_bytes(&b, (proto_bytes_t){NULL, -1});
	proto_wr_cstring(&b, PROTO_NULL_STR);
	ck_assert_uint_eq(b.len, 2 + 4 + 1);
	ck_assert_uint_eq(b.p[6], 1);
	proto_buf_free(&b);
}
END_TEST

START_TEST(string_view_helpers)
{
	char buf[4];
	proto_str_t s = proto_str("hello");

	ck_assert_int_eq(s.len, 5);
	ck_assert_int_eq(proto_str(NULL).len, -1);
	ck_assert(proto_str_eq(s, "hello"));
	ck_assert(!proto_str_eq(s, "hell"));
	ck_assert(!proto_str_eq(s, NULL));
	ck_assert(proto_str_eq(PROTO_NULL_STR, NULL));
	ck_assert(!proto_str_eq(PROTO_STR(""), NULL));
	ck_assert_str_eq(proto_str_copy(s, buf, sizeof buf), "hel");
	ck_assert_str_eq(proto_str_copy(PROTO_NULL_STR, buf, sizeof buf), "");
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("proto_wire");
	TCase *tc;

	tc = tcase_create("primitives");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_type_round_trips);
	tcase_add_test(tc, truncation_at_every_byte_fails);
	tcase_add_test(tc, errors_are_sticky);
	tcase_add_test(tc, bool_accepts_only_zero_and_one);
	tcase_add_test(tc, tagged_fields_are_skipped);
	tcase_add_test(tc, string_view_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("lengths");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, negative_and_oversized_lengths_refused);
	tcase_add_test(tc, limits_cap_strings_and_arrays);
	tcase_add_test(tc, varint_edge_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, arena_cap_is_enforced);
	tcase_add_test(tc, writer_failure_is_sticky);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(wire_suite());
}
