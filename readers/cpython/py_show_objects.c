/* The value tree of `show` for objects other than scalars and containers:
 * instances of class-statement types (their attributes, whatever the
 * version stores them in, read through the reference visitor of
 * py_refs.c), functions, code, modules, types, cells, bound methods,
 * classmethod/staticmethod, property, weak references, and the rest. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "readers/cpython/py_attr.h"
#include "readers/cpython/py_refs.h"
#include "readers/cpython/py_show_internal.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

#define CH_TPFLAGS_TYPE_SUBCLASS (1UL << 31)
#define CH_T_OBJECT 6 /* structmember.h / descrobject.h, 3.8-3.13 */
#define CH_T_OBJECT_EX 16
#define CH_TYPE_CHAIN_MAX 64
#define CH_SLOTS_MAX 4096
#define CH_NAME_MAX 1024

enum ch_show_kind ch_show_classify(const struct ch_show_ctx *c, uint64_t type, uint32_t ti)
{
	const struct ch_py_builtins *b = &c->b;
	static const struct { size_t off; enum ch_show_kind kind; } exact[] = {
		{offsetof(struct ch_py_builtins, long_type), CH_SHOW_INT},
		{offsetof(struct ch_py_builtins, float_type), CH_SHOW_FLOAT},
		{offsetof(struct ch_py_builtins, str_type), CH_SHOW_STR},
		{offsetof(struct ch_py_builtins, bytes_type), CH_SHOW_BYTES},
		{offsetof(struct ch_py_builtins, tuple_type), CH_SHOW_TUPLE},
		{offsetof(struct ch_py_builtins, list_type), CH_SHOW_LIST},
		{offsetof(struct ch_py_builtins, dict_type), CH_SHOW_DICT},
		{offsetof(struct ch_py_builtins, set_type), CH_SHOW_SET},
		{offsetof(struct ch_py_builtins, frozenset_type), CH_SHOW_FROZENSET},
		{offsetof(struct ch_py_builtins, function_type), CH_SHOW_FUNCTION},
		{offsetof(struct ch_py_builtins, code_type), CH_SHOW_CODE},
		{offsetof(struct ch_py_builtins, module_type), CH_SHOW_MODULE},
		{offsetof(struct ch_py_builtins, cell_type), CH_SHOW_CELL},
		{offsetof(struct ch_py_builtins, method_type), CH_SHOW_METHOD},
		{offsetof(struct ch_py_builtins, classmethod_type), CH_SHOW_CLASSMETHOD},
		{offsetof(struct ch_py_builtins, staticmethod_type), CH_SHOW_STATICMETHOD},
		{offsetof(struct ch_py_builtins, property_type), CH_SHOW_PROPERTY},
		{offsetof(struct ch_py_builtins, weakref_type), CH_SHOW_WEAKREF},
		{offsetof(struct ch_py_builtins, weakproxy_type), CH_SHOW_WEAKREF},
		{offsetof(struct ch_py_builtins, weakcallproxy_type), CH_SHOW_WEAKREF},
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		uint64_t a;
		memcpy(&a, (const char *)b + exact[i].off, sizeof(a));
		if (a && a == type)
			return exact[i].kind;
	}
	enum ch_show_kind rk = ch_show_classify_runtime(c, type, ti);
	if (rk == CH_SHOW_OBJECT)
		rk = ch_show_classify_lib(c, type, ti);
	if (rk != CH_SHOW_OBJECT)
		return rk;
	const struct ch_py_type *ty = &c->py->types.v[ti];
	if (ty->flags & CH_TPFLAGS_TYPE_SUBCLASS)
		return CH_SHOW_TYPE;
	if (ty->flags & CH_TPFLAGS_HEAPTYPE)
		return CH_SHOW_INSTANCE;
	return CH_SHOW_OBJECT;
}

/* Arena copy of the str at addr (names, file paths: identifiers and code
 * metadata, never redacted). */
static uint32_t str_text(struct ch_show_ctx *c, uint64_t addr, struct ch_error **err)
{
	char buf[CH_NAME_MAX];
	bool trunc = false;
	*err = ch_py_str_read(c->py, addr, buf, sizeof(buf), &trunc);
	if (*err)
		return CH_SHOW_NO_TEXT;
	return ch_show_arena_printf(c, "%s%s", buf, trunc ? "..." : "");
}

