/* `coreheap show CORE ADDR`: one object of the heap graph, its table row
 * and its value rendered as Python would show it. */
#include <inttypes.h>

#include "commands.h"
#include "exit_codes.h"
#include "graph/analysis.h"
#include "graph/memory_brief.h"
#include "readers/cpython/py_show.h"
#include "reports/report.h"
#include "reports/report_memory.h"
#include "session.h"

/* One address: its JSON document (doc set) or its text on s->out; an
 * address that is no object of the graph is an error value. */
/* The native memory objects own (graph/memory.h), for the "native" line;
 * have false when the breakdown could not be built (a warning says why).
 * As summary's memory line, its own warnings stay out of show's exit code. */
struct native {
	struct ch_memory_held h;
	bool have;
};

static struct ch_error *show_one(struct ch_session *s, const struct ch_analysis *a, const struct native *nat,
				 uint64_t addr, json_t **doc)
{
	uint32_t index = ch_objects_find(&a->heap.objects, addr);
	if (index == CH_NO_OBJECT)
		return ch_error_new(CH_ERR_INPUT, "0x%" PRIx64 " is not the address of a Python object in this heap", addr);
	struct ch_show_tree t = {0};
	struct ch_error *err = ch_py_show_build(s->py, addr, s->opts.depth, s->py->redact, &t);
	if (!err) {
		if (t.nodes[0].flags & CH_SHOW_DAMAGED)
			ch_diag_partial(&s->py->diag, "the object at 0x%" PRIx64 " is damaged: %s", addr,
					ch_show_text(&t, t.nodes[0].err));
		const struct ch_memory_brief *m = nat->have ? &nat->h.b : NULL;
		if (s->opts.json) {
			*doc = ch_report_show_json(s->py, a, index, &t);
			if (*doc)
				json_object_set_new(*doc, "native", ch_report_show_native_json(m, addr));
		} else {
			ch_report_show_text(s->out, s->py, a, index, &t);
			ch_report_show_native_text(s->out, m, addr);
		}
	}
	ch_show_tree_deinit(&t);
	return err;
}

