/* The engine behind every configuration table of Tern: parsing and
 * validation of typed values, get-as-string, inheritance between scopes,
 * properties files (libinih), --help text and Markdown docs. See config.h. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"

/* A parsed value before it is stored; strings and lists own their memory. */
typedef union conf_val {
	bool b;
	int32_t i32;
	int64_t i64;
	double d;
	char *s;
	int e;
	tern_conf_list_t l;
} conf_val_t;

static void seterr(char *errstr, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *errstr, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errstr || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, errlen, fmt, ap);
	va_end(ap);
}

static void *field(void *obj, const tern_conf_entry_t *e)
{
	return (char *)obj + e->offset;
}

static const void *cfield(const void *obj, const tern_conf_entry_t *e)
{
	return (const char *)obj + e->offset;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Trims s in place and returns its first non-blank character. */
static char *trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* "a, b, c" from a value list, for messages and docs. */
static void join_values(const tern_conf_enum_t *v, const char *sep, const char *quote, char *buf,
			size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; v->name; v++) {
		int n = snprintf(buf + used, len - used, "%s%s%s%s", used ? sep : "", quote,
				 v->name, quote);

		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

static const tern_conf_enum_t *find_value(const tern_conf_enum_t *v, const char *name)
{
	for (; v->name; v++)
		if (strcasecmp(v->name, name) == 0)
			return v;
	return NULL;
}

static const tern_conf_enum_t bool_values[] = {{"true", 1}, {"false", 0}, {NULL, 0}};

static tern_err_t not_one_of(const tern_conf_entry_t *e, const tern_conf_enum_t *values,
			     const char *s, char *errstr, size_t errlen)
{
	char list[512];

	join_values(values, ", ", "", list, sizeof list);
	seterr(errstr, errlen, "%s: '%s' is not one of %s", e->name, s, list);
	return TERN_ERR_INVALID_CONFIG;
}

static tern_err_t parse_int(const tern_conf_entry_t *e, const char *s, int64_t *out, char *errstr,
			    size_t errlen)
{
	const char *d = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
	char *end;
	long long v;

	if (!isdigit((unsigned char)*d)) {
		seterr(errstr, errlen, "%s: '%s' is not an integer", e->name, s);
		return TERN_ERR_INVALID_CONFIG;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end) {
		seterr(errstr, errlen, "%s: '%s' is not an integer", e->name, s);
		return TERN_ERR_INVALID_CONFIG;
	}
	if ((errno == ERANGE && v < 0) || v < e->min) {
		seterr(errstr, errlen, "%s: %s is below the minimum %" PRId64, e->name, s, e->min);
		return TERN_ERR_INVALID_CONFIG;
	}
	if (errno == ERANGE || v > e->max) {
		seterr(errstr, errlen, "%s: %s is above the maximum %" PRId64, e->name, s, e->max);
		return TERN_ERR_INVALID_CONFIG;
	}
	*out = v;
	return TERN_OK;
}

static tern_err_t parse_double(const tern_conf_entry_t *e, const char *s, double *out, char *errstr,
			       size_t errlen)
{
	char *end;
	double v;

	/* Decimal notation only: strtod would also take "nan", "inf" and hex. */
	if (!*s || s[strspn(s, "0123456789+-.eE")] != '\0') {
		seterr(errstr, errlen, "%s: '%s' is not a number", e->name, s);
		return TERN_ERR_INVALID_CONFIG;
	}
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s || !isfinite(v)) {
		seterr(errstr, errlen, "%s: '%s' is not a number", e->name, s);
		return TERN_ERR_INVALID_CONFIG;
	}
	if (v < e->dmin) {
		seterr(errstr, errlen, "%s: %s is below the minimum %g", e->name, s, e->dmin);
		return TERN_ERR_INVALID_CONFIG;
	}
	if (v > e->dmax) {
		seterr(errstr, errlen, "%s: %s is above the maximum %g", e->name, s, e->dmax);
		return TERN_ERR_INVALID_CONFIG;
	}
	*out = v;
	return TERN_OK;
}

static tern_err_t run_check(const tern_conf_entry_t *e, const char *s, char *errstr, size_t errlen)
{
	char why[160];

	if (!e->check)
		return TERN_OK;
	why[0] = '\0';
	if (e->check(s, why, sizeof why))
		return TERN_OK;
	seterr(errstr, errlen, "%s: '%s': %s", e->name, s, why[0] ? why : "not valid");
	return TERN_ERR_INVALID_CONFIG;
}

/* Splits s (trimmed) into a list: one block holding the pointers and then
 * the items. */
static tern_err_t parse_list(const tern_conf_entry_t *e, const char *s, tern_conf_list_t *out,
			     char *errstr, size_t errlen)
{
	size_t n = 1, len = strlen(s), i, k;
	char **v, *text, *p;
	tern_err_t err;

	if (len == 0) {
		out->v = NULL;
		out->n = 0;
		return TERN_OK;
	}
	for (p = strchr(s, ','); p; p = strchr(p + 1, ','))
		n++;
	v = malloc(n * sizeof *v + len + 1);
	if (!v)
		return TERN_ERR__NOMEM;
	text = (char *)(v + n);
	memcpy(text, s, len + 1);
	for (i = 0, p = text; i < n; i++) {
		char *comma = strchr(p, ',');
		const tern_conf_enum_t *allowed;

		if (comma)
			*comma = '\0';
		v[i] = trim(p);
		if (comma)
			p = comma + 1;
		if (!*v[i]) {
			seterr(errstr, errlen, "%s: empty item in '%s'", e->name, s);
			err = TERN_ERR_INVALID_CONFIG;
			goto fail;
		}
		if (e->values) {
			allowed = find_value(e->values, v[i]);
			if (!allowed) {
				err = not_one_of(e, e->values, v[i], errstr, errlen);
				goto fail;
			}
			/* Same length: the canonical spelling fits in place. */
			memcpy(v[i], allowed->name, strlen(allowed->name));
		}
		for (k = 0; k < i; k++) {
			if (strcmp(v[k], v[i]) == 0) {
				seterr(errstr, errlen, "%s: '%s' appears twice", e->name, v[i]);
				err = TERN_ERR_INVALID_CONFIG;
				goto fail;
			}
		}
		err = run_check(e, v[i], errstr, errlen);
		if (err)
			goto fail;
	}
	out->v = v;
	out->n = n;
	return TERN_OK;
fail:
	free(v);
	return err;
}

static void free_val(const tern_conf_entry_t *e, conf_val_t *v)
{
	if (e->type == TERN_CONF_T_STRING) {
		free(v->s);
		v->s = NULL;
	} else if (e->type == TERN_CONF_T_LIST) {
		free(v->l.v);
		v->l.v = NULL;
		v->l.n = 0;
	}
}

/* Parses text (any blanks around it ignored) as a value of e. */
static tern_err_t parse_val(const tern_conf_entry_t *e, const char *text, conf_val_t *out,
			    char *errstr, size_t errlen)
{
	const tern_conf_enum_t *ev;
	char *copy = strdup(text), *s;
	tern_err_t err = TERN_OK;
	int64_t i;

	if (!copy)
		return TERN_ERR__NOMEM;
	s = trim(copy);
	memset(out, 0, sizeof *out);
	switch (e->type) {
	case TERN_CONF_T_BOOL:
		ev = find_value(bool_values, s);
		if (!ev)
			err = not_one_of(e, bool_values, s, errstr, errlen);
		else
			out->b = ev->value;
		break;
	case TERN_CONF_T_INT32:
		err = parse_int(e, s, &i, errstr, errlen);
		if (!err)
			out->i32 = (int32_t)i;
		break;
	case TERN_CONF_T_INT64:
		err = parse_int(e, s, &out->i64, errstr, errlen);
		break;
	case TERN_CONF_T_DOUBLE:
		err = parse_double(e, s, &out->d, errstr, errlen);
		break;
	case TERN_CONF_T_STRING:
		if (!*s && (e->flags & TERN_CONF_NONEMPTY)) {
			seterr(errstr, errlen, "%s: must not be empty", e->name);
			err = TERN_ERR_INVALID_CONFIG;
			break;
		}
		if (*s)
			err = run_check(e, s, errstr, errlen);
		if (!err) {
			out->s = strdup(s);
			if (!out->s)
				err = TERN_ERR__NOMEM;
		}
		break;
	case TERN_CONF_T_ENUM:
		ev = find_value(e->values, s);
		if (!ev)
			err = not_one_of(e, e->values, s, errstr, errlen);
		else
			out->e = ev->value;
		break;
	case TERN_CONF_T_LIST:
		if (!*s && (e->flags & TERN_CONF_NONEMPTY)) {
			seterr(errstr, errlen, "%s: must not be empty", e->name);
			err = TERN_ERR_INVALID_CONFIG;
			break;
		}
		err = parse_list(e, s, &out->l, errstr, errlen);
		break;
	}
	free(copy);
	return err;
}

/* Moves v into the field of e, freeing what the field held. */
static void store_val(const tern_conf_entry_t *e, void *obj, conf_val_t *v)
{
	void *f = field(obj, e);

	switch (e->type) {
	case TERN_CONF_T_BOOL:
		*(bool *)f = v->b;
		break;
	case TERN_CONF_T_INT32:
		*(int32_t *)f = v->i32;
		break;
	case TERN_CONF_T_INT64:
		*(int64_t *)f = v->i64;
		break;
	case TERN_CONF_T_DOUBLE:
		*(double *)f = v->d;
		break;
	case TERN_CONF_T_STRING:
		free(*(char **)f);
		*(char **)f = v->s;
		break;
	case TERN_CONF_T_ENUM:
		*(int *)f = v->e;
		break;
	case TERN_CONF_T_LIST:
		free(((tern_conf_list_t *)f)->v);
		*(tern_conf_list_t *)f = v->l;
		break;
	}
	memset(v, 0, sizeof *v);
}

tern_err_t tern_conf_init(const tern_conf_table_t *t, void *obj, char *errstr, size_t errlen)
{
	size_t i;

	memset(obj, 0, t->size);
	for (i = 0; i < t->n; i++) {
		const tern_conf_entry_t *e = &t->entries[i];
		conf_val_t v;
		tern_err_t err = parse_val(e, e->def, &v, errstr, errlen);

		if (err) {
			tern_conf_free(t, obj);
			return err;
		}
		store_val(e, obj, &v);
	}
	return TERN_OK;
}

void tern_conf_free(const tern_conf_table_t *t, void *obj)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const tern_conf_entry_t *e = &t->entries[i];
		void *f = field(obj, e);

		if (e->type == TERN_CONF_T_STRING) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (e->type == TERN_CONF_T_LIST) {
			free(((tern_conf_list_t *)f)->v);
			memset(f, 0, sizeof(tern_conf_list_t));
		}
	}
}

