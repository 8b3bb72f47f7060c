#include "readers/cpython/py_frames.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/chain.h"
#include "readers/base/grow.h"
#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_threads.h"
#include "readers/cpython/python.h"

/* Frame owners [3.12 internal/pycore_frame.h:44]; 3.11 has only 0-2. */
#define CH_FRAME_OWNED_BY_GENERATOR 1
#define CH_FRAME_OWNED_BY_CSTACK 3
/* Local kinds [3.11 internal/pycore_code.h]: CO_FAST_CELL, CO_FAST_FREE */
#define CH_CO_FAST_CELL 0x40
#define CH_CO_FAST_FREE 0x80
/* More locals than this in one frame means the code object is corrupt. */
#define CH_MAX_LOCALS 65536

/* The index hash reads each code object's key at the start of its entry. */
_Static_assert(offsetof(struct ch_py_code, address) == 0, "address must lead struct ch_py_code");


/* Index of the code object at addr, reading it on first sight. *bad is set
 * (and no index returned) when it cannot be read. */
static struct ch_error *code_index(struct ch_python *py, struct ch_py_stacks *s, uint64_t addr, size_t *idx, bool *bad)
{
	*bad = false;
	uint32_t found = ch_index_hash_find(&s->code_index, s->codes, sizeof(*s->codes), addr);
	if (found != CH_INDEX_NONE) {
		*idx = found;
		return NULL;
	}
	struct ch_error *err = ch_grow((void **)&s->codes, &s->codes_cap, s->ncodes + 1, sizeof(*s->codes));
	if (err)
		return err;
	err = ch_py_code_read(py, addr, &s->codes[s->ncodes]);
	if (err) {
		ch_diag_partial(&py->diag, "%s", err->message);
		ch_error_free(err);
		*bad = true;
		return NULL;
	}
	if ((err = ch_index_hash_reserve(&s->code_index, s->codes, sizeof(*s->codes), s->ncodes + 1)))
		return err;
	ch_index_hash_insert(&s->code_index, addr, (uint32_t)s->ncodes);
	*idx = s->ncodes++;
	return NULL;
}

static bool is_code(struct ch_python *py, const struct ch_py_stacks *s, uint64_t obj)
{
	if (!s->builtins.code_type)
		return obj != 0;
	uint64_t type;
	return obj && ch_error_ok(ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type)) && type == s->builtins.code_type;
}

/* One local: name from the names tuple, value rendered (cells dereferenced). */
static struct ch_error *add_local(struct ch_python *py, struct ch_py_stacks *s, uint64_t names, size_t i, uint64_t value,
				 bool deref)
{
	if (!value)
		return NULL; /* unbound */
	uint64_t slot = value;
	const struct ch_py_layout *l = &py->layout;
	if (deref && s->builtins.cell_type && ch_py_has(l, CH_PY_CELL_REF)) {
		uint64_t type, inner;
		if (ch_error_ok(ch_py_read_u64(py, value, CH_PY_OB_TYPE, &type)) && type == s->builtins.cell_type) {
			if (!ch_error_ok(ch_py_read_u64(py, value, CH_PY_CELL_REF, &inner)) || !inner)
				return NULL; /* empty cell: unbound */
			value = inner;
		}
	}
	struct ch_error *err = ch_grow((void **)&s->locals, &s->locals_cap, s->nlocals + 1, sizeof(*s->locals));
	if (err)
		return err;
	struct ch_py_local *loc = &s->locals[s->nlocals];
	loc->object = slot;
	loc->name_object = 0;
	uint64_t name;
	bool trunc;
	if (!ch_error_ok(ch_as_read_u64(&py->proc->as, names + (uint64_t)l->v[CH_PY_TUPLE_ITEMS] + 8 * i, &name)) ||
	    !ch_error_ok(ch_py_str_read(py, name, loc->name, sizeof(loc->name), &trunc)))
		snprintf(loc->name, sizeof(loc->name), "?%zu", i);
	else
		loc->name_object = name;
	ch_py_value_render(py, &s->builtins, value, loc->value, sizeof(loc->value));
	s->nlocals++;
	return NULL;
}

