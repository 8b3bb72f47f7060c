/* Adding a result to an index: its tail rewritten, the base copied as it
 * is (docs/index.md). */
#include "heap_index.h"
#include "graph/heap_index_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/dominators.h"
#include "graph/memory_brief.h"

/* ---- adding a result: the tail rewritten, or staged ------------------------ */

void ch_heap_index_ref_deinit(struct ch_heap_index_ref *r)
{
	ch_shared_map_release(r->doms.backing);
	ch_shared_map_release(r->mem.backing);
	ch_shared_map_release(r->roots.backing);
	ch_shared_map_release(r->paths.backing);
	ch_shared_map_release(r->scan.backing);
	ch_heap_index_stage_drop(r);
	memset(r, 0, sizeof(*r));
}

uint64_t ch_heap_index_roots_hash(const uint32_t *roots, size_t n)
{
	return ch_heap_index_hash(0x726f6f7473ULL ^ n, roots, n * sizeof(*roots));
}

uint64_t ch_heap_index_paths_hash(const uint32_t *roots, const uint8_t *tiers, size_t n)
{
	return ch_heap_index_hash(ch_heap_index_roots_hash(roots, n) ^ 0x7061746873ULL, tiers, n);
}

/* len bytes of in from offset off to out at its current end: in the kernel
 * where it can (no pass through user memory), else written from map. */
static bool copy_range(int in, int out, const char *map, size_t off, size_t len)
{
	loff_t from = (loff_t)off;
	size_t left = len;
	while (left) {
		ssize_t c = copy_file_range(in, &from, out, NULL, left, 0);
		if (c < 0 && errno == EINTR)
			continue;
		if (c <= 0)
			break;
		left -= (size_t)c;
	}
	return !left || ch_heap_index_write_all(out, map + off + (len - left), left);
}

/* What a rewrite puts in the index's tail in place of what it held: a
 * section left NULL (tree: d; memory: mem) is copied from the file. */
struct tail {
	const struct ch_dominators *d; /* the tree */
	uint64_t roots;
	const struct ch_heap_index_typerow *rows; /* the tree's retainers by type */
	size_t nrows;
	/* The tree's flame graph, built over the tree and search hashed as
	 * flame_dom and flame_paths (must be the file's). Without one, a new
	 * tree or search drops the file's. */
	const struct ch_heap_index_flame_name *flnames;
	const struct ch_heap_index_flame_frame *flframes;
	size_t nflnames, nflframes, flnroots;
	uint64_t flame_dom, flame_paths;
	const struct ch_memory_brief *mem;
	const struct ch_heap_index_root *recs; /* the roots */
	const uint32_t *set;
	size_t nroots;
	const uint32_t *parent, *via, *rank; /* the paths */
	size_t npreached;
	uint64_t proots;
	const uint32_t *maybe; /* the scan's counts */
	uint64_t scan_inputs;
};

/* A new file beside the index at path, named path.KIND.PID (*name
 * malloc'd), opened with flags and mode, in *fd. */
