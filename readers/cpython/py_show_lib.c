/* The value tree of `show` for objects of the standard library and numpy
 * whose plain repr() says little: functools.lru_cache wrappers (what they
 * wrap, how full the cache is), re.Pattern (as repr() writes it), the _io
 * file objects (name, mode, closed) and numpy.ndarray (shape, dtype, nbytes,
 * whether it owns its data, base). Each node's text is the whole one-line
 * rendering, which `stacks --locals` prints too (ch_py_show_line).
 *
 * The C structs of the first three come from libpython's DWARF (they are
 * built into the runtime) or the generated layout tables. numpy ships no
 * DWARF: its array head is the public PyArrayObject_fields, whose order
 * numpy keeps fixed for extensions built against older headers, read
 * behind the object header whose size the CPython layout gives, and every
 * dtype fact comes from the offsets in numpy's own dtype member table
 * (tp_members) read from the core. What cannot be placed is left out and
 * the node says so (damaged), never guessed. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_repr.h"
#include "readers/cpython/py_show_internal.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

#define CH_LINE_MAX 600
#define CH_CHAIN_MAX 64
#define CH_MEMBERS_MAX 4096
/* pattern_repr writes the pattern with %.200R: its repr's first 200 characters */
#define CH_PATTERN_REPR_CHARS 200
/* NPY_MAXDIMS is 32 (numpy 1.x) or 64 (2.x) */
#define CH_NPY_MAXDIMS 64
/* NPY_ARRAY_OWNDATA [ndarraytypes.h], part of numpy's stable C API */
#define CH_NPY_OWNDATA 0x0004

static bool has(const struct ch_python *py, enum ch_py_field f)
{
	return ch_py_has(&py->layout, f);
}

/* numpy's array head after PyObject_HEAD (PyArrayObject_fields). */
struct npy_head {
	uint64_t data;
	int32_t nd;
	uint64_t dimensions, strides, base, descr;
	int32_t flags;
};

/* Is a type on this type's tp_base chain named `name`? */
static bool derives_from(struct ch_python *py, uint64_t type, const char *name)
{
	for (int depth = 0; type && depth < CH_CHAIN_MAX; depth++) {
		uint32_t ti;
		if (!ch_error_ok(ch_py_type_intern(py, type, &ti)))
			return false;
		if (strcmp(ch_py_type_name(&py->types, ti), name) == 0)
			return true;
		if (!ch_error_ok(ch_py_read_u64(py, type, CH_PY_TP_BASE, &type)))
			return false;
	}
	return false;
}

static bool is_buffered(const char *n)
{
	return !strcmp(n, "_io.BufferedReader") || !strcmp(n, "_io.BufferedWriter") || !strcmp(n, "_io.BufferedRandom");
}

static enum ch_show_kind classify(struct ch_python *py, uint64_t type, uint32_t ti)
{
	const char *n = ch_py_type_name(&py->types, ti);
	if (!strcmp(n, "functools._lru_cache_wrapper") && has(py, CH_PY_LRU_CACHE) && has(py, CH_PY_LRU_FUNC) &&
	    has(py, CH_PY_LRU_MAXSIZE))
		return CH_SHOW_LRU_CACHE;
	/* 3.6 named the type _sre.SRE_Pattern */
	if ((!strcmp(n, "re.Pattern") || !strcmp(n, "_sre.SRE_Pattern")) && has(py, CH_PY_PATTERN_PATTERN) && has(py, CH_PY_PATTERN_FLAGS))
		return CH_SHOW_PATTERN;
	if ((!strcmp(n, "_io.FileIO") && has(py, CH_PY_FILEIO_FD)) || (is_buffered(n) && has(py, CH_PY_BUFFERED_RAW)) ||
	    (!strcmp(n, "_io.TextIOWrapper") && has(py, CH_PY_TEXTIO_BUFFER)))
		return CH_SHOW_IO;
	if (py->types.v[ti].basicsize >= (int64_t)(ch_py_off(py, CH_PY_SIZEOF_OBJECT) + sizeof(struct npy_head)) &&
	    derives_from(py, type, "numpy.ndarray"))
		return CH_SHOW_NDARRAY;
	return CH_SHOW_OBJECT;
}

