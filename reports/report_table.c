#include "report_table.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"

static size_t g_width;

void ch_report_set_width(size_t width)
{
	g_width = width;
}

size_t ch_report_width(void)
{
	return g_width;
}

/* Display columns of UTF-8 text: code points (report text is made safe
 * before it gets here; wide characters are rare in type names). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* Byte offset of the code point that starts column col. */
static size_t byte_at(const char *s, size_t col)
{
	size_t i = 0, w = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (w == col)
				return i;
			w++;
		}
	}
	return i;
}

const char *ch_report_elide(const char *s, size_t width, char *buf, size_t n)
{
	size_t w = text_width(s);
	if (w <= width || width < 5 || n < 8) {
		snprintf(buf, n, "%s", s);
		return buf;
	}
	size_t keep = width - 3, head = keep / 2, tail = keep - head;
	size_t hb = byte_at(s, head), tb = byte_at(s, w - tail);
	snprintf(buf, n, "%.*s...%s", (int)hb, s, s + tb);
	return buf;
}

void ch_table_init(struct ch_table *t, size_t ncols, const char *const *headers, const char *align, unsigned flex,
		   const char *indent)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > CH_TABLE_MAX_COLS ? CH_TABLE_MAX_COLS : ncols;
	t->flex = flex;
	t->align = align;
	t->indent = indent ? indent : "";
	for (size_t i = 0; i < t->ncols; i++)
		ch_table_cell(t, "%s", headers[i]);
}

static void add_text(struct ch_table *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->ncells == t->cells_cap) {
		size_t nc = t->cells_cap ? t->cells_cap * 2 : 64;
		size_t *v = realloc(t->cells, nc * sizeof(*v));
		if (!v) {
			t->failed = true;
			return;
		}
		t->cells = v;
		t->cells_cap = nc;
	}
	if (t->len + n + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 1024;
		while (nc < t->len + n + 1)
			nc *= 2;
		char *v = realloc(t->text, nc);
		if (!v) {
			t->failed = true;
			return;
		}
		t->text = v;
		t->cap = nc;
	}
	memcpy(t->text + t->len, s, n);
	t->text[t->len + n] = 0;
	t->cells[t->ncells++] = t->len;
	t->len += n + 1;
}

void ch_table_cell(struct ch_table *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	add_text(t, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void ch_table_count(struct ch_table *t, uint64_t v)
{
	char buf[32];
	ch_report_count(v, buf, sizeof(buf));
	ch_table_cell(t, "%s", buf);
}

void ch_table_bytes(struct ch_table *t, uint64_t b)
{
	char buf[32];
	ch_report_human_bytes(b, buf, sizeof(buf));
	ch_table_cell(t, "%s", buf);
}

/* |v| without overflow at INT64_MIN. */
static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

void ch_table_delta(struct ch_table *t, int64_t v)
{
	char buf[32];
	ch_report_count(magnitude(v), buf, sizeof(buf));
	ch_table_cell(t, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", buf);
}

void ch_table_bytes_delta(struct ch_table *t, int64_t b)
{
	char buf[32];
	ch_report_human_bytes(magnitude(b), buf, sizeof(buf));
	ch_table_cell(t, "%s%s", b > 0 ? "+" : b < 0 ? "-" : "", buf);
}

void ch_table_deinit(struct ch_table *t)
{
	free(t->text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void ch_table_print(FILE *out, struct ch_table *t)
{
	if (t->failed) {
		fprintf(out, "%s(out of memory for the table)\n", t->indent);
		ch_table_deinit(t);
		return;
	}
	size_t w[CH_TABLE_MAX_COLS] = {0}, nrows = t->ncells / t->ncols, total = text_width(t->indent);
	for (size_t i = 0; i < nrows * t->ncols; i++) {
		size_t cw = text_width(t->text + t->cells[i]);
		if (cw > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
	for (size_t c = 0; c < t->ncols; c++)
		total += w[c] + (c ? 2 : 0);
	/* Shrink the widest flexible column, one column at a time, until the
	 * rows fit or every flexible column is down to 12. */
	size_t limit = ch_report_width();
	while (limit && total > limit) {
		size_t best = t->ncols;
		for (size_t c = 0; c < t->ncols; c++)
			if ((t->flex & (1u << c)) && w[c] > 12 && (best == t->ncols || w[c] > w[best]))
				best = c;
		if (best == t->ncols)
			break;
		w[best]--;
		total--;
	}
	for (size_t r = 0; r < nrows; r++) {
		fputs(t->indent, out);
		/* The last column is not padded: no trailing blanks. */
		size_t last = t->ncols - 1;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->text + t->cells[r * t->ncols + c];
			char buf[1024];
			if (t->flex & (1u << c))
				s = ch_report_elide(s, w[c], buf, sizeof(buf));
			size_t sw = text_width(s), pad = w[c] > sw ? w[c] - sw : 0;
			if (c)
				fputs("  ", out);
			bool right = t->align[c] == 'r';
			if (right)
				fprintf(out, "%*s", (int)pad, "");
			fputs(s, out);
			if (!right && c != last)
				fprintf(out, "%*s", (int)pad, "");
		}
		fputc('\n', out);
	}
	ch_table_deinit(t);
}
