/* What of a dumped process the sandbox may read and what it may run.
 *
 * Readable: every PT_LOAD segment (the address space decides, page by
 * page, whether bytes exist). Executable: a PF_X segment that lies inside
 * an NT_FILE mapping of a module whose file on disk matched the build-id
 * dumped in the core (ch_module.status == CH_MODULE_OK); anonymous or
 * core-only code (JIT pages, a forged segment) is never run. */
#include "readers/emulator/emulator.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "readers/process/process.h"

static bool vouched_code(const struct ch_process *proc, const struct ch_core_segment *s)
{
	if (!(s->flags & PF_X))
		return false;
	const struct ch_core_file *core = proc->core;
	for (size_t i = 0; i < core->nmappings; i++) {
		const struct ch_core_mapping *m = &core->mappings[i];
		if (s->vaddr < m->start || s->vaddr + s->memsz > m->end)
			continue;
		for (size_t j = 0; j < proc->nmodules; j++)
			if (proc->modules[j].status == CH_MODULE_OK && strcmp(proc->modules[j].path, m->path) == 0)
				return true;
		return false;
	}
	return false;
}

struct ch_error *ch_emu_open_process(struct ch_process *proc, struct ch_emu **out)
{
	*out = NULL;
	const struct ch_core_file *core = proc->core;
	/* The sandbox is an x86_64 machine with x86_64 call conventions; code
	 * of any other machine is never run in it. */
	if (core->arch->machine != EM_X86_64)
		return ch_error_new(CH_ERR_UNSUPPORTED, "emulation not supported on %s (the tp_traverse sandbox runs x86_64 code only)",
				    core->arch->name);
	struct ch_emu_region *r = calloc(core->nsegments ? core->nsegments : 1, sizeof(*r));
	if (!r)
		return &ch_error_nomem;
	size_t n = 0;
	for (size_t i = 0; i < core->nsegments; i++) {
		const struct ch_core_segment *s = &core->segments[i];
		if (!(s->flags & PF_R) || s->memsz == 0 || s->vaddr + s->memsz < s->vaddr)
			continue;
		r[n].start = s->vaddr;
		r[n].end = s->vaddr + s->memsz;
		r[n].exec = vouched_code(proc, s);
		n++;
	}
	struct ch_emu_builtin *b = NULL;
	size_t nb = 0;
	struct ch_error *err = ch_emu_find_builtins(proc, &b, &nb);
	if (err) {
		free(r);
		return err;
	}
	struct ch_emu_config cfg = {
		.as = &proc->as,
		.regions = r,
		.nregions = n,
		.fs_base = core->nthreads ? core->threads[0].tp : 0,
		.builtins = b,
		.nbuiltins = nb,
		.isolate = true,
	};
	err = ch_emu_open(&cfg, out);
	free(r);
	free(b);
	return err;
}
