#include "readers/cpython/py_layout_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/cache_file.h"
#include "readers/base/fnv.h"
#include "readers/cpython/py_layout_table.h"

#define CH_LAYOUT_CACHE_MAGIC "coreheap layout cache 1"

/* The key of this coreheap's field set: a file written by another version
 * or with other fields or DWARF rows is not read. */
static uint64_t cache_key(void)
{
	static uint64_t key;
	if (!key) {
		uint64_t h = ch_fnv_text(CH_FNV_SEED, CH_LAYOUT_CACHE_MAGIC);
		h = ch_fnv_text(h, CH_VERSION);
		key = ch_py_layout_schema_hash(h) | 1; /* never 0: 0 means not computed */
	}
	return key;
}

const char *ch_py_layout_cache_state_name(enum ch_py_layout_cache_state s)
{
	switch (s) {
	case CH_PY_CACHE_OFF:
		return "off";
	case CH_PY_CACHE_READ:
		return "read";
	case CH_PY_CACHE_WRITTEN:
		return "written";
	case CH_PY_CACHE_UNWRITTEN:
		return "not written";
	case CH_PY_CACHE_NONE:
	default:
		return NULL;
	}
}

bool ch_py_layout_cache_locate(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id)
{
	memset(c, 0, sizeof(*c));
	bool off;
	bool usable = ch_cache_file_path("layouts", id->build_id, ".layout", c->path, sizeof(c->path), &off);
	if (off)
		c->state = CH_PY_CACHE_OFF;
	return usable;
}

/* Every field exactly once, and the lines that name the build. */
static bool check_table(const char *table, const struct ch_py_layout_cache_id *id, char *why, size_t wmax)
{
	bool seen[CH_PY_NFIELDS] = {0};
	size_t nseen = 0;
	bool have_build = false, have_version = false;
	const char *s = table, *line;
	size_t len;
	while (ch_cache_file_line(&s, &line, &len)) {
		if (len == 0 || line[0] == '#')
			continue;
		const char *sp = memchr(line, ' ', len);
		char key[64];
		size_t klen = sp ? (size_t)(sp - line) : len;
		if (klen >= sizeof(key)) {
			snprintf(why, wmax, "malformed line");
			return false;
		}
		memcpy(key, line, klen);
		key[klen] = '\0';
		/* The lines that name the build must name this one. */
		const struct {
			const char *key, *want, *what;
			bool *have;
		} names[] = {{"build_id", id->build_id, "build-id", &have_build}, {"version", id->version, "CPython version", &have_version}};
		bool named = false;
		for (size_t i = 0; i < 2 && !named; i++) {
			if (strcmp(key, names[i].key) != 0)
				continue;
			named = *names[i].have = ch_cache_file_line_is(line, len, names[i].key, names[i].want);
			if (!named) {
				snprintf(why, wmax, "made for another %s", names[i].what);
				return false;
			}
		}
		if (named)
			continue;
		if (strcmp(key, "format") == 0 || strcmp(key, "version_source") == 0 || strcmp(key, "file") == 0)
			continue;
		enum ch_py_field f = ch_py_field_by_name(key);
		if (f == CH_PY_NFIELDS || seen[f]) {
			snprintf(why, wmax, "%s field %.64s", f == CH_PY_NFIELDS ? "unknown" : "repeated", key);
			return false;
		}
		seen[f] = true;
		nseen++;
	}
	if (*s) {
		snprintf(why, wmax, "cut short");
		return false;
	}
	if (!have_build || !have_version || nseen != CH_PY_NFIELDS) {
		snprintf(why, wmax, "%s", !have_build ? "no build-id line" : !have_version ? "no version line" : "fields missing");
		return false;
	}
	return true;
}

bool ch_py_layout_cache_load(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id,
			     struct ch_py_layout *layout)
{
	char why[200];
	const char *table = NULL;
	char *text = ch_cache_file_read(c->path, CH_LAYOUT_CACHE_MAGIC, cache_key(), &table, why, sizeof(why));
	bool ok = text && check_table(table, id, why, sizeof(why));
	if (ok) {
		struct ch_error *err = ch_py_layout_parse(layout, table, id->file);
		if (err) {
			snprintf(why, sizeof(why), "%.180s", err->message);
			ch_error_free(err);
			ok = false;
		}
	}
	free(text);
	if (!ok) {
		if (why[0])
			snprintf(c->ignored, sizeof(c->ignored), "%s", why);
		return false;
	}
	/* As ch_py_layout_from_dwarf leaves it: DWARF's values, no table. */
	layout->builtin = false;
	layout->table = NULL;
	layout->table_exact = false;
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		layout->origin[i] = layout->v[i] == CH_PY_ABSENT ? CH_PY_FROM_NONE : CH_PY_FROM_DWARF;
	c->state = CH_PY_CACHE_READ;
	return true;
}

/* The file's text after the checksum line, malloc'd. */
static char *table_text(const struct ch_py_layout_cache_id *id, const struct ch_py_layout *layout, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	const char *base = strrchr(id->file, '/');
	char comment[PATH_MAX + 160];
	snprintf(comment, sizeof(comment),
		 "# coreheap %s's layout cache: the CPython layout read from the DWARF of\n# %.*s\n"
		 "# (readers/cpython/py_layout_cache.h). Safe to delete.\n",
		 CH_VERSION, PATH_MAX, id->file);
	struct ch_py_layout_header h = {id->version, id->version_source ? id->version_source : "", base ? base + 1 : id->file,
					id->build_id, "", comment};
	ch_py_layout_write(f, layout, &h);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void ch_py_layout_cache_store(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id,
			      const struct ch_py_layout *layout)
{
	c->state = CH_PY_CACHE_UNWRITTEN;
	size_t len = 0;
	/* A line break in the path would end the comment that names it. */
	char *table = strpbrk(id->file, "\r\n") ? NULL : table_text(id, layout, &len);
	if (!table) {
		snprintf(c->problem, sizeof(c->problem), "%s", strpbrk(id->file, "\r\n") ? "the DWARF file's path has a line break" : "out of memory");
		return;
	}
	bool ok = ch_cache_file_write(c->path, CH_LAYOUT_CACHE_MAGIC, cache_key(), table, len, c->problem, sizeof(c->problem));
	free(table);
	if (ok)
		c->state = CH_PY_CACHE_WRITTEN;
}
