/* Python thread states and the OS threads of the core: which NT_PRSTATUS
 * entry runs which PyThreadState, which thread received the fatal signal,
 * and which thread state holds the GIL. Shared by `info` and `stacks` so
 * both answer these questions the same way. */
#ifndef CH_PY_THREADS_H
#define CH_PY_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/process/core_file.h"
#include "readers/base/error.h"
#include "readers/cpython/python.h"

/* True when the thread state runs on the OS thread: by gettid() where the
 * runtime records it (3.11+), else by pthread_self(), which on x86_64 glibc
 * is the thread pointer (ch_core_thread.tp). On aarch64 pthread_self() lies
 * below TPIDR_EL0, so there a thread state before 3.11 matches no thread. */
bool ch_py_thread_runs_on(const struct ch_py_thread *p, const struct ch_core_thread *t);

/* The thread state running on OS thread t, or NULL (a native thread). */
const struct ch_py_thread *ch_python_thread_for(const struct ch_python *py, const struct ch_core_thread *t);

/* The OS thread (NT_PRSTATUS entry) running thread state p, or NULL. */
const struct ch_core_thread *ch_python_os_thread(const struct ch_python *py, const struct ch_py_thread *p);

/* Index of the thread that received the fatal signal: the first NT_PRSTATUS
 * whose cursig is non-zero (the kernel writes it first), or -1. */
long ch_core_crashed_thread(const struct ch_core_file *core);

/* The thread state holding the GIL of interpreter interp into *tstate (0
 * when nobody holds it). 3.8-3.11: _PyRuntime.gilstate.tstate_current;
 * 3.12+: the interpreter's GIL last_holder while it is locked.
 * CH_ERR_NOT_FOUND when the layout has neither. */
struct ch_error *ch_python_gil_holder(struct ch_python *py, uint64_t interp, uint64_t *tstate);

#endif