enum ch_show_kind ch_show_classify_lib(const struct ch_show_ctx *c, uint64_t type, uint32_t ti)
{
	return classify(c->py, type, ti);
}

static uint32_t label(struct ch_show_ctx *c, const char *s)
{
	return ch_show_arena_add(c, s, strlen(s));
}

/* Appends to a line buffer, cutting at its end. */
struct line {
	char b[CH_LINE_MAX];
	size_t n;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->b) - 1 - l->n)
		n = sizeof(l->b) - 1 - l->n;
	memcpy(l->b + l->n, s, n);
	l->n += n;
	l->b[l->n] = '\0';
}

CH_PRINTF(2, 3) static void putf(struct line *l, const char *fmt, ...)
{
	char buf[CH_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (k > 0)
		put(l, buf, (size_t)k < sizeof(buf) ? (size_t)k : sizeof(buf) - 1);
}

/* repr() of a str or bytes object, its first `limit` characters (as
 * %.<limit>R cuts it), appended to l; other objects by the short value
 * rendering. With --redact, str and bytes show as their length. */
static void put_repr(struct ch_show_ctx *c, struct line *l, uint64_t obj, size_t limit)
{
	struct ch_python *py = c->py;
	uint64_t type = 0;
	(void)ch_error_ok(ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type));
	const bool str = type && type == c->b.str_type, bytes = type && type == c->b.bytes_type;
	if (!str && !bytes) {
		/* scalars only: anything else could lead back here (a name that
		 * is itself a file object, in a hostile core) */
		char v[CH_PY_VALUE_MAX];
		uint32_t ti;
		if (type == c->b.long_type || type == c->b.float_type || obj == c->b.none || obj == c->b.true_ ||
		    obj == c->b.false_)
			ch_py_value_render(py, &c->b, obj, v, sizeof(v));
		else if (type && ch_error_ok(ch_py_type_intern(py, type, &ti)))
			snprintf(v, sizeof(v), "<%s at 0x%" PRIx64 ">", ch_py_type_name(&py->types, ti), obj);
		else
			snprintf(v, sizeof(v), "<unreadable 0x%" PRIx64 ">", obj);
		return put(l, v, strlen(v));
	}
	if (c->redact) {
		uint64_t n = 0;
		struct ch_py_str_info s;
		if (str && ch_error_ok(ch_py_str_info(py, obj, &s)))
			n = s.length;
		else if (bytes)
			(void)ch_error_ok(ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &n));
		return putf(l, "<%s len %" PRIu64 ">", str ? "str" : "bytes", n);
	}
	bool q1 = false, q2 = false;
	uint64_t len = 0, data = 0;
	struct ch_py_str_info s;
	struct ch_error *err;
	if (str) {
		err = ch_py_str_info(py, obj, &s);
		if (!err) {
			len = s.length;
			err = ch_py_str_quotes(py, obj, &q1, &q2);
		}
	} else {
		err = has(py, CH_PY_BYTES_SVAL) ? ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, &len)
			: ch_error_new(CH_ERR_UNSUPPORTED, "bytes layout unknown");
		data = obj + (uint64_t)ch_py_off(py, CH_PY_BYTES_SVAL);
		if (!err && len > (1u << 30))
			err = ch_error_new(CH_ERR_INPUT, "corrupt bytes size");
		if (!err)
			err = ch_py_bytes_quotes(py, data, len, &q1, &q2);
	}
	if (err) {
		ch_error_free(err);
		return putf(l, "<unreadable 0x%" PRIx64 ">", obj);
	}
	const char q = ch_repr_quote(q1, q2);
	size_t out = 0; /* characters of the repr written */
	char esc[12];
	if (bytes)
		esc[0] = 'b', put(l, esc, 1), out++;
	put(l, &q, 1), out++;
	/* bounded by the line too: a name of any length costs one line */
	for (uint64_t i = 0; i < len && out < limit && l->n < sizeof(l->b) - 1; i++) {
		size_t k;
		if (str) {
			uint32_t ch;
			if (!ch_error_ok(ch_py_str_chars(py, &s, i, &ch, 1)))
				break;
			k = ch_repr_str_char(ch, q, esc);
			/* an escape is ASCII; any other piece is one character */
			size_t chars = esc[0] == '\\' ? k : 1;
			if (out + chars > limit)
				k = esc[0] == '\\' ? limit - out : 0;
			out += chars;
		} else {
			uint8_t b;
			if (!ch_error_ok(ch_as_read(&py->proc->as, data + i, &b, 1)))
				break;
			k = ch_repr_bytes_char(b, q, esc);
			if (out + k > limit)
				k = limit - out;
			out += k;
		}
		put(l, esc, k);
	}
	if (out < limit)
		put(l, &q, 1);
}

