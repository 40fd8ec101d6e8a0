/* tests/fault/checker.c: the fault harness's checker (checker.h): an
 * append-only event history with interned values, and the figures computed
 * from it in three linear passes over the events once they are in time
 * order. */
#include "checker.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CHK_MAX_OFFSET	  ((int64_t)1 << 40)
#define CHK_MAX_PARTITION ((int32_t)1 << 23)

/* One interned value: its bytes at text + off, NUL-terminated. */
typedef struct chk_val {
	uint64_t off;
	uint32_t len;
	uint32_t hash;
} chk_val_t;

/* Invariants: ev[0..nev) are the events, nev <= cap; vals[0..nvals) the
 * distinct values, every one referenced by exactly one slot of slots (a
 * power of two of them, at most half in use), which holds id + 1 (0:
 * empty); text[0..ntext) holds their bytes. sorted: ev is in nondecreasing
 * t_ms order. */
struct chk_history {
	chk_event_t *ev;
	size_t nev, cap;
	chk_val_t *vals;
	uint32_t nvals;
	size_t capvals;
	char *text;
	size_t ntext, captext;
	uint32_t *slots;
	size_t nslots;
	bool sorted;
};

/* ------------------------------------------------------------------------ */
/* Hashing and growth                                                        */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, s + i, len - i);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	return mix(h);
}

/* Makes room for want elements of size sz in *p (capacity *cap). */
static bool grow(void **p, size_t *cap, size_t want, size_t sz)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (want <= *cap)
		return true;
	while (n < want)
		n *= 2;
	q = realloc(*p, n * sz);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

chk_history_t *chk_history_new(void)
{
	chk_history_t *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->nslots = 1024;
	h->slots = calloc(h->nslots, sizeof *h->slots);
	if (!h->slots) {
		free(h);
		return NULL;
	}
	h->sorted = true;
	return h;
}

void chk_history_free(chk_history_t *h)
{
	if (!h)
		return;
	free(h->ev);
	free(h->vals);
	free(h->text);
	free(h->slots);
	free(h);
}

static bool rehash(chk_history_t *h)
{
	size_t n = h->nslots * 2, mask = n - 1;
	uint32_t *s = calloc(n, sizeof *s);

	if (!s)
		return false;
	for (uint32_t id = 0; id < h->nvals; id++) {
		size_t i = h->vals[id].hash & mask;

		while (s[i])
			i = (i + 1) & mask;
		s[i] = id + 1;
	}
	free(h->slots);
	h->slots = s;
	h->nslots = n;
	return true;
}

/* The id of value (interned on first sight). */
static tern_err_t intern(chk_history_t *h, const char *value, size_t len, uint32_t *id)
{
	uint32_t h32;
	size_t mask, i;
	chk_val_t *v;

	if (len > UINT32_MAX || (!value && len))
		return TERN_ERR__INVALID_ARG;
	h32 = (uint32_t)hash_bytes(value, len);
	mask = h->nslots - 1;
	i = h32 & mask;
	/* Grown before the lookup, so that a failure changes nothing. */
	if ((size_t)(h->nvals + 1) * 2 > h->nslots) {
		if (!rehash(h))
			return TERN_ERR__NOMEM;
		mask = h->nslots - 1;
		i = h32 & mask;
	}
	for (; h->slots[i]; i = (i + 1) & mask) {
		v = &h->vals[h->slots[i] - 1];
		if (v->hash == h32 && v->len == len && memcmp(h->text + v->off, value, len) == 0) {
			*id = h->slots[i] - 1;
			return TERN_OK;
		}
	}
	if (h->nvals == UINT32_MAX - 1 ||
	    !grow((void **)&h->vals, &h->capvals, (size_t)h->nvals + 1, sizeof *h->vals) ||
	    !grow((void **)&h->text, &h->captext, h->ntext + len + 1, 1))
		return TERN_ERR__NOMEM;
	v = &h->vals[h->nvals];
	v->off = h->ntext;
	v->len = (uint32_t)len;
	v->hash = h32;
	if (len)
		memcpy(h->text + h->ntext, value, len);
	h->text[h->ntext + len] = '\0';
	h->ntext += len + 1;
	h->slots[i] = h->nvals + 1;
	*id = h->nvals++;
	return TERN_OK;
}

