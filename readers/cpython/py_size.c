/* ch_py_object_full_size: what the object costs, as sys.getsizeof reports
 * it (the type's __sizeof__ plus GC head and pre-header), computed from the
 * dump. The rule per kind, following each __sizeof__ of 3.8-3.15:
 *   int:    offsetof(ob_digit) + n digits; n = |ob_size| (3.8-3.10; at
 *           least 1 in 3.11) or lv_tag >> 3, at least 1 (3.12+); not rounded
 *           (__sizeof__ is not);
 *   str:    compact ascii sizeof(PyASCIIObject) + length + 1; compact
 *           sizeof(PyCompactUnicodeObject) + (length + 1) * kind; legacy
 *           sizeof(PyUnicodeObject) + (length + 1) * kind; plus a separate
 *           UTF-8 buffer (utf8_length + 1) when one is cached;
 *   bytes, tuple and other variable-size objects: basicsize + n * itemsize
 *           (the allocator rounds to 8; __sizeof__ does not, nor do we);
 *   list:   basicsize + allocated * 8;
 *   set:    basicsize + (mask + 1) * sizeof(setentry) when the table is not
 *           the inline smalltable;
 *   dict:   basicsize + the keys table when the dict owns it (dk_refcnt == 1:
 *           a shared split-keys table belongs to the type; the empty-keys
 *           singleton is immortal) + the values array of a split table.
 *           Keys table size: 3.11+ sizeof(PyDictKeysObject) +
 *           (1 << dk_log2_index_bytes) + USABLE_FRACTION(size) * entry size;
 *           3.8-3.10 the same with index bytes from dk_size. Values array:
 *           (dk_nentries + dk_usable) * 8 (3.11+), USABLE_FRACTION(dk_size)
 *           * 8 (3.8-3.10);
 *   bytearray: basicsize + ob_alloc (3.8-3.14); 3.15+, where the buffer is
 *           a bytes object (ob_bytes_object), + offsetof(PyBytesObject,
 *           ob_sval) + ob_alloc + 1 when ob_alloc > 0;
 *   3.13+ instances with inline values (any kind above too: 3.14 gives
 *           them to subclasses of dict, list, ...): + the values block that
 *           follows the object, as _PyInlineValuesSize allocates it:
 *           capacity rounded up to 8 (insertion-order bytes) + (capacity + 1)
 *           pointers (header and slots). object.__sizeof__ (3.13, 3.14, 3.15)
 *           and dict/list.__sizeof__ omit it; we count it.
 *   frames 3.8-3.10: basicsize + ob_size * 8, which is what PyFrame_New
 *           allocates; frame.__sizeof__ reports 8 bytes less (it subtracts
 *           the f_localsplus[1] slot that tp_basicsize already holds);
 *   frames and generators 3.11+ (no ob_size): basicsize + (co_nlocalsplus
 *           + co_stacksize) * 8 of their code, as allocated and as
 *           frame/gen __sizeof__ count;
 * Then the GC head and pre-header words (ch_py_type.presize). Like getsizeof,
 * it does not follow references (a list's items are separate objects). */
#include "readers/cpython/py_refs.h"

#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"

#define USABLE_FRACTION(n) (((n) << 1) / 3)

/* Returned by the size rules for a length word no object can have (a
 * damaged or flipped ob_size, allocated, length or mask): the object is
 * then counted at its type's basic size and the result marked partial. */
#define IMPLAUSIBLE UINT64_MAX

/* _PyDict_KeysSize: header, index array, USABLE_FRACTION(size) entries. */
static uint64_t keys_size(struct ch_python *py, const struct ch_py_dict_view *v)
{
	return (uint64_t)ch_py_off(py, CH_PY_DK_INDICES) + v->index_bytes + USABLE_FRACTION(v->size) * v->entry_size;
}

