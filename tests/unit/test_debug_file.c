/* Unit tests of readers/process/debug_file.c: separate debug files found by
 * build-id and by .gnu_debuglink (beside the file, in .debug/, under the
 * debug directory), build-id and CRC checks that refuse a wrong file with a
 * message naming both ids, and SHF_COMPRESSED debug sections (zlib read,
 * zstd refused clearly). The files are made from this test binary with
 * objcopy (binutils); without objcopy the test is SKIPPED (77). */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "readers/process/debug_file.h"
#include "readers/process/dwarf_types.h"
#include "readers/process/elf_file.h"

/* A type only this file defines, looked up in the DWARF that was found. */
struct ch_test_debug_marker {
	int a;
	long b[3];
};
struct ch_test_debug_marker ch_test_debug_marker_instance;

static char tmp[256], self[PATH_MAX];

static int sh(const char *fmt, ...) CH_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return rc;
}

static struct ch_elf_file *open_elf(const char *fmt, const char *arg)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), fmt, tmp, arg);
	struct ch_elf_file *ef = NULL;
	struct ch_error *err = ch_elf_open(path, &ef);
	if (err) {
		fprintf(stderr, "cannot open %s: %s\n", path, err->message);
		ch_error_free(err);
	}
	return ef;
}

/* Finds the debug file of ef and checks method, path and that its DWARF
 * describes the marker type. */
static void expect_found(const struct ch_elf_file *ef, const char *recorded, const char *debug_dir,
			 enum ch_debug_method method, const char *want_path)
{
	struct ch_debug_file df;
	if (!CHECK_OK(ch_debug_file_find(ef, recorded, debug_dir, &df)))
		return;
	CHECK_STR(ch_debug_method_name(df.method), ch_debug_method_name(method));
	CHECK_STR(df.path, want_path);
	struct ch_dwarf *dw;
	if (CHECK_OK(ch_dwarf_open(df.path, &dw))) {
		uint64_t size = 0;
		CHECK_OK(ch_dwarf_type_size(dw, "ch_test_debug_marker", &size));
		CHECK_EQ_U64(size, sizeof(struct ch_test_debug_marker));
		ch_dwarf_close(dw);
	}
	ch_debug_file_deinit(&df);
}

/* The search fails with kind, and the message contains each of needles. */
static void expect_refused(const struct ch_elf_file *ef, const char *recorded, const char *debug_dir,
			   enum ch_error_kind kind, const char *n1, const char *n2)
{
	struct ch_debug_file df;
	struct ch_error *err = ch_debug_file_find(ef, recorded, debug_dir, &df);
	if (!CHECK(err != NULL)) {
		ch_debug_file_deinit(&df);
		return;
	}
	CHECK_EQ_U64(err->kind, kind);
	if (!CHECK(n1 == NULL || strstr(err->message, n1)) || !CHECK(n2 == NULL || strstr(err->message, n2)))
		fprintf(stderr, "    message: %s\n    wanted: %s / %s\n", err->message, n1, n2 ? n2 : "");
	ch_error_free(err);
}

