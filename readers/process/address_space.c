#include "readers/process/address_space.h"

#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"

void ch_as_init(struct ch_address_space *as)
{
	memset(as, 0, sizeof(*as));
	as->sorted = true;
}

void ch_as_deinit(struct ch_address_space *as)
{
	free(as->ranges);
	memset(as, 0, sizeof(*as));
}

static int range_cmp(const void *a, const void *b)
{
	const struct ch_as_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void ensure_sorted(struct ch_address_space *as)
{
	if (!as->sorted) {
		qsort(as->ranges, as->nranges, sizeof(*as->ranges), range_cmp);
		as->sorted = true;
		memset(as->cache, 0, sizeof(as->cache)); /* indexes moved */
	}
}

/* Index of the first range whose end > addr (binary search). */
static size_t lower_bound(const struct ch_address_space *as, uint64_t addr)
{
	size_t lo = 0, hi = as->nranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (as->ranges[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ch_error *push(struct ch_address_space *as, struct ch_as_range r)
{
	if (as->nranges == as->cap) {
		size_t ncap = as->cap ? as->cap * 2 : 64;
		struct ch_as_range *p = realloc(as->ranges, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		as->ranges = p;
		as->cap = ncap;
	}
	as->ranges[as->nranges++] = r;
	as->sorted = false; /* appended: sorted (and the cache emptied) at the next lookup */
	return NULL;
}

struct ch_error *ch_as_add(struct ch_address_space *as, uint64_t start, uint64_t end,
			   const uint8_t *data, enum ch_as_source source, bool writable)
{
	if (end <= start)
		return NULL;
	ensure_sorted(as);
	/* Walk the existing ranges that overlap [start, end) and add the gaps.
	 * New pieces are appended and sorted lazily. */
	size_t n = as->nranges;
	size_t i = lower_bound(as, start);
	uint64_t cur = start;
	while (cur < end) {
		uint64_t gap_end = end;
		if (i < n && as->ranges[i].start < end)
			gap_end = as->ranges[i].start > cur ? as->ranges[i].start : cur;
		if (gap_end > cur) {
			struct ch_as_range r = {cur, gap_end, data ? data + (cur - start) : NULL, source, writable};
			struct ch_error *err = push(as, r);
			if (err)
				return err;
		}
		if (i < n && as->ranges[i].start < end) {
			cur = as->ranges[i].end > cur ? as->ranges[i].end : cur;
			i++;
		} else {
			cur = end;
		}
	}
	return NULL;
}

void ch_as_count_lost(struct ch_address_space *as, const struct ch_as_range *r)
{
	if (r && !r->data && r->source == CH_AS_LOST)
		as->lost_reads++;
}

const struct ch_as_range *ch_as_find(struct ch_address_space *as, uint64_t addr)
{
	ensure_sorted(as);
	const struct ch_as_range *r = ch_as_cached(as, addr);
	if (r)
		return r;
	size_t i = lower_bound(as, addr);
	if (i < as->nranges && as->ranges[i].start <= addr && i < UINT32_MAX) {
		as->cache[(addr >> CH_AS_CACHE_SHIFT) & (CH_AS_CACHE - 1)] = (uint32_t)i + 1;
		return &as->ranges[i];
	}
	return NULL;
}

const uint8_t *ch_as_peek_slow(struct ch_address_space *as, uint64_t addr, size_t len)
{
	const struct ch_as_range *r = ch_as_find(as, addr);
	if (!r || !r->data || len > r->end - addr)
		return NULL;
	return r->data + (addr - r->start);
}

struct ch_error *ch_as_read(struct ch_address_space *as, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	uint64_t cur = addr;
	size_t left = len;
	while (left) {
		const struct ch_as_range *r = ch_as_find(as, cur);
		if (!r)
			return ch_error_new(CH_ERR_FAULT, "address 0x%llx is not mapped in the core",
					    (unsigned long long)cur);
		if (!r->data && r->source == CH_AS_LOST) {
			as->lost_reads++;
			return ch_error_new(CH_ERR_FAULT, "address 0x%llx was dumped but lies past the end of the truncated core",
					    (unsigned long long)cur);
		}
		if (!r->data)
			return ch_error_new(CH_ERR_FAULT, "address 0x%llx was not dumped and no file backs it",
					    (unsigned long long)cur);
		uint64_t avail = r->end - cur;
		size_t n = avail < left ? (size_t)avail : left;
		memcpy(out, r->data + (cur - r->start), n);
		out += n;
		cur += n;
		left -= n;
		if (left && cur == 0)
			return ch_error_new(CH_ERR_FAULT, "read wraps the address space");
	}
	return NULL;
}

struct ch_error *ch_as_read_cstr(struct ch_address_space *as, uint64_t addr, char *buf, size_t max,
				 bool *truncated)
{
	if (truncated)
		*truncated = false;
	if (max == 0)
		return NULL;
	size_t n = 0;
	while (n + 1 < max) {
		const struct ch_as_range *r = ch_as_find(as, addr + n);
		if (!r || !r->data) {
			ch_as_count_lost(as, r);
			buf[n] = '\0';
			return ch_error_new(CH_ERR_FAULT, "string at 0x%llx runs into unreadable memory",
					    (unsigned long long)addr);
		}
		uint64_t off = addr + n - r->start;
		uint64_t avail = r->end - (addr + n);
		size_t want = max - 1 - n;
		size_t chunk = avail < want ? (size_t)avail : want;
		const uint8_t *src = r->data + off;
		const uint8_t *nul = memchr(src, '\0', chunk);
		if (nul) {
			size_t k = (size_t)(nul - src);
			memcpy(buf + n, src, k);
			buf[n + k] = '\0';
			return NULL;
		}
		memcpy(buf + n, src, chunk);
		n += chunk;
	}
	buf[n] = '\0';
	/* The buffer is full; the string was cut only if it does not end
	 * right here (a string of exactly max-1 bytes fits). */
	if (truncated) {
		const struct ch_as_range *r = ch_as_find(as, addr + n);
		*truncated = !(r && r->data && r->data[addr + n - r->start] == '\0');
	}
	return NULL;
}
