#include "readers/base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/base/utf8.h"

struct ch_error ch_error_nomem = {CH_ERR_NOMEM, "out of memory"};

struct ch_error *ch_error_vnew(enum ch_error_kind kind, const char *fmt, va_list ap)
{
	struct ch_error *err = malloc(sizeof(*err));
	if (!err)
		return &ch_error_nomem;
	err->kind = kind;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	/* One line of UTF-8 whatever names or paths from the dump it quotes. */
	ch_text_escape_line(err->message, sizeof(err->message));
	return err;
}

struct ch_error *ch_error_new(enum ch_error_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ch_error *err = ch_error_vnew(kind, fmt, ap);
	va_end(ap);
	return err;
}

struct ch_error *ch_error_prefix(struct ch_error *err, const char *fmt, ...)
{
	if (!err || err == &ch_error_nomem)
		return err;
	char prefix[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	ch_text_escape_line(prefix, sizeof(prefix));
	size_t plen = strlen(prefix), mlen = strlen(err->message);
	if (plen + 2 >= sizeof(err->message))
		plen = sizeof(err->message) - 3;
	if (plen + 2 + mlen >= sizeof(err->message))
		mlen = sizeof(err->message) - plen - 3;
	memmove(err->message + plen + 2, err->message, mlen);
	memcpy(err->message, prefix, plen);
	memcpy(err->message + plen, ": ", 2);
	err->message[plen + 2 + mlen] = '\0';
	return err;
}

void ch_error_free(struct ch_error *err)
{
	if (err && err != &ch_error_nomem)
		free(err);
}

bool ch_error_ok(struct ch_error *err)
{
	ch_error_free(err);
	return err == NULL;
}
