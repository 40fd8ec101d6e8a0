/* bench/client_bench.c: `tern-bench produce`, `consume` and `e2e`, libtern's
 * producer and consumer against a running broker, in the form of Kafka's
 * ProducerPerformance, ConsumerPerformance and EndToEndLatency tools. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "tern/admin.h"
#include "tern/consumer.h"
#include "tern/producer.h"

#define DEFAULT_BOOTSTRAP "tcp://127.0.0.1:9700"
#define MIB		  (1024.0 * 1024.0) /* MB/sec is MiB/s, as Kafka's tools print it */
#define REPORT_NS	  (5 * NS_PER_S)    /* periodic lines, Kafka's reportingInterval */
#define PROGRESS_NS	  (NS_PER_S / 4)    /* the live line on a terminal */
#define NS_PER_S	  INT64_C(1000000000)
#define NS_PER_MS	  1e6

/* Latencies kept for percentiles: every record's up to this many, then an
 * evenly spaced sample (Kafka keeps 500000 the same way). */
#define MAX_SAMPLES 500000

/* Random payload text that records are cut from at random offsets: larger
 * than the CPU caches, so that payloads vary as real ones do. */
#define POOL_BYTES (8u << 20)

/* The delivery callback's opaque packs a record's send time (us since the
 * start, TAG_TIME_BITS of them: 12 days) and its size (the other 24 bits). */
#define TAG_TIME_BITS	 40
#define MAX_RECORD_SIZE	 ((1L << (64 - TAG_TIME_BITS)) - 1)
#define MAX_PAYLOAD_FILE (1u << 30)
#define IDLE_TIMEOUT_MS	 10000 /* consume and e2e give up after this long without a record */
#define CLOSE_TIMEOUT_MS 60000 /* bound on the final flush */

/* ------------------------------------------------------------------------ */
/* Helpers shared by the three subcommands                                    */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* xorshift64*: payload content and picks, not cryptography. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint64_t rnd_seed(void)
{
	return (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ UINT64_C(0x9e3779b97f4a7c15);
}

/* Fills buf with letters, digits and spaces at random: text that zstd
 * shrinks by about a quarter, as it would varied records, never the
 * all-same bytes that make any codec look fast. */
static void fill_random(uint8_t *buf, size_t len, uint64_t *s)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789  ";

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)alphabet[rnd_next(s) % (sizeof alphabet - 1)];
}

static bool parse_long(const char *s, long min, long max, long *out)
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

static int bad_value(const char *cmd, const char *opt, const char *want, const char *got)
{
	fprintf(stderr, "tern-bench %s: %s wants %s, not '%s'\n", cmd, opt, want, got);
	return 2;
}

/* libtern's warnings and errors on stderr, prefixed with the command. */
static void on_log(void *opaque, int level, const char *id, const char *line)
{
	if (level <= TERN_LOG_WARNING)
		fprintf(stderr, "tern-bench %s: libtern %s: %s\n", (const char *)opaque, id, line);
}

/* A conf with bootstrap.servers set; NULL after saying why on stderr. */
static tern_conf_t *conf_for(const char *cmd, const char *bootstrap)
{
	tern_conf_t *conf = tern_conf_new();
	char why[256];

	if (!conf) {
		fprintf(stderr, "tern-bench %s: %s\n", cmd, tern_strerror(TERN_ERR__NOMEM));
		return NULL;
	}
	if (tern_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why) != TERN_OK) {
		fprintf(stderr, "tern-bench %s: -b: %s\n", cmd, why);
		tern_conf_destroy(conf);
		return NULL;
	}
	tern_conf_set_log_cb(conf, on_log, (void *)cmd);
	return conf;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Latencies in ns: count, sum and max of all, percentiles of a sample. */
typedef struct lat {
	int64_t *sample; /* cap entries */
	size_t cap, n;
	uint64_t every; /* keep every every-th latency */
	uint64_t count;
	int64_t sum, max;
} lat_t;

typedef struct lat_summary {
	double avg_ms, max_ms, p50_ms, p95_ms, p99_ms, p999_ms;
} lat_summary_t;

