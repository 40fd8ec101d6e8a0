/* tests/fuzz/fuzz_segment.c: libFuzzer target for segment recovery of log/
 * (TESTING.md scenario 18). The input is the whole content of a partition's
 * first segment file, t-0/00000000000000000000.log, in a data directory
 * that has nothing else: no checkpoints, no indexes, no clean-shutdown
 * marker, as a broker finds it at start after a crash. A batch whose
 * CRC-32C field is 0 in the input gets its right CRC before the file is
 * written (fix_crcs), so that the fuzzer reaches what lies behind the CRC
 * check: offsets, counts, epochs, timestamps. The target opens the
 * directory and the log as the broker does (log_dir_open, log_open), which
 * recovers the segment; reads every offset the log then claims; looks up
 * timestamps and epochs; appends one batch and reads it back; closes
 * cleanly, opens again (the clean path) and checks that the log end held.
 *
 * Checked beyond "no crash, no leak, no hang" (ASan+UBSan): recovery never
 * fails on bad bytes (it truncates), every offset in [log start, LEO) reads
 * back as whole valid batches holding it, an append after recovery reads
 * back at the offset it was given, and a clean restart keeps the LEO.
 *
 * One directory per process under $TMPDIR (default /tmp), emptied after
 * every input and removed at exit. io_uring is used inside, so the target
 * needs a kernel that allows it. Built only with clang and -Dfuzz=true
 * (tests/fuzz/meson.build); the corpus is tests/data/fuzz/segment/, and
 * fuzz_replay runs it in every build. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PART	 "t-0"
#define SEG_NAME "00000000000000000000.log"

/* Reads per input are bounded: at most this many log_read() calls. */
#define MAX_READS 4096

static char base_dir[4096]; /* this process's directory */
static char data_dir[4200]; /* the data directory, re-created per input */

__attribute__((noreturn)) static void broken(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_segment: %s%s%s\n", what, why && *why ? ": " : "", why ? why : "");
	abort();
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	if (base_dir[0])
		rmtree(base_dir);
}

static void setup_once(void)
{
	const char *tmp = getenv("TMPDIR");

	if (base_dir[0])
		return;
	snprintf(base_dir, sizeof base_dir, "%s/tern-fuzz-segment-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base_dir))
		broken("mkdtemp", strerror(errno));
	snprintf(data_dir, sizeof data_dir, "%s/data", base_dir);
	atexit(cleanup);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A copy of the input in which every whole batch (walking the Length
 * fields from the start) whose stored CRC-32C is 0 gets its right CRC, so
 * that mutated headers get past the CRC check; the caller frees it. */
static uint8_t *fix_crcs(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	size_t pos = 0;

	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	while (size - pos >= LOG_BATCH_HEADER_SIZE) {
		log_batch_hdr_t h;

		if (log_batch_hdr_parse(copy + pos, size - pos, &h) != TERN_OK ||
		    log_batch_size(&h) > size - pos)
			break;
		if (h.crc == 0)
			put_be32(copy + pos + LOG_BATCH_OFF_CRC,
				 log_crc32c(0, copy + pos + LOG_BATCH_CRC_START,
					    log_batch_size(&h) - LOG_BATCH_CRC_START));
		pos += log_batch_size(&h);
	}
	return copy;
}

static void write_segment(const uint8_t *data, size_t size)
{
	char path[4400];
	int fd;

	rmtree(data_dir);
	snprintf(path, sizeof path, "%s/%s", data_dir, PART);
	if (mkdir(data_dir, 0755) < 0 || mkdir(path, 0755) < 0)
		broken("mkdir", strerror(errno));
	snprintf(path, sizeof path, "%s/%s/%s", data_dir, PART, SEG_NAME);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) < 0)
		broken("writing the segment", strerror(errno));
}

static void open_all(log_dir_t **d, log_t **l)
{
	log_dir_opts_t o = {.path = data_dir, .writer_threads = 1, .max_open_files = 8};
	log_config_t cfg;
	char err[512];
	tern_err_t rc;

	log_config_default(&cfg);
	cfg.segment_bytes = 16 << 10; /* the append after recovery may roll */
	cfg.index_interval_bytes = 128;
	cfg.segment_index_bytes = 4096;
	cfg.flush_policy = LOG_FLUSH_ASYNC;
	rc = log_dir_open(&o, d, err, sizeof err);
	if (rc == TERN_ERR__UNSUPPORTED) {
		fprintf(stderr, "fuzz_segment: no io_uring here: %s\n", err);
		exit(77);
	}
	if (rc)
		broken("log_dir_open failed", err);
	rc = log_open(*d, PART, &cfg, l, err, sizeof err);
	if (rc)
		broken("log_open failed on a segment it should have recovered", err);
}

/* Reads [start, leo) in small steps: every offset comes back in whole,
 * valid, contiguous batches. */
