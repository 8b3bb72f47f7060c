/* show's native memory: the malloc chunks an object owns (inferred, the
 * rule of graph/memory.h's struct ch_mem_python), for `show ADDR`. */
#include <inttypes.h>

#include "report.h"
#include "report_memory.h"

/* The owned chunks are sorted by chunk address, not by owner: a linear
 * pass (there is one owned chunk per owning object, rarely more). */
static uint64_t owned_of(const struct ch_memory_brief *m, uint64_t object, size_t *nchunks)
{
	uint64_t bytes = 0;
	*nchunks = 0;
	for (size_t i = 0; i < m->nowned; i++)
		if (m->owned[i].object == object) {
			bytes += m->owned[i].bytes;
			(*nchunks)++;
		}
	return bytes;
}

json_t *ch_report_show_native_json(const struct ch_memory_brief *m, uint64_t object)
{
	if (!m || !ch_memory_brief_flag(m, CH_MEMB_PYTHON_DONE) || !ch_memory_brief_flag(m, CH_MEMB_GLIBC_FOUND))
		return json_null();
	size_t n;
	json_t *o = json_object(), *chunks = json_array();
	json_object_set_new(o, "bytes", json_integer((json_int_t)owned_of(m, object, &n)));
	for (size_t i = 0; i < m->nowned; i++) {
		const struct ch_mem_owned_chunk *c = &m->owned[i];
		if (c->object != object)
			continue;
		char hex[24];
		snprintf(hex, sizeof(hex), "0x%" PRIx64, c->user);
		json_array_append_new(chunks, json_pack("{s:s,s:I,s:b}", "address", hex, "size", (json_int_t)c->bytes,
							"inferred", 1));
	}
	json_object_set_new(o, "chunks", chunks);
	return o;
}

void ch_report_show_native_text(FILE *out, const struct ch_memory_brief *m, uint64_t object)
{
	/* Unknown (glibc's heap not read) prints nothing: JSON says null, and
	 * `coreheap memory` says why. */
	if (!m || !ch_memory_brief_flag(m, CH_MEMB_PYTHON_DONE) || !ch_memory_brief_flag(m, CH_MEMB_GLIBC_FOUND))
		return;
	size_t n;
	uint64_t bytes = owned_of(m, object, &n);
	if (!n)
		return; /* the usual case: nothing beyond what the size line says */
	char h[32];
	ch_report_human_bytes(bytes, h, sizeof(h));
	fprintf(out, "native:     %s owned in %zu malloc chunk%s (inferred):", h, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < m->nowned; i++)
		if (m->owned[i].object == object)
			fprintf(out, " 0x%" PRIx64 " (%" PRIu64 " B)", m->owned[i].user, m->owned[i].bytes);
	fputc('\n', out);
}
