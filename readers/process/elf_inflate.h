/* Debug files whose sections are zstd-compressed (SHF_COMPRESSED with
 * ELFCOMPRESS_ZSTD, `objcopy --compress-debug-sections=zstd`, binutils 2.40+):
 * libdwarf 20210528 inflates only zlib, so coreheap hands it an inflated copy
 * in an anonymous memory file instead. libzstd does the inflating: a zstd
 * decoder by hand would be thousands of lines. */
#ifndef CH_ELF_INFLATE_H
#define CH_ELF_INFLATE_H

#include "readers/base/error.h"

/* *fd: a memfd holding path's ELF with every zstd section inflated (the
 * caller closes it), or -1 when path has no zstd section (nothing to do).
 * A section that does not inflate is CH_ERR_INPUT naming it. */
struct ch_error *ch_elf_inflate_zstd(const char *path, int *fd);

#endif
