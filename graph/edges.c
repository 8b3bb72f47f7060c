#include "edges.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/py_value.h"
#include "readers/cpython/python.h"

#define CH_MAX_NAMES 4096
#define CH_NAME_CACHE 512 /* a power of two */

/* References are collected for a run of objects and resolved together, so
 * that the hash slots and table entries their targets need can be
 * prefetched: resolving them one by one is a chain of dependent cache
 * misses, and the lookups are most of the pass's time. */
#define CH_BATCH_REFS 1024
/* Objects whose unmodelled traverses are emulated in one batch
 * (ch_py_refs_prefetch): one engine start for many calls. */
#define CH_PREFETCH_OBJECTS 4096
/* How far ahead of the visit the objects' memory is touched
 * (ch_py_refs_touch): the header this many objects ahead, the block it
 * points at half as many. */
#define CH_TOUCH_AHEAD 16

/* Object index + 1 of a dict key or attribute name by its address,
 * direct-mapped, 0 = empty (a power of two): the keys of a class's
 * instances and of a dict's value just after its key are looked up again
 * and again. Only found objects are kept, and an object's index never
 * changes once assigned, so a hit is what the lookup would return. */
#define CH_KEY_CACHE 64

/* A reference waiting in a batch: only what its edge needs, copied field
 * by field from the visitor's struct ch_ref (a whole-struct copy read it
 * back with wide loads over the visitor's narrow stores just made, which
 * the processor cannot forward, and stalled on every reference). */
enum {
	PENDING_TRAVERSED = 1 << 0,
	PENDING_SHARED = 1 << 1,  /* CH_REF_DICT_KEY: ch_ref.shared */
	PENDING_ELEMENT = 1 << 2, /* CH_REF_INDEX: a CH_REF_ARRAY_ELEMENT */
	PENDING_NAMED = 1 << 3,   /* CH_REF_ATTR, CH_REF_DICT_VALUE: labelled by aux.name, not by a key */
	PENDING_LOCAL = 1 << 4,   /* CH_REF_ATTR: a frame's local named by the key aux.value */
};

struct pending {
	uint64_t target;
	/* index (CH_REF_INDEX, CH_REF_CONSERVATIVE), key address (CH_REF_ATTR,
	 * CH_REF_DICT_VALUE unless PENDING_NAMED) or the static name
	 * (CH_REF_FIELD, CH_REF_WEAK, PENDING_NAMED) */
	union {
		uint64_t value;
		const char *name;
	} aux;
	uint32_t source;
	uint8_t kind;  /* enum ch_ref_kind */
	uint8_t flags; /* PENDING_* */
};

struct build {
	struct ch_edges *e;
	struct ch_heap *heap;
	struct ch_python *py;
	struct ch_error *err;
	struct pending *batch;
	size_t nbatch;
	uint32_t current;      /* object whose references are being collected */
	size_t next_offset;    /* objects below this have offsets[] set */
	size_t offsets_cap;
	char first_unreadable[1024]; /* for the warning: which object, and why */
	/* name_id by the name's address, direct-mapped: emulated references
	 * carry hundreds of member and offset names, and a linear search per
	 * edge showed in profiles. A miss is only slower. */
	struct { const char *name; uint32_t id; } name_cache[CH_NAME_CACHE];
	struct { uint64_t addr; uint32_t index1; } key_cache[CH_KEY_CACHE];
};

static struct ch_error *push_edge(struct ch_edges *e, uint32_t target, uint32_t label)
{
	if (e->backing)
		return ch_error_new(CH_ERR_INPUT, "edges loaded from an index cannot grow");
	if (e->nedges == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 1 << 16;
		if (ncap > UINT32_MAX)
			return ch_error_new(CH_ERR_NOMEM, "more than 4 billion references");
		uint32_t *t = realloc(e->targets, ncap * sizeof(*t));
		if (!t)
			return &ch_error_nomem;
		e->targets = t;
		uint32_t *l = realloc(e->labels, ncap * sizeof(*l));
		if (!l)
			return &ch_error_nomem;
		e->labels = l;
		e->cap = ncap;
	}
	e->targets[e->nedges] = target;
	e->labels[e->nedges] = label;
	e->nedges++;
	return NULL;
}

/* Static field names are few; intern them by pointer, then by text. */
static uint32_t name_id(struct ch_edges *e, const char *name)
{
	for (size_t i = 0; i < e->nnames; i++)
		if (e->names[i] == name)
			return (uint32_t)i;
	for (size_t i = 0; i < e->nnames; i++)
		if (strcmp(e->names[i], name) == 0)
			return (uint32_t)i;
	if (e->nnames >= CH_MAX_NAMES)
		return CH_MAX_NAMES - 1;
	const char **p = realloc(e->names, (e->nnames + 1) * sizeof(*p));
	if (!p)
		return 0;
	e->names = p;
	e->names[e->nnames] = name;
	return (uint32_t)e->nnames++;
}

