/* The memory figures a snapshot keeps and `diff` compares (memory_digest.h). */
#include "graph/memory_digest.h"

#include <stdio.h>
#include <string.h>

#include "graph/memory.h"

struct ch_error *ch_memory_digest_add(struct ch_memory_digest *md, const char *name, uint64_t value)
{
	if (strlen(name) >= CH_MEMD_NAME)
		return ch_error_new(CH_ERR_INPUT, "memory figure name too long: %.80s", name);
	if (md->n >= CH_MEMD_MAX)
		return ch_error_new(CH_ERR_INPUT, "more than %d memory figures", CH_MEMD_MAX);
	snprintf(md->fig[md->n].name, CH_MEMD_NAME, "%s", name);
	md->fig[md->n].value = value;
	md->n++;
	return NULL;
}

const struct ch_memd_figure *ch_memory_digest_find(const struct ch_memory_digest *md, const char *name)
{
	for (size_t i = 0; i < md->n; i++)
		if (strcmp(md->fig[i].name, name) == 0)
			return &md->fig[i];
	return NULL;
}

/* The builder's names are short and far fewer than CH_MEMD_MAX: add cannot fail. */
static void add(struct ch_memory_digest *md, const char *name, uint64_t value)
{
	ch_error_free(ch_memory_digest_add(md, name, value));
}

void ch_memory_digest_build(struct ch_memory_digest *md, const struct ch_memory *m, bool partial)
{
	memset(md, 0, sizeof(*md));
	md->present = true;
	md->partial = partial;
	char name[CH_MEMD_NAME];
	add(md, "total.virtual", m->maps.virtual_total);
	add(md, "total.dumped", m->maps.dumped_total);
	for (int c = 0; c < CH_MEM_CATEGORIES; c++) {
		snprintf(name, sizeof(name), "breakdown.%s", ch_mem_category_name((enum ch_mem_category)c));
		add(md, name, m->bytes[c]);
	}
	const struct ch_glibc_heapstate *g = &m->glibc;
	if (g->found) {
		const struct ch_mallinfo2 *mi = &g->mallinfo2;
		const uint64_t v[] = {mi->arena, mi->ordblks, mi->smblks, mi->hblks, mi->hblkhd,
				      mi->usmblks, mi->fsmblks, mi->uordblks, mi->fordblks, mi->keepcost};
		static const char *const f[] = {"arena", "ordblks", "smblks", "hblks", "hblkhd",
						"usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			snprintf(name, sizeof(name), "glibc.mallinfo2.%s", f[i]);
			add(md, name, v[i]);
		}
		add(md, "glibc.program_in_use", g->program_in_use);
		add(md, "glibc.program_free", g->program_free);
		add(md, "glibc.tcache_bytes", g->tcache_bytes);
		add(md, "glibc.arenas", g->narenas);
	}
	const struct ch_pymalloc *pm = &m->pymalloc;
	if (pm->found) {
		add(md, "pymalloc.arenas", pm->narenas);
		add(md, "pymalloc.blocks_in_use", pm->blocks);
		add(md, "pymalloc.bytes_in_use", pm->allocated_bytes);
		add(md, "pymalloc.available_bytes", pm->available_bytes);
		add(md, "pymalloc.free_bytes", pm->available_bytes + pm->unused_pool_bytes);
		add(md, "pymalloc.total", pm->total);
	}
	const struct ch_mem_python *p = &m->python;
	if (p->done) {
		add(md, "python.bytes", p->bytes);
		add(md, "native.owned", p->owned_bytes);
		add(md, "native.owned_chunks", p->owned_chunks);
		add(md, "native.unowned", p->unowned_bytes);
		add(md, "native.unowned_chunks", p->unowned_chunks);
		add(md, "native.unowned_anchored", p->unowned_anchored_bytes);
		add(md, "native.unowned_unreferenced", p->unowned_unreferenced_bytes);
	}
	if (g->found) {
		add(md, "native.anchored", m->anchored_bytes);
		add(md, "native.unreferenced", m->unreferenced_bytes);
		add(md, "native.unreferenced_chunks", m->unreferenced_chunks);
	}
}
