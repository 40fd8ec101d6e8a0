/* tests/broker/tclient.c: ternd processes and a proto/ client for the
 * broker tests (see tclient.h). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "tclient.h"
#include "testutil.h"

static bool in_ns;
static int next_port = 9700;

void tc_enter_namespace(int argc, char **argv)
{
	char **args;

	if (getenv("TERN_TEST_IN_NS")) {
		in_ns = true;
		if (system("ip link set lo up") != 0)
			tt_skip("cannot bring lo up inside the namespace");
		return;
	}
	if (geteuid() != 0)
		return;
	args = calloc((size_t)argc + 8, sizeof *args);
	if (!args)
		abort();
	args[0] = "unshare";
	args[1] = "--pid";
	args[2] = "--fork";
	args[3] = "--kill-child";
	args[4] = "--net";
	args[5] = "--mount-proc"; /* a /proc of the new pid namespace (LSan reads it) */
	for (int i = 0; i < argc; i++)
		args[6 + i] = argv[i];
	setenv("TERN_TEST_IN_NS", "1", 1);
	execvp("unshare", args);
	/* No unshare: carry on with free ports. */
	unsetenv("TERN_TEST_IN_NS");
	free(args);
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd, port;

	if (in_ns)
		return next_port++;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void tc_broker_init(tc_broker_t *b, const char *tag)
{
	memset(b, 0, sizeof *b);
	b->pid = -1;
	b->dir = tt_mkdtemp(tag);
	snprintf(b->url, sizeof b->url, "tcp://127.0.0.1:%d", free_port());
}

static bool file_has(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

void tc_broker_start(tc_broker_t *b)
{
	const char *exe = getenv("TERND");
	char out[512], err[512], dirs[512], lis[128];
	int64_t deadline;
	pid_t pid;

	ck_assert_msg(exe != NULL, "TERND is not set");
	snprintf(out, sizeof out, "%s/out.txt", b->dir);
	snprintf(err, sizeof err, "%s/err.txt", b->dir);
	snprintf(dirs, sizeof dirs, "--log.dirs=%s/data", b->dir);
	snprintf(lis, sizeof lis, "--listeners=%s", b->url);
	unlink(out);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *args[16] = {(char *)exe, "--dev", dirs, lis};
		int k = 4, fd;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		for (int i = 0; i < b->nextra; i++)
			args[k++] = b->extra[i];
		args[k] = NULL;
		execv(exe, args);
		_exit(127);
	}
	setpgid(pid, pid);
	b->pid = pid;
	deadline = proto_now_ms() + 30000;
	while (!file_has(out, "listening on")) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			b->pid = -1;
			ck_abort_msg("ternd exited before listening (status %d); see %s", st, err);
		}
		ck_assert_msg(proto_now_ms() < deadline, "ternd did not start within 30 s");
		usleep(10000);
	}
}

