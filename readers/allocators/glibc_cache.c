/* glibc malloc's layout, kept between runs by the build-id of the libc
 * debug file it was read from (glibc_internal.h): reading libc6-dbg's
 * DWARF costs 0.1-0.2 s of each `memory` or `summary`. The body is the
 * built-in tables' format; it is used only when, beyond the envelope's
 * checks (readers/base/cache_file.h), every line is one the format has,
 * the build-id line names this build and every field is there once. */
#include "glibc_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/cache_file.h"
#include "readers/base/fnv.h"

#define CH_GLIBC_CACHE_MAGIC "coreheap glibc layout cache 1"

static uint64_t cache_key(void)
{
	uint64_t h = ch_fnv_text(CH_FNV_SEED, CH_GLIBC_CACHE_MAGIC);
	return ch_glibc_table_schema_hash(ch_fnv_text(h, CH_VERSION));
}

/* Every line a known key; the build-id line this build's. */
static bool body_ok(const char *body, const char *build_hex)
{
	bool have_build = false;
	const char *s = body, *line;
	size_t len;
	while (ch_cache_file_line(&s, &line, &len)) {
		if (len == 0 || line[0] == '#')
			continue;
		const char *sp = memchr(line, ' ', len);
		if (!sp || !ch_glibc_table_key_known(line, (size_t)(sp - line)))
			return false;
		if ((size_t)(sp - line) == 8 && memcmp(line, "build_id", 8) == 0) {
			if (have_build || !ch_cache_file_line_is(line, len, "build_id", build_hex))
				return false;
			have_build = true;
		}
	}
	return !*s && have_build;
}

bool ch_glibc_cache_load(const char *build_hex, struct ch_glibc_layout *lay)
{
	char path[PATH_MAX], why[200];
	bool off;
	const char *body;
	if (!ch_cache_file_path("glibc", build_hex, ".glibc", path, sizeof(path), &off))
		return false;
	char *text = ch_cache_file_read(path, CH_GLIBC_CACHE_MAGIC, cache_key(), &body, why, sizeof(why));
	bool ok = text && body_ok(body, build_hex);
	if (ok) {
		char version[64];
		struct ch_glibc_layout got;
		struct ch_error *err = ch_glibc_table_parse(body, &got, version, sizeof(version));
		ok = !err;
		ch_error_free(err);
		if (ok)
			*lay = got;
	}
	free(text);
	return ok;
}

void ch_glibc_cache_store(const char *build_hex, const char *version, const struct ch_glibc_layout *lay)
{
	char path[PATH_MAX], problem[300];
	bool off;
	if (!ch_cache_file_path("glibc", build_hex, ".glibc", path, sizeof(path), &off))
		return;
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return;
	fprintf(f, "# coreheap %s's glibc layout cache: read from the libc debug file with this build-id. Safe to delete.\n",
		CH_VERSION);
	ch_glibc_table_write(f, lay, build_hex, version);
	if (fclose(f) == 0)
		ch_cache_file_write(path, CH_GLIBC_CACHE_MAGIC, cache_key(), body, len, problem, sizeof(problem));
	free(body);
}
