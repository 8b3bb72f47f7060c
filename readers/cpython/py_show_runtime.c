/* The value tree of `show` for the runtime's own objects: exceptions (type,
 * args, __cause__, __context__, traceback depth), tracebacks (file:line
 * per entry), frames (code, file:line, locals by name), generators,
 * coroutines and async generators (qualname, state, line, what a suspended
 * one awaits), asyncio Tasks and Futures (state, name, result or
 * exception, callbacks), functools.partial, bytearray, memoryview (its
 * buffer's size and shape) and contextvars.Context (how many variables it
 * sets). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "readers/cpython/py_asyncio.h"
#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_code.h"
#include "readers/cpython/py_frames.h"
#include "readers/cpython/py_gen.h"
#include "readers/cpython/py_refs.h"
#include "readers/cpython/py_show_internal.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

/* _Py_MEMORYVIEW_RELEASED [memoryobject.h], the same in 3.8-3.15. */
#define CH_MEMORYVIEW_RELEASED 0x001
/* Py_TPFLAGS_BASE_EXC_SUBCLASS [object.h], the same bit in 3.8-3.15. */
#define CH_TPFLAGS_BASE_EXC_SUBCLASS (1UL << 30)
#define CH_MRO_MAX 256
/* Traceback entries listed (the depth counts them all, up to the bound). */
#define CH_TB_ENTRIES 32
#define CH_TB_MAX 100000

/* Does a class-statement type on the MRO, before the first builtin one,
 * define __repr__? Then repr() is not the builtin one and is not imitated. */
static bool own_repr(struct ch_python *py, uint64_t type)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t mro, n;
	if (!ch_error_ok(ch_py_read_u64(py, type, CH_PY_TP_MRO, &mro)) || !mro || !ch_error_ok(ch_py_read_u64(py, mro, CH_PY_VAR_SIZE, &n)))
		return true;
	for (uint64_t i = 0; i < n && i < CH_MRO_MAX; i++) {
		uint64_t t, flags, dict, v;
		if (!ch_error_ok(ch_as_read_u64(&py->proc->as, mro + (uint64_t)l->v[CH_PY_TUPLE_ITEMS] + 8 * i, &t)) ||
		    !ch_error_ok(ch_py_read_u64(py, t, CH_PY_TP_FLAGS, &flags)))
			return true;
		if (!(flags & CH_TPFLAGS_HEAPTYPE))
			return false;
		if (ch_error_ok(ch_py_read_u64(py, t, CH_PY_TP_DICT, &dict)) && dict && ch_error_ok(ch_py_dict_get_str(py, dict, "__repr__", &v)))
			return true;
	}
	return true;
}

enum ch_show_kind ch_show_classify_runtime(const struct ch_show_ctx *c, uint64_t type, uint32_t ti)
{
	const struct ch_py_builtins *b = &c->b;
	struct ch_python *py = c->py;
	if (type == b->coro_type || type == b->gen_type || type == b->asyncgen_type)
		return CH_SHOW_GENERATOR;
	if (type == b->traceback_type)
		return CH_SHOW_TRACEBACK;
	if (type == b->frame_type)
		return CH_SHOW_FRAME;
	if (type == b->bytearray_type && ch_py_has(&py->layout, CH_PY_BYTEARRAY_START))
		return CH_SHOW_BYTEARRAY;
	if (type == b->context_type && ch_py_has(&py->layout, CH_PY_CONTEXT_VARS))
		return CH_SHOW_CONTEXT;
	if (type == b->memoryview_type && ch_py_has(&py->layout, CH_PY_MV_LEN) && ch_py_has(&py->layout, CH_PY_MV_NDIM))
		return CH_SHOW_MEMORYVIEW;
	const struct ch_py_type *ty = &py->types.v[ti];
	if (strcmp(ch_py_type_name(&py->types, ti), "functools.partial") == 0 && ch_py_has(&py->layout, CH_PY_PARTIAL_FN))
		return CH_SHOW_PARTIAL;
	if ((ty->flags & CH_TPFLAGS_BASE_EXC_SUBCLASS) && ch_py_has(&py->layout, CH_PY_EXC_ARGS) &&
	    (!(ty->flags & CH_TPFLAGS_HEAPTYPE) || !own_repr(py, type)))
		return CH_SHOW_EXCEPTION;
	const struct ch_py_asyncio *a = ch_py_asyncio_get(py);
	if (a && ch_py_asyncio_classify(py, a, type) != CH_AIO_NONE)
		return CH_SHOW_FUTURE;
	return CH_SHOW_OBJECT;
}

