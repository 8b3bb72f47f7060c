/* Is the core's segment table what a core writer wrote? The kernel (and
 * gdb's gcore and qemu-user alike) writes one PT_LOAD per memory mapping, in
 * ascending address order, page-aligned, with the dumped bytes of each after
 * the notes and after those of the segment before it; every mapping NT_FILE
 * lists is one of those segments; and each file mapping maps the file
 * offsets the file's own program headers put at that address. A segment
 * whose p_vaddr, p_offset or p_filesz was changed (a damaged core) breaks
 * one of these in most cases, and then addresses hold the wrong bytes or
 * none: coreheap says so (a warning and a partial result) instead of
 * counting what it then misreads as dangling pointers.
 *
 * Not detectable: a segment of anonymous memory moved by whole pages into
 * the gap between its neighbours (nothing else records where it was). */
#ifndef CH_SEGMENT_CHECK_H
#define CH_SEGMENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/process/core_file.h"
#include "readers/process/elf_file.h"

/* What the checks found: how many problems and the first one, a phrase
 * ("PT_LOAD 7 at 0x... overlaps PT_LOAD 6 ..."). count 0: none found. */
struct ch_segment_damage {
	size_t count;
	char first[224];
};

/* Records one problem (printf-style phrase) in d. */
void ch_segment_damage_add(struct ch_segment_damage *d, const char *fmt, ...) CH_PRINTF(2, 3);

/* The checks of the segment table against itself, the core's headers and
 * notes, and NT_FILE (not the link map: that is derived from the segments).
 * Time O(n log n) in the segments and mappings; memory two arrays of them.
 * Fails only for lack of memory. */
struct ch_error *ch_segments_check(const struct ch_core_file *core, struct ch_segment_damage *d);

/* Whether file mapping m (from NT_FILE) maps the file offsets that the
 * program headers segs[0..n) of its file, loaded at bias, place at its
 * addresses. page: the process's page size (4096 when below that or unknown). */
bool ch_segment_mapping_agrees(const struct ch_core_mapping *m, uint64_t bias, const struct ch_elf_segment *segs,
			       size_t n, uint64_t page);

#endif
