/* Member paths ("generations[1].count"): their grammar, the walk from a type
 * name through members and array subscripts, the per-(type, path) answer
 * cache, and the public layout queries that read from it: ch_dwarf_type_size,
 * ch_dwarf_member and ch_dwarf_array_length. */
#include "readers/process/dwarf_internal.h"

#include <stdlib.h>
#include <string.h>

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '$';
}

/* Grammar: path := [name] ('[' digits ']')* ('.' name ('[' digits ']')*)*
 * Checked in full before any lookup so that a malformed path is always a
 * usage error, never a "not found" for its first component. */
static bool path_syntax_ok(const char *p)
{
	bool need_name = false; /* after '.' */
	bool seen_any = false;
	while (*p) {
		if (*p == '[') {
			if (need_name || p[1] < '0' || p[1] > '9')
				return false;
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
			if (*p++ != ']')
				return false;
		} else if (*p == '.') {
			if (!seen_any || need_name)
				return false;
			need_name = true;
			p++;
			continue;
		} else if (ident_char(*p)) {
			if (seen_any && !need_name)
				return false; /* name directly after ']' */
			while (ident_char(*p))
				p++;
		} else {
			return false;
		}
		seen_any = true;
		need_name = false;
	}
	return !need_name;
}

/* Walk path inside type_name and fill r (r->err_kind stays 0 on success). */
static struct ch_error *walk_path(struct ch_dwarf *dw, const char *type_name, const char *path,
				  struct ch_member_result *r)
{
	size_t plen = strlen(path);
	if (plen > CH_MAX_PATH)
		return ch_error_new(CH_ERR_USAGE, "member path too long");
	if (!path_syntax_ok(path))
		return ch_error_new(CH_ERR_USAGE, "bad member path \"%s\"", path);
	dw->walk_budget = CH_MAX_WALK_DIES;
	Dwarf_Off cur = 0;
	struct ch_error *err = ch_dw_resolve_type_name(dw, type_name, &cur);
	if (err)
		return err;

	/* While indexing into a multi-dimensional array, arr describes the
	 * array and dims_used how many of its subscripts have been applied;
	 * cur is then the array type itself. */
	struct ch_array arr = {0};
	unsigned dims_used = 0;
	uint64_t bits = 0, bit_size = 0;
	const char *p = path; /* syntax already checked: only semantics below */

	while (*p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			uint64_t idx = 0;
			for (p++; *p != ']'; p++)
				if (ch_dw_mul_ovf(idx, 10, &idx) || ch_dw_add_ovf(idx, (uint64_t)(*p - '0'), &idx))
					return ch_error_new(CH_ERR_USAGE, "array index too large in \"%s\"", path);
			p++;
			if (dims_used == 0) {
				Dwarf_Half tag = 0;
				if ((err = ch_dw_complete_type(dw, cur, &cur, &tag)))
					return err;
				if (tag != DW_TAG_array_type)
					return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: indexing a non-array",
							    type_name, path);
				if ((err = ch_dw_array_info(dw, cur, &arr)))
					return err;
			}
			if (arr.known[dims_used] && idx >= arr.count[dims_used])
				return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: index %llu out of range (%llu)",
						    type_name, path, (unsigned long long)idx,
						    (unsigned long long)arr.count[dims_used]);
			uint64_t stride = 0, delta = 0;
			if ((err = ch_dw_array_tail_size(dw, &arr, dims_used + 1, 0, &stride)))
				return err;
			if (ch_dw_mul_ovf(stride, 8, &stride) || ch_dw_mul_ovf(stride, idx, &delta) ||
			    ch_dw_add_ovf(bits, delta, &bits))
				return ch_error_new(CH_ERR_INPUT, "%s.%s: offset overflows", type_name, path);
			bit_size = 0;
			if (++dims_used == arr.ndims) {
				cur = arr.elem;
				dims_used = 0;
			}
			continue;
		}
		char name[256];
		size_t n = 0;
		while (ident_char(*p)) {
			if (n + 1 >= sizeof(name))
				return ch_error_new(CH_ERR_USAGE, "member name too long in \"%s\"", path);
			name[n++] = *p++;
		}
		name[n] = '\0';
		if (dims_used)
			return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: %s applied to an array", type_name, path,
					    name);
		Dwarf_Half tag = 0;
		if ((err = ch_dw_complete_type(dw, cur, &cur, &tag)))
			return err;
		if (!ch_dw_is_aggregate(tag))
			return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: %s is not inside a struct or union",
					    type_name, path, name);
		struct ch_member_info mi = {0};
		bool found = false;
		if ((err = ch_dw_find_member(dw, cur, name, 0, &mi, &found)))
			return err;
		if (!found)
			return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: no member %s", type_name, path, name);
		if (ch_dw_add_ovf(bits, mi.bit_offset, &bits))
			return ch_error_new(CH_ERR_INPUT, "%s.%s: offset overflows", type_name, path);
		cur = mi.type;
		bit_size = mi.bit_size;
	}

	r->offset_bits = bits;
	if (dims_used) {
		/* Partially indexed multi-dimensional array. */
		uint64_t s = 0;
		if ((err = ch_dw_array_tail_size(dw, &arr, dims_used, 0, &s)))
			return err;
		if (ch_dw_mul_ovf(s, 8, &r->size_bits))
			return ch_error_new(CH_ERR_INPUT, "size overflows");
		r->is_array = true;
		r->length_known = arr.known[dims_used];
		r->array_length = arr.count[dims_used];
		return NULL;
	}
	if (bit_size) {
		r->size_bits = bit_size;
		return NULL;
	}
	uint64_t s = 0;
	if ((err = ch_dw_type_size(dw, cur, 0, &s)))
		return err;
	if (ch_dw_mul_ovf(s, 8, &r->size_bits))
		return ch_error_new(CH_ERR_INPUT, "size overflows");
	Dwarf_Half tag = 0;
	if ((err = ch_dw_complete_type(dw, cur, &cur, &tag)))
		return err;
	if (tag == DW_TAG_array_type) {
		if ((err = ch_dw_array_info(dw, cur, &arr)))
			return err;
		r->is_array = true;
		r->length_known = arr.known[0];
		r->array_length = arr.count[0];
	}
	return NULL;
}

