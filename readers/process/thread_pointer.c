#include "readers/process/thread_pointer.h"

#include <elf.h>
#include <stddef.h>
#include <stdlib.h>

#include "readers/base/bytes.h"
#include "readers/process/process.h"

/* Offsets in a thread control block that compiled code relies on, so they
 * are fixed: %fs:0 the TCB itself (psABI), %fs:16 glibc's header.self,
 * %fs:0x28 the stack protector's canary (GCC's -fstack-protector). */
enum {
	TCB_SELF = 0,
	TCB_HEADER_SELF = 16,
	TCB_CANARY = 0x28,
	TCB_MIN = TCB_CANARY + 8,
	MAX_CANDIDATES = 4096, /* far more than threads: hostile memory stops here */
};

struct candidate {
	uint64_t addr, canary;
	size_t segment;
};

/* Every 8-byte-aligned place in the dumped writable memory that looks like
 * a TCB; at most MAX_CANDIDATES. */
static size_t find_candidates(const struct ch_core_file *core, struct candidate *out)
{
	size_t n = 0;
	for (size_t i = 0; i < core->nsegments; i++) {
		const struct ch_core_segment *s = &core->segments[i];
		if (!(s->flags & PF_W) || s->present < TCB_MIN)
			continue;
		const uint8_t *d = core->data + s->offset;
		for (uint64_t off = 0; off + TCB_MIN <= s->present; off += 8) {
			uint64_t a = s->vaddr + off;
			if (ch_le64(d + off + TCB_SELF) != a || ch_le64(d + off + TCB_HEADER_SELF) != a)
				continue;
			uint64_t canary = ch_le64(d + off + TCB_CANARY);
			if (!canary || (canary & 0xff))
				continue; /* glibc's canary: nonzero, lowest byte 0 */
			if (n == MAX_CANDIDATES)
				return n;
			out[n++] = (struct candidate){.addr = a, .canary = canary, .segment = i};
		}
	}
	return n;
}

/* Segments by start address, to find the one holding an address in
 * O(log n) whatever order a (hostile) core lists them in. */
struct seg_index {
	uint64_t start, end;
	size_t segment;
};

static int by_start(const void *a, const void *b)
{
	const struct seg_index *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static size_t segment_of(const struct seg_index *idx, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* first entry starting above addr */
		size_t mid = lo + (hi - lo) / 2;
		if (idx[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && addr < idx[lo - 1].end ? idx[lo - 1].segment : SIZE_MAX;
}

/* found[t]: the candidate proven to be thread t's TCB, or SIZE_MAX.
 * Returns how many were proven. */
static size_t match(const struct ch_core_file *core, const struct seg_index *idx, const struct candidate *c,
		    size_t n, size_t *per_seg, size_t *last_in_seg, size_t *found)
{
	for (size_t k = 0; k < n; k++) {
		per_seg[c[k].segment]++;
		last_in_seg[c[k].segment] = k;
	}
	/* A thread's own stack mapping holds exactly one candidate: its TCB. */
	size_t set = 0, left = SIZE_MAX, nleft = 0, in_stacks = 0;
	for (size_t t = 0; t < core->nthreads; t++) {
		size_t seg = segment_of(idx, core->nsegments, core->threads[t].sp);
		size_t hits = seg == SIZE_MAX ? 0 : per_seg[seg];
		found[t] = SIZE_MAX;
		if (hits == 1) {
			found[t] = last_in_seg[seg];
			set++;
		} else if (hits == 0) {
			left = t;
			nleft++;
		}
		if (seg != SIZE_MAX) {
			in_stacks += per_seg[seg];
			per_seg[seg] = 0; /* counted once, though two threads name it */
		}
	}
	/* The main thread's TCB lies outside every stack: the one left over. */
	if (nleft == 1 && n - in_stacks == 1) {
		for (size_t k = 0; k < n; k++)
			if (per_seg[c[k].segment]) {
				found[left] = k;
				set++;
			}
	}
	return set;
}

size_t ch_threads_recover_fs_base(struct ch_process *proc)
{
	struct ch_core_file *core = proc->core;
	/* The TCB shape searched for is x86_64's (TLS variant II); aarch64
	 * keeps its TCB after TPIDR_EL0 and has no self-pointer there. */
	if (!core->nthreads || !core->nsegments || core->arch->machine != EM_X86_64)
		return 0;
	for (size_t t = 0; t < core->nthreads; t++)
		if (core->threads[t].tp)
			return 0;
	struct candidate *c = calloc(MAX_CANDIDATES, sizeof(*c));
	struct seg_index *idx = calloc(core->nsegments, sizeof(*idx));
	size_t *per_seg = calloc(core->nsegments, sizeof(*per_seg));
	size_t *last_in_seg = calloc(core->nsegments, sizeof(*last_in_seg));
	size_t *found = calloc(core->nthreads, sizeof(*found));
	size_t set = 0;
	if (c && idx && per_seg && last_in_seg && found) {
		for (size_t i = 0; i < core->nsegments; i++)
			idx[i] = (struct seg_index){core->segments[i].vaddr,
						    core->segments[i].vaddr + core->segments[i].memsz, i};
		qsort(idx, core->nsegments, sizeof(*idx), by_start);
		set = match(core, idx, c, find_candidates(core, c), per_seg, last_in_seg, found);
	}
	/* Every thread has the process's one canary: a disagreement means
	 * something else was taken for a TCB, and nothing is trusted. */
	uint64_t canary = 0;
	bool agree = true;
	for (size_t t = 0; set && t < core->nthreads; t++)
		if (found[t] != SIZE_MAX) {
			agree &= !canary || canary == c[found[t]].canary;
			canary = c[found[t]].canary;
		}
	for (size_t t = 0; set && agree && t < core->nthreads; t++)
		core->threads[t].tp = found[t] != SIZE_MAX ? c[found[t]].addr : 0;
	free(found);
	free(last_in_seg);
	free(per_seg);
	free(idx);
	free(c);
	return agree ? set : 0;
}
