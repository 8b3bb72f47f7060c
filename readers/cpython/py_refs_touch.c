/* ch_py_refs_touch: prefetches for a whole-heap pass. Visiting an object
 * reads its header and, for the common containers, a block its header
 * points at (a dict's keys and values, a list's items, an instance's
 * values or dict), each a likely cache miss that the visit would wait
 * for in turn. Touching the objects a few places ahead of the visit, the
 * header first and the pointed-at block later (once the header is in),
 * lets those misses overlap. Hints only: every address goes through the
 * bounds-checked address space, nothing is reported or kept, and a type
 * not classified yet is passed over. */
#include "readers/cpython/py_refs_internal.h"

static void prefetch_at(struct ch_address_space *as, uint64_t addr)
{
	const uint8_t *p = addr ? ch_as_peek(as, addr, 8) : NULL;
	if (p)
		__builtin_prefetch(p);
}

/* The pointer at base + the layout's field f, or 0. */
static uint64_t word_at(struct ch_python *py, uint64_t base, enum ch_py_field f)
{
	if (!ch_py_has(&py->layout, f))
		return 0;
	const uint8_t *p = ch_as_peek(&py->proc->as, base + (uint64_t)ch_py_off(py, f), 8);
	return p ? ch_le64(p) : 0;
}

void ch_py_refs_touch(struct ch_python *py, uint64_t addr, uint32_t type, bool follow)
{
	struct ch_address_space *as = &py->proc->as;
	if (!follow) {
		prefetch_at(as, addr);
		return;
	}
	const struct ch_refs_typeinfo *ti = ch_refs_typeinfo_ready(py, type);
	if (!ti)
		return;
	switch (ti->kind) {
	case CH_RK_DICT:
		prefetch_at(as, word_at(py, addr, CH_PY_DICT_KEYS));
		prefetch_at(as, word_at(py, addr, CH_PY_DICT_VALUES));
		break;
	case CH_RK_LIST:
		prefetch_at(as, word_at(py, addr, CH_PY_LIST_ITEMS));
		break;
	default:
		break;
	}
	/* 3.12's managed dict word: values - 1 (odd) or the dict. */
	if (ti->subtype && (py->types.v[type].flags & CH_TPFLAGS_MANAGED_DICT) &&
	    py->layout.v[CH_PY_MANAGED_DICT_SCHEME] == CH_MANAGED_TAGGED) {
		uint64_t w = word_at(py, addr, CH_PY_MANAGED_DICT_OFFSET);
		prefetch_at(as, w & 1 ? w + 1 : w);
	}
}
