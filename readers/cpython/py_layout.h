/* Every CPython layout fact coreheap uses, as one table of named fields.
 *
 * The CPython layer never contains an offset: it asks for CH_PY_<FIELD>.
 * A field's value comes from the interpreter's DWARF (struct/member paths
 * below; several rows may name the same field for different versions and the
 * first that resolves wins) or, for binaries without DWARF, from a generated
 * table keyed by version (issue 6) that fills the same array. So adding a
 * version or a stripped-binary table touches data, not code paths.
 *
 * A field that does not exist in a version (e.g. RUNTIME_GC after 3.8) is
 * CH_PY_ABSENT; code branches on presence, not on version numbers, wherever
 * the presence of a field is what changed.
 *
 * 3.6 has no _PyRuntime: its interpreter list head and GC state are static
 * variables (pystate.c, gcmodule.c), found by symbol (py_gc_globals.c), so
 * the _PyRuntimeState and _gc_runtime_state fields are required only where
 * those structs exist (ch_python_open checks them). */
#ifndef CH_PY_LAYOUT_H
#define CH_PY_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_dwarf;

#define CH_PY_ABSENT INT64_MIN

enum ch_py_field_kind {
	CH_PY_OFFSET,   /* byte offset of a member */
	CH_PY_BITPOS,   /* bit offset of a bitfield member */
	CH_PY_SIZEOF,   /* size of a type in bytes */
	CH_PY_ARRAYLEN, /* element count of an array member */
	CH_PY_MEMBERSIZE, /* size of a member in bytes */
	CH_PY_ENUMERATOR, /* value of an enumerator (type names it, path is NULL) */
};

