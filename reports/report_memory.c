/* `coreheap memory` as JSON and as text. Computes nothing but percentages. */
#include "reports/report_memory.h"

#include <elf.h>
#include <inttypes.h>

#include "graph/type_histogram.h"
#include "reports/report.h"
#include "reports/report_table.h"

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

static json_t *count(uint64_t chunks, uint64_t bytes)
{
	return json_pack("{s:I,s:I}", "chunks", (json_int_t)chunks, "bytes", (json_int_t)bytes);
}

static void perms(uint32_t f, char out[4])
{
	out[0] = f & PF_R ? 'r' : '-';
	out[1] = f & PF_W ? 'w' : '-';
	out[2] = f & PF_X ? 'x' : '-';
	out[3] = 0;
}

static json_t *mappings_json(const struct ch_mappings *maps)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < maps->n; i++) {
		const struct ch_mapping *r = &maps->rows[i];
		char p[4];
		perms(r->flags, p);
		json_t *o = json_object();
		json_object_set_new(o, "start", hex(r->start));
		json_object_set_new(o, "end", hex(r->end));
		json_object_set_new(o, "kind", ch_json_text(ch_mapping_kind_name(r->kind)));
		json_object_set_new(o, "perms", ch_json_text(p));
		json_object_set_new(o, "path", r->path ? ch_json_text(r->path) : json_null());
		json_object_set_new(o, "virtual", json_integer((json_int_t)(r->end - r->start)));
		json_object_set_new(o, "dumped", json_integer((json_int_t)r->dumped));
		json_object_set_new(o, "touched", json_integer((json_int_t)r->touched));
		if (r->kind == CH_MAP_STACK)
			json_object_set_new(o, "thread", json_integer(r->stack_tid));
		if (r->bss)
			json_object_set_new(o, "bss", json_true());
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *mallinfo_json(const struct ch_mallinfo2 *m)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "arena", (json_int_t)m->arena, "ordblks",
			 (json_int_t)m->ordblks, "smblks", (json_int_t)m->smblks, "hblks", (json_int_t)m->hblks, "hblkhd",
			 (json_int_t)m->hblkhd, "usmblks", (json_int_t)m->usmblks, "fsmblks", (json_int_t)m->fsmblks,
			 "uordblks", (json_int_t)m->uordblks, "fordblks", (json_int_t)m->fordblks, "keepcost",
			 (json_int_t)m->keepcost);
}

