/* The dominator tree and retained sizes on hand-made graphs (diamond,
 * cycles, several roots, unreachable parts, weak edges, a 1M-long chain
 * that would overflow any recursive walk) and on small random graphs
 * against the definition: d dominates w when removing d makes w
 * unreachable from the roots. */
#include <stdlib.h>

#include "check.h"
#include "graph/dominators.h"
#include "graph/object_table.h"

/* A graph under construction: edge lists per node, turned into CSR. */
struct g {
	size_t n;
	uint32_t *src, *dst, *lab;
	size_t m, cap;
	struct ch_edges e;
	uint64_t *size;
	struct ch_object_table objs; /* the sizes, as the dominators read them */
};

/* An object table holding sizes[0..n) (the dominators read nothing else). */
static void sizes_table(struct ch_object_table *t, const uint64_t *sizes, size_t n)
{
	ch_objects_init(t);
	for (size_t i = 0; i < n; i++)
		if (!CHECK_OK(ch_objects_append(t, 0x1000 + 16 * i, 0, 1, sizes[i], 0, 0)))
			abort();
}

static void g_init(struct g *g, size_t n)
{
	memset(g, 0, sizeof(*g));
	g->n = n;
	g->size = calloc(n ? n : 1, sizeof(uint64_t));
	for (size_t i = 0; i < n; i++)
		g->size[i] = 16 + 8 * (i % 5);
}

static void g_edge(struct g *g, uint32_t a, uint32_t b, bool weak)
{
	if (g->m == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->src = realloc(g->src, g->cap * sizeof(uint32_t));
		g->dst = realloc(g->dst, g->cap * sizeof(uint32_t));
		g->lab = realloc(g->lab, g->cap * sizeof(uint32_t));
	}
	g->src[g->m] = a;
	g->dst[g->m] = b;
	g->lab[g->m] = ch_label_make(weak ? CH_REF_WEAK : CH_REF_INDEX, true, (uint32_t)g->m);
	g->m++;
}

/* Counting sort by source; edges of one source keep their insertion order. */
static void g_csr(struct g *g)
{
	struct ch_edges *e = &g->e;
	memset(e, 0, sizeof(*e));
	e->offsets = calloc(g->n + 1, sizeof(uint32_t));
	e->targets = malloc((g->m ? g->m : 1) * sizeof(uint32_t));
	e->labels = malloc((g->m ? g->m : 1) * sizeof(uint32_t));
	for (size_t k = 0; k < g->m; k++)
		e->offsets[g->src[k] + 1]++;
	for (size_t i = 0; i < g->n; i++)
		e->offsets[i + 1] += e->offsets[i];
	uint32_t *pos = malloc((g->n + 1) * sizeof(uint32_t));
	memcpy(pos, e->offsets, (g->n + 1) * sizeof(uint32_t));
	for (size_t k = 0; k < g->m; k++) {
		uint32_t p = pos[g->src[k]]++;
		e->targets[p] = g->dst[k];
		e->labels[p] = g->lab[k];
	}
	free(pos);
	e->nedges = e->cap = g->m;
}

static void g_deinit(struct g *g)
{
	free(g->src);
	free(g->dst);
	free(g->lab);
	free(g->size);
	ch_objects_deinit(&g->objs);
	free(g->e.offsets);
	free(g->e.targets);
	free(g->e.labels);
}

static bool build(struct g *g, struct ch_dominators *d, const uint32_t *roots, size_t nroots)
{
	g_csr(g);
	sizes_table(&g->objs, g->size, g->n);
	return CHECK_OK(ch_dominators_build(d, &g->e, &g->objs, g->n, roots, nroots));
}

enum { R, A, B, C, D, X, Y };

