#include "readers/process/symbol_name.h"

#include <stdbool.h>
#include <string.h>

/* The suffix words (see symbol_name.h for what each means). */
static const struct {
	const char *word;
	bool rename;
	bool numbered; /* always followed by .N (.cold only sometimes) */
} suffixes[] = {
	{"lto_priv", true, true}, {"llvm", true, true},	     {"constprop", false, true},
	{"isra", false, true},	  {"part", false, true},     {"cold", false, false},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The suffix that name[0..len) ends with: its length (0 when none) and
 * whether it is a rename. The base before it is never empty. */
static size_t trailing_suffix(const char *name, size_t len, bool *rename)
{
	size_t num = 0;
	while (num < len && is_digit(name[len - 1 - num]))
		num++;
	if (num && (num == len || name[len - 1 - num] != '.'))
		return 0; /* digits not after a dot: no suffix number */
	size_t word_end = num ? len - num - 1 : len;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t wl = strlen(suffixes[i].word);
		if ((num == 0 && suffixes[i].numbered) || word_end < wl + 2)
			continue;
		size_t dot = word_end - wl - 1;
		if (name[dot] != '.' || memcmp(name + dot + 1, suffixes[i].word, wl) != 0)
			continue;
		*rename = suffixes[i].rename;
		return len - dot;
	}
	return 0;
}

size_t ch_symbol_base_len(const char *name, enum ch_symbol_variant *variant)
{
	size_t len = strlen(name), s;
	bool rename;
	enum ch_symbol_variant v = CH_SYMBOL_EXACT;
	while ((s = trailing_suffix(name, len, &rename))) {
		len -= s;
		if (!rename)
			v = CH_SYMBOL_PART;
		else if (v == CH_SYMBOL_EXACT)
			v = CH_SYMBOL_RENAMED;
	}
	if (variant)
		*variant = v;
	return len;
}

void ch_symbol_display_name(const char *name, char *buf, size_t n)
{
	if (!n)
		return;
	/* Suffixes are peeled from the right; the kept ones are written back
	 * in their order, so collect their spans first (a chain is short:
	 * at most a few suffixes, each at least 5 bytes). */
	size_t len = strlen(name), s, nkept = 0;
	size_t kept_at[16], kept_len[16];
	bool rename, overflow = false;
	while ((s = trailing_suffix(name, len, &rename))) {
		len -= s;
		if (!rename && nkept == 16)
			overflow = true;
		else if (!rename) {
			kept_at[nkept] = len;
			kept_len[nkept++] = s;
		}
	}
	if (overflow) { /* a made-up chain: shown as it is */
		len = strlen(name);
		nkept = 0;
	}
	size_t out = 0;
	for (size_t i = 0; i < len && out + 1 < n; i++)
		buf[out++] = name[i];
	while (nkept--)
		for (size_t i = 0; i < kept_len[nkept] && out + 1 < n; i++)
			buf[out++] = name[kept_at[nkept] + i];
	buf[out] = '\0';
}
