/* References of one object: classification of its type, the parts
 * subtype_traverse adds for class-statement types (__slots__, __dict__ or
 * managed values, the type), then the base type's own tp_traverse.
 *
 * The per-version facts, from CPython's Objects/typeobject.c:
 *   subtype_traverse: for each type on the tp_base chain whose tp_traverse is
 *   subtype_traverse, its __slots__ members of type T_OBJECT_EX; then
 *   3.11: the managed values (obj-32, CACHED_KEYS(tp)->dk_nentries of them)
 *         and, as tp_dictoffset differs from the base's, the dict at obj-24;
 *   3.12: the tagged dict-or-values word at obj-24 (values when bit 0 set),
 *         instead of (else-if) the tp_dictoffset dict;
 *   3.13: inline values at obj+tp_basicsize (values->capacity of them) when
 *         Py_TPFLAGS_INLINE_VALUES and values->valid, else the dict at obj-24,
 *         instead of the tp_dictoffset dict; from 3.13.13 (gh-130327) the
 *         dict at obj-24 whenever it is set, else the valid inline values;
 *   3.8-3.10: the dict at tp_dictoffset when it differs from the base's;
 *   and the heap type itself (ob_type), then the base's tp_traverse. */
#include "readers/cpython/py_refs.h"

#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/process/elf_file.h"

#define CH_TYPE_CHAIN_MAX 64      /* tp_base links followed per type */
#define CH_SLOTS_MAX 4096         /* __slots__ members read per type */
#define CH_T_OBJECT 6             /* structmember.h / descrobject.h, 3.8-3.13 */
#define CH_T_OBJECT_EX 16
#define CH_TPFLAGS_INLINE_VALUES (1UL << 2)  /* 3.13 */


/* Exported type objects and how their instances' references are read.
 * `deref`: the symbol is a PyObject * variable holding the type. */
static const struct {
	const char *symbol;
	uint8_t kind;
	bool deref;
} known_types[] = {
	{"PyTuple_Type", CH_RK_TUPLE, false},
	{"PyList_Type", CH_RK_LIST, false},
	{"PyDict_Type", CH_RK_DICT, false},
	{"PyFrozenDict_Type", CH_RK_DICT, false}, /* 3.15+ */
	{"PySet_Type", CH_RK_SET, false},
	{"PyFrozenSet_Type", CH_RK_SET, false},
	{"PyType_Type", CH_RK_TYPE, false},
	{"PyFunction_Type", CH_RK_FUNCTION, false},
	{"PyCell_Type", CH_RK_CELL, false},
	{"PyModule_Type", CH_RK_MODULE, false},
	{"PyMethod_Type", CH_RK_METHOD, false},
	{"PyClassMethod_Type", CH_RK_CLASSMETHOD, false},
	{"PyStaticMethod_Type", CH_RK_STATICMETHOD, false},
	{"PyProperty_Type", CH_RK_PROPERTY, false},
	{"_PyWeakref_RefType", CH_RK_WEAKREF, false},
	{"_PyWeakref_ProxyType", CH_RK_WEAKREF, false},
	{"_PyWeakref_CallableProxyType", CH_RK_WEAKREF, false},
	{"PyCFunction_Type", CH_RK_CFUNCTION, false},
	{"PyCMethod_Type", CH_RK_CFUNCTION, false},
	{"PyExc_BaseException", CH_RK_EXCEPTION, true},
	{"PyExc_OSError", CH_RK_EXC_OSERROR, true},
	{"PyExc_ImportError", CH_RK_EXC_IMPORT, true},
	{"PyExc_StopIteration", CH_RK_EXC_STOPITER, true},
	{"PyExc_SystemExit", CH_RK_EXC_SYSEXIT, true},
	{"PyExc_SyntaxError", CH_RK_EXC_SYNTAX, true},
	{"PyExc_AttributeError", CH_RK_EXC_ATTRIBUTE, true},
	{"PyExc_NameError", CH_RK_EXC_NAME, true},
	/* UnicodeError itself has the plain BaseException layout; its three
	 * subclasses carry the Unicode fields (UnicodeError_traverse). */
	{"PyExc_UnicodeEncodeError", CH_RK_EXC_UNICODE, true},
	{"PyExc_UnicodeDecodeError", CH_RK_EXC_UNICODE, true},
	{"PyExc_UnicodeTranslateError", CH_RK_EXC_UNICODE, true},
	{"PyExc_BaseExceptionGroup", CH_RK_EXC_GROUP, true},
	{"PyTraceBack_Type", CH_RK_TRACEBACK, false},
	{"PyFrame_Type", CH_RK_FRAME, false},
	{"PyGen_Type", CH_RK_GEN, false},
	{"PyCoro_Type", CH_RK_GEN, false},
	{"PyWrapperDescr_Type", CH_RK_DESCR, false},
	{"PyMethodDescr_Type", CH_RK_DESCR, false},
	{"PyMemberDescr_Type", CH_RK_DESCR, false},
	{"PyGetSetDescr_Type", CH_RK_DESCR, false},
	{"PyClassMethodDescr_Type", CH_RK_DESCR, false},
	{"_PyNamespace_Type", CH_RK_NAMESPACE, false},
	{"PyCode_Type", CH_RK_CODE, false},
	{"PyODict_Type", CH_RK_ODICT, false},
	{"PyBaseObject_Type", CH_RK_OBJECT, false},
	{"PyLong_Type", CH_RK_LONG, false},
	{"PyBool_Type", CH_RK_LONG, false},
	{"PyUnicode_Type", CH_RK_STR, false},
	{"PyBytes_Type", CH_RK_BYTES, false},
	{"PyByteArray_Type", CH_RK_BYTEARRAY, false},
	{"PyFloat_Type", CH_RK_LEAF, false},
	{"PyComplex_Type", CH_RK_LEAF, false},
	{"_PyNone_Type", CH_RK_LEAF, false},
};

