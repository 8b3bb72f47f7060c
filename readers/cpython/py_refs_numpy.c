/* References of numpy arrays (numpy.ndarray and its subclasses).
 *
 * ndarray is not a GC type (no Py_TPFLAGS_HAVE_GC in numpy 1.x): the
 * collector and gc.get_referents see none of its references, so every
 * one is reported with traversed == false and the GC replay, like
 * gc.collect(), counts what an array holds as held from outside. But an
 * object array (descr->type_num == NPY_OBJECT) that owns its data holds a
 * reference in every element, and objects held only there (a str, an int,
 * an untracked tuple) are found nowhere else: the elements are read here,
 * bounded, and labelled by their index ("[3]", "[1, 2]"; flat C order in
 * the edge, unravelled against the array's shape when printed).
 *
 * A view (NPY_ARRAY_OWNDATA clear) reports its base and dtype only: its
 * elements' counts belong to the array that owns the buffer, which reports
 * them itself (counting them twice would make refcount anomalies). The
 * offsets come from scripts/gen_numpy_layout.sh (numpy's headers) and hold
 * for the numpy ABI major version they were made from; the running numpy's
 * version is read once per core (numpy.__version__). With another numpy,
 * or a structured dtype with object fields (not read), the array's
 * references are not exact and the verdict says why. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_numpy_layout.h"
#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_str.h"

#define CH_NPY_ITEMS_MAX (1u << 26) /* elements read per array; more is a corrupt (or absurd) array */
#define CH_NPY_CHUNK 512            /* elements read at once from a contiguous row */

_Static_assert(CH_NPY_SIZEOF_INT == 4 && CH_NPY_SIZEOF_INTP == 8 && CH_NPY_SIZEOF_DESCR_FLAGS == 1,
	       "py_refs_numpy.c reads int as 32 bits, npy_intp as 64 and the descr flags as one byte");

enum { CH_NPY_UNTRIED, CH_NPY_KNOWN, CH_NPY_UNKNOWN };

const char CH_REF_ARRAY_ELEMENT[] = "array element";

/* NULL when this core's numpy has the layout the header describes, else
 * why not (a string that lives as long as the cache). */
static const char *layout_unknown(struct ch_python *py, struct ch_py_refs_cache *cache)
{
	if (cache->numpy_state != CH_NPY_UNTRIED)
		return cache->numpy_reason;
	char ver[64] = "";
	bool trunc = false;
	uint64_t mod, v;
	struct ch_error *err = ch_py_module(py, "numpy", &mod);
	if (!err)
		err = ch_py_getattr(py, mod, "__version__", &v);
	if (!err)
		err = ch_py_str_read(py, v, ver, sizeof(ver), &trunc);
	char why[800];
	if (err) {
		snprintf(why, sizeof(why),
			 "non-GC container holding references (numpy object array): numpy's version not read (%s)",
			 err->message);
		ch_error_free(err);
	} else if (strtoul(ver, NULL, 10) != CH_NPY_ABI_MAJOR) {
		snprintf(why, sizeof(why),
			 "non-GC container holding references (numpy object array): no layout for numpy %s "
			 "(built in: numpy %d.x)", ver, CH_NPY_ABI_MAJOR);
	} else {
		cache->numpy_state = CH_NPY_KNOWN;
		return NULL;
	}
	cache->numpy_state = CH_NPY_UNKNOWN;
	cache->numpy_reason = ch_refs_pool_add(cache, why);
	return cache->numpy_reason;
}

/* The header fields of the array at obj. */
struct ndarray {
	uint64_t data, dims, strides, base, descr;
	uint32_t nd, flags;
};

static struct ch_error *read_array(struct ch_python *py, uint64_t obj, struct ndarray *a)
{
	struct ch_address_space *as = &py->proc->as;
	uint64_t body = obj + (uint64_t)ch_py_off(py, CH_PY_SIZEOF_OBJECT);
	struct ch_error *err;
	if ((err = ch_as_read_u64(as, body + CH_NPY_ARR_DATA, &a->data)) ||
	    (err = ch_as_read_u32(as, body + CH_NPY_ARR_ND, &a->nd)) ||
	    (err = ch_as_read_u64(as, body + CH_NPY_ARR_DIMENSIONS, &a->dims)) ||
	    (err = ch_as_read_u64(as, body + CH_NPY_ARR_STRIDES, &a->strides)) ||
	    (err = ch_as_read_u64(as, body + CH_NPY_ARR_BASE, &a->base)) ||
	    (err = ch_as_read_u64(as, body + CH_NPY_ARR_DESCR, &a->descr)) ||
	    (err = ch_as_read_u32(as, body + CH_NPY_ARR_FLAGS, &a->flags)))
		return err;
	if (a->nd > CH_NPY_MAXDIMS)
		return ch_error_new(CH_ERR_INPUT, "array at 0x%" PRIx64 " claims %u dimensions", obj, a->nd);
	return NULL;
}

/* The shape, and the number of elements (error past CH_NPY_ITEMS_MAX). */
static struct ch_error *read_shape(struct ch_python *py, uint64_t obj, const struct ndarray *a, int64_t *dims,
				   int64_t *strides, uint64_t *count)
{
	struct ch_address_space *as = &py->proc->as;
	struct ch_error *err = NULL;
	if (a->nd && (err = ch_as_read(as, a->dims, dims, a->nd * sizeof(*dims))))
		return err;
	if (strides && a->nd && (err = ch_as_read(as, a->strides, strides, a->nd * sizeof(*strides))))
		return err;
	uint64_t n = 1;
	for (uint32_t k = 0; k < a->nd; k++) {
		if (dims[k] < 0 || (dims[k] && n > CH_NPY_ITEMS_MAX / (uint64_t)dims[k]))
			return ch_error_new(CH_ERR_INPUT, "array at 0x%" PRIx64 " has a corrupt or oversized shape", obj);
		n *= (uint64_t)dims[k];
	}
	*count = n;
	return NULL;
}

