/* tern/errors.h: the one error type of Tern and libtern.
 *
 * tern_err_t is 0 on success. Kafka's protocol error codes keep their
 * numbers (they go on the wire unchanged); Tern's internal errors are
 * negative, from -1000 down; an errno value e travels as
 * TERN_ERR_ERRNO_BASE - e. (Kafka's UNKNOWN_SERVER_ERROR is -1, so errno
 * values cannot pass through as plain -errno without colliding with it.) */
#ifndef TERN_ERRORS_H
#define TERN_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, code, retriable, text) */
#define TERN_ERRORS(X)                                                                             \
	X(UNKNOWN_SERVER_ERROR, -1, 0, "Unknown server error")                                     \
	X(NONE, 0, 0, "Success")                                                                   \
	X(OFFSET_OUT_OF_RANGE, 1, 0, "Offset out of range")                                        \
	X(CORRUPT_MESSAGE, 2, 0, "Corrupt message (CRC or format)")                                \
	X(UNKNOWN_TOPIC_OR_PARTITION, 3, 1, "Unknown topic or partition")                          \
	X(INVALID_FETCH_SIZE, 4, 0, "Invalid fetch size")                                          \
	X(LEADER_NOT_AVAILABLE, 5, 1, "Leader not available")                                      \
	X(NOT_LEADER_OR_FOLLOWER, 6, 1, "Not leader or follower")                                  \
	X(REQUEST_TIMED_OUT, 7, 1, "Request timed out")                                            \
	X(BROKER_NOT_AVAILABLE, 8, 0, "Broker not available")                                      \
	X(REPLICA_NOT_AVAILABLE, 9, 1, "Replica not available")                                    \
	X(MESSAGE_TOO_LARGE, 10, 0, "Message too large")                                           \
	X(STALE_CONTROLLER_EPOCH, 11, 0, "Stale controller epoch")                                 \
	X(OFFSET_METADATA_TOO_LARGE, 12, 0, "Offset metadata too large")                           \
	X(NETWORK_EXCEPTION, 13, 1, "Network error")                                               \
	X(COORDINATOR_LOAD_IN_PROGRESS, 14, 1, "Coordinator load in progress")                     \
	X(COORDINATOR_NOT_AVAILABLE, 15, 1, "Coordinator not available")                           \
	X(NOT_COORDINATOR, 16, 1, "Not coordinator")                                               \
	X(INVALID_TOPIC_EXCEPTION, 17, 0, "Invalid topic")                                         \
	X(RECORD_LIST_TOO_LARGE, 18, 0, "Record list too large")                                   \
	X(NOT_ENOUGH_REPLICAS, 19, 1, "Not enough in-sync replicas")                               \
	X(NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20, 1, "Not enough in-sync replicas after append")     \
	X(INVALID_REQUIRED_ACKS, 21, 0, "Invalid required acks")                                   \
	X(ILLEGAL_GENERATION, 22, 0, "Illegal generation")                                         \
	X(INVALID_GROUP_ID, 24, 0, "Invalid group id")                                             \
	X(UNKNOWN_MEMBER_ID, 25, 0, "Unknown member id")                                           \
	X(INVALID_COMMIT_OFFSET_SIZE, 28, 0, "Invalid commit offset size")                         \
	X(INVALID_TIMESTAMP, 32, 0, "Invalid timestamp")                                           \
	X(UNSUPPORTED_VERSION, 35, 0, "Unsupported API version")                                   \
	X(TOPIC_ALREADY_EXISTS, 36, 0, "Topic already exists")                                     \
	X(INVALID_PARTITIONS, 37, 0, "Invalid number of partitions")                               \
	X(INVALID_REPLICATION_FACTOR, 38, 0, "Invalid replication factor")                         \
	X(INVALID_REPLICA_ASSIGNMENT, 39, 0, "Invalid replica assignment")                         \
	X(INVALID_CONFIG, 40, 0, "Invalid configuration")                                          \
	X(NOT_CONTROLLER, 41, 1, "Not controller")                                                 \
	X(INVALID_REQUEST, 42, 0, "Invalid request")                                               \
	X(UNSUPPORTED_FOR_MESSAGE_FORMAT, 43, 0, "Unsupported message format")                     \
	X(POLICY_VIOLATION, 44, 0, "Policy violation")                                             \
	X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45, 0, "Out of order sequence number")                     \
	X(DUPLICATE_SEQUENCE_NUMBER, 46, 0, "Duplicate sequence number")                           \
	X(INVALID_PRODUCER_EPOCH, 47, 0, "Invalid producer epoch")                                 \
	X(OPERATION_NOT_ATTEMPTED, 55, 0, "Operation not attempted")                               \
	X(KAFKA_STORAGE_ERROR, 56, 1, "Storage error")                                             \
	X(LOG_DIR_NOT_FOUND, 57, 0, "Log directory not found")                                     \
	X(UNKNOWN_PRODUCER_ID, 59, 0, "Unknown producer id")                                       \
	X(FENCED_LEADER_EPOCH, 74, 1, "Fenced leader epoch")                                       \
	X(UNKNOWN_LEADER_EPOCH, 75, 1, "Unknown leader epoch")                                     \
	X(UNSUPPORTED_COMPRESSION_TYPE, 76, 0, "Unsupported compression type")                     \
	X(STALE_BROKER_EPOCH, 77, 0, "Stale broker epoch")                                         \
	X(OFFSET_NOT_AVAILABLE, 78, 1, "Offset not available")                                     \
	X(PREFERRED_LEADER_NOT_AVAILABLE, 80, 1, "Preferred leader not available")                 \
	X(ELIGIBLE_LEADERS_NOT_AVAILABLE, 83, 1, "Eligible leaders not available")                 \
	X(ELECTION_NOT_NEEDED, 84, 0, "Election not needed")                                       \
	X(INVALID_RECORD, 87, 0, "Invalid record")                                                 \
	X(INVALID_UPDATE_VERSION, 95, 0, "Invalid update version")                                 \
	X(DUPLICATE_BROKER_REGISTRATION, 101, 0, "Duplicate broker registration")                   \
	/* Internal errors: never sent on the wire as such. */                                     \
	X(_END, -1000, 0, "End of sequence")                                                       \
	X(_NOMEM, -1001, 0, "Out of memory")                                                       \
	X(_INVALID_ARG, -1002, 0, "Invalid argument")                                              \
	X(_CORRUPT, -1003, 0, "Corrupt data on disk")                                              \
	X(_TIMED_OUT, -1004, 0, "Timed out")                                                       \
	X(_UNSUPPORTED, -1005, 0, "Not supported by this kernel or build")                         \
	X(_STATE, -1006, 0, "Operation not valid in this state")                                   \
	X(_CLOSED, -1007, 0, "Object is closed")                                                   \
	X(_QUEUE_FULL, -1008, 0, "Producer buffer full (buffer.memory) for max.block.ms")          \
	X(_MSG_TIMED_OUT, -1009, 0, "Record not delivered within delivery.timeout.ms")             \
	X(_DESTROY, -1010, 0, "Producer destroyed before the record was delivered")                \
	X(_FATAL, -1011, 0, "Fatal producer error: the producer must be recreated")               \
	X(_PARTITION_EOF, -1012, 0, "Reached the end of the partition (its high-water mark)")      \
	X(_NO_OFFSET, -1013, 0, "No offset committed and no reset policy applies")

