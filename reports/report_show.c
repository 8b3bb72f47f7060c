/* `show`: one object's table row and its value tree (readers/cpython/py_show.h)
 * as Python-like text and as structured JSON. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "graph/analysis.h"
#include "readers/cpython/py_repr.h"
#include "readers/cpython/py_show.h"
#include "report.h"

/* The repr text is bounded by the tree; this caps it once more. */
#define CH_SHOW_TEXT_MAX (1u << 20)

struct sbuf {
	char *p;
	size_t n, cap;
	bool full;
};

static void sb_add(struct sbuf *s, const char *x, size_t n)
{
	if (s->full)
		return;
	if (s->n + n + 1 > CH_SHOW_TEXT_MAX) {
		s->full = true;
		return;
	}
	if (s->n + n + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		while (ncap < s->n + n + 1)
			ncap *= 2;
		char *p = realloc(s->p, ncap);
		if (!p) {
			s->full = true;
			return;
		}
		s->p = p;
		s->cap = ncap;
	}
	memcpy(s->p + s->n, x, n);
	s->n += n;
	s->p[s->n] = '\0';
}

static void sb_str(struct sbuf *s, const char *x)
{
	sb_add(s, x, strlen(x));
}

CH_PRINTF(2, 3) static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Next code point of the arena's UTF-8 (surrogates included as 3 bytes). */
static uint32_t utf8_next(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *q = *p;
	uint32_t c = *q++;
	int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
	if (more)
		c &= 0x3Fu >> more;
	for (; more > 0 && q < end; more--)
		c = (c << 6) | (*q++ & 0x3F);
	*p = q;
	return c;
}

/* repr() of UTF-8 text (len bytes) with the quote given or, when 0, the
 * one repr would choose for this text. */
static void sb_repr_text(struct sbuf *s, const char *text, size_t len, char quote)
{
	if (!quote)
		quote = ch_repr_quote(memchr(text, '\'', len) != NULL, memchr(text, '"', len) != NULL);
	sb_add(s, &quote, 1);
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	while (p < end) {
		char esc[12];
		size_t k = ch_repr_str_char(utf8_next(&p, end), quote, esc);
		sb_add(s, esc, k);
	}
	sb_add(s, &quote, 1);
}

static const struct ch_show_node *child(const struct ch_show_tree *t, const struct ch_show_node *n)
{
	return n->first_child == CH_SHOW_NO_NODE ? NULL : &t->nodes[n->first_child];
}

static const struct ch_show_node *next(const struct ch_show_tree *t, const struct ch_show_node *n)
{
	return n->next_sibling == CH_SHOW_NO_NODE ? NULL : &t->nodes[n->next_sibling];
}

static const struct ch_show_node *labelled(const struct ch_show_tree *t, const struct ch_show_node *n, const char *l)
{
	for (const struct ch_show_node *k = child(t, n); k; k = next(t, k))
		if (strcmp(ch_show_text(t, k->label), l) == 0)
			return k;
	return NULL;
}

static const char *type_name(const struct ch_python *py, const struct ch_show_node *n)
{
	return n->type == UINT32_MAX ? "?" : ch_py_type_name(&py->types, n->type);
}

static void render(struct sbuf *s, const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n);

/* None's address (a dead weak proxy's referent before 3.13). */
static uint64_t py_none(const struct ch_python *py)
{
	return py->builtins ? py->builtins->none : 0;
}

/* A weakref.proxy (its type is one of the two builtin proxy types). */
static bool is_proxy(const struct ch_python *py, const struct ch_show_node *n)
{
	const uint64_t t = n->type < py->types.n ? py->types.v[n->type].addr : 0;
	return t && py->builtins && (t == py->builtins->weakproxy_type || t == py->builtins->weakcallproxy_type);
}

/* b'...' of a bytes or bytearray node's text. escape_single: before 3.15
 * bytearray's repr() escapes a single quote whichever quote it chose
 * (Objects/bytearrayobject.c). */
static void render_bytes(struct sbuf *s, const struct ch_show_tree *t, const struct ch_show_node *n, bool escape_single)
{
	const char *text = ch_show_text(t, n->text);
	char q = n->num ? (char)n->num : '\'';
	sb_printf(s, "b%c", q);
	for (uint32_t i = 0; i < n->text_len; i++) {
		char esc[8];
		if (escape_single && text[i] == '\'')
			sb_str(s, "\\'");
		else
			sb_add(s, esc, ch_repr_bytes_char((uint8_t)text[i], q, esc));
	}
	sb_add(s, &q, 1);
}

