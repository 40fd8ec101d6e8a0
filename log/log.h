/* log/log.h: Tern's storage engine, the one public header of log/.
 *
 * Three layers, bottom up:
 *   - the RecordBatch v2 codec (Kafka's format byte for byte: CRC-32C,
 *     varints, zstd), used by the broker and by libtern;
 *   - the leader-epoch cache and checkpoint files;
 *   - the partition log: segments with sparse offset and time indexes,
 *     appends, reads and fsyncs through io_uring, group commit, recovery,
 *     truncation and retention, grouped under a data directory (log_dir_t).
 *
 * Library code: nothing here prints. Errors come back as tern_err_t, with a
 * human-readable reason in (errstr, errlen) where a caller passes one. */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/errors.h"

/* ------------------------------------------------------------------------ */
/* CRC-32C (Castagnoli)                                                       */

/* Extends crc (0 to start) over buf[0..len) and returns the new CRC; the
 * pre- and post-inversion are inside, so log_crc32c(0, "123456789", 9) is
 * 0xE3069283 and log_crc32c(log_crc32c(0, a, n), b, m) is the CRC of a‖b.
 * Uses the SSE4.2 instruction where the CPU has it. */
uint32_t log_crc32c(uint32_t crc, const void *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* RecordBatch v2 (KAFKA-REFERENCE.md §1)                                     */

#define LOG_BATCH_HEADER_SIZE  61 /* BaseOffset .. RecordsCount */
#define LOG_BATCH_LOG_OVERHEAD 12 /* BaseOffset + Length */
#define LOG_BATCH_MAGIC	       2
#define LOG_BATCH_CRC_START    21 /* the CRC covers [21, end) */

enum log_codec {
	LOG_CODEC_NONE = 0,
	LOG_CODEC_GZIP = 1,
	LOG_CODEC_SNAPPY = 2,
	LOG_CODEC_LZ4 = 3,
	LOG_CODEC_ZSTD = 4,
};

#define LOG_ATTR_CODEC_MASK	 0x07
#define LOG_ATTR_LOG_APPEND_TIME 0x08
#define LOG_ATTR_TRANSACTIONAL	 0x10
#define LOG_ATTR_CONTROL	 0x20
#define LOG_ATTR_DELETE_HORIZON	 0x40

/* Field offsets inside a batch, for the few fields written in place. */
#define LOG_BATCH_OFF_BASE_OFFSET  0
#define LOG_BATCH_OFF_LENGTH	   8
#define LOG_BATCH_OFF_LEADER_EPOCH 12
#define LOG_BATCH_OFF_MAGIC	   16
#define LOG_BATCH_OFF_CRC	   17

/* The decoded 61-byte header of one batch. */
typedef struct log_batch_hdr {
	int64_t base_offset;
	int32_t length; /* bytes after this field: batch size = 12 + length */
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t records_count;
} log_batch_hdr_t;

/* Decodes the header at buf. Checks only that len >= 61 and that the
 * length field is at least the header's own size (CORRUPT_MESSAGE otherwise);
 * it does not check the CRC: see log_batch_validate(). */
tern_err_t log_batch_hdr_parse(const uint8_t *buf, size_t len, log_batch_hdr_t *out);

static inline size_t log_batch_size(const log_batch_hdr_t *h)
{
	return (size_t)LOG_BATCH_LOG_OVERHEAD + (size_t)h->length;
}

static inline int64_t log_batch_last_offset(const log_batch_hdr_t *h)
{
	return h->base_offset + h->last_offset_delta;
}

static inline int log_batch_codec(const log_batch_hdr_t *h)
{
	return h->attributes & LOG_ATTR_CODEC_MASK;
}

/* Writes BaseOffset / PartitionLeaderEpoch in place (outside the CRC). */
void log_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void log_batch_set_leader_epoch(uint8_t *batch, int32_t leader_epoch);

typedef struct log_validate_opts {
	/* Decode every record (the produce path). When false only the header,
	 * the sizes and the CRC are checked (the read path). */
	bool deep;
	/* Largest batch accepted, 0 for no cap (message.max.bytes). */
	size_t max_batch_bytes;
	/* Cap on the decompressed size of the records section, and on the
	 * zstd window a frame may declare, 0 for the default
	 * (LOG_DEFAULT_MAX_UNCOMPRESSED). */
	size_t max_uncompressed_bytes;
} log_validate_opts_t;

#define LOG_DEFAULT_MAX_UNCOMPRESSED (64u << 20)

/* Checks the one batch that starts at buf (len may extend past it): magic,
 * length against len and max_batch_bytes, CRC-32C, codec (none or zstd),
 * LastOffsetDelta = RecordsCount - 1, and with opts->deep every record's
 * framing, its offset delta (0, 1, 2, ... in order), the record count and
 * the decompressed size against the cap. On success fills *hdr (may be
 * NULL). Errors: CORRUPT_MESSAGE (sizes, magic, CRC), MESSAGE_TOO_LARGE,
 * UNSUPPORTED_COMPRESSION_TYPE, INVALID_RECORD (records, counts, deltas,
 * decompression past the cap); why gets a one-line reason. */
tern_err_t log_batch_validate(const uint8_t *buf, size_t len, const log_validate_opts_t *opts,
			      log_batch_hdr_t *hdr, char *why, size_t whylen);

/* A record header as given to the builder. */
typedef struct log_header {
	const char *key; /* not NULL */
	size_t key_len;
	const void *value; /* NULL for a null value */
	size_t value_len;
} log_header_t;

typedef struct log_builder_opts {
	int codec;		  /* LOG_CODEC_NONE or LOG_CODEC_ZSTD */
	int zstd_level;		  /* 0 for the default (1) */
	int64_t producer_id;	  /* -1 when not idempotent */
	int16_t producer_epoch;	  /* -1 when not idempotent */
	int32_t base_sequence;	  /* -1 when not idempotent */
	int16_t extra_attributes; /* e.g. LOG_ATTR_TRANSACTIONAL; codec bits ignored */
} log_builder_opts_t;

/* Sets *o to an uncompressed, non-idempotent batch. */
void log_builder_opts_default(log_builder_opts_t *o);

typedef struct log_batch_builder log_batch_builder_t;

tern_err_t log_batch_builder_new(const log_builder_opts_t *opts, log_batch_builder_t **out);

/* Appends one record. key == NULL with key_len 0 is a null key; a non-NULL
 * key with key_len 0 is an empty key (the two are distinct on the wire);
 * likewise for the value. The builder copies everything it is given. */
tern_err_t log_batch_builder_add(log_batch_builder_t *b, int64_t timestamp_ms, const void *key,
				 size_t key_len, const void *value, size_t value_len,
				 const log_header_t *headers, size_t nheaders);

/* Records added since the last finish. */
size_t log_batch_builder_count(const log_batch_builder_t *b);

/* Uncompressed bytes the batch would take now (header included). */
size_t log_batch_builder_size(const log_batch_builder_t *b);

/* Closes the batch: compresses the records when asked, fills the header
 * (BaseOffset 0, PartitionLeaderEpoch -1), computes the CRC. On success
 * *buf is a malloc()ed batch of *len bytes that the caller owns and the
 * builder is empty again, ready for the next batch (a builder with no records
 * returns _INVALID_ARG). */
tern_err_t log_batch_builder_finish(log_batch_builder_t *b, uint8_t **buf, size_t *len);

void log_batch_builder_free(log_batch_builder_t *b);

/* One decoded header; pointers borrow the batch or the iterator's buffer. */
typedef struct log_header_view {
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value; /* NULL when value_len is -1 */
	int32_t value_len;
} log_header_view_t;

/* One decoded record. Pointers borrow the batch (uncompressed) or the
 * iterator's buffer (compressed) and stay valid until the iterator is freed;
 * headers is valid until the next call to log_batch_iter_next(). */
typedef struct log_record {
	int64_t offset;	   /* base offset + offset delta */
	int64_t timestamp; /* base timestamp + delta (MaxTimestamp under LogAppendTime) */
	int8_t attributes;
	const uint8_t *key; /* NULL when key_len is -1 */
	int32_t key_len;
	const uint8_t *value; /* NULL when value_len is -1 */
	int32_t value_len;
	const log_header_view_t *headers;
	uint32_t nheaders;
} log_record_t;

typedef struct log_batch_iter log_batch_iter_t;

/* Opens an iterator over the records of the batch at buf (borrowed, must
 * outlive the iterator). Decompresses a zstd batch up front, refusing to
 * inflate past max_uncompressed (0: LOG_DEFAULT_MAX_UNCOMPRESSED), and
 * refusing a frame that declares a window larger than that (zstd would
 * allocate the window). It does not check the CRC: validate first. */
tern_err_t log_batch_iter_new(const uint8_t *buf, size_t len, size_t max_uncompressed,
			      log_batch_iter_t **out);

/* Fills *rec with the next record. TERN_ERR__END after the last one;
 * INVALID_RECORD for a malformed record. */
tern_err_t log_batch_iter_next(log_batch_iter_t *it, log_record_t *rec);

void log_batch_iter_free(log_batch_iter_t *it);

/* ------------------------------------------------------------------------ */
/* Leader-epoch cache (KAFKA-REFERENCE.md §3)                                 */

#define LOG_UNDEFINED_EPOCH  (-1)
#define LOG_UNDEFINED_OFFSET (-1)

/* epoch -> start offset of that epoch on this replica.
 * Invariant: entries are sorted, epochs strictly increase and start offsets
 * strictly increase from one entry to the next (assign() drops an epoch
 * whose start offset a newer epoch takes over: that epoch held no records). */
typedef struct log_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
} log_epoch_entry_t;

