/* tests/fault/chaos.c: tern-chaos, the fault-injection harness's command
 * (issue 5, TESTING.md):
 *
 *   tern-chaos list
 *   tern-chaos run SCENARIO [--duration S] [--seed N] [--json] [--dir D] [--keep]
 *   tern-chaos all [--duration S] [--seed N] [--json]
 *
 * Each run starts its own ZooKeeper and three brokers in network namespaces
 * (root needed), runs the workload through the scenario's faults, drains, and
 * prints the checker's figures; with --json a JSON line ends the output. The
 * seed makes a run's choices repeatable and is printed with every failure.
 * Exit: 0 passed, 1 failed, 2 usage or could not run, 77 this machine cannot
 * run it (no root, namespaces, nftables or ZooKeeper). ternd is $TERND, else
 * the one built beside this program. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

static const char usage[] =
    "usage: tern-chaos list\n"
    "       tern-chaos run SCENARIO [--duration S] [--seed N] [--json] [--dir DIR] [--keep]\n"
    "       tern-chaos all [--duration S] [--seed N] [--json]\n"
    "\n"
    "Runs fault scenarios against a three-broker cluster under ZooKeeper, each\n"
    "broker in its own network namespace (root needed), while idempotent\n"
    "acks=all producers and consumers record everything; then checks that no\n"
    "acknowledged record was lost or duplicated, that no offset holds two\n"
    "values and that reads never went backwards, and reports the longest\n"
    "unavailability and the times to elect, shrink and re-expand the ISR.\n"
    "\n"
    "  --duration S  the main phase of each scenario, seconds (default 20)\n"
    "  --seed N      the random seed (default: from the clock; printed)\n"
    "  --json        end the output with one JSON line per scenario\n"
    "  --dir DIR     keep the run's files in DIR\n"
    "  --keep        keep the files of a passing run too\n"
    "\n"
    "Exit status: 0 passed, 1 failed, 2 usage or could not run, 77 this\n"
    "machine cannot run it.\n";

/* $TERND, else DIR_OF_THIS_PROGRAM/../../broker/ternd (the build tree). */
static void find_ternd(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;
	char *slash;

	if (getenv("TERND"))
		return;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return;
	*slash = '\0';
	snprintf(path, sizeof path, "%s/../../broker/ternd", exe);
	if (access(path, X_OK) == 0)
		setenv("TERND", realpath(path, exe) ? exe : path, 1);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"duration", required_argument, NULL, 'd'},
	    {"seed", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"dir", required_argument, NULL, 'D'},
	    {"keep", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	sc_run_opts_t o = {.out = stdout};
	const char *cmd;
	uint64_t v;
	int ch, rc = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 86400 * 7) {
				fprintf(stderr,
					"tern-chaos: --duration wants seconds, 1..604800\n");
				return 2;
			}
			o.duration_s = (int)v;
			break;
		case 's':
			if (parse_u64(optarg, &o.seed) < 0) {
				fprintf(stderr,
					"tern-chaos: --seed wants a non-negative integer\n");
				return 2;
			}
			break;
		case 'j':
			o.json = true;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'k':
			o.keep = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	find_ternd();
	if (strcmp(cmd, "list") == 0) {
		for (size_t i = 0; i < sc_count; i++)
			printf("%-18s %2d  %s\n", sc_table[i].name, sc_table[i].number,
			       sc_table[i].what);
		return 0;
	}
	if (strcmp(cmd, "run") == 0) {
		const scenario_t *s;

		if (optind != argc - 1) {
			fprintf(stderr, "tern-chaos run: name one scenario (tern-chaos list)\n");
			return 2;
		}
		if (!(s = sc_find(argv[optind]))) {
			fprintf(stderr, "tern-chaos run: no scenario '%s' (tern-chaos list)\n",
				argv[optind]);
			return 2;
		}
		return sc_run(s, &o);
	}
	if (strcmp(cmd, "all") == 0) {
		pid_t parent = getpid();
		int failed = 0;

		if (optind != argc || o.dir) {
			fprintf(stderr, "tern-chaos all: no operands, no --dir\n");
			return 2;
		}
		/* Each scenario is a separate process: a lab makes its process a
		 * client of one of its hosts, for good. */
		for (size_t i = 0; i < sc_count; i++) {
			char *args[16], dur[32], seed[32];
			int n = 0, st;
			pid_t pid;

			args[n++] = argv[0];
			args[n++] = "run";
			args[n++] = (char *)sc_table[i].name;
			snprintf(seed, sizeof seed, "%" PRIu64, o.seed + i);
			args[n++] = "--seed";
			args[n++] = seed;
			if (o.duration_s) {
				snprintf(dur, sizeof dur, "%d", o.duration_s);
				args[n++] = "--duration";
				args[n++] = dur;
			}
			if (o.json)
				args[n++] = "--json";
			if (o.keep)
				args[n++] = "--keep";
			args[n] = NULL;
			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				/* Dies with us (its lab, brokers and ZooKeeper
				 * with it), even when we are killed by pid. */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				if (getppid() != parent)
					_exit(2);
				execv("/proc/self/exe", args);
				_exit(2);
			}
			if (pid < 0 || waitpid(pid, &st, 0) != pid) {
				failed++;
				continue;
			}
			if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
				rc = rc ? rc : 77;
			else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				failed++;
		}
		return failed ? 1 : rc;
	}
	fprintf(stderr, "tern-chaos: unknown command '%s'\n%s", cmd, usage);
	return 2;
}
