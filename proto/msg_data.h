/* proto/msg_data.h: the data-path messages of the Kafka protocol
 * (ApiVersions, Metadata, Produce, Fetch, ListOffsets, OffsetForLeaderEpoch),
 * requests and responses, for every version Tern speaks (api.h).
 *
 * Field names follow Kafka's schemas (clients/src/main/resources/common/
 * message/<Name>Request.json and <Name>Response.json) in snake case. Error
 * codes are the int16 of the wire (tern_err_t numbers). Arrays are
 * (pointer, count); a count of -1 is a null array, allowed only where the
 * schema says the array is nullable. Strings, bytes and records are
 * proto_str_t/proto_bytes_t views.
 *
 * Decoding, for every decoder here:
 *   - strings, bytes and records are views into the frame and arrays come
 *     from the reader's arena, so the frame and the arena must outlive the
 *     decoded message;
 *   - a field absent in the version gets Kafka's default (given beside the
 *     field below), every other field is read;
 *   - the return value is r->err: 0, TERN_ERR_INVALID_REQUEST for a
 *     malformed or truncated body, TERN_ERR__NOMEM when the arena refuses,
 *     or TERN_ERR_UNSUPPORTED_VERSION for a version Tern does not speak;
 *     out is written only on success;
 *   - bytes after the body are accepted and left unread, as Kafka's own
 *     parsers leave them: proto_rd_left(r) says how many there were;
 *   - tagged fields of flexible versions (ApiVersions v3) are skipped, the
 *     ones Kafka defines included: Tern neither sends nor needs them;
 *   - a valid frame needs at most PROTO_ARENA_FACTOR arena bytes per frame
 *     byte (a Metadata request naming only empty topic names is the worst
 *     case: 2 wire bytes per 16-byte view), so an arena capped at
 *     PROTO_ARENA_FACTOR times the frame size never refuses a valid frame,
 *     and a hostile one (nested counts each claiming the same bytes) fails
 *     with TERN_ERR__NOMEM at that cap.
 *
 * Encoding: the message is borrowed. Fields absent in the version are not
 * written; a null string or array where the schema does not allow null is
 * written empty. Write errors (out of memory) are sticky in b->oom, and so
 * is a version proto_api_supported() refuses: the encoder then writes
 * nothing and sets b->oom, as msg_admin.h's encoders do, so that the one
 * check of b->oom every caller makes catches that bug too. */
#ifndef TERN_PROTO_MSG_DATA_H
#define TERN_PROTO_MSG_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/* Arena bytes a decoder may use per frame byte (see above). */
#define PROTO_ARENA_FACTOR 8

/* ------------------------------------------------------------------------ */
/* ApiVersions (key 18), v0-3; v3 is flexible                                */

typedef struct proto_api_versions_req {
	proto_str_t client_software_name;    /* v3+; "" before */
	proto_str_t client_software_version; /* v3+; "" before */
} proto_api_versions_req_t;

typedef struct proto_api_version {
	int16_t api_key;
	int16_t min_version;
	int16_t max_version;
} proto_api_version_t;

typedef struct proto_api_versions_resp {
	int16_t error_code;
	const proto_api_version_t *api_keys;
	int32_t api_keys_count;
	int32_t throttle_time_ms; /* v1+; 0 before */
} proto_api_versions_resp_t;

tern_err_t proto_api_versions_req_decode(proto_reader_t *r, int16_t version,
					 proto_api_versions_req_t *out);
void proto_api_versions_req_encode(proto_buf_t *b, int16_t version,
				   const proto_api_versions_req_t *m);
tern_err_t proto_api_versions_resp_decode(proto_reader_t *r, int16_t version,
					  proto_api_versions_resp_t *out);
void proto_api_versions_resp_encode(proto_buf_t *b, int16_t version,
				    const proto_api_versions_resp_t *m);

/* ------------------------------------------------------------------------ */
/* Metadata (key 3), v1-8                                                    */

