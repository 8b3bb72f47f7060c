#include "readers/cpython/python.h"

#include <elf.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/base/chain.h"
#include "readers/process/dwarf_types.h"
#include "readers/cpython/py_gc.h"
#include "readers/cpython/py_gc_globals.h"
#include "readers/cpython/py_layout_check.h"
#include "readers/cpython/py_layout_table.h"

#define CH_MAX_INTERPRETERS 4096
#define CH_MAX_THREADS 65536

struct ch_error *ch_py_field_absent(enum ch_py_field f)
{
	return ch_error_new(CH_ERR_UNSUPPORTED, "layout field %s is not available", ch_py_field_name(f));
}

struct ch_error *ch_py_read_i32(struct ch_python *py, uint64_t base, enum ch_py_field f, int32_t *out)
{
	int64_t off = py->layout.v[f];
	if (off == CH_PY_ABSENT)
		return ch_py_field_absent(f);
	uint32_t v;
	struct ch_error *err = ch_as_read_u32(&py->proc->as, base + (uint64_t)off, &v);
	if (!err)
		*out = (int32_t)v;
	return err;
}

/* The module that defines _PyRuntime: libpython when it is shared, else the
 * executable (statically linked interpreters), else any other loaded file:
 * an interpreter started as `ld.so --library-path ... python3.X` has the
 * loader as its main program (AT_PHDR is the loader's), the interpreter is
 * just one more mapping. Only usable files are tried in that last pass. */
static struct ch_error *find_runtime_by(struct ch_python *py, const char *anchor, struct ch_error **first_problem)
{
	struct ch_process *proc = py->proc;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < proc->nmodules; i++) {
			struct ch_module *mod = &proc->modules[i];
			const char *base = strrchr(mod->path, '/');
			base = base ? base + 1 : mod->path;
			bool libpython = strncmp(base, "libpython", 9) == 0;
			bool candidate = pass == 0 ? libpython : pass == 1 ? mod->is_main : !libpython && !mod->is_main;
			if (!candidate || (pass == 2 && mod->status != CH_MODULE_OK))
				continue;
			struct ch_elf_file *ef;
			struct ch_error *err = ch_process_module_elf(mod, &ef);
			if (err) {
				if (!*first_problem)
					*first_problem = err;
				else
					ch_error_free(err);
				continue;
			}
			uint64_t value;
			err = ch_elf_symbol(ef, anchor, &value, NULL);
			if (err) {
				ch_error_free(err);
				continue;
			}
			py->module = mod;
			py->runtime = strcmp(anchor, "_PyRuntime") == 0 ? value + mod->bias : 0;
			uint64_t tt;
			err = ch_elf_symbol(ef, "PyType_Type", &tt, NULL);
			if (!err)
				py->type_type = tt + mod->bias;
			ch_error_free(err);
			return NULL;
		}
	}
	return ch_error_new(CH_ERR_NOT_FOUND, "no %s", anchor);
}

/* 3.7+ define _PyRuntime; 3.6 and Python 2 do not, but every CPython
 * defines Py_GetVersion (the version then tells them apart). */
static struct ch_error *find_runtime(struct ch_python *py)
{
	struct ch_process *proc = py->proc;
	struct ch_error *first_problem = NULL;
	static const char *const anchors[] = {"_PyRuntime", "Py_GetVersion"};
	for (size_t a = 0; a < 2; a++) {
		struct ch_error *err = find_runtime_by(py, anchors[a], &first_problem);
		if (!err) {
			ch_error_free(first_problem);
			return NULL;
		}
		ch_error_free(err);
	}
	if (first_problem)
		return first_problem;
	return ch_error_new(CH_ERR_UNSUPPORTED,
			    "%s: no CPython runtime found (neither libpython nor the executable defines _PyRuntime; not a Python process?)",
			    proc->core->path);
}

/* The file with the DWARF of the runtime's module: embedded, or a separate
 * debug file found by build-id or .gnu_debuglink (readers/debug_file.h).
 * The DWARF itself is opened when first needed (ch_python_dwarf). */
static struct ch_error *find_dwarf(struct ch_python *py)
{
	struct ch_debug_file df;
	struct ch_error *err = ch_debug_file_find(py->module->elf, py->module->path, py->proc->opts.debug_dir, &df);
	if (err)
		return err;
	py->dwarf_path = df.path;
	py->dwarf_method = df.method;
	if (df.method != CH_DEBUG_EMBEDDED)
		ch_error_free(ch_elf_open(df.path, &py->debug_elf)); /* symbols are a bonus */
	return NULL;
}

/* Forget the file find_dwarf found (its DWARF cannot be read). */
static void drop_dwarf(struct ch_python *py)
{
	free(py->dwarf_path);
	py->dwarf_path = NULL;
	ch_elf_close(py->debug_elf);
	py->debug_elf = NULL;
}

