/* isr/common.c: configuration, replica sets and modes, shared by the
 * replica state machine and the controller's record. */
#include <string.h>

#include "isr/isr_int.h"

void isr_config_default(isr_config_t *c)
{
	memset(c, 0, sizeof *c);
	c->min_insync = 1;
	c->lag_time_max_ms = 30000;
	c->flush = ISR_FLUSH_SYNC;
	c->unclean_election = false;
	c->eligible_leader_replicas = false;
}

tern_err_t isr_config_check(const isr_config_t *c)
{
	if (c->min_insync < 1 || c->lag_time_max_ms <= 0)
		return TERN_ERR__INVALID_ARG;
	if (c->flush != ISR_FLUSH_SYNC && c->flush != ISR_FLUSH_ASYNC)
		return TERN_ERR__INVALID_ARG;
	return TERN_OK;
}

int isr__index(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return (int)i;
	return -1;
}

bool isr_set_contains(const isr_set_t *s, int32_t id)
{
	return isr__index(s->id, s->n, id) >= 0;
}

tern_err_t isr__check_replicas(const int32_t *replicas, int32_t n)
{
	if (n < 1 || n > ISR_MAX_REPLICAS)
		return TERN_ERR__INVALID_ARG;
	for (int32_t i = 0; i < n; i++)
		if (replicas[i] < 0 || isr__index(replicas, i, replicas[i]) >= 0)
			return TERN_ERR__INVALID_ARG;
	return TERN_OK;
}

tern_err_t isr__check_set(const isr_set_t *s, const int32_t *replicas, int32_t n)
{
	if (s->n < 0 || s->n > ISR_MAX_REPLICAS)
		return TERN_ERR__INVALID_ARG;
	for (int32_t i = 0; i < s->n; i++)
		if (isr__index(replicas, n, s->id[i]) < 0 || isr__index(s->id, i, s->id[i]) >= 0)
			return TERN_ERR__INVALID_ARG;
	return TERN_OK;
}

void isr__set_order(isr_set_t *s, const int32_t *replicas, int32_t n)
{
	isr_set_t out = {0};

	for (int32_t i = 0; i < n; i++)
		if (isr_set_contains(s, replicas[i]))
			out.id[out.n++] = replicas[i];
	*s = out;
}

bool isr__set_add(isr_set_t *s, int32_t id)
{
	if (isr_set_contains(s, id) || s->n >= ISR_MAX_REPLICAS)
		return false;
	s->id[s->n++] = id;
	return true;
}

bool isr__set_remove(isr_set_t *s, int32_t id)
{
	int i = isr__index(s->id, s->n, id);

	if (i < 0)
		return false;
	memmove(&s->id[i], &s->id[i + 1], (size_t)(s->n - i - 1) * sizeof s->id[0]);
	s->n--;
	return true;
}

bool isr__set_subset(const isr_set_t *a, const isr_set_t *b)
{
	for (int32_t i = 0; i < a->n; i++)
		if (!isr_set_contains(b, a->id[i]))
			return false;
	return true;
}

bool isr__set_equal(const isr_set_t *a, const isr_set_t *b)
{
	return a->n == b->n && isr__set_subset(a, b);
}

int32_t isr__effective_min(int32_t min_insync, int32_t nreplicas)
{
	return min_insync < nreplicas ? min_insync : nreplicas;
}

bool isr__recovered(int32_t isr_n, int32_t nreplicas)
{
	return isr_n >= 2 || isr_n >= nreplicas;
}

isr_mode_t isr__mode(bool has_leader, int32_t isr_n, int32_t effective_min, bool recovering,
		     int32_t nreplicas)
{
	if (!has_leader)
		return ISR_MODE_OFFLINE;
	if (isr_n < effective_min)
		return ISR_MODE_FLOOR;
	if (recovering)
		return ISR_MODE_RECOVERY;
	if (isr_n < nreplicas)
		return ISR_MODE_DEGRADED;
	return ISR_MODE_TARGET;
}

const char *isr_mode_name(isr_mode_t m)
{
	switch (m) {
	case ISR_MODE_OFFLINE:
		return "offline";
	case ISR_MODE_FLOOR:
		return "floor";
	case ISR_MODE_RECOVERY:
		return "recovery";
	case ISR_MODE_DEGRADED:
		return "degraded";
	case ISR_MODE_TARGET:
		return "target";
	}
	return "unknown";
}
