#include "readers/process/core_file.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers/base/bytes.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif

#ifndef NT_ARM_TLS
#define NT_ARM_TLS 0x401
#endif
#ifndef NT_ARM_PAC_MASK
#define NT_ARM_PAC_MASK 0x406
#endif

/* Layout of the kernel's struct elf_prstatus and elf_prpsinfo
 * (include/uapi/linux/elfcore.h): the fields before pr_reg and all of
 * prpsinfo are the same on x86_64 and aarch64 (LP64, 32-bit uid_t); the
 * registers and the size are the machine's (core_arch.h). These are ABI,
 * fixed since each port, so they are constants, not DWARF. */
enum {
	PRSTATUS_CURSIG = 12,
	PRSTATUS_PID = 32,
	PRSTATUS_REGS = 112,
	PRPSINFO_PID = 24,
	PRPSINFO_FNAME = 40,
	PRPSINFO_PSARGS = 56,
	PRPSINFO_SIZE = 136,
};

struct core_builder {
	struct ch_core_file *core;
	size_t cap_threads, cap_segments;
};

static struct ch_error *grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return NULL;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return &ch_error_nomem;
	*arr = p;
	*cap = ncap;
	return NULL;
}

static struct ch_error *parse_prstatus(struct core_builder *b, const uint8_t *d, uint64_t n)
{
	const struct ch_core_arch *a = b->core->arch;
	if (n < a->prstatus_size)
		return ch_error_new(CH_ERR_INPUT, "%s: NT_PRSTATUS note is %llu bytes, expected %u for %s",
				    b->core->path, (unsigned long long)n, a->prstatus_size, a->name);
	struct ch_core_file *c = b->core;
	struct ch_error *err = grow((void **)&c->threads, &b->cap_threads, c->nthreads, sizeof(*c->threads));
	if (err)
		return err;
	struct ch_core_thread *t = &c->threads[c->nthreads++];
	memset(t, 0, sizeof(*t));
	const uint8_t *regs = d + PRSTATUS_REGS;
	t->tid = (int32_t)ch_le32(d + PRSTATUS_PID);
	t->cursig = (int16_t)ch_le16(d + PRSTATUS_CURSIG);
	t->nregs = a->nregs;
	for (size_t i = 0; i < a->nregs && i < CH_CORE_NREGS; i++)
		t->regs[i] = ch_le64(regs + 8 * i);
	t->pc = t->regs[a->pc];
	t->sp = t->regs[a->sp];
	t->fp = t->regs[a->fp];
	t->tp = a->tp == CH_CORE_NO_REG ? 0 : t->regs[a->tp];
	t->pac_mask = a->default_pac_mask;
	return NULL;
}

/* The aarch64 notes that follow their thread's NT_PRSTATUS: NT_ARM_TLS
 * (TPIDR_EL0, then on newer kernels TPIDR2_EL0) and NT_ARM_PAC_MASK
 * (data_mask, insn_mask). */
static void parse_arm_note(struct ch_core_file *c, uint32_t type, const uint8_t *d, uint64_t n)
{
	if (!c->nthreads || c->arch->tp != CH_CORE_NO_REG)
		return;
	struct ch_core_thread *t = &c->threads[c->nthreads - 1];
	if (type == NT_ARM_TLS && n >= 8)
		t->tp = ch_le64(d);
	else if (type == NT_ARM_PAC_MASK && n >= 16)
		t->pac_mask = ch_le64(d + 8);
}

static void parse_prpsinfo(struct ch_core_file *c, const uint8_t *d, uint64_t n)
{
	if (n < PRPSINFO_SIZE)
		return;
	c->have_psinfo = true;
	c->pid = (int32_t)ch_le32(d + PRPSINFO_PID);
	memcpy(c->fname, d + PRPSINFO_FNAME, 16);
	c->fname[16] = '\0';
	memcpy(c->psargs, d + PRPSINFO_PSARGS, 80);
	c->psargs[80] = '\0';
	size_t len = strlen(c->psargs);
	while (len && c->psargs[len - 1] == ' ')
		c->psargs[--len] = '\0'; /* the kernel leaves a space after the last argument */
}

static void parse_auxv(struct ch_core_file *c, const uint8_t *d, uint64_t n)
{
	for (uint64_t i = 0; i + 16 <= n; i += 16) {
		uint64_t key = ch_le64(d + i), val = ch_le64(d + i + 8);
		if (key == AT_NULL)
			break;
		if (key == AT_PHDR)
			c->at_phdr = val;
		else if (key == AT_PHNUM)
			c->at_phnum = val;
		else if (key == AT_PAGESZ)
			c->at_pagesz = val;
		else if (key == AT_ENTRY)
			c->at_entry = val;
		else if (key == AT_BASE)
			c->at_base = val;
		else if (key == AT_EXECFN)
			c->at_execfn = val;
	}
}