static bool lat_init(lat_t *l, uint64_t expected)
{
	l->cap = MAX_SAMPLES;
	l->every = expected > MAX_SAMPLES ? (expected + MAX_SAMPLES - 1) / MAX_SAMPLES : 1;
	l->sample = malloc(l->cap * sizeof *l->sample);
	return l->sample != NULL;
}

static void lat_add(lat_t *l, int64_t ns)
{
	if (l->count % l->every == 0 && l->n < l->cap)
		l->sample[l->n++] = ns;
	l->count++;
	l->sum += ns;
	if (ns > l->max)
		l->max = ns;
}

/* Sorts the sample in place. */
static lat_summary_t lat_summarize(lat_t *l)
{
	lat_summary_t s = {0};
	const double q[] = {0.50, 0.95, 0.99, 0.999};
	double *out[] = {&s.p50_ms, &s.p95_ms, &s.p99_ms, &s.p999_ms};

	if (!l->count)
		return s;
	s.avg_ms = (double)l->sum / (double)l->count / NS_PER_MS;
	s.max_ms = (double)l->max / NS_PER_MS;
	qsort(l->sample, l->n, sizeof *l->sample, cmp_i64);
	for (size_t i = 0; i < 4 && l->n; i++) {
		size_t k = (size_t)(q[i] * (double)l->n);

		*out[i] = (double)l->sample[k < l->n ? k : l->n - 1] / NS_PER_MS;
	}
	return s;
}

/* ------------------------------------------------------------------------ */
/* produce                                                                    */

/* Lines of --payload-file, each one payload. */
typedef struct payloads {
	char *text; /* the file, '\n's replaced by '\0' */
	const char **line;
	size_t *len;
	size_t n;
} payloads_t;

/* State of `tern-bench produce`. The delivery callback runs on the
 * producer's sender thread only, one call at a time, and is the only
 * writer of the fields below `stats`; the main thread reads them after
 * tern_producer_flush() has returned (every callback done). */
typedef struct prod {
	int64_t start_ns;
	bool progress; /* stderr is a terminal: keep a live line there */
	/* stats */
	lat_t lat;
	uint64_t acked, failed, bytes;
	tern_err_t first_err;
	int64_t win_start_ns, win_count, win_bytes, win_lat_sum, win_lat_max;
	int64_t last_progress_ns;
} prod_t;

/* The callback's opaque carries the record's own figures, so the run's
 * state is reached through this one pointer, set before the first record. */
static prod_t *bench_prod;

static void clear_progress(const prod_t *p)
{
	if (p->progress)
		fputs("\r\033[K", stderr);
}

/* Kafka's periodic line for the window that ends at now. */
static void window_print(prod_t *p, int64_t now)
{
	double secs = (double)(now - p->win_start_ns) / 1e9;

	clear_progress(p);
	printf("%" PRId64 " records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, "
	       "%.1f ms max latency.\n",
	       p->win_count, (double)p->win_count / secs, (double)p->win_bytes / MIB / secs,
	       p->win_count ? (double)p->win_lat_sum / (double)p->win_count / NS_PER_MS : 0.0,
	       (double)p->win_lat_max / NS_PER_MS);
	fflush(stdout);
	p->win_start_ns = now;
	p->win_count = p->win_bytes = p->win_lat_sum = p->win_lat_max = 0;
}

/* opaque carries the record's send time and size (TAG_TIME_BITS). Runs on
 * the sender thread. */
static void on_delivery(void *opaque, const tern_delivery_t *d)
{
	prod_t *p = bench_prod;
	uint64_t tag = (uint64_t)(uintptr_t)opaque;
	int64_t now = now_ns();
	int64_t sent_us = (int64_t)(tag & ((UINT64_C(1) << TAG_TIME_BITS) - 1));
	int64_t lat = now - p->start_ns - sent_us * 1000;
	size_t size = (size_t)(tag >> TAG_TIME_BITS);

	if (d->err) {
		if (!p->failed++)
			p->first_err = d->err;
	} else {
		p->acked++;
		p->bytes += size;
		lat_add(&p->lat, lat);
		p->win_count++;
		p->win_bytes += (int64_t)size;
		p->win_lat_sum += lat;
		if (lat > p->win_lat_max)
			p->win_lat_max = lat;
	}
	if (now - p->win_start_ns >= REPORT_NS)
		window_print(p, now);
	if (p->progress && now - p->last_progress_ns >= PROGRESS_NS) {
		double secs = (double)(now - p->start_ns) / 1e9;

		fprintf(stderr, "\r\033[K%" PRIu64 " acked, %.0f records/sec, %.1f ms latency",
			p->acked, (double)p->acked / secs, (double)lat / NS_PER_MS);
		p->last_progress_ns = now;
	}
}

