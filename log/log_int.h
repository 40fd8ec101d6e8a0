/* log/log_int.h (private to log/): the state behind log_dir_t and log_t,
 * shared by dir.c (directories, checkpoints, open files), log.c (the
 * partition log), segment.c (segment files and indexes) and writer.c (the
 * io_uring writer threads). */
#ifndef TERN_LOG_INT_H
#define TERN_LOG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "log/log.h"
#include "log/uring.h"

/* Queued appends are coalesced into chunks of this size (larger batches get
 * a chunk of their own). */
#define LOG_CHUNK_BYTES	      (1u << 20)
#define LOG_INDEX_ENTRY_SIZE  8	 /* relative offset u32, position u32 */
#define LOG_TINDEX_ENTRY_SIZE 12 /* timestamp i64, relative offset u32 */
#define LOG_CLEAN_MARKER      ".tern-clean-shutdown"
#define LOG_DIR_LOCK	      ".lock"
#define LOG_EPOCH_FILE	      "leader-epoch-checkpoint"
#define LOG_CKPT_HWM	      "replication-offset-checkpoint"
#define LOG_CKPT_RECOVERY     "recovery-point-offset-checkpoint"
#define LOG_CKPT_START	      "log-start-offset-checkpoint"

typedef struct log_index_entry {
	uint32_t rel; /* offset - segment base */
	uint32_t pos; /* file position of the batch that starts there */
} log_index_entry_t;

typedef struct log_tindex_entry {
	int64_t ts;   /* largest timestamp up to here */
	uint32_t rel; /* offset of the record that has it, relative */
} log_tindex_entry_t;

/* One segment: <base>.log, <base>.index, <base>.timeindex.
 *
 * Invariants: the batches in [0, size) of the .log file are whole, valid
 * and hold offsets [base, end) contiguously; every index entry has
 * pos < size and both rel and pos strictly increase; size <= pend_size.
 * Fields are guarded by the owning log's mu, except fd, refs and the LRU
 * links, which are guarded by the directory's fd_mu. */
typedef struct log_segment {
	int64_t base;
	int64_t end;	    /* offset after the last written batch */
	uint64_t size;	    /* written, readable bytes */
	uint64_t pend_size; /* size plus what is queued for the writer */
	int64_t max_ts;	    /* largest timestamp written, -1 none */
	int64_t max_ts_offset;
	int64_t pmax_ts, pmax_ts_offset; /* the same counting queued batches */
	int64_t created_ms;		 /* wall-clock time the segment was made (segment.ms) */

	/* Sparse offset and time indexes. For the active segment they hold
	 * written entries only; idx_next/tidx_next count those queued too
	 * (the file slot of the next entry). */
	log_index_entry_t *idx;
	uint32_t idx_n, idx_cap, idx_next;
	log_tindex_entry_t *tidx;
	uint32_t tidx_n, tidx_cap, tidx_next;
	bool idx_loaded;	  /* closed segments load theirs on first lookup */
	uint64_t bytes_since_idx; /* log bytes appended since the last entry */
	int64_t tidx_last_ts;	  /* timestamp of the last time-index entry */

	bool active;
	int fd;		     /* .log; -1 while closed by the LRU (closed segments only) */
	int fd_idx, fd_tidx; /* open only while active */
	int refs;	     /* the log's own reference plus readers' */
	struct log_segment *lru_prev, *lru_next;
	bool in_lru;
	bool deleted; /* unlinked; freed with its last reference */
} log_segment_t;

/* A run of appended batches waiting for the writer: one contiguous slice of
 * the active segment's .log file plus the index entries it brings. */
