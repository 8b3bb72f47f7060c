#include "readers/cpython/py_asyncio.h"

#include "readers/base/chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_refs.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"
#include "readers/process/dwarf_types.h"

/* An MRO longer than this means the type object is corrupt. */
#define CH_AIO_MAX_MRO 256
/* More tasks than this on one 3.14+ task list means it is corrupt. */
#define CH_PY_MAX_TASK_LIST 100000000

/* The C fields without which no C future can be read. */
static bool c_fields_known(const struct ch_py_layout *l)
{
	static const enum ch_py_field need[] = {CH_PY_FUT_STATE, CH_PY_FUT_EXCEPTION, CH_PY_FUT_LOOP, CH_PY_FUT_RESULT,
						CH_PY_TASK_CORO, CH_PY_TASK_FUT_WAITER, CH_PY_TASK_NAME,
						CH_PY_FUT_STATE_PENDING, CH_PY_FUT_STATE_CANCELLED,
						CH_PY_FUT_STATE_FINISHED};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!ch_py_has(l, need[i]))
			return false;
	return true;
}

/* The _asyncio extension's DWARF: embedded or a separate debug file. */
static struct ch_error *fill_from_extension(struct ch_python *py, struct ch_module *mod)
{
	struct ch_elf_file *ef;
	struct ch_error *err = ch_process_module_elf(mod, &ef);
	if (err)
		return err;
	struct ch_debug_file df;
	if ((err = ch_debug_file_find(ef, mod->path, py->proc->opts.debug_dir, &df)))
		return err;
	struct ch_dwarf *dw;
	err = ch_dwarf_open(df.path, &dw);
	ch_debug_file_deinit(&df);
	if (err)
		return err;
	err = ch_py_layout_fill_asyncio(&py->layout, dw);
	ch_dwarf_close(dw);
	return err;
}

/* 3.14+: _asyncio's .AsyncioDebug section holds _Py_AsyncioModuleDebugOffsets,
 * the offsets its own build uses, for out-of-process tools. Each one that
 * states a field coreheap reads is compared with the layout in use. */
static void check_debug_offsets(struct ch_python *py, struct ch_py_asyncio *a, struct ch_module *mod)
{
	static const struct { enum ch_py_field where, field; const char *name; } pairs[] = {
		{CH_PY_AIODBG_TASK_NAME, CH_PY_TASK_NAME, "asyncio_task_object.task_name"},
		{CH_PY_AIODBG_TASK_CORO, CH_PY_TASK_CORO, "asyncio_task_object.task_coro"},
		{CH_PY_AIODBG_TASK_NODE, CH_PY_TASK_NODE, "asyncio_task_object.task_node"},
		{CH_PY_AIODBG_INTERP_TASKS_HEAD, CH_PY_INTERP_ASYNCIO_TASKS_HEAD, "asyncio_interpreter_state.asyncio_tasks_head"},
		{CH_PY_AIODBG_TSTATE_TASKS_HEAD, CH_PY_TSTATE_ASYNCIO_TASKS_HEAD, "asyncio_thread_state.asyncio_tasks_head"},
	};
	const struct ch_py_layout *l = &py->layout;
	uint64_t sec, size;
	const uint8_t *bytes;
	if (!mod || mod->status != CH_MODULE_OK || !mod->elf || !ch_error_ok(ch_elf_section(mod->elf, ".AsyncioDebug", &sec, &size, &bytes)))
		return;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint64_t v;
		if (!ch_py_has(l, pairs[i].where) || !ch_py_has(l, pairs[i].field) ||
		    (uint64_t)l->v[pairs[i].where] + 8 > size ||
		    !ch_error_ok(ch_as_read_u64(&py->proc->as, sec + mod->bias + (uint64_t)l->v[pairs[i].where], &v)))
			continue;
		a->debug_checked++;
		if (v != (uint64_t)l->v[pairs[i].field]) {
			a->debug_mismatches++;
			ch_diag_warn(&py->diag, "_asyncio's debug offsets (.AsyncioDebug) give %s = %" PRIu64
				     ", the layout in use %" PRId64 ": task readings may be wrong", pairs[i].name, v,
				     l->v[pairs[i].field]);
		}
	}
}

