/* The DWARF reader's calls into libdwarf: the wrappers that hide API
 * differences between releases, and checked readers of DIEs (tag, offset,
 * name, children in order) and attributes (constants, flags, references).
 * Every libdwarf error becomes a struct ch_error here.
 *
 * libdwarf API versions: written against Debian bookworm's 20210528. The 0.x
 * (and later) series identifies itself with DW_LIBDWARF_VERSION_MAJOR, which
 * 20210528 does not define; the few calls whose signatures differ are wrapped
 * in the "libdwarf compatibility" section below (dwarf_init_path lost its
 * access/reserved arguments, dwarf_finish lost its error argument, 0.9 added
 * dwarf_next_cu_header_e / dwarf_siblingof_c). Those #if branches follow the
 * published 0.x headers but are not compiled on bookworm.
 */
#include "readers/process/dwarf_internal.h"

/* libdwarf compatibility. Everything that differs between 20210528 and 0.x. */
#if defined(DW_LIBDWARF_VERSION_MAJOR)
#define CH_LIBDWARF_0X 1
#if DW_LIBDWARF_VERSION_MAJOR > 0 || DW_LIBDWARF_VERSION_MINOR >= 9
#define CH_LIBDWARF_HAS_CU_HEADER_E 1
#endif
#else
#define CH_LIBDWARF_0X 0
#endif

int ch_dw_init(const char *path, Dwarf_Debug *dbg, Dwarf_Error *err)
{
	/* No true_path buffer: open exactly this file, do not follow
	 * .gnu_debuglink (the caller decides where debug info lives). */
#if CH_LIBDWARF_0X
	return dwarf_init_path(path, NULL, 0, DW_GROUPNUMBER_ANY, NULL, NULL, dbg, err);
#else
	return dwarf_init_path(path, NULL, 0, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, dbg,
			       NULL, 0, NULL, err);
#endif
}

void ch_dw_finish(Dwarf_Debug dbg)
{
#if CH_LIBDWARF_0X
	dwarf_finish(dbg);
#else
	/* An error here cannot be freed (its Dwarf_Debug is gone) and there is
	 * nothing to do about it; libdwarf only fails on a NULL/invalid dbg. */
	Dwarf_Error err = NULL;
	dwarf_finish(dbg, &err);
#endif
}

/* Advance libdwarf's implicit unit cursor and return the new unit's DIE.
 * dwarf_offdie_b does not move that cursor (it only adds CU contexts), so
 * member resolution between two calls does not disturb the scan. */
int ch_dw_next_unit(Dwarf_Debug dbg, Dwarf_Die *unit_die, Dwarf_Error *err)
{
#if defined(CH_LIBDWARF_HAS_CU_HEADER_E)
	return dwarf_next_cu_header_e(dbg, 1, unit_die, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				      NULL, NULL, NULL, err);
#else
	int res = dwarf_next_cu_header_d(dbg, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
					 NULL, NULL, err);
	if (res != DW_DLV_OK)
		return res;
	/* A NULL die means "the DIE of the unit just returned". */
	res = dwarf_siblingof_b(dbg, NULL, 1, unit_die, err);
	/* NO_ENTRY here would mean an empty unit: report it as an error, since
	 * DW_DLV_NO_ENTRY from this function means "no more units". */
	if (res == DW_DLV_NO_ENTRY) {
		*unit_die = NULL;
		return DW_DLV_OK;
	}
	return res;
#endif
}

int ch_dw_sibling(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Die *next, Dwarf_Error *err)
{
#if defined(CH_LIBDWARF_HAS_CU_HEADER_E)
	(void)dbg;
	return dwarf_siblingof_c(die, next, err);
#else
	return dwarf_siblingof_b(dbg, die, 1, next, err);
#endif
}

/* Turn a libdwarf error into ours and free it. Mostly CH_ERR_INPUT; a
 * compressed section libdwarf cannot decompress (20210528 knows zlib only,
 * not zstd) is CH_ERR_UNSUPPORTED: the file is fine, the reader is not. */
struct ch_error *ch_dw_error(struct ch_dwarf *dw, Dwarf_Error derr, const char *what)
{
	struct ch_error *err;
	if (!derr)
		return ch_error_new(CH_ERR_INPUT, "%s: libdwarf error", what);
	Dwarf_Unsigned code = dwarf_errno(derr);
	if (code == DW_DLE_ZDEBUG_INPUT_FORMAT_ODD || code == DW_DLE_ZDEBUG_REQUIRES_ZLIB)
		err = ch_error_new(CH_ERR_UNSUPPORTED,
				   "%s: compressed debug sections in a format libdwarf cannot read "
				   "(only zlib is supported; try objcopy --decompress-debug-sections): %s",
				   what, dwarf_errmsg(derr));
	else
		err = ch_error_new(CH_ERR_INPUT, "%s: %s", what, dwarf_errmsg(derr));
	dwarf_dealloc_error(dw ? dw->dbg : NULL, derr);
	return err;
}

