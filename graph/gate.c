#include "gate.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An expression is a command-line argument: small limits, checked. */
#define GATE_MAX_TOKENS 128
#define GATE_MAX_NODES 128
#define GATE_MAX_DEPTH 32
#define GATE_MAX_NAME 256

enum vtype { V_INT, V_BOOL, V_STR };

struct value {
	enum vtype type;
	int64_t i;          /* V_INT, and V_BOOL as 0/1 */
	const char *s;      /* V_STR */
};

/* Figures. HEAP figures belong to one heap (in a diff: a., b., or b when
 * unqualified); DIFF figures exist only in a diff. FUNC figures take a
 * type name: type('app.Session').count. */
enum fig_id {
	F_TOTAL_COUNT, F_TOTAL_BYTES, F_TOTAL_TYPES, F_TOTAL_GEN0, F_TOTAL_GEN1, F_TOTAL_GEN2, F_TOTAL_PERMANENT,
	F_TOTAL_UNTRACKED,
	F_UNR_OBJECTS, F_UNR_BYTES, F_UNR_CYCLES, F_UNR_GROUPS, F_FREED_OBJECTS, F_FREED_BYTES,
	F_GC_ENABLED, F_GC_COLLECTING, F_GC_DEBUG, F_GC_GARBAGE, F_GC_FROZEN,
	F_GC_COUNT0, F_GC_COUNT1, F_GC_COUNT2, F_GC_THRESHOLD0, F_GC_THRESHOLD1, F_GC_THRESHOLD2,
	F_RUNTIME_VERSION, F_RUNTIME_PID, F_PARTIAL,
	F_TYPE_COUNT, F_TYPE_BYTES, F_UNR_TYPE_COUNT, F_UNR_TYPE_BYTES,
	/* diff only */
	F_GROWTH_COUNT, F_GROWTH_BYTES, F_GROWTH_TYPE_COUNT, F_GROWTH_TYPE_BYTES,
	F_UNR_OBJECTS_DELTA, F_UNR_BYTES_DELTA, F_TYPES_NEW, F_TYPES_GROWN, F_TYPES_SHRUNK, F_TYPES_GONE,
};

struct figure {
	const char *name; /* "func().field" for figures that take a type name */
	enum fig_id id;
	enum vtype type;
	bool diff;        /* only in a diff, never with a./b. */
};

static const struct figure figures[] = {
	{"totals.count", F_TOTAL_COUNT, V_INT, false},
	{"totals.bytes", F_TOTAL_BYTES, V_INT, false},
	{"totals.types", F_TOTAL_TYPES, V_INT, false},
	{"totals.gen0", F_TOTAL_GEN0, V_INT, false},
	{"totals.gen1", F_TOTAL_GEN1, V_INT, false},
	{"totals.gen2", F_TOTAL_GEN2, V_INT, false},
	{"totals.permanent", F_TOTAL_PERMANENT, V_INT, false},
	{"totals.untracked", F_TOTAL_UNTRACKED, V_INT, false},
	{"unreachable.objects", F_UNR_OBJECTS, V_INT, false},
	{"unreachable.bytes", F_UNR_BYTES, V_INT, false},
	{"unreachable.cycles", F_UNR_CYCLES, V_INT, false},
	{"unreachable.groups", F_UNR_GROUPS, V_INT, false},
	{"freed_with.objects", F_FREED_OBJECTS, V_INT, false},
	{"freed_with.bytes", F_FREED_BYTES, V_INT, false},
	{"gc.enabled", F_GC_ENABLED, V_BOOL, false},
	{"gc.collecting", F_GC_COLLECTING, V_BOOL, false},
	{"gc.debug", F_GC_DEBUG, V_INT, false},
	{"gc.garbage", F_GC_GARBAGE, V_INT, false},
	{"gc.frozen", F_GC_FROZEN, V_INT, false},
	{"gc.count0", F_GC_COUNT0, V_INT, false},
	{"gc.count1", F_GC_COUNT1, V_INT, false},
	{"gc.count2", F_GC_COUNT2, V_INT, false},
	{"gc.threshold0", F_GC_THRESHOLD0, V_INT, false},
	{"gc.threshold1", F_GC_THRESHOLD1, V_INT, false},
	{"gc.threshold2", F_GC_THRESHOLD2, V_INT, false},
	{"runtime.version", F_RUNTIME_VERSION, V_STR, false},
	{"runtime.pid", F_RUNTIME_PID, V_INT, false},
	{"partial", F_PARTIAL, V_BOOL, false},
	{"type().count", F_TYPE_COUNT, V_INT, false},
	{"type().bytes", F_TYPE_BYTES, V_INT, false},
	{"unreachable().count", F_UNR_TYPE_COUNT, V_INT, false},
	{"unreachable().bytes", F_UNR_TYPE_BYTES, V_INT, false},
	{"growth.count", F_GROWTH_COUNT, V_INT, true},
	{"growth.bytes", F_GROWTH_BYTES, V_INT, true},
	{"growth().count", F_GROWTH_TYPE_COUNT, V_INT, true},
	{"growth().bytes", F_GROWTH_TYPE_BYTES, V_INT, true},
	{"unreachable.objects_delta", F_UNR_OBJECTS_DELTA, V_INT, true},
	{"unreachable.bytes_delta", F_UNR_BYTES_DELTA, V_INT, true},
	{"types.new", F_TYPES_NEW, V_INT, true},
	{"types.grown", F_TYPES_GROWN, V_INT, true},
	{"types.shrunk", F_TYPES_SHRUNK, V_INT, true},
	{"types.gone", F_TYPES_GONE, V_INT, true},
};

