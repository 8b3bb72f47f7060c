#include "graph/tasks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/dominators.h"
#include "readers/base/grow.h"
#include "graph/root_set.h"
#include "graph/roots.h"
#include "readers/cpython/py_gen.h"
#include "readers/cpython/python.h"

/* Longer coroutine chains, or more gather() children, than these mean the
 * objects are corrupt (or a chain loops): the walk stops there. */
#define CH_TASK_MAX_CHAIN 1024
#define CH_TASK_MAX_CHILDREN 65536

_Static_assert(offsetof(struct ch_py_code, address) == 0, "address must lead struct ch_py_code");


static struct ch_error *push_link(struct ch_tasks *t, uint32_t v)
{
	struct ch_error *err = ch_grow((void **)&t->links, &t->links_cap, t->nlinks + 1, sizeof(*t->links));
	if (!err)
		t->links[t->nlinks++] = v;
	return err;
}

static struct ch_error *code_index(struct ch_tasks *t, const struct ch_py_code *c, uint32_t *idx)
{
	uint32_t found = ch_index_hash_find(&t->code_index, t->codes, sizeof(*t->codes), c->address);
	if (found != CH_INDEX_NONE) {
		*idx = found;
		return NULL;
	}
	struct ch_error *err = ch_grow((void **)&t->codes, &t->codes_cap, t->ncodes + 1, sizeof(*t->codes));
	if (err || (err = ch_index_hash_reserve(&t->code_index, t->codes, sizeof(*t->codes), t->ncodes + 1)))
		return err;
	t->codes[t->ncodes] = *c;
	ch_index_hash_insert(&t->code_index, c->address, (uint32_t)t->ncodes);
	*idx = (uint32_t)t->ncodes++;
	return NULL;
}

/* The coroutine chain of one task: its coroutine, then what each suspended
 * coroutine awaits, until an object that is not a generator (a Future, or
 * the FutureIter over one: that future is the leaf). Stored innermost first. */
static struct ch_error *chain(struct ch_tasks *t, struct ch_python *py, struct ch_task *task)
{
	const struct ch_py_asyncio *a = t->aio;
	task->frames_first = t->nframes;
	uint64_t obj = task->f.coro;
	for (size_t depth = 0; obj && depth < CH_TASK_MAX_CHAIN; depth++) {
		uint64_t type;
		if (!ch_error_ok(ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type)))
			break;
		bool coro = type == a->coro_type;
		if (!coro && type != a->gen_type && type != a->asyncgen_type) {
			uint64_t fut = ch_py_asyncio_futureiter_target(py, obj);
			task->leaf = fut ? fut : obj;
			break;
		}
		struct ch_py_gen_info g;
		if (!ch_error_ok(ch_py_gen_read(py, obj, coro, &g)) || g.state == CH_PY_GEN_FINISHED)
			break;
		struct ch_error *err = ch_grow((void **)&t->frames, &t->frames_cap, t->nframes + 1, sizeof(*t->frames));
		if (err)
			return err;
		struct ch_task_frame *f = &t->frames[t->nframes];
		f->gen = obj;
		memcpy(f->qualname, g.qualname, sizeof(f->qualname));
		f->line = g.line;
		f->code = UINT32_MAX;
		if (g.has_code && (err = code_index(t, &g.code, &f->code)))
			return err;
		t->nframes++;
		if (!g.await_known || !g.awaiting || g.awaiting == obj)
			break;
		obj = g.awaiting;
	}
	task->nframes = t->nframes - task->frames_first;
	for (size_t i = 0, j = task->nframes; i + 1 < j; i++, j--) {
		struct ch_task_frame tmp = t->frames[task->frames_first + i];
		t->frames[task->frames_first + i] = t->frames[task->frames_first + j - 1];
		t->frames[task->frames_first + j - 1] = tmp;
	}
	return NULL;
}

