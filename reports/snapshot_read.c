#include "reports/snapshot_read.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

bool ch_snapshot_sniff(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '{')
			return true;
		if (!isspace((unsigned char)buf[i]))
			return false;
	}
	return false;
}

/* Where in the document a value sits, for error messages: "types[3].count". */
struct reader {
	const char *path;
	struct ch_heap_digest *d;
	struct ch_error *err;
};

static void bad(struct reader *r, const char *where, const char *key, const char *want)
{
	if (!r->err)
		r->err = ch_error_new(CH_ERR_INPUT, "snapshot %s: %s%s%s is missing or not %s", r->path, where,
				      *where && *key ? "." : "", key, want);
}

static uint64_t get_u64(struct reader *r, json_t *o, const char *where, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		bad(r, where, key, "a non-negative integer");
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

/* An integer, or null for "unknown" (-1), within [min, max]. */
static int64_t get_i64(struct reader *r, json_t *o, const char *where, const char *key, bool nullable,
		       int64_t min, int64_t max)
{
	json_t *v = json_object_get(o, key);
	if (nullable && json_is_null(v))
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		bad(r, where, key, nullable ? "an integer or null" : "an integer in range");
		return 0;
	}
	return json_integer_value(v);
}

static bool get_bool(struct reader *r, json_t *o, const char *where, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_boolean(v)) {
		bad(r, where, key, "true or false");
		return false;
	}
	return json_is_true(v);
}

static const char *get_str(struct reader *r, json_t *o, const char *where, const char *key, bool nullable)
{
	json_t *v = json_object_get(o, key);
	if (nullable && json_is_null(v))
		return "";
	if (!json_is_string(v)) {
		bad(r, where, key, "a string");
		return "";
	}
	return json_string_value(v);
}

static json_t *get(struct reader *r, json_t *o, const char *where, const char *key, json_type type)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_typeof(v) != type) {
		bad(r, where, key, type == JSON_ARRAY ? "an array" : "an object");
		return NULL;
	}
	return v;
}

static void pool(struct reader *r, const char *s, uint32_t *off)
{
	if (!r->err)
		r->err = ch_digest_str_add(r->d, s, off);
}

