/* proto/msg_int.h: the pieces the body codecs (msg_admin.c, msg_cluster.c)
 * share: encoded sizes for the minimum element sizes that decoders check
 * counts against, version checks, and arrays of ints and config pairs.
 * Private to proto/. */
#ifndef TERN_PROTO_MSG_INT_H
#define TERN_PROTO_MSG_INT_H

#include "proto/api.h"
#include "proto/msg_admin.h"
#include "proto/wire.h"

/* Encoded sizes of the primitive fields. */
#define SZ_I8	1
#define SZ_BOOL 1
#define SZ_I16	2
#define SZ_I32	4
#define SZ_I64	8
#define SZ_STR	2 /* the int16 length of an empty or null string */
#define SZ_ARR	4 /* the int32 count of an empty or null array */

/* Stops r with UNSUPPORTED_VERSION unless Tern speaks version of key. */
static inline bool rd_version(proto_reader_t *r, int16_t key, int16_t version)
{
	if (proto_api_supported(key, version))
		return true;
	proto_rd_fail(r, TERN_ERR_UNSUPPORTED_VERSION);
	return false;
}

/* Whether b may take a body of version of key: for any other version the
 * encoder writes nothing and b is marked failed. */
static inline bool wr_version(proto_buf_t *b, int16_t key, int16_t version)
{
	if (proto_api_supported(key, version))
		return true;
	b->oom = true;
	return false;
}

/* An array's count and its zeroed elements from the arena; the count is -1
 * for null (nullable arrays only) and 0 once r has failed. */
static inline void *rd_array(proto_reader_t *r, size_t min_elem, bool nullable, size_t size,
			     int32_t *count)
{
	int32_t n = proto_rd_array_len(r, min_elem, nullable);
	void *p = proto_rd_alloc(r, n, size);

	*count = r->err ? 0 : n;
	return p;
}

/* A count as written: any negative count is null (-1) where the field
 * allows it and empty where it does not. */
static inline void wr_count(proto_buf_t *b, int32_t n, bool nullable)
{
	proto_wr_array_len(b, n >= 0 ? n : nullable ? -1 : 0);
}

static inline int32_t *rd_i32_array(proto_reader_t *r, int32_t *count)
{
	int32_t *a = rd_array(r, SZ_I32, false, sizeof *a, count);

	for (int32_t i = 0; i < *count && !r->err; i++)
		a[i] = proto_rd_i32(r);
	return a;
}

static inline void wr_i32_array(proto_buf_t *b, const int32_t *a, int32_t n)
{
	wr_count(b, n, false);
	for (int32_t i = 0; i < n; i++)
		proto_wr_i32(b, a[i]);
}

/* [name, nullable value] (CreateTopics, AlterConfigs, the cluster image). */
static inline proto_config_kv_t *rd_config_kvs(proto_reader_t *r, int32_t *count)
{
	proto_config_kv_t *a = rd_array(r, SZ_STR + SZ_STR, false, sizeof *a, count);

	for (int32_t i = 0; i < *count && !r->err; i++) {
		a[i].name = proto_rd_string(r);
		a[i].value = proto_rd_nstring(r);
	}
	return a;
}

static inline void wr_config_kvs(proto_buf_t *b, const proto_config_kv_t *a, int32_t n)
{
	wr_count(b, n, false);
	for (int32_t i = 0; i < n; i++) {
		proto_wr_string(b, a[i].name);
		proto_wr_nstring(b, a[i].value);
	}
}

#endif
