/* isr/controller.c: the controller's record of one partition: ISR changes
 * proposed by its leader, brokers that die, shut down, restart or find
 * corrupt data, elections, and the eligible leader replicas of KIP-966. */
#include <string.h>

#include "isr/isr_int.h"

static int32_t effective_min(const isr_ctl_t *c)
{
	return isr__effective_min(c->cfg.min_insync, c->nreplicas);
}

static isr_health_t *health_of(isr_ctl_t *c, int32_t id)
{
	int i = isr__index(c->replicas, c->nreplicas, id);

	return i < 0 ? NULL : &c->health[i];
}

/* May lead, or join the ISR: alive, not shutting down, not corrupt. */
static bool acceptable(const isr_health_t *h)
{
	return h->alive && !h->shutting_down && !h->corrupt;
}

/* Every ISR change goes through here. With eligible leader replicas on
 * (PartitionChangeBuilder.maybePopulateTargetElr): an ISR at or above the
 * effective min.insync needs none, so the ELR empties; below it, the HWM is
 * frozen (strict min-ISR), so every replica that was in the ISR until now
 * holds everything below the HWM and joins the ELR. Corrupt replicas never
 * do. A recovering partition has recovered once a second replica is in. */
static void set_isr(isr_ctl_t *c, const isr_set_t *next)
{
	isr_set_t old = c->isr;

	c->isr = *next;
	isr__set_order(&c->isr, c->replicas, c->nreplicas);
	if (c->cfg.eligible_leader_replicas) {
		if (c->isr.n >= effective_min(c)) {
			c->elr.n = 0;
		} else {
			for (int32_t i = 0; i < old.n; i++)
				isr__set_add(&c->elr, old.id[i]);
			for (int32_t i = 0; i < c->isr.n; i++)
				isr__set_remove(&c->elr, c->isr.id[i]);
			for (int32_t i = 0; i < c->nreplicas; i++)
				if (c->health[i].corrupt)
					isr__set_remove(&c->elr, c->replicas[i]);
			isr__set_order(&c->elr, c->replicas, c->nreplicas);
		}
	}
	if (c->recovering && isr__recovered(c->isr.n, c->nreplicas))
		c->recovering = false;
}

/* Elects a leader (PartitionChangeBuilder.electAnyLeader), in this order:
 *  1. clean: the first replica in assignment order that is in the ISR and
 *     acceptable;
 *  2. with eligible leader replicas, when no ISR member can lead: the first
 *     acceptable ELR member, which becomes the ISR (clean: it holds
 *     everything below the HWM);
 *  3. if allow_unclean: the first acceptable replica; the ISR becomes just
 *     it, the ELR empties and the partition is recovering (committed data
 *     may be lost: reported in r->unclean and counted);
 *  4. none: offline.
 * A corrupt replica is never acceptable. The leader epoch is bumped when
 * the leader changes (to none as well: that fences the old one) and, with
 * force, when the same broker leads again (a restarted leader, DESIGN.md
 * decision 10). */
static void elect(isr_ctl_t *c, bool allow_unclean, bool force, isr_ctl_result_t *r)
{
	int32_t leader = ISR_NO_LEADER;
	bool from_elr = false, unclean = false;

	for (int32_t i = 0; i < c->nreplicas && leader == ISR_NO_LEADER; i++)
		if (isr_set_contains(&c->isr, c->replicas[i]) && acceptable(&c->health[i]))
			leader = c->replicas[i];
	for (int32_t i = 0;
	     i < c->nreplicas && leader == ISR_NO_LEADER && c->cfg.eligible_leader_replicas; i++) {
		if (isr_set_contains(&c->elr, c->replicas[i]) && acceptable(&c->health[i])) {
			leader = c->replicas[i];
			from_elr = true;
		}
	}
	for (int32_t i = 0; i < c->nreplicas && leader == ISR_NO_LEADER && allow_unclean; i++) {
		if (acceptable(&c->health[i])) {
			leader = c->replicas[i];
			unclean = true;
		}
	}
	if (leader == c->leader && !(force && leader != ISR_NO_LEADER))
		return;
	if (from_elr || unclean) {
		isr_set_t only = {.n = 1, .id = {leader}};

		set_isr(c, &only);
	}
	if (unclean) {
		c->elr.n = 0;
		c->recovering = !isr__recovered(1, c->nreplicas);
		c->unclean_elections++;
	}
	c->leader = leader;
	c->leader_epoch++;
	r->changed = true;
	r->elected = true;
	r->unclean = unclean;
	r->from_elr = from_elr;
}

