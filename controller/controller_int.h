/* controller/controller_int.h: the controller's state, shared by its files
 * (controller.c: the state and its changes; handle.c: the requests; store.c:
 * the embedded store). Private to controller/. */
#ifndef TERN_CONTROLLER_INT_H
#define TERN_CONTROLLER_INT_H

#include <pthread.h>

#include "common/clock.h"
#include "controller/controller.h"
#include "isr/isr.h"

/* A registered broker. Invariants: epoch > 0 once registered; alive means
 * its session is live (a heartbeat within the session timeout, or a
 * registration); left: it finished a controlled shutdown and must register
 * again; fenced_once: ctl_tick already fenced it after its deadline. */
typedef struct ctl_broker {
	int32_t id;
	int64_t incarnation;
	int64_t epoch;
	char host[256];
	int32_t port;
	int64_t deadline_ms;
	bool alive;
	bool shutting_down;
	bool left;
	bool fenced_once;
} ctl_broker_t;

/* A topic: configs are its overrides (malloc()ed strings); parts[i] is
 * partition i's record. loaded counts the partitions read from the store
 * (they must all be there). */
typedef struct ctl_topic {
	char *name;
	int32_t npart;
	int32_t rf;
	bool internal;
	tern_conf_kv_t *configs;
	size_t nconfigs;
	isr_ctl_t *parts;
	int32_t loaded;
} ctl_topic_t;

struct ctl {
	ctl_config_t cfg;
	ctl_store_t *store;
	/* Guards everything below; changed is signalled with every new
	 * version. */
	pthread_mutex_t mu;
	pthread_cond_t changed;
	char cluster_id[64];
	int64_t version;
	/* A failed save was followed by a failed reload: the state in memory
	 * is not the stored one. Nothing more is saved or shown to brokers
	 * (an empty image would make them delete every topic). */
	bool broken;
	int64_t now_ms; /* the latest time an event named */
	int64_t next_broker_epoch;
	int64_t next_pid;
	uint64_t topic_seq;
	uint64_t elections, unclean_elections;
	ctl_broker_t *brokers;
	size_t nbrokers;
	ctl_topic_t **topics;
	size_t ntopics;
};

ctl_broker_t *ctl__broker(ctl_t *c, int32_t id);
ctl_topic_t *ctl__topic(ctl_t *c, const char *name);

/* Saves the state and bumps the version (waking the waiters of changed);
 * on failure reloads the stored state, so the change is undone. c->mu
 * held. */
tern_err_t ctl__commit(ctl_t *c);

/* Counts and logs an election isr/ ran on partition part of t. */
void ctl__log_election(ctl_t *c, const ctl_topic_t *t, int32_t part, const isr_ctl_t *p,
		       const isr_ctl_result_t *r);

/* One request being answered (handle.c). The response header is already
 * in out; a handler appends the body. A body that cannot be read is
 * answered with the INT16 INVALID_REQUEST alone (ctl__reply_error), as the
 * broker answers what it cannot read (docs/broker.md). */
typedef struct ctl_req {
	ctl_t *c;
	proto_req_hdr_t hdr;
	proto_reader_t rd; /* at the body */
	proto_arena_t *arena;
	int64_t now_ms;
	proto_buf_t *out;
} ctl_req_t;

void ctl__reply_error(ctl_req_t *q, tern_err_t err);

/* The forwarded admin APIs (admin.c). */
void ctl__create_topics(ctl_req_t *q);
void ctl__delete_topics(ctl_req_t *q);
void ctl__alter_configs(ctl_req_t *q);
void ctl__incremental_alter_configs(ctl_req_t *q);
void ctl__elect_leaders(ctl_req_t *q);

#endif
