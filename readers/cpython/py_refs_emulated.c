/* References of GC types coreheap does not model, from the type's own
 * tp_traverse run in the sandbox (readers/emulator): every pointer the code
 * passes to `visit` is one reference, exactly what gc.get_referents gives.
 * A heap-type subclass runs subtype_traverse, which calls the base's
 * traverse: the real code, nothing re-implemented here.
 *
 * Labels, never guessed: a visited pointer that the subtype part (slots,
 * __dict__, managed values, ob_type) accounts for keeps that label; else,
 * if a word of the object's body holds it (the first such word not yet
 * used by an earlier visit), the tp_members name at that offset, "ob_type"
 * or "+0x30"; else "(tp_traverse)": the code reached it through another
 * block (a linked list, an array it owns). getset descriptors name no
 * offset, so they name nothing here.
 *
 * Failure (a fault, a write, a syscall, the budget, ...) falls back to the
 * conservative scan; the first failure of a type is warned about once,
 * names the type and the reason, and is kept as the reason of the verdict.
 * A type whose code misbehaves (not merely reads memory the core lacks) or
 * that overruns its budget CH_EMU_BUDGET_STRIKES times is not tried again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_types.h"
#include "readers/emulator/emulator.h"

#define CH_EMU_BUDGET_STRIKES 3
/* Budget overruns per core before emulation stops altogether: a hostile
 * core with many looping types costs at most this many budgets. */
#define CH_EMU_CORE_STRIKES 64
#define CH_EMU_BODY_MAX 4096     /* bytes of a body searched for labels */
#define CH_EMU_HAND_MAX 4096     /* subtype-part references kept for labels */
#define CH_EMU_MEMBERS_MAX 256   /* tp_members entries read per type */
#define CH_EMU_CHAIN_MAX 64

/* Result of one prefetched call, consumed in order by ch_refs_emulated. */
struct ch_refs_prefetched {
	uint64_t obj;
	uint8_t status;
	struct ch_emu_call call;  /* for the failure's description */
	size_t first;             /* into cache->pre_visits */
	uint32_t nvisits;
};

/* Strings that live as long as the cache: labels and reasons. */
struct ch_refs_strpool {
	struct ch_refs_strpool *next;
	size_t used, cap;
	char data[];
};

const char *ch_refs_pool_add(struct ch_py_refs_cache *cache, const char *s)
{
	size_t len = strlen(s) + 1;
	struct ch_refs_strpool *p = cache->strings;
	if (!p || p->cap - p->used < len) {
		size_t cap = len > 16384 ? len : 16384;
		struct ch_refs_strpool *n = malloc(sizeof(*n) + cap);
		if (!n)
			return "?";
		n->next = p;
		n->used = 0;
		n->cap = cap;
		cache->strings = p = n;
	}
	char *out = p->data + p->used;
	memcpy(out, s, len);
	p->used += len;
	return out;
}

void ch_refs_emulated_free(struct ch_py_refs_cache *cache)
{
	ch_emu_close(cache->emu);
	for (size_t i = 0; i < cache->ninfo; i++) {
		free(cache->info[i].members);
		free(cache->info[i].shape_learn);
	}
	free(cache->pre);
	free(cache->pre_visits);
	free(cache->hand);
	free(cache->offset_names);
	free(cache->mismatches);
	free(cache->vtargets);
	while (cache->strings) {
		struct ch_refs_strpool *n = cache->strings->next;
		free(cache->strings);
		cache->strings = n;
	}
}

/* The environment variable CH_EMULATION=off runs no traverse at all, as
 * before emulation existed (unmodelled types scanned conservatively, the
 * verdict not exact): what tests/bench/bench_mypy.sh compares with. */
static struct ch_emu *sandbox(struct ch_python *py, struct ch_py_refs_cache *cache)
{
	if (!cache->emu_opened) {
		cache->emu_opened = true;
		const char *env = getenv("CH_EMULATION");
		struct ch_error *err = env && strcmp(env, "off") == 0
					       ? ch_error_new(CH_ERR_UNSUPPORTED, "disabled by CH_EMULATION=off")
					       : ch_emu_open_process(py->proc, &cache->emu);
		if (err) {
			char buf[600];
			snprintf(buf, sizeof(buf), "no emulator: %s", err->message);
			cache->emu_unavailable = ch_refs_pool_add(cache, buf);
			ch_diag_warn(&py->diag, "references of C types coreheap does not model are read conservatively: %s",
				     err->message);
			ch_error_free(err);
			cache->emu = NULL;
		}
	}
	return cache->emu;
}

