/* libFuzzer target: the layout cache files (readers/cpython/py_layout_cache.h,
 * readers/allocators/glibc_cache.c, their envelope readers/base/cache_file.h),
 * which coreheap reads from the user's cache folder on every command.
 *
 * One input: a selector byte, then the file.
 *   bit 0   0: CPython's layout cache (the build of the built-in 3.12.1
 *           table), 1: glibc's (the first built-in glibc table's build)
 *   bit 1   0: the rest is the body; the harness puts the envelope's
 *           lines (magic, key, checksum) before it, taken from a file the
 *           real writer made at start, so every mutant reaches the table
 *           parser; 1: the rest is the whole file, envelope included
 * The files live in a private folder under /dev/shm (XDG_CACHE_HOME), so no
 * disk I/O per execution. Seeds (make_seeds.py): the built-in tables of
 * those two builds, as bodies.
 *
 * CH_FUZZ_VERBOSE=1 says whether each input loaded (and why not).
 *
 * Checked beyond the sanitizers: a file that loads is written again by
 * the real writer and loads again to the very same layout (what was
 * accepted is what a fresh read of DWARF would have saved). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers/allocators/glibc_internal.h"
#include "readers/allocators/glibc_table.h"
#include "readers/base/cache_file.h"
#include "readers/base/fnv.h"
#include "readers/cpython/py_layout_cache.h"
#include "readers/cpython/py_layout_table.h"
#include "readers/cpython/py_version.h"

#define PY_VERSION "3.12.1"

static struct ch_py_layout_cache_id py_id;
static char py_path[PATH_MAX], glibc_path[PATH_MAX];
static const char *glibc_build;
/* Each file's first two lines (magic and key) as the writer made them. */
static char py_head[256], glibc_head[256];

static void read_head(const char *path, char *head, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[2][128];
	if (!f || !fgets(line[0], sizeof(line[0]), f) || !fgets(line[1], sizeof(line[1]), f))
		abort(); /* the writer must have made it */
	fclose(f);
	snprintf(head, n, "%s%s", line[0], line[1]);
}

static char dir[] = "/dev/shm/coreheap-fuzz-cache-XXXXXX";

/* The private folder goes at exit (a crash leaves it, with the input). */
static void remove_dir(void)
{
	static const char *const subs[] = {"coreheap/layouts", "coreheap/glibc", "coreheap", ""};
	unlink(py_path);
	unlink(glibc_path);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", dir, subs[i]);
		rmdir(p);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir) || setenv("XDG_CACHE_HOME", dir, 1) != 0 || unsetenv("CH_LAYOUT_CACHE") != 0)
		abort();
	atexit(remove_dir);
	struct ch_py_version v;
	struct ch_py_layout layout;
	if (!ch_py_version_parse(PY_VERSION, &v) || ch_py_layout_from_table(&layout, &v))
		abort(); /* compiled in: must parse */
	/* The build-id the built-in 3.12.1 table names (its seed's build_id
	 * line, make_seeds.py), so that the seed passes the build check. */
	py_id = (struct ch_py_layout_cache_id){"f9d5c82f5f2c22df68c1d49c944ef3dee5103dcc", PY_VERSION, "Py_Version",
					       "/fuzz/libpython3.12.so.1.0"};
	struct ch_py_layout_cache c;
	if (!ch_py_layout_cache_locate(&c, &py_id))
		abort();
	ch_py_layout_cache_store(&c, &py_id, &layout);
	if (c.state != CH_PY_CACHE_WRITTEN)
		abort();
	snprintf(py_path, sizeof(py_path), "%s", c.path);
	read_head(py_path, py_head, sizeof(py_head));

	if (ch_glibc_ntables == 0)
		abort();
	glibc_build = ch_glibc_tables[0].build_id;
	struct ch_glibc_layout lay;
	char version[32], build[160];
	struct ch_error *err = ch_glibc_table_parse(ch_glibc_tables[0].text, &lay, version, sizeof(version), build, sizeof(build));
	if (err)
		abort();
	ch_glibc_cache_store(glibc_build, version, &lay);
	bool off;
	if (!ch_cache_file_path("glibc", glibc_build, ".glibc", glibc_path, sizeof(glibc_path), &off))
		abort();
	read_head(glibc_path, glibc_head, sizeof(glibc_head));
	return 0;
}

static void put_file(const char *path, const char *head, const uint8_t *p, size_t n, bool raw)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	if (!raw)
		fprintf(f, "%schecksum %016llx\n", head, (unsigned long long)ch_fnv_bytes(CH_FNV_SEED, p, n));
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	if (fclose(f) != 0)
		abort();
}

static void fuzz_python(const uint8_t *p, size_t n, bool raw)
{
	put_file(py_path, py_head, p, n, raw);
	struct ch_py_layout_cache c;
	struct ch_py_layout got, again;
	memset(&got, 0, sizeof(got));
	bool loaded = ch_py_layout_cache_locate(&c, &py_id) && ch_py_layout_cache_load(&c, &py_id, &got);
	if (getenv("CH_FUZZ_VERBOSE"))
		fprintf(stderr, "layout cache: %s%s\n", loaded ? "loaded" : "ignored: ", loaded ? "" : c.ignored);
	if (!loaded)
		return;
	ch_py_layout_cache_store(&c, &py_id, &got);
	memset(&again, 0, sizeof(again));
	if (c.state != CH_PY_CACHE_WRITTEN || !ch_py_layout_cache_load(&c, &py_id, &again) ||
	    memcmp(got.v, again.v, sizeof(got.v)) != 0 || memcmp(got.origin, again.origin, sizeof(got.origin)) != 0)
		abort(); /* accepted, but not what the writer makes of it */
}

static void fuzz_glibc(const uint8_t *p, size_t n, bool raw)
{
	put_file(glibc_path, glibc_head, p, n, raw);
	struct ch_glibc_layout got, again;
	memset(&got, 0, sizeof(got));
	bool loaded = ch_glibc_cache_load(glibc_build, &got);
	if (getenv("CH_FUZZ_VERBOSE"))
		fprintf(stderr, "glibc cache: %s\n", loaded ? "loaded" : "ignored");
	if (!loaded)
		return;
	ch_glibc_cache_store(glibc_build, "fuzz", &got);
	memset(&again, 0, sizeof(again));
	if (!ch_glibc_cache_load(glibc_build, &again) || memcmp(&got, &again, sizeof(got)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (size < 1)
		return 0;
	bool raw = in[0] & 2;
	if (in[0] & 1)
		fuzz_glibc(in + 1, size - 1, raw);
	else
		fuzz_python(in + 1, size - 1, raw);
	return 0;
}
