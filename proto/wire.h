/* proto/wire.h: the Kafka protocol's primitive types, read with bounds
 * checks from untrusted bytes and written into growable buffers.
 *
 * Reading is zero-copy and sticky-error: strings and bytes are views into
 * the frame (which must outlive them), arrays come from an arena bounded by
 * the frame's own size, and the first error (a length past the end, a
 * negative or oversized count, a null where none is allowed) stops every
 * later read, so a decoder reads its fields in order and checks r->err
 * once at the end. Nothing is allocated before its count has been checked
 * against the bytes left and against the configured caps. */
#ifndef TERN_PROTO_WIRE_H
#define TERN_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

/* Caps on what a peer may make us allocate. */
typedef struct proto_limits {
	size_t max_frame;   /* socket.request.max.bytes */
	int32_t max_array;  /* elements in one array */
	int32_t max_string; /* bytes in one string */
} proto_limits_t;

/* 100 MiB frames (Kafka's socket.request.max.bytes), 1M array elements,
 * 32 KiB strings (Kafka's int16 length caps them anyway). */
void proto_limits_default(proto_limits_t *l);

/* A bump allocator for decoded arrays; freed all at once. */
typedef struct proto_arena_chunk proto_arena_chunk_t;
typedef struct proto_arena {
	proto_arena_chunk_t *head;
	size_t used; /* bytes handed out */
	size_t cap;  /* refuse beyond this (0: no cap) */
} proto_arena_t;

void proto_arena_init(proto_arena_t *a, size_t cap);
/* Zeroed memory for n elements of size bytes, or NULL (overflow, cap, OOM). */
void *proto_arena_alloc(proto_arena_t *a, size_t n, size_t size);
void proto_arena_free(proto_arena_t *a);

/* A string view; len -1 is null. Not NUL-terminated. */
typedef struct proto_str {
	const char *s;
	int32_t len;
} proto_str_t;

/* A bytes view; len -1 is null. */
typedef struct proto_bytes {
	const uint8_t *p;
	int32_t len;
} proto_bytes_t;

#define PROTO_STR(lit) ((proto_str_t){(lit), (int32_t)(sizeof(lit) - 1)})
#define PROTO_NULL_STR ((proto_str_t){NULL, -1})

/* A view of a C string (NULL gives the null string). */
proto_str_t proto_str(const char *s);
/* Whether a view equals a C string. */
bool proto_str_eq(proto_str_t a, const char *s);
/* Copies a view into buf as a C string (truncating); returns buf. */
char *proto_str_copy(proto_str_t a, char *buf, size_t len);

typedef struct proto_reader {
	const uint8_t *p, *end;
	tern_err_t err; /* 0, or the first error: every read after it is a no-op */
	const proto_limits_t *lim;
	proto_arena_t *arena;
} proto_reader_t;

void proto_reader_init(proto_reader_t *r, const void *buf, size_t len, const proto_limits_t *lim,
		       proto_arena_t *arena);
size_t proto_rd_left(const proto_reader_t *r);
/* Records err (the first one wins) and stops the reader. */
void proto_rd_fail(proto_reader_t *r, tern_err_t err);

int8_t proto_rd_i8(proto_reader_t *r);
int16_t proto_rd_i16(proto_reader_t *r);
int32_t proto_rd_i32(proto_reader_t *r);
int64_t proto_rd_i64(proto_reader_t *r);
uint32_t proto_rd_u32(proto_reader_t *r);
bool proto_rd_bool(proto_reader_t *r);	     /* a byte other than 0 or 1 is an error */
int32_t proto_rd_varint(proto_reader_t *r);  /* zigzag */
int64_t proto_rd_varlong(proto_reader_t *r); /* zigzag */
uint32_t proto_rd_uvarint(proto_reader_t *r);
void proto_rd_uuid(proto_reader_t *r, uint8_t out[16]);

/* STRING (int16 length, no null), NULLABLE_STRING, and the compact forms
 * of flexible versions (unsigned varint length + 1). */