typedef struct log_epoch_cache {
	log_epoch_entry_t *e;
	size_t n, cap;
} log_epoch_cache_t;

void log_epoch_cache_init(log_epoch_cache_t *c);
void log_epoch_cache_free(log_epoch_cache_t *c);

/* Records that epoch starts at start_offset, as Kafka's
 * LeaderEpochFileCache.assign(). Ignored: the latest epoch again at the same
 * or a later start offset, and a negative epoch or offset (Kafka throws).
 * Anything else is entered after removing every entry whose epoch is >=
 * epoch or whose start offset is >= start_offset: an older epoch or offset
 * is NOT ignored, it truncates the entries it conflicts with. Returns true
 * when the cache changed. Aborts if memory for the entry cannot be had. */
bool log_epoch_cache_assign(log_epoch_cache_t *c, int32_t epoch, int64_t start_offset);

/* The latest epoch, or LOG_UNDEFINED_EPOCH when empty. */
int32_t log_epoch_cache_latest(const log_epoch_cache_t *c);

/* OffsetForLeaderEpoch on this replica, as Kafka's endOffsetFor():
 * for E = UNDEFINED_EPOCH, (UNDEFINED_EPOCH, UNDEFINED_OFFSET); for the
 * latest epoch (epoch, leo); for an older epoch E the largest cached
 * epoch E' <= E and the start offset of the first epoch after E'; when E is
 * older than every entry (E, start of the first entry); when E is newer than
 * the latest, or the cache is empty, (UNDEFINED_EPOCH, UNDEFINED_OFFSET). */
