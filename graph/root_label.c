/* How a root is named (see roots.h): the stable kind names of the JSON
 * output, and the one-line label a report prints for each root
 * ("sys.modules['app']", "thread 4242 frame 0 main (app.py:12) local 'x'",
 * "C data libpython3.12.so.1.0 _PyRuntime+0x1a8"). */
#include "graph/roots.h"

#include "graph/root_set.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "readers/cpython/py_str.h"
#include "readers/cpython/python.h"

const char *ch_root_kind_name(enum ch_root_kind kind)
{
	static const char *const names[CH_ROOT_NKINDS] = {
		[CH_ROOT_MODULE] = "module",           [CH_ROOT_SYS] = "sys",
		[CH_ROOT_BUILTINS] = "builtins",       [CH_ROOT_FRAME_LOCAL] = "frame_local",
		[CH_ROOT_FRAME_GLOBALS] = "frame_globals", [CH_ROOT_FRAME_OTHER] = "frame_other",
		[CH_ROOT_THREAD] = "thread",           [CH_ROOT_STATIC] = "static",
		[CH_ROOT_C_GLOBAL] = "c_global",       [CH_ROOT_EXTERNAL] = "external",
	};
	return (unsigned)kind < CH_ROOT_NKINDS ? names[kind] : "?";
}

/* 'text' of a str object in the graph, or "?" */
static void str_text(const struct ch_analysis *a, uint32_t obj, char *buf, size_t n)
{
	bool trunc = false;
	struct ch_error *err = obj == CH_NO_OBJECT ? ch_error_new(CH_ERR_NOT_FOUND, "no name")
						   : ch_py_str_read(a->heap.py, a->heap.objects.addr[obj], buf, n, &trunc);
	if (err) {
		ch_error_free(err);
		snprintf(buf, n, "?");
	} else if (trunc && n > 4) {
		strcpy(buf + n - 4, "...");
	}
}

/* "thread 4242 frame 0 main (app.py:12)"; buf should hold 1.5 KB. */
static int frame_text(const struct ch_roots *r, uint32_t fi, char *buf, size_t n)
{
	const struct ch_py_stacks *s = &r->stacks;
	if (fi >= s->nframes)
		return snprintf(buf, n, "frame ?");
	size_t t = 0;
	while (t + 1 < s->nthreads && fi >= s->threads[t].first_frame + s->threads[t].nframes)
		t++;
	const struct ch_py_frame *f = &s->frames[fi];
	const struct ch_py_code *code = &s->codes[f->code];
	const char *slash = strrchr(code->file, '/');
	return snprintf(buf, n, "thread %" PRId32 " frame %zu %s (%s:%" PRId32 ")", s->nthreads ? s->threads[t].tid : -1,
			s->nthreads ? fi - s->threads[t].first_frame : fi, code->function, slash ? slash + 1 : code->file, f->line);
}

/* The module whose image holds address at: inside its file mappings, or
 * in a writable PT_LOAD's memory past them (.bss). */
static struct ch_module *module_at(struct ch_process *proc, uint64_t at)
{
	for (size_t m = 0; m < proc->nmodules; m++) {
		struct ch_module *mod = &proc->modules[m];
		if (mod->status == CH_MODULE_NOT_ELF)
			continue;
		if (at >= mod->start && at < mod->end)
			return mod;
		for (size_t k = 0; mod->elf && k < mod->elf->nsegments; k++) {
			const struct ch_elf_segment *ps = &mod->elf->segments[k];
			if (at >= mod->bias + ps->vaddr && at < mod->bias + ps->vaddr + ps->memsz)
				return mod;
		}
	}
	return NULL;
}

