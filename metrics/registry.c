/* The metrics registry: families, series, lock-free updates, and rendering
 * in the Prometheus text exposition format 0.0.4. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

const double metrics_default_buckets[] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
const size_t metrics_default_nbuckets =
    sizeof metrics_default_buckets / sizeof metrics_default_buckets[0];

/* One series of a family. The public series types are this struct under
 * other names (each starts with it), so that the compiler keeps a counter
 * from being passed where a histogram is wanted.
 *
 * Immutable after creation except the atomics and the gauge function;
 * fam, hnext, prev and next change only under the registry lock. */
typedef struct series {
	struct metrics_family *fam;
	struct series *hnext;	    /* hash chain of fam */
	struct series *prev, *next; /* fam's series in creation order */
	uint64_t hash;
	char **values;	    /* fam->nlabels label values */
	char *labels;	    /* `a="x",b="y"`, escaped; "" without labels */
	_Atomic uint64_t v; /* counter value, or the bits of a gauge's double */
	/* Gauge function (under the registry lock). */
	double (*fn)(void *arg);
	void *fn_arg;
	/* Histogram: the bits of the double sum, and fam->nbounds + 1
	 * non-cumulative bucket counts, the last one +Inf. */
	_Atomic uint64_t sum;
	_Atomic uint64_t buckets[];
} series_t;

struct metrics_counter {
	series_t s;
};
struct metrics_gauge {
	series_t s;
};
struct metrics_histogram {
	series_t s;
};

/* One metric name. Invariants: count series are in the hash table (hcap a
 * power of two, or 0 with no table) and in the list head..tail; no two
 * series have equal values. All fields but the series change never after
 * registration. */
struct metrics_family {
	struct metrics_registry *reg;
	struct metrics_family *next;
	enum kind kind;
	char *name, *help;
	size_t nlabels;
	char **label_names;
	size_t nbounds;
	double *bounds;
	series_t **htab;
	size_t hcap, count;
	series_t *head, *tail;
};

typedef struct hook {
	metrics_hook_fn fn;
	void *arg;
} hook_t;

/* Lock order: scrape_mu before mu. scrape_mu serialises renderings and
 * guards the hooks (held while they run, so that a removed hook is known to
 * be done); mu guards the families and their series lists. */
struct metrics_registry {
	pthread_mutex_t scrape_mu;
	hook_t *hooks;
	size_t nhooks;
	pthread_mutex_t mu;
	struct metrics_family *head, *tail;
};

/* ------------------------------------------------------------------------ */
/* Buffer                                                                     */

/* Appends while ok; after the first failure only records it. */
typedef struct out {
	metrics_buf_t *b;
	bool failed;
} out_t;

