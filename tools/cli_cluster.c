/* tools/cli_cluster.c: `tern cluster status`: the brokers of the cluster
 * (id, address, whether each answers) and the controller. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define CMD "cluster status"

static const char status_usage[] =
    "usage: tern cluster status [--format text|json]\n"
    "\n"
    "Prints the cluster id, the controller and every broker registered with it:\n"
    "its id, its address and whether it answers now. The json form is\n"
    "  {\"cluster_id\", \"controller\", \"brokers\": [{\"id\", \"address\", \"alive\"}...]}\n"
    "Exits 0 when a broker answered, 1 when none did (within 5 s).\n"
    "\n"
    "Options:\n"
    "      --format text|json        output format (default text)\n" CLI_BOOTSTRAP_HELP;

static void put_json(const tern_cluster_info_t *c)
{
	fputs("{\"cluster_id\":", stdout);
	if (c->cluster_id)
		cli_put_json_str(stdout, c->cluster_id);
	else
		fputs("null", stdout);
	fputs(",\"controller\":", stdout);
	if (c->controller_id >= 0)
		printf("%" PRId32, c->controller_id);
	else
		fputs("null", stdout);
	fputs(",\"brokers\":[", stdout);
	for (size_t i = 0; i < c->nbrokers; i++) {
		const tern_broker_info_t *b = &c->brokers[i];
		char addr[320];

		snprintf(addr, sizeof addr, "tcp://%s:%" PRId32, b->host, b->port);
		printf("%s{\"id\":%" PRId32 ",\"address\":", i ? "," : "", b->id);
		cli_put_json_str(stdout, addr);
		printf(",\"alive\":%s}", b->alive ? "true" : "false");
	}
	fputs("]}\n", stdout);
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

static int status(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"bootstrap", required_argument, NULL, 'b'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *bootstrap = CLI_DEFAULT_BOOTSTRAP;
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
	err = tern_admin_cluster_info(a, &c, why, sizeof why);
	tern_admin_destroy(a);
	if (err) {
		cli_report(CMD, err, why, bootstrap);
		return CLI_EXIT_FAIL;
	}
	if (json)
		put_json(c);
	else
		put_text(c);
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
