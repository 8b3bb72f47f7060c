/* One object of the dump as a bounded tree of values, for `show`: the
 * object and, up to a depth, what it contains (container items, instance
 * attributes, a function's code, a cell's contents...). The tree is what
 * reports/report_show.c renders as Python-like text and as JSON.
 *
 * Everything is bounded by the caller's depth (capped at CH_SHOW_MAX_DEPTH),
 * CH_SHOW_ITEMS items per container, CH_SHOW_ATTRS attributes per instance
 * and CH_SHOW_MAX_NODES nodes in all; text is cut at a per-level number of
 * characters. The recursion is on the tree depth only, never on the heap.
 * Nodes live in one array and their text in one arena: no per-node malloc.
 * Reading never fails the whole tree: an unreadable part becomes a node
 * flagged CH_SHOW_DAMAGED with the reason. */
#ifndef CH_PY_SHOW_H
#define CH_PY_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

#define CH_SHOW_MAX_DEPTH 16
#define CH_SHOW_ITEMS 10
#define CH_SHOW_ATTRS 32
#define CH_SHOW_MAX_NODES 4096
/* Characters of a str / bytes shown at the top and below it. */
#define CH_SHOW_TOP_CHARS 1024
#define CH_SHOW_NESTED_CHARS 80
/* Decimal digits of an int shown in full at the top (CPython's own
 * int_max_str_digits default) and below it; longer ints show their
 * leading and trailing digits and the count. */
#define CH_SHOW_TOP_DIGITS 4300
#define CH_SHOW_NESTED_DIGITS 60
/* Ints of more limbs than this (about 90,000 decimal digits) are not
 * converted (quadratic); only their bit count and trailing digits. */
#define CH_SHOW_INT_EXACT_LIMBS 10000

enum ch_show_kind {
	CH_SHOW_NULL,          /* a NULL slot */
	CH_SHOW_UNREADABLE,    /* not even the header can be read: text = reason */
	CH_SHOW_NONE, CH_SHOW_BOOL, CH_SHOW_ELLIPSIS, CH_SHOW_NOTIMPLEMENTED,
	CH_SHOW_INT,           /* text = decimal with sign; when cut: text = leading digits (with sign),
				  aux = trailing digits, length = digit count; beyond the exact bound:
				  text = "", aux = trailing, num = bits */
	CH_SHOW_FLOAT,         /* text = repr */
	CH_SHOW_STR,           /* length = characters; text = first characters, UTF-8 (surrogates as
				  3 bytes); num = quote character */
	CH_SHOW_BYTES,         /* length = bytes; text = first bytes, raw; num = quote character */
	CH_SHOW_TUPLE, CH_SHOW_LIST, CH_SHOW_SET, CH_SHOW_FROZENSET,
	CH_SHOW_DICT,          /* children alternate key, value */
	CH_SHOW_INSTANCE,      /* children = attribute values, each with a label (the name) */
	CH_SHOW_FUNCTION,      /* text = qualname, aux = file, num = first line, label of child: none */
	CH_SHOW_CODE,          /* text = co_name, aux = file, num = first line */
	CH_SHOW_MODULE,        /* text = __name__, aux = __file__ (or spec origin, flagged ORIGIN) */
	CH_SHOW_TYPE,          /* text = module.qualname; children = bases (labelled "base") */
	CH_SHOW_CELL,          /* child = contents (none: empty) */
	CH_SHOW_METHOD,        /* children "function", "self" */
	CH_SHOW_CLASSMETHOD, CH_SHOW_STATICMETHOD, /* child "callable" */
	CH_SHOW_PROPERTY,      /* children "fget", "fset", "fdel" when set */
	CH_SHOW_WEAKREF,       /* num = target address (0: dead); text = the target type's tp_name */
	CH_SHOW_OBJECT,        /* anything else: <type object at 0x...> */
	/* py_show_runtime.c */
	CH_SHOW_EXCEPTION,     /* text = type name as repr() writes it; children "args" (the tuple), "__cause__",
				  "__context__" when set; num = traceback entries */
	CH_SHOW_TRACEBACK,     /* num = entries; children "entry": FRAME nodes (no locals) with the entry's line */
	CH_SHOW_FRAME,         /* text = co_name, aux = file, num = line (-1 unknown); children = locals, labelled by name */
	CH_SHOW_GENERATOR,     /* generator, coroutine, async generator: text = qualname, aux = state, num = line
				  (-1 unknown); child "awaiting" (what a suspended one awaits) */
	CH_SHOW_FUTURE,        /* asyncio Task/Future: text = name (tasks), aux = state, length = callbacks;
				  children "coro", "result", "exception", "awaiting" when set */
	CH_SHOW_PARTIAL,       /* functools.partial: children "func", "args" (tuple), "keywords" (dict) */
	CH_SHOW_BYTEARRAY,     /* as bytes: length, text = first bytes, num = quote */
	CH_SHOW_CONTEXT,       /* contextvars.Context: length = variables set */
	CH_SHOW_MEMORYVIEW,    /* length = len() (-1: 0-dim), num = nbytes; aux = "itemsize ndim readonly"
				  as text; flag CH_SHOW_RELEASED */
	/* py_show_lib.c: text = the whole one-line rendering (show and
	 * stacks --locals print it as it is) */
	CH_SHOW_LRU_CACHE,     /* functools.lru_cache wrapper: aux = wrapped qualname, length = currsize,
				  num = maxsize (-1: None), extra = "hits misses"; child "function" */
	CH_SHOW_PATTERN,       /* re.Pattern: aux = flags as repr() names them, num = flags; child "pattern" */
	CH_SHOW_IO,            /* _io FileIO, Buffered{Reader,Writer,Random}, TextIOWrapper: aux = mode
				  ("" unknown), num = closed (1, 0, -1 unknown), extra = fd (FileIO);
				  children "name", "encoding" (text), "raw" / "buffer" */
	CH_SHOW_NDARRAY,       /* numpy.ndarray: aux = dtype as str() names it, extra = shape ("2,3"),
				  length = ndim, num = nbytes (-1 unknown), flag CH_SHOW_OWNDATA;
				  children "base", "dtype", "numpy_version" (numpy.__version__) */
	CH_SHOW_NKINDS
};