static void test_diamond(void)
{
	struct g g;
	g_init(&g, 7);
	g.size[D] = (uint64_t)5 << 30; /* wider than the table's 32-bit column */
	g_edge(&g, R, A, false);
	g_edge(&g, R, B, false);
	g_edge(&g, A, C, false);
	g_edge(&g, B, C, false);
	g_edge(&g, C, D, false);
	g_edge(&g, X, Y, false); /* unreachable */
	g_edge(&g, X, R, false);
	uint32_t roots[] = {R};
	struct ch_dominators d;
	if (build(&g, &d, roots, 1)) {
		CHECK_EQ_U64(d.idom[R], CH_DOM_ROOT);
		CHECK_EQ_U64(d.idom[A], R);
		CHECK_EQ_U64(d.idom[B], R);
		CHECK_EQ_U64(d.idom[C], R);
		CHECK_EQ_U64(d.idom[D], C);
		CHECK_EQ_U64(d.idom[X], CH_NO_OBJECT);
		CHECK_EQ_U64(d.idom[Y], CH_NO_OBJECT);
		CHECK_EQ_U64(d.retained[C], g.size[C] + g.size[D]);
		CHECK_EQ_U64(d.retained[A], g.size[A]);
		CHECK_EQ_U64(d.retained[R], g.size[R] + g.size[A] + g.size[B] + g.size[C] + g.size[D]);
		CHECK_EQ_U64(d.retained_count[R], 5);
		CHECK_EQ_U64(d.retained[X], 0);
		CHECK_EQ_U64(d.nreachable, 5);
		CHECK_EQ_U64(d.reachable_bytes, d.retained[R]);
		CHECK_EQ_U64(d.unreachable_bytes, g.size[X] + g.size[Y]);
		ch_dominators_deinit(&d);
	}
	g_deinit(&g);
}

/* Two roots share C: only the super-root dominates it. A weak edge
 * does not make D reachable, nor does it split the dominance of C over E. */
static void test_roots_cycles_weak(void)
{
	struct g g;
	g_init(&g, 7);
	g_edge(&g, A, C, false);
	g_edge(&g, B, C, false);
	g_edge(&g, C, X, false);
	g_edge(&g, X, C, false); /* cycle C <-> X */
	g_edge(&g, X, Y, false);
	g_edge(&g, Y, X, false);
	g_edge(&g, A, D, true);  /* weak only: D unreachable */
	g_edge(&g, A, Y, true);  /* weak: X still dominates Y */
	uint32_t roots[] = {A, B, A};
	struct ch_dominators d;
	if (build(&g, &d, roots, 3)) {
		CHECK_EQ_U64(d.idom[A], CH_DOM_ROOT);
		CHECK_EQ_U64(d.idom[B], CH_DOM_ROOT);
		CHECK_EQ_U64(d.idom[C], CH_DOM_ROOT);
		CHECK_EQ_U64(d.idom[X], C);
		CHECK_EQ_U64(d.idom[Y], X);
		CHECK_EQ_U64(d.idom[D], CH_NO_OBJECT);
		CHECK_EQ_U64(d.idom[R], CH_NO_OBJECT);
		CHECK_EQ_U64(d.retained[C], g.size[C] + g.size[X] + g.size[Y]);
		CHECK_EQ_U64(d.retained_count[C], 3);
		CHECK_EQ_U64(d.retained[A], g.size[A]);
		CHECK_EQ_U64(d.nreachable, 5);
		ch_dominators_deinit(&d);
	}
	g_deinit(&g);
}

/* 1M-long list, with an edge from the tail back to the head (its
 * predecessor then sits at the bottom of a million-deep compression path)
 * and from every node to a shared leaf. */
static void test_long_chain(void)
{
	const size_t n = 1000000;
	struct g g;
	g_init(&g, n + 1);
	uint32_t leaf = (uint32_t)n;
	for (uint32_t i = 0; i + 1 < n; i++) {
		g_edge(&g, i, leaf, false);
		g_edge(&g, i, i + 1, false);
	}
	g_edge(&g, (uint32_t)n - 1, 0, false);
	uint32_t roots[] = {0};
	struct ch_dominators d;
	if (build(&g, &d, roots, 1)) {
		size_t bad = 0;
		for (uint32_t i = 1; i < n; i++)
			bad += d.idom[i] != i - 1;
		CHECK_EQ_U64(bad, 0);
		CHECK_EQ_U64(d.idom[leaf], 0);
		uint64_t total = 0, tail = 0;
		for (size_t i = 0; i <= n; i++)
			total += g.size[i];
		CHECK_EQ_U64(d.retained[0], total);
		CHECK_EQ_U64(d.retained_count[0], n + 1);
		for (size_t i = n - 10; i < n; i++)
			tail += g.size[i];
		CHECK_EQ_U64(d.retained[n - 10], tail);
		CHECK_EQ_U64(d.retained_count[n - 10], 10);
		CHECK_EQ_U64(d.unreachable_bytes, 0);
		ch_dominators_deinit(&d);
	}
	g_deinit(&g);
}

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t m)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % m);
}

