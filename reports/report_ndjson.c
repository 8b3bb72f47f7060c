#include <string.h>

#include "report.h"

/* The array at path ("key" or "outer.key") and the object holding it. */
static json_t *find_rows(json_t *doc, const char *path, json_t **parent, char *key, size_t keysize)
{
	const char *dot = strchr(path, '.');
	*parent = doc;
	if (dot) {
		char outer[64];
		snprintf(outer, sizeof(outer), "%.*s", (int)(dot - path), path);
		*parent = json_object_get(doc, outer);
		path = dot + 1;
	}
	snprintf(key, keysize, "%s", path);
	json_t *a = json_object_get(*parent, key);
	return json_is_array(a) ? a : NULL;
}

static int write_line(FILE *out, const char *record, json_t *fields)
{
	json_t *line = json_object();
	json_object_set_new(line, "record", ch_json_text(record));
	json_object_update(line, fields);
	int r = json_dumpf(line, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (r == 0 && fputc('\n', out) == EOF)
		r = -1;
	json_decref(line);
	return r;
}

int ch_report_write_ndjson(FILE *out, json_t *doc, const struct ch_ndjson_rows *rows, size_t nrows,
			   const char *record, const struct ch_diag *diag)
{
	int r = 0;
	for (size_t i = 0; i < nrows && r == 0; i++) {
		json_t *parent;
		char key[64];
		json_t *a = find_rows(doc, rows[i].path, &parent, key, sizeof(key));
		size_t k;
		json_t *x;
		json_array_foreach(a, k, x) {
			if (r == 0)
				r = write_line(out, rows[i].record, x);
		}
		if (a)
			json_object_del(parent, key);
	}
	ch_report_json_status(doc, diag);
	if (r == 0)
		r = write_line(out, record, doc);
	return r;
}
