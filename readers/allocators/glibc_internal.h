/* Shared between the files of the glibc malloc reader (not a public API).
 *
 * struct ch_glibc_layout holds every offset the walk uses, each read from
 * libc's DWARF by name (glibc_layout.c): nothing here is a typed-in struct
 * offset. The few constants below are glibc's ABI on x86_64 (LP64), fixed
 * by its source rather than by a struct: the size-field flag bits, the
 * 16-byte alignment, and HEAP_MAX_SIZE (2 * DEFAULT_MMAP_THRESHOLD_MAX). */
#ifndef CH_GLIBC_INTERNAL_H
#define CH_GLIBC_INTERNAL_H

#include <stdio.h>

#include "glibc_malloc.h"
#include "readers/process/dwarf_types.h"

#define CH_GLIBC_PREV_INUSE 1u
#define CH_GLIBC_IS_MMAPPED 2u
#define CH_GLIBC_NON_MAIN_ARENA 4u
#define CH_GLIBC_SIZE_BITS 7u
#define CH_GLIBC_ALIGN 16u
#define CH_GLIBC_HEAP_MAX (64ull << 20)
#define CH_GLIBC_PAGE 4096u
#define CH_GLIBC_NONCONTIGUOUS 2u /* malloc_state.flags: NONCONTIGUOUS_BIT */

/* Offsets (bytes) and sizes from DWARF, and the link-time addresses of the
 * symbols the walk starts from; a field glibc does not have in this
 * version is marked absent (has_fastbins 0, tc_counts_are_room 1). The same
 * fields make a built-in table (glibc_table.c), for a libc whose debug file
 * is not installed. X(name, what): every field is a uint64_t. */
#define CH_GLIBC_FIELDS(X)                                                          \
	X(mc_size, "malloc_chunk.mchunk_size") X(mc_fd, "malloc_chunk.fd")            \
	X(mc_bk, "malloc_chunk.bk") X(mc_user, "user data offset (= fd)")            \
	X(ms_sizeof, "sizeof malloc_state") X(ms_flags, "malloc_state.flags")         \
	X(ms_top, "malloc_state.top") X(ms_bins, "malloc_state.bins")                 \
	X(ms_next, "malloc_state.next") X(ms_system_mem, "malloc_state.system_mem")   \
	X(nbins, "length of malloc_state.bins") X(has_fastbins, "fastbinsY exists")   \
	X(ms_fastbins, "malloc_state.fastbinsY") X(nfastbins, "length of fastbinsY")  \
	X(mp_n_mmaps, "malloc_par.n_mmaps") X(mp_n_mmaps_size, "sizeof n_mmaps")      \
	X(mp_mmapped_mem, "malloc_par.mmapped_mem") X(mp_sbrk_base, "malloc_par.sbrk_base") \
	X(mp_tcache_count, "malloc_par.tcache_count") X(hi_sizeof, "sizeof heap_info") \
	X(hi_ar_ptr, "heap_info.ar_ptr") X(hi_prev, "heap_info.prev")                 \
	X(hi_size, "heap_info.size") X(tc_counts, "tcache_perthread_struct.counts/num_slots") \
	X(tc_count_size, "size of one count") X(tc_nbins, "tcache bins")              \
	X(tc_entries, "tcache_perthread_struct.entries") X(te_next, "tcache_entry.next") \
	X(tc_counts_are_room, "num_slots: room left (2.43)")                          \
	X(sym_main_arena, "link-time address of main_arena") X(sym_mp, "link-time address of mp_") \
	X(has_tls_tcache, "the TLS symbol tcache exists") X(tls_tcache, "st_value of tcache (TLS offset)")

struct ch_glibc_layout {
#define CH_GLIBC_MEMBER(name, what) uint64_t name;
	CH_GLIBC_FIELDS(CH_GLIBC_MEMBER)
#undef CH_GLIBC_MEMBER
};

/* From the debug file: DWARF for the structs, its .symtab for the symbols. */
struct ch_error *ch_glibc_layout_load(struct ch_dwarf *dw, struct ch_elf_file *dbg, struct ch_glibc_layout *lay);

