/* References of the fixed-layout builtin objects: each kind's list of
 * fields in the order its tp_traverse visits them (CPython 3.8-3.13; a field
 * absent from a version's layout, e.g. func_builtins before 3.10 or
 * ht_module before 3.9, is simply not there), plus the fields a traverse
 * skips on purpose, reported with traversed = false:
 *   type_traverse: tp_dict, tp_cache, tp_mro, tp_bases, tp_base, ht_module;
 *     not tp_subclasses (weak references), ht_name/ht_qualname/ht_slots;
 *   weakref gc_traverse: wr_callback only; wr_object is not a strong ref;
 *   descr_traverse (wrapper/method/member/getset/classmethod descriptors):
 *     d_type; not d_name/d_qualname;  SimpleNamespace: ns_dict;
 *   meth_traverse (builtin functions): mm_class (3.9+, METH_METHOD), m_self,
 *     m_module;
 *   defaultdict: default_factory, then dict_traverse; partial: fn, args, kw,
 *     dict. Heap-type builds of _collections/_functools also visit the type. */
#include "readers/cpython/py_refs_internal.h"

struct field {
	enum ch_py_field f;
	const char *name;
	bool traversed;
};

static const struct field function_fields[] = {
	{CH_PY_FUNC_CODE, "__code__", true},         {CH_PY_FUNC_GLOBALS, "__globals__", true},
	{CH_PY_FUNC_BUILTINS, "__builtins__", true}, {CH_PY_FUNC_MODULE, "__module__", true},
	{CH_PY_FUNC_DEFAULTS, "__defaults__", true}, {CH_PY_FUNC_KWDEFAULTS, "__kwdefaults__", true},
	{CH_PY_FUNC_DOC, "__doc__", true},           {CH_PY_FUNC_NAME, "__name__", true},
	{CH_PY_FUNC_DICT, "__dict__", true},         {CH_PY_FUNC_CLOSURE, "__closure__", true},
	{CH_PY_FUNC_ANNOTATIONS, "__annotations__", true}, {CH_PY_FUNC_QUALNAME, "__qualname__", true},
	{CH_PY_FUNC_TYPEPARAMS, "__type_params__", true}, {CH_PY_FUNC_ANNOTATE, "__annotate__", true},
};
static const struct field type_fields[] = {
	{CH_PY_TP_DICT, "tp_dict", true},   {CH_PY_TP_CACHE, "tp_cache", true},
	{CH_PY_TP_MRO, "tp_mro", true},     {CH_PY_TP_BASES, "tp_bases", true},
	{CH_PY_TP_BASE, "tp_base", true},
};
static const struct field heaptype_fields[] = {
	{CH_PY_HT_MODULE, "ht_module", true},         {CH_PY_TP_SUBCLASSES, "tp_subclasses", false},
	{CH_PY_HT_NAME, "ht_name", false},            {CH_PY_HT_QUALNAME, "ht_qualname", false},
	{CH_PY_HT_SLOTS, "ht_slots", false},
};
static const struct field cell_fields[] = {{CH_PY_CELL_REF, "cell_contents", true}};
static const struct field module_fields[] = {{CH_PY_MODULE_DICT, "__dict__", true}};
static const struct field method_fields[] = {{CH_PY_METHOD_FUNC, "__func__", true}, {CH_PY_METHOD_SELF, "__self__", true}};
static const struct field cm_fields[] = {{CH_PY_CM_CALLABLE, "__func__", true}, {CH_PY_CM_DICT, "__dict__", true}};
static const struct field sm_fields[] = {{CH_PY_SM_CALLABLE, "__func__", true}, {CH_PY_SM_DICT, "__dict__", true}};
static const struct field property_fields[] = {
	{CH_PY_PROP_GET, "fget", true}, {CH_PY_PROP_SET, "fset", true}, {CH_PY_PROP_DEL, "fdel", true},
	{CH_PY_PROP_DOC, "__doc__", true}, {CH_PY_PROP_NAME, "__name__", true},
};
static const struct field weakref_fields[] = {{CH_PY_WR_CALLBACK, "__callback__", true}};
static const struct field exception_fields[] = {
	{CH_PY_EXC_DICT, "__dict__", true},   {CH_PY_EXC_ARGS, "args", true},
	{CH_PY_EXC_NOTES, "__notes__", true}, {CH_PY_EXC_TRACEBACK, "__traceback__", true},
	{CH_PY_EXC_CAUSE, "__cause__", true}, {CH_PY_EXC_CONTEXT, "__context__", true},
};
/* The subclass fields their tp_traverse visits before BaseException_traverse
 * (Objects/exceptions.c: OSError_traverse, ImportError_traverse, ...). */
