/* pymalloc's statistics from a core (py_obmalloc.h), computed the way
 * pymalloc_print_stats (Objects/obmalloc.c) computes them. */
#include "readers/cpython/py_obmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"

#define MAX_ARENA_OBJECTS (1u << 24)

static bool rd64(struct ch_python *py, uint64_t a, uint64_t *v)
{
	struct ch_error *err = ch_as_read_u64(&py->proc->as, a, v);
	ch_error_free(err);
	return !err;
}

static bool rd32(struct ch_python *py, uint64_t a, uint64_t *v)
{
	uint32_t x;
	struct ch_error *err = ch_as_read_u32(&py->proc->as, a, &x);
	ch_error_free(err);
	*v = x;
	return !err;
}

/* Where arenas, maxarenas and the counters are: fields of the interpreter's
 * _obmalloc_state (3.12+), or statics of obmalloc.c (3.8-3.11). */
struct state_addrs {
	uint64_t arenas, maxarenas, ntimes, highwater, map_mid, map_bot;
};

/* A static of obmalloc.c by name; link-time optimisation renames statics
 * "name.lto_priv.N" (Debian's python3.11). */
static uint64_t static_symbol(struct ch_python *py, const char *name)
{
	uint64_t a = ch_python_symbol(py, name);
	for (int n = 0; !a && n < 4; n++) {
		char buf[96];
		snprintf(buf, sizeof(buf), "%s.lto_priv.%d", name, n);
		a = ch_python_symbol(py, buf);
	}
	return a;
}

/* 3.12+: the _obmalloc_state of interpreter interp (embedded in 3.12, a
 * pointer from 3.13), in *base; false with the reason when unreadable. */
static bool interp_state(struct ch_python *py, uint64_t interp, struct ch_pymalloc *out, uint64_t *base)
{
	const struct ch_py_layout *L = &py->layout;
	*base = interp + (uint64_t)ch_py_off(py, CH_PY_INTERP_OBMALLOC);
	if (ch_py_has(L, CH_PY_INTERP_OBMALLOC_SIZE) && ch_py_off(py, CH_PY_INTERP_OBMALLOC_SIZE) == 8 &&
	    !rd64(py, *base, base)) {
		snprintf(out->why_not, sizeof(out->why_not), "the interpreter's obmalloc pointer is not in the core");
		return false;
	}
	return true;
}

static bool locate(struct ch_python *py, uint64_t base, struct ch_pymalloc *out, struct state_addrs *s)
{
	const struct ch_py_layout *L = &py->layout;
	memset(s, 0, sizeof(*s));
	if (ch_py_has(L, CH_PY_INTERP_OBMALLOC)) {
		if (!ch_py_has(L, CH_PY_OBM_ARENAS) || !ch_py_has(L, CH_PY_OBM_MAXARENAS) ||
		    !ch_py_has(L, CH_PY_OBM_NTIMES_ALLOCATED) || !ch_py_has(L, CH_PY_OBM_HIGHWATER)) {
			snprintf(out->why_not, sizeof(out->why_not), "the layout lacks _obmalloc_state's fields");
			return false;
		}
		s->arenas = base + (uint64_t)ch_py_off(py, CH_PY_OBM_ARENAS);
		s->maxarenas = base + (uint64_t)ch_py_off(py, CH_PY_OBM_MAXARENAS);
		s->ntimes = base + (uint64_t)ch_py_off(py, CH_PY_OBM_NTIMES_ALLOCATED);
		s->highwater = base + (uint64_t)ch_py_off(py, CH_PY_OBM_HIGHWATER);
		if (ch_py_has(L, CH_PY_OBM_MAP_MID_COUNT) && ch_py_has(L, CH_PY_OBM_MAP_BOT_COUNT)) {
			s->map_mid = base + (uint64_t)ch_py_off(py, CH_PY_OBM_MAP_MID_COUNT);
			s->map_bot = base + (uint64_t)ch_py_off(py, CH_PY_OBM_MAP_BOT_COUNT);
		}
		return true;
	}
	s->arenas = static_symbol(py, "arenas");
	s->maxarenas = static_symbol(py, "maxarenas");
	s->ntimes = static_symbol(py, "ntimes_arena_allocated");
	s->highwater = static_symbol(py, "narenas_highwater");
	s->map_mid = static_symbol(py, "arena_map_mid_count"); /* 3.10, 3.11 */
	s->map_bot = static_symbol(py, "arena_map_bot_count");
	if (!s->arenas || !s->maxarenas || !s->ntimes || !s->highwater) {
		snprintf(out->why_not, sizeof(out->why_not),
			 "obmalloc.c's statics (arenas, maxarenas, ...) have no symbols in %s (stripped, no debug file)",
			 py->module->path);
		return false;
	}
	return true;
}

