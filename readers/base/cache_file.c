#include "readers/base/cache_file.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers/base/cache_dir.h"
#include "readers/base/fnv.h"

static bool hex_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 2 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool ch_cache_file_path(const char *sub, const char *build_id, const char *ext, char *out, size_t n, bool *off)
{
	const char *env = getenv("CH_LAYOUT_CACHE");
	*off = env && strcmp(env, "off") == 0;
	out[0] = '\0';
	char dir[PATH_MAX];
	if (*off || !hex_id(build_id) || !ch_cache_dir(dir, sizeof(dir)))
		return false;
	int w = snprintf(out, n, "%s/%s/%s%s", dir, sub, build_id, ext);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
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
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > CH_CACHE_FILE_MAX)
		snprintf(why, wmax, "not a regular file of at most %u bytes", CH_CACHE_FILE_MAX);
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

bool ch_cache_file_line(const char **s, const char **line, size_t *len)
{
	const char *nl = strchr(*s, '\n');
	if (!**s || !nl)
		return false;
	*line = *s;
	*len = (size_t)(nl - *s);
	*s = nl + 1;
	return true;
}

bool ch_cache_file_line_is(const char *line, size_t len, const char *key, const char *value)
{
	size_t k = strlen(key), v = strlen(value);
	return len == k + 1 + v && memcmp(line, key, k) == 0 && line[k] == ' ' && memcmp(line + k + 1, value, v) == 0;
}

char *ch_cache_file_read(const char *path, const char *magic, uint64_t key, const char **body, char *why, size_t wmax)
{
	why[0] = '\0';
	char *text = read_bounded(path, why, wmax);
	if (!text)
		return NULL;
	const char *s = text, *line, *sum_line;
	size_t len, sum_len;
	char hex[17];
	snprintf(hex, sizeof(hex), "%016" PRIx64, key);
	if (!ch_cache_file_line(&s, &line, &len) || len != strlen(magic) || memcmp(line, magic, len) != 0)
		snprintf(why, wmax, "not a \"%s\" file", magic);
	else if (!ch_cache_file_line(&s, &line, &len) || !ch_cache_file_line_is(line, len, "key", hex))
		snprintf(why, wmax, "written by another coreheap version or field set");
	else if (!ch_cache_file_line(&s, &sum_line, &sum_len))
		snprintf(why, wmax, "cut short");
	else {
		snprintf(hex, sizeof(hex), "%016" PRIx64, ch_fnv_bytes(CH_FNV_SEED, s, strlen(s)));
		if (!ch_cache_file_line_is(sum_line, sum_len, "checksum", hex))
			snprintf(why, wmax, "checksum mismatch (damaged or cut)");
	}
	if (why[0]) {
		free(text);
		return NULL;
	}
	*body = s;
	return text;
}

bool ch_cache_file_write(const char *path, const char *magic, uint64_t key, const char *body, size_t len, char *problem,
			 size_t pmax)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	FILE *f = NULL;
	errno = 0;
	if (!slash || !ch_cache_make_dir(dir) || !(f = fopen(tmp, "we"))) {
		snprintf(problem, pmax, "%.200s: %s", slash ? dir : path, strerror(errno ? errno : EACCES));
		return false;
	}
	bool ok = fprintf(f, "%s\nkey %016" PRIx64 "\nchecksum %016" PRIx64 "\n", magic, key,
			  ch_fnv_bytes(CH_FNV_SEED, body, len)) > 0 &&
		  fwrite(body, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	int saved = errno;
	if (ok && rename(tmp, path) != 0) {
		saved = errno;
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		snprintf(problem, pmax, "%.200s: %s", path, strerror(saved ? saved : EIO));
	}
	return ok;
}