/* A child at the next level labelled name, when obj is set. */
static void add_child(struct ch_show_ctx *c, uint32_t node, uint32_t *last, uint64_t obj, size_t level, const char *name)
{
	if (obj)
		ch_show_child(c, node, last, obj, level + 1, label(c, name));
}

static void set_line(struct ch_show_ctx *c, uint32_t node, const struct line *l)
{
	uint32_t t = ch_show_arena_add(c, l->b, l->n);
	if (node < c->t->n) {
		c->t->nodes[node].text = t;
		c->t->nodes[node].text_len = (uint32_t)l->n;
	}
}

static void show_lru(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	uint64_t cache = 0, func = 0, used = 0, hits = 0, misses = 0;
	int64_t maxsize = -1;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_LRU_CACHE, &cache);
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_LRU_FUNC, &func);
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_LRU_MAXSIZE, (uint64_t *)&maxsize);
	/* cache_info(): currsize is the cache dict's size; maxsize None is -1 */
	if (!err && cache)
		err = ch_py_read_u64(py, cache, CH_PY_DICT_USED, &used);
	if (err)
		return ch_show_damage(c, node, err);
	if (has(py, CH_PY_LRU_HITS) && has(py, CH_PY_LRU_MISSES) && ch_error_ok(ch_py_read_u64(py, addr, CH_PY_LRU_HITS, &hits)) &&
	    ch_error_ok(ch_py_read_u64(py, addr, CH_PY_LRU_MISSES, &misses)))
		c->t->nodes[node].extra = ch_show_arena_printf(c, "%" PRIu64 " %" PRIu64, hits, misses);
	char qual[256] = "?";
	uint64_t q, ft;
	if (func && ch_py_object_plausible(py, func, &ft) && ft == c->b.function_type && has(py, CH_PY_FUNC_QUALNAME) &&
	    ch_error_ok(ch_py_read_u64(py, func, CH_PY_FUNC_QUALNAME, &q)))
		(void)ch_error_ok(ch_py_str_read(py, q, qual, sizeof(qual), NULL));
	c->t->nodes[node].aux = label(c, qual);
	c->t->nodes[node].num = maxsize < 0 ? -1 : maxsize;
	c->t->nodes[node].length = used;
	struct line l = {.n = 0};
	putf(&l, "<functools._lru_cache_wrapper of %s at 0x%" PRIx64 ": currsize %" PRIu64 ", maxsize ", qual, addr, used);
	if (maxsize < 0)
		putf(&l, "None");
	else
		putf(&l, "%" PRId64, maxsize);
	if (c->t->nodes[node].extra != CH_SHOW_NO_TEXT)
		putf(&l, ", hits %" PRIu64 ", misses %" PRIu64, hits, misses);
	put(&l, ">", 1);
	set_line(c, node, &l);
	if (ch_show_expand(c, node, level)) {
		uint32_t last = CH_SHOW_NO_NODE;
		add_child(c, node, &last, func, level, "function");
	}
}

/* flag_names of _sre's pattern_repr, in its order (SRE_FLAG_* [sre_constants.h],
 * the same values in 3.8-3.15; TEMPLATE left the table in 3.13). */