struct ch_error *ch_python_dwarf(struct ch_python *py, struct ch_dwarf **out)
{
	*out = NULL;
	if (!py->dwarf_path)
		return ch_error_new(CH_ERR_NOT_FOUND, "%s: no debug info", py->module->path);
	if (!py->dwarf) {
		struct ch_error *err = ch_dwarf_open(py->dwarf_path, &py->dwarf);
		if (err)
			return err;
	}
	*out = py->dwarf;
	return NULL;
}

/* The cache's name for the layouts of py->dwarf_path: its build-id, when
 * the runtime's module has the same one (the debug-file finder refuses a
 * file of another build, but accepts one without an id). */
static bool cache_id(struct ch_python *py, char *hex, struct ch_py_layout_cache_id *id)
{
	const struct ch_elf_file *mod = py->module->elf;
	const struct ch_elf_file *file = py->dwarf_method == CH_DEBUG_EMBEDDED ? mod : py->debug_elf;
	if (!file || !mod || !file->build_id_len || file->build_id_len != mod->build_id_len ||
	    memcmp(file->build_id, mod->build_id, mod->build_id_len) != 0)
		return false;
	ch_build_id_hex(file->build_id, file->build_id_len, hex);
	*id = (struct ch_py_layout_cache_id){hex, py->version.text, py->version.method, py->dwarf_path};
	return true;
}

/* The layout from the runtime's DWARF: from the layout cache when it holds
 * this build's (py_layout_cache.h), else read from the DWARF and cached.
 * *unusable: the DWARF was opened, but the layout could not be read from
 * it (e.g. dwz-compressed). */
static struct ch_error *layout_from_dwarf(struct ch_python *py, bool *unusable)
{
	char hex[2 * sizeof(py->module->elf->build_id) + 1];
	struct ch_py_layout_cache_id id;
	bool cacheable = cache_id(py, hex, &id) && ch_py_layout_cache_locate(&py->layout_cache, &id);
	if (cacheable && ch_py_layout_cache_load(&py->layout_cache, &id, &py->layout))
		return NULL;
	struct ch_dwarf *dw;
	struct ch_error *err = ch_python_dwarf(py, &dw);
	if (err) {
		drop_dwarf(py);
		if (err->kind == CH_ERR_NOT_FOUND)
			err->kind = CH_ERR_UNSUPPORTED;
		return err;
	}
	err = ch_py_layout_from_dwarf(&py->layout, dw, py->dwarf_path);
	if (err) {
		memset(&py->layout_cache, 0, sizeof(py->layout_cache));
		*unusable = true;
		return ch_error_prefix(err, "debug info unusable");
	}
	if (cacheable)
		ch_py_layout_cache_store(&py->layout_cache, &id, &py->layout);
	return NULL;
}

/* The layout: from the runtime module's DWARF, else from the built-in
 * table for the detected version (readers/cpython/py_layout_table.h). The
 * environment variable CH_LAYOUT_SOURCE=builtin skips DWARF (tests, and
 * checking a table against a core). */
static struct ch_error *load_layout(struct ch_python *py)
{
	const char *force = getenv("CH_LAYOUT_SOURCE");
	bool builtin_only = force && strcmp(force, "builtin") == 0;
	struct ch_error *why = builtin_only ? ch_error_new(CH_ERR_NOT_FOUND, "CH_LAYOUT_SOURCE=builtin") : find_dwarf(py);
	bool unusable = false; /* found, but not readable as CPython's (e.g. dwz-compressed) */
	/* A debug file that was found but refused (another build's: build-id
	 * or CRC mismatch), or whose DWARF cannot be opened, is the user's to
	 * fix, not a reason to guess. */
	if (why && why->kind == CH_ERR_INPUT)
		return why;
	if (!why) {
		why = layout_from_dwarf(py, &unusable);
		if (!why)
			return NULL;
		if (why->kind == CH_ERR_INPUT && !unusable)
			return why;
	}
	/* The built-in tables were made from x86_64 builds; another machine's
	 * structs differ where a libc type is embedded (pthread_mutex_t in the
	 * GIL is 40 bytes on x86_64, 48 on aarch64), so only its own DWARF
	 * describes it. */
	const struct ch_core_arch *arch = py->proc->core->arch;
	struct ch_error *err = arch->machine == EM_X86_64
				       ? ch_py_layout_from_table(&py->layout, &py->version)
				       : ch_error_new(CH_ERR_UNSUPPORTED, "the built-in layout tables are x86_64's, this core is %s's",
						      arch->name);
	if (err) {
		struct ch_error *e = ch_error_new(
			CH_ERR_UNSUPPORTED,
			"CPython %s in %s: no usable debug info (%s) and %s; install the interpreter's debug symbols (e.g. "
			"apt-get install python3.%d-dbg), pass --debug-dir DIR where its .build-id/ debug files are, or use a build with -g",
			py->version.text, py->module->path, why->message, err->message, py->version.minor);
		ch_error_free(err);
		ch_error_free(why);
		return e;
	}
	py->layout.dwarf_problem = strdup(why->message);
	if (!py->layout.table_exact || unusable)
		ch_diag_warn(&py->diag, "%s: %s; using the built-in layout table %s%s", py->module->path, why->message,
			     py->layout.table,
			     py->layout.table_exact ? "" : " of another micro version (fields may have moved; install debug symbols to be sure)");
	ch_error_free(why);
	return py->layout.dwarf_problem ? NULL : &ch_error_nomem;
}

