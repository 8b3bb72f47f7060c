#include "dominators.h"

#include <stdlib.h>
#include <string.h>

#include "graph/object_table.h"
#include "graph/roots.h"

#define NONE UINT32_MAX

/* Lengauer-Tarjan state. Everything is indexed by DFS preorder number k:
 * 0 is the super-root, 1..nreach the reachable objects; vertex[k] is the
 * object. Working in DFS numbers keeps the hot arrays dense (the garbage
 * takes no room in them) and makes "k < j" mean "discovered earlier". */
struct lt {
	const struct ch_edges *e;
	size_t n;         /* objects */
	uint32_t nreach;  /* reachable objects (DFS numbers 1..nreach) */
	uint32_t *dfn;    /* per object: DFS number, NONE when unreached (freed after the predecessors) */
	/* parent[k]: k's DFS parent; once k is linked into the forest
	 * (lt_idoms), its forest ancestor, which path compression moves up. */
	uint32_t *vertex, *parent;
	uint32_t *stack, *cursor; /* DFS stack and edge cursors; the stack is later the compression stack
				     (cursor is freed after the DFS) */
	uint32_t *pred_off, *preds;
	uint32_t *semi, *label, *bucket, *idom;
};

static void lt_free(struct lt *t)
{
	free(t->dfn);
	free(t->vertex);
	free(t->parent);
	free(t->stack);
	free(t->cursor);
	free(t->pred_off);
	free(t->preds);
	free(t->semi);
	free(t->label);
	free(t->bucket);
	free(t->idom);
	memset(t, 0, sizeof(*t));
}

static inline bool edge_ok(const struct lt *t, size_t c)
{
	return t->e->targets[c] < t->n && ch_label_owns(t->e->labels[c]);
}

/* Iterative DFS from the super-root: the roots in the order given, then
 * each object's owning edges in CSR order. cursor[] holds the next edge
 * of each object on the stack, so the walk is a true DFS (the spanning
 * tree Lengauer-Tarjan needs) with no recursion. */
static void lt_dfs(struct lt *t, const uint32_t *roots, size_t nroots)
{
	const struct ch_edges *e = t->e;
	uint32_t next = 1;
	t->vertex[0] = NONE;
	t->parent[0] = NONE;
	for (size_t r = 0; r < nroots; r++) {
		uint32_t o = roots[r];
		if (o >= t->n || t->dfn[o] != NONE)
			continue;
		t->dfn[o] = next;
		t->vertex[next] = o;
		t->parent[next] = 0;
		size_t sp = 0;
		t->stack[sp] = next;
		t->cursor[sp] = e->offsets[o];
		sp++;
		next++;
		while (sp) {
			uint32_t k = t->stack[sp - 1], c = t->cursor[sp - 1];
			uint32_t end = e->offsets[t->vertex[k] + 1];
			while (c < end && (!edge_ok(t, c) || t->dfn[e->targets[c]] != NONE))
				c++;
			if (c == end) {
				sp--;
				continue;
			}
			t->cursor[sp - 1] = c + 1;
			uint32_t w = e->targets[c];
			t->dfn[w] = next;
			t->vertex[next] = w;
			t->parent[next] = k;
			t->stack[sp] = next;
			t->cursor[sp] = e->offsets[w];
			sp++;
			next++;
		}
	}
	t->nreach = next - 1;
}

/* Predecessors of every reachable object, as DFS numbers, in CSR form.
 * Only the predecessors numbered after their target are stored: when w's
 * semi-dominator is computed (in reverse preorder), a predecessor v < w is
 * not processed yet, so EVAL(v) is v and semi[v] is v; such predecessors
 * (the DFS tree's edges among them, the super-root above each root) only
 * lower semi[w]'s starting value to the least of them, which is set here.
 * A self-reference changes nothing and is left out too, and so are edges
 * from unreachable objects. That leaves the heap's cross and back edges:
 * the predecessor array is a fraction of the edges. */
