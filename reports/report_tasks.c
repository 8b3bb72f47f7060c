#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "graph/analysis.h"
#include "graph/roots.h"
#include "graph/tasks.h"
#include "report.h"

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

static json_t *hex_or_null(uint64_t v)
{
	return v ? hex(v) : json_null();
}

static uint64_t addr_of(const struct ch_analysis *a, const struct ch_tasks *t, uint32_t i)
{
	return a->heap.objects.addr[t->v[i].object];
}

static const char *type_of(const struct ch_python *py, const struct ch_analysis *a, uint32_t obj)
{
	return ch_py_type_name(&py->types, a->heap.objects.type[obj]);
}

static const char *file_of(const struct ch_tasks *t, const struct ch_task_frame *f)
{
	return f->code == UINT32_MAX ? "?" : t->codes[f->code].file;
}

static json_t *links_json(const struct ch_analysis *a, const struct ch_tasks *t, size_t first, size_t n)
{
	json_t *arr = json_array();
	for (size_t k = 0; k < n; k++)
		json_array_append_new(arr, hex(addr_of(a, t, t->links[first + k])));
	return arr;
}

static json_t *task_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_tasks *t, size_t i)
{
	const struct ch_task *task = &t->v[i];
	json_t *o = json_object();
	json_object_set_new(o, "address", hex(addr_of(a, t, (uint32_t)i)));
	json_object_set_new(o, "type", ch_json_text(type_of(py, a, task->object)));
	json_object_set_new(o, "kind", ch_json_text(ch_aio_is_task(task->f.kind) ? "task" : "future"));
	bool c = task->f.kind == CH_AIO_C_TASK || task->f.kind == CH_AIO_C_FUTURE;
	json_object_set_new(o, "implementation", ch_json_text(c ? "c" : "python"));
	if (!task->readable) {
		json_object_set_new(o, "readable", json_false());
		return o;
	}
	json_object_set_new(o, "name", ch_aio_is_task(task->f.kind) ? ch_json_text(task->f.name_text) : json_null());
	json_object_set_new(o, "state", ch_json_text(ch_task_state_name(task->f.state)));
	json_t *co = json_array();
	for (size_t k = 0; k < task->nframes; k++) {
		const struct ch_task_frame *f = &t->frames[task->frames_first + k];
		json_t *fr = json_object();
		json_object_set_new(fr, "qualname", ch_json_text(f->qualname));
		json_object_set_new(fr, "file", ch_json_text(file_of(t, f)));
		json_object_set_new(fr, "line", f->line >= 0 ? json_integer(f->line) : json_null());
		json_array_append_new(co, fr);
	}
	json_object_set_new(o, "coroutine", co);
	json_object_set_new(o, "awaits", hex_or_null(task->f.waiter));
	json_object_set_new(o, "awaits_tasks", links_json(a, t, task->awaits_first, task->nawaits));
	json_object_set_new(o, "awaited_by", links_json(a, t, task->by_first, task->nby));
	if (task->f.exception) {
		json_t *e = json_object();
		json_object_set_new(e, "type", ch_json_text(task->exc_type));
		json_object_set_new(e, "message", ch_json_text(task->exc_msg));
		json_object_set_new(e, "retrieved", task->f.log_tb < 0 ? json_null() : json_boolean(!task->f.log_tb));
		json_object_set_new(o, "exception", e);
	} else {
		json_object_set_new(o, "exception", json_null());
	}
	json_object_set_new(o, "retained_bytes", task->reachable ? json_integer((json_int_t)task->retained) : json_null());
	json_object_set_new(o, "reachable", json_boolean(task->reachable));
	json_object_set_new(o, "registry", task->registry ? ch_json_text(task->registry) : json_null());
	json_object_set_new(o, "loop", hex_or_null(task->f.loop));
	json_object_set_new(o, "thread", task->thread >= 0 ? json_integer((json_int_t)task->thread) : json_null());
	return o;
}

static const char *name_of(const struct ch_tasks *t, uint32_t i)
{
	return t->v[i].f.name_text[0] ? t->v[i].f.name_text : "?";
}

