/* Checking a mapped heap index before anything uses it: its header, and
 * the checksum and the range of every entry of each section the command
 * uses (graph/heap_index_format.h). */
#include "graph/heap_index_format.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/dominators.h"
#include "graph/gc_replay.h"
#include "graph/memory_brief.h"
#include "graph/paths.h"
#include "graph/roots.h"
#include "graph/wide_values.h"
#include "readers/base/index_hash.h"

/* A block's checksum: four Fletcher-style lanes of 64-bit sums (a word
 * changed anywhere changes both sums of its lane; a word moved changes the
 * second), folded by the hash at the end. Several times faster than
 * ch_heap_index_hash, which matters on a gigabyte: it only has to catch
 * damage, not an adversary (whoever can write the index can also write a
 * matching checksum). Fed in pieces of a multiple of 32 bytes (the last
 * one any length), so that the range checks can read each piece first
 * while it is in the cache. */
struct lanes {
	uint64_t a[4], b[4];
};

/* Two lanes to a vector (GCC and clang's vector extension; SSE2 on
 * x86_64): lane k still sums the words at 8 k mod 32. */
typedef uint64_t lane_pair __attribute__((vector_size(16)));

static void lanes_feed(struct lanes *l, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0;
	lane_pair a0, a1, b0, b1;
	memcpy(&a0, &l->a[0], 16);
	memcpy(&a1, &l->a[2], 16);
	memcpy(&b0, &l->b[0], 16);
	memcpy(&b1, &l->b[2], 16);
	for (; i + 32 <= len; i += 32) {
		lane_pair w0, w1;
		memcpy(&w0, p + i, 16);
		memcpy(&w1, p + i + 16, 16);
		a0 += w0;
		a1 += w1;
		b0 += a0;
		b1 += a1;
	}
	memcpy(&l->a[0], &a0, 16);
	memcpy(&l->a[2], &a1, 16);
	memcpy(&l->b[0], &b0, 16);
	memcpy(&l->b[2], &b1, 16);
	for (; i < len; i++) {
		l->a[0] += p[i];
		l->b[0] += l->a[0];
	}
}

static uint64_t lanes_end(const struct lanes *l, size_t len)
{
	uint64_t fold[8] = {l->a[0], l->a[1], l->a[2], l->a[3], l->b[0], l->b[1], l->b[2], l->b[3]};
	return ch_heap_index_hash(len, fold, sizeof(fold));
}

/* A section's checksum: its blocks' sums folded in order from a seed of
 * the section's number and length. */
static uint64_t section_seed(int s, size_t len)
{
	return ch_heap_index_hash(0x7365637469ULL ^ (uint64_t)s, &len, sizeof(len));
}

static uint64_t section_fold(uint64_t acc, uint64_t block)
{
	return ch_heap_index_hash(acc, &block, sizeof(block));
}

uint64_t ch_heap_index_block_sum(const void *data, size_t len)
{
	struct lanes l = {{0}, {0}};
	lanes_feed(&l, data, len);
	return lanes_end(&l, len);
}

uint64_t ch_heap_index_fold(int s, size_t len, const uint64_t *blocks)
{
	uint64_t acc = section_seed(s, len);
	for (size_t k = 0; k < ch_heap_index_nblocks(len); k++)
		acc = section_fold(acc, blocks[k]);
	return acc;
}

uint64_t ch_heap_index_section_sum(int s, const void *data, size_t len)
{
	uint64_t acc = section_seed(s, len);
	for (size_t k = 0; k < ch_heap_index_nblocks(len); k++)
		acc = section_fold(acc, ch_heap_index_block_sum((const char *)data + k * CH_INDEX_BLOCK,
								 ch_heap_index_block_len(len, k)));
	return acc;
}

void ch_heap_index_sum_all(const void *const *data, const size_t *bytes, int from, const uint64_t *old_table,
			   const size_t *old_bytes, uint64_t *table, uint64_t *sums)
{
	size_t at = 0, old_at = 0;
	for (int s = 0; s < S_BLOCKS; s++) {
		size_t nb = ch_heap_index_nblocks(bytes[s]);
		if (s < from) {
			memcpy(table + at, old_table + old_at, nb * sizeof(*table));
		} else {
			for (size_t k = 0; k < nb; k++)
				table[at + k] = ch_heap_index_block_sum((const char *)data[s] + k * CH_INDEX_BLOCK,
									ch_heap_index_block_len(bytes[s], k));
		}
		sums[s] = ch_heap_index_fold(s, bytes[s], table + at);
		at += nb;
		if (old_bytes)
			old_at += ch_heap_index_nblocks(old_bytes[s]);
	}
	sums[S_BLOCKS] = ch_heap_index_section_sum(S_BLOCKS, table, bytes[S_BLOCKS]);
}

