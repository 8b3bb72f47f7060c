#include "heap_index.h"
#include "graph/heap_index_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/dominators.h"
#include "graph/gc_replay.h"
#include "graph/memory_brief.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"
#include "readers/process/process.h"



void ch_heap_index_mark_take(const struct ch_python *py, struct ch_heap_index_mark *m)
{
	m->messages = py->diag.n;
	m->dropped = py->diag.dropped;
	m->partial = py->diag.partial;
	m->lost_reads = py->proc ? py->proc->as.lost_reads : 0;
}



/* ---- writing ------------------------------------------------------------ */

/* Strings gathered for the file: NUL-terminated, offsets into one blob. */
struct strbuf {
	char *p;
	size_t len, cap;
};

static bool str_add(struct strbuf *s, const char *text, uint32_t *off)
{
	size_t n = strlen(text) + 1;
	if (s->len + n > UINT32_MAX)
		return false;
	if (s->len + n > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		while (ncap < s->len + n)
			ncap *= 2;
		char *p = realloc(s->p, ncap);
		if (!p)
			return false;
		s->p = p;
		s->cap = ncap;
	}
	memcpy(s->p + s->len, text, n);
	*off = (uint32_t)s->len;
	s->len += n;
	return true;
}

bool ch_heap_index_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	static const char zeros[8];
	size_t padded = ch_heap_index_pad8(len);
	while (len) {
		ssize_t w = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	if (padded != (size_t)(p - (const char *)data) && write(fd, zeros, padded - (size_t)(p - (const char *)data)) !=
							      (ssize_t)(padded - (size_t)(p - (const char *)data)))
		return false;
	return true;
}

