/* tests/fault/lab.c: the fault harness's hosts and network nemeses (lab.h):
 * namespaces held by holder processes, a bridge in a hub namespace, nftables
 * rules rendered from each host's state, and the TCP delay proxy. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"

extern char **environ;

/* The mark the delay proxy puts on its onward sockets: the redirect rule
 * skips marked packets, so the proxy's own connections are not redirected
 * back to it. */
#define LAB_MARK	 0x7e57
#define LAB_TOOL_MS	 10000 /* ip and nft get this long */
#define LAB_MAX_SPAWNED	 256
#define PX_CHUNK	 16384	      /* bytes read at once */
#define PX_QUEUE_MAX	 (256 * 1024) /* bytes queued per direction before reading pauses */
#define PX_MAX_PAIRS	 64	      /* connections through one proxy at once */
#define LAB_SCRIPT_BYTES 4096

/* ---- small helpers ---- */

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where ip or nft lives: PATH may lack the sbin directories. */
static int tool_path(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Runs argv (argv[0] "ip" or "nft") in the network namespace held by
 * ns_pid with input on its standard input; 0 when it exits 0, else -1 with
 * its output in why. Kills it after LAB_TOOL_MS. Between fork and exec the
 * child calls only async-signal-safe functions: the caller may have
 * threads (the delay proxies). */
static int ns_tool(pid_t ns_pid, char *const argv[], const char *input, char *why, size_t whylen)
{
	char path[64], nspath[64], out[512];
	int in[2] = {-1, -1}, op[2] = {-1, -1}, status = 0, rc = -1;
	size_t len = input ? strlen(input) : 0, got = 0;
	int64_t deadline = now_ms() + LAB_TOOL_MS;
	bool timed_out = false;
	pid_t pid;

	if (tool_path(argv[0], path, sizeof path) < 0)
		return fail(why, whylen, "%s: not installed", argv[0]);
	snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int)ns_pid);
	/* The input goes into the pipe before the fork: it must fit. */
	if (len > 60000)
		return fail(why, whylen, "%s: input too long", argv[0]);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
		fail(why, whylen, "pipe: %s", strerror(errno));
		goto out;
	}
	if (len && write(in[1], input, len) != (ssize_t)len) {
		fail(why, whylen, "%s: writing its input: %s", argv[0], strerror(errno));
		goto out;
	}
	close(in[1]);
	in[1] = -1;
	pid = fork();
	if (pid < 0) {
		fail(why, whylen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int fd = open(nspath, O_RDONLY | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
		if (dup2(in[0], 0) < 0 || dup2(op[1], 1) < 0 || dup2(op[1], 2) < 0)
			_exit(126);
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execv(path, argv);
		_exit(127);
	}
	close(op[1]);
	op[1] = -1;
	for (;;) {
		struct pollfd pfd = {.fd = op[0], .events = POLLIN};
		int64_t left = deadline - now_ms();
		char buf[512];
		ssize_t n;
		int r;

		if (left <= 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		n = read(op[0], buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
		for (ssize_t i = 0; i < n && got + 1 < sizeof out; i++)
			out[got++] = buf[i] == '\n' ? ' ' : buf[i];
	}
	out[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		fail(why, whylen, "%s: timed out after %d ms", argv[0], LAB_TOOL_MS);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
		fail(why, whylen, "%s: cannot enter namespace of pid %d", argv[0], (int)ns_pid);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail(why, whylen, "%s failed (status %d): %s", argv[0], status, out);
	else
		rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	return rc;
}

static int ip_batch(pid_t ns_pid, const char *script, char *why, size_t whylen)
{
	char *argv[] = {"ip", "-batch", "-", NULL};

	return ns_tool(ns_pid, argv, script, why, whylen);
}

/* A holder: a child in a network namespace of its own that only waits to be
 * killed. It is in its own process group, dies with the thread that forked
 * it (PR_SET_PDEATHSIG) and holds none of the caller's descriptors (so it
 * keeps no pipe or output file open). */
static pid_t holder_start(char *why, size_t whylen)
{
	pid_t parent = getpid(), pid;
	int p[2], err = 0;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(why, whylen, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return fail(why, whylen, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (unshare(CLONE_NEWNET) < 0)
			err = errno;
		if (write(p[1], &err, sizeof err) != sizeof err || err)
			_exit(1);
		close_range(0, ~0U, 0);
		for (;;)
			pause();
	}
	close(p[1]);
	do
		n = read(p[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n != sizeof err || err) {
		kill(pid, SIGKILL);
		reap(pid);
		return fail(why, whylen, "unshare(CLONE_NEWNET): %s",
			    n == sizeof err ? strerror(err) : "the holder died");
	}
	return pid;
}

static void holder_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid);
	}
}

/* ---- the delay proxy ---- */

/* A run of bytes read from one side, to be written to the other side once
 * due. len == 0 marks the end of the stream (shutdown the other side's
 * writing half then). */
typedef struct px_chunk {
	struct px_chunk *next;
	int64_t due_ms;
	size_t len, off; /* off <= len: bytes already written */
	char data[];
} px_chunk_t;

/* One direction of a connection. queued counts the bytes in the chunks;
 * reading from the source stops while it is >= PX_QUEUE_MAX (the memory
 * bound). eof: the end of stream is queued (nothing more is read); done: it
 * was passed on. */
typedef struct px_dir {
	px_chunk_t *head, *tail;
	size_t queued;
	bool eof, done;
} px_dir_t;

/* A proxied connection: fd[0] accepted from the client, fd[1] to the
 * original destination; dir[k] carries the bytes read from fd[k] to
 * fd[1 - k]. fd[0] < 0: the slot is free. While connecting, nothing is read
 * from or written to fd[1]. */
typedef struct px_pair {
	int fd[2];
	bool connecting;
	px_dir_t dir[2];
} px_pair_t;

/* A delay proxy: one thread in one host's network namespace. Only that
 * thread touches lfd and pairs; the others only write to stop[1] (then join)
 * and read port and err after ready is posted. */
typedef struct lab_proxy {
	pthread_t thread;
	int nsfd;    /* the host's network namespace (owned until the thread ends) */
	int stop[2]; /* a byte in stop[1] ends the thread */
	int delay_ms;
	int lfd;
	int port; /* the listener's port on 127.0.0.1, valid once ready */
	int err;  /* errno of a failed start, 0 when it runs */
	const char *stage;
	sem_t ready;
	px_pair_t pairs[PX_MAX_PAIRS];
} lab_proxy_t;

static void px_close(px_pair_t *p)
{
	for (int k = 0; k < 2; k++) {
		px_chunk_t *c = p->dir[k].head, *next;

		for (; c; c = next) {
			next = c->next;
			free(c);
		}
		if (p->fd[k] >= 0)
			close(p->fd[k]);
	}
	memset(p, 0, sizeof *p);
	p->fd[0] = p->fd[1] = -1;
}

static bool px_push(px_dir_t *d, const char *buf, size_t len, int64_t due)
{
	px_chunk_t *c = malloc(sizeof *c + len);

	if (!c)
		return false;
	c->next = NULL;
	c->due_ms = due;
	c->len = len;
	c->off = 0;
	memcpy(c->data, buf, len);
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += len;
	if (len == 0)
		d->eof = true;
	return true;
}

static bool px_wants_read(const px_pair_t *p, int k)
{
	return !p->connecting && !p->dir[k].eof && p->dir[k].queued < PX_QUEUE_MAX;
}

/* Reads what fd[k] has; false when the pair must close. */
static bool px_read(lab_proxy_t *px, px_pair_t *p, int k)
{
	char buf[PX_CHUNK];
	ssize_t n = recv(p->fd[k], buf, sizeof buf, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	/* now_ms() truncates: the + 1 holds every chunk at least delay_ms. */
	return px_push(&p->dir[k], buf, (size_t)n, now_ms() + px->delay_ms + 1);
}

/* Writes dir[k]'s due chunks to fd[1 - k] as far as it takes them; false
 * when the pair must close. */
static bool px_flush(px_pair_t *p, int k, int64_t now)
{
	px_dir_t *d = &p->dir[k];
	int to = p->fd[1 - k];

	if (p->connecting)
		return true;
	while (d->head && d->head->due_ms <= now) {
		px_chunk_t *c = d->head;

		if (c->len == 0) {
			shutdown(to, SHUT_WR);
			d->done = true;
		} else {
			ssize_t n = send(to, c->data + c->off, c->len - c->off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0)
				return errno == EAGAIN || errno == EINTR;
			c->off += (size_t)n;
			if (c->off < c->len)
				return true;
		}
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		d->queued -= c->len;
		free(c);
	}
	return true;
}

static void px_accept(lab_proxy_t *px)
{
	struct sockaddr_in dst;
	socklen_t len = sizeof dst;
	int mark = LAB_MARK, cfd, sfd = -1, slot = -1;
	px_pair_t *p;

	cfd = accept4(px->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (int i = 0; i < PX_MAX_PAIRS && slot < 0; i++)
		if (px->pairs[i].fd[0] < 0)
			slot = i;
	if (slot < 0 || getsockopt(cfd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) < 0)
		goto fail;
	sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sfd < 0 || setsockopt(sfd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
		goto fail;
	if (connect(sfd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS)
		goto fail;
	p = &px->pairs[slot];
	p->fd[0] = cfd;
	p->fd[1] = sfd;
	p->connecting = true;
	return;
fail:
	close(cfd);
	if (sfd >= 0)
		close(sfd);
}

/* One pass over a pair after poll; false when it must close. */
static bool px_service(lab_proxy_t *px, px_pair_t *p, const struct pollfd pfd[2])
{
	if (p->connecting) {
		int err = 0;
		socklen_t len = sizeof err;

		if (!pfd[1].revents)
			return true;
		if (getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			return false;
		p->connecting = false;
	}
	for (int k = 0; k < 2; k++) {
		if (pfd[k].revents & POLLERR)
			return false;
		if ((pfd[k].revents & (POLLIN | POLLHUP)) && px_wants_read(p, k) &&
		    !px_read(px, p, k))
			return false;
	}
	return true;
}

static void *px_main(void *arg)
{
	lab_proxy_t *px = arg;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;
	struct pollfd pfd[2 + 2 * PX_MAX_PAIRS];

	for (int i = 0; i < PX_MAX_PAIRS; i++)
		px->pairs[i].fd[0] = px->pairs[i].fd[1] = -1;
	px->lfd = -1;
	px->stage = "setns";
	if (setns(px->nsfd, CLONE_NEWNET) < 0)
		goto fail;
	px->stage = "listen";
	px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (px->lfd < 0 || bind(px->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(px->lfd, 64) < 0 || getsockname(px->lfd, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	px->port = ntohs(a.sin_port);
	sem_post(&px->ready);

	for (;;) {
		int64_t now = now_ms(), next = -1;
		int timeout;

		for (int i = 0; i < PX_MAX_PAIRS; i++) {
			px_pair_t *p = &px->pairs[i];

			if (p->fd[0] < 0)
				continue;
			if (!px_flush(p, 0, now) || !px_flush(p, 1, now) ||
			    (p->dir[0].done && p->dir[1].done)) {
				px_close(p);
				continue;
			}
			for (int k = 0; k < 2; k++) {
				const px_chunk_t *h = p->dir[k].head;
				short ev = 0;

				if (px_wants_read(p, k))
					ev |= POLLIN;
				/* A due head still here: the other side is full. */
				if (p->dir[1 - k].head && p->dir[1 - k].head->due_ms <= now &&
				    !p->connecting)
					ev |= POLLOUT;
				if (k == 1 && p->connecting)
					ev |= POLLOUT;
				if (h && h->due_ms > now && (next < 0 || h->due_ms < next))
					next = h->due_ms;
				/* Nothing wanted: leave it out, or a hung-up socket
				 * would wake poll at once, again and again. */
				pfd[2 + 2 * i + k].fd = ev ? p->fd[k] : -1;
				pfd[2 + 2 * i + k].events = ev;
				pfd[2 + 2 * i + k].revents = 0;
			}
		}
		for (int i = 0; i < PX_MAX_PAIRS; i++)
			if (px->pairs[i].fd[0] < 0)
				pfd[2 + 2 * i].fd = pfd[2 + 2 * i + 1].fd = -1;
		pfd[0] = (struct pollfd){.fd = px->stop[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = px->lfd, .events = POLLIN};
		timeout = next < 0 ? -1 : (int)(next - now);
		if (poll(pfd, 2 + 2 * PX_MAX_PAIRS, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			px_accept(px);
		for (int i = 0; i < PX_MAX_PAIRS; i++) {
			px_pair_t *p = &px->pairs[i];

			if (p->fd[0] >= 0 && !px_service(px, p, &pfd[2 + 2 * i]))
				px_close(p);
		}
	}
	for (int i = 0; i < PX_MAX_PAIRS; i++)
		if (px->pairs[i].fd[0] >= 0)
			px_close(&px->pairs[i]);
	close(px->lfd);
	return NULL;
fail:
	px->err = errno;
	if (px->lfd >= 0)
		close(px->lfd);
	sem_post(&px->ready);
	return NULL;
}

static void proxy_stop(lab_proxy_t *px)
{
	if (!px)
		return;
	if (write(px->stop[1], "x", 1) != 1)
		abort(); /* a pipe of our own with room: only a bug fails here */
	pthread_join(px->thread, NULL);
	close(px->stop[0]);
	close(px->stop[1]);
	close(px->nsfd);
	sem_destroy(&px->ready);
	free(px);
}

static lab_proxy_t *proxy_start(pid_t holder, int delay_ms, char *why, size_t whylen)
{
	lab_proxy_t *px = calloc(1, sizeof *px);
	char nspath[64];
	int err;

	if (!px) {
		fail(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int)holder);
	px->delay_ms = delay_ms;
	px->stop[0] = px->stop[1] = -1;
	px->nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (px->nsfd < 0 || pipe2(px->stop, O_CLOEXEC) < 0) {
		fail(why, whylen, "delay proxy: %s", strerror(errno));
		goto fail;
	}
	sem_init(&px->ready, 0, 0);
	err = pthread_create(&px->thread, NULL, px_main, px);
	if (err) {
		fail(why, whylen, "delay proxy: pthread_create: %s", strerror(err));
		sem_destroy(&px->ready);
		goto fail;
	}
	while (sem_wait(&px->ready) < 0 && errno == EINTR)
		;
	if (px->err) {
		fail(why, whylen, "delay proxy: %s: %s", px->stage, strerror(px->err));
		pthread_join(px->thread, NULL);
		sem_destroy(&px->ready);
		goto fail;
	}
	return px;
fail:
	if (px->nsfd >= 0)
		close(px->nsfd);
	if (px->stop[0] >= 0) {
		close(px->stop[0]);
		close(px->stop[1]);
	}
	free(px);
	return NULL;
}

/* ---- the lab ---- */

/* One host. The nftables table inet tern_fault exists in its namespace
 * exactly when a nemesis is in force, and holds exactly the rules
 * host_apply() renders from cut, loss and proxy. cut is symmetric:
 * h[i].cut[j] == h[j].cut[i]. */
typedef struct lab_host {
	pid_t holder;
	char addr[16];
	bool cut[LAB_MAX_HOSTS]; /* partitioned from host j */
	int loss;		 /* percent, 0: none */
	lab_proxy_t *proxy;	 /* the delay in force, NULL: none */
} lab_host_t;

/* spawned: every pid lab_spawn() returned that lab_forget() did not take
 * back; some may have been reaped by the caller already (lab_free checks
 * with waitid before it kills). */
struct lab {
	int n;
	bool loopback; /* lab_new_loopback(): no namespaces, no network nemeses */
	pid_t hub;
	lab_host_t h[LAB_MAX_HOSTS];
	pid_t spawned[LAB_MAX_SPAWNED];
	int nspawned;
};

typedef struct script {
	char s[LAB_SCRIPT_BYTES];
	size_t len;
	bool overflow;
} script_t;

static void put(script_t *sc, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sc->s + sc->len, sizeof sc->s - sc->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof sc->s - sc->len)
		sc->overflow = true;
	else
		sc->len += (size_t)n;
}

/* The random part of a loss rule ("" for 100 %: numgen's values are 0..99
 * and nft refuses "< 100"). */
static const char *loss_match(int pct, char *buf, size_t len)
{
	if (pct >= 100)
		return "";
	snprintf(buf, len, "numgen random mod 100 < %d ", pct);
	return buf;
}

/* Replaces host i's table with the one its state describes, in one nft
 * transaction (on failure the previous rules stay). */
static int host_apply(lab_t *l, int i, char *why, size_t whylen)
{
	char *argv[] = {"nft", "-f", "-", NULL};
	const lab_host_t *h = &l->h[i];
	bool any = h->loss > 0 || h->proxy;
	script_t sc = {.len = 0};
	char m[64];

	for (int j = 0; j < l->n; j++)
		any = any || h->cut[j];
	put(&sc, "table inet tern_fault\ndelete table inet tern_fault\n");
	if (any) {
		put(&sc, "table inet tern_fault {\n"
			 "\tchain input {\n"
			 "\t\ttype filter hook input priority filter; policy accept;\n");
		for (int j = 0; j < l->n; j++)
			if (h->cut[j])
				put(&sc, "\t\tip saddr %s drop\n", l->h[j].addr);
		if (h->loss > 0)
			put(&sc, "\t\tiifname \"eth0\" %sdrop\n", loss_match(h->loss, m, sizeof m));
		put(&sc, "\t}\n"
			 "\tchain output {\n"
			 "\t\ttype filter hook output priority filter; policy accept;\n");
		for (int j = 0; j < l->n; j++)
			if (h->cut[j])
				put(&sc, "\t\tip daddr %s drop\n", l->h[j].addr);
		if (h->loss > 0)
			put(&sc, "\t\toifname \"eth0\" %sdrop\n", loss_match(h->loss, m, sizeof m));
		put(&sc, "\t}\n");
		if (h->proxy)
			put(&sc,
			    "\tchain nat_output {\n"
			    "\t\ttype nat hook output priority -100; policy accept;\n"
			    "\t\tmeta mark != 0x%x ip daddr 10.77.0.0/24 ip daddr != %s "
			    "meta l4proto tcp redirect to :%d\n"
			    "\t}\n",
			    LAB_MARK, h->addr, h->proxy->port);
		put(&sc, "}\n");
	}
	if (sc.overflow)
		return fail(why, whylen, "nft script too long");
	return ns_tool(h->holder, argv, sc.s, why, whylen);
}

bool lab_available(char *why, size_t whylen)
{
	char *argv[] = {"nft", "add", "table", "inet", "tern_probe", NULL};
	char path[64];
	pid_t h;
	bool ok;

	if (geteuid() != 0) {
		fail(why, whylen, "not root");
		return false;
	}
	if (tool_path("ip", path, sizeof path) < 0) {
		fail(why, whylen, "ip (iproute2) not installed");
		return false;
	}
	if (tool_path("nft", path, sizeof path) < 0) {
		fail(why, whylen, "nft (nftables) not installed");
		return false;
	}
	h = holder_start(why, whylen);
	if (h < 0)
		return false;
	ok = ip_batch(h,
		      "link add tern_br type bridge\n"
		      "link add tern_v0 type veth peer name tern_v1\n",
		      why, whylen) == 0 &&
	     ns_tool(h, argv, NULL, why, whylen) == 0;
	holder_stop(h);
	return ok;
}

lab_t *lab_new(int nhosts, char *why, size_t whylen)
{
	script_t hub = {.len = 0};
	lab_t *l;

	if (nhosts < 1 || nhosts > LAB_MAX_HOSTS) {
		fail(why, whylen, "lab_new: %d hosts (1..%d)", nhosts, LAB_MAX_HOSTS);
		return NULL;
	}
	l = calloc(1, sizeof *l);
	if (!l) {
		fail(why, whylen, "out of memory");
		return NULL;
	}
	l->hub = holder_start(why, whylen);
	if (l->hub < 0)
		goto fail;
	put(&hub, "link add br0 type bridge\nlink set br0 up\n");
	for (int i = 0; i < nhosts; i++) {
		l->h[i].holder = holder_start(why, whylen);
		if (l->h[i].holder < 0)
			goto fail;
		l->n = i + 1;
		snprintf(l->h[i].addr, sizeof l->h[i].addr, "10.77.0.%d", 10 + i);
		put(&hub,
		    "link add vh%d type veth peer name eth0 netns %d\n"
		    "link set vh%d master br0 up\n",
		    i, (int)l->h[i].holder, i);
	}
	if (ip_batch(l->hub, hub.s, why, whylen) < 0)
		goto fail;
	for (int i = 0; i < nhosts; i++) {
		char host[256];

		snprintf(host, sizeof host,
			 "link set lo up\naddr add %s/24 dev eth0\nlink set eth0 up\n",
			 l->h[i].addr);
		if (ip_batch(l->h[i].holder, host, why, whylen) < 0)
			goto fail;
	}
	return l;
fail:
	lab_free(l);
	return NULL;
}

lab_t *lab_new_loopback(int nhosts, char *why, size_t whylen)
{
	lab_t *l;

	if (nhosts < 1 || nhosts > LAB_MAX_HOSTS) {
		fail(why, whylen, "lab_new_loopback: %d hosts (1..%d)", nhosts, LAB_MAX_HOSTS);
		return NULL;
	}
	l = calloc(1, sizeof *l);
	if (!l) {
		fail(why, whylen, "out of memory");
		return NULL;
	}
	l->loopback = true;
	l->hub = -1;
	l->n = nhosts;
	for (int i = 0; i < nhosts; i++) {
		l->h[i].holder = -1;
		snprintf(l->h[i].addr, sizeof l->h[i].addr, "127.77.0.%d", 10 + i);
	}
	return l;
}

bool lab_is_loopback(const lab_t *l)
{
	return l->loopback;
}

/* The network nemeses need the hosts' namespaces. */
static int no_nemeses(const lab_t *l, char *why, size_t whylen)
{
	if (!l->loopback)
		return 0;
	return fail(why, whylen,
		    "a loopback lab has no network nemeses (they need network namespaces: root)");
}

void lab_free(lab_t *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n; i++)
		proxy_stop(l->h[i].proxy);
	for (int i = 0; i < l->nspawned; i++) {
		pid_t pid = l->spawned[i];
		siginfo_t si = {0};

		/* Only a child not yet reaped is surely still ours. */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			continue;
		killpg(pid, SIGKILL);
		kill(pid, SIGKILL);
		reap(pid);
	}
	for (int i = 0; i < l->n; i++)
		holder_stop(l->h[i].holder);
	holder_stop(l->hub);
	free(l);
}

int lab_hosts(const lab_t *l)
{
	return l->n;
}

const char *lab_addr(const lab_t *l, int host)
{
	return host >= 0 && host < l->n ? l->h[host].addr : NULL;
}

pid_t lab_holder(const lab_t *l, int host)
{
	if (host == -1)
		return l->hub;
	return host >= 0 && host < l->n ? l->h[host].holder : -1;
}

static int check_host(const lab_t *l, int host, char *why, size_t whylen)
{
	if (host < 0 || host >= l->n)
		return fail(why, whylen, "no host %d (the lab has %d)", host, l->n);
	return 0;
}

int lab_enter(lab_t *l, int host, char *why, size_t whylen)
{
	char nspath[64];
	int fd, rc;

	if (check_host(l, host, why, whylen) < 0)
		return -1;
	if (l->loopback)
		return 0;
	snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int)l->h[host].holder);
	fd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(why, whylen, "%s: %s", nspath, strerror(errno));
	rc = setns(fd, CLONE_NEWNET);
	if (rc < 0)
		fail(why, whylen, "setns(%s): %s", nspath, strerror(errno));
	close(fd);
	return rc;
}

void lab_forget(lab_t *l, pid_t pid)
{
	for (int i = 0; i < l->nspawned; i++)
		if (l->spawned[i] == pid)
			l->spawned[i--] = l->spawned[--l->nspawned];
}

/* What a lab_spawn child reports when it cannot exec. */
typedef struct spawn_err {
	int stage; /* index into spawn_stages */
	int err;
} spawn_err_t;

static const char *const spawn_stages[] = {
    "setns",	"unshare(CLONE_NEWNS)", "mount --make-rprivate /",
    "mkdir -p", "mount tmpfs",		"open output",
    "exec",
};

/* The child side of lab_spawn: only async-signal-safe calls (the caller may
 * have threads). Never returns. */
static void spawn_child(int report, pid_t parent, const char *nspath, char *mnt, const char *opts,
			const char *out, const char *err, char *const argv[], char **envp)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	spawn_err_t e = {0, 0};
	sigset_t none;
	int fd;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (nspath) {
		fd = open(nspath, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			goto fail;
	}
	if (mnt) {
		e.stage = 1;
		if (unshare(CLONE_NEWNS) < 0)
			goto fail;
		e.stage = 2;
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			goto fail;
		e.stage = 3;
		for (char *p = mnt + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char c = *p;

			*p = '\0';
			if (mkdir(mnt, 0755) < 0 && errno != EEXIST)
				goto fail;
			*p = c;
			if (!c)
				break;
		}
		e.stage = 4;
		if (mount("tmpfs", mnt, "tmpfs", 0, opts) < 0)
			goto fail;
	}
	e.stage = 5;
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		goto fail;
	fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, 1) < 0)
		goto fail;
	fd = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		goto fail;
	/* Nothing of the caller's but the standard streams crosses the exec. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	e.stage = 6;
	execve(argv[0], argv, envp);
fail:
	e.err = errno;
	if (write(report, &e, sizeof e) < 0)
		_exit(127);
	_exit(127);
}

pid_t lab_spawn(lab_t *l, int host, char *const argv[], const char *const *env,
		const char *out_path, const char *err_path, const char *private_tmpfs,
		size_t tmpfs_bytes, char *why, size_t whylen)
{
	char nspath[64], opts[64], mnt[PATH_MAX];
	size_t nenv = 0, nextra = 0, k = 0;
	pid_t pid = -1, parent = getpid();
	int p[2] = {-1, -1};
	char **envp = NULL;
	spawn_err_t e;
	ssize_t n;

	if (check_host(l, host, why, whylen) < 0)
		return -1;
	if (!argv || !argv[0])
		return fail(why, whylen, "lab_spawn: no program");
	if (l->nspawned == LAB_MAX_SPAWNED)
		return fail(why, whylen, "lab_spawn: more than %d processes", LAB_MAX_SPAWNED);
	if (private_tmpfs &&
	    (private_tmpfs[0] != '/' || strlen(private_tmpfs) >= sizeof mnt || tmpfs_bytes == 0))
		return fail(why, whylen, "lab_spawn: bad private tmpfs '%s' (%zu bytes)",
			    private_tmpfs, tmpfs_bytes);
	if (private_tmpfs && l->loopback)
		return fail(why, whylen,
			    "lab_spawn: a private tmpfs needs a mount namespace (root), which a "
			    "loopback lab does not have");
	snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int)l->h[host].holder);
	snprintf(opts, sizeof opts, "size=%zu,mode=0755", tmpfs_bytes);
	if (private_tmpfs)
		snprintf(mnt, sizeof mnt, "%s", private_tmpfs);

	/* The environment: env first (getenv finds the first match), then every
	 * variable of ours that env does not set. */
	while (environ[nenv])
		nenv++;
	while (env && env[nextra])
		nextra++;
	envp = calloc(nenv + nextra + 1, sizeof *envp);
	if (!envp)
		return fail(why, whylen, "out of memory");
	for (size_t i = 0; i < nextra; i++)
		envp[k++] = (char *)env[i];
	for (size_t i = 0; i < nenv; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t keylen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		bool set = false;

		for (size_t j = 0; j < nextra && !set; j++)
			set = strncmp(env[j], environ[i], keylen) == 0;
		if (!set)
			envp[k++] = environ[i];
	}

	if (pipe2(p, O_CLOEXEC) < 0) {
		fail(why, whylen, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		fail(why, whylen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		spawn_child(p[1], parent, l->loopback ? NULL : nspath, private_tmpfs ? mnt : NULL,
			    opts, out_path, err_path, argv, envp);
	close(p[1]);
	p[1] = -1;
	/* EOF: the exec happened (the pipe closed on exec). */
	do
		n = read(p[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		reap(pid);
		if (n == sizeof e)
			fail(why, whylen, "%s on host %d: %s: %s", argv[0], host,
			     spawn_stages[e.stage], strerror(e.err));
		else
			fail(why, whylen, "%s on host %d: the child died before exec", argv[0],
			     host);
		pid = -1;
		goto out;
	}
	l->spawned[l->nspawned++] = pid;
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(envp);
	return pid;
}

int lab_run(lab_t *l, int host, char *const argv[], const char *out_path, int timeout_ms, char *why,
	    size_t whylen)
{
	pid_t pid = lab_spawn(l, host, argv, NULL, out_path, out_path, NULL, 0, why, whylen);
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int status = 0, pfd;
	pid_t w;

	if (pid < 0)
		return -1;
	lab_forget(l, pid);
	pfd = pidfd_open(pid, 0);
	for (;;) {
		int64_t left = deadline - now_ms();

		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR) || left <= 0)
			break;
		if (pfd >= 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};

			poll(&p, 1, (int)left);
		} else {
			struct timespec ts = {0, 10 * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	if (w != pid) {
		killpg(pid, SIGKILL);
		kill(pid, SIGKILL);
		reap(pid);
		return fail(why, whylen, "%s on host %d: killed after %d ms", argv[0], host,
			    timeout_ms);
	}
	if (!WIFEXITED(status))
		return fail(why, whylen, "%s on host %d: killed by signal %d", argv[0], host,
			    WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* ---- network nemeses ---- */

static int set_cut(lab_t *l, int a, int b, bool cut, char *why, size_t whylen)
{
	bool old;

	if (check_host(l, a, why, whylen) < 0 || check_host(l, b, why, whylen) < 0 ||
	    no_nemeses(l, why, whylen) < 0)
		return -1;
	old = l->h[a].cut[b];
	if (a == b)
		return fail(why, whylen, "a host cannot be partitioned from itself");
	l->h[a].cut[b] = l->h[b].cut[a] = cut;
	if (host_apply(l, a, why, whylen) < 0)
		goto undo;
	if (host_apply(l, b, why, whylen) < 0) {
		l->h[a].cut[b] = l->h[b].cut[a] = old;
		host_apply(l, a, NULL, 0);
		return -1;
	}
	return 0;
undo:
	l->h[a].cut[b] = l->h[b].cut[a] = old;
	return -1;
}

int lab_partition(lab_t *l, int a, int b, char *why, size_t whylen)
{
	return set_cut(l, a, b, true, why, whylen);
}

int lab_heal_partition(lab_t *l, int a, int b, char *why, size_t whylen)
{
	return set_cut(l, a, b, false, why, whylen);
}

int lab_loss(lab_t *l, int host, int pct, char *why, size_t whylen)
{
	int old;

	if (check_host(l, host, why, whylen) < 0 || no_nemeses(l, why, whylen) < 0)
		return -1;
	if (pct < 0 || pct > 100)
		return fail(why, whylen, "loss of %d%% (0..100)", pct);
	old = l->h[host].loss;
	l->h[host].loss = pct;
	if (host_apply(l, host, why, whylen) < 0) {
		l->h[host].loss = old;
		return -1;
	}
	return 0;
}

int lab_delay(lab_t *l, int host, int delay_ms, char *why, size_t whylen)
{
	lab_proxy_t *old, *px = NULL;

	if (check_host(l, host, why, whylen) < 0 || no_nemeses(l, why, whylen) < 0)
		return -1;
	if (delay_ms < 0 || delay_ms > 600000)
		return fail(why, whylen, "delay of %d ms (0..600000)", delay_ms);
	old = l->h[host].proxy;
	if (delay_ms > 0) {
		px = proxy_start(l->h[host].holder, delay_ms, why, whylen);
		if (!px)
			return -1;
	}
	/* The redirect moves to the new proxy (or goes) in one transaction,
	 * then the old proxy stops, closing the connections it carried. */
	l->h[host].proxy = px;
	if (host_apply(l, host, why, whylen) < 0) {
		l->h[host].proxy = old;
		proxy_stop(px);
		return -1;
	}
	proxy_stop(old);
	return 0;
}

int lab_heal(lab_t *l, int host, char *why, size_t whylen)
{
	bool peer[LAB_MAX_HOSTS] = {false};
	lab_proxy_t *px;
	int rc = 0;

	if (check_host(l, host, why, whylen) < 0)
		return -1;
	if (l->loopback)
		return 0; /* nothing can be in force */
	px = l->h[host].proxy;
	l->h[host].proxy = NULL;
	l->h[host].loss = 0;
	for (int j = 0; j < l->n; j++) {
		peer[j] = l->h[host].cut[j];
		l->h[host].cut[j] = l->h[j].cut[host] = false;
	}
	/* Healing goes on past a failure: as much as possible is undone. */
	if (host_apply(l, host, why, whylen) < 0)
		rc = -1;
	proxy_stop(px);
	for (int j = 0; j < l->n; j++)
		if (peer[j] && host_apply(l, j, rc ? NULL : why, rc ? 0 : whylen) < 0)
			rc = -1;
	return rc;
}

int lab_heal_all(lab_t *l, char *why, size_t whylen)
{
	int rc = 0;

	for (int i = 0; i < l->n; i++)
		if (lab_heal(l, i, rc ? NULL : why, rc ? 0 : whylen) < 0)
			rc = -1;
	return rc;
}
