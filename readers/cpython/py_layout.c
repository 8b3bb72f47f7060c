#include "readers/cpython/py_layout.h"

#include <stddef.h>
#include <string.h>

#include "readers/base/fnv.h"
#include "readers/process/dwarf_types.h"

/* Where each field lives in the DWARF of each version. Rows for the same
 * field are alternatives, tried in order (newer layouts first). Type names
 * are typedef or struct tag names as the headers spell them. */
struct field_source {
	enum ch_py_field field;
	enum ch_py_field_kind kind;
	const char *type;
	const char *path;
};

static const struct field_source sources[] = {
	{CH_PY_RUNTIME_INTERP_HEAD, CH_PY_OFFSET, "_PyRuntimeState", "interpreters.head"},
	{CH_PY_RUNTIME_INTERP_MAIN, CH_PY_OFFSET, "_PyRuntimeState", "interpreters.main"},
	{CH_PY_RUNTIME_GC, CH_PY_OFFSET, "_PyRuntimeState", "gc"}, /* 3.8 */
	{CH_PY_RUNTIME_GIL_CURRENT, CH_PY_OFFSET, "_PyRuntimeState", "gilstate.tstate_current"},
	{CH_PY_SIZEOF_RUNTIME, CH_PY_SIZEOF, "_PyRuntimeState", NULL},

	{CH_PY_INTERP_NEXT, CH_PY_OFFSET, "PyInterpreterState", "next"},
	{CH_PY_INTERP_ID, CH_PY_OFFSET, "PyInterpreterState", "id"},
	{CH_PY_INTERP_GC, CH_PY_OFFSET, "PyInterpreterState", "gc"}, /* 3.9+ */
	{CH_PY_INTERP_THREADS_HEAD, CH_PY_OFFSET, "PyInterpreterState", "threads.head"}, /* 3.11+ */
	{CH_PY_INTERP_THREADS_HEAD, CH_PY_OFFSET, "PyInterpreterState", "tstate_head"},
	{CH_PY_INTERP_MODULES, CH_PY_OFFSET, "PyInterpreterState", "imports.modules"}, /* 3.12+ */
	{CH_PY_INTERP_MODULES, CH_PY_OFFSET, "PyInterpreterState", "modules"},
	{CH_PY_INTERP_SYSDICT, CH_PY_OFFSET, "PyInterpreterState", "sysdict"},
	{CH_PY_INTERP_BUILTINS, CH_PY_OFFSET, "PyInterpreterState", "builtins"},
	/* 3.12+: the dict of interned mortal strings (key and value: two
	 * references each string's ob_refcnt does not count) */
	{CH_PY_INTERP_INTERNED, CH_PY_OFFSET, "PyInterpreterState", "cached_objects.interned_strings"},

	{CH_PY_TSTATE_NEXT, CH_PY_OFFSET, "PyThreadState", "next"},
	{CH_PY_TSTATE_INTERP, CH_PY_OFFSET, "PyThreadState", "interp"},
	{CH_PY_TSTATE_THREAD_ID, CH_PY_OFFSET, "PyThreadState", "thread_id"},
	{CH_PY_TSTATE_NATIVE_THREAD_ID, CH_PY_OFFSET, "PyThreadState", "native_thread_id"},

	{CH_PY_GC_ENABLED, CH_PY_OFFSET, "_gc_runtime_state", "enabled"},
	{CH_PY_GC_DEBUG, CH_PY_OFFSET, "_gc_runtime_state", "debug"},
	{CH_PY_GC_GENERATIONS, CH_PY_OFFSET, "_gc_runtime_state", "generations"},
	{CH_PY_GC_GENERATION0, CH_PY_OFFSET, "_gc_runtime_state", "generation0"},
	{CH_PY_GC_PERMANENT, CH_PY_OFFSET, "_gc_runtime_state", "permanent_generation"},
	{CH_PY_GC_STATS, CH_PY_OFFSET, "_gc_runtime_state", "generation_stats"},
	{CH_PY_GC_COLLECTING, CH_PY_OFFSET, "_gc_runtime_state", "collecting"},
	{CH_PY_GC_GARBAGE, CH_PY_OFFSET, "_gc_runtime_state", "garbage"},
	{CH_PY_GC_CALLBACKS, CH_PY_OFFSET, "_gc_runtime_state", "callbacks"},
	{CH_PY_GC_LONG_LIVED_TOTAL, CH_PY_OFFSET, "_gc_runtime_state", "long_lived_total"},
	{CH_PY_GC_LONG_LIVED_PENDING, CH_PY_OFFSET, "_gc_runtime_state", "long_lived_pending"},
	{CH_PY_GC_NUM_GENERATIONS, CH_PY_ARRAYLEN, "_gc_runtime_state", "generations"},
	{CH_PY_GCGEN_HEAD, CH_PY_OFFSET, "gc_generation", "head"},
	{CH_PY_GCGEN_THRESHOLD, CH_PY_OFFSET, "gc_generation", "threshold"},
	{CH_PY_GCGEN_COUNT, CH_PY_OFFSET, "gc_generation", "count"},
	{CH_PY_SIZEOF_GCGEN, CH_PY_SIZEOF, "gc_generation", NULL},
	{CH_PY_GCSTATS_COLLECTIONS, CH_PY_OFFSET, "gc_generation_stats", "collections"},
	{CH_PY_GCSTATS_COLLECTED, CH_PY_OFFSET, "gc_generation_stats", "collected"},
	{CH_PY_GCSTATS_UNCOLLECTABLE, CH_PY_OFFSET, "gc_generation_stats", "uncollectable"},
	{CH_PY_SIZEOF_GCSTATS, CH_PY_SIZEOF, "gc_generation_stats", NULL},
	{CH_PY_GCHEAD_NEXT, CH_PY_OFFSET, "PyGC_Head", "_gc_next"},
	{CH_PY_GCHEAD_PREV, CH_PY_OFFSET, "PyGC_Head", "_gc_prev"},
	/* 3.6/3.7: a union of {gc_next, gc_prev, gc_refs} with a (long) double
	 * for alignment; gc_refs holds the finalized bit (bit 0). */
	{CH_PY_GCHEAD_NEXT, CH_PY_OFFSET, "PyGC_Head", "gc.gc_next"},
	{CH_PY_GCHEAD_PREV, CH_PY_OFFSET, "PyGC_Head", "gc.gc_prev"},
	{CH_PY_GCHEAD_REFS, CH_PY_OFFSET, "PyGC_Head", "gc.gc_refs"},
	{CH_PY_SIZEOF_GCHEAD, CH_PY_SIZEOF, "PyGC_Head", NULL},

	{CH_PY_OB_REFCNT, CH_PY_OFFSET, "PyObject", "ob_refcnt"},
	{CH_PY_OB_TYPE, CH_PY_OFFSET, "PyObject", "ob_type"},
	{CH_PY_SIZEOF_OBJECT, CH_PY_SIZEOF, "PyObject", NULL},
	{CH_PY_VAR_SIZE, CH_PY_OFFSET, "PyVarObject", "ob_size"},

	{CH_PY_TP_NAME, CH_PY_OFFSET, "PyTypeObject", "tp_name"},
	{CH_PY_TP_BASICSIZE, CH_PY_OFFSET, "PyTypeObject", "tp_basicsize"},
	{CH_PY_TP_ITEMSIZE, CH_PY_OFFSET, "PyTypeObject", "tp_itemsize"},
	{CH_PY_TP_FLAGS, CH_PY_OFFSET, "PyTypeObject", "tp_flags"},
	{CH_PY_TP_DICT, CH_PY_OFFSET, "PyTypeObject", "tp_dict"},
	{CH_PY_TP_BASE, CH_PY_OFFSET, "PyTypeObject", "tp_base"},
	{CH_PY_TP_DICTOFFSET, CH_PY_OFFSET, "PyTypeObject", "tp_dictoffset"},
	{CH_PY_TP_MRO, CH_PY_OFFSET, "PyTypeObject", "tp_mro"},
	{CH_PY_TP_BASES, CH_PY_OFFSET, "PyTypeObject", "tp_bases"},
	{CH_PY_TP_MEMBERS, CH_PY_OFFSET, "PyTypeObject", "tp_members"},
	{CH_PY_TP_WEAKLISTOFFSET, CH_PY_OFFSET, "PyTypeObject", "tp_weaklistoffset"},
	{CH_PY_TP_FINALIZE, CH_PY_OFFSET, "PyTypeObject", "tp_finalize"},
	{CH_PY_TP_DEL, CH_PY_OFFSET, "PyTypeObject", "tp_del"},
	{CH_PY_HT_NAME, CH_PY_OFFSET, "PyHeapTypeObject", "ht_name"},
	{CH_PY_HT_QUALNAME, CH_PY_OFFSET, "PyHeapTypeObject", "ht_qualname"},
	{CH_PY_HT_MODULE, CH_PY_OFFSET, "PyHeapTypeObject", "ht_module"},
	{CH_PY_HT_CACHED_KEYS, CH_PY_OFFSET, "PyHeapTypeObject", "ht_cached_keys"},
	{CH_PY_SIZEOF_HEAPTYPE, CH_PY_SIZEOF, "PyHeapTypeObject", NULL},

	{CH_PY_STR_LENGTH, CH_PY_OFFSET, "PyASCIIObject", "length"},
	{CH_PY_STR_STATE, CH_PY_OFFSET, "PyASCIIObject", "state"},
	{CH_PY_STR_STATE_KIND, CH_PY_BITPOS, "PyASCIIObject", "state.kind"},
	{CH_PY_STR_STATE_COMPACT, CH_PY_BITPOS, "PyASCIIObject", "state.compact"},
	{CH_PY_STR_STATE_ASCII, CH_PY_BITPOS, "PyASCIIObject", "state.ascii"},
	{CH_PY_SIZEOF_ASCII, CH_PY_SIZEOF, "PyASCIIObject", NULL},
	{CH_PY_SIZEOF_COMPACT_UNICODE, CH_PY_SIZEOF, "PyCompactUnicodeObject", NULL},
	{CH_PY_STR_DATA_ANY, CH_PY_OFFSET, "PyUnicodeObject", "data.any"},

	{CH_PY_DICT_USED, CH_PY_OFFSET, "PyDictObject", "ma_used"},
	{CH_PY_DICT_KEYS, CH_PY_OFFSET, "PyDictObject", "ma_keys"},
	{CH_PY_DICT_VALUES, CH_PY_OFFSET, "PyDictObject", "ma_values"},
	{CH_PY_DK_SIZE, CH_PY_OFFSET, "PyDictKeysObject", "dk_size"},             /* ≤3.10 */
	{CH_PY_DK_LOG2_SIZE, CH_PY_OFFSET, "PyDictKeysObject", "dk_log2_size"},   /* 3.11+ */
	{CH_PY_DK_LOG2_INDEX_BYTES, CH_PY_OFFSET, "PyDictKeysObject", "dk_log2_index_bytes"},
	{CH_PY_DK_KIND, CH_PY_OFFSET, "PyDictKeysObject", "dk_kind"},
	{CH_PY_DK_NENTRIES, CH_PY_OFFSET, "PyDictKeysObject", "dk_nentries"},
	{CH_PY_DK_INDICES, CH_PY_OFFSET, "PyDictKeysObject", "dk_indices"},
	{CH_PY_SIZEOF_DK_ENTRY, CH_PY_SIZEOF, "PyDictKeyEntry", NULL},
	{CH_PY_DK_ENTRY_KEY, CH_PY_OFFSET, "PyDictKeyEntry", "me_key"},
	{CH_PY_DK_ENTRY_VALUE, CH_PY_OFFSET, "PyDictKeyEntry", "me_value"},
	{CH_PY_SIZEOF_DK_UENTRY, CH_PY_SIZEOF, "PyDictUnicodeEntry", NULL},
	{CH_PY_DK_UENTRY_KEY, CH_PY_OFFSET, "PyDictUnicodeEntry", "me_key"},
	{CH_PY_DK_UENTRY_VALUE, CH_PY_OFFSET, "PyDictUnicodeEntry", "me_value"},
	{CH_PY_DV_VALUES, CH_PY_OFFSET, "PyDictValues", "values"}, /* 3.11+; 3.8-3.10: a bare array */

	/* Frame chain of a thread (stacks). 3.8-3.10: tstate->frame, a chain of
	 * PyFrameObject by f_back. 3.11/3.12: tstate->cframe->current_frame,
	 * 3.13+: tstate->current_frame, a chain of _PyInterpreterFrame by
	 * previous. Which one exists decides how frames are walked. */
	{CH_PY_TSTATE_FRAME, CH_PY_OFFSET, "PyThreadState", "frame"},               /* ≤3.10 */
	{CH_PY_TSTATE_CFRAME, CH_PY_OFFSET, "PyThreadState", "cframe"},             /* 3.10-3.12 */
	{CH_PY_CFRAME_CURRENT_FRAME, CH_PY_OFFSET, "_PyCFrame", "current_frame"},   /* 3.11/3.12 */
	{CH_PY_TSTATE_CURRENT_FRAME, CH_PY_OFFSET, "PyThreadState", "current_frame"}, /* 3.13+ */
	{CH_PY_FRAME_BACK, CH_PY_OFFSET, "PyFrameObject", "f_back"},
	{CH_PY_FRAME_CODE, CH_PY_OFFSET, "PyFrameObject", "f_code"},                /* ≤3.10 */
	{CH_PY_FRAME_LASTI, CH_PY_OFFSET, "PyFrameObject", "f_lasti"},              /* ≤3.10 */
	{CH_PY_FRAME_LINENO, CH_PY_OFFSET, "PyFrameObject", "f_lineno"},
	{CH_PY_FRAME_TRACE, CH_PY_OFFSET, "PyFrameObject", "f_trace"},
	{CH_PY_FRAME_LOCALSPLUS, CH_PY_OFFSET, "PyFrameObject", "f_localsplus"},    /* ≤3.10 */
	{CH_PY_IFRAME_CODE, CH_PY_OFFSET, "_PyInterpreterFrame", "f_executable"},   /* 3.13+ */
	{CH_PY_IFRAME_CODE, CH_PY_OFFSET, "_PyInterpreterFrame", "f_code"},         /* 3.11/3.12 */
	{CH_PY_IFRAME_PREVIOUS, CH_PY_OFFSET, "_PyInterpreterFrame", "previous"},
	{CH_PY_IFRAME_INSTR, CH_PY_OFFSET, "_PyInterpreterFrame", "instr_ptr"},     /* 3.13+ */
	{CH_PY_IFRAME_INSTR, CH_PY_OFFSET, "_PyInterpreterFrame", "prev_instr"},    /* 3.11/3.12 */
	{CH_PY_IFRAME_OWNER, CH_PY_OFFSET, "_PyInterpreterFrame", "owner"},
	{CH_PY_IFRAME_IS_ENTRY, CH_PY_OFFSET, "_PyInterpreterFrame", "is_entry"}, /* 3.11 */
	{CH_PY_IFRAME_LOCALSPLUS, CH_PY_OFFSET, "_PyInterpreterFrame", "localsplus"},

	{CH_PY_CODE_NAME, CH_PY_OFFSET, "PyCodeObject", "co_name"},
	{CH_PY_CODE_QUALNAME, CH_PY_OFFSET, "PyCodeObject", "co_qualname"},         /* 3.11+ */
	{CH_PY_CODE_FILENAME, CH_PY_OFFSET, "PyCodeObject", "co_filename"},
	{CH_PY_CODE_FIRSTLINENO, CH_PY_OFFSET, "PyCodeObject", "co_firstlineno"},
	{CH_PY_CODE_LNOTAB, CH_PY_OFFSET, "PyCodeObject", "co_lnotab"},             /* 3.8/3.9 */
	{CH_PY_CODE_LINETABLE, CH_PY_OFFSET, "PyCodeObject", "co_linetable"},       /* 3.10+ */
	{CH_PY_CODE_CODE_ADAPTIVE, CH_PY_OFFSET, "PyCodeObject", "co_code_adaptive"}, /* 3.11+ */
	{CH_PY_CODE_FIRSTTRACEABLE, CH_PY_OFFSET, "PyCodeObject", "_co_firsttraceable"}, /* 3.11+ */
	{CH_PY_CODE_NLOCALS, CH_PY_OFFSET, "PyCodeObject", "co_nlocals"},
	{CH_PY_CODE_VARNAMES, CH_PY_OFFSET, "PyCodeObject", "co_varnames"},         /* ≤3.10 */
	{CH_PY_CODE_NLOCALSPLUS, CH_PY_OFFSET, "PyCodeObject", "co_nlocalsplus"},   /* 3.11+ */
	{CH_PY_CODE_LOCALSPLUSNAMES, CH_PY_OFFSET, "PyCodeObject", "co_localsplusnames"},
	{CH_PY_CODE_LOCALSPLUSKINDS, CH_PY_OFFSET, "PyCodeObject", "co_localspluskinds"},

	{CH_PY_BYTES_SVAL, CH_PY_OFFSET, "PyBytesObject", "ob_sval"},
	{CH_PY_TUPLE_ITEMS, CH_PY_OFFSET, "PyTupleObject", "ob_item"},
	{CH_PY_LIST_ITEMS, CH_PY_OFFSET, "PyListObject", "ob_item"},
	{CH_PY_FLOAT_VALUE, CH_PY_OFFSET, "PyFloatObject", "ob_fval"},
	{CH_PY_LONG_TAG, CH_PY_OFFSET, "PyLongObject", "long_value.lv_tag"},        /* 3.12+ */
	{CH_PY_LONG_DIGITS, CH_PY_OFFSET, "PyLongObject", "long_value.ob_digit"},   /* 3.12+ */
	{CH_PY_LONG_DIGITS, CH_PY_OFFSET, "PyLongObject", "ob_digit"},              /* ≤3.11: size in ob_size */
	{CH_PY_SIZEOF_DIGIT, CH_PY_SIZEOF, "digit", NULL},
	{CH_PY_CELL_REF, CH_PY_OFFSET, "PyCellObject", "ob_ref"},

	/* References an object holds (py_refs*.c): the members each type's
	 * tp_traverse visits, and the owned buffers counted by full_size. */
	{CH_PY_TP_TRAVERSE, CH_PY_OFFSET, "PyTypeObject", "tp_traverse"},
	{CH_PY_TP_CACHE, CH_PY_OFFSET, "PyTypeObject", "tp_cache"},
	{CH_PY_TP_SUBCLASSES, CH_PY_OFFSET, "PyTypeObject", "tp_subclasses"},
	{CH_PY_HT_SLOTS, CH_PY_OFFSET, "PyHeapTypeObject", "ht_slots"},
	{CH_PY_MEMBERDEF_TYPE, CH_PY_OFFSET, "PyMemberDef", "type"},
	{CH_PY_MEMBERDEF_OFFSET, CH_PY_OFFSET, "PyMemberDef", "offset"},
	{CH_PY_SIZEOF_MEMBERDEF, CH_PY_SIZEOF, "PyMemberDef", NULL},
	{CH_PY_MEMBERDEF_NAME, CH_PY_OFFSET, "PyMemberDef", "name"},  /* show: __slots__ names */
	{CH_PY_DV_CAPACITY, CH_PY_OFFSET, "PyDictValues", "capacity"},   /* 3.13+ */
	{CH_PY_DV_VALID, CH_PY_OFFSET, "PyDictValues", "valid"},         /* 3.13+ */
	{CH_PY_DV_EMBEDDED, CH_PY_OFFSET, "PyDictValues", "embedded"},   /* 3.13+ */
	{CH_PY_DK_REFCNT, CH_PY_OFFSET, "PyDictKeysObject", "dk_refcnt"},
	{CH_PY_DK_USABLE, CH_PY_OFFSET, "PyDictKeysObject", "dk_usable"},
	{CH_PY_DK_LOOKUP, CH_PY_OFFSET, "PyDictKeysObject", "dk_lookup"}, /* ≤3.10 */
	{CH_PY_LIST_ALLOCATED, CH_PY_OFFSET, "PyListObject", "allocated"},
	{CH_PY_SET_MASK, CH_PY_OFFSET, "PySetObject", "mask"},
	{CH_PY_SET_TABLE, CH_PY_OFFSET, "PySetObject", "table"},
	{CH_PY_SET_USED, CH_PY_OFFSET, "PySetObject", "used"},
	{CH_PY_SET_SMALLTABLE, CH_PY_OFFSET, "PySetObject", "smalltable"},
	{CH_PY_SIZEOF_SETENTRY, CH_PY_SIZEOF, "setentry", NULL},
	{CH_PY_SETENTRY_KEY, CH_PY_OFFSET, "setentry", "key"},
	{CH_PY_FUNC_CODE, CH_PY_OFFSET, "PyFunctionObject", "func_code"},
	{CH_PY_FUNC_GLOBALS, CH_PY_OFFSET, "PyFunctionObject", "func_globals"},
	{CH_PY_FUNC_BUILTINS, CH_PY_OFFSET, "PyFunctionObject", "func_builtins"}, /* 3.10+ */
	{CH_PY_FUNC_MODULE, CH_PY_OFFSET, "PyFunctionObject", "func_module"},
	{CH_PY_FUNC_DEFAULTS, CH_PY_OFFSET, "PyFunctionObject", "func_defaults"},
	{CH_PY_FUNC_KWDEFAULTS, CH_PY_OFFSET, "PyFunctionObject", "func_kwdefaults"},
	{CH_PY_FUNC_DOC, CH_PY_OFFSET, "PyFunctionObject", "func_doc"},
	{CH_PY_FUNC_NAME, CH_PY_OFFSET, "PyFunctionObject", "func_name"},
	{CH_PY_FUNC_DICT, CH_PY_OFFSET, "PyFunctionObject", "func_dict"},
	{CH_PY_FUNC_CLOSURE, CH_PY_OFFSET, "PyFunctionObject", "func_closure"},
	{CH_PY_FUNC_ANNOTATIONS, CH_PY_OFFSET, "PyFunctionObject", "func_annotations"},
	{CH_PY_FUNC_QUALNAME, CH_PY_OFFSET, "PyFunctionObject", "func_qualname"},
	{CH_PY_FUNC_TYPEPARAMS, CH_PY_OFFSET, "PyFunctionObject", "func_typeparams"}, /* 3.12+ */
	{CH_PY_FUNC_ANNOTATE, CH_PY_OFFSET, "PyFunctionObject", "func_annotate"},       /* 3.14+ */
	{CH_PY_MODULE_DICT, CH_PY_OFFSET, "PyModuleObject", "md_dict"},
	{CH_PY_METHOD_FUNC, CH_PY_OFFSET, "PyMethodObject", "im_func"},
	{CH_PY_METHOD_SELF, CH_PY_OFFSET, "PyMethodObject", "im_self"},
	{CH_PY_CM_CALLABLE, CH_PY_OFFSET, "classmethod", "cm_callable"},
	{CH_PY_CM_DICT, CH_PY_OFFSET, "classmethod", "cm_dict"},
	{CH_PY_SM_CALLABLE, CH_PY_OFFSET, "staticmethod", "sm_callable"},
	{CH_PY_SM_DICT, CH_PY_OFFSET, "staticmethod", "sm_dict"},
	{CH_PY_PROP_GET, CH_PY_OFFSET, "propertyobject", "prop_get"},
	{CH_PY_PROP_SET, CH_PY_OFFSET, "propertyobject", "prop_set"},
	{CH_PY_PROP_DEL, CH_PY_OFFSET, "propertyobject", "prop_del"},
	{CH_PY_PROP_DOC, CH_PY_OFFSET, "propertyobject", "prop_doc"},
	{CH_PY_PROP_NAME, CH_PY_OFFSET, "propertyobject", "prop_name"}, /* 3.10+ */
	{CH_PY_WR_OBJECT, CH_PY_OFFSET, "PyWeakReference", "wr_object"},
	{CH_PY_WR_CALLBACK, CH_PY_OFFSET, "PyWeakReference", "wr_callback"},
	{CH_PY_EXC_DICT, CH_PY_OFFSET, "PyBaseExceptionObject", "dict"},
	{CH_PY_EXC_ARGS, CH_PY_OFFSET, "PyBaseExceptionObject", "args"},
	{CH_PY_EXC_NOTES, CH_PY_OFFSET, "PyBaseExceptionObject", "notes"}, /* 3.11+ */
	{CH_PY_EXC_TRACEBACK, CH_PY_OFFSET, "PyBaseExceptionObject", "traceback"},
	{CH_PY_EXC_CONTEXT, CH_PY_OFFSET, "PyBaseExceptionObject", "context"},
	{CH_PY_EXC_CAUSE, CH_PY_OFFSET, "PyBaseExceptionObject", "cause"},
	/* Exceptions with their own tp_traverse (Objects/exceptions.c); AttributeError and
	 * NameError have one from 3.10, name_from is 3.12+, groups are 3.11+. */
	{CH_PY_OSERR_ERRNO, CH_PY_OFFSET, "PyOSErrorObject", "myerrno"},
	{CH_PY_OSERR_STRERROR, CH_PY_OFFSET, "PyOSErrorObject", "strerror"},
	{CH_PY_OSERR_FILENAME, CH_PY_OFFSET, "PyOSErrorObject", "filename"},
	{CH_PY_OSERR_FILENAME2, CH_PY_OFFSET, "PyOSErrorObject", "filename2"},
	{CH_PY_IMPERR_MSG, CH_PY_OFFSET, "PyImportErrorObject", "msg"},
	{CH_PY_IMPERR_NAME, CH_PY_OFFSET, "PyImportErrorObject", "name"},
	{CH_PY_IMPERR_PATH, CH_PY_OFFSET, "PyImportErrorObject", "path"},
	{CH_PY_IMPERR_NAME_FROM, CH_PY_OFFSET, "PyImportErrorObject", "name_from"},
	{CH_PY_STOPITER_VALUE, CH_PY_OFFSET, "PyStopIterationObject", "value"},
	{CH_PY_SYSEXIT_CODE, CH_PY_OFFSET, "PySystemExitObject", "code"},
	{CH_PY_SYNERR_MSG, CH_PY_OFFSET, "PySyntaxErrorObject", "msg"},
	{CH_PY_SYNERR_FILENAME, CH_PY_OFFSET, "PySyntaxErrorObject", "filename"},
	{CH_PY_SYNERR_LINENO, CH_PY_OFFSET, "PySyntaxErrorObject", "lineno"},
	{CH_PY_SYNERR_OFFSET, CH_PY_OFFSET, "PySyntaxErrorObject", "offset"},
	{CH_PY_SYNERR_END_LINENO, CH_PY_OFFSET, "PySyntaxErrorObject", "end_lineno"},
	{CH_PY_SYNERR_END_OFFSET, CH_PY_OFFSET, "PySyntaxErrorObject", "end_offset"},
	{CH_PY_SYNERR_TEXT, CH_PY_OFFSET, "PySyntaxErrorObject", "text"},
	{CH_PY_SYNERR_PRINT_FILE, CH_PY_OFFSET, "PySyntaxErrorObject", "print_file_and_line"},
	{CH_PY_ATTRERR_OBJ, CH_PY_OFFSET, "PyAttributeErrorObject", "obj"},
	{CH_PY_ATTRERR_NAME, CH_PY_OFFSET, "PyAttributeErrorObject", "name"},
	{CH_PY_NAMEERR_NAME, CH_PY_OFFSET, "PyNameErrorObject", "name"},
	{CH_PY_UNIERR_ENCODING, CH_PY_OFFSET, "PyUnicodeErrorObject", "encoding"},
	{CH_PY_UNIERR_OBJECT, CH_PY_OFFSET, "PyUnicodeErrorObject", "object"},
	{CH_PY_UNIERR_REASON, CH_PY_OFFSET, "PyUnicodeErrorObject", "reason"},
	{CH_PY_EXCGROUP_MSG, CH_PY_OFFSET, "PyBaseExceptionGroupObject", "msg"},
	{CH_PY_EXCGROUP_EXCS, CH_PY_OFFSET, "PyBaseExceptionGroupObject", "excs"},
	{CH_PY_TB_NEXT, CH_PY_OFFSET, "PyTracebackObject", "tb_next"},
	{CH_PY_TB_FRAME, CH_PY_OFFSET, "PyTracebackObject", "tb_frame"},
	{CH_PY_CFUNC_ML, CH_PY_OFFSET, "PyCFunctionObject", "m_ml"},
	{CH_PY_CFUNC_SELF, CH_PY_OFFSET, "PyCFunctionObject", "m_self"},
	{CH_PY_CFUNC_MODULE, CH_PY_OFFSET, "PyCFunctionObject", "m_module"},
	{CH_PY_CMETH_CLASS, CH_PY_OFFSET, "PyCMethodObject", "mm_class"}, /* 3.9+ */
	{CH_PY_METHODDEF_FLAGS, CH_PY_OFFSET, "PyMethodDef", "ml_flags"},
	{CH_PY_BYTEARRAY_ALLOC, CH_PY_OFFSET, "PyByteArrayObject", "ob_alloc"},
	/* 3.15+: the buffer is a bytes object (present = size rule changes) */
	{CH_PY_BYTEARRAY_BYTES_OBJECT, CH_PY_OFFSET, "PyByteArrayObject", "ob_bytes_object"},
	/* _collections / _functools: present only when their DWARF is in the
	 * same file as libpython's (built in); absent -> treated as unknown. */
	{CH_PY_DEQUE_LEFTBLOCK, CH_PY_OFFSET, "dequeobject", "leftblock"},
	{CH_PY_DEQUE_RIGHTBLOCK, CH_PY_OFFSET, "dequeobject", "rightblock"},
	{CH_PY_DEQUE_LEFTINDEX, CH_PY_OFFSET, "dequeobject", "leftindex"},
	{CH_PY_DEQUE_RIGHTINDEX, CH_PY_OFFSET, "dequeobject", "rightindex"},
	{CH_PY_DEQUE_BLOCK_DATA, CH_PY_OFFSET, "BLOCK", "data"},
	{CH_PY_DEQUE_BLOCK_RIGHTLINK, CH_PY_OFFSET, "BLOCK", "rightlink"},
	{CH_PY_DEQUE_BLOCKLEN, CH_PY_ARRAYLEN, "BLOCK", "data"},
	{CH_PY_DEFDICT_FACTORY, CH_PY_OFFSET, "defdictobject", "default_factory"},
	{CH_PY_ODICT_INST_DICT, CH_PY_OFFSET, "_odictobject", "od_inst_dict"},
	{CH_PY_PARTIAL_FN, CH_PY_OFFSET, "partialobject", "fn"},
	{CH_PY_PARTIAL_ARGS, CH_PY_OFFSET, "partialobject", "args"},
	{CH_PY_PARTIAL_KW, CH_PY_OFFSET, "partialobject", "kw"},
	{CH_PY_PARTIAL_DICT, CH_PY_OFFSET, "partialobject", "dict"},
	{CH_PY_SIZEOF_DICT, CH_PY_SIZEOF, "PyDictObject", NULL},
	{CH_PY_STR_UTF8, CH_PY_OFFSET, "PyCompactUnicodeObject", "utf8"},
	{CH_PY_STR_UTF8_LENGTH, CH_PY_OFFSET, "PyCompactUnicodeObject", "utf8_length"},
	{CH_PY_SIZEOF_UNICODE, CH_PY_SIZEOF, "PyUnicodeObject", NULL},
	{CH_PY_SIZEOF_TYPEOBJECT, CH_PY_SIZEOF, "PyTypeObject", NULL},
	{CH_PY_SIZEOF_DEQUE_BLOCK, CH_PY_SIZEOF, "BLOCK", NULL},
	{CH_PY_ODICT_FAST_NODES_SIZE, CH_PY_OFFSET, "_odictobject", "od_fast_nodes_size"},
	{CH_PY_SIZEOF_ODICT_NODE, CH_PY_SIZEOF, "_odictnode", NULL},
	/* frames and generators (frame_traverse, _PyFrame_Traverse, gen_traverse) */
	{CH_PY_FRAME_BUILTINS, CH_PY_OFFSET, "PyFrameObject", "f_builtins"},     /* ≤3.10 */
	{CH_PY_FRAME_GLOBALS, CH_PY_OFFSET, "PyFrameObject", "f_globals"},       /* ≤3.10 */
	{CH_PY_FRAME_LOCALS, CH_PY_OFFSET, "PyFrameObject", "f_locals"},         /* ≤3.10 */
	{CH_PY_FRAME_VALUESTACK, CH_PY_OFFSET, "PyFrameObject", "f_valuestack"}, /* ≤3.10 */
	{CH_PY_FRAME_STACKTOP, CH_PY_OFFSET, "PyFrameObject", "f_stacktop"},     /* 3.8/3.9 */
	{CH_PY_FRAME_STACKDEPTH, CH_PY_OFFSET, "PyFrameObject", "f_stackdepth"}, /* 3.10 */
	{CH_PY_FRAME_EXC_TYPE, CH_PY_OFFSET, "PyFrameObject", "f_exc_type"},     /* 3.6 */
	{CH_PY_FRAME_EXC_VALUE, CH_PY_OFFSET, "PyFrameObject", "f_exc_value"},   /* 3.6 */
	{CH_PY_FRAME_EXC_TB, CH_PY_OFFSET, "PyFrameObject", "f_exc_traceback"},  /* 3.6 */
	{CH_PY_FRAME_FRAME, CH_PY_OFFSET, "PyFrameObject", "f_frame"},           /* 3.11+ */
	{CH_PY_FRAME_EXTRA_LOCALS, CH_PY_OFFSET, "PyFrameObject", "f_extra_locals"}, /* 3.13+ */
	{CH_PY_CODE_CELLVARS, CH_PY_OFFSET, "PyCodeObject", "co_cellvars"},      /* ≤3.10 */
	{CH_PY_CODE_FREEVARS, CH_PY_OFFSET, "PyCodeObject", "co_freevars"},      /* ≤3.10 */
	{CH_PY_IFRAME_FUNC, CH_PY_OFFSET, "_PyInterpreterFrame", "f_funcobj"},   /* 3.12+ */
	{CH_PY_IFRAME_FUNC, CH_PY_OFFSET, "_PyInterpreterFrame", "f_func"},      /* 3.11 */
	{CH_PY_IFRAME_LOCALS, CH_PY_OFFSET, "_PyInterpreterFrame", "f_locals"},
	{CH_PY_IFRAME_GLOBALS, CH_PY_OFFSET, "_PyInterpreterFrame", "f_globals"},
	/* Roots (graph/roots.c) scan these structures for object pointers. */
	{CH_PY_SIZEOF_INTERP, CH_PY_SIZEOF, "PyInterpreterState", NULL},
	{CH_PY_SIZEOF_TSTATE, CH_PY_SIZEOF, "PyThreadState", NULL},
	{CH_PY_STR_STATE_INTERNED, CH_PY_BITPOS, "PyASCIIObject", "state.interned"},
	{CH_PY_CODE_CONSTS, CH_PY_OFFSET, "PyCodeObject", "co_consts"},
	{CH_PY_CODE_NAMES, CH_PY_OFFSET, "PyCodeObject", "co_names"},
	{CH_PY_CODE_CODE, CH_PY_OFFSET, "PyCodeObject", "co_code"},                  /* ≤3.10 */
	{CH_PY_CODE_EXCEPTIONTABLE, CH_PY_OFFSET, "PyCodeObject", "co_exceptiontable"}, /* 3.11+ */
	{CH_PY_TSTATE_DATASTACK_TOP, CH_PY_OFFSET, "PyThreadState", "datastack_top"},     /* 3.11+ */
	{CH_PY_TSTATE_DATASTACK_LIMIT, CH_PY_OFFSET, "PyThreadState", "datastack_limit"}, /* 3.11+ */
	{CH_PY_IFRAME_FRAME_OBJ, CH_PY_OFFSET, "_PyInterpreterFrame", "frame_obj"},
	{CH_PY_IFRAME_STACKTOP, CH_PY_OFFSET, "_PyInterpreterFrame", "stacktop"},         /* 3.11-3.13 */
	{CH_PY_IFRAME_STACKPOINTER, CH_PY_OFFSET, "_PyInterpreterFrame", "stackpointer"}, /* 3.14+ */
	{CH_PY_GEN_FRAME, CH_PY_OFFSET, "PyGenObject", "gi_frame"},              /* ≤3.10 */
	{CH_PY_GEN_CODE, CH_PY_OFFSET, "PyGenObject", "gi_code"},                /* ≤3.11 */
	{CH_PY_GEN_NAME, CH_PY_OFFSET, "PyGenObject", "gi_name"},
	{CH_PY_GEN_QUALNAME, CH_PY_OFFSET, "PyGenObject", "gi_qualname"},
	{CH_PY_GEN_EXC_TYPE, CH_PY_OFFSET, "PyGenObject", "gi_exc_state.exc_type"},  /* ≤3.10 */
	{CH_PY_GEN_EXC_VALUE, CH_PY_OFFSET, "PyGenObject", "gi_exc_state.exc_value"},
	{CH_PY_GEN_EXC_TB, CH_PY_OFFSET, "PyGenObject", "gi_exc_state.exc_traceback"}, /* ≤3.10 */
	{CH_PY_GEN_FRAME_STATE, CH_PY_OFFSET, "PyGenObject", "gi_frame_state"},  /* 3.11+ */
	{CH_PY_GEN_IFRAME, CH_PY_OFFSET, "PyGenObject", "gi_iframe"},            /* 3.11+ */
	{CH_PY_CODE_STACKSIZE, CH_PY_OFFSET, "PyCodeObject", "co_stacksize"},
	{CH_PY_DESCR_TYPE, CH_PY_OFFSET, "PyDescrObject", "d_type"},
	{CH_PY_DESCR_NAME, CH_PY_OFFSET, "PyDescrObject", "d_name"},
	{CH_PY_DESCR_QUALNAME, CH_PY_OFFSET, "PyDescrObject", "d_qualname"},
	{CH_PY_NAMESPACE_DICT, CH_PY_OFFSET, "_PyNamespaceObject", "ns_dict"},
	{CH_PY_MODULE_DEF, CH_PY_OFFSET, "PyModuleObject", "md_def"},
	{CH_PY_MODULE_STATE, CH_PY_OFFSET, "PyModuleObject", "md_state"},
	{CH_PY_MODDEF_SIZE, CH_PY_OFFSET, "PyModuleDef", "m_size"},
	{CH_PY_MODULE_STATE_SIZE, CH_PY_OFFSET, "PyModuleObject", "md_state_size"}, /* 3.15+ */
	/* generator frame states: enumerators of enum _framestate (3.10+) */
	{CH_PY_FRAME_STATE, CH_PY_OFFSET, "PyFrameObject", "f_state"},              /* 3.10 */
	{CH_PY_FRAME_STATE_CREATED, CH_PY_ENUMERATOR, "FRAME_CREATED", NULL},
	{CH_PY_FRAME_STATE_SUSPENDED, CH_PY_ENUMERATOR, "FRAME_SUSPENDED", NULL},
	{CH_PY_FRAME_STATE_SUSPENDED_YF, CH_PY_ENUMERATOR, "FRAME_SUSPENDED_YIELD_FROM", NULL}, /* 3.13+ */
	/* _asyncio (Modules/_asynciomodule.c): a Task is a FutureObj_HEAD(task)
	 * plus task fields, so the fut_* members are read through FutureObj. */
	{CH_PY_FUT_LOOP, CH_PY_OFFSET, "FutureObj", "fut_loop"},
	{CH_PY_FUT_CALLBACK0, CH_PY_OFFSET, "FutureObj", "fut_callback0"},
	{CH_PY_FUT_CALLBACKS, CH_PY_OFFSET, "FutureObj", "fut_callbacks"},
	{CH_PY_FUT_EXCEPTION, CH_PY_OFFSET, "FutureObj", "fut_exception"},
	{CH_PY_FUT_EXCEPTION_TB, CH_PY_OFFSET, "FutureObj", "fut_exception_tb"},  /* 3.10+ */
	{CH_PY_FUT_RESULT, CH_PY_OFFSET, "FutureObj", "fut_result"},
	{CH_PY_FUT_STATE, CH_PY_OFFSET, "FutureObj", "fut_state"},
	{CH_PY_FUT_LOG_TB, CH_PY_BITPOS, "FutureObj", "fut_log_tb"},              /* int <=3.12, bit 3.13+ */
	{CH_PY_FUT_AWAITED_BY, CH_PY_OFFSET, "FutureObj", "fut_awaited_by"},      /* 3.14+ */
	{CH_PY_TASK_FUT_WAITER, CH_PY_OFFSET, "TaskObj", "task_fut_waiter"},
	{CH_PY_TASK_CORO, CH_PY_OFFSET, "TaskObj", "task_coro"},
	{CH_PY_TASK_NAME, CH_PY_OFFSET, "TaskObj", "task_name"},
	{CH_PY_TASK_CONTEXT, CH_PY_OFFSET, "TaskObj", "task_context"},
	{CH_PY_TASK_NODE, CH_PY_OFFSET, "TaskObj", "task_node"},                 /* 3.14+ */
	/* where, inside the offsets _asyncio exports for debuggers (3.14+),
	 * it states the fields above (py_asyncio.c cross-checks them) */
	{CH_PY_AIODBG_TASK_NAME, CH_PY_OFFSET, "_Py_AsyncioModuleDebugOffsets", "asyncio_task_object.task_name"},
	{CH_PY_AIODBG_TASK_CORO, CH_PY_OFFSET, "_Py_AsyncioModuleDebugOffsets", "asyncio_task_object.task_coro"},
	{CH_PY_AIODBG_TASK_NODE, CH_PY_OFFSET, "_Py_AsyncioModuleDebugOffsets", "asyncio_task_object.task_node"},
	{CH_PY_AIODBG_INTERP_TASKS_HEAD, CH_PY_OFFSET, "_Py_AsyncioModuleDebugOffsets",
	 "asyncio_interpreter_state.asyncio_tasks_head"},
	{CH_PY_AIODBG_TSTATE_TASKS_HEAD, CH_PY_OFFSET, "_Py_AsyncioModuleDebugOffsets",
	 "asyncio_thread_state.asyncio_tasks_head"},
	{CH_PY_FUTITER_FUTURE, CH_PY_OFFSET, "futureiterobject", "future"},
	{CH_PY_FUT_STATE_PENDING, CH_PY_ENUMERATOR, "STATE_PENDING", NULL},
	{CH_PY_FUT_STATE_CANCELLED, CH_PY_ENUMERATOR, "STATE_CANCELLED", NULL},
	{CH_PY_FUT_STATE_FINISHED, CH_PY_ENUMERATOR, "STATE_FINISHED", NULL},
	/* 3.14+: the circular lists of pending native tasks (llist_node) */
	{CH_PY_TSTATE_ASYNCIO_TASKS_HEAD, CH_PY_OFFSET, "_PyThreadStateImpl", "asyncio_tasks_head"},
	{CH_PY_INTERP_ASYNCIO_TASKS_HEAD, CH_PY_OFFSET, "PyInterpreterState", "asyncio_tasks_head"},
	{CH_PY_LLIST_NEXT, CH_PY_OFFSET, "llist_node", "next"},
	/* show (py_show_runtime.c) */
	{CH_PY_TB_LASTI, CH_PY_OFFSET, "PyTracebackObject", "tb_lasti"},   /* bytes (3.8-3.9: as is; 3.10+: units * 2) */
	{CH_PY_TB_LINENO, CH_PY_OFFSET, "PyTracebackObject", "tb_lineno"}, /* 3.11+: -1 until computed */
	{CH_PY_BYTEARRAY_START, CH_PY_OFFSET, "PyByteArrayObject", "ob_start"},
	{CH_PY_CONTEXT_VARS, CH_PY_OFFSET, "PyContext", "ctx_vars"},
	{CH_PY_HAMT_COUNT, CH_PY_OFFSET, "PyHamtObject", "h_count"},
	{CH_PY_MV_FLAGS, CH_PY_OFFSET, "PyMemoryViewObject", "flags"},
	{CH_PY_MV_LEN, CH_PY_OFFSET, "PyMemoryViewObject", "view.len"},
	{CH_PY_MV_ITEMSIZE, CH_PY_OFFSET, "PyMemoryViewObject", "view.itemsize"},
	{CH_PY_MV_NDIM, CH_PY_OFFSET, "PyMemoryViewObject", "view.ndim"},
	{CH_PY_MV_SHAPE, CH_PY_OFFSET, "PyMemoryViewObject", "view.shape"},
	{CH_PY_MV_READONLY, CH_PY_OFFSET, "PyMemoryViewObject", "view.readonly"},
	/* show: the C structs behind functools.lru_cache wrappers
	 * (Modules/_functoolsmodule.c), re.Pattern (Modules/_sre/sre.h) and
	 * the _io objects (Modules/_io/fileio.c, bufferedio.c, textio.c), all
	 * built into the runtime: their DWARF is libpython's. FileIO's mode
	 * flags are one-bit bitfields (bit positions). */
	{CH_PY_LRU_CACHE, CH_PY_OFFSET, "lru_cache_object", "cache"},
	{CH_PY_LRU_FUNC, CH_PY_OFFSET, "lru_cache_object", "func"},
	{CH_PY_LRU_MAXSIZE, CH_PY_OFFSET, "lru_cache_object", "maxsize"},
	{CH_PY_LRU_HITS, CH_PY_OFFSET, "lru_cache_object", "hits"},
	{CH_PY_LRU_MISSES, CH_PY_OFFSET, "lru_cache_object", "misses"},
	{CH_PY_PATTERN_PATTERN, CH_PY_OFFSET, "PatternObject", "pattern"},
	{CH_PY_PATTERN_FLAGS, CH_PY_OFFSET, "PatternObject", "flags"},
	{CH_PY_PATTERN_ISBYTES, CH_PY_OFFSET, "PatternObject", "isbytes"},
	{CH_PY_FILEIO_FD, CH_PY_OFFSET, "fileio", "fd"},
	{CH_PY_FILEIO_CREATED, CH_PY_BITPOS, "fileio", "created"},
	{CH_PY_FILEIO_READABLE, CH_PY_BITPOS, "fileio", "readable"},
	{CH_PY_FILEIO_WRITABLE, CH_PY_BITPOS, "fileio", "writable"},
	{CH_PY_FILEIO_APPENDING, CH_PY_BITPOS, "fileio", "appending"},
	{CH_PY_FILEIO_CLOSEFD, CH_PY_BITPOS, "fileio", "closefd"},
	{CH_PY_FILEIO_TRUNCATE, CH_PY_BITPOS, "fileio", "truncate"}, /* 3.15+: "wb+" told from "rb+" */
	{CH_PY_BUFFERED_RAW, CH_PY_OFFSET, "buffered", "raw"},
	{CH_PY_BUFFERED_OK, CH_PY_OFFSET, "buffered", "ok"},
	{CH_PY_BUFFERED_DETACHED, CH_PY_OFFSET, "buffered", "detached"},
	{CH_PY_TEXTIO_BUFFER, CH_PY_OFFSET, "textio", "buffer"},
	{CH_PY_TEXTIO_ENCODING, CH_PY_OFFSET, "textio", "encoding"},
	{CH_PY_TEXTIO_OK, CH_PY_OFFSET, "textio", "ok"},
	{CH_PY_TEXTIO_DETACHED, CH_PY_OFFSET, "textio", "detached"},
	/* 3.14+: uint32 ob_refcnt + uint16 ob_overflow + uint16 ob_flags */
	/* pymalloc: pool and arena headers (all versions); the allocator state
	 * in the interpreter from 3.12 (embedded in 3.12, a pointer from 3.13:
	 * INTERP_OBMALLOC_SIZE tells them apart); 3.8-3.11 keep it in statics
	 * of obmalloc.c, found by symbol (py_obmalloc.c). */
	{CH_PY_POOL_COUNT, CH_PY_OFFSET, "pool_header", "ref.count"},
	{CH_PY_POOL_SZIDX, CH_PY_OFFSET, "pool_header", "szidx"},
	{CH_PY_POOL_NEXTOFFSET, CH_PY_OFFSET, "pool_header", "nextoffset"},
	{CH_PY_POOL_MAXNEXTOFFSET, CH_PY_OFFSET, "pool_header", "maxnextoffset"},
	{CH_PY_SIZEOF_POOL_HEADER, CH_PY_SIZEOF, "pool_header", NULL},
	{CH_PY_ARENAOBJ_ADDRESS, CH_PY_OFFSET, "arena_object", "address"},
	{CH_PY_ARENAOBJ_POOL_ADDRESS, CH_PY_OFFSET, "arena_object", "pool_address"},
	{CH_PY_ARENAOBJ_NFREEPOOLS, CH_PY_OFFSET, "arena_object", "nfreepools"},
	{CH_PY_ARENAOBJ_NTOTALPOOLS, CH_PY_OFFSET, "arena_object", "ntotalpools"},
	{CH_PY_SIZEOF_ARENA_OBJECT, CH_PY_SIZEOF, "arena_object", NULL},
	{CH_PY_INTERP_OBMALLOC, CH_PY_OFFSET, "PyInterpreterState", "obmalloc"},
	{CH_PY_INTERP_OBMALLOC_SIZE, CH_PY_MEMBERSIZE, "PyInterpreterState", "obmalloc"},
	{CH_PY_OBM_ARENAS, CH_PY_OFFSET, "_obmalloc_state", "mgmt.arenas"},
	{CH_PY_OBM_MAXARENAS, CH_PY_OFFSET, "_obmalloc_state", "mgmt.maxarenas"},
	{CH_PY_OBM_NTIMES_ALLOCATED, CH_PY_OFFSET, "_obmalloc_state", "mgmt.ntimes_arena_allocated"},
	{CH_PY_OBM_HIGHWATER, CH_PY_OFFSET, "_obmalloc_state", "mgmt.narenas_highwater"},
	{CH_PY_OBM_MAP_MID_COUNT, CH_PY_OFFSET, "_obmalloc_state", "usage.arena_map_mid_count"},
	{CH_PY_OBM_MAP_BOT_COUNT, CH_PY_OFFSET, "_obmalloc_state", "usage.arena_map_bot_count"},
	{CH_PY_SIZEOF_OB_REFCNT, CH_PY_MEMBERSIZE, "PyObject", "ob_refcnt"},
	/* 3.15: generation_stats points at struct gc_stats, ring buffers of
	 * per-collection stats: young (generation 0) and old[2] (1, 2). */
	{CH_PY_GCSTATS_YOUNG, CH_PY_OFFSET, "gc_stats", "young"},
	{CH_PY_GCSTATS_OLD, CH_PY_OFFSET, "gc_stats", "old"},
	{CH_PY_GCSTATS_YOUNG_ITEMS, CH_PY_OFFSET, "gc_young_stats_buffer", "items"},
	{CH_PY_GCSTATS_OLD_ITEMS, CH_PY_OFFSET, "gc_old_stats_buffer", "items"},
	{CH_PY_GCSTATS_YOUNG_INDEX, CH_PY_OFFSET, "gc_young_stats_buffer", "index"},
	{CH_PY_GCSTATS_YOUNG_LEN, CH_PY_ARRAYLEN, "gc_young_stats_buffer", "items"},
	{CH_PY_GCSTATS_OLD_INDEX, CH_PY_OFFSET, "gc_old_stats_buffer", "index"},
	{CH_PY_GCSTATS_OLD_LEN, CH_PY_ARRAYLEN, "gc_old_stats_buffer", "items"},
	{CH_PY_SIZEOF_GCSTATS_OLDBUF, CH_PY_SIZEOF, "gc_old_stats_buffer", NULL},

	/* GIL holder, 3.12+ (per-interpreter GIL); ≤3.11 use RUNTIME_GIL_CURRENT. */
	{CH_PY_INTERP_CEVAL_GIL, CH_PY_OFFSET, "PyInterpreterState", "ceval.gil"},
	{CH_PY_GIL_LAST_HOLDER, CH_PY_OFFSET, "_gil_runtime_state", "last_holder"},
	{CH_PY_GIL_LOCKED, CH_PY_OFFSET, "_gil_runtime_state", "locked"},

	/* _PyRuntime.debug_offsets (3.13+) and the members coreheap checks. */
	{CH_PY_RUNTIME_DEBUG_OFFSETS, CH_PY_OFFSET, "_PyRuntimeState", "debug_offsets"},
	{CH_PY_SIZEOF_DEBUG_OFFSETS, CH_PY_SIZEOF, "_Py_DebugOffsets", NULL},
	{CH_PY_DBGOFF_COOKIE, CH_PY_OFFSET, "_Py_DebugOffsets", "cookie"},
	{CH_PY_DBGOFF_VERSION, CH_PY_OFFSET, "_Py_DebugOffsets", "version"},
	{CH_PY_DBGOFF_FREE_THREADED, CH_PY_OFFSET, "_Py_DebugOffsets", "free_threaded"},
#define CH_PY_DBGOFF_ROW(name, path, target) {CH_PY_DBGOFF_##name, CH_PY_OFFSET, "_Py_DebugOffsets", path},
	CH_PY_DEBUG_OFFSET_IDS(CH_PY_DBGOFF_ROW)
#undef CH_PY_DBGOFF_ROW
};