static tern_err_t append(chk_history_t *h, const chk_event_t *e)
{
	if (!grow((void **)&h->ev, &h->cap, h->nev + 1, sizeof *h->ev))
		return TERN_ERR__NOMEM;
	if (h->nev && e->t_ms < h->ev[h->nev - 1].t_ms)
		h->sorted = false;
	h->ev[h->nev++] = *e;
	return TERN_OK;
}

static bool valid_pos(int32_t partition, int64_t offset)
{
	return partition >= 0 && partition < CHK_MAX_PARTITION && offset >= 0 &&
	       offset < CHK_MAX_OFFSET;
}

/* An event carrying a value. */
static tern_err_t append_value(chk_history_t *h, chk_event_t *e, const char *value, size_t len)
{
	tern_err_t err = intern(h, value, len, &e->value);

	return err ? err : append(h, e);
}

tern_err_t chk_attempt(chk_history_t *h, int64_t t_ms, const char *value, size_t len)
{
	chk_event_t e = {.t_ms = t_ms, .kind = CHK_ATTEMPT, .partition = -1, .offset = -1};

	return append_value(h, &e, value, len);
}

tern_err_t chk_ack(chk_history_t *h, int64_t t_ms, int32_t partition, int64_t offset,
		   const char *value, size_t len)
{
	chk_event_t e = {.t_ms = t_ms, .kind = CHK_ACK, .partition = partition, .offset = offset};

	if (!valid_pos(partition, offset))
		return TERN_ERR__INVALID_ARG;
	return append_value(h, &e, value, len);
}

tern_err_t chk_fail(chk_history_t *h, int64_t t_ms, const char *value, size_t len, tern_err_t err)
{
	chk_event_t e = {
	    .t_ms = t_ms, .kind = CHK_FAIL, .partition = -1, .offset = -1, .arg = (int32_t)err};

	return append_value(h, &e, value, len);
}

tern_err_t chk_read(chk_history_t *h, int64_t t_ms, int32_t session, bool drain, int32_t partition,
		    int64_t offset, const char *value, size_t len)
{
	chk_event_t e = {.t_ms = t_ms,
			 .kind = CHK_READ,
			 .partition = partition,
			 .offset = offset,
			 .arg = session,
			 .drain = drain};

	if (!valid_pos(partition, offset) || session < 0)
		return TERN_ERR__INVALID_ARG;
	return append_value(h, &e, value, len);
}

tern_err_t chk_seek(chk_history_t *h, int64_t t_ms, int32_t session, int32_t partition,
		    int64_t offset)
{
	chk_event_t e = {.t_ms = t_ms,
			 .kind = CHK_SEEK,
			 .partition = partition,
			 .offset = offset < 0 ? -1 : offset,
			 .arg = session};

	if (!valid_pos(partition, offset < 0 ? 0 : offset) || session < 0)
		return TERN_ERR__INVALID_ARG;
	return append(h, &e);
}

tern_err_t chk_mark(chk_history_t *h, int64_t t_ms, chk_mark_t mark)
{
	chk_event_t e = {
	    .t_ms = t_ms, .kind = CHK_MARK, .partition = -1, .offset = -1, .arg = (int32_t)mark};

	if (mark < CHK_MARK_FAULT || mark > CHK_MARK_UNCLEAN)
		return TERN_ERR__INVALID_ARG;
	return append(h, &e);
}

size_t chk_nevents(const chk_history_t *h)
{
	return h->nev;
}

const chk_event_t *chk_event(const chk_history_t *h, size_t i)
{
	return i < h->nev ? &h->ev[i] : NULL;
}

const char *chk_value(const chk_history_t *h, uint32_t id, size_t *len)
{
	if (id >= h->nvals)
		return NULL;
	if (len)
		*len = h->vals[id].len;
	return h->text + h->vals[id].off;
}

void chk_forget(chk_history_t *h, size_t i)
{
	if (i < h->nev)
		h->ev[i].kind = CHK_NONE;
}

/* ------------------------------------------------------------------------ */
/* Sorting: a stable bottom-up merge sort by time                            */