uint64_t ch_heap_index_header_sum(const struct header *h)
{
	uint64_t seed = ch_heap_index_hash(0x68656164ULL, h->sums, sizeof(h->sums));
	return ch_heap_index_hash(seed, h->w, H_CHECKSUM * sizeof(uint64_t));
}

#define SEC(s) CH_SEC(s)

_Static_assert(sizeof(struct ch_heap_index_typerow) == 40, "a retainers-by-type row is stored as it is");
_Static_assert(sizeof(struct ch_heap_index_flame_name) == 16 && sizeof(struct ch_heap_index_flame_frame) == 40,
	       "a flame graph's names and frames are stored as they are");

uint64_t ch_heap_index_need_sections(uint32_t needs)
{
	static const struct {
		uint32_t need;
		uint64_t sections;
	} map[] = {
		{CH_NEED_ADDR, SEC(S_ADDR) | SEC(S_SLOTS)},
		{CH_NEED_SIZES, SEC(S_SIZE) | SEC(S_REFCNT) | SEC(S_WIDE)},
		{CH_NEED_TYPE, SEC(S_TYPE)},
		{CH_NEED_GEN, SEC(S_GEN)},
		{CH_NEED_FLAGS, SEC(S_FLAGS)},
		{CH_NEED_INTERP, SEC(S_INTERP)},
		{CH_NEED_OFFSETS, SEC(S_OFFSETS)},
		{CH_NEED_TARGETS, SEC(S_TARGETS)},
		{CH_NEED_LABELS, SEC(S_LABELS)},
		{CH_NEED_REPLAY, SEC(S_REPLAY)},
		{CH_NEED_DOMS, SEC(S_IDOM) | SEC(S_ORDER) | SEC(S_RETAINED) | SEC(S_RETCOUNT) | SEC(S_TYPEROWS) |
				       SEC(S_FLNAMES) | SEC(S_FLFRAMES)},
		{CH_NEED_PATHS, SEC(S_PARENT) | SEC(S_VIA) | SEC(S_RANK)},
		{CH_NEED_SCAN, SEC(S_MAYBE)},
	};
	uint64_t m = SEC(S_TYPES) | SEC(S_XOBJECTS) | SEC(S_XTYPES) | SEC(S_NAMES) | SEC(S_MESSAGES) | SEC(S_STRINGS) |
		     SEC(S_MEM) | SEC(S_OWNED) | SEC(S_ROOTS) | SEC(S_ROOT_SET) | SEC(S_BLOCKS);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (needs & map[i].need)
			m |= map[i].sections;
	return m;
}

