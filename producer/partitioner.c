/* producer/partitioner.c: Kafka's key hash (Utils.murmur2 of the Java
 * client, MurmurHash2 with seed 0x9747b28c), so that a key lands on the
 * partition Kafka's clients would choose. */
#include "producer/producer_int.h"

int32_t prod_murmur2(const void *key, size_t len)
{
	const uint8_t *d = key;
	const uint32_t m = 0x5bd1e995;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t i, n4 = len / 4, rest = len & 3;

	for (i = 0; i < n4; i++) {
		const uint8_t *q = d + 4 * i;
		uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
			     (uint32_t)q[3] << 24;

		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	/* The tail, as the Java switch falls through from 3 to 1. */
	if (rest == 3)
		h ^= (uint32_t)d[len - rest + 2] << 16;
	if (rest >= 2)
		h ^= (uint32_t)d[len - rest + 1] << 8;
	if (rest >= 1) {
		h ^= (uint32_t)d[len - rest];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32_t)h;
}

int32_t prod_key_partition(const void *key, size_t len, int32_t n)
{
	return prod_to_positive(prod_murmur2(key, len)) % n;
}
