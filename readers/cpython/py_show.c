/* Building the value tree of `show` (see py_show.h): dispatch on the
 * object's exact type, scalars, containers. Instances and the other
 * object kinds (functions, modules, types, ...) are in py_show_objects.c. */
#include "readers/cpython/py_show.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_repr.h"
#include "readers/cpython/py_show_internal.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

#define CH_SHOW_SEQ_MAX (1ULL << 32)

static const char *const kind_names[CH_SHOW_NKINDS] = {
	[CH_SHOW_NULL] = "null",         [CH_SHOW_UNREADABLE] = "unreadable", [CH_SHOW_NONE] = "none",
	[CH_SHOW_BOOL] = "bool",         [CH_SHOW_ELLIPSIS] = "ellipsis",     [CH_SHOW_NOTIMPLEMENTED] = "notimplemented",
	[CH_SHOW_INT] = "int",           [CH_SHOW_FLOAT] = "float",           [CH_SHOW_STR] = "str",
	[CH_SHOW_BYTES] = "bytes",       [CH_SHOW_TUPLE] = "tuple",           [CH_SHOW_LIST] = "list",
	[CH_SHOW_SET] = "set",           [CH_SHOW_FROZENSET] = "frozenset",   [CH_SHOW_DICT] = "dict",
	[CH_SHOW_INSTANCE] = "instance", [CH_SHOW_FUNCTION] = "function",     [CH_SHOW_CODE] = "code",
	[CH_SHOW_MODULE] = "module",     [CH_SHOW_TYPE] = "type",             [CH_SHOW_CELL] = "cell",
	[CH_SHOW_METHOD] = "method",     [CH_SHOW_CLASSMETHOD] = "classmethod", [CH_SHOW_STATICMETHOD] = "staticmethod",
	[CH_SHOW_PROPERTY] = "property", [CH_SHOW_WEAKREF] = "weakref",       [CH_SHOW_OBJECT] = "object",
	[CH_SHOW_EXCEPTION] = "exception", [CH_SHOW_TRACEBACK] = "traceback", [CH_SHOW_FRAME] = "frame",
	[CH_SHOW_GENERATOR] = "generator", [CH_SHOW_FUTURE] = "future",       [CH_SHOW_PARTIAL] = "partial",
	[CH_SHOW_BYTEARRAY] = "bytearray", [CH_SHOW_CONTEXT] = "context",     [CH_SHOW_MEMORYVIEW] = "memoryview",
	[CH_SHOW_LRU_CACHE] = "lru_cache", [CH_SHOW_PATTERN] = "pattern",     [CH_SHOW_IO] = "io",
	[CH_SHOW_NDARRAY] = "ndarray",
};

const char *ch_show_kind_name(enum ch_show_kind k)
{
	return (unsigned)k < CH_SHOW_NKINDS && kind_names[k] ? kind_names[k] : "?";
}

void ch_show_tree_deinit(struct ch_show_tree *t)
{
	free(t->nodes);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}

uint32_t ch_show_arena_add(struct ch_show_ctx *c, const char *s, size_t n)
{
	struct ch_show_tree *t = c->t;
	if (c->err || t->alen + n + 1 > UINT32_MAX - 1)
		return CH_SHOW_NO_TEXT;
	if (t->alen + n + 1 > t->acap) {
		size_t ncap = t->acap ? t->acap * 2 : 4096;
		while (ncap < t->alen + n + 1)
			ncap *= 2;
		char *p = realloc(t->arena, ncap);
		if (!p) {
			c->err = &ch_error_nomem;
			return CH_SHOW_NO_TEXT;
		}
		t->arena = p;
		t->acap = ncap;
	}
	uint32_t off = (uint32_t)t->alen;
	if (n)
		memcpy(t->arena + off, s, n);
	t->arena[off + n] = '\0';
	t->alen += n + 1;
	return off;
}

