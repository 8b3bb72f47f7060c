#include "py_value.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py_str.h"
#include "python.h"

/* Ints with more digits than this (about 3000 bits) render as <int ...>. */
#define CH_INT_MAX_DIGITS 100

/* True when err is NULL; frees it otherwise (for reads whose failure only
 * changes how a value renders). */
static bool ok(struct ch_error *err)
{
	ch_error_free(err);
	return err == NULL;
}


void ch_py_builtins_init(struct ch_python *py, struct ch_py_builtins *b)
{
	b->none = ch_python_symbol(py, "_Py_NoneStruct");
	b->true_ = ch_python_symbol(py, "_Py_TrueStruct");
	b->false_ = ch_python_symbol(py, "_Py_FalseStruct");
	b->long_type = ch_python_symbol(py, "PyLong_Type");
	b->float_type = ch_python_symbol(py, "PyFloat_Type");
	b->str_type = ch_python_symbol(py, "PyUnicode_Type");
	b->bytes_type = ch_python_symbol(py, "PyBytes_Type");
	b->list_type = ch_python_symbol(py, "PyList_Type");
	b->tuple_type = ch_python_symbol(py, "PyTuple_Type");
	b->dict_type = ch_python_symbol(py, "PyDict_Type");
	b->code_type = ch_python_symbol(py, "PyCode_Type");
	b->cell_type = ch_python_symbol(py, "PyCell_Type");
}

void ch_py_float_repr(double v, char *buf, size_t max)
{
	if (isnan(v)) {
		snprintf(buf, max, "nan");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, max, v < 0 ? "-inf" : "inf");
		return;
	}
	/* Shortest digits that round-trip, then repr's layout: positional for
	 * decimal exponents -4..15, else d.ddde+XX [Python/pystrtod.c]. */
	char e[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	bool neg = e[0] == '-';
	char digits[24];
	size_t nd = 0;
	const char *p = e + neg;
	for (; *p && *p != 'e' && nd < sizeof(digits) - 1; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	int exp = *p == 'e' ? atoi(p + 1) : 0;
	char out[64];
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -exp - 1; i++)
				out[o++] = '0';
			for (size_t i = 0; i < nd; i++)
				out[o++] = digits[i];
		} else {
			for (int i = 0; i <= exp; i++)
				out[o++] = (size_t)i < nd ? digits[i] : '0';
			out[o++] = '.';
			if ((size_t)exp + 1 < nd)
				for (size_t i = (size_t)exp + 1; i < nd; i++)
					out[o++] = digits[i];
			else
				out[o++] = '0';
		}
		out[o] = '\0';
	} else {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (size_t i = 1; i < nd; i++)
				out[o++] = digits[i];
		}
		snprintf(out + o, sizeof(out) - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	snprintf(buf, max, "%s", out);
}

/* Decimal of sign * sum(digit[i] << (shift*i)), by repeated division by
 * 10^9 of a copy of the digits. */
static void long_decimal(uint32_t *d, size_t n, unsigned shift, bool neg, char *buf, size_t max)
{
	char tmp[CH_INT_MAX_DIGITS * 10 + 4];
	size_t len = 0;
	while (n > 0 && d[n - 1] == 0)
		n--;
	if (n == 0)
		tmp[len++] = '0';
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
			tmp[len++] = (char)('0' + rem % 10);
			rem /= 10;
		}
	}
	if (neg)
		tmp[len++] = '-';
	size_t o = 0;
	while (len > 0 && o + 1 < max)
		buf[o++] = tmp[--len];
	buf[o] = '\0';
}

static bool render_long(struct ch_python *py, uint64_t obj, char *buf, size_t max)
{
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_LONG_DIGITS))
		return false;
	uint64_t ndigits;
	bool neg;
	if (ch_py_has(l, CH_PY_LONG_TAG)) {
		/* 3.12+: lv_tag = ndigits << 3 | sign (0 positive, 1 zero, 2 negative) */
		uint64_t tag;
		if (!ok(ch_py_read_u64(py, obj, CH_PY_LONG_TAG, &tag)))
			return false;
		ndigits = tag >> 3;
		neg = (tag & 3) == 2;
	} else {
		uint64_t size;
		if (!ok(ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &size)))
			return false;
		int64_t s = (int64_t)size;
		neg = s < 0;
		ndigits = neg ? (uint64_t)(-(s + 1)) + 1 : (uint64_t)s;
	}
	if (ndigits > CH_INT_MAX_DIGITS)
		return false;
	int64_t dsize = ch_py_has(l, CH_PY_SIZEOF_DIGIT) ? l->v[CH_PY_SIZEOF_DIGIT] : 4;
	unsigned shift = dsize == 2 ? 15 : 30;
	uint32_t d[CH_INT_MAX_DIGITS];
	uint8_t raw[CH_INT_MAX_DIGITS * 4];
	if (ndigits && !ok(ch_as_read(&py->proc->as, obj + (uint64_t)l->v[CH_PY_LONG_DIGITS], raw, (size_t)(ndigits * (uint64_t)dsize))))
		return false;
	for (size_t i = 0; i < ndigits; i++) {
		uint32_t v = 0;
		memcpy(&v, raw + i * (size_t)dsize, (size_t)dsize); /* little-endian host and dump */
		d[i] = v & ((1u << shift) - 1);
	}
	long_decimal(d, (size_t)ndigits, shift, neg, buf, max);
	return true;
}