static json_t *glibc_json(const struct ch_glibc_heapstate *g)
{
	json_t *o = json_object();
	json_object_set_new(o, "found", json_boolean(g->found));
	json_object_set_new(o, "libc", *g->libc_path ? ch_json_text(g->libc_path) : json_null());
	json_object_set_new(o, "version", *g->version ? ch_json_text(g->version) : json_null());
	json_object_set_new(o, "main_arena_found_by", ch_json_text(g->arena_found_by[0] ? g->arena_found_by : "not found"));
	if (!g->found) {
		json_object_set_new(o, "why_not", ch_json_text(g->why_not));
		return o;
	}
	json_object_set_new(o, "layout_source", ch_json_text(g->layout_source));
	json_object_set_new(o, "layout_table", *g->layout_table ? ch_json_text(g->layout_table) : json_null());
	json_object_set_new(o, "debug_file", *g->debug_path ? ch_json_text(g->debug_path) : json_null());
	json_t *arenas = json_array();
	for (size_t i = 0; i < g->narenas; i++) {
		const struct ch_glibc_arena *a = &g->arenas[i];
		json_t *x = json_object();
		json_object_set_new(x, "address", hex(a->addr));
		json_object_set_new(x, "main", json_boolean(a->main));
		json_object_set_new(x, "system_mem", json_integer((json_int_t)a->system_mem));
		json_t *heaps = json_array();
		for (size_t h = 0; h < g->nheaps; h++)
			if (g->heaps[h].arena == i)
				json_array_append_new(heaps, json_pack("{s:o,s:I}", "start", hex(g->heaps[h].start), "bytes",
									(json_int_t)(g->heaps[h].end - g->heaps[h].start)));
		json_object_set_new(x, "heaps", heaps);
		json_object_set_new(x, "top", json_pack("{s:o,s:I}", "address", hex(a->top), "bytes", (json_int_t)a->top_size));
		json_t *kinds = json_object();
		for (int k = 0; k < CH_CHUNK_KINDS; k++)
			if (k != CH_CHUNK_MMAPPED)
				json_object_set_new(kinds, ch_glibc_chunk_kind_name((enum ch_glibc_chunk_kind)k),
						    count(a->chunks[k], a->bytes[k]));
		json_object_set_new(x, "chunks", kinds);
		json_object_set_new(x, "overhead", json_integer((json_int_t)a->overhead));
		json_object_set_new(x, "walk_complete", json_boolean(a->walk_complete));
		json_array_append_new(arenas, x);
	}
	json_object_set_new(o, "arenas", arenas);
	json_t *mm = count(g->mmapped_chunks, g->mmapped_bytes);
	json_object_set_new(mm, "glibc_chunks", json_integer((json_int_t)g->mp_n_mmaps));
	json_object_set_new(mm, "glibc_bytes", json_integer((json_int_t)g->mp_mmapped_mem));
	json_object_set_new(o, "mmapped", mm);
	json_object_set_new(o, "mallinfo2", mallinfo_json(&g->mallinfo2));
	json_t *tc = count(g->tcache_chunks, g->tcache_bytes);
	json_object_set_new(tc, "located", json_boolean(g->tcache_located));
	json_object_set_new(tc, "threads_read", json_integer((json_int_t)g->tcaches_found));
	json_object_set_new(o, "tcache", tc);
	json_object_set_new(o, "program_view", json_pack("{s:I,s:I}", "in_use", (json_int_t)g->program_in_use, "free",
							 (json_int_t)g->program_free));
	return o;
}

static json_t *pymalloc_json(const struct ch_pymalloc *pm)
{
	json_t *o = json_object();
	json_object_set_new(o, "found", json_boolean(pm->found));
	if (!pm->found) {
		json_object_set_new(o, "why_not", ch_json_text(pm->why_not));
		return o;
	}
	json_object_set_new(o, "arenas", json_integer((json_int_t)pm->narenas));
	json_object_set_new(o, "pools", json_integer((json_int_t)pm->pools));
	json_object_set_new(o, "blocks_in_use", json_integer((json_int_t)pm->blocks));
	json_object_set_new(o, "bytes_in_use", json_integer((json_int_t)pm->allocated_bytes));
	json_object_set_new(o, "free_bytes", json_integer((json_int_t)(pm->available_bytes + pm->unused_pool_bytes)));
	json_t *classes = json_array();
	for (int c = 0; c < CH_PYMALLOC_CLASSES; c++) {
		const struct ch_pymalloc_class *k = &pm->classes[c];
		if (k->pools)
			json_array_append_new(classes, json_pack("{s:I,s:I,s:I,s:I}", "size", (json_int_t)k->size, "pools",
								 (json_int_t)k->pools, "blocks_in_use", (json_int_t)k->blocks,
								 "free_blocks", (json_int_t)k->avail));
	}
	json_object_set_new(o, "size_classes", classes);
	json_object_set_new(o, "arena_size", json_integer((json_int_t)pm->arena_size));
	json_object_set_new(o, "pool_size", json_integer((json_int_t)pm->pool_size));
	json_object_set_new(o, "arenas_allocated_total", json_integer((json_int_t)pm->ntimes_allocated));
	json_object_set_new(o, "arenas_reclaimed", json_integer((json_int_t)(pm->ntimes_allocated - pm->narenas)));
	json_object_set_new(o, "arenas_highwater", json_integer((json_int_t)pm->highwater));
	json_object_set_new(o, "unused_pools", json_integer((json_int_t)pm->numfreepools));
	json_object_set_new(o, "pools_under_10pct_used", json_integer((json_int_t)pm->sparse_pools));
	json_object_set_new(o, "bytes_in_available_blocks", json_integer((json_int_t)pm->available_bytes));
	json_object_set_new(o, "bytes_lost_to_pool_headers", json_integer((json_int_t)pm->pool_header_bytes));
	json_object_set_new(o, "bytes_lost_to_quantization", json_integer((json_int_t)pm->quantization));
	json_object_set_new(o, "bytes_lost_to_arena_alignment", json_integer((json_int_t)pm->arena_alignment));
	json_object_set_new(o, "total", json_integer((json_int_t)pm->total));
	if (pm->have_map) {
		json_object_set_new(o, "arena_map_mid_nodes", json_integer((json_int_t)pm->map_mid));
		json_object_set_new(o, "arena_map_bot_nodes", json_integer((json_int_t)pm->map_bot));
	}
	return o;
}