/* 3.8-3.10: co_nlocals fast locals named by co_varnames. */
static struct ch_error *legacy_locals(struct ch_python *py, struct ch_py_stacks *s, uint64_t frame, uint64_t code)
{
	const struct ch_py_layout *l = &py->layout;
	int32_t n;
	uint64_t names;
	if (!ch_py_has(l, CH_PY_CODE_VARNAMES) || !ch_py_has(l, CH_PY_TUPLE_ITEMS) ||
	    !ch_error_ok(ch_py_read_i32(py, code, CH_PY_CODE_NLOCALS, &n)) || !ch_error_ok(ch_py_read_u64(py, code, CH_PY_CODE_VARNAMES, &names)) ||
	    n < 0 || n > CH_MAX_LOCALS)
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		uint64_t v;
		if (!ch_error_ok(ch_as_read_u64(&py->proc->as, frame + (uint64_t)l->v[CH_PY_FRAME_LOCALSPLUS] + 8 * (uint64_t)i, &v)))
			break;
		struct ch_error *err = add_local(py, s, names, (size_t)i, v, false);
		if (err)
			return err;
	}
	return NULL;
}

/* 3.11+: co_nlocalsplus slots named by co_localsplusnames. */
static struct ch_error *iframe_locals(struct ch_python *py, struct ch_py_stacks *s, uint64_t frame, uint64_t code)
{
	const struct ch_py_layout *l = &py->layout;
	int32_t n;
	uint64_t names, kinds;
	if (!ch_py_has(l, CH_PY_CODE_LOCALSPLUSNAMES) || !ch_py_has(l, CH_PY_TUPLE_ITEMS) ||
	    !ch_error_ok(ch_py_read_i32(py, code, CH_PY_CODE_NLOCALSPLUS, &n)) ||
	    !ch_error_ok(ch_py_read_u64(py, code, CH_PY_CODE_LOCALSPLUSNAMES, &names)) ||
	    !ch_error_ok(ch_py_read_u64(py, code, CH_PY_CODE_LOCALSPLUSKINDS, &kinds)) || n < 0 || n > CH_MAX_LOCALS)
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		uint64_t v;
		uint8_t kind = 0;
		if (!ch_error_ok(ch_as_read_u64(&py->proc->as, frame + (uint64_t)l->v[CH_PY_IFRAME_LOCALSPLUS] + 8 * (uint64_t)i, &v)))
			break;
		v = ch_py_stackref_object(l, v);
		if (ch_py_has(l, CH_PY_BYTES_SVAL))
			(void)ch_error_ok(ch_as_read(&py->proc->as, kinds + (uint64_t)l->v[CH_PY_BYTES_SVAL] + (uint64_t)i, &kind, 1));
		struct ch_error *err = add_local(py, s, names, (size_t)i, v, (kind & (CH_CO_FAST_CELL | CH_CO_FAST_FREE)) != 0);
		if (err)
			return err;
	}
	return NULL;
}

static struct ch_error *push_frame(struct ch_py_stacks *s, uint64_t address, size_t code, int32_t line)
{
	struct ch_error *err = ch_grow((void **)&s->frames, &s->frames_cap, s->nframes + 1, sizeof(*s->frames));
	if (err)
		return err;
	s->frames[s->nframes++] = (struct ch_py_frame){
		.address = address, .code = code, .line = line, .locals_first = s->nlocals, .nlocals = 0, .entry = true};
	return NULL;
}

/* co_stacksize slots from base, bounded like the locals. */
static struct ch_py_frame_span stack_span(struct ch_python *py, uint64_t base, uint64_t code)
{
	int32_t n;
	if (!base || !ch_py_has(&py->layout, CH_PY_CODE_STACKSIZE) || !ch_error_ok(ch_py_read_i32(py, code, CH_PY_CODE_STACKSIZE, &n)) ||
	    n < 0 || n > CH_MAX_LOCALS)
		return (struct ch_py_frame_span){0, 0};
	return (struct ch_py_frame_span){base, base + 8 * (uint64_t)n};
}

/* 3.8-3.10: the frame object is in the heap graph (its locals are its
 * edges); only its value stack [f_valuestack, + co_stacksize) is extra. */
static void legacy_spans(struct ch_python *py, struct ch_py_frame *fr, uint64_t f, uint64_t code)
{
	uint64_t vs = 0;
	if (ch_py_has(&py->layout, CH_PY_FRAME_GLOBALS))
		(void)ch_error_ok(ch_py_read_u64(py, f, CH_PY_FRAME_GLOBALS, &fr->globals));
	if (ch_py_has(&py->layout, CH_PY_FRAME_VALUESTACK) && ch_error_ok(ch_py_read_u64(py, f, CH_PY_FRAME_VALUESTACK, &vs)))
		fr->stack = stack_span(py, vs, code);
}

/* 3.11+: the header up to localsplus, and the stack after the
 * co_nlocalsplus local slots. */