/* Rules that are not struct members, by minor version:
 * - pre-header words before the GC head (_PyType_PreHeaderSize): 3.11 for
 *   Py_TPFLAGS_MANAGED_DICT (1<<4) [3.11 internal/pycore_object.h], 3.12+ for
 *   MANAGED_DICT | MANAGED_WEAKREF (1<<3) [3.12 internal/pycore_object.h];
 * - where managed dicts and values live, relative to the object:
 *   3.11 _PyObject_ManagedDictPointer = obj-24, _PyObject_ValuesPointer =
 *   obj-32 [3.11 internal/pycore_object.h]; 3.12 _PyObject_DictOrValuesPointer
 *   = obj-24, values tagged [3.12 internal/pycore_object.h]; 3.13
 *   _PyObject_ManagedDictPointer = obj-24 and inline values
 *   [3.13 internal/pycore_object.h];
 * - the fewest digits int.__sizeof__ counts: 1 from 3.11 (zero has none
 *   but is sized as one) [3.11 Objects/longobject.c int___sizeof___impl]. */
struct version_rules {
	int minor_first, minor_last;
	int64_t preheader_flags, preheader_size;
	int64_t managed_scheme, managed_dict_offset, managed_values_offset;
	int64_t long_min_digits;
	/* 3.14+ _PyStackRef (internal/pycore_stackref.h, default build):
	 * Py_TAG_REFCNT (1) marks a borrowed/deferred reference and alone is
	 * NULL; (bits & Py_INT_TAG (3)) == 3 is a tagged small int. */
	int64_t stackref_refcnt_tag, stackref_int_tag;
	/* FRAME_CLEARED of enum _framestate (internal/pycore_frame.h): 4 in
	 * 3.11-3.14, 5 in 3.15 (renumbered). */
	int64_t frame_state_cleared;
	/* gen_traverse visits gi_iframe.f_executable of a cleared generator
	 * (its reference may be deferred): 3.14+ [src 3.14 Objects/genobject.c]. */
	int64_t gen_cleared_visits_code;
	/* PEP 683 immortal objects (3.12+): bit 31 of the refcount is set
	 * (_Py_IMMORTAL_REFCNT is UINT32_MAX in 3.12, 3 << 30 from 3.13, and
	 * the low 32 bits are the count from 3.14) [internal/pycore_object.h]. */
	int64_t immortal_bit;
};