/* Name of the __slots__ member stored at byte offset moff of instances of
 * type (the PyMemberDef arrays that follow each heap type on the chain). */
static uint32_t slot_name(struct ch_show_ctx *c, uint64_t type, uint64_t moff)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	if (!ch_py_has(l, CH_PY_MEMBERDEF_NAME) || !ch_py_has(l, CH_PY_SIZEOF_MEMBERDEF))
		return CH_SHOW_NO_TEXT;
	uint64_t t = type;
	for (int depth = 0; depth < CH_TYPE_CHAIN_MAX && t; depth++) {
		uint64_t nslots = 0, meta, metasize;
		struct ch_error *err = ch_py_read_u64(py, t, CH_PY_VAR_SIZE, &nslots);
		if (!err && nslots && nslots <= CH_SLOTS_MAX) {
			err = ch_py_read_u64(py, t, CH_PY_OB_TYPE, &meta);
			if (!err)
				err = ch_py_read_u64(py, meta, CH_PY_TP_BASICSIZE, &metasize);
			for (uint64_t i = 0; !err && i < nslots; i++) {
				uint64_t m = t + metasize + i * (uint64_t)ch_py_off(py, CH_PY_SIZEOF_MEMBERDEF), off, name;
				uint32_t mtype;
				char buf[256];
				bool trunc;
				if ((err = ch_as_read_u32(as, m + (uint64_t)ch_py_off(py, CH_PY_MEMBERDEF_TYPE), &mtype)) ||
				    (err = ch_as_read_u64(as, m + (uint64_t)ch_py_off(py, CH_PY_MEMBERDEF_OFFSET), &off)))
					break;
				if (off != moff || (mtype != CH_T_OBJECT && mtype != CH_T_OBJECT_EX))
					continue;
				if ((err = ch_as_read_u64(as, m + (uint64_t)ch_py_off(py, CH_PY_MEMBERDEF_NAME), &name)) ||
				    (err = ch_py_cstr_read(py, name, "member name", buf, sizeof(buf), &trunc)))
					break;
				return ch_show_arena_add(c, buf, strlen(buf));
			}
		}
		if (!err)
			err = ch_py_read_u64(py, t, CH_PY_TP_BASE, &t);
		if (err) {
			ch_error_free(err);
			break;
		}
	}
	return CH_SHOW_NO_TEXT;
}

/* Attributes found by the reference visitor, read before any child is
 * built (building reads other objects). */
struct attr_refs {
	struct { uint64_t target, key, offset; bool slot; } v[CH_SHOW_ATTRS];
	size_t n;
	uint64_t total;   /* all attributes outside a __dict__ object */
	uint64_t values;  /* of them, managed values (not __slots__) */
	uint64_t dict;    /* the __dict__ object, or 0 */
};

static int collect_attr(void *arg, const struct ch_ref *r)
{
	struct attr_refs *a = arg;
	if (r->kind == CH_REF_FIELD && r->name && strcmp(r->name, "__dict__") == 0) {
		a->dict = r->target;
		return 0;
	}
	if (r->kind != CH_REF_ATTR || r->name == CH_REF_LOCAL_NAME)
		return 0;
	if (a->n < CH_SHOW_ATTRS) {
		bool slot = r->name && strcmp(r->name, "__slots__") == 0;
		a->v[a->n].target = r->target;
		a->v[a->n].key = slot ? 0 : r->key;
		a->v[a->n].offset = r->index;
		a->v[a->n].slot = slot;
		a->n++;
	}
	a->total++;
	a->values += !(r->name && strcmp(r->name, "__slots__") == 0);
	return 0;
}