typedef enum tern_err {
#define TERN__ERR_ENUM(name, code, retriable, text) TERN_ERR_##name = (code),
	TERN_ERRORS(TERN__ERR_ENUM)
#undef TERN__ERR_ENUM
	    TERN_ERR_ERRNO_BASE = -10000,
	/* Keep the enum signed and wide enough for TERN_ERR_ERRNO_BASE - errno. */
	TERN__ERR_MIN = -20000,
} tern_err_t;

#define TERN_OK TERN_ERR_NONE

/* The error for errno value e (e > 0). */
static inline tern_err_t tern_err_errno(int e)
{
	return (tern_err_t)(TERN_ERR_ERRNO_BASE - e);
}

/* The errno value carried by err, or 0 when err carries none. */
static inline int tern_err_to_errno(tern_err_t err)
{
	return (err < TERN_ERR_ERRNO_BASE && err > TERN__ERR_MIN) ? (int)(TERN_ERR_ERRNO_BASE - err)
								  : 0;
}

/* A static, human-readable description of err (never NULL). */
const char *tern_strerror(tern_err_t err);

/* The symbolic name of err, for example "NOT_ENOUGH_REPLICAS" (never NULL). */
const char *tern_err_name(tern_err_t err);

/* Whether a client should retry a request that failed with err. */
int tern_err_is_retriable(tern_err_t err);

#ifdef __cplusplus
}
#endif
#endif