static uint32_t label(struct ch_show_ctx *c, const char *s)
{
	return ch_show_arena_add(c, s, strlen(s));
}

/* A child for a pointer field when it is set (not NULL, not None). */
static void field_child(struct ch_show_ctx *c, uint32_t node, uint32_t *last, uint64_t v, size_t level, const char *name)
{
	if (v && v != c->b.none)
		ch_show_child(c, node, last, v, level + 1, label(c, name));
}

static void show_exception(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	uint64_t type, tp_name, args = 0, tb = 0, cause = 0, context = 0;
	char name[256];
	bool trunc;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_OB_TYPE, &type);
	if (!err)
		err = ch_py_read_u64(py, type, CH_PY_TP_NAME, &tp_name);
	if (!err)
		err = ch_as_read_cstr(&py->proc->as, tp_name, name, sizeof(name), &trunc);
	if (err)
		return ch_show_damage(c, node, err);
	const char *dot = strrchr(name, '.'); /* repr() writes _PyType_Name: after the last dot */
	c->t->nodes[node].text = label(c, dot ? dot + 1 : name);
	(void)ch_error_ok(ch_py_read_u64(py, addr, CH_PY_EXC_ARGS, &args));
	if (ch_py_has(l, CH_PY_EXC_TRACEBACK))
		(void)ch_error_ok(ch_py_read_u64(py, addr, CH_PY_EXC_TRACEBACK, &tb));
	if (ch_py_has(l, CH_PY_EXC_CAUSE))
		(void)ch_error_ok(ch_py_read_u64(py, addr, CH_PY_EXC_CAUSE, &cause));
	if (ch_py_has(l, CH_PY_EXC_CONTEXT))
		(void)ch_error_ok(ch_py_read_u64(py, addr, CH_PY_EXC_CONTEXT, &context));
	int64_t depth = 0;
	for (uint64_t t = tb; t && t != c->b.none && depth < CH_TB_MAX && ch_py_has(l, CH_PY_TB_NEXT); depth++)
		if (!ch_error_ok(ch_py_read_u64(py, t, CH_PY_TB_NEXT, &t)))
			break;
	c->t->nodes[node].num = depth;
	if (!ch_show_expand(c, node, level))
		return;
	uint32_t last = CH_SHOW_NO_NODE;
	/* The arguments are the exception's message: expanded with the
	 * exception itself (the same level), not one level deeper. */
	if (args)
		ch_show_child(c, node, &last, args, level, label(c, "args"));
	if (level < CH_SHOW_PATH_MAX)
		c->path[level] = addr;
	field_child(c, node, &last, cause, level, "__cause__");
	field_child(c, node, &last, context, level, "__context__");
}

/* A frame's code name, file and line. Lines: 3.8-3.10 PyFrame_GetLineNumber
 * from the frame object; 3.11+ from its interpreter frame's instruction. */
static struct ch_error *frame_where(struct ch_python *py, uint64_t f, struct ch_py_code *code, int32_t *line)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t co;
	struct ch_error *err;
	*line = -1;
	if (ch_py_has(l, CH_PY_FRAME_CODE)) {
		int32_t lasti, lineno;
		uint64_t trace = 0;
		if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_CODE, &co)) || (err = ch_py_read_i32(py, f, CH_PY_FRAME_LASTI, &lasti)) ||
		    (err = ch_py_read_i32(py, f, CH_PY_FRAME_LINENO, &lineno)) ||
		    (err = ch_py_read_u64(py, f, CH_PY_FRAME_TRACE, &trace)) || (err = ch_py_code_read(py, co, code)))
			return err;
		*line = ch_py_legacy_frame_line(py, code, lasti, lineno, trace != 0);
		return NULL;
	}
	uint64_t fr, instr;
	if ((err = ch_py_read_u64(py, f, CH_PY_FRAME_FRAME, &fr)) || (err = ch_py_read_u64(py, fr, CH_PY_IFRAME_CODE, &co)) ||
	    (err = ch_py_read_u64(py, fr, CH_PY_IFRAME_INSTR, &instr)) ||
	    (err = ch_py_code_read(py, ch_py_stackref_object(l, co), code)))
		return err;
	*line = ch_py_iframe_line(py, code, instr);
	return NULL;
}

