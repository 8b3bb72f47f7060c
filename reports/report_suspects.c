#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "graph/analysis.h"
#include "graph/dominators.h"
#include "graph/findings.h"
#include "graph/paths.h"
#include "graph/roots.h"
#include "graph/suspects.h"
#include "report.h"

#define TEXT_MAX 1024

static void cat(char *buf, size_t n, const char *text)
{
	size_t l = strlen(buf);
	if (l + 1 < n)
		snprintf(buf + l, n - l, "%s", text);
}

static void path_text(const struct ch_report_suspects *r, const struct ch_path *p, char *buf, size_t n)
{
	ch_suspect_path_text(r->a, r->roots, p, buf, n);
}

static const char *tname(const struct ch_python *py, uint32_t type)
{
	return type == UINT32_MAX ? NULL : ch_py_type_name(&py->types, type);
}

static uint64_t addr(const struct ch_report_suspects *r, uint32_t o)
{
	return r->a->heap.objects.addr[o];
}

/* The share of the heap, or of what share_of names (memory suspects). */
static double share_of(const struct ch_report_suspects *r, const struct ch_suspect *x)
{
	uint64_t of = x->share_of ? x->share_of : r->s->heap_bytes;
	return of ? (double)x->bytes / (double)of : 0;
}

/* "80.0 MiB (41.2 %)" */
static void size_share(const struct ch_report_suspects *r, uint64_t bytes, char *buf, size_t n)
{
	char hb[32];
	ch_report_human_bytes(bytes, hb, sizeof(hb));
	double share = r->s->heap_bytes ? 100.0 * (double)bytes / (double)r->s->heap_bytes : 0;
	snprintf(buf, n, "%s (%.1f %%)", hb, share);
}

/* Where the suspect lives: its path, or its type and address when no root reaches it. */
static void where(const struct ch_python *py, const struct ch_report_suspects *r, const struct ch_suspect *x,
		  char *buf, size_t n)
{
	path_text(r, &x->path, buf, n);
	if (!buf[0] && x->object != CH_NO_OBJECT)
		snprintf(buf, n, "%s at 0x%" PRIx64, ch_py_type_name(&py->types, r->a->heap.objects.type[x->object]),
			 addr(r, x->object));
}

static void title(const struct ch_python *py, const struct ch_report_suspects *r, const struct ch_suspect *x,
		  char *buf, size_t n)
{
	char w[TEXT_MAX / 2], ss[64], cnt[32];
	ch_report_count(x->count, cnt, sizeof(cnt));
	size_share(r, x->bytes, ss, sizeof(ss));
	switch (x->kind) {
	case CH_SUSPECT_ACCUMULATION: {
		where(py, r, x, w, sizeof(w));
		const char *ct = ch_py_type_name(&py->types, r->a->heap.objects.type[x->object]);
		if (strcmp(x->via, "[*]"))
			snprintf(buf, n, "%s (%s) holds %s x %s via %s, retaining %s", w, ct, cnt, tname(py, x->type), x->via, ss);
		else
			snprintf(buf, n, "%s (%s) holds %s %s, retaining %s", w, ct, cnt, tname(py, x->type), ss);
		break;
	}
	case CH_SUSPECT_RETAINER:
		where(py, r, x, w, sizeof(w));
		if (x->local[0])
			snprintf(buf, n, "%s (%s, local '%s' of a suspended frame) retains %s", w, tname(py, x->type), x->local, ss);
		else
			snprintf(buf, n, "%s (%s) retains %s", w, tname(py, x->type), ss);
		break;
	case CH_SUSPECT_CYCLE: {
		const struct ch_cycle_group *g = &r->a->cycles.groups[x->index];
		char types[256] = "";
		for (size_t t = 0; t < g->ntypes && t < 4; t++) {
			cat(types, sizeof(types), t ? ", " : "");
			cat(types, sizeof(types), ch_py_type_name(&py->types, g->types[t].type));
		}
		snprintf(buf, n, "%s garbage cycle%s of %s%s keep %s alive until a collection runs", cnt,
			 x->count == 1 ? "" : "s", types, g->ntypes > 4 ? ", ..." : "", ss);
		break;
	}
	case CH_SUSPECT_TRACEBACK:
		where(py, r, x, w, sizeof(w));
		snprintf(buf, n, "%s stored %s with traceback%s retain%s %s%s%s%s at %s", cnt, tname(py, x->type),
			 x->count == 1 ? "" : "s", x->count == 1 ? "s" : "", ss, x->local[0] ? "; their frames keep local '" : "",
			 x->local, x->local[0] ? "'" : "", w);
		break;
	case CH_SUSPECT_GC:
		snprintf(buf, n, "%s", r->f->v[x->index].text);
		break;
	case CH_SUSPECT_TASKS:
	case CH_SUSPECT_MEMORY:
		snprintf(buf, n, "%s", x->title);
		break;
	}
}

