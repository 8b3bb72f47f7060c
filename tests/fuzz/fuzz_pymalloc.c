/* libFuzzer target: pymalloc's walker (readers/cpython/py_obmalloc.c,
 * ch_py_obmalloc_read) over a synthetic interpreter whose allocator state,
 * arena table and arenas come from the input. The layout is the built-in
 * table of CPython 3.12.1 (_obmalloc_state inside the interpreter) or
 * 3.13.0 (the interpreter points at it), so every offset is the one the
 * reader uses on a real core; no module, DWARF or symbol is needed there.
 *
 * One input, in order (zero-padded when it ends early):
 *   u8  bit 0: 3.13 (else 3.12); bit 1: no arena table (arenas == NULL)
 *   u32 maxarenas, u64 ntimes_arena_allocated, u64 narenas_highwater,
 *   u32 arena_map_mid_count, u32 arena_map_bot_count
 *   u16 n, then n bytes: the arena_object table at ARENAS
 *   the rest: the first bytes of one arena at ARENA (its other bytes are
 *   memory the core does not hold, as for an arena cut by a truncation)
 * Seeds (make_seeds.py): tables of one and of several arenas with used,
 * full, empty and damaged pools, laid out from the same layout table.
 *
 * Checked beyond the sanitizers: the figures stay within what the arenas
 * could hold (no wrapped sums). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "readers/cpython/py_layout_table.h"
#include "readers/cpython/py_obmalloc.h"

#define INTERP 0x7f1000000000ull
#define OBM 0x7f2000000000ull /* 3.13: the interpreter's obmalloc pointer points here */
#define ARENAS 0x7f3000000000ull
#define ARENA 0x7f4000000000ull
#define ARENA_SIZE (1u << 20)
#define TABLE_MAX 65536u

struct flavour {
	struct ch_py_layout layout;
	struct ch_py_version version;
	uint8_t *interp, *obm; /* zeroed buffers, the state's fields written per input */
	size_t interp_size, obm_size;
	uint64_t state;        /* address of _obmalloc_state */
};

static struct flavour flavours[2];
static uint8_t *table, *arena;

static void put(uint8_t *buf, size_t size, uint64_t off, const void *v, size_t n)
{
	if (off > size || n > size - off)
		abort(); /* the layout table does not fit the harness's buffers */
	memcpy(buf + off, v, n);
}

