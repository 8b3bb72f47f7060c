/* Private to the DWARF reader (readers/process/dwarf_*.c); callers use
 * dwarf_types.h. What the files share: the handle, its string arena and hash
 * maps, and the functions one file provides to another. Every function that
 * reads the file returns a struct ch_error (NULL on success) and checks what
 * libdwarf returns; see dwarf_types.c for the design and the file map. */
#ifndef CH_DWARF_INTERNAL_H
#define CH_DWARF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "readers/base/error.h"
#include "readers/process/dwarf_types.h"

/* Bounds on walks over data that comes from the file. C needs far less. */
#define CH_MAX_TYPE_CHAIN 16   /* typedef/const/volatile/... links followed */
#define CH_MAX_ANON_DEPTH 8    /* nested anonymous struct/union members */
#define CH_MAX_DIMS 8          /* dimensions of one DW_TAG_array_type */
#define CH_MAX_PATH 1024       /* characters in a member path */
#define CH_MAX_EXPR_STACK 8    /* DW_OP stack for DW_AT_data_member_location */
/* Member DIEs one path lookup may visit. Depth alone does not bound the
 * anonymous-member search: hostile DWARF can give a struct many anonymous
 * members that all lead to further such structs (k^depth visits). Real
 * structs need a few hundred. */
#define CH_MAX_WALK_DIES 200000

/* ---------------------------------------------------------------------------
 * String arena and (key, namespace) -> 64-bit value maps (dwarf_map.c).
 */

/* Keys live as long as the ch_dwarf, and are never freed individually, so a
 * bump allocator avoids one malloc per indexed name. */
struct ch_arena_block {
	struct ch_arena_block *next;
	size_t used, cap;
	char data[];
};

struct ch_arena {
	struct ch_arena_block *head;
};

/* Open addressing with linear probing. Keys are (bytes, length) rather than C
 * strings because the member cache key embeds a NUL between type and path;
 * ns separates C's tag and ordinary-identifier namespaces in the type index
 * ("struct foo" and "typedef ... foo" may both exist and differ). */
struct ch_map_slot {
	const char *key; /* NULL: empty slot */
	uint32_t len;
	uint32_t hash;
	uint32_t ns;
	uint64_t value;
};

struct ch_map {
	struct ch_map_slot *slots;
	size_t cap; /* power of two, or 0 before first insert */
	size_t count;
};

/* A copy of s[0..len) plus a NUL, valid until ch_dw_arena_free; NULL when out
 * of memory. */
char *ch_dw_arena_copy(struct ch_arena *a, const char *s, size_t len);
void ch_dw_arena_free(struct ch_arena *a);
struct ch_map_slot *ch_dw_map_find(const struct ch_map *m, const char *key, size_t len, uint32_t ns);
struct ch_map_slot *ch_dw_map_insert(struct ch_map *m, struct ch_arena *arena, const char *key,
				     size_t len, uint32_t ns, uint64_t value);

/* ---------------------------------------------------------------------------
 * The handle.
 */

/* Namespaces of the type index. NS_TAG: struct/union/enum tags, complete
 * definitions only. NS_ORD: typedef and base type names (their targets may
 * be incomplete in the unit that happened to come first; resolution then
 * continues by tag, see ch_dw_complete_type). */
enum { NS_TAG = 1, NS_ORD = 2 };

/* A cached answer for one (type name, path). Failures of kind NOT_FOUND are
 * cached too (err_kind != 0, err_msg in the arena): the product probes for
 * members that exist only in some Python versions, and a miss may have cost
 * a scan of every remaining unit. */
struct ch_member_result {
	uint64_t offset_bits;
	uint64_t size_bits;
	uint64_t array_length;
	bool is_array;     /* the member's type, after typedefs, is an array */
	bool length_known; /* ... with a constant element count */
	enum ch_error_kind err_kind; /* 0 on success */
	const char *err_msg;
};