bool ch_heap_index_section_sizes(const uint64_t *w, size_t *bytes)
{
	uint64_t n = w[H_OBJECTS], e = w[H_EDGES];
	if (n >= CH_NO_OBJECT || w[H_INTERPS] > 256 || e > UINT32_MAX || w[H_TYPES] > UINT32_MAX || w[H_XOBJECTS] > n ||
	    w[H_XTYPES] > UINT32_MAX || w[H_NAMES] > UINT32_MAX || w[H_MESSAGES] > 4096 || w[H_STRINGS] > UINT32_MAX ||
	    (w[H_DOMS] != 0 && w[H_DOMS] != n) || w[H_DOM_REACH] > w[H_DOMS] ||
	    (!w[H_DOMS] && (w[H_DOM_BYTES] || w[H_DOM_UNBYTES])) || w[H_TYPEROWS] > w[H_TYPES] ||
	    w[H_TYPEROWS] > w[H_DOM_REACH] || w[H_FLAME] > 1 ||
	    (w[H_FLAME] ? !w[H_DOMS] || !w[H_PATHS] || w[H_FLAME_NROOTS] >= CH_PATH_ROOT
			: (w[H_FLAME_NAMES] | w[H_FLAME_FRAMES] | w[H_FLAME_ROOTS] | w[H_FLAME_NROOTS]) != 0) ||
	    w[H_FLAME_FRAMES] > w[H_DOM_REACH] || w[H_FLAME_NAMES] > w[H_FLAME_FRAMES] || w[H_MEM] > 1 ||
	    (!w[H_MEM] && w[H_MEM_OWNED]) || w[H_MEM_OWNED] > UINT32_MAX || w[H_WIDE] > 2 * n || w[H_ROOTS] > 1 ||
	    (!w[H_ROOTS] && w[H_NROOTS]) || w[H_NROOTS] >= CH_PATH_ROOT || (w[H_PATHS] != 0 && w[H_PATHS] != n) ||
	    w[H_PATH_REACH] > w[H_PATHS] || (w[H_SCAN] != 0 && w[H_SCAN] != n) || (!w[H_SCAN] && w[H_SCAN_INPUTS]) ||
	    (n ? (w[H_SLOTS] & (w[H_SLOTS] - 1)) != 0 || w[H_SLOTS] > ((uint64_t)1 << 32) || !ch_index_hash_fits(n, w[H_SLOTS])
	       : w[H_SLOTS] != 0))
		return false;
	bytes[S_ADDR] = n * 8;
	bytes[S_SIZE] = bytes[S_REFCNT] = bytes[S_TYPE] = n * 4;
	bytes[S_GEN] = bytes[S_FLAGS] = bytes[S_INTERP] = n;
	bytes[S_OFFSETS] = (n + 1) * 4;
	bytes[S_TARGETS] = bytes[S_LABELS] = e * 4;
	bytes[S_TYPES] = w[H_TYPES] * 8;
	bytes[S_XOBJECTS] = w[H_XOBJECTS] * 4;
	bytes[S_XTYPES] = w[H_XTYPES] * sizeof(struct xtype_rec);
	bytes[S_NAMES] = w[H_NAMES] * 4;
	bytes[S_MESSAGES] = w[H_MESSAGES] * 4;
	bytes[S_STRINGS] = w[H_STRINGS];
	bytes[S_REPLAY] = n;
	bytes[S_SLOTS] = w[H_SLOTS] * 4;
	bytes[S_WIDE] = w[H_WIDE] * sizeof(struct ch_wide_rec);
	bytes[S_IDOM] = w[H_DOMS] * 4;
	bytes[S_ORDER] = w[H_DOM_REACH] * 4;
	bytes[S_RETAINED] = w[H_DOMS] * 8;
	bytes[S_RETCOUNT] = w[H_DOMS] * 4;
	bytes[S_TYPEROWS] = w[H_TYPEROWS] * sizeof(struct ch_heap_index_typerow);
	bytes[S_FLNAMES] = w[H_FLAME_NAMES] * sizeof(struct ch_heap_index_flame_name);
	bytes[S_FLFRAMES] = w[H_FLAME_FRAMES] * sizeof(struct ch_heap_index_flame_frame);
	bytes[S_MEM] = w[H_MEM] * CH_MEMB_WORDS * 8;
	bytes[S_OWNED] = w[H_MEM_OWNED] * sizeof(struct ch_mem_owned_chunk);
	bytes[S_ROOTS] = w[H_NROOTS] * sizeof(struct ch_heap_index_root);
	bytes[S_ROOT_SET] = w[H_NROOTS] * 4;
	bytes[S_PARENT] = bytes[S_VIA] = bytes[S_RANK] = w[H_PATHS] * 4;
	bytes[S_MAYBE] = w[H_SCAN] * 4; /* any count is valid: no range check */
	size_t nblocks = 0;
	for (int s = 0; s < S_BLOCKS; s++)
		nblocks += ch_heap_index_nblocks(bytes[s]);
	bytes[S_BLOCKS] = nblocks * 8;
	return true;
}

static bool string_ok(uint64_t len, uint32_t off)
{
	return off < len; /* the blob ends in NUL (checked once), so a string at off ends inside it */
}

/* ---- range checks ----------------------------------------------------------
 *
 * Every index in a section is checked against the counts before anything
 * uses it: a label's key object, a name, a type, an edge target. The big
 * sections are checked a piece at a time, each piece just before it is
 * summed (block_check: elements lo..hi of section s), so the bytes come
 * into the cache once. The loops fold each condition into a flag (bits of
 * the result, by kind) instead of stopping at the first bad entry, so that
 * the compiler can vectorize them: which message a damaged index gets
 * when it is damaged in several ways is then by kind, not by position.
 * What a piece counts (filled slots, wide marks, reached objects) is
 * added up and compared once every piece is done (cross_check). */

enum { BAD_1 = 1u, BAD_2 = 2u, BAD_3 = 4u };

/* The element size of the sections checked by pieces (0: none checked). */
size_t ch_heap_index_block_elem(int s)
{
	switch (s) {
	case S_TYPE: case S_OFFSETS: case S_TARGETS: case S_LABELS: case S_SLOTS: case S_SIZE: case S_REFCNT:
	case S_IDOM: case S_ORDER: case S_PARENT:
		return 4;
	case S_GEN: case S_INTERP: case S_REPLAY:
		return 1;
	case S_RETAINED:
		return 8;
	default:
		return 0;
	}
}