static json_t *owned_json(const struct ch_memory *m, const struct ch_python *py, size_t limit)
{
	const struct ch_mem_python *p = &m->python;
	if (!p->done || !py)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "bytes", json_integer((json_int_t)p->owned_bytes));
	json_object_set_new(o, "chunks", json_integer((json_int_t)p->owned_chunks));
	json_object_set_new(o, "inferred", json_true());
	json_t *types = json_array();
	for (size_t i = 0; i < p->nowned_types; i++) {
		const struct ch_mem_owned_type *t = &p->owned_types[i];
		json_array_append_new(types, json_pack("{s:s,s:I,s:I,s:I}", "type", ch_py_type_name(&py->types, t->type),
						       "objects", (json_int_t)t->objects, "chunks", (json_int_t)t->chunks,
						       "bytes", (json_int_t)t->bytes));
	}
	json_object_set_new(o, "by_type", types);
	json_t *list = json_array();
	for (size_t i = 0; i < p->nowned && (!limit || i < limit); i++)
		json_array_append_new(list, json_pack("{s:o,s:I,s:o,s:s}", "address", hex(p->owned[i].user), "bytes",
						      (json_int_t)p->owned[i].bytes, "object", hex(p->owned[i].object),
						      "type", ch_py_type_name(&py->types, p->owned[i].type)));
	json_object_set_new(o, "list", list);
	return o;
}

static json_t *python_json(const struct ch_memory *m)
{
	const struct ch_mem_python *p = &m->python;
	if (!p->done)
		return json_null();
	json_t *o = json_pack("{s:I,s:I,s:I,s:I}", "bytes", (json_int_t)p->bytes, "in_pymalloc", (json_int_t)p->in_pymalloc,
			      "in_malloc", (json_int_t)p->in_malloc, "static", (json_int_t)p->in_static);
	json_object_set_new(o, "elsewhere", json_integer((json_int_t)p->elsewhere));
	json_object_set_new(o, "objects", json_integer((json_int_t)p->objects));
	json_object_set_new(o, "object_chunks", count(p->object_chunks, p->object_chunk_bytes));
	json_object_set_new(o, "buffer_chunks", count(p->buffer_chunks, p->buffer_bytes));
	return o;
}

