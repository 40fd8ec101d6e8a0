/* Check suite 'fault': replicas.h on segment files written here. Two
 * replicas with the same batches in different segment layouts are the same
 * log; a replica behind is a prefix; a flipped CRC byte, another leader
 * epoch or another batch at an offset makes them differ; a torn tail is not
 * read. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log/log.h"
#include "replicas.h"
#include "testutil.h"

/* One batch of n records "value-BASE-i", at base with epoch. */
static uint8_t *batch(int64_t base, int n, int32_t epoch, size_t *len)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;

	log_builder_opts_default(&o);
	ck_assert_int_eq(log_batch_builder_new(&o, &b), TERN_OK);
	for (int i = 0; i < n; i++) {
		char v[64];
		int vl = snprintf(v, sizeof v, "value-%" PRId64 "-%d", base, i);

		ck_assert_int_eq(
		    log_batch_builder_add(b, 1000 + i, NULL, 0, v, (size_t)vl, NULL, 0), TERN_OK);
	}
	ck_assert_int_eq(log_batch_builder_finish(b, &buf, len), TERN_OK);
	log_batch_builder_free(b);
	log_batch_set_base_offset(buf, base);
	log_batch_set_leader_epoch(buf, epoch);
	return buf;
}

/* Appends to dir's segment file named by seg_base. */
static void append(const char *dir, int64_t seg_base, const uint8_t *p, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%020" PRId64 ".log", dir, seg_base);
	f = fopen(path, "ab");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
}

static void touch(const char *dir, const char *name)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs("not a segment", f);
	fclose(f);
}

static char *replica_dir(const char *root, const char *name)
{
	char *d = malloc(1024);

	ck_assert_ptr_nonnull(d);
	snprintf(d, 1024, "%s/%s", root, name);
	ck_assert_int_eq(mkdir(d, 0755), 0);
	return d;
}

/* Four batches of 5 records, epochs 1, 1, 2, 2, into dir: all in one
 * segment, or split at offset 10 (segments 0 and 10). */
static void write_log(const char *dir, bool split, int32_t last_epoch)
{
	for (int k = 0; k < 4; k++) {
		size_t len;
		uint8_t *b = batch(5 * k, 5, k < 2 ? 1 : k == 3 ? last_epoch : 2, &len);

		append(dir, split && k >= 2 ? 10 : 0, b, len);
		free(b);
	}
}

START_TEST(same_batches_in_other_segments_are_the_same_log)
{
	char *root = tt_mkdtemp("replicas"), *a = replica_dir(root, "a"),
	     *b = replica_dir(root, "b");
	rp_batch_t *va, *vb;
	size_t na, nb;
	char why[256];
	int64_t *bases;
	size_t nbases;

	write_log(a, false, 2);
	write_log(b, true, 2);
	/* Files that are not segments are left alone. */
	touch(b, "0000000000000000007x.log");
	touch(b, "00000000000000000000.index");
	touch(b, "leader-epoch-checkpoint");
	ck_assert_int_eq(rp_segments(b, &bases, &nbases, why, sizeof why), 0);
	ck_assert_uint_eq(nbases, 2);
	ck_assert_int_eq(bases[0], 0);
	ck_assert_int_eq(bases[1], 10);
	free(bases);

	ck_assert_int_eq(rp_read(a, &va, &na, why, sizeof why), 0);
	ck_assert_int_eq(rp_read(b, &vb, &nb, why, sizeof why), 0);
	ck_assert_uint_eq(na, 4);
	ck_assert_uint_eq(nb, 4);
	ck_assert_int_eq(va[3].base_offset, 15);
	ck_assert_int_eq(va[3].last_offset, 19);
	ck_assert_int_eq(va[3].leader_epoch, 2);
	ck_assert_int_eq(rp_compare(va, na, vb, nb, why, sizeof why), RP_SAME);
	/* One behind by a batch: a prefix, either way round. */
	ck_assert_int_eq(rp_compare(va, na - 1, vb, nb, why, sizeof why), RP_PREFIX);
	ck_assert_ptr_nonnull(strstr(why, "3 batches (to 14) vs 4 (to 19)"));
	ck_assert_int_eq(rp_compare(va, na, vb, 0, why, sizeof why), RP_PREFIX);
	free(va);
	free(vb);
	tt_rmtree(root);
	free(a);
	free(b);
	free(root);
}
END_TEST

START_TEST(another_epoch_or_crc_at_an_offset_differs)
{
	char *root = tt_mkdtemp("replicas"), *a = replica_dir(root, "a"),
	     *b = replica_dir(root, "b");
	rp_batch_t *va, *vb;
	size_t na, nb;
	char why[256];

	write_log(a, false, 2);
	write_log(b, false, 3); /* the last batch written under another epoch */
	ck_assert_int_eq(rp_read(a, &va, &na, why, sizeof why), 0);
	ck_assert_int_eq(rp_read(b, &vb, &nb, why, sizeof why), 0);
	ck_assert_int_eq(rp_compare(va, na, vb, nb, why, sizeof why), RP_DIFFER);
	ck_assert_ptr_nonnull(strstr(why, "batch 3: [15..19] epoch 2"));
	ck_assert_ptr_nonnull(strstr(why, "vs [15..19] epoch 3"));
	/* Same offsets and epoch, other records: the CRC tells. */
	vb[3].leader_epoch = 2;
	ck_assert_int_eq(rp_compare(va, na, vb, nb, why, sizeof why), RP_SAME);
	vb[1].crc ^= 1;
	ck_assert_int_eq(rp_compare(va, na, vb, nb, why, sizeof why), RP_DIFFER);
	ck_assert_ptr_nonnull(strstr(why, "batch 1:"));
	free(va);
	free(vb);
	tt_rmtree(root);
	free(a);
	free(b);
	free(root);
}
END_TEST

START_TEST(a_torn_tail_and_a_missing_directory)
{
	char *root = tt_mkdtemp("replicas"), *a = replica_dir(root, "a"), *c;
	rp_batch_t *v;
	size_t n, len;
	char why[256];
	uint8_t *b = batch(20, 5, 2, &len), zeros[4096] = {0};

	write_log(a, true, 2);
	append(a, 10, b, len / 2); /* an append cut short */
	ck_assert_int_eq(rp_read(a, &v, &n, why, sizeof why), 0);
	ck_assert_uint_eq(n, 4);
	free(v);
	free(b);
	/* A preallocated, zeroed tail neither. */
	c = replica_dir(root, "c");
	write_log(c, false, 2);
	append(c, 0, zeros, sizeof zeros);
	ck_assert_int_eq(rp_read(c, &v, &n, why, sizeof why), 0);
	ck_assert_uint_eq(n, 4);
	free(v);
	free(c);

	strcat(a, "/none");
	ck_assert_int_eq(rp_read(a, &v, &n, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "/none: No such file or directory"));
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	tt_rmtree(root);
	free(a);
	free(root);
}
END_TEST

static Suite *replicas_suite(void)
{
	Suite *s = suite_create("replicas");
	TCase *tc = tcase_create("files");

	tcase_add_test(tc, same_batches_in_other_segments_are_the_same_log);
	tcase_add_test(tc, another_epoch_or_crc_at_an_offset_differs);
	tcase_add_test(tc, a_torn_tail_and_a_missing_directory);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tt_run(replicas_suite());
}
