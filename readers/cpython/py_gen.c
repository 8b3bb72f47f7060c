#include "readers/cpython/py_gen.h"

#include <string.h>

#include "readers/cpython/py_str.h"
#include "readers/cpython/python.h"

/* A value stack deeper than this means the frame is corrupt. */
#define CH_GEN_MAX_STACK 65536

static void code_at(struct ch_python *py, uint64_t code, struct ch_py_gen_info *out)
{
	if (code && ch_error_ok(ch_py_code_read(py, code, &out->code)))
		out->has_code = true;
}

/* 3.8-3.10: the generator's frame object. */
static struct ch_error *legacy(struct ch_python *py, uint64_t gen, bool is_coroutine, struct ch_py_gen_info *out)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t f, code, trace = 0;
	int32_t lasti, lineno;
	struct ch_error *err = ch_py_read_u64(py, gen, CH_PY_GEN_FRAME, &f);
	if (err)
		return err;
	if (!f) {
		out->state = CH_PY_GEN_FINISHED;
		return NULL;
	}
	if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_CODE, &code)) || (err = ch_py_read_i32(py, f, CH_PY_FRAME_LASTI, &lasti)) ||
	    (err = ch_py_read_i32(py, f, CH_PY_FRAME_LINENO, &lineno)) ||
	    (err = ch_py_read_u64(py, f, CH_PY_FRAME_TRACE, &trace)))
		return err;
	code_at(py, code, out);
	if (out->has_code)
		out->line = ch_py_legacy_frame_line(py, &out->code, lasti, lineno, trace != 0);
	uint64_t top = 0; /* address of the top stack slot, 0 when empty or unknown */
	if (ch_py_has(l, CH_PY_FRAME_STATE)) { /* 3.10 */
		int8_t st;
		int32_t depth;
		uint64_t vs;
		if ((err = ch_as_read(&py->proc->as, f + (uint64_t)l->v[CH_PY_FRAME_STATE], &st, 1)))
			return err;
		if (st == l->v[CH_PY_FRAME_STATE_CREATED])
			out->state = CH_PY_GEN_CREATED;
		else if (st == l->v[CH_PY_FRAME_STATE_SUSPENDED])
			out->state = CH_PY_GEN_SUSPENDED;
		else
			out->state = CH_PY_GEN_RUNNING; /* a finished generator has dropped its frame */
		if (out->state == CH_PY_GEN_SUSPENDED && ch_error_ok(ch_py_read_i32(py, f, CH_PY_FRAME_STACKDEPTH, &depth)) &&
		    depth > 0 && depth <= CH_GEN_MAX_STACK && ch_error_ok(ch_py_read_u64(py, f, CH_PY_FRAME_VALUESTACK, &vs)) && vs)
			top = vs + 8 * (uint64_t)(depth - 1);
	} else if (ch_py_has(l, CH_PY_FRAME_STACKTOP) && ch_py_has(l, CH_PY_FRAME_VALUESTACK)) { /* 3.8/3.9 */
		uint64_t st, vs;
		if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_STACKTOP, &st)) ||
		    (err = ch_py_read_u64(py, f, CH_PY_FRAME_VALUESTACK, &vs)))
			return err;
		if (lasti == -1)
			out->state = CH_PY_GEN_CREATED;
		else if (!st)
			out->state = CH_PY_GEN_RUNNING;
		else
			out->state = CH_PY_GEN_SUSPENDED;
		if (out->state == CH_PY_GEN_SUSPENDED && st > vs && st - vs <= 8 * (uint64_t)CH_GEN_MAX_STACK)
			top = st - 8;
	}
	if (out->state == CH_PY_GEN_SUSPENDED && is_coroutine) {
		out->await_known = true;
		if (top && (err = ch_as_read_u64(&py->proc->as, top, &out->awaiting)))
			return err;
	}
	return NULL;
}