static void show_instance(struct ch_show_ctx *c, uint32_t node, uint64_t addr, uint64_t type, size_t level)
{
	struct ch_python *py = c->py;
	if (!ch_show_expand(c, node, level))
		return;
	struct attr_refs a = {0};
	struct ch_error *err = ch_py_refs_visit(py, addr, c->t->nodes[node].type, collect_attr, &a);
	ch_show_damage(c, node, err);
	uint32_t last = CH_SHOW_NO_NODE;
	for (size_t i = 0; i < a.n && !c->err; i++) {
		uint32_t label = CH_SHOW_NO_TEXT;
		if (a.v[i].slot)
			label = slot_name(c, type, a.v[i].offset);
		else if (a.v[i].key) {
			label = str_text(c, a.v[i].key, &err);
			ch_error_free(err);
		}
		if (label == CH_SHOW_NO_TEXT)
			label = ch_show_arena_add(c, "?", 1);
		ch_show_child(c, node, &last, a.v[i].target, level + 1, label);
	}
	uint64_t shown = a.n, total = a.total;
	if (a.dict) {
		uint64_t used = 0;
		struct ch_py_dict_view v;
		bool same = false;
		err = ch_py_read_u64(py, a.dict, CH_PY_DICT_USED, &used);
		if (!err)
			err = ch_py_dict_view(py, a.dict, &v);
		/* 3.13: a __dict__ made over the inline values already shown
		 * holds those same values: shown once. */
		if (!err && a.values)
			err = ch_py_dict_values_embedded(py, &v, &same);
		if (same)
			used = v.nentries = 0;
		if (!err)
			total += used;
		for (uint64_t i = 0; !err && i < v.nentries && shown < CH_SHOW_ATTRS && !c->err; i++) {
			uint64_t key, value;
			if ((err = ch_py_dict_entry(py, &v, i, &key, &value)))
				break;
			if (!key || !value)
				continue;
			struct ch_error *kerr;
			uint32_t label = str_text(c, key, &kerr);
			if (kerr) {
				ch_error_free(kerr);
				label = ch_show_arena_printf(c, "<key 0x%" PRIx64 ">", key);
			}
			ch_show_child(c, node, &last, value, level + 1, label);
			shown++;
		}
		ch_show_damage(c, node, err);
	}
	c->t->nodes[node].length = total;
	if (shown < total)
		c->t->nodes[node].flags |= CH_SHOW_TRUNCATED;
}

/* Children named by static labels, read from pointer fields. */
static void field_children(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level,
			   const enum ch_py_field *fields, const char *const *names, size_t n, bool skip_none)
{
	if (!ch_show_expand(c, node, level))
		return;
	uint32_t last = CH_SHOW_NO_NODE;
	for (size_t i = 0; i < n && !c->err; i++) {
		uint64_t v;
		if (!ch_py_has(&c->py->layout, fields[i]))
			continue;
		struct ch_error *err = ch_py_read_u64(c->py, addr, fields[i], &v);
		if (err) {
			ch_show_damage(c, node, err);
			return;
		}
		if (!v || (skip_none && v == c->b.none))
			continue;
		ch_show_child(c, node, &last, v, level + 1, ch_show_arena_add(c, names[i], strlen(names[i])));
	}
}

/* Name, file and first line of a code object into the node. */
static struct ch_error *code_info(struct ch_show_ctx *c, uint32_t node, uint64_t code, bool qualname)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	uint64_t name = 0, file = 0;
	int32_t line = 0;
	struct ch_error *err = NULL;
	if (!qualname) {
		if (!ch_py_has(l, CH_PY_CODE_NAME))
			return ch_error_new(CH_ERR_UNSUPPORTED, "the code layout is unknown");
		if ((err = ch_py_read_u64(py, code, CH_PY_CODE_NAME, &name)))
			return err;
		uint32_t t = str_text(c, name, &err);
		if (err)
			return err;
		c->t->nodes[node].text = t;
	}
	if (!ch_py_has(l, CH_PY_CODE_FILENAME) || !ch_py_has(l, CH_PY_CODE_FIRSTLINENO))
		return NULL;
	if ((err = ch_py_read_u64(py, code, CH_PY_CODE_FILENAME, &file)) ||
	    (err = ch_py_read_i32(py, code, CH_PY_CODE_FIRSTLINENO, &line)))
		return err;
	uint32_t f = str_text(c, file, &err);
	c->t->nodes[node].aux = f;
	c->t->nodes[node].num = line;
	return err;
}