/* NT_FILE: count, page size, count x {start, end, page offset}, then count
 * NUL-terminated names. Hostile counts are bounded by the note size. */
static struct ch_error *parse_file_note(struct ch_core_file *c, const uint8_t *d, uint64_t n)
{
	if (n < 16)
		return ch_error_new(CH_ERR_INPUT, "%s: NT_FILE note too short", c->path);
	uint64_t count = ch_le64(d), page = ch_le64(d + 8);
	if (count > (n - 16) / 24)
		return ch_error_new(CH_ERR_INPUT, "%s: NT_FILE note claims %llu mappings in %llu bytes",
				    c->path, (unsigned long long)count, (unsigned long long)n);
	/* The kernel writes its page size: a power of two; gdb's gcore writes
	 * 1 (its offsets count bytes). Any other value would put every file
	 * offset somewhere else in the files, and code read from there is
	 * garbage to whatever runs it. */
	if ((page < 512 && page != 1) || page > (1u << 30) || (page & (page - 1)))
		return ch_error_new(CH_ERR_INPUT, "%s: NT_FILE page size %llu is implausible", c->path,
				    (unsigned long long)page);
	c->mapping_page = page;
	c->mappings = calloc(count ? count : 1, sizeof(*c->mappings));
	if (!c->mappings)
		return &ch_error_nomem;
	const uint8_t *names = d + 16 + count * 24, *end = d + n;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *e = d + 16 + i * 24;
		const uint8_t *nul = names < end ? memchr(names, '\0', (size_t)(end - names)) : NULL;
		if (!nul)
			return ch_error_new(CH_ERR_INPUT, "%s: NT_FILE names are cut short", c->path);
		struct ch_core_mapping *m = &c->mappings[c->nmappings];
		m->start = ch_le64(e);
		m->end = ch_le64(e + 8);
		uint64_t pgoff = ch_le64(e + 16);
		if (m->end < m->start || pgoff > UINT64_MAX / page)
			return ch_error_new(CH_ERR_INPUT, "%s: NT_FILE entry %llu is malformed", c->path,
					    (unsigned long long)i);
		m->file_offset = pgoff * page;
		m->path = (const char *)names;
		names = nul + 1;
		c->nmappings++;
	}
	c->mapping_source = CH_MAPPINGS_NT_FILE;
	return NULL;
}

static struct ch_error *parse_notes(struct core_builder *b, const uint8_t *d, uint64_t n)
{
	struct ch_core_file *c = b->core;
	uint64_t off = 0;
	while (off + 12 <= n) {
		uint64_t namesz = ch_le32(d + off), descsz = ch_le32(d + off + 4);
		uint32_t type = ch_le32(d + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ch_align_up(namesz, 4);
		uint64_t next = desc_off + ch_align_up(descsz, 4);
		if (desc_off > n || descsz > n - desc_off) {
			c->truncated = c->notes_cut = true; /* a cut note ends the list; earlier notes stand */
			break;
		}
		const char *name = (const char *)d + name_off;
		const uint8_t *desc = d + desc_off;
		struct ch_error *err = NULL;
		if (namesz == 5 && memcmp(name, "CORE", 5) == 0) {
			if (type == NT_PRSTATUS)
				err = parse_prstatus(b, desc, descsz);
			else if (type == NT_PRPSINFO)
				parse_prpsinfo(c, desc, descsz);
			else if (type == NT_AUXV)
				parse_auxv(c, desc, descsz);
			else if (type == NT_FILE && !c->mappings)
				err = parse_file_note(c, desc, descsz);
			else if (type == NT_SIGINFO && descsz >= 4) {
				c->signo = (int32_t)ch_le32(desc);
				c->have_siginfo = true;
			}
		} else if (namesz == 6 && memcmp(name, "LINUX", 6) == 0 && (type == NT_ARM_TLS || type == NT_ARM_PAC_MASK)) {
			parse_arm_note(c, type, desc, descsz);
		}
		if (err)
			return err;
		off = next;
	}
	return NULL;
}

struct ch_error *ch_core_parse(const uint8_t *data, size_t size, const char *name,
			       struct ch_core_file **out)
{
	*out = NULL;
	if (size < 4 || memcmp(data, ELFMAG, SELFMAG) != 0)
		return ch_error_new(CH_ERR_INPUT, "%s: not an ELF file", name);
	if (size < sizeof(Elf64_Ehdr))
		return ch_error_new(CH_ERR_INPUT, "%s: truncated ELF header (%zu bytes)", name, size);
	if (data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB)
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: only 64-bit little-endian cores are supported", name);
	uint16_t type = ch_le16(data + offsetof(Elf64_Ehdr, e_type));
	uint16_t machine = ch_le16(data + offsetof(Elf64_Ehdr, e_machine));
	if (type != ET_CORE)
		return ch_error_new(CH_ERR_INPUT, "%s: ELF file is not a core dump (e_type %u)", name, type);
	const struct ch_core_arch *arch = ch_core_arch_find(machine);
	if (!arch) {
		char buf[32];
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: core is for %s; only x86_64 and aarch64 are supported",
				    name, ch_core_machine_name(machine, buf, sizeof(buf)));
	}
	uint64_t phoff = ch_le64(data + offsetof(Elf64_Ehdr, e_phoff));
	uint64_t phentsize = ch_le16(data + offsetof(Elf64_Ehdr, e_phentsize));
	uint64_t phnum = ch_le16(data + offsetof(Elf64_Ehdr, e_phnum));
	if (phnum == PN_XNUM)
		return ch_error_new(CH_ERR_UNSUPPORTED, "%s: cores with more than 65534 segments are not supported", name);
	if (phentsize != sizeof(Elf64_Phdr) || phoff > size || phnum * phentsize > size - phoff)
		return ch_error_new(CH_ERR_INPUT, "%s: program headers lie outside the file (truncated core?)", name);