static json_t *native_json(const struct ch_memory *m, const struct ch_python *py, size_t limit)
{
	if (!m->glibc.found)
		return json_null();
	json_t *un = json_object();
	const struct ch_mem_python *p = &m->python;
	/* Without the object graph every in-use chunk is unowned. */
	json_object_set_new(un, "chunks", json_integer((json_int_t)(p->done ? p->unowned_chunks : m->anchored_chunks + m->unreferenced_chunks)));
	json_object_set_new(un, "bytes", json_integer((json_int_t)(p->done ? p->unowned_bytes : m->anchored_bytes + m->unreferenced_bytes)));
	json_object_set_new(un, "anchored_bytes", json_integer((json_int_t)(p->done ? p->unowned_anchored_bytes : m->anchored_bytes)));
	json_object_set_new(un, "unreferenced_bytes",
			    json_integer((json_int_t)(p->done ? p->unowned_unreferenced_bytes : m->unreferenced_bytes)));
	json_object_set_new(un, "anchored_chunks", json_integer((json_int_t)(p->done ? p->unowned_chunks - p->unowned_unreferenced_chunks
										     : m->anchored_chunks)));
	json_object_set_new(un, "unreferenced_chunks",
			    json_integer((json_int_t)(p->done ? p->unowned_unreferenced_chunks : m->unreferenced_chunks)));
	json_t *from = json_object();
	for (int k = 0; k < CH_ANCHOR_KINDS; k++)
		json_object_set_new(from, ch_mem_anchor_name((enum ch_mem_anchor)k),
				    json_integer((json_int_t)(p->done ? p->unowned_anchored_from[k] : m->anchored_from[k])));
	json_object_set_new(un, "anchored_from", from);
	json_t *groups = json_array();
	for (size_t i = 0; i < m->nleaks; i++)
		json_array_append_new(groups, json_pack("{s:I,s:I,s:I,s:o}", "size", (json_int_t)m->leaks[i].size, "chunks",
							(json_int_t)m->leaks[i].chunks, "bytes",
							(json_int_t)(m->leaks[i].size * m->leaks[i].chunks), "first",
							hex(m->leaks[i].first)));
	json_object_set_new(un, "unreferenced_by_size", groups);
	json_t *addrs = json_array();
	for (size_t i = 0; i < m->nleak_addrs && (!limit || i < limit); i++)
		json_array_append_new(addrs, hex(m->leak_addrs[i]));
	json_object_set_new(un, "unreferenced", addrs);
	return json_pack("{s:o,s:o}", "owned", owned_json(m, py, limit), "unowned", un);
}

static json_t *findings_json(const struct ch_memory *m)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < m->findings.n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s}", "code", m->findings.v[i].code, "text", m->findings.v[i].text));
	return arr;
}

json_t *ch_report_memory_json(const struct ch_memory *m, const struct ch_python *py, size_t limit)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "total", json_pack("{s:I,s:I,s:I}", "virtual", (json_int_t)m->maps.virtual_total, "dumped",
						    (json_int_t)m->maps.dumped_total, "touched",
						    (json_int_t)m->maps.touched_total));
	json_object_set_new(doc, "mappings", mappings_json(&m->maps));
	json_object_set_new(doc, "glibc", glibc_json(&m->glibc));
	json_object_set_new(doc, "pymalloc", m->have_python ? pymalloc_json(&m->pymalloc) : json_null());
	json_object_set_new(doc, "python", python_json(m));
	json_object_set_new(doc, "native", native_json(m, py, limit));
	json_t *rows = json_array();
	for (int c = 0; c < CH_MEM_CATEGORIES; c++)
		json_array_append_new(rows, json_pack("{s:s,s:I}", "category", ch_mem_category_name((enum ch_mem_category)c),
						      "bytes", (json_int_t)m->bytes[c]));
	json_object_set_new(doc, "breakdown", rows);
	json_object_set_new(doc, "explained", m->python.done ? json_real(m->python.explained) : json_null());
	json_object_set_new(doc, "findings", findings_json(m));
	return doc;
}

/* The shared human size ("9,999 B", "12.3 KiB"). */
static void human(uint64_t v, char *buf, size_t n)
{
	ch_report_human_bytes(v, buf, n);
}

static void row(struct ch_table *t, const char *label, uint64_t v, uint64_t total)
{
	char h[32];
	human(v, h, sizeof(h));
	ch_table_cell(t, "%s", label);
	ch_table_count(t, v);
	ch_table_cell(t, "%s", h);
	ch_table_cell(t, "%.1f %%", total ? 100.0 * (double)v / (double)total : 0.0);
}