#define NO CH_PY_ABSENT
static const struct version_rules rules[] = {
	{8, 10, 0, 0, CH_MANAGED_NONE, NO, NO, 0, NO, NO, NO, 0, NO},
	{11, 11, 1 << 4, 16, CH_MANAGED_VALUES_AND_DICT, -24, -32, 1, NO, NO, 4, 0, NO},
	{12, 12, (1 << 4) | (1 << 3), 16, CH_MANAGED_TAGGED, -24, NO, 1, NO, NO, 4, 0, 1ll << 31},
	{13, 13, (1 << 4) | (1 << 3), 16, CH_MANAGED_DICT_OR_INLINE, -24, NO, 1, NO, NO, 4, 0, 1ll << 31},
	{14, 14, (1 << 4) | (1 << 3), 16, CH_MANAGED_DICT_OR_INLINE, -24, NO, 1, 1, 3, 4, 1, 1ll << 31},
	{15, 99, (1 << 4) | (1 << 3), 16, CH_MANAGED_DICT_OR_INLINE, -24, NO, 1, 1, 3, 5, 1, 1ll << 31},
};
#undef NO

void ch_py_layout_set_rules(struct ch_py_layout *layout, int major, int minor)
{
	static const enum ch_py_field ruled[] = {
		CH_PY_PREHEADER_FLAGS, CH_PY_PREHEADER_SIZE, CH_PY_MANAGED_DICT_SCHEME, CH_PY_MANAGED_DICT_OFFSET,
		CH_PY_MANAGED_VALUES_OFFSET, CH_PY_LONG_MIN_DIGITS, CH_PY_STACKREF_REFCNT_TAG, CH_PY_STACKREF_INT_TAG,
		CH_PY_FRAME_STATE_CLEARED, CH_PY_GEN_CLEARED_VISITS_CODE, CH_PY_IMMORTAL_BIT};
	const size_t nruled = sizeof(ruled) / sizeof(ruled[0]);
	for (size_t i = 0; i < nruled; i++)
		layout->v[ruled[i]] = CH_PY_ABSENT;
	layout->v[CH_PY_PREHEADER_FLAGS] = 0;
	layout->v[CH_PY_PREHEADER_SIZE] = 0;
	layout->v[CH_PY_MANAGED_DICT_SCHEME] = CH_MANAGED_NONE;
	layout->v[CH_PY_LONG_MIN_DIGITS] = 0;
	for (size_t i = 0; major == 3 && i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct version_rules *r = &rules[i];
		if (minor < r->minor_first || minor > r->minor_last)
			continue;
		const int64_t values[] = {r->preheader_flags,     r->preheader_size,      r->managed_scheme,
					  r->managed_dict_offset, r->managed_values_offset, r->long_min_digits,
					  r->stackref_refcnt_tag, r->stackref_int_tag,   r->frame_state_cleared,
					  r->gen_cleared_visits_code, r->immortal_bit};
		_Static_assert(sizeof(values) / sizeof(values[0]) == sizeof(ruled) / sizeof(ruled[0]), "one value per rule");
		for (size_t k = 0; k < nruled; k++)
			layout->v[ruled[k]] = values[k];
	}
	for (size_t i = 0; i < nruled; i++)
		layout->origin[ruled[i]] = layout->v[ruled[i]] == CH_PY_ABSENT ? CH_PY_FROM_NONE : CH_PY_FROM_RULE;
}

