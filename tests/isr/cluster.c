/* tests/isr/cluster.c: the simulated cluster of cluster.h. Everything a
 * broker would do around isr/ (logs, epoch caches, messages) is here;
 * every replication decision comes from isr/. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

static void *grow(void *ptr, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return ptr;
	while (c < need)
		c *= 2;
	ptr = realloc(ptr, c * elem);
	if (!ptr)
		abort();
	*cap = c;
	return ptr;
}

void cl_note(cluster_t *cl, const char *fmt, ...)
{
	va_list ap;
	char *line = cl->trace[cl->ntrace % CL_TRACE];
	int k = snprintf(line, sizeof cl->trace[0], "t=%lld ", (long long)cl->now);

	va_start(ap, fmt);
	vsnprintf(line + k, sizeof cl->trace[0] - (size_t)k, fmt, ap);
	va_end(ap);
	cl->ntrace++;
}

void cl_dump(const cluster_t *cl)
{
	unsigned first = cl->ntrace > CL_TRACE ? cl->ntrace - CL_TRACE : 0;

	fprintf(stderr, "last events:\n");
	for (unsigned i = first; i < cl->ntrace; i++)
		fprintf(stderr, "  %s\n", cl->trace[i % CL_TRACE]);
	for (int i = 0; i < cl->n; i++) {
		const cl_node_t *nd = &cl->node[i];

		fprintf(
		    stderr,
		    "  node %d: %s%s epoch %lld len %lld durable %lld role %d le %d hwm %lld isr",
		    i, nd->up ? "up" : "down", nd->isolated ? " isolated" : "",
		    (long long)nd->broker_epoch, (long long)nd->len, (long long)nd->durable,
		    nd->up ? (int)nd->p.role : -1, nd->up ? nd->p.leader_epoch : -1,
		    nd->up ? (long long)nd->p.hwm : -1LL);
		for (int32_t k = 0; nd->up && k < nd->p.isr.n; k++)
			fprintf(stderr, " %d", nd->p.isr.id[k]);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "  controller: leader %d epoch %d pe %d isr", cl->ctl.leader,
		cl->ctl.leader_epoch, cl->ctl.partition_epoch);
	for (int32_t k = 0; k < cl->ctl.isr.n; k++)
		fprintf(stderr, " %d", cl->ctl.isr.id[k]);
	fprintf(stderr, " elr");
	for (int32_t k = 0; k < cl->ctl.elr.n; k++)
		fprintf(stderr, " %d", cl->ctl.elr.id[k]);
	fprintf(stderr, " mode %s\n", isr_mode_name(isr_ctl_mode(&cl->ctl)));
}

static void fail(cluster_t *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(cluster_t *cl, const char *fmt, ...)
{
	va_list ap;

	if (cl->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof cl->err, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Logs                                                                       */

static void append(cl_node_t *nd, cl_rec_t rec)
{
	size_t cap = (size_t)nd->cap;

	nd->log = grow(nd->log, &cap, (size_t)nd->len + 1, sizeof *nd->log);
	nd->cap = (int64_t)cap;
	nd->log[nd->len] = rec;
	log_epoch_cache_assign(&nd->cache, rec.epoch, nd->len);
	nd->len++;
}

/* Kafka's UnifiedLog.truncateTo: even when nothing is cut, epochs that
 * start at the LEO go: a former leader may have recorded its epoch there
 * and appended nothing, and that entry must not answer for the log. */
static void truncate_log(cl_node_t *nd, int64_t to)
{
	if (to >= nd->len) {
		log_epoch_cache_truncate_from_end(&nd->cache, nd->len);
		return;
	}
	nd->len = to;
	if (nd->durable > to)
		nd->durable = to;
	/* As log_truncate(): the HWM checkpoint never covers cut records
	 * (the log may grow back with others). */
	if (nd->saved_hwm > to)
		nd->saved_hwm = to;
	log_epoch_cache_truncate_from_end(&nd->cache, to);
	nd->gen++;
}