static bool parse_version_text(const char *s, size_t n, struct ch_py_version *v)
{
	/* "3.<minor>.<micro>[level]" followed by " (" as Py_GetVersion() writes it. */
	size_t i = 0;
	if (n < 6 || (s[0] != '3' && s[0] != '2') || s[1] != '.')
		return false;
	int minor = 0, micro = 0;
	i = 2;
	if (!isdigit((unsigned char)s[i]))
		return false;
	while (i < n && isdigit((unsigned char)s[i]) && minor < 1000)
		minor = minor * 10 + (s[i++] - '0');
	if (i >= n || s[i] != '.')
		return false;
	i++;
	if (i >= n || !isdigit((unsigned char)s[i]))
		return false;
	while (i < n && isdigit((unsigned char)s[i]) && micro < 1000)
		micro = micro * 10 + (s[i++] - '0');
	size_t end = i;
	while (end < n && end - i < 8 && (isalnum((unsigned char)s[end]) || s[end] == '+'))
		end++;
	if (end + 2 > n || s[end] != ' ' || s[end + 1] != '(')
		return false;
	v->major = s[0] - '0';
	v->minor = minor;
	v->micro = micro;
	snprintf(v->text, sizeof(v->text), "%.*s", (int)end, s);
	return true;
}

/* Py_Version (3.11+) is a const in the file image; older versions keep only
 * the text Py_GetVersion() formats into a static buffer at startup, which
 * lives in the writable data the core holds. */
static struct ch_error *detect_version(struct ch_python *py)
{
	struct ch_elf_file *ef = py->module->elf;
	uint64_t value;
	struct ch_error *err = ch_elf_symbol(ef, "Py_Version", &value, NULL);
	if (!err) {
		const uint8_t *p = ch_elf_vaddr_bytes(ef, value, 4);
		if (p) {
			ch_py_version_from_hex(ch_le32(p), &py->version);
			py->version.method = "Py_Version";
			return NULL;
		}
	}
	ch_error_free(err);
	struct ch_address_space *as = &py->proc->as;
	static const char *const sections[] = {".bss", ".data"};
	/* libpython3.X / libpython2.X names its major version: text of the
	 * other one is some other string. */
	const char *file = strrchr(ef->path, '/');
	file = file ? file + 1 : ef->path;
	char name_major = strncmp(file, "libpython", 9) == 0 && (file[9] == '2' || file[9] == '3') ? file[9] : 0;
	for (size_t k = 0; k < 2; k++) {
		uint64_t addr, size;
		err = ch_elf_section(ef, sections[k], &addr, &size, NULL);
		if (err) {
			ch_error_free(err);
			continue;
		}
		addr += py->module->bias;
		for (uint64_t off = 0; off < size;) {
			const struct ch_as_range *r = ch_as_find(as, addr + off);
			if (!r || !r->data) {
				ch_as_count_lost(as, r); /* the text may have been there */
				off += 4096;
				continue;
			}
			uint64_t n = r->end - (addr + off);
			if (n > size - off)
				n = size - off;
			const char *s = (const char *)r->data + (addr + off - r->start);
			for (uint64_t i = 0; i + 6 < n; i++) {
				if ((s[i] == '3' || s[i] == '2') && s[i + 1] == '.' && (i == 0 || s[i - 1] == '\0') &&
				    (!name_major || s[i] == name_major) &&
				    parse_version_text(s + i, (size_t)(n - i), &py->version)) {
					py->version.method = "Py_GetVersion() text";
					return NULL;
				}
			}
			off += n;
		}
	}
	const char *base = strrchr(ef->path, '/');
	base = base ? base + 1 : ef->path;
	if (strncmp(base, "libpython2.", 11) == 0 || strncmp(base, "python2", 7) == 0)
		return ch_error_new(CH_ERR_UNSUPPORTED, "Python 2 is not supported (CPython 3.6 or newer is; %s is Python 2's)", ef->path);
	return ch_error_new(CH_ERR_UNSUPPORTED, "%s: cannot determine the Python version (no Py_Version, no version text)",
			    ef->path);
}

