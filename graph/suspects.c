#include "suspects.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/root_set.h"
#include "graph/memory_brief.h"
#include "graph/roots.h"
#include "graph/tasks.h"
#include "readers/base/grow.h"
#include "readers/cpython/py_frames.h"
#include "readers/cpython/python.h"

#define UP_STEPS 4096   /* bound on a walk up the dominator tree */
#define PLUMBING_HOPS 8 /* bound on following an element's plumbing down */
#define VIA_SAMPLES 16  /* elements whose plumbing is compared */
#define TB_CHAIN_MAX 1000

/* A growing list of object indexes. */
struct cand {
	uint32_t *v;
	size_t n, cap;
};

static struct ch_error *cand_push(struct cand *c, uint32_t o)
{
	struct ch_error *err = ch_grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v));
	if (!err)
		c->v[c->n++] = o;
	return err;
}

struct finder {
	struct ch_suspects *s;
	struct ch_analysis *a;
	const struct ch_dominators *d;
	const struct ch_paths *p;
	uint8_t *marks;          /* per object: NS_DICT, BIG_CHILD bits */
	uint8_t *tkind;          /* per type index: TK_* bits, so hot loops compare no names */
	size_t ntypes;
	/* What one scan over the objects (scan_objects) leaves for the
	 * finders, each list in object order. */
	struct cand accum;       /* reachable, at least CH_SUSPECT_ACCUM_MIN_COUNT references, retaining the share */
	struct cand exc;         /* reachable exceptions */
	struct cand big;         /* retaining CH_SUSPECT_RETAINER_SHARE */
};

/* Bits of finder.marks. */
enum {
	NS_DICT = 1 << 0,   /* a module's or a type's __dict__ */
	BIG_CHILD = 1 << 1, /* a dominator-tree child retains the retainer share */
};

/* What a type is, for the tests the scans over every object make. */
enum {
	TK_MODULE = 1 << 0,    /* "module" */
	TK_TYPE = 1 << 1,      /* a type object's type */
	TK_EXC = 1 << 2,       /* an exception's type */
	TK_PLUMBING = 1 << 3,  /* what an element is wrapped in on its way to what it keeps (a callback
				  is a function whose closure cell holds the object) */
	TK_FRAME = 1 << 4,     /* "frame" */
	TK_GEN = 1 << 5,       /* a generator, coroutine or async generator */
};

struct child {
	uint32_t type, object;
	uint64_t retained;
};

/* Fills f->tkind (one name comparison per type, none per object). */
static struct ch_error *kinds_init(struct finder *f)
{
	static const char *const plumbing_names[] = {"function", "cell", "tuple", "method", "functools.partial"};
	static const char *const gen_names[] = {"generator", "coroutine", "async_generator"};
	const struct ch_py_types *types = &f->a->heap.py->types;
	f->ntypes = types->n;
	f->tkind = calloc(types->n ? types->n : 1, 1);
	if (!f->tkind)
		return &ch_error_nomem;
	for (size_t t = 0; t < types->n; t++) {
		const char *name = ch_py_type_name(types, (uint32_t)t);
		uint8_t k = 0;
		if (!strcmp(name, "module"))
			k |= TK_MODULE;
		if (types->v[t].flags & CH_TPFLAGS_TYPE_SUBCLASS)
			k |= TK_TYPE;
		if (types->v[t].flags & CH_TPFLAGS_BASE_EXC_SUBCLASS)
			k |= TK_EXC;
		for (size_t i = 0; i < sizeof(plumbing_names) / sizeof(plumbing_names[0]); i++)
			if (!strcmp(name, plumbing_names[i]))
				k |= TK_PLUMBING;
		for (size_t i = 0; i < sizeof(gen_names) / sizeof(gen_names[0]); i++)
			if (!strcmp(name, gen_names[i]))
				k |= TK_GEN;
		if (!strcmp(name, "frame"))
			k |= TK_FRAME;
		f->tkind[t] = k;
	}
	return NULL;
}

/* The TK_* bits of o's type (none for a type index out of the table). */
static inline uint8_t kind_of(const struct finder *f, uint32_t o)
{
	uint32_t t = f->a->heap.objects.type[o];
	return t < f->ntypes ? f->tkind[t] : 0;
}

