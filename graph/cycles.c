#include "cycles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/fnv.h"
#include "readers/base/sorted_u32.h"
#include "readers/cpython/python.h"

#define CH_SHAPE_MAX_EDGES 16
#define CH_UNVISITED UINT32_MAX
/* Garbage above 1/GID_DENSE_SHARE of the objects gets a per-object gid array. */
#define GID_DENSE_SHARE 16

struct group_index {
	uint64_t *hashes;
	uint32_t *slots; /* group index + 1 */
	size_t nslots;
};

struct finder {
	struct ch_cycles *c;
	const struct ch_heap *heap;
	const struct ch_edges *e;
	const struct ch_gc_replay *r;
	/* Only garbage takes part, and garbage is usually a sliver of the
	 * heap: scratch is indexed by a dense garbage id (gid), the garbage
	 * objects (unreachable or freed with them) numbered in object order.
	 * An object's gid is found by binary search in members, or, when
	 * the garbage is more than a sliver, read from the per-object gid. */
	uint32_t *members;       /* per gid: the object, ascending */
	size_t ng;
	uint32_t *gid;           /* NULL, or per object: its gid or CH_UNVISITED */
	uint32_t *comp;          /* per gid: component number + 1, 0 = none yet */
	uint32_t *owner;         /* per gid, for members of the current component: the object
				    whose __dict__ it is, or CH_UNVISITED */
	size_t cap_groups;
	struct group_index gi;
	uint32_t ncomp;
	uint32_t *comp_group;    /* per component number - 1: its group's index, CH_UNVISITED if acyclic */
	size_t cap_comp;
};

static bool is_garbage(const struct ch_gc_replay *r, uint32_t i)
{
	return ch_replay_is_garbage(r->state[i]);
}

/* The gid of object i, CH_UNVISITED when it is not garbage. */
static inline uint32_t gid_of(const struct finder *f, uint32_t i)
{
	if (!is_garbage(f->r, i))
		return CH_UNVISITED;
	if (f->gid)
		return f->gid[i];
	return (uint32_t)ch_u32_lower_bound(f->members, f->ng, i); /* garbage: it is in members */
}

/* The gid of object i when it is unreachable (what the cycles are made of), else CH_UNVISITED. */
static inline uint32_t cycle_gid(const struct finder *f, uint32_t i)
{
	return f->r->state[i] == CH_REPLAY_UNREACHABLE ? gid_of(f, i) : CH_UNVISITED;
}

/* Component of object i, 0 when it is not garbage or not yet assigned. */
static inline uint32_t comp_of(const struct finder *f, uint32_t i)
{
	uint32_t g = cycle_gid(f, i);
	return g == CH_UNVISITED ? 0 : f->comp[g];
}