void log_epoch_cache_end_offset(const log_epoch_cache_t *c, int32_t epoch, int64_t leo,
				int32_t *epoch_out, int64_t *end_out);

/* Removes entries with start offset >= end_offset (truncation of the log);
 * nothing when end_offset < 0. Returns true when it removed any. */
bool log_epoch_cache_truncate_from_end(log_epoch_cache_t *c, int64_t end_offset);

/* Removes entries that start at or before start_offset except the last of
 * them, which is kept with its start moved to start_offset (log start
 * advanced; an entry starting exactly there stays). Returns true when the
 * cache changed. */
bool log_epoch_cache_truncate_from_start(log_epoch_cache_t *c, int64_t start_offset);

/* The leader-epoch-checkpoint file, Kafka's format: "0\n<n>\n<epoch> <off>\n"...
 * Written with log_durable_replace(). A missing file reads as empty. Read
 * replaces the entries of c (initialised) on success and leaves c unchanged
 * on error; a malformed file (or epochs not increasing, start offsets
 * decreasing) is _CORRUPT with the line in errstr. */
tern_err_t log_epoch_cache_write(const log_epoch_cache_t *c, const char *path);
tern_err_t log_epoch_cache_read(log_epoch_cache_t *c, const char *path, char *errstr,
				size_t errlen);

/* ------------------------------------------------------------------------ */
/* Checkpoint files                                                           */

/* Replaces path with data atomically and durably: temp file beside it, write,
 * fsync, rename over path, fsync of the directory. Every checkpoint of Tern
 * goes through here. */
tern_err_t log_durable_replace(const char *path, const void *data, size_t len);