int tc_broker_term(tc_broker_t *b)
{
	int64_t deadline = proto_now_ms() + 30000;
	int st;

	ck_assert_int_gt(b->pid, 0);
	kill(b->pid, SIGTERM);
	while (waitpid(b->pid, &st, WNOHANG) != b->pid) {
		if (proto_now_ms() > deadline) {
			tc_broker_kill(b);
			ck_abort_msg("ternd did not stop within 30 s of SIGTERM");
		}
		usleep(10000);
	}
	b->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tc_broker_kill(tc_broker_t *b)
{
	if (b->pid <= 0)
		return;
	killpg(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = -1;
}

void tc_broker_fini(tc_broker_t *b)
{
	tc_broker_kill(b);
	if (b->dir) {
		tt_rmtree(b->dir);
		free(b->dir);
		b->dir = NULL;
	}
}

void tc_connect(tc_conn_t *c, const char *url)
{
	proto_transport_opts_t o;
	char err[256];

	proto_transport_opts_default(&o);
	o.request_timeout_ms = 30000;
	c->corr = 1;
	ck_assert_msg(proto_pool_new(url, 1, &o, &c->pool, err, sizeof err) == TERN_OK, "%s", err);
}

void tc_close(tc_conn_t *c)
{
	proto_pool_close(c->pool);
	c->pool = NULL;
}

tern_err_t tc_call_raw(tc_conn_t *c, const void *bytes, size_t len, int timeout_ms, tc_resp_t *resp)
{
	tern_err_t err;

	memset(resp, 0, sizeof *resp);
	err = proto_conn_call(proto_pool_conn(c->pool, 0), bytes, len, proto_now_ms() + timeout_ms,
			      &resp->frame, &resp->len);
	if (err)
		return err;
	proto_limits_default(&resp->lim);
	proto_arena_init(&resp->arena, resp->len * 16 + 4096);
	proto_reader_init(&resp->r, resp->frame, resp->len, &resp->lim, &resp->arena);
	return TERN_OK;
}

tern_err_t tc_call(tc_conn_t *c, int16_t key, int16_t version, const proto_buf_t *body,
		   int timeout_ms, tc_resp_t *resp)
{
	proto_req_hdr_t h = {.api_key = key,
			     .api_version = version,
			     .correlation_id = c->corr++,
			     .client_id = PROTO_STR("tern-test")};
	proto_resp_hdr_t rh;
	proto_buf_t b;
	tern_err_t err;

	proto_buf_init(&b);
	proto_req_hdr_encode(&b, &h);
	proto_wr_raw(&b, body->p, body->len);
	ck_assert(!b.oom && !body->oom);
	err = tc_call_raw(c, b.p, b.len, timeout_ms, resp);
	proto_buf_free(&b);
	if (err)
		return err;
	ck_assert_int_eq(proto_resp_hdr_decode(&resp->r, key, version, &rh), TERN_OK);
	ck_assert_int_eq(rh.correlation_id, h.correlation_id);
	return TERN_OK;
}

void tc_resp_free(tc_resp_t *resp)
{
	proto_msg_free(resp->frame);
	if (resp->frame)
		proto_arena_free(&resp->arena);
	memset(resp, 0, sizeof *resp);
}

int16_t tc_create_topic(tc_conn_t *c, const char *name, int32_t partitions,
			const proto_config_kv_t *configs, int32_t nconfigs)
{
	proto_create_topics_topic_t t = {.name = proto_str(name),
					 .num_partitions = partitions,
					 .replication_factor = -1,
					 .configs = configs,
					 .configs_count = nconfigs};
	proto_create_topics_req_t req = {.topics = &t, .topics_count = 1, .timeout_ms = 10000};
	proto_create_topics_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;
	int16_t code;

	proto_buf_init(&body);
	proto_create_topics_req_encode(&body, 4, &req);
	ck_assert_int_eq(tc_call(c, PROTO_API_CREATE_TOPICS, 4, &body, 30000, &r), TERN_OK);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_create_topics_resp_decode(&r.r, 4, &resp), TERN_OK);
	ck_assert_int_eq(resp.topics_count, 1);
	code = resp.topics[0].error_code;
	tc_resp_free(&r);
	return code;
}

uint8_t *tc_batch(int n, const char *prefix, int codec, int64_t pid, int16_t epoch, int32_t seq,
		  size_t *len)
{
	log_builder_opts_t o;
	log_batch_builder_t *bb;
	uint8_t *buf;
	char v[128];

	log_builder_opts_default(&o);
	o.codec = codec;
	o.producer_id = pid;
	o.producer_epoch = pid >= 0 ? epoch : -1;
	o.base_sequence = pid >= 0 ? seq : -1;
	ck_assert_int_eq(log_batch_builder_new(&o, &bb), TERN_OK);
	for (int i = 0; i < n; i++) {
		int k = snprintf(v, sizeof v, "%s-%d", prefix, i);

		ck_assert_int_eq(
		    log_batch_builder_add(bb, 1700000000000LL + i, NULL, 0, v, (size_t)k, NULL, 0),
		    TERN_OK);
	}
	ck_assert_int_eq(log_batch_builder_finish(bb, &buf, len), TERN_OK);
	log_batch_builder_free(bb);
	return buf;
}

int16_t tc_produce(tc_conn_t *c, const char *topic, int32_t partition, int16_t acks,
		   const uint8_t *batch, size_t len, int64_t *base)
{
	proto_produce_req_partition_t p = {.index = partition, .records = {batch, (int32_t)len}};
	proto_produce_req_topic_t t = {
	    .name = proto_str(topic), .partitions = &p, .partitions_count = 1};
	proto_produce_req_t req = {.transactional_id = PROTO_NULL_STR,
				   .acks = acks,
				   .timeout_ms = 20000,
				   .topics = &t,
				   .topics_count = 1};
	proto_produce_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;
	int16_t code;

	proto_buf_init(&body);
	proto_produce_req_encode(&body, 8, &req);
	ck_assert_int_eq(tc_call(c, PROTO_API_PRODUCE, 8, &body, 30000, &r), TERN_OK);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_produce_resp_decode(&r.r, 8, &resp), TERN_OK);
	/* acks=0 is answered too, at once (nanomsg is request/reply). */
	ck_assert_int_eq(resp.topics_count, 1);
	code = resp.topics[0].partitions[0].error_code;
	if (base)
		*base = resp.topics[0].partitions[0].base_offset;
	tc_resp_free(&r);
	return code;
}

