#include "readers/process/segment_check.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "readers/base/bytes.h"

/* Every page size of x86_64 and aarch64 Linux is a multiple of this. */
#define CHECK_PAGE 4096u

void ch_segment_damage_add(struct ch_segment_damage *d, const char *fmt, ...)
{
	if (d->count++)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->first, sizeof(d->first), fmt, ap);
	va_end(ap);
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static uint64_t end_of(uint64_t start, uint64_t len)
{
	return len > UINT64_MAX - start ? UINT64_MAX : start + len;
}

/* Addresses: page-aligned, ascending, no two segments sharing one. */
static void check_addresses(const struct ch_core_file *c, struct ch_segment_damage *d)
{
	for (size_t i = 0; i < c->nsegments; i++) {
		const struct ch_core_segment *s = &c->segments[i];
		if (s->vaddr % CHECK_PAGE || s->memsz % CHECK_PAGE)
			ch_segment_damage_add(d, "segment %zu (0x%llx, 0x%llx bytes) is not page-aligned", i, ull(s->vaddr),
					      ull(s->memsz));
		if (i && s->vaddr < end_of(c->segments[i - 1].vaddr, c->segments[i - 1].memsz))
			ch_segment_damage_add(d, "segment %zu at 0x%llx starts below the end of segment %zu (0x%llx)", i,
					      ull(s->vaddr), i - 1,
					      ull(end_of(c->segments[i - 1].vaddr, c->segments[i - 1].memsz)));
	}
}

/* File bytes: apart from the ELF header and the program headers (the
 * kernel puts those first; a tool that adds notes may move them to the
 * end), ascending, no two segments sharing a byte, none shared with a
 * note. */
static void check_file_ranges(const struct ch_core_file *c, bool kernel, struct ch_segment_damage *d)
{
	/* ch_core_parse checked that the program headers lie inside the file. */
	uint64_t phoff = ch_le64(c->data + offsetof(Elf64_Ehdr, e_phoff));
	uint64_t phnum = ch_le16(c->data + offsetof(Elf64_Ehdr, e_phnum));
	uint64_t headers_end = phoff + phnum * sizeof(Elf64_Phdr);
	size_t prev = SIZE_MAX, before = d->count;
	/* ch_core_parse keeps at most p_memsz of p_filesz: the raw value. */
	size_t load = 0;
	for (uint64_t k = 0; k < phnum; k++) {
		const uint8_t *ph = c->data + phoff + k * sizeof(Elf64_Phdr);
		if (ch_le32(ph + offsetof(Elf64_Phdr, p_type)) != PT_LOAD)
			continue;
		uint64_t filesz = ch_le64(ph + offsetof(Elf64_Phdr, p_filesz));
		uint64_t memsz = ch_le64(ph + offsetof(Elf64_Phdr, p_memsz));
		if (filesz > memsz)
			ch_segment_damage_add(d, "segment %zu (0x%llx) has more file bytes (0x%llx) than memory (0x%llx)",
					      load, ull(ch_le64(ph + offsetof(Elf64_Phdr, p_vaddr))), ull(filesz), ull(memsz));
		load++;
	}
	for (size_t i = 0; i < c->nsegments; i++) {
		const struct ch_core_segment *s = &c->segments[i];
		if (!s->filesz)
			continue;
		if (s->offset < sizeof(Elf64_Ehdr) || (s->offset < headers_end && end_of(s->offset, s->filesz) > phoff))
			ch_segment_damage_add(d, "segment %zu (0x%llx) takes its bytes from the core's headers (offset 0x%llx)",
					      i, ull(s->vaddr), ull(s->offset));
		else if (prev != SIZE_MAX && s->offset < end_of(c->segments[prev].offset, c->segments[prev].filesz))
			ch_segment_damage_add(d, "segment %zu (0x%llx) takes its bytes at offset 0x%llx from those of segment "
					      "%zu", i, ull(s->vaddr), ull(s->offset), prev);
		/* The kernel writes each segment's bytes right after the last
		 * one's: a gap is a moved p_offset or a shrunk p_filesz. */
		else if (kernel && prev != SIZE_MAX &&
			 s->offset != end_of(c->segments[prev].offset, c->segments[prev].filesz))
			ch_segment_damage_add(d, "segment %zu (0x%llx) starts its bytes at offset 0x%llx, not where those of "
					      "segment %zu end (0x%llx)", i, ull(s->vaddr), ull(s->offset), prev,
					      ull(end_of(c->segments[prev].offset, c->segments[prev].filesz)));
		prev = i;
	}
	if (d->count != before)
		return;
	/* Kernel cores put the notes before the segments' bytes, gdb's after:
	 * either way no segment shares them. A core has one PT_NOTE; a table
	 * of thousands is damage that the first few already show. */
	unsigned notes = 0;
	for (uint64_t k = 0; k < phnum && notes < 8; k++) {
		const uint8_t *ph = c->data + phoff + k * sizeof(Elf64_Phdr);
		if (ch_le32(ph + offsetof(Elf64_Phdr, p_type)) != PT_NOTE)
			continue;
		notes++;
		uint64_t lo = ch_le64(ph + offsetof(Elf64_Phdr, p_offset));
		uint64_t hi = end_of(lo, ch_le64(ph + offsetof(Elf64_Phdr, p_filesz)));
		for (size_t i = 0; i < c->nsegments; i++) {
			const struct ch_core_segment *s = &c->segments[i];
			if (s->filesz && s->offset < hi && end_of(s->offset, s->filesz) > lo) {
				ch_segment_damage_add(d, "segment %zu (0x%llx) takes its bytes from the core's notes "
						      "(offset 0x%llx)", i, ull(s->vaddr), ull(s->offset));
				break;
			}
		}
	}
}