uint32_t ch_show_arena_printf(struct ch_show_ctx *c, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	return ch_show_arena_add(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

uint32_t ch_show_node_new(struct ch_show_ctx *c, enum ch_show_kind kind, uint64_t addr, uint32_t type)
{
	struct ch_show_tree *t = c->t;
	if (c->err)
		return CH_SHOW_NO_NODE;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct ch_show_node *p = realloc(t->nodes, ncap * sizeof(*p));
		if (!p) {
			c->err = &ch_error_nomem;
			return CH_SHOW_NO_NODE;
		}
		t->nodes = p;
		t->cap = ncap;
	}
	struct ch_show_node *nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->kind = (uint8_t)kind;
	nd->addr = addr;
	nd->type = type;
	nd->text = nd->aux = nd->label = nd->err = nd->extra = CH_SHOW_NO_TEXT;
	nd->first_child = nd->next_sibling = CH_SHOW_NO_NODE;
	return (uint32_t)t->n++;
}

void ch_show_damage(struct ch_show_ctx *c, uint32_t node, struct ch_error *err)
{
	if (!err)
		return;
	if (node != CH_SHOW_NO_NODE && c->t->nodes[node].err == CH_SHOW_NO_TEXT) {
		uint32_t off = ch_show_arena_add(c, err->message, strlen(err->message));
		if (node < c->t->n) {
			c->t->nodes[node].err = off;
			c->t->nodes[node].flags |= CH_SHOW_DAMAGED;
		}
	}
	ch_error_free(err);
}

bool ch_show_expand(struct ch_show_ctx *c, uint32_t node, size_t level)
{
	if (level < c->depth && c->t->n < CH_SHOW_MAX_NODES && !c->err)
		return true;
	c->t->nodes[node].flags |= CH_SHOW_ELIDED;
	return false;
}

uint32_t ch_show_child(struct ch_show_ctx *c, uint32_t parent, uint32_t *last, uint64_t addr, size_t level,
		       uint32_t label)
{
	uint32_t k = ch_show_value(c, addr, level);
	if (k == CH_SHOW_NO_NODE)
		return k;
	struct ch_show_node *nodes = c->t->nodes;
	nodes[k].label = label;
	if (*last == CH_SHOW_NO_NODE)
		nodes[parent].first_child = k;
	else
		nodes[*last].next_sibling = k;
	*last = k;
	return k;
}

static size_t text_limit(size_t level, size_t top, size_t nested)
{
	return level == 0 ? top : nested;
}

static void show_str(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	struct ch_py_str_info s;
	struct ch_error *err = ch_py_str_info(py, addr, &s);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].length = s.length;
	if (c->redact) {
		c->t->nodes[node].flags |= CH_SHOW_REDACTED;
		return;
	}
	bool has_single, has_double;
	err = ch_py_str_quotes(py, addr, &has_single, &has_double);
	c->t->nodes[node].num = ch_repr_quote(has_single, has_double);
	size_t n = (size_t)(s.length < text_limit(level, CH_SHOW_TOP_CHARS, CH_SHOW_NESTED_CHARS)
				    ? s.length : text_limit(level, CH_SHOW_TOP_CHARS, CH_SHOW_NESTED_CHARS));
	uint32_t chars[CH_SHOW_TOP_CHARS];
	char utf8[CH_SHOW_TOP_CHARS * 4];
	size_t o = 0;
	if (!err)
		err = ch_py_str_chars(py, &s, 0, chars, n);
	if (err)
		n = 0;
	for (size_t i = 0; i < n; i++)
		o += ch_utf8_put(utf8 + o, chars[i]);
	c->t->nodes[node].text = ch_show_arena_add(c, utf8, o);
	c->t->nodes[node].text_len = (uint32_t)o;
	if (n < s.length)
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
	ch_show_damage(c, node, err);
}

static void show_bytes(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	int64_t len;
	struct ch_error *err = ch_py_has(&py->layout, CH_PY_BYTES_SVAL) ? NULL
		: ch_error_new(CH_ERR_UNSUPPORTED, "the bytes layout is unknown");
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_VAR_SIZE, (uint64_t *)&len);
	if (!err && len < 0)
		err = ch_error_new(CH_ERR_INPUT, "bytes at 0x%" PRIx64 " has a negative size", addr);
	if (err)
		return ch_show_damage(c, node, err);
	ch_show_bytes_data(c, node, addr + (uint64_t)ch_py_off(py, CH_PY_BYTES_SVAL), (uint64_t)len, level);
}

