/* References of frame objects and generators/coroutines.
 *
 * 3.8-3.10 (Objects/frameobject.c frame_traverse): f_back, f_code,
 *   f_builtins, f_globals, f_locals, f_trace, the co_nlocals + cellvars +
 *   freevars slots of f_localsplus, then the value stack: [f_valuestack,
 *   f_stacktop) (3.8/3.9, none while executing) or f_stackdepth items (3.10).
 *   gen_traverse: gi_frame, gi_code, gi_name, gi_qualname and the saved
 *   exception triple gi_exc_state.
 * 3.11+: frame_traverse visits f_back, f_trace (3.13: f_extra_locals) and,
 *   only when the frame object owns its _PyInterpreterFrame
 *   (owner == FRAME_OWNED_BY_FRAME_OBJECT == 2), _PyFrame_Traverse of it:
 *   frame_obj, f_locals, f_func(obj), f_code/f_executable and
 *   localsplus[0, stacktop). gen_traverse: gi_code (3.11), gi_name,
 *   gi_qualname, the embedded frame while gi_frame_state < FRAME_CLEARED
 *   (the FRAME_STATE_CLEARED rule: 4, 5 from 3.15) and gi_exc_state.exc_value.
 *   f_globals/f_builtins of an interpreter frame are borrowed and not visited.
 * 3.14+: f_executable, f_funcobj and localsplus are _PyStackRef (tagged:
 *   ch_py_stackref_object; tagged ints and NULL are not visited), the stack
 *   ends at stackpointer, and a cleared generator still visits its
 *   f_executable (GEN_CLEARED_VISITS_CODE). */
#include "readers/cpython/py_refs_internal.h"

#define CH_FRAME_SLOTS_MAX (1u << 16)
#define CH_FRAME_OWNED_BY_FRAME_OBJECT 2

const char CH_REF_LOCAL_NAME[] = "f_locals";

/* Names of the local slots of a frame: up to three tuples of str laid end
 * to end (3.8-3.10: co_varnames, co_cellvars, co_freevars; 3.11+:
 * co_localsplusnames). A slot past them, or whose name cannot be read, is
 * labelled by the slot array's own name. */
struct slot_names {
	uint64_t tuple[3];
	int64_t len[3];
};

static uint64_t slot_name(struct ch_python *py, const struct slot_names *nm, int64_t i)
{
	for (int k = 0; nm && k < 3; k++) {
		if (i < nm->len[k]) {
			uint64_t name;
			if (!ch_py_has(&py->layout, CH_PY_TUPLE_ITEMS) ||
			    ch_as_read_u64(&py->proc->as, nm->tuple[k] + (uint64_t)py->layout.v[CH_PY_TUPLE_ITEMS] + 8 * (uint64_t)i,
					   &name) != NULL)
				return 0; /* (an unreadable name: the error is not worth more than the plain label) */
			return name;
		}
		i -= nm->len[k];
	}
	return 0;
}

/* n slots from base; stackrefs: _PyStackRef slots (3.14+ interpreter
 * frames); names: the locals' names (NULL for the value stack). */
static struct ch_error *slots(struct ch_refs_ctx *c, uint64_t base, int64_t n, const char *name, bool stackrefs,
			      const struct slot_names *names)
{
	if (n < 0 || n > CH_FRAME_SLOTS_MAX)
		return ch_error_new(CH_ERR_INPUT, "frame at 0x%llx claims %lld slots", (unsigned long long)base, (long long)n);
	for (int64_t i = 0; i < n && !c->stopped; i++) {
		uint64_t v;
		struct ch_error *err = ch_as_read_u64(&c->py->proc->as, base + 8 * (uint64_t)i, &v);
		if (err)
			return err;
		if (stackrefs)
			v = ch_py_stackref_object(&c->py->layout, v);
		uint64_t key = v ? slot_name(c->py, names, i) : 0;
		ch_refs_emit(c, v, CH_REF_ATTR, true, (uint64_t)i, key, key ? CH_REF_LOCAL_NAME : name);
	}
	return NULL;
}

/* A _PyStackRef member (f_executable, f_funcobj): a plain pointer before 3.14. */
static struct ch_error *stackref_field(struct ch_refs_ctx *c, uint64_t base, enum ch_py_field f, const char *name)
{
	uint64_t v;
	if (c->stopped || !ch_py_has(&c->py->layout, f))
		return NULL;
	struct ch_error *err = ch_py_read_u64(c->py, base, f, &v);
	if (err)
		return err;
	ch_refs_emit(c, ch_py_stackref_object(&c->py->layout, v), CH_REF_FIELD, true, 0, 0, name);
	return NULL;
}

static struct ch_error *tuple_len(struct ch_python *py, uint64_t tuple, int64_t *n)
{
	*n = 0;
	return tuple ? ch_py_read_u64(py, tuple, CH_PY_VAR_SIZE, (uint64_t *)n) : NULL;
}

