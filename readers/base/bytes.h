/* Little-endian loads from unaligned bytes, and alignment arithmetic. Cores
 * and ELF files are read through these so that no code casts a byte pointer
 * to a wider type (which UBSan rightly rejects when misaligned). */
#ifndef CH_BYTES_H
#define CH_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t ch_le16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ch_le32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t ch_le64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Saturates instead of wrapping, so a hostile size can't turn into a small one. */
static inline uint64_t ch_align_up(uint64_t v, uint64_t a)
{
	if (v > UINT64_MAX - (a - 1))
		return UINT64_MAX;
	return (v + a - 1) & ~(a - 1);
}

#endif
