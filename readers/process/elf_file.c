#include "readers/process/elf_file.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers/base/bytes.h"
#include "readers/process/core_arch.h"
#include "readers/process/symbol_name.h"

#define PAGE_SIZE_ASSUMED 4096

bool ch_notes_find_build_id(const uint8_t *notes, size_t size, const uint8_t **id, size_t *len)
{
	size_t off = 0;
	while (off + 12 <= size) {
		uint64_t namesz = ch_le32(notes + off), descsz = ch_le32(notes + off + 4);
		uint32_t type = ch_le32(notes + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ch_align_up(namesz, 4);
		if (desc_off > size || descsz > size - desc_off)
			return false;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(notes + name_off, "GNU", 4) == 0 &&
		    descsz > 0 && descsz <= 64) {
			*id = notes + desc_off;
			*len = descsz;
			return true;
		}
		off = desc_off + ch_align_up(descsz, 4);
	}
	return false;
}

void ch_build_id_hex(const uint8_t *id, size_t len, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	if (len > 64)
		len = 64;
	for (size_t i = 0; i < len; i++) {
		buf[2 * i] = hex[id[i] >> 4];
		buf[2 * i + 1] = hex[id[i] & 15];
	}
	buf[2 * len] = '\0';
}

static struct ch_error *scan_sections(struct ch_elf_file *ef, Elf *elf)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL; /* no section headers: fine for our purposes */
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (strcmp(name, ".debug_info") == 0 && sh.sh_type != SHT_NOBITS) {
			ef->has_debug_info = true;
			/* Elf64_Chdr.ch_type, read raw: libelf may not know the newer types. */
			if ((sh.sh_flags & SHF_COMPRESSED) && sh.sh_offset <= ef->size && ef->size - sh.sh_offset >= 4)
				ef->debug_compression = ch_le32(ef->data + sh.sh_offset);
		}
		if (sh.sh_type == SHT_NOTE && ef->build_id_len == 0) {
			Elf_Data *d = elf_getdata(scn, NULL);
			const uint8_t *id;
			size_t len;
			if (d && d->d_buf && ch_notes_find_build_id(d->d_buf, d->d_size, &id, &len)) {
				memcpy(ef->build_id, id, len);
				ef->build_id_len = len;
			}
		}
		/* The first .gnu_debuglink counts (a file may hold several). */
		if (strcmp(name, ".gnu_debuglink") == 0 && sh.sh_type != SHT_NOBITS && !ef->debuglink) {
			Elf_Data *d = elf_getdata(scn, NULL);
			if (d && d->d_buf && d->d_size >= 8) {
				const char *s = d->d_buf;
				size_t n = strnlen(s, d->d_size);
				size_t crc_off = ch_align_up(n + 1, 4);
				if (n > 0 && n < d->d_size && crc_off + 4 <= d->d_size) {
					ef->debuglink = strndup(s, n);
					if (!ef->debuglink)
						return &ch_error_nomem;
					ef->debuglink_crc = ch_le32((const uint8_t *)d->d_buf + crc_off);
				}
			}
		}
	}
	return NULL;
}

struct ch_error *ch_elf_open(const char *path, struct ch_elf_file **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(errno == ENOENT ? CH_ERR_NOT_FOUND : CH_ERR_INPUT, "%s: %s", path,
				    strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ch_error_new(CH_ERR_INPUT, "%s: not a regular file", path);
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: not an ELF file", path);
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return ch_error_new(CH_ERR_INPUT, "%s: cannot map: %s", path, strerror(errno));
	if (memcmp(map, ELFMAG, SELFMAG) != 0) {
		munmap(map, (size_t)st.st_size);
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: not an ELF file", path);
	}
	struct ch_elf_file *ef = calloc(1, sizeof(*ef));
	if (!ef) {
		munmap(map, (size_t)st.st_size);
		return &ch_error_nomem;
	}
	ef->data = map;
	ef->size = (size_t)st.st_size;
	ef->path = strdup(path);
	struct ch_error *err = NULL;
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)map, ef->size);
	ef->elf = elf;
	GElf_Ehdr eh;
	if (!ef->path) {
		err = &ch_error_nomem;
	} else if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		err = ch_error_new(CH_ERR_INPUT, "%s: malformed ELF file", path);
	} else if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
		   !ch_core_arch_find(eh.e_machine)) {
		err = ch_error_new(CH_ERR_UNSUPPORTED, "%s: not an x86_64 or aarch64 little-endian ELF64 file", path);
	} else {
		ef->type = eh.e_type;
		ef->machine = eh.e_machine;
		size_t phnum = 0;
		if (elf_getphdrnum(elf, &phnum) != 0)
			phnum = 0;
		ef->segments = calloc(phnum ? phnum : 1, sizeof(*ef->segments));
		if (!ef->segments)
			err = &ch_error_nomem;
		for (size_t i = 0; !err && i < phnum; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			struct ch_elf_segment *s = &ef->segments[ef->nsegments++];
			s->vaddr = ph.p_vaddr;
			s->memsz = ph.p_memsz;
			s->offset = ph.p_offset;
			s->filesz = ph.p_filesz;
			s->flags = ph.p_flags;
		}
		if (!err)
			err = scan_sections(ef, elf);
	}
	if (err) {
		ch_elf_close(ef);
		return err;
	}
	*out = ef;
	return NULL;
}

