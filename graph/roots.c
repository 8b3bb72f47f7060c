/* Roots of the heap graph (see roots.h).
 *
 * Reference accounting, which the external roots and `anomalies` rest on,
 * keeps two counts per object:
 *   refs   references that certainly own a count: edges from other
 *          objects (all kinds but weak and conservative), and 3.11+
 *          frame local slots, which are strong references held by no
 *          object;
 *   maybe  words that look like a pointer to the object where a pointer
 *          may or may not be live: conservative edges, value stacks of
 *          executing frames (their depth is not recorded), thread and
 *          interpreter states, C static data.
 * Not counted at all: the edges of an interpreter's dict of interned
 * strings (3.12+ cached_objects.interned_strings), whose two references
 * to each string (key and value) CPython leaves out of ob_refcnt by
 * design (cpython/unicodeobject.h, state.interned). Up to 3.13 that dict
 * holds only strs and stays untracked, out of the graph; 3.14 tracks
 * every dict, so it is in the graph and its edges must be left out.
 * refcount > refs + maybe means a holder coreheap cannot see at all;
 * refcount < refs is impossible in a healthy process (a refcounting bug).
 * Stale words only ever raise `maybe`, so they can hide a leak but never
 * invent a refcounting bug. */
#include "graph/roots.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_str.h"
#include "readers/cpython/python.h"


/* Writable data scanned per module and per state: bounds a hostile core. */
#define CH_ROOT_SCAN_MAX ((uint64_t)256 << 20)

/* Interpreters whose dicts are roots (the main one, then the threads'). */
#define CH_ROOT_MAX_INTERPS 16

struct ch_roots_ctx {
	struct ch_roots *r;
	struct ch_analysis *a;
	struct ch_python *py;
	uint32_t *maybe;
	uint8_t *is_static; /* per object: its address lies in a mapped ELF image */
	/* Static objects (inside a mapped ELF image), sorted by address, so the
	 * C-data scan can skip their bodies: their pointers are already edges. */
	uint64_t *static_lo, *static_hi;
	size_t nstatic;
	/* The interned-strings dicts of the interpreters (see the top comment). */
	uint32_t interned[CH_ROOT_MAX_INTERPS];
	size_t ninterned;
};

static struct ch_error *push(struct ch_roots *r, uint32_t object, enum ch_root_kind kind, uint32_t name, uint32_t frame,
			     uint64_t where)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		struct ch_root *p = realloc(r->items, cap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		r->items = p;
		r->cap = cap;
	}
	r->items[r->n++] = (struct ch_root){.object = object, .kind = (uint8_t)kind, .name = name, .frame = frame, .where = where};
	r->count[kind]++;
	return NULL;
}

static void bump(uint32_t *c, uint32_t i)
{
	if (c[i] != UINT32_MAX)
		c[i]++;
}

/* Edges: counted references into refs; conservative words and shared
 * keys (counted once by the keys object, which is no object) into maybe. */
static bool is_interned_dict(const struct ch_roots_ctx *c, size_t i)
{
	for (size_t k = 0; k < c->ninterned; k++)
		if (c->interned[k] == i)
			return true;
	return false;
}

static void count_edges(struct ch_roots_ctx *c)
{
	const struct ch_edges *e = &c->a->edges;
	size_t n = c->a->heap.objects.n;
	for (size_t i = 0; i < n; i++) {
		if (c->ninterned && is_interned_dict(c, i))
			continue;
		/* A static object's pointers were mostly written by a C
		 * initializer, which takes no count (3.11+ deep-frozen code and
		 * its constants, a static type's tp_base): only `maybe`. */
		uint32_t *sink = c->is_static[i] ? c->maybe : c->r->refs;
		for (uint32_t k = e->offsets[i]; k < e->offsets[i + 1]; k++) {
			uint32_t l = e->labels[k];
			if (ch_label_kind(l) != CH_REF_WEAK)
				bump(ch_label_counts(l) ? sink : c->maybe, e->targets[k]);
		}
	}
}

struct module_walk {
	struct ch_roots_ctx *c;
	struct ch_error *err;
};

