/* Search in a sorted array of uint32 (object indexes, ids). */
#ifndef CH_SORTED_U32_H
#define CH_SORTED_U32_H

#include <stddef.h>
#include <stdint.h>

/* The first position of v[0..n) (ascending) whose value is not below x;
 * n when every value is. */
static inline size_t ch_u32_lower_bound(const uint32_t *v, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
