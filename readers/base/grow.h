/* Growing a malloc'd array by doubling: the one helper for the compact
 * arrays the readers and the graph layer append to (frames, codes, tasks,
 * links). */
#ifndef CH_GROW_H
#define CH_GROW_H

#include <stddef.h>
#include <stdlib.h>

#include "readers/base/error.h"

/* Makes room for `need` elements of `elem` bytes in *p (capacity *cap,
 * starting at 64); on failure *p and *cap are unchanged. */
static inline struct ch_error *ch_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return NULL;
	size_t n = *cap ? *cap : 64;
	while (n < need) {
		if (n > ((size_t)-1 / 2) / elem)
			return &ch_error_nomem;
		n *= 2;
	}
	void *q = realloc(*p, n * elem);
	if (!q)
		return &ch_error_nomem;
	*p = q;
	*cap = n;
	return NULL;
}

#endif
