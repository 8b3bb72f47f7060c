/* Struct layouts from DWARF via libdwarf (see dwarf_types.h for the contract).
 *
 * Design: lazy, resumable indexing. Opening a file only positions the walk on
 * the first unit (libdwarf then holds .debug_info and .debug_abbrev in memory,
 * decompressed if they were zlib-compressed; that load is most of the ~5-15 ms
 * an open of libpython costs). A lookup of a name not yet indexed walks units
 * in order and, inside each, only the top-level DIEs (children of the unit
 * DIE); dwarf_siblingof_b skips whole subtrees via DW_AT_sibling, so function
 * bodies are never entered. Every named struct/union/enum definition and every
 * typedef/base type seen on the way is put in a hash table (first one wins),
 * and the walk stops as soon as the requested name appears. The next miss
 * resumes where the previous walk stopped, so over a run each top-level DIE is
 * looked at at most once, and a run whose types all live in the first few
 * units never walks the rest of .debug_info. (A libdwarf walk costs ~0.3 us
 * per top-level DIE: a full walk of libpython 3.13, 240k top-level DIEs in
 * 175 units, takes ~70 ms, so a hand-written .debug_info scanner was not
 * worth its risk.)
 *
 * Results of ch_dwarf_member / ch_dwarf_array_length / ch_dwarf_type_size are
 * cached per (type name, path), including "not found" answers, so the
 * product's repeated queries cost one hash probe.
 *
 * Robustness: every libdwarf return code is checked and every error turned
 * into a struct ch_error; all chains (typedefs, anonymous members, array
 * dimensions, location expressions) are bounded; DIE walks require strictly
 * increasing offsets so a corrupt DW_AT_sibling cannot make a loop. What this
 * file cannot defend against is a crash inside libdwarf itself on hostile
 * input (20210528 predates several fuzzing fixes of the 0.x series).
 *
 * libdwarf API versions: written against Debian bookworm's 20210528. The 0.x
 * (and later) series identifies itself with DW_LIBDWARF_VERSION_MAJOR, which
 * 20210528 does not define; the few calls whose signatures differ are wrapped
 * in the "libdwarf compatibility" section below (dwarf_init_path lost its
 * access/reserved arguments, dwarf_finish lost its error argument, 0.9 added
 * dwarf_next_cu_header_e / dwarf_siblingof_c). Those #if branches follow the
 * published 0.x headers but are not compiled on bookworm.
 */
#include "readers/process/dwarf_types.h"
#include "readers/process/elf_inflate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dwarf.h>
#include <libdwarf.h>

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
 * libdwarf compatibility. Everything that differs between 20210528 and 0.x.
 */
#if defined(DW_LIBDWARF_VERSION_MAJOR)
#define CH_LIBDWARF_0X 1
#if DW_LIBDWARF_VERSION_MAJOR > 0 || DW_LIBDWARF_VERSION_MINOR >= 9
#define CH_LIBDWARF_HAS_CU_HEADER_E 1
#endif
#else
#define CH_LIBDWARF_0X 0
#endif

static int ch_dw_init(const char *path, Dwarf_Debug *dbg, Dwarf_Error *err)
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

static void ch_dw_finish(Dwarf_Debug dbg)
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
static int ch_dw_next_unit(Dwarf_Debug dbg, Dwarf_Die *unit_die, Dwarf_Error *err)
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

static int ch_dw_sibling(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Die *next, Dwarf_Error *err)
{
#if defined(CH_LIBDWARF_HAS_CU_HEADER_E)
	(void)dbg;
	return dwarf_siblingof_c(die, next, err);
#else
	return dwarf_siblingof_b(dbg, die, 1, next, err);
#endif
}

/* ---------------------------------------------------------------------------
 * Arena for strings and hash table of (key, namespace) -> 64-bit value.
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

static char *arena_copy(struct ch_arena *a, const char *s, size_t len)
{
	struct ch_arena_block *b = a->head;
	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > 65536 ? len + 1 : 65536;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

static void arena_free(struct ch_arena *a)
{
	while (a->head) {
		struct ch_arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

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

static uint32_t map_hash(const char *key, size_t len, uint32_t ns)
{
	uint32_t h = 2166136261u ^ ns;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
}

static struct ch_map_slot *map_find(const struct ch_map *m, const char *key, size_t len, uint32_t ns)
{
	if (!m->cap || len > UINT32_MAX)
		return NULL;
	uint32_t h = map_hash(key, len, ns);
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct ch_map_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && s->len == len && s->ns == ns && memcmp(s->key, key, len) == 0)
			return s;
	}
}

static bool map_grow(struct ch_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 256;
	struct ch_map_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return false;
	for (size_t i = 0; i < m->cap; i++) {
		struct ch_map_slot *s = &m->slots[i];
		if (!s->key)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return true;
}

/* Insert a new key (the caller has checked it is absent); the key is copied
 * into the arena. Returns NULL on allocation failure. */