static const struct { unsigned value; const char *name; } sre_flags[] = {
	{1, "re.TEMPLATE"}, {2, "re.IGNORECASE"}, {4, "re.LOCALE"}, {8, "re.MULTILINE"}, {16, "re.DOTALL"},
	{32, "re.UNICODE"}, {64, "re.VERBOSE"}, {128, "re.DEBUG"}, {256, "re.ASCII"},
};

static void show_pattern(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	uint64_t pattern = 0;
	int32_t flags = 0, isbytes = 0;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_PATTERN_PATTERN, &pattern);
	if (!err)
		err = ch_py_read_i32(py, addr, CH_PY_PATTERN_FLAGS, &flags);
	if (!err && has(py, CH_PY_PATTERN_ISBYTES))
		err = ch_py_read_i32(py, addr, CH_PY_PATTERN_ISBYTES, &isbytes);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].num = flags;
	/* pattern_repr omits re.UNICODE for a str pattern that has only it */
	unsigned f = (unsigned)flags;
	if (!isbytes && (f & (4 | 32 | 256)) == 32)
		f &= ~32u;
	struct line names = {.n = 0};
	const bool template_named = py->version.major == 3 && py->version.minor < 13;
	for (size_t i = 0; i < sizeof(sre_flags) / sizeof(sre_flags[0]); i++)
		if ((f & sre_flags[i].value) && (sre_flags[i].value != 1 || template_named)) {
			putf(&names, "%s%s", names.n ? "|" : "", sre_flags[i].name);
			f &= ~sre_flags[i].value;
		}
	if (f)
		putf(&names, "%s0x%x", names.n ? "|" : "", f);
	c->t->nodes[node].aux = ch_show_arena_add(c, names.b, names.n);
	struct line l = {.n = 0};
	put(&l, "re.compile(", 11);
	if (pattern == c->b.none || !pattern)
		put(&l, "None", 4);
	else
		put_repr(c, &l, pattern, CH_PATTERN_REPR_CHARS);
	if (names.n)
		putf(&l, ", %s", names.b);
	put(&l, ")", 1);
	set_line(c, node, &l);
	if (ch_show_expand(c, node, level)) {
		uint32_t last = CH_SHOW_NO_NODE;
		/* the pattern at the same level: it is the object's contents */
		if (pattern)
			ch_show_child(c, node, &last, pattern, level, label(c, "pattern"));
	}
}

/* A FileIO's mode as its .mode (mode_string in fileio.c) and closefd; -1:
 * unreadable. */
static int fileio_bit(struct ch_python *py, uint64_t addr, enum ch_py_field f)
{
	uint8_t byte;
	if (!has(py, f) || !ch_error_ok(ch_as_read(&py->proc->as, addr + (uint64_t)ch_py_off(py, f) / 8, &byte, 1)))
		return -1;
	return (byte >> (ch_py_off(py, f) % 8)) & 1;
}

static bool fileio_mode(struct ch_python *py, uint64_t addr, char mode[4], int *closefd)
{
	int created = fileio_bit(py, addr, CH_PY_FILEIO_CREATED), rd = fileio_bit(py, addr, CH_PY_FILEIO_READABLE),
	    wr = fileio_bit(py, addr, CH_PY_FILEIO_WRITABLE), app = fileio_bit(py, addr, CH_PY_FILEIO_APPENDING);
	/* 3.15 keeps whether "w+" truncated: then "wb+", not "rb+" */
	const int trunc = has(py, CH_PY_FILEIO_TRUNCATE) ? fileio_bit(py, addr, CH_PY_FILEIO_TRUNCATE) : 0;
	*closefd = fileio_bit(py, addr, CH_PY_FILEIO_CLOSEFD);
	if (created < 0 || rd < 0 || wr < 0 || app < 0 || trunc < 0)
		return false;
	const char *m = created ? (rd ? "xb+" : "xb") : app ? (rd ? "ab+" : "ab")
		: rd ? (wr ? (trunc ? "wb+" : "rb+") : "rb") : "wb";
	snprintf(mode, 4, "%s", m);
	return true;
}