static bool render_str(struct ch_python *py, uint64_t obj, char *buf, size_t max)
{
	/* Read a few bytes more than shown to know whether to cut. */
	char raw[CH_PY_VALUE_STR_CHARS * 4 + 8];
	bool trunc;
	struct ch_error *err = ch_py_str_read(py, obj, raw, sizeof(raw), &trunc);
	if (err) {
		ch_error_free(err);
		return false;
	}
	bool has_single = strchr(raw, '\'') != NULL, has_double = strchr(raw, '"') != NULL;
	char q = has_single && !has_double ? '"' : '\'';
	size_t o = 0, chars = 0;
	bool cut = trunc;
	if (max < 16)
		return false;
	buf[o++] = q;
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
		if ((*p & 0xC0) != 0x80 && chars++ == CH_PY_VALUE_STR_CHARS) {
			cut = true;
			break;
		}
		char esc[8];
		size_t k;
		if (*p == '\\' || *p == (unsigned char)q)
			k = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p == '\n')
			k = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (*p == '\r')
			k = (size_t)snprintf(esc, sizeof(esc), "\\r");
		else if (*p == '\t')
			k = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else {
			esc[0] = (char)*p;
			k = 1;
		}
		if (o + k + 5 >= max) {
			/* back off to a character boundary before cutting */
			while (o > 1 && ((unsigned char)buf[o - 1] & 0xC0) == 0x80)
				o--;
			if (o > 1 && ((unsigned char)buf[o - 1] & 0x80))
				o--;
			cut = true;
			break;
		}
		memcpy(buf + o, esc, k);
		o += k;
	}
	buf[o++] = q;
	if (cut) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return true;
}

static void render_other(struct ch_python *py, uint64_t obj, uint64_t type, char *buf, size_t max)
{
	char name[80];
	uint64_t tp_name;
	bool trunc;
	struct ch_error *err = ch_py_read_u64(py, type, CH_PY_TP_NAME, &tp_name);
	if (!err)
		err = ch_as_read_cstr(&py->proc->as, tp_name, name, sizeof(name), &trunc);
	if (err) {
		ch_error_free(err);
		snprintf(name, sizeof(name), "?");
	}
	snprintf(buf, max, "<%s at 0x%" PRIx64 ">", name, obj);
}

void ch_py_value_render(struct ch_python *py, const struct ch_py_builtins *b, uint64_t obj, char *buf, size_t max)
{
	const struct ch_py_layout *l = &py->layout;
	if (max == 0)
		return;
	buf[0] = '\0';
	if (obj == 0) {
		snprintf(buf, max, "<NULL>");
		return;
	}
	if (obj == b->none || obj == b->true_ || obj == b->false_) {
		snprintf(buf, max, "%s", obj == b->none ? "None" : obj == b->true_ ? "True" : "False");
		return;
	}
	uint64_t type;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type);
	if (err) {
		ch_error_free(err);
		snprintf(buf, max, "<unreadable 0x%" PRIx64 ">", obj);
		return;
	}
	uint64_t n;
	if (type == b->long_type && render_long(py, obj, buf, max))
		return;
	if (type == b->str_type && render_str(py, obj, buf, max))
		return;
	if (type == b->float_type && ch_py_has(l, CH_PY_FLOAT_VALUE)) {
		double v;
		if (ok(ch_as_read(&py->proc->as, obj + (uint64_t)l->v[CH_PY_FLOAT_VALUE], &v, sizeof(v)))) {
			ch_py_float_repr(v, buf, max);
			return;
		}
	}
	const char *sized = type == b->list_type ? "list" : type == b->tuple_type ? "tuple" : type == b->bytes_type ? "bytes" : NULL;
	if (sized && ok(ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &n))) {
		snprintf(buf, max, "<%s len=%" PRIu64 ">", sized, n);
		return;
	}
	if (type == b->dict_type && ok(ch_py_read_u64(py, obj, CH_PY_DICT_USED, &n))) {
		snprintf(buf, max, "<dict len=%" PRIu64 ">", n);
		return;
	}
	render_other(py, obj, type, buf, max);
}