struct ch_error *ch_heap_index_write(const char *path, const struct ch_heap_index_key *key,
				     const struct ch_heap *heap, const struct ch_edges *edges,
				     const struct ch_gc_replay *replay, const struct ch_heap_index_mark *mark)
{
	const struct ch_object_table *o = &heap->objects;
	const struct ch_python *py = heap->py;
	struct ch_error *err = NULL;
	struct strbuf sb = {0};
	uint64_t *types = malloc((py->types.n ? py->types.n : 1) * sizeof(*types));
	uint32_t *names = malloc((edges->nnames ? edges->nnames : 1) * sizeof(*names));
	struct xtype_rec *xt = calloc(edges->exactness.ntypes ? edges->exactness.ntypes : 1, sizeof(*xt));
	struct ch_wide_rec *wide = NULL;
	size_t nwide = 0;
	size_t nmsg = py->diag.n > mark->messages ? py->diag.n - mark->messages : 0;
	uint32_t msgs[64 + 1];
	if (!types || !names || !xt) {
		err = &ch_error_nomem;
		goto out;
	}
	if ((err = ch_objects_wide_records(o, &wide, &nwide)))
		goto out;
	for (size_t i = 0; i < py->types.n; i++)
		types[i] = py->types.v[i].addr;
	bool ok = true;
	for (size_t i = 0; ok && i < edges->nnames; i++)
		ok = str_add(&sb, edges->names[i], &names[i]);
	for (size_t i = 0; ok && i < edges->exactness.ntypes; i++) {
		const struct ch_conservative_type *c = &edges->exactness.types[i];
		xt[i].type = c->type;
		xt[i].objects = c->objects;
		ok = str_add(&sb, c->reason ? c->reason : "", &xt[i].reason);
	}
	if (nmsg > 64)
		nmsg = 64;
	for (size_t i = 0; ok && i < nmsg; i++)
		ok = str_add(&sb, py->diag.messages[mark->messages + i], &msgs[i]);
	if (!ok) {
		err = &ch_error_nomem;
		goto out;
	}

	struct header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CH_INDEX_MAGIC, 8);
	h.version = CH_INDEX_VERSION;
	h.header_size = sizeof(h);
	memcpy(&h.w[H_KEY], key->v, sizeof(key->v));
	h.w[H_OBJECTS] = o->n;
	h.w[H_EDGES] = edges->nedges;
	h.w[H_TYPES] = py->types.n;
	h.w[H_XOBJECTS] = edges->exactness.nobjects;
	h.w[H_XTYPES] = edges->exactness.ntypes;
	h.w[H_NAMES] = edges->nnames;
	h.w[H_MESSAGES] = nmsg;
	h.w[H_STRINGS] = sb.len;
	for (int g = 0; g < 4; g++)
		h.w[H_LISTS + g] = heap->list_counts[g];
	h.w[H_DANGLING] = edges->dangling;
	h.w[H_UNDUMPED] = edges->undumped;
	h.w[H_UNREADABLE] = edges->unreadable;
	h.w[H_DROPPED] = py->diag.dropped - mark->dropped;
	h.w[H_LOST] = py->proc ? py->proc->as.lost_reads - mark->lost_reads : 0;
	h.w[H_FLAGS] = py->diag.partial && !mark->partial ? H_FLAG_PARTIAL : 0;
	h.w[H_INTERPS] = py->ninterps ? py->ninterps : 1;
	if (o->idle_slots) { /* its slots are scratch until settled: never written as the table */
		err = ch_error_new(CH_ERR_UNSUPPORTED, "the address table was not settled before the index was written");
		goto out;
	}
	h.w[H_SLOTS] = o->index.nslots;
	h.w[H_WIDE] = nwide;

	size_t bytes[S_COUNT];
	if (!ch_heap_index_section_sizes(h.w, bytes)) {
		err = ch_error_new(CH_ERR_UNSUPPORTED, "the heap is too large for an index");
		goto out;
	}
	const void *data[S_COUNT] = {o->addr, o->size, o->refcnt, o->type, o->gen, o->flags, o->interp, edges->offsets,
				     edges->targets, edges->labels, types, edges->exactness.objects, xt, names,
				     msgs, sb.p, replay->state, o->index.slots, wide};
	uint64_t *table = malloc(bytes[S_BLOCKS] ? bytes[S_BLOCKS] : 1);
	if (!table) {
		err = &ch_error_nomem;
		goto out;
	}
	ch_heap_index_sum_all(data, bytes, 0, NULL, NULL, table, h.sums);
	data[S_BLOCKS] = table;
	uint64_t payload = 0;
	for (int s = 0; s < S_COUNT; s++)
		payload += ch_heap_index_pad8(bytes[s]);
	h.w[H_PAYLOAD] = payload;
	h.w[H_CHECKSUM] = ch_heap_index_header_sum(&h);

	char *tmp;
	int fd;
	if (!(err = ch_heap_index_tmp_create(path, &tmp, &fd))) {
		errno = 0;
		ok = ch_heap_index_write_all(fd, &h, sizeof(h));
		for (int s = 0; ok && s < S_COUNT; s++)
			ok = !bytes[s] || ch_heap_index_write_all(fd, data[s], bytes[s]);
		err = ch_heap_index_tmp_finish(path, tmp, fd, ok);
	}
	free(table);
out:
	free(sb.p);
	free(types);
	free(names);
	free(xt);
	free(wide);
	return err;
}

#define WHY(...) snprintf(why, why_len, __VA_ARGS__)

/* ---- loading ------------------------------------------------------------ */


/* The stored memory figures of a checked index, pointing into it. */
static void mem_take(const uint64_t *w, const struct section *sec, struct ch_heap_index_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
	if (!w[H_MEM])
		return;
	mem->have = true;
	memcpy(mem->b.w, sec[S_MEM].data, sizeof(mem->b.w));
	mem->b.owned = sec[S_OWNED].data;
	mem->b.nowned = w[H_MEM_OWNED];
}