static uint64_t dict_extra(struct ch_python *py, uint64_t obj)
{
	const struct ch_py_layout *l = &py->layout;
	struct ch_py_dict_view v;
	struct ch_error *err = ch_py_dict_view(py, obj, &v);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	uint64_t extra = 0, refcnt = 0;
	if (v.values_obj) {
		if (ch_py_has(l, CH_PY_DK_LOG2_SIZE)) {
			uint64_t usable = 0;
			err = ch_py_read_u64(py, v.keys, CH_PY_DK_USABLE, &usable);
			ch_error_free(err);
			if (!err && usable < (1u << 30))
				extra += (v.nentries + usable) * 8;
		} else {
			extra += USABLE_FRACTION(v.size) * 8;
		}
	}
	if (ch_py_has(l, CH_PY_DK_REFCNT) && !(err = ch_py_read_u64(py, v.keys, CH_PY_DK_REFCNT, &refcnt)) &&
	    refcnt == 1)
		extra += keys_size(py, &v);
	ch_error_free(err);
	return extra;
}

/* Type objects, as type.__sizeof__ counts them: a heap type is
 * sizeof(PyHeapTypeObject) plus its cached shared-keys table; coreheap adds
 * the PyMemberDef array of its __slots__ that follows it in memory (which
 * __sizeof__ omits) and the GC head. A static type is sizeof(PyTypeObject)
 * and has no GC head in memory (3.11/3.12 getsizeof adds one anyway). */
static uint64_t type_size(struct ch_python *py, uint64_t obj, const struct ch_py_type *meta)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t flags, n = 0, keys = 0;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_TP_FLAGS, &flags);
	if (err) {
		ch_error_free(err);
		return (uint64_t)meta->basicsize + meta->presize;
	}
	if (!(flags & CH_TPFLAGS_HEAPTYPE))
		return (uint64_t)(ch_py_has(l, CH_PY_SIZEOF_TYPEOBJECT) ? l->v[CH_PY_SIZEOF_TYPEOBJECT] : meta->basicsize);
	/* the metatype's basicsize: sizeof(PyHeapTypeObject), more for a
	 * metaclass with __slots__ (which __sizeof__ ignores) */
	uint64_t size = (uint64_t)meta->basicsize;
	if (!(err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &n)) && n < 4096)
		size += n * (uint64_t)meta->itemsize;
	ch_error_free(err);
	err = NULL;
	if (ch_py_has(l, CH_PY_HT_CACHED_KEYS) && !(err = ch_py_read_u64(py, obj, CH_PY_HT_CACHED_KEYS, &keys)) && keys) {
		struct ch_py_dict_view v;
		if (!(err = ch_py_dict_keys_view(py, keys, 0, &v)))
			size += keys_size(py, &v);
	}
	ch_error_free(err);
	return size + meta->presize;
}

/* collections.deque: blocks = (leftindex + len + BLOCKLEN - 1) / BLOCKLEN,
 * each sizeof(block) (deque.__sizeof__). */
static uint64_t deque_extra(struct ch_python *py, uint64_t obj)
{
	const struct ch_py_layout *l = &py->layout;
	int64_t li, n;
	if (!ch_py_has(l, CH_PY_SIZEOF_DEQUE_BLOCK) || !ch_py_has(l, CH_PY_DEQUE_LEFTINDEX))
		return 0;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_DEQUE_LEFTINDEX, (uint64_t *)&li);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, (uint64_t *)&n);
	if (err || li < 0 || n < 0 || n > (1LL << 40) || li > (1 << 20)) {
		ch_error_free(err);
		return 0;
	}
	uint64_t bl = (uint64_t)l->v[CH_PY_DEQUE_BLOCKLEN];
	return ((uint64_t)li + (uint64_t)n + bl - 1) / bl * (uint64_t)l->v[CH_PY_SIZEOF_DEQUE_BLOCK];
}

/* OrderedDict: the dict's size plus od_fast_nodes (one pointer per hash
 * slot) and one _ODictNode per item (odict.__sizeof__). */