static struct ch_map_slot *map_insert(struct ch_map *m, struct ch_arena *arena, const char *key,
				      size_t len, uint32_t ns, uint64_t value)
{
	if (len > UINT32_MAX)
		return NULL;
	if ((m->count + 1) * 4 > m->cap * 3 && !map_grow(m))
		return NULL;
	char *copy = arena_copy(arena, key, len);
	if (!copy)
		return NULL;
	uint32_t h = map_hash(key, len, ns);
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = (struct ch_map_slot){copy, (uint32_t)len, h, ns, value};
	m->count++;
	return &m->slots[i];
}

/* ---------------------------------------------------------------------------
 * The handle.
 */

/* Namespaces of the type index. NS_TAG: struct/union/enum tags, complete
 * definitions only. NS_ORD: typedef and base type names (their targets may
 * be incomplete in the unit that happened to come first; resolution then
 * continues by tag, see complete_type). */
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

static struct ch_error *nomem(void)
{
	return &ch_error_nomem;
}

/* Turn a libdwarf error into ours and free it. Mostly CH_ERR_INPUT; a
 * compressed section libdwarf cannot decompress (20210528 knows zlib only,
 * not zstd) is CH_ERR_UNSUPPORTED: the file is fine, the reader is not. */
static struct ch_error *dw_error(struct ch_dwarf *dw, Dwarf_Error derr, const char *what)
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

static void die_free(Dwarf_Die die)
{
	if (die)
		dwarf_dealloc_die(die);
}

static struct ch_error *die_at(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Die *out)
{
	Dwarf_Error derr = NULL;
	*out = NULL;
	int res = dwarf_offdie_b(dw->dbg, off, 1, out, &derr);
	if (res == DW_DLV_OK)
		return NULL;
	if (res == DW_DLV_ERROR)
		return dw_error(dw, derr, "reading DIE");
	return ch_error_new(CH_ERR_INPUT, "no DIE at .debug_info offset 0x%llx",
			    (unsigned long long)off);
}

static struct ch_error *die_tag(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half *tag)
{
	Dwarf_Error derr = NULL;
	if (dwarf_tag(die, tag, &derr) != DW_DLV_OK)
		return dw_error(dw, derr, "reading DIE tag");
	return NULL;
}

static struct ch_error *die_offset(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Off *off)
{
	Dwarf_Error derr = NULL;
	if (dwarf_dieoffset(die, off, &derr) != DW_DLV_OK)
		return dw_error(dw, derr, "reading DIE offset");
	return NULL;
}

/* *name is NULL for an anonymous DIE. The string belongs to libdwarf and is
 * valid until ch_dwarf_close. */
static struct ch_error *die_name(struct ch_dwarf *dw, Dwarf_Die die, const char **name)
{
	Dwarf_Error derr = NULL;
	char *n = NULL;
	int res = dwarf_diename(die, &n, &derr);
	*name = NULL;
	if (res == DW_DLV_ERROR)
		return dw_error(dw, derr, "reading DW_AT_name");
	if (res == DW_DLV_OK)
		*name = n;
	return NULL;
}

/* *attr is NULL when the attribute is absent. Free with dwarf_dealloc_attribute. */
/* The children of a DIE, in order. Their offsets must increase, so a
 * corrupt sibling link cannot make a walk loop. Use:
 *   err = children_first(dw, parent, parent_off, &it, what);
 *   while (!err && it.child) {
 *       if ((err = children_check(dw, &it, &tag, &off))) break;
 *       ... it.child ...
 *       err = children_next(dw, &it);
 *   }
 *   children_end(&it);                                                   */
struct die_children {
	Dwarf_Die child;
	Dwarf_Off last;
	const char *what;
};

static struct ch_error *children_first(struct ch_dwarf *dw, Dwarf_Die parent, Dwarf_Off parent_off,
				       struct die_children *it, const char *what)
{
	it->child = NULL;
	it->last = parent_off;
	it->what = what;
	Dwarf_Error derr = NULL;
	if (dwarf_child(parent, &it->child, &derr) == DW_DLV_ERROR) {
		it->child = NULL;
		return dw_error(dw, derr, what);
	}
	return NULL;
}

static struct ch_error *children_check(struct ch_dwarf *dw, struct die_children *it, Dwarf_Half *tag,
				       Dwarf_Off *off)
{
	struct ch_error *err;
	if ((err = die_tag(dw, it->child, tag)) || (err = die_offset(dw, it->child, off)))
		return err;
	if (*off <= it->last)
		return ch_error_new(CH_ERR_INPUT, "DIE order broken at 0x%llx", (unsigned long long)*off);
	it->last = *off;
	return NULL;
}

static struct ch_error *children_next(struct ch_dwarf *dw, struct die_children *it)
{
	Dwarf_Die next = NULL;
	Dwarf_Error derr = NULL;
	int res = ch_dw_sibling(dw->dbg, it->child, &next, &derr);
	die_free(it->child);
	it->child = res == DW_DLV_OK ? next : NULL;
	return res == DW_DLV_ERROR ? dw_error(dw, derr, it->what) : NULL;
}

static void children_end(struct die_children *it)
{
	die_free(it->child);
	it->child = NULL;
}

static struct ch_error *attr_get(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at,
				 Dwarf_Attribute *attr)
{
	Dwarf_Error derr = NULL;
	*attr = NULL;
	int res = dwarf_attr(die, at, attr, &derr);
	if (res == DW_DLV_ERROR)
		return dw_error(dw, derr, "reading attribute");
	if (res == DW_DLV_NO_ENTRY)
		*attr = NULL;
	return NULL;
}