static void payloads_free(payloads_t *pl)
{
	free(pl->text);
	free(pl->line);
	free(pl->len);
}

/* Reads path: one payload per non-empty line. Returns 0 or an exit status
 * after saying why. */
static int payloads_load(const char *path, payloads_t *pl)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, used = 0, n = 0;
	int rc = 1;

	if (!f) {
		fprintf(stderr, "tern-bench produce: --payload-file %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	for (;;) {
		size_t got;

		if (used + 1 >= cap) {
			char *t;

			cap = cap ? cap * 2 : 1 << 16;
			if (cap > MAX_PAYLOAD_FILE) {
				fprintf(stderr,
					"tern-bench produce: --payload-file %s: above %u MiB\n",
					path, MAX_PAYLOAD_FILE >> 20);
				goto out;
			}
			if (!(t = realloc(pl->text, cap)))
				goto nomem;
			pl->text = t;
		}
		got = fread(pl->text + used, 1, cap - used - 1, f);
		used += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "tern-bench produce: reading %s: %s\n", path, strerror(errno));
		goto out;
	}
	pl->text[used] = '\n';
	for (size_t i = 0; i <= used; i++)
		n += pl->text[i] == '\n';
	pl->line = malloc(n * sizeof *pl->line);
	pl->len = malloc(n * sizeof *pl->len);
	if (!pl->line || !pl->len)
		goto nomem;
	for (size_t i = 0, start = 0; i <= used; i++) {
		if (pl->text[i] != '\n')
			continue;
		pl->text[i] = '\0';
		if (i > start && i - start <= MAX_RECORD_SIZE) {
			pl->line[pl->n] = pl->text + start;
			pl->len[pl->n++] = i - start;
		}
		start = i + 1;
	}
	if (!pl->n) {
		fprintf(stderr, "tern-bench produce: --payload-file %s has no non-empty line\n",
			path);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	fprintf(stderr, "tern-bench produce: %s\n", tern_strerror(TERN_ERR__NOMEM));
out:
	fclose(f);
	return rc;
}

static void produce_usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench produce --topic T --num-records N (--record-size S | "
		"--payload-file F)\n"
		"                          [--throughput R] [--acks A] [--compression C]\n"
		"                          [--producer-props K=V...] [-b URL] [--json]\n"
		"  Produces N records as fast as allowed and prints, like Kafka's perf-test, a\n"
		"  line every 5 s and a summary: records/sec, MB/sec (2^20 bytes of values),\n"
		"  average, max and p50/p95/p99/p99.9 latency (delivery callback - produce call).\n"
		"  --record-size S     values of S random letters and digits (varied content)\n"
		"  --payload-file F    values are lines of F picked at random\n"
		"  --throughput R      at most R records/sec (-1: unlimited, the default)\n"
		"  --acks A            all, 1 or 0 (default: the producer's, all)\n"
		"  --compression C     compression.type: zstd or none (default zstd)\n"
		"  --producer-props K=V...  any producer config key (docs/producer.md); --acks\n"
		"                      and --compression override these\n"
		"  -b, --bootstrap URL broker (default %s)\n"
		"  --json              end the output with one JSON line of the figures\n",
		DEFAULT_BOOTSTRAP);
}

