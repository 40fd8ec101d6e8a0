/* tools/cli_cluster.c: `tern cluster status`: every broker of the cluster
 * (id, address, alive or dead), the controller and the offline
 * partitions. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define CMD "cluster status"

static const char status_usage[] =
    "usage: tern cluster status [--format text|json]\n"
    "\n"
    "Prints the cluster id, the controller and every broker the controller knows,\n"
    "dead ones included: its id, its address, whether it is alive (registered, its\n"
    "session with the controller live), shutting down, and its broker epoch; then\n"
    "the partitions without a leader. The json form is\n"
    "  {\"cluster_id\", \"controller\", \"brokers\": [{\"id\", \"address\", \"alive\",\n"
    "   \"shutting_down\", \"broker_epoch\"}...], \"offline_partitions\": [{\"topic\",\n"
    "   \"partition\"}...]}\n"
    "A broker too old to describe the cluster lists only the live brokers, alive\n"
    "meaning that each answered this command (shutting_down, broker_epoch and\n"
    "offline_partitions are then null).\n"
    "Exits 0 when a broker answered, 1 when none did (within 5 s).\n"
    "\n"
    "Options:\n"
    "      --format text|json        output format (default text)\n" CLI_BOOTSTRAP_HELP;

static void put_id_or_null(int32_t id)
{
	if (id >= 0)
		printf("%" PRId32, id);
	else
		fputs("null", stdout);
}

static void put_json(const tern_cluster_info_t *c)
{
	fputs("{\"cluster_id\":", stdout);
	if (c->cluster_id)
		cli_put_json_str(stdout, c->cluster_id);
	else
		fputs("null", stdout);
	fputs(",\"controller\":", stdout);
	put_id_or_null(c->controller_id);
	fputs(",\"brokers\":[", stdout);
	for (size_t i = 0; i < c->nbrokers; i++) {
		const tern_broker_info_t *b = &c->brokers[i];
		char addr[320];

		snprintf(addr, sizeof addr, "tcp://%s:%" PRId32, b->host, b->port);
		printf("%s{\"id\":%" PRId32 ",\"address\":", i ? "," : "", b->id);
		cli_put_json_str(stdout, addr);
		printf(",\"alive\":%s,\"shutting_down\":null,\"broker_epoch\":null}",
		       b->alive ? "true" : "false");
	}
	fputs("],\"offline_partitions\":null}\n", stdout);
}

static void put_text(const tern_cluster_info_t *c)
{
	printf("Cluster: %s\n", c->cluster_id ? c->cluster_id : "-");
	if (c->controller_id >= 0)
		printf("Controller: %" PRId32 "\n", c->controller_id);
	else
		printf("Controller: none\n");
	for (size_t i = 0; i < c->nbrokers; i++) {
		const tern_broker_info_t *b = &c->brokers[i];

		printf("Broker: %" PRId32 "\tAddress: tcp://%s:%" PRId32 "\tAlive: %s%s\n", b->id,
		       b->host, b->port, b->alive ? "yes" : "no",
		       b->id == c->controller_id ? "\tController: yes" : "");
	}
}

/* The same from DescribeCluster. */
static void put_desc_json(const tern_cluster_description_t *c)
{
	fputs("{\"cluster_id\":", stdout);
	if (c->cluster_id)
		cli_put_json_str(stdout, c->cluster_id);
	else
		fputs("null", stdout);
	fputs(",\"controller\":", stdout);
	put_id_or_null(c->controller_id);
	fputs(",\"brokers\":[", stdout);
	for (size_t i = 0; i < c->nbrokers; i++) {
		const tern_cluster_broker_t *b = &c->brokers[i];
		char addr[320];

		snprintf(addr, sizeof addr, "tcp://%s:%" PRId32, b->host, b->port);
		printf("%s{\"id\":%" PRId32 ",\"address\":", i ? "," : "", b->id);
		cli_put_json_str(stdout, addr);
		printf(",\"alive\":%s,\"shutting_down\":%s,\"broker_epoch\":%" PRId64 "}",
		       b->alive ? "true" : "false", b->shutting_down ? "true" : "false", b->epoch);
	}
	fputs("],\"offline_partitions\":[", stdout);
	for (size_t i = 0; i < c->noffline; i++) {
		fputs(i ? ",{\"topic\":" : "{\"topic\":", stdout);
		cli_put_json_str(stdout, c->offline[i].topic);
		printf(",\"partition\":%" PRId32 "}", c->offline[i].partition);
	}
	fputs("]}\n", stdout);
}

static void put_desc_text(const tern_cluster_description_t *c)
{
	printf("Cluster: %s\n", c->cluster_id ? c->cluster_id : "-");
	if (c->controller_id >= 0)
		printf("Controller: %" PRId32 "\n", c->controller_id);
	else
		printf("Controller: none\n");
	for (size_t i = 0; i < c->nbrokers; i++) {
		const tern_cluster_broker_t *b = &c->brokers[i];

		printf("Broker: %" PRId32 "\tAddress: tcp://%s:%" PRId32
		       "\tAlive: %s\tShuttingDown: %s\tEpoch: %" PRId64 "%s\n",
		       b->id, b->host, b->port, b->alive ? "yes" : "no",
		       b->shutting_down ? "yes" : "no", b->epoch,
		       b->id == c->controller_id ? "\tController: yes" : "");
	}
	printf("OfflinePartitions: %zu\n", c->noffline);
	for (size_t i = 0; i < c->noffline; i++)
		printf("\t%s %" PRId32 "\n", c->offline[i].topic, c->offline[i].partition);
}

static int status(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *bootstrap = CLI_DEFAULT_BOOTSTRAP;
	tern_cluster_description_t *d = NULL;
	tern_cluster_info_t *c = NULL;
	tern_admin_t *a;
	bool json = false;
	char why[1024];
	tern_err_t err;
	int ch;

	while ((ch = cli_getopt(CMD, argc, argv, ":b:h", longopts)) != -1) {
		switch (ch) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") == 0)
				json = false;
			else
				return cli_usage_error(CMD, "unknown format '%s': use text or json",
						       optarg);
			break;
		case 'h':
			fputs(status_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc > optind)
		return cli_usage_error(CMD, "no operand expected; '%s' is one too many",
				       argv[optind]);
	a = cli_admin_new(CMD, bootstrap, &ch);
	if (!a)
		return ch;
	err = tern_admin_describe_cluster(a, &d, why, sizeof why);
	if (err == TERN_ERR_UNSUPPORTED_VERSION) {
		/* An older broker: the live brokers of Metadata, each probed. */
		err = tern_admin_cluster_info(a, &c, why, sizeof why);
	}
	tern_admin_destroy(a);
	if (err) {
		cli_report(CMD, err, why, bootstrap);
		return CLI_EXIT_FAIL;
	}
	if (d && json)
		put_desc_json(d);
	else if (d)
		put_desc_text(d);
	else if (json)
		put_json(c);
	else
		put_text(c);
	tern_cluster_description_destroy(d);
	tern_cluster_info_destroy(c);
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: tern cluster status [--format text|json]\n", stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(status_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "status") == 0)
		return status(argc - 1, argv + 1);
	return cli_usage_error("cluster", "unknown subcommand '%s': use status", argv[1]);
}

const cli_command_t cli_cluster_command = {
    .name = "cluster",
    .summary = "the brokers of the cluster and its controller",
    .run = run,
};