/* Is obj an _io.FileIO? Then its fd. */
static bool fileio_fd(struct ch_python *py, uint64_t obj, int32_t *fd)
{
	uint64_t type;
	uint32_t ti;
	if (!obj || !ch_py_object_plausible(py, obj, &type) || !ch_error_ok(ch_py_type_intern(py, type, &ti)) ||
	    strcmp(ch_py_type_name(&py->types, ti), "_io.FileIO") != 0 || !has(py, CH_PY_FILEIO_FD))
		return false;
	return ch_error_ok(ch_py_read_i32(py, obj, CH_PY_FILEIO_FD, fd));
}

static void show_io(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	const char *tn = ch_py_type_name(&py->types, c->t->nodes[node].type);
	const bool text = !strcmp(tn, "_io.TextIOWrapper"), file = !strcmp(tn, "_io.FileIO");
	uint64_t buffer = 0, raw = 0, encoding = 0, name = 0, mode = 0;
	int32_t okf = 1, detached = 0, fd = -1;
	struct ch_error *err = NULL;
	if (text) {
		err = ch_py_read_u64(py, addr, CH_PY_TEXTIO_BUFFER, &buffer);
		if (!err && has(py, CH_PY_TEXTIO_ENCODING))
			err = ch_py_read_u64(py, addr, CH_PY_TEXTIO_ENCODING, &encoding);
		if (!err && has(py, CH_PY_TEXTIO_OK) && has(py, CH_PY_TEXTIO_DETACHED) &&
		    !(err = ch_py_read_i32(py, addr, CH_PY_TEXTIO_OK, &okf)))
			err = ch_py_read_i32(py, addr, CH_PY_TEXTIO_DETACHED, &detached);
		/* the buffer's raw stream, when the buffer is one of _io's */
		uint64_t bt;
		uint32_t bi;
		if (!err && buffer && ch_py_object_plausible(py, buffer, &bt) && ch_error_ok(ch_py_type_intern(py, bt, &bi)) &&
		    is_buffered(ch_py_type_name(&py->types, bi)))
			(void)ch_error_ok(ch_py_read_u64(py, buffer, CH_PY_BUFFERED_RAW, &raw));
	} else if (!file) {
		err = ch_py_read_u64(py, addr, CH_PY_BUFFERED_RAW, &raw);
		if (!err && has(py, CH_PY_BUFFERED_OK) && has(py, CH_PY_BUFFERED_DETACHED) &&
		    !(err = ch_py_read_i32(py, addr, CH_PY_BUFFERED_OK, &okf)))
			err = ch_py_read_i32(py, addr, CH_PY_BUFFERED_DETACHED, &detached);
	} else {
		raw = addr;
	}
	if (err)
		return ch_show_damage(c, node, err);
	/* name: FileIO keeps it in its __dict__; the others ask their raw stream */
	if (raw && !ch_error_ok(ch_py_getattr(py, raw, "name", &name)))
		name = 0;
	if (text && !ch_error_ok(ch_py_getattr(py, addr, "mode", &mode)))
		mode = 0;
	char rmode[4] = "";
	int closefd = -1;
	const bool raw_file = fileio_fd(py, raw, &fd);
	if (raw_file && !fileio_mode(py, raw, rmode, &closefd))
		rmode[0] = '\0';
	struct ch_show_node *n = &c->t->nodes[node];
	n->num = raw_file ? fd < 0 : -1;
	if (file)
		n->extra = ch_show_arena_printf(c, "%d", (int)fd);
	if (text && mode) {
		char m[16];
		if (ch_error_ok(ch_py_str_read(py, mode, m, sizeof(m), NULL)))
			c->t->nodes[node].aux = label(c, m);
	} else if (!text && rmode[0]) {
		c->t->nodes[node].aux = label(c, rmode);
	}
	/* repr() as fileio_repr, buffered_repr and textiowrapper_repr write it */
	struct line l = {.n = 0};
	putf(&l, "<%s", tn);
	if (!okf || detached) {
		put(&l, " [detached]>", 12);
	} else if (file && fd < 0) {
		put(&l, " [closed]>", 10);
	} else if (file) {
		if (name) {
			put(&l, " name=", 6);
			put_repr(c, &l, name, SIZE_MAX);
		} else {
			putf(&l, " fd=%d", (int)fd);
		}
		putf(&l, " mode='%s' closefd=%s>", rmode, closefd == 1 ? "True" : "False");
	} else {
		if (name) {
			put(&l, " name=", 6);
			put_repr(c, &l, name, SIZE_MAX);
		}
		/* mode and encoding are the stream's settings, not data: never
		 * redacted (the name, a path, is) */
		const bool redact = c->redact;
		c->redact = false;
		if (mode) {
			put(&l, " mode=", 6);
			put_repr(c, &l, mode, SIZE_MAX);
		}
		if (text && encoding) {
			put(&l, " encoding=", 10);
			put_repr(c, &l, encoding, SIZE_MAX);
		}
		c->redact = redact;
		put(&l, ">", 1);
	}
	set_line(c, node, &l);
	if (ch_show_expand(c, node, level)) {
		uint32_t last = CH_SHOW_NO_NODE;
		add_child(c, node, &last, name, level, "name");
		if (text) {
			add_child(c, node, &last, encoding, level, "encoding");
			add_child(c, node, &last, buffer, level, "buffer");
		} else if (!file) {
			add_child(c, node, &last, raw, level, "raw");
		}
	}
}

