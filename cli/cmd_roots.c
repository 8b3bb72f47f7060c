/* `coreheap roots CORE`: what keeps the heap alive from outside the object
 * graph (module table, thread frames, static objects, C data, external
 * holders), in the priority order `path` uses. */
#include "commands.h"
#include "graph/roots.h"
#include "reports/report.h"
#include "session.h"

static int run_roots(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots r;
	bool done;
	int code = ch_session_begin_roots(&s, &a, &r, cmd, argc, argv, &done);
	if (done)
		return code;
	json_t *doc = NULL;
	if (s.opts.json)
		doc = ch_report_roots_json(s.py, &a, &r, s.opts.limit);
	else
		ch_report_roots_text(s.out, s.py, &a, &r, s.opts.limit);
	code = ch_session_finish(&s, doc);
	ch_roots_deinit(&r);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_roots = {
	.name = "roots",
	.summary = "The heap's roots: what holds objects from outside the object graph.\n\n"
		   "Each root is labelled; they are listed in the priority order `path` prefers them:\n"
		   "  module          sys.modules['app']: an entry of each interpreter's module table\n"
		   "  sys, builtins   sys.__dict__: the interpreter's sys and builtins dicts\n"
		   "  frame_local     thread 4242 frame 0 main (app.py:12) local 'x': a local, cell or free variable\n"
		   "                  of a running frame (innermost first)\n"
		   "  frame_globals   thread 4242 frame 0 main (app.py:12) globals: the frame's globals dict\n"
		   "  frame_other     ... stack/internals 0x7f...: a word of the frame's value stack (or, 3.11+, its\n"
		   "                  header) that points at an object, read conservatively; 3.6-3.10: the\n"
		   "                  executing frame object itself\n"
		   "  thread          thread 4242 state +0x58: a pointer inside a thread state (current exception,\n"
		   "                  dict, context, ...)\n"
		   "  static          static object libpython3.12.so.1.0 _Py_NoneStruct+0x0: an object inside a\n"
		   "                  mapped ELF file: static types, None, 3.11+ deep-frozen code, 3.12+ runtime\n"
		   "                  singletons\n"
		   "  c_global        C data libpython3.12.so.1.0 _PyRuntime+0x1a8: a pointer in the writable data\n"
		   "                  of a mapped ELF file or in an interpreter state\n"
		   "  external        external (refcount 3, 1 unexplained): an object whose refcount exceeds every\n"
		   "                  reference found to it: held by C code, the C stack, an extension's own\n"
		   "                  memory, or leaked\n\n"
		   "Reference accounting: certain references are edges from other objects (weak references and the\n"
		   "keys of split tables excepted, which take no count; a static object's pointers count as possible\n"
		   "only, since C initializers take none) and 3.11+ frame slots; possible references are\n"
		   "conservative words (value stacks, thread and interpreter states, C data).\n\n"
		   "Options:\n"
		   "  --limit N            show the first N roots (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap roots core.1234\n"
		   "  coreheap roots core.1234 --json --limit 0 | jq '.counts'\n",
	.usage = "roots [options] CORE",
	.extras = CH_OPT_LIMIT,
	.run = run_roots,
	/* The stored roots and the objects they name, read block by block as
	 * used; everything a root set found again reads is there too. */
	.index_needs = (CH_NEED_ALL & ~(CH_NEED_CYCLES | CH_NEED_DOMS | CH_NEED_MEM | CH_NEED_SCAN)) | CH_NEED_LAZY,
};
