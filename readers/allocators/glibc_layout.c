/* glibc malloc's struct layouts, read from libc's DWARF by name. */
#include "glibc_internal.h"

#include "readers/process/elf_file.h"

#include <stdio.h>
#include <string.h>

static struct ch_error *member(struct ch_dwarf *dw, const char *type, const char *path, uint64_t *off,
			       uint64_t *size)
{
	uint64_t ob = 0, sb = 0;
	struct ch_error *err = ch_dwarf_member(dw, type, path, &ob, &sb);
	if (err)
		return ch_error_prefix(err, "glibc layout: %s.%s: ", type, path);
	if (ob % 8 || sb % 8)
		return ch_error_new(CH_ERR_UNSUPPORTED, "glibc layout: %s.%s is a bitfield", type, path);
	*off = ob / 8;
	if (size)
		*size = sb / 8;
	return NULL;
}

static struct ch_error *type_size(struct ch_dwarf *dw, const char *type, uint64_t *size)
{
	struct ch_error *err = ch_dwarf_type_size(dw, type, size);
	return err ? ch_error_prefix(err, "glibc layout: sizeof %s: ", type) : NULL;
}

static struct ch_error *symbols(struct ch_elf_file *dbg, struct ch_glibc_layout *lay)
{
	struct ch_error *err = ch_elf_symbol(dbg, "main_arena", &lay->sym_main_arena, NULL);
	if (!err)
		err = ch_elf_symbol(dbg, "mp_", &lay->sym_mp, NULL);
	if (err)
		return ch_error_prefix(err, "glibc: ");
	struct ch_error *te = ch_elf_symbol(dbg, "tcache", &lay->tls_tcache, NULL);
	lay->has_tls_tcache = !te;
	ch_error_free(te);
	return NULL;
}

struct ch_error *ch_glibc_layout_load(struct ch_dwarf *dw, struct ch_elf_file *dbg, struct ch_glibc_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	struct ch_error *err = NULL;
#define M(type, path, off, size)                                   \
	do {                                                       \
		if (!err)                                          \
			err = member(dw, type, path, off, size);   \
	} while (0)
	M("malloc_chunk", "mchunk_size", &lay->mc_size, NULL);
	M("malloc_chunk", "fd", &lay->mc_fd, NULL);
	M("malloc_chunk", "bk", &lay->mc_bk, NULL);
	lay->mc_user = lay->mc_fd;
	if (!err)
		err = type_size(dw, "malloc_state", &lay->ms_sizeof);
	M("malloc_state", "flags", &lay->ms_flags, NULL);
	M("malloc_state", "top", &lay->ms_top, NULL);
	M("malloc_state", "bins", &lay->ms_bins, NULL);
	M("malloc_state", "next", &lay->ms_next, NULL);
	M("malloc_state", "system_mem", &lay->ms_system_mem, NULL);
	if (!err)
		err = ch_dwarf_array_length(dw, "malloc_state", "bins", &lay->nbins);
	if (!err) {
		struct ch_error *fe = member(dw, "malloc_state", "fastbinsY", &lay->ms_fastbins, NULL);
		if (!fe) {
			lay->has_fastbins = true;
			err = ch_dwarf_array_length(dw, "malloc_state", "fastbinsY", &lay->nfastbins);
		} else if (fe->kind != CH_ERR_NOT_FOUND) {
			err = fe;
			fe = NULL;
		}
		ch_error_free(fe);
	}
	M("malloc_par", "n_mmaps", &lay->mp_n_mmaps, &lay->mp_n_mmaps_size);
	M("malloc_par", "mmapped_mem", &lay->mp_mmapped_mem, NULL);
	M("malloc_par", "sbrk_base", &lay->mp_sbrk_base, NULL);
	M("malloc_par", "tcache_count", &lay->mp_tcache_count, NULL);
	if (!err)
		err = type_size(dw, "_heap_info", &lay->hi_sizeof);
	M("_heap_info", "ar_ptr", &lay->hi_ar_ptr, NULL);
	M("_heap_info", "prev", &lay->hi_prev, NULL);
	M("_heap_info", "size", &lay->hi_size, NULL);
	/* 2.36: uint16_t counts[]; 2.43: uint16_t num_slots[] (room left). */
	if (!err) {
		struct ch_error *ce = member(dw, "tcache_perthread_struct", "counts", &lay->tc_counts, NULL);
		const char *name = "counts";
		if (ce && ce->kind == CH_ERR_NOT_FOUND) {
			ch_error_free(ce);
			name = "num_slots";
			ce = member(dw, "tcache_perthread_struct", name, &lay->tc_counts, NULL);
			lay->tc_counts_are_room = true;
		}
		err = ce;
		if (!err)
			err = ch_dwarf_array_length(dw, "tcache_perthread_struct", name, &lay->tc_nbins);
		if (!err) {
			char path[32];
			snprintf(path, sizeof(path), "%s[0]", name);
			uint64_t off0;
			err = member(dw, "tcache_perthread_struct", path, &off0, &lay->tc_count_size);
		}
	}
	M("tcache_perthread_struct", "entries", &lay->tc_entries, NULL);
	M("tcache_entry", "next", &lay->te_next, NULL);
#undef M
	if (!err)
		err = symbols(dbg, lay);
	if (!err && (lay->nbins < 4 || lay->nbins % 2 || lay->nbins > 1024 || lay->tc_nbins > 1024 ||
		     (lay->tc_count_size != 1 && lay->tc_count_size != 2 && lay->tc_count_size != 4) ||
		     lay->nfastbins > 64 || lay->ms_sizeof > 1 << 16 || lay->hi_sizeof > 4096))
		err = ch_error_new(CH_ERR_UNSUPPORTED, "glibc layout: implausible sizes in libc's DWARF");
	return err;
}
