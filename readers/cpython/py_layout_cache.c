#include "readers/cpython/py_layout_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers/base/cache_dir.h"
#include "readers/base/fnv.h"
#include "readers/cpython/py_layout_table.h"

#define CH_LAYOUT_CACHE_FORMAT 1
#define CH_LAYOUT_CACHE_MAGIC "coreheap layout cache 1"
/* A table is about 10 KiB; a file much bigger than that is not one. */
#define CH_LAYOUT_CACHE_MAX (256u << 10)

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

static bool hex_id(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool ch_py_layout_cache_locate(struct ch_py_layout_cache *c, const struct ch_py_layout_cache_id *id)
{
	memset(c, 0, sizeof(*c));
	const char *env = getenv("CH_LAYOUT_CACHE");
	if (env && strcmp(env, "off") == 0) {
		c->state = CH_PY_CACHE_OFF;
		return false;
	}
	char dir[PATH_MAX];
	if (!id->build_id || !hex_id(id->build_id) || !ch_cache_dir(dir, sizeof(dir)))
		return false;
	int w = snprintf(c->path, sizeof(c->path), "%s/layouts/%s.layout", dir, id->build_id);
	if (w < 0 || (size_t)w >= sizeof(c->path)) {
		c->path[0] = '\0';
		return false;
	}
	return true;
}

/* The whole file, NUL-terminated, or NULL (why says so unless it is absent). */
static char *read_bounded(const char *path, char *why, size_t wmax)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			snprintf(why, wmax, "unreadable: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	size_t size = 0;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > CH_LAYOUT_CACHE_MAX)
		snprintf(why, wmax, "not a regular file of at most %u bytes", CH_LAYOUT_CACHE_MAX);
	else if (!(buf = malloc((size = (size_t)st.st_size) + 1)))
		snprintf(why, wmax, "out of memory");
	/* One byte more than its size: a file that grew is not read either. */
	else if (fread(buf, 1, size + 1, f) != size) {
		snprintf(why, wmax, "changed while read");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[size] = '\0';
	if (strlen(buf) != size) {
		snprintf(why, wmax, "holds a NUL byte");
		free(buf);
		return NULL;
	}
	return buf;
}

/* The next line of *s ([start, end) without the newline); false at the end
 * of the text or when the last line has no newline (a cut file). */
static bool next_line(const char **s, const char **start, size_t *len)
{
	const char *nl = strchr(*s, '\n');
	if (!**s || !nl)
		return false;
	*start = *s;
	*len = (size_t)(nl - *s);
	*s = nl + 1;
	return true;
}

static bool line_is(const char *line, size_t len, const char *key, const char *value)
{
	size_t k = strlen(key), v = strlen(value);
	return len == k + 1 + v && memcmp(line, key, k) == 0 && line[k] == ' ' && memcmp(line + k + 1, value, v) == 0;
}

/* The header lines; *table points after them. */
static bool check_header(const char *text, const char **table, char *why, size_t wmax)
{
	const char *s = text, *line;
	size_t len;
	char hex[17];
	if (!next_line(&s, &line, &len) || len != strlen(CH_LAYOUT_CACHE_MAGIC) || memcmp(line, CH_LAYOUT_CACHE_MAGIC, len) != 0) {
		snprintf(why, wmax, "not a layout cache file of format %d", CH_LAYOUT_CACHE_FORMAT);
		return false;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, cache_key());
	if (!next_line(&s, &line, &len) || !line_is(line, len, "key", hex)) {
		snprintf(why, wmax, "written by another coreheap version or field set");
		return false;
	}
	const char *sum_line;
	size_t sum_len;
	if (!next_line(&s, &sum_line, &sum_len)) {
		snprintf(why, wmax, "cut short");
		return false;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, ch_fnv_bytes(CH_FNV_SEED, s, strlen(s)));
	if (!line_is(sum_line, sum_len, "checksum", hex)) {
		snprintf(why, wmax, "checksum mismatch (damaged or cut)");
		return false;
	}
	*table = s;
	return true;
}

/* Every field exactly once, and the lines that name the build. */
static bool check_table(const char *table, const struct ch_py_layout_cache_id *id, char *why, size_t wmax)
{
	bool seen[CH_PY_NFIELDS] = {0};
	size_t nseen = 0;
	bool have_build = false, have_version = false;
	const char *s = table, *line;
	size_t len;
	while (next_line(&s, &line, &len)) {
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
			named = *names[i].have = line_is(line, len, names[i].key, names[i].want);
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
	char why[200] = "";
	const char *table = NULL;
	char *text = read_bounded(c->path, why, sizeof(why));
	bool ok = text && check_header(text, &table, why, sizeof(why)) && check_table(table, id, why, sizeof(why));
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
	char dir[PATH_MAX], tmp[PATH_MAX + 32], head[128];
	snprintf(dir, sizeof(dir), "%s", c->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int hn = snprintf(head, sizeof(head), "%s\nkey %016" PRIx64 "\nchecksum %016" PRIx64 "\n", CH_LAYOUT_CACHE_MAGIC,
			  cache_key(), ch_fnv_bytes(CH_FNV_SEED, table, len));
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", c->path, (long)getpid());
	FILE *f = NULL;
	errno = 0;
	if (!slash || !ch_cache_make_dir(dir) || !(f = fopen(tmp, "we"))) {
		snprintf(c->problem, sizeof(c->problem), "%.200s: %s", slash ? dir : c->path, strerror(errno ? errno : EACCES));
		free(table);
		return;
	}
	bool ok = fwrite(head, 1, (size_t)hn, f) == (size_t)hn && fwrite(table, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	int saved = errno;
	if (ok && rename(tmp, c->path) != 0) {
		saved = errno;
		ok = false;
	}
	free(table);
	if (!ok) {
		unlink(tmp);
		snprintf(c->problem, sizeof(c->problem), "%.200s: %s", c->path, strerror(saved ? saved : EIO));
		return;
	}
	c->state = CH_PY_CACHE_WRITTEN;
}