static uint64_t odict_extra(struct ch_python *py, uint64_t obj)
{
	const struct ch_py_layout *l = &py->layout;
	int64_t fast, used;
	if (!ch_py_has(l, CH_PY_ODICT_FAST_NODES_SIZE) || !ch_py_has(l, CH_PY_SIZEOF_ODICT_NODE))
		return 0;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_ODICT_FAST_NODES_SIZE, (uint64_t *)&fast);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_DICT_USED, (uint64_t *)&used);
	if (err || fast < 0 || used < 0 || fast > (1LL << 36) || used > (1LL << 36)) {
		ch_error_free(err);
		return 0;
	}
	return (uint64_t)fast * 8 + (uint64_t)used * (uint64_t)l->v[CH_PY_SIZEOF_ODICT_NODE];
}

static uint64_t str_size(struct ch_python *py, uint64_t obj)
{
	const struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	uint64_t length;
	uint32_t state;
	struct ch_error *err = ch_as_read_u64(as, obj + (uint64_t)l->v[CH_PY_STR_LENGTH], &length);
	if (!err)
		err = ch_as_read_u32(as, obj + (uint64_t)l->v[CH_PY_STR_STATE], &state);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	if (length > (1ULL << 40))
		return IMPLAUSIBLE;
	int64_t base = l->v[CH_PY_STR_STATE] * 8;
	unsigned kind = (state >> (l->v[CH_PY_STR_STATE_KIND] - base)) & 7;
	bool compact = (state >> (l->v[CH_PY_STR_STATE_COMPACT] - base)) & 1;
	bool ascii = (state >> (l->v[CH_PY_STR_STATE_ASCII] - base)) & 1;
	uint64_t size;
	if (compact && ascii)
		return (uint64_t)l->v[CH_PY_SIZEOF_ASCII] + length + 1;
	if (compact)
		size = (uint64_t)l->v[CH_PY_SIZEOF_COMPACT_UNICODE] + (length + 1) * kind;
	else
		size = (uint64_t)(ch_py_has(l, CH_PY_SIZEOF_UNICODE) ? l->v[CH_PY_SIZEOF_UNICODE] : 0) + (length + 1) * kind;
	if (ch_py_has(l, CH_PY_STR_UTF8) && ch_py_has(l, CH_PY_STR_UTF8_LENGTH)) {
		uint64_t utf8, n;
		err = ch_py_read_u64(py, obj, CH_PY_STR_UTF8, &utf8);
		if (!err && utf8)
			err = ch_py_read_u64(py, obj, CH_PY_STR_UTF8_LENGTH, &n);
		if (!err && utf8 && n < (1ULL << 40))
			size += n + 1;
		ch_error_free(err);
	}
	return size;
}

static uint64_t long_digits(struct ch_python *py, uint64_t obj)
{
	uint64_t w;
	struct ch_error *err;
	if (ch_py_has(&py->layout, CH_PY_LONG_TAG)) {
		if ((err = ch_py_read_u64(py, obj, CH_PY_LONG_TAG, &w))) {
			ch_error_free(err);
			return 1;
		}
		w >>= 3;
		return w ? w : 1;
	}
	/* From 3.11 __sizeof__ counts at least one digit (zero has ob_size 0). */
	uint64_t least = (uint64_t)py->layout.v[CH_PY_LONG_MIN_DIGITS];
	if ((err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &w))) {
		ch_error_free(err);
		return 0;
	}
	int64_t s = (int64_t)w;
	uint64_t n = s < 0 ? (uint64_t)-s : (uint64_t)s;
	return n > least ? n : least;
}

/* 3.13: the inline values block of an instance whose type has
 * Py_TPFLAGS_INLINE_VALUES: header up to values[], one slot per capacity,
 * and the insertion-order bytes after the slots (rounded to 8). */
static uint64_t inline_values_size(struct ch_python *py, uint64_t obj, const struct ch_py_type *ty)
{
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_DV_CAPACITY) || !(ty->flags & (1UL << 2)))
		return 0;
	uint8_t cap;
	struct ch_error *err = ch_as_read(&py->proc->as, obj + (uint64_t)ty->basicsize + (uint64_t)l->v[CH_PY_DV_CAPACITY], &cap, 1);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	return (uint64_t)l->v[CH_PY_DV_VALUES] + (uint64_t)cap * 8 + (((uint64_t)cap + 7) & ~(uint64_t)7);
}