static void glibc_text(FILE *out, const struct ch_glibc_heapstate *g)
{
	if (!g->found) {
		fprintf(out, "\nglibc malloc: not read: %s\n", g->why_not);
		return;
	}
	if (*g->layout_table)
		fprintf(out, "\nglibc malloc %s (main_arena found by shape scan; layout from the built-in table of build %s)\n",
			*g->version ? g->version : "(version unknown)", g->layout_table);
	else
		fprintf(out, "\nglibc malloc %s (main_arena found by %s; layout from %s)\n",
			*g->version ? g->version : "(version unknown)", g->arena_found_by,
			*g->debug_path ? g->debug_path : "the built-in table for this libc's build-id");
	for (size_t i = 0; i < g->narenas; i++) {
		const struct ch_glibc_arena *a = &g->arenas[i];
		size_t nh = 0;
		for (size_t h = 0; h < g->nheaps; h++)
			nh += g->heaps[h].arena == i;
		fprintf(out, "  arena %#" PRIx64 "%s: %zu heap%s, system_mem %" PRIu64 ", top %" PRIu64 "%s\n", a->addr,
			a->main ? " (main)" : "", nh, nh == 1 ? "" : "s", a->system_mem, a->top_size,
			a->walk_complete ? "" : "  [walk incomplete]");
		fprintf(out, "    in use %" PRIu64 " chunks %" PRIu64 " B; tcache %" PRIu64 " / %" PRIu64 " B; fastbins %" PRIu64
			" / %" PRIu64 " B; unsorted %" PRIu64 " / %" PRIu64 " B; small %" PRIu64 " / %" PRIu64
			" B; large %" PRIu64 " / %" PRIu64 " B\n",
			a->chunks[CH_CHUNK_IN_USE], a->bytes[CH_CHUNK_IN_USE], a->chunks[CH_CHUNK_TCACHE],
			a->bytes[CH_CHUNK_TCACHE], a->chunks[CH_CHUNK_FASTBIN], a->bytes[CH_CHUNK_FASTBIN],
			a->chunks[CH_CHUNK_UNSORTED], a->bytes[CH_CHUNK_UNSORTED], a->chunks[CH_CHUNK_SMALL],
			a->bytes[CH_CHUNK_SMALL], a->chunks[CH_CHUNK_LARGE], a->bytes[CH_CHUNK_LARGE]);
	}
	fprintf(out, "  mmapped chunks: %" PRIu64 " (%" PRIu64 " B); glibc counts %" PRIu64 " (%" PRIu64 " B)\n",
		g->mmapped_chunks, g->mmapped_bytes, g->mp_n_mmaps, g->mp_mmapped_mem);
	const struct ch_mallinfo2 *m = &g->mallinfo2;
	fprintf(out, "  mallinfo2 (glibc's view, tcache chunks in use): arena %" PRIu64 " ordblks %" PRIu64 " smblks %" PRIu64
		" hblks %" PRIu64 " hblkhd %" PRIu64 " fsmblks %" PRIu64 " uordblks %" PRIu64 " fordblks %" PRIu64
		" keepcost %" PRIu64 "\n",
		m->arena, m->ordblks, m->smblks, m->hblks, m->hblkhd, m->fsmblks, m->uordblks, m->fordblks, m->keepcost);
	fprintf(out, "  program's view (tcache chunks free): in use %" PRIu64 " B, free %" PRIu64 " B; tcache %" PRIu64
		" chunks, %" PRIu64 " B%s\n",
		g->program_in_use, g->program_free, g->tcache_chunks, g->tcache_bytes,
		g->tcache_located ? "" : " (tcaches not located)");
}

