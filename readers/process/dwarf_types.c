/* Struct layouts from DWARF via libdwarf (see dwarf_types.h for the contract).
 *
 * Design: lazy, resumable indexing. Opening a file only positions the walk on
 * the first unit (libdwarf then holds .debug_info and .debug_abbrev in memory,
 * decompressed if they were zlib-compressed; that load is most of the ~5-15 ms
 * an open of libpython costs). A lookup of a name not yet indexed walks units
 * in order and, inside each, only the top-level DIEs (children of the unit
 * DIE); dwarf_siblingof_b skips whole subtrees via DW_AT_sibling, so function
 * bodies are never entered. Every named struct/union/enum definition and every
 * typedef/base type seen on the way is put in a hash table (first one wins),
 * and the walk stops as soon as the requested name appears. The next miss
 * resumes where the previous walk stopped, so over a run each top-level DIE is
 * looked at at most once, and a run whose types all live in the first few
 * units never walks the rest of .debug_info. (A libdwarf walk costs ~0.3 us
 * per top-level DIE: a full walk of libpython 3.13, 240k top-level DIEs in
 * 175 units, takes ~70 ms, so a hand-written .debug_info scanner was not
 * worth its risk.)
 *
 * Results of ch_dwarf_member / ch_dwarf_array_length / ch_dwarf_type_size are
 * cached per (type name, path), including "not found" answers, so the
 * product's repeated queries cost one hash probe.
 *
 * Robustness: every libdwarf return code is checked and every error turned
 * into a struct ch_error; all chains (typedefs, anonymous members, array
 * dimensions, location expressions) are bounded; DIE walks require strictly
 * increasing offsets so a corrupt DW_AT_sibling cannot make a loop. What this
 * reader cannot defend against is a crash inside libdwarf itself on hostile
 * input (20210528 predates several fuzzing fixes of the 0.x series).
 *
 * libdwarf versions: the calls whose signatures differ between releases are
 * wrapped in dwarf_die.c.
 *
 * Files (shared declarations in dwarf_internal.h):
 *   dwarf_types.c        this overview; ch_dwarf_open (ELF check, zstd
 *                        inflation, first unit) and ch_dwarf_close
 *   dwarf_die.c          libdwarf compatibility; checked DIE/attribute readers
 *   dwarf_map.c          string arena and hash maps behind every cache
 *   dwarf_index.c        lazy index of top-level names, damage bookkeeping
 *   dwarf_type_resolve.c typedef/qualifier chasing, declaration -> definition,
 *                        arrays, sizes
 *   dwarf_member.c       member locations and search by name
 *   dwarf_path.c         member paths, answer cache, the layout queries
 *   dwarf_enum.c         enumerators
 */
#include "readers/process/dwarf_internal.h"
#include "readers/process/elf_inflate.h"
#include "readers/base/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The range and location list tables of DWARF 5 (.debug_rnglists,
 * .debug_loclists): a sequence of units, each a header (unit_length,
 * version 5, address size 4 or 8, segment selector size 0, offset entry
 * count) whose offset array fits in the unit. libdwarf 20210528 loads
 * them along with .debug_info and frees memory twice on a malformed
 * header (fuzz_dwarf: a unit_length of 0), though coreheap never uses
 * them, so such a table is refused here. Compressed tables are left to
 * libdwarf. */
static struct ch_error *check_list_table(const uint8_t *p, uint64_t n, const char *name, const char *path)
{
	uint64_t at = 0;
	while (at < n) {
		uint64_t len, hdr = 4, offsz = 4;
		if (n - at < 4)
			goto bad;
		len = ch_le32(p + at);
		if (len == 0xffffffffu) {
			if (n - at < 12)
				goto bad;
			len = ch_le64(p + at + 4);
			hdr = 12;
			offsz = 8;
		} else if (len >= 0xfffffff0u) {
			goto bad;
		}
		if (len < 8 || len > n - at - hdr)
			goto bad;
		const uint8_t *u = p + at + hdr;
		uint64_t count = ch_le32(u + 4);
		if (ch_le16(u) != 5 || (u[2] != 4 && u[2] != 8) || u[3] != 0 || count > (len - 8) / offsz)
			goto bad;
		at += hdr + len;
	}
	return NULL;
bad:
	return ch_error_new(CH_ERR_INPUT, "%s: %s is malformed (unit at offset 0x%llx): damaged debug information",
			    path, name, (unsigned long long)at);
}