static struct ch_error *lt_preds(struct lt *t, const uint32_t *roots, size_t nroots)
{
	const struct ch_edges *e = t->e;
	uint32_t N = t->nreach;
	uint32_t *semi = t->semi;
	t->pred_off = calloc((size_t)N + 2, sizeof(uint32_t));
	if (!t->pred_off)
		return &ch_error_nomem;
	for (uint32_t k = 0; k <= N; k++)
		semi[k] = k;
	for (size_t r = 0; r < nroots; r++)
		if (roots[r] < t->n)
			semi[t->dfn[roots[r]]] = 0;
	uint64_t total = 0;
	for (uint32_t k = 1; k <= N; k++) {
		uint32_t v = t->vertex[k];
		for (uint32_t c = e->offsets[v]; c < e->offsets[v + 1]; c++) {
			if (!edge_ok(t, c))
				continue;
			uint32_t w = t->dfn[e->targets[c]];
			if (k < w) {
				if (k < semi[w])
					semi[w] = k;
			} else if (k > w) {
				t->pred_off[w]++;
				total++;
			}
		}
	}
	if (total >= UINT32_MAX)
		return ch_error_new(CH_ERR_NOMEM, "more than 4 billion references to compute dominators over");
	/* Inclusive prefix sums (ends), then fill backwards: each pred_off[w]
	 * ends at the start of w's run. */
	for (uint32_t k = 1; k <= N; k++)
		t->pred_off[k] += t->pred_off[k - 1];
	t->pred_off[N + 1] = t->pred_off[N];
	t->preds = malloc((total ? total : 1) * sizeof(uint32_t));
	if (!t->preds)
		return &ch_error_nomem;
	for (uint32_t k = 1; k <= N; k++) {
		uint32_t v = t->vertex[k];
		for (uint32_t c = e->offsets[v]; c < e->offsets[v + 1]; c++) {
			if (!edge_ok(t, c))
				continue;
			uint32_t w = t->dfn[e->targets[c]];
			if (k > w)
				t->preds[--t->pred_off[w]] = k;
		}
	}
	return NULL;
}

/* EVAL of the simple version: the vertex of least semi-dominator on the
 * forest path above v (excluding the forest root), compressing the path.
 * The path is walked up onto an explicit stack, then compressed top-down,
 * which is the order the recursive COMPRESS applies its updates in.
 *
 * The vertices are linked in reverse preorder, so the linked ones are
 * exactly those numbered lo and above: the forest's ancestor links live in
 * parent[] (a linked vertex's parent is read once, when it is linked; an
 * unlinked one's is untouched), which saves the separate ancestor array,
 * 4 bytes per object at the dominator tree's peak. */
static inline uint32_t lt_eval(struct lt *t, uint32_t v, uint32_t lo)
{
	uint32_t *anc = t->parent, *label = t->label, *semi = t->semi;
	if (v < lo)
		return v;
	size_t sp = 0;
	uint32_t x = v;
	while (anc[x] >= lo) {
		t->stack[sp++] = x;
		x = anc[x];
	}
	while (sp) {
		x = t->stack[--sp];
		uint32_t a = anc[x];
		if (semi[label[a]] < semi[label[x]])
			label[x] = label[a];
		anc[x] = anc[a];
	}
	return label[v];
}

/* The bucket links share idom's array: link[v] is set when v joins a
 * bucket and read when that bucket is emptied, where idom[v] is written
 * (after its link was read), once; nothing reads link[v] after that. */
static void lt_idoms(struct lt *t)
{
	uint32_t N = t->nreach;
	uint32_t *semi = t->semi, *idom = t->idom, *bucket = t->bucket, *link = t->idom;
	for (uint32_t k = 0; k <= N; k++) {
		t->label[k] = k; /* semi was started by lt_preds */
		bucket[k] = NONE;
	}
	idom[0] = NONE;
	for (uint32_t w = N; w >= 1; w--) {
		/* Linked so far: w+1..N. */
		for (uint32_t p = t->pred_off[w]; p < t->pred_off[w + 1]; p++) {
			uint32_t u = lt_eval(t, t->preds[p], w + 1);
			if (semi[u] < semi[w])
				semi[w] = semi[u];
		}
		link[w] = bucket[semi[w]];
		bucket[semi[w]] = w;
		uint32_t pw = t->parent[w]; /* LINK(pw, w): parent[w] is now its ancestor link */
		for (uint32_t v = bucket[pw], next; v != NONE; v = next) {
			next = link[v];
			uint32_t u = lt_eval(t, v, w);
			idom[v] = semi[u] < semi[v] ? u : pw;
		}
		bucket[pw] = NONE;
	}
	for (uint32_t w = 1; w <= N; w++)
		if (idom[w] != semi[w])
			idom[w] = idom[idom[w]];
}

