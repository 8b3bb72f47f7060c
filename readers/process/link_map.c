#include "readers/process/link_map.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/base/chain.h"
#include "readers/base/grow.h"
#include "readers/process/process.h"

/* struct r_debug and struct link_map of the public <link.h>, LP64: these
 * are the dynamic linker's ABI with debuggers (fixed since SVR4), the same
 * on every 64-bit glibc and musl target, so they are constants. */
enum {
	R_DEBUG_VERSION = 0, /* int r_version: 0 until ld.so has set it up */
	R_DEBUG_MAP = 8,     /* struct link_map *r_map */
	LM_ADDR = 0,         /* l_addr: load bias */
	LM_NAME = 8,         /* char *l_name: "" for the executable */
	LM_LD = 16,          /* l_ld: the object's dynamic section, in memory */
	LM_NEXT = 24,        /* l_next */
};

/* Bounds on what hostile memory can make us walk. */
enum {
	MAX_OBJECTS = 4096, /* link_map entries (a process has tens, hundreds at most) */
	MAX_PHNUM = 512,
	MAX_DYN = 8192,
	MAX_PATH_LEN = 4096,
};

struct seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

/* The records being built. Paths are offsets into names until the end,
 * since names moves as it grows. */
struct builder {
	struct ch_core_mapping *maps;
	size_t *name_at;
	size_t n, maps_cap, name_at_cap;
	char *names;
	size_t names_len, names_cap;
	size_t objects;
	uint64_t page;
};

static void problem(struct ch_core_file *core, const char *fmt, ...) CH_PRINTF(2, 3);
static void problem(struct ch_core_file *core, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(core->mapping_problem, sizeof(core->mapping_problem), fmt, ap);
	va_end(ap);
}

static void parse_phdr(const uint8_t *p, struct seg *s)
{
	s->type = (uint32_t)ch_le32(p + offsetof(Elf64_Phdr, p_type));
	s->flags = (uint32_t)ch_le32(p + offsetof(Elf64_Phdr, p_flags));
	s->offset = ch_le64(p + offsetof(Elf64_Phdr, p_offset));
	s->vaddr = ch_le64(p + offsetof(Elf64_Phdr, p_vaddr));
	s->filesz = ch_le64(p + offsetof(Elf64_Phdr, p_filesz));
	s->memsz = ch_le64(p + offsetof(Elf64_Phdr, p_memsz));
}

/* Up to max program headers at addr in the dumped memory; false if any is
 * unreadable. */
static bool read_phdrs(struct ch_address_space *as, uint64_t addr, uint64_t phnum, struct seg *out, size_t *n)
{
	*n = 0;
	if (phnum > MAX_PHNUM)
		return false;
	for (uint64_t i = 0; i < phnum; i++) {
		uint8_t p[sizeof(Elf64_Phdr)];
		struct ch_error *err = ch_as_read(as, addr + i * sizeof(p), p, sizeof(p));
		if (err) {
			ch_error_free(err);
			return false;
		}
		parse_phdr(p, &out[(*n)++]);
	}
	return true;
}

/* The program headers of the object whose ELF header the process has at
 * addr, when that page was dumped (qemu and the kernel dump it, the kernel
 * for exactly this purpose). */
static bool header_phdrs(struct ch_address_space *as, uint64_t addr, struct seg *out, size_t *n)
{
	uint8_t eh[sizeof(Elf64_Ehdr)];
	struct ch_error *err = ch_as_read(as, addr, eh, sizeof(eh));
	if (err) {
		ch_error_free(err);
		return false;
	}
	if (memcmp(eh, ELFMAG, SELFMAG) != 0 || eh[EI_CLASS] != ELFCLASS64 ||
	    ch_le16(eh + offsetof(Elf64_Ehdr, e_phentsize)) != sizeof(Elf64_Phdr))
		return false;
	uint64_t phoff = ch_le64(eh + offsetof(Elf64_Ehdr, e_phoff));
	if (phoff > 1 << 20)
		return false;
	return read_phdrs(as, addr + phoff, ch_le16(eh + offsetof(Elf64_Ehdr, e_phnum)), out, n);
}

/* The program headers and entry point of the executable file itself, for
 * a core that lacks the pages holding them (qemu-user skips a mapping
 * whose first page is an ELF header when it is read-only and executable,
 * as every aarch64 object Debian builds is): found like any module (its
 * recorded path, --exe, --sysroot, --lib-search-path). */
