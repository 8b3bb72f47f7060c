/* The memory figures a snapshot keeps and `diff` compares (memory_digest.h). */
#include "graph/memory_digest.h"

#include <stdio.h>
#include <string.h>

#include "graph/memory_brief.h"

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

/* A figure kept in one word of the brief. */
struct named_word {
	const char *name;
	int word;
};

static void add_words(struct ch_memory_digest *md, const uint64_t *w, const struct named_word *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(md, t[i].name, w[t[i].word]);
}

#define ADD_WORDS(md, w, t) add_words(md, w, t, sizeof(t) / sizeof(t[0]))

static const struct named_word glibc_words[] = {
	{"glibc.mallinfo2.arena", CH_MEMB_ARENA},
	{"glibc.mallinfo2.ordblks", CH_MEMB_MI_ORDBLKS},
	{"glibc.mallinfo2.smblks", CH_MEMB_MI_SMBLKS},
	{"glibc.mallinfo2.hblks", CH_MEMB_MI_HBLKS},
	{"glibc.mallinfo2.hblkhd", CH_MEMB_MI_HBLKHD},
	{"glibc.mallinfo2.usmblks", CH_MEMB_MI_USMBLKS},
	{"glibc.mallinfo2.fsmblks", CH_MEMB_MI_FSMBLKS},
	{"glibc.mallinfo2.uordblks", CH_MEMB_MI_UORDBLKS},
	{"glibc.mallinfo2.fordblks", CH_MEMB_MI_FORDBLKS},
	{"glibc.mallinfo2.keepcost", CH_MEMB_MI_KEEPCOST},
	{"glibc.program_in_use", CH_MEMB_PROGRAM_IN_USE},
	{"glibc.program_free", CH_MEMB_PROGRAM_FREE},
	{"glibc.tcache_bytes", CH_MEMB_TCACHE_BYTES},
	{"glibc.arenas", CH_MEMB_GLIBC_ARENAS},
};

static const struct named_word pymalloc_words[] = {
	{"pymalloc.arenas", CH_MEMB_PM_ARENAS},
	{"pymalloc.blocks_in_use", CH_MEMB_PM_BLOCKS},
	{"pymalloc.bytes_in_use", CH_MEMB_PM_BYTES},
	{"pymalloc.available_bytes", CH_MEMB_PM_AVAILABLE},
};

static const struct named_word python_words[] = {
	{"python.bytes", CH_MEMB_PY_BYTES},
	{"native.owned", CH_MEMB_OWNED_BYTES},
	{"native.owned_chunks", CH_MEMB_OWNED_CHUNKS},
	{"native.unowned", CH_MEMB_UNOWNED_BYTES},
	{"native.unowned_chunks", CH_MEMB_UNOWNED_CHUNKS},
	{"native.unowned_anchored", CH_MEMB_UNOWNED_ANCHORED},
	{"native.unowned_unreferenced", CH_MEMB_UNOWNED_UNREF},
};

static const struct named_word native_words[] = {
	{"native.anchored", CH_MEMB_ANCHORED},
	{"native.unreferenced", CH_MEMB_UNREF_BYTES},
	{"native.unreferenced_chunks", CH_MEMB_UNREF_CHUNKS},
};

void ch_memory_digest_build(struct ch_memory_digest *md, const struct ch_memory_brief *b)
{
	memset(md, 0, sizeof(*md));
	md->present = true;
	md->partial = ch_memory_brief_flag(b, CH_MEMB_PARTIAL);
	const uint64_t *w = b->w;
	char name[CH_MEMD_NAME];
	add(md, "total.virtual", w[CH_MEMB_VIRTUAL]);
	add(md, "total.dumped", w[CH_MEMB_DUMPED]);
	for (int c = 0; c < CH_MEM_CATEGORIES; c++) {
		snprintf(name, sizeof(name), "breakdown.%s", ch_mem_category_name((enum ch_mem_category)c));
		add(md, name, w[CH_MEMB_BYTES + c]);
	}
	bool glibc = ch_memory_brief_flag(b, CH_MEMB_GLIBC_FOUND);
	if (glibc)
		ADD_WORDS(md, w, glibc_words);
	if (ch_memory_brief_flag(b, CH_MEMB_PYMALLOC_FOUND)) {
		ADD_WORDS(md, w, pymalloc_words);
		add(md, "pymalloc.free_bytes", w[CH_MEMB_PM_AVAILABLE] + w[CH_MEMB_PM_UNUSED_POOLS]);
		add(md, "pymalloc.total", w[CH_MEMB_PM_TOTAL]);
	}
	if (ch_memory_brief_flag(b, CH_MEMB_PYTHON_DONE))
		ADD_WORDS(md, w, python_words);
	if (glibc)
		ADD_WORDS(md, w, native_words);
}
