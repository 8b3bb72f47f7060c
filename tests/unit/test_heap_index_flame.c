/* The heap index's range check of the stored flame graph (format 15,
 * graph/heap_index_flame.c ch_heap_index_flame_check): every name's type,
 * edge, root and star in range, every frame's parent an earlier frame or
 * the top, its depth its parent's plus one and at most the cap, its name
 * a name, at least one object, the objects and self bytes summed without
 * overflow, each total its self bytes and its children's totals, and the
 * frames' objects and the top frames' totals those of the tree. Each case
 * changes one thing of a sound flame (worked out here by hand from a small
 * tree, not by coreheap) so that only one part of the check can refuse it
 * (the others still pass: sums kept, totals kept consistent where the
 * case is not about them); the sound flame, an empty one, a chain at
 * exactly the depth cap and bytes past 32 bits must pass. */
#include "check.h"
#include "graph/flame.h"
#include "graph/heap_index_format.h"

enum { NNAMES = 3, NFRAMES = 5, ROOM = CH_FLAME_MAX_DEPTH + 2 };

#define NONE UINT32_MAX

struct flame {
	uint64_t w[H_WORDS];
	struct ch_heap_index_flame_name n[NNAMES + 3];
	struct ch_heap_index_flame_frame f[ROOM];
};

/* A tree of 6 objects and 100 bytes over 5 types, 10 edges and 3 roots.
 * Names: 0 root 1's object (type 2), 1 "[*]" through edge 4 (type 3),
 * 2 "(shared)" (type 1). Frames: 0 top, name 0, two objects, 30 bytes;
 * 1 under 0, name 1, 20 bytes; 2 under 0, name 2, 10 bytes; 3 under 1,
 * name 1, 25 bytes; 4 top, name 2, 15 bytes: totals 85, 45, 10, 25, 15. */
static void flame_sound(struct flame *t)
{
	memset(t, 0, sizeof(*t));
	t->w[H_OBJECTS] = t->w[H_DOMS] = t->w[H_DOM_REACH] = 6;
	t->w[H_TYPES] = 5;
	t->w[H_EDGES] = 10;
	t->w[H_DOM_BYTES] = 100;
	t->w[H_FLAME] = 1;
	t->w[H_FLAME_NAMES] = NNAMES;
	t->w[H_FLAME_FRAMES] = NFRAMES;
	t->w[H_FLAME_NROOTS] = 3;
	const struct ch_heap_index_flame_name n[NNAMES] = {
		{NONE, 1, 2, 0, {0}},
		{4, NONE, 3, 1, {0}},
		{NONE, NONE, 1, 0, {0}},
	};
	const struct ch_heap_index_flame_frame f[NFRAMES] = {
		{CH_FLAME_TOP, 0, 1, 0, 30, 85, 2},
		{0, 1, 2, 0, 20, 45, 1},
		{0, 2, 2, 0, 10, 10, 1},
		{1, 1, 3, 0, 25, 25, 1},
		{CH_FLAME_TOP, 2, 1, 0, 15, 15, 1},
	};
	memcpy(t->n, n, sizeof(n));
	memcpy(t->f, f, sizeof(f));
}

/* A chain of depth frames, one object and one byte each. */
static void flame_chain(struct flame *t, uint32_t depth)
{
	flame_sound(t);
	t->w[H_FLAME_NAMES] = 1;
	t->w[H_FLAME_FRAMES] = t->w[H_DOM_REACH] = t->w[H_DOM_BYTES] = depth;
	for (uint32_t k = 0; k < depth; k++)
		t->f[k] = (struct ch_heap_index_flame_frame){k ? k - 1 : CH_FLAME_TOP, 0, k + 1, 0, 1, depth - k, 1};
}

static const char *flame_check(const struct flame *t)
{
	return ch_heap_index_flame_check(t->w, t->n, t->f);
}