static void load_c_layout(struct ch_python *py, struct ch_py_asyncio *a)
{
	struct ch_py_layout *l = &py->layout;
	if (c_fields_known(l)) {
		a->c_fields = true;
		return;
	}
	struct ch_module *mod = ch_process_find_module(py->proc, "_asyncio.");
	struct ch_error *err = NULL;
	struct ch_dwarf *dw;
	if (mod)
		err = fill_from_extension(py, mod);
	else if (py->dwarf_path && !(err = ch_python_dwarf(py, &dw))) /* opened now when the layout was cached */
		err = ch_py_layout_fill_asyncio(l, dw);
	a->c_fields = !err && c_fields_known(l);
	if (a->c_fields) {
		check_debug_offsets(py, a, mod ? mod : py->module);
		return;
	}
	if (err)
		snprintf(a->c_problem, sizeof(a->c_problem), "the layout of _asyncio's Task and Future is unknown: %.400s",
			 err->message);
	else
		snprintf(a->c_problem, sizeof(a->c_problem),
			 "the layout of _asyncio's Task and Future is unknown: %.300s has no debug info describing FutureObj "
			 "and TaskObj (install the interpreter's debug symbols)",
			 mod ? mod->path : (l->source ? l->source : "the runtime module"));
	ch_error_free(err);
}

static uint64_t attr_or_zero(struct ch_python *py, uint64_t obj, const char *name)
{
	uint64_t v = 0;
	return obj && ch_error_ok(ch_py_getattr(py, obj, name, &v)) ? v : 0;
}

/* Pure-Python futures keep class-level defaults (_state = 'PENDING',
 * _exception = None, ...) until an instance sets its own. */
static uint64_t field_or_zero(struct ch_python *py, uint64_t obj, const char *name)
{
	uint64_t v = 0;
	return obj && ch_error_ok(ch_py_getattr_or_class(py, obj, name, &v)) ? v : 0;
}

struct ch_error *ch_py_asyncio_init(struct ch_python *py, struct ch_py_asyncio *a)
{
	memset(a, 0, sizeof(*a));
	ch_py_builtins_init(py, &a->b);
	a->coro_type = ch_python_symbol(py, "PyCoro_Type");
	a->gen_type = ch_python_symbol(py, "PyGen_Type");
	a->asyncgen_type = ch_python_symbol(py, "PyAsyncGen_Type");
	uint64_t futures = 0, tasks = 0;
	(void)ch_error_ok(ch_py_module(py, "asyncio.futures", &futures));
	(void)ch_error_ok(ch_py_module(py, "asyncio.tasks", &tasks));
	a->c_future = attr_or_zero(py, futures, "_CFuture");
	a->py_future = attr_or_zero(py, futures, "_PyFuture");
	a->c_task = attr_or_zero(py, tasks, "_CTask");
	a->py_task = attr_or_zero(py, tasks, "_PyTask");
	a->gathering = attr_or_zero(py, tasks, "_GatheringFuture");
	if (a->c_future || a->c_task)
		load_c_layout(py, a);
	return NULL;
}

const struct ch_py_asyncio *ch_py_asyncio_get(struct ch_python *py)
{
	if (py->asyncio)
		return py->asyncio;
	struct ch_py_asyncio *a = malloc(sizeof(*a));
	if (!a)
		return NULL;
	struct ch_error *err = ch_py_asyncio_init(py, a);
	if (err) {
		ch_error_free(err);
		free(a);
		return NULL;
	}
	return py->asyncio = a;
}

enum ch_py_aio_kind ch_py_asyncio_classify(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t type_addr)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t mro, n;
	if (!type_addr || !(a->c_future || a->c_task || a->py_future || a->py_task) || !ch_py_has(l, CH_PY_TP_MRO) ||
	    !ch_error_ok(ch_py_read_u64(py, type_addr, CH_PY_TP_MRO, &mro)) || !mro ||
	    !ch_error_ok(ch_py_read_u64(py, mro, CH_PY_VAR_SIZE, &n)) || n > CH_AIO_MAX_MRO)
		return CH_AIO_NONE;
	enum ch_py_aio_kind kind = CH_AIO_NONE;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t;
		if (!ch_error_ok(ch_as_read_u64(&py->proc->as, mro + (uint64_t)l->v[CH_PY_TUPLE_ITEMS] + 8 * i, &t)))
			return CH_AIO_NONE;
		if (t == a->c_task || t == a->py_task)
			return t == a->c_task ? CH_AIO_C_TASK : CH_AIO_PY_TASK;
		if (kind == CH_AIO_NONE && (t == a->c_future || t == a->py_future))
			kind = t == a->c_future ? CH_AIO_C_FUTURE : CH_AIO_PY_FUTURE;
	}
	return kind;
}