void ch_show_bytes_data(struct ch_show_ctx *c, uint32_t node, uint64_t data, uint64_t len, size_t level)
{
	struct ch_python *py = c->py;
	c->t->nodes[node].length = (uint64_t)len;
	if (c->redact) {
		c->t->nodes[node].flags |= CH_SHOW_REDACTED;
		return;
	}
	bool has_single, has_double;
	struct ch_error *err;
	err = ch_py_bytes_quotes(py, data, (uint64_t)len, &has_single, &has_double);
	c->t->nodes[node].num = ch_repr_quote(has_single, has_double);
	size_t lim = text_limit(level, CH_SHOW_TOP_CHARS, CH_SHOW_NESTED_CHARS);
	size_t n = (uint64_t)len < lim ? (size_t)len : lim;
	char raw[CH_SHOW_TOP_CHARS];
	if (!err)
		err = ch_as_read(&py->proc->as, data, raw, n);
	if (err)
		n = 0;
	c->t->nodes[node].text = ch_show_arena_add(c, raw, n);
	c->t->nodes[node].text_len = (uint32_t)n;
	if (n < (uint64_t)len)
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
	ch_show_damage(c, node, err);
}

#define CH_INT_EDGE_DIGITS 20

static void show_int(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	struct ch_py_int h;
	struct ch_error *err = ch_py_int_header(py, addr, &h);
	if (err)
		return ch_show_damage(c, node, err);
	if (h.negative)
		c->t->nodes[node].flags |= CH_SHOW_NEGATIVE;
	/* Beyond 2^22 limbs (about 37 million digits) only the bit count. */
	size_t n = h.n > (1u << 22) ? 1 : (size_t)h.n;
	uint32_t *d = malloc((n ? n : 1) * sizeof(*d));
	if (!d) {
		c->err = &ch_error_nomem;
		return;
	}
	if (h.n > n) {
		/* the top limb alone, read as limb 0 of an int that far along */
		const uint64_t dsize = h.shift == 15 ? 2 : 4;
		err = ch_py_int_limbs(py, addr + (h.n - 1) * dsize, &h, d, 1);
		if (!err) {
			c->t->nodes[node].num = (int64_t)((h.n - 1) * h.shift + ch_int_bits(d, 1, h.shift));
			c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
			c->t->nodes[node].text = ch_show_arena_add(c, "", 0);
		}
		free(d);
		return ch_show_damage(c, node, err);
	}
	err = ch_py_int_limbs(py, addr, &h, d, n);
	if (err) {
		free(d);
		return ch_show_damage(c, node, err);
	}
	const char *sign = h.negative ? "-" : "";
	char trailing[24];
	if (n > CH_SHOW_INT_EXACT_LIMBS) {
		ch_int_trailing(d, n, h.shift, 19, trailing);
		c->t->nodes[node].num = (int64_t)ch_int_bits(d, n, h.shift);
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
		c->t->nodes[node].text = ch_show_arena_add(c, "", 0);
		c->t->nodes[node].aux = ch_show_arena_add(c, trailing, strlen(trailing));
		free(d);
		return;
	}
	char *dec = malloc(n * 10 + 3);
	if (!dec) {
		free(d);
		c->err = &ch_error_nomem;
		return;
	}
	dec[0] = '-';
	size_t len = ch_int_decimal(d, n, h.shift, dec + 1);
	free(d);
	struct ch_show_node *nd = &c->t->nodes[node];
	nd->length = len;
	if (len <= text_limit(level, CH_SHOW_TOP_DIGITS, CH_SHOW_NESTED_DIGITS)) {
		uint32_t t = ch_show_arena_add(c, dec + !h.negative, len + h.negative);
		c->t->nodes[node].text = t;
	} else {
		char lead[CH_INT_EDGE_DIGITS + 2];
		snprintf(lead, sizeof(lead), "%s%.*s", sign, CH_INT_EDGE_DIGITS, dec + 1);
		uint32_t t = ch_show_arena_add(c, lead, strlen(lead));
		uint32_t a = ch_show_arena_add(c, dec + 1 + len - CH_INT_EDGE_DIGITS, CH_INT_EDGE_DIGITS);
		c->t->nodes[node].text = t;
		c->t->nodes[node].aux = a;
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
	}
	free(dec);
}