/* bytearray.__sizeof__'s buffer: ob_alloc bytes (3.8-3.14, a malloc'd
 * buffer); 3.15+ the buffer is the bytes object ob_bytes_object, counted
 * as its header up to ob_sval + ob_alloc + 1 (nothing while ob_alloc is 0:
 * the object is then the immortal empty-bytes singleton). */
static uint64_t bytearray_extra(struct ch_python *py, uint64_t obj)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t alloc;
	if (!ch_py_has(l, CH_PY_BYTEARRAY_ALLOC))
		return 0;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_BYTEARRAY_ALLOC, &alloc);
	if (err || alloc >= (1ULL << 40)) {
		ch_error_free(err);
		return 0;
	}
	if (ch_py_has(l, CH_PY_BYTEARRAY_BYTES_OBJECT) && alloc)
		return (uint64_t)ch_py_off(py, CH_PY_BYTES_SVAL) + alloc + 1;
	return alloc;
}

/* 3.11+ frame objects and generators are PyObject_HEAD structs (no
 * ob_size) allocated with co_nlocalsplus + co_stacksize trailing slots of
 * the code they run (frame: f_frame's code; generator: its embedded frame's). */
static uint64_t frame_slots(struct ch_python *py, uint64_t obj, uint8_t kind)
{
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_CODE_NLOCALSPLUS) || !ch_py_has(l, CH_PY_CODE_STACKSIZE) || !ch_py_has(l, CH_PY_IFRAME_CODE))
		return 0;
	uint64_t fr = obj + (uint64_t)(ch_py_has(l, CH_PY_GEN_IFRAME) ? l->v[CH_PY_GEN_IFRAME] : 0), code;
	int32_t nlp, ss;
	struct ch_error *err = NULL;
	if (kind == CH_RK_FRAME)
		err = ch_py_read_u64(py, obj, CH_PY_FRAME_FRAME, &fr);
	if (!err)
		err = ch_py_read_u64(py, fr, CH_PY_IFRAME_CODE, &code);
	if (!err)
		err = ch_py_read_i32(py, code, CH_PY_CODE_NLOCALSPLUS, &nlp);
	if (!err)
		err = ch_py_read_i32(py, code, CH_PY_CODE_STACKSIZE, &ss);
	if (err || nlp < 0 || ss < 0 || nlp + (int64_t)ss > (1 << 20)) {
		ch_error_free(err);
		return 0;
	}
	return (uint64_t)nlp + (uint64_t)ss;
}