_Static_assert(sizeof(known_types) / sizeof(known_types[0]) <= CH_REFS_MAX_KNOWN, "grow CH_REFS_MAX_KNOWN");

/* Static types found by tp_name: those of extension modules built into
 * libpython, and types whose symbol a stripped executable does not export
 * (_PyNamespace_Type from 3.13), when no debug file gives its .symtab. */
static const struct {
	const char *name;
	uint8_t kind;
} named_types[] = {
	{"collections.deque", CH_RK_DEQUE},
	{"collections.defaultdict", CH_RK_DEFAULTDICT},
	{"collections.OrderedDict", CH_RK_ODICT},
	{"functools.partial", CH_RK_PARTIAL},
	{"types.SimpleNamespace", CH_RK_NAMESPACE},
	{"numpy.ndarray", CH_RK_NDARRAY},
};

static struct ch_error *cache_init(struct ch_python *py, struct ch_py_refs_cache *c)
{
	struct ch_address_space *as = &py->proc->as;
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]) && c->nknown < CH_REFS_MAX_KNOWN; i++) {
		uint64_t a = ch_python_symbol(py, known_types[i].symbol);
		if (a && known_types[i].deref) {
			struct ch_error *err = ch_as_read_u64(as, a, &a);
			if (err) {
				ch_error_free(err);
				a = 0;
			}
		}
		if (!a)
			continue;
		uint64_t tr = 0;
		if (ch_py_has(&py->layout, CH_PY_TP_TRAVERSE))
			ch_error_free(ch_py_read_u64(py, a, CH_PY_TP_TRAVERSE, &tr));
		c->known[c->nknown].addr = a;
		c->known[c->nknown].traverse = tr;
		c->known[c->nknown].kind = known_types[i].kind;
		c->nknown++;
		if (known_types[i].kind == CH_RK_OBJECT)
			c->object_type = a;
		if (known_types[i].kind == CH_RK_STR)
			c->unicode_type = a;
	}
	c->subtype_traverse = ch_python_symbol(py, "subtype_traverse");
	c->lookdict = ch_python_symbol(py, "lookdict");
	uint64_t dummy = ch_python_symbol(py, "_PySet_Dummy");
	if (dummy) {
		struct ch_error *err = ch_as_read_u64(as, dummy, &c->set_dummy);
		if (err) {
			ch_error_free(err);
			c->set_dummy = 0;
		}
	}
	return NULL;
}

static void cache_free(struct ch_py_refs_cache *c)
{
	if (!c)
		return;
	ch_refs_emulated_free(c);
	free(c->info);
	free(c);
}

