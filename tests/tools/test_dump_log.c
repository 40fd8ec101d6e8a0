/* Check suite of `tern dump-log`: writes a partition with log/ (several
 * segments, null and empty keys and values, headers, a zstd batch), runs the
 * built `tern` binary (TERN_BIN) on its segments, its directory and its
 * indexes, then on a flipped bit and a truncated segment, and checks what it
 * prints and its exit status; also its command-line errors. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log.h"
#include "testutil.h"

#define TS0	     1700000000000LL
#define FILLERS	     30
#define NBATCHES     (3 + FILLERS)
#define LAST_OFFSET  (14 + 2 * FILLERS)
#define LEADER_EPOCH 3

static char *tmp;  /* the test's directory */
static char *part; /* tmp/data/events-0 */
static char *seg0; /* part/00000000000000000000.log */
static char *out;  /* stdout and stderr of the last run of tern */
static char *err;

/* ------------------------------------------------------------------------ */
/* Writing the partition                                                      */

static void add(log_batch_builder_t *b, int64_t offset, const char *key, size_t klen,
		const char *value, size_t vlen, const log_header_t *h, size_t nh)
{
	ck_assert_int_eq(log_batch_builder_add(b, TS0 + offset, key, klen, value, vlen, h, nh),
			 TERN_OK);
}

static void append(log_t *l, log_batch_builder_t *b)
{
	log_append_info_t info;
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(log_batch_builder_finish(b, &buf, &len), TERN_OK);
	ck_assert_int_eq(
	    log_append(l, buf, len, LEADER_EPOCH, LOG_APPEND_ASSIGN_OFFSETS, &info, NULL, NULL),
	    TERN_OK);
	free(buf);
	log_batch_builder_free(b);
}

static log_batch_builder_t *builder(int codec)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;

	log_builder_opts_default(&o);
	o.codec = codec;
	ck_assert_int_eq(log_batch_builder_new(&o, &b), TERN_OK);
	return b;
}

/* Offsets 0-2: a key and a header; a null key with an empty value; an
 * empty key with a null value and a header with a null value. 3-4: bytes
 * to escape. 5-14: one zstd batch. Then FILLERS batches of two records,
 * enough for several segments of 1 KiB. Timestamps are TS0 + offset. */
static void write_partition(void)
{
	static const log_header_t h1 = {.key = "h1", .key_len = 2, .value = "x", .value_len = 1};
	static const log_header_t h2 = {.key = "h2", .key_len = 2, .value = NULL};
	static const char bin[] = {0x01, 'a', (char)0xff, '"', '\\'};
	log_dir_opts_t dopts = {0};
	log_config_t cfg;
	log_dir_t *d;
	log_t *l;
	log_batch_builder_t *b;
	char why[256], *data, v[64];
	int64_t off = 15;

	ck_assert_int_ge(asprintf(&data, "%s/data", tmp), 0);
	dopts.path = data;
	ck_assert_msg(log_dir_open(&dopts, &d, why, sizeof why) == TERN_OK, "%s", why);
	log_config_default(&cfg);
	cfg.segment_bytes = 1024;
	cfg.index_interval_bytes = 128;
	cfg.segment_index_bytes = 4096;
	ck_assert_msg(log_open(d, "events-0", &cfg, &l, why, sizeof why) == TERN_OK, "%s", why);

	b = builder(LOG_CODEC_NONE);
	add(b, 0, "k0", 2, "v0", 2, &h1, 1);
	add(b, 1, NULL, 0, "", 0, NULL, 0);
	add(b, 2, "", 0, NULL, 0, &h2, 1);
	append(l, b);
	b = builder(LOG_CODEC_NONE);
	add(b, 3, "bin", 3, bin, sizeof bin, NULL, 0);
	add(b, 4, "nl", 2, "line1\n\"q\"", 9, NULL, 0);
	append(l, b);
	b = builder(LOG_CODEC_ZSTD);
	for (int i = 0; i < 10; i++) {
		int n = snprintf(v, sizeof v, "zstd-value-%d", i);

		add(b, 5 + i, "z", 1, v, (size_t)n, NULL, 0);
	}
	append(l, b);
	for (int i = 0; i < FILLERS; i++) {
		b = builder(LOG_CODEC_NONE);
		for (int j = 0; j < 2; j++, off++) {
			int n = snprintf(v, sizeof v, "filler-%" PRId64 "-%040d", off, 0);

			add(b, off, "f", 1, v, (size_t)n, NULL, 0);
		}
		append(l, b);
	}
	ck_assert_int_eq(log_close(l), TERN_OK);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	ck_assert_int_ge(asprintf(&part, "%s/events-0", data), 0);
	ck_assert_int_ge(asprintf(&seg0, "%s/00000000000000000000.log", part), 0);
	free(data);
}

