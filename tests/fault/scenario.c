/* tests/fault/scenario.c: the runner of one fault scenario and the helpers
 * its body uses (scenario.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replicas.h"
#include "scenario.h"
#include "testutil.h"
#include "zkserver.h"

#define SC_DEFAULT_DURATION_S 20
#define SC_PRODUCERS	      2
#define SC_CONSUMERS	      2
#define SC_RATE		      200 /* records/s per producer */
#define SC_SETTLE_MS	      120000

/* ------------------------------------------------------------------------ */
/* Lines and marks                                                            */

static void vsay(sc_ctx_t *x, const char *prefix, const char *fmt, va_list ap)
{
	fprintf(x->out, "[%7.1f s] %s", (double)(wl_now_ms() - x->t0_ms) / 1000.0, prefix);
	vfprintf(x->out, fmt, ap);
	fputc('\n', x->out);
	fflush(x->out);
}

void sc_say(sc_ctx_t *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(x, "", fmt, ap);
	va_end(ap);
}

void sc_violation(sc_ctx_t *x, const char *fmt, ...)
{
	va_list ap;

	if (!x->violation[0]) {
		va_start(ap, fmt);
		vsnprintf(x->violation, sizeof x->violation, fmt, ap);
		va_end(ap);
	}
	va_start(ap, fmt);
	vsay(x, "VIOLATION: ", fmt, ap);
	va_end(ap);
}

void sc_fault(sc_ctx_t *x, const char *fmt, ...)
{
	va_list ap;

	wl_mark(x->wl, CHK_MARK_FAULT);
	va_start(ap, fmt);
	vsay(x, "fault: ", fmt, ap);
	va_end(ap);
}