static void *alloc_u32(size_t n)
{
	return malloc((n ? n : 1) * sizeof(uint32_t));
}

/* d's retained sizes (and, with counts, retained_count: zeroed by the
 * caller) summed over its idom and order, with the byte totals: reverse
 * preorder adds each object into its idom after its own sum is complete,
 * since a dominator precedes everything it dominates in preorder; the
 * super-root's total is summed apart. */
static void sum_retained(struct ch_dominators *d, const struct ch_object_table *sizes, bool counts)
{
	uint64_t all = 0, reach = 0;
	memset(d->retained, 0, d->nobjects * sizeof(uint64_t));
	for (size_t i = 0; i < d->nobjects; i++)
		all += ch_objects_size(sizes, i);
	for (size_t k = 0; k < d->nreachable; k++) {
		uint32_t o = d->order[k];
		d->retained[o] = ch_objects_size(sizes, o);
		if (counts)
			d->retained_count[o] = 1;
	}
	for (size_t k = d->nreachable; k-- > 0;) {
		uint32_t o = d->order[k], p = d->idom[o];
		if (p == CH_DOM_ROOT) {
			reach += d->retained[o];
		} else {
			d->retained[p] += d->retained[o];
			if (counts)
				d->retained_count[p] += d->retained_count[o];
		}
	}
	d->reachable_bytes = reach;
	d->unreachable_bytes = all - reach;
}

struct ch_error *ch_dominators_build(struct ch_dominators *d, const struct ch_edges *e, const struct ch_object_table *sizes,
				     size_t nobjects, const uint32_t *roots, size_t nroots)
{
	memset(d, 0, sizeof(*d));
	if (nobjects >= NONE - 1)
		return ch_error_new(CH_ERR_NOMEM, "too many objects for the dominator tree");
	struct lt t = {.e = e, .n = nobjects};
	size_t n1 = nobjects + 1;
	t.dfn = alloc_u32(nobjects);
	t.vertex = alloc_u32(n1);
	t.parent = alloc_u32(n1);
	t.stack = alloc_u32(n1);
	t.cursor = alloc_u32(n1);
	if (!t.dfn || !t.vertex || !t.parent || !t.stack || !t.cursor)
		goto nomem;
	memset(t.dfn, 0xFF, nobjects * sizeof(uint32_t));
	lt_dfs(&t, roots, nroots);
	free(t.cursor);
	t.cursor = NULL;
	t.semi = alloc_u32((size_t)t.nreach + 1);
	struct ch_error *err = t.semi ? lt_preds(&t, roots, nroots) : &ch_error_nomem;
	if (err) {
		lt_free(&t);
		return err;
	}
	free(t.dfn);
	t.dfn = NULL;
	size_t N1 = (size_t)t.nreach + 1;
	t.label = alloc_u32(N1);
	t.bucket = alloc_u32(N1);
	t.idom = alloc_u32(N1);
	if (!t.label || !t.bucket || !t.idom)
		goto nomem;
	lt_idoms(&t);
	/* Only idom and vertex are needed from here: the rest is freed before
	 * the results are allocated (together they would set `top`'s peak
	 * memory). */
	free(t.semi);
	free(t.preds);
	free(t.pred_off);
	free(t.parent);
	free(t.stack);
	free(t.label);
	free(t.bucket);
	t.semi = t.preds = t.pred_off = t.parent = t.stack = t.label = t.bucket = NULL;

	/* Results per object: idom, the preorder, then the sums over them. */
	uint32_t N = t.nreach;
	d->nobjects = nobjects;
	d->nreachable = N;
	d->idom = alloc_u32(nobjects);
	d->retained = malloc((nobjects ? nobjects : 1) * sizeof(uint64_t));
	d->retained_count = calloc(nobjects ? nobjects : 1, sizeof(uint32_t));
	if (!d->idom || !d->retained || !d->retained_count)
		goto nomem;
	memset(d->idom, 0xFF, nobjects * sizeof(uint32_t));
	for (uint32_t k = 1; k <= N; k++)
		d->idom[t.vertex[k]] = t.idom[k] == 0 ? CH_DOM_ROOT : t.vertex[t.idom[k]];
	/* The preorder is vertex[1..N]: moved down over vertex[0] (the
	 * super-root) and kept as it is. */
	memmove(t.vertex, t.vertex + 1, (size_t)N * sizeof(uint32_t));
	uint32_t *order = N ? realloc(t.vertex, (size_t)N * sizeof(uint32_t)) : NULL;
	d->order = order ? order : t.vertex;
	t.vertex = NULL;
	sum_retained(d, sizes, true);
	lt_free(&t);
	return NULL;
nomem:
	lt_free(&t);
	ch_dominators_deinit(d);
	return &ch_error_nomem;
}

