/* Reading a named attribute of an instance or module, whatever the
 * version stores it in: an instance __dict__ object, a managed dict, inline
 * or split values, or a module's md_dict. Built on the reference reader so
 * that the per-version attribute layouts live in one place. */
#ifndef CH_PY_ATTR_H
#define CH_PY_ATTR_H

#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

/* The object stored under attribute `name` of obj, or CH_ERR_NOT_FOUND. */
struct ch_error *ch_py_getattr(struct ch_python *py, uint64_t obj, const char *name, uint64_t *value);

/* The same, then the class attribute of that name (the dicts of the
 * type's MRO, in order), as Python's lookup finds a value no instance
 * has set (data descriptors aside). */
struct ch_error *ch_py_getattr_or_class(struct ch_python *py, uint64_t obj, const char *name, uint64_t *value);
/* sys.modules[name] of the main interpreter, or CH_ERR_NOT_FOUND. */
struct ch_error *ch_py_module(struct ch_python *py, const char *name, uint64_t *module);

#endif
