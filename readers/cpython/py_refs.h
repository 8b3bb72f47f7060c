/* The references an object holds, as CPython's own tp_traverse sees them
 * plus the ones it does not visit, each with a label a person can read.
 *
 * `traversed` is the contract the GC replay depends on: it is true exactly
 * when the type's tp_traverse (in this CPython version) would visit that
 * reference. References the collector cannot see (fields a traverse skips,
 * conservative scans of unknown C types) are reported with traversed ==
 * false: the replay then treats their targets as held from outside, as
 * CPython does. */
#ifndef CH_PY_REFS_H
#define CH_PY_REFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

enum ch_ref_kind {
	CH_REF_FIELD,        /* a named C field or slot: name is static text ("__dict__", "ob_type", "im_self") */
	CH_REF_INDEX,        /* tuple/list/deque item: index */
	CH_REF_DICT_KEY,     /* a key of a dict: key == target */
	CH_REF_DICT_VALUE,   /* the value stored under `key` (address of the key object) */
	CH_REF_ATTR,         /* an instance attribute held outside a dict object (3.11+ inline/managed values,
				__slots__): name is static text or the key object is `key` */
	CH_REF_SET_ITEM,     /* an element of a set/frozenset */
	CH_REF_CONSERVATIVE, /* an aligned word of an unknown type's body that points at an object: index = byte offset */
	CH_REF_WEAK,         /* a pointer that does not own a reference (weakref wr_object): name is static text.
				Paths, dominators and refcount accounting ignore it. */
};

struct ch_ref {
	uint64_t target;     /* address of the referenced object (never 0) */
	enum ch_ref_kind kind;
	bool traversed;
	uint64_t index;      /* CH_REF_INDEX, CH_REF_CONSERVATIVE */
	uint64_t key;        /* CH_REF_DICT_VALUE, CH_REF_ATTR (0 when name is set, except for a frame's
				named local: name CH_REF_LOCAL_NAME, key its name (a str), index its slot) */
	const char *name;    /* CH_REF_FIELD, CH_REF_ATTR, CH_REF_WEAK: static string, or NULL */
	bool shared;         /* CH_REF_DICT_KEY of a split table: the key's count belongs to the shared keys
				object (one per class), not to this dict. CH_REF_DICT_VALUE: the value sits in
				an instance's inline values (3.13+, values->embedded) that the dict only points
				at; its one count belongs to the instance, which reports it itself. Such a
				value is shared exactly when it is not traversed (readers/cpython/py_refs_containers.c) */
};

/* The name of a CH_REF_ATTR that is a frame's local variable (fast local,
 * cell or free variable) whose name the code object gives: `key` is that
 * name. Labels spell it .f_locals['x'], as Python reads it. */
extern const char CH_REF_LOCAL_NAME[];
/* The name of a CH_REF_INDEX that is an element of a numpy array of other
 * than one dimension: index is its flat position in C order, which
 * ch_py_ndarray_index_text spells as numpy indexes it ("[1, 2]"). */
extern const char CH_REF_ARRAY_ELEMENT[];
struct ch_python;
void ch_py_ndarray_index_text(struct ch_python *py, uint64_t array, uint64_t flat, char *buf, size_t n);

/* Return 0 to continue, non-zero to stop (returned through *stopped). */
typedef int (*ch_ref_visit_fn)(void *arg, const struct ch_ref *ref);

/* Calls fn for every reference the object at addr holds. `type` is its
 * ch_py_types index. An object whose body cannot be read yields the
 * references read so far and CH_ERR_FAULT; nothing is followed blindly. */
struct ch_error *ch_py_refs_visit(struct ch_python *py, uint64_t addr, uint32_t type, ch_ref_visit_fn fn, void *arg);

/* Whether the references just reported are the ones the collector sees.
 * exact == false only for an object of a GC type coreheap does not model
 * whose tp_traverse could not be emulated: its references were read by
 * the conservative scan (traversed == false), so the GC replay counts what
 * they point at as held from outside. `reason` says why, in words, and
 * stays valid while py is open (one string per type). */
struct ch_refs_outcome {
	bool exact;
	const char *reason;
};

/* ch_py_refs_visit, also telling whether the result is exact. The
 * references of an unmodelled GC type come from its own tp_traverse run
 * in readers/emulator; on failure the conservative scan, a warning per
 * type, and out->exact == false. */
struct ch_error *ch_py_refs_visit_ex(struct ch_python *py, uint64_t addr, uint32_t type, ch_ref_visit_fn fn, void *arg,
				     struct ch_refs_outcome *out);

/* --verify-traverse (a developer cross-check of the hand-written readers
 * and the layout tables): with py->verify_traverse set, every object of a
 * modelled GC type also has its own tp_traverse emulated, and each target
 * whose count differs between the two is recorded here. Output of the
 * visit itself is unchanged. */
struct ch_traverse_mismatch {
	uint64_t object;
	uint32_t type;        /* ch_py_types index */
	uint64_t target;
	uint32_t target_type; /* ch_py_types index, or UINT32_MAX when target is not an object */
	uint32_t emulated;    /* times tp_traverse visited target */
	uint32_t modelled;    /* times coreheap's reader reported it traversed */
};
struct ch_traverse_verify {
	const struct ch_traverse_mismatch *v;
	size_t n;
	uint64_t objects;     /* objects compared */
	uint64_t unverified;  /* objects whose traverse could not be emulated (warned per type) */
};
void ch_py_refs_verify_result(struct ch_python *py, struct ch_traverse_verify *out);

/* Emulate, in one batch, the traverses the next ch_py_refs_visit calls
 * for these objects (in this order) will need: a whole-heap pass calls it
 * for runs of objects before visiting them. Optional; a visit of an object
 * not prefetched runs its own call. */
void ch_py_refs_prefetch(struct ch_python *py, const uint64_t *addrs, const uint32_t *types, size_t n);
/* Memory prefetch ahead of a whole-heap pass's visits (hints only): call
 * with follow false some objects ahead (the header), then with follow
 * true a few objects ahead (the block the header points at). */
void ch_py_refs_touch(struct ch_python *py, uint64_t addr, uint32_t type, bool follow);

/* Implementation: py_refs.c (type classification, instances: __slots__,
 * __dict__ / managed values per version, unknown types), py_refs_emit.c (how
 * every reader reports a reference), py_refs_containers.c, py_refs_objects.c,
 * py_refs_frames.c, py_refs_emulated.c (unmodelled GC types); sizes in py_size.c, whose header
 * comment states the rule per type and how it relates to sys.getsizeof.
 * Type facts are cached per ch_python (py->refs), so a visit costs only
 * the reads of the object itself. */

/* Full shallow size of the object at addr: the object itself (str/bytes/int
 * by their own length rules) plus buffers it owns (list item arrays, dict
 * keys and values tables, set tables, bytearray buffers, non-compact str
 * data), plus GC head and pre-header. Falls back to the type's size rule. */
uint64_t ch_py_object_full_size(struct ch_python *py, uint64_t addr, uint32_t type);

/* False for types whose body is data, not pointers (int, float, str,
 * bytes, ...): a word there that equals an address is a value, not a
 * reference (graph/memory_python.c). True when unsure. */
bool ch_py_type_holds_pointers(struct ch_python *py, uint32_t type);

#endif