static void evidence(const struct ch_python *py, const struct ch_report_suspects *r, const struct ch_suspect *x,
		     char *buf, size_t n)
{
	const struct ch_dominators *d = r->d;
	char a1[32], a2[32], b1[32], b2[32];
	buf[0] = 0;
	switch (x->kind) {
	case CH_SUSPECT_ACCUMULATION:
	case CH_SUSPECT_RETAINER:
	case CH_SUSPECT_TRACEBACK: {
		uint32_t o = x->kind == CH_SUSPECT_TRACEBACK ? x->sample : x->object;
		ch_report_count(d->retained_count[o], a1, sizeof(a1));
		ch_report_count(x->bytes, b1, sizeof(b1));
		snprintf(buf, n, "%s bytes retained; %s objects freed with %s 0x%" PRIx64 " alone", b1, a1,
			 ch_py_type_name(&py->types, r->a->heap.objects.type[o]), addr(r, o));
		if (x->local_object != CH_NO_OBJECT) {
			char more[256];
			ch_report_count(d->retained[x->local_object], b2, sizeof(b2));
			snprintf(more, sizeof(more), "; local '%s' is %s 0x%" PRIx64 " retaining %s bytes", x->local,
				 ch_py_type_name(&py->types, r->a->heap.objects.type[x->local_object]),
				 addr(r, x->local_object), b2);
			cat(buf, n, more);
		}
		break;
	}
	case CH_SUSPECT_CYCLE: {
		const struct ch_cycle_group *g = &r->a->cycles.groups[x->index];
		ch_report_count(g->objects, a1, sizeof(a1));
		ch_report_count(g->bytes, b1, sizeof(b1));
		ch_report_count(g->held_objects, a2, sizeof(a2));
		ch_report_count(g->held_bytes, b2, sizeof(b2));
		snprintf(buf, n, "%s objects (%s bytes) on the cycles, %s more garbage objects (%s bytes) hanging off them", a1,
			 b1, a2, b2);
		break;
	}
	case CH_SUSPECT_GC:
		snprintf(buf, n, "collector state (%s)", r->f->v[x->index].code);
		break;
	case CH_SUSPECT_TASKS:
	case CH_SUSPECT_MEMORY:
		snprintf(buf, n, "%s", x->evidence);
		break;
	}
}

static void next_command(const struct ch_report_suspects *r, const struct ch_suspect *x, char *buf, size_t n)
{
	switch (x->kind) {
	case CH_SUSPECT_ACCUMULATION:
	case CH_SUSPECT_RETAINER:
		snprintf(buf, n, "coreheap path %s 0x%" PRIx64, r->core, addr(r, x->object));
		break;
	case CH_SUSPECT_TRACEBACK:
		snprintf(buf, n, "coreheap show %s 0x%" PRIx64, r->core, addr(r, x->sample));
		break;
	case CH_SUSPECT_CYCLE:
		if (x->sample != CH_NO_OBJECT)
			snprintf(buf, n, "coreheap referents %s 0x%" PRIx64, r->core, addr(r, x->sample));
		else
			snprintf(buf, n, "coreheap cycles %s", r->core);
		break;
	case CH_SUSPECT_GC:
		snprintf(buf, n, "coreheap cycles %s", r->core);
		break;
	case CH_SUSPECT_TASKS:
		snprintf(buf, n, "coreheap tasks %s", r->core);
		break;
	case CH_SUSPECT_MEMORY:
		snprintf(buf, n, "coreheap memory %s", r->core);
		break;
	}
}