	struct ch_core_file *c = calloc(1, sizeof(*c));
	if (!c)
		return &ch_error_nomem;
	c->path = name;
	c->arch = arch;
	c->data = data;
	c->size = size;
	struct core_builder b = {.core = c};
	struct ch_error *err = NULL;
	for (uint64_t i = 0; i < phnum && !err; i++) {
		const uint8_t *ph = data + phoff + i * phentsize;
		uint32_t ptype = ch_le32(ph + offsetof(Elf64_Phdr, p_type));
		uint64_t off = ch_le64(ph + offsetof(Elf64_Phdr, p_offset));
		uint64_t filesz = ch_le64(ph + offsetof(Elf64_Phdr, p_filesz));
		uint64_t present = off >= size ? 0 : (filesz < size - off ? filesz : size - off);
		if (present < filesz)
			c->truncated = true;
		if (filesz && off <= UINT64_MAX - filesz && off + filesz > c->expected_size)
			c->expected_size = off + filesz;
		if (ptype == PT_NOTE) {
			if (present < filesz)
				c->notes_cut = true;
			err = parse_notes(&b, data + (off < size ? off : size), present);
		} else if (ptype == PT_LOAD) {
			err = grow((void **)&c->segments, &b.cap_segments, c->nsegments, sizeof(*c->segments));
			if (err)
				break;
			struct ch_core_segment *s = &c->segments[c->nsegments++];
			s->vaddr = ch_le64(ph + offsetof(Elf64_Phdr, p_vaddr));
			s->memsz = ch_le64(ph + offsetof(Elf64_Phdr, p_memsz));
			s->offset = off;
			s->filesz = filesz < s->memsz ? filesz : s->memsz;
			s->present = present < s->filesz ? present : s->filesz;
			s->flags = ch_le32(ph + offsetof(Elf64_Phdr, p_flags));
			if (s->vaddr + s->memsz < s->vaddr)
				err = ch_error_new(CH_ERR_INPUT, "%s: segment %llu wraps the address space", name,
						   (unsigned long long)i);
		}
	}
	/* Without NT_SIGINFO (qemu-user cores, kernels before 3.7) the fatal
	 * signal is the one being delivered to the first thread that had one. */
	for (size_t i = 0; !err && !c->signo && i < c->nthreads; i++)
		c->signo = c->threads[i].cursig;
	if (!err && c->nsegments == 0)
		err = ch_error_new(CH_ERR_INPUT, "%s: core has no memory segments", name);
	if (!err && c->mapping_page > 1 && c->at_pagesz && c->mapping_page != c->at_pagesz)
		err = ch_error_new(CH_ERR_INPUT, "%s: NT_FILE counts file offsets in pages of %llu bytes, the auxiliary "
						 "vector says pages are %llu (damaged notes)", name,
				   (unsigned long long)c->mapping_page, (unsigned long long)c->at_pagesz);
	if (err) {
		ch_core_close(c);
		return err;
	}
	*out = c;
	return NULL;
}

