/* Native and Python frames of each thread, interleaved as the thread ran
 * them: the C frames from readers/native, with every C frame of the eval
 * loop (_PyEval_EvalFrameDefault) replaced by the Python frames it was
 * running (readers/cpython/py_frames.h: up to and including the next
 * `entry` frame), as pystack --native shows them.
 *
 * When the two stacks disagree (more eval-loop C frames than runs of
 * Python frames, or Python frames left over), the merge says so in the
 * thread's note; leftover Python frames are listed after the native ones,
 * so nothing read is dropped. */
#ifndef CH_NATIVE_STACKS_H
#define CH_NATIVE_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/cpython/py_frames.h"
#include "readers/native/native_unwind.h"

struct ch_python;

/* One line of a mixed stack: a native frame (index into native.frames) or
 * a Python frame (index into ch_py_stacks.frames). */
struct ch_mixed_frame {
	bool python;
	size_t index;
};

struct ch_thread_mixed {
	int32_t tid;
	const struct ch_py_thread_stack *py; /* NULL: no Python thread state runs on it */
	struct ch_native_stack native;
	struct ch_mixed_frame *frames;       /* innermost first */
	size_t nframes;
	char note[160];                      /* a disagreement between the two stacks, "" if none */
};

struct ch_mixed_stacks {
	struct ch_thread_mixed *threads;     /* one per OS thread of the core, in its order */
	size_t nthreads;
};

/* Unwinds every OS thread (only_tid >= 0: that one only) and merges in the
 * Python frames of st. Only out of memory is an error. */
struct ch_error *ch_mixed_stacks_build(struct ch_native *native, const struct ch_process *proc,
				       const struct ch_py_stacks *st, int32_t only_tid, struct ch_mixed_stacks *out);
void ch_mixed_stacks_deinit(struct ch_mixed_stacks *m);

#endif