static tern_err_t sort_events(chk_history_t *h)
{
	chk_event_t *a = h->ev, *b, *tmp;
	size_t n = h->nev;

	if (h->sorted)
		return TERN_OK;
	b = malloc(n * sizeof *b);
	if (!b)
		return TERN_ERR__NOMEM;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				b[k++] = a[j].t_ms < a[i].t_ms ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		tmp = a;
		a = b;
		b = tmp;
	}
	if (a != h->ev) { /* the sorted run ended in the scratch buffer */
		free(h->ev);
		h->ev = a;
	} else {
		free(b);
	}
	h->sorted = true;
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Maps keyed by a non-zero 64-bit key (open addressing, at most half full)  */

typedef struct slot {
	uint64_t key; /* 0: empty */
	int64_t val;
} slot_t;

typedef struct map {
	slot_t *s;
	size_t n, used;
} map_t;

static bool map_init(map_t *m)
{
	m->n = 1024;
	m->used = 0;
	m->s = calloc(m->n, sizeof *m->s);
	return m->s != NULL;
}

/* The slot of key, inserted with val when absent (*fresh says so); NULL
 * when out of memory. */
static slot_t *map_get(map_t *m, uint64_t key, int64_t val, bool *fresh)
{
	size_t mask, i;

	if ((m->used + 1) * 2 > m->n) {
		size_t n = m->n * 2;
		slot_t *s = calloc(n, sizeof *s);

		if (!s)
			return NULL;
		for (size_t j = 0; j < m->n; j++) {
			if (!m->s[j].key)
				continue;
			i = mix(m->s[j].key) & (n - 1);
			while (s[i].key)
				i = (i + 1) & (n - 1);
			s[i] = m->s[j];
		}
		free(m->s);
		m->s = s;
		m->n = n;
	}
	mask = m->n - 1;
	for (i = mix(key) & mask; m->s[i].key; i = (i + 1) & mask) {
		if (m->s[i].key == key) {
			*fresh = false;
			return &m->s[i];
		}
	}
	m->s[i].key = key;
	m->s[i].val = val;
	m->used++;
	*fresh = true;
	return &m->s[i];
}

static uint64_t pos_key(int32_t partition, int64_t offset)
{
	return ((uint64_t)partition << 40 | (uint64_t)offset) + 1;
}

static uint64_t sess_key(int32_t session, int32_t partition)
{
	return ((uint64_t)(uint32_t)session << 32 | (uint32_t)partition) + 1;
}

/* ------------------------------------------------------------------------ */
/* Analysis                                                                  */

enum {
	V_ACKED = 1 << 0,
	V_READ = 1 << 1, /* read_* holds its first read position */
	V_DRAINED = 1 << 2,
	V_DUP = 1 << 3,		/* read at two positions (counted) */
	V_READ_AT_ACK = 1 << 4, /* read at its acknowledged position */
	V_READ_ELSE = 1 << 5,	/* read at another position */
};

/* What the passes learn about one value. */
typedef struct vstate {
	int64_t ack_off, read_off;
	int32_t ack_part, read_part;
	uint8_t flags;
} vstate_t;

/* Positions: val = value id + 1, or -(value id + 1) once conflicted. */
#define POS_CONFLICTED(v) ((v) < 0)

/* The sorted times of one mark kind. */
typedef struct times {
	int64_t *t;
	size_t n, cap;
} times_t;

static bool times_add(times_t *a, int64_t t)
{
	if (!grow((void **)&a->t, &a->cap, a->n + 1, sizeof *a->t))
		return false;
	a->t[a->n++] = t;
	return true;
}

/* The first time in [t, limit) (limit < 0: no limit), or -1. */
static int64_t times_next(const times_t *a, int64_t t, int64_t limit)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && (limit < 0 || a->t[lo] < limit) ? a->t[lo] : -1;
}