static void show_function(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	struct ch_python *py = c->py;
	uint64_t qual = 0, code = 0;
	struct ch_error *err = ch_py_has(&py->layout, CH_PY_FUNC_QUALNAME) && ch_py_has(&py->layout, CH_PY_FUNC_CODE)
		? NULL : ch_error_new(CH_ERR_UNSUPPORTED, "the function layout is unknown");
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_FUNC_QUALNAME, &qual);
	if (!err) {
		uint32_t t = str_text(c, qual, &err);
		c->t->nodes[node].text = t;
	}
	if (!err)
		err = ch_py_read_u64(py, addr, CH_PY_FUNC_CODE, &code);
	if (!err)
		err = code_info(c, node, code, true);
	ch_show_damage(c, node, err);
}

static void show_module(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	struct ch_python *py = c->py;
	uint64_t dict = 0, name, file, spec, origin;
	struct ch_error *err = ch_py_has(&py->layout, CH_PY_MODULE_DICT)
		? ch_py_read_u64(py, addr, CH_PY_MODULE_DICT, &dict)
		: ch_error_new(CH_ERR_UNSUPPORTED, "the module layout is unknown");
	if (!err && !dict)
		err = ch_error_new(CH_ERR_INPUT, "module at 0x%" PRIx64 " has no dict", addr);
	if (!err)
		err = ch_py_dict_get_str(py, dict, "__name__", &name);
	if (!err) {
		uint32_t t = str_text(c, name, &err);
		c->t->nodes[node].text = t;
	}
	if (err)
		return ch_show_damage(c, node, err);
	/* importlib's module repr: from __file__, else (spec.origin). */
	struct ch_error *ferr = ch_py_dict_get_str(py, dict, "__file__", &file);
	if (!ferr) {
		uint32_t t = str_text(c, file, &ferr);
		c->t->nodes[node].aux = t;
	} else {
		ch_error_free(ferr);
		ferr = ch_py_dict_get_str(py, dict, "__spec__", &spec);
		if (!ferr)
			ferr = ch_py_getattr(py, spec, "origin", &origin);
		if (!ferr && origin != c->b.none) {
			uint32_t t = str_text(c, origin, &ferr);
			c->t->nodes[node].aux = t;
			c->t->nodes[node].flags |= CH_SHOW_ORIGIN;
		} else if (!ferr) {
			/* 3.8-3.9: no origin for sys and builtins; the repr came
			 * from BuiltinImporter/FrozenImporter.module_repr. */
			uint64_t loader;
			uint32_t li;
			ferr = ch_py_getattr(py, spec, "loader", &loader);
			if (!ferr && ch_py_object_plausible(py, loader, &origin) && (ferr = ch_py_type_intern(py, loader, &li)) == NULL) {
				const char *ln = ch_py_type_name(&py->types, li);
				const char *kind = strstr(ln, "BuiltinImporter") ? "built-in" : strstr(ln, "FrozenImporter") ? "frozen" : NULL;
				if (kind) {
					c->t->nodes[node].aux = ch_show_arena_add(c, kind, strlen(kind));
					c->t->nodes[node].flags |= CH_SHOW_ORIGIN;
				}
			}
		}
	}
	ch_error_free(ferr);
}

static void show_type(struct ch_show_ctx *c, uint32_t node, uint64_t addr, size_t level)
{
	struct ch_python *py = c->py;
	uint32_t self;
	struct ch_error *err = ch_py_type_intern(py, addr, &self);
	if (err) {
		c->err = err;
		return;
	}
	const char *name = ch_py_type_name(&py->types, self);
	c->t->nodes[node].text = ch_show_arena_add(c, name, strlen(name));
	if (!ch_py_has(&py->layout, CH_PY_TP_BASES) || !ch_py_has(&py->layout, CH_PY_TUPLE_ITEMS))
		return;
	if (!ch_show_expand(c, node, level))
		return;
	uint64_t bases;
	int64_t n = 0;
	err = ch_py_read_u64(py, addr, CH_PY_TP_BASES, &bases);
	if (!err && bases)
		err = ch_py_read_u64(py, bases, CH_PY_VAR_SIZE, (uint64_t *)&n);
	if (!err && (n < 0 || n > CH_SHOW_ITEMS))
		n = n < 0 ? 0 : CH_SHOW_ITEMS;
	uint32_t last = CH_SHOW_NO_NODE;
	for (int64_t i = 0; !err && bases && i < n && !c->err; i++) {
		uint64_t b;
		if ((err = ch_as_read_u64(&py->proc->as, bases + (uint64_t)ch_py_off(py, CH_PY_TUPLE_ITEMS) + 8 * (uint64_t)i, &b)))
			break;
		ch_show_child(c, node, &last, b, level + 1, ch_show_arena_add(c, "base", 4));
	}
	ch_show_damage(c, node, err);
}

