/* The table of APIs Tern speaks and the request/response headers.
 * See api.h. */
#include "proto/api.h"

/* Version ranges from KAFKA-REFERENCE.md §5; first flexible versions from
 * the "flexibleVersions" of Kafka's message schemas. Tern's own keys (1000
 * up) have version 0 only and no flexible version. */
static const proto_api_info_t apis[] = {
    {PROTO_API_PRODUCE, 3, 8, 9, "Produce"},
    {PROTO_API_FETCH, 4, 11, 12, "Fetch"},
    {PROTO_API_LIST_OFFSETS, 1, 5, 6, "ListOffsets"},
    {PROTO_API_METADATA, 1, 8, 9, "Metadata"},
    {PROTO_API_OFFSET_COMMIT, 2, 7, 8, "OffsetCommit"},
    {PROTO_API_OFFSET_FETCH, 1, 5, 6, "OffsetFetch"},
    {PROTO_API_FIND_COORDINATOR, 0, 2, 3, "FindCoordinator"},
    {PROTO_API_API_VERSIONS, 0, 3, 3, "ApiVersions"},
    {PROTO_API_CREATE_TOPICS, 0, 4, 5, "CreateTopics"},
    {PROTO_API_DELETE_TOPICS, 0, 3, 4, "DeleteTopics"},
    {PROTO_API_INIT_PRODUCER_ID, 0, 1, 2, "InitProducerId"},
    {PROTO_API_OFFSET_FOR_LEADER_EPOCH, 2, 3, 4, "OffsetForLeaderEpoch"},
    {PROTO_API_DESCRIBE_CONFIGS, 0, 2, 4, "DescribeConfigs"},
    {PROTO_API_ALTER_CONFIGS, 0, 1, 2, "AlterConfigs"},
    {PROTO_API_ELECT_LEADERS, 0, 1, 2, "ElectLeaders"},
    {PROTO_API_INCREMENTAL_ALTER_CONFIGS, 0, 0, 1, "IncrementalAlterConfigs"},
    {PROTO_API_BROKER_REGISTRATION, 0, 0, PROTO_NEVER_FLEXIBLE, "BrokerRegistration"},
    {PROTO_API_BROKER_HEARTBEAT, 0, 0, PROTO_NEVER_FLEXIBLE, "BrokerHeartbeat"},
    {PROTO_API_ALTER_PARTITION, 0, 0, PROTO_NEVER_FLEXIBLE, "AlterPartition"},
    {PROTO_API_ALLOCATE_PRODUCER_IDS, 0, 0, PROTO_NEVER_FLEXIBLE, "AllocateProducerIds"},
    {PROTO_API_REPLICA_HEALTH, 0, 0, PROTO_NEVER_FLEXIBLE, "ReplicaHealth"},
    {PROTO_API_DESCRIBE_PARTITIONS, 0, 0, PROTO_NEVER_FLEXIBLE, "DescribePartitions"},
    {PROTO_API_DESCRIBE_CLUSTER, 0, 0, PROTO_NEVER_FLEXIBLE, "DescribeCluster"},
};

const proto_api_info_t *proto_api_table(size_t *count)
{
	*count = sizeof apis / sizeof apis[0];
	return apis;
}

const proto_api_info_t *proto_api_info(int16_t key)
{
	for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
		if (apis[i].key == key)
			return &apis[i];
	return NULL;
}

bool proto_api_supported(int16_t key, int16_t version)
{
	const proto_api_info_t *a = proto_api_info(key);

	return a && version >= a->min_version && version <= a->max_version;
}

bool proto_api_is_flexible(int16_t key, int16_t version)
{
	const proto_api_info_t *a = proto_api_info(key);

	return a && version >= a->first_flexible;
}

const char *proto_api_name(int16_t key)
{
	const proto_api_info_t *a = proto_api_info(key);

	return a ? a->name : "Unknown";
}

tern_err_t proto_req_hdr_decode(proto_reader_t *r, proto_req_hdr_t *out)
{
	proto_req_hdr_t h = {0};

	h.api_key = proto_rd_i16(r);
	h.api_version = proto_rd_i16(r);
	h.correlation_id = proto_rd_i32(r);
	if (r->err)
		return r->err;
	if (!proto_api_supported(h.api_key, h.api_version)) {
		h.client_id = PROTO_NULL_STR;
		*out = h;
		proto_rd_fail(r, TERN_ERR_UNSUPPORTED_VERSION);
		return TERN_ERR_UNSUPPORTED_VERSION;
	}
	h.client_id = proto_rd_nstring(r);
	if (proto_api_is_flexible(h.api_key, h.api_version))
		proto_rd_tagged_fields(r);
	if (r->err)
		return r->err;
	*out = h;
	return TERN_OK;
}

void proto_req_hdr_encode(proto_buf_t *b, const proto_req_hdr_t *h)
{
	proto_wr_i16(b, h->api_key);
	proto_wr_i16(b, h->api_version);
	proto_wr_i32(b, h->correlation_id);
	proto_wr_nstring(b, h->client_id);
	if (proto_api_is_flexible(h->api_key, h->api_version))
		proto_wr_tagged_fields(b);
}

/* Response header v1 (with tagged fields) for flexible versions, except
 * ApiVersions, whose responses always use v0. */
static bool resp_hdr_flexible(int16_t key, int16_t version)
{
	return key != PROTO_API_API_VERSIONS && proto_api_is_flexible(key, version);
}

void proto_resp_hdr_encode(proto_buf_t *b, int16_t key, int16_t version, const proto_resp_hdr_t *h)
{
	proto_wr_i32(b, h->correlation_id);
	if (resp_hdr_flexible(key, version))
		proto_wr_tagged_fields(b);
}

tern_err_t proto_resp_hdr_decode(proto_reader_t *r, int16_t key, int16_t version,
				 proto_resp_hdr_t *out)
{
	int32_t corr = proto_rd_i32(r);

	if (resp_hdr_flexible(key, version))
		proto_rd_tagged_fields(r);
	if (r->err)
		return r->err;
	out->correlation_id = corr;
	return TERN_OK;
}
