/* `coreheap anomalies CORE`: refcount bugs and reference leaks. */
#include "commands.h"
#include "graph/anomalies.h"
#include "reports/report.h"
#include "session.h"

static int run_anomalies(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	struct ch_analysis a;
	struct ch_roots r;
	bool done;
	int code = ch_session_begin_counted_roots(&s, &a, &r, cmd, argc, argv, &done);
	if (done)
		return code;
	struct ch_anomalies an;
	ch_roots_scan_memory_kept(&r, &a);
	struct ch_error *err = ch_anomalies_find(&an, &a, &r);
	if (err) {
		code = ch_session_fail(&s, err);
	} else {
		json_t *doc = NULL;
		if (s.opts.json)
			doc = ch_report_anomalies_json(s.py, &a, &r, &an, s.opts.limit);
		else
			ch_report_anomalies_text(s.out, s.py, &a, &r, &an, s.opts.limit);
		code = ch_session_finish(&s, doc);
		ch_anomalies_deinit(&an);
	}
	ch_roots_deinit(&r);
	ch_analysis_deinit(&a);
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_anomalies = {
	.name = "anomalies",
	.summary = "Objects whose reference counts do not add up.\n\n"
		   "Refcount bugs: the refcount is lower than the certain references found to the object (edges\n"
		   "from other objects and 3.11+ frame slots), so the next release of one of them frees a live\n"
		   "object. Type objects are left out (their tp_base pointers take no count in some versions). The\n"
		   "interpreter's dict of interned strings (3.12+) is not counted as a holder: CPython leaves its two\n"
		   "references to each interned string out of the refcount.\n\n"
		   "Leaks: objects that no root (other than external, see `coreheap roots`) reaches, that the\n"
		   "collector would not free (not GC garbage), and whose refcount exceeds every reference found\n"
		   "after a conservative scan of all other dumped writable memory (malloc'd C structures, the live\n"
		   "part of each C stack): a count held by something nothing in the process can reach, the signature\n"
		   "of a C extension's missing Py_DECREF. Grouped by type, largest first, with what only they keep\n"
		   "alive. The scan skips the dead part of each C stack (below the stack pointer), 3.11+ data-stack\n"
		   "space above its top, and blocks that look like freed objects (refcount 0 and a type pointer). A\n"
		   "stale copy of a leaked address left elsewhere in freed memory hides that leak (a missed leak is\n"
		   "possible, a false one should not be), so an empty report is not proof of no leak.\n\n"
		   "The heap line counts the objects reachable from the roots, the GC garbage (`cycles`), what the\n"
		   "leaks keep, and the remainder.\n\n"
		   "Options:\n"
		   "  --limit N            show the first N objects and types (default 20, 0 for all)\n\n"
		   "Examples:\n"
		   "  coreheap anomalies core.1234\n"
		   "  coreheap anomalies core.1234 --json | jq '.leaks.by_type'\n",
	.usage = "anomalies [options] CORE",
	.extras = CH_OPT_LIMIT,
	/* Everything but the stored tree, search and memory figures, which it
	 * never reads: their sections go unverified (a third of the index);
	 * nor the cycle groups, which it does not report. What it reads whole
	 * (the references, sizes, refcounts, types, the GC replay and the
	 * scan counts) is verified at the load on two threads, the rest (the
	 * addresses and address table, generations, flags, interpreters: the
	 * roots' and the listed objects') block by block as read. */
	.index_needs = (CH_NEED_ALL & ~(CH_NEED_DOMS | CH_NEED_PATHS | CH_NEED_MEM | CH_NEED_CYCLES)) | CH_NEED_LAZY,
	.index_eager = CH_NEED_SIZES | CH_NEED_TYPE | CH_NEED_OFFSETS | CH_NEED_TARGETS | CH_NEED_LABELS | CH_NEED_REPLAY |
		       CH_NEED_SCAN,
	.run = run_anomalies,
};
