#include "readers/process/debug_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "readers/process/debuginfod.h"

const char *ch_debug_method_name(enum ch_debug_method m)
{
	switch (m) {
	case CH_DEBUG_EMBEDDED:
		return "embedded";
	case CH_DEBUG_BUILD_ID:
		return "build-id";
	case CH_DEBUG_LINK:
		return "debuglink";
	case CH_DEBUG_DEBUGINFOD:
		return "debuginfod";
	}
	return "?";
}

void ch_debug_file_deinit(struct ch_debug_file *df)
{
	free(df->path);
	df->path = NULL;
}

struct ch_error *ch_debug_file_crc32(const char *path, uint32_t *crc)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(CH_ERR_INPUT, "%s: %s", path, strerror(errno));
	enum { CHUNK = 1 << 16 };
	unsigned char *buf = malloc(CHUNK);
	if (!buf) {
		close(fd);
		return &ch_error_nomem;
	}
	uLong c = crc32(0L, Z_NULL, 0);
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			struct ch_error *err = ch_error_new(CH_ERR_INPUT, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		c = crc32(c, buf, (uInt)n);
	}
	free(buf);
	close(fd);
	*crc = (uint32_t)c;
	return NULL;
}

/* SHF_COMPRESSED debug sections: zlib (libdwarf inflates them) and zstd
 * (ELFCOMPRESS_ZSTD, binutils >= 2.40 --compress-debug-sections=zstd;
 * dwarf_types.c hands libdwarf an inflated copy, elf_inflate.h) are read;
 * another method is refused here rather than failing in libdwarf. */
static struct ch_error *check_compression(const struct ch_elf_file *ef)
{
	switch (ef->debug_compression) {
	case 0:
	case 1: /* ELFCOMPRESS_ZLIB */
	case 2: /* ELFCOMPRESS_ZSTD */
		return NULL;
	default:
		return ch_error_new(CH_ERR_UNSUPPORTED,
				    "%s: its debug sections are compressed with unknown method %u (SHF_COMPRESSED)",
				    ef->path, ef->debug_compression);
	}
}

/* What the search saw, for the final message: the first refusal (a wrong
 * file is worth more than a missing one) and the places it looked. */
struct search {
	const struct ch_elf_file *ef;
	struct ch_error *refused;
	char looked[1024];
};

static void note_looked(struct search *s, const char *path, const char *why)
{
	size_t n = strlen(s->looked);
	if (n + 8 >= sizeof(s->looked))
		return;
	snprintf(s->looked + n, sizeof(s->looked) - n, "%s%s%s", n ? ", " : "", path, why);
}

static void refuse(struct search *s, struct ch_error *err)
{
	if (s->refused)
		ch_error_free(err);
	else
		s->refused = err;
}

/* Is the file at path the module's debug file? link_crc: the CRC the
 * .gnu_debuglink records, or NULL for a build-id candidate. A build-id
 * match (both files have one) is decisive; the CRC decides otherwise. */
static bool try_candidate(struct search *s, const char *path, const uint32_t *link_crc)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		note_looked(s, path, "");
		return false;
	}
	const struct ch_elf_file *ef = s->ef;
	struct ch_elf_file *cand;
	struct ch_error *err = ch_elf_open(path, &cand);
	if (err) {
		refuse(s, ch_error_prefix(err, "separate debug file refused: "));
		note_looked(s, path, " (unreadable)");
		return false;
	}
	bool ok = true;
	char want[129], got[129];
	ch_build_id_hex(ef->build_id, ef->build_id_len, want);
	ch_build_id_hex(cand->build_id, cand->build_id_len, got);
	if (ef->build_id_len && cand->build_id_len) {
		if (ef->build_id_len != cand->build_id_len || memcmp(ef->build_id, cand->build_id, ef->build_id_len) != 0) {
			refuse(s, ch_error_new(CH_ERR_INPUT,
					       "separate debug file %s has build-id %s but %s has build-id %s: refusing it "
					       "(debug info of a different build)",
					       path, got, ef->path, want));
			note_looked(s, path, " (build-id mismatch)");
			ok = false;
		}
	} else if (!link_crc && ef->build_id_len && !cand->build_id_len) {
		refuse(s, ch_error_new(CH_ERR_INPUT,
				       "separate debug file %s has no build-id but %s has build-id %s: refusing it",
				       path, ef->path, want));
		note_looked(s, path, " (no build-id)");
		ok = false;
	} else if (link_crc) {
		uint32_t crc;
		err = ch_debug_file_crc32(path, &crc);
		if (err) {
			refuse(s, ch_error_prefix(err, "separate debug file refused: "));
			ok = false;
		} else if (crc != *link_crc) {
			refuse(s, ch_error_new(CH_ERR_INPUT,
					       "separate debug file %s has CRC32 %08x but the .gnu_debuglink of %s "
					       "expects %08x: refusing it (debug info of a different build)",
					       path, crc, ef->path, *link_crc));
			note_looked(s, path, " (CRC mismatch)");
			ok = false;
		}
	}
	if (ok && !cand->has_debug_info) {
		note_looked(s, path, " (no .debug_info)");
		ok = false;
	}
	if (ok && (err = check_compression(cand))) {
		refuse(s, err);
		note_looked(s, path, " (unreadable compression)");
		ok = false;
	}
	ch_elf_close(cand);
	return ok;
}

