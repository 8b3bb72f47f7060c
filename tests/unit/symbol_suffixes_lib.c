/* A tiny shared library for test_symbol_names: tests/CMakeLists.txt
 * compiles it and renames its static symbols with objcopy --redefine-sym
 * into the names GCC's LTO and IPA passes give (t_entry becomes
 * subtype_traverse.lto_priv.0, t_cold subtype_traverse.lto_priv.0.cold,
 * ...; the list is next to the objcopy command). Distinct bodies keep
 * every function at its own address. */
#define KEEP __attribute__((used, noinline))

static KEEP int t_entry(int x) { return x * 3 + 1; }
static KEEP int t_cold(int x) { return x * 5 + 2; }
KEEP int lookdict(int x) { return x + 7; }
static KEEP int lookdict_priv(int x) { return x - 7; }
static KEEP int only_cold(int x) { return x ^ 9; }
static KEEP int clone_isra(int x) { return x ^ 10; }
static KEEP int clone_constprop(int x) { return x ^ 11; }
static KEEP int clone_part(int x) { return x ^ 12; }
static KEEP int dup_a(int x) { return x ^ 13; }
static KEEP int dup_b(int x) { return x ^ 14; }
static __attribute__((used)) int counter_priv[4] = {1, 2, 3, 4};