/* Whether objects of this type are to be emulated (typeinfo is ready):
 * unmodelled GC types (and guessed ones, see ch_refs_typeinfo.emulate),
 * and with --verify-traverse modelled ones too.
 * Instances of metatypes are GC objects only when they are heap types:
 * they are emulated one by one, when visited. */
static bool wants_emulation(const struct ch_python *py, uint32_t type, const struct ch_refs_typeinfo *ti)
{
	const struct ch_py_type *ty = &py->types.v[type];
	return (ti->kind == CH_RK_UNKNOWN || ti->emulate || py->verify_traverse) && (ty->flags & CH_TPFLAGS_HAVE_GC) &&
	       !(ty->flags & CH_TPFLAGS_TYPE_SUBCLASS) && ti->traverse && ti->emu_state != CH_REFS_EMU_DISABLED &&
	       (ti->shape_state != CH_SHAPE_FIXED || py->verify_traverse); /* a shape reads most without a call */
}

/* Objects a prefetch may hold that are then not visited (say, a type
 * object that is static after all) are skipped over, this many at most. */
#define CH_PREFETCH_LOOKAHEAD 16

/* The emulated call for obj: the prefetched one, or one call now. False
 * when there is no sandbox (*reason says why). */
static bool run_call(struct ch_python *py, struct ch_py_refs_cache *cache, uint64_t obj, uint64_t traverse,
		     struct ch_emu_call *one, const uint64_t **visits, uint32_t *nvisits, const char **reason)
{
	for (size_t k = cache->pre_cur; k < cache->npre && k < cache->pre_cur + CH_PREFETCH_LOOKAHEAD; k++) {
		if (cache->pre[k].obj != obj)
			continue;
		const struct ch_refs_prefetched *r = &cache->pre[k];
		cache->pre_cur = k + 1;
		*one = r->call;
		*visits = r->nvisits ? cache->pre_visits + r->first : NULL; /* pre_visits may be NULL */
		*nvisits = r->nvisits;
		return true;
	}
	struct ch_emu *emu = sandbox(py, cache);
	if (!emu) {
		*reason = cache->emu_unavailable;
		return false;
	}
	one->func = traverse;
	one->arg0 = obj;
	struct ch_error *err = ch_emu_run(emu, one, 1);
	if (err) {
		ch_error_free(err);
		one->status = CH_EMU_ENGINE;
	}
	*visits = ch_emu_visits(emu) + one->first;
	*nvisits = one->nvisits;
	return true;
}

