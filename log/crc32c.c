/* log/crc32c.c: CRC-32C (Castagnoli), the checksum of RecordBatch v2. The
 * SSE4.2 instruction when the CPU has it, slicing-by-8 tables otherwise. */
#include <pthread.h>
#include <string.h>

#ifdef TERN_HAVE_SSE42_TARGET
#include <nmmintrin.h>
#endif

#include "log.h"
#include "crc32c_int.h"

#define CRC32C_POLY 0x82F63B78u /* reflected Castagnoli polynomial */

/* crc_table[k][b] is the CRC of byte b followed by k zero bytes, so that
 * eight table lookups advance the CRC over eight bytes at once. */
static uint32_t crc_table[8][256];

/* The hardware path runs three independent streams over adjacent blocks of
 * CRC_BLOCK bytes (crc32q has a latency of 3 cycles and a throughput of 1,
 * so one dependent chain uses a third of the unit), then joins them:
 * shift_table[k][b] is the CRC register of byte b at position k of a
 * register followed by CRC_BLOCK zero bytes, and the register is linear in
 * its bytes, so four lookups move a stream's CRC past the next block. */
#define CRC_BLOCK 1024
static uint32_t shift_table[4][256];
static uint32_t (*crc_impl)(uint32_t, const void *, size_t);
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static uint32_t crc_sw(uint32_t crc, const void *buf, size_t len);

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = crc_table[0][n];

		for (int k = 1; k < 8; k++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[k][n] = c;
		}
	}
	for (uint32_t k = 0; k < 4; k++) {
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t c = b << (8 * k);

			for (int i = 0; i < CRC_BLOCK; i++)
				c = crc_table[0][c & 0xff] ^ (c >> 8);
			shift_table[k][b] = c;
		}
	}
	crc_impl = log__crc32c_hw_available() ? log__crc32c_hw : crc_sw;
}

/* The register c moved past CRC_BLOCK zero bytes. */
static inline uint32_t crc_shift(uint32_t c)
{
	return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^
	       shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

/* Bytes are assembled little-endian by hand, so the tables work the same
 * on any host byte order and alignment. */
static uint32_t crc_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	while (len >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				   (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;

		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

uint32_t log__crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return crc_sw(crc, buf, len);
}

#ifdef TERN_HAVE_SSE42_TARGET

/* Three crc32q chains over adjacent blocks while at least three blocks are
 * left (see shift_table), then one chain. Unaligned 8-byte loads cost
 * nothing extra on the CPUs that have SSE4.2, so only the tail is done
 * bytewise. */
__attribute__((target("sse4.2"))) uint32_t log__crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	if (len >= 3 * CRC_BLOCK)
		pthread_once(&crc_once, crc_init);
	while (len >= 3 * CRC_BLOCK) {
		uint64_t c1 = 0, c2 = 0;

		for (size_t i = 0; i < CRC_BLOCK; i += 8) {
			uint64_t v0, v1, v2;

			memcpy(&v0, p + i, 8);
			memcpy(&v1, p + CRC_BLOCK + i, 8);
			memcpy(&v2, p + 2 * CRC_BLOCK + i, 8);
			c = _mm_crc32_u64(c, v0);
			c1 = _mm_crc32_u64(c1, v1);
			c2 = _mm_crc32_u64(c2, v2);
		}
		c = crc_shift(crc_shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * CRC_BLOCK;
		len -= 3 * CRC_BLOCK;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

bool log__crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}

#else

uint32_t log__crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return log__crc32c_sw(crc, buf, len);
}

bool log__crc32c_hw_available(void)
{
	return false;
}

#endif

uint32_t log_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return crc_impl(crc, buf, len);
}