/* open, items joined by ", " (dict: key: value), "... N more", close. */
static void render_items(struct sbuf *s, const struct ch_python *py, const struct ch_show_tree *t,
			 const struct ch_show_node *n, const char *open, const char *close, bool pairs)
{
	sb_str(s, open);
	uint64_t k = 0;
	for (const struct ch_show_node *c = child(t, n); c; c = next(t, c), k++) {
		if (k)
			sb_str(s, ", ");
		render(s, py, t, c);
		if (pairs && (c = next(t, c))) {
			sb_str(s, ": ");
			render(s, py, t, c);
		}
	}
	if (n->length > k) /* k counts pairs for a dict, as length does */
		sb_printf(s, "%s... %" PRIu64 " more", k ? ", " : "", n->length - k);
	if (!pairs && n->kind == CH_SHOW_TUPLE && n->length == 1)
		sb_str(s, ",");
	sb_str(s, close);
}

static void render_int(struct sbuf *s, const struct ch_show_tree *t, const struct ch_show_node *n)
{
	const char *text = ch_show_text(t, n->text), *aux = ch_show_text(t, n->aux);
	if (!(n->flags & CH_SHOW_TRUNCATED))
		sb_str(s, text);
	else if (*text)
		sb_printf(s, "%s...%s (%" PRIu64 " digits)", text, aux, n->length);
	else
		sb_printf(s, "<%sint of %" PRId64 " bits%s%s>", n->flags & CH_SHOW_NEGATIVE ? "negative " : "", n->num,
			  *aux ? ", ending ..." : "", aux);
}