int main(void)
{
	struct flame t;
	flame_sound(&t);
	CHECK(flame_check(&t) == NULL);
	/* An empty tree: no frames. */
	memset(&t, 0, sizeof(t));
	t.w[H_TYPES] = 5;
	t.w[H_FLAME] = 1;
	CHECK(flame_check(&t) == NULL);
	/* A chain down to the cap, no further. */
	flame_chain(&t, CH_FLAME_MAX_DEPTH);
	CHECK(flame_check(&t) == NULL);
	/* Past 32 bits: 5 GiB in the second top frame. */
	flame_sound(&t);
	t.w[H_DOM_BYTES] = ((uint64_t)5 << 30) + 85;
	t.f[4].self = t.f[4].total = (uint64_t)5 << 30;
	CHECK(flame_check(&t) == NULL);

	static const struct {
		const char *what;
		int kind; /* 0 a name's field, 1 a frame's field, 2 a header word, 3 special */
		size_t at;
		int field; /* name: 0 edge, 1 root, 2 type, 3 star, 4 pad; frame: 0 parent, 1 name, 2 depth, 3 pad,
			    * 4 self, 5 total, 6 objects */
		uint64_t value;
	} cases[] = {
		{"a name's type past the table", 0, 2, 2, 5},
		{"a name's edge past the edges", 0, 1, 0, 10},
		{"a star of 2", 0, 1, 3, 2},
		{"a star without an edge", 0, 2, 3, 1},
		{"a name's root past the roots", 0, 0, 1, 3},
		{"a root's name with an edge", 0, 0, 0, 4},
		{"a name's pad set", 0, 1, 4, 1},
		{"a parent after its child", 1, 1, 0, 2},
		{"a frame its own parent", 1, 2, 0, 2},
		{"a frame's name past the names", 1, 2, 1, 3},
		{"a frame's pad set", 1, 3, 3, 1},
		{"a depth not its parent's plus one", 1, 3, 2, 2},
		{"a top frame at depth 2", 1, 4, 2, 2},
		{"a total that is not self plus children's", 1, 1, 5, 44},
		{"more frames than the tree's objects", 2, 0, H_DOM_REACH, 4},
		{"more names than frames", 2, 0, H_FLAME_NAMES, NFRAMES + 1},
		{"a frame of no objects (the sum kept)", 3, 0, 0, 0},
		{"objects past 64 bits summed", 3, 1, 0, 0},
		{"objects that do not add up to the tree's", 1, 0, 6, 1},
		{"self bytes past 64 bits summed", 3, 2, 0, 0},
		{"top totals that do not add up to the tree's bytes", 3, 3, 0, 0},
		{"a chain past the depth cap", 3, 4, 0, 0},
		{"a parent after its child (depth and sums kept)", 3, 5, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flame_sound(&t);
		uint64_t v = cases[i].value;
		struct ch_heap_index_flame_name *n = &t.n[cases[i].at];
		struct ch_heap_index_flame_frame *f = &t.f[cases[i].at];
		if (cases[i].kind == 0) {
			switch (cases[i].field) {
			case 0: n->edge = (uint32_t)v; break;
			case 1: n->root = (uint32_t)v; break;
			case 2: n->type = (uint32_t)v; break;
			case 3: n->star = (uint8_t)v; break;
			default: n->pad[1] = (uint8_t)v;
			}
		} else if (cases[i].kind == 1) {
			switch (cases[i].field) {
			case 0: f->parent = (uint32_t)v; break;
			case 1: f->name = (uint32_t)v; break;
			case 2: f->depth = (uint32_t)v; break;
			case 3: f->pad = (uint32_t)v; break;
			case 4: f->self = v; break;
			case 5: f->total = v; break;
			default: f->objects = v;
			}
		} else if (cases[i].kind == 2) {
			/* The extra names sound, so only the count is wrong. */
			t.w[cases[i].field] = v;
			for (size_t k = NNAMES; k < sizeof(t.n) / sizeof(t.n[0]); k++)
				t.n[k] = t.n[2];
		} else if (cases[i].at == 0) {
			t.f[2].objects = 0; /* its object counted in frame 0: 6 still */
			t.f[0].objects = 3;
		} else if (cases[i].at == 1) {
			t.f[1].objects = UINT64_MAX; /* 4 + (2^64 - 1) + 1 + 1 + 1 = 6 mod 2^64 */
			t.f[0].objects = 4;
		} else if (cases[i].at == 2) {
			/* 2^63 more in frames 3 and 4, totals kept: 100 mod 2^64. */
			uint64_t half = (uint64_t)1 << 63;
			t.f[3].self += half;
			t.f[4].self += half;
			t.f[3].total += half;
			t.f[1].total += half;
			t.f[0].total += half;
			t.f[4].total += half;
		} else if (cases[i].at == 3) {
			t.f[4].self = t.f[4].total = 14; /* totals consistent, 99 bytes */
		} else if (cases[i].at == 4) {
			flame_chain(&t, CH_FLAME_MAX_DEPTH + 1);
		} else {
			/* Frame 2 under frame 4 (depth 1: its own 2 still right),
			 * weighing nothing, its bytes frame 0's: whatever order the
			 * totals are summed in, they add up. */
			t.f[2].parent = 4;
			t.f[2].self = t.f[2].total = 0;
			t.f[0].self = 40;
		}
		if (!CHECK(flame_check(&t) != NULL))
			fprintf(stderr, "    %s: passed\n", cases[i].what);
	}
	return CHECK_SUMMARY("test_heap_index_flame");
}