static uint32_t name_id_cached(struct build *b, const char *name)
{
	size_t slot = ((uintptr_t)name >> 3 ^ (uintptr_t)name >> 12) & (CH_NAME_CACHE - 1);
	if (b->name_cache[slot].name == name)
		return b->name_cache[slot].id;
	uint32_t id = name_id(b->e, name);
	b->name_cache[slot].name = name;
	b->name_cache[slot].id = id;
	return id;
}

/* Index of the object at addr, adding it as untracked if it is new and
 * plausible; CH_NO_OBJECT if it is not an object. */
static uint32_t object_at(struct build *b, uint64_t addr, uint32_t source)
{
	struct ch_object_table *o = &b->heap->objects;
	uint32_t i = ch_objects_find(o, addr);
	if (i != CH_NO_OBJECT)
		return i;
	uint64_t type;
	if (!ch_py_object_plausible(b->py, addr, &type))
		return CH_NO_OBJECT;
	uint32_t ti;
	if ((b->err = ch_py_type_intern(b->py, type, &ti)))
		return CH_NO_OBJECT;
	if (!b->py->types.v[ti].valid)
		return CH_NO_OBJECT;
	uint64_t refcnt = 0;
	struct ch_error *err = ch_py_read_u64(b->py, addr, CH_PY_OB_REFCNT, &refcnt);
	ch_error_free(err);
	if ((b->err = ch_objects_add(o, addr, ti, ch_py_refcnt_value(&b->py->layout, refcnt), 0, CH_GEN_UNTRACKED, 0, &i, NULL)))
		return CH_NO_OBJECT;
	o->interp[i] = o->interp[source]; /* found first from there */
	return i;
}

static size_t key_slot(uint64_t addr)
{
	return (size_t)(addr >> 4 ^ addr >> 12) & (CH_KEY_CACHE - 1);
}

static void key_remember(struct build *b, uint64_t addr, uint32_t i)
{
	size_t slot = key_slot(addr);
	b->key_cache[slot].addr = addr;
	b->key_cache[slot].index1 = i + 1;
}

/* object_at for a key (see CH_KEY_CACHE). */
static uint32_t key_at(struct build *b, uint64_t addr, uint32_t source)
{
	size_t slot = key_slot(addr);
	if (b->key_cache[slot].index1 && b->key_cache[slot].addr == addr)
		return b->key_cache[slot].index1 - 1;
	uint32_t i = object_at(b, addr, source);
	if (!b->err && i != CH_NO_OBJECT)
		key_remember(b, addr, i);
	return i;
}

static int resolve_ref(struct build *b, const struct pending *r)
{
	uint32_t source = r->source;
	struct ch_edges *e = b->e;
	uint32_t t;
	if (r->kind == CH_REF_CONSERVATIVE) {
		/* Only words that point at an object found on a GC list count:
		 * anything else in an unknown body may be stale or not a pointer. */
		t = ch_objects_find(&b->heap->objects, r->target);
		if (t == CH_NO_OBJECT || b->heap->objects.gen[t] == CH_GEN_UNTRACKED)
			return 0;
	} else {
		t = object_at(b, r->target, source);
		if (b->err)
			return 1;
		if (t == CH_NO_OBJECT) {
			/* Memory the process had but the core does not hold (a
			 * segment dumped without bytes, or moved): whatever lived
			 * there is missing from the result, unlike a reference to
			 * readable bytes that are not an object (stale, garbage). */
			const struct ch_as_range *where = ch_as_find(&b->py->proc->as, r->target);
			if (where && !where->data && where->source == CH_AS_NONE)
				e->undumped++;
			else
				e->dangling++;
			return 0;
		}
	}
	uint32_t payload = 0;
	switch (r->kind) {
	case CH_REF_INDEX:
		if (r->flags & PENDING_ELEMENT) {
			payload = CH_LABEL_ELEMENT |
				  (r->aux.value >= CH_LABEL_ELEMENT ? CH_LABEL_ELEMENT - 1 : (uint32_t)r->aux.value);
			break;
		}
		/* fall through */
	case CH_REF_CONSERVATIVE:
		payload = r->aux.value > CH_LABEL_PAYLOAD_MAX ? CH_LABEL_PAYLOAD_MAX : (uint32_t)r->aux.value;
		break;
	case CH_REF_FIELD:
	case CH_REF_WEAK:
		payload = name_id_cached(b, r->aux.name);
		break;
	case CH_REF_DICT_KEY:
		payload = r->flags & PENDING_SHARED ? CH_LABEL_SHARED_KEY : 0;
		key_remember(b, r->target, t); /* its value's label comes next */
		break;
	case CH_REF_ATTR:
	case CH_REF_DICT_VALUE:
		if (r->flags & PENDING_NAMED) {
			payload = CH_LABEL_NAMED | name_id_cached(b, r->aux.name);
		} else {
			uint32_t k = key_at(b, r->aux.value, source);
			if (b->err)
				return 1;
			bool local = r->flags & PENDING_LOCAL;
			if (k == CH_NO_OBJECT || k >= CH_LABEL_LOCAL)
				payload = CH_LABEL_NAMED | name_id_cached(b, local ? "f_localsplus" : "?");
			else
				payload = local ? CH_LABEL_LOCAL | k : k;
		}
		break;
	default:
		break;
	}
	if ((b->err = push_edge(e, t, ch_label_make((enum ch_ref_kind)r->kind, r->flags & PENDING_TRAVERSED, payload))))
		return 1;
	return 0;
}