static bool type_is(struct ch_python *py, uint64_t obj, uint64_t type)
{
	uint64_t t;
	return type && obj && ch_error_ok(ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &t)) && t == type;
}

/* A task name: a str, or (3.12+, until get_name() runs) the counter as an int. */
static void name_text(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t name, char *buf, size_t n)
{
	buf[0] = 0;
	if (!name || name == a->b.none)
		return;
	if (type_is(py, name, a->b.long_type)) {
		char num[64];
		ch_py_value_render(py, &a->b, name, num, sizeof(num));
		snprintf(buf, n, "Task-%s", num);
	} else if (!ch_error_ok(ch_py_str_read(py, name, buf, n, NULL))) {
		ch_py_value_render(py, &a->b, name, buf, n);
	}
}

static uint64_t none_to_zero(const struct ch_py_asyncio *a, uint64_t v)
{
	return v == a->b.none ? 0 : v;
}

static struct ch_error *read_c(struct ch_python *py, uint64_t obj, struct ch_py_future *out)
{
	const struct ch_py_layout *l = &py->layout;
	int32_t st;
	struct ch_error *err;
	if ((err = ch_py_read_i32(py, obj, CH_PY_FUT_STATE, &st)) || (err = ch_py_read_u64(py, obj, CH_PY_FUT_LOOP, &out->loop)) ||
	    (err = ch_py_read_u64(py, obj, CH_PY_FUT_EXCEPTION, &out->exception)) ||
	    (err = ch_py_read_u64(py, obj, CH_PY_FUT_RESULT, &out->result)))
		return err;
	out->state = st == l->v[CH_PY_FUT_STATE_PENDING]     ? CH_FUT_PENDING
		     : st == l->v[CH_PY_FUT_STATE_CANCELLED] ? CH_FUT_CANCELLED
		     : st == l->v[CH_PY_FUT_STATE_FINISHED]  ? CH_FUT_FINISHED
							     : CH_FUT_UNKNOWN;
	out->log_tb = -1;
	uint8_t byte;
	if (ch_py_has(l, CH_PY_FUT_LOG_TB) &&
	    ch_error_ok(ch_as_read(&py->proc->as, obj + (uint64_t)l->v[CH_PY_FUT_LOG_TB] / 8, &byte, 1)))
		out->log_tb = (byte >> (l->v[CH_PY_FUT_LOG_TB] % 8)) & 1;
	if (out->kind != CH_AIO_C_TASK)
		return NULL;
	if ((err = ch_py_read_u64(py, obj, CH_PY_TASK_CORO, &out->coro)) ||
	    (err = ch_py_read_u64(py, obj, CH_PY_TASK_FUT_WAITER, &out->waiter)) ||
	    (err = ch_py_read_u64(py, obj, CH_PY_TASK_NAME, &out->name)))
		return err;
	return NULL;
}

static void read_py(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t obj, struct ch_py_future *out)
{
	char st[16] = "";
	uint64_t s = field_or_zero(py, obj, "_state");
	if (!s || !ch_error_ok(ch_py_str_read(py, s, st, sizeof(st), NULL)))
		out->state = CH_FUT_UNKNOWN;
	else
		out->state = !strcmp(st, "PENDING")     ? CH_FUT_PENDING
			     : !strcmp(st, "CANCELLED") ? CH_FUT_CANCELLED
			     : !strcmp(st, "FINISHED")  ? CH_FUT_FINISHED
							: CH_FUT_UNKNOWN;
	out->loop = field_or_zero(py, obj, "_loop");
	out->exception = field_or_zero(py, obj, "_exception");
	out->result = field_or_zero(py, obj, "_result");
	uint64_t log_tb;
	/* absent from the instance: the class default, False */
	out->log_tb = ch_error_ok(ch_py_getattr_or_class(py, obj, "_Future__log_traceback", &log_tb)) ? log_tb == a->b.true_ : 0;
	if (out->kind != CH_AIO_PY_TASK)
		return;
	out->coro = field_or_zero(py, obj, "_coro");
	out->waiter = field_or_zero(py, obj, "_fut_waiter");
	out->name = field_or_zero(py, obj, "_name");
}

struct ch_error *ch_py_future_read(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t obj,
				   enum ch_py_aio_kind k, struct ch_py_future *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = k;
	if (k == CH_AIO_C_FUTURE || k == CH_AIO_C_TASK) {
		if (!a->c_fields)
			return ch_error_new(CH_ERR_UNSUPPORTED, "%s", a->c_problem);
		struct ch_error *err = read_c(py, obj, out);
		if (err)
			return err;
	} else {
		read_py(py, a, obj, out);
	}
	out->coro = none_to_zero(a, out->coro);
	out->waiter = none_to_zero(a, out->waiter);
	out->exception = none_to_zero(a, out->exception);
	if (ch_aio_is_task(k))
		name_text(py, a, out->name, out->name_text, sizeof(out->name_text));
	return NULL;
}

