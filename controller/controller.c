/* controller/controller.c: the controller's state (brokers, topics, one
 * isr_ctl_t per partition), its changes, and its text form in the store.
 * See controller.h. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/controller_int.h"

/* ------------------------------------------------------------------------ */
/* Lookup and allocation                                                     */

ctl_broker_t *ctl__broker(ctl_t *c, int32_t id)
{
	for (size_t i = 0; i < c->nbrokers; i++)
		if (c->brokers[i].id == id)
			return &c->brokers[i];
	return NULL;
}

ctl_topic_t *ctl__topic(ctl_t *c, const char *name)
{
	for (size_t i = 0; i < c->ntopics; i++)
		if (strcmp(c->topics[i]->name, name) == 0)
			return c->topics[i];
	return NULL;
}

static void topic_free(ctl_topic_t *t)
{
	if (!t)
		return;
	free(t->name);
	for (size_t i = 0; i < t->nconfigs; i++) {
		free((char *)t->configs[i].key);
		free((char *)t->configs[i].value);
	}
	free(t->configs);
	free(t->parts);
	free(t);
}

static void state_free(ctl_t *c)
{
	for (size_t i = 0; i < c->ntopics; i++)
		topic_free(c->topics[i]);
	free(c->topics);
	c->topics = NULL;
	c->ntopics = 0;
	free(c->brokers);
	c->brokers = NULL;
	c->nbrokers = 0;
}

static tern_err_t configs_copy(const tern_conf_kv_t *in, size_t n, tern_conf_kv_t **out)
{
	tern_conf_kv_t *v = calloc(n ? n : 1, sizeof *v);

	if (!v)
		return TERN_ERR__NOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].key = strdup(in[i].key);
		v[i].value = strdup(in[i].value ? in[i].value : "");
		if (!v[i].key || !v[i].value) {
			for (size_t j = 0; j <= i; j++) {
				free((char *)v[j].key);
				free((char *)v[j].value);
			}
			free(v);
			return TERN_ERR__NOMEM;
		}
	}
	*out = v;
	return TERN_OK;
}

static ctl_topic_t *topic_new(const char *name, int32_t npart, int32_t rf, bool internal)
{
	ctl_topic_t *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->name = strdup(name);
	t->npart = npart;
	t->rf = rf;
	t->internal = internal;
	t->parts = calloc((size_t)npart, sizeof *t->parts);
	if (!t->name || !t->parts) {
		topic_free(t);
		return NULL;
	}
	return t;
}

static tern_err_t topics_add(ctl_t *c, ctl_topic_t *t)
{
	ctl_topic_t **v = realloc(c->topics, (c->ntopics + 1) * sizeof *v);

	if (!v)
		return TERN_ERR__NOMEM;
	c->topics = v;
	c->topics[c->ntopics++] = t;
	return TERN_OK;
}

static ctl_broker_t *broker_add(ctl_t *c, int32_t id)
{
	ctl_broker_t *v = realloc(c->brokers, (c->nbrokers + 1) * sizeof *v);

	if (!v)
		return NULL;
	c->brokers = v;
	memset(&v[c->nbrokers], 0, sizeof v[0]);
	v[c->nbrokers].id = id;
	return &v[c->nbrokers++];
}

/* The isr/ settings of a topic with these overrides over the broker
 * defaults. */
