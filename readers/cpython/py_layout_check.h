/* Checks of the layout in use (DWARF or a built-in table) against the
 * dumped runtime itself, run on every core:
 * - 3.13+: the runtime's own _Py_DebugOffsets (_PyRuntime.debug_offsets,
 *   filled by the interpreter's compiler with offsetof/sizeof): cookie and
 *   version are checked, every field it states is compared with the layout,
 *   a disagreement is a warning naming the field and both values, and the
 *   runtime's value wins;
 * - self-checks that a wrong layout fails: PyType_Type is its own type, and
 *   each thread state points back at the interpreter whose list holds it
 *   (the GC generation-0 check lives with the GC state, python.c).
 * A failed self-check is CH_ERR_UNSUPPORTED naming the layout's source. */
#ifndef CH_PY_LAYOUT_CHECK_H
#define CH_PY_LAYOUT_CHECK_H

#include "readers/base/error.h"

struct ch_python;

/* Needs py->runtime, py->version and py->layout; patches py->layout.
 * Problems reading the struct are warnings, never errors. */
void ch_py_layout_check_runtime(struct ch_python *py);

/* Needs the interpreters and threads read (ch_python_open does it). */
struct ch_error *ch_py_layout_self_check(struct ch_python *py);

#endif