int16_t tc_fetch(tc_conn_t *c, const char *topic, int32_t partition, int64_t offset,
		 int32_t max_wait_ms, int32_t min_bytes, char **vals, int64_t *offs, int max,
		 int *n, int64_t *hwm)
{
	proto_fetch_req_partition_t p = {.partition = partition,
					 .current_leader_epoch = -1,
					 .fetch_offset = offset,
					 .log_start_offset = -1,
					 .partition_max_bytes = 1 << 20};
	proto_fetch_req_topic_t t = {
	    .topic = proto_str(topic), .partitions = &p, .partitions_count = 1};
	proto_fetch_req_t req = {.replica_id = -1,
				 .max_wait_ms = max_wait_ms,
				 .min_bytes = min_bytes,
				 .max_bytes = 50 << 20,
				 .session_epoch = -1,
				 .topics = &t,
				 .topics_count = 1,
				 .rack_id = PROTO_STR("")};
	proto_fetch_resp_t resp;
	const proto_fetch_resp_partition_t *rp;
	proto_buf_t body;
	tc_resp_t r;
	int16_t code;
	size_t pos = 0;

	proto_buf_init(&body);
	proto_fetch_req_encode(&body, 11, &req);
	ck_assert_int_eq(tc_call(c, PROTO_API_FETCH, 11, &body, max_wait_ms + 30000, &r), TERN_OK);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_fetch_resp_decode(&r.r, 11, &resp), TERN_OK);
	rp = &resp.topics[0].partitions[0];
	code = rp->error_code;
	*hwm = rp->high_watermark;
	while (rp->records.len > 0 && pos < (size_t)rp->records.len) {
		const uint8_t *bp = rp->records.p + pos;
		size_t left = (size_t)rp->records.len - pos;
		log_validate_opts_t vo = {.deep = true};
		log_batch_hdr_t h;
		log_batch_iter_t *it;
		log_record_t rec;
		char why[128];

		ck_assert_int_eq(log_batch_validate(bp, left, &vo, &h, why, sizeof why), TERN_OK);
		ck_assert_int_eq(log_batch_iter_new(bp, log_batch_size(&h), 0, &it), TERN_OK);
		while (log_batch_iter_next(it, &rec) == TERN_OK) {
			if (rec.offset >= offset && *n < max) {
				vals[*n] = strndup((const char *)rec.value, (size_t)rec.value_len);
				offs[*n] = rec.offset;
				(*n)++;
			}
		}
		log_batch_iter_free(it);
		pos += log_batch_size(&h);
	}
	tc_resp_free(&r);
	return code;
}