static int module_entry(void *arg, uint64_t key, uint64_t value)
{
	struct module_walk *w = arg;
	const struct ch_object_table *t = &w->c->a->heap.objects;
	uint32_t obj = ch_objects_find(t, value);
	if (obj == CH_NO_OBJECT)
		return 0;
	w->err = push(w->c->r, obj, CH_ROOT_MODULE, ch_objects_find(t, key), 0, 0);
	return w->err != NULL;
}

/* sys.modules, sys.__dict__ and builtins of every interpreter the threads
 * belong to (the main one first). */
static struct ch_error *interpreter_roots(struct ch_roots_ctx *c, const uint64_t *interps, size_t ninterps)
{
	struct ch_python *py = c->py;
	const struct ch_object_table *t = &c->a->heap.objects;
	static const struct { enum ch_py_field f; enum ch_root_kind kind; } dicts[] = {
		{CH_PY_INTERP_SYSDICT, CH_ROOT_SYS}, {CH_PY_INTERP_BUILTINS, CH_ROOT_BUILTINS}};
	for (size_t i = 0; i < ninterps; i++) {
		uint64_t modules;
		if (ch_py_has(&py->layout, CH_PY_INTERP_MODULES) && ch_error_ok(ch_py_read_u64(py, interps[i], CH_PY_INTERP_MODULES, &modules)) &&
		    modules) {
			struct module_walk w = {c, NULL};
			struct ch_error *err = ch_py_dict_foreach(py, modules, module_entry, &w, NULL);
			if (w.err) {
				ch_error_free(err);
				return w.err;
			}
			if (err) {
				ch_diag_partial(&py->diag, "sys.modules of interpreter 0x%" PRIx64 " is unreadable: %s", interps[i],
						err->message);
				ch_error_free(err);
			}
		}
	}
	for (size_t d = 0; d < 2; d++)
		for (size_t i = 0; i < ninterps; i++) {
			uint64_t v;
			uint32_t obj;
			if (ch_py_has(&py->layout, dicts[d].f) && ch_error_ok(ch_py_read_u64(py, interps[i], dicts[d].f, &v)) &&
			    (obj = ch_objects_find(t, v)) != CH_NO_OBJECT) {
				struct ch_error *err = push(c->r, obj, dicts[d].kind, CH_NO_OBJECT, 0, 0);
				if (err)
					return err;
			}
		}
	return NULL;
}

/* Every aligned word of [start, end) that is the address of an object in
 * the graph becomes a root of `kind` and a `maybe` reference; words inside
 * static objects are skipped (their pointers are edges already). */
static struct ch_error *scan_words(struct ch_roots_ctx *c, uint64_t start, uint64_t end, enum ch_root_kind kind,
				    uint32_t frame, bool stackrefs)
{
	const struct ch_object_table *t = &c->a->heap.objects;
	struct ch_address_space *as = &c->py->proc->as;
	start = (start + 7) & ~7ull;
	if (end <= start)
		return NULL;
	if (end - start > CH_ROOT_SCAN_MAX)
		end = start + CH_ROOT_SCAN_MAX;
	size_t s = 0;
	uint64_t a = start;
	while (a < end) {
		/* Read in page-sized runs; an unreadable run is skipped whole. */
		uint64_t run = 4096 - (a & 4095);
		if (run > end - a)
			run = end - a;
		const uint8_t *p = ch_as_peek(as, a, (size_t)run);
		if (!p) {
			a += run;
			continue;
		}
		for (uint64_t off = 0; off + 8 <= run; off += 8) {
			uint64_t w, at = a + off;
			while (s < c->nstatic && c->static_hi[s] <= at)
				s++;
			if (s < c->nstatic && c->static_lo[s] <= at)
				continue;
			memcpy(&w, p + off, 8);
			if (stackrefs)
				w = ch_py_stackref_object(&c->py->layout, w);
			if (w < 4096 || (w & 7))
				continue;
			uint32_t obj = ch_objects_find(t, w);
			if (obj == CH_NO_OBJECT)
				continue;
			bump(c->maybe, obj);
			struct ch_error *err = push(c->r, obj, kind, CH_NO_OBJECT, frame, at);
			if (err)
				return err;
		}
		a += run;
	}
	return NULL;
}