/* ---- tokens ------------------------------------------------------------- */

enum tok_kind { T_END, T_NUM, T_STR, T_NAME, T_DOT, T_LPAREN, T_RPAREN, T_MINUS, T_CMP, T_AND, T_OR, T_NOT };
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct token {
	enum tok_kind kind;
	size_t pos, len;  /* in the text */
	int64_t num;      /* T_NUM, units applied */
	enum cmp_op op;   /* T_CMP */
};

enum node_kind { N_CONST, N_REF, N_CMP, N_AND, N_OR, N_NOT };

struct node {
	enum node_kind kind;
	enum vtype type;
	struct value v;   /* N_CONST */
	const struct figure *fig; /* N_REF */
	int side;         /* N_REF: 'a', 'b' or 0 (unqualified) */
	char *arg;        /* N_REF of a FUNC figure: the type name */
	size_t pos, len;  /* N_REF: its text, for the explanation */
	enum cmp_op op;   /* N_CMP */
	int l, r;         /* operands (N_NOT: l) */
};

struct ch_gate {
	char *text;
	enum ch_gate_scope scope;
	struct node nodes[GATE_MAX_NODES];
	int nnodes, root;
	char *strings;    /* N_CONST string values, and ref arguments, point in here */
};

struct parser {
	struct ch_gate *g;
	struct token toks[GATE_MAX_TOKENS];
	int ntoks, at, depth;
	char *sbuf;       /* = g->strings */
	size_t slen;
	struct ch_error *err;
};

static void fail(struct parser *p, size_t pos, const char *fmt, ...) CH_PRINTF(3, 4);
static void fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	if (p->err)
		return;
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err = ch_error_new(CH_ERR_USAGE, "at column %zu: %s", pos + 1, msg);
}

/* Unit multipliers, case-insensitive. */
static bool unit_factor(const char *u, size_t n, double *f)
{
	static const struct {
		const char *name;
		double factor;
	} units[] = {
		{"k", 1e3}, {"kb", 1e3}, {"kib", 1024.0}, {"m", 1e6}, {"mb", 1e6}, {"mib", 1048576.0},
		{"g", 1e9}, {"gb", 1e9}, {"gib", 1073741824.0},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n && strncasecmp(units[i].name, u, n) == 0) {
			*f = units[i].factor;
			return true;
		}
	return false;
}

