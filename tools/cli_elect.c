/* tools/cli_elect.c: `tern elect`: preferred leader elections (leadership
 * back to each partition's first replica) and forced unclean elections of
 * partitions no ISR member can lead, through the controller (ElectLeaders
 * v1, tern/admin.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define CMD "elect"

static const char elect_usage[] =
    "usage: tern elect --preferred [TOPIC[:PARTITION]]...\n"
    "       tern elect --unclean TOPIC:PARTITION\n"
    "\n"
    "--preferred moves leadership back to each partition's preferred replica (the\n"
    "first of its replicas) where it is an alive ISR member: of the partitions\n"
    "named (TOPIC alone: every partition of the topic), or of every partition of\n"
    "the cluster when none is named, and then lists only the partitions that\n"
    "changed or failed.\n"
    "\n"
    "--unclean forces the election of a replica outside the ISR for one partition\n"
    "that no ISR member can lead (its ISR brokers are dead). Records the old ISR\n"
    "acknowledged above the new leader's log end offset are lost; the command\n"
    "prints that offset. A partition that has a leader needs no election.\n"
    "\n"
    "Prints one line per partition: 'TOPIC PARTITION: elected', or the error's\n"
    "name and the controller's message (ELECTION_NOT_NEEDED: the preferred\n"
    "replica leads already, or for --unclean the partition has a leader).\n"
    "Exits 0 when every partition was elected or needed no election, 1 when one\n"
    "failed or no broker answered, 2 for a wrong command line.\n"
    "\n"
    "Options:\n"
    "      --preferred               preferred leader election\n"
    "      --unclean                 unclean leader election of one partition\n" CLI_BOOTSTRAP_HELP;

/* A TOPIC[:PARTITION] operand: *partition -1 when none is given. false
 * after reporting a bad one. */
static bool parse_target(char *arg, const char **topic, int32_t *partition)
{
	char *colon = strrchr(arg, ':');
	long p;

	*topic = arg;
	*partition = -1;
	if (!colon && !arg[0]) {
		cli_usage_error(CMD, "an empty TOPIC: give TOPIC or TOPIC:PARTITION");
		return false;
	}
	if (!colon)
		return true;
	if (colon == arg || !cli_parse_long(colon + 1, 0, INT32_MAX, &p)) {
		cli_usage_error(
		    CMD, "'%s': give TOPIC or TOPIC:PARTITION, PARTITION a number from 0", arg);
		return false;
	}
	*colon = '\0';
	*partition = (int32_t)p;
	return true;
}

/* What to do about a partition's error, or NULL. */
static const char *hint(tern_err_t err, bool unclean)
{
	switch (err) {
	case TERN_ERR_ELECTION_NOT_NEEDED:
		return unclean ? "It has a leader: nothing was done and nothing was lost." : NULL;
	case TERN_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
		return "The preferred replica is not an alive ISR member: wait until it has caught "
		       "up ('tern topic describe TOPIC' shows the ISR), then try again.";
	case TERN_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
		return "No replica of the partition is alive: start one of its brokers ('tern "
		       "cluster status' lists them).";
	case TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION:
		return "'tern topic list' lists the topics; 'tern topic describe TOPIC' its "
		       "partitions.";
	default:
		return NULL;
	}
}

/* After an unclean election: the new leader and its log end offset, from
 * the leader itself. */
static void report_unclean(tern_admin_t *a, const char *topic, int32_t partition)
{
	tern_topic_info_t *t = NULL;
	char why[1024];

	if (tern_admin_describe_topic(a, topic, &t, why, sizeof why) != TERN_OK) {
		printf("The new leader could not be described: %s\n", why);
		return;
	}
	for (size_t i = 0; i < t->npartitions; i++) {
		const tern_partition_info_t *p = &t->partitions[i];

		if (p->partition != partition)
			continue;
		if (p->leader < 0) {
			printf("%s %" PRId32 " has no leader yet.\n", topic, partition);
			break;
		}
		printf("New leader: broker %" PRId32 " (leader epoch %" PRId32 "), log end offset ",
		       p->leader, p->leader_epoch);
		if (p->log_end_offset >= 0)
			printf("%" PRId64 ".\n", p->log_end_offset);
		else
			fputs("unknown.\n", stdout);
		printf("Records the previous ISR acknowledged at or above offset %" PRId64
		       " may be lost.\n",
		       p->log_end_offset >= 0 ? p->log_end_offset : 0);
	}
	tern_topic_info_destroy(t);
}

