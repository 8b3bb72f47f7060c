/* Rendering of analysis results as text tables and as JSON (jansson).
 * Nothing here computes: every number comes from readers/ or graph/. The
 * JSON shapes are the contract documented in docs/json.md; extend, never break. */
#ifndef CH_REPORT_H
#define CH_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "graph/native_stacks.h"
#include "graph/type_histogram.h"
#include "readers/cpython/py_frames.h"
#include "readers/cpython/python.h"

/* A JSON string of s that is never NULL for a string that is not UTF-8
 * (escaped as \xHH instead; report_text.c); NULL s gives JSON null. Use it
 * for every string, so no key is silently dropped. */
json_t *ch_json_text(const char *s);
/* json_object_set_new with a key made valid UTF-8 the same way. */
int ch_json_set_text_key(json_t *obj, const char *key, json_t *value);
/* s, or when it is not UTF-8 (a path recorded in the core, say) its
 * escaped copy in buf (max bytes), for text output. */
const char *ch_text_safe(const char *s, char *buf, size_t max);

/* {"name":"cpython","version":..., ...}: shared by every command. */
json_t *ch_report_runtime_json(const struct ch_python *py);

json_t *ch_report_info_json(const struct ch_python *py);
void ch_report_info_text(FILE *out, const struct ch_python *py);
/* `info` when the runtime could not be read (report_process.c): the same
 * document with "runtime", "layout", "gc" and "python_threads" null. */
json_t *ch_report_info_process_json(const struct ch_process *proc);
void ch_report_info_process_text(FILE *out, const struct ch_process *proc);
/* Pieces both share: "process", "core", "threads" (py may be NULL), and
 * the core/executable lines of the text. */
json_t *ch_report_process_json(const struct ch_process *proc);
json_t *ch_report_core_json(const struct ch_core_file *core);
json_t *ch_report_core_threads_json(const struct ch_core_file *core, const struct ch_python *py);
void ch_report_core_text(FILE *out, const struct ch_process *proc);

/* generation: -1 or the CH_GEN code the histogram was filtered to. */
json_t *ch_report_types_json(const struct ch_python *py, const struct ch_type_histogram *h);
void ch_report_types_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *h, int generation);

/* stacks: threads with their frames innermost first (locals when read). */
json_t *ch_report_stacks_json(const struct ch_python *py, const struct ch_py_stacks *st, bool with_locals);
void ch_report_stacks_text(FILE *out, const struct ch_python *py, const struct ch_py_stacks *st, bool with_locals);
/* One thread, its innermost max_frames frames (0: all). */
json_t *ch_report_thread_json(const struct ch_py_stacks *st, const struct ch_py_thread_stack *ts, bool with_locals,
			      size_t max_frames);
/* "Thread 42 "name", holds the GIL, ...": a thread's header line, without
 * its ending. */
void ch_report_thread_header(FILE *out, const struct ch_py_thread_stack *ts);
void ch_report_thread_text(FILE *out, const struct ch_py_stacks *st, const struct ch_py_thread_stack *ts,
			   bool with_locals, size_t max_frames);

/* cycles: unreachable totals by type, objects freed with them, groups. */
struct ch_cycles;
struct ch_gc_replay;
struct ch_analysis;
json_t *ch_report_cycles_json(const struct ch_python *py, const struct ch_type_histogram *unreachable,
			      const struct ch_analysis *a, size_t limit);
void ch_report_cycles_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *unreachable,
			   const struct ch_analysis *a, size_t limit);

/* referrers: the edges into the object at index target (see graph/referrers.h). */
struct ch_referrers;
json_t *ch_report_referrers_json(const struct ch_python *py, const struct ch_analysis *a, uint32_t target,
				 const struct ch_referrers *r, size_t limit);
void ch_report_referrers_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, uint32_t target,
			      const struct ch_referrers *r, size_t limit);

/* find: the objects of a type (see graph/find.h). */
struct ch_find_result;
struct ch_heap;
json_t *ch_report_find_json(const struct ch_python *py, const struct ch_heap *heap, const char *name,
			    const struct ch_find_result *r, size_t limit);
void ch_report_find_text(FILE *out, const struct ch_python *py, const struct ch_heap *heap, const char *name,
			 const struct ch_find_result *r, size_t limit);
/* show: the object at index (its table row, referent count) and its
 * value tree (readers/cpython/py_show.h). */
struct ch_show_tree;
json_t *ch_report_show_json(const struct ch_python *py, const struct ch_analysis *a, uint32_t index,
			    const struct ch_show_tree *t);
void ch_report_show_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, uint32_t index,
			 const struct ch_show_tree *t);

/* The exactness verdict (graph/exactness.h): adds "exact" and
 * "conservative_types" to an analysis document; the text form prints
 * nothing when exact, else a paragraph naming the types and reasons. */
struct ch_exactness;
void ch_report_exactness_add(json_t *doc, const struct ch_python *py, const struct ch_exactness *x);
void ch_report_exactness_text(FILE *out, const struct ch_python *py, const struct ch_exactness *x);