static void iframe_spans(struct ch_python *py, struct ch_py_frame *fr, uint64_t f, uint64_t code)
{
	const struct ch_py_layout *l = &py->layout;
	int32_t nlp;
	if (ch_py_has(l, CH_PY_IFRAME_GLOBALS))
		(void)ch_error_ok(ch_py_read_u64(py, f, CH_PY_IFRAME_GLOBALS, &fr->globals));
	if (!ch_py_has(l, CH_PY_IFRAME_LOCALSPLUS))
		return;
	uint64_t lp = f + (uint64_t)l->v[CH_PY_IFRAME_LOCALSPLUS];
	fr->header = (struct ch_py_frame_span){f, lp};
	if (ch_py_has(l, CH_PY_CODE_NLOCALSPLUS) && ch_error_ok(ch_py_read_i32(py, code, CH_PY_CODE_NLOCALSPLUS, &nlp)) && nlp >= 0 &&
	    nlp <= CH_MAX_LOCALS)
		fr->stack = stack_span(py, lp + 8 * (uint64_t)nlp, code);
}

static void damaged(struct ch_python *py, const struct ch_py_thread *t, uint64_t frame, const char *what)
{
	ch_diag_partial(&py->diag, "thread state 0x%" PRIx64 ": frame chain %s at 0x%" PRIx64 "; its stack is cut there",
			t->tstate, what, frame);
}

/* Thread names live in Python, not in C: threading._active maps each
 * thread's get_ident() (pthread_self, the thread state's thread_id) to its
 * Thread object, whose _name is the name. Missing pieces (threading never
 * imported, a damaged dict) just leave names unset. */
struct name_ctx {
	struct ch_python *py;
	struct ch_py_stacks *s;
};

static int name_thread(void *arg, uint64_t key, uint64_t thread)
{
	struct name_ctx *c = arg;
	char buf[64];
	ch_py_value_render(c->py, &c->s->builtins, key, buf, sizeof(buf));
	char *end;
	uint64_t ident = strtoull(buf, &end, 10);
	if (*end)
		return 0;
	for (size_t i = 0; i < c->s->nthreads; i++) {
		struct ch_py_thread_stack *ts = &c->s->threads[i];
		uint64_t name;
		if (ts->has_name || ts->thread->thread_id != ident || ts->thread->interp != c->py->main_interp)
			continue;
		if (ch_error_ok(ch_py_getattr(c->py, thread, "_name", &name)) &&
		    ch_error_ok(ch_py_str_read(c->py, name, ts->name, sizeof(ts->name), NULL)))
			ts->has_name = true;
	}
	return 0;
}

static void name_threads(struct ch_python *py, struct ch_py_stacks *s)
{
	uint64_t threading, active;
	if (!ch_error_ok(ch_py_module(py, "threading", &threading)) || !ch_error_ok(ch_py_getattr(py, threading, "_active", &active)))
		return;
	struct name_ctx c = {py, s};
	(void)ch_error_ok(ch_py_dict_foreach(py, active, name_thread, &c, NULL));
}

/* 3.8-3.10: PyFrameObject chain. */
static struct ch_error *walk_legacy(struct ch_python *py, struct ch_py_stacks *s, const struct ch_py_thread *t,
				   bool with_locals)
{
	uint64_t f;
	if (!ch_error_ok(ch_py_read_u64(py, t->tstate, CH_PY_TSTATE_FRAME, &f))) {
		damaged(py, t, t->tstate, "unreadable");
		return NULL;
	}
	struct ch_chain chain;
	ch_chain_init(&chain, CH_PY_MAX_FRAMES);
	while (f) {
		enum ch_chain_step step = ch_chain_step(&chain, f);
		if (step != CH_CHAIN_OK) {
			damaged(py, t, f, step == CH_CHAIN_LOOP ? "loops" : "is implausibly long");
			break;
		}
		uint64_t code, back, trace = 0;
		int32_t lasti, lineno;
		if (!ch_error_ok(ch_py_read_u64(py, f, CH_PY_FRAME_CODE, &code)) || !ch_error_ok(ch_py_read_u64(py, f, CH_PY_FRAME_BACK, &back)) ||
		    !ch_error_ok(ch_py_read_i32(py, f, CH_PY_FRAME_LASTI, &lasti)) ||
		    !ch_error_ok(ch_py_read_i32(py, f, CH_PY_FRAME_LINENO, &lineno)) ||
		    !ch_error_ok(ch_py_read_u64(py, f, CH_PY_FRAME_TRACE, &trace)) || !is_code(py, s, code)) {
			damaged(py, t, f, "unreadable");
			break;
		}
		size_t ci;
		bool bad;
		struct ch_error *err = code_index(py, s, code, &ci, &bad);
		if (err)
			return err;
		if (bad)
			break;
		const struct ch_py_code *c = &s->codes[ci];
		int32_t line = ch_py_legacy_frame_line(py, c, lasti, lineno, trace != 0);
		if ((err = push_frame(s, f, ci, line)))
			return err;
		legacy_spans(py, &s->frames[s->nframes - 1], f, code);
		if (with_locals) {
			if ((err = legacy_locals(py, s, f, code)))
				return err;
			s->frames[s->nframes - 1].nlocals = s->nlocals - s->frames[s->nframes - 1].locals_first;
		}
		f = back;
	}
	return NULL;
}

