/* Finding glibc malloc's state in a core: libc among the modules, its
 * DWARF (a separate debug file by build-id, as libc6-dbg installs it), the
 * addresses of main_arena and mp_ (local symbols of the debug file), and
 * the thread-pointer offset of the TLS variable `tcache`.
 *
 * `tcache` is initial-exec TLS: libc reads it through a GOT slot that the
 * dynamic loader filled from an R_X86_64_TPOFF64 relocation whose addend is
 * the variable's offset in libc's TLS block (the st_value of the TLS
 * symbol). The resolved slot, read from the core, is the offset from each
 * thread's fs_base, the same for every thread. */
#include "glibc_internal.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/process/debug_file.h"

static bool is_libc(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-2.", 7) == 0;
}

static struct ch_module *find_libc(struct ch_process *proc)
{
	for (size_t i = 0; i < proc->nmodules; i++)
		if (is_libc(proc->modules[i].path))
			return &proc->modules[i];
	return NULL;
}

/* The resolved GOT slot of the TPOFF64 relocation for TLS offset sym_off. */
static bool find_tpoff(struct ch_glibc_ctx *c, struct ch_module *mod, uint64_t sym_off, uint64_t *tpoff)
{
	uint64_t addr, size;
	const uint8_t *bytes;
	struct ch_error *err = ch_elf_section(mod->elf, ".rela.dyn", &addr, &size, &bytes);
	if (err || !bytes) {
		ch_error_free(err);
		return false;
	}
	for (uint64_t off = 0; off + 24 <= size; off += 24) {
		uint64_t r_offset = ch_le64(bytes + off), r_info = ch_le64(bytes + off + 8);
		uint64_t r_addend = ch_le64(bytes + off + 16);
		if (ELF64_R_TYPE(r_info) != R_X86_64_TPOFF64 || ELF64_R_SYM(r_info) != 0 || r_addend != sym_off)
			continue;
		uint64_t v;
		err = ch_as_read_u64(c->as, r_offset + mod->bias, &v);
		if (err) {
			ch_error_free(err);
			return false;
		}
		*tpoff = v;
		return true;
	}
	return false;
}

static void version_of(struct ch_elf_file *ef, char *out, size_t max)
{
	/* "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36." in .rodata */
	static const char key[] = "release version ";
	out[0] = 0;
	const uint8_t *end = ef->data + ef->size;
	for (const uint8_t *p = ef->data; p + sizeof(key) + 8 < end; p++) {
		p = memchr(p, 'r', (size_t)(end - p - sizeof(key) - 8));
		if (!p)
			return;
		if (memcmp(p, key, sizeof(key) - 1) != 0)
			continue;
		const uint8_t *v = p + sizeof(key) - 1;
		size_t n = 0;
		while (n + 1 < max && v + n < end && ((v[n] >= '0' && v[n] <= '9') || (v[n] == '.' && v + n + 1 < end &&
										      v[n + 1] >= '0' && v[n + 1] <= '9')))
			n++;
		memcpy(out, v, n);
		out[n] = 0;
		return;
	}
}

/* The layout from libc's debug file. NOT_FOUND-like failures (no debug
 * file) come back as CH_ERR_NOT_FOUND so the caller tries the tables. */
static struct ch_error *from_debug_file(struct ch_glibc_ctx *c, struct ch_module *mod, struct ch_elf_file *ef)
{
	struct ch_debug_file df;
	struct ch_error *err = ch_debug_file_find(ef, mod->path, c->proc->opts.debug_dir, &df);
	if (err) {
		if (err->kind == CH_ERR_UNSUPPORTED)
			err->kind = CH_ERR_NOT_FOUND;
		return err;
	}
	snprintf(c->st->debug_path, sizeof(c->st->debug_path), "%s", df.path);
	struct ch_elf_file *dbg = NULL;
	struct ch_dwarf *dw = NULL;
	err = ch_elf_open(df.path, &dbg);
	/* Cached by build-id when the debug file's is libc's own. */
	char hex[2 * sizeof(ef->build_id) + 1] = "";
	if (!err && dbg->build_id_len && dbg->build_id_len == ef->build_id_len &&
	    memcmp(dbg->build_id, ef->build_id, ef->build_id_len) == 0)
		ch_build_id_hex(dbg->build_id, dbg->build_id_len, hex);
	bool cached = !err && hex[0] && ch_glibc_cache_load(hex, &c->lay);
	if (!err && !cached)
		err = ch_dwarf_open(df.path, &dw);
	if (!err && !cached && !(err = ch_glibc_layout_load(dw, dbg, &c->lay)) && hex[0])
		ch_glibc_cache_store(hex, c->st->version, &c->lay);
	ch_dwarf_close(dw);
	ch_elf_close(dbg);
	ch_debug_file_deinit(&df);
	if (err && err->kind == CH_ERR_NOT_FOUND)
		err->kind = CH_ERR_UNSUPPORTED; /* found, but not usable: not a reason to fall back silently */
	return err;
}

