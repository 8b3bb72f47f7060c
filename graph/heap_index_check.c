/* Checking a mapped heap index before anything uses it: its header,
 * its checksum and the range of every entry (graph/heap_index_format.h). */
#include "graph/heap_index_format.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "graph/dominators.h"
#include "graph/gc_replay.h"
#include "graph/memory_brief.h"
#include "graph/paths.h"
#include "graph/roots.h"
#include "graph/wide_values.h"
#include "readers/base/index_hash.h"

/* The payload's checksum: four Fletcher-style lanes of 64-bit sums (a
 * word changed anywhere changes both sums of its lane; a word moved changes
 * the second), folded by the hash at the end. Several times faster than
 * ch_heap_index_hash, which matters on a gigabyte: it only has to catch
 * damage, not an adversary (whoever can write the index can also write a
 * matching checksum). */
uint64_t ch_heap_index_payload_sum(uint64_t seed, const void *data, size_t len)
{
	uint64_t a[4] = {seed, 0, 0, 0}, b[4] = {0, 0, 0, 0};
	const unsigned char *p = data;
	size_t i = 0;
	for (; i + 32 <= len; i += 32)
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * k, 8);
			a[k] += w;
			b[k] += a[k];
		}
	for (; i < len; i++) {
		a[0] += p[i];
		b[0] += a[0];
	}
	uint64_t fold[8] = {a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]};
	return ch_heap_index_hash(len, fold, sizeof(fold));
}