/* "Offsets below upto agree with the committed prefix", incrementally. */
static bool committed_agree(cluster_t *cl, cl_node_t *nd, int64_t upto)
{
	if (nd->com_gen != nd->gen) {
		nd->com_gen = nd->gen;
		nd->com_upto = 0;
	}
	if (upto > cl->ncommitted)
		upto = cl->ncommitted;
	if (upto > nd->len) {
		fail(cl, "node %d has %lld records, committed %lld", nd->id, (long long)nd->len,
		     (long long)upto);
		return false;
	}
	for (int64_t o = nd->com_upto; o < upto; o++) {
		if (nd->log[o].value != cl->committed[o]) {
			fail(cl, "node %d offset %lld holds %llu, committed %llu", nd->id,
			     (long long)o, (unsigned long long)nd->log[o].value,
			     (unsigned long long)cl->committed[o]);
			return false;
		}
	}
	if (upto > nd->com_upto)
		nd->com_upto = upto;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Decisions                                                                  */

/* A leader's HWM moved: it never decreases within an epoch, what it covers
 * agrees with what earlier HWMs covered, and it extends the committed
 * prefix. */
static void leader_hwm(cluster_t *cl, cl_node_t *nd)
{
	int64_t hwm = nd->p.hwm;

	if (nd->led_epoch == nd->p.leader_epoch && hwm < nd->led_hwm)
		fail(cl, "node %d: HWM fell from %lld to %lld in epoch %d", nd->id,
		     (long long)nd->led_hwm, (long long)hwm, nd->led_epoch);
	nd->led_epoch = nd->p.leader_epoch;
	nd->led_hwm = hwm;
	if (!cl->check_data)
		return;
	if (!committed_agree(cl, nd, hwm))
		return;
	if (hwm > cl->ncommitted) {
		size_t cap = (size_t)cl->committed_cap;

		cl->committed = grow(cl->committed, &cap, (size_t)hwm, sizeof *cl->committed);
		cl->committed_cap = (int64_t)cap;
		for (int64_t o = cl->ncommitted; o < hwm; o++)
			cl->committed[o] = nd->log[o].value;
		cl->ncommitted = hwm;
	}
}

static void answer(cluster_t *cl, cl_node_t *nd, const isr_completion_t *c)
{
	size_t i;
	cl_req_t q;

	for (i = 0; i < cl->nreqs && cl->reqs[i].value != c->token; i++)
		;
	if (i == cl->nreqs) {
		fail(cl, "node %d answered unknown request %llu", nd->id,
		     (unsigned long long)c->token);
		return;
	}
	q = cl->reqs[i];
	cl->reqs[i] = cl->reqs[--cl->nreqs];
	cl_note(cl, "node %d answers %llu@%lld acks=%d: %s", nd->id, (unsigned long long)q.value,
		(long long)q.offset, q.acks, tern_err_name(c->err));
	switch (c->err) {
	case TERN_OK:
		cl->n_ok++;
		if (q.acks != -1)
			return;
		if (!cl_has(cl, nd->id, q.offset, q.value) || nd->p.hwm <= q.offset) {
			fail(cl, "node %d acknowledged %llu@%lld it does not hold below its HWM",
			     nd->id, (unsigned long long)q.value, (long long)q.offset);
			return;
		}
		if (cl->check_data &&
		    (q.offset >= cl->ncommitted || cl->committed[q.offset] != q.value)) {
			fail(cl, "acknowledged %llu@%lld is not committed",
			     (unsigned long long)q.value, (long long)q.offset);
			return;
		}
		cl->acked = grow(cl->acked, &cl->acked_cap, cl->nacked + 1, sizeof *cl->acked);
		cl->acked[cl->nacked].offset = q.offset;
		cl->acked[cl->nacked].value = q.value;
		cl->nacked++;
		return;
	case TERN_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		cl->n_20++;
		return;
	case TERN_ERR_REQUEST_TIMED_OUT:
		cl->n_7++;
		return;
	case TERN_ERR_NOT_LEADER_OR_FOLLOWER:
		cl->n_6++;
		return;
	default:
		fail(cl, "node %d answered %s", nd->id, tern_err_name(c->err));
	}
}

static void apply(cluster_t *cl, cl_node_t *nd, const isr_decisions_t *d)
{
	if (d->assign_epoch)
		log_epoch_cache_assign(&nd->cache, d->epoch, d->epoch_start);
	if (d->reconcile)
		nd->need_reconcile = true;
	if (d->hwm_changed && nd->p.role == ISR_ROLE_LEADER)
		leader_hwm(cl, nd);
	if (d->alter) {
		nd->alter_out = true;
		nd->alter = d->alter_req;
		nd->resp_in = false;
		cl_note(cl, "node %d proposes ISR of %d (le %d pe %d)", nd->id, d->alter_req.isr.n,
			d->alter_req.leader_epoch, d->alter_req.partition_epoch);
	}
	for (size_t i = 0; i < d->ndone; i++)
		answer(cl, nd, &d->done[i]);
}

static void after_ctl(cluster_t *cl, const isr_ctl_result_t *r, const char *what, int id)
{
	cl_note(cl, "controller: %s %d -> leader %d le %d pe %d%s%s", what, id, cl->ctl.leader,
		cl->ctl.leader_epoch, cl->ctl.partition_epoch, r->unclean ? " UNCLEAN" : "",
		r->from_elr ? " from ELR" : "");
	if (r->elected)
		cl->n_elections++;
	if (r->unclean && !cl->cfg.unclean_election && strcmp(what, "elect unclean") != 0)
		fail(cl, "unclean election of %d, not allowed", cl->ctl.leader);
	if (r->unclean) {
		cl->unclean = true;
		cl->check_data = false;
	}
}

static void drop_requests(cluster_t *cl, int id)
{
	for (size_t i = 0; i < cl->nreqs;) {
		if (cl->reqs[i].node == id)
			cl->reqs[i] = cl->reqs[--cl->nreqs];
		else
			i++;
	}
}

/* ------------------------------------------------------------------------ */
/* Events                                                                     */

static void node_start(cluster_t *cl, cl_node_t *nd, int64_t hwm)
{
	isr_partition_init(&nd->p, nd->id, &cl->cfg, nd->len, nd->durable, hwm);
	nd->up = true;
	nd->isolated = false;
	nd->need_reconcile = false;
	nd->alter_out = false;
	nd->resp_in = false;
	nd->led_epoch = ISR_NO_EPOCH;
	nd->broker_epoch = ++cl->next_broker_epoch;
}

void cl_init(cluster_t *cl, int n, const isr_config_t *cfg)
{
	int32_t replicas[CL_MAX_NODES] = {0};
	isr_ctl_result_t r;

	memset(cl, 0, sizeof *cl);
	cl->n = n;
	cl->cfg = *cfg;
	cl->check_data = true;
	cl->now = 1000;
	for (int i = 0; i < n; i++) {
		cl_node_t *nd = &cl->node[i];

		replicas[i] = i;
		nd->id = i;
		log_epoch_cache_init(&nd->cache);
		node_start(cl, nd, 0);
	}
	if (isr_ctl_init(&cl->ctl, cfg, replicas, n) != TERN_OK)
		abort();
	for (int i = 0; i < n; i++) {
		isr_ctl_register(&cl->ctl, i, cl->node[i].broker_epoch, true, &r);
		after_ctl(cl, &r, "register", i);
	}
	cl_deliver_all(cl);
}

void cl_fini(cluster_t *cl)
{
	for (int i = 0; i < cl->n; i++) {
		cl_node_t *nd = &cl->node[i];

		if (nd->up)
			isr_partition_fini(&nd->p);
		log_epoch_cache_free(&nd->cache);
		free(nd->log);
	}
	free(cl->reqs);
	free(cl->acked);
	free(cl->committed);
}

void cl_deliver(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_leader_and_isr_t st;
	isr_decisions_t d;
	tern_err_t err;

	if (!nd->up || nd->isolated)
		return;
	isr_ctl_state(&cl->ctl, &st);
	if (st.leader == id)
		err = isr_become_leader(&nd->p, &st, nd->len, nd->durable, cl->now, &d);
	else
		err = isr_become_follower(&nd->p, &st, nd->len, nd->durable, &d);
	if (err != TERN_OK) {
		fail(cl, "node %d: become %s (le %d pe %d): %s", id,
		     st.leader == id ? "leader" : "follower", st.leader_epoch, st.partition_epoch,
		     tern_err_name(err));
		return;
	}
	apply(cl, nd, &d);
	for (int i = 0; i < cl->n; i++) {
		isr_set_health(&nd->p, i, &cl->ctl.health[i], cl->now, &d);
		apply(cl, nd, &d);
	}
}

void cl_deliver_all(cluster_t *cl)
{
	for (int i = 0; i < cl->n; i++)
		cl_deliver(cl, i);
}

tern_err_t cl_produce(cluster_t *cl, int id, int16_t acks, int64_t timeout_ms, uint64_t *value)
{
	cl_node_t *nd = &cl->node[id];
	isr_decisions_t d;
	tern_err_t err;
	cl_rec_t rec;

	if (!nd->up)
		return TERN_ERR__STATE;
	err = isr_produce_check(&nd->p, acks);
	if (err == TERN_ERR_NOT_ENOUGH_REPLICAS)
		cl->n_19++;
	if (err != TERN_OK)
		return err;
	rec.epoch = nd->p.leader_epoch;
	rec.value = ++cl->next_value;
	append(nd, rec);
	cl_note(cl, "node %d appends %llu@%lld e%d acks=%d", id, (unsigned long long)rec.value,
		(long long)nd->len - 1, rec.epoch, acks);
	if (value)
		*value = rec.value;
	isr_local_append(&nd->p, nd->len, cl->now, &d);
	apply(cl, nd, &d);
	if (acks == 0)
		return TERN_OK;
	cl->reqs = grow(cl->reqs, &cl->reqs_cap, cl->nreqs + 1, sizeof *cl->reqs);
	cl->reqs[cl->nreqs++] = (cl_req_t){rec.value, nd->len - 1, id, acks};
	err = isr_produce_wait(&nd->p, acks, nd->len, cl->now + timeout_ms, rec.value, &d);
	if (err != TERN_OK)
		fail(cl, "node %d: produce_wait: %s", id, tern_err_name(err));
	apply(cl, nd, &d);
	return TERN_OK;
}

tern_err_t cl_wait_late(cluster_t *cl, int id, uint64_t value, int64_t end_offset,
			int64_t timeout_ms)
{
	cl_node_t *nd = &cl->node[id];
	isr_decisions_t d;
	tern_err_t err;

	cl->reqs = grow(cl->reqs, &cl->reqs_cap, cl->nreqs + 1, sizeof *cl->reqs);
	cl->reqs[cl->nreqs++] = (cl_req_t){value, end_offset - 1, id, -1};
	err = isr_produce_wait(&nd->p, -1, end_offset, cl->now + timeout_ms, value, &d);
	if (err != TERN_OK)
		cl->nreqs--;
	else
		apply(cl, nd, &d);
	return err;
}

void cl_flush(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_decisions_t d;

	if (!nd->up)
		return;
	nd->durable = nd->len;
	if (nd->p.role != ISR_ROLE_NONE) {
		isr_durable_advance(&nd->p, nd->durable, cl->now, &d);
		apply(cl, nd, &d);
	}
	nd->saved_hwm = nd->p.hwm;
}

static void progress(cluster_t *cl, cl_node_t *nd, int64_t leader_hwm)
{
	isr_decisions_t d;
	tern_err_t err = isr_follower_progress(&nd->p, nd->len, nd->durable, leader_hwm, &d);

	if (err != TERN_OK)
		fail(cl, "node %d: follower_progress: %s", nd->id, tern_err_name(err));
	apply(cl, nd, &d);
}

/* The follower's epoch cache in isr/'s shape (a fresh array: the caller
 * frees it). */
static isr_epoch_entry_t *cache_view(const cl_node_t *nd)
{
	isr_epoch_entry_t *e = calloc(nd->cache.n + 1, sizeof *e);

	if (!e)
		abort();
	for (size_t i = 0; i < nd->cache.n; i++) {
		e[i].epoch = nd->cache.e[i].epoch;
		e[i].start_offset = nd->cache.e[i].start_offset;
	}
	return e;
}

/* OffsetForLeaderEpoch rounds against the leader until the follower's log
 * is a prefix of the leader's: each round asks the epoch the previous one
 * named. */
static tern_err_t reconcile(cluster_t *cl, cl_node_t *nd, cl_node_t *ld)
{
	isr_epoch_entry_t *e = cache_view(nd);
	isr_reconcile_t r;
	tern_err_t err;
	int32_t asked, le;
	int64_t lend;

	err = isr_reconcile_begin(e, nd->cache.n, nd->len, &r);
	while (err == TERN_OK && !r.done) {
		err = isr_check_epoch(&ld->p, nd->p.leader_epoch, true);
		if (err != TERN_OK)
			break;
		asked = r.ask_epoch;
		log_epoch_cache_end_offset(&ld->cache, asked, ld->len, &le, &lend);
		err = isr_reconcile_step(e, nd->cache.n, nd->len, asked, le, lend, &r);
		if (err != TERN_OK)
			break;
		cl_note(cl, "node %d asks e%d: leader %d says (e%d, %lld): truncate to %lld%s",
			nd->id, asked, ld->id, le, (long long)lend, (long long)r.truncate_to,
			r.done ? ", done" : "");
		truncate_log(nd, r.truncate_to);
		free(e);
		e = cache_view(nd);
	}
	free(e);
	if (err != TERN_OK)
		return err;
	nd->need_reconcile = false;
	progress(cl, nd, ISR_UNKNOWN_OFFSET);
	return TERN_OK;
}

tern_err_t cl_fetch(cluster_t *cl, int id, int max, bool drop_response)
{
	cl_node_t *nd = &cl->node[id], *ld;
	isr_decisions_t d;
	isr_oor_action_t act;
	int64_t offset, restart;
	tern_err_t err;

	if (!nd->up || nd->p.role != ISR_ROLE_FOLLOWER || nd->p.leader == ISR_NO_LEADER)
		return TERN_ERR__STATE;
	ld = &cl->node[nd->p.leader];
	if (!ld->up)
		return TERN_ERR__STATE;
	if (nd->need_reconcile) {
		err = reconcile(cl, nd, ld);
		if (err != TERN_OK)
			return err;
	}
	if (cl->cfg.flush == ISR_FLUSH_SYNC && nd->durable < nd->len) {
		nd->durable = nd->len;
		isr_durable_advance(&nd->p, nd->durable, cl->now, &d);
		apply(cl, nd, &d);
	}
	offset = cl->cfg.flush == ISR_FLUSH_SYNC ? nd->durable : nd->len;
	err = isr_follower_fetch(&ld->p, id, nd->p.leader_epoch, offset, nd->broker_epoch, cl->now,
				 &d);
	apply(cl, ld, &d);
	if (err == TERN_ERR_OFFSET_OUT_OF_RANGE) {
		if (isr_follower_out_of_range(offset, 0, ld->len, &act, &restart) == TERN_OK &&
		    act == ISR_OOR_RECONCILE)
			nd->need_reconcile = true;
		return err;
	}
	if (err != TERN_OK || drop_response)
		return err;
	for (int64_t o = offset; o < ld->len && o < offset + max; o++)
		append(nd, ld->log[o]);
	progress(cl, nd, ld->p.hwm);
	return TERN_OK;
}

void cl_deliver_alter(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_ctl_result_t r;

	if (!nd->up || nd->isolated || !nd->alter_out)
		return;
	nd->alter_out = false;
	nd->resp.id = nd->alter.id;
	nd->resp.err = isr_ctl_alter(&cl->ctl, &nd->alter, &r);
	nd->resp.leader_epoch = cl->ctl.leader_epoch;
	nd->resp.partition_epoch = cl->ctl.partition_epoch;
	nd->resp.isr = cl->ctl.isr;
	nd->resp_in = true;
	after_ctl(cl, &r, tern_err_name(nd->resp.err), id);
}

void cl_deliver_alter_resp(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_decisions_t d;

	if (!nd->up || nd->isolated || !nd->resp_in)
		return;
	nd->resp_in = false;
	if (nd->resp.err == TERN_OK)
		isr_alter_committed(&nd->p, nd->resp.id, nd->resp.leader_epoch,
				    nd->resp.partition_epoch, &nd->resp.isr, cl->now, &d);
	else
		isr_alter_rejected(&nd->p, nd->resp.id, nd->resp.err, cl->now, &d);
	apply(cl, nd, &d);
}

void cl_advance(cluster_t *cl, int64_t ms)
{
	isr_decisions_t d;

	cl->now += ms;
	for (int i = 0; i < cl->n; i++) {
		if (!cl->node[i].up)
			continue;
		isr_tick(&cl->node[i].p, cl->now, &d);
		apply(cl, &cl->node[i], &d);
	}
}

static void node_stop(cluster_t *cl, cl_node_t *nd)
{
	nd->up = false;
	nd->isolated = false;
	nd->need_reconcile = false;
	nd->alter_out = false;
	nd->resp_in = false;
	drop_requests(cl, nd->id);
	isr_partition_fini(&nd->p);
}

void cl_crash(cluster_t *cl, int id, int64_t keep, bool fence)
{
	cl_node_t *nd = &cl->node[id];

	if (!nd->up)
		return;
	if (keep >= 0 && nd->durable + keep < nd->len)
		truncate_log(nd, nd->durable + keep);
	cl_note(cl, "node %d crashes keeping %lld records", id, (long long)nd->len);
	nd->clean_stop = false;
	node_stop(cl, nd);
	if (fence)
		cl_fence(cl, id);
}

void cl_fence(cluster_t *cl, int id)
{
	isr_ctl_result_t r;

	isr_ctl_fence(&cl->ctl, id, &r);
	after_ctl(cl, &r, "fence", id);
}

void cl_restart(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_ctl_result_t r;

	if (nd->up)
		return;
	/* Recovery: what is on disk is durable, and the epoch cache is
	 * rebuilt from the records' epochs. */
	nd->durable = nd->len;
	log_epoch_cache_free(&nd->cache);
	log_epoch_cache_init(&nd->cache);
	for (int64_t o = 0; o < nd->len; o++)
		log_epoch_cache_assign(&nd->cache, nd->log[o].epoch, o);
	nd->gen++;
	node_start(cl, nd, nd->saved_hwm < nd->len ? nd->saved_hwm : nd->len);
	cl_note(cl, "node %d restarts (%s) with %lld records", id,
		nd->clean_stop ? "clean" : "unclean", (long long)nd->len);
	isr_ctl_register(&cl->ctl, id, nd->broker_epoch, nd->clean_stop, &r);
	after_ctl(cl, &r, "register", id);
	nd->clean_stop = false;
	cl_deliver(cl, id);
}

void cl_shutdown(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_ctl_result_t r;

	if (!nd->up || nd->isolated)
		return;
	isr_ctl_shutdown(&cl->ctl, id, &r);
	after_ctl(cl, &r, "shutdown", id);
	cl_deliver(cl, id);
	cl_flush(cl, id);
	nd->clean_stop = true;
	node_stop(cl, nd);
}

void cl_isolate(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];

	if (!nd->up || nd->isolated)
		return;
	nd->isolated = true;
	cl_note(cl, "node %d isolated", id);
	cl_fence(cl, id);
}

