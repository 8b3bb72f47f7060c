/* `coreheap referrers CORE ADDR`: who holds a reference to one object, read
 * off the whole-heap graph. */
#include <inttypes.h>

#include "commands.h"
#include "graph/analysis.h"
#include "graph/referrers.h"
#include "reports/report.h"
#include "session.h"

static int run_referrers(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	bool done;
	int code = ch_session_begin_analysis(&s, &a, cmd, argc, argv, &done);
	if (done)
		return code;
	uint64_t addr = s.opts.addr;
	struct ch_error *err;
	struct ch_referrers r = {0};
	uint32_t target = ch_objects_find(&a.heap.objects, addr);
	if (target == CH_NO_OBJECT)
		err = ch_error_new(CH_ERR_INPUT, "0x%" PRIx64 " is not the address of an object in the heap graph", addr);
	else
		err = ch_referrers_find(&r, &a.edges, a.heap.objects.n, target);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_referrers_json(s.py, &a, target, &r, s.opts.limit);
		else
			ch_report_referrers_text(s.out, s.py, &a, target, &r, s.opts.limit);
		code = ch_session_finish(&s, doc);
	}
	ch_referrers_deinit(&r);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_referrers = {
	.name = "referrers",
	.summary = "The objects that hold a reference to the object at ADDR (why is it alive?).\n\n"
		   "One line per reference: the referrer's address and type, the reference's label as the referrer\n"
		   "sees it (.attr, ['key'], [3], {item}, +0x18 (conservative)) and whether the referrer's\n"
		   "tp_traverse visits it. The references come from the whole-heap graph that `cycles` builds, so\n"
		   "besides what gc.get_referrers would list they include referrers the collector does not track (a\n"
		   "tuple or a dict it untracked) and frames. A referrer that holds the object twice (a list with it\n"
		   "at two indexes, a dict with it as key and value) has a line per reference. An address that is\n"
		   "not an object in the graph is a one-line error (exit 3).\n\n"
		   "Options:\n"
		   "  --limit N            show the first N references (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap referrers core.1234 0x7f0123456780\n"
		   "  coreheap referrers core.1234 0x7f0123456780 --json --limit 0 | jq '.referrers[].type'\n",
	.usage = "referrers [options] CORE ADDR",
	.extras = CH_OPT_ADDR | CH_OPT_LIMIT,
	.run = run_referrers,
	/* The target's row, the edges into it, each referrer's type and
	 * label (a dict key's label reads the key object). */
	.index_needs = CH_NEED_ADDR | CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_OFFSETS | CH_NEED_TARGETS | CH_NEED_LABELS |
		       CH_NEED_LAZY,
};
