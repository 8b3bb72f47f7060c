/* Struct and union members: where a member lies (DW_AT_data_member_location
 * in its constant and expression forms, DWARF 2/3 and 4+ bitfields) and the
 * search for a member by name, through C11 anonymous members. */
#include "readers/process/dwarf_internal.h"

#include <string.h>

/* Decode the DWARF 2 style member location: an expression evaluated with the
 * struct's address (here 0) pushed. Only what compilers emit for C members
 * is accepted: DW_OP_plus_uconst, or constants combined with DW_OP_plus. */
static struct ch_error *eval_member_expr(const unsigned char *p, uint64_t len, uint64_t *out)
{
	uint64_t stack[CH_MAX_EXPR_STACK] = {0};
	unsigned sp = 1; /* stack[0]: the struct's address */
	const unsigned char *end = p + len;
	while (p < end) {
		unsigned op = *p++;
		uint64_t v = 0;
		if (op == DW_OP_plus_uconst || op == DW_OP_constu) {
			unsigned shift = 0;
			unsigned char b;
			do {
				if (p >= end || shift > 63)
					return ch_error_new(CH_ERR_INPUT, "truncated member location");
				b = *p++;
				v |= (uint64_t)(b & 0x7f) << shift;
				shift += 7;
			} while (b & 0x80);
		} else if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
			v = op - DW_OP_lit0;
			op = DW_OP_constu;
		}
		switch (op) {
		case DW_OP_plus_uconst:
			if (ch_dw_add_ovf(stack[sp - 1], v, &stack[sp - 1]))
				return ch_error_new(CH_ERR_INPUT, "member location overflows");
			break;
		case DW_OP_constu:
			if (sp == CH_MAX_EXPR_STACK)
				return ch_error_new(CH_ERR_UNSUPPORTED, "member location too complex");
			stack[sp++] = v;
			break;
		case DW_OP_plus:
			if (sp < 2)
				return ch_error_new(CH_ERR_INPUT, "member location stack underflow");
			sp--;
			if (ch_dw_add_ovf(stack[sp - 1], stack[sp], &stack[sp - 1]))
				return ch_error_new(CH_ERR_INPUT, "member location overflows");
			break;
		default:
			return ch_error_new(CH_ERR_UNSUPPORTED, "member location uses DW_OP 0x%x", op);
		}
	}
	*out = stack[sp - 1];
	return NULL;
}

/* Byte offset from DW_AT_data_member_location: a constant (DWARF 3+) or a
 * location expression (DWARF 2, exprloc/block forms). Absent means 0 (union
 * members). */
static struct ch_error *member_byte_offset(struct ch_dwarf *dw, Dwarf_Die m, uint64_t *out)
{
	Dwarf_Attribute attr = NULL;
	struct ch_error *err = ch_dw_attr_get(dw, m, DW_AT_data_member_location, &attr);
	*out = 0;
	if (err || !attr)
		return err;
	Dwarf_Half form = 0;
	Dwarf_Error derr = NULL;
	err = ch_dw_attr_form(dw, attr, &form);
	if (err) {
		dwarf_dealloc_attribute(attr);
		return err;
	}
	switch (form) {
	case DW_FORM_data1:
	case DW_FORM_data2:
	case DW_FORM_data4: /* loclistptr in DWARF 3; never used for members */
	case DW_FORM_data8:
	case DW_FORM_udata: {
		Dwarf_Unsigned u = 0;
		if (dwarf_formudata(attr, &u, &derr) != DW_DLV_OK)
			err = ch_dw_error(dw, derr, "reading DW_AT_data_member_location");
		else
			*out = u;
		break;
	}
	case DW_FORM_sdata:
	case DW_FORM_implicit_const: {
		Dwarf_Signed s = 0;
		if (dwarf_formsdata(attr, &s, &derr) != DW_DLV_OK)
			err = ch_dw_error(dw, derr, "reading DW_AT_data_member_location");
		else if (s < 0)
			err = ch_error_new(CH_ERR_INPUT, "negative DW_AT_data_member_location");
		else
			*out = (uint64_t)s;
		break;
	}
	case DW_FORM_exprloc: {
		Dwarf_Unsigned len = 0;
		Dwarf_Ptr ptr = NULL;
		if (dwarf_formexprloc(attr, &len, &ptr, &derr) != DW_DLV_OK)
			err = ch_dw_error(dw, derr, "reading DW_AT_data_member_location");
		else
			err = eval_member_expr(ptr, len, out);
		break;
	}
	case DW_FORM_block:
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4: {
		Dwarf_Block *blk = NULL;
		if (dwarf_formblock(attr, &blk, &derr) != DW_DLV_OK) {
			err = ch_dw_error(dw, derr, "reading DW_AT_data_member_location");
		} else {
			err = eval_member_expr(blk->bl_data, blk->bl_len, out);
			dwarf_dealloc(dw->dbg, blk, DW_DLA_BLOCK);
		}
		break;
	}
	default:
		err = ch_error_new(CH_ERR_UNSUPPORTED, "DW_AT_data_member_location in form 0x%x",
				   (unsigned)form);
		break;
	}
	dwarf_dealloc_attribute(attr);
	return err;
}

