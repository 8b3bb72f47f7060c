/* `coreheap tasks CORE [--tree] [--all]`: the asyncio tasks of the dumped
 * process, what each is doing, and the task leaks (graph/tasks.h). */
#include "commands.h"
#include "graph/analysis.h"
#include "graph/roots.h"
#include "graph/tasks.h"
#include "reports/report.h"
#include "session.h"

static int run_tasks(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots roots;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &roots, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_tasks t;
	ch_progress_update(&s.progress, "asyncio tasks", 0);
	struct ch_error *err = ch_tasks_collect(&t, s.py, &a, &roots, s.opts.every);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_tasks_json(s.py, &a, &roots, &t, s.opts.limit);
		else
			ch_report_tasks_text(s.out, s.py, &a, &roots, &t, s.opts.tree, s.opts.limit);
		code = ch_session_finish(&s, doc);
	}
	ch_tasks_deinit(&t);
	ch_roots_deinit(&roots);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_tasks = {
	.name = "tasks",
	.summary =
		"The asyncio tasks of the process: what each was doing, and the task leaks.\n\n"
		"Every asyncio Task on the heap is listed (with --all, every Future too), whether the\n"
		"event loop still schedules it or the program merely keeps it: the C _asyncio.Task and\n"
		"_asyncio.Future, the pure-Python asyncio.tasks._PyTask / asyncio.futures._PyFuture, and\n"
		"subclasses of any of them. For each: address, type, name (get_name()), state (pending,\n"
		"done, cancelled), and for a pending task its coroutine chain innermost first: the\n"
		"coroutine it is suspended in, then the coroutine that awaits it, up to the task's own\n"
		"coroutine (qualname, file:line; the last entry is what Task.get_stack() returns, the\n"
		"whole chain what `python -m asyncio ps` shows). Also: the future it waits on\n"
		"(fut_waiter), the tasks it waits on (that future, or the children of a gather()), the\n"
		"tasks waiting on it, the exception it holds (type, str() of it, whether it was\n"
		"retrieved), its retained size (what freeing it would free, as `top` computes it),\n"
		"whether a root reaches it, and which of asyncio's registries lists it\n"
		"(asyncio.tasks._all_tasks on 3.8-3.11, _scheduled_tasks and _eager_tasks on 3.12+).\n\n"
		"Findings, in plain words:\n"
		"  done_task_referenced       a finished or cancelled task something still holds, with\n"
		"                             the chain of references that holds it (as `path` prints it)\n"
		"  exception_never_retrieved  a task that ended with an exception nobody retrieved\n"
		"  pending_forever            a pending task whose awaited future nothing outside the\n"
		"                             task references (no root reaches the future, or only\n"
		"                             through the task): nothing can ever complete it\n"
		"  await_cycle                tasks that await each other in a ring\n\n"
		"--tree prints the await tree as `python -m asyncio pstree` does: each task nobody awaits\n"
		"at the top, below a task the tasks it awaits; a task met again (an await cycle) is named,\n"
		"not expanded.\n\n"
		"The C types' fields come from the DWARF of the _asyncio extension (embedded in pyenv\n"
		"builds; Debian: python3.X-dbg) or of the interpreter when _asyncio is built in. Without\n"
		"it C tasks are counted as unreadable and the result is partial (exit 5). On 3.14+ pending\n"
		"C tasks sit on per-thread lists (registry \"thread asyncio_tasks_head\"): each such task\n"
		"names its thread (thread N, the id stacks shows), and the offsets read are checked against\n"
		"the ones _asyncio exports (_Py_AsyncioModuleDebugOffsets): a mismatch is a warning.\n"
		"A coroutine chain is followed through coroutines; through\n"
		"a plain generator (yield from) only on 3.13+, where the frame state says it is in a\n"
		"`yield from` (before that the generator ends the chain).\n\n"
		"JSON: {\"runtime\", \"counts\": {tasks, futures, pending, done, cancelled, registered,\n"
		"unreadable}, \"tasks\": [{address, type, kind (task|future), implementation (c|python),\n"
		"name, state (pending|done|cancelled), coroutine: [{qualname, file, line}] innermost\n"
		"first, awaits (fut_waiter address or null), awaits_tasks, awaited_by: [addresses],\n"
		"exception: null|{type, message, retrieved}, retained_bytes (null when no root reaches\n"
		"it), reachable, registry, loop, thread (3.14+: native thread id, else null)}],\n"
		"\"findings\": [{kind, task, name, message, path, future, cycle}], \"asyncio_debug_offsets\":\n"
		"null|{checked, mismatches}}\n\n"
		"Options:\n"
		"  --tree               print the await tree instead of the flat list\n"
		"  --all                futures too, not only tasks\n"
		"  --limit N            list the first N tasks (default all; the counts and findings cover\n"
		"                       all; --tree always prints the whole tree)\n\n"
		"Examples:\n"
		"  coreheap tasks core.1234\n"
		"  coreheap tasks core.1234 --tree\n"
		"  coreheap tasks core.1234 --json | jq '.findings[].message'\n",
	.usage = "tasks [options] CORE",
	.extras = CH_OPT_EVERY | CH_OPT_TREE | CH_OPT_LIMIT | CH_OPT_LIMIT_ALL,
	.run = run_tasks,
	/* Everything but the cycles, the memory figures and the scan counts,
	 * read block by block as used: the tasks' objects, their chains and
	 * the retained sizes (verified at the load), no whole section. */
	.index_needs = (CH_NEED_ALL & ~(CH_NEED_CYCLES | CH_NEED_MEM | CH_NEED_SCAN)) | CH_NEED_LAZY,
};
