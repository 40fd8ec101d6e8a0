/* examples/produce.c: the smallest useful producer: sends COUNT records
 * "message-<i>" to TOPIC, waits for every acknowledgement and prints how
 * many arrived.
 *
 *	produce tcp://127.0.0.1:9700 events 1000 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/producer.h>

static long acked, failed;

/* Runs on the producer's sender thread, one call at a time. */
static void on_delivery(void *opaque, const tern_delivery_t *d)
{
	(void)opaque;
	if (d->err) {
		fprintf(stderr, "record not delivered: %s\n", tern_strerror(d->err));
		failed++;
	} else {
		acked++;
	}
}

int main(int argc, char **argv)
{
	char err[256];
	tern_conf_t *conf;
	tern_producer_t *p;
	long count;

	if (argc != 4) {
		fprintf(stderr, "usage: %s BOOTSTRAP TOPIC COUNT\n", argv[0]);
		return 2;
	}
	count = strtol(argv[3], NULL, 10);
	conf = tern_conf_new();
	if (!conf || tern_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err))) {
		fprintf(stderr, "%s\n", conf ? err : "out of memory");
		return 1;
	}
	p = tern_producer_new(conf, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "cannot start the producer: %s\n", err);
		tern_conf_destroy(conf);
		return 1;
	}
	for (long i = 0; i < count; i++) {
		char v[64];
		tern_err_t e;

		snprintf(v, sizeof(v), "message-%ld", i);
		e = tern_produce(p, argv[2], TERN_PARTITION_ANY, NULL, 0, v, strlen(v), NULL, 0,
				 on_delivery, NULL);
		if (e) {
			fprintf(stderr, "tern_produce: %s\n", tern_strerror(e));
			break;
		}
	}
	if (tern_producer_flush(p, 30000))
		fprintf(stderr, "flush: records still outstanding\n");
	tern_producer_destroy(p);
	printf("%ld acknowledged, %ld failed\n", acked, failed);
	return failed || acked != count ? 1 : 0;
}