/* One line of an offset checkpoint: "<topic> <partition> <offset>". */
typedef struct log_ckpt_entry {
	char topic[256];
	int32_t partition;
	int64_t offset;
} log_ckpt_entry_t;

/* Kafka's offset-checkpoint format ("0\n<n>\n<topic> <partition> <offset>\n"...):
 * replication-offset-checkpoint (HWM), recovery-point-offset-checkpoint,
 * log-start-offset-checkpoint. Read: a missing file is zero entries; *out is
 * malloc()ed (caller frees); a malformed file is _CORRUPT with the line in
 * errstr. */
tern_err_t log_ckpt_write(const char *path, const log_ckpt_entry_t *e, size_t n);
tern_err_t log_ckpt_read(const char *path, log_ckpt_entry_t **out, size_t *n, char *errstr,
			 size_t errlen);

/* ------------------------------------------------------------------------ */
/* The partition log                                                          */

typedef enum log_flush_policy {
	LOG_FLUSH_SYNC = 0,  /* an append completes once fsynced (group commit) */
	LOG_FLUSH_ASYNC = 1, /* page cache; fsync every flush_ms */
} log_flush_policy_t;

/* Per-log settings (the topic's configuration). */
typedef struct log_config {
	int64_t segment_bytes;	      /* roll when the active segment would pass this */
	int64_t segment_ms;	      /* roll when the active segment is older than this */
	int64_t retention_bytes;      /* -1: unlimited */
	int64_t retention_ms;	      /* -1: unlimited */
	int32_t index_interval_bytes; /* one index entry per this many log bytes */
	int32_t segment_index_bytes;  /* preallocated size of an active index */
	log_flush_policy_t flush_policy;
	int64_t flush_ms;	 /* async: fsync cadence */
	int32_t max_batch_bytes; /* largest batch accepted by append/recovery */
} log_config_t;

/* Kafka's defaults: 1 GiB segments, 7 days, no size retention, 4 KiB index
 * interval, 10 MiB index, flush.policy=sync, flush.ms 1000, 1 MiB batches. */
void log_config_default(log_config_t *c);

typedef struct log_dir log_dir_t;
typedef struct log log_t;

typedef struct log_dir_opts {
	const char *path;	  /* created when absent */
	int writer_threads;	  /* io_uring writer threads, each with its own ring; 0: 1 */
	int max_open_files;	  /* cap on segment files held open; 0: 1024 */
	size_t max_pending_bytes; /* per log, appended but not yet written; 0: 64 MiB */
	/* Wall clock in ms for segment.ms and retention.ms; NULL: CLOCK_REALTIME.
	 * Tests pass their own. */
	int64_t (*clock_ms)(void *opaque);
	void *clock_opaque;
	/* Called (may be NULL) by a writer thread after each group fsync with
	 * how long it took, in seconds: for metrics. Must not block. */
	void (*fsync_observer)(void *opaque, double seconds);
	void *observer_opaque;
} log_dir_opts_t;

/* Opens a data directory: takes its lock, reads the HWM, recovery-point and
 * log-start checkpoints and the clean-shutdown marker (and removes the
 * marker durably, so that a crash from now on counts as unclean), starts
 * the writer threads. Fails with _UNSUPPORTED when the kernel refuses
 * io_uring, with the reason in errstr. */
tern_err_t log_dir_open(const log_dir_opts_t *o, log_dir_t **out, char *errstr, size_t errlen);

/* Whether the last stop of this directory left a clean-shutdown marker. */
bool log_dir_was_clean(const log_dir_t *d);

/* Writes the three offset checkpoints for every open log. */
tern_err_t log_dir_checkpoint(log_dir_t *d);

/* Closes every log still open (log_close), writes the checkpoints and the
 * clean-shutdown marker, stops the writers and frees d. On error the marker
 * is not written, so the next open recovers. */
tern_err_t log_dir_close(log_dir_t *d);

/* Stops the writers and frees d without flushing or writing anything, as a
 * crash would (tests). */
void log_dir_abandon(log_dir_t *d);

/* The names of the partition directories under d (malloc()ed array of
 * malloc()ed strings; free with log_dir_free_names). */
tern_err_t log_dir_list(log_dir_t *d, char ***names, size_t *n);
void log_dir_free_names(char **names, size_t n);