/* The stored dominator tree of a checked index, pointing into it. */
static void doms_take(const uint64_t *w, const struct section *sec, struct ch_heap_index_doms *doms)
{
	doms->idom = sec[S_IDOM].data;
	doms->order = sec[S_ORDER].data;
	doms->retained = sec[S_RETAINED].data;
	doms->retained_count = sec[S_RETCOUNT].data;
	doms->typerows = sec[S_TYPEROWS].data;
	doms->ntyperows = w[H_TYPEROWS];
	doms->flame = w[H_FLAME] != 0 && sec[S_FLFRAMES].data; /* and verified (as the tree is) */
	doms->flame_names = sec[S_FLNAMES].data;
	doms->flame_frames = sec[S_FLFRAMES].data;
	doms->flame_nnames = w[H_FLAME_NAMES];
	doms->flame_nframes = w[H_FLAME_FRAMES];
	doms->flame_roots = w[H_FLAME_ROOTS];
	doms->flame_nroots = w[H_FLAME_NROOTS];
	doms->nobjects = w[H_DOMS];
	doms->nreach = w[H_DOM_REACH];
	doms->reachable_bytes = w[H_DOM_BYTES];
	doms->unreachable_bytes = w[H_DOM_UNBYTES];
	doms->roots = w[H_DOM_ROOTS];
}

/* The stored roots and paths of a checked index, pointing into it. */
static void roots_paths_take(const uint64_t *w, const struct section *sec, struct ch_heap_index_roots *roots,
			     struct ch_heap_index_paths *paths)
{
	if (roots) {
		memset(roots, 0, sizeof(*roots));
		roots->have = w[H_ROOTS] != 0;
		roots->recs = sec[S_ROOTS].data;
		roots->set = sec[S_ROOT_SET].data;
		roots->n = w[H_NROOTS];
	}
	if (paths) {
		memset(paths, 0, sizeof(*paths));
		if (w[H_PATHS]) {
			paths->parent = sec[S_PARENT].data;
			paths->via = sec[S_VIA].data;
			paths->rank = sec[S_RANK].data;
			paths->nobjects = w[H_PATHS];
			paths->nreached = w[H_PATH_REACH];
			paths->roots = w[H_PATH_ROOTS];
		}
	}
}

/* The stored scan counts of a checked index (their section verified),
 * pointing into it. */
static void scan_take(const uint64_t *w, const struct section *sec, struct ch_heap_index_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
	if (!w[H_SCAN] || !sec[S_MAYBE].data)
		return;
	scan->maybe = sec[S_MAYBE].data;
	scan->nobjects = w[H_SCAN];
	scan->inputs = w[H_SCAN_INPUTS];
}

enum ch_heap_index_outcome ch_heap_index_check(const void *data, size_t size, const struct ch_heap_index_key *key,
					       bool check_sum, uint32_t needs, struct ch_heap_index_doms *doms,
					       struct ch_heap_index_mem *mem, struct ch_heap_index_roots *roots,
					       struct ch_heap_index_paths *paths, struct ch_heap_index_scan *scan, char *why,
					       size_t why_len)
{
	struct section sec[S_COUNT];
	enum ch_heap_index_outcome r = ch_heap_index_verify(
		data, size, key, check_sum, ch_heap_index_need_sections(needs ? needs : CH_NEED_ALL), 0, sec, why, why_len);
	if (doms)
		memset(doms, 0, sizeof(*doms));
	if (mem)
		memset(mem, 0, sizeof(*mem));
	if (roots)
		memset(roots, 0, sizeof(*roots));
	if (paths)
		memset(paths, 0, sizeof(*paths));
	if (scan)
		memset(scan, 0, sizeof(*scan));
	if (r != CH_HEAP_INDEX_LOADED)
		return r;
	struct header h;
	memcpy(&h, data, sizeof(h));
	if (scan)
		scan_take(h.w, sec, scan);
	if (mem)
		mem_take(h.w, sec, mem);
	roots_paths_take(h.w, sec, roots, paths);
	if (paths && !sec[S_PARENT].data)
		memset(paths, 0, sizeof(*paths));
	if (doms && h.w[H_DOMS] && sec[S_IDOM].data)
		doms_take(h.w, sec, doms);
	return r;
}

