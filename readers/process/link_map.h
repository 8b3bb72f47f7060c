/* The mapped files of a process whose core has no NT_FILE note (qemu-user
 * cores, old gcore), found the way gdb finds them: the auxiliary vector's
 * AT_PHDR/AT_PHNUM locate the executable's program headers in the dumped
 * memory, its PT_DYNAMIC holds DT_DEBUG, which points at the dynamic
 * linker's struct r_debug, whose r_map starts the link_map list: one entry
 * per loaded object (executable, libraries, dlopen'ed extension modules,
 * the dynamic linker itself) with its load bias (l_addr) and path (l_name).
 *
 * Each object's file is looked up as any mapped file is (module_lookup.c:
 * --sysroot, --lib-search-path, build-id against the dumped header page),
 * and its PT_LOAD segments, moved by l_addr, become the records NT_FILE
 * would have held (start, end, page-aligned file offset). The rest of
 * readers/process then works from them unchanged.
 *
 * Architecture-neutral: ELF64 little-endian, 8-byte pointers, the LP64
 * <link.h> layout glibc and musl share (x86_64 and aarch64 alike). */
#ifndef CH_LINK_MAP_H
#define CH_LINK_MAP_H

#include "readers/base/error.h"

struct ch_process;

/* Fills proc->core->mappings (mapping_source CH_MAPPINGS_LINK_MAP) from the
 * link map. proc->as must already hold the core's own bytes; proc->modules
 * is not touched. When the link map cannot be read (no auxv, static
 * executable, r_debug not set up yet, unreadable memory) the core keeps no
 * mappings and core->mapping_problem says why. Returns an error only when
 * nothing should be analysed: out of memory, or --exe naming a file that
 * cannot be the executable. */
struct ch_error *ch_mappings_from_link_map(struct ch_process *proc);

#endif
