#include "readers/base/cache_dir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool ch_cache_dir(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int w = -1;
	if (n == 0)
		return false;
	if (xdg && xdg[0] == '/')
		w = snprintf(out, n, "%s/coreheap", xdg);
	else if (home && home[0] == '/')
		w = snprintf(out, n, "%s/.cache/coreheap", home);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool ch_cache_make_dir(const char *dir)
{
	char copy[PATH_MAX];
	if (snprintf(copy, sizeof(copy), "%s", dir) >= (int)sizeof(copy))
		return false;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(copy, 0700);
		*p = '/';
	}
	mkdir(copy, 0700);
	struct stat st;
	return stat(copy, &st) == 0 && S_ISDIR(st.st_mode);
}