bool ch_core_truncation_text(const struct ch_core_file *c, bool brief, char *buf, size_t size)
{
	if (size)
		buf[0] = '\0';
	if (!c->truncated || !size)
		return false;
	const double mib = 1048576.0;
	if (brief && c->expected_size > c->size)
		snprintf(buf, size, "core is truncated: %.1f MiB of %.1f MiB (%llu of %llu bytes; core size limit or full disk)",
			 c->size / mib, c->expected_size / mib, (unsigned long long)c->size,
			 (unsigned long long)c->expected_size);
	else if (c->expected_size > c->size)
		snprintf(buf, size,
			 "core %s is truncated: %.1f MiB of %.1f MiB (%llu of %llu bytes; %.1f MiB missing%s); the process's "
			 "core size limit (ulimit -c, or systemd-coredump's ProcessSizeMax) cut it, or the disk filled",
			 c->path, c->size / mib, c->expected_size / mib, (unsigned long long)c->size,
			 (unsigned long long)c->expected_size, (c->expected_size - c->size) / mib,
			 c->notes_cut ? ", including part of the notes (threads, mapped files)" : "");
	else
		snprintf(buf, size, "core %s is truncated or damaged: its note list ends early, so threads or mapped files "
			 "may be missing", c->path);
	return true;
}

/* A descriptor coreheap can map as the core: fd itself for a plain regular
 * file; otherwise (compressed, or a pipe) a temporary copy. */
static struct ch_error *mappable_fd(int fd, const char *path, ch_core_progress_fn progress, void *progress_arg,
				    int *out_fd, uint64_t *size, enum ch_core_compression *comp)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ch_error_new(CH_ERR_INPUT, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode) || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) &&
				    !S_ISCHR(st.st_mode)))
		return ch_error_new(CH_ERR_INPUT, "%s: not a regular file", path);
	uint8_t head[CH_CORE_SNIFF_BYTES];
	size_t nhead = 0;
	while (nhead < sizeof(head)) {
		ssize_t r = read(fd, head + nhead, sizeof(head) - nhead);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ch_error_new(CH_ERR_INPUT, "%s: %s", path, strerror(errno));
		if (r == 0)
			break;
		nhead += (size_t)r;
	}
	if (nhead == 0)
		return ch_error_new(CH_ERR_INPUT, "%s: empty file", path);
	*comp = ch_core_sniff(head, nhead);
	if (*comp == CH_CORE_PLAIN && S_ISREG(st.st_mode)) {
		*out_fd = fd;
		*size = (uint64_t)st.st_size;
		return NULL;
	}
	return ch_core_inflate(fd, head, nhead, *comp, path, progress, progress_arg, out_fd, size);
}

struct ch_error *ch_core_open(const char *path, ch_core_progress_fn progress, void *progress_arg,
			      struct ch_core_file **out)
{
	*out = NULL;
	bool stdin_core = strcmp(path, "-") == 0;
	int fd = stdin_core ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(CH_ERR_INPUT, "%s: %s", path, strerror(errno));
	const char *name = stdin_core ? "standard input" : path;
	int mfd = -1;
	uint64_t size = 0;
	enum ch_core_compression comp = CH_CORE_PLAIN;
	struct ch_error *err = mappable_fd(fd, name, progress, progress_arg, &mfd, &size, &comp);
	if (mfd != fd && !stdin_core)
		close(fd);
	if (err)
		return err;
	if (size == 0 || size > SIZE_MAX) {
		if (mfd != STDIN_FILENO)
			close(mfd);
		return ch_error_new(CH_ERR_INPUT, "%s: empty file%s", name,
				    comp != CH_CORE_PLAIN ? " after decompressing" : "");
	}
	void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, mfd, 0);
	int map_errno = errno;
	if (mfd != STDIN_FILENO)
		close(mfd);
	if (map == MAP_FAILED)
		return ch_error_new(CH_ERR_INPUT, "%s: cannot map: %s", name, strerror(map_errno));
	struct ch_core_file *c;
	err = ch_core_parse(map, (size_t)size, name, &c);
	if (err) {
		munmap(map, (size_t)size);
		return err;
	}
	c->path = path;
	c->owns_map = true;
	c->compression = comp;
	c->streamed = stdin_core || comp != CH_CORE_PLAIN || mfd != fd;
	*out = c;
	return NULL;
}

void ch_core_close(struct ch_core_file *c)
{
	if (!c)
		return;
	if (c->owns_map)
		munmap((void *)c->data, c->size);
	free(c->segments);
	free(c->threads);
	free(c->mappings);
	free(c->mapping_names);
	free(c);
}

const char *ch_core_mapping_source_name(enum ch_mapping_source s)
{
	return s == CH_MAPPINGS_NT_FILE ? "NT_FILE" : s == CH_MAPPINGS_LINK_MAP ? "r_debug link map" : NULL;
}

size_t ch_core_mapped_files(const struct ch_core_file *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nmappings; i++) {
		size_t j = 0;
		while (j < i && strcmp(c->mappings[j].path, c->mappings[i].path) != 0)
			j++;
		n += j == i;
	}
	return n;
}
