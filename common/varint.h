/* common/varint.h: Kafka's varints (int32) and varlongs (int64), shared by
 * log/ and proto/: zigzag, then unsigned LEB128, least significant group
 * first. The decoders take untrusted input and never read past len. */
#ifndef TERN_COMMON_VARINT_H
#define TERN_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define TERN__VARINT_MAX  5  /* bytes an int32 can take */
#define TERN__VARLONG_MAX 10 /* bytes an int64 can take */

static inline uint32_t tern__zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static inline uint64_t tern__zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline size_t tern__uleb_size(uint64_t u)
{
	size_t n = 1;

	while (u >= 0x80) {
		u >>= 7;
		n++;
	}
	return n;
}

/* Writes u at p (room for tern__uleb_size(u) bytes) and returns the size. */
static inline size_t tern__uleb_put(uint8_t *p, uint64_t u)
{
	size_t n = 0;

	while (u >= 0x80) {
		p[n++] = (uint8_t)(u | 0x80);
		u >>= 7;
	}
	p[n++] = (uint8_t)u;
	return n;
}

/* Reads an unsigned LEB128 of at most maxbytes bytes holding a value of at
 * most bits bits. Returns the bytes consumed; 0 when p[0..len) ends before
 * the last byte; -1 when the encoding is longer than maxbytes or its last
 * byte carries bits beyond the width (Kafka's "varint is too long"). Non-
 * minimal encodings within maxbytes are accepted, as Kafka accepts them. */
static inline int tern__uleb_get(const uint8_t *p, size_t len, unsigned maxbytes, unsigned bits,
                                uint64_t *out)
{
	uint64_t u = 0;

	for (unsigned i = 0; i < maxbytes; i++) {
		uint64_t b;

		if (i == len)
			return 0;
		b = p[i];
		u |= (b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (i == maxbytes - 1 && (b >> (bits - 7 * i)) != 0)
				return -1;
			*out = u;
			return (int)i + 1;
		}
	}
	return -1;
}

static inline size_t tern__varint_size(int32_t v)
{
	return tern__uleb_size(tern__zigzag32(v));
}

static inline size_t tern__varlong_size(int64_t v)
{
	return tern__uleb_size(tern__zigzag64(v));
}

static inline size_t tern__varint_put(uint8_t *p, int32_t v)
{
	return tern__uleb_put(p, tern__zigzag32(v));
}

static inline size_t tern__varlong_put(uint8_t *p, int64_t v)
{
	return tern__uleb_put(p, tern__zigzag64(v));
}

/* Decoders: as tern__uleb_get; *v is written only on success. */
static inline int tern__varint_get(const uint8_t *p, size_t len, int32_t *v)
{
	uint64_t u;
	int n = tern__uleb_get(p, len, TERN__VARINT_MAX, 32, &u);

	if (n > 0)
		*v = (int32_t)(uint32_t)((u >> 1) ^ -(u & 1));
	return n;
}

static inline int tern__varlong_get(const uint8_t *p, size_t len, int64_t *v)
{
	uint64_t u;
	int n = tern__uleb_get(p, len, TERN__VARLONG_MAX, 64, &u);

	if (n > 0)
		*v = (int64_t)((u >> 1) ^ -(u & 1));
	return n;
}

#endif
