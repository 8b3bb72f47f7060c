/* The heap index's hash of bytes (graph/heap_index.h): the building block
 * of an index's key and of its checksum's fold. */
#include "heap_index.h"

#include <string.h>

uint64_t ch_heap_index_hash(uint64_t seed, const void *data, size_t len)
{
	/* Four independent multiply-xor lanes over 8-byte words (fast enough
	 * for a gigabyte), folded at the end; not cryptographic, only a check
	 * against damage and a fingerprint of inputs. */
	const uint64_t m = 0x9E3779B97F4A7C15ULL;
	uint64_t h[4] = {seed ^ len, seed + m, seed ^ (m >> 1), ~seed};
	const unsigned char *p = data;
	size_t i = 0;
	for (; i + 32 <= len; i += 32)
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * k, 8);
			h[k] = (h[k] ^ w) * m;
			h[k] ^= h[k] >> 29;
		}
	for (; i < len; i++)
		h[0] = (h[0] ^ p[i]) * m;
	uint64_t r = seed;
	for (int k = 0; k < 4; k++) {
		r = (r ^ h[k]) * m;
		r ^= r >> 31;
	}
	return r;
}