static struct ch_error *scan(struct ch_roots_ctx *c, uint64_t start, uint64_t end, enum ch_root_kind kind, uint32_t frame)
{
	return scan_words(c, start, end, kind, frame, false);
}

static struct ch_error *frame_roots(struct ch_roots_ctx *c)
{
	struct ch_roots *r = c->r;
	const struct ch_object_table *t = &c->a->heap.objects;
	const struct ch_py_stacks *s = &r->stacks;
	/* 3.8-3.10 frames are objects: their locals and globals are already
	 * their edges (counted there); the frame itself is owned by the
	 * running C eval loop. 3.11+ interpreter frames own their locals. */
	bool legacy = ch_py_has(&c->py->layout, CH_PY_TSTATE_FRAME);
	for (size_t fi = 0; fi < s->nframes; fi++) {
		const struct ch_py_frame *f = &s->frames[fi];
		struct ch_error *err;
		for (size_t li = f->locals_first; li < f->locals_first + f->nlocals; li++) {
			const struct ch_py_local *loc = &s->locals[li];
			uint32_t obj = ch_objects_find(t, loc->object);
			if (obj == CH_NO_OBJECT)
				continue;
			if (!legacy && !f->generator)
				bump(r->refs, obj);
			if ((err = push(r, obj, CH_ROOT_FRAME_LOCAL, ch_objects_find(t, loc->name_object), (uint32_t)fi, 0)))
				return err;
		}
		uint32_t g = ch_objects_find(t, f->globals);
		if (g != CH_NO_OBJECT && (err = push(r, g, CH_ROOT_FRAME_GLOBALS, CH_NO_OBJECT, (uint32_t)fi, 0)))
			return err;
		uint32_t self = legacy ? ch_objects_find(t, f->address) : CH_NO_OBJECT;
		if (self != CH_NO_OBJECT) {
			bump(c->maybe, self);
			if ((err = push(r, self, CH_ROOT_FRAME_OTHER, CH_NO_OBJECT, (uint32_t)fi, f->address)))
				return err;
		}
		/* 3.14+: the header's f_executable/f_funcobj and the stack are
		 * _PyStackRef words (a tag in bit 0). */
		const bool tagged = ch_py_has(&c->py->layout, CH_PY_STACKREF_REFCNT_TAG);
		if ((err = scan_words(c, f->header.start, f->header.end, CH_ROOT_FRAME_OTHER, (uint32_t)fi, tagged)) ||
		    (err = scan_words(c, f->stack.start, f->stack.end, CH_ROOT_FRAME_OTHER, (uint32_t)fi, tagged)))
			return err;
	}
	return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Address ranges [lo, hi), sorted, with a binary-search membership test. */
struct spans {
	uint64_t *lo, *hi;
	size_t n, cap;
};

static struct ch_error *spans_add(struct spans *s, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *l = realloc(s->lo, cap * sizeof(*l));
		if (!l)
			return &ch_error_nomem;
		s->lo = l;
		uint64_t *h = realloc(s->hi, cap * sizeof(*h));
		if (!h)
			return &ch_error_nomem;
		s->hi = h;
		s->cap = cap;
	}
	s->lo[s->n] = lo;
	s->hi[s->n++] = hi;
	return NULL;
}

/* Sorts by start (insertion sort: tens of ranges). */
static void spans_sort(struct spans *s)
{
	for (size_t i = 1; i < s->n; i++)
		for (size_t j = i; j > 0 && s->lo[j - 1] > s->lo[j]; j--) {
			uint64_t l = s->lo[j], h = s->hi[j];
			s->lo[j] = s->lo[j - 1], s->hi[j] = s->hi[j - 1];
			s->lo[j - 1] = l, s->hi[j - 1] = h;
		}
}

/* The last span starting at or below a, by halving with a select rather
 * than a branch (it runs once per object, and heap addresses make the
 * branch a coin toss). */