/* The handle behind struct ch_dwarf (dwarf_types.h): one file's libdwarf
 * session and every cache built from it. All map keys and cached error
 * messages live in arena, so ch_dwarf_close frees them in one sweep; the
 * strings libdwarf hands out (DIE names) stay valid until then too. */
struct ch_dwarf {
	Dwarf_Debug dbg;
	bool big_endian;
	int inflated_fd;  /* memfd of a zstd-inflated copy libdwarf reads (elf_inflate.h), or -1 */

	/* Scan cursor. scan_die is the next top-level DIE to index (owned), or
	 * NULL when the current unit is finished and the next one must be
	 * fetched. Once scan_done is set the index holds every top-level name
	 * of the file, so a miss is final. */
	Dwarf_Die scan_die;
	Dwarf_Off scan_last_off;
	bool scan_done;
	/* Units whose DIEs could not be walked to the end (corrupt DWARF).
	 * A miss after such damage is reported as CH_ERR_INPUT, not NOT_FOUND:
	 * the name might have been in the part we could not read. */
	unsigned scan_damaged;
	enum ch_error_kind scan_damage_kind; /* of the first damage */
	char scan_damage_msg[384];

	struct ch_arena arena;
	struct ch_map types;       /* (name, NS_*) -> DIE offset */
	struct ch_map resolved;    /* type name -> offset of its complete definition */
	struct ch_map members;     /* type "\0" path -> index into results */
	struct ch_member_result *results;
	size_t nresults, capresults;

	unsigned walk_budget; /* member DIEs left for the current path lookup */

	/* Enumerators are indexed lazily too: the scan queues every complete
	 * enumeration type it meets, and ch_dwarf_enumerator expands queued
	 * enums only until the wanted name appears. */
	struct ch_map enumerators; /* name -> (uint64_t)value */
	Dwarf_Off *enum_queue;
	size_t enum_head, enum_count, enum_cap;
};

static inline struct ch_error *ch_dw_nomem(void)
{
	return &ch_error_nomem;
}

/* Overflow-checked arithmetic on sizes and offsets read from the file: true
 * on overflow (then *r is untouched). */
static inline bool ch_dw_mul_ovf(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a && b > UINT64_MAX / a)
		return true;
	*r = a * b;
	return false;
}

static inline bool ch_dw_add_ovf(uint64_t a, uint64_t b, uint64_t *r)
{
	if (b > UINT64_MAX - a)
		return true;
	*r = a + b;
	return false;
}

/* ---------------------------------------------------------------------------
 * libdwarf calls: version compatibility, DIEs and attributes (dwarf_die.c).
 */

/* Wrappers over the calls whose signatures differ between libdwarf releases. */
int ch_dw_init(const char *path, Dwarf_Debug *dbg, Dwarf_Error *err);
void ch_dw_finish(Dwarf_Debug dbg);
int ch_dw_next_unit(Dwarf_Debug dbg, Dwarf_Die *unit_die, Dwarf_Error *err);
int ch_dw_sibling(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Die *next, Dwarf_Error *err);

struct ch_error *ch_dw_error(struct ch_dwarf *dw, Dwarf_Error derr, const char *what);
void ch_dw_die_free(Dwarf_Die die);
struct ch_error *ch_dw_die_at(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Die *out);
struct ch_error *ch_dw_die_tag(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half *tag);
struct ch_error *ch_dw_die_offset(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Off *off);
struct ch_error *ch_dw_die_name(struct ch_dwarf *dw, Dwarf_Die die, const char **name);

/* The children of a DIE, in order. Their offsets must increase, so a
 * corrupt sibling link cannot make a walk loop. Use:
 *   err = ch_dw_children_first(dw, parent, parent_off, &it, what);
 *   while (!err && it.child) {
 *       if ((err = ch_dw_children_check(dw, &it, &tag, &off))) break;
 *       ... it.child ...
 *       err = ch_dw_children_next(dw, &it);
 *   }
 *   ch_dw_children_end(&it);
 */
struct ch_dw_children {
	Dwarf_Die child;
	Dwarf_Off last;
	const char *what;
};