/* X(name, required): required fields must resolve for coreheap to work. */
#define CH_PY_FIELD_IDS(X)                                                   \
	X(RUNTIME_INTERP_HEAD, 0) X(RUNTIME_INTERP_MAIN, 0) X(RUNTIME_GC, 0)    \
	X(RUNTIME_GIL_CURRENT, 0) X(SIZEOF_RUNTIME, 0)                          \
	X(INTERP_NEXT, 1) X(INTERP_ID, 0) X(INTERP_GC, 0)                       \
	X(INTERP_THREADS_HEAD, 1) X(INTERP_MODULES, 0) X(INTERP_SYSDICT, 0)     \
	X(INTERP_BUILTINS, 0) X(INTERP_INTERNED, 0)                             \
	X(TSTATE_NEXT, 1) X(TSTATE_INTERP, 1) X(TSTATE_THREAD_ID, 1)            \
	X(TSTATE_NATIVE_THREAD_ID, 0)                                           \
	X(GC_ENABLED, 0) X(GC_DEBUG, 0) X(GC_GENERATIONS, 0)                    \
	X(GC_GENERATION0, 0) X(GC_PERMANENT, 0) X(GC_STATS, 0)                  \
	X(GC_COLLECTING, 0) X(GC_GARBAGE, 0) X(GC_CALLBACKS, 0)                 \
	X(GC_LONG_LIVED_TOTAL, 0) X(GC_LONG_LIVED_PENDING, 0)                   \
	X(GC_NUM_GENERATIONS, 0) X(GCHEAD_REFS, 0)                                                \
	X(GCGEN_HEAD, 1) X(GCGEN_THRESHOLD, 1) X(GCGEN_COUNT, 1)                \
	X(SIZEOF_GCGEN, 1)                                                      \
	X(GCSTATS_COLLECTIONS, 0) X(GCSTATS_COLLECTED, 0)                       \
	X(GCSTATS_UNCOLLECTABLE, 0) X(SIZEOF_GCSTATS, 0)                        \
	X(GCHEAD_NEXT, 1) X(GCHEAD_PREV, 1) X(SIZEOF_GCHEAD, 1)                 \
	X(OB_REFCNT, 1) X(OB_TYPE, 1) X(SIZEOF_OBJECT, 1) X(VAR_SIZE, 1)        \
	X(TP_NAME, 1) X(TP_BASICSIZE, 1) X(TP_ITEMSIZE, 1) X(TP_FLAGS, 1)       \
	X(TP_DICT, 1) X(TP_BASE, 1) X(TP_DICTOFFSET, 0) X(TP_MRO, 0)            \
	X(TP_BASES, 0) X(TP_MEMBERS, 0) X(TP_WEAKLISTOFFSET, 0)                 \
	X(TP_FINALIZE, 0) X(TP_DEL, 0)                 \
	X(HT_NAME, 1) X(HT_QUALNAME, 1) X(HT_MODULE, 0) X(HT_CACHED_KEYS, 0)    \
	X(SIZEOF_HEAPTYPE, 0)                                                   \
	X(STR_LENGTH, 1) X(STR_STATE, 1) X(STR_STATE_KIND, 1)                   \
	X(STR_STATE_COMPACT, 1) X(STR_STATE_ASCII, 1) X(SIZEOF_ASCII, 1)        \
	X(SIZEOF_COMPACT_UNICODE, 1) X(STR_DATA_ANY, 0)                         \
	X(DICT_USED, 1) X(DICT_KEYS, 1) X(DICT_VALUES, 1)                       \
	X(DK_SIZE, 0) X(DK_LOG2_SIZE, 0) X(DK_LOG2_INDEX_BYTES, 0) X(DK_KIND, 0)\
	X(DK_NENTRIES, 1) X(DK_INDICES, 1)                                      \
	X(SIZEOF_DK_ENTRY, 1) X(DK_ENTRY_KEY, 1) X(DK_ENTRY_VALUE, 1)           \
	X(SIZEOF_DK_UENTRY, 0) X(DK_UENTRY_KEY, 0) X(DK_UENTRY_VALUE, 0)        \
	X(DV_VALUES, 0)                                                         \
	X(PREHEADER_FLAGS, 0) X(PREHEADER_SIZE, 0) X(MANAGED_DICT_SCHEME, 0)    \
	X(MANAGED_DICT_OFFSET, 0) X(MANAGED_VALUES_OFFSET, 0) X(LONG_MIN_DIGITS, 0) \
	X(TSTATE_FRAME, 0) X(TSTATE_CFRAME, 0) X(CFRAME_CURRENT_FRAME, 0)       \
	X(TSTATE_CURRENT_FRAME, 0)                                              \
	X(FRAME_BACK, 0) X(FRAME_CODE, 0) X(FRAME_LASTI, 0) X(FRAME_LINENO, 0)  \
	X(FRAME_TRACE, 0) X(FRAME_LOCALSPLUS, 0)                                \
	X(IFRAME_CODE, 0) X(IFRAME_PREVIOUS, 0) X(IFRAME_INSTR, 0)              \
	X(IFRAME_OWNER, 0) X(IFRAME_LOCALSPLUS, 0) X(IFRAME_IS_ENTRY, 0)                              \
	X(CODE_NAME, 0) X(CODE_QUALNAME, 0) X(CODE_FILENAME, 0)                 \
	X(CODE_FIRSTLINENO, 0) X(CODE_LNOTAB, 0) X(CODE_LINETABLE, 0)           \
	X(CODE_CODE_ADAPTIVE, 0) X(CODE_FIRSTTRACEABLE, 0) X(CODE_NLOCALS, 0)   \
	X(CODE_VARNAMES, 0) X(CODE_NLOCALSPLUS, 0) X(CODE_LOCALSPLUSNAMES, 0)   \
	X(CODE_LOCALSPLUSKINDS, 0)                                              \
	X(BYTES_SVAL, 0) X(TUPLE_ITEMS, 0) X(LIST_ITEMS, 0) X(FLOAT_VALUE, 0)   \
	X(LONG_TAG, 0) X(LONG_DIGITS, 0) X(SIZEOF_DIGIT, 0)                     \
	X(INTERP_CEVAL_GIL, 0) X(GIL_LAST_HOLDER, 0) X(GIL_LOCKED, 0)           \
	X(CELL_REF, 0)                                                          \
	/* references (py_refs*.c) */                                          \
	X(TP_TRAVERSE, 0) X(TP_CACHE, 0) X(TP_SUBCLASSES, 0) X(HT_SLOTS, 0)     \
	X(MEMBERDEF_TYPE, 0) X(MEMBERDEF_OFFSET, 0) X(SIZEOF_MEMBERDEF, 0)      \
	X(MEMBERDEF_NAME, 0) X(SET_USED, 0)                                     \
	X(DV_CAPACITY, 0) X(DV_VALID, 0) X(DK_REFCNT, 0) X(DK_USABLE, 0)        \
	X(DK_LOOKUP, 0) X(LIST_ALLOCATED, 0)                                    \
	X(SET_MASK, 0) X(SET_TABLE, 0) X(SET_SMALLTABLE, 0)                     \
	X(SIZEOF_SETENTRY, 0) X(SETENTRY_KEY, 0)                                \
	X(FUNC_CODE, 0) X(FUNC_GLOBALS, 0) X(FUNC_BUILTINS, 0)                  \
	X(FUNC_MODULE, 0) X(FUNC_DEFAULTS, 0) X(FUNC_KWDEFAULTS, 0)             \
	X(FUNC_DOC, 0) X(FUNC_NAME, 0) X(FUNC_DICT, 0) X(FUNC_CLOSURE, 0)       \
	X(FUNC_ANNOTATIONS, 0) X(FUNC_QUALNAME, 0) X(FUNC_TYPEPARAMS, 0)        \
	X(FUNC_ANNOTATE, 0)                                                     \
	X(MODULE_DICT, 0) X(METHOD_FUNC, 0) X(METHOD_SELF, 0)                   \
	X(CM_CALLABLE, 0) X(CM_DICT, 0) X(SM_CALLABLE, 0) X(SM_DICT, 0)         \
	X(PROP_GET, 0) X(PROP_SET, 0) X(PROP_DEL, 0) X(PROP_DOC, 0)             \
	X(PROP_NAME, 0) X(WR_OBJECT, 0) X(WR_CALLBACK, 0)                       \
	X(EXC_DICT, 0) X(EXC_ARGS, 0) X(EXC_NOTES, 0) X(EXC_TRACEBACK, 0)       \
	X(EXC_CONTEXT, 0) X(EXC_CAUSE, 0) X(TB_NEXT, 0) X(TB_FRAME, 0)          \
	X(OSERR_ERRNO, 0) X(OSERR_STRERROR, 0) X(OSERR_FILENAME, 0)             \
	X(OSERR_FILENAME2, 0) X(IMPERR_MSG, 0) X(IMPERR_NAME, 0)                \
	X(IMPERR_PATH, 0) X(IMPERR_NAME_FROM, 0) X(STOPITER_VALUE, 0)           \
	X(SYSEXIT_CODE, 0) X(SYNERR_MSG, 0) X(SYNERR_FILENAME, 0)               \
	X(SYNERR_LINENO, 0) X(SYNERR_OFFSET, 0) X(SYNERR_END_LINENO, 0)         \
	X(SYNERR_END_OFFSET, 0) X(SYNERR_TEXT, 0) X(SYNERR_PRINT_FILE, 0)       \
	X(ATTRERR_OBJ, 0) X(ATTRERR_NAME, 0) X(NAMEERR_NAME, 0)                 \
	X(UNIERR_ENCODING, 0) X(UNIERR_OBJECT, 0) X(UNIERR_REASON, 0)           \
	X(EXCGROUP_MSG, 0) X(EXCGROUP_EXCS, 0)                                  \
	X(CFUNC_ML, 0) X(CFUNC_SELF, 0) X(CFUNC_MODULE, 0) X(CMETH_CLASS, 0)    \
	X(METHODDEF_FLAGS, 0) X(BYTEARRAY_ALLOC, 0) X(BYTEARRAY_BYTES_OBJECT, 0)\
	X(DEQUE_LEFTBLOCK, 0) X(DEQUE_RIGHTBLOCK, 0) X(DEQUE_LEFTINDEX, 0)      \
	X(DEQUE_RIGHTINDEX, 0) X(DEQUE_BLOCK_DATA, 0) X(DEQUE_BLOCK_RIGHTLINK, 0)\
	X(DEQUE_BLOCKLEN, 0) X(DEFDICT_FACTORY, 0) X(ODICT_INST_DICT, 0)        \
	X(PARTIAL_FN, 0) X(PARTIAL_ARGS, 0) X(PARTIAL_KW, 0) X(PARTIAL_DICT, 0) \
	X(SIZEOF_DICT, 0) X(STR_UTF8, 0) X(STR_UTF8_LENGTH, 0) X(SIZEOF_UNICODE, 0) \
	X(SIZEOF_TYPEOBJECT, 0) X(SIZEOF_DEQUE_BLOCK, 0) X(ODICT_FAST_NODES_SIZE, 0) \
	X(SIZEOF_ODICT_NODE, 0) X(DV_EMBEDDED, 0)                               \
	X(FRAME_BUILTINS, 0) X(FRAME_GLOBALS, 0) X(FRAME_LOCALS, 0)             \
	X(FRAME_VALUESTACK, 0) X(FRAME_STACKTOP, 0) X(FRAME_STACKDEPTH, 0)      \
	X(FRAME_FRAME, 0) X(FRAME_EXTRA_LOCALS, 0) X(CODE_CELLVARS, 0)      \
	X(FRAME_EXC_TYPE, 0) X(FRAME_EXC_VALUE, 0) X(FRAME_EXC_TB, 0)          \
	X(CODE_FREEVARS, 0) X(IFRAME_FUNC, 0) X(IFRAME_LOCALS, 0)               \
	X(IFRAME_GLOBALS, 0) X(SIZEOF_INTERP, 0) X(SIZEOF_TSTATE, 0)           \
	X(STR_STATE_INTERNED, 0) X(CODE_CONSTS, 0) X(CODE_NAMES, 0) X(CODE_CODE, 0) \
	X(CODE_EXCEPTIONTABLE, 0) X(TSTATE_DATASTACK_TOP, 0) X(TSTATE_DATASTACK_LIMIT, 0) \
	X(IFRAME_FRAME_OBJ, 0) X(IFRAME_STACKTOP, 0) X(GEN_FRAME, 0)            \
	X(GEN_CODE, 0) X(GEN_NAME, 0) X(GEN_QUALNAME, 0) X(GEN_EXC_TYPE, 0)     \
	X(GEN_EXC_VALUE, 0) X(GEN_EXC_TB, 0) X(GEN_FRAME_STATE, 0) X(GEN_IFRAME, 0) \
	X(CODE_STACKSIZE, 0) X(DESCR_TYPE, 0) X(DESCR_NAME, 0) X(DESCR_QUALNAME, 0) \
	X(NAMESPACE_DICT, 0) X(MODULE_DEF, 0) X(MODULE_STATE, 0) X(MODDEF_SIZE, 0) \
	/* pymalloc statistics (py_obmalloc.c) */                             \
	X(POOL_COUNT, 0) X(POOL_SZIDX, 0) X(POOL_NEXTOFFSET, 0)                 \
	X(POOL_MAXNEXTOFFSET, 0) X(SIZEOF_POOL_HEADER, 0)                       \
	X(ARENAOBJ_ADDRESS, 0) X(ARENAOBJ_POOL_ADDRESS, 0)                      \
	X(ARENAOBJ_NFREEPOOLS, 0) X(ARENAOBJ_NTOTALPOOLS, 0)                    \
	X(SIZEOF_ARENA_OBJECT, 0) X(INTERP_OBMALLOC, 0) X(INTERP_OBMALLOC_SIZE, 0) \
	X(OBM_ARENAS, 0) X(OBM_MAXARENAS, 0) X(OBM_NTIMES_ALLOCATED, 0)         \
	X(OBM_HIGHWATER, 0) X(OBM_MAP_MID_COUNT, 0) X(OBM_MAP_BOT_COUNT, 0)     \
	/* 3.14+: split refcount word, tagged stack references */              \
	X(SIZEOF_OB_REFCNT, 0) X(STACKREF_REFCNT_TAG, 0) X(STACKREF_INT_TAG, 0)  \
	X(FRAME_STATE_CLEARED, 0) X(GEN_CLEARED_VISITS_CODE, 0) X(IFRAME_STACKPOINTER, 0) \
	X(IMMORTAL_BIT, 0)                                                      \
	/* 3.15: module state size on the module, GC stats behind a pointer */  \
	X(MODULE_STATE_SIZE, 0) X(GCSTATS_YOUNG, 0) X(GCSTATS_OLD, 0)            \
	X(GCSTATS_YOUNG_INDEX, 0) X(GCSTATS_YOUNG_LEN, 0) X(GCSTATS_OLD_INDEX, 0) \
	X(GCSTATS_OLD_LEN, 0) X(SIZEOF_GCSTATS_OLDBUF, 0) X(GCSTATS_YOUNG_ITEMS, 0) \
	X(GCSTATS_OLD_ITEMS, 0)                                                 \
	/* _PyRuntime.debug_offsets (3.13+): where it is and its header */      \
	X(RUNTIME_DEBUG_OFFSETS, 0) X(SIZEOF_DEBUG_OFFSETS, 0)                  \
	X(DBGOFF_COOKIE, 0) X(DBGOFF_VERSION, 0) X(DBGOFF_FREE_THREADED, 0)    \
	/* generator/coroutine frame states (enum _framestate: 3.10 f_state, \
	 * 3.11+ gi_frame_state), for "suspended, and where" (py_asyncio.c) */ \
	X(FRAME_STATE, 0) X(FRAME_STATE_CREATED, 0) X(FRAME_STATE_SUSPENDED, 0) \
	X(FRAME_STATE_SUSPENDED_YF, 0)                                          \
	/* the C _asyncio types (FutureObj, TaskObj, futureiterobject, enum   \
	 * fut_state). Found here only when _asyncio is built into the runtime \
	 * module; otherwise read from the _asyncio extension's own DWARF on   \
	 * first use (ch_py_asyncio_layout). */                               \
	X(FUT_LOOP, 0) X(FUT_CALLBACK0, 0) X(FUT_CALLBACKS, 0) X(FUT_EXCEPTION, 0) \
	X(FUT_EXCEPTION_TB, 0) X(FUT_RESULT, 0) X(FUT_STATE, 0) X(FUT_LOG_TB, 0) \
	X(FUT_AWAITED_BY, 0) X(TASK_FUT_WAITER, 0) X(TASK_CORO, 0) X(TASK_NAME, 0) \
	X(TASK_CONTEXT, 0) X(TASK_NODE, 0)                                        \
	/* 3.14+: members of _Py_AsyncioModuleDebugOffsets (section .AsyncioDebug) */ \
	X(AIODBG_TASK_NAME, 0) X(AIODBG_TASK_CORO, 0) X(AIODBG_TASK_NODE, 0)      \
	X(AIODBG_INTERP_TASKS_HEAD, 0) X(AIODBG_TSTATE_TASKS_HEAD, 0) X(FUTITER_FUTURE, 0) X(FUT_STATE_PENDING, 0) \
	X(FUT_STATE_CANCELLED, 0) X(FUT_STATE_FINISHED, 0)                       \
	/* 3.14+: pending native tasks on lists in the thread and interpreter */ \
	X(TSTATE_ASYNCIO_TASKS_HEAD, 0) X(INTERP_ASYNCIO_TASKS_HEAD, 0) X(LLIST_NEXT, 0) \
	/* show: traceback lines, bytearray contents, Context size */         \
	X(TB_LASTI, 0) X(TB_LINENO, 0) X(BYTEARRAY_START, 0) X(CONTEXT_VARS, 0)  \
	X(HAMT_COUNT, 0) X(MV_FLAGS, 0) X(MV_LEN, 0) X(MV_ITEMSIZE, 0) X(MV_NDIM, 0)  \
	X(MV_SHAPE, 0) X(MV_READONLY, 0)                                        \
	/* show: functools.lru_cache wrappers, re.Pattern, _io objects */      \
	X(LRU_CACHE, 0) X(LRU_FUNC, 0) X(LRU_MAXSIZE, 0) X(LRU_HITS, 0)         \
	X(LRU_MISSES, 0) X(PATTERN_PATTERN, 0) X(PATTERN_FLAGS, 0)              \
	X(PATTERN_ISBYTES, 0) X(FILEIO_FD, 0) X(FILEIO_CREATED, 0)              \
	X(FILEIO_READABLE, 0) X(FILEIO_WRITABLE, 0) X(FILEIO_APPENDING, 0)      \
	X(FILEIO_CLOSEFD, 0) X(FILEIO_TRUNCATE, 0) X(BUFFERED_RAW, 0) X(BUFFERED_OK, 0)               \
	X(BUFFERED_DETACHED, 0) X(TEXTIO_BUFFER, 0) X(TEXTIO_ENCODING, 0)       \
	X(TEXTIO_OK, 0) X(TEXTIO_DETACHED, 0)

