/* Lazy, read-only mapping of the process's memory into the engine.
 *
 * Nothing is mapped up front: the unmapped-access hook calls
 * ch_emu_map_lazily, which copies the bytes from the address space. A
 * CH_EMU_CHUNK-aligned piece of a region is mapped whole when every page of
 * it is readable, else only the faulting page: the decision depends on the
 * chunk alone, so a whole-chunk mapping never overlaps a page mapped
 * earlier. Permissions are R, or R+X for exec regions; never W. */
#include "readers/emulator/emu_internal.h"

#include <stdlib.h>
#include <string.h>

static int region_cmp(const void *a, const void *b)
{
	const struct ch_emu_region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct ch_error *ch_emu_regions_set(struct ch_emu *emu, const struct ch_emu_region *r, size_t n)
{
	emu->regions = calloc(n ? n : 1, sizeof(*emu->regions));
	if (!emu->regions)
		return &ch_error_nomem;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		/* Unaligned or empty pieces cannot be mapped: skip them. */
		if (r[i].start >= r[i].end || (r[i].start | r[i].end) % CH_EMU_PAGE)
			continue;
		emu->regions[k++] = r[i];
	}
	qsort(emu->regions, k, sizeof(*emu->regions), region_cmp);
	/* A hostile core may declare overlapping segments: keep the first. */
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && emu->regions[i].start < emu->regions[m - 1].end)
			continue;
		emu->regions[m++] = emu->regions[i];
	}
	emu->nregions = m;
	return NULL;
}

const struct ch_emu_region *ch_emu_region_find(const struct ch_emu *emu, uint64_t addr)
{
	size_t lo = 0, hi = emu->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ch_emu_region *r = &emu->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static bool remember(struct ch_emu *emu, uint64_t start, uint64_t size)
{
	if (emu->nmaps == emu->capmaps) {
		size_t ncap = emu->capmaps ? emu->capmaps * 2 : 64;
		struct ch_emu_mapping *p = realloc(emu->maps, ncap * sizeof(*p));
		if (!p)
			return false;
		emu->maps = p;
		emu->capmaps = ncap;
	}
	emu->maps[emu->nmaps].start = start;
	emu->maps[emu->nmaps].size = size;
	emu->nmaps++;
	emu->mapped += size;
	emu->stats.mapped_bytes += size;
	emu->stats.mappings++;
	return true;
}

static bool map_copy(struct ch_emu *emu, uint64_t start, uint64_t size, bool exec)
{
	uint32_t perms = UC_PROT_READ | (exec ? UC_PROT_EXEC : 0);
	if (uc_mem_map(emu->uc, start, size, perms) != UC_ERR_OK)
		return false;
	if (uc_mem_write(emu->uc, start, emu->chunk, size) != UC_ERR_OK || !remember(emu, start, size)) {
		uc_mem_unmap(emu->uc, start, size);
		return false;
	}
	return true;
}

static bool fail(struct ch_emu *emu, enum ch_emu_status s, uint64_t detail)
{
	if (emu->stop == CH_EMU_OK) {
		emu->stop = (uint8_t)s;
		emu->stop_detail = detail;
	}
	return false;
}

bool ch_emu_map_lazily(struct ch_emu *emu, uint64_t addr, bool fetch)
{
	const struct ch_emu_region *r = ch_emu_region_find(emu, addr);
	if (fetch && (!r || !r->exec))
		return fail(emu, CH_EMU_FETCH, addr);
	if (!r)
		return fail(emu, CH_EMU_UNREADABLE, addr);
	uint64_t lo = addr & ~(CH_EMU_CHUNK - 1), hi = lo + CH_EMU_CHUNK;
	if (lo < r->start)
		lo = r->start;
	if (hi > r->end)
		hi = r->end;
	if (emu->mapped + (hi - lo) > 2 * emu->map_cap)
		return fail(emu, CH_EMU_MAP_BUDGET, addr);
	struct ch_error *err = ch_as_read(emu->as, lo, emu->chunk, hi - lo);
	if (!err)
		return map_copy(emu, lo, hi - lo, r->exec) || fail(emu, CH_EMU_UNREADABLE, addr);
	ch_error_free(err);
	uint64_t page = addr & ~(CH_EMU_PAGE - 1);
	err = ch_as_read(emu->as, page, emu->chunk, CH_EMU_PAGE);
	if (err) {
		ch_error_free(err);
		return fail(emu, CH_EMU_UNREADABLE, addr);
	}
	return map_copy(emu, page, CH_EMU_PAGE, r->exec) || fail(emu, CH_EMU_UNREADABLE, addr);
}

void ch_emu_maybe_flush(struct ch_emu *emu)
{
	if (emu->mapped <= emu->map_cap)
		return;
	for (size_t i = 0; i < emu->nmaps; i++)
		uc_mem_unmap(emu->uc, emu->maps[i].start, emu->maps[i].size);
	emu->nmaps = 0;
	emu->mapped = 0;
	emu->stats.flushes++;
}

void ch_emu_forget(struct ch_emu *emu)
{
	ch_emu_worker_stop(emu);
	for (size_t i = 0; i < emu->nmaps; i++) {
		/* Translated blocks outlive an unmap: drop them while the range
		 * is still mapped, or new bytes there would run the old code. */
		uc_ctl_remove_cache(emu->uc, emu->maps[i].start, emu->maps[i].start + emu->maps[i].size);
		uc_mem_unmap(emu->uc, emu->maps[i].start, emu->maps[i].size);
	}
	emu->nmaps = 0;
	emu->mapped = 0;
	/* Only what was written: clearing the whole MiB cost most of a short run. */
	if (emu->stack_low < CH_EMU_STACK)
		memset(emu->stack + emu->stack_low, 0, CH_EMU_STACK - emu->stack_low);
	emu->stack_low = CH_EMU_STACK;
}
