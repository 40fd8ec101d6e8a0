/* tools/cli.c: helpers shared by the commands of the `tern` CLI (see cli.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "tools/cli.h"

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "tern %s: ", cmd);
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
	fprintf(stderr, "Run 'tern %s --help' for usage.\n", cmd);
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