static const struct field oserror_fields[] = {
	{CH_PY_OSERR_ERRNO, "errno", true}, {CH_PY_OSERR_STRERROR, "strerror", true},
	{CH_PY_OSERR_FILENAME, "filename", true}, {CH_PY_OSERR_FILENAME2, "filename2", true},
};
static const struct field importerror_fields[] = {
	{CH_PY_IMPERR_MSG, "msg", true}, {CH_PY_IMPERR_NAME, "name", true},
	{CH_PY_IMPERR_PATH, "path", true}, {CH_PY_IMPERR_NAME_FROM, "name_from", true},
};
static const struct field stopiter_fields[] = {{CH_PY_STOPITER_VALUE, "value", true}};
static const struct field sysexit_fields[] = {{CH_PY_SYSEXIT_CODE, "code", true}};
static const struct field syntaxerror_fields[] = {
	{CH_PY_SYNERR_MSG, "msg", true},          {CH_PY_SYNERR_FILENAME, "filename", true},
	{CH_PY_SYNERR_LINENO, "lineno", true},    {CH_PY_SYNERR_OFFSET, "offset", true},
	{CH_PY_SYNERR_END_LINENO, "end_lineno", true}, {CH_PY_SYNERR_END_OFFSET, "end_offset", true},
	{CH_PY_SYNERR_TEXT, "text", true},        {CH_PY_SYNERR_PRINT_FILE, "print_file_and_line", true},
};
static const struct field attributeerror_fields[] = {{CH_PY_ATTRERR_OBJ, "obj", true}, {CH_PY_ATTRERR_NAME, "name", true}};
static const struct field nameerror_fields[] = {{CH_PY_NAMEERR_NAME, "name", true}};
static const struct field unicodeerror_fields[] = {
	{CH_PY_UNIERR_ENCODING, "encoding", true}, {CH_PY_UNIERR_OBJECT, "object", true},
	{CH_PY_UNIERR_REASON, "reason", true},
};
static const struct field excgroup_fields[] = {{CH_PY_EXCGROUP_MSG, "message", true}, {CH_PY_EXCGROUP_EXCS, "exceptions", true}};

static const struct field traceback_fields[] = {{CH_PY_TB_NEXT, "tb_next", true}, {CH_PY_TB_FRAME, "tb_frame", true}};
static const struct field cfunction_fields[] = {{CH_PY_CFUNC_SELF, "__self__", true}, {CH_PY_CFUNC_MODULE, "__module__", true}};
static const struct field partial_fields[] = {
	{CH_PY_PARTIAL_FN, "func", true}, {CH_PY_PARTIAL_ARGS, "args", true},
	{CH_PY_PARTIAL_KW, "keywords", true}, {CH_PY_PARTIAL_DICT, "__dict__", true},
};
/* descr_traverse (all PyDescr_COMMON descriptors): d_type only. */
static const struct field descr_fields[] = {
	{CH_PY_DESCR_TYPE, "__objclass__", true}, {CH_PY_DESCR_NAME, "__name__", false},
	{CH_PY_DESCR_QUALNAME, "__qualname__", false},
};
static const struct field namespace_fields[] = {{CH_PY_NAMESPACE_DICT, "__dict__", true}};
/* Code objects have no tp_traverse (not GC-tracked) in 3.8-3.13: every
 * field is reported untraversed (the edge pass clears it anyway). Fields
 * absent from a version's layout are skipped. */
static const struct field code_fields[] = {
	{CH_PY_CODE_CONSTS, "co_consts", false},         {CH_PY_CODE_NAMES, "co_names", false},
	{CH_PY_CODE_CODE, "co_code", false},             {CH_PY_CODE_VARNAMES, "co_varnames", false},
	{CH_PY_CODE_CELLVARS, "co_cellvars", false},     {CH_PY_CODE_FREEVARS, "co_freevars", false},
	{CH_PY_CODE_LOCALSPLUSNAMES, "co_localsplusnames", false},
	{CH_PY_CODE_LOCALSPLUSKINDS, "co_localspluskinds", false},
	{CH_PY_CODE_FILENAME, "co_filename", false},     {CH_PY_CODE_NAME, "co_name", false},
	{CH_PY_CODE_QUALNAME, "co_qualname", false},     {CH_PY_CODE_LNOTAB, "co_lnotab", false},
	{CH_PY_CODE_LINETABLE, "co_linetable", false},   {CH_PY_CODE_EXCEPTIONTABLE, "co_exceptiontable", false},
};
static const struct field defdict_fields[] = {{CH_PY_DEFDICT_FACTORY, "default_factory", true}};

#define FIELDS(a) (a), sizeof(a) / sizeof((a)[0])

