/* libFuzzer target: the compressed-core decoders (readers/process/
 * core_inflate.h). The first input byte picks the format (zstd, lz4, xz,
 * gzip, or plain copy: byte % 5, the enum's order), the rest is the stream,
 * read from a descriptor exactly as ch_core_open reads a core: the first
 * CH_CORE_SNIFF_BYTES bytes first, then ch_core_inflate with them as head.
 * Output goes to a tmpfs temporary file; RLIMIT_FSIZE (64 MiB) turns a
 * decompression bomb into a write error instead of a full disk. Seeds:
 * cuts of a fixture core compressed with each tool (make_seeds.py). */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "readers/process/core_inflate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	struct rlimit rl = {.rlim_cur = 64u << 20, .rlim_max = 64u << 20};
	setrlimit(RLIMIT_FSIZE, &rl);
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum ch_core_compression c = (enum ch_core_compression)(data[0] % 5);
	ch_fuzz_file_set(data + 1, size - 1);
	int fd = ch_fuzz_file_fd();
	uint8_t head[CH_CORE_SNIFF_BYTES];
	ssize_t nhead = read(fd, head, sizeof(head));
	if (nhead < 0)
		abort();
	(void)ch_core_sniff(head, (size_t)nhead);
	int out_fd = -1;
	uint64_t out_size = 0;
	struct ch_error *err = ch_core_inflate(fd, head, (size_t)nhead, c, "fuzz-stream", NULL, NULL, &out_fd,
					       &out_size);
	ch_error_free(err);
	if (out_fd >= 0) {
		/* What the decoder says it wrote is what the file holds. */
		off_t end = lseek(out_fd, 0, SEEK_END);
		if (end < 0 || (uint64_t)end != out_size)
			abort();
		close(out_fd);
	}
	return 0;
}
