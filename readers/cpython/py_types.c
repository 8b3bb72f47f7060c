#include "readers/cpython/py_types.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_str.h"
#include "readers/cpython/python.h"

#define CH_TYPE_NAME_MAX 512

static struct ch_error *add_name(struct ch_py_types *t, const char *s, uint32_t *off)
{
	size_t n = strlen(s) + 1;
	if (t->names_len + n > t->names_cap) {
		size_t ncap = t->names_cap ? t->names_cap * 2 : 4096;
		while (ncap < t->names_len + n)
			ncap *= 2;
		if (ncap > UINT32_MAX)
			return ch_error_new(CH_ERR_NOMEM, "too many type names");
		char *p = realloc(t->names, ncap);
		if (!p)
			return &ch_error_nomem;
		t->names = p;
		t->names_cap = ncap;
	}
	memcpy(t->names + t->names_len, s, n);
	*off = (uint32_t)t->names_len;
	t->names_len += n;
	return NULL;
}

/* module.qualname for heap types (ht_qualname and __module__ from the type's
 * dict, as type.__module__ does), tp_name for static types (whose tp_name
 * already is "module.qualname", or bare for builtins). */
static void type_display_name(struct ch_python *py, uint64_t addr, uint64_t flags, char *out, size_t max)
{
	struct ch_error *err = NULL;
	char qual[CH_TYPE_NAME_MAX], mod[CH_TYPE_NAME_MAX];
	if (flags & CH_TPFLAGS_HEAPTYPE) {
		uint64_t q, dict, m;
		err = ch_py_read_u64(py, addr, CH_PY_HT_QUALNAME, &q);
		if (!err)
			err = ch_py_str_read(py, q, qual, sizeof(qual), NULL);
		if (err) {
			ch_error_free(err);
			snprintf(out, max, "<unnamed type 0x%" PRIx64 ">", addr);
			return;
		}
		mod[0] = '\0';
		err = ch_py_read_u64(py, addr, CH_PY_TP_DICT, &dict);
		if (!err && dict)
			err = ch_py_dict_get_str(py, dict, "__module__", &m);
		if (!err && dict)
			err = ch_py_str_read(py, m, mod, sizeof(mod), NULL);
		ch_error_free(err);
		if (!mod[0] || strcmp(mod, "builtins") == 0)
			snprintf(out, max, "%s", qual);
		else
			snprintf(out, max, "%s.%s", mod, qual);
		return;
	}
	uint64_t name;
	err = ch_py_read_u64(py, addr, CH_PY_TP_NAME, &name);
	char what[64];
	snprintf(what, sizeof(what), "the name of type object 0x%" PRIx64, addr);
	if (!err)
		err = ch_py_cstr_read(py, name, what, qual, sizeof(qual), NULL);
	if (err) {
		ch_error_free(err);
		snprintf(out, max, "<unnamed type 0x%" PRIx64 ">", addr);
		return;
	}
	const char *s = strncmp(qual, "builtins.", 9) == 0 ? qual + 9 : qual;
	snprintf(out, max, "%s", s);
}

static void read_type(struct ch_python *py, struct ch_py_type *ty, char *name, size_t max)
{
	const struct ch_py_layout *l = &py->layout;
	uint64_t flags, basic, item;
	struct ch_error *err = ch_py_read_u64(py, ty->addr, CH_PY_TP_FLAGS, &flags);
	if (!err)
		err = ch_py_read_u64(py, ty->addr, CH_PY_TP_BASICSIZE, &basic);
	if (!err)
		err = ch_py_read_u64(py, ty->addr, CH_PY_TP_ITEMSIZE, &item);
	if (err || (int64_t)basic < l->v[CH_PY_SIZEOF_OBJECT] || basic > (1u << 24) || item > (1u << 16)) {
		ch_error_free(err);
		ty->valid = false;
		snprintf(name, max, "<unreadable type 0x%" PRIx64 ">", ty->addr);
		return;
	}
	ty->valid = true;
	ty->flags = flags;
	ty->basicsize = (int64_t)basic;
	ty->itemsize = (int64_t)item;
	unsigned pre = 0;
	if (flags & CH_TPFLAGS_HAVE_GC)
		pre += (unsigned)l->v[CH_PY_SIZEOF_GCHEAD];
	if (flags & (uint64_t)l->v[CH_PY_PREHEADER_FLAGS])
		pre += (unsigned)l->v[CH_PY_PREHEADER_SIZE];
	/* tp_finalize (PEP 442, __del__ of Python classes) or the legacy tp_del:
	 * cycles through such objects run code when collected. */
	uint64_t fin = 0, del = 0;
	if (ch_py_has(l, CH_PY_TP_FINALIZE))
		ch_error_free(ch_py_read_u64(py, ty->addr, CH_PY_TP_FINALIZE, &fin));
	if (ch_py_has(l, CH_PY_TP_DEL))
		ch_error_free(ch_py_read_u64(py, ty->addr, CH_PY_TP_DEL, &del));
	ty->finalizer = fin != 0 || del != 0;
	ty->presize = (uint8_t)pre;
	type_display_name(py, ty->addr, flags, name, max);
}