void cl_heal(cluster_t *cl, int id)
{
	cl_node_t *nd = &cl->node[id];
	isr_ctl_result_t r;

	if (!nd->up || !nd->isolated)
		return;
	nd->isolated = false;
	isr_ctl_register(&cl->ctl, id, nd->broker_epoch, true, &r);
	after_ctl(cl, &r, "unfence", id);
	cl_deliver(cl, id);
}

void cl_corrupt(cluster_t *cl, int id, int64_t truncate_to)
{
	cl_node_t *nd = &cl->node[id];
	isr_ctl_result_t r;

	if (!nd->up || nd->isolated)
		return;
	isr_ctl_set_corrupt(&cl->ctl, id, true, &r);
	after_ctl(cl, &r, "corrupt", id);
	cl_deliver(cl, id);
	if (nd->p.role != ISR_ROLE_FOLLOWER) {
		fail(cl, "corrupt node %d still leads", id);
		return;
	}
	truncate_log(nd, truncate_to);
	progress(cl, nd, ISR_UNKNOWN_OFFSET);
	nd->need_reconcile = true;
	isr_ctl_set_corrupt(&cl->ctl, id, false, &r);
	after_ctl(cl, &r, "healthy", id);
	cl_deliver_all(cl);
}

tern_err_t cl_elect(cluster_t *cl, isr_election_t type)
{
	isr_ctl_result_t r;
	tern_err_t err = isr_ctl_elect(&cl->ctl, type, &r);

	after_ctl(cl, &r, type == ISR_ELECT_UNCLEAN ? "elect unclean" : "elect preferred", -1);
	return err;
}