static void pymalloc_text(FILE *out, const struct ch_memory *m)
{
	const struct ch_pymalloc *pm = &m->pymalloc;
	if (!m->have_python)
		return;
	if (!pm->found) {
		fprintf(out, "\npymalloc: not read: %s\n", pm->why_not);
		return;
	}
	fprintf(out, "\npymalloc: %" PRIu64 " arenas of %" PRIu64 " B (allocated in total %" PRIu64 ", highwater %" PRIu64
		"), %" PRIu64 " pools of %" PRIu64 " B in use, %" PRIu64 " unused\n",
		pm->narenas, pm->arena_size, pm->ntimes_allocated, pm->highwater, pm->pools, pm->pool_size, pm->numfreepools);
	fprintf(out, "  %" PRIu64 " blocks in use (%" PRIu64 " B); available blocks %" PRIu64 " B; pool headers %" PRIu64
		" B; quantization %" PRIu64 " B; arena alignment %" PRIu64 " B\n",
		pm->blocks, pm->allocated_bytes, pm->available_bytes, pm->pool_header_bytes, pm->quantization,
		pm->arena_alignment);
	static const char *const head[] = {"CLASS", "SIZE", "POOLS", "BLOCKS IN USE", "AVAIL BLOCKS"};
	struct ch_table t;
	ch_table_init(&t, 5, head, "rrrrr", 0, "  ");
	for (int c = 0; c < CH_PYMALLOC_CLASSES; c++) {
		const struct ch_pymalloc_class *k = &pm->classes[c];
		if (!k->pools)
			continue;
		ch_table_cell(&t, "%d", c);
		ch_table_count(&t, k->size);
		ch_table_count(&t, k->pools);
		ch_table_count(&t, k->blocks);
		ch_table_count(&t, k->avail);
	}
	ch_table_print(out, &t);
}

static void python_text(FILE *out, const struct ch_memory *m, const struct ch_python *py)
{
	const struct ch_mem_python *p = &m->python;
	if (!p->done)
		return;
	fprintf(out, "\nPython objects: %" PRIu64 " (%" PRIu64 " B): %" PRIu64 " B in pymalloc blocks, %" PRIu64
		" B in malloc chunks, %" PRIu64 " B static, %" PRIu64 " B elsewhere; buffers in %" PRIu64 " chunks (%" PRIu64
		" B)\n",
		p->objects, p->bytes, p->in_pymalloc, p->in_malloc, p->in_static, p->elsewhere, p->buffer_chunks,
		p->buffer_bytes);
	fprintf(out, "Native memory owned by objects (inferred): %" PRIu64 " chunks, %" PRIu64 " B\n", p->owned_chunks,
		p->owned_bytes);
	if (p->nowned_types) {
		static const char *const head[] = {"TYPE", "OBJECTS", "CHUNKS", "BYTES"};
		struct ch_table t;
		ch_table_init(&t, 4, head, "lrrr", CH_FLEX(0), "  ");
		for (size_t i = 0; i < p->nowned_types && i < 10; i++) {
			ch_table_cell(&t, "%s", ch_py_type_name(&py->types, p->owned_types[i].type));
			ch_table_count(&t, p->owned_types[i].objects);
			ch_table_count(&t, p->owned_types[i].chunks);
			ch_table_bytes(&t, p->owned_types[i].bytes);
		}
		ch_table_print(out, &t);
	}
	fprintf(out, "Native memory not owned by objects: %" PRIu64 " chunks, %" PRIu64 " B (%" PRIu64 " B anchored, %" PRIu64
		" B unreferenced)\n  anchored from:",
		p->unowned_chunks, p->unowned_bytes, p->unowned_anchored_bytes, p->unowned_unreferenced_bytes);
	for (int k = 0; k < CH_ANCHOR_KINDS; k++)
		fprintf(out, " %s %" PRIu64 " B%s", ch_mem_anchor_name((enum ch_mem_anchor)k), p->unowned_anchored_from[k],
			k + 1 < CH_ANCHOR_KINDS ? "," : "\n");
}

