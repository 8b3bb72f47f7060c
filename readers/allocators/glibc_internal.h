/* Shared between the files of the glibc malloc reader (not a public API).
 *
 * struct ch_glibc_layout holds every offset the walk uses, each read from
 * libc's DWARF by name (glibc_layout.c): nothing here is a typed-in struct
 * offset. The few constants below are glibc's ABI on x86_64 (LP64), fixed
 * by its source rather than by a struct: the size-field flag bits, the
 * 16-byte alignment, and HEAP_MAX_SIZE (2 * DEFAULT_MMAP_THRESHOLD_MAX). */
#ifndef CH_GLIBC_INTERNAL_H
#define CH_GLIBC_INTERNAL_H

#include "glibc_malloc.h"
#include "readers/process/dwarf_types.h"

#define CH_GLIBC_PREV_INUSE 1u
#define CH_GLIBC_IS_MMAPPED 2u
#define CH_GLIBC_NON_MAIN_ARENA 4u
#define CH_GLIBC_SIZE_BITS 7u
#define CH_GLIBC_ALIGN 16u
#define CH_GLIBC_HEAP_MAX (64ull << 20)
#define CH_GLIBC_PAGE 4096u

/* Offsets (bytes) and sizes from DWARF; a field glibc does not have in this
 * version is marked absent (has_fastbins, tc_counts_are_room). */
struct ch_glibc_layout {
	/* struct malloc_chunk */
	uint64_t mc_size, mc_fd, mc_bk, mc_user; /* mc_user: where user data starts (offset of fd) */
	/* struct malloc_state */
	uint64_t ms_sizeof, ms_flags, ms_top, ms_bins, ms_next, ms_system_mem;
	uint64_t nbins;            /* length of bins[] (2 words per bin) */
	bool has_fastbins;
	uint64_t ms_fastbins, nfastbins;
	/* struct malloc_par */
	uint64_t mp_n_mmaps, mp_n_mmaps_size, mp_mmapped_mem, mp_sbrk_base, mp_tcache_count;
	/* heap_info */
	uint64_t hi_sizeof, hi_ar_ptr, hi_prev, hi_size;
	/* struct tcache_perthread_struct and tcache_entry */
	uint64_t tc_counts, tc_count_size, tc_nbins, tc_entries, te_next;
	bool tc_counts_are_room;   /* 2.43 num_slots: room left, not entries held */
};

struct ch_error *ch_glibc_layout_load(struct ch_dwarf *dw, struct ch_glibc_layout *lay);

/* Everything the walk needs, gathered once. */
struct ch_glibc_ctx {
	struct ch_process *proc;
	struct ch_address_space *as;
	struct ch_diag *diag;
	struct ch_glibc_layout lay;
	uint64_t main_arena, mp;       /* runtime addresses */
	uint64_t tcache_tpoff;         /* TLS offset from the thread pointer (as a signed value) */
	bool have_tcache_tpoff;
	struct ch_glibc_heapstate *st;
	size_t chunks_cap, heaps_cap, arenas_cap;
};

/* Locating libc, its debug file and symbols (glibc_locate.c). */
struct ch_error *ch_glibc_locate(struct ch_glibc_ctx *c, struct ch_dwarf **dw);

/* Walks (glibc_walk.c, glibc_bins.c, glibc_mmapped.c). */
struct ch_error *ch_glibc_walk_arenas(struct ch_glibc_ctx *c);
struct ch_error *ch_glibc_walk_bins(struct ch_glibc_ctx *c, size_t arena_index);
struct ch_error *ch_glibc_walk_tcaches(struct ch_glibc_ctx *c);
struct ch_error *ch_glibc_find_mmapped(struct ch_glibc_ctx *c);
struct ch_error *ch_glibc_push_chunk(struct ch_glibc_ctx *c, uint64_t addr, uint64_t size, uint16_t arena,
				     enum ch_glibc_chunk_kind kind);
/* Sort the chunks by address (after the walks that append them). */
void ch_glibc_sort_chunks(struct ch_glibc_heapstate *st);
/* The chunk starting exactly at addr, or NULL (binary search; sorted). */
struct ch_glibc_chunk *ch_glibc_chunk_exact(struct ch_glibc_heapstate *st, uint64_t addr);

#endif
