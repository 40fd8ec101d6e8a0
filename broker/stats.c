/* broker/stats.c: the Prometheus metrics of ternd (metrics/metrics.h) and
 * their HTTP endpoint at metrics.listener. docs/operations.md says what each
 * means and when to worry. Gauges about partitions are computed when a
 * scrape comes (bk_stats_hook), from the partitions this broker leads;
 * counters move where their events happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"

/* Counts by mode of the partitions this broker leads, the ISR health of
 * each and every follower's lag. Runs before each render, no registry
 * lock held. */
static void hook(metrics_registry_t *r, void *arg)
{
	broker_t *b = arg;
	bk_stats_t *st = &b->stats;
	int64_t modes[5] = {0}, under_rep = 0, under_min = 0, now = proto_now_ms();
	static const char *const mode_names[5] = {"offline", "floor", "recovery", "degraded",
						  "target"};

	(void)r;
	/* Lag series of partitions that moved away go: rebuilt every scrape. */
	metrics_family_remove(st->lag_offsets, NULL);
	metrics_family_remove(st->lag_seconds, NULL);
	pthread_rwlock_rdlock(&b->topics_lock);
	for (size_t i = 0; i < b->ntopics; i++) {
		bk_topic_t *t = b->topics[i];

		for (int32_t j = 0; j < t->npart; j++) {
			bk_part_t *p = t->parts[j];
			char part[16];

			if (!p)
				continue;
			snprintf(part, sizeof part, "%d", j);
			pthread_mutex_lock(&p->mu);
			if (p->isr.role != ISR_ROLE_LEADER) {
				pthread_mutex_unlock(&p->mu);
				continue;
			}
			modes[isr_partition_mode(&p->isr)]++;
			under_rep += p->isr.isr.n < p->isr.nreplicas;
			under_min += p->isr.isr.n < isr_effective_min_insync(&p->isr);
			for (int32_t k = 0; k < p->isr.nreplicas; k++) {
				int32_t id = p->isr.replicas[k];
				int64_t offs, ms;
				char rep[16];
				const char *labels[3] = {t->name, part, rep};
				metrics_gauge_t *g;

				if (id == b->cfg->broker_id ||
				    isr_follower_lag(&p->isr, id, now, &offs, &ms) != TERN_OK)
					continue;
				snprintf(rep, sizeof rep, "%d", id);
				if (metrics_gauge_get(st->lag_offsets, labels, &g) == TERN_OK)
					metrics_gauge_set_int(g, offs);
				if (metrics_gauge_get(st->lag_seconds, labels, &g) == TERN_OK)
					metrics_gauge_set(g, ms < 0 ? -1.0 : (double)ms / 1000.0);
			}
			pthread_mutex_unlock(&p->mu);
		}
	}
	pthread_rwlock_unlock(&b->topics_lock);
	for (int i = 0; i < 5; i++) {
		const char *labels[1] = {mode_names[i]};
		metrics_gauge_t *g;

		if (metrics_gauge_get(st->modes, labels, &g) == TERN_OK)
			metrics_gauge_set_int(g, modes[i]);
	}
	metrics_gauge_set_int(st->under_replicated, under_rep);
	metrics_gauge_set_int(st->under_min_isr, under_min);
	{
		ctl_stats_t cs;

		/* Only the controller knows: elsewhere the figures stay. */
		if (bk_ctl_local_stats(b, &cs)) {
			metrics_gauge_set_int(st->offline, cs.offline_partitions);
			metrics_counter_set(st->elections, cs.elections);
			metrics_counter_set(st->unclean, cs.unclean_elections);
		}
	}
}

static void fsync_observed(void *opaque, double seconds)
{
	metrics_histogram_observe(opaque, seconds);
}

void bk_stats_fsync_hook(broker_t *b, log_dir_opts_t *o)
{
	o->fsync_observer = fsync_observed;
	o->observer_opaque = b->stats.fsync_latency;
}

