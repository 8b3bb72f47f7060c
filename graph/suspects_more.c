/* The suspects other analyses find (graph/suspects.h): asyncio task leaks
 * from graph/tasks.h and memory the objects do not explain from
 * graph/memory.h. Their titles are written here, while those analyses are
 * at hand: the report keeps neither. */
#include "suspects.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/memory.h"
#include "graph/tasks.h"


/* "9.9 KiB" (B below 10 KiB): the reports' human size, without their layer. */
static void human(uint64_t b, char *buf, size_t n)
{
	if (b < 10 * 1024)
		snprintf(buf, n, "%" PRIu64 " B", b);
	else if (b < 10ULL << 20)
		snprintf(buf, n, "%.1f KiB", b / 1024.0);
	else if (b < 10ULL << 30)
		snprintf(buf, n, "%.1f MiB", b / 1048576.0);
	else
		snprintf(buf, n, "%.1f GiB", b / 1073741824.0);
}

/* 1,234,567 */
static const char *sep(uint64_t v, char *buf, size_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	return buf;
}

/* Appends "'name'" of up to three tasks, then ", ..." */
static void names(char *buf, size_t n, const struct ch_tasks *t, const uint32_t *tasks, size_t k)
{
	size_t at = strlen(buf);
	for (size_t i = 0; i < k && i < 3 && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s'%s'", i ? ", " : "", t->v[tasks[i]].f.name_text);
	if (k > 3 && at < n)
		snprintf(buf + at, n - at, ", ...");
}

static bool unretrieved(const struct ch_tasks *t, uint32_t task)
{
	for (size_t j = 0; j < t->nfindings; j++)
		if (t->findings[j].kind == CH_TASK_UNRETRIEVED && t->findings[j].task == task)
			return true;
	return false;
}

/* Done tasks still referenced: one suspect, those whose exception nobody
 * retrieved named first, the path of the biggest given. */
static struct ch_error *done_tasks(struct ch_suspects *s, const struct ch_tasks *t)
{
	size_t k = 0, nexc = 0;
	uint64_t bytes = 0;
	uint32_t *v = malloc((t->nfindings ? t->nfindings : 1) * sizeof(*v));
	if (!v)
		return &ch_error_nomem;
	const struct ch_task_finding *first = NULL;
	const struct ch_task *exc = NULL; /* the biggest with an unretrieved exception */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < t->nfindings; i++) {
			const struct ch_task_finding *f = &t->findings[i];
			if (f->kind != CH_TASK_DONE_REFERENCED || unretrieved(t, f->task) != (pass == 0))
				continue;
			const struct ch_task *task = &t->v[f->task];
			v[k++] = f->task;
			bytes += task->retained;
			if (!first || task->retained > t->v[first->task].retained)
				first = f;
			if (pass == 0) {
				nexc++;
				if (!exc || task->retained > exc->retained)
					exc = task;
			}
		}
	if (!k) {
		free(v);
		return NULL;
	}
	struct ch_suspect *x = ch_suspects_append(s, CH_SUSPECT_TASKS, bytes, k);
	if (!x) {
		free(v);
		return &ch_error_nomem;
	}
	const struct ch_task *big = &t->v[first->task];
	x->object = x->sample = big->object;
	/* the chain that keeps the biggest: a copy, the tasks own theirs */
	if (first->path.n && first->path.paths[0].nhops) {
		const struct ch_path *p = &first->path.paths[0];
		x->path.hops = malloc(p->nhops * sizeof(*p->hops));
		if (!x->path.hops) {
			free(v);
			return &ch_error_nomem;
		}
		memcpy(x->path.hops, p->hops, p->nhops * sizeof(*p->hops));
		x->path.nhops = p->nhops;
		x->path.root = p->root;
	}
	char hb[32], b1[32], b2[32];
	human(bytes, hb, sizeof(hb));
	snprintf(x->title, sizeof(x->title), "%zu done asyncio task%s still referenced (", k, k == 1 ? "" : "s");
	names(x->title, sizeof(x->title), t, v, k);
	size_t at = strlen(x->title);
	if (exc && at < sizeof(x->title))
		snprintf(x->title + at, sizeof(x->title) - at, "); %zu with an exception never retrieved, "
			 "e.g. %.100s('%.100s'); retaining %s", nexc, exc->exc_type[0] ? exc->exc_type : "?",
			 exc->exc_msg, hb);
	else if (at < sizeof(x->title))
		snprintf(x->title + at, sizeof(x->title) - at, "), retaining %s", hb);
	snprintf(x->evidence, sizeof(x->evidence), "%s bytes retained by the done tasks; the biggest, '%s', "
		 "retains %s bytes (its result or exception, traceback and frames)", sep(bytes, b1, sizeof(b1)),
		 big->f.name_text, sep(big->retained, b2, sizeof(b2)));
	free(v);
	return NULL;
}

