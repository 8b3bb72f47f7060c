#include "huge_pages.h"

#include <stdint.h>
#include <sys/mman.h>

#define CH_HUGE_PAGE ((uintptr_t)2 << 20)
/* Below this an array is not worth a system call (it spans few pages). */
#define CH_HUGE_MIN (4 * CH_HUGE_PAGE)

void ch_huge_pages_advise(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	if (!p || len < CH_HUGE_MIN)
		return;
	uintptr_t start = ((uintptr_t)p + CH_HUGE_PAGE - 1) & ~(CH_HUGE_PAGE - 1);
	uintptr_t end = ((uintptr_t)p + len) & ~(CH_HUGE_PAGE - 1);
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE); /* a hint: refused is harmless */
#else
	(void)p;
	(void)len;
#endif
}
