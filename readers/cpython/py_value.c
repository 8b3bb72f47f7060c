#include "readers/cpython/py_value.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_repr.h"
#include "readers/cpython/py_show.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/python.h"

/* Ints with more digits than this (about 3000 bits) render as <int ...>. */
#define CH_INT_MAX_DIGITS 100

/* True when err is NULL; frees it otherwise (for reads whose failure only
 * changes how a value renders). */

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
	b->ellipsis = ch_python_symbol(py, "_Py_EllipsisObject");
	b->notimplemented = ch_python_symbol(py, "_Py_NotImplementedStruct");
	b->set_type = ch_python_symbol(py, "PySet_Type");
	b->frozenset_type = ch_python_symbol(py, "PyFrozenSet_Type");
	b->function_type = ch_python_symbol(py, "PyFunction_Type");
	b->module_type = ch_python_symbol(py, "PyModule_Type");
	b->type_type = ch_python_symbol(py, "PyType_Type");
	b->method_type = ch_python_symbol(py, "PyMethod_Type");
	b->classmethod_type = ch_python_symbol(py, "PyClassMethod_Type");
	b->staticmethod_type = ch_python_symbol(py, "PyStaticMethod_Type");
	b->property_type = ch_python_symbol(py, "PyProperty_Type");
	b->weakref_type = ch_python_symbol(py, "_PyWeakref_RefType");
	b->weakproxy_type = ch_python_symbol(py, "_PyWeakref_ProxyType");
	b->weakcallproxy_type = ch_python_symbol(py, "_PyWeakref_CallableProxyType");
	b->coro_type = ch_python_symbol(py, "PyCoro_Type");
	b->gen_type = ch_python_symbol(py, "PyGen_Type");
	b->asyncgen_type = ch_python_symbol(py, "PyAsyncGen_Type");
	b->traceback_type = ch_python_symbol(py, "PyTraceBack_Type");
	b->frame_type = ch_python_symbol(py, "PyFrame_Type");
	b->bytearray_type = ch_python_symbol(py, "PyByteArray_Type");
	b->context_type = ch_python_symbol(py, "PyContext_Type");
	b->memoryview_type = ch_python_symbol(py, "PyMemoryView_Type");
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

static bool render_long(struct ch_python *py, uint64_t obj, char *buf, size_t max)
{
	struct ch_py_int h;
	uint32_t d[CH_INT_MAX_DIGITS];
	char dec[CH_INT_MAX_DIGITS * 10 + 2];
	if (!ch_error_ok(ch_py_int_header(py, obj, &h)) || h.n > CH_INT_MAX_DIGITS || !ch_error_ok(ch_py_int_limbs(py, obj, &h, d, (size_t)h.n)))
		return false;
	ch_int_decimal(d, (size_t)h.n, h.shift, dec);
	snprintf(buf, max, "%s%s", h.negative ? "-" : "", dec);
	return true;
}

static bool render_str(struct ch_python *py, uint64_t obj, char *buf, size_t max)
{
	struct ch_py_str_info s;
	if (max < 24 || !ch_error_ok(ch_py_str_info(py, obj, &s)))
		return false;
	if (py->redact) {
		snprintf(buf, max, "<str len %llu>", (unsigned long long)s.length);
		return true;
	}
	bool has_single, has_double;
	if (!ch_error_ok(ch_py_str_quotes(py, obj, &has_single, &has_double)))
		return false;
	const char q = ch_repr_quote(has_single, has_double);
	uint32_t chars[CH_PY_VALUE_STR_CHARS];
	size_t n = s.length < CH_PY_VALUE_STR_CHARS ? (size_t)s.length : CH_PY_VALUE_STR_CHARS;
	if (!ch_error_ok(ch_py_str_chars(py, &s, 0, chars, n)))
		return false;
	size_t o = 0;
	bool cut = n < s.length;
	buf[o++] = q;
	for (size_t i = 0; i < n; i++) {
		char esc[12];
		size_t k = ch_repr_str_char(chars[i], q, esc);
		if (o + k + 5 >= max) {
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
		err = ch_py_cstr_read(py, tp_name, "type name", name, sizeof(name), &trunc);
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
		if (ch_error_ok(ch_as_read(&py->proc->as, obj + (uint64_t)l->v[CH_PY_FLOAT_VALUE], &v, sizeof(v)))) {
			ch_py_float_repr(v, buf, max);
			return;
		}
	}
	const char *sized = type == b->list_type ? "list" : type == b->tuple_type ? "tuple" : type == b->bytes_type ? "bytes" : NULL;
	if (sized && ch_error_ok(ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &n))) {
		snprintf(buf, max, "<%s len=%" PRIu64 ">", sized, n);
		return;
	}
	if (type == b->dict_type && ch_error_ok(ch_py_read_u64(py, obj, CH_PY_DICT_USED, &n))) {
		snprintf(buf, max, "<dict len=%" PRIu64 ">", n);
		return;
	}
	/* the library objects `show` renders: the same one-line text */
	if (ch_py_show_line(py, obj, buf, max))
		return;
	render_other(py, obj, type, buf, max);
}

