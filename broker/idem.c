/* broker/idem.c: the idempotent producer's state on one partition
 * (KAFKA-REFERENCE.md §4): per producer id its epoch and the sequence
 * ranges and offsets of its last BK_IDEM_BATCHES batches, checked before
 * every append and rebuilt from the log's batch headers when a log opens. */
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

void bk_idem_free(bk_idem_t *s)
{
	free(s->p);
	memset(s, 0, sizeof *s);
}

tern_err_t bk_idem_rebuild(bk_idem_t *s, log_t *l, char *errstr, size_t errlen)
{
	int64_t off = log_start_offset(l), end = log_end_offset(l);
	tern_err_t err = TERN_OK;

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
			if (h.producer_id >= 0 && h.base_sequence >= 0)
				err = bk_idem_record(s, &h, h.base_offset);
			pos += log_batch_size(&h);
		}
		off = rr.next_offset;
		free(rr.buf);
	}
	if (err && errstr && !errstr[0])
		snprintf(errstr, errlen, "rebuilding producer state: %s", tern_strerror(err));
	return err;
}
