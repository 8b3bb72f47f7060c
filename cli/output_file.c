#include "output_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit_codes.h"

static bool same_file(const struct stat *a, const char *path)
{
	struct stat b;
	return path && stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

int ch_output_file_open(struct ch_output_file *o, const char *path, const char *const *inputs, size_t ninputs)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	struct stat st;
	bool exists = stat(path, &st) == 0;
	if (exists) {
		for (size_t i = 0; i < ninputs; i++) {
			if (same_file(&st, inputs[i])) {
				fprintf(stderr, "coreheap: error: -o %s is the input %s: refusing to write the report over it\n",
					path, inputs[i]);
				return CH_EXIT_USAGE;
			}
		}
	}
	if (exists && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "w");
		if (!o->f) {
			fprintf(stderr, "coreheap: error: %s: %s\n", path, strerror(errno));
			return CH_EXIT_INPUT;
		}
		return 0;
	}
	size_t n = strlen(path);
	o->tmp = malloc(n + sizeof(".coreheap-XXXXXX"));
	if (!o->tmp) {
		fprintf(stderr, "coreheap: error: out of memory\n");
		return CH_EXIT_INTERNAL;
	}
	memcpy(o->tmp, path, n);
	memcpy(o->tmp + n, ".coreheap-XXXXXX", sizeof(".coreheap-XXXXXX"));
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		fprintf(stderr, "coreheap: error: %s: cannot create a file beside it: %s\n", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return CH_EXIT_INPUT;
	}
	/* mkstemp makes the file 0600; a report gets the mode a plain open
	 * would have given it (the existing file's, or 0666 less the umask). */
	mode_t mode;
	if (exists) {
		mode = st.st_mode & 07777;
	} else {
		mode_t mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	(void)fchmod(fd, mode);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		fprintf(stderr, "coreheap: error: %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return CH_EXIT_INPUT;
	}
	return 0;
}

bool ch_output_file_close(struct ch_output_file *o, bool keep)
{
	bool ok = true;
	if (o->f && fclose(o->f) != 0 && keep) {
		fprintf(stderr, "coreheap: error: writing %s failed: %s\n", o->path, strerror(errno));
		keep = ok = false;
	}
	o->f = NULL;
	if (o->tmp) {
		if (keep && rename(o->tmp, o->path) != 0) {
			fprintf(stderr, "coreheap: error: %s: %s\n", o->path, strerror(errno));
			ok = false;
			keep = false;
		}
		if (!keep)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	return ok;
}
