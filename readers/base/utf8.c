#include "readers/base/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed sequence at s (n bytes left), 0 if ill-formed. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

bool ch_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = seq_len(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static size_t escape(char *s, size_t max, bool controls);

size_t ch_utf8_escape(char *s, size_t max)
{
	return escape(s, max, false);
}

size_t ch_text_escape_line(char *s, size_t max)
{
	return escape(s, max, true);
}

/* A byte that cannot stay on a line of text: C0 controls and DEL. */
static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7F;
}

static bool clean(const char *s, size_t n, bool controls)
{
	/* Printable ASCII, the usual text, in one pass; the rest is checked
	 * from the first other byte on (what precedes it is whole characters). */
	size_t i = 0;
	while (i < n && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7F)
		i++;
	if (i == n)
		return true;
	if (!ch_utf8_valid(s + i, n - i))
		return false;
	for (; controls && i < n; i++)
		if (is_control((unsigned char)s[i]))
			return false;
	return true;
}

static size_t escape(char *s, size_t max, bool controls)
{
	if (max == 0)
		return 0;
	size_t n = strnlen(s, max - 1);
	s[n] = '\0';
	if (clean(s, n, controls))
		return 0;
	unsigned char *src = malloc(n);
	if (!src) {
		/* No room to rewrite: cut at the first bad byte, still counted. */
		const unsigned char *p = (const unsigned char *)s;
		size_t i = 0, k;
		while (i < n && (k = seq_len(p + i, n - i)) && !(controls && is_control(p[i])))
			i += k;
		s[i] = '\0';
		return n - i;
	}
	memcpy(src, s, n);
	size_t out = 0, bad = 0;
	for (size_t i = 0; i < n;) {
		size_t k = seq_len(src + i, n - i);
		if (k && !(controls && is_control(src[i]))) {
			if (out + k > max - 1)
				break;
			memcpy(s + out, src + i, k);
			out += k;
			i += k;
			continue;
		}
		bad++;
		if (out + 4 > max - 1)
			break;
		snprintf(s + out, 5, "\\x%02x", src[i]);
		out += 4;
		i++;
	}
	s[out] = '\0';
	free(src);
	return bad;
}