/* Address of generation g's running totals. 3.8-3.14: the array
 * generation_stats[] inside the GC state. 3.15: generation_stats points at
 * struct gc_stats, whose young (generation 0) and old[0..1] (1, 2) are ring
 * buffers of per-collection records; items[index] is the latest, and its
 * counters are cumulative (gc.get_stats() reports that entry). */
static bool gc_stats_entry(struct ch_python *py, uint64_t stats_field, int g, uint64_t *out)
{
	const struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	const uint64_t item = (uint64_t)l->v[CH_PY_SIZEOF_GCSTATS];
	if (!ch_py_has(l, CH_PY_GCSTATS_YOUNG)) {
		*out = stats_field + (uint64_t)g * item;
		return true;
	}
	static const enum ch_py_field need[] = {CH_PY_GCSTATS_OLD, CH_PY_GCSTATS_YOUNG_INDEX, CH_PY_GCSTATS_YOUNG_LEN,
						CH_PY_GCSTATS_OLD_INDEX, CH_PY_GCSTATS_OLD_LEN, CH_PY_SIZEOF_GCSTATS_OLDBUF,
						CH_PY_GCSTATS_YOUNG_ITEMS, CH_PY_GCSTATS_OLD_ITEMS};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!ch_py_has(l, need[i]))
			return false;
	uint64_t stats, buf;
	struct ch_error *err = ch_as_read_u64(as, stats_field, &stats);
	if (err || !stats) {
		ch_error_free(err);
		return false;
	}
	enum ch_py_field f_index = CH_PY_GCSTATS_OLD_INDEX, f_len = CH_PY_GCSTATS_OLD_LEN, f_items = CH_PY_GCSTATS_OLD_ITEMS;
	if (g == 0) {
		buf = stats + (uint64_t)l->v[CH_PY_GCSTATS_YOUNG];
		f_index = CH_PY_GCSTATS_YOUNG_INDEX;
		f_len = CH_PY_GCSTATS_YOUNG_LEN;
		f_items = CH_PY_GCSTATS_YOUNG_ITEMS;
	} else {
		buf = stats + (uint64_t)l->v[CH_PY_GCSTATS_OLD] + (uint64_t)(g - 1) * (uint64_t)l->v[CH_PY_SIZEOF_GCSTATS_OLDBUF];
	}
	uint8_t index;
	err = ch_as_read(as, buf + (uint64_t)l->v[f_index], &index, 1);
	if (err || (int8_t)index < 0 || (int64_t)index >= l->v[f_len]) {
		ch_error_free(err);
		return false;
	}
	*out = buf + (uint64_t)l->v[f_items] + index * item;
	return true;
}

/* The places of a struct _gc_runtime_state at gc (3.7+). */
static struct ch_gc_places gc_places_of_struct(const struct ch_py_layout *l, uint64_t gc)
{
	struct ch_gc_places p = {.base = gc, .ngenerations = l->v[CH_PY_GC_NUM_GENERATIONS]};
	const struct {
		uint64_t *place;
		enum ch_py_field f;
	} at[] = {{&p.enabled, CH_PY_GC_ENABLED},       {&p.debug, CH_PY_GC_DEBUG},
		  {&p.generations, CH_PY_GC_GENERATIONS}, {&p.generation0, CH_PY_GC_GENERATION0},
		  {&p.permanent, CH_PY_GC_PERMANENT},     {&p.collecting, CH_PY_GC_COLLECTING},
		  {&p.garbage, CH_PY_GC_GARBAGE},         {&p.long_lived_total, CH_PY_GC_LONG_LIVED_TOTAL},
		  {&p.long_lived_pending, CH_PY_GC_LONG_LIVED_PENDING}, {&p.stats, CH_PY_GC_STATS}};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		*at[i].place = ch_py_has(l, at[i].f) ? gc + (uint64_t)l->v[at[i].f] : 0;
	return p;
}

static bool read_i32_at(struct ch_python *py, uint64_t addr, int32_t *out)
{
	uint32_t v;
	struct ch_error *err = addr ? ch_as_read_u32(&py->proc->as, addr, &v) : NULL;
	if (err || !addr) {
		ch_error_free(err);
		return false;
	}
	*out = (int32_t)v;
	return true;
}