static void show_float(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	struct ch_python *py = c->py;
	double v;
	struct ch_error *err = ch_py_has(&py->layout, CH_PY_FLOAT_VALUE)
		? ch_as_read(&py->proc->as, addr + (uint64_t)ch_py_off(py, CH_PY_FLOAT_VALUE), &v, sizeof(v))
		: ch_error_new(CH_ERR_UNSUPPORTED, "the float layout is unknown");
	if (err)
		return ch_show_damage(c, node, err);
	char buf[64];
	ch_py_float_repr(v, buf, sizeof(buf));
	c->t->nodes[node].text = ch_show_arena_add(c, buf, strlen(buf));
}

/* tuple and list: n items from an array of pointers. */
static void show_sequence(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level, bool list)
{
	struct ch_python *py = c->py;
	int64_t n;
	uint64_t items = 0;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_VAR_SIZE, (uint64_t *)&n);
	if (!err && list)
		err = ch_py_read_u64(py, addr, CH_PY_LIST_ITEMS, &items);
	else if (!err)
		items = ch_py_has(&py->layout, CH_PY_TUPLE_ITEMS) ? addr + (uint64_t)ch_py_off(py, CH_PY_TUPLE_ITEMS) : 0;
	if (!err && (n < 0 || (uint64_t)n > CH_SHOW_SEQ_MAX || (n > 0 && !items)))
		err = ch_error_new(CH_ERR_INPUT, "%s at 0x%" PRIx64 " has a corrupt size", list ? "list" : "tuple", addr);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].length = (uint64_t)n;
	if (!n)
		return;
	if (!ch_show_expand(c, node, level))
		return;
	uint32_t last = CH_SHOW_NO_NODE;
	uint64_t shown = 0;
	for (; shown < (uint64_t)n && shown < CH_SHOW_ITEMS && !c->err; shown++) {
		uint64_t v;
		if ((err = ch_as_read_u64(&py->proc->as, items + 8 * shown, &v)))
			break;
		ch_show_child(c, node, &last, v, level + 1, CH_SHOW_NO_TEXT);
	}
	if (shown < (uint64_t)n)
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
	ch_show_damage(c, node, err);
}

static void show_dict(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	uint64_t used;
	struct ch_py_dict_view v;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_DICT_USED, &used);
	if (!err)
		err = ch_py_dict_view(py, addr, &v);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].length = used;
	if (!used)
		return;
	if (!ch_show_expand(c, node, level))
		return;
	uint32_t last = CH_SHOW_NO_NODE;
	uint64_t shown = 0;
	for (uint64_t i = 0; i < v.nentries && shown < CH_SHOW_ITEMS && !c->err; i++) {
		uint64_t key, value;
		if ((err = ch_py_dict_entry(py, &v, i, &key, &value)))
			break;
		if (!key || !value)
			continue;
		ch_show_child(c, node, &last, key, level + 1, CH_SHOW_NO_TEXT);
		ch_show_child(c, node, &last, value, level + 1, CH_SHOW_NO_TEXT);
		shown++;
	}
	if (shown < used)
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
	ch_show_damage(c, node, err);
}

static void show_set(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	uint64_t table, mask, used;
	struct ch_error *err = ch_py_has(l, CH_PY_SET_TABLE) && ch_py_has(l, CH_PY_SET_USED)
		? NULL : ch_error_new(CH_ERR_UNSUPPORTED, "the set layout is unknown");
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_SET_TABLE, &table);
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_SET_MASK, &mask);
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_SET_USED, &used);
	if (!err && (mask >= CH_SHOW_SEQ_MAX || ((mask + 1) & mask) || used > mask + 1))
		err = ch_error_new(CH_ERR_INPUT, "set at 0x%" PRIx64 " has a corrupt table", addr);
	if (err)
		return ch_show_damage(c, node, err);
	c->t->nodes[node].length = used;
	if (!used)
		return;
	if (!ch_show_expand(c, node, level))
		return;
	uint64_t esz = (uint64_t)ch_py_off(py, CH_PY_SIZEOF_SETENTRY);
	uint32_t last = CH_SHOW_NO_NODE;
	uint64_t shown = 0;
	for (uint64_t i = 0; i <= mask && shown < CH_SHOW_ITEMS && !c->err; i++) {
		uint64_t key;
		if ((err = ch_as_read_u64(&py->proc->as, table + i * esz + (uint64_t)ch_py_off(py, CH_PY_SETENTRY_KEY), &key)))
			break;
		if (!key || key == c->set_dummy)
			continue;
		ch_show_child(c, node, &last, key, level + 1, CH_SHOW_NO_TEXT);
		shown++;
	}
	if (shown < used)
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
	ch_show_damage(c, node, err);
}