/* Everything the walk needs, gathered once. */
struct ch_glibc_ctx {
	struct ch_process *proc;
	struct ch_address_space *as;
	struct ch_diag *diag;
	struct ch_glibc_layout lay;
	uint64_t main_arena, mp;       /* runtime addresses */
	uint64_t tcache_tpoff;         /* TLS offset from the thread pointer (as a signed value) */
	bool have_tcache_tpoff;
	bool from_table;               /* the layout came from a built-in table, not DWARF */
	struct ch_glibc_heapstate *st;
	size_t chunks_cap, heaps_cap, arenas_cap;
};

/* The table format (glibc_table.c, glibc_table.h): write one, parse one
 * (every line a key the format has, every field exactly once, the format
 * this coreheap reads; version and build get the version and first
 * build_id lines, "" when absent), and a fingerprint of the format and
 * field names folded into h. */
void ch_glibc_table_write(FILE *out, const struct ch_glibc_layout *lay, const char *build_hex, const char *version);
struct ch_error *ch_glibc_table_parse(const char *text, struct ch_glibc_layout *lay, char *version, size_t vmax, char *build,
				      size_t bmax);
uint64_t ch_glibc_table_schema_hash(uint64_t h);

/* glibc's layout as an earlier run read it from the libc debug file with
 * this build-id (glibc_cache.c; the envelope is readers/base/cache_file.h),
 * and saving one. Load: false when there is none or it does not check out. */
bool ch_glibc_cache_load(const char *build_hex, struct ch_glibc_layout *lay);
void ch_glibc_cache_store(const char *build_hex, const char *version, const struct ch_glibc_layout *lay);

/* The built-in table for a libc build-id (glibc_table.c). */
struct ch_error *ch_glibc_table_find(const uint8_t *id, size_t len, struct ch_glibc_layout *lay, char *version,
				     size_t vmax);

/* The built-in table of another build of the same glibc version
 * ("2.36"), for the struct layouts alone (glibc_table.c); build_id gets
 * its build-id (hex). NOT_FOUND if none. */
struct ch_error *ch_glibc_table_find_version(const char *version, struct ch_glibc_layout *lay, char *build_id,
					     size_t bmax);

/* main_arena, mp_ and the tcache TLS offset by shape (glibc_scan.c), with
 * c->lay already set: fills c->main_arena, c->mp and, when unique, the
 * tcache offset. False with the reason in why when no unique, verified
 * main_arena was found. */
struct ch_module;
bool ch_glibc_scan(struct ch_glibc_ctx *c, const struct ch_module *mod, struct ch_elf_file *ef, char *why,
		   size_t max);

/* Locating libc, its debug file (or built-in table) and symbols
 * (glibc_locate.c). Sets st->found and st->why_not. */
struct ch_error *ch_glibc_locate(struct ch_glibc_ctx *c);

/* Everything after locating (glibc_malloc.c): reads mp_'s counters, walks
 * the arenas, bins, mmapped chunks and tcaches of a located c (layout,
 * main_arena, mp, tcache offset set; c->st->found) and computes the
 * figures. The fuzz target (tests/fuzz/fuzz_glibc.c) enters here with a
 * synthetic address space. On error c->st is released. */
struct ch_error *ch_glibc_read_located(struct ch_glibc_ctx *c);

/* Walks (glibc_walk.c, glibc_bins.c, glibc_mmapped.c). */
struct ch_error *ch_glibc_walk_arenas(struct ch_glibc_ctx *c);
struct ch_error *ch_glibc_walk_bins(struct ch_glibc_ctx *c, size_t arena_index);
struct ch_error *ch_glibc_walk_tcaches(struct ch_glibc_ctx *c);
struct ch_error *ch_glibc_find_mmapped(struct ch_glibc_ctx *c);
struct ch_error *ch_glibc_push_chunk(struct ch_glibc_ctx *c, uint64_t addr, uint64_t size, uint16_t arena,
				     enum ch_glibc_chunk_kind kind);
/* Sort the chunks by address (after the walks that append them). */
void ch_glibc_sort_chunks(struct ch_glibc_heapstate *st);
/* The bucket index over the sorted chunks (glibc_lookup.c); lookups give the
 * same answers without it. Errors only for NOMEM. */
struct ch_error *ch_glibc_chunk_index_build(struct ch_glibc_heapstate *st);
void ch_glibc_chunk_index_free(struct ch_glibc_heapstate *st);
/* The chunk starting exactly at addr (the first, if several do), or NULL;
 * sorted (glibc_lookup.c). */
struct ch_glibc_chunk *ch_glibc_chunk_exact(struct ch_glibc_heapstate *st, uint64_t addr);

#endif
