/* The "memory" object of a snapshot (docs/snapshots.md): the memory
 * figures of graph/memory_digest.h by name, written and read back. The key
 * is optional: a snapshot without it (written before coreheap recorded
 * memory) loads, and `diff` says the comparison is unavailable. */
#include <stdio.h>

#include "graph/memory_digest.h"
#include "reports/snapshot_read.h"
#include "report.h"

json_t *ch_report_memory_digest_json(const struct ch_memory_digest *md)
{
	if (!md->present)
		return json_null();
	json_t *o = json_object(), *f = json_object();
	json_object_set_new(o, "partial", json_boolean(md->partial));
	for (size_t i = 0; i < md->n; i++)
		json_object_set_new(f, md->fig[i].name, json_integer((json_int_t)md->fig[i].value));
	json_object_set_new(o, "figures", f);
	return o;
}

struct ch_error *ch_snapshot_read_memory(const char *path, json_t *doc, struct ch_memory_digest *md)
{
	json_t *o = json_object_get(doc, "memory");
	md->present = false;
	md->n = 0;
	if (!o || json_is_null(o))
		return NULL;
	json_t *partial = json_object_get(o, "partial"), *f = json_object_get(o, "figures");
	if (!json_is_object(o) || !json_is_boolean(partial) || !json_is_object(f))
		return ch_error_new(CH_ERR_INPUT, "snapshot %s: memory is not an object with \"partial\" and \"figures\"",
				    path);
	md->partial = json_is_true(partial);
	const char *key;
	json_t *v;
	json_object_foreach(f, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return ch_error_new(CH_ERR_INPUT, "snapshot %s: memory.figures.%.80s is not a non-negative integer",
					    path, key);
		struct ch_error *err = ch_memory_digest_add(md, key, (uint64_t)json_integer_value(v));
		if (err)
			return ch_error_prefix(err, "snapshot %s", path);
	}
	md->present = true;
	return NULL;
}