static void lex_number(struct parser *p, const char *s, size_t *i, struct token *t)
{
	size_t start = *i, k = *i;
	uint64_t whole = 0;
	bool overflow = false;
	while (isdigit((unsigned char)s[k])) {
		uint64_t dgt = (uint64_t)(s[k] - '0');
		if (whole > (UINT64_MAX - dgt) / 10)
			overflow = true;
		else
			whole = whole * 10 + dgt;
		k++;
	}
	double frac = 0, scale = 1;
	bool has_frac = false;
	if (s[k] == '.' && isdigit((unsigned char)s[k + 1])) {
		has_frac = true;
		k++;
		while (isdigit((unsigned char)s[k])) {
			scale /= 10;
			frac += (s[k] - '0') * scale;
			k++;
		}
	}
	size_t u = k;
	while (isalpha((unsigned char)s[k]))
		k++;
	double factor = 1;
	if (k > u && !unit_factor(s + u, k - u, &factor))
		fail(p, u, "unknown unit '%.*s' (K, KB, KiB, M, MB, MiB, G, GB, GiB)", (int)(k - u), s + u);
	else if (has_frac && k == u)
		fail(p, start, "a number with a fraction needs a unit (1.5MB); counts are whole numbers");
	double v = ((double)whole + frac) * factor;
	bool too_large = overflow || v >= 9.2e18 || whole > INT64_MAX;
	if (too_large)
		fail(p, start, "number '%.*s' is too large", (int)(k - start), s + start);
	t->kind = T_NUM;
	/* After an error the parse goes on to its end, so the value must still
	 * be one an int64_t holds (converting 7e19 is undefined behaviour). */
	t->num = too_large ? 0 : factor == 1 ? (int64_t)whole : (int64_t)(v + 0.5);
	*i = k;
}

static void lex(struct parser *p, const char *s)
{
	size_t i = 0;
	for (;;) {
		while (isspace((unsigned char)s[i]))
			i++;
		if (p->ntoks == GATE_MAX_TOKENS - 1) {
			fail(p, i, "expression too long (at most %d tokens)", GATE_MAX_TOKENS - 1);
			return;
		}
		struct token *t = &p->toks[p->ntoks++];
		memset(t, 0, sizeof(*t));
		t->pos = i;
		char c = s[i];
		if (!c) {
			t->kind = T_END;
			return;
		}
		if (isdigit((unsigned char)c)) {
			lex_number(p, s, &i, t);
		} else if (isalpha((unsigned char)c) || c == '_') {
			size_t k = i;
			while (isalnum((unsigned char)s[k]) || s[k] == '_')
				k++;
			t->kind = T_NAME;
			t->len = k - i;
			if (t->len == 3 && strncmp(s + i, "and", 3) == 0)
				t->kind = T_AND;
			else if (t->len == 2 && strncmp(s + i, "or", 2) == 0)
				t->kind = T_OR;
			else if (t->len == 3 && strncmp(s + i, "not", 3) == 0)
				t->kind = T_NOT;
			i = k;
		} else if (c == '\'' || c == '"') {
			const char *end = strchr(s + i + 1, c);
			if (!end) {
				fail(p, i, "unterminated string");
				return;
			}
			t->kind = T_STR;
			t->pos = i + 1;
			t->len = (size_t)(end - (s + i + 1));
			i = (size_t)(end - s) + 1;
		} else if (c == '.' || c == '(' || c == ')' || c == '-') {
			t->kind = c == '.' ? T_DOT : c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_MINUS;
			i++;
		} else if ((c == '&' && s[i + 1] == '&') || (c == '|' && s[i + 1] == '|')) {
			t->kind = c == '&' ? T_AND : T_OR;
			i += 2;
		} else if (c == '=' && s[i + 1] == '=') {
			t->kind = T_CMP, t->op = OP_EQ, i += 2;
		} else if (c == '!' && s[i + 1] == '=') {
			t->kind = T_CMP, t->op = OP_NE, i += 2;
		} else if (c == '<' || c == '>') {
			bool eq = s[i + 1] == '=';
			t->kind = T_CMP;
			t->op = c == '<' ? (eq ? OP_LE : OP_LT) : (eq ? OP_GE : OP_GT);
			i += eq ? 2 : 1;
		} else if (c == '!') {
			t->kind = T_NOT;
			i++;
		} else if (c == '=') {
			fail(p, i, "'=' is not an operator; use '==' to compare");
			return;
		} else {
			fail(p, i, "unexpected character '%c'", c);
			return;
		}
		if (p->err)
			return;
		if (t->kind != T_STR)
			t->len = i - t->pos;
	}
}