static uint32_t check_labels(const uint64_t *w, const uint32_t *lb, size_t lo, size_t hi)
{
	/* 32-bit bounds (section_sizes keeps both counts below 2^32) so that
	 * every lane of the vectorized loop is as wide as an entry. */
	uint32_t n = (uint32_t)w[H_OBJECTS], nn = (uint32_t)w[H_NAMES];
	uint32_t name = 0, key = 0;
	/* The kinds as ranges (the compiler would test a set of kinds with a
	 * 64-bit mask, which stops it vectorizing): FIELD and WEAK are 0 and
	 * 7, so kind + 1 wraps them to 0 and 1; DICT_VALUE and ATTR are 3, 4. */
	_Static_assert(CH_REF_FIELD == 0 && CH_REF_WEAK == 7 && CH_REF_DICT_VALUE == 3 && CH_REF_ATTR == 4,
		       "the label kinds' ranges below");
	for (size_t k = lo; k < hi; k++) {
		uint32_t l = lb[k], p = ch_label_payload(l), kind = l >> 29;
		uint32_t fw = (uint32_t)(((kind + 1u) & 7u) < 2u);
		uint32_t ad = (uint32_t)(kind - 3u < 2u);
		uint32_t named = (p >> 27) & 1u;
		uint32_t keyi = p & ~(CH_LABEL_LOCAL * (uint32_t)(kind == CH_REF_ATTR));
		name |= (fw & (uint32_t)(p >= nn)) | (ad & named & (uint32_t)((p & ~CH_LABEL_NAMED) >= nn));
		key |= ad & (named ^ 1u) & (uint32_t)(keyi >= n);
	}
	return (name ? BAD_1 : 0) | (key ? BAD_2 : 0);
}

static uint32_t check_slots(const uint64_t *w, const uint32_t *slots, size_t lo, size_t hi, uint64_t *count)
{
	/* Every slot empty or naming an object (its bits outside the tag are
	 * 1..n), as many named as there are objects (cross_check), so a probe
	 * always meets an empty slot and never names what is not an object.
	 * (Whether each object is found where it is would cost what building
	 * the table costs: a table that passes its checksum is the build's.) */
	uint32_t tags = ch_index_tag_mask(w[H_SLOTS]), n32 = (uint32_t)w[H_OBJECTS];
	uint32_t over = 0, filled = 0; /* a piece is far below 2^32 slots */
	for (size_t s = lo; s < hi; s++) {
		uint32_t v = slots[s] & ~tags, full = (uint32_t)(slots[s] != 0);
		over |= full & ((uint32_t)(v == 0) | (uint32_t)(v > n32));
		filled += full;
	}
	*count += filled;
	return over ? BAD_1 : 0;
}

static uint32_t check_paths(const uint64_t *w, const struct section *sec, size_t lo, size_t hi, uint64_t *count)
{
	const uint32_t *parent = sec[S_PARENT].data, *via = sec[S_VIA].data, *rank = sec[S_RANK].data;
	uint32_t n = (uint32_t)w[H_OBJECTS], e = (uint32_t)w[H_EDGES], reach = (uint32_t)w[H_PATH_REACH];
	uint32_t bad = 0, reached = 0;
	for (size_t i = lo; i < hi; i++) {
		uint32_t p = parent[i], none = (uint32_t)(p == CH_NO_OBJECT), root = (uint32_t)(p == CH_PATH_ROOT);
		bad |= (uint32_t)(p >= n) & (none ^ 1u) & (root ^ 1u);
		bad |= none ^ (uint32_t)(rank[i] == UINT32_MAX);
		bad |= (none ^ 1u) & (uint32_t)(rank[i] >= reach);
		bad |= (none | root | (uint32_t)(via[i] < e)) ^ 1u;
		bad |= none & (uint32_t)(via[i] != UINT32_MAX);
		reached += none ^ 1u;
	}
	*count += reached;
	return bad ? BAD_1 : 0;
}

/* Objects lo..hi's retained bytes and counts (their S_RETAINED block,
 * S_RETCOUNT read beside it as the paths' via and rank beside parent):
 * in the tree (an immediate dominator), a count of 1 to n and at least
 * the object's own size (a wide size's mark, CH_SIZE_WIDE, is below the
 * size it marks); off it, 0 and 0. So a retained figure is never what no
 * tree could sum, whatever reads it. */
static uint32_t check_retained(const uint64_t *w, const struct section *sec, size_t lo, size_t hi)
{
	/* Each retained figure read as its two 32-bit halves (little-endian,
	 * as the file is: graph/heap_index_format.h), so that every lane of
	 * the vectorized loop is 32 bits wide. */
	const uint32_t *ret = sec[S_RETAINED].data;
	const uint32_t *cnt = sec[S_RETCOUNT].data, *idom = sec[S_IDOM].data, *size = sec[S_SIZE].data;
	uint32_t n = (uint32_t)w[H_OBJECTS], bad = 0;
	for (size_t i = lo; i < hi; i++) {
		uint32_t low = ret[2 * i], high = ret[2 * i + 1], c = cnt[i];
		uint32_t in = (uint32_t)(idom[i] != CH_NO_OBJECT);
		bad |= in & ((uint32_t)(c - 1u >= n) | ((uint32_t)(high == 0) & (uint32_t)(low < size[i])));
		bad |= (in ^ 1u) & (uint32_t)((low | high | c) != 0);
	}
	return bad ? BAD_1 : 0;
}

