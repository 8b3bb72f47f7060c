#include "readers/cpython/py_repr.h"

#include <stdio.h>
#include <string.h>

#include "readers/cpython/python.h"
#include "readers/cpython/py_str.h"

/* Non-printable code points (Py_UNICODE_ISPRINTABLE is false for Cc, Cf,
 * Cs, Co, Cn, Zl, Zp and Zs other than space), as sorted inclusive
 * ranges. The assigned ranges are stable across the Unicode versions of
 * CPython 3.8-3.13; unassigned points inside blocks are not listed. */
static const uint32_t nonprintable[][2] = {
	{0x0000, 0x001F}, {0x007F, 0x00A0}, {0x00AD, 0x00AD}, {0x0378, 0x0379}, {0x0380, 0x0383},
	{0x038B, 0x038B}, {0x038D, 0x038D}, {0x03A2, 0x03A2}, {0x0600, 0x0605}, {0x061C, 0x061C},
	{0x06DD, 0x06DD}, {0x070F, 0x070F}, {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x1680, 0x1680},
	{0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x206F}, {0x3000, 0x3000},
	{0xD800, 0xF8FF}, {0xFDD0, 0xFDEF}, {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFB}, {0xFFFE, 0xFFFF},
	{0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
	{0x1D173, 0x1D17A}, {0x1FFFE, 0x1FFFF}, {0x2FFFE, 0x2FFFF}, {0x323B0, 0xE00FF},
	{0xE01F0, 0x10FFFF},
};

bool ch_repr_printable(uint32_t c)
{
	if (c >= 0x20 && c < 0x7F)
		return true;
	size_t lo = 0, hi = sizeof(nonprintable) / sizeof(nonprintable[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c < nonprintable[mid][0])
			hi = mid;
		else if (c > nonprintable[mid][1])
			lo = mid + 1;
		else
			return false;
	}
	/* noncharacters U+nFFFE, U+nFFFF of the supplementary planes */
	return (c & 0xFFFE) != 0xFFFE;
}

size_t ch_repr_str_char(uint32_t c, char quote, char *out)
{
	if (c == '\\' || c == (uint32_t)(unsigned char)quote) {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c == '\t' || c == '\n' || c == '\r') {
		out[0] = '\\';
		out[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		return 2;
	}
	if (!ch_repr_printable(c)) {
		if (c < 0x100)
			return (size_t)snprintf(out, 5, "\\x%02x", c);
		if (c < 0x10000)
			return (size_t)snprintf(out, 7, "\\u%04x", c);
		return (size_t)snprintf(out, 11, "\\U%08x", c);
	}
	return ch_utf8_put(out, c);
}

size_t ch_repr_bytes_char(uint8_t b, char quote, char *out)
{
	if (b == '\\' || b == (unsigned char)quote) {
		out[0] = '\\';
		out[1] = (char)b;
		return 2;
	}
	if (b == '\t' || b == '\n' || b == '\r') {
		out[0] = '\\';
		out[1] = b == '\t' ? 't' : b == '\n' ? 'n' : 'r';
		return 2;
	}
	if (b < 0x20 || b >= 0x7F)
		return (size_t)snprintf(out, 5, "\\x%02x", b);
	out[0] = (char)b;
	return 1;
}

struct ch_error *ch_py_str_quotes(struct ch_python *py, uint64_t addr, bool *has_single, bool *has_double)
{
	struct ch_py_str_info s;
	*has_single = *has_double = false;
	struct ch_error *err = ch_py_str_info(py, addr, &s);
	uint32_t chunk[512];
	for (uint64_t i = 0; !err && i < s.length && !(*has_single && *has_double);) {
		size_t batch = s.length - i < 512 ? (size_t)(s.length - i) : 512;
		err = ch_py_str_chars(py, &s, i, chunk, batch);
		for (size_t j = 0; !err && j < batch; j++) {
			*has_single |= chunk[j] == '\'';
			*has_double |= chunk[j] == '"';
		}
		i += batch;
	}
	return err;
}

struct ch_error *ch_py_bytes_quotes(struct ch_python *py, uint64_t data, uint64_t n, bool *has_single, bool *has_double)
{
	uint8_t chunk[4096];
	*has_single = *has_double = false;
	for (uint64_t i = 0; i < n && !(*has_single && *has_double);) {
		size_t batch = n - i < sizeof(chunk) ? (size_t)(n - i) : sizeof(chunk);
		struct ch_error *err = ch_as_read(&py->proc->as, data + i, chunk, batch);
		if (err)
			return err;
		*has_single |= memchr(chunk, '\'', batch) != NULL;
		*has_double |= memchr(chunk, '"', batch) != NULL;
		i += batch;
	}
	return NULL;
}

struct ch_error *ch_py_int_header(struct ch_python *py, uint64_t addr, struct ch_py_int *out)
{
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_LONG_DIGITS))
		return ch_error_new(CH_ERR_UNSUPPORTED, "the int layout is unknown");
	struct ch_error *err;
	if (ch_py_has(l, CH_PY_LONG_TAG)) {
		/* 3.12+: lv_tag = ndigits << 3 | sign (0 positive, 1 zero, 2 negative) */
		uint64_t tag;
		if ((err = ch_py_read_u64(py, addr, CH_PY_LONG_TAG, &tag)))
			return err;
		out->n = tag >> 3;
		out->negative = (tag & 3) == 2;
	} else {
		uint64_t size;
		if ((err = ch_py_read_u64(py, addr, CH_PY_VAR_SIZE, &size)))
			return err;
		int64_t s = (int64_t)size;
		out->negative = s < 0;
		out->n = out->negative ? (uint64_t)(-(s + 1)) + 1 : (uint64_t)s;
	}
	int64_t dsize = ch_py_has(l, CH_PY_SIZEOF_DIGIT) ? l->v[CH_PY_SIZEOF_DIGIT] : 4;
	out->shift = dsize == 2 ? 15 : 30;
	if (out->n > (1ULL << 40))
		return ch_error_new(CH_ERR_INPUT, "int at 0x%llx claims %llu digits", (unsigned long long)addr,
				    (unsigned long long)out->n);
	return NULL;
}

