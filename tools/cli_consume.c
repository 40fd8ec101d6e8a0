/* tools/cli_consume.c: `tern consume`: prints the records of a topic's
 * partitions through libtern's consumer, as text lines or one JSON object
 * per record, until interrupted, a number of records, or (--exit-at-end) the
 * high-water marks seen at start. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tern/consumer.h"
#include "tools/cli.h"

#define CMD "consume"

static const char usage[] =
    "usage: tern consume TOPIC [--partition N] [--from-beginning | --offset O]\n"
    "                    [--group G] [--max-messages N] [--exit-at-end]\n"
    "                    [--print-offset] [--print-key] [--format text|json]\n"
    "                    [-X KEY=VALUE]...\n"
    "\n"
    "Prints the records of TOPIC (every partition, or --partition N), which must\n"
    "exist, in offset order per partition, until interrupted (Ctrl-C), until\n"
    "--max-messages records, or with --exit-at-end once every partition is read\n"
    "up to the high-water mark it had when the command started.\n"
    "\n"
    "Where to start: new records only (default); --from-beginning: the log start;\n"
    "--offset O: offset O (needs --partition); with --group G: the group's\n"
    "committed offset, else new records (with --from-beginning: the log start).\n"
    "\n"
    "Options:\n"
    "      --partition N             read partition N only\n"
    "      --from-beginning          start at the log start offset\n"
    "      --offset O                start at offset O (0, 1, ...) of --partition\n"
    "      --group G                 start at G's committed offsets and commit the\n"
    "                                positions reached (group.id; the consumer\n"
    "                                commits every auto.commit.interval.ms and at\n"
    "                                the end)\n"
    "      --max-messages N          stop after N records\n"
    "      --exit-at-end             stop at the high-water marks seen at start\n"
    "      --print-offset            text: prefix each value with '<partition>\n"
    "                                <offset> '\n"
    "      --print-key               text: prefix each value with its key and a\n"
    "                                space (null for a null key)\n"
    "  -f, --format text|json        text (default): the value, then a newline\n"
    "                                (null for a null value); json: one object per\n"
    "                                record with partition, offset, timestamp, key,\n"
    "                                value and headers, where null stays null and\n"
    "                                bytes that are not UTF-8 are {\"base64\":...}\n"
    "  -X, --property KEY=VALUE      any consumer config key (docs/consumer.md);\n"
    "                                repeatable, applied in order\n" CLI_BOOTSTRAP_HELP "\n"
    "Exit status: 0 when it stopped as asked (or on SIGINT/SIGTERM), 1 when a\n"
    "partition could not be read, 2 for a wrong command line.\n";

enum {
	OPT_PARTITION = 256,
	OPT_FROM_BEGINNING,
	OPT_OFFSET,
	OPT_GROUP,
	OPT_MAX_MESSAGES,
	OPT_EXIT_AT_END,
	OPT_PRINT_OFFSET,
	OPT_PRINT_KEY,
};

typedef struct opts {
	const char *bootstrap;
	const char *topic;
	const char *group;
	long partition; /* -1: every partition */
	long offset;	/* -1: not given */
	bool from_beginning;
	long max_messages; /* 0: no limit */
	bool exit_at_end;
	bool print_offset;
	bool print_key;
	bool json;
	tern_admin_config_t *props; /* -X, in command-line order */
	size_t nprops;
} opts_t;

/* One partition read: where --exit-at-end stops it. */
typedef struct part {
	int32_t id;
	int64_t end; /* the HWM at start */
	bool done;   /* --exit-at-end: the position reached end */
} part_t;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* Only errors reach standard error: retries and moved leaders are
 * libtern's business. */
static void on_log(void *opaque, int level, const char *id, const char *line)
{
	if (level <= TERN_LOG_ERR)
		fprintf(stderr, "tern " CMD ": %s: %s\n", id, line);
}

/* The partitions to read and their HWMs, from the admin client's
 * Metadata and ListOffsets; NULL after reporting why not. */