static bool file_phdrs(struct ch_process *proc, const char *path, struct seg *out, size_t *n, uint64_t *entry)
{
	*n = 0;
	struct ch_module mod = {.path = path, .is_main = true};
	struct ch_error *err = ch_module_locate(proc, &mod);
	bool ok = false;
	if (!err && mod.status == CH_MODULE_OK) {
		const uint8_t *d = mod.elf->data;
		size_t size = mod.elf->size;
		if (size >= sizeof(Elf64_Ehdr) && ch_le16(d + offsetof(Elf64_Ehdr, e_phentsize)) == sizeof(Elf64_Phdr)) {
			uint64_t phoff = ch_le64(d + offsetof(Elf64_Ehdr, e_phoff));
			uint64_t phnum = ch_le16(d + offsetof(Elf64_Ehdr, e_phnum));
			*entry = ch_le64(d + offsetof(Elf64_Ehdr, e_entry));
			ok = phnum <= MAX_PHNUM && phoff <= size && phnum * sizeof(Elf64_Phdr) <= size - phoff;
			for (uint64_t i = 0; ok && i < phnum; i++) {
				parse_phdr(d + phoff + i * sizeof(Elf64_Phdr), &out[(*n)++]);
			}
		}
	}
	ch_error_free(err);
	ch_elf_close(mod.elf);
	free(mod.disk_path);
	ch_error_free(mod.problem);
	return ok;
}

static void main_path(struct ch_process *proc, char *buf, size_t size);

/* Lowest PT_LOAD address, page-aligned, or 0 when there is none. */
static uint64_t lowest_load(const struct seg *s, size_t n, uint64_t page)
{
	uint64_t lo = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (s[i].type == PT_LOAD && s[i].vaddr < lo)
			lo = s[i].vaddr;
	return lo == UINT64_MAX ? 0 : lo & ~(page - 1);
}

/* Address of struct r_debug, from DT_DEBUG in the executable's dynamic
 * section (located through AT_PHDR), or 0 with core->mapping_problem set. */
static uint64_t find_r_debug(struct ch_process *proc)
{
	struct ch_core_file *core = proc->core;
	if (!core->at_phdr || !core->at_phnum) {
		problem(core, "the core has no auxiliary vector with AT_PHDR and AT_PHNUM (no NT_AUXV note)");
		return 0;
	}
	struct seg ph[MAX_PHNUM];
	size_t n;
	uint64_t entry = 0;
	bool from_file = false;
	if (!read_phdrs(&proc->as, core->at_phdr, core->at_phnum, ph, &n)) {
		char path[MAX_PATH_LEN];
		main_path(proc, path, sizeof(path));
		if (!path[0] || !file_phdrs(proc, path, ph, &n, &entry)) {
			problem(core, "the executable's program headers (AT_PHDR 0x%llx, %llu of them) are not in the core, "
				      "and the executable file (%s) was not found: name it with --exe",
				(unsigned long long)core->at_phdr, (unsigned long long)core->at_phnum,
				path[0] ? path : "path unknown");
			return 0;
		}
		from_file = true;
	}
	uint64_t bias = 0, dyn = 0, dynsz = 0;
	bool have_phdr = false;
	for (size_t i = 0; i < n; i++) {
		if (ph[i].type == PT_PHDR) {
			bias = core->at_phdr - ph[i].vaddr;
			have_phdr = true;
		} else if (ph[i].type == PT_DYNAMIC) {
			dyn = ph[i].vaddr;
			dynsz = ph[i].memsz;
		}
	}
	if (!dynsz) {
		problem(core, "the executable has no dynamic section (statically linked): no link map to read");
		return 0;
	}
	if (!have_phdr && from_file && core->at_entry) {
		/* The file's entry point against the process's (AT_ENTRY). */
		bias = core->at_entry - entry;
		have_phdr = true;
	}
	if (!have_phdr && core->at_phdr != lowest_load(ph, n, 1) + sizeof(Elf64_Ehdr)) {
		/* Without PT_PHDR the headers sit right after the ELF header of
		 * an executable that is not position-independent. */
		problem(core, "the executable's program headers have no PT_PHDR, so its load address is unknown");
		return 0;
	}
	for (uint64_t i = 0; i < dynsz / sizeof(Elf64_Dyn) && i < MAX_DYN; i++) {
		uint64_t tag, val;
		struct ch_error *err = ch_as_read_u64(&proc->as, bias + dyn + i * sizeof(Elf64_Dyn), &tag);
		if (!err)
			err = ch_as_read_u64(&proc->as, bias + dyn + i * sizeof(Elf64_Dyn) + 8, &val);
		if (err) {
			problem(core, "the executable's dynamic section at 0x%llx is not in the core",
				(unsigned long long)(bias + dyn));
			ch_error_free(err);
			return 0;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_DEBUG) {
			if (!val)
				problem(core, "DT_DEBUG is 0: the dynamic linker had not yet set up its r_debug");
			return val;
		}
	}
	problem(core, "the executable's dynamic section has no DT_DEBUG entry");
	return 0;
}