static struct ch_error *read_gc_state(struct ch_python *py, const struct ch_gc_places *at, struct ch_gc_state *s)
{
	const struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	struct ch_error *err;
	int32_t v = 0;
	s->address = at->base;
	if (!at->enabled || !at->debug || !at->generations)
		return ch_error_new(CH_ERR_UNSUPPORTED, "the layout from %s does not say where the GC's enabled flag, debug flags and generations are",
				    l->source);
	uint32_t word;
	if ((err = ch_as_read_u32(as, at->enabled, &word)))
		return err;
	s->enabled = word != 0;
	if ((err = ch_as_read_u32(as, at->debug, &word)))
		return err;
	s->debug = (int32_t)word;
	int64_t ngen = at->ngenerations;
	if (ngen < 1 || ngen > CH_GC_MAX_GENERATIONS)
		return ch_error_new(CH_ERR_UNSUPPORTED, "GC state has %" PRId64 " generations", ngen);
	s->ngenerations = (int)ngen;
	uint64_t gsz = (uint64_t)l->v[CH_PY_SIZEOF_GCGEN];
	for (int g = 0; g < s->ngenerations; g++) {
		uint64_t gen = at->generations + (uint64_t)g * gsz;
		s->heads[g] = gen + (uint64_t)l->v[CH_PY_GCGEN_HEAD];
		if ((err = ch_py_read_i32(py, gen, CH_PY_GCGEN_THRESHOLD, &s->thresholds[g])) ||
		    (err = ch_py_read_i32(py, gen, CH_PY_GCGEN_COUNT, &s->counts[g])))
			return err;
	}
	if (at->permanent)
		s->heads[CH_GC_PERMANENT] = at->permanent + (uint64_t)l->v[CH_PY_GCGEN_HEAD];
	/* Self-check of the layout: generation0 points at generations[0].head. */
	if (at->generation0) {
		uint64_t g0;
		if ((err = ch_as_read_u64(as, at->generation0, &g0)))
			return err;
		if (g0 != s->heads[0])
			return ch_error_new(CH_ERR_UNSUPPORTED,
					    "layout self-check failed: GC generation0 is 0x%" PRIx64 ", expected 0x%" PRIx64
					    " (the layout from %s does not describe this interpreter)", g0, s->heads[0], l->source);
		py->layout.self_checks++;
	}
	s->collecting = read_i32_at(py, at->collecting, &v) && v != 0;
	s->garbage = -1;
	uint64_t garbage;
	if (at->garbage && !(err = ch_as_read_u64(as, at->garbage, &garbage))) {
		uint64_t n;
		if (garbage == 0)
			s->garbage = 0;
		else if (!(err = ch_py_read_u64(py, garbage, CH_PY_VAR_SIZE, &n)))
			s->garbage = (int64_t)n;
	}
	ch_error_free(err);
	err = NULL;
	s->long_lived_total = s->long_lived_pending = -1;
	uint64_t u;
	if (at->long_lived_total && !ch_as_read_u64(as, at->long_lived_total, &u))
		s->long_lived_total = (int64_t)u;
	if (at->long_lived_pending && !ch_as_read_u64(as, at->long_lived_pending, &u))
		s->long_lived_pending = (int64_t)u;
	if (at->stats && ch_py_has(l, CH_PY_SIZEOF_GCSTATS) && ch_py_has(l, CH_PY_GCSTATS_COLLECTIONS)) {
		s->have_stats = true;
		for (int g = 0; g < s->ngenerations && s->have_stats; g++) {
			uint64_t st, a, b, c;
			if (!gc_stats_entry(py, at->stats, g, &st) ||
			    ch_as_read_u64(as, st + (uint64_t)l->v[CH_PY_GCSTATS_COLLECTIONS], &a) ||
			    ch_as_read_u64(as, st + (uint64_t)l->v[CH_PY_GCSTATS_COLLECTED], &b) ||
			    ch_as_read_u64(as, st + (uint64_t)l->v[CH_PY_GCSTATS_UNCOLLECTABLE], &c)) {
				s->have_stats = false; /* leaks the error text; stats are optional */
				break;
			}
			s->stats[g].collections = (int64_t)a;
			s->stats[g].collected = (int64_t)b;
			s->stats[g].uncollectable = (int64_t)c;
		}
	}
	if (s->collecting)
		ch_diag_warn(&py->diag, "the dump was taken during a garbage collection: objects being collected sit on lists coreheap cannot see");
	return NULL;
}

