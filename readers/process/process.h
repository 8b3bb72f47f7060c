/* Layer readers/process: the dumped process as bytes. The core file and its
 * notes (core_file.h), the address space every memory read goes through
 * (address_space.h), the mapped files of a core without NT_FILE
 * (link_map.h), thread pointers a core left out (thread_pointer.h),
 * mapped ELF files and their symbols (elf_file.h),
 * separate debug files (debug_file.h), compressed debug sections
 * (elf_inflate.h) and DWARF struct layouts (dwarf_types.h); this file ties
 * them into one opened process.
 * Does not: know that the process ran Python; interpret any object.
 * Invariant: every byte handed upward is bounds-checked against the core or
 * a mapped file whose identity (build-id) was checked; an address nothing
 * backs is an error value (CH_ERR_FAULT), never a guess. Includes only
 * readers/base.
 *
 * The dumped process: its core, its memory (core bytes plus the files it had
 * mapped) and the ELF modules (executable and shared libraries) it loaded.
 *
 * Each module's build-id as recorded in the dumped memory is checked against
 * the file found on disk; a file that does not match is never used to back
 * memory, and asking for it (ch_process_module_elf) is an error naming both
 * ids. A missing file is likewise remembered and reported only when needed,
 * so a core whose libc is absent still opens. */
#ifndef CH_PROCESS_H
#define CH_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/process/address_space.h"
#include "readers/process/core_file.h"
#include "readers/process/elf_file.h"
#include "readers/process/segment_check.h"
#include "readers/base/error.h"

#define CH_MAX_LIB_SEARCH 32

struct ch_process_options {
	const char *exe;       /* interpreter binary to use instead of the recorded path */
	const char *sysroot;   /* prefix for every recorded path */
	const char *debug_dir; /* separate debug files (default /usr/lib/debug) */
	/* --lib-search-path DIRs: any mapped file is looked up by base name in
	 * each, in order, after its recorded path (module_lookup.c). */
	const char *lib_search[CH_MAX_LIB_SEARCH];
	size_t nlib_search;
	ch_core_progress_fn progress; /* while a compressed or piped core is copied; may be NULL */
	void *progress_arg;
};

enum ch_module_status {
	CH_MODULE_OK,
	CH_MODULE_MISSING,  /* no file at disk_path */
	CH_MODULE_MISMATCH, /* file's build-id differs from the dumped one */
	CH_MODULE_BAD,      /* file exists but is a malformed ELF file */
	CH_MODULE_NOT_ELF,  /* a data file (locale archive, ...): never a module, nothing to report */
};

struct ch_module {
	const char *path;      /* as recorded in the core (NT_FILE or link map; may end in " (deleted)") */
	char *disk_path;       /* the file used, or where it was first looked for */
	uint64_t start, end;   /* span of its mappings */
	uint64_t bias;         /* runtime address = link-time address + bias */
	bool is_main;          /* the executable (mapping containing AT_PHDR) */
	enum ch_module_status status;
	struct ch_elf_file *elf; /* NULL unless status == CH_MODULE_OK */
	uint8_t core_build_id[64];
	size_t core_build_id_len; /* 0 when the dump lacks the ELF header page */
	struct ch_error *problem; /* why status != OK */
};

struct ch_process {
	struct ch_core_file *core;
	struct ch_address_space as;
	struct ch_module *modules;
	size_t nmodules;
	struct ch_process_options opts;
	/* Damage to the segment table or to NT_FILE (segment_check.h): where
	 * it is, memory may hold the wrong bytes or none, so every result is
	 * partial. A file mapping that disagrees with its file's program
	 * headers backs no memory. */
	struct ch_segment_damage damage;
};

struct ch_error *ch_process_open(const char *core_path, const struct ch_process_options *opts,
				 struct ch_process **out);
void ch_process_close(struct ch_process *proc);

/* The executable's module, or NULL when the core names none. */
struct ch_module *ch_process_main_module(struct ch_process *proc);
/* First module whose recorded file name (basename) starts with prefix. */
struct ch_module *ch_process_find_module(struct ch_process *proc, const char *basename_prefix);
/* The module's ELF file, or the reason it cannot be used. */
struct ch_error *ch_process_module_elf(struct ch_module *mod, struct ch_elf_file **out);

/* Finds the file for mod (module_lookup.c): sets status, elf, bias,
 * disk_path, or problem (naming the file and the option that fixes it).
 * mod->core_build_id must be read first. Fails only for --exe naming a file
 * that cannot be the executable (not ELF, another build): the user's
 * explicit choice is wrong, so nothing is analysed. */
struct ch_error *ch_module_locate(struct ch_process *proc, struct ch_module *mod);

/* The build-id in the dumped copy of mod's first page (at mod->start) into
 * mod->core_build_id; left empty when the page was not dumped. */
void ch_module_read_core_build_id(struct ch_process *proc, struct ch_module *mod);

/* An error met while reading what the core should hold, restated when the
 * core's own damage explains it: truncated and the read needed bytes past
 * the cut (address space lost_reads) or the note list is cut short, or no
 * NT_FILE note at all and no link map standing in for it (or one cut short), or a
 * damaged segment table (proc->damage). Then the result is a CH_ERR_INPUT naming the
 * truncation and its size with err's text as the detail, and *explained is
 * true; otherwise err itself. Consumes err. */
struct ch_error *ch_process_explain(struct ch_process *proc, struct ch_error *err, bool *explained);

#endif
