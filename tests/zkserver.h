/* tests/zkserver.h: a ZooKeeper server for tests (TESTING.md, "ZooKeeper in
 * tests"): java -cp <jars> org.apache.zookeeper.server.ZooKeeperServerMain
 * CFG in a process group of its own, its output in DIR/zk.log, ready once
 * it answers "srvr", stopped with SIGKILL. The classpath is
 * /usr/share/java's zookeeper.jar, zookeeper-jute.jar and slf4j-api.jar
 * (libzookeeper-java; slf4j-simple.jar too when present, so that the log
 * lands in zk.log), or TERN_ZK_CLASSPATH. By default the server binds
 * 127.0.0.1 and is a child of the test; tt_zk_start_at binds another
 * address and lets the caller start the process (the fault harness runs it
 * in a lab host's network namespace). */
#ifndef TERN_TESTS_ZKSERVER_H
#define TERN_TESTS_ZKSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct tt_zk {
	pid_t pid; /* -1: not running */
	int port;
	char *dir;     /* zoo.cfg, zk.log and data/ (malloc()ed) */
	char addr[64]; /* the address it binds and is probed at ("": 127.0.0.1) */
} tt_zk_t;

/* Whether java and the jars are there; why not in why otherwise. */
bool tt_zk_available(char *why, size_t len);

/* Skips the test (77, or a failure under TERN_REQUIRE_FEATURES=1) when
 * tt_zk_available() says no. */
void tt_zk_require(void);

/* Starts a server with its files in dir (created if need be) on
 * 127.0.0.1:port and waits (at most deadline_ms) until it answers srvr.
 * The server gets PR_SET_PDEATHSIG(SIGKILL). 0 on success; -1 after
 * printing why and the server's log on stderr (z->pid is then -1). */
int tt_zk_start(tt_zk_t *z, const char *dir, int port, int deadline_ms);

/* Starts argv (argv[0] a path, NULL-terminated) with standard output and
 * error appended to log_path, in a process group of its own, as a child of
 * the caller that dies with it (PR_SET_PDEATHSIG(SIGKILL)); returns its pid,
 * or -1 with the reason in why. */
typedef pid_t (*tt_zk_spawn_fn)(void *arg, char *const argv[], const char *log_path, char *why,
				size_t whylen);

/* tt_zk_start without printing: the server binds addr (NULL: 127.0.0.1) and
 * is probed there (the caller must be able to reach it), started by spawn
 * (NULL: a fork of this process). 0 on success; -1 with the reason in why
 * (z->pid is then -1; the server's log stays in DIR/zk.log). */
int tt_zk_start_at(tt_zk_t *z, const char *dir, const char *addr, int port, int deadline_ms,
		   tt_zk_spawn_fn spawn, void *spawn_arg, char *why, size_t whylen);

/* Whether a server answers "srvr" on 127.0.0.1:port now. */
bool tt_zk_ready(int port);
/* The same at addr:port (an IPv4 address). */
bool tt_zk_ready_at(const char *addr, int port);

/* SIGKILL to its process group, then waitpid; keeps the files and dir.
 * Safe on a server that is not running. */
void tt_zk_stop(tt_zk_t *z);

/* Stops it and frees dir (the files stay). */
void tt_zk_fini(tt_zk_t *z);

/* Prints the server's log on stderr. */
void tt_zk_dump_log(const tt_zk_t *z);

#endif