/* Every task (and with futures, every future) of the heap, in object-table order. */
static struct ch_error *find(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a, bool futures)
{
	const struct ch_object_table *o = &a->heap.objects;
	size_t ntypes = py->types.n;
	uint8_t *kind = calloc(ntypes ? ntypes : 1, 1); /* per type index: enum ch_py_aio_kind + 1, 0 not wanted */
	if (!kind)
		return &ch_error_nomem;
	/* Each type classified once, up front: the scan over the objects
	 * then reads one byte per object, and is skipped when no type is
	 * one asked for (no asyncio, or no task type). */
	bool any = false;
	for (size_t ti = 0; ti < ntypes; ti++) {
		enum ch_py_aio_kind k = ch_py_asyncio_classify(py, t->aio, py->types.v[ti].addr);
		bool wanted = k != CH_AIO_NONE && (futures || ch_aio_is_task(k));
		kind[ti] = wanted ? (uint8_t)(k + 1) : 0;
		any |= wanted;
	}
	struct ch_error *err = NULL;
	for (size_t i = 0; any && i < o->n && !err; i++) {
		uint32_t ti = o->type[i];
		if (ti >= ntypes || !kind[ti])
			continue;
		enum ch_py_aio_kind k = (enum ch_py_aio_kind)(kind[ti] - 1);
		if ((err = ch_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v))))
			break;
		struct ch_task *task = &t->v[t->n++];
		memset(task, 0, sizeof(*task));
		task->object = (uint32_t)i;
		task->thread = -1;
		struct ch_error *rerr = ch_py_future_read(py, t->aio, o->addr[i], k, &task->f);
		task->readable = rerr == NULL;
		if (rerr) {
			task->f.kind = k;
			if (!t->problem[0])
				snprintf(t->problem, sizeof(t->problem), "%s", rerr->message);
			t->nunreadable++;
			ch_error_free(rerr);
		}
	}
	free(kind);
	return err; /* appended in object order: task_of_object searches it */
}

static uint32_t task_of_object(const struct ch_tasks *t, uint32_t obj)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->v[mid].object < obj)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->v[lo].object == obj ? (uint32_t)lo : UINT32_MAX;
}

static uint32_t task_at(const struct ch_tasks *t, const struct ch_analysis *a, uint64_t addr)
{
	uint32_t obj = addr ? ch_objects_find(&a->heap.objects, addr) : CH_NO_OBJECT;
	return obj == CH_NO_OBJECT ? UINT32_MAX : task_of_object(t, obj);
}

struct reg_ctx {
	struct ch_tasks *t;
	const struct ch_analysis *a;
};

static int registered(void *arg, uint64_t addr, const char *registry, int64_t thread)
{
	struct reg_ctx *c = arg;
	uint32_t i = task_at(c->t, c->a, addr);
	if (i != UINT32_MAX && thread >= 0)
		c->t->v[i].thread = thread;
	if (i != UINT32_MAX && !c->t->v[i].registry) {
		c->t->v[i].registry = registry;
		c->t->nregistered++;
	}
	return 0;
}

/* Await edges between listed entries: a task waits on its fut_waiter, and
 * through a gather() future on that future's children. */
struct edge {
	uint32_t from, to;
};

static int edge_from(const void *x, const void *y)
{
	const struct edge *a = x, *b = y;
	return a->from != b->from ? (a->from < b->from ? -1 : 1) : (a->to > b->to) - (a->to < b->to);
}

static int edge_to(const void *x, const void *y)
{
	const struct edge *a = x, *b = y;
	return a->to != b->to ? (a->to < b->to ? -1 : 1) : (a->from > b->from) - (a->from < b->from);
}

static struct ch_error *await_edges(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a)
{
	struct edge *e = NULL;
	size_t ne = 0, cap = 0;
	uint64_t *kids = malloc(CH_TASK_MAX_CHILDREN * sizeof(*kids));
	struct ch_error *err = kids ? NULL : &ch_error_nomem;
	for (size_t i = 0; i < t->n && !err; i++) {
		const struct ch_task *task = &t->v[i];
		if (!task->f.waiter || task->f.state != CH_FUT_PENDING)
			continue;
		size_t nk = 0;
		uint32_t w = task_at(t, a, task->f.waiter);
		if (w != UINT32_MAX) {
			kids[nk++] = task->f.waiter;
		}
		size_t ng = 0;
		ch_py_gather_children(py, t->aio, task->f.waiter, kids + nk, CH_TASK_MAX_CHILDREN - nk, &ng);
		nk += ng;
		for (size_t k = 0; k < nk && !err; k++) {
			uint32_t to = task_at(t, a, kids[k]);
			if (to == UINT32_MAX || to == i)
				continue;
			if (!(err = ch_grow((void **)&e, &cap, ne + 1, sizeof(*e))))
				e[ne++] = (struct edge){(uint32_t)i, to};
		}
	}
	free(kids);
	if (err) {
		free(e);
		return err;
	}
	if (ne)
		qsort(e, ne, sizeof(*e), edge_from);
	for (size_t k = 0; k < ne && !err; k++) {
		struct ch_task *task = &t->v[e[k].from];
		if (k > 0 && e[k].from == e[k - 1].from && e[k].to == e[k - 1].to)
			continue;
		if (!task->nawaits)
			task->awaits_first = t->nlinks;
		task->nawaits++;
		err = push_link(t, e[k].to);
	}
	if (ne)
		qsort(e, ne, sizeof(*e), edge_to);
	for (size_t k = 0; k < ne && !err; k++) {
		struct ch_task *task = &t->v[e[k].to];
		if (k > 0 && e[k].from == e[k - 1].from && e[k].to == e[k - 1].to)
			continue;
		if (!task->nby)
			task->by_first = t->nlinks;
		task->nby++;
		err = push_link(t, e[k].from);
	}
	free(e);
	return err;
}

