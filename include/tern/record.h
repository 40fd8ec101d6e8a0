/* tern/record.h: what a record carries besides its key and value, shared by
 * the producer (tern/producer.h) and the consumer (tern/consumer.h). */
#ifndef TERN_RECORD_H
#define TERN_RECORD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One record header. key is not NULL; value NULL is a null value (an empty
 * value has value_len 0 and a non-NULL value). */
typedef struct tern_header {
	const char *key;
	size_t key_len;
	const void *value;
	size_t value_len;
} tern_header_t;

#ifdef __cplusplus
}
#endif
#endif
