/* isr/reconcile.c: how a follower brings its log in line with a new
 * leader (OffsetForLeaderEpoch, KIP-101 and KIP-279) and what it does when
 * told OFFSET_OUT_OF_RANGE. Pure functions over the follower's epoch cache
 * and the leader's answers. */
#include "isr/isr_int.h"

static tern_err_t check_cache(const isr_epoch_entry_t *cache, size_t n, int64_t leo)
{
	if (leo < 0 || (n > 0 && !cache))
		return TERN_ERR__INVALID_ARG;
	for (size_t i = 0; i < n; i++) {
		if (cache[i].epoch < 0 || cache[i].start_offset < 0)
			return TERN_ERR__INVALID_ARG;
		if (i > 0 && (cache[i].epoch <= cache[i - 1].epoch ||
			      cache[i].start_offset < cache[i - 1].start_offset))
			return TERN_ERR__INVALID_ARG;
	}
	return TERN_OK;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

tern_err_t isr_reconcile_begin(const isr_epoch_entry_t *cache, size_t n, int64_t leo,
			       isr_reconcile_t *out)
{
	tern_err_t err = check_cache(cache, n, leo);

	if (err != TERN_OK)
		return err;
	out->truncate_to = leo;
	out->done = n == 0;
	out->ask_epoch = n == 0 ? ISR_NO_EPOCH : cache[n - 1].epoch;
	return TERN_OK;
}

tern_err_t isr_reconcile_step(const isr_epoch_entry_t *cache, size_t n, int64_t leo, int32_t asked,
			      int32_t leader_epoch, int64_t leader_end, isr_reconcile_t *out)
{
	tern_err_t err = check_cache(cache, n, leo);
	size_t k;
	int64_t end_of_f;

	if (err != TERN_OK)
		return err;
	if (n == 0 || asked < 0)
		return TERN_ERR__INVALID_ARG;
	/* The leader has no epoch at or below ours. Kafka's follower then
	 * truncates to its HWM, which is exactly what KIP-101 forbids (two
	 * failures in a row lose committed data that way). Under Tern's fences
	 * the answer only comes from a leader whose cache lags ours, so the
	 * follower keeps its log and asks again later. */
	if (leader_epoch == ISR_NO_EPOCH)
		return TERN_ERR_UNKNOWN_LEADER_EPOCH;
	if (leader_epoch < 0 || leader_epoch > asked || leader_end < 0)
		return TERN_ERR__INVALID_ARG;

	/* F: our largest epoch <= E'. */
	for (k = n; k > 0 && cache[k - 1].epoch > leader_epoch; k--)
		;
	if (k == 0) {
		/* Every epoch here lies in (E', asked], where the leader has
		 * none: every record here is divergent. Kafka's follower keeps
		 * them up to the leader's end offset (it assumes records from
		 * before epochs were tracked); Tern's log has an epoch on every
		 * batch, so it drops them and fetches from its log start. */
		out->done = true;
		out->truncate_to = min64(cache[0].start_offset, leo);
		out->ask_epoch = ISR_NO_EPOCH;
		return TERN_OK;
	}
	k--;
	end_of_f = k + 1 < n ? cache[k + 1].start_offset : leo;
	if (cache[k].epoch == leader_epoch) {
		/* Both logs hold E' up to the smaller of the two ends: that is
		 * where they part, if at all. */
		out->done = true;
		out->truncate_to = min64(min64(leader_end, end_of_f), leo);
		out->ask_epoch = ISR_NO_EPOCH;
		return TERN_OK;
	}
	/* The leader never had our epoch F+1.. at all (KIP-279: several
	 * leader changes in a row): everything after F here is divergent.
	 * Drop it, then ask about F. */
	out->done = false;
	out->truncate_to = min64(end_of_f, leo);
	out->ask_epoch = cache[k].epoch;
	return TERN_OK;
}

tern_err_t isr_follower_out_of_range(int64_t fetch_offset, int64_t leader_log_start,
				     int64_t leader_leo, isr_oor_action_t *action,
				     int64_t *restart_at)
{
	if (fetch_offset < 0 || leader_log_start < 0 || leader_leo < leader_log_start)
		return TERN_ERR__INVALID_ARG;
	if (fetch_offset < leader_log_start) {
		*action = ISR_OOR_RESTART_AT;
		*restart_at = leader_log_start;
	} else if (fetch_offset > leader_leo) {
		*action = ISR_OOR_RECONCILE;
	} else {
		*action = ISR_OOR_RETRY;
	}
	return TERN_OK;
}
