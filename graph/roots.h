/* The roots of the heap graph: the places outside the object graph that
 * keep objects alive, each labelled so a person can read it
 * ("sys.modules['app']", "thread 4242 frame 0 main() local 'x'").
 *
 * Roots are what `path` starts from, what the dominator tree hangs under
 * (one virtual super-root above them all), and what `anomalies` measures
 * reachability against. They come in a fixed priority order, highest
 * first, so a breadth-first search seeded in that order prefers the
 * explanation a Python programmer expects: a module global over a frame
 * local over a C static. One object may be the target of several roots.
 *
 * The "external" roots are different in kind: an object whose refcount is
 * larger than the references coreheap found to it (edges from other
 * objects, frame slots, thread states, C static data) is held by something
 * coreheap cannot see: C code, the C stack, an extension's malloc'd
 * struct, or a reference leak. They are found last, from the counts. */
#ifndef CH_ROOTS_H
#define CH_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/analysis.h"
#include "readers/cpython/py_frames.h"

enum ch_root_kind {
	CH_ROOT_MODULE,        /* sys.modules[name]: name = the key (str) */
	CH_ROOT_SYS,           /* the interpreter's sys.__dict__ (interp->sysdict) */
	CH_ROOT_BUILTINS,      /* the interpreter's builtins dict */
	CH_ROOT_FRAME_LOCAL,   /* a local, cell or free variable of a thread's frame: name = the variable name */
	CH_ROOT_FRAME_GLOBALS, /* the globals dict of a thread's frame */
	CH_ROOT_FRAME_OTHER,   /* the rest of a frame: code, function, value stack (stack slots scanned conservatively) */
	CH_ROOT_THREAD,        /* a thread state's own references (dict, exception, context, ...), scanned conservatively */
	CH_ROOT_STATIC,        /* an object that is itself static data of a mapped ELF file (static types, None, small ints) */
	CH_ROOT_C_GLOBAL,      /* a pointer in C data outside the heap: a mapped ELF's writable data, the runtime or interpreter state */
	CH_ROOT_EXTERNAL,      /* refcount larger than the references found: held by C code, the C stack, or leaked */
	CH_ROOT_NKINDS
};

/* One root. Which fields mean something depends on the kind; the rest are
 * CH_NO_OBJECT / 0. */
struct ch_root {
	uint32_t object;   /* index in the object table */
	uint8_t kind;      /* enum ch_root_kind */
	uint32_t name;     /* MODULE, FRAME_LOCAL: object index of the name (a str), or CH_NO_OBJECT */
	uint32_t frame;    /* FRAME_*: index into stacks.frames; THREAD: index into stacks.threads */
	uint64_t where;    /* C_GLOBAL, FRAME_OTHER, THREAD: address of the pointer; EXTERNAL: refcount - references found */
};

struct ch_roots {
	struct ch_root *items;   /* priority order: the kinds in enum order; frames thread by thread, innermost first */
	size_t n, cap;
	size_t count[CH_ROOT_NKINDS];
	/* refs[i]: references to object i found anywhere (in-edges that own a
	 * reference, frame slots, thread states, C data); used for the external
	 * roots and by `anomalies`. */
	uint32_t *refs;
	uint32_t *maybe;  /* words that may be live pointers to object i (roots.c explains both counts) */
	struct ch_py_stacks stacks; /* the frames the FRAME_* roots point into */
	/* Set by ch_roots_find: nothing was said (warned, marked partial, read
	 * past a truncated core's cut) after the frames were read, so the
	 * roots may be kept in the heap index and taken from it later. */
	bool quiet;
	/* Set by ch_roots_get when the roots came from the heap index: the
	 * root set's object of each root (graph/root_set.h), pointing into the
	 * index (held by the analysis' index tie); refs and maybe are then
	 * NULL. NULL: the roots were found here. */
	const uint32_t *set;
};

/* Finds every root of a's heap graph, external roots included. Damage
 * (an unreadable frame chain, interpreter state) is a warning in
 * py->diag and leaves out what could not be read. */
struct ch_error *ch_roots_find(struct ch_roots *r, struct ch_analysis *a);
void ch_roots_deinit(struct ch_roots *r);

/* The roots without the reference counts (refs and maybe NULL) when the
 * heap index of a holds them (graph/heap_index.h): the frames are read
 * again (warning as ch_roots_find does) and the stored roots taken, a
 * root naming a frame or thread that was not read making them damaged
 * (said, and found again); else ch_roots_find. What path, top, suspects
 * and the others that never read the counts start from. */
struct ch_error *ch_roots_get(struct ch_roots *r, struct ch_analysis *a);

/* The frames the roots point into (r->stacks), as ch_roots_find reads
 * them: a core whose frames cannot be read at all is said and left with none. */
struct ch_error *ch_roots_read_stacks(struct ch_roots *r, struct ch_python *py);

/* Every other dumped writable word of the process (malloc'd C structs,
 * the live part of each thread's C stack, free memory) that holds the
 * address of an object raises that object's `maybe` count; no root items
 * are added. This is what a conservative collector would see: a count
 * held by any C structure explains itself, and what remains unexplained
 * is held by nothing in the process. Stale words (freed memory) can hide a
 * leak but never invent one. Costs one pass over the core's writable
 * bytes, so only `anomalies` asks for it. */
void ch_roots_scan_memory(struct ch_roots *r, const struct ch_analysis *a);

/* ch_roots_scan_memory, or its counts taken from the heap index of a when
 * it holds them for the same inputs (ch_roots_scan_inputs); else scanned
 * and added to that index for the next run (a failure to add them is a
 * warning). r as ch_roots_find left it. */
void ch_roots_scan_memory_kept(struct ch_roots *r, struct ch_analysis *a);

/* The hash of what the scan adds to: the counts before it (n objects) and
 * the threads whose stacks it skips in part. */
uint64_t ch_roots_scan_inputs(const struct ch_roots *r, size_t n);

/* True when the edge keeps its target alive (all kinds but CH_REF_WEAK):
 * what paths, dominators and reachability follow. Inline: the dominator
 * tree and the path search ask it of every edge. */
static inline bool ch_label_owns(uint32_t label)
{
	return ch_label_kind(label) != CH_REF_WEAK;
}

/* True when the edge certainly accounts for one count of the target's
 * refcount: not weak, not conservative, not a split table's shared key,
 * not a dict's view of an instance's inline value. */
static inline bool ch_label_counts(uint32_t label)
{
	enum ch_ref_kind k = ch_label_kind(label);
	/* A dict value is shared (an instance's inline value, counted by the
	 * instance) exactly when the dict's traverse skips it: struct ch_ref. */
	return k != CH_REF_WEAK && k != CH_REF_CONSERVATIVE &&
	       !(k == CH_REF_DICT_KEY && (ch_label_payload(label) & CH_LABEL_SHARED_KEY)) &&
	       !(k == CH_REF_DICT_VALUE && !ch_label_traversed(label));
}

/* "sys.modules['app']", "thread 4242 'MainThread' frame 0 main (app.py:12) local 'x'",
 * "C global libpython3.12.so.1.0+0x5a1230", "external (refcount 3, 1 reference found)". */
void ch_root_label_text(const struct ch_roots *r, const struct ch_analysis *a, size_t i, char *buf, size_t n);

/* Stable names for JSON: "module", "sys", "builtins", "frame_local", ... */
const char *ch_root_kind_name(enum ch_root_kind kind);

#endif
