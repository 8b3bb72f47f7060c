/* From a type DIE to the type it means: typedefs and qualifiers followed,
 * declarations replaced by their complete definition, array dimensions
 * read, sizes computed (sizeof), and type names resolved (cached). */
#include "readers/process/dwarf_internal.h"

#include <string.h>

static bool is_qualifier(Dwarf_Half tag)
{
	return tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type ||
	       tag == DW_TAG_immutable_type || tag == DW_TAG_shared_type;
}

bool ch_dw_is_aggregate(Dwarf_Half tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type;
}

/* Follow typedefs and qualifiers from off. *tag is the tag of the final DIE
 * (a qualifier without DW_AT_type, i.e. "const void", stays a qualifier). */
static struct ch_error *strip_type(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Off *out, Dwarf_Half *tag)
{
	for (int i = 0; i < CH_MAX_TYPE_CHAIN; i++) {
		Dwarf_Die die = NULL;
		struct ch_error *err = ch_dw_die_at(dw, off, &die);
		if (err)
			return err;
		err = ch_dw_die_tag(dw, die, tag);
		if (!err && is_qualifier(*tag)) {
			bool present = false;
			Dwarf_Off next = 0;
			err = ch_dw_attr_ref(dw, die, DW_AT_type, &next, &present);
			if (!err && present) {
				ch_dw_die_free(die);
				off = next;
				continue;
			}
		}
		ch_dw_die_free(die);
		if (err)
			return err;
		*out = off;
		return NULL;
	}
	return ch_error_new(CH_ERR_INPUT, "typedef chain longer than %d at 0x%llx", CH_MAX_TYPE_CHAIN,
			    (unsigned long long)off);
}

/* strip_type, then replace a struct/union/enum declaration by the first
 * complete definition with the same tag name anywhere in the file (a typedef
 * such as PyInterpreterState is often first seen in a unit where struct _is
 * is only declared). */
struct ch_error *ch_dw_complete_type(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Off *out, Dwarf_Half *tag)
{
	struct ch_error *err = strip_type(dw, off, &off, tag);
	if (err)
		return err;
	if (!ch_dw_is_aggregate(*tag) && *tag != DW_TAG_enumeration_type) {
		*out = off;
		return NULL;
	}
	Dwarf_Die die = NULL;
	if ((err = ch_dw_die_at(dw, off, &die)))
		return err;
	bool decl = false;
	const char *name = NULL;
	err = ch_dw_attr_flag(dw, die, DW_AT_declaration, &decl);
	if (!err && decl)
		err = ch_dw_die_name(dw, die, &name);
	if (err || !decl) {
		ch_dw_die_free(die);
		*out = off;
		return err;
	}
	if (!name) {
		ch_dw_die_free(die);
		return ch_error_new(CH_ERR_NOT_FOUND, "anonymous type at 0x%llx is only declared",
				    (unsigned long long)off);
	}
	/* The DIE stays allocated during the lookup: name belongs to it. */
	Dwarf_Off def = 0;
	err = ch_dw_lookup_name(dw, name, NS_TAG, &def);
	if (err && err->kind == CH_ERR_NOT_FOUND) {
		ch_error_free(err);
		err = ch_error_new(CH_ERR_NOT_FOUND, "%s is declared but never defined in DWARF", name);
	}
	ch_dw_die_free(die);
	if (err)
		return err;
	return strip_type(dw, def, out, tag);
}

struct ch_error *ch_dw_array_info(struct ch_dwarf *dw, Dwarf_Off off, struct ch_array *arr)
{
	Dwarf_Die die = NULL;
	struct ch_error *err = ch_dw_die_at(dw, off, &die);
	if (err)
		return err;
	memset(arr, 0, sizeof(*arr));
	bool present = false;
	err = ch_dw_attr_ref(dw, die, DW_AT_type, &arr->elem, &present);
	if (!err && !present)
		err = ch_error_new(CH_ERR_INPUT, "array type at 0x%llx has no element type",
				   (unsigned long long)off);
	struct ch_dw_children it = {0};
	if (!err)
		err = ch_dw_children_first(dw, die, off, &it, "reading array dimensions");
	ch_dw_die_free(die);
	while (!err && it.child) {
		Dwarf_Half tag = 0;
		Dwarf_Off coff = 0;
		if ((err = ch_dw_children_check(dw, &it, &tag, &coff)))
			break;
		Dwarf_Die child = it.child;
		if (tag == DW_TAG_subrange_type) {
			if (arr->ndims == CH_MAX_DIMS) {
				err = ch_error_new(CH_ERR_UNSUPPORTED, "array with more than %d dimensions",
						   CH_MAX_DIMS);
				break;
			}
			unsigned d = arr->ndims++;
			int64_t v = 0, lower = 0;
			bool is_const = false;
			err = ch_dw_attr_const(dw, child, DW_AT_count, &v, &present, &is_const);
			if (!err && present) {
				if (is_const && v >= 0) {
					arr->count[d] = (uint64_t)v;
					arr->known[d] = true;
				}
			} else if (!err) {
				err = ch_dw_attr_const(dw, child, DW_AT_upper_bound, &v, &present, &is_const);
				bool lpresent = false, lconst = false;
				if (!err && present && is_const)
					err = ch_dw_attr_const(dw, child, DW_AT_lower_bound, &lower, &lpresent, &lconst);
				/* C arrays start at 0; an upper bound of -1
				 * (DW_FORM_sdata, or all-ones data8 read as -1)
				 * means zero elements. Anything else odd: unknown. */
				if (!err && present && is_const && lower >= 0 && v >= lower - 1) {
					arr->count[d] = (uint64_t)(v - lower) + 1;
					arr->known[d] = true;
				}
			}
			if (err)
				break;
		}
		err = ch_dw_children_next(dw, &it);
	}
	ch_dw_children_end(&it);
	if (!err && arr->ndims == 0) {
		/* No subrange: a C array of unknown size. */
		arr->ndims = 1;
	}
	return err;
}