struct ch_error *ch_py_int_limbs(struct ch_python *py, uint64_t addr, const struct ch_py_int *h, uint32_t *d, size_t n)
{
	const struct ch_py_layout *l = &py->layout;
	const size_t dsize = h->shift == 15 ? 2 : 4;
	uint64_t base = addr + (uint64_t)l->v[CH_PY_LONG_DIGITS];
	uint8_t raw[4096];
	for (size_t i = 0; i < n;) {
		size_t batch = (n - i) * dsize < sizeof(raw) ? n - i : sizeof(raw) / dsize;
		struct ch_error *err = ch_as_read(&py->proc->as, base + i * dsize, raw, batch * dsize);
		if (err)
			return err;
		for (size_t j = 0; j < batch; j++) {
			uint32_t v = 0;
			memcpy(&v, raw + j * dsize, dsize); /* little-endian host and dump */
			d[i + j] = v & ((1u << h->shift) - 1);
		}
		i += batch;
	}
	return NULL;
}

size_t ch_int_decimal(uint32_t *d, size_t n, unsigned shift, char *out)
{
	/* Repeated division by 10^9 gives the digits least significant first. */
	size_t len = 0;
	while (n > 0 && d[n - 1] == 0)
		n--;
	if (n == 0)
		out[len++] = '0';
	while (n > 0) {
		uint64_t rem = 0;
		for (size_t i = n; i-- > 0;) {
			uint64_t cur = (rem << shift) | d[i];
			d[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		while (n > 0 && d[n - 1] == 0)
			n--;
		for (int k = 0; k < 9 && (n > 0 || rem > 0); k++) {
			out[len++] = (char)('0' + rem % 10);
			rem /= 10;
		}
	}
	for (size_t i = 0; i < len / 2; i++) {
		char t = out[i];
		out[i] = out[len - 1 - i];
		out[len - 1 - i] = t;
	}
	out[len] = '\0';
	return len;
}

uint64_t ch_int_bits(const uint32_t *d, size_t n, unsigned shift)
{
	while (n > 0 && d[n - 1] == 0)
		n--;
	if (n == 0)
		return 0;
	uint64_t bits = (uint64_t)(n - 1) * shift;
	for (uint32_t top = d[n - 1]; top; top >>= 1)
		bits++;
	return bits;
}

size_t ch_int_trailing(const uint32_t *d, size_t n, unsigned shift, unsigned k, char *out)
{
	if (k > 19)
		k = 19;
	uint64_t mod = 1;
	for (unsigned i = 0; i < k; i++)
		mod *= 10;
	/* Horner's rule modulo 10^k; 128-bit products keep it exact. */
	unsigned __int128 r = 0;
	for (size_t i = n; i-- > 0;)
		r = ((r << shift) | d[i]) % mod;
	bool wide = ch_int_bits(d, n, shift) > 64;
	uint64_t whole = 0;
	for (size_t i = n; !wide && i-- > 0;)
		whole = (whole << shift) | d[i];
	if (!wide && whole < mod)
		return (size_t)snprintf(out, 21, "%llu", (unsigned long long)whole);
	return (size_t)snprintf(out, 21, "%0*llu", (int)k, (unsigned long long)r);
}