uint64_t ch_py_asyncio_futureiter_target(struct ch_python *py, uint64_t obj)
{
	uint64_t type, fut;
	uint32_t ti;
	if (!obj || !ch_py_has(&py->layout, CH_PY_FUTITER_FUTURE) || !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type)) ||
	    !ch_error_ok(ch_py_type_intern(py, type, &ti)) || strcmp(ch_py_type_name(&py->types, ti), "_asyncio.FutureIter") != 0 ||
	    !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_FUTITER_FUTURE, &fut)))
		return 0;
	return fut;
}

void ch_py_gather_children(struct ch_python *py, const struct ch_py_asyncio *a, uint64_t fut, uint64_t *out, size_t max,
			   size_t *n)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t type, list, len, items;
	*n = 0;
	if (!a->gathering || !ch_error_ok(ch_py_read_u64(py, fut, CH_PY_OB_TYPE, &type)) ||
	    (type != a->gathering && ch_py_asyncio_classify(py, a, type) == CH_AIO_NONE) || !ch_py_has(l, CH_PY_LIST_ITEMS))
		return;
	if (type != a->gathering) {
		/* a subclass of some future: only a _GatheringFuture has children */
		uint64_t mro, nm, t;
		bool found = false;
		if (!ch_error_ok(ch_py_read_u64(py, type, CH_PY_TP_MRO, &mro)) || !mro || !ch_error_ok(ch_py_read_u64(py, mro, CH_PY_VAR_SIZE, &nm)) ||
		    nm > CH_AIO_MAX_MRO)
			return;
		for (uint64_t i = 0; i < nm && !found; i++)
			found = ch_error_ok(ch_as_read_u64(&py->proc->as, mro + (uint64_t)l->v[CH_PY_TUPLE_ITEMS] + 8 * i, &t)) &&
				t == a->gathering;
		if (!found)
			return;
	}
	if (!(list = attr_or_zero(py, fut, "_children")) || !type_is(py, list, a->b.list_type) ||
	    !ch_error_ok(ch_py_read_u64(py, list, CH_PY_VAR_SIZE, &len)) || !ch_error_ok(ch_py_read_u64(py, list, CH_PY_LIST_ITEMS, &items)))
		return;
	for (uint64_t i = 0; i < len && *n < max; i++) {
		uint64_t c;
		if (!ch_error_ok(ch_as_read_u64(&py->proc->as, items + 8 * i, &c)))
			return;
		out[(*n)++] = c;
	}
}

void ch_py_exception_text(struct ch_python *py, const struct ch_py_builtins *b, uint64_t exc, char *type, size_t ntype,
			  char *msg, size_t nmsg)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t t, args, n, item;
	uint32_t ti;
	snprintf(type, ntype, "?");
	msg[0] = 0;
	if (ch_error_ok(ch_py_read_u64(py, exc, CH_PY_OB_TYPE, &t)) && ch_error_ok(ch_py_type_intern(py, t, &ti)))
		snprintf(type, ntype, "%s", ch_py_type_name(&py->types, ti));
	if (!ch_py_has(l, CH_PY_EXC_ARGS) || !ch_error_ok(ch_py_read_u64(py, exc, CH_PY_EXC_ARGS, &args)) || !args ||
	    !ch_error_ok(ch_py_read_u64(py, args, CH_PY_VAR_SIZE, &n)) || n == 0)
		return;
	if (n > 1 || !ch_error_ok(ch_as_read_u64(&py->proc->as, args + (uint64_t)l->v[CH_PY_TUPLE_ITEMS], &item))) {
		ch_py_value_render(py, b, args, msg, nmsg);
		return;
	}
	if (!type_is(py, item, b->str_type) || !ch_error_ok(ch_py_str_read(py, item, msg, nmsg, NULL)))
		ch_py_value_render(py, b, item, msg, nmsg);
}

struct registry_ctx {
	struct ch_python *py;
	const struct ch_py_asyncio *a;
	bool weak;
	const char *name;
	ch_py_registry_fn fn;
	void *arg;
	int stopped;
};

