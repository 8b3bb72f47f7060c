/* The asyncio tasks (and futures) of a heap, and what is wrong with them.
 *
 * Every object of the heap graph whose class is an asyncio Task or Future
 * (the C _asyncio types, the pure-Python ones, subclasses: readers/cpython/
 * py_asyncio.h) is read: state, name, the coroutine chain it is suspended
 * in (the task's coroutine, then what each coroutine awaits, listed
 * innermost first), what it waits on (fut_waiter), which tasks wait on it
 * (their fut_waiter, or a gather() future whose children it is among),
 * its exception and whether it was retrieved, its retained size (graph/
 * dominators.h) and whether asyncio's registry lists it. So done tasks
 * the program still holds are found as well as scheduled ones.
 *
 * Findings, each naming the task:
 *  - DONE_REFERENCED: a finished or cancelled task some root still reaches,
 *    with the shortest path (graph/paths.h) that keeps it;
 *  - UNRETRIEVED: a task that finished with an exception nobody retrieved
 *    (asyncio logs "Task exception was never retrieved" when it dies);
 *  - NEVER_COMPLETES: a pending task whose awaited future nothing outside
 *    the task holds (no root reaches the future, or every path to it passes
 *    through the task: it dominates it), so nothing can ever set it;
 *  - AWAIT_CYCLE: tasks that await each other in a ring.
 * The await relation between tasks (awaits / awaited_by) is what --tree
 * prints, as `python -m asyncio pstree` does. */
#ifndef CH_TASKS_H
#define CH_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/analysis.h"
#include "graph/paths.h"
#include "readers/base/index_hash.h"
#include "readers/cpython/py_asyncio.h"
#include "readers/cpython/py_code.h"

struct ch_roots;

/* One coroutine (or generator) on a task's chain. */
struct ch_task_frame {
	uint64_t gen;
	char qualname[CH_PY_FUNCTION_MAX];
	uint32_t code;   /* index into ch_tasks.codes, UINT32_MAX when unreadable */
	int32_t line;
};

struct ch_task {
	uint32_t object;                 /* index in the heap's object table */
	struct ch_py_future f;           /* what the reader found (f.kind: C/Python, task/future) */
	bool readable;                   /* false: the object could not be read (see problem) */
	const char *registry;            /* asyncio.tasks name of the registry listing it, or NULL */
	int64_t thread;                  /* 3.14+: native id of the thread whose task list holds it; -1: none */
	size_t frames_first, nframes;    /* into ch_tasks.frames, innermost first */
	uint64_t leaf;                   /* the innermost awaited object that is not a coroutine, 0 if none */
	size_t awaits_first, nawaits;    /* tasks it waits on (fut_waiter, or a gather()'s children): into ch_tasks.links */
	size_t by_first, nby;            /* tasks and futures waiting on it: into ch_tasks.links */
	char exc_type[128], exc_msg[256];
	bool reachable;                  /* some root reaches it */
	uint64_t retained;               /* retained bytes (dominators), 0 when unreachable */
};

enum ch_task_finding_kind {
	CH_TASK_DONE_REFERENCED,
	CH_TASK_UNRETRIEVED,
	CH_TASK_NEVER_COMPLETES,
	CH_TASK_AWAIT_CYCLE,
};

struct ch_task_finding {
	enum ch_task_finding_kind kind;
	uint32_t task;                   /* index into ch_tasks.v */
	uint32_t future;                 /* NEVER_COMPLETES: object index of the awaited future */
	bool future_reachable;           /* NEVER_COMPLETES: some root reaches the future (through the task) */
	struct ch_path_set path;         /* DONE_REFERENCED: the chain that keeps it */
	size_t cycle_first, ncycle;      /* AWAIT_CYCLE: into ch_tasks.links (task indexes, in await order) */
};

struct ch_tasks {
	const struct ch_py_asyncio *aio; /* kept by the ch_python (ch_py_asyncio_get) */
	struct ch_task *v;
	size_t n, cap;
	size_t ntasks, nfutures, npending, ndone, ncancelled, nregistered, nunreadable;
	struct ch_task_frame *frames;
	size_t nframes, frames_cap;
	struct ch_py_code *codes;
	size_t ncodes, codes_cap;
	struct ch_index_hash code_index;
	uint32_t *links;                 /* task indexes for awaits, awaited_by, cycles */
	size_t nlinks, links_cap;
	struct ch_task_finding *findings;
	size_t nfindings, findings_cap;
	char problem[512];               /* why some objects were unreadable (the first reason) */
};

/* Reads every task (with futures: every future too) of the analysed heap
 * and computes the findings. Only out-of-memory is an error; an unreadable
 * object is kept with readable false and counted. */
struct ch_error *ch_tasks_collect(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a,
				  const struct ch_roots *roots, bool futures);
/* The same over the path search and dominator tree of roots' root set
 * when the caller has them (the suspects run); NULL: computed here.
 * Unlike ch_tasks_collect it leaves the unreadable objects (nunreadable,
 * problem) for the caller to report as fits its answer. */
struct ch_dominators;
struct ch_error *ch_tasks_collect_over(struct ch_tasks *t, struct ch_python *py, const struct ch_analysis *a,
				       const struct ch_roots *roots, bool futures, const struct ch_paths *p,
				       const struct ch_dominators *d);
void ch_tasks_deinit(struct ch_tasks *t);

const char *ch_task_state_name(enum ch_py_fut_state s);
const char *ch_task_finding_name(enum ch_task_finding_kind k);

#endif
