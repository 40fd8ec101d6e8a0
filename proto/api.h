/* proto/api.h: the Kafka APIs Tern speaks, the version ranges it accepts,
 * and the request and response headers that frame every body. */
#ifndef TERN_PROTO_API_H
#define TERN_PROTO_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/* Kafka's API keys (the int16 at the start of every request header). */
typedef enum proto_api_key {
	PROTO_API_PRODUCE = 0,
	PROTO_API_FETCH = 1,
	PROTO_API_LIST_OFFSETS = 2,
	PROTO_API_METADATA = 3,
	PROTO_API_OFFSET_COMMIT = 8,
	PROTO_API_OFFSET_FETCH = 9,
	PROTO_API_FIND_COORDINATOR = 10,
	PROTO_API_API_VERSIONS = 18,
	PROTO_API_CREATE_TOPICS = 19,
	PROTO_API_DELETE_TOPICS = 20,
	PROTO_API_INIT_PRODUCER_ID = 22,
	PROTO_API_OFFSET_FOR_LEADER_EPOCH = 23,
	PROTO_API_DESCRIBE_CONFIGS = 32,
	PROTO_API_ALTER_CONFIGS = 33,
	PROTO_API_ELECT_LEADERS = 43,
	PROTO_API_INCREMENTAL_ALTER_CONFIGS = 44,
	/* Tern's own keys (KAFKA-REFERENCE.md §5, msg_cluster.h): inter-broker
	 * messages, then the admin clients' views of live state */
	PROTO_API_BROKER_REGISTRATION = 1000,
	PROTO_API_BROKER_HEARTBEAT = 1001,
	PROTO_API_ALTER_PARTITION = 1002,
	PROTO_API_ALLOCATE_PRODUCER_IDS = 1003,
	PROTO_API_REPLICA_HEALTH = 1004,
	PROTO_API_DESCRIBE_PARTITIONS = 1005,
	PROTO_API_DESCRIBE_CLUSTER = 1006,
} proto_api_key_t;

/* first_flexible of an API with no flexible version: only INT16_MAX itself
 * counts as flexible, and no API is spoken at that version. */
#define PROTO_NEVER_FLEXIBLE INT16_MAX

/* One API Tern speaks: the version range it accepts (KAFKA-REFERENCE.md
 * §5) and Kafka's first flexible version of the API, which may lie above
 * max_version: it still decides the header format of a request whose
 * version Tern refuses. */
typedef struct proto_api_info {
	int16_t key;
	int16_t min_version;
	int16_t max_version;
	int16_t first_flexible;
	const char *name; /* Kafka's name, for example "OffsetForLeaderEpoch" */
} proto_api_info_t;

/* The table of every API Tern speaks, in key order; *count gets its length.
 * The ApiVersions response lists exactly these. */
const proto_api_info_t *proto_api_table(size_t *count);

/* The entry of key, or NULL when Tern does not speak it. */
const proto_api_info_t *proto_api_info(int16_t key);

/* Whether Tern accepts version of key. */
bool proto_api_supported(int16_t key, int16_t version);

/* Whether version of key uses Kafka's flexible encoding (compact strings,
 * arrays and bytes, tagged fields, request header v2, response header v1).
 * False for a key Tern does not speak. */
bool proto_api_is_flexible(int16_t key, int16_t version);

/* Kafka's name of key ("Produce"), or "Unknown" (never NULL). */
const char *proto_api_name(int16_t key);

/* A request header: v1 (api_key, api_version, correlation_id, nullable
 * client_id) and, for flexible versions, v2 (v1 plus tagged fields). The
 * client id is a NULLABLE_STRING in both: Kafka never made it compact.
 * Over nanomsg the correlation id also rides in the SP request id
 * (DESIGN.md decision 4); both must agree. */
typedef struct proto_req_hdr {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	proto_str_t client_id; /* borrowed view into the frame; may be null */
} proto_req_hdr_t;

/* Decodes a request header and leaves r at the start of the body.
 *
 * Returns 0 on success. When the key or version is not one Tern speaks it
 * returns TERN_ERR_UNSUPPORTED_VERSION and, unlike other decoders, still
 * fills out->api_key, out->api_version and out->correlation_id (client_id
 * is null), so the broker can answer; the reader is stopped with that error,
 * so the body cannot be decoded by mistake. A frame too short for those
 * three fields, or a malformed client id or tagged-field section, returns
 * TERN_ERR_INVALID_REQUEST (out is then not written). */
tern_err_t proto_req_hdr_decode(proto_reader_t *r, proto_req_hdr_t *out);

/* Writes h in the header version its api_key and api_version call for. */
void proto_req_hdr_encode(proto_buf_t *b, const proto_req_hdr_t *h);

/* A response header: v0 (correlation_id), and v1 (v0 plus tagged fields)
 * for flexible versions, except that ApiVersions responses always use v0
 * so that a client can read one whatever version it asked for. */
typedef struct proto_resp_hdr {
	int32_t correlation_id;
} proto_resp_hdr_t;

/* key and version are those of the request being answered. */
void proto_resp_hdr_encode(proto_buf_t *b, int16_t key, int16_t version, const proto_resp_hdr_t *h);
/* Returns 0, or r->err (TERN_ERR_INVALID_REQUEST) when the header is
 * truncated or its tagged fields malformed; out is written only on success. */
tern_err_t proto_resp_hdr_decode(proto_reader_t *r, int16_t key, int16_t version,
				 proto_resp_hdr_t *out);

#endif