const struct ch_py_builtins *ch_py_builtins_get(struct ch_python *py)
{
	if (!py->builtins && (py->builtins = malloc(sizeof(*py->builtins))))
		ch_py_builtins_init(py, py->builtins);
	return py->builtins;
}

/* Appends text at *o, keeping room for the NUL; false when it did not fit. */
static bool put(char *buf, size_t max, size_t *o, const char *text)
{
	size_t k = strlen(text);
	if (*o + k + 1 > max)
		return false;
	memcpy(buf + *o, text, k + 1);
	*o += k;
	return true;
}

static bool render_bytes_key(struct ch_python *py, uint64_t obj, char *buf, size_t max)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t n;
	if (!ch_py_has(l, CH_PY_BYTES_SVAL) || !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &n)))
		return false;
	if (py->redact) {
		snprintf(buf, max, "<bytes len %" PRIu64 ">", n);
		return true;
	}
	const uint64_t data = obj + (uint64_t)l->v[CH_PY_BYTES_SVAL];
	uint8_t raw[CH_PY_VALUE_STR_CHARS];
	size_t shown = n < sizeof(raw) ? (size_t)n : sizeof(raw);
	bool has_single, has_double;
	if (!ch_error_ok(ch_as_read(&py->proc->as, data, raw, shown)) || !ch_error_ok(ch_py_bytes_quotes(py, data, n, &has_single, &has_double)))
		return false;
	const char q = ch_repr_quote(has_single, has_double);
	size_t o = 0;
	char head[3] = {'b', q, 0}, tail[2] = {q, 0};
	bool cut = shown < n;
	put(buf, max, &o, head);
	for (size_t i = 0; i < shown; i++) {
		char esc[8];
		size_t k = ch_repr_bytes_char(raw[i], q, esc);
		esc[k] = 0;
		if (o + k + 5 >= max || !put(buf, max, &o, esc)) {
			cut = true;
			break;
		}
	}
	put(buf, max, &o, tail);
	if (cut)
		put(buf, max, &o, "...");
	return true;
}

static void render_key(struct ch_python *py, const struct ch_py_builtins *b, uint64_t obj, char *buf, size_t max,
		       int depth)
{
	uint64_t type, n, items;
	const struct ch_py_layout *l = &py->layout;
	if (!obj || !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type))) {
		ch_py_value_render(py, b, obj, buf, max);
		return;
	}
	if (type == b->bytes_type && render_bytes_key(py, obj, buf, max))
		return;
	if (type != b->tuple_type || depth >= 3 || !ch_py_has(l, CH_PY_TUPLE_ITEMS) ||
	    !ch_error_ok(ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &n))) {
		ch_py_value_render(py, b, obj, buf, max);
		return;
	}
	items = obj + (uint64_t)l->v[CH_PY_TUPLE_ITEMS];
	size_t o = 0;
	bool fits = put(buf, max, &o, "(");
	for (uint64_t i = 0; i < n && fits; i++) {
		uint64_t item;
		char part[CH_PY_VALUE_MAX];
		if (i == CH_PY_KEY_ITEMS) {
			fits = put(buf, max, &o, ", ...");
			break;
		}
		if (!ch_error_ok(ch_as_read_u64(&py->proc->as, items + 8 * i, &item))) {
			snprintf(part, sizeof(part), "<unreadable>");
		} else {
			render_key(py, b, item, part, sizeof(part), depth + 1);
		}
		fits = (!i || put(buf, max, &o, ", ")) && put(buf, max, &o, part);
	}
	if (fits && n == 1)
		fits = put(buf, max, &o, ",");
	if (fits)
		fits = put(buf, max, &o, ")");
	if (!fits) {
		/* too long for the buffer: keep what fits, marked cut */
		size_t keep = max > 5 ? max - 5 : 0;
		if (o > keep)
			o = keep;
		buf[o] = 0;
		put(buf, max, &o, "...)");
	}
}

void ch_py_key_render(struct ch_python *py, const struct ch_py_builtins *b, uint64_t key, char *buf, size_t max)
{
	if (max == 0)
		return;
	buf[0] = 0;
	render_key(py, b, key, buf, max, 0);
}
