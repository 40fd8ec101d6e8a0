/* broker/broker.h: ternd, the broker, as a module: start a broker on a
 * configuration, serve until told to stop, stop cleanly. ternd.c is a thin
 * main() around it; tests and tern-cluster drive the same calls.
 *
 * One process is one broker with the embedded controller (DESIGN.md
 * decision 7): topic metadata lives in a file of the data directory, every
 * partition is led by this broker and runs the isr/ state machine with one
 * replica. docs/broker.md describes what each API does. */
#ifndef TERN_BROKER_BROKER_H
#define TERN_BROKER_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/config.h"
#include "tern/errors.h"

/* Exit statuses of ternd, so that scripts can tell failures apart. */
enum broker_exit {
	BROKER_EXIT_OK = 0,
	BROKER_EXIT_FAILURE = 1,     /* anything else: see the message */
	BROKER_EXIT_USAGE = 2,	     /* bad command line or configuration */
	BROKER_EXIT_ADDR_IN_USE = 3, /* a listener's port is taken */
	BROKER_EXIT_NO_IO_URING = 4, /* the kernel refuses io_uring */
};

typedef struct broker broker_t;

/* Opens the data directory (the first of log.dirs; more than one is refused),
 * reads the metadata file, opens every partition's log (recovering after an
 * unclean stop), starts each partition's leader epoch anew (DESIGN.md
 * decision 10) and binds the listeners. Nothing is served until
 * broker_start(). cfg is borrowed: it must stay unchanged until
 * broker_stop() returns. Errors: tern_err_errno(EADDRINUSE) when a port is
 * taken, _UNSUPPORTED when the kernel refuses io_uring, INVALID_CONFIG for
 * settings this broker cannot serve (several data directories, ZooKeeper),
 * others from the log and the transport; errstr says what and where.
 * Threads: the caller's only. */
tern_err_t broker_open(const broker_config_t *cfg, broker_t **out, char *errstr, size_t errlen);

/* The absolute path of the data directory, and the listener URLs bound
 * (borrowed, valid until broker_stop()). */
const char *broker_data_dir(const broker_t *b);
size_t broker_listener_count(const broker_t *b);
const char *broker_listener(const broker_t *b, size_t i);

/* Starts the request workers (num.io.threads per listener) and the timer
 * thread that answers long polls and expired produce requests. */
tern_err_t broker_start(broker_t *b);

/* Stops accepting requests, answers the ones in flight (parked fetches now,
 * produce requests once their appends complete), closes every log (which
 * writes the checkpoints and the clean-shutdown marker), closes the
 * listeners and frees b. Returns the first error met while closing; b is
 * freed either way. Threads: the caller of broker_open(), once. */
tern_err_t broker_stop(broker_t *b);

/* The port of the metrics endpoint, or -1 when none is served. */
int broker_metrics_port(const broker_t *b);

/* Whether the process only runs the controller (process.roles=controller). */
bool broker_is_controller_only(const broker_t *b);

#endif
