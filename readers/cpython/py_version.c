#include "readers/cpython/py_version.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void ch_py_version_from_hex(uint32_t hex, struct ch_py_version *v)
{
	v->major = (int)(hex >> 24);
	v->minor = (int)((hex >> 16) & 0xff);
	v->micro = (int)((hex >> 8) & 0xff);
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *lv = level == 0xA ? "a" : level == 0xB ? "b" : level == 0xC ? "rc" : "";
	if (*lv)
		snprintf(v->text, sizeof(v->text), "%d.%d.%d%s%u", v->major, v->minor, v->micro, lv, serial);
	else
		snprintf(v->text, sizeof(v->text), "%d.%d.%d", v->major, v->minor, v->micro);
}

static bool parse_number(const char **s, int *out)
{
	int n = 0, digits = 0;
	while (isdigit((unsigned char)**s) && digits < 4) {
		n = n * 10 + (*(*s)++ - '0');
		digits++;
	}
	*out = n;
	return digits > 0 && !isdigit((unsigned char)**s);
}

bool ch_py_version_parse(const char *s, struct ch_py_version *v)
{
	struct ch_py_version r = {0};
	const char *p = s;
	if (!parse_number(&p, &r.major) || *p++ != '.' || !parse_number(&p, &r.minor) || *p++ != '.' ||
	    !parse_number(&p, &r.micro) || *p)
		return false;
	snprintf(r.text, sizeof(r.text), "%d.%d.%d", r.major, r.minor, r.micro);
	r.method = v->method;
	*v = r;
	return true;
}