int bench_produce_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"topic", required_argument, NULL, 't'},
	    {"num-records", required_argument, NULL, 'n'},
	    {"record-size", required_argument, NULL, 's'},
	    {"throughput", required_argument, NULL, 'r'},
	    {"acks", required_argument, NULL, 'a'},
	    {"compression", required_argument, NULL, 'c'},
	    {"producer-props", required_argument, NULL, 'p'},
	    {"payload-file", required_argument, NULL, 'f'},
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *topic = NULL, *acks = NULL, *compression = NULL, *payload_file = NULL;
	const char *bootstrap = DEFAULT_BOOTSTRAP;
	const char **props = NULL;
	size_t nprops = 0;
	long num = -1, size = -1, throughput = -1;
	bool json = false, want_props = false;
	payloads_t pl = {0};
	uint8_t *pool = NULL;
	tern_conf_t *conf = NULL;
	tern_producer_t *prod = NULL;
	prod_t p = {0};
	uint64_t seed = rnd_seed(), submitted = 0;
	char why[512];
	int c, rc = 1;

	props = malloc((size_t)argc * sizeof *props);
	if (!props) {
		fprintf(stderr, "tern-bench produce: %s\n", tern_strerror(TERN_ERR__NOMEM));
		return 1;
	}
	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 'n':
			if (!parse_long(optarg, 1, LONG_MAX, &num)) {
				rc = bad_value("produce", "--num-records", "a positive count",
					       optarg);
				goto out;
			}
			break;
		case 's':
			if (!parse_long(optarg, 0, MAX_RECORD_SIZE, &size)) {
				rc = bad_value("produce", "--record-size", "0 to 16777215", optarg);
				goto out;
			}
			break;
		case 'r':
			if (!parse_long(optarg, -1, LONG_MAX, &throughput) || throughput == 0) {
				rc = bad_value("produce", "--throughput",
					       "records/sec above 0, or -1", optarg);
				goto out;
			}
			break;
		case 'a':
			acks = optarg;
			break;
		case 'c':
			compression = optarg;
			break;
		case 'p':
			/* Kafka's form: --producer-props k=v k=v ...; the
			 * values after the first are left as operands by
			 * getopt and collected below. */
			want_props = true;
			props[nprops++] = optarg;
			break;
		case 'f':
			payload_file = optarg;
			break;
		case 'b':
			bootstrap = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			produce_usage(stdout);
			rc = 0;
			goto out;
		default:
			produce_usage(stderr);
			rc = 2;
			goto out;
		}
	}
	for (; optind < argc; optind++) {
		if (!want_props || !strchr(argv[optind], '=')) {
			fprintf(stderr, "tern-bench produce: unexpected argument '%s'\n",
				argv[optind]);
			produce_usage(stderr);
			rc = 2;
			goto out;
		}
		props[nprops++] = argv[optind];
	}
	if (!topic || num < 0 || (size < 0) == !payload_file) {
		fprintf(stderr, "tern-bench produce: give --topic, --num-records and one of "
				"--record-size or --payload-file\n");
		produce_usage(stderr);
		rc = 2;
		goto out;
	}

	if (payload_file && payloads_load(payload_file, &pl))
		goto out;
	if (!payload_file) {
		pool = malloc(POOL_BYTES + (size_t)size);
		if (!pool) {
			fprintf(stderr, "tern-bench produce: %s\n", tern_strerror(TERN_ERR__NOMEM));
			goto out;
		}
		fill_random(pool, POOL_BYTES + (size_t)size, &seed);
	}
	if (!lat_init(&p.lat, (uint64_t)num)) {
		fprintf(stderr, "tern-bench produce: %s\n", tern_strerror(TERN_ERR__NOMEM));
		goto out;
	}
	if (!(conf = conf_for("produce", bootstrap)))
		goto out;
	for (size_t i = 0; i < nprops; i++) {
		char *kv = strdup(props[i]), *eq;
		tern_err_t err;

		if (!kv || !(eq = strchr(kv, '='))) {
			fprintf(stderr,
				"tern-bench produce: --producer-props '%s': give KEY=VALUE\n",
				props[i]);
			free(kv);
			goto out;
		}
		*eq = '\0';
		err = tern_conf_set(conf, kv, eq + 1, why, sizeof why);
		free(kv);
		if (err) {
			fprintf(stderr, "tern-bench produce: --producer-props: %s\n", why);
			goto out;
		}
	}
	if ((acks && tern_conf_set(conf, "acks", acks, why, sizeof why)) ||
	    (compression &&
	     tern_conf_set(conf, "compression.type", compression, why, sizeof why))) {
		fprintf(stderr, "tern-bench produce: %s\n", why);
		goto out;
	}
	if (!(prod = tern_producer_new(conf, why, sizeof why))) {
		fprintf(stderr, "tern-bench produce: %s\n", why);
		goto out;
	}
	conf = NULL;

	p.progress = isatty(STDERR_FILENO);
	bench_prod = &p;
	p.start_ns = p.win_start_ns = now_ns();
	for (; submitted < (uint64_t)num; submitted++) {
		const void *value;
		size_t len;
		int64_t t = (now_ns() - p.start_ns) / 1000;
		tern_err_t err;

		if (payload_file) {
			size_t k = (size_t)(rnd_next(&seed) % pl.n);

			value = pl.line[k];
			len = pl.len[k];
		} else {
			value = pool + rnd_next(&seed) % POOL_BYTES;
			len = (size_t)size;
		}
		if (t >= INT64_C(1) << TAG_TIME_BITS) {
			fprintf(stderr,
				"tern-bench produce: runs above 12 days are not supported\n");
			break;
		}
		err = tern_produce(
		    prod, topic, TERN_PARTITION_ANY, NULL, 0, value, len, NULL, 0, on_delivery,
		    (void *)(uintptr_t)((uint64_t)len << TAG_TIME_BITS | (uint64_t)t));
		if (err) {
			fprintf(stderr, "tern-bench produce: tern_produce: %s\n",
				tern_strerror(err));
			break;
		}
		/* Kafka's ThroughputThrottler: sleep whenever ahead of R/s. */
		if (throughput > 0) {
			int64_t due = (int64_t)((double)(submitted + 1) * 1e9 / (double)throughput);
			int64_t ahead = due - (now_ns() - p.start_ns);

			if (ahead > 0) {
				struct timespec ts = {ahead / NS_PER_S, ahead % NS_PER_S};

				nanosleep(&ts, NULL);
			}
		}
	}
	if (tern_producer_flush(prod, CLOSE_TIMEOUT_MS)) {
		fprintf(stderr, "tern-bench produce: %zu records still outstanding after %d s\n",
			tern_producer_outstanding(prod), CLOSE_TIMEOUT_MS / 1000);
		goto out;
	}
	{
		int64_t end = now_ns();
		double secs = (double)(end - p.start_ns) / 1e9;
		lat_summary_t s = lat_summarize(&p.lat);
		double rps = (double)p.acked / secs, mbps = (double)p.bytes / MIB / secs;

		clear_progress(&p);
		printf("%" PRIu64 " records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg "
		       "latency, %.2f ms max latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, "
		       "%.2f ms 99.9th.\n",
		       p.acked, rps, mbps, s.avg_ms, s.max_ms, s.p50_ms, s.p95_ms, s.p99_ms,
		       s.p999_ms);
		if (p.failed)
			printf("%" PRIu64 " records failed, the first with %s\n", p.failed,
			       tern_err_name(p.first_err));
		if (json)
			printf("{\"records\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"bytes\":%" PRIu64
			       ",\"seconds\":%.3f,\"records_per_sec\":%.1f,\"mb_per_sec\":%.2f,"
			       "\"avg_latency_ms\":%.3f,\"max_latency_ms\":%.3f,\"p50_ms\":%.3f,"
			       "\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f}\n",
			       p.acked, p.failed, p.bytes, secs, rps, mbps, s.avg_ms, s.max_ms,
			       s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms);
		rc = p.failed || submitted < (uint64_t)num ? 1 : 0;
	}
