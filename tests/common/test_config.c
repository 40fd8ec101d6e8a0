/* tests/common/test_config.c: the configuration engine of common/config.h on
 * a table with every type: defaults, parsing and its error messages, get as
 * string, inheritance, properties files, --help and Markdown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "testutil.h"

/* Enum values that are not 0, 1, ... so that a test sees the mapping. */
enum { MODE_SYNC = 7, MODE_ASYNC = 9 };

typedef struct demo {
	bool flag;
	int32_t count;
	int64_t size;
	int64_t retention;
	double ratio;
	char *name;
	char *url;
	char *label;
	int mode;
	tern_conf_list_t tags;
	tern_conf_list_t ctx;
	tern_conf_list_t dirs;
} demo_t;

static const tern_conf_enum_t modes[] = {{"sync", MODE_SYNC}, {"async", MODE_ASYNC}, {NULL, 0}};
static const tern_conf_enum_t ctxs[] = {{"log", 0}, {"isr", 0}, {"net", 0}, {NULL, 0}};

static bool check_tcp(const char *s, char *why, size_t whylen)
{
	if (strncmp(s, "tcp://", 6) == 0)
		return true;
	snprintf(why, whylen, "expected tcp://HOST:PORT");
	return false;
}

static const tern_conf_entry_t demo_entries[] = {
    {TERN_CONF_BOOL(demo_t, flag, "demo.flag", "true"), .flags = TERN_CONF_DYNAMIC,
     .doc = "A switch."},
    {TERN_CONF_INT32(demo_t, count, "num.partitions", "1", 1, 1000), .doc = "How many."},
    {TERN_CONF_INT64(demo_t, size, "segment.bytes", "1073741824", 14, INT64_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .flags = TERN_CONF_DYNAMIC, .doc = "Bytes."},
    {TERN_CONF_INT64(demo_t, retention, "retention.ms", "604800000", -1, INT64_MAX),
     .unit = TERN_CONF_UNIT_MS, .doc = "Milliseconds."},
    {TERN_CONF_DOUBLE(demo_t, ratio, "demo.ratio", "0.5", 0.0, 1.0), .doc = "A ratio."},
    {TERN_CONF_STRING(demo_t, name, "demo.name", "tern"), .doc = "A name."},
    {TERN_CONF_STRING(demo_t, url, "demo.url", ""), .check = check_tcp, .doc = "An address."},
    {TERN_CONF_STRING(demo_t, label, "demo.label", "x"), .flags = TERN_CONF_NONEMPTY,
     .doc = "A label."},
    {TERN_CONF_ENUM(demo_t, mode, "flush.policy", "sync", modes), .flags = TERN_CONF_DYNAMIC,
     .doc = "A mode."},
    {TERN_CONF_LIST(demo_t, tags, "demo.tags", "a,b", NULL), .doc = "Tags."},
    {TERN_CONF_LIST(demo_t, ctx, "debug", "", ctxs), .doc = "Contexts."},
    {TERN_CONF_LIST(demo_t, dirs, "demo.dirs", "tcp://d:1", NULL), .flags = TERN_CONF_NONEMPTY,
     .check = check_tcp, .doc = "Addresses."},
};

static const tern_conf_table_t demo_table = {
    .scope = "demo",
    .entries = demo_entries,
    .n = sizeof demo_entries / sizeof demo_entries[0],
    .size = sizeof(demo_t),
};

static demo_t d;
static char err[256];

static void setup_demo(void)
{
	err[0] = '\0';
	ck_assert_int_eq(tern_conf_init(&demo_table, &d, err, sizeof err), TERN_OK);
}

static void teardown_demo(void)
{
	tern_conf_free(&demo_table, &d);
}

/* Sets key=value, which must succeed. */
static void set_ok(const char *key, const char *value)
{
	tern_err_t e = tern_conf_table_set(&demo_table, &d, key, value, err, sizeof err);

	ck_assert_msg(e == TERN_OK, "%s=%s: %s", key, value, err);
}

/* Sets key=value, which must fail with INVALID_CONFIG and exactly want. */
static void set_fails(const char *key, const char *value, const char *want)
{
	tern_err_t e;

	err[0] = '\0';
	e = tern_conf_table_set(&demo_table, &d, key, value, err, sizeof err);
	ck_assert_msg(e == TERN_ERR_INVALID_CONFIG, "%s=%s gave %d", key, value, e);
	ck_assert_str_eq(err, want);
}

static void assert_get(const char *key, const char *want)
{
	char *s = NULL;

	ck_assert_int_eq(tern_conf_table_get(&demo_table, &d, key, &s), TERN_OK);
	ck_assert_str_eq(s, want);
	free(s);
}

/* ------------------------------------------------------------------------ */
/* Defaults and types                                                         */

START_TEST(test_defaults_fill_every_field)
{
	ck_assert(d.flag);
	ck_assert_int_eq(d.count, 1);
	ck_assert_int_eq(d.size, 1073741824);
	ck_assert_int_eq(d.retention, 604800000);
	ck_assert(d.ratio == 0.5);
	ck_assert_str_eq(d.name, "tern");
	ck_assert_str_eq(d.url, "");
	ck_assert_str_eq(d.label, "x");
	ck_assert_int_eq(d.mode, MODE_SYNC);
	ck_assert_uint_eq(d.tags.n, 2);
	ck_assert_str_eq(d.tags.v[0], "a");
	ck_assert_str_eq(d.tags.v[1], "b");
	ck_assert_uint_eq(d.ctx.n, 0);
	ck_assert_ptr_null(d.ctx.v);
}
END_TEST

/* A table whose default breaks its own rule is refused at init, naming it. */
START_TEST(test_init_refuses_a_bad_default)
{
	static const tern_conf_entry_t bad[] = {
	    {TERN_CONF_STRING(demo_t, name, "demo.name", "ok"), .doc = "A name."},
	    {TERN_CONF_INT32(demo_t, count, "num.partitions", "0", 1, 10), .doc = "How many."},
	};
	static const tern_conf_entry_t bad_enum[] = {
	    {TERN_CONF_ENUM(demo_t, mode, "flush.policy", "fast", modes), .doc = "A mode."},
	};
	tern_conf_table_t t = {"demo", bad, 2, sizeof(demo_t)};
	demo_t x;

	ck_assert_int_eq(tern_conf_init(&t, &x, err, sizeof err), TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "num.partitions: 0 is below the minimum 1");
	ck_assert_ptr_null(x.name);
	t.entries = bad_enum;
	t.n = 1;
	ck_assert_int_eq(tern_conf_init(&t, &x, err, sizeof err), TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "flush.policy: 'fast' is not one of sync, async");
}
END_TEST

START_TEST(test_bool)
{
	set_ok("demo.flag", "false");
	ck_assert(!d.flag);
	set_ok("demo.flag", " TRUE ");
	ck_assert(d.flag);
	set_ok("demo.flag", "False");
	ck_assert(!d.flag);
	set_fails("demo.flag", "yes", "demo.flag: 'yes' is not one of true, false");
	set_fails("demo.flag", "1", "demo.flag: '1' is not one of true, false");
	set_fails("demo.flag", "", "demo.flag: '' is not one of true, false");
	ck_assert(!d.flag);
}
END_TEST

START_TEST(test_int32_range_and_syntax)
{
	set_ok("num.partitions", "42");
	ck_assert_int_eq(d.count, 42);
	set_ok("num.partitions", " +7\t");
	ck_assert_int_eq(d.count, 7);
	set_ok("num.partitions", "1000");
	ck_assert_int_eq(d.count, 1000);
	set_fails("num.partitions", "-3", "num.partitions: -3 is below the minimum 1");
	set_fails("num.partitions", "0", "num.partitions: 0 is below the minimum 1");
	set_fails("num.partitions", "1001", "num.partitions: 1001 is above the maximum 1000");
	set_fails("num.partitions", "99999999999999999999",
		  "num.partitions: 99999999999999999999 is above the maximum 1000");
	set_fails("num.partitions", "-99999999999999999999",
		  "num.partitions: -99999999999999999999 is below the minimum 1");
	/* Kafka takes plain numbers: no units, no hex, no fractions. */
	set_fails("num.partitions", "abc", "num.partitions: 'abc' is not an integer");
	set_fails("num.partitions", "12abc", "num.partitions: '12abc' is not an integer");
	set_fails("num.partitions", "1.5", "num.partitions: '1.5' is not an integer");
	set_fails("num.partitions", "0x10", "num.partitions: '0x10' is not an integer");
	set_fails("num.partitions", "1 000", "num.partitions: '1 000' is not an integer");
	set_fails("num.partitions", "1k", "num.partitions: '1k' is not an integer");
	set_fails("num.partitions", "", "num.partitions: '' is not an integer");
	set_fails("num.partitions", "-", "num.partitions: '-' is not an integer");
	ck_assert_int_eq(d.count, 1000);
}
END_TEST

START_TEST(test_int64_limits)
{
	set_ok("segment.bytes", "9223372036854775807");
	ck_assert_int_eq(d.size, INT64_MAX);
	set_fails("segment.bytes", "9223372036854775808",
		  "segment.bytes: 9223372036854775808 is above the maximum 9223372036854775807");
	set_fails("segment.bytes", "13", "segment.bytes: 13 is below the minimum 14");
	set_fails("segment.bytes", "1GiB", "segment.bytes: '1GiB' is not an integer");
	set_ok("retention.ms", "-1");
	ck_assert_int_eq(d.retention, -1);
	set_fails("retention.ms", "-2", "retention.ms: -2 is below the minimum -1");
	set_fails("retention.ms", "7d", "retention.ms: '7d' is not an integer");
}
END_TEST

START_TEST(test_double)
{
	set_ok("demo.ratio", "0.25");
	ck_assert(d.ratio == 0.25);
	set_ok("demo.ratio", "1");
	ck_assert(d.ratio == 1.0);
	set_ok("demo.ratio", "1e-1");
	ck_assert(d.ratio == 0.1);
	set_ok("demo.ratio", "0");
	ck_assert(d.ratio == 0.0);
	set_fails("demo.ratio", "1.5", "demo.ratio: 1.5 is above the maximum 1");
	set_fails("demo.ratio", "-0.1", "demo.ratio: -0.1 is below the minimum 0");
	set_fails("demo.ratio", "nan", "demo.ratio: 'nan' is not a number");
	set_fails("demo.ratio", "inf", "demo.ratio: 'inf' is not a number");
	set_fails("demo.ratio", "0x1p-2", "demo.ratio: '0x1p-2' is not a number");
	set_fails("demo.ratio", "1e", "demo.ratio: '1e' is not a number");
	set_fails("demo.ratio", ".", "demo.ratio: '.' is not a number");
	set_fails("demo.ratio", "", "demo.ratio: '' is not a number");
	ck_assert(d.ratio == 0.0);
}
END_TEST

START_TEST(test_string_trim_check_and_nonempty)
{
	set_ok("demo.name", "  hello world \t");
	ck_assert_str_eq(d.name, "hello world");
	set_ok("demo.name", "");
	ck_assert_str_eq(d.name, "");
	set_ok("demo.url", "tcp://h:1");
	ck_assert_str_eq(d.url, "tcp://h:1");
	set_fails("demo.url", "http://h:1", "demo.url: 'http://h:1': expected tcp://HOST:PORT");
	ck_assert_str_eq(d.url, "tcp://h:1");
	/* The check applies to a value; empty is the absence of one. */
	set_ok("demo.url", "");
	ck_assert_str_eq(d.url, "");
	set_fails("demo.label", " ", "demo.label: must not be empty");
	ck_assert_str_eq(d.label, "x");
}
END_TEST

START_TEST(test_enum_values_and_errors)
{
	char *s = NULL;

	set_ok("flush.policy", "async");
	ck_assert_int_eq(d.mode, MODE_ASYNC);
	assert_get("flush.policy", "async");
	set_ok("flush.policy", "SYNC");
	ck_assert_int_eq(d.mode, MODE_SYNC);
	assert_get("flush.policy", "sync");
	set_fails("flush.policy", "fast", "flush.policy: 'fast' is not one of sync, async");
	set_fails("flush.policy", "", "flush.policy: '' is not one of sync, async");
	ck_assert_int_eq(d.mode, MODE_SYNC);
	/* A field written by hand with no value of its enum has no text. */
	d.mode = 42;
	ck_assert_int_eq(tern_conf_table_get(&demo_table, &d, "flush.policy", &s), TERN_ERR__INVALID_ARG);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_list_items)
{
	set_ok("demo.tags", " x , y,z ");
	ck_assert_uint_eq(d.tags.n, 3);
	ck_assert_str_eq(d.tags.v[0], "x");
	ck_assert_str_eq(d.tags.v[1], "y");
	ck_assert_str_eq(d.tags.v[2], "z");
	assert_get("demo.tags", "x,y,z");
	set_ok("demo.tags", "one");
	ck_assert_uint_eq(d.tags.n, 1);
	ck_assert_str_eq(d.tags.v[0], "one");
	set_ok("demo.tags", "  ");
	ck_assert_uint_eq(d.tags.n, 0);
	ck_assert_ptr_null(d.tags.v);
	assert_get("demo.tags", "");
	set_fails("demo.tags", "a,,b", "demo.tags: empty item in 'a,,b'");
	set_fails("demo.tags", "a,b,", "demo.tags: empty item in 'a,b,'");
	set_fails("demo.tags", ",", "demo.tags: empty item in ','");
	set_fails("demo.tags", "a, b ,a", "demo.tags: 'a' appears twice");
	ck_assert_uint_eq(d.tags.n, 0);
}
END_TEST

START_TEST(test_list_allowed_values_check_and_nonempty)
{
	set_ok("debug", "log, ISR");
	ck_assert_uint_eq(d.ctx.n, 2);
	ck_assert_str_eq(d.ctx.v[0], "log");
	ck_assert_str_eq(d.ctx.v[1], "isr");
	set_fails("debug", "log,foo", "debug: 'foo' is not one of log, isr, net");
	set_fails("debug", "net,NET", "debug: 'net' appears twice");
	ck_assert_uint_eq(d.ctx.n, 2);
	set_ok("demo.dirs", "tcp://a:1,tcp://b:2");
	ck_assert_uint_eq(d.dirs.n, 2);
	set_fails("demo.dirs", "tcp://a:1,udp://b:2",
		  "demo.dirs: 'udp://b:2': expected tcp://HOST:PORT");
	set_fails("demo.dirs", "", "demo.dirs: must not be empty");
	ck_assert_uint_eq(d.dirs.n, 2);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Keys, errors, run-time changes                                             */

START_TEST(test_unknown_key)
{
	ck_assert_ptr_null(tern_conf_find(&demo_table, "foo.bar"));
	set_fails("foo.bar", "1", "unknown key 'foo.bar'");
	set_fails("", "1", "unknown key ''");
	/* Keys are exact: Kafka's are lower case. */
	set_fails("NUM.PARTITIONS", "1", "unknown key 'NUM.PARTITIONS'");
}
END_TEST

START_TEST(test_errstr_optional_and_truncated)
{
	char small[12];

	ck_assert_int_eq(tern_conf_table_set(&demo_table, &d, "num.partitions", "0", NULL, 0),
			 TERN_ERR_INVALID_CONFIG);
	memset(small, 'z', sizeof small);
	ck_assert_int_eq(tern_conf_table_set(&demo_table, &d, "num.partitions", "0", small, sizeof small),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(small, "num.partiti");
}
END_TEST

/* A refused value leaves the old one in place, owned memory included. */
START_TEST(test_failed_set_keeps_the_old_value)
{
	char *name;
	char **tags;

	set_ok("num.partitions", "5");
	set_ok("demo.name", "kept");
	name = d.name;
	tags = d.tags.v;
	set_fails("num.partitions", "x", "num.partitions: 'x' is not an integer");
	set_fails("demo.tags", "a,,", "demo.tags: empty item in 'a,,'");
	set_fails("demo.url", "nope", "demo.url: 'nope': expected tcp://HOST:PORT");
	ck_assert_int_eq(d.count, 5);
	ck_assert_ptr_eq(d.name, name);
	ck_assert_str_eq(d.name, "kept");
	ck_assert_ptr_eq(d.tags.v, tags);
	ck_assert_str_eq(d.tags.v[1], "b");
}
END_TEST

START_TEST(test_alter_takes_only_dynamic_keys)
{
	ck_assert_int_eq(tern_conf_alter(&demo_table, &d, "flush.policy", "async", err, sizeof err),
			 TERN_OK);
	ck_assert_int_eq(d.mode, MODE_ASYNC);
	ck_assert_int_eq(tern_conf_alter(&demo_table, &d, "num.partitions", "3", err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err,
			 "num.partitions cannot change at run time; restart with the new value");
	ck_assert_int_eq(d.count, 1);
	ck_assert_int_eq(tern_conf_alter(&demo_table, &d, "segment.bytes", "12", err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "segment.bytes: 12 is below the minimum 14");
	ck_assert_int_eq(tern_conf_alter(&demo_table, &d, "nope", "1", err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "unknown key 'nope'");
}
END_TEST

/* Every value read back as text sets the same value again. */
START_TEST(test_get_round_trip)
{
	demo_t copy;
	size_t i;
	char *s = NULL;

	set_ok("demo.flag", "false");
	set_ok("num.partitions", "17");
	set_ok("segment.bytes", "123456789012");
	set_ok("retention.ms", "-1");
	set_ok("demo.ratio", "0.1");
	set_ok("demo.name", "a b");
	set_ok("demo.url", "tcp://x:9");
	set_ok("flush.policy", "async");
	set_ok("demo.tags", "p, q");
	set_ok("debug", "NET,log");
	assert_get("demo.flag", "false");
	assert_get("num.partitions", "17");
	assert_get("segment.bytes", "123456789012");
	assert_get("retention.ms", "-1");
	assert_get("demo.ratio", "0.1");
	assert_get("demo.name", "a b");
	assert_get("demo.tags", "p,q");
	assert_get("debug", "net,log");
	ck_assert_int_eq(tern_conf_table_get(&demo_table, &d, "foo", &s), TERN_ERR__INVALID_ARG);
	ck_assert_ptr_null(s);

	ck_assert_int_eq(tern_conf_init(&demo_table, &copy, err, sizeof err), TERN_OK);
	for (i = 0; i < demo_table.n; i++) {
		const tern_conf_entry_t *e = &demo_table.entries[i];
		char *a, *b;

		ck_assert_int_eq(tern_conf_format(e, &d, &a), TERN_OK);
		ck_assert_int_eq(tern_conf_table_set(&demo_table, &copy, e->name, a, err, sizeof err),
				 TERN_OK);
		ck_assert_int_eq(tern_conf_format(e, &copy, &b), TERN_OK);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	ck_assert(copy.ratio == d.ratio);
	ck_assert_int_eq(copy.size, d.size);
	ck_assert_int_eq(copy.mode, MODE_ASYNC);
	tern_conf_free(&demo_table, &copy);
}
END_TEST

/* Doubles come back in their shortest exact form. */
START_TEST(test_double_format_is_shortest_exact)
{
	static const char *const values[] = {
	    "0.1", "0.3", "1", "0", "0.123456789", "1e-07", "0.30000000000000004"};
	size_t i;

	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		set_ok("demo.ratio", values[i]);
		assert_get("demo.ratio", values[i]);
	}
}
END_TEST

START_TEST(test_find_and_iterate)
{
	size_t i, dynamic = 0;

	ck_assert_ptr_eq(tern_conf_find(&demo_table, "debug"), &demo_entries[10]);
	for (i = 0; i < demo_table.n; i++)
		dynamic += (demo_table.entries[i].flags & TERN_CONF_DYNAMIC) != 0;
	ck_assert_uint_eq(demo_table.n, 12);
	ck_assert_uint_eq(dynamic, 3);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Inheritance                                                                */

typedef struct child {
	int32_t count;
	int mode;
	char *name;
	int64_t own;
} child_t;

static const tern_conf_entry_t child_entries[] = {
    {TERN_CONF_INT32(child_t, count, "partitions", "1", 1, 50), .inherit = "num.partitions",
     .doc = "How many."},
    {TERN_CONF_ENUM(child_t, mode, "policy", "sync", modes), .inherit = "flush.policy",
     .doc = "A mode."},
    {TERN_CONF_STRING(child_t, name, "name", "c"), .inherit = "demo.name", .doc = "A name."},
    {TERN_CONF_INT64(child_t, own, "own", "5", 0, 10), .doc = "Not inherited."},
};

static const tern_conf_table_t child_table = {
    "child", child_entries, sizeof child_entries / sizeof child_entries[0], sizeof(child_t)};

START_TEST(test_inherit_copies_parent_values)
{
	child_t c;

	ck_assert_int_eq(tern_conf_init(&child_table, &c, err, sizeof err), TERN_OK);
	set_ok("num.partitions", "12");
	set_ok("flush.policy", "async");
	set_ok("demo.name", "parent");
	ck_assert_int_eq(tern_conf_table_set(&child_table, &c, "own", "7", err, sizeof err), TERN_OK);
	ck_assert_int_eq(tern_conf_inherit(&child_table, &c, &demo_table, &d, err, sizeof err),
			 TERN_OK);
	ck_assert_int_eq(c.count, 12);
	ck_assert_int_eq(c.mode, MODE_ASYNC);
	ck_assert_str_eq(c.name, "parent");
	ck_assert_int_eq(c.own, 7);

	/* A parent value outside the child's range: refused, child unchanged. */
	set_ok("num.partitions", "51");
	set_ok("demo.name", "other");
	ck_assert_int_eq(tern_conf_inherit(&child_table, &c, &demo_table, &d, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, "partitions: 51 is above the maximum 50");
	ck_assert_int_eq(c.count, 12);
	ck_assert_str_eq(c.name, "parent");
	tern_conf_free(&child_table, &c);
}
END_TEST

START_TEST(test_inherit_from_a_missing_key_fails)
{
	static const tern_conf_entry_t orphan[] = {
	    {TERN_CONF_INT64(child_t, own, "own", "5", 0, 10), .inherit = "no.such.key",
	     .doc = "Orphan."},
	};
	tern_conf_table_t t = {"child", orphan, 1, sizeof(child_t)};
	child_t c;

	ck_assert_int_eq(tern_conf_init(&t, &c, err, sizeof err), TERN_OK);
	ck_assert_int_eq(tern_conf_inherit(&t, &c, &demo_table, &d, err, sizeof err),
			 TERN_ERR__INVALID_ARG);
	ck_assert_str_eq(err, "own: inherits from 'no.such.key', not a demo key");
	ck_assert_int_eq(c.own, 5);
	tern_conf_free(&t, &c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Properties files                                                           */

static char *dir;
static char *path;

static void setup_file(void)
{
	setup_demo();
	dir = tt_mkdtemp("config");
	ck_assert_int_ge(asprintf(&path, "%s/server.properties", dir), 0);
}

static void teardown_file(void)
{
	teardown_demo();
	tt_rmtree(dir);
	free(dir);
	free(path);
	dir = path = NULL;
}

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Loads the file, which must fail with INVALID_CONFIG and "<path>:<want>". */
static void load_fails(const char *want)
{
	char full[512];

	snprintf(full, sizeof full, "%s:%s", path, want);
	err[0] = '\0';
	ck_assert_int_eq(tern_conf_load_file(&demo_table, &d, path, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_str_eq(err, full);
}

START_TEST(test_file_comments_blanks_and_separators)
{
	put("# Tern test settings\n"
	    "\n"
	    "; another comment\n"
	    "   # an indented comment\n"
	    "num.partitions=3\n"
	    "  segment.bytes =  1048576  \n"
	    "demo.name: spaced value\r\n"
	    "\t\n"
	    "demo.tags = a, b ,c\n"
	    "flush.policy=async ; libinih takes this for a comment\n"
	    "num.partitions=4\n"
	    "demo.url=\n"
	    "debug=isr");
	ck_assert_int_eq(tern_conf_load_file(&demo_table, &d, path, err, sizeof err), TERN_OK);
	ck_assert_int_eq(d.count, 4);
	ck_assert_int_eq(d.size, 1048576);
	ck_assert_str_eq(d.name, "spaced value");
	ck_assert_uint_eq(d.tags.n, 3);
	ck_assert_str_eq(d.tags.v[2], "c");
	ck_assert_int_eq(d.mode, MODE_ASYNC);
	ck_assert_str_eq(d.url, "");
	ck_assert_uint_eq(d.ctx.n, 1);
	ck_assert_str_eq(d.ctx.v[0], "isr");
	/* Untouched keys keep their defaults. */
	ck_assert(d.flag);
	ck_assert_int_eq(d.retention, 604800000);
}
END_TEST

START_TEST(test_file_empty)
{
	put("");
	ck_assert_int_eq(tern_conf_load_file(&demo_table, &d, path, err, sizeof err), TERN_OK);
	put("# only comments\n\n");
	ck_assert_int_eq(tern_conf_load_file(&demo_table, &d, path, err, sizeof err), TERN_OK);
	ck_assert_int_eq(d.count, 1);
}
END_TEST

/* Every bad line is reported with its number, and nothing of the file is
 * applied. */
START_TEST(test_file_bad_line_numbers)
{
	put("num.partitions=9\n# c\n\nthis line has no separator\ndemo.name=x\n");
	load_fails("4: expected key=value");
	put("num.partitions=9\n\nfoo.bar=1\n");
	load_fails("3: unknown key 'foo.bar'");
	put("# c\nnum.partitions=9\n\n\nnum.partitions = -3\n");
	load_fails("5: num.partitions: -3 is below the minimum 1");
	put("num.partitions=9\nflush.policy=fast\n");
	load_fails("2: flush.policy: 'fast' is not one of sync, async");
	put("num.partitions=9\n\n[broker]\nnum.partitions=2\n");
	load_fails("3: [section] headers are not allowed");
	ck_assert_int_eq(d.count, 1);
	ck_assert_int_eq(d.mode, MODE_SYNC);
}
END_TEST

/* The first bad line wins, whichever kind of error it has. */
START_TEST(test_file_first_error_wins)
{
	put("num.partitions=2\nnot a pair\nnum.partitions=0\nfoo=1\n");
	load_fails("2: expected key=value");
	put("num.partitions=0\nnot a pair\n");
	load_fails("1: num.partitions: 0 is below the minimum 1");
}
END_TEST

/* An indented line is not the continuation of the previous value (libinih's
 * multi-line values), which could silently change a key. */
START_TEST(test_file_indented_line_is_not_a_continuation)
{
	put("demo.name=first\n    second\n");
	load_fails("2: expected key=value");
	put("demo.name=first\n    num.partitions=6\n");
	ck_assert_int_eq(tern_conf_load_file(&demo_table, &d, path, err, sizeof err), TERN_OK);
	ck_assert_str_eq(d.name, "first");
	ck_assert_int_eq(d.count, 6);
}
END_TEST

START_TEST(test_file_long_line_refused)
{
	size_t n = 4000;
	char *text = malloc(n + 64), *p;

	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "num.partitions=2\ndemo.name=");
	memset(p, 'x', n);
	strcpy(p + n, "\n");
	put(text);
	err[0] = '\0';
	ck_assert_int_eq(tern_conf_load_file(&demo_table, &d, path, err, sizeof err),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_msg(strstr(err, ":2: line longer than ") != NULL, "%s", err);
	ck_assert_int_eq(d.count, 1);
	free(text);
}
END_TEST

START_TEST(test_file_missing)
{
	char *missing;
	tern_err_t e;

	ck_assert_int_ge(asprintf(&missing, "%s/nope.properties", dir), 0);
	e = tern_conf_load_file(&demo_table, &d, missing, err, sizeof err);
	ck_assert_int_eq(tern_err_to_errno(e), ENOENT);
	ck_assert_msg(strstr(err, missing) == err, "%s", err);
	free(missing);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Help and Markdown                                                          */

static const tern_conf_entry_t doc_entries[] = {
    {TERN_CONF_BOOL(demo_t, flag, "demo.flag", "true"), .flags = TERN_CONF_DYNAMIC,
     .importance = TERN_CONF_HIGH, .doc = "A switch."},
    {TERN_CONF_INT64(demo_t, size, "segment.bytes", "1073741824", 14, INT64_MAX),
     .unit = TERN_CONF_UNIT_BYTES, .importance = TERN_CONF_MEDIUM,
     .doc = "Largest size of a segment file: a log starts a new segment rather than pass it, "
	    "and this sentence wraps."},
    {TERN_CONF_INT64(demo_t, retention, "retention.ms", "604800000", -1, INT64_MAX),
     .unit = TERN_CONF_UNIT_MS, .inherit = "log.retention.ms", .doc = "How long; -1: for ever."},
    {TERN_CONF_INT32(demo_t, count, "num.partitions", "1", 1, 1000), .doc = "How many."},
    {TERN_CONF_DOUBLE(demo_t, ratio, "demo.ratio", "0.5", 0.0, 1.0), .doc = "A ratio."},
    {TERN_CONF_ENUM(demo_t, mode, "flush.policy", "sync", modes), .doc = "A mode."},
    {TERN_CONF_STRING(demo_t, name, "demo.name", ""), .doc = "A name | with a bar."},
    {TERN_CONF_LIST(demo_t, ctx, "debug", "", ctxs), .flags = TERN_CONF_DYNAMIC,
     .doc = "Contexts."},
    {TERN_CONF_LIST(demo_t, dirs, "demo.dirs", "./data", NULL), .flags = TERN_CONF_NONEMPTY,
     .doc = "Directories."},
};

static const tern_conf_table_t doc_table = {
    "demo", doc_entries, sizeof doc_entries / sizeof doc_entries[0], sizeof(demo_t)};

START_TEST(test_help_text)
{
	static const char want[] =
	    "  --demo.flag=true|false (default true; dynamic)\n"
	    "      A switch.\n"
	    "  --segment.bytes=BYTES (default 1073741824 = 1 GiB; [14,...])\n"
	    "      Largest size of a segment file: a log starts a new segment rather than\n"
	    "      pass it, and this sentence wraps.\n"
	    "  --retention.ms=MS (default 604800000 = 7 d; [-1,...]; from log.retention.ms)\n"
	    "      How long; -1: for ever.\n"
	    "  --num.partitions=INT (default 1; [1,...,1000])\n"
	    "      How many.\n"
	    "  --demo.ratio=NUM (default 0.5; [0,...,1])\n"
	    "      A ratio.\n"
	    "  --flush.policy=sync|async (default sync)\n"
	    "      A mode.\n"
	    "  --demo.name=STRING (default \"\")\n"
	    "      A name | with a bar.\n"
	    "  --debug=LIST (default \"\"; items: log, isr, net; dynamic)\n"
	    "      Contexts.\n"
	    "  --demo.dirs=LIST (default ./data)\n"
	    "      Directories.\n";
	char *s = NULL;

	ck_assert_int_eq(tern_conf_help(&doc_table, &s), TERN_OK);
	ck_assert_str_eq(s, want);
	free(s);
}
END_TEST

START_TEST(test_markdown_table)
{
	static const char want[] =
	    "| Key | Type | Default | Default from | Valid values | Dynamic | Importance | "
	    "Description |\n"
	    "|---|---|---|---|---|---|---|---|\n"
	    "| `demo.flag` | boolean | `true` | |  | yes | high | A switch. |\n"
	    "| `segment.bytes` | long | `1073741824` (1 GiB) | | [14,...] | no | medium | "
	    "Largest size of a segment file: a log starts a new segment rather than pass it, and "
	    "this sentence wraps. |\n"
	    "| `retention.ms` | long | `604800000` (7 d) | `log.retention.ms` | [-1,...] | no | "
	    "low | How long; -1: for ever. |\n"
	    "| `num.partitions` | int | `1` | | [1,...,1000] | no | low | How many. |\n"
	    "| `demo.ratio` | double | `0.5` | | [0,...,1] | no | low | A ratio. |\n"
	    "| `flush.policy` | string | `sync` | | `sync`, `async` | no | low | A mode. |\n"
	    "| `demo.name` | string | (empty) | |  | no | low | A name \\| with a bar. |\n"
	    "| `debug` | list | (empty) | | `log`, `isr`, `net` | yes | low | Contexts. |\n"
	    "| `demo.dirs` | list | `./data` | | non-empty | no | low | Directories. |\n";
	static const tern_conf_entry_t plain[] = {
	    {TERN_CONF_INT32(demo_t, count, "num.partitions", "1", INT32_MIN, INT32_MAX),
	     .doc = "Any."},
	};
	tern_conf_table_t t = {"demo", plain, 1, sizeof(demo_t)};
	char *s = NULL;

	ck_assert_int_eq(tern_conf_markdown(&doc_table, &s), TERN_OK);
	ck_assert_str_eq(s, want);
	free(s);
	/* No inherited key: no "Default from" column; the whole range: no bounds. */
	ck_assert_int_eq(tern_conf_markdown(&t, &s), TERN_OK);
	ck_assert_str_eq(s, "| Key | Type | Default | Valid values | Dynamic | Importance | "
			    "Description |\n"
			    "|---|---|---|---|---|---|---|\n"
			    "| `num.partitions` | int | `1` |  | no | low | Any. |\n");
	free(s);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("types");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_demo, teardown_demo);
	tcase_add_test(tc, test_defaults_fill_every_field);
	tcase_add_test(tc, test_init_refuses_a_bad_default);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_int32_range_and_syntax);
	tcase_add_test(tc, test_int64_limits);
	tcase_add_test(tc, test_double);
	tcase_add_test(tc, test_string_trim_check_and_nonempty);
	tcase_add_test(tc, test_enum_values_and_errors);
	tcase_add_test(tc, test_list_items);
	tcase_add_test(tc, test_list_allowed_values_check_and_nonempty);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_demo, teardown_demo);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_errstr_optional_and_truncated);
	tcase_add_test(tc, test_failed_set_keeps_the_old_value);
	tcase_add_test(tc, test_alter_takes_only_dynamic_keys);
	tcase_add_test(tc, test_get_round_trip);
	tcase_add_test(tc, test_double_format_is_shortest_exact);
	tcase_add_test(tc, test_find_and_iterate);
	tcase_add_test(tc, test_inherit_copies_parent_values);
	tcase_add_test(tc, test_inherit_from_a_missing_key_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("properties_file");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_file, teardown_file);
	tcase_add_test(tc, test_file_comments_blanks_and_separators);
	tcase_add_test(tc, test_file_empty);
	tcase_add_test(tc, test_file_bad_line_numbers);
	tcase_add_test(tc, test_file_first_error_wins);
	tcase_add_test(tc, test_file_indented_line_is_not_a_continuation);
	tcase_add_test(tc, test_file_long_line_refused);
	tcase_add_test(tc, test_file_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("docs");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_help_text);
	tcase_add_test(tc, test_markdown_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(config_suite());
}