/* The members of _Py_DebugOffsets (3.13+, internal/pycore_runtime.h) that
 * state a field coreheap uses: X(name, member path, field it states). The
 * runtime fills them with offsetof()/sizeof() of its own build, so they are
 * checked against the layout in use and win where they disagree. Their own
 * positions inside _Py_DebugOffsets are layout fields DBGOFF_<name>,
 * resolved from DWARF or taken from the built-in table like any other. */
#define CH_PY_DEBUG_OFFSET_IDS(X)                                                          \
	X(RUNTIME_SIZE, "runtime_state.size", SIZEOF_RUNTIME)                               \
	X(RUNTIME_INTERPRETERS_HEAD, "runtime_state.interpreters_head", RUNTIME_INTERP_HEAD) \
	X(INTERP_SIZE, "interpreter_state.size", SIZEOF_INTERP)                             \
	X(INTERP_ID, "interpreter_state.id", INTERP_ID)                                     \
	X(INTERP_NEXT, "interpreter_state.next", INTERP_NEXT)                               \
	X(INTERP_THREADS_HEAD, "interpreter_state.threads_head", INTERP_THREADS_HEAD)       \
	X(INTERP_GC, "interpreter_state.gc", INTERP_GC)                                     \
	X(INTERP_IMPORTS_MODULES, "interpreter_state.imports_modules", INTERP_MODULES)      \
	X(INTERP_SYSDICT, "interpreter_state.sysdict", INTERP_SYSDICT)                      \
	X(INTERP_BUILTINS, "interpreter_state.builtins", INTERP_BUILTINS)                   \
	X(INTERP_CEVAL_GIL, "interpreter_state.ceval_gil", INTERP_CEVAL_GIL)                \
	X(TSTATE_SIZE, "thread_state.size", SIZEOF_TSTATE)                                  \
	X(TSTATE_NEXT, "thread_state.next", TSTATE_NEXT)                                    \
	X(TSTATE_INTERP, "thread_state.interp", TSTATE_INTERP)                              \
	X(TSTATE_CURRENT_FRAME, "thread_state.current_frame", TSTATE_CURRENT_FRAME)         \
	X(TSTATE_THREAD_ID, "thread_state.thread_id", TSTATE_THREAD_ID)                     \
	X(TSTATE_NATIVE_THREAD_ID, "thread_state.native_thread_id", TSTATE_NATIVE_THREAD_ID) \
	X(IFRAME_PREVIOUS, "interpreter_frame.previous", IFRAME_PREVIOUS)                   \
	X(IFRAME_EXECUTABLE, "interpreter_frame.executable", IFRAME_CODE)                   \
	X(IFRAME_INSTR_PTR, "interpreter_frame.instr_ptr", IFRAME_INSTR)                    \
	X(IFRAME_LOCALSPLUS, "interpreter_frame.localsplus", IFRAME_LOCALSPLUS)             \
	X(IFRAME_OWNER, "interpreter_frame.owner", IFRAME_OWNER)                            \
	X(CODE_FILENAME, "code_object.filename", CODE_FILENAME)                             \
	X(CODE_NAME, "code_object.name", CODE_NAME)                                         \
	X(CODE_QUALNAME, "code_object.qualname", CODE_QUALNAME)                             \
	X(CODE_LINETABLE, "code_object.linetable", CODE_LINETABLE)                          \
	X(CODE_FIRSTLINENO, "code_object.firstlineno", CODE_FIRSTLINENO)                    \
	X(CODE_LOCALSPLUSNAMES, "code_object.localsplusnames", CODE_LOCALSPLUSNAMES)        \
	X(CODE_LOCALSPLUSKINDS, "code_object.localspluskinds", CODE_LOCALSPLUSKINDS)        \
	X(CODE_CO_CODE_ADAPTIVE, "code_object.co_code_adaptive", CODE_CODE_ADAPTIVE)        \
	X(OBJECT_SIZE, "pyobject.size", SIZEOF_OBJECT)                                      \
	X(OBJECT_OB_TYPE, "pyobject.ob_type", OB_TYPE)                                      \
	X(TYPE_SIZE, "type_object.size", SIZEOF_TYPEOBJECT)                                 \
	X(TYPE_TP_NAME, "type_object.tp_name", TP_NAME)                                     \
	X(TYPE_TP_FLAGS, "type_object.tp_flags", TP_FLAGS)                                  \
	X(TUPLE_OB_ITEM, "tuple_object.ob_item", TUPLE_ITEMS)                               \
	X(TUPLE_OB_SIZE, "tuple_object.ob_size", VAR_SIZE)                                  \
	X(LIST_OB_ITEM, "list_object.ob_item", LIST_ITEMS)                                  \
	X(LIST_OB_SIZE, "list_object.ob_size", VAR_SIZE)                                    \
	X(DICT_SIZE, "dict_object.size", SIZEOF_DICT)                                       \
	X(DICT_MA_KEYS, "dict_object.ma_keys", DICT_KEYS)                                   \
	X(DICT_MA_VALUES, "dict_object.ma_values", DICT_VALUES)                             \
	X(FLOAT_OB_FVAL, "float_object.ob_fval", FLOAT_VALUE)                               \
	X(LONG_LV_TAG, "long_object.lv_tag", LONG_TAG)                                      \
	X(LONG_OB_DIGIT, "long_object.ob_digit", LONG_DIGITS)                               \
	X(BYTES_OB_SIZE, "bytes_object.ob_size", VAR_SIZE)                                  \
	X(BYTES_OB_SVAL, "bytes_object.ob_sval", BYTES_SVAL)                                \
	X(UNICODE_SIZE, "unicode_object.size", SIZEOF_UNICODE)                              \
	X(UNICODE_STATE, "unicode_object.state", STR_STATE)                                 \
	X(UNICODE_LENGTH, "unicode_object.length", STR_LENGTH)                              \
	X(UNICODE_ASCIIOBJECT_SIZE, "unicode_object.asciiobject_size", SIZEOF_ASCII)        \
	X(GC_COLLECTING, "gc.collecting", GC_COLLECTING)