void ch_py_refs_prefetch(struct ch_python *py, const uint64_t *addrs, const uint32_t *types, size_t n)
{
	struct ch_py_refs_cache *cache;
	struct ch_error *err = ch_refs_cache_get(py, &cache);
	if (err) {
		ch_error_free(err);
		return;
	}
	cache->npre = cache->pre_cur = cache->npre_visits = 0;
	struct ch_emu_call *calls = NULL;
	size_t ncalls = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ch_refs_typeinfo *ti;
		if ((err = ch_refs_typeinfo(py, types[i], &ti))) {
			ch_error_free(err);
			continue;
		}
		if (!wants_emulation(py, types[i], ti))
			continue;
		if (!calls && !(calls = malloc(n * sizeof(*calls))))
			return;
		calls[ncalls].func = ti->traverse;
		calls[ncalls].arg0 = addrs[i];
		ncalls++;
	}
	/* err may still name an error freed in the loop above: not reused. */
	struct ch_emu *emu = ncalls ? sandbox(py, cache) : NULL;
	if (!emu) {
		free(calls);
		return;
	}
	if ((err = ch_emu_run(emu, calls, ncalls))) {
		ch_error_free(err);
		free(calls);
		return;
	}
	size_t total = 0;
	for (size_t i = 0; i < ncalls; i++)
		total += calls[i].nvisits;
	if (ncalls > cache->cappre) {
		struct ch_refs_prefetched *p = realloc(cache->pre, ncalls * sizeof(*p));
		if (!p)
			goto out;
		cache->pre = p;
		cache->cappre = ncalls;
	}
	if (total > cache->cappre_visits) {
		uint64_t *p = realloc(cache->pre_visits, total * sizeof(*p));
		if (!p)
			goto out;
		cache->pre_visits = p;
		cache->cappre_visits = total;
	}
	const uint64_t *v = ch_emu_visits(emu);
	size_t kept = 0;
	for (size_t i = 0; i < ncalls; i++) {
		if (calls[i].status == CH_EMU_NOT_RUN)
			continue; /* visited later with a call of its own */
		struct ch_refs_prefetched *r = &cache->pre[kept++];
		r->obj = calls[i].arg0;
		r->status = calls[i].status;
		r->call = calls[i];
		r->first = cache->npre_visits;
		r->nvisits = calls[i].nvisits;
		if (calls[i].nvisits) /* pre_visits is NULL while no call has visited anything */
			memcpy(cache->pre_visits + cache->npre_visits, v + calls[i].first, calls[i].nvisits * sizeof(*v));
		cache->npre_visits += calls[i].nvisits;
	}
	cache->npre = kept;
out:
	free(calls);
}

/* "; the code is in libfoo.so, which is not usable here: ..." when addr
 * lies in a module whose file could not be used (missing, another build:
 * a core from another machine wants --sysroot), else "". */
static void module_note(struct ch_python *py, uint64_t addr, char *out, size_t n)
{
	out[0] = 0;
	for (size_t j = 0; j < py->proc->nmodules; j++) {
		const struct ch_module *m = &py->proc->modules[j];
		if (addr < m->start || addr >= m->end || m->status == CH_MODULE_OK || !m->problem)
			continue;
		snprintf(out, n, "; the code is in %.200s, which is not usable here: %.300s", m->path, m->problem->message);
		return;
	}
}

/* verifying: the type is modelled and only --verify-traverse ran it, so
 * its references are not affected, only the cross-check. */
static void note_failure(struct ch_python *py, struct ch_py_refs_cache *cache, uint32_t type,
			 const struct ch_emu_call *call, bool verifying)
{
	struct ch_refs_typeinfo *ti = &cache->info[type];
	ti->emu_failures++;
	if (!ti->emu_reason) {
		char what[200], note[600], buf[900];
		ch_emu_call_describe(call, what, sizeof(what));
		note[0] = 0;
		if (call->status == CH_EMU_FETCH || call->status == CH_EMU_UNREADABLE)
			module_note(py, call->detail, note, sizeof(note));
		snprintf(buf, sizeof(buf), "tp_traverse could not be emulated: %s%s", what, note);
		ti->emu_reason = ch_refs_pool_add(cache, buf);
		ch_diag_warn(&py->diag, "%s: %s (object 0x%" PRIx64 " first): %s", ch_py_type_name(&py->types, type),
			     verifying ? "--verify-traverse could not check it" : "references read conservatively",
			     call->arg0, buf);
	}
	if (call->status == CH_EMU_BUDGET && ++cache->budget_strikes == CH_EMU_CORE_STRIKES) {
		ch_emu_close(cache->emu);
		cache->emu = NULL;
		cache->emu_unavailable = "emulation stopped: too many tp_traverse calls overran their budget in this core";
		ch_diag_warn(&py->diag, "%s; the rest is read conservatively", cache->emu_unavailable);
	}
	bool code_fault = call->status != CH_EMU_UNREADABLE && call->status != CH_EMU_BUDGET &&
			  call->status != CH_EMU_VISITS && call->status != CH_EMU_MAP_BUDGET;
	/* A module's references come from its def's m_traverse, one per
	 * module: one that fails says nothing about the others. */
	if (ti->kind != CH_RK_MODULE && (code_fault || ti->emu_failures >= CH_EMU_BUDGET_STRIKES))
		ti->emu_state = CH_REFS_EMU_DISABLED;
}

