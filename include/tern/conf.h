/* tern/conf.h: the configuration object of libtern's clients. One
 * tern_conf_t serves the producer (tern/producer.h) and the consumer
 * (tern/consumer.h): keys and values are Kafka's and librdkafka's names,
 * checked when they are set against every scope that knows the key, and
 * the client that takes the conf applies the keys of its own scope
 * (docs/producer.md and docs/consumer.md list them). A key of the other
 * scope is kept and ignored. */
#ifndef TERN_CONF_H
#define TERN_CONF_H

#include <stddef.h>

#include "tern/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_conf tern_conf_t;

/* Log levels, syslog's numbers (librdkafka's log_level). */
enum tern_log_level {
	TERN_LOG_ERR = 3,
	TERN_LOG_WARNING = 4,
	TERN_LOG_NOTICE = 5,
	TERN_LOG_INFO = 6,
	TERN_LOG_DEBUG = 7,
};

/* Where libtern's log lines go: level (enum tern_log_level), a short stable
 * id ("METADATA", "RETRY", ...) and the line, without a newline. Called
 * from libtern's own threads (the producer's sender thread, the consumer's
 * fetcher thread) and from the threads that call into the client; it must
 * not call back into the client that logs. libtern never prints: without a callback lines are dropped. */
typedef void(tern_log_cb)(void *opaque, int level, const char *id, const char *line);

/* A new conf with every key at its default; NULL when memory is short. */
tern_conf_t *tern_conf_new(void);

/* Sets key to value. Unknown keys and bad values return
 * TERN_ERR_INVALID_CONFIG with one line naming the key and what is allowed
 * in errstr (for example "acks: '2' is not one of all, -1, 1, 0"); the conf
 * is then unchanged. TERN_ERR__NOMEM when memory is short.
 * Threads: a conf is used by one thread at a time. */
tern_err_t tern_conf_set(tern_conf_t *conf, const char *key, const char *value, char *errstr,
			 size_t errlen);

/* The value of key as text (malloc()ed into *out, the caller frees it):
 * what was set, else the default. TERN_ERR_INVALID_CONFIG for an unknown
 * key. */
tern_err_t tern_conf_get(const tern_conf_t *conf, const char *key, char **out);

/* Sets the log callback and its opaque (NULL: drop log lines) and the
 * most verbose level passed to it (log_level, default TERN_LOG_INFO);
 * lines above it cost no formatting. */
void tern_conf_set_log_cb(tern_conf_t *conf, tern_log_cb *cb, void *opaque);

/* Frees a conf that no client took. NULL is fine. */
void tern_conf_destroy(tern_conf_t *conf);

#ifdef __cplusplus
}
#endif
#endif