/* A module, or a type object: namespaces whose size is their job. */
static inline bool module_or_type(const struct finder *f, uint32_t o)
{
	return (kind_of(f, o) & (TK_MODULE | TK_TYPE)) != 0;
}

static bool field_named(const struct ch_edges *e, uint32_t k, const char *name)
{
	uint32_t l = e->labels[k], p = ch_label_payload(l);
	return ch_label_kind(l) == CH_REF_FIELD && p < e->nnames && strcmp(e->names[p], name) == 0;
}

/* The first owning edge of o named `name` whose target it dominates, or CH_NO_OBJECT. */
static uint32_t dominated_field(const struct finder *f, uint32_t o, const char *name)
{
	const struct ch_edges *e = &f->a->edges;
	for (uint32_t k = e->offsets[o]; k < e->offsets[o + 1]; k++)
		if (field_named(e, k, name) && ch_label_owns(e->labels[k]))
			return e->targets[k];
	return CH_NO_OBJECT;
}

/* True when anc dominates o (o itself included), looking UP_STEPS up. */
static bool dominated_by(const struct ch_dominators *d, uint32_t o, uint32_t anc)
{
	for (size_t i = 0; i < UP_STEPS && o < d->nobjects; i++) {
		if (o == anc)
			return true;
		o = d->idom[o];
	}
	return false;
}

struct ch_suspect *ch_suspects_append(struct ch_suspects *s, enum ch_suspect_kind kind, uint64_t bytes,
				      uint64_t count)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct ch_suspect *v = realloc(s->v, ncap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = ncap;
	}
	struct ch_suspect *x = &s->v[s->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->bytes = bytes;
	x->count = count;
	x->object = x->sample = x->local_object = CH_NO_OBJECT;
	x->type = UINT32_MAX;
	return x;
}

static struct ch_suspect *add(struct finder *f, enum ch_suspect_kind kind, uint64_t bytes, uint64_t count)
{
	return ch_suspects_append(f->s, kind, bytes, count);
}

/* Marks the __dict__ of o, a module or a type object. */
static void mark_namespace_of(struct finder *f, uint32_t o)
{
	const struct ch_edges *e = &f->a->edges;
	for (uint32_t k = e->offsets[o]; k < e->offsets[o + 1]; k++)
		if (field_named(e, k, "__dict__"))
			f->marks[e->targets[k]] |= NS_DICT;
}

/* Marks the __dict__ of every module and type object. */
static void mark_namespaces(struct finder *f)
{
	for (size_t o = 0; o < f->a->heap.objects.n; o++)
		if (module_or_type(f, (uint32_t)o))
			mark_namespace_of(f, (uint32_t)o);
}

/* The one pass over every object the finders need: marks the
 * namespaces (as mark_namespaces) and lists the candidates of each
 * finder (finder.accum, exc, big). The arrays are read in sequence. */
static struct ch_error *scan_objects(struct finder *f)
{
	const struct ch_edges *e = &f->a->edges;
	const struct ch_dominators *d = f->d;
	uint64_t accum_min = (uint64_t)(CH_SUSPECT_ACCUM_SHARE * (double)f->s->heap_bytes);
	uint64_t big_min = (uint64_t)(CH_SUSPECT_RETAINER_SHARE * (double)f->s->heap_bytes);
	struct ch_error *err = NULL;
	for (size_t i = 0; i < d->nobjects && !err; i++) {
		uint32_t o = (uint32_t)i;
		uint8_t k = kind_of(f, o);
		if (k & (TK_MODULE | TK_TYPE))
			mark_namespace_of(f, o);
		if (d->retained_count[o] == 0) /* not in the tree (idom read only where needed) */
			continue;
		uint64_t r = d->retained[o];
		if (k & TK_EXC)
			err = cand_push(&f->exc, o);
		if (!err && r >= accum_min && e->offsets[o + 1] - e->offsets[o] >= CH_SUSPECT_ACCUM_MIN_COUNT)
			err = cand_push(&f->accum, o);
		if (!err && r >= big_min)
			err = cand_push(&f->big, o);
	}
	return err;
}

/* Kinds of reference by which a container holds an element (not dict
 * keys, named C fields, weak or conservative words). */
static bool element_edge(uint32_t label)
{
	switch (ch_label_kind(label)) {
	case CH_REF_INDEX:
	case CH_REF_DICT_VALUE:
	case CH_REF_SET_ITEM:
	case CH_REF_ATTR:
		return true;
	default:
		return false;
	}
}

