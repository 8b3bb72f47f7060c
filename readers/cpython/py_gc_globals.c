#include "readers/cpython/py_gc_globals.h"

#include <inttypes.h>
#include <string.h>

#include "readers/cpython/python.h"

/* Run-time address of a static variable of source file `file`, 0 if none. */
static uint64_t static_var(struct ch_python *py, const char *file, const char *name, uint64_t *size)
{
	struct ch_elf_file *files[] = {py->module->elf, py->debug_elf};
	for (size_t i = 0; i < 2; i++) {
		uint64_t v = 0, sz = 0;
		if (!files[i])
			continue;
		struct ch_error *err = ch_elf_file_local_symbol(files[i], file, name, &v, &sz);
		if (err) {
			ch_error_free(err);
			continue;
		}
		if (size)
			*size = sz;
		return v + py->module->bias;
	}
	return 0;
}

static struct ch_error *no_symbol(struct ch_python *py, const char *file, const char *name)
{
	return ch_error_new(CH_ERR_UNSUPPORTED,
			    "%s: CPython %s keeps %s as a static variable of %s, and no symbol table names it (install the "
			    "interpreter's debug symbols, or pass --debug-dir DIR)",
			    py->module->path, py->version.text, name, file);
}

struct ch_error *ch_py_globals_interp_head(struct ch_python *py, uint64_t *head)
{
	uint64_t at = static_var(py, "pystate.c", "interp_head", NULL);
	if (!at)
		return no_symbol(py, "pystate.c", "interp_head");
	return ch_as_read_u64(&py->proc->as, at, head);
}

struct ch_error *ch_py_globals_gc_places(struct ch_python *py, struct ch_gc_places *out)
{
	const struct ch_py_layout *l = &py->layout;
	static const char file[] = "gcmodule.c";
	memset(out, 0, sizeof(*out));
	uint64_t size = 0;
	out->generations = static_var(py, file, "generations", &size);
	if (!out->generations)
		return no_symbol(py, file, "generations");
	int64_t gsz = l->v[CH_PY_SIZEOF_GCGEN];
	if (gsz <= 0 || size % (uint64_t)gsz)
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: generations[] is %" PRIu64 " bytes, not a multiple of struct gc_generation (%" PRId64 ")",
				    py->module->path, size, gsz);
	out->ngenerations = (int64_t)(size / (uint64_t)gsz);
	out->base = out->generations;
	out->enabled = static_var(py, file, "enabled", NULL);
	out->debug = static_var(py, file, "debug", NULL);
	if (!out->enabled)
		return no_symbol(py, file, "enabled");
	if (!out->debug)
		return no_symbol(py, file, "debug");
	/* _PyGC_generation0 is exported: the self-check that the layout's
	 * gc_generation.head is where the runtime's own pointer says. */
	out->generation0 = ch_python_symbol(py, "_PyGC_generation0");
	out->collecting = static_var(py, file, "collecting", NULL);
	out->garbage = static_var(py, file, "garbage", NULL);
	out->long_lived_total = static_var(py, file, "long_lived_total", NULL);
	out->long_lived_pending = static_var(py, file, "long_lived_pending", NULL);
	out->stats = static_var(py, file, "generation_stats", NULL);
	return NULL;
}
