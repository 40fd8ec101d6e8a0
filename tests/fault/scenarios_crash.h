/* tests/fault/scenarios_crash.h: the crash, fencing and power-loss scenarios
 * of TESTING.md, bodies for rows of sc_table (scenarios.c, scenario.h):
 *   6  zombie-leader: partition 0's leader cut off from ZooKeeper and the
 *      other brokers, not from the clients;
 *   8  double-failover: the leader killed, then the new leader as soon as it
 *      is elected, both restarted, five times;
 *   10 power-loss-all-sync / -async: every broker killed and its data
 *      directory cut back to what it had fsynced, all restarted;
 *   11 last-replica-standing: under flush.policy=async, the ISR shrinks to
 *      the leader (one follower after the other), then the leader crashes
 *      and loses its unsynced tail: the follower that left the ISR last, an
 *      eligible leader replica, must lead, not the crashed leader nor the
 *      follower that left first.
 * Each returns 0, or -1 with why (scenario.h). */
#ifndef TERN_TESTS_FAULT_SCENARIOS_CRASH_H
#define TERN_TESTS_FAULT_SCENARIOS_CRASH_H

#include <stddef.h>

#include "scenario.h"

int sc_zombie_leader(sc_ctx_t *x, char *why, size_t whylen);
int sc_double_failover(sc_ctx_t *x, char *why, size_t whylen);
int sc_power_loss_all(sc_ctx_t *x, char *why, size_t whylen);
int sc_last_replica_standing(sc_ctx_t *x, char *why, size_t whylen);

#endif