static void test_build_id(void)
{
	struct ch_elf_file *ef = open_elf("%s/bin/prog", "");
	if (!CHECK(ef != NULL))
		return;
	CHECK(!ef->has_debug_info);
	CHECK(ef->build_id_len > 0);
	char hex[129], dir[512], path[PATH_MAX];
	ch_build_id_hex(ef->build_id, ef->build_id_len, hex);
	snprintf(dir, sizeof(dir), "%s/dbg", tmp);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", dir, hex, hex + 2);
	sh("mkdir -p '%s/.build-id/%.2s'", dir, hex);

	/* Missing: the message lists where it looked. */
	expect_refused(ef, NULL, dir, CH_ERR_UNSUPPORTED, "no DWARF debug info", path);

	/* Plain, then zlib-compressed (SHF_COMPRESSED, ELFCOMPRESS_ZLIB). */
	sh("cp '%s/full.debug' '%s'", tmp, path);
	expect_found(ef, NULL, dir, CH_DEBUG_BUILD_ID, path);
	if (CHECK(sh("objcopy --compress-debug-sections=zlib '%s/full.debug' '%s'", tmp, path) == 0)) {
		struct ch_elf_file *dbg = open_elf("%s%s", path + strlen(tmp));
		if (CHECK(dbg != NULL))
			CHECK_EQ_U64(dbg->debug_compression, 1);
		ch_elf_close(dbg);
		expect_found(ef, NULL, dir, CH_DEBUG_BUILD_ID, path);
	}

	/* zstd (binutils 2.40+): found, and its DWARF reads as the plain
	 * file's (libdwarf is handed an inflated copy). */
	if (sh("objcopy --compress-debug-sections=zstd '%s/full.debug' '%s' 2>/dev/null", tmp, path) == 0) {
		struct ch_elf_file *dbg = open_elf("%s%s", path + strlen(tmp));
		if (CHECK(dbg != NULL))
			CHECK_EQ_U64(dbg->debug_compression, 2);
		ch_elf_close(dbg);
		expect_found(ef, NULL, dir, CH_DEBUG_BUILD_ID, path);
		char plain[PATH_MAX + 8];
		snprintf(plain, sizeof(plain), "%s/full.debug", tmp);
		uint64_t want = 0, got = 0;
		struct ch_dwarf *dw = NULL;
		struct ch_error *err = ch_dwarf_open(plain, &dw);
		if (CHECK(err == NULL))
			CHECK(ch_dwarf_type_size(dw, "ch_elf_file", &want) == NULL && want > 0);
		ch_dwarf_close(dw);
		dw = NULL;
		err = ch_dwarf_open(path, &dw);
		if (!CHECK(err == NULL))
			fprintf(stderr, "    %s\n", err->message);
		else
			CHECK(ch_dwarf_type_size(dw, "ch_elf_file", &got) == NULL && got == want);
		ch_error_free(err);
		ch_dwarf_close(dw);
		/* A zstd section that does not inflate: the file is refused,
		 * naming the section. Its frame is garbled past the header. */
		snprintf(plain, sizeof(plain), "%s.bad", path);
		sh("cp '%s' '%s'", path, plain);
		struct ch_elf_file *bad = NULL;
		uint64_t addr, size;
		const uint8_t *bytes = NULL;
		if (CHECK(ch_elf_open(plain, &bad) == NULL) &&
		    CHECK(ch_elf_section(bad, ".debug_info", &addr, &size, &bytes) == NULL && bytes && size > 64)) {
			long off = (long)(bytes - bad->data) + 40;
			FILE *f = fopen(plain, "r+b");
			if (CHECK(f != NULL)) {
				CHECK(fseek(f, off, SEEK_SET) == 0 && fwrite("XXXXXXXXXXXXXXXX", 1, 16, f) == 16);
				fclose(f);
			}
		}
		ch_elf_close(bad);
		dw = NULL;
		err = ch_dwarf_open(plain, &dw);
		if (CHECK(err != NULL && err->kind == CH_ERR_INPUT))
			CHECK(strstr(err->message, "does not inflate") != NULL);
		ch_error_free(err);
		ch_dwarf_close(dw);
	} else {
		printf("note: objcopy cannot write zstd-compressed sections; zstd case not run\n");
	}

	/* Another program's debug file at this build-id's path: refused,
	 * both ids named. */
	struct ch_elf_file *other = open_elf("%s/other", "");
	if (CHECK(other != NULL) && CHECK(other->build_id_len > 0)) {
		char ohex[129];
		ch_build_id_hex(other->build_id, other->build_id_len, ohex);
		sh("cp '%s/other' '%s'", tmp, path);
		expect_refused(ef, NULL, dir, CH_ERR_INPUT, hex, ohex);
	}
	ch_elf_close(other);
	unlink(path);
	ch_elf_close(ef);
}