typedef struct proto_metadata_req {
	const proto_str_t *topics; /* names; count -1 (null): all topics */
	int32_t topics_count;
	bool allow_auto_topic_creation;		    /* v4+; true before */
	bool include_cluster_authorized_operations; /* v8; false before */
	bool include_topic_authorized_operations;   /* v8+; false before */
} proto_metadata_req_t;

typedef struct proto_metadata_broker {
	int32_t node_id;
	proto_str_t host;
	int32_t port;
	proto_str_t rack; /* nullable */
} proto_metadata_broker_t;

typedef struct proto_metadata_partition {
	int16_t error_code;
	int32_t partition_index;
	int32_t leader_id;
	int32_t leader_epoch; /* v7+; -1 before */
	const int32_t *replica_nodes;
	int32_t replica_nodes_count;
	const int32_t *isr_nodes;
	int32_t isr_nodes_count;
	const int32_t *offline_replicas; /* v5+; empty before */
	int32_t offline_replicas_count;
} proto_metadata_partition_t;

typedef struct proto_metadata_topic {
	int16_t error_code;
	proto_str_t name;
	bool is_internal;
	const proto_metadata_partition_t *partitions;
	int32_t partitions_count;
	int32_t topic_authorized_operations; /* v8+; INT32_MIN before */
} proto_metadata_topic_t;

typedef struct proto_metadata_resp {
	int32_t throttle_time_ms; /* v3+; 0 before */
	const proto_metadata_broker_t *brokers;
	int32_t brokers_count;
	proto_str_t cluster_id; /* v2+, nullable; null before */
	int32_t controller_id;
	const proto_metadata_topic_t *topics;
	int32_t topics_count;
	int32_t cluster_authorized_operations; /* v8; INT32_MIN before */
} proto_metadata_resp_t;

tern_err_t proto_metadata_req_decode(proto_reader_t *r, int16_t version, proto_metadata_req_t *out);
void proto_metadata_req_encode(proto_buf_t *b, int16_t version, const proto_metadata_req_t *m);
tern_err_t proto_metadata_resp_decode(proto_reader_t *r, int16_t version,
				      proto_metadata_resp_t *out);
void proto_metadata_resp_encode(proto_buf_t *b, int16_t version, const proto_metadata_resp_t *m);

/* ------------------------------------------------------------------------ */
/* Produce (key 0), v3-8                                                     */

typedef struct proto_produce_req_partition {
	int32_t index;
	proto_bytes_t records; /* RecordBatch bytes, not parsed here; nullable */
} proto_produce_req_partition_t;

typedef struct proto_produce_req_topic {
	proto_str_t name;
	const proto_produce_req_partition_t *partitions;
	int32_t partitions_count;
} proto_produce_req_topic_t;

typedef struct proto_produce_req {
	proto_str_t transactional_id; /* nullable */
	int16_t acks;
	int32_t timeout_ms;
	const proto_produce_req_topic_t *topics;
	int32_t topics_count;
} proto_produce_req_t;

typedef struct proto_produce_record_error {
	int32_t batch_index;
	proto_str_t message; /* nullable */
} proto_produce_record_error_t;

typedef struct proto_produce_resp_partition {
	int32_t index;
	int16_t error_code;
	int64_t base_offset;
	int64_t log_append_time_ms;
	int64_t log_start_offset;			   /* v5+; -1 before */
	const proto_produce_record_error_t *record_errors; /* v8+; empty before */
	int32_t record_errors_count;
	proto_str_t error_message; /* v8+, nullable; null before */
} proto_produce_resp_partition_t;

typedef struct proto_produce_resp_topic {
	proto_str_t name;
	const proto_produce_resp_partition_t *partitions;
	int32_t partitions_count;
} proto_produce_resp_topic_t;

typedef struct proto_produce_resp {
	const proto_produce_resp_topic_t *topics;
	int32_t topics_count;
	int32_t throttle_time_ms;
} proto_produce_resp_t;

tern_err_t proto_produce_req_decode(proto_reader_t *r, int16_t version, proto_produce_req_t *out);
void proto_produce_req_encode(proto_buf_t *b, int16_t version, const proto_produce_req_t *m);
tern_err_t proto_produce_resp_decode(proto_reader_t *r, int16_t version, proto_produce_resp_t *out);
void proto_produce_resp_encode(proto_buf_t *b, int16_t version, const proto_produce_resp_t *m);