static int registry_item(void *arg, const struct ch_ref *ref)
{
	struct registry_ctx *c = arg;
	if (ref->kind != CH_REF_SET_ITEM)
		return 0;
	uint64_t task = ref->target;
	if (c->weak && !ch_error_ok(ch_py_read_u64(c->py, ref->target, CH_PY_WR_OBJECT, &task)))
		return 0;
	if (!task || task == c->a->b.none)
		return 0; /* a dead weak reference */
	c->stopped = c->fn(c->arg, task, c->name, -1);
	return c->stopped;
}

/* A circular list of pending native tasks (3.14+): llist_node heads in the
 * thread or interpreter state, each node embedded in its TaskObj at
 * task_node. Bounded and loop-checked; damage ends the walk with an error. */
static struct ch_error *task_list(struct ch_python *py, uint64_t head, const char *name, int64_t thread,
				  ch_py_registry_fn fn, void *arg, int *stopped)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t node;
	struct ch_error *err = ch_as_read_u64(&py->proc->as, head + (uint64_t)l->v[CH_PY_LLIST_NEXT], &node);
	struct ch_chain chain;
	ch_chain_init(&chain, CH_PY_MAX_TASK_LIST);
	while (!err && node && node != head && !*stopped) {
		enum ch_chain_step step = ch_chain_step(&chain, node);
		if (step != CH_CHAIN_OK)
			return ch_error_new(CH_ERR_INPUT, "the %s list at 0x%" PRIx64 " %s", name, head,
					    step == CH_CHAIN_LOOP ? "loops" : "is implausibly long");
		*stopped = fn(arg, node - (uint64_t)l->v[CH_PY_TASK_NODE], name, thread);
		err = ch_as_read_u64(&py->proc->as, node + (uint64_t)l->v[CH_PY_LLIST_NEXT], &node);
	}
	return err;
}

static struct ch_error *task_lists(struct ch_python *py, const struct ch_py_asyncio *a, ch_py_registry_fn fn, void *arg)
{
	const struct ch_py_layout *l = &py->layout;
	if (!a->c_fields || !ch_py_has(l, CH_PY_TASK_NODE) || !ch_py_has(l, CH_PY_LLIST_NEXT) ||
	    !ch_py_has(l, CH_PY_TSTATE_ASYNCIO_TASKS_HEAD) || !ch_py_has(l, CH_PY_INTERP_ASYNCIO_TASKS_HEAD))
		return NULL;
	int stopped = 0;
	struct ch_error *err = NULL;
	for (size_t i = 0; i < py->nthreads && !err && !stopped; i++) {
		const struct ch_py_thread *th = &py->threads[i];
		err = task_list(py, th->tstate + (uint64_t)l->v[CH_PY_TSTATE_ASYNCIO_TASKS_HEAD], "thread asyncio_tasks_head",
				th->native_id >= 0 ? th->native_id : (int64_t)th->thread_id, fn, arg, &stopped);
	}
	if (!err && !stopped)
		err = task_list(py, py->main_interp + (uint64_t)l->v[CH_PY_INTERP_ASYNCIO_TASKS_HEAD],
				"interpreter asyncio_tasks_head", -1, fn, arg, &stopped);
	return err;
}

struct ch_error *ch_py_asyncio_registries(struct ch_python *py, const struct ch_py_asyncio *a, ch_py_registry_fn fn,
					  void *arg)
{
	struct ch_error *err = task_lists(py, a, fn, arg);
	if (err)
		return err;
	static const struct {
		const char *name;
		bool weak;
	} regs[] = {{"_all_tasks", true}, {"_scheduled_tasks", true}, {"_eager_tasks", false}};
	uint64_t tasks;
	if (!ch_error_ok(ch_py_module(py, "asyncio.tasks", &tasks)))
		return NULL;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint64_t reg = attr_or_zero(py, tasks, regs[i].name), set = reg, type;
		uint32_t ti;
		if (!reg)
			continue;
		if (regs[i].weak && !(set = attr_or_zero(py, reg, "data")))
			return ch_error_new(CH_ERR_INPUT, "asyncio.tasks.%s at 0x%" PRIx64 " has no readable 'data' set",
					    regs[i].name, reg);
		err = ch_py_read_u64(py, set, CH_PY_OB_TYPE, &type);
		if (!err)
			err = ch_py_type_intern(py, type, &ti);
		struct registry_ctx c = {py, a, regs[i].weak, regs[i].name, fn, arg, 0};
		if (!err)
			err = ch_py_refs_visit(py, set, ti, registry_item, &c);
		if (err)
			return err;
		if (c.stopped)
			break;
	}
	return NULL;
}