static void example(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the first example only. */
static void example(char *dst, const char *fmt, ...)
{
	va_list ap;

	if (dst[0])
		return;
	va_start(ap, fmt);
	vsnprintf(dst, CHK_EXAMPLE, fmt, ap);
	va_end(ap);
}

/* Marks position (partition, offset) conflicted (inserting it for value
 * vid when absent); counts it once. */
static bool conflict(const chk_history_t *h, map_t *pos, chk_report_t *r, int32_t partition,
		     int64_t offset, uint32_t vid, const char *why)
{
	bool fresh;
	slot_t *s = map_get(pos, pos_key(partition, offset), (int64_t)vid + 1, &fresh);

	if (!s)
		return false;
	if (POS_CONFLICTED(s->val))
		return true;
	s->val = -s->val;
	r->inconsistent_offsets++;
	example(r->ex_inconsistent, "%" PRId32 "/%" PRId64 ": %s ('%.60s')", partition, offset, why,
		h->vals[vid].len ? h->text + h->vals[vid].off : "");
	return true;
}

/* A position seen with value vid (by an ack or a read). */
static bool seen_at(const chk_history_t *h, map_t *pos, chk_report_t *r, int32_t partition,
		    int64_t offset, uint32_t vid)
{
	bool fresh;
	slot_t *s = map_get(pos, pos_key(partition, offset), (int64_t)vid + 1, &fresh);
	int64_t other;

	if (!s)
		return false;
	other = POS_CONFLICTED(s->val) ? -s->val - 1 : s->val - 1;
	if (fresh || other == vid || POS_CONFLICTED(s->val))
		return true;
	s->val = -s->val;
	r->inconsistent_offsets++;
	example(r->ex_inconsistent, "%" PRId32 "/%" PRId64 ": '%.60s' and '%.60s'", partition,
		offset, h->text + h->vals[other].off, h->text + h->vals[vid].off);
	return true;
}

/* The outstanding-attempt state of the unavailability window. */
typedef struct window {
	long pending;
	int64_t open_since; /* -1 iff pending == 0 */
} window_t;

static void window_close(chk_report_t *r, window_t *w, int64_t t)
{
	if (w->open_since < 0)
		return;
	if (t - w->open_since > r->max_unavailable_ms || r->max_unavailable_start_ms < 0) {
		r->max_unavailable_ms = t - w->open_since;
		r->max_unavailable_start_ms = w->open_since;
	}
	w->open_since = -1;
}

tern_err_t chk_analyse(chk_history_t *h, chk_report_t *out)
{
	times_t marks[CHK_MARK_UNCLEAN + 1] = {{0}};
	vstate_t *vs = NULL;
	map_t pos = {0}, sess = {0};
	window_t win = {0, -1};
	chk_report_t *r = NULL;
	tern_err_t err = TERN_ERR__NOMEM;
	bool fresh;

	if (sort_events(h))
		goto out;
	r = calloc(1, sizeof *r);
	vs = calloc(h->nvals ? h->nvals : 1, sizeof *vs);
	if (!r || !vs || !map_init(&pos) || !map_init(&sess))
		goto out;
	r->max_unavailable_start_ms = -1;
	r->max_elect_ms = r->max_shrink_ms = r->max_expand_ms = -1;

	/* Pass 1, in time order: counts, positions, duplicates, monotonicity,
	 * the unavailability window, the marks. */
	for (size_t i = 0; i < h->nev; i++) {
		const chk_event_t *e = &h->ev[i];
		vstate_t *v = &vs[e->value];
		slot_t *s;

		if (e->kind == CHK_NONE)
			continue;
		if (!r->events)
			r->t0_ms = e->t_ms;
		r->t1_ms = e->t_ms;
		r->events++;
		switch (e->kind) {
		case CHK_ATTEMPT:
			r->attempted++;
			if (win.pending++ == 0)
				win.open_since = e->t_ms;
			break;
		case CHK_ACK:
			window_close(r, &win, e->t_ms);
			if (win.pending > 0)
				win.pending--;
			if (win.pending > 0)
				win.open_since = e->t_ms;
			if (!seen_at(h, &pos, r, e->partition, e->offset, e->value))
				goto out;
			if (!(v->flags & V_ACKED)) {
				v->flags |= V_ACKED;
				v->ack_part = e->partition;
				v->ack_off = e->offset;
				r->acked++;
			} else if (v->ack_part != e->partition || v->ack_off != e->offset) {
				if (!conflict(h, &pos, r, e->partition, e->offset, e->value,
					      "acknowledged again elsewhere"))
					goto out;
			}
			break;
		case CHK_FAIL:
			r->failed++;
			if (win.pending > 0 && --win.pending == 0)
				window_close(r, &win, e->t_ms);
			break;
		case CHK_READ:
			if (e->drain) {
				r->drain_reads++;
				v->flags |= V_DRAINED;
			} else {
				r->reads++;
			}
			if (!seen_at(h, &pos, r, e->partition, e->offset, e->value))
				goto out;
			if (!(v->flags & V_READ)) {
				v->flags |= V_READ;
				v->read_part = e->partition;
				v->read_off = e->offset;
			} else if (!(v->flags & V_DUP) &&
				   (v->read_part != e->partition || v->read_off != e->offset)) {
				v->flags |= V_DUP;
				r->duplicates++;
				example(r->ex_duplicate,
					"'%.60s' at %" PRId32 "/%" PRId64 " and %" PRId32
					"/%" PRId64,
					h->text + h->vals[e->value].off, v->read_part, v->read_off,
					e->partition, e->offset);
			}
			s = map_get(&sess, sess_key(e->arg, e->partition), -1, &fresh);
			if (!s)
				goto out;
			if (!fresh && e->offset <= s->val) {
				r->nonmonotonic++;
				example(r->ex_nonmonotonic,
					"session %" PRId32 " read %" PRId32 "/%" PRId64
					" ('%.60s') after offset %" PRId64,
					e->arg, e->partition, e->offset,
					h->text + h->vals[e->value].off, s->val);
			} else {
				s->val = e->offset;
			}
			break;
		case CHK_SEEK:
			s = map_get(&sess, sess_key(e->arg, e->partition), -1, &fresh);
			if (!s)
				goto out;
			s->val = e->offset < 0 ? -1 : e->offset - 1;
			break;
		case CHK_MARK:
			if (e->arg == CHK_MARK_UNCLEAN)
				r->unclean_elections++;
			else if (e->arg == CHK_MARK_LEADER)
				r->leader_changes++;
			else if (e->arg == CHK_MARK_ISR_SHRINK)
				r->isr_shrinks++;
			else if (e->arg == CHK_MARK_ISR_EXPAND)
				r->isr_expands++;
			if (!times_add(&marks[e->arg], e->t_ms))
				goto out;
			break;
		default:
			break;
		}
	}
	window_close(r, &win, r->t1_ms);

	/* Pass 2: reads against the acknowledged positions (a read may come
	 * before its acknowledgement's callback). */
	for (size_t i = 0; i < h->nev; i++) {
		const chk_event_t *e = &h->ev[i];
		vstate_t *v = &vs[e->value];

		if (e->kind != CHK_READ || !(v->flags & V_ACKED))
			continue;
		if (e->partition == v->ack_part && e->offset == v->ack_off)
			v->flags |= V_READ_AT_ACK;
		else
			v->flags |= V_READ_ELSE;
	}

	/* Pass 3, per value: lost, acknowledged at the wrong offset. */
	for (uint32_t id = 0; id < h->nvals; id++) {
		const vstate_t *v = &vs[id];

		if (!(v->flags & V_ACKED))
			continue;
		if (!(v->flags & V_DRAINED)) {
			r->lost++;
			example(r->ex_lost, "'%.60s' acknowledged at %" PRId32 "/%" PRId64,
				h->text + h->vals[id].off, v->ack_part, v->ack_off);
		}
		if ((v->flags & V_READ_ELSE) && !(v->flags & V_READ_AT_ACK) &&
		    !conflict(h, &pos, r, v->ack_part, v->ack_off, id,
			      "acknowledged here, read only elsewhere"))
			goto out;
	}

	/* The faults' times. */
	for (size_t i = 0; i < marks[CHK_MARK_FAULT].n; i++) {
		int64_t t = marks[CHK_MARK_FAULT].t[i];
		int64_t next =
		    i + 1 < marks[CHK_MARK_FAULT].n ? marks[CHK_MARK_FAULT].t[i + 1] : -1;
		int64_t heal = times_next(&marks[CHK_MARK_HEAL], t, next);
		int64_t el = times_next(&marks[CHK_MARK_LEADER], t, next);
		int64_t sh = times_next(&marks[CHK_MARK_ISR_SHRINK], t, next);
		int64_t ex = times_next(&marks[CHK_MARK_ISR_EXPAND], heal >= 0 ? heal : t, next);
		chk_fault_t f = {.t_ms = t,
				 .heal_ms = heal,
				 .elect_ms = el >= 0 ? el - t : -1,
				 .shrink_ms = sh >= 0 ? sh - t : -1,
				 .expand_ms = ex >= 0 ? ex - (heal >= 0 ? heal : t) : -1};

		if (r->nfaults < CHK_MAX_FAULTS)
			r->faults[r->nfaults] = f;
		r->nfaults++;
		if (f.elect_ms > r->max_elect_ms)
			r->max_elect_ms = f.elect_ms;
		if (f.shrink_ms > r->max_shrink_ms)
			r->max_shrink_ms = f.shrink_ms;
		if (f.expand_ms > r->max_expand_ms)
			r->max_expand_ms = f.expand_ms;
	}
	*out = *r;
	err = TERN_OK;
out:
	for (size_t k = 0; k <= CHK_MARK_UNCLEAN; k++)
		free(marks[k].t);
	free(pos.s);
	free(sess.s);
	free(vs);
	free(r);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Verdict and formatting                                                    */

chk_criteria_t chk_criteria_strict(void)
{
	return (chk_criteria_t){.lost = true,
				.duplicates = true,
				.inconsistent_offsets = true,
				.nonmonotonic = true,
				.unclean_elections = true,
				.min_acked = 1};
}

/* Appends to buf (snprintf semantics, *used may exceed len). */
static void put(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

bool chk_passes(const chk_report_t *r, const chk_criteria_t *c, char *why, size_t whylen)
{
	size_t used = 0;
	bool ok = true;

	if (why && whylen)
		why[0] = '\0';
#define CHK_FIGURE(flag, field, ex)                                                                \
	do {                                                                                       \
		if (c->flag && r->field) {                                                         \
			ok = false;                                                                \
			put(why, why ? whylen : 0, &used, "%s%s %ld (first: %s)",                  \
			    used ? "; " : "", #field, r->field, (ex)[0] ? (ex) : "-");             \
		}                                                                                  \
	} while (0)
	CHK_FIGURE(lost, lost, r->ex_lost);
	CHK_FIGURE(duplicates, duplicates, r->ex_duplicate);
	CHK_FIGURE(inconsistent_offsets, inconsistent_offsets, r->ex_inconsistent);
	CHK_FIGURE(nonmonotonic, nonmonotonic, r->ex_nonmonotonic);
	CHK_FIGURE(unclean_elections, unclean_elections, "");
#undef CHK_FIGURE
	if (r->acked < c->min_acked) {
		ok = false;
		put(why, why ? whylen : 0, &used, "%sacked %ld < %ld", used ? "; " : "", r->acked,
		    c->min_acked);
	}
	return ok;
}

/* ms as seconds with three decimals ("-1" for -1). */
static const char *secs(char *b, size_t n, int64_t ms)
{
	if (ms < 0)
		snprintf(b, n, "-1");
	else
		snprintf(b, n, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
	return b;
}

int chk_json(const chk_report_t *r, const chk_criteria_t *c, char *buf, size_t len)
{
	char a[32], b[32], d[32], e[32], f[32];
	size_t used = 0;

	if (buf && len)
		buf[0] = '\0';
	put(buf, len, &used,
	    "{\"acked\":%ld,\"lost\":%ld,\"duplicates\":%ld,\"inconsistent_offsets\":%ld,"
	    "\"nonmonotonic\":%ld,\"unclean_elections\":%ld,\"max_unavailable_s\":%s,"
	    "\"max_unavailable_start_s\":%s,\"time_to_elect_s\":%s,\"time_to_shrink_s\":%s,"
	    "\"time_to_expand_s\":%s,\"faults\":%d,\"attempted\":%ld,\"failed\":%ld,"
	    "\"reads\":%ld,\"drain_reads\":%ld,\"events\":%ld,\"leader_changes\":%ld,"
	    "\"isr_shrinks\":%ld,\"isr_expands\":%ld",
	    r->acked, r->lost, r->duplicates, r->inconsistent_offsets, r->nonmonotonic,
	    r->unclean_elections, secs(a, sizeof a, r->max_unavailable_ms),
	    secs(b, sizeof b,
		 r->max_unavailable_start_ms < 0 ? -1 : r->max_unavailable_start_ms - r->t0_ms),
	    secs(d, sizeof d, r->max_elect_ms), secs(e, sizeof e, r->max_shrink_ms),
	    secs(f, sizeof f, r->max_expand_ms), r->nfaults, r->attempted, r->failed, r->reads,
	    r->drain_reads, r->events, r->leader_changes, r->isr_shrinks, r->isr_expands);
	if (c)
		put(buf, len, &used, ",\"pass\":%s", chk_passes(r, c, NULL, 0) ? "true" : "false");
	put(buf, len, &used, "}");
	return (int)used;
}

int chk_summary(const chk_report_t *r, char *buf, size_t len)
{
	char a[32], b[32], d[32], e[32];
	size_t used = 0;

	if (buf && len)
		buf[0] = '\0';
	put(buf, len, &used,
	    "checker: %ld events over %s s: %ld attempted, %ld acknowledged, %ld failed, "
	    "%ld reads, %ld drain reads\n",
	    r->events, secs(a, sizeof a, r->t1_ms - r->t0_ms), r->attempted, r->acked, r->failed,
	    r->reads, r->drain_reads);
	put(buf, len, &used,
	    "checker: lost %ld, duplicates %ld, inconsistent offsets %ld, non-monotonic reads "
	    "%ld, unclean elections %ld\n",
	    r->lost, r->duplicates, r->inconsistent_offsets, r->nonmonotonic, r->unclean_elections);
	put(buf, len, &used, "checker: leader changes %ld, ISR shrinks %ld, ISR expansions %ld\n",
	    r->leader_changes, r->isr_shrinks, r->isr_expands);
	put(buf, len, &used, "checker: longest unavailability %s s from t+%s s\n",
	    secs(a, sizeof a, r->max_unavailable_ms),
	    secs(b, sizeof b,
		 r->max_unavailable_start_ms < 0 ? -1 : r->max_unavailable_start_ms - r->t0_ms));
	for (int i = 0; i < r->nfaults && i < CHK_MAX_FAULTS; i++) {
		const chk_fault_t *ft = &r->faults[i];

		put(buf, len, &used,
		    "checker: fault %d at t+%s s: elect %s s, shrink %s s, expand %s s\n", i + 1,
		    secs(a, sizeof a, ft->t_ms - r->t0_ms), secs(b, sizeof b, ft->elect_ms),
		    secs(d, sizeof d, ft->shrink_ms), secs(e, sizeof e, ft->expand_ms));
	}
	if (r->nfaults > CHK_MAX_FAULTS)
		put(buf, len, &used, "checker: (%d faults more)\n", r->nfaults - CHK_MAX_FAULTS);
	if (r->ex_lost[0])
		put(buf, len, &used, "checker: first lost: %s\n", r->ex_lost);
	if (r->ex_duplicate[0])
		put(buf, len, &used, "checker: first duplicate: %s\n", r->ex_duplicate);
	if (r->ex_inconsistent[0])
		put(buf, len, &used, "checker: first inconsistent offset: %s\n",
		    r->ex_inconsistent);
	if (r->ex_nonmonotonic[0])
		put(buf, len, &used, "checker: first non-monotonic read: %s\n", r->ex_nonmonotonic);
	return (int)used;
}

int chk_print(const chk_report_t *r, const chk_criteria_t *c, FILE *f)
{
	int n = chk_summary(r, NULL, 0);
	char *buf = malloc((size_t)n + 1), line[1024];
	int rc = -1;

	if (!buf)
		return -1;
	chk_summary(r, buf, (size_t)n + 1);
	chk_json(r, c, line, sizeof line);
	if (fputs(buf, f) >= 0 && fprintf(f, "%s\n", line) >= 0)
		rc = 0;
	free(buf);
	return rc;
}
