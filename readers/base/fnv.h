/* FNV-1a, 64-bit: a fingerprint of small inputs (a cache file's text, the
 * names a cache is keyed by). Not for big data, not cryptographic. */
#ifndef CH_FNV_H
#define CH_FNV_H

#include <stddef.h>
#include <stdint.h>

#define CH_FNV_SEED 0xcbf29ce484222325ULL

static inline uint64_t ch_fnv_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* s and its terminator, so that "ab","c" and "a","bc" differ; NULL as "". */
static inline uint64_t ch_fnv_text(uint64_t h, const char *s)
{
	size_t n = 0;
	if (s)
		while (s[n])
			n++;
	return ch_fnv_bytes(h, s ? s : "", n + 1);
}

#endif
