/* tools/cli_dump_log.c: `tern dump-log`, which prints what a partition's
 * files hold: the batches (and records) of segments, the entries of offset
 * and time indexes, the leader-epoch checkpoint, the producer-state
 * snapshots' envelopes. In the manner of Kafka's
 * kafka-dump-log.sh, as text or as one JSON object per line. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"
#include "tools/cli.h"

#define CMD "dump-log"

/* Segments are read in windows of this size, or one whole batch when it is
 * larger. */
#define READ_WINDOW (1u << 20)

/* The files may be corrupt, so a length field is not trusted with more
 * memory than this: a larger batch stops the dump. */
#define MAX_BATCH_BYTES (64u << 20)

#define INDEX_ENTRY_SIZE  8  /* relative offset, position */
#define TINDEX_ENTRY_SIZE 12 /* timestamp, relative offset */

#define EPOCH_CHECKPOINT "leader-epoch-checkpoint"

/* What a path names, from its type and its file name. */
enum kind {
	KIND_DIR,
	KIND_SEGMENT,
	KIND_INDEX,
	KIND_TIMEINDEX,
	KIND_EPOCHS,
	KIND_SNAPSHOT,
};

/* How to print: each line as text ("name: value name: value") or as one
 * JSON object, both from the same calls so that they carry the same names;
 * records: --records. first: no field yet in the current line or object. */
typedef struct out {
	FILE *f;
	bool json;
	bool records;
	bool first;
} out_t;

/* Reads a file with plain preads through a window: buf holds the file's
 * bytes [win_pos, win_pos + win_len). size is the size at open. */
typedef struct reader {
	int fd;
	uint64_t size;
	uint8_t *buf;
	size_t cap;
	uint64_t win_pos;
	size_t win_len;
} reader_t;