/* Takes id out of the ISR without the lag rule. The last member stays
 * unless eligible leader replicas are on (then set_isr moves it to the
 * ELR): Kafka keeps it so that it can be elected cleanly when it returns,
 * and an empty ISR would leave nobody to elect but uncleanly. */
static void remove_from_isr(isr_ctl_t *c, int32_t id, isr_ctl_result_t *r)
{
	isr_set_t next = c->isr;

	if (!isr__set_remove(&next, id))
		return;
	if (next.n == 0 && !c->cfg.eligible_leader_replicas)
		return;
	set_isr(c, &next);
	r->changed = true;
}

/* Bumps the partition epoch once per event that changed the state. */
static tern_err_t finish(isr_ctl_t *c, isr_ctl_result_t *r)
{
	if (r->changed)
		c->partition_epoch++;
	r->leader = c->leader;
	return TERN_OK;
}

static void result_reset(isr_ctl_result_t *r)
{
	memset(r, 0, sizeof *r);
	r->leader = ISR_NO_LEADER;
}

tern_err_t isr_ctl_init(isr_ctl_t *c, const isr_config_t *cfg, const int32_t *replicas,
			int32_t nreplicas)
{
	if (isr_config_check(cfg) != TERN_OK || isr__check_replicas(replicas, nreplicas) != TERN_OK)
		return TERN_ERR__INVALID_ARG;
	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->nreplicas = nreplicas;
	memcpy(c->replicas, replicas, (size_t)nreplicas * sizeof replicas[0]);
	for (int32_t i = 0; i < nreplicas; i++) {
		c->health[i].broker_epoch = ISR_NO_BROKER_EPOCH;
		c->isr.id[i] = replicas[i];
	}
	c->isr.n = nreplicas;
	c->leader = ISR_NO_LEADER;
	return TERN_OK;
}

tern_err_t isr_ctl_validate(const isr_ctl_t *c, char *why, size_t whylen)
{
	if (isr__check_replicas(c->replicas, c->nreplicas) != TERN_OK)
		ISR__BROKEN("bad replica list");
	if (isr__check_set(&c->isr, c->replicas, c->nreplicas) != TERN_OK)
		ISR__BROKEN("ISR outside the replicas");
	if (isr__check_set(&c->elr, c->replicas, c->nreplicas) != TERN_OK)
		ISR__BROKEN("ELR outside the replicas");
	for (int32_t i = 0; i < c->elr.n; i++) {
		if (isr_set_contains(&c->isr, c->elr.id[i]))
			ISR__BROKEN("%d in both ISR and ELR", c->elr.id[i]);
		if (c->health[isr__index(c->replicas, c->nreplicas, c->elr.id[i])].corrupt)
			ISR__BROKEN("corrupt %d in the ELR", c->elr.id[i]);
	}
	if (c->elr.n > 0 && !c->cfg.eligible_leader_replicas)
		ISR__BROKEN("ELR without eligible leader replicas");
	if (c->elr.n > 0 && c->isr.n >= effective_min(c))
		ISR__BROKEN("ELR while the ISR is at min.insync");
	if (c->leader != ISR_NO_LEADER && !isr_set_contains(&c->isr, c->leader))
		ISR__BROKEN("leader %d not in the ISR", c->leader);
	if (c->leader_epoch < 0 || c->partition_epoch < 0)
		ISR__BROKEN("negative epoch");
	return TERN_OK;
}

void isr_ctl_state(const isr_ctl_t *c, isr_leader_and_isr_t *out)
{
	memset(out, 0, sizeof *out);
	out->leader = c->leader;
	out->leader_epoch = c->leader_epoch;
	out->partition_epoch = c->partition_epoch;
	out->nreplicas = c->nreplicas;
	memcpy(out->replicas, c->replicas, (size_t)c->nreplicas * sizeof c->replicas[0]);
	out->isr = c->isr;
	out->recovering = c->recovering;
}