const char *ch_heap_index_typerows_check(const uint64_t *w, const struct ch_heap_index_typerow *rows, uint64_t n)
{
	uint64_t reach = w[H_DOM_REACH], bytes = w[H_DOM_BYTES], objects = 0, shallow = 0;
	if (n > w[H_TYPES] || n > reach)
		return "there are more retainers-by-type rows than types or objects in the tree";
	for (uint64_t i = 0; i < n; i++) {
		const struct ch_heap_index_typerow *r = &rows[i];
		if (r->type >= w[H_TYPES] || (i && r->type <= rows[i - 1].type) || r->pad)
			return "a retainers-by-type row's type is out of range or order";
		if (r->objects == 0 || r->objects > reach - objects || r->retained_objects < r->objects ||
		    r->retained_objects > reach)
			return "a retainers-by-type row's object count is out of range";
		if (r->shallow > r->retained || r->retained > bytes || r->shallow > bytes - shallow)
			return "a retainers-by-type row's bytes are out of range";
		objects += r->objects;
		shallow += r->shallow;
	}
	if (objects != reach || shallow != bytes)
		return "the retainers by type do not add up to the dominator tree";
	return NULL;
}

/* Whether any of v[lo..hi) is limit or more (one flag, vectorized). */
static uint32_t u32_reach(const uint32_t *v, size_t lo, size_t hi, uint32_t limit)
{
	uint32_t bad = 0;
	for (size_t i = lo; i < hi; i++)
		bad |= (uint32_t)(v[i] >= limit);
	return bad;
}

static uint32_t u8_reach(const uint8_t *v, size_t lo, size_t hi, uint32_t limit)
{
	uint32_t bad = 0;
	for (size_t i = lo; i < hi; i++)
		bad |= (uint32_t)(v[i] >= limit);
	return bad;
}

/* Elements lo..hi of section s: bad bits by kind, what they count added. */
uint32_t ch_heap_index_block_check(const uint64_t *w, const struct section *sec, int s, size_t lo, size_t hi,
				   uint64_t *count)
{
	/* 32-bit bounds: section_sizes keeps every count below 2^32. */
	uint32_t n = (uint32_t)w[H_OBJECTS], nt = (uint32_t)w[H_TYPES], ni = (uint32_t)w[H_INTERPS], bad = 0, c = 0;
	const uint32_t *u32 = sec[s].data;
	const uint8_t *u8 = sec[s].data;
	switch (s) {
	case S_TYPE:
		return u32_reach(u32, lo, hi, nt);
	case S_GEN:
		return u8_reach(u8, lo, hi, CH_GEN_UNTRACKED + 1u);
	case S_INTERP:
		return u8_reach(u8, lo, hi, ni);
	case S_REPLAY:
		return u8_reach(u8, lo, hi, CH_REPLAY_FREED_WITH + 1u);
	case S_OFFSETS: /* n + 1 entries: each but the last against the next, each
			 * within the edges, the first 0 and the last every edge (so
			 * that a block checked alone keeps its reads in range) */
		for (size_t i = lo; i < hi && i < n; i++)
			bad |= (uint32_t)(u32[i] > u32[i + 1]) | (uint32_t)(u32[i] > (uint32_t)w[H_EDGES]);
		if ((lo == 0 && hi > 0 && u32[0] != 0) || (lo <= n && hi > n && u32[n] != (uint32_t)w[H_EDGES]))
			bad |= BAD_1;
		return bad;
	case S_TARGETS:
		return u32_reach(u32, lo, hi, n);
	case S_LABELS:
		return check_labels(w, u32, lo, hi);
	case S_SLOTS:
		return check_slots(w, u32, lo, hi, count);
	case S_SIZE:
		for (size_t i = lo; i < hi; i++)
			c += (uint32_t)(u32[i] == CH_SIZE_WIDE);
		*count += c;
		return 0;
	case S_REFCNT:
		for (size_t i = lo; i < hi; i++)
			c += (uint32_t)((int32_t)u32[i] == CH_REFCNT_WIDE);
		*count += c;
		return 0;
	case S_IDOM:
		for (size_t i = lo; i < hi; i++) {
			bad |= (uint32_t)(u32[i] != CH_NO_OBJECT) & (uint32_t)(u32[i] != CH_DOM_ROOT) & (uint32_t)(u32[i] >= n);
			c += (uint32_t)(u32[i] != CH_NO_OBJECT);
		}
		*count += c;
		return bad;
	case S_ORDER:
		return u32_reach(u32, lo, hi, n);
	case S_PARENT:
		return check_paths(w, sec, lo, hi, count);
	case S_RETAINED:
		return check_retained(w, sec, lo, hi);
	default:
		return 0;
	}
}