void ch_elf_close(struct ch_elf_file *ef)
{
	if (!ef)
		return;
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->data)
		munmap((void *)ef->data, ef->size);
	free(ef->segments);
	free(ef->debuglink);
	free(ef->path);
	free(ef);
}

/* A symbol search: by name (name != NULL), else the data or function
 * symbols whose [value, value + size) holds addr. Candidates are ranked by
 * the rule of readers/process/symbol_name.h: an exact name ends the
 * search; renames (by name) and covering symbols (by address) of lower
 * rank are remembered while it goes on. */
struct sym_query {
	const char *name;
	size_t name_len;
	uint64_t addr;
	bool found;
	GElf_Sym sym;
	const char *sym_name;
	enum ch_symbol_variant rank; /* of the remembered candidate */
	size_t renames;              /* by name: renames at distinct addresses */
	const char *other_name;      /* by name: a second one of them */
};

/* Whether sym (named s) answers the query, and at which rank. */
static bool sym_candidate(const struct sym_query *q, const GElf_Sym *sym, const char *s,
			  enum ch_symbol_variant *rank)
{
	if (!s || !*s)
		return false;
	if (q->name) {
		if (strncmp(s, q->name, q->name_len) != 0)
			return false;
		if (!s[q->name_len]) {
			*rank = CH_SYMBOL_EXACT;
			return true;
		}
		size_t base = ch_symbol_base_len(s, rank);
		return base == q->name_len && *rank != CH_SYMBOL_PART;
	}
	int type = GELF_ST_TYPE(sym->st_info);
	if (!((type == STT_OBJECT || type == STT_FUNC || type == STT_TLS) && q->addr >= sym->st_value &&
	      q->addr - sym->st_value < (sym->st_size ? sym->st_size : 1)))
		return false;
	ch_symbol_base_len(s, rank);
	return true;
}

/* Returns true when the search is over (an exact match). */
static bool scan_symtab(Elf *elf, Elf_Scn *scn, struct sym_query *q)
{
	GElf_Shdr sh;
	if (!gelf_getshdr(scn, &sh) || sh.sh_entsize == 0)
		return false;
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d)
		return false;
	size_t n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(d, (int)i, &sym))
			break;
		if (sym.st_shndx == SHN_UNDEF)
			continue;
		const char *s = elf_strptr(elf, sh.sh_link, sym.st_name);
		enum ch_symbol_variant rank;
		if (!sym_candidate(q, &sym, s, &rank))
			continue;
		if (q->name && rank == CH_SYMBOL_RENAMED && q->found) {
			/* the same rename seen twice (.dynsym and .symtab), or
			 * two static objects of that name */
			if (sym.st_value != q->sym.st_value) {
				q->renames++;
				q->other_name = s;
			}
			continue;
		}
		if (!q->found || rank < q->rank) {
			q->found = true;
			q->sym = sym;
			q->sym_name = s;
			q->rank = rank;
			q->renames = rank == CH_SYMBOL_RENAMED;
		}
		if (rank == CH_SYMBOL_EXACT)
			return true;
	}
	return false;
}

static bool find_symbol(struct ch_elf_file *ef, struct sym_query *q)
{
	Elf *elf = ef->elf;
	static const Elf64_Word kinds[] = {SHT_DYNSYM, SHT_SYMTAB};
	for (size_t k = 0; k < 2; k++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (gelf_getshdr(scn, &sh) && sh.sh_type == kinds[k] && scan_symtab(elf, scn, q))
				return true;
		}
	}
	return q->found;
}