/* Without a symbol for subtype_traverse (a stripped executable and no
 * debug file; it is a static function, never exported): the tp_traverse
 * type_new gave the class statements of the import system's bootstrap,
 * which every interpreter runs (Lib/importlib/_bootstrap.py, 3.8-3.15).
 * Taken only when two of its classes are heap types with GC that agree
 * and the value is no known type's traverse; otherwise it stays unknown
 * and classify() falls back as before. */
static void learn_subtype_traverse(struct ch_python *py, struct ch_py_refs_cache *c)
{
	static const char *const classes[] = {"ModuleSpec", "BuiltinImporter"};
	uint64_t mod, found = 0;
	struct ch_error *err = ch_py_module(py, "_frozen_importlib", &mod);
	for (size_t i = 0; !err && i < sizeof(classes) / sizeof(classes[0]); i++) {
		uint64_t type, meta = 0, flags = 0, tr = 0;
		err = ch_py_getattr(py, mod, classes[i], &type);
		if (!err)
			err = ch_as_read_u64(&py->proc->as, type + (uint64_t)ch_py_off(py, CH_PY_OB_TYPE), &meta);
		if (!err)
			err = ch_py_read_u64(py, type, CH_PY_TP_FLAGS, &flags);
		if (!err)
			err = ch_py_read_u64(py, type, CH_PY_TP_TRAVERSE, &tr);
		if (err)
			break;
		const uint64_t need = CH_TPFLAGS_HEAPTYPE | CH_TPFLAGS_HAVE_GC;
		if (meta != ch_python_symbol(py, "PyType_Type") || (flags & need) != need || !tr || (found && tr != found))
			return;
		found = tr;
	}
	if (err) {
		ch_error_free(err);
		return;
	}
	for (size_t i = 0; i < c->nknown; i++)
		if (c->known[i].traverse == found)
			return;
	c->subtype_traverse = found;
}

struct ch_error *ch_refs_cache_get(struct ch_python *py, struct ch_py_refs_cache **out)
{
	if (!py->refs) {
		struct ch_py_refs_cache *c = calloc(1, sizeof(*c));
		if (!c)
			return &ch_error_nomem;
		struct ch_error *err = cache_init(py, c);
		if (err) {
			free(c);
			return err;
		}
		py->refs = c;
		py->refs_free = cache_free;
		/* after py->refs is set: reading the module re-enters here */
		if (!c->subtype_traverse && ch_py_has(&py->layout, CH_PY_TP_TRAVERSE))
			learn_subtype_traverse(py, c);
	}
	*out = py->refs;
	return NULL;
}


static uint8_t kind_of(struct ch_python *py, struct ch_py_refs_cache *c, uint64_t type, uint64_t traverse)
{
	for (size_t i = 0; i < c->nknown; i++)
		if (c->known[i].addr == type)
			return c->known[i].kind;
	uint32_t idx;
	struct ch_error *err = ch_py_type_intern(py, type, &idx);
	if (!err) {
		const char *name = ch_py_type_name(&py->types, idx);
		for (size_t i = 0; i < sizeof(named_types) / sizeof(named_types[0]); i++)
			if (strcmp(name, named_types[i].name) == 0)
				return named_types[i].kind;
	}
	ch_error_free(err);
	/* A C type that inherits a known tp_traverse (Exception, ValueError...
	 * share BaseException_traverse) reads like that type. */
	for (size_t i = 0; traverse && i < c->nknown; i++)
		if (c->known[i].traverse == traverse)
			return c->known[i].kind;
	return CH_RK_UNKNOWN;
}

