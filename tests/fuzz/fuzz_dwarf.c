/* libFuzzer target: the DWARF layout reader (readers/process/dwarf_types.h,
 * over libdwarf). Each input is an ELF file with .debug_info; it is opened
 * by path as a debug file is, then the whole CPython layout is asked of it
 * (ch_py_layout_from_dwarf: every struct size, member path, array length
 * and enumerator coreheap needs) plus lookups with odd paths. Seeds: small
 * shared objects compiled at test time from tests/fuzz/seed_types.c with
 * several DWARF versions and zlib-compressed sections (make_seeds.py). */
#include <stdint.h>

#include "fuzz_file.h"
#include "readers/cpython/py_layout.h"
#include "readers/process/dwarf_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = ch_fuzz_file_set(data, size);
	struct ch_dwarf *dw = NULL;
	struct ch_error *err = ch_dwarf_open(path, &dw);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	static struct ch_py_layout layout;
	ch_error_free(ch_py_layout_from_dwarf(&layout, dw, "fuzz-dwarf"));
	uint64_t v, w;
	int64_t e;
	ch_error_free(ch_dwarf_type_size(dw, "int", &v));
	ch_error_free(ch_dwarf_member(dw, "_PyRuntimeState", "interpreters.head", &v, &w));
	ch_error_free(ch_dwarf_member(dw, "_gc_runtime_state", "generations[2].count", &v, &w));
	ch_error_free(ch_dwarf_member(dw, "PyASCIIObject", "state", &v, &w));
	ch_error_free(ch_dwarf_array_length(dw, "_gc_runtime_state", "generations", &v));
	ch_error_free(ch_dwarf_enumerator(dw, "FRAME_OWNED_BY_GENERATOR", &e));
	ch_error_free(ch_dwarf_member(dw, "no_such_type", "a.b[1]", &v, &w));
	ch_dwarf_close(dw);
	return 0;
}
