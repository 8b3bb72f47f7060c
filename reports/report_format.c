/* Number formats shared by the text reports. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

void ch_report_human_bytes(uint64_t b, char *buf, size_t n)
{
	if (b < 10 * 1024) {
		char c[16];
		ch_report_count(b, c, sizeof(c));
		snprintf(buf, n, "%s B", c);
	} else if (b < 10ULL * 1024 * 1024)
		snprintf(buf, n, "%.1f KiB", b / 1024.0);
	else if (b < 10ULL * 1024 * 1024 * 1024)
		snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024));
	else
		snprintf(buf, n, "%.1f GiB", b / (1024.0 * 1024 * 1024));
}

void ch_report_count(uint64_t v, char *buf, size_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < len && o + 1 < n; i++) {
		if (i && (len - i) % 3 == 0 && o + 2 < n)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	if (n)
		buf[o < n ? o : n - 1] = 0;
}
