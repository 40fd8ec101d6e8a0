/* tests/fault/scenarios_env.c: the bodies of the disk-full, corrupt-replica,
 * clock-skew, slow-network and soak scenarios (scenarios_env.h). Partition 0
 * is the usual target; the workload writes to every partition. */
#include "scenarios_env.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tern/admin.h"
#include "replicas.h"
#include "tern/consumer.h"

#define P0 0

/* The wall-clock skew of clock-skew and soak, seconds. */
#define SKEW_S 300

const char *const env_small_segments[] = {"segment.bytes=16384", NULL};

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Waiting and watching                                                       */

static bool in_isr(const fc_partition_state_t *st, int32_t id)
{
	for (int i = 0; i < st->nisr; i++)
		if (st->isr[i] == id)
			return true;
	return false;
}

/* What hold() saw: ISR shrinks and expansions and leader changes. */
typedef struct flaps {
	int shrinks, expands, moves;
} flaps_t;

/* Sleeps ms, polling, and counts what changed. */
static void hold(sc_ctx_t *x, int ms, flaps_t *f)
{
	int64_t until = wl_now_ms() + ms;

	while (wl_now_ms() < until) {
		fc_partition_state_t before[SC_MAX_PARTS];
		bool had[SC_MAX_PARTS];

		memcpy(before, x->last, sizeof before);
		memcpy(had, x->have, sizeof had);
		sc_sleep(x, SC_POLL_MS);
		for (int p = 0; p < x->partitions && p < SC_MAX_PARTS; p++) {
			if (!had[p] || !x->have[p])
				continue;
			if (x->last[p].nisr < before[p].nisr)
				f->shrinks++;
			else if (x->last[p].nisr > before[p].nisr)
				f->expands++;
			if (x->last[p].leader != before[p].leader ||
			    x->last[p].leader_epoch != before[p].leader_epoch)
				f->moves++;
		}
	}
}

/* Restarts broker id (SIGTERM, or SIGKILL when hard) with skew_s. */
static int bounce(sc_ctx_t *x, int32_t id, bool hard, int skew_s, char *why, size_t whylen)
{
	if (fc_kill(x->c, id, hard ? SIGKILL : SIGTERM) < 0)
		return fail(why, whylen, "stopping broker %d: %s", id, strerror(errno));
	return fc_restart(x->c, id, skew_s, why, whylen);
}

