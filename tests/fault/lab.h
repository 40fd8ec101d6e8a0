/* tests/fault/lab.h: the fault harness's network (TESTING.md, "Hosts"): one
 * network namespace per host, each joined by a veth pair to a bridge that
 * lives in a hub namespace of its own, each host at 10.77.0.(10 + i)/24, with
 * loopback up. Nothing is named in /run/netns: every namespace is held by a
 * small holder process (PR_SET_PDEATHSIG(SIGKILL), own process group), so a
 * lab dies with the process that made it, even after a crash.
 *
 * The network nemeses act inside the hosts' namespaces with nftables:
 * a partition drops every packet between two hosts, both ways; loss drops a
 * random share of a host's incoming and outgoing packets (numgen random);
 * delay sends a host's outgoing TCP connections through a delay proxy that
 * holds every chunk of bytes for the given time in each direction.
 *
 * Library code: nothing prints; errors come back as -1 with the reason in
 * (why, whylen). Needs root, veth, bridges and nftables: lab_available() says
 * whether this machine has them (callers skip with exit 77 otherwise).
 *
 * One thread at a time calls a lab's functions, and the thread that called
 * lab_new() and lab_spawn() must outlive what they started: the holders and
 * the spawned processes die with it (PR_SET_PDEATHSIG is per thread). */
#ifndef TERN_TESTS_FAULT_LAB_H
#define TERN_TESTS_FAULT_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LAB_MAX_HOSTS 8

typedef struct lab lab_t;

/* Whether namespaces, veth, bridges and nft work here; why not in why. */
bool lab_available(char *why, size_t whylen);

/* A lab of nhosts hosts (1..LAB_MAX_HOSTS), host i at lab_addr(l, i).
 * NULL with the reason in why on failure (nothing is left behind). */
lab_t *lab_new(int nhosts, char *why, size_t whylen);
/* A lab for a machine without namespaces (not root): every host runs in
 * the caller's network namespace at 127.77.0.(10 + i) (all of 127/8 is
 * loopback), lab_enter does nothing, lab_spawn cannot give a private tmpfs,
 * and the network nemeses fail with a reason (lab_heal* succeed: nothing
 * is ever in force). What needs no network fault (crashes, pauses, power
 * loss, disk errors, clock skew) runs the same. */
lab_t *lab_new_loopback(int nhosts, char *why, size_t whylen);
bool lab_is_loopback(const lab_t *l);

/* Stops the delay proxies, then kills the holders (and with them the
 * namespaces and the bridge). Processes started with lab_spawn() and not
 * yet reaped by the caller are killed too (SIGKILL to their groups) and
 * reaped. NULL is fine. */
void lab_free(lab_t *l);

int lab_hosts(const lab_t *l);
/* "10.77.0.(10 + i)"; NULL for no such host. */
const char *lab_addr(const lab_t *l, int host);
/* The pid of the process holding host's namespace (host -1: the hub's); -1
 * for no such host and in a loopback lab. For tests of the lab itself. */
pid_t lab_holder(const lab_t *l, int host);

/* Moves the calling thread into host's network namespace (setns). Call it
 * from the main thread before any other thread exists (threads inherit it;
 * nanomsg's worker threads start with the first socket) to make a whole
 * process a client on that host. */
int lab_enter(lab_t *l, int host, char *why, size_t whylen);

/* Starts argv (argv[0] a path) on host: fork, setns into the host's network
 * namespace, setpgid(0, 0), PR_SET_PDEATHSIG(SIGKILL), stdin from
 * /dev/null, stdout and stderr appended to out_path and err_path (NULL:
 * /dev/null), environment plus env (NULL-terminated "K=V" strings, may be
 * NULL). With private_tmpfs (a directory path) the child also gets a private
 * mount namespace with a tmpfs of tmpfs_bytes mounted on that path (for the
 * disk-full nemesis; the files are reachable from outside through
 * /proc/PID/root/PATH). Returns the pid once the exec has happened (an exec
 * that fails is reported in why), -1 on failure. */
pid_t lab_spawn(lab_t *l, int host, char *const argv[], const char *const *env,
		const char *out_path, const char *err_path, const char *private_tmpfs,
		size_t tmpfs_bytes, char *why, size_t whylen);
/* Runs argv on host to completion (like lab_spawn, standard output and
 * error appended to out_path) and returns its exit status (0..255), -1 when
 * it could not run or was killed, after at most timeout_ms (then SIGKILL). */
int lab_run(lab_t *l, int host, char *const argv[], const char *out_path, int timeout_ms, char *why,
	    size_t whylen);
/* Tells the lab that the caller reaped pid (from lab_spawn) itself, so that
 * lab_free never signals a pid that may have been reused. */
void lab_forget(lab_t *l, pid_t pid);

/* Network nemeses. Each returns 0 or -1 with why; heal undoes exactly what
 * the matching call did and is safe to call when nothing is in force. */

/* Drops every packet between hosts a and b, both directions. */
int lab_partition(lab_t *l, int a, int b, char *why, size_t whylen);
int lab_heal_partition(lab_t *l, int a, int b, char *why, size_t whylen);
/* Drops pct percent (0..100) of host's packets, in and out, on its eth0
 * (loopback is spared); pct 0 removes the loss. */
int lab_loss(lab_t *l, int host, int pct, char *why, size_t whylen);
/* Delays every TCP byte on the connections host opens to other lab hosts by
 * delay_ms each way: nft redirects them in the host's namespace to a proxy
 * (a thread of the calling process that setns()ed into that namespace; its
 * own outgoing sockets carry a mark the redirect skips) which forwards them
 * to their original destination (SO_ORIGINAL_DST). Connections opened
 * before the call are not delayed; delay_ms 0 removes the delay (and closes
 * the connections the proxy carried). A connection through the proxy is
 * accepted at once, even when its destination then refuses it or cannot be
 * reached: the client sees it closed (or silent) instead of refused. */
int lab_delay(lab_t *l, int host, int delay_ms, char *why, size_t whylen);
/* Removes every network nemesis in force on host (loss, delay, its
 * partitions). */
int lab_heal(lab_t *l, int host, char *why, size_t whylen);
/* Every host. */
int lab_heal_all(lab_t *l, char *why, size_t whylen);

#endif
