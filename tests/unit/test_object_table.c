/* The object table: address lookup after one-by-one adds and after a bulk
 * load, including the duplicate a bulk load must drop and compact away;
 * sizes and refcounts too wide for their 32-bit columns, through all of
 * that and through the records a heap index keeps them in; the address
 * table lent out as scratch and given back unsettled. */
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

/* Slots lent, scribbled over and given back unsettled: lent again as they
 * are, counted in the table's memory, and every address found once the
 * table settles (explicitly, or because an object is added). */
static void test_lend_unsettled(void)
{
	struct ch_object_table t;
	ch_objects_init(&t);
	for (uint32_t i = 0; i < N; i++)
		CHECK(ch_objects_add(&t, 0x10000 + 16 * (uint64_t)i, 0, 1, 32, 0, 0, NULL, NULL) == NULL);
	uint64_t bytes = ch_objects_memory(&t);
	for (int round = 0; round < 2; round++) {
		size_t nslots = 0;
		uint32_t *slots = ch_objects_index_lend(&t, &nslots);
		if (!CHECK(slots != NULL && nslots >= N))
			break;
		for (size_t k = 0; k < nslots; k++)
			slots[k] = 0xdeadbeefu;
		ch_objects_index_return(&t, slots, nslots);
		CHECK_EQ_U64(ch_objects_memory(&t), bytes);
		size_t again = 0;
		CHECK(ch_objects_index_lend(&t, &again) == slots && again == nslots);
		ch_objects_index_return(&t, slots, nslots);
		if (round == 0) {
			ch_objects_index_settle(&t);
			ch_objects_index_settle(&t); /* settled: nothing to do */
		} else {
			uint32_t idx;
			bool added;
			CHECK(ch_objects_add(&t, 0x8, 0, 1, 32, 0, 0, &idx, &added) == NULL);
			CHECK(added && idx == N && ch_objects_find(&t, 0x8) == N);
		}
		CHECK(t.idle_slots == NULL && (round || t.index.slots == slots));
		for (uint32_t i = 0; i < N; i++)
			if (!CHECK_EQ_U64(ch_objects_find(&t, 0x10000 + 16 * (uint64_t)i), i))
				break;
		CHECK_EQ_U64(ch_objects_find(&t, 0x18), CH_NO_OBJECT);
	}
	/* Looked up unsettled: the lookup settles it first (never an answer
	 * from the scribbled slots or an empty table). */
	size_t nslots;
	uint32_t *slots = ch_objects_index_lend(&t, &nslots);
	if (CHECK(slots != NULL)) {
		for (size_t k = 0; k < nslots; k++)
			slots[k] = 0xdeadbeefu;
		ch_objects_index_return(&t, slots, nslots);
		CHECK_EQ_U64(ch_objects_find(&t, 0x10000 + 16 * (uint64_t)(N - 1)), N - 1);
		CHECK(t.idle_slots == NULL);
		CHECK_EQ_U64(ch_objects_find(&t, 0x18), CH_NO_OBJECT);
	}
	/* An unsettled table is freed whole. */
	slots = ch_objects_index_lend(&t, &nslots);
	CHECK(slots != NULL);
	ch_objects_index_return(&t, slots, nslots);
	ch_objects_deinit(&t);
}

/* Entry i's size and refcount: every 7th too wide for its column. */
static uint64_t wide_size(uint32_t i)
{
	return i % 7 ? 48 + i : ((uint64_t)1 << 32) + i;
}

static int64_t wide_refcnt(uint32_t i)
{
	return i % 7 ? (int64_t)i : i % 2 ? INT64_MIN + i : ((int64_t)3 << 30) + i;
}

static void test_wide_values(void)
{
	struct ch_object_table t;
	ch_objects_init(&t);
	/* A bulk load with duplicates (wide ones among them) compacted away. */
	for (uint32_t i = 0; i < N; i++) {
		CHECK(ch_objects_append(&t, 0x10000 + 16 * (uint64_t)i, 0, wide_refcnt(i), wide_size(i), 0, 0) == NULL);
		if (i % 1000 == 1)
			CHECK(ch_objects_append(&t, 0x10000 + 16 * (uint64_t)(i - 1), 0, 1, (uint64_t)1 << 40, 0, 0) == NULL);
	}
	uint64_t dropped = 0;
	CHECK(ch_objects_index_build(&t, &dropped) == NULL);
	CHECK_EQ_U64(dropped, N / 1000);
	size_t bad = 0;
	for (uint32_t i = 0; i < N; i++)
		bad += ch_objects_size(&t, i) != wide_size(i) || ch_objects_refcnt(&t, i) != wide_refcnt(i);
	CHECK_EQ_U64(bad, 0);
	/* Narrow over wide, wide over narrow. */
	CHECK(ch_objects_set_size(&t, 0, 16) == NULL);
	CHECK(ch_objects_set_size(&t, 1, (uint64_t)1 << 33) == NULL);
	CHECK_EQ_U64(ch_objects_size(&t, 0), 16);
	CHECK_EQ_U64(ch_objects_size(&t, 1), (uint64_t)1 << 33);
	/* As an index keeps them: only the live ones, and they check. */
	struct ch_wide_rec *rec;
	size_t nrec;
	if (CHECK(ch_objects_wide_records(&t, &rec, &nrec) == NULL)) {
		size_t want = 0;
		for (uint32_t i = 0; i < N; i++)
			want += (t.size[i] == CH_SIZE_WIDE) + (t.refcnt[i] == CH_REFCNT_WIDE);
		CHECK_EQ_U64(nrec, want);
		CHECK(ch_objects_wide_check(t.size, t.refcnt, t.n, rec, nrec) == NULL);
		CHECK(ch_objects_wide_check(t.size, t.refcnt, t.n, rec, nrec - 1) != NULL);
		rec[0].index = rec[1].index;
		CHECK(ch_objects_wide_check(t.size, t.refcnt, t.n, rec, nrec) != NULL);
		free(rec);
	}
	ch_objects_deinit(&t);
}

int main(void)
{
	test_add_and_find();
	test_bulk_with_duplicates();
	test_wide_values();
	test_lend_unsettled();
	return CHECK_SUMMARY("test_object_table");
}
