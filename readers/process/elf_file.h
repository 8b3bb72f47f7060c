/* An ELF file on disk (executable, shared library or separate debug file),
 * opened with libelf over a read-only mmap: build-id, sections, symbols,
 * loadable segments and the .gnu_debuglink request. */
#ifndef CH_ELF_FILE_H
#define CH_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_elf_segment {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;
};

struct ch_elf_file {
	char *path;
	const uint8_t *data;
	size_t size;
	void *elf;  /* Elf *, opaque here so users need not include libelf.h */
	uint16_t type; /* ET_EXEC / ET_DYN / ... */
	uint16_t machine; /* EM_X86_64 or EM_AARCH64 (core_arch.h) */
	uint8_t build_id[64];
	size_t build_id_len;
	struct ch_elf_segment *segments; /* PT_LOAD, in file order */
	size_t nsegments;
	bool has_debug_info;             /* has a .debug_info section */
	uint32_t debug_compression;      /* ch_type of a SHF_COMPRESSED .debug_info (1 zlib, 2 zstd), else 0 */
	char *debuglink;                 /* .gnu_debuglink file name, or NULL */
	uint32_t debuglink_crc;
};

/* CH_ERR_NOT_FOUND if there is no such file, CH_ERR_UNSUPPORTED if it is
 * not an ELF file (or not x86_64/aarch64 LE ELF64), CH_ERR_INPUT if it is unreadable or malformed. */
struct ch_error *ch_elf_open(const char *path, struct ch_elf_file **out);
void ch_elf_close(struct ch_elf_file *ef);

/* Value and size of a defined symbol, searched in .dynsym then .symtab.
 * The value is the link-time address (add the load bias). Without the
 * exact name, a compiler rename of it (name.lto_priv.0) is the symbol;
 * never a .cold/.part/.isra/.constprop part, and not when two renames of
 * that name are different objects (readers/process/symbol_name.h). */
struct ch_error *ch_elf_symbol(struct ch_elf_file *ef, const char *name, uint64_t *value, uint64_t *size);

/* A static (STB_LOCAL) symbol of one translation unit: the .symtab
 * symbols that follow the STT_FILE symbol named `file` (e.g. "gcmodule.c")
 * up to the next STT_FILE. Static variables of different files may share a
 * name (`debug`, `enabled`); this finds the one of that file. CH_ERR_NOT_FOUND
 * without a .symtab (stripped file: look in its debug file). */
struct ch_error *ch_elf_file_local_symbol(struct ch_elf_file *ef, const char *file, const char *name, uint64_t *value,
					  uint64_t *size);

/* Name of the data or function symbol covering link-time address vaddr
 * into name (n bytes; renames dropped, part suffixes kept, as
 * symbol_name.h says), its offset into it in *offset; false if none. A
 * linear search: for labels, not for loops over the heap. */
bool ch_elf_symbol_at(struct ch_elf_file *ef, uint64_t vaddr, char *name, size_t n, uint64_t *offset);

/* A section's link-time address, size and file bytes (bytes NULL for NOBITS). */
struct ch_error *ch_elf_section(struct ch_elf_file *ef, const char *name, uint64_t *addr, uint64_t *size,
				const uint8_t **bytes);

/* Bytes of the file image at link-time address vaddr (from PT_LOAD file
 * contents), or NULL if they are not all in the file. */
const uint8_t *ch_elf_vaddr_bytes(const struct ch_elf_file *ef, uint64_t vaddr, size_t len);

/* Lowest PT_LOAD vaddr rounded down to the page: load bias = mapping start - this. */
uint64_t ch_elf_base_vaddr(const struct ch_elf_file *ef);

/* Hex string of a build-id ("" when absent); buf must hold 2*64+1 bytes. */
void ch_build_id_hex(const uint8_t *id, size_t len, char *buf);

/* Find the NT_GNU_BUILD_ID note in a buffer of ELF notes (4-byte aligned). */
bool ch_notes_find_build_id(const uint8_t *notes, size_t size, const uint8_t **id, size_t *len);

#endif