static tern_err_t isr_config_of(const ctl_t *c, const tern_conf_kv_t *configs, size_t n,
				isr_config_t *out, char *why, size_t whylen)
{
	broker_topic_config_t tc;
	tern_err_t err;

	err = broker_topic_resolve(c->cfg.broker, configs, n, &tc, why, whylen);
	if (err)
		return err;
	isr_config_default(out);
	out->min_insync = tc.min_insync_replicas;
	out->lag_time_max_ms = c->cfg.broker->replica_lag_time_max_ms;
	out->flush = tc.flush_policy == LOG_FLUSH_ASYNC ? ISR_FLUSH_ASYNC : ISR_FLUSH_SYNC;
	out->unclean_election = tc.unclean_leader_election_enable;
	out->eligible_leader_replicas = tc.eligible_leader_replicas_enable;
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* The text form                                                              */

/* One record a line:
 *   tern-controller 1
 *   cluster-id ID
 *   next-broker-epoch N
 *   next-producer-id N
 *   broker ID INCARNATION EPOCH HOST PORT
 *   topic NAME PARTITIONS RF INTERNAL
 *   config KEY=VALUE
 *   part INDEX LEADER LEADER_EPOCH PARTITION_EPOCH RECOVERING UNCLEAN_COUNT
 *        R=ID,ID,... I=ID,... E=ID,...          (replicas, ISR, ELR)
 * Names and keys hold no blanks (both are checked), values no newline. */
static void put_set(FILE *f, const char *tag, const int32_t *ids, int32_t n)
{
	fprintf(f, " %s=", tag);
	for (int32_t i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", ids[i]);
}

static tern_err_t state_text(const ctl_t *c, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return TERN_ERR__NOMEM;
	fprintf(f,
		"tern-controller 1\ncluster-id %s\nnext-broker-epoch %" PRId64
		"\nnext-producer-id %" PRId64 "\n",
		c->cluster_id, c->next_broker_epoch, c->next_pid);
	for (size_t i = 0; i < c->nbrokers; i++) {
		const ctl_broker_t *br = &c->brokers[i];

		fprintf(f, "broker %d %" PRId64 " %" PRId64 " %s %d\n", br->id, br->incarnation,
			br->epoch, br->host[0] ? br->host : "-", br->port);
	}
	for (size_t i = 0; i < c->ntopics; i++) {
		const ctl_topic_t *t = c->topics[i];

		fprintf(f, "topic %s %d %d %d\n", t->name, t->npart, t->rf, t->internal ? 1 : 0);
		for (size_t j = 0; j < t->nconfigs; j++)
			fprintf(f, "config %s=%s\n", t->configs[j].key, t->configs[j].value);
		for (int32_t j = 0; j < t->npart; j++) {
			const isr_ctl_t *p = &t->parts[j];

			fprintf(f, "part %d %d %d %d %d %" PRIu64, j, p->leader, p->leader_epoch,
				p->partition_epoch, p->recovering ? 1 : 0, p->unclean_elections);
			put_set(f, "R", p->replicas, p->nreplicas);
			put_set(f, "I", p->isr.id, p->isr.n);
			put_set(f, "E", p->elr.id, p->elr.n);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return TERN_ERR__NOMEM;
	}
	return TERN_OK;
}

/* Parses "TAG=1,2,3" into ids (at most ISR_MAX_REPLICAS); false when
 * malformed. */
static bool get_set(const char *word, char tag, int32_t *ids, int32_t *n)
{
	const char *p = word + 2;

	*n = 0;
	if (word[0] != tag || word[1] != '=')
		return false;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 0 || v > INT32_MAX || *n == ISR_MAX_REPLICAS)
			return false;
		ids[(*n)++] = (int32_t)v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return false;
	}
	return true;
}

static tern_err_t bad_line(int lineno, const char *what, char *errstr, size_t errlen)
{
	snprintf(errstr, errlen, "controller metadata, line %d: %s", lineno, what);
	return TERN_ERR__CORRUPT;
}

static tern_err_t parse_part(ctl_t *c, ctl_topic_t *t, const char *line, int lineno, char *errstr,
			     size_t errlen)
{
	char rs[256], is[256], es[256];
	int idx, leader, lepoch, pepoch, recovering;
	uint64_t unclean;
	int32_t ids[ISR_MAX_REPLICAS], n;
	isr_config_t icfg;
	isr_ctl_t *p;
	char why[256];

	if (sscanf(line, "part %d %d %d %d %d %" SCNu64 " %255s %255s %255s", &idx, &leader,
		   &lepoch, &pepoch, &recovering, &unclean, rs, is, es) != 9 ||
	    idx < 0 || idx >= t->npart || !get_set(rs, 'R', ids, &n) || n < 1)
		return bad_line(lineno, "malformed partition", errstr, errlen);
	if (isr_config_of(c, t->configs, t->nconfigs, &icfg, why, sizeof why) != TERN_OK)
		return bad_line(lineno, why, errstr, errlen);
	p = &t->parts[idx];
	if (isr_ctl_init(p, &icfg, ids, n) != TERN_OK)
		return bad_line(lineno, "bad replicas", errstr, errlen);
	p->leader = leader;
	p->leader_epoch = lepoch;
	p->partition_epoch = pepoch;
	p->recovering = recovering != 0;
	p->unclean_elections = unclean;
	if (!get_set(is, 'I', p->isr.id, &p->isr.n) || !get_set(es, 'E', p->elr.id, &p->elr.n))
		return bad_line(lineno, "malformed ISR", errstr, errlen);
	if (isr_ctl_validate(p, why, sizeof why) != TERN_OK)
		return bad_line(lineno, why, errstr, errlen);
	t->loaded++;
	return TERN_OK;
}

static tern_err_t state_parse(ctl_t *c, char *text, char *errstr, size_t errlen)
{
	ctl_topic_t *t = NULL;
	char *save = NULL, *line, *s;
	int lineno = 0;
	tern_err_t err = TERN_OK;

	for (line = strtok_r(text, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "tern-controller 1") != 0)
				err = bad_line(lineno, "not Tern controller metadata", errstr,
					       errlen);
		} else if (strncmp(line, "cluster-id ", 11) == 0) {
			snprintf(c->cluster_id, sizeof c->cluster_id, "%s", line + 11);
		} else if (sscanf(line, "next-broker-epoch %" SCNd64, &c->next_broker_epoch) == 1) {
		} else if (sscanf(line, "next-producer-id %" SCNd64, &c->next_pid) == 1) {
		} else if (strncmp(line, "broker ", 7) == 0) {
			ctl_broker_t *br;
			int id, port;
			int64_t inc, epoch;
			char host[256];

			if (sscanf(line, "broker %d %" SCNd64 " %" SCNd64 " %255s %d", &id, &inc,
				   &epoch, host, &port) != 5 ||
			    id < 0 || ctl__broker(c, id)) {
				err = bad_line(lineno, "malformed broker", errstr, errlen);
				break;
			}
			br = broker_add(c, id);
			if (!br) {
				err = TERN_ERR__NOMEM;
				break;
			}
			br->incarnation = inc;
			br->epoch = epoch;
			br->port = port;
			snprintf(br->host, sizeof br->host, "%s", strcmp(host, "-") ? host : "");
		} else if (strncmp(line, "topic ", 6) == 0) {
			char name[256];
			int npart, rf, internal;

			if (sscanf(line, "topic %255s %d %d %d", name, &npart, &rf, &internal) !=
				4 ||
			    npart < 1 || rf < 1 || rf > ISR_MAX_REPLICAS || ctl__topic(c, name)) {
				err = bad_line(lineno, "malformed topic", errstr, errlen);
				break;
			}
			t = topic_new(name, npart, rf, internal != 0);
			err = t ? topics_add(c, t) : TERN_ERR__NOMEM;
			if (err) {
				topic_free(t);
				t = NULL;
			}
		} else if (strncmp(line, "config ", 7) == 0 && t && (s = strchr(line + 7, '='))) {
			tern_conf_kv_t *v = realloc(t->configs, (t->nconfigs + 1) * sizeof *v);

			if (!v) {
				err = TERN_ERR__NOMEM;
				break;
			}
			t->configs = v;
			*s = '\0';
			v[t->nconfigs].key = strdup(line + 7);
			v[t->nconfigs].value = strdup(s + 1);
			t->nconfigs++;
			if (!v[t->nconfigs - 1].key || !v[t->nconfigs - 1].value)
				err = TERN_ERR__NOMEM;
		} else if (strncmp(line, "part ", 5) == 0 && t) {
			err = parse_part(c, t, line, lineno, errstr, errlen);
		} else {
			err = bad_line(lineno, "unknown line", errstr, errlen);
		}
	}
	/* An existing store always holds the header: an empty one (a file
	 * truncated to nothing) is damage, not a new cluster. */
	if (!err && lineno == 0)
		err = bad_line(1, "no metadata (empty)", errstr, errlen);
	for (size_t i = 0; i < c->ntopics && !err; i++)
		if (c->topics[i]->loaded != c->topics[i]->npart)
			err = bad_line(lineno, "a topic lacks partitions", errstr, errlen);
	return err;
}

