/* diff's memory comparison (graph/diff.h, ch_diff.memory): the breakdown
 * rows and the other memory figures of both sides with their deltas. */
#include <inttypes.h>
#include <string.h>

#include "graph/diff.h"
#include "report.h"
#include "report_table.h"

#define BREAKDOWN "breakdown."

static const char *why_unavailable(const struct ch_diff *d)
{
	bool a = d->a->memory.present, b = d->b->memory.present;
	return !a && !b ? "neither side has memory figures (snapshots written before coreheap recorded them)"
	       : !a     ? "A has no memory figures (a snapshot written before coreheap recorded them)"
			: "B has no memory figures (a snapshot written before coreheap recorded them)";
}

static json_t *side_value(bool has, uint64_t v)
{
	return has ? json_integer((json_int_t)v) : json_null();
}

json_t *ch_report_diff_memory_json(const struct ch_diff *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "available", json_boolean(d->memory_known));
	if (!d->memory_known) {
		json_object_set_new(o, "why", ch_json_text(why_unavailable(d)));
		return o;
	}
	json_object_set_new(o, "a_partial", json_boolean(d->a->memory.partial));
	json_object_set_new(o, "b_partial", json_boolean(d->b->memory.partial));
	json_t *rows = json_array(), *figs = json_array();
	for (size_t i = 0; i < d->nmemory; i++) {
		const struct ch_diff_memory_row *r = &d->memory[i];
		bool row = strncmp(r->name, BREAKDOWN, strlen(BREAKDOWN)) == 0;
		json_t *x = json_object();
		json_object_set_new(x, row ? "category" : "figure", ch_json_text(row ? r->name + strlen(BREAKDOWN) : r->name));
		json_object_set_new(x, "a", side_value(r->has_a, r->a));
		json_object_set_new(x, "b", side_value(r->has_b, r->b));
		json_object_set_new(x, "delta", r->has_a && r->has_b ? json_integer(r->delta) : json_null());
		json_array_append_new(row ? rows : figs, x);
	}
	json_object_set_new(o, "breakdown", rows);
	json_object_set_new(o, "figures", figs);
	return o;
}

static void value_cell(struct ch_table *t, bool has, uint64_t v, bool bytes)
{
	if (!has)
		ch_table_cell(t, "unknown");
	else if (bytes)
		ch_table_bytes(t, v);
	else
		ch_table_count(t, v);
}

/* Counts rather than bytes: their figure names say so (breakdown rows are all bytes). */
static bool is_count(const char *name)
{
	if (strncmp(name, BREAKDOWN, strlen(BREAKDOWN)) == 0)
		return false;
	static const char *const counts[] = {"chunks", "arenas", "blocks_in_use", "ordblks", "smblks", "hblks"};
	const char *leaf = strrchr(name, '.');
	leaf = leaf ? leaf + 1 : name;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t n = strlen(counts[i]), l = strlen(leaf);
		if (l >= n && strcmp(leaf + l - n, counts[i]) == 0)
			return true;
	}
	return false;
}

void ch_report_diff_memory_text(FILE *out, const struct ch_diff *d)
{
	if (!d->memory_known) {
		fprintf(out, "memory:      comparison unavailable: %s\n", why_unavailable(d));
		return;
	}
	size_t changed = 0;
	for (size_t i = 0; i < d->nmemory; i++)
		changed += d->memory[i].delta || d->memory[i].has_a != d->memory[i].has_b;
	if (!changed) {
		fprintf(out, "memory:      unchanged\n");
		return;
	}
	fprintf(out, "memory (figures that changed%s):\n",
		d->a->memory.partial || d->b->memory.partial ? "; PARTIAL on one side" : "");
	static const char *const head[] = {"FIGURE", "A", "B", "B - A"};
	struct ch_table t;
	ch_table_init(&t, 4, head, "lrrr", CH_FLEX(0), "  ");
	for (size_t i = 0; i < d->nmemory; i++) {
		const struct ch_diff_memory_row *r = &d->memory[i];
		if (!r->delta && r->has_a == r->has_b)
			continue;
		bool bytes = !is_count(r->name);
		char safe[2 * CH_MEMD_NAME];
		ch_table_cell(&t, "%s", ch_text_safe(r->name, safe, sizeof(safe)));
		value_cell(&t, r->has_a, r->a, bytes);
		value_cell(&t, r->has_b, r->b, bytes);
		if (!(r->has_a && r->has_b))
			ch_table_cell(&t, "-");
		else if (bytes)
			ch_table_bytes_delta(&t, r->delta);
		else
			ch_table_delta(&t, r->delta);
	}
	ch_table_print(out, &t);
}