isr_mode_t isr_ctl_mode(const isr_ctl_t *c)
{
	return isr__mode(c->leader != ISR_NO_LEADER, c->isr.n, effective_min(c), c->recovering,
			 c->nreplicas);
}

tern_err_t isr_ctl_register(isr_ctl_t *c, int32_t id, int64_t broker_epoch, bool clean_shutdown,
			    isr_ctl_result_t *r)
{
	isr_health_t *h = health_of(c, id);
	bool restart;

	result_reset(r);
	if (!h || broker_epoch < 0)
		return TERN_ERR__INVALID_ARG;
	if (h->broker_epoch != ISR_NO_BROKER_EPOCH && broker_epoch < h->broker_epoch)
		return TERN_ERR_STALE_BROKER_EPOCH;
	restart = h->broker_epoch == ISR_NO_BROKER_EPOCH || broker_epoch > h->broker_epoch;
	h->alive = true;
	h->shutting_down = false;
	h->broker_epoch = broker_epoch;
	if (restart && h->corrupt) {
		/* A new incarnation recovered its log from the disk and
		 * reports its own health afresh (Kafka: an offline log
		 * directory is back once its broker restarts). The epoch
		 * bump fences proposals made on the old incarnation's fetches,
		 * as a healthy report does. */
		h->corrupt = false;
		r->changed = true;
	}
	if (restart) {
		/* Decision 10: under async what a broker acknowledged may have
		 * been only in its page cache; after a stop without the
		 * clean-shutdown marker it cannot vouch for it, so it leaves the
		 * ISR (even as its last member) and the ELR. Under sync what it
		 * acknowledged was fsynced: it keeps its place. A partition with
		 * one replica is the exception: no other copy could hold what
		 * it lost, and leaving would only take the partition offline. */
		if (!clean_shutdown && c->cfg.flush == ISR_FLUSH_ASYNC && c->nreplicas > 1) {
			isr_set_t next = c->isr;

			if (isr__set_remove(&next, id)) {
				set_isr(c, &next);
				r->changed = true;
			}
			if (isr__set_remove(&c->elr, id))
				r->changed = true;
		}
		/* A leader that restarted never resumes its epoch: it may have
		 * lost an unsynced tail and would write other records at the
		 * same offsets under the same epoch, which no follower could
		 * tell apart. */
		if (c->leader == id) {
			elect(c, c->cfg.unclean_election, true, r);
			return finish(c, r);
		}
	}
	if (c->leader == ISR_NO_LEADER)
		elect(c, c->cfg.unclean_election, false, r);
	return finish(c, r);
}

/* Fence, controlled shutdown and corruption share this: the replica leaves
 * the ISR at once, and a new leader is elected if it led. */
static tern_err_t take_out(isr_ctl_t *c, int32_t id, isr_ctl_result_t *r)
{
	remove_from_isr(c, id, r);
	if (c->leader == id)
		elect(c, c->cfg.unclean_election, false, r);
	return finish(c, r);
}

tern_err_t isr_ctl_fence(isr_ctl_t *c, int32_t id, isr_ctl_result_t *r)
{
	isr_health_t *h = health_of(c, id);

	result_reset(r);
	if (!h)
		return TERN_ERR__INVALID_ARG;
	h->alive = false;
	return take_out(c, id, r);
}

tern_err_t isr_ctl_shutdown(isr_ctl_t *c, int32_t id, isr_ctl_result_t *r)
{
	isr_health_t *h = health_of(c, id);

	result_reset(r);
	if (!h)
		return TERN_ERR__INVALID_ARG;
	h->shutting_down = true;
	return take_out(c, id, r);
}

