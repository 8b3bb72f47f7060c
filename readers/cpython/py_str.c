#include "readers/cpython/py_str.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "readers/base/bytes.h"
#include "readers/base/diag.h"
#include "readers/base/utf8.h"
#include "readers/cpython/python.h"

#define CH_TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define CH_TPFLAGS_DICT_SUBCLASS (1UL << 29)
#define CH_DICT_MAX_ENTRIES (1u << 26)

/* 3.15's frozendict (PyFrozenDictObject = a PyDictObject + ma_hash) has
 * the dict layout without Py_TPFLAGS_DICT_SUBCLASS: type or a base of it is
 * PyFrozenDict_Type. Looked up only when the flag test fails. */
static bool is_frozendict(struct ch_python *py, uint64_t type)
{
	uint64_t fd = ch_python_symbol(py, "PyFrozenDict_Type");
	for (int depth = 0; fd && type && depth < 64; depth++) {
		if (type == fd)
			return true;
		struct ch_error *err = ch_py_read_u64(py, type, CH_PY_TP_BASE, &type);
		if (err) {
			ch_error_free(err);
			return false;
		}
	}
	return false;
}

static struct ch_error *check_type_flag(struct ch_python *py, uint64_t addr, unsigned long flag, const char *what)
{
	uint64_t type, flags;
	struct ch_error *err = ch_py_read_u64(py, addr, CH_PY_OB_TYPE, &type);
	if (!err)
		err = ch_py_read_u64(py, type, CH_PY_TP_FLAGS, &flags);
	if (err)
		return err;
	if (!(flags & flag) && !(flag == CH_TPFLAGS_DICT_SUBCLASS && is_frozendict(py, type)))
		return ch_error_new(CH_ERR_INPUT, "object at 0x%llx is not a %s", (unsigned long long)addr, what);
	return NULL;
}