static struct ch_error *fields(struct ch_refs_ctx *c, uint64_t obj, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n && !c->stopped; i++) {
		struct ch_error *err = ch_refs_field(c, obj, f[i].f, f[i].name, f[i].traversed);
		if (err)
			return err;
	}
	return NULL;
}

/* An exception subclass: its own fields (absent ones, e.g. AttributeError's
 * before 3.10, are skipped by the layout), then BaseException's. */
static struct ch_error *exception(struct ch_refs_ctx *c, uint64_t obj, const struct field *f, size_t n)
{
	struct ch_error *err = fields(c, obj, f, n);
	return err ? err : fields(c, obj, FIELDS(exception_fields));
}

#define CH_MODULE_STATE_MAX (1u << 16)

/* module_traverse: md_dict, then the extension's m_traverse over its
 * per-module state, which only the extension understands: the state's
 * words are reported conservatively (not traversed; index = byte offset
 * into md_state, not into the module object). */
/* The module's state block: its address and size (0 when it has none). */
static struct ch_error *module_state(struct ch_python *py, uint64_t obj, uint64_t *state, int64_t *size)
{
	const struct ch_py_layout *l = &py->layout;
	*state = 0;
	*size = 0;
	if (!ch_py_has(l, CH_PY_MODULE_STATE))
		return NULL;
	/* The state's size: md_state_size on the module (3.15+), else the
	 * PyModuleDef's m_size. */
	uint64_t def;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_MODULE_STATE, state);
	if (err || !*state)
		return err;
	if (ch_py_has(l, CH_PY_MODULE_STATE_SIZE))
		err = ch_py_read_u64(py, obj, CH_PY_MODULE_STATE_SIZE, (uint64_t *)size);
	else if (ch_py_has(l, CH_PY_MODULE_DEF) && ch_py_has(l, CH_PY_MODDEF_SIZE) &&
		 !(err = ch_py_read_u64(py, obj, CH_PY_MODULE_DEF, &def)) && def)
		err = ch_py_read_u64(py, def, CH_PY_MODDEF_SIZE, (uint64_t *)size);
	if (*size < 0)
		*size = 0;
	return err;
}

bool ch_refs_module_has_state(struct ch_python *py, uint64_t obj)
{
	uint64_t state;
	int64_t size;
	struct ch_error *err = module_state(py, obj, &state, &size);
	ch_error_free(err);
	return !err && state && size > 0;
}

/* A module's own fields; its state (an extension module's C struct) only
 * conservatively: py_refs.c runs module_traverse itself, which calls the
 * module's m_traverse, for modules that have state, and comes here only
 * when that fails. */
static struct ch_error *module(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_error *err = fields(c, obj, FIELDS(module_fields));
	if (err || c->stopped)
		return err;
	uint64_t state;
	int64_t size;
	if ((err = module_state(c->py, obj, &state, &size)) || !state || size <= 0)
		return err;
	if (size > CH_MODULE_STATE_MAX)
		size = CH_MODULE_STATE_MAX;
	return ch_refs_conservative(c, state, state + (uint64_t)size, state);
}

#define CH_METH_METHOD 0x0200 /* methodobject.h, 3.9+ */

static struct ch_error *cfunction(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	if (ch_py_has(&py->layout, CH_PY_CMETH_CLASS) && ch_py_has(&py->layout, CH_PY_METHODDEF_FLAGS)) {
		uint64_t ml;
		int32_t flags = 0;
		struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_CFUNC_ML, &ml);
		if (!err && ml)
			err = ch_py_read_i32(py, ml, CH_PY_METHODDEF_FLAGS, &flags);
		if (!err && (flags & CH_METH_METHOD))
			err = ch_refs_field(c, obj, CH_PY_CMETH_CLASS, "__objclass__", true);
		if (err)
			return err;
	}
	return fields(c, obj, FIELDS(cfunction_fields));
}

/* The type of an object of a _collections/_functools heap type (3.12+/
 * 3.13 builds): their traverse functions visit Py_TYPE(self). */
static void heap_own_type(struct ch_refs_ctx *c, uint64_t obj)
{
	uint64_t t, flags;
	struct ch_error *err = ch_py_read_u64(c->py, obj, CH_PY_OB_TYPE, &t);
	if (!err)
		err = ch_py_read_u64(c->py, t, CH_PY_TP_FLAGS, &flags);
	if (err) {
		ch_error_free(err);
		return;
	}
	if (flags & CH_TPFLAGS_HEAPTYPE)
		ch_refs_emit(c, t, CH_REF_FIELD, true, 0, 0, "ob_type");
}