/* Opens (creating when absent) the log of one partition, directory
 * <dir>/<name> where name is "<topic>-<partition>". After an unclean stop
 * it recovers from its recovery point: validates every batch, truncates at
 * the first invalid byte, drops later segments, rebuilds the indexes and the
 * epoch cache. */
tern_err_t log_open(log_dir_t *d, const char *name, const log_config_t *cfg, log_t **out,
		    char *errstr, size_t errlen);

/* Flushes, trims the active indexes, records the log's checkpoint values in
 * d and frees it. Appends still pending complete first. */
tern_err_t log_close(log_t *l);

/* Closes the log and removes its directory and files. */
tern_err_t log_delete(log_t *l);

/* Applies new settings (retention, segment size, flush policy ...) to an
 * open log; they take effect from the next append or retention pass. */
void log_set_config(log_t *l, const log_config_t *cfg);

/* Called once an append completes under the log's flush policy (durable
 * under sync, written under async) or fails. Runs on a writer thread,
 * without any log lock held; it may call log_read() and the offset getters
 * but not log_append(), log_truncate() or log_close() (they may wait for
 * this very thread), and must not block for long. */
typedef void(log_append_cb)(void *opaque, tern_err_t err, int64_t base_offset, int64_t last_offset);

enum log_append_flags {
	/* Leader: stamp offsets from the log end (and leader_epoch). Without
	 * this flag (follower) the batches keep their offsets and epochs and the
	 * first must start at the log end. */
	LOG_APPEND_ASSIGN_OFFSETS = 1,
};

typedef struct log_append_info {
	int64_t base_offset; /* first offset of the appended batches */
	int64_t last_offset; /* last offset of the appended batches */
	int64_t max_timestamp;
} log_append_info_t;

/* Appends one or more whole batches (already validated by the caller)
 * at the log end. The log copies them; buf is the caller's again on return.
 * Offsets are assigned at once (returned in *info), the data becomes
 * readable once written, and cb (may be NULL) runs on completion. With
 * LOG_APPEND_ASSIGN_OFFSETS every batch gets leader_epoch and a new epoch
 * is entered in the epoch cache; a follower's batches enter their own
 * epochs. Blocks while the log has max_pending_bytes waiting to be written.
 * Errors: KAFKA_STORAGE_ERROR when the log is corrupt or failed,
 * MESSAGE_TOO_LARGE, CORRUPT_MESSAGE for bytes that are not whole batches,
 * OFFSET_OUT_OF_RANGE when a follower's batch does not start at the log
 * end; an I/O failure (ENOSPC, EIO) reaches cb, and every append queued
 * after it fails the same way. */
tern_err_t log_append(log_t *l, const uint8_t *buf, size_t len, int32_t leader_epoch,
		      unsigned flags, log_append_info_t *info, log_append_cb *cb, void *opaque);

/* Log start offset, log end offset (LEO: written and readable), durable
 * end offset (fsynced), and the next offset an append would get (LEO plus
 * what is queued). Invariant: start <= durable <= leo <= next. */
int64_t log_start_offset(const log_t *l);
int64_t log_end_offset(const log_t *l);
int64_t log_durable_end_offset(const log_t *l);
int64_t log_next_offset(const log_t *l);

/* Blocks until LEO (or durable end) >= offset, the log fails, the appends
 * that were to reach offset are rolled back after a failed write (a full
 * disk), or timeout_ms passes (-1: forever): OK, the log's error, the
 * failed write's error, or _TIMED_OUT. */
tern_err_t log_wait_end(log_t *l, int64_t offset, int timeout_ms);
tern_err_t log_wait_durable(log_t *l, int64_t offset, int timeout_ms);

/* Forces an fsync of everything written and waits for it (both policies). */
tern_err_t log_flush(log_t *l);

/* The HWM is the replication layer's; the log only keeps it for the
 * checkpoint. */
void log_set_hwm(log_t *l, int64_t hwm);
int64_t log_hwm(const log_t *l);

typedef struct log_read_result {
	uint8_t *buf;	      /* malloc()ed; the caller frees it with free() (may be NULL) */
	const uint8_t *data;  /* the whole batches returned, inside buf */
	size_t len;	      /* bytes at data; 0: nothing to return (offset at the end) */
	int64_t first_offset; /* base offset of the first batch returned */
	int64_t next_offset;  /* offset after the last batch returned */
} log_read_result_t;

