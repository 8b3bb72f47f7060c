/* The one rule for compiler-suffixed local symbols.
 *
 * GCC and clang name the code they derive from a source function (or the
 * copy of a static variable) by appending suffixes to its name, and the
 * suffixes chain (subtype_traverse.lto_priv.0, lookdict_index.lto_priv.0.cold,
 * foo.part.0.lto_priv.0, foo.constprop.0.isra.0). They fall in two groups:
 *
 *   renames  .lto_priv.N (GCC LTO), .llvm.N (clang ThinLTO): a static
 *            function or variable made link-unique. Same object, same
 *            entry address, same calling convention: the symbol IS the
 *            source-level one.
 *   parts    .cold[.N] (the unlikely blocks split out of a function),
 *            .part.N (the outlined rest of a partly inlined function),
 *            .isra.N / .constprop.N (clones with removed or constant
 *            parameters): separate code with its own start address. None
 *            of them is the function's entry: a pointer to the function
 *            (a tp_traverse slot, say) never points at them, and an
 *            offset into one is not an offset into the function.
 *
 * Hence the lookups (readers/process/elf_file.c):
 *   name -> address: the exact name first; failing that, a rename of it
 *     (never a part, whose address is not the entry). Two renames of the
 *     same name at different addresses are two different static functions
 *     (SHA_traverse of two modules): ambiguous, so not found.
 *   address -> name: the covering symbol with its renames dropped
 *     (subtype_traverse.lto_priv.0+0x10 is subtype_traverse+0x10) and its
 *     part suffixes kept (foo.cold+0x10 is not foo+0x10); an exact name
 *     covering the address is preferred to a rename, a rename to a part. */
#ifndef CH_SYMBOL_NAME_H
#define CH_SYMBOL_NAME_H

#include <stddef.h>

enum ch_symbol_variant {
	CH_SYMBOL_EXACT = 0,   /* no compiler suffix */
	CH_SYMBOL_RENAMED = 1, /* only rename suffixes: the same entry */
	CH_SYMBOL_PART = 2,    /* at least one part suffix: not the entry */
};

/* Length of name's base (its prefix without compiler suffixes) and the
 * variant its suffixes make it. A name that is nothing but a suffix is its
 * own base (exact). */
size_t ch_symbol_base_len(const char *name, enum ch_symbol_variant *variant);

/* name with its rename suffixes removed and its part suffixes kept, into
 * buf (truncated to n - 1 bytes). */
void ch_symbol_display_name(const char *name, char *buf, size_t n);

#endif
