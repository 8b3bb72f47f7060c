/* The heap index's range check of the stored retained sizes (format 12,
 * graph/heap_index_check.c): an object in the dominator tree retains 1 to
 * as many objects as there are and at least its own size (a wide size's
 * mark included), one off the tree nothing. Each case changes one object
 * of a sound four-object tree and must be refused; the sound tree, and
 * the same checked a piece at a time, must pass. */
#include "check.h"
#include "graph/dominators.h"
#include "graph/heap_index_format.h"
#include "graph/object_table.h"

enum { N = 4 };

struct tree {
	uint64_t w[H_WORDS];
	uint32_t idom[N], size[N], count[N];
	uint64_t retained[N];
};

/* Root 0 dominates 1 and 2; 3 is off the tree. */
static void tree_sound(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	t->w[H_OBJECTS] = N;
	t->w[H_DOMS] = N;
	t->w[H_DOM_REACH] = 3;
	const uint32_t idom[N] = {CH_DOM_ROOT, 0, 0, CH_NO_OBJECT}, size[N] = {16, 32, CH_SIZE_WIDE, 8},
		       count[N] = {3, 1, 1, 0};
	const uint64_t retained[N] = {16 + 32 + ((uint64_t)1 << 33), 32, (uint64_t)1 << 33, 0};
	memcpy(t->idom, idom, sizeof(idom));
	memcpy(t->size, size, sizeof(size));
	memcpy(t->count, count, sizeof(count));
	memcpy(t->retained, retained, sizeof(retained));
}

static uint32_t tree_check(struct tree *t, size_t lo, size_t hi)
{
	struct section sec[S_COUNT];
	memset(sec, 0, sizeof(sec));
	sec[S_IDOM].data = t->idom;
	sec[S_SIZE].data = t->size;
	sec[S_RETCOUNT].data = t->count;
	sec[S_RETAINED].data = t->retained;
	uint64_t counted = 0;
	return ch_heap_index_block_check(t->w, sec, S_RETAINED, lo, hi, &counted);
}

int main(void)
{
	struct tree t;
	tree_sound(&t);
	CHECK_EQ_U64(ch_heap_index_block_elem(S_RETAINED), 8);
	CHECK_EQ_U64(tree_check(&t, 0, N), 0);
	CHECK_EQ_U64(tree_check(&t, 0, 2) | tree_check(&t, 2, N), 0);
	static const struct {
		const char *what;
		size_t object;
		uint64_t retained;
		uint32_t count;
	} cases[] = {
		{"in the tree, retaining no object", 1, 32, 0},
		{"in the tree, retaining more objects than there are", 1, 32, N + 1},
		{"in the tree, retaining less than its own size", 1, 31, 1},
		{"in the tree, retaining less than its wide size's mark", 2, CH_SIZE_WIDE - 1u, 1},
		{"in the tree, retaining nothing", 0, 0, 3},
		{"off the tree, retaining bytes", 3, 8, 0},
		{"off the tree, retaining bytes past 32 bits", 3, (uint64_t)1 << 32, 0},
		{"off the tree, retaining an object", 3, 0, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tree_sound(&t);
		t.retained[cases[i].object] = cases[i].retained;
		t.count[cases[i].object] = cases[i].count;
		if (!CHECK(tree_check(&t, 0, N) != 0))
			fprintf(stderr, "    %s: passed\n", cases[i].what);
		/* Found by the piece that holds the object, not by another. */
		size_t o = cases[i].object;
		CHECK(tree_check(&t, o, o + 1) != 0);
		CHECK_EQ_U64(tree_check(&t, o == 0 ? 1 : 0, o == 0 ? N : o), 0);
	}
	return CHECK_SUMMARY("test_heap_index_retained");
}
