/* Shared by py_refs.c (dispatch, instances, unknown types),
 * py_refs_containers.c, py_refs_objects.c and py_size.c. Not a public
 * interface: the rest of coreheap uses py_refs.h. */
#ifndef CH_PY_REFS_INTERNAL_H
#define CH_PY_REFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/cpython/py_refs.h"
#include "readers/cpython/python.h"

/* Which tp_traverse (and size rule) applies to an object, decided once per
 * type from the base type that is not a class-statement subtype. */
enum ch_rk {
	CH_RK_UNKNOWN,      /* C type we do not model: conservative scan */
	CH_RK_LEAF,         /* int, str, bytes, float...: no references */
	CH_RK_OBJECT,       /* object itself: nothing beyond what the subtype adds */
	CH_RK_TUPLE, CH_RK_LIST, CH_RK_DICT, CH_RK_SET, CH_RK_TYPE,
	CH_RK_FUNCTION, CH_RK_CELL, CH_RK_MODULE, CH_RK_METHOD,
	CH_RK_CLASSMETHOD, CH_RK_STATICMETHOD, CH_RK_PROPERTY, CH_RK_WEAKREF,
	CH_RK_CFUNCTION, CH_RK_EXCEPTION, CH_RK_TRACEBACK, CH_RK_FRAME, CH_RK_GEN,
	CH_RK_DESCR, CH_RK_NAMESPACE, CH_RK_CODE,
	/* exceptions whose tp_traverse adds fields to BaseException's */
	CH_RK_EXC_OSERROR, CH_RK_EXC_IMPORT, CH_RK_EXC_STOPITER, CH_RK_EXC_SYSEXIT,
	CH_RK_EXC_SYNTAX, CH_RK_EXC_ATTRIBUTE, CH_RK_EXC_NAME, CH_RK_EXC_UNICODE, CH_RK_EXC_GROUP,
	CH_RK_DEQUE, CH_RK_DEFAULTDICT, CH_RK_ODICT, CH_RK_PARTIAL,
	CH_RK_BYTES, CH_RK_STR, CH_RK_LONG, CH_RK_BYTEARRAY,
	CH_RK_NDARRAY,      /* numpy.ndarray: not a GC type; object arrays' items (py_refs_numpy.c) */
	CH_RK_COUNT
};

/* Whether a type's own tp_traverse is run in the sandbox (py_refs_emulated.c). */
enum ch_refs_emu_state {
	CH_REFS_EMU_UNTRIED,  /* no object of the type emulated yet */
	CH_REFS_EMU_WORKS,    /* at least one object emulated */
	CH_REFS_EMU_DISABLED, /* the code misbehaved (or overran its budget repeatedly): conservative from now on */
};

/* A type's traverse as fixed offsets (py_refs_shape.c). */
enum ch_refs_shape_state {
	CH_SHAPE_LEARNING,    /* fewer than CH_SHAPE_SAMPLES objects emulated yet */
	CH_SHAPE_FIXED,       /* verified on the samples: shape_visited gives the visits */
	CH_SHAPE_NONE,        /* not a row of fixed fields (or not shown to be): always emulated */
};
#define CH_SHAPE_SAMPLES 16   /* objects emulated and compared before a shape is used */
#define CH_SHAPE_WORDS 64     /* body words a shape covers (bit masks of 64) */
struct ch_refs_shape_learn;

/* A tp_members entry holding an object, for labels. */
struct ch_refs_member {
	uint32_t offset;
	const char *name;    /* in the cache's string pool */
};

/* What is known about one type (indexed like py->types.v). Filled lazily. */
struct ch_refs_typeinfo {
	bool ready;
	uint8_t kind;        /* enum ch_rk of `base` */
	bool subtype;        /* the type's tp_traverse is subtype_traverse */
	uint64_t base;       /* first type on the tp_base chain not using subtype_traverse */
	uint64_t traverse;   /* the type's own tp_traverse (0 when absent or unreadable) */
	/* Without the subtype_traverse symbol (stripped or LTO-renamed) a heap
	 * type with a tp_traverse is taken for a class statement's type for
	 * its sizes and labels, but that is a guess: its references come from
	 * its own traverse, emulated, as for unmodelled types. */
	bool emulate;
	/* Emulation of unmodelled GC types; updated in c->info[type] directly. */
	uint8_t emu_state;   /* enum ch_refs_emu_state */
	bool members_read;
	uint32_t emu_failures;
	const char *emu_reason;        /* first failure, in the string pool: the warning and the verdict */
	struct ch_refs_member *members; /* owned; nmembers entries */
	uint32_t nmembers;
	/* py_refs_shape.c: bit w stands for the body word at offset 8w. */
	uint8_t shape_state;           /* enum ch_refs_shape_state */
	uint8_t shape_nsamples;
	uint64_t shape_visited;        /* words the traverse visits when not NULL */
	uint64_t shape_tagged;         /* words it visits, less the tag bit, when odd (mypyc's tagged ints) */
	uint64_t shape_null;           /* words NULL in every sample: set, the object is emulated */
	struct ch_refs_shape_learn *shape_learn; /* owned, while learning */
};

