/* Crash test of the partition log: a child process appends from several
 * threads and is killed with SIGKILL at a random moment; the parent then
 * recovers the log and checks that every append the child was told is done
 * survived, and that the log is a valid, contiguous prefix, before the next
 * round appends to the same log again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "testutil.h"

#define LOG_NAME "crash-0"
/* Exit status of a child that found something wrong itself. */
#define CHILD_FAILED 3
/* Appends one appender thread may have in flight. */
#define MAX_INFLIGHT 4

static char *dir;
/* The child of the round in progress, -1 when none: every path that ends
 * the test while it lives kills its process group and reaps it. */
static pid_t child = -1;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kills the child's group (and the child itself, in case it has not
 * moved to its own group yet) and waits for it. */
static void reap_child(void)
{
	if (child <= 0)
		return;
	killpg(child, SIGKILL);
	kill(child, SIGKILL);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	child = -1;
}

/* ck_assert while a child may be alive: a failed assertion in a forked
 * Check case ends the process with _exit (no teardown), so kill the child
 * first. */
#define CHILD_ASSERT(cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			reap_child();                                                              \
			ck_abort_msg(__VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

/* The runner's directory for the whole case (unchecked fixture): a failed
 * assertion ends a forked case with _exit, skipping its teardown, but the
 * runner still removes this. */
static char *root;

static void root_setup(void)
{
	root = tt_mkdtemp("crash");
}

static void root_teardown(void)
{
	tt_rmtree(root);
	free(root);
	root = NULL;
}

static void setup(void)
{
	if (asprintf(&dir, "%s/case-XXXXXX", root) < 0 || !mkdtemp(dir))
		ck_abort_msg("cannot create a directory under %s", root);
}

static void teardown(void)
{
	reap_child();
	tt_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* ------------------------------------------------------------------------ */
/* Records: the value of the record at offset o is "v<o>:" followed by some
 * copies of the letter 'a' + o % 26. */

static char pad_char(int64_t off)
{
	return (char)('a' + (int)(off % 26));
}

/* A batch of n records for offsets first.. with pad bytes of padding each;
 * NULL when the builder fails (the child reports it). */
static uint8_t *make_batch(int64_t first, int n, size_t pad, size_t *len)
{
	log_builder_opts_t o;
	log_batch_builder_t *b = NULL;
	uint8_t *buf = NULL;
	char *val = malloc(pad + 32);

	log_builder_opts_default(&o);
	if (!val || log_batch_builder_new(&o, &b) != TERN_OK)
		goto out;
	for (int i = 0; i < n; i++) {
		int64_t off = first + i;
		int k = snprintf(val, 32, "v%lld:", (long long)off);

		memset(val + k, pad_char(off), pad);
		if (log_batch_builder_add(b, 1700000000000LL + off, "k", 1, val, (size_t)k + pad,
					  NULL, 0) != TERN_OK)
			goto out;
	}
	if (log_batch_builder_finish(b, &buf, len) != TERN_OK)
		buf = NULL;
out:
	log_batch_builder_free(b);
	free(val);
	return buf;
}

/* Whether rec holds the value written for its offset. */
static bool value_ok(const log_record_t *rec)
{
	char want[32];
	int k = snprintf(want, sizeof want, "v%lld:", (long long)rec->offset);

	if (!rec->value || rec->value_len < k || memcmp(rec->value, want, (size_t)k) != 0)
		return false;
	for (int32_t i = k; i < rec->value_len; i++)
		if (rec->value[i] != (uint8_t)pad_char(rec->offset))
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* The child: opens the log and appends until it is killed. It never
 * returns into Check: any problem it finds goes to stderr and ends it with
 * CHILD_FAILED, which the parent reports. */

typedef struct child_ctx {
	log_config_t cfg;
	int32_t epoch;
	uint64_t seed;
	int nthreads;
	int writer_threads;
	size_t max_pad;
	int fd; /* pipe to the parent: (base, last) of every completed append */
	log_t *l;
	pthread_mutex_t append_mu; /* predicting the next offset and appending */
} child_ctx_t;

typedef struct appender {
	child_ctx_t *c;
	int id;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;
} appender_t;

static void child_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void child_die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	if (write(2, "crash child: ", 13) < 0 || write(2, msg, (size_t)n) < 0) {
		/* nothing more to say */
	}
	_exit(CHILD_FAILED);
}

/* Completion of one append, on a writer thread: report the range to the
 * parent (one write of 16 bytes: atomic on a pipe). */
static void child_cb(void *opaque, tern_err_t err, int64_t base, int64_t last)
{
	appender_t *a = opaque;
	int64_t rec[2] = {base, last};

	if (err)
		child_die("append [%lld, %lld] failed: %s", (long long)base, (long long)last,
			  tern_strerror(err));
	if (write(a->c->fd, rec, sizeof rec) != (ssize_t)sizeof rec)
		child_die("write to the parent: %s", strerror(errno));
	pthread_mutex_lock(&a->mu);
	a->inflight--;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

static void *child_appender(void *arg)
{
	appender_t *a = arg;
	child_ctx_t *c = a->c;
	uint64_t rng = c->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(a->id + 1));

	for (;;) {
		int n = 1 + (int)(tt_rand(&rng) % 8);
		size_t pad = (size_t)(tt_rand(&rng) % (c->max_pad + 1)), len;
		log_append_info_t info;
		int64_t first;
		uint8_t *b;
		tern_err_t err;

		pthread_mutex_lock(&a->mu);
		while (a->inflight >= MAX_INFLIGHT)
			pthread_cond_wait(&a->cv, &a->mu);
		a->inflight++;
		pthread_mutex_unlock(&a->mu);

		/* The values carry their offsets, so the offset is predicted and
		 * the append made under one lock shared by the appenders. */
		pthread_mutex_lock(&c->append_mu);
		first = log_next_offset(c->l);
		b = make_batch(first, n, pad, &len);
		if (!b)
			child_die("cannot build a batch");
		err = log_append(c->l, b, len, c->epoch, LOG_APPEND_ASSIGN_OFFSETS, &info, child_cb,
				 a);
		if (err)
			child_die("log_append at %lld: %s", (long long)first, tern_strerror(err));
		if (info.base_offset != first || info.last_offset != first + n - 1)
			child_die("append got [%lld, %lld], expected [%lld, %lld]",
				  (long long)info.base_offset, (long long)info.last_offset,
				  (long long)first, (long long)(first + n - 1));
		pthread_mutex_unlock(&c->append_mu);
		free(b);
	}
	return NULL;
}

/* Runs on a thread of its own so that no io_uring ring the parent's main
 * thread set up before the fork (shared memory with the parent) is used. */
static void *child_driver(void *arg)
{
	child_ctx_t *c = arg;
	log_dir_opts_t o = {.path = dir, .writer_threads = c->writer_threads, .max_open_files = 4};
	appender_t a[3];
	pthread_t th[3];
	log_dir_t *d = NULL;
	char err[256] = "";
	tern_err_t rc;

	rc = log_dir_open(&o, &d, err, sizeof err);
	if (rc)
		child_die("log_dir_open: %s (%s)", err, tern_strerror(rc));
	rc = log_open(d, LOG_NAME, &c->cfg, &c->l, err, sizeof err);
	if (rc)
		child_die("log_open: %s (%s)", err, tern_strerror(rc));
	pthread_mutex_init(&c->append_mu, NULL);
	for (int i = 0; i < c->nthreads; i++) {
		a[i] = (appender_t){.c = c, .id = i};
		pthread_mutex_init(&a[i].mu, NULL);
		pthread_cond_init(&a[i].cv, NULL);
		if (pthread_create(&th[i], NULL, child_appender, &a[i]) != 0)
			child_die("pthread_create failed");
	}
	for (int i = 0; i < c->nthreads; i++)
		pthread_join(th[i], NULL);
	child_die("appenders returned");
}

static void child_main(child_ctx_t *c, pid_t parent, int rfd)
{
	pthread_t th;

	/* Die with the test, whatever way it ends. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(CHILD_FAILED);
	setpgid(0, 0);
	close(rfd);
	if (pthread_create(&th, NULL, child_driver, c) != 0)
		child_die("pthread_create failed");
	pthread_join(th, NULL);
	_exit(CHILD_FAILED);
}

/* ------------------------------------------------------------------------ */
/* The parent */

typedef struct range {
	int64_t base, last;
} range_t;

typedef struct reports {
	range_t *r;
	size_t n, cap;
	uint8_t part[16]; /* a record split across reads */
	size_t npart;
} reports_t;

static void reports_add(reports_t *rp, const uint8_t *buf, size_t len)
{
	while (len) {
		size_t k = sizeof rp->part - rp->npart;

		if (k > len)
			k = len;
		memcpy(rp->part + rp->npart, buf, k);
		rp->npart += k;
		buf += k;
		len -= k;
		if (rp->npart < sizeof rp->part)
			break;
		if (rp->n == rp->cap) {
			rp->cap = rp->cap ? rp->cap * 2 : 256;
			rp->r = realloc(rp->r, rp->cap * sizeof *rp->r);
			CHILD_ASSERT(rp->r != NULL, "out of memory");
		}
		memcpy(&rp->r[rp->n].base, rp->part, 8);
		memcpy(&rp->r[rp->n].last, rp->part + 8, 8);
		rp->n++;
		rp->npart = 0;
	}
}

/* Reads what the child reported, waiting up to timeout_ms for something.
 * Returns false at end of file (the child is gone). */
static bool reports_read(reports_t *rp, int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint8_t buf[4096];
	ssize_t n;
	int rc = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);

	CHILD_ASSERT(rc >= 0 || errno == EINTR, "poll: %s", strerror(errno));
	if (rc <= 0)
		return true;
	n = read(fd, buf, sizeof buf);
	if (n < 0) {
		CHILD_ASSERT(errno == EINTR || errno == EAGAIN, "read: %s", strerror(errno));
		return true;
	}
	if (n == 0)
		return false;
	reports_add(rp, buf, (size_t)n);
	return true;
}

static int cmp_range(const void *a, const void *b)
{
	const range_t *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

static log_dir_t *open_dir(void)
{
	log_dir_opts_t o = {.path = dir, .max_open_files = 4};
	log_dir_t *d = NULL;
	char err[256] = "";
	int64_t deadline = now_ms() + 10000;
	tern_err_t rc;

	/* The dead child's lock goes with its last descriptor: allow for it. */
	while ((rc = log_dir_open(&o, &d, err, sizeof err)) != TERN_OK &&
	       strstr(err, "in use") != NULL && now_ms() < deadline)
		usleep(1000);
	ck_assert_msg(rc == TERN_OK, "log_dir_open: %s (%s)", err, tern_strerror(rc));
	return d;
}

typedef struct verify_stats {
	int64_t leo;
	int32_t last_epoch; /* epoch of the last batch, -1 when empty */
	int batches;
} verify_stats_t;

/* Reads every offset from the log start to the LEO through log_read (which
 * CRC-checks every batch): offsets contiguous, values right, epochs never
 * above max_epoch and never decreasing. */
static verify_stats_t verify_log(log_t *l, int32_t max_epoch)
{
	verify_stats_t vs = {.last_epoch = -1};
	int64_t leo = log_end_offset(l), expect = log_start_offset(l);
	log_read_result_t r;
	char err[512] = "";

	ck_assert_int_eq(expect, 0); /* nothing removes the start here */
	while (expect < leo) {
		size_t p = 0;

		ck_assert_msg(
		    log_read(l, expect, 64 << 10, INT64_MAX, &r, err, sizeof err) == TERN_OK,
		    "log_read(%lld) below LEO %lld: %s", (long long)expect, (long long)leo, err);
		ck_assert_msg(r.len > 0, "log_read(%lld) returned nothing below LEO %lld",
			      (long long)expect, (long long)leo);
		ck_assert_int_eq(r.first_offset, expect);
		while (p < r.len) {
			log_batch_hdr_t h;
			log_batch_iter_t *it;
			log_record_t rec;
			tern_err_t e;

			ck_assert_int_eq(log_batch_hdr_parse(r.data + p, r.len - p, &h), TERN_OK);
			ck_assert_uint_le(log_batch_size(&h), r.len - p);
			ck_assert_msg(h.base_offset == expect, "batch at %lld, expected %lld",
				      (long long)h.base_offset, (long long)expect);
			ck_assert_msg(h.leader_epoch >= vs.last_epoch &&
					  h.leader_epoch <= max_epoch,
				      "batch %lld has epoch %d after %d (max %d)",
				      (long long)expect, h.leader_epoch, vs.last_epoch, max_epoch);
			vs.last_epoch = h.leader_epoch;
			ck_assert_int_eq(log_batch_iter_new(r.data + p, log_batch_size(&h), 0, &it),
					 TERN_OK);
			while ((e = log_batch_iter_next(it, &rec)) == TERN_OK) {
				ck_assert_msg(rec.offset == expect, "record %lld, expected %lld",
					      (long long)rec.offset, (long long)expect);
				ck_assert_msg(value_ok(&rec), "offset %lld holds a wrong value",
					      (long long)rec.offset);
				expect++;
			}
			ck_assert_int_eq(e, TERN_ERR__END);
			log_batch_iter_free(it);
			ck_assert_int_eq(expect, log_batch_last_offset(&h) + 1);
			p += log_batch_size(&h);
			vs.batches++;
		}
		ck_assert_int_eq(r.next_offset, expect);
		free(r.buf);
	}
	ck_assert_int_eq(expect, leo);
	/* At the end: nothing; past it: out of range. */
	ck_assert_int_eq(log_read(l, leo, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(log_read(l, leo + 1, 1 << 20, INT64_MAX, &r, NULL, 0),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
	/* The epoch cache agrees with the batches that survived. */
	if (vs.last_epoch >= 0) {
		int32_t e;
		int64_t end;

		ck_assert_int_eq(log_latest_epoch(l), vs.last_epoch);
		log_end_offset_for_epoch(l, vs.last_epoch, &e, &end);
		ck_assert_int_eq(e, vs.last_epoch);
		ck_assert_int_eq(end, leo);
	}
	vs.leo = leo;
	return vs;
}

/* SIGKILL does not tear a write the kernel has taken, so a torn write is
 * made by hand: a batch cut short, or whole with a stretch of zeros (a page
 * that never reached the disk), after the end of the last segment, as an
 * append in flight at the crash (and never reported done) could leave. */
static void tear_tail(uint64_t *rng)
{
	/* Drawn first, so that the random sequence does not depend on what
	 * the child managed to create. */
	int nrec = 1 + (int)(tt_rand(rng) % 8);
	size_t pad = tt_rand(rng) % 200, len, cut;
	bool cut_short = tt_rand(rng) % 2;
	uint64_t where = tt_rand(rng);
	char logdir[4096], best[64] = "", path[4200];
	struct dirent *de;
	uint8_t *b;
	DIR *dh;
	int fd;

	snprintf(logdir, sizeof logdir, "%s/%s", dir, LOG_NAME);
	dh = opendir(logdir);
	if (!dh)
		return; /* killed before the log existed */
	while ((de = readdir(dh)))
		if (strlen(de->d_name) == 24 && strcmp(de->d_name + 20, ".log") == 0 &&
		    strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", de->d_name);
	closedir(dh);
	if (!best[0])
		return;
	snprintf(path, sizeof path, "%s/%s", logdir, best);
	b = make_batch(1000000000, nrec, pad, &len);
	ck_assert_ptr_nonnull(b);
	if (cut_short) {
		cut = 1 + where % (len - 1);
	} else {
		size_t at = LOG_BATCH_CRC_START + 4 + where % (len - LOG_BATCH_CRC_START - 4);

		memset(b + at, 0, len - at < 64 ? len - at : 64);
		cut = len;
	}
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, cut), (ssize_t)cut);
	close(fd);
	free(b);
}

typedef struct totals {
	int rounds, early_kills, reports, abandons, torn;
	int64_t leo;
	int segments;
} totals_t;

/* One round: fork the child, kill it, recover and check. prev_leo is what
 * the log held before (all of it durable); returns the new LEO. */
static int64_t crash_round(log_flush_policy_t policy, int round, uint64_t *rng, int64_t prev_leo,
			   bool *abandon, totals_t *t)
{
	static const int64_t seg_sizes[] = {4096, 8192, 32768};
	child_ctx_t c = {0};
	reports_t rp = {0};
	int pfd[2], status;
	bool early = tt_rand(rng) % 8 == 0, open = true;
	int64_t t0, deadline, max_last = -1;
	size_t want;
	pid_t parent = getpid();
	log_dir_t *d;
	log_t *l;
	verify_stats_t vs;
	char err[256] = "";
	tern_err_t rc;

	log_config_default(&c.cfg);
	c.cfg.segment_bytes = seg_sizes[tt_rand(rng) % 3];
	c.cfg.index_interval_bytes = 256 << (tt_rand(rng) % 3);
	c.cfg.segment_index_bytes = 4096;
	c.cfg.flush_policy = policy;
	c.cfg.flush_ms = policy == LOG_FLUSH_ASYNC ? (int64_t)(1 + tt_rand(rng) % 50) : 1000;
	c.epoch = round + 1;
	c.seed = tt_rand(rng);
	c.nthreads = 2 + (int)(tt_rand(rng) % 2);
	c.writer_threads = 1 + (int)(tt_rand(rng) % 2);
	c.max_pad = 1 + tt_rand(rng) % 120;
	want = 1 + tt_rand(rng) % 200;

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		c.fd = pfd[1];
		child_main(&c, parent, pfd[0]);
	}
	setpgid(child, child); /* also done by the child: whichever runs first */
	close(pfd[1]);

	/* Kill it after a random delay: early, possibly while it opens and
	 * recovers the log, or once it has reported `want` appends done. */
	t0 = now_ms();
	if (early) {
		int64_t until = t0 + (int64_t)(tt_rand(rng) % 30);

		while (open && now_ms() < until)
			open = reports_read(&rp, pfd[0], (int)(until - now_ms()));
	} else {
		deadline = t0 + 60000;
		while (open && rp.n < want && now_ms() < deadline)
			open = reports_read(&rp, pfd[0], 100);
		CHILD_ASSERT(!open || rp.n >= want || now_ms() < deadline,
			     "round %d: only %zu appends completed in 60 s", round, rp.n);
		/* A few hundred microseconds more, into whatever it does now. */
		if (open) {
			struct timespec ts = {0, (long)(tt_rand(rng) % 3000) * 1000};

			nanosleep(&ts, NULL);
		}
	}
	CHILD_ASSERT(open, "round %d: the child ended before it was killed (status on stderr)",
		     round);
	killpg(child, SIGKILL);
	kill(child, SIGKILL);
	while (waitpid(child, &status, 0) < 0)
		CHILD_ASSERT(errno == EINTR, "waitpid: %s", strerror(errno));
	child = -1;
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "round %d: the child was not killed by us (status 0x%x)", round, status);
	/* Everything it wrote before it died counts. */
	while (reports_read(&rp, pfd[0], 1000))
		;
	close(pfd[0]);
	ck_assert_uint_eq(rp.npart, 0);

	/* No offset completed twice, none below what the log held before. */
	if (rp.n > 1)
		qsort(rp.r, rp.n, sizeof *rp.r, cmp_range);
	for (size_t i = 0; i < rp.n; i++) {
		ck_assert_int_le(rp.r[i].base, rp.r[i].last);
		ck_assert_msg(rp.r[i].base >= prev_leo, "round %d: append [%lld, %lld] below %lld",
			      round, (long long)rp.r[i].base, (long long)rp.r[i].last,
			      (long long)prev_leo);
		if (i)
			ck_assert_msg(rp.r[i].base > rp.r[i - 1].last,
				      "round %d: appends [%lld, %lld] and [%lld, %lld] overlap",
				      round, (long long)rp.r[i - 1].base,
				      (long long)rp.r[i - 1].last, (long long)rp.r[i].base,
				      (long long)rp.r[i].last);
		if (rp.r[i].last > max_last)
			max_last = rp.r[i].last;
	}

	/* Only a child that was appending can have left a write in flight. */
	if (tt_rand(rng) % 4 == 0 && !early) {
		tear_tail(rng);
		t->torn++;
	}
	d = open_dir();
	rc = log_open(d, LOG_NAME, &c.cfg, &l, err, sizeof err);
	ck_assert_msg(rc == TERN_OK, "round %d: log_open after the crash: %s (%s)", round, err,
		      tern_strerror(rc));
	/* Under sync every reported append was fsynced; under async it was
	 * written to the page cache, which a killed process does not lose (only
	 * a power loss would, and none is simulated here). */
	ck_assert_msg(log_end_offset(l) > max_last,
		      "round %d (%s): LEO %lld after recovery, but offset %lld was reported done",
		      round, policy == LOG_FLUSH_SYNC ? "sync" : "async",
		      (long long)log_end_offset(l), (long long)max_last);
	ck_assert_msg(log_end_offset(l) >= prev_leo,
		      "round %d: LEO %lld after recovery, below the %lld held before", round,
		      (long long)log_end_offset(l), (long long)prev_leo);
	vs = verify_log(l, c.epoch);
	ck_assert_int_eq(log_durable_end_offset(l), vs.leo);

	t->rounds++;
	t->early_kills += early;
	t->reports += (int)rp.n;
	t->leo = vs.leo;
	t->segments = log_segment_count(l);
	/* Leave it cleanly closed, or as a crash leaves it, for the next
	 * child to recover (and perhaps be killed while it does). */
	*abandon = tt_rand(rng) % 3 == 0;
	if (*abandon) {
		log_dir_abandon(d);
		t->abandons++;
	} else {
		ck_assert_int_eq(log_dir_close(d), TERN_OK);
	}
	free(rp.r);
	return vs.leo;
}

static void crash_rounds(log_flush_policy_t policy, long rounds)
{
	uint64_t rng = tt_seed() ^ (policy == LOG_FLUSH_SYNC ? 0x51u : 0xA5u);
	totals_t t = {0};
	int64_t leo = 0;
	bool abandon = false;

	for (long i = 0; i < rounds; i++)
		leo = crash_round(policy, (int)i, &rng, leo, &abandon, &t);
	fprintf(stderr,
		"%s: %d rounds (%d killed early, %d torn tails, %d left unclean), %d appends "
		"reported, LEO %lld in %d segments\n",
		policy == LOG_FLUSH_SYNC ? "sync" : "async", t.rounds, t.early_kills, t.torn,
		t.abandons, t.reports, (long long)t.leo, t.segments);
}

START_TEST(sync_appends_survive_sigkill)
{
	crash_rounds(LOG_FLUSH_SYNC, tt_scale(30));
}
END_TEST

START_TEST(async_log_is_valid_prefix_after_sigkill)
{
	crash_rounds(LOG_FLUSH_ASYNC, tt_scale(20));
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("crash");

	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 110);
	tcase_add_test(tc, sync_appends_survive_sigkill);
	tcase_add_test(tc, async_log_is_valid_prefix_after_sigkill);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	tt_require_io_uring();
	tt_seed(); /* printed once, before the cases fork */
	return tt_run(crash_suite());
}