static const char *const field_names[] = {
#define CH_PY_NAME(name, req) #name,
	CH_PY_FIELD_IDS(CH_PY_NAME)
#undef CH_PY_NAME
#define CH_PY_DBGOFF_NAME(name, path, target) "DBGOFF_" #name,
	CH_PY_DEBUG_OFFSET_IDS(CH_PY_DBGOFF_NAME)
#undef CH_PY_DBGOFF_NAME
};

static const bool field_required[] = {
#define CH_PY_REQ(name, req) req,
	CH_PY_FIELD_IDS(CH_PY_REQ)
#undef CH_PY_REQ
#define CH_PY_DBGOFF_REQ(name, path, target) 0,
	CH_PY_DEBUG_OFFSET_IDS(CH_PY_DBGOFF_REQ)
#undef CH_PY_DBGOFF_REQ
};

_Static_assert(sizeof(field_names) / sizeof(field_names[0]) == CH_PY_NFIELDS, "one name per field");
_Static_assert(sizeof(field_required) / sizeof(field_required[0]) == CH_PY_NFIELDS, "one flag per field");

const char *ch_py_field_name(enum ch_py_field f)
{
	return (unsigned)f < CH_PY_NFIELDS ? field_names[f] : "?";
}

enum ch_py_field ch_py_field_by_name(const char *name)
{
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		if (strcmp(field_names[i], name) == 0)
			return (enum ch_py_field)i;
	return CH_PY_NFIELDS;
}

