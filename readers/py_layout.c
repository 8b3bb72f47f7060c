#include "py_layout.h"

#include <stddef.h>

#include "dwarf_types.h"

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

	/* GIL holder, 3.12+ (per-interpreter GIL); ≤3.11 use RUNTIME_GIL_CURRENT. */
	{CH_PY_INTERP_CEVAL_GIL, CH_PY_OFFSET, "PyInterpreterState", "ceval.gil"},
	{CH_PY_GIL_LAST_HOLDER, CH_PY_OFFSET, "_gil_runtime_state", "last_holder"},
	{CH_PY_GIL_LOCKED, CH_PY_OFFSET, "_gil_runtime_state", "locked"},
};

/* Pre-header words before the GC head (_PyType_PreHeaderSize): 3.11 for
 * Py_TPFLAGS_MANAGED_DICT (1<<4) [3.11 internal/pycore_object.h],
 * 3.12+ for MANAGED_DICT | MANAGED_WEAKREF (1<<3) [3.12 internal/pycore_object.h]. */
struct version_rules {
	int minor_first, minor_last;
	int64_t preheader_flags, preheader_size;
};

static const struct version_rules rules[] = {
	{8, 10, 0, 0},
	{11, 11, 1 << 4, 16},
	{12, 99, (1 << 4) | (1 << 3), 16},
};

void ch_py_layout_set_rules(struct ch_py_layout *layout, int major, int minor)
{
	layout->v[CH_PY_PREHEADER_FLAGS] = 0;
	layout->v[CH_PY_PREHEADER_SIZE] = 0;
	for (size_t i = 0; major == 3 && i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (minor >= rules[i].minor_first && minor <= rules[i].minor_last) {
			layout->v[CH_PY_PREHEADER_FLAGS] = rules[i].preheader_flags;
			layout->v[CH_PY_PREHEADER_SIZE] = rules[i].preheader_size;
		}
	}
}

static const char *const field_names[] = {
#define CH_PY_NAME(name, req) #name,
	CH_PY_FIELD_IDS(CH_PY_NAME)
#undef CH_PY_NAME
};

static const bool field_required[] = {
#define CH_PY_REQ(name, req) req,
	CH_PY_FIELD_IDS(CH_PY_REQ)
#undef CH_PY_REQ
};

const char *ch_py_field_name(enum ch_py_field f)
{
	return (unsigned)f < CH_PY_NFIELDS ? field_names[f] : "?";
}

static struct ch_error *resolve(struct ch_dwarf *dw, const struct field_source *s, int64_t *out)
{
	uint64_t v = 0, bits = 0;
	struct ch_error *err;
	switch (s->kind) {
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
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		layout->v[i] = CH_PY_ABSENT;
	layout->source = source;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const struct field_source *s = &sources[i];
		if (layout->v[s->field] != CH_PY_ABSENT)
			continue;
		struct ch_error *err = resolve(dw, s, &layout->v[s->field]);
		if (err && err->kind != CH_ERR_NOT_FOUND)
			return err;
		ch_error_free(err);
	}
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		if (field_required[i] && layout->v[i] == CH_PY_ABSENT)
			return ch_error_new(CH_ERR_UNSUPPORTED,
					    "%s: debug info lacks CPython layout field %s (not a CPython interpreter, or an unsupported version)",
					    source, field_names[i]);
	return NULL;
}