/* ---- parser ------------------------------------------------------------- */

static struct token *peek(struct parser *p)
{
	return &p->toks[p->at];
}

static int new_node(struct parser *p, enum node_kind kind, enum vtype type)
{
	if (p->g->nnodes == GATE_MAX_NODES) {
		fail(p, peek(p)->pos, "expression too long");
		return -1;
	}
	int n = p->g->nnodes++;
	memset(&p->g->nodes[n], 0, sizeof(p->g->nodes[n]));
	p->g->nodes[n].kind = kind;
	p->g->nodes[n].type = type;
	return n;
}

/* Copies a string of the text into the gate's string buffer (sized by the
 * text, so it always fits). */
static char *keep(struct parser *p, size_t pos, size_t len)
{
	char *s = p->sbuf + p->slen;
	memcpy(s, p->g->text + pos, len);
	s[len] = '\0';
	p->slen += len + 1;
	return s;
}

static const char *tok_text(struct parser *p, const struct token *t, char *buf, size_t n)
{
	if (t->kind == T_END)
		return "the end";
	snprintf(buf, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), p->g->text + t->pos);
	return buf;
}

static int parse_or(struct parser *p);

static const struct figure *find_figure(const char *name)
{
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		if (strcmp(figures[i].name, name) == 0)
			return &figures[i];
	return NULL;
}

static int parse_ref(struct parser *p)
{
	struct token *first = peek(p);
	int side = 0;
	char name[GATE_MAX_NAME] = "";
	size_t nlen = 0;
	char *arg = NULL;
	/* a. / b. select a side of a diff */
	if (first->len == 1 && (p->g->text[first->pos] == 'a' || p->g->text[first->pos] == 'b') &&
	    p->toks[p->at + 1].kind == T_DOT) {
		if (p->g->scope != CH_GATE_DIFF) {
			fail(p, first->pos, "'%c.' names a side of a diff; this command reports one heap",
			     p->g->text[first->pos]);
			return -1;
		}
		side = p->g->text[first->pos];
		p->at += 2;
		if (peek(p)->kind != T_NAME) {
			fail(p, peek(p)->pos, "a figure name must follow '%c.'", side);
			return -1;
		}
	}
	for (;;) {
		struct token *t = peek(p);
		if (t->kind != T_NAME) {
			char buf[64];
			fail(p, t->pos, "expected a figure name after '.', got %s", tok_text(p, t, buf, sizeof(buf)));
			return -1;
		}
		if (nlen + t->len + 3 >= sizeof(name)) {
			fail(p, t->pos, "figure name too long");
			return -1;
		}
		memcpy(name + nlen, p->g->text + t->pos, t->len);
		nlen += t->len;
		name[nlen] = '\0';
		p->at++;
		if (peek(p)->kind == T_LPAREN && !arg) {
			p->at++;
			struct token *s = peek(p);
			if (s->kind != T_STR) {
				fail(p, s->pos, "%s(...) takes a type name in quotes, e.g. %s('app.Session')", name, name);
				return -1;
			}
			arg = keep(p, s->pos, s->len);
			p->at++;
			if (peek(p)->kind != T_RPAREN) {
				fail(p, peek(p)->pos, "expected ')' after the type name");
				return -1;
			}
			p->at++;
			memcpy(name + nlen, "()", 3);
			nlen += 2;
			if (peek(p)->kind != T_DOT) {
				fail(p, peek(p)->pos, "%s must be followed by .count or .bytes", name);
				return -1;
			}
		}
		if (peek(p)->kind != T_DOT)
			break;
		name[nlen++] = '.';
		name[nlen] = '\0';
		p->at++;
	}
	const struct figure *f = find_figure(name);
	size_t end = p->toks[p->at - 1].pos + p->toks[p->at - 1].len;
	if (!f) {
		fail(p, first->pos, "unknown figure '%s' (docs/gating.md lists the figures)", name);
		return -1;
	}
	if (f->diff && p->g->scope != CH_GATE_DIFF) {
		fail(p, first->pos, "'%s' compares two heaps: it is a figure of diff only", name);
		return -1;
	}
	if (f->diff && side) {
		fail(p, first->pos, "'%s' is a change between a and b; it takes no '%c.'", name, side);
		return -1;
	}
	int n = new_node(p, N_REF, f->type);
	if (n < 0)
		return -1;
	struct node *nd = &p->g->nodes[n];
	nd->fig = f;
	nd->side = side;
	nd->arg = arg;
	nd->pos = first->pos;
	nd->len = end - first->pos;
	return n;
}