static struct ch_error *flush(struct build *b);

static int collect_ref(void *arg, const struct ch_ref *r)
{
	struct build *b = arg;
	/* A full batch (a big container) is resolved right here; that only
	 * appends to the object and edge tables, never touches the object
	 * being visited, and keeps its edges in order. */
	if (b->nbatch == CH_BATCH_REFS && (b->err = flush(b)))
		return 1;
	struct pending *p = &b->batch[b->nbatch++];
	p->target = r->target;
	p->source = b->current;
	p->kind = (uint8_t)r->kind;
	uint8_t flags = r->traversed ? PENDING_TRAVERSED : 0;
	p->aux.value = 0;
	switch (r->kind) {
	case CH_REF_INDEX:
		if (r->name == CH_REF_ARRAY_ELEMENT)
			flags |= PENDING_ELEMENT;
		/* fall through */
	case CH_REF_CONSERVATIVE:
		p->aux.value = r->index;
		break;
	case CH_REF_FIELD:
	case CH_REF_WEAK:
		p->aux.name = r->name ? r->name : "?";
		break;
	case CH_REF_DICT_KEY:
		if (r->shared)
			flags |= PENDING_SHARED;
		break;
	case CH_REF_ATTR:
	case CH_REF_DICT_VALUE:
		/* A frame's local with its name's key is labelled by the key. */
		if (r->name && !(r->name == CH_REF_LOCAL_NAME && r->key)) {
			flags |= PENDING_NAMED;
			p->aux.name = r->name;
		} else {
			if (r->name == CH_REF_LOCAL_NAME)
				flags |= PENDING_LOCAL;
			p->aux.value = r->key;
		}
		break;
	default:
		break;
	}
	p->flags = flags;
	return 0;
}

static struct ch_error *ensure_offsets(struct build *b, size_t n)
{
	if (n <= b->offsets_cap)
		return NULL;
	size_t ncap = b->offsets_cap ? b->offsets_cap * 2 : 4096;
	while (ncap < n)
		ncap *= 2;
	uint32_t *p = realloc(b->e->offsets, ncap * sizeof(*p));
	if (!p)
		return &ch_error_nomem;
	b->e->offsets = p;
	b->offsets_cap = ncap;
	return NULL;
}

/* Objects [next_offset, upto) have had all their edges pushed before the
 * current end, or are about to start at it: their offsets are the end. */
static struct ch_error *close_offsets(struct build *b, size_t upto)
{
	struct ch_error *err = ensure_offsets(b, upto + 1);
	if (err)
		return err;
	while (b->next_offset < upto)
		b->e->offsets[b->next_offset++] = (uint32_t)b->e->nedges;
	return NULL;
}

