/* The dumped process's memory, as one bounds-checked map from addresses to
 * bytes. Every memory read of coreheap goes through here.
 *
 * A range is backed either by bytes of the core file (what the kernel
 * dumped) or by bytes of a file the process had mapped (read-only pages the
 * kernel skipped, e.g. .rodata where type names live). Core bytes win where
 * both exist, because they are what the process actually held. A range
 * with data == NULL is known to the process but unreadable (not dumped,
 * truncated core, file missing): reads of it fail with CH_ERR_FAULT. */
#ifndef CH_ADDRESS_SPACE_H
#define CH_ADDRESS_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/bytes.h"
#include "readers/base/error.h"

/* CH_AS_LOST: bytes the kernel dumped that lie past the end of a truncated
 * core. Kept apart from CH_AS_NONE so a read that needed them is counted
 * (lost_reads) and the result can say it is partial because of the cut. */
enum ch_as_source { CH_AS_CORE, CH_AS_FILE, CH_AS_NONE, CH_AS_LOST };

struct ch_as_range {
	uint64_t start, end;   /* [start, end) */
	const uint8_t *data;   /* bytes for start, or NULL when unreadable */
	enum ch_as_source source;
	bool writable;         /* the process could write it (segment PF_W) */
};

/* Range lookups are remembered per 64 KiB block of addresses, direct-mapped:
 * a pass over millions of objects alternates between a few ranges (the
 * object's arena, its type, its dict's keys), which one "last hit" entry
 * would keep missing, and a miss is a binary search. */
#define CH_AS_CACHE_SHIFT 16
#define CH_AS_CACHE 512 /* a power of two */

struct ch_address_space {
	struct ch_as_range *ranges; /* sorted by start, non-overlapping */
	size_t nranges, cap;
	/* index+1 of the range that held the last lookup in each block, 0 =
	 * none; emptied whenever ranges change, so an entry always names a
	 * range of the sorted array (it is checked against addr before use). */
	uint32_t cache[CH_AS_CACHE];
	bool sorted;
	/* Reads (ch_as_read*, ch_as_count_lost) that wanted CH_AS_LOST bytes:
	 * nonzero means some answer is missing what the truncation cut off. */
	size_t lost_reads;
};

void ch_as_init(struct ch_address_space *as);
void ch_as_deinit(struct ch_address_space *as);

/* Add [start, end). Parts that overlap ranges already added are dropped, so
 * add the most authoritative sources first. */
struct ch_error *ch_as_add(struct ch_address_space *as, uint64_t start, uint64_t end,
			   const uint8_t *data, enum ch_as_source source, bool writable);

/* The cached range for addr's block when it holds addr, else NULL (look
 * it up with ch_as_find). */
static inline const struct ch_as_range *ch_as_cached(const struct ch_address_space *as, uint64_t addr)
{
	uint32_t i = as->cache[(addr >> CH_AS_CACHE_SHIFT) & (CH_AS_CACHE - 1)];
	if (!i)
		return NULL;
	const struct ch_as_range *r = &as->ranges[i - 1];
	return addr >= r->start && addr < r->end ? r : NULL;
}

const uint8_t *ch_as_peek_slow(struct ch_address_space *as, uint64_t addr, size_t len);

/* Pointer to len readable bytes at addr, or NULL if any of them is not
 * readable or they span two ranges. The fast path for hot loops: a cached
 * range is used in place, anything else takes the full lookup. */
static inline const uint8_t *ch_as_peek(struct ch_address_space *as, uint64_t addr, size_t len)
{
	const struct ch_as_range *r = ch_as_cached(as, addr);
	if (r && r->data && len <= r->end - addr)
		return r->data + (addr - r->start);
	return ch_as_peek_slow(as, addr, len);
}

/* Copy len bytes at addr (may span adjacent readable ranges). */
struct ch_error *ch_as_read(struct ch_address_space *as, uint64_t addr, void *buf, size_t len);

/* Fixed-size reads: inline when the bytes lie in one readable range, the
 * general copy (and its error) otherwise. */
static inline struct ch_error *ch_as_read_u64(struct ch_address_space *as, uint64_t addr, uint64_t *out)
{
	const uint8_t *p = ch_as_peek(as, addr, 8);
	if (p) {
		*out = ch_le64(p);
		return NULL;
	}
	return ch_as_read(as, addr, out, 8);
}

static inline struct ch_error *ch_as_read_u32(struct ch_address_space *as, uint64_t addr, uint32_t *out)
{
	const uint8_t *p = ch_as_peek(as, addr, 4);
	if (p) {
		*out = ch_le32(p);
		return NULL;
	}
	return ch_as_read(as, addr, out, 4);
}

/* NUL-terminated string of at most max-1 bytes into buf; truncated strings
 * are NUL-terminated and reported as success with *truncated set. */
struct ch_error *ch_as_read_cstr(struct ch_address_space *as, uint64_t addr, char *buf, size_t max,
				 bool *truncated);

/* For callers that scan ranges themselves (ch_as_find): counts r as a
 * lost read when it holds bytes the core's truncation cut off. */
void ch_as_count_lost(struct ch_address_space *as, const struct ch_as_range *r);

/* The range containing addr, or NULL. */
const struct ch_as_range *ch_as_find(struct ch_address_space *as, uint64_t addr);

#endif