/* ARENA_SIZE and POOL_SIZE are build constants of obmalloc.c, not struct
 * fields: 256 KiB / 4 KiB up to 3.9, 1 MiB / 16 KiB from 3.10. Every used
 * pool's maxnextoffset (POOL_SIZE - block size) checks the pool size. */
static void sizes_for(const struct ch_python *py, struct ch_pymalloc *out)
{
	bool small = py->version.major == 3 && py->version.minor < 10;
	out->arena_size = small ? 256u << 10 : 1u << 20;
	out->pool_size = small ? 4096 : 16384;
	uint64_t hdr = (uint64_t)ch_py_off(py, CH_PY_SIZEOF_POOL_HEADER);
	out->pool_overhead = (hdr + 15) & ~15ull;
}

static struct ch_error *push_arena(struct ch_pymalloc *out, uint64_t addr, size_t *cap)
{
	if (out->narena_addrs == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		void *p = realloc(out->arena_addrs, n * sizeof(uint64_t));
		if (!p)
			return ch_error_new(CH_ERR_NOMEM, "out of memory for pymalloc arenas");
		out->arena_addrs = p;
		*cap = n;
	}
	out->arena_addrs[out->narena_addrs++] = addr;
	return NULL;
}

/* The pools of one arena, [first, pool_address). Returns the address of
 * the first pool the core does not hold (the walk of the arena stops
 * there), or 0. */
static uint64_t walk_pools(struct ch_python *py, struct ch_diag *diag, struct ch_pymalloc *out, uint64_t first,
			   uint64_t end)
{
	const int64_t o_count = ch_py_off(py, CH_PY_POOL_COUNT), o_sz = ch_py_off(py, CH_PY_POOL_SZIDX);
	const int64_t o_max = ch_py_off(py, CH_PY_POOL_MAXNEXTOFFSET);
	for (uint64_t p = first; p < end; p += out->pool_size) {
		const uint8_t *h = ch_as_peek(&py->proc->as, p, (size_t)out->pool_overhead);
		if (!h)
			return p; /* the rest of the arena is most likely missing too */
		uint32_t count = ch_le32(h + o_count), szidx = ch_le32(h + o_sz), maxnext = ch_le32(h + o_max);
		if (count == 0)
			continue; /* empty, on the arena's free list: counted by nfreepools */
		if (szidx >= CH_PYMALLOC_CLASSES || maxnext != out->pool_size - (szidx + 1) * 16u) {
			ch_diag_partial(diag, "pymalloc: pool %#llx has an implausible header (size class %u, maxnextoffset %u)",
					(unsigned long long)p, szidx, maxnext);
			continue;
		}
		struct ch_pymalloc_class *c = &out->classes[szidx];
		uint64_t nblocks = (out->pool_size - out->pool_overhead) / c->size;
		if (count > nblocks) {
			ch_diag_partial(diag, "pymalloc: pool %#llx claims %u blocks in use of %llu",
					(unsigned long long)p, count, (unsigned long long)nblocks);
			continue;
		}
		c->pools++;
		c->blocks += count;
		c->avail += nblocks - count;
		if (count * 10 < nblocks)
			out->sparse_pools++;
	}
	return 0;
}

