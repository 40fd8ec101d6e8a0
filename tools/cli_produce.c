/* tools/cli_produce.c: `tern produce`: one record per line of standard
 * input, through libtern's producer, with each acknowledgement printed as
 * it arrives (--print-acks) and every failure reported. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tern/producer.h"
#include "tools/cli.h"

#define CMD "produce"

static const char usage[] =
    "usage: tern produce TOPIC [--partition N] [--key-separator S] [--acks all|1|0]\n"
    "                    [--print-acks] [-X KEY=VALUE]...\n"
    "\n"
    "Sends one record per line of standard input (without its newline) to TOPIC,\n"
    "which must exist ('tern topic create' makes it; this command never creates\n"
    "one). Ends when standard input does and every record has its outcome.\n"
    "\n"
    "Options:\n"
    "      --partition N             send every record to partition N (default: by\n"
    "                                key, murmur2 as Kafka; null keys stick to one\n"
    "                                partition per batch)\n"
    "      --key-separator S         split each line at the first S: the key before\n"
    "                                it, the value after (default: no key); a line\n"
    "                                without S fails\n"
    "      --acks all|1|0            acknowledgements to wait for (default all)\n"
    "      --print-acks              print '<partition> <offset> <line>' on standard\n"
    "                                output for each record as it is acknowledged\n"
    "                                (offset -1 under --acks 0)\n"
    "  -X, --property KEY=VALUE      any producer config key (docs/producer.md);\n"
    "                                repeatable, applied in order\n" CLI_BOOTSTRAP_HELP "\n"
    "A record that fails prints 'tern produce: <ERROR_NAME>: <line>' on standard\n"
    "error. Exit status: 0 when every record was acknowledged, 1 when any failed,\n"
    "2 for a wrong command line.\n";

/* What the delivery callbacks share with the main thread. */
typedef struct state {
	bool print_acks;
	atomic_long failed;
} state_t;

/* One record in flight: its line, kept for the callback. */
typedef struct rec {
	state_t *st;
	size_t len;
	char line[];
} rec_t;

static void report_failure(const char *line, size_t len, tern_err_t err)
{
	fprintf(stderr, "tern " CMD ": %s: %.*s\n", tern_err_name(err), (int)len, line);
}

/* Runs on the producer's sender thread, one call at a time. */
static void on_delivery(void *opaque, const tern_delivery_t *d)
{
	rec_t *r = opaque;

	if (d->err) {
		atomic_fetch_add(&r->st->failed, 1);
		report_failure(r->line, r->len, d->err);
	} else if (r->st->print_acks) {
		printf("%" PRId32 " %" PRId64 " %.*s\n", d->partition, d->offset, (int)r->len,
		       r->line);
		fflush(stdout);
	}
	free(r);
}

/* Checks that topic (and partition, unless TERN_PARTITION_ANY) exists, so
 * that a wrong name fails at once with a clear message instead of after
 * max.block.ms. */
static int check_topic(const char *bootstrap, const char *topic, long partition)
{
	tern_topic_info_t *t = NULL;
	tern_admin_t *a;
	char why[1024];
	tern_err_t err;
	int rc;

	a = cli_admin_new(CMD, bootstrap, &rc);
	if (!a)
		return rc;
	rc = CLI_EXIT_FAIL;
	err = tern_admin_describe_topic(a, topic, &t, why, sizeof why);
	if (err == TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
		cli_error(CMD, "topic '%s' does not exist", topic);
		fprintf(stderr,
			"Create it with 'tern topic create %s'; 'tern topic list' lists "
			"the topics.\n",
			topic);
	} else if (err) {
		cli_report(CMD, err, why, bootstrap);
	} else if (partition != TERN_PARTITION_ANY && (size_t)partition >= t->npartitions) {
		cli_error(CMD, "topic '%s' has no partition %ld: its partitions are 0 to %zu",
			  topic, partition, t->npartitions - 1);
	} else {
		rc = CLI_EXIT_OK;
	}
	tern_topic_info_destroy(t);
	tern_admin_destroy(a);
	return rc;
}

/* Only errors reach standard error: warnings (a retry, a broker that moved)
 * are libtern's business while records still have their callbacks coming. */
static void on_log(void *opaque, int level, const char *id, const char *line)
{
	if (level <= TERN_LOG_ERR)
		fprintf(stderr, "tern " CMD ": %s: %s\n", id, line);
}

/* Sends every line of in; returns the number of lines read, or -1 after
 * reporting a read error. */
