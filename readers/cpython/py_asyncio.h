/* asyncio Futures and Tasks in the dump: which objects are ones, and what
 * each holds (state, name, coroutine, the future it waits on, exception and
 * whether it was retrieved), for both implementations:
 *
 *  - the C types of the _asyncio module (FutureObj / TaskObj): fields from
 *    the layout (FUT_*, TASK_*), which come from the DWARF of the module
 *    defining them, the runtime's when _asyncio is built in, else the
 *    extension's own (embedded, or its separate debug file); loaded on the
 *    first ch_py_asyncio_init;
 *  - the pure-Python classes asyncio.futures._PyFuture / asyncio.tasks._PyTask
 *    (used when _asyncio is missing, or explicitly): instance attributes
 *    (_state is 'PENDING' / 'CANCELLED' / 'FINISHED', _coro, _fut_waiter,
 *    _name, _exception, the name-mangled _Future__log_traceback).
 * Subclasses count as their base (the class's MRO is searched).
 *
 * The registries asyncio keeps of scheduled tasks are read: 3.8-3.11
 * asyncio.tasks._all_tasks, 3.12+ _scheduled_tasks (WeakSets), 3.12+
 * _eager_tasks (a set), all through the asyncio.tasks module; and 3.14+
 * the circular lists of pending native tasks in each thread state and in
 * the interpreter state (tasks of threads that exited), linked through
 * TaskObj.task_node. Where _asyncio exports its _Py_AsyncioModuleDebugOffsets
 * (section .AsyncioDebug, 3.14+), the task and task-list offsets coreheap
 * uses are checked against it: a disagreement is a warning. */
#ifndef CH_PY_ASYNCIO_H
#define CH_PY_ASYNCIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/cpython/py_value.h"

struct ch_python;

enum ch_py_aio_kind {
	CH_AIO_NONE,
	CH_AIO_C_FUTURE,
	CH_AIO_C_TASK,
	CH_AIO_PY_FUTURE,
	CH_AIO_PY_TASK,
};

static inline bool ch_aio_is_task(enum ch_py_aio_kind k)
{
	return k == CH_AIO_C_TASK || k == CH_AIO_PY_TASK;
}

enum ch_py_fut_state { CH_FUT_UNKNOWN, CH_FUT_PENDING, CH_FUT_CANCELLED, CH_FUT_FINISHED };

struct ch_py_asyncio {
	/* class objects, 0 when not found */
	uint64_t c_future, c_task, py_future, py_task, gathering;
	uint64_t coro_type, gen_type, asyncgen_type;
	bool c_fields;        /* the C types' fields are known */
	/* 3.14+: offsets of the exported _Py_AsyncioModuleDebugOffsets checked
	 * against the layout in use, and how many disagreed (each a warning);
	 * checked 0: no .AsyncioDebug section, or no DWARF describing it */
	unsigned debug_checked, debug_mismatches;
	char c_problem[512];  /* why not, when !c_fields */
	struct ch_py_builtins b;
};

/* Finds the classes and loads the C layout. Never fails for a process that
 * does not use asyncio (every class 0); only out-of-memory is an error. */
struct ch_error *ch_py_asyncio_init(struct ch_python *py, struct ch_py_asyncio *a);

/* The same, done once per ch_python and kept there; NULL when out of
 * memory. */
const struct ch_py_asyncio *ch_py_asyncio_get(struct ch_python *py);

/* Which of the four (or a subclass) the type at type_addr is. */
enum ch_py_aio_kind ch_py_asyncio_classify(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t type_addr);

struct ch_py_future {
	enum ch_py_aio_kind kind;
	enum ch_py_fut_state state;
	uint64_t loop, coro, waiter, name, exception, result;
	int log_tb;           /* exception set and not retrieved: 1; 0; -1 unknown */
	char name_text[128];  /* tasks: the name get_name() returns ("Task-N" for 3.12+'s deferred int) */
};

/* Reads the future or task at obj (of kind k). CH_ERR_UNSUPPORTED for a C
 * object when the C layout is unknown (a->c_problem says why). */
struct ch_error *ch_py_future_read(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t obj,
				   enum ch_py_aio_kind k, struct ch_py_future *out);

/* The future a _asyncio.FutureIter (what `await c_future` suspends on)
 * iterates, 0 for any other object. */
uint64_t ch_py_asyncio_futureiter_target(struct ch_python *py, uint64_t obj);

/* The children of a gather() future (asyncio.tasks._GatheringFuture or a
 * subclass: its _children list), up to max of them into out; *n is how many
 * were stored. Any other object has none. */
void ch_py_gather_children(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t fut, uint64_t *out, size_t max,
			   size_t *n);

/* Type name (as the type table spells it) and str() of an exception, as
 * far as it is exact: str() of no args is "", of one str arg the str, of
 * one other arg its rendering; of several args the tuple's rendering. */
void ch_py_exception_text(struct ch_python *py, const struct ch_py_builtins *b, uint64_t exc, char *type, size_t ntype,
			  char *msg, size_t nmsg);

/* Calls fn for every task in asyncio's registries (name is the registry's
 * module-level name, e.g. "_scheduled_tasks", or "thread asyncio_tasks_head"
 * / "interpreter asyncio_tasks_head"), dead weak references skipped. Registries that are absent are skipped silently; damage is an
 * error. thread: for a task found on a thread state's list (3.14+), that
 * thread's native id (gettid(), as `stacks` names threads; its pthread id
 * when the version records no native id); -1 for any other registry. */
typedef int (*ch_py_registry_fn)(void *arg, uint64_t task, const char *registry, int64_t thread);
struct ch_error *ch_py_asyncio_registries(struct ch_python *py, const struct ch_py_asyncio *a, ch_py_registry_fn fn,
					  void *arg);

#endif