static bool buf_reserve(metrics_buf_t *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (more > SIZE_MAX - b->len - 1)
		return false;
	need = b->len + more + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

static void out_mem(out_t *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (!buf_reserve(o->b, n)) {
		o->failed = true;
		return;
	}
	memcpy(o->b->data + o->b->len, s, n);
	o->b->len += n;
	o->b->data[o->b->len] = '\0';
}

static void out_str(out_t *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

void metrics_buf_free(metrics_buf_t *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Appends s escaped for a label value (quote too) or for HELP text. */
static void out_escaped(out_t *o, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = NULL;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (*s == '"' && quote)
			rep = "\\\"";
		if (!rep)
			continue;
		out_mem(o, run, (size_t)(s - run));
		out_str(o, rep);
		run = s + 1;
	}
	out_str(o, run);
}

/* The shortest %g form that reads back as d; Prometheus' spellings of the
 * infinities and NaN; integers below 2^53 without an exponent. */
static void format_double(double d, char *buf, size_t len)
{
	if (isnan(d)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, len, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (d == trunc(d) && fabs(d) < 9007199254740992.0) {
		snprintf(buf, len, "%" PRId64, (int64_t)d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

/* ------------------------------------------------------------------------ */
/* Atomics on doubles                                                         */

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static void atomic_add_double(_Atomic uint64_t *a, double delta)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + delta),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* ------------------------------------------------------------------------ */
/* Registry                                                                   */

tern_err_t metrics_registry_new(metrics_registry_t **out)
{
	metrics_registry_t *r = calloc(1, sizeof *r);

	if (!r)
		return TERN_ERR__NOMEM;
	pthread_mutex_init(&r->scrape_mu, NULL);
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return TERN_OK;
}

static void series_free(series_t *s)
{
	size_t i;

	if (!s)
		return;
	if (s->values)
		for (i = 0; i < s->fam->nlabels; i++)
			free(s->values[i]);
	free(s->values);
	free(s->labels);
	free(s);
}

static void family_free(struct metrics_family *f)
{
	series_t *s, *next;
	size_t i;

	if (!f)
		return;
	for (s = f->head; s; s = next) {
		next = s->next;
		series_free(s);
	}
	if (f->label_names)
		for (i = 0; i < f->nlabels; i++)
			free(f->label_names[i]);
	free(f->label_names);
	free(f->bounds);
	free(f->htab);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_registry_free(metrics_registry_t *r)
{
	struct metrics_family *f, *next;

	if (!r)
		return;
	for (f = r->head; f; f = next) {
		next = f->next;
		family_free(f);
	}
	free(r->hooks);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->scrape_mu);
	free(r);
}

tern_err_t metrics_registry_add_hook(metrics_registry_t *r, metrics_hook_fn fn, void *arg)
{
	tern_err_t err = TERN_OK;
	hook_t *h;

	if (!fn)
		return TERN_ERR__INVALID_ARG;
	pthread_mutex_lock(&r->scrape_mu);
	h = realloc(r->hooks, (r->nhooks + 1) * sizeof *h);
	if (!h) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	h[r->nhooks++] = (hook_t){fn, arg};
	r->hooks = h;
out:
	pthread_mutex_unlock(&r->scrape_mu);
	return err;
}

tern_err_t metrics_registry_remove_hook(metrics_registry_t *r, metrics_hook_fn fn, void *arg)
{
	tern_err_t err = TERN_ERR__INVALID_ARG;
	size_t i;

	pthread_mutex_lock(&r->scrape_mu);
	for (i = 0; i < r->nhooks; i++) {
		if (r->hooks[i].fn == fn && r->hooks[i].arg == arg) {
			memmove(&r->hooks[i], &r->hooks[i + 1],
				(r->nhooks - i - 1) * sizeof r->hooks[0]);
			r->nhooks--;
			err = TERN_OK;
			break;
		}
	}
	pthread_mutex_unlock(&r->scrape_mu);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Families                                                                   */

static bool valid_name(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (colon && c == ':') || (p != s && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static size_t count_labels(const char *const *labels)
{
	size_t n = 0;

	if (labels)
		while (labels[n])
			n++;
	return n;
}

/* Whether the arguments name family f exactly. */
static bool family_same(const struct metrics_family *f, enum kind kind, const char *const *labels,
			size_t nlabels, const double *bounds, size_t nbounds)
{
	size_t i;

	if (f->kind != kind || f->nlabels != nlabels || f->nbounds != nbounds)
		return false;
	for (i = 0; i < nlabels; i++)
		if (strcmp(f->label_names[i], labels[i]) != 0)
			return false;
	for (i = 0; i < nbounds; i++)
		if (f->bounds[i] != bounds[i])
			return false;
	return true;
}

static tern_err_t family_register(metrics_registry_t *r, enum kind kind, const char *name,
				  const char *help, const char *const *labels, const double *bounds,
				  size_t nbounds, metrics_family_t **out)
{
	struct metrics_family *f = NULL, *it;
	size_t nlabels = count_labels(labels), i, j;
	tern_err_t err = TERN_ERR__INVALID_ARG;
	bool locked = false;

	if (!r || !valid_name(name, true) || nlabels > METRICS_MAX_LABELS)
		goto out;
	for (i = 0; i < nlabels; i++) {
		if (!valid_name(labels[i], false) || !strncmp(labels[i], "__", 2) ||
		    (kind == KIND_HISTOGRAM && !strcmp(labels[i], "le")))
			goto out;
		for (j = 0; j < i; j++)
			if (!strcmp(labels[i], labels[j]))
				goto out;
	}
	if (kind == KIND_HISTOGRAM) {
		if (!bounds) {
			bounds = metrics_default_buckets;
			nbounds = metrics_default_nbuckets;
		}
		if (nbounds > 0 && isinf(bounds[nbounds - 1]) && bounds[nbounds - 1] > 0)
			nbounds--;
		if (nbounds > METRICS_MAX_BUCKETS)
			goto out;
		for (i = 0; i < nbounds; i++)
			if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
				goto out;
	} else {
		nbounds = 0;
	}

	pthread_mutex_lock(&r->mu);
	locked = true;
	for (it = r->head; it; it = it->next) {
		if (strcmp(it->name, name) != 0)
			continue;
		if (!family_same(it, kind, labels, nlabels, bounds, nbounds))
			goto out;
		*out = it;
		err = TERN_OK;
		goto out;
	}

	err = TERN_ERR__NOMEM;
	f = calloc(1, sizeof *f);
	if (!f)
		goto out;
	f->reg = r;
	f->kind = kind;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help)
		goto out;
	if (nlabels) {
		f->label_names = calloc(nlabels, sizeof *f->label_names);
		if (!f->label_names)
			goto out;
		for (f->nlabels = 0; f->nlabels < nlabels; f->nlabels++) {
			f->label_names[f->nlabels] = strdup(labels[f->nlabels]);
			if (!f->label_names[f->nlabels])
				goto out;
		}
	}
	if (nbounds) {
		f->bounds = malloc(nbounds * sizeof *f->bounds);
		if (!f->bounds)
			goto out;
		memcpy(f->bounds, bounds, nbounds * sizeof *f->bounds);
		f->nbounds = nbounds;
	}
	if (r->tail)
		r->tail->next = f;
	else
		r->head = f;
	r->tail = f;
	*out = f;
	f = NULL;
	err = TERN_OK;
out:
	if (locked)
		pthread_mutex_unlock(&r->mu);
	family_free(f);
	return err;
}

tern_err_t metrics_counter_family(metrics_registry_t *r, const char *name, const char *help,
				  const char *const *labels, metrics_family_t **out)
{
	return family_register(r, KIND_COUNTER, name, help, labels, NULL, 0, out);
}

tern_err_t metrics_gauge_family(metrics_registry_t *r, const char *name, const char *help,
				const char *const *labels, metrics_family_t **out)
{
	return family_register(r, KIND_GAUGE, name, help, labels, NULL, 0, out);
}

tern_err_t metrics_histogram_family(metrics_registry_t *r, const char *name, const char *help,
				    const char *const *labels, const double *bounds, size_t nbounds,
				    metrics_family_t **out)
{
	return family_register(r, KIND_HISTOGRAM, name, help, labels, bounds, nbounds, out);
}

/* ------------------------------------------------------------------------ */
/* Series                                                                     */

/* FNV-1a over the values, each followed by a 0xff byte (which UTF-8 never
 * holds), so that ("ab","c") and ("a","bc") differ. */
static uint64_t values_hash(const char *const *values, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	return h;
}

static bool values_equal(const series_t *s, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]) != 0)
			return false;
	return true;
}

/* Doubles the hash table (under mu). false: out of memory, table kept. */
static bool family_grow(struct metrics_family *f)
{
	size_t cap = f->hcap ? f->hcap * 2 : 16;
	series_t **t = calloc(cap, sizeof *t);

	if (!t)
		return false;
	for (series_t *s = f->head; s; s = s->next) {
		size_t b = s->hash & (cap - 1);

		s->hnext = t[b];
		t[b] = s;
	}
	free(f->htab);
	f->htab = t;
	f->hcap = cap;
	return true;
}

/* A new series of f with values, not yet linked; NULL when out of memory. */
static series_t *series_new(struct metrics_family *f, const char *const *values, uint64_t hash)
{
	size_t nb = f->kind == KIND_HISTOGRAM ? f->nbounds + 1 : 0;
	series_t *s = calloc(1, sizeof *s + nb * sizeof s->buckets[0]);
	metrics_buf_t lb = METRICS_BUF_INIT;
	out_t o = {&lb, false};
	size_t i;

	if (!s)
		return NULL;
	s->fam = f;
	s->hash = hash;
	if (f->nlabels) {
		s->values = calloc(f->nlabels, sizeof *s->values);
		if (!s->values)
			goto fail;
		for (i = 0; i < f->nlabels; i++) {
			s->values[i] = strdup(values[i]);
			if (!s->values[i])
				goto fail;
			if (i)
				out_str(&o, ",");
			out_str(&o, f->label_names[i]);
			out_str(&o, "=\"");
			out_escaped(&o, values[i], true);
			out_str(&o, "\"");
		}
	}
	if (o.failed)
		goto fail;
	/* lb holds a page; keep only the text. */
	s->labels = strdup(lb.data ? lb.data : "");
	if (!s->labels)
		goto fail;
	metrics_buf_free(&lb);
	return s;
fail:
	metrics_buf_free(&lb);
	series_free(s);
	return NULL;
}

static tern_err_t series_get(struct metrics_family *f, enum kind kind, const char *const *values,
			     series_t **out)
{
	metrics_registry_t *r;
	tern_err_t err = TERN_OK;
	uint64_t hash;
	series_t *s;
	size_t i;

	if (!f || f->kind != kind || (f->nlabels && !values))
		return TERN_ERR__INVALID_ARG;
	for (i = 0; i < f->nlabels; i++)
		if (!values[i])
			return TERN_ERR__INVALID_ARG;
	r = f->reg;
	hash = values_hash(values, f->nlabels);

	pthread_mutex_lock(&r->mu);
	if (f->hcap)
		for (s = f->htab[hash & (f->hcap - 1)]; s; s = s->hnext)
			if (s->hash == hash && values_equal(s, values, f->nlabels))
				goto found;
	if (f->count >= f->hcap && !family_grow(f)) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	s = series_new(f, values, hash);
	if (!s) {
		err = TERN_ERR__NOMEM;
		goto out;
	}
	s->hnext = f->htab[hash & (f->hcap - 1)];
	f->htab[hash & (f->hcap - 1)] = s;
	s->prev = f->tail;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	f->count++;
found:
	*out = s;
out:
	pthread_mutex_unlock(&r->mu);
	return err;
}

tern_err_t metrics_counter_get(metrics_family_t *f, const char *const *values,
			       metrics_counter_t **out)
{
	series_t *s;
	tern_err_t err = series_get(f, KIND_COUNTER, values, &s);

	if (!err)
		*out = (metrics_counter_t *)s;
	return err;
}

tern_err_t metrics_gauge_get(metrics_family_t *f, const char *const *values, metrics_gauge_t **out)
{
	series_t *s;
	tern_err_t err = series_get(f, KIND_GAUGE, values, &s);

	if (!err)
		*out = (metrics_gauge_t *)s;
	return err;
}

tern_err_t metrics_histogram_get(metrics_family_t *f, const char *const *values,
				 metrics_histogram_t **out)
{
	series_t *s;
	tern_err_t err = series_get(f, KIND_HISTOGRAM, values, &s);

	if (!err)
		*out = (metrics_histogram_t *)s;
	return err;
}

tern_err_t metrics_counter_new(metrics_registry_t *r, const char *name, const char *help,
			       metrics_counter_t **out)
{
	metrics_family_t *f;
	tern_err_t err = metrics_counter_family(r, name, help, NULL, &f);

	return err ? err : metrics_counter_get(f, NULL, out);
}

tern_err_t metrics_gauge_new(metrics_registry_t *r, const char *name, const char *help,
			     metrics_gauge_t **out)
{
	metrics_family_t *f;
	tern_err_t err = metrics_gauge_family(r, name, help, NULL, &f);

	return err ? err : metrics_gauge_get(f, NULL, out);
}

tern_err_t metrics_histogram_new(metrics_registry_t *r, const char *name, const char *help,
				 const double *bounds, size_t nbounds, metrics_histogram_t **out)
{
	metrics_family_t *f;
	tern_err_t err = metrics_histogram_family(r, name, help, NULL, bounds, nbounds, &f);

	return err ? err : metrics_histogram_get(f, NULL, out);
}

size_t metrics_family_remove(metrics_family_t *f, const char *const *values)
{
	series_t *s, *next, **pp;
	size_t n = 0, i;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->reg->mu);
	for (s = f->head; s; s = next) {
		next = s->next;
		for (i = 0; values && i < f->nlabels; i++)
			if (values[i] && strcmp(values[i], s->values[i]) != 0)
				break;
		if (values && i < f->nlabels)
			continue;
		for (pp = &f->htab[s->hash & (f->hcap - 1)]; *pp != s; pp = &(*pp)->hnext)
			;
		*pp = s->hnext;
		if (s->prev)
			s->prev->next = s->next;
		else
			f->head = s->next;
		if (s->next)
			s->next->prev = s->prev;
		else
			f->tail = s->prev;
		f->count--;
		series_free(s);
		n++;
	}
	pthread_mutex_unlock(&f->reg->mu);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Updates                                                                    */

void metrics_counter_inc(metrics_counter_t *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->s.v, 1, memory_order_relaxed);
}

void metrics_counter_add(metrics_counter_t *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->s.v, n, memory_order_relaxed);
}

void metrics_counter_set(metrics_counter_t *c, uint64_t v)
{
	if (c)
		atomic_store_explicit(&c->s.v, v, memory_order_relaxed);
}

uint64_t metrics_counter_value(const metrics_counter_t *c)
{
	return c ? atomic_load_explicit(&((metrics_counter_t *)c)->s.v, memory_order_relaxed) : 0;
}

void metrics_gauge_set(metrics_gauge_t *g, double v)
{
	if (g)
		atomic_store_explicit(&g->s.v, dbits(v), memory_order_relaxed);
}

void metrics_gauge_set_int(metrics_gauge_t *g, int64_t v)
{
	metrics_gauge_set(g, (double)v);
}

void metrics_gauge_add(metrics_gauge_t *g, double delta)
{
	if (g)
		atomic_add_double(&g->s.v, delta);
}

double metrics_gauge_value(const metrics_gauge_t *g)
{
	return g ? bitsd(atomic_load_explicit(&((metrics_gauge_t *)g)->s.v, memory_order_relaxed))
		 : 0;
}

void metrics_gauge_set_fn(metrics_gauge_t *g, double (*fn)(void *arg), void *arg)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->s.fam->reg->mu);
	g->s.fn = fn;
	g->s.fn_arg = arg;
	pthread_mutex_unlock(&g->s.fam->reg->mu);
}