static uint64_t fnv(const char *s)
{
	return ch_fnv_bytes(CH_FNV_SEED, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_shape_type(const void *a, const void *b)
{
	const struct ch_shape_type *x = a, *y = b;
	return x->type < y->type ? -1 : x->type > y->type;
}

/* Appends text to a growing string; returns false on allocation failure. */
static bool append(char **s, size_t *len, size_t *cap, const char *text)
{
	size_t n = strlen(text);
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		while (ncap < *len + n + 1)
			ncap *= 2;
		char *p = realloc(*s, ncap);
		if (!p)
			return false;
		*s = p;
		*cap = ncap;
	}
	memcpy(*s + *len, text, n + 1);
	*len += n;
	return true;
}

static const char *tname(const struct finder *f, uint32_t i)
{
	return ch_py_type_name(&f->heap->py->types, f->heap->objects.type[i]);
}

static bool is_dict_field(const struct ch_edges *e, uint32_t k)
{
	uint32_t l = e->labels[k];
	return ch_label_kind(l) == CH_REF_FIELD && ch_label_payload(l) < e->nnames &&
	       strcmp(e->names[ch_label_payload(l)], "__dict__") == 0;
}

static struct ch_error *add_to_group(struct finder *f, const uint32_t *m, size_t n, char *key,
				     struct ch_shape_type *types, size_t ntypes, char **edges, size_t nedges)
{
	struct ch_cycles *c = f->c;
	const struct ch_heap *heap = f->heap;
	uint64_t h = fnv(key);
	if ((c->ngroups + 1) * 2 > f->gi.nslots) {
		size_t ns = f->gi.nslots ? f->gi.nslots * 2 : 256;
		uint32_t *slots = calloc(ns, sizeof(*slots));
		uint64_t *hashes = calloc(ns, sizeof(*hashes));
		if (!slots || !hashes) {
			free(slots);
			free(hashes);
			return &ch_error_nomem;
		}
		for (size_t s = 0; s < f->gi.nslots; s++) {
			if (!f->gi.slots[s])
				continue;
			size_t t = f->gi.hashes[s] & (ns - 1);
			while (slots[t])
				t = (t + 1) & (ns - 1);
			slots[t] = f->gi.slots[s];
			hashes[t] = f->gi.hashes[s];
		}
		free(f->gi.slots);
		free(f->gi.hashes);
		f->gi.slots = slots;
		f->gi.hashes = hashes;
		f->gi.nslots = ns;
	}
	size_t s = h & (f->gi.nslots - 1);
	struct ch_cycle_group *g = NULL;
	for (; f->gi.slots[s]; s = (s + 1) & (f->gi.nslots - 1)) {
		struct ch_cycle_group *cand = &c->groups[f->gi.slots[s] - 1];
		if (f->gi.hashes[s] == h && strcmp(cand->key, key) == 0) {
			g = cand;
			break;
		}
	}
	if (g) {
		free(key);
		free(types);
		for (size_t i = 0; i < nedges; i++)
			free(edges[i]);
		free(edges);
	} else {
		if (c->ngroups == f->cap_groups) {
			size_t ncap = f->cap_groups ? f->cap_groups * 2 : 64;
			struct ch_cycle_group *p = realloc(c->groups, ncap * sizeof(*p));
			if (!p)
				return &ch_error_nomem;
			c->groups = p;
			f->cap_groups = ncap;
		}
		g = &c->groups[c->ngroups];
		memset(g, 0, sizeof(*g));
		g->key = key;
		g->types = types;
		g->ntypes = ntypes;
		g->edges = edges;
		g->nedges = nedges;
		f->gi.slots[s] = (uint32_t)++c->ngroups;
		f->gi.hashes[s] = h;
	}
	g->count++;
	g->objects += n;
	for (size_t i = 0; i < n; i++) {
		g->bytes += ch_objects_size(&heap->objects, m[i]);
		if (heap->py->types.v[heap->objects.type[m[i]]].finalizer)
			g->finalizers = true;
	}
	if (g->nsamples < CH_CYCLE_SAMPLES)
		g->samples[g->nsamples++] = heap->objects.addr[m[0]];
	f->comp_group[comp_of(f, m[0]) - 1] = (uint32_t)(g - c->groups);
	return NULL;
}

/* One strongly connected component of the garbage, members m[0..n). */
static struct ch_error *shape_component(struct finder *f, const uint32_t *m, size_t n)
{
	const struct ch_edges *e = f->e;
	const struct ch_heap *heap = f->heap;
	uint32_t cid = comp_of(f, m[0]);
	if (cid > f->cap_comp) {
		size_t ncap = f->cap_comp ? f->cap_comp * 2 : 1024;
		uint32_t *p = realloc(f->comp_group, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		f->comp_group = p;
		f->cap_comp = ncap;
	}
	f->comp_group[cid - 1] = CH_UNVISITED;
	bool cyclic = n > 1;
	for (uint32_t k = e->offsets[m[0]]; !cyclic && k < e->offsets[m[0] + 1]; k++)
		cyclic = e->targets[k] == m[0] && ch_label_traversed(e->labels[k]);
	if (!cyclic) {
		f->c->acyclic++;
		f->c->acyclic_bytes += ch_objects_size(&heap->objects, m[0]);
		return NULL;
	}
	f->c->components++;
	struct ch_shape_type *types = calloc(n, sizeof(*types));
	char **edges = calloc(CH_SHAPE_MAX_EDGES, sizeof(*edges));
	if (!types || !edges) {
		free(types);
		free(edges);
		return &ch_error_nomem;
	}
	for (size_t a = 0; a < n; a++) {
		types[a].type = heap->objects.type[m[a]];
		types[a].count = 1;
		f->owner[gid_of(f, m[a])] = CH_UNVISITED;
	}
	for (size_t a = 0; a < n; a++)
		for (uint32_t k = e->offsets[m[a]]; k < e->offsets[m[a] + 1]; k++)
			if (comp_of(f, e->targets[k]) == cid && is_dict_field(e, k))
				f->owner[gid_of(f, e->targets[k])] = m[a];
	qsort(types, n, sizeof(*types), cmp_shape_type);
	size_t ntypes = 0;
	for (size_t a = 0; a < n; a++) {
		if (ntypes && types[ntypes - 1].type == types[a].type)
			types[ntypes - 1].count++;
		else
			types[ntypes++] = types[a];
	}
	size_t nedges = 0;
	for (size_t a = 0; a < n && nedges < CH_SHAPE_MAX_EDGES; a++) {
		uint32_t u = m[a], gu = gid_of(f, u), shown = f->owner[gu] != CH_UNVISITED ? f->owner[gu] : u;
		for (uint32_t k = e->offsets[u]; k < e->offsets[u + 1] && nedges < CH_SHAPE_MAX_EDGES; k++) {
			uint32_t w = e->targets[k];
			if (!ch_label_traversed(e->labels[k]) || comp_of(f, w) != cid)
				continue;
			if (is_dict_field(e, k) && f->owner[gid_of(f, w)] == u)
				continue; /* folded: the dict's entries read as the owner's attributes */
			char label[96], text[512];
			ch_edges_label_text(e, heap, k, label, sizeof(label));
			if (shown != u && label[0] == '[' && label[1] == '\'') {
				size_t l = strlen(label);
				if (l >= 4)
					label[l - 2] = '\0';
				snprintf(text, sizeof(text), "%s.%s -> %s", tname(f, shown), label + 2, tname(f, w));
			} else {
				snprintf(text, sizeof(text), "%s%s -> %s", tname(f, shown), label, tname(f, w));
			}
			bool dup = false;
			for (size_t x = 0; x < nedges && !dup; x++)
				dup = strcmp(edges[x], text) == 0;
			if (!dup && !(edges[nedges++] = strdup(text)))
				return &ch_error_nomem;
		}
	}
	qsort(edges, nedges, sizeof(*edges), cmp_str);
	char *key = NULL;
	size_t len = 0, cap = 0;
	bool ok = true;
	for (size_t t = 0; t < ntypes && ok; t++) {
		char buf[600];
		snprintf(buf, sizeof(buf), "%s*%u;", ch_py_type_name(&heap->py->types, types[t].type), types[t].count);
		ok = append(&key, &len, &cap, buf);
	}
	for (size_t x = 0; x < nedges && ok; x++)
		ok = append(&key, &len, &cap, "|") && append(&key, &len, &cap, edges[x]);
	if (!ok) {
		free(key);
		return &ch_error_nomem;
	}
	return add_to_group(f, m, n, key, types, ntypes, edges, nedges);
}

static int cmp_group(const void *a, const void *b)
{
	const struct ch_cycle_group *x = a, *y = b;
	uint64_t tx = x->bytes + x->held_bytes, ty = y->bytes + y->held_bytes;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The garbage off the cycles, each object given to the group of the
 * nearest cycle member reaching it (ch_cycle_group.held_*): a
 * breadth-first search from every cycle member at once, in object order,
 * along references that keep their target alive (all but weak ones).
 * claim[i] is the group index + 1 of object i, 0 while unclaimed. */
static struct ch_error *attribute_held(struct finder *f)
{
	const struct ch_heap *heap = f->heap;
	const struct ch_edges *e = f->e;
	size_t ng = f->ng, head = 0, tail = 0;
	/* In gid space: only garbage is ever claimed or queued. */
	uint32_t *claim = calloc(ng ? ng : 1, sizeof(*claim)), *queue = malloc((ng ? ng : 1) * sizeof(*queue));
	if (!claim || !queue) {
		free(claim);
		free(queue);
		return &ch_error_nomem;
	}
	for (size_t i = 0; i < ng; i++) {
		uint32_t cid = f->comp[i]; /* 0 for garbage freed with the cycles */
		if (cid && f->comp_group[cid - 1] != CH_UNVISITED) {
			claim[i] = f->comp_group[cid - 1] + 1;
			queue[tail++] = (uint32_t)i;
		}
	}
	while (head < tail) {
		uint32_t gu = queue[head++], u = f->members[gu];
		for (uint32_t k = e->offsets[u]; k < e->offsets[u + 1]; k++) {
			uint32_t w = e->targets[k], gw;
			if (ch_label_kind(e->labels[k]) == CH_REF_WEAK || (gw = gid_of(f, w)) == CH_UNVISITED || claim[gw])
				continue;
			claim[gw] = claim[gu];
			queue[tail++] = gw;
			struct ch_cycle_group *g = &f->c->groups[claim[gu] - 1];
			g->held_objects++;
			g->held_bytes += ch_objects_size(&heap->objects, w);
		}
	}
	free(claim);
	free(queue);
	return NULL;
}

/* Iterative Tarjan over traversed edges between garbage objects, in gid
 * space; call[] is the explicit recursion stack, next_edge[] each frame's
 * position in its object's edge row. */
struct ch_error *ch_cycles_find(struct ch_cycles *c, const struct ch_heap *heap, const struct ch_edges *e,
				const struct ch_gc_replay *r)
{
	memset(c, 0, sizeof(*c));
	size_t n = heap->objects.n, ng = 0;
	struct finder f = {.c = c, .heap = heap, .e = e, .r = r};
	struct ch_error *err = NULL;
	uint32_t *members = NULL, *index = NULL, *low = NULL, *stack = NULL, *call = NULL, *next_edge = NULL;
	const uint8_t *state = r->state;
	for (size_t i = 0; i < n; i++) /* kept simple enough to vectorize */
		ng += (state[i] == CH_REPLAY_UNREACHABLE) | (state[i] == CH_REPLAY_FREED_WITH);
	if (ng >= CH_UNVISITED) {
		err = ch_error_new(CH_ERR_NOMEM, "too many garbage objects to find cycles in");
		goto out;
	}
	size_t sz = (ng ? ng : 1) * sizeof(uint32_t);
	members = malloc(sz);
	/* A per-object gid when the garbage is more than a sliver: then the
	 * lookups are many and a binary search each would cost more. */
	if (members && ng > n / GID_DENSE_SHARE && !(f.gid = malloc((n ? n : 1) * sizeof(*f.gid)))) {
		err = &ch_error_nomem;
		goto out;
	}
	index = malloc(sz);
	low = malloc(sz);
	stack = malloc(sz);
	call = malloc(sz);
	next_edge = malloc(sz);
	f.comp = calloc(ng ? ng : 1, sizeof(uint32_t));
	f.owner = malloc(sz);
	if (!members || !index || !low || !stack || !call || !next_edge || !f.comp || !f.owner) {
		err = &ch_error_nomem;
		goto out;
	}
	for (size_t i = 0, g = 0; i < n && (f.gid || g < ng); i++) { /* without gid: done at the last garbage */
		bool garbage = is_garbage(r, (uint32_t)i);
		if (garbage)
			members[g] = (uint32_t)i;
		if (f.gid)
			f.gid[i] = garbage ? (uint32_t)g : CH_UNVISITED;
		g += garbage;
	}
	f.members = members;
	f.ng = ng;
	for (size_t g = 0; g < ng; g++)
		index[g] = CH_UNVISITED;
	uint32_t counter = 0;
	size_t sp = 0, cp = 0;
	for (uint32_t root = 0; root < ng && !err; root++) {
		if (index[root] != CH_UNVISITED || r->state[members[root]] != CH_REPLAY_UNREACHABLE)
			continue; /* visited, or freed with the garbage: not part of a cycle */
		index[root] = low[root] = counter++;
		stack[sp++] = root;
		call[cp++] = root;
		next_edge[root] = e->offsets[members[root]];
		while (cp && !err) {
			uint32_t v = call[cp - 1];
			if (next_edge[v] < e->offsets[members[v] + 1]) {
				uint32_t k = next_edge[v]++;
				if (!ch_label_traversed(e->labels[k]))
					continue;
				uint32_t w = cycle_gid(&f, e->targets[k]);
				if (w == CH_UNVISITED)
					continue;
				if (index[w] == CH_UNVISITED) {
					index[w] = low[w] = counter++;
					stack[sp++] = w;
					call[cp++] = w;
					next_edge[w] = e->offsets[members[w]];
				} else if (!f.comp[w] && index[w] < low[v]) {
					low[v] = index[w]; /* w is still on the stack */
				}
				continue;
			}
			cp--;
			if (cp && low[v] < low[call[cp - 1]])
				low[call[cp - 1]] = low[v];
			if (low[v] != index[v])
				continue;
			size_t start = sp;
			do
				start--;
			while (stack[start] != v);
			f.ncomp++;
			for (size_t i = start; i < sp; i++) {
				f.comp[stack[i]] = f.ncomp;
				stack[i] = members[stack[i]]; /* popped: object indexes from here on */
			}
			err = shape_component(&f, stack + start, sp - start);
			sp = start;
		}
	}
	if (!err && c->ngroups)
		err = attribute_held(&f);
	if (!err && c->ngroups)
		qsort(c->groups, c->ngroups, sizeof(*c->groups), cmp_group);
out:
	free(members);
	free(index);
	free(low);
	free(stack);
	free(call);
	free(next_edge);
	free(f.gid);
	free(f.comp);
	free(f.owner);
	free(f.comp_group);
	free(f.gi.slots);
	free(f.gi.hashes);
	if (err)
		ch_cycles_deinit(c);
	return err;
}

void ch_cycles_deinit(struct ch_cycles *c)
{
	for (size_t g = 0; g < c->ngroups; g++) {
		free(c->groups[g].key);
		free(c->groups[g].types);
		for (size_t x = 0; x < c->groups[g].nedges; x++)
			free(c->groups[g].edges[x]);
		free(c->groups[g].edges);
	}
	free(c->groups);
	memset(c, 0, sizeof(*c));
}