static struct ch_error *legacy_frame(struct ch_refs_ctx *c, uint64_t f)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	static const struct { enum ch_py_field f; const char *name; } fs[] = {
		{CH_PY_FRAME_BACK, "f_back"},         {CH_PY_FRAME_CODE, "f_code"},
		{CH_PY_FRAME_BUILTINS, "f_builtins"}, {CH_PY_FRAME_GLOBALS, "f_globals"},
		{CH_PY_FRAME_LOCALS, "f_locals"},     {CH_PY_FRAME_TRACE, "f_trace"},
		/* 3.6: the exception being handled lived in the frame */
		{CH_PY_FRAME_EXC_TYPE, "f_exc_type"}, {CH_PY_FRAME_EXC_VALUE, "f_exc_value"},
		{CH_PY_FRAME_EXC_TB, "f_exc_traceback"},
	};
	struct ch_error *err;
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if ((err = ch_refs_field(c, f, fs[i].f, fs[i].name, true)))
			return err;
	uint64_t code, cell, free_, vs;
	int32_t nlocals;
	int64_t ncell, nfree;
	if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_CODE, &code)) || !code ||
	    (err = ch_py_read_i32(py, code, CH_PY_CODE_NLOCALS, &nlocals)) ||
	    (err = ch_py_read_u64(py, code, CH_PY_CODE_CELLVARS, &cell)) ||
	    (err = ch_py_read_u64(py, code, CH_PY_CODE_FREEVARS, &free_)) || (err = tuple_len(py, cell, &ncell)) ||
	    (err = tuple_len(py, free_, &nfree)))
		return err;
	uint64_t varnames = 0;
	int64_t nvar = 0;
	if (ch_py_has(l, CH_PY_CODE_VARNAMES) && !(err = ch_py_read_u64(py, code, CH_PY_CODE_VARNAMES, &varnames)))
		err = tuple_len(py, varnames, &nvar);
	ch_error_free(err);
	const struct slot_names names = {{varnames, cell, free_}, {nvar < nlocals ? nvar : nlocals, ncell, nfree}};
	if ((err = slots(c, f + (uint64_t)l->v[CH_PY_FRAME_LOCALSPLUS], (int64_t)nlocals + ncell + nfree, "f_localsplus", false,
			 &names)))
		return err;
	if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_VALUESTACK, &vs)))
		return err;
	if (ch_py_has(l, CH_PY_FRAME_STACKDEPTH)) {
		int32_t depth;
		if ((err = ch_py_read_i32(py, f, CH_PY_FRAME_STACKDEPTH, &depth)))
			return err;
		/* -1 marks an executing frame (3.10 ceval): its stack depth is
		 * not recorded and frame_traverse visits no stack slot either. */
		if (depth < 0)
			return NULL;
		return slots(c, vs, depth, "f_valuestack", false, NULL);
	}
	uint64_t top;
	if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_STACKTOP, &top)))
		return err;
	if (!top)
		return NULL;
	if (top < vs || (top - vs) % 8)
		return ch_error_new(CH_ERR_INPUT, "frame at 0x%llx has a corrupt value stack", (unsigned long long)f);
	return slots(c, vs, (int64_t)((top - vs) / 8), "f_valuestack", false, NULL);
}

