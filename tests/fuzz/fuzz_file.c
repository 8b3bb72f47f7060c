#include "fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "readers/base/diag.h"

static int memfd = -1;
static char memfd_path[64];

const char *ch_fuzz_file_set(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("coreheap-fuzz-input", MFD_CLOEXEC);
		if (memfd < 0) {
			perror("fuzz harness: memfd_create");
			abort();
		}
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) < 0) {
		perror("fuzz harness: ftruncate");
		abort();
	}
	size_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(memfd, data + done, size - done, (off_t)done);
		if (w <= 0) {
			perror("fuzz harness: pwrite");
			abort();
		}
		done += (size_t)w;
	}
	lseek(memfd, 0, SEEK_SET);
	return memfd_path;
}

int ch_fuzz_file_fd(void)
{
	lseek(memfd, 0, SEEK_SET);
	return memfd;
}

void ch_fuzz_print_diag(const char *what, const struct ch_diag *d)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("CH_FUZZ_VERBOSE") != NULL;
	if (!verbose)
		return;
	fprintf(stderr, "%s: %zu warnings%s\n", what, d->n, d->partial ? ", partial" : "");
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  %s\n", d->messages[i]);
}