/* Follows element x down its plumbing (the dominated child retaining the
 * most, while x is plumbing); appends the labels to via and returns the
 * object reached. */
static uint32_t follow_plumbing(const struct finder *f, uint32_t x, char *via, size_t n)
{
	const struct ch_analysis *a = f->a;
	const struct ch_edges *e = &a->edges;
	for (int hop = 0; hop < PLUMBING_HOPS && (kind_of(f, x) & TK_PLUMBING); hop++) {
		uint32_t best = CH_NO_OBJECT, bk = 0;
		for (uint32_t k = e->offsets[x]; k < e->offsets[x + 1]; k++) {
			uint32_t t = e->targets[k];
			if (t == x || f->d->idom[t] != x || !ch_label_owns(e->labels[k]))
				continue;
			if (best == CH_NO_OBJECT || f->d->retained[t] > f->d->retained[best])
				best = t, bk = k;
		}
		if (best == CH_NO_OBJECT)
			break;
		char label[96];
		ch_edges_label_text(e, &a->heap, bk, label, sizeof(label));
		size_t l = strlen(via);
		snprintf(via + l, n - l, "%s", label);
		x = best;
	}
	return x;
}

static int cmp_child(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->object < y->object ? -1 : x->object > y->object;
}

/* The merged path from container to what its elements keep: "[*]" plus
 * the plumbing labels when the sampled elements agree on them and on the
 * type reached; else "[*]" and the elements' own type. */
static void merge_via(const struct finder *f, struct ch_suspect *x, const struct child *run, size_t n)
{
	char first[CH_SUSPECT_VIA_MAX] = "", via[CH_SUSPECT_VIA_MAX];
	uint32_t leaf_type = UINT32_MAX;
	bool agree = true;
	for (size_t i = 0; i < n && i < VIA_SAMPLES && agree; i++) {
		via[0] = 0;
		uint32_t leaf = follow_plumbing(f, run[i].object, via, sizeof(via));
		uint32_t ty = f->a->heap.objects.type[leaf];
		if (i == 0) {
			memcpy(first, via, sizeof(first));
			leaf_type = ty;
		} else {
			agree = ty == leaf_type && strcmp(via, first) == 0;
		}
	}
	x->type = agree ? leaf_type : run[0].type;
	snprintf(x->via, sizeof(x->via), "[*]%s", agree ? first : "");
}

static struct ch_error *find_accumulations(struct finder *f)
{
	const struct ch_analysis *a = f->a;
	const struct ch_edges *e = &a->edges;
	const struct ch_dominators *d = f->d;
	uint64_t min_bytes = (uint64_t)(CH_SUSPECT_ACCUM_SHARE * (double)f->s->heap_bytes);
	size_t cap = 0;
	struct child *kids = NULL;
	/* The candidates in object order, not the tree's: the suspects are
	 * sorted in the end (no two share an object). */
	for (size_t i = 0; i < f->accum.n; i++) {
		uint32_t o = f->accum.v[i];
		size_t deg = e->offsets[o + 1] - e->offsets[o];
		if ((f->marks[o] & NS_DICT) || module_or_type(f, o))
			continue;
		if (deg > cap) {
			struct child *nk = realloc(kids, deg * sizeof(*nk));
			if (!nk) {
				free(kids);
				return &ch_error_nomem;
			}
			kids = nk;
			cap = deg;
		}
		size_t m = 0;
		for (uint32_t k = e->offsets[o]; k < e->offsets[o + 1]; k++) {
			uint32_t t = e->targets[k];
			if (t != o && d->idom[t] == o && element_edge(e->labels[k]) && ch_label_owns(e->labels[k]))
				kids[m++] = (struct child){a->heap.objects.type[t], t, d->retained[t]};
		}
		if (m < CH_SUSPECT_ACCUM_MIN_COUNT)
			continue;
		qsort(kids, m, sizeof(*kids), cmp_child);
		size_t best = 0, best_n = 0;
		uint64_t best_bytes = 0;
		for (size_t r = 0; r < m;) {
			size_t q = r;
			uint64_t sum = 0;
			for (; q < m && kids[q].type == kids[r].type; q++)
				sum += kids[q].retained;
			if (q - r >= CH_SUSPECT_ACCUM_MIN_COUNT && sum > best_bytes)
				best = r, best_n = q - r, best_bytes = sum;
			r = q;
		}
		if (!best_n || best_bytes < min_bytes || (kind_of(f, kids[best].object) & TK_MODULE))
			continue;
		struct ch_suspect *x = add(f, CH_SUSPECT_ACCUMULATION, d->retained[o], best_n);
		if (!x) {
			free(kids);
			return &ch_error_nomem;
		}
		x->object = o;
		x->sample = kids[best].object;
		merge_via(f, x, kids + best, best_n);
	}
	free(kids);
	return NULL;
}