void sc_heal(sc_ctx_t *x, const char *fmt, ...)
{
	va_list ap;

	wl_mark(x->wl, CHK_MARK_HEAL);
	va_start(ap, fmt);
	vsay(x, "heal: ", fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Polling the committed state                                                */

static void describe(const fc_partition_state_t *st, char *buf, size_t len)
{
	size_t n =
	    (size_t)snprintf(buf, len, "leader %d epoch %d isr [", st->leader, st->leader_epoch);

	for (int i = 0; i < st->nisr && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%d", i ? "," : "", st->isr[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]%s", st->recovering ? " recovering" : "");
}

void sc_poll(sc_ctx_t *x)
{
	for (int p = 0; p < x->partitions && p < SC_MAX_PARTS; p++) {
		fc_partition_state_t st, *old = &x->last[p];
		char why[256], d[128];

		if (fc_partition_state(x->c, SC_TOPIC, p, &st, why, sizeof why) < 0)
			continue; /* ZooKeeper unreachable for now: next poll */
		if (x->have[p]) {
			bool moved =
			    st.leader != old->leader || st.leader_epoch != old->leader_epoch;

			if (moved)
				wl_mark(x->wl, CHK_MARK_LEADER);
			if (st.nisr < old->nisr)
				wl_mark(x->wl, CHK_MARK_ISR_SHRINK);
			else if (st.nisr > old->nisr)
				wl_mark(x->wl, CHK_MARK_ISR_EXPAND);
			if (!moved && st.nisr == old->nisr && st.recovering == old->recovering)
				continue;
		}
		describe(&st, d, sizeof d);
		sc_say(x, "%s-%d: %s", SC_TOPIC, p, d);
		*old = st;
		x->have[p] = true;
	}
}

void sc_sleep(sc_ctx_t *x, int ms)
{
	int64_t until = wl_now_ms() + ms;

	for (;;) {
		int64_t left = until - wl_now_ms();

		sc_poll(x);
		if (left <= 0)
			return;
		usleep((useconds_t)(left < SC_POLL_MS ? left : SC_POLL_MS) * 1000);
	}
}

int sc_wait(sc_ctx_t *x, int32_t part, bool (*pred)(const fc_partition_state_t *st, void *arg),
	    void *arg, int timeout_ms, char *why, size_t whylen)
{
	int64_t until = wl_now_ms() + timeout_ms;

	for (;;) {
		bool all = true;

		sc_poll(x);
		for (int p = part < 0 ? 0 : part; p < (part < 0 ? x->partitions : part + 1); p++)
			if (!x->have[p] || !pred(&x->last[p], arg))
				all = false;
		if (all)
			return 0;
		if (wl_now_ms() >= until) {
			char d[128] = "never read";
			int p = part < 0 ? 0 : part;

			if (x->have[p])
				describe(&x->last[p], d, sizeof d);
			snprintf(why, whylen, "not within %d ms; %s-%d: %s", timeout_ms, SC_TOPIC,
				 p, d);
			return -1;
		}
		usleep(SC_POLL_MS * 1000);
	}
}

int sc_wait_acks(sc_ctx_t *x, long n, int timeout_ms, char *why, size_t whylen)
{
	long want = wl_acked(x->wl) + n;
	int64_t until = wl_now_ms() + timeout_ms;

	while (wl_acked(x->wl) < want) {
		if (wl_now_ms() >= until) {
			snprintf(why, whylen,
				 "%ld more acknowledgements not within %d ms (%ld acknowledged)", n,
				 timeout_ms, wl_acked(x->wl));
			return -1;
		}
		sc_sleep(x, SC_POLL_MS);
	}
	return 0;
}

bool sc_has_leader(const fc_partition_state_t *st, void *arg)
{
	(void)arg;
	return st->leader >= 0;
}

bool sc_leader_not(const fc_partition_state_t *st, void *id)
{
	return st->leader >= 0 && st->leader != *(int32_t *)id;
}

bool sc_leader_gone(const fc_partition_state_t *st, void *id)
{
	return st->leader != *(int32_t *)id;
}

bool sc_isr_full(const fc_partition_state_t *st, void *brokers)
{
	return st->leader >= 0 && st->nisr >= *(int *)brokers;
}

bool sc_isr_size_at_most(const fc_partition_state_t *st, void *n)
{
	return st->nisr <= *(int *)n;
}

bool sc_isr_lacks(const fc_partition_state_t *st, void *id)
{
	for (int i = 0; i < st->nisr; i++)
		if (st->isr[i] == *(int32_t *)id)
			return false;
	return true;
}

bool sc_offline(const fc_partition_state_t *st, void *arg)
{
	(void)arg;
	return st->leader < 0;
}

int sc_wait_full(sc_ctx_t *x, char *why, size_t whylen)
{
	return sc_wait(x, -1, sc_isr_full, &x->brokers, SC_CLAIM_MS * 2, why, whylen);
}

int32_t sc_wait_leader(sc_ctx_t *x, int32_t part, char *why, size_t whylen)
{
	if (sc_wait(x, part, sc_has_leader, NULL, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	return sc_leader(x, part);
}

int sc_gap_ms(sc_ctx_t *x, int n)
{
	int ms = x->duration_s * 1000 / (n + 1);

	return ms < 1000 ? 1000 : ms;
}

int sc_isolate(sc_ctx_t *x, int32_t id, bool cut, char *why, size_t whylen)
{
	lab_t *l = fc_lab(x->c);
	int host = fc_broker_host(x->c, id);

	for (int h = 0; h < lab_hosts(l); h++) {
		if (h == host)
			continue;
		if ((cut ? lab_partition(l, host, h, why, whylen)
			 : lab_heal_partition(l, host, h, why, whylen)) < 0)
			return -1;
	}
	return 0;
}

int32_t sc_leader(sc_ctx_t *x, int32_t part)
{
	sc_poll(x);
	return x->have[part] ? x->last[part].leader : -1;
}

int32_t sc_other(sc_ctx_t *x, int32_t not1, int32_t not2)
{
	for (int32_t id = 1; id <= x->brokers; id++)
		if (id != not1 && id != not2)
			return id;
	return -1;
}

uint64_t sc_rand(sc_ctx_t *x, uint64_t n)
{
	return n ? tt_rand(&x->rng) % n : 0;
}

/* ------------------------------------------------------------------------ */
/* The run                                                                    */

/* Unclean elections the controllers logged (every broker may have been
 * the controller under ZooKeeper). */
static long count_unclean(sc_ctx_t *x)
{
	long n = 0;

	for (int32_t id = 1; id <= x->brokers; id++) {
		char path[1100], line[1024];
		FILE *f;

		snprintf(path, sizeof path, "%s/ternd.log", fc_broker_dir(x->c, id));
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof line, f))
			if (strstr(line, "[election] " SC_TOPIC "-") && strstr(line, "UNCLEAN"))
				n++;
		fclose(f);
	}
	return n;
}

/* Brings every broker back and heals the network, then waits until every
 * partition has its whole ISR again. */
static void settle(sc_ctx_t *x)
{
	char why[512];

	if (lab_heal_all(fc_lab(x->c), why, sizeof why) < 0)
		sc_violation(x, "healing the network: %s", why);
	for (int32_t id = 1; id <= x->brokers; id++) {
		if (fc_running(x->c, id)) {
			fc_kill(x->c, id, SIGCONT);
			continue;
		}
		sc_say(x, "restarting broker %d for the drain", id);
		if (fc_restart(x->c, id, 0, why, sizeof why) < 0)
			sc_violation(x, "broker %d does not restart: %s", id, why);
	}
	if (sc_wait(x, -1, sc_isr_full, &x->brokers, SC_SETTLE_MS, why, sizeof why) < 0)
		sc_violation(x, "the ISR does not grow back to %d after the heal: %s", x->brokers,
			     why);
}

int sc_part_dir(sc_ctx_t *x, int32_t id, int32_t part, char *buf, size_t len)
{
	struct stat sb;
	int n;

	n = snprintf(buf, len, "%s/data/%s-%d", fc_broker_dir(x->c, id), SC_TOPIC, part);
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (stat(buf, &sb) == 0 || fc_pid(x->c, id) <= 0)
		return 0;
	/* Not there: the data directory is a private tmpfs. */
	n = snprintf(buf, len, "/proc/%d/root%s/data/%s-%d", (int)fc_pid(x->c, id),
		     fc_broker_dir(x->c, id), SC_TOPIC, part);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Whether every replica of part holds broker 1's log: RP_SAME, or what the
 * first other one differs by (in why); -1 when a replica cannot be read. */
static int replicas_compare(sc_ctx_t *x, int32_t part, char *why, size_t whylen)
{
	rp_batch_t *first = NULL;
	size_t nfirst = 0;
	int rc = RP_SAME;

	for (int32_t id = 1; id <= x->brokers && rc == RP_SAME; id++) {
		char dir[1300], err[400];
		rp_batch_t *v;
		size_t n;

		if (sc_part_dir(x, id, part, dir, sizeof dir) < 0 ||
		    rp_read(dir, &v, &n, err, sizeof err) < 0) {
			snprintf(why, whylen, "broker %d: %s", (int)id, err);
			rc = -1;
			break;
		}
		if (id == 1) {
			first = v;
			nfirst = n;
			continue;
		}
		rc = (int)rp_compare(first, nfirst, v, n, err, sizeof err);
		if (rc != RP_SAME)
			snprintf(why, whylen, "%s-%d: broker 1 vs broker %d: %s", SC_TOPIC,
				 (int)part, (int)id, err);
		free(v);
	}
	free(first);
	return rc;
}

/* TESTING.md 6 and 8, held by every scenario: after the heal and the drain
 * (every broker back in every ISR, nothing being written), the replicas of
 * each partition become the same log, batch for batch. A follower still
 * behind gets SC_CLAIM_MS to catch up; replicas that part are reported as
 * soon as the wait ends. */
static void check_logs_match(sc_ctx_t *x)
{
	for (int32_t p = 0; p < x->partitions; p++) {
		int64_t until = wl_now_ms() + SC_CLAIM_MS;
		char why[1024] = "";
		int rc;

		while ((rc = replicas_compare(x, p, why, sizeof why)) != RP_SAME &&
		       wl_now_ms() < until)
			sc_sleep(x, 200);
		if (rc == RP_SAME)
			continue;
		sc_violation(x, "the replicas' logs %s after the heal: %s",
			     rc == RP_DIFFER   ? "differ"
			     : rc == RP_PREFIX ? "do not converge"
					       : "cannot be read",
			     why);
		return;
	}
	sc_say(x, "every replica of every partition holds the same log");
}

static int run_body(const scenario_t *s, sc_ctx_t *x, wl_opts_t *wo)
{
	char why[512] = "";
	int rc;

	if (!(x->wl = wl_new(wo, x->h, why, sizeof why)) || wl_start(x->wl, why, sizeof why) < 0) {
		sc_violation(x, "the workload does not start: %s", why);
		return -1;
	}
	if (sc_wait_acks(x, 50, 60000, why, sizeof why) < 0) {
		sc_violation(x, "no acknowledgements before the faults: %s", why);
		return -1;
	}
	sc_say(x, "%ld acknowledged: %s", wl_acked(x->wl), s->what);
	why[0] = '\0';
	rc = s->body(x, why, sizeof why);
	/* ---- scenarios_env.c ---- */
	if (rc == SC_SKIP) {
		fprintf(x->out, "%s: cannot run here: %s\n", s->name, why);
		wl_stop(x->wl, 0, why, sizeof why);
		return SC_SKIP;
	}
	/* ---- end scenarios_env.c ---- */
	if (rc < 0 && why[0])
		sc_violation(x, "%s", why);
	else if (rc < 0)
		sc_violation(x, "the scenario's steps did not complete");
	settle(x);
	if (sc_wait_acks(x, 20, 60000, why, sizeof why) < 0)
		sc_violation(x, "writes do not resume after the heal: %s", why);
	sc_say(x, "stopping the workload (%ld acknowledged, %ld failed)", wl_acked(x->wl),
	       wl_failed(x->wl));
	/* A producer that went fatal saw the brokers lose what they had
	 * acknowledged to it: a violation unless the scenario may lose. */
	if (wl_stop(x->wl, 60000, why, sizeof why) < 0) {
		if (s->may_lose)
			sc_say(x, "stop: %s", why);
		else
			sc_violation(x, "the workload did not stop cleanly: %s", why);
	}
	if (wl_drain(x->wl, 120000, why, sizeof why) < 0)
		sc_violation(x, "the drain did not read every partition to its end: %s", why);
	check_logs_match(x);
	return 0;
}

/* The figures, the verdict and the JSON line. */
static bool report(const scenario_t *s, sc_ctx_t *x, const sc_run_opts_t *o)
{
	chk_criteria_t crit = chk_criteria_strict();
	chk_report_t r;
	char why[1024] = "", json[2048];
	long unclean = count_unclean(x);
	bool passed;

	for (long i = 0; i < unclean; i++)
		chk_mark(x->h, wl_now_ms(), CHK_MARK_UNCLEAN);
	if (s->may_lose) {
		crit.lost = false;
		crit.unclean_elections = false;
		/* ---- scenarios_crash.c ---- */
		/* A lost record's offset is written again by a later record:
		 * a loss shows as inconsistent offsets too. */
		crit.inconsistent_offsets = false;
		/* ---- end scenarios_crash.c ---- */
	}
	if (chk_analyse(x->h, &r) != TERN_OK) {
		fprintf(o->out, "%s: out of memory analysing the history\n", s->name);
		return false;
	}
	passed = chk_passes(&r, &crit, why, sizeof why) && !x->violation[0];
	chk_summary(&r, json, sizeof json);
	fprintf(o->out, "%s", json);
	if (!passed)
		fprintf(o->out, "FAILED %s (seed %" PRIu64 "): %s%s%s\n", s->name, o->seed, why,
			why[0] && x->violation[0] ? "; " : "", x->violation);
	else
		fprintf(o->out, "PASSED %s (seed %" PRIu64 ")\n", s->name, o->seed);
	if (o->json) {
		int n = chk_json(&r, NULL, json, sizeof json);

		if (n > 2 && (size_t)n < sizeof json) {
			json[n - 1] = '\0'; /* the closing brace */
			fprintf(o->out,
				"{\"scenario\":\"%s\",\"seed\":%" PRIu64 ",%s,\"passed\":%s}\n",
				s->name, o->seed, json + 1, passed ? "true" : "false");
		}
	}
	return passed;
}

int sc_run(const scenario_t *s, const sc_run_opts_t *o)
{
	sc_ctx_t x = {.partitions = 3, .brokers = 3, .out = o->out};
	const char *configs[24];
	char why[512], *dir = NULL, logp[1100];
	fc_opts_t fo;
	wl_opts_t wo;
	int nconf = 0, rc = 2;
	bool passed = false, loopback;

	if (!tt_zk_available(why, sizeof why)) {
		fprintf(o->out, "%s: cannot run here: %s\n", s->name, why);
		return 77;
	}
	/* Without namespaces the brokers share loopback addresses: what
	 * needs no network fault and no private tmpfs still runs. */
	loopback = !lab_available(why, sizeof why);
	if (loopback && (s->network || s->tmpfs_bytes > 0)) {
		fprintf(o->out, "%s: cannot run here: %s (%s)\n", s->name,
			s->network ? "network faults need network namespaces"
				   : "a full disk needs a private tmpfs in a mount namespace",
			why);
		return 77;
	}
	if (loopback)
		fprintf(o->out, "%s: on loopback addresses (%s: no network namespaces)\n", s->name,
			why);
	x.t0_ms = wl_now_ms();
	x.rng = o->seed ? o->seed : 1;
	x.duration_s = o->duration_s > 0 ? o->duration_s : SC_DEFAULT_DURATION_S;
	if (o->dir) {
		dir = strdup(o->dir);
		if (dir && mkdir(dir, 0755) < 0 && errno != EEXIST) {
			fprintf(o->out, "%s: %s: %s\n", s->name, dir, strerror(errno));
			free(dir);
			return 2;
		}
	} else {
		char tag[64];

		snprintf(tag, sizeof tag, "chaos-%s", s->name);
		dir = tt_mkdtemp(tag);
	}
	if (!dir)
		return 2;
	x.dir = dir;
	fprintf(o->out, "scenario %d %s, seed %" PRIu64 ", %d s, in %s\n", s->number, s->name,
		o->seed, x.duration_s, dir);

	fc_opts_default(&fo);
	fo.dir = dir;
	fo.flush_policy = s->flush_policy;
	fo.tmpfs_bytes = s->tmpfs_bytes;
	fo.durable_log = s->power ? "durable.log" : NULL;
	fo.loopback = loopback;
	if (!(x.c = fc_start(&fo, why, sizeof why))) {
		fprintf(o->out, "%s: the cluster does not start: %s\n", s->name, why);
		goto out;
	}
	configs[nconf++] = "min.insync.replicas=2";
	configs[nconf++] = s->unclean ? "unclean.leader.election.enable=true"
				      : "unclean.leader.election.enable=false";
	configs[nconf++] = s->elr ? "eligible.leader.replicas.enable=true"
				  : "eligible.leader.replicas.enable=false";
	configs[nconf++] =
	    strcmp(s->flush_policy, "sync") == 0 ? "flush.policy=sync" : "flush.policy=async";
	/* ---- scenarios_env.c ---- */
	for (int i = 0; s->topic_configs && s->topic_configs[i] && nconf < 23; i++)
		configs[nconf++] = s->topic_configs[i];
	/* ---- end scenarios_env.c ---- */
	configs[nconf] = NULL;
	if (fc_create_topic(x.c, SC_TOPIC, x.partitions, 3, configs, why, sizeof why) < 0) {
		fprintf(o->out, "%s: creating the topic: %s\n", s->name, why);
		goto out;
	}
	if (!(x.h = chk_history_new()))
		goto out;
	wl_opts_default(&wo);
	wo.bootstrap = fc_bootstrap(x.c);
	wo.topic = SC_TOPIC;
	wo.partitions = x.partitions;
	wo.producers = SC_PRODUCERS;
	wo.consumers = SC_CONSUMERS;
	wo.rate = SC_RATE;
	wo.seed = o->seed;
	snprintf(logp, sizeof logp, "%s/client.log", dir);
	wo.log_path = logp;
	/* ---- scenarios_env.c ---- */
	if (run_body(s, &x, &wo) == SC_SKIP) {
		rc = 77;
		goto out;
	}
	/* ---- end scenarios_env.c ---- */
	passed = report(s, &x, o);
	rc = passed ? 0 : 1;
out:
	wl_free(x.wl);
	fc_stop(x.c);
	chk_history_free(x.h);
	if (rc == 0 && !o->keep && !o->dir)
		tt_rmtree(dir);
	else
		fprintf(o->out, "files kept in %s\n", dir);
	free(dir);
	return rc;
}
