#include "readers/process/process.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/process/link_map.h"
#include "readers/process/thread_pointer.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The build-id in the dumped copy of a module's first page. The kernel dumps
 * the ELF header page of every file mapping (coredump_filter bit 4) exactly
 * so that tools can do this. */
void ch_module_read_core_build_id(struct ch_process *proc, struct ch_module *mod)
{
	struct ch_address_space *as = &proc->as;
	const uint8_t *eh = ch_as_peek(as, mod->start, sizeof(Elf64_Ehdr));
	if (!eh || memcmp(eh, ELFMAG, SELFMAG) != 0 || eh[EI_CLASS] != ELFCLASS64)
		return;
	uint64_t phoff = ch_le64(eh + offsetof(Elf64_Ehdr, e_phoff));
	uint16_t phnum = ch_le16(eh + offsetof(Elf64_Ehdr, e_phnum));
	uint16_t phentsize = ch_le16(eh + offsetof(Elf64_Ehdr, e_phentsize));
	if (phentsize != sizeof(Elf64_Phdr) || phnum == 0 || phnum > 512 || phoff > 1 << 20)
		return;
	const uint8_t *ph = ch_as_peek(as, mod->start + phoff, (size_t)phnum * phentsize);
	if (!ph)
		return;
	uint64_t lo = UINT64_MAX;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = ph + i * phentsize;
		if (ch_le32(p) == PT_LOAD && ch_le64(p + offsetof(Elf64_Phdr, p_vaddr)) < lo)
			lo = ch_le64(p + offsetof(Elf64_Phdr, p_vaddr));
	}
	if (lo == UINT64_MAX)
		return;
	uint64_t bias = mod->start - (lo & ~(uint64_t)4095);
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = ph + i * phentsize;
		if (ch_le32(p) != PT_NOTE)
			continue;
		uint64_t va = ch_le64(p + offsetof(Elf64_Phdr, p_vaddr));
		uint64_t sz = ch_le64(p + offsetof(Elf64_Phdr, p_filesz));
		if (sz > 1 << 16)
			continue;
		const uint8_t *notes = ch_as_peek(as, va + bias, (size_t)sz);
		const uint8_t *id;
		size_t len;
		if (notes && ch_notes_find_build_id(notes, (size_t)sz, &id, &len)) {
			memcpy(mod->core_build_id, id, len);
			mod->core_build_id_len = len;
			return;
		}
	}
}

/* Group NT_FILE mappings by path into modules. Only paths whose offset-0
 * mapping exists are modules (ELF files are always mapped from offset 0). */
static struct ch_error *collect_modules(struct ch_process *proc)
{
	struct ch_core_file *core = proc->core;
	proc->modules = calloc(core->nmappings ? core->nmappings : 1, sizeof(*proc->modules));
	if (!proc->modules)
		return &ch_error_nomem;
	for (size_t i = 0; i < core->nmappings; i++) {
		const struct ch_core_mapping *m = &core->mappings[i];
		struct ch_module *mod = NULL;
		for (size_t j = 0; j < proc->nmodules; j++)
			if (strcmp(proc->modules[j].path, m->path) == 0)
				mod = &proc->modules[j];
		if (!mod) {
			if (m->file_offset != 0)
				continue;
			mod = &proc->modules[proc->nmodules++];
			mod->path = m->path;
			mod->start = m->start;
			mod->end = m->end;
		}
		if (m->start < mod->start)
			mod->start = m->start;
		if (m->end > mod->end)
			mod->end = m->end;
	}
	uint64_t probe = core->at_phdr ? core->at_phdr : core->at_entry;
	for (size_t j = 0; j < proc->nmodules; j++) {
		struct ch_module *mod = &proc->modules[j];
		mod->is_main = probe >= mod->start && probe < mod->end;
	}
	return NULL;
}

/* The core's own bytes first: they win over file bytes (address_space.h),
 * and the link map (for a core without NT_FILE) is read from them alone. */