/* The local of frame (or generator, gen) whose object is target, or,
 * with target CH_NO_OBJECT, the one retaining the most among those
 * owner dominates. Writes its name into x->local. */
static struct ch_error *name_local(struct finder *f, struct ch_suspect *x, uint32_t frame, bool gen, uint32_t target,
				   uint32_t owner)
{
	struct ch_analysis *a = f->a;
	struct ch_py_stacks st;
	struct ch_error *err = ch_py_frame_object_locals(a->heap.py, a->heap.objects.addr[frame], gen, &st);
	if (err) {
		ch_py_stacks_deinit(&st);
		return err;
	}
	for (size_t i = 0; i < st.nlocals; i++) {
		uint32_t o = ch_objects_find(&a->heap.objects, st.locals[i].object);
		if (o == CH_NO_OBJECT)
			continue;
		if (target != CH_NO_OBJECT ? o != target
					   : !dominated_by(f->d, o, owner) ||
						     (x->local_object != CH_NO_OBJECT &&
						      f->d->retained[o] <= f->d->retained[x->local_object]))
			continue;
		x->local_object = o;
		snprintf(x->local, sizeof(x->local), "%s", st.locals[i].name);
		if (target != CH_NO_OBJECT)
			break;
	}
	ch_py_stacks_deinit(&st);
	return NULL;
}

static bool frame_like(const struct finder *f, uint32_t o, bool *gen)
{
	*gen = (kind_of(f, o) & TK_GEN) != 0;
	return *gen || (kind_of(f, o) & TK_FRAME);
}

/* True when a suspect found so far (an accumulation, stored tracebacks)
 * lies below o and makes up at least half of it, or o lies below one. */
static bool suspect_covers(const struct finder *f, uint32_t o)
{
	for (size_t i = 0; i < f->s->n; i++) {
		uint32_t c = f->s->v[i].object;
		if (c == CH_NO_OBJECT)
			continue;
		if (dominated_by(f->d, o, c) ||
		    (dominated_by(f->d, c, o) && 2 * f->d->retained[c] >= f->d->retained[o]))
			return true;
	}
	return false;
}

/* MAT's rule at the deepest point: objects retaining the threshold share
 * none of whose dominator-tree children does. */
static struct ch_error *find_retainers(struct finder *f)
{
	struct ch_analysis *a = f->a;
	const struct ch_dominators *d = f->d;
	/* The objects retaining the share (finder.big) in object order: no
	 * retainer lies below another (its parent would have a big child),
	 * so the order they are found in changes nothing. */
	for (size_t i = 0; i < f->big.n; i++) {
		uint32_t up = d->idom[f->big.v[i]];
		if (up < d->nobjects)
			f->marks[up] |= BIG_CHILD;
	}
	struct ch_error *err = NULL;
	for (size_t i = 0; i < f->big.n && !err; i++) {
		uint32_t o = f->big.v[i];
		if (f->marks[o] || module_or_type(f, o) || suspect_covers(f, o))
			continue;
		struct ch_suspect *x = add(f, CH_SUSPECT_RETAINER, d->retained[o], 1);
		if (!x) {
			err = &ch_error_nomem;
			break;
		}
		x->object = x->sample = o;
		x->type = a->heap.objects.type[o];
		/* A local of a suspended generator or a kept frame: name it. */
		uint32_t up = d->idom[o];
		bool gen;
		if (up < d->nobjects && frame_like(f, up, &gen))
			err = name_local(f, x, up, gen, o, CH_NO_OBJECT);
	}
	return err;
}

struct held_exc {
	uint32_t holder, type, object;
};

static int cmp_held_exc(const void *a, const void *b)
{
	const struct held_exc *x = a, *y = b;
	if (x->holder != y->holder)
		return x->holder < y->holder ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->object < y->object ? -1 : x->object > y->object;
}

