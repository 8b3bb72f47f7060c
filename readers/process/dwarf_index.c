/* Lazy, resumable index of the top-level names of .debug_info: walks units
 * and their top-level DIEs only as far as the name being looked up, records
 * damage without giving up the rest of the walk, and queues enumerations for
 * dwarf_enum.c. */
#include "readers/process/dwarf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ch_dw_note_damage(struct ch_dwarf *dw, struct ch_error *err)
{
	if (dw->scan_damaged == 0)
		dw->scan_damage_kind = err->kind;
	if (dw->scan_damaged++ == 0)
		snprintf(dw->scan_damage_msg, sizeof(dw->scan_damage_msg), "%.*s",
			 (int)sizeof(dw->scan_damage_msg) - 1, err->message);
	ch_error_free(err);
}

static struct ch_error *enum_queue_push(struct ch_dwarf *dw, Dwarf_Off off)
{
	if (dw->enum_count == dw->enum_cap) {
		size_t ncap = dw->enum_cap ? dw->enum_cap * 2 : 64;
		Dwarf_Off *q = realloc(dw->enum_queue, ncap * sizeof(*q));
		if (!q)
			return ch_dw_nomem();
		dw->enum_queue = q;
		dw->enum_cap = ncap;
	}
	dw->enum_queue[dw->enum_count++] = off;
	return NULL;
}

/* Index one top-level DIE. */
static struct ch_error *index_die(struct ch_dwarf *dw, Dwarf_Die die, const struct ch_dw_scan_goal *goal,
				  bool *hit)
{
	Dwarf_Half tag = 0;
	struct ch_error *err = ch_dw_die_tag(dw, die, &tag);
	if (err)
		return err;
	uint32_t ns;
	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_class_type:
	case DW_TAG_enumeration_type:
		ns = NS_TAG;
		break;
	case DW_TAG_typedef:
	case DW_TAG_base_type:
		ns = NS_ORD;
		break;
	default:
		return NULL;
	}
	if (ns == NS_TAG) {
		bool decl = false;
		err = ch_dw_attr_flag(dw, die, DW_AT_declaration, &decl);
		if (err || decl)
			return err;
	}
	const char *name;
	Dwarf_Off off = 0;
	if ((err = ch_dw_die_name(dw, die, &name)) || (err = ch_dw_die_offset(dw, die, &off)))
		return err;
	if (tag == DW_TAG_enumeration_type) {
		/* Anonymous enums are queued too: they carry enumerators. */
		if ((err = enum_queue_push(dw, off)))
			return err;
		if (goal->want_enum)
			*hit = true;
	}
	if (!name)
		return NULL;
	size_t len = strlen(name);
	if (ch_dw_map_find(&dw->types, name, len, ns))
		return NULL; /* first definition wins */
	if (!ch_dw_map_insert(&dw->types, &dw->arena, name, len, ns, off))
		return ch_dw_nomem();
	if (goal->name && (goal->ns_mask & ns) && goal->len == len && memcmp(goal->name, name, len) == 0)
		*hit = true;
	return NULL;
}

/* Fetch the next unit and position the cursor on its first child. */
struct ch_error *ch_dw_scan_next_unit(struct ch_dwarf *dw)
{
	Dwarf_Error derr = NULL;
	Dwarf_Die unit = NULL;
	int res = ch_dw_next_unit(dw->dbg, &unit, &derr);
	if (res == DW_DLV_NO_ENTRY) {
		dw->scan_done = true;
		return NULL;
	}
	if (res == DW_DLV_ERROR) {
		/* The unit cursor cannot move past a bad unit header: stop. */
		dw->scan_done = true;
		ch_dw_note_damage(dw, ch_dw_error(dw, derr, "reading compile unit header"));
		return NULL;
	}
	if (!unit)
		return NULL; /* empty unit */
	Dwarf_Die child = NULL;
	res = dwarf_child(unit, &child, &derr);
	ch_dw_die_free(unit);
	if (res == DW_DLV_ERROR) {
		ch_dw_note_damage(dw, ch_dw_error(dw, derr, "reading first DIE of unit"));
		return NULL;
	}
	if (res == DW_DLV_OK) {
		Dwarf_Off off = 0;
		struct ch_error *err = ch_dw_die_offset(dw, child, &off);
		if (err) {
			ch_dw_die_free(child);
			ch_dw_note_damage(dw, err);
			return NULL;
		}
		dw->scan_die = child;
		dw->scan_last_off = off;
	}
	return NULL;
}