static part_t *plan(const opts_t *o, size_t *nparts, int *rc)
{
	tern_topic_info_t *t = NULL;
	part_t *parts = NULL;
	tern_admin_t *a;
	char why[1024];
	tern_err_t err;

	a = cli_admin_new(CMD, o->bootstrap, rc);
	if (!a)
		return NULL;
	*rc = CLI_EXIT_FAIL;
	err = tern_admin_describe_topic(a, o->topic, &t, why, sizeof why);
	if (err == TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
		cli_error(CMD, "topic '%s' does not exist", o->topic);
		fprintf(stderr, "'tern topic list' lists the topics.\n");
		goto out;
	}
	if (err) {
		cli_report(CMD, err, why, o->bootstrap);
		goto out;
	}
	if (t->npartitions == 0) {
		cli_error(CMD, "topic '%s' has no partitions", o->topic);
		goto out;
	}
	if (o->partition >= 0 && (size_t)o->partition >= t->npartitions) {
		cli_error(CMD, "topic '%s' has no partition %ld: its partitions are 0 to %zu",
			  o->topic, o->partition, t->npartitions - 1);
		goto out;
	}
	*nparts = o->partition >= 0 ? 1 : t->npartitions;
	parts = calloc(*nparts, sizeof *parts);
	if (!parts) {
		cli_error(CMD, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < *nparts; i++) {
		const tern_partition_info_t *pi =
		    &t->partitions[o->partition >= 0 ? (size_t)o->partition : i];

		parts[i].id = pi->partition;
		parts[i].end = pi->high_watermark;
		if (o->exit_at_end && pi->high_watermark < 0) {
			cli_error(CMD,
				  "cannot read the high-water mark of partition %" PRId32 ": %s",
				  pi->partition,
				  tern_err_name(pi->offsets_err ? pi->offsets_err : pi->err));
			free(parts);
			parts = NULL;
			goto out;
		}
	}
	*rc = CLI_EXIT_OK;
out:
	tern_topic_info_destroy(t);
	tern_admin_destroy(a);
	return parts;
}

static void put_text(const opts_t *o, const tern_message_t *m)
{
	if (o->print_offset)
		printf("%" PRId32 " %" PRId64 " ", m->partition, m->offset);
	if (o->print_key) {
		if (m->key)
			fwrite(m->key, 1, m->key_len, stdout);
		else
			fputs("null", stdout);
		putchar(' ');
	}
	if (m->value)
		fwrite(m->value, 1, m->value_len, stdout);
	else
		fputs("null", stdout);
	putchar('\n');
}

static void put_json(const tern_message_t *m)
{
	printf("{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64
	       ",\"key\":",
	       m->partition, m->offset, m->timestamp);
	cli_put_json_bytes(stdout, m->key, m->key_len);
	fputs(",\"value\":", stdout);
	cli_put_json_bytes(stdout, m->value, m->value_len);
	fputs(",\"headers\":[", stdout);
	for (size_t i = 0; i < m->nheaders; i++) {
		const tern_header_t *h = &m->headers[i];

		fputs(i ? ",{\"key\":" : "{\"key\":", stdout);
		cli_put_json_bytes(stdout, (const uint8_t *)h->key, h->key_len);
		fputs(",\"value\":", stdout);
		cli_put_json_bytes(stdout, h->value, h->value_len);
		putchar('}');
	}
	fputs("]}\n", stdout);
}

static part_t *find_part(part_t *parts, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i].id == id)
			return &parts[i];
	return NULL;
}

/* --exit-at-end: marks the partitions whose position reached their end
 * (a partition may get there without a record: an empty one, a start at
 * the end, or batches that deliver nothing); true once all are done. */
static bool all_done(tern_consumer_t *c, const char *topic, part_t *parts, size_t n)
{
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		int64_t pos;

		if (!parts[i].done &&
		    tern_consumer_position(c, topic, parts[i].id, &pos) == TERN_OK &&
		    pos != TERN_OFFSET_INVALID && pos >= parts[i].end)
			parts[i].done = true;
		all = all && parts[i].done;
	}
	return all;
}