json_t *ch_report_suspects_array(const struct ch_python *py, const struct ch_report_suspects *r)
{
	json_t *arr = json_array();
	char text[TEXT_MAX];
	for (size_t i = 0; i < r->s->n && (!r->limit || i < r->limit); i++) {
		const struct ch_suspect *x = &r->s->v[i];
		json_t *o = json_object();
		json_object_set_new(o, "kind", ch_json_text(ch_suspect_kind_name(x->kind)));
		title(py, r, x, text, sizeof(text));
		json_object_set_new(o, "title", ch_json_text(text));
		json_object_set_new(o, "bytes", json_integer((json_int_t)x->bytes));
		json_object_set_new(o, "share", json_real(share_of(r, x)));
		json_object_set_new(o, "count", json_integer((json_int_t)x->count));
		json_object_set_new(o, "type", tname(py, x->type) ? ch_json_text(tname(py, x->type)) : json_null());
		path_text(r, &x->path, text, sizeof(text));
		json_object_set_new(o, "path", text[0] ? ch_json_text(text) : json_null());
		next_command(r, x, text, sizeof(text));
		json_object_set_new(o, "next", ch_json_text(text));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *ch_report_suspects_json(const struct ch_python *py, const struct ch_report_suspects *r)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "heap_bytes", json_integer((json_int_t)r->s->heap_bytes));
	json_object_set_new(doc, "suspects", ch_report_suspects_array(py, r));
	json_object_set_new(doc, "suspects_total", json_integer((json_int_t)r->s->n));
	return doc;
}

void ch_report_suspects_text(FILE *out, const struct ch_python *py, const struct ch_report_suspects *r)
{
	char text[TEXT_MAX];
	if (!r->s->n) {
		fprintf(out, "no suspects: no container, retainer, stored traceback, garbage cycle, asyncio task leak or "
			     "unexplained memory passes the thresholds\n");
		return;
	}
	size_t shown = 0;
	for (size_t i = 0; i < r->s->n && (!r->limit || i < r->limit); i++, shown++) {
		const struct ch_suspect *x = &r->s->v[i];
		title(py, r, x, text, sizeof(text));
		fprintf(out, "%zu. [%s] %s\n", i + 1, ch_suspect_kind_name(x->kind), text);
		evidence(py, r, x, text, sizeof(text));
		fprintf(out, "   evidence: %s\n", text);
		path_text(r, &x->path, text, sizeof(text));
		if (text[0])
			fprintf(out, "   path: %s\n", text);
		next_command(r, x, text, sizeof(text));
		fprintf(out, "   next: %s\n", text);
	}
	if (shown < r->s->n)
		fprintf(out, "... %zu more (--limit 0 shows all)\n", r->s->n - shown);
}

void ch_report_suspects_titles(FILE *out, const struct ch_python *py, const struct ch_report_suspects *r)
{
	char text[TEXT_MAX];
	if (!r->s->n)
		fprintf(out, "  none above the thresholds\n");
	for (size_t i = 0; i < r->s->n && (!r->limit || i < r->limit); i++) {
		title(py, r, &r->s->v[i], text, sizeof(text));
		fprintf(out, "  %zu. [%s] %s\n", i + 1, ch_suspect_kind_name(r->s->v[i].kind), text);
	}
}

void ch_report_suspects_next(FILE *out, const struct ch_report_suspects *r)
{
	char text[TEXT_MAX];
	for (size_t i = 0; i < r->s->n && (!r->limit || i < r->limit); i++) {
		next_command(r, &r->s->v[i], text, sizeof(text));
		fprintf(out, "  %s\n", text);
	}
}