/* The finding in plain words (malloc'd). */
static char *finding_text(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *roots,
			  const struct ch_tasks *t, const struct ch_task_finding *f)
{
	const struct ch_task *task = &t->v[f->task];
	char *buf = NULL, *chain = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	uint64_t addr = addr_of(a, t, f->task);
	switch (f->kind) {
	case CH_TASK_DONE_REFERENCED:
		fprintf(m, "%s task '%s' (0x%" PRIx64 ") is still referenced", task->f.state == CH_FUT_CANCELLED ? "cancelled" : "done",
			name_of(t, f->task), addr);
		if (f->path.n && (chain = ch_report_path_chain_text(a, roots, &f->path.paths[0])))
			fprintf(m, ", by %s", chain);
		fprintf(m, "; it keeps %" PRIu64 " bytes alive%s", task->retained,
			task->f.exception ? " (its exception and traceback with them)" : "");
		break;
	case CH_TASK_UNRETRIEVED:
		fprintf(m, "task '%s' (0x%" PRIx64 ") finished with %s('%s'), which was never retrieved (asyncio logs "
			"\"Task exception was never retrieved\" when the task is freed)",
			name_of(t, f->task), addr, task->exc_type, task->exc_msg);
		break;
	case CH_TASK_NEVER_COMPLETES:
		fprintf(m, "pending task '%s' (0x%" PRIx64 ") awaits %s 0x%" PRIx64
			", which nothing outside the task references: it can never complete",
			name_of(t, f->task), addr, type_of(py, a, f->future), a->heap.objects.addr[f->future]);
		if (!task->reachable)
			fprintf(m, "; no root reaches the task either (asyncio's registry holds it only weakly): the next "
				   "garbage collection destroys it while pending");
		break;
	case CH_TASK_AWAIT_CYCLE:
		fprintf(m, "await cycle: ");
		for (size_t k = 0; k < f->ncycle; k++) {
			uint32_t i = t->links[f->cycle_first + k];
			fprintf(m, "'%s' (0x%" PRIx64 ") awaits ", name_of(t, i), addr_of(a, t, i));
		}
		fprintf(m, "'%s': none of them can complete", name_of(t, f->task));
		break;
	}
	free(chain);
	fclose(m);
	return buf;
}

static json_t *finding_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *roots,
			    const struct ch_tasks *t, const struct ch_task_finding *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "kind", ch_json_text(ch_task_finding_name(f->kind)));
	json_object_set_new(o, "task", hex(addr_of(a, t, f->task)));
	json_object_set_new(o, "name", ch_json_text(name_of(t, f->task)));
	char *text = finding_text(py, a, roots, t, f);
	json_object_set_new(o, "message", text ? ch_json_text(text) : json_null());
	free(text);
	char *chain = f->path.n ? ch_report_path_chain_text(a, roots, &f->path.paths[0]) : NULL;
	json_object_set_new(o, "path", chain ? ch_json_text(chain) : json_null());
	free(chain);
	json_object_set_new(o, "future", f->future != CH_NO_OBJECT ? hex(a->heap.objects.addr[f->future]) : json_null());
	json_object_set_new(o, "cycle", links_json(a, t, f->cycle_first, f->ncycle));
	return o;
}

json_t *ch_report_tasks_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *roots,
			     const struct ch_tasks *t, size_t limit)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *counts = json_object();
	json_object_set_new(counts, "tasks", json_integer((json_int_t)t->ntasks));
	json_object_set_new(counts, "futures", json_integer((json_int_t)t->nfutures));
	json_object_set_new(counts, "pending", json_integer((json_int_t)t->npending));
	json_object_set_new(counts, "done", json_integer((json_int_t)t->ndone));
	json_object_set_new(counts, "cancelled", json_integer((json_int_t)t->ncancelled));
	json_object_set_new(counts, "registered", json_integer((json_int_t)t->nregistered));
	json_object_set_new(counts, "unreadable", json_integer((json_int_t)t->nunreadable));
	json_object_set_new(doc, "counts", counts);
	/* 3.14+: _asyncio's exported debug offsets checked against the layout */
	json_t *dbg = json_null();
	if (t->aio && t->aio->debug_checked) {
		dbg = json_object();
		json_object_set_new(dbg, "checked", json_integer((json_int_t)t->aio->debug_checked));
		json_object_set_new(dbg, "mismatches", json_integer((json_int_t)t->aio->debug_mismatches));
	}
	json_object_set_new(doc, "asyncio_debug_offsets", dbg);
	json_t *arr = json_array();
	for (size_t i = 0; i < t->n && (!limit || i < limit); i++)
		json_array_append_new(arr, task_json(py, a, t, i));
	json_object_set_new(doc, "tasks", arr);
	json_t *fs = json_array();
	for (size_t i = 0; i < t->nfindings; i++)
		json_array_append_new(fs, finding_json(py, a, roots, t, &t->findings[i]));
	json_object_set_new(doc, "findings", fs);
	return doc;
}

