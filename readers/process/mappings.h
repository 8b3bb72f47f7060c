/* The dumped address space as the process had it mapped: one row per
 * PT_LOAD segment, named by the NT_FILE entry that covers it (if any) and
 * sorted into a kind by what backs it and how it was protected, and by the
 * threads' stack pointers. Sizes: virtual (p_memsz), dumped (p_filesz: what
 * the kernel wrote) and touched (of the dumped bytes, those the core file
 * stores as data rather than as a hole: the kernel leaves pages that were
 * never touched as holes in a sparse core).
 * Every byte of every PT_LOAD is in exactly one row, so the rows add up to
 * the total. */
#ifndef CH_MAPPINGS_H
#define CH_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/process/core_file.h"

enum ch_mapping_kind {
	CH_MAP_FILE_CODE,  /* file-backed, not writable: code and read-only data */
	CH_MAP_FILE_DATA,  /* file-backed, writable: .data, .bss, RELRO; and the
			    * anonymous .bss tail right after such a mapping */
	CH_MAP_STACK,      /* anonymous, holds a thread's stack pointer */
	CH_MAP_ANON,       /* other anonymous memory (heaps, mmaps, ...) */
	CH_MAP_NO_ACCESS,  /* PROT_NONE: guard pages, reserved address space */
	CH_MAP_KINDS
};

const char *ch_mapping_kind_name(enum ch_mapping_kind k);

struct ch_mapping {
	uint64_t start, end;
	uint64_t dumped, touched;
	uint32_t flags;        /* PF_R | PF_W | PF_X */
	enum ch_mapping_kind kind;
	const char *path;      /* NT_FILE path (inside the core), or NULL */
	int32_t stack_tid;     /* CH_MAP_STACK: the thread, else 0 */
	bool bss;              /* anonymous, right after a file's writable mapping: its .bss tail */
};

struct ch_mappings {
	struct ch_mapping *rows;
	size_t n;
	uint64_t virtual_total, dumped_total, touched_total;
	bool touched_known;    /* the core file could be asked for its holes */
};

struct ch_error *ch_mappings_build(const struct ch_core_file *core, struct ch_mappings *out);
void ch_mappings_deinit(struct ch_mappings *m);

#endif