/* The small sections, whole: in every load (ch_heap_index_need_sections). */
static const char *check_small(const uint64_t *w, const struct section *sec)
{
	uint64_t n = w[H_OBJECTS], nt = w[H_TYPES], nn = w[H_NAMES], ns = w[H_STRINGS];
	const uint32_t *xo = sec[S_XOBJECTS].data, *names = sec[S_NAMES].data, *msgs = sec[S_MESSAGES].data;
	const char *strings = sec[S_STRINGS].data;
	if (ns && strings[ns - 1] != '\0')
		return "the string table is not terminated";
	for (uint64_t i = 0; i < w[H_XOBJECTS]; i++)
		if (xo[i] >= n || (i && xo[i] <= xo[i - 1]))
			return "the inexact objects are out of range or order";
	const struct xtype_rec *xt = sec[S_XTYPES].data;
	for (uint64_t i = 0; i < w[H_XTYPES]; i++)
		if (xt[i].type >= nt || !string_ok(ns, xt[i].reason))
			return "an inexact type row is out of range";
	for (uint64_t i = 0; i < nn; i++)
		if (!string_ok(ns, names[i]))
			return "a label name is out of range";
	for (uint64_t i = 0; i < w[H_MESSAGES]; i++)
		if (!string_ok(ns, msgs[i]))
			return "a warning is out of range";
	/* The memory figures: known flags, owned chunks of a known type
	 * (their addresses are printed, never followed). */
	const uint64_t *mw = sec[S_MEM].data;
	if (w[H_MEM] && (mw[CH_MEMB_FLAGS] & ~(uint64_t)CH_MEMB_FLAGS_ALL))
		return "the memory figures' flags are unknown";
	const struct ch_mem_owned_chunk *owned = sec[S_OWNED].data;
	for (uint64_t k = 0; k < w[H_MEM_OWNED]; k++)
		if (owned[k].type >= nt)
			return "an owned chunk's type is out of range";
	/* The roots' entries in range. Which frame or thread a root names is
	 * checked against the frames read again (ch_roots_find). */
	uint32_t n32 = (uint32_t)n;
	const struct ch_heap_index_root *rec = sec[S_ROOTS].data;
	const uint32_t *set = sec[S_ROOT_SET].data;
	for (uint64_t i = 0; i < w[H_NROOTS]; i++)
		if (rec[i].object >= n32 || rec[i].kind >= CH_ROOT_NKINDS ||
		    (rec[i].name >= n32 && rec[i].name != CH_NO_OBJECT) || (set[i] != rec[i].object && set[i] != CH_NO_OBJECT))
			return "a root is out of range";
	return NULL;
}

/* What the pieces of the sections in want found, in a fixed order
 * (bad[s]: their bits; count[s]: what they counted), and the checks that
 * need a whole section or two. */
static const char *cross_check(const uint64_t *w, const struct section *sec, uint64_t want, const uint32_t *bad,
			       const uint64_t *count)
{
	uint64_t n = w[H_OBJECTS];
	if (bad[S_TYPE] | bad[S_GEN] | bad[S_INTERP])
		return "an object's type, generation or interpreter is out of range";
	const uint32_t *off = sec[S_OFFSETS].data;
	if ((want & SEC(S_OFFSETS)) && (off[0] != 0 || off[n] != w[H_EDGES]))
		return "the edge offsets do not span the edges";
	if (bad[S_OFFSETS])
		return "the edge offsets go backwards";
	if (bad[S_REPLAY])
		return "an object's GC replay state is out of range";
	if (bad[S_TARGETS])
		return "an edge points past the object table";
	if (bad[S_LABELS] & BAD_1)
		return "an edge label names no stored name";
	if (bad[S_LABELS] & BAD_2)
		return "an edge label's key is not an object";
	const char *small = check_small(w, sec);
	if (small)
		return small;
	if (bad[S_SLOTS])
		return "an address table slot names no object";
	if ((want & SEC(S_SLOTS)) && count[S_SLOTS] != n)
		return "the address table does not hold every object once";
	if (want & SEC(S_SIZE)) {
		const char *wide = ch_objects_wide_check_records(sec[S_SIZE].data, sec[S_REFCNT].data, n, sec[S_WIDE].data,
								 w[H_WIDE], count[S_SIZE] + count[S_REFCNT]);
		if (wide)
			return wide;
	}
	/* The tree's entries are in range here; whether they form a tree is
	 * checked where it is used (ch_dominators_from_tree), which needs
	 * scratch a load of the other tables should not pay for. */
	if (bad[S_IDOM])
		return "an immediate dominator is out of range";
	if ((want & SEC(S_IDOM)) && count[S_IDOM] != w[H_DOM_REACH])
		return "the dominator tree's preorder does not match its reachable objects";
	const uint32_t *idom = sec[S_IDOM].data, *order = sec[S_ORDER].data;
	if (bad[S_ORDER])
		return "the dominator tree's preorder is out of range";
	for (uint64_t k = 0; (want & SEC(S_ORDER)) && k < w[H_DOM_REACH]; k++)
		if (idom[order[k]] == CH_NO_OBJECT)
			return "the dominator tree's preorder is out of range";
	if (bad[S_RETAINED])
		return "a retained size or count is out of range";
	const char *rows = (want & SEC(S_TYPEROWS)) ? ch_heap_index_typerows_check(w, sec[S_TYPEROWS].data, w[H_TYPEROWS])
						    : NULL;
	if (rows)
		return rows;
	const char *flame = (want & SEC(S_FLFRAMES)) && w[H_FLAME]
				    ? ch_heap_index_flame_check(w, sec[S_FLNAMES].data, sec[S_FLFRAMES].data)
				    : NULL;
	if (flame)
		return flame;
	/* Whether the paths form the search's tree is checked where they are
	 * used (ch_paths_from_stored), as the dominator tree is. */
	if (bad[S_PARENT])
		return "a shortest path's parent, edge or rank is out of range";
	if ((want & SEC(S_PARENT)) && count[S_PARENT] != w[H_PATH_REACH])
		return "the shortest paths do not reach as many objects as they say";
	return NULL;
}