static struct ch_error *classify(struct ch_python *py, struct ch_py_refs_cache *c, uint64_t type,
				 struct ch_refs_typeinfo *ti)
{
	uint64_t t = type;
	ti->subtype = false;
	ti->emulate = false;
	for (int n = 0; n < CH_TYPE_CHAIN_MAX && t; n++) {
		uint64_t tr = 0, flags, base;
		struct ch_error *err = ch_py_read_u64(py, t, CH_PY_TP_FLAGS, &flags);
		if (!err && ch_py_has(&py->layout, CH_PY_TP_TRAVERSE))
			err = ch_py_read_u64(py, t, CH_PY_TP_TRAVERSE, &tr);
		if (!err)
			err = ch_py_read_u64(py, t, CH_PY_TP_BASE, &base);
		if (err)
			return err;
		if (n == 0)
			ti->traverse = tr;
		bool sub = c->subtype_traverse ? tr == c->subtype_traverse : false;
		uint8_t kind = CH_RK_UNKNOWN;
		if (!sub) {
			kind = kind_of(py, c, t, tr);
			/* Without the symbol: a heap type we cannot place is taken
			 * for a class statement's type. A heap type without GC that
			 * adds nothing (tp_traverse inherited as NULL) is a layer too. */
			if (kind == CH_RK_UNKNOWN && (flags & CH_TPFLAGS_HEAPTYPE) && base &&
			    (!c->subtype_traverse || tr == 0)) {
				sub = true;
				ti->emulate = ti->emulate || tr != 0;
			}
		}
		if (!sub) {
			ti->kind = kind;
			ti->base = t;
			return NULL;
		}
		ti->subtype = true;
		t = base;
	}
	ti->kind = CH_RK_UNKNOWN;
	ti->base = t;
	return NULL;
}

struct ch_error *ch_refs_typeinfo_slow(struct ch_python *py, uint32_t type, const struct ch_refs_typeinfo **out)
{
	struct ch_py_refs_cache *c;
	struct ch_error *err = ch_refs_cache_get(py, &c);
	if (err)
		return err;
	if (type >= py->types.n)
		return ch_error_new(CH_ERR_INPUT, "type index %u out of range", type);
	if (type >= c->ninfo) {
		size_t n = py->types.n > c->ninfo * 2 ? py->types.n : c->ninfo * 2;
		if (n < 64)
			n = 64;
		struct ch_refs_typeinfo *p = realloc(c->info, n * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		memset(p + c->ninfo, 0, (n - c->ninfo) * sizeof(*p));
		c->info = p;
		c->ninfo = n;
	}
	struct ch_refs_typeinfo *ti = &c->info[type];
	if (!ti->ready) {
		struct ch_refs_typeinfo tmp = {0};
		/* classify may intern types (growing py->types, not c->info). */
		err = classify(py, c, py->types.v[type].addr, &tmp);
		if (err)
			return err;
		tmp.ready = true;
		c->info[type] = tmp;
		ti = &c->info[type];
	}
	*out = ti;
	return NULL;
}

static struct ch_error *visit_slots(struct ch_refs_ctx *c, uint64_t obj, uint64_t type, uint64_t base)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_MEMBERDEF_TYPE) || !ch_py_has(l, CH_PY_SIZEOF_MEMBERDEF))
		return NULL;
	struct ch_address_space *as = &py->proc->as;
	uint64_t t = type;
	for (int n = 0; n < CH_TYPE_CHAIN_MAX && t && t != base && !c->stopped; n++) {
		uint64_t nslots, meta, metasize;
		struct ch_error *err = ch_py_read_u64(py, t, CH_PY_VAR_SIZE, &nslots);
		if (!err && nslots) {
			err = ch_py_read_u64(py, t, CH_PY_OB_TYPE, &meta);
			if (!err)
				err = ch_py_read_u64(py, meta, CH_PY_TP_BASICSIZE, &metasize);
		}
		if (err)
			return err;
		if (nslots > CH_SLOTS_MAX)
			return ch_error_new(CH_ERR_INPUT, "type at 0x%llx claims %llu slots", (unsigned long long)t,
					    (unsigned long long)nslots);
		/* PyHeapType_GET_MEMBERS: the PyMemberDef array follows the
		 * heap type object, whose size is its metatype's basicsize. */
		uint64_t members = t + metasize;
		for (uint64_t i = 0; i < nslots && !c->stopped; i++) {
			uint64_t m = members + i * (uint64_t)l->v[CH_PY_SIZEOF_MEMBERDEF];
			uint32_t mtype;
			uint64_t moff, v;
			if ((err = ch_as_read_u32(as, m + (uint64_t)l->v[CH_PY_MEMBERDEF_TYPE], &mtype)) ||
			    (err = ch_as_read_u64(as, m + (uint64_t)l->v[CH_PY_MEMBERDEF_OFFSET], &moff)))
				return err;
			if ((mtype != CH_T_OBJECT_EX && mtype != CH_T_OBJECT) || moff > (1u << 24))
				continue;
			if ((err = ch_as_read_u64(as, obj + moff, &v)))
				return err;
			/* traverse_slots visits T_OBJECT_EX members only */
			ch_refs_emit(c, v, CH_REF_ATTR, mtype == CH_T_OBJECT_EX, moff, 0, "__slots__");
		}
		if ((err = ch_py_read_u64(py, t, CH_PY_TP_BASE, &t)))
			return err;
	}
	return NULL;
}