/* Each record's path is the offset name_at of its name in b->names. */
static struct ch_error *add_record(struct builder *b, uint64_t start, uint64_t end, uint64_t offset, size_t name_at)
{
	struct ch_error *err = ch_grow((void **)&b->maps, &b->maps_cap, b->n + 1, sizeof(*b->maps));
	if (!err)
		err = ch_grow((void **)&b->name_at, &b->name_at_cap, b->n + 1, sizeof(*b->name_at));
	if (err)
		return err;
	b->maps[b->n] = (struct ch_core_mapping){.start = start, .end = end, .file_offset = offset};
	b->name_at[b->n++] = name_at;
	return NULL;
}

static struct ch_error *add_name(struct builder *b, const char *name, size_t *at)
{
	size_t len = strlen(name) + 1;
	struct ch_error *err = ch_grow((void **)&b->names, &b->names_cap, b->names_len + len, 1);
	if (err)
		return err;
	memcpy(b->names + b->names_len, name, len);
	*at = b->names_len;
	b->names_len += len;
	return NULL;
}

/* The records NT_FILE would hold for one object: each PT_LOAD with file
 * bytes, moved by l_addr, the mapping the kernel made of it (whole pages
 * from the page-aligned file offset; the zero-filled rest is anonymous).
 * The segments come from the file when it was found and is the build the
 * process ran, else from the program headers in the dumped memory; with
 * neither, the header page alone, so that the module still appears and
 * names the file that is missing. */
static struct ch_error *add_object(struct ch_process *proc, struct builder *b, const char *name, uint64_t l_addr,
				   uint64_t l_ld, bool is_main)
{
	struct seg mem[MAX_PHNUM];
	size_t nmem = 0;
	struct ch_core_file *core = proc->core;
	bool have_mem = is_main ? read_phdrs(&proc->as, core->at_phdr, core->at_phnum, mem, &nmem)
				: header_phdrs(&proc->as, l_addr, mem, &nmem);
	uint64_t start = l_addr + (have_mem ? lowest_load(mem, nmem, b->page) : 0);
	struct ch_module mod = {.path = name, .is_main = is_main, .start = start, .end = start + b->page};
	ch_module_read_core_build_id(proc, &mod);
	struct ch_error *err = ch_module_locate(proc, &mod);
	if (err)
		return err;
	size_t at;
	if ((err = add_name(b, name, &at)))
		goto out;
	b->objects++;
	const struct ch_elf_file *ef = mod.status == CH_MODULE_OK ? mod.elf : NULL;
	uint64_t dyn_addr, dyn_size;
	const uint8_t *dyn_bytes;
	struct ch_error *derr = ef ? ch_elf_section(mod.elf, ".dynamic", &dyn_addr, &dyn_size, &dyn_bytes) : NULL;
	if (ef && !derr && l_ld && dyn_addr + l_addr != l_ld)
		ef = NULL; /* its dynamic section is not where the process had it: another file */
	ch_error_free(derr);
	size_t before = b->n;
	size_t nseg = ef ? ef->nsegments : nmem;
	for (size_t i = 0; i < nseg && !err; i++) {
		uint64_t vaddr = ef ? ef->segments[i].vaddr : mem[i].vaddr;
		uint64_t filesz = ef ? ef->segments[i].filesz : mem[i].filesz;
		uint64_t offset = ef ? ef->segments[i].offset : mem[i].offset;
		if ((!ef && mem[i].type != PT_LOAD) || !filesz)
			continue;
		uint64_t lo = l_addr + vaddr, hi = lo + filesz;
		if (lo < l_addr || hi < lo || hi > UINT64_MAX - b->page)
			continue; /* hostile numbers: no mapping wraps the address space */
		err = add_record(b, lo & ~(b->page - 1), ch_align_up(hi, b->page), offset & ~(b->page - 1), at);
	}
	if (!err && b->n == before)
		err = add_record(b, start, start + b->page, 0, at);
out:
	ch_elf_close(mod.elf);
	free(mod.disk_path);
	ch_error_free(mod.problem);
	return err;
}

/* The executable's path: AT_EXECFN (the name execve was given) when it is
 * absolute, else the first word of the command line, else --exe; a path
 * that is still relative is kept, so info shows what is known. */
