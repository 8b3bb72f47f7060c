#include "readers/process/core_inflate.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CHUNK (1u << 20)
#define OUT_CHUNK (4u << 20)
#define MIN_CHUNK (64u << 10) /* >= CH_CORE_SNIFF_BYTES, the head read before */
#define PROGRESS_EVERY (64ULL << 20)

enum ch_core_compression ch_core_sniff(const uint8_t *h, size_t n)
{
	if (n >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
		return CH_CORE_ZSTD;
	if (n >= 4 && h[0] == 0x04 && h[1] == 0x22 && h[2] == 0x4d && h[3] == 0x18)
		return CH_CORE_LZ4;
	if (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0)
		return CH_CORE_XZ;
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return CH_CORE_GZIP;
	return CH_CORE_PLAIN;
}

const char *ch_core_compression_name(enum ch_core_compression c)
{
	switch (c) {
	case CH_CORE_ZSTD: return "zstd";
	case CH_CORE_LZ4: return "lz4";
	case CH_CORE_XZ: return "xz";
	case CH_CORE_GZIP: return "gzip";
	case CH_CORE_PLAIN: break;
	}
	return "none";
}

/* Where the bytes come from: the head already read, then the descriptor. */
struct source {
	int fd;
	const uint8_t *head;
	size_t nhead;
	uint8_t *buf;
	size_t cap; /* of buf: IN_CHUNK, less for a smaller file */
	bool eof;
};

/* Where they go: the temporary file, with the cap and progress. */
struct sink {
	int fd;
	uint64_t written, next_progress;
	const char *name;
	const char *phase;
	ch_core_progress_fn progress;
	void *progress_arg;
	size_t out_cap; /* of the decoders' output buffer */
};

/* Up to s->cap bytes into s->buf; *n == 0 with s->eof at the end. */
static struct ch_error *source_read(struct source *s, const char *name, size_t *n)
{
	*n = 0;
	if (s->nhead) {
		memcpy(s->buf, s->head, s->nhead);
		*n = s->nhead;
		s->nhead = 0;
		return NULL;
	}
	for (;;) {
		ssize_t r = read(s->fd, s->buf, s->cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ch_error_new(CH_ERR_INPUT, "%s: %s", name, strerror(errno));
		if (r == 0)
			s->eof = true;
		*n = (size_t)r;
		return NULL;
	}
}

static struct ch_error *sink_write(struct sink *k, const void *data, size_t n)
{
	if (n > CH_INFLATE_MAX - k->written)
		return ch_error_new(CH_ERR_INPUT, "%s: inflates to more than %llu GiB: refused as no core is that large",
				    k->name, (unsigned long long)(CH_INFLATE_MAX >> 30));
	const uint8_t *p = data;
	while (n) {
		ssize_t w = write(k->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ch_error_new(CH_ERR_INPUT, "%s: writing the %s copy after %llu MiB failed: %s (set TMPDIR to a folder with room)",
					    k->name, k->phase, (unsigned long long)(k->written >> 20),
					    w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
		k->written += (uint64_t)w;
	}
	if (k->progress && k->written >= k->next_progress) {
		k->progress(k->progress_arg, k->phase, k->written);
		k->next_progress = k->written + PROGRESS_EVERY;
	}
	return NULL;
}

static struct ch_error *truncated(const char *name, const char *fmt)
{
	return ch_error_new(CH_ERR_INPUT, "%s: the %s stream ends early (truncated download or copy?)", name, fmt);
}

static struct ch_error *copy_plain(struct source *s, struct sink *k, const char *name)
{
	for (;;) {
		size_t n;
		struct ch_error *err = source_read(s, name, &n);
		if (err || s->eof)
			return err;
		if ((err = sink_write(k, s->buf, n)))
			return err;
	}
}

static struct ch_error *inflate_zstd(struct source *s, struct sink *k, uint8_t *out, const char *name)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	if (!z)
		return &ch_error_nomem;
	struct ch_error *err = NULL;
	size_t last = 0; /* 0 when the last frame ended cleanly */
	bool any = false;
	while (!err) {
		size_t n;
		if ((err = source_read(s, name, &n)) || s->eof)
			break;
		any = true;
		ZSTD_inBuffer in = {s->buf, n, 0};
		while (!err && in.pos < in.size) {
			ZSTD_outBuffer o = {out, k->out_cap, 0};
			last = ZSTD_decompressStream(z, &o, &in);
			if (ZSTD_isError(last))
				err = ch_error_new(CH_ERR_INPUT, "%s: not a valid zstd stream: %s", name,
						   ZSTD_getErrorName(last));
			else
				err = sink_write(k, out, o.pos);
		}
		/* Flush what the decoder still holds for this input. */
		while (!err && last != 0 && !ZSTD_isError(last)) {
			ZSTD_inBuffer none = {NULL, 0, 0};
			ZSTD_outBuffer o = {out, k->out_cap, 0};
			last = ZSTD_decompressStream(z, &o, &none);
			if (ZSTD_isError(last))
				err = ch_error_new(CH_ERR_INPUT, "%s: not a valid zstd stream: %s", name,
						   ZSTD_getErrorName(last));
			else if (o.pos == 0)
				break;
			else
				err = sink_write(k, out, o.pos);
		}
	}
	if (!err && (!any || last != 0))
		err = truncated(name, "zstd");
	ZSTD_freeDCtx(z);
	return err;
}

static struct ch_error *inflate_lz4(struct source *s, struct sink *k, uint8_t *out, const char *name)
{
	LZ4F_dctx *z;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
		return &ch_error_nomem;
	struct ch_error *err = NULL;
	size_t hint = 1; /* LZ4F's "bytes expected next"; 0 at a frame's end */
	bool any = false;
	while (!err) {
		size_t n;
		if ((err = source_read(s, name, &n)) || s->eof)
			break;
		any = true;
		size_t pos = 0;
		while (!err && pos < n) {
			size_t osz = k->out_cap, isz = n - pos;
			hint = LZ4F_decompress(z, out, &osz, s->buf + pos, &isz, NULL);
			if (LZ4F_isError(hint)) {
				err = ch_error_new(CH_ERR_INPUT, "%s: not a valid lz4 frame stream: %s", name,
						   LZ4F_getErrorName(hint));
				break;
			}
			pos += isz;
			err = sink_write(k, out, osz);
			if (!err && isz == 0 && osz == 0)
				break;
		}
	}
	if (!err && (!any || hint != 0))
		err = truncated(name, "lz4");
	LZ4F_freeDecompressionContext(z);
	return err;
}

static struct ch_error *inflate_xz(struct source *s, struct sink *k, uint8_t *out, const char *name)
{
	lzma_stream z = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return &ch_error_nomem;
	struct ch_error *err = NULL;
	lzma_ret r = LZMA_OK;
	while (!err && r != LZMA_STREAM_END) {
		size_t n = 0;
		if (z.avail_in == 0) {
			if ((err = source_read(s, name, &n)))
				break;
			z.next_in = s->buf;
			z.avail_in = n;
		}
		z.next_out = out;
		z.avail_out = k->out_cap;
		r = lzma_code(&z, s->eof ? LZMA_FINISH : LZMA_RUN);
		if (r != LZMA_OK && r != LZMA_STREAM_END) {
			err = r == LZMA_BUF_ERROR ? truncated(name, "xz")
						  : ch_error_new(CH_ERR_INPUT, "%s: not a valid xz stream (liblzma error %d)",
								 name, (int)r);
			break;
		}
		err = sink_write(k, out, k->out_cap - z.avail_out);
		if (!err && s->eof && r == LZMA_OK && z.avail_out != 0)
			err = truncated(name, "xz");
	}
	lzma_end(&z);
	return err;
}

static struct ch_error *inflate_gzip(struct source *s, struct sink *k, uint8_t *out, const char *name)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return &ch_error_nomem;
	struct ch_error *err = NULL;
	int r = Z_OK;
	bool ended = false; /* the last member ended cleanly */
	while (!err) {
		if (z.avail_in == 0) {
			size_t n;
			if ((err = source_read(s, name, &n)) || s->eof)
				break;
			z.next_in = s->buf;
			z.avail_in = (uInt)n;
		}
		z.next_out = out;
		z.avail_out = (uInt)k->out_cap;
		r = inflate(&z, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			err = ch_error_new(CH_ERR_INPUT, "%s: not a valid gzip stream: %s", name, z.msg ? z.msg : "corrupt");
			break;
		}
		err = sink_write(k, out, k->out_cap - z.avail_out);
		ended = r == Z_STREAM_END;
		if (ended && !err)
			inflateReset(&z); /* gzip files may hold several members */
	}
	if (!err && !ended)
		err = truncated(name, "gzip");
	inflateEnd(&z);
	return err;
}

static int temp_fd(void)
{
	const char *dir = getenv("TMPDIR");
	int fd = -1;
	if (dir && *dir)
		fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = memfd_create("coreheap-core", MFD_CLOEXEC);
	return fd;
}

struct ch_error *ch_core_inflate(int fd, const uint8_t *head, size_t nhead, enum ch_core_compression c,
				 const char *name, ch_core_progress_fn progress, void *progress_arg, int *out_fd,
				 uint64_t *out_size)
{
	*out_fd = -1;
	*out_size = 0;
	int tfd = temp_fd();
	if (tfd < 0)
		return ch_error_new(CH_ERR_INPUT, "%s: no temporary file for the %s copy: %s", name,
				    c == CH_CORE_PLAIN ? "streamed" : "decompressed", strerror(errno));
	/* A small file needs small buffers: buffers of a MiB or more cost more
	 * than decoding a small stream (the fuzz target's inputs). */
	size_t in_cap = IN_CHUNK, out_cap = OUT_CHUNK;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < IN_CHUNK) {
		in_cap = (size_t)st.st_size + 1 > MIN_CHUNK ? (size_t)st.st_size + 1 : MIN_CHUNK;
		out_cap = 4 * in_cap < OUT_CHUNK ? 4 * in_cap : OUT_CHUNK;
	}
	uint8_t *in = malloc(in_cap), *out = malloc(out_cap);
	struct ch_error *err = NULL;
	if (!in || !out) {
		err = &ch_error_nomem;
	} else {
		struct source s = {.fd = fd, .head = head, .nhead = nhead, .buf = in, .cap = in_cap};
		struct sink k = {.fd = tfd, .name = name, .progress = progress, .progress_arg = progress_arg,
				 .next_progress = PROGRESS_EVERY, .out_cap = out_cap,
				 .phase = c == CH_CORE_PLAIN ? "copying the core" : "decompressing the core"};
		switch (c) {
		case CH_CORE_ZSTD: err = inflate_zstd(&s, &k, out, name); break;
		case CH_CORE_LZ4: err = inflate_lz4(&s, &k, out, name); break;
		case CH_CORE_XZ: err = inflate_xz(&s, &k, out, name); break;
		case CH_CORE_GZIP: err = inflate_gzip(&s, &k, out, name); break;
		case CH_CORE_PLAIN: err = copy_plain(&s, &k, name); break;
		}
		*out_size = k.written;
	}
	free(in);
	free(out);
	if (err) {
		close(tfd);
		*out_size = 0;
		return err;
	}
	*out_fd = tfd;
	return NULL;
}
