/* The heap index's staged tail (graph/heap_index.h, what `coreheap index`
 * uses): the same adds made one by one, each rewriting the file, and
 * staged then committed once must leave byte for byte the same file (a
 * section staged and then replaced, the flame graph dropped with the tree
 * it was built over, included); while staging the file is untouched; a
 * file replaced since the staging began is neither used by a later add
 * nor overwritten by the commit; a commit with nothing staged writes
 * nothing. The expected bytes are those of the one-by-one adds, the path
 * every other command takes. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "graph/dominators.h"
#include "graph/flame.h"
#include "graph/gc_replay.h"
#include "graph/heap_index.h"
#include "graph/memory_brief.h"
#include "graph/paths.h"
#include "graph/roots.h"
#include "readers/cpython/python.h"

static uint8_t *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	if (f && fseek(f, 0, SEEK_END) == 0) {
		*len = (size_t)ftell(f);
		rewind(f);
		p = malloc(*len ? *len : 1);
		if (p && fread(p, 1, *len, f) != *len) {
			free(p);
			p = NULL;
		}
	}
	if (f)
		fclose(f);
	return p;
}

static void file_write(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len)
		abort();
	fclose(f);
}

/* An index of 4 objects (object 3 unreachable), 3 edges. */
static void base_write(const char *path, uint64_t key0)
{
	static struct ch_python py;
	struct ch_py_type types[1] = {{.addr = 0x1000, .valid = true}};
	py.types.v = types;
	py.types.n = 1;
	ch_diag_init(&py.diag);
	struct ch_heap_index_mark mark;
	ch_heap_index_mark_take(&py, &mark);
	struct ch_heap heap;
	memset(&heap, 0, sizeof(heap));
	heap.py = &py;
	ch_objects_init(&heap.objects);
	for (uint32_t i = 0; i < 4; i++)
		if (ch_objects_append(&heap.objects, 0x10000 + 0x40 * i, 0, 1, 32, 0, 0))
			abort();
	uint64_t dropped;
	if (ch_objects_index_build(&heap.objects, &dropped))
		abort();
	uint32_t offsets[5] = {0, 2, 3, 3, 3}, targets[3] = {1, 2, 2};
	uint32_t labels[3] = {ch_label_make(CH_REF_FIELD, true, 1), ch_label_make(CH_REF_FIELD, true, 2),
			      ch_label_make(CH_REF_FIELD, true, 1)};
	struct ch_edges edges;
	memset(&edges, 0, sizeof(edges));
	edges.offsets = offsets;
	edges.targets = targets;
	edges.labels = labels;
	edges.nedges = edges.cap = 3;
	static const char *names[] = {"a", "b", "c"};
	edges.names = names;
	edges.nnames = 3;
	uint8_t state[4] = {CH_REPLAY_ALIVE, CH_REPLAY_ALIVE, CH_REPLAY_ALIVE, CH_REPLAY_UNREACHABLE};
	struct ch_gc_replay replay = {.state = state};
	struct ch_heap_index_key key = {{key0, 2, 3, 4}};
	struct ch_error *err = ch_heap_index_write(path, &key, &heap, &edges, &replay, &mark);
	if (err)
		abort();
	ch_objects_deinit(&heap.objects);
	ch_diag_deinit(&py.diag);
}

/* The adds `coreheap index` makes (search, tree, flame, memory, scan),
 * then a second tree, which drops the flame and replaces a section
 * added before. */
static bool adds_make(struct ch_heap_index_ref *ref)
{
	const struct ch_heap_index_root recs[1] = {{.object = 0, .name = CH_NO_OBJECT, .kind = CH_ROOT_MODULE}};
	const uint32_t set[1] = {0}, parent[4] = {CH_PATH_ROOT, 0, 0, CH_NO_OBJECT}, via[4] = {0, 0, 1, UINT32_MAX},
		       rank[4] = {0, 1, 2, UINT32_MAX};
	uint32_t idom[4] = {CH_DOM_ROOT, 0, 0, CH_NO_OBJECT}, order[3] = {0, 1, 2}, count[4] = {3, 1, 1, 0};
	uint64_t retained[4] = {96, 32, 32, 0};
	struct ch_dominators tree = {.idom = idom, .order = order, .retained = retained, .retained_count = count,
				     .nobjects = 4, .nreachable = 3, .reachable_bytes = 96, .unreachable_bytes = 32,
				     .borrowed = true};
	const struct ch_heap_index_typerow rows[1] = {{0, 0, 3, 96, 96, 3}};
	const struct ch_heap_index_flame_name fnames[2] = {{UINT32_MAX, 0, 0, 0, {0}}, {0, UINT32_MAX, 0, 0, {0}}};
	const struct ch_heap_index_flame_frame frames[2] = {{CH_FLAME_TOP, 0, 1, 0, 32, 96, 1}, {0, 1, 2, 0, 64, 64, 2}};
	struct ch_memory_brief mb = {.nowned = 0};
	mb.w[CH_MEMB_FLAGS] = CH_MEMB_GLIBC_FOUND;
	const uint32_t maybe[4] = {0, 1, 2, 3};
	bool ok = CHECK_OK(ch_heap_index_add_paths(ref, recs, set, 1, 0x5678, parent, via, rank, 3)) &&
		  CHECK_OK(ch_heap_index_add_dominators(ref, 0x1234, &tree, rows, 1)) &&
		  CHECK_OK(ch_heap_index_add_flame(ref, 0x1234, 0x5678, 1, fnames, 2, frames, 2)) &&
		  CHECK_OK(ch_heap_index_add_memory(ref, &mb)) && CHECK_OK(ch_heap_index_add_scan(ref, 0x9abc, maybe));
	/* The tree again, for other roots: its sections written once more
	 * (from other arrays), the flame dropped. */
	uint32_t idom2[4], order2[3], count2[4];
	uint64_t retained2[4];
	memcpy(idom2, idom, sizeof(idom));
	memcpy(order2, order, sizeof(order));
	memcpy(count2, count, sizeof(count));
	memcpy(retained2, retained, sizeof(retained));
	tree.idom = idom2;
	tree.order = order2;
	tree.retained = retained2;
	tree.retained_count = count2;
	return ok && CHECK_OK(ch_heap_index_add_dominators(ref, 0x4321, &tree, rows, 1));
}

