/* Strings read from a dump are bytes: a C string (tp_name, a member name)
 * from damaged or misidentified memory need not be UTF-8, and text and
 * JSON output must be (jansson refuses invalid UTF-8: json_string returns
 * NULL and the key silently disappears). These make such a string valid
 * UTF-8 by escaping each byte that is not part of a well-formed sequence
 * as the four characters \xHH, so the damage stays visible and countable. */
#ifndef CH_UTF8_H
#define CH_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the n bytes at s are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
bool ch_utf8_valid(const char *s, size_t n);

/* Rewrites the NUL-terminated s (in a buffer of max bytes) so it is valid
 * UTF-8, escaping each ill-formed byte as \xHH; what no longer fits is cut
 * on a character boundary. Returns the number of bytes escaped (0: s was
 * valid and is unchanged). */
size_t ch_utf8_escape(char *s, size_t max);

/* The same, also escaping C0 control characters and DEL (\x0a for a
 * newline), so that s stays one line: for error and warning messages,
 * which quote names and paths from the dump. */
size_t ch_text_escape_line(char *s, size_t max);

#endif
