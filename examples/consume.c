/* examples/consume.c: the smallest useful consumer: reads every partition
 * of TOPIC from the beginning (or from the group's committed offsets with
 * GROUP), prints "<partition> <offset> <value>" a line, and exits once each
 * partition has reached its end.
 *
 *	consume tcp://127.0.0.1:9700 events [GROUP] */
#include <stdio.h>
#include <string.h>

#include <tern/consumer.h>

int main(int argc, char **argv)
{
	char err[256];
	const char *topics[1];
	tern_conf_t *conf;
	tern_consumer_t *c;
	static char done[4096]; /* partitions seen at their end */
	int at_end = 0, partitions = -1, status = 0;
	long records = 0;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s BOOTSTRAP TOPIC [GROUP]\n", argv[0]);
		return 2;
	}
	conf = tern_conf_new();
	if (!conf || tern_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err)) ||
	    tern_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err)) ||
	    tern_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err)) ||
	    (argc == 4 && tern_conf_set(conf, "group.id", argv[3], err, sizeof(err)))) {
		fprintf(stderr, "%s\n", conf ? err : "out of memory");
		tern_conf_destroy(conf);
		return 1;
	}
	c = tern_consumer_new(conf, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "cannot start the consumer: %s\n", err);
		tern_conf_destroy(conf);
		return 1;
	}
	topics[0] = argv[2];
	tern_consumer_subscribe(c, topics, 1);
	/* The topic's partitions are 0..n-1: count the ones seen at their end
	 * until a second of quiet says no other partition is coming. */
	for (;;) {
		tern_message_t *m;
		tern_err_t e = tern_consumer_poll(c, 1000, &m);

		if (e == TERN_OK) {
			printf("%d %lld %.*s\n", m->partition, (long long)m->offset,
			       (int)m->value_len, m->value ? (const char *)m->value : "");
			records++;
		} else if (e == TERN_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < (int)sizeof(done) &&
			    !done[m->partition]) {
				done[m->partition] = 1;
				at_end++;
			}
			if (m->partition > partitions)
				partitions = m->partition;
		} else if (e == TERN_ERR__TIMED_OUT) {
			if (partitions >= 0 && at_end >= partitions + 1)
				break;
		} else {
			fprintf(stderr, "poll: %s\n", tern_strerror(e));
			status = 1;
			tern_message_destroy(m);
			break;
		}
		tern_message_destroy(m);
	}
	fprintf(stderr, "%ld records\n", records);
	tern_consumer_close(c);
	return status;
}
