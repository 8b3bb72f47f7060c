/* Where a session's object table and edges come from: the core's index
 * when a sound one exists (graph/heap_index.h), else the core itself,
 * after which the analysis is indexed for the next command when asked
 * (`coreheap index`), when the heap is big enough for the walk to be worth
 * skipping, or when a stale index stood in the way. docs/index.md. */
#include "session_heap.h"
#include "exit_codes.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/gc_replay.h"
#include "graph/heap_index.h"
#include "graph/heap_index_lazy.h"
#include "readers/base/cache_dir.h"
#include "readers/process/core_file.h"
#include "readers/process/process.h"

/* Heaps smaller than this are walked in well under a second; an index
 * beside their core would only be clutter. */
#define CH_INDEX_AUTO_OBJECTS 1000000u
/* The core's headers and notes (and then some) identify it beyond its
 * size, times and inode. */
#define CH_INDEX_CORE_PREFIX (64u << 10)

static uint64_t hash_str(uint64_t h, const char *s)
{
	return ch_heap_index_hash(h, s ? s : "", s ? strlen(s) + 1 : 0);
}

static uint64_t hash_u64(uint64_t h, uint64_t v)
{
	return ch_heap_index_hash(h, &v, sizeof(v));
}

/* Everything that could make the analysis come out differently: the
 * core, the coreheap binary, the files used to read it and the options
 * and environment that choose them. */
static bool index_key(const struct ch_session *s, struct ch_heap_index_key *key)
{
	struct stat core, self;
	if (stat(s->opts.core, &core) != 0 || !S_ISREG(core.st_mode) || stat("/proc/self/exe", &self) != 0)
		return false;
	const struct ch_core_file *cf = s->proc->core;
	key->v[0] = (uint64_t)core.st_size;
	key->v[1] = (uint64_t)core.st_mtim.tv_sec * 1000000000u + (uint64_t)core.st_mtim.tv_nsec;
	key->v[2] = (uint64_t)core.st_ino ^ ((uint64_t)core.st_dev << 40);
	uint64_t h = ch_heap_index_hash(0x636f726568656170ULL, cf->data,
					cf->size < CH_INDEX_CORE_PREFIX ? cf->size : CH_INDEX_CORE_PREFIX);
	h = hash_u64(h, (uint64_t)cf->size);
	h = hash_u64(h, (uint64_t)self.st_size);
	h = hash_u64(h, (uint64_t)self.st_mtim.tv_sec * 1000000000u + (uint64_t)self.st_mtim.tv_nsec);
	h = hash_u64(h, (uint64_t)self.st_ino);
	h = hash_str(h, CH_VERSION);
	for (size_t i = 0; i < s->proc->nmodules; i++) {
		const struct ch_module *m = &s->proc->modules[i];
		h = hash_str(h, m->path);
		h = hash_str(h, m->disk_path);
		h = hash_u64(h, m->bias);
		h = hash_u64(h, (uint64_t)m->status);
	}
	h = hash_str(h, s->py->dwarf_path);
	h = hash_u64(h, (uint64_t)s->py->dwarf_method);
	h = hash_str(h, s->opts.process.exe);
	h = hash_str(h, s->opts.process.sysroot);
	h = hash_str(h, s->opts.process.debug_dir);
	for (size_t i = 0; i < s->opts.process.nlib_search; i++)
		h = hash_str(h, s->opts.process.lib_search[i]);
	h = hash_str(h, getenv("CH_LAYOUT_SOURCE"));
	h = hash_str(h, getenv("CH_EMULATION"));
	key->v[3] = h;
	return true;
}

/* "CORE.chindex" beside the core, and the cache's name for the same core,
 * used when the core's folder is not writable. Either may be empty. */
static void index_paths(const char *core, char *beside, char *cached, size_t n)
{
	beside[0] = cached[0] = '\0';
	snprintf(beside, n, "%s.chindex", core);
	char real[PATH_MAX], dir[PATH_MAX];
	if (!realpath(core, real) || !ch_cache_dir(dir, sizeof(dir)))
		return;
	int w = snprintf(cached, n, "%.*s/%016" PRIx64 ".chindex", (int)(n > 64 ? n - 64 : 0), dir,
			 ch_heap_index_hash(0, real, strlen(real)));
	if (w < 0 || (size_t)w >= n)
		cached[0] = '\0';
}

