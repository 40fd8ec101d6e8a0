/* log/epoch_cache.c: the leader-epoch cache (epoch -> start offset) of one
 * partition, with the semantics of Kafka's LeaderEpochFileCache, and its
 * leader-epoch-checkpoint file.
 *
 * Not thread-safe: the owner of the cache (the partition log) serialises
 * every call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/checkpoint_int.h"
#include "log/log.h"

/* "<epoch> <start offset>\n" and the NUL: 10 + 1 + 19 + 2 bytes. */
#define EPOCH_LINE_MAX 32

void log_epoch_cache_init(log_epoch_cache_t *c)
{
	c->e = NULL;
	c->n = 0;
	c->cap = 0;
}

void log_epoch_cache_free(log_epoch_cache_t *c)
{
	free(c->e);
	log_epoch_cache_init(c);
}

static bool reserve(log_epoch_cache_t *c, size_t want)
{
	log_epoch_entry_t *e;
	size_t cap;

	if (want <= c->cap)
		return true;
	cap = c->cap > 0 ? c->cap * 2 : 8;
	if (cap < want)
		cap = want;
	e = reallocarray(c->e, cap, sizeof *e);
	if (!e)
		return false;
	c->e = e;
	c->cap = cap;
	return true;
}

static const log_epoch_entry_t *latest(const log_epoch_cache_t *c)
{
	return c->n > 0 ? &c->e[c->n - 1] : NULL;
}

/* Kafka's assign(), case by case:
 *  - a negative epoch or offset: Kafka throws IllegalArgumentException.
 *    Such values reach us from batches on disk or from a peer (epoch -1 is
 *    "no epoch"), which are not bugs, so they are ignored instead;
 *  - the latest epoch again at the same or a later offset: ignored. This is
 *    the common case, every later batch of the current epoch;
 *  - anything else is entered, after removing from the end every entry that
 *    conflicts with it: an epoch >= epoch or a start offset >= start_offset.
 *    So the latest epoch at an earlier offset moves its start down, an older
 *    epoch truncates every later one (Kafka's test
 *    shouldEnforceMonotonicallyIncreasingEpochs), and a new epoch at the
 *    offset where the previous one started replaces that empty epoch.
 *    The conflicting entries form a suffix because epochs and offsets both
 *    increase, so popping from the end finds them all. */
bool log_epoch_cache_assign(log_epoch_cache_t *c, int32_t epoch, int64_t start_offset)
{
	const log_epoch_entry_t *last = latest(c);

	if (epoch < 0 || start_offset < 0)
		return false;
	if (last && last->epoch == epoch && start_offset >= last->start_offset)
		return false;
	while (c->n > 0 &&
	       (c->e[c->n - 1].epoch >= epoch || c->e[c->n - 1].start_offset >= start_offset))
		c->n--;
	/* Only a cache that removed nothing grows. The signature leaves no way
	 * to report a failed allocation, and dropping the epoch silently would
	 * later truncate committed data, so running out of memory here stops
	 * the process. */
	if (!reserve(c, c->n + 1))
		abort();
	c->e[c->n].epoch = epoch;
	c->e[c->n].start_offset = start_offset;
	c->n++;
	return true;
}

int32_t log_epoch_cache_latest(const log_epoch_cache_t *c)
{
	const log_epoch_entry_t *last = latest(c);

	return last ? last->epoch : LOG_UNDEFINED_EPOCH;
}

/* Index of the first entry whose epoch is > epoch (c->n when none). */
static size_t first_after(const log_epoch_cache_t *c, int32_t epoch)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->e[mid].epoch <= epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Kafka's endOffsetFor(), in its order:
 *  - UNDEFINED_EPOCH asked (a bootstrapping follower): undefined;
 *  - the latest epoch: (epoch, leo), the epoch still being written;
 *  - no entry newer than epoch (empty cache, or epoch past the latest):
 *    undefined;
 *  - no entry at or below epoch (the log start moved past it): (epoch, start
 *    of the first entry), so that the follower truncates to where this log
 *    begins; note that the requested epoch is echoed, not the first one;
 *  - otherwise the largest epoch <= epoch, ending where the next one starts.
 *    When epoch itself was never ours (KIP-279), that is our largest epoch
 *    below it. */
