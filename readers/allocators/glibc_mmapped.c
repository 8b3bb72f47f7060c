/* Chunks that malloc gave their own mapping (requests above
 * mp_.mmap_threshold). They belong to no arena, so they are found by their
 * header: at the start of a page of anonymous writable memory outside the
 * arenas' heaps and the threads' stacks, prev_size (the chunk's offset in
 * its mapping) 0 and the size field's low bits IS_MMAPPED alone. The size
 * says the mapping's length: 2.36 stores the length itself; 2.43 stores
 * length - offset - 16; either must make a whole number of pages that fits
 * the memory. The count and bytes are reconciled with mp_.n_mmaps and
 * mp_.mmapped_mem: chunks made by memalign (header not at a page start) or
 * left out of the core are not found, and the difference is reported. */
#include "glibc_internal.h"

#include <elf.h>

#include "readers/base/bytes.h"

static bool file_backed(const struct ch_core_file *core, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < core->nmappings; i++)
		if (core->mappings[i].start < end && start < core->mappings[i].end)
			return true;
	return false;
}

static bool holds_stack(const struct ch_core_file *core, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < core->nthreads; i++)
		if (core->threads[i].sp >= start && core->threads[i].sp < end)
			return true;
	return false;
}

static bool in_heaps(const struct ch_glibc_heapstate *st, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < st->nheaps; i++)
		if (st->heaps[i].start < end && start < st->heaps[i].reserve_end)
			return true;
	return false;
}

struct ch_error *ch_glibc_find_mmapped(struct ch_glibc_ctx *c)
{
	struct ch_core_file *core = c->proc->core;
	struct ch_glibc_heapstate *st = c->st;
	for (size_t s = 0; s < core->nsegments; s++) {
		const struct ch_core_segment *seg = &core->segments[s];
		uint64_t start = seg->vaddr, end = seg->vaddr + seg->memsz;
		if (!(seg->flags & PF_W) || seg->filesz == 0 || file_backed(core, start, end) ||
		    holds_stack(core, start, end) || in_heaps(st, start, end))
			continue;
		/* A chunk may run on into the next segment when the kernel split
		 * one mapping's pages; let it end where contiguous memory ends. */
		uint64_t run_end = end;
		for (size_t n = s + 1; n < core->nsegments && core->segments[n].vaddr == run_end; n++)
			run_end += core->segments[n].memsz;
		/* Headers can only be found in the dumped part (bounded by the core's size). */
		uint64_t dumped_end = start + seg->present;
		for (uint64_t p = ch_align_up(start, CH_GLIBC_PAGE); p + 16 <= dumped_end;) {
			const uint8_t *b = ch_as_peek(c->as, p, 16);
			if (!b) {
				p += CH_GLIBC_PAGE;
				continue;
			}
			uint64_t prev_size = ch_le64(b), size = ch_le64(b + 8);
			uint64_t cs = size & ~(uint64_t)CH_GLIBC_SIZE_BITS, len = 0;
			if ((size & CH_GLIBC_SIZE_BITS) == CH_GLIBC_IS_MMAPPED && (prev_size & ~1ull) == 0 && cs >= CH_GLIBC_PAGE) {
				if (cs % CH_GLIBC_PAGE == 0)
					len = cs;
				else if ((cs + 16) % CH_GLIBC_PAGE == 0)
					len = cs + 16;
			}
			if (!len || len > run_end - p) {
				p += CH_GLIBC_PAGE;
				continue;
			}
			struct ch_error *err = ch_glibc_push_chunk(c, p, len, UINT16_MAX, CH_CHUNK_MMAPPED);
			if (err)
				return err;
			st->mmapped_chunks++;
			st->mmapped_bytes += len;
			p += len;
		}
	}
	if (st->mmapped_chunks != st->mp_n_mmaps || st->mmapped_bytes != st->mp_mmapped_mem)
		ch_diag_warn(c->diag, "glibc: found %llu mmapped chunks (%llu bytes) where glibc counts %llu (%llu bytes): "
			     "the others were not dumped or have their header off a page start (memalign)",
			     (unsigned long long)st->mmapped_chunks, (unsigned long long)st->mmapped_bytes,
			     (unsigned long long)st->mp_n_mmaps, (unsigned long long)st->mp_mmapped_mem);
	return NULL;
}