bool ch_heap_index_section_sizes(const uint64_t *w, size_t *bytes)
{
	uint64_t n = w[H_OBJECTS], e = w[H_EDGES];
	if (n >= CH_NO_OBJECT || w[H_INTERPS] > 256 || e > UINT32_MAX || w[H_TYPES] > UINT32_MAX || w[H_XOBJECTS] > n ||
	    w[H_XTYPES] > UINT32_MAX || w[H_NAMES] > UINT32_MAX || w[H_MESSAGES] > 4096 || w[H_STRINGS] > UINT32_MAX ||
	    (w[H_DOMS] != 0 && w[H_DOMS] != n) || w[H_DOM_REACH] > w[H_DOMS] || w[H_MEM] > 1 ||
	    (!w[H_MEM] && w[H_MEM_OWNED]) || w[H_MEM_OWNED] > UINT32_MAX || w[H_WIDE] > 2 * n || w[H_ROOTS] > 1 ||
	    (!w[H_ROOTS] && w[H_NROOTS]) || w[H_NROOTS] >= CH_PATH_ROOT || (w[H_PATHS] != 0 && w[H_PATHS] != n) ||
	    w[H_PATH_REACH] > w[H_PATHS] ||
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
	bytes[S_MEM] = w[H_MEM] * CH_MEMB_WORDS * 8;
	bytes[S_OWNED] = w[H_MEM_OWNED] * sizeof(struct ch_mem_owned_chunk);
	bytes[S_ROOTS] = w[H_NROOTS] * sizeof(struct ch_heap_index_root);
	bytes[S_ROOT_SET] = w[H_NROOTS] * 4;
	bytes[S_PARENT] = bytes[S_VIA] = bytes[S_RANK] = w[H_PATHS] * 4;
	return true;
}

static bool string_ok(uint64_t len, uint32_t off)
{
	return off < len; /* the blob ends in NUL (checked once), so a string at off ends inside it */
}

/* Every index in the file is checked against the counts before anything
 * uses it: a label's key object, a name, a type, an edge target. The loops
 * over objects and edges (tens of millions on a big core, a quarter of a
 * later command's time when they branched per entry) fold each condition
 * into a flag instead of stopping at the first bad entry, so that the
 * compiler can vectorize them: which message a damaged index gets when it
 * is damaged in several ways is then by kind, not by position. */
static const char *check_objects(const uint64_t *w, const struct section *sec)
{
	/* 32-bit bounds: section_sizes keeps every count below 2^32. */
	uint64_t n = w[H_OBJECTS];
	uint32_t nt = (uint32_t)w[H_TYPES], ni = (uint32_t)w[H_INTERPS];
	const uint32_t *type = sec[S_TYPE].data, *off = sec[S_OFFSETS].data;
	const uint8_t *gen = sec[S_GEN].data, *interp = sec[S_INTERP].data, *replay = sec[S_REPLAY].data;
	uint32_t bad = 0, back = 0, state = 0;
	for (uint64_t i = 0; i < n; i++) {
		bad |= (uint32_t)(type[i] >= nt) | (uint32_t)(gen[i] > CH_GEN_UNTRACKED) | (uint32_t)(interp[i] >= ni);
		back |= (uint32_t)(off[i] > off[i + 1]);
		state |= (uint32_t)(replay[i] > CH_REPLAY_FREED_WITH);
	}
	if (bad)
		return "an object's type, generation or interpreter is out of range";
	if (off[0] != 0 || off[n] != w[H_EDGES])
		return "the edge offsets do not span the edges";
	if (back)
		return "the edge offsets go backwards";
	if (state)
		return "an object's GC replay state is out of range";
	return NULL;
}

static const char *check_edges(const uint64_t *w, const struct section *sec)
{
	/* 32-bit bounds (section_sizes keeps both counts below 2^32) so that
	 * every lane of the vectorized loop is as wide as an entry. */
	uint32_t n = (uint32_t)w[H_OBJECTS], nn = (uint32_t)w[H_NAMES];
	uint64_t e = w[H_EDGES];
	const uint32_t *tg = sec[S_TARGETS].data, *lb = sec[S_LABELS].data;
	uint32_t past = 0, name = 0, key = 0;
	/* The kinds as ranges (the compiler would test a set of kinds with a
	 * 64-bit mask, which stops it vectorizing): FIELD and WEAK are 0 and
	 * 7, so kind + 1 wraps them to 0 and 1; DICT_VALUE and ATTR are 3, 4. */
	_Static_assert(CH_REF_FIELD == 0 && CH_REF_WEAK == 7 && CH_REF_DICT_VALUE == 3 && CH_REF_ATTR == 4,
		       "the label kinds' ranges below");
	for (uint64_t k = 0; k < e; k++) {
		uint32_t l = lb[k], p = ch_label_payload(l), kind = l >> 29;
		uint32_t fw = (uint32_t)(((kind + 1u) & 7u) < 2u);
		uint32_t ad = (uint32_t)(kind - 3u < 2u);
		uint32_t named = (p >> 27) & 1u;
		uint32_t keyi = p & ~(CH_LABEL_LOCAL * (uint32_t)(kind == CH_REF_ATTR));
		past |= (uint32_t)(tg[k] >= n);
		name |= (fw & (uint32_t)(p >= nn)) | (ad & named & (uint32_t)((p & ~CH_LABEL_NAMED) >= nn));
		key |= ad & (named ^ 1u) & (uint32_t)(keyi >= n);
	}
	if (past)
		return "an edge points past the object table";
	if (name)
		return "an edge label names no stored name";
	if (key)
		return "an edge label's key is not an object";
	return NULL;
}

static const char *check_rest(const uint64_t *w, const struct section *sec)
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
	/* The address table: every slot empty or naming an object, as many
	 * named as there are objects, so a probe always meets an empty slot
	 * and never names what is not an object. (Whether each object is
	 * found where it is would cost what building the table costs: a
	 * table that passes the checksum is the build's own.) */
	const uint32_t *slots = sec[S_SLOTS].data;
	uint32_t tags = ch_index_tag_mask(w[H_SLOTS]);
	uint64_t filled = 0, nslots = w[H_SLOTS];
	uint32_t over = 0, n32 = (uint32_t)n;
	for (uint64_t s0 = 0; s0 < nslots; s0 += (uint64_t)1 << 20) {
		/* 32-bit counts per block of 2^20 slots, which vectorize. A
		 * filled slot's object (its bits outside the tag) is 1..n. */
		uint64_t end = nslots - s0 < ((uint64_t)1 << 20) ? nslots : s0 + ((uint64_t)1 << 20);
		uint32_t block = 0;
		for (uint64_t s = s0; s < end; s++) {
			uint32_t v = slots[s] & ~tags, full = (uint32_t)(slots[s] != 0);
			over |= full & ((uint32_t)(v == 0) | (uint32_t)(v > n32));
			block += full;
		}
		filled += block;
	}
	if (over)
		return "an address table slot names no object";
	if (filled != n)
		return "the address table does not hold every object once";
	const char *bad = ch_objects_wide_check(sec[S_SIZE].data, sec[S_REFCNT].data, n, sec[S_WIDE].data, w[H_WIDE]);
	if (bad)
		return bad;
	/* The tree's entries are in range here; whether they form a tree is
	 * checked where it is used (ch_dominators_from_tree), which needs
	 * scratch a load of the other tables should not pay for. */
	const uint32_t *idom = sec[S_IDOM].data, *order = sec[S_ORDER].data;
	uint64_t reached = 0;
	unsigned dom_bad = 0;
	for (uint64_t i = 0; i < w[H_DOMS]; i++) {
		dom_bad |= idom[i] != CH_NO_OBJECT && idom[i] != CH_DOM_ROOT && idom[i] >= n;
		reached += idom[i] != CH_NO_OBJECT;
	}
	if (dom_bad)
		return "an immediate dominator is out of range";
	if (reached != w[H_DOM_REACH])
		return "the dominator tree's preorder does not match its reachable objects";
	for (uint64_t k = 0; k < w[H_DOM_REACH]; k++)
		if (order[k] >= n || idom[order[k]] == CH_NO_OBJECT)
			return "the dominator tree's preorder is out of range";
	/* The memory figures: known flags, owned chunks of a known type
	 * (their addresses are printed, never followed). */
	const uint64_t *mw = sec[S_MEM].data;
	if (w[H_MEM] && (mw[CH_MEMB_FLAGS] & ~(uint64_t)CH_MEMB_FLAGS_ALL))
		return "the memory figures' flags are unknown";
	const struct ch_mem_owned_chunk *owned = sec[S_OWNED].data;
	for (uint64_t k = 0; k < w[H_MEM_OWNED]; k++)
		if (owned[k].type >= nt)
			return "an owned chunk's type is out of range";
	return NULL;
}