/* Polls and prints until told to stop; returns the exit status. */
static int consume(tern_consumer_t *c, const opts_t *o, part_t *parts, size_t nparts)
{
	long printed = 0;

	while (!stop) {
		tern_message_t *m = NULL;
		tern_err_t err;
		part_t *p;

		if (o->exit_at_end && all_done(c, o->topic, parts, nparts))
			return CLI_EXIT_OK;
		/* Output is flushed whenever nothing is waiting, so that a pipe
		 * sees records as they come without a write per record. */
		err = tern_consumer_poll(c, 0, &m);
		if (err == TERN_ERR__TIMED_OUT) {
			fflush(stdout);
			err = tern_consumer_poll(c, 100, &m);
		}
		if (err == TERN_ERR__TIMED_OUT)
			continue;
		if (err) {
			if (m && m->partition >= 0)
				cli_error(CMD,
					  "partition %" PRId32 " at offset %" PRId64 ": %s (%s)",
					  m->partition, m->offset, tern_err_name(err),
					  tern_strerror(err));
			else
				cli_error(CMD, "%s (%s)", tern_err_name(err), tern_strerror(err));
			tern_message_destroy(m);
			return CLI_EXIT_FAIL;
		}
		p = find_part(parts, nparts, m->partition);
		/* Under --exit-at-end a record at or past the end of its
		 * partition was produced after the start: not ours to print. */
		if (o->exit_at_end && p && m->offset >= p->end) {
			p->done = true;
			tern_message_destroy(m);
			continue;
		}
		if (o->json)
			put_json(m);
		else
			put_text(o, m);
		if (o->exit_at_end && p && m->offset + 1 >= p->end)
			p->done = true;
		tern_message_destroy(m);
		if (o->max_messages > 0 && ++printed >= o->max_messages)
			return CLI_EXIT_OK;
	}
	return CLI_EXIT_OK;
}

/* Parses the command line into o; returns -1 to go on, else the exit
 * status (--help printed, or a usage error reported). */