struct ch_error *ch_elf_symbol(struct ch_elf_file *ef, const char *name, uint64_t *value, uint64_t *size)
{
	struct sym_query q = {.name = name, .name_len = strlen(name)};
	if (!find_symbol(ef, &q))
		return ch_error_new(CH_ERR_NOT_FOUND, "%s: no symbol %s", ef->path, name);
	if (q.rank == CH_SYMBOL_RENAMED && q.renames > 1)
		return ch_error_new(CH_ERR_NOT_FOUND, "%s: no symbol %s, and %zu local ones of that name (%s, %s, ...)",
				    ef->path, name, q.renames, q.sym_name, q.other_name);
	*value = q.sym.st_value;
	if (size)
		*size = q.sym.st_size;
	return NULL;
}

struct ch_error *ch_elf_file_local_symbol(struct ch_elf_file *ef, const char *file, const char *name, uint64_t *value,
					  uint64_t *size)
{
	Elf *elf = ef->elf;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t n = sh.sh_size / sh.sh_entsize;
		bool inside = false;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym))
				break;
			const char *s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (GELF_ST_TYPE(sym.st_info) == STT_FILE) {
				const char *base = s ? strrchr(s, '/') : NULL;
				inside = s && strcmp(base ? base + 1 : s, file) == 0;
				continue;
			}
			if (!inside || GELF_ST_BIND(sym.st_info) != STB_LOCAL || sym.st_shndx == SHN_UNDEF || !s)
				continue;
			if (strcmp(s, name) == 0) {
				*value = sym.st_value;
				if (size)
					*size = sym.st_size;
				return NULL;
			}
		}
	}
	return ch_error_new(CH_ERR_NOT_FOUND, "%s: no static symbol %s of %s", ef->path, name, file);
}

bool ch_elf_symbol_at(struct ch_elf_file *ef, uint64_t vaddr, char *name, size_t n, uint64_t *offset)
{
	struct sym_query q = {.addr = vaddr};
	if (!find_symbol(ef, &q))
		return false;
	*offset = vaddr - q.sym.st_value;
	ch_symbol_display_name(q.sym_name, name, n);
	return true;
}

struct ch_error *ch_elf_section(struct ch_elf_file *ef, const char *name, uint64_t *addr, uint64_t *size,
				const uint8_t **bytes)
{
	Elf *elf = ef->elf;
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh))
				continue;
			const char *s = elf_strptr(elf, shstrndx, sh.sh_name);
			if (!s || strcmp(s, name) != 0)
				continue;
			if (addr)
				*addr = sh.sh_addr;
			if (size)
				*size = sh.sh_size;
			if (bytes) {
				bool inside = sh.sh_offset <= ef->size && sh.sh_size <= ef->size - sh.sh_offset;
				*bytes = sh.sh_type == SHT_NOBITS || !inside ? NULL : ef->data + sh.sh_offset;
			}
			return NULL;
		}
	}
	return ch_error_new(CH_ERR_NOT_FOUND, "%s: no section %s", ef->path, name);
}

const uint8_t *ch_elf_vaddr_bytes(const struct ch_elf_file *ef, uint64_t vaddr, size_t len)
{
	for (size_t i = 0; i < ef->nsegments; i++) {
		const struct ch_elf_segment *s = &ef->segments[i];
		if (vaddr < s->vaddr || vaddr - s->vaddr >= s->filesz)
			continue;
		uint64_t off = vaddr - s->vaddr;
		/* No sum of file-supplied values may wrap: a hostile filesz would
		 * turn offset + off into a small, in-bounds (wrong) offset. */
		if (len > s->filesz - off || s->offset > ef->size || off > ef->size - s->offset ||
		    len > ef->size - s->offset - off)
			return NULL;
		return ef->data + s->offset + off;
	}
	return NULL;
}

uint64_t ch_elf_base_vaddr(const struct ch_elf_file *ef)
{
	uint64_t lo = UINT64_MAX;
	for (size_t i = 0; i < ef->nsegments; i++)
		if (ef->segments[i].vaddr < lo)
			lo = ef->segments[i].vaddr;
	return lo == UINT64_MAX ? 0 : lo & ~(uint64_t)(PAGE_SIZE_ASSUMED - 1);
}