/* Address of the dict slot tp_dictoffset designates (_PyObject_GetDictPtr /
 * _PyObject_ComputedDictPointer): negative offsets count from the end of
 * the variable-size object. */
static struct ch_error *dict_slot(struct ch_python *py, uint64_t obj, uint64_t type, int64_t off, uint64_t *slot)
{
	if (off > 0) {
		*slot = obj + (uint64_t)off;
		return NULL;
	}
	uint64_t basic, item, size;
	int64_t ob_size = 0;
	struct ch_error *err = ch_py_read_u64(py, type, CH_PY_TP_BASICSIZE, &basic);
	if (!err)
		err = ch_py_read_u64(py, type, CH_PY_TP_ITEMSIZE, &item);
	if (!err && item)
		err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, (uint64_t *)&ob_size);
	if (err)
		return err;
	uint64_t n = ob_size < 0 ? (uint64_t)(-(ob_size + 1)) + 1 : (uint64_t)ob_size;
	if (n > (1u << 30))
		return ch_error_new(CH_ERR_INPUT, "object at 0x%llx has a corrupt size", (unsigned long long)obj);
	size = (basic + n * item + 7) & ~(uint64_t)7;
	*slot = obj + size + (uint64_t)off;
	return NULL;
}

static struct ch_error *visit_managed(struct ch_refs_ctx *c, uint64_t obj, uint64_t type, uint64_t flags,
				      bool *dict_done)
{
	struct ch_python *py = c->py;
	struct ch_address_space *as = &py->proc->as;
	const struct ch_py_layout *l = &py->layout;
	const int64_t scheme = l->v[CH_PY_MANAGED_DICT_SCHEME];
	const uint64_t dict_word = obj + (uint64_t)l->v[CH_PY_MANAGED_DICT_OFFSET];
	uint64_t keys = 0, w;
	struct ch_error *err;
	if (ch_py_has(l, CH_PY_HT_CACHED_KEYS) && (err = ch_py_read_u64(py, type, CH_PY_HT_CACHED_KEYS, &keys)))
		return err;
	/* Only 3.11 keeps the dict where tp_dictoffset says as well. */
	*dict_done = scheme != CH_MANAGED_VALUES_AND_DICT;
	if (scheme == CH_MANAGED_DICT_OR_INLINE) {
		if ((err = ch_as_read_u64(as, dict_word, &w)))
			return err;
		if (w && ch_refs_materialized_dict_traversed(py)) {
			ch_refs_emit(c, w, CH_REF_FIELD, true, 0, 0, "__dict__");
			return NULL;
		}
		if (flags & CH_TPFLAGS_INLINE_VALUES) {
			uint64_t basic;
			uint8_t hdr[2];
			if ((err = ch_py_read_u64(py, type, CH_PY_TP_BASICSIZE, &basic)))
				return err;
			uint64_t values = obj + basic;
			if ((err = ch_as_read(as, values + (uint64_t)l->v[CH_PY_DV_CAPACITY], &hdr[0], 1)) ||
			    (err = ch_as_read(as, values + (uint64_t)l->v[CH_PY_DV_VALID], &hdr[1], 1)))
				return err;
			if (hdr[1]) {
				/* A materialized dict over valid inline values
				 * (dict->ma_values == the values): the instance
				 * owns it but subtype_traverse visits the values,
				 * not the dict (before gh-130327). */
				ch_refs_emit(c, w, CH_REF_FIELD, false, 0, 0, "__dict__");
				return ch_refs_values(c, keys, values, hdr[0]);
			}
		}
		ch_refs_emit(c, w, CH_REF_FIELD, true, 0, 0, "__dict__");
		return NULL;
	}
	uint64_t nentries = 0;
	if (keys && (err = ch_py_read_u64(py, keys, CH_PY_DK_NENTRIES, &nentries)))
		return err;
	if (scheme == CH_MANAGED_TAGGED) {
		/* values are stored as (pointer - 1), so an odd word means values
		 * (_PyDictOrValues_GetValues adds 1) */
		if ((err = ch_as_read_u64(as, dict_word, &w)))
			return err;
		if (w & 1)
			return ch_refs_values(c, keys, w + 1, nentries);
		ch_refs_emit(c, w, CH_REF_FIELD, true, 0, 0, "__dict__");
		return NULL;
	}
	/* 3.11: the values pointer; the dict is the tp_dictoffset dict. */
	if ((err = ch_as_read_u64(as, obj + (uint64_t)l->v[CH_PY_MANAGED_VALUES_OFFSET], &w)))
		return err;
	if (w)
		return ch_refs_values(c, keys, w, nentries);
	return NULL;
}

