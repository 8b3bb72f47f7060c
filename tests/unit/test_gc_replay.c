/* The gc.collect() replay on hand-made heaps whose refcounts a corrupted
 * core could hold: INT64_MIN (subtracting an internal reference from it
 * overflowed before the subtraction saturated), INT64_MAX, negative and
 * zero. Under the ASan+UBSan build (-DCH_SANITIZE=ON, recovery off) any
 * signed overflow aborts this test; in every build the verdicts are
 * checked against what the collector's rule gives (gc_refs > 0 after the
 * internal references are subtracted means referenced from outside). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph/gc_replay.h"

#define MAX_EDGES 32

struct edge {
	uint32_t from, to;
};

/* Objects in index order with their refcount and generation; edges are
 * traversed references. Builds the heap and the CSR edges, runs the
 * replay and returns its states in *r. */
static bool run_in(const int64_t *refcnt, const uint8_t *gen, const uint8_t *interp, size_t n, const struct edge *ev,
		   size_t m, struct ch_gc_replay *r)
{
	struct ch_heap heap;
	memset(&heap, 0, sizeof(heap));
	ch_objects_init(&heap.objects);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx;
		bool added;
		if (!CHECK_OK(ch_objects_add(&heap.objects, 0x1000 + 0x40 * i, 0, refcnt[i], 32, gen[i], 0, &idx,
					     &added)))
			return false;
		if (interp)
			heap.objects.interp[idx] = interp[i];
	}
	uint32_t offsets[16] = {0}, targets[MAX_EDGES], labels[MAX_EDGES];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < m; j++)
			if (ev[j].from == i) {
				targets[k] = ev[j].to;
				labels[k] = ch_label_make(CH_REF_INDEX, true, (uint32_t)j);
				k++;
			}
		offsets[i + 1] = (uint32_t)k;
	}
	struct ch_edges e = {.offsets = offsets, .targets = targets, .labels = labels, .nedges = k, .cap = k};
	bool ok = CHECK_OK(ch_gc_replay_run(r, &heap, &e, true));
	/* The same verdicts with the replay's own scratch. */
	struct ch_gc_replay own;
	if (ok && (ok = CHECK_OK(ch_gc_replay_run(&own, &heap, &e, false)))) {
		ok = CHECK(memcmp(own.state, r->state, n) == 0 && own.unreachable == r->unreachable &&
			   own.unreachable_bytes == r->unreachable_bytes && own.freed_with == r->freed_with &&
			   own.freed_with_bytes == r->freed_with_bytes);
		ch_gc_replay_deinit(&own);
	}
	ch_objects_deinit(&heap.objects);
	return ok;
}

static bool run(const int64_t *refcnt, const uint8_t *gen, size_t n, const struct edge *ev, size_t m,
		struct ch_gc_replay *r)
{
	return run_in(refcnt, gen, NULL, n, ev, m, r);
}

static void test_extreme_refcounts(void)
{
	/* 0,1: a garbage cycle; 2: INT64_MIN held twice by the cycle; 3: -5
	 * held by the cycle; 4: INT64_MAX (referenced from outside) holding
	 * 5 (refcount 1, held only by 4); 6: 0 held by 4; 7: INT64_MIN - a
	 * self-reference only; 8: untracked, INT64_MAX, held by garbage. */
	const int64_t rc[] = {1, 1, INT64_MIN, -5, INT64_MAX, 1, 0, INT64_MIN, INT64_MAX};
	const uint8_t gen[] = {0, 1, 2, 0, 2, 0, 1, 0, CH_GEN_UNTRACKED};
	const struct edge ev[] = {{0, 1}, {1, 0}, {0, 2}, {1, 2}, {0, 3}, {4, 5}, {4, 6},
				  {7, 7}, {7, 7}, {0, 8}, {4, 4}};
	struct ch_gc_replay r;
	if (!run(rc, gen, 9, ev, sizeof(ev) / sizeof(ev[0]), &r))
		return;
	CHECK(r.state[0] == CH_REPLAY_UNREACHABLE && r.state[1] == CH_REPLAY_UNREACHABLE);
	CHECK(r.state[2] == CH_REPLAY_UNREACHABLE); /* gc_refs stays <= 0 */
	CHECK(r.state[3] == CH_REPLAY_UNREACHABLE);
	CHECK(r.state[4] == CH_REPLAY_ALIVE); /* INT64_MAX - 1 > 0 */
	CHECK(r.state[5] == CH_REPLAY_ALIVE && r.state[6] == CH_REPLAY_ALIVE);
	CHECK(r.state[7] == CH_REPLAY_UNREACHABLE);
	CHECK(r.state[8] == CH_REPLAY_OUTSIDE); /* one reference from garbage is not INT64_MAX of them */
	CHECK_EQ_U64(r.unreachable, 5);
	CHECK_EQ_U64(r.freed_with, 0);
	ch_gc_replay_deinit(&r);
}

static void test_untracked_freed_with(void)
{
	/* A control case: an untracked object whose whole count comes from
	 * garbage is freed with it; one with a negative count never is. */
	const int64_t rc[] = {1, 1, 2, -1};
	const uint8_t gen[] = {0, 0, CH_GEN_UNTRACKED, CH_GEN_UNTRACKED};
	const struct edge ev[] = {{0, 1}, {1, 0}, {0, 2}, {1, 2}, {0, 3}};
	struct ch_gc_replay r;
	if (!run(rc, gen, 4, ev, sizeof(ev) / sizeof(ev[0]), &r))
		return;
	CHECK(r.state[0] == CH_REPLAY_UNREACHABLE && r.state[1] == CH_REPLAY_UNREACHABLE);
	CHECK(r.state[2] == CH_REPLAY_FREED_WITH);
	CHECK(r.state[3] == CH_REPLAY_OUTSIDE);
	CHECK_EQ_U64(r.freed_with, 1);
	ch_gc_replay_deinit(&r);
}

static void test_per_interpreter(void)
{
	/* Each interpreter collects its own lists: 0 (main) and 1 (a
	 * sub-interpreter) hold each other, each with that one reference, so
	 * neither collection subtracts it and both stay alive; 2 and 3, a cycle
	 * inside interpreter 1, are its garbage; 4, held by 2 from interpreter
	 * 1 only, is garbage of no collection (its one reference comes from
	 * outside main's set). */
	const int64_t rc[] = {1, 1, 1, 1, 1};
	const uint8_t gen[] = {0, 2, 0, 1, 2};
	const uint8_t interp[] = {0, 1, 1, 1, 0};
	const struct edge ev[] = {{0, 1}, {1, 0}, {2, 3}, {3, 2}, {2, 4}};
	struct ch_gc_replay r;
	if (!run_in(rc, gen, interp, 5, ev, sizeof(ev) / sizeof(ev[0]), &r))
		return;
	CHECK(r.state[0] == CH_REPLAY_ALIVE && r.state[1] == CH_REPLAY_ALIVE);
	CHECK(r.state[2] == CH_REPLAY_UNREACHABLE && r.state[3] == CH_REPLAY_UNREACHABLE);
	CHECK(r.state[4] == CH_REPLAY_ALIVE);
	CHECK_EQ_U64(r.unreachable, 2);
	ch_gc_replay_deinit(&r);
}

int main(void)
{
	test_per_interpreter();
	test_extreme_refcounts();
	test_untracked_freed_with();
	return CHECK_SUMMARY("test_gc_replay");
}