/* Offset (bits, little-endian numbering) and bitfield width of member m. */
static struct ch_error *member_location(struct ch_dwarf *dw, Dwarf_Die m, Dwarf_Off type,
					uint64_t *bits, uint64_t *bit_size)
{
	bool present = false;
	uint64_t v = 0;
	struct ch_error *err = ch_dw_attr_udata(dw, m, DW_AT_bit_size, bit_size, &present);
	if (err)
		return err;
	if (!present)
		*bit_size = 0;
	if (*bit_size && dw->big_endian)
		return ch_error_new(CH_ERR_UNSUPPORTED, "bitfields of big-endian targets are not supported");
	/* DWARF 4+: DW_AT_data_bit_offset counts from the start of the struct. */
	if ((err = ch_dw_attr_udata(dw, m, DW_AT_data_bit_offset, &v, &present)))
		return err;
	if (present) {
		*bits = v;
		return NULL;
	}
	uint64_t byte_off = 0;
	if ((err = member_byte_offset(dw, m, &byte_off)))
		return err;
	if (byte_off > UINT64_MAX / 8)
		return ch_error_new(CH_ERR_INPUT, "member offset overflows");
	*bits = byte_off * 8;
	/* DWARF 2/3 bitfield: DW_AT_bit_offset counts from the most significant
	 * bit of a storage unit of DW_AT_byte_size bytes at byte_off. On a
	 * little-endian target the field's lowest bit is therefore
	 * storage_bits - bit_offset - bit_size above the unit's start. */
	int64_t bit_off = 0;
	bool is_const = false;
	if ((err = ch_dw_attr_const(dw, m, DW_AT_bit_offset, &bit_off, &present, &is_const)))
		return err;
	if (!present)
		return NULL;
	if (!is_const || !*bit_size)
		return ch_error_new(CH_ERR_INPUT, "malformed legacy bitfield");
	uint64_t storage = 0;
	if ((err = ch_dw_attr_udata(dw, m, DW_AT_byte_size, &storage, &present)))
		return err;
	if (!present && (err = ch_dw_type_size(dw, type, 0, &storage)))
		return err;
	/* Storage units are at most a few words; bounding them keeps the
	 * arithmetic below far from overflow on hostile input. */
	if (storage == 0 || storage > 64 || bit_off < 0 || *bit_size > storage * 8 ||
	    (uint64_t)bit_off > storage * 8 - *bit_size)
		return ch_error_new(CH_ERR_INPUT, "bitfield outside its storage unit");
	uint64_t low = storage * 8 - (uint64_t)bit_off - *bit_size;
	if (ch_dw_add_ovf(*bits, low, bits))
		return ch_error_new(CH_ERR_INPUT, "member offset overflows");
	return NULL;
}

/* Search struct/union off (complete) for a member called name, looking
 * through anonymous struct/union members (C11) up to CH_MAX_ANON_DEPTH. */
struct ch_error *ch_dw_find_member(struct ch_dwarf *dw, Dwarf_Off off, const char *name, int depth,
				   struct ch_member_info *out, bool *found)
{
	*found = false;
	Dwarf_Die die = NULL;
	struct ch_error *err = ch_dw_die_at(dw, off, &die);
	if (err)
		return err;
	struct ch_dw_children it;
	err = ch_dw_children_first(dw, die, off, &it, "reading struct members");
	ch_dw_die_free(die);
	while (!err && it.child) {
		Dwarf_Half tag = 0;
		Dwarf_Off coff = 0;
		if ((err = ch_dw_children_check(dw, &it, &tag, &coff)))
			break;
		Dwarf_Die child = it.child;
		if (dw->walk_budget == 0) {
			err = ch_error_new(CH_ERR_INPUT, "member search too large (corrupt DWARF?)");
			break;
		}
		dw->walk_budget--;
		const char *mname = NULL;
		if (tag == DW_TAG_member && (err = ch_dw_die_name(dw, child, &mname)))
			break;
		/* Only the wanted member and anonymous ones need their type. */
		if (tag == DW_TAG_member && (!mname || strcmp(mname, name) == 0)) {
			Dwarf_Off mtype = 0;
			bool present = false;
			if ((err = ch_dw_attr_ref(dw, child, DW_AT_type, &mtype, &present)))
				break;
			if (!present) {
				err = ch_error_new(CH_ERR_INPUT, "member at 0x%llx has no type",
						   (unsigned long long)coff);
				break;
			}
			if (mname) {
				out->type = mtype;
				err = member_location(dw, child, mtype, &out->bit_offset, &out->bit_size);
				if (!err)
					*found = true;
				break;
			}
			if (depth < CH_MAX_ANON_DEPTH) { /* anonymous member */
				Dwarf_Off inner = 0;
				Dwarf_Half itag = 0;
				if ((err = ch_dw_complete_type(dw, mtype, &inner, &itag)))
					break;
				if (ch_dw_is_aggregate(itag)) {
					struct ch_member_info sub = {0};
					bool subfound = false;
					err = ch_dw_find_member(dw, inner, name, depth + 1, &sub, &subfound);
					if (!err && subfound) {
						uint64_t base = 0, bsize = 0;
						err = member_location(dw, child, mtype, &base, &bsize);
						if (!err && ch_dw_add_ovf(base, sub.bit_offset, &sub.bit_offset))
							err = ch_error_new(CH_ERR_INPUT, "member offset overflows");
						if (!err) {
							*out = sub;
							*found = true;
						}
					}
					if (err || subfound)
						break;
				}
			}
		}
		err = ch_dw_children_next(dw, &it);
	}
	ch_dw_children_end(&it);
	return err;
}