/* Cached walk_path. On success *out points into dw->results (valid until the
 * next call that may add results). */
static struct ch_error *member_lookup(struct ch_dwarf *dw, const char *type_name, const char *path,
				      const struct ch_member_result **out)
{
	if (!dw || !type_name || !path)
		return ch_error_new(CH_ERR_USAGE, "NULL argument");
	size_t tlen = strlen(type_name), plen = strlen(path);
	if (tlen > CH_MAX_PATH || plen > CH_MAX_PATH)
		return ch_error_new(CH_ERR_USAGE, "type name or member path too long");
	char key[2 * CH_MAX_PATH + 2];
	memcpy(key, type_name, tlen);
	key[tlen] = '\0';
	memcpy(key + tlen + 1, path, plen);
	size_t klen = tlen + 1 + plen;

	struct ch_member_result *r;
	struct ch_map_slot *s = ch_dw_map_find(&dw->members, key, klen, 0);
	if (s) {
		r = &dw->results[s->value];
	} else {
		struct ch_member_result tmp = {0};
		struct ch_error *err = walk_path(dw, type_name, path, &tmp);
		if (err && err->kind != CH_ERR_NOT_FOUND)
			return err; /* not cached: input/usage errors are not answers */
		if (err) {
			tmp.err_kind = err->kind;
			tmp.err_msg = ch_dw_arena_copy(&dw->arena, err->message, strlen(err->message));
			if (!tmp.err_msg)
				return err; /* could not cache; still report */
			ch_error_free(err);
		}
		if (dw->nresults == dw->capresults) {
			size_t ncap = dw->capresults ? dw->capresults * 2 : 64;
			struct ch_member_result *nr = realloc(dw->results, ncap * sizeof(*nr));
			if (!nr)
				return ch_dw_nomem();
			dw->results = nr;
			dw->capresults = ncap;
		}
		dw->results[dw->nresults] = tmp;
		if (!ch_dw_map_insert(&dw->members, &dw->arena, key, klen, 0, dw->nresults))
			return ch_dw_nomem();
		r = &dw->results[dw->nresults++];
	}
	if (r->err_kind)
		return ch_error_new(r->err_kind, "%s", r->err_msg);
	*out = r;
	return NULL;
}

struct ch_error *ch_dwarf_type_size(struct ch_dwarf *dw, const char *type_name, uint64_t *size)
{
	const struct ch_member_result *r;
	struct ch_error *err = member_lookup(dw, type_name, "", &r);
	if (err)
		return err;
	if (size)
		*size = r->size_bits / 8;
	return NULL;
}

struct ch_error *ch_dwarf_member(struct ch_dwarf *dw, const char *type_name, const char *path,
				 uint64_t *offset_bits, uint64_t *size_bits)
{
	const struct ch_member_result *r;
	struct ch_error *err = member_lookup(dw, type_name, path, &r);
	if (err)
		return err;
	if (offset_bits)
		*offset_bits = r->offset_bits;
	if (size_bits)
		*size_bits = r->size_bits;
	return NULL;
}

struct ch_error *ch_dwarf_array_length(struct ch_dwarf *dw, const char *type_name, const char *path,
				       uint64_t *length)
{
	const struct ch_member_result *r;
	struct ch_error *err = member_lookup(dw, type_name, path, &r);
	if (err)
		return err;
	if (!r->is_array)
		return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s is not an array", type_name, path);
	if (!r->length_known)
		return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s has no constant length", type_name, path);
	if (length)
		*length = r->array_length;
	return NULL;
}