static struct ch_error *add_core_ranges(struct ch_process *proc)
{
	struct ch_core_file *core = proc->core;
	struct ch_address_space *as = &proc->as;
	struct ch_error *err;
	for (size_t i = 0; i < core->nsegments; i++) {
		const struct ch_core_segment *s = &core->segments[i];
		if (s->present == 0)
			continue;
		err = ch_as_add(as, s->vaddr, s->vaddr + s->present, core->data + s->offset, CH_AS_CORE,
				(s->flags & PF_W) != 0);
		if (err)
			return err;
	}
	/* What the kernel dumped but a truncated core lost is unreadable: the
	 * kernel dumps a file mapping's pages because the process changed them,
	 * so the file's bytes (initial values of .data, say) would be wrong. */
	for (size_t i = 0; i < core->nsegments; i++) {
		const struct ch_core_segment *s = &core->segments[i];
		if (s->present < s->filesz) {
			err = ch_as_add(as, s->vaddr + s->present, s->vaddr + s->filesz, NULL, CH_AS_LOST,
					(s->flags & PF_W) != 0);
			if (err)
				return err;
		}
	}
	return NULL;
}

static struct ch_error *add_file_ranges(struct ch_process *proc)
{
	struct ch_core_file *core = proc->core;
	struct ch_address_space *as = &proc->as;
	struct ch_error *err;
	for (size_t j = 0; j < proc->nmodules; j++) {
		struct ch_module *mod = &proc->modules[j];
		if (mod->path[0] != '/') { /* not a file name: nothing to open */
			mod->status = CH_MODULE_NOT_ELF;
			continue;
		}
		ch_module_read_core_build_id(proc, mod);
		if ((err = ch_module_locate(proc, mod)))
			return err;
	}
	/* File bytes fill what the kernel did not dump. */
	for (size_t i = 0; i < core->nmappings; i++) {
		const struct ch_core_mapping *m = &core->mappings[i];
		for (size_t j = 0; j < proc->nmodules; j++) {
			struct ch_module *mod = &proc->modules[j];
			if (mod->status != CH_MODULE_OK || strcmp(mod->path, m->path) != 0)
				continue;
			const struct ch_elf_file *ef = mod->elf;
			/* gdb's NT_FILE counts bytes (page 1): the auxiliary vector has the page. */
			uint64_t page = core->mapping_page > 1 ? core->mapping_page : core->at_pagesz;
			/* qemu-user's cores (no NT_SIGINFO) have no NT_FILE of their own: one
			 * added from its emulated maps need not follow the program headers. */
			if (core->have_siginfo && !ch_segment_mapping_agrees(m, mod->bias, ef->segments, ef->nsegments, page)) {
				ch_segment_damage_add(&proc->damage, "NT_FILE maps offset 0x%llx of %s at 0x%llx, where the "
						      "file's program headers put other bytes", (unsigned long long)m->file_offset,
						      m->path, (unsigned long long)m->start);
				break;
			}
			if (m->file_offset >= ef->size)
				break;
			uint64_t avail = ef->size - m->file_offset;
			uint64_t end = m->end - m->start > avail ? m->start + avail : m->end;
			err = ch_as_add(as, m->start, end, ef->data + m->file_offset, CH_AS_FILE, false);
			if (err)
				return err;
			break;
		}
	}
	/* What remains of the segments is known but unreadable. */
	for (size_t i = 0; i < core->nsegments; i++) {
		const struct ch_core_segment *s = &core->segments[i];
		err = ch_as_add(as, s->vaddr, s->vaddr + s->memsz, NULL, CH_AS_NONE, (s->flags & PF_W) != 0);
		if (err)
			return err;
	}
	return NULL;
}