/* 3.11+: the frame embedded in the generator. */
static struct ch_error *embedded(struct ch_python *py, uint64_t gen, bool is_coroutine, struct ch_py_gen_info *out)
{
	const struct ch_py_layout *l = &py->layout;
	int8_t st;
	struct ch_error *err = ch_as_read(&py->proc->as, gen + (uint64_t)l->v[CH_PY_GEN_FRAME_STATE], &st, 1);
	if (err)
		return err;
	const int64_t cleared = ch_py_has(l, CH_PY_FRAME_STATE_CLEARED) ? l->v[CH_PY_FRAME_STATE_CLEARED] : CH_PY_ABSENT;
	const bool has_yf = ch_py_has(l, CH_PY_FRAME_STATE_SUSPENDED_YF);
	if (st == l->v[CH_PY_FRAME_STATE_CREATED])
		out->state = CH_PY_GEN_CREATED;
	else if (st == l->v[CH_PY_FRAME_STATE_SUSPENDED] || (has_yf && st == l->v[CH_PY_FRAME_STATE_SUSPENDED_YF]))
		out->state = CH_PY_GEN_SUSPENDED;
	else if (cleared != CH_PY_ABSENT && st >= cleared)
		out->state = CH_PY_GEN_FINISHED;
	else
		out->state = CH_PY_GEN_RUNNING;
	if (out->state == CH_PY_GEN_FINISHED)
		return NULL;
	const uint64_t fr = gen + (uint64_t)l->v[CH_PY_GEN_IFRAME];
	uint64_t code, instr;
	if ((err = ch_py_read_u64(py, fr, CH_PY_IFRAME_CODE, &code)) || (err = ch_py_read_u64(py, fr, CH_PY_IFRAME_INSTR, &instr)))
		return err;
	code_at(py, ch_py_stackref_object(l, code), out);
	if (out->has_code)
		out->line = ch_py_iframe_line(py, &out->code, instr);
	if (out->state != CH_PY_GEN_SUSPENDED)
		return NULL;
	bool in_await = has_yf ? st == l->v[CH_PY_FRAME_STATE_SUSPENDED_YF] : is_coroutine;
	if (!has_yf && !is_coroutine)
		return NULL; /* a generator before 3.13: which yield it is at is unknown */
	out->await_known = true;
	if (!in_await)
		return NULL;
	uint64_t lp = fr + (uint64_t)l->v[CH_PY_IFRAME_LOCALSPLUS], sp = 0, v = 0;
	if (ch_py_has(l, CH_PY_IFRAME_STACKPOINTER)) { /* 3.14+ */
		if ((err = ch_py_read_u64(py, fr, CH_PY_IFRAME_STACKPOINTER, &sp)))
			return err;
	} else if (ch_py_has(l, CH_PY_IFRAME_STACKTOP)) {
		int32_t top;
		if ((err = ch_py_read_i32(py, fr, CH_PY_IFRAME_STACKTOP, &top)))
			return err;
		if (top > 0 && top <= CH_GEN_MAX_STACK)
			sp = lp + 8 * (uint64_t)top;
	}
	for (int i = 1; i <= 2 && sp > lp + 8 * (uint64_t)(i - 1) && sp - lp <= 8 * (uint64_t)CH_GEN_MAX_STACK; i++) {
		if ((err = ch_as_read_u64(&py->proc->as, sp - 8 * (uint64_t)i, &v)))
			return err;
		v = ch_py_stackref_object(l, v);
		if (v || !ch_py_has(l, CH_PY_IFRAME_STACKPOINTER))
			break;
	}
	out->awaiting = v;
	return NULL;
}

struct ch_error *ch_py_gen_read(struct ch_python *py, uint64_t gen, bool is_coroutine, struct ch_py_gen_info *out)
{
	const struct ch_py_layout *l = &py->layout;
	memset(out, 0, sizeof(*out));
	out->line = -1;
	uint64_t qn;
	if (ch_py_has(l, CH_PY_GEN_QUALNAME) && ch_error_ok(ch_py_read_u64(py, gen, CH_PY_GEN_QUALNAME, &qn)) &&
	    !ch_error_ok(ch_py_str_read(py, qn, out->qualname, sizeof(out->qualname), NULL)))
		strcpy(out->qualname, "?");
	if (ch_py_has(l, CH_PY_GEN_FRAME) && ch_py_has(l, CH_PY_FRAME_CODE) && ch_py_has(l, CH_PY_FRAME_LASTI))
		return legacy(py, gen, is_coroutine, out);
	if (ch_py_has(l, CH_PY_GEN_IFRAME) && ch_py_has(l, CH_PY_GEN_FRAME_STATE) && ch_py_has(l, CH_PY_IFRAME_CODE) &&
	    ch_py_has(l, CH_PY_FRAME_STATE_CREATED) && ch_py_has(l, CH_PY_FRAME_STATE_SUSPENDED))
		return embedded(py, gen, is_coroutine, out);
	return ch_error_new(CH_ERR_UNSUPPORTED, "%s: the layout does not describe generator frames",
			    l->source ? l->source : "interpreter");
}

const char *ch_py_gen_state_name(enum ch_py_gen_state s)
{
	switch (s) {
	case CH_PY_GEN_CREATED:
		return "created";
	case CH_PY_GEN_SUSPENDED:
		return "suspended";
	case CH_PY_GEN_RUNNING:
		return "running";
	case CH_PY_GEN_FINISHED:
		return "finished";
	default:
		return "unknown";
	}
}