enum {
	CH_SHOW_TRUNCATED = 1 << 0, /* text cut, or fewer items than length */
	CH_SHOW_ELIDED = 1 << 1,    /* depth or node budget reached: items not read */
	CH_SHOW_RECURSIVE = 1 << 2, /* the object is its own ancestor: [...] */
	CH_SHOW_DAMAGED = 1 << 3,   /* part of the body was unreadable: err = reason */
	CH_SHOW_REDACTED = 1 << 4,  /* str/bytes contents withheld (--redact) */
	CH_SHOW_NEGATIVE = 1 << 5,  /* int */
	CH_SHOW_ORIGIN = 1 << 6,    /* module: aux is the spec origin, not __file__ */
	CH_SHOW_RELEASED = 1 << 7,  /* memoryview: released */
	CH_SHOW_OWNDATA = 1 << 8,   /* ndarray: NPY_ARRAY_OWNDATA (it frees its data) */
};

#define CH_SHOW_NO_TEXT UINT32_MAX
#define CH_SHOW_NO_NODE UINT32_MAX

struct ch_show_node {
	uint8_t kind;          /* enum ch_show_kind */
	uint16_t flags;
	uint32_t type;         /* ch_py_types index, or UINT32_MAX */
	uint64_t addr;
	uint64_t length;       /* str/bytes length, container item count, int digit count */
	int64_t num;           /* per kind, see above */
	uint32_t text, text_len, aux, aux_len, label, err; /* arena offsets (NUL-terminated too) */
	uint32_t extra;        /* arena offset, per kind (py_show_lib.c kinds) */
	uint32_t first_child, next_sibling;
};

struct ch_show_tree {
	struct ch_show_node *nodes; /* nodes[0] is the root */
	size_t n, cap;
	char *arena;
	size_t alen, acap;
};

/* Builds the tree of the object at addr, expanding `depth` levels of
 * containers and instances. redact: str and bytes contents are not read
 * (their length only). Fails only for memory exhaustion. */
struct ch_error *ch_py_show_build(struct ch_python *py, uint64_t addr, size_t depth, bool redact, struct ch_show_tree *t);
void ch_show_tree_deinit(struct ch_show_tree *t);

/* The one-line rendering `show` gives an lru_cache wrapper, re.Pattern,
 * _io file object or numpy.ndarray (py_show_lib.c), into buf, for the
 * short renderings of stacks --locals; false for any other object (or out
 * of memory), buf untouched. */
bool ch_py_show_line(struct ch_python *py, uint64_t addr, char *buf, size_t max);

/* Text of an arena offset ("" for CH_SHOW_NO_TEXT). */
static inline const char *ch_show_text(const struct ch_show_tree *t, uint32_t off)
{
	return off == CH_SHOW_NO_TEXT ? "" : t->arena + off;
}

/* "str", "list", "instance", ...: the JSON "kind" of a node. */
const char *ch_show_kind_name(enum ch_show_kind k);

#endif