static void main_path(struct ch_process *proc, char *buf, size_t size)
{
	struct ch_core_file *core = proc->core;
	buf[0] = '\0';
	bool cut;
	struct ch_error *err = core->at_execfn ? ch_as_read_cstr(&proc->as, core->at_execfn, buf, size, &cut) : NULL;
	if (err) {
		ch_error_free(err);
		buf[0] = '\0';
	}
	if (buf[0] == '/')
		return;
	if (core->have_psinfo && core->psargs[0] == '/') {
		size_t len = strcspn(core->psargs, " ");
		snprintf(buf, size, "%.*s", (int)len, core->psargs);
		return;
	}
	if (proc->opts.exe)
		snprintf(buf, size, "%s", proc->opts.exe);
	else if (!buf[0] && core->have_psinfo)
		snprintf(buf, size, "%s", core->fname);
}

static struct ch_error *walk(struct ch_process *proc, struct builder *b, uint64_t r_debug)
{
	struct ch_core_file *core = proc->core;
	uint32_t version;
	uint64_t lm;
	struct ch_error *err = ch_as_read_u32(&proc->as, r_debug + R_DEBUG_VERSION, &version);
	if (!err)
		err = ch_as_read_u64(&proc->as, r_debug + R_DEBUG_MAP, &lm);
	if (err) {
		problem(core, "the dynamic linker's r_debug at 0x%llx is not in the core", (unsigned long long)r_debug);
		ch_error_free(err);
		return NULL;
	}
	if (version == 0 || lm == 0) {
		problem(core, "the dynamic linker's r_debug at 0x%llx is not set up yet (r_version %u)",
			(unsigned long long)r_debug, version);
		return NULL;
	}
	char *name = malloc(MAX_PATH_LEN);
	if (!name)
		return &ch_error_nomem;
	struct ch_chain chain;
	ch_chain_init(&chain, MAX_OBJECTS);
	for (size_t n = 0; lm && !err; n++) {
		enum ch_chain_step step = ch_chain_step(&chain, lm);
		if (step != CH_CHAIN_OK) {
			/* Brent's check notices a loop within twice its length:
			 * objects met again meanwhile add records that repeat. */
			problem(core, "the link map of r_debug 0x%llx %s; the objects before that point are used",
				(unsigned long long)r_debug,
				step == CH_CHAIN_LOOP ? "loops" : "has more than 4096 entries");
			break;
		}
		uint64_t l_addr, l_name, l_ld, l_next;
		bool cut = false;
		err = ch_as_read_u64(&proc->as, lm + LM_ADDR, &l_addr);
		if (!err)
			err = ch_as_read_u64(&proc->as, lm + LM_NAME, &l_name);
		if (!err)
			err = ch_as_read_u64(&proc->as, lm + LM_LD, &l_ld);
		if (!err)
			err = ch_as_read_u64(&proc->as, lm + LM_NEXT, &l_next);
		if (!err && l_name)
			err = ch_as_read_cstr(&proc->as, l_name, name, MAX_PATH_LEN, &cut);
		if (err) {
			problem(core, "link map entry %zu at 0x%llx is not in the core; the objects before it are used", n,
				(unsigned long long)lm);
			ch_error_free(err);
			err = NULL;
			break;
		}
		if (n == 0)
			main_path(proc, name, MAX_PATH_LEN);
		else if (!l_name || cut)
			name[0] = '\0';
		/* The vDSO ("linux-vdso.so.1") and other names that are not
		 * paths have no file, as NT_FILE has no entry for them. */
		if (name[0] == '/' || (n == 0 && name[0]))
			err = add_object(proc, b, name, l_addr, l_ld, n == 0);
		lm = l_next;
	}
	free(name);
	return err;
}

struct ch_error *ch_mappings_from_link_map(struct ch_process *proc)
{
	struct ch_core_file *core = proc->core;
	core->mapping_problem[0] = '\0';
	uint64_t page = core->at_pagesz;
	struct builder b = {.page = page >= 4096 && page <= (1u << 20) && !(page & (page - 1)) ? page : 4096};
	uint64_t r_debug = find_r_debug(proc);
	struct ch_error *err = r_debug ? walk(proc, &b, r_debug) : NULL;
	if (!err && b.n) {
		for (size_t i = 0; i < b.n; i++)
			b.maps[i].path = b.names + b.name_at[i];
		free(core->mappings);
		core->mappings = b.maps;
		core->nmappings = b.n;
		core->mapping_names = b.names;
		core->mapping_source = CH_MAPPINGS_LINK_MAP;
		core->link_map_objects = b.objects;
		b.maps = NULL;
		b.names = NULL;
	} else if (!err && !core->mapping_problem[0]) {
		problem(core, "the dynamic linker's link map names no files");
	}
	free(b.maps);
	free(b.name_at);
	free(b.names);
	return err;
}
