/* Enumerator values (ch_dwarf_enumerator): enumerations queued by the index
 * are expanded lazily, only until the wanted name appears. */
#include "readers/process/dwarf_internal.h"

#include <string.h>

/* Add the enumerators of the enum at off. If its first enumerator is already
 * known the enum is a copy from another unit (every unit including a header
 * repeats its enums) and is skipped after reading one child. */
static struct ch_error *expand_enum(struct ch_dwarf *dw, Dwarf_Off off)
{
	Dwarf_Die die = NULL;
	struct ch_error *err = ch_dw_die_at(dw, off, &die);
	if (err)
		return err;
	struct ch_dw_children it;
	err = ch_dw_children_first(dw, die, off, &it, "reading enumerators");
	ch_dw_die_free(die);
	bool first = true;
	while (!err && it.child) {
		Dwarf_Half tag = 0;
		Dwarf_Off coff = 0;
		if ((err = ch_dw_children_check(dw, &it, &tag, &coff)))
			break;
		Dwarf_Die child = it.child;
		if (tag == DW_TAG_enumerator) {
			const char *name;
			int64_t v = 0;
			bool present = false, is_const = false;
			if ((err = ch_dw_die_name(dw, child, &name)))
				break;
			if (name) {
				size_t len = strlen(name);
				if (ch_dw_map_find(&dw->enumerators, name, len, 0)) {
					if (first)
						break; /* duplicate enum */
				} else {
					err = ch_dw_attr_const(dw, child, DW_AT_const_value, &v, &present, &is_const);
					if (err)
						break;
					if (present && is_const &&
					    !ch_dw_map_insert(&dw->enumerators, &dw->arena, name, len, 0, (uint64_t)v)) {
						err = ch_dw_nomem();
						break;
					}
				}
			}
			first = false;
		}
		err = ch_dw_children_next(dw, &it);
	}
	ch_dw_children_end(&it);
	return err;
}

struct ch_error *ch_dwarf_enumerator(struct ch_dwarf *dw, const char *name, int64_t *value)
{
	if (!dw || !name)
		return ch_error_new(CH_ERR_USAGE, "ch_dwarf_enumerator: NULL argument");
	size_t len = strlen(name);
	for (;;) {
		struct ch_map_slot *s = ch_dw_map_find(&dw->enumerators, name, len, 0);
		if (s) {
			if (value)
				*value = (int64_t)s->value;
			return NULL;
		}
		if (dw->enum_head < dw->enum_count) {
			struct ch_error *err = expand_enum(dw, dw->enum_queue[dw->enum_head++]);
			if (err) {
				if (err->kind == CH_ERR_NOMEM)
					return err;
				ch_dw_note_damage(dw, err);
			}
			continue;
		}
		if (dw->scan_done)
			return ch_dw_miss_error(dw, "enumerator", name);
		struct ch_dw_scan_goal goal = {NULL, 0, 0, true};
		bool hit = false;
		struct ch_error *err = ch_dw_scan(dw, &goal, &hit);
		if (err)
			return err;
	}
}
