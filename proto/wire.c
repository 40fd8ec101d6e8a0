/* The Kafka protocol's primitive types: bounds-checked readers over
 * untrusted frames, growable writers, and the arena decoded arrays live in.
 * See wire.h. */
#include <stdlib.h>
#include <string.h>

#include "common/varint.h"
#include "proto/wire.h"

void proto_limits_default(proto_limits_t *l)
{
	l->max_frame = 100u << 20;
	l->max_array = 1 << 20;
	l->max_string = INT16_MAX;
}

/* ------------------------------------------------------------------------ */
/* Arena                                                                      */

struct proto_arena_chunk {
	proto_arena_chunk_t *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK (16u << 10)

void proto_arena_init(proto_arena_t *a, size_t cap)
{
	a->head = NULL;
	a->used = 0;
	a->cap = cap;
}

void *proto_arena_alloc(proto_arena_t *a, size_t n, size_t size)
{
	proto_arena_chunk_t *c = a->head;
	size_t bytes, align = sizeof(max_align_t);
	uint8_t *p;

	if (n == 0 || size == 0 || n > SIZE_MAX / size)
		return NULL;
	bytes = (n * size + align - 1) / align * align;
	if (a->cap && (bytes > a->cap || a->used > a->cap - bytes))
		return NULL;
	if (!c || c->cap - c->used < bytes) {
		size_t cap = bytes > ARENA_CHUNK ? bytes : ARENA_CHUNK;

		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (uint8_t *)c->data + c->used;
	c->used += bytes;
	a->used += bytes;
	memset(p, 0, n * size);
	return p;
}

void proto_arena_free(proto_arena_t *a)
{
	proto_arena_chunk_t *c = a->head, *n;

	for (; c; c = n) {
		n = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

/* ------------------------------------------------------------------------ */
/* Views                                                                      */

proto_str_t proto_str(const char *s)
{
	size_t n;

	if (!s)
		return PROTO_NULL_STR;
	n = strlen(s);
	return (proto_str_t){s, n > INT32_MAX ? INT32_MAX : (int32_t)n};
}

bool proto_str_eq(proto_str_t a, const char *s)
{
	if (!s || a.len < 0)
		return !s && a.len < 0;
	return strlen(s) == (size_t)a.len && memcmp(a.s, s, (size_t)a.len) == 0;
}

char *proto_str_copy(proto_str_t a, char *buf, size_t len)
{
	size_t n = a.len > 0 ? (size_t)a.len : 0;

	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(buf, a.s, n);
	buf[n] = 0;
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                     */

void proto_reader_init(proto_reader_t *r, const void *buf, size_t len, const proto_limits_t *lim,
		       proto_arena_t *arena)
{
	r->p = buf;
	r->end = r->p + len;
	r->err = TERN_OK;
	r->lim = lim;
	r->arena = arena;
}

size_t proto_rd_left(const proto_reader_t *r)
{
	return (size_t)(r->end - r->p);
}

void proto_rd_fail(proto_reader_t *r, tern_err_t err)
{
	if (!r->err)
		r->err = err;
	r->p = r->end;
}

/* n bytes to read, or NULL (and the reader failed) when they are not there. */
static const uint8_t *take(proto_reader_t *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->err)
		return NULL;
	if (proto_rd_left(r) < n) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return NULL;
	}
	r->p += n;
	return p;
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int8_t proto_rd_i8(proto_reader_t *r)
{
	const uint8_t *p = take(r, 1);

	return p ? (int8_t)p[0] : 0;
}

int16_t proto_rd_i16(proto_reader_t *r)
{
	const uint8_t *p = take(r, 2);

	return p ? (int16_t)be(p, 2) : 0;
}

int32_t proto_rd_i32(proto_reader_t *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (int32_t)be(p, 4) : 0;
}

int64_t proto_rd_i64(proto_reader_t *r)
{
	const uint8_t *p = take(r, 8);

	return p ? (int64_t)be(p, 8) : 0;
}

uint32_t proto_rd_u32(proto_reader_t *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (uint32_t)be(p, 4) : 0;
}

bool proto_rd_bool(proto_reader_t *r)
{
	int8_t v = proto_rd_i8(r);

	if (v != 0 && v != 1)
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
	return v == 1;
}

int32_t proto_rd_varint(proto_reader_t *r)
{
	int32_t v = 0;
	int n;

	if (r->err)
		return 0;
	n = tern__varint_get(r->p, proto_rd_left(r), &v);
	if (n <= 0) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return 0;
	}
	r->p += n;
	return v;
}

int64_t proto_rd_varlong(proto_reader_t *r)
{
	int64_t v = 0;
	int n;

	if (r->err)
		return 0;
	n = tern__varlong_get(r->p, proto_rd_left(r), &v);
	if (n <= 0) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return 0;
	}
	r->p += n;
	return v;
}

uint32_t proto_rd_uvarint(proto_reader_t *r)
{
	uint64_t u = 0;
	int n;

	if (r->err)
		return 0;
	n = tern__uleb_get(r->p, proto_rd_left(r), TERN__VARINT_MAX, 32, &u);
	if (n <= 0) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return 0;
	}
	r->p += n;
	return (uint32_t)u;
}

void proto_rd_uuid(proto_reader_t *r, uint8_t out[16])
{
	const uint8_t *p = take(r, 16);

	if (p)
		memcpy(out, p, 16);
	else
		memset(out, 0, 16);
}

/* A string of len bytes (len -1: null when nullable). */
static proto_str_t rd_str(proto_reader_t *r, int64_t len, bool nullable)
{
	const uint8_t *p;

	if (r->err)
		return PROTO_NULL_STR;
	if (len == -1 && nullable)
		return PROTO_NULL_STR;
	if (len < 0 || len > r->lim->max_string) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return PROTO_NULL_STR;
	}
	p = take(r, (size_t)len);
	return p ? (proto_str_t){(const char *)p, (int32_t)len} : PROTO_NULL_STR;
}