/* Walk top-level DIEs until goal is met (*hit) or every unit is indexed.
 * Damage inside a unit costs the rest of that unit, not the scan. */
struct ch_error *ch_dw_scan(struct ch_dwarf *dw, const struct ch_dw_scan_goal *goal, bool *hit)
{
	*hit = false;
	while (!dw->scan_done) {
		if (!dw->scan_die) {
			struct ch_error *err = ch_dw_scan_next_unit(dw);
			if (err)
				return err;
			continue;
		}
		Dwarf_Die die = dw->scan_die;
		struct ch_error *err = index_die(dw, die, goal, hit);
		if (err) {
			if (err->kind == CH_ERR_NOMEM)
				return err;
			/* One unreadable DIE: record it and move on. */
			ch_dw_note_damage(dw, err);
		}
		Dwarf_Die next = NULL;
		Dwarf_Error derr = NULL;
		int res = ch_dw_sibling(dw->dbg, die, &next, &derr);
		ch_dw_die_free(die);
		dw->scan_die = NULL;
		if (res == DW_DLV_ERROR) {
			ch_dw_note_damage(dw, ch_dw_error(dw, derr, "walking top-level DIEs"));
		} else if (res == DW_DLV_OK) {
			Dwarf_Off off = 0;
			err = ch_dw_die_offset(dw, next, &off);
			if (!err && off <= dw->scan_last_off)
				err = ch_error_new(CH_ERR_INPUT, "DW_AT_sibling does not move forward at 0x%llx",
						   (unsigned long long)off);
			if (err) {
				ch_dw_die_free(next);
				ch_dw_note_damage(dw, err);
			} else {
				dw->scan_die = next;
				dw->scan_last_off = off;
			}
		}
		if (*hit)
			return NULL;
	}
	return NULL;
}

struct ch_error *ch_dw_miss_error(struct ch_dwarf *dw, const char *what, const char *name)
{
	if (dw->scan_damaged)
		return ch_error_new(CH_ERR_INPUT, "%s %s not found, and %u part(s) of the DWARF could not be read (%s)",
				    what, name, dw->scan_damaged, dw->scan_damage_msg);
	return ch_error_new(CH_ERR_NOT_FOUND, "%s %s not found in DWARF", what, name);
}

/* Look name up in the given namespaces, scanning further if needed. Tags are
 * preferred when both are known: a tag entry is always a complete definition. */
struct ch_error *ch_dw_lookup_name(struct ch_dwarf *dw, const char *name, uint32_t ns_mask,
				   Dwarf_Off *off)
{
	size_t len = strlen(name);
	for (;;) {
		struct ch_map_slot *s = NULL;
		if (ns_mask & NS_TAG)
			s = ch_dw_map_find(&dw->types, name, len, NS_TAG);
		if (!s && (ns_mask & NS_ORD))
			s = ch_dw_map_find(&dw->types, name, len, NS_ORD);
		if (s) {
			*off = s->value;
			return NULL;
		}
		if (dw->scan_done)
			return ch_dw_miss_error(dw, "type", name);
		struct ch_dw_scan_goal goal = {name, len, ns_mask, false};
		bool hit = false;
		struct ch_error *err = ch_dw_scan(dw, &goal, &hit);
		if (err)
			return err;
	}
}