out:
	tern_producer_destroy(prod);
	tern_conf_destroy(conf);
	free(p.lat.sample);
	free(pool);
	payloads_free(&pl);
	free(props);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* consume                                                                    */

/* Assigns every partition of topic to c from offset (the admin client
 * asks how many there are). Returns 0 or an exit status after saying why. */
static int assign_all(const char *cmd, const char *bootstrap, tern_consumer_t *c, const char *topic,
		      int64_t offset, size_t *nparts)
{
	tern_conf_t *conf = conf_for(cmd, bootstrap);
	tern_admin_t *a = NULL;
	tern_topic_info_t *info = NULL;
	char why[512];
	tern_err_t err;
	int rc = 1;

	if (!conf)
		return 1;
	if (!(a = tern_admin_new(conf, why, sizeof why))) {
		fprintf(stderr, "tern-bench %s: %s\n", cmd, why);
		tern_conf_destroy(conf);
		return 1;
	}
	if ((err = tern_admin_describe_topic(a, topic, &info, why, sizeof why))) {
		fprintf(stderr, "tern-bench %s: topic %s: %s\n", cmd, topic, why);
		goto out;
	}
	for (size_t i = 0; i < info->npartitions; i++) {
		err = tern_consumer_assign(c, topic, info->partitions[i].partition, offset);
		if (err) {
			fprintf(stderr, "tern-bench %s: assigning %s-%d: %s\n", cmd, topic,
				info->partitions[i].partition, tern_strerror(err));
			goto out;
		}
	}
	*nparts = info->npartitions;
	rc = 0;
out:
	tern_topic_info_destroy(info);
	tern_admin_destroy(a);
	return rc;
}