struct ch_error *ch_refs_instance(struct ch_refs_ctx *c, uint64_t obj, uint64_t type, const struct ch_refs_typeinfo *ti)
{
	struct ch_python *py = c->py;
	struct ch_error *err = visit_slots(c, obj, type, ti->base);
	uint64_t flags;
	if (!err)
		err = ch_py_read_u64(py, type, CH_PY_TP_FLAGS, &flags);
	if (err)
		return err;
	bool dict_done = false;
	const bool managed = (flags & CH_TPFLAGS_MANAGED_DICT) &&
			     py->layout.v[CH_PY_MANAGED_DICT_SCHEME] != CH_MANAGED_NONE;
	if (managed && (err = visit_managed(c, obj, type, flags, &dict_done)))
		return err;
	if (!dict_done && ch_py_has(&py->layout, CH_PY_TP_DICTOFFSET)) {
		uint64_t off = 0, boff = 0;
		if ((err = ch_py_read_u64(py, type, CH_PY_TP_DICTOFFSET, &off)))
			return err;
		if (ti->base && (err = ch_py_read_u64(py, ti->base, CH_PY_TP_DICTOFFSET, &boff)))
			return err;
		if (off != boff && off) {
			uint64_t slot = 0, d;
			if (managed)
				slot = obj + (uint64_t)py->layout.v[CH_PY_MANAGED_DICT_OFFSET];
			else if ((err = dict_slot(py, obj, type, (int64_t)off, &slot)))
				return err;
			if ((err = ch_as_read_u64(&py->proc->as, slot, &d)))
				return err;
			ch_refs_emit(c, d, CH_REF_FIELD, true, 0, 0, "__dict__");
		}
	}
	if (flags & CH_TPFLAGS_HEAPTYPE)
		ch_refs_emit(c, type, CH_REF_FIELD, true, 0, 0, "ob_type");
	return NULL;
}

struct ch_error *ch_py_refs_visit(struct ch_python *py, uint64_t addr, uint32_t type, ch_ref_visit_fn fn, void *arg)
{
	return ch_py_refs_visit_ex(py, addr, type, fn, arg, NULL);
}

