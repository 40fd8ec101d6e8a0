/* broker/ternd.c: main() of ternd: the configuration from the broker table
 * (--config FILE, --key=value, --dev), then the broker until SIGTERM or
 * SIGINT. Exit statuses: enum broker_exit.
 *
 * For the fault harness (tests/fault), with TERN_TEST_DISK_FAULTS=FILE in
 * the environment: each SIGUSR2 applies the disk fault written in FILE
 * (log_fault_inject_spec(): "clear", or "OPS ERRNO [SKIP [COUNT]]") and
 * writes "ok" or the reason to FILE.done. Builds without the error
 * injection hook answer that they have none. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/config.h"
#include "log/log.h"

static const char usage[] =
    "Usage: ternd [--dev] [--config FILE] [--KEY=VALUE]...\n"
    "\n"
    "Runs one Tern broker with its embedded controller.\n"
    "\n"
    "  --dev          a development broker: data under ./tern-data, listening on\n"
    "                 tcp://127.0.0.1:9700 (combine with --log.dirs=DIR and\n"
    "                 --listeners=tcp://127.0.0.1:PORT)\n"
    "  --config FILE  settings from a properties file (key=value lines)\n"
    "  --KEY=VALUE    any setting below; applied after the file\n"
    "  --help         this text\n"
    "\n"
    "Exit status: 0 after SIGTERM or SIGINT, 1 on a failure, 2 for a bad command\n"
    "line or configuration, 3 when a listener's port is in use, 4 when the kernel\n"
    "refuses io_uring.\n"
    "\n"
    "Settings:\n";

static int usage_error(const char *msg)
{
	fprintf(stderr, "ternd: %s\nternd: see ternd --help\n", msg);
	return BROKER_EXIT_USAGE;
}

/* Fills c from the command line: --dev first, then the file, then every
 * --key=value in order, whatever order they were given in. */
static int configure(int argc, char **argv, broker_config_t *c, bool *help)
{
	const char *file = NULL;
	char err[512];
	bool dev = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			*help = true;
			return 0;
		} else if (strcmp(argv[i], "--dev") == 0) {
			dev = true;
		} else if (strcmp(argv[i], "--config") == 0) {
			if (++i == argc)
				return usage_error("--config needs a file");
			file = argv[i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			file = argv[i] + 9;
		} else if (strncmp(argv[i], "--", 2) != 0 || !strchr(argv[i], '=')) {
			snprintf(err, sizeof err, "unexpected argument '%s'", argv[i]);
			return usage_error(err);
		}
	}
	if (dev) {
		static const tern_conf_kv_t preset[] = {
		    {"broker.id", "0"},
		    {"process.roles", "broker,controller"},
		    {"metadata.store", "embedded"},
		    {"log.dirs", "./tern-data"},
		    {"listeners", "tcp://127.0.0.1:9700"},
		};

		for (size_t k = 0; k < sizeof preset / sizeof preset[0]; k++)
			if (tern_conf_table_set(&broker_config_table, c, preset[k].key,
						preset[k].value, err, sizeof err))
				return usage_error(err);
	}
	if (file && tern_conf_load_file(&broker_config_table, c, file, err, sizeof err))
		return usage_error(err);
	for (i = 1; i < argc; i++) {
		char *eq, *key;

		if (strncmp(argv[i], "--", 2) != 0 || strncmp(argv[i], "--config", 8) == 0 ||
		    !(eq = strchr(argv[i], '=')))
			continue;
		key = strndup(argv[i] + 2, (size_t)(eq - argv[i] - 2));
		if (!key)
			return BROKER_EXIT_FAILURE;
		if (tern_conf_table_set(&broker_config_table, c, key, eq + 1, err, sizeof err)) {
			free(key);
			return usage_error(err);
		}
		free(key);
	}
	if (broker_config_validate(c, err, sizeof err))
		return usage_error(err);
	return 0;
}

/* Applies the disk fault spec in path, and answers in path.done (written
 * whole, then renamed in place). */