/* The size of broker id's log (ternd.log). */
static off_t log_size(sc_ctx_t *x, int32_t id)
{
	char path[1100];
	struct stat sb;

	snprintf(path, sizeof path, "%s/ternd.log", fc_broker_dir(x->c, id));
	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Lines of broker id's log from *from on that contain needle: the count;
 * *from moves past the complete lines read. */
static int log_count(sc_ctx_t *x, int32_t id, off_t *from, const char *needle)
{
	char path[1100], line[2048];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/ternd.log", fc_broker_dir(x->c, id));
	if (!(f = fopen(path, "r")))
		return 0;
	if (fseeko(f, *from, SEEK_SET) == 0) {
		while (fgets(line, sizeof line, f)) {
			size_t len = strlen(line);

			/* A line still being written: next time (a longer
			 * one than line holds goes in pieces). */
			if (len == 0 || (line[len - 1] != '\n' && len < sizeof line - 1))
				break;
			*from += (off_t)len;
			if (strstr(line, needle))
				n++;
		}
	}
	fclose(f);
	return n;
}

/* A replica made corrupt on purpose, watched until it has cut its log: the
 * controller must not elect it between its report and the cut. */
typedef struct watch {
	int32_t id, part;
	int32_t epoch0; /* the partition's leader epoch when the watch began */
	off_t report_from, cut_from;
	int reports, cuts;
	bool bad; /* it was elected while corrupt (said once) */
} watch_t;

static void watch_begin(sc_ctx_t *x, watch_t *w, int32_t id, int32_t part)
{
	sc_poll(x);
	*w = (watch_t){.id = id,
		       .part = part,
		       .epoch0 = x->have[part] ? x->last[part].leader_epoch : -1,
		       .report_from = log_size(x, id)};
	w->cut_from = w->report_from;
}

/* Reads what the replica logged and checks the last polled state. */
static void watch_step(sc_ctx_t *x, watch_t *w)
{
	char report[96], cut[96];
	const fc_partition_state_t *st = &x->last[w->part];

	snprintf(report, sizeof report, "%s-%d: reporting the replica here corrupt", SC_TOPIC,
		 w->part);
	snprintf(cut, sizeof cut, "%s-%d: corrupt tail cut", SC_TOPIC, w->part);
	w->reports += log_count(x, w->id, &w->report_from, report);
	w->cuts += log_count(x, w->id, &w->cut_from, cut);
	if (w->reports > w->cuts && x->have[w->part] && st->leader == w->id &&
	    st->leader_epoch > w->epoch0 && !w->bad) {
		w->bad = true;
		sc_violation(x, "%s-%d elected broker %d (epoch %d) while it was corrupt", SC_TOPIC,
			     w->part, w->id, st->leader_epoch);
	}
}

/* Polls for ms with the watch on; stops early once pred holds for every
 * partition (pred NULL: never). */
static int watch_wait(sc_ctx_t *x, watch_t *w, bool (*pred)(const fc_partition_state_t *, void *),
		      void *arg, int ms)
{
	int64_t until = wl_now_ms() + ms;

	for (;;) {
		bool all = pred != NULL;

		sc_sleep(x, SC_POLL_MS);
		watch_step(x, w);
		for (int p = 0; all && p < x->partitions; p++)
			all = x->have[p] && pred(&x->last[p], arg);
		if (all)
			return 0;
		if (wl_now_ms() >= until)
			return -1;
	}
}

/* ------------------------------------------------------------------------ */
/* Segments                                                                   */

/* Waits (polling) until broker id's replica of part has a closed segment
 * and picks one at random: its path in path, its base offset in *base and
 * the next segment's in *next. */
static int pick_closed(sc_ctx_t *x, int32_t id, int32_t part, char *path, size_t len, int64_t *base,
		       int64_t *next, char *why, size_t whylen)
{
	int64_t until = wl_now_ms() + SC_CLAIM_MS, *bases = NULL;
	char dir[1300];
	size_t n = 0, k;

	for (;;) {
		free(bases);
		bases = NULL;
		if (sc_part_dir(x, id, part, dir, sizeof dir) < 0)
			return fail(why, whylen, "broker %d: path too long", id);
		/* A directory not there yet counts as no segment. */
		if (rp_segments(dir, &bases, &n, why, whylen) < 0)
			n = 0;
		if (n >= 3)
			break;
		if (wl_now_ms() >= until) {
			free(bases);
			return fail(why, whylen, "%s: %zu segments after %d ms, no closed one", dir,
				    n, SC_CLAIM_MS);
		}
		sc_sleep(x, 500);
	}
	/* Not the newest (active) one, and not the one before it, which the
	 * log may still be sealing. */
	k = (size_t)sc_rand(x, (uint64_t)(n - 2));
	*base = bases[k];
	*next = bases[k + 1];
	free(bases);
	if (snprintf(path, len, "%s/%020" PRId64 ".log", dir, *base) >= (int)len)
		return fail(why, whylen, "path too long");
	return 0;
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Kafka's record batch: base offset (8), length (4) of what follows,
 * partition leader epoch (4), magic (1), CRC (4), then the CRC-covered
 * part from the attributes on. */
#define BATCH_LEN_END  12
#define BATCH_CRC_FROM 21

/* Flips one bit in the CRC-covered part of a random batch of the segment
 * at path; *offset gets that batch's base offset. */
static int flip_bit(sc_ctx_t *x, const char *path, int64_t *offset, char *why, size_t whylen)
{
	uint8_t h[BATCH_LEN_END], byte;
	int64_t starts[1024], bases[1024];
	uint32_t lens[1024];
	int fd, n = 0, rc = -1, k;
	off_t pos = 0, at;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	while (n < 1024 && pread(fd, h, sizeof h, pos) == (ssize_t)sizeof h) {
		uint32_t blen = (uint32_t)be(h + 8, 4);

		if (blen < BATCH_CRC_FROM - BATCH_LEN_END + 1 || blen > (64u << 20))
			break;
		starts[n] = pos;
		bases[n] = (int64_t)be(h, 8);
		lens[n++] = blen;
		pos += BATCH_LEN_END + (off_t)blen;
	}
	if (n == 0) {
		fail(why, whylen, "%s: no batch found", path);
		goto out;
	}
	k = (int)sc_rand(x, (uint64_t)n);
	at = starts[k] + BATCH_CRC_FROM +
	     (off_t)sc_rand(x, lens[k] + BATCH_LEN_END - BATCH_CRC_FROM);
	if (pread(fd, &byte, 1, at) != 1) {
		fail(why, whylen, "%s: reading at %lld: %s", path, (long long)at, strerror(errno));
		goto out;
	}
	byte ^= (uint8_t)(1u << sc_rand(x, 8));
	if (pwrite(fd, &byte, 1, at) != 1) {
		fail(why, whylen, "%s: writing at %lld: %s", path, (long long)at, strerror(errno));
		goto out;
	}
	*offset = bases[k];
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Truncates the segment at path at a random point of its second half. */
static int cut_file(sc_ctx_t *x, const char *path, off_t *at, char *why, size_t whylen)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	if (sb.st_size < 4)
		return fail(why, whylen, "%s: %lld bytes, too small to cut", path,
			    (long long)sb.st_size);
	*at = sb.st_size / 2 + (off_t)sc_rand(x, (uint64_t)(sb.st_size / 2));
	if (truncate(path, *at) < 0)
		return fail(why, whylen, "%s: %s", path, strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Clients of the harness's own                                               */

static tern_conf_t *conf_new(sc_ctx_t *x, const char *const *kv, char *why, size_t whylen)
{
	tern_conf_t *conf = tern_conf_new();

	if (!conf) {
		fail(why, whylen, "out of memory");
		return NULL;
	}
	if (tern_conf_set(conf, "bootstrap.servers", fc_bootstrap(x->c), why, whylen))
		goto bad;
	for (; kv && kv[0]; kv += 2)
		if (tern_conf_set(conf, kv[0], kv[1], why, whylen))
			goto bad;
	return conf;
bad:
	tern_conf_destroy(conf);
	return NULL;
}

/* Asks the controller to move part's leadership to its preferred replica
 * (the first one). */
static int elect_preferred(sc_ctx_t *x, int32_t part, char *why, size_t whylen)
{
	tern_topic_partition_t tp = {SC_TOPIC, part};
	tern_election_results_t *res = NULL;
	tern_conf_t *conf = conf_new(x, NULL, why, whylen);
	tern_admin_t *a;
	tern_err_t err;
	int rc = -1;

	if (!conf)
		return -1;
	if (!(a = tern_admin_new(conf, why, whylen))) {
		tern_conf_destroy(conf);
		return -1;
	}
	err = tern_admin_elect_leaders(a, TERN_ELECTION_PREFERRED, &tp, 1, &res, why, whylen);
	if (!err && res && res->n == 1 && res->results[0].err &&
	    res->results[0].err != TERN_ERR_ELECTION_NOT_NEEDED)
		fail(why, whylen, "preferred election of %s-%d: %s (%s)", SC_TOPIC, part,
		     tern_strerror(res->results[0].err),
		     res->results[0].message ? res->results[0].message : "");
	else if (!err)
		rc = 0;
	tern_election_results_destroy(res);
	tern_admin_destroy(a);
	return rc;
}

/* Reads part from its start with a consumer of its own until it has read
 * past offset target (so whatever replica leads serves every batch below
 * it), the watch w (may be NULL) stepping all along. Offsets must follow
 * one another: a gap is data a replica served as if it did not exist. */
static int read_through(sc_ctx_t *x, int32_t part, int64_t target, watch_t *w, char *why,
			size_t whylen)
{
	const char *kv[] = {"auto.offset.reset",
			    "none",
			    "enable.auto.commit",
			    "false",
			    "fetch.max.wait.ms",
			    "200",
			    NULL};
	tern_conf_t *conf = conf_new(x, kv, why, whylen);
	int64_t until = wl_now_ms() + SC_CLAIM_MS * 2, next = -1, t_poll = 0;
	long records = 0, errors = 0;
	tern_consumer_t *c;
	int rc = -1;

	if (!conf)
		return -1;
	if (!(c = tern_consumer_new(conf, why, whylen))) {
		tern_conf_destroy(conf);
		return -1;
	}
	if (tern_consumer_assign(c, SC_TOPIC, part, TERN_OFFSET_BEGINNING)) {
		fail(why, whylen, "assigning %s-%d", SC_TOPIC, part);
		goto out;
	}
	while (next <= target) {
		tern_message_t *m = NULL;
		tern_err_t err = tern_consumer_poll(c, 100, &m);

		if (err == TERN_OK) {
			if (next >= 0 && m->offset > next && !x->violation[0])
				sc_violation(x,
					     "a read of %s-%d jumped from offset %" PRId64
					     " to %" PRId64 " (broker %d leads)",
					     SC_TOPIC, part, next, m->offset, sc_leader(x, part));
			if (m->offset >= next)
				next = m->offset + 1;
			records++;
		} else if (m && m->partition == part) {
			errors++;
			if (err == TERN_ERR_CORRUPT_MESSAGE && m->offset >= 0)
				tern_consumer_seek(c, SC_TOPIC, part, m->offset);
			else if (err == TERN_ERR_OFFSET_OUT_OF_RANGE || err == TERN_ERR__NO_OFFSET)
				tern_consumer_seek(c, SC_TOPIC, part, TERN_OFFSET_BEGINNING);
		}
		tern_message_destroy(m);
		if (wl_now_ms() - t_poll >= SC_POLL_MS) {
			sc_poll(x);
			if (w)
				watch_step(x, w);
			t_poll = wl_now_ms();
		}
		if (wl_now_ms() >= until) {
			fail(why, whylen,
			     "reading %s-%d from its start: at offset %" PRId64 " of %" PRId64
			     " after %d ms",
			     SC_TOPIC, part, next, target, SC_CLAIM_MS * 2);
			goto out;
		}
	}
	sc_say(x, "read %s-%d from its start past offset %" PRId64 ": %ld records, %ld errors",
	       SC_TOPIC, part, target, records, errors);
	rc = 0;
out:
	tern_consumer_close(c);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* 13. Disk full                                                              */

/* Broker id, its disk made useless (what: "a full disk"), must leave every
 * ISR (giving up what it led) while the others keep acknowledging, and stay
 * out, alive, for half the duration. */
static int stays_out(sc_ctx_t *x, int32_t id, const char *role, const char *what, char *why,
		     size_t whylen)
{
	flaps_t f = {0};

	if (sc_wait(x, -1, sc_isr_lacks, &id, SC_CLAIM_MS, why, whylen) < 0) {
		sc_violation(x, "broker %d, %s of partition 0, stays in an ISR with %s", id, role,
			     what);
		return -1;
	}
	sc_say(x, "broker %d is out of every ISR", id);
	if (sc_wait_acks(x, 50, SC_CLAIM_MS, why, whylen) < 0)
		sc_violation(x, "nothing acknowledged while broker %d has %s: %s", id, what, why);
	hold(x, x->duration_s * 1000 / 2, &f);
	if (!fc_running(x->c, id))
		sc_violation(x, "broker %d died with %s", id, what);
	for (int p = 0; p < x->partitions; p++)
		if (x->have[p] && in_isr(&x->last[p], id))
			sc_violation(x, "broker %d rejoined the ISR of %s-%d with %s", id, SC_TOPIC,
				     p, what);
	return 0;
}

/* Runs once(x, id, role, ...) on a follower of partition 0, then on its
 * leader. */
static int follower_then_leader(sc_ctx_t *x,
				int (*once)(sc_ctx_t *x, int32_t id, const char *role, char *why,
					    size_t whylen),
				char *why, size_t whylen)
{
	int32_t leader;

	if (sc_wait_full(x, why, whylen) < 0 || (leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	if (once(x, sc_other(x, leader, -1), "a follower", why, whylen) < 0)
		return -1;
	if ((leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	return once(x, leader, "the leader", why, whylen);
}

/* Broker id's disk fills, then has room again: it comes back by itself. */
static int disk_full_once(sc_ctx_t *x, int32_t id, const char *role, char *why, size_t whylen)
{
	off_t from = log_size(x, id), from2 = from;

	sc_fault(x, "broker %d's disk full (%s of partition 0)", id, role);
	if (fc_fill_disk(x->c, id, why, whylen) < 0)
		return -1;
	if (stays_out(x, id, role, "a full disk", why, whylen) < 0) {
		fc_free_disk(x->c, id, why, whylen);
		return -1;
	}
	if (fc_free_disk(x->c, id, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d's disk has room again", id);
	if (!fc_running(x->c, id) && fc_restart(x->c, id, 0, why, whylen) < 0)
		return -1;
	if (sc_wait_full(x, why, whylen) < 0) {
		sc_violation(x, "broker %d does not rejoin once its disk has room", id);
		return -1;
	}
	/* A full disk is no corruption: nothing the broker read may have
	 * failed its CRC. */
	if (log_count(x, id, &from, "reporting the replica here corrupt") ||
	    log_count(x, id, &from2, "corrupt tail cut"))
		sc_violation(x, "broker %d found corrupt data after its disk was full", id);
	return 0;
}

int env_disk_full(sc_ctx_t *x, char *why, size_t whylen)
{
	return follower_then_leader(x, disk_full_once, why, whylen);
}

/* ------------------------------------------------------------------------ */
/* 13. Disk errors                                                            */

/* Broker id, its disk failing, is stopped (a clean stop with failed logs
 * must still end) and restarted without the fault, as an operator would
 * after replacing the disk: it recovers its logs from what is on disk. */
static int restart_on_working_disk(sc_ctx_t *x, int32_t id, char *why, size_t whylen)
{
	if (fc_kill(x->c, id, SIGTERM) < 0)
		sc_violation(x, "broker %d does not stop cleanly after its disk failed: %s", id,
			     strerror(errno));
	if (fc_restart(x->c, id, 0, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d restarted on a working disk", id);
	return 0;
}

/* Broker id's disk fails every write and fsync with EIO: its logs fail for
 * good, so it stays out until restarted on a working disk. */
static int disk_error_once(sc_ctx_t *x, int32_t id, const char *role, char *why, size_t whylen)
{
	sc_fault(x, "broker %d's writes and fsyncs fail with EIO (%s of partition 0)", id, role);
	if (fc_disk_errors(x->c, id, "write,fsync EIO", why, whylen) < 0 ||
	    stays_out(x, id, role, "a failing disk", why, whylen) < 0 ||
	    restart_on_working_disk(x, id, why, whylen) < 0)
		return -1;
	if (sc_wait_full(x, why, whylen) < 0) {
		sc_violation(x, "broker %d does not rejoin after its restart", id);
		return -1;
	}
	return 0;
}

int env_disk_errors(sc_ctx_t *x, char *why, size_t whylen)
{
	return follower_then_leader(x, disk_error_once, why, whylen);
}

/* ------------------------------------------------------------------------ */
/* 14. Corrupt replica                                                        */

/* After a corruption of replica id of part, made while watch w began:
 * reads part from its start past the corrupt segment (next: its end), then
 * waits until the replica is back in the ISR, the watch on. */
static int corrupt_follow(sc_ctx_t *x, watch_t *w, int64_t next, char *why, size_t whylen)
{
	if (read_through(x, w->part, next, w, why, whylen) < 0)
		return -1;
	if (w->reports == 0)
		sc_say(x, "broker %d did not report %s-%d corrupt (found it when loading?)", w->id,
		       SC_TOPIC, w->part);
	if (watch_wait(x, w, sc_isr_full, &x->brokers, SC_CLAIM_MS * 2) < 0) {
		sc_violation(x, "broker %d does not rejoin the ISR of %s-%d after the corruption",
			     w->id, SC_TOPIC, w->part);
		return -1;
	}
	/* Its repair may follow its return to the ISR only if nothing was
	 * reported. */
	if (w->reports > w->cuts)
		sc_violation(x, "broker %d is in the ISR of %s-%d, reported corrupt, not repaired",
			     w->id, SC_TOPIC, w->part);
	sc_say(x, "broker %d: %d corrupt report(s), %d cut(s); back in the ISR", w->id, w->reports,
	       w->cuts);
	return 0;
}

/* Bit flips in (or with cut, a truncation of) a closed segment of part's
 * running leader. */
static int corrupt_running(sc_ctx_t *x, int32_t part, bool cut, char *why, size_t whylen)
{
	char path[1400];
	int64_t base, next, off = 0;
	int32_t id;
	off_t at = 0;
	watch_t w;

	if (sc_wait_full(x, why, whylen) < 0 || (id = sc_wait_leader(x, part, why, whylen)) < 0)
		return -1;
	if (pick_closed(x, id, part, path, sizeof path, &base, &next, why, whylen) < 0)
		return -1;
	watch_begin(x, &w, id, part);
	if ((cut ? cut_file(x, path, &at, why, whylen) : flip_bit(x, path, &off, why, whylen)) < 0)
		return -1;
	if (cut)
		sc_fault(x, "broker %d's segment %" PRId64 " of %s-%d cut at byte %lld (it leads)",
			 id, base, SC_TOPIC, part, (long long)at);
	else
		sc_fault(x,
			 "a bit flipped in the batch at offset %" PRId64
			 " of broker %d's segment %" PRId64 " of %s-%d (it leads)",
			 off, id, base, SC_TOPIC, part);
	return corrupt_follow(x, &w, next, why, whylen);
}

/* A closed segment of part's preferred replica truncated while it is
 * stopped (cleanly: its restart then trusts every closed segment, so only
 * a read can find the cut); restarted, it rejoins; then made leader
 * again, and read. */
static int corrupt_cut_stopped(sc_ctx_t *x, int32_t part, char *why, size_t whylen)
{
	char path[1400];
	int64_t base, next;
	int32_t id;
	off_t at = 0;
	watch_t w;

	if (sc_wait_full(x, why, whylen) < 0 || elect_preferred(x, part, why, whylen) < 0)
		return -1;
	sc_sleep(x, 1000);
	if ((id = sc_wait_leader(x, part, why, whylen)) < 0)
		return -1;
	if (pick_closed(x, id, part, path, sizeof path, &base, &next, why, whylen) < 0)
		return -1;
	sc_fault(x, "SIGTERM broker %d, the preferred leader of %s-%d", id, SC_TOPIC, part);
	if (fc_kill(x->c, id, SIGTERM) < 0)
		return fail(why, whylen, "killing broker %d: %s", id, strerror(errno));
	if (cut_file(x, path, &at, why, whylen) < 0)
		return -1;
	sc_fault(x, "broker %d's segment %" PRId64 " of %s-%d cut at byte %lld while stopped", id,
		 base, SC_TOPIC, part, (long long)at);
	if (sc_wait(x, part, sc_leader_not, &id, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	sc_sleep(x, 1000);
	if (fc_restart(x->c, id, 0, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d restarted", id);
	if (sc_wait_full(x, why, whylen) < 0)
		return -1;
	/* Leading again, it serves the reads from the start. */
	if (elect_preferred(x, part, why, whylen) < 0 ||
	    sc_wait(x, part, sc_has_leader, NULL, SC_CLAIM_MS, why, whylen) < 0)
		return -1;
	/* Every broker's image names it before the read begins, so that no
	 * broker that led before serves it. */
	sc_sleep(x, 2000);
	sc_say(x, "%s-%d: broker %d leads again after the preferred election", SC_TOPIC, part,
	       sc_leader(x, part));
	watch_begin(x, &w, id, part);
	return corrupt_follow(x, &w, next, why, whylen);
}

int env_corrupt_replica(sc_ctx_t *x, char *why, size_t whylen)
{
	if (corrupt_running(x, P0, false, why, whylen) < 0)
		return -1;
	sc_sleep(x, x->duration_s * 1000 / 4);
	if (corrupt_running(x, P0, true, why, whylen) < 0)
		return -1;
	sc_sleep(x, x->duration_s * 1000 / 4);
	if (corrupt_cut_stopped(x, P0, why, whylen) < 0)
		return -1;
	sc_sleep(x, x->duration_s * 1000 / 4);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 15. Clock skew                                                             */

/* Holds ms with no fault but the skew: a timeout on the wall clock would
 * shrink an ISR or move a leader. */
static void skew_hold(sc_ctx_t *x, int ms, const char *what)
{
	flaps_t f = {0};

	hold(x, ms, &f);
	sc_say(x, "%s: %d ISR shrinks, %d expansions, %d leader changes", what, f.shrinks,
	       f.expands, f.moves);
	if (f.shrinks || f.moves)
		sc_violation(x,
			     "%s: %d ISR shrinks and %d leader changes with no fault but the "
			     "skew",
			     what, f.shrinks, f.moves);
}

int env_clock_skew(sc_ctx_t *x, char *why, size_t whylen)
{
	int32_t a, b;
	int ms = x->duration_s * 1000 / 3;

	if (!fc_skew_available(why, whylen))
		return SC_SKIP;
	if (sc_wait_full(x, why, whylen) < 0 || (a = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	sc_fault(x, "broker %d (the leader of partition 0) restarted %+d s off", a, SKEW_S);
	if (bounce(x, a, false, SKEW_S, why, whylen) < 0)
		return -1;
	if (sc_wait_full(x, why, whylen) < 0) {
		sc_violation(x, "broker %d does not rejoin with its clock %+d s off", a, SKEW_S);
		return -1;
	}
	skew_hold(x, ms, "one broker ahead");
	b = sc_other(x, a, -1);
	sc_fault(x, "broker %d restarted %+d s off", b, -SKEW_S);
	if (bounce(x, b, false, -SKEW_S, why, whylen) < 0)
		return -1;
	if (sc_wait_full(x, why, whylen) < 0) {
		sc_violation(x, "broker %d does not rejoin with its clock %+d s off", b, -SKEW_S);
		return -1;
	}
	skew_hold(x, ms, "one broker ahead, one behind");
	/* A failover among skewed clocks: the session timeouts still fire. */
	if ((a = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	sc_fault(x, "kill -9 broker %d, the leader of partition 0, among skewed clocks", a);
	if (fc_kill(x->c, a, SIGKILL) < 0)
		return fail(why, whylen, "killing broker %d: %s", a, strerror(errno));
	if (sc_wait(x, P0, sc_leader_not, &a, SC_CLAIM_MS, why, whylen) < 0) {
		sc_violation(x, "no new leader of partition 0 among skewed clocks");
		return -1;
	}
	if (fc_restart(x->c, a, a == b ? -SKEW_S : SKEW_S, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d restarted, still skewed", a);
	if (sc_wait_full(x, why, whylen) < 0)
		return -1;
	skew_hold(x, ms, "after the failover");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 16. Slow network                                                           */

/* Broker id behind delay_ms each way and loss_pct % loss, restarted cleanly
 * so that its own connections (to ZooKeeper, to the leaders it follows)
 * open through the delay; held ms, then healed. */
static int slow_once(sc_ctx_t *x, int32_t id, const char *role, int ms, char *why, size_t whylen)
{
	lab_t *l = fc_lab(x->c);
	int host = fc_broker_host(x->c, id);
	int delay = 50 + (int)sc_rand(x, 51), loss = 5 + (int)sc_rand(x, 6);
	flaps_t f = {0};
	long acked = wl_acked(x->wl);
	int64_t p50, p99;

	/* Two statements: the second call resets the count. */
	p50 = wl_ack_latency_ms(x->wl, 0.5, false);
	p99 = wl_ack_latency_ms(x->wl, 0.99, true);
	if (p50 >= 0) /* none since the last phase: nothing to say */
		sc_say(x,
		       "acknowledgement latency before: p50 <= %" PRId64 " ms, p99 <= %" PRId64
		       " ms",
		       p50, p99);
	sc_fault(x, "broker %d (%s of partition 0): %d ms delay each way, %d%% loss", id, role,
		 delay, loss);
	if (lab_loss(l, host, loss, why, whylen) < 0 || lab_delay(l, host, delay, why, whylen) < 0)
		return -1;
	if (bounce(x, id, false, 0, why, whylen) < 0)
		return -1;
	sc_say(x, "broker %d restarted behind the slow network", id);
	hold(x, ms, &f);
	p50 = wl_ack_latency_ms(x->wl, 0.5, false);
	p99 = wl_ack_latency_ms(x->wl, 0.99, true);
	sc_say(x,
	       "slow broker %d: %d ISR shrinks, %d expansions, %d leader changes; %ld "
	       "acknowledged, latency p50 <= %" PRId64 " ms, p99 <= %" PRId64 " ms",
	       id, f.shrinks, f.expands, f.moves, wl_acked(x->wl) - acked, p50, p99);
	if (lab_heal(l, host, why, whylen) < 0)
		return -1;
	sc_heal(x, "broker %d's network healed", id);
	if (sc_wait_full(x, why, whylen) < 0) {
		sc_violation(x, "broker %d does not rejoin once its network is healed", id);
		return -1;
	}
	return 0;
}

int env_slow_network(sc_ctx_t *x, char *why, size_t whylen)
{
	int32_t leader;
	int ms = x->duration_s * 1000 / 2;

	if (sc_wait_full(x, why, whylen) < 0 || (leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	if (slow_once(x, sc_other(x, leader, -1), "a follower", ms, why, whylen) < 0)
		return -1;
	if ((leader = sc_wait_leader(x, P0, why, whylen)) < 0)
		return -1;
	return slow_once(x, leader, "the leader", ms, why, whylen);
}

/* ------------------------------------------------------------------------ */
/* 17. Soak                                                                   */

enum { N_KILL, N_STOP, N_PARTITION, N_DISK, N_SLOW, N_SKEW, N_CORRUPT, N_EIO, N_KINDS };

static const char *const kind_names[N_KINDS] = {"kill -9",  "SIGSTOP", "partition",  "disk full",
						"slow net", "skew",    "corruption", "EIO"};

/* One fault of kind on broker id, held ms, then healed. */
static int soak_one(sc_ctx_t *x, int kind, int32_t id, int ms, char *why, size_t whylen)
{
	lab_t *l = fc_lab(x->c);
	int host = fc_broker_host(x->c, id);
	int skew = sc_rand(x, 2) ? SKEW_S : -SKEW_S;

	switch (kind) {
	case N_KILL:
		sc_fault(x, "kill -9 broker %d for %d ms", id, ms);
		if (fc_kill(x->c, id, SIGKILL) < 0)
			return fail(why, whylen, "killing broker %d: %s", id, strerror(errno));
		sc_sleep(x, ms);
		if (fc_restart(x->c, id, 0, why, whylen) < 0)
			return -1;
		sc_heal(x, "broker %d restarted", id);
		return 0;
	case N_STOP:
		sc_fault(x, "SIGSTOP broker %d for %d ms", id, ms);
		if (fc_kill(x->c, id, SIGSTOP) < 0)
			return fail(why, whylen, "stopping broker %d: %s", id, strerror(errno));
		sc_sleep(x, ms);
		if (fc_kill(x->c, id, SIGCONT) < 0)
			return fail(why, whylen, "continuing broker %d: %s", id, strerror(errno));
		sc_heal(x, "SIGCONT broker %d", id);
		return 0;
	case N_PARTITION:
		sc_fault(x, "broker %d cut off from every host for %d ms", id, ms);
		if (sc_isolate(x, id, true, why, whylen) < 0)
			return -1;
		sc_sleep(x, ms);
		if (sc_isolate(x, id, false, why, whylen) < 0)
			return -1;
		sc_heal(x, "broker %d reconnected", id);
		return 0;
	case N_DISK:
		sc_fault(x, "broker %d's disk full for %d ms", id, ms);
		if (fc_fill_disk(x->c, id, why, whylen) < 0)
			return -1;
		sc_sleep(x, ms);
		if (fc_free_disk(x->c, id, why, whylen) < 0)
			return -1;
		if (!fc_running(x->c, id))
			sc_violation(x, "broker %d died with a full disk", id);
		sc_heal(x, "broker %d's disk has room again", id);
		return 0;
	case N_SLOW: {
		int delay = 50 + (int)sc_rand(x, 51), loss = 5 + (int)sc_rand(x, 6);

		sc_fault(x, "broker %d: %d ms delay (new connections), %d%% loss for %d ms", id,
			 delay, loss, ms);
		if (lab_loss(l, host, loss, why, whylen) < 0 ||
		    lab_delay(l, host, delay, why, whylen) < 0)
			return -1;
		sc_sleep(x, ms);
		if (lab_heal(l, host, why, whylen) < 0)
			return -1;
		sc_heal(x, "broker %d's network healed", id);
		return 0;
	}
	case N_SKEW:
		sc_fault(x, "broker %d restarted %+d s off (until its next restart)", id, skew);
		if (bounce(x, id, true, skew, why, whylen) < 0)
			return -1;
		sc_sleep(x, ms);
		return 0;
	case N_EIO:
		sc_fault(x,
			 "broker %d's writes and fsyncs fail with EIO for %d ms, then it restarts",
			 id, ms);
		if (fc_disk_errors(x->c, id, "write,fsync EIO", why, whylen) < 0)
			return -1;
		sc_sleep(x, ms);
		if (!fc_running(x->c, id))
			sc_violation(x, "broker %d died with a failing disk", id);
		return restart_on_working_disk(x, id, why, whylen);
	default:
		return corrupt_running(x, (int32_t)sc_rand(x, (uint64_t)x->partitions),
				       sc_rand(x, 2) == 1, why, whylen);
	}
}

int env_soak(sc_ctx_t *x, char *why, size_t whylen)
{
	int64_t end = wl_now_ms() + (int64_t)x->duration_s * 1000;
	int counts[N_KINDS] = {0};
	bool skew = fc_skew_available(why, whylen);
	int64_t p50, p99;
	char line[256];
	size_t n = 0;

	while (wl_now_ms() < end) {
		int kind = (int)sc_rand(x, N_KINDS);
		int32_t id = 1 + (int32_t)sc_rand(x, (uint64_t)x->brokers);
		int ms = 2000 + (int)sc_rand(x, 3001);

		if (kind == N_SKEW && !skew)
			kind = N_KILL;
		if (sc_wait_full(x, why, whylen) < 0) {
			sc_violation(x, "the ISR does not grow back between faults");
			return -1;
		}
		if (soak_one(x, kind, id, ms, why, whylen) < 0)
			return -1;
		counts[kind]++;
		sc_sleep(x, 1000 + (int)sc_rand(x, 2000));
	}
	for (int k = 0; k < N_KINDS && n < sizeof line; k++)
		n += (size_t)snprintf(line + n, sizeof line - n, "%s%s %d", k ? ", " : "",
				      kind_names[k], counts[k]);
	sc_say(x, "soak faults: %s%s", line,
	       skew ? "" : " (no libfaketime: kills instead of skew)");
	p50 = wl_ack_latency_ms(x->wl, 0.5, false);
	p99 = wl_ack_latency_ms(x->wl, 0.99, false);
	sc_say(x,
	       "acknowledgement latency over the soak: p50 <= %" PRId64 " ms, p99 <= %" PRId64
	       " ms",
	       p50, p99);
	return sc_wait_full(x, why, whylen);
}
