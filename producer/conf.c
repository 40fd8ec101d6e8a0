/* producer/conf.c: the checks across the producer's keys, made when a
 * producer starts. The producer's table and the conf object are in
 * client/conf.c, shared with the consumer. */
#include <stdio.h>

#include "producer/producer_int.h"

tern_err_t prod_config_resolve(const tern_conf_t *c, bool *idempotent, char *errstr, size_t errlen,
			       char *why_off, size_t whylen)
{
	const prod_config_t *p = &c->prod;
	bool idem = p->enable_idempotence;

	snprintf(why_off, whylen, "%s", "");
	if (idem) {
		const char *conflict = NULL;

		if (p->acks != -1)
			conflict = "acks must be all";
		else if (p->retries == 0)
			conflict = "retries must be above 0";
		else if (p->max_in_flight > 5)
			conflict = "max.in.flight.requests.per.connection must be at most 5";
		if (conflict && c->idempotence_set) {
			snprintf(errstr, errlen, "enable.idempotence=true: %s", conflict);
			return TERN_ERR_INVALID_CONFIG;
		}
		if (conflict) {
			/* Kafka's rule (KIP-679): a default that other keys
			 * contradict gives way to them. */
			snprintf(why_off, whylen, "idempotence off: %s for it", conflict);
			idem = false;
		}
	}
	if ((int64_t)p->delivery_timeout_ms < (int64_t)p->linger_ms + p->request_timeout_ms) {
		snprintf(errstr, errlen,
			 "delivery.timeout.ms (%d) must be at least linger.ms + request.timeout.ms "
			 "(%lld)",
			 p->delivery_timeout_ms,
			 (long long)((int64_t)p->linger_ms + p->request_timeout_ms));
		return TERN_ERR_INVALID_CONFIG;
	}
	if (p->batch_size > p->message_max_bytes) {
		snprintf(errstr, errlen, "batch.size (%d) must not exceed message.max.bytes (%d)",
			 p->batch_size, p->message_max_bytes);
		return TERN_ERR_INVALID_CONFIG;
	}
	if (p->buffer_memory < p->message_max_bytes) {
		snprintf(errstr, errlen,
			 "buffer.memory (%lld) must be at least message.max.bytes (%d)",
			 (long long)p->buffer_memory, p->message_max_bytes);
		return TERN_ERR_INVALID_CONFIG;
	}
	*idempotent = idem;
	return TERN_OK;
}