enum ch_py_field {
#define CH_PY_ENUM(name, req) CH_PY_##name,
	CH_PY_FIELD_IDS(CH_PY_ENUM)
#undef CH_PY_ENUM
#define CH_PY_DBGOFF_ENUM(name, path, target) CH_PY_DBGOFF_##name,
	CH_PY_DEBUG_OFFSET_IDS(CH_PY_DBGOFF_ENUM)
#undef CH_PY_DBGOFF_ENUM
	CH_PY_NFIELDS
};

/* Where one field's value came from (`info` reports them). */
enum ch_py_origin {
	CH_PY_FROM_NONE = 0,  /* absent */
	CH_PY_FROM_DWARF,     /* the interpreter's debug info */
	CH_PY_FROM_TABLE,     /* a built-in table (readers/cpython/layouts/) */
	CH_PY_FROM_RULE,      /* ch_py_layout_set_rules */
	CH_PY_FROM_RUNTIME,   /* _PyRuntime.debug_offsets, overriding the others */
};

struct ch_py_layout {
	int64_t v[CH_PY_NFIELDS];
	uint8_t origin[CH_PY_NFIELDS]; /* enum ch_py_origin */
	/* Where the values came from, for `info`: the DWARF file's path, or
	 * "built-in table 3.11.7" (static storage either way). */
	const char *source;
	bool builtin;             /* from a built-in table, not DWARF */
	const char *table;        /* that table's version ("3.11.7"), NULL for DWARF */
	bool table_exact;         /* the table was generated from this very micro version */
	const char *dwarf_problem; /* builtin: why DWARF was not used (owned by ch_python) */
	/* Checks against the dumped runtime (readers/py_layout_check.c). */
	const char *runtime_offsets; /* _Py_DebugOffsets: "absent" (before 3.13), "checked", "unusable" */
	int runtime_checked;         /* fields compared with it */
	int runtime_disagreed;       /* of which the layout had wrong (and took the runtime's value) */
	int self_checks;             /* self-checks passed */
};

