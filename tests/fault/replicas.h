/* tests/fault/replicas.h: what a replica holds, read from its partition
 * directory, and whether two replicas hold the same log (TESTING.md
 * scenarios 6 and 8: "logs match after heal").
 *
 * A replica is the list of its batches in offset order: base and last
 * offset, partition leader epoch, CRC and length, from every segment file
 * (NNNNNNNNNNNNNNNNNNNN.log) of the directory. Reading stops in a segment at
 * the first header that does not parse or runs past the file's end (a
 * preallocated tail, an append in progress). Segment boundaries are the
 * replica's own and do not matter; the CRC covers the records, so equal
 * batch lists are equal logs. */
#ifndef TERN_TESTS_FAULT_REPLICAS_H
#define TERN_TESTS_FAULT_REPLICAS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_batch {
	int64_t base_offset, last_offset;
	int32_t leader_epoch;
	int32_t length;
	uint32_t crc;
} rp_batch_t;

/* The base offsets of dir's segment files, ascending, in a malloc'd array
 * (*bases; NULL when none). 0, or -1 with why (the directory cannot be
 * read, out of memory). */
int rp_segments(const char *dir, int64_t **bases, size_t *n, char *why, size_t whylen);

/* Every whole batch of the replica in dir, in a malloc'd array (*out; NULL
 * when none). 0, or -1 with why. */
int rp_read(const char *dir, rp_batch_t **out, size_t *n, char *why, size_t whylen);

/* Compares replica a (na batches) with b. Pure.
 *   RP_SAME: the same batches;
 *   RP_PREFIX: one is a proper prefix of the other (a follower behind);
 *   RP_DIFFER: they part at some batch, described in why. */
typedef enum rp_cmp { RP_SAME, RP_PREFIX, RP_DIFFER } rp_cmp_t;
rp_cmp_t rp_compare(const rp_batch_t *a, size_t na, const rp_batch_t *b, size_t nb, char *why,
		    size_t whylen);

#endif