/* tp_members entries of type T_OBJECT / T_OBJECT_EX along the tp_base chain. */
static void read_members(struct ch_python *py, struct ch_py_refs_cache *cache, uint32_t type)
{
	struct ch_refs_typeinfo *ti = &cache->info[type];
	ti->members_read = true;
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_TP_MEMBERS) || !ch_py_has(l, CH_PY_MEMBERDEF_TYPE) ||
	    !ch_py_has(l, CH_PY_MEMBERDEF_OFFSET) || !ch_py_has(l, CH_PY_SIZEOF_MEMBERDEF) ||
	    !ch_py_has(l, CH_PY_MEMBERDEF_NAME))
		return;
	struct ch_address_space *as = &py->proc->as;
	struct ch_refs_member *m = calloc(CH_EMU_MEMBERS_MAX, sizeof(*m));
	if (!m)
		return;
	uint32_t n = 0;
	uint64_t t = py->types.v[type].addr;
	for (int depth = 0; t && depth < CH_EMU_CHAIN_MAX && n < CH_EMU_MEMBERS_MAX; depth++) {
		uint64_t members = 0;
		struct ch_error *err = ch_py_read_u64(py, t, CH_PY_TP_MEMBERS, &members);
		for (uint64_t i = 0; !err && members && n < CH_EMU_MEMBERS_MAX && i < 4096; i++) {
			uint64_t d = members + i * (uint64_t)l->v[CH_PY_SIZEOF_MEMBERDEF], name = 0, off = 0;
			uint32_t mtype = 0;
			struct ch_error *e = ch_as_read_u64(as, d + (uint64_t)l->v[CH_PY_MEMBERDEF_NAME], &name);
			if (!e && name)
				e = ch_as_read_u32(as, d + (uint64_t)l->v[CH_PY_MEMBERDEF_TYPE], &mtype);
			if (!e && name)
				e = ch_as_read_u64(as, d + (uint64_t)l->v[CH_PY_MEMBERDEF_OFFSET], &off);
			if (e || !name) {
				ch_error_free(e);
				break; /* unreadable, or the NULL-named entry that ends the array */
			}
			if ((mtype != 6 && mtype != 16) || off >= CH_EMU_BODY_MAX || (off & 7))
				continue;
			char s[128];
			bool trunc;
			e = ch_as_read_cstr(as, name, s, sizeof(s), &trunc);
			if (e) {
				ch_error_free(e);
				continue;
			}
			m[n].offset = (uint32_t)off;
			m[n].name = ch_refs_pool_add(cache, s);
			n++;
		}
		ch_error_free(err);
		if ((err = ch_py_read_u64(py, t, CH_PY_TP_BASE, &t))) {
			ch_error_free(err);
			break;
		}
	}
	ti->members = m;
	ti->nmembers = n;
}

/* The subtype part's references, for labels. */
struct ch_refs_hand {
	struct ch_ref refs[CH_EMU_HAND_MAX];
	bool used[CH_EMU_HAND_MAX];
	size_t n;
};

static int collect_hand(void *arg, const struct ch_ref *r)
{
	struct ch_refs_hand *h = arg;
	if (h->n < CH_EMU_HAND_MAX)
		h->refs[h->n++] = *r;
	return 0;
}

/* Label of a body offset: the tp_members name, "ob_type", or "+0x30",
 * interned once per offset. */
static const char *offset_label(struct ch_py_refs_cache *cache, uint32_t off, const struct ch_refs_member *m,
				uint32_t nm)
{
	for (uint32_t i = 0; i < nm; i++)
		if (m[i].offset == off)
			return m[i].name;
	if (off == 8)
		return "ob_type";
	if (!cache->offset_names && !(cache->offset_names = calloc(CH_EMU_BODY_MAX / 8, sizeof(char *))))
		return "?";
	const char **slot = &cache->offset_names[off / 8];
	if (!*slot) {
		char buf[24];
		snprintf(buf, sizeof(buf), "+0x%" PRIx32, off);
		*slot = ch_refs_pool_add(cache, buf);
	}
	return *slot;
}

