/* The sandbox in a child process (ch_emu_config.isolate): Unicorn 2.0.1
 * calls abort() on some code ("tcg fatal error" while translating a
 * damaged function), which no hook can catch; coreheap must survive the
 * code of a hostile core. The child is forked from the caller once the
 * engine is open and holds the only engine that ever runs, over its copy
 * of the address space; each ch_emu_run is one request on a socket pair
 * (the calls in, the calls, their visits and the counters out).
 *
 * A worker that dies or stays silent past CH_EMU_WORKER_SECONDS is
 * replaced by a fresh fork (the parent's engine never ran, so the new one
 * starts clean); the batch it was running is run again one call per
 * request, so only the call that kills a worker fails, with
 * CH_EMU_CRASHED and the signal as detail. After CH_EMU_WORKER_CRASHES
 * deaths no worker is started again: every later call fails the same way
 * (detail 0). The child's standard error goes to /dev/null. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "readers/emulator/emu_internal.h"

#define CH_EMU_WORKER_SECONDS 20 /* one request: far more than any batch's block budgets take */
#define CH_EMU_WORKER_CRASHES 16

static bool send_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* timeout_ms < 0: wait as long as it takes (the worker's side). */
static bool recv_all(int fd, void *buf, size_t n, int timeout_ms)
{
	uint8_t *p = buf;
	while (n) {
		if (timeout_ms >= 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int r = poll(&pfd, 1, timeout_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return false;
		}
		ssize_t got = recv(fd, p, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		p += got;
		n -= (size_t)got;
	}
	return true;
}

/* The child: requests until the parent closes its end. */
static void worker_main(struct ch_emu *emu, int fd)
{
	signal(SIGPIPE, SIG_IGN);
	/* Unicorn prints its last words ("tcg fatal error") before aborting:
	 * coreheap's standard error holds one-line messages of its own only. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	struct ch_emu_call *calls = NULL;
	size_t cap = 0;
	for (;;) {
		uint64_t n;
		if (!recv_all(fd, &n, sizeof(n), -1))
			break;
		if (n > cap) {
			free(calls);
			cap = n;
			if (!(calls = malloc(n * sizeof(*calls))))
				break;
		}
		if (!recv_all(fd, calls, n * sizeof(*calls), -1))
			break;
		struct ch_error *err = ch_emu_run_here(emu, calls, n);
		uint64_t failed = err != NULL, nvisits = emu->nvisits;
		ch_error_free(err);
		if (!send_all(fd, &failed, sizeof(failed)) || !send_all(fd, calls, n * sizeof(*calls)) ||
		    !send_all(fd, &nvisits, sizeof(nvisits)) ||
		    !send_all(fd, emu->visits, nvisits * sizeof(*emu->visits)) ||
		    !send_all(fd, &emu->stats, sizeof(emu->stats)))
			break;
	}
	_exit(0);
}

static bool worker_start(struct ch_emu *emu)
{
	if (emu->worker_pid > 0)
		return true;
	if (emu->worker_crashes >= CH_EMU_WORKER_CRASHES)
		return false;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return false;
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_main(emu, sv[1]);
	}
	close(sv[1]);
	emu->worker_pid = pid;
	emu->worker_fd = sv[0];
	return true;
}

/* Ends the worker; returns the signal that killed it (0 if none). The
 * counters it reported last are kept. */
int ch_emu_worker_stop(struct ch_emu *emu)
{
	if (emu->worker_pid <= 0)
		return 0;
	close(emu->worker_fd);
	emu->worker_fd = -1;
	int status = 0, sig = 0;
	pid_t r = waitpid(emu->worker_pid, &status, WNOHANG);
	if (r == 0) {
		/* Alive: cut off (a timeout), or ending on the closed socket. */
		kill(emu->worker_pid, SIGKILL);
		while ((r = waitpid(emu->worker_pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	if (r > 0 && WIFSIGNALED(status))
		sig = WTERMSIG(status);
	emu->worker_pid = 0;
	emu->dead_stats = emu->stats;
	return sig;
}

/* One request. False when the worker died or went silent (stopped; *sig). */
static bool request(struct ch_emu *emu, struct ch_emu_call *calls, size_t n, bool *failed, int *sig)
{
	uint64_t n64 = n, f = 0, nvisits = 0;
	struct ch_emu_stats st;
	const int ms = CH_EMU_WORKER_SECONDS * 1000;
	bool ok = send_all(emu->worker_fd, &n64, sizeof(n64)) &&
		  send_all(emu->worker_fd, calls, n * sizeof(*calls)) && recv_all(emu->worker_fd, &f, sizeof(f), ms) &&
		  recv_all(emu->worker_fd, calls, n * sizeof(*calls), ms) &&
		  recv_all(emu->worker_fd, &nvisits, sizeof(nvisits), ms);
	if (ok && nvisits > emu->capvisits) {
		uint64_t *p = realloc(emu->visits, nvisits * sizeof(*p));
		ok = p != NULL;
		if (p) {
			emu->visits = p;
			emu->capvisits = nvisits;
		}
	}
	ok = ok && recv_all(emu->worker_fd, emu->visits, nvisits * sizeof(*emu->visits), ms) &&
	     recv_all(emu->worker_fd, &st, sizeof(st), ms);
	/* What a worker sends is checked like any input: a call's visits lie
	 * inside what it sent. */
	for (size_t i = 0; ok && i < n; i++)
		ok = calls[i].first <= nvisits && calls[i].nvisits <= nvisits - calls[i].first &&
		     calls[i].status < CH_EMU_STATUS_COUNT;
	if (!ok) {
		*sig = ch_emu_worker_stop(emu);
		emu->worker_crashes++;
		return false;
	}
	emu->nvisits = nvisits;
	*failed = f != 0;
	/* The worker's counters are cumulative since it was forked. */
	struct ch_emu_stats *s = &emu->stats, *d = &emu->dead_stats;
	s->calls = d->calls + st.calls;
	s->failed = d->failed + st.failed;
	s->starts = d->starts + st.starts;
	s->blocks = d->blocks + st.blocks;
	s->mapped_bytes = d->mapped_bytes + st.mapped_bytes;
	s->mappings = d->mappings + st.mappings;
	s->flushes = d->flushes + st.flushes;
	return true;
}

static void crashed(struct ch_emu_call *c, int sig)
{
	c->status = CH_EMU_CRASHED;
	c->detail = (uint64_t)sig;
	c->rip = 0;
	c->first = c->nvisits = 0;
}

struct ch_error *ch_emu_run_isolated(struct ch_emu *emu, struct ch_emu_call *calls, size_t n)
{
	emu->nvisits = 0;
	bool failed = false;
	int sig = 0;
	if (!n)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		calls[i].status = CH_EMU_NOT_RUN;
		calls[i].detail = calls[i].rip = 0;
		calls[i].first = calls[i].nvisits = 0;
	}
	if (worker_start(emu) && request(emu, calls, n, &failed, &sig))
		return failed ? ch_error_new(CH_ERR_UNSUPPORTED, "emulator: the engine failed") : NULL;
	/* The worker died on some call of the batch: one call per request
	 * finds it; the visits of the others are gathered here. */
	uint64_t *all = NULL;
	size_t nall = 0, cap = 0;
	struct ch_error *err = NULL;
	for (size_t i = 0; i < n && !err; i++) {
		struct ch_emu_call *c = &calls[i];
		c->status = CH_EMU_NOT_RUN;
		c->first = c->nvisits = 0;
		if (nall >= emu->batch_visits)
			continue; /* left for the caller to run again, as a full batch does */
		int s = 0;
		if (!worker_start(emu) || !request(emu, c, 1, &failed, &s)) {
			crashed(c, s);
			continue;
		}
		if (failed) {
			err = ch_error_new(CH_ERR_UNSUPPORTED, "emulator: the engine failed");
			break;
		}
		if (c->nvisits > cap - nall) {
			size_t ncap = (nall + c->nvisits) * 2;
			uint64_t *p = realloc(all, ncap * sizeof(*p));
			if (!p) {
				err = &ch_error_nomem;
				break;
			}
			all = p;
			cap = ncap;
		}
		if (c->nvisits)
			memcpy(all + nall, emu->visits + c->first, c->nvisits * sizeof(*all));
		c->first = (uint32_t)nall;
		nall += c->nvisits;
	}
	if (nall > emu->capvisits) {
		free(emu->visits);
		emu->visits = all;
		emu->capvisits = cap;
	} else {
		if (nall)
			memcpy(emu->visits, all, nall * sizeof(*all));
		free(all);
	}
	emu->nvisits = nall;
	return err;
}