void ch_report_memory_text(FILE *out, const struct ch_memory *m, const struct ch_python *py, size_t limit)
{
	const uint64_t total = m->maps.virtual_total;
	char v[32], d[32], t[32];
	human(total, v, sizeof(v));
	human(m->maps.dumped_total, d, sizeof(d));
	human(m->maps.touched_total, t, sizeof(t));
	fprintf(out, "Address space: %s virtual in %zu mappings; %s dumped, %s of it touched\n\n", v, m->maps.n, d, t);
	static const char *const head[] = {"CATEGORY", "BYTES", "", "SHARE"};
	struct ch_table tab;
	ch_table_init(&tab, 4, head, "lrrr", CH_FLEX(0), "  ");
	uint64_t sum = 0;
	for (int c = 0; c < CH_MEM_CATEGORIES; c++) {
		sum += m->bytes[c];
		if (m->bytes[c])
			row(&tab, ch_mem_category_name((enum ch_mem_category)c), m->bytes[c], total);
	}
	row(&tab, "total", sum, total);
	ch_table_print(out, &tab);
	glibc_text(out, &m->glibc);
	pymalloc_text(out, m);
	if (py)
		python_text(out, m, py);
	if (m->findings.n) {
		fprintf(out, "\nFindings:\n");
		for (size_t i = 0; i < m->findings.n; i++)
			fprintf(out, "  - %s\n", m->findings.v[i].text);
	}
	if (!m->glibc.found)
		return;
	char an[32], ab[32], un[32], ub[32];
	ch_report_count(m->anchored_chunks, an, sizeof(an));
	human(m->anchored_bytes, ab, sizeof(ab));
	ch_report_count(m->unreferenced_chunks, un, sizeof(un));
	human(m->unreferenced_bytes, ub, sizeof(ub));
	fprintf(out, "\nNative chunks in use: %s anchored (%s); %s unreferenced (%s), leak suspects:\n", an, ab, un, ub);
	static const char *const leak_head[] = {"CHUNKS", "SIZE", "TOTAL", "FIRST AT"};
	struct ch_table lt;
	ch_table_init(&lt, 4, leak_head, "rrrl", 0, "  ");
	for (size_t i = 0; i < m->nleaks && (!limit || i < limit); i++) {
		ch_table_count(&lt, m->leaks[i].chunks);
		ch_table_bytes(&lt, m->leaks[i].size);
		ch_table_bytes(&lt, m->leaks[i].chunks * m->leaks[i].size);
		ch_table_cell(&lt, "%#" PRIx64, m->leaks[i].first);
	}
	if (m->nleaks)
		ch_table_print(out, &lt);
	else
		ch_table_deinit(&lt);
}

/* The figures summary shows, each a sum of breakdown rows. */
struct brief {
	uint64_t glibc_in_use, glibc_free, pymalloc_in_use, python, owned, unreferenced;
};

static struct brief brief_of(const struct ch_memory_brief *m)
{
	const uint64_t *w = m->w, *by = &m->w[CH_MEMB_BYTES];
	struct brief b = {0};
	b.glibc_in_use = by[CH_MEM_GLIBC_IN_USE] + by[CH_MEM_GLIBC_MMAPPED];
	b.glibc_free = by[CH_MEM_GLIBC_TCACHE] + by[CH_MEM_GLIBC_FASTBINS] + by[CH_MEM_GLIBC_UNSORTED] +
		       by[CH_MEM_GLIBC_SMALL] + by[CH_MEM_GLIBC_LARGE] + by[CH_MEM_GLIBC_TOP];
	b.pymalloc_in_use = by[CH_MEM_PYMALLOC_USED];
	b.python = w[CH_MEMB_PY_BYTES];
	b.owned = w[CH_MEMB_OWNED_BYTES];
	b.unreferenced = ch_memory_brief_flag(m, CH_MEMB_PYTHON_DONE) ? w[CH_MEMB_UNOWNED_UNREF] : w[CH_MEMB_UNREF_BYTES];
	return b;
}