/* Bytes taken by dimensions [first, ndims) of arr. */
struct ch_error *ch_dw_array_tail_size(struct ch_dwarf *dw, const struct ch_array *arr, unsigned first,
				       int depth, uint64_t *size)
{
	uint64_t s = 0;
	struct ch_error *err = ch_dw_type_size(dw, arr->elem, depth + 1, &s);
	if (err)
		return err;
	for (unsigned i = first; i < arr->ndims; i++)
		if (ch_dw_mul_ovf(s, arr->count[i], &s))
			return ch_error_new(CH_ERR_INPUT, "array size overflows");
	*size = s;
	return NULL;
}

/* sizeof the type at off. depth bounds arrays of arrays of typedefs... */
struct ch_error *ch_dw_type_size(struct ch_dwarf *dw, Dwarf_Off off, int depth, uint64_t *size)
{
	if (depth > CH_MAX_TYPE_CHAIN)
		return ch_error_new(CH_ERR_INPUT, "type nesting too deep at 0x%llx", (unsigned long long)off);
	Dwarf_Half tag = 0;
	struct ch_error *err = ch_dw_complete_type(dw, off, &off, &tag);
	if (err)
		return err;
	if (tag == DW_TAG_array_type) {
		/* Prefer an explicit DW_AT_byte_size; else elements * count. */
		Dwarf_Die die = NULL;
		if ((err = ch_dw_die_at(dw, off, &die)))
			return err;
		bool present = false;
		err = ch_dw_attr_udata(dw, die, DW_AT_byte_size, size, &present);
		ch_dw_die_free(die);
		if (err || present)
			return err;
		struct ch_array arr = {0};
		if ((err = ch_dw_array_info(dw, off, &arr)))
			return err;
		return ch_dw_array_tail_size(dw, &arr, 0, depth, size);
	}
	Dwarf_Die die = NULL;
	if ((err = ch_dw_die_at(dw, off, &die)))
		return err;
	bool present = false;
	err = ch_dw_attr_udata(dw, die, DW_AT_byte_size, size, &present);
	if (!err && !present) {
		if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
		    tag == DW_TAG_rvalue_reference_type) {
			Dwarf_Half asize = 0;
			Dwarf_Error derr = NULL;
			if (dwarf_get_die_address_size(die, &asize, &derr) != DW_DLV_OK)
				err = ch_dw_error(dw, derr, "reading address size");
			else
				*size = asize;
		} else {
			err = ch_error_new(CH_ERR_NOT_FOUND, "type at 0x%llx (tag 0x%x) has no size",
					   (unsigned long long)off, (unsigned)tag);
		}
	}
	ch_dw_die_free(die);
	return err;
}

/* Type name -> offset of its complete definition, cached. */
struct ch_error *ch_dw_resolve_type_name(struct ch_dwarf *dw, const char *name, Dwarf_Off *out)
{
	size_t len = strlen(name);
	struct ch_map_slot *s = ch_dw_map_find(&dw->resolved, name, len, 0);
	if (s) {
		*out = s->value;
		return NULL;
	}
	Dwarf_Off off = 0;
	Dwarf_Half tag = 0;
	struct ch_error *err = ch_dw_lookup_name(dw, name, NS_TAG | NS_ORD, &off);
	if (!err)
		err = ch_dw_complete_type(dw, off, out, &tag);
	if (err)
		return err;
	if (!ch_dw_map_insert(&dw->resolved, &dw->arena, name, len, 0, *out))
		return ch_dw_nomem();
	return NULL;
}