static struct ch_error *attr_form(struct ch_dwarf *dw, Dwarf_Attribute attr, Dwarf_Half *form)
{
	Dwarf_Error derr = NULL;
	if (dwarf_whatform(attr, form, &derr) != DW_DLV_OK)
		return dw_error(dw, derr, "reading attribute form");
	return NULL;
}

/* The attribute `at` of die and its form. *present is false (and *attr
 * NULL) when the DIE lacks it; on error the attribute is released. */
static struct ch_error *attr_get_form(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *attr,
				      Dwarf_Half *form, bool *present)
{
	*present = false;
	struct ch_error *err = attr_get(dw, die, at, attr);
	if (err || !*attr)
		return err;
	*present = true;
	err = attr_form(dw, *attr, form);
	if (err) {
		dwarf_dealloc_attribute(*attr);
		*attr = NULL;
	}
	return err;
}

/* A constant-class attribute as a signed value. DW_FORM_sdata is signed;
 * data1..8/udata are zero-extended, the convention GCC relies on (it emits
 * sdata for every negative value) and GDB/elfutils follow. */
static struct ch_error *attr_const(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, int64_t *value,
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
			err = dw_error(dw, derr, "reading signed constant");
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
			err = dw_error(dw, derr, "reading constant");
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
static struct ch_error *attr_udata(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, uint64_t *value,
				   bool *present)
{
	int64_t v = 0;
	bool is_constant = false;
	struct ch_error *err = attr_const(dw, die, at, &v, present, &is_constant);
	if (err || !*present)
		return err;
	if (!is_constant || v < 0)
		return ch_error_new(CH_ERR_INPUT, "attribute 0x%x is not a non-negative constant",
				    (unsigned)at);
	*value = (uint64_t)v;
	return NULL;
}

static struct ch_error *attr_flag(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, bool *value)
{
	Dwarf_Attribute attr = NULL;
	struct ch_error *err = attr_get(dw, die, at, &attr);
	*value = false;
	if (err || !attr)
		return err;
	Dwarf_Error derr = NULL;
	Dwarf_Bool b = 0;
	if (dwarf_formflag(attr, &b, &derr) != DW_DLV_OK)
		err = dw_error(dw, derr, "reading flag");
	else
		*value = b != 0;
	dwarf_dealloc_attribute(attr);
	return err;
}

/* A reference attribute as a global .debug_info offset; absent -> *present
 * false. References into other files or sections are refused explicitly
 * rather than misread as .debug_info offsets. */
static struct ch_error *attr_ref(struct ch_dwarf *dw, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off,
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
			err = dw_error(dw, derr, "reading reference");
		break;
	}
	dwarf_dealloc_attribute(attr);
	return err;
}

/* ---------------------------------------------------------------------------
 * Lazy index of top-level names.
 */

/* What the current scan is looking for: stop when an entry named name in one
 * of ns_mask is added, or (want_enum) when an enumeration is queued. */
struct scan_goal {
	const char *name;
	size_t len;
	uint32_t ns_mask;
	bool want_enum;
};

static void note_damage(struct ch_dwarf *dw, struct ch_error *err)
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
			return nomem();
		dw->enum_queue = q;
		dw->enum_cap = ncap;
	}
	dw->enum_queue[dw->enum_count++] = off;
	return NULL;
}

/* Index one top-level DIE. */
static struct ch_error *index_die(struct ch_dwarf *dw, Dwarf_Die die, const struct scan_goal *goal,
				  bool *hit)
{
	Dwarf_Half tag = 0;
	struct ch_error *err = die_tag(dw, die, &tag);
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
		err = attr_flag(dw, die, DW_AT_declaration, &decl);
		if (err || decl)
			return err;
	}
	const char *name;
	Dwarf_Off off = 0;
	if ((err = die_name(dw, die, &name)) || (err = die_offset(dw, die, &off)))
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
	if (map_find(&dw->types, name, len, ns))
		return NULL; /* first definition wins */
	if (!map_insert(&dw->types, &dw->arena, name, len, ns, off))
		return nomem();
	if (goal->name && (goal->ns_mask & ns) && goal->len == len && memcmp(goal->name, name, len) == 0)
		*hit = true;
	return NULL;
}

/* Fetch the next unit and position the cursor on its first child. */
static struct ch_error *scan_next_unit(struct ch_dwarf *dw)
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
		note_damage(dw, dw_error(dw, derr, "reading compile unit header"));
		return NULL;
	}
	if (!unit)
		return NULL; /* empty unit */
	Dwarf_Die child = NULL;
	res = dwarf_child(unit, &child, &derr);
	die_free(unit);
	if (res == DW_DLV_ERROR) {
		note_damage(dw, dw_error(dw, derr, "reading first DIE of unit"));
		return NULL;
	}
	if (res == DW_DLV_OK) {
		Dwarf_Off off = 0;
		struct ch_error *err = die_offset(dw, child, &off);
		if (err) {
			die_free(child);
			note_damage(dw, err);
			return NULL;
		}
		dw->scan_die = child;
		dw->scan_last_off = off;
	}
	return NULL;
}

