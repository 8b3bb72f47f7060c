/* Layer readers/cpython: the CPython runtime inside a dumped process. The
 * version and struct layouts (py_version.h, py_layout*.h: from DWARF or a
 * built-in table, cross-checked), GC state and lists (py_gc.h), types
 * (py_type_table.h, py_types.h), strings and dicts (py_str.h), each
 * object's references and sizes (py_refs.h), threads, frames and code
 * (py_threads.h, py_frames.h, py_code.h), and values rendered as Python
 * shows them (py_value.h, py_repr.h, py_show.h).
 * Does not: build the object graph or decide reachability (graph/), or
 * format reports (reports/); it answers questions about one object or one
 * list at a time.
 * Invariant: every read goes through the process layer's address space and
 * every offset comes from the layout table (ch_py_off), never a typed-in
 * number; an object that cannot be read yields what was read and an error,
 * never a followed wild pointer. Includes readers/process and readers/base
 * only. Inside the layer, this file (the runtime) sits below the readers of
 * objects and never calls up into them.
 *
 * The CPython runtime inside a dumped process: which module holds it, its
 * version, its layout table, and the addresses of _PyRuntime, the
 * interpreters and their GC state. Opening it is the step that turns "an
 * ELF core" into "a Python process"; everything CPython-specific is read
 * through a struct ch_python. */
#ifndef CH_PYTHON_H
#define CH_PYTHON_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/process/debug_file.h"
#include "readers/base/diag.h"
#include "readers/base/error.h"
#include "readers/process/process.h"
#include "readers/cpython/py_layout.h"
#include "readers/cpython/py_layout_cache.h"
#include "readers/cpython/py_type_table.h"
#include "readers/cpython/py_version.h"

struct ch_dwarf;
struct ch_py_refs_cache;
struct ch_py_builtins;
struct ch_py_asyncio;

#define CH_GC_MAX_GENERATIONS 3
/* Generation index used for the permanent (gc.freeze()) list. */
#define CH_GC_PERMANENT CH_GC_MAX_GENERATIONS

struct ch_gc_state {
	uint64_t address;   /* of struct _gc_runtime_state */
	bool enabled;
	int debug;
	int ngenerations;
	int thresholds[CH_GC_MAX_GENERATIONS];
	int counts[CH_GC_MAX_GENERATIONS];
	bool collecting;
	int64_t garbage;    /* len(gc.garbage), -1 if unreadable */
	int64_t long_lived_total, long_lived_pending; /* -1 when the version lacks them */
	bool have_stats;
	struct { int64_t collections, collected, uncollectable; } stats[CH_GC_MAX_GENERATIONS];
	/* List heads: generations 0..ngenerations-1, then permanent (0 if none). */
	uint64_t heads[CH_GC_MAX_GENERATIONS + 1];
};

/* Where each piece of the GC state lives: fields of one struct
 * _gc_runtime_state (3.7+: in _PyRuntime or the interpreter) or separate
 * static variables of gcmodule.c (3.6, found by symbol: py_gc_globals.c).
 * 0 = this version has no such piece. */
struct ch_gc_places {
	uint64_t base;          /* the struct, or generations[] for 3.6 */
	uint64_t enabled, debug, generations, generation0, permanent, collecting, garbage;
	uint64_t long_lived_total, long_lived_pending, stats;
	int64_t ngenerations;
};

struct ch_py_thread {
	uint64_t tstate;
	uint64_t interp;
	uint64_t thread_id;  /* pthread_self() */
	int64_t native_id;   /* gettid(), or -1 when the version does not record it */
};

/* One interpreter of the runtime (3.9+ give each its own collector). Index
 * 0 of ch_python.interps is always the main interpreter; the others follow
 * in the runtime's list order (newest first). Objects are tagged with this
 * index (uint8_t), hence the cap. */
#define CH_PY_MAX_INTERPS 255
struct ch_py_interp {
	uint64_t addr;      /* the PyInterpreterState */
	int64_t id;         /* interp->id (0 for main), -1 if unreadable */
	bool own_gc;        /* gc is this interpreter's own state (else shared, or unreadable) */
	bool shared_gc;     /* ≤3.8: one collector for the process; its objects are main's */
	struct ch_gc_state gc;
};