static bool spans_has(const struct spans *s, uint64_t a)
{
	if (!s->n || a < s->lo[0])
		return false;
	const uint64_t *base = s->lo;
	for (size_t n = s->n; n > 1; n -= n / 2)
		base = base[n / 2] <= a ? base + n / 2 : base;
	return a < s->hi[base - s->lo];
}

static void spans_deinit(struct spans *s)
{
	free(s->lo);
	free(s->hi);
	memset(s, 0, sizeof(*s));
}

/* Objects whose address lies in a mapped ELF image are static data:
 * static types, None/True/False, 3.11+ deep-frozen code objects, 3.12+
 * runtime singletons. */
static struct ch_error *static_find(struct ch_roots_ctx *c)
{
	struct ch_process *proc = c->py->proc;
	const struct ch_object_table *t = &c->a->heap.objects;
	c->is_static = calloc(t->n ? t->n : 1, 1);
	if (!c->is_static)
		return &ch_error_nomem;
	struct spans images = {0};
	struct ch_error *err = NULL;
	for (size_t m = 0; m < proc->nmodules && !err; m++)
		if (proc->modules[m].status != CH_MODULE_NOT_ELF)
			err = spans_add(&images, proc->modules[m].start, proc->modules[m].end);
	spans_sort(&images);
	for (size_t i = 0; i < t->n && !err; i++)
		c->is_static[i] = spans_has(&images, t->addr[i]);
	spans_deinit(&images);
	return err;
}

/* The static roots, and their extents (sorted) for scan() to skip. */
static struct ch_error *static_roots(struct ch_roots_ctx *c)
{
	const struct ch_object_table *t = &c->a->heap.objects;
	size_t first = c->r->n;
	for (size_t i = 0; i < t->n; i++) {
		struct ch_error *err;
		if (c->is_static[i] && (err = push(c->r, (uint32_t)i, CH_ROOT_STATIC, CH_NO_OBJECT, 0, 0)))
			return err;
	}
	size_t n = c->r->n - first;
	c->static_lo = malloc((n ? n : 1) * sizeof(uint64_t));
	c->static_hi = malloc((n ? n : 1) * sizeof(uint64_t));
	if (!c->static_lo || !c->static_hi)
		return &ch_error_nomem;
	/* Static objects do not overlap, so hi is sorted along with lo. */
	for (size_t k = 0; k < n; k++)
		c->static_lo[k] = t->addr[c->r->items[first + k].object];
	if (n)
		qsort(c->static_lo, n, sizeof(uint64_t), cmp_u64);
	for (size_t k = 0; k < n; k++) {
		uint32_t o = ch_objects_find(t, c->static_lo[k]);
		c->static_hi[k] = c->static_lo[k] + (ch_objects_size(t, o) ? ch_objects_size(t, o) : 8);
	}
	c->nstatic = n;
	return NULL;
}

/* The C data of every mapped ELF module: its writable PT_LOAD segments
 * (.data and .bss, memsz past the file's bytes) when the file is at hand,
 * else the writable mappings inside the module's span. */
static struct ch_error *module_data(struct ch_process *proc, struct spans *out)
{
	struct ch_error *err = NULL;
	for (size_t m = 0; m < proc->nmodules && !err; m++) {
		const struct ch_module *mod = &proc->modules[m];
		if (mod->status == CH_MODULE_NOT_ELF)
			continue;
		if (mod->elf) {
			for (size_t k = 0; k < mod->elf->nsegments && !err; k++) {
				const struct ch_elf_segment *ps = &mod->elf->segments[k];
				if (ps->flags & 2 /* PF_W */)
					err = spans_add(out, mod->bias + ps->vaddr, mod->bias + ps->vaddr + ps->memsz);
			}
			continue;
		}
		const struct ch_core_file *core = proc->core;
		for (size_t i = 0; i < core->nsegments && !err; i++) {
			const struct ch_core_segment *seg = &core->segments[i];
			if ((seg->flags & 2) && seg->vaddr >= mod->start && seg->vaddr < mod->end)
				err = spans_add(out, seg->vaddr, seg->vaddr + seg->memsz);
		}
	}
	spans_sort(out);
	return err;
}

