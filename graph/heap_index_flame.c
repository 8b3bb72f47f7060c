/* The range checks of the flame graph a heap index keeps beside its
 * dominator tree (format 15; graph/heap_index_format.h,
 * ch_heap_index_flame_check): a load makes them before anything renders a
 * stored frame. */
#include "graph/heap_index_format.h"

#include <stdlib.h>

#include "graph/flame.h"

#define NONE UINT32_MAX

/* Each name's fields in range: what ch_flame_name_text reads through it
 * (an edge's label, a root's label, a type's name) is there. */
static const char *names_check(const uint64_t *w, const struct ch_heap_index_flame_name *names, uint64_t nn)
{
	for (uint64_t i = 0; i < nn; i++) {
		const struct ch_heap_index_flame_name *x = &names[i];
		bool edge = x->edge != NONE, root = x->root != NONE;
		if (x->type >= w[H_TYPES] || (edge && x->edge >= w[H_EDGES]) || x->star > 1 || (x->star && !edge) ||
		    (root && (x->root >= w[H_FLAME_NROOTS] || edge)) || x->pad[0] || x->pad[1] || x->pad[2])
			return "a flame graph's name is out of range";
	}
	return NULL;
}

const char *ch_heap_index_flame_check(const uint64_t *w, const struct ch_heap_index_flame_name *names,
				      const struct ch_heap_index_flame_frame *frames)
{
	uint64_t nn = w[H_FLAME_NAMES], nf = w[H_FLAME_FRAMES], reach = w[H_DOM_REACH], bytes = w[H_DOM_BYTES];
	/* Every name is some frame's. (No more frames than the tree's
	 * objects follows from each frame's one object at least, below.) */
	if (nn > nf)
		return "the flame graph has more names than frames";
	const char *bad = names_check(w, names, nn);
	if (bad)
		return bad;
	/* Parents before children, so the depths below are the parents'
	 * checked ones and a chain up ends at the top within the depth cap;
	 * the objects and self bytes summed without overflow (each at most
	 * what is left of the tree's), so the totals below cannot overflow
	 * either (each is a sum of some frames' self bytes). */
	uint64_t objects = 0, self = 0;
	for (uint64_t k = 0; k < nf; k++) {
		const struct ch_heap_index_flame_frame *f = &frames[k];
		bool top = f->parent == CH_FLAME_TOP;
		if ((!top && f->parent >= k) || f->name >= nn || f->pad)
			return "a flame graph's frame's parent or name is out of range or order";
		uint64_t depth = top ? 1 : (uint64_t)frames[f->parent].depth + 1;
		if (f->depth != depth || depth > CH_FLAME_MAX_DEPTH)
			return "a flame graph's frame's depth is not its parent's plus one, or past the cap";
		if (f->objects == 0 || f->objects > reach - objects || f->self > bytes - self)
			return "a flame graph's frame's objects or bytes are out of range";
		objects += f->objects;
		self += f->self;
	}
	if (objects != reach)
		return "the flame graph's objects do not add up to the dominator tree's";
	/* Each total its self bytes and its children's totals, bottom-up
	 * (children after their parent), and the top frames' the tree's. */
	uint64_t *below = calloc(nf ? nf : 1, sizeof(*below)), under_top = 0;
	if (!below)
		return "no memory to check the flame graph";
	bad = NULL;
	for (uint64_t k = nf; k-- > 0 && !bad;) {
		const struct ch_heap_index_flame_frame *f = &frames[k];
		uint64_t total = below[k] + f->self;
		if (total != f->total)
			bad = "a flame graph's frame's total is not its bytes and its children's";
		else if (f->parent == CH_FLAME_TOP)
			under_top += total;
		else
			below[f->parent] += total;
	}
	free(below);
	if (!bad && under_top != bytes)
		bad = "the flame graph's top frames do not add up to the dominator tree's bytes";
	return bad;
}
