/* The object table: address lookup after one-by-one adds and after a bulk
 * load, including the duplicate a bulk load must drop and compact away. */
#include "check.h"
#include "graph/object_table.h"

#define N 20000

static void test_add_and_find(void)
{
	struct ch_object_table t;
	ch_objects_init(&t);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t idx;
		bool added;
		CHECK(ch_objects_add(&t, 0x10000 + 16 * (uint64_t)i, i % 7, 1, 32, 0, 0, &idx, &added) == NULL);
		CHECK(added && idx == i);
	}
	uint32_t idx;
	bool added = true;
	CHECK(ch_objects_add(&t, 0x10000 + 16 * 5, 0, 1, 32, 0, 0, &idx, &added) == NULL);
	CHECK(!added && idx == 5);
	CHECK_EQ_U64(t.n, N);
	for (uint32_t i = 0; i < N; i += 97)
		CHECK_EQ_U64(ch_objects_find(&t, 0x10000 + 16 * (uint64_t)i), i);
	CHECK_EQ_U64(ch_objects_find(&t, 0x8), CH_NO_OBJECT);
	ch_objects_deinit(&t);
}

static void test_bulk_with_duplicates(void)
{
	struct ch_object_table t;
	ch_objects_init(&t);
	/* addresses 0..N-1, with entry 100 repeated after entry 200 and the
	 * last entry repeated at the end */
	for (uint32_t i = 0; i < N; i++) {
		CHECK(ch_objects_append(&t, 0x10000 + 16 * (uint64_t)i, i, (int64_t)i, i, (uint8_t)(i % 3), 0) == NULL);
		if (i == 200)
			CHECK(ch_objects_append(&t, 0x10000 + 16 * 100, 999, 999, 999, 2, 0) == NULL);
	}
	CHECK(ch_objects_append(&t, 0x10000 + 16 * (uint64_t)(N - 1), 7, 7, 7, 1, 0) == NULL);
	uint64_t dropped = 0;
	CHECK(ch_objects_index_build(&t, &dropped) == NULL);
	CHECK_EQ_U64(dropped, 2);
	CHECK_EQ_U64(t.n, N);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t k = ch_objects_find(&t, 0x10000 + 16 * (uint64_t)i);
		if (!CHECK_EQ_U64(k, i))
			break;
		/* the first occurrence wins, and the arrays stayed aligned */
		CHECK_EQ_U64(t.type[k], i);
		CHECK_EQ_U64((uint64_t)t.refcnt[k], i);
		CHECK_EQ_U64(t.gen[k], i % 3);
	}
	/* adds after a bulk load use the same index */
	uint32_t idx;
	bool added;
	CHECK(ch_objects_add(&t, 0x8, 1, 1, 1, 4, 0, &idx, &added) == NULL);
	CHECK(added && idx == N && ch_objects_find(&t, 0x8) == N);
	ch_objects_deinit(&t);
}

int main(void)
{
	test_add_and_find();
	test_bulk_with_duplicates();
	return CHECK_SUMMARY("test_object_table");
}
