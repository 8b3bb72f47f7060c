/* Cores that are not a plain file coreheap can map: compressed the way
 * systemd-coredump and people store them (zstd, lz4 frames, xz, gzip) or
 * arriving on a pipe (`-`, /dev/stdin). Either is turned, once, into an
 * unlinked temporary file (in $TMPDIR, else /tmp; anonymous memory when
 * neither takes it) that the core reader then maps like any core, so
 * nothing after this step knows where the bytes came from.
 *
 * The compressed stream is input like a core: a corrupt or truncated
 * stream is a one-line error naming the format; the output is capped
 * (CH_INFLATE_MAX) so a small hostile file cannot fill the disk. */
#ifndef CH_CORE_INFLATE_H
#define CH_CORE_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

enum ch_core_compression { CH_CORE_PLAIN, CH_CORE_ZSTD, CH_CORE_LZ4, CH_CORE_XZ, CH_CORE_GZIP };

/* Bytes of the file's start that ch_core_sniff looks at. */
#define CH_CORE_SNIFF_BYTES 6
/* Largest core inflated (1 TiB): beyond it the stream is refused. */
#define CH_INFLATE_MAX (1ULL << 40)

/* Called now and then while bytes are copied: phase text and bytes written. */
typedef void (*ch_core_progress_fn)(void *arg, const char *phase, uint64_t done);

/* The compression of a file starting with these n bytes, by magic number. */
enum ch_core_compression ch_core_sniff(const uint8_t *head, size_t n);
/* "zstd", "lz4", "xz", "gzip", or "none". */
const char *ch_core_compression_name(enum ch_core_compression c);

/* Reads fd to its end (after the nhead bytes of head already read from
 * it), decompressing as c says, into a new unlinked temporary file whose
 * descriptor is *out_fd and size *out_size. name is for messages. */
struct ch_error *ch_core_inflate(int fd, const uint8_t *head, size_t nhead, enum ch_core_compression c,
				 const char *name, ch_core_progress_fn progress, void *progress_arg, int *out_fd,
				 uint64_t *out_size);

#endif
