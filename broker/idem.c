/* broker/idem.c: the idempotent producer's state on one partition
 * (KAFKA-REFERENCE.md §4): per producer id its epoch and the sequence
 * ranges and offsets of its last BK_IDEM_BATCHES batches, checked before
 * every append, snapshotted at every segment roll and rebuilt from the
 * newest snapshot and the batch headers after it when a log opens. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

static bk_idem_producer_t *find(const bk_idem_t *s, int64_t pid, size_t *pos)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return lo < s->n && s->p[lo].pid == pid ? &s->p[lo] : NULL;
}

static int32_t last_seq_of(const log_batch_hdr_t *h)
{
	/* Sequences wrap from INT32_MAX to 0, as Kafka's incrementSequence. */
	int64_t last = (int64_t)h->base_sequence + h->last_offset_delta;

	return (int32_t)(last > INT32_MAX ? last - INT32_MAX - 1 : last);
}

bk_idem_verdict_t bk_idem_check(const bk_idem_t *s, const log_batch_hdr_t *h, bk_idem_batch_t *dup,
				tern_err_t *err)
{
	const bk_idem_producer_t *p;
	const bk_idem_batch_t *last;
	int32_t expect;
	size_t pos;

	p = find(s, h->producer_id, &pos);
	if (!p || h->producer_epoch > p->epoch) {
		/* A producer's first batch, or the first of a new epoch, starts
		 * its sequence at 0. */
		if (h->base_sequence != 0) {
			*err = TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
			return BK_IDEM_REFUSE;
		}
		return BK_IDEM_APPEND;
	}
	if (h->producer_epoch < p->epoch) {
		*err = TERN_ERR_INVALID_PRODUCER_EPOCH;
		return BK_IDEM_REFUSE;
	}
	for (int i = 0; i < p->n; i++) {
		const bk_idem_batch_t *b = &p->b[(p->head + i) % BK_IDEM_BATCHES];

		if (b->first_seq == h->base_sequence && b->last_seq == last_seq_of(h)) {
			*dup = *b;
			return BK_IDEM_DUPLICATE;
		}
	}
	if (p->n == 0)
		return BK_IDEM_APPEND;
	last = &p->b[(p->head + p->n - 1) % BK_IDEM_BATCHES];
	expect = last->last_seq == INT32_MAX ? 0 : last->last_seq + 1;
	if (h->base_sequence != expect) {
		*err = TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
		return BK_IDEM_REFUSE;
	}
	return BK_IDEM_APPEND;
}

tern_err_t bk_idem_record(bk_idem_t *s, const log_batch_hdr_t *h, int64_t base_offset)
{
	bk_idem_producer_t *p;
	bk_idem_batch_t *b;
	size_t pos;

	p = find(s, h->producer_id, &pos);
	if (!p) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 8;
			bk_idem_producer_t *v = realloc(s->p, cap * sizeof *v);

			if (!v)
				return TERN_ERR__NOMEM;
			s->p = v;
			s->cap = cap;
		}
		memmove(&s->p[pos + 1], &s->p[pos], (s->n - pos) * sizeof s->p[0]);
		s->n++;
		p = &s->p[pos];
		memset(p, 0, sizeof *p);
		p->pid = h->producer_id;
		p->epoch = h->producer_epoch;
	}
	if (h->producer_epoch != p->epoch) {
		p->epoch = h->producer_epoch;
		p->n = 0;
		p->head = 0;
	}
	if (p->n == BK_IDEM_BATCHES) {
		p->head = (p->head + 1) % BK_IDEM_BATCHES;
		p->n--;
	}
	b = &p->b[(p->head + p->n) % BK_IDEM_BATCHES];
	b->first_seq = h->base_sequence;
	b->last_seq = last_seq_of(h);
	b->base_offset = base_offset;
	b->last_offset = base_offset + h->last_offset_delta;
	p->n++;
	return TERN_OK;
}

void bk_idem_forget_from(bk_idem_t *s, int64_t offset)
{
	for (size_t i = 0; i < s->n; i++) {
		bk_idem_producer_t *p = &s->p[i];

		/* In append order: the ones to forget are the newest. */
		while (p->n > 0 &&
		       p->b[(p->head + p->n - 1) % BK_IDEM_BATCHES].base_offset >= offset)
			p->n--;
	}
}