static bool emit_item(struct ch_refs_ctx *c, uint64_t v, uint64_t flat, uint32_t nd)
{
	return ch_refs_emit(c, v, CH_REF_INDEX, false, flat, 0, nd == 1 ? NULL : CH_REF_ARRAY_ELEMENT);
}

/* Every element in C order: rows along the last axis, read in chunks
 * when contiguous. */
static struct ch_error *read_items(struct ch_refs_ctx *c, const struct ndarray *a, const int64_t *dims,
				   const int64_t *strides, uint64_t count)
{
	struct ch_address_space *as = &c->py->proc->as;
	uint32_t nd = a->nd;
	uint64_t rowlen = nd ? (uint64_t)dims[nd - 1] : 1;
	int64_t step = nd ? strides[nd - 1] : 8;
	int64_t idx[CH_NPY_MAXDIMS] = {0};
	uint64_t buf[CH_NPY_CHUNK];
	for (uint64_t flat = 0; flat < count && !c->stopped; flat += rowlen) {
		int64_t off = 0;
		for (uint32_t k = 0; k + 1 < nd; k++)
			off += idx[k] * strides[k];
		for (uint64_t i = 0; i < rowlen && !c->stopped;) {
			uint64_t n = step == 8 ? (rowlen - i < CH_NPY_CHUNK ? rowlen - i : CH_NPY_CHUNK) : 1;
			struct ch_error *err = ch_as_read(as, a->data + (uint64_t)(off + (int64_t)i * step), buf, n * 8);
			if (err)
				return err;
			for (uint64_t j = 0; j < n && emit_item(c, buf[j], flat + i + j, nd); j++)
				;
			i += n;
		}
		/* next row: odometer over the leading axes */
		for (uint32_t k = nd > 1 ? nd - 1 : 0; k-- > 0;) {
			if (++idx[k] < dims[k])
				break;
			idx[k] = 0;
		}
	}
	return NULL;
}

bool ch_refs_ndarray(struct ch_refs_ctx *c, uint64_t obj, const char **reason, struct ch_error **errp)
{
	struct ch_python *py = c->py;
	struct ch_py_refs_cache *cache;
	*reason = NULL;
	*errp = ch_refs_cache_get(py, &cache);
	if (*errp)
		return true;
	if ((*reason = layout_unknown(py, cache)))
		return false;
	struct ndarray a;
	if ((*errp = read_array(py, obj, &a)))
		return true;
	ch_refs_emit(c, a.base, CH_REF_FIELD, false, 0, 0, "base");
	ch_refs_emit(c, a.descr, CH_REF_FIELD, false, 0, 0, "dtype");
	if (!a.descr || !(a.flags & CH_NPY_ARRAY_OWNDATA) || !a.data || c->stopped)
		return true;
	struct ch_address_space *as = &py->proc->as;
	uint32_t type_num;
	uint8_t dflags;
	if ((*errp = ch_as_read_u32(as, a.descr + (uint64_t)ch_py_off(py, CH_PY_SIZEOF_OBJECT) + CH_NPY_DESCR_TYPE_NUM,
				    &type_num)) ||
	    (*errp = ch_as_read(as, a.descr + (uint64_t)ch_py_off(py, CH_PY_SIZEOF_OBJECT) + CH_NPY_DESCR_FLAGS, &dflags, 1)))
		return true;
	if (type_num != CH_NPY_OBJECT) {
		if (dflags & CH_NPY_ITEM_HASOBJECT)
			*reason = "non-GC container holding references (numpy array of a structured dtype with object "
				  "fields): its items are not read";
		return true;
	}
	int64_t dims[CH_NPY_MAXDIMS], strides[CH_NPY_MAXDIMS];
	uint64_t count = 0; /* set by read_shape; GCC -O3 cannot see it */
	if (!(*errp = read_shape(py, obj, &a, dims, strides, &count)))
		*errp = read_items(c, &a, dims, strides, count);
	return true;
}

void ch_py_ndarray_index_text(struct ch_python *py, uint64_t obj, uint64_t flat, char *buf, size_t n)
{
	struct ndarray a;
	int64_t dims[CH_NPY_MAXDIMS];
	uint64_t count = 0; /* set by read_shape; GCC -O3 cannot see it */
	struct ch_error *err = read_array(py, obj, &a);
	if (!err)
		err = read_shape(py, obj, &a, dims, NULL, &count);
	if (err || flat >= count) {
		ch_error_free(err);
		snprintf(buf, n, "[flat %" PRIu64 "]", flat);
		return;
	}
	if (a.nd == 0) {
		snprintf(buf, n, "[()]");
		return;
	}
	uint64_t idx[CH_NPY_MAXDIMS];
	for (uint32_t k = a.nd; k-- > 0;) {
		idx[k] = dims[k] ? flat % (uint64_t)dims[k] : 0;
		flat = dims[k] ? flat / (uint64_t)dims[k] : 0;
	}
	size_t used = (size_t)snprintf(buf, n, "[");
	for (uint32_t k = 0; k < a.nd && used < n; k++)
		used += (size_t)snprintf(buf + used, n - used, "%s%" PRIu64, k ? ", " : "", idx[k]);
	if (used < n)
		snprintf(buf + used, n - used, "]");
}