static void show_weakref(struct ch_show_ctx *c, uint32_t node, uint64_t addr)
{
	struct ch_python *py = c->py;
	uint64_t target = 0, type;
	struct ch_error *err = ch_py_has(&py->layout, CH_PY_WR_OBJECT) ? ch_py_read_u64(py, addr, CH_PY_WR_OBJECT, &target)
		: ch_error_new(CH_ERR_UNSUPPORTED, "the weakref layout is unknown");
	if (err)
		return ch_show_damage(c, node, err);
	/* A cleared reference points at None (3.8-3.13). */
	if (!target || target == c->b.none)
		return;
	c->t->nodes[node].num = (int64_t)target;
	/* weakref_repr names the target by its tp_name ("Plain", not
	 * "__main__.Plain"); the JSON has the full name from the node's type. */
	uint64_t tp_name;
	char name[256];
	bool trunc;
	if (ch_py_object_plausible(py, target, &type) && !(err = ch_py_read_u64(py, type, CH_PY_TP_NAME, &tp_name)) &&
	    !(err = ch_py_cstr_read(py, tp_name, "type name", name, sizeof(name), &trunc)))
		c->t->nodes[node].text = ch_show_arena_add(c, name, strlen(name));
	ch_show_damage(c, node, err);
}

void ch_show_object(struct ch_show_ctx *c, uint32_t node, uint64_t addr, uint64_t type, enum ch_show_kind k,
		    size_t level)
{
	static const enum ch_py_field method_f[] = {CH_PY_METHOD_FUNC, CH_PY_METHOD_SELF};
	static const char *const method_n[] = {"function", "self"};
	static const enum ch_py_field cm_f[] = {CH_PY_CM_CALLABLE}, sm_f[] = {CH_PY_SM_CALLABLE};
	static const char *const callable_n[] = {"callable"};
	static const enum ch_py_field prop_f[] = {CH_PY_PROP_GET, CH_PY_PROP_SET, CH_PY_PROP_DEL};
	static const char *const prop_n[] = {"fget", "fset", "fdel"};
	static const enum ch_py_field cell_f[] = {CH_PY_CELL_REF};
	static const char *const cell_n[] = {"contents"};
	switch (k) {
	case CH_SHOW_INSTANCE: show_instance(c, node, addr, type, level); break;
	case CH_SHOW_FUNCTION: show_function(c, node, addr); break;
	case CH_SHOW_CODE: ch_show_damage(c, node, code_info(c, node, addr, false)); break;
	case CH_SHOW_MODULE: show_module(c, node, addr); break;
	case CH_SHOW_TYPE: show_type(c, node, addr, level); break;
	case CH_SHOW_WEAKREF: show_weakref(c, node, addr); break;
	case CH_SHOW_CELL: field_children(c, node, addr, level, cell_f, cell_n, 1, false); break;
	case CH_SHOW_METHOD: field_children(c, node, addr, level, method_f, method_n, 2, false); break;
	case CH_SHOW_CLASSMETHOD: field_children(c, node, addr, level, cm_f, callable_n, 1, false); break;
	case CH_SHOW_STATICMETHOD: field_children(c, node, addr, level, sm_f, callable_n, 1, false); break;
	case CH_SHOW_PROPERTY: field_children(c, node, addr, level, prop_f, prop_n, 3, true); break;
	case CH_SHOW_EXCEPTION:
	case CH_SHOW_TRACEBACK:
	case CH_SHOW_FRAME:
	case CH_SHOW_GENERATOR:
	case CH_SHOW_FUTURE:
	case CH_SHOW_PARTIAL:
	case CH_SHOW_BYTEARRAY:
	case CH_SHOW_CONTEXT:
	case CH_SHOW_MEMORYVIEW: ch_show_runtime(c, node, addr, k, level); break;
	case CH_SHOW_LRU_CACHE:
	case CH_SHOW_PATTERN:
	case CH_SHOW_IO:
	case CH_SHOW_NDARRAY: ch_show_lib(c, node, addr, k, level); break;
	default: break;
	}
}
