/* tests/broker/test_stats.c: a real ternd's Prometheus endpoint: it answers
 * GET /metrics with the partition, request and fsync figures, and they move
 * with what the broker does. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log/log.h"
#include "tclient.h"
#include "testutil.h"

static tc_broker_t br;
static tc_conn_t conn;
static char metrics_arg[] = "--metrics.listener=http://127.0.0.1:0";

static void up(void)
{
	tc_broker_init(&br, "stats");
	br.extra[br.nextra++] = metrics_arg;
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
}

static void down(void)
{
	if (conn.pool)
		tc_close(&conn);
	tc_broker_fini(&br);
}

/* The port ternd printed ("metrics on port N"). */
static int metrics_port(void)
{
	char path[512], *text, *at;
	int port = -1;

	snprintf(path, sizeof path, "%s/out.txt", br.dir);
	text = tt_read_text(path);
	ck_assert_ptr_nonnull(text);
	at = strstr(text, "metrics on port ");
	ck_assert_msg(at != NULL, "ternd did not print its metrics port:\n%s", text);
	port = atoi(at + strlen("metrics on port "));
	free(text);
	ck_assert_int_gt(port, 0);
	return port;
}

/* GET path over a plain socket; returns the whole response (malloc()ed). */
static char *http_get(int port, const char *path)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256], *buf;
	size_t len = 0, cap = 1 << 16;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == cap - 1) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* The value of the sample line that starts with series ("name{labels}"). */
static double sample(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	ck_abort_msg("no sample %s in:\n%s", series, text);
	return 0;
}

START_TEST(metrics_count_led_partitions_requests_and_fsyncs)
{
	int port = metrics_port();
	char *text;
	uint8_t *batch;
	size_t len;
	int64_t base;

	ck_assert_int_eq(tc_create_topic(&conn, "m", 3, NULL, 0), 0);
	batch = tc_batch(10, "v", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "m", 1, 1, batch, len, &base), 0);
	ck_assert_int_eq(tc_produce(&conn, "m", 2, -1, batch, len, &base), 0);
	free(batch);

	text = http_get(port, "/metrics");
	ck_assert_msg(strstr(text, "200 OK") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "text/plain; version=0.0.4") != NULL, "%s", text);
	/* One broker leads all three partitions, each with its whole ISR. */
	ck_assert_double_eq(sample(text, "tern_partitions{mode=\"target\"}"), 3);
	ck_assert_double_eq(sample(text, "tern_partitions{mode=\"offline\"}"), 0);
	ck_assert_double_eq(sample(text, "tern_under_replicated_partitions"), 0);
	ck_assert_double_eq(sample(text, "tern_offline_partitions"), 0);
	/* Both produce requests were timed; sync topics fsynced at least once. */
	ck_assert_double_ge(sample(text, "tern_request_latency_seconds_count{api=\"produce\"}"), 2);
	ck_assert_double_ge(sample(text, "tern_fsync_latency_seconds_count"), 1);
	free(text);

	text = http_get(port, "/nothing");
	ck_assert_msg(strstr(text, "404") != NULL, "%s", text);
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, up, down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, metrics_count_led_partitions_requests_and_fsyncs);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(suite());
}
