/* How every reference reader reports what it found: the one place a
 * struct ch_ref is built and handed to the visitor (ch_refs_emit*), a
 * pointer field read and reported (ch_refs_field), an unknown body scanned
 * word by word (ch_refs_conservative) and a values array named by its
 * shared keys (ch_refs_values). The per-kind readers (py_refs_containers.c,
 * py_refs_frames.c, py_refs_objects.c, py_refs_emulated.c) and the
 * dispatcher (py_refs.c) sit above these and never below each other
 * through them. */
#include <stdint.h>

#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_str.h"

#define CH_CONSERVATIVE_MAX (1u << 20) /* bytes of an unknown body scanned */

bool ch_refs_emit_ref(struct ch_refs_ctx *c, struct ch_ref *r)
{
	if (c->stopped)
		return false;
	if (!r->target)
		return true;
	r->traversed = r->traversed && c->gc;
	if (c->fn(c->arg, r))
		c->stopped = true;
	return !c->stopped;
}

bool ch_refs_emit(struct ch_refs_ctx *c, uint64_t target, enum ch_ref_kind kind, bool traversed, uint64_t index,
		  uint64_t key, const char *name)
{
	struct ch_ref r = {target, kind, traversed, index, key, name, false};
	return ch_refs_emit_ref(c, &r);
}

struct ch_error *ch_refs_field(struct ch_refs_ctx *c, uint64_t obj, enum ch_py_field f, const char *name,
			       bool traversed)
{
	if (c->stopped || !ch_py_has(&c->py->layout, f))
		return NULL;
	uint64_t v;
	struct ch_error *err = ch_py_read_u64(c->py, obj, f, &v);
	if (err)
		return err;
	ch_refs_emit(c, v, CH_REF_FIELD, traversed, 0, 0, name);
	return NULL;
}

struct ch_error *ch_refs_conservative(struct ch_refs_ctx *c, uint64_t start, uint64_t end, uint64_t obj)
{
	struct ch_address_space *as = &c->py->proc->as;
	if (end > start + CH_CONSERVATIVE_MAX)
		end = start + CH_CONSERVATIVE_MAX;
	start = (start + 7) & ~(uint64_t)7;
	for (uint64_t a = start; a + 8 <= end && !c->stopped; a += 8) {
		uint64_t v;
		struct ch_error *err = ch_as_read_u64(as, a, &v);
		if (err)
			return err;
		if (!v || (v & 7))
			continue;
		const struct ch_as_range *r = ch_as_find(as, v);
		if (!r || !r->data || !r->writable)
			continue;
		struct ch_ref ref = {v, CH_REF_CONSERVATIVE, false, a - obj, 0, NULL, false};
		if (c->fn(c->arg, &ref))
			c->stopped = true;
	}
	return NULL;
}

/* Values of a split table / managed instance: n slots, named by the keys
 * of the shared keys table when it has that many entries. */
struct ch_error *ch_refs_values(struct ch_refs_ctx *c, uint64_t cached_keys, uint64_t values, uint64_t n)
{
	struct ch_py_dict_view v = {0};
	struct ch_error *err = cached_keys ? ch_py_dict_keys_view(c->py, cached_keys, values, &v) : NULL;
	if (err) {
		ch_error_free(err);
		v.nentries = 0;
	}
	if (!v.values)
		v.values = values + (uint64_t)(ch_py_has(&c->py->layout, CH_PY_DV_VALUES) ? ch_py_off(c->py, CH_PY_DV_VALUES) : 0);
	if (n > 4096)
		return ch_error_new(CH_ERR_INPUT, "values array at 0x%llx claims %llu slots", (unsigned long long)values,
				    (unsigned long long)n);
	struct ch_address_space *as = &c->py->proc->as;
	for (uint64_t i = 0; i < n && !c->stopped; i++) {
		uint64_t val, key = 0;
		if ((err = ch_as_read_u64(as, v.values + 8 * i, &val)))
			return err;
		if (i < v.nentries) {
			err = ch_as_read_u64(as, v.entries + i * v.entry_size + (uint64_t)v.key_off, &key);
			if (err) {
				ch_error_free(err);
				key = 0;
			}
		}
		ch_refs_emit(c, val, CH_REF_ATTR, true, i, key, key ? NULL : "__dict__ value");
	}
	return NULL;
}