typedef struct log_chunk {
	struct log_chunk *next;
	uint8_t *buf;
	size_t len, cap;
	uint64_t pos;		 /* file position of buf[0] */
	int64_t end;		 /* offset after its last batch */
	uint64_t seg_size_after; /* segment size once written */
	int64_t max_ts, max_ts_offset;
	log_index_entry_t *idx;		    /* entries to add, in order */
	uint32_t idx_n, idx_cap, idx_first; /* idx_first: file slot of idx[0] */
	log_tindex_entry_t *tidx;
	uint32_t tidx_n, tidx_cap, tidx_first;
	uint8_t *enc; /* the entries encoded for the files (writer) */
	/* The segment's index counters before this chunk, restored when its
	 * write fails. */
	uint64_t snap_bytes_since_idx;
	int64_t snap_pmax_ts, snap_pmax_ts_offset, snap_tidx_last_ts;
} log_chunk_t;

/* An append's completion, fired once the log reaches end under its policy. */
typedef struct log_waiter {
	int64_t base, end;
	log_append_cb *cb;
	void *opaque;
} log_waiter_t;

typedef struct log_writer log_writer_t;

/* One partition's log.
 *
 * Invariants (under mu): start <= durable <= leo <= next; segs[] sorted by
 * base with segs[i+1]->base == segs[i]->end and exactly the last one
 * active; every offset below leo is readable; pending chunks hold offsets
 * [leo or the in-flight end, next) in order. */
struct log {
	log_dir_t *dir;
	char *name; /* "<topic>-<partition>" */
	char *path;
	char topic[256];
	int32_t partition;
	log_config_t cfg;
	log_writer_t *writer;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* progress, drained, busy cleared */

	log_segment_t **segs;
	size_t nsegs, segs_cap;

	int64_t start, leo, durable, next;
	int64_t hwm, recovery_point;

	log_chunk_t *pend_head, *pend_tail; /* queued, not yet taken */
	size_t pend_bytes;
	bool inflight; /* the writer holds taken chunks */
	/* Async policy: a periodic fdatasync runs on the writer's flusher
	 * thread (on a dup of the active segment's fd) while the writer goes
	 * on writing; exclusive operations wait for it like for inflight. */
	bool flush_inflight;
	bool flush_req;
	int64_t last_flush_mono_ms;
	bool busy; /* a roll, truncation or close owns the log */
	bool closing;

	log_waiter_t *waiters; /* FIFO ring */
	size_t w_head, w_len, w_cap;

	log_epoch_cache_t epochs;

	/* Snapshot files (snapshot.c): snap_mu serialises their writes and
	 * deletions and is taken before mu, never inside it. roll_cb is
	 * guarded by mu. */
	pthread_mutex_t snap_mu;
	log_roll_cb *roll_cb;
	void *roll_opaque;

	/* The last rollback of queued appends after a write failed (a full
	 * disk: the log stays usable): it dropped offsets below rolled_to, with
	 * rolled_err. A wait for an offset in what it dropped that nothing
	 * queued can reach any more fails with rolled_err instead of waiting
	 * for its timeout. Guarded by mu. */
	int64_t rolled_to;
	tern_err_t rolled_err;

	tern_err_t failed; /* 0, or why the log serves nothing more */
	char failure[256];
	/* The failure is corrupt data read back (a CRC mismatch, a broken
	 * batch) whose first bad batch starts at this offset; -1 when the log
	 * has not failed that way (log_repair() cuts it there). */
	int64_t corrupt_at;

	struct log *dir_next; /* the directory's list of open logs */
};

/* A directory's remembered checkpoint values for one partition. */
typedef struct log_dir_entry {
	char name[300];
	int64_t hwm, recovery_point, start;
	bool has_hwm, has_recovery, has_start;
} log_dir_entry_t;

struct log_dir {
	char *path;
	int lock_fd;
	bool was_clean;
	/* A log failed to open or close: its files are not as a clean stop
	 * leaves them, so this session writes no clean-shutdown marker. */
	bool unclean;
	log_dir_opts_t opts;

	pthread_mutex_t mu; /* logs list and entries */
	struct log *logs;
	log_dir_entry_t *entries;
	size_t nentries, entries_cap;