/* Reachability from the roots over owning edges, with node `removed` cut out. */
static void reach(const struct g *g, const uint32_t *roots, size_t nroots, uint32_t removed, bool *seen,
		  uint32_t *queue)
{
	memset(seen, 0, g->n);
	size_t qn = 0;
	for (size_t r = 0; r < nroots; r++)
		if (roots[r] != removed && !seen[roots[r]]) {
			seen[roots[r]] = true;
			queue[qn++] = roots[r];
		}
	for (size_t q = 0; q < qn; q++)
		for (uint32_t c = g->e.offsets[queue[q]]; c < g->e.offsets[queue[q] + 1]; c++) {
			uint32_t w = g->e.targets[c];
			if (ch_label_kind(g->e.labels[c]) == CH_REF_WEAK || w == removed || seen[w])
				continue;
			seen[w] = true;
			queue[qn++] = w;
		}
}

static void test_random(void)
{
	for (int round = 0; round < 400; round++) {
		size_t n = 2 + rnd(30);
		struct g g;
		g_init(&g, n);
		size_t m = rnd((uint32_t)(3 * n));
		for (size_t k = 0; k < m; k++)
			g_edge(&g, rnd((uint32_t)n), rnd((uint32_t)n), rnd(8) == 0);
		uint32_t roots[4];
		size_t nroots = 1 + rnd(3);
		for (size_t r = 0; r < nroots; r++)
			roots[r] = rnd((uint32_t)n);
		struct ch_dominators d;
		if (!build(&g, &d, roots, nroots)) {
			g_deinit(&g);
			return;
		}
		bool *all = malloc(n), *seen = malloc(n);
		uint32_t *queue = malloc(n * sizeof(uint32_t));
		/* dom[v*n + w]: v dominates w (reachable w only, v != w). */
		bool *dom = calloc(n * n, 1);
		reach(&g, roots, nroots, UINT32_MAX, all, queue);
		size_t nreach = 0;
		for (uint32_t v = 0; v < n; v++) {
			nreach += all[v];
			if (!all[v])
				continue;
			reach(&g, roots, nroots, v, seen, queue);
			for (uint32_t w = 0; w < n; w++)
				dom[v * n + w] = w != v && all[w] && !seen[w];
		}
		size_t bad = 0;
		CHECK_EQ_U64(d.nreachable, nreach);
		for (uint32_t w = 0; w < n; w++) {
			if (!all[w]) {
				bad += d.idom[w] != CH_NO_OBJECT || d.retained[w] != 0;
				continue;
			}
			/* The idom chain of w is exactly its set of strict dominators. */
			size_t chain = 0, want = 0;
			for (uint32_t v = 0; v < n; v++)
				want += dom[v * n + w];
			for (uint32_t x = d.idom[w]; x != CH_DOM_ROOT && chain <= n; x = d.idom[x]) {
				if (x >= n || !dom[x * n + w]) {
					bad++;
					break;
				}
				chain++;
			}
			bad += chain != want;
			uint64_t ret = g.size[w];
			uint32_t cnt = 1;
			for (uint32_t x = 0; x < n; x++)
				if (dom[w * n + x]) {
					ret += g.size[x];
					cnt++;
				}
			bad += d.retained[w] != ret || d.retained_count[w] != cnt;
		}
		if (!CHECK_EQ_U64(bad, 0))
			fprintf(stderr, "    round %d: n %zu, %zu edges, %zu roots\n", round, n, m, nroots);
		/* The same results again from the tree as a heap index keeps it:
		 * a tree the build made passes the check of its shape. */
		struct ch_dominators t;
		struct ch_dominators_stored st = {d.idom,	   d.order, d.retained, d.retained_count, d.nreachable,
						  d.reachable_bytes, d.unreachable_bytes};
		if (CHECK_OK(ch_dominators_from_tree(&t, &st, n, true, NULL))) {
			size_t diff = t.nreachable != d.nreachable || t.reachable_bytes != d.reachable_bytes ||
				      t.unreachable_bytes != d.unreachable_bytes;
			for (uint32_t w = 0; w < n; w++)
				diff += t.idom[w] != d.idom[w] || t.retained[w] != d.retained[w] ||
					t.retained_count[w] != d.retained_count[w];
			CHECK_EQ_U64(diff, 0);
			ch_dominators_deinit(&t);
		}
		free(all);
		free(seen);
		free(queue);
		free(dom);
		ch_dominators_deinit(&d);
		g_deinit(&g);
	}
}