static struct ch_error *add_finding(struct ch_tasks *t, enum ch_task_finding_kind kind, uint32_t task,
				    struct ch_task_finding **out)
{
	struct ch_error *err = ch_grow((void **)&t->findings, &t->findings_cap, t->nfindings + 1, sizeof(*t->findings));
	if (err)
		return err;
	struct ch_task_finding *f = &t->findings[t->nfindings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->task = task;
	f->future = CH_NO_OBJECT;
	if (out)
		*out = f;
	return NULL;
}

/* Await cycles among tasks: an iterative depth-first search (colour per
 * task, explicit stack of (task, next await edge)); a back edge to a task
 * on the stack closes a cycle, reported once with its members in await
 * order from the first one the search entered. */
static struct ch_error *cycles(struct ch_tasks *t)
{
	uint8_t *colour = calloc(t->n ? t->n : 1, 1);
	size_t *stack = malloc((t->n ? t->n : 1) * sizeof(*stack)), *next = calloc(t->n ? t->n : 1, sizeof(*next));
	struct ch_error *err = colour && stack && next ? NULL : &ch_error_nomem;
	for (size_t s = 0; s < t->n && !err; s++) {
		if (colour[s])
			continue;
		size_t depth = 0;
		stack[depth++] = s;
		colour[s] = 1;
		while (depth && !err) {
			size_t u = stack[depth - 1];
			const struct ch_task *tu = &t->v[u];
			if (next[u] == tu->nawaits) {
				colour[u] = 2;
				depth--;
				continue;
			}
			uint32_t v = t->links[tu->awaits_first + next[u]++];
			if (colour[v] == 0) {
				colour[v] = 1;
				stack[depth++] = v;
			} else if (colour[v] == 1) {
				size_t from = depth;
				while (from && stack[from - 1] != v)
					from--;
				struct ch_task_finding *f;
				if (!from || (err = add_finding(t, CH_TASK_AWAIT_CYCLE, v, &f)))
					continue;
				size_t first = t->nlinks;
				for (size_t k = from - 1; k < depth && !err; k++)
					err = push_link(t, (uint32_t)stack[k]);
				f = &t->findings[t->nfindings - 1];
				f->cycle_first = first;
				f->ncycle = depth - (from - 1);
			}
		}
	}
	free(colour);
	free(stack);
	free(next);
	return err;
}

/* Does task object `task` dominate object o (every root path to o passes through it)? */
static bool dominates(const struct ch_dominators *d, uint32_t task, uint32_t o)
{
	for (size_t steps = 0; o < d->nobjects && steps <= d->nobjects; steps++) {
		uint32_t up = d->idom[o];
		if (up == task)
			return true;
		if (up == CH_DOM_ROOT || up == CH_NO_OBJECT)
			return false;
		o = up;
	}
	return false;
}

static struct ch_error *findings(struct ch_tasks *t, const struct ch_analysis *a, const struct ch_paths *p,
				 const struct ch_dominators *d)
{
	struct ch_error *err = NULL;
	for (size_t i = 0; i < t->n && !err; i++) {
		struct ch_task *task = &t->v[i];
		if (!task->readable || !ch_aio_is_task(task->f.kind))
			continue;
		struct ch_task_finding *f;
		bool done = task->f.state == CH_FUT_FINISHED || task->f.state == CH_FUT_CANCELLED;
		if (done && task->reachable && !(err = add_finding(t, CH_TASK_DONE_REFERENCED, (uint32_t)i, &f)))
			err = ch_paths_to(&f->path, p, &a->edges, &a->heap, task->object, 1);
		if (!err && task->f.state == CH_FUT_FINISHED && task->f.exception && task->f.log_tb == 1)
			err = add_finding(t, CH_TASK_UNRETRIEVED, (uint32_t)i, NULL);
		if (err || task->f.state != CH_FUT_PENDING || !task->f.waiter)
			continue;
		uint32_t w = ch_objects_find(&a->heap.objects, task->f.waiter);
		if (w == CH_NO_OBJECT)
			continue;
		bool reached;
		if ((err = ch_paths_reached_checked(p, w, &reached)))
			break;
		if (reached && !dominates(d, task->object, w))
			continue;
		if (!(err = add_finding(t, CH_TASK_NEVER_COMPLETES, (uint32_t)i, &f))) {
			f->future = w;
			f->future_reachable = reached;
		}
	}
	return err ? err : cycles(t);
}

/* The search read along the tasks' chains only (each checked as it is
 * walked) and the dominator tree's sums with idom followed no further
 * than the object count, as the suspects run reads them: a stored search
 * and tree are taken without the checks over the whole of them (on the
 * 10M bench core, about a quarter of `tasks`' CPU from the index). */
static struct ch_error *collect_chains(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a,
				       const struct ch_roots *roots, bool futures)
{
	memset(t, 0, sizeof(*t)); /* the caller frees it whatever comes back */
	struct ch_paths p = {0};
	struct ch_dominators d = {0};
	struct ch_error *err = ch_root_set_dominators(&d, a, roots, false);
	if (!err && !(err = ch_root_set_paths_chains(&p, a, roots)))
		err = ch_tasks_collect_over(t, py, a, roots, futures, &p, &d);
	ch_paths_deinit(&p);
	ch_dominators_deinit(&d);
	return err;
}

struct ch_error *ch_tasks_collect(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a,
				  const struct ch_roots *roots, bool futures)
{
	struct ch_error *err = collect_chains(t, py, a, roots, futures);
	if (err && err->kind == CH_ERR_INPUT && a->index) {
		/* A chain found damaged: the stored search checked whole (said,
		 * and searched again when it fails), and everything found again. */
		ch_error_free(err);
		ch_tasks_deinit(t);
		err = ch_tasks_collect_over(t, py, a, roots, futures, NULL, NULL);
	}
	if (!err && t->nunreadable)
		ch_diag_partial(&py->diag, "%zu asyncio object(s) could not be read: %s", t->nunreadable, t->problem);
	return err;
}

struct ch_error *ch_tasks_collect_over(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a,
				       const struct ch_roots *roots, bool futures, const struct ch_paths *p,
				       const struct ch_dominators *d)
{
	memset(t, 0, sizeof(*t));
	if (!(t->aio = ch_py_asyncio_get(py)))
		return &ch_error_nomem;
	struct ch_error *err = find(t, py, a, futures);
	if (err)
		return err;
	for (size_t i = 0; i < t->n && !err; i++) {
		struct ch_task *task = &t->v[i];
		if (ch_aio_is_task(task->f.kind))
			t->ntasks++;
		else
			t->nfutures++;
		if (!task->readable)
			continue;
		t->npending += task->f.state == CH_FUT_PENDING;
		t->ndone += task->f.state == CH_FUT_FINISHED;
		t->ncancelled += task->f.state == CH_FUT_CANCELLED;
		if (task->f.exception)
			ch_py_exception_text(py, &t->aio->b, task->f.exception, task->exc_type, sizeof(task->exc_type),
					     task->exc_msg, sizeof(task->exc_msg));
		if (task->f.state == CH_FUT_PENDING && task->f.coro)
			err = chain(t, py, task);
	}
	struct reg_ctx rc = {t, a};
	if (err || (err = ch_py_asyncio_registries(py, t->aio, registered, &rc))) {
		if (err && err != &ch_error_nomem) {
			ch_diag_partial(&py->diag, "asyncio registry: %s", err->message);
			ch_error_free(err);
			err = NULL;
		}
		if (err)
			return err;
	}
	if ((err = await_edges(t, py, a)))
		return err;
	struct ch_paths own_p = {0};
	struct ch_dominators own_d = {0};
	if (!p && !(err = ch_root_set_paths(&own_p, a, roots)))
		p = &own_p;
	if (!err && !d && !(err = ch_root_set_dominators(&own_d, a, roots, true)))
		d = &own_d;
	if (!err) {
		for (size_t i = 0; i < t->n && !err; i++) {
			struct ch_task *task = &t->v[i];
			err = ch_paths_reached_checked(p, task->object, &task->reachable);
			task->retained = d->retained[task->object];
		}
		if (!err)
			err = findings(t, a, p, d);
	}
	ch_paths_deinit(&own_p);
	ch_dominators_deinit(&own_d);
	return err;
}

void ch_tasks_deinit(struct ch_tasks *t)
{
	for (size_t i = 0; i < t->nfindings; i++)
		ch_path_set_deinit(&t->findings[i].path);
	free(t->v);
	free(t->frames);
	free(t->codes);
	ch_index_hash_deinit(&t->code_index);
	free(t->links);
	free(t->findings);
	memset(t, 0, sizeof(*t));
}

const char *ch_task_state_name(enum ch_py_fut_state s)
{
	switch (s) {
	case CH_FUT_PENDING:
		return "pending";
	case CH_FUT_CANCELLED:
		return "cancelled";
	case CH_FUT_FINISHED:
		return "done";
	default:
		return "unknown";
	}
}

const char *ch_task_finding_name(enum ch_task_finding_kind k)
{
	switch (k) {
	case CH_TASK_DONE_REFERENCED:
		return "done_task_referenced";
	case CH_TASK_UNRETRIEVED:
		return "exception_never_retrieved";
	case CH_TASK_NEVER_COMPLETES:
		return "pending_forever";
	case CH_TASK_AWAIT_CYCLE:
		return "await_cycle";
	}
	return "?";
}
