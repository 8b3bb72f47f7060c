/* Bounded walks of linked lists in the dump. A hostile or torn list may
 * loop or run on forever; every chain walk goes through ch_chain_step,
 * which detects a cycle with Brent's algorithm in O(1) memory and stops at
 * a hard length limit. */
#ifndef CH_CHAIN_H
#define CH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

enum ch_chain_step { CH_CHAIN_OK, CH_CHAIN_LOOP, CH_CHAIN_TOO_LONG };

struct ch_chain {
	uint64_t saved;  /* node remembered at the last power of two */
	size_t power, lam;
	size_t steps, limit;
};

static inline void ch_chain_init(struct ch_chain *c, size_t limit)
{
	c->saved = 0;
	c->power = c->lam = 1;
	c->steps = 0;
	c->limit = limit;
}

/* Call with each node in turn (including the first). */
static inline enum ch_chain_step ch_chain_step(struct ch_chain *c, uint64_t node)
{
	if (c->steps++ >= c->limit)
		return CH_CHAIN_TOO_LONG;
	if (c->steps > 1 && node == c->saved)
		return CH_CHAIN_LOOP;
	if (c->lam == c->power) {
		c->saved = node;
		c->power *= 2;
		c->lam = 0;
	}
	c->lam++;
	return CH_CHAIN_OK;
}

#endif
