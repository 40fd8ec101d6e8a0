/* common/config.h: typed configuration tables. One declarative table per
 * scope (broker, topic, producer, consumer) fills one typed struct, and
 * parsing, validation, get-as-string, --help and docs/configuration.md all
 * come from it.
 *
 * A table is an array of tern_conf_entry_t, each written with one of the
 * TERN_CONF_<TYPE>() row macros below (which also check at compile time that
 * the struct field has the type the row says) followed by designated fields:
 *
 *	{TERN_CONF_INT32(broker_config_t, num_partitions, "num.partitions", "1", 1, INT32_MAX),
 *	 .importance = TERN_CONF_MEDIUM,
 *	 .doc = "Partitions of a topic created without a partition count."},
 *
 * Values are Kafka's: plain decimal integers (no "1GiB" or "7d"; the unit of
 * a key is in its name and only the help and docs print "1 GiB" beside the
 * number), true/false, comma-separated lists.
 *
 * Library code: nothing here prints. Errors are TERN_ERR_INVALID_CONFIG (a
 * bad key or value; Kafka's code for it, so it can go on the wire), an errno
 * error (a config file that cannot be read) or TERN_ERR__NOMEM, with one line
 * that names the key in (errstr, errlen) where a caller passes one. None of
 * these functions locks: a caller that shares a config struct between
 * threads serialises access to it. */
#ifndef TERN_COMMON_CONFIG_H
#define TERN_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

typedef enum tern_conf_type {
	TERN_CONF_T_BOOL,   /* bool */
	TERN_CONF_T_INT32,  /* int32_t */
	TERN_CONF_T_INT64,  /* int64_t */
	TERN_CONF_T_DOUBLE, /* double */
	TERN_CONF_T_STRING, /* char *, malloc()ed, never NULL once initialised */
	TERN_CONF_T_ENUM,   /* int, one of the values of the entry */
	TERN_CONF_T_LIST,   /* tern_conf_list_t */
} tern_conf_type_t;

/* What an integer counts: the help and the docs print "604800000 (7 d)" or
 * "1073741824 (1 GiB)" for it; parsing is the same plain integer. */
typedef enum tern_conf_unit {
	TERN_CONF_UNIT_NONE,
	TERN_CONF_UNIT_MS,
	TERN_CONF_UNIT_BYTES,
} tern_conf_unit_t;

/* Kafka's importance classes, shown in the docs. */
typedef enum tern_conf_importance {
	TERN_CONF_LOW,
	TERN_CONF_MEDIUM,
	TERN_CONF_HIGH,
} tern_conf_importance_t;

enum tern_conf_flags {
	/* May change while the process runs (tern_conf_alter). */
	TERN_CONF_DYNAMIC = 1,
	/* A string or list that must not be empty. */
	TERN_CONF_NONEMPTY = 2,
};

/* One allowed value of an enum (name, the int stored for it) or of a list
 * item (value unused). Arrays of them end with {NULL, 0}. Names match
 * without regard to case and are stored in the spelling given here. */
typedef struct tern_conf_enum {
	const char *name;
	int value;
} tern_conf_enum_t;

/* A list value: n strings without surrounding blanks, none empty, no two the
 * same. v (NULL when n is 0) and the strings are one malloc()ed block that
 * belongs to the struct holding the list. */
typedef struct tern_conf_list {
	char **v;
	size_t n;
} tern_conf_list_t;

/* An extra check of a string value, or of each item of a list: returns false
 * with a reason in why (a fragment such as "expected tcp://HOST:PORT") to
 * refuse it. Called with a trimmed, non-empty value (an empty string is the
 * absence of a value; TERN_CONF_NONEMPTY refuses it). */
typedef bool(tern_conf_check_fn)(const char *value, char *why, size_t whylen);

typedef struct tern_conf_entry {
	const char *name;
	tern_conf_type_t type;
	size_t offset; /* of the field in the struct the table fills */
	const char *def;
	int64_t min, max;		/* int32, int64: the inclusive range */
	double dmin, dmax;		/* double: the inclusive range */
	const tern_conf_enum_t *values; /* enum: allowed; list: allowed items or NULL */
	tern_conf_unit_t unit;
	unsigned flags; /* enum tern_conf_flags */
	tern_conf_importance_t importance;
	/* The key of a wider scope this one takes its default from (a topic
	 * key names the broker key), or NULL; see tern_conf_inherit(). */
	const char *inherit;
	tern_conf_check_fn *check; /* NULL: no extra check */
	const char *doc;	   /* one line, a full sentence */
} tern_conf_entry_t;

typedef struct tern_conf_table {
	const char *scope; /* "broker", "topic", ... */
	const tern_conf_entry_t *entries;
	size_t n;
	size_t size; /* sizeof the struct the table fills */
} tern_conf_table_t;

/* The offset of field f of struct st, which must have type ctype: a row of the
 * wrong type does not compile. */
#define TERN_CONF__FIELD(st, f, ctype)                                                             \
	(offsetof(st, f) + 0 * sizeof(_Generic(((st *)0)->f, ctype : 1)))

/* The head of a row; the row goes on with designated fields (.flags,
 * .importance, .unit, .inherit, .check, .doc). def is written as in a
 * config file. */
#define TERN_CONF_BOOL(st, f, key, dflt)                                                           \
	.name = (key), .type = TERN_CONF_T_BOOL, .offset = TERN_CONF__FIELD(st, f, bool),          \
	.def = (dflt)