struct ch_error *ch_process_open(const char *core_path, const struct ch_process_options *opts,
				 struct ch_process **out)
{
	*out = NULL;
	struct ch_process *proc = calloc(1, sizeof(*proc));
	if (!proc)
		return &ch_error_nomem;
	if (opts)
		proc->opts = *opts;
	if (!proc->opts.debug_dir)
		proc->opts.debug_dir = "/usr/lib/debug";
	ch_as_init(&proc->as);
	struct ch_error *err = ch_core_open(core_path, proc->opts.progress, proc->opts.progress_arg, &proc->core);
	if (!err)
		err = ch_segments_check(proc->core, &proc->damage);
	if (!err)
		ch_threads_recover_fs_base(proc);
	if (!err)
		err = add_core_ranges(proc);
	if (!err && proc->core->nmappings == 0)
		err = ch_mappings_from_link_map(proc);
	if (!err)
		err = collect_modules(proc);
	if (!err)
		err = add_file_ranges(proc);
	if (err) {
		ch_process_close(proc);
		return err;
	}
	*out = proc;
	return NULL;
}

void ch_process_close(struct ch_process *proc)
{
	if (!proc)
		return;
	for (size_t j = 0; j < proc->nmodules; j++) {
		ch_elf_close(proc->modules[j].elf);
		free(proc->modules[j].disk_path);
		ch_error_free(proc->modules[j].problem);
	}
	free(proc->modules);
	ch_as_deinit(&proc->as);
	ch_core_close(proc->core);
	free(proc);
}

struct ch_module *ch_process_main_module(struct ch_process *proc)
{
	for (size_t j = 0; j < proc->nmodules; j++)
		if (proc->modules[j].is_main)
			return &proc->modules[j];
	return NULL;
}

struct ch_module *ch_process_find_module(struct ch_process *proc, const char *prefix)
{
	for (size_t j = 0; j < proc->nmodules; j++)
		if (strncmp(base_name(proc->modules[j].path), prefix, strlen(prefix)) == 0)
			return &proc->modules[j];
	return NULL;
}

struct ch_error *ch_process_module_elf(struct ch_module *mod, struct ch_elf_file **out)
{
	*out = NULL;
	if (mod->status == CH_MODULE_OK) {
		*out = mod->elf;
		return NULL;
	}
	if (mod->problem)
		return ch_error_new(mod->problem->kind == CH_ERR_NOT_FOUND ? CH_ERR_INPUT : mod->problem->kind, "%s",
				    mod->problem->message);
	return ch_error_new(CH_ERR_INPUT, "%s: unusable", mod->path);
}

struct ch_error *ch_process_explain(struct ch_process *proc, struct ch_error *err, bool *explained)
{
	*explained = false;
	const struct ch_core_file *core = proc->core;
	if (err->kind == CH_ERR_NOMEM || err->kind == CH_ERR_USAGE)
		return err;
	char cut[256];
	if (ch_core_truncation_text(core, true, cut, sizeof(cut)) && (proc->as.lost_reads || core->notes_cut)) {
		*explained = true;
		struct ch_error *e = ch_error_new(CH_ERR_INPUT, "%s: %s; what was needed lies in the lost part (%s)", core->path,
						  cut, err->message);
		ch_error_free(err);
		return e;
	}
	if (proc->damage.count) {
		*explained = true;
		struct ch_error *e = ch_error_new(CH_ERR_INPUT, "%s: the segment table is damaged (%s%s), so memory "
						  "there holds the wrong bytes or none: %s", core->path, proc->damage.first,
						  proc->damage.count > 1 ? ", and more" : "", err->message);
		ch_error_free(err);
		return e;
	}
	if (core->mapping_source == CH_MAPPINGS_LINK_MAP && core->mapping_problem[0]) {
		*explained = true;
		struct ch_error *e = ch_error_new(
			CH_ERR_INPUT,
			"%s: the core has no NT_FILE note and the dynamic linker's r_debug link map, which stands in for "
			"it, ended early (%s), so files the process had mapped are unknown: %s",
			core->path, core->mapping_problem, err->message);
		ch_error_free(err);
		return e;
	}
	if (core->nmappings == 0) {
		*explained = true;
		struct ch_error *e = ch_error_new(
			CH_ERR_INPUT,
			"%s: the core records no mapped files (no NT_FILE note: damaged notes, or a core from qemu-user or an "
			"old gcore) and the dynamic linker's r_debug link map could not stand in for it (%s): %s",
			core->path, core->mapping_problem[0] ? core->mapping_problem : "unknown reason", err->message);
		ch_error_free(err);
		return e;
	}
	return err;
}