struct ch_error *ch_dw_children_first(struct ch_dwarf *dw, Dwarf_Die parent, Dwarf_Off parent_off,
				      struct ch_dw_children *it, const char *what);
struct ch_error *ch_dw_children_check(struct ch_dwarf *dw, struct ch_dw_children *it, Dwarf_Half *tag,
				      Dwarf_Off *off);
struct ch_error *ch_dw_children_next(struct ch_dwarf *dw, struct ch_dw_children *it);
void ch_dw_children_end(struct ch_dw_children *it);

/* Attribute readers. For the *present variants an absent attribute is not an
 * error: *present is false. */
struct ch_error *ch_dw_attr_get(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at,
				Dwarf_Attribute *attr);
struct ch_error *ch_dw_attr_form(struct ch_dwarf *dw, Dwarf_Attribute attr, Dwarf_Half *form);
struct ch_error *ch_dw_attr_const(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, int64_t *value,
				  bool *present, bool *is_constant);
struct ch_error *ch_dw_attr_udata(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, uint64_t *value,
				  bool *present);
struct ch_error *ch_dw_attr_flag(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, bool *value);
struct ch_error *ch_dw_attr_ref(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off,
				bool *present);

/* ---------------------------------------------------------------------------
 * Lazy index of top-level names (dwarf_index.c).
 */

/* What the current scan is looking for: stop when an entry named name in one
 * of ns_mask is added, or (want_enum) when an enumeration is queued. */
struct ch_dw_scan_goal {
	const char *name;
	size_t len;
	uint32_t ns_mask;
	bool want_enum;
};

/* Record damage (corrupt DWARF that cost part of the walk) and free err. */
void ch_dw_note_damage(struct ch_dwarf *dw, struct ch_error *err);
struct ch_error *ch_dw_scan_next_unit(struct ch_dwarf *dw);
struct ch_error *ch_dw_scan(struct ch_dwarf *dw, const struct ch_dw_scan_goal *goal, bool *hit);
/* The error for a name not found once the scan is done: NOT_FOUND, or INPUT
 * when damage means it might have been in the part that could not be read. */
struct ch_error *ch_dw_miss_error(struct ch_dwarf *dw, const char *what, const char *name);
struct ch_error *ch_dw_lookup_name(struct ch_dwarf *dw, const char *name, uint32_t ns_mask,
				   Dwarf_Off *off);

/* ---------------------------------------------------------------------------
 * Types: qualifiers, declarations, arrays, sizes (dwarf_type_resolve.c).
 */

/* Array dimensions of a DW_TAG_array_type. count[i] is 0 when unknown
 * (flexible array member, or a bound that is not a constant). */
struct ch_array {
	Dwarf_Off elem;
	unsigned ndims;
	uint64_t count[CH_MAX_DIMS];
	bool known[CH_MAX_DIMS];
};

bool ch_dw_is_aggregate(Dwarf_Half tag);
struct ch_error *ch_dw_complete_type(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Off *out, Dwarf_Half *tag);
struct ch_error *ch_dw_array_info(struct ch_dwarf *dw, Dwarf_Off off, struct ch_array *arr);
struct ch_error *ch_dw_array_tail_size(struct ch_dwarf *dw, const struct ch_array *arr, unsigned first,
				       int depth, uint64_t *size);
struct ch_error *ch_dw_type_size(struct ch_dwarf *dw, Dwarf_Off off, int depth, uint64_t *size);
struct ch_error *ch_dw_resolve_type_name(struct ch_dwarf *dw, const char *name, Dwarf_Off *out);

/* ---------------------------------------------------------------------------
 * Struct members (dwarf_member.c).
 */

/* A struct member as found by ch_dw_find_member. */
struct ch_member_info {
	Dwarf_Off type;
	uint64_t bit_offset; /* from the start of the searched struct */
	uint64_t bit_size;   /* 0 unless a bitfield */
};

struct ch_error *ch_dw_find_member(struct ch_dwarf *dw, Dwarf_Off off, const char *name, int depth,
				   struct ch_member_info *out, bool *found);

#endif