#define TERN_CONF_INT32(st, f, key, dflt, lo, hi)                                                  \
	.name = (key), .type = TERN_CONF_T_INT32, .offset = TERN_CONF__FIELD(st, f, int32_t),      \
	.def = (dflt), .min = (lo), .max = (hi)
#define TERN_CONF_INT64(st, f, key, dflt, lo, hi)                                                  \
	.name = (key), .type = TERN_CONF_T_INT64, .offset = TERN_CONF__FIELD(st, f, int64_t),      \
	.def = (dflt), .min = (lo), .max = (hi)
#define TERN_CONF_DOUBLE(st, f, key, dflt, lo, hi)                                                 \
	.name = (key), .type = TERN_CONF_T_DOUBLE, .offset = TERN_CONF__FIELD(st, f, double),      \
	.def = (dflt), .dmin = (lo), .dmax = (hi)
#define TERN_CONF_STRING(st, f, key, dflt)                                                         \
	.name = (key), .type = TERN_CONF_T_STRING, .offset = TERN_CONF__FIELD(st, f, char *),      \
	.def = (dflt)
#define TERN_CONF_ENUM(st, f, key, dflt, vals)                                                     \
	.name = (key), .type = TERN_CONF_T_ENUM, .offset = TERN_CONF__FIELD(st, f, int),           \
	.def = (dflt), .values = (vals)
#define TERN_CONF_LIST(st, f, key, dflt, vals)                                                     \
	.name = (key), .type = TERN_CONF_T_LIST,                                                   \
	.offset = TERN_CONF__FIELD(st, f, tern_conf_list_t), .def = (dflt), .values = (vals)

/* A key and its value as text (overrides, file lines, request fields). */
typedef struct tern_conf_kv {
	const char *key;
	const char *value;
} tern_conf_kv_t;

/* Fills obj (t->size bytes, contents ignored) with the defaults of every
 * entry. A default that its own entry refuses is a bug in the table and
 * fails with the reason in errstr (tests run every table through here).
 * On error obj holds nothing to free. */
tern_err_t tern_conf_init(const tern_conf_table_t *t, void *obj, char *errstr, size_t errlen);

/* Frees what the strings and lists of obj own. obj must be initialised;
 * it is not usable afterwards until initialised again. */
void tern_conf_free(const tern_conf_table_t *t, void *obj);

/* The entry called name, or NULL. Iterate a table with
 * for (i = 0; i < t->n; i++) ... t->entries[i]. */
const tern_conf_entry_t *tern_conf_find(const tern_conf_table_t *t, const char *name);

/* Parses value for key and stores it in obj. Blanks around the value are
 * ignored. On error obj is unchanged and errstr says, naming the key, what
 * was wrong and what is allowed:
 *   unknown key 'foo.bar'
 *   flush.policy: 'fast' is not one of sync, async
 *   num.partitions: -3 is below the minimum 1 */
tern_err_t tern_conf_table_set(const tern_conf_table_t *t, void *obj, const char *key, const char *value,
			 char *errstr, size_t errlen);

/* tern_conf_table_set() for a process that is running: refuses a key without
 * TERN_CONF_DYNAMIC ("log.dirs cannot change at run time; restart with the
 * new value"). */
tern_err_t tern_conf_alter(const tern_conf_table_t *t, void *obj, const char *key,
			   const char *value, char *errstr, size_t errlen);

/* The value of entry e in obj as text, in the form tern_conf_table_set() takes
 * back (true/false, decimal integers, the shortest double that reads back
 * the same, the enum's own spelling, list items joined with ","). *out is
 * malloc()ed; the caller frees it. _INVALID_ARG when an enum field holds
 * none of its values (written by hand, not through this engine). */
tern_err_t tern_conf_format(const tern_conf_entry_t *e, const void *obj, char **out);

/* tern_conf_format() by key (DescribeConfigs): _INVALID_ARG for an unknown
 * key. */
tern_err_t tern_conf_table_get(const tern_conf_table_t *t, const void *obj, const char *key, char **out);

/* Sets every entry of child that names an inherited key to the current value
 * of that key in parent (a topic's defaults from the broker's settings).
 * Fails (child unchanged) when a parent value does not fit the child entry,
 * or the parent table lacks the key. */
tern_err_t tern_conf_inherit(const tern_conf_table_t *child_t, void *child,
			     const tern_conf_table_t *parent_t, const void *parent, char *errstr,
			     size_t errlen);

/* Reads a Java-style properties file (Kafka's server.properties) with
 * libinih: one key=value (or key: value) a line, blanks around both ignored,
 * blank lines and lines that start with # or ; ignored, a later line for the
 * same key wins. Not allowed: [section] headers, and lines longer than
 * libinih's line buffer (199 characters in Debian 12's build). libinih also
 * ends a value at a ';' that follows a blank (an inline comment). Atomic: on
 * error obj is unchanged and errstr reads "<path>:<line>: <reason>" for the
 * first bad line. */
tern_err_t tern_conf_load_file(const tern_conf_table_t *t, void *obj, const char *path,
			       char *errstr, size_t errlen);

/* The --help text of a table: for every key its option, placeholder,
 * default, range or allowed values, whether it is dynamic, and its doc.
 * *out is malloc()ed; the caller frees it. */
tern_err_t tern_conf_help(const tern_conf_table_t *t, char **out);

/* A Markdown table of every key (docs/configuration.md). *out is malloc()ed;
 * the caller frees it. */
tern_err_t tern_conf_markdown(const tern_conf_table_t *t, char **out);

#endif
