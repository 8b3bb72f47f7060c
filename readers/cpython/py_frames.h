/* The Python call stack of every thread state: frames innermost first,
 * each with its code object (function, file), line and optionally locals.
 *
 * Frame chains per version, chosen by which layout fields exist:
 *   3.8-3.10  tstate->frame, PyFrameObject linked by f_back;
 *   3.11/3.12 tstate->cframe->current_frame, 3.13+ tstate->current_frame,
 *             _PyInterpreterFrame linked by previous. Entry/shim frames
 *             (owner CSTACK) and incomplete frames (instruction pointer
 *             before _co_firsttraceable, not owned by a generator) are
 *             skipped, as sys._current_frames() skips them.
 * Running generators and coroutines are in the chain like calls.
 *
 * Every chain is bounded (CH_PY_MAX_FRAMES, Brent loop check); a frame or
 * thread state that cannot be read ends that thread's stack with a partial
 * warning in py->diag, keeping the frames read so far. */
#ifndef CH_PY_FRAMES_H
#define CH_PY_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/base/index_hash.h"
#include "readers/cpython/py_code.h"
#include "readers/cpython/py_value.h"

struct ch_python;
struct ch_py_thread;

#define CH_PY_MAX_FRAMES 100000
#define CH_PY_LOCAL_NAME_MAX 64
#define CH_PY_THREAD_NAME_MAX 64

struct ch_py_local {
	char name[CH_PY_LOCAL_NAME_MAX];
	char value[CH_PY_VALUE_MAX];
	uint64_t object;         /* the slot's value: for a cell variable the cell, whose contents `value` renders */
	uint64_t name_object;    /* the name (a str), 0 if unreadable */
};

/* Frame memory that may hold references besides the named locals: the
 * value stack (and, 3.11+, the interpreter frame's header). Executing
 * frames do not record their stack depth reliably, so it is the whole
 * co_stacksize area, stale slots included: read it conservatively. */
struct ch_py_frame_span {
	uint64_t start, end;
};

struct ch_py_frame {
	uint64_t address;        /* PyFrameObject (≤3.10) or _PyInterpreterFrame (3.11+) */
	size_t code;             /* index into ch_py_stacks.codes */
	int32_t line;            /* -1: unknown / no line */
	size_t locals_first, nlocals; /* into ch_py_stacks.locals */
	uint64_t globals;        /* f_globals, 0 if unknown */
	bool generator;          /* 3.11+: owned by a generator/coroutine, whose object holds the locals */
	/* The outermost frame of one call of the C eval loop
	 * (_PyEval_EvalFrameDefault): every frame before 3.11; 3.11 its
	 * is_entry flag; 3.12+ the frame just inside an entry (CSTACK) shim.
	 * Native stacks replace each eval-loop C frame by the run of Python
	 * frames up to and including such a frame. */
	bool entry;
	struct ch_py_frame_span header, stack; /* empty (start == end) when unknown */
};

struct ch_py_thread_stack {
	const struct ch_py_thread *thread;
	int32_t tid;             /* OS thread id, -1 when no NT_PRSTATUS matches */
	int gil;                 /* 1 holds the GIL, 0 does not, -1 unknown */
	bool crashed;            /* received the fatal signal */
	bool has_name;
	char name[CH_PY_THREAD_NAME_MAX];
	size_t first_frame, nframes; /* into ch_py_stacks.frames */
};

/* All stacks of a dump. Frames, locals and code objects live in three
 * shared arrays (one allocation each, grown by doubling) rather than per
 * thread or per frame; code objects are deduplicated by address, since a
 * deep recursion repeats one code object thousands of times. */
struct ch_py_stacks {
	struct ch_py_thread_stack *threads;
	size_t nthreads;
	struct ch_py_frame *frames;
	size_t nframes, frames_cap;
	struct ch_py_local *locals;
	size_t nlocals, locals_cap;
	struct ch_py_code *codes;
	size_t ncodes, codes_cap;
	struct ch_index_hash code_index; /* code address -> index into codes */
	struct ch_py_builtins builtins;
};

/* Reads every thread state's stack. Only out-of-memory is an error; damage
 * is recorded in py->diag. */
struct ch_error *ch_py_stacks_read(struct ch_python *py, bool with_locals, struct ch_py_stacks *out);
void ch_py_stacks_deinit(struct ch_py_stacks *s);

/* The named locals of one frame object (a PyFrameObject; 3.11+ read
 * through its f_frame) or, with generator, of a generator or coroutine's
 * embedded frame (3.11+; before, its gi_frame is a frame object), into
 * s->locals (s is initialised here; free it with ch_py_stacks_deinit).
 * Used for frames no thread runs: those a traceback or a suspended
 * generator keeps. Unreadable parts leave the list short; only
 * out-of-memory is an error. */
struct ch_error *ch_py_frame_object_locals(struct ch_python *py, uint64_t obj, bool generator, struct ch_py_stacks *s);

#endif