/* co_name of a code object (frame repr() writes it, not the qualname). */
static uint32_t code_name(struct ch_show_ctx *c, const struct ch_py_code *code)
{
	char name[CH_PY_FUNCTION_MAX];
	uint64_t n;
	if (ch_py_has(&c->py->layout, CH_PY_CODE_NAME) && ch_error_ok(ch_py_read_u64(c->py, code->address, CH_PY_CODE_NAME, &n)) &&
	    ch_error_ok(ch_py_str_read(c->py, n, name, sizeof(name), NULL)))
		return label(c, name);
	return label(c, code->function);
}

struct locals {
	struct ch_show_ctx *c;
	uint32_t node, last;
	size_t level;
	uint64_t shown;
};

static int local_ref(void *arg, const struct ch_ref *r)
{
	struct locals *lc = arg;
	if (r->kind != CH_REF_ATTR || r->name != CH_REF_LOCAL_NAME || !r->key)
		return 0;
	if (lc->shown++ >= CH_SHOW_ATTRS) {
		lc->c->t->nodes[lc->node].flags |= CH_SHOW_TRUNCATED;
		return 0;
	}
	char name[CH_PY_LOCAL_NAME_MAX];
	if (!ch_error_ok(ch_py_str_read(lc->c->py, r->key, name, sizeof(name), NULL)))
		snprintf(name, sizeof(name), "?%" PRIu64, r->index);
	ch_show_child(lc->c, lc->node, &lc->last, r->target, lc->level + 1, label(lc->c, name));
	return 0;
}

static void show_frame(struct ch_show_ctx *c, uint32_t node, uint64_t addr, uint32_t ti, size_t level)
{
	struct ch_py_code code;
	int32_t line;
	struct ch_error *err = frame_where(c->py, addr, &code, &line);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].text = code_name(c, &code);
	c->t->nodes[node].aux = label(c, code.file);
	c->t->nodes[node].num = line;
	if (!ch_show_expand(c, node, level))
		return;
	struct locals lc = {c, node, CH_SHOW_NO_NODE, level, 0};
	ch_show_damage(c, node, ch_py_refs_visit(c->py, addr, ti, local_ref, &lc));
	c->t->nodes[node].length = lc.shown;
}

static void show_traceback(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	uint32_t last = CH_SHOW_NO_NODE;
	int64_t depth = 0;
	for (uint64_t tb = addr; tb && tb != c->b.none && depth < CH_TB_MAX; depth++) {
		uint64_t f = 0, next = 0;
		struct ch_error *err = ch_py_read_u64(py, tb, CH_PY_TB_FRAME, &f);
		if (!err)
			err = ch_py_read_u64(py, tb, CH_PY_TB_NEXT, &next);
		if (err) {
			ch_show_damage(c, node, err);
			break;
		}
		const uint64_t here = tb;
		tb = next;
		if (depth >= CH_TB_ENTRIES) {
			c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
			continue;
		}
		struct ch_py_code code;
		int32_t line, lineno = -1, lasti = -1;
		uint32_t ti;
		uint64_t ftype;
		if (!ch_error_ok(ch_py_read_u64(py, f, CH_PY_OB_TYPE, &ftype)) || !ch_error_ok(ch_py_type_intern(py, ftype, &ti)) ||
		    !ch_error_ok(frame_where(py, f, &code, &line)))
			continue;
		/* The entry's own line (not the frame's current one): tb_lineno,
		 * or on 3.11+ (-1 until asked) from tb_lasti, a byte offset. */
		if (ch_py_has(l, CH_PY_TB_LINENO) && ch_error_ok(ch_py_read_i32(py, here, CH_PY_TB_LINENO, &lineno)) && lineno >= 0)
			line = lineno;
		else if (ch_py_has(l, CH_PY_TB_LASTI) && ch_error_ok(ch_py_read_i32(py, here, CH_PY_TB_LASTI, &lasti)))
			line = ch_py_code_addr2line(py, &code, lasti);
		uint32_t e = ch_show_node_new(c, CH_SHOW_FRAME, f, ti);
		if (e == CH_SHOW_NO_NODE)
			return;
		c->t->nodes[e].text = code_name(c, &code);
		c->t->nodes[e].aux = label(c, code.file);
		c->t->nodes[e].num = line;
		c->t->nodes[e].label = label(c, "entry");
		if (last == CH_SHOW_NO_NODE)
			c->t->nodes[node].first_child = e;
		else
			c->t->nodes[last].next_sibling = e;
		last = e;
	}
	c->t->nodes[node].num = depth;
}

