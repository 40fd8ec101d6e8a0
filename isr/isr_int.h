/* isr/isr_int.h: helpers shared by the sources of isr/ (private to isr/). */
#ifndef TERN_ISR_INT_H
#define TERN_ISR_INT_H

#include <stdio.h>

#include "isr/isr.h"

/* For the *_validate() functions, which take (char *why, size_t whylen):
 * the reason into why, and return _STATE. */
#define ISR__BROKEN(...)                                                                           \
	do {                                                                                       \
		if (why && whylen)                                                                 \
			snprintf(why, whylen, __VA_ARGS__);                                        \
		return TERN_ERR__STATE;                                                            \
	} while (0)

/* Index of id in ids[0..n), or -1. */
int isr__index(const int32_t *ids, int32_t n, int32_t id);

/* _INVALID_ARG unless n is in 1..ISR_MAX_REPLICAS and the ids are distinct
 * and >= 0. */
tern_err_t isr__check_replicas(const int32_t *replicas, int32_t n);

/* _INVALID_ARG unless s is a set (n in range, ids distinct) whose members
 * are all among replicas[0..n). */
tern_err_t isr__check_set(const isr_set_t *s, const int32_t *replicas, int32_t n);

/* s with its members in assignment order (s must lie within replicas). */
void isr__set_order(isr_set_t *s, const int32_t *replicas, int32_t n);

/* Adds id / removes id; return whether s changed. */
bool isr__set_add(isr_set_t *s, int32_t id);
bool isr__set_remove(isr_set_t *s, int32_t id);

/* a ⊆ b, and equality as sets. */
bool isr__set_subset(const isr_set_t *a, const isr_set_t *b);
bool isr__set_equal(const isr_set_t *a, const isr_set_t *b);

/* min(min.insync.replicas, replication factor). */
int32_t isr__effective_min(int32_t min_insync, int32_t nreplicas);

/* Whether a partition recovering from an unclean election has recovered: a
 * second replica is in the ISR, or the ISR holds every replica (a single
 * replica has nobody to wait for). */
bool isr__recovered(int32_t isr_n, int32_t nreplicas);

/* DESIGN.md decision 9, the first mode that matches. */
isr_mode_t isr__mode(bool has_leader, int32_t isr_n, int32_t effective_min, bool recovering,
		     int32_t nreplicas);

#endif