static void task_line(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_tasks *t,
		      size_t i, const char *indent)
{
	const struct ch_task *task = &t->v[i];
	bool is_task = ch_aio_is_task(task->f.kind);
	fprintf(out, "%s%s 0x%" PRIx64 " %s", indent, is_task ? "Task" : "Future", addr_of(a, t, (uint32_t)i),
		type_of(py, a, task->object));
	if (!task->readable) {
		fprintf(out, "  (unreadable)\n");
		return;
	}
	if (is_task)
		fprintf(out, " '%s'", task->f.name_text);
	fprintf(out, "  %s", ch_task_state_name(task->f.state));
	if (task->thread >= 0)
		fprintf(out, "  thread %" PRId64, task->thread);
	if (task->reachable) {
		char hb[32];
		ch_report_human_bytes(task->retained, hb, sizeof(hb));
		fprintf(out, "  retains %s", hb);
	}
	else
		fprintf(out, "  (no root reaches it)");
	if (task->f.exception)
		fprintf(out, "  exception %s('%s')%s", task->exc_type, task->exc_msg,
			task->f.log_tb == 1 ? " never retrieved" : task->f.log_tb == 0 ? " retrieved" : "");
	fputc('\n', out);
}

static void frames_text(FILE *out, const struct ch_tasks *t, const struct ch_task *task, const char *indent)
{
	for (size_t k = 0; k < task->nframes; k++) {
		const struct ch_task_frame *f = &t->frames[task->frames_first + k];
		fprintf(out, "%s    %s  %s:%d\n", indent, f->qualname, file_of(t, f), (int)f->line);
	}
}

static void flat_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_tasks *t,
		      size_t limit)
{
	for (size_t i = 0; i < t->n; i++) {
		if (limit && i == limit) {
			fprintf(out, "... %zu more (--limit 0 shows all)\n", t->n - i);
			break;
		}
		const struct ch_task *task = &t->v[i];
		task_line(out, py, a, t, i, "");
		frames_text(out, t, task, "");
		if (task->f.waiter)
			fprintf(out, "    awaits 0x%" PRIx64 "\n", task->f.waiter);
		for (size_t k = 0; k < task->nby; k++)
			fprintf(out, "    awaited by 0x%" PRIx64 "\n", addr_of(a, t, t->links[task->by_first + k]));
	}
}

/* The await tree: each task not awaited by another is a root; below a task
 * the tasks it awaits. Depth first with an explicit stack; a task already
 * printed is named again but not expanded (await cycles, shared children). */
static void tree_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, const struct ch_tasks *t)
{
	uint8_t *seen = calloc(t->n ? t->n : 1, 1);
	struct item {
		uint32_t task;
		uint32_t depth;
	} *stack = malloc((t->nlinks + t->n + 1) * sizeof(*stack));
	if (!seen || !stack) {
		free(seen);
		free(stack);
		fprintf(out, "(out of memory)\n");
		return;
	}
	char indent[256];
	for (int pass = 0; pass < 2; pass++) {
		for (size_t r = 0; r < t->n; r++) {
			/* pass 0: tasks nobody awaits; pass 1: what is left (rings of tasks awaiting each other) */
			if (!ch_aio_is_task(t->v[r].f.kind) || seen[r] || (pass == 0 && t->v[r].nby))
				continue;
			size_t sp = 0;
			stack[sp++] = (struct item){(uint32_t)r, 0};
			while (sp) {
				struct item it = stack[--sp];
				size_t d = it.depth < 60 ? it.depth : 60;
				memset(indent, ' ', 4 * d);
				indent[4 * d] = 0;
				if (seen[it.task]) {
					fprintf(out, "%s└── '%s' 0x%" PRIx64 " (shown above: await cycle or shared)\n", indent,
						name_of(t, it.task), addr_of(a, t, it.task));
					continue;
				}
				seen[it.task] = 1;
				const struct ch_task *task = &t->v[it.task];
				task_line(out, py, a, t, it.task, it.depth ? indent : "");
				frames_text(out, t, task, indent);
				for (size_t k = task->nawaits; k-- > 0;)
					stack[sp++] = (struct item){t->links[task->awaits_first + k], it.depth + 1};
			}
		}
	}
	free(seen);
	free(stack);
}

void ch_report_tasks_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a,
			  const struct ch_roots *roots, const struct ch_tasks *t, bool tree, size_t limit)
{
	fprintf(out, "%zu tasks (%zu pending, %zu done, %zu cancelled; %zu in asyncio's registry)", t->ntasks,
		t->npending, t->ndone, t->ncancelled, t->nregistered);
	if (t->nfutures)
		fprintf(out, ", %zu futures", t->nfutures);
	if (t->nunreadable)
		fprintf(out, ", %zu unreadable", t->nunreadable);
	fprintf(out, "\n\n");
	if (!t->n)
		fprintf(out, "(none on the heap)\n");
	else if (tree)
		tree_text(out, py, a, t);
	else
		flat_text(out, py, a, t, limit);
	fprintf(out, "\nFindings:%s\n", t->nfindings ? "" : " none");
	for (size_t i = 0; i < t->nfindings; i++) {
		char *text = finding_text(py, a, roots, t, &t->findings[i]);
		fprintf(out, "  - %s\n", text ? text : "(out of memory)");
		free(text);
	}
}
