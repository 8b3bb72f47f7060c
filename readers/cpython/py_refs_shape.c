/* A type's tp_traverse as fixed offsets, learnt from emulation and then
 * used instead of it (issue 12's allowance: "only when verified against
 * emulation on a sample of every such type").
 *
 * Most traverses of C types (mypyc classes, Cython cdef classes, _asyncio,
 * ...) are a row of Py_VISIT(self->field): they visit the non-NULL words
 * at fixed offsets of the body. The first CH_SHAPE_SAMPLES objects of a
 * type are emulated as before; each sample's body is compared with what
 * its traverse visited. The words holding a value are visited in a sample
 * when the visits hold that value as many times as the body does (None in
 * three fields, visited three times), and not visited when the value is
 * not among the visits at all; fewer visits than words decide nothing.
 * An odd value is a tagged pointer (mypyc's CPyTagged: a boxed int's
 * address plus one; even values are short ints), visited less the tag: a
 * word is tagged when its odd values were visited so and its even ones
 * never.
 *
 * The shape is taken only when, over all samples, every word that was
 * ever non-NULL is decided one way (plain, tagged or never visited), and
 * each sample's visits are then exactly what the shape predicts, as a
 * multiset: no visit from elsewhere (a linked list, an owned array, the
 * managed values of a subclass), nothing skipped by a condition the
 * samples showed. A word NULL in every sample is unknown: an object with
 * such a word set is emulated, as are all objects of types without a
 * shape (variable-size types, bodies past CH_SHAPE_WORDS words, fewer
 * than CH_SHAPE_SAMPLES objects). --verify-traverse never uses shapes, nor
 * does a run with CH_EMULATION=noshape in the environment (every object
 * emulated: tests/bench/bench_emu.sh measures the emulator with it). */
#include <stdlib.h>
#include <string.h>

#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_types.h"

/* The samples of one type while its shape is learnt. */
struct ch_refs_shape_learn {
	uint64_t body[CH_SHAPE_SAMPLES][CH_SHAPE_WORDS];
	uint64_t visits[CH_SHAPE_SAMPLES][CH_SHAPE_WORDS];
	uint32_t nvisits[CH_SHAPE_SAMPLES];
	/* bit w: word w. Evidence per sample, by the parity of the value:
	 * an even value visited (vplain) or not (neven); an odd one visited
	 * less its tag bit (vtag) or not (nodd). */
	uint64_t vplain, neven, vtag, nodd, nonnull;
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Words of the type's body the shape covers (0 when it has none). */
static uint32_t shape_words(const struct ch_py_type *ty)
{
	if (ty->itemsize || ty->basicsize <= 16 || ty->basicsize > 8 * CH_SHAPE_WORDS || ty->basicsize % 8)
		return 0;
	return (uint32_t)(ty->basicsize / 8);
}

static uint32_t count_of(const uint64_t *v, uint32_t n, uint64_t x)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += v[i] == x;
	return k;
}

/* What a word holds for the traverse: an odd value is a tagged pointer
 * (mypyc's CPyTagged: a boxed int's address plus one), visited untagged. */
static uint64_t effective(uint64_t x)
{
	return x & ~(uint64_t)1;
}

/* The visits the shape predicts for body: the non-NULL plain words, and
 * the tagged words holding a pointer (odd), untagged. */
static uint32_t predicted(uint64_t plain, uint64_t tagged, const uint64_t *body, uint32_t words, uint64_t *out)
{
	uint32_t n = 0;
	for (uint32_t w = 1; w < words; w++)
		if (((plain >> w & 1) && body[w]) || ((tagged >> w & 1) && (body[w] & 1)))
			out[n++] = effective(body[w]);
	return n;
}