/* C data, then interpreter states that live outside it (malloc'd: 3.8-3.11
 * and sub-interpreters; 3.12+'s main interpreter is inside _PyRuntime). */
static struct ch_error *c_global_roots(struct ch_roots_ctx *c, const uint64_t *interps, size_t ninterps)
{
	struct spans data = {0};
	struct ch_error *err = module_data(c->py->proc, &data);
	for (size_t i = 0; i < data.n && !err; i++)
		err = scan(c, data.lo[i], data.hi[i], CH_ROOT_C_GLOBAL, 0);
	uint64_t size = ch_py_has(&c->py->layout, CH_PY_SIZEOF_INTERP) ? (uint64_t)c->py->layout.v[CH_PY_SIZEOF_INTERP] : 0;
	for (size_t i = 0; i < ninterps && size && !err; i++)
		if (!spans_has(&data, interps[i]))
			err = scan(c, interps[i], interps[i] + size, CH_ROOT_C_GLOBAL, 0);
	spans_deinit(&data);
	return err;
}

static struct ch_error *thread_roots(struct ch_roots_ctx *c)
{
	const struct ch_py_stacks *s = &c->r->stacks;
	uint64_t size = ch_py_has(&c->py->layout, CH_PY_SIZEOF_TSTATE) ? (uint64_t)c->py->layout.v[CH_PY_SIZEOF_TSTATE] : 0;
	for (size_t i = 0; i < s->nthreads && size; i++) {
		uint64_t ts = s->threads[i].thread->tstate;
		struct ch_error *err = scan(c, ts, ts + size, CH_ROOT_THREAD, (uint32_t)i);
		if (err)
			return err;
	}
	return NULL;
}

static struct ch_error *external_roots(struct ch_roots_ctx *c)
{
	const struct ch_object_table *t = &c->a->heap.objects;
	struct ch_roots *r = c->r;
	/* Static objects are never freed whatever their count says. */
	const uint8_t *is_static = c->is_static;
	struct ch_error *err = NULL;
	for (size_t i = 0; i < t->n && !err; i++) {
		int64_t rc = ch_objects_refcnt(t, i);
		uint64_t found = (uint64_t)r->refs[i] + c->maybe[i];
		if (is_static[i] || ch_py_refcnt_immortal(&c->py->layout, rc) || rc <= 0 || (uint64_t)rc <= found)
			continue;
		err = push(r, (uint32_t)i, CH_ROOT_EXTERNAL, CH_NO_OBJECT, 0, (uint64_t)rc - found);
	}
	return err;
}

static size_t collect_interps(const struct ch_python *py, uint64_t *out, size_t max)
{
	size_t n = 0;
	if (py->main_interp)
		out[n++] = py->main_interp;
	/* Every interpreter of the runtime's list, with or without a thread
	 * state (a sub-interpreter between two calls has none). */
	for (size_t i = 1; i < py->ninterps && n < max; i++)
		if (py->interps[i].addr != py->main_interp)
			out[n++] = py->interps[i].addr;
	for (size_t i = 0; i < py->nthreads && n < max; i++) {
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = out[k] == py->threads[i].interp;
		if (!seen && py->threads[i].interp)
			out[n++] = py->threads[i].interp;
	}
	return n;
}

struct ch_error *ch_roots_read_stacks(struct ch_roots *r, struct ch_python *py)
{
	struct ch_error *err = ch_py_stacks_read(py, true, &r->stacks);
	if (err && err->kind != CH_ERR_UNSUPPORTED)
		return err;
	if (err) {
		ch_diag_partial(&py->diag, "frames are not read, so frame roots are missing: %s", err->message);
		ch_error_free(err);
	}
	return NULL;
}