/* [g0, g1, g2, permanent, untracked] */
static void read_gens(struct reader *r, json_t *o, const char *where, uint64_t gen[CH_HIST_GENS])
{
	json_t *a = get(r, o, where, "gen", JSON_ARRAY);
	if (a && json_array_size(a) != CH_HIST_GENS)
		bad(r, where, "gen", "an array of 5 counts");
	for (size_t i = 0; a && !r->err && i < CH_HIST_GENS; i++) {
		json_t *v = json_array_get(a, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			bad(r, where, "gen", "an array of 5 non-negative integers");
		else
			gen[i] = (uint64_t)json_integer_value(v);
	}
}

static void read_int_array(struct reader *r, json_t *o, const char *key, int *v, int *n)
{
	json_t *a = get(r, o, "gc", key, JSON_ARRAY);
	if (a && (json_array_size(a) > CH_GC_MAX_GENERATIONS || (*n >= 0 && (int)json_array_size(a) != *n)))
		bad(r, "gc", key, "an array of one count per generation");
	for (size_t i = 0; a && !r->err && i < json_array_size(a); i++) {
		json_t *x = json_array_get(a, i);
		if (!json_is_integer(x) || json_integer_value(x) < INT32_MIN || json_integer_value(x) > INT32_MAX)
			bad(r, "gc", key, "an array of integers");
		else
			v[i] = (int)json_integer_value(x);
	}
	if (a && !r->err)
		*n = (int)json_array_size(a);
}

static void read_gc(struct reader *r, json_t *doc)
{
	json_t *g = get(r, doc, "", "gc", JSON_OBJECT);
	if (!g)
		return;
	struct ch_gc_state *s = &r->d->gc;
	s->enabled = get_bool(r, g, "gc", "enabled");
	s->collecting = get_bool(r, g, "gc", "collecting");
	s->debug = (int)get_i64(r, g, "gc", "debug", false, INT32_MIN, INT32_MAX);
	s->garbage = get_i64(r, g, "gc", "garbage", true, 0, INT64_MAX);
	s->long_lived_total = get_i64(r, g, "gc", "long_lived_total", true, 0, INT64_MAX);
	s->long_lived_pending = get_i64(r, g, "gc", "long_lived_pending", true, 0, INT64_MAX);
	r->d->frozen = get_u64(r, g, "gc", "frozen");
	s->ngenerations = -1;
	read_int_array(r, g, "thresholds", s->thresholds, &s->ngenerations);
	read_int_array(r, g, "counts", s->counts, &s->ngenerations);
	json_t *stats = get(r, g, "gc", "stats", JSON_ARRAY);
	if (stats && json_array_size(stats) && (int)json_array_size(stats) != s->ngenerations)
		bad(r, "gc", "stats", "an array of one entry per generation");
	for (size_t i = 0; stats && !r->err && i < json_array_size(stats); i++) {
		json_t *x = json_array_get(stats, i);
		char at[32];
		snprintf(at, sizeof(at), "gc.stats[%zu]", i);
		s->stats[i].collections = get_i64(r, x, at, "collections", false, 0, INT64_MAX);
		s->stats[i].collected = get_i64(r, x, at, "collected", false, 0, INT64_MAX);
		s->stats[i].uncollectable = get_i64(r, x, at, "uncollectable", false, 0, INT64_MAX);
		s->have_stats = true;
	}
}

static void read_types(struct reader *r, json_t *doc)
{
	json_t *types = get(r, doc, "", "types", JSON_ARRAY);
	size_t i;
	json_t *x;
	char where[48];
	json_array_foreach(types, i, x) {
		if (r->err)
			return;
		snprintf(where, sizeof(where), "types[%zu]", i);
		struct ch_digest_type t = {0};
		pool(r, get_str(r, x, where, "type", false), &t.name);
		t.count = get_u64(r, x, where, "count");
		t.bytes = get_u64(r, x, where, "bytes");
		read_gens(r, x, where, t.gen);
		if (!r->err && !t.count)
			bad(r, where, "count", "positive (types without objects are not listed)");
		if (!r->err)
			r->err = ch_digest_type_add(r->d, &t);
	}
	/* Garbage per type: rows with only the unreachable figures, merged
	 * into the rows above by ch_digest_finish. */
	json_t *u = get(r, doc, "", "unreachable", JSON_OBJECT);
	json_t *ut = u ? get(r, u, "unreachable", "types", JSON_ARRAY) : NULL;
	json_array_foreach(ut, i, x) {
		if (r->err)
			return;
		snprintf(where, sizeof(where), "unreachable.types[%zu]", i);
		struct ch_digest_type t = {0};
		pool(r, get_str(r, x, where, "type", false), &t.name);
		t.unreachable = get_u64(r, x, where, "count");
		t.unreachable_bytes = get_u64(r, x, where, "bytes");
		if (!r->err)
			r->err = ch_digest_type_add(r->d, &t);
	}
	if (u) {
		r->d->unreachable = get_u64(r, u, "unreachable", "objects");
		r->d->unreachable_bytes = get_u64(r, u, "unreachable", "bytes");
		r->d->cycles = get_u64(r, u, "unreachable", "cycles");
	}
}

static void read_groups(struct reader *r, json_t *doc)
{
	json_t *groups = get(r, doc, "", "groups", JSON_ARRAY);
	size_t i;
	json_t *x;
	char where[48];
	json_array_foreach(groups, i, x) {
		if (r->err)
			return;
		snprintf(where, sizeof(where), "groups[%zu]", i);
		struct ch_digest_group g = {
			.count = get_u64(r, x, where, "count"),
			.objects = get_u64(r, x, where, "objects"),
			.bytes = get_u64(r, x, where, "bytes"),
			.finalizers = get_bool(r, x, where, "finalizers"),
			.first_type = (uint32_t)r->d->nshape_types,
			.first_edge = (uint32_t)r->d->nedges,
		};
		json_t *ts = get(r, x, where, "types", JSON_ARRAY);
		json_t *es = get(r, x, where, "edges", JSON_ARRAY);
		size_t k;
		json_t *y;
		json_array_foreach(ts, k, y) {
			char at[80];
			snprintf(at, sizeof(at), "%s.types[%zu]", where, k);
			uint32_t name = 0;
			pool(r, get_str(r, y, at, "type", false), &name);
			int64_t n = get_i64(r, y, at, "count", false, 1, UINT32_MAX);
			if (!r->err)
				r->err = ch_digest_shape_type_add(r->d, name, (uint32_t)n);
		}
		json_array_foreach(es, k, y) {
			uint32_t edge = 0;
			if (!json_is_string(y))
				bad(r, where, "edges", "an array of strings");
			else
				pool(r, json_string_value(y), &edge);
			if (!r->err)
				r->err = ch_digest_edge_add(r->d, edge);
		}
		g.ntypes = (uint32_t)(r->d->nshape_types - g.first_type);
		g.nedges = (uint32_t)(r->d->nedges - g.first_edge);
		if (!r->err)
			r->err = ch_digest_group_add(r->d, &g);
	}
	r->d->groups_total = get_u64(r, doc, "", "groups_total");
}

/* Optional (snapshots before growth suspects have none). */
static void read_containers(struct reader *r, json_t *doc)
{
	if (!json_object_get(doc, "containers"))
		return;
	json_t *cs = get(r, doc, "", "containers", JSON_ARRAY);
	size_t i;
	json_t *x;
	char where[48];
	r->d->has_containers = true;
	json_array_foreach(cs, i, x) {
		if (r->err)
			return;
		snprintf(where, sizeof(where), "containers[%zu]", i);
		struct ch_digest_container c = {0};
		const char *path = get_str(r, x, where, "path", false), *type = get_str(r, x, where, "type", false);
		c.elements = get_u64(r, x, where, "elements");
		c.retained = get_u64(r, x, where, "retained");
		if (r->err)
			return;
		pool(r, path, &c.path);
		pool(r, type, &c.type);
		if (!r->err)
			r->err = ch_digest_container_add(r->d, &c);
	}
}

/* Optional (snapshots before the exactness verdict have none): "exact"
 * and its "conservative_types", which must agree with it. */
static void read_exactness(struct reader *r, json_t *doc)
{
	if (!json_object_get(doc, "exact"))
		return;
	bool exact = get_bool(r, doc, "", "exact");
	json_t *cs = get(r, doc, "", "conservative_types", JSON_ARRAY);
	if (r->err)
		return;
	size_t i;
	json_t *x;
	char where[48];
	json_array_foreach(cs, i, x) {
		snprintf(where, sizeof(where), "conservative_types[%zu]", i);
		struct ch_digest_conservative c = {0};
		const char *type = get_str(r, x, where, "type", false), *reason = get_str(r, x, where, "reason", false);
		c.objects = get_u64(r, x, where, "objects");
		if (r->err)
			return;
		pool(r, type, &c.type);
		pool(r, reason, &c.reason);
		if (!r->err)
			r->err = ch_digest_conservative_add(r->d, &c);
		if (r->err)
			return;
	}
	if (exact != (json_array_size(cs) == 0)) {
		r->err = ch_error_new(CH_ERR_INPUT, "snapshot %s: \"exact\" is %s but conservative_types lists %zu types",
				      r->path, exact ? "true" : "false", json_array_size(cs));
		return;
	}
	r->d->exact_known = true;
	r->d->exact = exact;
}

static void read_rest(struct reader *r, json_t *doc)
{
	struct ch_heap_digest *d = r->d;
	json_t *rt = get(r, doc, "", "runtime", JSON_OBJECT);
	if (rt) {
		pool(r, get_str(r, rt, "runtime", "version", false), &d->version);
		pool(r, get_str(r, rt, "runtime", "executable", true), &d->executable);
		d->pid = get_i64(r, rt, "runtime", "pid", true, 0, INT32_MAX);
		d->signal = (int)get_i64(r, rt, "runtime", "signal", false, 0, INT32_MAX);
	}
	json_t *t = get(r, doc, "", "totals", JSON_OBJECT);
	if (t) {
		d->totals.count = get_u64(r, t, "totals", "count");
		d->totals.bytes = get_u64(r, t, "totals", "bytes");
		read_gens(r, t, "totals", d->totals.gen);
	}
	json_t *fw = get(r, doc, "", "freed_with", JSON_OBJECT);
	if (fw) {
		d->freed_with = get_u64(r, fw, "freed_with", "objects");
		d->freed_with_bytes = get_u64(r, fw, "freed_with", "bytes");
	}
	json_t *ac = get(r, doc, "", "acyclic", JSON_OBJECT);
	if (ac) {
		d->acyclic = get_u64(r, ac, "acyclic", "objects");
		d->acyclic_bytes = get_u64(r, ac, "acyclic", "bytes");
	}
	d->diag.partial = get_bool(r, doc, "", "partial");
	json_t *w = get(r, doc, "", "warnings", JSON_ARRAY);
	size_t i;
	json_t *x;
	json_array_foreach(w, i, x) {
		if (!json_is_string(x))
			bad(r, "", "warnings", "an array of strings");
		else
			ch_diag_warn(&d->diag, "%s", json_string_value(x));
	}
}

/* kind and schema first, so that a newer snapshot is refused as such
 * rather than for a field it changed. */
static void read_header(struct reader *r, json_t *doc)
{
	json_t *kind = json_object_get(doc, "kind");
	if (!json_is_object(doc) || !json_is_string(kind) || strcmp(json_string_value(kind), CH_SNAPSHOT_KIND) != 0) {
		r->err = ch_error_new(CH_ERR_INPUT, "%s: JSON, but not a coreheap snapshot (no \"kind\": \"%s\")",
				      r->path, CH_SNAPSHOT_KIND);
		return;
	}
	json_t *schema = json_object_get(doc, "schema");
	if (!json_is_integer(schema) || json_integer_value(schema) < 1) {
		bad(r, "", "schema", "a positive integer");
		return;
	}
	if (json_integer_value(schema) > CH_SNAPSHOT_SCHEMA)
		r->err = ch_error_new(CH_ERR_UNSUPPORTED,
				      "snapshot %s has schema %" JSON_INTEGER_FORMAT
				      ", newer than this coreheap reads (%d); use a newer coreheap",
				      r->path, json_integer_value(schema), CH_SNAPSHOT_SCHEMA);
}

struct ch_error *ch_snapshot_read(const char *path, struct ch_heap_digest *d)
{
	ch_heap_digest_init(d);
	/* Parsed from one buffer: jansson's file reader goes through getc. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		struct ch_error *err = ch_error_new(CH_ERR_INPUT, "snapshot %s: %s", path,
						    fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return err;
	}
	void *map = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (map == MAP_FAILED)
		return ch_error_new(CH_ERR_INPUT, "snapshot %s: cannot map: %s", path, strerror(errno));
	json_error_t jerr;
	json_t *doc = json_loadb(map ? map : "", (size_t)st.st_size, JSON_REJECT_DUPLICATES, &jerr);
	if (map)
		munmap(map, (size_t)st.st_size);
	if (!doc)
		return ch_error_new(CH_ERR_INPUT, "snapshot %s: not valid JSON: %s (line %d, column %d)", path, jerr.text,
				    jerr.line, jerr.column);
	struct reader r = {.path = path, .d = d};
	read_header(&r, doc);
	if (!r.err)
		read_rest(&r, doc);
	if (!r.err)
		read_gc(&r, doc);
	if (!r.err)
		read_types(&r, doc);
	if (!r.err)
		read_groups(&r, doc);
	if (!r.err)
		read_containers(&r, doc);
	if (!r.err)
		read_exactness(&r, doc);
	if (!r.err)
		r.err = ch_snapshot_read_memory(path, doc, &d->memory);
	json_decref(doc);
	if (!r.err)
		r.err = ch_digest_finish(d);
	for (size_t i = 0; !r.err && i < d->ntypes; i++)
		if (!d->types[i].count)
			r.err = ch_error_new(CH_ERR_INPUT, "snapshot %s: unreachable.types lists '%s', which types does not",
					     path, ch_digest_str(d, d->types[i].name));
	if (r.err)
		ch_heap_digest_deinit(d);
	return r.err;
}