static int parse_operand(struct parser *p)
{
	struct token *t = peek(p);
	char buf[64];
	if (t->kind == T_NUM || (t->kind == T_MINUS && p->toks[p->at + 1].kind == T_NUM)) {
		bool neg = t->kind == T_MINUS;
		if (neg)
			t = &p->toks[++p->at];
		p->at++;
		int n = new_node(p, N_CONST, V_INT);
		if (n >= 0)
			p->g->nodes[n].v = (struct value){.type = V_INT, .i = neg ? -t->num : t->num};
		return n;
	}
	if (t->kind == T_STR) {
		p->at++;
		int n = new_node(p, N_CONST, V_STR);
		if (n >= 0)
			p->g->nodes[n].v = (struct value){.type = V_STR, .s = keep(p, t->pos, t->len)};
		return n;
	}
	if (t->kind == T_LPAREN) {
		p->at++;
		int n = parse_or(p);
		if (n >= 0 && peek(p)->kind != T_RPAREN) {
			fail(p, peek(p)->pos, "expected ')', got %s", tok_text(p, peek(p), buf, sizeof(buf)));
			return -1;
		}
		p->at++;
		return n;
	}
	if (t->kind == T_NAME) {
		const char *s = p->g->text + t->pos;
		bool is_true = t->len == 4 && strncmp(s, "true", 4) == 0;
		bool is_false = t->len == 5 && strncmp(s, "false", 5) == 0;
		if (is_true || is_false) {
			p->at++;
			int n = new_node(p, N_CONST, V_BOOL);
			if (n >= 0)
				p->g->nodes[n].v = (struct value){.type = V_BOOL, .i = is_true};
			return n;
		}
		return parse_ref(p);
	}
	fail(p, t->pos, "expected a number, a string, true/false, a figure or '(', got %s",
	     tok_text(p, t, buf, sizeof(buf)));
	return -1;
}

static const char *type_name(enum vtype t)
{
	return t == V_INT ? "a number" : t == V_BOOL ? "a boolean" : "a string";
}

static int parse_compare(struct parser *p)
{
	size_t pos = peek(p)->pos;
	int l = parse_operand(p);
	if (l < 0 || peek(p)->kind != T_CMP)
		return l;
	struct token *op = peek(p);
	p->at++;
	int r = parse_operand(p);
	if (r < 0)
		return -1;
	enum vtype lt = p->g->nodes[l].type, rt = p->g->nodes[r].type;
	if (lt != rt) {
		fail(p, pos, "cannot compare %s with %s", type_name(lt), type_name(rt));
		return -1;
	}
	if (lt != V_INT && op->op != OP_EQ && op->op != OP_NE) {
		fail(p, op->pos, "%s compares only with == and !=", type_name(lt));
		return -1;
	}
	if (peek(p)->kind == T_CMP) {
		fail(p, peek(p)->pos, "comparisons do not chain; join them with 'and'");
		return -1;
	}
	int n = new_node(p, N_CMP, V_BOOL);
	if (n >= 0) {
		p->g->nodes[n].op = op->op;
		p->g->nodes[n].l = l;
		p->g->nodes[n].r = r;
	}
	return n;
}

