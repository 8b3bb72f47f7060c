/* libFuzzer target: the snapshot reader (reports/snapshot_read.h). Each
 * input is a snapshot file, sniffed and read by path as `diff` reads one;
 * a snapshot that reads is then diffed against itself, the way `diff`
 * uses it. Seeds: snapshots coreheap writes of the fixture cores
 * (make_seeds.py) and a minimal hand-made one. */
#include <stdint.h>

#include "fuzz_file.h"
#include "graph/diff.h"
#include "reports/snapshot_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = ch_fuzz_file_set(data, size);
	(void)ch_snapshot_sniff(path);
	struct ch_heap_digest d;
	struct ch_error *err = ch_snapshot_read(path, &d);
	if (!err) {
		struct ch_diff diff;
		ch_error_free(ch_diff_compute(&diff, &d, &d));
		ch_diff_deinit(&diff);
	}
	ch_error_free(err);
	ch_heap_digest_deinit(&d);
	return 0;
}
