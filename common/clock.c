/* The monotonic clock and condition variables on it; see clock.h. */
#include <errno.h>
#include <time.h>

#include "common/clock.h"

int64_t tern_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tern_cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

int tern_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t deadline_ms)
{
	struct timespec ts;

	if (deadline_ms < 0)
		return pthread_cond_wait(cv, m);
	ts.tv_sec = deadline_ms / 1000;
	ts.tv_nsec = (deadline_ms % 1000) * 1000000L;
	return pthread_cond_timedwait(cv, m, &ts);
}