/* Fill every field from DWARF. Fails (CH_ERR_UNSUPPORTED) naming the first
 * required field that could not be resolved. */
struct ch_error *ch_py_layout_from_dwarf(struct ch_py_layout *layout, struct ch_dwarf *dw, const char *source);

/* How an instance of a Py_TPFLAGS_MANAGED_DICT type keeps its attributes
 * (the MANAGED_DICT_SCHEME rule): */
enum ch_managed_dict_scheme {
	CH_MANAGED_NONE = 0,          /* 3.8-3.10: no managed dicts */
	CH_MANAGED_VALUES_AND_DICT,   /* 3.11: values pointer at MANAGED_VALUES_OFFSET, and a
					 dict pointer at MANAGED_DICT_OFFSET found through tp_dictoffset */
	CH_MANAGED_TAGGED,            /* 3.12: one word at MANAGED_DICT_OFFSET, odd = values - 1 */
	CH_MANAGED_DICT_OR_INLINE,    /* 3.13+: dict pointer at MANAGED_DICT_OFFSET, else inline
					 values at tp_basicsize (Py_TPFLAGS_INLINE_VALUES) */
};

/* The reference count from the 8-byte word at OB_REFCNT. From 3.14 only
 * the low 32 bits count (ob_overflow and ob_flags share the word); an
 * immortal object keeps bit 31 set either way. */