/* 3.11+: _PyInterpreterFrame chain. */
static struct ch_error *walk_iframes(struct ch_python *py, struct ch_py_stacks *s, const struct ch_py_thread *t,
				    bool with_locals)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t f = 0;
	bool read;
	if (ch_py_has(l, CH_PY_TSTATE_CURRENT_FRAME)) {
		read = ch_error_ok(ch_py_read_u64(py, t->tstate, CH_PY_TSTATE_CURRENT_FRAME, &f));
	} else {
		uint64_t cf = 0;
		read = ch_error_ok(ch_py_read_u64(py, t->tstate, CH_PY_TSTATE_CFRAME, &cf));
		if (read && cf)
			read = ch_error_ok(ch_py_read_u64(py, cf, CH_PY_CFRAME_CURRENT_FRAME, &f));
	}
	if (!read) {
		damaged(py, t, t->tstate, "unreadable");
		return NULL;
	}
	struct ch_chain chain;
	ch_chain_init(&chain, CH_PY_MAX_FRAMES);
	const size_t first = s->nframes;
	while (f) {
		enum ch_chain_step step = ch_chain_step(&chain, f);
		if (step != CH_CHAIN_OK) {
			damaged(py, t, f, step == CH_CHAIN_LOOP ? "loops" : "is implausibly long");
			break;
		}
		uint64_t code, prev, instr;
		uint8_t owner;
		if (!ch_error_ok(ch_py_read_u64(py, f, CH_PY_IFRAME_CODE, &code)) ||
		    !ch_error_ok(ch_py_read_u64(py, f, CH_PY_IFRAME_PREVIOUS, &prev)) ||
		    !ch_error_ok(ch_py_read_u64(py, f, CH_PY_IFRAME_INSTR, &instr)) ||
		    !ch_error_ok(ch_as_read(&py->proc->as, f + (uint64_t)l->v[CH_PY_IFRAME_OWNER], &owner, 1))) {
			damaged(py, t, f, "unreadable");
			break;
		}
		code = ch_py_stackref_object(l, code);
		uint64_t here = f;
		f = prev;
		if (owner >= CH_FRAME_OWNED_BY_CSTACK || !is_code(py, s, code)) {
			if (owner == CH_FRAME_OWNED_BY_CSTACK && s->nframes > first)
				s->frames[s->nframes - 1].entry = true; /* 3.12+: the frame inside the shim */
			continue; /* entry/shim frame */
		}
		size_t ci;
		bool bad;
		struct ch_error *err = code_index(py, s, code, &ci, &bad);
		if (err)
			return err;
		if (bad)
			break;
		const struct ch_py_code *c = &s->codes[ci];
		/* _PyFrame_IsIncomplete: not yet past RESUME's prologue. */
		if (owner != CH_FRAME_OWNED_BY_GENERATOR && instr < c->code_units + 2 * (uint64_t)c->firsttraceable)
			continue;
		if ((err = push_frame(s, here, ci, ch_py_iframe_line(py, c, instr))))
			return err;
		iframe_spans(py, &s->frames[s->nframes - 1], here, code);
		s->frames[s->nframes - 1].generator = owner == CH_FRAME_OWNED_BY_GENERATOR;
		uint8_t is_entry = 0;
		if (ch_py_has(l, CH_PY_IFRAME_IS_ENTRY)) /* 3.11 */
			ch_error_free(ch_as_read(&py->proc->as, here + (uint64_t)l->v[CH_PY_IFRAME_IS_ENTRY], &is_entry, 1));
		s->frames[s->nframes - 1].entry = is_entry != 0;
		if (with_locals) {
			if ((err = iframe_locals(py, s, here, code)))
				return err;
			s->frames[s->nframes - 1].nlocals = s->nlocals - s->frames[s->nframes - 1].locals_first;
		}
	}
	if (s->nframes > first)
		s->frames[s->nframes - 1].entry = true; /* the outermost frame began an eval loop */
	return NULL;
}