static void show_generator(struct ch_show_ctx *c, uint32_t node, uint64_t addr, uint64_t type, size_t level)
{
	struct ch_py_gen_info g;
	struct ch_error *err = ch_py_gen_read(c->py, addr, type == c->b.coro_type, &g);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].text = label(c, g.qualname);
	c->t->nodes[node].aux = label(c, ch_py_gen_state_name(g.state));
	c->t->nodes[node].num = g.line;
	if (g.awaiting && ch_show_expand(c, node, level)) {
		uint32_t last = CH_SHOW_NO_NODE;
		ch_show_child(c, node, &last, g.awaiting, level + 1, label(c, "awaiting"));
	}
}

/* Callbacks a future will call: callback0 and the (callback, context)
 * list of a C future; the _callbacks list of a pure-Python one. */
static uint64_t callbacks(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t addr, enum ch_py_aio_kind k)
{
	uint64_t cb0 = 0, list = 0, n = 0;
	if (k == CH_AIO_C_FUTURE || k == CH_AIO_C_TASK) {
		if (ch_py_has(&py->layout, CH_PY_FUT_CALLBACK0))
			(void)ch_error_ok(ch_py_read_u64(py, addr, CH_PY_FUT_CALLBACK0, &cb0));
		if (ch_py_has(&py->layout, CH_PY_FUT_CALLBACKS))
			(void)ch_error_ok(ch_py_read_u64(py, addr, CH_PY_FUT_CALLBACKS, &list));
	} else {
		(void)ch_error_ok(ch_py_getattr(py, addr, "_callbacks", &list));
	}
	if (list && list != a->b.none && !ch_error_ok(ch_py_read_u64(py, list, CH_PY_VAR_SIZE, &n)))
		n = 0;
	return (cb0 && cb0 != a->b.none) + n;
}

static void show_future(struct ch_show_ctx *c, uint32_t node, uint64_t addr, uint64_t type, size_t level)
{
	struct ch_python *py = c->py;
	const struct ch_py_asyncio *a = ch_py_asyncio_get(py);
	enum ch_py_aio_kind k = a ? ch_py_asyncio_classify(py, a, type) : CH_AIO_NONE;
	if (!a) {
		c->err = &ch_error_nomem;
		return;
	}
	struct ch_py_future f;
	struct ch_error *err = ch_py_future_read(py, a, addr, k, &f);
	if (err)
		return ch_show_damage(c, node, err);
	static const char *const states[] = {"unknown", "pending", "cancelled", "finished"};
	c->t->nodes[node].aux = label(c, states[f.state]);
	if (ch_aio_is_task(k))
		c->t->nodes[node].text = label(c, f.name_text);
	c->t->nodes[node].length = callbacks(py, a, addr, k);
	if (!ch_show_expand(c, node, level))
		return;
	uint32_t last = CH_SHOW_NO_NODE;
	field_child(c, node, &last, f.coro, level, "coro");
	if (f.state == CH_FUT_FINISHED && !f.exception)
		ch_show_child(c, node, &last, f.result ? f.result : c->b.none, level + 1, label(c, "result"));
	field_child(c, node, &last, f.exception, level, "exception");
	field_child(c, node, &last, f.waiter, level, "awaiting");
}

static void show_partial(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	static const enum ch_py_field fs[] = {CH_PY_PARTIAL_FN, CH_PY_PARTIAL_ARGS, CH_PY_PARTIAL_KW};
	static const char *const names[] = {"func", "args", "keywords"};
	if (!ch_show_expand(c, node, level))
		return;
	uint32_t last = CH_SHOW_NO_NODE;
	for (size_t i = 0; i < 3; i++) {
		uint64_t v = 0;
		struct ch_error *err = ch_py_has(&c->py->layout, fs[i]) ? ch_py_read_u64(c->py, addr, fs[i], &v) : NULL;
		if (err)
			return ch_show_damage(c, node, err);
		if (v)
			ch_show_child(c, node, &last, v, level + 1, label(c, names[i]));
	}
}

