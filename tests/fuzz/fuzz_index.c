/* libFuzzer target: the heap index checks (graph/heap_index.h), the only
 * code that reads an index before anything in it is used.
 *
 * Each input is used twice:
 *   1. as an index file, checked as a load checks it (checksum included);
 *   2. as edits to a sound index of a small synthetic heap (made once with
 *      ch_heap_index_write): 3-byte records (position, value) XORed into
 *      it, the last byte of an odd-length input cutting it short, checked
 *      without the checksum, so mutants reach the structural checks
 *      (counts, offsets, targets, label keys and names, strings).
 * The sound index holds a dominator tree (added with
 * ch_heap_index_add_dominators, as the first command computing one does)
 * and then memory figures with owned chunks (ch_heap_index_add_memory,
 * which copies the tree); whenever a mutant passes the checks, its tree
 * goes through the checks a command makes before walking one
 * (ch_dominators_from_tree), its retained sizes are read as top reads
 * them, its retainers by type (format 14) as `top --by type` takes them,
 * its flame graph (format 15, added after the search it is built over,
 * with ch_heap_index_add_flame) as `top --format folded` reads it, and
 * its owned chunks as show reads them.
 * Then the roots and the shortest-path search are added
 * (ch_heap_index_add_paths, as the first path or top does, copying the
 * rest); a mutant's stored search goes through ch_paths_from_stored, its
 * roots are read field by field.
 * The sound index must pass (checked once, at start); no edit may make the
 * checks read out of bounds, overflow or hang (ASan, UBSan, libFuzzer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph/dominators.h"
#include "graph/flame.h"
#include "graph/gc_replay.h"
#include "graph/heap_index.h"
#include "graph/memory_brief.h"
#include "graph/paths.h"
#include "graph/roots.h"
#include "readers/cpython/python.h"

static uint8_t *sound;
static size_t sound_len;

/* An index of 5 objects of 2 types, 6 edges of every label kind the checks
 * look into, two names, one inexact object, two warnings, every GC replay
 * state and a dominator tree. */