void bk_idem_free(bk_idem_t *s)
{
	free(s->p);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                  */

/* Payload of a snapshot, version 1, big-endian:
 *   version INT16 | producers INT32 | per producer, by increasing id:
 *     id INT64 | epoch INT16 | batches INT8 (0..5) | per batch, oldest first:
 *       first seq INT32 | last seq INT32 | base offset INT64 | last offset INT64
 * log/ wraps it with the offset and a CRC-32C. */
#define SNAP_VERSION	   1
#define SNAP_HDR	   6
#define SNAP_PRODUCER_HDR  11
#define SNAP_BATCH	   24
#define SNAP_PRODUCER_SIZE (SNAP_PRODUCER_HDR + BK_IDEM_BATCHES * SNAP_BATCH)

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return p + bytes;
}

static uint64_t get_be(const uint8_t **p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | (*p)[i];
	*p += bytes;
	return v;
}

tern_err_t bk_idem_encode(const bk_idem_t *s, uint8_t **buf, size_t *len)
{
	uint8_t *out, *w;

	if (s->n > INT32_MAX)
		return TERN_ERR__INVALID_ARG;
	out = malloc(SNAP_HDR + s->n * SNAP_PRODUCER_SIZE);
	if (!out)
		return TERN_ERR__NOMEM;
	w = put_be(out, SNAP_VERSION, 2);
	w = put_be(w, s->n, 4);
	for (size_t i = 0; i < s->n; i++) {
		const bk_idem_producer_t *p = &s->p[i];

		w = put_be(w, (uint64_t)p->pid, 8);
		w = put_be(w, (uint16_t)p->epoch, 2);
		w = put_be(w, (uint8_t)p->n, 1);
		for (int j = 0; j < p->n; j++) {
			const bk_idem_batch_t *b = &p->b[(p->head + j) % BK_IDEM_BATCHES];

			w = put_be(w, (uint32_t)b->first_seq, 4);
			w = put_be(w, (uint32_t)b->last_seq, 4);
			w = put_be(w, (uint64_t)b->base_offset, 8);
			w = put_be(w, (uint64_t)b->last_offset, 8);
		}
	}
	*buf = out;
	*len = (size_t)(w - out);
	return TERN_OK;
}

static tern_err_t bad_payload(char *why, size_t whylen, const char *what, size_t i)
{
	snprintf(why, whylen, "producer state: %s (producer entry %zu)", what, i);
	return TERN_ERR__CORRUPT;
}

tern_err_t bk_idem_decode(bk_idem_t *s, const uint8_t *buf, size_t len, int64_t offset, char *why,
			  size_t whylen)
{
	const uint8_t *r = buf, *end = buf + len;
	bk_idem_t t = {0};
	uint64_t n;

	if (len < SNAP_HDR)
		return bad_payload(why, whylen, "shorter than its header", 0);
	if (get_be(&r, 2) != SNAP_VERSION)
		return bad_payload(why, whylen, "unknown version", 0);
	n = get_be(&r, 4);
	/* Every entry takes at least its header: a bound before allocating. */
	if (n > (size_t)(end - r) / SNAP_PRODUCER_HDR)
		return bad_payload(why, whylen, "more producers than the bytes can hold", 0);
	t.p = calloc(n ? n : 1, sizeof *t.p);
	if (!t.p)
		return TERN_ERR__NOMEM;
	t.cap = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		bk_idem_producer_t *p = &t.p[i];
		int64_t prev_last = -1;

		if ((size_t)(end - r) < SNAP_PRODUCER_HDR)
			goto truncated;
		p->pid = (int64_t)get_be(&r, 8);
		p->epoch = (int16_t)get_be(&r, 2);
		p->n = (int)get_be(&r, 1);
		if (p->pid < 0 || (i > 0 && p->pid <= t.p[i - 1].pid) || p->epoch < 0 ||
		    p->n > BK_IDEM_BATCHES) {
			bk_idem_free(&t);
			return bad_payload(why, whylen, "bad producer id, epoch or batch count", i);
		}
		if ((size_t)(end - r) < (size_t)p->n * SNAP_BATCH)
			goto truncated;
		for (int j = 0; j < p->n; j++) {
			bk_idem_batch_t *b = &p->b[j];

			b->first_seq = (int32_t)get_be(&r, 4);
			b->last_seq = (int32_t)get_be(&r, 4);
			b->base_offset = (int64_t)get_be(&r, 8);
			b->last_offset = (int64_t)get_be(&r, 8);
			/* Batches in append order, all below the snapshot. */
			if (b->first_seq < 0 || b->last_seq < 0 || b->base_offset <= prev_last ||
			    b->last_offset < b->base_offset || b->last_offset >= offset) {
				bk_idem_free(&t);
				return bad_payload(why, whylen, "batch out of order or range", i);
			}
			prev_last = b->last_offset;
		}
		t.n++;
	}
	if (r != end) {
		bk_idem_free(&t);
		return bad_payload(why, whylen, "bytes after the last producer", n);
	}
	bk_idem_free(s);
	*s = t;
	return TERN_OK;
