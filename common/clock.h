/* common/clock.h: the monotonic clock every deadline in Tern is measured
 * on, and condition variables that wait on it (a wall-clock jump must never
 * stretch or cut a timeout). */
#ifndef TERN_COMMON_CLOCK_H
#define TERN_COMMON_CLOCK_H

#include <pthread.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds (the clock of proto_now_ms() too). */
int64_t tern_mono_ms(void);

/* pthread_cond_init() with CLOCK_MONOTONIC: 0 or an errno value. */
int tern_cond_init_mono(pthread_cond_t *cv);

/* Waits on cv (made by tern_cond_init_mono) with m held until it is
 * signalled or the monotonic clock reaches deadline_ms (-1: no deadline).
 * Returns 0, or ETIMEDOUT when the deadline passed. */
int tern_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t deadline_ms);

#endif