/* The roots' and the paths' entries in range. Which frame or thread a
 * root names is checked against the frames read again (ch_roots_find);
 * whether the paths form the search's tree where they are used
 * (ch_paths_from_stored), as the dominator tree is. */
static const char *check_roots_paths(const uint64_t *w, const struct section *sec)
{
	uint32_t n = (uint32_t)w[H_OBJECTS];
	const struct ch_heap_index_root *rec = sec[S_ROOTS].data;
	const uint32_t *set = sec[S_ROOT_SET].data;
	for (uint64_t i = 0; i < w[H_NROOTS]; i++)
		if (rec[i].object >= n || rec[i].kind >= CH_ROOT_NKINDS ||
		    (rec[i].name >= n && rec[i].name != CH_NO_OBJECT) || (set[i] != rec[i].object && set[i] != CH_NO_OBJECT))
			return "a root is out of range";
	/* Vectorized as the objects' checks are: a flag per condition. */
	const uint32_t *parent = sec[S_PARENT].data, *via = sec[S_VIA].data, *rank = sec[S_RANK].data;
	uint32_t e = (uint32_t)w[H_EDGES], reach = (uint32_t)w[H_PATH_REACH], bad = 0, reached = 0;
	for (uint64_t i = 0; i < w[H_PATHS]; i++) {
		uint32_t p = parent[i], none = (uint32_t)(p == CH_NO_OBJECT), root = (uint32_t)(p == CH_PATH_ROOT);
		bad |= (uint32_t)(p >= n) & (none ^ 1u) & (root ^ 1u);
		bad |= none ^ (uint32_t)(rank[i] == UINT32_MAX);
		bad |= (none ^ 1u) & (uint32_t)(rank[i] >= reach);
		bad |= (none | root | (uint32_t)(via[i] < e)) ^ 1u;
		bad |= none & (uint32_t)(via[i] != UINT32_MAX);
		reached += none ^ 1u;
	}
	if (bad)
		return "a shortest path's parent, edge or rank is out of range";
	if (reached != w[H_PATH_REACH])
		return "the shortest paths do not reach as many objects as they say";
	return NULL;
}

static const char *check_payload(const uint64_t *w, const struct section *sec)
{
	const char *bad = check_objects(w, sec);
	if (!bad)
		bad = check_edges(w, sec);
	if (!bad)
		bad = check_rest(w, sec);
	if (!bad)
		bad = check_roots_paths(w, sec);
	return bad;
}

/* The range checks run on a second thread while the loading one sums the
 * payload: both only read the mapped file, and the outcome is the same
 * whatever finishes first (a checksum failure is said before a range
 * failure, as when they ran one after the other). */
struct payload_job {
	const uint64_t *w;
	const struct section *sec;
	const char *bad;
};

static void *payload_job_run(void *arg)
{
	struct payload_job *j = arg;
	j->bad = check_payload(j->w, j->sec);
	return NULL;
}

#define WHY(...) snprintf(why, why_len, __VA_ARGS__)

enum ch_heap_index_outcome ch_heap_index_verify(const void *data, size_t size, const struct ch_heap_index_key *key,
						bool check_sum, struct section *sec, char *why, size_t why_len)
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
	const char *p = (const char *)data + sizeof(h);
	for (int s = 0; s < S_COUNT; s++) {
		sec[s].data = (void *)p;
		sec[s].bytes = bytes[s];
		p += ch_heap_index_pad8(bytes[s]);
	}
	/* Not for a tiny payload, whose check costs less than a thread (the
	 * fixtures of the index tests, a few megabytes, take the threaded path). */
	struct payload_job job = {h.w, sec, NULL};
	pthread_t thread;
	bool threaded = check_sum && payload >= ((size_t)1 << 20) &&
			pthread_create(&thread, NULL, payload_job_run, &job) == 0;
	uint64_t sum = 0;
	bool base_ok = true;
	for (int s = 0; check_sum && s < S_COUNT; s++) {
		if (bytes[s])
			sum = ch_heap_index_payload_sum(sum, sec[s].data, bytes[s]);
		if (s == S_BASE - 1)
			base_ok = sum == h.w[H_BASE_SUM];
	}
	if (threaded)
		pthread_join(thread, NULL);
	else
		job.bad = check_payload(h.w, sec);
	if (check_sum && (!base_ok || ch_heap_index_hash(sum, h.w, H_CHECKSUM * sizeof(uint64_t)) != h.w[H_CHECKSUM])) {
		WHY("its checksum does not match its contents");
		return CH_HEAP_INDEX_DAMAGED;
	}
	if (job.bad) {
		WHY("%s", job.bad);
		return CH_HEAP_INDEX_DAMAGED;
	}
	return CH_HEAP_INDEX_LOADED;
}