static void new_cluster_id(char *out, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, len, "tern-%08lx%08lx%04x", (unsigned long)ts.tv_sec,
		 (unsigned long)ts.tv_nsec, (unsigned)getpid() & 0xffff);
}

/* Loads the store's state into c (empty before). Brokers start unheard
 * of: alive false, with a session deadline one timeout from now. */
static tern_err_t state_load(ctl_t *c, int64_t now_ms, char *errstr, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	tern_err_t err;

	c->next_broker_epoch = 1;
	c->next_pid = 0;
	c->cluster_id[0] = '\0';
	err = c->store->load(c->store, &text, &len, errstr, errlen);
	if (err)
		return err;
	if (text) {
		err = state_parse(c, text, errstr, errlen);
		free(text);
	}
	if (err) {
		state_free(c);
		return err;
	}
	if (!c->cluster_id[0])
		new_cluster_id(c->cluster_id, sizeof c->cluster_id);
	for (size_t i = 0; i < c->nbrokers; i++) {
		ctl_broker_t *br = &c->brokers[i];

		br->alive = false;
		br->shutting_down = false;
		br->deadline_ms = now_ms + c->cfg.session_timeout_ms;
	}
	/* Every replica's health: its broker's registration, not yet alive. */
	for (size_t i = 0; i < c->ntopics; i++) {
		ctl_topic_t *t = c->topics[i];

		for (int32_t j = 0; j < t->npart; j++) {
			isr_ctl_t *p = &t->parts[j];

			for (int32_t k = 0; k < p->nreplicas; k++) {
				ctl_broker_t *br = ctl__broker(c, p->replicas[k]);

				p->health[k].broker_epoch = br ? br->epoch : ISR_NO_BROKER_EPOCH;
			}
		}
	}
	return TERN_OK;
}

/* Copies the replicas' health (alive, shutting down, corrupt: kept in
 * memory only) of the partitions of old, a topic from before a failed
 * save, into the reloaded topic of the same name, where the replica's
 * registration is still the reloaded one. c->mu held. */
