/* Line-table decoders of every CPython version and float repr, on
 * hand-built inputs following the formats in readers/cpython/py_code.h. */
#include "check.h"
#include "readers/cpython/py_code.h"
#include "readers/cpython/py_value.h"

static void test_lnotab(void)
{
	/* (addr_incr, line_incr) pairs, f_lasti in bytes [3.8 PyCode_Addr2Line] */
	const uint8_t t[] = {0, 1, 6, 2, 4, 0xff};
	CHECK_EQ_U64(ch_py_lnotab_line(t, sizeof(t), 10, 0), 11);
	CHECK_EQ_U64(ch_py_lnotab_line(t, sizeof(t), 10, 4), 11);
	CHECK_EQ_U64(ch_py_lnotab_line(t, sizeof(t), 10, 6), 13);
	CHECK_EQ_U64(ch_py_lnotab_line(t, sizeof(t), 10, 100), 12);
	CHECK_EQ_U64(ch_py_lnotab_line(NULL, 0, 10, 100), 10);
}

static void test_linetable310(void)
{
	/* [0,2) line 11, [2,6) no line, [6,12) line 13 */
	const uint8_t t[] = {2, 1, 4, 0x80, 6, 2};
	CHECK(ch_py_linetable310_line(t, sizeof(t), 10, -2) == 10);
	CHECK(ch_py_linetable310_line(t, sizeof(t), 10, 0) == 11);
	CHECK(ch_py_linetable310_line(t, sizeof(t), 10, 4) == -1);
	CHECK(ch_py_linetable310_line(t, sizeof(t), 10, 6) == 13);
	CHECK(ch_py_linetable310_line(t, sizeof(t), 10, 12) == -1);
}

static void test_locations(void)
{
	const uint8_t t[] = {
		0xE8, 0x02,                   /* no-columns, line +1, 1 unit: [0,2) line 6 */
		0x81, 0x05,                   /* short form, 2 units: [2,6) line 6 */
		0xD8, 0x01, 0x02,             /* one-line +1, 1 unit: [6,8) line 7 */
		0xF8,                         /* no location: [8,10) */
		0xF0, 0x07, 0x00, 0x01, 0x02, /* long form, line -3: [10,12) line 4 */
	};
	CHECK(ch_py_locations_line(t, sizeof(t), 5, -2) == 5);
	CHECK(ch_py_locations_line(t, sizeof(t), 5, 0) == 6);
	CHECK(ch_py_locations_line(t, sizeof(t), 5, 4) == 6);
	CHECK(ch_py_locations_line(t, sizeof(t), 5, 6) == 7);
	CHECK(ch_py_locations_line(t, sizeof(t), 5, 8) == -1);
	CHECK(ch_py_locations_line(t, sizeof(t), 5, 10) == 4);
	CHECK(ch_py_locations_line(t, sizeof(t), 5, 12) == -1);
	/* a cut table never reads past its end */
	CHECK(ch_py_locations_line(t, 8, 5, 10) == -1);
	CHECK(ch_py_locations_line(t, 9, 5, 10) == 7); /* entry without its varint: line unchanged */
}

static void test_float_repr(void)
{
	static const struct { double v; const char *want; } cases[] = {
		{1.5, "1.5"}, {1e-05, "1e-05"}, {1e+100, "1e+100"}, {0.1, "0.1"}, {100.0, "100.0"},
		{1e16, "1e+16"}, {123456789012345.0, "123456789012345.0"}, {-0.0, "-0.0"}, {0.0001, "0.0001"},
		{-2.5e-7, "-2.5e-07"}, {1.0 / 3, "0.3333333333333333"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		ch_py_float_repr(cases[i].v, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want);
	}
}

int main(void)
{
	test_lnotab();
	test_linetable310();
	test_locations();
	test_float_repr();
	return CHECK_SUMMARY("test_py_code");
}