static struct ch_error *open_beside(const char *path, const char *kind, int flags, mode_t mode, char **name, int *fd)
{
	size_t len = strlen(path) + strlen(kind) + 32;
	if (!(*name = malloc(len)))
		return &ch_error_nomem;
	snprintf(*name, len, "%s.%s.%ld", path, kind, (long)getpid());
	*fd = open(*name, flags | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (*fd >= 0)
		return NULL;
	struct ch_error *err = ch_error_new(CH_ERR_INPUT, "cannot create %s: %s", *name, strerror(errno));
	free(*name);
	return err;
}

struct ch_error *ch_heap_index_tmp_create(const char *path, char **tmp, int *out)
{
	return open_beside(path, "tmp", O_WRONLY, 0644, tmp, out);
}

struct ch_error *ch_heap_index_tmp_finish(const char *path, char *tmp, int out, bool ok)
{
	struct ch_error *err = NULL;
	if (close(out) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		err = ch_error_new(CH_ERR_INPUT, "cannot write the index %s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
	}
	free(tmp);
	return err;
}

/* The tail staged so far (graph/heap_index.h): the index as the adds
 * would have left it is orig's file with h for header, table for block
 * table, and each tail section s either in the spool at off[s] (spooled:
 * added since) or where orig puts it in the file (kept). The file must
 * still begin with orig when a later add or the commit reads it. */
struct ch_heap_index_stage {
	bool staged; /* an add succeeded: orig, h and table hold */
	struct header orig, h;
	uint64_t *table;
	bool spooled[S_COUNT];
	uint64_t off[S_COUNT];
	int spool; /* -1 until the first add */
	uint64_t spool_len;
	void *spool_map; /* spool_len bytes, or NULL */
};

struct ch_error *ch_heap_index_stage_begin(struct ch_heap_index_ref *r)
{
	ch_heap_index_stage_drop(r);
	r->stage = calloc(1, sizeof(*r->stage));
	if (!r->stage)
		return &ch_error_nomem;
	r->stage->spool = -1;
	return NULL;
}

void ch_heap_index_stage_drop(struct ch_heap_index_ref *r)
{
	struct ch_heap_index_stage *st = r->stage;
	if (!st)
		return;
	if (st->spool_map)
		munmap(st->spool_map, st->spool_len);
	if (st->spool >= 0)
		close(st->spool);
	free(st->table);
	free(st);
	r->stage = NULL;
}

/* The spool, made on the first add: beside the index (so the commit's
 * copy stays in one file system), unlinked at once. */
static struct ch_error *stage_spool_open(struct ch_heap_index_stage *st, const char *path)
{
	if (st->spool >= 0)
		return NULL;
	char *name;
	struct ch_error *err = open_beside(path, "spool", O_RDWR, 0600, &name, &st->spool);
	if (err)
		return err;
	unlink(name);
	free(name);
	return NULL;
}

/* Stages the index the add would write (header h, the tail sections at
 * data, bytes[s] each, block table table, taken over on success): the
 * sections not at old[s] go to the end of the spool. On an error the
 * stage is as it was. */
static struct ch_error *stage_keep(struct ch_heap_index_stage *st, const char *path, const struct header *file_h,
				   const struct header *h, const void *const *data, const void *const *old,
				   const size_t *bytes, uint64_t **table)
{
	struct ch_error *err = stage_spool_open(st, path);
	if (err)
		return err;
	bool spooled[S_COUNT];
	uint64_t off[S_COUNT], len = st->spool_len;
	memcpy(spooled, st->spooled, sizeof(spooled));
	memcpy(off, st->off, sizeof(off));
	bool ok = lseek(st->spool, (off_t)len, SEEK_SET) == (off_t)len;
	errno = 0;
	for (int s = S_BASE; ok && s < S_BLOCKS; s++) {
		if (data[s] == old[s])
			continue;
		spooled[s] = true;
		off[s] = len;
		ok = !bytes[s] || ch_heap_index_write_all(st->spool, data[s], bytes[s]);
		len += ch_heap_index_pad8(bytes[s]);
	}
	void *map = NULL;
	if (ok && len && (map = mmap(NULL, len, PROT_READ, MAP_SHARED, st->spool, 0)) == MAP_FAILED) {
		map = NULL;
		ok = false;
	}
	if (!ok) {
		err = ch_error_new(CH_ERR_INPUT, "cannot write beside the index %s: %s", path,
				   strerror(errno ? errno : EIO));
		return err; /* what was written past spool_len is overwritten by the next add */
	}
	if (st->spool_map)
		munmap(st->spool_map, st->spool_len);
	st->spool_map = map;
	st->spool_len = len;
	memcpy(st->spooled, spooled, sizeof(spooled));
	memcpy(st->off, off, sizeof(off));
	if (!st->staged)
		st->orig = *file_h;
	st->h = *h;
	free(st->table);
	st->table = *table;
	*table = NULL;
	st->staged = true;
	return NULL;
}

/* Rewrites the index at r->path with the tail t, through a temporary file
 * renamed into place. The file must still be the index of r; the tail it
 * keeps is checked against the file's checksum before it is copied. */
static struct ch_error *rewrite_tail(const struct ch_heap_index_ref *r, const struct tail *t)
{
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(CH_ERR_INPUT, "cannot open %s: %s", r->path, strerror(errno));
	struct stat st;
	struct header h;
	size_t bytes[S_COUNT];
	size_t base = 0, old_len = 0;
	uint64_t *table = NULL;
	void *map = MAP_FAILED;
	struct ch_error *err = NULL;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(h) ||
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		err = ch_error_new(CH_ERR_INPUT, "cannot read %s", r->path);
		goto out;
	}
	/* The file must still be the index this heap came from: another
	 * command may have replaced it since. Its base is copied as it is; a
	 * damage there since it was checked shows in the new file's checksum. */
	memcpy(&h, map, sizeof(h));
	bool sizes = memcmp(h.magic, CH_INDEX_MAGIC, 8) == 0 && h.version == CH_INDEX_VERSION &&
		     h.header_size == sizeof(h) && memcmp(&h.w[H_KEY], r->key.v, sizeof(r->key.v)) == 0 &&
		     h.w[H_OBJECTS] == r->nobjects && h.w[H_EDGES] == r->nedges && ch_heap_index_section_sizes(h.w, bytes);
	for (int s = 0; sizes && s < S_COUNT; s++) {
		if (s < S_BASE)
			base += ch_heap_index_pad8(bytes[s]);
		old_len += ch_heap_index_pad8(bytes[s]);
	}
	if (!sizes || (size_t)st.st_size != sizeof(h) + old_len || (t->d && (t->d->nreachable > r->nobjects || t->d->nobjects != r->nobjects)) ||
	    (t->parent && t->npreached > r->nobjects)) {
		err = ch_error_new(CH_ERR_INPUT, "%s is no longer the index of this heap", r->path);
		goto out;
	}
	/* The old tail, where it lies (in the file, or staged: the file must
	 * then still be the one staged from); what of it is kept is checked
	 * below. */
	const void *old[S_COUNT] = {0};
	const char *p = (const char *)map + sizeof(h) + base;
	for (int s = S_BASE; s < S_COUNT; s++) {
		old[s] = p;
		p += ch_heap_index_pad8(bytes[s]);
	}
	struct ch_heap_index_stage *sg = r->stage;
	struct header file_h = h;
	if (sg && sg->staged) {
		if (memcmp(&h, &sg->orig, sizeof(h)) != 0) {
			err = ch_error_new(CH_ERR_INPUT, "%s is no longer the index of this heap", r->path);
			goto out;
		}
		h = sg->h;
		ch_heap_index_section_sizes(h.w, bytes); /* checked when staged */
		for (int s = S_BASE; s < S_BLOCKS; s++)
			if (sg->spooled[s])
				old[s] = (const char *)sg->spool_map + sg->off[s];
		old[S_BLOCKS] = sg->table;
	}
	size_t old_bytes[S_COUNT];
	memcpy(old_bytes, bytes, sizeof(bytes));
	if (ch_heap_index_header_sum(&h) != h.w[H_CHECKSUM] ||
	    ch_heap_index_section_sum(S_BLOCKS, old[S_BLOCKS], bytes[S_BLOCKS]) != h.sums[S_BLOCKS]) {
		err = ch_error_new(CH_ERR_INPUT, "%s is damaged (its checksum does not match its contents)", r->path);
		goto out;
	}
	const void *data[S_COUNT] = {0};
	for (int s = S_BASE; s < S_COUNT; s++)
		data[s] = old[s];
	if (t->d) {
		h.w[H_DOMS] = r->nobjects;
		h.w[H_DOM_REACH] = t->d->nreachable;
		h.w[H_DOM_ROOTS] = t->roots;
		h.w[H_DOM_BYTES] = t->d->reachable_bytes;
		h.w[H_DOM_UNBYTES] = t->d->unreachable_bytes;
		data[S_IDOM] = t->d->idom;
		data[S_ORDER] = t->d->order;
		data[S_RETAINED] = t->d->retained;
		data[S_RETCOUNT] = t->d->retained_count;
		h.w[H_TYPEROWS] = t->nrows;
		data[S_TYPEROWS] = t->rows;
	}
	if (t->mem) {
		h.w[H_MEM] = 1;
		h.w[H_MEM_OWNED] = t->mem->nowned;
		data[S_MEM] = t->mem->w;
		data[S_OWNED] = t->mem->owned;
	}
	if (t->recs) {
		h.w[H_ROOTS] = 1;
		h.w[H_NROOTS] = t->nroots;
		data[S_ROOTS] = t->recs;
		data[S_ROOT_SET] = t->set;
	}
	if (t->parent) {
		h.w[H_PATHS] = r->nobjects;
		h.w[H_PATH_REACH] = t->npreached;
		h.w[H_PATH_ROOTS] = t->proots;
		data[S_PARENT] = t->parent;
		data[S_VIA] = t->via;
		data[S_RANK] = t->rank;
	}
	if (t->flframes && (!h.w[H_DOMS] || h.w[H_DOM_ROOTS] != t->flame_dom || !h.w[H_PATHS] ||
			    h.w[H_PATH_ROOTS] != t->flame_paths)) {
		err = ch_error_new(CH_ERR_INPUT, "%s no longer holds the tree and paths the flame graph was built from",
				   r->path);
		goto out;
	}
	if (t->flframes) {
		h.w[H_FLAME] = 1;
		h.w[H_FLAME_NAMES] = t->nflnames;
		h.w[H_FLAME_FRAMES] = t->nflframes;
		h.w[H_FLAME_ROOTS] = t->flame_paths;
		h.w[H_FLAME_NROOTS] = t->flnroots;
		data[S_FLNAMES] = t->flnames;
		data[S_FLFRAMES] = t->flframes;
	} else if (t->d || t->parent) {
		/* Built over what is replaced: no longer this file's. */
		h.w[H_FLAME] = h.w[H_FLAME_NAMES] = h.w[H_FLAME_FRAMES] = h.w[H_FLAME_ROOTS] = h.w[H_FLAME_NROOTS] = 0;
		data[S_FLNAMES] = data[S_FLFRAMES] = NULL; /* summed again (empty), not checked as kept */
	}
	if (t->maybe) {
		h.w[H_SCAN] = r->nobjects;
		h.w[H_SCAN_INPUTS] = t->scan_inputs;
		data[S_MAYBE] = t->maybe;
	}
	if (!ch_heap_index_section_sizes(h.w, bytes)) {
		err = ch_error_new(CH_ERR_UNSUPPORTED, "the memory figures or the roots are too large for the index");
		goto out;
	}
	/* A section kept is checked against its sum before it is copied; the
	 * base is copied with its sums (and its blocks'), so a damage there
	 * since it was checked shows when a command uses it. */
	size_t payload = base;
	for (int s = S_BASE; s < S_BLOCKS; s++)
		if (data[s] == old[s] && ch_heap_index_section_sum(s, data[s], bytes[s]) != h.sums[s]) {
			err = ch_error_new(CH_ERR_INPUT, "%s is damaged (its checksum does not match its contents)", r->path);
			goto out;
		}
	if (!(table = malloc(bytes[S_BLOCKS] ? bytes[S_BLOCKS] : 1))) {
		err = &ch_error_nomem;
		goto out;
	}
	ch_heap_index_sum_all(data, bytes, S_BASE, old[S_BLOCKS], old_bytes, table, h.sums);
	data[S_BLOCKS] = table;
	for (int s = S_BASE; s < S_COUNT; s++)
		payload += ch_heap_index_pad8(bytes[s]);
	h.w[H_PAYLOAD] = payload;
	h.w[H_CHECKSUM] = ch_heap_index_header_sum(&h);
	if (sg) {
		err = stage_keep(sg, r->path, &file_h, &h, data, old, bytes, &table);
		goto out;
	}