void metrics_histogram_observe(metrics_histogram_t *h, double v)
{
	const struct metrics_family *f;
	size_t i;

	if (!h)
		return;
	f = h->s.fam;
	/* A few dozen bounds at most: a linear scan is as quick as a binary
	 * search and NaN falls through to +Inf. */
	for (i = 0; i < f->nbounds && !(v <= f->bounds[i]); i++)
		;
	atomic_fetch_add_explicit(&h->s.buckets[i], 1, memory_order_relaxed);
	atomic_add_double(&h->s.sum, v);
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                  */

/* name{labels} value, or name value without labels. extra is one more
 * label already formatted (le="..."), or NULL. */
static void out_sample(out_t *o, const char *name, const char *suffix, const char *labels,
		       const char *extra, const char *value)
{
	out_str(o, name);
	out_str(o, suffix);
	if (*labels || extra) {
		out_str(o, "{");
		out_str(o, labels);
		if (*labels && extra)
			out_str(o, ",");
		if (extra)
			out_str(o, extra);
		out_str(o, "}");
	}
	out_str(o, " ");
	out_str(o, value);
	out_str(o, "\n");
}

static void render_family(out_t *o, const struct metrics_family *f)
{
	char num[64], le[80];
	const series_t *s;

	if (!f->head)
		return;
	out_str(o, "# HELP ");
	out_str(o, f->name);
	out_str(o, " ");
	out_escaped(o, f->help, false);
	out_str(o, "\n# TYPE ");
	out_str(o, f->name);
	out_str(o, " ");
	out_str(o, kind_names[f->kind]);
	out_str(o, "\n");

	for (s = f->head; s; s = s->next) {
		switch (f->kind) {
		case KIND_COUNTER:
			snprintf(num, sizeof num, "%" PRIu64,
				 atomic_load_explicit(&((series_t *)s)->v, memory_order_relaxed));
			out_sample(o, f->name, "", s->labels, NULL, num);
			break;
		case KIND_GAUGE:
			format_double(s->fn ? s->fn(s->fn_arg)
					    : bitsd(atomic_load_explicit(&((series_t *)s)->v,
									 memory_order_relaxed)),
				      num, sizeof num);
			out_sample(o, f->name, "", s->labels, NULL, num);
			break;
		case KIND_HISTOGRAM: {
			uint64_t cum = 0;

			for (size_t i = 0; i <= f->nbounds; i++) {
				cum += atomic_load_explicit(&((series_t *)s)->buckets[i],
							    memory_order_relaxed);
				format_double(i < f->nbounds ? f->bounds[i] : INFINITY, num,
					      sizeof num);
				snprintf(le, sizeof le, "le=\"%s\"", num);
				snprintf(num, sizeof num, "%" PRIu64, cum);
				out_sample(o, f->name, "_bucket", s->labels, le, num);
			}
			format_double(bitsd(atomic_load_explicit(&((series_t *)s)->sum,
								 memory_order_relaxed)),
				      num, sizeof num);
			out_sample(o, f->name, "_sum", s->labels, NULL, num);
			snprintf(num, sizeof num, "%" PRIu64, cum);
			out_sample(o, f->name, "_count", s->labels, NULL, num);
			break;
		}
		}
	}
}

tern_err_t metrics_render(metrics_registry_t *r, metrics_buf_t *buf)
{
	size_t old_len = buf->len;
	out_t o = {buf, false};

	pthread_mutex_lock(&r->scrape_mu);
	for (size_t i = 0; i < r->nhooks; i++)
		r->hooks[i].fn(r, r->hooks[i].arg);
	pthread_mutex_lock(&r->mu);
	for (const struct metrics_family *f = r->head; f; f = f->next)
		render_family(&o, f);
	/* An empty registry still gives a NUL-terminated buffer. */
	out_str(&o, "");
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_unlock(&r->scrape_mu);

	if (o.failed) {
		buf->len = old_len;
		if (buf->data)
			buf->data[old_len] = '\0';
		return TERN_ERR__NOMEM;
	}
	return TERN_OK;
}
