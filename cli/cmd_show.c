/* `coreheap show CORE ADDR`: one object of the heap graph, its table row
 * and its value rendered as Python would show it. */
#include <inttypes.h>

#include "commands.h"
#include "exit_codes.h"
#include "graph/analysis.h"
#include "readers/cpython/py_show.h"
#include "reports/report.h"
#include "session.h"

/* One address: its JSON document (doc set) or its text on s->out; an
 * address that is no object of the graph is an error value. */
static struct ch_error *show_one(struct ch_session *s, const struct ch_analysis *a, uint64_t addr, json_t **doc)
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
		if (s->opts.json)
			*doc = ch_report_show_json(s->py, a, index, &t);
		else
			ch_report_show_text(s->out, s->py, a, index, &t);
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
	if (s.opts.naddrs == 1) {
		json_t *doc = NULL;
		struct ch_error *err = show_one(&s, &a, s.opts.addr, &doc);
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
			struct ch_error *err = show_one(&s, &a, s.opts.addrs[i], &doc);
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
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_show = {
	.name = "show",
	.summary = "One object: its type, refcount, generation, size, and its value as Python shows it.\n\n"
		   "str, bytes, int (any size), float, bool and None render as repr() does; tuple, list,\n"
		   "dict, set and frozenset with their first 10 items; instances with their attributes\n"
		   "(__dict__, 3.11+ inline values, __slots__); functions and code with file:line;\n"
		   "modules, classes, cells, bound methods, classmethod/staticmethod, property, weakref;\n"
		   "anything else as <type object at 0x...>. Long str/bytes/int are cut with their length.\n\n"
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
		   "Dict keys of any type are written as repr() writes them, in every command's labels:\n"
		   "CACHE[17], CACHE[(1, 'a')], CACHE[None]; a frame's locals as .f_locals['x'].\n\n"
		   "Several ADDRs share one analysis of the heap: --json then gives {\"runtime\", \"objects\":\n"
		   "[...]}, and an address that is not an object is an entry with its \"error\" (exit 3).\n\n"
		   "Options:\n"
		   "  --depth N            container/instance levels to expand (default 2, at most 16)\n"
		   "  --redact             str and bytes contents as <str len N>\n\n"
		   "Examples:\n"
		   "  coreheap show core.1234 0x7f0123456780\n"
		   "  coreheap show core.1234 0x7f0123456780 --depth 4 --json | jq .value\n"
		   "  coreheap show core.1234 0x7f0123456780 0x7f0123456900 --json | jq '.objects[].repr'\n",
	.usage = "show [options] CORE ADDR [ADDR...]",
	.extras = CH_OPT_ADDR | CH_OPT_ADDRS | CH_OPT_DEPTH,
	.run = run_show,
};
