/* tests/fault/scenarios_env.h: the scenarios of TESTING.md whose faults
 * come from a broker's surroundings rather than its process or its links
 * alone: a full or failing disk (13), a corrupt replica (14), a skewed clock (15), a
 * slow and lossy network (16), and the soak that mixes them with crashes,
 * pauses and partitions (17). Their rows are in scenarios.c's table; the
 * bodies are in scenarios_env.c (scenario.h says what a body may do). */
#ifndef TERN_TESTS_FAULT_SCENARIOS_ENV_H
#define TERN_TESTS_FAULT_SCENARIOS_ENV_H

#include <stddef.h>

#include "scenario.h"

/* The size of every broker's private tmpfs in disk-full, and in soak: the
 * workload writes some 30 KB/s to each broker, so a soak of more than
 * about four hours needs more. */
#define ENV_TMPFS_BYTES	     ((size_t)64 << 20)
#define ENV_SOAK_TMPFS_BYTES ((size_t)512 << 20)

/* The topic configs of corrupt-replica and soak: small segments, so that
 * closed segments exist within seconds (NULL-ended). */
extern const char *const env_small_segments[];

/* 13. Fill a follower's disk, then the leader's: each leaves the ISR (a
 * leader gives up leadership), nothing is lost or corrupted, and each
 * rejoins once its disk has room again. */
int env_disk_full(sc_ctx_t *x, char *why, size_t whylen);

/* 13 (disk errors). Every write and fsync of a follower, then of the
 * leader, fails with EIO: each leaves the ISR (a leader gives up
 * leadership) with its logs offline, nothing is lost, and each rejoins
 * once restarted on a working disk. */
int env_disk_errors(sc_ctx_t *x, char *why, size_t whylen);

/* 14. Flip bits in a closed segment of the running leader, then truncate
 * one, then truncate one of a stopped replica that is made leader again;
 * reads from the start find each (or the restart does), the replica leaves
 * the ISR, is not elected while corrupt, cuts its log and rejoins. */
int env_corrupt_replica(sc_ctx_t *x, char *why, size_t whylen);

/* 15. The leader of partition 0 restarted 300 s ahead, another broker 300 s
 * behind: nothing is lost and no timeout fires because of the skew.
 * SC_SKIP without libfaketime. */
int env_clock_skew(sc_ctx_t *x, char *why, size_t whylen);

/* 16. One broker, then another, behind a delayed and lossy network: nothing
 * is lost; ISR flaps and the longest unavailability are reported. */
int env_slow_network(sc_ctx_t *x, char *why, size_t whylen);

/* 17. For the whole duration, a random mix of the faults above and of
 * kill -9, SIGSTOP and partitions, one at a time, each held a few seconds
 * and healed. */
int env_soak(sc_ctx_t *x, char *why, size_t whylen);

#endif
