/* CPython 3.6 keeps no _PyRuntime: the interpreter list head is the static
 * `interp_head` of Python/pystate.c and the collector's state is a set of
 * static variables of Modules/gcmodule.c (`generations`, `enabled`,
 * `debug`, ...) plus the exported `_PyGC_generation0`. They are found by
 * symbol, scoped to their source file (two files may each have a static
 * `debug`), in the runtime module's .symtab or its debug file's. The
 * layouts of what they hold (struct gc_generation, PyGC_Head, ...) still
 * come from the layout table. */
#ifndef CH_PY_GC_GLOBALS_H
#define CH_PY_GC_GLOBALS_H

#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;
struct ch_gc_places;

/* The first interpreter of the list (interp_head). */
struct ch_error *ch_py_globals_interp_head(struct ch_python *py, uint64_t *head);

/* Where gcmodule.c's variables are; generations[] and its element count
 * (from the symbol's size) are required, the rest optional. */
struct ch_error *ch_py_globals_gc_places(struct ch_python *py, struct ch_gc_places *out);

#endif
