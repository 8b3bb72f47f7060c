#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "graph/analysis.h"
#include "graph/paths.h"
#include "graph/roots.h"
#include "report.h"

#define LABEL_MAX 200

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

/* Hop 0's text is its root's label, every other hop's its edge's. */
static void hop_label(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_path *p, size_t i,
		      char *buf, size_t n)
{
	if (i == 0)
		ch_root_label_text(roots, a, p->root, buf, n);
	else
		ch_path_hop_label(&a->edges, &a->heap, &p->hops[i], buf, n);
}

/* The path on one line, as Python would spell the lookups: a dict key
 * follows its dict's hop directly ("sys.modules['app'] .__dict__['CACHE']
 * [17] .session .request"). */
char *ch_report_path_chain_text(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_path *p)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap), label[LABEL_MAX];
	if (!buf)
		return NULL;
	buf[0] = 0;
	for (size_t i = 0; i < p->nhops; i++) {
		hop_label(a, roots, p, i, label, sizeof(label));
		size_t l = strlen(label);
		/* a dict key of any type reads as a subscript of its dict */
		bool glue = i && p->hops[i].edge != CH_PATH_NO_EDGE && !p->hops[i].attr &&
			    ch_label_kind(a->edges.labels[p->hops[i].edge]) == CH_REF_DICT_VALUE;
		if (len + l + 2 > cap) {
			cap = 2 * (len + l + 2);
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		if (i && !glue)
			buf[len++] = ' ';
		memcpy(buf + len, label, l + 1);
		len += l;
	}
	return buf;
}


/* Why no root reaches it, from the GC replay's verdict and the exactness
 * verdict (one verdict per object: an object the replay keeps only
 * because an inexact object's conservative word points at it is said so). */
static const char *unreached_reason(const struct ch_analysis *a, uint32_t target, char *buf, size_t n)
{
	uint8_t st = a->replay.state[target];
	if (st == CH_REPLAY_UNREACHABLE)
		return "unreachable: the next full collection would free it (see `coreheap cycles`)";
	if (st == CH_REPLAY_FREED_WITH)
		return "freed with the unreachable garbage: only garbage holds it (see `coreheap cycles`)";
	uint32_t h = ch_exactness_conservative_holder(&a->edges.exactness, &a->edges, target);
	if (h != UINT32_MAX) {
		snprintf(n ? buf : NULL, n,
			 "not exact: held by 0x%" PRIx64 " (%s), whose references were read conservatively, so whether "
			 "a root reaches it is unknown",
			 a->heap.objects.addr[h], ch_py_type_name(&a->heap.py->types, a->heap.objects.type[h]));
		return buf;
	}
	if (!ch_exactness_exact(&a->edges.exactness))
		return "held only by objects that no root reaches, as far as known: the references of some objects were "
		       "read conservatively (see conservative_types)";
	return "held only by objects that no root reaches (a leak, or a cycle the collector does not track)";
}

/* No path, yet whether a root reaches it is unknown: the heap is not exact
 * and the GC replay does not count the object as garbage. */
static bool reach_unknown(const struct ch_analysis *a, uint32_t target)
{
	uint8_t st = a->replay.state[target];
	return !ch_exactness_exact(&a->edges.exactness) && st != CH_REPLAY_UNREACHABLE && st != CH_REPLAY_FREED_WITH;
}

json_t *ch_report_path_json(const struct ch_python *py, const struct ch_analysis *a, const struct ch_roots *roots,
			    uint32_t target, const struct ch_path_set *set)
{
	const struct ch_object_table *o = &a->heap.objects;
	char why[512];
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_t *t = json_object();
	json_object_set_new(t, "address", hex(o->addr[target]));
	json_object_set_new(t, "type", ch_json_text(ch_py_type_name(&py->types, o->type[target])));
	json_object_set_new(t, "size", json_integer((json_int_t)ch_objects_size(o, target)));
	json_object_set_new(t, "refcount", json_integer((json_int_t)ch_objects_refcnt(o, target)));
	json_object_set_new(doc, "target", t);
	/* null: no path found, but the heap is not exact (see "exact") */
	json_object_set_new(doc, "reachable", set->n || !reach_unknown(a, target) ? json_boolean(set->n > 0) : json_null());
	if (!set->n)
		json_object_set_new(doc, "reason", ch_json_text(unreached_reason(a, target, why, sizeof(why))));
	json_t *paths = json_array();
	for (size_t k = 0; k < set->n; k++) {
		const struct ch_path *p = &set->paths[k];
		char label[LABEL_MAX];
		json_t *x = json_object(), *root = json_object(), *hops = json_array();
		ch_root_label_text(roots, a, p->root, label, sizeof(label));
		json_object_set_new(root, "kind", ch_json_text(ch_root_kind_name(roots->items[p->root].kind)));
		json_object_set_new(root, "label", ch_json_text(label));
		json_object_set_new(x, "root", root);
		for (size_t i = 0; i < p->nhops; i++) {
			uint32_t ob = p->hops[i].object;
			json_t *h = json_object();
			hop_label(a, roots, p, i, label, sizeof(label));
			json_object_set_new(h, "label", ch_json_text(label));
			json_object_set_new(h, "address", hex(o->addr[ob]));
			json_object_set_new(h, "type", ch_json_text(ch_py_type_name(&py->types, o->type[ob])));
			json_array_append_new(hops, h);
		}
		json_object_set_new(x, "hops", hops);
		char *chain = ch_report_path_chain_text(a, roots, p);
		json_object_set_new(x, "chain", chain ? ch_json_text(chain) : json_null());
		free(chain);
		json_array_append_new(paths, x);
	}
	json_object_set_new(doc, "paths", paths);
	return doc;
}

void ch_report_path_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a,
			 const struct ch_roots *roots, uint32_t target, const struct ch_path_set *set)
{
	const struct ch_object_table *o = &a->heap.objects;
	char why[512];
	fprintf(out, "object 0x%" PRIx64 " type %s size %" PRIu64 " refcount %" PRId64 "\n", o->addr[target],
		ch_py_type_name(&py->types, o->type[target]), ch_objects_size(o, target), ch_objects_refcnt(o, target));
	if (!set->n) {
		fprintf(out, "%s: %s\n", reach_unknown(a, target) ? "no path from a root found" : "no root reaches it",
			unreached_reason(a, target, why, sizeof(why)));
		return;
	}
	for (size_t k = 0; k < set->n; k++) {
		const struct ch_path *p = &set->paths[k];
		char label[LABEL_MAX];
		size_t w = 0;
		for (size_t i = 0; i < p->nhops; i++) {
			hop_label(a, roots, p, i, label, sizeof(label));
			size_t l = strlen(label) + (i ? 2 : 0);
			w = l > w ? l : w;
		}
		fprintf(out, "%spath %zu (%zu reference%s from a %s root):\n", k ? "\n" : "", k + 1, p->nhops - 1,
			p->nhops == 2 ? "" : "s", ch_root_kind_name(roots->items[p->root].kind));
		char *chain = ch_report_path_chain_text(a, roots, p);
		if (chain)
			fprintf(out, "  %s\n", chain);
		free(chain);
		for (size_t i = 0; i < p->nhops; i++) {
			uint32_t ob = p->hops[i].object;
			hop_label(a, roots, p, i, label, sizeof(label));
			fprintf(out, "  %s%-*s  %s 0x%" PRIx64 "\n", i ? "  " : "", (int)(w - (i ? 2 : 0)), label,
				ch_py_type_name(&py->types, o->type[ob]), o->addr[ob]);
		}
	}
}