/* --verify-traverse: "traverse_mismatches" [{object, type, target,
 * target_type, emulated, modelled}] and "traverse_verified" {objects,
 * unverified}; text: one line per difference and a closing count. */
struct ch_traverse_verify;
void ch_report_traverse_verify_add(json_t *doc, const struct ch_python *py, const struct ch_traverse_verify *v);
void ch_report_traverse_verify_text(FILE *out, const struct ch_python *py, const struct ch_traverse_verify *v);

/* "0", "1", "2", "permanent", "untracked": the key of a CH_GEN code. */
const char *ch_report_gen_key(unsigned gen);

/* types, cycles, summary: "interpreters" (reports/report_interps.c), one
 * entry per interpreter (graph/interp_split.h); with_types adds its type
 * rows. The text section (max_rows type rows each; 0: none, garbage types
 * only) is printed only when there are sub-interpreters. */
struct ch_interp_split;
json_t *ch_report_interps_json(const struct ch_python *py, const struct ch_interp_split *s, bool with_types);
void ch_report_interps_text(FILE *out, const struct ch_python *py, const struct ch_interp_split *s, size_t max_rows);

/* Pieces shared by several commands. */
json_t *ch_report_gc_json(const struct ch_gc_state *g, uint64_t frozen);
json_t *ch_report_type_rows_json(const struct ch_python *py, const struct ch_type_histogram *h);
/* Rows of {"type", "count", "bytes"} only (cycles' unreachable.types). */
json_t *ch_report_type_counts_json(const struct ch_python *py, const struct ch_type_histogram *h);
json_t *ch_report_cycle_groups_json(const struct ch_python *py, const struct ch_cycles *c, size_t limit);
void ch_report_cycle_groups_text(FILE *out, const struct ch_python *py, const struct ch_cycles *c, size_t limit);

/* stacks --native: one OS thread's native and Python frames interleaved
 * (graph/native_stacks.h); max_frames 0 = all. */
json_t *ch_report_mixed_thread_json(const struct ch_py_stacks *st, const struct ch_thread_mixed *t, bool crashed,
				    size_t max_frames);
void ch_report_mixed_thread_text(FILE *out, const struct ch_py_stacks *st, const struct ch_thread_mixed *t,
				 bool crashed, size_t max_frames);

/* summary: one screen for triage; sus (NULL: none computed) heads it. */
struct ch_findings;
struct ch_report_suspects;
/* crashed: the thread that received the fatal signal, or NULL; native:
 * that thread's native and Python frames, or NULL when not unwound. */
json_t *ch_report_summary_json(const struct ch_python *py, const struct ch_type_histogram *types,
			       const struct ch_gc_replay *r, const struct ch_cycles *c, const struct ch_findings *f,
			       const struct ch_py_stacks *st, const struct ch_py_thread_stack *crashed,
			       const struct ch_thread_mixed *native, const struct ch_report_suspects *sus);
void ch_report_summary_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *types,
			    const struct ch_gc_replay *r, const struct ch_cycles *c, const struct ch_findings *f,
			    const struct ch_py_stacks *st, const struct ch_py_thread_stack *crashed,
			    const struct ch_thread_mixed *native, const struct ch_report_suspects *sus);

/* roots: counts per kind and the first `limit` roots (graph/roots.h);
 * anomalies: refcount bugs and leaks (graph/anomalies.h). */
struct ch_roots;
struct ch_anomalies;
json_t *ch_report_roots_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			     size_t limit);
void ch_report_roots_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			  size_t limit);
json_t *ch_report_anomalies_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
				 const struct ch_anomalies *an, size_t limit);
void ch_report_anomalies_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *r,
			      const struct ch_anomalies *an, size_t limit);
/* snapshot: the digest of a heap (graph/heap_digest.h), schema in docs/snapshots.md. */
struct ch_heap_digest;
struct ch_digest_group;
json_t *ch_report_snapshot_json(const struct ch_python *py, const struct ch_heap_digest *d);
/* As ch_report_write_json, but compact (one line): snapshots are stored. */
int ch_report_write_snapshot(FILE *out, json_t *doc, const struct ch_diag *diag);
/* The snapshot's "memory" object (snapshot_memory.c): null when absent. */
struct ch_memory_digest;
json_t *ch_report_memory_digest_json(const struct ch_memory_digest *md);
/* A digest's exactness rows as "conservative_types" (type, objects, reason). */
json_t *ch_report_digest_conservative_json(const struct ch_heap_digest *d);
/* {"types": [{"type", "count"}], "edges": [...]}: a cycle shape of a digest. */
json_t *ch_report_digest_group_json(const struct ch_heap_digest *d, const struct ch_digest_group *g);

/* diff: A and B as the user named them; kind is "core" or "snapshot". */
struct ch_diff;
struct ch_diff_side {
	const char *source;
	const char *kind;
};
/* limit: type rows and cycle shapes listed (0: all); the counts cover all. */
json_t *ch_report_diff_json(const struct ch_diff *d, const struct ch_diff_side *a, const struct ch_diff_side *b,
			    size_t limit);
void ch_report_diff_text(FILE *out, const struct ch_diff *d, const struct ch_diff_side *a,
			 const struct ch_diff_side *b, size_t limit);
