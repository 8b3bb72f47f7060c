/* A read-only file mapping shared by the tables that point into it (the
 * object table and edges loaded from one heap index): the last to let go
 * unmaps it. Tables backed by one never free or grow those arrays in
 * place. */
#ifndef CH_SHARED_MAP_H
#define CH_SHARED_MAP_H

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

struct ch_shared_map {
	void *p;
	size_t len;
	unsigned refs;
};

static inline struct ch_shared_map *ch_shared_map_hold(struct ch_shared_map *m)
{
	if (m)
		m->refs++;
	return m;
}

static inline void ch_shared_map_release(struct ch_shared_map *m)
{
	if (!m || --m->refs)
		return;
	if (m->p)
		munmap(m->p, m->len);
	free(m);
}

#endif