	log_writer_t **writers;
	int nwriters, next_writer;

	/* Spare LOG_CHUNK_BYTES buffers: without them every round's freed
	 * chunks go back to the kernel and the next appends fault them in and
	 * zero them again (a third of an append's time, measured). */
	pthread_mutex_t pool_mu;
	uint8_t **pool;
	size_t pool_n, pool_cap;

	pthread_mutex_t fd_mu;		    /* open segment files (LRU), segment refs */
	log_segment_t *lru_head, *lru_tail; /* most recently used first */
	int lru_open;
};

static inline log_segment_t *log__active(const log_t *l)
{
	return l->segs[l->nsegs - 1];
}

/* dir.c */
void log__set_err(char *errstr, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* fsync of a directory (its entries): 0 or -errno. */
int log__fsync_dir(const char *path);
int64_t log__now_ms(log_dir_t *d);
log_dir_entry_t *log__dir_entry(log_dir_t *d, const char *name, bool create);
void log__dir_register(log_dir_t *d, log_t *l);
void log__dir_mark_unclean(log_dir_t *d);
/* A LOG_CHUNK_BYTES buffer from the pool (or malloc), and its return. */
uint8_t *log__buf_get(log_dir_t *d);
void log__buf_put(log_dir_t *d, uint8_t *buf);
/* Takes l out of d; with record, saves its offsets for the checkpoints. */
void log__dir_unregister(log_dir_t *d, log_t *l, bool record);
/* Opens seg's .log file when the LRU closed it and takes a reference;
 * closes the least recently used idle files beyond the cap. */
tern_err_t log__seg_acquire(log_dir_t *d, const char *logpath, log_segment_t *seg);
void log__seg_release(log_dir_t *d, log_segment_t *seg);
/* Takes one more reference / drops one (frees the segment at zero). */
void log__seg_ref(log_dir_t *d, log_segment_t *seg);
void log__seg_unref(log_dir_t *d, log_segment_t *seg);
/* Puts a closed segment with an open fd under the LRU's control. */
void log__seg_lru_add(log_dir_t *d, log_segment_t *seg);
/* Opens a closed segment's .log if needed and takes it out of the LRU: it
 * is becoming the active segment again (truncation). */
tern_err_t log__seg_lru_take(log_dir_t *d, const char *logpath, log_segment_t *seg);

/* segment.c */
void log__seg_path(char *buf, size_t len, const char *dir, int64_t base, const char *ext);
log_segment_t *log__seg_alloc(int64_t base);
void log__seg_free(log_segment_t *seg);
/* Removes a segment's three files. */
void log__seg_unlink(const char *dir, int64_t base);
/* Creates the three files of a new, active segment (indexes preallocated). */
tern_err_t log__seg_create(const char *dir, log_segment_t *seg, int32_t index_bytes, char *errstr,
			   size_t errlen);
/* Makes an existing segment (its .log open, its indexes in memory) the
 * active one: writes the index files afresh and preallocates them. */
tern_err_t log__seg_open_active(const char *dir, log_segment_t *seg, int32_t index_bytes,
				char *errstr, size_t errlen);
/* Writes a closed segment's rebuilt indexes to their files and fsyncs them. */
tern_err_t log__seg_write_closed_indexes(const char *dir, log_segment_t *seg);
/* Adds a last time-index entry, trims the active indexes to their entries,
 * fsyncs the three files and closes the index files: the segment is
 * closed. */
tern_err_t log__seg_seal(log_segment_t *seg);
/* Loads a closed segment's indexes from their files (lazy), keeping the
 * sane prefix. */
tern_err_t log__seg_load_index(const char *dir, log_segment_t *seg);
/* Position of the batch to start scanning at for offset. */
uint64_t log__seg_lookup(const log_segment_t *seg, int64_t offset);
/* Adds an index entry in memory. */
tern_err_t log__seg_push_idx(log_segment_t *seg, uint32_t rel, uint32_t pos);
tern_err_t log__seg_push_tidx(log_segment_t *seg, int64_t ts, uint32_t rel);
/* Kafka's index cadence, shared by appends and rebuilds: for a batch at pos
 * decides whether it brings an offset-index and a time-index entry and
 * updates the segment's counters. */
void log__seg_index_rule(log_segment_t *seg, const log_batch_hdr_t *h, uint64_t pos,
			 int32_t interval, log_index_entry_t *idx, bool *add_idx,
			 log_tindex_entry_t *tidx, bool *add_tidx);
void log__idx_encode(uint8_t *out, const log_index_entry_t *e);
void log__tidx_encode(uint8_t *out, const log_tindex_entry_t *e);

/* Scan of a segment's batches from pos: validates each (header, sizes, CRC,
 * offsets contiguous from expect, unless expect is -1) and stops at the
 * first invalid byte. */
typedef struct log_scan {
	uint64_t valid_size; /* position after the last valid batch */
	int64_t end;	     /* offset after the last valid batch */
	bool stopped_early;  /* invalid or partial bytes follow valid_size */
	char why[200];
} log_scan_t;

/* Called for every valid batch; returning false ends the scan there. */
typedef bool(log_scan_batch_fn)(void *opaque, const log_batch_hdr_t *h, uint64_t pos);

tern_err_t log__seg_scan(int fd, uint64_t pos, int64_t expect, uint64_t file_size,
			 log_scan_batch_fn *fn, void *opaque, log_scan_t *out);
/* A log__seg_scan() callback (opaque: the segment) that only keeps the
 * segment's largest timestamp up to date. */
bool log__seg_tail_batch(void *seg, const log_batch_hdr_t *h, uint64_t pos);
/* Rebuilds a segment's size, end, indexes and timestamps by scanning its
 * .log (fd open) from 0, assigns the epochs it finds, and cuts the file
 * after its last valid batch. */
tern_err_t log__seg_recover(const char *dir, log_segment_t *seg, int32_t index_interval,
			    log_epoch_cache_t *epochs, log_scan_t *scan);

/* writer.c */
tern_err_t log__writer_new(log_writer_t **out, char *errstr, size_t errlen);
void log__writer_stop(log_writer_t *w);
void log__writer_add(log_writer_t *w, log_t *l);
void log__writer_remove(log_writer_t *w, log_t *l);
void log__writer_kick(log_writer_t *w);
void log__chunk_free(log_dir_t *d, log_chunk_t *c);

/* log.c */
/* <log dir>/leader-epoch-checkpoint, and writing the cache there. */
void log__epoch_path(const log_t *l, char *buf, size_t len);
tern_err_t log__persist_epochs(log_t *l);
tern_err_t log__push_segment(log_t *l, log_segment_t *seg);
/* Removes segs[i] from the log and its files from the disk; readers that
 * still hold it keep their reference. l->mu held (or the log not shared
 * yet). */
void log__drop_segment(log_t *l, size_t i);
/* Waits for other exclusive operations (roll, truncation, close), then for
 * the writer to finish everything queued, and takes the log; l->mu held
 * throughout. log__end_exclusive() gives it back. */
void log__begin_exclusive(log_t *l);
void log__end_exclusive(log_t *l);
/* snapshot.c */
/* The offsets of the snapshot files in dir, newest first (*offsets
 * malloc()ed). */
tern_err_t log__snap_list_dir(const char *dir, int64_t **offsets, size_t *n);
/* Deletes the snapshot files of dir outside [lo, hi] and, of those inside,
 * all but the newest keep; fsyncs dir when it deleted any. Under snap_mu
 * (or before the log is shared). */
tern_err_t log__snap_prune(const char *dir, int64_t lo, int64_t hi, size_t keep);
/* open.c: frees a log without writing anything (log_dir_abandon). */
void log__abandon(log_t *l);
void log__fail(log_t *l, tern_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