static void setup(void)
{
	tmp = tt_mkdtemp("dump-log");
	write_partition();
}

static void teardown(void)
{
	tt_rmtree(tmp);
	free(tmp);
	free(part);
	free(seg0);
	free(out);
	free(err);
	tmp = part = seg0 = out = err = NULL;
}

/* ------------------------------------------------------------------------ */
/* Running tern                                                               */

/* Runs TERN_BIN with args (NULL-terminated); its stdout and stderr end up
 * in out and err. Returns its exit status. */
static int run_tern(const char *const *args)
{
	return tt_run_prog(tmp, NULL, getenv("TERN_BIN"), args, 30, &out, &err);
}

#define TERN(...) run_tern((const char *const[]){__VA_ARGS__, NULL})

#define ck_assert_out_has(s) ck_assert_msg(strstr(out, s) != NULL, "no '%s' in:\n%s", s, out)
#define ck_assert_err_has(s) ck_assert_msg(strstr(err, s) != NULL, "no '%s' in stderr:\n%s", s, err)

/* Whether the line that starts at line holds s. */
static int line_has(const char *line, const char *s)
{
	const char *hit = strstr(line, s), *nl = strchr(line, '\n');

	return hit && (!nl || hit < nl);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ------------------------------------------------------------------------ */
/* Reading the text output                                                    */

typedef struct batch_line {
	long long base, last, position, size;
	int count;
	int valid;
	const char *line; /* inside out */
} batch_line_t;

/* The batch lines of out, in order; *n gets their number. */
static batch_line_t *batch_lines(int *n)
{
	batch_line_t *v = calloc((size_t)count_of(out, "baseOffset: ") + 1, sizeof *v);
	int k = 0;

	ck_assert_ptr_nonnull(v);
	for (const char *p = out; *p; p = strchr(p, '\n') + 1) {
		batch_line_t *b = &v[k];

		if (sscanf(p,
			   "baseOffset: %lld lastOffset: %lld count: %d position: %lld size: %lld",
			   &b->base, &b->last, &b->count, &b->position, &b->size) == 5) {
			ck_assert_msg(line_has(p, " isValid: "), "no isValid in %s", p);
			b->valid = line_has(p, " isValid: true ");
			b->line = p;
			k++;
		}
		if (!strchr(p, '\n'))
			break;
	}
	*n = k;
	return v;
}

/* Checks that the batches of one segment sit back to back from position 0
 * and that their offsets follow each other. */
static void check_batches_contiguous(const batch_line_t *v, int n)
{
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(v[i].count, v[i].last - v[i].base + 1);
		if (i == 0)
			continue;
		ck_assert_int_eq(v[i].base, v[i - 1].last + 1);
		if (v[i].position != 0)
			ck_assert_int_eq(v[i].position, v[i - 1].position + v[i - 1].size);
	}
}

/* ------------------------------------------------------------------------ */
/* A JSON syntax check (RFC 8259), enough to know every line parses         */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *json_number(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		s = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		s = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	return p;
}

