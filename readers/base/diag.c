#include "readers/base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/utf8.h"

void ch_diag_init(struct ch_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void ch_diag_deinit(struct ch_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->messages[i]);
	free(d->messages);
	memset(d, 0, sizeof(*d));
}

static void add(struct ch_diag *d, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* The hash is of the text as formatted: escaping (one line of UTF-8,
	 * as for errors) is a function of it, so equal texts stay equal, and
	 * a message past the cap is counted without being escaped (damaged
	 * walks report hundreds: escaping them was most of a walk's time). */
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
		h = (h ^ *p) * 16777619u;
	bool escaped = false;
	for (size_t i = 0; i < d->n; i++) {
		if (d->hash[i] != h)
			continue;
		if (!escaped) {
			ch_text_escape_line(buf, sizeof(buf));
			escaped = true;
		}
		if (strcmp(d->messages[i], buf) == 0)
			return;
	}
	if (d->n >= CH_DIAG_MAX) {
		d->dropped++;
		return;
	}
	if (!escaped)
		ch_text_escape_line(buf, sizeof(buf));
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		char **p = realloc(d->messages, ncap * sizeof(*p));
		if (!p) {
			d->dropped++;
			return;
		}
		d->messages = p;
		d->cap = ncap;
	}
	char *s = strdup(buf);
	if (!s) {
		d->dropped++;
		return;
	}
	d->hash[d->n] = h;
	d->messages[d->n++] = s;
}

void ch_diag_warn(struct ch_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, fmt, ap);
	va_end(ap);
}

void ch_diag_partial(struct ch_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, fmt, ap);
	va_end(ap);
	d->partial = true;
}