static void read_all(log_t *l)
{
	int64_t off = log_start_offset(l), leo = log_end_offset(l);
	char err[512];

	for (int n = 0; off < leo; n++) {
		log_read_result_t rr;
		int64_t expect;
		size_t at = 0;
		tern_err_t rc;

		if (n == MAX_READS)
			return; /* many tiny batches: enough checked */
		rc = log_read(l, off, 1024, INT64_MAX, &rr, err, sizeof err);
		if (rc)
			broken("reading a recovered offset failed", err);
		if (!rr.len || rr.first_offset > off || rr.next_offset <= off ||
		    rr.next_offset > leo)
			broken("a read returned no batch or the wrong offsets", NULL);
		expect = rr.first_offset;
		while (at < rr.len) {
			log_batch_hdr_t h;
			log_batch_iter_t *it;
			log_record_t rec;
			char why[256];

			if (log_batch_validate(rr.data + at, rr.len - at, NULL, &h, why,
					       sizeof why) != TERN_OK)
				broken("a read returned an invalid batch", why);
			if (h.base_offset != expect)
				broken("a read returned batches that are not contiguous", NULL);
			/* As readers do; bad records behind a good CRC are theirs. */
			if (log_batch_iter_new(rr.data + at, log_batch_size(&h), 0, &it) ==
			    TERN_OK) {
				while (log_batch_iter_next(it, &rec) == TERN_OK)
					;
				log_batch_iter_free(it);
			}
			expect = log_batch_last_offset(&h) + 1;
			at += log_batch_size(&h);
		}
		if (expect != rr.next_offset)
			broken("a read's next offset is not after its last batch", NULL);
		free(rr.buf);
		off = rr.next_offset;
	}
}

/* The lookups that use the rebuilt indexes and epoch cache. */
static void lookups(log_t *l)
{
	static const int64_t ts[] = {INT64_MIN, -1, 0, 1700000000000LL, INT64_MAX};
	int32_t epoch;
	int64_t end, off;

	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		tern_err_t rc = log_offset_for_timestamp(l, ts[i], &off);

		if (rc == TERN_OK && (off < log_start_offset(l) || off >= log_end_offset(l)))
			broken("a timestamp lookup returned an offset outside the log", NULL);
		if (rc != TERN_OK && rc != TERN_ERR__END)
			broken("a timestamp lookup failed", tern_err_name(rc));
	}
	for (int32_t e = -1; e < 4; e++)
		log_end_offset_for_epoch(l, e, &epoch, &end);
	log_end_offset_for_epoch(l, log_latest_epoch(l), &epoch, &end);
}

/* One new batch lands at the log end and reads back there. */
static void append_one(log_t *l)
{
	log_batch_builder_t *b;
	log_append_info_t info;
	log_read_result_t rr;
	log_batch_hdr_t h;
	int32_t epoch = log_latest_epoch(l);
	uint8_t *buf;
	size_t len;
	char err[512];
	tern_err_t rc;

	if (epoch == INT32_MAX)
		return;
	if (log_batch_builder_new(NULL, &b) ||
	    log_batch_builder_add(b, 1700000000000LL, "k", 1, "after-recovery", 14, NULL, 0) ||
	    log_batch_builder_finish(b, &buf, &len))
		broken("building the batch to append", NULL);
	log_batch_builder_free(b);
	rc = log_append(l, buf, len, epoch < 0 ? 0 : epoch + 1, LOG_APPEND_ASSIGN_OFFSETS, &info,
			NULL, NULL);
	free(buf);
	if (rc == TERN_ERR_KAFKA_STORAGE_ERROR)
		return; /* offsets near INT64_MAX: the log refuses, as it should */
	if (rc)
		broken("an append after recovery failed", tern_err_name(rc));
	if (log_wait_end(l, info.last_offset + 1, 10000) != TERN_OK)
		broken("an append after recovery never completed", NULL);
	rc = log_read(l, info.base_offset, 1, INT64_MAX, &rr, err, sizeof err);
	if (rc)
		broken("the appended batch does not read back", err);
	if (rr.len < LOG_BATCH_HEADER_SIZE || log_batch_hdr_parse(rr.data, rr.len, &h) ||
	    h.base_offset != info.base_offset || rr.next_offset != info.last_offset + 1)
		broken("the appended batch reads back at another offset", NULL);
	free(rr.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_dir_t *d;
	log_t *l;
	int64_t leo;
	tern_err_t rc;

	uint8_t *seg;

	setup_once();
	seg = fix_crcs(data, size);
	write_segment(seg, size);
	free(seg);
	open_all(&d, &l);
	if (log_start_offset(l) > log_end_offset(l))
		broken("the log start is past the log end", NULL);
	read_all(l);
	lookups(l);
	append_one(l);
	leo = log_end_offset(l);
	rc = log_dir_close(d);
	if (rc)
		broken("log_dir_close failed", tern_err_name(rc));

	/* The clean path: the marker is there, the end must be the same. */
	open_all(&d, &l);
	if (log_end_offset(l) != leo)
		broken("a clean restart changed the log end", NULL);
	read_all(l);
	rc = log_dir_close(d);
	if (rc)
		broken("log_dir_close failed", tern_err_name(rc));
	rmtree(data_dir);
	return 0;
}
