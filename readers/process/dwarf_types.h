/* Struct layouts from DWARF, looked up by name on demand and cached.
 *
 * The reader behind this header (readers/process/dwarf_*.c, map in
 * dwarf_types.c) is the only code that talks to libdwarf: its API differs
 * between the 2021 releases Debian bookworm ships (20210528) and the 0.x
 * series, and the difference is contained in dwarf_die.c.
 *
 * Names: a type is found by struct/union tag or by typedef name ("PyObject",
 * "_PyRuntimeState", "_is", "PyInterpreterState"); typedefs and cv-qualifiers
 * are followed to the underlying struct or union. Declarations
 * (DW_AT_declaration) are skipped: the first complete definition wins.
 * Member paths are dotted and may index arrays: "interpreters.head",
 * "generations[1].count", "gc.generations". Anonymous struct/union members
 * are searched transparently (C11 anonymous members).
 *
 * Behaviour shared by the lookups below (implementation notes):
 * - Lookups are lazy: a name is searched among top-level DIEs unit by unit
 *   and the walk stops at the first hit; answers, misses included, are
 *   cached for the life of the handle. A full walk of libpython 3.13's
 *   15 MiB .debug_info (a type that does not exist) costs ~70 ms.
 * - Path grammar: [name] ("[" digits "]")* ("." name ("[" digits "]")*)*.
 *   An empty path is the type itself. A malformed path or a NULL argument
 *   is CH_ERR_USAGE. Indexing past a constant array bound is NOT_FOUND.
 * - type_name may also name a typedef of a non-struct type or a base type
 *   ("Py_ssize_t", "int"). Flexible array members have size 0.
 * - CH_ERR_INPUT: corrupt DWARF. A miss after part of the DWARF could not
 *   be read is CH_ERR_INPUT rather than NOT_FOUND (it might have been there).
 * - CH_ERR_UNSUPPORTED: type units (DW_FORM_ref_sig8), dwz supplementary
 *   files (DW_FORM_GNU_ref_alt), bitfields of big-endian targets, and
 *   compressed debug sections other than zlib (e.g. zstd).
 */
#ifndef CH_DWARF_TYPES_H
#define CH_DWARF_TYPES_H

#include <stdint.h>

#include "readers/base/error.h"

struct ch_dwarf;

/* Open the DWARF of the ELF file at path. Errors: CH_ERR_NOT_FOUND when the
 * file has no .debug_info (the caller decides whether that is fatal);
 * CH_ERR_INPUT when it cannot be read. */
struct ch_error *ch_dwarf_open(const char *path, struct ch_dwarf **out);
void ch_dwarf_close(struct ch_dwarf *dw);

/* sizeof(type_name). CH_ERR_NOT_FOUND if no complete definition exists. */
struct ch_error *ch_dwarf_type_size(struct ch_dwarf *dw, const char *type_name, uint64_t *size);

/* Member at path inside type_name.
 * offset_bits: offset from the start of type_name in bits (bytes * 8 for
 *   ordinary members; exact bit position, little-endian numbering, for
 *   bitfields).
 * size_bits: the member's size in bits (bit_size for bitfields).
 * Either out pointer may be NULL. CH_ERR_NOT_FOUND if the type or any path
 * component does not exist. */
struct ch_error *ch_dwarf_member(struct ch_dwarf *dw, const char *type_name, const char *path,
				 uint64_t *offset_bits, uint64_t *size_bits);

/* Number of elements of the array member at path (DW_AT_upper_bound + 1 or
 * DW_AT_count). CH_ERR_NOT_FOUND if absent or not an array. */
struct ch_error *ch_dwarf_array_length(struct ch_dwarf *dw, const char *type_name, const char *path,
				       uint64_t *length);

/* Value of an enumerator ("_Py_TPFLAGS_STATIC_BUILTIN" is a macro, not this;
 * but e.g. "FRAME_OWNED_BY_GENERATOR" is). CH_ERR_NOT_FOUND if absent. */
struct ch_error *ch_dwarf_enumerator(struct ch_dwarf *dw, const char *name, int64_t *value);

#endif
