/* Leak suspects: the few things in a heap most likely wrong, each with
 * the numbers that make it a suspect and the path that keeps it alive
 * (`coreheap suspects`, the head of `summary`, the HTML report).
 *
 *   accumulation  a container (dict, list, set, deque, any object with
 *                 many direct references) that alone keeps many objects
 *                 of one type alive: at least CH_SUSPECT_ACCUM_MIN_COUNT
 *                 of them, which it dominates directly, together at least
 *                 CH_SUSPECT_ACCUM_SHARE of the heap. Module and class
 *                 namespaces (a module's or a type's __dict__) and
 *                 sys.modules are left out: holding many functions is
 *                 their job. The elements' own plumbing (function ->
 *                 __closure__ -> cell) is followed down to the object it
 *                 keeps, and merged over the elements when they agree:
 *                 `[*].__closure__[0].cell_contents -> 3,000 x Request`.
 *   retainer      Eclipse MAT's rule: an object retaining at least
 *                 CH_SUSPECT_RETAINER_SHARE of the heap, taken at the
 *                 deepest point of the dominator tree where that holds
 *                 (its parent retains more only because of it); modules,
 *                 namespaces, types and what an accumulation already
 *                 names are left out.
 *   cycle         a shape of garbage cycles (graph/cycles.h) whose
 *                 members plus the garbage they keep alive reach
 *                 CH_SUSPECT_CYCLE_SHARE of the heap.
 *   traceback     exceptions kept alive (stored in a list, an attribute)
 *                 with a traceback, grouped by their holder and type,
 *                 together retaining CH_SUSPECT_TRACEBACK_SHARE; the
 *                 biggest local a kept frame names is given.
 *   gc            the collector findings of graph/findings.h.
 *   tasks         asyncio task leaks (graph/tasks.h findings): done tasks
 *                 still referenced (those whose exception nobody retrieved
 *                 counted), pending tasks that can never complete, tasks
 *                 awaiting each other in a ring. Every such finding is a
 *                 suspect: each is a bug in the program, whatever its size.
 *   memory        memory Python objects do not explain (graph/memory.h):
 *                 in-use malloc chunks nothing points at (native leaks), at
 *                 least CH_SUSPECT_NATIVE_MIN bytes and
 *                 CH_SUSPECT_NATIVE_SHARE of glibc's in-use memory; free
 *                 memory between live chunks of glibc's arenas
 *                 (fragmentation, the top chunk left out), at least
 *                 CH_SUSPECT_FRAG_MIN bytes and CH_SUSPECT_FRAG_SHARE of the
 *                 arenas. Their share is of the allocator's memory (arenas
 *                 plus mmapped chunks), not of the heap.
 *
 * Shares are of the whole heap (reachable and unreachable bytes). The
 * list is ordered by bytes, descending, then by kind; the memory suspects
 * come after every suspect with a place in the heap (their bytes are the
 * allocator's, not retained objects'), and the gc findings last (they
 * describe the collector, which the cycle suspects already locate). */
#ifndef CH_SUSPECTS_H
#define CH_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/findings.h"
#include "graph/paths.h"

#define CH_SUSPECT_ACCUM_MIN_COUNT 100
#define CH_SUSPECT_ACCUM_SHARE 0.02
#define CH_SUSPECT_RETAINER_SHARE 0.10
#define CH_SUSPECT_CYCLE_SHARE 0.01
#define CH_SUSPECT_TRACEBACK_SHARE 0.01
#define CH_SUSPECT_NATIVE_MIN (32 * 1024)
#define CH_SUSPECT_NATIVE_SHARE 0.002
#define CH_SUSPECT_FRAG_MIN (1024 * 1024)
#define CH_SUSPECT_FRAG_SHARE 0.25
#define CH_SUSPECT_TEXT_MAX 384
#define CH_SUSPECT_MAX 32
#define CH_SUSPECT_VIA_MAX 128
#define CH_SUSPECT_NAME_MAX 64

enum ch_suspect_kind {
	CH_SUSPECT_ACCUMULATION,
	CH_SUSPECT_RETAINER,
	CH_SUSPECT_CYCLE,
	CH_SUSPECT_TRACEBACK,
	CH_SUSPECT_GC,
	CH_SUSPECT_TASKS,
	CH_SUSPECT_MEMORY,
};

