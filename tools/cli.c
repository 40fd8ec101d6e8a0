/* tools/cli.c: helpers shared by the commands of the `tern` CLI (see cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

const char *cli_program = "tern";

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s %s: ", cli_program, cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Run '%s %s --help' for usage.\n", cli_program, cmd);
	return CLI_EXIT_USAGE;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == ':') {
		cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
		return -2;
	}
	if (c == '?') {
		/* getopt sets optopt for an unknown short option, and leaves it 0
		 * for a long one, which is then the argument it just passed. */
		if (optopt)
			cli_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return -2;
	}
	return c;
}

void cli_put_text_bytes(FILE *f, const uint8_t *p, size_t len)
{
	if (!p) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(f, "\\%c", p[i]);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
	fputc('"', f);
}

/* The length of the UTF-8 sequence at p[0..left), or 0 when it is not a
 * valid one (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF). */
static size_t utf8_seq(const uint8_t *p, size_t left)
{
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and
	 * code points past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static bool is_utf8(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void put_base64(FILE *f, const uint8_t *p, size_t len)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		fputc(digits[v >> 18 & 63], f);
		fputc(digits[v >> 12 & 63], f);
		fputc(left > 1 ? digits[v >> 6 & 63] : '=', f);
		fputc(left > 2 ? digits[v & 63] : '=', f);
	}
}

void cli_put_json_bytes(FILE *f, const uint8_t *p, size_t len)
{
	if (!p) {
		fputs("null", f);
		return;
	}
	if (!is_utf8(p, len)) {
		fputs("{\"base64\":\"", f);
		put_base64(f, p, len);
		fputs("\"}", f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		switch (p[i]) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				fprintf(f, "\\u%04x", p[i]);
			else
				fputc(p[i], f);
		}
	}
	fputc('"', f);
}

void cli_put_json_str(FILE *f, const char *s)
{
	cli_put_json_bytes(f, (const uint8_t *)s, strlen(s));
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

tern_conf_t *cli_conf_new(const char *cmd, const char *bootstrap, int *status)
{
	tern_conf_t *conf = tern_conf_new();
	char why[512];

	*status = CLI_EXIT_FAIL;
	if (!conf) {
		cli_error(cmd, "out of memory");
		return NULL;
	}
	if (tern_conf_set(conf, "socket.connection.setup.timeout.ms", CLI_CONNECT_TIMEOUT_MS, why,
			  sizeof why) != TERN_OK ||
	    tern_conf_set(conf, "client.id", "tern-cli", why, sizeof why) != TERN_OK) {
		cli_error(cmd, "%s", why);
		tern_conf_destroy(conf);
		return NULL;
	}
	if (tern_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why) != TERN_OK) {
		*status = cli_usage_error(cmd, "bad -b/--bootstrap: %s", why);
		tern_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

tern_admin_t *cli_admin_new(const char *cmd, const char *bootstrap, int *status)
{
	tern_conf_t *conf = cli_conf_new(cmd, bootstrap, status);
	tern_admin_t *a;
	char why[512];

	if (!conf)
		return NULL;
	a = tern_admin_new(conf, why, sizeof why);
	if (!a) {
		cli_error(cmd, "cannot start the admin client: %s", why);
		tern_conf_destroy(conf);
	}
	return a;
}

void cli_report(const char *cmd, tern_err_t err, const char *errstr, const char *bootstrap)
{
	const char *hint = NULL;

	cli_error(cmd, "%s", errstr);
	switch (err) {
	case TERN_ERR_NETWORK_EXCEPTION:
	case TERN_ERR_REQUEST_TIMED_OUT:
		fprintf(stderr,
			"Is ternd running at %s? Start one with 'ternd --dev', or name a running "
			"broker with -b tcp://HOST:PORT.\n",
			bootstrap);
		return;
	case TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION:
		hint = "'tern topic list' lists the topics; 'tern topic create NAME' makes one.";
		break;
	case TERN_ERR_TOPIC_ALREADY_EXISTS:
		hint =
		    "Choose another name, or delete the topic first with 'tern topic delete NAME'.";
		break;
	case TERN_ERR_INVALID_TOPIC_EXCEPTION:
		hint = "A topic name is 1 to 249 characters of a-z, A-Z, 0-9, '.', '_' and '-' "
		       "(not '.' or '..').";
		break;
	case TERN_ERR_INVALID_CONFIG:
		hint = "docs/configuration.md lists the topic keys, their values and ranges.";
		break;
	case TERN_ERR_INVALID_REPLICATION_FACTOR:
		hint = "The replication factor is at most the number of brokers ('tern cluster "
		       "status' lists them).";
		break;
	case TERN_ERR_INVALID_PARTITIONS:
		hint = "Give --partitions between 1 and 10000.";
		break;
	default:
		break;
	}
	if (hint)
		fprintf(stderr, "%s\n", hint);
}