const tern_conf_entry_t *tern_conf_find(const tern_conf_table_t *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->entries[i].name, name) == 0)
			return &t->entries[i];
	return NULL;
}

static tern_err_t set(const tern_conf_table_t *t, void *obj, const char *key, const char *value,
		      bool running, char *errstr, size_t errlen)
{
	const tern_conf_entry_t *e = tern_conf_find(t, key);
	conf_val_t v;
	tern_err_t err;

	if (!e) {
		seterr(errstr, errlen, "unknown key '%s'", key);
		return TERN_ERR_INVALID_CONFIG;
	}
	if (running && !(e->flags & TERN_CONF_DYNAMIC)) {
		seterr(errstr, errlen, "%s cannot change at run time; restart with the new value",
		       key);
		return TERN_ERR_INVALID_CONFIG;
	}
	err = parse_val(e, value, &v, errstr, errlen);
	if (err)
		return err;
	store_val(e, obj, &v);
	return TERN_OK;
}

tern_err_t tern_conf_table_set(const tern_conf_table_t *t, void *obj, const char *key, const char *value,
			 char *errstr, size_t errlen)
{
	return set(t, obj, key, value, false, errstr, errlen);
}

tern_err_t tern_conf_alter(const tern_conf_table_t *t, void *obj, const char *key,
			   const char *value, char *errstr, size_t errlen)
{
	return set(t, obj, key, value, true, errstr, errlen);
}

