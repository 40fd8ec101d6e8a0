/* tools/cli_topic.c: `tern topic create|list|describe|delete|alter`, the
 * topic commands, over libtern's admin client (tern/admin.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

/* One subcommand of `tern topic`. cmd is "topic <name>" for messages. */
typedef struct sub {
	const char *name;
	const char *summary;
	int (*run)(const char *cmd, int argc, char **argv);
} sub_t;

/* What every subcommand's options fill. */
typedef struct opts {
	const char *bootstrap;
	bool json;
	long partitions;	      /* -1: the broker's default */
	long replication_factor;      /* -1: the broker's default */
	tern_admin_config_t *configs; /* --config k=v, in order */
	size_t nconfigs;
	tern_admin_alter_t *alters; /* alter: --config k=v and --delete-config k, in order */
	size_t nalters;
	/* list: the partition filters */
	bool under_replicated, under_min_isr, offline;
} opts_t;

enum {
	OPT_PARTITIONS = 256,
	OPT_RF,
	OPT_CONFIG,
	OPT_DELETE_CONFIG,
	OPT_FORMAT,
	OPT_UNDER_REPLICATED,
	OPT_UNDER_MIN_ISR,
	OPT_OFFLINE,
};

static void opts_free(opts_t *o)
{
	free(o->configs);
	free(o->alters);
}

/* Splits "k=v" in place (argv strings are ours to change). */
static bool split_kv(char *s, const char **k, const char **v)
{
	char *eq = strchr(s, '=');

	if (!eq || eq == s)
		return false;
	*eq = '\0';
	*k = s;
	*v = eq + 1;
	return true;
}

/* Parses the options of a subcommand; the operands are left at
 * argv[optind..argc). Returns -1 to go on, else the exit status (--help:
 * usage printed to stdout; an error: reported). */