struct ch_error *ch_refs_object_kind(struct ch_refs_ctx *c, uint64_t obj, enum ch_rk kind)
{
	struct ch_error *err = NULL;
	switch (kind) {
	case CH_RK_TUPLE:
		return ch_refs_tuple(c, obj);
	case CH_RK_LIST:
		return ch_refs_list(c, obj);
	case CH_RK_DICT:
		return ch_refs_dict(c, obj);
	case CH_RK_ODICT:
		return ch_refs_odict(c, obj);
	case CH_RK_SET:
		return ch_refs_set(c, obj);
	case CH_RK_DEQUE:
		heap_own_type(c, obj);
		return ch_refs_deque(c, obj);
	case CH_RK_DEFAULTDICT:
		heap_own_type(c, obj);
		err = fields(c, obj, FIELDS(defdict_fields));
		return err ? err : ch_refs_dict(c, obj);
	case CH_RK_PARTIAL:
		heap_own_type(c, obj);
		return fields(c, obj, FIELDS(partial_fields));
	case CH_RK_TYPE: {
		uint64_t flags;
		if ((err = fields(c, obj, FIELDS(type_fields))))
			return err;
		if ((err = ch_py_read_u64(c->py, obj, CH_PY_TP_FLAGS, &flags)))
			return err;
		/* static types keep no heap-type part (3.12+ even reuse
		 * tp_subclasses as an index) */
		return (flags & CH_TPFLAGS_HEAPTYPE) ? fields(c, obj, FIELDS(heaptype_fields)) : NULL;
	}
	case CH_RK_FUNCTION:
		return fields(c, obj, FIELDS(function_fields));
	case CH_RK_CELL:
		return fields(c, obj, FIELDS(cell_fields));
	case CH_RK_MODULE:
		return module(c, obj);
	case CH_RK_METHOD:
		return fields(c, obj, FIELDS(method_fields));
	case CH_RK_CLASSMETHOD:
		return fields(c, obj, FIELDS(cm_fields));
	case CH_RK_STATICMETHOD:
		return fields(c, obj, FIELDS(sm_fields));
	case CH_RK_PROPERTY:
		return fields(c, obj, FIELDS(property_fields));
	case CH_RK_WEAKREF: {
		/* wr_object first (a weak, not-owned pointer), then the callback. */
		uint64_t target;
		if (ch_py_has(&c->py->layout, CH_PY_WR_OBJECT)) {
			struct ch_error *err = ch_py_read_u64(c->py, obj, CH_PY_WR_OBJECT, &target);
			if (err)
				return err;
			ch_refs_emit(c, target, CH_REF_WEAK, false, 0, 0, "wr_object");
		}
		return fields(c, obj, FIELDS(weakref_fields));
	}
	case CH_RK_CFUNCTION:
		return cfunction(c, obj);
	case CH_RK_EXCEPTION:
		return fields(c, obj, FIELDS(exception_fields));
	case CH_RK_EXC_OSERROR:
		return exception(c, obj, FIELDS(oserror_fields));
	case CH_RK_EXC_IMPORT:
		return exception(c, obj, FIELDS(importerror_fields));
	case CH_RK_EXC_STOPITER:
		return exception(c, obj, FIELDS(stopiter_fields));
	case CH_RK_EXC_SYSEXIT:
		return exception(c, obj, FIELDS(sysexit_fields));
	case CH_RK_EXC_SYNTAX:
		return exception(c, obj, FIELDS(syntaxerror_fields));
	case CH_RK_EXC_ATTRIBUTE:
		return exception(c, obj, FIELDS(attributeerror_fields));
	case CH_RK_EXC_NAME:
		return exception(c, obj, FIELDS(nameerror_fields));
	case CH_RK_EXC_UNICODE:
		return exception(c, obj, FIELDS(unicodeerror_fields));
	case CH_RK_EXC_GROUP:
		return exception(c, obj, FIELDS(excgroup_fields));
	case CH_RK_TRACEBACK:
		return fields(c, obj, FIELDS(traceback_fields));
	case CH_RK_DESCR:
		return fields(c, obj, FIELDS(descr_fields));
	case CH_RK_CODE:
		return fields(c, obj, FIELDS(code_fields));
	case CH_RK_NAMESPACE:
		return fields(c, obj, FIELDS(namespace_fields));
	case CH_RK_FRAME:
		return ch_refs_frame(c, obj);
	case CH_RK_GEN:
		return ch_refs_gen(c, obj);
	case CH_RK_UNKNOWN:
	case CH_RK_LEAF:
	case CH_RK_OBJECT:
	case CH_RK_BYTES:
	case CH_RK_STR:
	case CH_RK_LONG:
	case CH_RK_BYTEARRAY:
	case CH_RK_NDARRAY:
	case CH_RK_COUNT:
		break;
	}
	return NULL;
}