/* The shortest %g form that reads back as the same double. */
static void format_double(double d, char *buf, size_t len)
{
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(buf, len, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return;
	}
	snprintf(buf, len, "%.17g", d);
}

static const char *enum_name(const tern_conf_enum_t *v, int value)
{
	for (; v->name; v++)
		if (v->value == value)
			return v->name;
	return NULL;
}

tern_err_t tern_conf_format(const tern_conf_entry_t *e, const void *obj, char **out)
{
	const void *f = cfield(obj, e);
	const tern_conf_list_t *l;
	char num[64], *s = NULL;
	const char *name;
	size_t len, i;

	switch (e->type) {
	case TERN_CONF_T_BOOL:
		s = strdup(*(const bool *)f ? "true" : "false");
		break;
	case TERN_CONF_T_INT32:
		snprintf(num, sizeof num, "%" PRId32, *(const int32_t *)f);
		s = strdup(num);
		break;
	case TERN_CONF_T_INT64:
		snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)f);
		s = strdup(num);
		break;
	case TERN_CONF_T_DOUBLE:
		format_double(*(const double *)f, num, sizeof num);
		s = strdup(num);
		break;
	case TERN_CONF_T_STRING:
		s = strdup(*(char *const *)f);
		break;
	case TERN_CONF_T_ENUM:
		name = enum_name(e->values, *(const int *)f);
		if (!name)
			return TERN_ERR__INVALID_ARG;
		s = strdup(name);
		break;
	case TERN_CONF_T_LIST:
		l = f;
		for (len = 1, i = 0; i < l->n; i++)
			len += strlen(l->v[i]) + 1;
		s = malloc(len);
		if (!s)
			return TERN_ERR__NOMEM;
		s[0] = '\0';
		for (i = 0; i < l->n; i++) {
			if (i)
				strcat(s, ",");
			strcat(s, l->v[i]);
		}
		break;
	}
	if (!s)
		return TERN_ERR__NOMEM;
	*out = s;
	return TERN_OK;
}

