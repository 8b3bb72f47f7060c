/* The flame graph of the dominator tree (graph/flame.h) as folded stacks:
 * one line per frame with a weight of its own, "frame;frame;frame BYTES",
 * the format flamegraph.pl, inferno and speedscope read. */
#include <inttypes.h>
#include <string.h>

#include "graph/flame.h"
#include "report.h"

#define NAME_MAX_TEXT 256

int ch_report_flame_folded(FILE *out, const struct ch_flame *f, const struct ch_analysis *a,
			   const struct ch_roots *roots)
{
	uint32_t chain[CH_FLAME_MAX_DEPTH + 1];
	char name[NAME_MAX_TEXT];
	for (size_t k = 0; k < f->nframes; k++) {
		if (!f->frames[k].self)
			continue;
		size_t depth = 0;
		for (uint32_t x = (uint32_t)k; x != CH_FLAME_TOP && depth <= CH_FLAME_MAX_DEPTH; x = f->frames[x].parent)
			chain[depth++] = x;
		for (size_t i = depth; i-- > 0;) {
			ch_flame_name_text(f, a, roots, f->frames[chain[i]].name, name, sizeof(name));
			fputs(name, out);
			if (i)
				fputc(';', out);
		}
		fprintf(out, " %" PRIu64 "\n", f->frames[k].self);
	}
	return ferror(out) ? -1 : 0;
}