static void ref_make(struct ch_heap_index_ref *ref, const char *path, uint64_t key0)
{
	memset(ref, 0, sizeof(*ref));
	ref->key = (struct ch_heap_index_key){{key0, 2, 3, 4}};
	ref->nobjects = 4;
	ref->nedges = 3;
	snprintf(ref->path, sizeof(ref->path), "%s", path);
}

int main(void)
{
	char dir[] = "/tmp/test_heap_index_stage.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char one[64], staged[64], other[64];
	snprintf(one, sizeof(one), "%s/one.chindex", dir);
	snprintf(staged, sizeof(staged), "%s/staged.chindex", dir);
	snprintf(other, sizeof(other), "%s/other.chindex", dir);
	base_write(one, 1);
	base_write(other, 9);
	size_t base_len, other_len, len, slen;
	uint8_t *base = file_read(one, &base_len), *oth = file_read(other, &other_len);
	file_write(staged, base, base_len);

	struct ch_heap_index_ref ref;
	ref_make(&ref, one, 1);
	CHECK(adds_make(&ref));
	uint8_t *want = file_read(one, &len);

	ref_make(&ref, staged, 1);
	CHECK_OK(ch_heap_index_stage_begin(&ref));
	CHECK(adds_make(&ref));
	uint8_t *got = file_read(staged, &slen);
	CHECK(got && slen == base_len && memcmp(got, base, base_len) == 0); /* untouched until the commit */
	free(got);
	CHECK_OK(ch_heap_index_stage_commit(&ref));
	CHECK(ref.stage == NULL);
	got = file_read(staged, &slen);
	CHECK(want && got && slen == len && len > base_len && memcmp(got, want, len) == 0);
	char why[256];
	if (!CHECK(got && ch_heap_index_check(got, slen, &ref.key, true, 0, NULL, NULL, NULL, NULL, NULL, why,
					      sizeof(why)) == CH_HEAP_INDEX_LOADED))
		fprintf(stderr, "    %s\n", why);
	free(got);

	/* Nothing staged: nothing written. */
	file_write(staged, base, base_len);
	CHECK_OK(ch_heap_index_stage_begin(&ref));
	CHECK_OK(ch_heap_index_stage_commit(&ref));
	got = file_read(staged, &slen);
	CHECK(got && slen == base_len && memcmp(got, base, base_len) == 0);
	free(got);

	/* Replaced while staging (another command's index, or another
	 * heap's): the next add and the commit refuse, the file stays. */
	uint32_t maybe[4] = {0};
	CHECK_OK(ch_heap_index_stage_begin(&ref));
	CHECK_OK(ch_heap_index_add_scan(&ref, 1, maybe));
	file_write(staged, want, len);
	struct ch_error *err = ch_heap_index_add_scan(&ref, 2, maybe);
	CHECK(err != NULL);
	ch_error_free(err);
	err = ch_heap_index_stage_commit(&ref);
	CHECK(err != NULL);
	ch_error_free(err);
	got = file_read(staged, &slen);
	CHECK(got && slen == len && memcmp(got, want, len) == 0);
	free(got);
	CHECK_OK(ch_heap_index_stage_begin(&ref));
	CHECK_OK(ch_heap_index_add_scan(&ref, 1, maybe));
	file_write(staged, oth, other_len);
	err = ch_heap_index_stage_commit(&ref);
	CHECK(err != NULL);
	ch_error_free(err);
	got = file_read(staged, &slen);
	CHECK(got && slen == other_len && memcmp(got, oth, other_len) == 0);
	free(got);
	ch_heap_index_ref_deinit(&ref);

	free(base);
	free(oth);
	free(want);
	unlink(one);
	unlink(staged);
	unlink(other);
	CHECK(rmdir(dir) == 0); /* no spool or temporary file left */
	return CHECK_SUMMARY("test_heap_index_stage");
}