static void disk_faults(const char *path)
{
	char spec[256] = "", why[256] = "", done[4096], tmp[4200];
	FILE *f = fopen(path, "r");
	tern_err_t err;

	if (!f) {
		snprintf(why, sizeof why, "%s: %s", path, strerror(errno));
		err = TERN_ERR__INVALID_ARG;
	} else {
		if (!fgets(spec, sizeof spec, f))
			spec[0] = '\0';
		fclose(f);
		spec[strcspn(spec, "\n")] = '\0';
		err = log_fault_inject_spec(spec, why, sizeof why);
		if (err == TERN_ERR__UNSUPPORTED)
			snprintf(why, sizeof why, "this build has no error injection hook");
	}
	printf("ternd: disk faults '%s': %s\n", spec, err ? why : "applied");
	fflush(stdout);
	snprintf(done, sizeof done, "%s.done", path);
	snprintf(tmp, sizeof tmp, "%s.tmp", done);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", err ? why : "ok");
	if (fclose(f) == 0)
		rename(tmp, done);
}

int main(int argc, char **argv)
{
	broker_config_t cfg;
	broker_t *b = NULL;
	bool help = false;
	sigset_t sigs;
	char err[512];
	const char *faults = getenv("TERN_TEST_DISK_FAULTS");
	tern_err_t e;
	int rc, sig;

	if (tern_conf_init(&broker_config_table, &cfg, err, sizeof err)) {
		fprintf(stderr, "ternd: %s\n", err);
		return BROKER_EXIT_FAILURE;
	}
	rc = configure(argc, argv, &cfg, &help);
	if (rc || help) {
		if (help) {
			char *text = NULL;

			fputs(usage, stdout);
			if (tern_conf_help(&broker_config_table, &text) == TERN_OK)
				fputs(text, stdout);
			free(text);
		}
		tern_conf_free(&broker_config_table, &cfg);
		return rc;
	}

	/* The signals that stop the broker are taken by sigwait() below: block
	 * them before any thread starts, so every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (faults && *faults)
		sigaddset(&sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	err[0] = '\0';
	e = broker_open(&cfg, &b, err, sizeof err);
	if (e) {
		if (e == tern_err_errno(EADDRINUSE)) {
			fprintf(
			    stderr,
			    "ternd: %s\nternd: the port is already in use (another ternd?); stop "
			    "that process or choose another port with "
			    "--listeners=tcp://127.0.0.1:PORT\n",
			    err);
			rc = BROKER_EXIT_ADDR_IN_USE;
		} else if (e == TERN_ERR__UNSUPPORTED) {
			fprintf(
			    stderr,
			    "ternd: %s\nternd: the kernel refuses io_uring, which Tern needs for "
			    "its log files (is it disabled by kernel.io_uring_disabled, or by a "
			    "seccomp profile of a container?)\n",
			    err);
			rc = BROKER_EXIT_NO_IO_URING;
		} else {
			fprintf(stderr, "ternd: %s\n", err[0] ? err : tern_strerror(e));
			rc = e == TERN_ERR_INVALID_CONFIG ? BROKER_EXIT_USAGE : BROKER_EXIT_FAILURE;
		}
		tern_conf_free(&broker_config_table, &cfg);
		return rc;
	}
	e = broker_start(b);
	if (e) {
		fprintf(stderr, "ternd: starting the request threads: %s\n", tern_strerror(e));
		broker_stop(b);
		tern_conf_free(&broker_config_table, &cfg);
		return BROKER_EXIT_FAILURE;
	}
	for (size_t i = 0; i < broker_listener_count(b); i++)
		printf("ternd: %s %d listening on %s\n",
		       broker_is_controller_only(b) ? "controller" : "broker", cfg.broker_id,
		       broker_listener(b, i));
	printf("ternd: data in %s\n", broker_data_dir(b));
	if (broker_metrics_port(b) >= 0)
		printf("ternd: metrics on port %d (GET /metrics)\n", broker_metrics_port(b));
	fflush(stdout);

	for (;;) {
		rc = sigwait(&sigs, &sig);
		if (rc == EINTR)
			continue;
		if (rc == 0 && sig == SIGUSR2) {
			disk_faults(faults);
			continue;
		}
		break;
	}
	printf("ternd: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	fflush(stdout);
	e = broker_stop(b);
	tern_conf_free(&broker_config_table, &cfg);
	if (e) {
		fprintf(stderr, "ternd: stopping: %s\n", tern_strerror(e));
		return BROKER_EXIT_FAILURE;
	}
	printf("ternd: stopped cleanly\n");
	return BROKER_EXIT_OK;
}