/* A member of numpy's dtype type (tp_members along its tp_base chain):
 * its offset and size in bytes; false when no such member. */
static bool member(struct ch_python *py, uint64_t type, const char *want, uint64_t *off, unsigned *size)
{
	const struct ch_py_layout *lay = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	if (!ch_py_has(lay, CH_PY_TP_MEMBERS) || !ch_py_has(lay, CH_PY_MEMBERDEF_NAME) ||
	    !ch_py_has(lay, CH_PY_MEMBERDEF_TYPE) || !ch_py_has(lay, CH_PY_MEMBERDEF_OFFSET) ||
	    !ch_py_has(lay, CH_PY_SIZEOF_MEMBERDEF))
		return false;
	for (int depth = 0; type && depth < CH_CHAIN_MAX; depth++) {
		uint64_t members = 0;
		if (!ch_error_ok(ch_py_read_u64(py, type, CH_PY_TP_MEMBERS, &members)))
			return false;
		for (uint64_t i = 0; members && i < CH_MEMBERS_MAX; i++) {
			uint64_t d = members + i * (uint64_t)lay->v[CH_PY_SIZEOF_MEMBERDEF], name = 0;
			uint32_t mtype;
			char s[64];
			bool trunc;
			if (!ch_error_ok(ch_as_read_u64(as, d + (uint64_t)lay->v[CH_PY_MEMBERDEF_NAME], &name)) || !name)
				break;
			if (!ch_error_ok(ch_as_read_cstr(as, name, s, sizeof(s), &trunc)) || strcmp(s, want) != 0)
				continue;
			if (!ch_error_ok(ch_as_read_u32(as, d + (uint64_t)lay->v[CH_PY_MEMBERDEF_TYPE], &mtype)) ||
			    !ch_error_ok(ch_as_read_u64(as, d + (uint64_t)lay->v[CH_PY_MEMBERDEF_OFFSET], off)))
				return false;
			/* T_CHAR 7, T_BYTE 8, T_UBYTE 9, T_BOOL 14; T_INT 1, T_UINT 11;
			 * T_LONG 2, T_ULONG 12, T_LONGLONG 17, T_ULONGLONG 18, T_PYSSIZET 19 [structmember.h] */
			*size = mtype == 7 || mtype == 8 || mtype == 9 || mtype == 14 ? 1 : mtype == 1 || mtype == 11 ? 4
				: mtype == 2 || mtype == 12 || mtype == 17 || mtype == 18 || mtype == 19 ? 8 : 0;
			return *size != 0 && *off < 4096;
		}
		if (!ch_error_ok(ch_py_read_u64(py, type, CH_PY_TP_BASE, &type)))
			return false;
	}
	return false;
}