struct ch_suspect {
	enum ch_suspect_kind kind;
	uint64_t bytes;          /* retained bytes; CYCLE: members + the garbage they keep alive; GC: 0 or the garbage */
	uint64_t count;          /* elements, exceptions, cycles; 1 for a retainer */
	uint32_t object;         /* container, retainer, the exceptions' holder (or the one exception); CH_NO_OBJECT */
	uint32_t sample;         /* one element, the biggest exception, a cycle member; CH_NO_OBJECT */
	uint32_t type;           /* ch_py_types index: the elements' (after `via`), the retainer's, the exceptions'; UINT32_MAX */
	uint32_t index;          /* CYCLE: index into a->cycles.groups; GC: into the findings */
	char via[CH_SUSPECT_VIA_MAX];    /* ACCUMULATION: container -> element -> kept object, "[*]" when merged */
	char local[CH_SUSPECT_NAME_MAX]; /* TRACEBACK, RETAINER: the name of the biggest local a kept frame holds, or "" */
	uint32_t local_object;   /* that local's object, CH_NO_OBJECT */
	struct ch_path path;     /* shortest path from a root to object (nhops 0: none) */
	/* TASKS, MEMORY: the title and evidence, written when found (their
	 * facts live in analyses the report does not keep); share_of is the
	 * share's denominator (0: the heap). */
	char title[CH_SUSPECT_TEXT_MAX], evidence[CH_SUSPECT_TEXT_MAX];
	uint64_t share_of;
};

struct ch_suspects {
	struct ch_suspect *v;
	size_t n, cap;
	uint64_t heap_bytes;     /* the denominator of every share */
};

/* A new suspect of kind at the end of s (zeroed, no object or type yet),
 * or NULL when out of memory. */
struct ch_suspect *ch_suspects_append(struct ch_suspects *s, enum ch_suspect_kind kind, uint64_t bytes,
				      uint64_t count);

struct ch_roots;
/* Finds the suspects of a's heap; d and p are the dominator tree and the
 * path search over the root set of roots (graph/root_set.h), f the
 * collector findings. */
struct ch_error *ch_suspects_find(struct ch_suspects *s, struct ch_analysis *a, const struct ch_dominators *d,
				  const struct ch_paths *p, const struct ch_findings *f);
void ch_suspects_deinit(struct ch_suspects *s);

/* Everything the suspects are computed from, over the root set of roots
 * (graph/root_set.h): what `suspects`, `summary` and `report` share. */
struct ch_suspects_run {
	struct ch_dominators d;
	struct ch_paths p;
	struct ch_findings f;
	struct ch_suspects s;
};
/* mem: the memory figures of the heap's process when the caller has them;
 * NULL: taken here from the index or built (a failure only leaves the
 * memory suspects out). */
struct ch_memory_brief;
struct ch_error *ch_suspects_run(struct ch_suspects_run *r, struct ch_analysis *a, const struct ch_roots *roots,
				 const struct ch_memory_brief *mem);

/* ch_suspects_run for a caller that uses the search only along the
 * suspects' and tasks' chains (not r->p's whole tree) and does not walk
 * r->d (its preorder or idom chains): a stored search is checked along
 * those chains only, as `path` does; one found damaged there makes it run
 * again with the search checked whole; a stored dominator tree is taken
 * with its retained sizes, its shape not checked. */
struct ch_error *ch_suspects_run_chains(struct ch_suspects_run *r, struct ch_analysis *a, const struct ch_roots *roots,
					const struct ch_memory_brief *mem);

/* graph/suspects_more.c, part of ch_suspects_run: the tasks and memory
 * suspects appended to s (then sorted again). */
struct ch_tasks;
struct ch_error *ch_suspects_add_tasks(struct ch_suspects *s, const struct ch_analysis *a, const struct ch_tasks *t);
struct ch_error *ch_suspects_add_memory(struct ch_suspects *s, const struct ch_memory_brief *m);
void ch_suspects_sort(struct ch_suspects *s);
void ch_suspects_run_deinit(struct ch_suspects_run *r);

/* The path to a suspect in Python terms on one line: the root's label,
 * then each hop's, with `.__dict__['NAME']` read as `.NAME`:
 * sys.modules['app'].CACHE[17].session. "" when the path is empty. */
struct ch_roots;
void ch_suspect_path_text(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_path *path,
			  char *buf, size_t n);
/* The same for object o along the search's parent chain (its shortest
 * path, at most CH_PATH_TEXT_HOPS hops; "" when no root reaches it). */
#define CH_PATH_TEXT_HOPS 64
void ch_object_path_text(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_paths *p,
			 uint32_t o, char *buf, size_t n);

/* Containers for `diff`'s growth suspects: every reachable object that
 * directly dominates at least CH_CONTAINER_MIN_ELEMENTS elements (list
 * items, dict values, set items, attributes), namespaces, modules and
 * types left out as for accumulations; the CH_CONTAINERS_MAX retaining
 * the most, by retained bytes descending. */
#define CH_CONTAINER_MIN_ELEMENTS 16
#define CH_CONTAINERS_MAX 200
struct ch_container {
	uint32_t object;
	uint64_t elements, retained;
};
struct ch_error *ch_containers_find(struct ch_container **out, size_t *n, const struct ch_analysis *a,
				    const struct ch_dominators *d);

/* "accumulation", "retainer", "cycle", "traceback", "gc", "tasks", "memory": the JSON kind. */
const char *ch_suspect_kind_name(enum ch_suspect_kind k);

#endif