static int cmp_thread_addr(const void *a, const void *b)
{
	const struct ch_py_thread *x = *(const struct ch_py_thread *const *)a, *y = *(const struct ch_py_thread *const *)b;
	if (x->tstate != y->tstate)
		return x->tstate < y->tstate ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Brent's check stops a looping list only after some nodes were visited
 * twice; keep the first visit of each thread state from index `from` on. */
static struct ch_error *drop_repeated_threads(struct ch_python *py, size_t from)
{
	size_t n = py->nthreads - from;
	if (n < 2)
		return NULL; /* nothing can repeat */
	struct ch_py_thread **order = malloc(n * sizeof(*order));
	if (!order)
		return &ch_error_nomem;
	for (size_t i = 0; i < n; i++)
		order[i] = &py->threads[from + i];
	qsort(order, n, sizeof(*order), cmp_thread_addr);
	for (size_t i = 1; i < n; i++)
		if (order[i]->tstate == order[i - 1]->tstate)
			order[i]->tstate = 0; /* a later visit of the same state */
	free(order);
	size_t w = from;
	for (size_t i = from; i < py->nthreads; i++)
		if (py->threads[i].tstate)
			py->threads[w++] = py->threads[i];
	py->nthreads = w;
	return NULL;
}

static struct ch_error *read_threads(struct ch_python *py, uint64_t interp)
{
	size_t first = py->nthreads;
	uint64_t t;
	struct ch_error *err = ch_py_read_u64(py, interp, CH_PY_INTERP_THREADS_HEAD, &t);
	if (err)
		return err;
	struct ch_chain chain;
	ch_chain_init(&chain, CH_MAX_THREADS);
	while (t) {
		enum ch_chain_step step = ch_chain_step(&chain, t);
		if (step != CH_CHAIN_OK) {
			ch_diag_partial(&py->diag, "thread-state list of interpreter 0x%" PRIx64 " %s", interp,
					step == CH_CHAIN_LOOP ? "loops" : "is implausibly long");
			if (step == CH_CHAIN_LOOP)
				return drop_repeated_threads(py, first);
			break;
		}
		struct ch_py_thread th = {.tstate = t, .interp = interp, .native_id = -1};
		uint64_t next, nid;
		if ((err = ch_py_read_u64(py, t, CH_PY_TSTATE_THREAD_ID, &th.thread_id)) ||
		    (err = ch_py_read_u64(py, t, CH_PY_TSTATE_NEXT, &next))) {
			ch_diag_partial(&py->diag, "thread state at 0x%" PRIx64 " is unreadable: %s", t, err->message);
			ch_error_free(err);
			break;
		}
		if (ch_py_has(&py->layout, CH_PY_TSTATE_NATIVE_THREAD_ID) &&
		    !ch_py_read_u64(py, t, CH_PY_TSTATE_NATIVE_THREAD_ID, &nid))
			th.native_id = (int64_t)nid;
		struct ch_py_thread *p = realloc(py->threads, (py->nthreads + 1) * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		py->threads = p;
		py->threads[py->nthreads++] = th;
		t = next;
	}
	return NULL;
}

/* py->interps: main first (its GC state already read into py->gc), then
 * the others of the list. With one collector per interpreter (3.9+) each
 * sub-interpreter's state is read too; one that cannot be read is reported
 * and its objects are missed (partial), the others still count. */
static struct ch_error *list_interps(struct ch_python *py, const uint64_t *seen, size_t nseen, bool per_interp)
{
	const struct ch_py_layout *l = &py->layout;
	/* Main may be missing from seen (a list cut short by damage): room for it too. */
	py->interps = calloc(nseen + 1, sizeof(*py->interps));
	if (!py->interps)
		return &ch_error_nomem;
	struct ch_py_interp *m = &py->interps[py->ninterps++];
	m->addr = py->main_interp;
	m->own_gc = true;
	m->gc = py->gc;
	uint64_t id;
	m->id = ch_py_has(l, CH_PY_INTERP_ID) && !ch_py_read_u64(py, m->addr, CH_PY_INTERP_ID, &id) ? (int64_t)id : 0;
	for (size_t k = nseen; k-- > 0;) { /* oldest first, as ids are given */
		if (seen[k] == py->main_interp)
			continue;
		struct ch_py_interp *s = &py->interps[py->ninterps++];
		s->addr = seen[k];
		struct ch_error *err = NULL;
		s->id = ch_py_has(l, CH_PY_INTERP_ID) && !(err = ch_py_read_u64(py, s->addr, CH_PY_INTERP_ID, &id)) ? (int64_t)id
														  : -1;
		ch_error_free(err);
		s->shared_gc = !per_interp;
		if (!per_interp)
			continue; /* ≤3.8: one collector for all */
		struct ch_gc_places at = gc_places_of_struct(l, s->addr + (uint64_t)l->v[CH_PY_INTERP_GC]);
		if ((err = read_gc_state(py, &at, &s->gc))) {
			ch_diag_partial(&py->diag, "interpreter %" PRId64 " (0x%" PRIx64 "): GC state unreadable (%s); its objects are "
					"not counted", s->id, s->addr, err->message);
			ch_error_free(err);
			memset(&s->gc, 0, sizeof(s->gc));
			continue;
		}
		s->own_gc = true;
	}
	return NULL;
}

static struct ch_error *read_interpreters(struct ch_python *py)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t head, interp;
	struct ch_error *err = py->runtime ? ch_py_read_u64(py, py->runtime, CH_PY_RUNTIME_INTERP_HEAD, &head)
					   : ch_py_globals_interp_head(py, &head);
	if (err)
		return ch_error_prefix(err, py->runtime ? "reading _PyRuntime" : "reading the interpreter list");
	if (!head)
		return ch_error_new(CH_ERR_UNSUPPORTED, "the Python runtime has no interpreter (dumped before startup or after shutdown)");
	py->main_interp = 0;
	if (ch_py_has(l, CH_PY_RUNTIME_INTERP_MAIN) && (err = ch_py_read_u64(py, py->runtime, CH_PY_RUNTIME_INTERP_MAIN, &py->main_interp)))
		return err;
	struct ch_chain chain;
	ch_chain_init(&chain, CH_MAX_INTERPRETERS);
	uint64_t seen[CH_PY_MAX_INTERPS];
	size_t ninterps = 0, nseen = 0;
	for (interp = head; interp;) {
		enum ch_chain_step step = ch_chain_step(&chain, interp);
		if (step != CH_CHAIN_OK) {
			ch_diag_partial(&py->diag, "interpreter list %s", step == CH_CHAIN_LOOP ? "loops" : "is implausibly long");
			break;
		}
		/* Brent's check lets a loop repeat some nodes before it stops it:
		 * a repeat adds neither threads nor an interpreter. */
		bool again = false;
		for (size_t k = 0; k < nseen && !again; k++)
			again = seen[k] == interp;
		if (!again && (err = read_threads(py, interp)))
			return err;
		uint64_t next;
		if ((err = ch_py_read_u64(py, interp, CH_PY_INTERP_NEXT, &next))) {
			ch_diag_partial(&py->diag, "interpreter at 0x%" PRIx64 " is unreadable: %s", interp, err->message);
			ch_error_free(err);
			break;
		}
		if (!py->main_interp && !next)
			py->main_interp = interp; /* the list is newest first; main is last */
		if (!again && nseen < CH_PY_MAX_INTERPS)
			seen[nseen++] = interp;
		interp = next;
		ninterps++;
	}
	if (!py->main_interp)
		py->main_interp = head;
	if (ninterps > CH_PY_MAX_INTERPS)
		ch_diag_partial(&py->diag, "%zu interpreters: the GC lists of the first %d only are read", ninterps,
				CH_PY_MAX_INTERPS);
	struct ch_gc_places at;
	bool per_interp = false;
	if (!py->runtime) {
		if ((err = ch_py_globals_gc_places(py, &at)))
			return ch_error_prefix(err, "finding the GC state");
	} else if (ch_py_has(l, CH_PY_RUNTIME_GC) || ch_py_has(l, CH_PY_INTERP_GC)) {
		per_interp = !ch_py_has(l, CH_PY_RUNTIME_GC);
		at = gc_places_of_struct(l, per_interp ? py->main_interp + (uint64_t)l->v[CH_PY_INTERP_GC]
						       : py->runtime + (uint64_t)l->v[CH_PY_RUNTIME_GC]);
	} else {
		return ch_error_new(CH_ERR_UNSUPPORTED, "debug info places the GC state neither in _PyRuntime nor in the interpreter");
	}
	err = read_gc_state(py, &at, &py->gc);
	if (err)
		return ch_error_prefix(err, "reading GC state");
	return list_interps(py, seen, nseen, per_interp);
}

static struct ch_error *symbol_in(struct ch_python *py, const char *name, uint64_t *v)
{
	struct ch_error *err = ch_elf_symbol(py->module->elf, name, v, NULL);
	if (err && py->debug_elf) {
		ch_error_free(err);
		err = ch_elf_symbol(py->debug_elf, name, v, NULL);
	}
	return err;
}

uint64_t ch_python_symbol(struct ch_python *py, const char *name)
{
	uint64_t v;
	/* Compiler-suffixed names (subtype_traverse.lto_priv.0) resolve in
	 * ch_elf_symbol (readers/process/symbol_name.h). */
	struct ch_error *err = symbol_in(py, name, &v);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	return v + py->module->bias;
}

static int count_only(void *arg, const struct ch_gc_object *obj, int generation)
{
	(void)arg;
	(void)obj;
	(void)generation;
	return 0;
}

/* No GC list can hold more objects than fit in the dump's writable memory;
 * outside a collection the back-link check stops loops long before that. */
uint64_t ch_python_object_limit(struct ch_python *py)
{
	uint64_t bytes = 0;
	const struct ch_address_space *as = &py->proc->as;
	for (size_t i = 0; i < as->nranges; i++)
		if (as->ranges[i].data && as->ranges[i].writable)
			bytes += as->ranges[i].end - as->ranges[i].start;
	return bytes / 32 + 1;
}

/* Files that could not back memory are not fatal unless the runtime needs
 * them, but what they would have provided is unreadable: say so once. */
static void warn_about_modules(struct ch_python *py)
{
	size_t missing = 0;
	const char *first = NULL;
	for (size_t i = 0; i < py->proc->nmodules; i++) {
		const struct ch_module *m = &py->proc->modules[i];
		if (m->status == CH_MODULE_MISMATCH)
			ch_diag_warn(&py->diag, "%s", m->problem->message);
		else if (m->status == CH_MODULE_MISSING || m->status == CH_MODULE_BAD) {
			if (!missing++)
				first = m->path;
		}
	}
	char cut[512];
	if (ch_core_truncation_text(py->proc->core, false, cut, sizeof(cut)))
		ch_diag_warn(&py->diag, "%s; memory past the cut is unreadable", cut);
	const struct ch_segment_damage *dmg = &py->proc->damage;
	if (dmg->count)
		ch_diag_partial(&py->diag, "the core's segment table is damaged: %s%s; memory there may hold the wrong "
				"bytes or none, so references into it are unreliable", dmg->first,
				dmg->count > 1 ? " (and more)" : "");
	if (missing)
		ch_diag_warn(&py->diag, "%zu mapped file(s) could not be opened (first: %s); pages the core lacks from them are "
			     "unreadable (--lib-search-path DIR or --sysroot DIR point at them)", missing, first);
}

struct ch_error *ch_python_open(struct ch_process *proc, struct ch_python **out)
{
	*out = NULL;
	struct ch_python *py = calloc(1, sizeof(*py));
	if (!py)
		return &ch_error_nomem;
	py->proc = proc;
	ch_py_types_init(&py->types);
	ch_diag_init(&py->diag);
	struct ch_error *err = find_runtime(py);
	if (!err) {
		warn_about_modules(py);
		err = detect_version(py);
	}
	if (!err && (py->version.major != 3 || py->version.minor < 6))
		err = ch_error_new(CH_ERR_UNSUPPORTED, "Python %d.%d is not supported (CPython 3.6 or newer is; this core's interpreter is %s)",
				   py->version.major, py->version.minor, py->version.text);
	if (!err && !py->runtime && py->version.minor >= 7)
		err = ch_error_new(CH_ERR_UNSUPPORTED, "%s: CPython %s without a _PyRuntime symbol", py->module->path, py->version.text);

	/* 3.14.0-3.14.4 ran the incremental collector (young + two old spaces,
	 * an old-space bit in _gc_next); 3.14.5 restored the generational one.
	 * Its lists are not read (no interpreter to test them against). */
	if (!err && py->version.major == 3 && py->version.minor == 14 && py->version.micro < 5)
		err = ch_error_new(CH_ERR_UNSUPPORTED,
				   "Python %s is not supported: 3.14.0-3.14.4 use the incremental garbage collector, which "
				   "coreheap does not read (3.14.5 and later are supported)", py->version.text);
	if (!err)
		err = load_layout(py);
	if (!err && py->runtime && !ch_py_has(&py->layout, CH_PY_RUNTIME_INTERP_HEAD))
		err = ch_error_new(CH_ERR_UNSUPPORTED, "%s: the layout lacks _PyRuntimeState.interpreters.head", py->layout.source);
	if (!err) {
		ch_py_layout_set_rules(&py->layout, py->version.major, py->version.minor);
		ch_py_layout_check_runtime(py);
		err = read_interpreters(py);
		if (err && err->kind == CH_ERR_FAULT)
			err = ch_error_prefix(err, "reading the interpreter state (core damaged or truncated?)");
	}
	if (!err)
		err = ch_py_layout_self_check(py);
	if (!err && py->gc.heads[CH_GC_PERMANENT])
		err = ch_py_gc_walk(py, CH_GC_PERMANENT, ch_python_object_limit(py), count_only, NULL, &py->frozen);
	if (err) {
		ch_python_close(py);
		return err;
	}
	*out = py;
	return NULL;
}

void ch_python_close(struct ch_python *py)
{
	if (!py)
		return;
	if (py->dwarf)
		ch_dwarf_close(py->dwarf);
	free(py->dwarf_path);
	ch_elf_close(py->debug_elf);
	free((char *)py->layout.dwarf_problem);
	free(py->threads);
	free(py->interps);
	free(py->builtins);
	free(py->asyncio);
	ch_py_types_deinit(&py->types);
	if (py->refs && py->refs_free)
		py->refs_free(py->refs);
	ch_diag_deinit(&py->diag);
	free(py);
}
