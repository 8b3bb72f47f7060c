#include "wide_values.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint32_t i, size_t nslots)
{
	return (size_t)(((uint64_t)i * 0x9E3779B97F4A7C15ULL) >> 32) & (nslots - 1);
}

uint64_t ch_wide_get(const struct ch_wide *w, uint32_t i)
{
	if (!w->nslots)
		return 0;
	for (size_t s = slot_of(i, w->nslots); w->keys[s]; s = (s + 1) & (w->nslots - 1))
		if (w->keys[s] == i + 1)
			return w->vals[s];
	return 0;
}

static struct ch_error *grow(struct ch_wide *w)
{
	size_t ns = w->nslots ? w->nslots * 2 : 64;
	uint32_t *keys = calloc(ns, sizeof(*keys));
	uint64_t *vals = malloc(ns * sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return &ch_error_nomem;
	}
	for (size_t s = 0; s < w->nslots; s++) {
		if (!w->keys[s])
			continue;
		size_t t = slot_of(w->keys[s] - 1, ns);
		while (keys[t])
			t = (t + 1) & (ns - 1);
		keys[t] = w->keys[s];
		vals[t] = w->vals[s];
	}
	free(w->keys);
	free(w->vals);
	w->keys = keys;
	w->vals = vals;
	w->nslots = ns;
	return NULL;
}

struct ch_error *ch_wide_set(struct ch_wide *w, uint32_t i, uint64_t v)
{
	struct ch_error *err;
	if ((w->n + 1) * 2 > w->nslots && (err = grow(w)))
		return err;
	size_t s = slot_of(i, w->nslots);
	for (; w->keys[s]; s = (s + 1) & (w->nslots - 1))
		if (w->keys[s] == i + 1) {
			w->vals[s] = v;
			return NULL;
		}
	w->keys[s] = i + 1;
	w->vals[s] = v;
	w->n++;
	return NULL;
}

void ch_wide_deinit(struct ch_wide *w)
{
	free(w->keys);
	free(w->vals);
	memset(w, 0, sizeof(*w));
}
