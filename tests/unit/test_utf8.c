/* readers/base/utf8.h: what counts as UTF-8 (overlong forms, surrogates,
 * code points above U+10FFFF and cut sequences do not), and the escaping
 * that makes a string from a dump printable: \xHH per bad byte, counted,
 * valid text untouched, and cut on a character boundary when the buffer
 * is full; errors and warnings are one line of UTF-8 whatever they quote. */
#include <string.h>

#include "check.h"
#include "readers/base/diag.h"
#include "readers/base/error.h"
#include "readers/base/utf8.h"

static size_t escape(const char *in, char *buf, size_t max)
{
	strncpy(buf, in, max - 1);
	buf[max - 1] = '\0';
	return ch_utf8_escape(buf, max);
}

int main(void)
{
	static const char *const good[] = {"", "dict", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x90\x8d",
					   "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(ch_utf8_valid(good[i], strlen(good[i])));
	static const char *const bad[] = {"\xff", "\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
					  "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "a\xc3(b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!ch_utf8_valid(bad[i], strlen(bad[i])));

	char buf[64];
	CHECK_EQ_U64(escape("caf\xc3\xa9", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "caf\xc3\xa9");
	CHECK_EQ_U64(escape("C\xff\xc3le", buf, sizeof(buf)), 2);
	CHECK_STR(buf, "C\\xff\\xc3le");
	CHECK(ch_utf8_valid(buf, strlen(buf)));
	CHECK_EQ_U64(escape("\xed\xa0\x80", buf, sizeof(buf)), 3); /* a surrogate: three bad bytes */
	CHECK_STR(buf, "\\xed\\xa0\\x80");
	/* Full buffer: cut before an escape or a character that does not fit. */
	CHECK_EQ_U64(escape("ab\xff", buf, 6), 1);
	CHECK_STR(buf, "ab");
	CHECK_EQ_U64(escape("\xffzz\xc3\xa9", buf, 8), 1);
	CHECK_STR(buf, "\\xffzz");
	CHECK(ch_utf8_valid(buf, strlen(buf)));
	CHECK_EQ_U64(ch_utf8_escape(buf, 0), 0);

	/* One line: controls escaped too; errors and warnings come out so. */
	CHECK_EQ_U64(escape("a\nb\x7f\xc3\xa9", buf, sizeof(buf)), 0);
	strcpy(buf, "a\nb\x7f\xc3\xa9");
	CHECK_EQ_U64(ch_text_escape_line(buf, sizeof(buf)), 2);
	CHECK_STR(buf, "a\\x0ab\\x7f\xc3\xa9");
	struct ch_error *err = ch_error_new(CH_ERR_INPUT, "%s: bad", "/x/\xff\n");
	CHECK_STR(err->message, "/x/\\xff\\x0a: bad");
	err = ch_error_prefix(err, "in \x80");
	CHECK_STR(err->message, "in \\x80: /x/\\xff\\x0a: bad");
	ch_error_free(err);
	struct ch_diag d;
	ch_diag_init(&d);
	ch_diag_partial(&d, "name %s", "C\xff\xc3le");
	if (CHECK_EQ_U64(d.n, 1))
		CHECK_STR(d.messages[0], "name C\\xff\\xc3le");
	ch_diag_deinit(&d);
	return CHECK_SUMMARY("test_utf8");
}