static void show_bytearray(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	int64_t len;
	uint64_t start = 0;
	struct ch_error *err = ch_py_read_u64(c->py, addr, CH_PY_VAR_SIZE, (uint64_t *)&len);
	if (!err)
		err = ch_py_read_u64(c->py, addr, CH_PY_BYTEARRAY_START, &start);
	if (!err && (len < 0 || (len && !start)))
		err = ch_error_new(CH_ERR_INPUT, "bytearray at 0x%" PRIx64 " has a corrupt buffer", addr);
	if (err)
		return ch_show_damage(c, node, err);
	ch_show_bytes_data(c, node, start, (uint64_t)len, level);
}

/* len() of a Context: the item count of its HAMT. */
static void show_context(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	uint64_t vars, n = 0;
	struct ch_error *err = ch_py_read_u64(c->py, addr, CH_PY_CONTEXT_VARS, &vars);
	if (!err && vars && ch_py_has(&c->py->layout, CH_PY_HAMT_COUNT))
		err = ch_py_read_u64(c->py, vars, CH_PY_HAMT_COUNT, &n);
	else if (!err && vars)
		err = ch_error_new(CH_ERR_UNSUPPORTED, "the layout of the context's variable map is unknown");
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].length = n;
}

/* A memoryview's buffer facts: nbytes, itemsize, ndim, readonly, len()
 * (shape[0]; none for a 0-dimensional view), released. */
static void show_memoryview(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	int64_t nbytes = 0, itemsize = 0, len = -1;
	int32_t ndim = 0, readonly = 0, flags = 0;
	uint64_t shape = 0;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_MV_LEN, (uint64_t *)&nbytes);
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_MV_ITEMSIZE, (uint64_t *)&itemsize);
	if (!err)
		err = ch_py_read_i32(py, addr, CH_PY_MV_NDIM, &ndim);
	if (!err && ch_py_has(l, CH_PY_MV_READONLY))
		err = ch_py_read_i32(py, addr, CH_PY_MV_READONLY, &readonly);
	if (!err && ch_py_has(l, CH_PY_MV_FLAGS))
		err = ch_py_read_i32(py, addr, CH_PY_MV_FLAGS, &flags);
	if (!err && ndim > 0 && ch_py_has(l, CH_PY_MV_SHAPE) && !(err = ch_py_read_u64(py, addr, CH_PY_MV_SHAPE, &shape)) &&
	    shape)
		err = ch_as_read_u64(&py->proc->as, shape, (uint64_t *)&len);
	if (err)
		return ch_show_damage(c, node, err);
	struct ch_show_node *n = &c->t->nodes[node];
	n->num = nbytes;
	n->length = (uint64_t)len;
	if (flags & CH_MEMORYVIEW_RELEASED)
		n->flags |= CH_SHOW_RELEASED;
	n->aux = ch_show_arena_printf(c, "%" PRId64 " %d %d", itemsize, (int)ndim, readonly ? 1 : 0);
}

void ch_show_runtime(struct ch_show_ctx *c, uint32_t node, uint64_t addr, enum ch_show_kind k, size_t level)
{
	uint64_t type;
	struct ch_error *err = ch_py_read_u64(c->py, addr, CH_PY_OB_TYPE, &type);
	if (err)
		return ch_show_damage(c, node, err);
	switch (k) {
	case CH_SHOW_EXCEPTION: show_exception(c, node, addr, level); break;
	case CH_SHOW_TRACEBACK: show_traceback(c, node, addr); break;
	case CH_SHOW_FRAME: show_frame(c, node, addr, c->t->nodes[node].type, level); break;
	case CH_SHOW_GENERATOR: show_generator(c, node, addr, type, level); break;
	case CH_SHOW_FUTURE: show_future(c, node, addr, type, level); break;
	case CH_SHOW_PARTIAL: show_partial(c, node, addr, level); break;
	case CH_SHOW_BYTEARRAY: show_bytearray(c, node, addr, level); break;
	case CH_SHOW_CONTEXT: show_context(c, node, addr); break;
	case CH_SHOW_MEMORYVIEW: show_memoryview(c, node, addr); break;
	default: break;
	}
}