/* Reads whole batches starting with the one that holds offset, up to
 * max_bytes (the first batch is returned even when larger) and only batches
 * that end below upper (exclusive; the HWM for consumers, INT64_MAX for
 * followers). Every batch returned is CRC-checked. Errors:
 * OFFSET_OUT_OF_RANGE (below the log start or above the LEO),
 * KAFKA_STORAGE_ERROR on a CRC mismatch or I/O error (errstr names the
 * segment and offset; the log is marked corrupt and serves nothing more). */
tern_err_t log_read(log_t *l, int64_t offset, size_t max_bytes, int64_t upper,
		    log_read_result_t *out, char *errstr, size_t errlen);

/* ListOffsets by timestamp: the first offset whose record timestamp is
 * >= ts, or TERN_ERR__END when there is none. */
tern_err_t log_offset_for_timestamp(log_t *l, int64_t ts, int64_t *offset_out);

/* Removes every batch at or after offset: the log end becomes the start of
 * the first batch that holds an offset >= offset (so it may end below
 * offset), segments after it are deleted, indexes and the epoch cache are
 * trimmed. Waits for pending appends first. *new_end (may be NULL) gets
 * the new LEO. */
tern_err_t log_truncate(log_t *l, int64_t offset, int64_t *new_end);

/* A log that failed because a read found corrupt data (a CRC mismatch, a
 * broken batch; not an I/O error) serves again after this: every batch from
 * the first bad one on is cut (log_truncate). *new_end (may be NULL) gets the
 * new LEO. OK on a healthy log; KAFKA_STORAGE_ERROR when the failure is not
 * a repairable one. The replica then fetches again what it cut. */
tern_err_t log_repair(log_t *l, int64_t *new_end);

/* Deletes every segment and starts an empty log at offset (a follower
 * whose fetch offset fell below the leader's log start). */
tern_err_t log_truncate_fully(log_t *l, int64_t offset);

/* Moves the log start offset up to offset (<= HWM, the caller's rule) and
 * deletes segments that hold only offsets below it. */
tern_err_t log_advance_start(log_t *l, int64_t offset);

/* One retention pass: deletes the oldest whole segments while the log is
 * larger than retention.bytes or their newest record is older than
 * retention.ms, never the active segment and never a segment that holds an
 * offset >= upper (the HWM). *deleted (may be NULL) counts them. */
tern_err_t log_retain(log_t *l, int64_t upper, int *deleted);

/* Size on disk of the .log files, and the number of segments. */
int64_t log_size_bytes(const log_t *l);
int log_segment_count(const log_t *l);

/* Leader epochs of this log (see log_epoch_cache_*). */
int32_t log_latest_epoch(log_t *l);
void log_end_offset_for_epoch(log_t *l, int32_t epoch, int32_t *epoch_out, int64_t *end_out);
/* A copy of the epoch cache (*out malloc()ed, *n entries): what a follower
 * reconciles with its leader. */
tern_err_t log_epochs(log_t *l, log_epoch_entry_t **out, size_t *n);
/* A new leader records its epoch at its LEO. */
tern_err_t log_assign_epoch(log_t *l, int32_t epoch, int64_t start_offset);

/* Whether a CRC mismatch or I/O failure has marked the log unusable, and
 * the reason (NUL-terminated, empty when healthy). */
bool log_is_failed(const log_t *l);
const char *log_failure(const log_t *l);
/* Whether it failed on corrupt data that log_repair() can cut away (not on
 * an I/O error). */
bool log_is_repairable(const log_t *l);

/* ------------------------------------------------------------------------ */
/* Snapshots of a log user's state (KAFKA-REFERENCE.md §4)                    */

/* A snapshot is a payload that the log's user (the broker: its idempotent
 * producers) saves as of an offset X: what the batches below X made. It
 * lives in the partition directory as <X, 20 digits>.snapshot:
 *
 *   "TSNP" | version INT16 (1) | X INT64 | payload length INT32 | payload |
 *   CRC-32C UINT32 of every byte before it          (all big-endian)
 *
 * written with log_durable_replace(). The log keeps the files consistent
 * with its offsets, so that a snapshot it lists is always one of the log
 * as it is now: it keeps the newest LOG_SNAPSHOTS_KEPT after each write;
 * truncation deletes those above the new end (durably, before anything can
 * be appended over the cut); retention and log_advance_start delete those
 * below the new log start; log_truncate_fully deletes them all; and
 * log_open deletes those outside [log start, LEO] (recovery may have cut
 * the log below them).
 *
 * Segment rolls are where the broker snapshots (Kafka does the same): the
 * log calls the roll callback with the new segment's base. Locks: the
 * snapshot files have their own lock, taken before the log's; a write holds
 * it across its fsyncs, so truncation and retention wait for a write in
 * progress, appends do not. */
