/* Compiler-suffixed symbols (readers/process/symbol_name.h): the suffix
 * rule on names, then both lookups of readers/process/elf_file.c on a
 * shared library built at build time whose static symbols objcopy renamed
 * as GCC's LTO and IPA passes do (see tests/CMakeLists.txt for the list:
 * subtype_traverse.lto_priv.0 and its .cold part, lookdict beside
 * lookdict.lto_priv.0, a lone onlycold.cold, clone.isra.0 /
 * .constprop.0 / .part.0.lto_priv.0, dup.lto_priv.0 and .1 at different
 * addresses, the data object counter.lto_priv.2). */
#include <stdlib.h>

#include "check.h"
#include "readers/process/elf_file.h"
#include "readers/process/symbol_name.h"

static void base(const char *name, size_t want_len, enum ch_symbol_variant want)
{
	enum ch_symbol_variant v = (enum ch_symbol_variant)-1;
	size_t len = ch_symbol_base_len(name, &v);
	if (!CHECK_EQ_U64(len, want_len) || !CHECK_EQ_U64(v, want))
		fprintf(stderr, "    for %s\n", name);
}

static void display(const char *name, const char *want)
{
	char buf[128];
	ch_symbol_display_name(name, buf, sizeof(buf));
	CHECK_STR(buf, want);
}

static void test_rule(void)
{
	base("subtype_traverse", 16, CH_SYMBOL_EXACT);
	base("subtype_traverse.lto_priv.0", 16, CH_SYMBOL_RENAMED);
	base("subtype_traverse.lto_priv.12", 16, CH_SYMBOL_RENAMED);
	base("x.lto_priv.1.lto_priv.0", 1, CH_SYMBOL_RENAMED);
	base("foo.llvm.123456789", 3, CH_SYMBOL_RENAMED);
	base("lookdict_index.lto_priv.0.cold", 14, CH_SYMBOL_PART);
	base("foo.cold", 3, CH_SYMBOL_PART);
	base("foo.cold.3", 3, CH_SYMBOL_PART);
	base("foo.part.0.lto_priv.0", 3, CH_SYMBOL_PART);
	base("foo.constprop.0.isra.0", 3, CH_SYMBOL_PART);
	/* not suffixes: a number alone (a function's local static), a word
	 * without its number, a name that is only a suffix, an empty name */
	base("cache.5", 7, CH_SYMBOL_EXACT);
	base("foo.lto_priv", 12, CH_SYMBOL_EXACT);
	base("foo.isra.", 9, CH_SYMBOL_EXACT);
	base(".cold", 5, CH_SYMBOL_EXACT);
	base(".lto_priv.0", 11, CH_SYMBOL_EXACT);
	base("", 0, CH_SYMBOL_EXACT);
	base("xcold", 5, CH_SYMBOL_EXACT);

	display("subtype_traverse.lto_priv.0", "subtype_traverse");
	display("lookdict_index.lto_priv.0.cold", "lookdict_index.cold");
	display("foo.part.0.lto_priv.0", "foo.part.0");
	display("foo.constprop.0.isra.0.cold", "foo.constprop.0.isra.0.cold");
	display("plain", "plain");
	char small[5];
	ch_symbol_display_name("subtype_traverse.lto_priv.0", small, sizeof(small));
	CHECK_STR(small, "subt");
}

static uint64_t addr_of(struct ch_elf_file *ef, const char *name)
{
	uint64_t v = 0, size = 0;
	CHECK_OK(ch_elf_symbol(ef, name, &v, &size));
	return v;
}

static void at(struct ch_elf_file *ef, uint64_t vaddr, const char *want, uint64_t want_off)
{
	char name[64];
	uint64_t off = ~0ull;
	if (CHECK(ch_elf_symbol_at(ef, vaddr, name, sizeof(name), &off))) {
		CHECK_STR(name, want);
		CHECK_EQ_U64(off, want_off);
	}
}

static void test_lookups(void)
{
	struct ch_elf_file *ef;
	if (!CHECK_OK(ch_elf_open(CH_SYMBOL_LIB, &ef)))
		return;
	/* Full names are exact names: the anchors for what follows. */
	uint64_t entry = addr_of(ef, "subtype_traverse.lto_priv.0");
	uint64_t cold = addr_of(ef, "subtype_traverse.lto_priv.0.cold");
	uint64_t priv = addr_of(ef, "lookdict.lto_priv.0");
	uint64_t counter = addr_of(ef, "counter.lto_priv.2");
	CHECK(entry && cold && priv && counter && entry != cold);

	/* name -> address: the rename is the function, its .cold part is not */
	CHECK_EQ_U64(addr_of(ef, "subtype_traverse"), entry);
	/* an exact name wins over a rename of it */
	uint64_t exact = addr_of(ef, "lookdict");
	CHECK(exact && exact != priv);
	/* data symbols are renamed too */
	CHECK_EQ_U64(addr_of(ef, "counter"), counter);
	/* parts and clones are never the entry */
	uint64_t v;
	CHECK_ERR(ch_elf_symbol(ef, "onlycold", &v, NULL), CH_ERR_NOT_FOUND);
	CHECK_ERR(ch_elf_symbol(ef, "clone", &v, NULL), CH_ERR_NOT_FOUND);
	/* two static functions of one name: ambiguous, not a guess */
	CHECK_ERR(ch_elf_symbol(ef, "dup", &v, NULL), CH_ERR_NOT_FOUND);
	CHECK(addr_of(ef, "dup.lto_priv.0") != addr_of(ef, "dup.lto_priv.1"));
	/* a prefix is not a base name */
	CHECK_ERR(ch_elf_symbol(ef, "subtype", &v, NULL), CH_ERR_NOT_FOUND);
	CHECK_ERR(ch_elf_symbol(ef, "subtype_traverse.lto", &v, NULL), CH_ERR_NOT_FOUND);

	/* address -> name: renames dropped, parts kept, offsets unchanged */
	at(ef, entry, "subtype_traverse", 0);
	at(ef, entry + 4, "subtype_traverse", 4);
	at(ef, cold + 2, "subtype_traverse.cold", 2);
	at(ef, counter + 8, "counter", 8);
	at(ef, addr_of(ef, "clone.part.0.lto_priv.0"), "clone.part.0", 0);
	at(ef, addr_of(ef, "clone.isra.0") + 1, "clone.isra.0", 1);
	at(ef, exact, "lookdict", 0);
	ch_elf_close(ef);
}

int main(void)
{
	test_rule();
	test_lookups();
	return CHECK_SUMMARY("test_symbol_names");
}
