/* tests/fuzz/fuzz_codecs.h: the request and response codecs of every API
 * Tern speaks, as one table indexed by API key, for the frame fuzzer
 * (fuzz_frame.c) and its seed generator (gen_fuzz_seeds.c). Each entry
 * wraps the typed proto_<name>_{req,resp}_{decode,encode} functions, so
 * that none is called through a pointer of another type; decoded messages
 * live in a msg_t. Test code: the functions are static, one copy per user. */
#ifndef TERN_TESTS_FUZZ_CODECS_H
#define TERN_TESTS_FUZZ_CODECS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/api.h"
#include "proto/msg_admin.h"
#include "proto/msg_cluster.h"
#include "proto/msg_data.h"
#include "proto/wire.h"

/* Room for any decoded message struct. */
typedef union msg {
	max_align_t align;
	unsigned char bytes[512];
} msg_t;

typedef tern_err_t(dec_fn)(proto_reader_t *r, int16_t version, void *out);
typedef void(enc_fn)(proto_buf_t *b, int16_t version, const void *m);

/* The request and response codecs of one API key. */
typedef struct codec {
	int16_t key;
	dec_fn *req_dec;
	enc_fn *req_enc;
	dec_fn *resp_dec;
	enc_fn *resp_enc;
} codec_t;

/* Typed wrappers, so that no function is called through a pointer of
 * another type. */
#define CODEC_FNS(name)                                                                            \
	_Static_assert(sizeof(proto_##name##_req_t) <= sizeof(msg_t), #name " request too big");   \
	_Static_assert(sizeof(proto_##name##_resp_t) <= sizeof(msg_t), #name " response too big"); \
	static tern_err_t name##_req_dec(proto_reader_t *r, int16_t v, void *out)                  \
	{                                                                                          \
		return proto_##name##_req_decode(r, v, out);                                       \
	}                                                                                          \
	static void name##_req_enc(proto_buf_t *b, int16_t v, const void *m)                       \
	{                                                                                          \
		proto_##name##_req_encode(b, v, m);                                                \
	}                                                                                          \
	static tern_err_t name##_resp_dec(proto_reader_t *r, int16_t v, void *out)                 \
	{                                                                                          \
		return proto_##name##_resp_decode(r, v, out);                                      \
	}                                                                                          \
	static void name##_resp_enc(proto_buf_t *b, int16_t v, const void *m)                      \
	{                                                                                          \
		proto_##name##_resp_encode(b, v, m);                                               \
	}

CODEC_FNS(produce)
CODEC_FNS(fetch)
CODEC_FNS(list_offsets)
CODEC_FNS(metadata)
CODEC_FNS(offset_commit)
CODEC_FNS(offset_fetch)
CODEC_FNS(find_coordinator)
CODEC_FNS(api_versions)
CODEC_FNS(create_topics)
CODEC_FNS(delete_topics)
CODEC_FNS(init_producer_id)
CODEC_FNS(ofle)
CODEC_FNS(describe_configs)
CODEC_FNS(alter_configs)
CODEC_FNS(elect_leaders)
CODEC_FNS(incremental_alter_configs)
CODEC_FNS(broker_registration)
CODEC_FNS(broker_heartbeat)
CODEC_FNS(alter_partition)
CODEC_FNS(allocate_producer_ids)
CODEC_FNS(replica_health)
CODEC_FNS(describe_partitions)
CODEC_FNS(describe_cluster)

#define CODEC(k, name)                                                                             \
	{                                                                                          \
		k, name##_req_dec, name##_req_enc, name##_resp_dec, name##_resp_enc                \
	}

static const codec_t codecs[] = {
    CODEC(PROTO_API_PRODUCE, produce),
    CODEC(PROTO_API_FETCH, fetch),
    CODEC(PROTO_API_LIST_OFFSETS, list_offsets),
    CODEC(PROTO_API_METADATA, metadata),
    CODEC(PROTO_API_OFFSET_COMMIT, offset_commit),
    CODEC(PROTO_API_OFFSET_FETCH, offset_fetch),
    CODEC(PROTO_API_FIND_COORDINATOR, find_coordinator),
    CODEC(PROTO_API_API_VERSIONS, api_versions),
    CODEC(PROTO_API_CREATE_TOPICS, create_topics),
    CODEC(PROTO_API_DELETE_TOPICS, delete_topics),
    CODEC(PROTO_API_INIT_PRODUCER_ID, init_producer_id),
    CODEC(PROTO_API_OFFSET_FOR_LEADER_EPOCH, ofle),
    CODEC(PROTO_API_DESCRIBE_CONFIGS, describe_configs),
    CODEC(PROTO_API_ALTER_CONFIGS, alter_configs),
    CODEC(PROTO_API_ELECT_LEADERS, elect_leaders),
    CODEC(PROTO_API_INCREMENTAL_ALTER_CONFIGS, incremental_alter_configs),
    CODEC(PROTO_API_BROKER_REGISTRATION, broker_registration),
    CODEC(PROTO_API_BROKER_HEARTBEAT, broker_heartbeat),
    CODEC(PROTO_API_ALTER_PARTITION, alter_partition),
    CODEC(PROTO_API_ALLOCATE_PRODUCER_IDS, allocate_producer_ids),
    CODEC(PROTO_API_REPLICA_HEALTH, replica_health),
    CODEC(PROTO_API_DESCRIBE_PARTITIONS, describe_partitions),
    CODEC(PROTO_API_DESCRIBE_CLUSTER, describe_cluster),
};

#define NCODECS (sizeof codecs / sizeof codecs[0])

/* The codecs of key, or NULL. */
static inline const codec_t *codec_of(int16_t key)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i].key == key)
			return &codecs[i];
	return NULL;
}

#endif
