#include "readers/cpython/py_layout_check.h"

#include <inttypes.h>
#include <string.h>

#include "readers/cpython/python.h"

/* _Py_DebugOffsets members and the fields they state (py_layout.h). */
static const struct {
	enum ch_py_field member, field;
	const char *path;
} stated[] = {
#define CH_PY_DBGOFF_PAIR(name, path, target) {CH_PY_DBGOFF_##name, CH_PY_##target, path},
	CH_PY_DEBUG_OFFSET_IDS(CH_PY_DBGOFF_PAIR)
#undef CH_PY_DBGOFF_PAIR
};

/* Offsets and sizes the runtime states are far below this; a larger value
 * is damaged memory, not a layout. */
#define CH_DBGOFF_PLAUSIBLE (1u << 24)

void ch_py_layout_check_runtime(struct ch_python *py)
{
	struct ch_py_layout *l = &py->layout;
	struct ch_address_space *as = &py->proc->as;
	l->runtime_offsets = "absent";
	if (!ch_py_has(l, CH_PY_RUNTIME_DEBUG_OFFSETS) || !ch_py_has(l, CH_PY_DBGOFF_COOKIE) ||
	    !ch_py_has(l, CH_PY_DBGOFF_VERSION))
		return;
	l->runtime_offsets = "unusable";
	uint64_t base = py->runtime + (uint64_t)l->v[CH_PY_RUNTIME_DEBUG_OFFSETS];
	char cookie[8];
	uint64_t version;
	struct ch_error *err = ch_as_read(as, base + (uint64_t)l->v[CH_PY_DBGOFF_COOKIE], cookie, sizeof(cookie));
	if (!err)
		err = ch_as_read_u64(as, base + (uint64_t)l->v[CH_PY_DBGOFF_VERSION], &version);
	if (err) {
		ch_diag_warn(&py->diag, "_PyRuntime.debug_offsets is unreadable (%s); layout not cross-checked", err->message);
		ch_error_free(err);
		return;
	}
	if (memcmp(cookie, "xdebugpy", 8) != 0) {
		ch_diag_warn(&py->diag,
			     "_PyRuntime.debug_offsets lacks its \"xdebugpy\" cookie (damaged memory, or the layout from %s is wrong); layout not cross-checked",
			     l->source);
		return;
	}
	struct ch_py_version rv = {0};
	ch_py_version_from_hex((uint32_t)version, &rv);
	if ((uint32_t)version >> 8 != ch_py_version_hex(&py->version) >> 8)
		ch_diag_warn(&py->diag, "_PyRuntime.debug_offsets.version is %s, but the interpreter says %s (%s)", rv.text,
			     py->version.text, py->version.method);
	l->runtime_offsets = "checked";
	for (size_t i = 0; i < sizeof(stated) / sizeof(stated[0]); i++) {
		if (!ch_py_has(l, stated[i].member))
			continue; /* a member this version's struct lacks */
		uint64_t v;
		if ((err = ch_as_read_u64(as, base + (uint64_t)l->v[stated[i].member], &v))) {
			ch_error_free(err);
			continue;
		}
		l->runtime_checked++;
		int64_t have = l->v[stated[i].field];
		if (have == (int64_t)v)
			continue;
		const char *name = ch_py_field_name(stated[i].field);
		if (v >= CH_DBGOFF_PLAUSIBLE) {
			ch_diag_warn(&py->diag, "_PyRuntime.debug_offsets.%s is implausible (%" PRIu64 "); keeping %s = %" PRId64,
				     stated[i].path, v, name, have);
			continue;
		}
		l->runtime_disagreed++;
		if (have == CH_PY_ABSENT)
			ch_diag_warn(&py->diag, "layout field %s: absent from %s, the runtime's _Py_DebugOffsets.%s says %" PRIu64
				     "; using the runtime's value", name, l->source, stated[i].path, v);
		else
			ch_diag_warn(&py->diag, "layout field %s: %s says %" PRId64 ", the runtime's _Py_DebugOffsets.%s says %" PRIu64
				     "; using the runtime's value", name, l->source, have, stated[i].path, v);
		l->v[stated[i].field] = (int64_t)v;
		l->origin[stated[i].field] = CH_PY_FROM_RUNTIME;
	}
}

static struct ch_error *failed(const struct ch_python *py, const char *what, uint64_t got, uint64_t want)
{
	return ch_error_new(CH_ERR_UNSUPPORTED,
			    "layout self-check failed: %s is 0x%" PRIx64 ", expected 0x%" PRIx64
			    " (the layout from %s does not describe this CPython %s)",
			    what, got, want, py->layout.source, py->version.text);
}

static bool read_word(struct ch_python *py, uint64_t addr, uint64_t *v)
{
	struct ch_error *err = ch_as_read_u64(&py->proc->as, addr, v);
	ch_error_free(err);
	return err == NULL;
}

struct ch_error *ch_py_layout_self_check(struct ch_python *py)
{
	struct ch_py_layout *l = &py->layout;
	uint64_t v;
	/* Unreadable memory is the core's problem, reported where it is used;
	 * only a readable wrong value says the layout is wrong. */
	if (py->type_type && read_word(py, py->type_type + (uint64_t)l->v[CH_PY_OB_TYPE], &v)) {
		if (v != py->type_type)
			return failed(py, "the type of PyType_Type", v, py->type_type);
		l->self_checks++;
	}
	uint64_t last_interp = 0;
	for (size_t i = 0; i < py->nthreads; i++) {
		const struct ch_py_thread *t = &py->threads[i];
		if (t->interp == last_interp)
			continue; /* the first thread of each interpreter suffices */
		last_interp = t->interp;
		if (!read_word(py, t->tstate + (uint64_t)l->v[CH_PY_TSTATE_INTERP], &v))
			continue;
		if (v != t->interp)
			return failed(py, "a thread state's interpreter", v, t->interp);
		l->self_checks++;
	}
	return NULL;
}