proto_str_t proto_rd_string(proto_reader_t *r)
{
	return rd_str(r, proto_rd_i16(r), false);
}

proto_str_t proto_rd_nstring(proto_reader_t *r)
{
	return rd_str(r, proto_rd_i16(r), true);
}

proto_str_t proto_rd_cstring(proto_reader_t *r)
{
	return rd_str(r, (int64_t)proto_rd_uvarint(r) - 1, false);
}

proto_str_t proto_rd_ncstring(proto_reader_t *r)
{
	return rd_str(r, (int64_t)proto_rd_uvarint(r) - 1, true);
}

static proto_bytes_t rd_bytes(proto_reader_t *r, int64_t len, bool nullable)
{
	const uint8_t *p;

	if (r->err)
		return (proto_bytes_t){NULL, -1};
	if (len == -1 && nullable)
		return (proto_bytes_t){NULL, -1};
	if (len < 0 || len > INT32_MAX) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return (proto_bytes_t){NULL, -1};
	}
	p = take(r, (size_t)len);
	return p ? (proto_bytes_t){p, (int32_t)len} : (proto_bytes_t){NULL, -1};
}

proto_bytes_t proto_rd_bytes(proto_reader_t *r)
{
	return rd_bytes(r, proto_rd_i32(r), false);
}

proto_bytes_t proto_rd_nbytes(proto_reader_t *r)
{
	return rd_bytes(r, proto_rd_i32(r), true);
}

proto_bytes_t proto_rd_cbytes(proto_reader_t *r)
{
	return rd_bytes(r, (int64_t)proto_rd_uvarint(r) - 1, false);
}

proto_bytes_t proto_rd_ncbytes(proto_reader_t *r)
{
	return rd_bytes(r, (int64_t)proto_rd_uvarint(r) - 1, true);
}

static int32_t check_count(proto_reader_t *r, int64_t n, size_t min_elem_bytes, bool nullable)
{
	if (r->err)
		return 0;
	if (n == -1 && nullable)
		return -1;
	if (n < 0 || n > r->lim->max_array ||
	    (min_elem_bytes && (uint64_t)n > proto_rd_left(r) / min_elem_bytes)) {
		proto_rd_fail(r, TERN_ERR_INVALID_REQUEST);
		return 0;
	}
	return (int32_t)n;
}

int32_t proto_rd_array_len(proto_reader_t *r, size_t min_elem_bytes, bool nullable)
{
	return check_count(r, proto_rd_i32(r), min_elem_bytes, nullable);
}

int32_t proto_rd_carray_len(proto_reader_t *r, size_t min_elem_bytes, bool nullable)
{
	return check_count(r, (int64_t)proto_rd_uvarint(r) - 1, min_elem_bytes, nullable);
}

void *proto_rd_alloc(proto_reader_t *r, int32_t n, size_t size)
{
	void *p;

	if (r->err || n <= 0)
		return NULL;
	p = proto_arena_alloc(r->arena, (size_t)n, size);
	if (!p)
		proto_rd_fail(r, TERN_ERR__NOMEM);
	return p;
}

void proto_rd_tagged_fields(proto_reader_t *r)
{
	uint32_t n = proto_rd_uvarint(r);

	for (uint32_t i = 0; i < n && !r->err; i++) {
		uint32_t size;

		proto_rd_uvarint(r); /* tag: none is known to us */
		size = proto_rd_uvarint(r);
		take(r, size);
	}
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                     */

void proto_buf_init(proto_buf_t *b)
{
	memset(b, 0, sizeof *b);
}

void proto_buf_free(proto_buf_t *b)
{
	free(b->p);
	proto_buf_init(b);
}

uint8_t *proto_buf_take(proto_buf_t *b, size_t *len)
{
	uint8_t *p = b->p;

	*len = b->len;
	proto_buf_init(b);
	return p;
}

void proto_buf_reset(proto_buf_t *b)
{
	b->len = 0;
	b->oom = false;
}

uint8_t *proto_buf_extend(proto_buf_t *b, size_t n)
{
	uint8_t *p;

	if (b->oom)
		return NULL;
	if (n > SIZE_MAX - b->len) {
		b->oom = true;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap < b->len + n)
			cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return NULL;
		}
		b->p = np;
		b->cap = cap;
	}
	p = b->p + b->len;
	b->len += n;
	return p;
}