static long produce_lines(tern_producer_t *p, state_t *st, FILE *in, const char *topic,
			  int32_t partition, const char *sep)
{
	size_t cap = 0, seplen = sep ? strlen(sep) : 0;
	char *line = NULL;
	long n = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, in)) >= 0) {
		const char *key = NULL, *val = line;
		size_t klen = 0, vlen;
		rec_t *r;
		tern_err_t err;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		n++;
		vlen = (size_t)len;
		if (sep) {
			char *at = memmem(line, (size_t)len, sep, seplen);

			if (!at) {
				cli_error(CMD, "line %ld has no key separator '%s': %s", n, sep,
					  line);
				atomic_fetch_add(&st->failed, 1);
				continue;
			}
			key = line;
			klen = (size_t)(at - line);
			val = at + seplen;
			vlen = (size_t)len - klen - seplen;
		}
		r = malloc(sizeof *r + (size_t)len + 1);
		if (!r) {
			cli_error(CMD, "out of memory");
			atomic_fetch_add(&st->failed, 1);
			break;
		}
		r->st = st;
		r->len = (size_t)len;
		memcpy(r->line, line, (size_t)len + 1);
		err = tern_produce(p, topic, partition, key, klen, val, vlen, NULL, 0, on_delivery,
				   r);
		if (err) {
			atomic_fetch_add(&st->failed, 1);
			report_failure(line, (size_t)len, err);
			free(r);
			if (err == TERN_ERR__FATAL)
				break;
		}
	}
	free(line);
	if (ferror(in)) {
		cli_error(CMD, "cannot read standard input");
		return -1;
	}
	return n;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"partition", required_argument, NULL, 'p'},
	    {"key-separator", required_argument, NULL, 'k'},
	    {"acks", required_argument, NULL, 'a'},
	    {"print-acks", no_argument, NULL, 'P'},
	    {"property", required_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *bootstrap = CLI_DEFAULT_BOOTSTRAP, *sep = NULL, *topic;
	tern_admin_config_t *props = NULL; /* --acks and -X, in command-line order */
	tern_producer_t *p = NULL;
	tern_conf_t *conf = NULL;
	state_t st = {0};
	long partition = TERN_PARTITION_ANY, n;
	size_t nprops = 0;
	char why[1024], *eq;
	int c, rc = CLI_EXIT_USAGE;

	props = calloc((size_t)argc, sizeof *props);
	if (!props) {
		cli_error(CMD, "out of memory");
		return CLI_EXIT_FAIL;
	}
	while ((c = cli_getopt(CMD, argc, argv, ":b:X:h", longopts)) != -1) {
		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'p':
			if (!cli_parse_long(optarg, 0, INT32_MAX, &partition)) {
				cli_usage_error(CMD,
						"--partition '%s': give a partition number "
						"(0, 1, ...)",
						optarg);
				goto out;
			}
			break;
		case 'k':
			if (!optarg[0]) {
				cli_usage_error(CMD, "--key-separator: give a non-empty separator");
				goto out;
			}
			sep = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "all") != 0 && strcmp(optarg, "1") != 0 &&
			    strcmp(optarg, "0") != 0) {
				cli_usage_error(CMD, "--acks '%s': use all, 1 or 0", optarg);
				goto out;
			}
			props[nprops++] = (tern_admin_config_t){"acks", optarg};
			break;
		case 'P':
			st.print_acks = true;
			break;
		case 'X':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				cli_usage_error(CMD, "-X '%s': give KEY=VALUE", optarg);
				goto out;
			}
			*eq = '\0';
			props[nprops++] = (tern_admin_config_t){optarg, eq + 1};
			break;
		case 'h':
			fputs(usage, stdout);
			rc = CLI_EXIT_OK;
			goto out;
		default:
			goto out;
		}
	}
	if (argc - optind != 1) {
		cli_usage_error(CMD, argc - optind < 1 ? "no TOPIC given" : "one TOPIC only");
		goto out;
	}
	topic = argv[optind];
	conf = cli_conf_new(CMD, bootstrap, &rc);
	if (!conf)
		goto out;
	rc = CLI_EXIT_USAGE;
	for (size_t i = 0; i < nprops; i++) {
		if (tern_conf_set(conf, props[i].name, props[i].value, why, sizeof why) !=
		    TERN_OK) {
			cli_usage_error(CMD, "%s", why);
			goto out;
		}
	}
	tern_conf_set_log_cb(conf, on_log, NULL);

	rc = check_topic(bootstrap, topic, partition);
	if (rc != CLI_EXIT_OK)
		goto out;
	p = tern_producer_new(conf, why, sizeof why);
	if (!p) {
		cli_error(CMD, "cannot start the producer: %s", why);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	conf = NULL; /* the producer's now */
	n = produce_lines(p, &st, stdin, topic, (int32_t)partition, sep);
	tern_producer_flush(p, -1);
	if (tern_producer_fatal_error(p, why, sizeof why))
		cli_error(CMD, "the producer stopped: %s", why);
	tern_producer_destroy(p);
	if (n < 0 || atomic_load(&st.failed) > 0) {
		if (n >= 0)
			cli_error(CMD, "%ld of %ld records failed", atomic_load(&st.failed), n);
		rc = CLI_EXIT_FAIL;
	} else {
		rc = CLI_EXIT_OK;
	}
out:
	tern_conf_destroy(conf);
	free(props);
	return rc;
}

const cli_command_t cli_produce_command = {
    .name = "produce",
    .summary = "send the lines of standard input as records",
    .run = run,
};