/* ---- verifying: each wanted section summed and range-checked in one pass,
 * by blocks split between two threads --------------------------------------- */

/* One block of one section, and what checking it found. */
struct block_job {
	int s;
	size_t off, len;
	uint64_t sum, count;
	uint32_t bad;
};

struct verify_run {
	const uint64_t *w;
	const struct section *sec;
	bool check_sum;
	struct block_job *jobs;
	size_t lo, hi; /* this thread's jobs */
};

/* Pieces of a block checked then summed while they are in the cache. */
#define CH_INDEX_PIECE ((size_t)64 << 10)

static void block_run(const struct verify_run *r, struct block_job *j)
{
	const char *base = r->sec[j->s].data;
	size_t elem = ch_heap_index_block_elem(j->s);
	struct lanes l = {{0}, {0}};
	for (size_t at = 0; at < j->len; at += CH_INDEX_PIECE) {
		size_t n = j->len - at < CH_INDEX_PIECE ? j->len - at : CH_INDEX_PIECE;
		size_t from = j->off + at;
		if (elem)
			j->bad |= ch_heap_index_block_check(r->w, r->sec, j->s, from / elem, (from + n) / elem, &j->count);
		if (r->check_sum)
			lanes_feed(&l, base + from, n);
	}
	j->sum = lanes_end(&l, j->len);
}

static void *verify_thread(void *arg)
{
	struct verify_run *r = arg;
	for (size_t k = r->lo; k < r->hi; k++)
		block_run(r, &r->jobs[k]);
	return NULL;
}

#define WHY(...) snprintf(why, why_len, __VA_ARGS__)