static int need_bool(struct parser *p, int n, size_t pos)
{
	if (n >= 0 && p->g->nodes[n].type != V_BOOL) {
		fail(p, pos, "%s is not a condition; compare it (e.g. ... > 0)", type_name(p->g->nodes[n].type));
		return -1;
	}
	return n;
}

static int parse_unary(struct parser *p)
{
	if (++p->depth > GATE_MAX_DEPTH) {
		fail(p, peek(p)->pos, "expression nested too deeply");
		return -1;
	}
	int n;
	if (peek(p)->kind == T_NOT) {
		p->at++;
		int x = need_bool(p, parse_unary(p), peek(p)->pos);
		n = x < 0 ? -1 : new_node(p, N_NOT, V_BOOL);
		if (n >= 0)
			p->g->nodes[n].l = x;
	} else {
		n = parse_compare(p);
	}
	p->depth--;
	return n;
}

/* and/or chains: kind N_AND or N_OR over sub, both sides booleans. */
static int parse_chain(struct parser *p, enum tok_kind tok, enum node_kind kind, int (*sub)(struct parser *))
{
	size_t pos = peek(p)->pos;
	int l = sub(p);
	while (l >= 0 && peek(p)->kind == tok) {
		if (need_bool(p, l, pos) < 0)
			return -1;
		p->at++;
		pos = peek(p)->pos;
		int r = need_bool(p, sub(p), pos);
		if (r < 0)
			return -1;
		int n = new_node(p, kind, V_BOOL);
		if (n < 0)
			return -1;
		p->g->nodes[n].l = l;
		p->g->nodes[n].r = r;
		l = n;
	}
	return l;
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, T_AND, N_AND, parse_unary);
}

static int parse_or(struct parser *p)
{
	if (++p->depth > GATE_MAX_DEPTH) {
		fail(p, peek(p)->pos, "expression nested too deeply");
		return -1;
	}
	int n = parse_chain(p, T_OR, N_OR, parse_and);
	p->depth--;
	return n;
}

struct ch_error *ch_gate_parse(const char *text, enum ch_gate_scope scope, struct ch_gate **out)
{
	*out = NULL;
	struct ch_gate *g = calloc(1, sizeof(*g));
	struct parser *p = calloc(1, sizeof(*p));
	size_t n = strlen(text);
	if (g) {
		g->text = strdup(text);
		g->strings = malloc(n + 1);
	}
	if (!g || !p || !g->text || !g->strings) {
		ch_gate_free(g);
		free(p);
		return &ch_error_nomem;
	}
	g->scope = scope;
	p->g = g;
	p->sbuf = g->strings;
	lex(p, text);
	if (!p->err && p->toks[0].kind == T_END)
		fail(p, 0, "empty expression");
	if (!p->err)
		g->root = need_bool(p, parse_or(p), 0);
	if (!p->err && peek(p)->kind != T_END) {
		char buf[64];
		fail(p, peek(p)->pos, "unexpected %s", tok_text(p, peek(p), buf, sizeof(buf)));
	}
	struct ch_error *err = p->err;
	free(p);
	if (err) {
		ch_gate_free(g);
		return err;
	}
	*out = g;
	return NULL;
}

void ch_gate_free(struct ch_gate *g)
{
	if (!g)
		return;
	free(g->text);
	free(g->strings);
	free(g);
}

const char *ch_gate_text(const struct ch_gate *g)
{
	return g->text;
}

/* ---- evaluation --------------------------------------------------------- */