struct ch_python {
	struct ch_process *proc;
	struct ch_module *module;   /* the ELF that defines _PyRuntime */
	/* The DWARF of dwarf_path, opened on first use (ch_python_dwarf): a
	 * layout read from the layout cache needs none. */
	struct ch_dwarf *dwarf;
	char *dwarf_path;           /* file the layouts were read from */
	enum ch_debug_method dwarf_method; /* how that file was found */
	/* The separate debug file as an ELF file, for its full .symtab: a
	 * stripped module exports only .dynsym, which lacks the static types
	 * (_PyNamespace_Type, ...). NULL when the DWARF is embedded. */
	struct ch_elf_file *debug_elf;
	struct ch_py_layout layout;
	struct ch_py_layout_cache layout_cache; /* whether the layout came from, or went to, the cache */
	struct ch_py_version version;
	uint64_t runtime;           /* &_PyRuntime */
	uint64_t main_interp;
	uint64_t type_type;         /* &PyType_Type, 0 if unknown */
	struct ch_gc_state gc;      /* of the main interpreter (= interps[0].gc) */
	/* Every interpreter read from the runtime's list (main first); the
	 * heap walks each one's GC lists when own_gc. */
	struct ch_py_interp *interps;
	size_t ninterps;
	uint64_t frozen;            /* objects on the permanent list (gc.get_freeze_count()) */
	struct ch_py_thread *threads;
	size_t nthreads;
	struct ch_py_types types;
	struct ch_diag diag;
	/* Known type addresses and per-type reference rules (py_refs*.c),
	 * built on first use; NULL until then. The runtime layer sits below
	 * the reference readers, so it frees the cache through the function
	 * they left here rather than by calling up into them. */
	struct ch_py_refs_cache *refs;
	void (*refs_free)(struct ch_py_refs_cache *refs);
	/* The builtin objects and types renderings compare against
	 * (py_value.h), resolved on first use by ch_py_builtins_get; plain
	 * data, freed with free(). */
	struct ch_py_builtins *builtins;
	/* asyncio's classes and the C layout state (py_asyncio.h), found on
	 * first use by ch_py_asyncio_get; plain data, freed with free(). */
	struct ch_py_asyncio *asyncio;
	/* --redact: every rendering of str/bytes contents (py_value.c, show,
	 * edge and referent labels of dict keys) gives the type and length
	 * instead. Set by the CLI right after opening. */
	bool redact;
	/* --verify-traverse: emulate modelled GC types too and record every
	 * difference (py_refs.h, ch_py_refs_verify_result). */
	bool verify_traverse;
	/* The largest size an object can plausibly have: the bytes of memory
	 * the process had (every range of the address space), at most 2^47.
	 * Computed on first use by ch_py_object_full_size; 0 until then. */
	uint64_t object_size_limit;
};

struct ch_error *ch_python_open(struct ch_process *proc, struct ch_python **out);
void ch_python_close(struct ch_python *py);

/* Run-time address of a symbol of the runtime's module (libpython or the
 * executable), or 0 when it has none. */
uint64_t ch_python_symbol(struct ch_python *py, const char *name);

/* The DWARF of py->dwarf_path, opened on first use. CH_ERR_NOT_FOUND when
 * no DWARF file was found for the runtime's module (or it could not be
 * opened when the layout was read). */
struct ch_error *ch_python_dwarf(struct ch_python *py, struct ch_dwarf **out);

/* Upper bound on the objects any list walk may visit. */
uint64_t ch_python_object_limit(struct ch_python *py);

/* Layout value of a field; the caller has checked ch_py_has where optional. */
static inline int64_t ch_py_off(const struct ch_python *py, enum ch_py_field f)
{
	return py->layout.v[f];
}

/* The error of a read of a field this layout lacks. */
struct ch_error *ch_py_field_absent(enum ch_py_field f);

/* Read a pointer-sized / int-sized field at base + layout offset. Inline:
 * the reference pass reads several fields of every object, and the call
 * cost as much as the read when the bytes are cached. */
static inline struct ch_error *ch_py_read_u64(struct ch_python *py, uint64_t base, enum ch_py_field f, uint64_t *out)
{
	int64_t off = py->layout.v[f];
	if (off == CH_PY_ABSENT)
		return ch_py_field_absent(f);
	return ch_as_read_u64(&py->proc->as, base + (uint64_t)off, out);
}
struct ch_error *ch_py_read_i32(struct ch_python *py, uint64_t base, enum ch_py_field f, int32_t *out);

#endif
