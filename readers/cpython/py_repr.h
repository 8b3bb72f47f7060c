/* The pieces of Python's repr() that coreheap reproduces on data copied out
 * of the dump: str and bytes escaping (Objects/unicodeobject.c
 * unicode_repr, Objects/bytesobject.c PyBytes_Repr) and int to decimal
 * (Objects/longobject.c long_to_decimal_string), shared by the one-line
 * renderings of py_value.c and the value trees of py_show.c. */
#ifndef CH_PY_REPR_H
#define CH_PY_REPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

/* The quote repr() puts around a str or bytes: ' unless the text contains
 * ' and no ". */
static inline char ch_repr_quote(bool has_single, bool has_double)
{
	return has_single && !has_double ? '"' : '\'';
}

/* Py_UNICODE_ISPRINTABLE, from a table of the non-printable ranges (C0/C1
 * controls, format characters, separators other than space, surrogates,
 * private use, noncharacters and the unassigned planes). Code points left
 * unassigned inside assigned blocks are taken for printable, so a very rare
 * character may appear literally where CPython writes \u escapes. */
bool ch_repr_printable(uint32_t c);

/* Appends the repr() form of code point c inside a `quote`-quoted str
 * literal to out (room for 10 bytes); returns the bytes written. */
size_t ch_repr_str_char(uint32_t c, char quote, char *out);
/* The same for one byte of a bytes literal (room for 4 bytes). */
size_t ch_repr_bytes_char(uint8_t b, char quote, char *out);

/* Scans a whole str for quote characters (to choose the quote as repr()
 * does); a read failure stops the scan and is returned. */
struct ch_error *ch_py_str_quotes(struct ch_python *py, uint64_t addr, bool *has_single, bool *has_double);
/* The same for the bytes at data, n bytes long. */
struct ch_error *ch_py_bytes_quotes(struct ch_python *py, uint64_t data, uint64_t n, bool *has_single,
				    bool *has_double);

/* An int as CPython stores it: magnitude in `n` limbs of `shift` bits
 * (30, or 15 for builds with 16-bit digits), least significant first. */
struct ch_py_int {
	bool negative;
	unsigned shift;
	uint64_t n;
};
/* Sign and limb count (ob_size for 3.8-3.11, lv_tag for 3.12+). */
struct ch_error *ch_py_int_header(struct ch_python *py, uint64_t addr, struct ch_py_int *out);
/* Limbs [0, n) into d (masked to shift bits). */
struct ch_error *ch_py_int_limbs(struct ch_python *py, uint64_t addr, const struct ch_py_int *h, uint32_t *d, size_t n);

/* Decimal digits (no sign) of the magnitude d[0..n) into out, which must
 * hold n * 10 + 2 bytes; d is destroyed. Quadratic: callers bound n.
 * Returns the number of digits (at least 1; "0" for zero). */
size_t ch_int_decimal(uint32_t *d, size_t n, unsigned shift, char *out);
/* Last k (<= 19) decimal digits of the magnitude, zero-padded to k when
 * the number has that many; linear in n. Returns the digits written. */
size_t ch_int_trailing(const uint32_t *d, size_t n, unsigned shift, unsigned k, char *out);
/* Bits of the magnitude (0 for zero). */
uint64_t ch_int_bits(const uint32_t *d, size_t n, unsigned shift);

#endif