struct ch_error *ch_py_layout_check_required(const struct ch_py_layout *layout)
{
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		if (field_required[i] && layout->v[i] == CH_PY_ABSENT)
			return ch_error_new(CH_ERR_UNSUPPORTED,
					    "%s: %s lacks CPython layout field %s (not a CPython interpreter, or an unsupported version)",
					    layout->source, layout->builtin ? "the table" : "debug info", field_names[i]);
	return NULL;
}

static struct ch_error *resolve(struct ch_dwarf *dw, const struct field_source *s, int64_t *out)
{
	uint64_t v = 0, bits = 0;
	int64_t e = 0;
	struct ch_error *err;
	switch (s->kind) {
	case CH_PY_ENUMERATOR:
		err = ch_dwarf_enumerator(dw, s->type, &e);
		v = (uint64_t)e;
		break;
	case CH_PY_SIZEOF:
		err = ch_dwarf_type_size(dw, s->type, &v);
		break;
	case CH_PY_ARRAYLEN:
		err = ch_dwarf_array_length(dw, s->type, s->path, &v);
		break;
	case CH_PY_BITPOS:
		err = ch_dwarf_member(dw, s->type, s->path, &bits, NULL);
		v = bits;
		break;
	case CH_PY_MEMBERSIZE:
		err = ch_dwarf_member(dw, s->type, s->path, NULL, &bits);
		v = bits / 8;
		break;
	case CH_PY_OFFSET:
	default:
		err = ch_dwarf_member(dw, s->type, s->path, &bits, NULL);
		v = bits / 8;
		break;
	}
	if (!err)
		*out = (int64_t)v;
	return err;
}

