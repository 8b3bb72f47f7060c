#include "flame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/roots.h"
#include "readers/cpython/python.h"

#define NO_EDGE UINT32_MAX
#define KEY_ROOT (1ULL << 63)
/* A dict with more entries than this is data, not a namespace: its keys
 * are read as [*] so its entries merge into one frame. */
#define NAMED_KEYS_MAX 256

/* splitmix64's finalizer: a bijection, so distinct keys stay distinct,
 * and well mixed for ch_index_hash's slot function. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 1024;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*v, ncap * elem);
	if (!p)
		return false;
	*v = p;
	*cap = ncap;
	return true;
}

/* The label with what varies per element (an index, a big dict's key)
 * dropped; *star says so. */
static uint32_t normalize(const struct ch_edges *e, uint32_t src, uint32_t k, uint8_t *star)
{
	uint32_t l = e->labels[k];
	enum ch_ref_kind kind = ch_label_kind(l);
	*star = 0;
	bool drop = kind == CH_REF_INDEX || kind == CH_REF_SET_ITEM || kind == CH_REF_CONSERVATIVE ||
		    kind == CH_REF_DICT_KEY ||
		    (kind == CH_REF_DICT_VALUE && !(ch_label_payload(l) & CH_LABEL_NAMED) &&
		     e->offsets[src + 1] - e->offsets[src] > NAMED_KEYS_MAX);
	if (drop) {
		*star = 1;
		return ch_label_make(kind, false, 0);
	}
	return ch_label_make(kind, false, ch_label_payload(l));
}

static struct ch_error *name_of(struct ch_flame *f, uint64_t raw, uint32_t edge, uint32_t root, uint32_t type,
				uint8_t star, uint32_t *out)
{
	uint64_t key = mix(raw);
	if (!grow((void **)&f->names, &f->names_cap, f->nnames + 1, sizeof(*f->names)))
		return &ch_error_nomem;
	struct ch_error *err = ch_index_hash_reserve(&f->name_index, f->names, sizeof(*f->names), f->nnames + 1);
	if (err)
		return err;
	uint32_t i = ch_index_hash_find_or_insert(&f->name_index, f->names, sizeof(*f->names), key, (uint32_t)f->nnames);
	if (i != CH_INDEX_NONE) {
		*out = i;
		return NULL;
	}
	f->names[f->nnames] = (struct ch_flame_name){key, edge, root, type, star};
	*out = (uint32_t)f->nnames++;
	return NULL;
}

static struct ch_error *frame_of(struct ch_flame *f, uint32_t parent, uint32_t name, uint32_t *out)
{
	uint64_t key = mix(((uint64_t)(parent == CH_FLAME_TOP ? 0 : parent + 1) << 32) | name);
	if (!grow((void **)&f->frames, &f->frames_cap, f->nframes + 1, sizeof(*f->frames)))
		return &ch_error_nomem;
	struct ch_error *err = ch_index_hash_reserve(&f->frame_index, f->frames, sizeof(*f->frames), f->nframes + 1);
	if (err)
		return err;
	uint32_t i = ch_index_hash_find_or_insert(&f->frame_index, f->frames, sizeof(*f->frames), key, (uint32_t)f->nframes);
	if (i != CH_INDEX_NONE) {
		*out = i;
		return NULL;
	}
	uint32_t depth = parent == CH_FLAME_TOP ? 1 : f->frames[parent].depth + 1;
	f->frames[f->nframes] = (struct ch_flame_frame){.key = key, .parent = parent, .name = name, .depth = depth};
	*out = (uint32_t)f->nframes++;
	return NULL;
}