static struct ch_error *flush(struct build *b)
{
	const struct ch_object_table *o = &b->heap->objects;
	if (o->index.nslots) {
		for (size_t k = 0; k < b->nbatch; k++)
			ch_objects_prefetch_slot(o, b->batch[k].target);
		/* Then what the lookup will read next: the address of the entry
		 * whose tag matches, or, when the probe meets an empty slot first
		 * (an object not seen yet), the header its plausibility check
		 * reads from the core. */
		struct ch_address_space *as = &b->py->proc->as;
		for (size_t k = 0; k < b->nbatch; k++) {
			uint64_t target = b->batch[k].target;
			if (!ch_objects_prefetch_entry(o, target) && b->batch[k].kind != CH_REF_CONSERVATIVE) {
				const uint8_t *p = ch_as_peek(as, target, 16);
				if (p)
					__builtin_prefetch(p);
			}
		}
	}
	for (size_t k = 0; k < b->nbatch; k++) {
		/* offsets[source] is the edge count before its first edge. */
		struct ch_error *err = close_offsets(b, (size_t)b->batch[k].source + 1);
		if (err)
			return err;
		if (resolve_ref(b, &b->batch[k]))
			return b->err;
	}
	b->nbatch = 0;
	return NULL;
}

struct ch_error *ch_edges_build(struct ch_edges *e, struct ch_heap *heap, ch_progress_fn progress, void *arg)
{
	memset(e, 0, sizeof(*e));
	struct ch_python *py = heap->py;
	struct ch_object_table *o = &heap->objects;
	ch_objects_index_settle(o); /* every reference is looked up */
	struct build b = {e, heap, py, NULL, malloc(CH_BATCH_REFS * sizeof(struct pending)), 0, 0, 0, 0, "", {{0}}, {{0}}};
	struct ch_error *err = b.batch ? ensure_offsets(&b, o->n + 1) : &ch_error_nomem;
	size_t i = 0, prefetched = 0;
	/* Resolving may append untracked objects; the loop reaches them too. */
	while (!err) {
		while (i < o->n && b.nbatch < CH_BATCH_REFS / 2) {
			if (i >= prefetched) {
				size_t n = o->n - i < CH_PREFETCH_OBJECTS ? o->n - i : CH_PREFETCH_OBJECTS;
				ch_py_refs_prefetch(py, &o->addr[i], &o->type[i], n);
				prefetched = i + n;
			}
			if (i + CH_TOUCH_AHEAD < o->n)
				ch_py_refs_touch(py, o->addr[i + CH_TOUCH_AHEAD], o->type[i + CH_TOUCH_AHEAD], false);
			if (i + CH_TOUCH_AHEAD / 2 < o->n)
				ch_py_refs_touch(py, o->addr[i + CH_TOUCH_AHEAD / 2], o->type[i + CH_TOUCH_AHEAD / 2], true);
			b.current = (uint32_t)i;
			struct ch_refs_outcome outcome;
			struct ch_error *rerr = ch_py_refs_visit_ex(py, o->addr[i], o->type[i], collect_ref, &b, &outcome);
			if (b.err) {
				ch_error_free(rerr);
				break;
			}
			if (!outcome.exact && (b.err = ch_exactness_note(&e->exactness, (uint32_t)i, o->type[i], outcome.reason))) {
				ch_error_free(rerr);
				break;
			}
			if (rerr) {
				if (!e->unreadable++)
					snprintf(b.first_unreadable, sizeof(b.first_unreadable), "0x%" PRIx64 " (%s): %s",
						 o->addr[i], ch_py_type_name(&py->types, o->type[i]), rerr->message);
				ch_error_free(rerr);
			}
			if ((b.err = ch_objects_set_size(o, i, ch_py_object_full_size(py, o->addr[i], o->type[i]))))
				break;
			if (progress && (i & 0xFFFF) == 0)
				progress(arg, "following references", i);
			i++;
		}
		if (b.err) {
			err = b.err;
			break;
		}
		if (!b.nbatch && i >= o->n)
			break;
		err = flush(&b);
	}
	if (!err)
		err = close_offsets(&b, o->n);
	free(b.batch);
	if (err) {
		ch_edges_deinit(e);
		return err;
	}
	e->offsets[o->n] = (uint32_t)e->nedges;
	ch_exactness_finish(&e->exactness);
	/* The table is complete now: drop the doubling slack of both. */
	ch_objects_trim(o);
	if (e->nedges && e->nedges < e->cap) {
		uint32_t *t = realloc(e->targets, e->nedges * sizeof(*t));
		if (t)
			e->targets = t;
		uint32_t *l = realloc(e->labels, e->nedges * sizeof(*l));
		if (l)
			e->labels = l;
		if (t && l)
			e->cap = e->nedges;
	}
	if (e->dangling)
		ch_diag_warn(&py->diag, "%" PRIu64 " references point at addresses that are not readable objects (not followed)",
			     e->dangling);
	if (e->undumped)
		ch_diag_partial(&py->diag,
				"%" PRIu64 " references point into memory the process had but the core does not hold (not dumped): "
				"the objects there are missing from the result", e->undumped);
	if (e->unreadable)
		ch_diag_partial(&py->diag,
				"%" PRIu64 " objects could not be read completely; their references are cut short (first: %s)",
				e->unreadable, b.first_unreadable);
	return NULL;
}