static bool on_path(const struct ch_show_ctx *c, uint64_t addr, size_t level)
{
	for (size_t i = 0; i < level && i < CH_SHOW_PATH_MAX; i++)
		if (c->path[i] == addr)
			return true;
	return false;
}

uint32_t ch_show_value(struct ch_show_ctx *c, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	const struct ch_py_builtins *b = &c->b;
	if (c->err)
		return CH_SHOW_NO_NODE;
	if (!addr)
		return ch_show_node_new(c, CH_SHOW_NULL, 0, UINT32_MAX);
	if (addr == b->none || addr == b->true_ || addr == b->false_ || addr == b->ellipsis || addr == b->notimplemented) {
		enum ch_show_kind k = addr == b->none ? CH_SHOW_NONE : addr == b->ellipsis ? CH_SHOW_ELLIPSIS
				      : addr == b->notimplemented ? CH_SHOW_NOTIMPLEMENTED : CH_SHOW_BOOL;
		uint32_t node = ch_show_node_new(c, k, addr, UINT32_MAX);
		if (node != CH_SHOW_NO_NODE)
			c->t->nodes[node].num = addr == b->true_;
		return node;
	}
	uint64_t type;
	uint32_t ti;
	if (!ch_py_object_plausible(py, addr, &type)) {
		uint32_t node = ch_show_node_new(c, CH_SHOW_UNREADABLE, addr, UINT32_MAX);
		if (node != CH_SHOW_NO_NODE)
			c->t->nodes[node].err = ch_show_arena_printf(c, "0x%" PRIx64 " does not read as a Python object", addr);
		return node;
	}
	struct ch_error *err = ch_py_type_intern(py, type, &ti);
	if (err) {
		c->err = err;
		return CH_SHOW_NO_NODE;
	}
	enum ch_show_kind k = ch_show_classify(c, type, ti);
	uint32_t node = ch_show_node_new(c, k, addr, ti);
	if (node == CH_SHOW_NO_NODE)
		return node;
	if (on_path(c, addr, level)) {
		c->t->nodes[node].flags |= CH_SHOW_RECURSIVE;
		return node;
	}
	if (level < CH_SHOW_PATH_MAX)
		c->path[level] = addr;
	switch (k) {
	case CH_SHOW_STR: show_str(c, node, addr, level); break;
	case CH_SHOW_BYTES: show_bytes(c, node, addr, level); break;
	case CH_SHOW_INT: show_int(c, node, addr, level); break;
	case CH_SHOW_FLOAT: show_float(c, node, addr); break;
	case CH_SHOW_TUPLE: show_sequence(c, node, addr, level, false); break;
	case CH_SHOW_LIST: show_sequence(c, node, addr, level, true); break;
	case CH_SHOW_DICT: show_dict(c, node, addr, level); break;
	case CH_SHOW_SET:
	case CH_SHOW_FROZENSET: show_set(c, node, addr, level); break;
	default: ch_show_object(c, node, addr, type, k, level); break;
	}
	return node;
}

struct ch_error *ch_py_show_build(struct ch_python *py, uint64_t addr, size_t depth, bool redact, struct ch_show_tree *t)
{
	memset(t, 0, sizeof(*t));
	struct ch_show_ctx c = {.py = py, .t = t, .depth = depth > CH_SHOW_MAX_DEPTH ? CH_SHOW_MAX_DEPTH : depth,
				.redact = redact};
	const struct ch_py_builtins *b = ch_py_builtins_get(py);
	if (!b)
		return &ch_error_nomem;
	c.b = *b;
	uint64_t dummy = ch_python_symbol(py, "_PySet_Dummy");
	if (dummy)
		ch_error_free(ch_as_read_u64(&py->proc->as, dummy, &c.set_dummy));
	ch_show_value(&c, addr, 0);
	if (c.err) {
		ch_show_tree_deinit(t);
		return c.err;
	}
	return NULL;
}
