#include "commands.h"
#include "graph/edges.h"
#include "graph/heap.h"
#include <stdlib.h>

#include "graph/interp_split.h"
#include "graph/memory.h"
#include "graph/type_histogram.h"
#include "reports/report.h"
#include "reports/report_memory.h"
#include "session.h"
#include "session_heap.h"

static int run_types(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_heap heap;
	struct ch_edges edges;
	struct ch_type_histogram hist;
	if (s.opts.native) /* ch_memory_build: the objects' addresses too */
		s.needs |= CH_NEED_ADDR;
	/* Following references finds the untracked objects and the buffers
	 * each object owns (full shallow sizes). */
	struct ch_error *err = ch_session_heap_build(&s, &heap, &edges, NULL, CH_INDEX_AUTO, NULL);
	if (err) {
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	struct ch_interp_split split = {0};
	/* The whole heap's histogram and the interpreters' in one pass. */
	struct ch_hist_query whole = {s.opts.generation, NULL, 0, -1, s.opts.sort, s.opts.limit};
	err = ch_interp_split_build(&split, &heap, s.opts.generation, NULL, s.opts.sort, s.opts.limit, &whole, &hist);
	if (err) {
		ch_edges_deinit(&edges);
		ch_heap_deinit(&heap);
		code = ch_session_fail(&s, err);
		ch_session_end(&s);
		return code;
	}
	/* --native: the chunks objects own, per type (graph/memory.h). */
	uint64_t *native = NULL, native_total = 0;
	if (s.opts.native) {
		struct ch_diag mdiag;
		ch_diag_init(&mdiag);
		struct ch_memory mem;
		err = ch_memory_build(s.proc, s.py, &heap, &mdiag, &mem);
		native = calloc(s.py->types.n ? s.py->types.n : 1, sizeof(uint64_t));
		if (!err && !native)
			err = ch_error_new(CH_ERR_NOMEM, "out of memory for native bytes by type");
		if (!err) {
			for (size_t i = 0; i < mem.python.nowned_types; i++)
				if (mem.python.owned_types[i].type < s.py->types.n)
					native[mem.python.owned_types[i].type] = mem.python.owned_types[i].bytes;
			native_total = mem.python.owned_bytes;
			if (!mem.glibc.found)
				ch_diag_warn(&s.py->diag, "--native: glibc malloc not read (%s): no native bytes", mem.glibc.why_not);
			for (size_t i = 0; i < mdiag.n; i++)
				ch_diag_warn(&s.py->diag, "--native: %s", mdiag.messages[i]);
			if (mdiag.partial)
				s.py->diag.partial = true;
			ch_memory_deinit(&mem);
		}
		ch_diag_deinit(&mdiag);
		if (err) {
			free(native);
			ch_interp_split_deinit(&split);
			ch_type_histogram_deinit(&hist);
			ch_edges_deinit(&edges);
			ch_heap_deinit(&heap);
			code = ch_session_fail(&s, err);
			ch_session_end(&s);
			return code;
		}
	}
	json_t *doc = NULL;
	if (s.opts.json) {
		doc = ch_report_types_json(s.py, &hist);
		json_object_set_new(doc, "interpreters", ch_report_interps_json(s.py, &split, true));
		if (native)
			ch_report_types_add_native(doc, &hist, native, native_total);
	} else {
		ch_report_types_text(s.out, s.py, &hist, s.opts.generation);
		ch_report_interps_text(s.out, s.py, &split, s.opts.limit ? s.opts.limit : 10);
		if (native)
			ch_report_types_native_text(s.out, s.py, &hist, native, native_total);
	}
	free(native);
	static const struct ch_ndjson_rows rows[] = {{"types", "type"}};
	code = ch_session_finish_rows(&s, doc, rows, 1, "types");
	ch_interp_split_deinit(&split);
	ch_type_histogram_deinit(&hist);
	ch_edges_deinit(&edges);
	ch_heap_deinit(&heap);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_types = {
	.name = "types",
	.summary = "One row per type: count, bytes (full shallow size) and count per generation.\n\n"
		   "Generations are the collector's own lists: gc.get_objects(generation=g) for 0, 1 and 2 (young\n"
		   "to old) and the permanent generation of gc.freeze() (gc.get_freeze_count(), 3.7+). 3.6-3.13,\n"
		   "3.14.5+ and 3.15 collect by generation; 3.14.0-3.14.4 (incremental collector) are refused with exit 4.\n"
		   "What the columns mean in each version's terms: docs/support.md.\n\n"
		   "Untracked objects are on no list (str, int, float, bytes, tuples and dicts the collector\n"
		   "untracked): coreheap finds them by following the references of every object it knows, so an\n"
		   "untracked object held only from C is not seen.\n\n"
		   "Type names are module.qualname, with builtins bare: dict, collections.deque, mymod.Outer.Inner.\n"
		   "Heap types take __qualname__ and the __module__ of the class dict, as type.__module__ does;\n"
		   "static types take tp_name.\n\n"
		   "Bytes is the full shallow size: the object (tp_basicsize plus items for variable-size objects,\n"
		   "str/bytes/int by their own length rules, rounded as CPython rounds), the 16-byte GC header and,\n"
		   "for types with a managed dict (3.11) or managed dict/weakref (3.12+), the two pre-header words,\n"
		   "plus the buffers the object owns: a list's item array, a dict's keys table and values array, a\n"
		   "set's table, a bytearray's buffer (3.15: the bytes object that holds it), and (3.13+) the inline\n"
		   "values block allocated after an instance (3.14+ also after an instance of a dict or list\n"
		   "subclass), which sys.getsizeof leaves out.\n\n"
		   "With sub-interpreters (3.9+, each with its own collector) a section per interpreter follows\n"
		   "the table (its objects and top types; JSON \"interpreters\"): docs/support.md.\n\n"
		   "Options:\n"
		   "  --limit N, --top N   keep the first N rows (default all; the TOTAL line and JSON totals\n"
		   "                       still cover every type)\n"
		   "  --sort count|bytes   order of the rows (default count; ties by name)\n"
		   "  --generation G       only objects in generation 0, 1, 2, permanent (or frozen) or untracked\n"
		   "  --format ndjson      one record per line: each type, then the totals (docs/gating.md)\n"
		   "  --native             also the native memory each type's objects own (malloc chunks whose\n"
		   "                       start only they point at, e.g. numpy array data; inferred, see\n"
		   "                       coreheap memory --help): a native_bytes column in JSON, a second\n"
		   "                       table in text; counted over all objects of the type, whatever\n"
		   "                       --generation says. Off by default: it reads glibc's heap.\n\n"
		   "Examples:\n"
		   "  coreheap types core.1234 --limit 20 --sort bytes\n"
		   "  coreheap types core.1234 --generation 2 --json -o gen2.json\n",
	.usage = "types [options] CORE",
	.extras = CH_OPT_LIMIT | CH_OPT_LIMIT_ALL | CH_OPT_TOP | CH_OPT_SORT | CH_OPT_GENERATION | CH_OPT_NDJSON | CH_OPT_NATIVE,
	.run = run_types,
	/* Each object's type, size, generation and interpreter (--native:
	 * the addresses too, for the memory breakdown). Verified at the load,
	 * not lazily: a lazy read verifies the blocks that share a page with
	 * what it reads, and `types` is the command that must not see a
	 * damage in a section it does not use (tests/check_index.py). */
	.index_needs = CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_GEN | CH_NEED_INTERP,
};