static void decide(struct ch_refs_typeinfo *ti, uint32_t words)
{
	struct ch_refs_shape_learn *l = ti->shape_learn;
	ti->shape_state = CH_SHAPE_NONE;
	/* A plain word never held an odd value and was never skipped; a
	 * tagged one never had an even value visited nor a pointer skipped. */
	uint64_t plain = l->vplain & ~l->neven & ~l->nodd & ~l->vtag;
	uint64_t tagged = l->vtag & ~l->vplain & ~l->nodd;
	uint64_t skipped = (l->neven | l->nodd) & ~l->vplain & ~l->vtag;
	if (l->nonnull & ~(plain | tagged | skipped))
		return; /* a word the samples did not decide */
	for (uint32_t s = 0; s < CH_SHAPE_SAMPLES; s++) {
		uint64_t want[CH_SHAPE_WORDS], got[CH_SHAPE_WORDS];
		uint32_t n = predicted(plain, tagged, l->body[s], words, want);
		if (n != l->nvisits[s])
			return;
		memcpy(got, l->visits[s], n * sizeof(*got));
		qsort(want, n, sizeof(*want), u64_cmp);
		qsort(got, n, sizeof(*got), u64_cmp);
		if (memcmp(want, got, n * sizeof(*got)) != 0)
			return;
	}
	ti->shape_state = CH_SHAPE_FIXED;
	ti->shape_visited = plain;
	ti->shape_tagged = tagged;
	ti->shape_null = ~l->nonnull & ~(uint64_t)1; /* word 0 (the refcount) is never a reference */
}

void ch_refs_shape_learn(struct ch_python *py, struct ch_py_refs_cache *cache, uint32_t type, uint64_t obj,
			 const uint64_t *visits, uint32_t n)
{
	struct ch_refs_typeinfo *ti = &cache->info[type];
	if (ti->shape_state != CH_SHAPE_LEARNING || py->verify_traverse)
		return;
	uint32_t words = shape_words(&py->types.v[type]);
	const char *env = getenv("CH_EMULATION");
	if (!words || n > CH_SHAPE_WORDS || (env && strcmp(env, "noshape") == 0) ||
	    (!ti->shape_learn && !(ti->shape_learn = calloc(1, sizeof(*ti->shape_learn))))) {
		ti->shape_state = CH_SHAPE_NONE;
		goto done;
	}
	struct ch_refs_shape_learn *l = ti->shape_learn;
	uint32_t s = ti->shape_nsamples;
	struct ch_error *err = ch_as_read(&py->proc->as, obj, l->body[s], words * 8);
	if (err) {
		ch_error_free(err);
		return; /* not a sample */
	}
	if (n) /* a call that visited nothing may pass no buffer at all */
		memcpy(l->visits[s], visits, n * sizeof(*visits));
	l->nvisits[s] = n;
	for (uint32_t w = 1; w < words; w++) {
		uint64_t x = l->body[s][w];
		if (!x)
			continue;
		l->nonnull |= 1ull << w;
		uint32_t in_visits = count_of(visits, n, effective(x)), in_body = 0;
		for (uint32_t k = 1; k < words; k++)
			in_body += l->body[s][k] && effective(l->body[s][k]) == effective(x);
		bool odd = x & 1;
		if (!in_visits)
			*(odd ? &l->nodd : &l->neven) |= 1ull << w;
		else if (in_visits == in_body)
			*(odd ? &l->vtag : &l->vplain) |= 1ull << w;
	}
	if (++ti->shape_nsamples < CH_SHAPE_SAMPLES)
		return;
	decide(ti, words);
done:
	free(ti->shape_learn);
	ti->shape_learn = NULL;
}

bool ch_refs_shape_visits(struct ch_python *py, const struct ch_refs_typeinfo *ti, uint32_t type, uint64_t obj,
			  uint64_t *out, uint32_t *n)
{
	if (ti->shape_state != CH_SHAPE_FIXED || py->verify_traverse)
		return false;
	uint32_t words = shape_words(&py->types.v[type]);
	uint64_t body[CH_SHAPE_WORDS];
	struct ch_error *err = ch_as_read(&py->proc->as, obj, body, words * 8);
	if (err) {
		ch_error_free(err);
		return false;
	}
	for (uint32_t w = 1; w < words; w++)
		if ((ti->shape_null >> w & 1) && body[w])
			return false; /* a word no sample had set: emulate this one */
	*n = predicted(ti->shape_visited, ti->shape_tagged, body, words, out);
	return true;
}