truncated:
	n = t.n;
	bk_idem_free(&t);
	return bad_payload(why, whylen, "cut short", (size_t)n);
}

/* Replaces s with the newest valid snapshot of l, deleting corrupt ones.
 * *from gets its offset, or the log start when there is none (s empty). */
static tern_err_t load_snapshot(bk_idem_t *s, log_t *l, const char *name, bk_idem_load_t *ld,
				int64_t *from)
{
	int64_t *offs = NULL;
	size_t n = 0;
	tern_err_t err;

	bk_idem_free(s);
	*from = log_start_offset(l);
	err = log_snapshot_list(l, &offs, &n);
	if (err) {
		/* Only the scan gets longer. */
		bk_log('W', "idem-snap", "%s: listing the producer-state snapshots: %s", name,
		       tern_strerror(err));
		return TERN_OK;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *payload = NULL;
		size_t len = 0;
		char why[512] = "";

		err = log_snapshot_read(l, offs[i], &payload, &len, why, sizeof why);
		if (!err)
			err = bk_idem_decode(s, payload, len, offs[i], why, sizeof why);
		free(payload);
		if (err == TERN_OK) {
			*from = offs[i];
			ld->snapshot_offset = offs[i];
			break;
		}
		if (err == TERN_ERR__NOMEM) {
			free(offs);
			return err;
		}
		bk_log('W', "idem-snap",
		       "%s: producer-state snapshot at %" PRId64 " not used, deleted: %s: %s", name,
		       offs[i], tern_strerror(err), why);
		ld->discarded++;
		err = log_snapshot_delete(l, offs[i]);
		if (err)
			bk_log('W', "idem-snap", "%s: deleting snapshot %" PRId64 ": %s", name,
			       offs[i], tern_strerror(err));
	}
	free(offs);
	return TERN_OK;
}

tern_err_t bk_idem_rebuild(bk_idem_t *s, log_t *l, const char *name, bk_idem_load_t *load,
			   char *errstr, size_t errlen)
{
	bk_idem_load_t ld = {.snapshot_offset = -1};
	int64_t from, off, end = log_end_offset(l);
	tern_err_t err;

	err = load_snapshot(s, l, name, &ld, &from);
	off = from;
	while (off < end && !err) {
		log_read_result_t rr;
		size_t pos = 0;

		err = log_read(l, off, 1 << 20, INT64_MAX, &rr, errstr, errlen);
		if (err)
			break;
		if (rr.len == 0) {
			free(rr.buf);
			break;
		}
		while (pos < rr.len && !err) {
			log_batch_hdr_t h;

			err = log_batch_hdr_parse(rr.data + pos, rr.len - pos, &h);
			if (err)
				break;
			ld.batches_scanned++;
			/* The first batch read may start below the snapshot, which
			 * already holds it. */
			if (h.base_offset >= from && h.producer_id >= 0 && h.base_sequence >= 0)
				err = bk_idem_record(s, &h, h.base_offset);
			pos += log_batch_size(&h);
		}
		off = rr.next_offset;
		free(rr.buf);
	}
	if (err && errstr && !errstr[0])
		snprintf(errstr, errlen, "%s: rebuilding producer state: %s", name,
			 tern_strerror(err));
	if (load)
		*load = ld;
	return err;
}

void bk_idem_roll(void *opaque, int64_t base)
{
	bk_part_t *p = opaque;
	uint8_t *buf = NULL;
	size_t len = 0;
	tern_err_t err;

	pthread_mutex_lock(&p->mu);
	err = bk_idem_encode(&p->idem, &buf, &len);
	pthread_mutex_unlock(&p->mu);
	if (!err)
		err = log_snapshot_write(p->log, base, buf, len);
	free(buf);
	/* Not fatal: the next open scans from an older snapshot or the start. */
	if (err)
		bk_log('W', "idem-snap",
		       "%s-%d: producer-state snapshot at %" PRId64 " not written: %s",
		       p->topic->name, p->index, base, tern_strerror(err));
}