static bool emit_visits(struct ch_refs_ctx *c, struct ch_py_refs_cache *cache, uint64_t obj, uint32_t type,
			const uint64_t *visits, uint32_t n)
{
	struct ch_python *py = c->py;
	const struct ch_refs_typeinfo ti = cache->info[type]; /* info may move while refs are emitted */
	const struct ch_py_type *ty = &py->types.v[type];
	struct ch_refs_hand *h = NULL;
	if (ti.subtype && (cache->hand || (cache->hand = malloc(sizeof(struct ch_refs_hand))))) {
		h = cache->hand;
		h->n = 0;
		struct ch_refs_ctx hc = {py, collect_hand, h, false, true};
		ch_error_free(ch_refs_instance(&hc, obj, ty->addr, &ti));
		memset(h->used, 0, h->n * sizeof(h->used[0]));
	}
	uint64_t body[CH_EMU_BODY_MAX / 8];
	uint64_t size = ty->basicsize > 0 ? (uint64_t)ty->basicsize : 0;
	if (size > sizeof(body))
		size = sizeof(body);
	struct ch_error *err = ch_as_read(&py->proc->as, obj, body, size);
	if (err) {
		ch_error_free(err);
		size = 0;
	}
	uint64_t used[CH_EMU_BODY_MAX / 8 / 64] = {0};
	for (uint32_t i = 0; i < n && !c->stopped; i++) {
		uint64_t v = visits[i], vt;
		if (!ch_py_object_plausible(py, v, &vt))
			continue; /* a claim, not an object: no edge */
		size_t k = h ? h->n : 0;
		for (size_t j = 0; h && j < h->n; j++)
			if (!h->used[j] && h->refs[j].target == v) {
				k = j;
				break;
			}
		if (h && k < h->n) {
			h->used[k] = true;
			struct ch_ref r = h->refs[k];
			r.traversed = true;
			ch_refs_emit_ref(c, &r);
			continue;
		}
		const char *name = "(tp_traverse)";
		for (uint32_t w = 1; w < size / 8; w++) /* from ob_type: heap types visit their type */
			if (body[w] == v && !(used[w / 64] >> (w % 64) & 1)) {
				used[w / 64] |= 1ull << (w % 64);
				name = offset_label(cache, w * 8, ti.members, ti.nmembers);
				break;
			}
		ch_refs_emit(c, v, CH_REF_FIELD, true, 0, 0, name);
	}
	return true;
}

bool ch_refs_emulated(struct ch_refs_ctx *c, uint64_t obj, uint32_t type, const char **reason)
{
	struct ch_python *py = c->py;
	struct ch_py_refs_cache *cache;
	struct ch_error *err = ch_refs_cache_get(py, &cache);
	if (err) {
		ch_error_free(err);
		*reason = "out of memory";
		return false;
	}
	const struct ch_refs_typeinfo *ti = &cache->info[type];
	if (!ti->traverse) {
		*reason = "the type has no tp_traverse";
		return false;
	}
	if (ti->emu_state == CH_REFS_EMU_DISABLED) {
		*reason = ti->emu_reason ? ti->emu_reason : "tp_traverse could not be emulated";
		return false;
	}
	struct ch_emu_call one;
	const uint64_t *visits;
	uint32_t nvisits;
	uint64_t shaped[CH_SHAPE_WORDS];
	if (ch_refs_shape_visits(py, ti, type, obj, shaped, &nvisits))
		return emit_visits(c, cache, obj, type, shaped, nvisits);
	if (!run_call(py, cache, obj, ti->traverse, &one, &visits, &nvisits, reason))
		return false;
	if (one.status != CH_EMU_OK) {
		note_failure(py, cache, type, &one, false);
		*reason = cache->info[type].emu_reason;
		return false;
	}
	cache->info[type].emu_state = CH_REFS_EMU_WORKS;
	ch_refs_shape_learn(py, cache, type, obj, visits, nvisits);
	if (!cache->info[type].members_read)
		read_members(py, cache, type);
	return emit_visits(c, cache, obj, type, visits, nvisits);
}