void ch_dw_die_free(Dwarf_Die die)
{
	if (die)
		dwarf_dealloc_die(die);
}

struct ch_error *ch_dw_die_at(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Die *out)
{
	Dwarf_Error derr = NULL;
	*out = NULL;
	int res = dwarf_offdie_b(dw->dbg, off, 1, out, &derr);
	if (res == DW_DLV_OK)
		return NULL;
	if (res == DW_DLV_ERROR)
		return ch_dw_error(dw, derr, "reading DIE");
	return ch_error_new(CH_ERR_INPUT, "no DIE at .debug_info offset 0x%llx",
			    (unsigned long long)off);
}

struct ch_error *ch_dw_die_tag(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half *tag)
{
	Dwarf_Error derr = NULL;
	if (dwarf_tag(die, tag, &derr) != DW_DLV_OK)
		return ch_dw_error(dw, derr, "reading DIE tag");
	return NULL;
}

struct ch_error *ch_dw_die_offset(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Off *off)
{
	Dwarf_Error derr = NULL;
	if (dwarf_dieoffset(die, off, &derr) != DW_DLV_OK)
		return ch_dw_error(dw, derr, "reading DIE offset");
	return NULL;
}

/* *name is NULL for an anonymous DIE. The string belongs to libdwarf and is
 * valid until ch_dwarf_close. */
struct ch_error *ch_dw_die_name(struct ch_dwarf *dw, Dwarf_Die die, const char **name)
{
	Dwarf_Error derr = NULL;
	char *n = NULL;
	int res = dwarf_diename(die, &n, &derr);
	*name = NULL;
	if (res == DW_DLV_ERROR)
		return ch_dw_error(dw, derr, "reading DW_AT_name");
	if (res == DW_DLV_OK)
		*name = n;
	return NULL;
}

struct ch_error *ch_dw_children_first(struct ch_dwarf *dw, Dwarf_Die parent, Dwarf_Off parent_off,
				      struct ch_dw_children *it, const char *what)
{
	it->child = NULL;
	it->last = parent_off;
	it->what = what;
	Dwarf_Error derr = NULL;
	if (dwarf_child(parent, &it->child, &derr) == DW_DLV_ERROR) {
		it->child = NULL;
		return ch_dw_error(dw, derr, what);
	}
	return NULL;
}

struct ch_error *ch_dw_children_check(struct ch_dwarf *dw, struct ch_dw_children *it, Dwarf_Half *tag,
				      Dwarf_Off *off)
{
	struct ch_error *err;
	if ((err = ch_dw_die_tag(dw, it->child, tag)) || (err = ch_dw_die_offset(dw, it->child, off)))
		return err;
	if (*off <= it->last)
		return ch_error_new(CH_ERR_INPUT, "DIE order broken at 0x%llx", (unsigned long long)*off);
	it->last = *off;
	return NULL;
}

struct ch_error *ch_dw_children_next(struct ch_dwarf *dw, struct ch_dw_children *it)
{
	Dwarf_Die next = NULL;
	Dwarf_Error derr = NULL;
	int res = ch_dw_sibling(dw->dbg, it->child, &next, &derr);
	ch_dw_die_free(it->child);
	it->child = res == DW_DLV_OK ? next : NULL;
	return res == DW_DLV_ERROR ? ch_dw_error(dw, derr, it->what) : NULL;
}

void ch_dw_children_end(struct ch_dw_children *it)
{
	ch_dw_die_free(it->child);
	it->child = NULL;
}

/* *attr is NULL when the attribute is absent. Free with dwarf_dealloc_attribute. */
struct ch_error *ch_dw_attr_get(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at,
				Dwarf_Attribute *attr)
{
	Dwarf_Error derr = NULL;
	*attr = NULL;
	int res = dwarf_attr(die, at, attr, &derr);
	if (res == DW_DLV_ERROR)
		return ch_dw_error(dw, derr, "reading attribute");
	if (res == DW_DLV_NO_ENTRY)
		*attr = NULL;
	return NULL;
}

struct ch_error *ch_dw_attr_form(struct ch_dwarf *dw, Dwarf_Attribute attr, Dwarf_Half *form)
{
	Dwarf_Error derr = NULL;
	if (dwarf_whatform(attr, form, &derr) != DW_DLV_OK)
		return ch_dw_error(dw, derr, "reading attribute form");
	return NULL;
}