/* Pending tasks that can never complete: one suspect. */
static struct ch_error *stuck_tasks(struct ch_suspects *s, const struct ch_tasks *t)
{
	size_t k = 0;
	uint64_t bytes = 0;
	uint32_t v[3];
	const struct ch_task_finding *first = NULL;
	for (size_t i = 0; i < t->nfindings; i++) {
		const struct ch_task_finding *f = &t->findings[i];
		if (f->kind != CH_TASK_NEVER_COMPLETES)
			continue;
		if (k < 3)
			v[k] = f->task;
		k++;
		bytes += t->v[f->task].retained;
		if (!first)
			first = f;
	}
	if (!k)
		return NULL;
	struct ch_suspect *x = ch_suspects_append(s, CH_SUSPECT_TASKS, bytes, k);
	if (!x)
		return &ch_error_nomem;
	x->object = x->sample = t->v[first->task].object;
	snprintf(x->title, sizeof(x->title), "%zu pending asyncio task%s can never complete (", k, k == 1 ? "" : "s");
	names(x->title, sizeof(x->title), t, v, k < 3 ? k : 3);
	size_t at = strlen(x->title);
	if (at < sizeof(x->title))
		snprintf(x->title + at, sizeof(x->title) - at, "%s): each awaits a future nothing outside it holds%s",
			 k > 3 ? ", ..." : "", t->v[first->task].reachable ? "" : "; no root reaches the first either");
	snprintf(x->evidence, sizeof(x->evidence), "'%s' awaits 0x%" PRIx64 ", which %s", t->v[first->task].f.name_text,
		 t->v[first->task].f.waiter,
		 first->future_reachable ? "only paths through the task reach" : "no root reaches");
	return NULL;
}

/* Each await cycle: one suspect. */
static struct ch_error *cycle_tasks(struct ch_suspects *s, const struct ch_tasks *t)
{
	for (size_t i = 0; i < t->nfindings; i++) {
		const struct ch_task_finding *f = &t->findings[i];
		if (f->kind != CH_TASK_AWAIT_CYCLE || !f->ncycle)
			continue;
		uint64_t bytes = 0;
		for (size_t j = 0; j < f->ncycle; j++)
			bytes += t->v[t->links[f->cycle_first + j]].retained;
		struct ch_suspect *x = ch_suspects_append(s, CH_SUSPECT_TASKS, bytes, f->ncycle);
		if (!x)
			return &ch_error_nomem;
		x->object = x->sample = t->v[f->task].object;
		snprintf(x->title, sizeof(x->title), "%zu asyncio tasks await each other in a ring (", f->ncycle);
		names(x->title, sizeof(x->title), t, t->links + f->cycle_first, f->ncycle);
		size_t at = strlen(x->title);
		if (at < sizeof(x->title))
			snprintf(x->title + at, sizeof(x->title) - at, "): none of them can complete");
		snprintf(x->evidence, sizeof(x->evidence), "an await cycle of %zu tasks", f->ncycle);
	}
	return NULL;
}

