/* A hint that a big heap-sized array (objects, address slots, edges) is
 * read at random: back it with huge pages where the kernel offers them
 * only on request. A lookup pass over millions of objects touches a new
 * 4 KiB page nearly every time, and on a virtual machine each translation
 * miss is a two-level walk; with 2 MiB pages the tables fit the
 * translation cache. Only the whole huge pages inside [p, p+len) are
 * marked; smaller arrays and any failure leave the memory as it was. */
#ifndef CH_HUGE_PAGES_H
#define CH_HUGE_PAGES_H

#include <stddef.h>

void ch_huge_pages_advise(void *p, size_t len);

#endif