struct ch_error *ch_roots_find(struct ch_roots *r, struct ch_analysis *a)
{
	memset(r, 0, sizeof(*r));
	struct ch_python *py = a->heap.py;
	size_t n = a->heap.objects.n;
	struct ch_roots_ctx c = {.r = r, .a = a, .py = py};
	r->refs = calloc(n ? n : 1, sizeof(*r->refs));
	r->maybe = calloc(n ? n : 1, sizeof(*r->maybe));
	c.maybe = r->maybe;
	if (!r->refs || !r->maybe) {
		ch_roots_deinit(r);
		return &ch_error_nomem;
	}
	uint64_t interps[CH_ROOT_MAX_INTERPS];
	size_t ninterps = collect_interps(py, interps, CH_ROOT_MAX_INTERPS);
	struct ch_error *err = static_find(&c);
	if (err)
		goto out;
	for (size_t i = 0; i < ninterps && ch_py_has(&py->layout, CH_PY_INTERP_INTERNED); i++) {
		uint64_t v;
		uint32_t obj;
		if (ch_error_ok(ch_py_read_u64(py, interps[i], CH_PY_INTERP_INTERNED, &v)) && v &&
		    (obj = ch_objects_find(&a->heap.objects, v)) != CH_NO_OBJECT)
			c.interned[c.ninterned++] = obj;
	}
	count_edges(&c);
	if ((err = ch_roots_read_stacks(r, py)))
		goto out;
	/* What the finding says from here on is not said again by roots taken
	 * from an index (ch_roots_get): only roots found in silence are kept. */
	size_t said = py->diag.n, dropped = py->diag.dropped, lost = py->proc ? py->proc->as.lost_reads : 0;
	bool partial = py->diag.partial;
	/* Priority order: the kinds in enum order. */
	if ((err = interpreter_roots(&c, interps, ninterps)) || (err = frame_roots(&c)) || (err = thread_roots(&c)))
		goto out;
	if ((err = static_roots(&c)) || (err = c_global_roots(&c, interps, ninterps)) || (err = external_roots(&c)))
		goto out;
	r->quiet = py->diag.n == said && py->diag.dropped == dropped && py->diag.partial == partial &&
		   (py->proc ? py->proc->as.lost_reads : 0) == lost;
out:
	free(c.is_static);
	free(c.static_lo);
	free(c.static_hi);
	if (err)
		ch_roots_deinit(r);
	return err;
}

/* The dead part of a thread's stack (below its stack pointer, minus the
 * 128-byte red zone) holds stale words from returned calls. */
static uint64_t live_stack_start(const struct ch_core_file *core, const struct ch_core_segment *seg)
{
	for (size_t i = 0; i < core->nthreads; i++) {
		uint64_t sp = core->threads[i].sp;
		if (sp >= seg->vaddr && sp < seg->vaddr + seg->memsz)
			return sp >= seg->vaddr + 128 ? sp - 128 : seg->vaddr;
	}
	return seg->vaddr;
}

/* Bytes to skip when the words at p look like the header of a freed
 * object: refcount 0 followed by the address of a known type (pymalloc
 * leaves both in a freed block, and the body keeps its stale pointers).
 * 0 when they do not. */
static uint64_t dead_object_extent(const struct ch_python *py, const uint8_t *p, uint64_t avail)
{
	uint64_t rc, type;
	if (avail < 16)
		return 0;
	memcpy(&rc, p, 8);
	if (rc != 0)
		return 0;
	memcpy(&type, p + 8, 8);
	if (type < 4096 || (type & 7))
		return 0;
	uint32_t ti = ch_index_hash_find(&py->types.index, py->types.v, sizeof(*py->types.v), type);
	if (ti == CH_INDEX_NONE)
		return 0;
	int64_t size = py->types.v[ti].basicsize;
	return size >= 16 && size <= 4096 ? ((uint64_t)size + 7) & ~7ull : 16;
}

/* 3.11+: each thread's data-stack chunk above its top holds the frames of
 * returned calls, locals and all. */
