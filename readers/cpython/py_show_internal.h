/* Shared by py_show.c (dispatch, scalars, containers) and
 * py_show_objects.c (instances, functions, modules, types...). Not a
 * public interface: the rest of coreheap uses py_show.h. */
#ifndef CH_PY_SHOW_INTERNAL_H
#define CH_PY_SHOW_INTERNAL_H

#include "readers/cpython/py_show.h"
#include "readers/cpython/py_value.h"

/* Levels 0..depth are expanded; their children (depth + 1) are leaves. */
#define CH_SHOW_PATH_MAX (CH_SHOW_MAX_DEPTH + 2)

/* One build in progress. path[i] is the object expanded at level i, to
 * show an object that contains itself as [...] instead of looping. */
struct ch_show_ctx {
	struct ch_python *py;
	struct ch_show_tree *t;
	struct ch_py_builtins b;
	uint64_t set_dummy;
	size_t depth;
	bool redact;
	struct ch_error *err;       /* out of memory: the build stops */
	uint64_t path[CH_SHOW_PATH_MAX];
};

/* New node (no children, no text); CH_SHOW_NO_NODE once out of memory. */
uint32_t ch_show_node_new(struct ch_show_ctx *c, enum ch_show_kind kind, uint64_t addr, uint32_t type);
/* Copy n bytes into the arena (NUL added); CH_SHOW_NO_TEXT on failure. */
uint32_t ch_show_arena_add(struct ch_show_ctx *c, const char *s, size_t n);
uint32_t ch_show_arena_printf(struct ch_show_ctx *c, const char *fmt, ...) CH_PRINTF(2, 3);
/* Record err (consumed; NULL: nothing) as the node's damage. */
void ch_show_damage(struct ch_show_ctx *c, uint32_t node, struct ch_error *err);
/* May the node at this level read its children (depth and node budget)?
 * When not, the node is marked CH_SHOW_ELIDED. */
bool ch_show_expand(struct ch_show_ctx *c, uint32_t node, size_t level);
/* The tree of the object at addr at this level. */
uint32_t ch_show_value(struct ch_show_ctx *c, uint64_t addr, size_t level);
/* ch_show_value, appended as the last child of parent with a label. */
uint32_t ch_show_child(struct ch_show_ctx *c, uint32_t parent, uint32_t *last, uint64_t addr, size_t level,
		       uint32_t label);

/* The node kind for an object of this type (exact builtin types by
 * address; heap types are instances). */
enum ch_show_kind ch_show_classify(const struct ch_show_ctx *c, uint64_t type, uint32_t ti);
/* Fill the node of an instance, function, code, module, type, cell,
 * method, classmethod, staticmethod, property, weakref or other object. */
void ch_show_object(struct ch_show_ctx *c, uint32_t node, uint64_t addr, uint64_t type, enum ch_show_kind k,
		    size_t level);

/* The bytes [data, data + len) as a str/bytes-like node's text (a
 * bytes or bytearray node: length, quote, first bytes; --redact: none). */
void ch_show_bytes_data(struct ch_show_ctx *c, uint32_t node, uint64_t data, uint64_t len, size_t level);

/* py_show_runtime.c: exceptions, tracebacks, frames, generators and
 * coroutines, asyncio futures, functools.partial, bytearray,
 * contextvars.Context. CH_SHOW_OBJECT when the type is none of them. */
enum ch_show_kind ch_show_classify_runtime(const struct ch_show_ctx *c, uint64_t type, uint32_t ti);
void ch_show_runtime(struct ch_show_ctx *c, uint32_t node, uint64_t addr, enum ch_show_kind k, size_t level);

/* py_show_lib.c: functools.lru_cache wrappers, re.Pattern, _io objects,
 * numpy.ndarray. CH_SHOW_OBJECT when the type is none of them. */
enum ch_show_kind ch_show_classify_lib(const struct ch_show_ctx *c, uint64_t type, uint32_t ti);
void ch_show_lib(struct ch_show_ctx *c, uint32_t node, uint64_t addr, enum ch_show_kind k, size_t level);

#endif