static void consume_usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench consume --topic T --messages N [-b URL] [--json]\n"
		"  Reads N records of every partition of T from the beginning and prints\n"
		"  records/sec and MB/sec (2^20 bytes of keys and values), over the whole run\n"
		"  (consumer start included) and from the first record on, like Kafka's\n"
		"  ConsumerPerformance; stops early after %d s without a record.\n"
		"  -b, --bootstrap URL broker (default %s)\n"
		"  --json              end the output with one JSON line of the figures\n",
		IDLE_TIMEOUT_MS / 1000, DEFAULT_BOOTSTRAP);
}

int bench_consume_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"topic", required_argument, NULL, 't'},
	    {"messages", required_argument, NULL, 'n'},
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *topic = NULL, *bootstrap = DEFAULT_BOOTSTRAP;
	long want = -1;
	bool json = false, progress = isatty(STDERR_FILENO);
	tern_conf_t *conf;
	tern_consumer_t *cons = NULL;
	uint64_t got = 0, bytes = 0;
	int64_t start, first = 0, last = 0, last_progress = 0;
	size_t nparts = 0;
	char why[512];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 'n':
			if (!parse_long(optarg, 1, LONG_MAX, &want))
				return bad_value("consume", "--messages", "a positive count",
						 optarg);
			break;
		case 'b':
			bootstrap = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			consume_usage(stdout);
			return 0;
		default:
			consume_usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !topic || want < 0) {
		fprintf(stderr, "tern-bench consume: give --topic and --messages, nothing else\n");
		consume_usage(stderr);
		return 2;
	}
	if (!(conf = conf_for("consume", bootstrap)))
		return 1;
	start = now_ns();
	if (!(cons = tern_consumer_new(conf, why, sizeof why))) {
		fprintf(stderr, "tern-bench consume: %s\n", why);
		tern_conf_destroy(conf);
		return 1;
	}
	if (assign_all("consume", bootstrap, cons, topic, TERN_OFFSET_BEGINNING, &nparts))
		goto out;
	while (got < (uint64_t)want) {
		tern_message_t *m = NULL;
		tern_err_t err = tern_consumer_poll(cons, IDLE_TIMEOUT_MS, &m);

		if (err == TERN_ERR__TIMED_OUT) {
			fprintf(stderr,
				"tern-bench consume: no record for %d s after %" PRIu64
				" of %ld: stopping\n",
				IDLE_TIMEOUT_MS / 1000, got, want);
			break;
		}
		if (err) {
			fprintf(stderr, "tern-bench consume: poll: %s\n", tern_strerror(err));
			tern_message_destroy(m);
			goto out;
		}
		last = now_ns();
		if (!got++)
			first = last;
		bytes += m->key_len + m->value_len;
		tern_message_destroy(m);
		if (progress && last - last_progress >= PROGRESS_NS) {
			fprintf(stderr, "\r\033[K%" PRIu64 " records, %.0f records/sec", got,
				(double)got / ((double)(last - start) / 1e9));
			last_progress = last;
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	if (got) {
		double total_s = (double)(last - start) / 1e9;
		double fetch_s = (double)(last - first) / 1e9;
		double mb = (double)bytes / MIB;
		double rps = fetch_s > 0 ? (double)(got - 1) / fetch_s : 0;
		double mbps = fetch_s > 0 ? mb / fetch_s : 0;

		printf("%" PRIu64 " records (%.2f MB) of %zu partition(s) in %.3f s: "
		       "%.1f records/sec (%.2f MB/sec) over the run, %.1f records/sec "
		       "(%.2f MB/sec) from the first record\n",
		       got, mb, nparts, total_s, (double)got / total_s, mb / total_s, rps, mbps);
		if (json)
			printf("{\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
			       ",\"seconds\":%.3f,\"records_per_sec\":%.1f,\"mb_per_sec\":%.2f,"
			       "\"fetch_seconds\":%.3f,\"fetch_records_per_sec\":%.1f,"
			       "\"fetch_mb_per_sec\":%.2f}\n",
			       got, bytes, total_s, (double)got / total_s, mb / total_s, fetch_s,
			       rps, mbps);
	}
	rc = got == (uint64_t)want ? 0 : 1;
out:
	tern_consumer_close(cons);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* e2e                                                                        */

static void e2e_usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench e2e --topic T --num-records N --record-size S [-b URL] "
		"[--json]\n"
		"  Produces N records to partition 0 of T one at a time (acks=1, linger.ms=0,\n"
		"  waiting for each acknowledgement) and consumes each before the next, like\n"
		"  Kafka's EndToEndLatency; prints the produce-to-consume latency: average,\n"
		"  p50/p95/p99/p99.9 and max.\n"
		"  -b, --bootstrap URL broker (default %s)\n"
		"  --json              end the output with one JSON line of the figures\n",
		DEFAULT_BOOTSTRAP);
}