/* "libpython3.12.so.1.0 _PyRuntime+0x1a8" or "libpython3.12.so.1.0+0x5a1230" */
static void c_address_text(struct ch_python *py, uint64_t at, char *buf, size_t n)
{
	struct ch_module *mod = module_at(py->proc, at);
	if (!mod) {
		snprintf(buf, n, "0x%" PRIx64, at);
		return;
	}
	const char *base = strrchr(mod->path, '/');
	base = base ? base + 1 : mod->path;
	uint64_t off;
	char sym[256];
	/* A stripped runtime keeps its static symbols in the debug file. */
	bool named = (mod->elf && ch_elf_symbol_at(mod->elf, at - mod->bias, sym, sizeof(sym), &off)) ||
		     (mod == py->module && py->debug_elf &&
		      ch_elf_symbol_at(py->debug_elf, at - mod->bias, sym, sizeof(sym), &off));
	if (named)
		snprintf(buf, n, "%s %s+0x%" PRIx64, base, sym, off);
	else
		snprintf(buf, n, "%s+0x%" PRIx64, base, at - mod->start);
}

void ch_root_label_text(const struct ch_roots *r, const struct ch_analysis *a, size_t i, char *buf, size_t n)
{
	if (i >= r->n) {
		snprintf(buf, n, "?");
		return;
	}
	const struct ch_root *root = &r->items[i];
	char name[96], where[1536];
	const struct ch_object_table *t = &a->heap.objects;
	switch ((enum ch_root_kind)root->kind) {
	case CH_ROOT_MODULE:
		str_text(a, root->name, name, sizeof(name));
		snprintf(buf, n, "sys.modules['%s']", name);
		break;
	case CH_ROOT_SYS:
		snprintf(buf, n, "sys.__dict__");
		break;
	case CH_ROOT_BUILTINS:
		snprintf(buf, n, "builtins.__dict__");
		break;
	case CH_ROOT_FRAME_LOCAL:
		frame_text(r, root->frame, where, sizeof(where));
		str_text(a, root->name, name, sizeof(name));
		snprintf(buf, n, "%s local '%s'", where, name);
		break;
	case CH_ROOT_FRAME_GLOBALS: {
		frame_text(r, root->frame, where, sizeof(where));
		/* A module's namespace is named as the module, whichever frame runs in it. */
		uint32_t m = ch_roots_module_of_dict(r, &a->edges, root->object);
		if (m != UINT32_MAX && r->items[m].kind == CH_ROOT_MODULE) {
			char module[160];
			ch_root_label_text(r, a, m, module, sizeof(module));
			snprintf(buf, n, "%s.__dict__ (globals of %s)", module, where);
		} else {
			snprintf(buf, n, "%s globals", where);
		}
		break;
	}
	case CH_ROOT_FRAME_OTHER:
		frame_text(r, root->frame, where, sizeof(where));
		if (root->where == t->addr[root->object])
			snprintf(buf, n, "%s (the executing frame)", where);
		else
			snprintf(buf, n, "%s stack/internals 0x%" PRIx64, where, root->where);
		break;
	case CH_ROOT_THREAD: {
		const struct ch_py_stacks *s = &r->stacks;
		uint64_t ts = root->frame < s->nthreads ? s->threads[root->frame].thread->tstate : 0;
		snprintf(buf, n, "thread %" PRId32 " state +0x%" PRIx64, root->frame < s->nthreads ? s->threads[root->frame].tid : -1,
			 root->where - ts);
		break;
	}
	case CH_ROOT_STATIC:
		c_address_text(a->heap.py, t->addr[root->object], where, sizeof(where));
		snprintf(buf, n, "static object %s", where);
		break;
	case CH_ROOT_C_GLOBAL:
		c_address_text(a->heap.py, root->where, where, sizeof(where));
		snprintf(buf, n, "C data %s", where);
		break;
	case CH_ROOT_EXTERNAL:
		snprintf(buf, n, "external (refcount %" PRId64 ", %" PRIu64 " unexplained)", ch_objects_refcnt(t, root->object), root->where);
		break;
	default:
		snprintf(buf, n, "?");
	}
}
