/* Strings into JSON. jansson refuses a string that is not UTF-8 (json_string
 * returns NULL, and json_object_set_new then drops the key without a word),
 * so every string a report puts into JSON goes through ch_json_text. The
 * readers already make what they read from the dump valid UTF-8 and count
 * the damage (readers/base/utf8.h, ch_py_cstr_read); this is the last line
 * for what reaches a report unchecked (a path recorded in the core, say):
 * escaped as \xHH, never dropped. ch_text_safe does the same for text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/utf8.h"
#include "reports/report.h"

json_t *ch_json_text(const char *s)
{
	if (!s)
		return json_null();
	size_t n = strlen(s);
	if (ch_utf8_valid(s, n))
		return json_string(s);
	size_t max = n * 4 + 1;
	char *buf = malloc(max);
	if (!buf)
		return json_string("?");
	memcpy(buf, s, n + 1);
	ch_utf8_escape(buf, max);
	json_t *j = json_string(buf);
	free(buf);
	return j;
}

int ch_json_set_text_key(json_t *obj, const char *key, json_t *value)
{
	size_t n = strlen(key);
	if (ch_utf8_valid(key, n))
		return json_object_set_new(obj, key, value);
	size_t max = n * 4 + 1;
	char *buf = malloc(max);
	if (!buf) {
		json_decref(value);
		return -1;
	}
	memcpy(buf, key, n + 1);
	ch_utf8_escape(buf, max);
	int r = json_object_set_new(obj, buf, value);
	free(buf);
	return r;
}

const char *ch_text_safe(const char *s, char *buf, size_t max)
{
	if (!s || ch_utf8_valid(s, strlen(s)))
		return s;
	snprintf(buf, max, "%s", s);
	ch_utf8_escape(buf, max);
	return buf;
}