void log_epoch_cache_end_offset(const log_epoch_cache_t *c, int32_t epoch, int64_t leo,
				int32_t *epoch_out, int64_t *end_out)
{
	size_t next;

	if (epoch == LOG_UNDEFINED_EPOCH)
		goto undefined;
	if (c->n > 0 && epoch == latest(c)->epoch) {
		*epoch_out = epoch;
		*end_out = leo;
		return;
	}
	next = first_after(c, epoch);
	if (next == c->n)
		goto undefined;
	*epoch_out = next == 0 ? epoch : c->e[next - 1].epoch;
	*end_out = c->e[next].start_offset;
	return;

undefined:
	*epoch_out = LOG_UNDEFINED_EPOCH;
	*end_out = LOG_UNDEFINED_OFFSET;
}

/* Kafka's truncateFromEnd(): a negative end_offset (UNDEFINED) leaves the
 * cache alone. */
bool log_epoch_cache_truncate_from_end(log_epoch_cache_t *c, int64_t end_offset)
{
	size_t n = c->n;

	if (end_offset < 0)
		return false;
	while (c->n > 0 && c->e[c->n - 1].start_offset >= end_offset)
		c->n--;
	return c->n != n;
}

/* Kafka's truncateFromStart(): entries that start at or before start_offset
 * go, except the last of them, which now starts at start_offset since its
 * epoch still covers the new log start. An entry starting exactly at
 * start_offset therefore stays as it was. */
bool log_epoch_cache_truncate_from_start(log_epoch_cache_t *c, int64_t start_offset)
{
	size_t k = 0;
	bool changed;

	while (k < c->n && c->e[k].start_offset <= start_offset)
		k++;
	if (k == 0)
		return false;
	changed = k > 1 || c->e[0].start_offset != start_offset;
	memmove(c->e, c->e + (k - 1), (c->n - (k - 1)) * sizeof *c->e);
	c->n -= k - 1;
	c->e[0].start_offset = start_offset;
	return changed;
}

static int fmt_epoch_entry(const void *opaque, size_t i, char *buf, size_t cap)
{
	const log_epoch_entry_t *e = (const log_epoch_entry_t *)opaque + i;

	return snprintf(buf, cap, "%d %lld\n", (int)e->epoch, (long long)e->start_offset);
}

tern_err_t log_epoch_cache_write(const log_epoch_cache_t *c, const char *path)
{
	return log__ckpt_write(path, c->n, EPOCH_LINE_MAX, fmt_epoch_entry, c->e);
}

/* Stricter than Kafka, which accepts any order and lets assign() sort it
 * out: a file in the wrong order was not written by a cache, so it is
 * corrupt. Equal start offsets are accepted, and the entries go through
 * assign() as Kafka loads them, which keeps only the last epoch of such a
 * run. */
tern_err_t log_epoch_cache_read(log_epoch_cache_t *c, const char *path, char *errstr, size_t errlen)
{
	log__ckpt_text_t t;
	log__ckpt_span_t f[2];
	log_epoch_cache_t tmp;
	const char *line;
	size_t len;
	int64_t epoch, off, prev_epoch = -1, prev_off = -1;
	tern_err_t err;

	log_epoch_cache_init(&tmp);
	err = log__ckpt_load(path, &t, errstr, errlen);
	if (err != TERN_OK)
		return err;
	/* Sized for every line up front, so that assign() never allocates. */
	if (!reserve(&tmp, t.n)) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	while (log__ckpt_next(&t, &line, &len)) {
		const char *why = NULL;

		if (!log__ckpt_split(line, len, f, 2))
			why = "expected '<epoch> <start offset>'";
		else if (!log__ckpt_int(f[0].s, f[0].len, 0, INT32_MAX, &epoch))
			why = "invalid epoch";
		else if (!log__ckpt_int(f[1].s, f[1].len, 0, INT64_MAX, &off))
			why = "invalid start offset";
		else if (epoch <= prev_epoch)
			why = "epochs do not increase";
		else if (off < prev_off)
			why = "start offsets decrease";
		if (why) {
			err = log__ckpt_bad_line(&t, line, len, why, errstr, errlen);
			goto out;
		}
		log_epoch_cache_assign(&tmp, (int32_t)epoch, off);
		prev_epoch = epoch;
		prev_off = off;
	}
	log_epoch_cache_free(c);
	*c = tmp;
	log_epoch_cache_init(&tmp);
out:
	log_epoch_cache_free(&tmp);
	log__ckpt_unload(&t);
	return err;
}