/* ------------------------------------------------------------------------ */
/* Fetch (key 1), v4-11                                                      */

typedef struct proto_fetch_req_partition {
	int32_t partition;
	int32_t current_leader_epoch; /* v9+; -1 before */
	int64_t fetch_offset;
	int64_t log_start_offset; /* v5+; -1 before */
	int32_t partition_max_bytes;
} proto_fetch_req_partition_t;

typedef struct proto_fetch_req_topic {
	proto_str_t topic;
	const proto_fetch_req_partition_t *partitions;
	int32_t partitions_count;
} proto_fetch_req_topic_t;

typedef struct proto_fetch_forgotten_topic {
	proto_str_t topic;
	const int32_t *partitions;
	int32_t partitions_count;
} proto_fetch_forgotten_topic_t;

typedef struct proto_fetch_req {
	int32_t replica_id; /* -1 for consumers */
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;
	int8_t isolation_level;
	int32_t session_id;    /* v7+; 0 before */
	int32_t session_epoch; /* v7+; -1 before */
	const proto_fetch_req_topic_t *topics;
	int32_t topics_count;
	const proto_fetch_forgotten_topic_t *forgotten_topics; /* v7+; empty before */
	int32_t forgotten_topics_count;
	proto_str_t rack_id; /* v11+; "" before */
} proto_fetch_req_t;

typedef struct proto_fetch_aborted_txn {
	int64_t producer_id;
	int64_t first_offset;
} proto_fetch_aborted_txn_t;

typedef struct proto_fetch_resp_partition {
	int32_t partition_index;
	int16_t error_code;
	int64_t high_watermark;
	int64_t last_stable_offset;
	int64_t log_start_offset;			       /* v5+; -1 before */
	const proto_fetch_aborted_txn_t *aborted_transactions; /* count -1: null */
	int32_t aborted_transactions_count;
	int32_t preferred_read_replica; /* v11+; -1 before */
	proto_bytes_t records;		/* nullable */
} proto_fetch_resp_partition_t;

typedef struct proto_fetch_resp_topic {
	proto_str_t topic;
	const proto_fetch_resp_partition_t *partitions;
	int32_t partitions_count;
} proto_fetch_resp_topic_t;

typedef struct proto_fetch_resp {
	int32_t throttle_time_ms;
	int16_t error_code; /* v7+; 0 before */
	int32_t session_id; /* v7+; 0 before */
	const proto_fetch_resp_topic_t *topics;
	int32_t topics_count;
} proto_fetch_resp_t;

tern_err_t proto_fetch_req_decode(proto_reader_t *r, int16_t version, proto_fetch_req_t *out);
void proto_fetch_req_encode(proto_buf_t *b, int16_t version, const proto_fetch_req_t *m);
tern_err_t proto_fetch_resp_decode(proto_reader_t *r, int16_t version, proto_fetch_resp_t *out);
/* Writes the whole response into b, records copied. */
void proto_fetch_resp_encode(proto_buf_t *b, int16_t version, const proto_fetch_resp_t *m);

/* How many pieces proto_fetch_resp_encode_iov() may need for m. */
size_t proto_fetch_resp_iov_max(const proto_fetch_resp_t *m);

/* Encodes m without copying its records, for the broker's fetch path:
 * every byte except the records' contents goes into b (each records field
 * keeps its length prefix there), and iov receives the whole message in
 * order as pieces that alternate between ranges of b and the partitions'
 * records views, so that nn_sendmsg() (or writev()) gathers them into the
 * one copy it makes anyway. The first piece starts at b->p[0]: whatever b
 * held before, a response header written by proto_resp_hdr_encode() for
 * instance, is part of the message. iov must have room for
 * proto_fetch_resp_iov_max(m) pieces; returns how many were written, or 0
 * when b ran out of memory (b->oom). The pieces borrow b's storage and the
 * records: neither may change or be freed until the message has been
 * sent, and nothing more may be written to b. Empty or null records get no
 * piece of their own. */
