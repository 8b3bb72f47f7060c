#include "readers/cpython/py_code.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_str.h"
#include "readers/cpython/python.h"

/* Line tables longer than this are treated as corrupt. */
#define CH_LINETABLE_MAX (16u << 20)

int32_t ch_py_lnotab_line(const uint8_t *t, uint64_t len, int32_t firstlineno, int64_t addr)
{
	/* [3.8 Objects/codeobject.c PyCode_Addr2Line] */
	int64_t line = firstlineno, a = 0;
	for (uint64_t i = 0; i + 1 < len; i += 2) {
		a += t[i];
		if (a > addr)
			break;
		line += (int8_t)t[i + 1];
	}
	return (int32_t)line;
}

int32_t ch_py_linetable310_line(const uint8_t *t, uint64_t len, int32_t firstlineno, int64_t addr)
{
	/* [3.10 Objects/lnotab_notes.txt]: each pair covers [end, end + sdelta)
	 * bytes; ldelta -128 means the range has no line. */
	if (addr < 0)
		return firstlineno;
	int64_t line = firstlineno, end = 0;
	for (uint64_t i = 0; i + 1 < len; i += 2) {
		int64_t start = end;
		end += t[i];
		int8_t ld = (int8_t)t[i + 1];
		int64_t cur = -1;
		if (ld != -128) {
			line += ld;
			cur = line;
		}
		if (start <= addr && addr < end)
			return (int32_t)cur;
	}
	return -1;
}

static uint64_t read_varint(const uint8_t *t, uint64_t len, uint64_t *p)
{
	uint64_t val = 0;
	unsigned shift = 0;
	while (*p < len && shift < 64) {
		uint8_t b = t[(*p)++];
		val |= (uint64_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	return val;
}

static int64_t read_svarint(const uint8_t *t, uint64_t len, uint64_t *p)
{
	uint64_t v = read_varint(t, len, p);
	return (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

int32_t ch_py_locations_line(const uint8_t *t, uint64_t len, int32_t firstlineno, int64_t addr)
{
	/* [3.11 Objects/locations.md] */
	if (addr < 0)
		return firstlineno;
	int64_t line = firstlineno, end = 0;
	uint64_t p = 0;
	while (p < len) {
		uint8_t b = t[p];
		if (!(b & 128)) { /* not an entry start: resynchronise */
			p++;
			continue;
		}
		unsigned code = (b >> 3) & 15;
		uint64_t q = p + 1;
		int64_t delta = 0;
		if (code == 13 || code == 14)
			delta = read_svarint(t, len, &q);
		else if (code >= 10 && code <= 12)
			delta = code - 10;
		line += delta;
		int64_t start = end;
		end += ((b & 7) + 1) * 2;
		if (start <= addr && addr < end)
			return code == 15 ? -1 : (int32_t)line;
		p++;
		while (p < len && !(t[p] & 128))
			p++;
	}
	return -1;
}

static void read_name(struct ch_python *py, uint64_t code, enum ch_py_field f, char *buf, size_t max)
{
	uint64_t s;
	bool trunc;
	struct ch_error *err = ch_py_read_u64(py, code, f, &s);
	if (!err)
		err = ch_py_str_read(py, s, buf, max, &trunc);
	if (err) {
		snprintf(buf, max, "?");
		ch_error_free(err);
	}
}

struct ch_error *ch_py_code_read(struct ch_python *py, uint64_t addr, struct ch_py_code *out)
{
	const struct ch_py_layout *l = &py->layout;
	memset(out, 0, sizeof(*out));
	out->address = addr;
	int32_t first;
	struct ch_error *err = ch_py_read_i32(py, addr, CH_PY_CODE_FIRSTLINENO, &first);
	if (err)
		return ch_error_prefix(err, "code object at 0x%llx", (unsigned long long)addr);
	out->firstlineno = first;
	read_name(py, addr, ch_py_has(l, CH_PY_CODE_QUALNAME) ? CH_PY_CODE_QUALNAME : CH_PY_CODE_NAME, out->function,
		  sizeof(out->function));
	read_name(py, addr, CH_PY_CODE_FILENAME, out->file, sizeof(out->file));
	enum ch_py_field tf;
	if (ch_py_has(l, CH_PY_CODE_CODE_ADAPTIVE)) {
		out->kind = CH_PY_LINES_LOCATIONS;
		tf = CH_PY_CODE_LINETABLE;
		out->code_units = addr + (uint64_t)l->v[CH_PY_CODE_CODE_ADAPTIVE];
		if (ch_py_has(l, CH_PY_CODE_FIRSTTRACEABLE) &&
		    (err = ch_py_read_i32(py, addr, CH_PY_CODE_FIRSTTRACEABLE, &out->firsttraceable)))
			return err;
	} else if (ch_py_has(l, CH_PY_CODE_LNOTAB)) {
		out->kind = CH_PY_LINES_LNOTAB;
		tf = CH_PY_CODE_LNOTAB;
	} else if (ch_py_has(l, CH_PY_CODE_LINETABLE)) {
		out->kind = CH_PY_LINES_LINETABLE310;
		tf = CH_PY_CODE_LINETABLE;
	} else {
		return NULL; /* no line table: lines stay unknown */
	}
	uint64_t bytes, n;
	if (!ch_py_has(l, CH_PY_BYTES_SVAL) || !ch_error_ok(ch_py_read_u64(py, addr, tf, &bytes)) ||
	    !ch_error_ok(ch_py_read_u64(py, bytes, CH_PY_VAR_SIZE, &n)) || n > CH_LINETABLE_MAX) {
		out->kind = CH_PY_LINES_NONE; /* unreadable table: line unknown, not fatal */
		return NULL;
	}
	out->table = bytes + (uint64_t)l->v[CH_PY_BYTES_SVAL];
	out->table_len = n;
	return NULL;
}

int32_t ch_py_code_addr2line(struct ch_python *py, const struct ch_py_code *code, int64_t addr)
{
	if (code->kind == CH_PY_LINES_NONE)
		return -1;
	uint8_t *copy = NULL;
	const uint8_t *t = code->table_len ? ch_as_peek(&py->proc->as, code->table, code->table_len) : NULL;
	if (!t && code->table_len) {
		copy = malloc(code->table_len);
		if (!copy)
			return -1;
		struct ch_error *err = ch_as_read(&py->proc->as, code->table, copy, code->table_len);
		if (err) {
			ch_error_free(err);
			free(copy);
			return -1;
		}
		t = copy;
	}
	int32_t line;
	switch (code->kind) {
	case CH_PY_LINES_LNOTAB:
		line = ch_py_lnotab_line(t, code->table_len, code->firstlineno, addr);
		break;
	case CH_PY_LINES_LINETABLE310:
		line = ch_py_linetable310_line(t, code->table_len, code->firstlineno, addr);
		break;
	default:
		line = ch_py_locations_line(t, code->table_len, code->firstlineno, addr);
		break;
	}
	free(copy);
	return line;
}

int32_t ch_py_legacy_frame_line(struct ch_python *py, const struct ch_py_code *code, int32_t lasti, int32_t lineno,
				bool traced)
{
	if (code->kind == CH_PY_LINES_LNOTAB)
		return traced ? lineno : ch_py_code_addr2line(py, code, lasti);
	return lineno ? lineno : ch_py_code_addr2line(py, code, (int64_t)lasti * 2);
}

int32_t ch_py_iframe_line(struct ch_python *py, const struct ch_py_code *code, uint64_t instr)
{
	int64_t lasti = ((int64_t)instr - (int64_t)code->code_units) / 2;
	return ch_py_code_addr2line(py, code, lasti * 2);
}