static void wr_be(proto_buf_t *b, uint64_t v, int n)
{
	uint8_t *p = proto_buf_extend(b, (size_t)n);

	if (!p)
		return;
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void proto_wr_i8(proto_buf_t *b, int8_t v)
{
	wr_be(b, (uint8_t)v, 1);
}

void proto_wr_i16(proto_buf_t *b, int16_t v)
{
	wr_be(b, (uint16_t)v, 2);
}

void proto_wr_i32(proto_buf_t *b, int32_t v)
{
	wr_be(b, (uint32_t)v, 4);
}

void proto_wr_i64(proto_buf_t *b, int64_t v)
{
	wr_be(b, (uint64_t)v, 8);
}

void proto_wr_u32(proto_buf_t *b, uint32_t v)
{
	wr_be(b, v, 4);
}

void proto_wr_bool(proto_buf_t *b, bool v)
{
	wr_be(b, v ? 1 : 0, 1);
}

void proto_wr_varint(proto_buf_t *b, int32_t v)
{
	uint8_t *p = proto_buf_extend(b, tern__varint_size(v));

	if (p)
		tern__varint_put(p, v);
}

void proto_wr_varlong(proto_buf_t *b, int64_t v)
{
	uint8_t *p = proto_buf_extend(b, tern__varlong_size(v));

	if (p)
		tern__varlong_put(p, v);
}

void proto_wr_uvarint(proto_buf_t *b, uint32_t v)
{
	uint8_t *p = proto_buf_extend(b, tern__uleb_size(v));

	if (p)
		tern__uleb_put(p, v);
}

void proto_wr_uuid(proto_buf_t *b, const uint8_t v[16])
{
	proto_wr_raw(b, v, 16);
}

void proto_wr_raw(proto_buf_t *b, const void *src, size_t n)
{
	uint8_t *p = proto_buf_extend(b, n);

	if (p && n)
		memcpy(p, src, n);
}

void proto_wr_i32_at(proto_buf_t *b, size_t pos, int32_t v)
{
	if (b->oom || pos + 4 > b->len)
		return;
	for (int i = 3; i >= 0; i--) {
		b->p[pos + (size_t)i] = (uint8_t)v;
		v = (int32_t)((uint32_t)v >> 8);
	}
}

void proto_wr_string(proto_buf_t *b, proto_str_t s)
{
	int32_t n = s.len > 0 ? s.len : 0;

	proto_wr_i16(b, (int16_t)n);
	proto_wr_raw(b, s.s, (size_t)n);
}

void proto_wr_nstring(proto_buf_t *b, proto_str_t s)
{
	if (s.len < 0) {
		proto_wr_i16(b, -1);
		return;
	}
	proto_wr_string(b, s);
}

void proto_wr_cstring(proto_buf_t *b, proto_str_t s)
{
	uint32_t n = s.len > 0 ? (uint32_t)s.len : 0;

	proto_wr_uvarint(b, n + 1);
	proto_wr_raw(b, s.s, n);
}

void proto_wr_ncstring(proto_buf_t *b, proto_str_t s)
{
	if (s.len < 0) {
		proto_wr_uvarint(b, 0);
		return;
	}
	proto_wr_cstring(b, s);
}

void proto_wr_bytes(proto_buf_t *b, proto_bytes_t v)
{
	int32_t n = v.len > 0 ? v.len : 0;

	proto_wr_i32(b, n);
	proto_wr_raw(b, v.p, (size_t)n);
}

void proto_wr_nbytes(proto_buf_t *b, proto_bytes_t v)
{
	if (v.len < 0) {
		proto_wr_i32(b, -1);
		return;
	}
	proto_wr_bytes(b, v);
}

void proto_wr_cbytes(proto_buf_t *b, proto_bytes_t v)
{
	uint32_t n = v.len > 0 ? (uint32_t)v.len : 0;

	proto_wr_uvarint(b, n + 1);
	proto_wr_raw(b, v.p, n);
}

void proto_wr_ncbytes(proto_buf_t *b, proto_bytes_t v)
{
	if (v.len < 0) {
		proto_wr_uvarint(b, 0);
		return;
	}
	proto_wr_cbytes(b, v);
}

void proto_wr_array_len(proto_buf_t *b, int32_t n)
{
	proto_wr_i32(b, n < 0 ? -1 : n);
}

void proto_wr_carray_len(proto_buf_t *b, int32_t n)
{
	proto_wr_uvarint(b, n < 0 ? 0 : (uint32_t)n + 1);
}

void proto_wr_tagged_fields(proto_buf_t *b)
{
	proto_wr_uvarint(b, 0);
}