static int64_t sat(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int64_t gc_gen(const int *v, int ngen, int i)
{
	return i < ngen ? v[i] : 0;
}

static struct value heap_figure(const struct figure *f, const char *arg, const struct ch_heap_digest *h)
{
	struct value v = {.type = f->type};
	const struct ch_digest_type *t = arg ? ch_digest_type_find(h, arg) : NULL;
	switch (f->id) {
	case F_TOTAL_COUNT: v.i = sat(h->totals.count); break;
	case F_TOTAL_BYTES: v.i = sat(h->totals.bytes); break;
	case F_TOTAL_TYPES: v.i = sat(h->ntypes); break;
	case F_TOTAL_GEN0: v.i = sat(h->totals.gen[0]); break;
	case F_TOTAL_GEN1: v.i = sat(h->totals.gen[1]); break;
	case F_TOTAL_GEN2: v.i = sat(h->totals.gen[2]); break;
	case F_TOTAL_PERMANENT: v.i = sat(h->totals.gen[CH_GEN_PERMANENT]); break;
	case F_TOTAL_UNTRACKED: v.i = sat(h->totals.gen[CH_GEN_UNTRACKED]); break;
	case F_UNR_OBJECTS: v.i = sat(h->unreachable); break;
	case F_UNR_BYTES: v.i = sat(h->unreachable_bytes); break;
	case F_UNR_CYCLES: v.i = sat(h->cycles); break;
	case F_UNR_GROUPS: v.i = sat(h->groups_total); break;
	case F_FREED_OBJECTS: v.i = sat(h->freed_with); break;
	case F_FREED_BYTES: v.i = sat(h->freed_with_bytes); break;
	case F_GC_ENABLED: v.i = h->gc.enabled; break;
	case F_GC_COLLECTING: v.i = h->gc.collecting; break;
	case F_GC_DEBUG: v.i = h->gc.debug; break;
	case F_GC_GARBAGE: v.i = h->gc.garbage; break;
	case F_GC_FROZEN: v.i = sat(h->frozen); break;
	case F_GC_COUNT0: v.i = gc_gen(h->gc.counts, h->gc.ngenerations, 0); break;
	case F_GC_COUNT1: v.i = gc_gen(h->gc.counts, h->gc.ngenerations, 1); break;
	case F_GC_COUNT2: v.i = gc_gen(h->gc.counts, h->gc.ngenerations, 2); break;
	case F_GC_THRESHOLD0: v.i = gc_gen(h->gc.thresholds, h->gc.ngenerations, 0); break;
	case F_GC_THRESHOLD1: v.i = gc_gen(h->gc.thresholds, h->gc.ngenerations, 1); break;
	case F_GC_THRESHOLD2: v.i = gc_gen(h->gc.thresholds, h->gc.ngenerations, 2); break;
	case F_RUNTIME_VERSION: v.s = ch_digest_str(h, h->version); break;
	case F_RUNTIME_PID: v.i = h->pid; break;
	case F_PARTIAL: v.i = h->diag.partial; break;
	case F_TYPE_COUNT: v.i = t ? sat(t->count) : 0; break;
	case F_TYPE_BYTES: v.i = t ? sat(t->bytes) : 0; break;
	case F_UNR_TYPE_COUNT: v.i = t ? sat(t->unreachable) : 0; break;
	case F_UNR_TYPE_BYTES: v.i = t ? sat(t->unreachable_bytes) : 0; break;
	default: break;
	}
	return v;
}

static struct value diff_figure(const struct figure *f, const char *arg, const struct ch_gate_env *env)
{
	struct value v = {.type = V_INT};
	const struct ch_diff *d = env->diff;
	switch (f->id) {
	case F_GROWTH_COUNT: v.i = d->count_delta; break;
	case F_GROWTH_BYTES: v.i = d->bytes_delta; break;
	case F_GROWTH_TYPE_COUNT:
	case F_GROWTH_TYPE_BYTES: {
		const struct ch_digest_type *ta = ch_digest_type_find(env->a, arg);
		const struct ch_digest_type *tb = ch_digest_type_find(env->b, arg);
		if (f->id == F_GROWTH_TYPE_COUNT)
			v.i = ch_diff_delta(ta ? ta->count : 0, tb ? tb->count : 0);
		else
			v.i = ch_diff_delta(ta ? ta->bytes : 0, tb ? tb->bytes : 0);
		break;
	}
	case F_UNR_OBJECTS_DELTA: v.i = d->unreachable_delta; break;
	case F_UNR_BYTES_DELTA: v.i = d->unreachable_bytes_delta; break;
	case F_TYPES_NEW: v.i = (int64_t)d->nstatus[CH_DIFF_NEW]; break;
	case F_TYPES_GROWN: v.i = (int64_t)d->nstatus[CH_DIFF_GROWN]; break;
	case F_TYPES_SHRUNK: v.i = (int64_t)d->nstatus[CH_DIFF_SHRUNK]; break;
	case F_TYPES_GONE: v.i = (int64_t)d->nstatus[CH_DIFF_GONE]; break;
	default: break;
	}
	return v;
}

static struct value ref_value(const struct node *n, const struct ch_gate_env *env)
{
	if (n->fig->diff)
		return diff_figure(n->fig, n->arg, env);
	const struct ch_heap_digest *h = env->heap;
	if (env->diff)
		h = n->side == 'a' ? env->a : env->b;
	return heap_figure(n->fig, n->arg, h);
}

const char *ch_gate_unknown_type(const struct ch_gate *g, const struct ch_gate_env *env, const char **similar)
{
	*similar = NULL;
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		if (n->kind != N_REF || !n->arg)
			continue;
		const struct ch_heap_digest *h = env->diff ? env->b : env->heap, *other = env->diff ? env->a : NULL;
		if (ch_digest_type_known(h, n->arg) || (other && ch_digest_type_known(other, n->arg)))
			continue;
		*similar = ch_digest_type_similar(h, n->arg);
		if (!*similar && other)
			*similar = ch_digest_type_similar(other, n->arg);
		return n->arg;
	}
	return NULL;
}