struct ch_error *ch_py_type_intern(struct ch_python *py, uint64_t addr, uint32_t *index)
{
	struct ch_py_types *t = &py->types;
	uint32_t found = ch_index_hash_find(&t->index, t->v, sizeof(*t->v), addr);
	if (found != CH_INDEX_NONE) {
		*index = found;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		struct ch_py_type *p = realloc(t->v, ncap * sizeof(*p));
		if (!p)
			return &ch_error_nomem;
		t->v = p;
		t->cap = ncap;
	}
	struct ch_py_type *ty = &t->v[t->n];
	memset(ty, 0, sizeof(*ty));
	ty->addr = addr;
	char name[CH_TYPE_NAME_MAX * 2 + 2];
	read_type(py, ty, name, sizeof(name));
	if (!ty->valid)
		ch_diag_partial(&py->diag, "type object at 0x%" PRIx64 " is unreadable; its objects are counted under \"%s\"",
				addr, name);
	struct ch_error *err = add_name(t, name, &ty->name);
	if (err)
		return err;
	if ((err = ch_index_hash_reserve(&t->index, t->v, sizeof(*t->v), t->n + 1)))
		return err;
	ch_index_hash_insert(&t->index, addr, (uint32_t)t->n);
	*index = (uint32_t)t->n++;
	return NULL;
}

uint64_t ch_py_type_object_size(const struct ch_py_type *type, int64_t ob_size)
{
	uint64_t size = (uint64_t)type->basicsize;
	if (type->itemsize) {
		uint64_t n = ob_size < 0 ? (uint64_t)(-(ob_size + 1)) + 1 : (uint64_t)ob_size;
		if (n > (1ULL << 40))
			n = 0; /* a corrupt ob_size must not produce an absurd total */
		size += n * (uint64_t)type->itemsize;
		size = (size + 7) & ~(uint64_t)7; /* _PyObject_VAR_SIZE rounds to a pointer */
	}
	return size + type->presize;
}

#define CH_TPFLAGS_TYPE_SUBCLASS (1UL << 31)

bool ch_py_object_plausible(struct ch_python *py, uint64_t addr, uint64_t *type)
{
	if (!addr || (addr & 7))
		return false;
	uint64_t t, meta, flags;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_OB_TYPE, &t);
	if (!err && (t & 7))
		err = ch_error_new(CH_ERR_INPUT, "misaligned type");
	if (!err && ch_index_hash_find(&py->types.index, py->types.v, sizeof(*py->types.v), t) != CH_INDEX_NONE) {
		*type = t;
		return py->types.v[ch_index_hash_find(&py->types.index, py->types.v, sizeof(*py->types.v), t)].valid;
	}
	if (!err)
		err = ch_py_read_u64(py, t, CH_PY_OB_TYPE, &meta);
	if (!err)
		err = ch_py_read_u64(py, meta, CH_PY_TP_FLAGS, &flags);
	if (err) {
		ch_error_free(err);
		return false;
	}
	*type = t;
	return (flags & CH_TPFLAGS_TYPE_SUBCLASS) != 0;
}