size_t proto_fetch_resp_encode_iov(proto_buf_t *b, int16_t version, const proto_fetch_resp_t *m,
				   proto_iov_t *iov);

/* ------------------------------------------------------------------------ */
/* ListOffsets (key 2), v1-5                                                 */

typedef struct proto_list_offsets_req_partition {
	int32_t partition_index;
	int32_t current_leader_epoch; /* v4+; -1 before */
	int64_t timestamp;	      /* -1: latest, -2: earliest, else a time in ms */
} proto_list_offsets_req_partition_t;

typedef struct proto_list_offsets_req_topic {
	proto_str_t name;
	const proto_list_offsets_req_partition_t *partitions;
	int32_t partitions_count;
} proto_list_offsets_req_topic_t;

typedef struct proto_list_offsets_req {
	int32_t replica_id;
	int8_t isolation_level; /* v2+; 0 before */
	const proto_list_offsets_req_topic_t *topics;
	int32_t topics_count;
} proto_list_offsets_req_t;

typedef struct proto_list_offsets_resp_partition {
	int32_t partition_index;
	int16_t error_code;
	int64_t timestamp;
	int64_t offset;
	int32_t leader_epoch; /* v4+; -1 before */
} proto_list_offsets_resp_partition_t;

typedef struct proto_list_offsets_resp_topic {
	proto_str_t name;
	const proto_list_offsets_resp_partition_t *partitions;
	int32_t partitions_count;
} proto_list_offsets_resp_topic_t;

typedef struct proto_list_offsets_resp {
	int32_t throttle_time_ms; /* v2+; 0 before */
	const proto_list_offsets_resp_topic_t *topics;
	int32_t topics_count;
} proto_list_offsets_resp_t;

tern_err_t proto_list_offsets_req_decode(proto_reader_t *r, int16_t version,
					 proto_list_offsets_req_t *out);
void proto_list_offsets_req_encode(proto_buf_t *b, int16_t version,
				   const proto_list_offsets_req_t *m);
tern_err_t proto_list_offsets_resp_decode(proto_reader_t *r, int16_t version,
					  proto_list_offsets_resp_t *out);
void proto_list_offsets_resp_encode(proto_buf_t *b, int16_t version,
				    const proto_list_offsets_resp_t *m);

/* ------------------------------------------------------------------------ */
/* OffsetForLeaderEpoch (key 23), v2-3, "ofle" for short                     */

typedef struct proto_ofle_req_partition {
	int32_t partition;
	int32_t current_leader_epoch;
	int32_t leader_epoch;
} proto_ofle_req_partition_t;

typedef struct proto_ofle_req_topic {
	proto_str_t topic;
	const proto_ofle_req_partition_t *partitions;
	int32_t partitions_count;
} proto_ofle_req_topic_t;

typedef struct proto_ofle_req {
	int32_t replica_id; /* v3+; -2 (debug consumer) before */
	const proto_ofle_req_topic_t *topics;
	int32_t topics_count;
} proto_ofle_req_t;

typedef struct proto_ofle_resp_partition {
	int16_t error_code;
	int32_t partition;
	int32_t leader_epoch;
	int64_t end_offset;
} proto_ofle_resp_partition_t;

typedef struct proto_ofle_resp_topic {
	proto_str_t topic;
	const proto_ofle_resp_partition_t *partitions;
	int32_t partitions_count;
} proto_ofle_resp_topic_t;

typedef struct proto_ofle_resp {
	int32_t throttle_time_ms;
	const proto_ofle_resp_topic_t *topics;
	int32_t topics_count;
} proto_ofle_resp_t;

tern_err_t proto_ofle_req_decode(proto_reader_t *r, int16_t version, proto_ofle_req_t *out);
void proto_ofle_req_encode(proto_buf_t *b, int16_t version, const proto_ofle_req_t *m);
tern_err_t proto_ofle_resp_decode(proto_reader_t *r, int16_t version, proto_ofle_resp_t *out);
void proto_ofle_resp_encode(proto_buf_t *b, int16_t version, const proto_ofle_resp_t *m);

#endif
