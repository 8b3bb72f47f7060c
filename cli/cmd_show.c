/* `coreheap show CORE ADDR`: one object of the heap graph, its table row
 * and its value rendered as Python would show it. */
#include <inttypes.h>

#include "commands.h"
#include "graph/analysis.h"
#include "readers/py_show.h"
#include "reports/report.h"
#include "session.h"

static int run_show(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	bool done;
	int code = ch_session_begin_analysis(&s, &a, cmd, argc, argv, &done);
	if (done)
		return code;
	uint64_t addr = s.opts.addr;
	struct ch_show_tree t = {0};
	struct ch_error *err = NULL;
	uint32_t index = ch_objects_find(&a.heap.objects, addr);
	if (index == CH_NO_OBJECT)
		err = ch_error_new(CH_ERR_INPUT, "0x%" PRIx64 " is not the address of a Python object in this heap", addr);
	else
		err = ch_py_show_build(s.py, addr, s.opts.depth, s.py->redact, &t);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		if (t.nodes[0].flags & CH_SHOW_DAMAGED)
			ch_diag_partial(&s.py->diag, "the object at 0x%" PRIx64 " is damaged: %s", addr,
					ch_show_text(&t, t.nodes[0].err));
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_show_json(s.py, &a, index, &t);
		else
			ch_report_show_text(s.out, s.py, &a, index, &t);
		code = ch_session_finish(&s, doc);
	}
	ch_show_tree_deinit(&t);
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
		   "Options:\n"
		   "  --depth N            container/instance levels to expand (default 2, at most 16)\n"
		   "  --redact             str and bytes contents as <str len N>\n\n"
		   "Examples:\n"
		   "  coreheap show core.1234 0x7f0123456780\n"
		   "  coreheap show core.1234 0x7f0123456780 --depth 4 --json | jq .value\n",
	.usage = "show [options] CORE ADDR",
	.extras = CH_OPT_ADDR | CH_OPT_DEPTH,
	.run = run_show,
};
