#include "fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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