/* Whether idom and order (nreach of them) over nobjects objects form a
 * tree: NULL, or what is wrong. */
static const char *tree_check(const uint32_t *idom, const uint32_t *order, size_t nreach, size_t nobjects,
			      uint8_t *seen)
{
	/* Preorder: each object once, in range, after its dominator (which
	 * is then in the tree and not the object itself), so the tree has no
	 * cycle. */
	for (size_t k = 0; k < nreach; k++) {
		uint32_t o = order[k];
		if (o >= nobjects || seen[o])
			return "an object is not, or twice, in the dominator tree's preorder";
		uint32_t p = idom[o];
		if (p != CH_DOM_ROOT && (p >= nobjects || !seen[p]))
			return "an object's dominator does not come before it in the tree";
		seen[o] = 1;
	}
	/* The tree's objects are the preorder's: the others have no dominator. */
	uint32_t bad = 0;
	for (size_t i = 0; i < nobjects; i++)
		bad |= (uint32_t)(idom[i] == NONE) ^ (uint32_t)(seen[i] == 0);
	return bad ? "the dominator tree's preorder and dominators disagree" : NULL;
}

struct ch_error *ch_dominators_from_tree(struct ch_dominators *d, const struct ch_dominators_stored *s, size_t nobjects,
					 bool check_tree, struct ch_shared_map *backing)
{
	memset(d, 0, sizeof(*d));
	if (nobjects >= NONE - 1 || s->nreach > nobjects)
		return ch_error_new(CH_ERR_INPUT, "the dominator tree's counts are out of range");
	if (check_tree) {
		uint8_t *seen = calloc(nobjects ? nobjects : 1, 1);
		if (!seen)
			return &ch_error_nomem;
		const char *bad = tree_check(s->idom, s->order, s->nreach, nobjects, seen);
		free(seen);
		if (bad)
			return ch_error_new(CH_ERR_INPUT, "%s", bad);
	}
	d->idom = (uint32_t *)s->idom;
	d->order = (uint32_t *)s->order;
	d->retained = (uint64_t *)s->retained;
	d->retained_count = (uint32_t *)s->retained_count;
	d->borrowed = true;
	d->backing = ch_shared_map_hold(backing);
	d->nobjects = nobjects;
	d->nreachable = s->nreach;
	d->reachable_bytes = s->reachable_bytes;
	d->unreachable_bytes = s->unreachable_bytes;
	return NULL;
}

struct ch_error *ch_dominators_resum(struct ch_dominators *d, const struct ch_dominators *tree,
				     const struct ch_object_table *sizes)
{
	memset(d, 0, sizeof(*d));
	size_t n = tree->nobjects, N = tree->nreachable;
	d->nobjects = n;
	d->nreachable = N;
	d->idom = alloc_u32(n);
	d->order = alloc_u32(N);
	d->retained = malloc((n ? n : 1) * sizeof(uint64_t));
	d->retained_count = alloc_u32(n);
	if (!d->idom || !d->order || !d->retained || !d->retained_count) {
		ch_dominators_deinit(d);
		return &ch_error_nomem;
	}
	memcpy(d->idom, tree->idom, n * sizeof(uint32_t));
	memcpy(d->order, tree->order, N * sizeof(uint32_t));
	memcpy(d->retained_count, tree->retained_count, n * sizeof(uint32_t));
	sum_retained(d, sizes, false);
	return NULL;
}

void ch_dominators_deinit(struct ch_dominators *d)
{
	ch_shared_map_release(d->backing);
	if (!d->borrowed) {
		free(d->idom);
		free(d->order);
		free(d->retained);
		free(d->retained_count);
	}
	memset(d, 0, sizeof(*d));
}