static void render(struct sbuf *s, const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n)
{
	const char *tn = type_name(py, n), *text = ch_show_text(t, n->text), *aux = ch_show_text(t, n->aux);
	const bool elided = n->flags & CH_SHOW_ELIDED;
	if (n->flags & CH_SHOW_RECURSIVE) {
		const char *r = n->kind == CH_SHOW_LIST ? "[...]" : n->kind == CH_SHOW_TUPLE ? "(...)"
			: n->kind == CH_SHOW_DICT || n->kind == CH_SHOW_SET ? "{...}" : NULL;
		if (r)
			sb_str(s, r);
		else
			sb_printf(s, "<%s object at 0x%" PRIx64 " ...>", tn, n->addr);
		return;
	}
	if (elided && n->kind >= CH_SHOW_TUPLE && n->kind <= CH_SHOW_DICT) {
		sb_printf(s, "<%s len %" PRIu64 " at 0x%" PRIx64 ">", tn, n->length, n->addr);
		return;
	}
	const struct ch_show_node *a, *b;
	switch ((enum ch_show_kind)n->kind) {
	case CH_SHOW_NULL: sb_str(s, "<NULL>"); break;
	case CH_SHOW_UNREADABLE: sb_printf(s, "<unreadable 0x%" PRIx64 ">", n->addr); break;
	case CH_SHOW_NONE: sb_str(s, "None"); break;
	case CH_SHOW_BOOL: sb_str(s, n->num ? "True" : "False"); break;
	case CH_SHOW_ELLIPSIS: sb_str(s, "Ellipsis"); break;
	case CH_SHOW_NOTIMPLEMENTED: sb_str(s, "NotImplemented"); break;
	case CH_SHOW_INT: render_int(s, t, n); break;
	case CH_SHOW_FLOAT: sb_str(s, text); break;
	case CH_SHOW_STR:
	case CH_SHOW_BYTES: {
		const bool str = n->kind == CH_SHOW_STR;
		if (n->flags & CH_SHOW_REDACTED) {
			sb_printf(s, "<%s len %" PRIu64 ">", str ? "str" : "bytes", n->length);
			break;
		}
		char q = n->num ? (char)n->num : '\'';
		if (str)
			sb_repr_text(s, text, n->text_len, q);
		else
			render_bytes(s, t, n, false);
		if (n->flags & CH_SHOW_TRUNCATED)
			sb_printf(s, "... (%" PRIu64 " %s)", n->length, str ? "characters" : "bytes");
		break;
	}
	case CH_SHOW_TUPLE: render_items(s, py, t, n, "(", ")", false); break;
	case CH_SHOW_LIST: render_items(s, py, t, n, "[", "]", false); break;
	case CH_SHOW_DICT: render_items(s, py, t, n, "{", "}", true); break;
	case CH_SHOW_SET:
		if (!n->length)
			sb_str(s, "set()");
		else
			render_items(s, py, t, n, "{", "}", false);
		break;
	case CH_SHOW_FROZENSET:
		if (!n->length)
			sb_str(s, "frozenset()");
		else
			render_items(s, py, t, n, "frozenset({", "})", false);
		break;
	case CH_SHOW_INSTANCE: {
		sb_printf(s, "<%s object at 0x%" PRIx64, tn, n->addr);
		uint64_t k = 0;
		for (const struct ch_show_node *c = child(t, n); c; c = next(t, c), k++) {
			sb_printf(s, "%s%s=", k ? ", " : ": ", ch_show_text(t, c->label));
			render(s, py, t, c);
		}
		if (!elided && n->length > k)
			sb_printf(s, "%s... %" PRIu64 " more", k ? ", " : ": ", n->length - k);
		sb_str(s, ">");
		break;
	}
	case CH_SHOW_FUNCTION: sb_printf(s, "<function %s at 0x%" PRIx64 ">", text, n->addr); break;
	case CH_SHOW_CODE:
		sb_printf(s, "<code object %s at 0x%" PRIx64 ", file \"%s\", line %" PRId64 ">", text, n->addr, aux, n->num);
		break;
	case CH_SHOW_MODULE:
		sb_str(s, "<module ");
		sb_repr_text(s, text, strlen(text), 0);
		if (n->aux != CH_SHOW_NO_TEXT && (n->flags & CH_SHOW_ORIGIN)) {
			sb_printf(s, " (%s)", aux);
		} else if (n->aux != CH_SHOW_NO_TEXT) {
			sb_str(s, " from ");
			sb_repr_text(s, aux, strlen(aux), 0);
		}
		sb_str(s, ">");
		break;
	case CH_SHOW_TYPE: sb_printf(s, "<class '%s'>", text); break;
	case CH_SHOW_CELL:
		sb_printf(s, "<cell at 0x%" PRIx64, n->addr);
		if ((a = child(t, n))) {
			sb_str(s, ": ");
			render(s, py, t, a);
		} else if (!elided) {
			sb_str(s, ": empty");
		}
		sb_str(s, ">");
		break;
	case CH_SHOW_METHOD:
		a = labelled(t, n, "function");
		b = labelled(t, n, "self");
		if (elided || !a || !b) {
			sb_printf(s, "<%s object at 0x%" PRIx64 ">", tn, n->addr);
			break;
		}
		sb_str(s, "<bound method ");
		if (a->kind == CH_SHOW_FUNCTION)
			sb_str(s, ch_show_text(t, a->text));
		else
			render(s, py, t, a);
		sb_str(s, " of ");
		render(s, py, t, b);
		sb_str(s, ">");
		break;
	case CH_SHOW_CLASSMETHOD:
	case CH_SHOW_STATICMETHOD:
		if (elided || !(a = child(t, n))) {
			sb_printf(s, "<%s object at 0x%" PRIx64 ">", tn, n->addr);
			break;
		}
		sb_printf(s, "<%s(", tn);
		render(s, py, t, a);
		sb_str(s, ")>");
		break;
	case CH_SHOW_WEAKREF:
		if (is_proxy(py, n)) {
			/* proxy_repr: 3.13 wrote it as weakref_repr does; before, to
			 * the referent's tp_name (a dead one's: None's, NoneType) */
			if (py->version.major == 3 && py->version.minor < 13)
				sb_printf(s, "<weakproxy at 0x%" PRIx64 " to %s at 0x%" PRIx64 ">", n->addr,
					  n->num ? (*text ? text : "?") : "NoneType", n->num ? (uint64_t)n->num : py_none(py));
			else if (n->num)
				sb_printf(s, "<weakproxy at 0x%" PRIx64 "; to '%s' at 0x%" PRIx64 ">", n->addr, *text ? text : "?",
					  (uint64_t)n->num);
			else
				sb_printf(s, "<weakproxy at 0x%" PRIx64 "; dead>", n->addr);
		} else if (n->num)
			sb_printf(s, "<weakref at 0x%" PRIx64 "; to '%s' at 0x%" PRIx64 ">", n->addr, *text ? text : "?",
				  (uint64_t)n->num);
		else
			sb_printf(s, "<weakref at 0x%" PRIx64 "; dead>", n->addr);
		break;
	case CH_SHOW_EXCEPTION:
		/* BaseException.__repr__: Name(arg) for one argument, else Name + repr(args) */
		a = labelled(t, n, "args");
		if (elided || !a || a->kind != CH_SHOW_TUPLE) {
			sb_printf(s, "%s(...)", text);
		} else if (a->length == 1 && child(t, a) && !(py->version.major == 3 && py->version.minor < 7)) {
			/* (3.6 wrote repr(args) for one argument too: Name('k',)) */
			sb_printf(s, "%s(", text);
			render(s, py, t, child(t, a));
			sb_str(s, ")");
		} else {
			sb_str(s, text);
			render(s, py, t, a);
		}
		break;
	case CH_SHOW_FRAME:
		if (py->version.major == 3 && py->version.minor < 7) { /* frame_repr came with 3.7 */
			sb_printf(s, "<frame object at 0x%" PRIx64 ">", n->addr);
			break;
		}
		sb_printf(s, "<frame at 0x%" PRIx64 ", file ", n->addr);
		sb_repr_text(s, aux, strlen(aux), 0);
		sb_printf(s, ", line %" PRId64 ", code %s>", n->num, text);
		break;
	case CH_SHOW_GENERATOR: sb_printf(s, "<%s object %s at 0x%" PRIx64 ">", tn, text, n->addr); break;
	case CH_SHOW_FUTURE: {
		const char *dot = strrchr(tn, '.');
		sb_printf(s, "<%s %s", dot ? dot + 1 : tn, aux);
		if (n->text != CH_SHOW_NO_TEXT)
			sb_printf(s, " name='%s'", text);
		static const char *const fields[] = {"coro", "result", "exception", "awaiting"};
		for (size_t i = 0; i < 4; i++)
			if ((a = labelled(t, n, fields[i]))) {
				sb_printf(s, " %s=", fields[i]);
				render(s, py, t, a);
			}
		sb_str(s, ">");
		break;
	}
	case CH_SHOW_PARTIAL:
		a = labelled(t, n, "func");
		if (elided || !a) {
			sb_printf(s, "<%s object at 0x%" PRIx64 ">", tn, n->addr);
			break;
		}
		sb_printf(s, "%s(", tn);
		render(s, py, t, a);
		if ((b = labelled(t, n, "args")) && b->kind == CH_SHOW_TUPLE)
			for (const struct ch_show_node *c = child(t, b); c; c = next(t, c)) {
				sb_str(s, ", ");
				render(s, py, t, c);
			}
		if ((b = labelled(t, n, "keywords")) && b->kind == CH_SHOW_DICT)
			for (const struct ch_show_node *c = child(t, b); c; c = next(t, c)) {
				const struct ch_show_node *v = next(t, c);
				sb_str(s, ", ");
				if (c->kind == CH_SHOW_STR && !(c->flags & CH_SHOW_REDACTED))
					sb_str(s, ch_show_text(t, c->text));
				else
					render(s, py, t, c);
				sb_str(s, "=");
				if (v)
					render(s, py, t, v);
				c = v;
				if (!c)
					break;
			}
		sb_str(s, ")");
		break;
	case CH_SHOW_BYTEARRAY:
		if (n->flags & CH_SHOW_REDACTED) {
			sb_printf(s, "<bytearray len %" PRIu64 ">", n->length);
			break;
		}
		sb_str(s, "bytearray(");
		/* 3.15 made bytearray's repr() the bytes one (checked on 3.15.2) */
		render_bytes(s, t, n, py->version.major == 3 && py->version.minor < 15);
		sb_str(s, ")");
		break;
	case CH_SHOW_MEMORYVIEW:
		sb_printf(s, "<%smemory at 0x%" PRIx64 ">", n->flags & CH_SHOW_RELEASED ? "released " : "", n->addr);
		break;
	case CH_SHOW_LRU_CACHE:
	case CH_SHOW_PATTERN:
	case CH_SHOW_IO:
	case CH_SHOW_NDARRAY:
		/* the reader's one-line rendering (stacks --locals prints the same) */
		if (n->text != CH_SHOW_NO_TEXT)
			sb_add(s, text, n->text_len);
		else
			sb_printf(s, "<%s object at 0x%" PRIx64 ">", tn, n->addr);
		break;
	case CH_SHOW_TRACEBACK:
	case CH_SHOW_CONTEXT:
	case CH_SHOW_PROPERTY:
	case CH_SHOW_OBJECT:
	default: sb_printf(s, "<%s object at 0x%" PRIx64 ">", tn, n->addr); break;
	}
	if (n->flags & CH_SHOW_DAMAGED)
		sb_str(s, " <damaged>");
}

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