/* _PyFrame_Traverse of the interpreter frame at iframe (3.11+). */
static struct ch_error *iframe(struct ch_refs_ctx *c, uint64_t fr)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	const bool stackrefs = ch_py_has(l, CH_PY_STACKREF_REFCNT_TAG);
	struct ch_error *err;
	if ((err = ch_refs_field(c, fr, CH_PY_IFRAME_FRAME_OBJ, "frame_obj", true)) ||
	    (err = ch_refs_field(c, fr, CH_PY_IFRAME_LOCALS, "f_locals", true)) ||
	    (err = stackref_field(c, fr, CH_PY_IFRAME_FUNC, "f_funcobj")) ||
	    (err = stackref_field(c, fr, CH_PY_IFRAME_CODE, "f_code")))
		return err;
	const uint64_t lp = fr + (uint64_t)ch_py_off(py, CH_PY_IFRAME_LOCALSPLUS);
	int32_t top;
	if (ch_py_has(l, CH_PY_IFRAME_STACKPOINTER)) {
		/* 3.14+: a pointer past the last live stack slot. */
		uint64_t sp;
		if ((err = ch_py_read_u64(py, fr, CH_PY_IFRAME_STACKPOINTER, &sp)))
			return err;
		if (sp < lp || (sp - lp) % 8 || (sp - lp) / 8 > CH_FRAME_SLOTS_MAX)
			top = -1;
		else
			top = (int32_t)((sp - lp) / 8);
	} else if (!ch_py_has(l, CH_PY_IFRAME_STACKTOP) || (err = ch_py_read_i32(py, fr, CH_PY_IFRAME_STACKTOP, &top))) {
		return err;
	}
	if (top < 0) {
		/* An executing frame (stacktop -1): the stack depth lives in a C
		 * local of the evaluation loop, but the locals are still exact. */
		uint64_t code;
		int32_t nlocalsplus;
		if (!ch_py_has(l, CH_PY_CODE_NLOCALSPLUS) || (err = ch_py_read_u64(py, fr, CH_PY_IFRAME_CODE, &code)) ||
		    (err = ch_py_read_i32(py, ch_py_stackref_object(l, code) & ~(uint64_t)3, CH_PY_CODE_NLOCALSPLUS,
					  &nlocalsplus)))
			return err;
		top = nlocalsplus;
	}
	/* the first co_nlocalsplus slots are named locals, the rest the stack */
	struct slot_names names = {{0}, {0}};
	uint64_t code, lpn;
	int32_t nlp;
	if (ch_py_has(l, CH_PY_CODE_LOCALSPLUSNAMES) && ch_py_has(l, CH_PY_CODE_NLOCALSPLUS) &&
	    !(err = ch_py_read_u64(py, fr, CH_PY_IFRAME_CODE, &code)) &&
	    !(err = ch_py_read_u64(py, ch_py_stackref_object(l, code) & ~(uint64_t)3, CH_PY_CODE_LOCALSPLUSNAMES, &lpn)) &&
	    !(err = ch_py_read_i32(py, ch_py_stackref_object(l, code) & ~(uint64_t)3, CH_PY_CODE_NLOCALSPLUS, &nlp)) &&
	    !(err = tuple_len(py, lpn, &names.len[0]))) {
		names.tuple[0] = lpn;
		if (names.len[0] > nlp)
			names.len[0] = nlp > 0 ? nlp : 0;
	}
	ch_error_free(err);
	return slots(c, lp, top, "localsplus", stackrefs, &names);
}

struct ch_error *ch_refs_frame(struct ch_refs_ctx *c, uint64_t f)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	if (ch_py_has(l, CH_PY_FRAME_CODE))
		return legacy_frame(c, f);
	if (!ch_py_has(l, CH_PY_FRAME_FRAME) || !ch_py_has(l, CH_PY_IFRAME_OWNER))
		return ch_error_new(CH_ERR_UNSUPPORTED, "no frame layout");
	struct ch_error *err;
	if ((err = ch_refs_field(c, f, CH_PY_FRAME_BACK, "f_back", true)) ||
	    (err = ch_refs_field(c, f, CH_PY_FRAME_TRACE, "f_trace", true)) ||
	    (err = ch_refs_field(c, f, CH_PY_FRAME_EXTRA_LOCALS, "f_extra_locals", true)))
		return err;
	uint64_t fr;
	uint8_t owner;
	if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_FRAME, &fr)) ||
	    (err = ch_as_read(&py->proc->as, fr + (uint64_t)l->v[CH_PY_IFRAME_OWNER], &owner, 1)))
		return err;
	return owner == CH_FRAME_OWNED_BY_FRAME_OBJECT ? iframe(c, fr) : NULL;
}

struct ch_error *ch_refs_gen(struct ch_refs_ctx *c, uint64_t g)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	static const struct { enum ch_py_field f; const char *name; } fs[] = {
		{CH_PY_GEN_FRAME, "gi_frame"},        {CH_PY_GEN_CODE, "gi_code"},
		{CH_PY_GEN_NAME, "__name__"},         {CH_PY_GEN_QUALNAME, "__qualname__"},
		{CH_PY_GEN_EXC_TYPE, "exc_type"},     {CH_PY_GEN_EXC_VALUE, "exc_value"},
		{CH_PY_GEN_EXC_TB, "exc_traceback"},
	};
	struct ch_error *err;
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if ((err = ch_refs_field(c, g, fs[i].f, fs[i].name, true)))
			return err;
	if (!ch_py_has(l, CH_PY_GEN_IFRAME) || !ch_py_has(l, CH_PY_GEN_FRAME_STATE))
		return NULL;
	int8_t state;
	if ((err = ch_as_read(&py->proc->as, g + (uint64_t)l->v[CH_PY_GEN_FRAME_STATE], &state, 1)))
		return err;
	const int64_t cleared = ch_py_has(l, CH_PY_FRAME_STATE_CLEARED) ? l->v[CH_PY_FRAME_STATE_CLEARED] : 4;
	const uint64_t fr = g + (uint64_t)l->v[CH_PY_GEN_IFRAME];
	if (state < cleared)
		return iframe(c, fr);
	if (ch_py_has(l, CH_PY_GEN_CLEARED_VISITS_CODE) && l->v[CH_PY_GEN_CLEARED_VISITS_CODE])
		return stackref_field(c, fr, CH_PY_IFRAME_CODE, "f_code");
	return NULL;
}