/* The debug file's or the build's table's symbols give the addresses. */
static struct ch_error *use_symbols(struct ch_glibc_ctx *c, struct ch_module *mod)
{
	c->main_arena = c->lay.sym_main_arena + mod->bias;
	c->mp = c->lay.sym_mp + mod->bias;
	if (c->lay.has_tls_tcache)
		c->have_tcache_tpoff = find_tpoff(c, mod, c->lay.tls_tcache, &c->tcache_tpoff);
	c->st->found = true;
	return NULL;
}

/* No debug file and no table for this build: the layouts of another build
 * of the same version, the addresses by shape (glibc_scan.c). */
static bool by_shape(struct ch_glibc_ctx *c, struct ch_module *mod, struct ch_elf_file *ef, const char *before)
{
	struct ch_glibc_heapstate *st = c->st;
	struct ch_error *err = ch_glibc_table_find_version(st->version, &c->lay, st->layout_table, sizeof(st->layout_table));
	char why[300];
	if (!err && ch_glibc_scan(c, mod, ef, why, sizeof(why))) {
		snprintf(st->layout_source, sizeof(st->layout_source), "builtin");
		snprintf(st->arena_found_by, sizeof(st->arena_found_by), "shape scan");
		st->debug_path[0] = 0;
		return true;
	}
	snprintf(st->why_not, sizeof(st->why_not), "%.200s; %.300s", before, err ? err->message : why);
	ch_error_free(err);
	return false;
}

struct ch_error *ch_glibc_locate(struct ch_glibc_ctx *c)
{
	struct ch_glibc_heapstate *st = c->st;
	snprintf(st->arena_found_by, sizeof(st->arena_found_by), "not found");
	struct ch_module *mod = find_libc(c->proc);
	if (!mod) {
		snprintf(st->why_not, sizeof(st->why_not), "no libc among the mapped files (a static executable?)");
		return NULL;
	}
	snprintf(st->libc_path, sizeof(st->libc_path), "%s", mod->path);
	struct ch_elf_file *ef;
	struct ch_error *err = ch_process_module_elf(mod, &ef);
	if (err) {
		snprintf(st->why_not, sizeof(st->why_not), "%s", err->message);
		ch_error_free(err);
		return NULL;
	}
	version_of(ef, st->version, sizeof(st->version));
	const char *force = getenv("CH_GLIBC_SOURCE");
	bool skip_debug = force && (strcmp(force, "table") == 0 || strcmp(force, "scan") == 0);
	bool skip_table = force && strcmp(force, "scan") == 0;
	err = skip_debug ? ch_error_new(CH_ERR_NOT_FOUND, "CH_GLIBC_SOURCE=%s", force) : from_debug_file(c, mod, ef);
	if (!err) {
		snprintf(st->layout_source, sizeof(st->layout_source), "dwarf");
		snprintf(st->arena_found_by, sizeof(st->arena_found_by), "debug info");
		return use_symbols(c, mod);
	}
	if (err->kind != CH_ERR_NOT_FOUND) {
		snprintf(st->why_not, sizeof(st->why_not), "%s", err->message);
		ch_error_free(err);
		return NULL;
	}
	char tv[32], before[400];
	struct ch_error *terr = skip_table ? ch_error_new(CH_ERR_NOT_FOUND, "CH_GLIBC_SOURCE=scan")
					   : ch_glibc_table_find(ef->build_id, ef->build_id_len, &c->lay, tv, sizeof(tv));
	if (terr) {
		snprintf(before, sizeof(before), "no debug info for %.100s (install libc6-dbg) and %.200s", mod->path,
			 terr->message);
		bool table_bad = terr->kind != CH_ERR_NOT_FOUND;
		ch_error_free(terr);
		ch_error_free(err);
		if (table_bad) {
			snprintf(st->why_not, sizeof(st->why_not), "%s", before);
			return NULL;
		}
		st->found = by_shape(c, mod, ef, before);
		return NULL;
	}
	ch_error_free(err);
	snprintf(st->layout_source, sizeof(st->layout_source), "builtin");
	snprintf(st->arena_found_by, sizeof(st->arena_found_by), "table");
	st->debug_path[0] = 0;
	if (!st->version[0])
		snprintf(st->version, sizeof(st->version), "%s", tv);
	return use_symbols(c, mod);
}