/* The biggest local that the frames of exception x's traceback keep and x dominates. */
static struct ch_error *name_traceback_local(struct finder *f, struct ch_suspect *s, uint32_t x)
{
	uint32_t tb = dominated_field(f, x, "__traceback__");
	for (int i = 0; i < TB_CHAIN_MAX && tb != CH_NO_OBJECT; i++) {
		uint32_t frame = dominated_field(f, tb, "tb_frame");
		if (frame != CH_NO_OBJECT) {
			struct ch_error *err = name_local(f, s, frame, false, CH_NO_OBJECT, x);
			if (err)
				return err;
		}
		tb = dominated_field(f, tb, "tb_next");
	}
	return NULL;
}

/* Exceptions with a traceback that no other exception dominates, grouped
 * by (immediate dominator, type). */
static struct ch_error *find_tracebacks(struct finder *f)
{
	struct ch_analysis *a = f->a;
	const struct ch_dominators *d = f->d;
	uint64_t min_bytes = (uint64_t)(CH_SUSPECT_TRACEBACK_SHARE * (double)f->s->heap_bytes);
	size_t n = 0, cap = 0;
	struct held_exc *v = NULL;
	/* The reachable exceptions (finder.exc): the groups are sorted below. */
	for (size_t i = 0; i < f->exc.n; i++) {
		uint32_t o = f->exc.v[i];
		if (dominated_field(f, o, "__traceback__") == CH_NO_OBJECT)
			continue;
		bool nested = false;
		uint32_t up = d->idom[o];
		for (size_t s = 0; s < UP_STEPS && up < d->nobjects && !nested; s++, up = d->idom[up])
			nested = (kind_of(f, up) & TK_EXC) != 0;
		if (nested)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct held_exc *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				free(v);
				return &ch_error_nomem;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = (struct held_exc){d->idom[o], a->heap.objects.type[o], o};
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_held_exc);
	struct ch_error *err = NULL;
	for (size_t r = 0; r < n && !err;) {
		size_t q = r;
		uint64_t sum = 0;
		uint32_t biggest = v[r].object;
		for (; q < n && v[q].holder == v[r].holder && v[q].type == v[r].type; q++) {
			sum += d->retained[v[q].object];
			if (d->retained[v[q].object] > d->retained[biggest])
				biggest = v[q].object;
		}
		if (sum >= min_bytes) {
			struct ch_suspect *x = add(f, CH_SUSPECT_TRACEBACK, sum, q - r);
			if (!x) {
				err = &ch_error_nomem;
				break;
			}
			x->object = v[r].holder < d->nobjects && q - r > 1 ? v[r].holder : biggest;
			x->sample = biggest;
			x->type = v[r].type;
			err = name_traceback_local(f, x, biggest);
		}
		r = q;
	}
	free(v);
	return err;
}

static struct ch_error *find_cycles(struct finder *f)
{
	const struct ch_cycles *c = &f->a->cycles;
	uint64_t min_bytes = (uint64_t)(CH_SUSPECT_CYCLE_SHARE * (double)f->s->heap_bytes);
	for (size_t g = 0; g < c->ngroups; g++) {
		const struct ch_cycle_group *gr = &c->groups[g];
		if (gr->bytes + gr->held_bytes < min_bytes)
			continue;
		struct ch_suspect *x = add(f, CH_SUSPECT_CYCLE, gr->bytes + gr->held_bytes, gr->count);
		if (!x)
			return &ch_error_nomem;
		x->index = (uint32_t)g;
		/* The type a person wrote (a class) names the cycle better than its dicts. */
		x->type = gr->ntypes ? gr->types[0].type : UINT32_MAX;
		for (size_t t = 0; t < gr->ntypes; t++)
			if (f->a->heap.py->types.v[gr->types[t].type].flags & CH_TPFLAGS_HEAPTYPE) {
				x->type = gr->types[t].type;
				break;
			}
		x->sample = gr->nsamples ? ch_objects_find(&f->a->heap.objects, gr->samples[0]) : CH_NO_OBJECT;
	}
	return NULL;
}