/* Every section with file bytes must lie inside the file, and the DWARF 5
 * list tables must be well formed (check_list_table). libdwarf 20210528
 * allocates what a section header claims before it looks at the file (a
 * damaged SHT_GROUP of 0x9a00000000 bytes was found by fuzz_dwarf), so
 * such a file is refused here. ELF64 little-endian only: the files
 * coreheap reads; others are left to libdwarf. */
static struct ch_error *check_sections(int fd, uint64_t size, const unsigned char *ident, const char *path)
{
	if (ident[4] != 2 || ident[5] != 1)
		return NULL;
	unsigned char eh[64];
	if (pread(fd, eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return ch_error_new(CH_ERR_INPUT, "%s: ELF header is truncated", path);
	uint64_t shoff = ch_le64(eh + 0x28);
	uint16_t shentsize = ch_le16(eh + 0x3a);
	uint64_t shnum = ch_le16(eh + 0x3c), shstrndx = ch_le16(eh + 0x3e);
	if (shoff == 0)
		return NULL;
	if (shentsize != 64 || shoff > size || size - shoff < 64)
		return ch_error_new(CH_ERR_INPUT, "%s: section header table lies outside the file", path);
	if (shnum == 0) { /* extended numbering: the count is section 0's sh_size */
		unsigned char sh0[64];
		if (pread(fd, sh0, sizeof(sh0), (off_t)shoff) != (ssize_t)sizeof(sh0))
			return ch_error_new(CH_ERR_INPUT, "%s: cannot read section 0", path);
		shnum = ch_le64(sh0 + 0x20);
	}
	if (shnum > (size - shoff) / 64)
		return ch_error_new(CH_ERR_INPUT, "%s: section header table lies outside the file", path);
	/* Mapped: only the pages of the headers and the checked tables are read. */
	uint8_t *img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		return ch_error_new(CH_ERR_INPUT, "%s: cannot map the file: %s", path, strerror(errno));
	struct ch_error *err = NULL;
	const uint8_t *shtab = img + shoff, *names = NULL;
	uint64_t names_len = 0;
	if (!err && shstrndx < shnum) {
		const uint8_t *st = shtab + 64 * shstrndx;
		uint64_t off = ch_le64(st + 0x18), len = ch_le64(st + 0x20);
		if (off <= size && len <= size - off) {
			names = img + off;
			names_len = len;
		}
	}
	for (uint64_t i = 0; !err && i < shnum; i++) {
		const uint8_t *sh = shtab + 64 * i;
		uint32_t type = ch_le32(sh + 4);
		uint64_t flags = ch_le64(sh + 8), off = ch_le64(sh + 0x18), len = ch_le64(sh + 0x20);
		if (type == 8 /* SHT_NOBITS */ || type == 0)
			continue;
		if (off > size || len > size - off) {
			err = ch_error_new(CH_ERR_INPUT,
					   "%s: section %llu (offset 0x%llx, size 0x%llx) lies outside the file "
					   "(%llu bytes): damaged file",
					   path, (unsigned long long)i, (unsigned long long)off, (unsigned long long)len,
					   (unsigned long long)size);
			break;
		}
		uint32_t name = ch_le32(sh);
		if (!names || name >= names_len || (flags & 0x800 /* SHF_COMPRESSED */))
			continue;
		const char *nm = (const char *)names + name;
		size_t room = (size_t)(names_len - name);
		if (strnlen(nm, room) < room &&
		    (strcmp(nm, ".debug_rnglists") == 0 || strcmp(nm, ".debug_loclists") == 0))
			err = check_list_table(img + off, len, nm, path);
	}
	munmap(img, size);
	return err;
}

struct ch_error *ch_dwarf_open(const char *path, struct ch_dwarf **out)
{
	if (!path || !out)
		return ch_error_new(CH_ERR_USAGE, "ch_dwarf_open: NULL argument");
	*out = NULL;

	/* Check for ELF ourselves: libdwarf also accepts Mach-O and PE, and
	 * its "no entry" answer does not distinguish "not an object file" from
	 * "no DWARF in it". */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(CH_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	unsigned char ident[16];
	ssize_t got = -1;
	int saved = 0;
	struct ch_error *serr = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		got = read(fd, ident, sizeof(ident));
		saved = errno;
		if (got == (ssize_t)sizeof(ident) && memcmp(ident, "\177ELF", 4) == 0)
			serr = check_sections(fd, (uint64_t)st.st_size, ident, path);
	} else {
		saved = errno ? errno : EINVAL;
	}
	close(fd);
	if (serr)
		return serr;
	if (got < 0)
		return ch_error_new(CH_ERR_INPUT, "cannot read %s: %s", path,
				    S_ISREG(st.st_mode) ? strerror(saved) : "not a regular file");
	if (got < (ssize_t)sizeof(ident) || memcmp(ident, "\177ELF", 4) != 0)
		return ch_error_new(CH_ERR_INPUT, "%s is not an ELF file", path);
	if (ident[5] != 1 && ident[5] != 2)
		return ch_error_new(CH_ERR_INPUT, "%s: bad ELF data encoding", path);

	struct ch_dwarf *dw = calloc(1, sizeof(*dw));
	if (!dw)
		return ch_dw_nomem();
	dw->big_endian = ident[5] == 2;
	dw->inflated_fd = -1;
	/* zstd sections: libdwarf reads an inflated copy instead. */
	char inflated[64];
	const char *dwarf_path = path;
	struct ch_error *ierr = ch_elf_inflate_zstd(path, &dw->inflated_fd);
	if (ierr) {
		free(dw);
		return ierr;
	}
	if (dw->inflated_fd >= 0) {
		snprintf(inflated, sizeof(inflated), "/proc/self/fd/%d", dw->inflated_fd);
		dwarf_path = inflated;
	}
	Dwarf_Error derr = NULL;
	int res = ch_dw_init(dwarf_path, &dw->dbg, &derr);
	if (res != DW_DLV_OK) {
		struct ch_error *err;
		if (res == DW_DLV_NO_ENTRY)
			err = ch_error_new(CH_ERR_NOT_FOUND, "%s has no DWARF debug information", path);
		else
			err = ch_error_prefix(ch_dw_error(NULL, derr, "reading DWARF"), "%s", path);
		if (dw->inflated_fd >= 0)
			close(dw->inflated_fd);
		free(dw);
		return err;
	}
	/* Fetch the first unit now: a file with, say, only .eh_frame or
	 * .debug_line opens fine in libdwarf but has no types. */
	struct ch_error *err = ch_dw_scan_next_unit(dw);
	if (!err && dw->scan_done) {
		if (dw->scan_damaged)
			err = ch_error_new(dw->scan_damage_kind, "%s: %s", path, dw->scan_damage_msg);
		else
			err = ch_error_new(CH_ERR_NOT_FOUND, "%s has no .debug_info", path);
	}
	if (err) {
		ch_dwarf_close(dw);
		return err;
	}
	*out = dw;
	return NULL;
}

void ch_dwarf_close(struct ch_dwarf *dw)
{
	if (!dw)
		return;
	ch_dw_die_free(dw->scan_die);
	if (dw->dbg)
		ch_dw_finish(dw->dbg);
	if (dw->inflated_fd >= 0)
		close(dw->inflated_fd);
	free(dw->types.slots);
	free(dw->resolved.slots);
	free(dw->members.slots);
	free(dw->enumerators.slots);
	free(dw->results);
	free(dw->enum_queue);
	ch_dw_arena_free(&dw->arena);
	free(dw);
}