static struct ch_error *found(struct search *s, const char *path, enum ch_debug_method m, struct ch_debug_file *out)
{
	ch_error_free(s->refused);
	out->method = m;
	out->path = strdup(path);
	return out->path ? NULL : &ch_error_nomem;
}

/* Directory part of path ("." for none, "/" for the root), into buf. */
static void dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, size, ".");
	else if (slash == path)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

struct ch_error *ch_debug_file_find(const struct ch_elf_file *ef, const char *recorded_path, const char *debug_dir,
				    struct ch_debug_file *out)
{
	out->path = NULL;
	if (ef->has_debug_info) {
		struct ch_error *err = check_compression(ef);
		return err ? err : found(&(struct search){.ef = ef}, ef->path, CH_DEBUG_EMBEDDED, out);
	}
	struct search s = {.ef = ef};
	char path[4096];
	if (ef->build_id_len > 1) {
		char hex[129];
		ch_build_id_hex(ef->build_id, ef->build_id_len, hex);
		snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", debug_dir, hex, hex + 2);
		if (try_candidate(&s, path, NULL))
			return found(&s, path, CH_DEBUG_BUILD_ID, out);
	}
	if (ef->debuglink && !strchr(ef->debuglink, '/')) {
		char dir[2048], rdir[2048];
		dir_of(ef->path, dir, sizeof(dir));
		dir_of(recorded_path ? recorded_path : ef->path, rdir, sizeof(rdir));
		for (int k = 0; k < 3; k++) {
			int n;
			if (k == 0)
				n = snprintf(path, sizeof(path), "%s/%s", dir, ef->debuglink);
			else if (k == 1)
				n = snprintf(path, sizeof(path), "%s/.debug/%s", dir, ef->debuglink);
			else
				n = snprintf(path, sizeof(path), "%s%s%s/%s", debug_dir, rdir[0] == '/' ? "" : "/",
					     strcmp(rdir, "/") == 0 ? "" : rdir, ef->debuglink);
			if (n < 0 || (size_t)n >= sizeof(path))
				continue;
			if (strcmp(path, ef->path) == 0)
				continue; /* a link naming the file itself */
			if (try_candidate(&s, path, &ef->debuglink_crc))
				return found(&s, path, CH_DEBUG_LINK, out);
		}
	}
	/* Nothing here: ask the debuginfod servers (debuginfod.h). The fetched
	 * file passes the same checks as a local one. A local file that was
	 * refused (another build's) is reported instead: a wrong debug package
	 * is installed, and the user should hear of it rather than have it
	 * silently bypassed. */
	char remote[600] = "";
	if (!s.refused && ch_debuginfod_enabled() && ef->build_id_len > 1) {
		char *fetched;
		struct ch_error *err = ch_debuginfod_fetch(ef->build_id, ef->build_id_len, &fetched);
		if (!err) {
			bool ok = try_candidate(&s, fetched, NULL);
			err = ok ? found(&s, fetched, CH_DEBUG_DEBUGINFOD, out) : NULL;
			free(fetched);
			if (ok)
				return err;
		} else {
			snprintf(remote, sizeof(remote), "; %s", err->message);
			ch_error_free(err);
		}
	}
	if (s.refused)
		return s.refused;
	return ch_error_new(CH_ERR_UNSUPPORTED,
			    "%s: no DWARF debug info (looked in the file%s%s%s%s); install its debug symbols, pass --debug-dir%s",
			    ef->path, s.looked[0] ? " and " : "", s.looked,
			    ef->build_id_len || ef->debuglink ? "" : "; it has neither build-id nor .gnu_debuglink", remote,
			    ch_debuginfod_enabled() ? "" : " or set DEBUGINFOD_URLS to fetch it from a debuginfod server");
}
