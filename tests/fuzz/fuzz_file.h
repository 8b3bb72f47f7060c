/* The readers coreheap fuzzes take a path or a descriptor, as the real
 * program does: each target writes its input into one memfd (created once
 * per process, rewritten per input) and hands the reader
 * /proc/self/fd/N, so the bytes go through the same open/mmap/read code
 * as a file on disk, with no disk I/O per execution. */
#ifndef CH_FUZZ_FILE_H
#define CH_FUZZ_FILE_H
#include <stddef.h>
#include <stdint.h>

/* Replace the memfd's contents with data; returns its /proc path (static
 * storage), or aborts when the memfd cannot be written (a harness
 * failure, not a finding). */
const char *ch_fuzz_file_set(const uint8_t *data, size_t size);
/* The memfd itself, positioned at offset 0. */
int ch_fuzz_file_fd(void);

/* With CH_FUZZ_VERBOSE set in the environment: the warnings in d (and
 * whether they make the result partial) on stderr, one per line, after
 * what (e.g. "glibc"). For reproducing a finding or checking a seed:
 * CH_FUZZ_VERBOSE=1 build-fuzz/tests/fuzz_glibc SEED. */
struct ch_diag;
void ch_fuzz_print_diag(const char *what, const struct ch_diag *d);

#endif