void ch_report_memory_line(FILE *out, const struct ch_memory_brief *m)
{
	struct brief b = brief_of(m);
	char v[32], gi[32], gf[32], pm[32], py[32], ow[32], un[32];
	human(m->w[CH_MEMB_VIRTUAL], v, sizeof(v));
	human(b.glibc_in_use, gi, sizeof(gi));
	human(b.glibc_free, gf, sizeof(gf));
	human(b.pymalloc_in_use, pm, sizeof(pm));
	human(b.python, py, sizeof(py));
	human(b.owned, ow, sizeof(ow));
	human(b.unreferenced, un, sizeof(un));
	fprintf(out, "memory: %s virtual; glibc %s in use, %s free%s; pymalloc %s in use; Python objects %s; "
		     "native owned by objects %s; unreferenced chunks %s",
		v, gi, gf, ch_memory_brief_flag(m, CH_MEMB_GLIBC_FOUND) ? "" : " (not read)", pm, py, ow, un);
	if (ch_memory_brief_flag(m, CH_MEMB_PYTHON_DONE))
		fprintf(out, "; explained %.0f %%", 100.0 * ch_memory_brief_explained(m));
	fprintf(out, "%s (coreheap memory for the breakdown)\n", ch_memory_brief_flag(m, CH_MEMB_PARTIAL) ? " [partial]" : "");
}

json_t *ch_report_memory_brief_json(const struct ch_memory_brief *m)
{
	struct brief b = brief_of(m);
	json_t *o = json_object();
	json_object_set_new(o, "virtual", json_integer((json_int_t)m->w[CH_MEMB_VIRTUAL]));
	json_object_set_new(o, "glibc_in_use", json_integer((json_int_t)b.glibc_in_use));
	json_object_set_new(o, "glibc_free", json_integer((json_int_t)b.glibc_free));
	json_object_set_new(o, "pymalloc_in_use", json_integer((json_int_t)b.pymalloc_in_use));
	json_object_set_new(o, "python_bytes", json_integer((json_int_t)b.python));
	json_object_set_new(o, "native_owned", json_integer((json_int_t)b.owned));
	json_object_set_new(o, "unreferenced", json_integer((json_int_t)b.unreferenced));
	json_object_set_new(o, "explained", ch_memory_brief_flag(m, CH_MEMB_PYTHON_DONE)
						   ? json_real(ch_memory_brief_explained(m))
						   : json_null());
	json_object_set_new(o, "partial", json_boolean(ch_memory_brief_flag(m, CH_MEMB_PARTIAL)));
	return o;
}

void ch_report_types_add_native(json_t *doc, const struct ch_type_histogram *h, const uint64_t *native_by_type,
				uint64_t total)
{
	json_t *rows = json_object_get(doc, "types");
	for (size_t i = 0; i < h->n && i < json_array_size(rows); i++) {
		uint64_t v = native_by_type[h->rows[i].type];
		json_object_set_new(json_array_get(rows, i), "native_bytes", json_integer((json_int_t)v));
	}
	json_t *totals = json_object_get(doc, "totals");
	if (totals)
		json_object_set_new(totals, "native_bytes", json_integer((json_int_t)total));
}

void ch_report_types_native_text(FILE *out, const struct ch_python *py, const struct ch_type_histogram *h,
				 const uint64_t *native_by_type, uint64_t total_owned)
{
	fprintf(out, "\nnative memory owned by objects (inferred; coreheap memory explains the rule):\n");
	static const char *const head[] = {"TYPE", "NATIVE BYTES"};
	struct ch_table t;
	ch_table_init(&t, 2, head, "lr", CH_FLEX(0), "  ");
	size_t shown = 0;
	for (size_t i = 0; i < h->n; i++) {
		uint64_t v = native_by_type[h->rows[i].type];
		if (!v)
			continue;
		ch_table_cell(&t, "%s", ch_py_type_name(&py->types, h->rows[i].type));
		ch_table_bytes(&t, v);
		shown++;
	}
	if (!shown)
		fprintf(out, "  (none in these rows)\n");
	ch_table_cell(&t, "TOTAL (all types)");
	ch_table_bytes(&t, total_owned);
	ch_table_print(out, &t);
}
