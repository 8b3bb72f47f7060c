/* The references between objects, in compressed sparse row form: the edges
 * of object i are targets[offsets[i] .. offsets[i+1]). 8 bytes per edge
 * (target index + packed label) and 4 per object.
 *
 * Building the edges also discovers objects the collector does not track
 * (str, int, untracked tuples and dicts, ...): a non-conservative reference
 * to an address that is not yet in the table, and that reads as an object
 * whose type is a type, adds it (generation CH_GEN_UNTRACKED) to the end
 * of the table, where the same pass reaches it later. So the pass is a
 * worklist in index order: no recursion, each object visited once. */
#ifndef CH_EDGES_H
#define CH_EDGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/exactness.h"
#include "graph/heap.h"
#include "readers/base/shared_map.h"
#include "readers/cpython/py_refs.h"

/* Label = kind (3 bits) | traversed (1 bit) | payload (28 bits). The
 * payload is an index (CH_REF_INDEX, CH_REF_CONSERVATIVE), a name id
 * (CH_REF_FIELD, CH_REF_ATTR with a static name; see ch_edges.names), or
 * the object index of the key (CH_REF_DICT_VALUE, CH_REF_ATTR by key). */
#define CH_LABEL_PAYLOAD_MAX ((1u << 28) - 1)
#define CH_LABEL_NAMED (1u << 27) /* CH_REF_ATTR payload is a name id, not a key index */
/* CH_REF_ATTR payload: a frame's local, the rest the index of its name
 * (CH_REF_LOCAL_NAME); key indexes at or above this bit (67M objects) are
 * labelled by name id "?" / "f_localsplus" instead. */
#define CH_LABEL_LOCAL (1u << 26)
/* CH_REF_INDEX payload: an element of a numpy array of other than one
 * dimension (CH_REF_ARRAY_ELEMENT), the rest its flat index in C order,
 * printed against the array's shape ("[1, 2]"). */
#define CH_LABEL_ELEMENT (1u << 27)
#define CH_LABEL_SHARED_KEY 1u    /* CH_REF_DICT_KEY payload: the key of a split table (see ch_ref.shared) */

static inline uint32_t ch_label_make(enum ch_ref_kind kind, bool traversed, uint32_t payload)
{
	return ((uint32_t)kind << 29) | ((uint32_t)traversed << 28) | (payload & CH_LABEL_PAYLOAD_MAX);
}
static inline enum ch_ref_kind ch_label_kind(uint32_t l) { return (enum ch_ref_kind)(l >> 29); }
static inline bool ch_label_traversed(uint32_t l) { return (l >> 28) & 1; }
static inline uint32_t ch_label_payload(uint32_t l) { return l & CH_LABEL_PAYLOAD_MAX; }

struct ch_edges {
	uint32_t *offsets;      /* objects.n + 1 entries */
	uint32_t *targets;
	uint32_t *labels;
	size_t nedges, cap;
	const char **names;     /* static field names by id */
	size_t nnames;
	/* Set when offsets, targets, labels, exactness.objects and the names'
	 * and reasons' text point into a loaded heap index (heap_index.h):
	 * released with it, never freed or grown. */
	struct ch_shared_map *backing;
	uint64_t dangling;      /* references to readable addresses that are not objects */
	uint64_t undumped;      /* references into CH_AS_NONE memory: the process had it, the core does not (partial) */
	uint64_t unreadable;    /* objects whose body could not be read completely */
	struct ch_exactness exactness; /* which objects' references are conservative, and why */
};

struct ch_error *ch_edges_build(struct ch_edges *e, struct ch_heap *heap, ch_progress_fn progress, void *arg);
void ch_edges_deinit(struct ch_edges *e);

/* Bytes the edge arrays hold (targets and labels at capacity, offsets). */
uint64_t ch_edges_memory(const struct ch_edges *e, size_t nobjects);

/* Human-readable label of edge k of a source object, e.g. ".session",
 * "['key']", "[3]", "{item}", "+0x18 (conservative)". */
void ch_edges_label_text(const struct ch_edges *e, const struct ch_heap *heap, size_t k, char *buf, size_t n);
/* The object (of nobjects) whose edges include edge k: the last one
 * whose edges start at or before k (a binary search of the offsets). */
size_t ch_edges_source(const struct ch_edges *e, size_t nobjects, size_t k);

#endif