struct ch_error *ch_py_stacks_read(struct ch_python *py, bool with_locals, struct ch_py_stacks *out)
{
	const struct ch_py_layout *l = &py->layout;
	memset(out, 0, sizeof(*out));
	ch_py_builtins_init(py, &out->builtins);
	bool legacy = ch_py_has(l, CH_PY_TSTATE_FRAME) && ch_py_has(l, CH_PY_FRAME_CODE) && ch_py_has(l, CH_PY_FRAME_LASTI);
	bool iframes = (ch_py_has(l, CH_PY_TSTATE_CURRENT_FRAME) ||
			(ch_py_has(l, CH_PY_TSTATE_CFRAME) && ch_py_has(l, CH_PY_CFRAME_CURRENT_FRAME))) &&
		       ch_py_has(l, CH_PY_IFRAME_CODE) && ch_py_has(l, CH_PY_IFRAME_PREVIOUS) &&
		       ch_py_has(l, CH_PY_IFRAME_INSTR) && ch_py_has(l, CH_PY_IFRAME_OWNER);
	if (!legacy && !iframes)
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: debug info does not describe the frames of this Python version",
				    l->source ? l->source : "interpreter");
	if (py->nthreads) {
		out->threads = calloc(py->nthreads, sizeof(*out->threads));
		if (!out->threads)
			return &ch_error_nomem;
	}
	long crashed = ch_core_crashed_thread(py->proc->core);
	uint64_t gil_interp = 0, gil_holder = 0;
	bool gil_known = false;
	for (size_t i = 0; i < py->nthreads; i++) {
		const struct ch_py_thread *t = &py->threads[i];
		struct ch_py_thread_stack *ts = &out->threads[out->nthreads++];
		ts->thread = t;
		const struct ch_core_thread *os = ch_python_os_thread(py, t);
		ts->tid = os ? os->tid : -1;
		ts->crashed = os && crashed >= 0 && os == &py->proc->core->threads[crashed];
		if (i == 0 || t->interp != gil_interp) {
			gil_interp = t->interp;
			gil_known = ch_error_ok(ch_python_gil_holder(py, t->interp, &gil_holder));
		}
		ts->gil = gil_known ? gil_holder == t->tstate : -1;
		ts->first_frame = out->nframes;
		struct ch_error *err = legacy ? walk_legacy(py, out, t, with_locals) : walk_iframes(py, out, t, with_locals);
		if (err) {
			ch_py_stacks_deinit(out);
			return err;
		}
		ts->nframes = out->nframes - ts->first_frame;
	}
	name_threads(py, out);
	return NULL;
}

void ch_py_stacks_deinit(struct ch_py_stacks *s)
{
	free(s->threads);
	free(s->frames);
	free(s->locals);
	free(s->codes);
	ch_index_hash_deinit(&s->code_index);
	memset(s, 0, sizeof(*s));
}

struct ch_error *ch_py_frame_object_locals(struct ch_python *py, uint64_t obj, bool generator, struct ch_py_stacks *s)
{
	const struct ch_py_layout *l = &py->layout;
	memset(s, 0, sizeof(*s));
	ch_py_builtins_init(py, &s->builtins);
	uint64_t code, fr;
	if (ch_py_has(l, CH_PY_FRAME_CODE)) {
		/* 3.8-3.10: a generator's locals live in its gi_frame, a frame object of its own. */
		if (generator || !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_FRAME_CODE, &code)))
			return NULL;
		return legacy_locals(py, s, obj, code);
	}
	if (!ch_py_has(l, CH_PY_IFRAME_CODE))
		return NULL;
	if (generator) {
		if (!ch_py_has(l, CH_PY_GEN_IFRAME))
			return NULL;
		fr = obj + (uint64_t)l->v[CH_PY_GEN_IFRAME];
	} else if (!ch_py_has(l, CH_PY_FRAME_FRAME) || !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_FRAME_FRAME, &fr))) {
		return NULL;
	}
	if (!ch_error_ok(ch_py_read_u64(py, fr, CH_PY_IFRAME_CODE, &code)))
		return NULL;
	return iframe_locals(py, s, fr, ch_py_stackref_object(l, code));
}