/* Waits until the consumer knows where partition 0 starts, so that no
 * record produced after this is skipped by a start taken at the end. */
static tern_err_t wait_position(tern_consumer_t *c, const char *topic)
{
	int64_t deadline = now_ns() + (int64_t)IDLE_TIMEOUT_MS * 1000000, pos;
	tern_err_t err;

	while (!(err = tern_consumer_position(c, topic, 0, &pos)) && pos == TERN_OFFSET_INVALID) {
		struct timespec ts = {0, 5 * 1000000};

		if (now_ns() > deadline)
			return TERN_ERR__TIMED_OUT;
		nanosleep(&ts, NULL);
	}
	return err;
}

int bench_e2e_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"topic", required_argument, NULL, 't'},
	    {"num-records", required_argument, NULL, 'n'},
	    {"record-size", required_argument, NULL, 's'},
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *topic = NULL, *bootstrap = DEFAULT_BOOTSTRAP;
	long num = -1, size = -1;
	bool json = false, progress = isatty(STDERR_FILENO);
	tern_conf_t *pconf = NULL, *cconf = NULL;
	tern_producer_t *prod = NULL;
	tern_consumer_t *cons = NULL;
	uint8_t *value = NULL;
	uint64_t seed = rnd_seed();
	lat_t lat = {0};
	int64_t last_progress = 0;
	char why[512];
	tern_err_t err;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 'n':
			if (!parse_long(optarg, 1, LONG_MAX, &num))
				return bad_value("e2e", "--num-records", "a positive count",
						 optarg);
			break;
		case 's':
			/* At least 8 bytes: each value starts with its number. */
			if (!parse_long(optarg, 8, MAX_RECORD_SIZE, &size))
				return bad_value("e2e", "--record-size", "8 to 16777215", optarg);
			break;
		case 'b':
			bootstrap = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			e2e_usage(stdout);
			return 0;
		default:
			e2e_usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !topic || num < 0 || size < 0) {
		fprintf(stderr, "tern-bench e2e: give --topic, --num-records and --record-size, "
				"nothing else\n");
		e2e_usage(stderr);
		return 2;
	}
	if (!(value = malloc((size_t)size)) || !lat_init(&lat, (uint64_t)num)) {
		fprintf(stderr, "tern-bench e2e: %s\n", tern_strerror(TERN_ERR__NOMEM));
		goto out;
	}
	fill_random(value, (size_t)size, &seed);
	if (!(pconf = conf_for("e2e", bootstrap)) || !(cconf = conf_for("e2e", bootstrap)))
		goto out;
	if (tern_conf_set(pconf, "acks", "1", why, sizeof why) ||
	    tern_conf_set(pconf, "linger.ms", "0", why, sizeof why) ||
	    tern_conf_set(cconf, "fetch.max.wait.ms", "1000", why, sizeof why)) {
		fprintf(stderr, "tern-bench e2e: %s\n", why);
		goto out;
	}
	if (!(prod = tern_producer_new(pconf, why, sizeof why))) {
		fprintf(stderr, "tern-bench e2e: %s\n", why);
		goto out;
	}
	pconf = NULL;
	if (!(cons = tern_consumer_new(cconf, why, sizeof why))) {
		fprintf(stderr, "tern-bench e2e: %s\n", why);
		goto out;
	}
	cconf = NULL;
	if ((err = tern_consumer_assign(cons, topic, 0, TERN_OFFSET_END)) ||
	    (err = wait_position(cons, topic))) {
		fprintf(stderr, "tern-bench e2e: starting at the end of %s-0: %s\n", topic,
			tern_strerror(err));
		goto out;
	}
	for (uint64_t i = 0; i < (uint64_t)num; i++) {
		int64_t t0, t1;
		tern_message_t *m = NULL;

		memcpy(value, &i, sizeof i);
		t0 = now_ns();
		if ((err = tern_produce(prod, topic, 0, NULL, 0, value, (size_t)size, NULL, 0, NULL,
					NULL)) ||
		    (err = tern_producer_flush(prod, IDLE_TIMEOUT_MS))) {
			fprintf(stderr, "tern-bench e2e: record %" PRIu64 ": produce: %s\n", i,
				tern_strerror(err));
			goto out;
		}
		err = tern_consumer_poll(cons, IDLE_TIMEOUT_MS, &m);
		t1 = now_ns();
		if (err) {
			fprintf(stderr, "tern-bench e2e: record %" PRIu64 ": poll: %s\n", i,
				tern_strerror(err));
			tern_message_destroy(m);
			goto out;
		}
		if (m->value_len != (size_t)size || memcmp(m->value, value, (size_t)size)) {
			fprintf(stderr,
				"tern-bench e2e: record %" PRIu64 ": consumed offset %" PRId64
				" is not the record just produced\n",
				i, m->offset);
			tern_message_destroy(m);
			goto out;
		}
		tern_message_destroy(m);
		lat_add(&lat, t1 - t0);
		if (progress && t1 - last_progress >= PROGRESS_NS) {
			fprintf(stderr, "\r\033[K%" PRIu64 " records, %.2f ms latency", i + 1,
				(double)(t1 - t0) / NS_PER_MS);
			last_progress = t1;
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	{
		lat_summary_t s = lat_summarize(&lat);

		printf("%" PRIu64 " records of %ld bytes, end-to-end latency: %.3f ms avg, "
		       "%.3f ms 50th, %.3f ms 95th, %.3f ms 99th, %.3f ms 99.9th, %.3f ms max.\n",
		       lat.count, size, s.avg_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms,
		       s.max_ms);
		if (json)
			printf("{\"records\":%" PRIu64 ",\"record_size\":%ld,\"avg_ms\":%.3f,"
			       "\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
			       "\"max_ms\":%.3f}\n",
			       lat.count, size, s.avg_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms,
			       s.max_ms);
	}
	rc = 0;
out:
	tern_producer_destroy(prod);
	tern_consumer_close(cons);
	tern_conf_destroy(pconf);
	tern_conf_destroy(cconf);
	free(lat.sample);
	free(value);
	return rc;
}