static struct ch_error *add_findings(struct finder *f, const struct ch_findings *fs)
{
	const struct ch_gc_replay *r = &f->a->replay;
	for (size_t i = 0; i < fs->n; i++) {
		const char *code = fs->v[i].code;
		bool garbage = !strcmp(code, "gc_disabled_with_garbage") || !strcmp(code, "garbage_pending");
		struct ch_suspect *x = add(f, CH_SUSPECT_GC, garbage ? r->unreachable_bytes + r->freed_with_bytes : 0, 0);
		if (!x)
			return &ch_error_nomem;
		x->index = (uint32_t)i;
		if (garbage)
			x->count = r->unreachable;
	}
	return NULL;
}

static int cmp_suspect(const void *a, const void *b)
{
	const struct ch_suspect *x = a, *y = b;
	if ((x->kind == CH_SUSPECT_GC) != (y->kind == CH_SUSPECT_GC))
		return x->kind == CH_SUSPECT_GC ? 1 : -1; /* the collector's state after the things it explains */
	if ((x->kind == CH_SUSPECT_MEMORY) != (y->kind == CH_SUSPECT_MEMORY))
		return x->kind == CH_SUSPECT_MEMORY ? 1 : -1; /* allocator bytes after retained ones */
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->object != y->object)
		return x->object < y->object ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

struct ch_error *ch_suspects_find(struct ch_suspects *s, struct ch_analysis *a, const struct ch_dominators *d,
				  const struct ch_paths *p, const struct ch_findings *fs)
{
	memset(s, 0, sizeof(*s));
	s->heap_bytes = d->reachable_bytes + d->unreachable_bytes;
	struct finder f = {.s = s, .a = a, .d = d, .p = p};
	f.marks = calloc(a->heap.objects.n ? a->heap.objects.n : 1, 1);
	struct ch_error *err = f.marks ? kinds_init(&f) : &ch_error_nomem;
	if (err) {
		free(f.marks);
		return err;
	}
	err = scan_objects(&f);
	if (!err)
		err = find_accumulations(&f);
	if (!err)
		err = find_tracebacks(&f);
	if (!err)
		err = find_retainers(&f);
	if (!err)
		err = find_cycles(&f);
	if (!err)
		err = add_findings(&f, fs);
	free(f.marks);
	free(f.tkind);
	free(f.accum.v);
	free(f.exc.v);
	free(f.big.v);
	if (!err && s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_suspect);
	if (!err && s->n > CH_SUSPECT_MAX)
		s->n = CH_SUSPECT_MAX;
	for (size_t i = 0; i < s->n && !err; i++) {
		struct ch_suspect *x = &s->v[i];
		if (x->object == CH_NO_OBJECT)
			continue;
		struct ch_path_set ps;
		if ((err = ch_paths_to(&ps, p, &a->edges, &a->heap, x->object, 1)))
			break;
		if (ps.n) {
			x->path = ps.paths[0];
			ps.paths[0].hops = NULL;
		}
		ch_path_set_deinit(&ps);
	}
	if (err)
		ch_suspects_deinit(s);
	return err;
}

void ch_suspects_deinit(struct ch_suspects *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path.hops);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const char *ch_suspect_kind_name(enum ch_suspect_kind k)
{
	static const char *const names[] = {"accumulation", "retainer", "cycle", "traceback", "gc", "tasks", "memory"};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

void ch_suspects_sort(struct ch_suspects *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_suspect);
}

/* chains: the caller reads the search along the suspects' chains only
 * and the tree's sums (the finders follow idom UP_STEPS up at most, the
 * tasks' no further than the object count), so a stored tree is taken
 * without the check of its shape; otherwise (`report`, which walks the
 * tree for its flame graph) both are checked whole. */