static void health_restore(ctl_t *c, const ctl_topic_t *old)
{
	ctl_topic_t *t = ctl__topic(c, old->name);

	if (!t)
		return;
	for (int32_t j = 0; j < t->npart && j < old->npart; j++) {
		isr_ctl_t *p = &t->parts[j];
		const isr_ctl_t *o = &old->parts[j];

		for (int32_t k = 0; k < p->nreplicas; k++) {
			for (int32_t m = 0; m < o->nreplicas; m++) {
				if (o->replicas[m] == p->replicas[k] &&
				    o->health[m].broker_epoch == p->health[k].broker_epoch)
					p->health[k] = o->health[m];
			}
		}
	}
}

/* Saves the state and bumps the version; on failure reloads the stored
 * state (the change is undone). c->mu held. */
tern_err_t ctl__commit(ctl_t *c)
{
	int64_t now_ms = c->now_ms;

	if (c->broken)
		return TERN_ERR_NOT_CONTROLLER;
	char *text = NULL, errstr[256];
	size_t len = 0;
	tern_err_t err;

	err = state_text(c, &text, &len);
	if (!err)
		err = c->store->save(c->store, text, len);
	free(text);
	if (err) {
		/* Keep who is alive: only the stored state is reloaded. */
		ctl_broker_t *old = c->brokers;
		size_t nold = c->nbrokers;
		ctl_topic_t **old_topics = c->topics;
		size_t nold_topics = c->ntopics;

		c->brokers = NULL;
		c->nbrokers = 0;
		c->topics = NULL;
		c->ntopics = 0;
		if (state_load(c, now_ms, errstr, sizeof errstr) != TERN_OK) {
			c->broken = true;
			fprintf(stderr,
				"controller: reloading the metadata failed: %s; this controller "
				"stops serving\n",
				errstr);
		} else {
			for (size_t i = 0; i < nold; i++) {
				ctl_broker_t *br = ctl__broker(c, old[i].id);

				if (br && br->epoch == old[i].epoch) {
					br->alive = old[i].alive;
					br->deadline_ms = old[i].deadline_ms;
				}
			}
			/* state_load counts every replica dead; the replicas of
			 * brokers still alive are not (or nothing could be
			 * elected, and no AlterPartition accepted, until each
			 * broker restarts). The health is in-memory only: take it
			 * from before the change wherever the registration is the
			 * same. */
			for (size_t i = 0; i < nold_topics; i++)
				health_restore(c, old_topics[i]);
		}
		for (size_t i = 0; i < nold_topics; i++)
			topic_free(old_topics[i]);
		free(old_topics);
		free(old);
		c->version++;
		pthread_cond_broadcast(&c->changed);
		return err;
	}
	c->version++;
	pthread_cond_broadcast(&c->changed);
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Life                                                                       */

/* Where a controller's versions start: the wall clock in microseconds, so
 * that a new controller (elected elsewhere, or this broker restarted)
 * starts far from any version the last one reached. Brokers compare
 * versions only for equality; one that kept the old controller's last
 * version would otherwise miss the image while the new count passed it
 * (a new leader never learning it leads). */
static int64_t first_version(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

tern_err_t ctl_open(const ctl_config_t *cfg, ctl_store_t *store, int64_t now_ms, ctl_t **out,
		    char *errstr, size_t errlen)
{
	ctl_t *c = calloc(1, sizeof *c);
	tern_err_t err;

	if (!c)
		return TERN_ERR__NOMEM;
	c->cfg = *cfg;
	c->store = store;
	c->now_ms = now_ms;
	pthread_mutex_init(&c->mu, NULL);
	tern_cond_init_mono(&c->changed);
	err = state_load(c, now_ms, errstr, errlen);
	if (err) {
		pthread_cond_destroy(&c->changed);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return err;
	}
	c->version = first_version();
	*out = c;
	return TERN_OK;
}

void ctl_close(ctl_t *c)
{
	if (!c)
		return;
	state_free(c);
	if (c->store && c->store->close)
		c->store->close(c->store);
	pthread_cond_destroy(&c->changed);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const char *ctl_cluster_id(const ctl_t *c)
{
	return c->cluster_id;
}

int64_t ctl_version(ctl_t *c)
{
	int64_t v;

	pthread_mutex_lock(&c->mu);
	v = c->version;
	pthread_mutex_unlock(&c->mu);
	return v;
}

/* ------------------------------------------------------------------------ */
/* Brokers                                                                    */

/* Runs an isr/ controller event on every partition that has broker id as a
 * replica. c->mu held. */
static void each_replica(ctl_t *c, int32_t id,
			 tern_err_t (*ev)(isr_ctl_t *, int32_t, void *, isr_ctl_result_t *),
			 void *arg, bool *changed)
{
	for (size_t i = 0; i < c->ntopics; i++) {
		ctl_topic_t *t = c->topics[i];

		for (int32_t j = 0; j < t->npart; j++) {
			isr_ctl_t *p = &t->parts[j];
			isr_ctl_result_t r;
			int32_t k;

			for (k = 0; k < p->nreplicas && p->replicas[k] != id; k++)
				;
			if (k == p->nreplicas || ev(p, id, arg, &r) != TERN_OK)
				continue;
			if (r.changed)
				*changed = true;
			if (r.elected)
				ctl__log_election(c, t, j, p, &r);
		}
	}
}

struct reg_arg {
	int64_t epoch;
	bool clean;
};

static tern_err_t ev_register(isr_ctl_t *p, int32_t id, void *arg, isr_ctl_result_t *r)
{
	const struct reg_arg *a = arg;

	return isr_ctl_register(p, id, a->epoch, a->clean, r);
}

static tern_err_t ev_fence(isr_ctl_t *p, int32_t id, void *arg, isr_ctl_result_t *r)
{
	return isr_ctl_fence(p, id, r);
}

static tern_err_t ev_shutdown(isr_ctl_t *p, int32_t id, void *arg, isr_ctl_result_t *r)
{
	return isr_ctl_shutdown(p, id, r);
}

void ctl__log_election(ctl_t *c, const ctl_topic_t *t, int32_t part, const isr_ctl_t *p,
		       const isr_ctl_result_t *r)
{
	if (r->unclean)
		c->unclean_elections++;
	c->elections++;
	fprintf(stderr,
		"controller: [election] %s-%d: leader %d at leader epoch %d%s%s (ISR size %d)\n",
		t->name, part, p->leader, p->leader_epoch,
		r->unclean ? ", UNCLEAN: records acknowledged by the old ISR may be lost" : "",
		r->from_elr ? ", from the eligible leader replicas" : "", p->isr.n);
}

tern_err_t ctl_register(ctl_t *c, int32_t id, int64_t incarnation, const char *host, int32_t port,
			bool clean_shutdown, int64_t now_ms, int64_t *epoch)
{
	ctl_broker_t *br;
	struct reg_arg a;
	bool changed = false;
	tern_err_t err;

	if (id < 0 || !host || strlen(host) >= sizeof br->host || strchr(host, ' ') || port < 0 ||
	    port > 65535)
		return TERN_ERR_INVALID_REQUEST;
	pthread_mutex_lock(&c->mu);
	c->now_ms = now_ms;
	br = ctl__broker(c, id);
	if (br && br->incarnation == incarnation && br->epoch > 0 && !br->left) {
		/* A retry: the same registration. */
		*epoch = br->epoch;
		pthread_mutex_unlock(&c->mu);
		return TERN_OK;
	}
	if (br && br->alive && br->deadline_ms > now_ms) {
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_DUPLICATE_BROKER_REGISTRATION;
	}
	if (!br) {
		br = broker_add(c, id);
		if (!br) {
			pthread_mutex_unlock(&c->mu);
			return TERN_ERR__NOMEM;
		}
	}
	br->incarnation = incarnation;
	br->epoch = c->next_broker_epoch++;
	snprintf(br->host, sizeof br->host, "%s", host);
	br->port = port;
	br->alive = true;
	br->shutting_down = false;
	br->left = false;
	br->fenced_once = false;
	br->deadline_ms = now_ms + c->cfg.session_timeout_ms;
	a.epoch = br->epoch;
	a.clean = clean_shutdown;
	each_replica(c, id, ev_register, &a, &changed);
	/* On failure the reload restored the stored registration (and br is
	 * stale): the epoch is written only on success. */
	err = ctl__commit(c);
	if (!err)
		*epoch = a.epoch;
	pthread_mutex_unlock(&c->mu);
	if (!err)
		fprintf(stderr,
			"controller: [broker] broker %d registered at %s:%d, epoch %" PRId64 "%s\n",
			id, host, port, *epoch,
			clean_shutdown ? "" : " (it found no clean-shutdown marker)");
	return err;
}

tern_err_t ctl_heartbeat(ctl_t *c, int32_t id, int64_t epoch, bool want_shutdown, int64_t now_ms,
			 bool *fenced, bool *shutdown_done)
{
	ctl_broker_t *br;
	bool changed = false, unfenced = false;
	tern_err_t err = TERN_OK;

	*fenced = true;
	*shutdown_done = false;
	pthread_mutex_lock(&c->mu);
	c->now_ms = now_ms;
	br = ctl__broker(c, id);
	if (!br || br->epoch != epoch || epoch <= 0) {
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_STALE_BROKER_EPOCH;
	}
	if (br->left) {
		/* Finished its controlled shutdown: it must register again. */
		*shutdown_done = true;
		pthread_mutex_unlock(&c->mu);
		return TERN_OK;
	}
	br->deadline_ms = now_ms + c->cfg.session_timeout_ms;
	if (!br->alive) {
		struct reg_arg a = {.epoch = epoch, .clean = true};

		br->alive = true;
		unfenced = true;
		/* Its return is a change of the image even when no ISR or
		 * leader changes: leaders must learn that it is eligible
		 * again, or they never add it back to an ISR. */
		changed = true;
		each_replica(c, id, ev_register, &a, &changed);
		fprintf(stderr, "controller: [broker] broker %d is back (epoch %" PRId64 ")\n", id,
			epoch);
	}
	if (want_shutdown && !br->shutting_down) {
		br->shutting_down = true;
		each_replica(c, id, ev_shutdown, NULL, &changed);
		fprintf(stderr, "controller: [broker] broker %d begins a controlled shutdown\n",
			id);
		changed = true;
	}
	if (br->shutting_down) {
		/* isr_ctl_shutdown moved every leadership it could; the broker
		 * now leaves: what it still leads (it was the last ISR member)
		 * goes offline until it returns, as when its session ends. */
		each_replica(c, id, ev_fence, NULL, &changed);
		*shutdown_done = true;
		br->left = true;
		br->alive = false;
		changed = true;
	}
	if (changed)
		err = ctl__commit(c);
	if (!err) {
		*fenced = !br->alive && !br->left;
	} else {
		/* The save failed: the shutdown, if any, was undone and the
		 * broker must ask again. */
		*shutdown_done = false;
		if (unfenced) {
			/* The reload kept the broker alive but undid the
			 * elections of its unfence: its next heartbeat must
			 * unfence it again. (br is stale: the reload rebuilt
			 * the brokers.) */
			br = ctl__broker(c, id);
			if (br && br->epoch == epoch)
				br->alive = false;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return err;
}

void ctl_tick(ctl_t *c, int64_t now_ms)
{
	int32_t dead[64];
	size_t ndead = 0, more = 0;
	bool changed = false;

	pthread_mutex_lock(&c->mu);
	c->now_ms = now_ms;
	for (size_t i = 0; i < c->nbrokers; i++) {
		ctl_broker_t *br = &c->brokers[i];

		if (br->left || br->deadline_ms > now_ms)
			continue;
		if (br->alive || !br->fenced_once) {
			int32_t id = br->id;

			br->alive = false;
			br->fenced_once = true;
			each_replica(c, id, ev_fence, NULL, &changed);
			if (ndead < sizeof dead / sizeof dead[0])
				dead[ndead++] = id;
			else
				more++;
			changed = true;
		}
	}
	if (changed)
		(void)ctl__commit(c);
	pthread_mutex_unlock(&c->mu);
	/* Logged once the new state is stored (and shown to brokers). */
	for (size_t i = 0; i < ndead; i++)
		fprintf(stderr, "controller: [broker] broker %d is dead: no heartbeat for %d ms\n",
			dead[i], c->cfg.session_timeout_ms);
	if (more)
		fprintf(stderr, "controller: [broker] %zu more brokers are dead\n", more);
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                     */

static bool name_ok(const char *name, char *why, size_t whylen)
{
	return broker_topic_name_valid(name, strlen(name), why, whylen) && !strchr(name, ' ');
}

static bool usable(const ctl_broker_t *br)
{
	return br->alive && !br->shutting_down && !br->left;
}

static int cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

tern_err_t ctl_create_topic(ctl_t *c, const char *name, int32_t npart, int32_t rf,
			    const tern_conf_kv_t *configs, size_t nconfigs, bool internal,
			    bool validate_only, char *why, size_t whylen)
{
	int32_t live[1024];
	int32_t nlive = 0, start;
	isr_config_t icfg;
	ctl_topic_t *t;
	tern_err_t err;

	why[0] = '\0';
	if (!name_ok(name, why, whylen))
		return TERN_ERR_INVALID_TOPIC_EXCEPTION;
	if (npart == -1)
		npart = c->cfg.broker->num_partitions;
	if (rf == -1)
		rf = c->cfg.broker->default_replication_factor;
	if (npart < 1) {
		snprintf(why, whylen, "the number of partitions must be at least 1, not %d", npart);
		return TERN_ERR_INVALID_PARTITIONS;
	}
	if (rf < 1 || rf > ISR_MAX_REPLICAS) {
		snprintf(why, whylen, "the replication factor must be between 1 and %d, not %d",
			 ISR_MAX_REPLICAS, rf);
		return TERN_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (isr_config_of(c, configs, nconfigs, &icfg, why, whylen) != TERN_OK)
		return TERN_ERR_INVALID_CONFIG;
	pthread_mutex_lock(&c->mu);
	if (ctl__topic(c, name)) {
		pthread_mutex_unlock(&c->mu);
		snprintf(why, whylen, "topic '%s' already exists", name);
		return TERN_ERR_TOPIC_ALREADY_EXISTS;
	}
	for (size_t i = 0; i < c->nbrokers && nlive < (int32_t)(sizeof live / sizeof live[0]); i++)
		if (usable(&c->brokers[i]))
			live[nlive++] = c->brokers[i].id;
	if (rf > nlive) {
		pthread_mutex_unlock(&c->mu);
		snprintf(why, whylen,
			 "replication factor %d is larger than the %d live broker%s of the cluster",
			 rf, nlive, nlive == 1 ? "" : "s");
		return TERN_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (validate_only) {
		pthread_mutex_unlock(&c->mu);
		return TERN_OK;
	}
	qsort(live, (size_t)nlive, sizeof live[0], cmp_id);
	t = topic_new(name, npart, rf, internal);
	err = t ? configs_copy(configs, nconfigs, &t->configs) : TERN_ERR__NOMEM;
	if (!err)
		t->nconfigs = nconfigs;
	/* Leaders spread: each topic starts its round-robin somewhere else. */
	start = (int32_t)(c->topic_seq++ % (uint64_t)nlive);
	for (int32_t j = 0; j < npart && !err; j++) {
		int32_t reps[ISR_MAX_REPLICAS];
		isr_ctl_t *p = &t->parts[j];

		for (int32_t k = 0; k < rf; k++)
			reps[k] = live[(start + j + k) % nlive];
		err = isr_ctl_init(p, &icfg, reps, rf);
		/* Registering in assignment order elects the first replica. */
		for (int32_t k = 0; k < rf && !err; k++) {
			ctl_broker_t *br = ctl__broker(c, reps[k]);
			isr_ctl_result_t r;

			err = isr_ctl_register(p, reps[k], br->epoch, true, &r);
		}
	}
	if (!err)
		err = topics_add(c, t);
	else
		topic_free(t);
	if (!err) {
		err = ctl__commit(c);
		if (err)
			snprintf(why, whylen, "the metadata could not be saved: %s",
				 tern_strerror(err));
	}
	pthread_mutex_unlock(&c->mu);
	if (!err)
		fprintf(stderr,
			"controller: [topic] created %s: %d partitions, replication factor %d\n",
			name, npart, rf);
	return err;
}

tern_err_t ctl_delete_topic(ctl_t *c, const char *name)
{
	ctl_topic_t *t;
	tern_err_t err;

	pthread_mutex_lock(&c->mu);
	t = ctl__topic(c, name);
	if (!t) {
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	for (size_t i = 0; i < c->ntopics; i++) {
		if (c->topics[i] == t) {
			memmove(&c->topics[i], &c->topics[i + 1],
				(c->ntopics - i - 1) * sizeof c->topics[0]);
			c->ntopics--;
			break;
		}
	}
	err = ctl__commit(c);
	/* t was already out of the topics, so the reload of a failed save
	 * could not keep its replicas' health: do it here. */
	if (err)
		health_restore(c, t);
	topic_free(t);
	pthread_mutex_unlock(&c->mu);
	if (!err)
		fprintf(stderr, "controller: [topic] deleted %s\n", name);
	return err;
}

tern_err_t ctl_set_topic_configs(ctl_t *c, const char *name, const tern_conf_kv_t *configs,
				 size_t nconfigs, bool validate_only, char *why, size_t whylen)
{
	tern_conf_kv_t *copy, *old;
	size_t nold;
	isr_config_t icfg;
	ctl_topic_t *t;
	tern_err_t err;

	why[0] = '\0';
	if (isr_config_of(c, configs, nconfigs, &icfg, why, whylen) != TERN_OK)
		return TERN_ERR_INVALID_CONFIG;
	pthread_mutex_lock(&c->mu);
	t = ctl__topic(c, name);
	if (!t) {
		pthread_mutex_unlock(&c->mu);
		snprintf(why, whylen, "topic '%s' does not exist", name);
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (validate_only) {
		pthread_mutex_unlock(&c->mu);
		return TERN_OK;
	}
	err = configs_copy(configs, nconfigs, &copy);
	if (err) {
		pthread_mutex_unlock(&c->mu);
		return err;
	}
	old = t->configs;
	nold = t->nconfigs;
	t->configs = copy;
	t->nconfigs = nconfigs;
	for (int32_t j = 0; j < t->npart; j++) {
		isr_ctl_result_t r;

		if (isr_ctl_set_config(&t->parts[j], &icfg, &r) == TERN_OK && r.elected)
			ctl__log_election(c, t, j, &t->parts[j], &r);
	}
	/* On failure the reload replaced t: the old overrides go either way. */
	err = ctl__commit(c);
	for (size_t i = 0; i < nold; i++) {
		free((char *)old[i].key);
		free((char *)old[i].value);
	}
	free(old);
	pthread_mutex_unlock(&c->mu);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Partitions                                                                 */

static isr_ctl_t *part_find(ctl_t *c, const char *topic, int32_t partition, ctl_topic_t **tp)
{
	ctl_topic_t *t = ctl__topic(c, topic);

	if (!t || partition < 0 || partition >= t->npart)
		return NULL;
	if (tp)
		*tp = t;
	return &t->parts[partition];
}

/* The broker's current registration epoch is epoch. c->mu held. */
static bool epoch_ok(ctl_t *c, int32_t id, int64_t epoch)
{
	ctl_broker_t *br = ctl__broker(c, id);

	return br && br->epoch == epoch && !br->left;
}

tern_err_t ctl_alter_partition(ctl_t *c, int32_t broker_id, int64_t broker_epoch, const char *topic,
			       int32_t partition, const isr_alter_t *req, isr_leader_and_isr_t *st)
{
	isr_ctl_result_t r;
	ctl_topic_t *t;
	isr_ctl_t *p;
	tern_err_t err;

	pthread_mutex_lock(&c->mu);
	p = part_find(c, topic, partition, &t);
	if (!p) {
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (!epoch_ok(c, broker_id, broker_epoch)) {
		isr_ctl_state(p, st);
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_STALE_BROKER_EPOCH;
	}
	/* Only the leader may change the ISR, and only in its own name
	 * (Kafka's ReplicationControlManager refuses an AlterPartition whose
	 * sender is not the partition's leader): isr_ctl_alter checks
	 * req->leader, so a follower naming the leader would pass it. */
	if (req->leader != broker_id) {
		isr_ctl_state(p, st);
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_INVALID_REQUEST;
	}
	err = isr_ctl_alter(p, req, &r);
	if (!err && r.changed) {
		err = ctl__commit(c);
		if (!err)
			fprintf(stderr,
				"controller: [isr] %s-%d: ISR now has %d member%s at partition "
				"epoch %d\n",
				topic, partition, req->isr.n, req->isr.n == 1 ? "" : "s",
				p->partition_epoch);
		p = part_find(c, topic, partition, NULL);
	}
	if (p)
		isr_ctl_state(p, st);
	pthread_mutex_unlock(&c->mu);
	return err;
}

tern_err_t ctl_replica_health(ctl_t *c, int32_t broker_id, int64_t broker_epoch, const char *topic,
			      int32_t partition, bool corrupt)
{
	isr_ctl_result_t r;
	ctl_topic_t *t;
	isr_ctl_t *p;
	tern_err_t err;

	pthread_mutex_lock(&c->mu);
	p = part_find(c, topic, partition, &t);
	if (!p) {
		err = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	} else if (!epoch_ok(c, broker_id, broker_epoch)) {
		err = TERN_ERR_STALE_BROKER_EPOCH;
	} else {
		err = isr_ctl_set_corrupt(p, broker_id, corrupt, &r);
		if (!err && r.elected)
			ctl__log_election(c, t, partition, p, &r);
		if (!err && r.changed)
			err = ctl__commit(c);
	}
	pthread_mutex_unlock(&c->mu);
	return err;
}

tern_err_t ctl_elect(ctl_t *c, const char *topic, int32_t partition, isr_election_t type)
{
	isr_ctl_result_t r;
	ctl_topic_t *t;
	isr_ctl_t *p;
	tern_err_t err;

	pthread_mutex_lock(&c->mu);
	p = part_find(c, topic, partition, &t);
	if (!p) {
		err = TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	} else {
		err = isr_ctl_elect(p, type, &r);
		if (!err && r.elected)
			ctl__log_election(c, t, partition, p, &r);
		if (!err && r.changed)
			err = ctl__commit(c);
	}
	pthread_mutex_unlock(&c->mu);
	return err;
}

#define CTL_PID_BLOCK 1000

tern_err_t ctl_allocate_producer_ids(ctl_t *c, int32_t broker_id, int64_t broker_epoch,
				     int64_t *start, int32_t *len)
{
	int64_t first;
	tern_err_t err;

	pthread_mutex_lock(&c->mu);
	if (!epoch_ok(c, broker_id, broker_epoch)) {
		pthread_mutex_unlock(&c->mu);
		return TERN_ERR_STALE_BROKER_EPOCH;
	}
	first = c->next_pid;
	c->next_pid += CTL_PID_BLOCK;
	err = ctl__commit(c);
	if (!err) {
		*start = first;
		*len = CTL_PID_BLOCK;
	}
	pthread_mutex_unlock(&c->mu);
	return err;
}

tern_err_t ctl_partition_state(ctl_t *c, const char *topic, int32_t partition,
			       isr_leader_and_isr_t *st, isr_mode_t *mode)
{
	isr_ctl_t *p;

	pthread_mutex_lock(&c->mu);
	p = part_find(c, topic, partition, NULL);
	if (p) {
		isr_ctl_state(p, st);
		if (mode)
			*mode = isr_ctl_mode(p);
	}
	pthread_mutex_unlock(&c->mu);
	return p ? TERN_OK : TERN_ERR__INVALID_ARG;
}

void ctl_get_stats(ctl_t *c, ctl_stats_t *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->ntopics; i++)
		for (int32_t j = 0; j < c->topics[i]->npart; j++)
			out->offline_partitions += c->topics[i]->parts[j].leader == ISR_NO_LEADER;
	out->elections = c->elections;
	out->unclean_elections = c->unclean_elections;
	pthread_mutex_unlock(&c->mu);
}