/* The attribute `at` of die and its form. *present is false (and *attr
 * NULL) when the DIE lacks it; on error the attribute is released. */
static struct ch_error *attr_get_form(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *attr,
				      Dwarf_Half *form, bool *present)
{
	*present = false;
	struct ch_error *err = ch_dw_attr_get(dw, die, at, attr);
	if (err || !*attr)
		return err;
	*present = true;
	err = ch_dw_attr_form(dw, *attr, form);
	if (err) {
		dwarf_dealloc_attribute(*attr);
		*attr = NULL;
	}
	return err;
}

/* A constant-class attribute as a signed value. DW_FORM_sdata is signed;
 * data1..8/udata are zero-extended, the convention GCC relies on (it emits
 * sdata for every negative value) and GDB/elfutils follow. */
struct ch_error *ch_dw_attr_const(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, int64_t *value,
				  bool *present, bool *is_constant)
{
	Dwarf_Attribute attr = NULL;
	Dwarf_Half form = 0;
	*is_constant = false;
	struct ch_error *err = attr_get_form(dw, die, at, &attr, &form, present);
	if (err || !attr)
		return err;
	Dwarf_Error derr = NULL;
	switch (form) {
	case DW_FORM_sdata:
	case DW_FORM_implicit_const: {
		Dwarf_Signed s = 0;
		if (dwarf_formsdata(attr, &s, &derr) != DW_DLV_OK) {
			err = ch_dw_error(dw, derr, "reading signed constant");
			break;
		}
		*value = s;
		*is_constant = true;
		break;
	}
	case DW_FORM_data1:
	case DW_FORM_data2:
	case DW_FORM_data4:
	case DW_FORM_data8:
	case DW_FORM_udata: {
		Dwarf_Unsigned u = 0;
		if (dwarf_formudata(attr, &u, &derr) != DW_DLV_OK) {
			err = ch_dw_error(dw, derr, "reading constant");
			break;
		}
		*value = (int64_t)u;
		*is_constant = true;
		break;
	}
	default:
		/* exprloc, reference (VLA bounds), block...: present but
		 * not a compile-time constant. */
		break;
	}
	dwarf_dealloc_attribute(attr);
	return err;
}

/* A non-negative constant attribute; absent -> *present false. */
struct ch_error *ch_dw_attr_udata(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, uint64_t *value,
				  bool *present)
{
	int64_t v = 0;
	bool is_constant = false;
	struct ch_error *err = ch_dw_attr_const(dw, die, at, &v, present, &is_constant);
	if (err || !*present)
		return err;
	if (!is_constant || v < 0)
		return ch_error_new(CH_ERR_INPUT, "attribute 0x%x is not a non-negative constant",
				    (unsigned)at);
	*value = (uint64_t)v;
	return NULL;
}

struct ch_error *ch_dw_attr_flag(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, bool *value)
{
	Dwarf_Attribute attr = NULL;
	struct ch_error *err = ch_dw_attr_get(dw, die, at, &attr);
	*value = false;
	if (err || !attr)
		return err;
	Dwarf_Error derr = NULL;
	Dwarf_Bool b = 0;
	if (dwarf_formflag(attr, &b, &derr) != DW_DLV_OK)
		err = ch_dw_error(dw, derr, "reading flag");
	else
		*value = b != 0;
	dwarf_dealloc_attribute(attr);
	return err;
}

/* A reference attribute as a global .debug_info offset; absent -> *present
 * false. References into other files or sections are refused explicitly
 * rather than misread as .debug_info offsets. */
struct ch_error *ch_dw_attr_ref(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off,
				bool *present)
{
	Dwarf_Attribute attr = NULL;
	Dwarf_Half form = 0;
	struct ch_error *err = attr_get_form(dw, die, at, &attr, &form, present);
	if (err || !attr)
		return err;
	Dwarf_Error derr = NULL;
	switch (form) {
	case DW_FORM_ref_sig8:
		err = ch_error_new(CH_ERR_UNSUPPORTED,
				   "type unit references (DW_FORM_ref_sig8) are not supported");
		break;
	case DW_FORM_GNU_ref_alt:
	case DW_FORM_ref_sup4:
	case DW_FORM_ref_sup8:
		err = ch_error_new(CH_ERR_UNSUPPORTED,
				   "references into a supplementary (dwz) file are not supported");
		break;
	default:
		if (dwarf_global_formref(attr, off, &derr) != DW_DLV_OK)
			err = ch_dw_error(dw, derr, "reading reference");
		break;
	}
	dwarf_dealloc_attribute(attr);
	return err;
}