/* Walk top-level DIEs until goal is met (*hit) or every unit is indexed.
 * Damage inside a unit costs the rest of that unit, not the scan. */
static struct ch_error *scan(struct ch_dwarf *dw, const struct scan_goal *goal, bool *hit)
{
	*hit = false;
	while (!dw->scan_done) {
		if (!dw->scan_die) {
			struct ch_error *err = scan_next_unit(dw);
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
			note_damage(dw, err);
		}
		Dwarf_Die next = NULL;
		Dwarf_Error derr = NULL;
		int res = ch_dw_sibling(dw->dbg, die, &next, &derr);
		die_free(die);
		dw->scan_die = NULL;
		if (res == DW_DLV_ERROR) {
			note_damage(dw, dw_error(dw, derr, "walking top-level DIEs"));
		} else if (res == DW_DLV_OK) {
			Dwarf_Off off = 0;
			err = die_offset(dw, next, &off);
			if (!err && off <= dw->scan_last_off)
				err = ch_error_new(CH_ERR_INPUT, "DW_AT_sibling does not move forward at 0x%llx",
						   (unsigned long long)off);
			if (err) {
				die_free(next);
				note_damage(dw, err);
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

static struct ch_error *miss_error(struct ch_dwarf *dw, const char *what, const char *name)
{
	if (dw->scan_damaged)
		return ch_error_new(CH_ERR_INPUT, "%s %s not found, and %u part(s) of the DWARF could not be read (%s)",
				    what, name, dw->scan_damaged, dw->scan_damage_msg);
	return ch_error_new(CH_ERR_NOT_FOUND, "%s %s not found in DWARF", what, name);
}

/* Look name up in the given namespaces, scanning further if needed. Tags are
 * preferred when both are known: a tag entry is always a complete definition. */
static struct ch_error *lookup_name(struct ch_dwarf *dw, const char *name, uint32_t ns_mask,
				    Dwarf_Off *off)
{
	size_t len = strlen(name);
	for (;;) {
		struct ch_map_slot *s = NULL;
		if (ns_mask & NS_TAG)
			s = map_find(&dw->types, name, len, NS_TAG);
		if (!s && (ns_mask & NS_ORD))
			s = map_find(&dw->types, name, len, NS_ORD);
		if (s) {
			*off = s->value;
			return NULL;
		}
		if (dw->scan_done)
			return miss_error(dw, "type", name);
		struct scan_goal goal = {name, len, ns_mask, false};
		bool hit = false;
		struct ch_error *err = scan(dw, &goal, &hit);
		if (err)
			return err;
	}
}

/* ---------------------------------------------------------------------------
 * Types.
 */

static bool is_qualifier(Dwarf_Half tag)
{
	return tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type ||
	       tag == DW_TAG_immutable_type || tag == DW_TAG_shared_type;
}

static bool is_aggregate(Dwarf_Half tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type;
}

/* Follow typedefs and qualifiers from off. *tag is the tag of the final DIE
 * (a qualifier without DW_AT_type, i.e. "const void", stays a qualifier). */
static struct ch_error *strip_type(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Off *out, Dwarf_Half *tag)
{
	for (int i = 0; i < CH_MAX_TYPE_CHAIN; i++) {
		Dwarf_Die die = NULL;
		struct ch_error *err = die_at(dw, off, &die);
		if (err)
			return err;
		err = die_tag(dw, die, tag);
		if (!err && is_qualifier(*tag)) {
			bool present = false;
			Dwarf_Off next = 0;
			err = attr_ref(dw, die, DW_AT_type, &next, &present);
			if (!err && present) {
				die_free(die);
				off = next;
				continue;
			}
		}
		die_free(die);
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
static struct ch_error *complete_type(struct ch_dwarf *dw, Dwarf_Off off, Dwarf_Off *out, Dwarf_Half *tag)
{
	struct ch_error *err = strip_type(dw, off, &off, tag);
	if (err)
		return err;
	if (!is_aggregate(*tag) && *tag != DW_TAG_enumeration_type) {
		*out = off;
		return NULL;
	}
	Dwarf_Die die = NULL;
	if ((err = die_at(dw, off, &die)))
		return err;
	bool decl = false;
	const char *name = NULL;
	err = attr_flag(dw, die, DW_AT_declaration, &decl);
	if (!err && decl)
		err = die_name(dw, die, &name);
	if (err || !decl) {
		die_free(die);
		*out = off;
		return err;
	}
	if (!name) {
		die_free(die);
		return ch_error_new(CH_ERR_NOT_FOUND, "anonymous type at 0x%llx is only declared",
				    (unsigned long long)off);
	}
	/* The DIE stays allocated during the lookup: name belongs to it. */
	Dwarf_Off def = 0;
	err = lookup_name(dw, name, NS_TAG, &def);
	if (err && err->kind == CH_ERR_NOT_FOUND) {
		ch_error_free(err);
		err = ch_error_new(CH_ERR_NOT_FOUND, "%s is declared but never defined in DWARF", name);
	}
	die_free(die);
	if (err)
		return err;
	return strip_type(dw, def, out, tag);
}

/* Array dimensions of a DW_TAG_array_type. count[i] is 0 when unknown
 * (flexible array member, or a bound that is not a constant). */
struct ch_array {
	Dwarf_Off elem;
	unsigned ndims;
	uint64_t count[CH_MAX_DIMS];
	bool known[CH_MAX_DIMS];
};

static struct ch_error *array_info(struct ch_dwarf *dw, Dwarf_Off off, struct ch_array *arr)
{
	Dwarf_Die die = NULL;
	struct ch_error *err = die_at(dw, off, &die);
	if (err)
		return err;
	memset(arr, 0, sizeof(*arr));
	bool present = false;
	err = attr_ref(dw, die, DW_AT_type, &arr->elem, &present);
	if (!err && !present)
		err = ch_error_new(CH_ERR_INPUT, "array type at 0x%llx has no element type",
				   (unsigned long long)off);
	struct die_children it = {0};
	if (!err)
		err = children_first(dw, die, off, &it, "reading array dimensions");
	die_free(die);
	while (!err && it.child) {
		Dwarf_Half tag = 0;
		Dwarf_Off coff = 0;
		if ((err = children_check(dw, &it, &tag, &coff)))
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
			err = attr_const(dw, child, DW_AT_count, &v, &present, &is_const);
			if (!err && present) {
				if (is_const && v >= 0) {
					arr->count[d] = (uint64_t)v;
					arr->known[d] = true;
				}
			} else if (!err) {
				err = attr_const(dw, child, DW_AT_upper_bound, &v, &present, &is_const);
				bool lpresent = false, lconst = false;
				if (!err && present && is_const)
					err = attr_const(dw, child, DW_AT_lower_bound, &lower, &lpresent, &lconst);
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
		err = children_next(dw, &it);
	}
	children_end(&it);
	if (!err && arr->ndims == 0) {
		/* No subrange: a C array of unknown size. */
		arr->ndims = 1;
	}
	return err;
}

static bool mul_ovf(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a && b > UINT64_MAX / a)
		return true;
	*r = a * b;
	return false;
}

static bool add_ovf(uint64_t a, uint64_t b, uint64_t *r)
{
	if (b > UINT64_MAX - a)
		return true;
	*r = a + b;
	return false;
}

static struct ch_error *type_size(struct ch_dwarf *dw, Dwarf_Off off, int depth, uint64_t *size);

/* Bytes taken by dimensions [first, ndims) of arr. */
static struct ch_error *array_tail_size(struct ch_dwarf *dw, const struct ch_array *arr, unsigned first,
					int depth, uint64_t *size)
{
	uint64_t s = 0;
	struct ch_error *err = type_size(dw, arr->elem, depth + 1, &s);
	if (err)
		return err;
	for (unsigned i = first; i < arr->ndims; i++)
		if (mul_ovf(s, arr->count[i], &s))
			return ch_error_new(CH_ERR_INPUT, "array size overflows");
	*size = s;
	return NULL;
}

/* sizeof the type at off. depth bounds arrays of arrays of typedefs... */
static struct ch_error *type_size(struct ch_dwarf *dw, Dwarf_Off off, int depth, uint64_t *size)
{
	if (depth > CH_MAX_TYPE_CHAIN)
		return ch_error_new(CH_ERR_INPUT, "type nesting too deep at 0x%llx", (unsigned long long)off);
	Dwarf_Half tag = 0;
	struct ch_error *err = complete_type(dw, off, &off, &tag);
	if (err)
		return err;
	if (tag == DW_TAG_array_type) {
		/* Prefer an explicit DW_AT_byte_size; else elements * count. */
		Dwarf_Die die = NULL;
		if ((err = die_at(dw, off, &die)))
			return err;
		bool present = false;
		err = attr_udata(dw, die, DW_AT_byte_size, size, &present);
		die_free(die);
		if (err || present)
			return err;
		struct ch_array arr = {0};
		if ((err = array_info(dw, off, &arr)))
			return err;
		return array_tail_size(dw, &arr, 0, depth, size);
	}
	Dwarf_Die die = NULL;
	if ((err = die_at(dw, off, &die)))
		return err;
	bool present = false;
	err = attr_udata(dw, die, DW_AT_byte_size, size, &present);
	if (!err && !present) {
		if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
		    tag == DW_TAG_rvalue_reference_type) {
			Dwarf_Half asize = 0;
			Dwarf_Error derr = NULL;
			if (dwarf_get_die_address_size(die, &asize, &derr) != DW_DLV_OK)
				err = dw_error(dw, derr, "reading address size");
			else
				*size = asize;
		} else {
			err = ch_error_new(CH_ERR_NOT_FOUND, "type at 0x%llx (tag 0x%x) has no size",
					   (unsigned long long)off, (unsigned)tag);
		}
	}
	die_free(die);
	return err;
}

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
			if (add_ovf(stack[sp - 1], v, &stack[sp - 1]))
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
			if (add_ovf(stack[sp - 1], stack[sp], &stack[sp - 1]))
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
	struct ch_error *err = attr_get(dw, m, DW_AT_data_member_location, &attr);
	*out = 0;
	if (err || !attr)
		return err;
	Dwarf_Half form = 0;
	Dwarf_Error derr = NULL;
	err = attr_form(dw, attr, &form);
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
			err = dw_error(dw, derr, "reading DW_AT_data_member_location");
		else
			*out = u;
		break;
	}
	case DW_FORM_sdata:
	case DW_FORM_implicit_const: {
		Dwarf_Signed s = 0;
		if (dwarf_formsdata(attr, &s, &derr) != DW_DLV_OK)
			err = dw_error(dw, derr, "reading DW_AT_data_member_location");
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
			err = dw_error(dw, derr, "reading DW_AT_data_member_location");
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
			err = dw_error(dw, derr, "reading DW_AT_data_member_location");
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

/* A struct member as found by find_member. */
struct ch_member_info {
	Dwarf_Off type;
	uint64_t bit_offset; /* from the start of the searched struct */
	uint64_t bit_size;   /* 0 unless a bitfield */
};

/* Offset (bits, little-endian numbering) and bitfield width of member m. */
static struct ch_error *member_location(struct ch_dwarf *dw, Dwarf_Die m, Dwarf_Off type,
					uint64_t *bits, uint64_t *bit_size)
{
	bool present = false;
	uint64_t v = 0;
	struct ch_error *err = attr_udata(dw, m, DW_AT_bit_size, bit_size, &present);
	if (err)
		return err;
	if (!present)
		*bit_size = 0;
	if (*bit_size && dw->big_endian)
		return ch_error_new(CH_ERR_UNSUPPORTED, "bitfields of big-endian targets are not supported");
	/* DWARF 4+: DW_AT_data_bit_offset counts from the start of the struct. */
	if ((err = attr_udata(dw, m, DW_AT_data_bit_offset, &v, &present)))
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
	if ((err = attr_const(dw, m, DW_AT_bit_offset, &bit_off, &present, &is_const)))
		return err;
	if (!present)
		return NULL;
	if (!is_const || !*bit_size)
		return ch_error_new(CH_ERR_INPUT, "malformed legacy bitfield");
	uint64_t storage = 0;
	if ((err = attr_udata(dw, m, DW_AT_byte_size, &storage, &present)))
		return err;
	if (!present && (err = type_size(dw, type, 0, &storage)))
		return err;
	/* Storage units are at most a few words; bounding them keeps the
	 * arithmetic below far from overflow on hostile input. */
	if (storage == 0 || storage > 64 || bit_off < 0 || *bit_size > storage * 8 ||
	    (uint64_t)bit_off > storage * 8 - *bit_size)
		return ch_error_new(CH_ERR_INPUT, "bitfield outside its storage unit");
	uint64_t low = storage * 8 - (uint64_t)bit_off - *bit_size;
	if (add_ovf(*bits, low, bits))
		return ch_error_new(CH_ERR_INPUT, "member offset overflows");
	return NULL;
}

/* Search struct/union off (complete) for a member called name, looking
 * through anonymous struct/union members (C11) up to CH_MAX_ANON_DEPTH. */
static struct ch_error *find_member(struct ch_dwarf *dw, Dwarf_Off off, const char *name, int depth,
				    struct ch_member_info *out, bool *found)
{
	*found = false;
	Dwarf_Die die = NULL;
	struct ch_error *err = die_at(dw, off, &die);
	if (err)
		return err;
	struct die_children it;
	err = children_first(dw, die, off, &it, "reading struct members");
	die_free(die);
	while (!err && it.child) {
		Dwarf_Half tag = 0;
		Dwarf_Off coff = 0;
		if ((err = children_check(dw, &it, &tag, &coff)))
			break;
		Dwarf_Die child = it.child;
		if (dw->walk_budget == 0) {
			err = ch_error_new(CH_ERR_INPUT, "member search too large (corrupt DWARF?)");
			break;
		}
		dw->walk_budget--;
		const char *mname = NULL;
		if (tag == DW_TAG_member && (err = die_name(dw, child, &mname)))
			break;
		/* Only the wanted member and anonymous ones need their type. */
		if (tag == DW_TAG_member && (!mname || strcmp(mname, name) == 0)) {
			Dwarf_Off mtype = 0;
			bool present = false;
			if ((err = attr_ref(dw, child, DW_AT_type, &mtype, &present)))
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
				if ((err = complete_type(dw, mtype, &inner, &itag)))
					break;
				if (is_aggregate(itag)) {
					struct ch_member_info sub = {0};
					bool subfound = false;
					err = find_member(dw, inner, name, depth + 1, &sub, &subfound);
					if (!err && subfound) {
						uint64_t base = 0, bsize = 0;
						err = member_location(dw, child, mtype, &base, &bsize);
						if (!err && add_ovf(base, sub.bit_offset, &sub.bit_offset))
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
		err = children_next(dw, &it);
	}
	children_end(&it);
	return err;
}

/* Type name -> offset of its complete definition, cached. */
static struct ch_error *resolve_type_name(struct ch_dwarf *dw, const char *name, Dwarf_Off *out)
{
	size_t len = strlen(name);
	struct ch_map_slot *s = map_find(&dw->resolved, name, len, 0);
	if (s) {
		*out = s->value;
		return NULL;
	}
	Dwarf_Off off = 0;
	Dwarf_Half tag = 0;
	struct ch_error *err = lookup_name(dw, name, NS_TAG | NS_ORD, &off);
	if (!err)
		err = complete_type(dw, off, out, &tag);
	if (err)
		return err;
	if (!map_insert(&dw->resolved, &dw->arena, name, len, 0, *out))
		return nomem();
	return NULL;
}

/* ---------------------------------------------------------------------------
 * Member paths.
 */

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
	struct ch_error *err = resolve_type_name(dw, type_name, &cur);
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
				if (mul_ovf(idx, 10, &idx) || add_ovf(idx, (uint64_t)(*p - '0'), &idx))
					return ch_error_new(CH_ERR_USAGE, "array index too large in \"%s\"", path);
			p++;
			if (dims_used == 0) {
				Dwarf_Half tag = 0;
				if ((err = complete_type(dw, cur, &cur, &tag)))
					return err;
				if (tag != DW_TAG_array_type)
					return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: indexing a non-array",
							    type_name, path);
				if ((err = array_info(dw, cur, &arr)))
					return err;
			}
			if (arr.known[dims_used] && idx >= arr.count[dims_used])
				return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: index %llu out of range (%llu)",
						    type_name, path, (unsigned long long)idx,
						    (unsigned long long)arr.count[dims_used]);
			uint64_t stride = 0, delta = 0;
			if ((err = array_tail_size(dw, &arr, dims_used + 1, 0, &stride)))
				return err;
			if (mul_ovf(stride, 8, &stride) || mul_ovf(stride, idx, &delta) ||
			    add_ovf(bits, delta, &bits))
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
		if ((err = complete_type(dw, cur, &cur, &tag)))
			return err;
		if (!is_aggregate(tag))
			return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: %s is not inside a struct or union",
					    type_name, path, name);
		struct ch_member_info mi = {0};
		bool found = false;
		if ((err = find_member(dw, cur, name, 0, &mi, &found)))
			return err;
		if (!found)
			return ch_error_new(CH_ERR_NOT_FOUND, "%s.%s: no member %s", type_name, path, name);
		if (add_ovf(bits, mi.bit_offset, &bits))
			return ch_error_new(CH_ERR_INPUT, "%s.%s: offset overflows", type_name, path);
		cur = mi.type;
		bit_size = mi.bit_size;
	}

	r->offset_bits = bits;
	if (dims_used) {
		/* Partially indexed multi-dimensional array. */
		uint64_t s = 0;
		if ((err = array_tail_size(dw, &arr, dims_used, 0, &s)))
			return err;
		if (mul_ovf(s, 8, &r->size_bits))
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
	if ((err = type_size(dw, cur, 0, &s)))
		return err;
	if (mul_ovf(s, 8, &r->size_bits))
		return ch_error_new(CH_ERR_INPUT, "size overflows");
	Dwarf_Half tag = 0;
	if ((err = complete_type(dw, cur, &cur, &tag)))
		return err;
	if (tag == DW_TAG_array_type) {
		if ((err = array_info(dw, cur, &arr)))
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
	struct ch_map_slot *s = map_find(&dw->members, key, klen, 0);
	if (s) {
		r = &dw->results[s->value];
	} else {
		struct ch_member_result tmp = {0};
		struct ch_error *err = walk_path(dw, type_name, path, &tmp);
		if (err && err->kind != CH_ERR_NOT_FOUND)
			return err; /* not cached: input/usage errors are not answers */
		if (err) {
			tmp.err_kind = err->kind;
			tmp.err_msg = arena_copy(&dw->arena, err->message, strlen(err->message));
			if (!tmp.err_msg)
				return err; /* could not cache; still report */
			ch_error_free(err);
		}
		if (dw->nresults == dw->capresults) {
			size_t ncap = dw->capresults ? dw->capresults * 2 : 64;
			struct ch_member_result *nr = realloc(dw->results, ncap * sizeof(*nr));
			if (!nr)
				return nomem();
			dw->results = nr;
			dw->capresults = ncap;
		}
		dw->results[dw->nresults] = tmp;
		if (!map_insert(&dw->members, &dw->arena, key, klen, 0, dw->nresults))
			return nomem();
		r = &dw->results[dw->nresults++];
	}
	if (r->err_kind)
		return ch_error_new(r->err_kind, "%s", r->err_msg);
	*out = r;
	return NULL;
}

/* ---------------------------------------------------------------------------
 * Enumerators.
 */

/* Add the enumerators of the enum at off. If its first enumerator is already
 * known the enum is a copy from another unit (every unit including a header
 * repeats its enums) and is skipped after reading one child. */
static struct ch_error *expand_enum(struct ch_dwarf *dw, Dwarf_Off off)
{
	Dwarf_Die die = NULL;
	struct ch_error *err = die_at(dw, off, &die);
	if (err)
		return err;
	struct die_children it;
	err = children_first(dw, die, off, &it, "reading enumerators");
	die_free(die);
	bool first = true;
	while (!err && it.child) {
		Dwarf_Half tag = 0;
		Dwarf_Off coff = 0;
		if ((err = children_check(dw, &it, &tag, &coff)))
			break;
		Dwarf_Die child = it.child;
		if (tag == DW_TAG_enumerator) {
			const char *name;
			int64_t v = 0;
			bool present = false, is_const = false;
			if ((err = die_name(dw, child, &name)))
				break;
			if (name) {
				size_t len = strlen(name);
				if (map_find(&dw->enumerators, name, len, 0)) {
					if (first)
						break; /* duplicate enum */
				} else {
					err = attr_const(dw, child, DW_AT_const_value, &v, &present, &is_const);
					if (err)
						break;
					if (present && is_const &&
					    !map_insert(&dw->enumerators, &dw->arena, name, len, 0, (uint64_t)v)) {
						err = nomem();
						break;
					}
				}
			}
			first = false;
		}
		err = children_next(dw, &it);
	}
	children_end(&it);
	return err;
}

/* ---------------------------------------------------------------------------
 * Public API.
 */

struct ch_error *ch_dwarf_open(const char *path, struct ch_dwarf **out)
{
	if (!path || !out)
		return ch_error_new(CH_ERR_USAGE, "ch_dwarf_open: NULL argument");
	*out = NULL;

	/* Check for ELF ourselves: libdwarf also accepts Mach-O and PE, and
	 * its "no entry" answer does not distinguish "not an object file" from
	 * "no DWARF in it". */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ch_error_new(CH_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	unsigned char ident[16];
	ssize_t got = -1;
	int saved = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		got = read(fd, ident, sizeof(ident));
		saved = errno;
	} else {
		saved = errno ? errno : EINVAL;
	}
	close(fd);
	if (got < 0)
		return ch_error_new(CH_ERR_INPUT, "cannot read %s: %s", path,
				    S_ISREG(st.st_mode) ? strerror(saved) : "not a regular file");
	if (got < (ssize_t)sizeof(ident) || memcmp(ident, "\177ELF", 4) != 0)
		return ch_error_new(CH_ERR_INPUT, "%s is not an ELF file", path);
	if (ident[5] != 1 && ident[5] != 2)
		return ch_error_new(CH_ERR_INPUT, "%s: bad ELF data encoding", path);

	struct ch_dwarf *dw = calloc(1, sizeof(*dw));
	if (!dw)
		return nomem();
	dw->big_endian = ident[5] == 2;
	dw->inflated_fd = -1;
	/* zstd sections: libdwarf reads an inflated copy instead. */
	char inflated[64];
	const char *dwarf_path = path;
	struct ch_error *ierr = ch_elf_inflate_zstd(path, &dw->inflated_fd);
	if (ierr) {
		free(dw);
		return ierr;
	}
	if (dw->inflated_fd >= 0) {
		snprintf(inflated, sizeof(inflated), "/proc/self/fd/%d", dw->inflated_fd);
		dwarf_path = inflated;
	}
	Dwarf_Error derr = NULL;
	int res = ch_dw_init(dwarf_path, &dw->dbg, &derr);
	if (res != DW_DLV_OK) {
		struct ch_error *err;
		if (res == DW_DLV_NO_ENTRY)
			err = ch_error_new(CH_ERR_NOT_FOUND, "%s has no DWARF debug information", path);
		else
			err = ch_error_prefix(dw_error(NULL, derr, "reading DWARF"), "%s", path);
		if (dw->inflated_fd >= 0)
			close(dw->inflated_fd);
		free(dw);
		return err;
	}
	/* Fetch the first unit now: a file with, say, only .eh_frame or
	 * .debug_line opens fine in libdwarf but has no types. */
	struct ch_error *err = scan_next_unit(dw);
	if (!err && dw->scan_done) {
		if (dw->scan_damaged)
			err = ch_error_new(dw->scan_damage_kind, "%s: %s", path, dw->scan_damage_msg);
		else
			err = ch_error_new(CH_ERR_NOT_FOUND, "%s has no .debug_info", path);
	}
	if (err) {
		ch_dwarf_close(dw);
		return err;
	}
	*out = dw;
	return NULL;
}

void ch_dwarf_close(struct ch_dwarf *dw)
{
	if (!dw)
		return;
	die_free(dw->scan_die);
	if (dw->dbg)
		ch_dw_finish(dw->dbg);
	if (dw->inflated_fd >= 0)
		close(dw->inflated_fd);
	free(dw->types.slots);
	free(dw->resolved.slots);
	free(dw->members.slots);
	free(dw->enumerators.slots);
	free(dw->results);
	free(dw->enum_queue);
	arena_free(&dw->arena);
	free(dw);
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

struct ch_error *ch_dwarf_enumerator(struct ch_dwarf *dw, const char *name, int64_t *value)
{
	if (!dw || !name)
		return ch_error_new(CH_ERR_USAGE, "ch_dwarf_enumerator: NULL argument");
	size_t len = strlen(name);
	for (;;) {
		struct ch_map_slot *s = map_find(&dw->enumerators, name, len, 0);
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
				note_damage(dw, err);
			}
			continue;
		}
		if (dw->scan_done)
			return miss_error(dw, "enumerator", name);
		struct scan_goal goal = {NULL, 0, 0, true};
		bool hit = false;
		struct ch_error *err = scan(dw, &goal, &hit);
		if (err)
			return err;
	}
}
