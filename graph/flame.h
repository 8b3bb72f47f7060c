/* The dominator tree (graph/dominators.h) merged into a flame graph: a
 * tree of frames, each frame being how an object is held by its immediate
 * dominator (the edge's label, with list indexes, set items and the keys
 * of big dicts read as [*]) plus the object's type, so 5,000 cache entries
 * become one frame "[*] (app.Request)" weighing all of them. A frame's
 * self weight is the full shallow size of the objects mapped to it, its
 * total the self weights below it: the frames under the (virtual) top add
 * up to the reachable bytes, which is what `top --format folded` prints
 * and the HTML report's icicle draws.
 *
 * Built in one pass over the dominator tree's preorder (an object's
 * dominator is framed before it), with two hash tables keyed exactly
 * (normalized label, type) -> name and (parent frame, name) -> frame: no
 * recursion, no per-object allocation. Tree depth is capped at
 * CH_FLAME_MAX_DEPTH: objects deeper down are weighed in the frame at
 * the cap (a million-node linked list is one deep frame, not a million). */
#ifndef CH_FLAME_H
#define CH_FLAME_H

#include <stddef.h>
#include <stdint.h>

#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/paths.h"
#include "readers/base/index_hash.h"

#define CH_FLAME_MAX_DEPTH 64
#define CH_FLAME_TOP UINT32_MAX /* parent of a frame under the virtual top */

/* How an object is held, as a name: the key packs the normalized label
 * (or a root's index) and the type; edge is one edge that has it, so the
 * label renders with ch_edges_label_text. */
struct ch_flame_name {
	uint64_t key;
	uint32_t edge;  /* an edge with this label, or UINT32_MAX for a root / no direct edge */
	uint32_t root;  /* the root's index (graph/roots.h) for a root object, else UINT32_MAX */
	uint32_t type;
	uint8_t star;   /* the label was normalized: print "[*]" ("{*}" for set items) */
};

struct ch_flame_frame {
	uint64_t key;    /* mixed (parent, name): the hash key */
	uint32_t parent; /* frame index, or CH_FLAME_TOP */
	uint32_t name;
	uint32_t depth;  /* 1 under the top */
	uint64_t self, total;
	uint64_t objects; /* objects weighed in self */
};

struct ch_flame {
	struct ch_flame_name *names;
	size_t nnames, names_cap;
	struct ch_flame_frame *frames; /* parents before children */
	size_t nframes, frames_cap;
	struct ch_index_hash name_index, frame_index;
	uint64_t total;  /* sum of all self weights: the reachable bytes */
};

/* p gives each root object's root (its via when parent is CH_PATH_ROOT). */
struct ch_error *ch_flame_build(struct ch_flame *f, const struct ch_analysis *a, const struct ch_dominators *d,
				const struct ch_paths *p);
void ch_flame_deinit(struct ch_flame *f);

struct ch_roots;
/* "sys.modules['app'] (module)", "['CACHE'] (dict)", "[*] (app.Request)";
 * never contains ';' (the folded format's separator) nor a newline. */
void ch_flame_name_text(const struct ch_flame *f, const struct ch_analysis *a, const struct ch_roots *roots,
			uint32_t name, char *buf, size_t n);

#endif