#define LOG_SNAPSHOTS_KEPT     2
#define LOG_SNAPSHOT_VERSION   1
#define LOG_SNAPSHOT_OVERHEAD  22	   /* header 18 + CRC 4 */
#define LOG_SNAPSHOT_MAX_BYTES (64u << 20) /* largest file read */

/* A new segment starts at base: every offset below base was appended
 * before, the batches of the append that rolled start at base. Runs on the
 * thread that called log_append(), after the roll and before log_append()
 * returns, with no log lock held; it may call log_snapshot_write() and the
 * offset getters, not log_append(). */
typedef void(log_roll_cb)(void *opaque, int64_t base);

/* Sets (cb NULL: clears) the roll callback. Rolls happen only in
 * log_append(), so setting it right after log_open() misses none. */
void log_set_roll_cb(log_t *l, log_roll_cb *cb, void *opaque);

/* Writes payload (len bytes, borrowed) as the snapshot at offset
 * (log start <= offset <= LEO, else OFFSET_OUT_OF_RANGE) atomically and
 * durably, then deletes all but the newest LOG_SNAPSHOTS_KEPT snapshots.
 * Errors: _INVALID_ARG for a payload over the cap, KAFKA_STORAGE_ERROR for
 * a failed log, or the write's error (the older snapshots stay). */
tern_err_t log_snapshot_write(log_t *l, int64_t offset, const void *payload, size_t len);

/* The offsets of l's snapshot files in [log start, LEO], newest first
 * (*offsets malloc()ed, NULL when *n is 0; the caller frees it). The files
 * are not read: log_snapshot_read() checks each. */
tern_err_t log_snapshot_list(log_t *l, int64_t **offsets, size_t *n);

/* Reads the snapshot at offset. On success *payload is malloc()ed (the
 * caller frees it; may be NULL when *len is 0). _CORRUPT (why in errstr)
 * for a file that log_snapshot_decode() refuses or that names another
 * offset; an errno error (ENOENT: no such snapshot) otherwise. */
tern_err_t log_snapshot_read(log_t *l, int64_t offset, uint8_t **payload, size_t *len, char *errstr,
			     size_t errlen);

/* Deletes the snapshot at offset (a corrupt one) durably; a missing file
 * is not an error. */
tern_err_t log_snapshot_delete(log_t *l, int64_t offset);

/* Checks a whole snapshot file's bytes (buf, len): magic, version, length,
 * CRC. On success *offset gets X and *payload, *plen the payload inside
 * buf. _CORRUPT with the reason in why otherwise. For log_snapshot_read()
 * and tools (`tern dump-log`). */
tern_err_t log_snapshot_decode(const uint8_t *buf, size_t len, int64_t *offset,
			       const uint8_t **payload, size_t *plen, char *why, size_t whylen);

/* ------------------------------------------------------------------------ */
/* Error injection (builds with -Dfault_injection=true only)                  */

enum log_fault_op {
	LOG_FAULT_WRITE = 1,
	LOG_FAULT_READ = 2,
	LOG_FAULT_FSYNC = 4,
};

/* Makes matching I/O operations of every ring in the process fail with
 * -err: the first `skip` matching operations pass, the next `count` fail
 * (count < 0: all of them). Returns _UNSUPPORTED in builds without the
 * hook. */
tern_err_t log_fault_inject(unsigned ops, int err, long skip, long count);
void log_fault_clear(void);

/* The same from text, for a process told from outside (ternd's
 * TERN_TEST_DISK_FAULTS): "clear", or "OPS ERRNO [SKIP [COUNT]]" with OPS a
 * comma-separated list of read, write, fsync and ERRNO a name (EIO, ENOSPC,
 * EROFS, EDQUOT) or a number; SKIP defaults to 0 and COUNT to -1 (every
 * one). _INVALID_ARG with the reason in why on anything else;
 * _UNSUPPORTED in builds without the hook. */
tern_err_t log_fault_inject_spec(const char *spec, char *why, size_t whylen);

#endif