static int parse(const char *cmd, int argc, char **argv, const char *usage, bool has_format,
		 bool has_create, bool has_alter, bool has_filters, opts_t *o)
{
	static const struct option longopts[] = {
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"partitions", required_argument, NULL, OPT_PARTITIONS},
	    {"replication-factor", required_argument, NULL, OPT_RF},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"delete-config", required_argument, NULL, OPT_DELETE_CONFIG},
	    {"under-replicated", no_argument, NULL, OPT_UNDER_REPLICATED},
	    {"under-min-isr", no_argument, NULL, OPT_UNDER_MIN_ISR},
	    {"offline", no_argument, NULL, OPT_OFFLINE},
	    {NULL, 0, NULL, 0},
	};
	const char *k, *v;
	int c;

	memset(o, 0, sizeof *o);
	o->bootstrap = CLI_DEFAULT_BOOTSTRAP;
	o->partitions = -1;
	o->replication_factor = -1;
	o->configs = calloc((size_t)argc, sizeof *o->configs);
	o->alters = calloc((size_t)argc, sizeof *o->alters);
	if (!o->configs || !o->alters) {
		cli_error(cmd, "out of memory");
		return CLI_EXIT_FAIL;
	}
	while ((c = cli_getopt(cmd, argc, argv, ":b:h", longopts)) != -1) {
		switch (c) {
		case 'b':
			o->bootstrap = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		case OPT_FORMAT:
			if (!has_format)
				goto unknown;
			if (strcmp(optarg, "json") == 0)
				o->json = true;
			else if (strcmp(optarg, "text") == 0)
				o->json = false;
			else
				return cli_usage_error(cmd, "unknown format '%s': use text or json",
						       optarg);
			break;
		case OPT_PARTITIONS:
			if (!has_create)
				goto unknown;
			if (!cli_parse_long(optarg, 1, INT32_MAX, &o->partitions))
				return cli_usage_error(cmd,
						       "--partitions '%s': give a number of "
						       "at least 1",
						       optarg);
			break;
		case OPT_RF:
			if (!has_create)
				goto unknown;
			if (!cli_parse_long(optarg, 1, INT16_MAX, &o->replication_factor))
				return cli_usage_error(cmd,
						       "--replication-factor '%s': give a "
						       "number from 1 to %d",
						       optarg, INT16_MAX);
			break;
		case OPT_CONFIG:
			if (!has_create && !has_alter)
				goto unknown;
			if (!split_kv(optarg, &k, &v))
				return cli_usage_error(cmd, "--config '%s': give KEY=VALUE",
						       optarg);
			o->configs[o->nconfigs++] = (tern_admin_config_t){k, v};
			o->alters[o->nalters++] = (tern_admin_alter_t){TERN_ALTER_SET, k, v};
			break;
		case OPT_DELETE_CONFIG:
			if (!has_alter)
				goto unknown;
			if (!optarg[0] || strchr(optarg, '='))
				return cli_usage_error(
				    cmd, "--delete-config '%s': give the KEY only", optarg);
			o->alters[o->nalters++] =
			    (tern_admin_alter_t){TERN_ALTER_DELETE, optarg, NULL};
			break;
		case OPT_UNDER_REPLICATED:
		case OPT_UNDER_MIN_ISR:
		case OPT_OFFLINE:
			if (!has_filters)
				goto unknown;
			o->under_replicated |= c == OPT_UNDER_REPLICATED;
			o->under_min_isr |= c == OPT_UNDER_MIN_ISR;
			o->offline |= c == OPT_OFFLINE;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
unknown:
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* The one NAME operand; NULL after reporting. */
static const char *one_name(const char *cmd, int argc, char **argv)
{
	if (argc - optind < 1) {
		cli_usage_error(cmd, "no topic NAME given");
		return NULL;
	}
	if (argc - optind > 1) {
		cli_usage_error(cmd, "one topic NAME only; '%s' is one too many", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}

/* ------------------------------------------------------------------------ */
/* create                                                                     */

static const char create_usage[] =
    "usage: tern topic create NAME [--partitions N] [--replication-factor R]\n"
    "                         [--config KEY=VALUE]...\n"
    "\n"
    "Creates topic NAME on the cluster's controller.\n"
    "\n"
    "Options:\n"
    "      --partitions N            partitions (default: the broker's num.partitions)\n"
    "      --replication-factor R    replicas of each partition (default: the broker's\n"
    "                                default.replication.factor)\n"
    "      --config KEY=VALUE        a topic config (retention.ms, segment.bytes,\n"
    "                                min.insync.replicas, flush.policy, ...); "
    "repeatable\n" CLI_BOOTSTRAP_HELP;

static int run_create(const char *cmd, int argc, char **argv)
{
	tern_admin_t *a = NULL;
	const char *name;
	char why[1024];
	opts_t o;
	int rc;
	tern_err_t err;

	rc = parse(cmd, argc, argv, create_usage, false, true, false, false, &o);
	if (rc >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	name = one_name(cmd, argc, argv);
	if (!name)
		goto out;
	a = cli_admin_new(cmd, o.bootstrap, &rc);
	if (!a)
		goto out;
	rc = CLI_EXIT_FAIL;
	err = tern_admin_create_topic(a, name, (int32_t)o.partitions, (int16_t)o.replication_factor,
				      o.configs, o.nconfigs, why, sizeof why);
	if (err) {
		cli_report(cmd, err, why, o.bootstrap);
		goto out;
	}
	printf("Created topic %s.\n", name);
	rc = CLI_EXIT_OK;
out:
	tern_admin_destroy(a);
	opts_free(&o);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* list                                                                       */

static const char list_usage[] =
    "usage: tern topic list [--under-replicated] [--under-min-isr] [--offline]\n"
    "                       [--format text|json]\n"
    "\n"
    "Lists the cluster's topics, internal ones (__consumer_offsets) included:\n"
    "text is one name per line; json is {\"topics\":[{\"topic\", \"partitions\",\n"
    "\"replication_factor\", \"internal\"}...]}.\n"
    "\n"
    "With a filter it lists the partitions that match any filter given instead,\n"
    "as their leaders report them: text is one 'TOPIC PARTITION' per line (no\n"
    "line: none matches); json is {\"partitions\":[{\"topic\", \"partition\",\n"
    "\"leader\", \"replicas\", \"isr\", \"mode\"}...]}.\n"
    "\n"
    "Options:\n"
    "      --under-replicated        partitions whose ISR is smaller than their replicas\n"
    "      --under-min-isr           partitions whose ISR is smaller than min.insync.replicas\n"
    "                                (at most the replicas): acks=all is refused there\n"
    "      --offline                 partitions without a leader\n"
    "      --format text|json        output format (default text)\n" CLI_BOOTSTRAP_HELP;

/* Whether p matches one of the filters of o. */
static bool filter_match(const opts_t *o, const tern_topic_info_t *t,
			 const tern_partition_info_t *p)
{
	int32_t min = t->min_insync_replicas < 1 ? 1 : t->min_insync_replicas;

	if ((size_t)min > p->nreplicas)
		min = (int32_t)p->nreplicas;
	return (o->under_replicated && p->nisr < p->nreplicas) ||
	       (o->under_min_isr && p->nisr < (size_t)min) || (o->offline && p->leader < 0);
}

static void put_ids(const int32_t *v, size_t n, const char *sep);

/* `tern topic list` with filters: the matching partitions. */
static int list_filtered(const char *cmd, tern_admin_t *a, const opts_t *o)
{
	tern_topic_info_list_t *l = NULL;
	char why[1024];
	bool first = true;
	tern_err_t err;

	err = tern_admin_describe_topics(a, &l, why, sizeof why);
	if (err) {
		cli_report(cmd, err, why, o->bootstrap);
		return CLI_EXIT_FAIL;
	}
	if (o->json)
		fputs("{\"partitions\":[", stdout);
	for (size_t i = 0; i < l->n; i++) {
		const tern_topic_info_t *t = l->topics[i];

		for (size_t k = 0; k < t->npartitions; k++) {
			const tern_partition_info_t *p = &t->partitions[k];

			if (!filter_match(o, t, p))
				continue;
			if (!o->json) {
				printf("%s %" PRId32 "\n", t->name, p->partition);
				continue;
			}
			fputs(first ? "{\"topic\":" : ",{\"topic\":", stdout);
			cli_put_json_str(stdout, t->name);
			printf(",\"partition\":%" PRId32 ",\"leader\":", p->partition);
			if (p->leader >= 0)
				printf("%" PRId32, p->leader);
			else
				fputs("null", stdout);
			fputs(",\"replicas\":[", stdout);
			put_ids(p->replicas, p->nreplicas, ",");
			fputs("],\"isr\":[", stdout);
			put_ids(p->isr, p->nisr, ",");
			printf("],\"mode\":\"%s\"}", tern_partition_mode_name(p->mode));
			first = false;
		}
	}
	if (o->json)
		fputs("]}\n", stdout);
	tern_topic_info_list_destroy(l);
	return CLI_EXIT_OK;
}

static int run_list(const char *cmd, int argc, char **argv)
{
	tern_topic_list_t *l = NULL;
	tern_admin_t *a = NULL;
	char why[1024];
	opts_t o;
	int rc;
	tern_err_t err;

	rc = parse(cmd, argc, argv, list_usage, true, false, false, true, &o);
	if (rc >= 0)
		goto out;
	if (argc > optind) {
		rc =
		    cli_usage_error(cmd, "no operand expected; '%s' is one too many", argv[optind]);
		goto out;
	}
	a = cli_admin_new(cmd, o.bootstrap, &rc);
	if (!a)
		goto out;
	if (o.under_replicated || o.under_min_isr || o.offline) {
		rc = list_filtered(cmd, a, &o);
		goto out;
	}
	rc = CLI_EXIT_FAIL;
	err = tern_admin_list_topics(a, &l, why, sizeof why);
	if (err) {
		cli_report(cmd, err, why, o.bootstrap);
		goto out;
	}
	if (o.json) {
		fputs("{\"topics\":[", stdout);
		for (size_t i = 0; i < l->n; i++) {
			fputs(i ? ",{\"topic\":" : "{\"topic\":", stdout);
			cli_put_json_str(stdout, l->topics[i].name);
			printf(",\"partitions\":%" PRId32 ",\"replication_factor\":%" PRId32
			       ",\"internal\":%s}",
			       l->topics[i].partitions, l->topics[i].replication_factor,
			       l->topics[i].internal ? "true" : "false");
		}
		fputs("]}\n", stdout);
	} else {
		for (size_t i = 0; i < l->n; i++)
			printf("%s\n", l->topics[i].name);
	}
	rc = CLI_EXIT_OK;
out:
	tern_topic_list_destroy(l);
	tern_admin_destroy(a);
	opts_free(&o);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* describe                                                                   */

static const char describe_usage[] =
    "usage: tern topic describe NAME [--format text|json]\n"
    "\n"
    "Describes topic NAME as each partition's leader reports it: its leader,\n"
    "leader epoch, replicas, ISR, log start offset, high-water mark, mode\n"
    "(offline, floor, recovery, degraded, target: docs/replication.md) and each\n"
    "replica's log end offset and lag. The text form also lists the topic's\n"
    "config overrides. The json form is\n"
    "  {\"topic\": NAME, \"partitions\": [{\"partition\", \"leader\", \"leader_epoch\",\n"
    "   \"replicas\", \"isr\", \"log_start_offset\", \"high_watermark\", \"mode\",\n"
    "   \"replica_states\": [{\"id\", \"log_end_offset\", \"lag\", "
    "\"caught_up_ms_ago\"}...]}...]}\n"
    "where a value the brokers do not report is null. A replica's log end offset\n"
    "is the offset of its latest fetch from the leader (null before its first in\n"
    "this leader epoch), its lag the leader's log end offset minus it (0 for the\n"
    "leader), caught_up_ms_ago the time since it last had everything the leader\n"
    "had (null: never). A leader too old to report these gives its own log end\n"
    "offset only, and the mode is then computed here (recovery never shows).\n"
    "\n"
    "Options:\n"
    "      --format text|json        output format (default text)\n" CLI_BOOTSTRAP_HELP;

static void put_ids(const int32_t *v, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%" PRId32, i ? sep : "", v[i]);
}

/* A number, or null (json) / "-" (text) when it is -1: unknown. */
static void put_known(int64_t v, bool json)
{
	if (v >= 0)
		printf("%" PRId64, v);
	else
		fputs(json ? "null" : "-", stdout);
}

static void describe_json(const tern_topic_info_t *t)
{
	fputs("{\"topic\":", stdout);
	cli_put_json_str(stdout, t->name);
	fputs(",\"partitions\":[", stdout);
	for (size_t i = 0; i < t->npartitions; i++) {
		const tern_partition_info_t *p = &t->partitions[i];

		printf("%s{\"partition\":%" PRId32 ",\"leader\":", i ? "," : "", p->partition);
		put_known(p->leader, true);
		fputs(",\"leader_epoch\":", stdout);
		put_known(p->leader_epoch, true);
		fputs(",\"replicas\":[", stdout);
		put_ids(p->replicas, p->nreplicas, ",");
		fputs("],\"isr\":[", stdout);
		put_ids(p->isr, p->nisr, ",");
		fputs("],\"log_start_offset\":", stdout);
		put_known(p->log_start_offset, true);
		fputs(",\"high_watermark\":", stdout);
		put_known(p->high_watermark, true);
		printf(",\"mode\":\"%s\",\"replica_states\":[", tern_partition_mode_name(p->mode));
		for (size_t k = 0; k < p->nreplicas; k++) {
			printf("%s{\"id\":%" PRId32 ",\"log_end_offset\":", k ? "," : "",
			       p->replica_states[k].id);
			put_known(p->replica_states[k].log_end_offset, true);
			fputs(",\"lag\":", stdout);
			put_known(p->replica_states[k].lag, true);
			fputs(",\"caught_up_ms_ago\":", stdout);
			put_known(p->replica_states[k].caught_up_ms_ago, true);
			fputc('}', stdout);
		}
		fputs("]}", stdout);
	}
	fputs("]}\n", stdout);
}

static void describe_text(const tern_topic_info_t *t, const tern_config_list_t *cl)
{
	bool first = true;

	printf("Topic: %s\tPartitions: %zu\tReplicationFactor: %zu\tmin.insync.replicas: ", t->name,
	       t->npartitions, t->npartitions ? t->partitions[0].nreplicas : 0);
	put_known(t->min_insync_replicas, false);
	fputs("\tConfigs: ", stdout);
	for (size_t i = 0; cl && i < cl->n; i++) {
		if (cl->entries[i].source != TERN_CONFIG_SOURCE_TOPIC)
			continue;
		printf("%s%s=%s", first ? "" : ",", cl->entries[i].name,
		       cl->entries[i].value ? cl->entries[i].value : "");
		first = false;
	}
	fputc('\n', stdout);
	for (size_t i = 0; i < t->npartitions; i++) {
		const tern_partition_info_t *p = &t->partitions[i];

		printf("\tPartition: %" PRId32 "\tLeader: ", p->partition);
		put_known(p->leader, false);
		fputs("\tLeaderEpoch: ", stdout);
		put_known(p->leader_epoch, false);
		fputs("\tReplicas: ", stdout);
		put_ids(p->replicas, p->nreplicas, ",");
		fputs("\tIsr: ", stdout);
		put_ids(p->isr, p->nisr, ",");
		fputs("\tLogStartOffset: ", stdout);
		put_known(p->log_start_offset, false);
		fputs("\tHighWatermark: ", stdout);
		put_known(p->high_watermark, false);
		printf("\tMode: %s\tReplicaStates:", tern_partition_mode_name(p->mode));
		for (size_t k = 0; k < p->nreplicas; k++) {
			printf(" %" PRId32 ":leo=", p->replica_states[k].id);
			put_known(p->replica_states[k].log_end_offset, false);
			fputs(",lag=", stdout);
			put_known(p->replica_states[k].lag, false);
		}
		if (p->offsets_err)
			printf("\tOffsetsError: %s", tern_err_name(p->offsets_err));
		fputc('\n', stdout);
	}
}

static int run_describe(const char *cmd, int argc, char **argv)
{
	tern_topic_info_t *t = NULL;
	tern_config_list_t *cl = NULL;
	tern_admin_t *a = NULL;
	const char *name;
	char why[1024];
	opts_t o;
	int rc;
	tern_err_t err;

	rc = parse(cmd, argc, argv, describe_usage, true, false, false, false, &o);
	if (rc >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	name = one_name(cmd, argc, argv);
	if (!name)
		goto out;
	a = cli_admin_new(cmd, o.bootstrap, &rc);
	if (!a)
		goto out;
	rc = CLI_EXIT_FAIL;
	err = tern_admin_describe_topic(a, name, &t, why, sizeof why);
	if (err) {
		cli_report(cmd, err, why, o.bootstrap);
		goto out;
	}
	if (o.json) {
		describe_json(t);
	} else {
		err =
		    tern_admin_describe_configs(a, TERN_RESOURCE_TOPIC, name, &cl, why, sizeof why);
		if (err) {
			cli_report(cmd, err, why, o.bootstrap);
			goto out;
		}
		describe_text(t, cl);
	}
	rc = CLI_EXIT_OK;
out:
	tern_config_list_destroy(cl);
	tern_topic_info_destroy(t);
	tern_admin_destroy(a);
	opts_free(&o);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* delete                                                                     */

static const char delete_usage[] = "usage: tern topic delete NAME\n"
				   "\n"
				   "Deletes topic NAME and all its data.\n"
				   "\n"
				   "Options:\n" CLI_BOOTSTRAP_HELP;

static int run_delete(const char *cmd, int argc, char **argv)
{
	tern_admin_t *a = NULL;
	const char *name;
	char why[1024];
	opts_t o;
	int rc;
	tern_err_t err;

	rc = parse(cmd, argc, argv, delete_usage, false, false, false, false, &o);
	if (rc >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	name = one_name(cmd, argc, argv);
	if (!name)
		goto out;
	a = cli_admin_new(cmd, o.bootstrap, &rc);
	if (!a)
		goto out;
	rc = CLI_EXIT_FAIL;
	err = tern_admin_delete_topic(a, name, why, sizeof why);
	if (err) {
		cli_report(cmd, err, why, o.bootstrap);
		goto out;
	}
	printf("Deleted topic %s.\n", name);
	rc = CLI_EXIT_OK;
out:
	tern_admin_destroy(a);
	opts_free(&o);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* alter                                                                      */

static const char alter_usage[] =
    "usage: tern topic alter NAME (--config KEY=VALUE | --delete-config KEY)...\n"
    "\n"
    "Changes the configs of topic NAME: only the keys named change, every other\n"
    "key keeps its value (IncrementalAlterConfigs). All the changes are made, or\n"
    "none.\n"
    "\n"
    "Options:\n"
    "      --config KEY=VALUE        set KEY for this topic; repeatable\n"
    "      --delete-config KEY       drop the topic's own value of KEY: it goes back\n"
    "                                to the broker's setting; repeatable\n" CLI_BOOTSTRAP_HELP;

static int run_alter(const char *cmd, int argc, char **argv)
{
	tern_admin_t *a = NULL;
	const char *name;
	char why[1024];
	opts_t o;
	int rc;
	tern_err_t err;

	rc = parse(cmd, argc, argv, alter_usage, false, false, true, false, &o);
	if (rc >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	name = one_name(cmd, argc, argv);
	if (!name)
		goto out;
	if (o.nalters == 0) {
		rc = cli_usage_error(cmd, "nothing to change: give --config KEY=VALUE or "
					  "--delete-config KEY");
		goto out;
	}
	a = cli_admin_new(cmd, o.bootstrap, &rc);
	if (!a)
		goto out;
	rc = CLI_EXIT_FAIL;
	err = tern_admin_alter_configs(a, name, o.alters, o.nalters, why, sizeof why);
	if (err) {
		cli_report(cmd, err, why, o.bootstrap);
		goto out;
	}
	printf("Altered topic %s:", name);
	for (size_t i = 0; i < o.nalters; i++) {
		if (o.alters[i].op == TERN_ALTER_SET)
			printf(" %s=%s", o.alters[i].name, o.alters[i].value);
		else
			printf(" %s (deleted)", o.alters[i].name);
	}
	fputc('\n', stdout);
	rc = CLI_EXIT_OK;
out:
	tern_admin_destroy(a);
	opts_free(&o);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The command                                                                */

static const sub_t subs[] = {
    {"create", "create a topic", run_create},
    {"list", "list the topics", run_list},
    {"describe", "partitions, leaders, ISR, offsets and mode of a topic", run_describe},
    {"delete", "delete a topic and its data", run_delete},
    {"alter", "change some of a topic's configs", run_alter},
};

#define NSUBS (sizeof subs / sizeof subs[0])

static void usage(FILE *f)
{
	fputs("usage: tern topic <create|list|describe|delete|alter> [options] [NAME]\n"
	      "\n",
	      f);
	for (size_t i = 0; i < NSUBS; i++)
		fprintf(f, "  %-10s %s\n", subs[i].name, subs[i].summary);
	fputs("\nRun 'tern topic <subcommand> --help' for its options.\n", f);
}

static int run(int argc, char **argv)
{
	char cmd[64];

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < NSUBS; i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		snprintf(cmd, sizeof cmd, "topic %s", subs[i].name);
		return subs[i].run(cmd, argc - 1, argv + 1);
	}
	return cli_usage_error("topic",
			       "unknown subcommand '%s': use create, list, describe, "
			       "delete or alter",
			       argv[1]);
}

const cli_command_t cli_topic_command = {
    .name = "topic",
    .summary = "create, list, describe, delete and alter topics",
    .run = run,
};
