/* Finding the file behind each module the core names, and proving it is the
 * same build the process ran.
 *
 * Candidates, in order: the recorded path (under --sysroot), then the
 * file's base name in each --lib-search-path directory; for the executable
 * with --exe, only that file. The kernel marks a file unlinked after it was
 * mapped with " (deleted)": its path is still tried, since the same build
 * may have been put back, or be elsewhere. A candidate is used only when its
 * build-id equals the one in the dumped header page; a deleted file or one
 * found by name in a search directory must have that proof (with no id in
 * the dump it is refused), a file at its own recorded path may go without
 * (the kernel did not dump its header page). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/process/process.h"

static const char deleted_mark[] = " (deleted)";

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* prefix + path, or path alone when prefix is NULL; dir + '/' + name. */
static char *join(const char *a, const char *sep, const char *b)
{
	size_t n = (a ? strlen(a) : 0) + strlen(sep) + strlen(b) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", a ? a : "", a ? sep : "", b);
	return s;
}

/* The recorded path without the kernel's " (deleted)" mark. */
static char *live_path(const char *recorded, bool *deleted)
{
	size_t n = strlen(recorded), m = sizeof(deleted_mark) - 1;
	*deleted = n > m && strcmp(recorded + n - m, deleted_mark) == 0;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, recorded, n + 1);
		if (*deleted)
			s[n - m] = '\0';
	}
	return s;
}

/* What the tried candidates said, kept to explain a failure: the first
 * mismatch and the first other refusal outrank "not found". */
struct lookup {
	struct ch_error *mismatch, *bad, *not_elf;
	size_t tried;
	uint16_t machine; /* the core's: a file for another machine is another build */
};

static bool try_file(struct ch_module *mod, const char *path, bool need_id, struct lookup *lk)
{
	struct ch_elf_file *ef;
	lk->tried++;
	struct ch_error *err = ch_elf_open(path, &ef);
	if (err) {
		struct ch_error **slot = err->kind == CH_ERR_NOT_FOUND     ? NULL
					 : err->kind == CH_ERR_UNSUPPORTED ? &lk->not_elf
									   : &lk->bad;
		if (slot && !*slot)
			*slot = err;
		else
			ch_error_free(err);
		return false;
	}
	if (ef->machine != lk->machine) {
		/* A qemu-user core has no header pages to prove a build-id with,
		 * so at least the machine must agree (an x86_64 python3.11 for
		 * an aarch64 core would be read as if it were the same build). */
		if (!lk->mismatch) {
			char a[32], b[32];
			lk->mismatch = ch_error_new(CH_ERR_INPUT, "%s is an %s file, but the core is from an %s process",
						    path, ch_core_machine_name(ef->machine, a, sizeof(a)),
						    ch_core_machine_name(lk->machine, b, sizeof(b)));
		}
		ch_elf_close(ef);
		return false;
	}
	bool have = mod->core_build_id_len != 0;
	bool same = have && ef->build_id_len == mod->core_build_id_len &&
		    memcmp(ef->build_id, mod->core_build_id, ef->build_id_len) == 0;
	if (have ? !same : need_id) {
		if (!lk->mismatch) {
			char want[129], got[129];
			ch_build_id_hex(mod->core_build_id, mod->core_build_id_len, want);
			ch_build_id_hex(ef->build_id, ef->build_id_len, got);
			lk->mismatch = have ? ch_error_new(CH_ERR_INPUT,
							   "%s: build-id %s does not match the core's %s (different build of %s)",
							   path, got[0] ? got : "(none)", want, base_name(mod->path))
					    : ch_error_new(CH_ERR_INPUT,
							   "%s: the core lacks %s's build-id, so a file found elsewhere cannot be "
							   "checked and is not used", path, base_name(mod->path));
		}
		ch_elf_close(ef);
		return false;
	}
	free(mod->disk_path);
	mod->disk_path = strdup(path);
	mod->elf = ef;
	mod->bias = mod->start - ch_elf_base_vaddr(ef);
	mod->status = mod->disk_path ? CH_MODULE_OK : CH_MODULE_BAD;
	return mod->disk_path != NULL;
}

/* --exe names the executable outright: a file that is not ELF or is another
 * build is the user's mistake, reported naming both files. */
static struct ch_error *use_exe(struct ch_process *proc, struct ch_module *mod)
{
	const char *exe = proc->opts.exe;
	struct lookup lk = {.machine = proc->core->arch->machine};
	if (try_file(mod, exe, false, &lk))
		return NULL;
	struct ch_error *why = lk.mismatch ? lk.mismatch : lk.bad ? lk.bad : lk.not_elf;
	struct ch_error *err = ch_error_new(CH_ERR_INPUT, "--exe %s cannot stand for the core's executable %s: %s", exe,
					    mod->path, why ? why->message : "no such file");
	ch_error_free(lk.mismatch);
	ch_error_free(lk.bad);
	ch_error_free(lk.not_elf);
	return err;
}

struct ch_error *ch_module_locate(struct ch_process *proc, struct ch_module *mod)
{
	if (mod->is_main && proc->opts.exe)
		return use_exe(proc, mod);
	bool deleted;
	char *live = live_path(mod->path, &deleted);
	if (!live)
		return &ch_error_nomem;
	struct lookup lk = {.machine = proc->core->arch->machine};
	char *primary = join(proc->opts.sysroot, "", live);
	bool found = primary && try_file(mod, primary, deleted, &lk);
	/* A data file (locale archive, ...) at its own path is what it is:
	 * nothing to look for elsewhere. */
	bool data_file = !found && lk.not_elf && !deleted;
	for (size_t i = 0; !found && !data_file && i < proc->opts.nlib_search; i++) {
		char *cand = join(proc->opts.lib_search[i], "/", base_name(live));
		found = cand && try_file(mod, cand, true, &lk);
		free(cand);
	}
	if (!found) {
		free(mod->disk_path);
		mod->disk_path = primary;
		primary = NULL;
		const char *fix = mod->is_main ? "--exe PATH, --lib-search-path DIR or --sysroot DIR"
					       : "--lib-search-path DIR (a directory holding it) or --sysroot DIR";
		if (lk.mismatch) {
			mod->status = CH_MODULE_MISMATCH;
			mod->problem = lk.mismatch;
			lk.mismatch = NULL;
		} else if (lk.bad) {
			mod->status = CH_MODULE_BAD;
			mod->problem = lk.bad;
			lk.bad = NULL;
		} else if (data_file) {
			mod->status = CH_MODULE_NOT_ELF; /* a data file (locale archive, ...) */
			mod->problem = lk.not_elf;
			lk.not_elf = NULL;
		} else {
			mod->status = CH_MODULE_MISSING;
			mod->problem = ch_error_new(CH_ERR_NOT_FOUND, "%s: %s %s%s; point at it with %s", base_name(live),
						    deleted ? "deleted after the process mapped it, and no file of that build at"
							    : "not found at",
						    mod->disk_path ? mod->disk_path : live,
						    proc->opts.nlib_search ? " or in the --lib-search-path directories" : "", fix);
		}
		if (mod->status == CH_MODULE_MISMATCH || mod->status == CH_MODULE_BAD) {
			struct ch_error *p = ch_error_new(mod->problem->kind, "%s (use %s for the right build)",
							  mod->problem->message, fix);
			ch_error_free(mod->problem);
			mod->problem = p;
		}
	}
	free(primary);
	free(live);
	ch_error_free(lk.mismatch);
	ch_error_free(lk.bad);
	ch_error_free(lk.not_elf);
	return NULL;
}