enum ch_heap_index_outcome ch_heap_index_verify(const void *data, size_t size, const struct ch_heap_index_key *key,
						bool check_sum, uint64_t want, uint64_t lazy, struct section *sec,
						char *why, size_t why_len)
{
	struct header h;
	if (size < sizeof(h) || memcmp(data, CH_INDEX_MAGIC, 8) != 0) {
		WHY("not a coreheap index");
		return CH_HEAP_INDEX_DAMAGED;
	}
	memcpy(&h, data, sizeof(h));
	if (h.version != CH_INDEX_VERSION || h.header_size != sizeof(h)) {
		WHY("index format %" PRIu32 ", this coreheap reads %u", h.version, CH_INDEX_VERSION);
		return CH_HEAP_INDEX_STALE;
	}
	if (key && memcmp(&h.w[H_KEY], key->v, sizeof(key->v)) != 0) {
		WHY("made from another core, coreheap or set of files");
		return CH_HEAP_INDEX_STALE;
	}
	size_t bytes[S_COUNT];
	uint64_t payload = 0;
	bool sizes = ch_heap_index_section_sizes(h.w, bytes);
	for (int s = 0; sizes && s < S_COUNT; s++)
		payload += ch_heap_index_pad8(bytes[s]);
	if (!sizes || payload != h.w[H_PAYLOAD] || size != sizeof(h) + payload) {
		WHY("its size (%zu bytes) does not match its counts", size);
		return CH_HEAP_INDEX_DAMAGED;
	}
	if (check_sum && ch_heap_index_header_sum(&h) != h.w[H_CHECKSUM]) {
		WHY("its checksum does not match its contents");
		return CH_HEAP_INDEX_DAMAGED;
	}
	want |= ch_heap_index_need_sections(0);
	/* The paths' range check reads via and rank beside parent; the
	 * preorder's, idom; the retained sizes', their counts, idom and the
	 * sizes; the flame graph's frames', its names. */
	if (want & (SEC(S_PARENT) | SEC(S_VIA) | SEC(S_RANK)))
		want |= SEC(S_PARENT) | SEC(S_VIA) | SEC(S_RANK);
	if (want & (SEC(S_RETAINED) | SEC(S_RETCOUNT)))
		want |= SEC(S_RETAINED) | SEC(S_RETCOUNT) | SEC(S_IDOM) | SEC(S_SIZE);
	if (want & (SEC(S_IDOM) | SEC(S_ORDER)))
		want |= SEC(S_IDOM) | SEC(S_ORDER);
	if (want & (SEC(S_FLNAMES) | SEC(S_FLFRAMES)))
		want |= SEC(S_FLNAMES) | SEC(S_FLFRAMES);
	if (want & (SEC(S_SIZE) | SEC(S_REFCNT) | SEC(S_WIDE)))
		want |= SEC(S_SIZE) | SEC(S_REFCNT) | SEC(S_WIDE);
	if (want & SEC(S_SLOTS))
		want |= SEC(S_ADDR);
	lazy &= want & CH_INDEX_LAZY_SECTIONS;
	const char *p = (const char *)data + sizeof(h);
	size_t njobs = 0, total = 0;
	for (int s = 0; s < S_COUNT; s++) {
		sec[s].data = (void *)p;
		sec[s].bytes = bytes[s];
		p += ch_heap_index_pad8(bytes[s]);
		if (s < S_BLOCKS && (want & SEC(s)) && !(lazy & SEC(s))) {
			njobs += (bytes[s] + CH_INDEX_BLOCK - 1) / CH_INDEX_BLOCK;
			total += bytes[s];
		}
	}
	struct block_job *jobs = calloc(njobs ? njobs : 1, sizeof(*jobs));
	if (!jobs) {
		WHY("no memory to check it");
		return CH_HEAP_INDEX_DAMAGED;
	}
	/* The block table first: each block's sum is compared with its entry,
	 * and each section's sum in the header with the fold of its entries. */
	const uint64_t *table = sec[S_BLOCKS].data;
	if (check_sum && ch_heap_index_section_sum(S_BLOCKS, table, bytes[S_BLOCKS]) != h.sums[S_BLOCKS]) {
		free(jobs);
		WHY("its checksum does not match its contents");
		return CH_HEAP_INDEX_DAMAGED;
	}
	size_t first_block[S_COUNT], at = 0;
	for (int s = 0; s < S_BLOCKS; s++) {
		first_block[s] = at;
		if (check_sum && ch_heap_index_fold(s, bytes[s], table + at) != h.sums[s]) {
			free(jobs);
			WHY("its checksum does not match its contents");
			return CH_HEAP_INDEX_DAMAGED;
		}
		at += ch_heap_index_nblocks(bytes[s]);
	}
	size_t k = 0;
	for (int s = 0; s < S_BLOCKS; s++)
		for (size_t off = 0; (want & SEC(s)) && !(lazy & SEC(s)) && off < bytes[s]; off += CH_INDEX_BLOCK)
			jobs[k++] = (struct block_job){
				.s = s, .off = off, .len = ch_heap_index_block_len(bytes[s], off / CH_INDEX_BLOCK)};
	/* Two threads, the jobs split by bytes: the second takes those from
	 * the middle byte on. Each job writes its own slot, so what is found
	 * does not depend on which thread finishes first. Not for a tiny
	 * payload, whose check costs less than a thread (the fixtures of the
	 * index tests, a few megabytes, take the threaded path). */
	size_t mid = 0;
	for (size_t acc = 0; mid < njobs && acc + jobs[mid].len / 2 < total / 2; mid++)
		acc += jobs[mid].len;
	struct verify_run second = {h.w, sec, check_sum, jobs, mid, njobs};
	struct verify_run first = {h.w, sec, check_sum, jobs, 0, mid};
	pthread_t thread;
	bool threaded = total >= ((size_t)1 << 20) && mid < njobs &&
			pthread_create(&thread, NULL, verify_thread, &second) == 0;
	if (!threaded)
		first.hi = njobs;
	verify_thread(&first);
	if (threaded)
		pthread_join(thread, NULL);
	uint32_t bad[S_COUNT] = {0};
	uint64_t count[S_COUNT] = {0};
	bool sum_ok = true;
	for (size_t j = 0; j < njobs; j++) {
		int s = jobs[j].s;
		if (jobs[j].sum != table[first_block[s] + jobs[j].off / CH_INDEX_BLOCK])
			sum_ok = false;
		bad[s] |= jobs[j].bad;
		count[s] += jobs[j].count;
	}
	free(jobs);
	if (check_sum && !sum_ok) {
		WHY("its checksum does not match its contents");
		return CH_HEAP_INDEX_DAMAGED;
	}
	/* A lazy section's checks over the whole of it are left out: each of
	 * its blocks is checked alone when first read. */
	const char *why_bad = cross_check(h.w, sec, want & ~lazy, bad, count);
	if (why_bad) {
		WHY("%s", why_bad);
		return CH_HEAP_INDEX_DAMAGED;
	}
	for (int s = 0; s < S_COUNT; s++)
		if (!(want & SEC(s)))
			sec[s].data = NULL;
	return CH_HEAP_INDEX_LOADED;
}
