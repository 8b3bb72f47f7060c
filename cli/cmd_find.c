/* `coreheap find CORE --type NAME`: the addresses of a type's objects. */
#include "commands.h"
#include "graph/analysis.h"
#include "graph/find.h"
#include "reports/report.h"
#include "session.h"

static int run_find(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	bool done;
	int code = ch_session_begin_analysis(&s, &a, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_find_result r;
	struct ch_error *err = ch_find_by_type(&r, &a.heap, s.opts.type_name, s.opts.subclasses, s.opts.min_bytes);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_find_json(s.py, &a.heap, s.opts.type_name, &r, s.opts.limit);
		else
			ch_report_find_text(s.out, s.py, &a.heap, s.opts.type_name, &r, s.opts.limit);
		code = ch_session_finish(&s, doc);
	}
	ch_find_result_deinit(&r);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_find = {
	.name = "find",
	.summary = "The objects of one type, largest first (then by address).\n\n"
		   "NAME is the type's name as `types` prints it: module.qualname, builtins bare (dict, list,\n"
		   "mymod.Node, mymod.Outer.Inner). Untracked objects are included. A name no object's type has is\n"
		   "an empty result, said so in text, exit 0, with the types whose last name component is NAME's\n"
		   "(ignoring case) offered instead: --type Request -> did you mean __main__.Request? A type whose\n"
		   "MRO cannot be read is matched by its own name only, with a warning and a partial result.\n\n"
		   "Options:\n"
		   "  --type NAME          the type (required)\n"
		   "  --subclasses         also the instances of every type with a type named NAME on its MRO (read\n"
		   "                       from tp_mro, so mixins count)\n"
		   "  --min-bytes N        only objects of at least N bytes (shallow size)\n"
		   "  --limit N            show the first N objects (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap find core.1234 --type mymod.Node\n"
		   "  coreheap find core.1234 --type dict --min-bytes 4096 --json --limit 0\n",
	.usage = "find [options] CORE --type NAME",
	.extras = CH_OPT_TYPE | CH_OPT_SUBCLASSES | CH_OPT_MIN_BYTES | CH_OPT_LIMIT,
	.run = run_find,
	/* Each object's type and size, the matches' rows. */
	.index_needs = CH_NEED_ADDR | CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_GEN,
};