static int run(int argc, char **argv)
{
	enum { OPT_PREFERRED = 256, OPT_UNCLEAN };
	static const struct option longopts[] = {
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {"preferred", no_argument, NULL, OPT_PREFERRED},
	    {"unclean", no_argument, NULL, OPT_UNCLEAN},
	    {NULL, 0, NULL, 0},
	};
	const char *bootstrap = CLI_DEFAULT_BOOTSTRAP;
	tern_topic_partition_t *parts = NULL;
	tern_election_results_t *res = NULL;
	tern_topic_list_t *l = NULL;
	tern_admin_t *a = NULL;
	bool preferred = false, unclean = false;
	size_t nparts = 0, cap = 0, failed = 0;
	char why[1024];
	tern_err_t err;
	int c, rc = CLI_EXIT_USAGE;

	while ((c = cli_getopt(CMD, argc, argv, ":b:h", longopts)) != -1) {
		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'h':
			fputs(elect_usage, stdout);
			return CLI_EXIT_OK;
		case OPT_PREFERRED:
			preferred = true;
			break;
		case OPT_UNCLEAN:
			unclean = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (preferred == unclean)
		return cli_usage_error(CMD, "give --preferred or --unclean (one of them)");
	if (unclean && argc - optind != 1)
		return cli_usage_error(CMD, "--unclean takes exactly one TOPIC:PARTITION");
	a = cli_admin_new(CMD, bootstrap, &rc);
	if (!a)
		return rc;
	for (int i = optind; i < argc; i++) {
		const char *topic;
		int32_t p;
		size_t need;
		const tern_topic_summary_t *s = NULL;

		rc = CLI_EXIT_USAGE;
		if (!parse_target(argv[i], &topic, &p))
			goto out;
		if (unclean && p < 0) {
			cli_usage_error(CMD, "--unclean needs a PARTITION: give %s:PARTITION",
					topic);
			goto out;
		}
		rc = CLI_EXIT_FAIL;
		if (p < 0 && !l && (err = tern_admin_list_topics(a, &l, why, sizeof why))) {
			cli_report(CMD, err, why, bootstrap);
			goto out;
		}
		for (size_t k = 0; p < 0 && k < l->n; k++)
			if (strcmp(l->topics[k].name, topic) == 0)
				s = &l->topics[k];
		if (p < 0 && !s) {
			cli_error(CMD, "topic '%s' does not exist", topic);
			fprintf(stderr, "%s\n", hint(TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION, false));
			goto out;
		}
		need = nparts + (p < 0 ? (size_t)s->partitions : 1);
		if (need > cap) {
			tern_topic_partition_t *np = realloc(parts, (need + 8) * sizeof *parts);

			if (!np) {
				cli_error(CMD, "out of memory");
				goto out;
			}
			parts = np;
			cap = need + 8;
		}
		if (p >= 0)
			parts[nparts++] = (tern_topic_partition_t){topic, p};
		for (int32_t k = 0; p < 0 && k < s->partitions; k++)
			parts[nparts++] = (tern_topic_partition_t){topic, k};
	}
	rc = CLI_EXIT_FAIL;
	if (optind < argc && nparts == 0) {
		printf("No partitions to elect: the topics named have none.\n");
		rc = CLI_EXIT_OK;
		goto out;
	}
	err = tern_admin_elect_leaders(a, unclean ? TERN_ELECTION_UNCLEAN : TERN_ELECTION_PREFERRED,
				       nparts ? parts : NULL, nparts, &res, why, sizeof why);
	if (err) {
		cli_report(CMD, err, why, bootstrap);
		goto out;
	}
	if (res->n == 0)
		printf("No partition needed a preferred leader election: every preferred replica "
		       "leads.\n");
	for (size_t i = 0; i < res->n; i++) {
		const tern_election_result_t *r = &res->results[i];
		const char *h = hint(r->err, unclean);

		if (!r->err) {
			printf("%s %" PRId32 ": elected\n", r->topic, r->partition);
			if (unclean)
				report_unclean(a, r->topic, r->partition);
			continue;
		}
		printf("%s %" PRId32 ": %s: %s\n", r->topic, r->partition, tern_err_name(r->err),
		       r->message ? r->message : tern_strerror(r->err));
		if (h)
			printf("%s\n", h);
		failed += r->err != TERN_ERR_ELECTION_NOT_NEEDED;
	}
	if (failed)
		cli_error(CMD, "%zu of %zu partitions failed", failed, res->n);
	rc = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	tern_election_results_destroy(res);
	tern_topic_list_destroy(l);
	tern_admin_destroy(a);
	free(parts);
	return rc;
}

const cli_command_t cli_elect_command = {
    .name = "elect",
    .summary = "preferred and unclean leader elections",
    .run = run,
};