/* diff's memory comparison (report_diff_memory.c): {"available": false,
 * "why"} when a side has no memory figures, else the breakdown rows and the
 * other figures with a, b and delta. Text: the figures that changed. */
json_t *ch_report_diff_memory_json(const struct ch_diff *d);
void ch_report_diff_memory_text(FILE *out, const struct ch_diff *d);

/* --format ndjson: the arrays of a report, one element per line. path is a
 * key of the document or "outer.key"; each line is {"record": record, ...}. */
struct ch_ndjson_rows {
	const char *path;
	const char *record;
};
/* Writes each listed array of doc one element per line, removing it from
 * doc, then the rest of doc (with "partial" and "warnings") as the last
 * line, tagged with record. Returns 0 or -1 on a write error. */
int ch_report_write_ndjson(FILE *out, json_t *doc, const struct ch_ndjson_rows *rows, size_t nrows,
			   const char *record, const struct ch_diag *diag);
/* Sets "partial" and "warnings" of doc from the diagnostics. */
void ch_report_json_status(json_t *doc, const struct ch_diag *diag);

/* top: the biggest retainers (graph/top.h) over the dominator tree. */
struct ch_roots;
struct ch_dominators;
struct ch_top;
struct ch_report_top {
	const struct ch_analysis *a;
	const struct ch_roots *roots;
	const struct ch_dominators *d;
	const struct ch_top *t;
	bool by_type;  /* rows are t->types (else t->objects, with t->object_roots) */
	size_t limit;  /* rows shown (0: all) */
};
json_t *ch_report_top_json(const struct ch_python *py, const struct ch_report_top *r);
/* The first `limit` type rows of a ch_top_types result, as in `top --by type --json`. */
json_t *ch_report_retainers_json(const struct ch_python *py, const struct ch_top *t, size_t limit);
void ch_report_top_text(FILE *out, const struct ch_python *py, const struct ch_report_top *r);

/* path: the chains of references from roots to the object at index target
 * (graph/paths.h); an empty set means no root reaches it. */
struct ch_path_set;
json_t *ch_report_path_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *roots,
			    uint32_t target, const struct ch_path_set *set);
void ch_report_path_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a,
			 const struct ch_roots *roots, uint32_t target, const struct ch_path_set *set);

/* One path on one line, as Python would spell the lookups (malloc'd, NULL
 * when out of memory): "sys.modules['app'] .__dict__['CACHE'] [17] .session". */
struct ch_path;
char *ch_report_path_chain_text(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_path *p);

/* tasks: asyncio tasks and futures (graph/tasks.h). */
struct ch_tasks;
/* limit: tasks listed (0: all; the await tree is always whole); the counts cover all. */
json_t *ch_report_tasks_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *roots,
			     const struct ch_tasks *t, size_t limit);
void ch_report_tasks_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a,
			  const struct ch_roots *roots, const struct ch_tasks *t, bool tree, size_t limit);

/* suspects: what is most likely wrong (graph/suspects.h), each with a
 * one-line title, its evidence, its path from a root and the command to
 * run next on it; core is the core's name as the user gave it. */
struct ch_suspects;
struct ch_report_suspects {
	const struct ch_analysis *a;
	const struct ch_roots *roots;
	const struct ch_dominators *d;
	const struct ch_suspects *s;
	const struct ch_findings *f;
	const char *core;
	size_t limit;  /* suspects shown (0: all) */
};
/* The "suspects" array alone, as `suspects --json` and `summary --json` carry it. */
json_t *ch_report_suspects_array(const struct ch_python *py, const struct ch_report_suspects *r);
json_t *ch_report_suspects_json(const struct ch_python *py, const struct ch_report_suspects *r);
void ch_report_suspects_text(FILE *out, const struct ch_python *py, const struct ch_report_suspects *r);
/* Just the numbered titles, and just the `next` commands, one a line (summary). */
void ch_report_suspects_titles(FILE *out, const struct ch_python *py, const struct ch_report_suspects *r);
void ch_report_suspects_next(FILE *out, const struct ch_report_suspects *r);

/* top --format folded: every frame of the flame graph (graph/flame.h)
 * with a weight of its own, as "frame;frame BYTES" lines; the weights add
 * up to the reachable bytes. Returns 0 or -1 on a write error. */
struct ch_flame;
int ch_report_flame_folded(FILE *out, const struct ch_flame *f, const struct ch_analysis *a,
			   const struct ch_roots *roots);

/* "9.9 KiB"-style sizes (B below 10 KiB), and counts with thousands separators. */
void ch_report_human_bytes(uint64_t b, char *buf, size_t n);
void ch_report_count(uint64_t v, char *buf, size_t n);

/* Adds "partial" and "warnings" from the diagnostics, writes the document
 * (sorted keys are not used: key order is the documented order) and a
 * newline. Returns 0 or -1 on a write error. */
int ch_report_write_json(FILE *out, json_t *doc, const struct ch_diag *diag);
/* Warnings to stderr as "coreheap: warning: ..." lines. */
void ch_report_warnings(FILE *err, const struct ch_diag *diag);

#endif