tern_err_t bk_stats_open(broker_t *b, char *errstr, size_t errlen)
{
	bk_stats_t *st = &b->stats;
	static const char *const mode_label[] = {"mode", NULL};
	static const char *const lag_labels[] = {"topic", "partition", "replica", NULL};
	static const char *const api_label[] = {"api", NULL};
	const char *produce[1] = {"produce"}, *fetch[1] = {"fetch"};
	tern_err_t err;

	err = metrics_registry_new(&st->reg);
	if (!err)
		err = metrics_gauge_family(
		    st->reg, "tern_partitions",
		    "Partitions this broker leads, by mode (DESIGN.md decision "
		    "9).",
		    mode_label, &st->modes);
	if (!err)
		err = metrics_gauge_new(st->reg, "tern_under_replicated_partitions",
					"Partitions led here whose ISR is smaller than their "
					"replica set.",
					&st->under_replicated);
	if (!err)
		err =
		    metrics_gauge_new(st->reg, "tern_under_min_isr_partitions",
				      "Partitions led here whose ISR is below min.insync.replicas: "
				      "acks=all writes are refused.",
				      &st->under_min_isr);
	if (!err)
		err = metrics_gauge_new(st->reg, "tern_offline_partitions",
					"Partitions without a leader (reported by the controller).",
					&st->offline);
	if (!err)
		err = metrics_counter_new(st->reg, "tern_isr_shrinks_total",
					  "ISR shrinks committed for partitions led here.",
					  &st->isr_shrinks);
	if (!err)
		err = metrics_counter_new(st->reg, "tern_isr_expands_total",
					  "ISR expansions committed for partitions led here.",
					  &st->isr_expands);
	if (!err)
		err = metrics_counter_new(st->reg, "tern_leader_elections_total",
					  "Leader elections (reported by the controller).",
					  &st->elections);
	if (!err)
		err = metrics_counter_new(st->reg, "tern_unclean_elections_total",
					  "Unclean leader elections: acknowledged records may have "
					  "been lost (reported by the controller).",
					  &st->unclean);
	if (!err)
		err =
		    metrics_gauge_family(st->reg, "tern_follower_lag_offsets",
					 "Offsets a follower is behind the leader (on the leader).",
					 lag_labels, &st->lag_offsets);
	if (!err)
		err = metrics_gauge_family(st->reg, "tern_follower_lag_seconds",
					   "Seconds since a follower was last caught up (on the "
					   "leader; -1: never).",
					   lag_labels, &st->lag_seconds);
	if (!err)
		err =
		    metrics_counter_new(st->reg, "tern_replication_bytes_in_total",
					"Bytes this broker appended as a follower.", &st->repl_in);
	if (!err)
		err = metrics_counter_new(st->reg, "tern_replication_bytes_out_total",
					  "Bytes this broker served to followers.", &st->repl_out);
	if (!err)
		err = metrics_histogram_family(st->reg, "tern_request_latency_seconds",
					       "Time from a request's arrival to its answer.",
					       api_label, NULL, 0, &st->req_latency);
	if (!err)
		err = metrics_histogram_get(st->req_latency, produce, &st->produce_latency);
	if (!err)
		err = metrics_histogram_get(st->req_latency, fetch, &st->fetch_latency);
	if (!err)
		err = metrics_histogram_new(st->reg, "tern_fsync_latency_seconds",
					    "Duration of each group fsync of the log writers.",
					    NULL, 0, &st->fsync_latency);
	if (!err)
		err = metrics_registry_add_hook(st->reg, hook, b);
	if (err) {
		snprintf(errstr, errlen, "metrics: %s", tern_strerror(err));
		return err;
	}
	return TERN_OK;
}

void bk_stats_serve(broker_t *b)
{
	char why[256];

	if (!b->cfg->metrics_listener[0])
		return;
	/* Metrics that cannot be served do not stop a broker (as a JMX
	 * exporter's port would not stop Kafka): the line says why. */
	if (metrics_http_start(b->stats.reg, b->cfg->metrics_listener, &b->stats.http, why,
			       sizeof why) != TERN_OK) {
		bk_log('W', "metrics", "metrics.listener %s: %s; no metrics are served",
		       b->cfg->metrics_listener, why);
		b->stats.http = NULL;
		return;
	}
	b->stats.port = metrics_http_port(b->stats.http);
}

void bk_stats_close(broker_t *b)
{
	if (b->stats.http)
		metrics_http_stop(b->stats.http);
	b->stats.http = NULL;
	metrics_registry_free(b->stats.reg);
	b->stats.reg = NULL;
}

int broker_metrics_port(const broker_t *b)
{
	return b->stats.http ? b->stats.port : -1;
}

double bk_seconds_since(int64_t t0_us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0_us) / 1e6;
}

int64_t bk_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