static struct ch_error *walk_arenas(struct ch_python *py, struct ch_diag *diag, struct ch_pymalloc *out,
				    uint64_t arenas, uint64_t maxarenas, size_t *cap)
{
	const int64_t o_addr = ch_py_off(py, CH_PY_ARENAOBJ_ADDRESS), o_pool = ch_py_off(py, CH_PY_ARENAOBJ_POOL_ADDRESS);
	const int64_t o_nfree = ch_py_off(py, CH_PY_ARENAOBJ_NFREEPOOLS);
	const uint64_t sz = (uint64_t)ch_py_off(py, CH_PY_SIZEOF_ARENA_OBJECT);
	uint64_t missing_arenas = 0, first_missing = 0;
	for (uint64_t i = 0; i < maxarenas; i++) {
		const uint8_t *a = ch_as_peek(&py->proc->as, arenas + i * sz, (size_t)sz);
		if (!a) {
			ch_diag_partial(diag, "pymalloc: arena object %llu is not in the core", (unsigned long long)i);
			break;
		}
		uint64_t address = ch_le64(a + o_addr), pool_address = ch_le64(a + o_pool);
		if (!address)
			continue;
		out->narenas++;
		out->numfreepools += ch_le32(a + o_nfree);
		uint64_t first = address;
		if (first % out->pool_size) {
			out->arena_alignment += out->pool_size;
			first = (first + out->pool_size - 1) & ~(out->pool_size - 1);
		}
		if (pool_address < first || pool_address > address + out->arena_size) {
			ch_diag_partial(diag, "pymalloc: arena %#llx has pool_address %#llx outside it",
					(unsigned long long)address, (unsigned long long)pool_address);
			pool_address = first;
		}
		struct ch_error *err = push_arena(out, address, cap);
		if (err)
			return err;
		uint64_t missing = walk_pools(py, diag, out, first, pool_address);
		if (missing && !missing_arenas++)
			first_missing = missing;
	}
	/* One warning for all of them: a damaged table of 2^24 arenas pointing
	 * at undumped memory cost 64 failed reads and warnings per arena. */
	if (missing_arenas)
		ch_diag_partial(diag, "pymalloc: %llu arenas have pools the core does not hold (first: pool %#llx); "
				      "their pools from there on are not counted",
				(unsigned long long)missing_arenas, (unsigned long long)first_missing);
	return NULL;
}

/* One allocator state's counters and arenas, added to out. */
static struct ch_error *read_state(struct ch_python *py, struct ch_diag *diag, struct ch_pymalloc *out, uint64_t base,
				   bool first, size_t *cap)
{
	struct state_addrs s;
	if (!locate(py, base, out, &s))
		return NULL;
	uint64_t arenas, maxarenas, ntimes, highwater;
	if (!rd64(py, s.arenas, &arenas) || !rd32(py, s.maxarenas, &maxarenas) || !rd64(py, s.ntimes, &ntimes) ||
	    !rd64(py, s.highwater, &highwater)) {
		if (first)
			snprintf(out->why_not, sizeof(out->why_not), "pymalloc's state is not in the core");
		else
			ch_diag_partial(diag, "pymalloc: a sub-interpreter's state at %#llx is not in the core",
					(unsigned long long)base);
		return NULL;
	}
	out->ntimes_allocated += ntimes;
	out->highwater += highwater;
	uint64_t mid, bot;
	if (s.map_mid && s.map_bot && rd32(py, s.map_mid, &mid) && rd32(py, s.map_bot, &bot)) {
		out->have_map = first || out->have_map;
		out->map_mid += mid;
		out->map_bot += bot;
	}
	if (maxarenas > MAX_ARENA_OBJECTS) {
		ch_diag_partial(diag, "pymalloc: maxarenas %llu is implausible; only the first %u arena objects are read",
				(unsigned long long)maxarenas, MAX_ARENA_OBJECTS);
		maxarenas = MAX_ARENA_OBJECTS;
	}
	out->found = true;
	return arenas ? walk_arenas(py, diag, out, arenas, maxarenas, cap) : NULL;
}

