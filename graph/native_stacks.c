#include "graph/native_stacks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/process/process.h"

/* The C function of the eval loop: each call runs a run of Python frames.
 * Compiler-split parts (.cold) and renames (.lto_priv.0) are the same
 * function; the symbol's base name is compared. */
static bool is_eval_loop(const char *function)
{
	static const char name[] = "_PyEval_EvalFrameDefault";
	size_t n = sizeof(name) - 1;
	return strncmp(function, name, n) == 0 && (function[n] == '\0' || function[n] == '.');
}

static struct ch_error *push(struct ch_thread_mixed *t, size_t *cap, bool python, size_t index)
{
	if (t->nframes == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct ch_mixed_frame *p = realloc(t->frames, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		t->frames = p;
		*cap = ncap;
	}
	t->frames[t->nframes++] = (struct ch_mixed_frame){.python = python, .index = index};
	return NULL;
}

static struct ch_error *merge(struct ch_thread_mixed *t, const struct ch_py_stacks *st)
{
	size_t cap = 0, next = 0, unmatched_eval = 0;
	const size_t npy = t->py ? t->py->nframes : 0, base = t->py ? t->py->first_frame : 0;
	struct ch_error *err;
	for (size_t i = 0; i < t->native.nframes; i++) {
		if (!is_eval_loop(t->native.frames[i].function) || next >= npy) {
			if (is_eval_loop(t->native.frames[i].function))
				unmatched_eval++;
			if ((err = push(t, &cap, false, i)))
				return err;
			continue;
		}
		/* the run this eval-loop call was executing, innermost first */
		while (next < npy) {
			bool entry = st->frames[base + next].entry;
			if ((err = push(t, &cap, true, base + next++)))
				return err;
			if (entry)
				break;
		}
	}
	size_t left = npy - next;
	for (; next < npy; next++)
		if ((err = push(t, &cap, true, base + next)))
			return err;
	if (left && unmatched_eval == 0)
		snprintf(t->note, sizeof(t->note), "%zu Python frame%s not matched to an eval-loop C frame (listed last)", left,
			 left == 1 ? "" : "s");
	else if (left)
		snprintf(t->note, sizeof(t->note), "the stacks disagree: %zu Python frames left, %zu eval-loop C frames unmatched",
			 left, unmatched_eval);
	else if (unmatched_eval && t->py)
		snprintf(t->note, sizeof(t->note), "%zu eval-loop C frame%s without Python frames", unmatched_eval,
			 unmatched_eval == 1 ? "" : "s");
	return NULL;
}

struct ch_error *ch_mixed_stacks_build(struct ch_native *native, const struct ch_process *proc,
				       const struct ch_py_stacks *st, int32_t only_tid, struct ch_mixed_stacks *out)
{
	memset(out, 0, sizeof(*out));
	const struct ch_core_file *core = proc->core;
	if (!core->nthreads)
		return NULL;
	out->threads = calloc(core->nthreads, sizeof(*out->threads));
	if (!out->threads)
		return &ch_error_nomem;
	for (size_t i = 0; i < core->nthreads; i++) {
		int32_t tid = core->threads[i].tid;
		if (only_tid >= 0 && tid != only_tid)
			continue;
		struct ch_thread_mixed *t = &out->threads[out->nthreads++];
		t->tid = tid;
		for (size_t k = 0; st && k < st->nthreads; k++)
			if (st->threads[k].tid == tid)
				t->py = &st->threads[k];
		struct ch_error *err = ch_native_unwind(native, tid, &t->native);
		if (!err)
			err = merge(t, st);
		if (err) {
			ch_mixed_stacks_deinit(out);
			return err;
		}
	}
	return NULL;
}

void ch_mixed_stacks_deinit(struct ch_mixed_stacks *m)
{
	for (size_t i = 0; i < m->nthreads; i++) {
		ch_native_stack_deinit(&m->threads[i].native);
		free(m->threads[i].frames);
	}
	free(m->threads);
	memset(m, 0, sizeof(*m));
}