static void test_empty(void)
{
	struct g g;
	g_init(&g, 3);
	g_edge(&g, 0, 1, false);
	struct ch_dominators d;
	if (build(&g, &d, NULL, 0)) {
		CHECK_EQ_U64(d.nreachable, 0);
		CHECK_EQ_U64(d.idom[0], CH_NO_OBJECT);
		CHECK_EQ_U64(d.unreachable_bytes, g.size[0] + g.size[1] + g.size[2]);
		ch_dominators_deinit(&d);
	}
	g_deinit(&g);
}

/* A stored tree is input: each way of not being a tree is refused when
 * its shape is checked; unchecked, it is taken as it is (for a caller that
 * only reads the sums and follows idom a bounded number of steps). */
static void test_from_tree_refuses(void)
{
	const uint32_t none = CH_NO_OBJECT, root = CH_DOM_ROOT;
	const uint64_t retained[4] = {24, 16, 8, 0};
	const uint32_t count[4] = {3, 2, 1, 0};
	struct {
		const char *what;
		uint32_t idom[4], order[4];
		size_t nreach;
		bool ok;
	} cases[] = {
		{"a chain", {root, 0, 1, none}, {0, 1, 2}, 3, true},
		{"a dominator after its object", {root, 2, 0, none}, {0, 1, 2}, 3, false},
		{"a cycle", {root, 2, 1, none}, {0, 1, 2}, 3, false},
		{"its own dominator", {root, 1, 0, none}, {0, 1, 2}, 3, false},
		{"twice in the preorder", {root, 0, 0, none}, {0, 1, 1}, 3, false},
		{"reachable but not in the preorder", {root, 0, 0, none}, {0, 1}, 2, false},
		{"in the preorder but unreachable", {root, 0, none, none}, {0, 1, 2}, 3, false},
		{"a dominator out of range", {root, 7, 0, none}, {0, 1, 2}, 3, false},
		{"an object out of range", {root, 0, 0, none}, {0, 1, 9}, 3, false},
		{"a dominator that is unreachable", {root, 3, 0, none}, {0, 1, 2}, 3, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ch_dominators_stored st = {cases[i].idom, cases[i].order, retained, count, cases[i].nreach, 24, 8};
		struct ch_dominators d;
		struct ch_error *err = ch_dominators_from_tree(&d, &st, 4, true, NULL);
		if (!CHECK_EQ_U64(err == NULL, cases[i].ok))
			fprintf(stderr, "    %s\n", cases[i].what);
		if (err) {
			CHECK_EQ_U64(err->kind, CH_ERR_INPUT);
			ch_error_free(err);
		} else {
			CHECK_EQ_U64(d.retained[0], 24);
			CHECK_EQ_U64(d.retained_count[1], 2);
			CHECK_EQ_U64(d.reachable_bytes, 24);
			CHECK_EQ_U64(d.unreachable_bytes, 8);
			ch_dominators_deinit(&d);
		}
		/* Unchecked: taken as it is, its arrays in place. */
		if (CHECK_OK(ch_dominators_from_tree(&d, &st, 4, false, NULL))) {
			CHECK_EQ_U64(d.idom == cases[i].idom && d.order == cases[i].order && d.retained == retained, 1);
			CHECK_EQ_U64(d.nreachable, cases[i].nreach);
			ch_dominators_deinit(&d);
		}
	}
	/* Counts out of range are refused either way. */
	struct ch_dominators_stored st = {cases[0].idom, cases[0].order, retained, count, 5, 24, 8};
	struct ch_dominators d;
	struct ch_error *err = ch_dominators_from_tree(&d, &st, 4, false, NULL);
	if (CHECK_EQ_U64(err != NULL, 1))
		ch_error_free(err);
}

int main(void)
{
	test_diamond();
	test_roots_cycles_weak();
	test_long_chain();
	test_random();
	test_empty();
	test_from_tree_refuses();
	return CHECK_SUMMARY("test_dominators");
}
