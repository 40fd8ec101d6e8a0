/* log/crc32c_int.h: the two CRC-32C implementations behind log_crc32c(),
 * private to log/ and exposed for its tests. */
#ifndef TERN_LOG_CRC32C_INT_H
#define TERN_LOG_CRC32C_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Both have log_crc32c()'s contract (inversions inside, 0 to start). */

/* Portable, table-driven (slicing-by-8). */
uint32_t log__crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* The SSE4.2 crc32 instruction. Call it only when log__crc32c_hw_available():
 * elsewhere it would fault. In builds without the SSE4.2 path it is the
 * software one, so that callers need no #ifdef. */
uint32_t log__crc32c_hw(uint32_t crc, const void *buf, size_t len);

/* Whether this build has the SSE4.2 path and this CPU can run it. */
bool log__crc32c_hw_available(void);

#endif
