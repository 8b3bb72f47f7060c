#include "readers/native/native_unwind.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/process/process.h"

/* The libdwfl functions used, resolved with dlsym in libdw's own namespace
 * (see the header: its dwarf_* names collide with libdwarf's). */
#define CH_DWFL_FUNCS(X)                                                                          \
	X(dwfl_begin) X(dwfl_end) X(dwfl_report_begin) X(dwfl_report_elf) X(dwfl_report_end)     \
	X(dwfl_attach_state) X(dwfl_getthread_frames) X(dwfl_frame_pc) X(dwfl_addrmodule)         \
	X(dwfl_module_addrinfo) X(dwfl_module_getsrc) X(dwfl_lineinfo) X(dwfl_errmsg)             \
	X(dwfl_thread_state_registers) X(dwfl_thread_state_register_pc) X(dwfl_standard_find_debuginfo) \
	X(dwfl_build_id_find_elf)

struct dwfl_api {
#define CH_DWFL_PTR(name) __typeof__(name) *name;
	CH_DWFL_FUNCS(CH_DWFL_PTR)
#undef CH_DWFL_PTR
};

struct ch_native {
	struct ch_process *proc;
	void *lib;
	struct dwfl_api f;
	Dwfl *dwfl;
	Dwfl_Callbacks callbacks;
	char *debuginfo_path;
	/* The first read of the current unwind that found no memory: libdwfl
	 * ends a stack quietly there, as if it were the outermost frame. */
	bool read_failed;
	uint64_t failed_addr;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	struct ch_native *n = arg;
	const struct ch_core_file *core = n->proc->core;
	const struct ch_core_thread *t = *thread_argp;
	size_t i = t ? (size_t)(t - core->threads) + 1 : 0;
	if (i >= core->nthreads)
		return 0;
	*thread_argp = (void *)&core->threads[i];
	return core->threads[i].tid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)dwfl;
	struct ch_native *n = arg;
	uint64_t v;
	struct ch_error *err = ch_as_read_u64(&n->proc->as, addr, &v);
	if (err) {
		ch_error_free(err);
		if (!n->read_failed) {
			n->read_failed = true;
			n->failed_addr = addr;
		}
		return false;
	}
	*result = v;
	return true;
}

/* The callbacks get no pointer to struct ch_native; the API pointers they
 * need are the same for every session, so one copy serves. */
static struct dwfl_api api_for_callbacks;
/* Likewise the machine of the core being unwound (one session at a time). */
static const struct ch_core_arch *api_arch;

/* The machine's DWARF registers that the core has (core_arch.h), then
 * the pc, which on aarch64 has no DWARF number. */
static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct ch_core_thread *t = thread_arg;
	const struct ch_core_arch *a = api_arch;
	Dwarf_Word regs[CH_CORE_NREGS];
	size_t n = a->ndwarf < CH_CORE_NREGS ? a->ndwarf : CH_CORE_NREGS;
	for (size_t i = 0; i < n; i++)
		regs[i] = a->dwarf[i] < t->nregs ? t->regs[a->dwarf[i]] : 0;
	if (!api_for_callbacks.dwfl_thread_state_registers(thread, 0, n, regs))
		return false;
	api_for_callbacks.dwfl_thread_state_register_pc(thread, t->pc);
	if (t->pac_mask) {
		/* aarch64 return addresses saved on the stack carry a pointer
		 * authentication code in their top bits; libdwfl strips what
		 * this mask covers (its register "-2"; a libdw that predates it
		 * refuses the call, and the unwind goes on without). */
		Dwarf_Word mask = t->pac_mask;
		(void)api_for_callbacks.dwfl_thread_state_registers(thread, -2, 1, &mask);
	}
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* Loaded once per process: each dlmopen(LM_ID_NEWLM) takes one of the
 * few link-map namespaces glibc has (16). */
static void *libdw_handle;

bool ch_native_libdw_loaded(void)
{
	return libdw_handle != NULL;
}