	char *tmp;
	int out;
	if ((err = ch_heap_index_tmp_create(r->path, &tmp, &out)))
		goto out;
	errno = 0;
	bool ok = ch_heap_index_write_all(out, &h, sizeof(h)) && copy_range(fd, out, map, sizeof(h), base);
	for (int s = S_BASE; ok && s < S_COUNT; s++)
		ok = !bytes[s] || ch_heap_index_write_all(out, data[s], bytes[s]);
	err = ch_heap_index_tmp_finish(r->path, tmp, out, ok);
out:
	free(table);
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	close(fd);
	return err;
}

struct ch_error *ch_heap_index_stage_commit(struct ch_heap_index_ref *r)
{
	struct ch_heap_index_stage *sg = r->stage;
	if (!sg || !sg->staged) {
		ch_heap_index_stage_drop(r);
		return NULL;
	}
	struct ch_error *err = NULL;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = ch_error_new(CH_ERR_INPUT, "cannot open %s: %s", r->path, strerror(errno));
		ch_heap_index_stage_drop(r);
		return err;
	}
	/* The file must still be the one staged from (its size follows from
	 * its header, checked by the first add). */
	struct stat st;
	struct header h;
	size_t file_bytes[S_COUNT], bytes[S_COUNT], len = sizeof(h);
	void *map = MAP_FAILED;
	bool same = fstat(fd, &st) == 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    memcmp(&h, &sg->orig, sizeof(h)) == 0 && ch_heap_index_section_sizes(h.w, file_bytes) &&
		    ch_heap_index_section_sizes(sg->h.w, bytes);
	for (int s = 0; same && s < S_COUNT; s++)
		len += ch_heap_index_pad8(file_bytes[s]);
	if (!same || (size_t)st.st_size != len ||
	    (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		err = ch_error_new(CH_ERR_INPUT, "%s is no longer the index of this heap", r->path);
		goto out;
	}
	size_t at[S_COUNT], off = sizeof(h);
	for (int s = 0; s < S_COUNT; s++) {
		at[s] = off;
		off += ch_heap_index_pad8(file_bytes[s]);
	}
	char *tmp;
	int out;
	if ((err = ch_heap_index_tmp_create(r->path, &tmp, &out)))
		goto out;
	/* The base and the tail sections kept as they lie in the file, the
	 * sections added from the spool: all in the kernel where it can. */
	errno = 0;
	bool ok = ch_heap_index_write_all(out, &sg->h, sizeof(sg->h)) &&
		  copy_range(fd, out, map, sizeof(h), at[S_BASE] - sizeof(h));
	for (int s = S_BASE; ok && s < S_BLOCKS; s++) {
		size_t n = ch_heap_index_pad8(bytes[s]);
		if (n && sg->spooled[s])
			ok = copy_range(sg->spool, out, sg->spool_map, sg->off[s], n);
		else if (n)
			ok = copy_range(fd, out, map, at[s], n);
	}
	ok = ok && ch_heap_index_write_all(out, sg->table, bytes[S_BLOCKS]);
	err = ch_heap_index_tmp_finish(r->path, tmp, out, ok);
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	close(fd);
	ch_heap_index_stage_drop(r);
	return err;
}

struct ch_error *ch_heap_index_add_dominators(const struct ch_heap_index_ref *r, uint64_t roots_hash,
					      const struct ch_dominators *d, const struct ch_heap_index_typerow *rows,
					      size_t nrows)
{
	struct tail t = {.d = d, .roots = roots_hash, .rows = rows, .nrows = nrows};
	return rewrite_tail(r, &t);
}

struct ch_error *ch_heap_index_add_flame(const struct ch_heap_index_ref *r, uint64_t dom_roots, uint64_t path_roots,
					 size_t nroots, const struct ch_heap_index_flame_name *names, size_t nnames,
					 const struct ch_heap_index_flame_frame *frames, size_t nframes)
{
	/* frames is never NULL here, even for no frames: it says a flame is given. */
	static const struct ch_heap_index_flame_frame none;
	struct tail t = {.flnames = names, .flframes = frames ? frames : &none, .nflnames = nnames, .nflframes = nframes,
			 .flnroots = nroots, .flame_dom = dom_roots, .flame_paths = path_roots};
	return rewrite_tail(r, &t);
}

struct ch_error *ch_heap_index_add_memory(const struct ch_heap_index_ref *r, const struct ch_memory_brief *mem)
{
	struct tail t = {.mem = mem};
	return rewrite_tail(r, &t);
}

struct ch_error *ch_heap_index_add_paths(const struct ch_heap_index_ref *r, const struct ch_heap_index_root *recs,
					 const uint32_t *set, size_t nroots, uint64_t roots_hash, const uint32_t *parent,
					 const uint32_t *via, const uint32_t *rank, size_t nreached)
{
	struct tail t = {.recs = recs, .set = set, .nroots = nroots, .parent = parent, .via = via, .rank = rank,
			 .npreached = nreached, .proots = roots_hash};
	return rewrite_tail(r, &t);
}

struct ch_error *ch_heap_index_add_scan(const struct ch_heap_index_ref *r, uint64_t inputs, const uint32_t *maybe)
{
	struct tail t = {.maybe = maybe, .scan_inputs = inputs};
	return rewrite_tail(r, &t);
}