tern_err_t isr_ctl_set_corrupt(isr_ctl_t *c, int32_t id, bool corrupt, isr_ctl_result_t *r)
{
	isr_health_t *h = health_of(c, id);

	result_reset(r);
	if (!h)
		return TERN_ERR__INVALID_ARG;
	/* Both reports bump the partition epoch, even for a replica outside
	 * the ISR: the leader may have proposed adding it on the strength of
	 * fetches from before it truncated its corrupt tail, and such a
	 * proposal is based on an older partition epoch, so it is refused.
	 * (Kafka gets the same from KIP-903: a storage error takes the log
	 * directory offline until the broker restarts with a new epoch.) */
	h->corrupt = corrupt;
	r->changed = true;
	if (!corrupt) {
		if (c->leader == ISR_NO_LEADER)
			elect(c, c->cfg.unclean_election, false, r);
		return finish(c, r);
	}
	isr__set_remove(&c->elr, id);
	return take_out(c, id, r);
}

tern_err_t isr_ctl_alter(isr_ctl_t *c, const isr_alter_t *req, isr_ctl_result_t *r)
{
	result_reset(r);
	/* ReplicationControlManager.validateAlterPartitionData, in its order. */
	if (req->leader_epoch > c->leader_epoch || req->partition_epoch > c->partition_epoch)
		return TERN_ERR_NOT_CONTROLLER;
	if (req->leader_epoch < c->leader_epoch)
		return TERN_ERR_FENCED_LEADER_EPOCH;
	if (req->leader != c->leader || c->leader == ISR_NO_LEADER)
		return TERN_ERR_INVALID_REQUEST;
	if (req->partition_epoch < c->partition_epoch)
		return TERN_ERR_INVALID_UPDATE_VERSION;
	if (isr__check_set(&req->isr, c->replicas, c->nreplicas) != TERN_OK ||
	    !isr_set_contains(&req->isr, c->leader))
		return TERN_ERR_INVALID_REQUEST;
	/* Every member must be able to serve (Kafka's INELIGIBLE_REPLICA,
	 * which Tern answers with OPERATION_NOT_ATTEMPTED) and, where the
	 * leader names a broker epoch, be that registration (KIP-903): the
	 * leader may have judged a follower on fetches from before it
	 * restarted and lost data. */
	for (int32_t i = 0; i < req->isr.n; i++) {
		const isr_health_t *h = health_of(c, req->isr.id[i]);

		if (!acceptable(h))
			return TERN_ERR_OPERATION_NOT_ATTEMPTED;
		if (req->broker_epoch[i] != ISR_NO_BROKER_EPOCH &&
		    req->broker_epoch[i] != h->broker_epoch)
			return TERN_ERR_OPERATION_NOT_ATTEMPTED;
	}
	/* The same ISR again: nothing to commit, and no new epoch. */
	if (!isr__set_equal(&req->isr, &c->isr)) {
		set_isr(c, &req->isr);
		r->changed = true;
	}
	return finish(c, r);
}

tern_err_t isr_ctl_elect(isr_ctl_t *c, isr_election_t type, isr_ctl_result_t *r)
{
	int32_t preferred = c->replicas[0];

	result_reset(r);
	switch (type) {
	case ISR_ELECT_PREFERRED:
		if (c->leader == preferred)
			return TERN_ERR_ELECTION_NOT_NEEDED;
		if (!isr_set_contains(&c->isr, preferred) || !acceptable(&c->health[0]))
			return TERN_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
		c->leader = preferred;
		c->leader_epoch++;
		r->changed = true;
		r->elected = true;
		return finish(c, r);
	case ISR_ELECT_UNCLEAN:
		if (c->leader != ISR_NO_LEADER)
			return TERN_ERR_ELECTION_NOT_NEEDED;
		elect(c, true, false, r);
		if (c->leader == ISR_NO_LEADER)
			return TERN_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
		return finish(c, r);
	}
	return TERN_ERR__INVALID_ARG;
}

tern_err_t isr_ctl_set_config(isr_ctl_t *c, const isr_config_t *cfg, isr_ctl_result_t *r)
{
	result_reset(r);
	if (isr_config_check(cfg) != TERN_OK)
		return TERN_ERR__INVALID_ARG;
	c->cfg = *cfg;
	if (c->elr.n > 0 && (!cfg->eligible_leader_replicas || c->isr.n >= effective_min(c))) {
		c->elr.n = 0;
		r->changed = true;
	}
	if (c->leader == ISR_NO_LEADER)
		elect(c, cfg->unclean_election, false, r);
	return finish(c, r);
}
