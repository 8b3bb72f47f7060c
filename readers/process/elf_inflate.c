/* zstd-compressed debug sections, inflated for libdwarf (see elf_inflate.h).
 *
 * The copy is the original file unchanged, followed by each inflated
 * section and a new section header table; the ELF header's e_shoff and the
 * inflated sections' headers (offset, size, alignment, SHF_COMPRESSED
 * cleared) are rewritten. Program headers and every other byte stay where
 * they were, so nothing else in the file moves. ELF64 little-endian only
 * (x86_64 cores); anything else is left to libdwarf as it is. */
#include "readers/process/elf_inflate.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2 /* gABI; glibc < 2.37's elf.h lacks the name */
#endif

/* A hostile header must not make us allocate without bound. */
#define CH_INFLATE_MAX ((uint64_t)4 << 30)

/* zstd's largest ratio: a block of at most 128 KiB (ZSTD_BLOCKSIZE_MAX)
 * stored as RLE takes a 3-byte header and 1 byte. */
#define CH_ZSTD_MAX_RATIO ((128u << 10) / 4)

static struct ch_error *write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ch_error_new(CH_ERR_UNSUPPORTED, "writing the inflated debug file: %s", strerror(errno));
		b += w;
		n -= (size_t)w;
	}
	return NULL;
}

static struct ch_error *pad_to(int fd, uint64_t *at, uint64_t align)
{
	static const uint8_t zeros[64];
	if (align > 64)
		align = 64;
	while (align > 1 && *at % align) {
		struct ch_error *err = write_all(fd, zeros, 1);
		if (err)
			return err;
		(*at)++;
	}
	return NULL;
}

/* Sections of the file: NULL (no zstd section, or not a file this reads)
 * or a copy of the section header table to rewrite. */
static Elf64_Shdr *zstd_sections(const uint8_t *d, size_t size, const char *path, struct ch_error **err)
{
	*err = NULL;
	if (size < sizeof(Elf64_Ehdr) || d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB)
		return NULL;
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	if (!eh.e_shoff || eh.e_shentsize != sizeof(Elf64_Shdr) || !eh.e_shnum)
		return NULL;
	if (eh.e_shoff > size || (size - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum) {
		*err = ch_error_new(CH_ERR_INPUT, "%s: section headers lie outside the file", path);
		return NULL;
	}
	Elf64_Shdr *sh = malloc(eh.e_shnum * sizeof(*sh));
	if (!sh) {
		*err = &ch_error_nomem;
		return NULL;
	}
	memcpy(sh, d + eh.e_shoff, eh.e_shnum * sizeof(*sh));
	for (size_t i = 0; i < eh.e_shnum; i++) {
		Elf64_Chdr ch;
		if (!(sh[i].sh_flags & SHF_COMPRESSED) || sh[i].sh_type == SHT_NOBITS || sh[i].sh_size < sizeof(ch) ||
		    sh[i].sh_offset > size || size - sh[i].sh_offset < sh[i].sh_size)
			continue;
		memcpy(&ch, d + sh[i].sh_offset, sizeof(ch));
		if (ch.ch_type == ELFCOMPRESS_ZSTD)
			return sh;
	}
	free(sh);
	return NULL;
}

struct ch_error *ch_elf_inflate_zstd(const char *path, int *out_fd)
{
	*out_fd = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(CH_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return NULL; /* ch_dwarf_open says what is wrong with it */
	}
	size_t size = (size_t)st.st_size;
	const uint8_t *d = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (d == MAP_FAILED)
		return ch_error_new(CH_ERR_INPUT, "cannot map %s: %s", path, strerror(errno));
	struct ch_error *err;
	Elf64_Shdr *sh = zstd_sections(d, size, path, &err);
	if (!sh) {
		munmap((void *)d, size);
		return err;
	}
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	int mfd = memfd_create("coreheap-inflated-debug", MFD_CLOEXEC);
	if (mfd < 0) {
		err = ch_error_new(CH_ERR_UNSUPPORTED, "memfd_create: %s", strerror(errno));
		goto out;
	}
	uint64_t at = size;
	if ((err = write_all(mfd, d, size)))
		goto out;
	for (size_t i = 0; i < eh.e_shnum; i++) {
		Elf64_Chdr ch;
		if (!(sh[i].sh_flags & SHF_COMPRESSED) || sh[i].sh_type == SHT_NOBITS || sh[i].sh_size < sizeof(ch) ||
		    sh[i].sh_offset > size || size - sh[i].sh_offset < sh[i].sh_size)
			continue;
		memcpy(&ch, d + sh[i].sh_offset, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZSTD)
			continue;
		/* What the stream can inflate to, before allocating what the
		 * header claims: zstd packs at most one 128 KiB block in 4 bytes
		 * (an RLE block), and a frame that states its content size must
		 * state this one. A few damaged bytes must not make coreheap
		 * allocate gigabytes. */
		uint64_t packed = sh[i].sh_size - sizeof(ch);
		unsigned long long declared = ZSTD_getFrameContentSize(d + sh[i].sh_offset + sizeof(ch), packed);
		if (ch.ch_size > packed * CH_ZSTD_MAX_RATIO + CH_ZSTD_MAX_RATIO ||
		    (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR && declared != ch.ch_size)) {
			err = ch_error_new(CH_ERR_INPUT, "%s: section %zu claims %llu bytes inflated from %llu", path, i,
					   (unsigned long long)ch.ch_size, (unsigned long long)packed);
			goto out;
		}
		if (ch.ch_size > CH_INFLATE_MAX) {
			err = ch_error_new(CH_ERR_INPUT, "%s: section %zu claims %llu bytes inflated", path, i,
					   (unsigned long long)ch.ch_size);
			goto out;
		}
		void *buf = malloc(ch.ch_size ? ch.ch_size : 1);
		if (!buf) {
			err = &ch_error_nomem;
			goto out;
		}
		size_t got = ZSTD_decompress(buf, ch.ch_size, d + sh[i].sh_offset + sizeof(ch), sh[i].sh_size - sizeof(ch));
		if (ZSTD_isError(got) || got != ch.ch_size) {
			err = ch_error_new(CH_ERR_INPUT, "%s: section %zu does not inflate (zstd: %s)", path, i,
					   ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size differs from its header");
			free(buf);
			goto out;
		}
		if (!(err = pad_to(mfd, &at, ch.ch_addralign)))
			err = write_all(mfd, buf, ch.ch_size);
		free(buf);
		if (err)
			goto out;
		sh[i].sh_offset = at;
		sh[i].sh_size = ch.ch_size;
		sh[i].sh_addralign = ch.ch_addralign;
		sh[i].sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		at += ch.ch_size;
	}
	if ((err = pad_to(mfd, &at, 8)) || (err = write_all(mfd, sh, eh.e_shnum * sizeof(*sh))))
		goto out;
	eh.e_shoff = at;
	if (pwrite(mfd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh)) {
		err = ch_error_new(CH_ERR_UNSUPPORTED, "writing the inflated debug file: %s", strerror(errno));
		goto out;
	}
	*out_fd = mfd;
	mfd = -1;
out:
	if (mfd >= 0)
		close(mfd);
	free(sh);
	munmap((void *)d, size);
	return err;
}
