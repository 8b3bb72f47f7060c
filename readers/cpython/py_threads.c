#include "readers/cpython/py_threads.h"

bool ch_py_thread_runs_on(const struct ch_py_thread *p, const struct ch_core_thread *t)
{
	return p->native_id >= 0 ? p->native_id == t->tid : p->thread_id == t->tp;
}

const struct ch_py_thread *ch_python_thread_for(const struct ch_python *py, const struct ch_core_thread *t)
{
	for (size_t i = 0; i < py->nthreads; i++)
		if (ch_py_thread_runs_on(&py->threads[i], t))
			return &py->threads[i];
	return NULL;
}

const struct ch_core_thread *ch_python_os_thread(const struct ch_python *py, const struct ch_py_thread *p)
{
	const struct ch_core_file *core = py->proc->core;
	for (size_t i = 0; i < core->nthreads; i++)
		if (ch_py_thread_runs_on(p, &core->threads[i]))
			return &core->threads[i];
	return NULL;
}

long ch_core_crashed_thread(const struct ch_core_file *core)
{
	for (size_t i = 0; i < core->nthreads; i++)
		if (core->threads[i].cursig != 0)
			return (long)i;
	return -1;
}

struct ch_error *ch_python_gil_holder(struct ch_python *py, uint64_t interp, uint64_t *tstate)
{
	const struct ch_py_layout *l = &py->layout;
	*tstate = 0;
	if (ch_py_has(l, CH_PY_RUNTIME_GIL_CURRENT))
		return ch_py_read_u64(py, py->runtime, CH_PY_RUNTIME_GIL_CURRENT, tstate);
	/* 3.6: the exported _PyThreadState_Current (no _PyRuntime.gilstate) */
	uint64_t current = py->runtime ? 0 : ch_python_symbol(py, "_PyThreadState_Current");
	if (current)
		return ch_as_read_u64(&py->proc->as, current, tstate);
	if (!ch_py_has(l, CH_PY_INTERP_CEVAL_GIL) || !ch_py_has(l, CH_PY_GIL_LAST_HOLDER) ||
	    !ch_py_has(l, CH_PY_GIL_LOCKED))
		return ch_error_new(CH_ERR_NOT_FOUND, "the layout names no GIL holder");
	uint64_t gil, holder;
	int32_t locked;
	struct ch_error *err = ch_py_read_u64(py, interp, CH_PY_INTERP_CEVAL_GIL, &gil);
	if (!err)
		err = ch_py_read_u64(py, gil, CH_PY_GIL_LAST_HOLDER, &holder);
	if (!err)
		err = ch_py_read_i32(py, gil, CH_PY_GIL_LOCKED, &locked);
	if (err)
		return err;
	/* last_holder keeps its value after the GIL is dropped; only a locked
	 * GIL is held by it. */
	*tstate = locked ? holder : 0;
	return NULL;
}