struct ch_error *ch_suspects_add_tasks(struct ch_suspects *s, const struct ch_analysis *a, const struct ch_tasks *t)
{
	(void)a;
	struct ch_error *err = done_tasks(s, t);
	if (!err)
		err = stuck_tasks(s, t);
	if (!err)
		err = cycle_tasks(s, t);
	return err;
}

struct ch_error *ch_suspects_add_memory(struct ch_suspects *s, const struct ch_memory_brief *m)
{
	if (!ch_memory_brief_flag(m, CH_MEMB_GLIBC_FOUND))
		return NULL;
	const uint64_t *w = m->w, *by = &m->w[CH_MEMB_BYTES];
	uint64_t unref = w[CH_MEMB_UNREF_BYTES], unref_chunks = w[CH_MEMB_UNREF_CHUNKS];
	uint64_t in_use = by[CH_MEM_GLIBC_IN_USE] + by[CH_MEM_GLIBC_MMAPPED];
	uint64_t allocator = w[CH_MEMB_ARENA] + w[CH_MEMB_MMAPPED];
	char a[32], b[32];
	if (unref >= CH_SUSPECT_NATIVE_MIN &&
	    (double)unref >= CH_SUSPECT_NATIVE_SHARE * (double)in_use) {
		struct ch_suspect *x = ch_suspects_append(s, CH_SUSPECT_MEMORY, unref, unref_chunks);
		if (!x)
			return &ch_error_nomem;
		x->share_of = allocator;
		human(unref, a, sizeof(a));
		snprintf(x->title, sizeof(x->title),
			 "%" PRIu64 " in-use malloc chunks (%s) that nothing points at: native memory leaked by C code or "
			 "an extension; largest group %" PRIu64 " x %" PRIu64 " B, first at 0x%" PRIx64,
			 unref_chunks, a, w[CH_MEMB_LEAK_CHUNKS], w[CH_MEMB_LEAK_SIZE], w[CH_MEMB_LEAK_FIRST]);
		human(in_use, b, sizeof(b));
		char c[32];
		snprintf(x->evidence, sizeof(x->evidence),
			 "%s bytes in chunks no word of the process points at (of %s in use); no Python object "
			 "owns them", sep(unref, c, sizeof(c)), b);
	}
	uint64_t free_bytes = by[CH_MEM_GLIBC_TCACHE] + by[CH_MEM_GLIBC_FASTBINS] +
			      by[CH_MEM_GLIBC_UNSORTED] + by[CH_MEM_GLIBC_SMALL] + by[CH_MEM_GLIBC_LARGE];
	uint64_t arena = w[CH_MEMB_ARENA];
	if (arena && free_bytes >= CH_SUSPECT_FRAG_MIN && (double)free_bytes >= CH_SUSPECT_FRAG_SHARE * (double)arena) {
		uint64_t chunks = w[CH_MEMB_FREE_CHUNKS];
		struct ch_suspect *x = ch_suspects_append(s, CH_SUSPECT_MEMORY, free_bytes, chunks);
		if (!x)
			return &ch_error_nomem;
		x->share_of = allocator;
		human(free_bytes, a, sizeof(a));
		human(arena, b, sizeof(b));
		snprintf(x->title, sizeof(x->title),
			 "%s of glibc's arenas (%.0f %% of %s) is free memory between live chunks: fragmentation, which "
			 "the process keeps; malloc_trim(0) or another allocator would return some of it",
			 a, 100.0 * (double)free_bytes / (double)arena, b);
		char c1[32], c2[32];
		snprintf(x->evidence, sizeof(x->evidence), "%s free chunks (%s bytes) in tcaches and bins, the top chunks left out",
			 sep(chunks, c1, sizeof(c1)), sep(free_bytes, c2, sizeof(c2)));
	}
	return NULL;
}