struct span {
	uint64_t start, end;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* NT_FILE lists the file mappings, one entry per mapping, and each
 * mapping the writer dumped is one segment: a segment that shares
 * addresses with a mapping spans exactly that mapping. (A writer may leave
 * a mapping out, as gdb's gcore does, so a mapping without a segment is
 * no damage.) Only for the kernel's and gdb's cores (NT_SIGINFO): qemu-user
 * writes no NT_FILE, and its segments may merge mappings (a test adds one). */
static struct ch_error *check_nt_file(const struct ch_core_file *c, bool kernel, struct ch_segment_damage *d)
{
	if (c->mapping_source != CH_MAPPINGS_NT_FILE || !c->nmappings || !c->have_siginfo)
		return NULL;
	struct span *maps = malloc(c->nmappings * sizeof(*maps));
	if (!maps)
		return &ch_error_nomem;
	size_t n = 0;
	for (size_t i = 0; i < c->nmappings; i++)
		if (c->mappings[i].end > c->mappings[i].start)
			maps[n++] = (struct span){c->mappings[i].start, c->mappings[i].end};
	qsort(maps, n, sizeof(*maps), span_cmp);
	for (size_t i = 0; i < c->nsegments; i++) {
		const struct ch_core_segment *s = &c->segments[i];
		uint64_t end = end_of(s->vaddr, s->memsz);
		if (s->vaddr == end)
			continue;
		/* The last mapping starting below the segment's end. */
		size_t a = 0, b = n;
		while (a < b) {
			size_t m = a + (b - a) / 2;
			if (maps[m].start < end)
				a = m + 1;
			else
				b = m;
		}
		if (a == 0)
			continue;
		const struct span *m = &maps[a - 1];
		bool exact = m->start == s->vaddr && m->end == end;
		/* Mappings that overlap each other are NT_FILE's own damage; an
		 * exact match among the few before is enough (a bounded look:
		 * thousands of overlapping entries would make it quadratic). */
		for (size_t k = a - 1; !exact && k > 0 && k + 16 > a && maps[k - 1].end > s->vaddr; k--)
			exact = maps[k - 1].start == s->vaddr && maps[k - 1].end == end;
		if (!exact && m->end > s->vaddr)
			ch_segment_damage_add(d, "segment %zu (0x%llx-0x%llx) overlaps the file mapping 0x%llx-0x%llx of NT_FILE "
					      "without matching it", i, ull(s->vaddr), ull(end), ull(m->start), ull(m->end));
		if (d->count > 64)
			break;
	}
	free(maps);
	if (!kernel || d->count)
		return NULL;
	/* The kernel writes a segment for every mapping, so each NT_FILE entry
	 * is exactly one (the segments are ascending here: no damage so far). */
	for (size_t i = 0; i < c->nmappings; i++) {
		const struct ch_core_mapping *m = &c->mappings[i];
		size_t a = 0, b = c->nsegments;
		while (a < b) {
			size_t k = a + (b - a) / 2;
			if (c->segments[k].vaddr < m->start)
				a = k + 1;
			else
				b = k;
		}
		if (a == c->nsegments || c->segments[a].vaddr != m->start ||
		    end_of(m->start, c->segments[a].memsz) != m->end) {
			ch_segment_damage_add(d, "no segment spans the file mapping 0x%llx-0x%llx of NT_FILE", ull(m->start),
					      ull(m->end));
			break;
		}
	}
	return NULL;
}

struct ch_error *ch_segments_check(const struct ch_core_file *core, struct ch_segment_damage *d)
{
	/* NT_FILE counts file offsets in pages when the kernel wrote the core,
	 * in bytes (page 1) when gdb did: the kernel's layout is stricter. */
	bool kernel = core->mapping_source == CH_MAPPINGS_NT_FILE && core->mapping_page > 1 && core->have_siginfo;
	check_addresses(core, d);
	check_file_ranges(core, kernel, d);
	return check_nt_file(core, kernel, d);
}

bool ch_segment_mapping_agrees(const struct ch_core_mapping *m, uint64_t bias, const struct ch_elf_segment *segs,
			       size_t n, uint64_t page)
{
	if (page < CHECK_PAGE)
		page = CHECK_PAGE;
	/* An ELF file has a handful of PT_LOADs; one with hundreds is not
	 * checked (this runs for every mapping of the file). */
	if (n > 256)
		return true;
	for (size_t i = 0; i < n; i++) {
		const struct ch_elf_segment *e = &segs[i];
		uint64_t lo = e->offset - e->offset % page;
		uint64_t hi = end_of(e->offset, e->filesz);
		if (m->file_offset < lo || m->file_offset >= hi)
			continue;
		/* Address minus file offset is the same at every byte of a
		 * segment's mapping (its first page included: p_vaddr and
		 * p_offset agree modulo the page). */
		if (m->start - m->file_offset == bias + e->vaddr - e->offset)
			return true;
	}
	return false;
}