static bool dir_writable(const char *file)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", file);
	return access(dirname(copy), W_OK) == 0;
}

/* mkdir -p for the cache folder (readers/base/cache_dir.h). */
static void make_parent(const char *file)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", file);
	ch_cache_make_dir(dirname(copy));
}

/* ---- a lazily read index whose block fails mid-command ----------------- */

/* The command runs again from the start in a new process (execve, from
 * the fault handler: nothing else is safe there), told by the environment
 * which index to take as damaged; it then warns, builds the heap from the
 * core and replaces the index, as for an index found damaged at the load.
 * Its report was kept in memory (struct ch_session's lazy_out): nothing
 * of the first run is written. */
#define CH_INDEX_REJECT_ENV "CH_INDEX_REJECT"

static char **restart_argv;

void ch_session_set_argv(char **argv)
{
	restart_argv = argv;
}

/* What the hook needs, made before any fault (no allocation there). */
static struct {
	char **envp;
	size_t nenv;     /* envp[nenv]: the variable made here */
	const char *tmp; /* -o's temporary file, removed */
} restart;

static void restart_now(const char *why, void *arg)
{
	(void)why;
	(void)arg;
	if (restart.tmp)
		unlink(restart.tmp);
	/* The handler runs with SIGSEGV blocked, and execve keeps the mask:
	 * the new run must be able to report a fault of its own. */
	sigset_t segv;
	sigemptyset(&segv);
	sigaddset(&segv, SIGSEGV);
	sigprocmask(SIG_UNBLOCK, &segv, NULL);
	if (restart_argv && restart.envp)
		execve("/proc/self/exe", restart_argv, restart.envp);
	static const char msg[] = "coreheap: error: the heap index is damaged and the command could not restart\n";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	_exit(CH_EXIT_INTERNAL);
}

extern char **environ;

static void restart_arm(struct ch_session *s, const char *path)
{
	free(restart.envp ? restart.envp[restart.nenv] : NULL);
	free(restart.envp);
	restart.envp = NULL;
	size_t n = 0;
	while (environ[n])
		n++;
	char **envp = malloc((n + 2) * sizeof(*envp));
	size_t len = strlen(CH_INDEX_REJECT_ENV) + strlen(path) + 2;
	char *var = malloc(len);
	if (!envp || !var) {
		free(envp);
		free(var);
		return; /* the hook then ends the process with an error */
	}
	snprintf(var, len, "%s=%s", CH_INDEX_REJECT_ENV, path);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], CH_INDEX_REJECT_ENV "=", strlen(CH_INDEX_REJECT_ENV) + 1) != 0)
			envp[k++] = environ[i];
	restart.nenv = k;
	envp[k++] = var;
	envp[k] = NULL;
	restart.envp = envp;
	restart.tmp = s->output.tmp;
	ch_index_lazy_on_fail(restart_now, NULL);
}

/* Whether this run is the restart of one whose block of the index at path
 * failed (the variable is then dropped: a command it runs is not one). */
static bool restart_rejects(const char *path)
{
	const char *v = getenv(CH_INDEX_REJECT_ENV);
	if (!v || strcmp(v, path) != 0)
		return false;
	unsetenv(CH_INDEX_REJECT_ENV);
	return true;
}

static struct ch_error *build(struct ch_session *s, struct ch_heap *heap, struct ch_edges *edges)
{
	struct ch_error *err = ch_heap_build(heap, s->py, ch_progress_update, &s->progress);
	if (!err && (err = ch_edges_build(edges, heap, ch_progress_update, &s->progress)))
		ch_heap_deinit(heap);
	return err;
}

/* The session's tie to the index its heap is in (its stored tree, if
 * any, was set by the load). */
static void tie(struct ch_session *s, const char *path, const struct ch_heap_index_key *key, const struct ch_heap *heap,
		const struct ch_edges *edges)
{
	struct ch_heap_index_ref *r = &s->index_ref;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->key = *key;
	r->nobjects = heap->objects.n;
	r->nedges = edges->nedges;
}

