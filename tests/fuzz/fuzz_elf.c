/* libFuzzer target: the ELF reader for mapped and debug files
 * (readers/process/elf_file.h) and the zstd-section inflater
 * (elf_inflate.h). Each input is an ELF file, opened by path like a module
 * or debug file; then the lookups coreheap makes on such files run over it:
 * symbols (.dynsym, .symtab), sections, PT_LOAD bytes by address, the
 * symbol covering an address. Seeds: the fixture interpreter's ELF files
 * cut small and a tiny compiled shared object (tests/fuzz/make_seeds.py). */
#include <stdint.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "readers/process/elf_file.h"
#include "readers/process/elf_inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = ch_fuzz_file_set(data, size);
	struct ch_elf_file *ef = NULL;
	struct ch_error *err = ch_elf_open(path, &ef);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	static const char *const symbols[] = {"_PyRuntime", "Py_Version", "_Py_DebugOffsets", "main", ""};
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		uint64_t value = 0, sz = 0;
		ch_error_free(ch_elf_symbol(ef, symbols[i], &value, &sz));
		uint64_t off;
		char name[256];
		(void)ch_elf_symbol_at(ef, value, name, sizeof(name), &off);
		(void)ch_elf_vaddr_bytes(ef, value, sz > 64 ? 64 : (size_t)sz);
	}
	static const char *const sections[] = {".debug_info", ".note.gnu.build-id", ".gnu_debuglink", ".rodata", ""};
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		uint64_t addr, sz;
		const uint8_t *bytes;
		ch_error_free(ch_elf_section(ef, sections[i], &addr, &sz, &bytes));
	}
	uint64_t base = ch_elf_base_vaddr(ef);
	(void)ch_elf_vaddr_bytes(ef, base, 16);
	char hex[2 * 64 + 1];
	ch_build_id_hex(ef->build_id, ef->build_id_len, hex);
	ch_elf_close(ef);

	int fd = -1;
	err = ch_elf_inflate_zstd(path, &fd);
	ch_error_free(err);
	if (fd >= 0)
		close(fd);
	return 0;
}