struct ch_error *ch_py_obmalloc_read(struct ch_python *py, struct ch_diag *diag, struct ch_pymalloc *out)
{
	memset(out, 0, sizeof(*out));
	static const enum ch_py_field need[] = {CH_PY_POOL_COUNT, CH_PY_POOL_SZIDX, CH_PY_POOL_MAXNEXTOFFSET,
						CH_PY_SIZEOF_POOL_HEADER, CH_PY_ARENAOBJ_ADDRESS, CH_PY_ARENAOBJ_POOL_ADDRESS,
						CH_PY_ARENAOBJ_NFREEPOOLS, CH_PY_SIZEOF_ARENA_OBJECT};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!ch_py_has(&py->layout, need[i])) {
			snprintf(out->why_not, sizeof(out->why_not), "the layout lacks pool_header/arena_object fields");
			return NULL;
		}
	sizes_for(py, out);
	for (int c = 0; c < CH_PYMALLOC_CLASSES; c++)
		out->classes[c].size = (uint64_t)(c + 1) * 16;
	/* 3.12+: one state per interpreter that has its own (an isolated
	 * sub-interpreter); a legacy one points at main's (3.13+) or leaves its
	 * embedded state empty (3.12). Each distinct state is read once and the
	 * figures add up over them. Before 3.12: obmalloc.c's statics, once. */
	bool per_interp = ch_py_has(&py->layout, CH_PY_INTERP_OBMALLOC);
	size_t n = per_interp && py->ninterps ? py->ninterps : 1;
	uint64_t done[CH_PY_MAX_INTERPS];
	size_t ndone = 0, cap = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t base = 0;
		if (per_interp && !interp_state(py, py->ninterps ? py->interps[k].addr : py->main_interp, out, &base)) {
			if (k == 0)
				return NULL;
			ch_diag_partial(diag, "pymalloc: interpreter %lld: %s", (long long)py->interps[k].id, out->why_not);
			out->why_not[0] = 0;
			continue;
		}
		bool again = false;
		for (size_t i = 0; i < ndone && !again; i++)
			again = done[i] == base;
		if (again)
			continue;
		done[ndone++] = base;
		struct ch_error *err = read_state(py, diag, out, base, k == 0, &cap);
		if (err) {
			ch_py_obmalloc_deinit(out);
			return err;
		}
		if (!out->found)
			return NULL; /* main's state is not there: why_not says why */
	}
	for (int c = 0; c < CH_PYMALLOC_CLASSES; c++) {
		const struct ch_pymalloc_class *k = &out->classes[c];
		out->pools += k->pools;
		out->blocks += k->blocks;
		out->allocated_bytes += k->blocks * k->size;
		out->available_bytes += k->avail * k->size;
		out->pool_header_bytes += k->pools * out->pool_overhead;
		out->quantization += k->pools * ((out->pool_size - out->pool_overhead) % k->size);
	}
	out->unused_pool_bytes = out->numfreepools * out->pool_size;
	out->total = out->allocated_bytes + out->available_bytes + out->unused_pool_bytes + out->pool_header_bytes +
		     out->quantization + out->arena_alignment;
	if (out->total != out->narenas * out->arena_size)
		ch_diag_warn(diag, "pymalloc: the figures add up to %llu bytes, not %llu arenas * %llu",
			     (unsigned long long)out->total, (unsigned long long)out->narenas,
			     (unsigned long long)out->arena_size);
	return NULL;
}

void ch_py_obmalloc_deinit(struct ch_pymalloc *pm)
{
	free(pm->arena_addrs);
	pm->arena_addrs = NULL;
	pm->narena_addrs = 0;
}