/* Keep a traversed reference's target in cache->vtargets. */
static bool keep_target(struct ch_py_refs_cache *c, const struct ch_ref *r)
{
	if (!r->traversed)
		return true;
	if (c->nvtargets == c->capvtargets) {
		size_t ncap = c->capvtargets ? c->capvtargets * 2 : 256;
		uint64_t *p = realloc(c->vtargets, ncap * sizeof(*p));
		if (!p)
			return false;
		c->vtargets = p;
		c->capvtargets = ncap;
	}
	c->vtargets[c->nvtargets++] = r->target;
	return true;
}

int ch_refs_verify_collect(void *arg, const struct ch_ref *r)
{
	struct ch_refs_verify_wrap *w = arg;
	keep_target(w->cache, r);
	return w->fn(w->arg, r);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void add_mismatch(struct ch_python *py, struct ch_py_refs_cache *c, uint64_t obj, uint32_t type,
			 uint64_t target, uint32_t emulated, uint32_t modelled)
{
	uint64_t t;
	uint32_t tt = UINT32_MAX;
	if (ch_py_object_plausible(py, target, &t)) {
		struct ch_error *err = ch_py_type_intern(py, t, &tt);
		if (err) {
			ch_error_free(err);
			tt = UINT32_MAX;
		}
	}
	if (c->nmismatches == c->capmismatches) {
		size_t ncap = c->capmismatches ? c->capmismatches * 2 : 64;
		struct ch_traverse_mismatch *p = realloc(c->mismatches, ncap * sizeof(*p));
		if (!p)
			return;
		c->mismatches = p;
		c->capmismatches = ncap;
	}
	struct ch_traverse_mismatch m = {obj, type, target, tt, emulated, modelled};
	c->mismatches[c->nmismatches++] = m;
}

/* Compare the emulated visits of obj with cache->vtargets as multisets;
 * with record, add each difference to the mismatches. Returns the number
 * of targets counted differently, or -1 when the call could not be made
 * (counted as unverified when recording). */
static long compare_with_emulation(struct ch_python *py, uint64_t obj, uint32_t type, bool record)
{
	struct ch_py_refs_cache *cache = py->refs;
	const struct ch_refs_typeinfo *ti = &cache->info[type];
	struct ch_emu_call one;
	const uint64_t *visits;
	uint32_t n;
	const char *reason = NULL;
	if (!ti->traverse || ti->emu_state == CH_REFS_EMU_DISABLED ||
	    !run_call(py, cache, obj, ti->traverse, &one, &visits, &n, &reason) || one.status != CH_EMU_OK) {
		if (reason == NULL && ti->traverse && ti->emu_state != CH_REFS_EMU_DISABLED)
			note_failure(py, cache, type, &one, true);
		return -1;
	}
	uint64_t *e = malloc((n ? n : 1) * sizeof(*e));
	if (!e)
		return -1;
	if (n) /* a call that visited nothing may leave no buffer */
		memcpy(e, visits, n * sizeof(*e));
	qsort(e, n, sizeof(*e), u64_cmp);
	if (cache->nvtargets)
		qsort(cache->vtargets, cache->nvtargets, sizeof(uint64_t), u64_cmp);
	const uint64_t *m = cache->vtargets;
	size_t i = 0, j = 0, nm = cache->nvtargets;
	long diffs = 0;
	while (i < n || j < nm) {
		uint64_t t = i < n && (j >= nm || e[i] <= m[j]) ? e[i] : m[j];
		uint32_t ce = 0, cm = 0;
		while (i < n && e[i] == t)
			i++, ce++;
		while (j < nm && m[j] == t)
			j++, cm++;
		if (ce != cm) {
			diffs++;
			if (record)
				add_mismatch(py, cache, obj, type, t, ce, cm);
		}
	}
	free(e);
	return diffs;
}

void ch_refs_verify_compare(struct ch_python *py, uint64_t obj, uint32_t type)
{
	if (compare_with_emulation(py, obj, type, true) < 0)
		py->refs->unverified++;
	else
		py->refs->verified++;
}

void ch_py_refs_verify_result(struct ch_python *py, struct ch_traverse_verify *out)
{
	memset(out, 0, sizeof(*out));
	struct ch_py_refs_cache *c = py->refs;
	if (!c)
		return;
	out->v = c->mismatches;
	out->n = c->nmismatches;
	out->objects = c->verified;
	out->unverified = c->unverified;
}