/* Expression trees are at most GATE_MAX_DEPTH deep (checked when parsing). */
static struct value eval(const struct ch_gate *g, int i, const struct ch_gate_env *env)
{
	const struct node *n = &g->nodes[i];
	struct value v = {.type = V_BOOL};
	switch (n->kind) {
	case N_CONST:
		return n->v;
	case N_REF:
		return ref_value(n, env);
	case N_NOT:
		v.i = !eval(g, n->l, env).i;
		return v;
	case N_AND:
		v.i = eval(g, n->l, env).i && eval(g, n->r, env).i;
		return v;
	case N_OR:
		v.i = eval(g, n->l, env).i || eval(g, n->r, env).i;
		return v;
	case N_CMP: {
		struct value l = eval(g, n->l, env), r = eval(g, n->r, env);
		int c = l.type == V_STR ? strcmp(l.s, r.s) : (l.i > r.i) - (l.i < r.i);
		switch (n->op) {
		case OP_EQ: v.i = c == 0; break;
		case OP_NE: v.i = c != 0; break;
		case OP_LT: v.i = c < 0; break;
		case OP_LE: v.i = c <= 0; break;
		case OP_GT: v.i = c > 0; break;
		case OP_GE: v.i = c >= 0; break;
		}
		return v;
	}
	}
	return v;
}

bool ch_gate_eval(const struct ch_gate *g, const struct ch_gate_env *env, char *why, size_t why_size)
{
	bool held = eval(g, g->root, env).i != 0;
	size_t at = 0;
	if (why_size)
		why[0] = '\0';
	for (int i = 0; i < g->nnodes && why_size; i++) {
		const struct node *n = &g->nodes[i];
		if (n->kind != N_REF)
			continue;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = g->nodes[j].kind == N_REF && g->nodes[j].len == n->len &&
			       strncmp(g->text + g->nodes[j].pos, g->text + n->pos, n->len) == 0;
		if (seen || at >= why_size)
			continue;
		struct value v = ref_value(n, env);
		char val[160];
		if (v.type == V_INT)
			snprintf(val, sizeof(val), "%" PRId64, v.i);
		else if (v.type == V_BOOL)
			snprintf(val, sizeof(val), "%s", v.i ? "true" : "false");
		else
			snprintf(val, sizeof(val), "'%s'", v.s);
		int w = snprintf(why + at, why_size - at, "%s%.*s = %s", at ? ", " : "", (int)n->len, g->text + n->pos,
				 val);
		at += w > 0 ? (size_t)w : 0;
	}
	return held;
}