struct ch_error *ch_session_heap_build(struct ch_session *s, struct ch_heap *heap, struct ch_edges *edges,
				       struct ch_gc_replay *replay, enum ch_index_use use, struct ch_index_report *report)
{
	if (replay)
		memset(replay, 0, sizeof(*replay));
	struct ch_index_report scratch;
	if (!report)
		report = &scratch;
	memset(report, 0, sizeof(*report));
	struct ch_heap_index_key key;
	/* --verify-traverse emulates while it builds: a loaded heap would skip
	 * the check it asks for. A piped or inflated core has no identity. */
	if (s->opts.no_index || s->opts.verify_traverse || strcmp(s->opts.core, "-") == 0 || !index_key(s, &key))
		return build(s, heap, edges);
	char beside[PATH_MAX], cached[PATH_MAX];
	index_paths(s->opts.core, beside, cached, sizeof(beside));
	const char *tried[2] = {beside, cached};
	const char *existing = NULL;
	for (int i = 0; i < 2; i++) {
		if (!tried[i][0])
			continue;
		enum ch_heap_index_outcome outcome;
		char why[256];
		const uint8_t *state;
		if (restart_rejects(tried[i])) {
			ch_diag_warn(&s->py->diag, "the heap index %s was not used: damaged; a block read during the command "
						   "failed its check, so the command ran again from the core",
				     tried[i]);
			if (!existing)
				existing = tried[i];
			continue;
		}
		if (s->needs & CH_NEED_LAZY)
			restart_arm(s, tried[i]); /* a block may fail while the load reads */
		struct ch_error *err = ch_heap_index_load(tried[i], &key, s->py, &s->needs, s->cmd ? s->cmd->index_eager : 0, heap, edges, &state, &s->index_ref.doms,
							  &s->index_ref.mem, &s->index_ref.roots, &s->index_ref.paths,
							  &s->index_ref.scan, &outcome, why, sizeof(why));
		if (err)
			return err;
		if (outcome == CH_HEAP_INDEX_LOADED && replay && state &&
		    (err = ch_gc_replay_from_state(replay, heap, state))) {
			ch_edges_deinit(edges);
			ch_heap_deinit(heap);
			return err;
		}
		if (outcome == CH_HEAP_INDEX_LOADED) {
			snprintf(report->path, sizeof(report->path), "%s", tried[i]);
			report->loaded = true;
			tie(s, tried[i], &key, heap, edges);
			return NULL;
		}
		if (outcome == CH_HEAP_INDEX_ABSENT)
			continue;
		ch_diag_warn(&s->py->diag, "the heap index %s was not used: %s; %s", tried[i],
			     outcome == CH_HEAP_INDEX_STALE ? "stale" : "damaged", why);
		if (!existing)
			existing = tried[i];
	}
	struct ch_heap_index_mark mark;
	ch_heap_index_mark_take(s->py, &mark);
	struct ch_error *err = build(s, heap, edges);
	if (err)
		return err;
	bool want = use == CH_INDEX_WRITE || existing || heap->objects.n >= CH_INDEX_AUTO_OBJECTS;
	if (!want)
		return NULL;
	const char *target = existing ? existing : dir_writable(beside) ? beside : cached;
	if (!target[0]) {
		ch_diag_warn(&s->py->diag, "no heap index written: %s's folder is not writable and there is no cache folder "
					   "($XDG_CACHE_HOME or $HOME)", s->opts.core);
		return NULL;
	}
	if (target == cached)
		make_parent(cached);
	/* The GC replay goes into the index too: computed here, and handed
	 * to the caller when it wants one. */
	struct ch_gc_replay own = {0}, *r = replay ? replay : &own;
	struct ch_error *werr = ch_gc_replay_run(r, heap, edges, true);
	ch_objects_index_settle(&heap->objects); /* the index stores the address table */
	if (!werr)
		werr = ch_heap_index_write(target, &key, heap, edges, r, &mark);
	ch_gc_replay_deinit(&own);
	if (werr) {
		ch_diag_warn(&s->py->diag, "no heap index written: %s", werr->message);
		ch_error_free(werr);
		return NULL;
	}
	snprintf(report->path, sizeof(report->path), "%s", target);
	report->written = true;
	tie(s, target, &key, heap, edges);
	return NULL;
}