/* Known type addresses, resolved once per ch_python and hung off it
 * (py->refs) so that millions of objects classify by table lookups. */
#define CH_REFS_MAX_KNOWN 64
#define CH_TPFLAGS_MANAGED_DICT (1UL << 4) /* 3.11+ */

struct ch_py_refs_cache {
	struct { uint64_t addr, traverse; uint8_t kind; } known[CH_REFS_MAX_KNOWN];
	size_t nknown;
	uint64_t object_type;      /* &PyBaseObject_Type */
	uint64_t unicode_type;     /* &PyUnicode_Type */
	uint64_t subtype_traverse; /* static function; 0 when the symbol table lacks it */
	uint64_t lookdict;         /* <=3.10: the general lookup function, 0 if unknown */
	uint64_t set_dummy;        /* the object _PySet_Dummy points at */
	struct ch_refs_typeinfo *info;
	size_t ninfo;
	/* py_refs_emulated.c: the sandbox (opened on first need), results of
	 * the last ch_py_refs_prefetch consumed in order, label strings. */
	struct ch_emu *emu;
	bool emu_opened;
	const char *emu_unavailable;   /* why there is no sandbox (string pool or static), or NULL */
	uint32_t budget_strikes;       /* budget overruns in this core (py_refs_emulated.c) */
	struct ch_refs_prefetched *pre;
	size_t npre, pre_cur, cappre;
	uint64_t *pre_visits;
	size_t npre_visits, cappre_visits;
	struct ch_refs_strpool *strings;
	struct ch_refs_hand *hand;    /* scratch for the subtype part's labels */
	/* --verify-traverse */
	struct ch_traverse_mismatch *mismatches;
	size_t nmismatches, capmismatches;
	uint64_t verified, unverified;
	uint64_t *vtargets;           /* scratch: the reader's traversed targets of one object */
	size_t nvtargets, capvtargets;
	const char **offset_names;    /* "+0x30" by offset / 8 */
	/* py_refs_numpy.c: whether this core's numpy has the built-in layout */
	uint8_t numpy_state;
	const char *numpy_reason;     /* why not (string pool), or NULL */
};

/* One visit in progress: where refs go, and whether the visitor stopped. */
struct ch_refs_ctx {
	struct ch_python *py;
	ch_ref_visit_fn fn;
	void *arg;
	bool stopped;
	bool gc;             /* the object is GC-tracked-capable: without it
				gc.get_referents reports nothing, so traversed = false */
};

struct ch_error *ch_refs_cache_get(struct ch_python *py, struct ch_py_refs_cache **out);
struct ch_error *ch_refs_typeinfo_slow(struct ch_python *py, uint32_t type, const struct ch_refs_typeinfo **out);
/* The reference-reading facts of a type already classified, else NULL. */
static inline const struct ch_refs_typeinfo *ch_refs_typeinfo_ready(const struct ch_python *py, uint32_t type)
{
	const struct ch_py_refs_cache *c = py->refs;
	return c && type < c->ninfo && type < py->types.n && c->info[type].ready ? &c->info[type] : NULL;
}

/* The reference-reading facts of a type, classified on first use; the
 * classified case is inline (it is asked once per object visited). */
static inline struct ch_error *ch_refs_typeinfo(struct ch_python *py, uint32_t type, const struct ch_refs_typeinfo **out)
{
	if ((*out = ch_refs_typeinfo_ready(py, type)))
		return NULL;
	return ch_refs_typeinfo_slow(py, type, out);
}

/* Report one reference (target 0 is skipped). Returns false once the
 * visitor asked to stop. */
/* gh-130327 (CPython 3.13.13): a materialized managed __dict__ is traversed
 * even while the instance's inline values are valid: subtype_traverse visits
 * the dict instead of the values, and the dict visits its values although
 * they are embedded in the instance. Before it, the values were visited by
 * the instance only. 3.14 and 3.15 have the fix too: checked on 3.14.10 and
 * 3.15.2 (tests/check_refs.py); the 3.14 micro that received it is not
 * known here, so 3.14.0-3.14.9 keep the old behaviour (unverified). */
