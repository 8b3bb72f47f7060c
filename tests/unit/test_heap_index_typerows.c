/* The heap index's range check of the stored retainers by type (format
 * 14, graph/heap_index_check.c ch_heap_index_typerows_check): rows in
 * increasing type order, each type in the table, 1 to H_DOM_REACH objects
 * whose shallow bytes are at most what the row retains, at most the
 * tree's bytes, retained objects from the row's objects to the tree's,
 * and the rows' objects and shallow bytes those of the tree. Each case
 * changes one thing of three sound rows (computed here by hand from a
 * small tree, not by coreheap) and must be refused; the sound rows, no
 * rows for an empty tree, and the rows of a bigger tree past 32 bits must
 * pass. */
#include "check.h"
#include "graph/heap_index_format.h"

enum { NROWS = 3 };

struct rows {
	uint64_t w[H_WORDS];
	struct ch_heap_index_typerow r[NROWS];
};

/* A tree of 6 objects (100 bytes) over 5 types: type 1, two objects (a
 * root of 60 bytes holding the other), 10 bytes; type 3, three objects
 * (5 bytes each, one topmost holding 30 bytes in 2 objects), 15; type 4,
 * one object of 75 bytes retaining 75. */
static void rows_sound(struct rows *t)
{
	memset(t, 0, sizeof(*t));
	t->w[H_OBJECTS] = 6;
	t->w[H_TYPES] = 5;
	t->w[H_DOMS] = 6;
	t->w[H_DOM_REACH] = 6;
	t->w[H_DOM_BYTES] = 100;
	t->w[H_TYPEROWS] = NROWS;
	const struct ch_heap_index_typerow r[NROWS] = {
		{1, 0, 2, 10, 60, 4},
		{3, 0, 3, 15, 30, 2 + 1},
		{4, 0, 1, 75, 75, 1},
	};
	memcpy(t->r, r, sizeof(r));
}

static const char *rows_check(const struct rows *t)
{
	return ch_heap_index_typerows_check(t->w, t->r, t->w[H_TYPEROWS]);
}

int main(void)
{
	struct rows t;
	rows_sound(&t);
	CHECK(rows_check(&t) == NULL);
	/* No tree, or an empty one: no rows. */
	memset(&t, 0, sizeof(t));
	t.w[H_TYPES] = 5;
	CHECK(rows_check(&t) == NULL);
	/* Past 32 bits: 5 GiB in one row, 2^32 + 1 objects. */
	rows_sound(&t);
	t.w[H_DOM_REACH] = ((uint64_t)1 << 32) + 4 + 1;
	t.w[H_DOM_BYTES] = ((uint64_t)5 << 30) + 90;
	t.r[0].objects = ((uint64_t)1 << 32) + 1;
	t.r[0].shallow = (uint64_t)5 << 30;
	t.r[0].retained = ((uint64_t)5 << 30) + 10;
	t.r[0].retained_objects = ((uint64_t)1 << 32) + 2;
	CHECK(rows_check(&t) == NULL);

	static const struct {
		const char *what;
		size_t row;
		int field; /* 0 type, 1 pad, 2 objects, 3 shallow, 4 retained, 5 retained objects; -1 header */
		uint64_t value;
		int word; /* the header word set to value when field is -1 */
	} cases[] = {
		{"a type past the table", 2, 0, 5, 0},
		{"a type twice", 1, 0, 1, 0},
		{"types out of order", 0, 0, 3, 0},
		{"a pad word set", 1, 1, 1, 0},
		{"a row of no objects", 2, 2, 0, 0},
		{"more objects than the tree's", 0, 2, 7, 0},
		{"objects past 64 bits summed", 0, 2, UINT64_MAX, 0},
		{"objects that do not add up to the tree's", 0, 2, 1, 0},
		{"fewer retained objects than objects", 1, 5, 2, 0},
		{"more retained objects than the tree's", 0, 5, 7, 0},
		{"retaining less than the row's shallow bytes", 1, 4, 14, 0},
		{"retaining more than the tree's bytes", 0, 4, 101, 0},
		{"shallow bytes past the tree's", 2, 3, 101, 0},
		{"shallow bytes past 64 bits summed", 1, 3, UINT64_MAX, 0},
		{"shallow bytes that do not add up to the tree's", 2, 3, 74, 0},
		{"more rows than the tree's objects", 0, -1, 2, H_DOM_REACH},
		{"rows of no tree", 0, -1, 0, H_DOM_REACH},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rows_sound(&t);
		struct ch_heap_index_typerow *r = &t.r[cases[i].row];
		uint64_t v = cases[i].value;
		switch (cases[i].field) {
		case 0: r->type = (uint32_t)v; break;
		case 1: r->pad = (uint32_t)v; break;
		case 2: r->objects = v; break;
		case 3: r->shallow = v; break;
		case 4: r->retained = v; break;
		case 5: r->retained_objects = v; break;
		default: t.w[cases[i].word] = v;
		}
		if (!CHECK(rows_check(&t) != NULL))
			fprintf(stderr, "    %s: passed\n", cases[i].what);
	}
	return CHECK_SUMMARY("test_heap_index_typerows");
}