void ch_edges_deinit(struct ch_edges *e)
{
	if (e->backing) {
		ch_shared_map_release(e->backing);
		e->exactness.objects = NULL;
	} else {
		free(e->offsets);
		free(e->targets);
		free(e->labels);
	}
	free(e->names);
	ch_exactness_deinit(&e->exactness);
	memset(e, 0, sizeof(*e));
}

/* Text of an attribute-name key object in a label (an identifier: never
 * redacted). */
static void name_text(const struct ch_heap *heap, uint32_t key, char *buf, size_t n)
{
	char s[48];
	bool trunc = false;
	struct ch_error *err = ch_py_str_read(heap->py, heap->objects.addr[key], s, sizeof(s), &trunc);
	if (err) {
		ch_error_free(err);
		snprintf(buf, n, "<%s>", ch_py_type_name(&heap->py->types, heap->objects.type[key]));
		return;
	}
	snprintf(buf, n, "%s%s", s, trunc ? "..." : "");
}

/* A dict key as Python spells it (readers/cpython/py_value.h), which
 * --redact withholds for str and bytes. */
static void dict_key_text(const struct ch_heap *heap, uint32_t key, char *buf, size_t n)
{
	const struct ch_py_builtins *b = ch_py_builtins_get(heap->py);
	if (b)
		ch_py_key_render(heap->py, b, heap->objects.addr[key], buf, n);
	else
		snprintf(buf, n, "<%s>", ch_py_type_name(&heap->py->types, heap->objects.type[key]));
}

size_t ch_edges_source(const struct ch_edges *e, size_t nobjects, size_t k)
{
	size_t lo = 0, hi = nobjects;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->offsets[mid] <= k)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void ch_edges_label_text(const struct ch_edges *e, const struct ch_heap *heap, size_t k, char *buf, size_t n)
{
	uint32_t l = e->labels[k], p = ch_label_payload(l);
	char key[CH_PY_VALUE_MAX];
	switch (ch_label_kind(l)) {
	case CH_REF_FIELD: {
		/* "+0x30" and "(tp_traverse)": emulated visits without a member name */
		const char *name = p < e->nnames ? e->names[p] : "?";
		snprintf(buf, n, "%s%s", name[0] == '+' || name[0] == '(' ? "" : ".", name);
		break;
	}
	case CH_REF_INDEX:
		if (p & CH_LABEL_ELEMENT)
			ch_py_ndarray_index_text(heap->py, heap->objects.addr[ch_edges_source(e, heap->objects.n, k)],
						 p & ~CH_LABEL_ELEMENT, buf, n);
		else
			snprintf(buf, n, "[%" PRIu32 "]", p);
		break;
	case CH_REF_DICT_KEY:
		snprintf(buf, n, "{key}");
		break;
	case CH_REF_SET_ITEM:
		snprintf(buf, n, "{item}");
		break;
	case CH_REF_CONSERVATIVE:
		snprintf(buf, n, "+0x%" PRIx32 " (conservative)", p);
		break;
	case CH_REF_WEAK:
		snprintf(buf, n, ".%s (weak)", p < e->nnames ? e->names[p] : "?");
		break;
	case CH_REF_ATTR:
	case CH_REF_DICT_VALUE: {
		bool attr = ch_label_kind(l) == CH_REF_ATTR;
		if (p & CH_LABEL_NAMED) {
			uint32_t id = p & ~CH_LABEL_NAMED;
			snprintf(buf, n, attr ? ".%s" : "['%s']", id < e->nnames ? e->names[id] : "?");
		} else if (attr && (p & CH_LABEL_LOCAL)) {
			name_text(heap, p & ~CH_LABEL_LOCAL, key, sizeof(key));
			snprintf(buf, n, ".f_locals['%s']", key);
		} else if (attr) {
			name_text(heap, p, key, sizeof(key));
			snprintf(buf, n, ".%s", key);
		} else {
			dict_key_text(heap, p, key, sizeof(key));
			snprintf(buf, n, "[%s]", key); /* ['x'], [17], [(1, 'a')], [None], [<str len 6>] */
		}
		break;
	}
	default:
		snprintf(buf, n, "?");
	}
}

uint64_t ch_edges_memory(const struct ch_edges *e, size_t nobjects)
{
	return (uint64_t)e->cap * (sizeof(*e->targets) + sizeof(*e->labels)) + (uint64_t)(nobjects + 1) * sizeof(*e->offsets);
}