/* Members of an object (obj) or elements of an array, after the bracket. */
static const char *json_items(const char *p, int obj)
{
	char close = obj ? '}' : ']';

	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (obj) {
			p = json_string(json_ws(p));
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(p);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{')
		return json_items(p + 1, 1);
	if (*p == '[')
		return json_items(p + 1, 0);
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	return json_number(p);
}

/* Checks that every line of out is one JSON object; returns their number. */
static int check_json_lines(void)
{
	int n = 0;

	for (char *p = out; *p;) {
		char *nl = strchr(p, '\n');
		const char *end;

		ck_assert_msg(nl != NULL, "output does not end with a newline");
		*nl = '\0';
		ck_assert_msg(*p == '{', "not an object: %s", p);
		end = json_value(p);
		ck_assert_msg(end && *json_ws(end) == '\0', "not JSON: %s", p);
		ck_assert_msg(strstr(p, "{\"file\":\"") == p, "no file first: %s", p);
		*nl = '\n';
		p = nl + 1;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                      */

static void flip_bit(const char *path, off_t pos, int bit)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, pos), 1);
	c ^= (uint8_t)(1u << bit);
	ck_assert_int_eq(pwrite(fd, &c, 1, pos), 1);
	close(fd);
}

static char *seg_file(int64_t base, const char *ext)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%020" PRId64 "%s", part, base, ext), 0);
	return p;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                      */

START_TEST(segment_lists_every_batch)
{
	batch_line_t *v;
	int n;

	ck_assert_int_eq(TERN("dump-log", seg0), 0);
	ck_assert_out_has("Log starting offset: 0\n");
	v = batch_lines(&n);
	ck_assert_int_ge(n, 3);
	ck_assert_msg(strstr(out, "Dumping ") == out && strstr(out, seg0) == out + 8, "%s", out);
	ck_assert_out_has("baseOffset: 0 lastOffset: 2 count: 3 position: 0 size: ");
	ck_assert_out_has("baseOffset: 3 lastOffset: 4 count: 2 ");
	ck_assert_out_has("baseOffset: 5 lastOffset: 14 count: 10 ");
	ck_assert_out_has("partitionLeaderEpoch: 3 magic: 2 isValid: true crc: ");
	ck_assert_out_has("compressCodec: none timestampType: CreateTime isTransactional: false "
			  "isControl: false baseTimestamp: 1700000000000 maxTimestamp: "
			  "1700000000002 producerId: -1 producerEpoch: -1 baseSequence: -1\n");
	ck_assert_msg(line_has(v[2].line, "compressCodec: zstd "), "%s", v[2].line);
	for (int i = 0; i < n; i++)
		ck_assert_msg(v[i].valid, "%s", v[i].line);
	check_batches_contiguous(v, n);
	ck_assert_str_eq(err, "");
	free(v);
}
END_TEST

START_TEST(records_show_null_empty_and_escapes)
{
	batch_line_t *v;
	int n;

	ck_assert_int_eq(TERN("dump-log", "--records", seg0), 0);
	ck_assert_out_has("\n| offset: 0 timestamp: 1700000000000 keySize: 2 valueSize: 2 key: "
			  "\"k0\" value: \"v0\" headers: [\"h1\": \"x\"]\n");
	ck_assert_out_has("\n| offset: 1 timestamp: 1700000000001 keySize: -1 valueSize: 0 key: "
			  "null value: \"\" headers: []\n");
	ck_assert_out_has("\n| offset: 2 timestamp: 1700000000002 keySize: 0 valueSize: -1 key: "
			  "\"\" value: null headers: [\"h2\": null]\n");
	ck_assert_out_has("keySize: 3 valueSize: 5 key: \"bin\" value: \"\\x01a\\xff\\\"\\\\\" ");
	ck_assert_out_has("key: \"nl\" value: \"line1\\x0a\\\"q\\\"\" ");
	/* The zstd batch's records are decoded, and come right after it. */
	ck_assert_out_has("compressCodec: zstd");
	ck_assert_out_has("\n| offset: 5 timestamp: 1700000000005 keySize: 1 valueSize: 12 key: "
			  "\"z\" value: \"zstd-value-0\" headers: []\n");
	ck_assert_out_has("\n| offset: 14 timestamp: 1700000000014 keySize: 1 valueSize: 12 key: "
			  "\"z\" value: \"zstd-value-9\" headers: []\n");
	/* One line per record of the segment. */
	v = batch_lines(&n);
	ck_assert_int_eq(count_of(out, "\n| offset: "), v[n - 1].last + 1);
	free(v);
}
END_TEST

START_TEST(directory_dumps_segments_in_order)
{
	batch_line_t *v;
	int n, segs = 0;
	long long prev = -1;
	const char *first_seg;

	ck_assert_int_eq(TERN("dump-log", part), 0);
	v = batch_lines(&n);
	ck_assert_int_eq(n, NBATCHES);
	ck_assert_int_eq(v[0].base, 0);
	ck_assert_int_eq(v[n - 1].last, LAST_OFFSET);
	check_batches_contiguous(v, n);
	/* The checkpoint first, then each segment with its base offset, which
	 * is the offset of its first batch, in increasing order. */
	first_seg = strstr(out, ".log\n");
	ck_assert_ptr_nonnull(first_seg);
	ck_assert_msg(strstr(out, "leader-epoch-checkpoint\nepoch: 3 startOffset: 0\n") != NULL &&
			  strstr(out, "epoch: 3 startOffset: 0\n") < first_seg,
		      "%s", out);
	for (const char *p = out; (p = strstr(p, "Log starting offset: ")) != NULL; p++) {
		long long base;
		int i;

		ck_assert_int_eq(sscanf(p, "Log starting offset: %lld", &base), 1);
		ck_assert_int_gt(base, prev);
		for (i = 0; i < n && v[i].line < p; i++)
			;
		ck_assert_int_lt(i, n);
		ck_assert_int_eq(v[i].base, base);
		ck_assert_int_eq(v[i].position, 0);
		prev = base;
		segs++;
	}
	ck_assert_int_ge(segs, 3);
	ck_assert_int_eq(count_of(out, "Dumping "), segs + 1);
	ck_assert_int_eq(count_of(out, "isValid: true"), NBATCHES);
	free(v);
}
END_TEST

/* Every index entry names the first offset of a batch and its position
 * in the segment; every time entry the timestamp of the record it names. */
START_TEST(index_entries_point_at_batches)
{
	batch_line_t *v;
	int n, entries = 0, tentries = 0;
	char *dump;

	ck_assert_int_eq(TERN("dump-log", part), 0);
	v = batch_lines(&n);
	dump = out; /* v points into it */
	out = NULL;
	for (int s = 0; s < n; s++) {
		char *idx, *tidx;
		int k = 0;

		if (v[s].position != 0)
			continue;
		idx = seg_file(v[s].base, ".index");
		ck_assert_int_eq(TERN("dump-log", idx), 0);
		for (const char *p = strstr(out, "\noffset: "); p;
		     p = strstr(p + 1, "\noffset: ")) {
			long long o, pos;
			int i;

			ck_assert_int_eq(sscanf(p, "\noffset: %lld position: %lld", &o, &pos), 2);
			/* A batch of this segment: up to the next position 0. */
			for (i = s; i < n && (i == s || v[i].position != 0) && v[i].base != o; i++)
				;
			ck_assert_msg(i < n && v[i].base == o && v[i].position == pos,
				      "entry %lld at %lld", o, pos);
			k++;
		}
		entries += k;
		tidx = seg_file(v[s].base, ".timeindex");
		ck_assert_int_eq(TERN("dump-log", tidx), 0);
		for (const char *p = strstr(out, "\ntimestamp: "); p;
		     p = strstr(p + 1, "\ntimestamp: ")) {
			long long ts, o;

			ck_assert_int_eq(sscanf(p, "\ntimestamp: %lld offset: %lld", &ts, &o), 2);
			ck_assert_int_eq(ts, TS0 + o);
			tentries++;
		}
		free(idx);
		free(tidx);
	}
	ck_assert_int_gt(entries, 0);
	ck_assert_int_gt(tentries, 0);
	free(v);
	free(dump);
}
END_TEST

/* An index with a preallocated (zero) tail, as the active segment has
 * before a clean close, lists the same entries; an index named without
 * its base offset is refused. */
START_TEST(index_zero_tail_and_bad_name)
{
	char *idx = NULL, *copy, *bad;
	size_t len;
	uint8_t *buf;
	char *first;
	FILE *f;

	/* The first index with entries (a segment's first batch gets none). */
	for (int64_t base = 0; base <= LAST_OFFSET && !idx; base++) {
		char *p = seg_file(base, ".index");
		struct stat st;

		if (stat(p, &st) == 0 && st.st_size > 0)
			idx = p;
		else
			free(p);
	}
	ck_assert_ptr_nonnull(idx);
	ck_assert_int_eq(TERN("dump-log", idx), 0);
	first = out;
	out = NULL;

	buf = tt_read_file(idx, &len);
	ck_assert_int_ge(asprintf(&copy, "%s/00000000000000000000.index", tmp), 0);
	f = fopen(copy, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	for (int i = 0; i < 64; i++)
		fputc(0, f);
	fclose(f);
	ck_assert_int_eq(TERN("dump-log", copy), 0);
	/* Same entries; only the base offset (from the name) may differ. */
	ck_assert_int_eq(count_of(out, "offset: "), count_of(first, "offset: "));
	ck_assert_int_gt(count_of(out, "offset: "), 0);

	ck_assert_int_ge(asprintf(&bad, "%s/entries.index", tmp), 0);
	ck_assert_int_eq(rename(copy, bad), 0);
	ck_assert_int_eq(TERN("dump-log", bad), 1);
	ck_assert_err_has("cannot tell the base offset");
	free(first);
	free(buf);
	free(copy);
	free(bad);
	free(idx);
}
END_TEST

START_TEST(flipped_bit_marks_batch_invalid)
{
	batch_line_t *v;
	int n;

	/* A bit of the first batch's records: covered by the CRC, and the
	 * framing of the following batches is intact. */
	flip_bit(seg0, LOG_BATCH_HEADER_SIZE + 4, 3);
	ck_assert_int_eq(TERN("dump-log", seg0), 1);
	v = batch_lines(&n);
	ck_assert_int_ge(n, 3);
	ck_assert(!v[0].valid);
	ck_assert_msg(line_has(v[0].line, " reason: CRC-32C mismatch"), "%s", out);
	for (int i = 1; i < n; i++)
		ck_assert_msg(v[i].valid, "%s", v[i].line);
	ck_assert_err_has("is corrupt: 1 of ");

	ck_assert_int_eq(TERN("dump-log", "--format", "json", part), 1);
	ck_assert_int_eq(count_of(out, "\"isValid\":false,"), 1);
	ck_assert_int_eq(count_of(out, "\"isValid\":true,"), NBATCHES - 1);
	free(v);
}
END_TEST

/* Producer-state snapshots in a partition directory (the broker writes
 * one at every roll) are dumped after the segments, not refused. */
START_TEST(snapshots_dump_with_the_directory_and_alone)
{
	log_dir_opts_t dopts = {0};
	log_config_t cfg;
	log_dir_t *d;
	log_t *l;
	char why[256], *data, *snap;

	ck_assert_int_ge(asprintf(&data, "%s/data", tmp), 0);
	dopts.path = data;
	ck_assert_msg(log_dir_open(&dopts, &d, why, sizeof why) == TERN_OK, "%s", why);
	log_config_default(&cfg);
	cfg.segment_index_bytes = 4096;
	ck_assert_msg(log_open(d, "events-0", &cfg, &l, why, sizeof why) == TERN_OK, "%s", why);
	ck_assert_int_eq(log_snapshot_write(l, 5, "state", 5), TERN_OK);
	ck_assert_int_eq(log_snapshot_write(l, 15, "abc", 3), TERN_OK);
	ck_assert_int_eq(log_close(l), TERN_OK);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	ck_assert_int_ge(asprintf(&snap, "%s/%020d.snapshot", part, 15), 0);

	ck_assert_int_eq(TERN("dump-log", part), 0);
	ck_assert_int_eq(count_of(out, "isValid: true"), NBATCHES);
	ck_assert_msg(strstr(out, "snapshotOffset: 5 version: 1 payloadBytes: 5 crcValid: true\n") <
			      strstr(out, "snapshotOffset: 15 version: 1 payloadBytes: 3 "
					  "crcValid: true\n") &&
			  strstr(out, "snapshotOffset: 5 ") > strstr(out, "isValid: true"),
		      "%s", out);
	ck_assert_int_eq(TERN("dump-log", "--format", "json", snap), 0);
	ck_assert_msg(strstr(out, "\"snapshotOffset\":15,\"version\":1,\"payloadBytes\":3,"
				  "\"crcValid\":true}\n") != NULL,
		      "%s", out);

	flip_bit(snap, 20, 0);
	ck_assert_int_eq(TERN("dump-log", part), 1);
	ck_assert_err_has("00000000000000000015.snapshot is corrupt: CRC mismatch");
	ck_assert_int_eq(count_of(out, "isValid: true"), NBATCHES);
	free(snap);
	free(data);
}
END_TEST

START_TEST(truncated_segment_stops_at_position)
{
	batch_line_t *v;
	int n, n0;
	long long p1, s1;
	char msg[160];

	ck_assert_int_eq(TERN("dump-log", seg0), 0);
	v = batch_lines(&n0);
	ck_assert_int_ge(n0, 3);
	p1 = v[1].position;
	s1 = v[1].size;
	free(v);

	/* Cut in the middle of the second batch. */
	ck_assert_int_eq(truncate(seg0, (off_t)(p1 + s1 / 2)), 0);
	ck_assert_int_eq(TERN("dump-log", "--records", seg0), 1);
	v = batch_lines(&n);
	ck_assert_int_eq(n, 1);
	ck_assert(v[0].valid);
	snprintf(msg, sizeof msg,
		 "\nStopped at position %lld: truncated batch: its length field says %lld bytes, "
		 "the file ends after %lld\n",
		 p1, s1, s1 / 2);
	ck_assert_out_has(msg);
	snprintf(msg, sizeof msg, "is corrupt at position %lld: truncated batch", p1);
	ck_assert_err_has(msg);
	free(v);

	/* Cut inside its offset and length. */
	ck_assert_int_eq(truncate(seg0, (off_t)(p1 + 5)), 0);
	ck_assert_int_eq(TERN("dump-log", seg0), 1);
	snprintf(msg, sizeof msg, "\nStopped at position %lld: truncated batch: 5 bytes left", p1);
	ck_assert_out_has(msg);

	/* The directory's other segments are still dumped. */
	ck_assert_int_eq(TERN("dump-log", part), 1);
	ck_assert_int_eq(count_of(out, "baseOffset: "), NBATCHES - n0 + 1);
}
END_TEST

START_TEST(json_lines_parse)
{
	int lines;

	ck_assert_int_eq(TERN("dump-log", "--format", "json", "--records", part), 0);
	lines = check_json_lines();
	ck_assert_int_eq(count_of(out, "\"baseOffset\":"), NBATCHES);
	ck_assert_int_eq(lines, NBATCHES + 1); /* and one epoch entry */
	ck_assert_out_has("\"epoch\":3,\"startOffset\":0}\n");
	ck_assert_out_has(",\"baseOffset\":0,\"lastOffset\":2,\"count\":3,\"position\":0,");
	ck_assert_out_has(",\"partitionLeaderEpoch\":3,\"magic\":2,\"isValid\":true,\"crc\":");
	ck_assert_out_has(",\"compressCodec\":\"zstd\",");
	ck_assert_out_has("\"records\":[{\"offset\":0,\"timestamp\":1700000000000,\"keySize\":2,"
			  "\"valueSize\":2,\"key\":\"k0\",\"value\":\"v0\",\"headers\":[{\"key\":"
			  "\"h1\",\"value\":\"x\"}]},");
	ck_assert_out_has("\"key\":null,\"value\":\"\",\"headers\":[]}");
	ck_assert_out_has(
	    "\"key\":\"\",\"value\":null,\"headers\":[{\"key\":\"h2\",\"value\":null}]}");
	/* Bytes that are not UTF-8 go as base64, text is JSON-escaped. */
	ck_assert_out_has("\"key\":\"bin\",\"value\":{\"base64\":\"AWH/Ilw=\"}");
	ck_assert_out_has("\"key\":\"nl\",\"value\":\"line1\\n\\\"q\\\"\"");
	ck_assert_out_has("\"value\":\"zstd-value-9\"");
	ck_assert_str_eq(err, "");

	ck_assert_int_eq(TERN("dump-log", "--format=json", seg0), 0);
	check_json_lines();
	ck_assert_int_eq(count_of(out, "\"records\""), 0);
}
END_TEST

/* A batch written by a Kafka broker (tests/data) reads as such. */
START_TEST(kafka_written_batch)
{
	size_t len;
	uint8_t *buf = tt_read_file(tt_data_path("kafka-batch-kafka-python-header.bin"), &len);
	char *path;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/00000000000000000000.log", tmp), 0);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
	ck_assert_int_eq(TERN("dump-log", "-r", path), 0);
	ck_assert_out_has("baseOffset: 0 lastOffset: 0 count: 1 position: 0 size: 81 ");
	ck_assert_out_has(" isValid: true ");
	ck_assert_out_has("key: null value: \"hdr\" headers: [\"hkey\": \"hval\"]\n");
	free(path);
	free(buf);
}
END_TEST

START_TEST(command_line_errors)
{
	char *missing;

	ck_assert_int_eq(TERN("--help"), 0);
	ck_assert_out_has("usage: tern <command>");
	ck_assert_out_has("\n  dump-log ");
	ck_assert_int_eq(TERN("dump-log", "--help"), 0);
	ck_assert_out_has("usage: tern dump-log ");
	ck_assert_out_has("--records");

	ck_assert_int_eq(run_tern((const char *const[]){NULL}), 2);
	ck_assert_err_has("usage: tern <command>");
	ck_assert_int_eq(TERN("frobnicate"), 2);
	ck_assert_err_has("unknown command 'frobnicate'");
	ck_assert_err_has("tern --help");
	ck_assert_int_eq(TERN("--verbose", "dump-log"), 2);
	ck_assert_err_has("unknown option '--verbose'");
	ck_assert_int_eq(TERN("dump-log"), 2);
	ck_assert_err_has("no PATH given");
	ck_assert_int_eq(TERN("dump-log", "--bogus", seg0), 2);
	ck_assert_err_has("unknown option '--bogus'");
	ck_assert_err_has("tern dump-log --help");
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(TERN("dump-log", "--format", "xml", seg0), 2);
	ck_assert_err_has("unknown format 'xml'");
	ck_assert_int_eq(TERN("dump-log", seg0, "--format"), 2);
	ck_assert_err_has("'--format' needs an argument");
	ck_assert_int_eq(TERN("dump-log", seg0, tmp, "/etc/hostname"), 2);
	ck_assert_err_has("cannot dump /etc/hostname");
	ck_assert_str_eq(out, "");

	/* A file that is not there is a runtime failure, not a usage error. */
	ck_assert_int_ge(asprintf(&missing, "%s/00000000000000000099.log", part), 0);
	ck_assert_int_eq(TERN("dump-log", missing), 1);
	ck_assert_err_has("No such file or directory");
	/* A directory without segments says what it expected. */
	ck_assert_int_eq(TERN("dump-log", tmp), 1);
	ck_assert_err_has("holds no segments");
	free(missing);
}
END_TEST

static Suite *dump_log_suite(void)
{
	Suite *s = suite_create("dump-log");
	TCase *tc = tcase_create("dump-log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, segment_lists_every_batch);
	tcase_add_test(tc, records_show_null_empty_and_escapes);
	tcase_add_test(tc, directory_dumps_segments_in_order);
	tcase_add_test(tc, index_entries_point_at_batches);
	tcase_add_test(tc, index_zero_tail_and_bad_name);
	tcase_add_test(tc, flipped_bit_marks_batch_invalid);
	tcase_add_test(tc, truncated_segment_stops_at_position);
	tcase_add_test(tc, snapshots_dump_with_the_directory_and_alone);
	tcase_add_test(tc, json_lines_parse);
	tcase_add_test(tc, kafka_written_batch);
	tcase_add_test(tc, command_line_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!getenv("TERN_BIN")) {
		fprintf(stderr, "TERN_BIN must name the tern binary (meson sets it)\n");
		return 1;
	}
	tt_require_io_uring();
	return tt_run(dump_log_suite());
}