static int run_show(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	bool done;
	int code = ch_session_begin_analysis(&s, &a, cmd, argc, argv, &done);
	if (done)
		return code;
	struct native nat = {0};
	struct ch_error *merr = ch_memory_held_get(&nat.h, &a.heap, a.index);
	nat.have = !merr;
	if (merr) {
		ch_diag_warn(&s.py->diag, "no native memory figures: %s", merr->message);
		ch_error_free(merr);
	}
	if (s.opts.naddrs == 1) {
		json_t *doc = NULL;
		struct ch_error *err = show_one(&s, &a, &nat, s.opts.addr, &doc);
		code = err ? ch_session_fail(&s, err) : ch_session_finish(&s, doc);
	} else {
		/* Several: {"runtime", "objects": [...]}, one analysis for all;
		 * an address that fails is an entry with its error, and exit 3. */
		json_t *list = s.opts.json ? json_array() : NULL;
		bool failed = false;
		for (size_t i = 0; i < s.opts.naddrs; i++) {
			json_t *doc = NULL;
			if (!s.opts.json && i)
				fputc('\n', s.out);
			struct ch_error *err = show_one(&s, &a, &nat, s.opts.addrs[i], &doc);
			if (err && err->kind == CH_ERR_NOMEM) {
				json_decref(list);
				list = NULL;
				code = ch_session_fail(&s, err);
				break;
			}
			if (err) {
				failed = true;
				if (list) {
					char hexaddr[24];
					snprintf(hexaddr, sizeof(hexaddr), "0x%" PRIx64, s.opts.addrs[i]);
					doc = json_pack("{s:s, s:s}", "address", hexaddr, "error", err->message);
				} else {
					fprintf(stderr, "coreheap: error: %s\n", err->message);
				}
				ch_error_free(err);
			}
			if (list && doc) {
				json_object_del(doc, "runtime");
				json_array_append_new(list, doc);
			}
		}
		if (list || !s.opts.json) {
			json_t *doc = NULL;
			if (list) {
				doc = json_object();
				json_object_set_new(doc, "runtime", ch_report_runtime_json(s.py));
				json_object_set_new(doc, "objects", list);
			}
			code = ch_session_finish(&s, doc);
			if (failed && code == CH_EXIT_OK)
				code = CH_EXIT_INPUT;
		}
	}
	if (nat.have)
		ch_memory_held_deinit(&nat.h);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_show = {
	.name = "show",
	.summary = "One object: its type, refcount, generation, size, and its value as Python shows it.\n\n"
		   "Shows the object's address, type, refcount, generation (0, 1, 2, permanent, untracked), full\n"
		   "shallow size, the number of references it holds in the graph (referents), and its value:\n"
		   "- str and bytes as repr() writes them (the quote repr would choose, \\n, \\t, \\xNN, \\uNNNN,\n"
		   "  \\UNNNNNNNN for non-printable characters); after 1024 characters (80 inside a container) they\n"
		   "  are cut, followed by \"... (N characters)\" / \"... (N bytes)\". Printability follows a table of\n"
		   "  the non-printable ranges (controls, format characters, separators, surrogates, private use,\n"
		   "  unassigned planes); a code point left unassigned inside an assigned block prints literally\n"
		   "  where CPython would escape it.\n"
		   "- int of any size in decimal up to 4300 digits (60 inside a container); longer ones as the first\n"
		   "  and last 20 digits and the count (12345...67890 (33804 digits)); beyond about 90,000 digits\n"
		   "  (10,000 30-bit digits, where conversion gets slow) the bit count and the last 19 digits.\n"
		   "- float as repr() (shortest round-trip form, inf, nan, -0.0); True/False, None, Ellipsis,\n"
		   "  NotImplemented.\n"
		   "- tuple, list, dict, set, frozenset (exact types) with their first 10 items, \"... N more\" after;\n"
		   "  items are rendered the same way, containers and instances expanded to --depth levels (the\n"
		   "  root is level 1); deeper ones are <list len 3 at 0x...>. A container that holds itself is\n"
		   "  [...], as in repr.\n"
		   "- instances of class-statement types (including subclasses of builtins):\n"
		   "  <mod.Cls object at 0x...: a=1, b='two'>, attributes from the instance __dict__ (3.6-3.10, or\n"
		   "  a materialized dict), the 3.11+ inline/managed values, and set __slots__; at most 32, then\n"
		   "  \"... N more\". In text the top-level instance lists one attribute a line.\n"
		   "- functions <function Outer.meth at 0x...> (and \"defined FILE:LINE\" of co_firstlineno), code\n"
		   "  objects as repr writes them, modules <module 'json' from '/...'> / <module 'sys' (built-in)>,\n"
		   "  classes <class 'mod.Cls'> (bases in JSON), cells <cell at 0x...: CONTENTS>, bound methods\n"
		   "  <bound method Cls.meth of SELF>, classmethod/staticmethod as 3.10+ writes them\n"
		   "  (<classmethod(<function ...>)>, also on 3.8/3.9), <property object at 0x...>\n"
		   "  (getter/setter/deleter in JSON), weak references <weakref at 0x...; to 'Cls' at 0x...> or\n"
		   "  <weakref at 0x...; dead>.\n"
		   "- anything else: <type object at 0x...>.\n\n"
		   "Runtime objects (JSON keys in brackets):\n"
		   "  exceptions      as repr() does, ValueError('bad row', 7) [name, args, cause, context,\n"
		   "                  traceback_depth]; the arguments are always expanded\n"
		   "  tracebacks      <traceback object at 0x...> [depth, entries: name, file, line, frame]\n"
		   "  frames          as repr() does, <frame at 0x..., file '...', line N, code f> [name,\n"
		   "                  file, line, locals: by name]\n"
		   "  generators, coroutines, async generators   <coroutine object f at 0x...> [qualname,\n"
		   "                  state (created|suspended|running|finished), line, awaiting: what a\n"
		   "                  suspended one awaits]\n"
		   "  asyncio Task/Future   <Future finished result=5> [state, name, callbacks, coro,\n"
		   "                  result, exception, awaiting]; Future's text is repr()'s, a Task's\n"
		   "                  names its coroutine object instead of `f() running at file:line`\n"
		   "  functools.partial, bytearray   as repr() does [func, args, keywords / length, hex]\n"
		   "  contextvars.Context   <_contextvars.Context object at 0x...> [length: variables set]\n"
		   "  weakref.proxy   as repr() does, <weakproxy at 0x...; to 'Cls' at 0x...> (3.13+; before:\n"
		   "                  <weakproxy at 0x... to Cls at 0x...>) [target, target_type, proxy: true]\n"
		   "Library objects (one line, the same in stacks --locals):\n"
		   "  functools.lru_cache wrappers   <functools._lru_cache_wrapper of f at 0x...: currsize 3,\n"
		   "                  maxsize 128, hits 2, misses 3> [qualname, currsize, maxsize (null: None),\n"
		   "                  hits, misses, function]\n"
		   "  re.Pattern      as repr() does, re.compile('a+b', re.IGNORECASE) [pattern, flags, flag_names]\n"
		   "  _io FileIO, BufferedReader/Writer/Random, TextIOWrapper   as repr() does,\n"
		   "                  <_io.TextIOWrapper name='x' mode='r' encoding='UTF-8'> [name, mode, closed,\n"
		   "                  fd (FileIO), encoding, raw/buffer]\n"
		   "  numpy.ndarray   <numpy.ndarray shape=(3, 4) dtype=float64 nbytes=96 owndata at 0x...>\n"
		   "                  [shape, ndim, dtype, nbytes, owndata, base, numpy_version]: numpy's array\n"
		   "                  head and its dtype's member table read from the core (no numpy debug info\n"
		   "                  needed); a dtype it cannot name (datetime units, structured) shows as ?\n"
		   "Dict keys of any type are written as repr() writes them, in every command's labels:\n"
		   "CACHE[17], CACHE[(1, 'a')], CACHE[None]; a frame's locals as .f_locals['x'].\n\n"
		   "Native memory: an object that owns malloc chunks its type does not model (numpy ndarray data,\n"
		   "extension buffers; inferred, the rule of `coreheap memory`) gets a \"native:\" line with the\n"
		   "owned bytes and each chunk (address, size); JSON \"native\": {\"bytes\", \"chunks\": [{\"address\",\n"
		   "\"size\", \"inferred\"}]}, null when glibc's heap could not be read.\n\n"
		   		   "An address that is not an object in the graph is a one-line error (exit 3); an object whose body\n"
		   "cannot be read renders what it can, is marked <damaged> and the exit code is 5. Several ADDRs\n"
		   "share one analysis of the heap: text shows one block each, --json gives {\"runtime\", \"objects\":\n"
		   "[...]}; an address that is not an object is an error line (an entry with its \"error\" in JSON)\n"
		   "and exit 3, the others are still shown. The JSON values per kind: docs/json.md.\n\n"
		   "Options:\n"
		   "  --depth N            container/instance levels to expand (default 2, at most 16)\n"
		   "  --redact             str and bytes contents as their type and length only, e.g. <str len 12>\n"
		   "                       (docs/privacy.md)\n\n"
		   "Examples:\n"
		   "  coreheap show core.1234 0x7f0123456780\n"
		   "  coreheap show core.1234 0x7f0123456780 --depth 4 --json | jq .value\n"
		   "  coreheap show core.1234 0x7f0123456780 0x7f0123456900 --json | jq '.objects[].repr'\n",
	.usage = "show [options] CORE ADDR [ADDR...]",
	.extras = CH_OPT_ADDR | CH_OPT_ADDRS | CH_OPT_DEPTH,
	.run = run_show,
	/* The object's row, its referents' count and the memory figures; its
	 * value is read from the core. */
	.index_needs = CH_NEED_ADDR | CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_GEN | CH_NEED_OFFSETS | CH_NEED_MEM | CH_NEED_LAZY,
};
