/* glibc malloc's layout, kept between runs by the build-id of the libc
 * debug file it was read from (glibc_internal.h): reading libc6-dbg's
 * DWARF costs 0.1-0.2 s of each `memory` or `summary`. The body is the
 * built-in tables' format; it is used only when, beyond the envelope's
 * checks (readers/base/cache_file.h), it parses as a table (every line
 * one the format has, every field there once) whose build-id line names
 * this build. */
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

bool ch_glibc_cache_load(const char *build_hex, struct ch_glibc_layout *lay)
{
	char path[PATH_MAX], why[200];
	bool off;
	const char *body;
	if (!ch_cache_file_path("glibc", build_hex, ".glibc", path, sizeof(path), &off))
		return false;
	char *text = ch_cache_file_read(path, CH_GLIBC_CACHE_MAGIC, cache_key(), &body, why, sizeof(why));
	bool ok = text != NULL;
	if (ok) {
		char version[64], build[PATH_MAX];
		struct ch_glibc_layout got;
		struct ch_error *err = ch_glibc_table_parse(body, &got, version, sizeof(version), build, sizeof(build));
		ok = !err && strcmp(build, build_hex) == 0;
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