static void make_sound(void)
{
	static struct ch_python py;
	struct ch_py_type types[2] = {{.addr = 0x1000, .valid = true}, {.addr = 0x2000, .valid = true}};
	py.types.v = types;
	py.types.n = 2;
	ch_diag_init(&py.diag);
	struct ch_heap_index_mark mark;
	ch_heap_index_mark_take(&py, &mark);
	ch_diag_warn(&py.diag, "a warning of the walk");
	ch_diag_partial(&py.diag, "a partial result");

	struct ch_heap heap;
	memset(&heap, 0, sizeof(heap));
	heap.py = &py;
	ch_objects_init(&heap.objects);
	for (uint32_t i = 0; i < 5; i++)
		if (ch_objects_append(&heap.objects, 0x10000 + 0x40 * i, i & 1, 1 + i, 32, (uint8_t)(i % 5), 0))
			abort();
	uint64_t dropped;
	if (ch_objects_index_build(&heap.objects, &dropped)) /* the address table goes into the index */
		abort();
	static const char *names[] = {"ob_type", "__dict__"};
	uint32_t offsets[6] = {0, 2, 4, 5, 6, 6};
	uint32_t targets[6] = {1, 2, 3, 4, 0, 1};
	uint32_t labels[6] = {
		ch_label_make(CH_REF_FIELD, true, 1),
		ch_label_make(CH_REF_INDEX, true, 7),
		ch_label_make(CH_REF_ATTR, true, CH_LABEL_NAMED | 0),
		ch_label_make(CH_REF_DICT_VALUE, true, 2),
		ch_label_make(CH_REF_ATTR, true, CH_LABEL_LOCAL | 3),
		ch_label_make(CH_REF_WEAK, false, 0),
	};
	uint32_t inexact[1] = {2};
	struct ch_conservative_type ct = {1, 1, "tp_traverse could not be emulated"};
	struct ch_edges edges;
	memset(&edges, 0, sizeof(edges));
	edges.offsets = offsets;
	edges.targets = targets;
	edges.labels = labels;
	edges.nedges = edges.cap = 6;
	edges.names = names;
	edges.nnames = 2;
	edges.exactness.objects = inexact;
	edges.exactness.nobjects = 1;
	edges.exactness.types = &ct;
	edges.exactness.ntypes = 1;
	char dir[] = "/tmp/fuzz_index.XXXXXX";
	if (!mkdtemp(dir))
		abort();
	char path[64];
	snprintf(path, sizeof(path), "%s/x.chindex", dir);
	struct ch_heap_index_key key = {{1, 2, 3, 4}};
	uint8_t state[5] = {CH_REPLAY_ALIVE, CH_REPLAY_ALIVE, CH_REPLAY_UNREACHABLE, CH_REPLAY_FREED_WITH,
			    CH_REPLAY_OUTSIDE};
	struct ch_gc_replay replay = {.state = state};
	struct ch_error *err = ch_heap_index_write(path, &key, &heap, &edges, &replay, &mark);
	if (err)
		abort();
	/* The tree of the graph above from root 0: 0 -> 1, 2 and 1 -> 3, 4
	 * (the weak 3 -> 1 and 2 -> 0 change nothing); preorder 0 1 3 4 2. */
	struct ch_heap_index_ref ref = {.key = key, .nobjects = 5, .nedges = 6};
	snprintf(ref.path, sizeof(ref.path), "%s", path);
	uint32_t idom[5] = {CH_DOM_ROOT, 0, 0, 1, 1}, order[5] = {0, 1, 3, 4, 2}, count[5] = {5, 3, 1, 1, 1};
	uint64_t retained[5] = {5 * 32, 3 * 32, 32, 32, 32};
	struct ch_dominators tree = {.idom = idom, .order = order, .retained = retained, .retained_count = count,
				     .nobjects = 5, .nreachable = 5, .reachable_bytes = 5 * 32, .borrowed = true};
	/* Its retainers by type: type 0 (objects 0, 2, 4: 0 topmost) and
	 * type 1 (objects 1, 3: 1 topmost). */
	const struct ch_heap_index_typerow rows[2] = {{0, 0, 3, 3 * 32, 5 * 32, 5}, {1, 0, 2, 2 * 32, 3 * 32, 3}};
	if ((err = ch_heap_index_add_dominators(&ref, 0x1234, &tree, rows, 2)))
		abort();
	struct ch_mem_owned_chunk owned[2] = {{0x90010, 4096, 0x10040, 1}, {0x91010, 64, 0x10080, 0}};
	struct ch_memory_brief mb = {.owned = owned, .nowned = 2};
	mb.w[CH_MEMB_FLAGS] = CH_MEMB_GLIBC_FOUND | CH_MEMB_PYTHON_DONE;
	mb.w[CH_MEMB_OWNED_BYTES] = 4096 + 64;
	if ((err = ch_heap_index_add_memory(&ref, &mb)))
		abort();
	/* Two roots (the second left out of the root set) and the search from
	 * root 0: 0 -> 1 (edge 0), 2 (edge 1), 1 -> 3 (edge 2), 4 (edge 3). */
	const struct ch_heap_index_root recs[2] = {{.object = 0, .name = 4, .frame = 0, .kind = CH_ROOT_MODULE},
						   {.object = 2, .name = CH_NO_OBJECT, .frame = 1, .kind = CH_ROOT_THREAD,
						    .where = 0x7000}};
	const uint32_t set[2] = {0, CH_NO_OBJECT};
	const uint32_t parent[5] = {CH_PATH_ROOT, 0, 0, 1, 1}, via[5] = {0, 0, 1, 2, 3}, rank[5] = {0, 1, 2, 3, 4};
	if ((err = ch_heap_index_add_paths(&ref, recs, set, 2, 0x5678, parent, via, rank, 5)))
		abort();
	/* The tree's flame graph over that search (as ch_flame_build makes
	 * it): 0 root 0's (type 0), 1 by its field (edge 0, type 1), then
	 * 3 and 4 by list items ("[*]": edges 2 and 3, types 1 and 0), and 2
	 * the same "[*]" of type 0 as 4, under 0. */
	const struct ch_heap_index_flame_name fnames[4] = {
		{UINT32_MAX, 0, 0, 0, {0}}, {0, UINT32_MAX, 1, 0, {0}}, {2, UINT32_MAX, 1, 1, {0}}, {3, UINT32_MAX, 0, 1, {0}}};
	const struct ch_heap_index_flame_frame frames[5] = {
		{CH_FLAME_TOP, 0, 1, 0, 32, 5 * 32, 1}, {0, 1, 2, 0, 32, 3 * 32, 1}, {1, 2, 3, 0, 32, 32, 1},
		{1, 3, 3, 0, 32, 32, 1}, {0, 3, 2, 0, 32, 32, 1}};
	if ((err = ch_heap_index_add_flame(&ref, 0x1234, 0x5678, 2, fnames, 4, frames, 5)))
		abort();
	const uint32_t maybe[5] = {0, 2, UINT32_MAX, 1, 7}; /* any count is a count */
	if ((err = ch_heap_index_add_scan(&ref, 0x9abc, maybe)))
		abort();
	FILE *f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0)
		abort();
	sound_len = (size_t)ftell(f);
	rewind(f);
	sound = malloc(sound_len);
	if (!sound || fread(sound, 1, sound_len, f) != sound_len)
		abort();
	fclose(f);
	unlink(path);
	rmdir(dir);
	ch_objects_deinit(&heap.objects);
	ch_diag_deinit(&py.diag);
	char why[256];
	struct ch_heap_index_doms doms;
	struct ch_heap_index_mem mem;
	struct ch_heap_index_roots roots;
	struct ch_heap_index_paths paths;
	struct ch_heap_index_scan scan;
	if (ch_heap_index_check(sound, sound_len, &key, true, 0, &doms, &mem, &roots, &paths, &scan, why,
				sizeof(why)) != CH_HEAP_INDEX_LOADED ||
	    doms.nreach != 5 || doms.ntyperows != 2 || doms.typerows[1].retained != 3 * 32 || !doms.flame ||
	    doms.flame_nframes != 5 || doms.flame_frames[1].total != 3 * 32 || !mem.have || mem.b.nowned != 2 || mem.b.owned[1].bytes != 64 || !roots.have ||
	    roots.n != 2 || paths.nreached != 5 || scan.nobjects != 5 || scan.inputs != 0x9abc || scan.maybe[2] != UINT32_MAX) {
		fprintf(stderr, "fuzz_index: the sound index is refused: %s\n", why);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sound)
		make_sound();
	char why[256];
	(void)ch_heap_index_check(data, size, NULL, true, 0, NULL, NULL, NULL, NULL, NULL, why, sizeof(why));

	uint8_t *copy = malloc(sound_len);
	if (!copy)
		abort();
	memcpy(copy, sound, sound_len);
	for (size_t i = 0; i + 3 <= size; i += 3) {
		size_t pos = ((size_t)data[i] | (size_t)data[i + 1] << 8) % sound_len;
		copy[pos] ^= data[i + 2];
	}
	size_t len = sound_len;
	if (size % 3 == 1)
		len = data[size - 1] * sound_len / 256;
	/* An exact-size buffer, so ASan sees any read past the cut. */
	uint8_t *cut = malloc(len ? len : 1);
	if (!cut)
		abort();
	memcpy(cut, copy, len);
	struct ch_heap_index_doms doms;
	struct ch_heap_index_mem mem;
	struct ch_heap_index_roots roots;
	struct ch_heap_index_paths paths;
	struct ch_heap_index_scan scan;
	/* The sections a command would ask for: all, or (by the input's first
	 * byte, when odd) a part, the others left unchecked and NULL. */
	uint32_t needs = size && (data[0] & 1) ? (uint32_t)data[0] << 6 | (data[size - 1] & 0x3f) : 0;
	enum ch_heap_index_outcome r =
		ch_heap_index_check(cut, len, NULL, false, needs, &doms, &mem, &roots, &paths, &scan, why, sizeof(why));
	if (r == CH_HEAP_INDEX_LOADED && roots.have) {
		/* As a command takes them: every field of every root. */
		volatile uint64_t sum = 0;
		for (size_t k = 0; k < roots.n; k++)
			sum += roots.recs[k].object ^ roots.recs[k].name ^ roots.recs[k].frame ^ roots.recs[k].kind ^
			       roots.recs[k].where ^ roots.set[k];
		(void)sum;
	}
	if (r == CH_HEAP_INDEX_LOADED && paths.parent) {
		/* The checks a command makes before it uses a stored search, over
		 * the sound index's edges and the stored root set. */
		static uint32_t offsets[6] = {0, 2, 4, 5, 6, 6}, targets[6] = {1, 2, 3, 4, 0, 1};
		uint32_t labels[6] = {ch_label_make(CH_REF_FIELD, true, 1), ch_label_make(CH_REF_INDEX, true, 7),
				      ch_label_make(CH_REF_INDEX, true, 0), ch_label_make(CH_REF_INDEX, true, 1),
				      ch_label_make(CH_REF_INDEX, true, 0), ch_label_make(CH_REF_WEAK, false, 0)};
		struct ch_edges e;
		memset(&e, 0, sizeof(e));
		e.offsets = offsets;
		e.targets = targets;
		e.labels = labels;
		e.nedges = 6;
		struct ch_paths p;
		struct ch_error *err = ch_paths_from_stored(&p, paths.parent, paths.via, paths.rank, paths.nreached, &e,
							   paths.nobjects < 5 ? paths.nobjects : 5,
							   roots.have ? roots.set : NULL, roots.have ? roots.n : 0, NULL);
		if (err)
			ch_error_free(err);
		else
			ch_paths_deinit(&p);
		/* As `path` takes it: counts now, each chain as it is walked. */
		err = ch_paths_from_stored_chains(&p, paths.parent, paths.via, paths.rank, paths.nreached, &e,
						  paths.nobjects < 5 ? paths.nobjects : 5, roots.have ? roots.set : NULL,
						  roots.have ? roots.n : 0, NULL);
		if (err)
			ch_error_free(err);
		else
			ch_paths_deinit(&p);
	}
	if (r == CH_HEAP_INDEX_LOADED && scan.maybe) {
		/* As anomalies takes them: every count. */
		volatile uint64_t sum = 0;
		for (size_t k = 0; k < scan.nobjects; k++)
			sum += scan.maybe[k];
		(void)sum;
	}
	if (r == CH_HEAP_INDEX_LOADED && mem.have) {
		/* As show reads them: every owned chunk's fields. */
		volatile uint64_t sum = 0;
		for (size_t k = 0; k < mem.b.nowned; k++)
			sum += mem.b.owned[k].user ^ mem.b.owned[k].bytes ^ mem.b.owned[k].object ^ mem.b.owned[k].type;
		(void)sum;
	}
	if (r == CH_HEAP_INDEX_LOADED && doms.idom) {
		/* As `top --by type` takes them: every field of every row. */
		volatile uint64_t rsum = 0;
		for (size_t k = 0; k < doms.ntyperows; k++)
			rsum += doms.typerows[k].type ^ doms.typerows[k].objects ^ doms.typerows[k].shallow ^
				doms.typerows[k].retained ^ doms.typerows[k].retained_objects;
		(void)rsum;
		/* As `top --format folded` and `report` take them: every field of
		 * every name and frame, each frame's chain up to the top. */
		for (size_t k = 0; doms.flame && k < doms.flame_nnames; k++)
			rsum += doms.flame_names[k].edge ^ doms.flame_names[k].root ^ doms.flame_names[k].type ^
				doms.flame_names[k].star;
		for (size_t k = 0; doms.flame && k < doms.flame_nframes; k++) {
			const struct ch_heap_index_flame_frame *x = &doms.flame_frames[k];
			rsum += x->self ^ x->total ^ x->objects ^ x->depth ^ doms.flame_names[x->name].type;
			for (uint32_t up = (uint32_t)k; up != CH_FLAME_TOP; up = doms.flame_frames[up].parent)
				rsum += up;
		}
	}
	if (r == CH_HEAP_INDEX_LOADED && doms.idom) {
		/* Checked as `top --by type` takes it, read as `top` reads it. */
		struct ch_dominators_stored st = {doms.idom,	       doms.order, doms.retained, doms.retained_count,
						  doms.nreach, doms.reachable_bytes, doms.unreachable_bytes};
		struct ch_dominators d;
		struct ch_error *err = ch_dominators_from_tree(&d, &st, doms.nobjects, true, NULL);
		if (err) {
			ch_error_free(err);
		} else {
			volatile uint64_t sum = 0;
			for (size_t i = 0; i < d.nobjects; i++)
				sum += d.retained[i] + d.retained_count[i];
			(void)sum;
			ch_dominators_deinit(&d);
		}
	}
	free(cut);
	free(copy);
	return 0;
}