static bool member_value(struct ch_python *py, uint64_t obj, uint64_t type, const char *name, int64_t *v)
{
	uint64_t off;
	unsigned size;
	uint8_t b[8] = {0};
	if (!member(py, type, name, &off, &size) || !ch_error_ok(ch_as_read(&py->proc->as, obj + off, b, size)))
		return false;
	*v = size == 1 ? (int64_t)b[0] : size == 4 ? (int64_t)(int32_t)(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24)
		: (int64_t)((uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
			    (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56);
	return true;
}

/* str(dtype) from its kind, byte order and item size (numpy's names for
 * the builtin kinds); false for kinds whose name needs more (datetime
 * units, structured dtypes). */
static bool dtype_name(int64_t kind, int64_t order, int64_t elsize, char *out, size_t max)
{
	const char *base = kind == 'i' ? "int" : kind == 'u' ? "uint" : kind == 'f' ? "float" : kind == 'c' ? "complex" : NULL;
	if (order == '>' && (base || kind == 'b')) /* non-native order (little-endian hosts): the short form */
		return snprintf(out, max, ">%c%" PRId64, (char)kind, elsize) > 0;
	if (base)
		return snprintf(out, max, "%s%" PRId64, base, elsize * 8) > 0;
	if (kind == 'b')
		return snprintf(out, max, "bool") > 0;
	if (kind == 'O')
		return snprintf(out, max, "object") > 0;
	if (kind == 'U')
		return snprintf(out, max, "%cU%" PRId64, order == '>' ? '>' : '<', elsize / 4) > 0;
	if (kind == 'S' || kind == 'V')
		return snprintf(out, max, "|%c%" PRId64, (char)kind, elsize) > 0;
	return false;
}

static void show_ndarray(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	struct ch_address_space *as = &py->proc->as;
	const uint64_t head = addr + (uint64_t)ch_py_off(py, CH_PY_SIZEOF_OBJECT);
	struct npy_head h;
	struct ch_error *err = ch_as_read_u64(as, head + offsetof(struct npy_head, data), &h.data);
	if (!err)
		err = ch_as_read_u32(as, head + offsetof(struct npy_head, nd), (uint32_t *)&h.nd);
	if (!err)
		err = ch_as_read_u64(as, head + offsetof(struct npy_head, dimensions), &h.dimensions);
	if (!err)
		err = ch_as_read_u64(as, head + offsetof(struct npy_head, base), &h.base);
	if (!err)
		err = ch_as_read_u64(as, head + offsetof(struct npy_head, descr), &h.descr);
	if (!err)
		err = ch_as_read_u32(as, head + offsetof(struct npy_head, flags), (uint32_t *)&h.flags);
	uint64_t dtype_type = 0;
	if (!err && (h.nd < 0 || h.nd > CH_NPY_MAXDIMS || (h.nd && !h.dimensions)))
		err = ch_error_new(CH_ERR_INPUT, "ndarray at 0x%" PRIx64 " has an implausible ndim %d", addr, (int)h.nd);
	if (!err && (!ch_py_object_plausible(py, h.descr, &dtype_type) || !derives_from(py, dtype_type, "numpy.dtype")))
		err = ch_error_new(CH_ERR_INPUT, "ndarray at 0x%" PRIx64 ": its descr is not a numpy.dtype", addr);
	if (err)
		return ch_show_damage(c, node, err);
	struct line shape = {.n = 0}, csv = {.n = 0};
	uint64_t count = 1;
	bool overflow = false;
	put(&shape, "(", 1);
	for (int32_t i = 0; i < h.nd; i++) {
		int64_t d;
		if ((err = ch_as_read_u64(as, h.dimensions + 8 * (uint64_t)i, (uint64_t *)&d)))
			return ch_show_damage(c, node, err);
		if (d < 0)
			return ch_show_damage(c, node, ch_error_new(CH_ERR_INPUT, "ndarray at 0x%" PRIx64 " has a negative dimension", addr));
		putf(&shape, "%s%" PRId64, i ? ", " : "", d);
		putf(&csv, "%s%" PRId64, i ? "," : "", d);
		if (d && count > UINT64_MAX / (uint64_t)d)
			overflow = true;
		count *= (uint64_t)d;
	}
	put(&shape, h.nd == 1 ? ",)" : ")", h.nd == 1 ? 2 : 1);
	struct ch_show_node *n = &c->t->nodes[node];
	n->length = (uint64_t)h.nd;
	n->extra = ch_show_arena_add(c, csv.b, csv.n);
	if (h.flags & CH_NPY_OWNDATA)
		c->t->nodes[node].flags |= CH_SHOW_OWNDATA;
	int64_t kind = 0, order = 0, elsize = -1;
	char dt[64] = "";
	const bool have_kind = member_value(py, h.descr, dtype_type, "kind", &kind) &&
			       member_value(py, h.descr, dtype_type, "byteorder", &order);
	const bool have_size = member_value(py, h.descr, dtype_type, "itemsize", &elsize) && elsize >= 0;
	if (!have_kind || !have_size || !dtype_name(kind, order, elsize, dt, sizeof(dt)))
		snprintf(dt, sizeof(dt), "?");
	c->t->nodes[node].aux = label(c, dt);
	int64_t nbytes = have_size && !overflow && (elsize == 0 || count <= (uint64_t)INT64_MAX / (uint64_t)elsize)
		? (int64_t)count * elsize : -1;
	c->t->nodes[node].num = nbytes;
	if (!have_size)
		ch_show_damage(c, node, ch_error_new(CH_ERR_UNSUPPORTED,
			"the dtype's member table names no itemsize: nbytes unknown"));
	uint64_t np = 0, version = 0;
	if (ch_error_ok(ch_py_module(py, "numpy", &np)) && !ch_error_ok(ch_py_getattr(py, np, "__version__", &version)))
		version = 0;
	struct line l = {.n = 0};
	putf(&l, "<numpy.ndarray shape=%s dtype=%s nbytes=", shape.b, dt);
	if (nbytes >= 0)
		putf(&l, "%" PRId64, nbytes);
	else
		put(&l, "?", 1);
	putf(&l, " %s", h.flags & CH_NPY_OWNDATA ? "owndata" : "view");
	if (h.base)
		putf(&l, " base=0x%" PRIx64, h.base);
	putf(&l, " at 0x%" PRIx64 ">", addr);
	set_line(c, node, &l);
	if (ch_show_expand(c, node, level)) {
		uint32_t last = CH_SHOW_NO_NODE;
		add_child(c, node, &last, h.base, level, "base");
		add_child(c, node, &last, h.descr, level, "dtype");
		add_child(c, node, &last, version, level, "numpy_version");
	}
}

void ch_show_lib(struct ch_show_ctx *c, uint32_t node, uint64_t addr, enum ch_show_kind k, size_t level)
{
	switch (k) {
	case CH_SHOW_LRU_CACHE: show_lru(c, node, addr, level); break;
	case CH_SHOW_PATTERN: show_pattern(c, node, addr, level); break;
	case CH_SHOW_IO: show_io(c, node, addr, level); break;
	case CH_SHOW_NDARRAY: show_ndarray(c, node, addr, level); break;
	default: break;
	}
}

bool ch_py_show_line(struct ch_python *py, uint64_t addr, char *buf, size_t max)
{
	struct ch_show_tree t;
	uint64_t type;
	uint32_t ti;
	/* the type first: no tree (nor asyncio's layout, which classifying
	 * loads) for the many locals of other types */
	if (!max || !ch_py_object_plausible(py, addr, &type) || !ch_error_ok(ch_py_type_intern(py, type, &ti)) ||
	    classify(py, type, ti) == CH_SHOW_OBJECT || !ch_error_ok(ch_py_show_build(py, addr, 0, py->redact, &t)))
		return false;
	const struct ch_show_node *n = &t.nodes[0];
	bool done = n->kind >= CH_SHOW_LRU_CACHE && n->kind <= CH_SHOW_NDARRAY && n->text != CH_SHOW_NO_TEXT;
	if (done)
		snprintf(buf, max, "%s", ch_show_text(&t, n->text));
	ch_show_tree_deinit(&t);
	return done;
}