tern_err_t tern_conf_table_get(const tern_conf_table_t *t, const void *obj, const char *key, char **out)
{
	const tern_conf_entry_t *e = tern_conf_find(t, key);

	if (!e)
		return TERN_ERR__INVALID_ARG;
	return tern_conf_format(e, obj, out);
}

tern_err_t tern_conf_inherit(const tern_conf_table_t *child_t, void *child,
			     const tern_conf_table_t *parent_t, const void *parent, char *errstr,
			     size_t errlen)
{
	conf_val_t *vals = calloc(child_t->n ? child_t->n : 1, sizeof *vals);
	tern_err_t err = TERN_OK;
	size_t i;

	if (!vals)
		return TERN_ERR__NOMEM;
	for (i = 0; i < child_t->n && !err; i++) {
		const tern_conf_entry_t *e = &child_t->entries[i], *pe;
		char *text;

		if (!e->inherit)
			continue;
		pe = tern_conf_find(parent_t, e->inherit);
		if (!pe) {
			seterr(errstr, errlen, "%s: inherits from '%s', not a %s key", e->name,
			       e->inherit, parent_t->scope);
			err = TERN_ERR__INVALID_ARG;
			break;
		}
		err = tern_conf_format(pe, parent, &text);
		if (err)
			break;
		err = parse_val(e, text, &vals[i], errstr, errlen);
		free(text);
	}
	for (i = 0; i < child_t->n; i++) {
		const tern_conf_entry_t *e = &child_t->entries[i];

		if (!e->inherit)
			continue;
		if (err)
			free_val(e, &vals[i]);
		else
			store_val(e, child, &vals[i]);
	}
	free(vals);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Properties files                                                           */

/* One key=value of the file, parsed and waiting to be stored. */
typedef struct pending {
	const tern_conf_entry_t *e;
	conf_val_t v;
} pending_t;

typedef struct load_ctx {
	const tern_conf_table_t *t;
	FILE *f;
	char *line; /* getline()'s buffer */
	size_t cap;
	int lineno;
	pending_t *p;
	size_t np, capp;
	/* The first error seen by the reader or the handler (libinih reports
	 * syntax errors only by their line number). */
	tern_err_t err;
	int err_line;
	char msg[256];
} load_ctx_t;

/* libinih's reader: hands it one line at a time so that its line numbers
 * are ours. Leading blanks go (libinih would take an indented line for the
 * continuation of the previous value), and the line is refused when it is a
 * [section] header or does not fit libinih's buffer of num bytes. */
static char *load_reader(char *str, int num, void *stream)
{
	load_ctx_t *c = stream;
	ssize_t n;
	char *p;
	size_t len;

	if (c->err)
		return NULL;
	errno = 0;
	n = getline(&c->line, &c->cap, c->f);
	if (n < 0) {
		int e = errno ? errno : EIO;

		if (ferror(c->f) || e == ENOMEM) {
			c->err = tern_err_errno(e);
			c->err_line = c->lineno + 1;
			snprintf(c->msg, sizeof c->msg, "%s", strerror(e));
		}
		return NULL;
	}
	c->lineno++;
	p = c->line;
	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		p[--len] = '\0';
	if (*p == '[') {
		c->err = TERN_ERR_INVALID_CONFIG;
		c->err_line = c->lineno;
		snprintf(c->msg, sizeof c->msg, "[section] headers are not allowed");
		return NULL;
	}
	if (len + 1 > (size_t)num) {
		c->err = TERN_ERR_INVALID_CONFIG;
		c->err_line = c->lineno;
		snprintf(c->msg, sizeof c->msg, "line longer than %d characters", num - 1);
		return NULL;
	}
	memcpy(str, p, len + 1);
	return str;
}

static int load_handler(void *user, const char *section, const char *name, const char *value)
{
	load_ctx_t *c = user;
	const tern_conf_entry_t *e;
	tern_err_t err;

	if (c->err)
		return 1;
	e = tern_conf_find(c->t, name);
	if (!e) {
		snprintf(c->msg, sizeof c->msg, "unknown key '%s'", name);
		err = TERN_ERR_INVALID_CONFIG;
		goto fail;
	}
	if (c->np == c->capp) {
		size_t cap = c->capp ? 2 * c->capp : 16;
		pending_t *p = realloc(c->p, cap * sizeof *p);

		if (!p) {
			snprintf(c->msg, sizeof c->msg, "%s", tern_strerror(TERN_ERR__NOMEM));
			err = TERN_ERR__NOMEM;
			goto fail;
		}
		c->p = p;
		c->capp = cap;
	}
	err = parse_val(e, value, &c->p[c->np].v, c->msg, sizeof c->msg);
	if (err) {
		if (err == TERN_ERR__NOMEM)
			snprintf(c->msg, sizeof c->msg, "%s", tern_strerror(err));
		goto fail;
	}
	c->p[c->np++].e = e;
	return 1;
fail:
	c->err = err;
	c->err_line = c->lineno;
	return 0;
}

tern_err_t tern_conf_load_file(const tern_conf_table_t *t, void *obj, const char *path,
			       char *errstr, size_t errlen)
{
	load_ctx_t c;
	tern_err_t err = TERN_OK;
	size_t i;
	int rc;

	memset(&c, 0, sizeof c);
	c.t = t;
	c.f = fopen(path, "r");
	if (!c.f) {
		err = tern_err_errno(errno);
		seterr(errstr, errlen, "%s: %s", path, strerror(errno));
		return err;
	}
	rc = ini_parse_stream(load_reader, &c, load_handler, &c);
	if (rc > 0 && (!c.err || rc < c.err_line)) {
		err = TERN_ERR_INVALID_CONFIG;
		seterr(errstr, errlen, "%s:%d: expected key=value", path, rc);
	} else if (c.err) {
		err = c.err;
		seterr(errstr, errlen, "%s:%d: %s", path, c.err_line, c.msg);
	} else if (rc < 0) {
		err = TERN_ERR__NOMEM;
		seterr(errstr, errlen, "%s: %s", path, tern_strerror(err));
	}
	for (i = 0; i < c.np; i++) {
		if (err)
			free_val(c.p[i].e, &c.p[i].v);
		else
			store_val(c.p[i].e, obj, &c.p[i].v);
	}
	free(c.p);
	free(c.line);
	fclose(c.f);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Help and docs                                                              */

/* "604800000 (7 d)" style annotation of an integer, or "" when no unit fits. */
static void unit_note(const tern_conf_entry_t *e, int64_t v, char *buf, size_t len)
{
	static const struct {
		int64_t n;
		const char *name;
	} ms[] = {{86400000, "d"}, {3600000, "h"}, {60000, "min"}, {1000, "s"}},
	  bytes[] = {{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}};
	size_t i;

	buf[0] = '\0';
	if (v <= 0)
		return;
	if (e->unit == TERN_CONF_UNIT_MS) {
		for (i = 0; i < sizeof ms / sizeof ms[0]; i++) {
			if (v % ms[i].n == 0) {
				snprintf(buf, len, "%" PRId64 " %s", v / ms[i].n, ms[i].name);
				return;
			}
		}
	} else if (e->unit == TERN_CONF_UNIT_BYTES) {
		for (i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
			if (v % bytes[i].n == 0) {
				snprintf(buf, len, "%" PRId64 " %s", v / bytes[i].n, bytes[i].name);
				return;
			}
		}
	}
}

/* The unit note of e's default, or "". */
static void default_note(const tern_conf_entry_t *e, char *buf, size_t len)
{
	buf[0] = '\0';
	if (e->unit != TERN_CONF_UNIT_NONE &&
	    (e->type == TERN_CONF_T_INT32 || e->type == TERN_CONF_T_INT64))
		unit_note(e, strtoll(e->def, NULL, 10), buf, len);
}

/* Kafka's range notation: [1,...], [0,...,100], or "" for the whole type. */
static void range_text(const tern_conf_entry_t *e, char *buf, size_t len)
{
	int64_t lo = e->type == TERN_CONF_T_INT32 ? INT32_MIN : INT64_MIN;
	int64_t hi = e->type == TERN_CONF_T_INT32 ? INT32_MAX : INT64_MAX;

	buf[0] = '\0';
	if (e->type == TERN_CONF_T_INT32 || e->type == TERN_CONF_T_INT64) {
		if (e->min == lo && e->max == hi)
			return;
		if (e->max == hi)
			snprintf(buf, len, "[%" PRId64 ",...]", e->min);
		else if (e->min == lo)
			snprintf(buf, len, "[...,%" PRId64 "]", e->max);
		else
			snprintf(buf, len, "[%" PRId64 ",...,%" PRId64 "]", e->min, e->max);
	} else if (e->type == TERN_CONF_T_DOUBLE) {
		if (e->dmin <= -DBL_MAX && e->dmax >= DBL_MAX)
			return;
		if (e->dmax >= DBL_MAX)
			snprintf(buf, len, "[%g,...]", e->dmin);
		else if (e->dmin <= -DBL_MAX)
			snprintf(buf, len, "[...,%g]", e->dmax);
		else
			snprintf(buf, len, "[%g,...,%g]", e->dmin, e->dmax);
	}
}

/* Builds a string with stdio; finish() hands it over or frees it. */
typedef struct strbuf {
	FILE *f;
	char *buf;
	size_t len;
} strbuf_t;

static tern_err_t sb_open(strbuf_t *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->f = open_memstream(&sb->buf, &sb->len);
	return sb->f ? TERN_OK : TERN_ERR__NOMEM;
}

static tern_err_t sb_finish(strbuf_t *sb, char **out)
{
	bool bad = ferror(sb->f) != 0;

	if (fclose(sb->f) != 0 || bad) {
		free(sb->buf);
		return TERN_ERR__NOMEM;
	}
	*out = sb->buf;
	return TERN_OK;
}

/* Writes text as words wrapped at width columns, each line indented. */
static void wrap(FILE *f, const char *text, int indent, int width)
{
	int col = 0;

	while (*text) {
		int n = (int)strcspn(text, " ");

		if (col > indent && col + 1 + n > width) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0)
			col = fprintf(f, "%*s", indent, "");
		else
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

static const char *placeholder(const tern_conf_entry_t *e)
{
	switch (e->type) {
	case TERN_CONF_T_BOOL:
		return "true|false";
	case TERN_CONF_T_INT32:
	case TERN_CONF_T_INT64:
		if (e->unit == TERN_CONF_UNIT_MS)
			return "MS";
		if (e->unit == TERN_CONF_UNIT_BYTES)
			return "BYTES";
		return e->type == TERN_CONF_T_INT32 ? "INT" : "LONG";
	case TERN_CONF_T_DOUBLE:
		return "NUM";
	case TERN_CONF_T_STRING:
		return "STRING";
	case TERN_CONF_T_LIST:
		return "LIST";
	case TERN_CONF_T_ENUM:
		break;
	}
	return NULL;
}

tern_err_t tern_conf_help(const tern_conf_table_t *t, char **out)
{
	strbuf_t sb;
	tern_err_t err = sb_open(&sb);
	size_t i;

	if (err)
		return err;
	for (i = 0; i < t->n; i++) {
		const tern_conf_entry_t *e = &t->entries[i];
		char note[32], range[96], vals[512];

		default_note(e, note, sizeof note);
		range_text(e, range, sizeof range);
		fprintf(sb.f, "  --%s=", e->name);
		if (e->type == TERN_CONF_T_ENUM) {
			join_values(e->values, "|", "", vals, sizeof vals);
			fputs(vals, sb.f);
		} else {
			fputs(placeholder(e), sb.f);
		}
		fprintf(sb.f, " (default %s%s%s%s", *e->def ? e->def : "\"\"", *note ? " = " : "",
			note, *range ? "; " : "");
		fputs(range, sb.f);
		if (e->type == TERN_CONF_T_LIST && e->values) {
			join_values(e->values, ", ", "", vals, sizeof vals);
			fprintf(sb.f, "; items: %s", vals);
		}
		if (e->inherit)
			fprintf(sb.f, "; from %s", e->inherit);
		if (e->flags & TERN_CONF_DYNAMIC)
			fputs("; dynamic", sb.f);
		fputs(")\n", sb.f);
		wrap(sb.f, e->doc, 6, 79);
	}
	return sb_finish(&sb, out);
}

/* A Markdown table cell: '|' escaped, newlines flattened. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static const char *md_type(const tern_conf_entry_t *e)
{
	switch (e->type) {
	case TERN_CONF_T_BOOL:
		return "boolean";
	case TERN_CONF_T_INT32:
		return "int";
	case TERN_CONF_T_INT64:
		return "long";
	case TERN_CONF_T_DOUBLE:
		return "double";
	case TERN_CONF_T_LIST:
		return "list";
	case TERN_CONF_T_STRING:
	case TERN_CONF_T_ENUM:
		break;
	}
	return "string";
}

static const char *const importance_names[] = {"low", "medium", "high"};

tern_err_t tern_conf_markdown(const tern_conf_table_t *t, char **out)
{
	bool inherit = false;
	strbuf_t sb;
	tern_err_t err = sb_open(&sb);
	size_t i;

	if (err)
		return err;
	for (i = 0; i < t->n; i++)
		inherit = inherit || t->entries[i].inherit;
	fprintf(sb.f,
		"| Key | Type | Default |%s Valid values | Dynamic | Importance | "
		"Description |\n",
		inherit ? " Default from |" : "");
	fprintf(sb.f, "|---|---|---|%s---|---|---|---|\n", inherit ? "---|" : "");
	for (i = 0; i < t->n; i++) {
		const tern_conf_entry_t *e = &t->entries[i];
		char note[32], valid[512];

		fprintf(sb.f, "| `%s` | %s | ", e->name, md_type(e));
		if (*e->def) {
			fputc('`', sb.f);
			md_cell(sb.f, e->def);
			fputc('`', sb.f);
		} else {
			fputs("(empty)", sb.f);
		}
		default_note(e, note, sizeof note);
		if (*note)
			fprintf(sb.f, " (%s)", note);
		fputs(" | ", sb.f);
		if (inherit && e->inherit)
			fprintf(sb.f, "`%s` | ", e->inherit);
		else if (inherit)
			fputs("| ", sb.f);
		if (e->type == TERN_CONF_T_ENUM || (e->type == TERN_CONF_T_LIST && e->values))
			join_values(e->values, ", ", "`", valid, sizeof valid);
		else
			range_text(e, valid, sizeof valid);
		md_cell(sb.f, valid);
		if ((e->type == TERN_CONF_T_STRING || e->type == TERN_CONF_T_LIST) &&
		    (e->flags & TERN_CONF_NONEMPTY))
			fputs(*valid ? ", non-empty" : "non-empty", sb.f);
		fprintf(sb.f, " | %s | %s | ", (e->flags & TERN_CONF_DYNAMIC) ? "yes" : "no",
			importance_names[e->importance]);
		md_cell(sb.f, e->doc);
		fputs(" |\n", sb.f);
	}
	return sb_finish(&sb, out);
}
