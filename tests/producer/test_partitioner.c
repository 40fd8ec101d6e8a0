/* tests/producer/test_partitioner.c: Kafka's murmur2 and key -> partition
 * mapping against published vectors, and the producer's config table. */
#include <stdlib.h>
#include <string.h>

#include "producer/producer_int.h"
#include "testutil.h"

/* Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
 * (testMurmur2) and librdkafka's src/rdmurmur2.c (unittest_murmur2,
 * java_murmur2_results). */
static const struct {
	const char *key;
	int32_t hash;
} vectors[] = {
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
	{"kafka", (int32_t)0xd067cf64},
	{"giberish123456789", (int32_t)0x8f552b0c},
	{"1234", (int32_t)0x9fc97b14},
	{"234", (int32_t)0xe7c009ca},
	{"34", (int32_t)0x873930da},
	{"4", (int32_t)0x5a4b5ca1},
	{"PreAmbleWillBeRemoved,ThePrePartThatIs", (int32_t)0x78424f1c},
	{"reAmbleWillBeRemoved,ThePrePartThatIs", (int32_t)0x4a62b377},
	{"", (int32_t)0x106e08d9},
};

START_TEST(murmur2_matches_kafka_and_librdkafka_vectors)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		ck_assert_msg(prod_murmur2(vectors[i].key, strlen(vectors[i].key)) == vectors[i].hash,
			      "murmur2(%s)", vectors[i].key);
}
END_TEST

START_TEST(key_partition_is_to_positive_mod_n)
{
	/* toPositive(-790332482) = 1357151166: 1357151166 % 10 = 6, % 50 = 16
	 * (pairs other Kafka-compatible clients check against Kafka too). */
	ck_assert_int_eq(prod_key_partition("foobar", 6, 10), 6);
	ck_assert_int_eq(prod_key_partition("foobar", 6, 50), 16);
	ck_assert_int_eq(prod_key_partition("21", 2, 7), (-973932308 & 0x7fffffff) % 7);
	for (int32_t n = 1; n < 40; n++)
		ck_assert_int_lt(prod_key_partition("kafka", 5, n), n);
}
END_TEST

START_TEST(conf_defaults_are_kafkas)
{
	tern_conf_t *c = tern_conf_new();
	static const char *want[][2] = {
		{"acks", "all"},
		{"enable.idempotence", "true"},
		{"linger.ms", "5"},
		{"batch.size", "1000000"},
		{"compression.type", "zstd"},
		{"buffer.memory", "33554432"},
		{"max.block.ms", "60000"},
		{"retries", "2147483647"},
		{"retry.backoff.ms", "100"},
		{"delivery.timeout.ms", "120000"},
		{"request.timeout.ms", "30000"},
		{"max.in.flight.requests.per.connection", "5"},
		{"partitioner", "murmur2_random"},
	};

	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *v = NULL;

		ck_assert_int_eq(tern_conf_get(c, want[i][0], &v), TERN_OK);
		ck_assert_msg(strcmp(v, want[i][1]) == 0, "%s = %s", want[i][0], v);
		free(v);
	}
	tern_conf_destroy(c);
}
END_TEST

START_TEST(conf_refuses_bad_values_with_clear_messages)
{
	tern_conf_t *c = tern_conf_new();
	char err[256];

	ck_assert_int_eq(tern_conf_set(c, "acks", "2", err, sizeof(err)), TERN_ERR_INVALID_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "acks"));
	ck_assert_int_eq(tern_conf_set(c, "no.such.key", "1", err, sizeof(err)),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "no.such.key"));
	ck_assert_int_eq(tern_conf_set(c, "bootstrap.servers", "localhost:9700", err, sizeof(err)),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "tcp://HOST:PORT"));
	ck_assert_int_eq(tern_conf_set(c, "linger.ms", "-1", err, sizeof(err)),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_int_eq(tern_conf_set(c, "acks", "1", err, sizeof(err)), TERN_OK);
	/* Explicit idempotence with acks=1 is refused when the producer starts. */
	ck_assert_int_eq(tern_conf_set(c, "enable.idempotence", "true", err, sizeof(err)), TERN_OK);
	ck_assert_ptr_null(tern_producer_new(c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "acks must be all"));
	tern_conf_destroy(c);
}
END_TEST

START_TEST(conf_table_defaults_pass_their_own_checks)
{
	prod_config_t cfg;
	char err[256];

	ck_assert_int_eq(tern_conf_init(&prod_config_table, &cfg, err, sizeof(err)), TERN_OK);
	tern_conf_free(&prod_config_table, &cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("producer_partitioner");
	TCase *tc = tcase_create("all");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, murmur2_matches_kafka_and_librdkafka_vectors);
	tcase_add_test(tc, key_partition_is_to_positive_mod_n);
	tcase_add_test(tc, conf_defaults_are_kafkas);
	tcase_add_test(tc, conf_refuses_bad_values_with_clear_messages);
	tcase_add_test(tc, conf_table_defaults_pass_their_own_checks);
	suite_add_tcase(s, tc);
	return tt_run(s);
}