static void setup(struct flavour *f, int minor, int micro)
{
	f->version = (struct ch_py_version){.major = 3, .minor = minor, .micro = micro, .method = "fuzz"};
	struct ch_error *err = ch_py_layout_from_table(&f->layout, &f->version);
	if (err || !ch_py_has(&f->layout, CH_PY_INTERP_OBMALLOC))
		abort();
	const struct ch_py_layout *L = &f->layout;
	uint64_t in_interp = (uint64_t)L->v[CH_PY_INTERP_OBMALLOC];
	bool pointer = ch_py_has(L, CH_PY_INTERP_OBMALLOC_SIZE) && L->v[CH_PY_INTERP_OBMALLOC_SIZE] == 8;
	uint64_t state_size = (uint64_t)L->v[CH_PY_OBM_MAP_BOT_COUNT] + 8;
	if (pointer) {
		f->interp_size = in_interp + 8;
		f->obm_size = state_size;
		f->state = OBM;
	} else {
		f->interp_size = in_interp + state_size;
		f->state = INTERP + in_interp;
	}
	f->interp = calloc(1, f->interp_size);
	f->obm = f->obm_size ? calloc(1, f->obm_size) : NULL;
	if (!f->interp || (f->obm_size && !f->obm))
		abort();
	if (pointer) {
		uint64_t obm = OBM;
		put(f->interp, f->interp_size, in_interp, &obm, 8);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup(&flavours[0], 12, 1);
	setup(&flavours[1], 13, 0);
	table = calloc(1, TABLE_MAX);
	arena = calloc(1, ARENA_SIZE);
	if (!table || !arena)
		abort();
	return 0;
}

static void take(const uint8_t **p, size_t *left, void *buf, size_t n)
{
	size_t k = *left < n ? *left : n;
	memset(buf, 0, n);
	memcpy(buf, *p, k);
	*p += k;
	*left -= k;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = in + 1;
	size_t left = size - 1;
	struct flavour *f = &flavours[in[0] & 1];
	const struct ch_py_layout *L = &f->layout;
	struct {
		uint32_t maxarenas;
		uint64_t ntimes, highwater;
		uint32_t map_mid, map_bot;
	} __attribute__((packed)) hdr;
	take(&p, &left, &hdr, sizeof(hdr));
	uint16_t n;
	take(&p, &left, &n, 2);
	take(&p, &left, table, n);
	size_t alen = left < ARENA_SIZE ? left : ARENA_SIZE;
	take(&p, &left, arena, alen);

	uint8_t *state = f->obm ? f->obm : f->interp + (f->state - INTERP);
	size_t state_room = f->obm ? f->obm_size : f->interp_size - (f->state - INTERP);
	uint64_t arenas = (in[0] & 2) ? 0 : ARENAS;
	put(state, state_room, (uint64_t)L->v[CH_PY_OBM_ARENAS], &arenas, 8);
	put(state, state_room, (uint64_t)L->v[CH_PY_OBM_MAXARENAS], &hdr.maxarenas, 4);
	put(state, state_room, (uint64_t)L->v[CH_PY_OBM_NTIMES_ALLOCATED], &hdr.ntimes, 8);
	put(state, state_room, (uint64_t)L->v[CH_PY_OBM_HIGHWATER], &hdr.highwater, 8);
	put(state, state_room, (uint64_t)L->v[CH_PY_OBM_MAP_MID_COUNT], &hdr.map_mid, 4);
	put(state, state_room, (uint64_t)L->v[CH_PY_OBM_MAP_BOT_COUNT], &hdr.map_bot, 4);

	struct ch_process proc = {0};
	ch_as_init(&proc.as);
	ch_error_free(ch_as_add(&proc.as, INTERP, INTERP + f->interp_size, f->interp, CH_AS_CORE, true));
	if (f->obm)
		ch_error_free(ch_as_add(&proc.as, OBM, OBM + f->obm_size, f->obm, CH_AS_CORE, true));
	if (n)
		ch_error_free(ch_as_add(&proc.as, ARENAS, ARENAS + n, table, CH_AS_CORE, true));
	if (alen)
		ch_error_free(ch_as_add(&proc.as, ARENA, ARENA + alen, arena, CH_AS_CORE, true));
	if (alen < ARENA_SIZE) /* the rest of the arena: the process had it, the core does not */
		ch_error_free(ch_as_add(&proc.as, ARENA + alen, ARENA + ARENA_SIZE, NULL, CH_AS_NONE, true));

	struct ch_python py;
	memset(&py, 0, sizeof(py));
	py.proc = &proc;
	py.layout = f->layout;
	py.version = f->version;
	py.main_interp = INTERP;
	ch_diag_init(&py.diag);
	struct ch_pymalloc pm;
	struct ch_error *err = ch_py_obmalloc_read(&py, &py.diag, &pm);
	if (!err && pm.found) {
		/* Every counted pool is a pool of some arena the table lists: the
		 * sums cannot exceed what those arenas hold. */
		if (pm.pools > pm.narenas * (pm.arena_size / pm.pool_size) || pm.narena_addrs != pm.narenas)
			abort();
		if (pm.allocated_bytes + pm.available_bytes > pm.narenas * pm.arena_size)
			abort();
	}
	ch_py_obmalloc_deinit(&pm);
	ch_error_free(err);
	ch_fuzz_print_diag("pymalloc", &py.diag);
	ch_diag_deinit(&py.diag);
	ch_as_deinit(&proc.as);
	return 0;
}
