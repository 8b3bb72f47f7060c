#include "readers/cpython/py_attr.h"

#include <string.h>

#include "readers/cpython/py_refs.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/python.h"

struct attr_search {
	struct ch_python *py;
	const char *name;
	uint64_t value, dict;
	bool found;
};

static bool key_is(struct ch_python *py, uint64_t key, const char *name)
{
	char buf[128];
	bool trunc = false;
	struct ch_error *err = ch_py_str_read(py, key, buf, sizeof(buf), &trunc);
	if (err) {
		ch_error_free(err);
		return false;
	}
	return !trunc && strcmp(buf, name) == 0;
}

static int match_attr(void *arg, const struct ch_ref *r)
{
	struct attr_search *s = arg;
	if (r->kind == CH_REF_ATTR && r->key && r->name != CH_REF_LOCAL_NAME && key_is(s->py, r->key, s->name)) {
		s->value = r->target;
		s->found = true;
		return 1;
	}
	if (r->kind == CH_REF_FIELD && r->name && strcmp(r->name, "__dict__") == 0)
		s->dict = r->target;
	return 0;
}

struct ch_error *ch_py_getattr(struct ch_python *py, uint64_t obj, const char *name, uint64_t *value)
{
	uint64_t type;
	uint32_t ti;
	if (!ch_py_object_plausible(py, obj, &type))
		return ch_error_new(CH_ERR_INPUT, "0x%llx is not an object", (unsigned long long)obj);
	struct ch_error *err = ch_py_type_intern(py, type, &ti);
	if (err)
		return err;
	struct attr_search s = {py, name, 0, 0, false};
	err = ch_py_refs_visit(py, obj, ti, match_attr, &s);
	if (err && !s.found && !s.dict)
		return err;
	ch_error_free(err);
	if (s.found) {
		*value = s.value;
		return NULL;
	}
	/* Modules keep md_dict; instances of 3.8-3.10 (and materialised
	 * managed dicts) a __dict__ object. */
	if (!s.dict && ch_py_has(&py->layout, CH_PY_MODULE_DICT) && type == ch_python_symbol(py, "PyModule_Type"))
		ch_error_free(ch_py_read_u64(py, obj, CH_PY_MODULE_DICT, &s.dict));
	/* An instance of a subclass of a C type whose body the reference reader
	 * scans conservatively (a C base with its own dict slot, e.g.
	 * _asyncio.Future before 3.13): the dict pointer is at tp_dictoffset. */
	int64_t dictoff;
	if (!s.dict && ch_py_has(&py->layout, CH_PY_TP_DICTOFFSET) &&
	    !(err = ch_as_read(&py->proc->as, type + (uint64_t)py->layout.v[CH_PY_TP_DICTOFFSET], &dictoff, 8)) &&
	    dictoff > 0 && dictoff < (1 << 20))
		ch_error_free(ch_as_read_u64(&py->proc->as, obj + (uint64_t)dictoff, &s.dict));
	ch_error_free(err);
	if (!s.dict)
		return ch_error_new(CH_ERR_NOT_FOUND, "no attribute %s", name);
	return ch_py_dict_get_str(py, s.dict, name, value);
}

struct ch_error *ch_py_getattr_or_class(struct ch_python *py, uint64_t obj, const char *name, uint64_t *value)
{
	struct ch_error *err = ch_py_getattr(py, obj, name, value);
	if (!err || err->kind != CH_ERR_NOT_FOUND)
		return err;
	ch_error_free(err);
	const struct ch_py_layout *l = &py->layout;
	uint64_t type, mro, n;
	if ((err = ch_py_read_u64(py, obj, CH_PY_OB_TYPE, &type)) || (err = ch_py_read_u64(py, type, CH_PY_TP_MRO, &mro)))
		return err;
	if (!mro || (err = ch_py_read_u64(py, mro, CH_PY_VAR_SIZE, &n)))
		return err ? err : ch_error_new(CH_ERR_NOT_FOUND, "no attribute %s", name);
	for (uint64_t i = 0; i < n && i < 256; i++) {
		uint64_t t, dict;
		if ((err = ch_as_read_u64(&py->proc->as, mro + (uint64_t)l->v[CH_PY_TUPLE_ITEMS] + 8 * i, &t)) ||
		    (err = ch_py_read_u64(py, t, CH_PY_TP_DICT, &dict)))
			return err;
		if (!dict)
			continue; /* 3.12+ static builtin types keep tp_dict elsewhere: no Python attributes of ours there */
		err = ch_py_dict_get_str(py, dict, name, value);
		if (!err || err->kind != CH_ERR_NOT_FOUND)
			return err;
		ch_error_free(err);
	}
	return ch_error_new(CH_ERR_NOT_FOUND, "no attribute %s", name);
}

struct ch_error *ch_py_module(struct ch_python *py, const char *name, uint64_t *module)
{
	uint64_t modules;
	struct ch_error *err = ch_py_read_u64(py, py->main_interp, CH_PY_INTERP_MODULES, &modules);
	if (!err && !modules)
		err = ch_error_new(CH_ERR_NOT_FOUND, "sys.modules is not set");
	if (!err)
		err = ch_py_dict_get_str(py, modules, name, module);
	return err;
}