static struct ch_error *visit_body(struct ch_python *py, uint64_t addr, uint32_t type, ch_ref_visit_fn fn, void *arg,
				     struct ch_refs_outcome *out)
{
	if (out) {
		out->exact = true;
		out->reason = NULL;
	}
	const struct ch_refs_typeinfo *ti;
	struct ch_error *err = ch_refs_typeinfo(py, type, &ti);
	if (err)
		return err;
	struct ch_refs_typeinfo info = *ti; /* c->info may move as types are interned */
	const struct ch_py_type *ty = &py->types.v[type];
	struct ch_refs_ctx c = {py, fn, arg, false, (ty->flags & CH_TPFLAGS_HAVE_GC) != 0};
	uint64_t taddr = ty->addr;
	bool emulated = false;
	if ((info.kind == CH_RK_TYPE || (ty->flags & CH_TPFLAGS_TYPE_SUBCLASS)) && c.gc) {
		/* type_is_gc (tp_is_gc of type and of every metatype): only heap
		 * type objects are collected; a static type's traverse never runs. */
		uint64_t oflags;
		if ((err = ch_py_read_u64(py, addr, CH_PY_TP_FLAGS, &oflags)))
			return err;
		c.gc = (oflags & CH_TPFLAGS_HEAPTYPE) != 0;
	}
	if (c.gc && (info.kind == CH_RK_UNKNOWN || info.emulate ||
		     (info.kind == CH_RK_MODULE && ch_refs_module_has_state(py, addr)))) {
		/* Not modelled (or a module's C state, which only its m_traverse
		 * knows), but the collector sees it: run its own tp_traverse. */
		const char *why = NULL;
		if (ch_refs_emulated(&c, addr, type, &why)) {
			if (info.kind != CH_RK_NDARRAY)
				return NULL;
			emulated = true; /* a subclass's part; the array's own follows */
		} else if (out) {
			out->exact = false;
			out->reason = why;
		}
	}
	if (!emulated && info.subtype && (err = ch_refs_instance(&c, addr, taddr, &info)))
		return err;
	if (c.stopped)
		return NULL;
	if (info.kind == CH_RK_NDARRAY) {
		const char *why = NULL;
		bool read = ch_refs_ndarray(&c, addr, &why, &err);
		if (why && out) {
			out->exact = false;
			out->reason = why;
		}
		if (read || err)
			return err;
		info.kind = CH_RK_UNKNOWN; /* numpy's layout is not known: scan it */
	}
	if (info.kind == CH_RK_UNKNOWN) {
		uint64_t size;
		if (info.subtype) {
			uint64_t basic = 16;
			if (info.base && (err = ch_py_read_u64(py, info.base, CH_PY_TP_BASICSIZE, &basic)))
				return err;
			size = basic;
		} else {
			int64_t ob_size = 0;
			if (ty->itemsize && (err = ch_py_read_u64(py, addr, CH_PY_VAR_SIZE, (uint64_t *)&ob_size)))
				return err;
			size = ch_py_type_object_size(ty, ob_size) - ty->presize;
			/* A heap type's instances hold a reference to it (3.8+),
			 * which its tp_traverse visits from 3.9: a word of the
			 * header, so the scan below does not see it. */
			if (ty->flags & CH_TPFLAGS_HEAPTYPE) {
				struct ch_ref ref = {taddr, CH_REF_CONSERVATIVE, false, (uint64_t)ch_py_off(py, CH_PY_OB_TYPE), 0, NULL,
						      false};
				if (fn(arg, &ref))
					return NULL;
			}
		}
		return ch_refs_conservative(&c, addr + (uint64_t)ch_py_off(py, CH_PY_SIZEOF_OBJECT), addr + size, addr);
	}
	return ch_refs_object_kind(&c, addr, (enum ch_rk)info.kind);
}

bool ch_py_type_holds_pointers(struct ch_python *py, uint32_t type)
{
	const struct ch_refs_typeinfo *ti = NULL;
	struct ch_error *err = ch_refs_typeinfo(py, type, &ti);
	if (err) {
		ch_error_free(err);
		return true; /* unknown: assume it may */
	}
	switch (ti->kind) {
	case CH_RK_LEAF:
	case CH_RK_BYTES:
	case CH_RK_STR:
	case CH_RK_LONG:
		return false;
	default:
		return true;
	}
}

struct ch_error *ch_py_refs_visit_ex(struct ch_python *py, uint64_t addr, uint32_t type, ch_ref_visit_fn fn, void *arg,
				     struct ch_refs_outcome *out)
{
	if (!py->verify_traverse)
		return visit_body(py, addr, type, fn, arg, out);
	struct ch_py_refs_cache *cache;
	const struct ch_refs_typeinfo *ti;
	struct ch_error *err = ch_refs_typeinfo(py, type, &ti);
	if (!err)
		err = ch_refs_cache_get(py, &cache);
	if (err)
		return err;
	if (ti->kind == CH_RK_UNKNOWN || ti->emulate || !(py->types.v[type].flags & CH_TPFLAGS_HAVE_GC))
		return visit_body(py, addr, type, fn, arg, out);
	struct ch_refs_verify_wrap w = {fn, arg, cache};
	cache->nvtargets = 0;
	bool gc_object = true;
	err = visit_body(py, addr, type, ch_refs_verify_collect, &w, out);
	if (py->types.v[type].flags & CH_TPFLAGS_TYPE_SUBCLASS) {
		/* a static type is not a GC object: nothing to compare */
		uint64_t oflags = 0;
		struct ch_error *e = ch_py_read_u64(py, addr, CH_PY_TP_FLAGS, &oflags);
		gc_object = !e && (oflags & CH_TPFLAGS_HEAPTYPE);
		ch_error_free(e);
	}
	if (!err && gc_object)
		ch_refs_verify_compare(py, addr, type);
	return err;
}