size_t ch_utf8_put(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	if (c > 0x10FFFF)
		c = 0xFFFD;
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

struct ch_error *ch_py_str_info(struct ch_python *py, uint64_t addr, struct ch_py_str_info *out)
{
	struct ch_error *err = check_type_flag(py, addr, CH_TPFLAGS_UNICODE_SUBCLASS, "str");
	if (err)
		return err;
	const struct ch_py_layout *l = &py->layout;
	uint64_t length;
	uint32_t state;
	err = ch_as_read_u64(&py->proc->as, addr + (uint64_t)l->v[CH_PY_STR_LENGTH], &length);
	if (!err)
		err = ch_as_read_u32(&py->proc->as, addr + (uint64_t)l->v[CH_PY_STR_STATE], &state);
	if (err)
		return err;
	int64_t base = l->v[CH_PY_STR_STATE] * 8;
	unsigned kind = (state >> (l->v[CH_PY_STR_STATE_KIND] - base)) & 7;
	bool compact = (state >> (l->v[CH_PY_STR_STATE_COMPACT] - base)) & 1;
	bool ascii = (state >> (l->v[CH_PY_STR_STATE_ASCII] - base)) & 1;
	if (kind != 1 && kind != 2 && kind != 4)
		return ch_error_new(CH_ERR_INPUT, "str at 0x%llx has invalid kind %u", (unsigned long long)addr, kind);
	if (length > (1ULL << 48))
		return ch_error_new(CH_ERR_INPUT, "str at 0x%llx claims %llu characters", (unsigned long long)addr,
				    (unsigned long long)length);
	uint64_t data;
	if (compact) {
		data = addr + (uint64_t)(ascii ? l->v[CH_PY_SIZEOF_ASCII] : l->v[CH_PY_SIZEOF_COMPACT_UNICODE]);
	} else {
		if (!ch_py_has(l, CH_PY_STR_DATA_ANY))
			return ch_error_new(CH_ERR_UNSUPPORTED, "non-compact str at 0x%llx", (unsigned long long)addr);
		err = ch_as_read_u64(&py->proc->as, addr + (uint64_t)l->v[CH_PY_STR_DATA_ANY], &data);
		if (err)
			return err;
	}
	out->length = length;
	out->kind = kind;
	out->data = data;
	return NULL;
}

struct ch_error *ch_py_str_chars(struct ch_python *py, const struct ch_py_str_info *s, uint64_t start, uint32_t *out,
				 size_t n)
{
	uint8_t chunk[256];
	const unsigned kind = s->kind;
	for (size_t i = 0; i < n;) {
		size_t batch = n - i < sizeof(chunk) / kind ? n - i : sizeof(chunk) / kind;
		struct ch_error *err = ch_as_read(&py->proc->as, s->data + (start + i) * kind, chunk, batch * kind);
		if (err)
			return err;
		for (size_t j = 0; j < batch; j++)
			out[i + j] = kind == 1 ? chunk[j] : kind == 2 ? ch_le16(chunk + 2 * j) : ch_le32(chunk + 4 * j);
		i += batch;
	}
	return NULL;
}

struct ch_error *ch_py_str_read(struct ch_python *py, uint64_t addr, char *buf, size_t max, bool *truncated)
{
	if (truncated)
		*truncated = false;
	if (max == 0)
		return NULL;
	buf[0] = '\0';
	struct ch_py_str_info s;
	struct ch_error *err = ch_py_str_info(py, addr, &s);
	if (err)
		return err;
	/* Read at most what can fill buf: each char yields >= 1 byte. */
	uint64_t n = s.length < max - 1 ? s.length : max - 1;
	if (n < s.length && truncated)
		*truncated = true;
	uint32_t chunk[64];
	size_t out = 0;
	for (uint64_t i = 0; i < n;) {
		size_t batch = n - i < 64 ? (size_t)(n - i) : 64;
		err = ch_py_str_chars(py, &s, i, chunk, batch);
		if (err) {
			buf[out] = '\0';
			return err;
		}
		for (size_t j = 0; j < batch; j++) {
			/* A lone surrogate is a valid str character but not UTF-8:
			 * written as Python writes it, \udXXX. */
			char enc[8];
			size_t k = chunk[j] >= 0xD800 && chunk[j] <= 0xDFFF
					   ? (size_t)snprintf(enc, sizeof(enc), "\\u%04x", (unsigned)chunk[j])
					   : ch_utf8_put(enc, chunk[j]);
			if (out + k > max - 1) {
				if (truncated)
					*truncated = true;
				buf[out] = '\0';
				return NULL;
			}
			memcpy(buf + out, enc, k);
			out += k;
		}
		i += batch;
	}
	buf[out] = '\0';
	return NULL;
}

struct ch_error *ch_py_cstr_read(struct ch_python *py, uint64_t addr, const char *what, char *buf, size_t max,
				 bool *truncated)
{
	struct ch_error *err = ch_as_read_cstr(&py->proc->as, addr, buf, max, truncated);
	if (err || max == 0)
		return err;
	size_t bad = ch_utf8_escape(buf, max);
	if (bad)
		ch_diag_partial(&py->diag,
				"%s at 0x%" PRIx64 " is not valid UTF-8 (%zu byte%s shown as \\xHH): \"%s\"; damaged memory?",
				what, addr, bad, bad == 1 ? "" : "s", buf);
	return NULL;
}

struct ch_error *ch_py_dict_view(struct ch_python *py, uint64_t dict, struct ch_py_dict_view *v)
{
	struct ch_error *err = check_type_flag(py, dict, CH_TPFLAGS_DICT_SUBCLASS, "dict");
	uint64_t keys, values;
	if (!err)
		err = ch_py_read_u64(py, dict, CH_PY_DICT_KEYS, &keys);
	if (!err)
		err = ch_py_read_u64(py, dict, CH_PY_DICT_VALUES, &values);
	if (!err)
		err = ch_py_dict_keys_view(py, keys, values, v);
	return err;
}

struct ch_error *ch_py_dict_keys_view(struct ch_python *py, uint64_t keys, uint64_t values, struct ch_py_dict_view *v)
{
	const struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	uint64_t size, nentries;
	struct ch_error *err = ch_py_read_u64(py, keys, CH_PY_DK_NENTRIES, &nentries);
	if (err)
		return err;
	uint64_t index_bytes;
	bool general = true;
	if (ch_py_has(l, CH_PY_DK_LOG2_SIZE)) {
		uint8_t b[3];
		if ((err = ch_as_read(as, keys + (uint64_t)l->v[CH_PY_DK_LOG2_SIZE], &b[0], 1)) ||
		    (err = ch_as_read(as, keys + (uint64_t)l->v[CH_PY_DK_LOG2_INDEX_BYTES], &b[1], 1)) ||
		    (err = ch_as_read(as, keys + (uint64_t)l->v[CH_PY_DK_KIND], &b[2], 1)))
			return err;
		if (b[0] > 40 || b[1] > 43)
			return ch_error_new(CH_ERR_INPUT, "dict keys at 0x%llx are corrupt", (unsigned long long)keys);
		size = 1ULL << b[0];
		index_bytes = 1ULL << b[1];
		general = b[2] == 0; /* DICT_KEYS_GENERAL; unicode and split tables use the short entry */
	} else {
		err = ch_py_read_u64(py, keys, CH_PY_DK_SIZE, &size);
		if (err)
			return err;
		if (size == 0 || size > (1ULL << 40) || (size & (size - 1)))
			return ch_error_new(CH_ERR_INPUT, "dict keys at 0x%llx are corrupt", (unsigned long long)keys);
		uint64_t ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffULL ? 4 : 8;
		index_bytes = size * ix;
	}
	if (nentries > size || nentries > CH_DICT_MAX_ENTRIES)
		return ch_error_new(CH_ERR_INPUT, "dict keys at 0x%llx claim %llu entries", (unsigned long long)keys,
				    (unsigned long long)nentries);
	v->entries = keys + (uint64_t)l->v[CH_PY_DK_INDICES] + index_bytes;
	if (general || !ch_py_has(l, CH_PY_SIZEOF_DK_UENTRY)) {
		v->entry_size = (uint64_t)l->v[CH_PY_SIZEOF_DK_ENTRY];
		v->key_off = l->v[CH_PY_DK_ENTRY_KEY];
		v->value_off = l->v[CH_PY_DK_ENTRY_VALUE];
	} else {
		v->entry_size = (uint64_t)l->v[CH_PY_SIZEOF_DK_UENTRY];
		v->key_off = l->v[CH_PY_DK_UENTRY_KEY];
		v->value_off = l->v[CH_PY_DK_UENTRY_VALUE];
	}
	v->nentries = nentries;
	v->keys = keys;
	v->size = size;
	v->index_bytes = index_bytes;
	v->general = general;
	v->values_obj = values;
	v->values = values ? values + (uint64_t)(ch_py_has(l, CH_PY_DV_VALUES) ? l->v[CH_PY_DV_VALUES] : 0) : 0;
	return NULL;
}

struct ch_error *ch_py_dict_values_embedded(struct ch_python *py, const struct ch_py_dict_view *v, bool *embedded)
{
	*embedded = false;
	if (!v->values_obj || !ch_py_has(&py->layout, CH_PY_DV_EMBEDDED))
		return NULL;
	uint8_t b;
	struct ch_error *err = ch_as_read(&py->proc->as, v->values_obj + (uint64_t)ch_py_off(py, CH_PY_DV_EMBEDDED), &b, 1);
	*embedded = !err && b != 0;
	return err;
}

struct ch_error *ch_py_dict_entry(struct ch_python *py, const struct ch_py_dict_view *v, uint64_t i, uint64_t *key,
				  uint64_t *value)
{
	struct ch_address_space *as = &py->proc->as;
	uint64_t e = v->entries + i * v->entry_size;
	struct ch_error *err = ch_as_read_u64(as, e + (uint64_t)v->key_off, key);
	if (!err)
		err = v->values ? ch_as_read_u64(as, v->values + 8 * i, value)
				: ch_as_read_u64(as, e + (uint64_t)v->value_off, value);
	return err;
}

struct ch_error *ch_py_dict_foreach(struct ch_python *py, uint64_t addr, ch_py_dict_visit_fn fn, void *arg,
				    int *stopped_with)
{
	struct ch_py_dict_view v = {0};
	struct ch_error *err = ch_py_dict_view(py, addr, &v);
	if (stopped_with)
		*stopped_with = 0;
	if (err)
		return err;
	for (uint64_t i = 0; i < v.nentries; i++) {
		uint64_t key, value;
		if ((err = ch_py_dict_entry(py, &v, i, &key, &value)))
			return err;
		if (!key || !value)
			continue;
		int r = fn(arg, key, value);
		if (r) {
			if (stopped_with)
				*stopped_with = r;
			return NULL;
		}
	}
	return NULL;
}

struct str_lookup {
	struct ch_python *py;
	const char *key;
	uint64_t value;
};

static int match_key(void *arg, uint64_t key, uint64_t value)
{
	struct str_lookup *s = arg;
	char buf[256];
	bool trunc;
	struct ch_error *err = ch_py_str_read(s->py, key, buf, sizeof(buf), &trunc);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	if (!trunc && strcmp(buf, s->key) == 0) {
		s->value = value;
		return 1;
	}
	return 0;
}

struct ch_error *ch_py_dict_get_str(struct ch_python *py, uint64_t dict, const char *key, uint64_t *value)
{
	struct str_lookup s = {py, key, 0};
	int found;
	struct ch_error *err = ch_py_dict_foreach(py, dict, match_key, &s, &found);
	if (err)
		return err;
	if (!found)
		return ch_error_new(CH_ERR_NOT_FOUND, "no key '%s'", key);
	*value = s.value;
	return NULL;
}