int cl_leader(const cluster_t *cl)
{
	const cl_node_t *nd;

	if (cl->ctl.leader == ISR_NO_LEADER)
		return -1;
	nd = &cl->node[cl->ctl.leader];
	if (!nd->up || nd->p.role != ISR_ROLE_LEADER || nd->p.leader_epoch != cl->ctl.leader_epoch)
		return -1;
	return cl->ctl.leader;
}

bool cl_has(const cluster_t *cl, int id, int64_t offset, uint64_t value)
{
	const cl_node_t *nd = &cl->node[id];

	return offset >= 0 && offset < nd->len && nd->log[offset].value == value;
}

/* Node m agrees with leader l below hwm, incrementally. */
static bool pair_agree(cluster_t *cl, cl_node_t *m, cl_node_t *l, int64_t hwm)
{
	if (m->pair_leader != l->id || m->pair_gen != m->gen || m->pair_lgen != l->gen) {
		m->pair_leader = l->id;
		m->pair_gen = m->gen;
		m->pair_lgen = l->gen;
		m->pair_upto = 0;
	}
	if (m->len < hwm) {
		fail(cl, "ISR member %d has %lld records, below leader %d's HWM %lld", m->id,
		     (long long)m->len, l->id, (long long)hwm);
		return false;
	}
	for (int64_t o = m->pair_upto; o < hwm; o++) {
		if (m->log[o].value != l->log[o].value || m->log[o].epoch != l->log[o].epoch) {
			fail(cl,
			     "offset %lld below HWM %lld differs: ISR member %d has %llu e%d, "
			     "leader %d has %llu e%d",
			     (long long)o, (long long)hwm, m->id,
			     (unsigned long long)m->log[o].value, m->log[o].epoch, l->id,
			     (unsigned long long)l->log[o].value, l->log[o].epoch);
			return false;
		}
	}
	if (hwm > m->pair_upto)
		m->pair_upto = hwm;
	return true;
}

bool cl_check(cluster_t *cl)
{
	char why[256];
	int l;

	if (cl->err[0])
		return false;
	if (isr_ctl_validate(&cl->ctl, why, sizeof why) != TERN_OK) {
		fail(cl, "controller: %s", why);
		return false;
	}
	for (int i = 0; i < cl->n; i++) {
		if (cl->node[i].up &&
		    isr_partition_validate(&cl->node[i].p, why, sizeof why) != TERN_OK) {
			fail(cl, "node %d: %s", i, why);
			return false;
		}
	}
	l = cl_leader(cl);
	if (l < 0)
		return true;
	for (int32_t k = 0; k < cl->ctl.isr.n; k++) {
		int32_t m = cl->ctl.isr.id[k];

		if (m != l && cl->node[m].up &&
		    !pair_agree(cl, &cl->node[m], &cl->node[l], cl->node[l].p.hwm))
			return false;
	}
	/* Every acknowledged record was checked to be in the committed prefix
	 * when it was answered; the leader must hold that whole prefix. */
	if (cl->check_data && !committed_agree(cl, &cl->node[l], cl->ncommitted))
		return false;
	return true;
}
