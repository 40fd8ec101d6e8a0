/* tests/zkserver.h: a ZooKeeper server for tests (TESTING.md, "ZooKeeper in
 * tests"): java -cp <jars> org.apache.zookeeper.server.ZooKeeperServerMain
 * CFG in a process group of its own, its output in DIR/zk.log, ready once
 * it answers "srvr", stopped with SIGKILL. The classpath is
 * /usr/share/java's zookeeper.jar, zookeeper-jute.jar and slf4j-api.jar
 * (libzookeeper-java; slf4j-simple.jar too when present, so that the log
 * lands in zk.log), or TERN_ZK_CLASSPATH. */
#ifndef TERN_TESTS_ZKSERVER_H
#define TERN_TESTS_ZKSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct tt_zk {
	pid_t pid; /* -1: not running */
	int port;
	char *dir; /* zoo.cfg, zk.log and data/ (malloc()ed) */
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

/* Whether a server answers "srvr" on 127.0.0.1:port now. */
bool tt_zk_ready(int port);

/* SIGKILL to its process group, then waitpid; keeps the files and dir.
 * Safe on a server that is not running. */
void tt_zk_stop(tt_zk_t *z);

/* Stops it and frees dir (the files stay). */
void tt_zk_fini(tt_zk_t *z);

/* Prints the server's log on stderr. */
void tt_zk_dump_log(const tt_zk_t *z);

#endif