/* JSON string of arena UTF-8 that may hold surrogates (invalid in JSON
 * text): those become U+FFFD. */
static json_t *utf8_json(const char *text, size_t len)
{
	char *buf = malloc(len + 1);
	if (!buf)
		return json_null();
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t o = 0;
	while (p < end) {
		const unsigned char *start = p;
		uint32_t c = utf8_next(&p, end);
		if (c >= 0xD800 && c <= 0xDFFF) {
			memcpy(buf + o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else {
			memcpy(buf + o, start, (size_t)(p - start));
			o += (size_t)(p - start);
		}
	}
	json_t *j = json_stringn(buf, o);
	free(buf);
	return j ? j : json_null();
}

static json_t *value_json(const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n);
static void lib_json(json_t *o, const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n);

static void set_child(json_t *o, const char *key, const struct ch_python *py, const struct ch_show_tree *t,
		      const struct ch_show_node *c)
{
	json_object_set_new(o, key, c ? value_json(py, t, c) : json_null());
}

static json_t *value_json(const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n)
{
	json_t *o = json_object();
	const char *text = ch_show_text(t, n->text), *aux = ch_show_text(t, n->aux);
	json_object_set_new(o, "kind", ch_json_text(ch_show_kind_name((enum ch_show_kind)n->kind)));
	if (n->kind >= CH_SHOW_INT || n->kind == CH_SHOW_UNREADABLE)
		json_object_set_new(o, "address", hex(n->addr));
	if (n->type != UINT32_MAX)
		json_object_set_new(o, "type", ch_json_text(type_name(py, n)));
	static const struct { uint8_t flag; const char *key; } flags[] = {
		{CH_SHOW_TRUNCATED, "truncated"}, {CH_SHOW_ELIDED, "elided"},
		{CH_SHOW_RECURSIVE, "recursive"}, {CH_SHOW_REDACTED, "redacted"},
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (n->flags & flags[i].flag)
			json_object_set_new(o, flags[i].key, json_true());
	if (n->flags & CH_SHOW_DAMAGED || n->kind == CH_SHOW_UNREADABLE)
		json_object_set_new(o, "damaged", ch_json_text(ch_show_text(t, n->err)));
	if (n->flags & CH_SHOW_RECURSIVE)
		return o;
	const bool elided = n->flags & CH_SHOW_ELIDED;
	json_t *arr;
	switch ((enum ch_show_kind)n->kind) {
	case CH_SHOW_BOOL: json_object_set_new(o, "value", json_boolean(n->num)); break;
	case CH_SHOW_INT:
		if (!(n->flags & CH_SHOW_TRUNCATED)) {
			json_object_set_new(o, "decimal", ch_json_text(text));
			break;
		}
		json_object_set_new(o, "negative", json_boolean(n->flags & CH_SHOW_NEGATIVE));
		if (*text) {
			json_object_set_new(o, "digits", json_integer((json_int_t)n->length));
			json_object_set_new(o, "leading", ch_json_text(text + (*text == '-')));
		} else {
			json_object_set_new(o, "bits", json_integer((json_int_t)n->num));
		}
		if (*aux)
			json_object_set_new(o, "trailing", ch_json_text(aux));
		break;
	case CH_SHOW_FLOAT: json_object_set_new(o, "repr", ch_json_text(text)); break;
	case CH_SHOW_STR:
	case CH_SHOW_BYTES:
	case CH_SHOW_BYTEARRAY:
		json_object_set_new(o, "length", json_integer((json_int_t)n->length));
		if (n->flags & CH_SHOW_REDACTED)
			break;
		if (n->kind == CH_SHOW_STR) {
			json_object_set_new(o, "text", utf8_json(text, n->text_len));
		} else {
			char *h = malloc((size_t)n->text_len * 2 + 1);
			for (uint32_t i = 0; h && i < n->text_len; i++)
				snprintf(h + 2 * i, 3, "%02x", (unsigned char)text[i]);
			if (h)
				h[2 * n->text_len] = '\0';
			json_object_set_new(o, "hex", h ? ch_json_text(h) : json_null());
			free(h);
		}
		break;
	case CH_SHOW_TUPLE:
	case CH_SHOW_LIST:
	case CH_SHOW_SET:
	case CH_SHOW_FROZENSET:
	case CH_SHOW_DICT:
		json_object_set_new(o, "length", json_integer((json_int_t)n->length));
		if (elided)
			break;
		arr = json_array();
		for (const struct ch_show_node *c = child(t, n); c; c = next(t, c)) {
			if (n->kind != CH_SHOW_DICT) {
				json_array_append_new(arr, value_json(py, t, c));
				continue;
			}
			json_t *pair = json_array();
			json_array_append_new(pair, value_json(py, t, c));
			if ((c = next(t, c)))
				json_array_append_new(pair, value_json(py, t, c));
			json_array_append_new(arr, pair);
			if (!c)
				break;
		}
		json_object_set_new(o, "items", arr);
		break;
	case CH_SHOW_INSTANCE:
		json_object_set_new(o, "length", json_integer((json_int_t)n->length));
		if (elided)
			break;
		arr = json_object();
		for (const struct ch_show_node *c = child(t, n); c; c = next(t, c))
			json_object_set_new(arr, ch_show_text(t, c->label), value_json(py, t, c));
		json_object_set_new(o, "attributes", arr);
		break;
	case CH_SHOW_FUNCTION:
	case CH_SHOW_CODE:
		json_object_set_new(o, n->kind == CH_SHOW_CODE ? "name" : "qualname", ch_json_text(text));
		json_object_set_new(o, "file", n->aux == CH_SHOW_NO_TEXT ? json_null() : ch_json_text(aux));
		json_object_set_new(o, "line", json_integer((json_int_t)n->num));
		break;
	case CH_SHOW_MODULE:
		json_object_set_new(o, "name", ch_json_text(text));
		json_object_set_new(o, n->flags & CH_SHOW_ORIGIN ? "origin" : "file",
				    n->aux == CH_SHOW_NO_TEXT ? json_null() : ch_json_text(aux));
		break;
	case CH_SHOW_TYPE:
		json_object_set_new(o, "name", ch_json_text(text));
		if (elided)
			break;
		arr = json_array();
		for (const struct ch_show_node *c = child(t, n); c; c = next(t, c))
			json_array_append_new(arr, value_json(py, t, c));
		json_object_set_new(o, "bases", arr);
		break;
	case CH_SHOW_CELL:
		if (!elided)
			set_child(o, "contents", py, t, child(t, n));
		break;
	case CH_SHOW_METHOD:
		if (!elided) {
			set_child(o, "function", py, t, labelled(t, n, "function"));
			set_child(o, "self", py, t, labelled(t, n, "self"));
		}
		break;
	case CH_SHOW_CLASSMETHOD:
	case CH_SHOW_STATICMETHOD:
		if (!elided)
			set_child(o, "callable", py, t, child(t, n));
		break;
	case CH_SHOW_PROPERTY:
		if (!elided) {
			set_child(o, "fget", py, t, labelled(t, n, "fget"));
			set_child(o, "fset", py, t, labelled(t, n, "fset"));
			set_child(o, "fdel", py, t, labelled(t, n, "fdel"));
		}
		break;
	case CH_SHOW_WEAKREF:
		json_object_set_new(o, "target", n->num ? hex((uint64_t)n->num) : json_null());
		json_object_set_new(o, "target_type", n->num && *text ? ch_json_text(text) : json_null()); /* tp_name */
		json_object_set_new(o, "proxy", json_boolean(is_proxy(py, n)));
		break;
	case CH_SHOW_LRU_CACHE:
	case CH_SHOW_PATTERN:
	case CH_SHOW_IO:
	case CH_SHOW_NDARRAY: lib_json(o, py, t, n); break;
	case CH_SHOW_EXCEPTION: {
		json_object_set_new(o, "name", ch_json_text(text));
		const struct ch_show_node *args = labelled(t, n, "args");
		arr = json_array();
		for (const struct ch_show_node *c = args ? child(t, args) : NULL; c; c = next(t, c))
			json_array_append_new(arr, value_json(py, t, c));
		json_object_set_new(o, "args", elided ? json_null() : arr);
		if (elided)
			json_decref(arr);
		set_child(o, "cause", py, t, labelled(t, n, "__cause__"));
		set_child(o, "context", py, t, labelled(t, n, "__context__"));
		json_object_set_new(o, "traceback_depth", json_integer((json_int_t)n->num));
		break;
	}
	case CH_SHOW_TRACEBACK:
		json_object_set_new(o, "depth", json_integer((json_int_t)n->num));
		arr = json_array();
		for (const struct ch_show_node *c = child(t, n); c; c = next(t, c)) {
			json_t *e = json_object();
			json_object_set_new(e, "name", ch_json_text(ch_show_text(t, c->text)));
			json_object_set_new(e, "file", ch_json_text(ch_show_text(t, c->aux)));
			json_object_set_new(e, "line", c->num >= 0 ? json_integer((json_int_t)c->num) : json_null());
			json_object_set_new(e, "frame", hex(c->addr));
			json_array_append_new(arr, e);
		}
		json_object_set_new(o, "entries", arr);
		break;
	case CH_SHOW_FRAME:
		json_object_set_new(o, "name", ch_json_text(text));
		json_object_set_new(o, "file", ch_json_text(aux));
		json_object_set_new(o, "line", n->num >= 0 ? json_integer((json_int_t)n->num) : json_null());
		if (elided)
			break;
		arr = json_object();
		for (const struct ch_show_node *c = child(t, n); c; c = next(t, c))
			json_object_set_new(arr, ch_show_text(t, c->label), value_json(py, t, c));
		json_object_set_new(o, "locals", arr);
		break;
	case CH_SHOW_GENERATOR:
		json_object_set_new(o, "qualname", ch_json_text(text));
		json_object_set_new(o, "state", ch_json_text(aux));
		json_object_set_new(o, "line", n->num >= 0 ? json_integer((json_int_t)n->num) : json_null());
		set_child(o, "awaiting", py, t, labelled(t, n, "awaiting"));
		break;
	case CH_SHOW_FUTURE:
		json_object_set_new(o, "state", ch_json_text(aux));
		json_object_set_new(o, "name", n->text != CH_SHOW_NO_TEXT ? ch_json_text(text) : json_null());
		json_object_set_new(o, "callbacks", json_integer((json_int_t)n->length));
		if (elided)
			break;
		set_child(o, "coro", py, t, labelled(t, n, "coro"));
		set_child(o, "result", py, t, labelled(t, n, "result"));
		set_child(o, "exception", py, t, labelled(t, n, "exception"));
		set_child(o, "awaiting", py, t, labelled(t, n, "awaiting"));
		break;
	case CH_SHOW_PARTIAL:
		if (elided)
			break;
		set_child(o, "func", py, t, labelled(t, n, "func"));
		set_child(o, "args", py, t, labelled(t, n, "args"));
		set_child(o, "keywords", py, t, labelled(t, n, "keywords"));
		break;
	case CH_SHOW_CONTEXT: json_object_set_new(o, "length", json_integer((json_int_t)n->length)); break;
	case CH_SHOW_MEMORYVIEW: {
		long long itemsize = 0;
		int ndim = 0, readonly = 0;
		if (sscanf(aux, "%lld %d %d", &itemsize, &ndim, &readonly) != 3)
			itemsize = ndim = readonly = 0;
		json_object_set_new(o, "released", json_boolean(n->flags & CH_SHOW_RELEASED));
		json_object_set_new(o, "nbytes", json_integer((json_int_t)n->num));
		json_object_set_new(o, "itemsize", json_integer(itemsize));
		json_object_set_new(o, "ndim", json_integer(ndim));
		json_object_set_new(o, "readonly", json_boolean(readonly));
		json_object_set_new(o, "length", (int64_t)n->length >= 0 ? json_integer((json_int_t)n->length) : json_null());
		break;
	}
	default: break;
	}
	return o;
}

/* lru_cache wrappers, re.Pattern, _io objects, numpy.ndarray
 * (readers/cpython/py_show.h documents the node fields). */
static void lib_json(json_t *o, const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n)
{
	const char *aux = ch_show_text(t, n->aux), *extra = ch_show_text(t, n->extra);
	const struct ch_show_node *c;
	long long a = 0, b = 0;
	switch ((enum ch_show_kind)n->kind) {
	case CH_SHOW_LRU_CACHE:
		json_object_set_new(o, "qualname", ch_json_text(aux));
		json_object_set_new(o, "currsize", json_integer((json_int_t)n->length));
		json_object_set_new(o, "maxsize", n->num >= 0 ? json_integer((json_int_t)n->num) : json_null());
		if (sscanf(extra, "%lld %lld", &a, &b) == 2) {
			json_object_set_new(o, "hits", json_integer(a));
			json_object_set_new(o, "misses", json_integer(b));
		}
		set_child(o, "function", py, t, labelled(t, n, "function"));
		break;
	case CH_SHOW_PATTERN:
		set_child(o, "pattern", py, t, labelled(t, n, "pattern"));
		json_object_set_new(o, "flags", json_integer((json_int_t)n->num));
		json_object_set_new(o, "flag_names", ch_json_text(aux));
		break;
	case CH_SHOW_IO:
		set_child(o, "name", py, t, labelled(t, n, "name"));
		json_object_set_new(o, "mode", n->aux != CH_SHOW_NO_TEXT ? ch_json_text(aux) : json_null());
		json_object_set_new(o, "closed", n->num >= 0 ? json_boolean(n->num) : json_null());
		if (n->extra != CH_SHOW_NO_TEXT && sscanf(extra, "%lld", &a) == 1)
			json_object_set_new(o, "fd", json_integer(a));
		if ((c = labelled(t, n, "encoding")) && c->kind == CH_SHOW_STR && !(c->flags & CH_SHOW_REDACTED))
			json_object_set_new(o, "encoding", ch_json_text(ch_show_text(t, c->text)));
		c = labelled(t, n, "raw") ? labelled(t, n, "raw") : labelled(t, n, "buffer");
		if (c)
			json_object_set_new(o, labelled(t, n, "raw") ? "raw" : "buffer", hex(c->addr));
		break;
	case CH_SHOW_NDARRAY: {
		json_t *shape = json_array();
		for (const char *p = extra; *p;) {
			char *end;
			json_array_append_new(shape, json_integer((json_int_t)strtoll(p, &end, 10)));
			if (end == p)
				break;
			p = *end == ',' ? end + 1 : end;
		}
		json_object_set_new(o, "shape", shape);
		json_object_set_new(o, "ndim", json_integer((json_int_t)n->length));
		json_object_set_new(o, "dtype", ch_json_text(aux));
		json_object_set_new(o, "nbytes", n->num >= 0 ? json_integer((json_int_t)n->num) : json_null());
		json_object_set_new(o, "owndata", json_boolean(n->flags & CH_SHOW_OWNDATA));
		c = labelled(t, n, "base");
		json_object_set_new(o, "base", c ? hex(c->addr) : json_null());
		c = labelled(t, n, "numpy_version");
		json_object_set_new(o, "numpy_version",
				    c && c->kind == CH_SHOW_STR ? ch_json_text(ch_show_text(t, c->text)) : json_null());
		break;
	}
	default: break;
	}
}

/* The repr text of the whole tree (malloc'd; NULL on exhaustion). */
static char *tree_text(const struct ch_python *py, const struct ch_show_tree *t, const struct ch_show_node *n)
{
	struct sbuf s = {0};
	render(&s, py, t, n);
	if (s.full) {
		if (s.p && s.n + 4 <= s.cap)
			memcpy(s.p + s.n, "...", 4);
		else if (s.p && s.n >= 3)
			memcpy(s.p + s.n - 3, "...", 4);
	}
	if (!s.p)
		s.p = strdup("");
	return s.p;
}

json_t *ch_report_show_json(const struct ch_python *py, const struct ch_analysis *a, uint32_t index,
			    const struct ch_show_tree *t)
{
	const struct ch_object_table *o = &a->heap.objects;
	json_t *doc = json_object();
	json_object_set_new(doc, "runtime", ch_report_runtime_json(py));
	json_object_set_new(doc, "address", hex(o->addr[index]));
	json_object_set_new(doc, "type", ch_json_text(ch_py_type_name(&py->types, o->type[index])));
	json_object_set_new(doc, "refcount", json_integer((json_int_t)ch_objects_refcnt(o, index)));
	json_object_set_new(doc, "generation", ch_json_text(ch_report_gen_key(o->gen[index])));
	json_object_set_new(doc, "size", json_integer((json_int_t)ch_objects_size(o, index)));
	json_object_set_new(doc, "referents", json_integer((json_int_t)(a->edges.offsets[index + 1] - a->edges.offsets[index])));
	json_object_set_new(doc, "value", value_json(py, t, &t->nodes[0]));
	char *text = tree_text(py, t, &t->nodes[0]);
	json_object_set_new(doc, "repr", text ? utf8_json(text, strlen(text)) : json_null());
	free(text);
	return doc;
}

void ch_report_show_text(FILE *out, const struct ch_python *py, const struct ch_analysis *a, uint32_t index,
			 const struct ch_show_tree *t)
{
	const struct ch_object_table *o = &a->heap.objects;
	const struct ch_show_node *root = &t->nodes[0];
	fprintf(out, "object      0x%" PRIx64 "\n", o->addr[index]);
	fprintf(out, "type        %s\n", ch_py_type_name(&py->types, o->type[index]));
	fprintf(out, "refcount    %" PRId64 "\n", ch_objects_refcnt(o, index));
	fprintf(out, "generation  %s\n", ch_report_gen_key(o->gen[index]));
	fprintf(out, "size        %" PRIu64 " bytes\n", ch_objects_size(o, index));
	fprintf(out, "referents   %" PRIu32 "\n", a->edges.offsets[index + 1] - a->edges.offsets[index]);
	if (root->kind == CH_SHOW_FUNCTION || root->kind == CH_SHOW_CODE)
		fprintf(out, "defined     %s:%" PRId64 "\n", ch_show_text(t, root->aux), root->num);
	if (root->flags & CH_SHOW_DAMAGED)
		fprintf(out, "damaged     %s\n", ch_show_text(t, root->err));
	if (root->kind == CH_SHOW_INSTANCE && !(root->flags & CH_SHOW_ELIDED)) {
		/* one attribute a line */
		fprintf(out, "value       <%s object at 0x%" PRIx64 "> with %" PRIu64 " attribute%s\n",
			ch_py_type_name(&py->types, o->type[index]), o->addr[index], root->length,
			root->length == 1 ? "" : "s");
		uint64_t k = 0;
		for (const struct ch_show_node *c = child(t, root); c; c = next(t, c), k++) {
			char *v = tree_text(py, t, c);
			fprintf(out, "  .%s = %s\n", ch_show_text(t, c->label), v ? v : "?");
			free(v);
		}
		if (root->length > k)
			fprintf(out, "  ... %" PRIu64 " more\n", root->length - k);
		return;
	}
	char *v = tree_text(py, t, root);
	fprintf(out, "value       %s\n", v ? v : "?");
	free(v);
}