static void test_debuglink(void)
{
	/* prog2 has no build-id, so the CRC decides. */
	struct ch_elf_file *ef = open_elf("%s/bin/prog2", "");
	if (!CHECK(ef != NULL))
		return;
	CHECK_EQ_U64(ef->build_id_len, 0);
	CHECK_STR(ef->debuglink, "nb.debug");
	char dir[512], want[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/dbg", tmp);

	snprintf(want, sizeof(want), "%s/bin/nb.debug", tmp);
	sh("cp '%s/nb.debug' '%s'", tmp, want);
	expect_found(ef, "/opt/app/prog2", dir, CH_DEBUG_LINK, want);
	unlink(want);

	snprintf(want, sizeof(want), "%s/bin/.debug/nb.debug", tmp);
	sh("mkdir -p '%s/bin/.debug' && cp '%s/nb.debug' '%s'", tmp, tmp, want);
	expect_found(ef, "/opt/app/prog2", dir, CH_DEBUG_LINK, want);
	unlink(want);

	snprintf(want, sizeof(want), "%s/opt/app/nb.debug", dir);
	sh("mkdir -p '%s/opt/app' && cp '%s/nb.debug' '%s'", dir, tmp, want);
	expect_found(ef, "/opt/app/prog2", dir, CH_DEBUG_LINK, want);

	/* One byte more: the CRC no longer matches. */
	sh("printf x >>'%s'", want);
	char crc[16];
	snprintf(crc, sizeof(crc), "%08x", ef->debuglink_crc);
	expect_refused(ef, "/opt/app/prog2", dir, CH_ERR_INPUT, "CRC32", crc);
	unlink(want);

	/* Nothing anywhere. */
	expect_refused(ef, "/opt/app/prog2", dir, CH_ERR_UNSUPPORTED, "no DWARF debug info", "nb.debug");
	ch_elf_close(ef);
}

static void test_embedded(void)
{
	struct ch_elf_file *ef = open_elf("%s/full", "");
	if (!CHECK(ef != NULL))
		return;
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "%s/full", tmp);
	expect_found(ef, NULL, "/nonexistent", CH_DEBUG_EMBEDDED, want);
	ch_elf_close(ef);
}

/* Two .gnu_debuglink sections (found by fuzz_elf: the second one leaked
 * the first's name): the first one counts. */
static void test_two_debuglinks(void)
{
	if (!CHECK(sh("set -e; cd '%s'; printf 'second.debug\\0\\0\\0\\0\\0\\0\\0\\0' > link2;"
		      "objcopy --add-section .dlx=link2 bin/prog2 two.tmp;"
		      "objcopy --rename-section .dlx=.gnu_debuglink two.tmp bin/prog3",
		      tmp) == 0))
		return;
	struct ch_elf_file *ef = open_elf("%s/bin/prog3", "");
	if (CHECK(ef != NULL))
		CHECK_STR(ef->debuglink, "nb.debug");
	ch_elf_close(ef);
}

int main(void)
{
	if (system("objcopy --version >/dev/null 2>&1") != 0) {
		printf("test_debug_file: SKIP: objcopy (binutils) not found\n");
		return 77;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	snprintf(tmp, sizeof(tmp), "%s", "/tmp/ch_debug_file.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	/* full: this binary; full.debug: its debug part (with build-id);
	 * bin/prog: stripped, build-id kept; nb.debug / bin/prog2: the same
	 * without build-id, prog2 linked to nb.debug; other: a different
	 * program (another build-id). */
	int rc = sh("set -e; cd '%s'; cp '%s' full; mkdir bin;"
		    "objcopy --only-keep-debug full full.debug;"
		    "objcopy --strip-debug full bin/prog;"
		    "objcopy --remove-section=.note.gnu.build-id full.debug nb.debug;"
		    "objcopy --strip-debug --remove-section=.note.gnu.build-id --add-gnu-debuglink=nb.debug full bin/prog2;"
		    "objcopy --only-keep-debug \"$(command -v sh)\" other",
		    tmp, self);
	if (!CHECK(rc == 0))
		return CHECK_SUMMARY("test_debug_file");
	test_embedded();
	test_build_id();
	test_debuglink();
	test_two_debuglinks();
	sh("rm -rf '%s'", tmp);
	return CHECK_SUMMARY("test_debug_file");
}