static inline bool ch_refs_materialized_dict_traversed(const struct ch_python *py)
{
	const struct ch_py_version *v = &py->version;
	return v->major == 3 && ((v->minor == 13 && v->micro >= 13) || (v->minor == 14 && v->micro >= 10) || v->minor >= 15);
}

bool ch_refs_emit(struct ch_refs_ctx *c, uint64_t target, enum ch_ref_kind kind, bool traversed, uint64_t index,
		  uint64_t key, const char *name);
/* ch_refs_emit of a reference built by the caller (r->traversed is
 * still cleared when the object is not GC-tracked). */
bool ch_refs_emit_ref(struct ch_refs_ctx *c, struct ch_ref *r);
/* Read the pointer field f of obj (absent field: nothing) and report it. */
struct ch_error *ch_refs_field(struct ch_refs_ctx *c, uint64_t obj, enum ch_py_field f, const char *name,
			       bool traversed);
struct ch_error *ch_refs_conservative(struct ch_refs_ctx *c, uint64_t start, uint64_t end, uint64_t obj);

/* The parts subtype_traverse adds (slots, __dict__ or values, ob_type). */
struct ch_error *ch_refs_instance(struct ch_refs_ctx *c, uint64_t obj, uint64_t type, const struct ch_refs_typeinfo *ti);

/* py_refs_emulated.c. References of an object whose GC type is not
 * modelled, from its own tp_traverse run in the sandbox. True when they
 * were emitted; false (nothing emitted) when the caller must fall back to
 * the conservative scan, with *reason saying why (valid while py lives). */
bool ch_refs_emulated(struct ch_refs_ctx *c, uint64_t obj, uint32_t type, const char **reason);
void ch_refs_emulated_free(struct ch_py_refs_cache *cache);
/* A copy of s that lives as long as the cache (labels, reasons). */
const char *ch_refs_pool_add(struct ch_py_refs_cache *cache, const char *s);

/* py_refs_numpy.c. The references of a numpy.ndarray (base, dtype and,
 * for an object array owning its data, every element), never traversed.
 * False (nothing emitted) when numpy's layout is not known for this core:
 * the caller scans conservatively. *reason is set (valid while py lives)
 * when the references are not exact: unknown layout, or items not read;
 * *err when the array could not be read completely. */
bool ch_refs_ndarray(struct ch_refs_ctx *c, uint64_t obj, const char **reason, struct ch_error **err);
/* py_refs_shape.c. Learn from one successful emulation of obj (its
 * visits); use: the visits of obj from the type's verified shape, into out
 * (CH_SHAPE_WORDS entries), or false when it must be emulated. */
void ch_refs_shape_learn(struct ch_python *py, struct ch_py_refs_cache *cache, uint32_t type, uint64_t obj,
			 const uint64_t *visits, uint32_t n);
bool ch_refs_shape_visits(struct ch_python *py, const struct ch_refs_typeinfo *ti, uint32_t type, uint64_t obj,
			  uint64_t *out, uint32_t *n);
/* --verify-traverse of a modelled object: its visit runs with fn/arg
 * wrapped by ch_refs_verify_collect (keeping the reader's traversed
 * targets), then ch_refs_verify_compare emulates its tp_traverse and
 * records the differences (py_refs_emulated.c). */
struct ch_refs_verify_wrap {
	ch_ref_visit_fn fn;
	void *arg;
	struct ch_py_refs_cache *cache;
};
int ch_refs_verify_collect(void *arg, const struct ch_ref *r);
void ch_refs_verify_compare(struct ch_python *py, uint64_t obj, uint32_t type);

/* A module with a C state block (py_refs_objects.c): its references
 * come from module_traverse (and so the module's m_traverse), emulated. */
bool ch_refs_module_has_state(struct ch_python *py, uint64_t obj);

/* Per-kind visitors (the base part of an object). */
struct ch_error *ch_refs_tuple(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_list(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_dict(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_odict(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_set(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_deque(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_frame(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_gen(struct ch_refs_ctx *c, uint64_t obj);
struct ch_error *ch_refs_object_kind(struct ch_refs_ctx *c, uint64_t obj, enum ch_rk kind);
/* Instance attributes held by values arrays (3.11+), attr = key objects. */
struct ch_error *ch_refs_values(struct ch_refs_ctx *c, uint64_t cached_keys, uint64_t values, uint64_t n);

#endif
