#include "readers/cpython/py_gc.h"

#include <inttypes.h>
#include <stdio.h>

#include "readers/base/bytes.h"
#include "readers/cpython/python.h"

/* "0", "permanent", and for a sub-interpreter's lists "0 of interpreter 2",
 * so that a damaged list is named in the warnings. */
static const char *gen_name(const struct ch_python *py, const struct ch_gc_state *gc, int g, char *buf, size_t n)
{
	int64_t id = 0;
	for (size_t k = 1; k < py->ninterps; k++)
		if (&py->interps[k].gc == gc)
			id = py->interps[k].id;
	char gen[16];
	if (g == CH_GC_PERMANENT)
		snprintf(gen, sizeof(gen), "permanent");
	else
		snprintf(gen, sizeof(gen), "%d", g);
	if (id)
		snprintf(buf, n, "%s of interpreter %" PRId64, gen, id);
	else
		snprintf(buf, n, "%s", gen);
	return buf;
}

struct ch_error *ch_py_gc_walk(struct ch_python *py, int generation, uint64_t limit, ch_gc_visit_fn fn, void *arg,
			       uint64_t *count)
{
	return ch_py_gc_walk_state(py, &py->gc, generation, limit, fn, arg, count);
}

struct ch_error *ch_py_gc_walk_state(struct ch_python *py, const struct ch_gc_state *gc, int generation,
				     uint64_t limit, ch_gc_visit_fn fn, void *arg, uint64_t *count)
{
	const struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	char gbuf[64];
	const char *gname = gen_name(py, gc, generation, gbuf, sizeof(gbuf));
	*count = 0;
	uint64_t head = gc->heads[generation];
	if (!head)
		return NULL;
	const uint64_t gch = (uint64_t)l->v[CH_PY_SIZEOF_GCHEAD];
	const uint64_t o_next = (uint64_t)l->v[CH_PY_GCHEAD_NEXT], o_prev = (uint64_t)l->v[CH_PY_GCHEAD_PREV];
	const uint64_t o_ref = (uint64_t)l->v[CH_PY_OB_REFCNT], o_type = (uint64_t)l->v[CH_PY_OB_TYPE];
	const uint64_t o_size = (uint64_t)l->v[CH_PY_VAR_SIZE];
	/* Bytes from a GC head to the end of the object's size word: one peek
	 * covers everything the walk reads per object. */
	const uint64_t span = gch + (o_size > o_type ? o_size : o_type) + 8;
	const bool check_prev = !gc->collecting;
	/* 3.8+: the finalized bit is bit 0 of _gc_prev; 3.6/3.7: bit 0 of
	 * gc_refs (_PyGC_REFS_MASK_FINALIZED), and _gc_prev is a plain link. */
	const bool refs_word = ch_py_has(l, CH_PY_GCHEAD_REFS);
	const uint64_t o_refs = refs_word ? (uint64_t)l->v[CH_PY_GCHEAD_REFS] : 0;
	if (refs_word && o_refs + 8 > span)
		return ch_error_new(CH_ERR_UNSUPPORTED, "GC head layout: gc_refs at %" PRIu64 " lies past the header", o_refs);

	uint64_t prev = head, node;
	if (ch_as_read_u64(as, head + o_next, &node)) {
		ch_diag_partial(&py->diag, "GC generation %s: list head at 0x%" PRIx64 " is unreadable", gname, head);
		return NULL;
	}
	node &= ~(uint64_t)3;
	while (node != head) {
		if (*count >= limit) {
			ch_diag_partial(&py->diag, "GC generation %s: list is longer than memory allows (%" PRIu64
						   " objects); stopped", gname, limit);
			return NULL;
		}
		uint8_t buf[64];
		const uint8_t *p = span <= sizeof(buf) ? ch_as_peek(as, node, (size_t)span) : NULL;
		if (!p) {
			struct ch_error *err = span <= sizeof(buf) ? ch_as_read(as, node, buf, (size_t)span)
								   : ch_error_new(CH_ERR_UNSUPPORTED, "object header too large");
			if (err) {
				ch_diag_partial(&py->diag, "GC generation %s: link to 0x%" PRIx64
							   " leaves readable memory after %" PRIu64 " objects; rest of the list skipped",
						gname, node, *count);
				ch_error_free(err);
				return NULL;
			}
			p = buf;
		}
		uint64_t next = ch_le64(p + o_next), back = ch_le64(p + o_prev);
		if (check_prev && (back & ~(uint64_t)3) != prev) {
			ch_diag_partial(&py->diag, "GC generation %s: object at 0x%" PRIx64
						   " does not link back to its predecessor; list is corrupt, rest skipped",
					gname, node + gch);
			return NULL;
		}
		struct ch_gc_object obj = {
			.addr = node + gch,
			.type = ch_le64(p + gch + o_type),
			.refcnt = ch_py_refcnt_value(l, ch_le64(p + gch + o_ref)),
			.ob_size = (int64_t)ch_le64(p + gch + o_size),
			.finalized = ((refs_word ? ch_le64(p + o_refs) : back) & 1) != 0,
		};
		int r = fn(arg, &obj, generation);
		if (r == CH_GC_VISIT_SEEN) {
			ch_diag_partial(&py->diag, "GC generation %s: object at 0x%" PRIx64 " was seen before; the list loops",
					gname, obj.addr);
			return NULL;
		}
		if (r == CH_GC_VISIT_ABORT)
			return ch_error_new(CH_ERR_NOMEM, "GC walk aborted");
		(*count)++;
		prev = node;
		node = next & ~(uint64_t)3;
	}
	return NULL;
}