/* The size by kind (see the top comment), without inline values. */
static uint64_t object_size_by_kind(struct ch_python *py, uint64_t addr, uint32_t type)
{
	const struct ch_py_type *ty = &py->types.v[type];
	const struct ch_refs_typeinfo *ti = NULL;
	struct ch_error *err = ch_refs_typeinfo(py, type, &ti);
	uint8_t kind = err ? CH_RK_UNKNOWN : ti->kind;
	ch_error_free(err);
	ty = &py->types.v[type]; /* classification may have grown the table */
	uint64_t ob_size = 0, basic = (uint64_t)ty->basicsize, pre = ty->presize, v;
	if ((kind == CH_RK_FRAME || kind == CH_RK_GEN) && !ch_py_has(&py->layout, CH_PY_FRAME_CODE))
		return basic + frame_slots(py, addr, kind) * (uint64_t)ty->itemsize + pre;
	if (ty->itemsize && (err = ch_py_read_u64(py, addr, CH_PY_VAR_SIZE, &ob_size))) {
		ch_error_free(err);
		ob_size = 0;
	}
	switch (kind) {
	case CH_RK_LONG: /* tp_basicsize is offsetof(ob_digit) */
		return basic + long_digits(py, addr) * (uint64_t)ty->itemsize + pre;
	case CH_RK_STR: {
		uint64_t s = str_size(py, addr);
		if (s == IMPLAUSIBLE)
			return s;
		return s ? s + pre : ch_py_type_object_size(ty, (int64_t)ob_size);
	}
	case CH_RK_LIST:
		if (!(err = ch_py_read_u64(py, addr, CH_PY_LIST_ALLOCATED, &v)))
			return v < (1ULL << 36) ? basic + v * 8 + pre : IMPLAUSIBLE;
		ch_error_free(err);
		return basic + pre;
	case CH_RK_DICT:
	case CH_RK_DEFAULTDICT:
		return basic + pre + dict_extra(py, addr);
	case CH_RK_ODICT:
		return basic + pre + dict_extra(py, addr) + odict_extra(py, addr);
	case CH_RK_DEQUE:
		return basic + pre + deque_extra(py, addr);
	case CH_RK_TYPE:
		return type_size(py, addr, ty);
	case CH_RK_SET: {
		uint64_t table, mask;
		if (!ch_py_has(&py->layout, CH_PY_SET_TABLE) || (err = ch_py_read_u64(py, addr, CH_PY_SET_TABLE, &table)) ||
		    (err = ch_py_read_u64(py, addr, CH_PY_SET_MASK, &mask))) {
			ch_error_free(err);
			return basic + pre;
		}
		if (table == addr + (uint64_t)ch_py_off(py, CH_PY_SET_SMALLTABLE))
			return basic + pre;
		if (mask >= (1ULL << 32))
			return IMPLAUSIBLE;
		return basic + pre + (mask + 1) * (uint64_t)ch_py_off(py, CH_PY_SIZEOF_SETENTRY);
	}
	case CH_RK_BYTEARRAY:
		return basic + pre + bytearray_extra(py, addr);
	default:
		break;
	}
	uint64_t size = basic;
	if (ty->itemsize) {
		int64_t s = (int64_t)ob_size;
		uint64_t n = s < 0 ? (uint64_t)-(s + 1) + 1 : (uint64_t)s;
		if (n >= (1ULL << 40))
			return IMPLAUSIBLE;
		size += n * (uint64_t)ty->itemsize;
	}
	return size + pre;
}

#define CH_OBJECT_SIZE_MAX (1ULL << 47)

/* No object is larger than the memory the process had (nor than the x86_64
 * user address space, 2^47). */
static uint64_t size_limit(struct ch_python *py)
{
	if (!py->object_size_limit) {
		const struct ch_address_space *as = &py->proc->as;
		uint64_t total = 0;
		for (size_t i = 0; i < as->nranges && total < CH_OBJECT_SIZE_MAX; i++)
			total += as->ranges[i].end - as->ranges[i].start;
		py->object_size_limit = total && total < CH_OBJECT_SIZE_MAX ? total : CH_OBJECT_SIZE_MAX;
	}
	return py->object_size_limit;
}

uint64_t ch_py_object_full_size(struct ch_python *py, uint64_t addr, uint32_t type)
{
	if (type >= py->types.n)
		return 0;
	uint64_t size = object_size_by_kind(py, addr, type);
	/* after classification, which may have grown the type table */
	if (size != IMPLAUSIBLE)
		size += inline_values_size(py, addr, &py->types.v[type]);
	/* A length word no object can have, or a size beyond the memory the
	 * process had, is damage (flipped bits): summing it would overflow
	 * every total built on the sizes (a snapshot with negative bytes that
	 * diff refuses). The object is counted at its type's basic size, which
	 * the type check bounds (py_types.c), and the result is partial. */
	if (size == IMPLAUSIBLE || size > size_limit(py)) {
		const struct ch_py_type *t = &py->types.v[type];
		if (size == IMPLAUSIBLE)
			ch_diag_partial(&py->diag, "object 0x%llx (%s) has an implausible length field: "
				       "counted at its type's basic size", (unsigned long long)addr,
				       ch_py_type_name(&py->types, type));
		else
			ch_diag_partial(&py->diag, "object 0x%llx (%s) claims %llu bytes, more than the process had: "
				       "counted at its type's basic size", (unsigned long long)addr,
				       ch_py_type_name(&py->types, type), (unsigned long long)size);
		size = t->basicsize > 0 ? (uint64_t)t->basicsize + t->presize : 0;
	}
	return size;
}
