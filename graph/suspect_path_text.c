/* A root-to-object chain written as one line of Python-like access
 * (`module.obj.attr[3]`), for suspects, top and summary: a root's label,
 * then each hop's, with `.__dict__['name']` folded into `.name`. */
#include "suspects.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "graph/roots.h"

#define PATH_LABEL_MAX 200

static bool identifier(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static void cat(char *buf, size_t n, const char *text)
{
	size_t l = strlen(buf);
	if (l + 1 < n)
		snprintf(buf + l, n - l, "%s", text);
}

/* Appends hop label `label`, given the next one (NULL at the end):
 * returns true when it folded the next into this one (.__dict__['x'] -> .x). */
static bool append_hop(char *buf, size_t n, const char *label, const char *next)
{
	size_t kl = next ? strlen(next) : 0;
	if (next && !strcmp(label, ".__dict__") && kl > 4 && next[0] == '[' && next[1] == '\'' &&
	    identifier(next + 2, kl - 4)) {
		cat(buf, n, ".");
		size_t l = strlen(buf);
		if (l + kl - 4 < n) {
			memcpy(buf + l, next + 2, kl - 4);
			buf[l + kl - 4] = 0;
		}
		return true;
	}
	cat(buf, n, label);
	return false;
}

void ch_suspect_path_text(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_path *path,
			  char *buf, size_t n)
{
	buf[0] = 0;
	if (!path->nhops)
		return;
	char label[PATH_LABEL_MAX], next[PATH_LABEL_MAX];
	ch_root_label_text(roots, a, path->root, label, sizeof(label));
	cat(buf, n, label);
	for (size_t i = 1; i < path->nhops; i++) {
		ch_path_hop_label(&a->edges, &a->heap, &path->hops[i], label, sizeof(label));
		if (i + 1 < path->nhops)
			ch_path_hop_label(&a->edges, &a->heap, &path->hops[i + 1], next, sizeof(next));
		if (append_hop(buf, n, label, i + 1 < path->nhops ? next : NULL))
			i++;
	}
}

void ch_object_path_text(const struct ch_analysis *a, const struct ch_roots *roots, const struct ch_paths *p,
			 uint32_t o, char *buf, size_t n)
{
	uint32_t chain[CH_PATH_TEXT_HOPS];
	size_t len = 0;
	buf[0] = 0;
	if (o >= p->nobjects || p->parent[o] == CH_NO_OBJECT)
		return;
	for (uint32_t x = o; len < CH_PATH_TEXT_HOPS; x = p->parent[x]) {
		chain[len++] = x;
		if (p->parent[x] == CH_PATH_ROOT)
			break;
	}
	uint32_t top = chain[len - 1];
	if (p->parent[top] != CH_PATH_ROOT) {
		snprintf(buf, n, "(a path longer than %d hops)", CH_PATH_TEXT_HOPS);
		return;
	}
	char label[PATH_LABEL_MAX], next[PATH_LABEL_MAX];
	ch_root_label_text(roots, a, p->via[top], label, sizeof(label));
	cat(buf, n, label);
	for (size_t i = len - 1; i-- > 0;) {
		ch_edges_label_text(&a->edges, &a->heap, p->via[chain[i]], label, sizeof(label));
		if (i > 0)
			ch_edges_label_text(&a->edges, &a->heap, p->via[chain[i - 1]], next, sizeof(next));
		if (append_hop(buf, n, label, i > 0 ? next : NULL))
			i--;
	}
}
