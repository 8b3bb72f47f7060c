/* Short, one-line renderings of Python objects in the dump, for showing
 * locals (stacks --locals) and later single objects (show):
 *   int (any size, decimal), str (repr-escaped, cut after
 *   CH_PY_VALUE_STR_CHARS characters with "..." after the quote), float
 *   (repr's shortest form), None/True/False, list/tuple/dict/bytes as
 *   "<list len=3>", anything else "<type at 0x...>".
 * Only exact builtin types are recognised (by the address of their type
 * object), so a subclass with its own __repr__ is never shown as its base. */
#ifndef CH_PY_VALUE_H
#define CH_PY_VALUE_H

#include <stddef.h>
#include <stdint.h>

struct ch_python;

#define CH_PY_VALUE_MAX 256
#define CH_PY_VALUE_STR_CHARS 64

/* Addresses of the builtin objects and types rendering compares against
 * (0 when the symbol is absent). Resolved once per run from the runtime
 * module's symbol table. */
struct ch_py_builtins {
	uint64_t none, true_, false_;
	uint64_t long_type, float_type, str_type, bytes_type, list_type, tuple_type, dict_type;
	uint64_t code_type, cell_type;
	/* used by show (py_show.c) */
	uint64_t ellipsis, notimplemented;
	uint64_t set_type, frozenset_type, function_type, module_type, type_type, method_type;
	uint64_t classmethod_type, staticmethod_type, property_type;
	uint64_t weakref_type, weakproxy_type, weakcallproxy_type;
	/* show: runtime objects (py_show_runtime.c) */
	uint64_t coro_type, gen_type, asyncgen_type, traceback_type, frame_type, bytearray_type, context_type;
	uint64_t memoryview_type;
};

void ch_py_builtins_init(struct ch_python *py, struct ch_py_builtins *b);
/* The same, resolved once per ch_python and kept there; NULL only when
 * out of memory. */
const struct ch_py_builtins *ch_py_builtins_get(struct ch_python *py);

/* Never fails: what cannot be read renders as "<unreadable 0x...>".
 * With py->redact, a str renders as "<str len N>". */
void ch_py_value_render(struct ch_python *py, const struct ch_py_builtins *b, uint64_t obj, char *buf, size_t max);

/* A dict key as Python spells it inside [...]: repr() for str (cut after
 * CH_PY_VALUE_STR_CHARS characters, "..." after the quote), bytes, int,
 * float, None, True, False, and tuples of those (nested up to 3 levels,
 * the first CH_PY_KEY_ITEMS items, then "..."); any other key
 * "<type at 0x...>". With py->redact, str and bytes give "<str len N>" /
 * "<bytes len N>" (also inside tuples). Never fails. The one spelling of
 * keys in path, referrers, referents and top labels. */
#define CH_PY_KEY_ITEMS 6
void ch_py_key_render(struct ch_python *py, const struct ch_py_builtins *b, uint64_t key, char *buf, size_t max);
/* repr() of a C double, as CPython writes it ("1.5", "1e+100", "inf"). */
void ch_py_float_repr(double v, char *buf, size_t max);

#endif