static int parse(int argc, char **argv, opts_t *o)
{
	static const struct option longopts[] = {
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"partition", required_argument, NULL, OPT_PARTITION},
	    {"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
	    {"offset", required_argument, NULL, OPT_OFFSET},
	    {"group", required_argument, NULL, OPT_GROUP},
	    {"max-messages", required_argument, NULL, OPT_MAX_MESSAGES},
	    {"exit-at-end", no_argument, NULL, OPT_EXIT_AT_END},
	    {"print-offset", no_argument, NULL, OPT_PRINT_OFFSET},
	    {"print-key", no_argument, NULL, OPT_PRINT_KEY},
	    {"format", required_argument, NULL, 'f'},
	    {"property", required_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *eq;
	int c;

	while ((c = cli_getopt(CMD, argc, argv, ":b:f:X:h", longopts)) != -1) {
		switch (c) {
		case 'b':
			o->bootstrap = optarg;
			break;
		case OPT_PARTITION:
			if (!cli_parse_long(optarg, 0, INT32_MAX, &o->partition))
				return cli_usage_error(
				    CMD, "--partition '%s': give a partition number (0, 1, ...)",
				    optarg);
			break;
		case OPT_FROM_BEGINNING:
			o->from_beginning = true;
			break;
		case OPT_OFFSET:
			if (!cli_parse_long(optarg, 0, INT64_MAX, &o->offset))
				return cli_usage_error(
				    CMD, "--offset '%s': give an offset (0, 1, ...)", optarg);
			break;
		case OPT_GROUP:
			if (!optarg[0])
				return cli_usage_error(CMD, "--group: give a non-empty group name");
			o->group = optarg;
			break;
		case OPT_MAX_MESSAGES:
			if (!cli_parse_long(optarg, 1, INT64_MAX, &o->max_messages))
				return cli_usage_error(
				    CMD,
				    "--max-messages '%s': give a number of records (1, 2, ...)",
				    optarg);
			break;
		case OPT_EXIT_AT_END:
			o->exit_at_end = true;
			break;
		case OPT_PRINT_OFFSET:
			o->print_offset = true;
			break;
		case OPT_PRINT_KEY:
			o->print_key = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				o->json = true;
			else if (strcmp(optarg, "text") == 0)
				o->json = false;
			else
				return cli_usage_error(CMD, "unknown format '%s': use text or json",
						       optarg);
			break;
		case 'X':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return cli_usage_error(CMD, "-X '%s': give KEY=VALUE", optarg);
			*eq = '\0';
			o->props[o->nprops++] = (tern_admin_config_t){optarg, eq + 1};
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(CMD,
				       argc - optind < 1 ? "no TOPIC given" : "one TOPIC only");
	o->topic = argv[optind];
	if (o->from_beginning && o->offset >= 0)
		return cli_usage_error(CMD, "--from-beginning and --offset: give one of them");
	if (o->offset >= 0 && o->partition < 0)
		return cli_usage_error(CMD,
				       "--offset needs --partition N: offsets are per partition");
	return -1;
}

/* The consumer's conf: the CLI's connection settings, the group, then -X
 * in order; NULL after reporting why not. */
static tern_conf_t *consumer_conf(const opts_t *o, int *rc)
{
	tern_conf_t *conf = cli_conf_new(CMD, o->bootstrap, rc);
	char why[1024];

	if (!conf)
		return NULL;
	*rc = CLI_EXIT_USAGE;
	if (o->group) {
		if (tern_conf_set(conf, "group.id", o->group, why, sizeof why) != TERN_OK ||
		    (o->from_beginning && tern_conf_set(conf, "auto.offset.reset", "earliest", why,
							sizeof why) != TERN_OK)) {
			cli_usage_error(CMD, "%s", why);
			goto fail;
		}
	}
	for (size_t i = 0; i < o->nprops; i++) {
		if (tern_conf_set(conf, o->props[i].name, o->props[i].value, why, sizeof why) !=
		    TERN_OK) {
			cli_usage_error(CMD, "%s", why);
			goto fail;
		}
	}
	tern_conf_set_log_cb(conf, on_log, NULL);
	return conf;
fail:
	tern_conf_destroy(conf);
	return NULL;
}

static int run(int argc, char **argv)
{
	opts_t o = {.bootstrap = CLI_DEFAULT_BOOTSTRAP, .partition = -1, .offset = -1};
	struct sigaction sa = {.sa_handler = on_signal};
	tern_consumer_t *c = NULL;
	tern_conf_t *conf = NULL;
	part_t *parts = NULL;
	size_t nparts = 0;
	int64_t start;
	char why[1024];
	tern_err_t err;
	int rc;

	o.props = calloc((size_t)argc, sizeof *o.props);
	if (!o.props) {
		cli_error(CMD, "out of memory");
		return CLI_EXIT_FAIL;
	}
	rc = parse(argc, argv, &o);
	if (rc >= 0)
		goto out;
	conf = consumer_conf(&o, &rc);
	if (!conf)
		goto out;
	parts = plan(&o, &nparts, &rc);
	if (!parts)
		goto out;
	c = tern_consumer_new(conf, why, sizeof why);
	if (!c) {
		cli_error(CMD, "cannot start the consumer: %s", why);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	conf = NULL; /* the consumer's now */

	if (o.offset >= 0)
		start = o.offset;
	else if (o.group)
		start = TERN_OFFSET_STORED;
	else if (o.from_beginning)
		start = TERN_OFFSET_BEGINNING;
	else
		start = TERN_OFFSET_END;
	for (size_t i = 0; i < nparts; i++) {
		err = tern_consumer_assign(c, o.topic, parts[i].id, start);
		if (err) {
			cli_error(CMD, "cannot read partition %" PRId32 ": %s", parts[i].id,
				  tern_strerror(err));
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = consume(c, &o, parts, nparts);
	if (fflush(stdout) != 0) {
		cli_error(CMD, "cannot write standard output");
		rc = CLI_EXIT_FAIL;
	}
out:
	if (c) {
		/* With --group this commits the positions reached. */
		err = tern_consumer_close(c);
		if (err && o.group) {
			cli_error(CMD, "cannot commit the offsets of group '%s': %s (%s)", o.group,
				  tern_err_name(err), tern_strerror(err));
			rc = CLI_EXIT_FAIL;
		}
	}
	tern_conf_destroy(conf);
	free(parts);
	free(o.props);
	return rc;
}

const cli_command_t cli_consume_command = {
    .name = "consume",
    .summary = "print the records of a topic",
    .run = run,
};