static void usage(FILE *f)
{
	fputs("usage: tern dump-log [--records] [--format text|json] PATH...\n"
	      "\n"
	      "Prints what the files of a partition hold, reading them without locking or\n"
	      "changing anything (the broker may be running). PATH is one of:\n"
	      "  <base>.log               a segment: one line per batch (offsets, position,\n"
	      "                           size, leader epoch, CRC and whether the batch is\n"
	      "                           valid, codec, timestamps, producer)\n"
	      "  <base>.index             the offset index: one line per entry\n"
	      "  <base>.timeindex         the time index: one line per entry\n"
	      "  leader-epoch-checkpoint  the leader epochs and their start offsets\n"
	      "  <offset>.snapshot        a producer-state snapshot: its offset, version,\n"
	      "                           payload size and whether its CRC holds\n"
	      "  a partition directory    its leader-epoch-checkpoint, then every segment\n"
	      "                           in base-offset order, then every snapshot\n"
	      "\n"
	      "Options:\n"
	      "  -r, --records            also print every record: offset, timestamp, key,\n"
	      "                           value, headers (null and \"\" differ; bytes that\n"
	      "                           are not printable ASCII appear as \\xNN)\n"
	      "  -f, --format FORMAT      text (default), or json: one object per line; keys\n"
	      "                           and values are strings when valid UTF-8, else\n"
	      "                           {\"base64\": \"...\"}\n"
	      "  -h, --help               print this help\n"
	      "\n"
	      "A segment is read up to its first unreadable batch (truncated, or with a\n"
	      "length or magic that cannot be right): the dump says at which position and\n"
	      "why it stopped.\n"
	      "\n"
	      "Exit status: 0 when every file is sound, 1 when a batch is invalid or a\n"
	      "file is corrupt or cannot be read, 2 for a wrong command line.\n",
	      f);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                     */

static void key(out_t *o, const char *name)
{
	if (o->json)
		fprintf(o->f, "%s\"%s\":", o->first ? "" : ",", name);
	else
		fprintf(o->f, "%s%s: ", o->first ? "" : " ", name);
	o->first = false;
}

static void put_i64(out_t *o, const char *name, int64_t v)
{
	key(o, name);
	fprintf(o->f, "%" PRId64, v);
}

static void put_u64(out_t *o, const char *name, uint64_t v)
{
	key(o, name);
	fprintf(o->f, "%" PRIu64, v);
}

static void put_bool(out_t *o, const char *name, bool v)
{
	key(o, name);
	fputs(v ? "true" : "false", o->f);
}

/* A string of the tool's own (a codec name, a reason): as it is in text. */
static void put_str(out_t *o, const char *name, const char *s)
{
	key(o, name);
	if (o->json)
		cli_put_json_str(o->f, s);
	else
		fputs(s, o->f);
}

/* Bytes from the file: quoted and escaped in text, see cli.h. */
static void put_bytes(out_t *o, const char *name, const uint8_t *p, int32_t len)
{
	key(o, name);
	if (o->json)
		cli_put_json_bytes(o->f, p, len > 0 ? (size_t)len : 0);
	else
		cli_put_text_bytes(o->f, p, len > 0 ? (size_t)len : 0);
}

/* Starts a line about file; JSON lines name it, text has "Dumping" lines. */
static void begin_line(out_t *o, const char *file)
{
	o->first = true;
	if (o->json) {
		fputc('{', o->f);
		put_str(o, "file", file);
	}
}

static void end_line(out_t *o)
{
	fputs(o->json ? "}\n" : "\n", o->f);
}

static void put_dumping(out_t *o, const char *path)
{
	if (!o->json)
		fprintf(o->f, "Dumping %s\n", path);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                      */

/* The base offset in a file name "<20 digits><ext>" (the name of a segment
 * or index), or false when the name is not one. */
static bool base_from_name(const char *path, const char *ext, int64_t *base)
{
	const char *name = strrchr(path, '/');
	size_t elen = strlen(ext);
	int64_t v = 0;

	name = name ? name + 1 : path;
	if (strlen(name) != 20 + elen || strcmp(name + 20, ext) != 0)
		return false;
	for (int i = 0; i < 20; i++) {
		int d = name[i] - '0';

		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*base = v;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int reader_open(reader_t *r, const char *path)
{
	struct stat st;

	memset(r, 0, sizeof *r);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st) < 0) {
		cli_error(CMD, "cannot read %s: %s", path, strerror(errno));
		if (r->fd >= 0)
			close(r->fd);
		return -1;
	}
	r->size = (uint64_t)st.st_size;
	return 0;
}

static void reader_close(reader_t *r)
{
	close(r->fd);
	free(r->buf);
}

/* The file's bytes [pos, pos + need), which the caller has checked lie
 * below r->size; NULL with the reason in why when they cannot be read. */
static const uint8_t *reader_get(reader_t *r, uint64_t pos, size_t need, char *why, size_t whylen)
{
	size_t want = need > READ_WINDOW ? need : READ_WINDOW, got = 0;

	if (pos >= r->win_pos && pos + need <= r->win_pos + r->win_len)
		return r->buf + (pos - r->win_pos);
	if (want > r->size - pos)
		want = (size_t)(r->size - pos);
	r->win_len = 0;
	if (want > r->cap) {
		uint8_t *nb = realloc(r->buf, want);

		if (!nb) {
			snprintf(why, whylen, "out of memory for %zu bytes", want);
			return NULL;
		}
		r->buf = nb;
		r->cap = want;
	}
	while (got < want) {
		ssize_t n = pread(r->fd, r->buf + got, want - got, (off_t)(pos + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "read error: %s", strerror(errno));
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->win_pos = pos;
	r->win_len = got;
	if (got < need) {
		snprintf(why, whylen, "the file ended at position %" PRIu64 " while being read",
			 pos + got);
		return NULL;
	}
	return r->buf;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------------------ */
/* Segments                                                                   */

static void put_codec(out_t *o, int codec)
{
	static const char *const names[] = {
	    [LOG_CODEC_NONE] = "none", [LOG_CODEC_GZIP] = "gzip", [LOG_CODEC_SNAPPY] = "snappy",
	    [LOG_CODEC_LZ4] = "lz4",   [LOG_CODEC_ZSTD] = "zstd",
	};
	char buf[32];

	if (codec >= 0 && codec < (int)(sizeof names / sizeof names[0])) {
		put_str(o, "compressCodec", names[codec]);
		return;
	}
	snprintf(buf, sizeof buf, "unknown(%d)", codec);
	put_str(o, "compressCodec", buf);
}

static void put_batch(out_t *o, const log_batch_hdr_t *h, uint64_t pos, bool valid, const char *why)
{
	put_i64(o, "baseOffset", h->base_offset);
	put_i64(o, "lastOffset", log_batch_last_offset(h));
	put_i64(o, "count", h->records_count);
	put_u64(o, "position", pos);
	put_u64(o, "size", log_batch_size(h));
	put_i64(o, "partitionLeaderEpoch", h->leader_epoch);
	put_i64(o, "magic", h->magic);
	put_bool(o, "isValid", valid);
	put_u64(o, "crc", h->crc);
	put_codec(o, log_batch_codec(h));
	put_str(o, "timestampType",
		(h->attributes & LOG_ATTR_LOG_APPEND_TIME) ? "LogAppendTime" : "CreateTime");
	put_bool(o, "isTransactional", h->attributes & LOG_ATTR_TRANSACTIONAL);
	put_bool(o, "isControl", h->attributes & LOG_ATTR_CONTROL);
	put_i64(o, "baseTimestamp", h->base_timestamp);
	put_i64(o, "maxTimestamp", h->max_timestamp);
	put_i64(o, "producerId", h->producer_id);
	put_i64(o, "producerEpoch", h->producer_epoch);
	put_i64(o, "baseSequence", h->base_sequence);
	if (!valid)
		put_str(o, "reason", why);
}

static void put_headers(out_t *o, const log_record_t *rec)
{
	key(o, "headers");
	fputc('[', o->f);
	for (uint32_t i = 0; i < rec->nheaders; i++) {
		const log_header_view_t *hv = &rec->headers[i];

		if (o->json) {
			fputs(i ? ",{\"key\":" : "{\"key\":", o->f);
			cli_put_json_bytes(o->f, hv->key, (size_t)hv->key_len);
			fputs(",\"value\":", o->f);
			cli_put_json_bytes(o->f, hv->value, hv->value ? (size_t)hv->value_len : 0);
			fputc('}', o->f);
		} else {
			if (i)
				fputs(", ", o->f);
			cli_put_text_bytes(o->f, hv->key, (size_t)hv->key_len);
			fputs(": ", o->f);
			cli_put_text_bytes(o->f, hv->value, hv->value ? (size_t)hv->value_len : 0);
		}
	}
	fputc(']', o->f);
}

static void put_record(out_t *o, const log_record_t *rec)
{
	o->first = true;
	fputs(o->json ? "{" : "| ", o->f);
	put_i64(o, "offset", rec->offset);
	put_i64(o, "timestamp", rec->timestamp);
	put_i64(o, "keySize", rec->key_len);
	put_i64(o, "valueSize", rec->value_len);
	put_bytes(o, "key", rec->key, rec->key_len);
	put_bytes(o, "value", rec->value, rec->value_len);
	put_headers(o, rec);
	fputs(o->json ? "}" : "\n", o->f);
}

/* Prints the records of the whole batch at buf: in JSON as the "records"
 * member of the batch's object (still open), in text as lines after the
 * batch's. Returns false when they cannot all be decoded. */
static bool put_records(out_t *o, const uint8_t *buf, size_t len)
{
	log_batch_iter_t *it = NULL;
	log_record_t rec;
	tern_err_t err;
	bool opened;
	int32_t n = 0;
	char why[128];

	if (o->json) {
		key(o, "records");
		fputc('[', o->f);
	}
	err = log_batch_iter_new(buf, len, 0, &it);
	opened = err == TERN_OK;
	while (err == TERN_OK && (err = log_batch_iter_next(it, &rec)) == TERN_OK) {
		if (o->json && n)
			fputc(',', o->f);
		put_record(o, &rec);
		n++;
	}
	log_batch_iter_free(it);
	if (o->json)
		fputc(']', o->f);
	if (err == TERN_ERR__END)
		return true;
	if (opened)
		snprintf(why, sizeof why, "cannot decode record %" PRId32 ": %s", n,
			 tern_strerror(err));
	else
		snprintf(why, sizeof why, "cannot decode the records: %s", tern_strerror(err));
	o->first = false;
	if (o->json) {
		put_str(o, "recordsError", why);
	} else {
		fputs("| ", o->f);
		fputs(why, o->f);
		fputc('\n', o->f);
	}
	return false;
}

/* Where a segment's walk stopped: a line in the dump and the error. */
static void put_stop(out_t *o, const char *path, uint64_t pos, const char *why)
{
	if (o->json) {
		begin_line(o, path);
		put_u64(o, "position", pos);
		put_str(o, "error", why);
		end_line(o);
	} else {
		fprintf(o->f, "Stopped at position %" PRIu64 ": %s\n", pos, why);
	}
	cli_error(CMD, "%s is corrupt at position %" PRIu64 ": %s", path, pos, why);
}

/* The batch at pos, read whole, or NULL with the reason in why when the walk
 * cannot go on. */
static const uint8_t *next_batch(reader_t *r, uint64_t pos, log_batch_hdr_t *h, char *why,
				 size_t whylen)
{
	uint64_t left = r->size - pos;
	const uint8_t *p;
	int32_t length;
	size_t size;

	if (left < LOG_BATCH_LOG_OVERHEAD) {
		snprintf(why, whylen,
			 "truncated batch: %" PRIu64 " bytes left, fewer than a batch's offset "
			 "and length (%d bytes)",
			 left, LOG_BATCH_LOG_OVERHEAD);
		return NULL;
	}
	p = reader_get(r, pos, LOG_BATCH_LOG_OVERHEAD, why, whylen);
	if (!p)
		return NULL;
	length = (int32_t)get_be32(p + LOG_BATCH_OFF_LENGTH);
	if (length < LOG_BATCH_HEADER_SIZE - LOG_BATCH_LOG_OVERHEAD) {
		snprintf(why, whylen,
			 "invalid batch: length field %" PRId32 " is shorter than a batch header",
			 length);
		return NULL;
	}
	size = (size_t)LOG_BATCH_LOG_OVERHEAD + (size_t)length;
	if (size > left) {
		snprintf(why, whylen,
			 "truncated batch: its length field says %zu bytes, the file ends after "
			 "%" PRIu64,
			 size, left);
		return NULL;
	}
	if (size > MAX_BATCH_BYTES) {
		snprintf(why, whylen, "batch of %zu bytes, more than dump-log reads (%u MiB)", size,
			 MAX_BATCH_BYTES >> 20);
		return NULL;
	}
	p = reader_get(r, pos, size, why, whylen);
	if (!p)
		return NULL;
	/* Cannot fail: the batch is whole and its length was checked above. */
	log_batch_hdr_parse(p, size, h);
	if (h->magic != LOG_BATCH_MAGIC) {
		snprintf(why, whylen, "invalid batch: magic %d (RecordBatch v2 has magic %d)",
			 h->magic, LOG_BATCH_MAGIC);
		return NULL;
	}
	return p;
}

static int dump_segment(out_t *o, const char *path)
{
	static const log_validate_opts_t vopts = {.deep = false};
	reader_t r;
	uint64_t pos = 0;
	long batches = 0, bad = 0;
	int64_t base;
	char why[256];

	if (reader_open(&r, path) < 0)
		return CLI_EXIT_FAIL;
	put_dumping(o, path);
	if (!o->json && base_from_name(path, ".log", &base))
		fprintf(o->f, "Log starting offset: %" PRId64 "\n", base);
	while (pos < r.size) {
		log_batch_hdr_t h;
		const uint8_t *p = next_batch(&r, pos, &h, why, sizeof why);
		bool valid, decoded = true;

		if (!p) {
			put_stop(o, path, pos, why);
			reader_close(&r);
			return CLI_EXIT_FAIL;
		}
		valid = log_batch_validate(p, log_batch_size(&h), &vopts, NULL, why, sizeof why) ==
			TERN_OK;
		begin_line(o, path);
		put_batch(o, &h, pos, valid, why);
		if (o->records && o->json)
			decoded = put_records(o, p, log_batch_size(&h));
		end_line(o);
		if (o->records && !o->json)
			decoded = put_records(o, p, log_batch_size(&h));
		batches++;
		if (!valid || !decoded)
			bad++;
		pos += log_batch_size(&h);
	}
	reader_close(&r);
	if (bad) {
		cli_error(CMD, "%s is corrupt: %ld of %ld batches invalid", path, bad, batches);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Indexes and the epoch checkpoint                                           */

/* Prints the entries of an offset index (entry_size 8) or a time index (12),
 * as absolute offsets. The active segment's index files are preallocated, so
 * the first all-zero entry ends them (the first batch of a segment never
 * gets an offset entry, and a time entry of 0 at the base is no entry). */
static int dump_index(out_t *o, const char *path, bool time)
{
	size_t esize = time ? TINDEX_ENTRY_SIZE : INDEX_ENTRY_SIZE;
	const char *ext = time ? ".timeindex" : ".index";
	reader_t r;
	uint64_t pos;
	int64_t base;
	char why[256];

	if (!base_from_name(path, ext, &base)) {
		cli_error(CMD,
			  "cannot tell the base offset of %s: index files are named "
			  "<20-digit base offset>%s",
			  path, ext);
		return CLI_EXIT_FAIL;
	}
	if (reader_open(&r, path) < 0)
		return CLI_EXIT_FAIL;
	put_dumping(o, path);
	for (pos = 0; pos + esize <= r.size; pos += esize) {
		const uint8_t *p = reader_get(&r, pos, esize, why, sizeof why);
		int64_t ts;
		uint32_t rel;

		if (!p) {
			put_stop(o, path, pos, why);
			reader_close(&r);
			return CLI_EXIT_FAIL;
		}
		if (time) {
			ts = (int64_t)((uint64_t)get_be32(p) << 32 | get_be32(p + 4));
			rel = get_be32(p + 8);
			if (ts == 0 && rel == 0)
				break;
			begin_line(o, path);
			put_i64(o, "timestamp", ts);
			put_i64(o, "offset", base + rel);
		} else {
			rel = get_be32(p);
			if (rel == 0 && get_be32(p + 4) == 0)
				break;
			begin_line(o, path);
			put_i64(o, "offset", base + rel);
			put_u64(o, "position", get_be32(p + 4));
		}
		end_line(o);
	}
	if (pos + esize > r.size && pos < r.size) {
		snprintf(why, sizeof why, "%" PRIu64 " trailing bytes, less than an entry (%zu)",
			 r.size - pos, esize);
		put_stop(o, path, pos, why);
		reader_close(&r);
		return CLI_EXIT_FAIL;
	}
	reader_close(&r);
	return CLI_EXIT_OK;
}

/* The leader-epoch checkpoint as the broker reads it (log_epoch_cache_read
 * checks every line). */
static int dump_epochs(out_t *o, const char *path)
{
	log_epoch_cache_t c;
	tern_err_t err;
	char why[512];

	log_epoch_cache_init(&c);
	err = log_epoch_cache_read(&c, path, why, sizeof why);
	if (err == TERN_ERR__CORRUPT) {
		cli_error(CMD, "%s", why);
		return CLI_EXIT_FAIL;
	}
	if (err != TERN_OK) {
		cli_error(CMD, "cannot read %s: %s", path, tern_strerror(err));
		return CLI_EXIT_FAIL;
	}
	put_dumping(o, path);
	for (size_t i = 0; i < c.n; i++) {
		begin_line(o, path);
		put_i64(o, "epoch", c.e[i].epoch);
		put_i64(o, "startOffset", c.e[i].start_offset);
		end_line(o);
	}
	log_epoch_cache_free(&c);
	return CLI_EXIT_OK;
}

/* A producer-state snapshot: log/'s envelope (log_snapshot_decode checks
 * it as the broker does); the payload is the broker's and is not decoded. */
static int dump_snapshot(out_t *o, const char *path)
{
	const uint8_t *payload;
	uint8_t *buf = NULL;
	struct stat st;
	size_t plen, got = 0;
	int64_t offset, named = -1;
	char why[256];
	int fd, status = CLI_EXIT_FAIL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		cli_error(CMD, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > LOG_SNAPSHOT_MAX_BYTES) {
		cli_error(CMD, "%s is corrupt: %lld bytes, more than a snapshot may hold", path,
			  (long long)st.st_size);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		cli_error(CMD, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (r < 0) {
			cli_error(CMD, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (log_snapshot_decode(buf, got, &offset, &payload, &plen, why, sizeof why) != TERN_OK) {
		cli_error(CMD, "%s is corrupt: %s", path, why);
		goto out;
	}
	if (base_from_name(path, ".snapshot", &named) && named != offset) {
		cli_error(CMD, "%s is corrupt: it holds the state at offset %" PRId64, path,
			  offset);
		goto out;
	}
	put_dumping(o, path);
	begin_line(o, path);
	put_i64(o, "snapshotOffset", offset);
	put_i64(o, "version", LOG_SNAPSHOT_VERSION);
	put_u64(o, "payloadBytes", plen);
	put_bool(o, "crcValid", true);
	end_line(o);
	status = CLI_EXIT_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return status;
}

/* ------------------------------------------------------------------------ */
/* Partition directories                                                      */

typedef struct seg_name {
	int64_t base;
	char *path;
} seg_name_t;

static int cmp_base(const void *a, const void *b)
{
	const seg_name_t *x = a, *y = b;

	return (x->base > y->base) - (x->base < y->base);
}

/* The files "<20 digits><ext>" of dir (segments, snapshots) in offset
 * order, in *segs (caller frees). */
static int list_files(const char *dir, const char *ext, seg_name_t **segs, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	seg_name_t *v = NULL;
	size_t cnt = 0, cap = 0;

	if (!d) {
		cli_error(CMD, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int64_t base;

		if (!base_from_name(de->d_name, ext, &base))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			seg_name_t *nv = realloc(v, nc * sizeof *v);

			if (!nv)
				goto nomem;
			v = nv;
			cap = nc;
		}
		if (asprintf(&v[cnt].path, "%s/%s", dir, de->d_name) < 0)
			goto nomem;
		v[cnt++].base = base;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof *v, cmp_base);
	*segs = v;
	*n = cnt;
	return 0;
nomem:
	cli_error(CMD, "out of memory listing %s", dir);
	while (cnt)
		free(v[--cnt].path);
	free(v);
	closedir(d);
	return -1;
}

static int dump_dir(out_t *o, const char *path)
{
	seg_name_t *segs = NULL, *snaps = NULL;
	size_t n = 0, nsnaps = 0, len = strlen(path);
	char *dir = NULL, *epochs = NULL;
	int status = CLI_EXIT_FAIL;

	/* Without trailing slashes, so that the paths it prints look right. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	dir = strndup(path, len);
	if (!dir || asprintf(&epochs, "%s/%s", dir, EPOCH_CHECKPOINT) < 0) {
		epochs = NULL;
		cli_error(CMD, "out of memory");
		goto out;
	}
	if (list_files(dir, ".log", &segs, &n) < 0 ||
	    list_files(dir, ".snapshot", &snaps, &nsnaps) < 0)
		goto out;
	if (n == 0) {
		cli_error(CMD,
			  "%s holds no segments (<20-digit base offset>.log): is it a partition "
			  "directory, <data dir>/<topic>-<partition>?",
			  dir);
		goto out;
	}
	status = CLI_EXIT_OK;
	if (access(epochs, F_OK) == 0) {
		if (dump_epochs(o, epochs) != CLI_EXIT_OK)
			status = CLI_EXIT_FAIL;
	} else if (!o->json) {
		fprintf(o->f, "No %s in %s\n", EPOCH_CHECKPOINT, dir);
	}
	for (size_t i = 0; i < n; i++)
		if (dump_segment(o, segs[i].path) != CLI_EXIT_OK)
			status = CLI_EXIT_FAIL;
	for (size_t i = 0; i < nsnaps; i++)
		if (dump_snapshot(o, snaps[i].path) != CLI_EXIT_OK)
			status = CLI_EXIT_FAIL;
out:
	for (size_t i = 0; i < n; i++)
		free(segs[i].path);
	free(segs);
	for (size_t i = 0; i < nsnaps; i++)
		free(snaps[i].path);
	free(snaps);
	free(epochs);
	free(dir);
	return status;
}

/* ------------------------------------------------------------------------ */
/* The command                                                                */

/* What path names; -1 (reported) when it cannot be read, -2 when it is
 * nothing dump-log knows. */
static int classify(const char *path)
{
	struct stat st;
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	if (stat(path, &st) < 0) {
		cli_error(CMD, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return KIND_DIR;
	if (ends_with(name, ".log"))
		return KIND_SEGMENT;
	if (ends_with(name, ".index"))
		return KIND_INDEX;
	if (ends_with(name, ".timeindex"))
		return KIND_TIMEINDEX;
	if (strcmp(name, EPOCH_CHECKPOINT) == 0)
		return KIND_EPOCHS;
	if (ends_with(name, ".snapshot"))
		return KIND_SNAPSHOT;
	return -2;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"records", no_argument, NULL, 'r'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	out_t o = {.f = stdout};
	int *kinds = NULL, status = CLI_EXIT_OK, c, npaths;

	while ((c = cli_getopt(CMD, argc, argv, ":rf:h", longopts)) != -1) {
		switch (c) {
		case 'r':
			o.records = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				o.json = true;
			else if (strcmp(optarg, "text") == 0)
				o.json = false;
			else
				return cli_usage_error(CMD, "unknown format '%s': use text or json",
						       optarg);
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	npaths = argc - optind;
	if (npaths < 1)
		return cli_usage_error(CMD, "no PATH given: name a segment, an index or a "
					    "partition directory");
	kinds = calloc((size_t)npaths, sizeof *kinds);
	if (!kinds) {
		cli_error(CMD, "out of memory");
		return CLI_EXIT_FAIL;
	}
	/* Every path is looked at before anything is printed, so that a wrong
	 * command line prints nothing but the error. */
	for (int i = 0; i < npaths; i++) {
		kinds[i] = classify(argv[optind + i]);
		if (kinds[i] == -2) {
			free(kinds);
			return cli_usage_error(
			    CMD,
			    "cannot dump %s: give a segment (.log), an index "
			    "(.index, .timeindex), a snapshot (.snapshot), a %s or a "
			    "partition directory",
			    argv[optind + i], EPOCH_CHECKPOINT);
		}
	}
	for (int i = 0; i < npaths; i++) {
		const char *path = argv[optind + i];
		int rc;

		switch (kinds[i]) {
		case KIND_DIR:
			rc = dump_dir(&o, path);
			break;
		case KIND_SEGMENT:
			rc = dump_segment(&o, path);
			break;
		case KIND_INDEX:
		case KIND_TIMEINDEX:
			rc = dump_index(&o, path, kinds[i] == KIND_TIMEINDEX);
			break;
		case KIND_EPOCHS:
			rc = dump_epochs(&o, path);
			break;
		case KIND_SNAPSHOT:
			rc = dump_snapshot(&o, path);
			break;
		default: /* could not be read, already reported */
			rc = CLI_EXIT_FAIL;
		}
		if (rc != CLI_EXIT_OK)
			status = CLI_EXIT_FAIL;
	}
	free(kinds);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error(CMD, "cannot write the output: %s", strerror(errno));
		status = CLI_EXIT_FAIL;
	}
	return status;
}

const cli_command_t cli_dump_log_command = {
    .name = "dump-log",
    .summary = "print the batches, records and index entries of a partition's files",
    .run = run,
};