static struct ch_error *dead_frame_stacks(const struct ch_roots *r, struct ch_python *py, struct spans *out)
{
	struct ch_error *err = NULL;
	if (!ch_py_has(&py->layout, CH_PY_TSTATE_DATASTACK_TOP) || !ch_py_has(&py->layout, CH_PY_TSTATE_DATASTACK_LIMIT))
		return NULL;
	for (size_t i = 0; i < r->stacks.nthreads && !err; i++) {
		uint64_t ts = r->stacks.threads[i].thread->tstate, top, limit;
		if (ch_error_ok(ch_py_read_u64(py, ts, CH_PY_TSTATE_DATASTACK_TOP, &top)) &&
		    ch_error_ok(ch_py_read_u64(py, ts, CH_PY_TSTATE_DATASTACK_LIMIT, &limit)) && top && limit > top &&
		    limit - top < CH_ROOT_SCAN_MAX)
			err = spans_add(out, top, limit);
	}
	spans_sort(out);
	return err;
}

/* Words of the scan that may point at objects, looked up in batches
 * (ch_objects_prefetch_*): the lookups are the scan's cost, and each is
 * a cache miss on a big heap. */
#define SCAN_BATCH 256

struct scan_batch {
	uint64_t w[SCAN_BATCH];
	size_t n;
};

static void scan_flush(struct ch_roots *r, const struct ch_object_table *t, struct scan_batch *b)
{
	for (size_t k = 0; k < b->n; k++)
		ch_objects_prefetch_slot(t, b->w[k]);
	for (size_t k = 0; k < b->n; k++)
		ch_objects_prefetch_entry(t, b->w[k]);
	for (size_t k = 0; k < b->n; k++) {
		uint32_t obj = ch_objects_find(t, b->w[k]);
		if (obj != CH_NO_OBJECT)
			bump(r->maybe, obj);
	}
	b->n = 0;
}

void ch_roots_scan_memory(struct ch_roots *r, const struct ch_analysis *a)
{
	const struct ch_object_table *t = &a->heap.objects;
	const struct ch_python *py = a->heap.py;
	const struct ch_core_file *core = py->proc->core;
	if (!t->n)
		return;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < t->n; i++) {
		lo = t->addr[i] < lo ? t->addr[i] : lo;
		hi = t->addr[i] > hi ? t->addr[i] : hi;
	}
	/* Freed objects are looked for only outside the ELF images' data,
	 * where static structs (a NULL field before a type pointer) would
	 * look like them. */
	struct spans data = {0}, dead = {0};
	struct scan_batch batch = {.n = 0};
	struct ch_error *err = module_data(py->proc, &data);
	if (err) {
		ch_error_free(err);
		spans_deinit(&data);
	}
	if ((err = dead_frame_stacks(r, a->heap.py, &dead))) {
		ch_error_free(err);
		spans_deinit(&dead);
	}
	for (size_t s = 0; s < core->nsegments; s++) {
		const struct ch_core_segment *seg = &core->segments[s];
		if (!(seg->flags & 2 /* PF_W */) || !seg->present)
			continue;
		bool heap = !spans_has(&data, seg->vaddr);
		uint64_t from = live_stack_start(core, seg) - seg->vaddr;
		const uint8_t *p = core->data + seg->offset;
		for (uint64_t off = (from + 7) & ~7ull; off + 8 <= seg->present; off += 8) {
			uint64_t w;
			memcpy(&w, p + off, 8);
			if (dead.n && spans_has(&dead, seg->vaddr + off))
				continue;
			if (w == 0 && heap) {
				/* A freed object's body: its words are stale. Live
				 * objects never have refcount 0, so none is skipped. */
				uint64_t skip = dead_object_extent(py, p + off, seg->present - off);
				if (skip && ch_objects_find(t, seg->vaddr + off) == CH_NO_OBJECT)
					off += skip - 8;
				continue;
			}
			if (w < lo || w > hi || (w & 7))
				continue;
			batch.w[batch.n++] = w;
			if (batch.n == SCAN_BATCH)
				scan_flush(r, t, &batch);
		}
	}
	scan_flush(r, t, &batch);
	spans_deinit(&data);
	spans_deinit(&dead);
}

void ch_roots_deinit(struct ch_roots *r)
{
	free(r->items);
	free(r->refs);
	free(r->maybe);
	ch_py_stacks_deinit(&r->stacks);
	memset(r, 0, sizeof(*r));
}