struct ch_error *ch_heap_index_load(const char *path, const struct ch_heap_index_key *key, struct ch_python *py,
				    uint32_t *needs, uint32_t eager, struct ch_heap *heap, struct ch_edges *edges, const uint8_t **replay,
				    struct ch_heap_index_doms *doms, struct ch_heap_index_mem *mem,
				    struct ch_heap_index_roots *roots, struct ch_heap_index_paths *paths,
				    struct ch_heap_index_scan *scan, enum ch_heap_index_outcome *outcome, char *why,
				    size_t why_len)
{
	*replay = NULL;
	if (scan)
		memset(scan, 0, sizeof(*scan));
	if (mem)
		memset(mem, 0, sizeof(*mem));
	if (roots)
		memset(roots, 0, sizeof(*roots));
	if (paths)
		memset(paths, 0, sizeof(*paths));
	memset(heap, 0, sizeof(*heap));
	memset(edges, 0, sizeof(*edges));
	if (doms)
		memset(doms, 0, sizeof(*doms));
	*outcome = CH_HEAP_INDEX_DAMAGED;
	why[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*outcome = CH_HEAP_INDEX_ABSENT;
		WHY("%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		WHY("not a regular file");
		return NULL;
	}
	/* Private and writable: the tables point straight into the file, and
	 * a stray write (there should be none) lands on a private copy. */
	size_t len = (size_t)st.st_size;
	void *map = len ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : NULL;
	if (map == MAP_FAILED) {
		close(fd);
		WHY("cannot map it: %s", strerror(errno));
		return NULL;
	}
	/* A stored result the command would use but the file lacks is
	 * computed from everything (its needs widened, for the caller too). */
	struct header h;
	if (len >= sizeof(h)) {
		memcpy(&h, map, sizeof(h));
		if (*needs == 0 || ((*needs & CH_NEED_PATHS) && (!h.w[H_PATHS] || !h.w[H_ROOTS])) ||
		    ((*needs & CH_NEED_MEM) && !h.w[H_MEM]))
			*needs = CH_NEED_ALL;
	}
	struct section sec[S_COUNT];
	/* One lazy index per process, and only with a way to restart: a
	 * second load, or one nobody could restart, verifies at once. */
	uint64_t lazy = (*needs & CH_NEED_LAZY) && ch_index_lazy_available()
				? CH_INDEX_LAZY_SECTIONS & ~(eager ? ch_heap_index_need_sections(eager) : 0)
				: 0;
	*outcome = ch_heap_index_verify(map, len, key, true, ch_heap_index_need_sections(*needs), lazy, sec, why, why_len);
	if (*outcome == CH_HEAP_INDEX_LOADED && lazy) {
		memcpy(&h, map, sizeof(h));
		if (!ch_index_lazy_start(map, len, fd, h.w, lazy, why, why_len))
			*outcome = CH_HEAP_INDEX_DAMAGED;
	}
	close(fd);
	if (*outcome != CH_HEAP_INDEX_LOADED) {
		if (map)
			munmap(map, len);
		return NULL;
	}
	*outcome = CH_HEAP_INDEX_DAMAGED;
	struct ch_shared_map *backing = calloc(1, sizeof(*backing));
	if (!backing) {
		munmap(map, len);
		return &ch_error_nomem;
	}
	backing->p = map;
	backing->len = len;
	backing->refs = 1;
	/* A lazily read map stays until the process ends: the fault handler
	 * knows its addresses, which must never name another mapping. */
	if (lazy)
		ch_index_lazy_keep(ch_shared_map_hold(backing));
	memcpy(&h, map, sizeof(h));
	struct ch_error *err = NULL;
	/* The type table: interned again in the build's order, each must land
	 * at its stored index (the types known before the build come first in
	 * both). A type that no longer reads the same is a stale index. */
	if (h.w[H_INTERPS] != (py->ninterps ? py->ninterps : 1)) {
		*outcome = CH_HEAP_INDEX_STALE;
		WHY("the core's interpreters do not match the index");
		goto out;
	}
	const uint64_t *taddr = sec[S_TYPES].data;
	for (uint64_t i = 0; i < h.w[H_TYPES]; i++) {
		uint32_t ti;
		if ((err = ch_py_type_intern(py, taddr[i], &ti)))
			goto out;
		if (ti != i) {
			*outcome = CH_HEAP_INDEX_STALE;
			WHY("the core's type table does not match the index");
			goto out;
		}
	}
	struct ch_object_table *o = &heap->objects;
	heap->py = py;
	o->backing = ch_shared_map_hold(backing);
	o->addr = sec[S_ADDR].data;
	o->size = sec[S_SIZE].data;
	o->refcnt = sec[S_REFCNT].data;
	o->type = sec[S_TYPE].data;
	o->gen = sec[S_GEN].data;
	o->flags = sec[S_FLAGS].data;
	o->interp = sec[S_INTERP].data;
	o->n = o->cap = h.w[H_OBJECTS];
	for (int g = 0; g < 4; g++)
		heap->list_counts[g] = h.w[H_LISTS + g];
	edges->backing = ch_shared_map_hold(backing);
	edges->offsets = sec[S_OFFSETS].data;
	edges->targets = sec[S_TARGETS].data;
	edges->labels = sec[S_LABELS].data;
	edges->nedges = edges->cap = h.w[H_EDGES];
	edges->exactness.objects = sec[S_XOBJECTS].data;
	edges->exactness.nobjects = edges->exactness.capobjects = h.w[H_XOBJECTS];
	edges->names = malloc((h.w[H_NAMES] ? h.w[H_NAMES] : 1) * sizeof(*edges->names));
	edges->exactness.types = calloc(h.w[H_XTYPES] ? h.w[H_XTYPES] : 1, sizeof(*edges->exactness.types));
	if (!edges->names || !edges->exactness.types) {
		err = &ch_error_nomem;
		goto out;
	}
	const char *strings = sec[S_STRINGS].data;
	const uint32_t *names = sec[S_NAMES].data;
	for (uint64_t i = 0; i < h.w[H_NAMES]; i++)
		edges->names[i] = strings + names[i];
	edges->nnames = h.w[H_NAMES];
	const struct xtype_rec *xt = sec[S_XTYPES].data;
	for (uint64_t i = 0; i < h.w[H_XTYPES]; i++) {
		edges->exactness.types[i].type = xt[i].type;
		edges->exactness.types[i].objects = xt[i].objects;
		edges->exactness.types[i].reason = strings + xt[i].reason;
	}
	edges->exactness.ntypes = edges->exactness.captypes = h.w[H_XTYPES];
	edges->dangling = h.w[H_DANGLING];
	edges->undumped = h.w[H_UNDUMPED];
	edges->unreadable = h.w[H_UNREADABLE];
	o->index.slots = sec[S_SLOTS].data;
	o->index.nslots = h.w[H_SLOTS];
	o->index.borrowed = true;
	if (sec[S_WIDE].data && (err = ch_objects_wide_load(o, sec[S_WIDE].data, h.w[H_WIDE])))
		goto out;
	/* What the build said, said again. */
	const uint32_t *msgs = sec[S_MESSAGES].data;
	for (uint64_t i = 0; i < h.w[H_MESSAGES]; i++)
		ch_diag_warn(&py->diag, "%s", strings + msgs[i]);
	py->diag.dropped += h.w[H_DROPPED];
	if (h.w[H_FLAGS] & H_FLAG_PARTIAL)
		py->diag.partial = true;
	if (py->proc)
		py->proc->as.lost_reads += h.w[H_LOST];
	*replay = sec[S_REPLAY].data;
	if (doms && h.w[H_DOMS] && sec[S_IDOM].data) {
		doms_take(h.w, sec, doms);
		doms->backing = ch_shared_map_hold(backing);
	}
	if (mem && h.w[H_MEM]) {
		mem_take(h.w, sec, mem);
		mem->backing = ch_shared_map_hold(backing);
	}
	roots_paths_take(h.w, sec, roots, paths);
	if (paths && !sec[S_PARENT].data)
		memset(paths, 0, sizeof(*paths));
	if (roots && roots->have)
		roots->backing = ch_shared_map_hold(backing);
	if (paths && paths->parent)
		paths->backing = ch_shared_map_hold(backing);
	if (scan) {
		scan_take(h.w, sec, scan);
		if (scan->maybe)
			scan->backing = ch_shared_map_hold(backing);
	}
	*outcome = CH_HEAP_INDEX_LOADED;
out:
	if (*outcome != CH_HEAP_INDEX_LOADED) {
		ch_edges_deinit(edges);
		ch_heap_deinit(heap);
	}
	ch_shared_map_release(backing);
	return err;
}