static struct ch_error *run(struct ch_suspects_run *r, struct ch_analysis *a, const struct ch_roots *roots,
			      const struct ch_memory_brief *mem, bool chains)
{
	memset(r, 0, sizeof(*r));
	struct ch_error *err = ch_root_set_dominators(&r->d, a, roots, !chains);
	if (!err)
		err = chains ? ch_root_set_paths_chains(&r->p, a, roots) : ch_root_set_paths(&r->p, a, roots);
	if (!err) {
		ch_findings_collect(&r->f, a->heap.py, &a->replay, &a->edges.exactness);
		err = ch_suspects_find(&r->s, a, &r->d, &r->p, &r->f);
	}
	/* asyncio task leaks, over the same paths and dominators. */
	struct ch_tasks tasks;
	if (!err && !(err = ch_tasks_collect_over(&tasks, a->heap.py, a, roots, false, &r->p, &r->d))) {
		/* The heap's suspects stand without them: said, not partial. */
		if (tasks.nunreadable)
			ch_diag_warn(&a->heap.py->diag,
				     "tasks suspects: %zu asyncio object(s) could not be read (%s); leaks among them are not "
				     "named", tasks.nunreadable, tasks.problem);
		err = ch_suspects_add_tasks(&r->s, a, &tasks);
		ch_tasks_deinit(&tasks);
	}
	/* Memory the objects do not explain; its own warnings stay out of the
	 * run (`coreheap memory` reports them). */
	if (!err && mem) {
		err = ch_suspects_add_memory(&r->s, mem);
	} else if (!err) {
		struct ch_memory_held own;
		struct ch_error *merr = ch_memory_held_get(&own, &a->heap, a->index);
		if (merr) {
			ch_error_free(merr);
		} else {
			err = ch_suspects_add_memory(&r->s, &own.b);
			ch_memory_held_deinit(&own);
		}
	}
	if (!err)
		ch_suspects_sort(&r->s);
	if (!err && r->s.n > CH_SUSPECT_MAX) {
		for (size_t i = CH_SUSPECT_MAX; i < r->s.n; i++)
			free(r->s.v[i].path.hops);
		r->s.n = CH_SUSPECT_MAX;
	}
	if (err)
		ch_suspects_run_deinit(r);
	return err;
}

struct ch_error *ch_suspects_run(struct ch_suspects_run *r, struct ch_analysis *a, const struct ch_roots *roots,
				 const struct ch_memory_brief *mem)
{
	return run(r, a, roots, mem, false);
}

struct ch_error *ch_suspects_run_chains(struct ch_suspects_run *r, struct ch_analysis *a, const struct ch_roots *roots,
					const struct ch_memory_brief *mem)
{
	struct ch_error *err = run(r, a, roots, mem, true);
	if (!err || err->kind != CH_ERR_INPUT || !a->index)
		return err;
	/* A chain found damaged: the stored search checked whole (said, and
	 * searched again when it fails), and everything found again. */
	ch_error_free(err);
	return run(r, a, roots, mem, false);
}

void ch_suspects_run_deinit(struct ch_suspects_run *r)
{
	ch_suspects_deinit(&r->s);
	ch_paths_deinit(&r->p);
	ch_dominators_deinit(&r->d);
}

static int cmp_container(const void *a, const void *b)
{
	const struct ch_container *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return x->object < y->object ? -1 : x->object > y->object;
}

struct ch_error *ch_containers_find(struct ch_container **out, size_t *nout, const struct ch_analysis *a,
				    const struct ch_dominators *d)
{
	const struct ch_edges *e = &a->edges;
	struct finder f = {.a = (struct ch_analysis *)a, .d = d};
	*out = NULL;
	*nout = 0;
	f.marks = calloc(a->heap.objects.n ? a->heap.objects.n : 1, 1);
	struct ch_error *err = f.marks ? kinds_init(&f) : &ch_error_nomem;
	if (err) {
		free(f.marks);
		return err;
	}
	mark_namespaces(&f);
	size_t n = 0, cap = 0;
	struct ch_container *v = NULL;
	/* In object order (sorted below). */
	for (size_t i = 0; i < d->nobjects; i++) {
		uint32_t o = (uint32_t)i;
		if (e->offsets[o + 1] - e->offsets[o] < CH_CONTAINER_MIN_ELEMENTS || d->idom[o] == CH_NO_OBJECT ||
		    f.marks[o] || module_or_type(&f, o))
			continue;
		uint64_t m = 0;
		for (uint32_t k = e->offsets[o]; k < e->offsets[o + 1]; k++) {
			uint32_t t = e->targets[k];
			m += t != o && d->idom[t] == o && element_edge(e->labels[k]) && ch_label_owns(e->labels[k]);
		}
		if (m < CH_CONTAINER_MIN_ELEMENTS)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct ch_container *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				free(v);
				free(f.marks);
				free(f.tkind);
				return &ch_error_nomem;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = (struct ch_container){o, m, d->retained[o]};
	}
	free(f.marks);
	free(f.tkind);
	if (n)
		qsort(v, n, sizeof(*v), cmp_container);
	*out = v;
	*nout = n < CH_CONTAINERS_MAX ? n : CH_CONTAINERS_MAX;
	return NULL;
}