proto_str_t proto_rd_string(proto_reader_t *r);
proto_str_t proto_rd_nstring(proto_reader_t *r);
proto_str_t proto_rd_cstring(proto_reader_t *r);
proto_str_t proto_rd_ncstring(proto_reader_t *r);

/* BYTES (int32 length), NULLABLE_BYTES and compact forms; RECORDS is
 * NULLABLE_BYTES. */
proto_bytes_t proto_rd_bytes(proto_reader_t *r);
proto_bytes_t proto_rd_nbytes(proto_reader_t *r);
proto_bytes_t proto_rd_cbytes(proto_reader_t *r);
proto_bytes_t proto_rd_ncbytes(proto_reader_t *r);

/* An array's element count (int32, or compact uvarint N+1), checked: not
 * negative unless nullable (then -1 is returned for null), at most
 * lim->max_array, and count * min_elem_bytes <= the bytes left, so that a
 * hostile count cannot make the caller allocate more than the frame could
 * describe. */
int32_t proto_rd_array_len(proto_reader_t *r, size_t min_elem_bytes, bool nullable);
int32_t proto_rd_carray_len(proto_reader_t *r, size_t min_elem_bytes, bool nullable);

/* Allocates n zeroed elements from the reader's arena (NULL and an error
 * on failure; NULL without error for n <= 0). */
void *proto_rd_alloc(proto_reader_t *r, int32_t n, size_t size);

/* Skips a flexible version's tagged-field section. */
void proto_rd_tagged_fields(proto_reader_t *r);

/* One piece of a message sent as a gather list (struct iovec's shape). */
typedef struct proto_iov {
	const void *base;
	size_t len;
} proto_iov_t;

/* A growable output buffer. Writes after an allocation failure are no-ops
 * and set oom; check it once at the end. */
typedef struct proto_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
} proto_buf_t;

void proto_buf_init(proto_buf_t *b);
void proto_buf_free(proto_buf_t *b);
/* Takes the bytes out of b (the caller frees them with free()). */
uint8_t *proto_buf_take(proto_buf_t *b, size_t *len);
void proto_buf_reset(proto_buf_t *b);
/* Reserves n bytes at the end and returns where they start (NULL on OOM). */
uint8_t *proto_buf_extend(proto_buf_t *b, size_t n);

void proto_wr_i8(proto_buf_t *b, int8_t v);
void proto_wr_i16(proto_buf_t *b, int16_t v);
void proto_wr_i32(proto_buf_t *b, int32_t v);
void proto_wr_i64(proto_buf_t *b, int64_t v);
void proto_wr_u32(proto_buf_t *b, uint32_t v);
void proto_wr_bool(proto_buf_t *b, bool v);
void proto_wr_varint(proto_buf_t *b, int32_t v);
void proto_wr_varlong(proto_buf_t *b, int64_t v);
void proto_wr_uvarint(proto_buf_t *b, uint32_t v);
void proto_wr_uuid(proto_buf_t *b, const uint8_t v[16]);
void proto_wr_raw(proto_buf_t *b, const void *p, size_t n);
/* Overwrites an int32 written earlier at position pos (sizes known late). */
void proto_wr_i32_at(proto_buf_t *b, size_t pos, int32_t v);

/* Strings: a null view writes null in the nullable forms and an empty
 * string in the non-nullable ones. */
void proto_wr_string(proto_buf_t *b, proto_str_t s);
void proto_wr_nstring(proto_buf_t *b, proto_str_t s);
void proto_wr_cstring(proto_buf_t *b, proto_str_t s);
void proto_wr_ncstring(proto_buf_t *b, proto_str_t s);
void proto_wr_bytes(proto_buf_t *b, proto_bytes_t v);
void proto_wr_nbytes(proto_buf_t *b, proto_bytes_t v);
void proto_wr_cbytes(proto_buf_t *b, proto_bytes_t v);
void proto_wr_ncbytes(proto_buf_t *b, proto_bytes_t v);
void proto_wr_array_len(proto_buf_t *b, int32_t n);  /* -1: null */
void proto_wr_carray_len(proto_buf_t *b, int32_t n); /* -1: null */
/* An empty tagged-field section. */
void proto_wr_tagged_fields(proto_buf_t *b);

#endif
