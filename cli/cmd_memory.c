#include <string.h>

#include "commands.h"
#include "exit_codes.h"
#include "graph/edges.h"
#include "graph/heap.h"
#include "graph/memory.h"
#include "reports/report_memory.h"
#include "session.h"
#include "session_heap.h"

static int run_memory(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_parse(&s, cmd, argc, argv, CH_GATE_HEAP, &done);
	if (done)
		return code;
	struct ch_diag diag;
	ch_diag_init(&diag);
	s.diag = &diag;
	struct ch_error *err = ch_process_open(s.opts.core, &s.opts.process, &s.proc);
	if (err) {
		fprintf(stderr, "coreheap: error: %s\n", err->message);
		code = ch_exit_code_for(err);
		ch_error_free(err);
		ch_diag_deinit(&diag);
		ch_session_end(&s);
		return code;
	}
	/* Native figures need no Python runtime: without one, say so and go on. */
	err = ch_python_open(s.proc, &s.py);
	if (err) {
		ch_diag_warn(&diag, "no Python-level figures: %s", err->message);
		ch_error_free(err);
		s.py = NULL;
	}
	code = ch_session_open_output(&s, &done);
	if (done) {
		ch_diag_deinit(&diag);
		return code;
	}
	/* The objects with their full sizes (GC lists, then references: the
	 * untracked objects and the buffers each one owns), for the
	 * Python-level figures. */
	struct ch_heap heap;
	struct ch_edges edges;
	bool have_analysis = false;
	if (s.py) {
		err = ch_session_heap_build(&s, &heap, &edges, NULL, CH_INDEX_AUTO, NULL);
		if (err) {
			ch_diag_partial(&diag, "no Python object figures: %s", err->message);
			ch_error_free(err);
		} else {
			have_analysis = true;
		}
	}
	struct ch_memory m;
	err = ch_memory_build(s.proc, s.py, have_analysis ? &heap : NULL, &diag, &m);
	for (size_t i = 0; s.py && i < s.py->diag.n; i++)
		ch_diag_warn(&diag, "%s", s.py->diag.messages[i]);
	if (s.py && s.py->diag.partial)
		diag.partial = true;
	if (err) {
		code = ch_session_fail(&s, err);
		if (have_analysis) {
			ch_edges_deinit(&edges);
			ch_heap_deinit(&heap);
		}
		ch_diag_deinit(&diag);
		ch_session_end(&s);
		return code;
	}
	json_t *doc = NULL;
	if (s.opts.json)
		doc = ch_report_memory_json(&m, s.py, s.opts.limit);
	else
		ch_report_memory_text(s.out, &m, s.py, s.opts.limit ? s.opts.limit : 20);
	code = ch_session_finish(&s, doc);
	ch_memory_deinit(&m);
	if (have_analysis) {
		ch_edges_deinit(&edges);
		ch_heap_deinit(&heap);
	}
	ch_diag_deinit(&diag);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_memory = {
	.name = "memory",
	.summary =
		"Where the memory went: every byte in one category; glibc malloc, pymalloc, native leak suspects.\n\n"
		"Assigns every byte of the dumped process's address space (its PT_LOAD segments) to exactly one\n"
		"category, so the rows add up to the total virtual size:\n"
		"  files: code and read-only data   file-backed mappings the process could not write\n"
		"  files: writable data             file-backed writable mappings (.data, .bss, RELRO) and the\n"
		"                                   anonymous .bss tail right after one\n"
		"  thread stacks                    anonymous mappings holding a thread's stack pointer\n"
		"  no access                        PROT_NONE: guard pages, reserved address space\n"
		"  glibc: in use chunks             malloc chunks the program holds (libc's tcache struct too)\n"
		"  glibc: free in tcache/fastbins   chunks glibc marks in use but holds for reuse\n"
		"  glibc: free in unsorted/small/large bins, top chunks   free memory inside the arenas\n"
		"  glibc: arena headers and alignment   heap_info, malloc_state, gaps, end-of-heap headers\n"
		"  glibc: thread heap reserve       the unused rest of each thread heap's 64 MiB mapping\n"
		"  glibc: mmapped chunks            requests above the mmap threshold, each its own mapping\n"
		"  pymalloc: blocks in use, free blocks and empty pools, pool headers/quantization/alignment\n"
		"                                   the object allocator's arenas, split by its own statistics\n"
		"  other anonymous memory           everything else (other mmaps, other allocators)\n"
		"glibc's state is read with libc's debug info (Debian: libc6-dbg, found by build-id under\n"
		"--debug-dir), else with a built-in table made from it for the same libc build (matched by\n"
		"build-id), else with the layouts of a table for the same glibc version and main_arena found\n"
		"by the shape of malloc_state in libc's data, verified by walking its brk heap to the top chunk\n"
		"(glibc.main_arena_found_by: debug info, table, shape scan or not found); with none, the glibc\n"
		"rows stay in 'other anonymous memory' and the report says why. Other allocators (jemalloc, tcmalloc, mimalloc)\n"
		"are named when their library is mapped; their memory stays 'other anonymous memory'.\n"
		"mallinfo2 is computed as glibc computes it (tcache chunks count as in use); the program's view\n"
		"counts them free. Each in-use chunk is 'anchored' when some word of live memory (writable file\n"
		"data, live stack, another in-use chunk, other anonymous memory) points into it, else\n"
		"'unreferenced': a native leak suspect (conservative: a stale pointer may hide a leak, an\n"
		"anchored chunk is never reported). pymalloc's figures are those sys._debugmallocstats() prints\n"
		"(main interpreter).\n\n"
		"Python objects (every object of the heap, GC-tracked or reached from one) are split by where\n"
		"they live: pymalloc blocks, malloc chunks, static memory of a mapped file. An in-use chunk whose\n"
		"start is referenced from the body of exactly one object (or of several that all point at one of\n"
		"them, as numpy views point at their base) belongs to that object: a buffer coreheap models (list\n"
		"items, dict tables) or native memory its type does not model (numpy ndarray data), listed as\n"
		"native.owned (inferred). The rest is native.unowned, anchored or unreferenced. `explained` is\n"
		"the share of the allocators' in-use memory (glibc in-use and mmapped chunks, pymalloc blocks in\n"
		"use) that holds Python objects, their buffers or memory they own; pymalloc blocks all count.\n"
		"Findings say the main conclusions in plain words.\n\n"
		"docs/memory.md explains each category. A damaged heap (a chunk header that leaves its heap, a\n"
		"free list that loops or leaves the arena) stops that walk with a warning; the figures are then\n"
		"partial (exit 5).\n\n"
		"Options:\n"
		"  --limit N            list at most N leak-suspect sizes (text, default 20) or addresses (JSON,\n"
		"                       and owned chunks; 0: all)\n\n"
		"Examples:\n"
		"  coreheap memory core.1234\n"
		"  coreheap memory --json core.1234 | jq .glibc.mallinfo2\n"
		"  coreheap memory --json --limit 0 core.1234 | jq .native.unowned.unreferenced\n",
	.usage = "memory [options] CORE",
	.extras = CH_OPT_LIMIT,
	.run = run_memory,
	/* The objects' addresses, sizes and types, read block by block as
	 * used (memory builds its own breakdown: no stored result). */
	.index_needs = CH_NEED_ADDR | CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_LAZY,
};