static inline int64_t ch_py_refcnt_value(const struct ch_py_layout *l, uint64_t word)
{
	return l->v[CH_PY_SIZEOF_OB_REFCNT] == 4 ? (int64_t)(word & 0xffffffffu) : (int64_t)word;
}

/* 3.12+ immortal objects (PEP 683): their refcount is not a count and
 * never reaches zero; the IMMORTAL_BIT rule is the bit of the refcount
 * (as ch_py_refcnt_value returns it) that marks them. */
static inline bool ch_py_refcnt_immortal(const struct ch_py_layout *l, int64_t refcnt)
{
	int64_t bit = l->v[CH_PY_IMMORTAL_BIT];
	return bit != CH_PY_ABSENT && bit && ((uint64_t)refcnt & (uint64_t)bit);
}

/* A _PyStackRef slot (3.14+ frames: f_executable, f_funcobj, localsplus):
 * the object it refers to, or 0 for NULL and for tagged small ints. Before
 * 3.14 (no STACKREF_* rule) the slot is a plain PyObject*. */
static inline uint64_t ch_py_stackref_object(const struct ch_py_layout *l, uint64_t bits)
{
	int64_t rc = l->v[CH_PY_STACKREF_REFCNT_TAG], it = l->v[CH_PY_STACKREF_INT_TAG];
	if (it != CH_PY_ABSENT && it && (bits & (uint64_t)it) == (uint64_t)it)
		return 0;
	return rc != CH_PY_ABSENT ? bits & ~(uint64_t)rc : bits;
}