struct ch_error *ch_py_layout_from_dwarf(struct ch_py_layout *layout, struct ch_dwarf *dw, const char *source)
{
	memset(layout, 0, sizeof(*layout));
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		layout->v[i] = CH_PY_ABSENT;
	layout->source = source;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const struct field_source *s = &sources[i];
		if (layout->v[s->field] != CH_PY_ABSENT || ch_py_field_is_asyncio(s->field))
			continue;
		struct ch_error *err = resolve(dw, s, &layout->v[s->field]);
		if (err && err->kind != CH_ERR_NOT_FOUND)
			return err;
		if (!err)
			layout->origin[s->field] = CH_PY_FROM_DWARF;
		ch_error_free(err);
	}
	return ch_py_layout_check_required(layout);
}

struct ch_error *ch_py_layout_fill_asyncio(struct ch_py_layout *layout, struct ch_dwarf *dw)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const struct field_source *s = &sources[i];
		if (!ch_py_field_is_asyncio(s->field) || layout->v[s->field] != CH_PY_ABSENT)
			continue;
		struct ch_error *err = resolve(dw, s, &layout->v[s->field]);
		if (err && err->kind != CH_ERR_NOT_FOUND)
			return err;
		if (!err)
			layout->origin[s->field] = CH_PY_FROM_DWARF;
		ch_error_free(err);
	}
	return NULL;
}

uint64_t ch_py_layout_schema_hash(uint64_t h)
{
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		h = ch_fnv_text(h, field_names[i]);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const struct field_source *s = &sources[i];
		const int32_t ids[2] = {(int32_t)s->field, (int32_t)s->kind};
		h = ch_fnv_bytes(h, ids, sizeof(ids));
		h = ch_fnv_text(ch_fnv_text(h, s->type), s->path);
	}
	return h;
}