static struct ch_error *load_libdw(struct ch_native *n)
{
	if (!libdw_handle)
		libdw_handle = dlmopen(LM_ID_NEWLM, "libdw.so.1", RTLD_NOW | RTLD_LOCAL);
	n->lib = libdw_handle;
	if (!n->lib)
		return ch_error_new(CH_ERR_UNSUPPORTED, "native frames need elfutils' libdw.so.1 (Debian: libdw1): %s",
				    dlerror());
#define CH_DWFL_SYM(name)                                                                                        \
	if (!(*(void **)&n->f.name = dlsym(n->lib, #name)))                                                     \
		return ch_error_new(CH_ERR_UNSUPPORTED, "native frames: libdw.so.1 lacks %s (elfutils too old?)", #name);
	CH_DWFL_FUNCS(CH_DWFL_SYM)
#undef CH_DWFL_SYM
	api_for_callbacks = n->f;
	return NULL;
}

static struct ch_error *dwfl_failed(struct ch_native *n, const char *what)
{
	return ch_error_new(CH_ERR_UNSUPPORTED, "native frames: %s: %s", what, n->f.dwfl_errmsg(-1));
}

struct ch_error *ch_native_open(struct ch_process *proc, struct ch_native **out)
{
	*out = NULL;
	struct ch_native *n = calloc(1, sizeof(*n));
	if (!n)
		return &ch_error_nomem;
	n->proc = proc;
	struct ch_error *err = load_libdw(n);
	if (err) {
		ch_native_close(n);
		return err;
	}
	/* Separate debug files (file:line, .debug_frame): the standard places,
	 * then --debug-dir. "-" skips the CRC check of .gnu_debuglink files; a
	 * build-id match is what counts. */
	const char *dir = proc->opts.debug_dir;
	size_t len = strlen("-:.debug:/usr/lib/debug") + (dir ? strlen(dir) + 1 : 0) + 1;
	n->debuginfo_path = malloc(len);
	if (!n->debuginfo_path) {
		ch_native_close(n);
		return &ch_error_nomem;
	}
	snprintf(n->debuginfo_path, len, "-:.debug:/usr/lib/debug%s%s", dir ? ":" : "", dir ? dir : "");
	n->callbacks.find_elf = n->f.dwfl_build_id_find_elf;
	n->callbacks.find_debuginfo = n->f.dwfl_standard_find_debuginfo;
	n->callbacks.debuginfo_path = &n->debuginfo_path;
	n->dwfl = n->f.dwfl_begin(&n->callbacks);
	if (!n->dwfl) {
		err = dwfl_failed(n, "dwfl_begin");
		ch_native_close(n);
		return err;
	}
	n->f.dwfl_report_begin(n->dwfl);
	size_t reported = 0;
	for (size_t i = 0; i < proc->nmodules; i++) {
		const struct ch_module *m = &proc->modules[i];
		if (m->status != CH_MODULE_OK || !m->elf)
			continue;
		/* add_p_vaddr: the module's addresses are its link-time ones plus
		 * the bias, as the process layer computed it. */
		if (n->f.dwfl_report_elf(n->dwfl, m->path, m->elf->path, -1, m->bias, true))
			reported++;
	}
	if (n->f.dwfl_report_end(n->dwfl, NULL, NULL) != 0 || !reported) {
		err = dwfl_failed(n, "reporting the mapped files");
		ch_native_close(n);
		return err;
	}
	/* With no ELF given, libdwfl picks its backend (aarch64 or x86_64
	 * register rules) from the first reported module's e_machine. */
	api_arch = proc->core->arch;
	if (!n->f.dwfl_attach_state(n->dwfl, NULL, proc->core->have_psinfo ? proc->core->pid : 1, &thread_callbacks, n)) {
		err = dwfl_failed(n, "attaching the threads");
		ch_native_close(n);
		return err;
	}
	*out = n;
	return NULL;
}

static const char *module_path_at(const struct ch_process *proc, uint64_t pc)
{
	for (size_t i = 0; i < proc->nmodules; i++)
		if (pc >= proc->modules[i].start && pc < proc->modules[i].end)
			return proc->modules[i].path;
	return NULL;
}

struct unwind_ctx {
	struct ch_native *n;
	struct ch_native_stack *out;
	size_t cap;
	bool nomem, too_deep;
};

static void describe(struct ch_native *n, struct ch_native_frame *fr, uint64_t pc, bool activation)
{
	memset(fr, 0, sizeof(*fr));
	fr->pc = pc;
	/* A return address points after the call: look up the call itself. */
	uint64_t at = activation || pc == 0 ? pc : pc - 1;
	fr->module = module_path_at(n->proc, at);
	Dwfl_Module *mod = n->f.dwfl_addrmodule(n->dwfl, at);
	if (!mod)
		return;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = n->f.dwfl_module_addrinfo(mod, at, &off, &sym, NULL, NULL, NULL);
	if (name) {
		snprintf(fr->function, sizeof(fr->function), "%s", name);
		fr->offset = off + (pc - at);
	}
	Dwfl_Line *line = n->f.dwfl_module_getsrc(mod, at);
	int lineno = 0;
	const char *file = line ? n->f.dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (file && lineno > 0) {
		snprintf(fr->file, sizeof(fr->file), "%s", file);
		fr->line = lineno;
	}
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct unwind_ctx *c = arg;
	Dwarf_Addr pc;
	bool activation = false;
	if (!c->n->f.dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	struct ch_native_stack *s = c->out;
	if (s->nframes >= CH_NATIVE_MAX_FRAMES) {
		c->too_deep = true;
		return DWARF_CB_ABORT;
	}
	if (s->nframes == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct ch_native_frame *p = realloc(s->frames, cap * sizeof(*p));
		if (!p) {
			c->nomem = true;
			return DWARF_CB_ABORT;
		}
		s->frames = p;
		c->cap = cap;
	}
	describe(c->n, &s->frames[s->nframes++], pc, activation);
	return DWARF_CB_OK;
}

struct ch_error *ch_native_unwind(struct ch_native *n, int32_t tid, struct ch_native_stack *out)
{
	memset(out, 0, sizeof(*out));
	struct unwind_ctx c = {.n = n, .out = out};
	n->read_failed = false;
	int rc = n->f.dwfl_getthread_frames(n->dwfl, tid, on_frame, &c);
	if (c.nomem) {
		ch_native_stack_deinit(out);
		return &ch_error_nomem;
	}
	if (c.too_deep)
		snprintf(out->stopped, sizeof(out->stopped), "stopped after %d frames", CH_NATIVE_MAX_FRAMES);
	else if (rc != 0)
		snprintf(out->stopped, sizeof(out->stopped), "unwinding stopped: %s", n->f.dwfl_errmsg(-1));
	else if (n->read_failed)
		snprintf(out->stopped, sizeof(out->stopped),
			 "unwinding stopped: stack memory at 0x%" PRIx64 " is not in the core (truncated, or a damaged frame)",
			 n->failed_addr);
	return NULL;
}

void ch_native_stack_deinit(struct ch_native_stack *s)
{
	free(s->frames);
	memset(s, 0, sizeof(*s));
}

void ch_native_close(struct ch_native *n)
{
	if (!n)
		return;
	if (n->dwfl)
		n->f.dwfl_end(n->dwfl);
	/* libdw stays loaded: dlclose of a dlmopen'd namespace is not worth
	 * its risks for a process that exits soon after. */
	free(n->debuginfo_path);
	free(n);
}