/* Fill the fields that are rules rather than struct members (which
 * tp_flags bits reserve pre-header words, and how many bytes), keyed by
 * minor version. Called once the version is known. */
void ch_py_layout_set_rules(struct ch_py_layout *layout, int major, int minor);

/* The _asyncio fields (FUT_* .. FUT_STATE_FINISHED) describe an extension
 * module, not the runtime: ch_py_layout_from_dwarf leaves them absent (a
 * lookup that misses walks all of libpython's DWARF, too slow for every
 * command) and ch_py_layout_fill_asyncio fills those still absent from the
 * DWARF of the module that defines them (the runtime's when _asyncio is
 * built in, else the extension's). */
static inline bool ch_py_field_is_asyncio(enum ch_py_field f)
{
	return f >= CH_PY_FUT_LOOP && f <= CH_PY_FUT_STATE_FINISHED;
}
struct ch_error *ch_py_layout_fill_asyncio(struct ch_py_layout *layout, struct ch_dwarf *dw);

/* A fingerprint of what ch_py_layout_from_dwarf reads and fills: every
 * field's name and every DWARF row behind it (type, member path, kind),
 * folded into h. A layout saved by a coreheap whose fingerprint differs
 * (fields added, renamed, or looked up differently) is not reused
 * (py_layout_cache.h). */
uint64_t ch_py_layout_schema_hash(uint64_t h);

const char *ch_py_field_name(enum ch_py_field f);
/* The field called name (as ch_py_field_name spells it), or CH_PY_NFIELDS. */
enum ch_py_field ch_py_field_by_name(const char *name);
/* CH_ERR_UNSUPPORTED naming the first required field that is absent. */
struct ch_error *ch_py_layout_check_required(const struct ch_py_layout *layout);
static inline bool ch_py_has(const struct ch_py_layout *l, enum ch_py_field f)
{
	return l->v[f] != CH_PY_ABSENT;
}

#endif