struct ch_error *ch_flame_build(struct ch_flame *f, const struct ch_analysis *a, const struct ch_dominators *d,
				const struct ch_paths *p)
{
	memset(f, 0, sizeof(*f));
	const struct ch_edges *e = &a->edges;
	size_t n = d->nobjects;
	/* dom_edge[o]: one edge from o's immediate dominator to o, if any. */
	uint32_t *dom_edge = malloc((n ? n : 1) * sizeof(uint32_t)), *frame = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!dom_edge || !frame) {
		free(dom_edge);
		free(frame);
		return &ch_error_nomem;
	}
	memset(dom_edge, 0xFF, (n ? n : 1) * sizeof(uint32_t));
	for (size_t u = 0; u < n; u++)
		for (uint32_t k = e->offsets[u]; k < e->offsets[u + 1]; k++) {
			uint32_t t = e->targets[k];
			if (d->idom[t] == u && dom_edge[t] == NO_EDGE && ch_label_owns(e->labels[k]))
				dom_edge[t] = k;
		}
	struct ch_error *err = NULL;
	for (size_t i = 0; i < d->nreachable && !err; i++) {
		uint32_t o = d->order[i], up = d->idom[o], type = a->heap.objects.type[o], name;
		uint32_t parent = up == CH_DOM_ROOT ? CH_FLAME_TOP : frame[up];
		if (parent != CH_FLAME_TOP && f->frames[parent].depth >= CH_FLAME_MAX_DEPTH) {
			frame[o] = parent; /* too deep: weighed in the frame at the cap */
		} else {
			if (up == CH_DOM_ROOT && p->parent[o] == CH_PATH_ROOT) {
				uint32_t root = p->via[o];
				err = name_of(f, KEY_ROOT | ((uint64_t)type << 32) | root, NO_EDGE, root, type, 0, &name);
			} else if (dom_edge[o] != NO_EDGE) {
				uint8_t star;
				uint32_t l = normalize(e, up, dom_edge[o], &star);
				err = name_of(f, ((uint64_t)type << 32) | l, dom_edge[o], UINT32_MAX, type, star, &name);
			} else {
				err = name_of(f, ((uint64_t)type << 32) | NO_EDGE, NO_EDGE, UINT32_MAX, type, 0, &name);
			}
			if (!err)
				err = frame_of(f, parent, name, &frame[o]);
		}
		if (!err) {
			f->frames[frame[o]].self += ch_objects_size(&a->heap.objects, o);
			f->frames[frame[o]].objects++;
			f->total += ch_objects_size(&a->heap.objects, o);
		}
	}
	/* Totals bottom-up: children come after their parent. */
	for (size_t k = f->nframes; k-- > 0 && !err;) {
		f->frames[k].total += f->frames[k].self;
		if (f->frames[k].parent != CH_FLAME_TOP)
			f->frames[f->frames[k].parent].total += f->frames[k].total;
	}
	free(dom_edge);
	free(frame);
	if (err)
		ch_flame_deinit(f);
	return err;
}

void ch_flame_deinit(struct ch_flame *f)
{
	free(f->names);
	free(f->frames);
	ch_index_hash_deinit(&f->name_index);
	ch_index_hash_deinit(&f->frame_index);
	memset(f, 0, sizeof(*f));
}

void ch_flame_name_text(const struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *roots,
			uint32_t name, char *buf, size_t n)
{
	const struct ch_flame_name *x = &f->names[name];
	char label[200];
	const char *tn = ch_py_type_name(&a->heap.py->types, x->type);
	if (x->root != UINT32_MAX) {
		ch_root_label_text(roots, a, x->root, label, sizeof(label));
	} else if (x->edge == NO_EDGE) {
		snprintf(label, sizeof(label), "(shared)");
	} else if (x->star) {
		enum ch_ref_kind kind = ch_label_kind(a->edges.labels[x->edge]);
		snprintf(label, sizeof(label), "%s",
			 kind == CH_REF_SET_ITEM ? "{*}" : kind == CH_REF_DICT_KEY ? "{key}" :
			 kind == CH_REF_CONSERVATIVE ? "+? (conservative)" : "[*]");
	} else {
		ch_edges_label_text(&a->edges, &a->heap, x->edge, label, sizeof(label));
	}
	snprintf(buf, n, "%s (%s)", label, tn);
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == '\n' || *c == '\r')
			*c = ':';
}
