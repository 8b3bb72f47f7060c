/* Generators, coroutines and async generators in the dump: their state
 * (created, suspended, running, finished), the code and line they are at,
 * and, for a suspended coroutine, the object it awaits (its cr_await):
 *
 *   3.8/3.9   gi_frame; created when f_lasti == -1, running while
 *             f_stacktop is NULL; awaited object f_stacktop[-1];
 *   3.10      gi_frame with f_state (enum _framestate, FRAME_STATE_* from
 *             DWARF); awaited object f_valuestack[f_stackdepth - 1];
 *   3.11/3.12 the embedded frame (gi_iframe) and gi_frame_state; awaited
 *             object localsplus[stacktop - 1];
 *   3.13+     the same, and the state says whether the generator is
 *             suspended in a `yield from`/`await` (FRAME_SUSPENDED_YIELD_FROM);
 *             awaited object the top of the stack (3.14+: stackpointer[-1],
 *             or [-2] when [-1] is the NULL stack reference 3.15 leaves
 *             above it).
 * A coroutine (`async def`) can only suspend in an await, so before 3.13
 * a suspended coroutine's top of stack is what it awaits. A plain generator
 * may suspend at a bare `yield` instead; telling the two apart before 3.13
 * needs the bytecode, which coreheap does not decode, so there the awaited
 * object of a generator is reported unknown (await_known false) rather
 * than guessed. */
#ifndef CH_PY_GEN_H
#define CH_PY_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/cpython/py_code.h"

struct ch_python;

enum ch_py_gen_state {
	CH_PY_GEN_UNKNOWN,
	CH_PY_GEN_CREATED,   /* not started */
	CH_PY_GEN_SUSPENDED, /* at a yield or await */
	CH_PY_GEN_RUNNING,   /* on some thread's stack */
	CH_PY_GEN_FINISHED,  /* returned, raised or closed: no frame */
};

struct ch_py_gen_info {
	enum ch_py_gen_state state;
	char qualname[CH_PY_FUNCTION_MAX]; /* gi_qualname / cr_qualname */
	struct ch_py_code code;            /* valid when has_code */
	bool has_code;
	int32_t line;                      /* -1 unknown (and for a finished generator) */
	uint64_t awaiting;                 /* the awaited object (cr_await / gi_yieldfrom), 0 if none */
	bool await_known;                  /* false: a suspended generator whose yield kind is unknown */
};

/* Reads the generator, coroutine or async generator at gen. is_coroutine:
 * its type is the coroutine type (see above). Errors only when the object
 * itself is unreadable. */
struct ch_error *ch_py_gen_read(struct ch_python *py, uint64_t gen, bool is_coroutine, struct ch_py_gen_info *out);

const char *ch_py_gen_state_name(enum ch_py_gen_state s);

#endif
